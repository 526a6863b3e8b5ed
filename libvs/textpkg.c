#include "error.h"
#include "fsutil.h"
#include "record.h"
#include "textpkg.h"
#include "vtt.h"

/* subs/<name>/: a WebVTT segment per video segment, and its playlist. */
static int write_playlist(const char *dir, const char *name, const struct vs_vtt *v,
                          const struct vs_hls_segment *segs, int nseg, long long mpegts)
{
	struct vs_hls_segment *out = calloc((size_t)(nseg ? nseg : 1), sizeof(*out));
	struct vs_hls_media m = {.segments = out, .n = nseg};
	char *sub = NULL, *text = NULL;
	double t0 = 0;
	int ret = 0;

	if (!out || asprintf(&sub, "%s/subs/%s", dir, name) < 0) {
		free(out);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	ret = vs_fsutil_mkdir_p(sub, 0755);
	for (int i = 0; ret == 0 && i < nseg; i++) {
		text = vs_vtt_segment_text(v, t0, t0 + segs[i].duration, mpegts);
		out[i].duration = segs[i].duration;
		out[i].offset = -1;
		out[i].size = text ? (long long)strlen(text) : 0;
		if (asprintf(&out[i].uri, "seg-%05d.vtt", i + 1) < 0)
			out[i].uri = NULL;
		ret = out[i].uri ? vs_fsutil_write_text(sub, out[i].uri, text)
		                 : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		free(text);
		t0 += segs[i].duration;
	}
	if (ret == 0) {
		text = vs_hls_media_text(&m);
		ret = vs_fsutil_write_text(sub, "index.m3u8", text);
		free(text);
	}
	for (int i = 0; i < nseg; i++)
		free(out[i].uri);
	free(out);
	free(sub);
	return ret;
}

/* One track: its files, and what the master and the MPD say of it. */
static int write_track(const char *dir, const json_t *c, const struct vs_hls_segment *segs, int nseg,
                       long long mpegts, struct vs_textpkg *t)
{
	const char *lang = vs_json_str(c, "language"), *kind = vs_json_str(c, "kind"), *label = vs_json_str(c, "label");
	struct vs_hls_subtitles *s = &t->subs[t->n];
	struct vs_dash_text *d = &t->texts[t->n];
	char *name = NULL, *whole = NULL;
	struct vs_vtt v;
	int ret;

	if (!lang || !kind || !label || !vs_json_str(c, "path"))
		return vs_fail(VS_ERR, VS_E_INVALID, "a caption track without language, kind, label or path");
	if ((ret = vs_vtt_read_file(vs_json_str(c, "path"), &v)) < 0)
		return ret;
	if (asprintf(&name, "%s-%s", kind, lang) < 0 || asprintf(&whole, "captions/%s.vtt", name) < 0) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	if ((ret = vs_fsutil_mkdir_p(dir, 0755)) < 0 || (ret = write_playlist(dir, name, &v, segs, nseg, mpegts)) < 0)
		goto out;
	{
		char *text = vs_vtt_text(&v), *cdir = NULL;

		if (asprintf(&cdir, "%s/captions", dir) < 0)
			cdir = NULL;
		ret = cdir ? vs_fsutil_mkdir_p(cdir, 0755) : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		if (ret == 0)
			ret = vs_fsutil_write_text(dir, whole, text);
		free(cdir);
		free(text);
		if (ret < 0)
			goto out;
	}
	s->name = strdup(label);
	s->language = strdup(lang);
	if (asprintf((char **)&s->uri, "subs/%s/index.m3u8", name) < 0)
		s->uri = NULL;
	s->is_default = json_is_true(json_object_get(c, "default"));
	s->captions = !strcmp(kind, "captions");
	d->id = strdup(name);
	d->language = strdup(lang);
	d->label = strdup(label);
	d->role = s->captions ? "caption" : "subtitle";
	d->file = strdup(whole);
	t->n++;
	if (!s->name || !s->language || !s->uri || !d->id || !d->language || !d->label || !d->file)
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	else
		json_array_append_new(t->section, json_pack("{s:s,s:s,s:s,s:b,s:s,s:s}", "language", lang, "label",
		                                            label, "kind", kind, "default", s->is_default,
		                                            "playlist", s->uri, "file", whole));
out:
	vs_vtt_release(&v);
	free(whole);
	free(name);
	return ret;
}

/* HLS wants names unique in a group: a second track of one label gets its kind. */
static int unique_names(struct vs_textpkg *t)
{
	for (int i = 0; i < t->n; i++)
		for (int k = 0; k < i; k++)
			if (!strcmp(t->subs[i].name, t->subs[k].name)) {
				char *named = NULL;

				if (asprintf(&named, "%s (%s)", t->subs[i].name, t->subs[i].captions ? "captions" : "subtitles") < 0)
					return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
				free((char *)t->subs[i].name);
				t->subs[i].name = named;
				break;
			}
	return 0;
}

int vs_textpkg_write(const char *dir, const json_t *captions, const struct vs_hls_segment *segs, int nseg,
                     long long mpegts, struct vs_textpkg *t)
{
	size_t n = json_array_size(captions), i;
	json_t *c;
	int ret = 0;

	memset(t, 0, sizeof(*t));
	if (n == 0)
		return 0;
	t->subs = calloc(n, sizeof(*t->subs));
	t->texts = calloc(n, sizeof(*t->texts));
	t->section = json_array();
	if (!t->subs || !t->texts || !t->section)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	json_array_foreach(captions, i, c)
		if ((ret = write_track(dir, c, segs, nseg, mpegts, t)) < 0)
			return ret;
	return unique_names(t);
}

void vs_textpkg_release(struct vs_textpkg *t)
{
	for (int i = 0; i < t->n; i++) {
		free((char *)t->subs[i].name);
		free((char *)t->subs[i].language);
		free((char *)t->subs[i].uri);
		free((char *)t->texts[i].id);
		free((char *)t->texts[i].language);
		free((char *)t->texts[i].label);
		free((char *)t->texts[i].file);
	}
	free(t->subs);
	free(t->texts);
	json_decref(t->section);
	memset(t, 0, sizeof(*t));
}
