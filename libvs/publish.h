#ifndef VS_PUBLISH_H
#define VS_PUBLISH_H

#include <jansson.h>
#include <libpq-fe.h>

#include "vs.h"

/*
 * Publishing a package to its origin: a local directory any web server can
 * serve (file:///srv/vod), or S3 or an S3-compatible store
 * (s3://bucket/prefix, see s3.h). Objects go in a fixed order — segments, init
 * segments and images first, then media playlists, the master last — so
 * that a visible master never points at a missing file; objects already
 * there with the same content are skipped and counted; every object is
 * checked after the copy before the video is marked published.
 *
 * Layout at the target: TARGET/<id>/<path in the package>.
 */

/* Cache-Control for segments, init segments and images (never change). */
#define VS_CACHE_IMMUTABLE "public, max-age=31536000, immutable"
/* Cache-Control for playlists, manifests and text tracks (WebVTT: captions
 * and chapters are edited and re-published under the same names). */
#define VS_CACHE_PLAYLIST "public, max-age=60"

/*
 * Base i (from 0) of a VS_PUBLIC_BASE_URL list: comma-separated bases, in
 * the order players fail over to them (vs-cgi(1)), blanks around each and
 * trailing slashes dropped. A new string, or NULL past the last (or out
 * of memory). vs-publish takes base 0; vs-cgi signs for each.
 */
char *vs_publish_base_url(const char *list, int i);

struct vs_publish_opts {
	const char *target;       /* file:///path or s3://bucket/prefix */
	const char *base_url;     /* public base URL of the target, or NULL */
	PGconn *db;
	bool publish;             /* is_published after a successful publish */
	long long multipart_threshold; /* S3: bytes; 0 for the default */
	const char *playlist_cache_control; /* NULL: VS_CACHE_PLAYLIST */
};

/* Content-Type for a package file by its name. Never NULL. */
const char *vs_publish_content_type(const char *name);

/* Cache-Control for a package file by its name. */
const char *vs_publish_cache_control(const char *name);

/*
 * Publishes rec's package (borrowed; "published" added: target, base_url,
 * master_url, objects, skipped, bytes). Returns 0, VS_ERR or VS_ETEMP.
 */
int vs_publish(json_t *rec, const struct vs_publish_opts *opts);

/* --unpublish: is_published = false. --delete: the video's objects removed
 * from the target, upload_status 'deleted'. Both need the database. */
int vs_publish_unpublish(PGconn *db, const char *id);
int vs_publish_delete(PGconn *db, const char *target, const char *id);

/* The directory a file:///path target names, without trailing slashes, in
 * *dir (new string); VS_ERR (usage) for a target that is not file://. */
int vs_publish_file_dir(const char *target, char **dir);

#endif
