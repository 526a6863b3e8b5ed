#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "clock.h"
#include "codec.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "record.h"
#include "tus.h"

#define CHUNK 65536

static char *path_of(const char *root, const char *id, const char *ext)
{
	char *p = NULL;

	if (asprintf(&p, "%s/.uploads/%s%s", root, id, ext) < 0)
		return NULL;
	return p;
}

/* "key base64,key2 base64,flag" (tus Upload-Metadata) into an object. */
static int parse_metadata(const char *meta, json_t *out)
{
	if (!meta)
		return 0;
	if (strlen(meta) > VS_TUS_METADATA_MAX)
		return vs_fail(VS_ERR, VS_E_INVALID, "Upload-Metadata is longer than %d bytes", VS_TUS_METADATA_MAX);
	for (const char *p = meta; *p;) {
		size_t n = strcspn(p, ","), k;
		char key[128];
		unsigned char *v = NULL;
		size_t vlen = 0;

		while (n && *p == ' ')
			p++, n--;
		k = strcspn(p, " ,");
		if (k == 0 || k >= sizeof(key))
			return vs_fail(VS_ERR, VS_E_INVALID, "Upload-Metadata has a bad key");
		memcpy(key, p, k);
		key[k] = '\0';
		if (k < n) {
			v = vs_codec_unbase64(p + k + 1, n - k - 1, 0, &vlen);
			if (!v)
				return vs_fail(VS_ERR, VS_E_INVALID, "Upload-Metadata's '%s' is not base64", key);
		}
		json_object_set_new(out, key, v ? json_stringn((char *)v, vlen) : json_string(""));
		free(v);
		if (!json_object_get(out, key) || json_is_null(json_object_get(out, key)))
			return vs_fail(VS_ERR, VS_E_INVALID, "Upload-Metadata's '%s' is not UTF-8", key);
		p += n;
		p += *p == ',';
	}
	return 0;
}

static int save(const char *root, const struct vs_tus *t)
{
	json_t *j = json_pack("{s:s,s:I,s:I,s:O,s:f}", "id", t->id, "length", (json_int_t)t->length, "offset",
	                      (json_int_t)t->offset, "metadata", t->metadata, "created", t->created);
	char *path = path_of(root, t->id, ".json"), *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int ret = path && text ? vs_fsutil_write_atomic(path, text, strlen(text))
	                       : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");

	json_decref(j);
	free(path);
	free(text);
	return ret;
}

int vs_tus_create(const char *root, long long length, const char *meta, struct vs_tus *t)
{
	unsigned char r[16];
	char *dir = NULL;
	int fd, ret;

	memset(t, 0, sizeof(*t));
	t->metadata = json_object();
	if ((ret = parse_metadata(meta, t->metadata)) < 0)
		goto fail;
	if (RAND_bytes(r, sizeof(r)) != 1) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "no random bytes");
		goto fail;
	}
	r[6] = (r[6] & 0x0f) | 0x40; /* a version 4 UUID */
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(t->id, sizeof(t->id), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
	         r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
	t->length = length;
	t->created = vs_clock_now();
	dir = vs_fsutil_path_join(root, ".uploads");
	t->part = path_of(root, t->id, ".part");
	if (!dir || !t->part) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto fail;
	}
	if ((ret = vs_fsutil_mkdir_p(dir, 0700)) < 0)
		goto fail;
	fd = open(t->part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot create the upload: %s", strerror(errno));
		goto fail;
	}
	close(fd);
	if ((ret = save(root, t)) < 0) {
		unlink(t->part);
		goto fail;
	}
	free(dir);
	return 0;
fail:
	free(dir);
	vs_tus_release(t);
	return ret;
}

int vs_tus_open(const char *root, const char *id, struct vs_tus *t)
{
	char *path = vs_hash_is_uuid(id) ? path_of(root, id, ".json") : NULL;
	json_t *j = path ? json_load_file(path, 0, NULL) : NULL;
	double len = -1, off = -1, created = 0;

	memset(t, 0, sizeof(*t));
	free(path);
	vs_json_number(j, "length", &len);
	vs_json_number(j, "offset", &off);
	vs_json_number(j, "created", &created);
	if (!j || len < 0 || off < 0 || off > len) {
		json_decref(j);
		return vs_fail(VS_ERR, VS_E_NOT_FOUND, "no upload '%s'", id);
	}
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->length = (long long)len;
	t->offset = (long long)off;
	t->created = created;
	t->metadata = json_incref(json_object_get(j, "metadata"));
	if (!t->metadata)
		t->metadata = json_object();
	json_decref(j);
	t->part = path_of(root, id, ".part");
	return t->part ? 0 : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
}

/* n bytes from read to fd at the end of what it holds, into digest d too
 * (may be NULL); *stored counts them. */
static int copy_in(int fd, long long n, int (*read)(void *ctx, char *buf, int n), void *ctx,
                   struct vs_codec_digest *d, long long *stored)
{
	char *buf = malloc(CHUNK);
	int ret = 0;

	*stored = 0;
	if (!buf)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	while (*stored < n && ret == 0) {
		int k = read(ctx, buf, (int)(n - *stored < CHUNK ? n - *stored : CHUNK));

		if (k <= 0)
			break; /* the client went away: what came is kept */
		for (int w = 0; w < k && ret == 0;) {
			ssize_t m = write(fd, buf + w, (size_t)(k - w));

			if (m < 0 && errno != EINTR)
				ret = vs_fail(VS_ERR, VS_E_IO, "cannot store the upload: %s", strerror(errno));
			else if (m > 0)
				w += (int)m;
		}
		if (ret == 0 && d)
			vs_codec_digest_update(d, buf, (size_t)k);
		if (ret == 0)
			*stored += k;
	}
	free(buf);
	return ret;
}

/* Upload-Checksum "ALGORITHM BASE64": a digest to feed and the one
 * expected (want, *want_n bytes). */
static int checksum_of(const char *header, struct vs_codec_digest **d, unsigned char want[64], size_t *want_n)
{
	const char *sp = header ? strchr(header, ' ') : NULL;
	char alg[16];
	unsigned char *raw;
	size_t n = 0;

	*d = NULL;
	if (!header)
		return 0;
	if (!sp || (size_t)(sp - header) >= sizeof(alg))
		return vs_fail(VS_ERR, VS_E_INVALID, "Upload-Checksum is 'ALGORITHM BASE64'");
	snprintf(alg, sizeof(alg), "%.*s", (int)(sp - header), header);
	raw = vs_codec_unbase64(sp + 1, strlen(sp + 1), 0, &n);
	if (!raw || n > 64 || !(*d = vs_codec_digest_new(alg))) {
		free(raw);
		return vs_fail(VS_ERR, VS_E_INVALID, "Upload-Checksum: use " VS_TUS_CHECKSUMS ", the digest in base64");
	}
	memcpy(want, raw, n);
	*want_n = n;
	free(raw);
	return 0;
}

int vs_tus_append(const char *root, struct vs_tus *t, long long offset, long long n, const char *checksum,
                  int (*read)(void *ctx, char *buf, int n), void *ctx)
{
	int fd = open(t->part, O_WRONLY | O_CLOEXEC);
	struct vs_codec_digest *d = NULL;
	unsigned char want[64], got[64];
	size_t want_n = 0;
	long long stored = 0;
	struct vs_tus now;
	int ret;

	if (fd >= 0 && (ret = checksum_of(checksum, &d, want, &want_n)) < 0) {
		close(fd);
		return ret;
	}
	if (fd < 0)
		return vs_fail(VS_ERR, VS_E_NOT_FOUND, "no upload '%s'", t->id);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return vs_fail(VS_ERR, VS_E_BUSY, "another request is appending to upload %s", t->id);
	}
	/* the offset again, now that the lock is ours */
	if ((ret = vs_tus_open(root, t->id, &now)) == 0) {
		t->offset = now.offset;
		vs_tus_release(&now);
	}
	if (ret == 0 && offset != t->offset)
		ret = vs_fail(VS_ERR, VS_E_CONFLICT, "Upload-Offset %lld is not the upload's offset %lld", offset, t->offset);
	else if (ret == 0 && n > t->length - t->offset)
		ret = vs_fail(VS_ERR, VS_E_TOO_LARGE, "the upload is %lld bytes: %lld more do not fit", t->length, n);
	/* bytes past the offset are a killed append's, never acknowledged */
	if (ret == 0 && (ftruncate(fd, t->offset) != 0 || lseek(fd, t->offset, SEEK_SET) < 0))
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot store the upload: %s", strerror(errno));
	if (ret == 0)
		ret = copy_in(fd, n, read, ctx, d, &stored);
	/* with a checksum, only the whole body, matching it, is kept */
	if (ret == 0 && d && (stored < n || vs_codec_digest_final(d, got) != want_n || memcmp(got, want, want_n))) {
		ret = vs_fail(VS_ERR, VS_E_CHECKSUM, "the bytes do not match Upload-Checksum");
		if (ftruncate(fd, t->offset) != 0)
			ret = vs_fail(VS_ERR, VS_E_IO, "cannot drop the bytes: %s", strerror(errno));
	}
	if (ret == 0 && stored > 0 && fdatasync(fd) != 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot store the upload: %s", strerror(errno));
	if (ret == 0 && stored > 0) {
		t->offset += stored;
		ret = save(root, t);
	}
	close(fd); /* and the lock with it */
	vs_codec_digest_free(d);
	return ret;
}

int vs_tus_remove(const char *root, const char *id)
{
	char *json = vs_hash_is_uuid(id) ? path_of(root, id, ".json") : NULL;
	char *part = json ? path_of(root, id, ".part") : NULL;
	int ret = json && part && unlink(json) == 0 ? 0 : vs_fail(VS_ERR, VS_E_NOT_FOUND, "no upload '%s'", id);

	if (part)
		unlink(part);
	free(json);
	free(part);
	return ret;
}

int vs_tus_gc(const char *root, double max_age_s, int *count)
{
	char *dir = vs_fsutil_path_join(root, ".uploads");
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;
	double now = vs_clock_now();

	*count = 0;
	if (!d) {
		int missing = errno == ENOENT;

		free(dir);
		return missing ? 0 : vs_fail(VS_ERR, VS_E_IO, "cannot read the uploads: %s", strerror(errno));
	}
	while ((e = readdir(d))) {
		char id[37];
		struct vs_tus t;

		if (strlen(e->d_name) != 41 || strcmp(e->d_name + 36, ".json"))
			continue;
		snprintf(id, sizeof(id), "%.36s", e->d_name);
		if (vs_tus_open(root, id, &t) == 0 && now - t.created > max_age_s && vs_tus_remove(root, id) == 0)
			(*count)++;
		vs_tus_release(&t);
		vs_error_clear();
	}
	closedir(d);
	free(dir);
	return 0;
}

void vs_tus_release(struct vs_tus *t)
{
	json_decref(t->metadata);
	free(t->part);
	t->metadata = NULL;
	t->part = NULL;
}
