/*
 * vs-db: the database schema.
 *
 *   vs-db migrate     apply the pending migrations, each in a transaction
 *   vs-db status      list applied and pending migrations
 */
#include "db.h"
#include "error.h"
#include "log.h"
#include "migrate.h"
#include "opt.h"
#include "record.h"

enum {
	OPT_JSON = 0x100,
};

static const struct vs_option options[] = {
	{OPT_JSON, 0, "json", NULL, "status: one JSON object per migration instead of text"},
	{0},
};

static const struct vs_command cmd = {
	.name = "vs-db",
	.synopsis = "[options] migrate\n[options] status [--json]",
	.summary = "Create and upgrade the vs database schema",
	.subcommands = "migrate status",
	.options = options,
	.common = VS_COMMON_DATABASE,
};

static void applied(const char *name, void *ctx)
{
	int *n = ctx;

	(*n)++;
	vs_log_info("applied %s", name);
	printf("applied %s\n", name);
}

static int migrate(PGconn *db)
{
	int n = 0;
	int ret = vs_migrate_up(db, applied, &n);

	if (ret < 0)
		return ret;
	if (n == 0)
		vs_log_info("the schema is up to date");
	return 0;
}

static int status(PGconn *db, bool as_json, int *pending)
{
	json_t *rows = NULL, *row;
	size_t i;
	int ret = vs_migrate_status(db, &rows);

	if (ret < 0)
		return ret;
	*pending = 0;
	json_array_foreach(rows, i, row) {
		const char *at = vs_json_str(row, "applied_at");

		*pending += at == NULL;
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

int main(int argc, char **argv)
{
	struct vs_opt opt = VS_OPT_INIT(&cmd, argc, argv);
	const char *arg, *url, *sub;
	bool as_json = false;
	int c, ret, pending = 0;
	PGconn *db = NULL;

	vs_log_init(argv[0]);
	while ((c = vs_opt_next(&opt, &arg)) > 0)
		if (c == OPT_JSON)
			as_json = true;
	if (c < 0)
		return vs_opt_exit(c);
	vs_opt_release(&opt);
	if (opt.optind != argc - 1)
		return vs_usage_error(&cmd, opt.optind == argc ? "no command: use 'migrate' or 'status'"
		                                               : "too many arguments");
	sub = argv[opt.optind];
	if (strcmp(sub, "migrate") && strcmp(sub, "status"))
		return vs_usage_error(&cmd, "unknown command '%s': use 'migrate' or 'status'", sub);
	url = vs_db_url(opt.common.database);
	if (!url)
		return vs_usage_error(&cmd, "no database: set VS_DATABASE_URL or give --database URL");

	ret = vs_db_connect(url, &db);
	if (ret == 0)
		ret = !strcmp(sub, "migrate") ? migrate(db) : status(db, as_json, &pending);
	if (ret < 0)
		vs_log_error("%s", vs_error_message());
	vs_db_close(db);
	if (vs_close_stdout() < 0 && ret == 0)
		ret = VS_ERR;
	return vs_exit_for(ret);
}
