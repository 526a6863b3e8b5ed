#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "catalog.h"
#include "db.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "hls.h"
#include "log.h"
#include "package.h"
#include "probe.h"
#include "record.h"

#define CUT_EPSILON 0.001 /* seconds: a keyframe this close to a cut point starts the segment */

enum kind { MUXED, VIDEO_ONLY, AUDIO_ONLY };

struct key {
	unsigned char key[16], iv[16];
	char iv_hex[33];
	bool on;
};

/* What segmenting one rendition produced. */
struct track_out {
	struct vs_hls_segment *segs;
	int n, cap;
	struct vs_hls_segment *iframes;
	int ni, icap;
	double duration;
	long long bytes;
	long peak_bps, avg_bps, iframe_peak_bps;
};

static void track_release(struct track_out *t)
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
static int encrypt_buf(const struct key *k, const uint8_t *in, int len, uint8_t **out, int *olen)
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
static int write_bytes(const char *path, const uint8_t *data, int len, const struct key *k,
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
	ret = vs_write_file_atomic(path, data, (size_t)len);
	if (written)
		*written = len;
	free(enc);
	return ret;
}

struct segmenter {
	AVFormatContext *in, *out;
	int vi, ai;          /* input streams used, -1 if not */
	int map[2];          /* input index → output index */
	enum kind kind;
	bool ts;
	const char *dir;     /* where the files go */
	double seg_s;
	const struct key *key;
	struct track_out *t;
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
	path = vs_path_join(s->dir, name);
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
	char *url = NULL, *path;

	if (asprintf(&url, "file:%s", src) < 0)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	av_dict_set(&o, "protocol_whitelist", "file", 0);
	err = avformat_open_input(&s->in, url, NULL, &o);
	av_dict_free(&o);
	free(url);
	if (err >= 0)
		err = avformat_find_stream_info(s->in, NULL);
	if (err < 0)
		return vs_fail(VS_ERR, VS_E_NOT_FOUND, "cannot read '%s': %s", src, av_err2str(err));
	s->vi = s->kind == AUDIO_ONLY ? -1 : av_find_best_stream(s->in, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	s->ai = s->kind == VIDEO_ONLY ? -1 : av_find_best_stream(s->in, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
	if (s->kind != AUDIO_ONLY && s->vi < 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' has no video", src);
	if (s->kind == AUDIO_ONLY && s->ai < 0)
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
	path = vs_path_join(s->dir, "init.mp4");
	ret = path ? write_bytes(path, init, len, NULL, NULL) : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	free(path);
	av_free(init);
	return ret;
}

/* For TS the header went into a buffer that the first segment takes over. */
static int segment_track(const char *src, const char *dir, enum kind kind, bool ts, double seg_s,
                         const struct key *key, struct track_out *t)
{
	struct segmenter s = {.kind = kind, .ts = ts, .dir = dir, .seg_s = seg_s, .key = key, .t = t};
	AVPacket *pkt = av_packet_alloc();
	double next_cut = seg_s;
	bool started = false;
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
		started = true;
	}
	while ((err = av_read_frame(s.in, pkt)) >= 0) {
		int k = pkt->stream_index == s.vi ? 0 : pkt->stream_index == s.ai ? 1 : -1;
		AVStream *ist;
		double t0, end;
		bool cut_stream;

		if (k < 0 || s.map[k] < 0) {
			av_packet_unref(pkt);
			continue;
		}
		ist = s.in->streams[pkt->stream_index];
		t0 = (pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts) * av_q2d(ist->time_base);
		end = t0 + (pkt->duration > 0 ? pkt->duration * av_q2d(ist->time_base) : 0);
		/* Video cuts on keyframes; an audio-only track on any packet. */
		cut_stream = s.vi >= 0 ? k == 0 : k == 1;
		if (!started) {
			if ((ret = start_segment(&s, t0 < 0 ? 0 : t0)) < 0)
				goto out;
			started = true;
		} else if (cut_stream && (k == 1 || (pkt->flags & AV_PKT_FLAG_KEY)) &&
		           t0 >= next_cut - CUT_EPSILON) {
			if ((ret = finish_segment(&s, t0)) < 0 || (ret = start_segment(&s, t0)) < 0)
				goto out;
			while (next_cut <= t0 + CUT_EPSILON)
				next_cut += seg_s;
		}
		if (k == 0 && (pkt->flags & AV_PKT_FLAG_KEY)) {
			/* One fragment per GOP (fMP4), and the keyframe's range for
			 * the I-frame playlist. */
			if (!ts && s.frag_samples > 0 && (ret = flush_fragment(&s)) < 0)
				goto out;
			if (ts) {
				if ((err = av_write_frame(s.out, NULL)) < 0)
					goto write_error;
			}
			s.iframe_pending = !key || !key->on;
			s.iframe_time = t0;
			s.iframe_start = avio_tell(s.out->pb);
			s.iframe_key_size = pkt->size;
		}
		s.frag_samples += pkt->size;
		if (end > s.last_end)
			s.last_end = end;
		pkt->stream_index = s.map[k];
		av_packet_rescale_ts(pkt, ist->time_base, s.out->streams[s.map[k]]->time_base);
		{
			bool key_now = k == 0 && (pkt->flags & AV_PKT_FLAG_KEY);

			err = av_write_frame(s.out, pkt);
			if (err < 0)
				goto write_error;
			if (ts && key_now && s.iframe_pending) {
				/* flush the keyframe's PES: its TS packets end here */
				struct vs_hls_segment *e;

				if ((err = av_write_frame(s.out, NULL)) < 0)
					goto write_error;
				avio_flush(s.out->pb);
				e = push_seg(&t->iframes, &t->ni, &t->icap);
				if (!e || asprintf(&e->uri, "seg-%05d.ts", s.seq) < 0) {
					ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
					goto out;
				}
				e->offset = s.iframe_start;
				e->size = avio_tell(s.out->pb) - s.iframe_start;
				e->duration = s.iframe_time;
				s.iframe_pending = false;
			}
		}
		av_packet_unref(pkt);
	}
	if (err != AVERROR_EOF) {
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot read '%s': %s", src, av_err2str(err));
		goto out;
	}
	if (started) {
		/* The last segment, then the trailer into a buffer thrown away:
		 * there is nothing after the last fragment in a CMAF track. */
		if ((ret = finish_segment(&s, s.last_end)) < 0 || (ret = open_dyn(&s)) < 0)
			goto out;
		err = av_write_trailer(s.out);
		if (err < 0)
			goto write_error;
	}
	/* I-frame durations: until the next keyframe, the last until the end. */
	for (int i = 0; i < t->ni; i++)
		t->iframes[i].duration = (i + 1 < t->ni ? t->iframes[i + 1].duration : s.last_end) -
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
	ret = 0;
	goto out;
write_error:
	ret = vs_fail(VS_ERR, VS_E_IO, "cannot write a segment of '%s': %s", src, av_err2str(err));
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

/* ---- the package ---- */

static char *join3(const char *a, const char *b, const char *c)
{
	char *s = NULL;

	if (asprintf(&s, "%s/%s/%s", a, b, c) < 0)
		return NULL;
	return s;
}

static int write_text(const char *dir, const char *name, const char *text)
{
	char *path = vs_path_join(dir, name);
	int ret = path && text ? vs_write_file_atomic(path, text, strlen(text))
	                       : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");

	free(path);
	return ret;
}

static int write_media_playlists(const char *dir, const char *label, struct track_out *t,
                                 bool ts, const struct key *k, const char *key_uri, int *version)
{
	struct vs_hls_media m = {.map_uri = ts ? NULL : "init.mp4", .segments = t->segs, .n = t->n};
	char *text, *sub = vs_path_join(dir, label);
	int ret;

	if (!sub)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if (k->on) {
		m.key_uri = key_uri;
		m.key_iv_hex = k->iv_hex;
	}
	text = vs_hls_media_text(&m);
	if (vs_hls_media_version(&m) > *version)
		*version = vs_hls_media_version(&m);
	ret = write_text(sub, "index.m3u8", text);
	free(text);
	if (ret == 0 && t->ni > 0) {
		struct vs_hls_media im = {.iframes_only = true, .map_uri = m.map_uri,
		                          .segments = t->iframes, .n = t->ni};

		text = vs_hls_media_text(&im);
		ret = write_text(sub, "iframes.m3u8", text);
		free(text);
	}
	free(sub);
	return ret;
}

static int write_chapters(const char *dir, const json_t *chapters, double duration)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *c;
	size_t i;
	int ret;

	if (!f)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	fputs("WEBVTT\n", f);
	json_array_foreach(chapters, i, c) {
		double start = 0, end = duration;
		char a[32], b[32], *title = strdup(vs_json_str(c, "title") ? vs_json_str(c, "title") : "");

		vs_json_number(c, "start", &start);
		vs_json_number(c, "end", &end);
		if (end <= start)
			end = start + 0.001;
		/* a cue's text may not hold "-->" or a blank line */
		for (char *p = title; p && *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		for (char *p = title ? strstr(title, "-->") : NULL; p; p = strstr(p, "-->"))
			p[2] = ' ';
		fprintf(f, "\n%zu\n%s --> %s\n%s\n", i + 1, vs_hls_vtt_time(start, a, sizeof(a)),
		        vs_hls_vtt_time(end, b, sizeof(b)), title ? title : "");
		free(title);
	}
	fclose(f);
	ret = write_text(dir, "chapters.vtt", text);
	free(text);
	return ret;
}

static int copy_file(const char *src, const char *dir, const char *name)
{
	char *data = NULL, *dst = vs_path_join(dir, name);
	size_t len = 0;
	int ret = dst ? vs_read_file(src, 256u << 20, &data, &len) : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");

	if (ret == 0)
		ret = vs_write_file_atomic(dst, data, len);
	free(data);
	free(dst);
	return ret;
}

static void iso_duration(double s, char *buf, size_t n)
{
	snprintf(buf, n, "PT%.3fS", s);
}

static int write_mpd(const char *dir, const json_t *renditions, struct track_out *tracks,
                     struct track_out *audio, double seg_s, double duration)
{
	char *text = NULL, d[32];
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);
	json_t *r;
	int ret;

	if (!f)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	iso_duration(duration, d, sizeof(d));
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	           "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\""
	           " profiles=\"urn:mpeg:dash:profile:isoff-live:2011\""
	           " mediaPresentationDuration=\"%s\" minBufferTime=\"PT%.0fS\">\n"
	           "  <Period id=\"0\" start=\"PT0S\">\n"
	           "    <AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\""
	           " segmentAlignment=\"true\" startWithSAP=\"1\">\n", d, ceil(seg_s));
	json_array_foreach(renditions, i, r) {
		struct track_out *t = &tracks[i];
		const char *codecs = vs_json_str(r, "codecs");
		char vc[64];
		double fr = 0;

		vs_json_number(r, "frame_rate", &fr);
		snprintf(vc, sizeof(vc), "%.*s", audio ? (int)strcspn(codecs, ",") : (int)strlen(codecs), codecs);
		fprintf(f, "      <Representation id=\"%s\" bandwidth=\"%ld\" width=\"%lld\" height=\"%lld\""
		           " frameRate=\"%.3f\" codecs=\"%s\">\n"
		           "        <SegmentTemplate timescale=\"1000\" initialization=\"%s/init.mp4\""
		           " media=\"%s/seg-$Number%%05d$.m4s\" startNumber=\"1\">\n"
		           "          <SegmentTimeline>\n",
		        vs_json_str(r, "label"), t->peak_bps,
		        (long long)json_integer_value(json_object_get(r, "width")),
		        (long long)json_integer_value(json_object_get(r, "height")), fr, vc,
		        vs_json_str(r, "label"), vs_json_str(r, "label"));
		for (int s = 0, t0 = 0; s < t->n; s++) {
			long dur = lround(t->segs[s].duration * 1000);

			fprintf(f, "            <S t=\"%d\" d=\"%ld\"/>\n", t0, dur);
			t0 += (int)dur;
		}
		fprintf(f, "          </SegmentTimeline>\n        </SegmentTemplate>\n      </Representation>\n");
	}
	fprintf(f, "    </AdaptationSet>\n");
	if (audio) {
		fprintf(f, "    <AdaptationSet id=\"1\" contentType=\"audio\" mimeType=\"audio/mp4\""
		           " segmentAlignment=\"true\" lang=\"und\">\n"
		           "      <Representation id=\"audio\" bandwidth=\"%ld\" codecs=\"mp4a.40.2\""
		           " audioSamplingRate=\"48000\">\n"
		           "        <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"2\"/>\n"
		           "        <SegmentTemplate timescale=\"1000\" initialization=\"audio/init.mp4\""
		           " media=\"audio/seg-$Number%%05d$.m4s\" startNumber=\"1\">\n"
		           "          <SegmentTimeline>\n", audio->peak_bps);
		for (int s = 0, t0 = 0; s < audio->n; s++) {
			long dur = lround(audio->segs[s].duration * 1000);

			fprintf(f, "            <S t=\"%d\" d=\"%ld\"/>\n", t0, dur);
			t0 += (int)dur;
		}
		fprintf(f, "          </SegmentTimeline>\n        </SegmentTemplate>\n      </Representation>\n"
		           "    </AdaptationSet>\n");
	}
	fprintf(f, "  </Period>\n</MPD>\n");
	fclose(f);
	ret = write_text(dir, "manifest.mpd", text);
	free(text);
	return ret;
}

/* The video's key: made once, kept beside the package (never in it), and
 * reused so that packaging again gives the same bytes. */
static int load_key(const char *media_root, const char *id, PGconn *db, struct key *k)
{
	char *dir = join3(media_root, id, "keys"), *path = dir ? vs_path_join(dir, "aes-128.key") : NULL;
	char *data = NULL;
	size_t len = 0;
	int ret = 0;

	if (!path) {
		free(dir);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	if (vs_read_file(path, 64, &data, &len) == 0 && len == 32) {
		memcpy(k->key, data, 16);
		memcpy(k->iv, data + 16, 16);
	} else {
		uint8_t both[32];

		if (RAND_bytes(k->key, 16) != 1 || RAND_bytes(k->iv, 16) != 1) {
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "no random numbers for a key");
			goto out;
		}
		memcpy(both, k->key, 16);
		memcpy(both + 16, k->iv, 16);
		if ((ret = vs_mkdir_p(dir, 0700)) < 0 ||
		    (ret = vs_write_file_atomic_mode(path, both, sizeof(both), 0600)) < 0)
			goto out;
	}
	for (int i = 0; i < 16; i++)
		snprintf(k->iv_hex + 2 * i, 3, "%02x", k->iv[i]);
	k->on = true;
	if (db)
		ret = vs_catalog_store_key(db, id, k->key, k->iv);
out:
	free(data);
	free(path);
	free(dir);
	return ret;
}

static int swap_dir(const char *tmp, const char *final)
{
	char *old = NULL;
	int ret = 0;

	if (vs_is_dir(final)) {
		if (asprintf(&old, "%s.old-%ld", final, (long)getpid()) < 0)
			return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		vs_remove_tree(old);
		if (rename(final, old) != 0) {
			ret = vs_fail(VS_ERR, VS_E_IO, "cannot replace '%s': %s", final, strerror(errno));
			goto out;
		}
	}
	if (rename(tmp, final) != 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot rename into '%s': %s", final, strerror(errno));
	if (old)
		vs_remove_tree(old);
out:
	free(old);
	return ret;
}

/* A file's path, size and modification time, into h. */
static void hash_file(struct vs_sha256 *h, const char *path)
{
	struct stat sb;
	char line[96];

	if (!path || stat(path, &sb) != 0)
		return;
	snprintf(line, sizeof(line), "|%lld|%lld.%09ld|", (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
	         sb.st_mtim.tv_nsec);
	vs_sha256_update(h, path, strlen(path));
	vs_sha256_update(h, line, strlen(line));
}

/* What a package is made of: the options, the renditions (their records
 * and files), the pictures and the chapters. Equal keys, equal packages. */
static int package_key(const json_t *rec, const struct vs_package_opts *o, const char *final, char out[65])
{
	static const char *const files[] = {"thumbnails.storyboard", "thumbnails.storyboard_vtt", "thumbnails.poster"};
	struct vs_sha256 *h = vs_sha256_new();
	char opts[512], *text;
	json_t *r;
	size_t i;

	if (!h)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	snprintf(opts, sizeof(opts), "vs-package 1|%s|%.6f|%d|%d|%d|%d|%s|", final, o->segment_s, o->ts,
	         o->audio_group, o->dash, o->encrypt, o->key_uri ? o->key_uri : "");
	vs_sha256_update(h, opts, strlen(opts));
	json_array_foreach(json_object_get(rec, "renditions"), i, r) {
		if ((text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS)))
			vs_sha256_update(h, text, strlen(text));
		free(text);
		hash_file(h, vs_json_str(r, "path"));
	}
	for (size_t k = 0; k < VS_ARRAY_SIZE(files); k++)
		hash_file(h, vs_json_str(rec, files[k]));
	if ((text = json_dumps(json_object_get(rec, "chapters"), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)))
		vs_sha256_update(h, text, strlen(text));
	free(text);
	vs_sha256_final(h, out);
	vs_sha256_free(h);
	return 0;
}

/* MEDIA_ROOT/<id>/package-finished.json: the key and the "package"
 * section of the last package made for the video (malloced path). */
static char *finished_path(const char *root, const char *id)
{
	return join3(root, id, "package-finished.json");
}

/* The finished package for key, or NULL (new reference). */
static json_t *read_finished(const char *marker, const char *key, const char *final)
{
	json_t *m = json_load_file(marker, 0, NULL), *pkg = NULL;
	char *master = vs_path_join(final, "master.m3u8");

	if (m && vs_json_str(m, "key") && !strcmp(vs_json_str(m, "key"), key) && master && vs_is_file(master))
		pkg = json_incref(json_object_get(m, "package"));
	json_decref(m);
	free(master);
	return json_is_object(pkg) ? pkg : (json_decref(pkg), NULL);
}

int vs_package(json_t *rec, const struct vs_package_opts *o)
{
	const char *id = vs_json_str(rec, "id");
	json_t *renditions = json_object_get(rec, "renditions"), *r, *pkg = NULL, *variants;
	struct track_out *tracks = NULL, audio = {0};
	struct vs_hls_variant *vars = NULL;
	struct key key = {0};
	char *root = NULL, *final = NULL, *tmp = NULL, *key_uri = NULL, *master = NULL, *parent = NULL;
	char *marker = NULL, pkg_key[65];
	int n = (int)json_array_size(renditions), version = 3, ret = 0;
	bool have_audio = false;
	double gop = 0, duration = 0;
	size_t i;

	if (!id || !*id || strchr(id, '/') || id[0] == '.')
		return vs_fail(VS_ERR, VS_E_INVALID, "the record has no valid 'id'");
	if (n == 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "the record has no renditions: run vs-encode first");
	if (vs_json_number(rec, "encode.gop_seconds", &gop) && gop > 0) {
		double k = o->segment_s / gop;

		if (fabs(k - round(k)) > 1e-6 || round(k) < 1)
			return vs_fail(VS_ERR, VS_E_INVALID,
			               "--segment-seconds %g is not a multiple of the encode's GOP (%g s)",
			               o->segment_s, gop);
	}
	json_array_foreach(renditions, i, r) {
		const char *p = vs_json_str(r, "path"), *l = vs_json_str(r, "label");

		if (!p || !l || !*l || strchr(l, '/') || l[0] == '.' || !strcmp(l, "audio"))
			return vs_fail(VS_ERR, VS_E_INVALID, "rendition %zu has no usable path or label", i);
		if (!vs_is_file(p))
			return vs_fail(VS_ERR, VS_E_NOT_FOUND, "rendition '%s' is missing", p);
		if (vs_json_str(r, "codecs") && strstr(vs_json_str(r, "codecs"), "mp4a"))
			have_audio = true;
	}
	root = vs_abspath(o->media_root);
	if (o->out)
		final = vs_abspath(o->out);
	else
		final = root ? join3(root, id, "hls") : NULL;
	if (final && root && (marker = finished_path(root, id)) && package_key(rec, o, final, pkg_key) == 0 &&
	    !o->force && (pkg = read_finished(marker, pkg_key, final))) {
		/* made already from these very inputs: its steps are not redone */
		json_object_set_new(rec, "package", pkg);
		if (o->reused)
			*o->reused = true;
		goto out;
	}
	parent = final ? strdup(final) : NULL;
	if (parent && strrchr(parent, '/'))
		*strrchr(parent, '/') = '\0';
	if (!final || !parent || asprintf(&tmp, "%s.tmp-XXXXXX", final) < 0) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	if ((ret = vs_mkdir_p(*parent ? parent : "/", 0755)) < 0)
		goto out;
	if (!mkdtemp(tmp)) {
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot create a directory beside '%s': %s", final,
		              strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	chmod(tmp, 0755);
	if (o->encrypt) {
		if ((ret = load_key(root, id, o->db, &key)) < 0)
			goto out;
		if (o->key_uri)
			key_uri = strdup(o->key_uri);
		else if (asprintf(&key_uri, VS_KEY_ENDPOINT, id) < 0)
			key_uri = NULL;
	}

	tracks = calloc((size_t)n, sizeof(*tracks));
	vars = calloc((size_t)n, sizeof(*vars));
	if (!tracks || !vars) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	json_array_foreach(renditions, i, r) {
		const char *label = vs_json_str(r, "label");
		char *sub = vs_path_join(tmp, label);
		double fr = 0;

		ret = sub ? vs_mkdir_p(sub, 0755) : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		if (ret == 0)
			ret = segment_track(vs_json_str(r, "path"), sub,
			                    o->audio_group && have_audio ? VIDEO_ONLY : MUXED, o->ts,
			                    o->segment_s, &key, &tracks[i]);
		free(sub);
		if (ret < 0)
			goto out;
		if ((ret = write_media_playlists(tmp, label, &tracks[i], o->ts, &key, key_uri, &version)) < 0)
			goto out;
		vs_json_number(r, "frame_rate", &fr);
		vars[i].width = (int)json_integer_value(json_object_get(r, "width"));
		vars[i].height = (int)json_integer_value(json_object_get(r, "height"));
		vars[i].codecs = vs_json_str(r, "codecs");
		vars[i].frame_rate = fr;
		vars[i].bandwidth = tracks[i].peak_bps;
		vars[i].average_bandwidth = tracks[i].avg_bps;
		if (tracks[i].ni > 0) {
			if (asprintf((char **)&vars[i].iframe_uri, "%s/iframes.m3u8", label) < 0)
				vars[i].iframe_uri = NULL;
			vars[i].iframe_bandwidth = tracks[i].iframe_peak_bps;
		}
		if (asprintf((char **)&vars[i].uri, "%s/index.m3u8", label) < 0)
			vars[i].uri = NULL;
		if (tracks[i].duration > duration)
			duration = tracks[i].duration;
	}
	if (o->audio_group && have_audio) {
		char *sub = vs_path_join(tmp, "audio");

		ret = sub ? vs_mkdir_p(sub, 0755) : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		if (ret == 0)
			ret = segment_track(vs_json_str(json_array_get(renditions, 0), "path"), sub,
			                    AUDIO_ONLY, o->ts, o->segment_s, &key, &audio);
		free(sub);
		if (ret == 0)
			ret = write_media_playlists(tmp, "audio", &audio, o->ts, &key, key_uri, &version);
		if (ret < 0)
			goto out;
		for (int v = 0; v < n; v++) {
			vars[v].audio_group = "audio";
			vars[v].bandwidth += audio.peak_bps;
			vars[v].average_bandwidth += audio.avg_bps;
		}
	}

	/* what comes with the package */
	if ((ret = write_chapters(tmp, json_object_get(rec, "chapters"), duration)) < 0)
		goto out;
	{
		static const char *const extra[][2] = {{"thumbnails.storyboard", "storyboard.jpg"},
		                                       {"thumbnails.storyboard_vtt", "storyboard.vtt"},
		                                       {"thumbnails.poster", "poster.jpg"}};

		for (size_t e = 0; e < VS_ARRAY_SIZE(extra); e++) {
			const char *src = vs_json_str(rec, extra[e][0]);

			if (src && vs_is_file(src) && (ret = copy_file(src, tmp, extra[e][1])) < 0)
				goto out;
		}
	}
	if (o->dash && (ret = write_mpd(tmp, renditions, tracks, o->audio_group && have_audio ? &audio : NULL,
	                                o->segment_s, duration)) < 0)
		goto out;
	{
		struct vs_hls_audio a = {.group = "audio", .name = "Main", .language = "und",
		                         .uri = "audio/index.m3u8", .channels = 2};

		master = vs_hls_master_text(vars, n, o->audio_group && have_audio ? &a : NULL, version);
	}
	/* the master last: a visible master never points at a missing file */
	if ((ret = write_text(tmp, "master.m3u8", master)) < 0 || (ret = swap_dir(tmp, final)) < 0)
		goto out;
	free(tmp);
	tmp = NULL;

	pkg = json_object();
	variants = json_array();
	for (int v = 0; v < n; v++) {
		char label[64];

		snprintf(label, sizeof(label), "%.*s", (int)strcspn(vars[v].uri, "/"), vars[v].uri);
		json_array_append_new(variants, json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:s*}", "label", label,
		                                          "playlist", vars[v].uri, "bandwidth",
		                                          (json_int_t)vars[v].bandwidth, "average_bandwidth",
		                                          (json_int_t)vars[v].average_bandwidth, "width",
		                                          vars[v].width, "height", vars[v].height,
		                                          "iframes", vars[v].iframe_uri));
	}
	json_object_set_new(pkg, "dir", json_string(final));
	json_object_set_new(pkg, "master", json_string("master.m3u8"));
	json_object_set_new(pkg, "segment_seconds", json_real(o->segment_s));
	json_object_set_new(pkg, "segment_type", json_string(o->ts ? "ts" : "fmp4"));
	json_object_set_new(pkg, "variants", variants);
	json_object_set_new(pkg, "audio", o->audio_group && have_audio ? json_string("audio/index.m3u8") : json_null());
	json_object_set_new(pkg, "dash", o->dash ? json_string("manifest.mpd") : json_null());
	json_object_set_new(pkg, "chapters", json_string("chapters.vtt"));
	json_object_set_new(pkg, "encryption", key.on ? json_pack("{s:s,s:s}", "method", "AES-128", "key_uri", key_uri) : json_null());
	json_object_set_new(pkg, "duration", json_real(round(duration * 1000) / 1000));
	json_object_set_new(rec, "package", pkg);
	if (marker) {
		json_t *m = json_pack("{s:s,s:s,s:O}", "key", pkg_key, "dir", final, "package", pkg);
		char *text = json_dumps(m, JSON_COMPACT);

		/* a package that cannot be remembered is still a package */
		if (!text || vs_write_file_atomic(marker, text, strlen(text)) < 0)
			vs_error_clear();
		free(text);
		json_decref(m);
	}
out:
	if (tmp)
		vs_remove_tree(tmp);
	for (int v = 0; tracks && v < n; v++)
		track_release(&tracks[v]);
	for (int v = 0; vars && v < n; v++) {
		free((char *)vars[v].uri);
		free((char *)vars[v].iframe_uri);
	}
	track_release(&audio);
	free(tracks);
	free(vars);
	free(master);
	free(key_uri);
	free(parent);
	free(tmp);
	free(final);
	free(root);
	free(marker);
	return ret;
}
