#include <math.h>

#include "checkreq.h"
#include "error.h"
#include "fsutil.h"
#include "hls.h"
#include "vtt.h"

#define CUE_TOLERANCE_S 0.5      /* a cue may miss its segment by this much */
#define MAP_TOLERANCE_S 0.1      /* X-TIMESTAMP-MAP against the video's first frame */
#define SEGMENT_TEXT_MAX (4 << 20)

/* A subtitle segment's X-TIMESTAMP-MAP (RFC 8216 3.5): MPEGTS in *mpegts,
 * LOCAL in *local; false without one in its header. */
static bool timestamp_map(const char *text, long long *mpegts, double *local)
{
	const char *end = strstr(text, "\n\n"), *p = strstr(text, "\nX-TIMESTAMP-MAP=");
	const char *m, *l, *rest;

	if (!p || (end && p > end))
		return false;
	p += 17;
	m = strstr(p, "MPEGTS:");
	l = strstr(p, "LOCAL:");
	if (!m || !l || (strchr(p, '\n') && (m > strchr(p, '\n') || l > strchr(p, '\n'))))
		return false;
	*mpegts = strtoll(m + 7, NULL, 10);
	*local = vs_vtt_time(l + 6, false, &rest);
	return !isnan(*local);
}

/* One WebVTT segment of playlist m: it reads, its map puts the cues where
 * the video is, and each cue falls in [from, to). */
static void check_segment(struct vs_check_ctx *c, const struct vs_check_media *m, int i, double from,
                          double video_start_s)
{
	const char *path = m->segs[i].path;
	double to = from + m->segs[i].duration, local = 0;
	long long mpegts = 0;
	char *text = NULL;
	size_t len = 0;
	struct vs_vtt v;

	if (vs_fsutil_read_file(path, SEGMENT_TEXT_MAX, &text, &len) < 0) {
		vs_check_finding(c, true, "missing_file", path, "subtitle segment %d cannot be read", i + 1);
		return;
	}
	if (vs_vtt_parse(text, len, &v) < 0) {
		vs_check_finding(c, true, "webvtt", path, "subtitle segment %d is not WebVTT: %s", i + 1,
		                 vs_error_message());
		free(text);
		return;
	}
	if (!timestamp_map(text, &mpegts, &local))
		vs_check_finding(c, true, "timestamp_map", path, "subtitle segment %d has no X-TIMESTAMP-MAP", i + 1);
	else if (!isnan(video_start_s) && fabs(mpegts / 90000.0 - local - video_start_s) > MAP_TOLERANCE_S)
		vs_check_finding(c, true, "timestamp_map", path,
		                 "subtitle segment %d: X-TIMESTAMP-MAP puts its cues %.3f s off the video (MPEGTS %lld, "
		                 "the video's first frame at %.0f)", i + 1, mpegts / 90000.0 - local - video_start_s, mpegts,
		                 video_start_s * 90000);
	for (int k = 0; k < v.n; k++)
		if (v.cues[k].end < from - CUE_TOLERANCE_S || v.cues[k].start > to + CUE_TOLERANCE_S) {
			vs_check_finding(c, true, "cue_outside_segment", path,
			                 "subtitle segment %d (%.3f-%.3f s) holds a cue at %.3f-%.3f s", i + 1, from, to,
			                 v.cues[k].start, v.cues[k].end);
			break;
		}
	vs_vtt_release(&v);
	free(text);
}

/* One EXT-X-MEDIA TYPE=SUBTITLES: its attributes, its playlist, its segments. */
static void check_rendition(struct vs_check_ctx *c, const char *master, const char *attrs, int line,
                            double video_start_s)
{
	char uri[4096], v[256];
	struct vs_check_media m;
	double t = 0;
	char *p;

	if (!vs_hls_attr(attrs, "NAME", v, sizeof(v)))
		vs_check_finding(c, true, "subtitles", master, "line %d: a subtitle rendition without NAME", line);
	if (!vs_hls_attr(attrs, "LANGUAGE", v, sizeof(v)))
		vs_check_finding(c, false, "subtitles", master, "line %d: a subtitle rendition without LANGUAGE", line);
	if (vs_hls_attr(attrs, "DEFAULT", v, sizeof(v)) && !strcmp(v, "YES") &&
	    !(vs_hls_attr(attrs, "AUTOSELECT", v, sizeof(v)) && !strcmp(v, "YES")))
		vs_check_finding(c, true, "subtitles", master, "line %d: DEFAULT=YES without AUTOSELECT=YES", line);
	if (!vs_hls_attr(attrs, "URI", uri, sizeof(uri))) {
		vs_check_finding(c, true, "subtitles", master, "line %d: a subtitle rendition without URI", line);
		return;
	}
	if (strstr(uri, "://"))
		return; /* remote: not ours to read */
	if (!(p = vs_check_resolve(master, uri)))
		return;
	if (vs_check_parse_media(c, p, &m) == 0) {
		for (int i = 0; i < m.n; i++) {
			if (lround(m.segs[i].duration) > m.target)
				vs_check_finding(c, true, "extinf_over_target", m.path,
				                 "segment %d: EXTINF %.3f s is over EXT-X-TARGETDURATION %d", i + 1,
				                 m.segs[i].duration, m.target);
			if (!strstr(m.segs[i].path, "://"))
				check_segment(c, &m, i, t, video_start_s);
			t += m.segs[i].duration;
			c->segments++;
		}
		vs_check_media_release(&m);
	}
	free(p);
}

/* The groups the variants name, and that each is one of subtitles. */
static void check_groups(struct vs_check_ctx *c, const char *master, char **lines, int n, char **attrs, int nv)
{
	for (int v = 0; v < nv; v++) {
		char group[256], g[256];
		bool found = false;

		if (!vs_hls_attr(attrs[v], "SUBTITLES", group, sizeof(group)))
			continue;
		for (int i = 0; i < n && !found; i++)
			found = !strncmp(lines[i], "#EXT-X-MEDIA:", 13) && strstr(lines[i], "TYPE=SUBTITLES") &&
			        vs_hls_attr(lines[i] + 13, "GROUP-ID", g, sizeof(g)) && !strcmp(g, group);
		if (!found)
			vs_check_finding(c, true, "subtitles", master,
			                 "variant %d names the subtitle group \"%s\", which the master does not have", v + 1, group);
	}
}

/* Within a group, names unique and one default at most (RFC 8216 4.3.4.1.1). */
static void check_names(struct vs_check_ctx *c, const char *master, char **lines, int n)
{
	for (int i = 0; i < n; i++) {
		char gi[256], ni[256], di[8] = "", gk[256], nk[256], dk[8] = "";

		if (strncmp(lines[i], "#EXT-X-MEDIA:", 13) || !strstr(lines[i], "TYPE=SUBTITLES") ||
		    !vs_hls_attr(lines[i] + 13, "GROUP-ID", gi, sizeof(gi)) || !vs_hls_attr(lines[i] + 13, "NAME", ni, sizeof(ni)))
			continue;
		vs_hls_attr(lines[i] + 13, "DEFAULT", di, sizeof(di));
		for (int k = 0; k < i; k++) {
			if (strncmp(lines[k], "#EXT-X-MEDIA:", 13) || !strstr(lines[k], "TYPE=SUBTITLES") ||
			    !vs_hls_attr(lines[k] + 13, "GROUP-ID", gk, sizeof(gk)) || strcmp(gk, gi))
				continue;
			if (vs_hls_attr(lines[k] + 13, "NAME", nk, sizeof(nk)) && !strcmp(nk, ni))
				vs_check_finding(c, true, "subtitles", master, "line %d: a second \"%s\" in group \"%s\"", i + 1,
				                 ni, gi);
			if (vs_hls_attr(lines[k] + 13, "DEFAULT", dk, sizeof(dk)) && !strcmp(dk, "YES") && !strcmp(di, "YES"))
				vs_check_finding(c, true, "subtitles", master, "line %d: a second DEFAULT=YES in group \"%s\"",
				                 i + 1, gi);
		}
	}
}

void vs_check_subtitles(struct vs_check_ctx *c, const char *path, char **lines, int n, char **attrs, int nv,
                        double video_start_s)
{
	check_groups(c, path, lines, n, attrs, nv);
	check_names(c, path, lines, n);
	for (int i = 0; i < n; i++)
		if (!strncmp(lines[i], "#EXT-X-MEDIA:", 13) && strstr(lines[i], "TYPE=SUBTITLES"))
			check_rendition(c, path, lines[i] + 13, i + 1, video_start_s);
}
