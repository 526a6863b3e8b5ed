#ifndef VS_CGIADMIN_H
#define VS_CGIADMIN_H

#include "cgireq.h"

/*
 * Internal to vs-cgi: the plan's admin endpoints, on the catalog as
 * vs-video(1) edits it (catalogedit.h, meta.h):
 *
 *   PUT    /videos/:id           title, description, tags, category, slug,
 *                                is_public, chapters: 200 and the video
 *   PUT    /videos/:id/publish   {"is_published": true|false}: 200 and the video
 *   DELETE /videos/:id           204; its objects leave VS_PUBLISH_URL's origin
 *
 * Only for an admin (a token's role admin or a scope with videos:write, or
 * a REMOTE_USER of VS_ADMIN_USERS): 401 with no identity, 403 for anyone
 * else. A refused value is 422 naming the field, another video's slug 409,
 * publishing a video that is not ready 409, an unknown video 404.
 */
void vs_cgiadmin_handle(struct vs_cgi_req *r, const char *sub);

/*
 * POST /videos/upload: a multipart/form-data body (the file in the part
 * named "video", or any part with a filename; title, description, tags,
 * category, slug as fields) streamed to the media root's .incoming, then
 * ingested as vs-ingest ingests a file: 200 and the video (upload_status
 * processing: vs-queue encodes it), 422 when it is not a video, 413 over
 * VS_UPLOAD_MAX, 411 without a Content-Length. For an admin; with a
 * REMOTE_USER only from an allowed Origin (a cross-site form could post).
 */
void vs_cgiadmin_upload(struct vs_cgi_req *r);

/* True for an admin; else answered: 401 with no identity, 403 for others. */
bool vs_cgiadmin_only(struct vs_cgi_req *r);

/* A file of an upload, as vs-ingest takes one: probed, refused if not a
 * video, deduplicated by content, registered for vs-queue, fields (title,
 * description, tags, category, slug) its words; the video in *row. */
int vs_cgiadmin_ingest(struct vs_cgi_req *r, const char *path, const char *filename, const json_t *fields,
                       json_t **row);

/* An ingest's refusal as the uploader's problem (422: not a video, a bad
 * field), or the server's failure (500, 503). */
void vs_cgiadmin_refusal(struct vs_cgi_req *r, int ret);

#endif
