#include <ctype.h>
#include <math.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "codec.h"
#include "error.h"
#include "clock.h"
#include "fsutil.h"
#include "sign.h"

int vs_sign_scheme_parse(const char *s, enum vs_sign_scheme *out)
{
	if (!strcmp(s, "hmac"))
		*out = VS_SIGN_HMAC;
	else if (!strcmp(s, "nginx"))
		*out = VS_SIGN_NGINX;
	else if (!strcmp(s, "cloudfront"))
		*out = VS_SIGN_CLOUDFRONT;
	else
		return vs_fail(VS_ERR, VS_E_USAGE, "unknown scheme '%s': use hmac, nginx or cloudfront", s);
	return 0;
}

time_t vs_sign_expiry(time_t now, long long ttl_s)
{
	time_t step = ttl_s > 0 && ttl_s < VS_SIGN_EXPIRY_STEP_S ? (time_t)ttl_s : VS_SIGN_EXPIRY_STEP_S;

	return ((now + (time_t)ttl_s + step - 1) / step) * step;
}

const char *vs_sign_scheme_name(enum vs_sign_scheme scheme)
{
	return scheme == VS_SIGN_HMAC ? "hmac" : scheme == VS_SIGN_NGINX ? "nginx" : "cloudfront";
}

int vs_sign_stream(const char *url, time_t expires, const struct vs_sign_opts *o, bool cookies, json_t **stream)
{
	char *signed_url = NULL, when[32];
	json_t *jar = NULL;
	int ret = vs_sign_url(url, expires, o, &signed_url, cookies ? &jar : NULL);

	*stream = NULL;
	if (ret < 0)
		return ret;
	vs_clock_format_time((double)expires, when, sizeof(when));
	*stream = json_pack("{s:s,s:s,s:s}", "url", signed_url, "expires_at", when, "scheme",
	                    vs_sign_scheme_name(o->scheme));
	free(signed_url);
	if (!*stream) {
		json_decref(jar);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	if (jar)
		json_object_set_new(*stream, "cookies", jar);
	return 0;
}

int vs_sign_read_secret(const char *path, char **secret, size_t *len)
{
	int ret = vs_fsutil_read_file(path, 4096, secret, len);

	if (ret < 0)
		return ret;
	while (*len > 0 && ((*secret)[*len - 1] == '\n' || (*secret)[*len - 1] == '\r'))
		(*secret)[--*len] = '\0';
	if (*len == 0) {
		free(*secret);
		*secret = NULL;
		return vs_fail(VS_ERR, VS_E_INVALID, "the signing key in '%s' is empty", path);
	}
	return 0;
}

struct vs_sign_key {
	EVP_PKEY *pkey; /* owned */
};

int vs_sign_key_load(const char *path, struct vs_sign_key **key)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *pkey;

	*key = NULL;
	if (!f)
		return vs_fail(VS_ERR, VS_E_NOT_FOUND, "cannot open '%s': %s", path, strerror(errno));
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	if (!pkey) {
		rewind(f);
		pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL); /* enough to verify */
	}
	fclose(f);
	if (!pkey)
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' holds no PEM key", path);
	if (!(*key = malloc(sizeof(**key)))) {
		EVP_PKEY_free(pkey);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	(*key)->pkey = pkey;
	return 0;
}

void vs_sign_key_free(struct vs_sign_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

/* URL pieces: origin "https://host:port", path "/a/b", rest "?q#f". */
struct url {
	char *origin, *path, *rest;
};

static void url_release(struct url *u)
{
	free(u->origin);
	free(u->path);
	free(u->rest);
}

static int url_split(const char *s, struct url *u)
{
	const char *p = strstr(s, "://"), *path, *rest;

	memset(u, 0, sizeof(*u));
	if (!p || p == s)
		return vs_fail(VS_ERR, VS_E_INVALID, "'%s' is not an absolute URL", s);
	for (const char *c = s; c < p; c++)
		if (!isalpha((unsigned char)*c))
			return vs_fail(VS_ERR, VS_E_INVALID, "'%s' is not an absolute URL", s);
	path = strchr(p + 3, '/');
	if (!path)
		path = p + 3 + strlen(p + 3);
	rest = path + strcspn(path, "?#");
	u->origin = strndup(s, (size_t)(path - s));
	u->path = *path == '/' ? strndup(path, (size_t)(rest - path)) : strdup("/");
	u->rest = strdup(rest);
	if (!u->origin || !u->path || !u->rest) {
		url_release(u);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			url_release(u);
			return vs_fail(VS_ERR, VS_E_INVALID, "the URL holds spaces or control characters");
		}
	return 0;
}

char *vs_sign_scope(const char *url)
{
	struct url u;
	char *slash, *scope;

	if (url_split(url, &u) < 0)
		return NULL;
	slash = strrchr(u.path, '/');
	scope = strndup(u.path, (size_t)(slash - u.path) + 1);
	url_release(&u);
	return scope;
}

void vs_sign_nginx_md5(const char *text, char out[32])
{
	unsigned char md[VS_CODEC_MD5_LEN];

	vs_codec_md5(text, strlen(text), md);
	vs_codec_base64(md, sizeof(md), VS_CODEC_BASE64URL | VS_CODEC_NOPAD, out);
}

/* HMAC-SHA256 over "EXPIRES:ORIGIN SCOPE": the host and the package. */
static void hmac_token(const struct vs_sign_opts *o, long long expires, const char *origin,
                       const char *scope, char out[64])
{
	unsigned char md[VS_CODEC_SHA256_LEN];
	char *msg = NULL;

	if (asprintf(&msg, "%lld:%s%s", expires, origin, scope) < 0) {
		out[0] = '\0';
		return;
	}
	vs_codec_hmac_sha256(o->secret, o->secret_len, msg, strlen(msg), md);
	vs_codec_base64(md, sizeof(md), VS_CODEC_BASE64URL | VS_CODEC_NOPAD, out);
	free(msg);
}

/* Expands the nginx template: $secure_link_expires, $scope, $uri,
 * $remote_addr, $secret; anything else is kept as written. */
static char *nginx_text(const struct vs_sign_opts *o, long long expires, const char *scope,
                        const char *uri)
{
	const char *t = o->nginx_template ? o->nginx_template : VS_NGINX_TEMPLATE_DEFAULT;
	char *out = NULL, num[32];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	snprintf(num, sizeof(num), "%lld", expires);
	while (*t) {
		static const char *const names[] = {"$secure_link_expires", "$scope", "$uri",
		                                    "$remote_addr", "$secret"};
		bool done = false;

		for (size_t i = 0; i < VS_ARRAY_SIZE(names) && !done; i++) {
			size_t n = strlen(names[i]);

			if (!strncmp(t, names[i], n) && !isalnum((unsigned char)t[n]) && t[n] != '_') {
				const char *v = i == 0 ? num : i == 1 ? scope : i == 2 ? uri :
				                i == 3 ? (o->remote_addr ? o->remote_addr : "") : NULL;

				if (i == 4)
					fwrite(o->secret ? o->secret : "", 1, o->secret ? o->secret_len : 0, f);
				else
					fputs(v, f);
				t += n;
				done = true;
			}
		}
		if (!done)
			fputc(*t++, f);
	}
	fclose(f);
	return out;
}

static int need_secret(const struct vs_sign_opts *o)
{
	const char *t = o->nginx_template ? o->nginx_template : VS_NGINX_TEMPLATE_DEFAULT;

	/* an nginx template may carry its secret literally, as nginx's own does */
	if (o->scheme == VS_SIGN_NGINX && !strstr(t, "$secret"))
		return 0;
	if (!o->secret || o->secret_len == 0)
		return vs_fail(VS_ERR, VS_E_USAGE, "no signing key: set VS_SIGNING_KEY_FILE or --key-file");
	return 0;
}

/* ---- CloudFront ---- */

static void cf_b64(const unsigned char *in, int n, char *out)
{
	vs_codec_base64(in, (size_t)n, 0, out);
	for (char *c = out; *c; c++) /* CloudFront's URL-safe alphabet */
		*c = *c == '+' ? '-' : *c == '=' ? '_' : *c == '/' ? '~' : *c;
}

static int cf_unb64(const char *in, unsigned char **out, int *n)
{
	size_t len = strlen(in), k = 0;
	char *s = strdup(in);

	if (!s)
		return -1;
	for (char *c = s; *c; c++)
		*c = *c == '-' ? '+' : *c == '_' ? '=' : *c == '~' ? '/' : *c;
	*out = vs_codec_unbase64(s, len, 0, &k);
	free(s);
	*n = (int)k;
	return *out ? 0 : -1;
}

static char *cf_policy(const char *resource, long long expires)
{
	char *p = NULL;

	/* The canned form, exactly: no white space (CloudFront's documentation). */
	if (asprintf(&p, "{\"Statement\":[{\"Resource\":\"%s\",\"Condition\":{\"DateLessThan\":"
	                 "{\"AWS:EpochTime\":%lld}}}]}", resource, expires) < 0)
		return NULL;
	return p;
}

static int cf_sign(const struct vs_sign_opts *o, const char *policy, char **sig)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char *raw = NULL;
	size_t n = 0;
	int ret = VS_ERR;

	*sig = NULL;
	if (!o->private_key || !o->key_pair_id)
		return vs_fail(VS_ERR, VS_E_USAGE, "cloudfront needs --key-pair-id and --private-key");
	if (c && EVP_DigestSignInit(c, NULL, o->sha256 ? EVP_sha256() : EVP_sha1(), NULL, o->private_key->pkey) == 1 &&
	    EVP_DigestSign(c, NULL, &n, (const unsigned char *)policy, strlen(policy)) == 1 &&
	    (raw = malloc(n)) && EVP_DigestSign(c, raw, &n, (const unsigned char *)policy, strlen(policy)) == 1 &&
	    (*sig = malloc(n * 2 + 8))) {
		cf_b64(raw, (int)n, *sig);
		ret = 0;
	} else {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "cannot sign with the private key (is it RSA?)");
	}
	free(raw);
	EVP_MD_CTX_free(c);
	return ret;
}

/* Signs policy: *sig and *enc (the policy in CloudFront's base64), malloced. */
static int cf_sign_policy(const struct vs_sign_opts *o, const char *policy, char **sig, char **enc)
{
	int ret = cf_sign(o, policy, sig);

	*enc = NULL;
	if (ret < 0)
		return ret;
	*enc = malloc(strlen(policy) * 2 + 8);
	if (!*enc) {
		free(*sig);
		*sig = NULL;
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	cf_b64((const unsigned char *)policy, (int)strlen(policy), *enc);
	return 0;
}

static int sign_cloudfront(const char *url, long long expires, const struct vs_sign_opts *o,
                           char **signed_url, json_t **cookies)
{
	struct url u;
	char *scope = NULL, *wildcard = NULL, *policy = NULL, *sig = NULL, *enc = NULL;
	const char *sep = strchr(url, '?') ? "&" : "?";
	const char *alg = o->sha256 ? "&Hash-Algorithm=SHA256" : "";
	int ret = url_split(url, &u);

	if (ret < 0)
		return ret;
	scope = vs_sign_scope(url);
	/* custom policies and cookies cover the package's directory */
	if (!scope || asprintf(&wildcard, "%s%s*", u.origin, scope) < 0) {
		wildcard = NULL;
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	policy = cf_policy(o->custom_policy ? wildcard : url, expires);
	if (!policy || (ret = cf_sign_policy(o, policy, &sig, &enc)) < 0) {
		ret = policy ? ret : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	if (o->custom_policy)
		ret = asprintf(signed_url, "%s%sPolicy=%s&Signature=%s&Key-Pair-Id=%s%s", url, sep, enc, sig,
		               o->key_pair_id, alg);
	else
		ret = asprintf(signed_url, "%s%sExpires=%lld&Signature=%s&Key-Pair-Id=%s%s", url, sep,
		               expires, sig, o->key_pair_id, alg);
	if (ret < 0) {
		*signed_url = NULL;
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	ret = 0;
	if (cookies) {
		free(policy);
		free(sig);
		free(enc);
		sig = enc = NULL;
		policy = cf_policy(wildcard, expires);
		if (!policy || (ret = cf_sign_policy(o, policy, &sig, &enc)) < 0) {
			ret = policy ? ret : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			goto out;
		}
		*cookies = json_pack("{s:s,s:s,s:s}", "CloudFront-Policy", enc, "CloudFront-Signature",
		                     sig, "CloudFront-Key-Pair-Id", o->key_pair_id);
		if (o->sha256)
			json_object_set_new(*cookies, "CloudFront-Hash-Algorithm", json_string("SHA256"));
	}
out:
	if (ret < 0) {
		free(*signed_url);
		*signed_url = NULL;
	}
	free(enc);
	free(sig);
	free(policy);
	free(wildcard);
	free(scope);
	url_release(&u);
	return ret;
}

int vs_sign_url(const char *url, time_t expires_at, const struct vs_sign_opts *o, char **signed_url,
                json_t **cookies)
{
	long long expires = (long long)expires_at;
	struct url u;
	char *scope, token[64];
	int ret;

	*signed_url = NULL;
	if (cookies)
		*cookies = NULL;
	if (o->scheme == VS_SIGN_CLOUDFRONT)
		return sign_cloudfront(url, expires, o, signed_url, cookies);
	if ((ret = need_secret(o)) < 0 || (ret = url_split(url, &u)) < 0)
		return ret;
	scope = vs_sign_scope(url);
	if (o->scheme == VS_SIGN_HMAC) {
		hmac_token(o, expires, u.origin, scope, token);
	} else {
		char *text = nginx_text(o, expires, scope, u.path);

		if (!text) {
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			goto out;
		}
		vs_sign_nginx_md5(text, token);
		free(text);
	}
	if (o->scheme == VS_SIGN_NGINX && o->token_in_query)
		ret = asprintf(signed_url, "%s%s%smd5=%s&expires=%lld", u.origin, u.path,
		               *u.rest == '?' ? u.rest : "?", token, expires) < 0 ? -1 : 0;
	else
		ret = asprintf(signed_url, "%s/" VS_SIGN_TOKEN_PREFIX "/%lld/%s%s%s", u.origin, expires,
		               token, u.path, u.rest) < 0 ? -1 : 0;
	if (o->scheme == VS_SIGN_NGINX && o->token_in_query && *u.rest == '?' && *signed_url) {
		/* keep "?a=b" and add "&md5=…" */
		free(*signed_url);
		ret = asprintf(signed_url, "%s%s%s&md5=%s&expires=%lld", u.origin, u.path, u.rest, token,
		               expires) < 0 ? -1 : 0;
	}
	if (ret < 0) {
		*signed_url = NULL;
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
out:
	free(scope);
	url_release(&u);
	return ret;
}

/* ---- verification ---- */

static bool same(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && vs_codec_equal(a, b, n);
}

static const char *query_param(const char *rest, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *p = rest;

	while (p && *p) {
		p += *p == '?' || *p == '&';
		if (!strncmp(p, name, nl) && p[nl] == '=') {
			size_t len = strcspn(p + nl + 1, "&#");

			if (len >= n)
				return NULL;
			memcpy(out, p + nl + 1, len);
			out[len] = '\0';
			return out;
		}
		p = strchr(p, '&');
	}
	return NULL;
}

static bool digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int verify_path_token(const struct url *u, time_t now, const struct vs_sign_opts *o)
{
	const char *p = u->path;
	char exp_s[32], tok[128], want[64];
	const char *rest;
	size_t n;
	long long expires;
	bool ok = false;

	if (strncmp(p, "/" VS_SIGN_TOKEN_PREFIX "/", 3))
		return vs_fail(VS_ERR, VS_E_INVALID, "no signature in the path");
	p += 3;
	n = strcspn(p, "/");
	if (n == 0 || n >= sizeof(exp_s))
		return vs_fail(VS_ERR, VS_E_INVALID, "malformed signature");
	memcpy(exp_s, p, n);
	exp_s[n] = '\0';
	p += n;
	if (*p++ != '/' || !digits(exp_s))
		return vs_fail(VS_ERR, VS_E_INVALID, "malformed signature");
	n = strcspn(p, "/");
	if (n == 0 || n >= sizeof(tok) || p[n] != '/')
		return vs_fail(VS_ERR, VS_E_INVALID, "malformed signature");
	memcpy(tok, p, n);
	tok[n] = '\0';
	rest = p + n;
	expires = strtoll(exp_s, NULL, 10);
	/* The signature covers one directory of the rest of the path: try each,
	 * comparing every candidate in constant time. */
	for (const char *s = rest; *s; s++) {
		char *scope, *text;

		if (*s != '/')
			continue;
		scope = strndup(rest, (size_t)(s - rest) + 1);
		if (!scope)
			break;
		if (o->scheme == VS_SIGN_HMAC) {
			hmac_token(o, expires, u->origin, scope, want);
		} else {
			text = nginx_text(o, expires, scope, rest);
			if (text)
				vs_sign_nginx_md5(text, want);
			else
				want[0] = '\0';
			free(text);
		}
		ok |= same(tok, want);
		free(scope);
	}
	if (!ok)
		return vs_fail(VS_ERR, VS_E_INVALID, "the signature does not match");
	if (expires <= (long long)now)
		return vs_fail(VS_ERR, VS_E_INVALID, "the signature expired");
	return 0;
}

static int verify_cloudfront(const char *url, const struct url *u, time_t now,
                             const struct vs_sign_opts *o)
{
	char exp_s[32], sig[2048], kp[256], pol[8192];
	char *base = NULL, *policy = NULL;
	unsigned char *raw = NULL, *praw = NULL;
	int rawn = 0, pn = 0, ret = VS_ERR;
	bool custom = query_param(u->rest, "Policy", pol, sizeof(pol)) != NULL;
	long long expires = 0;
	EVP_MD_CTX *c = NULL;
	const char *cut;

	if (!query_param(u->rest, "Signature", sig, sizeof(sig)) ||
	    !query_param(u->rest, "Key-Pair-Id", kp, sizeof(kp)) ||
	    (!custom && !query_param(u->rest, "Expires", exp_s, sizeof(exp_s))))
		return vs_fail(VS_ERR, VS_E_INVALID, "no CloudFront signature in the URL");
	if (o->key_pair_id && !same(kp, o->key_pair_id))
		return vs_fail(VS_ERR, VS_E_INVALID, "another key pair signed it");
	cut = strstr(url, custom ? "Policy=" : "Expires=");
	base = strndup(url, (size_t)(cut - url - 1)); /* without the ? or & before */
	if (custom) {
		json_t *j;
		const char *res;

		if (cf_unb64(pol, &praw, &pn) < 0) {
			ret = vs_fail(VS_ERR, VS_E_INVALID, "malformed policy");
			goto out;
		}
		policy = strndup((char *)praw, (size_t)pn);
		j = policy ? json_loads(policy, 0, NULL) : NULL;
		{
			json_t *st = json_array_get(json_object_get(j, "Statement"), 0);

			res = json_string_value(json_object_get(st, "Resource"));
			expires = json_integer_value(json_object_get(
				json_object_get(json_object_get(st, "Condition"), "DateLessThan"),
				"AWS:EpochTime"));
		}
		if (!res || !*res || (res[strlen(res) - 1] == '*' ? strncmp(base, res, strlen(res) - 1) : strcmp(base, res))) {
			json_decref(j);
			ret = vs_fail(VS_ERR, VS_E_INVALID, "the policy does not cover this URL");
			goto out;
		}
		json_decref(j);
	} else {
		if (!digits(exp_s)) {
			ret = vs_fail(VS_ERR, VS_E_INVALID, "malformed Expires");
			goto out;
		}
		expires = strtoll(exp_s, NULL, 10);
		policy = cf_policy(base, expires);
	}
	if (!policy || cf_unb64(sig, &raw, &rawn) < 0 || !o->private_key) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "cannot check the signature (key missing?)");
		goto out;
	}
	c = EVP_MD_CTX_new();
	{
		char alg[16];
		bool sha256 = query_param(u->rest, "Hash-Algorithm", alg, sizeof(alg)) && !strcmp(alg, "SHA256");

		if (!c || EVP_DigestVerifyInit(c, NULL, sha256 ? EVP_sha256() : EVP_sha1(), NULL, o->private_key->pkey) != 1 ||
		    EVP_DigestVerify(c, raw, (size_t)rawn, (const unsigned char *)policy, strlen(policy)) != 1) {
			ret = vs_fail(VS_ERR, VS_E_INVALID, "the signature does not match");
			goto out;
		}
	}
	if (expires <= (long long)now) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "the signature expired");
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(c);
	free(raw);
	free(praw);
	free(policy);
	free(base);
	return ret;
}

/* True if path, percent-escapes decoded, has a "." or ".." segment: a
 * server that normalises it would serve another directory than the one
 * the signature covers (/t/E/S/vod/A/../B/x is B's file under A's token). */
static bool dot_segment(const char *path)
{
	for (const char *seg = path; seg && *seg; seg = strchr(seg + 1, '/')) {
		char buf[4];
		size_t n = 0;
		const char *c = seg + (*seg == '/');

		for (; *c && *c != '/' && n < 3; c++) {
			if (*c == '%' && isxdigit((unsigned char)c[1]) && isxdigit((unsigned char)c[2])) {
				char hex[3] = {c[1], c[2], '\0'};

				buf[n++] = (char)strtol(hex, NULL, 16);
				c += 2;
			} else {
				buf[n++] = *c;
			}
		}
		if (*c && *c != '/')
			continue; /* longer than ".." */
		if ((n == 1 && buf[0] == '.') || (n == 2 && buf[0] == '.' && buf[1] == '.'))
			return true;
		if (n > 0 && memchr(buf, '/', n))
			return true; /* an escaped '/' hides a segment */
		if (n > 0 && memchr(buf, '\\', n))
			return true;
	}
	return false;
}

int vs_sign_verify_url(const char *url, time_t now, const struct vs_sign_opts *o)
{
	struct url u;
	int ret = url_split(url, &u);

	if (ret < 0)
		return ret;
	if (dot_segment(u.path) || strstr(u.path, "%2f") || strstr(u.path, "%2F") || strstr(u.path, "%5c") ||
	    strstr(u.path, "%5C")) {
		url_release(&u);
		return vs_fail(VS_ERR, VS_E_INVALID, "the path has '.' or '..' segments or an escaped slash");
	}
	if (o->scheme == VS_SIGN_CLOUDFRONT) {
		ret = verify_cloudfront(url, &u, now, o);
	} else if ((ret = need_secret(o)) == 0) {
		if (o->scheme == VS_SIGN_NGINX && o->token_in_query) {
			char md5[64], exp_s[32], want[32], *text;

			if (!query_param(u.rest, "md5", md5, sizeof(md5)) ||
			    !query_param(u.rest, "expires", exp_s, sizeof(exp_s)) || !digits(exp_s)) {
				ret = vs_fail(VS_ERR, VS_E_INVALID, "no md5 and expires in the query");
			} else {
				char *scope = vs_sign_scope(url);

				text = nginx_text(o, strtoll(exp_s, NULL, 10), scope ? scope : "/", u.path);
				vs_sign_nginx_md5(text ? text : "", want);
				free(text);
				free(scope);
				if (!same(md5, want))
					ret = vs_fail(VS_ERR, VS_E_INVALID, "the signature does not match");
				else if (strtoll(exp_s, NULL, 10) <= (long long)now)
					ret = vs_fail(VS_ERR, VS_E_INVALID, "the signature expired");
			}
		} else {
			ret = verify_path_token(&u, now, o);
		}
	}
	url_release(&u);
	return ret;
}
