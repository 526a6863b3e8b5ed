#ifndef VS_RECORD_H
#define VS_RECORD_H

#include <jansson.h>

#include "vs.h"

/*
 * Records: one JSON object per video, one per line (NDJSON), vs(7).
 *
 * Ownership follows jansson: a json_t * returned by a function here is a new
 * reference the caller must json_decref(); arguments are borrowed unless a
 * comment says the function steals them.
 */

/* The longest input line accepted; longer lines become error records. */
#define VS_RECORD_MAX_LINE (16 * 1024 * 1024)

struct vs_reader;

/* Reads records from f (borrowed, not closed); name is used in messages
 * ("stdin"). Returns NULL when out of memory. */
struct vs_reader *vs_reader_new(FILE *f, const char *name);
void vs_reader_free(struct vs_reader *r);

/*
 * Reads the next record into *rec (new reference). Returns
 *   VS_RECORD_OK   the object read;
 *   VS_RECORD_BAD  the line is not a JSON object (or is too long): *rec is an
 *                  error record naming the line number, with the offending
 *                  line kept in "input" so that nothing is lost;
 *   0              end of input;
 *   VS_ERR         the input cannot be read (message set).
 * Blank lines are skipped.
 */
enum { VS_RECORD_OK = 1, VS_RECORD_BAD = 2 };
int vs_record_read(struct vs_reader *r, json_t **rec);

/* Whether the next vs_record_read() would not wait for its input: a line
 * is buffered, or the input is ready (or at its end, or not a pipe). */
bool vs_reader_ready(const struct vs_reader *r);

/* Line number of the record last read (1-based). */
size_t vs_reader_line(const struct vs_reader *r);

/*
 * Writes rec as one compact line with a single fwrite, fields in insertion
 * order. Returns 0, or VS_ERR when the write failed (EPIPE, ENOSPC): the
 * caller should stop, since stdout is gone.
 */
int vs_record_write(FILE *f, const json_t *rec);

/* vs_record_write()s each element of the array recs, stopping at the first
 * failure. */
int vs_record_write_all(FILE *f, const json_t *recs);

/* The ending of a command that answers with rec (an object: one record;
 * an array: a record each), which it takes: when ret (the outcome of
 * making it) is 0, rec is written to f. rec is freed. Returns ret, or the
 * write's failure. */
int vs_record_emit(FILE *f, int ret, json_t *rec);

/*
 * The array of records recs as a table for a person at a terminal: a
 * header of the columns' names in capitals, then a row a record, each
 * column as wide as its widest value (values are the fields' text: strings
 * as they are, other values as compact JSON; at most 60 characters, a
 * longer one cut with "..."). columns ends with NULL. Returns 0 or VS_ERR.
 */
int vs_record_write_table(FILE *f, const json_t *recs, const char *const *columns);

/* True if rec carries an "error" member: pass it on untouched. */
bool vs_record_failed(const json_t *rec);

/*
 * Marks rec (borrowed, modified in place) as failed by this tool:
 * "error": {"tool": vs_log_progname(), "code": code, "message": message}.
 */
void vs_record_set_error(json_t *rec, const char *code, const char *message);

/* As vs_record_set_error() with the calling thread's vs_error_code() and
 * vs_error_message(). */
void vs_record_set_last_error(json_t *rec);

/*
 * Object helpers that treat a missing or mistyped member as absent:
 * vs_json_str(rec, "source.path") follows dotted paths through objects.
 */
const char *vs_json_str(const json_t *obj, const char *path);   /* borrowed or NULL */
json_t *vs_json_get(const json_t *obj, const char *path);        /* borrowed or NULL */
bool vs_json_number(const json_t *obj, const char *path, double *out);

/* Sets obj[key] to a new string/real/integer value, or to null when s is NULL. */
void vs_json_set_str(json_t *obj, const char *key, const char *s);
void vs_json_set_real(json_t *obj, const char *key, double v);
void vs_json_set_int(json_t *obj, const char *key, long long v);

/*
 * The record loop every tool runs. fn does the tool's work on one record
 * (borrowed, completed in place) and returns 0, VS_ERR or VS_ETEMP with the
 * message set.
 */
typedef int (*vs_record_fn)(json_t *rec, void *ctx);

/*
 * Processes one record: a record that already failed passes through
 * untouched; otherwise fn runs, and if it fails the message goes to stderr
 * and the record gets its "error". The record is written to stdout and
 * *status raised (vs_exit_worse). Returns 0, or VS_ERR when stdout failed:
 * the caller must stop.
 */
int vs_record_process(json_t *rec, vs_record_fn fn, void *ctx, int *status);

/*
 * Reads records from in until its end and vs_record_process()es each; a bad
 * line becomes an error record and exit status 1. Returns 0, or VS_ERR when
 * reading or writing failed (message set): the caller must stop.
 */
int vs_record_loop(FILE *in, const char *name, vs_record_fn fn, void *ctx, int *status);

/*
 * Flushes and closes stdout and reports a failure (full disk, closed pipe)
 * on stderr. Returns 0 or VS_ERR. Every program calls it last, so that
 * "vs-ingest … >/dev/full" exits non-zero.
 */
int vs_close_stdout(void);

#endif
