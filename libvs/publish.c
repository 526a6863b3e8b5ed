#include <dirent.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "catalog.h"
#include "db.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "publish.h"
#include "record.h"
#include "s3.h"

#define MAX_OBJECT (1LL << 30)

char *vs_publish_base_url(const char *list, int i)
{
	const char *p = list;

	for (; p && *p; i--) {
		size_t n;

		p += strspn(p, " ,");
		n = strcspn(p, ",");
		while (n > 0 && p[n - 1] == ' ')
			n--;
		/* "https://" keeps its own slashes */
		while (n > 0 && p[n - 1] == '/' && !(n >= 3 && !strncmp(p + n - 3, "://", 3)))
			n--;
		if (n > 0 && i == 0)
			return strndup(p, n);
		p += strcspn(p, ",");
	}
	return NULL;
}

/* The video's public URL under the first base of list (a
 * VS_PUBLIC_BASE_URL list: the others are origins players fail over to),
 * into *out (malloced): 1; 0 with no base given; -1 out of memory. */
static int public_base(const char *list, const char *id, char **out)
{
	char *b = vs_publish_base_url(list, 0);
	int ret = 0;

	*out = NULL;
	if (b && asprintf(out, "%s/%s", b, id) < 0) {
		*out = NULL;
		ret = -1;
	} else if (b) {
		ret = 1;
	}
	free(b);
	return ret;
}

const char *vs_publish_content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{"m3u8", "application/vnd.apple.mpegurl"}, {"m4s", "video/iso.segment"},
		{"mp4", "video/mp4"}, {"ts", "video/mp2t"}, {"vtt", "text/vtt"},
		{"mpd", "application/dash+xml"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},
		{"png", "image/png"}, {"aac", "audio/aac"}, {"m4a", "audio/mp4"},
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < VS_ARRAY_SIZE(types); i++)
		if (!strcasecmp(dot + 1, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

const char *vs_publish_cache_control(const char *name)
{
	const char *dot = strrchr(name, '.');

	/* text tracks (captions, chapters) are edited in place: as short as playlists */
	if (dot && (!strcasecmp(dot, ".m3u8") || !strcasecmp(dot, ".mpd") || !strcasecmp(dot, ".vtt")))
		return VS_CACHE_PLAYLIST;
	return VS_CACHE_IMMUTABLE;
}

/* Upload order: 0 segments, init segments, images, text tracks; 1 media
 * playlists and manifests; 2 the master. */
static int rank(const char *rel)
{
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	const char *dot = strrchr(base, '.');

	if (!strcmp(rel, "master.m3u8"))
		return 2;
	if (dot && (!strcasecmp(dot, ".m3u8") || !strcasecmp(dot, ".mpd")))
		return 1;
	return 0;
}

/* Key material: a *.key file, or anything under a keys/ directory. A
 * package never holds any (vs-package keeps content keys beside it and
 * vs-cgi serves them to viewers with a valid token): one that does was
 * put together by hand, and publishing it would give the key to anyone
 * who can read the origin. */
static bool is_key_material(const char *rel)
{
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	size_t n = strlen(base);

	if (n >= 4 && !strcasecmp(base + n - 4, ".key"))
		return true;
	for (const char *p = rel; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
		if (!strncasecmp(p, "keys/", 5))
			return true;
	return false;
}

struct files {
	char **rel;
	int n, cap;
};

static int walk(const char *root, const char *sub, struct files *f)
{
	char *dir = *sub ? vs_fsutil_path_join(root, sub) : strdup(root);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;
	int ret = 0;

	if (!d) {
		ret = vs_fail(VS_ERR, VS_E_NOT_FOUND, "cannot read the package '%s': %s", dir ? dir : root,
		              strerror(errno));
		free(dir);
		return ret;
	}
	while (ret == 0 && (e = readdir(d))) {
		char *rel, *full;
		struct stat st;

		if (e->d_name[0] == '.')
			continue; /* ., .., temporary files */
		rel = *sub ? vs_fsutil_path_join(sub, e->d_name) : strdup(e->d_name);
		full = rel ? vs_fsutil_path_join(root, rel) : NULL;
		if (!full || lstat(full, &st) != 0) {
			ret = vs_fail(VS_ERR, VS_E_IO, "cannot read '%s'", full ? full : e->d_name);
		} else if (S_ISDIR(st.st_mode)) {
			ret = walk(root, rel, f);
		} else if (S_ISREG(st.st_mode)) {
			if (f->n == f->cap) {
				char **nr = realloc(f->rel, sizeof(*nr) * (size_t)(f->cap = f->cap ? f->cap * 2 : 128));

				if (!nr) {
					ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
					free(rel);
					free(full);
					break;
				}
				f->rel = nr;
			}
			f->rel[f->n++] = rel;
			rel = NULL;
		}
		free(rel);
		free(full);
	}
	closedir(d);
	free(dir);
	return ret;
}

static int by_rank(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	int r = rank(x) - rank(y);

	return r ? r : strcmp(x, y);
}

static bool is_s3(const char *target)
{
	return target && !strncmp(target, "s3://", 5);
}

int vs_publish_file_dir(const char *target, char **dir)
{
	*dir = NULL;
	if (!target || !*target)
		return vs_fail(VS_ERR, VS_E_USAGE, "no target: give --to or set VS_PUBLISH_URL");
	if (strncmp(target, "file://", 7) || target[7] != '/')
		return vs_fail(VS_ERR, VS_E_USAGE,
		               "target '%s': use file:///path or s3://bucket/prefix", target);
	*dir = strdup(target + 7);
	while (*dir && strlen(*dir) > 1 && (*dir)[strlen(*dir) - 1] == '/')
		(*dir)[strlen(*dir) - 1] = '\0';
	return *dir ? 0 : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
}

static bool same_content(const char *a, const char *b, long long size)
{
	struct stat st;
	char *da = NULL, *db = NULL;
	size_t la = 0, lb = 0;
	bool same;

	if (stat(b, &st) != 0 || st.st_size != size)
		return false;
	if (vs_fsutil_read_file(a, MAX_OBJECT, &da, &la) < 0 || vs_fsutil_read_file(b, MAX_OBJECT, &db, &lb) < 0) {
		free(da);
		return false;
	}
	same = la == lb && memcmp(da, db, la) == 0;
	free(da);
	free(db);
	return same;
}

static int copy_object(const char *src, const char *dst, long long *bytes)
{
	char *data = NULL, *parent = strdup(dst);
	size_t len = 0;
	int ret;

	if (!parent)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	*strrchr(parent, '/') = '\0';
	ret = vs_fsutil_mkdir_p(parent, 0755);
	if (ret == 0)
		ret = vs_fsutil_read_file(src, MAX_OBJECT, &data, &len);
	if (ret == 0)
		ret = vs_fsutil_write_atomic(dst, data, len);
	*bytes += (long long)len;
	free(data);
	free(parent);
	return ret;
}


static int publish_s3(const struct vs_publish_opts *o, const char *id, const char *pkg,
                      const struct files *f, char **base, int *skipped, long long *bytes,
                      bool *have_poster)
{
	struct vs_s3 *s3 = NULL;
	struct vs_s3_object *objs = calloc((size_t)f->n, sizeof(*objs));
	int *stage = calloc((size_t)f->n, sizeof(int));
	char *bucket = NULL, *prefix = NULL, *vprefix = NULL;
	int ret;

	*base = NULL;
	if (!objs || !stage) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	if ((ret = vs_s3_parse_url(o->target, &bucket, &prefix)) < 0 || (ret = vs_s3_open(&s3)) < 0)
		goto out;
	if (o->multipart_threshold > 0)
		vs_s3_set_multipart_threshold(s3, o->multipart_threshold);
	if (asprintf(&vprefix, "%s%s/", prefix, id) < 0) {
		vprefix = NULL;
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	for (int i = 0; i < f->n; i++) {
		char *key = NULL;

		if (asprintf(&key, "%s%s", vprefix, f->rel[i]) < 0)
			key = NULL;
		objs[i].key = key;
		objs[i].path = vs_fsutil_path_join(pkg, f->rel[i]);
		objs[i].content_type = vs_publish_content_type(f->rel[i]);
		objs[i].cache_control = !strcmp(vs_publish_cache_control(f->rel[i]), VS_CACHE_PLAYLIST) &&
		                        o->playlist_cache_control ? o->playlist_cache_control :
		                        vs_publish_cache_control(f->rel[i]);
		stage[i] = rank(f->rel[i]);
		*have_poster |= !strcmp(f->rel[i], "poster.jpg");
		if (!objs[i].key || !objs[i].path) {
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			goto out;
		}
	}
	ret = vs_s3_upload(s3, bucket, objs, stage, f->n);
	/* every object checked (HEAD: size and type) before the video counts
	 * as published */
	for (int i = 0; i < f->n && ret == 0; i++) {
		char ctype[128];
		long long size = 0;
		bool exists = false;

		ret = vs_s3_head(s3, bucket, objs[i].key, &exists, &size, NULL, 0, ctype, sizeof(ctype));
		if (ret == 0 && (!exists || size != objs[i].size || strcmp(ctype, objs[i].content_type)))
			ret = vs_fail(VS_ERR, VS_E_IO, "'%s' is not as uploaded at the target (size %lld, type '%s')",
			              objs[i].key, size, ctype);
		*skipped += objs[i].skipped;
		*bytes += objs[i].skipped ? 0 : objs[i].size;
	}
	if (ret == 0) {
		int given = public_base(o->base_url, id, base);

		if (given != 0) {
			ret = given < 0 ? -1 : 0;
		} else {
			char *u = vs_s3_url(s3, bucket, vprefix);

			if (u && u[strlen(u) - 1] == '/')
				u[strlen(u) - 1] = '\0';
			*base = u;
			ret = u ? 0 : -1;
		}
		if (ret < 0) {
			*base = NULL;
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		}
	}
out:
	for (int i = 0; objs && i < f->n; i++) {
		free((char *)objs[i].key);
		free((char *)objs[i].path);
	}
	free(objs);
	free(stage);
	free(vprefix);
	free(prefix);
	free(bucket);
	vs_s3_close(s3);
	return ret;
}

int vs_publish(json_t *rec, const struct vs_publish_opts *o)
{
	const char *id = vs_json_str(rec, "id"), *pkg = vs_json_str(rec, "package.dir");
	struct files f = {0};
	char *dir = NULL, *vdir = NULL, *base = NULL, *master = NULL;
	long long bytes = 0;
	int skipped = 0, ret;
	bool have_poster = false;
	json_t *pub;

	if (!id || !*id || strchr(id, '/') || id[0] == '.')
		return vs_fail(VS_ERR, VS_E_INVALID, "the record has no valid 'id'");
	if (!pkg)
		return vs_fail(VS_ERR, VS_E_INVALID, "the record has no package: run vs-package first");
	if ((ret = walk(pkg, "", &f)) < 0)
		goto out;
	for (int i = 0; i < f.n; i++)
		if (is_key_material(f.rel[i])) {
			ret = vs_fail(VS_ERR, VS_E_INVALID,
			              "the package '%s' holds key material ('%s'): content keys are never published",
			              pkg, f.rel[i]);
			goto out;
		}
	if (f.n > 1)
		qsort(f.rel, (size_t)f.n, sizeof(*f.rel), by_rank);
	if (f.n == 0 || strcmp(f.rel[f.n - 1], "master.m3u8")) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "the package '%s' has no master.m3u8", pkg);
		goto out;
	}
	if (is_s3(o->target)) {
		ret = publish_s3(o, id, pkg, &f, &base, &skipped, &bytes, &have_poster);
		if (ret < 0)
			goto out;
		goto done;
	}
	if ((ret = vs_publish_file_dir(o->target, &dir)) < 0)
		goto out;
	vdir = vs_fsutil_path_join(dir, id);
	if (!vdir) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	for (int i = 0; i < f.n && ret == 0; i++) {
		char *src = vs_fsutil_path_join(pkg, f.rel[i]), *dst = vs_fsutil_path_join(vdir, f.rel[i]);
		struct stat st;

		if (!src || !dst || stat(src, &st) != 0)
			ret = vs_fail(VS_ERR, VS_E_IO, "cannot read '%s'", src ? src : f.rel[i]);
		else if (same_content(src, dst, st.st_size))
			skipped++;
		else
			ret = copy_object(src, dst, &bytes);
		have_poster |= !strcmp(f.rel[i], "poster.jpg");
		free(src);
		free(dst);
	}
	/* check every object before the video counts as published */
	for (int i = 0; i < f.n && ret == 0; i++) {
		char *src = vs_fsutil_path_join(pkg, f.rel[i]), *dst = vs_fsutil_path_join(vdir, f.rel[i]);
		struct stat a, b;

		if (!src || !dst || stat(src, &a) != 0 || stat(dst, &b) != 0 || a.st_size != b.st_size)
			ret = vs_fail(VS_ERR, VS_E_IO, "'%s' did not arrive whole at the target", f.rel[i]);
		free(src);
		free(dst);
	}
	if (ret < 0)
		goto out;
	if ((ret = public_base(o->base_url, id, &base)) == 0)
		ret = asprintf(&base, "file://%s", vdir);
done:
	if (ret < 0 || asprintf(&master, "%s/master.m3u8", base) < 0) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	ret = 0;
	if (o->db && (ret = vs_catalog_published(o->db, id, base, rec, o->publish, have_poster)) < 0)
		goto out;
	pub = json_object();
	json_object_set_new(pub, "target", json_string(o->target));
	json_object_set_new(pub, "base_url", json_string(base));
	json_object_set_new(pub, "master_url", json_string(master));
	json_object_set_new(pub, "objects", json_integer(f.n));
	json_object_set_new(pub, "skipped", json_integer(skipped));
	json_object_set_new(pub, "bytes", json_integer(bytes));
	json_object_set_new(pub, "published", json_boolean(o->publish));
	json_object_set_new(rec, "published", pub);
out:
	for (int i = 0; i < f.n; i++)
		free(f.rel[i]);
	free(f.rel);
	free(master);
	free(base);
	free(vdir);
	free(dir);
	return ret;
}

static int set_hidden(PGconn *db, const char *id, bool deleted)
{
	const struct vs_video_state st = {.status = deleted ? "deleted" : NULL, .published = VS_PUBLICATION_OFF};

	return vs_catalog_set_state(db, id, &st);
}

int vs_publish_unpublish(PGconn *db, const char *id)
{
	return set_hidden(db, id, false);
}

int vs_publish_delete(PGconn *db, const char *target, const char *id)
{
	char *dir = NULL, *vdir = NULL;
	int ret;

	if (!vs_hash_is_uuid(id))
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' is not a video id", id);
	if (is_s3(target)) {
		char *bucket = NULL, *prefix = NULL, *vprefix = NULL;
		struct vs_s3 *s3 = NULL;
		int count = 0;

		ret = vs_s3_parse_url(target, &bucket, &prefix);
		if (ret == 0 && asprintf(&vprefix, "%s%s/", prefix, id) < 0)
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		if (ret == 0)
			ret = vs_s3_open(&s3);
		if (ret == 0)
			ret = set_hidden(db, id, true);
		if (ret == 0)
			ret = vs_s3_delete_prefix(s3, bucket, vprefix, &count);
		vs_s3_close(s3);
		free(vprefix);
		free(prefix);
		free(bucket);
		return ret;
	}
	if ((ret = vs_publish_file_dir(target, &dir)) < 0)
		return ret;
	vdir = vs_fsutil_path_join(dir, id);
	/* hidden first, so that no one is sent to objects about to go */
	ret = vdir ? set_hidden(db, id, true) : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if (ret == 0)
		ret = vs_fsutil_remove_tree(vdir);
	free(vdir);
	free(dir);
	return ret;
}
