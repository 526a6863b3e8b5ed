#ifndef VS_STORE_H
#define VS_STORE_H

#include <jansson.h>
#include <libpq-fe.h>

#include "vs.h"

/*
 * A source store every worker reaches (s3://bucket/prefix, vs-ingest
 * --store): the ingested source is kept there as PREFIX/ID/NAME, the
 * record's "source" gets "store" (its s3:// URL), and the database's
 * source_path becomes that URL, so that a worker on another machine finds
 * it. Before encoding there, the source comes down to the worker's media
 * root (vs-queue claim), and goes when the video is published (vs-queue
 * done --clean).
 */

/* Uploads rec's source (source.path) to store (borrowed rec, completed
 * with source.store; the database row too when db is not NULL). An object
 * already there with the same content is not sent again. */
int vs_store_put_source(const char *store, json_t *rec, PGconn *db);

/* If rec's source lives in a store (source.path or source.store is an
 * s3:// URL) and is not already in media_root/ID/, downloads it there;
 * source.path then names the local copy. */
int vs_store_fetch_source(json_t *rec, const char *media_root);

#endif
