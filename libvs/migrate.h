#ifndef VS_MIGRATE_H
#define VS_MIGRATE_H

#include <jansson.h>
#include <libpq-fe.h>

#include "vs.h"

/*
 * Schema migrations: the numbered files of sql/, compiled into the library
 * by scripts/embed-sql (so an installed vs-db needs no data files). Applied
 * migrations are listed in the table schema_migrations(version, applied_at).
 */

struct vs_migration {
	const char *name; /* file name without ".sql": "001_initial" */
	const char *sql;
};

/* In order; ends with an entry whose name is NULL. */
extern const struct vs_migration vs_migrations[];

/*
 * Applies every pending migration, each in its own transaction, in order,
 * holding an advisory lock so that concurrent runs wait for each other.
 * on_applied (may be NULL) is called after each one. Returns 0, VS_ERR
 * (a migration failed: it was rolled back, message names it) or VS_ETEMP.
 */
int vs_migrate_up(PGconn *db, void (*on_applied)(const char *name, void *ctx), void *ctx);

/*
 * *status (new reference): an array of {"version": name, "applied_at": time
 * or null}, one per known migration, plus any applied version this build
 * does not know (flagged "unknown": true).
 */
int vs_migrate_status(PGconn *db, json_t **status);

#endif
