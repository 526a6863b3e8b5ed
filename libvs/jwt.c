#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "error.h"
#include "jwt.h"

static char *b64url(const unsigned char *in, size_t n)
{
	char *out = malloc(n * 4 / 3 + 8);
	int len;

	if (!out)
		return NULL;
	len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (len > 0 && out[len - 1] == '=')
		out[--len] = '\0';
	for (char *c = out; *c; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
	return out;
}

/* Decodes base64url without padding; NULL when it is not. */
static unsigned char *unb64url(const char *s, size_t n, size_t *out_len)
{
	size_t padded = (n + 3) / 4 * 4;
	char *t = malloc(padded + 1);
	unsigned char *out = malloc(padded);
	int len;

	if (!t || !out || n % 4 == 1)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9'))
			goto fail;
		t[i] = c;
	}
	for (size_t i = n; i < padded; i++)
		t[i] = '=';
	t[padded] = '\0';
	len = EVP_DecodeBlock(out, (unsigned char *)t, (int)padded);
	if (len < 0)
		goto fail;
	*out_len = (size_t)len - (padded - n); /* EVP_DecodeBlock counts padding */
	free(t);
	return out;
fail:
	free(t);
	free(out);
	return NULL;
}

/* aud (RFC 7519 4.1.3): a string, or an array of strings, holding want. */
static bool has_audience(const json_t *aud, const char *want)
{
	const json_t *a;
	size_t i;

	if (json_is_string(aud))
		return !strcmp(json_string_value(aud), want);
	json_array_foreach(aud, i, a)
		if (json_is_string(a) && !strcmp(json_string_value(a), want))
			return true;
	return false;
}

int vs_jwt_verify(const char *token, const void *secret, size_t secret_len, time_t now,
                  const struct vs_jwt_rules *rules, json_t **claims)
{
	const char *d1 = token ? strchr(token, '.') : NULL, *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	unsigned char *hdr = NULL, *pay = NULL, *sig = NULL, mac[32];
	size_t hl = 0, pl = 0, sl = 0;
	unsigned int ml = 32;
	json_t *h = NULL, *p = NULL, *v;
	int ret = VS_ERR;

	*claims = NULL;
	if (!d1 || !d2 || strchr(d2 + 1, '.') || strlen(token) > 8192)
		return vs_fail(VS_ERR, VS_E_INVALID, "not a JWT");
	hdr = unb64url(token, (size_t)(d1 - token), &hl);
	pay = unb64url(d1 + 1, (size_t)(d2 - d1 - 1), &pl);
	sig = unb64url(d2 + 1, strlen(d2 + 1), &sl);
	if (!hdr || !pay || !sig) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "not a JWT: bad base64url");
		goto out;
	}
	h = json_loadb((char *)hdr, hl, JSON_REJECT_DUPLICATES, NULL);
	p = json_loadb((char *)pay, pl, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(h) || !json_is_object(p)) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "not a JWT: bad JSON");
		goto out;
	}
	/* pinned: HS256 and nothing else, "none" above all */
	if (!json_is_string(json_object_get(h, "alg")) || strcmp(json_string_value(json_object_get(h, "alg")), "HS256")) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "the token's algorithm is not HS256");
		goto out;
	}
	HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)token, (size_t)(d2 - token), mac, &ml);
	if (sl != 32 || CRYPTO_memcmp(mac, sig, 32) != 0) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "the token's signature does not match");
		goto out;
	}
	/* a token without exp would live forever; one far off nearly so */
	v = json_object_get(p, "exp");
	if (!json_is_number(v)) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "the token has no exp");
		goto out;
	}
	if (json_number_value(v) <= (double)now - VS_JWT_LEEWAY_S) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "the token expired");
		goto out;
	}
	if (json_number_value(v) > (double)now + rules->max_lifetime_s + VS_JWT_LEEWAY_S ||
	    (json_is_number(json_object_get(p, "iat")) &&
	     json_number_value(v) - json_number_value(json_object_get(p, "iat")) > (double)rules->max_lifetime_s)) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "the token lives longer than %ld s", rules->max_lifetime_s);
		goto out;
	}
	if (rules->issuer && (!json_is_string(json_object_get(p, "iss")) ||
	                      strcmp(json_string_value(json_object_get(p, "iss")), rules->issuer))) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "the token's issuer is not %s", rules->issuer);
		goto out;
	}
	if (rules->audience && !has_audience(json_object_get(p, "aud"), rules->audience)) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "the token is not for %s", rules->audience);
		goto out;
	}
	v = json_object_get(p, "nbf");
	if (v && (!json_is_number(v) || json_number_value(v) > (double)now + VS_JWT_LEEWAY_S)) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "the token is not valid yet");
		goto out;
	}
	*claims = json_incref(p);
	ret = 0;
out:
	json_decref(h);
	json_decref(p);
	free(hdr);
	free(pay);
	free(sig);
	return ret;
}

char *vs_jwt_sign(const json_t *claims, const void *secret, size_t secret_len)
{
	char *payload = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
	const char *header = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char *h = b64url((const unsigned char *)header, strlen(header));
	char *p = payload ? b64url((unsigned char *)payload, strlen(payload)) : NULL;
	char *signing = NULL, *s = NULL, *out = NULL;
	unsigned char mac[32];
	unsigned int ml = 32;

	if (h && p && asprintf(&signing, "%s.%s", h, p) >= 0) {
		HMAC(EVP_sha256(), secret, (int)secret_len, (unsigned char *)signing, strlen(signing), mac, &ml);
		s = b64url(mac, 32);
		if (s && asprintf(&out, "%s.%s", signing, s) < 0)
			out = NULL;
	}
	free(payload);
	free(h);
	free(p);
	free(signing);
	free(s);
	return out;
}
