#include <ctype.h>
#include <openssl/evp.h>

#include "codec.h"
#include "hash.h"

struct vs_sha256 {
	EVP_MD_CTX *ctx;
};

struct vs_sha256 *vs_sha256_new(void)
{
	struct vs_sha256 *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		vs_sha256_free(h);
		return NULL;
	}
	return h;
}

void vs_sha256_update(struct vs_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void vs_sha256_final(struct vs_sha256 *h, char hex[VS_SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, md, &n);
	vs_codec_hex(md, n, hex);
}

void vs_sha256_free(struct vs_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

/* The vs namespace, 5b3f2c1e-8a4d-5c9b-9e11-6f0d2a7c4133: chosen once at
 * random and fixed forever, since every video id is derived from it. */
static const unsigned char vs_namespace[16] = {
	0x5b, 0x3f, 0x2c, 0x1e, 0x8a, 0x4d, 0x5c, 0x9b,
	0x9e, 0x11, 0x6f, 0x0d, 0x2a, 0x7c, 0x41, 0x33,
};

void vs_hash_uuid_for_sha256(const char *sha256_hex, char out[VS_UUID_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char hex[33];
	int k = 0;

	/* RFC 4122 4.3: SHA-1 of namespace then name, first 16 bytes. */
	EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
	EVP_DigestUpdate(ctx, vs_namespace, sizeof(vs_namespace));
	EVP_DigestUpdate(ctx, sha256_hex, strlen(sha256_hex));
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	md[6] = (md[6] & 0x0f) | 0x50; /* version 5 */
	md[8] = (md[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	vs_codec_hex(md, 16, hex);
	for (int i = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[k++] = '-';
		out[k++] = hex[i];
	}
	out[k] = '\0';
}

bool vs_hash_is_uuid(const char *s)
{
	for (int i = 0; i < VS_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return s[VS_UUID_LEN] == '\0';
}

