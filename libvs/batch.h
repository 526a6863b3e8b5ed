#ifndef VS_BATCH_H
#define VS_BATCH_H

#include <jansson.h>
#include <libpq-fe.h>

#include "vs.h"

/*
 * Batched imports: NDJSON records read one line at a time and stored in
 * PostgreSQL in transactions, for vs-report import and vs-progress import.
 *
 * Each line that is a JSON object goes to check (if set) and then to
 * store; a line that is not one (vs_record_read's error record), or one
 * that check or store rejects, is written to stdout as it is (an error
 * record naming its line: "error" and "line" added, the message on stderr
 * as "NAME:LINE: message"), and the exit status becomes 1. The import goes
 * on. Last comes a summary record,
 *
 *   {"import":{"imported":N,"rejected":N}}
 *
 * How records share transactions (size):
 *
 *   0   one transaction for the whole input, begun before the first line:
 *       nothing stays unless all of it does. A database error (VS_ETEMP,
 *       or a statement refused: VS_E_DATABASE) ends the import and rolls
 *       it back, its message prefixed with "NAME:LINE".
 *   N   a transaction begun before the first record check passes and
 *       committed after every N records store was given (stored or
 *       rejected); only VS_ETEMP ends the import, and what was committed
 *       stays. A BEGIN or COMMIT that fails otherwise rejects the record
 *       at hand.
 *
 * Statements are prepared (vs_db_prepare_statements): an import runs the
 * same few thousands of times.
 */
struct vs_batch {
	int size; /* records per transaction; 0: all in one */
	/* optional: before any statement for rec; 0 goes on to store, 1 skips
	 * rec (not counted, not written), VS_ERR rejects it */
	int (*check)(json_t *rec, void *ctx);
	/* stores rec (borrowed) in the open transaction: 0, VS_ERR or
	 * VS_ETEMP, message set */
	int (*store)(PGconn *db, json_t *rec, void *ctx);
	void *ctx;
};

/*
 * Imports the records of in (borrowed, read to its end; name is used in
 * messages, "stdin") into db as b says, and raises *status
 * (vs_exit_worse) for every record rejected. Returns 0; VS_ERR or
 * VS_ETEMP when the import ended early, or reading or writing failed
 * (message set, no summary written).
 */
int vs_batch_import(PGconn *db, FILE *in, const char *name, const struct vs_batch *b, int *status);

#endif
