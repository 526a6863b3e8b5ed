#include "db.h"
#include "error.h"
#include "hash.h"
#include "video.h"

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
	"   FROM video_chapters c WHERE c.video_id = v.id), '[]'::json))::text,"
	" v.upload_status"
	" FROM videos v WHERE ";

int vs_video_find(PGconn *db, enum vs_video_key key, const char *value, json_t **rec,
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
	             key == VS_VIDEO_BY_SHA256 ? "v.source_sha256 = $1" :
	             vs_is_uuid(value) ? "v.id = $1::uuid" : "v.slug = $1") < 0)
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

int vs_video_set_status(PGconn *db, const char *id, const char *status, const char *error)
{
	const char *p[] = {id, status, error};

	return vs_db_exec(db, NULL,
	                  "UPDATE videos SET upload_status = $2::video_upload_status, error = $3,"
	                  " updated_at = now() WHERE id = $1::uuid", 3, p);
}
