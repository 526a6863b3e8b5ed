#include <sys/select.h>

#include "db.h"
#include "error.h"
#include "log.h"

static _Thread_local char last_sqlstate[6];

/* The connection whose statements this thread prepares, and those it
 * prepared in the current server session (a reset connection is a new
 * session: its backend pid tells). */
static _Thread_local struct {
	const PGconn *conn;
	int pid;
	int n;
	uint64_t names[VS_DB_PREPARED_MAX];
} prepared;

const char *vs_db_url(const char *flag)
{
	const char *env;

	if (flag && *flag)
		return flag;
	env = getenv("VS_DATABASE_URL");
	return env && *env ? env : NULL;
}

/* libpq messages end with a newline and may span lines: keep the first. */
static void first_line(const char *msg, char *out, size_t n)
{
	size_t len = strcspn(msg ? msg : "", "\n");

	snprintf(out, n, "%.*s", (int)len, msg ? msg : "");
}

int vs_db_connect(const char *url, PGconn **db)
{
	return vs_db_connect_timeout(url, VS_DB_CONNECT_TIMEOUT_S, db);
}

int vs_db_connect_timeout(const char *url, int timeout_s, PGconn **db)
{
	char timeout[16];
	/* dbname last: settings in the URL override these defaults. */
	const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *vals[] = {timeout, vs_log_progname(), url, NULL};
	char msg[512];
	PGconn *c;

	*db = NULL;
	snprintf(timeout, sizeof(timeout), "%d", timeout_s);
	c = PQconnectdbParams(keys, vals, 1);
	if (!c)
		return vs_fail(VS_ETEMP, VS_E_UNAVAILABLE, "cannot connect to the database: out of memory");
	if (PQstatus(c) != CONNECTION_OK) {
		first_line(PQerrorMessage(c), msg, sizeof(msg));
		PQfinish(c);
		/* A malformed URL is a usage problem; anything else may pass. */
		if (strstr(msg, "invalid") && strstr(msg, "URI"))
			return vs_fail(VS_ERR, VS_E_INVALID, "bad database URL: %s", msg);
		return vs_fail(VS_ETEMP, VS_E_UNAVAILABLE, "cannot connect to the database: %s", msg);
	}
	*db = c;
	return 0;
}

void vs_db_close(PGconn *db)
{
	if (db == prepared.conn)
		prepared.conn = NULL;
	if (db)
		PQfinish(db);
}

static bool transient(const char *state)
{
	return !strncmp(state, "08", 2) || !strncmp(state, "53", 2) ||
	       !strncmp(state, "57P", 3) || !strcmp(state, "40001") || !strcmp(state, "40P01");
}


void vs_db_prepare_statements(PGconn *db)
{
	prepared.conn = db;
	prepared.pid = 0;
	prepared.n = 0;
}

/* FNV-1a: the statement's name is a function of its text. */
static uint64_t sql_hash(const char *sql)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *sql; sql++)
		h = (h ^ (unsigned char)*sql) * 0x100000001b3ULL;
	return h;
}

/* The name of sql prepared on db (prepared now if it was not), in name;
 * "" when it cannot be (too many: run it unnamed); NULL and *r the error
 * when preparing it failed. */
static const char *prepared_name(PGconn *db, const char *sql, int n, char *name, size_t size, PGresult **r)
{
	uint64_t h = sql_hash(sql);
	int i;

	*r = NULL;
	if (prepared.pid != PQbackendPID(db)) {
		prepared.pid = PQbackendPID(db);
		prepared.n = 0;
	}
	snprintf(name, size, "vs_%016llx", (unsigned long long)h);
	for (i = 0; i < prepared.n && prepared.names[i] != h; i++)
		;
	if (i == prepared.n) {
		if (prepared.n == VS_DB_PREPARED_MAX)
			return "";
		*r = PQprepare(db, name, sql, n, NULL);
		if (!*r || PQresultStatus(*r) != PGRES_COMMAND_OK)
			return NULL; /* its error is the statement's */
		PQclear(*r);
		*r = NULL;
		prepared.names[prepared.n++] = h;
	}
	return name;
}

static PGresult *exec_prepared(PGconn *db, const char *sql, int n, const char *const *params)
{
	char buf[24];
	PGresult *r;
	const char *name = prepared_name(db, sql, n, buf, sizeof(buf), &r);

	if (!name)
		return r;
	if (!*name)
		return PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
	return PQexecPrepared(db, name, n, params, NULL, NULL, 0);
}

/* Turns a result into 0 (*res holds it if res is not NULL) or the error. */
static int check(PGconn *db, PGresult *r, PGresult **res)
{
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	const char *state;
	char msg[512];

	if (res)
		*res = NULL;
	last_sqlstate[0] = '\0';
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (res)
			*res = r;
		else
			PQclear(r);
		return 0;
	}
	state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	snprintf(last_sqlstate, sizeof(last_sqlstate), "%s", state ? state : "");
	first_line(r ? PQresultErrorMessage(r) : PQerrorMessage(db), msg, sizeof(msg));
	PQclear(r); /* state pointed into it: last_sqlstate is the copy */
	if (PQstatus(db) != CONNECTION_OK || transient(last_sqlstate))
		return vs_fail(VS_ETEMP, VS_E_UNAVAILABLE, "database unavailable: %s", msg);
	return vs_fail(VS_ERR, VS_E_DATABASE, "database: %s", msg);
}

int vs_db_exec(PGconn *db, PGresult **res, const char *sql, int n, const char *const *params)
{
	PGresult *r = db == prepared.conn && n > 0 ? exec_prepared(db, sql, n, params)
	                                           : PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);

	return check(db, r, res);
}

int vs_db_send(PGconn *db, const char *sql, int n, const char *const *params)
{
	char msg[512], buf[24];
	PGresult *r = NULL;
	const char *name = db == prepared.conn && n > 0 ? prepared_name(db, sql, n, buf, sizeof(buf), &r) : "";

	if (!name)
		return check(db, r, NULL);
	if (*name ? PQsendQueryPrepared(db, name, n, params, NULL, NULL, 0)
	          : PQsendQueryParams(db, sql, n, NULL, params, NULL, NULL, 0))
		return 0;
	first_line(PQerrorMessage(db), msg, sizeof(msg));
	return vs_fail(PQstatus(db) != CONNECTION_OK ? VS_ETEMP : VS_ERR,
	               PQstatus(db) != CONNECTION_OK ? VS_E_UNAVAILABLE : VS_E_DATABASE, "database: %s", msg);
}

int vs_db_receive(PGconn *db, PGresult **res)
{
	PGresult *r = PQgetResult(db), *extra;
	int ret = check(db, r, res);

	/* the end of the results (and anything after an error) */
	while ((extra = PQgetResult(db)))
		PQclear(extra);
	return ret;
}

int vs_db_ready(PGconn *const *db, const bool *waiting, int n)
{
	for (;;) {
		fd_set fds;
		int maxfd = -1;

		FD_ZERO(&fds);
		for (int i = 0; i < n; i++) {
			if (!waiting[i])
				continue;
			/* a broken connection is "ready": receiving reports it */
			if (!PQconsumeInput(db[i]) || !PQisBusy(db[i]))
				return i;
			FD_SET(PQsocket(db[i]), &fds);
			if (PQsocket(db[i]) > maxfd)
				maxfd = PQsocket(db[i]);
		}
		if (maxfd < 0)
			return vs_fail(VS_ERR, VS_E_INTERNAL, "no statement is running");
		if (select(maxfd + 1, &fds, NULL, NULL, NULL) < 0 && errno != EINTR)
			return vs_fail(VS_ETEMP, VS_E_UNAVAILABLE, "database: %s", strerror(errno));
	}
}

int vs_db_connect_like(PGconn *db, PGconn **out)
{
	PQconninfoOption *info = PQconninfo(db), *o;
	const char **keys = NULL, **vals = NULL;
	size_t n = 0;
	int ret;

	*out = NULL;
	if (!info)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	for (o = info; o->keyword; o++)
		n++;
	keys = calloc(n + 1, sizeof(*keys));
	vals = calloc(n + 1, sizeof(*vals));
	if (!keys || !vals) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	n = 0;
	for (o = info; o->keyword; o++)
		if (o->val) {
			keys[n] = o->keyword;
			vals[n++] = o->val;
		}
	*out = PQconnectdbParams(keys, vals, 0);
	if (!*out || PQstatus(*out) != CONNECTION_OK) {
		char msg[512];

		first_line(*out ? PQerrorMessage(*out) : "out of memory", msg, sizeof(msg));
		PQfinish(*out);
		*out = NULL;
		ret = vs_fail(VS_ETEMP, VS_E_UNAVAILABLE, "cannot connect to the database: %s", msg);
		goto out;
	}
	ret = 0;
out:
	free(keys);
	free(vals);
	PQconninfoFree(info);
	return ret;
}

/* COPY data goes to libpq in pieces of this size (it buffers them). */
#define COPY_PIECE (256 * 1024)

int vs_db_copy(PGconn *db, const char *sql, const char *data, size_t len)
{
	PGresult *r = PQexec(db, sql), *x;
	int ret, sent = 1;

	if (!r || PQresultStatus(r) != PGRES_COPY_IN)
		return check(db, r, NULL); /* refused before any data */
	PQclear(r);
	for (size_t off = 0; off < len && sent == 1; off += COPY_PIECE)
		sent = PQputCopyData(db, data + off, (int)(len - off < COPY_PIECE ? len - off : COPY_PIECE));
	/* the end, or after a failure an abort that makes the result say why */
	if (sent == 1)
		sent = PQputCopyEnd(db, NULL);
	else if (PQstatus(db) == CONNECTION_OK)
		PQputCopyEnd(db, "cannot send the data");
	ret = check(db, PQgetResult(db), NULL);
	while ((x = PQgetResult(db)))
		PQclear(x);
	return ret;
}

int vs_db_run(PGconn *db, const char *sql)
{
	return vs_db_exec(db, NULL, sql, 0, NULL);
}

int vs_db_ping(PGconn *db)
{
	return vs_db_run(db, "SELECT 1");
}

void vs_db_rollback(PGconn *db)
{
	PGresult *r;

	if (PQtransactionStatus(db) == PQTRANS_IDLE || PQstatus(db) != CONNECTION_OK)
		return;
	r = PQexec(db, "ROLLBACK");
	PQclear(r);
}

const char *vs_db_sqlstate(void)
{
	return last_sqlstate;
}

const char *vs_db_value(const PGresult *res, int r, int c)
{
	if (PQgetisnull(res, r, c))
		return NULL;
	return PQgetvalue(res, r, c);
}

int vs_db_query_json(PGconn *db, const char *sql, int n, const char *const *params, json_t *out)
{
	PGresult *r = NULL;
	int ret = vs_db_exec(db, &r, sql, n, params);

	for (int i = 0; ret == 0 && i < PQntuples(r); i++) {
		json_t *v = json_loads(PQgetvalue(r, i, 0), 0, NULL);

		if (v)
			json_array_append_new(out, v);
	}
	PQclear(r);
	return ret;
}

int vs_db_query_json_row(PGconn *db, const char *sql, int n, const char *const *params, json_t **row)
{
	PGresult *r = NULL;
	int ret = vs_db_exec(db, &r, sql, n, params);

	*row = NULL;
	if (ret == 0 && PQntuples(r) > 0 && !(*row = json_loads(PQgetvalue(r, 0, 0), 0, NULL)))
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "a row is not JSON");
	PQclear(r);
	return ret;
}
