#include "db.h"
#include "error.h"
#include "migrate.h"

/* pg_advisory_lock key: "vs" migrations. */
#define MIGRATE_LOCK_KEY "7673"

static const char create_table[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version text PRIMARY KEY,"
	" applied_at timestamptz NOT NULL DEFAULT now())";

static int bootstrap(PGconn *db)
{
	int ret;

	/* Quiet the NOTICE that IF NOT EXISTS raises on every later run. */
	ret = vs_db_run(db, "SET client_min_messages = warning");
	if (ret == 0)
		ret = vs_db_run(db, create_table);
	return ret;
}

static int is_applied(PGconn *db, const char *name, bool *applied)
{
	const char *p[] = {name};
	PGresult *r;
	int ret = vs_db_exec(db, &r, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, p);

	if (ret < 0)
		return ret;
	*applied = PQntuples(r) > 0;
	PQclear(r);
	return 0;
}

static int apply_one(PGconn *db, const struct vs_migration *m)
{
	const char *p[] = {m->name};
	PGresult *r;
	int ret;

	ret = vs_db_run(db, "BEGIN");
	if (ret < 0)
		return ret;
	/* The file may hold many statements: PQexec runs them all. */
	r = PQexec(db, m->sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *msg = PQresultErrorMessage(r);
		size_t len = strcspn(msg, "\n");

		ret = vs_fail(PQstatus(db) == CONNECTION_OK ? VS_ERR : VS_ETEMP, VS_E_DATABASE,
		              "migration %s failed: %.*s", m->name, (int)len, msg);
		PQclear(r);
		vs_db_rollback(db);
		return ret;
	}
	PQclear(r);
	ret = vs_db_exec(db, NULL, "INSERT INTO schema_migrations (version) VALUES ($1)", 1, p);
	if (ret == 0)
		ret = vs_db_run(db, "COMMIT");
	if (ret < 0) {
		vs_error_prefix("migration %s", m->name);
		vs_db_rollback(db);
	}
	return ret;
}

int vs_migrate_up(PGconn *db, void (*on_applied)(const char *name, void *ctx), void *ctx)
{
	/* Lock first: concurrent CREATE TABLE IF NOT EXISTS can still collide. */
	int ret = vs_db_run(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")");

	if (ret == 0)
		ret = bootstrap(db);
	for (const struct vs_migration *m = vs_migrations; ret == 0 && m->name; m++) {
		bool applied = false;

		ret = is_applied(db, m->name, &applied);
		if (ret < 0)
			break;
		if (applied)
			continue;
		ret = apply_one(db, m);
		if (ret < 0)
			break;
		if (on_applied)
			on_applied(m->name, ctx);
	}
	if (PQstatus(db) == CONNECTION_OK) {
		PGresult *r = PQexec(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
		PQclear(r);
	}
	return ret;
}

int vs_migrate_status(PGconn *db, json_t **status)
{
	PGresult *r = NULL;
	json_t *out = NULL;
	bool exists;
	int ret;

	*status = NULL;
	ret = vs_db_exec(db, &r, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL);
	if (ret < 0)
		return ret;
	exists = !strcmp(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	/* Without the table nothing is applied yet: list all as pending. */
	ret = vs_db_exec(db, &r,
	                 exists ? "SELECT version, to_char(applied_at AT TIME ZONE 'UTC',"
	                          " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM schema_migrations"
	                          " ORDER BY version"
	                        : "SELECT NULL, NULL WHERE false",
	                 0, NULL);
	if (ret < 0)
		return ret;
	out = json_array();
	for (const struct vs_migration *m = vs_migrations; m->name; m++) {
		json_t *row = json_object();
		const char *at = NULL;

		for (int i = 0; i < PQntuples(r); i++)
			if (!strcmp(PQgetvalue(r, i, 0), m->name))
				at = PQgetvalue(r, i, 1);
		json_object_set_new(row, "version", json_string(m->name));
		json_object_set_new(row, "applied_at", at ? json_string(at) : json_null());
		json_array_append_new(out, row);
	}
	for (int i = 0; i < PQntuples(r); i++) {
		const char *v = PQgetvalue(r, i, 0);
		bool known = false;

		for (const struct vs_migration *m = vs_migrations; m->name; m++)
			known = known || !strcmp(m->name, v);
		if (!known) {
			json_t *row = json_object();

			json_object_set_new(row, "version", json_string(v));
			json_object_set_new(row, "applied_at", json_string(PQgetvalue(r, i, 1)));
			json_object_set_new(row, "unknown", json_true());
			json_array_append_new(out, row);
		}
	}
	PQclear(r);
	*status = out;
	return 0;
}
