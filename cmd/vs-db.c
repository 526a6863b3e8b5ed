/*
 * vs-db: the database schema.
 *
 *   vs-db migrate     apply the pending migrations, each in a transaction
 *   vs-db status      list applied and pending migrations
 */
#include "log.h"
#include "migrate.h"
#include "prog.h"
#include "record.h"

static void applied(const char *name, void *ctx)
{
	int *n = ctx;

	(*n)++;
	vs_log_info("applied %s", name);
	printf("applied %s\n", name);
}

static bool as_json; /* status --json */

static int migrate(struct vs_prog *p)
{
	int n = 0;
	int ret = vs_migrate_up(p->db, applied, &n);

	if (ret < 0)
		return ret;
	if (n == 0)
		vs_log_info("the schema is up to date");
	return 0;
}

static int status(struct vs_prog *p)
{
	json_t *rows = NULL, *row;
	size_t i;
	int ret = vs_migrate_status(p->db, &rows);

	if (ret < 0)
		return ret;
	json_array_foreach(rows, i, row) {
		const char *at = vs_json_str(row, "applied_at");

		if (as_json)
			ret = vs_record_write(stdout, row);
		else
			printf("%-8s %-40s %s\n", json_is_true(json_object_get(row, "unknown")) ? "unknown" :
			       at ? "applied" : "pending", vs_json_str(row, "version"), at ? at : "");
		if (ret < 0)
			break;
	}
	json_decref(rows);
	return ret;
}

static const struct vs_subcommand commands[] = {
	{"migrate", migrate, VS_OPT_DB_NEEDED},
	{"status", status, VS_OPT_DB_NEEDED},
	{0},
};

int main(int argc, char **argv)
{
	const struct vs_command cmd = {
		.name = "vs-db",
		.synopsis = "[options] migrate\n[options] status [--json]",
		.summary = "Create and upgrade the vs database schema",
		.commands = commands,
		.common = VS_COMMON_DATABASE,
		.options = (const struct vs_option[]){
			VS_OPT_SET(0, "json", as_json, "status: one JSON object per migration instead of text"),
			{0},
		},
	};
	struct vs_prog p;

	if (!vs_prog_start(&p, &cmd, argc, argv, NULL))
		return p.status;
	return vs_prog_dispatch(&p, NULL);
}
