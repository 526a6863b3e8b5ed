/*
 * vs-encode: the H.264/AAC quality ladder, poster and storyboard.
 *
 *   ... | vs-encode [options]
 *   vs-encode [options] --id ID
 */
#include <malloc.h>
#include <math.h>
#include <unistd.h>

#include "catalog.h"
#include "encode.h"
#include "error.h"
#include "log.h"
#include "prog.h"
#include "record.h"
#include "store.h"
#include "transcode.h"

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

	fprintf(stderr, "%s: %.8s %5.1f%%  %.1fx real time  %.0f fps  %ld:%02ld left%s", vs_log_progname(),
	        r->current ? r->current : "", pct, speed, speed * r->fps, (long)left / 60, (long)left % 60,
	        r->tty ? "   \r" : "\n");
	fflush(stderr);
}

static int plan_one(json_t *rec, struct run *r)
{
	json_t *plan = NULL;
	int ret = vs_encode_plan(rec, &r->eo, &plan);

	if (ret < 0)
		return ret;
	/* The record on stdout; the same, readable, on stderr. */
	vs_encode_plan_describe(stderr, vs_json_str(rec, "id"), plan);
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

/* --id: the video's record from the database, encoded. */
static int encode_id(PGconn *db, const char *id, struct run *r, int *status)
{
	json_t *rec = NULL;
	int ret = vs_catalog_find(db, VS_CATALOG_BY_ID, id, &rec, NULL);

	if (ret == 0 && !rec)
		ret = vs_fail(VS_ERR, VS_E_NOT_FOUND, "no video '%s' in the database", id);
	else if (ret == 0)
		ret = vs_record_process(rec, encode_one, r, status);
	json_decref(rec);
	return ret;
}

enum { OPT_LADDER = 0x100 };

/* --ladder: the rungs, checked as they come */
static int ladder_option(const struct vs_command *cmd, int id, const char *arg, void *ctx)
{
	struct run *r = ctx;

	(void)id;
	r->eo.n_sides = vs_ladder_parse(arg, r->eo.sides, VS_LADDER_MAX_RUNGS);
	return r->eo.n_sides < 0 ? vs_opt_usage_error(cmd, "--ladder: %s", vs_error_message()) : 0;
}

int main(int argc, char **argv)
{
	struct run r = {.eo = VS_ENCODE_OPTS_INIT};
	const char *id = NULL;
	long long maxrate = r.eo.maxrate, audio_bps = r.eo.audio_bps;
	const struct vs_command cmd = {
		.name = "vs-encode",
		.synopsis = "[options] < records\n[options] --id ID",
		.summary = "Encode the H.264/AAC quality ladder, a poster and a storyboard",
		.on_option = ladder_option,
		.common = VS_COMMON_DATABASE | VS_COMMON_PROGRESS | VS_COMMON_MEDIA_ROOT,
		.options = (const struct vs_option[]){
			VS_OPT_STRING(0, "id", "ID", id, "encode this video, read from the database (id or slug)"),
			{OPT_LADDER, 0, "ladder", "LIST", "rungs to make (default: " VS_LADDER_DEFAULT ")"},
			VS_OPT_STRING(0, "preset", "NAME", r.eo.preset,
			              "x264 preset, ultrafast … veryslow (default: " VS_PRESET_DEFAULT ")"),
			VS_OPT_INT(0, "crf", "N", r.eo.crf, 0, 51, "constant rate factor, 0-51", VS_OPT_DEFAULT(VS_CRF_DEFAULT)),
			VS_OPT_DOUBLE(0, "gop-seconds", "S", r.eo.gop_s, 0.1, 60, "seconds between keyframes",
			              VS_OPT_DEFAULT(VS_GOP_SECONDS_DEFAULT)),
			VS_OPT_DOUBLE(0, "start-gop-seconds", "S", r.eo.start_gop_s, 0, 60,
			              "one more keyframe this far in, for a short first segment (0: none)",
			              VS_OPT_DEFAULT(VS_START_GOP_SECONDS_DEFAULT)),
			VS_OPT_LLONG(0, "maxrate", "BPS", maxrate, 50000, 200000000,
			             "cap every rung at this bit rate instead of the defaults"),
			VS_OPT_LLONG(0, "audio-bitrate", "BPS", audio_bps, 32000, 512000, "AAC bit rate",
			             VS_OPT_DEFAULT(VS_AUDIO_BITRATE_DEFAULT)),
			VS_OPT_DOUBLE(0, "storyboard-interval", "S", r.eo.storyboard_interval_s, 0.5, 3600,
			              "seconds between storyboard thumbnails", VS_OPT_DEFAULT(VS_STORYBOARD_INTERVAL_DEFAULT)),
			VS_OPT_INT(0, "threads", "N", r.eo.threads, 0, 64, "threads per encoder (default: 0, x264 decides)"),
			VS_OPT_SET(0, "plan", r.plan, "print the ladder it would make, and why, without encoding"),
			VS_OPT_SET('f', "force", r.eo.force, "encode even when a finished encode exists"),
			{0},
		},
	};
	struct vs_prog p;
	int ret;

	/* Pictures of megabytes are allocated and freed frame after frame:
	 * above glibc's mmap threshold each is a fresh mapping whose pages the
	 * kernel zeroes (a third of the encoder's system time). Kept in the
	 * heap, they are reused. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	if (!vs_prog_start(&p, &cmd, argc, argv, &r))
		return p.status;
	r.eo.maxrate = (long)maxrate;
	r.eo.audio_bps = (long)audio_bps;
	if (p.n_args > 0)
		return vs_opt_usage_error(&cmd, "unexpected argument '%s': records come on stdin", p.args[0]);
	if (!vs_transcode_preset_known(r.eo.preset))
		return vs_opt_usage_error(&cmd, "--preset: unknown preset '%s'", r.eo.preset);
	r.eo.media_root = p.media_root;
	r.tty = isatty(STDERR_FILENO);
	if ((r.tty || p.common.progress) && !r.plan) {
		r.eo.progress = progress;
		r.eo.progress_ctx = &r;
	}

	if ((ret = vs_prog_open_db(&p, id ? VS_OPT_DB_NEEDED : VS_OPT_DB_IF_GIVEN, "--id")) < 0)
		return vs_prog_end(&p, ret);
	r.eo.db = r.plan ? NULL : p.db;
	if (id)
		ret = encode_id(p.db, id, &r, &p.status);
	else
		ret = vs_record_loop(stdin, "stdin", encode_one, &r, &p.status);
	return vs_prog_end(&p, ret);
}
