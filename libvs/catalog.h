#ifndef VS_CATALOG_H
#define VS_CATALOG_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "ladder.h"
#include "vs.h"

/*
 * The catalog: the one module that reads and writes the videos,
 * video_qualities, video_chapters, video_captions and video_keys tables
 * (their SQL lives here and in catalogedit.c, nowhere else). Every tool and
 * vs-cgi go through it.
 *
 * A video's state (upload_status, its error, whether it is published, its
 * poster) changes through one function, vs_catalog_set_state():
 *
 *   uploading → processing    registered (vs-ingest); a deleted video
 *                             ingested again comes back here, unpublished
 *   processing → ready        published or staged (vs-publish)
 *   any → failed              a step failed for good (vs-encode, vs-queue)
 *   failed → processing       retried (vs-queue retry)
 *   any → deleted             its published objects removed
 *
 * All functions return 0, VS_ERR (message set) or VS_ETEMP (the database
 * cannot be reached). vs_catalog_register, vs_catalog_renditions_done and
 * vs_catalog_published are transactions of their own (call them outside
 * one); the others run in the caller's transaction if one is open.
 */

enum vs_catalog_key {
	VS_CATALOG_BY_ID,     /* uuid, or a slug */
	VS_CATALOG_BY_SHA256,
};

/*
 * Looks a video up. On success *rec (new reference, NULL when there is no
 * such video) holds id, slug, title, description, tags, category, source,
 * probe, chapters, captions: the ingest sections of its record, rebuilt from its
 * rows, so that a tool given only an id (vs-encode --id) or a re-ingest
 * gets the record the first ingest emitted. *status (may be NULL) gets its
 * upload_status, borrowed from a static string.
 */
int vs_catalog_find(PGconn *db, enum vs_catalog_key key, const char *value, json_t **rec,
                    const char **status);

/* The id (VS_UUID_LEN + 1 bytes) and exact duration (0 if unknown) of the
 * video with id or slug video; not found is VS_ERR. */
int vs_catalog_resolve(PGconn *db, const char *video, char *id, double *duration);

/* Whether vs_catalog_set_state publishes: left out, it leaves it alone. */
enum vs_publication {
	VS_PUBLICATION_KEEP = 0,
	VS_PUBLICATION_ON,  /* is_published, published_at now */
	VS_PUBLICATION_OFF,
};

/* What vs_catalog_set_state changes: NULL leaves a part as it is. */
struct vs_video_state {
	const char *status;        /* upload_status; a new one replaces the error */
	const char *error;         /* with status: the error kept (NULL: none) */
	enum vs_publication published;
	const char *thumbnail_url; /* the poster's URL */
};

/* The one way a video's state changes. A video that is not there is
 * VS_ERR (not found). */
int vs_catalog_set_state(PGconn *db, const char *id, const struct vs_video_state *st);

/* ---- vs-ingest ---- */

/*
 * Registers rec (an ingest record: id, slug, title, … source, probe,
 * chapters) as a video in state processing, with its chapters. With
 * explicit_slug the slug is rec's or a conflict; otherwise the first free
 * one of slug, slug-2 … slug-20, slug-<id prefix> (rec's slug becomes it).
 * *inserted is false when a video of the same content was there already.
 */
int vs_catalog_register(PGconn *db, json_t *rec, bool explicit_slug, bool *inserted);

/* Where a video's source is kept now (a source store's URL). */
int vs_catalog_set_source(PGconn *db, const char *id, const char *path);

/* ---- vs-encode: the renditions (video_qualities) ---- */

/* One row per rung of l, in processing_status status ("pending",
 * "processing"). */
int vs_catalog_renditions_start(PGconn *db, const char *id, const struct vs_ladder *l, const char *status);

/* The unfinished renditions failed with msg, and the video with them. */
int vs_catalog_renditions_failed(PGconn *db, const char *id, const char *msg);

/* The renditions of result (vs-encode's "renditions" and "thumbnails")
 * completed, with the video's exact duration, in one transaction. */
int vs_catalog_renditions_done(PGconn *db, const char *id, const json_t *result, double duration);

/* ---- vs-publish ---- */

/*
 * The package of rec (its "package" section) published at base: the
 * renditions' URLs, the captions' and the poster's (have_poster), and the
 * video ready, and published when publish. One transaction.
 */
int vs_catalog_published(PGconn *db, const char *id, const char *base, const json_t *rec, bool publish,
                         bool have_poster);

/* ---- captions and subtitles (captions.h's tracks) ---- */

/*
 * Keeps track (an entry of a record's "captions": language, label, kind,
 * default, path, sha256, cues, source) as video id's, in place of its track
 * of the same language and kind; a default track makes the others not. One
 * transaction.
 */
int vs_catalog_caption_store(PGconn *db, const char *id, const json_t *track);

/* Removes video id's tracks of language (of kind only, when not NULL);
 * *removed (may be NULL) gets them as a new array. None is VS_E_NOT_FOUND. */
int vs_catalog_caption_remove(PGconn *db, const char *id, const char *language, const char *kind, json_t **removed);

/* Video id's tracks, as a record lists them, in a new array. */
int vs_catalog_captions(PGconn *db, const char *id, json_t **out);

/* Video id's tracks that vs-publish put on the origin, as viewers see them
 * (language, label, kind, default, url: the whole WebVTT file), in a new
 * array, the default first. */
int vs_catalog_published_captions(PGconn *db, const char *id, json_t **out);

/* ---- content keys (vs-package --encrypt, vs-cgi's key endpoint) ---- */

/* Stores a video's AES-128 key and IV. */
int vs_catalog_store_key(PGconn *db, const char *id, const uint8_t key[16], const uint8_t iv[16]);

/* A video's key into key; *found is false when it has none. */
int vs_catalog_key(PGconn *db, const char *id, uint8_t key[16], bool *found);

/* ---- what viewers see (vs-cgi) ---- */

/*
 * A published, ready video by id or slug (key). With full, row also has
 * its qualities, chapters, captions (vs_catalog_published_captions) and,
 * for viewer (a UUID, or NULL), the viewer's progress, in one round
 * trip. id (VS_UUID_LEN + 1 bytes) gets its id,
 * *duration its exact duration (0 if unknown), *row (new reference) the
 * object GET /videos/:id answers with: the plan's VideoDetailResponse.
 * *row is NULL when there is no such published video.
 */
int vs_catalog_published_video(PGconn *db, const char *key, bool full, const char *viewer, char *id,
                               double *duration, json_t **row);

/* The completed renditions of video id, by height (the plan's
 * video_qualities names, and the short ones), as a new JSON array. */
int vs_catalog_qualities(PGconn *db, const char *id, json_t **out);

/* The progressive MP4 vs-publish put on the origin for video id (url,
 * type, quality_label, resolution_width, resolution_height), a new
 * object, or *out NULL when its package has none. */
int vs_catalog_fallback(PGconn *db, const char *id, json_t **out);

/* The chapters of video id, in order, as a new JSON array. */
int vs_catalog_chapters(PGconn *db, const char *id, json_t **out);

/* ---- vs-report ---- */

/* {"id", "slug", "title", "duration"} of the videos whose ids are the JSON
 * array ids_json, as a new object keyed by id. */
int vs_catalog_titles(PGconn *db, const char *ids_json, json_t **out);

/* {"id", "slug", "title", "duration"} of one video by id or slug, or NULL. */
int vs_catalog_describe(PGconn *db, const char *key, json_t **out);

/* The SQL expression that renders a video_progress row aliased "p" as the
 * JSON text every tool and vs-cgi answer with (progress.c keeps the table;
 * the shape is here because the catalog's video row embeds it). */
#define VS_PROGRESS_ROW_JSON \
	"json_build_object('user_id', p.user_id, 'video_id', p.video_id," \
	" 'current_time', round(p.current_time_seconds::numeric, 3)," \
	" 'completed_percentage', round(p.completed_percentage::numeric, 2), 'is_completed', p.is_completed," \
	" 'completed_at', to_char(p.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')," \
	" 'watch_count', p.watch_count," \
	" 'last_watched_at', to_char(p.last_watched_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')," \
	" 'updated_at', to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))::text"

#endif
