#include <strings.h>
#include <unistd.h>

#include "error.h"
#include "fsutil.h"
#include "upload.h"

#define CHUNK 65536
#define BOUNDARY_MAX 70 /* RFC 2046 5.1.1 */

/* The body as it comes: a window of buf over the stream. */
struct reader {
	vs_upload_read_fn read;
	void *ctx;
	long long left;      /* bytes of the body not yet read */
	char buf[2 * CHUNK];
	size_t start, end;   /* the unconsumed bytes: buf[start, end) */
};

/* At least want bytes unconsumed (fewer at the body's end); false on a
 * read error. */
static bool fill(struct reader *rd, size_t want)
{
	if (rd->end - rd->start >= want)
		return true;
	memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
	rd->end -= rd->start;
	rd->start = 0;
	while (rd->end - rd->start < want && rd->left > 0 && rd->end < sizeof(rd->buf)) {
		size_t room = sizeof(rd->buf) - rd->end;
		int n = rd->read(rd->ctx, rd->buf + rd->end, (int)(room < (size_t)rd->left ? room : (size_t)rd->left));

		if (n <= 0)
			return false;
		rd->end += (size_t)n;
		rd->left -= n;
	}
	return true;
}

static const char *find(const char *hay, size_t n, const char *needle, size_t m)
{
	for (size_t i = 0; m <= n && i <= n - m; i++)
		if (hay[i] == needle[0] && !memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

/* The value of param (name, filename) in a Content-Disposition line,
 * malloced, or NULL. */
static char *disposition_param(const char *line, const char *param)
{
	size_t n = strlen(param);

	for (const char *p = line; (p = strcasestr(p, param)); p += n) {
		const char *v = p + n, *e;

		if ((p != line && p[-1] != ' ' && p[-1] != ';') || *v != '=')
			continue;
		v++;
		if (*v == '"') {
			e = strchr(++v, '"');
			return e ? strndup(v, (size_t)(e - v)) : NULL;
		}
		return strndup(v, strcspn(v, "; \t"));
	}
	return NULL;
}

/* The headers of a part, up to the blank line: its name and filename. */
static int part_headers(struct reader *rd, char **name, char **filename)
{
	*name = *filename = NULL;
	for (;;) {
		const char *eol;
		char line[1024];
		size_t k;

		if (!fill(rd, sizeof(line)))
			return vs_fail(VS_ERR, VS_E_INVALID, "the upload stopped in a part's headers");
		eol = find(rd->buf + rd->start, rd->end - rd->start, "\r\n", 2);
		if (!eol || (size_t)(eol - (rd->buf + rd->start)) >= sizeof(line))
			return vs_fail(VS_ERR, VS_E_INVALID, "a part's header line is missing or too long");
		k = (size_t)(eol - (rd->buf + rd->start));
		memcpy(line, rd->buf + rd->start, k);
		line[k] = '\0';
		rd->start += k + 2;
		if (k == 0)
			return *name ? 0 : vs_fail(VS_ERR, VS_E_INVALID, "a part has no name (Content-Disposition)");
		if (!strncasecmp(line, "Content-Disposition:", 20) && !*name && !*filename) { /* the first one */
			*name = disposition_param(line + 20, "name");
			*filename = disposition_param(line + 20, "filename");
		}
	}
}

/* A part's bytes up to the delimiter ("\r\n--BOUNDARY"): to fd, or (fd < 0)
 * into *text up to VS_UPLOAD_FIELD_MAX. */
static int part_body(struct reader *rd, const char *delim, size_t dn, int fd, long long max, char **text,
                     long long *size)
{
	size_t tn = 0;

	*size = 0;
	for (;;) {
		const char *at;
		size_t avail, take;

		if (!fill(rd, CHUNK + dn))
			return vs_fail(VS_ERR, VS_E_INVALID, "the upload stopped before its end");
		avail = rd->end - rd->start;
		at = find(rd->buf + rd->start, avail, delim, dn);
		if (!at && rd->left == 0) /* all of it is in buf, and no delimiter */
			return vs_fail(VS_ERR, VS_E_INVALID, "the upload ends without its closing boundary");
		/* what surely precedes the delimiter: all before it, or all but
		 * the last dn bytes, which may be its start */
		take = at ? (size_t)(at - (rd->buf + rd->start)) : avail - dn;
		*size += (long long)take;
		if (*size > max)
			return vs_fail(VS_ERR, VS_E_TOO_LARGE, "the upload is larger than %lld bytes", max);
		if (fd >= 0) {
			for (size_t w = 0; w < take;) {
				ssize_t k = write(fd, rd->buf + rd->start + w, take - w);

				if (k < 0 && errno == EINTR)
					continue;
				if (k < 0)
					return vs_fail(VS_ERR, VS_E_IO, "cannot store the upload: %s", strerror(errno));
				w += (size_t)k;
			}
		} else {
			if (tn + take > VS_UPLOAD_FIELD_MAX)
				return vs_fail(VS_ERR, VS_E_TOO_LARGE, "a field is larger than %d bytes", VS_UPLOAD_FIELD_MAX);
			char *t = realloc(*text, tn + take + 1);

			if (!t)
				return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			memcpy(t + tn, rd->buf + rd->start, take);
			tn += take;
			t[tn] = '\0';
			*text = t;
		}
		rd->start += take;
		if (at) {
			rd->start += dn;
			return 0;
		}
	}
}

/* The boundary of a multipart/form-data Content-Type, into b. */
static int boundary_of(const char *ct, char *b, size_t n)
{
	char *v = ct && !strncasecmp(ct, "multipart/form-data", 19) ? disposition_param(ct, "boundary") : NULL;
	int ret = 0;

	if (!v || !*v || strlen(v) > BOUNDARY_MAX || strlen(v) + 1 > n)
		ret = vs_fail(VS_ERR, VS_E_INVALID, "the body must be multipart/form-data with a boundary");
	else
		snprintf(b, n, "%s", v);
	free(v);
	return ret;
}

static int read_parts(struct reader *rd, const char *delim, size_t dn, const char *file_field,
                      const char *incoming, long long max, struct vs_upload *u)
{
	for (;;) {
		char *name = NULL, *filename = NULL, *text = NULL;
		int fd = -1, ret;
		long long size;

		if (!fill(rd, 2))
			return vs_fail(VS_ERR, VS_E_INVALID, "the upload stopped after a boundary");
		if (rd->end - rd->start >= 2 && !memcmp(rd->buf + rd->start, "--", 2))
			return u->path ? 0 : vs_fail(VS_ERR, VS_E_INVALID, "the upload has no '%s' file part", file_field);
		if (rd->end - rd->start < 2 || memcmp(rd->buf + rd->start, "\r\n", 2))
			return vs_fail(VS_ERR, VS_E_INVALID, "a boundary is not followed by a line end");
		rd->start += 2;
		if ((ret = part_headers(rd, &name, &filename)) < 0) {
			free(name);
			free(filename);
			return ret;
		}
		if ((filename || !strcmp(name, file_field)) && !u->path) {
			ret = vs_fsutil_tmpfile(incoming, "upload", &u->path, &fd);
			if (ret == 0)
				ret = part_body(rd, delim, dn, fd, max, NULL, &u->size);
			if (ret == 0 && fsync(fd) != 0)
				ret = vs_fail(VS_ERR, VS_E_IO, "cannot store the upload: %s", strerror(errno));
			if (fd >= 0)
				close(fd);
			u->filename = filename;
			filename = NULL;
		} else {
			ret = part_body(rd, delim, dn, -1, VS_UPLOAD_FIELD_MAX, &text, &size);
			if (ret == 0 && !json_object_get(u->fields, name))
				json_object_set_new(u->fields, name, json_string(text ? text : ""));
		}
		free(name);
		free(filename);
		free(text);
		if (ret < 0)
			return ret;
	}
}

int vs_upload_multipart(vs_upload_read_fn read, void *ctx, long long length, const char *content_type,
                        const char *file_field, const char *incoming, long long max_bytes, struct vs_upload *u)
{
	struct reader *rd = NULL;
	char b[BOUNDARY_MAX + 1], delim[BOUNDARY_MAX + 5], *preamble = NULL;
	long long n = 0;
	int ret;

	memset(u, 0, sizeof(*u));
	if ((ret = boundary_of(content_type, b, sizeof(b))) < 0)
		return ret;
	if (!(rd = calloc(1, sizeof(*rd))) || !(u->fields = json_object())) {
		free(rd);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	rd->read = read;
	rd->ctx = ctx;
	rd->left = length;
	/* the first boundary has no line end before it (a preamble is allowed) */
	snprintf(delim, sizeof(delim), "--%s", b);
	if ((ret = vs_fsutil_mkdir_p(incoming, 0700)) == 0)
		ret = part_body(rd, delim, strlen(delim), -1, VS_UPLOAD_FIELD_MAX, &preamble, &n);
	free(preamble);
	snprintf(delim, sizeof(delim), "\r\n--%s", b);
	if (ret == 0)
		ret = read_parts(rd, delim, strlen(delim), file_field, incoming, max_bytes, u);
	free(rd);
	if (ret < 0)
		vs_upload_release(u);
	return ret;
}

void vs_upload_release(struct vs_upload *u)
{
	if (u->path)
		unlink(u->path);
	free(u->path);
	free(u->filename);
	json_decref(u->fields);
	memset(u, 0, sizeof(*u));
}
