/*
 * vs-progress: viewers' progress — resume position, completion, watch count.
 *
 *   vs-progress set --user U --video V --position S [--duration S] [--at TIME]
 *   vs-progress get --user U [--video V]
 *   vs-progress import < events       (NDJSON: user, video, position, duration?, at?)
 *   vs-progress export [--user U] [--video V]
 */
#include <math.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "prog.h"
#include "progress.h"
#include "record.h"

enum {
	OPT_USER = 0x100,
	OPT_VIDEO,
	OPT_POSITION,
	OPT_DURATION,
	OPT_AT,
	OPT_SHARE,
	OPT_TAIL,
	OPT_IDLE,
};

static const struct vs_option options[] = {
	{OPT_USER, 'u', "user", "UUID", "the viewer"},
	{OPT_VIDEO, 0, "video", "ID", "the video: id or slug"},
	{OPT_POSITION, 'p', "position", "SECONDS", "set: the position reached"},
	{OPT_DURATION, 0, "duration", "SECONDS", "set: the video's duration (default: from the database)"},
	{OPT_AT, 0, "at", "TIME", "set: when it happened: seconds since the epoch or ISO 8601 (default: now)"},
	{OPT_SHARE, 0, "complete-share", "FRACTION", "completed from this share of the duration", VS_OPT_DEFAULT(VS_PROGRESS_COMPLETE_SHARE)},
	{OPT_TAIL, 0, "complete-tail", "SECONDS", "or within this many seconds of the end", VS_OPT_DEFAULT(VS_PROGRESS_COMPLETE_TAIL_S)},
	{OPT_IDLE, 0, "idle", "SECONDS", "a new viewing session after this long idle", VS_OPT_DEFAULT(VS_PROGRESS_IDLE_S)},
	{0},
};

/* The program's settings, for its subcommands. */
struct run {
	struct vs_progress_rules rules;
	const char *user, *video, *position;
	double duration_s, at;
};

static int set(struct vs_prog *p)
{
	struct run *r = p->ctx;
	json_t *row = NULL;
	char *end = NULL;
	double pos;
	int ret;

	if (!r->user || !r->video || !r->position) {
		vs_usage_error(p->cmd, "set needs --user, --video and --position");
		return VS_PROG_USAGE;
	}
	pos = strtod(r->position, &end);
	if (*end || end == r->position) {
		vs_usage_error(p->cmd, "--position: '%s' is not a number", r->position);
		return VS_PROG_USAGE;
	}
	ret = vs_progress_record(p->db, r->user, r->video, pos, r->duration_s,
	                         isfinite(r->at) ? r->at : vs_clock_now(), &r->rules, &row);
	if (ret == 0)
		ret = vs_record_write(stdout, row);
	json_decref(row);
	return ret;
}

/* export: the rows of a viewer, a video, both or all */
static int export(struct vs_prog *p)
{
	struct run *r = p->ctx;
	json_t *rows = json_array(), *v;
	size_t i;
	int ret = vs_progress_get(p->db, r->user, r->video, rows);

	json_array_foreach(rows, i, v)
		if (ret == 0)
			ret = vs_record_write(stdout, v);
	json_decref(rows);
	return ret;
}

/* get: a viewer's rows */
static int get(struct vs_prog *p)
{
	struct run *r = p->ctx;

	if (!r->user) {
		vs_usage_error(p->cmd, "get needs --user");
		return VS_PROG_USAGE;
	}
	return export(p);
}

static int import(struct vs_prog *p)
{
	struct run *r = p->ctx;

	return vs_progress_import(p->db, stdin, "stdin", &r->rules, &p->status);
}

static const struct vs_subcommand commands[] = {
	{"set", set, VS_OPT_DB_NEEDED},
	{"get", get, VS_OPT_DB_NEEDED},
	{"import", import, VS_OPT_DB_NEEDED},
	{"export", export, VS_OPT_DB_NEEDED},
	{0},
};

static const struct vs_command cmd = {
	.name = "vs-progress",
	.synopsis = "[options] set --user UUID --video ID --position SECONDS [--duration S] [--at TIME]\n"
	            "[options] get --user UUID [--video ID]\n"
	            "[options] import < events\n"
	            "[options] export [--user UUID] [--video ID]",
	.summary = "Read and write viewers' progress: resume position, completion, watch count",
	.commands = commands,
	.options = options,
	.common = VS_COMMON_DATABASE,
};

int main(int argc, char **argv)
{
	struct run r = {.rules = VS_PROGRESS_RULES_INIT, .at = NAN};
	struct vs_opt opt = VS_OPT_INIT(&cmd, argc, argv);
	struct vs_prog p;
	const char *arg;
	int c;

	vs_log_init(argv[0]);
	while ((c = vs_opt_next(&opt, &arg)) > 0) {
		switch (c) {
		case OPT_USER: r.user = arg; break;
		case OPT_VIDEO: r.video = arg; break;
		case OPT_POSITION: r.position = arg; break;
		case OPT_DURATION:
			if (vs_opt_double(&cmd, "duration", arg, 0.001, 1e7, &r.duration_s) < 0)
				return VS_EXIT_USAGE;
			break;
		case OPT_AT:
			r.at = vs_progress_parse_time(arg);
			if (!isfinite(r.at))
				return vs_usage_error(&cmd, "--at: '%s' is not a time", arg);
			break;
		case OPT_SHARE:
			if (vs_opt_double(&cmd, "complete-share", arg, 0.01, 1, &r.rules.complete_share) < 0)
				return VS_EXIT_USAGE;
			break;
		case OPT_TAIL:
			if (vs_opt_double(&cmd, "complete-tail", arg, 0, 86400, &r.rules.complete_tail_s) < 0)
				return VS_EXIT_USAGE;
			break;
		case OPT_IDLE:
			if (vs_opt_double(&cmd, "idle", arg, 1, 86400 * 30, &r.rules.idle_s) < 0)
				return VS_EXIT_USAGE;
			break;
		}
	}
	if (c < 0)
		return vs_opt_exit(c);
	vs_prog_init(&p, &opt);
	return vs_prog_dispatch(&p, &r);
}
