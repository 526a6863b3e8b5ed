/*
 * vs-report: quality-of-experience and engagement figures from viewing
 * sessions, as JSON, CSV or a self-contained HTML page; and bulk import of
 * sessions.
 *
 *   vs-report [options] summary | video ID | qoe | retention ID | alerts
 *   vs-report [options] import < sessions.ndjson
 *   vs-report [--rebuild] rollup
 */
#include <math.h>

#include "analytics.h"
#include "clock.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "prog.h"
#include "record.h"
#include "report.h"
#include "rollupstore.h"
#include "reportfmt.h"

enum format { FORMAT_JSON, FORMAT_CSV, FORMAT_HTML };

static int write_report(const json_t *rep, enum format fmt, FILE *f)
{
	if (fmt == FORMAT_CSV)
		return vs_reportfmt_write_csv(rep, f);
	if (fmt == FORMAT_HTML)
		return vs_reportfmt_write_html(rep, f);
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
		ret = vs_fsutil_write_atomic(path, buf, len);
	free(buf);
	return ret;
}

/* The program's settings, for its subcommands. */
struct run {
	struct vs_report_opts ro;
	enum vs_analytics_ip policy;
	int fmt;            /* enum format */
	const char *output;
	double now;         /* what --since 7d counts back from */
	bool rebuild;       /* rollup --rebuild */
};

/* A report, to stdout or --output. */
static int report(struct vs_prog *p)
{
	const struct run *r = p->ctx;
	json_t *rep = NULL;
	int ret = vs_report_make(p->db, p->sub->tag, p->n_args ? p->args[0] : NULL, &r->ro, &rep);

	if (ret == 0)
		ret = r->output ? write_file(rep, r->fmt, r->output) : write_report(rep, r->fmt, stdout);
	/* cron mails the output of a run that fails: a critical alert fails */
	if (ret == 0 && p->sub->tag == VS_REPORT_ALERTS && json_integer_value(json_object_get(rep, "critical")) > 0)
		p->status = VS_EXIT_FAILED;
	json_decref(rep);
	return ret;
}

static int import(struct vs_prog *p)
{
	const struct run *r = p->ctx;

	return vs_analytics_import(p->db, stdin, "stdin", r->policy, &p->status);
}

static int rollup(struct vs_prog *p)
{
	const struct run *r = p->ctx;
	json_t *rec = NULL;
	int ret = vs_rollup_maintain(p->db, r->rebuild, &rec);

	if (ret == 0)
		ret = vs_record_write(stdout, rec);
	json_decref(rec);
	return ret;
}

static const struct vs_subcommand commands[] = {
	{"summary", report, VS_OPT_DB_NEEDED, .tag = VS_REPORT_SUMMARY},
	{"video", report, VS_OPT_DB_NEEDED, 1, 1, "a video id or slug", VS_REPORT_VIDEO},
	{"qoe", report, VS_OPT_DB_NEEDED, .tag = VS_REPORT_QOE},
	{"retention", report, VS_OPT_DB_NEEDED, 1, 1, "a video id or slug", VS_REPORT_RETENTION},
	{"alerts", report, VS_OPT_DB_NEEDED, .tag = VS_REPORT_ALERTS},
	{"import", import, VS_OPT_DB_NEEDED},
	{"rollup", rollup, VS_OPT_DB_NEEDED},
	{0},
};

enum { OPT_SINCE = 0x100, OPT_UNTIL };

/* --since, --until: epoch seconds, ISO 8601, or a span ago */
static int time_option(const struct vs_command *cmd, int id, const char *arg, void *ctx)
{
	struct run *r = ctx;

	if (vs_clock_parse_time(arg, true, r->now, id == OPT_SINCE ? &r->ro.since : &r->ro.until) < 0)
		return vs_opt_usage_error(cmd, "--%s: %s", id == OPT_SINCE ? "since" : "until", vs_error_message());
	return 0;
}

int main(int argc, char **argv)
{
	struct run r = {.ro = VS_REPORT_OPTS_INIT, .fmt = FORMAT_JSON, .now = vs_clock_now()};
	const char *ip = getenv("VS_ANALYTICS_IP");
	const struct vs_command cmd = {
		.name = "vs-report",
		.synopsis = "[options] summary | video ID | qoe | retention ID | alerts\n"
		            "[options] import < sessions\n"
		            "[--rebuild] rollup",
		.summary = "Quality-of-experience and engagement figures from viewing sessions",
		.commands = commands,
		.on_option = time_option,
		.common = VS_COMMON_DATABASE,
		.options = (const struct vs_option[]){
			{OPT_SINCE, 0, "since", "TIME", "sessions started from TIME: epoch seconds, ISO 8601, or a span ago (7d, 24h)"},
			{OPT_UNTIL, 0, "until", "TIME", "sessions started before TIME (same forms)"},
			VS_OPT_CHOICE('f', "format", "FORMAT", r.fmt, "json|csv|html", "json (default), csv or html"),
			VS_OPT_STRING('o', "output", "FILE", r.output, "write the report to FILE (atomically) instead of standard output"),
			VS_OPT_INT('n', "limit", "N", r.ro.limit, 1, 10000, "rows of top lists: videos, devices, browsers",
			           VS_OPT_DEFAULT(VS_REPORT_LIMIT_DEFAULT)),
			VS_OPT_INT(0, "min-views", "N", r.ro.min_views, 1, 1000000000,
			           "alerts: views before a video's completion counts", VS_OPT_DEFAULT(VS_ALERT_MIN_VIEWS)),
			VS_OPT_SET(0, "exact", r.ro.exact, "every video's figures from the sessions themselves, not the rollups"),
			VS_OPT_INT(0, "exact-up-to", "N", r.ro.exact_up_to, 0, 1000000000,
			           "windows of up to N sessions: unique viewers and startup p50, p95 exact, not estimated",
			           VS_OPT_DEFAULT(VS_REPORT_EXACT_UP_TO_DEFAULT)),
			VS_OPT_SET(0, "rebuild", r.rebuild, "rollup: make the rollups again from the sessions"),
			VS_OPT_STRING(0, "ip", "POLICY", ip, "import: keep addresses truncate (default), full, or none ($VS_ANALYTICS_IP)"),
			{0},
		},
	};
	struct vs_prog p;

	r.ro.concurrent = true;
	if (!vs_prog_start(&p, &cmd, argc, argv, &r))
		return p.status;
	if (isfinite(r.ro.since) && isfinite(r.ro.until) && r.ro.since >= r.ro.until)
		return vs_opt_usage_error(&cmd, "--since must come before --until");
	if (vs_analytics_ip_parse(ip, &r.policy) < 0)
		return vs_opt_usage_error(&cmd, "--ip: %s", vs_error_message());
	return vs_prog_dispatch(&p, &r);
}
