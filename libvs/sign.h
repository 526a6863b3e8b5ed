#ifndef VS_SIGN_H
#define VS_SIGN_H

#include <time.h>

#include <jansson.h>

#include "vs.h"

/*
 * Expiring signed URLs for a video's whole package.
 *
 * A player only ever receives the master playlist's URL and does not pass
 * its query string on to the playlists and segments it then fetches, so a
 * signature in the query string would cover the master alone. The hmac and
 * nginx schemes therefore put the token in the path, before the package:
 *
 *     https://cdn.example.com/vod/ID/master.m3u8
 *  →  https://cdn.example.com/t/EXPIRES/SIGNATURE/vod/ID/master.m3u8
 *
 * Every relative URI in the package resolves below the token, so one
 * signature covers every playlist and segment of that video, and nothing
 * else: the signature is over the expiry and the package's directory
 * ("/vod/ID/"), the scope. The edge checks it and serves (or caches) the
 * object under its plain path, so the cache holds one copy per object for
 * all viewers (examples/nginx-secure-link.conf). Expiries are rounded up
 * to VS_SIGN_EXPIRY_STEP_S so that viewers within a step share URLs too.
 *
 * The cloudfront scheme makes CloudFront signed URLs (canned or custom
 * policy) and signed cookies; for a whole package, the cookies with a
 * custom policy on "https://host/vod/ID/ *" are the way: the URLs stay
 * plain, and CloudFront keeps one copy per object.
 */

#define VS_SIGN_TTL_DEFAULT 21600      /* 6 hours */
#define VS_SIGN_TTL_MAX (10LL * 365 * 86400) /* the longest lifetime asked for: 10 years */
#define VS_SIGN_EXPIRY_STEP_S 300      /* expiries rounded up to 5 minutes */

/* The expiry of a signature made at now for ttl_s seconds, rounded up to
 * VS_SIGN_EXPIRY_STEP_S so that viewers in the same window share URLs (a
 * lifetime shorter than that is rounded up to a multiple of itself: it
 * lives from ttl_s to twice that). */
time_t vs_sign_expiry(time_t now, long long ttl_s);
#define VS_SIGN_TOKEN_PREFIX "t"       /* /t/EXPIRES/SIGNATURE/… */
#define VS_NGINX_TEMPLATE_DEFAULT "$secure_link_expires$scope $secret"

struct vs_sign_key;

enum vs_sign_scheme { VS_SIGN_HMAC, VS_SIGN_NGINX, VS_SIGN_CLOUDFRONT };

struct vs_sign_opts {
	enum vs_sign_scheme scheme;
	const char *secret;          /* hmac, nginx: the signing key (VS_SIGNING_KEY_FILE) */
	size_t secret_len;
	const char *nginx_template;  /* the secure_link_md5 expression */
	const char *remote_addr;     /* for $remote_addr in the template, or NULL */
	bool token_in_query;         /* nginx: ?md5=…&expires=… instead of the path */
	const char *key_pair_id;     /* cloudfront */
	const struct vs_sign_key *private_key; /* cloudfront; borrowed */
	bool sha256;                 /* cloudfront: Hash-Algorithm=SHA256 */
	bool custom_policy;          /* cloudfront: a policy on the package's directory */
};

/*
 * The "stream" section of a record: {"url": url signed to expire at
 * expires, "expires_at", "scheme", and with cookies (cloudfront) "cookies"},
 * new in *stream. Returns 0 or VS_ERR (code VS_E_USAGE for a setting that
 * is missing).
 */
int vs_sign_stream(const char *url, time_t expires, const struct vs_sign_opts *o, bool cookies, json_t **stream);

/* "hmac", "nginx" or "cloudfront". */
const char *vs_sign_scheme_name(enum vs_sign_scheme scheme);

/* Parses "hmac", "nginx", "cloudfront". */
int vs_sign_scheme_parse(const char *s, enum vs_sign_scheme *out);

/* The scope of url: the path of its directory ("/vod/ID/"). */
char *vs_sign_scope(const char *url);

/*
 * Signs url to expire at expires (seconds since the epoch). *signed_url
 * (malloced) is the URL to give out; for cloudfront, *cookies (new
 * reference, may be NULL) holds the three CloudFront-* cookies.
 */
int vs_sign_url(const char *url, time_t expires, const struct vs_sign_opts *o, char **signed_url,
                json_t **cookies);

/*
 * Verifies a URL signed by vs_sign_url() (hmac, nginx, or cloudfront with
 * the key pair's private or public key), at time now. Returns 0 when valid
 * and unexpired, VS_ERR otherwise with the reason. Signatures are compared
 * in constant time.
 */
int vs_sign_verify_url(const char *url, time_t now, const struct vs_sign_opts *o);

/* nginx's secure_link_md5 value: base64url(MD5(text)) without padding. */
void vs_sign_nginx_md5(const char *text, char out[32]);

/* Reads a secret from a file, trailing newlines removed (malloced). */
int vs_sign_read_secret(const char *path, char **secret, size_t *len);

/* A key for the cloudfront scheme (an RSA key; OpenSSL's type stays in
 * sign.c). */
struct vs_sign_key;

/* Reads a PEM private key (or, enough to verify, a public key) for the
 * cloudfront scheme into *key, the caller's to vs_sign_key_free(). */
int vs_sign_key_load(const char *path, struct vs_sign_key **key);
void vs_sign_key_free(struct vs_sign_key *key); /* accepts NULL */

#endif
