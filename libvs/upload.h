#ifndef VS_UPLOAD_H
#define VS_UPLOAD_H

#include <jansson.h>

#include "vs.h"

/*
 * Uploads into the media root: a multipart/form-data body (RFC 7578; what
 * an HTML form, curl -F and the plan's multer example send) read as it
 * comes, the file part straight to disk, never whole in memory.
 */

#define VS_UPLOAD_MAX_DEFAULT (20LL << 30) /* VS_UPLOAD_MAX: 20 GiB */
#define VS_UPLOAD_FIELD_MAX 65536          /* bytes of a text field */

/* Reads up to n bytes of the body into buf: the count, 0 at its end, < 0
 * on an error (as vs_cgi_io's read). */
typedef int (*vs_upload_read_fn)(void *ctx, char *buf, int n);

struct vs_upload {
	json_t *fields;   /* the text parts by name (title, description, ...); new reference */
	char *path;       /* the file part, under the incoming directory; malloced; vs_upload_release removes it */
	char *filename;   /* its name as the client gave it, or NULL; malloced */
	long long size;   /* its bytes */
};

/*
 * Reads a multipart/form-data body of length bytes (content_type carries
 * its boundary) from read: the first file part (one with a filename, or
 * named file_field) into a new
 * file in incoming (fsynced), the other parts into u->fields. No file part,
 * a file over max_bytes, a malformed body: VS_ERR with code VS_E_INVALID
 * or VS_E_TOO_LARGE, and no file left behind.
 */
int vs_upload_multipart(vs_upload_read_fn read, void *ctx, long long length, const char *content_type,
                        const char *file_field, const char *incoming, long long max_bytes, struct vs_upload *u);
void vs_upload_release(struct vs_upload *u);

#endif
