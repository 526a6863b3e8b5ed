#include "batch.h"
#include "db.h"
#include "error.h"
#include "log.h"
#include "record.h"

struct import {
	PGconn *db;
	const struct vs_batch *b;
	int in_batch; /* records given to store since the transaction began (size > 0) */
};

/* One record: 0 stored, 1 skipped, or the error that rejects it (or ends
 * the import). */
static int import_one(struct import *im, json_t *rec)
{
	const struct vs_batch *b = im->b;
	int ret, c;

	if (b->check && (ret = b->check(rec, b->ctx)) != 0)
		return ret;
	if (b->size == 0)
		return b->store(im->db, rec, b->ctx);
	if (im->in_batch == 0 && (ret = vs_db_run(im->db, "BEGIN")) < 0)
		return ret;
	ret = b->store(im->db, rec, b->ctx);
	if (ret == VS_ETEMP)
		return ret;
	if (++im->in_batch >= b->size) {
		c = vs_db_run(im->db, "COMMIT");
		im->in_batch = 0;
		if (c < 0)
			return c;
	}
	return ret;
}

/* Whether error e ends the import. */
static bool fatal(const struct vs_batch *b, int e)
{
	if (e == VS_ETEMP)
		return true;
	/* in one transaction, a refused statement aborts all of it */
	return b->size == 0 && e < 0 && !strcmp(vs_error_code(), VS_E_DATABASE);
}

int vs_batch_import(PGconn *db, FILE *in, const char *name, const struct vs_batch *b, int *status)
{
	struct import im = {.db = db, .b = b};
	struct vs_reader *r = vs_reader_new(in, name);
	long long imported = 0, rejected = 0;
	json_t *rec = NULL, *sum;
	int ret = 0, got;

	if (!r)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	vs_db_prepare_statements(db); /* the same few statements, thousands of times */
	if (b->size == 0 && (ret = vs_db_run(db, "BEGIN")) < 0) {
		vs_reader_free(r);
		return ret;
	}
	while ((got = vs_record_read(r, &rec)) > 0) {
		int e = got == VS_RECORD_BAD ? VS_ERR : import_one(&im, rec);

		if (fatal(b, e)) {
			/* the open transaction is gone: none of it stays */
			if (b->size == 0)
				vs_error_prefix("%s:%zu", name, vs_reader_line(r));
			json_decref(rec);
			ret = e;
			break;
		}
		if (e < 0) {
			rejected++;
			*status = vs_exit_worse(*status, VS_EXIT_FAILED);
			if (got != VS_RECORD_BAD) { /* the reader reported those */
				vs_log_error("%s:%zu: %s", name, vs_reader_line(r), vs_error_message());
				vs_record_set_last_error(rec);
				json_object_set_new(rec, "line", json_integer((json_int_t)vs_reader_line(r)));
			}
			ret = vs_record_write(stdout, rec);
		} else if (e == 0) {
			imported++;
		}
		json_decref(rec);
		if (ret < 0)
			break;
	}
	if (got < 0 && ret == 0)
		ret = got;
	if (b->size == 0 || im.in_batch > 0) {
		if (ret == 0)
			ret = vs_db_run(db, "COMMIT");
		else
			vs_db_rollback(db);
	}
	vs_reader_free(r);
	if (ret < 0)
		return ret;
	sum = json_pack("{s:{s:I,s:I}}", "import", "imported", (json_int_t)imported, "rejected", (json_int_t)rejected);
	ret = vs_record_write(stdout, sum);
	json_decref(sum);
	return ret;
}
