#include <ctype.h>
#include <math.h>
#include <strings.h>
#include <sys/time.h>

#include <openssl/evp.h>

#include "analytics.h"
#include "catalog.h"
#include "cgi.h"
#include "clock.h"
#include "db.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "jwt.h"
#include "record.h"
#include "report.h"

struct req {
	const struct vs_cgi_config *cfg;
	const struct vs_cgi_io *io;
	PGconn **db;
	const char *method;      /* GET, HEAD, POST, OPTIONS, … */
	bool head;
	char seg[4][256];        /* path segments */
	int nseg;
	char user[VS_UUID_LEN + 1]; /* the viewer, or "" */
	bool by_token;           /* the viewer is a bearer token's, not REMOTE_USER's */
	bool admin;              /* a token with the admin claim, or a REMOTE_USER of VS_ADMIN_USERS */
	bool identified;         /* a valid token or a REMOTE_USER, admin or viewer */
	const char *origin;      /* an allowed Origin, or NULL */
};

static const char *param(const struct req *r, const char *name)
{
	return r->io->param(r->io->ctx, name);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/* Writes a whole answer. extra: more header lines, each ending in \r\n. */
static void respond(struct req *r, int status, const char *ctype, const char *cache,
                    const char *extra, const char *body, size_t len)
{
	char *head = NULL;
	size_t hl = 0;
	FILE *f = open_memstream(&head, &hl);

	if (!f)
		return;
	fprintf(f, "Status: %d %s\r\n", status, reason(status));
	if (ctype)
		fprintf(f, "Content-Type: %s\r\n", ctype);
	fprintf(f, "X-Content-Type-Options: nosniff\r\n");
	if (cache)
		fprintf(f, "Cache-Control: %s\r\n", cache);
	if (r->origin)
		fprintf(f, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n", r->origin);
	if (extra)
		fputs(extra, f);
	if (status != 304 && status != 204)
		fprintf(f, "Content-Length: %zu\r\n", len);
	fputs("\r\n", f);
	fclose(f);
	r->io->write(r->io->ctx, head, (int)hl);
	if (body && len && !r->head && status != 304 && status != 204)
		r->io->write(r->io->ctx, body, (int)len);
	free(head);
}

static void problem(struct req *r, int status, const char *detail, const char *extra)
{
	json_t *p = json_pack("{s:s,s:s,s:i,s:s}", "type", "about:blank", "title", reason(status),
	                      "status", status, "detail", detail);
	char *body = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);

	respond(r, status, "application/problem+json", "no-store", extra, body, body ? strlen(body) : 0);
	free(body);
	json_decref(p);
}

/* 5xx: the details to the server's log, a plain answer to the client. */
static void server_error(struct req *r, int status, const char *what)
{
	fprintf(stderr, "vs-cgi: %s %s: %s: %s\n", r->method, param(r, "PATH_INFO") ? param(r, "PATH_INFO") : "",
	        what, vs_error_message());
	problem(r, status, status == 503 ? "the service is unavailable; try again shortly"
	                                 : "the server failed to answer", status == 503 ? "Retry-After: 5\r\n" : NULL);
}

static void send_json(struct req *r, int status, json_t *body, const char *cache, const char *extra)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (!s) {
		vs_fail(VS_ERR, VS_E_INTERNAL, "cannot serialise");
		server_error(r, 500, "json");
		return;
	}
	respond(r, status, "application/json", cache, extra, s, strlen(s));
	free(s);
}

/* ---- configuration ---- */

/* A secret file named by var, or NULL when var is unset. */
static int read_secret(const char *var, char **s, size_t *len)
{
	const char *path = getenv(var);

	*s = NULL;
	*len = 0;
	if (!path || !*path)
		return 0;
	if (vs_sign_read_secret(path, s, len) < 0) {
		vs_error_prefix("%s", var);
		return VS_ERR;
	}
	return 0;
}

static int config_load(struct vs_cgi_config *c);

int vs_cgi_config_load(struct vs_cgi_config *c)
{
	int ret = config_load(c);

	if (ret < 0)
		c->broken = strdup(vs_error_message());
	return ret;
}

static int config_load(struct vs_cgi_config *c)
{
	const char *scheme = getenv("VS_SIGN_SCHEME"), *ttl = getenv("VS_STREAM_TTL");
	const char *cors = getenv("VS_CORS_ORIGINS"), *pkey = getenv("VS_CLOUDFRONT_PRIVATE_KEY_FILE");

	memset(c, 0, sizeof(*c));
	c->database_url = vs_db_url(NULL);
	c->public_base_url = getenv("VS_PUBLIC_BASE_URL");
	c->stream_ttl_s = ttl && atol(ttl) > 0 ? atol(ttl) : VS_SIGN_TTL_DEFAULT;
	c->cors_origins = cors && *cors ? strdup(cors) : NULL;
	c->rules = (struct vs_progress_rules)VS_PROGRESS_RULES_INIT;
	c->jwt = (struct vs_jwt_rules)VS_JWT_RULES_INIT;
	c->admin_users = getenv("VS_ADMIN_USERS");
	c->jwt.audience = getenv("VS_JWT_AUDIENCE") && *getenv("VS_JWT_AUDIENCE") ? getenv("VS_JWT_AUDIENCE") : NULL;
	c->jwt.issuer = getenv("VS_JWT_ISSUER") && *getenv("VS_JWT_ISSUER") ? getenv("VS_JWT_ISSUER") : NULL;
	if (getenv("VS_JWT_MAX_LIFETIME") && *getenv("VS_JWT_MAX_LIFETIME")) {
		char *end;
		long l = strtol(getenv("VS_JWT_MAX_LIFETIME"), &end, 10);

		if (*end || l <= 0 || l > 366L * 24 * 3600)
			return vs_fail(VS_ERR, VS_E_USAGE, "VS_JWT_MAX_LIFETIME: not a number of seconds up to a year");
		c->jwt.max_lifetime_s = l;
	}
	c->sign.nginx_template = getenv("VS_NGINX_TEMPLATE");
	if (vs_analytics_ip_parse(getenv("VS_ANALYTICS_IP"), &c->ip_policy) < 0) {
		vs_error_prefix("VS_ANALYTICS_IP");
		return VS_ERR;
	}
	if (read_secret("VS_JWT_SECRET_FILE", &c->jwt_secret, &c->jwt_secret_len) < 0 ||
	    read_secret("VS_SIGNING_KEY_FILE", &c->sign_secret, &c->sign.secret_len) < 0)
		return VS_ERR;
	c->sign.secret = c->sign_secret;
	if (scheme && *scheme && vs_sign_scheme_parse(scheme, &c->sign.scheme) < 0) {
		vs_error_prefix("VS_SIGN_SCHEME");
		return VS_ERR;
	}
	if (c->sign.scheme == VS_SIGN_CLOUDFRONT) {
		/* a custom policy on the package's directory: the cookies it
		 * comes with cover every playlist and segment */
		c->sign.key_pair_id = getenv("VS_CLOUDFRONT_KEY_PAIR_ID");
		c->sign.custom_policy = true;
		if (!c->sign.key_pair_id || !*c->sign.key_pair_id || !pkey || !*pkey)
			return vs_fail(VS_ERR, VS_E_USAGE, "VS_SIGN_SCHEME=cloudfront needs VS_CLOUDFRONT_KEY_PAIR_ID"
			                                   " and VS_CLOUDFRONT_PRIVATE_KEY_FILE");
		if (vs_sign_load_key(pkey, &c->cloudfront_key) < 0)
			return VS_ERR;
		c->sign.private_key = c->cloudfront_key;
	}
	return 0;
}

void vs_cgi_config_release(struct vs_cgi_config *c)
{
	free(c->jwt_secret);
	free(c->sign_secret);
	free(c->cors_origins);
	EVP_PKEY_free(c->cloudfront_key);
	free(c->broken);
	memset(c, 0, sizeof(*c));
}

/* ---- pieces ---- */

static bool allowed_origin(const struct vs_cgi_config *c, const char *origin)
{
	if (!origin || !c->cors_origins)
		return false;
	for (const char *p = c->cors_origins; *p;) {
		size_t n = strcspn(p, ",");

		while (n > 0 && p[n - 1] == ' ')
			n--;
		if ((n == 1 && *p == '*') || (strlen(origin) == n && !strncmp(p, origin, n)))
			return true;
		p += strcspn(p, ",");
		p += *p == ',';
		while (*p == ' ')
			p++;
	}
	return false;
}

static int hex_digit(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The first query parameter name in qs, percent-decoded into out (n
 * bytes). Returns 1 when found, 0 when absent (out ""), -1 when it is too
 * long or holds a bad escape or a NUL. */
static int query_param(const char *qs, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);

	out[0] = '\0';
	for (const char *p = qs; p && *p; p += strcspn(p, "&"), p += *p == '&') {
		size_t len = strcspn(p, "&"), o = 0;

		if (len <= nl || strncmp(p, name, nl) || p[nl] != '=')
			continue;
		for (size_t i = nl + 1; i < len; i++) {
			int c = (unsigned char)p[i];

			if (c == '+')
				c = ' ';
			else if (c == '%') {
				int hi = i + 2 < len ? hex_digit(p[i + 1]) : -1, lo = hi >= 0 ? hex_digit(p[i + 2]) : -1;

				if (lo < 0 || (hi == 0 && lo == 0))
					return -1;
				c = hi * 16 + lo;
				i += 2;
			}
			if (o + 1 >= n)
				return -1;
			out[o++] = (char)c;
		}
		out[o] = '\0';
		return 1;
	}
	return 0;
}

/* The access_token query parameter (RFC 6750 2.3), for beacons, which
 * cannot send headers; "" when absent or unusable. */
static void query_token(const char *qs, char *out, size_t n)
{
	if (query_param(qs, "access_token", out, n) < 0)
		out[0] = '\0';
}

/* Whether word is one of the items of list (separated by commas, spaces
 * around them ignored). */
static bool in_list(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p;) {
		size_t l;

		p += strspn(p, " ,");
		l = strcspn(p, ",");
		while (l > 0 && p[l - 1] == ' ')
			l--;
		if (l == n && n > 0 && !strncmp(p, word, n))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

/* The admin claim: "role": "admin", or a "scope" (space-separated, RFC
 * 8693) holding videos:write. */
static bool admin_claim(const json_t *claims)
{
	const char *role = json_string_value(json_object_get(claims, "role"));
	const char *scope = json_string_value(json_object_get(claims, "scope"));

	if (role && !strcmp(role, "admin"))
		return true;
	for (const char *p = scope; p && *p;) {
		size_t l;

		p += strspn(p, " ");
		l = strcspn(p, " ");
		if (l == strlen("videos:write") && !strncmp(p, "videos:write", l))
			return true;
		p += l;
	}
	return false;
}

/* The viewer: a valid HS256 bearer token's "sub" (from the Authorization
 * header, else the access_token query parameter), or REMOTE_USER. Returns
 * 0 (maybe anonymous), or VS_ERR for a bad token (answered already). */
static int identify(struct req *r)
{
	const char *auth = param(r, "HTTP_AUTHORIZATION"), *ru = param(r, "REMOTE_USER"), *tok = NULL;
	char qtok[2048];

	r->user[0] = '\0';
	query_token(param(r, "QUERY_STRING"), qtok, sizeof(qtok));
	if (auth && *auth)
		tok = strncasecmp(auth, "Bearer ", 7) ? "" : auth + 7;
	else if (qtok[0])
		tok = qtok;
	if (tok) {
		json_t *claims = NULL;
		const char *sub;

		if (!*tok || !r->cfg->jwt_secret ||
		    vs_jwt_verify(tok, r->cfg->jwt_secret, r->cfg->jwt_secret_len, time(NULL), &r->cfg->jwt, &claims) < 0) {
			problem(r, 401, r->cfg->jwt_secret ? "the bearer token is not valid"
			                                   : "bearer tokens are not accepted here",
			        "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n");
			return VS_ERR;
		}
		sub = json_string_value(json_object_get(claims, "sub"));
		if (!sub || !vs_is_uuid(sub)) {
			json_decref(claims);
			problem(r, 401, "the token's subject is not a user id",
			        "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n");
			return VS_ERR;
		}
		snprintf(r->user, sizeof(r->user), "%s", sub);
		r->by_token = r->identified = true;
		r->admin = admin_claim(claims);
		json_decref(claims);
	} else if (ru && *ru) {
		if (vs_is_uuid(ru))
			snprintf(r->user, sizeof(r->user), "%s", ru);
		r->admin = in_list(r->cfg->admin_users, ru);
		r->identified = true; /* the web server knows them, even by a name */
	}
	return 0;
}

static int need_db(struct req *r)
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

/* Reads the JSON body (at most VS_CGI_MAX_BODY). Answers and returns
 * VS_ERR when it is too large, not JSON, or not an object. */
static int read_body(struct req *r, json_t **out)
{
	const char *cl = param(r, "CONTENT_LENGTH"), *ct = param(r, "CONTENT_TYPE");
	long len = cl && *cl ? strtol(cl, NULL, 10) : 0;
	char *buf;
	int got = 0;
	json_error_t e;

	*out = NULL;
	if (len > VS_CGI_MAX_BODY) {
		problem(r, 413, "the body is larger than 64 KiB", NULL);
		return VS_ERR;
	}
	if (len <= 0) {
		problem(r, 400, "a JSON body is required", NULL);
		return VS_ERR;
	}
	if (ct && *ct && strncasecmp(ct, "application/json", 16) && strncasecmp(ct, "text/plain", 10)) {
		problem(r, 415, "the body must be application/json", NULL);
		return VS_ERR;
	}
	/* text/plain is what sendBeacon sends, and what a cross-site form can
	 * send without a preflight: with the browser's own credentials
	 * (REMOTE_USER from cookies or Basic) it could write a viewer's
	 * progress. So a body that is not application/json needs a bearer
	 * token (the beacon's access_token), or no viewer at all. */
	if ((!ct || strncasecmp(ct, "application/json", 16)) && r->user[0] && !r->by_token) {
		problem(r, 403, "send application/json, or identify with a bearer token", NULL);
		return VS_ERR;
	}
	buf = malloc((size_t)len + 1);
	if (!buf) {
		vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		server_error(r, 500, "body");
		return VS_ERR;
	}
	/* read exactly CONTENT_LENGTH bytes, never more (RFC 3875 4.2) */
	while (got < len) {
		int n = r->io->read(r->io->ctx, buf + got, (int)(len - got));

		if (n <= 0)
			break;
		got += n;
	}
	if (got < len) {
		free(buf);
		problem(r, 400, "the body is shorter than its Content-Length", NULL);
		return VS_ERR;
	}
	*out = json_loadb(buf, (size_t)got, JSON_REJECT_DUPLICATES, &e);
	free(buf);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		problem(r, 400, "the body is not a JSON object", NULL);
		return VS_ERR;
	}
	return 0;
}

/* ---- the video ---- */

struct video {
	char id[VS_UUID_LEN + 1];
	json_t *row; /* id, slug, title, description, duration, thumbnail_url[, qualities, chapters, progress] */
	double duration;
};


/* Finds a published video by id or slug, with (full) everything GET
 * /videos/:id shows; answers 400/404/503 itself. */
static int find_video(struct req *r, const char *key, bool full, struct video *v)
{
	int ret;

	memset(v, 0, sizeof(*v));
	if (!vs_is_uuid(key) && !vs_is_slug(key)) {
		problem(r, 400, "a video id is a UUID or a slug", NULL);
		return VS_ERR;
	}
	if ((ret = need_db(r)) < 0) {
		server_error(r, 503, "database");
		return ret;
	}
	ret = vs_catalog_published_video(*r->db, key, full, r->user[0] ? r->user : NULL, v->id, &v->duration, &v->row);
	if (ret < 0) {
		server_error(r, ret == VS_ETEMP ? 503 : 500, "video");
		return ret;
	}
	if (!v->row) {
		problem(r, 404, "no such video", NULL);
		return VS_ERR;
	}
	return 0;
}

static void etag_of(const char *body, char out[48])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(body, strlen(body), md, &n, EVP_sha256(), NULL);
	snprintf(out, 48, "\"");
	for (int i = 0; i < 12; i++)
		snprintf(out + 1 + 2 * i, 3, "%02x", md[i]);
	strncat(out, "\"", 48 - strlen(out) - 1);
}

/* A cacheable answer with an ETag, 304 when If-None-Match has it. */
static void send_cacheable(struct req *r, json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER), tag[48], extra[96], cache[64];
	const char *inm = param(r, "HTTP_IF_NONE_MATCH");

	if (!s) {
		server_error(r, 500, "json");
		return;
	}
	etag_of(s, tag);
	snprintf(extra, sizeof(extra), "ETag: %s\r\n", tag);
	/* with the viewer's progress inside, only the viewer's cache may keep
	 * it, and must ask again each time (the ETag makes that a 304) */
	if (r->user[0])
		snprintf(cache, sizeof(cache), "private, no-cache");
	else
		snprintf(cache, sizeof(cache), "public, max-age=%d", VS_CGI_METADATA_MAX_AGE);
	if (inm && (strstr(inm, tag) || !strcmp(inm, "*")))
		respond(r, 304, NULL, cache, extra, NULL, 0);
	else
		respond(r, 200, "application/json", cache, extra, s, strlen(s));
	free(s);
}

static json_t *progress_of(struct req *r, const char *video_id)
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

/* ---- handlers ---- */

static void h_video(struct req *r, struct video *v, const char *sub)
{
	json_t *list = NULL;

	if (!*sub) {
		send_cacheable(r, v->row); /* found whole by find_video */
		return;
	}
	if ((!strcmp(sub, "qualities") ? vs_catalog_qualities : vs_catalog_chapters)(*r->db, v->id, &list) < 0) {
		server_error(r, 503, sub);
		return;
	}
	send_cacheable(r, list);
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

static void h_stream(struct req *r, struct video *v)
{
	const struct vs_cgi_config *cfg = r->cfg;
	bool cloudfront = cfg->sign.scheme == VS_SIGN_CLOUDFRONT;
	char *master = NULL, *signed_url = NULL, *chosen = NULL, when[32], token[160], want[64];
	json_t *q = NULL, *cookies = NULL, *out = NULL, *list = NULL, *it;
	int quality = query_param(param(r, "QUERY_STRING"), "quality", want, sizeof(want));
	time_t exp;
	size_t i;

	if (quality < 0) {
		problem(r, 400, "quality must be a rendition's label, such as 720p", NULL);
		return;
	}

	if (!cfg->public_base_url) {
		vs_fail(VS_ERR, VS_E_USAGE, "VS_PUBLIC_BASE_URL is not set");
		server_error(r, 500, "stream");
		return;
	}
	exp = ((time(NULL) + cfg->stream_ttl_s + VS_SIGN_EXPIRY_STEP_S - 1) / VS_SIGN_EXPIRY_STEP_S) *
	      VS_SIGN_EXPIRY_STEP_S;
	if (asprintf(&master, "%s/%s/master.m3u8", cfg->public_base_url, v->id) < 0) {
		master = NULL;
		vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		server_error(r, 500, "stream");
		goto out;
	}
	if (vs_sign_url(master, exp, &cfg->sign, &signed_url, cloudfront ? &cookies : NULL) < 0) {
		server_error(r, 500, "signing");
		goto out;
	}
	if (vs_catalog_qualities(*r->db, v->id, &q) < 0) {
		server_error(r, 503, "qualities");
		goto out;
	}
	path_token(signed_url, token, sizeof(token));
	list = json_array();
	json_array_foreach(q, i, it) {
		const char *label = vs_json_str(it, "label");
		char *u = NULL, *su = NULL;

		if (!label)
			continue;
		if (cloudfront) {
			/* the same custom policy: signed on its own URL */
			if (asprintf(&u, "%s/%s/%s/index.m3u8", cfg->public_base_url, v->id, label) < 0)
				u = NULL;
			else if (vs_sign_url(u, exp, &cfg->sign, &su, NULL) < 0)
				su = NULL;
		} else if (asprintf(&su, "%.*s%s/index.m3u8", (int)(strlen(signed_url) - strlen("master.m3u8")),
		                    signed_url, label) < 0) {
			/* the token is in the path: the rendition's playlist sits beside the master */
			su = NULL;
		}
		json_array_append_new(list, json_pack("{s:s,s:O,s:O,s:O,s:s,s:O,s:O,s:O,s:s?}", "quality_label", label,
		                                      "resolution_width", json_object_get(it, "width"),
		                                      "resolution_height", json_object_get(it, "height"),
		                                      "bitrate_kbps", json_object_get(it, "bitrate_kbps"),
		                                      "label", label, "width", json_object_get(it, "width"),
		                                      "height", json_object_get(it, "height"),
		                                      "bitrate", json_object_get(it, "bitrate"), "url", su));
		if (quality && !chosen && su && !strcmp(label, want))
			chosen = strdup(su);
		free(u);
		free(su);
	}
	if (quality && !chosen) {
		problem(r, 400, "no such quality for this video: ask for one of its qualities' labels", NULL);
		goto out;
	}
	vs_format_time((double)exp, when, sizeof(when));
	/* ?quality=720p: the stream is that rendition's playlist */
	out = json_pack("{s:s,s:s,s:s,s:O,s:s?}", "stream_url", chosen ? chosen : signed_url, "token", token,
	                "expires_at", when, "qualities", list, "quality", chosen ? want : NULL);
	if (cookies)
		json_object_set(out, "cookies", cookies);
	send_json(r, 200, out, "private, no-store", NULL);
out:
	json_decref(out);
	json_decref(list);
	json_decref(cookies);
	json_decref(q);
	free(master);
	free(signed_url);
	free(chosen);
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

static void h_key(struct req *r, struct video *v)
{
	const char *qs = param(r, "QUERY_STRING");
	char token[256] = "", *url = NULL, *master = NULL;
	uint8_t key[16];
	bool found = false;

	/* the token is exactly what /stream handed out, "EXPIRES/SIGNATURE"
	 * (its slash may come %2F-encoded): nothing that could carry a path,
	 * and so a scope of another video's */
	if (query_param(qs, "token", token, sizeof(token)) < 0 || !path_token_shape(token))
		token[0] = '\0';
	if (!token[0] || !r->cfg->public_base_url ||
	    asprintf(&master, "%s/%s/master.m3u8", r->cfg->public_base_url, v->id) < 0) {
		problem(r, 403, "a valid token for this video is required", NULL);
		return;
	}
	{
		const char *h = strstr(master, "://"), *path = h ? strchr(h + 3, '/') : NULL;

		if (!path || asprintf(&url, "%.*s/" VS_SIGN_TOKEN_PREFIX "/%s%s", (int)(path - master), master,
		                      token, path) < 0)
			url = NULL;
	}
	if (!url || vs_verify_url(url, time(NULL), &r->cfg->sign) < 0) {
		problem(r, 403, "a valid token for this video is required", NULL);
		free(url);
		free(master);
		return;
	}
	free(url);
	free(master);
	if (vs_catalog_key(*r->db, v->id, key, &found) < 0) {
		server_error(r, 503, "key");
		return;
	}
	if (!found) {
		problem(r, 404, "this video is not encrypted", NULL);
		return;
	}
	respond(r, 200, "application/octet-stream", "private, no-store", NULL, (char *)key, sizeof(key));
}

static void h_progress(struct req *r, struct video *v, bool post)
{
	json_t *row = NULL, *body = NULL, *ct;
	struct timeval tv;
	int ret;

	if (!r->user[0]) {
		problem(r, 401, "sign in to keep your progress", "WWW-Authenticate: Bearer\r\n");
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
		send_json(r, 200, row, "private, no-store", NULL);
		json_decref(row);
		return;
	}
	if (read_body(r, &body) < 0)
		return;
	ct = json_object_get(body, "current_time");
	if (!json_is_number(ct) || !isfinite(json_number_value(ct)) || json_number_value(ct) < 0 ||
	    (v->duration > 0 && json_number_value(ct) > v->duration + 1)) {
		json_decref(body);
		problem(r, 422, "current_time must be a number of seconds from 0 to the video's duration", NULL);
		return;
	}
	if (json_object_get(body, "completed_percentage") && !json_is_number(json_object_get(body, "completed_percentage"))) {
		json_decref(body);
		problem(r, 422, "completed_percentage must be a number", NULL);
		return;
	}
	gettimeofday(&tv, NULL);
	ret = vs_progress_record(*r->db, r->user, v->id, json_number_value(ct), v->duration,
	                         (double)tv.tv_sec + tv.tv_usec / 1e6, &r->cfg->rules, &row);
	json_decref(body);
	if (ret < 0) {
		if (ret == VS_ETEMP || !strcmp(vs_error_code(), VS_E_DATABASE))
			server_error(r, ret == VS_ETEMP ? 503 : 500, "progress");
		else
			problem(r, 422, vs_error_message(), NULL);
		return;
	}
	send_json(r, 200, row, "private, no-store", NULL);
	json_decref(row);
}

static void h_analytics_post(struct req *r, struct video *v)
{
	struct vs_analytics_source src = {
		.user = r->user[0] ? r->user : NULL,
		.user_agent = param(r, "HTTP_USER_AGENT"),
		.ip = param(r, "REMOTE_ADDR"),
		.ip_policy = r->cfg->ip_policy,
	};
	json_t *b = NULL;
	int ret;

	if (read_body(r, &b) < 0)
		return;
	ret = vs_analytics_record(*r->db, v->id, b, &src);
	json_decref(b);
	if (ret == VS_ETEMP || (ret < 0 && !strcmp(vs_error_code(), VS_E_DATABASE)))
		server_error(r, ret == VS_ETEMP ? 503 : 500, "analytics");
	else if (ret < 0)
		problem(r, 422, vs_error_message(), NULL);
	else
		respond(r, 204, NULL, "no-store", NULL, NULL, 0);
}

static void h_analytics_get(struct req *r, struct video *v)
{
	json_t *j = NULL;
	int ret;

	/* a scan of the video's whole history: an admin's, never anyone's */
	if (!r->identified) {
		problem(r, 401, "the summary is for admins: sign in", "WWW-Authenticate: Bearer\r\n");
		return;
	}
	if (!r->admin) {
		problem(r, 403, "the summary is for admins (role admin, or scope videos:write)", NULL);
		return;
	}
	ret = vs_report_video_brief(*r->db, v->id, &j);
	if (ret < 0) {
		server_error(r, ret == VS_ETEMP ? 503 : 500, "analytics");
		return;
	}
	send_json(r, 200, j, "private, max-age=60", NULL);
	json_decref(j);
}

static void h_health(struct req *r)
{
	json_t *ok;

	if (need_db(r) < 0 || vs_db_run(*r->db, "SELECT 1") < 0) {
		server_error(r, 503, "health");
		return;
	}
	ok = json_pack("{s:s}", "status", "ok");
	send_json(r, 200, ok, "no-store", NULL);
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
static void h_authorize(struct req *r)
{
	const char *uri = param(r, "REQUEST_URI"), *base = r->cfg->public_base_url, *host;
	char *url = NULL;

	if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
		problem(r, 405, "method not allowed here", "Allow: GET, HEAD\r\n");
		return;
	}
	if (!base || !(host = strstr(base, "://"))) {
		vs_fail(VS_ERR, VS_E_USAGE, "VS_PUBLIC_BASE_URL is not set: cannot check signed paths");
		server_error(r, 500, "authorizer");
		return;
	}
	host += 3;
	if (!uri || uri[0] != '/' ||
	    asprintf(&url, "%.*s%.*s", (int)(host + strcspn(host, "/") - base), base, (int)strcspn(uri, "?#"), uri) < 0) {
		problem(r, 403, "this link is not valid", NULL);
		return;
	}
	if (vs_verify_url(url, time(NULL), &r->cfg->sign) < 0)
		problem(r, 403, "this link is not valid or has expired", NULL);
	else
		respond(r, 200, NULL, NULL, NULL, NULL, 0);
	free(url);
}

/* ---- routing ---- */

static bool method_in(const char *m, const char *allow)
{
	size_t n = strlen(m);

	if (n == 0) /* strstr would find "" everywhere, and never move on */
		return false;
	for (const char *p = allow; (p = strstr(p, m)); p += n)
		if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

void vs_cgi_handle(const struct vs_cgi_config *cfg, PGconn **db, const struct vs_cgi_io *io)
{
	struct req r = {.cfg = cfg, .io = io, .db = db};
	const char *path = io->param(io->ctx, "PATH_INFO"), *allow;
	const char *sub = "";
	struct video v = {0};
	char allow_hdr[128];

	vs_error_clear();
	r.method = io->param(io->ctx, "REQUEST_METHOD");
	if (!r.method)
		r.method = "GET";
	if (cfg->broken) {
		vs_fail(VS_ERR, VS_E_USAGE, "configuration: %s", cfg->broken);
		server_error(&r, 500, "vs-cgi");
		return;
	}
	if (io->param(io->ctx, "FCGI_ROLE") && !strcmp(io->param(io->ctx, "FCGI_ROLE"), "AUTHORIZER")) {
		h_authorize(&r);
		return;
	}
	r.head = !strcmp(r.method, "HEAD");
	if (allowed_origin(cfg, io->param(io->ctx, "HTTP_ORIGIN")))
		r.origin = io->param(io->ctx, "HTTP_ORIGIN");
	/* split the path into at most 4 segments of at most 255 bytes */
	for (const char *p = path ? path : ""; *p;) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (r.nseg == 4 || n >= sizeof(r.seg[0])) {
			problem(&r, 404, "no such resource", NULL);
			return;
		}
		memcpy(r.seg[r.nseg], p, n);
		r.seg[r.nseg++][n] = '\0';
		p += n;
	}
	if (r.nseg == 1 && !strcmp(r.seg[0], "health"))
		allow = "GET, HEAD, OPTIONS";
	else if (r.nseg >= 2 && r.nseg <= 3 && !strcmp(r.seg[0], "videos")) {
		sub = r.nseg == 3 ? r.seg[2] : "";
		if (!strcmp(sub, "") || !strcmp(sub, "qualities") || !strcmp(sub, "chapters") ||
		    !strcmp(sub, "stream") || !strcmp(sub, "key"))
			allow = "GET, HEAD, OPTIONS";
		else if (!strcmp(sub, "progress") || !strcmp(sub, "analytics"))
			allow = "GET, HEAD, POST, OPTIONS";
		else {
			problem(&r, 404, "no such resource", NULL);
			return;
		}
	} else {
		problem(&r, 404, "no such resource", NULL);
		return;
	}
	snprintf(allow_hdr, sizeof(allow_hdr), "Allow: %s\r\n", allow);
	if (!strcmp(r.method, "OPTIONS")) {
		char extra[512];

		snprintf(extra, sizeof(extra), "%s%s", allow_hdr,
		         r.origin ? "Access-Control-Allow-Headers: Authorization, Content-Type, If-None-Match\r\n"
		                    "Access-Control-Max-Age: 600\r\n" : "");
		if (r.origin)
			snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
			         "Access-Control-Allow-Methods: %s\r\n", allow);
		respond(&r, 204, NULL, NULL, extra, NULL, 0);
		return;
	}
	if (!method_in(r.method, allow)) {
		problem(&r, 405, "method not allowed here", allow_hdr);
		return;
	}
	if (identify(&r) < 0)
		return;
	if (r.nseg == 1) {
		h_health(&r);
		return;
	}
	if (find_video(&r, r.seg[1], !*sub && strcmp(r.method, "POST"), &v) < 0)
		return;
	if (!strcmp(sub, "stream"))
		h_stream(&r, &v);
	else if (!strcmp(sub, "key"))
		h_key(&r, &v);
	else if (!strcmp(sub, "progress"))
		h_progress(&r, &v, !strcmp(r.method, "POST"));
	else if (!strcmp(sub, "analytics") && !strcmp(r.method, "POST"))
		h_analytics_post(&r, &v);
	else if (!strcmp(sub, "analytics"))
		h_analytics_get(&r, &v);
	else
		h_video(&r, &v, sub);
	json_decref(v.row);
}
