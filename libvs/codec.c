#include <ctype.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "codec.h"

static const char base64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char base64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t vs_codec_base64(const void *in, size_t n, unsigned flags, char *out)
{
	const char *abc = flags & VS_CODEC_BASE64URL ? base64_url : base64_std;
	const unsigned char *p = in;
	size_t k = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (unsigned long)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		out[k++] = abc[v >> 18 & 63];
		out[k++] = abc[v >> 12 & 63];
		if (left > 1)
			out[k++] = abc[v >> 6 & 63];
		else if (!(flags & VS_CODEC_NOPAD))
			out[k++] = '=';
		if (left > 2)
			out[k++] = abc[v & 63];
		else if (!(flags & VS_CODEC_NOPAD))
			out[k++] = '=';
	}
	out[k] = '\0';
	return k;
}

char *vs_codec_base64_new(const void *in, size_t n, unsigned flags)
{
	char *out = malloc(VS_CODEC_BASE64_LEN(n) + 1);

	if (out)
		vs_codec_base64(in, n, flags, out);
	return out;
}

static int base64_value(char c, const char *abc)
{
	const char *at = c ? strchr(abc, c) : NULL;

	return at ? (int)(at - abc) : -1;
}

unsigned char *vs_codec_unbase64(const char *s, size_t n, unsigned flags, size_t *len)
{
	const char *abc = flags & VS_CODEC_BASE64URL ? base64_url : base64_std;
	unsigned char *out;
	unsigned long v = 0;
	size_t k = 0, pad = 0;

	/* Padding, where it is allowed, only completes the last quantum. */
	if (!(flags & VS_CODEC_BASE64URL)) {
		while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
			pad++;
		if (pad && n % 4)
			return NULL;
	}
	n -= pad;
	if (n % 4 == 1 || (pad && (n + pad) % 4))
		return NULL;
	if (!(out = malloc(n / 4 * 3 + 3)))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int d = base64_value(s[i], abc);

		if (d < 0) {
			free(out);
			return NULL;
		}
		v = v << 6 | (unsigned long)d;
		if (i % 4 == 3) {
			out[k++] = (unsigned char)(v >> 16);
			out[k++] = (unsigned char)(v >> 8);
			out[k++] = (unsigned char)v;
			v = 0;
		}
	}
	if (n % 4 == 2) {
		out[k++] = (unsigned char)(v >> 4);
	} else if (n % 4 == 3) {
		out[k++] = (unsigned char)(v >> 10);
		out[k++] = (unsigned char)(v >> 2);
	}
	out[k] = '\0';
	*len = k;
	return out;
}

void vs_codec_hex(const void *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void vs_codec_sha256(const void *in, size_t n, unsigned char out[VS_CODEC_SHA256_LEN])
{
	unsigned int len = VS_CODEC_SHA256_LEN;

	EVP_Digest(in, n, out, &len, EVP_sha256(), NULL);
}

void vs_codec_sha256_hex(const void *in, size_t n, char out[2 * VS_CODEC_SHA256_LEN + 1])
{
	unsigned char md[VS_CODEC_SHA256_LEN];

	vs_codec_sha256(in, n, md);
	vs_codec_hex(md, sizeof(md), out);
}

void vs_codec_md5(const void *in, size_t n, unsigned char out[VS_CODEC_MD5_LEN])
{
	unsigned int len = VS_CODEC_MD5_LEN;

	EVP_Digest(in, n, out, &len, EVP_md5(), NULL);
}

void vs_codec_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                          unsigned char out[VS_CODEC_SHA256_LEN])
{
	unsigned int n = VS_CODEC_SHA256_LEN;

	HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n);
}

struct vs_codec_digest *vs_codec_digest_new(const char *algorithm)
{
	const EVP_MD *md = !strcmp(algorithm, "sha1") ? EVP_sha1() : !strcmp(algorithm, "sha256") ? EVP_sha256() :
	                   !strcmp(algorithm, "md5") ? EVP_md5() : NULL;
	EVP_MD_CTX *c = md ? EVP_MD_CTX_new() : NULL;

	if (c && EVP_DigestInit_ex(c, md, NULL) != 1) {
		EVP_MD_CTX_free(c);
		c = NULL;
	}
	return (struct vs_codec_digest *)c;
}

void vs_codec_digest_update(struct vs_codec_digest *d, const void *data, size_t n)
{
	EVP_DigestUpdate((EVP_MD_CTX *)d, data, n);
}

size_t vs_codec_digest_final(struct vs_codec_digest *d, unsigned char out[64])
{
	unsigned int n = 0;

	EVP_DigestFinal_ex((EVP_MD_CTX *)d, out, &n);
	return n;
}

void vs_codec_digest_free(struct vs_codec_digest *d)
{
	EVP_MD_CTX_free((EVP_MD_CTX *)d);
}

bool vs_codec_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

char *vs_codec_uri_encode(const char *s, bool keep_slash)
{
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
		    (keep_slash && *p == '/'))
			*o++ = (char)*p;
		else
			o += snprintf(o, 4, "%%%02X", *p);
	}
	*o = '\0';
	return out;
}

char *vs_codec_uri_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t k = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = {s[i + 1], s[i + 2], 0};

			out[k++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			out[k++] = s[i];
		}
	}
	out[k] = '\0';
	return out;
}
