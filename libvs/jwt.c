#include "codec.h"
#include "error.h"
#include "jwt.h"

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
	unsigned char *hdr = NULL, *pay = NULL, *sig = NULL, mac[VS_CODEC_SHA256_LEN];
	size_t hl = 0, pl = 0, sl = 0;
	json_t *h = NULL, *p = NULL, *v;
	int ret = VS_ERR;

	*claims = NULL;
	if (!d1 || !d2 || strchr(d2 + 1, '.') || strlen(token) > 8192)
		return vs_fail(VS_ERR, VS_E_INVALID, "not a JWT");
	hdr = vs_codec_unbase64(token, (size_t)(d1 - token), VS_CODEC_BASE64URL, &hl);
	pay = vs_codec_unbase64(d1 + 1, (size_t)(d2 - d1 - 1), VS_CODEC_BASE64URL, &pl);
	sig = vs_codec_unbase64(d2 + 1, strlen(d2 + 1), VS_CODEC_BASE64URL, &sl);
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
	vs_codec_hmac_sha256(secret, secret_len, token, (size_t)(d2 - token), mac);
	if (sl != sizeof(mac) || !vs_codec_equal(mac, sig, sizeof(mac))) {
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
	char *h = vs_codec_base64_new(header, strlen(header), VS_CODEC_BASE64URL | VS_CODEC_NOPAD);
	char *p = payload ? vs_codec_base64_new(payload, strlen(payload), VS_CODEC_BASE64URL | VS_CODEC_NOPAD) : NULL;
	char *signing = NULL, *s = NULL, *out = NULL;
	unsigned char mac[VS_CODEC_SHA256_LEN];

	if (h && p && asprintf(&signing, "%s.%s", h, p) >= 0) {
		vs_codec_hmac_sha256(secret, secret_len, signing, strlen(signing), mac);
		s = vs_codec_base64_new(mac, sizeof(mac), VS_CODEC_BASE64URL | VS_CODEC_NOPAD);
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
