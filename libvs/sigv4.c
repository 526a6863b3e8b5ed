#include <ctype.h>

#include "codec.h"
#include "error.h"
#include "sigv4.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A query's name or value, percent-encoded, as SigV4 encodes it. */
static char *query_part(const char *encoded)
{
	char *plain = vs_codec_uri_decode(encoded, strlen(encoded)), *out = plain ? vs_codec_uri_encode(plain, false) : NULL;

	free(plain);
	return out;
}

/* "b=2&a=1" → "a=1&b=2", each name and value decoded, then encoded as
 * SigV4 wants (so an encoded query and a plain one give the same). */
char *vs_sigv4_canonical_query(const char *q)
{
	char **items = NULL, *out = NULL;
	size_t n = 0, len = 0;
	bool failed = false;
	FILE *f;

	/* Out of memory anywhere gives NULL: a pair left out would sign
	 * another request than the one sent. */
	for (const char *p = q ? q : ""; *p && !failed;) {
		size_t l = strcspn(p, "&");
		char *pair = strndup(p, l), *eq = pair ? strchr(pair, '=') : NULL;
		char *k = NULL, *v = NULL, **ni;

		if (pair && eq)
			*eq = '\0';
		if (pair) {
			k = query_part(pair);
			v = query_part(eq ? eq + 1 : "");
		}
		ni = realloc(items, sizeof(*items) * (n + 1));
		if (ni)
			items = ni;
		if (pair && k && v && ni && asprintf(&items[n], "%s=%s", k, v) >= 0)
			n++;
		else
			failed = true;
		free(k);
		free(v);
		free(pair);
		p += l;
		p += *p == '&';
	}
	if (n > 1)
		qsort(items, n, sizeof(*items), by_str);
	f = failed ? NULL : open_memstream(&out, &len);
	for (size_t i = 0; f && i < n; i++)
		fprintf(f, "%s%s", i ? "&" : "", items[i]);
	if (f && fclose(f) != 0) {
		free(out);
		out = NULL;
	}
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
	return out;
}

struct hdr {
	char *name, *value;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct hdr *)a)->name, ((const struct hdr *)b)->name);
}

/* canonical headers ("name:value\n"…) and signed headers ("a;b"). */
static int canonical_headers(const struct vs_sigv4 *r, char **canon, char **signed_names)
{
	struct hdr *h = calloc((size_t)r->n_headers + 1, sizeof(*h));
	char *c = NULL, *s = NULL;
	size_t cl = 0, sl = 0;
	FILE *fc = open_memstream(&c, &cl), *fs = open_memstream(&s, &sl);
	int n = 0;

	if (!h || !fc || !fs) {
		free(h);
		if (fc)
			fclose(fc);
		if (fs)
			fclose(fs);
		free(c);
		free(s);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	for (int i = 0; i < r->n_headers; i++) {
		const char *line = r->headers[i], *colon = strchr(line, ':');
		char *v, *o;

		if (!colon)
			continue;
		h[n].name = strndup(line, (size_t)(colon - line));
		for (char *p = h[n].name; p && *p; p++)
			*p = (char)tolower((unsigned char)*p);
		/* trim, and fold runs of spaces into one */
		v = h[n].value = strdup(colon + 1);
		o = v;
		for (const char *p = colon + 1; p && *p; p++) {
			if (*p == ' ' || *p == '\t') {
				if (o != v && o[-1] != ' ')
					*o++ = ' ';
			} else {
				*o++ = *p;
			}
		}
		while (o != v && o[-1] == ' ')
			o--;
		*o = '\0';
		n++;
	}
	qsort(h, (size_t)n, sizeof(*h), by_name);
	for (int i = 0; i < n; i++) {
		if (i > 0 && !strcmp(h[i].name, h[i - 1].name)) {
			fprintf(fc, ",%s", h[i].value); /* repeated header: values joined */
			continue;
		}
		fprintf(fc, "%s%s:%s", i ? "\n" : "", h[i].name, h[i].value);
		fprintf(fs, "%s%s", i ? ";" : "", h[i].name);
	}
	fputc('\n', fc);
	fclose(fc);
	fclose(fs);
	for (int i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
	*canon = c;
	*signed_names = s;
	return 0;
}

static void signing_key(const struct vs_sigv4 *r, unsigned char out[32])
{
	char *k = NULL;
	unsigned char a[32], b[32], c[32];

	if (asprintf(&k, "AWS4%s", r->secret_key) < 0)
		k = NULL;
	vs_codec_hmac_sha256(k ? k : "", k ? strlen(k) : 0, r->amz_date, 8, a);
	vs_codec_hmac_sha256(a, 32, r->region, strlen(r->region), b);
	vs_codec_hmac_sha256(b, 32, r->service, strlen(r->service), c);
	vs_codec_hmac_sha256(c, 32, "aws4_request", 12, out);
	free(k);
}

static int sign(const struct vs_sigv4 *r, const char *query, char **signed_names, char **signature,
                char **canonical, char **sts)
{
	char *cq = vs_sigv4_canonical_query(query), *ch = NULL, *creq = NULL, *s = NULL, hash[65];
	unsigned char key[32], sig[32];
	int ret;

	*signature = NULL;
	if (!cq || (ret = canonical_headers(r, &ch, signed_names)) < 0) {
		free(cq);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	if (asprintf(&creq, "%s\n%s\n%s\n%s\n%s\n%s", r->method, r->path, cq, ch, *signed_names,
	             r->payload_sha256 ? r->payload_sha256 : EMPTY_SHA256) < 0)
		creq = NULL;
	if (creq)
		vs_codec_sha256_hex(creq, strlen(creq), hash);
	if (!creq || asprintf(&s, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s", r->amz_date,
	                      r->amz_date, r->region, r->service, hash) < 0) {
		free(creq);
		free(cq);
		free(ch);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	signing_key(r, key);
	vs_codec_hmac_sha256(key, 32, s, strlen(s), sig);
	*signature = malloc(65);
	if (*signature)
		vs_codec_hex(sig, sizeof(sig), *signature);
	if (canonical)
		*canonical = creq;
	else
		free(creq);
	if (sts)
		*sts = s;
	else
		free(s);
	free(cq);
	free(ch);
	return *signature ? 0 : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
}

int vs_sigv4_authorization(const struct vs_sigv4 *r, char **authorization, char **canonical,
                           char **string_to_sign)
{
	char *names = NULL, *sig = NULL;
	int ret = sign(r, r->query, &names, &sig, canonical, string_to_sign);

	*authorization = NULL;
	if (ret == 0 &&
	    asprintf(authorization, "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, "
	                            "SignedHeaders=%s, Signature=%s",
	             r->access_key, r->amz_date, r->region, r->service, names, sig) < 0) {
		*authorization = NULL;
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	free(names);
	free(sig);
	return ret;
}

int vs_sigv4_presign(const struct vs_sigv4 *r, const char *scheme_host, int expires_s, char **url)
{
	struct vs_sigv4 p = *r;
	char *names = NULL, *sig = NULL, *query = NULL, *cred = NULL, *full = NULL;
	int ret;

	*url = NULL;
	/* the signed headers go into the query before it is signed */
	{
		char *c = NULL, *s = NULL;

		if ((ret = canonical_headers(r, &c, &s)) < 0)
			return ret;
		free(c);
		names = s;
	}
	if (asprintf(&cred, "%s/%.8s/%s/%s/aws4_request", r->access_key, r->amz_date, r->region,
	             r->service) < 0 ||
	    asprintf(&query, "%s%sX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s&X-Amz-Date=%s"
	                     "&X-Amz-Expires=%d&X-Amz-SignedHeaders=%s",
	             r->query && *r->query ? r->query : "", r->query && *r->query ? "&" : "", cred,
	             r->amz_date, expires_s, names) < 0) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	p.payload_sha256 = "UNSIGNED-PAYLOAD";
	free(names);
	names = NULL;
	if ((ret = sign(&p, query, &names, &sig, NULL, NULL)) < 0)
		goto out;
	full = vs_sigv4_canonical_query(query);
	if (!full || asprintf(url, "%s%s?%s&X-Amz-Signature=%s", scheme_host, r->path, full, sig) < 0) {
		*url = NULL;
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
out:
	free(full);
	free(names);
	free(sig);
	free(query);
	free(cred);
	return ret;
}
