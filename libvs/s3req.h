#ifndef VS_S3REQ_H
#define VS_S3REQ_H

#include <curl/curl.h>

#include "vs.h"

/*
 * Internal to the s3 modules: the client's insides and its requests, which
 * s3.c makes and runs for s3upload.c (uploads, multipart) and s3list.c
 * (listing, deleting). Not for programs: they see s3.h only.
 */

/* The client, from the AWS variables; every string malloced, owned. */
struct vs_s3 {
	char *endpoint;     /* "http://127.0.0.1:4568", or NULL for AWS */
	char *region, *access_key, *secret_key, *token; /* token: NULL without AWS_SESSION_TOKEN */
	char *sigv4;        /* "aws:amz:REGION:s3" */
	char *userpwd;
	long long multipart_threshold;
};

/* A response body, NUL-terminated once it has a byte (data malloced, owned). */
struct vs_s3_buf {
	char *data;
	size_t len;
};

/* One request: set up by vs_s3_req_init(), emptied by vs_s3_req_release(). */
struct vs_s3_req {
	CURL *c;
	struct curl_slist *h;
	struct vs_s3_buf resp;  /* the body of the answer, at most 8 MiB */
	FILE *body;          /* the upload's data, or NULL */
	char etag[128], ctype[128]; /* of the answer, quotes removed; "" when absent */
	long long clen;      /* the answer's Content-Length */
	char err[CURL_ERROR_SIZE];
};

/* The hex of n bytes into out (2n + 1 bytes). */

/* SHA-256 and MD5 of len bytes of path from off, hex. Returns 0, or -1
 * with no message set. */
int vs_s3_digest_file(const char *path, long long off, long long len, char sha[65], char md5[33]);

/*
 * Prepares a request in r, which it overwrites: release it first. Body:
 * the file region (path, off, len) or mem (a string), or none. extra: more
 * headers, NULL-terminated, or NULL; copied. Signed by libcurl (Signature
 * V4) with the x-amz-content-sha256 and x-amz-security-token headers added
 * here; the caller may change options before running it. Returns 0 or
 * VS_ERR; r is to be released in either case.
 */
int vs_s3_req_init(struct vs_s3 *s, struct vs_s3_req *r, const char *method, const char *url,
                   const char *path, long long off, long long len, const char *mem,
                   const char *const *extra);

/* Frees what r holds and empties it; accepts an empty r. */
void vs_s3_req_release(struct vs_s3_req *r);

/*
 * Classifies a finished request (rc from libcurl): 0 for a 2xx, VS_ETEMP
 * for what may pass (no connection, a timeout, 5xx, 408, 429), VS_ERR
 * otherwise (code VS_E_NOT_FOUND for 404), the message naming what and the
 * store's error code.
 */
int vs_s3_outcome(struct vs_s3_req *r, CURLcode rc, const char *what);

/* Runs a request to the end, retried VS_S3_RETRIES times with growing
 * pauses on transient failures. Leaves r set up (for headers and body)
 * on return, to be released. */
int vs_s3_run(struct vs_s3 *s, struct vs_s3_req *r, const char *method, const char *url,
              const char *path, long long off, long long len, const char *mem,
              const char *const *extra, const char *what);

#endif
