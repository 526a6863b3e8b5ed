#ifndef VS_CAPTIONING_H
#define VS_CAPTIONING_H

#include <jansson.h>
#include <libpq-fe.h>

#include "captions.h"
#include "vs.h"

/*
 * Bringing a video's caption and subtitle tracks in: from files (vs-ingest
 * --captions, a record's "captions" inputs, vs-video captions add) and from
 * the text subtitle streams of its source (subtitles.h), checked (vtt.h),
 * kept under the media root (captions.h), listed in the record and, with a
 * database, in the catalog (video_captions). The package carries them from
 * the next vs-package on.
 */

/* Whether inputs (as vs_captioning_ingest takes them) can come in: each a
 * language tag, a kind, a WebVTT or SubRip file that reads. VS_ERR naming
 * the file and its line. */
int vs_captioning_check(const json_t *inputs);

/*
 * The caption tracks of rec, an ingested video's record (id, source.path,
 * probe.duration): with from_source the source's own text subtitle streams
 * (forced ones skipped; the language the stream says, else und; captions
 * when in the audio's language or marked for the hard of hearing, else
 * subtitles; the first marked default, default), then each of inputs
 * (borrowed, may be NULL: an array of {"language", "path", "label"?,
 * "kind"?, "default"?}), which replaces a stream's track of the same
 * language and kind. rec's "captions" gets them all; with db each is
 * stored in the catalog. A bad input file is VS_ERR naming it and its
 * line, and nothing of it is kept; a source stream that cannot be read is
 * a warning. VS_ETEMP when the database cannot be reached.
 */
int vs_captioning_ingest(json_t *rec, const char *media_root, PGconn *db, const json_t *inputs, bool from_source);

/*
 * vs-video captions add: the file at path (WebVTT or SubRip) as video's
 * (id or slug) track spec says, clamped to its duration, kept and stored in
 * the catalog; *track (new, may be NULL) as the record lists it.
 */
int vs_captioning_add(PGconn *db, const char *media_root, const char *video, const struct vs_caption_spec *spec,
                      const char *path, json_t **track);

/* vs-video captions: video's (id or slug) tracks as a record lists them,
 * in a new array. */
int vs_captioning_list(PGconn *db, const char *video, json_t **tracks);

/* vs-video captions remove: video's tracks of language (of kind only, when
 * not NULL) out of the catalog and their files removed; *removed (new, may
 * be NULL) lists them. None is VS_E_NOT_FOUND. */
int vs_captioning_remove(PGconn *db, const char *video, const char *language, const char *kind, json_t **removed);

#endif
