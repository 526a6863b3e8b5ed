#include <math.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>

#include "decode.h"
#include "error.h"
#include "fsutil.h"
#include "probe.h"
#include "record.h"
#include "rungs.h"
#include "thumbs.h"
#include "transcode.h"

/* x264's presets, fastest first. */
static const char *const presets[] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                      "medium", "slow", "slower", "veryslow", "placebo"};

bool vs_transcode_preset_known(const char *name)
{
	if (!name)
		return false;
	for (size_t i = 0; i < VS_ARRAY_SIZE(presets); i++)
		if (!strcmp(presets[i], name))
			return true;
	return false;
}

/* Threads for the video decoder: 1, or 0 for libavcodec's choice. */
static int decode_threads(const struct vs_decode *p)
{
	AVCodecParameters *vp = p->in->streams[p->vi]->codecpar;

	/* One decoding thread up to 1080p: decoding is a small share of the
	 * work there, and frame threads would only add copies and waits on
	 * cores the encoders need (measured: 10% less wall time at 1080p).
	 * Larger pictures get libavcodec's frame threads. */
	return (int64_t)vp->width * vp->height <= VS_DECODE_SINGLE_THREAD_PIXELS ? 1 : 0;
}

/* Items per rung queue: as many as VS_QUEUE_BYTES holds of the source's
 * frames, 8 at least. */
static int queue_len(const struct vs_decode *p)
{
	AVCodecParameters *vp = p->in->streams[p->vi]->codecpar;
	int64_t frame = av_image_get_buffer_size(vp->format, vp->width, vp->height, 1);

	if (frame <= 0) /* a format libavutil does not size: as 8-bit 4:2:0 */
		frame = (int64_t)vp->width * vp->height * 3 / 2;
	return frame > 0 ? (int)FFMAX(8, FFMIN(VS_FRAMEQ_MAX, VS_QUEUE_BYTES / frame)) : VS_FRAMEQ_MAX;
}

/* Reads the source to its end through p into the rungs and thumbnails, and
 * fails if it cannot be decoded far enough. */
static int read_source(struct vs_decode *p)
{
	int err;

	while ((err = av_read_frame(p->in, p->pkt)) >= 0) {
		err = vs_decode_packet(p, p->pkt);
		av_packet_unref(p->pkt);
		if (err < 0)
			return vs_fail(VS_ERR, VS_E_INTERNAL, "processing failed at %.2f s: %s", p->done_s,
			               av_err2str(err));
		if (p->decode_errors > VS_DECODE_ERRORS_MAX)
			return vs_fail(VS_ERR, VS_E_NOT_VIDEO,
			               "the source cannot be decoded: %d corrupt packets by %.2f s",
			               p->decode_errors, p->done_s);
		vs_decode_progress(p, false);
	}
	if (err != AVERROR_EOF)
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "the source cannot be read past %.2f s: %s",
		               p->done_s, av_err2str(err));
	if ((err = vs_decode_flush(p)) < 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "cannot finish: %s", av_err2str(err));
	if (p->duration > 2 && p->done_s < p->duration * 0.9 - 1)
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO,
		               "the source cannot be decoded past %.2f s of %.2f s", p->done_s, p->duration);
	return 0;
}

/* Ends the stream of every rung, then waits for them; fails with the first
 * rung's error. */
static int finish_rungs(struct vs_decode *p)
{
	for (int i = 0; i < p->n; i++)
		vs_rungs_stop(&p->rungs[i]);
	for (int i = 0; i < p->n; i++)
		if (p->rungs[i].failed)
			return vs_fail(VS_ERR, VS_E_INTERNAL, "%s", p->rungs[i].error);
	return 0;
}

/* Writes poster.jpg, storyboard.jpg and storyboard.vtt into dir; *out (new
 * reference) is the result's "thumbnails". */
static int write_thumbnails(struct vs_thumbs *t, const char *dir, int dw, int dh,
                            double duration, json_t **out)
{
	char *poster = vs_fsutil_path_join(dir, "poster.jpg");
	char *sprite = vs_fsutil_path_join(dir, "storyboard.jpg");
	char *vtt = vs_fsutil_path_join(dir, "storyboard.vtt");
	int err, ret = 0;

	if (!poster || !sprite || !vtt) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	if ((err = vs_thumbs_write_poster(t, poster, dw, dh)) < 0 ||
	    (err = vs_thumbs_write_storyboard(t, sprite, vtt, duration)) < 0) {
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot write the thumbnails: %s", av_err2str(err));
		goto out;
	}
	*out = json_object();
	json_object_set_new(*out, "poster", json_string(poster));
	json_object_set_new(*out, "storyboard", json_string(sprite));
	json_object_set_new(*out, "storyboard_vtt", json_string(vtt));
	json_object_set_new(*out, "storyboard_interval", json_real(t->interval));
	json_object_set_new(*out, "thumbnail_width", json_integer(t->tw));
	json_object_set_new(*out, "thumbnail_height", json_integer(t->th));
out:
	free(poster);
	free(sprite);
	free(vtt);
	return ret;
}

/* The result's entry for the rung r, of duration seconds at fps. */
static json_t *rendition_json(const struct vs_rungs_enc *r, double duration, double fps)
{
	json_t *o = json_object();
	char codecs[64];
	struct stat st;
	int64_t size = stat(r->path, &st) == 0 ? st.st_size : 0;
	double secs = duration > 0 ? duration : 1;
	double audio_bps = r->audio_bytes * 8.0 / secs;

	vs_transcode_h264_codecs(r->enc->extradata, r->enc->extradata_size, codecs, sizeof(codecs));
	if (r->ast)
		snprintf(codecs + strlen(codecs), sizeof(codecs) - strlen(codecs), ",mp4a.40.2");
	json_object_set_new(o, "label", json_string(r->spec->label));
	json_object_set_new(o, "width", json_integer(r->spec->width));
	json_object_set_new(o, "height", json_integer(r->spec->height));
	json_object_set_new(o, "bitrate", json_integer(llround(size * 8.0 / secs)));
	json_object_set_new(o, "peak_bitrate", json_integer(llround(r->peak_bps + audio_bps)));
	json_object_set_new(o, "video_bitrate", json_integer(llround(r->video_bytes * 8.0 / secs)));
	json_object_set_new(o, "maxrate", json_integer(r->spec->maxrate));
	json_object_set_new(o, "codecs", json_string(codecs));
	json_object_set_new(o, "frame_rate", json_real(round(fps * 1000) / 1000));
	json_object_set_new(o, "frames", json_integer(r->frames));
	json_object_set_new(o, "path", json_string(r->path));
	json_object_set_new(o, "size", json_integer(size));
	return o;
}

int vs_transcode(const char *src, const json_t *probe, const struct vs_transcode_opts *o,
                 const char *dir, json_t **result)
{
	/* The modules below cannot include this one's header, which sits
	 * above them: each takes its share of the options. */
	const struct vs_decode_opts dopts = {
		.fps_num = o->fps_num, .fps_den = o->fps_den, .audio_bps = o->audio_bps,
		.progress = o->progress, .progress_ctx = o->progress_ctx};
	struct vs_rungs_opts ropts = {
		.fps_num = o->fps_num, .fps_den = o->fps_den, .gop_s = o->gop_s,
		.start_gop_s = o->start_gop_s, .preset = o->preset,
		.crf = o->crf, .threads = o->threads};
	const struct vs_thumbs_opts topts = {
		.interval_s = o->storyboard_interval_s, .max_thumbs = VS_STORYBOARD_MAX_THUMBS,
		.long_side = VS_THUMB_LONG_SIDE, .columns = VS_SPRITE_COLUMNS,
		.poster_max_width = VS_POSTER_MAX_WIDTH};
	struct vs_decode p;
	double dw = 0, dh = 0, fps = (double)o->fps_num / o->fps_den;
	json_t *renditions = NULL, *thumbs = NULL;
	int ret = VS_ERR;

	*result = NULL;
	vs_probe_av_log_init();
	vs_decode_init(&p, &dopts);
	vs_json_number(probe, "duration", &p.duration);
	vs_json_number(probe, "video.display_width", &dw);
	vs_json_number(probe, "video.display_height", &dh);
	if ((ret = vs_decode_open(&p, src)) < 0 ||
	    (ret = vs_decode_open_codecs(&p, probe, decode_threads(&p))) < 0)
		goto out;
	ropts.queue_len = queue_len(&p);
	if (vs_thumbs_init(&p.thumbs, &topts, p.duration > 0 ? p.duration : 1, (int)dw, (int)dh) < 0) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}

	p.rungs = calloc((size_t)o->ladder->n, sizeof(*p.rungs));
	if (!p.rungs) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	p.n = o->ladder->n; /* only now: the release walks p.n rungs */
	for (int i = 0; i < p.n; i++) {
		struct vs_rungs_enc *r = &p.rungs[i];
		char name[40];

		r->spec = &o->ladder->rungs[i];
		r->opts = &ropts;
		snprintf(name, sizeof(name), "%s.mp4", r->spec->label);
		r->path = vs_fsutil_path_join(dir, name);
		if (!r->path) {
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			goto out;
		}
		if ((ret = vs_rungs_open(r, p.aenc)) < 0)
			goto out;
	}
	for (int i = 0; i < p.n; i++)
		if ((ret = vs_rungs_start(&p.rungs[i])) < 0)
			goto out;

	if ((ret = read_source(&p)) < 0 || (ret = finish_rungs(&p)) < 0)
		goto out;
	vs_decode_progress(&p, true);
	if ((ret = write_thumbnails(&p.thumbs, dir, (int)dw, (int)dh, p.duration, &thumbs)) < 0)
		goto out;

	renditions = json_array();
	for (int i = 0; i < p.n; i++) {
		double d = (double)(p.rungs[i].last_pts + 1) * o->fps_den / o->fps_num;

		json_array_append_new(renditions, rendition_json(&p.rungs[i], d, fps));
	}
	*result = json_object();
	json_object_set_new(*result, "renditions", renditions);
	json_object_set_new(*result, "thumbnails", thumbs);
out:
	vs_decode_release(&p);
	return ret;
}

void vs_transcode_h264_codecs(const uint8_t *x, int size, char *out, size_t n)
{
	out[0] = '\0';
	if (!x || size < 4)
		return;
	if (x[0] == 1) { /* avcC: profile, compatibility, level follow the version */
		snprintf(out, n, "avc1.%02x%02x%02x", x[1], x[2], x[3]);
		return;
	}
	/* Annex B: find the SPS (NAL type 7) after a start code. */
	for (int i = 0; i + 6 < size; i++) {
		if (x[i] == 0 && x[i + 1] == 0 && x[i + 2] == 1 && (x[i + 3] & 0x1f) == 7) {
			snprintf(out, n, "avc1.%02x%02x%02x", x[i + 4], x[i + 5], x[i + 6]);
			return;
		}
	}
}
