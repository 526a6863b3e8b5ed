#include <ctype.h>
#include <math.h>
#include <poll.h>

#include "error.h"
#include "log.h"
#include "record.h"

/* How much of a rejected line is kept in the error record. */
#define VS_RECORD_KEEP_INPUT (64 * 1024)

struct vs_reader {
	FILE *f;      /* borrowed */
	char *name;   /* owned */
	char *buf;    /* owned, getline's buffer */
	size_t cap;
	size_t line;
};

struct vs_reader *vs_reader_new(FILE *f, const char *name)
{
	struct vs_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->f = f;
	r->name = strdup(name ? name : "stdin");
	if (!r->name) {
		free(r);
		return NULL;
	}
	return r;
}

void vs_reader_free(struct vs_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r->name);
	free(r);
}

bool vs_reader_ready(const struct vs_reader *r)
{
	struct pollfd p = {.fd = fileno(r->f), .events = POLLIN};

#ifdef __GLIBC__
	/* what stdio has read ahead (glibc has no call that tells) */
	if (r->f->_IO_read_ptr < r->f->_IO_read_end)
		return true;
#endif
	return p.fd < 0 || poll(&p, 1, 0) != 0;
}

size_t vs_reader_line(const struct vs_reader *r)
{
	return r->line;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

static json_t *bad_line(struct vs_reader *r, const char *line, size_t len, const char *why)
{
	json_t *rec = json_object();
	char *msg = NULL;
	size_t keep = len > VS_RECORD_KEEP_INPUT ? VS_RECORD_KEEP_INPUT : len;

	if (!rec)
		return NULL;
	if (asprintf(&msg, "%s:%zu: not a record: %s", r->name, r->line, why) < 0)
		msg = NULL;
	vs_record_set_error(rec, VS_E_BAD_RECORD, msg ? msg : why);
	json_object_set_new(rec, "line", json_integer((json_int_t)r->line));
	/* Keep what was read, so that nothing is lost; a line that is not
	 * UTF-8 cannot be a JSON string and is dropped. */
	json_object_set_new(rec, "input", json_stringn(line, keep));
	if (keep < len)
		json_object_set_new(rec, "input_truncated", json_true());
	free(msg);
	return rec;
}

int vs_record_read(struct vs_reader *r, json_t **rec)
{
	*rec = NULL;
	for (;;) {
		json_error_t jerr;
		ssize_t n;
		json_t *v;

		errno = 0;
		n = getline(&r->buf, &r->cap, r->f);
		if (n < 0) {
			if (ferror(r->f))
				return vs_fail(VS_ERR, VS_E_IO, "cannot read %s: %s", r->name,
				               strerror(errno ? errno : EIO));
			return 0;
		}
		r->line++;
		if (n > 0 && r->buf[n - 1] == '\n')
			n--;
		if (blank(r->buf, (size_t)n))
			continue;
		if (n > VS_RECORD_MAX_LINE) {
			*rec = bad_line(r, r->buf, (size_t)n, "line too long");
			return *rec ? VS_RECORD_BAD : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		}
		v = json_loadb(r->buf, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
		if (v && json_is_object(v)) {
			*rec = v;
			return VS_RECORD_OK;
		}
		*rec = bad_line(r, r->buf, (size_t)n, v ? "not a JSON object" : jerr.text);
		json_decref(v);
		if (!*rec)
			return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		vs_log_error("%s", vs_json_str(*rec, "error.message"));
		return VS_RECORD_BAD;
	}
}

int vs_record_write(FILE *f, const json_t *rec)
{
	char *s = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t len;
	int ret = 0;

	if (!s)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "cannot serialise a record");
	len = strlen(s);
	/* One fwrite per record: the NUL becomes the newline for the write. */
	s[len] = '\n';
	if (fwrite(s, 1, len + 1, f) != len + 1 || fflush(f) != 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot write a record: %s", strerror(errno));
	s[len] = '\0';
	free(s);
	return ret;
}

bool vs_record_failed(const json_t *rec)
{
	return json_object_get(rec, "error") != NULL;
}

void vs_record_set_error(json_t *rec, const char *code, const char *message)
{
	json_t *e = json_object();
	json_t *m;

	json_object_set_new(e, "tool", json_string(vs_log_progname()));
	json_object_set_new(e, "code", json_string(code));
	/* A message may quote a file name that is not UTF-8. */
	m = json_string(message);
	json_object_set_new(e, "message", m ? m : json_string("(message is not UTF-8)"));
	json_object_set_new(rec, "error", e);
}

void vs_record_set_last_error(json_t *rec)
{
	vs_record_set_error(rec, vs_error_code(), vs_error_message());
}

json_t *vs_json_get(const json_t *obj, const char *path)
{
	const char *p = path;
	json_t *v = (json_t *)obj;

	while (v && json_is_object(v)) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		v = json_object_getn(v, p, n);
		if (!dot)
			return v;
		p = dot + 1;
	}
	return NULL;
}

const char *vs_json_str(const json_t *obj, const char *path)
{
	return json_string_value(vs_json_get(obj, path));
}

bool vs_json_number(const json_t *obj, const char *path, double *out)
{
	json_t *v = vs_json_get(obj, path);

	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

void vs_json_set_str(json_t *obj, const char *key, const char *s)
{
	json_t *v = s ? json_string(s) : NULL;

	json_object_set_new(obj, key, v ? v : json_null());
}

void vs_json_set_real(json_t *obj, const char *key, double v)
{
	json_object_set_new(obj, key, isfinite(v) ? json_real(v) : json_null());
}

void vs_json_set_int(json_t *obj, const char *key, long long v)
{
	json_object_set_new(obj, key, json_integer((json_int_t)v));
}

int vs_record_process(json_t *rec, vs_record_fn fn, void *ctx, int *status)
{
	if (!vs_record_failed(rec)) {
		int ret = fn(rec, ctx);

		if (ret < 0) {
			vs_log_error("%s", vs_error_message());
			vs_record_set_last_error(rec);
			*status = vs_exit_worse(*status, vs_exit_for(ret));
		}
	}
	return vs_record_write(stdout, rec);
}

int vs_record_loop(FILE *in, const char *name, vs_record_fn fn, void *ctx, int *status)
{
	struct vs_reader *r = vs_reader_new(in, name);
	json_t *rec = NULL;
	int ret;

	if (!r)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	while ((ret = vs_record_read(r, &rec)) > 0) {
		if (ret == VS_RECORD_BAD) {
			*status = vs_exit_worse(*status, VS_EXIT_FAILED);
			ret = vs_record_write(stdout, rec);
		} else {
			ret = vs_record_process(rec, fn, ctx, status);
		}
		json_decref(rec);
		if (ret < 0)
			break;
	}
	vs_reader_free(r);
	return ret < 0 ? VS_ERR : 0;
}

int vs_close_stdout(void)
{
	int err = 0;

	if (fflush(stdout) != 0)
		err = errno;
	if (fclose(stdout) != 0 && !err)
		err = errno;
	if (err) {
		vs_log_error("cannot write to stdout: %s", strerror(err));
		return VS_ERR;
	}
	return 0;
}

int vs_record_write_all(FILE *f, const json_t *recs)
{
	size_t i;
	json_t *rec;
	int ret = 0;

	json_array_foreach(recs, i, rec)
		if (ret == 0)
			ret = vs_record_write(f, rec);
	return ret;
}

int vs_record_emit(FILE *f, int ret, json_t *rec)
{
	if (ret == 0)
		ret = json_is_array(rec) ? vs_record_write_all(f, rec) : vs_record_write(f, rec);
	json_decref(rec);
	return ret;
}

#define TABLE_CELL_MAX 60

/* The text of rec's field col for a table cell, malloced. */
static char *cell(const json_t *rec, const char *col)
{
	const json_t *v = json_object_get(rec, col);
	char *s = !v || json_is_null(v) ? strdup("") :
	          json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	for (char *c = s; c && *c; c++)
		if ((unsigned char)*c < ' ')
			*c = ' ';
	if (s && strlen(s) > TABLE_CELL_MAX) {
		size_t k = TABLE_CELL_MAX - 3;

		while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
			k--; /* not inside a UTF-8 character */
		memcpy(s + k, "...", 4);
	}
	return s;
}

/* Its width in characters (UTF-8), for alignment. */
static int width(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void put_cell(FILE *f, const char *s, int w, bool last)
{
	fputs(s, f);
	if (!last)
		fprintf(f, "%*s", w - width(s) + 2, "");
}

int vs_record_write_table(FILE *f, const json_t *recs, const char *const *columns)
{
	size_t nc = 0, nr = json_array_size(recs);
	int w[32] = {0};

	while (columns[nc] && nc < VS_ARRAY_SIZE(w))
		nc++;
	for (size_t c = 0; c < nc; c++) {
		w[c] = width(columns[c]);
		for (size_t i = 0; i < nr; i++) {
			char *s = cell(json_array_get(recs, i), columns[c]);

			if (s && width(s) > w[c])
				w[c] = width(s);
			free(s);
		}
	}
	for (size_t c = 0; c < nc; c++) {
		char head[64];
		size_t k;

		for (k = 0; columns[c][k] && k + 1 < sizeof(head); k++)
			head[k] = (char)toupper((unsigned char)columns[c][k]);
		head[k] = '\0';
		put_cell(f, head, w[c], c + 1 == nc);
	}
	fputc('\n', f);
	for (size_t i = 0; i < nr; i++) {
		for (size_t c = 0; c < nc; c++) {
			char *s = cell(json_array_get(recs, i), columns[c]);

			put_cell(f, s ? s : "", w[c], c + 1 == nc);
			free(s);
		}
		fputc('\n', f);
	}
	if (fflush(f) != 0 || ferror(f))
		return vs_fail(VS_ERR, VS_E_IO, "cannot write: %s", strerror(errno));
	return 0;
}
