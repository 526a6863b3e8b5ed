#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "codec.h"
#include "dash.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "hls.h"
#include "ladder.h"
#include "package.h"
#include "record.h"
#include "segment.h"
#include "textpkg.h"

/* ---- the package ---- */

static char *join3(const char *a, const char *b, const char *c)
{
	char *s = NULL;

	if (asprintf(&s, "%s/%s/%s", a, b, c) < 0)
		return NULL;
	return s;
}


static int write_media_playlists(const char *dir, const char *label, struct vs_segment_track *t,
                                 bool ts, const struct vs_segment_key *k, const char *key_uri, int *version)
{
	struct vs_hls_media m = {.map_uri = ts ? NULL : "init.mp4", .segments = t->segs, .n = t->n};
	char *text, *sub = vs_fsutil_path_join(dir, label);
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
	ret = vs_fsutil_write_text(sub, "index.m3u8", text);
	free(text);
	if (ret == 0 && t->ni > 0) {
		struct vs_hls_media im = {.iframes_only = true, .map_uri = m.map_uri,
		                          .segments = t->iframes, .n = t->ni};

		text = vs_hls_media_text(&im);
		ret = vs_fsutil_write_text(sub, "iframes.m3u8", text);
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
	ret = vs_fsutil_write_text(dir, "chapters.vtt", text);
	free(text);
	return ret;
}

static int copy_file(const char *src, const char *dir, const char *name)
{
	char *data = NULL, *dst = vs_fsutil_path_join(dir, name);
	size_t len = 0;
	int ret = dst ? vs_fsutil_read_file(src, 256u << 20, &data, &len) : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");

	if (ret == 0)
		ret = vs_fsutil_write_staged(dst, data, len);
	free(data);
	free(dst);
	return ret;
}

/* The video's key: made once, kept beside the package (never in it), and
 * reused so that packaging again gives the same bytes. */
static int load_key(const char *media_root, const char *id, struct vs_segment_key *k)
{
	char *dir = join3(media_root, id, "keys"), *path = dir ? vs_fsutil_path_join(dir, "aes-128.key") : NULL;
	char *data = NULL;
	size_t len = 0;
	int ret = 0;

	if (!path) {
		free(dir);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	if (vs_fsutil_read_file(path, 64, &data, &len) == 0 && len == 32) {
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
		if ((ret = vs_fsutil_mkdir_p(dir, 0700)) < 0 ||
		    (ret = vs_fsutil_write_atomic_mode(path, both, sizeof(both), 0600)) < 0)
			goto out;
	}
	vs_codec_hex(k->iv, 16, k->iv_hex);
	k->on = true;
out:
	free(data);
	free(path);
	free(dir);
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
static int package_key(const json_t *rec, const struct vs_package_opts *o, double segment_s, double first_s,
                       const char *final, char out[65])
{
	static const char *const files[] = {"thumbnails.storyboard", "thumbnails.storyboard_vtt", "thumbnails.poster"};
	struct vs_sha256 *h = vs_sha256_new();
	char opts[512], *text;
	json_t *r;
	size_t i;

	if (!h)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	snprintf(opts, sizeof(opts), "vs-package 2|%s|%.6f|%.6f|%d|%d|%d|%d|%s|%d|", final, segment_s, first_s, o->ts,
	         o->audio_group, o->dash, o->encrypt, o->key_uri ? o->key_uri : "", o->no_fallback);
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
	json_array_foreach(json_object_get(rec, "captions"), i, r) {
		if ((text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS)))
			vs_sha256_update(h, text, strlen(text));
		free(text);
		hash_file(h, vs_json_str(r, "path"));
	}
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

/* The finished package for key in marker, or NULL (new reference): only
 * while its master is there. */
static json_t *finished_package(const char *marker, const char *key, const char *final)
{
	json_t *m = vs_fsutil_read_finished(marker, "key", key), *pkg = NULL;
	char *master = vs_fsutil_path_join(final, "master.m3u8");

	if (m && master && vs_fsutil_is_file(master))
		pkg = json_incref(json_object_get(m, "package"));
	json_decref(m);
	free(master);
	return json_is_object(pkg) ? pkg : (json_decref(pkg), NULL);
}

/* One run of vs_package(): what its steps share. */
struct job {
	json_t *rec;                        /* borrowed */
	const struct vs_package_opts *o;
	const char *id;                     /* borrowed from rec */
	json_t *renditions;                 /* borrowed from rec */
	int n;                              /* renditions */
	bool audio_group;                   /* o->audio_group, and there is audio to share */
	char *root, *final, *marker;        /* malloced, owned (NULL when out of memory) */
	char *tmp;                          /* the package being made; NULL once in place */
	char *old;                          /* where the previous package goes meanwhile */
	char pkg_key[65];                   /* what the package is made of (package_key) */
	struct vs_segment_key key;
	char *key_uri;                      /* EXT-X-KEY's URI, malloced, owned */
	struct vs_segment_track *tracks;    /* one per rendition, owned */
	struct vs_segment_track audio;      /* with audio_group */
	struct vs_hls_variant *vars;        /* one per rendition; uri, iframe_uri owned */
	int version;                        /* EXT-X-VERSION of the master */
	double duration;                    /* the longest track's */
	double segment_s;                   /* o->segment_s, or the default for this encode */
	double first_s;                     /* the first segment's, shorter: the encode's start GOP; or 0 */
	struct vs_textpkg text;             /* the caption tracks */
	const json_t *fallback;             /* the rendition in VS_PACKAGE_FALLBACK, borrowed, or NULL */
};

/* The record must name its video and renditions that can be packaged with
 * o; *have_audio is set when a rendition has audio, *segment_s to the
 * segment length: o's, which must be a whole number of the encode's GOPs,
 * or the default's; *first_s to the first segment's when the encode has a
 * keyframe before its first GOP's end (vs_ladder_start_gop), else 0. */
static int check_record(const json_t *rec, const struct vs_package_opts *o, bool *have_audio, double *segment_s,
                        double *first_s)
{
	const char *id = vs_json_str(rec, "id");
	json_t *renditions = json_object_get(rec, "renditions"), *r;
	double gop = 0;
	size_t i;

	if (!id || !*id || strchr(id, '/') || id[0] == '.')
		return vs_fail(VS_ERR, VS_E_INVALID, "the record has no valid 'id'");
	if (json_array_size(renditions) == 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "the record has no renditions: run vs-encode first");
	if (!vs_json_number(rec, "encode.gop_seconds", &gop) || !(gop > 0 && gop <= 60))
		gop = 0;
	if (!gop || !vs_json_number(rec, "encode.start_gop_seconds", first_s) ||
	    !(*first_s = vs_ladder_start_gop(*first_s, gop)))
		*first_s = 0;
	*segment_s = o->segment_s;
	if (*segment_s <= 0) /* the GOPs that make at least the default */
		*segment_s = gop > 0 ? gop * fmax(1, ceil(VS_SEGMENT_SECONDS_DEFAULT / gop - 1e-6))
		                     : VS_SEGMENT_SECONDS_DEFAULT;
	if (gop > 0) {
		double k = *segment_s / gop;

		if (fabs(k - round(k)) > 1e-6 || round(k) < 1)
			return vs_fail(VS_ERR, VS_E_INVALID,
			               "--segment-seconds %g is not a multiple of the encode's GOP (%g s)",
			               *segment_s, gop);
	}
	json_array_foreach(renditions, i, r) {
		const char *p = vs_json_str(r, "path"), *l = vs_json_str(r, "label");

		if (!p || !l || !*l || strchr(l, '/') || l[0] == '.' || !strcmp(l, "audio"))
			return vs_fail(VS_ERR, VS_E_INVALID, "rendition %zu has no usable path or label", i);
		if (!vs_fsutil_is_file(p))
			return vs_fail(VS_ERR, VS_E_NOT_FOUND, "rendition '%s' is missing", p);
		if (vs_json_str(r, "codecs") && strstr(vs_json_str(r, "codecs"), "mp4a"))
			*have_audio = true;
	}
	return 0;
}

/* The temporary directory beside the final one that the package is made
 * in (j->tmp), and the name the previous package is put aside under. */
static int make_tmp(struct job *j)
{
	char *parent = j->final ? strdup(j->final) : NULL;
	int ret;

	if (parent && strrchr(parent, '/'))
		*strrchr(parent, '/') = '\0';
	if (!j->final || !parent || asprintf(&j->tmp, "%s.tmp-XXXXXX", j->final) < 0 ||
	    asprintf(&j->old, "%s.old-%ld", j->final, (long)getpid()) < 0) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	if ((ret = vs_fsutil_mkdir_p(*parent ? parent : "/", 0755)) < 0)
		goto out;
	if (!mkdtemp(j->tmp)) {
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot create a directory beside '%s': %s", j->final,
		              strerror(errno));
		free(j->tmp);
		j->tmp = NULL;
		goto out;
	}
	chmod(j->tmp, 0755);
out:
	free(parent);
	return ret;
}

/* With AES-128: the video's key, handed to the caller before anything is
 * encrypted with it, and the URI players fetch it from. */
static int prepare_key(struct job *j)
{
	const struct vs_package_opts *o = j->o;
	int ret;

	if (!o->encrypt)
		return 0;
	if ((ret = load_key(j->root, j->id, &j->key)) < 0)
		return ret;
	if (o->key_ready && (ret = o->key_ready(j->id, j->key.key, j->key.iv, o->key_ctx)) < 0)
		return ret;
	if (o->key_uri)
		j->key_uri = strdup(o->key_uri);
	else if (asprintf(&j->key_uri, VS_KEY_ENDPOINT, j->id) < 0)
		j->key_uri = NULL;
	return 0;
}

/* Rendition i (r) into j->tmp/<label>/: segments, playlists, its variant. */
static int package_rendition(struct job *j, size_t i, const json_t *r)
{
	const struct vs_package_opts *o = j->o;
	const char *label = vs_json_str(r, "label");
	struct vs_hls_variant *v = &j->vars[i];
	struct vs_segment_track *t = &j->tracks[i];
	char *sub = vs_fsutil_path_join(j->tmp, label);
	double fr = 0;
	int ret;

	ret = sub ? vs_fsutil_mkdir_p(sub, 0755) : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if (ret == 0)
		ret = vs_segment_cut(vs_json_str(r, "path"), sub,
		                     j->audio_group ? VS_SEGMENT_VIDEO_ONLY : VS_SEGMENT_MUXED, o->ts,
		                     j->segment_s, j->first_s, &j->key, t);
	free(sub);
	if (ret < 0)
		return ret;
	if ((ret = write_media_playlists(j->tmp, label, t, o->ts, &j->key, j->key_uri, &j->version)) < 0)
		return ret;
	vs_json_number(r, "frame_rate", &fr);
	v->width = (int)json_integer_value(json_object_get(r, "width"));
	v->height = (int)json_integer_value(json_object_get(r, "height"));
	v->codecs = vs_json_str(r, "codecs");
	v->frame_rate = fr;
	v->bandwidth = t->peak_bps;
	v->average_bandwidth = t->avg_bps;
	if (t->ni > 0) {
		if (asprintf((char **)&v->iframe_uri, "%s/iframes.m3u8", label) < 0)
			v->iframe_uri = NULL;
		v->iframe_bandwidth = t->iframe_peak_bps;
	}
	if (asprintf((char **)&v->uri, "%s/index.m3u8", label) < 0)
		v->uri = NULL;
	if (t->duration > j->duration)
		j->duration = t->duration;
	return 0;
}

/* With audio_group: the first rendition's audio into j->tmp/audio/, the
 * group every variant refers to. */
static int package_audio(struct job *j)
{
	const struct vs_package_opts *o = j->o;
	char *sub = vs_fsutil_path_join(j->tmp, "audio");
	int ret;

	ret = sub ? vs_fsutil_mkdir_p(sub, 0755) : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if (ret == 0)
		ret = vs_segment_cut(vs_json_str(json_array_get(j->renditions, 0), "path"), sub,
		                     VS_SEGMENT_AUDIO_ONLY, o->ts, j->segment_s, j->first_s, &j->key, &j->audio);
	free(sub);
	if (ret == 0)
		ret = write_media_playlists(j->tmp, "audio", &j->audio, o->ts, &j->key, j->key_uri, &j->version);
	if (ret < 0)
		return ret;
	for (int v = 0; v < j->n; v++) {
		j->vars[v].audio_group = "audio";
		j->vars[v].bandwidth += j->audio.peak_bps;
		j->vars[v].average_bandwidth += j->audio.avg_bps;
	}
	return 0;
}

/* What comes with the package: chapters, storyboard, poster. */
static int write_extras(struct job *j)
{
	static const char *const extra[][2] = {{"thumbnails.storyboard", "storyboard.jpg"},
	                                       {"thumbnails.storyboard_vtt", "storyboard.vtt"},
	                                       {"thumbnails.poster", "poster.jpg"}};
	int ret;

	if ((ret = write_chapters(j->tmp, json_object_get(j->rec, "chapters"), j->duration)) < 0)
		return ret;
	for (size_t e = 0; e < VS_ARRAY_SIZE(extra); e++) {
		const char *src = vs_json_str(j->rec, extra[e][0]);

		if (src && vs_fsutil_is_file(src) && (ret = copy_file(src, j->tmp, extra[e][1])) < 0)
			return ret;
	}
	return 0;
}

/*
 * The lowest rung whole as VS_PACKAGE_FALLBACK, for players with neither
 * MSE nor HLS: vs-encode's renditions are progressive MP4s already (moov
 * first, "faststart"), so it is a copy. Not for an encrypted package: it
 * would be the lesson in the clear.
 */
static int write_fallback(struct job *j)
{
	const json_t *r, *low = NULL;
	char *dst;
	size_t i;
	int ret;

	if (j->o->no_fallback || j->key.on)
		return 0;
	json_array_foreach(j->renditions, i, r) {
		json_int_t h = json_integer_value(json_object_get(r, "height")),
		           b = json_integer_value(json_object_get(r, "bitrate"));

		if (!low || h < json_integer_value(json_object_get(low, "height")) ||
		    (h == json_integer_value(json_object_get(low, "height")) &&
		     b < json_integer_value(json_object_get(low, "bitrate"))))
			low = r;
	}
	if (!low)
		return 0;
	if (!(dst = vs_fsutil_path_join(j->tmp, VS_PACKAGE_FALLBACK)))
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	ret = vs_fsutil_copy_staged(vs_json_str(low, "path"), dst);
	free(dst);
	if (ret == 0)
		j->fallback = low;
	return ret;
}

/* The manifests over the segments, the master last, and the package in
 * place of the previous one. */
static int finish_package(struct job *j)
{
	struct vs_hls_audio a = {.group = "audio", .name = "Main", .language = "und",
	                         .uri = "audio/index.m3u8", .channels = 2};
	char *text = NULL;
	int ret = 0;

	if (j->o->dash) {
		text = vs_dash_mpd_text(j->renditions, j->tracks, j->audio_group ? &j->audio : NULL, j->text.texts,
		                        j->text.n, j->segment_s, j->duration);
		ret = vs_fsutil_write_text(j->tmp, "manifest.mpd", text);
		free(text);
		if (ret < 0)
			return ret;
	}
	text = vs_hls_master_text(j->vars, j->n, j->audio_group ? &a : NULL, j->text.subs, j->text.n, j->version);
	/* the master last: a visible master never points at a missing file */
	if ((ret = vs_fsutil_write_text(j->tmp, "master.m3u8", text)) == 0 &&
	    (ret = vs_fsutil_swap_dir(j->tmp, j->final, j->old)) == 0) {
		free(j->tmp);
		j->tmp = NULL;
	}
	free(text);
	return ret;
}

/* The record's "package" section (new reference). */
static json_t *package_section(const struct job *j)
{
	const struct vs_package_opts *o = j->o;
	json_t *pkg = json_object(), *variants = json_array();

	for (int v = 0; v < j->n; v++) {
		const struct vs_hls_variant *var = &j->vars[v];
		char label[64];

		snprintf(label, sizeof(label), "%.*s", (int)strcspn(var->uri, "/"), var->uri);
		json_array_append_new(variants, json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:s*}", "label", label,
		                                          "playlist", var->uri, "bandwidth",
		                                          (json_int_t)var->bandwidth, "average_bandwidth",
		                                          (json_int_t)var->average_bandwidth, "width",
		                                          var->width, "height", var->height,
		                                          "iframes", var->iframe_uri));
	}
	json_object_set_new(pkg, "dir", json_string(j->final));
	json_object_set_new(pkg, "master", json_string("master.m3u8"));
	json_object_set_new(pkg, "segment_seconds", json_real(j->segment_s));
	json_object_set_new(pkg, "first_segment_seconds", j->first_s > 0 ? json_real(j->first_s) : json_null());
	json_object_set_new(pkg, "segment_type", json_string(o->ts ? "ts" : "fmp4"));
	json_object_set_new(pkg, "variants", variants);
	json_object_set_new(pkg, "audio", j->audio_group ? json_string("audio/index.m3u8") : json_null());
	json_object_set_new(pkg, "dash", o->dash ? json_string("manifest.mpd") : json_null());
	json_object_set_new(pkg, "chapters", json_string("chapters.vtt"));
	json_object_set_new(pkg, "fallback",
	                    j->fallback ? json_pack("{s:s,s:s,s:O,s:O}", "file", VS_PACKAGE_FALLBACK, "label",
	                                            vs_json_str(j->fallback, "label"), "width",
	                                            json_object_get(j->fallback, "width"), "height",
	                                            json_object_get(j->fallback, "height"))
	                                : json_null());
	json_object_set_new(pkg, "captions", j->text.section ? json_incref(j->text.section) : json_array());
	json_object_set_new(pkg, "encryption", j->key.on ? json_pack("{s:s,s:s}", "method", "AES-128", "key_uri", j->key_uri) : json_null());
	json_object_set_new(pkg, "duration", json_real(round(j->duration * 1000) / 1000));
	return pkg;
}

/* The finished marker of the package pkg (borrowed), for the next run. */
static void remember(const struct job *j, const json_t *pkg)
{
	json_t *m = json_pack("{s:s,s:s,s:O}", "key", j->pkg_key, "dir", j->final, "package", pkg);

	/* a package that cannot be remembered is still a package */
	if (vs_fsutil_write_finished(j->marker, m, JSON_COMPACT) < 0)
		vs_error_clear();
	json_decref(m);
}

/* What j holds; a package that did not get into place is removed. */
static void job_release(struct job *j)
{
	if (j->tmp)
		vs_fsutil_remove_tree(j->tmp);
	for (int v = 0; j->tracks && v < j->n; v++)
		vs_segment_track_release(&j->tracks[v]);
	for (int v = 0; j->vars && v < j->n; v++) {
		free((char *)j->vars[v].uri);
		free((char *)j->vars[v].iframe_uri);
	}
	vs_segment_track_release(&j->audio);
	vs_textpkg_release(&j->text);
	free(j->tracks);
	free(j->vars);
	free(j->key_uri);
	free(j->tmp);
	free(j->old);
	free(j->final);
	free(j->root);
	free(j->marker);
}

int vs_package(json_t *rec, const struct vs_package_opts *o)
{
	struct job j = {.rec = rec, .o = o, .id = vs_json_str(rec, "id"),
	                .renditions = json_object_get(rec, "renditions"), .version = 3};
	bool have_audio = false;
	json_t *pkg = NULL, *r;
	size_t i;
	int ret;

	if ((ret = check_record(rec, o, &have_audio, &j.segment_s, &j.first_s)) < 0)
		return ret;
	j.n = (int)json_array_size(j.renditions);
	j.audio_group = (o->audio_group || o->dash) && have_audio;
	j.root = vs_fsutil_abspath(o->media_root);
	if (o->out)
		j.final = vs_fsutil_abspath(o->out);
	else
		j.final = j.root ? join3(j.root, j.id, "hls") : NULL;
	if (j.final && j.root && (j.marker = finished_path(j.root, j.id)) &&
	    package_key(rec, o, j.segment_s, j.first_s, j.final, j.pkg_key) == 0 && !o->force &&
	    (pkg = finished_package(j.marker, j.pkg_key, j.final))) {
		/* made already from these very inputs: its steps are not redone */
		json_object_set_new(rec, "package", pkg);
		if (o->reused)
			*o->reused = true;
		goto out;
	}
	if ((ret = make_tmp(&j)) < 0 || (ret = prepare_key(&j)) < 0)
		goto out;
	j.tracks = calloc((size_t)j.n, sizeof(*j.tracks));
	j.vars = calloc((size_t)j.n, sizeof(*j.vars));
	if (!j.tracks || !j.vars) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	json_array_foreach(j.renditions, i, r)
		if ((ret = package_rendition(&j, i, r)) < 0)
			goto out;
	if (j.audio_group && (ret = package_audio(&j)) < 0)
		goto out;
	/* the subtitle segments cut where the first variant's are, timed as it shows its first frame */
	if ((ret = vs_textpkg_write(j.tmp, json_object_get(rec, "captions"), j.tracks[0].segs, j.tracks[0].n,
	                            llround(j.tracks[0].first_pts_s * 90000), &j.text)) < 0)
		goto out;
	if ((ret = write_extras(&j)) < 0 || (ret = write_fallback(&j)) < 0 || (ret = finish_package(&j)) < 0)
		goto out;
	pkg = package_section(&j);
	json_object_set_new(rec, "package", pkg);
	if (j.marker)
		remember(&j, pkg);
out:
	job_release(&j);
	return ret;
}
