#ifndef VS_CAPTIONS_H
#define VS_CAPTIONS_H

#include <jansson.h>

#include "vtt.h"
#include "vs.h"

/*
 * A video's caption and subtitle tracks: one checked WebVTT file per
 * language and kind, kept under the media root, and the record's
 * "captions" section that lists them:
 *
 *     MEDIA_ROOT/<id>/captions/<kind>-<language>.vtt
 *
 *     "captions": [{"language": "en", "label": "English", "kind": "captions",
 *                   "default": true, "path": "…/captions/captions-en.vtt",
 *                   "sha256": "…", "cues": 120, "source": "file"}]
 *
 * A language is a BCP 47 tag (en, pt-BR, zh-Hant; und when unknown); the
 * ISO 639-2 codes that MP4 and Matroska carry (eng, fre) become their
 * two-letter tags. A kind is captions (the dialogue and the sounds, for
 * viewers who cannot hear them: the default) or subtitles (a translation).
 * At most one track is the default, the one players show unless the
 * viewer chooses.
 */

#define VS_CAPTIONS_LANGUAGE_MAX 35  /* bytes of a language tag */
#define VS_CAPTIONS_LABEL_MAX 100    /* characters of a label */

/* What a new track is; NULL members take the defaults. */
struct vs_caption_spec {
	const char *language;   /* required */
	const char *label;      /* NULL: the language's own name */
	const char *kind;       /* NULL: captions */
	bool is_default;
	const char *source;     /* "file" (NULL) or "stream" (from the source's own) */
};

/* The tag (VS_CAPTIONS_LANGUAGE_MAX + 1 bytes) in its usual case: en,
 * pt-BR, zh-Hant. VS_ERR (code invalid) when it is not one. */
int vs_captions_language(const char *tag, char out[VS_CAPTIONS_LANGUAGE_MAX + 1]);

/* The language's name in itself ("English", "Français"), or NULL. */
const char *vs_captions_language_name(const char *tag);

/* Whether kind is captions or subtitles (NULL: captions). */
bool vs_captions_kind_ok(const char *kind);

/*
 * Keeps v (borrowed; clamped to duration_s when that is > 0) as the track
 * spec says for video id: its file written whole under the media root,
 * the warnings worth a word logged (cues reordered, overlapping, empty,
 * clamped), *track (new reference) the track as the record lists it.
 * VS_ERR for a bad language, kind or label, or a track left without cues.
 */
int vs_captions_store(const char *media_root, const char *id, const struct vs_caption_spec *spec,
                      struct vs_vtt *v, double duration_s, json_t **track);

/* The same, from a WebVTT or SubRip file; an error names it and its line. */
int vs_captions_store_file(const char *media_root, const char *id, const struct vs_caption_spec *spec,
                           const char *path, double duration_s, json_t **track);

/*
 * --captions LANG=FILE,LANG=FILE… as an array (new in *out) of {"language",
 * "path"}; a file name holding a comma or an equals sign is given in a
 * record instead. VS_ERR naming the part that is not LANG=FILE.
 */
int vs_captions_parse_arg(const char *arg, json_t **out);

/* Puts track (stolen) into rec's "captions" array, in place of one of
 * the same language and kind; a default track makes the others not. */
void vs_captions_merge(json_t *rec, json_t *track);

#endif
