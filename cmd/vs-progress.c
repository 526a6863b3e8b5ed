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
#include "db.h"
#include "error.h"
#include "log.h"
#include "opt.h"
#include "progress.h"
#include "record.h"

#define IMPORT_BATCH 500 /* events per transaction */

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
	{OPT_SHARE, 0, "complete-share", "FRACTION", "completed from this share of the duration (default: 0.9)"},
	{OPT_TAIL, 0, "complete-tail", "SECONDS", "or within this many seconds of the end (default: 30)"},
	{OPT_IDLE, 0, "idle", "SECONDS", "a new viewing session after this long idle (default: 1800)"},
	{0},
};

static const struct vs_command cmd = {
	.name = "vs-progress",
	.synopsis = "[options] set --user UUID --video ID --position SECONDS [--duration S] [--at TIME]\n"
	            "[options] get --user UUID [--video ID]\n"
	            "[options] import < events\n"
	            "[options] export [--user UUID] [--video ID]",
	.summary = "Read and write viewers' progress: resume position, completion, watch count",
	.subcommands = "set get import export",
	.options = options,
	.common = VS_COMMON_DATABASE,
};

/* Seconds since the epoch or ISO 8601; NAN when it is neither. */
static double parse_time(const char *s)
{
	double t;

	return vs_parse_time(s, false, 0, &t) == 0 && t > 0 ? t : NAN;
}

struct import {
	PGconn *db;
	struct vs_progress_rules rules;
	int in_batch, imported, rejected;
};

static int import_one(json_t *ev, void *ctx)
{
	struct import *im = ctx;
	/* the API's names (an exported row imports again), or the short ones */
	json_t *pos = json_object_get(ev, "current_time"), *dur = json_object_get(ev, "duration");
	json_t *at = json_object_get(ev, "last_watched_at");
	const char *user = vs_json_str(ev, "user_id"), *video = vs_json_str(ev, "video_id");
	double when = vs_clock_now();
	int ret;

	if (!pos || json_is_null(pos))
		pos = json_object_get(ev, "position");
	if (!at || json_is_null(at))
		at = json_object_get(ev, "at");
	if (!user)
		user = vs_json_str(ev, "user");
	if (!video)
		video = vs_json_str(ev, "video");

	if (!json_is_number(pos) || (dur && !json_is_null(dur) && !json_is_number(dur)))
		return vs_fail(VS_ERR, VS_E_INVALID, "'current_time' (or 'position', and 'duration') must be numbers");
	if (!user || !video)
		return vs_fail(VS_ERR, VS_E_INVALID, "'user_id' and 'video_id' (or 'user' and 'video') are required");
	if (at && json_is_number(at))
		when = json_number_value(at);
	else if (at && json_is_string(at))
		when = parse_time(json_string_value(at));
	if (!isfinite(when))
		return vs_fail(VS_ERR, VS_E_INVALID, "'last_watched_at' (or 'at') is not a time");
	if (im->in_batch == 0 && (ret = vs_db_run(im->db, "BEGIN")) < 0)
		return ret;
	ret = vs_progress_record(im->db, user, video, json_number_value(pos),
	                         json_is_number(dur) ? json_number_value(dur) : 0, when, &im->rules, NULL);
	if (ret == VS_ETEMP)
		return ret;
	if (++im->in_batch >= IMPORT_BATCH) {
		int c = vs_db_run(im->db, "COMMIT");

		im->in_batch = 0;
		if (c < 0)
			return c;
	}
	if (ret < 0)
		return ret;
	im->imported++;
	return 0;
}

/* import writes only what failed, then a summary: the events are many. */
static int import(PGconn *db, const struct vs_progress_rules *rules, int *status)
{
	struct import im = {.db = db, .rules = *rules};
	struct vs_reader *r = vs_reader_new(stdin, "stdin");
	json_t *ev = NULL, *sum;
	int ret = 0, got;

	if (!r)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	vs_db_prepare_statements(db); /* the same few statements, thousands of times */
	while ((got = vs_record_read(r, &ev)) > 0) {
		if (got == VS_RECORD_BAD) {
			im.rejected++;
			*status = vs_exit_worse(*status, VS_EXIT_FAILED);
			ret = vs_record_write(stdout, ev);
		} else if (!vs_record_failed(ev)) {
			int e = import_one(ev, &im);

			if (e == VS_ETEMP) {
				json_decref(ev);
				ret = e;
				break;
			}
			if (e < 0) {
				im.rejected++;
				vs_log_error("stdin:%zu: %s", vs_reader_line(r), vs_error_message());
				vs_record_set_last_error(ev);
				json_object_set_new(ev, "line", json_integer((json_int_t)vs_reader_line(r)));
				*status = vs_exit_worse(*status, VS_EXIT_FAILED);
				ret = vs_record_write(stdout, ev);
			}
		}
		json_decref(ev);
		if (ret < 0)
			break;
	}
	if (got < 0)
		ret = got;
	if (im.in_batch > 0) {
		if (ret == 0)
			ret = vs_db_run(db, "COMMIT");
		else
			vs_db_rollback(db);
	}
	vs_reader_free(r);
	if (ret < 0)
		return ret;
	sum = json_pack("{s:{s:i,s:i}}", "import", "imported", im.imported, "rejected", im.rejected);
	ret = vs_record_write(stdout, sum);
	json_decref(sum);
	return ret;
}

static int print_rows(json_t *rows)
{
	size_t i;
	json_t *v;

	json_array_foreach(rows, i, v)
		if (vs_record_write(stdout, v) < 0)
			return VS_ERR;
	return 0;
}

int main(int argc, char **argv)
{
	struct vs_progress_rules rules = VS_PROGRESS_RULES_INIT;
	struct vs_opt opt = VS_OPT_INIT(&cmd, argc, argv);
	const char *arg, *user = NULL, *video = NULL, *position = NULL, *url, *sub;
	double pos = NAN, dur = 0, at = NAN;
	int c, status = VS_EXIT_OK, ret = 0;
	PGconn *db = NULL;

	vs_log_init(argv[0]);
	while ((c = vs_opt_next(&opt, &arg)) > 0) {
		switch (c) {
		case OPT_USER: user = arg; break;
		case OPT_VIDEO: video = arg; break;
		case OPT_POSITION: position = arg; break;
		case OPT_DURATION:
			if (vs_opt_double(&cmd, "duration", arg, 0.001, 1e7, &dur) < 0)
				return VS_EXIT_USAGE;
			break;
		case OPT_AT:
			at = parse_time(arg);
			if (!isfinite(at))
				return vs_usage_error(&cmd, "--at: '%s' is not a time", arg);
			break;
		case OPT_SHARE:
			if (vs_opt_double(&cmd, "complete-share", arg, 0.01, 1, &rules.complete_share) < 0)
				return VS_EXIT_USAGE;
			break;
		case OPT_TAIL:
			if (vs_opt_double(&cmd, "complete-tail", arg, 0, 86400, &rules.complete_tail_s) < 0)
				return VS_EXIT_USAGE;
			break;
		case OPT_IDLE:
			if (vs_opt_double(&cmd, "idle", arg, 1, 86400 * 30, &rules.idle_s) < 0)
				return VS_EXIT_USAGE;
			break;
		}
	}
	if (c < 0)
		return vs_opt_exit(c);
	vs_opt_release(&opt);
	if (opt.optind != argc - 1)
		return vs_usage_error(&cmd, opt.optind == argc ? "no command: use set, get, import or export"
		                                               : "too many arguments");
	sub = argv[opt.optind];
	if (strcmp(sub, "set") && strcmp(sub, "get") && strcmp(sub, "import") && strcmp(sub, "export"))
		return vs_usage_error(&cmd, "unknown command '%s'", sub);
	if (!strcmp(sub, "set")) {
		char *end = NULL;

		if (!user || !video || !position)
			return vs_usage_error(&cmd, "set needs --user, --video and --position");
		pos = strtod(position, &end);
		if (*end || end == position)
			return vs_usage_error(&cmd, "--position: '%s' is not a number", position);
	}
	if (!strcmp(sub, "get") && !user)
		return vs_usage_error(&cmd, "get needs --user");
	url = vs_db_url(opt.common.database);
	if (!url)
		return vs_usage_error(&cmd, "it needs a database: set VS_DATABASE_URL or give --database");
	if ((ret = vs_db_connect(url, &db)) < 0) {
		vs_log_error("%s", vs_error_message());
		return vs_exit_for(ret);
	}

	if (!strcmp(sub, "set")) {
		json_t *row = NULL;

		ret = vs_progress_record(db, user, video, pos, dur, isfinite(at) ? at : vs_clock_now(), &rules, &row);
		if (ret == 0)
			ret = vs_record_write(stdout, row);
		json_decref(row);
	} else if (!strcmp(sub, "import")) {
		ret = import(db, &rules, &status);
	} else {
		json_t *rows = json_array();

		ret = vs_progress_get(db, user, video, rows);
		if (ret == 0)
			ret = print_rows(rows);
		json_decref(rows);
	}
	if (ret < 0) {
		vs_log_error("%s", vs_error_message());
		status = vs_exit_worse(status, vs_exit_for(ret));
	}
	vs_db_close(db);
	if (vs_close_stdout() < 0)
		status = VS_EXIT_FAILED;
	return status;
}
