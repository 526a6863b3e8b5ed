#include <sys/stat.h>

#include "catalog.h"
#include "db.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "record.h"
#include "s3.h"
#include "store.h"

/* The object's key in the store: PREFIX/ID/NAME. */
static char *source_key(const char *prefix, const char *id, const char *path)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char *key = NULL;

	if (asprintf(&key, "%s%s/%s", prefix, id, name) < 0)
		return NULL;
	return key;
}

int vs_store_put_source(const char *store, json_t *rec, PGconn *db)
{
	const char *id = vs_json_str(rec, "id"), *path = vs_json_str(rec, "source.path");
	const char *ctype = vs_json_str(rec, "source.content_type");
	char *bucket = NULL, *prefix = NULL, *key = NULL, *url = NULL;
	struct vs_s3 *s3 = NULL;
	int ret;

	if (!id || !vs_hash_is_uuid(id) || !path)
		return vs_fail(VS_ERR, VS_E_INVALID, "the record has no id or source path");
	if (!strncmp(path, "s3://", 5))
		return 0; /* stored already */
	if ((ret = vs_s3_parse_url(store, &bucket, &prefix)) < 0)
		goto out;
	if (!(key = source_key(prefix, id, path)) || asprintf(&url, "s3://%s/%s", bucket, key) < 0) {
		url = NULL;
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	if ((ret = vs_s3_open(&s3)) < 0)
		goto out;
	{
		struct vs_s3_object obj = {.key = key, .path = path,
		                           .content_type = ctype ? ctype : "application/octet-stream",
		                           .cache_control = "private, max-age=0"};
		int stage = 0;

		ret = vs_s3_upload(s3, bucket, &obj, &stage, 1);
	}
	if (ret < 0) {
		vs_error_prefix("source store '%s'", store);
		goto out;
	}
	json_object_set_new(json_object_get(rec, "source"), "store", json_string(url));
	if (db)
		ret = vs_catalog_set_source(db, id, url);
out:
	vs_s3_close(s3);
	free(bucket);
	free(prefix);
	free(key);
	free(url);
	return ret;
}

int vs_store_fetch_source(json_t *rec, const char *media_root)
{
	const char *id = vs_json_str(rec, "id"), *path = vs_json_str(rec, "source.path");
	const char *store = vs_json_str(rec, "source.store");
	char *url = NULL, *bucket = NULL, *key = NULL, *dir = NULL, *local = NULL, *name;
	struct vs_s3 *s3 = NULL;
	double size = -1;
	struct stat sb;
	int ret = 0;

	if (path && !strncmp(path, "s3://", 5))
		store = path;
	if (!store || (path && strncmp(path, "s3://", 5) && vs_fsutil_is_file(path)))
		return 0; /* a local source, or the local copy is here */
	if (!id || !vs_hash_is_uuid(id))
		return vs_fail(VS_ERR, VS_E_INVALID, "the record has no id");
	url = strdup(store);
	if (!url || (ret = vs_s3_parse_url(url, &bucket, &key)) < 0)
		goto out;
	/* the prefix parsed is the object's key, with a '/' after it */
	if (*key && key[strlen(key) - 1] == '/')
		key[strlen(key) - 1] = '\0';
	name = strrchr(key, '/') ? strrchr(key, '/') + 1 : key;
	if (!*name || name[0] == '.' || !(dir = vs_fsutil_path_join(media_root, id)) || !(local = vs_fsutil_path_join(dir, name))) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "source store URL '%s' names no file", store);
		goto out;
	}
	vs_json_number(rec, "source.size", &size);
	if (stat(local, &sb) != 0 || (size >= 0 && (double)sb.st_size != size)) {
		if ((ret = vs_fsutil_mkdir_p(dir, 0755)) < 0 || (ret = vs_s3_open(&s3)) < 0 ||
		    (ret = vs_s3_download(s3, bucket, key, local)) < 0) {
			vs_error_prefix("source '%s'", store);
			goto out;
		}
	}
	json_object_set_new(json_object_get(rec, "source"), "store", json_string(store));
	json_object_set_new(json_object_get(rec, "source"), "path", json_string(local));
out:
	vs_s3_close(s3);
	free(url);
	free(bucket);
	free(key);
	free(dir);
	free(local);
	return ret;
}
