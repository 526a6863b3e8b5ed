#include <inttypes.h>
#include <math.h>
#include <strings.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>

#include "error.h"
#include "log.h"
#include "probe.h"

/* How many packets of the video stream to try before declaring it
 * undecodable (some streams start with many non-key packets). */
#define PROBE_DECODE_MAX_PACKETS 600
/* Tail check: read this far before the stated end... */
#define PROBE_TAIL_SECONDS 5.0
/* ...and call the file truncated when its packets stop more than this
 * (or this share of the duration, whichever is larger) before it. */
#define PROBE_TAIL_TOLERANCE_S 1.0
#define PROBE_TAIL_TOLERANCE_SHARE 0.02

static _Thread_local char av_last_error[256];

static void av_log_cb(void *avcl, int level, const char *fmt, va_list ap)
{
	char line[512];
	int print_prefix = 0; /* no "[mov,mp4 @ 0x…]" in our messages */

	if (vs_log_level() >= VS_LOG_DEBUG) {
		av_log_default_callback(avcl, level, fmt, ap);
		return;
	}
	if (level > AV_LOG_ERROR)
		return;
	av_log_format_line(avcl, level, fmt, ap, line, sizeof(line), &print_prefix);
	line[strcspn(line, "\n")] = '\0';
	if (line[0])
		snprintf(av_last_error, sizeof(av_last_error), "%.255s", line);
}

void vs_probe_av_log_init(void)
{
	av_log_set_callback(av_log_cb);
}

const char *vs_probe_av_last_error(void)
{
	return av_last_error;
}

static const char *av_errstr(int err, char *buf, size_t n)
{
	av_strerror(err, buf, n);
	return buf;
}

/* Demuxers that are not a video file: playlists and lists that make
 * libavformat open other files, text shown as video, single images. */
static bool refused_demuxer(const char *name, const char **why)
{
	static const char *const lists[] = {"hls", "concat", "dash", "ffmetadata", "lavfi",
	                                    "sdp", "rtsp", "data", NULL};

	for (int i = 0; lists[i]; i++)
		if (!strcmp(name, lists[i])) {
			*why = "a playlist or list of other files, not a video file";
			return true;
		}
	if (!strcmp(name, "tty") || !strcmp(name, "bintext") || !strcmp(name, "xbin") ||
	    !strcmp(name, "adf") || !strcmp(name, "idf")) {
		*why = "text, not a video";
		return true;
	}
	if (!strcmp(name, "image2") || strstr(name, "_pipe")) {
		*why = "a still image, not a video";
		return true;
	}
	return false;
}

static int pick_video_stream(AVFormatContext *fmt)
{
	int best = -1;
	int64_t best_area = -1;

	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		AVStream *st = fmt->streams[i];
		int64_t area = (int64_t)st->codecpar->width * st->codecpar->height;

		if (st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO ||
		    (st->disposition & AV_DISPOSITION_ATTACHED_PIC))
			continue;
		if (area > best_area) {
			best = (int)i;
			best_area = area;
		}
	}
	return best;
}

/* Decodes until one frame comes out, proving the stream is playable; fills
 * *pix_fmt from the frame when the container did not say. */
static int decode_first_frame(AVFormatContext *fmt, int vi, enum AVPixelFormat *pix_fmt)
{
	AVStream *st = fmt->streams[vi];
	const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
	AVCodecContext *dec = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *frame = av_frame_alloc();
	int ret = VS_ERR, err, tried = 0;
	bool eof = false;
	char ebuf[128];

	if (!codec) {
		ret = vs_fail(VS_ERR, VS_E_NOT_VIDEO, "no decoder for video codec '%s'",
		              avcodec_get_name(st->codecpar->codec_id));
		goto out;
	}
	dec = avcodec_alloc_context3(codec);
	if (!dec || !pkt || !frame) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	avcodec_parameters_to_context(dec, st->codecpar);
	dec->thread_count = 1;
	err = avcodec_open2(dec, codec, NULL);
	if (err < 0) {
		ret = vs_fail(VS_ERR, VS_E_NOT_VIDEO, "cannot open the %s decoder: %s",
		              codec->name, av_errstr(err, ebuf, sizeof(ebuf)));
		goto out;
	}
	while (tried < PROBE_DECODE_MAX_PACKETS) {
		if (!eof) {
			err = av_read_frame(fmt, pkt);
			if (err < 0) {
				eof = true;
				avcodec_send_packet(dec, NULL);
			} else if (pkt->stream_index != vi) {
				av_packet_unref(pkt);
				continue;
			} else {
				tried++;
				avcodec_send_packet(dec, pkt); /* a bad packet is not fatal yet */
				av_packet_unref(pkt);
			}
		}
		err = avcodec_receive_frame(dec, frame);
		if (err == 0) {
			if (*pix_fmt == AV_PIX_FMT_NONE)
				*pix_fmt = frame->format;
			ret = 0;
			goto out;
		}
		if (eof && err != AVERROR(EAGAIN))
			break;
	}
	ret = vs_fail(VS_ERR, VS_E_NOT_VIDEO, "the %s video stream cannot be decoded%s%s",
	              avcodec_get_name(st->codecpar->codec_id), av_last_error[0] ? ": " : "",
	              av_last_error);
out:
	av_frame_free(&frame);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	return ret;
}

/* Formats with a sample index (MP4, MOV): every sample must lie inside the
 * file. Exact, and costs no reading. Returns 1 when the check applied, 0
 * when it does not apply, VS_ERR when the file is truncated. */
static int check_index(AVFormatContext *fmt, int64_t file_size)
{
	int64_t end = 0;
	bool any = false;

	if (!strstr(fmt->iformat->name, "mov"))
		return 0;
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		AVStream *st = fmt->streams[i];
		int n = avformat_index_get_entries_count(st);

		for (int k = 0; k < n; k++) {
			const AVIndexEntry *e = avformat_index_get_entry(st, k);

			if (e && e->pos + e->size > end)
				end = e->pos + e->size;
			any = true;
		}
	}
	if (!any)
		return 0;
	if (end > file_size)
		return vs_fail(VS_ERR, VS_E_TRUNCATED,
		               "truncated: the file is %" PRId64 " bytes, its index needs %" PRId64,
		               file_size, end);
	return 1;
}

/* Other formats: read the last seconds and see that packets reach the
 * stated end without errors. */
static int check_tail(AVFormatContext *fmt, double duration)
{
	AVPacket *pkt = av_packet_alloc();
	double last_end = -1, tolerance;
	int err, ret = 0, n = 0;
	int64_t target;
	char ebuf[128];

	if (!pkt)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if (fmt->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE)
		goto out; /* the duration is a guess from the size: nothing to compare */
	target = (int64_t)((duration - PROBE_TAIL_SECONDS) * AV_TIME_BASE);
	if (fmt->start_time != AV_NOPTS_VALUE)
		target += fmt->start_time;
	if (target > 0 && avformat_seek_file(fmt, -1, INT64_MIN, target, target, 0) < 0)
		goto out; /* cannot seek: the check does not apply */
	while ((err = av_read_frame(fmt, pkt)) >= 0 && n < 100000) {
		AVStream *st = fmt->streams[pkt->stream_index];
		int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;

		if (ts != AV_NOPTS_VALUE) {
			double t = (double)(ts + (pkt->duration > 0 ? pkt->duration : 0)) *
			           av_q2d(st->time_base);

			if (fmt->start_time != AV_NOPTS_VALUE)
				t -= (double)fmt->start_time / AV_TIME_BASE;
			if (t > last_end)
				last_end = t;
		}
		av_packet_unref(pkt);
		n++;
	}
	if (err < 0 && err != AVERROR_EOF) {
		ret = vs_fail(VS_ERR, VS_E_TRUNCATED, "truncated or corrupt near the end: %s",
		              av_errstr(err, ebuf, sizeof(ebuf)));
		goto out;
	}
	tolerance = fmax(PROBE_TAIL_TOLERANCE_S, duration * PROBE_TAIL_TOLERANCE_SHARE);
	if (last_end >= 0 && last_end < duration - tolerance)
		ret = vs_fail(VS_ERR, VS_E_TRUNCATED,
		              "truncated: data stops at %.2f s of a stated %.2f s", last_end, duration);
out:
	av_packet_free(&pkt);
	return ret;
}

static int rotation_of(AVStream *st)
{
	const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
	double theta;
	int deg;

	if (!m)
		return 0;
	/* av_display_rotation_get() is counter-clockwise; the record gives the
	 * clockwise turn a player applies, as the old "rotate" tag did. */
	theta = -av_display_rotation_get((const int32_t *)m);
	if (isnan(theta))
		return 0;
	deg = (int)lround(theta / 90.0) * 90;
	deg %= 360;
	if (deg < 0)
		deg += 360;
	return deg;
}

static json_t *video_json(AVFormatContext *fmt, AVStream *st, enum AVPixelFormat pix_fmt)
{
	AVCodecParameters *par = st->codecpar;
	AVRational sar = av_guess_sample_aspect_ratio(fmt, st, NULL);
	AVRational fr = av_guess_frame_rate(fmt, st, NULL);
	int rot = rotation_of(st);
	int dw = par->width, dh = par->height;
	json_t *v = json_object();
	const char *pf = av_get_pix_fmt_name(pix_fmt);

	if (sar.num > 0 && sar.den > 0 && av_cmp_q(sar, (AVRational){1, 1}) != 0) {
		/* Square pixels for display: widen (or narrow) the width, even. */
		dw = (int)lround((double)par->width * sar.num / sar.den / 2.0) * 2;
	}
	if (rot == 90 || rot == 270) {
		int t = dw;
		dw = dh;
		dh = t;
	}
	json_object_set_new(v, "codec", json_string(avcodec_get_name(par->codec_id)));
	json_object_set_new(v, "width", json_integer(par->width));
	json_object_set_new(v, "height", json_integer(par->height));
	json_object_set_new(v, "display_width", json_integer(dw));
	json_object_set_new(v, "display_height", json_integer(dh));
	json_object_set_new(v, "rotation", json_integer(rot));
	json_object_set_new(v, "fps", fr.num > 0 && fr.den > 0 ?
	                    json_real(round(av_q2d(fr) * 1000.0) / 1000.0) : json_null());
	json_object_set_new(v, "pix_fmt", pf ? json_string(pf) : json_null());
	if (sar.num > 0 && sar.den > 0) {
		char s[32];

		snprintf(s, sizeof(s), "%d:%d", sar.num, sar.den);
		json_object_set_new(v, "sar", json_string(s));
	}
	if (par->field_order != AV_FIELD_UNKNOWN)
		json_object_set_new(v, "interlaced",
		                    json_boolean(par->field_order != AV_FIELD_PROGRESSIVE));
	if (par->bits_per_raw_sample > 0)
		json_object_set_new(v, "bit_depth", json_integer(par->bits_per_raw_sample));
	return v;
}

static json_t *audio_json(AVStream *st)
{
	AVCodecParameters *par = st->codecpar;
	json_t *a = json_object();

	json_object_set_new(a, "codec", json_string(avcodec_get_name(par->codec_id)));
	json_object_set_new(a, "channels", json_integer(par->ch_layout.nb_channels));
	json_object_set_new(a, "sample_rate", json_integer(par->sample_rate));
	return a;
}

static json_t *chapters_json(AVFormatContext *fmt)
{
	json_t *arr = json_array();

	for (unsigned i = 0; i < fmt->nb_chapters; i++) {
		AVChapter *c = fmt->chapters[i];
		AVDictionaryEntry *t = av_dict_get(c->metadata, "title", NULL, 0);
		json_t *ch = json_object();
		json_t *title = t ? json_string(t->value) : NULL;
		char name[32];

		if (!title) { /* no title, or one that is not UTF-8 */
			snprintf(name, sizeof(name), "Chapter %u", i + 1);
			title = json_string(name);
		}
		json_object_set_new(ch, "title", title);
		json_object_set_new(ch, "start", json_real(round(c->start * av_q2d(c->time_base) * 1000) / 1000));
		json_object_set_new(ch, "end", json_real(round(c->end * av_q2d(c->time_base) * 1000) / 1000));
		json_array_append_new(arr, ch);
	}
	return arr;
}

/*
 * Opens path for reading its streams: *pb and *fmt, the caller's to close
 * (avformat_close_input, then avio_closep) even on failure.
 *
 * "file:" so that a name with a colon is never taken for a protocol. The
 * format is found from the bytes first, and a playlist or list is refused
 * before its demuxer could open what it names (an .m3u8 of
 * file:/etc/passwd); the demuxer then opened is that one only, on this file
 * only.
 */
static int open_media(const char *url, AVIOContext **pb, AVFormatContext **fmt)
{
	const AVInputFormat *ifmt = NULL;
	AVDictionary *opts = NULL;
	const char *why;
	char ebuf[128];
	int err;

	av_dict_set(&opts, "protocol_whitelist", "file", 0);
	err = avio_open2(pb, url, AVIO_FLAG_READ, NULL, &opts);
	av_dict_free(&opts);
	if (err >= 0)
		err = av_probe_input_buffer2(*pb, &ifmt, url, NULL, 0, 0);
	if (err < 0 || !ifmt)
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "not a media file (%s)",
		               av_last_error[0] ? av_last_error : av_errstr(err, ebuf, sizeof(ebuf)));
	if (refused_demuxer(ifmt->name, &why))
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "%s", why);
	if (!(*fmt = avformat_alloc_context()))
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	(*fmt)->pb = *pb;
	(*fmt)->flags |= AVFMT_FLAG_CUSTOM_IO;
	av_dict_set(&opts, "protocol_whitelist", "file", 0);
	av_dict_set(&opts, "format_whitelist", ifmt->name, 0);
	err = avformat_open_input(fmt, url, ifmt, &opts);
	av_dict_free(&opts);
	if (err < 0) /* *fmt is freed, *pb is still ours */
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "not a media file (%s)",
		               av_last_error[0] ? av_last_error : av_errstr(err, ebuf, sizeof(ebuf)));
	err = avformat_find_stream_info(*fmt, NULL);
	if (err < 0)
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "cannot read the streams: %s",
		               av_errstr(err, ebuf, sizeof(ebuf)));
	return 0;
}

/* The video stream (*vi), the audio stream (*ai, or < 0) and the duration,
 * or why this is not a video. */
static int pick_streams(AVFormatContext *fmt, int *vi, int *ai, double *duration)
{
	const AVStream *v;

	*vi = pick_video_stream(fmt);
	if (*vi < 0) {
		bool audio = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0) >= 0;

		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "%s",
		               audio ? "audio only: no video stream" : "no video stream");
	}
	v = fmt->streams[*vi];
	if (v->codecpar->codec_id == AV_CODEC_ID_ANSI)
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "text, not a video");
	if (v->codecpar->width <= 0 || v->codecpar->height <= 0)
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "the video stream has no picture size");
	*ai = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, *vi, NULL, 0);
	*duration = 0;
	if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
		*duration = (double)fmt->duration / AV_TIME_BASE;
	else if (v->duration != AV_NOPTS_VALUE)
		*duration = v->duration * av_q2d(v->time_base);
	if (!(*duration > 0))
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "no duration: not a video (a still image?)");
	if (v->nb_frames == 1)
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "a single picture, not a video");
	return 0;
}

int vs_probe_file(const char *path, json_t **probe, json_t **chapters)
{
	AVFormatContext *fmt = NULL;
	AVIOContext *pb = NULL;
	enum AVPixelFormat pix_fmt;
	json_t *p = NULL;
	char *url = NULL;
	struct stat sb;
	double duration = 0;
	int ret = 0, vi = -1, ai = -1;
	int64_t bit_rate;

	*probe = NULL;
	*chapters = NULL;
	vs_probe_av_log_init();
	av_last_error[0] = '\0';
	if (stat(path, &sb) != 0)
		return vs_fail(VS_ERR, errno == ENOENT ? VS_E_NOT_FOUND : VS_E_IO, "%s",
		               strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return vs_fail(VS_ERR, VS_E_INVALID, "not a regular file");
	if (sb.st_size == 0)
		return vs_fail(VS_ERR, VS_E_NOT_VIDEO, "the file is empty");
	if (asprintf(&url, "file:%s", path) < 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if ((ret = open_media(url, &pb, &fmt)) < 0 || (ret = pick_streams(fmt, &vi, &ai, &duration)) < 0)
		goto out;
	pix_fmt = fmt->streams[vi]->codecpar->format;
	ret = decode_first_frame(fmt, vi, &pix_fmt);
	if (ret < 0)
		goto out;
	ret = check_index(fmt, sb.st_size);
	if (ret == 0)
		ret = check_tail(fmt, duration);
	if (ret < 0)
		goto out;
	ret = 0; /* check_index answers 1 when its check applied */

	bit_rate = fmt->bit_rate > 0 ? fmt->bit_rate : (int64_t)(sb.st_size * 8 / duration);
	p = json_object();
	json_object_set_new(p, "duration", json_real(round(duration * 1000.0) / 1000.0));
	json_object_set_new(p, "format", json_string(fmt->iformat->name));
	json_object_set_new(p, "bit_rate", json_integer(bit_rate));
	json_object_set_new(p, "video", video_json(fmt, fmt->streams[vi], pix_fmt));
	json_object_set_new(p, "audio", ai >= 0 ? audio_json(fmt->streams[ai]) : json_null());
	*probe = p;
	*chapters = chapters_json(fmt);
out:
	avformat_close_input(&fmt);
	avio_closep(&pb);
	free(url);
	return ret;
}

const char *vs_probe_content_type(const char *filename, const char *format)
{
	static const struct {
		const char *ext, *type;
	} by_ext[] = {
		{"mp4", "video/mp4"}, {"m4v", "video/mp4"}, {"mov", "video/quicktime"},
		{"mkv", "video/x-matroska"}, {"webm", "video/webm"}, {"ts", "video/mp2t"},
		{"m2ts", "video/mp2t"}, {"mts", "video/mp2t"}, {"avi", "video/x-msvideo"},
		{"mpg", "video/mpeg"}, {"mpeg", "video/mpeg"}, {"m2v", "video/mpeg"},
		{"flv", "video/x-flv"}, {"ogv", "video/ogg"}, {"3gp", "video/3gpp"},
		{"wmv", "video/x-ms-wmv"}, {"mxf", "application/mxf"},
	};
	static const struct {
		const char *fmt, *type;
	} by_fmt[] = {
		{"mov,mp4", "video/mp4"}, {"matroska,webm", "video/x-matroska"},
		{"mpegts", "video/mp2t"}, {"avi", "video/x-msvideo"}, {"mpeg", "video/mpeg"},
		{"flv", "video/x-flv"}, {"ogg", "video/ogg"}, {"asf", "video/x-ms-asf"},
		{"mxf", "application/mxf"},
	};
	const char *dot = filename ? strrchr(filename, '.') : NULL;

	if (dot)
		for (size_t i = 0; i < VS_ARRAY_SIZE(by_ext); i++)
			if (!strcasecmp(dot + 1, by_ext[i].ext))
				return by_ext[i].type;
	if (format)
		for (size_t i = 0; i < VS_ARRAY_SIZE(by_fmt); i++)
			if (!strncmp(format, by_fmt[i].fmt, strlen(by_fmt[i].fmt)))
				return by_fmt[i].type;
	return "application/octet-stream";
}

int vs_probe_open_local(const char *path, AVFormatContext **fmt)
{
	AVDictionary *o = NULL;
	char *url = NULL;
	int err;

	if (asprintf(&url, "file:%s", path) < 0)
		return AVERROR(ENOMEM);
	av_dict_set(&o, "protocol_whitelist", "file", 0);
	err = avformat_open_input(fmt, url, NULL, &o);
	av_dict_free(&o);
	free(url);
	if (err >= 0)
		err = avformat_find_stream_info(*fmt, NULL);
	return err;
}

double vs_probe_video_start(const AVFormatContext *fmt, int vi)
{
	const AVStream *vs = fmt->streams[vi];

	if (vs->start_time != AV_NOPTS_VALUE)
		return vs->start_time * av_q2d(vs->time_base);
	return fmt->start_time != AV_NOPTS_VALUE ? (double)fmt->start_time / AV_TIME_BASE : 0;
}
