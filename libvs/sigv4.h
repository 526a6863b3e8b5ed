#ifndef VS_SIGV4_H
#define VS_SIGV4_H

#include "vs.h"

/*
 * AWS Signature Version 4 with OpenSSL: for what libcurl's CURLOPT_AWS_SIGV4
 * does not do (presigned URLs), and as the reference the uploads are checked
 * against. The AWS test suite's get-vanilla family and RFC 4231's
 * HMAC-SHA256 vectors are in tests/unit/test-libvs.c.
 */

struct vs_sigv4 {
	const char *method;         /* "GET" */
	const char *path;           /* as sent, already URI-encoded ("/a%20b") */
	const char *query;          /* "b=2&a=1", decoded values; may be NULL */
	const char *const *headers; /* "Name: value" lines, n_headers of them */
	int n_headers;
	const char *payload_sha256; /* hex; NULL: of the empty payload */
	const char *region, *service;
	const char *amz_date;       /* "20150830T123600Z" */
	const char *access_key, *secret_key;
};

/*
 * The Authorization header value for r. canonical and string_to_sign, if
 * not NULL, receive those intermediate texts (malloced) for debugging and
 * tests. Returns 0 or VS_ERR.
 */
int vs_sigv4_authorization(const struct vs_sigv4 *r, char **authorization, char **canonical,
                           char **string_to_sign);

/*
 * A presigned URL (query-string authentication) for method on
 * scheme://host + path, valid for expires_s seconds from r->amz_date.
 * r->headers must hold the Host header. Returns 0 or VS_ERR.
 */
int vs_sigv4_presign(const struct vs_sigv4 *r, const char *scheme_host, int expires_s, char **url);


/* An encoded query ("b=2&a=1%26") as SigV4 canonicalises it: the pairs
 * sorted, each name and value decoded and encoded again; malloced. */
char *vs_sigv4_canonical_query(const char *q);


#endif
