#include <math.h>

#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>

#include "fsutil.h"
#include "hls.h"
#include "thumbs.h"

int vs_thumbs_init(struct vs_thumbs *t, const struct vs_thumbs_opts *o, double duration, int dw,
                   int dh)
{
	double interval = o->interval_s;

	memset(t, 0, sizeof(*t));
	t->o = *o;
	if (duration / interval > o->max_thumbs)
		interval = ceil(duration / o->max_thumbs);
	t->interval = interval;
	if (dw >= dh) {
		t->tw = o->long_side;
		t->th = (int)lround((double)o->long_side * dh / dw / 2) * 2;
	} else {
		t->th = o->long_side;
		t->tw = (int)lround((double)o->long_side * dw / dh / 2) * 2;
	}
	if (t->th < 2)
		t->th = 2;
	if (t->tw < 2)
		t->tw = 2;
	t->count = (int)ceil(duration / interval - 1e-6);
	if (t->count < 1)
		t->count = 1;
	t->cols = t->count < o->columns ? t->count : o->columns;
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

void vs_thumbs_release(struct vs_thumbs *t)
{
	av_frame_free(&t->sprite);
	av_frame_free(&t->best);
	av_frame_free(&t->score);
	sws_freeContext(t->sws);
	sws_freeContext(t->score_sws);
}

/* Luma standard deviation of a small gray copy: near 0 for black, white
 * or flat frames, high for a picture with content. */
static double frame_score(struct vs_thumbs *t, const AVFrame *f)
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

void vs_thumbs_frame(struct vs_thumbs *t, AVFrame *f, double time)
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
		err = vs_fsutil_write_atomic(path, p->data, (size_t)p->size) < 0 ? AVERROR(EIO) : 0;
out:
	av_packet_free(&p);
	avcodec_free_context(&c);
	return err;
}

int vs_thumbs_write_poster(struct vs_thumbs *t, const char *path, int dw, int dh)
{
	struct SwsContext *sws = NULL;
	AVFrame *out = av_frame_alloc();
	int w = dw, h = dh, err;

	if (!t->best || !out) {
		av_frame_free(&out);
		return AVERROR(EINVAL);
	}
	if (w > t->o.poster_max_width) {
		h = (int)lround((double)h * t->o.poster_max_width / w / 2) * 2;
		w = t->o.poster_max_width;
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

int vs_thumbs_write_storyboard(struct vs_thumbs *t, const char *jpg, const char *vtt,
                               double duration)
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
	if (err >= 0 && vs_fsutil_write_atomic(vtt, text, len) < 0)
		err = AVERROR(EIO);
	free(text);
	return err;
}
