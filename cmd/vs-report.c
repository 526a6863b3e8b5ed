/*
 * vs-report: quality-of-experience and engagement figures from viewing
 * sessions, as JSON, CSV or a self-contained HTML page; and bulk import of
 * sessions.
 *
 *   vs-report [options] summary | video ID | qoe | retention ID | alerts
 *   vs-report [options] import < sessions.ndjson
 */
#include <math.h>

#include "analytics.h"
#include "clock.h"
#include "db.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "opt.h"
#include "record.h"
#include "report.h"
#include "reportfmt.h"

enum {
	OPT_SINCE = 0x100,
	OPT_UNTIL,
	OPT_FORMAT,
	OPT_OUTPUT,
	OPT_LIMIT,
	OPT_MIN_VIEWS,
	OPT_IP,
};

static const struct vs_option options[] = {
	{OPT_SINCE, 0, "since", "TIME", "sessions started from TIME: epoch seconds, ISO 8601, or a span ago (7d, 24h)"},
	{OPT_UNTIL, 0, "until", "TIME", "sessions started before TIME (same forms)"},
	{OPT_FORMAT, 'f', "format", "FORMAT", "json (default), csv or html"},
	{OPT_OUTPUT, 'o', "output", "FILE", "write the report to FILE (atomically) instead of standard output"},
	{OPT_LIMIT, 'n', "limit", "N", "rows of top lists: videos, devices, browsers (default: 20)"},
	{OPT_MIN_VIEWS, 0, "min-views", "N", "alerts: views before a video's completion counts (default: 10)"},
	{OPT_IP, 0, "ip", "POLICY", "import: keep addresses truncate (default), full, or none ($VS_ANALYTICS_IP)"},
	{0},
};

static const struct vs_command cmd = {
	.name = "vs-report",
	.synopsis = "[options] summary | video ID | qoe | retention ID | alerts\n"
	            "[options] import < sessions",
	.summary = "Quality-of-experience and engagement figures from viewing sessions",
	.subcommands = "summary video qoe retention alerts import",
	.options = options,
	.common = VS_COMMON_DATABASE,
};

enum format { FORMAT_JSON, FORMAT_CSV, FORMAT_HTML };

static int write_report(const json_t *rep, enum format fmt, FILE *f)
{
	if (fmt == FORMAT_CSV)
		return vs_report_write_csv(rep, f);
	if (fmt == FORMAT_HTML)
		return vs_report_write_html(rep, f);
	return vs_record_write(f, rep);
}

/* The report to path, under a temporary name renamed into place. */
static int write_file(const json_t *rep, enum format fmt, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret;

	if (!f)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	ret = write_report(rep, fmt, f);
	if (fclose(f) != 0 && ret == 0)
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if (ret == 0)
		ret = vs_write_file_atomic(path, buf, len);
	free(buf);
	return ret;
}

/* import: every valid line in one transaction; bad lines reported with
 * their numbers and skipped; a summary record last. */
static int import(PGconn *db, enum vs_analytics_ip policy, int *status)
{
	struct vs_analytics_source src = {.import = true, .ip_policy = policy};
	struct vs_reader *r = vs_reader_new(stdin, "stdin");
	long long imported = 0, rejected = 0;
	json_t *s = NULL, *sum;
	int ret, got;

	if (!r)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	vs_db_prepare_statements(db);
	if ((ret = vs_db_run(db, "BEGIN")) < 0) {
		vs_reader_free(r);
		return ret;
	}
	while ((got = vs_record_read(r, &s)) > 0) {
		int e = got == VS_RECORD_BAD ? VS_ERR : vs_analytics_record(db, NULL, s, &src);

		if (e == VS_ETEMP || (e < 0 && !strcmp(vs_error_code(), VS_E_DATABASE))) {
			/* the transaction is gone: nothing of this import stays */
			vs_error_prefix("stdin:%zu", vs_reader_line(r));
			json_decref(s);
			ret = e;
			break;
		}
		if (e < 0) {
			rejected++;
			*status = vs_exit_worse(*status, VS_EXIT_FAILED);
			if (got != VS_RECORD_BAD) { /* the reader reported those */
				vs_log_error("stdin:%zu: %s", vs_reader_line(r), vs_error_message());
				vs_record_set_last_error(s);
				json_object_set_new(s, "line", json_integer((json_int_t)vs_reader_line(r)));
			}
			ret = vs_record_write(stdout, s);
		} else {
			imported++;
		}
		json_decref(s);
		if (ret < 0)
			break;
	}
	if (got < 0 && ret == 0)
		ret = got;
	if (ret == 0)
		ret = vs_db_run(db, "COMMIT");
	else
		vs_db_rollback(db);
	vs_reader_free(r);
	if (ret < 0)
		return ret;
	sum = json_pack("{s:{s:I,s:I}}", "import", "imported", (json_int_t)imported, "rejected", (json_int_t)rejected);
	ret = vs_record_write(stdout, sum);
	json_decref(sum);
	return ret;
}

int main(int argc, char **argv)
{
	struct vs_report_opts ro = VS_REPORT_OPTS_INIT;
	struct vs_opt opt = VS_OPT_INIT(&cmd, argc, argv);
	const char *arg, *url, *sub, *video = NULL, *output = NULL, *ip = getenv("VS_ANALYTICS_IP");
	enum vs_analytics_ip policy;
	enum format fmt = FORMAT_JSON;
	double now = vs_clock_now();
	long long n;
	int c, status = VS_EXIT_OK, ret = 0;
	json_t *rep = NULL;
	PGconn *db = NULL;

	vs_log_init(argv[0]);
	ro.concurrent = true;
	while ((c = vs_opt_next(&opt, &arg)) > 0) {
		switch (c) {
		case OPT_SINCE:
		case OPT_UNTIL:
			if (vs_parse_time(arg, true, now, c == OPT_SINCE ? &ro.since : &ro.until) < 0)
				return vs_usage_error(&cmd, "--%s: %s", c == OPT_SINCE ? "since" : "until", vs_error_message());
			break;
		case OPT_FORMAT:
			if (!strcmp(arg, "json"))
				fmt = FORMAT_JSON;
			else if (!strcmp(arg, "csv"))
				fmt = FORMAT_CSV;
			else if (!strcmp(arg, "html"))
				fmt = FORMAT_HTML;
			else
				return vs_usage_error(&cmd, "--format: '%s' is not json, csv or html", arg);
			break;
		case OPT_OUTPUT: output = arg; break;
		case OPT_LIMIT:
			if (vs_opt_long(&cmd, "limit", arg, 1, 10000, &n) < 0)
				return VS_EXIT_USAGE;
			ro.limit = (int)n;
			break;
		case OPT_MIN_VIEWS:
			if (vs_opt_long(&cmd, "min-views", arg, 1, 1000000000, &n) < 0)
				return VS_EXIT_USAGE;
			ro.min_views = (int)n;
			break;
		case OPT_IP: ip = arg; break;
		}
	}
	if (c < 0)
		return vs_opt_exit(c);
	vs_opt_release(&opt);
	if (opt.optind == argc)
		return vs_usage_error(&cmd, "no command: use summary, video, qoe, retention, alerts or import");
	sub = argv[opt.optind++];
	if (!strcmp(sub, "video") || !strcmp(sub, "retention")) {
		if (opt.optind == argc)
			return vs_usage_error(&cmd, "%s needs a video id or slug", sub);
		video = argv[opt.optind++];
	} else if (strcmp(sub, "summary") && strcmp(sub, "qoe") && strcmp(sub, "alerts") && strcmp(sub, "import")) {
		return vs_usage_error(&cmd, "unknown command '%s'", sub);
	}
	if (opt.optind != argc)
		return vs_usage_error(&cmd, "too many arguments");
	if (isfinite(ro.since) && isfinite(ro.until) && ro.since >= ro.until)
		return vs_usage_error(&cmd, "--since must come before --until");
	if (vs_analytics_ip_parse(ip, &policy) < 0)
		return vs_usage_error(&cmd, "--ip: %s", vs_error_message());
	url = vs_db_url(opt.common.database);
	if (!url)
		return vs_usage_error(&cmd, "it needs a database: set VS_DATABASE_URL or give --database");
	if ((ret = vs_db_connect(url, &db)) < 0) {
		vs_log_error("%s", vs_error_message());
		return vs_exit_for(ret);
	}

	if (!strcmp(sub, "import"))
		ret = import(db, policy, &status);
	else if (!strcmp(sub, "summary"))
		ret = vs_report_summary(db, &ro, &rep);
	else if (!strcmp(sub, "video"))
		ret = vs_report_video(db, video, &ro, &rep);
	else if (!strcmp(sub, "qoe"))
		ret = vs_report_qoe(db, &ro, &rep);
	else if (!strcmp(sub, "retention"))
		ret = vs_report_retention(db, video, &ro, &rep);
	else
		ret = vs_report_alerts(db, &ro, &rep);
	if (ret == 0 && rep) {
		ret = output ? write_file(rep, fmt, output) : write_report(rep, fmt, stdout);
		/* cron mails the output of a run that fails: a critical alert fails */
		if (ret == 0 && !strcmp(sub, "alerts") && json_integer_value(json_object_get(rep, "critical")) > 0)
			status = VS_EXIT_FAILED;
	}
	if (ret < 0) {
		vs_log_error("%s", vs_error_message());
		status = vs_exit_worse(status, vs_exit_for(ret));
	}
	json_decref(rep);
	vs_db_close(db);
	if (vs_close_stdout() < 0)
		status = VS_EXIT_FAILED;
	return status;
}
