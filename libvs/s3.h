#ifndef VS_S3_H
#define VS_S3_H

#include "vs.h"

/*
 * S3 and S3-compatible stores through libcurl, signed with libcurl's own
 * Signature V4 (CURLOPT_AWS_SIGV4) plus the x-amz-content-sha256 header it
 * does not add. Credentials, region and endpoint come from the standard AWS
 * variables: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * AWS_REGION (or AWS_DEFAULT_REGION; default us-east-1), and
 * AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, which switch to path-style
 * addressing (http://127.0.0.1:4568/bucket/key).
 *
 * Failures: VS_ETEMP when the store cannot be reached, times out, or keeps
 * answering 5xx or 429 after the retries; VS_ERR for other refusals (403:
 * wrong credentials, the message carries the store's error code).
 *
 * The code: s3.c holds the client, its requests (signed and retried) and
 * the single-object ones (HEAD, GET); s3upload.c the uploads, multipart
 * included; s3list.c listing and deleting. s3req.h is what they share.
 */

#define VS_S3_PARALLEL 8                       /* uploads in flight at once */
#define VS_S3_RETRIES 4                        /* after the first attempt */
#define VS_S3_BACKOFF_MS 200                   /* doubled at each retry */
#define VS_S3_MULTIPART_THRESHOLD (64LL << 20) /* larger files go in parts */
#define VS_S3_CONNECT_TIMEOUT_S 10

struct vs_s3;

int vs_s3_open(struct vs_s3 **s3);
void vs_s3_close(struct vs_s3 *s3);
void vs_s3_set_multipart_threshold(struct vs_s3 *s3, long long bytes);

/* The public URL of bucket/key on this store (path-style with an endpoint). */
char *vs_s3_url(const struct vs_s3 *s3, const char *bucket, const char *key);

struct vs_s3_object {
	const char *key;           /* object key */
	const char *path;          /* local file */
	const char *content_type;
	const char *cache_control;
	/* filled by vs_s3_upload */
	bool skipped;              /* already there with the same content */
	long long size;
};

/*
 * Uploads objs in order of their index, but several at once: objects of the
 * same stage run concurrently, a stage only after the one before it ended
 * (stage[i], ascending). An object already stored with the same size and
 * ETag (MD5, or the multipart ETag) is skipped. Returns 0, VS_ERR, VS_ETEMP.
 */
int vs_s3_upload(struct vs_s3 *s3, const char *bucket, struct vs_s3_object *objs, const int *stage,
                 int n);

/* s3://bucket/prefix → bucket, and prefix "" or "a/b/" (both malloced). */
int vs_s3_parse_url(const char *url, char **bucket, char **prefix);

/* The text of an XML element of a listing (n bytes at s), its entities
 * (&amp; &lt; &gt; &quot; &apos; &#N; &#xN;) decoded into UTF-8; malloced,
 * or NULL for a malformed one. */
char *vs_s3_xml_text(const char *s, size_t n);

/* GET bucket/key into the file path (written under a temporary name and
 * renamed), with the retries of uploads. */
int vs_s3_download(struct vs_s3 *s3, const char *bucket, const char *key, const char *path);

/* HEAD: *exists, *size, content type into ctype. */
int vs_s3_head(struct vs_s3 *s3, const char *bucket, const char *key, bool *exists, long long *size,
               char *etag, size_t etag_n, char *ctype, size_t ctype_n);

/* Deletes every object under prefix ("ID/"). *count gets how many. */
int vs_s3_delete_prefix(struct vs_s3 *s3, const char *bucket, const char *prefix, int *count);

#endif
