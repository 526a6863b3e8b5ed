#include <math.h>

#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <openssl/evp.h>

#include "error.h"
#include "fsutil.h"
#include "probe.h"
#include "segment.h"

#define CUT_EPSILON 0.001 /* seconds: a keyframe this close to a cut point starts the segment */

void vs_segment_track_release(struct vs_segment_track *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->segs[i].uri);
	for (int i = 0; i < t->ni; i++)
		free(t->iframes[i].uri);
	free(t->segs);
	free(t->iframes);
}

static struct vs_hls_segment *push_seg(struct vs_hls_segment **a, int *n, int *cap)
{
	if (*n == *cap) {
		int nc = *cap ? *cap * 2 : 64;
		struct vs_hls_segment *na = realloc(*a, sizeof(**a) * (size_t)nc);

		if (!na)
			return NULL;
		*a = na;
		*cap = nc;
	}
	memset(&(*a)[*n], 0, sizeof(**a));
	(*a)[*n].offset = -1;
	return &(*a)[(*n)++];
}

/* AES-128-CBC with PKCS7 padding over a whole segment (RFC 8216 4.3.2.4). */
static int encrypt_buf(const struct vs_segment_key *k, const uint8_t *in, int len, uint8_t **out, int *olen)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t *buf = malloc((size_t)len + 16);
	int n1 = 0, n2 = 0, ok;

	ok = c && buf && EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), NULL, k->key, k->iv) == 1 &&
	     EVP_EncryptUpdate(c, buf, &n1, in, len) == 1 && EVP_EncryptFinal_ex(c, buf + n1, &n2) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		free(buf);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "AES-128 encryption failed");
	}
	*out = buf;
	*olen = n1 + n2;
	return 0;
}

/* Writes a segment, encrypted when k is on; *written gets its size. */
static int write_bytes(const char *path, const uint8_t *data, int len, const struct vs_segment_key *k,
                       int *written)
{
	uint8_t *enc = NULL;
	int elen = 0, ret;

	if (k && k->on) {
		ret = encrypt_buf(k, data, len, &enc, &elen);
		if (ret < 0)
			return ret;
		data = enc;
		len = elen;
	}
	ret = vs_fsutil_write_staged(path, data, (size_t)len); /* the package is staged whole */
	if (written)
		*written = len;
	free(enc);
	return ret;
}

struct segmenter {
	const char *src;     /* the rendition, for messages */
	AVFormatContext *in, *out;
	int vi, ai;          /* input streams used, -1 if not */
	int map[2];          /* input index → output index */
	enum vs_segment_kind kind;
	bool ts;
	const char *dir;     /* where the files go */
	double seg_s;
	const struct vs_segment_key *key;
	struct vs_segment_track *t;
	double next_cut;     /* the next segment starts at the first cut point from here */
	bool shifted;        /* the first packet went out: shift_s is known */
	double shift_s;      /* what libavformat adds to every timestamp (avoid_negative_ts), TS */
	bool video_out;      /* the first video packet went out */
	bool started;        /* a segment is open */
	/* current segment */
	int seq;
	double seg_start;    /* time of the segment's first packet */
	double last_end;     /* end time of the last packet seen */
	long long frag_samples; /* sample bytes since the last fragment flush */
	long long seg_offset;   /* bytes of the current segment so far */
	/* the pending I-frame (its range is known after the flush) */
	bool iframe_pending;
	double iframe_time;
	long long iframe_start, iframe_key_size;
};

static int open_dyn(struct segmenter *s)
{
	int err = avio_open_dyn_buf(&s->out->pb);

	return err < 0 ? vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory") : 0;
}

/* Takes what the muxer wrote since open_dyn(). */
static int take_dyn(struct segmenter *s, uint8_t **data, int *len)
{
	avio_flush(s->out->pb);
	*len = avio_close_dyn_buf(s->out->pb, data);
	s->out->pb = NULL;
	return *len < 0 ? vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory") : 0;
}

static int flush_fragment(struct segmenter *s)
{
	long long before = avio_tell(s->out->pb), frag;
	int err = av_write_frame(s->out, NULL);

	if (err < 0)
		return vs_fail(VS_ERR, VS_E_IO, "cannot write a fragment: %s", av_err2str(err));
	avio_flush(s->out->pb);
	frag = avio_tell(s->out->pb) - before;
	if (s->iframe_pending && !s->ts) {
		/* moof, mdat header, then the video samples first: the range
		 * covers the moof and the keyframe's bytes. */
		long long moof = frag - 8 - s->frag_samples;
		struct vs_hls_segment *e = push_seg(&s->t->iframes, &s->t->ni, &s->t->icap);

		if (!e)
			return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		e->offset = s->iframe_start;
		e->size = moof + 8 + s->iframe_key_size;
		e->duration = s->iframe_time; /* start time for now; durations set at the end */
		if (asprintf(&e->uri, "seg-%05d.%s", s->seq, s->ts ? "ts" : "m4s") < 0)
			return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		s->iframe_pending = false;
	}
	s->frag_samples = 0;
	return 0;
}

static int finish_segment(struct segmenter *s, double end)
{
	struct vs_hls_segment *seg;
	uint8_t *data = NULL;
	int len = 0, ret;
	char name[32], *path;

	if (!s->ts && (ret = flush_fragment(s)) < 0)
		return ret;
	if (s->ts && av_write_frame(s->out, NULL) < 0) /* buffered PES belong here */
		return vs_fail(VS_ERR, VS_E_IO, "cannot write a segment");
	if ((ret = take_dyn(s, &data, &len)) < 0)
		return ret;
	snprintf(name, sizeof(name), "seg-%05d.%s", s->seq, s->ts ? "ts" : "m4s");
	path = vs_fsutil_path_join(s->dir, name);
	/* measured as written: with AES-128, the padded ciphertext */
	ret = path ? write_bytes(path, data, len, s->key, &len) : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	free(path);
	av_free(data);
	if (ret < 0)
		return ret;
	seg = push_seg(&s->t->segs, &s->t->n, &s->t->cap);
	if (!seg || !(seg->uri = strdup(name)))
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	seg->duration = end - s->seg_start;
	seg->size = len;
	s->t->bytes += len;
	if (seg->duration > 0) {
		long bps = (long)ceil(len * 8.0 / seg->duration);

		if (bps > s->t->peak_bps)
			s->t->peak_bps = bps;
	}
	return 0;
}

static int start_segment(struct segmenter *s, double start)
{
	int ret = open_dyn(s);

	if (ret < 0)
		return ret;
	s->seq++;
	s->seg_start = start;
	s->seg_offset = 0;
	if (s->ts)
		av_opt_set(s->out->priv_data, "mpegts_flags", "+resend_headers", 0);
	return 0;
}

static int open_segmenter(struct segmenter *s, const char *src)
{
	AVDictionary *o = NULL;
	uint8_t *init = NULL;
	int err, len, ret;
	char *path;

	err = vs_probe_open_local(src, &s->in);
	if (err < 0)
		return vs_fail(VS_ERR, VS_E_NOT_FOUND, "cannot read '%s': %s", src, av_err2str(err));
	s->vi = s->kind == VS_SEGMENT_AUDIO_ONLY ? -1 : av_find_best_stream(s->in, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	s->ai = s->kind == VS_SEGMENT_VIDEO_ONLY ? -1 : av_find_best_stream(s->in, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
	if (s->kind != VS_SEGMENT_AUDIO_ONLY && s->vi < 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' has no video", src);
	if (s->kind == VS_SEGMENT_AUDIO_ONLY && s->ai < 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' has no audio", src);
	err = avformat_alloc_output_context2(&s->out, NULL, s->ts ? "mpegts" : "mp4", NULL);
	if (err < 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "cannot make a muxer");
	s->out->flags |= AVFMT_FLAG_BITEXACT; /* the same input gives the same bytes */
	s->map[0] = s->map[1] = -1;
	for (int k = 0; k < 2; k++) {
		int idx = k == 0 ? s->vi : s->ai;
		AVStream *st;

		if (idx < 0)
			continue;
		st = avformat_new_stream(s->out, NULL);
		avcodec_parameters_copy(st->codecpar, s->in->streams[idx]->codecpar);
		st->codecpar->codec_tag = 0;
		st->time_base = s->in->streams[idx]->time_base;
		s->map[k] = st->index;
	}
	if (s->ts) {
		av_dict_set(&o, "mpegts_flags", "+resend_headers", 0);
	} else {
		/* CMAF: ftyp+moov alone in the init segment, then one moof+mdat
		 * per GOP, cut where we say (frag_custom). */
		av_dict_set(&o, "movflags", "+frag_custom+empty_moov+default_base_moof+omit_tfhd_offset+skip_trailer", 0);
	}
	if ((ret = open_dyn(s)) < 0) {
		av_dict_free(&o);
		return ret;
	}
	err = avformat_write_header(s->out, &o);
	av_dict_free(&o);
	if (err < 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "cannot start the muxer: %s", av_err2str(err));
	if (s->ts) {
		/* PAT and PMT go out with the first segment's packets. */
		return 0;
	}
	if ((ret = take_dyn(s, &init, &len)) < 0)
		return ret;
	path = vs_fsutil_path_join(s->dir, "init.mp4");
	ret = path ? write_bytes(path, init, len, NULL, NULL) : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	free(path);
	av_free(init);
	return ret;
}

/* A write into the muxer failed with err. */
static int write_failed(const struct segmenter *s, int err)
{
	return vs_fail(VS_ERR, VS_E_IO, "cannot write a segment of '%s': %s", s->src, av_err2str(err));
}

/* TS: flushes the keyframe's PES (its TS packets end here), and its range
 * goes into the I-frame playlist. */
static int end_ts_iframe(struct segmenter *s)
{
	struct vs_hls_segment *e;
	int err = av_write_frame(s->out, NULL);

	if (err < 0)
		return write_failed(s, err);
	avio_flush(s->out->pb);
	e = push_seg(&s->t->iframes, &s->t->ni, &s->t->icap);
	if (!e || asprintf(&e->uri, "seg-%05d.ts", s->seq) < 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	e->offset = s->iframe_start;
	e->size = avio_tell(s->out->pb) - s->iframe_start;
	e->duration = s->iframe_time;
	s->iframe_pending = false;
	return 0;
}

/* One packet of the source into the muxer, a new segment first when the
 * packet starts one. Packets of streams not used are skipped. */
static int put_packet(struct segmenter *s, AVPacket *pkt)
{
	int k = pkt->stream_index == s->vi ? 0 : pkt->stream_index == s->ai ? 1 : -1;
	AVStream *ist;
	double t0, end;
	bool cut_stream, key_now;
	int err, ret;

	if (k < 0 || s->map[k] < 0)
		return 0;
	ist = s->in->streams[pkt->stream_index];
	t0 = (pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts) * av_q2d(ist->time_base);
	end = t0 + (pkt->duration > 0 ? pkt->duration * av_q2d(ist->time_base) : 0);
	/* Video cuts on keyframes; an audio-only track on any packet. */
	cut_stream = s->vi >= 0 ? k == 0 : k == 1;
	if (!s->started) {
		if ((ret = start_segment(s, t0 < 0 ? 0 : t0)) < 0)
			return ret;
		s->started = true;
	} else if (cut_stream && (k == 1 || (pkt->flags & AV_PKT_FLAG_KEY)) &&
	           t0 >= s->next_cut - CUT_EPSILON) {
		if ((ret = finish_segment(s, t0)) < 0 || (ret = start_segment(s, t0)) < 0)
			return ret;
		/* the next multiple of the segment length */
		s->next_cut = (floor((t0 + CUT_EPSILON) / s->seg_s) + 1) * s->seg_s;
	}
	if (k == 0 && (pkt->flags & AV_PKT_FLAG_KEY)) {
		/* One fragment per GOP (fMP4), and the keyframe's range for
		 * the I-frame playlist. */
		if (!s->ts && s->frag_samples > 0 && (ret = flush_fragment(s)) < 0)
			return ret;
		if (s->ts) {
			if ((err = av_write_frame(s->out, NULL)) < 0)
				return write_failed(s, err);
		}
		s->iframe_pending = !s->key || !s->key->on;
		s->iframe_time = t0;
		s->iframe_start = avio_tell(s->out->pb);
		s->iframe_key_size = pkt->size;
	}
	s->frag_samples += pkt->size;
	if (end > s->last_end)
		s->last_end = end;
	if (!s->shifted) { /* libavformat shifts every stream by what makes the first packet's time 0 */
		int64_t ts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;

		s->shift_s = ts != AV_NOPTS_VALUE && ts < 0 ? -ts * av_q2d(ist->time_base) : 0;
		s->shifted = true;
	}
	if (k == 0 && !s->video_out) {
		/* MPEG-TS: every stream moved by that shift; fMP4: each track's
		 * decode times start at 0, its first frame shown after its
		 * composition offset */
		double dts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts * av_q2d(ist->time_base) : t0;

		s->t->first_pts_s = s->ts ? t0 + s->shift_s : t0 - dts;
		s->video_out = true;
	}
	pkt->stream_index = s->map[k];
	av_packet_rescale_ts(pkt, ist->time_base, s->out->streams[s->map[k]]->time_base);
	key_now = k == 0 && (pkt->flags & AV_PKT_FLAG_KEY);
	err = av_write_frame(s->out, pkt);
	if (err < 0)
		return write_failed(s, err);
	if (s->ts && key_now && s->iframe_pending)
		return end_ts_iframe(s);
	return 0;
}

/* The track's durations and rates, once its last segment is written. */
static void measure_track(struct vs_segment_track *t, double last_end)
{
	/* I-frame durations: until the next keyframe, the last until the end. */
	for (int i = 0; i < t->ni; i++)
		t->iframes[i].duration = (i + 1 < t->ni ? t->iframes[i + 1].duration : last_end) -
		                         t->iframes[i].duration;
	for (int i = 0; i < t->ni; i++)
		if (t->iframes[i].duration > 0) {
			long bps = (long)ceil(t->iframes[i].size * 8.0 / t->iframes[i].duration);

			if (bps > t->iframe_peak_bps)
				t->iframe_peak_bps = bps;
		}
	for (int i = 0; i < t->n; i++)
		t->duration += t->segs[i].duration;
	t->avg_bps = t->duration > 0 ? (long)ceil(t->bytes * 8.0 / t->duration) : 0;
}

/* For TS the header went into a buffer that the first segment takes over. */
int vs_segment_cut(const char *src, const char *dir, enum vs_segment_kind kind, bool ts, double seg_s,
                   double first_s, const struct vs_segment_key *key, struct vs_segment_track *t)
{
	struct segmenter s = {.src = src, .kind = kind, .ts = ts, .dir = dir, .seg_s = seg_s, .key = key,
	                      .t = t, .next_cut = first_s > 0 && first_s < seg_s ? first_s : seg_s};
	AVPacket *pkt = av_packet_alloc();
	int err, ret;

	memset(t, 0, sizeof(*t));
	if (!pkt)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	ret = open_segmenter(&s, src);
	if (ret < 0)
		goto out;
	if (ts) { /* the buffer holding the TS header is the first segment's */
		s.seq = 1;
		s.seg_start = 0;
		s.started = true;
	}
	while ((err = av_read_frame(s.in, pkt)) >= 0) {
		ret = put_packet(&s, pkt);
		av_packet_unref(pkt);
		if (ret < 0)
			goto out;
	}
	if (err != AVERROR_EOF) {
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot read '%s': %s", src, av_err2str(err));
		goto out;
	}
	if (s.started) {
		/* The last segment, then the trailer into a buffer thrown away:
		 * there is nothing after the last fragment in a CMAF track. */
		if ((ret = finish_segment(&s, s.last_end)) < 0 || (ret = open_dyn(&s)) < 0)
			goto out;
		err = av_write_trailer(s.out);
		if (err < 0) {
			ret = write_failed(&s, err);
			goto out;
		}
	}
	measure_track(t, s.last_end);
	ret = 0;
out:
	if (s.out) {
		if (s.out->pb) {
			uint8_t *junk = NULL;

			avio_close_dyn_buf(s.out->pb, &junk);
			av_free(junk);
		}
		avformat_free_context(s.out);
	}
	avformat_close_input(&s.in);
	av_packet_free(&pkt);
	return ret;
}
