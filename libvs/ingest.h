#ifndef VS_INGEST_H
#define VS_INGEST_H

#include <jansson.h>
#include <libpq-fe.h>

#include "fetch.h"
#include "hash.h"
#include "vs.h"

/*
 * Ingest: take one source (a local file or an http/https URL), prove it is
 * a playable video, store it under the media root, and register it.
 *
 * Storage, per video (id: vs_hash_uuid_for_sha256() of the content):
 *
 *     MEDIA_ROOT/.incoming/         temporary files, same file system
 *     MEDIA_ROOT/<id>/source.<ext>  the source, renamed into place whole
 *     MEDIA_ROOT/<id>/ingest.json   the ingest record, written last: its
 *                                   presence marks a finished ingest
 */


struct vs_ingest_opts {
	const char *media_root;        /* never NULL */
	PGconn *db;                    /* NULL: records only, no database */
	struct vs_fetch_opts fetch;
	/* Defaults for records that do not carry them (from the flags). */
	const char *title;
	const char *description;
	const char *tags;              /* "a,b,c" */
	const char *category;
	const char *slug;
	/* The source is a file of ours under the media root (an upload): it is
	 * renamed into place when stored, never copied; otherwise (a failure,
	 * bytes stored before) it stays where it is, for the caller. */
	bool move_source;
	/* Caption files for records that name none (--captions): an array of
	 * {"language", "path"} (captions.h); borrowed, may be NULL. */
	const json_t *captions;
};


/*
 * Ingests the source named by rec's "source" member — a path or URL string,
 * or an object with "path" or "url" — using rec's title, description, tags,
 * category and slug where present (else the defaults in opts).
 *
 * rec (borrowed) is completed in place: id, slug, title, description, tags,
 * category, source {path, original_filename, content_type, size, sha256},
 * probe, chapters, captions: the source's own text subtitle streams and the
 * caption files rec's "captions" names (an array of {"language", "path",
 * "label"?, "kind"?, "default"?}, else opts->captions), checked before
 * anything is stored (captioning.h). Members it does not know are kept. If the same content
 * was ingested before, rec gets that video's record and no work is redone;
 * *existing is then set.
 *
 * Returns 0, VS_ERR (bad input; message names the reason, code as in
 * error.h) or VS_ETEMP (database or download server unavailable).
 */
int vs_ingest(json_t *rec, const struct vs_ingest_opts *opts, bool *existing);



#endif
