#ifndef VS_CGITUS_H
#define VS_CGITUS_H

#include "cgireq.h"

/*
 * Internal to vs-cgi: resumable uploads by tus 1.0.0 (core, creation,
 * termination; tus.h keeps them), for an admin, mounted at /videos/upload:
 *
 *   POST   /videos/upload        Upload-Length, Upload-Metadata: 201, Location
 *   HEAD   /videos/upload/ID     Upload-Offset, Upload-Length
 *   PATCH  /videos/upload/ID     application/offset+octet-stream at Upload-Offset:
 *                                204 and the new offset; 409 for another offset,
 *                                423 while another PATCH of it runs
 *   DELETE /videos/upload/ID     204: the upload is gone
 *
 * The PATCH that completes an upload ingests it as vs-ingest ingests a
 * file (metadata filename, title, description, tags, category): its
 * answer names the video (Vs-Video-Id), or is 422 with the reason a video
 * was refused. Every answer says Tus-Resumable; a request without
 * Tus-Resumable: 1.0.0 is 412.
 */
bool vs_cgitus_is_tus(struct vs_cgi_req *r);
void vs_cgitus_handle(struct vs_cgi_req *r);

/* The headers OPTIONS adds on an upload path (tus discovery). */
void vs_cgitus_options(const struct vs_cgi_req *r, char *out, size_t n);

#endif
