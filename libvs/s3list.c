/*
 * Listing and deleting (s3.h): vs_s3_delete_prefix() lists a prefix (a
 * request signed here, not by libcurl) and deletes what it lists until
 * nothing is left; vs_s3_xml_text() reads the listing's keys.
 */
#include <unistd.h>

#include <curl/curl.h>

#include "codec.h"
#include "error.h"
#include "s3.h"
#include "s3req.h"
#include "sigv4.h"

/*
 * A GET whose query libcurl 7.88 signs wrongly (it signs encoded query
 * values as they are, where S3 encodes them once more): signed here with
 * libvs/sigv4 instead. query is encoded: "prefix=a%2Fb%26c%2F" (a value may
 * hold '&' or '=').
 */
static int get_signed_here(struct vs_s3 *s, struct vs_s3_req *r, const char *bucket, const char *query,
                           const char *what)
{
	char *base = vs_s3_url(s, bucket, ""), *url = NULL, *host = NULL, *path = NULL, *auth = NULL;
	char *hosthdr = NULL, *tokhdr = NULL, *authhdr = NULL, *enc = NULL;
	char date[32], datehdr[64];
	time_t now = time(NULL);
	struct tm tm;
	int ret = VS_ERR;

	if (!base)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	/* path-style bucket requests go to "/bucket", as the AWS SDKs send them */
	if (s->endpoint && base[strlen(base) - 1] == '/')
		base[strlen(base) - 1] = '\0';
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
	{
		const char *h = strstr(base, "://") + 3, *p = strchr(h, '/');

		host = strndup(h, (size_t)(p - h));
		path = strdup(p);
	}
	/* the headers as long as their values: a session token cut to fit a
	 * buffer would be signed as the store never sees it */
	if (!host || !path || asprintf(&hosthdr, "host:%s", host) < 0)
		hosthdr = NULL;
	if (s->token && asprintf(&tokhdr, "x-amz-security-token:%s", s->token) < 0)
		tokhdr = NULL;
	if (!hosthdr || (s->token && !tokhdr)) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	snprintf(datehdr, sizeof(datehdr), "x-amz-date:%s", date);
	{
		const char *hdrs[] = {hosthdr, datehdr,
		                      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		                      tokhdr};
		struct vs_sigv4 sv = {.method = "GET", .path = path, .query = query, .headers = hdrs,
		                      .n_headers = s->token ? 4 : 3, .region = s->region, .service = "s3",
		                      .amz_date = date, .access_key = s->access_key, .secret_key = s->secret_key};

		ret = vs_sigv4_authorization(&sv, &auth, NULL, NULL);
	}
	if (ret < 0)
		goto out;
	/* the same encoding the signature used */
	enc = vs_sigv4_canonical_query(query);
	if (!enc || asprintf(&url, "%s?%s", base, enc) < 0)
		url = NULL;
	if (!url || asprintf(&authhdr, "Authorization: %s", auth) < 0) {
		authhdr = NULL;
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	snprintf(datehdr, sizeof(datehdr), "x-amz-date: %s", date);
	for (int attempt = 0; attempt <= VS_S3_RETRIES; attempt++) {
		/* no x-amz-security-token: vs_s3_req_init() adds it, and a
		 * second one would make a value other than the one signed */
		const char *extra[] = {authhdr, datehdr, NULL};

		if (attempt > 0)
			usleep((useconds_t)VS_S3_BACKOFF_MS * 1000u << (attempt - 1));
		vs_s3_req_release(r);
		ret = vs_s3_req_init(s, r, "GET", url, NULL, 0, 0, NULL, extra);
		if (ret < 0)
			break;
		curl_easy_setopt(r->c, CURLOPT_AWS_SIGV4, NULL);
		curl_easy_setopt(r->c, CURLOPT_USERPWD, NULL);
		curl_easy_setopt(r->c, CURLOPT_HTTPAUTH, CURLAUTH_NONE);
		ret = vs_s3_outcome(r, curl_easy_perform(r->c), what);
		if (ret != VS_ETEMP)
			break;
	}
out:
	free(authhdr);
	free(enc);
	free(url);
	free(auth);
	free(tokhdr);
	free(hosthdr);
	free(path);
	free(host);
	free(base);
	return ret;
}

char *vs_s3_xml_text(const char *s, size_t n)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
	char *out = malloc(n * 4 + 1);
	size_t k = 0;

	for (size_t i = 0; out && i < n; i++) {
		bool done = s[i] != '&';

		if (done) {
			out[k++] = s[i];
			continue;
		}
		for (size_t e = 0; !done && e < VS_ARRAY_SIZE(named); e++)
			if (n - i - 1 >= strlen(named[e].name) && !strncmp(s + i + 1, named[e].name, strlen(named[e].name))) {
				out[k++] = named[e].c;
				i += strlen(named[e].name);
				done = true;
			}
		if (!done && i + 2 < n && s[i + 1] == '#') {
			char *end;
			bool hex = s[i + 2] == 'x';
			unsigned long cp = strtoul(s + i + 2 + hex, &end, hex ? 16 : 10);

			if (end > s + i + 2 + hex && (size_t)(end - s) < n && *end == ';' && cp > 0 && cp <= 0x10ffff &&
			    (cp < 0xd800 || cp > 0xdfff)) {
				/* UTF-8 */
				if (cp < 0x80) {
					out[k++] = (char)cp;
				} else if (cp < 0x800) {
					out[k++] = (char)(0xc0 | cp >> 6);
					out[k++] = (char)(0x80 | (cp & 0x3f));
				} else if (cp < 0x10000) {
					out[k++] = (char)(0xe0 | cp >> 12);
					out[k++] = (char)(0x80 | (cp >> 6 & 0x3f));
					out[k++] = (char)(0x80 | (cp & 0x3f));
				} else {
					out[k++] = (char)(0xf0 | cp >> 18);
					out[k++] = (char)(0x80 | (cp >> 12 & 0x3f));
					out[k++] = (char)(0x80 | (cp >> 6 & 0x3f));
					out[k++] = (char)(0x80 | (cp & 0x3f));
				}
				i = (size_t)(end - s);
				done = true;
			}
		}
		if (!done) {
			free(out);
			return NULL;
		}
	}
	if (out)
		out[k] = '\0';
	return out;
}

int vs_s3_delete_prefix(struct vs_s3 *s, const char *bucket, const char *prefix, int *count)
{
	char *first = NULL; /* the first key of the last listing */
	char *base = vs_s3_url(s, bucket, ""), *url = NULL, *enc = vs_codec_uri_encode(prefix, false);
	struct vs_s3_req r = {0};
	int ret = 0;

	*count = 0;
	if (!base || !enc) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	for (;;) {
		const char *p;
		int found = 0;
		bool again = false;

		free(url);
		if (asprintf(&url, "list-type=2&prefix=%s", enc) < 0) {
			url = NULL;
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			break;
		}
		ret = get_signed_here(s, &r, bucket, url, "list");
		if (ret < 0)
			break;
		for (p = r.resp.data ? strstr(r.resp.data, "<Key>") : NULL; p; p = strstr(p + 5, "<Key>")) {
			const char *e = strstr(p, "</Key>");
			char *key, *ourl;
			struct vs_s3_req d = {0};

			if (!e)
				break;
			if (!(key = vs_s3_xml_text(p + 5, (size_t)(e - p - 5)))) {
				ret = vs_fail(VS_ERR, VS_E_DOWNLOAD, "list: a key the store lists is not XML text");
				break;
			}
			if (found == 0) {
				/* a listing that begins where the last one did: the
				 * deletes did not take, and looping would never end */
				again = first && !strcmp(first, key);
				free(first);
				first = strdup(key);
				if (!first) { /* without it, nothing stops the loop */
					ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
					free(key);
					break;
				}
			}
			if (again) {
				ret = vs_fail(VS_ERR, VS_E_DOWNLOAD, "list: '%s' is listed again after its delete", key);
				free(key);
				break;
			}
			ourl = vs_s3_url(s, bucket, key);
			ret = ourl ? vs_s3_run(s, &d, "DELETE", ourl, NULL, 0, 0, NULL, NULL, key)
			           : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			vs_s3_req_release(&d);
			free(ourl);
			free(key);
			if (ret < 0)
				break;
			found++;
			(*count)++;
		}
		if (ret < 0 || found == 0)
			break;
	}
out:
	vs_s3_req_release(&r);
	free(first);
	free(url);
	free(enc);
	free(base);
	return ret;
}
