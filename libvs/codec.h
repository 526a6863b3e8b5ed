#ifndef VS_CODEC_H
#define VS_CODEC_H

#include "vs.h"

/*
 * The byte codings and MACs the signing modules share: base64 and
 * base64url (RFC 4648), lower-case hex, SHA-256, MD5 and HMAC-SHA256
 * (OpenSSL underneath; no OpenSSL type in this header). jwt, sign, sigv4,
 * hash, s3 and cgi call these; none writes its own.
 */

#define VS_CODEC_SHA256_LEN 32
#define VS_CODEC_MD5_LEN    16

/* Characters base64 needs for n bytes, padded, without the NUL. */
#define VS_CODEC_BASE64_LEN(n) (((n) + 2) / 3 * 4)

enum vs_codec_base64_flags {
	VS_CODEC_BASE64URL = 1 << 0, /* '-' and '_' for '+' and '/' (RFC 4648 section 5) */
	VS_CODEC_NOPAD = 1 << 1,     /* no trailing '=' */
};

/*
 * Writes the base64 of n bytes and a NUL into out, which has room for
 * VS_CODEC_BASE64_LEN(n) + 1 bytes; flags are enum vs_codec_base64_flags.
 * Returns the length written.
 */
size_t vs_codec_base64(const void *in, size_t n, unsigned flags, char *out);

/* The same, malloced; NULL when out of memory. */
char *vs_codec_base64_new(const void *in, size_t n, unsigned flags);

/*
 * Decodes the first n characters of s, base64 (with or without padding)
 * or, with VS_CODEC_BASE64URL, base64url without padding (RFC 7515's form:
 * a '=' is refused). Any character outside the alphabet, or a length no
 * encoding has, makes it NULL. Returns the bytes (malloced, NUL-terminated
 * for convenience) and their number in *len; NULL too when out of memory.
 */
unsigned char *vs_codec_unbase64(const char *s, size_t n, unsigned flags, size_t *len);

/* Writes n bytes as lower-case hex and a NUL into out (2n + 1 bytes). */
void vs_codec_hex(const void *in, size_t n, char *out);

/* SHA-256 of n bytes, as bytes and as hex (65 bytes with the NUL). */
void vs_codec_sha256(const void *in, size_t n, unsigned char out[VS_CODEC_SHA256_LEN]);
void vs_codec_sha256_hex(const void *in, size_t n, char out[2 * VS_CODEC_SHA256_LEN + 1]);

/* MD5 of n bytes (nginx's secure_link_md5 wants it; nothing else here). */
void vs_codec_md5(const void *in, size_t n, unsigned char out[VS_CODEC_MD5_LEN]);

/* A digest computed as bytes come: "sha1", "sha256" or "md5"; NULL for
 * another name (or out of memory). */
struct vs_codec_digest;
struct vs_codec_digest *vs_codec_digest_new(const char *algorithm);
void vs_codec_digest_update(struct vs_codec_digest *d, const void *data, size_t n);
/* The digest into out (room for 64 bytes); its length. */
size_t vs_codec_digest_final(struct vs_codec_digest *d, unsigned char out[64]);
void vs_codec_digest_free(struct vs_codec_digest *d);

/* HMAC-SHA256 of data with key. */
void vs_codec_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                          unsigned char out[VS_CODEC_SHA256_LEN]);

/* True if the n bytes at a and b are equal, in time that does not depend
 * on where they differ (for comparing MACs). */
bool vs_codec_equal(const void *a, const void *b, size_t n);

/* Percent-encodes s as RFC 3986 (and AWS SigV4) want it: unreserved
 * A-Z a-z 0-9 - . _ ~ kept, '/' kept when keep_slash. Malloced, or NULL. */
char *vs_codec_uri_encode(const char *s, bool keep_slash);

/* The first n bytes of s with %XX escapes decoded (malformed ones kept as
 * they are); malloced, or NULL. */
char *vs_codec_uri_decode(const char *s, size_t n);

#endif
