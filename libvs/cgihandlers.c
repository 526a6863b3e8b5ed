#include <math.h>
#include <sys/time.h>

#include "analytics.h"
#include "catalog.h"
#include "catalogedit.h"
#include "cgi.h"
#include "cgihandlers.h"
#include "cgihttp.h"
#include "clock.h"
#include "db.h"
#include "error.h"
#include "hash.h"
#include "progress.h"
#include "record.h"
#include "report.h"
#include "sign.h"
#include "slug.h"

/* *r->db, connected (or reset) on first use: an endpoint that needs no
 * database answers without one. */
int vs_cgihandlers_db(struct vs_cgi_req *r)
{
	if (!r->cfg->database_url)
		return vs_fail(VS_ETEMP, VS_E_UNAVAILABLE, "no database configured (VS_DATABASE_URL)");
	if (*r->db && PQstatus(*r->db) != CONNECTION_OK) {
		PQreset(*r->db);
		if (PQstatus(*r->db) == CONNECTION_OK)
			return 0;
		PQfinish(*r->db);
		*r->db = NULL;
	}
	if (!*r->db) {
		int ret = vs_db_connect_timeout(r->cfg->database_url, VS_CGI_DB_TIMEOUT_S, r->db);

		if (ret < 0)
			return ret;
		if (r->cfg->persistent)
			vs_db_prepare_statements(*r->db);
	}
	return 0;
}

/* An admin sees an unpublished video too, whole (vs_catalog_show); a
 * deleted one is gone for everyone. 0 with v->row NULL when there is none. */
static int admin_view(struct vs_cgi_req *r, const char *key, struct vs_cgi_video *v)
{
	int ret = vs_catalog_show(*r->db, key, &v->row);

	if (ret < 0 && !strcmp(vs_error_code(), VS_E_NOT_FOUND))
		return 0;
	if (ret < 0) {
		vs_cgihttp_server_error(r, ret == VS_ETEMP ? 503 : 500, "video");
		return ret;
	}
	if (!strcmp(vs_json_str(v->row, "upload_status"), "deleted")) {
		json_decref(v->row);
		v->row = NULL;
		return 0;
	}
	snprintf(v->id, sizeof(v->id), "%s", vs_json_str(v->row, "id"));
	vs_json_number(v->row, "duration", &v->duration);
	return 0;
}

int vs_cgihandlers_find_video(struct vs_cgi_req *r, const char *key, bool full,
                              struct vs_cgi_video *v)
{
	int ret;

	memset(v, 0, sizeof(*v));
	if (!vs_hash_is_uuid(key) && !vs_slug_valid(key)) {
		vs_cgihttp_problem(r, 400, "a video id is a UUID or a slug", NULL);
		return VS_ERR;
	}
	if ((ret = vs_cgihandlers_db(r)) < 0) {
		vs_cgihttp_server_error(r, 503, "database");
		return ret;
	}
	ret = vs_catalog_published_video(*r->db, key, full, r->user[0] ? r->user : NULL, v->id, &v->duration, &v->row);
	if (ret < 0) {
		vs_cgihttp_server_error(r, ret == VS_ETEMP ? 503 : 500, "video");
		return ret;
	}
	if (!v->row && r->admin && (ret = admin_view(r, key, v)) != 0)
		return ret;
	if (!v->row) {
		vs_cgihttp_problem(r, 404, "no such video", NULL);
		return VS_ERR;
	}
	/* is_public false: signed-in viewers only */
	if (json_is_false(json_object_get(v->row, "is_public")) && !r->identified) {
		json_decref(v->row);
		v->row = NULL;
		vs_cgihttp_problem(r, 401, "this video is for signed-in viewers", "WWW-Authenticate: Bearer\r\n");
		return VS_ERR;
	}
	return 0;
}

static json_t *progress_of(struct vs_cgi_req *r, const char *video_id)
{
	json_t *rows = json_array(), *one;

	if (!r->user[0] || vs_progress_get(*r->db, r->user, video_id, rows) < 0 || json_array_size(rows) == 0) {
		json_decref(rows);
		return json_null();
	}
	one = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return one;
}

static void stream_json(struct vs_cgi_req *r, struct vs_cgi_video *v, const char *want, json_t **out);

void vs_cgihandlers_video(struct vs_cgi_req *r, struct vs_cgi_video *v, const char *sub)
{
	json_t *list = NULL, *stream;
	char include[64];

	if (!*sub && vs_cgihttp_query_param(vs_cgihttp_param(r, "QUERY_STRING"), "include", include,
	                                    sizeof(include)) > 0 && !strcmp(include, "stream")) {
		/* the player's first request: the lesson and its signed stream at
		 * once, one round trip before the playlist is asked for */
		stream_json(r, v, NULL, &stream);
		if (!stream)
			return;
		json_object_set_new(v->row, "stream", stream);
		vs_cgihttp_send_json(r, 200, v->row, "private, no-store", NULL);
		return;
	}
	if (!*sub) {
		vs_cgihttp_send_cacheable(r, v->row); /* found whole by vs_cgihandlers_find_video() */
		return;
	}
	if ((!strcmp(sub, "qualities") ? vs_catalog_qualities : vs_catalog_chapters)(*r->db, v->id, &list) < 0) {
		vs_cgihttp_server_error(r, 503, sub);
		return;
	}
	vs_cgihttp_send_cacheable(r, list);
	json_decref(list);
}

/* The path token "EXPIRES/SIG" of a URL signed by the hmac or nginx
 * scheme ("" for others): what the key endpoint takes as ?token=. */
static void path_token(const char *signed_url, char *out, size_t n)
{
	const char *t = strstr(signed_url, "/" VS_SIGN_TOKEN_PREFIX "/"), *sig;

	out[0] = '\0';
	if (!t)
		return;
	t += strlen("/" VS_SIGN_TOKEN_PREFIX "/");
	sig = strchr(t, '/');
	if (sig && strchr(sig + 1, '/'))
		snprintf(out, n, "%.*s", (int)(strchr(sig + 1, '/') - t), t);
}

/* The URL of rel, a file of video id's package, signed as signed_master
 * (the master playlist's URL) is: beside it under the same path token, or
 * with CloudFront, by the same custom policy on its own URL (malloced, or
 * NULL). */
static char *sign_beside(const struct vs_cgi_origin *o, const char *id, const char *signed_master,
                         const char *rel, time_t exp)
{
	char *u = NULL, *su = NULL;

	if (o->sign.scheme == VS_SIGN_CLOUDFRONT) {
		if (asprintf(&u, "%s/%s/%s", o->base_url, id, rel) < 0)
			u = NULL;
		else if (vs_sign_url(u, exp, &o->sign, &su, NULL) < 0)
			su = NULL;
		free(u);
	} else if (asprintf(&su, "%.*s%s", (int)(strlen(signed_master) - strlen("master.m3u8")), signed_master,
	                    rel) < 0) {
		su = NULL;
	}
	return su;
}

/* The caption tracks on the origin, each with its file's signed URL. */
static json_t *signed_captions(const struct vs_cgi_req *r, const struct vs_cgi_origin *o,
                               const struct vs_cgi_video *v, const char *signed_master, time_t exp)
{
	json_t *list = NULL, *c;
	char at[VS_UUID_LEN + 3];
	size_t i;

	if (vs_catalog_published_captions(*r->db, v->id, &list) < 0)
		return NULL;
	snprintf(at, sizeof(at), "/%s/", v->id);
	json_array_foreach(list, i, c) {
		const char *url = vs_json_str(c, "url"), *rel = url ? strstr(url, at) : NULL;
		char *su = rel ? sign_beside(o, v->id, signed_master, rel + strlen(at), exp) : NULL;

		json_object_set_new(c, "url", su ? json_string(su) : json_null());
		free(su);
	}
	return list;
}

/* The signed stream of v on origin o: the master playlist's URL and each
 * rendition's (only want's, when set: ?quality=), the qualities q (the
 * catalog's, borrowed) signed. On failure the response is sent and *out
 * stays NULL. */
static void origin_stream(struct vs_cgi_req *r, const struct vs_cgi_origin *o, struct vs_cgi_video *v,
                          const char *want, const json_t *q, const json_t *fallback, time_t exp, json_t **out)
{
	bool cloudfront = o->sign.scheme == VS_SIGN_CLOUDFRONT;
	char *master = NULL, *signed_url = NULL, *chosen = NULL, when[32], token[160];
	json_t *cookies = NULL, *list = NULL, *captions = NULL, *it;
	size_t i;

	*out = NULL;
	if (asprintf(&master, "%s/%s/master.m3u8", o->base_url, v->id) < 0) {
		master = NULL;
		vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		vs_cgihttp_server_error(r, 500, "stream");
		goto out;
	}
	if (vs_sign_url(master, exp, &o->sign, &signed_url, cloudfront ? &cookies : NULL) < 0) {
		vs_cgihttp_server_error(r, 500, "signing");
		goto out;
	}
	if (!(captions = signed_captions(r, o, v, signed_url, exp))) {
		vs_cgihttp_server_error(r, 503, "captions");
		goto out;
	}
	path_token(signed_url, token, sizeof(token));
	list = json_array();
	json_array_foreach(q, i, it) {
		const char *label = vs_json_str(it, "label");
		char *rel = NULL, *su = NULL;

		if (!label)
			continue;
		if (asprintf(&rel, "%s/index.m3u8", label) >= 0)
			su = sign_beside(o, v->id, signed_url, rel, exp);
		json_array_append_new(list, json_pack("{s:s,s:O,s:O,s:O,s:s,s:O,s:O,s:O,s:s?}", "quality_label", label,
		                                      "resolution_width", json_object_get(it, "width"),
		                                      "resolution_height", json_object_get(it, "height"),
		                                      "bitrate_kbps", json_object_get(it, "bitrate_kbps"),
		                                      "label", label, "width", json_object_get(it, "width"),
		                                      "height", json_object_get(it, "height"),
		                                      "bitrate", json_object_get(it, "bitrate"), "url", su));
		if (want && !chosen && su && !strcmp(label, want))
			chosen = strdup(su);
		free(rel);
		free(su);
	}
	if (want && !chosen) {
		vs_cgihttp_problem(r, 400, "no such quality for this video: ask for one of its qualities' labels",
		                   NULL);
		goto out;
	}
	vs_clock_format_time((double)exp, when, sizeof(when));
	/* ?quality=720p: the stream is that rendition's playlist */
	*out = json_pack("{s:s,s:s,s:s,s:O,s:O,s:s?}", "stream_url", chosen ? chosen : signed_url, "token", token,
	                 "expires_at", when, "qualities", list, "captions", captions, "quality", chosen ? want : NULL);
	if (*out && cookies)
		json_object_set(*out, "cookies", cookies);
	if (*out && fallback) {
		/* the progressive MP4, signed as the package's files are */
		char at[VS_UUID_LEN + 3], *su;
		const char *url = vs_json_str(fallback, "url"), *rel;
		json_t *f = json_deep_copy(fallback);

		snprintf(at, sizeof(at), "/%s/", v->id);
		rel = url ? strstr(url, at) : NULL;
		su = rel ? sign_beside(o, v->id, signed_url, rel + strlen(at), exp) : NULL;
		if (f && su && json_object_set_new(f, "url", json_string(su)) == 0)
			json_object_set(*out, "fallback", f);
		json_decref(f);
		free(su);
	}
	if (!*out)
		vs_cgihttp_server_error(r, 500, "stream");
out:
	json_decref(list);
	json_decref(captions);
	json_decref(cookies);
	free(master);
	free(signed_url);
	free(chosen);
}

/* The signed stream of v, as GET /videos/:id/stream answers: the first
 * origin's, and with several (VS_PUBLIC_BASE_URL's failover list) each
 * one's in "origins", in order, "base_url" in each. On failure the
 * response is sent and *out stays NULL. */
static void stream_json(struct vs_cgi_req *r, struct vs_cgi_video *v, const char *want, json_t **out)
{
	const struct vs_cgi_config *cfg = r->cfg;
	json_t *q = NULL, *fallback = NULL, *origins = NULL, *one;
	time_t exp = vs_sign_expiry(time(NULL), cfg->stream_ttl_s);

	*out = NULL;
	if (!cfg->n_origins) {
		vs_fail(VS_ERR, VS_E_USAGE, "VS_PUBLIC_BASE_URL is not set");
		vs_cgihttp_server_error(r, 500, "stream");
		return;
	}
	if (vs_catalog_qualities(*r->db, v->id, &q) < 0 || vs_catalog_fallback(*r->db, v->id, &fallback) < 0) {
		json_decref(q);
		vs_cgihttp_server_error(r, 503, "qualities");
		return;
	}
	origins = cfg->n_origins > 1 ? json_array() : NULL;
	for (int i = 0; i < cfg->n_origins; i++) {
		origin_stream(r, &cfg->origins[i], v, want, q, fallback, exp, &one);
		if (!one)
			goto fail; /* answered */
		if (!origins) {
			*out = one;
			break;
		}
		json_object_set_new(one, "base_url", json_string(cfg->origins[i].base_url));
		json_array_append_new(origins, one);
	}
	if (origins) {
		*out = json_deep_copy(json_array_get(origins, 0));
		json_object_del(*out, "base_url");
		if (!*out || json_object_set(*out, "origins", origins) < 0) {
			json_decref(*out);
			*out = NULL;
			vs_cgihttp_server_error(r, 500, "stream");
		}
	}
fail:
	json_decref(origins);
	json_decref(fallback);
	json_decref(q);
}

void vs_cgihandlers_stream(struct vs_cgi_req *r, struct vs_cgi_video *v)
{
	char want[64];
	int quality = vs_cgihttp_query_param(vs_cgihttp_param(r, "QUERY_STRING"), "quality", want,
	                                     sizeof(want));
	json_t *out;

	if (quality < 0) {
		vs_cgihttp_problem(r, 400, "quality must be a rendition's label, such as 720p", NULL);
		return;
	}
	stream_json(r, v, quality ? want : NULL, &out);
	if (!out)
		return;
	vs_cgihttp_send_json(r, 200, out, "private, no-store", NULL);
	json_decref(out);
}

/* Whether t is "DIGITS/SIGNATURE", the signature base64url. */
static bool path_token_shape(const char *t)
{
	size_t d = strspn(t, "0123456789"), s;

	if (d == 0 || d > 20 || t[d] != '/')
		return false;
	s = strspn(t + d + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
	return s > 0 && s <= 128 && t[d + 1 + s] == '\0';
}

void vs_cgihandlers_key(struct vs_cgi_req *r, struct vs_cgi_video *v)
{
	const char *qs = vs_cgihttp_param(r, "QUERY_STRING");
	char token[256] = "", *url = NULL, *master = NULL;
	uint8_t key[16];
	bool found = false, valid = false;

	/* the token is exactly what /stream handed out, "EXPIRES/SIGNATURE"
	 * (its slash may come %2F-encoded): nothing that could carry a path,
	 * and so a scope of another video's */
	if (vs_cgihttp_query_param(qs, "token", token, sizeof(token)) < 0 || !path_token_shape(token))
		token[0] = '\0';
	/* the token of any origin's signature of this video's master */
	for (int i = 0; token[0] && !valid && i < r->cfg->n_origins; i++) {
		const struct vs_cgi_origin *o = &r->cfg->origins[i];
		const char *h, *path;

		if (asprintf(&master, "%s/%s/master.m3u8", o->base_url, v->id) < 0)
			break;
		h = strstr(master, "://");
		path = h ? strchr(h + 3, '/') : NULL;
		if (path && asprintf(&url, "%.*s/" VS_SIGN_TOKEN_PREFIX "/%s%s", (int)(path - master), master, token,
		                     path) >= 0) {
			valid = vs_sign_verify_url(url, time(NULL), &o->sign) == 0;
			vs_error_clear();
			free(url);
		}
		url = NULL;
		free(master);
		master = NULL;
	}
	if (!valid) {
		vs_cgihttp_problem(r, 403, "a valid token for this video is required", NULL);
		return;
	}
	if (vs_catalog_key(*r->db, v->id, key, &found) < 0) {
		vs_cgihttp_server_error(r, 503, "key");
		return;
	}
	if (!found) {
		vs_cgihttp_problem(r, 404, "this video is not encrypted", NULL);
		return;
	}
	vs_cgihttp_respond(r, 200, "application/octet-stream", "private, no-store", NULL, (char *)key,
	                   sizeof(key));
}

void vs_cgihandlers_progress(struct vs_cgi_req *r, struct vs_cgi_video *v, bool post)
{
	json_t *row = NULL, *body = NULL, *ct;
	struct timeval tv;
	int ret;

	if (!r->user[0]) {
		vs_cgihttp_problem(r, 401, "sign in to keep your progress", "WWW-Authenticate: Bearer\r\n");
		return;
	}
	if (!post) {
		row = progress_of(r, v->id);
		if (json_is_null(row)) {
			json_decref(row);
			row = json_pack("{s:s,s:s,s:i,s:i,s:b,s:n,s:i,s:n,s:n}", "user_id", r->user, "video_id", v->id,
			                "current_time", 0, "completed_percentage", 0, "is_completed", 0,
			                "last_watched_at", "watch_count", 0, "completed_at", "updated_at");
		}
		vs_cgihttp_send_json(r, 200, row, "private, no-store", NULL);
		json_decref(row);
		return;
	}
	if (vs_cgihttp_read_body(r, &body) < 0)
		return;
	ct = json_object_get(body, "current_time");
	if (!json_is_number(ct) || !isfinite(json_number_value(ct)) || json_number_value(ct) < 0 ||
	    (v->duration > 0 && json_number_value(ct) > v->duration + 1)) {
		json_decref(body);
		vs_cgihttp_problem(r, 422, "current_time must be a number of seconds from 0 to the video's duration",
		                   NULL);
		return;
	}
	if (json_object_get(body, "completed_percentage") && !json_is_number(json_object_get(body, "completed_percentage"))) {
		json_decref(body);
		vs_cgihttp_problem(r, 422, "completed_percentage must be a number", NULL);
		return;
	}
	gettimeofday(&tv, NULL);
	ret = vs_progress_record(*r->db, r->user, v->id, json_number_value(ct), v->duration,
	                         (double)tv.tv_sec + tv.tv_usec / 1e6, &r->cfg->rules, &row);
	json_decref(body);
	if (ret < 0) {
		if (ret == VS_ETEMP || !strcmp(vs_error_code(), VS_E_DATABASE))
			vs_cgihttp_server_error(r, ret == VS_ETEMP ? 503 : 500, "progress");
		else
			vs_cgihttp_problem(r, 422, vs_error_message(), NULL);
		return;
	}
	vs_cgihttp_send_json(r, 200, row, "private, no-store", NULL);
	json_decref(row);
}

void vs_cgihandlers_analytics_post(struct vs_cgi_req *r, struct vs_cgi_video *v)
{
	struct vs_analytics_source src = {
		.user = r->user[0] ? r->user : NULL,
		.user_agent = vs_cgihttp_param(r, "HTTP_USER_AGENT"),
		.ip = vs_cgihttp_param(r, "REMOTE_ADDR"),
		.ip_policy = r->cfg->ip_policy,
	};
	json_t *b = NULL;
	int ret;

	if (vs_cgihttp_read_body(r, &b) < 0)
		return;
	ret = vs_analytics_record(*r->db, v->id, b, &src);
	json_decref(b);
	if (ret == VS_ETEMP || (ret < 0 && !strcmp(vs_error_code(), VS_E_DATABASE)))
		vs_cgihttp_server_error(r, ret == VS_ETEMP ? 503 : 500, "analytics");
	else if (ret < 0)
		vs_cgihttp_problem(r, 422, vs_error_message(), NULL);
	else
		vs_cgihttp_respond(r, 204, NULL, "no-store", NULL, NULL, 0);
}

void vs_cgihandlers_analytics_get(struct vs_cgi_req *r, struct vs_cgi_video *v)
{
	json_t *j = NULL;
	int ret;

	/* a scan of the video's whole history: an admin's, never anyone's */
	if (!r->identified) {
		vs_cgihttp_problem(r, 401, "the summary is for admins: sign in", "WWW-Authenticate: Bearer\r\n");
		return;
	}
	if (!r->admin) {
		vs_cgihttp_problem(r, 403, "the summary is for admins (role admin, or scope videos:write)", NULL);
		return;
	}
	ret = vs_report_video_brief(*r->db, v->id, &j);
	if (ret < 0) {
		vs_cgihttp_server_error(r, ret == VS_ETEMP ? 503 : 500, "analytics");
		return;
	}
	vs_cgihttp_send_json(r, 200, j, "private, max-age=60", NULL);
	json_decref(j);
}

void vs_cgihandlers_health(struct vs_cgi_req *r)
{
	json_t *ok;

	if (vs_cgihandlers_db(r) < 0 || vs_db_ping(*r->db) < 0) {
		vs_cgihttp_server_error(r, 503, "health");
		return;
	}
	ok = json_pack("{s:s}", "status", "ok");
	vs_cgihttp_send_json(r, 200, ok, "no-store", NULL);
	json_decref(ok);
}

/*
 * The FastCGI authorizer role (lighttpd's "mode" => "authorizer"): may the
 * origin serve this path? Yes (200, no body) when REQUEST_URI, the path as
 * the client sent it, is a valid and unexpired signed path
 * (/t/EXPIRES/SIGNATURE/vod/ID/...) under VS_PUBLIC_BASE_URL's origin; the
 * server then serves the file itself. Otherwise the refusal goes to the
 * client. So a plain web server checks vs-sign's URLs, as nginx's
 * secure_link does.
 */
void vs_cgihandlers_authorize(struct vs_cgi_req *r)
{
	const char *uri = vs_cgihttp_param(r, "REQUEST_URI");
	bool valid = false;

	if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
		vs_cgihttp_problem(r, 405, "method not allowed here", "Allow: GET, HEAD\r\n");
		return;
	}
	if (!r->cfg->n_origins) {
		vs_fail(VS_ERR, VS_E_USAGE, "VS_PUBLIC_BASE_URL is not set: cannot check signed paths");
		vs_cgihttp_server_error(r, 500, "authorizer");
		return;
	}
	if (!uri || uri[0] != '/') {
		vs_cgihttp_problem(r, 403, "this link is not valid", NULL);
		return;
	}
	/* signed for any of the origins this server stands for */
	for (int i = 0; !valid && i < r->cfg->n_origins; i++) {
		const struct vs_cgi_origin *o = &r->cfg->origins[i];
		const char *host = strstr(o->base_url, "://") + 3;
		char *url = NULL;

		if (asprintf(&url, "%.*s%.*s", (int)(host + strcspn(host, "/") - o->base_url), o->base_url,
		             (int)strcspn(uri, "?#"), uri) < 0)
			break;
		valid = vs_sign_verify_url(url, time(NULL), &o->sign) == 0;
		free(url);
	}
	if (!valid)
		vs_cgihttp_problem(r, 403, "this link is not valid or has expired", NULL);
	else
		vs_cgihttp_respond(r, 200, NULL, NULL, NULL, NULL, 0);
}
