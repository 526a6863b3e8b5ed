#include <math.h>

#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "error.h"
#include "frameq.h"
#include "rungs.h"

static void rung_fail(struct vs_rungs_enc *r, const char *what, int err)
{
	char ebuf[128];

	if (r->failed)
		return;
	av_strerror(err, ebuf, sizeof(ebuf));
	r->failed = 1;
	snprintf(r->error, sizeof(r->error), "%s: %s: %s", r->spec->label, what, ebuf);
}

static void close_gop(struct vs_rungs_enc *r, int64_t end_pts)
{
	double secs = (double)(end_pts - r->gop_start) * av_q2d(r->enc->time_base);

	if (secs > 0.2 && r->gop_bytes > 0) {
		double bps = r->gop_bytes * 8.0 / secs;

		if (bps > r->peak_bps)
			r->peak_bps = bps;
	}
	r->gop_bytes = 0;
	r->gop_start = end_pts;
}

static int write_video_packets(struct vs_rungs_enc *r)
{
	int err;

	while ((err = avcodec_receive_packet(r->enc, r->pkt)) >= 0) {
		if (r->pkt->flags & AV_PKT_FLAG_KEY && r->pkt->pts > r->gop_start)
			close_gop(r, r->pkt->pts);
		r->gop_bytes += r->pkt->size;
		r->video_bytes += r->pkt->size;
		r->pkt->stream_index = r->vst->index;
		av_packet_rescale_ts(r->pkt, r->enc->time_base, r->vst->time_base);
		err = av_interleaved_write_frame(r->mux, r->pkt);
		if (err < 0) {
			rung_fail(r, "cannot write", err);
			return err;
		}
	}
	if (err != AVERROR(EAGAIN) && err != AVERROR_EOF) {
		rung_fail(r, "the H.264 encoder failed", err);
		return err;
	}
	return 0;
}

/* A frame for the scaler's output from the rung's pool. */
static AVFrame *pool_frame(struct vs_rungs_enc *r)
{
	int w = r->enc->width, h = r->enc->height;
	AVFrame *f;

	if (!r->pool) {
		int size = av_image_get_buffer_size(AV_PIX_FMT_YUV420P, w, h, 32);

		r->pool = size > 0 ? av_buffer_pool_init((size_t)size, NULL) : NULL;
		if (!r->pool)
			return NULL;
	}
	f = av_frame_alloc();
	if (!f)
		return NULL;
	f->buf[0] = av_buffer_pool_get(r->pool);
	if (!f->buf[0]) {
		av_frame_free(&f);
		return NULL;
	}
	av_image_fill_arrays(f->data, f->linesize, f->buf[0]->data, AV_PIX_FMT_YUV420P, w, h, 32);
	f->format = AV_PIX_FMT_YUV420P;
	f->width = w;
	f->height = h;
	return f;
}

static bool is_keyframe_time(const struct vs_rungs_opts *o, int64_t n)
{
	/* Keyframes by timestamp, not by frame count, so that every rung and
	 * a non-integer rate (29.97) cut at the same instants: frame n starts
	 * a GOP when it is the first at or after a multiple of gop_s, or after
	 * start_gop_s. */
	double t = (double)n * o->fps_den / o->fps_num;
	double prev = (double)(n - 1) * o->fps_den / o->fps_num;

	if (n == 0)
		return true;
	if (o->start_gop_s > 0 && t >= o->start_gop_s - 1e-9 && prev < o->start_gop_s - 1e-9)
		return true;
	return floor(t / o->gop_s + 1e-9) > floor(prev / o->gop_s + 1e-9);
}

static void encode_frame(struct vs_rungs_enc *r, AVFrame *in)
{
	AVFrame *out = NULL;
	int err;

	if (r->failed)
		return;
	if (in->format == AV_PIX_FMT_YUV420P && in->width == r->enc->width &&
	    in->height == r->enc->height) {
		out = av_frame_clone(in); /* the encoder only reads it */
	} else {
		r->sws = sws_getCachedContext(r->sws, in->width, in->height, in->format,
		                              r->enc->width, r->enc->height, AV_PIX_FMT_YUV420P,
		                              SWS_BICUBIC, NULL, NULL, NULL);
		out = pool_frame(r);
		if (!r->sws || !out) {
			rung_fail(r, "cannot scale", AVERROR(ENOMEM));
			av_frame_free(&out);
			return;
		}
		err = sws_scale_frame(r->sws, out, in);
		if (err < 0) {
			rung_fail(r, "cannot scale", err);
			av_frame_free(&out);
			return;
		}
	}
	out->pts = in->pts;
	out->pict_type = is_keyframe_time(r->opts, in->pts) ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
	out->sample_aspect_ratio = (AVRational){1, 1};
	out->color_range = AVCOL_RANGE_MPEG;
	r->last_pts = in->pts;
	r->frames++;
	err = avcodec_send_frame(r->enc, out);
	av_frame_free(&out);
	if (err < 0) {
		rung_fail(r, "the H.264 encoder refused a frame", err);
		return;
	}
	write_video_packets(r);
}

static void write_audio(struct vs_rungs_enc *r, AVPacket *p)
{
	int err;

	if (r->failed || !r->ast)
		return;
	r->audio_bytes += p->size;
	p->stream_index = r->ast->index;
	av_packet_rescale_ts(p, r->audio_tb, r->ast->time_base);
	err = av_interleaved_write_frame(r->mux, p);
	if (err < 0)
		rung_fail(r, "cannot write", err);
}

static void *rung_main(void *arg)
{
	struct vs_rungs_enc *r = arg;
	int err;

	for (;;) {
		struct vs_frameq_item it = vs_frameq_get(&r->q);

		if (!it.frame && !it.packet)
			break;
		if (it.frame)
			encode_frame(r, it.frame);
		else
			write_audio(r, it.packet);
		av_frame_free(&it.frame);
		av_packet_free(&it.packet);
	}
	if (!r->failed) {
		err = avcodec_send_frame(r->enc, NULL);
		if (err >= 0)
			write_video_packets(r);
		close_gop(r, r->last_pts + 1);
	}
	if (!r->failed) {
		err = av_write_trailer(r->mux);
		if (err < 0)
			rung_fail(r, "cannot finish the file", err);
	}
	return NULL;
}

int vs_rungs_open(struct vs_rungs_enc *r, const AVCodecContext *aenc)
{
	const AVCodec *x264 = avcodec_find_encoder_by_name("libx264");
	AVDictionary *mopts = NULL;
	char num[32];
	int err, gop_frames;
	double fps = (double)r->opts->fps_num / r->opts->fps_den;

	if (!x264)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "libavcodec has no libx264 encoder");
	r->pkt = av_packet_alloc();
	r->enc = avcodec_alloc_context3(x264);
	if (!r->pkt || !r->enc)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	r->enc->width = r->spec->width;
	r->enc->height = r->spec->height;
	r->enc->pix_fmt = AV_PIX_FMT_YUV420P;
	r->enc->sample_aspect_ratio = (AVRational){1, 1};
	r->enc->time_base = (AVRational){r->opts->fps_den, r->opts->fps_num};
	r->enc->framerate = (AVRational){r->opts->fps_num, r->opts->fps_den};
	r->enc->color_range = AVCOL_RANGE_MPEG;
	r->enc->rc_max_rate = r->spec->maxrate;
	r->enc->rc_buffer_size = (int)r->spec->bufsize;
	r->enc->thread_count = r->opts->threads;
	/* One keyframe per GOP, forced by timestamp in encode_frame(); x264's
	 * own limit is set past it so that it never adds one in between. */
	gop_frames = (int)ceil(r->opts->gop_s * fps);
	r->enc->gop_size = gop_frames + 1;
	r->enc->keyint_min = gop_frames;
	r->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	av_opt_set(r->enc->priv_data, "preset", r->opts->preset, 0);
	av_opt_set(r->enc->priv_data, "profile", "high", 0);
	snprintf(num, sizeof(num), "%d", r->opts->crf);
	av_opt_set(r->enc->priv_data, "crf", num, 0);
	av_opt_set(r->enc->priv_data, "forced-idr", "1", 0);
	/* 8x8dct: High profile with every preset (ultrafast would drop to
	 * Constrained Baseline). */
	av_opt_set(r->enc->priv_data, "x264-params", "scenecut=0:open-gop=0:8x8dct=1", 0);
	err = avcodec_open2(r->enc, x264, NULL);
	if (err < 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "cannot open the H.264 encoder for %s (preset '%s'?)",
		               r->spec->label, r->opts->preset);

	err = avformat_alloc_output_context2(&r->mux, NULL, "mp4", r->path);
	if (err < 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "cannot make an MP4 muxer");
	r->vst = avformat_new_stream(r->mux, NULL);
	avcodec_parameters_from_context(r->vst->codecpar, r->enc);
	r->vst->time_base = r->enc->time_base;
	r->vst->avg_frame_rate = r->enc->framerate;
	if (aenc) {
		r->ast = avformat_new_stream(r->mux, NULL);
		avcodec_parameters_from_context(r->ast->codecpar, aenc);
		r->ast->time_base = aenc->time_base;
		r->audio_tb = aenc->time_base;
	}
	err = avio_open(&r->mux->pb, r->path, AVIO_FLAG_WRITE);
	if (err < 0)
		return vs_fail(VS_ERR, VS_E_IO, "cannot create '%s': %s", r->path, av_err2str(err));
	/* The index first, so that players start before the file is loaded. */
	av_dict_set(&mopts, "movflags", "+faststart", 0);
	err = avformat_write_header(r->mux, &mopts);
	av_dict_free(&mopts);
	if (err < 0)
		return vs_fail(VS_ERR, VS_E_IO, "cannot write '%s': %s", r->path, av_err2str(err));
	vs_frameq_init(&r->q, r->opts->queue_len);
	r->queue_ready = true;
	return 0;
}

int vs_rungs_start(struct vs_rungs_enc *r)
{
	if (pthread_create(&r->thread, NULL, rung_main, r) != 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "cannot start a thread");
	r->started = true;
	return 0;
}

void vs_rungs_stop(struct vs_rungs_enc *r)
{
	struct vs_frameq_item eof = {0};

	vs_frameq_put(&r->q, eof);
	pthread_join(r->thread, NULL);
	r->started = false;
}

void vs_rungs_release(struct vs_rungs_enc *r)
{
	if (r->started)
		vs_rungs_stop(r);
	if (r->queue_ready)
		vs_frameq_release(&r->q);
	if (r->mux) {
		avio_closep(&r->mux->pb);
		avformat_free_context(r->mux);
	}
	avcodec_free_context(&r->enc);
	av_packet_free(&r->pkt);
	sws_freeContext(r->sws);
	av_buffer_pool_uninit(&r->pool); /* freed once the last frame is */
	free(r->path);
}
