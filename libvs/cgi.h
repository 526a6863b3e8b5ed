#ifndef VS_CGI_H
#define VS_CGI_H

#include <libpq-fe.h>

#include "analytics.h"
#include "jwt.h"
#include "progress.h"
#include "sign.h"
#include "vs.h"

/*
 * The HTTP endpoints of vs-cgi, independent of how requests arrive: plain
 * CGI/1.1 (RFC 3875) or FastCGI. A request is read through struct vs_cgi_io;
 * the answer is written through it, status line as a CGI "Status:" header.
 *
 * Every error is application/problem+json (RFC 9457) with its status; a
 * client never sees SQL, paths or library messages: 5xx details go to
 * stderr, the web server's error log.
 *
 * The code: cgi.c reads the configuration; cgiroute.c holds
 * vs_cgi_handle(), the router; cgiauth.c identifies the viewer,
 * cgihandlers.c answers each endpoint, cgihttp.c keeps the HTTP manners
 * (status lines, problem+json, caching headers, the body, the query).
 * Their shared request is in cgireq.h; none of it is for programs.
 */

#define VS_CGI_MAX_BODY (64 * 1024)   /* larger bodies: 413 */
#define VS_CGI_DB_TIMEOUT_S 2         /* database down: 503 within this */
#define VS_CGI_METADATA_MAX_AGE 60    /* Cache-Control for video metadata */

struct vs_cgi_io {
	const char *(*param)(void *ctx, const char *name); /* CGI variable or NULL */
	int (*read)(void *ctx, char *buf, int n);          /* body bytes, 0 at end */
	int (*write)(void *ctx, const char *buf, int n);
	void *ctx;
};

#define VS_CGI_ORIGINS_MAX 4          /* bases VS_PUBLIC_BASE_URL may name */

/* One place the packages are served from (a CDN, an origin), and how its
 * URLs are signed. */
struct vs_cgi_origin {
	char *base_url;             /* without a trailing slash; malloced, owned */
	struct vs_sign_opts sign;   /* cfg->sign with this origin's scheme */
};

/* Configuration read once, before any request (FastCGI replaces environ). */
struct vs_cgi_config {
	const char *database_url;
	char *jwt_secret;           /* VS_JWT_SECRET_FILE's content, or NULL */
	size_t jwt_secret_len;
	struct vs_jwt_rules jwt;    /* VS_JWT_MAX_LIFETIME, VS_JWT_AUDIENCE, VS_JWT_ISSUER */
	const char *admin_users;    /* VS_ADMIN_USERS: REMOTE_USERs who are admins, comma-separated */
	struct vs_sign_opts sign;   /* VS_SIGN_SCHEME, VS_SIGNING_KEY_FILE, … */
	char *sign_secret;
	struct vs_sign_key *cloudfront_key; /* VS_CLOUDFRONT_PRIVATE_KEY_FILE's key, or NULL */
	const char *public_base_url;/* VS_PUBLIC_BASE_URL's first base, or NULL */
	struct vs_cgi_origin origins[VS_CGI_ORIGINS_MAX]; /* its bases in order (a
	                             * failover list), each with its VS_SIGN_SCHEME */
	int n_origins;
	const char *publish_url;    /* VS_PUBLISH_URL: the origin DELETE /videos/:id removes objects from */
	const char *media_root;     /* VS_MEDIA_ROOT (or VS_MEDIA_ROOT_DEFAULT): where uploads go */
	long long upload_max;       /* VS_UPLOAD_MAX: bytes of an upload (VS_UPLOAD_MAX_DEFAULT) */
	long stream_ttl_s;          /* VS_STREAM_TTL, default VS_SIGN_TTL_DEFAULT */
	char *cors_origins;         /* VS_CORS_ORIGINS, comma-separated, or NULL */
	struct vs_progress_rules rules;
	enum vs_analytics_ip ip_policy; /* VS_ANALYTICS_IP: truncate (default), full, none */
	char *broken;               /* why the configuration is unusable, or NULL */
	bool persistent;            /* set by the program: one process serves many
	                             * requests (FastCGI), so statements are prepared */
};

/*
 * Fills cfg from the environment; returns 0 or VS_ERR (message set) when a
 * setting is unusable: an unknown VS_SIGN_SCHEME, a secret file that cannot
 * be read, cloudfront without VS_CLOUDFRONT_KEY_PAIR_ID and
 * VS_CLOUDFRONT_PRIVATE_KEY_FILE. Release cfg in either case. A program
 * may go on with a broken configuration: vs_cgi_handle() then answers 500
 * and logs cfg->broken, so the reason lands in the web server's log.
 */
int vs_cgi_config_load(struct vs_cgi_config *cfg);
void vs_cgi_config_release(struct vs_cgi_config *cfg);

/*
 * Answers one request. *db is the connection to use: NULL makes one (kept
 * in *db for the caller to reuse or close); a broken one is reset. Never
 * fails: every failure is an HTTP answer.
 */
void vs_cgi_handle(const struct vs_cgi_config *cfg, PGconn **db, const struct vs_cgi_io *io);

#endif
