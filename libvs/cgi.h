#ifndef VS_CGI_H
#define VS_CGI_H

#include <libpq-fe.h>

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

/* Configuration read once, before any request (FastCGI replaces environ). */
struct vs_cgi_config {
	const char *database_url;
	char *jwt_secret;           /* VS_JWT_SECRET_FILE's content, or NULL */
	size_t jwt_secret_len;
	struct vs_sign_opts sign;   /* VS_SIGN_SCHEME, VS_SIGNING_KEY_FILE, … */
	char *sign_secret;
	const char *public_base_url;/* VS_PUBLIC_BASE_URL */
	long stream_ttl_s;          /* VS_STREAM_TTL, default VS_SIGN_TTL_DEFAULT */
	char *cors_origins;         /* VS_CORS_ORIGINS, comma-separated, or NULL */
	struct vs_progress_rules rules;
};

/* Fills cfg from the environment; returns 0 or VS_ERR (message set). */
int vs_cgi_config_load(struct vs_cgi_config *cfg);
void vs_cgi_config_release(struct vs_cgi_config *cfg);

/*
 * Answers one request. *db is the connection to use: NULL makes one (kept
 * in *db for the caller to reuse or close); a broken one is reset. Never
 * fails: every failure is an HTTP answer.
 */
void vs_cgi_handle(const struct vs_cgi_config *cfg, PGconn **db, const struct vs_cgi_io *io);

#endif
