#include <errno.h>
#include <unistd.h>

#include "captioning.h"
#include "catalog.h"
#include "error.h"
#include "hash.h"
#include "log.h"
#include "record.h"
#include "subtitles.h"

/* A track kept: its file under the media root, the catalog's row, the
 * record's entry. */
static int keep(json_t *rec, const char *media_root, PGconn *db, const struct vs_caption_spec *spec,
                struct vs_vtt *v, json_t *track)
{
	int ret = track ? 0 : vs_captions_store(media_root, vs_json_str(rec, "id"), spec, v,
	                                        json_real_value(json_object_get(json_object_get(rec, "probe"), "duration")),
	                                        &track);

	if (ret == 0 && db && (ret = vs_catalog_caption_store(db, vs_json_str(rec, "id"), track)) < 0) {
		json_decref(track);
		return ret;
	}
	if (ret == 0)
		vs_captions_merge(rec, track);
	return ret;
}

/* The spec of an input ({"language", "path", "label"?, "kind"?, "default"?}). */
static int input_spec(const json_t *in, struct vs_caption_spec *spec, const char **path)
{
	json_t *def = json_object_get(in, "default");

	*spec = (struct vs_caption_spec){.language = vs_json_str(in, "language"), .label = vs_json_str(in, "label"),
	                                 .kind = vs_json_str(in, "kind"), .is_default = json_is_true(def)};
	*path = vs_json_str(in, "path");
	if (!json_is_object(in) || !spec->language || !*path || (def && !json_is_boolean(def)))
		return vs_fail(VS_ERR, VS_E_INVALID, "a caption input is {\"language\", \"path\", \"label\"?, "
		               "\"kind\"?, \"default\"?}");
	return 0;
}

/* Whether tags a and b are of one language (en, en-GB; eng). */
static bool same_language(const char *a, const char *b)
{
	char x[VS_CAPTIONS_LANGUAGE_MAX + 1], y[VS_CAPTIONS_LANGUAGE_MAX + 1];

	if (!a || !b || vs_captions_language(a, x) < 0 || vs_captions_language(b, y) < 0) {
		vs_error_clear();
		return false;
	}
	x[strcspn(x, "-")] = y[strcspn(y, "-")] = '\0';
	return !strcmp(x, y);
}

/* The source's own text subtitle streams, each a track. */
static int from_streams(json_t *rec, const char *media_root, PGconn *db)
{
	struct vs_subtitles subs;
	bool default_taken = false;
	int ret = 0;

	if (vs_subtitles_read(vs_json_str(rec, "source.path"), &subs) < 0) {
		vs_log_warn("the source's subtitles: %s", vs_error_message());
		vs_error_clear();
		return 0;
	}
	for (int i = 0; i < subs.n && ret != VS_ETEMP; i++) {
		struct vs_subtitles_track *t = &subs.tracks[i];
		char lang[VS_CAPTIONS_LANGUAGE_MAX + 1];
		bool captions = t->hearing_impaired || !subs.audio_language || !strcmp(subs.audio_language, "und") ||
		                same_language(t->language, subs.audio_language);
		struct vs_caption_spec spec = {.language = lang, .label = t->title, .kind = captions ? "captions" : "subtitles",
		                               .is_default = t->is_default && !default_taken, .source = "stream"};

		if (t->forced) {
			vs_log_warn("subtitle stream %d is forced (for foreign words only): skipped", t->stream);
			continue;
		}
		if (!t->language || vs_captions_language(t->language, lang) < 0)
			snprintf(lang, sizeof(lang), "und");
		vs_error_clear();
		if (spec.label && vs_captions_language(spec.label, (char[VS_CAPTIONS_LANGUAGE_MAX + 1]){0}) == 0)
			spec.label = NULL; /* a title that only says the language: the language's name */
		vs_error_clear();
		ret = keep(rec, media_root, db, &spec, &t->cues, NULL);
		if (ret == VS_ERR) { /* its title, say, or no cue: the others still come in */
			vs_log_warn("subtitle stream %d (%s): %s", t->stream, t->codec, vs_error_message());
			vs_error_clear();
			ret = 0;
		} else if (ret == 0) {
			default_taken |= spec.is_default;
			vs_log_info("subtitle stream %d (%s, %s) kept as the %s track '%s'", t->stream, t->codec, lang,
			            spec.kind, lang);
		}
	}
	vs_subtitles_release(&subs);
	return ret;
}

int vs_captioning_check(const json_t *inputs)
{
	json_t *in;
	size_t i;

	json_array_foreach(inputs, i, in) {
		struct vs_caption_spec spec;
		const char *path;
		char lang[VS_CAPTIONS_LANGUAGE_MAX + 1];
		struct vs_vtt v;
		int ret;

		if ((ret = input_spec(in, &spec, &path)) < 0 || (ret = vs_captions_language(spec.language, lang)) < 0)
			return ret;
		if (!vs_captions_kind_ok(spec.kind))
			return vs_fail(VS_ERR, VS_E_INVALID, "kind '%.40s' is neither captions nor subtitles", spec.kind);
		if ((ret = vs_vtt_read_file(path, &v)) < 0)
			return ret;
		vs_vtt_release(&v);
	}
	return 0;
}

int vs_captioning_ingest(json_t *rec, const char *media_root, PGconn *db, const json_t *inputs, bool from_source)
{
	json_t *in;
	size_t i;
	int ret = from_source ? from_streams(rec, media_root, db) : 0;

	json_array_foreach(inputs, i, in) {
		struct vs_caption_spec spec;
		const char *path;
		json_t *track = NULL;

		if (ret < 0)
			break;
		if ((ret = input_spec(in, &spec, &path)) < 0 ||
		    (ret = vs_captions_store_file(media_root, vs_json_str(rec, "id"), &spec, path,
		                                  json_real_value(json_object_get(json_object_get(rec, "probe"), "duration")),
		                                  &track)) < 0)
			break;
		ret = keep(rec, media_root, db, &spec, NULL, track);
	}
	return ret;
}

int vs_captioning_add(PGconn *db, const char *media_root, const char *video, const struct vs_caption_spec *spec,
                      const char *path, json_t **track)
{
	char id[VS_UUID_LEN + 1];
	double duration = 0;
	json_t *t = NULL;
	int ret;

	if (track)
		*track = NULL;
	if ((ret = vs_catalog_resolve(db, video, id, &duration)) < 0 ||
	    (ret = vs_captions_store_file(media_root, id, spec, path, duration, &t)) < 0 ||
	    (ret = vs_catalog_caption_store(db, id, t)) < 0) {
		json_decref(t);
		return ret;
	}
	if (track)
		*track = t;
	else
		json_decref(t);
	return 0;
}

int vs_captioning_list(PGconn *db, const char *video, json_t **tracks)
{
	char id[VS_UUID_LEN + 1];
	double duration;
	int ret = vs_catalog_resolve(db, video, id, &duration);

	*tracks = NULL;
	return ret < 0 ? ret : vs_catalog_captions(db, id, tracks);
}

int vs_captioning_remove(PGconn *db, const char *video, const char *language, const char *kind, json_t **removed)
{
	char id[VS_UUID_LEN + 1], lang[VS_CAPTIONS_LANGUAGE_MAX + 1];
	double duration;
	json_t *gone = NULL, *t;
	size_t i;
	int ret;

	if (removed)
		*removed = NULL;
	if ((ret = vs_captions_language(language, lang)) < 0 || (ret = vs_catalog_resolve(db, video, id, &duration)) < 0 ||
	    (ret = vs_catalog_caption_remove(db, id, lang, kind, &gone)) < 0)
		return ret;
	json_array_foreach(gone, i, t) /* the file goes; the package keeps its copy until packaged again */
		if (vs_json_str(t, "path") && unlink(vs_json_str(t, "path")) < 0 && errno != ENOENT)
			vs_log_warn("cannot remove '%s': %s", vs_json_str(t, "path"), strerror(errno));
	if (removed)
		*removed = gone;
	else
		json_decref(gone);
	return 0;
}
