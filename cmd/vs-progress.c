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
		vs_opt_usage_error(p->cmd, "set needs --user, --video and --position");
		return VS_PROG_USAGE;
	}
	pos = strtod(r->position, &end);
	if (*end || end == r->position) {
		vs_opt_usage_error(p->cmd, "--position: '%s' is not a number", r->position);
		return VS_PROG_USAGE;
	}
	ret = vs_progress_record(p->db, r->user, r->video, pos, r->duration_s,
	                         isfinite(r->at) ? r->at : vs_clock_now(), &r->rules, &row);
	return vs_record_emit(stdout, ret, row);
}

/* export: the rows of a viewer, a video, both or all */
static int export(struct vs_prog *p)
{
	struct run *r = p->ctx;
	json_t *rows = json_array();
	int ret = vs_progress_get(p->db, r->user, r->video, rows);

	return vs_record_emit(stdout, ret, rows);
}

/* get: a viewer's rows */
static int get(struct vs_prog *p)
{
	struct run *r = p->ctx;

	if (!r->user) {
		vs_opt_usage_error(p->cmd, "get needs --user");
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

enum { OPT_AT = 0x100 };

/* --at: epoch seconds or ISO 8601 */
static int at_option(const struct vs_command *cmd, int id, const char *arg, void *ctx)
{
	struct run *r = ctx;

	(void)id;
	r->at = vs_progress_parse_time(arg);
	return isfinite(r->at) ? 0 : vs_opt_usage_error(cmd, "--at: '%s' is not a time", arg);
}

int main(int argc, char **argv)
{
	struct run r = {.rules = VS_PROGRESS_RULES_INIT, .at = NAN};
	const struct vs_command cmd = {
		.name = "vs-progress",
		.synopsis = "[options] set --user UUID --video ID --position SECONDS [--duration S] [--at TIME]\n"
		            "[options] get --user UUID [--video ID]\n"
		            "[options] import < events\n"
		            "[options] export [--user UUID] [--video ID]",
		.summary = "Read and write viewers' progress: resume position, completion, watch count",
		.commands = commands,
		.on_option = at_option,
		.common = VS_COMMON_DATABASE,
		.options = (const struct vs_option[]){
			VS_OPT_STRING('u', "user", "UUID", r.user, "the viewer"),
			VS_OPT_STRING(0, "video", "ID", r.video, "the video: id or slug"),
			VS_OPT_STRING('p', "position", "SECONDS", r.position, "set: the position reached"),
			VS_OPT_DOUBLE(0, "duration", "SECONDS", r.duration_s, 0.001, 1e7,
			              "set: the video's duration (default: from the database)"),
			{OPT_AT, 0, "at", "TIME", "set: when it happened: seconds since the epoch or ISO 8601 (default: now)"},
			VS_OPT_DOUBLE(0, "complete-share", "FRACTION", r.rules.complete_share, 0.01, 1,
			              "completed from this share of the duration", VS_OPT_DEFAULT(VS_PROGRESS_COMPLETE_SHARE)),
			VS_OPT_DOUBLE(0, "complete-tail", "SECONDS", r.rules.complete_tail_s, 0, 86400,
			              "or within this many seconds of the end", VS_OPT_DEFAULT(VS_PROGRESS_COMPLETE_TAIL_S)),
			VS_OPT_DOUBLE(0, "idle", "SECONDS", r.rules.idle_s, 1, 86400 * 30,
			              "a new viewing session after this long idle", VS_OPT_DEFAULT(VS_PROGRESS_IDLE_S)),
			{0},
		},
	};
	struct vs_prog p;

	if (!vs_prog_start(&p, &cmd, argc, argv, &r))
		return p.status;
	return vs_prog_dispatch(&p, &r);
}
