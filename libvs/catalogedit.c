#include <math.h>

#include "catalog.h"
#include "catalogedit.h"
#include "db.h"
#include "error.h"
#include "log.h"
#include "hash.h"
#include "publish.h"
#include "record.h"

#define UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* the row of a list */
#define LIST_FIELDS \
	"json_build_object('id', v.id, 'slug', v.slug, 'title', v.title, 'upload_status', v.upload_status," \
	" 'is_published', v.is_published, 'is_public', v.is_public, 'category', v.category," \
	" 'tags', to_json(v.tags), 'duration', v.duration_exact_seconds, 'last_error', v.error," \
	" 'created_at', " UTC("v.created_at") ", 'updated_at', " UTC("v.updated_at") ")"

/* the whole video: the list's row and the rest */
#define SHOW_FIELDS \
	"(" LIST_FIELDS "::jsonb || jsonb_build_object('description', v.description," \
	" 'thumbnail_url', v.thumbnail_url, 'published_at', " UTC("v.published_at") "," \
	" 'source', json_build_object('original_filename', v.original_filename, 'content_type', v.content_type," \
	"   'size', v.file_size_bytes, 'sha256', v.source_sha256, 'path', v.source_path)," \
	" 'renditions', coalesce((SELECT json_agg(json_build_object('label', q.quality_label," \
	"   'width', q.resolution_width, 'height', q.resolution_height, 'bitrate', q.bitrate," \
	"   'codecs', q.codecs, 'processing_status', q.processing_status, 'file_url', q.file_url)" \
	"   ORDER BY q.resolution_height) FROM video_qualities q WHERE q.video_id = v.id), '[]'::json)," \
	" 'chapters', coalesce((SELECT json_agg(json_build_object('title', c.title," \
	"   'start_time_seconds', c.start_time_seconds, 'end_time_seconds', c.end_time_seconds)" \
	"   ORDER BY c.chapter_order) FROM video_chapters c WHERE c.video_id = v.id), '[]'::json)," \
	" 'job', (SELECT json_build_object('state', j.state, 'attempts', j.attempts, 'last_error', j.last_error," \
	"   'next_attempt_at', " UTC("j.next_attempt_at") ", 'finished_at', " UTC("j.finished_at") ")" \
	"   FROM video_jobs j WHERE j.video_id = v.id)))::text"

int vs_catalog_list(PGconn *db, const struct vs_catalog_filter *f, json_t *out)
{
	char since[32] = "", limit[16];
	const char *p[7] = {f->status, f->published < 0 ? NULL : f->published ? "t" : "f", f->category, f->tag,
	                    NULL, f->search, limit};
	int ret;

	if (!isnan(f->since)) {
		snprintf(since, sizeof(since), "%.3f", f->since);
		p[4] = since;
	}
	snprintf(limit, sizeof(limit), "%d", f->limit > 0 ? f->limit : VS_CATALOG_LIST_DEFAULT);
	ret = vs_db_query_json(db,
	                 "SELECT " LIST_FIELDS "::text FROM videos v"
	                 " WHERE (CASE WHEN $1::text IS NULL THEN v.upload_status <> 'deleted'"
	                 "   ELSE v.upload_status::text = $1 END)"
	                 " AND ($2::boolean IS NULL OR v.is_published = $2)"
	                 " AND ($3::text IS NULL OR v.category = $3)"
	                 " AND ($4::text IS NULL OR $4 = ANY (v.tags))"
	                 " AND ($5::float8 IS NULL OR v.created_at >= to_timestamp($5::float8))"
	                 " AND ($6::text IS NULL OR strpos(lower(v.title), lower($6)) > 0"
	                 "   OR strpos(lower(v.description), lower($6)) > 0)"
	                 " ORDER BY v.created_at DESC, v.id LIMIT $7::integer",
	                 7, p, out);
	return ret;
}

int vs_catalog_show(PGconn *db, const char *key, json_t **row)
{
	const char *p[] = {key};
	int ret = vs_db_query_json_row(db,
	                               vs_hash_is_uuid(key) ? "SELECT " SHOW_FIELDS " FROM videos v WHERE v.id = $1::uuid"
	                                                    : "SELECT " SHOW_FIELDS " FROM videos v WHERE v.slug = $1",
	                               1, p, row);

	if (ret == 0 && !*row)
		ret = vs_fail(VS_ERR, VS_E_NOT_FOUND, "no video '%s'", key);
	return ret;
}

/* The id of the video key names, not deleted. */
static int find_live(PGconn *db, const char *key, char id[VS_UUID_LEN + 1], const char **status)
{
	const char *p[] = {key};
	PGresult *r = NULL;
	int ret = vs_db_exec(db, &r,
	                     vs_hash_is_uuid(key)
	                         ? "SELECT id, upload_status FROM videos WHERE id = $1::uuid AND upload_status <> 'deleted'"
	                         : "SELECT id, upload_status FROM videos WHERE slug = $1 AND upload_status <> 'deleted'",
	                     1, p);

	if (ret == 0 && PQntuples(r) == 0)
		ret = vs_fail(VS_ERR, VS_E_NOT_FOUND, "no video '%s'", key);
	if (ret == 0) {
		snprintf(id, VS_UUID_LEN + 1, "%s", PQgetvalue(r, 0, 0));
		if (status)
			*status = !strcmp(PQgetvalue(r, 0, 1), "ready") ? "ready" : "not ready";
	}
	PQclear(r);
	return ret;
}

static int edit_row(PGconn *db, const char *id, const struct vs_meta_edit *e)
{
	char *tags = e->tags ? json_dumps(e->tags, JSON_COMPACT) : NULL;
	char *chapters = e->chapters ? json_dumps(e->chapters, JSON_COMPACT) : NULL;
	const char *p[] = {id, e->title, e->description, e->clear_category ? "t" : "f", e->category, e->slug, tags,
	                   e->is_public < 0 ? NULL : e->is_public ? "t" : "f"};
	const char *taken[] = {e->slug, id};
	const char *cp[] = {id, chapters};
	PGresult *r = NULL;
	int ret = 0;

	if (e->slug && (ret = vs_db_exec(db, &r, "SELECT 1 FROM videos WHERE slug = $1 AND id <> $2::uuid", 2,
	                                 taken)) == 0 && PQntuples(r) > 0)
		ret = vs_fail(VS_ERR, VS_E_CONFLICT, "slug '%s' is another video's", e->slug);
	PQclear(r);
	if (ret == 0)
		ret = vs_db_exec(db, NULL,
		                 "UPDATE videos SET title = coalesce($2, title), description = coalesce($3, description),"
		                 " category = CASE WHEN $4::boolean THEN NULL ELSE coalesce($5, category) END,"
		                 " slug = coalesce($6, slug),"
		                 " tags = CASE WHEN $7::json IS NULL THEN tags"
		                 "   ELSE ARRAY(SELECT json_array_elements_text($7::json)) END,"
		                 " is_public = coalesce($8::boolean, is_public), updated_at = now()"
		                 " WHERE id = $1::uuid",
		                 8, p);
	if (ret == 0 && chapters)
		ret = vs_db_exec(db, NULL, "DELETE FROM video_chapters WHERE video_id = $1::uuid", 1, cp);
	if (ret == 0 && chapters)
		ret = vs_db_exec(db, NULL,
		                 "INSERT INTO video_chapters (video_id, title, start_time_seconds, end_time_seconds,"
		                 " chapter_order) SELECT $1::uuid, c->>'title', (c->>'start')::float8,"
		                 " (c->>'end')::float8, n FROM json_array_elements($2::json) WITH ORDINALITY AS t(c, n)",
		                 2, cp);
	free(tags);
	free(chapters);
	return ret;
}

int vs_catalog_edit_json(PGconn *db, const char *key, const json_t *fields, json_t **row)
{
	struct vs_meta_edit e;
	int ret = vs_meta_edit_parse(fields, &e); /* e borrows fields' strings */

	if (row)
		*row = NULL;
	if (ret == 0)
		ret = vs_catalog_edit(db, key, &e, row);
	vs_meta_edit_release(&e);
	return ret;
}

int vs_catalog_edit(PGconn *db, const char *key, const struct vs_meta_edit *e, json_t **row)
{
	char id[VS_UUID_LEN + 1];
	int ret;

	if (row)
		*row = NULL;
	if ((ret = vs_db_run(db, "BEGIN")) < 0)
		return ret;
	if ((ret = find_live(db, key, id, NULL)) == 0 && (ret = edit_row(db, id, e)) == 0)
		ret = vs_db_run(db, "COMMIT");
	if (ret < 0) {
		vs_db_rollback(db);
		return ret;
	}
	return row ? vs_catalog_show(db, id, row) : 0;
}

int vs_catalog_publish(PGconn *db, const char *key, bool on, char out[VS_UUID_LEN + 1])
{
	struct vs_video_state st = {0};
	const char *status = NULL;
	char id[VS_UUID_LEN + 1];
	int ret = find_live(db, key, id, &status);

	if (ret < 0)
		return ret;
	if (on && strcmp(status, "ready"))
		return vs_fail(VS_ERR, VS_E_CONFLICT, "video %s is not ready: its package must be published first "
		               "(vs-publish)", id);
	st.published = on ? VS_PUBLICATION_ON : VS_PUBLICATION_OFF;
	if (out)
		memcpy(out, id, sizeof(id));
	return vs_catalog_set_state(db, id, &st);
}

int vs_catalog_delete(PGconn *db, const char *key, const char *target, char out[VS_UUID_LEN + 1])
{
	struct vs_video_state st = {.status = "deleted", .published = VS_PUBLICATION_OFF};
	char id[VS_UUID_LEN + 1];
	int ret = find_live(db, key, id, NULL);

	if (ret == 0 && target && *target)
		ret = vs_publish_delete(db, target, id);
	else if (ret == 0 && (ret = vs_catalog_set_state(db, id, &st)) == 0)
		vs_log_warn("%s is deleted; what vs-publish put on an origin stays there (give the origin's URL)", id);
	if (ret == 0 && out)
		memcpy(out, id, sizeof(id));
	return ret;
}
