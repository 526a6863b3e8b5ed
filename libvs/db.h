#ifndef VS_DB_H
#define VS_DB_H

#include <jansson.h>
#include <libpq-fe.h>

#include "vs.h"

/*
 * The one way vs programs talk to PostgreSQL (libpq). Only parameterised
 * statements: values never become part of SQL text.
 *
 * Failures follow error.h: VS_ETEMP when the server cannot be reached, the
 * connection dropped, or the error is transient (SQLSTATE classes 08, 53,
 * 57P, serialisation failures) — the program exits 75; VS_ERR when the
 * statement itself was refused.
 */

/* Seconds to wait for a connection unless the URL sets connect_timeout. */
#define VS_DB_CONNECT_TIMEOUT_S 5

/* The database URL to use: the --database value if given, else
 * $VS_DATABASE_URL, else NULL (no database). Borrowed. */
const char *vs_db_url(const char *flag);

/* Runs sql (as vs_db_exec) for rows of one column of JSON text: each
 * appended to the array out (rows that are not JSON left out). */
int vs_db_query_json(PGconn *db, const char *sql, int n, const char *const *params, json_t *out);

/* The same for at most one row: new in *row, NULL when there is none. */
int vs_db_query_json_row(PGconn *db, const char *sql, int n, const char *const *params, json_t **row);

/* Connects (new connection in *db, caller vs_db_close()s it). */
int vs_db_connect(const char *url, PGconn **db);

/* The same, waiting at most timeout_s for the server. */
int vs_db_connect_timeout(const char *url, int timeout_s, PGconn **db);
void vs_db_close(PGconn *db);

/*
 * Runs sql with n text parameters ($1..$n; a NULL entry is SQL NULL).
 * On success *res (may be NULL if the caller does not want rows) holds the
 * result, to be PQclear()ed. Returns 0, VS_ERR or VS_ETEMP.
 */
int vs_db_exec(PGconn *db, PGresult **res, const char *sql, int n, const char *const *params);

/*
 * From now on, statements with parameters that this thread runs on db are
 * prepared once per server session and then executed by name: parsing and
 * planning are paid once, not per call. For long-lived processes that run
 * the same statements again and again (vs-cgi under FastCGI, imports); one
 * connection per thread, up to VS_DB_PREPARED_MAX statements (others run
 * unprepared). Costs a round trip per new statement, so one-shot programs
 * do without.
 */
#define VS_DB_PREPARED_MAX 32
void vs_db_prepare_statements(PGconn *db);

/*
 * The same in two halves, so that statements on several connections run at
 * once, or the client works while the server does: vs_db_send() starts sql
 * (prepared as vs_db_exec would) and returns; vs_db_receive() waits for its
 * result (as vs_db_exec's *res) and consumes the connection's remaining
 * results. One statement at a time per connection.
 */
int vs_db_send(PGconn *db, const char *sql, int n, const char *const *params);
int vs_db_receive(PGconn *db, PGresult **res);

/* Waits until one of the n connections whose waiting[i] is set has its
 * result ready; returns its index, or VS_ERR/VS_ETEMP. */
int vs_db_ready(PGconn *const *db, const bool *waiting, int n);

/* A second connection with db's settings (host, database, user, …). */
int vs_db_connect_like(PGconn *db, PGconn **out);

/*
 * COPY ... FROM STDIN: runs sql and sends the len bytes of data (COPY's
 * text format, complete rows) as its input. Returns 0, VS_ERR (the data
 * or the statement refused) or VS_ETEMP.
 */
int vs_db_copy(PGconn *db, const char *sql, const char *data, size_t len);

/* Runs a statement without parameters or rows (BEGIN, COMMIT, DDL). */
int vs_db_run(PGconn *db, const char *sql);

/* Whether the server answers on db: a trivial statement, for health
 * checks. Returns 0, VS_ETEMP (down, or the connection dropped) or VS_ERR. */
int vs_db_ping(PGconn *db);

/* ROLLBACK if a transaction is open; keeps the current error message. */
void vs_db_rollback(PGconn *db);

/* The SQLSTATE of the last failed vs_db_exec in this thread, or "". */
const char *vs_db_sqlstate(void);

/* Value of row r, column c, or NULL for SQL NULL (borrowed from res). */
const char *vs_db_value(const PGresult *res, int r, int c);

#endif
