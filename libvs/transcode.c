#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#include "error.h"
#include "fsutil.h"
#include "hls.h"
#include "log.h"
#include "probe.h"
#include "record.h"
#include "transcode.h"

#define QUEUE_LEN 8           /* frames or packets waiting per rung */
#define AUDIO_RATE 48000
#define AAC_FRAME 1024

/* ---- a bounded queue of frames and packets, one per rung ---- */

struct item {
	AVFrame *frame;   /* owned; or */
	AVPacket *packet; /* owned; both NULL: end of stream */
};

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t not_full, not_empty;
	struct item items[QUEUE_LEN];
	int head, count;
};

static void queue_init(struct queue *q)
{
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	q->head = q->count = 0;
}

static void queue_release(struct queue *q)
{
	for (int i = 0; i < q->count; i++) {
		struct item *it = &q->items[(q->head + i) % QUEUE_LEN];

		av_frame_free(&it->frame);
		av_packet_free(&it->packet);
	}
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
}

static void queue_put(struct queue *q, struct item it)
{
	pthread_mutex_lock(&q->mu);
	while (q->count == QUEUE_LEN)
		pthread_cond_wait(&q->not_full, &q->mu);
	q->items[(q->head + q->count) % QUEUE_LEN] = it;
	q->count++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

static struct item queue_get(struct queue *q)
{
	struct item it;

	pthread_mutex_lock(&q->mu);
	while (q->count == 0)
		pthread_cond_wait(&q->not_empty, &q->mu);
	it = q->items[q->head];
	q->head = (q->head + 1) % QUEUE_LEN;
	q->count--;
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->mu);
	return it;
}

/* ---- one rung: scale, encode, mux ---- */

struct rung {
	const struct vs_rung *spec;
	const struct vs_transcode_opts *opts;
	char *path;                 /* owned */
	struct queue q;
	bool queue_ready;
	pthread_t thread;
	bool started;
	struct SwsContext *sws;
	AVBufferPool *pool;         /* scaled frames, reused: no page faults per frame */
	AVCodecContext *enc;
	AVFormatContext *mux;
	AVStream *vst, *ast;
	AVRational audio_tb;
	AVPacket *pkt;
	/* measured */
	int64_t video_bytes, audio_bytes;
	int64_t gop_bytes, gop_start;  /* current GOP, in encoder time base */
	double peak_bps;
	int64_t frames;
	int64_t last_pts;
	/* failure, set by the thread */
	int failed;
	char error[256];
};

static void rung_fail(struct rung *r, const char *what, int err)
{
	char ebuf[128];

	if (r->failed)
		return;
	av_strerror(err, ebuf, sizeof(ebuf));
	r->failed = 1;
	snprintf(r->error, sizeof(r->error), "%s: %s: %s", r->spec->label, what, ebuf);
}

static void close_gop(struct rung *r, int64_t end_pts)
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

static int write_video_packets(struct rung *r)
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
static AVFrame *pool_frame(struct rung *r)
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

static bool is_keyframe_time(const struct vs_transcode_opts *o, int64_t n)
{
	/* Keyframes by timestamp, not by frame count, so that every rung and
	 * a non-integer rate (29.97) cut at the same instants: frame n starts
	 * a GOP when it is the first at or after a multiple of gop_s. */
	double t = (double)n * o->fps_den / o->fps_num;
	double prev = (double)(n - 1) * o->fps_den / o->fps_num;

	if (n == 0)
		return true;
	return floor(t / o->gop_s + 1e-9) > floor(prev / o->gop_s + 1e-9);
}

static void encode_frame(struct rung *r, AVFrame *in)
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

static void write_audio(struct rung *r, AVPacket *p)
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
	struct rung *r = arg;
	int err;

	for (;;) {
		struct item it = queue_get(&r->q);

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

static int rung_open(struct rung *r, const AVCodecContext *aenc, const json_t *probe)
{
	const AVCodec *x264 = avcodec_find_encoder_by_name("libx264");
	AVDictionary *mopts = NULL;
	char num[32];
	int err, gop_frames;
	double fps = (double)r->opts->fps_num / r->opts->fps_den;
	(void)probe;

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
	queue_init(&r->q);
	r->queue_ready = true;
	return 0;
}

static void rung_release(struct rung *r)
{
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

/* ---- thumbnails: poster and storyboard ---- */

struct thumbs {
	double interval;      /* storyboard */
	int tw, th, cols, rows, count, next;
	AVFrame *sprite;      /* YUVJ420P, cols*tw × rows*th */
	struct SwsContext *sws;
	/* poster: the liveliest of the sampled frames */
	double poster_step, next_poster, poster_until;
	double best_score;
	AVFrame *best;        /* reference to a canonical frame */
	struct SwsContext *score_sws;
	AVFrame *score;       /* small gray frame for scoring */
};

static int thumbs_init(struct thumbs *t, double duration, int dw, int dh, double interval)
{
	memset(t, 0, sizeof(*t));
	if (duration / interval > VS_STORYBOARD_MAX_THUMBS)
		interval = ceil(duration / VS_STORYBOARD_MAX_THUMBS);
	t->interval = interval;
	if (dw >= dh) {
		t->tw = VS_THUMB_LONG_SIDE;
		t->th = (int)lround((double)VS_THUMB_LONG_SIDE * dh / dw / 2) * 2;
	} else {
		t->th = VS_THUMB_LONG_SIDE;
		t->tw = (int)lround((double)VS_THUMB_LONG_SIDE * dw / dh / 2) * 2;
	}
	if (t->th < 2)
		t->th = 2;
	if (t->tw < 2)
		t->tw = 2;
	t->count = (int)ceil(duration / interval - 1e-6);
	if (t->count < 1)
		t->count = 1;
	t->cols = t->count < VS_SPRITE_COLUMNS ? t->count : VS_SPRITE_COLUMNS;
	t->rows = (t->count + t->cols - 1) / t->cols;
	t->sprite = av_frame_alloc();
	t->score = av_frame_alloc();
	if (!t->sprite || !t->score)
		return AVERROR(ENOMEM);
	t->sprite->format = AV_PIX_FMT_YUVJ420P;
	t->sprite->width = t->cols * t->tw;
	t->sprite->height = t->rows * t->th;
	if (av_frame_get_buffer(t->sprite, 0) < 0)
		return AVERROR(ENOMEM);
	/* black */
	for (int y = 0; y < t->sprite->height; y++)
		memset(t->sprite->data[0] + y * t->sprite->linesize[0], 0, t->sprite->width);
	for (int p = 1; p < 3; p++)
		for (int y = 0; y < t->sprite->height / 2; y++)
			memset(t->sprite->data[p] + y * t->sprite->linesize[p], 128, t->sprite->width / 2);
	t->score->format = AV_PIX_FMT_GRAY8;
	t->score->width = 64;
	t->score->height = 36;
	if (av_frame_get_buffer(t->score, 0) < 0)
		return AVERROR(ENOMEM);
	/* Poster candidates: a few dozen frames from the first 60%, skipping
	 * the very start, which is often black or a title card fading in. */
	t->poster_step = fmax(0.5, duration / 40);
	t->next_poster = fmin(1.0, duration * 0.1);
	t->poster_until = duration * 0.6;
	t->best_score = -1;
	return 0;
}

static void thumbs_release(struct thumbs *t)
{
	av_frame_free(&t->sprite);
	av_frame_free(&t->best);
	av_frame_free(&t->score);
	sws_freeContext(t->sws);
	sws_freeContext(t->score_sws);
}

/* Luma standard deviation of a small gray copy: near 0 for black, white
 * or flat frames, high for a picture with content. */
static double frame_score(struct thumbs *t, const AVFrame *f)
{
	double sum = 0, sum2 = 0;
	int n = t->score->width * t->score->height;

	t->score_sws = sws_getCachedContext(t->score_sws, f->width, f->height, f->format,
	                                    t->score->width, t->score->height, AV_PIX_FMT_GRAY8,
	                                    SWS_AREA, NULL, NULL, NULL);
	if (!t->score_sws || sws_scale_frame(t->score_sws, t->score, f) < 0)
		return 0;
	for (int y = 0; y < t->score->height; y++)
		for (int x = 0; x < t->score->width; x++) {
			double v = t->score->data[0][y * t->score->linesize[0] + x];

			sum += v;
			sum2 += v * v;
		}
	return sqrt(fmax(0, sum2 / n - (sum / n) * (sum / n)));
}

static void thumbs_frame(struct thumbs *t, AVFrame *f, double time)
{
	if (t->next < t->count && time >= t->next * t->interval - 1e-6) {
		int col = t->next % t->cols, row = t->next / t->cols;
		uint8_t *dst[4];
		int x = col * t->tw, y = row * t->th;

		t->sws = sws_getCachedContext(t->sws, f->width, f->height, f->format, t->tw, t->th,
		                              AV_PIX_FMT_YUVJ420P, SWS_BICUBIC, NULL, NULL, NULL);
		dst[0] = t->sprite->data[0] + y * t->sprite->linesize[0] + x;
		dst[1] = t->sprite->data[1] + (y / 2) * t->sprite->linesize[1] + x / 2;
		dst[2] = t->sprite->data[2] + (y / 2) * t->sprite->linesize[2] + x / 2;
		dst[3] = NULL;
		if (t->sws)
			sws_scale(t->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height,
			          dst, t->sprite->linesize);
		/* a frame may stand for several slots when the video is sparse */
		while (t->next < t->count && time >= t->next * t->interval - 1e-6)
			t->next++;
	}
	if (time >= t->next_poster && time <= t->poster_until + 1e-6) {
		double s = frame_score(t, f);

		if (s > t->best_score + 0.5 || !t->best) {
			av_frame_free(&t->best);
			t->best = av_frame_clone(f);
			t->best_score = s;
		}
		t->next_poster += t->poster_step;
	} else if (!t->best) {
		t->best = av_frame_clone(f); /* a very short video: its first frame */
	}
}

static int write_jpeg(const AVFrame *f, const char *path)
{
	const AVCodec *mjpeg = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
	AVCodecContext *c = mjpeg ? avcodec_alloc_context3(mjpeg) : NULL;
	AVPacket *p = av_packet_alloc();
	int err = AVERROR(ENOMEM);

	if (!c || !p)
		goto out;
	c->width = f->width;
	c->height = f->height;
	c->pix_fmt = AV_PIX_FMT_YUVJ420P;
	c->time_base = (AVRational){1, 25};
	c->flags |= AV_CODEC_FLAG_QSCALE;
	c->global_quality = FF_QP2LAMBDA * 3;
	err = avcodec_open2(c, mjpeg, NULL);
	if (err < 0)
		goto out;
	{
		AVFrame *q = av_frame_clone(f);

		q->quality = c->global_quality;
		q->pts = 0;
		err = avcodec_send_frame(c, q);
		av_frame_free(&q);
	}
	if (err >= 0)
		err = avcodec_send_frame(c, NULL);
	if (err >= 0)
		err = avcodec_receive_packet(c, p);
	if (err >= 0)
		err = vs_write_file_atomic(path, p->data, (size_t)p->size) < 0 ? AVERROR(EIO) : 0;
out:
	av_packet_free(&p);
	avcodec_free_context(&c);
	return err;
}

static int write_poster(struct thumbs *t, const char *path, int dw, int dh)
{
	struct SwsContext *sws = NULL;
	AVFrame *out = av_frame_alloc();
	int w = dw, h = dh, err;

	if (!t->best || !out) {
		av_frame_free(&out);
		return AVERROR(EINVAL);
	}
	if (w > VS_POSTER_MAX_WIDTH) {
		h = (int)lround((double)h * VS_POSTER_MAX_WIDTH / w / 2) * 2;
		w = VS_POSTER_MAX_WIDTH;
	}
	out->format = AV_PIX_FMT_YUVJ420P;
	out->width = w & ~1;
	out->height = h & ~1;
	err = av_frame_get_buffer(out, 0);
	sws = sws_getContext(t->best->width, t->best->height, t->best->format, out->width,
	                     out->height, AV_PIX_FMT_YUVJ420P, SWS_BICUBIC, NULL, NULL, NULL);
	if (err >= 0 && sws)
		err = sws_scale_frame(sws, out, t->best);
	if (err >= 0)
		err = write_jpeg(out, path);
	sws_freeContext(sws);
	av_frame_free(&out);
	return err;
}

static int write_storyboard(struct thumbs *t, const char *jpg, const char *vtt, double duration)
{
	const char *name = strrchr(jpg, '/') ? strrchr(jpg, '/') + 1 : jpg;
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	char a[32], b[32];
	int err;

	if (!m)
		return AVERROR(ENOMEM);
	/* Thumbnails that never came (the source ended early) stay black. */
	err = write_jpeg(t->sprite, jpg);
	fputs("WEBVTT\n", m);
	for (int i = 0; i < t->count; i++) {
		double start = i * t->interval, end = fmin((i + 1) * t->interval, duration);

		if (end <= start)
			end = start + 0.001;
		fprintf(m, "\n%s --> %s\n%s#xywh=%d,%d,%d,%d\n", vs_hls_vtt_time(start, a, sizeof(a)),
		        vs_hls_vtt_time(end, b, sizeof(b)), name, (i % t->cols) * t->tw, (i / t->cols) * t->th,
		        t->tw, t->th);
	}
	fclose(m);
	if (err >= 0 && vs_write_file_atomic(vtt, text, len) < 0)
		err = AVERROR(EIO);
	free(text);
	return err;
}

/* ---- the decoding side ---- */

struct pipeline {
	const struct vs_transcode_opts *opts;
	AVFormatContext *in;
	int vi, ai;
	AVCodecContext *vdec, *adec, *aenc;
	AVFilterGraph *graph;
	AVFilterContext *src, *sink;
	struct SwrContext *swr;
	AVAudioFifo *fifo;
	struct rung *rungs;
	int n;
	struct thumbs thumbs;
	AVFrame *frame, *filtered, *aframe;
	AVPacket *pkt;
	double base_s;       /* source time of output time 0 */
	int64_t first_out;   /* the fps filter's first pts */
	int64_t end_pts;     /* end of the last decoded frame, stream time base */
	int64_t audio_samples; /* samples handed to the AAC encoder */
	bool audio_started;
	int decode_errors;
	double done_s, duration;
	struct timespec t0;
	double last_progress;
};

static double elapsed(const struct pipeline *p)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - p->t0.tv_sec) + (now.tv_nsec - p->t0.tv_nsec) / 1e9;
}

static void broadcast_frame(struct pipeline *p, AVFrame *f)
{
	for (int i = 0; i < p->n; i++) {
		struct item it = {.frame = av_frame_clone(f)};

		queue_put(&p->rungs[i].q, it);
	}
}

static void broadcast_packet(struct pipeline *p, AVPacket *pkt)
{
	for (int i = 0; i < p->n; i++) {
		struct item it = {.packet = av_packet_clone(pkt)};

		queue_put(&p->rungs[i].q, it);
	}
}

static int drain_filter(struct pipeline *p)
{
	int err;

	while ((err = av_buffersink_get_frame(p->sink, p->filtered)) >= 0) {
		double t;

		if (p->first_out == AV_NOPTS_VALUE)
			p->first_out = p->filtered->pts;
		p->filtered->pts -= p->first_out;
		t = (double)p->filtered->pts * p->opts->fps_den / p->opts->fps_num;
		thumbs_frame(&p->thumbs, p->filtered, t);
		broadcast_frame(p, p->filtered);
		av_frame_unref(p->filtered);
		if (t > p->done_s)
			p->done_s = t;
	}
	return err == AVERROR(EAGAIN) || err == AVERROR_EOF ? 0 : err;
}

static int setup_filter(struct pipeline *p, const json_t *probe)
{
	AVStream *st = p->in->streams[p->vi];
	AVCodecContext *d = p->vdec;
	AVFilterInOut *outs = avfilter_inout_alloc(), *ins = avfilter_inout_alloc();
	AVRational tb = st->time_base, sar = d->sample_aspect_ratio;
	char args[512], chain[512];
	double rot = 0;
	int err;

	p->graph = avfilter_graph_alloc();
	if (!p->graph || !outs || !ins) {
		err = AVERROR(ENOMEM);
		goto out;
	}
	p->graph->nb_threads = 1;
	if (sar.num <= 0 || sar.den <= 0)
		sar = (AVRational){1, 1};
	snprintf(args, sizeof(args),
	         "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d", d->width,
	         d->height, d->pix_fmt, tb.num, tb.den, sar.num, sar.den);
	err = avfilter_graph_create_filter(&p->src, avfilter_get_by_name("buffer"), "in", args, NULL,
	                                   p->graph);
	if (err >= 0)
		err = avfilter_graph_create_filter(&p->sink, avfilter_get_by_name("buffersink"), "out",
		                                   NULL, NULL, p->graph);
	if (err < 0)
		goto out;
	vs_json_number(probe, "video.rotation", &rot);
	chain[0] = '\0';
	/* Deinterlace only what is marked interlaced; progressive frames
	 * pass untouched. */
	if (st->codecpar->field_order != AV_FIELD_PROGRESSIVE &&
	    st->codecpar->field_order != AV_FIELD_UNKNOWN)
		snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain),
		         "bwdif=mode=send_frame:deint=interlaced,");
	if ((int)rot == 90)
		snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain), "transpose=clock,");
	else if ((int)rot == 270)
		snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain), "transpose=cclock,");
	else if ((int)rot == 180)
		snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain), "hflip,vflip,");
	/* Constant frame rate: frames are dropped or repeated to the nearest
	 * output instant, counted from the video's own start. */
	snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain),
	         "fps=fps=%d/%d:start_time=%.6f:round=near", p->opts->fps_num, p->opts->fps_den,
	         p->base_s);
	outs->name = av_strdup("in");
	outs->filter_ctx = p->src;
	ins->name = av_strdup("out");
	ins->filter_ctx = p->sink;
	err = avfilter_graph_parse_ptr(p->graph, chain, &ins, &outs, NULL);
	if (err >= 0)
		err = avfilter_graph_config(p->graph, NULL);
out:
	avfilter_inout_free(&ins);
	avfilter_inout_free(&outs);
	if (err < 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "cannot set up the video filters: %s",
		               av_err2str(err));
	return 0;
}

static int open_decoder(AVStream *st, AVCodecContext **out, int threads)
{
	const AVCodec *c = avcodec_find_decoder(st->codecpar->codec_id);
	AVCodecContext *d = c ? avcodec_alloc_context3(c) : NULL;
	int err;

	if (!d)
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "no decoder for '%s'",
		               avcodec_get_name(st->codecpar->codec_id));
	avcodec_parameters_to_context(d, st->codecpar);
	d->pkt_timebase = st->time_base;
	d->thread_count = threads;
	err = avcodec_open2(d, c, NULL);
	if (err < 0) {
		avcodec_free_context(&d);
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "cannot open the %s decoder: %s", c->name,
		               av_err2str(err));
	}
	*out = d;
	return 0;
}

static int setup_audio(struct pipeline *p)
{
	const AVCodec *aac = avcodec_find_encoder_by_name("aac");
	AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;
	int err = open_decoder(p->in->streams[p->ai], &p->adec, 1);

	if (err < 0)
		return err;
	p->aenc = aac ? avcodec_alloc_context3(aac) : NULL;
	if (!p->aenc)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "no AAC encoder");
	p->aenc->sample_fmt = AV_SAMPLE_FMT_FLTP;
	p->aenc->sample_rate = AUDIO_RATE;
	av_channel_layout_copy(&p->aenc->ch_layout, &stereo);
	p->aenc->bit_rate = p->opts->audio_bps;
	p->aenc->time_base = (AVRational){1, AUDIO_RATE};
	p->aenc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	p->aenc->profile = FF_PROFILE_AAC_LOW;
	err = avcodec_open2(p->aenc, aac, NULL);
	if (err < 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "cannot open the AAC encoder: %s", av_err2str(err));
	p->fifo = av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, 2, AUDIO_RATE);
	return p->fifo ? 0 : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
}

static int encode_audio_frames(struct pipeline *p, bool flush)
{
	AVPacket *pkt = av_packet_alloc();
	int err = 0;

	if (!pkt)
		return AVERROR(ENOMEM);
	while (av_audio_fifo_size(p->fifo) >= AAC_FRAME ||
	       (flush && av_audio_fifo_size(p->fifo) > 0)) {
		int n = FFMIN(AAC_FRAME, av_audio_fifo_size(p->fifo));

		av_frame_unref(p->aframe);
		p->aframe->nb_samples = n;
		p->aframe->format = AV_SAMPLE_FMT_FLTP;
		p->aframe->sample_rate = AUDIO_RATE;
		av_channel_layout_copy(&p->aframe->ch_layout, &p->aenc->ch_layout);
		err = av_frame_get_buffer(p->aframe, 0);
		if (err < 0)
			break;
		av_audio_fifo_read(p->fifo, (void **)p->aframe->data, n);
		p->aframe->pts = p->audio_samples;
		p->audio_samples += n;
		err = avcodec_send_frame(p->aenc, p->aframe);
		if (err < 0)
			break;
		while ((err = avcodec_receive_packet(p->aenc, pkt)) >= 0) {
			broadcast_packet(p, pkt);
			av_packet_unref(pkt);
		}
		if (err == AVERROR(EAGAIN))
			err = 0;
		if (err < 0)
			break;
	}
	if (flush && err >= 0) {
		avcodec_send_frame(p->aenc, NULL);
		while (avcodec_receive_packet(p->aenc, pkt) >= 0) {
			broadcast_packet(p, pkt);
			av_packet_unref(pkt);
		}
	}
	av_packet_free(&pkt);
	return err;
}

static int push_audio(struct pipeline *p, AVFrame *f)
{
	uint8_t **buf = NULL;
	int err, out_n;

	if (!p->swr) {
		AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;

		err = swr_alloc_set_opts2(&p->swr, &stereo, AV_SAMPLE_FMT_FLTP, AUDIO_RATE,
		                          &f->ch_layout, f->format, f->sample_rate, 0, NULL);
		if (err < 0 || (err = swr_init(p->swr)) < 0)
			return err;
	}
	if (!p->audio_started && f) {
		/* Line the audio up with video time 0: pad a late start with
		 * silence, drop what comes before the picture. */
		AVStream *st = p->in->streams[p->ai];
		double t = f->pts != AV_NOPTS_VALUE ? f->pts * av_q2d(st->time_base) : p->base_s;
		int64_t offset = llround((t - p->base_s) * AUDIO_RATE);

		p->audio_started = true;
		if (offset > 0 && offset < AUDIO_RATE * 60) {
			AVFrame *z = av_frame_alloc();

			z->nb_samples = (int)offset;
			z->format = AV_SAMPLE_FMT_FLTP;
			z->sample_rate = AUDIO_RATE;
			av_channel_layout_default(&z->ch_layout, 2);
			if (av_frame_get_buffer(z, 0) >= 0) {
				av_samples_set_silence(z->data, 0, z->nb_samples, 2, AV_SAMPLE_FMT_FLTP);
				av_audio_fifo_write(p->fifo, (void **)z->data, z->nb_samples);
			}
			av_frame_free(&z);
		} else if (offset < 0) {
			swr_drop_output(p->swr, (int)FFMIN(-offset, INT_MAX));
		}
	}
	out_n = swr_get_out_samples(p->swr, f ? f->nb_samples : 0);
	if (out_n <= 0)
		return 0;
	err = av_samples_alloc_array_and_samples(&buf, NULL, 2, out_n, AV_SAMPLE_FMT_FLTP, 0);
	if (err < 0)
		return err;
	out_n = swr_convert(p->swr, buf, out_n, f ? (const uint8_t **)f->extended_data : NULL,
	                    f ? f->nb_samples : 0);
	if (out_n > 0)
		av_audio_fifo_write(p->fifo, (void **)buf, out_n);
	av_freep(&buf[0]);
	av_freep(&buf);
	return out_n < 0 ? out_n : 0;
}

static int decode_audio(struct pipeline *p, AVPacket *pkt)
{
	int err = avcodec_send_packet(p->adec, pkt);

	if (err < 0 && err != AVERROR_EOF) {
		p->decode_errors++;
		return 0;
	}
	while ((err = avcodec_receive_frame(p->adec, p->frame)) >= 0) {
		err = push_audio(p, p->frame);
		av_frame_unref(p->frame);
		if (err < 0)
			return err;
		err = encode_audio_frames(p, false);
		if (err < 0)
			return err;
	}
	return err == AVERROR(EAGAIN) || err == AVERROR_EOF ? 0 : err;
}

static int decode_video(struct pipeline *p, AVPacket *pkt)
{
	int err = avcodec_send_packet(p->vdec, pkt);

	if (err < 0 && err != AVERROR_EOF) {
		p->decode_errors++;
		return 0;
	}
	for (;;) {
		err = avcodec_receive_frame(p->vdec, p->frame);
		if (err == AVERROR(EAGAIN) || err == AVERROR_EOF)
			break;
		if (err < 0) {
			p->decode_errors++;
			break;
		}
		p->frame->pts = p->frame->best_effort_timestamp;
		if (p->frame->pts != AV_NOPTS_VALUE) {
			int64_t d = p->frame->pkt_duration;

			if (d <= 0) /* one frame at the nominal rate */
				d = av_rescale_q(1, av_inv_q(p->vdec->framerate.num > 0 ?
				                 p->vdec->framerate : (AVRational){p->opts->fps_num, p->opts->fps_den}),
				                 p->in->streams[p->vi]->time_base);
			if (p->frame->pts + d > p->end_pts)
				p->end_pts = p->frame->pts + d;
		}
		err = av_buffersrc_add_frame_flags(p->src, p->frame, AV_BUFFERSRC_FLAG_KEEP_REF);
		av_frame_unref(p->frame);
		if (err < 0)
			return err;
		err = drain_filter(p);
		if (err < 0)
			return err;
	}
	if (!pkt) {
		/* End the stream at the end of the last frame, not at its start,
		 * so that the fps filter keeps the last frame too. */
		err = av_buffersrc_close(p->src, p->end_pts == INT64_MIN ? AV_NOPTS_VALUE : p->end_pts,
		                         AV_BUFFERSRC_FLAG_PUSH);
		if (err >= 0)
			err = drain_filter(p);
		return err;
	}
	return 0;
}

static void report_progress(struct pipeline *p, bool last)
{
	double e;

	if (!p->opts->progress)
		return;
	e = elapsed(p);
	if (!last && e - p->last_progress < 0.5)
		return;
	p->last_progress = e;
	p->opts->progress(last ? p->duration : p->done_s, p->duration, e, p->opts->progress_ctx);
}

static json_t *rendition_json(const struct rung *r, double duration, double fps)
{
	json_t *o = json_object();
	char codecs[64];
	struct stat st;
	int64_t size = stat(r->path, &st) == 0 ? st.st_size : 0;
	double secs = duration > 0 ? duration : 1;
	double audio_bps = r->audio_bytes * 8.0 / secs;

	vs_h264_codecs(r->enc->extradata, r->enc->extradata_size, codecs, sizeof(codecs));
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

static void pipeline_release(struct pipeline *p)
{
	for (int i = 0; i < p->n; i++) {
		if (p->rungs[i].started) {
			struct item eof = {0};

			queue_put(&p->rungs[i].q, eof);
			pthread_join(p->rungs[i].thread, NULL);
		}
		if (p->rungs[i].queue_ready)
			queue_release(&p->rungs[i].q);
		rung_release(&p->rungs[i]);
	}
	free(p->rungs);
	thumbs_release(&p->thumbs);
	avfilter_graph_free(&p->graph);
	avcodec_free_context(&p->vdec);
	avcodec_free_context(&p->adec);
	avcodec_free_context(&p->aenc);
	swr_free(&p->swr);
	if (p->fifo)
		av_audio_fifo_free(p->fifo);
	av_frame_free(&p->frame);
	av_frame_free(&p->filtered);
	av_frame_free(&p->aframe);
	av_packet_free(&p->pkt);
	avformat_close_input(&p->in);
}

int vs_transcode(const char *src, const json_t *probe, const struct vs_transcode_opts *o,
                 const char *dir, json_t **result)
{
	struct pipeline p = {.opts = o, .vi = -1, .ai = -1, .first_out = AV_NOPTS_VALUE,
	                     .end_pts = INT64_MIN};
	AVDictionary *iopts = NULL;
	double dw = 0, dh = 0, fps = (double)o->fps_num / o->fps_den;
	char *url = NULL, *poster = NULL, *sprite = NULL, *vtt = NULL;
	json_t *renditions = NULL, *thumbs;
	int err, ret = VS_ERR, dec_threads;
	bool read_error = false;

	*result = NULL;
	vs_av_log_init();
	clock_gettime(CLOCK_MONOTONIC, &p.t0);
	vs_json_number(probe, "duration", &p.duration);
	vs_json_number(probe, "video.display_width", &dw);
	vs_json_number(probe, "video.display_height", &dh);
	if (asprintf(&url, "file:%s", src) < 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	av_dict_set(&iopts, "protocol_whitelist", "file", 0);
	err = avformat_open_input(&p.in, url, NULL, &iopts);
	av_dict_free(&iopts);
	free(url);
	if (err < 0) {
		ret = vs_fail(VS_ERR, VS_E_NOT_VIDEO, "cannot open the source: %s", av_err2str(err));
		goto out;
	}
	err = avformat_find_stream_info(p.in, NULL);
	if (err < 0) {
		ret = vs_fail(VS_ERR, VS_E_NOT_VIDEO, "cannot read the source: %s", av_err2str(err));
		goto out;
	}
	for (unsigned i = 0; i < p.in->nb_streams; i++) {
		AVStream *st = p.in->streams[i];

		if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
		    !(st->disposition & AV_DISPOSITION_ATTACHED_PIC) &&
		    (p.vi < 0 || (int64_t)st->codecpar->width * st->codecpar->height >
		                 (int64_t)p.in->streams[p.vi]->codecpar->width *
		                 p.in->streams[p.vi]->codecpar->height))
			p.vi = (int)i;
	}
	if (p.vi < 0) {
		ret = vs_fail(VS_ERR, VS_E_NOT_VIDEO, "the source has no video stream");
		goto out;
	}
	p.ai = av_find_best_stream(p.in, AVMEDIA_TYPE_AUDIO, -1, p.vi, NULL, 0);
	for (unsigned i = 0; i < p.in->nb_streams; i++)
		if ((int)i != p.vi && (int)i != p.ai)
			p.in->streams[i]->discard = AVDISCARD_ALL;
	{
		AVStream *vs = p.in->streams[p.vi];

		p.base_s = vs->start_time != AV_NOPTS_VALUE ? vs->start_time * av_q2d(vs->time_base) :
		           p.in->start_time != AV_NOPTS_VALUE ? (double)p.in->start_time / AV_TIME_BASE :
		           0;
	}
	/* One decoding thread up to 1080p: decoding is a small share of the
	 * work there, and frame threads would only add copies and waits on
	 * cores the encoders need (measured: 10% less wall time at 1080p).
	 * Larger pictures get libavcodec's frame threads. */
	{
		AVCodecParameters *vp = p.in->streams[p.vi]->codecpar;

		dec_threads = (int64_t)vp->width * vp->height <= VS_DECODE_SINGLE_THREAD_PIXELS ? 1 : 0;
	}
	if ((ret = open_decoder(p.in->streams[p.vi], &p.vdec, dec_threads)) < 0)
		goto out;
	if ((ret = setup_filter(&p, probe)) < 0)
		goto out;
	if (p.ai >= 0 && (ret = setup_audio(&p)) < 0)
		goto out;
	p.frame = av_frame_alloc();
	p.filtered = av_frame_alloc();
	p.aframe = av_frame_alloc();
	p.pkt = av_packet_alloc();
	if (!p.frame || !p.filtered || !p.aframe || !p.pkt ||
	    thumbs_init(&p.thumbs, p.duration > 0 ? p.duration : 1, (int)dw, (int)dh,
	                o->storyboard_interval_s) < 0) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}

	p.n = o->ladder->n;
	p.rungs = calloc((size_t)p.n, sizeof(*p.rungs));
	if (!p.rungs) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	for (int i = 0; i < p.n; i++) {
		struct rung *r = &p.rungs[i];
		char name[40];

		r->spec = &o->ladder->rungs[i];
		r->opts = o;
		snprintf(name, sizeof(name), "%s.mp4", r->spec->label);
		r->path = vs_path_join(dir, name);
		if (!r->path || (ret = rung_open(r, p.aenc, probe)) < 0)
			goto out;
	}
	for (int i = 0; i < p.n; i++) {
		if (pthread_create(&p.rungs[i].thread, NULL, rung_main, &p.rungs[i]) != 0) {
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "cannot start a thread");
			goto out;
		}
		p.rungs[i].started = true;
	}

	ret = 0;
	while ((err = av_read_frame(p.in, p.pkt)) >= 0) {
		if (p.pkt->stream_index == p.vi)
			err = decode_video(&p, p.pkt);
		else if (p.pkt->stream_index == p.ai)
			err = decode_audio(&p, p.pkt);
		av_packet_unref(p.pkt);
		if (err < 0) {
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "processing failed at %.2f s: %s", p.done_s,
			              av_err2str(err));
			goto out;
		}
		if (p.decode_errors > VS_DECODE_ERRORS_MAX) {
			ret = vs_fail(VS_ERR, VS_E_NOT_VIDEO,
			              "the source cannot be decoded: %d corrupt packets by %.2f s",
			              p.decode_errors, p.done_s);
			goto out;
		}
		report_progress(&p, false);
	}
	if (err != AVERROR_EOF)
		read_error = true;
	if (read_error) {
		ret = vs_fail(VS_ERR, VS_E_NOT_VIDEO, "the source cannot be read past %.2f s: %s",
		              p.done_s, av_err2str(err));
		goto out;
	}
	if ((err = decode_video(&p, NULL)) < 0 ||
	    (p.ai >= 0 && ((err = decode_audio(&p, NULL)) < 0 || (err = push_audio(&p, NULL)) < 0 ||
	                   (err = encode_audio_frames(&p, true)) < 0))) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "cannot finish: %s", av_err2str(err));
		goto out;
	}
	if (p.duration > 2 && p.done_s < p.duration * 0.9 - 1) {
		ret = vs_fail(VS_ERR, VS_E_NOT_VIDEO,
		              "the source cannot be decoded past %.2f s of %.2f s", p.done_s, p.duration);
		goto out;
	}
	/* end of stream for every rung, then wait for them */
	for (int i = 0; i < p.n; i++) {
		struct item eof = {0};

		queue_put(&p.rungs[i].q, eof);
		pthread_join(p.rungs[i].thread, NULL);
		p.rungs[i].started = false;
	}
	for (int i = 0; i < p.n; i++)
		if (p.rungs[i].failed) {
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "%s", p.rungs[i].error);
			goto out;
		}
	report_progress(&p, true);

	poster = vs_path_join(dir, "poster.jpg");
	sprite = vs_path_join(dir, "storyboard.jpg");
	vtt = vs_path_join(dir, "storyboard.vtt");
	if (!poster || !sprite || !vtt) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	if ((err = write_poster(&p.thumbs, poster, (int)dw, (int)dh)) < 0 ||
	    (err = write_storyboard(&p.thumbs, sprite, vtt, p.duration)) < 0) {
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot write the thumbnails: %s", av_err2str(err));
		goto out;
	}

	renditions = json_array();
	for (int i = 0; i < p.n; i++) {
		double d = (double)(p.rungs[i].last_pts + 1) * o->fps_den / o->fps_num;

		json_array_append_new(renditions, rendition_json(&p.rungs[i], d, fps));
	}
	thumbs = json_object();
	json_object_set_new(thumbs, "poster", json_string(poster));
	json_object_set_new(thumbs, "storyboard", json_string(sprite));
	json_object_set_new(thumbs, "storyboard_vtt", json_string(vtt));
	json_object_set_new(thumbs, "storyboard_interval", json_real(p.thumbs.interval));
	json_object_set_new(thumbs, "thumbnail_width", json_integer(p.thumbs.tw));
	json_object_set_new(thumbs, "thumbnail_height", json_integer(p.thumbs.th));
	*result = json_object();
	json_object_set_new(*result, "renditions", renditions);
	json_object_set_new(*result, "thumbnails", thumbs);
out:
	pipeline_release(&p);
	free(poster);
	free(sprite);
	free(vtt);
	return ret;
}

void vs_h264_codecs(const uint8_t *x, int size, char *out, size_t n)
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
