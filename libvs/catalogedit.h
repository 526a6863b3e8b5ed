#ifndef VS_CATALOGEDIT_H
#define VS_CATALOGEDIT_H

#include <libpq-fe.h>
#include <jansson.h>

#include "meta.h"
#include "vs.h"

/*
 * The catalog as its editors see it (vs-video, vs-cgi's admin endpoints):
 * every video whatever its state, listed, shown whole, edited, published
 * and hidden. The SQL of the same tables catalog.h keeps for the pipeline;
 * a key is a video's id or its slug. A video that is not there (or is
 * deleted, but for vs_catalog_show) is VS_ERR with code VS_E_NOT_FOUND.
 */

#define VS_CATALOG_LIST_DEFAULT 100   /* rows of a list */
#define VS_CATALOG_LIST_MAX 10000

/* What vs_catalog_list keeps; NULL (or -1) parts keep everything. */
struct vs_catalog_filter {
	const char *status;   /* upload_status: uploading, processing, ready, failed, deleted */
	int published;        /* 1, 0, or -1 */
	const char *category;
	const char *tag;      /* one of its tags */
	double since;         /* created at or after (epoch seconds); NAN: any */
	const char *search;   /* in the title or description, case-insensitive */
	int limit;            /* at most this many, newest first; 0: VS_CATALOG_LIST_DEFAULT */
};

/* The videos filter keeps, appended to out as {id, slug, title,
 * upload_status, is_published, is_public, category, tags, duration,
 * last_error (not "error": that would make it a failed record), created_at,
 * updated_at}; deleted ones only when status asks. */
int vs_catalog_list(PGconn *db, const struct vs_catalog_filter *f, json_t *out);

/* One video whole, for its editors: its record's words, upload_status,
 * publication (is_published, published_at, is_public), renditions of every
 * state, chapters, its queue job and last error; new in *row. */
int vs_catalog_show(PGconn *db, const char *key, json_t **row);

/*
 * Changes what e says of a video (its other words stay) and, with
 * e->chapters, replaces its chapters, in one transaction; updated_at moves.
 * A slug another video has is VS_E_CONFLICT. The video afterwards, as
 * vs_catalog_show, in *row (may be NULL).
 */
int vs_catalog_edit(PGconn *db, const char *key, const struct vs_meta_edit *e, json_t **row);

/* The same, of an edit as JSON (vs_meta_edit_parse's fields: PUT
 * /videos/:id's body, vs-video set's options); a bad field is VS_ERR
 * naming it. */
int vs_catalog_edit_json(PGconn *db, const char *key, const json_t *fields, json_t **row);

/*
 * Publishes (on) or hides a video by key; its id in id (may be NULL). Publishing needs a
 * video that is ready (its package on the origin, vs-publish did it once):
 * otherwise VS_E_CONFLICT.
 */
int vs_catalog_publish(PGconn *db, const char *key, bool on, char id[37]);

/*
 * Deletes a video by key: hidden and marked deleted (404 everywhere from
 * then on) and, with target (file:///path or s3://bucket/prefix, or NULL),
 * its objects removed from that origin as vs-publish --delete does (without
 * one, a warning says they stay). A video deleted already is
 * VS_E_NOT_FOUND. Its id in id (may be NULL).
 */
int vs_catalog_delete(PGconn *db, const char *key, const char *target, char id[37]);

#endif
