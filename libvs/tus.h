#ifndef VS_TUS_H
#define VS_TUS_H

#include <jansson.h>

#include "vs.h"

/*
 * Resumable uploads by the tus 1.0.0 protocol (core, creation,
 * termination), kept under MEDIA_ROOT/.uploads: for upload ID, ID.json
 * (length, offset, metadata, created) and ID.part, the bytes so far. An
 * append is checked against the offset, takes the part's lock (one PATCH
 * at a time; another is refused, never interleaved), is fsynced before the
 * new offset is written, and the offset is written atomically.
 */

#define VS_TUS_VERSION "1.0.0"
#define VS_TUS_EXTENSIONS "creation,termination,checksum"
#define VS_TUS_CHECKSUMS "sha1,sha256,md5"
#define VS_TUS_EXPIRY_S (24 * 3600) /* an upload not finished by then goes (vs_tus_gc) */
#define VS_TUS_METADATA_MAX 4096

struct vs_tus {
	char id[37];
	long long length, offset;
	json_t *metadata;  /* Upload-Metadata decoded: {"filename": ..., "title": ...}; new reference */
	double created;    /* epoch seconds */
	char *part;        /* the bytes' path; malloced */
};

/* A new upload of length bytes with Upload-Metadata meta (may be NULL:
 * "key base64,key2 base64"); a malformed one is VS_E_INVALID. */
int vs_tus_create(const char *root, long long length, const char *meta, struct vs_tus *t);

/* Upload id's state; VS_E_NOT_FOUND when there is none (or id is not one). */
int vs_tus_open(const char *root, const char *id, struct vs_tus *t);

/*
 * Appends n bytes read from read (as vs_upload_read_fn) at offset, which
 * must be t->offset (else VS_E_CONFLICT), not past t->length (VS_E_TOO_LARGE);
 * another append in progress is VS_E_BUSY. What arrived before a
 * short read is kept: t->offset moves by what was stored and synced.
 * checksum (the Upload-Checksum header, "sha1 BASE64", or NULL) is the
 * digest of the n bytes: bytes that do not match it, or fewer than n, are
 * dropped (VS_E_CHECKSUM); an algorithm not among VS_TUS_CHECKSUMS is
 * VS_E_INVALID.
 */
int vs_tus_append(const char *root, struct vs_tus *t, long long offset, long long n, const char *checksum,
                  int (*read)(void *ctx, char *buf, int n), void *ctx);

/* Removes upload id's files (termination, or once ingested). */
int vs_tus_remove(const char *root, const char *id);

/* Removes the uploads older than max_age_s; *count gets how many. */
int vs_tus_gc(const char *root, double max_age_s, int *count);

void vs_tus_release(struct vs_tus *t);

#endif
