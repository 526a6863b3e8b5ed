#include <ctype.h>
#include <pthread.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "error.h"
#include "fsutil.h"
#include "s3.h"
#include "sigv4.h"

struct vs_s3 {
	char *endpoint;     /* "http://127.0.0.1:4568", or NULL for AWS */
	char *region, *access_key, *secret_key, *token;
	char sigv4[128];    /* "aws:amz:REGION:s3" */
	char *userpwd;
	long long multipart_threshold;
};

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
	s->token = env2("AWS_SESSION_TOKEN", NULL) ? strdup(getenv("AWS_SESSION_TOKEN")) : NULL;
	snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", s->region);
	if (asprintf(&s->userpwd, "%s:%s", key, secret) < 0)
		s->userpwd = NULL;
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
	free(s->userpwd);
	free(s);
}

void vs_s3_set_multipart_threshold(struct vs_s3 *s, long long bytes)
{
	s->multipart_threshold = bytes;
}

char *vs_s3_url(const struct vs_s3 *s, const char *bucket, const char *key)
{
	char *k = vs_uri_encode(key ? key : "", true), *url = NULL;
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

struct buf {
	char *data;
	size_t len;
};

struct req {
	CURL *c;
	struct curl_slist *h;
	struct buf resp;
	FILE *body;          /* the upload's data, or NULL */
	char etag[128], ctype[128];
	long long clen;
	char err[CURL_ERROR_SIZE];
};

static size_t on_write(char *p, size_t sz, size_t n, void *u)
{
	struct buf *b = u;
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
	struct req *r = u;
	size_t len = sz * n;
	char cl[32] = "";

	header_value(p, len, "ETag", r->etag, sizeof(r->etag));
	header_value(p, len, "Content-Type", r->ctype, sizeof(r->ctype));
	header_value(p, len, "Content-Length", cl, sizeof(cl));
	if (cl[0])
		r->clen = atoll(cl);
	return len;
}

static void hexs(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

/* SHA-256 and MD5 of a file region, hex. */
static int digest_file(const char *path, long long off, long long len, char sha[65], char md5[33])
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
	hexs(ma, 32, sha);
	hexs(mb, 16, md5);
	ret = 0;
out:
	if (f)
		fclose(f);
	EVP_MD_CTX_free(a);
	EVP_MD_CTX_free(b);
	return ret;
}

static void req_release(struct req *r)
{
	if (r->c)
		curl_easy_cleanup(r->c);
	curl_slist_free_all(r->h);
	if (r->body)
		fclose(r->body);
	free(r->resp.data);
	memset(r, 0, sizeof(*r));
}

/*
 * Prepares a request. Body: the file region (path, off, len) or mem, or
 * none. extra: more headers, NULL-terminated.
 */
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

static int req_init(struct vs_s3 *s, struct req *r, const char *method, const char *url,
                    const char *path, long long off, long long len, const char *mem,
                    const char *const *extra)
{
	char sha[65] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", md5[33], *h = NULL;

	memset(r, 0, sizeof(*r));
	r->c = curl_easy_init();
	if (!r->c)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "cannot start libcurl");
	if (path) {
		if (digest_file(path, off, len, sha, md5) < 0 || !(r->body = fopen(path, "rb")) ||
		    fseek(r->body, off, SEEK_SET) != 0)
			return vs_fail(VS_ERR, VS_E_IO, "cannot read '%s': %s", path, strerror(errno));
	} else if (mem) {
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		unsigned char d[32];
		unsigned int n = 0;

		EVP_DigestInit_ex(c, EVP_sha256(), NULL);
		EVP_DigestUpdate(c, mem, strlen(mem));
		EVP_DigestFinal_ex(c, d, &n);
		EVP_MD_CTX_free(c);
		hexs(d, 32, sha);
	}
	/* libcurl 7.88 signs what it sends but does not add this one */
	if (asprintf(&h, "x-amz-content-sha256: %s", sha) >= 0)
		r->h = curl_slist_append(r->h, h);
	free(h);
	if (s->token && asprintf(&h, "x-amz-security-token: %s", s->token) >= 0) {
		r->h = curl_slist_append(r->h, h);
		free(h);
	}
	for (int i = 0; extra && extra[i]; i++)
		r->h = curl_slist_append(r->h, extra[i]);
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
static void s3_error_code(const struct buf *b, char *out, size_t n)
{
	const char *p = b->data ? strstr(b->data, "<Code>") : NULL, *e = p ? strstr(p, "</Code>") : NULL;

	if (p && e)
		snprintf(out, n, "%.*s", (int)(e - p - 6), p + 6);
	else
		snprintf(out, n, "no error code");
}

/* Classifies a finished request: 0, VS_ERR, or VS_ETEMP (retry). */
static int outcome(struct req *r, CURLcode rc, const char *what)
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

/* Runs a request to the end, with retries and backoff on transient failures.
 * Leaves r set up (for headers and body) on return. */
static int run(struct vs_s3 *s, struct req *r, const char *method, const char *url,
               const char *path, long long off, long long len, const char *mem,
               const char *const *extra, const char *what)
{
	int ret = VS_ERR;

	for (int attempt = 0; attempt <= VS_S3_RETRIES; attempt++) {
		if (attempt > 0)
			usleep((useconds_t)VS_S3_BACKOFF_MS * 1000u << (attempt - 1));
		req_release(r);
		ret = req_init(s, r, method, url, path, off, len, mem, extra);
		if (ret < 0)
			return ret;
		ret = outcome(r, curl_easy_perform(r->c), what);
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
	struct req r = {0};
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
		req_release(&r);
		if ((ret = req_init(s, &r, "GET", url, NULL, 0, 0, NULL, NULL)) < 0)
			break;
		/* the body to the file; an error's body is short and unread */
		curl_easy_setopt(r.c, CURLOPT_WRITEFUNCTION, to_file);
		curl_easy_setopt(r.c, CURLOPT_WRITEDATA, f);
		ret = outcome(&r, curl_easy_perform(r.c), key);
		if (ret != VS_ETEMP)
			break;
	}
	if (f && fclose(f) != 0 && ret == 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot write '%s': %s", tmp, strerror(errno));
	if (ret == 0 && rename(tmp, path) != 0)
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot rename '%s': %s", tmp, strerror(errno));
	if (ret < 0)
		unlink(tmp);
	req_release(&r);
	free(tmp);
	free(url);
	return ret;
}

int vs_s3_head(struct vs_s3 *s, const char *bucket, const char *key, bool *exists, long long *size,
               char *etag, size_t etag_n, char *ctype, size_t ctype_n)
{
	struct req r = {0};
	char *url = vs_s3_url(s, bucket, key);
	int ret;

	*exists = false;
	if (!url)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	ret = run(s, &r, "HEAD", url, NULL, 0, 0, NULL, NULL, key);
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
	req_release(&r);
	free(url);
	return ret;
}

/* The ETag S3 gives an object uploaded in parts of part bytes. */
static int multipart_etag(const char *path, long long size, long long part, char *out, size_t n)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char md[16];
	unsigned int k = 0;
	int parts = 0;

	EVP_DigestInit_ex(c, EVP_md5(), NULL);
	for (long long off = 0; off < size; off += part, parts++) {
		char sha[65], md5[33];
		unsigned char raw[16];

		if (digest_file(path, off, size - off < part ? size - off : part, sha, md5) < 0) {
			EVP_MD_CTX_free(c);
			return -1;
		}
		for (int i = 0; i < 16; i++) {
			unsigned int b;

			sscanf(md5 + 2 * i, "%2x", &b);
			raw[i] = (unsigned char)b;
		}
		EVP_DigestUpdate(c, raw, 16);
	}
	EVP_DigestFinal_ex(c, md, &k);
	EVP_MD_CTX_free(c);
	hexs(md, 16, out);
	snprintf(out + 32, n - 32, "-%d", parts);
	return 0;
}

static int put_multipart(struct vs_s3 *s, const char *bucket, struct vs_s3_object *o)
{
	char *url = vs_s3_url(s, bucket, o->key), *u = NULL, *xml = NULL, *id = NULL;
	char ct[256], cc[256];
	const char *extra[] = {ct, cc, NULL};
	struct req r = {0};
	size_t xl = 0;
	FILE *x = NULL;
	long long part = s->multipart_threshold;
	int ret, n = 0;

	snprintf(ct, sizeof(ct), "Content-Type: %s", o->content_type);
	snprintf(cc, sizeof(cc), "Cache-Control: %s", o->cache_control);
	if (!url || asprintf(&u, "%s?uploads=", url) < 0) { /* "=": libcurl signs it so */
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	ret = run(s, &r, "POST", u, NULL, 0, 0, "", extra, o->key);
	if (ret < 0)
		goto out;
	{
		const char *a = r.resp.data ? strstr(r.resp.data, "<UploadId>") : NULL;
		const char *b = a ? strstr(a, "</UploadId>") : NULL;

		if (!a || !b) {
			ret = vs_fail(VS_ERR, VS_E_DOWNLOAD, "%s: no UploadId in the answer", o->key);
			goto out;
		}
		id = strndup(a + 10, (size_t)(b - a - 10));
	}
	x = open_memstream(&xml, &xl);
	fputs("<CompleteMultipartUpload>", x);
	for (long long off = 0; off < o->size && ret == 0; off += part) {
		long long len = o->size - off < part ? o->size - off : part;

		free(u);
		if (asprintf(&u, "%s?partNumber=%d&uploadId=%s", url, ++n, id) < 0) {
			u = NULL;
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			break;
		}
		ret = run(s, &r, "PUT", u, o->path, off, len, NULL, NULL, o->key);
		if (ret == 0)
			fprintf(x, "<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>", n, r.etag);
	}
	fputs("</CompleteMultipartUpload>", x);
	fclose(x);
	free(u);
	u = NULL;
	if (ret == 0 && asprintf(&u, "%s?uploadId=%s", url, id) >= 0)
		ret = run(s, &r, "POST", u, NULL, 0, 0, xml, NULL, o->key);
	if (ret == 0 && r.resp.data && strstr(r.resp.data, "<Error>"))
		ret = vs_fail(VS_ERR, VS_E_DOWNLOAD, "%s: the store refused to complete the upload", o->key);
	if (ret < 0 && id && u) { /* do not leave parts behind */
		int keep = ret;
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", vs_error_message());
		run(s, &r, "DELETE", u, NULL, 0, 0, NULL, NULL, o->key);
		vs_fail(keep, VS_E_DOWNLOAD, "%s", msg);
		ret = keep;
	}
out:
	req_release(&r);
	free(xml);
	free(id);
	free(u);
	free(url);
	return ret;
}

/* Uploads the objects of one stage, VS_S3_PARALLEL at a time. */
static int upload_stage(struct vs_s3 *s, const char *bucket, struct vs_s3_object **objs, int n)
{
	CURLM *m = curl_multi_init();
	struct req *reqs = calloc((size_t)n, sizeof(*reqs));
	int *tries = calloc((size_t)n, sizeof(int));
	int next = 0, running = 0, active = 0, ret = 0;
	char failed[512] = "", failed_code[32] = "";
	char **urls = calloc((size_t)n, sizeof(char *));
	char (*hdr)[2][256] = calloc((size_t)n, sizeof(*hdr));

	if (!m || !reqs || !tries || !urls || !hdr) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)VS_S3_PARALLEL);
	while (ret == 0 && (next < n || active > 0)) {
		CURLMsg *msg;
		int left;

		while (ret == 0 && next < n && active < VS_S3_PARALLEL) {
			struct vs_s3_object *o = objs[next];
			const char *extra[] = {hdr[next][0], hdr[next][1], NULL};

			snprintf(hdr[next][0], 256, "Content-Type: %s", o->content_type);
			snprintf(hdr[next][1], 256, "Cache-Control: %s", o->cache_control);
			urls[next] = vs_s3_url(s, bucket, o->key);
			ret = urls[next] ? req_init(s, &reqs[next], "PUT", urls[next], o->path, 0, o->size, NULL, extra)
			                 : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			if (ret < 0)
				break;
			curl_easy_setopt(reqs[next].c, CURLOPT_PRIVATE, (char *)(intptr_t)next);
			curl_multi_add_handle(m, reqs[next].c);
			active++;
			next++;
		}
		if (ret < 0)
			break;
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left))) {
			char *priv = NULL;
			int i, r;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
			i = (int)(intptr_t)priv;
			curl_multi_remove_handle(m, msg->easy_handle);
			active--;
			r = outcome(&reqs[i], msg->data.result, objs[i]->key);
			if (r == VS_ETEMP && tries[i] < VS_S3_RETRIES) {
				/* again, after a pause that grows */
				const char *extra[] = {hdr[i][0], hdr[i][1], NULL};

				usleep((useconds_t)VS_S3_BACKOFF_MS * 1000u << tries[i]);
				tries[i]++;
				req_release(&reqs[i]);
				r = req_init(s, &reqs[i], "PUT", urls[i], objs[i]->path, 0, objs[i]->size, NULL, extra);
				if (r == 0) {
					curl_easy_setopt(reqs[i].c, CURLOPT_PRIVATE, (char *)(intptr_t)i);
					curl_multi_add_handle(m, reqs[i].c);
					active++;
					continue;
				}
			}
			if (r < 0 && ret == 0) {
				/* kept: a retried answer of another object would
				 * overwrite the message of the one that failed */
				ret = r;
				snprintf(failed_code, sizeof(failed_code), "%s", vs_error_code());
				snprintf(failed, sizeof(failed), "%s", vs_error_message());
			}
		}
		if (active > 0)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	if (ret < 0 && failed[0])
		vs_fail(ret, failed_code, "%s", failed);
out:
	for (int i = 0; reqs && i < n; i++) {
		if (reqs[i].c)
			curl_multi_remove_handle(m, reqs[i].c);
		req_release(&reqs[i]);
		free(urls ? urls[i] : NULL);
	}
	curl_multi_cleanup(m);
	free(reqs);
	free(tries);
	free(urls);
	free(hdr);
	return ret;
}

int vs_s3_upload(struct vs_s3 *s, const char *bucket, struct vs_s3_object *objs, const int *stage, int n)
{
	struct vs_s3_object **batch = calloc((size_t)n + 1, sizeof(*batch));
	int ret = 0;

	if (!batch)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	for (int i = 0; i < n && ret == 0;) {
		int nb = 0, st = stage[i];

		for (; i < n && stage[i] == st && ret == 0; i++) {
			struct vs_s3_object *o = &objs[i];
			struct stat sb;
			char etag[128], want[64], sha[65], plain[33];
			long long size = 0;
			bool exists = false;

			if (stat(o->path, &sb) != 0) {
				ret = vs_fail(VS_ERR, VS_E_IO, "cannot read '%s': %s", o->path, strerror(errno));
				break;
			}
			o->size = sb.st_size;
			ret = vs_s3_head(s, bucket, o->key, &exists, &size, etag, sizeof(etag), NULL, 0);
			if (ret < 0)
				break;
			/* S3 gives a multipart object the MD5 of its parts' MD5s;
			 * some compatible stores give the plain MD5: either will do */
			ret = digest_file(o->path, 0, o->size, sha, plain);
			if (ret == 0 && o->size >= s->multipart_threshold)
				ret = multipart_etag(o->path, o->size, s->multipart_threshold, want, sizeof(want));
			else
				snprintf(want, sizeof(want), "%s", plain);
			if (ret < 0) {
				ret = vs_fail(VS_ERR, VS_E_IO, "cannot read '%s'", o->path);
				break;
			}
			if (exists && size == o->size && (!strcasecmp(etag, want) || !strcasecmp(etag, plain))) {
				o->skipped = true;
				continue;
			}
			if (o->size >= s->multipart_threshold)
				ret = put_multipart(s, bucket, o);
			else
				batch[nb++] = o;
		}
		if (ret == 0 && nb > 0)
			ret = upload_stage(s, bucket, batch, nb);
	}
	free(batch);
	return ret;
}

/*
 * A GET whose query libcurl 7.88 signs wrongly (it signs encoded query
 * values as they are, where S3 encodes them once more): signed here with
 * libvs/sigv4 instead. query is encoded: "prefix=a%2Fb%26c%2F" (a value may
 * hold '&' or '=').
 */
static int get_signed_here(struct vs_s3 *s, struct req *r, const char *bucket, const char *query,
                           const char *what)
{
	char *base = vs_s3_url(s, bucket, ""), *url = NULL, *host = NULL, *path = NULL, *auth = NULL;
	char date[32], hosthdr[300], datehdr[64], authhdr[512], tokhdr[2048];
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
	{
		const char *hdrs[] = {hosthdr, datehdr,
		                      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		                      tokhdr};
		struct vs_sigv4 sv = {.method = "GET", .path = path, .query = query, .headers = hdrs,
		                      .n_headers = s->token ? 4 : 3, .region = s->region, .service = "s3",
		                      .amz_date = date, .access_key = s->access_key, .secret_key = s->secret_key};

		snprintf(hosthdr, sizeof(hosthdr), "host:%s", host);
		snprintf(datehdr, sizeof(datehdr), "x-amz-date:%s", date);
		snprintf(tokhdr, sizeof(tokhdr), "x-amz-security-token:%s", s->token ? s->token : "");
		ret = vs_sigv4_authorization(&sv, &auth, NULL, NULL);
	}
	if (ret == 0) {
		/* the same encoding the signature used */
		char *enc = vs_sigv4_canonical_query(query);

		if (!enc || asprintf(&url, "%s?%s", base, enc) < 0)
			url = NULL;
		free(enc);
	}
	for (int attempt = 0; ret == 0 && url && attempt <= VS_S3_RETRIES; attempt++) {
		const char *extra[] = {authhdr, datehdr, s->token ? tokhdr : NULL, NULL};

		if (attempt > 0)
			usleep((useconds_t)VS_S3_BACKOFF_MS * 1000u << (attempt - 1));
		snprintf(authhdr, sizeof(authhdr), "Authorization: %s", auth);
		snprintf(datehdr, sizeof(datehdr), "x-amz-date: %s", date);
		if (s->token)
			snprintf(tokhdr, sizeof(tokhdr), "x-amz-security-token: %s", s->token);
		req_release(r);
		ret = req_init(s, r, "GET", url, NULL, 0, 0, NULL, extra);
		if (ret < 0)
			break;
		curl_easy_setopt(r->c, CURLOPT_AWS_SIGV4, NULL);
		curl_easy_setopt(r->c, CURLOPT_USERPWD, NULL);
		curl_easy_setopt(r->c, CURLOPT_HTTPAUTH, CURLAUTH_NONE);
		ret = outcome(r, curl_easy_perform(r->c), what);
		if (ret != VS_ETEMP)
			break;
	}
	free(auth);
	free(url);
	free(host);
	free(path);
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
	char *base = vs_s3_url(s, bucket, ""), *url = NULL, *enc = vs_uri_encode(prefix, false);
	struct req r = {0};
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
			struct req d = {0};

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
			}
			if (again) {
				ret = vs_fail(VS_ERR, VS_E_DOWNLOAD, "list: '%s' is listed again after its delete", key);
				free(key);
				break;
			}
			ourl = vs_s3_url(s, bucket, key);
			ret = ourl ? run(s, &d, "DELETE", ourl, NULL, 0, 0, NULL, NULL, key)
			           : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			req_release(&d);
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
	req_release(&r);
	free(first);
	free(url);
	free(enc);
	free(base);
	return ret;
}
