#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "db.h"
#include "encode.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "probe.h"
#include "record.h"

#define ENCODE_JSON "encode.json"
/* Share of maxrate a capped-CRF encode spends on average, for the estimate. */
#define ESTIMATE_SHARE 0.6

/* Everything the plan depends on, so that a finished encode is reused only
 * for the same request. */
static char *settings_key(const struct vs_ladder *l, const struct vs_encode_opts *o)
{
	char *key = NULL, *labels = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&labels, &len);

	if (!m)
		return NULL;
	for (int i = 0; i < l->n; i++)
		fprintf(m, "%s%s:%dx%d:%ld", i ? "," : "", l->rungs[i].label, l->rungs[i].width,
		        l->rungs[i].height, l->rungs[i].maxrate);
	fclose(m);
	if (asprintf(&key, "v1;%s;preset=%s;crf=%d;gop=%g;start=%g;audio=%ld;storyboard=%g", labels,
	             o->preset, o->crf, o->gop_s, vs_ladder_start_gop(o->start_gop_s, o->gop_s), o->audio_bps,
	             o->storyboard_interval_s) < 0)
		key = NULL;
	free(labels);
	return key;
}

/* The probe section, read from the source when the record has none. */
static int need_probe(json_t *rec, json_t **probe)
{
	json_t *p = json_object_get(rec, "probe");
	const char *src = vs_json_str(rec, "source.path");
	json_t *chapters = NULL;
	int ret;

	if (json_is_object(p) && json_is_object(json_object_get(p, "video"))) {
		*probe = p;
		return 0;
	}
	if (!src)
		return vs_fail(VS_ERR, VS_E_INVALID, "the record has no source.path");
	ret = vs_probe_file(src, &p, &chapters);
	json_decref(chapters);
	if (ret < 0) {
		vs_error_prefix("'%s'", src);
		return ret;
	}
	json_object_set_new(rec, "probe", p);
	*probe = p;
	return 0;
}

struct plan {
	struct vs_ladder ladder;
	int fps_num, fps_den;
	double duration;
	int dw, dh;
};

static int make_plan(json_t *rec, const struct vs_encode_opts *o, struct plan *pl)
{
	struct vs_ladder_input in = {0};
	int sides[VS_LADDER_MAX_RUNGS];
	int n = o->n_sides;
	json_t *probe = NULL;
	double fps = 0, v = 0, abr = 0;
	int ret = need_probe(rec, &probe);

	if (ret < 0)
		return ret;
	memset(pl, 0, sizeof(*pl));
	if (n > 0)
		memcpy(sides, o->sides, sizeof(int) * (size_t)n);
	else
		n = vs_ladder_parse(VS_LADDER_DEFAULT, sides, VS_LADDER_MAX_RUNGS);
	vs_json_number(probe, "duration", &pl->duration);
	vs_json_number(probe, "video.fps", &fps);
	vs_ladder_fps(fps, &pl->fps_num, &pl->fps_den);
	if (vs_json_number(probe, "video.display_width", &v))
		pl->dw = (int)v;
	if (vs_json_number(probe, "video.display_height", &v))
		pl->dh = (int)v;
	in.display_width = pl->dw;
	in.display_height = pl->dh;
	in.fps = (double)pl->fps_num / pl->fps_den;
	in.source_codec = vs_json_str(probe, "video.codec");
	if (vs_json_number(probe, "bit_rate", &v) && v > 0) {
		/* the video's share: the container's rate less a typical audio rate */
		vs_json_number(probe, "audio.bit_rate", &abr);
		if (!(abr > 0) && json_is_object(vs_json_get(probe, "audio")))
			abr = 128000;
		in.source_video_bps = (long)fmax(v - abr, v * 0.5);
	}
	if (!(pl->duration > 0))
		return vs_fail(VS_ERR, VS_E_INVALID, "the probe gives no duration");
	return vs_ladder_plan(&in, sides, n, o->maxrate, &pl->ladder);
}

int vs_encode_plan(json_t *rec, const struct vs_encode_opts *o, json_t **out)
{
	struct plan pl;
	json_t *plan, *rungs, *skipped;
	bool audio;
	double bytes = 0;
	int ret = make_plan(rec, o, &pl);

	*out = NULL;
	if (ret < 0)
		return ret;
	audio = json_is_object(vs_json_get(rec, "probe.audio"));
	plan = json_object();
	rungs = json_array();
	skipped = json_array();
	for (int i = 0; i < pl.ladder.n; i++) {
		const struct vs_rung *r = &pl.ladder.rungs[i];
		json_t *j = json_object();

		json_object_set_new(j, "label", json_string(r->label));
		json_object_set_new(j, "width", json_integer(r->width));
		json_object_set_new(j, "height", json_integer(r->height));
		json_object_set_new(j, "maxrate", json_integer(r->maxrate));
		json_object_set_new(j, "bufsize", json_integer(r->bufsize));
		json_object_set_new(j, "cap", json_string(r->cap_reason));
		json_array_append_new(rungs, j);
		bytes += (r->maxrate * ESTIMATE_SHARE + (audio ? o->audio_bps : 0)) * pl.duration / 8;
	}
	for (int i = 0; i < pl.ladder.n_skipped; i++)
		json_array_append_new(skipped, json_string(pl.ladder.skipped[i]));
	json_object_set_new(plan, "source", json_pack("{s:i,s:i}", "display_width", pl.dw,
	                                              "display_height", pl.dh));
	json_object_set_new(plan, "frame_rate", json_real(round((double)pl.fps_num / pl.fps_den * 1000) / 1000));
	json_object_set_new(plan, "gop_seconds", json_real(o->gop_s));
	json_object_set_new(plan, "start_gop_seconds", json_real(vs_ladder_start_gop(o->start_gop_s, o->gop_s)));
	json_object_set_new(plan, "gop_frames",
	                    json_integer((json_int_t)ceil(o->gop_s * pl.fps_num / pl.fps_den - 1e-9)));
	json_object_set_new(plan, "preset", json_string(o->preset));
	json_object_set_new(plan, "crf", json_integer(o->crf));
	json_object_set_new(plan, "audio", audio ? json_pack("{s:s,s:i,s:i,s:i}", "codec", "aac",
	                                                     "channels", 2, "sample_rate", 48000,
	                                                     "bitrate", (int)o->audio_bps)
	                                         : json_null());
	json_object_set_new(plan, "rungs", rungs);
	json_object_set_new(plan, "skipped", skipped);
	json_object_set_new(plan, "estimated_bytes", json_integer((json_int_t)llround(bytes)));
	*out = plan;
	return 0;
}

/* ---- the database side ---- */


/* ---- files ---- */

/* Removes what killed runs left: .renditions-* beside the final dir. */
static void remove_stale(const char *vdir)
{
	DIR *d = opendir(vdir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, ".renditions-", 12)) {
			char *p = vs_fsutil_path_join(vdir, e->d_name);

			if (p)
				vs_fsutil_remove_tree(p);
			free(p);
		}
	closedir(d);
}

/* Rewrites every string in v that starts with from to start with to. */
static void repath(json_t *v, const char *from, const char *to)
{
	size_t n = strlen(from);
	const char *key;
	json_t *x;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, x) {
			const char *s = json_string_value(x);

			if (s && !strncmp(s, from, n)) {
				char *t = NULL;

				if (asprintf(&t, "%s%s", to, s + n) >= 0)
					json_object_set_new(v, key, json_string(t));
				free(t);
			} else {
				repath(x, from, to);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			repath(x, from, to);
	}
}

static void put_sections(json_t *rec, json_t *from)
{
	json_object_set(rec, "renditions", json_object_get(from, "renditions"));
	json_object_set(rec, "thumbnails", json_object_get(from, "thumbnails"));
	json_object_set(rec, "encode", json_object_get(from, "encode"));
}

/* Takes the video's encode lock (flock on lock) in *fd, which is -1 or
 * open afterwards, on failure too: the caller closes it. */
static int lock_video(const char *lock, const char *id, int *fd)
{
	*fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0 || flock(*fd, LOCK_EX | LOCK_NB) != 0)
		return vs_fail(errno == EWOULDBLOCK ? VS_ETEMP : VS_ERR,
		               errno == EWOULDBLOCK ? VS_E_UNAVAILABLE : VS_E_IO,
		               "video %s: %s", id, errno == EWOULDBLOCK ?
		               "being encoded by another process" : strerror(errno));
	return 0;
}

/* The video must be in the database to be encoded into it. */
static int check_registered(PGconn *db, const char *id)
{
	json_t *row = NULL;
	int ret = vs_catalog_find(db, VS_CATALOG_BY_ID, id, &row, NULL);

	json_decref(row);
	if (ret == 0 && !row)
		ret = vs_fail(VS_ERR, VS_E_NOT_FOUND, "video %s is not in the database", id);
	return ret;
}

/* Encodes the ladder into tmp (*result, new reference). A failure is also
 * the unfinished renditions' in the database, with the encode's message. */
static int run_transcode(json_t *rec, const struct vs_encode_opts *o, const struct plan *pl,
                         const char *tmp, json_t **result)
{
	struct vs_transcode_opts to = {0};
	const char *id = vs_json_str(rec, "id");
	const char *src = vs_json_str(rec, "source.path");
	int ret;

	to.ladder = &pl->ladder;
	to.fps_num = pl->fps_num;
	to.fps_den = pl->fps_den;
	to.gop_s = o->gop_s;
	to.start_gop_s = vs_ladder_start_gop(o->start_gop_s, o->gop_s);
	to.preset = o->preset;
	to.crf = o->crf;
	to.audio_bps = o->audio_bps;
	to.storyboard_interval_s = o->storyboard_interval_s;
	to.threads = o->threads;
	to.progress = o->progress;
	to.progress_ctx = o->progress_ctx;
	ret = vs_transcode(src, json_object_get(rec, "probe"), &to, tmp, result);
	if (ret < 0) {
		vs_error_prefix("cannot encode '%s'", src);
		if (o->db) {
			char msg[1024], code[32];

			snprintf(msg, sizeof(msg), "%s", vs_error_message());
			snprintf(code, sizeof(code), "%s", vs_error_code());
			vs_catalog_renditions_failed(o->db, id, msg);
			vs_fail(ret, code, "%s", msg); /* the encode's message, not the database's */
		}
	}
	return ret;
}

/* The "encode" section: the settings key and what the plan chose. */
static json_t *encode_section(const struct vs_encode_opts *o, const struct plan *pl, const char *key)
{
	json_t *meta = json_object();

	json_object_set_new(meta, "key", json_string(key));
	json_object_set_new(meta, "gop_seconds", json_real(o->gop_s));
	json_object_set_new(meta, "start_gop_seconds", json_real(vs_ladder_start_gop(o->start_gop_s, o->gop_s)));
	json_object_set_new(meta, "frame_rate",
	                    json_real(round((double)pl->fps_num / pl->fps_den * 1000) / 1000));
	json_object_set_new(meta, "preset", json_string(o->preset));
	json_object_set_new(meta, "crf", json_integer(o->crf));
	json_object_set_new(meta, "skipped", json_array());
	for (int i = 0; i < pl->ladder.n_skipped; i++)
		json_array_append_new(json_object_get(meta, "skipped"),
		                      json_string(pl->ladder.skipped[i]));
	return meta;
}

/* Completes result with its "encode" section and its final paths, writes
 * it into tmp as the finished marker (last), and puts tmp in place. */
static int install(json_t *result, json_t *meta, const char *tmp, const char *final, const char *old)
{
	char *path;
	int ret;

	json_object_set_new(result, "encode", meta);
	repath(result, tmp, final);
	path = vs_fsutil_path_join(tmp, ENCODE_JSON);
	ret = path ? vs_fsutil_write_finished(path, result, JSON_INDENT(2) | JSON_PRESERVE_ORDER)
	           : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	free(path);
	if (ret == 0)
		ret = vs_fsutil_swap_dir(tmp, final, old);
	return ret;
}

/* Where the encode of one video works; every path malloced and owned. */
struct paths {
	char *root, *vdir; /* the media root, absolute; the video's directory */
	char *final;       /* its renditions */
	char *lock;        /* the lock one encode of it at a time holds */
	char *old;         /* where the renditions it replaces go meanwhile */
};

static void paths_release(struct paths *p)
{
	free(p->old);
	free(p->lock);
	free(p->final);
	free(p->vdir);
	free(p->root);
}

static int paths_init(struct paths *p, const char *media_root, const char *id)
{
	memset(p, 0, sizeof(*p));
	p->root = vs_fsutil_abspath(media_root);
	p->vdir = p->root ? vs_fsutil_path_join(p->root, id) : NULL;
	p->final = p->vdir ? vs_fsutil_path_join(p->vdir, "renditions") : NULL;
	p->lock = p->vdir ? vs_fsutil_path_join(p->vdir, ".encode.lock") : NULL;
	if (p->vdir && asprintf(&p->old, "%s/.renditions-old-%ld", p->vdir, (long)getpid()) < 0)
		p->old = NULL;
	if (p->final && p->lock && p->old)
		return 0;
	paths_release(p);
	return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
}

int vs_encode(json_t *rec, const struct vs_encode_opts *o, bool *reused)
{
	struct plan pl;
	struct paths at;
	const char *id = vs_json_str(rec, "id");
	const char *src = vs_json_str(rec, "source.path");
	char *key = NULL, *tmp = NULL, *marker = NULL;
	json_t *result = NULL, *done = NULL;
	int lock_fd = -1, ret;

	*reused = false;
	if (!id || !vs_hash_is_uuid(id))
		return vs_fail(VS_ERR, VS_E_INVALID, "the record has no valid 'id'");
	if (!src)
		return vs_fail(VS_ERR, VS_E_INVALID, "the record has no source.path");
	if ((ret = make_plan(rec, o, &pl)) < 0 || (ret = paths_init(&at, o->media_root, id)) < 0)
		return ret;
	if (!(key = settings_key(&pl.ladder, o))) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	if ((ret = vs_fsutil_mkdir_p(at.vdir, 0755)) < 0 || (ret = lock_video(at.lock, id, &lock_fd)) < 0)
		goto out;
	if (o->db && (ret = check_registered(o->db, id)) < 0)
		goto out;
	if (!o->force && (marker = vs_fsutil_path_join(at.final, ENCODE_JSON)) &&
	    (done = vs_fsutil_read_finished(marker, "encode.key", key))) {
		put_sections(rec, done);
		*reused = true;
		if (o->db)
			ret = vs_catalog_renditions_done(o->db, id, done, pl.duration);
		goto out;
	}
	remove_stale(at.vdir);
	if (asprintf(&tmp, "%s/.renditions-XXXXXX", at.vdir) < 0 || !mkdtemp(tmp)) {
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot create a directory in '%s': %s", at.vdir,
		              strerror(errno));
		goto out;
	}
	chmod(tmp, 0755);
	if (o->db && ((ret = vs_catalog_renditions_start(o->db, id, &pl.ladder, "pending")) < 0 ||
	              (ret = vs_catalog_renditions_start(o->db, id, &pl.ladder, "processing")) < 0))
		goto out;
	if ((ret = run_transcode(rec, o, &pl, tmp, &result)) < 0 ||
	    (ret = install(result, encode_section(o, &pl, key), tmp, at.final, at.old)) < 0)
		goto out;
	put_sections(rec, result);
	if (o->db)
		ret = vs_catalog_renditions_done(o->db, id, result, pl.duration);
out:
	if (tmp && ret < 0)
		vs_fsutil_remove_tree(tmp);
	if (lock_fd >= 0)
		close(lock_fd);
	json_decref(result);
	json_decref(done);
	free(marker);
	free(tmp);
	free(key);
	paths_release(&at);
	return ret;
}

void vs_encode_plan_describe(FILE *f, const char *id, const json_t *plan)
{
	size_t i;
	json_t *v;

	fprintf(f, "%s: plan for %s: %g fps, a keyframe every %g s (%lld frames)", vs_log_progname(),
	        id ? id : "the source", json_real_value(json_object_get(plan, "frame_rate")),
	        json_real_value(json_object_get(plan, "gop_seconds")),
	        (long long)json_integer_value(json_object_get(plan, "gop_frames")));
	if (json_real_value(json_object_get(plan, "start_gop_seconds")) > 0)
		fprintf(f, " and one at %g s", json_real_value(json_object_get(plan, "start_gop_seconds")));
	fputc('\n', f);
	json_array_foreach(json_object_get(plan, "rungs"), i, v)
		fprintf(f, "  %-6s %5lldx%-5lld maxrate %6.0fk  bufsize %6.0fk  (cap: %s)\n",
		        vs_json_str(v, "label"),
		        (long long)json_integer_value(json_object_get(v, "width")),
		        (long long)json_integer_value(json_object_get(v, "height")),
		        json_integer_value(json_object_get(v, "maxrate")) / 1000.0,
		        json_integer_value(json_object_get(v, "bufsize")) / 1000.0,
		        vs_json_str(v, "cap"));
	json_array_foreach(json_object_get(plan, "skipped"), i, v)
		fprintf(f, "  %s\n", json_string_value(v));
	fprintf(f, "  estimated output: %.1f MB\n",
	        json_integer_value(json_object_get(plan, "estimated_bytes")) / 1e6);
}
