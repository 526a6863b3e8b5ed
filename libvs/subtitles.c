#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <math.h>

#include "error.h"
#include "log.h"
#include "probe.h"
#include "subtitles.h"

#define CUE_TEXT_MAX (64 << 10) /* bytes of one cue as the WebVTT encoder writes it */

/* One stream being read: its decoder, and the WebVTT encoder its text goes through. */
struct reader {
	AVCodecContext *dec, *enc;
	struct vs_subtitles_track *t;
};

static void reader_close(struct reader *r)
{
	avcodec_free_context(&r->dec);
	avcodec_free_context(&r->enc);
}

static char *dict_str(const AVDictionary *d, const char *key)
{
	const AVDictionaryEntry *e = av_dict_get(d, key, NULL, 0);

	return e && e->value && *e->value ? strdup(e->value) : NULL;
}

/* The decoder of st and a WebVTT encoder that takes its subtitles. */
static int reader_open(struct reader *r, const AVStream *st)
{
	const AVCodec *dc = avcodec_find_decoder(st->codecpar->codec_id);
	const AVCodec *ec = avcodec_find_encoder(AV_CODEC_ID_WEBVTT);
	int err = AVERROR_DECODER_NOT_FOUND;

	if (!dc || !ec || !(r->dec = avcodec_alloc_context3(dc)) || !(r->enc = avcodec_alloc_context3(ec)))
		goto fail;
	if ((err = avcodec_parameters_to_context(r->dec, st->codecpar)) < 0)
		goto fail;
	r->dec->pkt_timebase = st->time_base;
	if ((err = avcodec_open2(r->dec, dc, NULL)) < 0)
		goto fail;
	r->enc->time_base = AV_TIME_BASE_Q;
	if (r->dec->subtitle_header) { /* the styles the ASS text names */
		r->enc->subtitle_header = av_memdup(r->dec->subtitle_header, r->dec->subtitle_header_size);
		r->enc->subtitle_header_size = r->dec->subtitle_header_size;
	}
	if ((err = avcodec_open2(r->enc, ec, NULL)) < 0)
		goto fail;
	return 0;
fail:
	vs_log_warn("subtitle stream %d (%s) cannot be read: %s", st->index, avcodec_get_name(st->codecpar->codec_id),
	            av_err2str(err));
	reader_close(r);
	return err;
}

/* One packet of r's stream: its cue, if it makes one, into r->t->cues. */
static void reader_packet(struct reader *r, const AVStream *st, AVPacket *pkt, double base_s)
{
	AVSubtitle sub = {0};
	uint8_t *buf;
	int got = 0, len;
	double at, end;

	if (avcodec_decode_subtitle2(r->dec, &sub, &got, pkt) < 0 || !got)
		return;
	at = sub.pts != AV_NOPTS_VALUE ? (double)sub.pts / AV_TIME_BASE
	     : pkt->pts != AV_NOPTS_VALUE ? pkt->pts * av_q2d(st->time_base) : NAN;
	end = sub.end_display_time && sub.end_display_time != UINT32_MAX ? at + sub.end_display_time / 1000.0
	      : at + pkt->duration * av_q2d(st->time_base);
	at += sub.start_display_time / 1000.0;
	buf = av_malloc(CUE_TEXT_MAX + 1);
	len = buf && sub.num_rects > 0 ? avcodec_encode_subtitle(r->enc, buf, CUE_TEXT_MAX, &sub) : -1;
	if (len > 0 && isfinite(at)) {
		buf[len] = '\0';
		/* before the video's start: cut to it; a bad cue is skipped */
		if (vs_vtt_add(&r->t->cues, fmax(at - base_s, 0), end - base_s, (char *)buf) < 0)
			vs_error_clear();
	}
	av_free(buf);
	avsubtitle_free(&sub);
}

static void track_init(struct vs_subtitles_track *t, const AVStream *st)
{
	t->stream = st->index;
	snprintf(t->codec, sizeof(t->codec), "%s", avcodec_get_name(st->codecpar->codec_id));
	t->language = dict_str(st->metadata, "language");
	t->title = dict_str(st->metadata, "title");
	t->is_default = st->disposition & AV_DISPOSITION_DEFAULT;
	t->forced = st->disposition & AV_DISPOSITION_FORCED;
	t->hearing_impaired = st->disposition & AV_DISPOSITION_HEARING_IMPAIRED;
}

static bool is_text(const AVStream *st)
{
	const AVCodecDescriptor *d = avcodec_descriptor_get(st->codecpar->codec_id);

	return st->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE && d && (d->props & AV_CODEC_PROP_TEXT_SUB);
}

int vs_subtitles_read(const char *path, struct vs_subtitles *s)
{
	AVFormatContext *in = NULL;
	struct reader *r = NULL;
	AVPacket *pkt = NULL;
	double base_s = 0;
	int err, vi, ai, ret = 0;

	memset(s, 0, sizeof(*s));
	if ((err = vs_probe_open_local(path, &in)) < 0)
		return vs_fail(VS_ERR, VS_E_IO, "cannot read '%s': %s", path, av_err2str(err));
	vi = av_find_best_stream(in, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	if (vi >= 0)
		base_s = vs_probe_video_start(in, vi);
	ai = av_find_best_stream(in, AVMEDIA_TYPE_AUDIO, -1, vi, NULL, 0);
	if (ai >= 0)
		s->audio_language = dict_str(in->streams[ai]->metadata, "language");
	r = calloc(in->nb_streams, sizeof(*r));
	s->tracks = calloc(in->nb_streams ? in->nb_streams : 1, sizeof(*s->tracks));
	pkt = av_packet_alloc();
	if (!r || !s->tracks || !pkt) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < in->nb_streams; i++) {
		AVStream *st = in->streams[i];

		st->discard = AVDISCARD_ALL;
		if (st->codecpar->codec_type != AVMEDIA_TYPE_SUBTITLE)
			continue;
		if (!is_text(st)) {
			vs_log_info("subtitle stream %u (%s) is pictures, not text: skipped", i,
			            avcodec_get_name(st->codecpar->codec_id));
			continue;
		}
		if (reader_open(&r[i], st) < 0)
			continue;
		r[i].t = &s->tracks[s->n++];
		track_init(r[i].t, st);
		st->discard = AVDISCARD_DEFAULT;
	}
	while (s->n > 0 && av_read_frame(in, pkt) >= 0) {
		struct reader *one = &r[pkt->stream_index];

		if (one->t)
			reader_packet(one, in->streams[pkt->stream_index], pkt, base_s);
		av_packet_unref(pkt);
	}
out:
	for (unsigned i = 0; r && i < in->nb_streams; i++)
		reader_close(&r[i]);
	free(r);
	av_packet_free(&pkt);
	avformat_close_input(&in);
	if (ret < 0)
		vs_subtitles_release(s);
	return ret;
}

void vs_subtitles_release(struct vs_subtitles *s)
{
	for (int i = 0; s->tracks && i < s->n; i++) {
		free(s->tracks[i].language);
		free(s->tracks[i].title);
		vs_vtt_release(&s->tracks[i].cues);
	}
	free(s->tracks);
	free(s->audio_language);
	memset(s, 0, sizeof(*s));
}
