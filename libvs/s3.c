/*
 * The S3 client (s3.h) and its requests (s3req.h): the credentials, the
 * URLs, one request signed by libcurl and run with retries, HEAD and GET of
 * one object. Uploads are in s3upload.c, listing and deleting in s3list.c.
 */
#include <ctype.h>
#include <pthread.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "codec.h"
#include "error.h"
#include "s3.h"
#include "s3req.h"
#include "sigv4.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const char *env2(const char *a, const char *b)
{
	const char *v = getenv(a);

	if (!v || !*v)
		v = b ? getenv(b) : NULL;
	return v && *v ? v : NULL;
}

int vs_s3_open(struct vs_s3 **out)
{
	struct vs_s3 *s = calloc(1, sizeof(*s));
	const char *ep = env2("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
	const char *region = env2("AWS_REGION", "AWS_DEFAULT_REGION");
	const char *key = env2("AWS_ACCESS_KEY_ID", NULL), *secret = env2("AWS_SECRET_ACCESS_KEY", NULL);
	const char *token = env2("AWS_SESSION_TOKEN", NULL);

	*out = NULL;
	if (!s)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if (!key || !secret) {
		free(s);
		return vs_fail(VS_ERR, VS_E_USAGE, "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
	}
	pthread_once(&curl_once, curl_init);
	s->endpoint = ep ? strdup(ep) : NULL;
	while (s->endpoint && *s->endpoint && s->endpoint[strlen(s->endpoint) - 1] == '/')
		s->endpoint[strlen(s->endpoint) - 1] = '\0';
	s->region = strdup(region ? region : "us-east-1");
	s->access_key = strdup(key);
	s->secret_key = strdup(secret);
	s->token = token ? strdup(token) : NULL;
	if (!s->region || asprintf(&s->sigv4, "aws:amz:%s:s3", s->region) < 0)
		s->sigv4 = NULL;
	if (asprintf(&s->userpwd, "%s:%s", key, secret) < 0)
		s->userpwd = NULL;
	if ((ep && !s->endpoint) || !s->region || !s->access_key || !s->secret_key || (token && !s->token) ||
	    !s->sigv4 || !s->userpwd) {
		vs_s3_close(s);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	s->multipart_threshold = VS_S3_MULTIPART_THRESHOLD;
	*out = s;
	return 0;
}

void vs_s3_close(struct vs_s3 *s)
{
	if (!s)
		return;
	free(s->endpoint);
	free(s->region);
	free(s->access_key);
	free(s->secret_key);
	free(s->token);
	free(s->sigv4);
	free(s->userpwd);
	free(s);
}

void vs_s3_set_multipart_threshold(struct vs_s3 *s, long long bytes)
{
	s->multipart_threshold = bytes;
}

char *vs_s3_url(const struct vs_s3 *s, const char *bucket, const char *key)
{
	char *k = vs_codec_uri_encode(key ? key : "", true), *url = NULL;
	int r;

	if (!k)
		return NULL;
	if (s->endpoint)
		r = asprintf(&url, "%s/%s/%s", s->endpoint, bucket, k);
	else
		r = asprintf(&url, "https://%s.s3.%s.amazonaws.com/%s", bucket, s->region, k);
	free(k);
	return r < 0 ? NULL : url;
}

/* ---- one request ---- */

static size_t on_write(char *p, size_t sz, size_t n, void *u)
{
	struct vs_s3_buf *b = u;
	size_t len = sz * n;
	char *nd;

	if (b->len + len > (8u << 20))
		return 0; /* responses are small XML */
	nd = realloc(b->data, b->len + len + 1);
	if (!nd)
		return 0;
	b->data = nd;
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

static void header_value(const char *line, size_t len, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *v;
	size_t vl;

	if (len <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
		return;
	v = line + nl + 1;
	while (*v == ' ')
		v++;
	vl = (size_t)(line + len - v);
	while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
		vl--;
	if (vl > 1 && v[0] == '"' && v[vl - 1] == '"') {
		v++;
		vl -= 2;
	}
	snprintf(out, n, "%.*s", (int)vl, v);
}

static size_t on_header(char *p, size_t sz, size_t n, void *u)
{
	struct vs_s3_req *r = u;
	size_t len = sz * n;
	char cl[32] = "";

	header_value(p, len, "ETag", r->etag, sizeof(r->etag));
	header_value(p, len, "Content-Type", r->ctype, sizeof(r->ctype));
	header_value(p, len, "Content-Length", cl, sizeof(cl));
	if (cl[0])
		r->clen = atoll(cl);
	return len;
}

int vs_s3_digest_file(const char *path, long long off, long long len, char sha[65], char md5[33])
{
	FILE *f = fopen(path, "rb");
	EVP_MD_CTX *a = EVP_MD_CTX_new(), *b = EVP_MD_CTX_new();
	unsigned char buf[65536], ma[32], mb[16];
	unsigned int na = 0, nb = 0;
	int ret = -1;

	if (!f || !a || !b || fseek(f, off, SEEK_SET) != 0)
		goto out;
	EVP_DigestInit_ex(a, EVP_sha256(), NULL);
	EVP_DigestInit_ex(b, EVP_md5(), NULL);
	while (len > 0) {
		size_t want = len < (long long)sizeof(buf) ? (size_t)len : sizeof(buf);
		size_t got = fread(buf, 1, want, f);

		if (got == 0)
			goto out;
		EVP_DigestUpdate(a, buf, got);
		EVP_DigestUpdate(b, buf, got);
		len -= (long long)got;
	}
	EVP_DigestFinal_ex(a, ma, &na);
	EVP_DigestFinal_ex(b, mb, &nb);
	vs_codec_hex(ma, 32, sha);
	vs_codec_hex(mb, 16, md5);
	ret = 0;
out:
	if (f)
		fclose(f);
	EVP_MD_CTX_free(a);
	EVP_MD_CTX_free(b);
	return ret;
}

void vs_s3_req_release(struct vs_s3_req *r)
{
	if (r->c)
		curl_easy_cleanup(r->c);
	curl_slist_free_all(r->h);
	if (r->body)
		fclose(r->body);
	free(r->resp.data);
	memset(r, 0, sizeof(*r));
}

/* VS_DEBUG's trace (CURLOPT_DEBUGFUNCTION): what libcurl's verbose mode
 * prints, but the request headers that carry credentials (Authorization,
 * X-Amz-Security-Token) show their name only. */
static int debug_redacted(CURL *c, curl_infotype type, char *data, size_t size, void *u)
{
	static const char *const secret[] = {"authorization:", "x-amz-security-token:", "proxy-authorization:"};
	const char *mark = type == CURLINFO_TEXT ? "*" : type == CURLINFO_HEADER_IN ? "<" :
	                   type == CURLINFO_HEADER_OUT ? ">" : NULL;

	(void)c;
	(void)u;
	if (!mark)
		return 0; /* bodies and TLS data stay out of the trace */
	for (size_t at = 0; at < size;) {
		const char *line = data + at;
		size_t n = 0;

		while (at + n < size && line[n] != '\n')
			n++;
		if (n > 0 || at + n < size) {
			size_t k = 0;

			for (size_t i = 0; type == CURLINFO_HEADER_OUT && i < VS_ARRAY_SIZE(secret); i++)
				if (n >= strlen(secret[i]) && !strncasecmp(line, secret[i], strlen(secret[i])))
					k = strlen(secret[i]);
			if (k)
				fprintf(stderr, "%s %.*s <redacted>\n", mark, (int)k, line);
			else
				fprintf(stderr, "%s %.*s\n", mark, (int)(n && line[n - 1] == '\r' ? n - 1 : n), line);
		}
		at += n + 1;
	}
	return 0;
}

/* Appends line (copied; NULL: out of memory already) to r's headers, which
 * stay whole when it fails. */
static int add_header(struct vs_s3_req *r, const char *line)
{
	struct curl_slist *l = line ? curl_slist_append(r->h, line) : NULL;

	if (!l)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	r->h = l;
	return 0;
}

int vs_s3_req_init(struct vs_s3 *s, struct vs_s3_req *r, const char *method, const char *url,
                   const char *path, long long off, long long len, const char *mem,
                   const char *const *extra)
{
	char sha[65] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", md5[33], *h = NULL;
	int ret;

	memset(r, 0, sizeof(*r));
	r->c = curl_easy_init();
	if (!r->c)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "cannot start libcurl");
	if (path) {
		if (vs_s3_digest_file(path, off, len, sha, md5) < 0 || !(r->body = fopen(path, "rb")) ||
		    fseek(r->body, off, SEEK_SET) != 0)
			return vs_fail(VS_ERR, VS_E_IO, "cannot read '%s': %s", path, strerror(errno));
	} else if (mem) {
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		unsigned char d[32];
		unsigned int n = 0;

		if (!c)
			return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		EVP_DigestInit_ex(c, EVP_sha256(), NULL);
		EVP_DigestUpdate(c, mem, strlen(mem));
		EVP_DigestFinal_ex(c, d, &n);
		EVP_MD_CTX_free(c);
		vs_codec_hex(d, 32, sha);
	}
	/* libcurl 7.88 signs what it sends but does not add this one */
	if (asprintf(&h, "x-amz-content-sha256: %s", sha) < 0)
		h = NULL;
	ret = add_header(r, h);
	free(h);
	if (ret == 0 && s->token) {
		if (asprintf(&h, "x-amz-security-token: %s", s->token) < 0)
			h = NULL;
		ret = add_header(r, h);
		free(h);
	}
	for (int i = 0; ret == 0 && extra && extra[i]; i++)
		ret = add_header(r, extra[i]);
	if (ret < 0)
		return ret;
	/* No "Expect:" to remove 100-continue: libcurl 7.88 would sign the
	 * empty header it does not send. */
	curl_easy_setopt(r->c, CURLOPT_EXPECT_100_TIMEOUT_MS, 200L);
	curl_easy_setopt(r->c, CURLOPT_URL, url);
	curl_easy_setopt(r->c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->c, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(r->c, CURLOPT_USERPWD, s->userpwd);
	curl_easy_setopt(r->c, CURLOPT_HTTPHEADER, r->h);
	curl_easy_setopt(r->c, CURLOPT_CONNECTTIMEOUT, (long)VS_S3_CONNECT_TIMEOUT_S);
	curl_easy_setopt(r->c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(r->c, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(r->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->c, CURLOPT_ERRORBUFFER, r->err);
	curl_easy_setopt(r->c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(r->c, CURLOPT_WRITEDATA, &r->resp);
	curl_easy_setopt(r->c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->c, CURLOPT_PRIVATE, r);
	if (getenv("VS_DEBUG") && *getenv("VS_DEBUG") && strcmp(getenv("VS_DEBUG"), "0")) {
		/* the requests, on stderr, without their credentials */
		curl_easy_setopt(r->c, CURLOPT_DEBUGFUNCTION, debug_redacted);
		curl_easy_setopt(r->c, CURLOPT_VERBOSE, 1L);
	}
	/* The method by name too: libcurl 7.88's signer takes it from there,
	 * and signs a NOBODY request as GET otherwise. */
	curl_easy_setopt(r->c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(r->c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "PUT")) {
		curl_easy_setopt(r->c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(r->c, CURLOPT_READDATA, r->body);
		curl_easy_setopt(r->c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(path ? len : 0));
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(r->c, CURLOPT_POST, 1L);
		curl_easy_setopt(r->c, CURLOPT_COPYPOSTFIELDS, mem ? mem : "");
	} else {
		curl_easy_setopt(r->c, CURLOPT_CUSTOMREQUEST, method);
	}
	return 0;
}

static bool transient_curl(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	       rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
	       rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE;
}

/* The store's error code from an XML error body: <Code>…</Code>. */
static void s3_error_code(const struct vs_s3_buf *b, char *out, size_t n)
{
	const char *p = b->data ? strstr(b->data, "<Code>") : NULL, *e = p ? strstr(p, "</Code>") : NULL;

	if (p && e)
		snprintf(out, n, "%.*s", (int)(e - p - 6), p + 6);
	else
		snprintf(out, n, "no error code");
}

int vs_s3_outcome(struct vs_s3_req *r, CURLcode rc, const char *what)
{
	long status = 0;
	char code[128];

	if (rc != CURLE_OK)
		return vs_fail(transient_curl(rc) ? VS_ETEMP : VS_ERR, VS_E_UNAVAILABLE,
		               "%s: %s", what, r->err[0] ? r->err : curl_easy_strerror(rc));
	curl_easy_getinfo(r->c, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300)
		return 0;
	s3_error_code(&r->resp, code, sizeof(code));
	if (getenv("VS_DEBUG") && r->resp.data)
		fprintf(stderr, "%s\n", r->resp.data); /* the store's own account of it */
	if (status >= 500 || status == 429 || status == 408)
		return vs_fail(VS_ETEMP, VS_E_UNAVAILABLE, "%s: HTTP %ld (%s)", what, status, code);
	return vs_fail(VS_ERR, status == 404 ? VS_E_NOT_FOUND : VS_E_DOWNLOAD, "%s: HTTP %ld (%s)", what,
	               status, code);
}

int vs_s3_run(struct vs_s3 *s, struct vs_s3_req *r, const char *method, const char *url,
              const char *path, long long off, long long len, const char *mem,
              const char *const *extra, const char *what)
{
	int ret = VS_ERR;

	for (int attempt = 0; attempt <= VS_S3_RETRIES; attempt++) {
		if (attempt > 0)
			usleep((useconds_t)VS_S3_BACKOFF_MS * 1000u << (attempt - 1));
		vs_s3_req_release(r);
		ret = vs_s3_req_init(s, r, method, url, path, off, len, mem, extra);
		if (ret < 0)
			return ret;
		ret = vs_s3_outcome(r, curl_easy_perform(r->c), what);
		if (ret != VS_ETEMP)
			break;
	}
	return ret;
}

/* S3's rules for bucket names: the name becomes a host name. */
static bool bucket_name_ok(const char *b, size_t n)
{
	if (n < 3 || n > 63 || !isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!islower((unsigned char)b[i]) && !isdigit((unsigned char)b[i]) && b[i] != '.' && b[i] != '-')
			return false;
		if (i > 0 && b[i] == '.' && (b[i - 1] == '.' || b[i - 1] == '-'))
			return false;
		if (i > 0 && b[i] == '-' && b[i - 1] == '.')
			return false;
	}
	return true;
}

int vs_s3_parse_url(const char *url, char **bucket, char **prefix)
{
	const char *b, *slash, *p;
	size_t bl, pl;

	*bucket = *prefix = NULL;
	if (!url || strncmp(url, "s3://", 5))
		return vs_fail(VS_ERR, VS_E_USAGE, "'%s' is not an s3:// URL", url ? url : "");
	b = url + 5;
	slash = strchr(b, '/');
	bl = slash ? (size_t)(slash - b) : strlen(b);
	p = slash ? slash + 1 : "";
	pl = strlen(p);
	while (pl > 0 && p[pl - 1] == '/')
		pl--;
	if (bl == 0)
		return vs_fail(VS_ERR, VS_E_USAGE, "'%s' names no bucket", url);
	if (!bucket_name_ok(b, bl))
		return vs_fail(VS_ERR, VS_E_USAGE,
		               "'%.*s' is not a bucket name: 3 to 63 lowercase letters, digits, '.' and '-', "
		               "beginning and ending with a letter or digit", (int)bl, b);
	*bucket = strndup(b, bl);
	if (asprintf(prefix, "%.*s%s", (int)pl, p, pl ? "/" : "") < 0)
		*prefix = NULL;
	return *bucket && *prefix ? 0 : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
}

static size_t to_file(char *p, size_t sz, size_t n, void *u)
{
	return fwrite(p, sz, n, u);
}

int vs_s3_download(struct vs_s3 *s, const char *bucket, const char *key, const char *path)
{
	char *url = vs_s3_url(s, bucket, key), *tmp = NULL;
	struct vs_s3_req r = {0};
	FILE *f = NULL;
	int ret = VS_ERR;

	if (!url || asprintf(&tmp, "%s.download-%ld", path, (long)getpid()) < 0) {
		free(url);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	for (int attempt = 0; attempt <= VS_S3_RETRIES; attempt++) {
		if (attempt > 0)
			usleep((useconds_t)VS_S3_BACKOFF_MS * 1000u << (attempt - 1));
		if (f)
			fclose(f);
		if (!(f = fopen(tmp, "wb"))) {
			ret = vs_fail(VS_ERR, VS_E_IO, "cannot create '%s': %s", tmp, strerror(errno));
			break;
		}
		vs_s3_req_release(&r);
		if ((ret = vs_s3_req_init(s, &r, "GET", url, NULL, 0, 0, NULL, NULL)) < 0)
			break;
		/* the body to the file; an error's body is short and unread */
		curl_easy_setopt(r.c, CURLOPT_WRITEFUNCTION, to_file);
		curl_easy_setopt(r.c, CURLOPT_WRITEDATA, f);
		ret = vs_s3_outcome(&r, curl_easy_perform(r.c), key);
		if (ret != VS_ETEMP)
			break;
	}
	if (f && fclose(f) != 0 && ret == 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot write '%s': %s", tmp, strerror(errno));
	if (ret == 0 && rename(tmp, path) != 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot rename '%s': %s", tmp, strerror(errno));
	if (ret < 0)
		unlink(tmp);
	vs_s3_req_release(&r);
	free(tmp);
	free(url);
	return ret;
}

int vs_s3_head(struct vs_s3 *s, const char *bucket, const char *key, bool *exists, long long *size,
               char *etag, size_t etag_n, char *ctype, size_t ctype_n)
{
	struct vs_s3_req r = {0};
	char *url = vs_s3_url(s, bucket, key);
	int ret;

	*exists = false;
	if (!url)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	ret = vs_s3_run(s, &r, "HEAD", url, NULL, 0, 0, NULL, NULL, key);
	if (ret == 0) {
		*exists = true;
		*size = r.clen;
		if (etag)
			snprintf(etag, etag_n, "%s", r.etag);
		if (ctype)
			snprintf(ctype, ctype_n, "%s", r.ctype);
	} else if (!strcmp(vs_error_code(), VS_E_NOT_FOUND)) {
		ret = 0;
	}
	vs_s3_req_release(&r);
	free(url);
	return ret;
}
