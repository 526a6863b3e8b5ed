#include <math.h>

#include "batch.h"
#include "db.h"
#include "error.h"
#include "log.h"
#include "record.h"

/* The staging rows of a chunk, in COPY's text format: one buffer, grown
 * as needed. */
struct vs_batch_row {
	char *buf;   /* malloced, owned */
	size_t len, cap;
	bool failed; /* out of memory */
};

/* A record of the chunk, in line order. */
struct pending {
	size_t line;
	json_t *rec;    /* owned */
	char *error;    /* NULL (staged, applied), a message (malloced, or
	                 * out_of_memory), or "" for the reader's own error
	                 * record (written as it is) */
	char code[32];  /* the error's code */
	bool staged;
};

static char out_of_memory[] = "out of memory";

static char *message_dup(const char *message)
{
	char *s = strdup(message);

	return s ? s : out_of_memory;
}

static void message_free(char *s)
{
	if (s && *s && s != out_of_memory)
		free(s);
}

/* A chunk: its records, and the staging rows of those staged. */
struct chunk {
	struct vs_batch_row rows;
	struct pending *p; /* malloced, owned */
	size_t n, cap, staged;
	int sent;          /* 1: its apply statement is running; <0: sending it failed */
};

/*
 * Two chunks: while the server applies one (sent), the next one is read
 * and checked (fill), so that the client's work (parsing JSON) and the
 * server's overlap.
 */
struct import {
	PGconn *db;
	const struct vs_batch *b;
	char *copy, *clear; /* statements on b's table (malloced, owned) */
	const char *name;
	struct chunk ch[2];
	struct chunk *fill, *sent; /* sent: NULL, or the chunk being applied */
	long long imported, rejected;
	int *status;
};

static void put(struct vs_batch_row *row, const char *s, size_t n)
{
	if (row->len + n + 1 > row->cap) {
		size_t cap = (row->cap ? row->cap * 2 : 1 << 16) + n;
		char *grown = row->failed ? NULL : realloc(row->buf, cap);

		if (!grown) {
			row->failed = true;
			return;
		}
		row->buf = grown;
		row->cap = cap;
	}
	memcpy(row->buf + row->len, s, n);
	row->len += n;
}

void vs_batch_text(struct vs_batch_row *row, const char *s)
{
	put(row, "\t", 1);
	if (!s) {
		put(row, "\\N", 2);
		return;
	}
	/* COPY text format: the backslash, the delimiter and line ends escaped */
	for (const char *run = s;; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '\t' ? "\\t" : *s == '\n' ? "\\n" : *s == '\r' ? "\\r" : NULL;

		if (!esc && *s)
			continue;
		put(row, run, (size_t)(s - run));
		if (!*s)
			break;
		put(row, esc, 2);
		run = s + 1;
	}
}

void vs_batch_number(struct vs_batch_row *row, double x)
{
	char num[40];

	if (!isfinite(x)) {
		vs_batch_text(row, NULL);
		return;
	}
	put(row, num, (size_t)snprintf(num, sizeof(num), "\t%.17g", x));
}

static void chunk_reset(struct chunk *c)
{
	for (size_t i = 0; i < c->n; i++) {
		json_decref(c->p[i].rec);
		message_free(c->p[i].error);
	}
	c->n = c->staged = 0;
	c->rows.len = 0;
	c->sent = 0;
}

/* Adds rec (stolen) to the chunk: staged, or rejected with error (stolen)
 * under vs_error_code(). */
static int chunk_add(struct chunk *c, size_t line, json_t *rec, char *error, bool staged)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct pending *grown = realloc(c->p, cap * sizeof(*grown));

		if (!grown) {
			json_decref(rec);
			message_free(error);
			return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		}
		c->p = grown;
		c->cap = cap;
	}
	c->p[c->n] = (struct pending){.line = line, .rec = rec, .error = error, .staged = staged};
	snprintf(c->p[c->n++].code, sizeof(c->p->code), "%s", vs_error_code());
	c->staged += staged;
	return 0;
}

/* The staged record of line, or NULL. */
static struct pending *find(struct chunk *c, size_t line)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->p[mid].line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n && c->p[lo].line == line && c->p[lo].staged ? &c->p[lo] : NULL;
}

static void reject(struct pending *p, const char *message, const char *code)
{
	if (!p->error)
		p->error = message_dup(message);
	snprintf(p->code, sizeof(p->code), "%s", code);
	p->staged = false;
}

/* Takes the result of c's apply statement (sent), and runs it again until
 * it has nothing left to retry, marking the records it refuses. */
static int apply(struct import *im, struct chunk *c)
{
	const struct vs_batch *b = im->b;

	for (int attempt = 0; attempt < VS_BATCH_APPLY_ATTEMPTS; attempt++) {
		PGresult *r = NULL;
		bool again = false;
		int ret = attempt == 0 ? vs_db_receive(im->db, &r) : vs_db_exec(im->db, &r, b->apply, b->nparams, b->params);

		if (ret < 0)
			return ret;
		for (int i = 0; i < PQntuples(r); i++) {
			long long line = atoll(PQgetvalue(r, i, 0));
			struct pending *p = line > 0 ? find(c, (size_t)line) : NULL;

			if (line == 0)
				again = true;
			else if (p && attempt == 0)
				reject(p, PQgetvalue(r, i, 1),
				       PQnfields(r) > 2 && !PQgetisnull(r, i, 2) ? PQgetvalue(r, i, 2) : VS_E_INVALID);
		}
		PQclear(r);
		if (!again)
			return vs_db_run(im->db, im->clear);
	}
	return vs_fail(VS_ETEMP, VS_E_UNAVAILABLE, "other writers keep changing the same rows: try again");
}

/* Whether error e ends the import. */
static bool fatal(const struct vs_batch *b, int e)
{
	if (e == VS_ETEMP)
		return true;
	/* in one transaction, a refused statement aborts all of it */
	return b->size == 0 && e < 0 && !strcmp(vs_error_code(), VS_E_DATABASE);
}

/* Stages the chunk being filled and starts its apply statement; the
 * other chunk is filled meanwhile. */
static void send_chunk(struct import *im)
{
	struct chunk *c = im->fill;
	int ret = 0;

	im->fill = c == &im->ch[0] ? &im->ch[1] : &im->ch[0];
	im->sent = c;
	if (c->staged == 0)
		return;
	if (im->b->size == 1)
		ret = vs_db_run(im->db, "BEGIN");
	if (ret == 0)
		ret = vs_db_copy(im->db, im->copy, c->rows.buf, c->rows.len);
	if (ret == 0)
		ret = vs_db_send(im->db, im->b->apply, im->b->nparams, im->b->params);
	c->sent = ret < 0 ? ret : 1;
}

/* Waits for the chunk sent, (one a chunk) commits it, then writes its
 * rejected records in line order. */
static int finish_chunk(struct import *im)
{
	const struct vs_batch *b = im->b;
	struct chunk *c = im->sent;
	int ret = 0;

	if (!c)
		return 0;
	im->sent = NULL;
	if (c->staged > 0) {
		ret = c->sent < 0 ? c->sent : apply(im, c);
		if (b->size == 1) {
			if (ret == 0)
				ret = vs_db_run(im->db, "COMMIT");
			else
				vs_db_rollback(im->db);
		}
		if (fatal(b, ret))
			return ret;
		/* the database refused the chunk: each of its records says why */
		for (size_t i = 0; ret < 0 && i < c->n; i++)
			if (c->p[i].staged)
				reject(&c->p[i], vs_error_message(), vs_error_code());
	}
	ret = 0;
	for (size_t i = 0; i < c->n && ret == 0; i++) {
		struct pending *p = &c->p[i];

		if (p->staged) {
			im->imported++;
			continue;
		}
		im->rejected++;
		*im->status = vs_exit_worse(*im->status, VS_EXIT_FAILED);
		if (*p->error) { /* the reader reported its own */
			vs_log_error("%s:%zu: %s", im->name, p->line, p->error);
			vs_record_set_error(p->rec, p->code, p->error);
			json_object_set_new(p->rec, "line", json_integer((json_int_t)p->line));
		}
		ret = vs_record_write(stdout, p->rec);
	}
	chunk_reset(c);
	return ret;
}

/* Applies the chunk being filled: after the one sent, and (all) before
 * going on when all is set (the input ended, or has nothing more yet).
 * A chunk that could not be sent is finished at once, while the error
 * (message, code) is still its own and not a later line's. */
static int flush(struct import *im, bool all)
{
	int ret = finish_chunk(im);

	if (ret == 0)
		send_chunk(im);
	if (ret == 0 && (all || im->sent->sent < 0))
		ret = finish_chunk(im);
	return ret;
}

/* Reads one record into the chunk: 0, or VS_ERR (out of memory). */
static int take(struct import *im, struct vs_reader *r, int got, json_t *rec)
{
	struct chunk *c = im->fill;
	size_t line = vs_reader_line(r), mark = c->rows.len;
	char num[24];
	int e;

	if (got == VS_RECORD_BAD)
		return chunk_add(c, line, rec, (char *)"", false);
	put(&c->rows, num, (size_t)snprintf(num, sizeof(num), "%zu", line));
	e = im->b->row(rec, &c->rows, im->b->ctx);
	if (e == 0)
		put(&c->rows, "\n", 1);
	if (c->rows.failed)
		e = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if (e != 0)
		c->rows.len = mark;
	if (e == 1) {
		json_decref(rec);
		return 0;
	}
	if (c->rows.failed)
		return e;
	return chunk_add(c, line, rec, e < 0 ? message_dup(vs_error_message()) : NULL, e == 0);
}

/* Makes the staging table (if this connection has none yet) and the
 * statements that fill and empty it. */
static int stage(struct import *im)
{
	const struct vs_batch *b = im->b;
	char *create;
	int ret;

	if (asprintf(&create, "CREATE TEMP TABLE IF NOT EXISTS %s (%s)", b->table, b->columns) < 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if (asprintf(&im->copy, "COPY %s FROM STDIN", b->table) < 0)
		im->copy = NULL;
	if (asprintf(&im->clear, "TRUNCATE %s", b->table) < 0)
		im->clear = NULL;
	if (!im->copy || !im->clear)
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	else
		ret = vs_db_run(im->db, create);
	free(create);
	return ret;
}

int vs_batch_import(PGconn *db, FILE *in, const char *name, const struct vs_batch *b, int *status)
{
	struct import im = {.db = db, .b = b, .name = name, .status = status};
	PGresult *x;
	struct vs_reader *r = vs_reader_new(in, name);
	json_t *rec = NULL, *sum;
	int ret, got;

	if (!r)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	vs_db_prepare_statements(db); /* the apply statement, chunk after chunk */
	ret = stage(&im);
	if (ret == 0 && b->size == 0)
		ret = vs_db_run(db, "BEGIN");
	im.fill = &im.ch[0];
	while (ret == 0) {
		/* a full chunk, or a producer that has nothing more yet: its
		 * events land as they come, not when a chunk fills */
		if (im.fill->n >= VS_BATCH_CHUNK || (im.fill->n > 0 && !vs_reader_ready(r)))
			if ((ret = flush(&im, im.fill->n < VS_BATCH_CHUNK)) < 0)
				break;
		if ((got = vs_record_read(r, &rec)) <= 0) {
			ret = got;
			break;
		}
		ret = take(&im, r, got, rec);
	}
	if (ret == 0)
		ret = flush(&im, true);
	if (im.sent && im.sent->sent == 1) { /* an error left its statement running */
		while ((x = PQgetResult(db)))
			PQclear(x);
		if (b->size == 1)
			vs_db_rollback(db);
	}
	if (fatal(b, ret) && b->size == 0)
		vs_error_prefix("%s:%zu", name, vs_reader_line(r));
	if (b->size == 0) {
		if (ret == 0)
			ret = vs_db_run(db, "COMMIT");
		else
			vs_db_rollback(db);
	}
	for (int i = 0; i < 2; i++) {
		chunk_reset(&im.ch[i]);
		free(im.ch[i].p);
		free(im.ch[i].rows.buf);
	}
	free(im.copy);
	free(im.clear);
	vs_reader_free(r);
	if (ret < 0)
		return ret;
	sum = json_pack("{s:{s:I,s:I}}", "import", "imported", (json_int_t)im.imported, "rejected",
	                (json_int_t)im.rejected);
	ret = vs_record_write(stdout, sum);
	json_decref(sum);
	return ret;
}
