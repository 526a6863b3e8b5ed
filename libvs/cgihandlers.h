#ifndef VS_CGIHANDLERS_H
#define VS_CGIHANDLERS_H

#include <jansson.h>

#include "cgireq.h"
#include "hash.h"
#include "vs.h"

/*
 * Internal to vs-cgi: the endpoints, one function each, called by the
 * router (cgiroute.c) once the method is allowed and the viewer identified
 * (see cgi.h and vs-cgi(1) for what they answer). Every one answers: a
 * client error as its problem, a failure of the database or of signing as
 * a logged 500 or 503 (cgihttp.h). The connection *r->db is made on first
 * use, or reset when it broke.
 */

/* *r->db, connected (or reset) on first use; 0 or a negative code (no
 * database configured, or it cannot be reached: VS_ETEMP). */
int vs_cgihandlers_db(struct vs_cgi_req *r);

/* The video a /videos/:id/... request is about. */
struct vs_cgi_video {
	char id[VS_UUID_LEN + 1];
	json_t *row; /* id, slug, title, description, duration, thumbnail_url[, qualities, chapters, progress] */
	double duration;
};

/*
 * Finds a published video by id or slug (key) into *v, with (full)
 * everything GET /videos/:id shows. Returns 0 (v->row a new reference, for
 * the caller to json_decref()), or a negative code when it answered
 * already: 400 for a key that is neither, 404, 503 or 500.
 */
int vs_cgihandlers_find_video(struct vs_cgi_req *r, const char *key, bool full,
                              struct vs_cgi_video *v);

/* GET /videos/:id (sub ""), /videos/:id/qualities, /videos/:id/chapters:
 * cacheable JSON with an ETag. */
void vs_cgihandlers_video(struct vs_cgi_req *r, struct vs_cgi_video *v, const char *sub);

/* GET /videos/:id/stream[?quality=LABEL]: the signed master playlist (or
 * the rendition's), each quality's signed playlist, the token for /key, the
 * expiry; CloudFront's cookies with that scheme. */
void vs_cgihandlers_stream(struct vs_cgi_req *r, struct vs_cgi_video *v);

/* GET /videos/:id/key?token=EXPIRES/SIGNATURE: the video's AES-128 key for
 * a token /stream handed out for this video; 403 without one, 404 for a
 * video that is not encrypted. */
void vs_cgihandlers_key(struct vs_cgi_req *r, struct vs_cgi_video *v);

/* GET (post false) or POST /videos/:id/progress: the viewer's progress, or
 * a new current_time recorded by the progress rules; 401 for no viewer. */
void vs_cgihandlers_progress(struct vs_cgi_req *r, struct vs_cgi_video *v, bool post);

/* POST /videos/:id/analytics: one playback event, recorded by the
 * VS_ANALYTICS_IP policy; 204. */
void vs_cgihandlers_analytics_post(struct vs_cgi_req *r, struct vs_cgi_video *v);

/* GET /videos/:id/analytics: the video's summary, for admins only. */
void vs_cgihandlers_analytics_get(struct vs_cgi_req *r, struct vs_cgi_video *v);

/* GET /health: 200 when the database answers, else 503. */
void vs_cgihandlers_health(struct vs_cgi_req *r);

/* The FastCGI authorizer role: 200 for a REQUEST_URI that is a valid,
 * unexpired signed path under VS_PUBLIC_BASE_URL, else 403 (405 for
 * methods other than GET and HEAD). */
void vs_cgihandlers_authorize(struct vs_cgi_req *r);

#endif
