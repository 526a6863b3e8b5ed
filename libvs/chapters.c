#include <ctype.h>
#include <math.h>

#include "chapters.h"
#include "error.h"
#include "fsutil.h"
#include "vtt.h"

/* The next line of [*p, end) into line (NUL-terminated, CR dropped);
 * false at the end. */
static bool next_line(const char **p, const char *end, char *line, size_t n)
{
	size_t k = 0;

	if (*p >= end)
		return false;
	while (*p < end && **p != '\n') {
		if (k + 1 < n && **p != '\r')
			line[k++] = **p;
		(*p)++;
	}
	if (*p < end)
		(*p)++;
	line[k] = '\0';
	return true;
}

/* WebVTT (vtt.h reads it): a cue per chapter, its first line the title. */
static int parse_vtt(const char *text, size_t len, json_t *out)
{
	struct vs_vtt v;
	int ret = vs_vtt_parse(text, len, &v);

	if (ret < 0)
		return ret;
	if (v.empty)
		ret = vs_fail(VS_ERR, VS_E_INVALID, "%d chapter cue%s without a title", v.empty, v.empty == 1 ? "" : "s");
	for (int i = 0; ret == 0 && i < v.n; i++) {
		const struct vs_vtt_cue *c = &v.cues[i];

		json_array_append_new(out, json_pack("{s:f,s:f,s:s%}", "start", c->start, "end", c->end, "title",
		                                     c->text, strcspn(c->text, "\n")));
	}
	vs_vtt_release(&v);
	return ret;
}

/* ;FFMETADATA1: [CHAPTER] sections of TIMEBASE=num/den, START=, END=,
 * title= (FFmpeg escapes '=', ';', '#', '\' and newlines with '\'). */
static int parse_ffmetadata(const char *p, const char *end, json_t *out)
{
	char line[4096];
	int lineno = 0;
	json_t *ch = NULL;
	double num = 1, den = 1000;
	long long start = -1, stop = -1;

	while (true) {
		bool more = next_line(&p, end, line, sizeof(line));

		lineno += more;
		if (!more || line[0] == '[') {
			if (ch && start < 0) {
				json_decref(ch);
				return vs_fail(VS_ERR, VS_E_INVALID, "line %d: a [CHAPTER] without START", lineno);
			}
			if (ch) {
				json_object_set_new(ch, "start", json_real(start * num / den));
				if (stop >= 0)
					json_object_set_new(ch, "end", json_real(stop * num / den));
				json_array_append_new(out, ch);
			}
			ch = more && !strcmp(line, "[CHAPTER]") ? json_object() : NULL;
			num = 1, den = 1000, start = stop = -1;
			if (!more)
				return 0;
			continue;
		}
		if (!ch)
			continue;
		if (!strncmp(line, "TIMEBASE=", 9) && sscanf(line + 9, "%lf/%lf", &num, &den) != 2) {
			json_decref(ch);
			return vs_fail(VS_ERR, VS_E_INVALID, "line %d: TIMEBASE is not num/den", lineno);
		} else if (!strncmp(line, "START=", 6)) {
			start = strtoll(line + 6, NULL, 10);
		} else if (!strncmp(line, "END=", 4)) {
			stop = strtoll(line + 4, NULL, 10);
		} else if (!strncmp(line, "title=", 6)) {
			char *t = line + 6, *w = t;

			for (char *r = t; *r; r++)
				*w++ = *r == '\\' && r[1] ? *++r : *r;
			*w = '\0';
			json_object_set_new(ch, "title", json_string(t));
		}
		if (!(den > 0) || !(num > 0)) {
			json_decref(ch);
			return vs_fail(VS_ERR, VS_E_INVALID, "line %d: TIMEBASE must be positive", lineno);
		}
	}
}

static int parse_json(const char *text, size_t len, json_t *out)
{
	json_error_t err;
	json_t *all = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	const char *p = text, *end = text + len;
	int lineno = 0;

	if (json_is_array(all)) {
		json_array_extend(out, all);
		json_decref(all);
		return 0;
	}
	json_decref(all);
	while (p < end) { /* one record a line */
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *rec;

		lineno++;
		rec = n ? json_loadb(p, n, JSON_REJECT_DUPLICATES, &err) : NULL;
		if (n && !json_is_object(rec)) {
			json_decref(rec);
			return vs_fail(VS_ERR, VS_E_INVALID, "line %d: not a JSON object", lineno);
		}
		if (rec)
			json_array_append_new(out, rec);
		p += n + (nl != NULL);
	}
	return 0;
}

int vs_chapters_parse(const char *text, size_t len, json_t **out)
{
	const char *p = text, *end = text + len;
	json_t *list = json_array();
	int ret;

	*out = NULL;
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3; /* a BOM */
	while (p < end && isspace((unsigned char)*p))
		p++;
	if ((size_t)(end - p) >= 6 && !memcmp(p, "WEBVTT", 6))
		ret = parse_vtt(text, len, list);
	else if ((size_t)(end - p) >= 12 && !memcmp(p, ";FFMETADATA1", 12))
		ret = parse_ffmetadata(p, end, list);
	else if (p < end && (*p == '[' || *p == '{'))
		ret = parse_json(p, (size_t)(end - p), list);
	else
		ret = vs_fail(VS_ERR, VS_E_INVALID, "not WebVTT, JSON or an FFmpeg metadata file");
	if (ret < 0) {
		json_decref(list);
		return ret;
	}
	*out = list;
	return 0;
}

int vs_chapters_read_file(const char *path, json_t **out)
{
	char *text = NULL;
	size_t len = 0;
	int ret = vs_fsutil_read_file(path, VS_CHAPTERS_FILE_MAX, &text, &len);

	*out = NULL;
	if (ret == 0 && (ret = vs_chapters_parse(text, len, out)) < 0)
		vs_error_prefix("'%s'", path);
	free(text);
	return ret;
}
