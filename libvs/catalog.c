#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "codec.h"
#include "db.h"
#include "error.h"
#include "hash.h"
#include "record.h"
#include "slug.h"

#define SLUG_TRIES 20 /* "limits", "limits-2" … "limits-20", then "limits-<id>" */

/* ---- finding a video ---- */

/* A video's caption tracks as its record lists them (captions.h). */
#define Q_CAPTIONS_RECORD(v) \
	"SELECT json_agg(json_build_object('language', k.language, 'label', k.label, 'kind', k.kind," \
	" 'default', k.is_default, 'path', k.path, 'sha256', k.checksum, 'cues', k.cue_count, 'source', k.source)" \
	" ORDER BY k.is_default DESC, k.language, k.kind) FROM video_captions k WHERE k.video_id = " v

static const char select_video[] =
	"SELECT json_build_object("
	" 'id', v.id, 'slug', v.slug, 'title', v.title, 'description', v.description,"
	" 'tags', to_json(v.tags), 'category', v.category,"
	" 'source', json_build_object('path', v.source_path,"
	"   'original_filename', v.original_filename, 'content_type', v.content_type,"
	"   'size', v.file_size_bytes, 'sha256', v.source_sha256),"
	" 'probe', v.probe,"
	" 'chapters', COALESCE((SELECT json_agg(json_build_object('title', c.title,"
	"   'start', c.start_time_seconds, 'end', c.end_time_seconds) ORDER BY c.chapter_order)"
	"   FROM video_chapters c WHERE c.video_id = v.id), '[]'::json),"
	" 'captions', COALESCE((" Q_CAPTIONS_RECORD("v.id") "), '[]'::json))::text,"
	" v.upload_status"
	" FROM videos v WHERE ";

int vs_catalog_find(PGconn *db, enum vs_catalog_key key, const char *value, json_t **rec,
                    const char **status)
{
	static const char *const statuses[] = {"uploading", "processing", "ready", "failed",
	                                       "deleted"};
	const char *p[] = {value};
	char *sql = NULL;
	PGresult *r = NULL;
	int ret;

	*rec = NULL;
	if (status)
		*status = NULL;
	if (asprintf(&sql, "%s%s", select_video,
	             key == VS_CATALOG_BY_SHA256 ? "v.source_sha256 = $1" :
	             vs_hash_is_uuid(value) ? "v.id = $1::uuid" : "v.slug = $1") < 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	ret = vs_db_exec(db, &r, sql, 1, p);
	free(sql);
	if (ret < 0)
		return ret;
	if (PQntuples(r) == 1) {
		*rec = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
		for (size_t i = 0; status && i < VS_ARRAY_SIZE(statuses); i++)
			if (!strcmp(PQgetvalue(r, 0, 1), statuses[i]))
				*status = statuses[i];
	}
	PQclear(r);
	return 0;
}


int vs_catalog_resolve(PGconn *db, const char *video, char *id, double *duration)
{
	const char *p[] = {video};
	PGresult *r = NULL;
	int ret = vs_db_exec(db, &r,
	                     vs_hash_is_uuid(video) ? "SELECT id, duration_exact_seconds FROM videos WHERE id = $1::uuid"
	                                       : "SELECT id, duration_exact_seconds FROM videos WHERE slug = $1",
	                     1, p);

	if (ret < 0)
		return ret;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return vs_fail(VS_ERR, VS_E_NOT_FOUND, "no video '%s'", video);
	}
	snprintf(id, VS_UUID_LEN + 1, "%s", PQgetvalue(r, 0, 0));
	*duration = PQgetisnull(r, 0, 1) ? 0 : atof(PQgetvalue(r, 0, 1));
	PQclear(r);
	return 0;
}

/* ---- its state ---- */

int vs_catalog_set_state(PGconn *db, const char *id, const struct vs_video_state *st)
{
	const char *p[] = {id, st->status, st->error,
	                   st->published == VS_PUBLICATION_ON ? "t" : st->published == VS_PUBLICATION_OFF ? "f" : NULL,
	                   st->thumbnail_url};
	PGresult *r = NULL;
	int ret;

	if (!vs_hash_is_uuid(id))
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' is not a video id", id);
	ret = vs_db_exec(db, &r,
	                 "UPDATE videos SET upload_status = coalesce($2::video_upload_status, upload_status),"
	                 " error = CASE WHEN $2::text IS NULL THEN error ELSE $3 END,"
	                 " is_published = coalesce($4::boolean, is_published),"
	                 " published_at = CASE WHEN $4::boolean THEN now() ELSE published_at END,"
	                 " thumbnail_url = coalesce($5, thumbnail_url), updated_at = now()"
	                 " WHERE id = $1::uuid RETURNING id",
	                 5, p);
	if (ret == 0 && PQntuples(r) == 0)
		ret = vs_fail(VS_ERR, VS_E_NOT_FOUND, "no video %s in the database", id);
	PQclear(r);
	return ret;
}

/* ---- registering (vs-ingest) ---- */

/* The first free slug among base, base-2 … base-N, base-<id prefix>. */
static int free_slug(PGconn *db, const char *base, const char *id, char **slug)
{
	json_t *cands = json_array();
	char buf[VS_SLUG_MAX + 16];
	char *text;
	const char *p[1];
	PGresult *r = NULL;
	int ret;

	*slug = NULL;
	json_array_append_new(cands, json_string(base));
	for (int i = 2; i <= SLUG_TRIES; i++) {
		snprintf(buf, sizeof(buf), "%s-%d", base, i);
		json_array_append_new(cands, json_string(buf));
	}
	snprintf(buf, sizeof(buf), "%s-%.8s", base, id);
	json_array_append_new(cands, json_string(buf));
	text = json_dumps(cands, JSON_COMPACT);
	json_decref(cands);
	p[0] = text;
	ret = vs_db_exec(db, &r,
	                 "SELECT s FROM json_array_elements_text($1::json) WITH ORDINALITY AS c(s, n)"
	                 " WHERE NOT EXISTS (SELECT 1 FROM videos WHERE slug = c.s)"
	                 " ORDER BY n LIMIT 1", 1, p);
	free(text);
	if (ret < 0)
		return ret;
	if (PQntuples(r) == 1)
		*slug = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (!*slug)
		return vs_fail(VS_ERR, VS_E_CONFLICT, "no free slug for '%s'", base);
	return 0;
}

int vs_catalog_register(PGconn *db, json_t *rec, bool explicit_slug, bool *inserted)
{
	static const char insert[] =
		"INSERT INTO videos (id, slug, title, description, tags, category,"
		" original_filename, content_type, source_path, file_size_bytes, source_sha256,"
		" probe, duration_exact_seconds, upload_status)"
		" VALUES ($1, $2, $3, $4, ARRAY(SELECT json_array_elements_text($5::json)), $6,"
		" $7, $8, $9, $10, $11, $12::jsonb, $13, 'processing')"
		" ON CONFLICT (source_sha256) DO NOTHING RETURNING id";
	static const char insert_chapters[] =
		"INSERT INTO video_chapters (video_id, title, start_time_seconds, end_time_seconds, chapter_order)"
		" SELECT $1, c->>'title', (c->>'start')::float8, (c->>'end')::float8, n"
		" FROM json_array_elements($2::json) WITH ORDINALITY AS t(c, n)";
	char *tags = json_dumps(json_object_get(rec, "tags"), JSON_COMPACT);
	char *probe = json_dumps(json_object_get(rec, "probe"), JSON_COMPACT);
	char *chapters = json_dumps(json_object_get(rec, "chapters"), JSON_COMPACT);
	char size[32], duration[32];
	char *slug = NULL;
	const char *want = vs_json_str(rec, "slug");
	PGresult *r = NULL;
	double d = 0;
	int ret;

	*inserted = false;
	snprintf(size, sizeof(size), "%.0f",
	         json_number_value(vs_json_get(rec, "source.size")));
	vs_json_number(rec, "probe.duration", &d);
	snprintf(duration, sizeof(duration), "%.3f", d);
	if (!tags || !probe || !chapters) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	ret = vs_db_run(db, "BEGIN");
	if (ret < 0)
		goto out;
	if (explicit_slug) {
		const char *p[] = {want, vs_json_str(rec, "id")};

		ret = vs_db_exec(db, &r, "SELECT id FROM videos WHERE slug = $1 AND id <> $2", 2, p);
		if (ret == 0 && PQntuples(r) > 0)
			ret = vs_fail(VS_ERR, VS_E_CONFLICT, "slug '%s' is already used by video %s",
			              want, PQgetvalue(r, 0, 0));
		PQclear(r);
		r = NULL;
		slug = strdup(want);
	} else {
		ret = free_slug(db, want, vs_json_str(rec, "id"), &slug);
	}
	if (ret < 0)
		goto out;
	{
		const char *p[] = {
			vs_json_str(rec, "id"), slug, vs_json_str(rec, "title"),
			vs_json_str(rec, "description"), tags, vs_json_str(rec, "category"),
			vs_json_str(rec, "source.original_filename"),
			vs_json_str(rec, "source.content_type"), vs_json_str(rec, "source.path"), size,
			vs_json_str(rec, "source.sha256"), probe, duration,
		};

		ret = vs_db_exec(db, &r, insert, (int)VS_ARRAY_SIZE(p), p);
	}
	if (ret < 0)
		goto out;
	if (PQntuples(r) == 1) {
		const char *p[] = {vs_json_str(rec, "id"), chapters};

		ret = vs_db_exec(db, NULL, insert_chapters, 2, p);
		if (ret < 0)
			goto out;
		*inserted = true;
		json_object_set_new(rec, "slug", json_string(slug));
	}
	ret = vs_db_run(db, "COMMIT");
out:
	if (ret < 0)
		vs_db_rollback(db);
	PQclear(r);
	free(slug);
	free(tags);
	free(probe);
	free(chapters);
	return ret;
}

int vs_catalog_set_source(PGconn *db, const char *id, const char *path)
{
	const char *p[] = {id, path};

	return vs_db_exec(db, NULL, "UPDATE videos SET source_path = $2, updated_at = now() WHERE id = $1::uuid", 2, p);
}

/* ---- renditions (vs-encode) ---- */

int vs_catalog_renditions_start(PGconn *db, const char *id, const struct vs_ladder *l, const char *status)
{
	for (int i = 0; i < l->n; i++) {
		char w[16], h[16];
		const char *p[] = {id, l->rungs[i].label, w, h, status};
		int ret;

		snprintf(w, sizeof(w), "%d", l->rungs[i].width);
		snprintf(h, sizeof(h), "%d", l->rungs[i].height);
		ret = vs_db_exec(db, NULL,
		                 "INSERT INTO video_qualities (video_id, quality_label, resolution_width, resolution_height, processing_status)"
		                 " VALUES ($1, $2, $3, $4, $5::video_processing_status)"
		                 " ON CONFLICT (video_id, quality_label) DO UPDATE SET resolution_width = $3, resolution_height = $4,"
		                 " processing_status = $5::video_processing_status, error = NULL, updated_at = now()",
		                 5, p);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int vs_catalog_renditions_failed(PGconn *db, const char *id, const char *msg)
{
	const char *p[] = {id, msg};
	int ret = vs_db_exec(db, NULL,
	                     "UPDATE video_qualities SET processing_status = 'failed', error = $2,"
	                     " updated_at = now() WHERE video_id = $1 AND processing_status IN"
	                     " ('pending', 'processing')", 2, p);

	if (ret == 0) {
		const struct vs_video_state st = {.status = "failed", .error = msg};

		ret = vs_catalog_set_state(db, id, &st);
	}
	return ret;
}

int vs_catalog_renditions_done(PGconn *db, const char *id, const json_t *result, double duration)
{
	json_t *r;
	size_t i;
	char dur[32];
	int ret = vs_db_run(db, "BEGIN");

	json_array_foreach(json_object_get(result, "renditions"), i, r) {
		char bitrate[32], size[32];
		const char *p[] = {id, vs_json_str(r, "label"), bitrate, vs_json_str(r, "codecs"),
		                   vs_json_str(r, "path"), size};

		if (ret < 0)
			break;
		snprintf(bitrate, sizeof(bitrate), "%lld",
		         (long long)json_integer_value(json_object_get(r, "bitrate")));
		snprintf(size, sizeof(size), "%lld",
		         (long long)json_integer_value(json_object_get(r, "size")));
		ret = vs_db_exec(db, NULL,
		                 "UPDATE video_qualities SET processing_status = 'completed', bitrate = $3,"
		                 " codecs = $4, file_path = $5, file_size_bytes = $6, error = NULL,"
		                 " updated_at = now() WHERE video_id = $1 AND quality_label = $2", 6, p);
	}
	if (ret == 0) {
		char *poster = NULL;
		const char *p[] = {id, dur, NULL};

		snprintf(dur, sizeof(dur), "%.3f", duration);
		if (vs_json_str(result, "thumbnails.poster") &&
		    asprintf(&poster, "file://%s", vs_json_str(result, "thumbnails.poster")) < 0)
			poster = NULL;
		p[2] = poster;
		ret = vs_db_exec(db, NULL,
		                 "UPDATE videos SET duration_exact_seconds = $2, thumbnail_url = $3,"
		                 " error = NULL, updated_at = now() WHERE id = $1", 3, p);
		free(poster);
	}
	if (ret == 0)
		ret = vs_db_run(db, "COMMIT");
	if (ret < 0)
		vs_db_rollback(db);
	return ret;
}

/* ---- publication (vs-publish) ---- */

/* Each entry of list (a package section's array) published at base/<its
 * path_key>: sql with $1 the video, then the entry's keys[0 … nkeys), then
 * the URL. */
static int set_urls(PGconn *db, const char *id, const char *base, const json_t *list, const char *path_key,
                    const char *const *keys, int nkeys, const char *sql)
{
	json_t *v;
	size_t i;
	int ret = 0;

	json_array_foreach(list, i, v) {
		const char *p[4] = {id};
		char *url = NULL;

		for (int k = 0; k < nkeys; k++)
			p[1 + k] = vs_json_str(v, keys[k]);
		if (asprintf(&url, "%s/%s", base, vs_json_str(v, path_key)) < 0)
			url = NULL;
		p[1 + nkeys] = url;
		ret = vs_db_exec(db, NULL, sql, 2 + nkeys, p);
		free(url);
		if (ret < 0)
			break;
	}
	return ret;
}

int vs_catalog_published(PGconn *db, const char *id, const char *base, const json_t *rec, bool publish,
                         bool have_poster)
{
	const json_t *pkg = json_object_get(rec, "package");
	char *poster = NULL;
	int ret = vs_db_run(db, "BEGIN");

	if (ret == 0)
		ret = set_urls(db, id, base, json_object_get(pkg, "variants"), "playlist", (const char *[]){"label"}, 1,
		               "UPDATE video_qualities SET file_url = $3, updated_at = now()"
		               " WHERE video_id = $1 AND quality_label = $2");
	if (ret == 0)
		ret = set_urls(db, id, base, json_object_get(pkg, "captions"), "file", (const char *[]){"language", "kind"},
		               2, "UPDATE video_captions SET url = $4, updated_at = now()"
		                  " WHERE video_id = $1 AND language = $2 AND kind = $3");
	if (ret == 0) {
		const json_t *fb = json_object_get(pkg, "fallback");
		char *url = NULL;
		const char *p[] = {id, NULL, vs_json_str(fb, "label")};

		if (vs_json_str(fb, "file") && asprintf(&url, "%s/%s", base, vs_json_str(fb, "file")) < 0)
			url = NULL;
		p[1] = url;
		ret = vs_db_exec(db, NULL, "UPDATE videos SET fallback_url = $2, fallback_quality = $3 WHERE id = $1", 3, p);
		free(url);
	}
	if (ret == 0) {
		struct vs_video_state st = {.status = "ready", .published = publish ? VS_PUBLICATION_ON : VS_PUBLICATION_OFF};

		if (have_poster && asprintf(&poster, "%s/poster.jpg", base) < 0)
			poster = NULL;
		st.thumbnail_url = poster;
		ret = vs_catalog_set_state(db, id, &st);
	}
	if (ret == 0)
		ret = vs_db_run(db, "COMMIT");
	if (ret < 0)
		vs_db_rollback(db);
	free(poster);
	return ret;
}

/* ---- content keys ---- */

int vs_catalog_store_key(PGconn *db, const char *id, const uint8_t key[16], const uint8_t iv[16])
{
	char khex[33], ivhex[33];
	const char *p[] = {id, khex, ivhex};

	vs_codec_hex(key, 16, khex);
	vs_codec_hex(iv, 16, ivhex);
	return vs_db_exec(db, NULL,
	                  "INSERT INTO video_keys (video_id, method, key, iv)"
	                  " VALUES ($1, 'AES-128', decode($2, 'hex'), decode($3, 'hex'))"
	                  " ON CONFLICT (video_id) DO UPDATE SET key = EXCLUDED.key, iv = EXCLUDED.iv,"
	                  " updated_at = now()", 3, p);
}

int vs_catalog_key(PGconn *db, const char *id, uint8_t key[16], bool *found)
{
	const char *p[] = {id};
	PGresult *r = NULL;
	int ret = vs_db_exec(db, &r, "SELECT key FROM video_keys WHERE video_id = $1::uuid", 1, p);

	*found = false;
	if (ret == 0 && PQntuples(r) == 1) {
		size_t n = 0;
		unsigned char *k = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);

		if (k && n == 16) {
			memcpy(key, k, 16);
			*found = true;
		}
		PQfreemem(k);
	}
	PQclear(r);
	return ret;
}

/* ---- what viewers see (vs-cgi) ---- */

#define UTC_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* The plan's column names, and the short ones the player has used. */
#define Q_QUALITIES(v) \
	"SELECT json_agg(json_build_object('id', id, 'quality_label', quality_label," \
	" 'resolution_width', resolution_width, 'resolution_height', resolution_height," \
	" 'bitrate_kbps', bitrate_kbps, 'file_url', file_url, 'file_size_bytes', file_size_bytes," \
	" 'processing_status', processing_status, 'codecs', codecs," \
	" 'label', quality_label, 'width', resolution_width, 'height', resolution_height," \
	" 'bitrate', bitrate, 'playlist_url', file_url) ORDER BY resolution_height)" \
	" FROM video_qualities WHERE video_id = " v " AND processing_status = 'completed'"
#define Q_CHAPTERS(v) \
	"SELECT json_agg(json_build_object('id', id, 'title', title, 'description', description," \
	" 'start_time_seconds', start_time_seconds, 'end_time_seconds', end_time_seconds," \
	" 'chapter_order', chapter_order, 'start', start_time_seconds, 'end', end_time_seconds)" \
	" ORDER BY chapter_order) FROM video_chapters WHERE video_id = " v

/* $1 the id or slug: a published video, and with VIDEO_FULL ($2 the viewer
 * or NULL) its qualities, chapters and the viewer's progress, in one round
 * trip. */
#define VIDEO_FIELDS \
	"SELECT v.id, coalesce(v.duration_exact_seconds, 0), json_build_object('id', v.id, 'slug', v.slug," \
	" 'title', v.title, 'description', v.description, 'duration', v.duration_exact_seconds," \
	" 'thumbnail_url', v.thumbnail_url, 'tags', to_json(v.tags), 'category', v.category," \
	" 'is_public', v.is_public, 'created_at', " UTC_TIME("v.created_at") ", 'updated_at', " UTC_TIME("v.updated_at")
#define Q_CAPTIONS(v) \
	"SELECT json_agg(json_build_object('language', language, 'label', label, 'kind', kind," \
	" 'default', is_default, 'url', url) ORDER BY is_default DESC, language, kind)" \
	" FROM video_captions WHERE url IS NOT NULL AND video_id = " v
#define VIDEO_FULL \
	", 'qualities', coalesce((" Q_QUALITIES("v.id") "), '[]'::json)," \
	" 'chapters', coalesce((" Q_CHAPTERS("v.id") "), '[]'::json)," \
	" 'captions', coalesce((" Q_CAPTIONS("v.id") "), '[]'::json)," \
	" 'progress', (SELECT " VS_PROGRESS_ROW_JSON "::json FROM video_progress p" \
	"   WHERE p.video_id = v.id AND p.user_id = $2::uuid AND p.last_watched_at IS NOT NULL)"
#define VIDEO_FROM \
	")::text FROM videos v WHERE v.is_published AND v.upload_status = 'ready' AND "

static const char *const q_video[2][2] = {
	/* [full][by slug] */
	{VIDEO_FIELDS VIDEO_FROM "v.id = $1::uuid", VIDEO_FIELDS VIDEO_FROM "v.slug = $1"},
	{VIDEO_FIELDS VIDEO_FULL VIDEO_FROM "v.id = $1::uuid", VIDEO_FIELDS VIDEO_FULL VIDEO_FROM "v.slug = $1"},
};

int vs_catalog_published_video(PGconn *db, const char *key, bool full, const char *viewer, char *id,
                               double *duration, json_t **row)
{
	const char *p[] = {key, viewer};
	PGresult *r = NULL;
	int ret = vs_db_exec(db, &r, q_video[full][!vs_hash_is_uuid(key)], full ? 2 : 1, p);

	*row = NULL;
	if (ret == 0 && PQntuples(r) == 1) {
		snprintf(id, VS_UUID_LEN + 1, "%s", PQgetvalue(r, 0, 0));
		*duration = atof(PQgetvalue(r, 0, 1));
		if (!(*row = json_loads(PQgetvalue(r, 0, 2), 0, NULL)))
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "the video's row is not JSON");
		/* the plan's progress?: absent, not null, without any */
		else if (json_is_null(json_object_get(*row, "progress")))
			json_object_del(*row, "progress");
	}
	PQclear(r);
	return ret;
}

static int query_array(PGconn *db, const char *sql, const char *id, json_t **out)
{
	const char *p[] = {id};
	PGresult *r = NULL;
	int ret = vs_db_exec(db, &r, sql, 1, p);

	*out = NULL;
	if (ret < 0)
		return ret;
	*out = json_loads(PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "[]", 0, NULL);
	PQclear(r);
	return *out ? 0 : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
}

int vs_catalog_qualities(PGconn *db, const char *id, json_t **out)
{
	return query_array(db, Q_QUALITIES("$1::uuid"), id, out);
}

int vs_catalog_fallback(PGconn *db, const char *id, json_t **out)
{
	PGresult *r = NULL;
	const char *p[] = {id};
	int ret = vs_db_exec(db, &r,
	                     "SELECT json_build_object('url', v.fallback_url, 'type', 'video/mp4',"
	                     " 'quality_label', q.quality_label, 'resolution_width', q.resolution_width,"
	                     " 'resolution_height', q.resolution_height)::text FROM videos v"
	                     " LEFT JOIN video_qualities q ON q.video_id = v.id AND q.quality_label = v.fallback_quality"
	                     " WHERE v.id = $1::uuid AND v.fallback_url IS NOT NULL", 1, p);

	*out = NULL;
	if (ret == 0 && PQntuples(r) == 1 && !(*out = json_loads(PQgetvalue(r, 0, 0), 0, NULL)))
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	PQclear(r);
	return ret;
}

int vs_catalog_chapters(PGconn *db, const char *id, json_t **out)
{
	return query_array(db, Q_CHAPTERS("$1::uuid"), id, out);
}

/* ---- captions ---- */

int vs_catalog_caption_store(PGconn *db, const char *id, const json_t *track)
{
	char cues[24];
	bool is_default = json_is_true(json_object_get(track, "default"));
	const char *p[] = {id,
	                   vs_json_str(track, "language"),
	                   vs_json_str(track, "label"),
	                   vs_json_str(track, "kind"),
	                   is_default ? "t" : "f",
	                   vs_json_str(track, "path"),
	                   vs_json_str(track, "sha256"),
	                   cues,
	                   vs_json_str(track, "source") ? vs_json_str(track, "source") : "file"};
	int ret;

	snprintf(cues, sizeof(cues), "%lld", (long long)json_integer_value(json_object_get(track, "cues")));
	if ((ret = vs_db_run(db, "BEGIN")) < 0)
		return ret;
	if (is_default)
		ret = vs_db_exec(db, NULL, "UPDATE video_captions SET is_default = false, updated_at = now()"
		                           " WHERE video_id = $1 AND is_default AND NOT (language = $2 AND kind = $3)", 3,
		                 (const char *[]){id, p[1], p[3]});
	if (ret == 0)
		ret = vs_db_exec(db, NULL,
		                 "INSERT INTO video_captions (video_id, language, label, kind, is_default, path, checksum,"
		                 " cue_count, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
		                 " ON CONFLICT (video_id, language, kind) DO UPDATE SET label = $3, is_default = $5,"
		                 " path = $6, checksum = $7, cue_count = $8, source = $9, url = NULL, updated_at = now()",
		                 9, p);
	if (ret == 0)
		ret = vs_db_run(db, "COMMIT");
	if (ret < 0)
		vs_db_rollback(db);
	return ret;
}

int vs_catalog_caption_remove(PGconn *db, const char *id, const char *language, const char *kind, json_t **removed)
{
	const char *p[] = {id, language, kind};
	json_t *gone = NULL;
	int ret = vs_db_query_json_row(db,
	                               "WITH gone AS (DELETE FROM video_captions k WHERE k.video_id = $1"
	                               " AND k.language = $2 AND ($3::text IS NULL OR k.kind = $3) RETURNING k.*)"
	                               " SELECT coalesce(json_agg(json_build_object('language', k.language, 'label', k.label,"
	                               " 'kind', k.kind, 'default', k.is_default, 'path', k.path, 'sha256', k.checksum,"
	                               " 'cues', k.cue_count, 'source', k.source)), '[]')::text FROM gone k",
	                               3, p, &gone);

	if (removed)
		*removed = NULL;
	if (ret == 0 && json_array_size(gone) == 0)
		ret = vs_fail(VS_ERR, VS_E_NOT_FOUND, "the video has no %s track in '%s'", kind ? kind : "caption", language);
	if (ret == 0 && removed)
		*removed = json_incref(gone);
	json_decref(gone);
	return ret;
}

int vs_catalog_published_captions(PGconn *db, const char *id, json_t **out)
{
	return query_array(db, Q_CAPTIONS("$1::uuid"), id, out);
}

int vs_catalog_captions(PGconn *db, const char *id, json_t **out)
{
	return query_array(db, Q_CAPTIONS_RECORD("$1::uuid"), id, out);
}

/* ---- vs-report ---- */

int vs_catalog_titles(PGconn *db, const char *ids_json, json_t **out)
{
	const char *p[] = {ids_json};
	PGresult *r = NULL;
	int ret = vs_db_exec(db, &r,
	                     "SELECT coalesce(json_object_agg(id, json_build_object('id', id, 'slug', slug,"
	                     " 'title', title, 'duration', duration_exact_seconds)), '{}')::text FROM videos"
	                     " WHERE id IN (SELECT json_array_elements_text($1::json)::uuid)",
	                     1, p);

	*out = NULL;
	if (ret == 0 && !(*out = json_loads(PQgetvalue(r, 0, 0), 0, NULL)))
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	PQclear(r);
	return ret;
}

int vs_catalog_describe(PGconn *db, const char *key, json_t **out)
{
	const char *p[] = {key};

	return vs_db_query_json_row(db,
	                            vs_hash_is_uuid(key) ? "SELECT json_build_object('id', id, 'slug', slug, 'title', title,"
	                                              " 'duration', duration_exact_seconds)::text FROM videos WHERE id = $1::uuid"
	                                            : "SELECT json_build_object('id', id, 'slug', slug, 'title', title,"
	                                              " 'duration', duration_exact_seconds)::text FROM videos WHERE slug = $1",
	                            1, p, out);
}
