#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libswresample/swresample.h>

#include "decode.h"
#include "error.h"
#include "frameq.h"
#include "probe.h"
#include "record.h"
#include "rungs.h"
#include "thumbs.h"

#define AUDIO_RATE 48000
#define AAC_FRAME 1024

static double elapsed(const struct vs_decode *p)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - p->t0.tv_sec) + (now.tv_nsec - p->t0.tv_nsec) / 1e9;
}

static void broadcast_frame(struct vs_decode *p, AVFrame *f)
{
	for (int i = 0; i < p->n; i++) {
		struct vs_frameq_item it = {.frame = av_frame_clone(f)};

		vs_frameq_put(&p->rungs[i].q, it);
	}
}

static void broadcast_packet(struct vs_decode *p, AVPacket *pkt)
{
	for (int i = 0; i < p->n; i++) {
		struct vs_frameq_item it = {.packet = av_packet_clone(pkt)};

		vs_frameq_put(&p->rungs[i].q, it);
	}
}

static int drain_filter(struct vs_decode *p)
{
	int err;

	while ((err = av_buffersink_get_frame(p->sink, p->filtered)) >= 0) {
		double t;

		if (p->first_out == AV_NOPTS_VALUE)
			p->first_out = p->filtered->pts;
		p->filtered->pts -= p->first_out;
		t = (double)p->filtered->pts * p->opts->fps_den / p->opts->fps_num;
		vs_thumbs_frame(&p->thumbs, p->filtered, t);
		broadcast_frame(p, p->filtered);
		av_frame_unref(p->filtered);
		if (t > p->done_s)
			p->done_s = t;
	}
	return err == AVERROR(EAGAIN) || err == AVERROR_EOF ? 0 : err;
}

static int setup_filter(struct vs_decode *p, const json_t *probe)
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

static int setup_audio(struct vs_decode *p)
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

static int encode_audio_frames(struct vs_decode *p, bool flush)
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

static int push_audio(struct vs_decode *p, AVFrame *f)
{
	uint8_t **buf = NULL;
	int err, out_n;

	if (!p->swr && !f)
		return 0; /* flushing, and no audio frame ever came */
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

static int decode_audio(struct vs_decode *p, AVPacket *pkt)
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

static int decode_video(struct vs_decode *p, AVPacket *pkt)
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

void vs_decode_init(struct vs_decode *p, const struct vs_decode_opts *opts)
{
	*p = (struct vs_decode){.opts = opts, .vi = -1, .ai = -1, .first_out = AV_NOPTS_VALUE,
	                        .end_pts = INT64_MIN};
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
}

int vs_decode_open(struct vs_decode *p, const char *src)
{
	int err = vs_probe_open_local(src, &p->in);

	if (err < 0)
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "cannot %s the source: %s", p->in ? "read" : "open",
		               av_err2str(err));
	for (unsigned i = 0; i < p->in->nb_streams; i++) {
		AVStream *st = p->in->streams[i];

		if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
		    !(st->disposition & AV_DISPOSITION_ATTACHED_PIC) &&
		    (p->vi < 0 || (int64_t)st->codecpar->width * st->codecpar->height >
		                  (int64_t)p->in->streams[p->vi]->codecpar->width *
		                  p->in->streams[p->vi]->codecpar->height))
			p->vi = (int)i;
	}
	if (p->vi < 0)
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "the source has no video stream");
	p->ai = av_find_best_stream(p->in, AVMEDIA_TYPE_AUDIO, -1, p->vi, NULL, 0);
	for (unsigned i = 0; i < p->in->nb_streams; i++)
		if ((int)i != p->vi && (int)i != p->ai)
			p->in->streams[i]->discard = AVDISCARD_ALL;
	p->base_s = vs_probe_video_start(p->in, p->vi);
	return 0;
}

int vs_decode_open_codecs(struct vs_decode *p, const json_t *probe, int video_threads)
{
	int ret;

	if ((ret = open_decoder(p->in->streams[p->vi], &p->vdec, video_threads)) < 0)
		return ret;
	if ((ret = setup_filter(p, probe)) < 0)
		return ret;
	if (p->ai >= 0 && (ret = setup_audio(p)) < 0)
		return ret;
	p->frame = av_frame_alloc();
	p->filtered = av_frame_alloc();
	p->aframe = av_frame_alloc();
	p->pkt = av_packet_alloc();
	if (!p->frame || !p->filtered || !p->aframe || !p->pkt)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	return 0;
}

int vs_decode_packet(struct vs_decode *p, AVPacket *pkt)
{
	if (pkt->stream_index == p->vi)
		return decode_video(p, pkt);
	if (pkt->stream_index == p->ai)
		return decode_audio(p, pkt);
	return 0;
}

int vs_decode_flush(struct vs_decode *p)
{
	int err;

	if ((err = decode_video(p, NULL)) < 0 ||
	    (p->ai >= 0 && ((err = decode_audio(p, NULL)) < 0 || (err = push_audio(p, NULL)) < 0 ||
	                    (err = encode_audio_frames(p, true)) < 0)))
		return err;
	return 0;
}

void vs_decode_progress(struct vs_decode *p, bool last)
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

void vs_decode_release(struct vs_decode *p)
{
	for (int i = 0; i < p->n; i++)
		vs_rungs_release(&p->rungs[i]);
	free(p->rungs);
	vs_thumbs_release(&p->thumbs);
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
