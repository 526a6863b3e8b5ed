#ifndef VS_HASH_H
#define VS_HASH_H

#include "vs.h"

/*
 * SHA-256 (OpenSSL EVP), streamed, and the UUIDs vs gives videos.
 */

#define VS_SHA256_HEX_LEN 64
#define VS_UUID_LEN 36

struct vs_sha256;

struct vs_sha256 *vs_sha256_new(void); /* NULL when out of memory */
void vs_sha256_update(struct vs_sha256 *h, const void *data, size_t len);
/* Writes the lower-case hex digest and a NUL into hex (65 bytes). */
void vs_sha256_final(struct vs_sha256 *h, char hex[VS_SHA256_HEX_LEN + 1]);
void vs_sha256_free(struct vs_sha256 *h);

/*
 * The video id for a source with this SHA-256: a name-based UUID (RFC 4122
 * version 5) of the hex digest in the vs namespace. Deriving the id from the
 * content makes ingest idempotent with or without a database: the same
 * bytes always get the same id.
 */
void vs_hash_uuid_for_sha256(const char *sha256_hex, char out[VS_UUID_LEN + 1]);

/* True for the canonical 8-4-4-4-12 hex form (either case). */
bool vs_hash_is_uuid(const char *s);


#endif
