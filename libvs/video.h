#ifndef VS_VIDEO_H
#define VS_VIDEO_H

#include <jansson.h>
#include <libpq-fe.h>

#include "vs.h"

/*
 * Videos as the database knows them: the ingest sections of a video's record
 * rebuilt from its rows, so that a tool given only an id (vs-encode --id)
 * or a re-ingest gets the same record the first ingest emitted.
 */

enum vs_video_key {
	VS_VIDEO_BY_ID,     /* uuid, or a slug */
	VS_VIDEO_BY_SHA256,
};

/*
 * Looks a video up. On success *rec (new reference, NULL when there is no
 * such video) holds id, slug, title, description, tags, category, source,
 * probe, chapters; *status (may be NULL) gets its upload_status, borrowed
 * from a static string. Returns 0, VS_ERR or VS_ETEMP.
 */
int vs_video_find(PGconn *db, enum vs_video_key key, const char *value, json_t **rec,
                  const char **status);

/* Sets videos.upload_status (and error, NULL to clear) for id. */
int vs_video_set_status(PGconn *db, const char *id, const char *status, const char *error);

#endif
