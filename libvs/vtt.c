#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <math.h>

#include "error.h"
#include "fsutil.h"
#include "hls.h"
#include "vtt.h"

/* ---- the text: any of the encodings people have, into UTF-8 with LF ---- */

/* Whether [s, s + n) is UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t k = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 9;
		unsigned int cp = k == 0 ? c : k == 1 ? c & 0x1f : k == 2 ? c & 0x0f : c & 0x07;

		if (k == 9 || i + k >= n + (k == 0))
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += k + 1;
	}
	return true;
}

/* [in, in + n) from the encoding from into malloced UTF-8 (*out, *out_n). */
static int convert(const char *from, const char *in, size_t n, char **out, size_t *out_n)
{
	iconv_t cd = iconv_open("UTF-8", from);
	size_t cap = n * 3 + 4, left_in = n, left_out = cap;
	char *buf = malloc(cap + 1), *src = (char *)in, *dst = buf;

	if (cd == (iconv_t)-1 || !buf) {
		if (cd != (iconv_t)-1)
			iconv_close(cd);
		free(buf);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "cannot convert from %s", from);
	}
	if (iconv(cd, &src, &left_in, &dst, &left_out) == (size_t)-1) {
		iconv_close(cd);
		free(buf);
		return vs_fail(VS_ERR, VS_E_INVALID, "byte %zu is not %s", n - left_in + 1, from);
	}
	iconv_close(cd);
	*out = buf;
	*out_n = cap - left_out;
	buf[*out_n] = '\0';
	return 0;
}

/* The text of a file as UTF-8 with LF line ends (malloced, NUL-ended). */
static int decode(const char *text, size_t len, char **out)
{
	char *u = NULL, *w;
	size_t n = 0;
	int ret;

	*out = NULL;
	if (len >= 2 && !memcmp(text, "\xff\xfe", 2))
		ret = convert("UTF-16LE", text + 2, len - 2, &u, &n);
	else if (len >= 2 && !memcmp(text, "\xfe\xff", 2))
		ret = convert("UTF-16BE", text + 2, len - 2, &u, &n);
	else if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		ret = convert("UTF-8", text + 3, len - 3, &u, &n);
	else if (utf8_valid((const unsigned char *)text, len))
		ret = convert("UTF-8", text, len, &u, &n);
	else /* what SubRip files made on Windows are */
		ret = convert("WINDOWS-1252", text, len, &u, &n);
	if (ret < 0)
		return ret;
	if (memchr(u, '\0', n)) {
		free(u);
		return vs_fail(VS_ERR, VS_E_INVALID, "a NUL byte: not a text file");
	}
	w = u;
	for (size_t i = 0; i < n; i++) { /* CRLF and CR to LF */
		if (u[i] == '\r' && i + 1 < n && u[i + 1] == '\n')
			continue;
		*w++ = u[i] == '\r' ? '\n' : u[i];
	}
	*w = '\0';
	*out = u;
	return 0;
}

/* ---- lines ---- */

struct lines {
	char *p;      /* the next line; the text is NUL-ended */
	int no;       /* the number of the line last taken */
};

/* The next line, NUL-ended in place; NULL at the end. */
static char *next_line(struct lines *l)
{
	char *line = l->p, *nl;

	if (!*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		l->p = nl + 1;
	} else {
		l->p = line + strlen(line);
	}
	l->no++;
	return line;
}

static bool blank(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return !*s;
}

/* Whether the next line is blank (or there is none): it ends a block. */
static bool at_block_end(const struct lines *l)
{
	const char *p = l->p;

	while (*p == ' ' || *p == '\t')
		p++;
	return !*p || *p == '\n';
}

/* ---- cues ---- */

void vs_vtt_release(struct vs_vtt *v)
{
	for (int i = 0; i < v->n; i++) {
		free(v->cues[i].id);
		free(v->cues[i].settings);
		free(v->cues[i].text);
	}
	free(v->cues);
	free(v->blocks);
	memset(v, 0, sizeof(*v));
}

static struct vs_vtt_cue *new_cue(struct vs_vtt *v)
{
	if (v->n == VS_VTT_CUES_MAX) {
		vs_fail(VS_ERR, VS_E_INVALID, "more than %d cues", VS_VTT_CUES_MAX);
		return NULL;
	}
	if (v->n == v->cap) {
		int cap = v->cap ? v->cap * 2 : 64;
		struct vs_vtt_cue *c = realloc(v->cues, (size_t)cap * sizeof(*c));

		if (!c) {
			vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			return NULL;
		}
		v->cues = c;
		v->cap = cap;
	}
	memset(&v->cues[v->n], 0, sizeof(v->cues[0]));
	return &v->cues[v->n++];
}

static int by_start(const void *a, const void *b)
{
	const struct vs_vtt_cue *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

/* In order of start, the count of those out of order and of overlaps. */
static void settle(struct vs_vtt *v)
{
	double latest_end = -1;

	v->reordered = 0;
	for (int i = 1; i < v->n; i++)
		v->reordered += v->cues[i].start < v->cues[i - 1].start;
	if (v->reordered)
		qsort(v->cues, (size_t)v->n, sizeof(v->cues[0]), by_start);
	v->overlaps = 0;
	for (int i = 0; i < v->n; i++) {
		v->overlaps += v->cues[i].start < latest_end - 1e-9;
		if (v->cues[i].end > latest_end)
			latest_end = v->cues[i].end;
	}
}

double vs_vtt_time(const char *s, bool comma, const char **rest)
{
	double parts[3] = {0}, scale = 0.1;
	const char *p = s;
	int n = 0;

	*rest = s;
	for (;;) {
		int digits = 0;

		if (!isdigit((unsigned char)*p))
			return NAN;
		while (isdigit((unsigned char)*p) && digits++ < 9)
			parts[n] = parts[n] * 10 + (*p++ - '0');
		n++;
		if (*p != ':' || n == 3)
			break;
		p++;
	}
	if (n < 2 || !(*p == '.' || (comma && *p == ',')) || !isdigit((unsigned char)p[1]))
		return NAN;
	if (parts[n - 1] >= 60 || (n == 3 && parts[1] >= 60))
		return NAN;
	for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
		parts[n - 1] += (*p - '0') * scale;
	*rest = p;
	return n == 2 ? parts[0] * 60 + parts[1] : parts[0] * 3600 + parts[1] * 60 + parts[2];
}

/* "START --> END[ settings]" into c; false if the line is not one. */
static bool timing(const char *line, bool comma, struct vs_vtt_cue *c)
{
	const char *p = line;

	while (*p == ' ' || *p == '\t')
		p++;
	c->start = vs_vtt_time(p, comma, &p);
	while (*p == ' ' || *p == '\t')
		p++;
	if (isnan(c->start) || strncmp(p, "-->", 3))
		return false;
	p += 3;
	while (*p == ' ' || *p == '\t')
		p++;
	c->end = vs_vtt_time(p, comma, &p);
	if (isnan(c->end) || (*p && *p != ' ' && *p != '\t'))
		return false;
	c->start = round(c->start * 1000) / 1000; /* what WebVTT can say */
	c->end = round(c->end * 1000) / 1000;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p && !comma && !(c->settings = strdup(p)))
		return false;
	return true;
}

/* ---- SubRip's text into WebVTT's ---- */

/* The length of an HTML-ish tag at p ("<b>", "</font>"), 0 if none. */
static size_t tag_len(const char *p)
{
	const char *q = p + 1;

	if (*q == '/')
		q++;
	if (!isalpha((unsigned char)*q))
		return 0;
	while (*q && *q != '>' && *q != '<' && *q != '\n')
		q++;
	return *q == '>' ? (size_t)(q - p + 1) : 0;
}

/* SubRip text as WebVTT cue text (malloced): b, i and u kept, other tags and
 * ASS override codes dropped, a bare < or & escaped. */
static char *srt_text(const char *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	if (!m)
		return NULL;
	for (const char *p = s; *p;) {
		size_t t;

		if (*p == '<' && (t = tag_len(p))) {
			const char *name = p[1] == '/' ? p + 2 : p + 1;

			if (t == (size_t)(name - p) + 2 && strchr("biuBIU", *name))
				fprintf(m, "<%s%c>", p[1] == '/' ? "/" : "", tolower((unsigned char)*name));
			p += t;
		} else if (*p == '{' && p[1] == '\\' && strchr(p, '}')) {
			p = strchr(p, '}') + 1;
		} else if (*p == '<') {
			fputs("&lt;", m), p++;
		} else if (*p == '&' && !(isalpha((unsigned char)p[1]) || p[1] == '#')) {
			fputs("&amp;", m), p++;
		} else {
			fputc(*p++, m);
		}
	}
	if (fclose(m) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Cue text that reads back the same (malloced): no blank lines (they would
 * end the cue) and no "-->" (it would be taken for a timing). */
static char *clean_text(const char *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	bool first = true;

	if (!m)
		return NULL;
	while (*s) {
		const char *nl = strchr(s, '\n'), *end = nl ? nl : s + strlen(s), *p = s;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end) {
			if (!first)
				fputc('\n', m);
			for (const char *q = s; q < end; q++)
				if (q + 3 <= end && !strncmp(q, "-->", 3))
					fputs("--&gt;", m), q += 2;
				else
					fputc(*q, m);
			first = false;
		}
		s = nl ? nl + 1 : end;
	}
	if (fclose(m) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* ---- the two formats ---- */

/* A cue's payload: the lines up to a blank one, joined by \n (malloced). */
static int payload(struct lines *l, char **text)
{
	char *out = NULL, *line;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	bool first = true;

	if (!m)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	while (!at_block_end(l) && (line = next_line(l))) {
		if (strstr(line, "-->")) {
			fclose(m);
			free(out);
			return vs_fail(VS_ERR, VS_E_INVALID, "line %d: a cue timing where the cue's text was expected "
			               "(a blank line missing?)", l->no);
		}
		fprintf(m, "%s%s", first ? "" : "\n", line);
		first = false;
	}
	if (fclose(m) != 0) {
		free(out);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	*text = out;
	return 0;
}

/* One cue whose timing line is line (its id, if any, before), its text next. */
static int cue(struct vs_vtt *v, struct lines *l, char *line, const char *id, bool srt)
{
	struct vs_vtt_cue *c = new_cue(v);
	int ret;

	if (!c)
		return VS_ERR;
	c->line = l->no;
	if (!timing(line, srt, c)) {
		v->n--;
		free(c->settings);
		return vs_fail(VS_ERR, VS_E_INVALID, "line %d: not a cue timing (%s)", l->no,
		               srt ? "HH:MM:SS,mmm --> HH:MM:SS,mmm" : "HH:MM:SS.mmm --> HH:MM:SS.mmm");
	}
	if (!(c->end > c->start))
		return vs_fail(VS_ERR, VS_E_INVALID, "line %d: the cue ends at or before its start", l->no);
	if (id && !(c->id = strdup(id)))
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if ((ret = payload(l, &c->text)) < 0)
		return ret;
	if (srt) {
		char *t = srt_text(c->text), *clean = t ? clean_text(t) : NULL;

		free(t);
		free(c->text);
		if (!(c->text = clean))
			return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	if (blank(c->text)) { /* nothing to show */
		v->empty++;
		free(c->id);
		free(c->settings);
		free(c->text);
		v->n--;
	}
	return 0;
}

/* Whether a WebVTT block starts with word (STYLE, REGION, NOTE) alone or
 * followed by a space. */
static bool block_is(const char *line, const char *word)
{
	size_t n = strlen(word);

	return !strncmp(line, word, n) && (!line[n] || line[n] == ' ' || line[n] == '\t');
}

/* A STYLE or REGION block, kept as written (before any cue, as the W3C
 * wants: after one it is dropped). */
static int keep_block(struct vs_vtt *v, struct lines *l, char *first)
{
	char *text = NULL, *joined = NULL;
	int ret = payload(l, &text);

	if (ret < 0)
		return ret;
	if (v->n == 0 && asprintf(&joined, "%s%s\n%s\n\n", v->blocks ? v->blocks : "", first, text) < 0)
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if (joined) {
		free(v->blocks);
		v->blocks = joined;
	}
	free(text);
	return ret;
}

static int parse_webvtt(struct vs_vtt *v, struct lines *l)
{
	char *line = next_line(l); /* WEBVTT and the rest of the header */
	int ret = 0;

	while (line && !blank(line))
		line = next_line(l);
	while (ret == 0 && (line = next_line(l))) {
		if (blank(line))
			continue;
		if (block_is(line, "NOTE")) {
			while (!at_block_end(l) && next_line(l))
				;
		} else if (block_is(line, "STYLE") || block_is(line, "REGION")) {
			ret = keep_block(v, l, line);
		} else if (strstr(line, "-->")) {
			ret = cue(v, l, line, NULL, false);
		} else if (!at_block_end(l)) { /* an identifier, its timing next */
			char *id = line, *t = next_line(l);

			if (!strstr(t, "-->"))
				return vs_fail(VS_ERR, VS_E_INVALID, "line %d: neither a cue timing "
				               "(HH:MM:SS.mmm --> HH:MM:SS.mmm) nor a cue identifier before one", l->no - 1);
			ret = cue(v, l, t, id, false);
		} else {
			ret = vs_fail(VS_ERR, VS_E_INVALID, "line %d: a line alone that is not a cue", l->no);
		}
	}
	return ret;
}

static int parse_srt(struct vs_vtt *v, struct lines *l)
{
	char *line;
	int ret = 0;

	v->srt = true;
	while (ret == 0 && (line = next_line(l))) {
		if (blank(line))
			continue;
		if (!strstr(line, "-->")) { /* the cue's number, its timing next */
			line = next_line(l);
			if (!line || !strstr(line, "-->"))
				return vs_fail(VS_ERR, VS_E_INVALID, "line %d: a cue number without a timing after it",
				               l->no - (line != NULL));
		}
		ret = cue(v, l, line, NULL, true);
	}
	return ret;
}

/* SubRip: a cue number alone on the first line, then a timing; or the
 * timing first. */
static bool looks_srt(const char *t)
{
	struct vs_vtt_cue c = {0};
	const char *p = t, *nl;
	char line[128];
	size_t n;

	while (isdigit((unsigned char)*p))
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (p > t && *p == '\n')
		t = p + 1;
	nl = strchr(t, '\n');
	n = nl ? (size_t)(nl - t) : strlen(t);
	if (n >= sizeof(line))
		return false;
	memcpy(line, t, n);
	line[n] = '\0';
	return timing(line, true, &c);
}

int vs_vtt_parse(const char *text, size_t len, struct vs_vtt *v)
{
	char *u = NULL, *p;
	struct lines l;
	int ret;

	memset(v, 0, sizeof(*v));
	if ((ret = decode(text, len, &u)) < 0)
		return ret;
	p = u;
	while (*p == '\n' || *p == ' ' || *p == '\t')
		p++;
	l = (struct lines){.p = p};
	for (char *q = u; q < p; q++) /* blank lines before it still count */
		l.no += *q == '\n';
	if (!*p)
		ret = vs_fail(VS_ERR, VS_E_INVALID, "the file is empty");
	else if (!strncmp(p, "WEBVTT", 6) && (!p[6] || p[6] == ' ' || p[6] == '\t' || p[6] == '\n'))
		ret = parse_webvtt(v, &l);
	else if (looks_srt(p))
		ret = parse_srt(v, &l);
	else
		ret = vs_fail(VS_ERR, VS_E_INVALID, "line %d: neither WebVTT (it starts with WEBVTT) nor SubRip",
		              l.no + 1);
	free(u);
	if (ret < 0) {
		vs_vtt_release(v);
		return ret;
	}
	settle(v);
	return 0;
}

int vs_vtt_read_file(const char *path, struct vs_vtt *v)
{
	char *text = NULL;
	size_t len = 0;
	int ret = vs_fsutil_read_file(path, VS_VTT_FILE_MAX, &text, &len);

	memset(v, 0, sizeof(*v));
	if (ret == 0 && (ret = vs_vtt_parse(text, len, v)) < 0)
		vs_error_prefix("'%s'", path);
	free(text);
	return ret;
}

int vs_vtt_add(struct vs_vtt *v, double start, double end, const char *text)
{
	struct vs_vtt_cue *c;

	if (!(start >= 0 && end > start && isfinite(end)))
		return vs_fail(VS_ERR, VS_E_INVALID, "a cue from %g s to %g s", start, end);
	if (!utf8_valid((const unsigned char *)text, strlen(text)))
		return vs_fail(VS_ERR, VS_E_INVALID, "a cue's text is not UTF-8");
	start = round(start * 1000) / 1000; /* what WebVTT can say */
	end = round(end * 1000) / 1000;
	if (!(end > start))
		return vs_fail(VS_ERR, VS_E_INVALID, "a cue from %g s to %g s", start, end);
	if (!(c = new_cue(v)))
		return VS_ERR;
	c->start = start;
	c->end = end;
	c->line = v->n;
	if (!(c->text = clean_text(text))) {
		v->n--;
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	if (!*c->text) { /* nothing to show */
		free(c->text);
		v->n--;
		v->empty++;
	}
	settle(v);
	return 0;
}

void vs_vtt_clamp(struct vs_vtt *v, double duration_s)
{
	int k = 0;

	for (int i = 0; i < v->n; i++) {
		struct vs_vtt_cue *c = &v->cues[i];

		if (c->start >= duration_s - 1e-3) {
			v->dropped++;
			free(c->id);
			free(c->settings);
			free(c->text);
			continue;
		}
		if (c->end > duration_s) {
			c->end = floor(duration_s * 1000) / 1000;
			v->clamped++;
		}
		v->cues[k++] = *c;
	}
	v->n = k;
	settle(v);
}

/* Writes cue c to m. */
static void put_cue(FILE *m, const struct vs_vtt_cue *c)
{
	char a[32], b[32];

	if (c->id)
		fprintf(m, "%s\n", c->id);
	fprintf(m, "%s --> %s%s%s\n%s\n\n", vs_hls_vtt_time(c->start, a, sizeof(a)),
	        vs_hls_vtt_time(c->end, b, sizeof(b)), c->settings ? " " : "", c->settings ? c->settings : "", c->text);
}

static char *write_cues(const struct vs_vtt *v, double from, double to, long long mpegts, bool map)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	if (!m)
		return NULL;
	fputs("WEBVTT\n", m);
	if (map) /* RFC 8216 3.5 */
		fprintf(m, "X-TIMESTAMP-MAP=MPEGTS:%lld,LOCAL:00:00:00.000\n", mpegts);
	fputc('\n', m);
	if (v->blocks)
		fputs(v->blocks, m);
	for (int i = 0; i < v->n; i++)
		if (v->cues[i].start < to && v->cues[i].end > from)
			put_cue(m, &v->cues[i]);
	if (fclose(m) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

char *vs_vtt_text(const struct vs_vtt *v)
{
	return write_cues(v, -INFINITY, INFINITY, 0, false);
}

char *vs_vtt_segment_text(const struct vs_vtt *v, double start_s, double end_s, long long mpegts)
{
	return write_cues(v, start_s, end_s, mpegts, true);
}
