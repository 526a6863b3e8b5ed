/*
 * vs-encode: the H.264/AAC quality ladder, poster and storyboard.
 *
 *   ... | vs-encode [options]
 *   vs-encode [options] --id ID
 */
#include <math.h>
#include <unistd.h>

#include "catalog.h"
#include "db.h"
#include "encode.h"
#include "error.h"
#include "ingest.h"
#include "log.h"
#include "opt.h"
#include "record.h"
#include "store.h"

enum {
	OPT_ID = 0x100,
	OPT_LADDER,
	OPT_PRESET,
	OPT_CRF,
	OPT_GOP,
	OPT_MAXRATE,
	OPT_AUDIO_BITRATE,
	OPT_STORYBOARD,
	OPT_THREADS,
	OPT_PLAN,
	OPT_FORCE,
	OPT_MEDIA_ROOT,
};

static const struct vs_option options[] = {
	{OPT_ID, 0, "id", "ID", "encode this video, read from the database (id or slug)"},
	{OPT_LADDER, 0, "ladder", "LIST", "rungs to make (default: " VS_LADDER_DEFAULT ")"},
	{OPT_PRESET, 0, "preset", "NAME", "x264 preset, ultrafast … veryslow (default: " VS_PRESET_DEFAULT ")"},
	{OPT_CRF, 0, "crf", "N", "constant rate factor, 0-51 (default: 21)"},
	{OPT_GOP, 0, "gop-seconds", "S", "seconds between keyframes (default: 2)"},
	{OPT_MAXRATE, 0, "maxrate", "BPS", "cap every rung at this bit rate instead of the defaults"},
	{OPT_AUDIO_BITRATE, 0, "audio-bitrate", "BPS", "AAC bit rate (default: 128000)"},
	{OPT_STORYBOARD, 0, "storyboard-interval", "S", "seconds between storyboard thumbnails (default: 5)"},
	{OPT_THREADS, 0, "threads", "N", "threads per encoder (default: 0, x264 decides)"},
	{OPT_PLAN, 0, "plan", NULL, "print the ladder it would make, and why, without encoding"},
	{OPT_FORCE, 'f', "force", NULL, "encode even when a finished encode exists"},
	{OPT_MEDIA_ROOT, 0, "media-root", "DIR", "working storage (default: $VS_MEDIA_ROOT or ./vs-media)"},
	{0},
};

static const struct vs_command cmd = {
	.name = "vs-encode",
	.synopsis = "[options] < records\n[options] --id ID",
	.summary = "Encode the H.264/AAC quality ladder, a poster and a storyboard",
	.options = options,
	.common = VS_COMMON_DATABASE | VS_COMMON_PROGRESS,
};

struct run {
	struct vs_encode_opts eo;
	bool plan;
	bool tty;
	const char *current; /* id being encoded, for progress */
	double fps;          /* its frame rate, for progress */
};

static void progress(double done, double total, double secs, void *ctx)
{
	struct run *r = ctx;
	double pct = total > 0 ? fmin(100, done * 100 / total) : 0;
	double speed = secs > 0 ? done / secs : 0;
	double left = speed > 0 ? (total - done) / speed : 0;

	fprintf(stderr, "%s: %.8s %5.1f%%  %.1fx real time  %.0f fps  %ld:%02ld left%s", vs_progname(),
	        r->current ? r->current : "", pct, speed, speed * r->fps, (long)left / 60, (long)left % 60,
	        r->tty ? "   \r" : "\n");
	fflush(stderr);
}

static int plan_one(json_t *rec, struct run *r)
{
	json_t *plan = NULL;
	int ret = vs_encode_plan(rec, &r->eo, &plan);
	size_t i;
	json_t *v;

	if (ret < 0)
		return ret;
	/* The record on stdout; the same, readable, on stderr. */
	fprintf(stderr, "%s: plan for %s: %g fps, a keyframe every %g s (%lld frames)\n",
	        vs_progname(), vs_json_str(rec, "id") ? vs_json_str(rec, "id") : "the source",
	        json_real_value(json_object_get(plan, "frame_rate")),
	        json_real_value(json_object_get(plan, "gop_seconds")),
	        (long long)json_integer_value(json_object_get(plan, "gop_frames")));
	json_array_foreach(json_object_get(plan, "rungs"), i, v)
		fprintf(stderr, "  %-6s %5lldx%-5lld maxrate %6.0fk  bufsize %6.0fk  (cap: %s)\n",
		        vs_json_str(v, "label"),
		        (long long)json_integer_value(json_object_get(v, "width")),
		        (long long)json_integer_value(json_object_get(v, "height")),
		        json_integer_value(json_object_get(v, "maxrate")) / 1000.0,
		        json_integer_value(json_object_get(v, "bufsize")) / 1000.0,
		        vs_json_str(v, "cap"));
	json_array_foreach(json_object_get(plan, "skipped"), i, v)
		fprintf(stderr, "  %s\n", json_string_value(v));
	fprintf(stderr, "  estimated output: %.1f MB\n",
	        json_integer_value(json_object_get(plan, "estimated_bytes")) / 1e6);
	json_object_set_new(rec, "plan", plan);
	return 0;
}

static int encode_one(json_t *rec, void *ctx)
{
	struct run *r = ctx;
	bool reused = false;
	int ret;

	if (r->plan)
		return plan_one(rec, r);
	r->current = vs_json_str(rec, "id");
	r->fps = 0;
	vs_json_number(rec, "probe.video.fps", &r->fps);
	r->fps = fmin(r->fps, 60); /* what the encoders get: at most 60 */
	/* a source kept in a store (vs-ingest --store) comes down first */
	if ((ret = vs_store_fetch_source(rec, r->eo.media_root)) < 0)
		return ret;
	ret = vs_encode(rec, &r->eo, &reused);
	if (ret == 0 && reused)
		vs_log_info("%s is already encoded with these settings (--force encodes again)",
		            r->current);
	return ret;
}

int main(int argc, char **argv)
{
	struct run r = {.eo = VS_ENCODE_OPTS_INIT};
	struct vs_opt opt = VS_OPT_INIT(&cmd, argc, argv);
	const char *arg, *id = NULL, *media_root = NULL, *url;
	int c, status = VS_EXIT_OK, ret = 0;
	long long n;
	double d;
	PGconn *db = NULL;

	vs_log_init(argv[0]);
	while ((c = vs_opt_next(&opt, &arg)) > 0) {
		switch (c) {
		case OPT_ID: id = arg; break;
		case OPT_LADDER:
			r.eo.n_sides = vs_ladder_parse(arg, r.eo.sides, VS_LADDER_MAX_RUNGS);
			if (r.eo.n_sides < 0)
				return vs_usage_error(&cmd, "--ladder: %s", vs_error_message());
			break;
		case OPT_PRESET: r.eo.preset = arg; break;
		case OPT_CRF:
			if (vs_opt_long(&cmd, "crf", arg, 0, 51, &n) < 0)
				return VS_EXIT_USAGE;
			r.eo.crf = (int)n;
			break;
		case OPT_GOP:
			if (vs_opt_double(&cmd, "gop-seconds", arg, 0.1, 60, &r.eo.gop_s) < 0)
				return VS_EXIT_USAGE;
			break;
		case OPT_MAXRATE:
			if (vs_opt_long(&cmd, "maxrate", arg, 50000, 200000000, &n) < 0)
				return VS_EXIT_USAGE;
			r.eo.maxrate = (long)n;
			break;
		case OPT_AUDIO_BITRATE:
			if (vs_opt_long(&cmd, "audio-bitrate", arg, 32000, 512000, &n) < 0)
				return VS_EXIT_USAGE;
			r.eo.audio_bps = (long)n;
			break;
		case OPT_STORYBOARD:
			if (vs_opt_double(&cmd, "storyboard-interval", arg, 0.5, 3600, &d) < 0)
				return VS_EXIT_USAGE;
			r.eo.storyboard_interval_s = d;
			break;
		case OPT_THREADS:
			if (vs_opt_long(&cmd, "threads", arg, 0, 64, &n) < 0)
				return VS_EXIT_USAGE;
			r.eo.threads = (int)n;
			break;
		case OPT_PLAN: r.plan = true; break;
		case OPT_FORCE: r.eo.force = true; break;
		case OPT_MEDIA_ROOT: media_root = arg; break;
		}
	}
	if (c < 0)
		return vs_opt_exit(c);
	vs_opt_release(&opt);
	if (opt.optind < argc)
		return vs_usage_error(&cmd, "unexpected argument '%s': records come on stdin",
		                      argv[opt.optind]);
	{
		static const char *const presets[] = {"ultrafast", "superfast", "veryfast", "faster",
		                                      "fast", "medium", "slow", "slower", "veryslow",
		                                      "placebo"};
		bool ok = false;

		for (size_t i = 0; i < VS_ARRAY_SIZE(presets); i++)
			ok = ok || !strcmp(presets[i], r.eo.preset);
		if (!ok)
			return vs_usage_error(&cmd, "--preset: unknown preset '%s'", r.eo.preset);
	}
	r.eo.media_root = vs_media_root(media_root);
	r.tty = isatty(STDERR_FILENO);
	if ((r.tty || opt.common.progress) && !r.plan) {
		r.eo.progress = progress;
		r.eo.progress_ctx = &r;
	}

	url = vs_db_url(opt.common.database);
	if (id && !url)
		return vs_usage_error(&cmd, "--id needs a database: set VS_DATABASE_URL or --database");
	if (url && (ret = vs_db_connect(url, &db)) < 0) {
		vs_log_error("%s", vs_error_message());
		return vs_exit_for(ret);
	}
	r.eo.db = r.plan ? NULL : db;

	if (id) {
		json_t *rec = NULL;

		ret = vs_catalog_find(db, VS_CATALOG_BY_ID, id, &rec, NULL);
		if (ret == 0 && !rec) {
			vs_log_error("no video '%s' in the database", id);
			status = VS_EXIT_FAILED;
		} else if (ret < 0) {
			vs_log_error("%s", vs_error_message());
			status = vs_exit_for(ret);
			ret = 0;
		} else {
			ret = vs_record_process(rec, encode_one, &r, &status);
		}
		json_decref(rec);
	} else {
		ret = vs_record_loop(stdin, "stdin", encode_one, &r, &status);
	}
	if (ret < 0) {
		vs_log_error("%s", vs_error_message());
		status = VS_EXIT_FAILED;
	}
	vs_db_close(db);
	if (vs_close_stdout() < 0)
		status = VS_EXIT_FAILED;
	return status;
}
