#ifndef VS_BATCH_H
#define VS_BATCH_H

#include <jansson.h>
#include <libpq-fe.h>

#include "vs.h"

/*
 * Imports at COPY speed, for vs-report import and vs-progress import:
 * NDJSON records read one line at a time, each checked and turned into a
 * row of a staging table (a temporary table, filled by COPY), and the
 * staged rows applied by one set-based statement a chunk.
 *
 * Each line that is a JSON object goes to row, which writes its staging
 * row; a line that is not one (vs_record_read's error record), or one that
 * row or the apply statement rejects, is written to stdout as it is (an
 * error record naming its line: "error" and "line" added, the message on
 * stderr as "NAME:LINE: message"), in line order, and the exit status
 * becomes 1. The import goes on. Last comes a summary record,
 *
 *   {"import":{"imported":N,"rejected":N}}
 *
 * A chunk is applied when it holds VS_BATCH_CHUNK rows, at the end of the
 * input, and whenever the input has nothing more to read at once (a slow
 * producer's events land as they come, not when a chunk fills). How chunks
 * share transactions (size):
 *
 *   0   one transaction for the whole input, begun before the first line:
 *       nothing stays unless all of it does. A database error (VS_ETEMP,
 *       or a statement refused: VS_E_DATABASE) ends the import and rolls
 *       it back, its message prefixed with "NAME:LINE".
 *   1   a transaction a chunk: only VS_ETEMP ends the import, and the
 *       chunks committed stay. A chunk the database refuses otherwise
 *       rejects each of its records with the database's message.
 */

#define VS_BATCH_CHUNK 10000 /* staged rows per apply */

/* The attempts at a chunk whose apply asks to run again. */
#define VS_BATCH_APPLY_ATTEMPTS 16

/* The staging row being written (opaque). */
struct vs_batch_row;

struct vs_batch {
	int size; /* 0: one transaction; 1: one a chunk */
	/* The staging table: a temporary table made once per import (outside
	 * a transaction) with these columns, line first ("line bigint, …"),
	 * filled by COPY in their order and emptied after each apply. */
	const char *table;
	const char *columns;
	/*
	 * Applies the staged rows in the open transaction, with params. Its
	 * rows are (line, message[, code]): each a staged row it refused
	 * (code: VS_E_INVALID if NULL or missing); a row with line 0 means
	 * some rows met a concurrent writer and were not applied: the
	 * statement runs again (it must be idempotent), its refusals of the
	 * first run kept.
	 */
	const char *apply;
	int nparams;
	const char *const *params;
	/* Writes the columns of rec's (borrowed) staging row after its line
	 * number with vs_batch_text() and vs_batch_number(): returns 0; 1
	 * skips rec (not counted, not written); VS_ERR rejects it (message
	 * set). Nothing it wrote is kept unless it returns 0. */
	int (*row)(json_t *rec, struct vs_batch_row *row, void *ctx);
	void *ctx;
};

/* The next column: s (COPY's text format; NULL is SQL NULL). */
void vs_batch_text(struct vs_batch_row *row, const char *s);

/* The next column: x, exactly ("%.17g"); SQL NULL when x is not finite. */
void vs_batch_number(struct vs_batch_row *row, double x);

/*
 * Imports the records of in (borrowed, read to its end; name is used in
 * messages, "stdin") into db as b says, and raises *status
 * (vs_exit_worse) for every record rejected. Returns 0; VS_ERR or
 * VS_ETEMP when the import ended early, or reading or writing failed
 * (message set, no summary written).
 */
int vs_batch_import(PGconn *db, FILE *in, const char *name, const struct vs_batch *b, int *status);

#endif
