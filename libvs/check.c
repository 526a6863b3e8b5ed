#include <math.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>
#include <libavformat/avformat.h>

#include "check.h"
#include "checkreq.h"
#include "error.h"
#include "fsutil.h"
#include "hls.h"
#include "probe.h"
#include "record.h"
#include "transcode.h"

#define MAX_PLAYLIST (16 << 20)
#define VS_CHECK_MAX_BYTES (1LL << 53) /* a byte range past this is not a file's */
/* What an HLS segment may be: fMP4, TS, packed audio. Never a playlist,
 * whose demuxer would open the URIs inside a segment. */
#define VS_CHECK_SEGMENT_FORMATS "mov,mpegts,aac,mp3,ac3,eac3"

void vs_check_finding(struct vs_check_ctx *c, bool error, const char *rule, const char *file,
                    const char *fmt, ...)
{
	json_t *f = json_object();
	char *msg = NULL;
	size_t bl = strlen(c->base);
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (file && !strncmp(file, c->base, bl) && file[bl] == '/')
		file += bl + 1;
	json_object_set_new(f, "severity", json_string(error ? "error" : "warning"));
	json_object_set_new(f, "rule", json_string(rule));
	vs_json_set_str(f, "file", file);
	vs_json_set_str(f, "message", msg ? msg : rule);
	vs_record_write(c->out, f);
	json_decref(f);
	free(msg);
	if (error)
		c->errors++;
	else
		c->warnings++;
}

/* Frees what m holds, and empties it: releasing it again is harmless. */
void vs_check_media_release(struct vs_check_media *m)
{
	for (int i = 0; i < m->n; i++)
		free(m->segs[i].path);
	free(m->segs);
	free(m->map);
	free(m->path);
	memset(m, 0, sizeof(*m));
}

char *vs_check_resolve(const char *playlist, const char *uri)
{
	char *dir, *slash, *out;

	if (uri[0] == '/')
		return strdup(uri);
	dir = strdup(playlist);
	if (!dir)
		return NULL;
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	out = slash ? vs_fsutil_path_join(dir, uri) : strdup(uri);
	free(dir);
	return out;
}

static bool is_remote(const char *uri)
{
	return strstr(uri, "://") != NULL;
}

long long vs_check_file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1;
}

/* ---- reading segments with libavformat, from memory (init + segment) ---- */

struct membuf {
	uint8_t *data;
	size_t len, pos;
};

static int mem_read(void *opaque, uint8_t *buf, int n)
{
	struct membuf *m = opaque;
	size_t left = m->len - m->pos;

	if (left == 0)
		return AVERROR_EOF;
	if ((size_t)n > left)
		n = (int)left;
	memcpy(buf, m->data + m->pos, (size_t)n);
	m->pos += (size_t)n;
	return n;
}

static int append_file(struct membuf *m, const char *path, long long off, long long len)
{
	FILE *f = fopen(path, "rb");
	long long size = vs_check_file_size(path);
	uint8_t *nd;

	if (!f || size < 0)
		goto fail;
	if (off < 0)
		off = 0, len = size;
	if (off + len > size)
		len = size - off;
	if (len < 0 || len > (1LL << 30))
		goto fail;
	nd = realloc(m->data, m->len + (size_t)len);
	if (!nd)
		goto fail;
	m->data = nd;
	if (fseek(f, off, SEEK_SET) != 0 || fread(m->data + m->len, 1, (size_t)len, f) != (size_t)len)
		goto fail;
	m->len += (size_t)len;
	fclose(f);
	return 0;
fail:
	if (f)
		fclose(f);
	return -1;
}

/*
 * Opens init+segment from memory and reads the first video packet (or the
 * first packet when there is no video). Fills *key, *start; on the first
 * call (info) the stream properties of m.
 */
static int probe_segment(struct vs_check_media *m, const struct vs_check_seg *s, bool info, bool *key, double *start)
{
	struct membuf mb = {0};
	AVFormatContext *fmt = NULL;
	AVIOContext *io = NULL;
	uint8_t *iobuf = NULL;
	AVPacket *pkt = av_packet_alloc();
	int ret = -1, vi, err;

	*key = false;
	*start = NAN;
	if (!pkt || (m->map && append_file(&mb, m->map, -1, -1) < 0) ||
	    append_file(&mb, s->path, s->offset, s->length) < 0)
		goto out;
	iobuf = av_malloc(65536);
	io = iobuf ? avio_alloc_context(iobuf, 65536, 0, &mb, mem_read, NULL, NULL) : NULL;
	fmt = avformat_alloc_context();
	if (!io || !fmt)
		goto out;
	iobuf = NULL; /* the context owns it now */
	fmt->pb = io;
	fmt->format_whitelist = av_strdup(VS_CHECK_SEGMENT_FORMATS);
	fmt->protocol_whitelist = av_strdup("none");
	if (!fmt->format_whitelist || !fmt->protocol_whitelist) {
		avformat_free_context(fmt);
		fmt = NULL;
		goto out;
	}
	if (avformat_open_input(&fmt, NULL, NULL, NULL) < 0) {
		fmt = NULL;
		goto out;
	}
	if (avformat_find_stream_info(fmt, NULL) < 0)
		goto out;
	vi = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	if (info) {
		m->has_video = vi >= 0;
		if (vi >= 0) {
			AVStream *st = fmt->streams[vi];
			AVRational fr = av_guess_frame_rate(fmt, st, NULL);

			m->width = st->codecpar->width;
			m->height = st->codecpar->height;
			m->fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 0;
			if (st->codecpar->codec_id == AV_CODEC_ID_H264)
				vs_transcode_h264_codecs(st->codecpar->extradata, st->codecpar->extradata_size,
				               m->vcodecs, sizeof(m->vcodecs));
		}
		for (unsigned i = 0; i < fmt->nb_streams; i++)
			if (fmt->streams[i]->codecpar->codec_id == AV_CODEC_ID_AAC)
				m->has_audio_aac = true;
	}
	while ((err = av_read_frame(fmt, pkt)) >= 0) {
		if (vi < 0 || pkt->stream_index == vi) {
			AVStream *st = fmt->streams[pkt->stream_index];
			int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;

			*key = pkt->flags & AV_PKT_FLAG_KEY;
			if (ts != AV_NOPTS_VALUE)
				*start = ts * av_q2d(st->time_base);
			av_packet_unref(pkt);
			break;
		}
		av_packet_unref(pkt);
	}
	ret = 0;
out:
	if (fmt)
		avformat_close_input(&fmt);
	if (io) {
		av_freep(&io->buffer);
		avio_context_free(&io);
	}
	av_free(iobuf);
	av_packet_free(&pkt);
	free(mb.data);
	return ret;
}

/* ---- playlists ---- */

char **vs_check_read_lines(const char *path, int *n)
{
	char *text = NULL, **lines = NULL;
	size_t len = 0;
	int cap = 0;

	*n = 0;
	if (vs_fsutil_read_file(path, MAX_PLAYLIST, &text, &len) < 0)
		return NULL;
	for (char *p = text; p && *p;) {
		char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);

		if (*n == cap) {
			char **nv = realloc(lines, sizeof(*lines) * (size_t)(cap = cap ? cap * 2 : 256));

			if (!nv)
				break;
			lines = nv;
		}
		while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t'))
			l--;
		lines[(*n)++] = strndup(p, l);
		p = nl ? nl + 1 : NULL;
	}
	free(text);
	return lines;
}

void vs_check_free_lines(char **lines, int n)
{
	for (int i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

int vs_check_parse_media(struct vs_check_ctx *c, const char *path, struct vs_check_media *m)
{
	char **lines;
	int n, cap = 0;
	double pending = -1;
	long long br_len = -1, br_off = -1, next_off = 0;
	bool has_target = false, has_extinf_float = false, has_byterange = false;

	memset(m, 0, sizeof(*m));
	m->path = strdup(path);
	lines = vs_check_read_lines(path, &n);
	if (!lines) {
		vs_check_finding(c, true, "missing_file", path, "cannot read the playlist: %s", vs_error_message());
		vs_check_media_release(m);
		return -1;
	}
	if (n == 0 || strcmp(lines[0], "#EXTM3U")) {
		vs_check_finding(c, true, "syntax", path, "the first line is not #EXTM3U");
		vs_check_free_lines(lines, n);
		vs_check_media_release(m);
		return -1;
	}
	for (int i = 1; i < n; i++) {
		const char *l = lines[i];

		if (!*l)
			continue;
		if (!strncmp(l, "#EXT-X-VERSION:", 15)) {
			m->version = atoi(l + 15);
		} else if (!strncmp(l, "#EXT-X-TARGETDURATION:", 22)) {
			m->target = atoi(l + 22);
			has_target = true;
		} else if (!strcmp(l, "#EXT-X-ENDLIST")) {
			m->endlist = true;
		} else if (!strcmp(l, "#EXT-X-I-FRAMES-ONLY")) {
			m->iframes_only = true;
		} else if (!strncmp(l, "#EXT-X-MAP:", 11)) {
			char uri[4096];

			if (!vs_hls_attr(l + 11, "URI", uri, sizeof(uri)))
				vs_check_finding(c, true, "syntax", path, "line %d: EXT-X-MAP without URI", i + 1);
			else if (!m->map)
				m->map = vs_check_resolve(path, uri);
		} else if (!strncmp(l, "#EXT-X-KEY:", 11)) {
			char method[32];

			if (vs_hls_attr(l + 11, "METHOD", method, sizeof(method)) && strcmp(method, "NONE"))
				m->encrypted = true;
		} else if (!strncmp(l, "#EXTINF:", 8)) {
			char *end = NULL;

			pending = strtod(l + 8, &end);
			if (end == l + 8 || pending < 0) {
				vs_check_finding(c, true, "syntax", path, "line %d: bad EXTINF", i + 1);
				pending = 0;
			}
			if (strchr(l + 8, '.') && (size_t)(strchr(l + 8, '.') - (l + 8)) < strcspn(l + 8, ","))
				has_extinf_float = true;
		} else if (!strncmp(l, "#EXT-X-BYTERANGE:", 17)) {
			char *at;

			has_byterange = true;
			br_len = strtoll(l + 17, &at, 10);
			br_off = *at == '@' ? strtoll(at + 1, NULL, 10) : next_off;
			/* RFC 8216 4.3.2.2: decimal-integers; past 2^53 they are garbage */
			if (br_len < 0 || br_len > VS_CHECK_MAX_BYTES || br_off < 0 || br_off > VS_CHECK_MAX_BYTES) {
				vs_check_finding(c, true, "syntax", path, "line %d: an EXT-X-BYTERANGE out of range", i + 1);
				br_len = br_off = -1;
			}
		} else if (l[0] == '#') {
			continue; /* comments and tags we do not check */
		} else {
			struct vs_check_seg *s;

			if (pending < 0) {
				vs_check_finding(c, true, "syntax", path, "line %d: a URI without EXTINF", i + 1);
				continue;
			}
			if (m->n == cap) {
				struct vs_check_seg *ns = realloc(m->segs, sizeof(*ns) * (size_t)(cap = cap ? cap * 2 : 64));

				if (!ns)
					break;
				m->segs = ns;
			}
			s = &m->segs[m->n++];
			s->path = is_remote(l) ? strdup(l) : vs_check_resolve(path, l);
			s->duration = pending;
			s->offset = br_len >= 0 ? br_off : -1;
			s->length = br_len;
			s->start = NAN;
			next_off = br_len >= 0 ? br_off + br_len : 0;
			pending = -1;
			br_len = br_off = -1;
		}
	}
	vs_check_free_lines(lines, n);
	if (!has_target)
		vs_check_finding(c, true, "syntax", path, "no EXT-X-TARGETDURATION");
	if (!m->endlist)
		vs_check_finding(c, false, "endlist", path, "no EXT-X-ENDLIST: not a VOD playlist");
	{
		int need = has_extinf_float ? 3 : 1;
		int have = m->version > 0 ? m->version : 1; /* no tag: version 1 (RFC 8216 4.3.1.2) */

		if (has_byterange || m->iframes_only)
			need = 4;
		if (m->map)
			need = m->iframes_only ? 5 : 6;
		if (have < need)
			vs_check_finding(c, true, "version", path, "EXT-X-VERSION is %d but the features used need %d",
			        have, need);
	}
	return 0;
}

/* Files, durations, keyframes, the measured bit rates. */
static void check_media(struct vs_check_ctx *c, struct vs_check_media *m)
{
	long long total = 0;

	if (m->map && vs_check_file_size(m->map) < 0)
		vs_check_finding(c, true, "missing_file", m->map, "the init segment is missing");
	for (int i = 0; i < m->n; i++) {
		struct vs_check_seg *s = &m->segs[i];
		long long size;
		bool key = false;

		c->segments++;
		if (lround(s->duration) > m->target)
			vs_check_finding(c, true, "extinf_over_target", m->path,
			        "segment %d: EXTINF %.3f s is over EXT-X-TARGETDURATION %d", i + 1,
			        s->duration, m->target);
		if (is_remote(s->path)) {
			vs_check_finding(c, false, "remote", m->path, "segment %d is remote, not inspected", i + 1);
			m->unmeasured++;
			continue;
		}
		size = vs_check_file_size(s->path);
		if (size < 0) {
			vs_check_finding(c, true, "missing_file", s->path, "segment %d is missing", i + 1);
			m->unmeasured++;
			continue;
		}
		if (s->length >= 0) {
			if (s->offset + s->length > size)
				vs_check_finding(c, true, "byterange", s->path, "segment %d: the byte range ends past the file", i + 1);
			size = s->length;
		}
		total += size;
		if (s->duration > 0 && size * 8.0 / s->duration > m->peak_bps)
			m->peak_bps = size * 8.0 / s->duration;
		m->duration += s->duration;
		if (m->encrypted)
			continue;
		if (probe_segment(m, s, i == 0, &key, &s->start) < 0) {
			vs_check_finding(c, true, "unreadable", s->path, "segment %d cannot be read as media", i + 1);
			continue;
		}
		if (m->has_video && !key)
			vs_check_finding(c, true, "keyframe", s->path, "segment %d does not start with a keyframe", i + 1);
	}
	if (m->encrypted && m->n > 0)
		vs_check_finding(c, false, "encrypted", m->path, "encrypted segments: keyframes and streams not inspected");
	m->avg_bps = m->duration > 0 ? total * 8.0 / m->duration : 0;
}

static void check_variant(struct vs_check_ctx *c, const char *master, const char *attrs,
                          struct vs_check_media *m, const struct vs_check_media *audio)
{
	char v[512];
	double peak = m->peak_bps + (audio ? audio->peak_bps : 0);
	double avg = m->avg_bps + (audio ? audio->avg_bps : 0);
	/* with segments not measured, the peak measured is a floor and the
	 * average is only the measured segments': neither bounds the claim */
	bool partial = m->unmeasured > 0 || (audio && audio->unmeasured > 0);

	if (!vs_hls_attr(attrs, "BANDWIDTH", v, sizeof(v))) {
		vs_check_finding(c, true, "bandwidth", master, "%s: no BANDWIDTH", m->path);
	} else if (peak > 0) {
		double bw = atof(v);

		if (bw < floor(peak))
			vs_check_finding(c, true, "bandwidth", master,
			        "%s: BANDWIDTH %.0f is below the measured peak %.0f", m->path, bw, peak);
		else if (!partial && bw > ceil(peak) * (1 + VS_CHECK_BANDWIDTH_SLACK))
			vs_check_finding(c, true, "bandwidth", master,
			        "%s: BANDWIDTH %.0f is more than 10%% above the measured peak %.0f", m->path, bw, peak);
	}
	if (!vs_hls_attr(attrs, "AVERAGE-BANDWIDTH", v, sizeof(v)))
		vs_check_finding(c, true, "average_bandwidth", master, "%s: no AVERAGE-BANDWIDTH", m->path);
	else if (!partial && avg > 0 && fabs(atof(v) - avg) > avg * VS_CHECK_AVERAGE_SLACK)
		vs_check_finding(c, true, "average_bandwidth", master,
		        "%s: AVERAGE-BANDWIDTH %s is not within 10%% of the measured %.0f", m->path, v, avg);
	if (!vs_hls_attr(attrs, "CODECS", v, sizeof(v)))
		vs_check_finding(c, true, "codecs", master, "%s: no CODECS", m->path);
	else if (m->vcodecs[0] && !strcasestr(v, m->vcodecs))
		vs_check_finding(c, true, "codecs", master, "%s: CODECS \"%s\" does not name the stream's %s",
		        m->path, v, m->vcodecs);
	else if ((m->has_audio_aac || (audio && audio->has_audio_aac)) && !strstr(v, "mp4a"))
		vs_check_finding(c, true, "codecs", master, "%s: CODECS \"%s\" does not name the AAC audio", m->path, v);
	if (!m->has_video && m->n > 0 && !m->encrypted)
		return;
	if (!vs_hls_attr(attrs, "RESOLUTION", v, sizeof(v))) {
		vs_check_finding(c, true, "resolution", master, "%s: no RESOLUTION", m->path);
	} else if (m->width > 0) {
		char want[32];

		snprintf(want, sizeof(want), "%dx%d", m->width, m->height);
		if (strcmp(v, want))
			vs_check_finding(c, true, "resolution", master, "%s: RESOLUTION %s, the stream is %s", m->path, v, want);
	}
	if (!vs_hls_attr(attrs, "FRAME-RATE", v, sizeof(v)))
		vs_check_finding(c, true, "frame_rate", master, "%s: no FRAME-RATE", m->path);
	else if (m->fps > 0 && fabs(atof(v) - m->fps) > m->fps * VS_CHECK_FRAME_RATE_TOLERANCE)
		vs_check_finding(c, true, "frame_rate", master, "%s: FRAME-RATE %s, the stream has %.3f", m->path, v, m->fps);
}

static void check_alignment(struct vs_check_ctx *c, struct vs_check_media *v, int n)
{
	for (int i = 1; i < n; i++) {
		struct vs_check_media *a = &v[0], *b = &v[i];
		double ta = 0, tb = 0;

		if (a->n != b->n) {
			vs_check_finding(c, true, "alignment", b->path, "%d segments, %s has %d: cuts are not aligned",
			        b->n, a->path + (strncmp(a->path, c->base, strlen(c->base)) ? 0 : strlen(c->base) + 1), a->n);
			continue;
		}
		for (int s = 0; s < a->n; s++) {
			bool measured = !isnan(a->segs[s].start) && !isnan(b->segs[s].start);
			bool unmeasured = isnan(a->segs[s].start) && isnan(b->segs[s].start);
			/* timestamps where both segments were read, else the
			 * playlists' own EXTINF sums; never one against the other */
			double sa = measured ? a->segs[s].start : ta;
			double sb = measured ? b->segs[s].start : tb;

			if ((measured || unmeasured) && fabs(sa - sb) > VS_CHECK_ALIGN_TOLERANCE_S) {
				vs_check_finding(c, true, "alignment", b->path,
				        "segment %d starts at %.3f s, in the first variant at %.3f s", s + 1, sb, sa);
				break;
			}
			ta += a->segs[s].duration;
			tb += b->segs[s].duration;
		}
	}
}

int vs_check_package(const char *path, FILE *out)
{
	struct vs_check_ctx c = {.out = out};
	struct vs_check_media *vars = NULL, audio = {0};
	char *playlist = NULL, *base = NULL, **lines = NULL, **attrs = NULL;
	int n = 0, nv = 0;
	bool have_audio = false, is_master = false;
	json_t *sum;

	vs_probe_av_log_init();
	if (vs_fsutil_is_dir(path)) {
		base = vs_fsutil_abspath(path);
		playlist = base ? vs_fsutil_path_join(base, "master.m3u8") : NULL;
		if (playlist && !vs_fsutil_is_file(playlist)) {
			free(playlist);
			playlist = vs_fsutil_path_join(base, "index.m3u8");
		}
	} else {
		playlist = vs_fsutil_abspath(path);
		base = playlist ? strdup(playlist) : NULL;
		if (base && strrchr(base, '/'))
			*strrchr(base, '/') = '\0';
	}
	if (!playlist || !base)
		return 1;
	c.base = base;
	lines = vs_check_read_lines(playlist, &n);
	if (!lines) {
		vs_check_finding(&c, true, "missing_file", playlist, "no playlist: %s", vs_error_message());
		goto summary;
	}
	for (int i = 0; i < n; i++)
		is_master = is_master || !strncmp(lines[i], "#EXT-X-STREAM-INF:", 18);
	if (!is_master) {
		vars = calloc(1, sizeof(*vars));
		if (vars && vs_check_parse_media(&c, playlist, vars) == 0) {
			nv = 1;
			check_media(&c, vars);
		}
		c.variants = nv;
		goto summary;
	}
	if (n == 0 || strcmp(lines[0], "#EXTM3U"))
		vs_check_finding(&c, true, "syntax", playlist, "the first line is not #EXTM3U");
	vars = calloc((size_t)n, sizeof(*vars));
	attrs = calloc((size_t)n, sizeof(*attrs));
	for (int i = 0; vars && attrs && i < n; i++) {
		char uri[4096];

		if (!strncmp(lines[i], "#EXT-X-MEDIA:", 13) && strstr(lines[i], "TYPE=AUDIO") &&
		    vs_hls_attr(lines[i] + 13, "URI", uri, sizeof(uri)) && !have_audio) {
			char *p = vs_check_resolve(playlist, uri);

			if (p && vs_check_parse_media(&c, p, &audio) == 0) {
				check_media(&c, &audio);
				have_audio = true;
			}
			free(p);
		} else if (!strncmp(lines[i], "#EXT-X-I-FRAME-STREAM-INF:", 26)) {
			struct vs_check_media im;
			char *p;

			if (!vs_hls_attr(lines[i] + 26, "URI", uri, sizeof(uri))) {
				vs_check_finding(&c, true, "syntax", playlist, "line %d: I-frame stream without URI", i + 1);
				continue;
			}
			p = vs_check_resolve(playlist, uri);
			if (p && vs_check_parse_media(&c, p, &im) == 0) {
				if (!im.iframes_only)
					vs_check_finding(&c, true, "syntax", p, "not an I-frame playlist (no EXT-X-I-FRAMES-ONLY)");
				check_media(&c, &im);
				vs_check_media_release(&im);
			}
			free(p);
		} else if (!strncmp(lines[i], "#EXT-X-STREAM-INF:", 18)) {
			int j = i + 1;
			char *p;

			while (j < n && (!lines[j][0] || lines[j][0] == '#'))
				j++;
			if (j >= n) {
				vs_check_finding(&c, true, "syntax", playlist, "line %d: EXT-X-STREAM-INF without a URI", i + 1);
				continue;
			}
			p = vs_check_resolve(playlist, lines[j]);
			if (p && vs_check_parse_media(&c, p, &vars[nv]) == 0) {
				check_media(&c, &vars[nv]);
				attrs[nv] = lines[i] + 18;
				nv++;
			}
			free(p);
		}
	}
	c.variants = nv;
	for (int v = 0; v < nv; v++) {
		char group[64];

		check_variant(&c, playlist, attrs[v], &vars[v],
		              have_audio && vs_hls_attr(attrs[v], "AUDIO", group, sizeof(group)) ? &audio : NULL);
	}
	check_alignment(&c, vars, nv);
	vs_check_subtitles(&c, playlist, lines, n, attrs, nv, nv > 0 && vars[0].n > 0 ? vars[0].segs[0].start : NAN);
summary:
	sum = json_pack("{s:{s:i,s:i,s:i,s:i}}", "summary", "errors", c.errors, "warnings", c.warnings,
	                "variants", c.variants, "segments", c.segments);
	vs_record_write(out, sum);
	json_decref(sum);
	for (int v = 0; vars && v < nv; v++)
		vs_check_media_release(&vars[v]);
	if (have_audio)
		vs_check_media_release(&audio);
	free(vars);
	free(attrs);
	vs_check_free_lines(lines, n);
	free(playlist);
	free(base);
	return c.errors;
}
