#include <ctype.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "captioning.h"
#include "catalog.h"
#include "db.h"
#include "error.h"
#include "fetch.h"
#include "fsutil.h"
#include "hash.h"
#include "ingest.h"
#include "log.h"
#include "meta.h"
#include "probe.h"
#include "record.h"
#include "slug.h"

#define INGEST_JSON "ingest.json"
#define INCOMING_DIR ".incoming"
#define COPY_CHUNK (1 << 20)

/* What the record asks for, validated. Strings borrowed from rec or opts. */
struct meta {
	const char *title;       /* NULL: derive from the file name */
	const char *description;
	json_t *tags;            /* new reference: array of strings */
	const char *category;    /* may be NULL */
	const char *slug;        /* NULL: derive from the title */
};

struct source {
	char *input;             /* path or URL as given; owned */
	bool is_url;
	char *local;             /* the file probed: the input or the download; owned */
	char *original_filename; /* owned */
	char sha256[VS_SHA256_HEX_LEN + 1];
	long long size;
	char id[VS_UUID_LEN + 1];
	char *tmp;               /* download or copy under .incoming; owned, unlinked on failure */
	bool tmp_is_callers;     /* tmp is the caller's file (move_source): never unlinked here */
};

static int read_meta(const json_t *rec, const struct vs_ingest_opts *o, struct meta *m)
{
	int ret;

	memset(m, 0, sizeof(*m));
	if ((ret = vs_meta_string(rec, "title", o->title, VS_TITLE_MAX, &m->title)) < 0 ||
	    (ret = vs_meta_string(rec, "description", o->description ? o->description : "",
	                       VS_DESCRIPTION_MAX, &m->description)) < 0 ||
	    (ret = vs_meta_string(rec, "category", o->category, VS_TAG_MAX, &m->category)) < 0 ||
	    (ret = vs_meta_string(rec, "slug", o->slug, 0, &m->slug)) < 0 ||
	    (ret = vs_meta_tags(rec, o->tags, &m->tags)) < 0)
		return ret;
	if (m->title && !*m->title)
		m->title = NULL;
	if (m->category && !*m->category)
		m->category = NULL;
	if (m->slug && !vs_slug_valid(m->slug))
		return vs_fail(VS_ERR, VS_E_INVALID,
		               "slug '%s' is not valid: use lower-case letters, digits and single "
		               "dashes, at most %d characters", m->slug, VS_SLUG_MAX);
	return 0;
}

static void source_release(struct source *s)
{
	if (s->tmp && !s->tmp_is_callers)
		unlink(s->tmp);
	free(s->tmp);
	free(s->input);
	free(s->local);
	free(s->original_filename);
}

static int read_source(const json_t *rec, struct source *s)
{
	json_t *v = json_object_get(rec, "source");
	const char *in = NULL;

	if (json_is_string(v))
		in = json_string_value(v);
	else if (json_is_object(v))
		in = json_string_value(json_object_get(v, "url")) ?
		     json_string_value(json_object_get(v, "url")) :
		     json_string_value(json_object_get(v, "path"));
	if (!v)
		return vs_fail(VS_ERR, VS_E_INVALID, "the record has no 'source'");
	if (!in || !*in)
		return vs_fail(VS_ERR, VS_E_INVALID,
		               "field 'source' must be a path or URL, or an object with 'path' or 'url'");
	s->input = strdup(in);
	s->is_url = vs_fetch_is_http_url(in);
	if (!s->input)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if (!s->is_url && strstr(in, "://"))
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s': only files and http(s) URLs can be ingested",
		               in);
	return 0;
}

static void hash_chunk(const void *data, size_t len, void *ctx)
{
	vs_sha256_update(ctx, data, len);
}

static int hash_file(const char *path, char hex[VS_SHA256_HEX_LEN + 1], long long *size)
{
	struct vs_sha256 *h = vs_sha256_new();
	char *buf = malloc(COPY_CHUNK);
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	*size = 0;
	if (!h || !buf) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	if (fd < 0) {
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot open: %s", strerror(errno));
		goto out;
	}
	while ((n = read(fd, buf, COPY_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = vs_fail(VS_ERR, VS_E_IO, "cannot read: %s", strerror(errno));
			goto out;
		}
		vs_sha256_update(h, buf, (size_t)n);
		*size += n;
	}
	vs_sha256_final(h, hex);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	vs_sha256_free(h);
	return ret;
}

/* Copies src into the open file out: in the kernel where it can, so a
 * file system with reflinks shares the blocks. */
static int copy_into(const char *src, int out, long long expect)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	long long done = 0;
	char *buf = NULL;
	int ret = 0;

	if (in < 0)
		return vs_fail(VS_ERR, VS_E_IO, "cannot open: %s", strerror(errno));
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, COPY_CHUNK * 64, 0);

		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
		              errno == EOPNOTSUPP) && done == 0)
			break; /* fall back to read and write */
		if (n < 0) {
			ret = vs_fail(VS_ERR, VS_E_IO, "cannot copy: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			goto done;
		done += n;
	}
	buf = malloc(COPY_CHUNK);
	if (!buf) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(in, buf, COPY_CHUNK), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = vs_fail(VS_ERR, VS_E_IO, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		while (w < n) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				ret = vs_fail(VS_ERR, VS_E_IO, "cannot store the copy: %s", strerror(errno));
				goto out;
			}
			w += k;
		}
		done += n;
	}
done:
	if (done != expect)
		ret = vs_fail(VS_ERR, VS_E_IO, "the file changed while it was being ingested");
	else if (fdatasync(out) != 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot store the copy: %s", strerror(errno));
out:
	free(buf);
	close(in);
	return ret;
}

static char *basename_of(const char *path)
{
	const char *b = strrchr(path, '/');

	return strdup(b ? b + 1 : path);
}

/* source.<ext>: the original's extension when it is short and plain, else
 * one for the container. */
static char *source_name(const char *original, const char *format)
{
	const char *dot = original ? strrchr(original, '.') : NULL;
	char ext[9] = "";
	char *name = NULL;

	if (dot && strlen(dot + 1) >= 1 && strlen(dot + 1) < sizeof(ext)) {
		size_t k = 0;

		for (const char *p = dot + 1; *p; p++) {
			if (!isascii((unsigned char)*p) || !isalnum((unsigned char)*p)) {
				k = 0;
				break;
			}
			ext[k++] = (char)tolower((unsigned char)*p);
		}
		ext[k] = '\0';
	}
	if (!ext[0]) {
		static const struct {
			const char *fmt, *ext;
		} map[] = {{"mov", "mp4"}, {"matroska", "mkv"}, {"mpegts", "ts"}, {"avi", "avi"},
		           {"flv", "flv"}, {"mpeg", "mpg"}, {"ogg", "ogv"}, {"asf", "wmv"}};

		snprintf(ext, sizeof(ext), "bin");
		for (size_t i = 0; format && i < VS_ARRAY_SIZE(map); i++)
			if (!strncmp(format, map[i].fmt, strlen(map[i].fmt))) {
				snprintf(ext, sizeof(ext), "%s", map[i].ext);
				break;
			}
	}
	if (asprintf(&name, "source.%s", ext) < 0)
		return NULL;
	return name;
}

/* The record kept in ingest.json and emitted: the ingest sections only. */
static json_t *ingest_sections(const json_t *rec)
{
	static const char *const keys[] = {"id", "slug", "title", "description", "tags",
	                                   "category", "source", "probe", "chapters", "captions"};
	json_t *out = json_object();

	for (size_t i = 0; i < VS_ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(rec, keys[i]);

		if (v)
			json_object_set(out, keys[i], v);
	}
	return out;
}

/* Copies the ingest sections of from into rec, keeping rec's other
 * members, and puts the sections first, in the order of vs(7). */
static void merge_sections(json_t *rec, const json_t *from)
{
	json_t *sections = ingest_sections(from);
	json_t *rest = json_deep_copy(rec);
	const char *key;
	json_t *v;

	json_object_clear(rec);
	json_object_update(rec, sections);
	json_object_foreach(rest, key, v)
		if (!json_object_get(rec, key))
			json_object_set(rec, key, v);
	json_decref(rest);
	json_decref(sections);
}

static int write_ingest_json(const char *dir, const json_t *rec)
{
	json_t *keep = ingest_sections(rec);
	char *path = vs_fsutil_path_join(dir, INGEST_JSON);
	char *text = json_dumps(keep, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int ret;

	if (!path || !text)
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	else
		ret = vs_fsutil_write_atomic(path, text, strlen(text));
	free(text);
	free(path);
	json_decref(keep);
	return ret;
}

static json_t *read_ingest_json(const char *dir)
{
	char *path = vs_fsutil_path_join(dir, INGEST_JSON);
	json_t *v = path ? json_load_file(path, JSON_REJECT_DUPLICATES, NULL) : NULL;

	free(path);
	if (v && !json_is_object(v)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

/* ---- the database side ---- */

static int db_find(PGconn *db, const char *sha, json_t **found)
{
	const char *status = NULL;
	int ret = vs_catalog_find(db, VS_CATALOG_BY_SHA256, sha, found, &status);

	if (ret == 0 && *found && status && !strcmp(status, "deleted")) {
		/* Ingesting a deleted video again brings it back, unpublished. */
		const struct vs_video_state st = {.status = "processing", .published = VS_PUBLICATION_OFF};

		ret = vs_catalog_set_state(db, vs_json_str(*found, "id"), &st);
	}
	return ret;
}


/* Registers rec in the database; if another process registered the same
 * content first, rec becomes that video's record. */
static int db_register(PGconn *db, json_t *rec, bool explicit_slug, bool *existing)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		bool inserted = false;
		json_t *found = NULL;
		int ret = vs_catalog_register(db, rec, explicit_slug, &inserted);

		/* A concurrent ingest may take the slug between check and insert. */
		if (ret == VS_ERR && !strcmp(vs_db_sqlstate(), "23505") && !explicit_slug)
			continue;
		if (ret == VS_ERR && !strcmp(vs_db_sqlstate(), "23505"))
			return vs_fail(VS_ERR, VS_E_CONFLICT, "slug '%s' is already used",
			               vs_json_str(rec, "slug"));
		if (ret < 0 || inserted)
			return ret;
		ret = db_find(db, vs_json_str(rec, "source.sha256"), &found);
		if (ret < 0)
			return ret;
		if (found) {
			merge_sections(rec, found);
			json_decref(found);
			*existing = true;
			return 0;
		}
	}
	return vs_fail(VS_ETEMP, VS_E_UNAVAILABLE, "cannot register the video: too much contention");
}

/* ---- the steps ---- */

static int fetch_to_incoming(struct source *s, const char *incoming,
                             const struct vs_fetch_opts *fo)
{
	struct vs_sha256 *h = vs_sha256_new();
	struct stat st;
	int fd = -1, ret;

	if (!h)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	ret = vs_fsutil_tmpfile(incoming, "download", &s->tmp, &fd);
	if (ret == 0)
		ret = vs_fetch_to_fd(s->input, fd, fo, hash_chunk, h, &s->original_filename);
	if (ret == 0 && (fdatasync(fd) != 0 || fstat(fd, &st) != 0))
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot store the download: %s", strerror(errno));
	if (ret == 0) {
		vs_sha256_final(h, s->sha256);
		s->size = st.st_size;
		s->local = strdup(s->tmp);
		if (!s->original_filename)
			s->original_filename = strdup("download");
	}
	if (fd >= 0)
		close(fd);
	vs_sha256_free(h);
	return ret;
}

/* Puts the source file into dir as name, unless it is there already. */
static int store_source(struct source *s, const char *incoming, const char *dir,
                        const char *name, char **stored)
{
	char *dst = vs_fsutil_path_join(dir, name);
	struct stat st;
	int fd = -1, ret = 0;

	*stored = NULL;
	if (!dst)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if (stat(dst, &st) == 0 && st.st_size == s->size)
		goto done; /* stored by an earlier run: same id, so same content */
	ret = vs_fsutil_mkdir_p(dir, 0755);
	if (ret == 0 && !s->tmp) {
		ret = vs_fsutil_tmpfile(incoming, "copy", &s->tmp, &fd);
		if (ret == 0)
			ret = copy_into(s->local, fd, s->size);
		if (fd >= 0)
			close(fd);
	}
	if (ret == 0 && rename(s->tmp, dst) != 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot store '%s': %s", dst, strerror(errno));
	if (ret < 0) {
		free(dst);
		return ret;
	}
	free(s->tmp);
	s->tmp = NULL;
done:
	*stored = dst;
	return 0;
}

static json_t *source_json(const struct source *s, const char *path, const json_t *probe)
{
	json_t *src = json_object();
	json_t *name = json_string(s->original_filename);

	json_object_set_new(src, "path", json_string(path));
	/* A file name need not be UTF-8; JSON strings must be. */
	json_object_set_new(src, "original_filename", name ? name : json_string("source"));
	json_object_set_new(src, "content_type",
	                    json_string(vs_probe_content_type(s->original_filename,
	                                                      vs_json_str(probe, "format"))));
	json_object_set_new(src, "size", json_integer(s->size));
	json_object_set_new(src, "sha256", json_string(s->sha256));
	return src;
}

static char *default_title(const char *filename)
{
	char *t = strdup(filename ? filename : "Untitled");
	char *dot = t ? strrchr(t, '.') : NULL;
	json_t *check;

	if (!t)
		return NULL;
	if (dot && dot != t)
		*dot = '\0';
	for (char *p = t; *p; p++)
		if (*p == '_')
			*p = ' ';
	check = json_string(t);
	if (!check || !*t || vs_meta_chars(t) > VS_TITLE_MAX) {
		free(t);
		t = strdup("Untitled");
	}
	json_decref(check);
	return t;
}

/* The last steps of an ingest: the caption tracks (the source's own with
 * from_source, and the inputs), then ingest.json, which marks it finished. */
static int finish(json_t *rec, const struct vs_ingest_opts *o, const char *root, const char *dir,
                  const json_t *captions, bool from_source)
{
	int ret = vs_captioning_ingest(rec, root, o->db, captions, from_source);

	return ret < 0 ? ret : write_ingest_json(dir, rec);
}

/* The caption files rec names (entries with a path, not yet a track's
 * sha256), taken out of it; else the flags'. New reference, or NULL. */
static json_t *caption_inputs(json_t *rec, const struct vs_ingest_opts *o)
{
	json_t *list = json_object_get(rec, "captions"), *in = json_array(), *t;
	size_t i;

	json_array_foreach(list, i, t)
		if (json_is_object(t) && vs_json_str(t, "path") && !vs_json_str(t, "sha256"))
			json_array_append(in, t);
	if (json_array_size(in) > 0 || json_is_array(list))
		json_object_del(rec, "captions");
	if (json_array_size(in) == 0 && o->captions)
		json_array_extend(in, (json_t *)o->captions);
	if (json_array_size(in) == 0) {
		json_decref(in);
		in = NULL;
	}
	return in;
}

int vs_ingest(json_t *rec, const struct vs_ingest_opts *o, bool *existing)
{
	struct source s = {0};
	struct meta m = {0};
	json_t *probe = NULL, *chapters = NULL, *found = NULL, *captions = caption_inputs(rec, o);
	char *root = NULL, *incoming = NULL, *dir = NULL, *name = NULL, *stored = NULL, *title = NULL;
	char slug[VS_SLUG_MAX + 1];
	bool in_db;
	int ret;

	*existing = false;
	if ((ret = read_source(rec, &s)) < 0 || (ret = read_meta(rec, o, &m)) < 0 ||
	    (ret = vs_captioning_check(captions)) < 0)
		goto out;
	root = vs_fsutil_abspath(o->media_root);
	incoming = root ? vs_fsutil_path_join(root, INCOMING_DIR) : NULL;
	if (!incoming) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	if ((ret = vs_fsutil_mkdir_p(incoming, 0755)) < 0)
		goto out;

	if (s.is_url) {
		ret = fetch_to_incoming(&s, incoming, &o->fetch);
		if (ret == 0)
			ret = vs_probe_file(s.local, &probe, &chapters);
	} else {
		s.local = strdup(s.input);
		/* an upload's name is the client's, not its temporary file's */
		s.original_filename = vs_json_str(rec, "source.original_filename")
		                          ? strdup(vs_json_str(rec, "source.original_filename"))
		                          : basename_of(s.input);
		ret = vs_probe_file(s.local, &probe, &chapters);
		if (ret == 0)
			ret = hash_file(s.local, s.sha256, &s.size);
		/* an upload is ours already: renamed into place like a download */
		if (ret == 0 && o->move_source && !(s.tmp = strdup(s.local)))
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		s.tmp_is_callers = o->move_source;
	}
	if (ret < 0)
		goto out;
	vs_hash_uuid_for_sha256(s.sha256, s.id);
	dir = vs_fsutil_path_join(root, s.id);
	if (!dir) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}

	/* Seen before? The database knows; without one, ingest.json does. */
	if (o->db && (ret = db_find(o->db, s.sha256, &found)) < 0)
		goto out;
	in_db = found != NULL;
	if (!found)
		found = read_ingest_json(dir);
	if (found) {
		const char *kept = vs_json_str(found, "source.path");
		const char *slash = kept ? strrchr(kept, '/') : NULL;

		name = strdup(slash ? slash + 1 : "source.bin");
		ret = store_source(&s, incoming, dir, name, &stored);
		if (ret < 0)
			goto out;
		merge_sections(rec, found);
		json_object_set_new(vs_json_get(rec, "source"), "path", json_string(stored));
		if (o->db && !in_db && (ret = db_register(o->db, rec, false, existing)) < 0)
			goto out;
		*existing = true;
		ret = finish(rec, o, root, dir, captions, false);
		goto out;
	}

	name = source_name(s.original_filename, vs_json_str(probe, "format"));
	if (!name) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	ret = store_source(&s, incoming, dir, name, &stored);
	if (ret < 0)
		goto out;

	title = m.title ? strdup(m.title) : default_title(s.original_filename);
	if (m.slug)
		snprintf(slug, sizeof(slug), "%s", m.slug);
	else
		vs_slug_make(title, slug, sizeof(slug));
	if (!slug[0])
		snprintf(slug, sizeof(slug), "video-%.8s", s.id);
	found = json_object();
	json_object_set_new(found, "id", json_string(s.id));
	json_object_set_new(found, "slug", json_string(slug));
	json_object_set_new(found, "title", json_string(title));
	json_object_set_new(found, "description", json_string(m.description));
	json_object_set(found, "tags", m.tags);
	vs_json_set_str(found, "category", m.category);
	json_object_set_new(found, "source", source_json(&s, stored, probe));
	json_object_set(found, "probe", probe);
	json_object_set(found, "chapters", chapters);
	merge_sections(rec, found);
	if (o->db && (ret = db_register(o->db, rec, m.slug != NULL, existing)) < 0)
		goto out;
	ret = finish(rec, o, root, dir, captions, true);
out:
	if (ret < 0 && s.input)
		vs_error_prefix("cannot ingest '%s'", s.input);
	json_decref(found);
	json_decref(captions);
	json_decref(probe);
	json_decref(chapters);
	json_decref(m.tags);
	source_release(&s);
	free(title);
	free(stored);
	free(name);
	free(dir);
	free(incoming);
	free(root);
	return ret;
}
