#include "db.h"
#include "error.h"
#include "log.h"

static _Thread_local char last_sqlstate[6];

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
	const char *vals[] = {timeout, vs_progname(), url, NULL};
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
	if (db)
		PQfinish(db);
}

static bool transient(const char *state)
{
	return !strncmp(state, "08", 2) || !strncmp(state, "53", 2) ||
	       !strncmp(state, "57P", 3) || !strcmp(state, "40001") || !strcmp(state, "40P01");
}

int vs_db_exec(PGconn *db, PGresult **res, const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
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
	PQclear(r);
	if (PQstatus(db) != CONNECTION_OK || (state && transient(state)))
		return vs_fail(VS_ETEMP, VS_E_UNAVAILABLE, "database unavailable: %s", msg);
	return vs_fail(VS_ERR, VS_E_DATABASE, "database: %s", msg);
}

int vs_db_run(PGconn *db, const char *sql)
{
	return vs_db_exec(db, NULL, sql, 0, NULL);
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
