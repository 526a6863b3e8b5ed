#include <ctype.h>
#include <pthread.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "error.h"
#include "fetch.h"
#include "sigv4.h"
#include "log.h"

struct sink {
	int fd;
	long long max_bytes;
	long long got;
	bool too_large;
	bool write_failed;
	int write_errno;
	void (*on_data)(const void *, size_t, void *);
	void *ctx;
	char *disposition_name; /* malloced or NULL */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool vs_is_http_url(const char *s)
{
	return !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8);
}

static size_t on_body(char *data, size_t size, size_t n, void *p)
{
	struct sink *s = p;
	size_t len = size * n;
	size_t off = 0;

	if (s->got + (long long)len > s->max_bytes) {
		s->too_large = true;
		return 0;
	}
	while (off < len) {
		ssize_t w = write(s->fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			s->write_failed = true;
			s->write_errno = errno;
			return 0;
		}
		off += (size_t)w;
	}
	s->got += (long long)len;
	if (s->on_data)
		s->on_data(data, len, s->ctx);
	return len;
}

/* Keeps filename="..." of a Content-Disposition header, if any. */
static size_t on_header(char *data, size_t size, size_t n, void *p)
{
	struct sink *s = p;
	size_t len = size * n;
	const char *key = "content-disposition:";
	const char *fn;

	if (len > strlen(key) && !strncasecmp(data, key, strlen(key))) {
		char *line = strndup(data, len);

		fn = line ? strcasestr(line, "filename=") : NULL;
		if (fn) {
			const char *v = fn + 9;
			size_t vlen;

			if (*v == '"')
				v++;
			vlen = strcspn(v, "\";\r\n");
			free(s->disposition_name);
			s->disposition_name = vlen ? vs_uri_decode(v, vlen) : NULL;
		}
		free(line);
	}
	return len;
}

/* The last path segment of the URL, without query or fragment. */
static char *name_from_url(const char *url)
{
	const char *p = strstr(url, "://");
	const char *end, *slash;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "?#");
	slash = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '/')
			slash = q;
	if (!slash || slash + 1 >= end)
		return NULL;
	return vs_uri_decode(slash + 1, (size_t)(end - slash - 1));
}

/* Only a base name is kept: a server cannot steer where we write. */
static char *safe_base(char *name)
{
	char *base;

	if (!name)
		return NULL;
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		free(name);
		return NULL;
	}
	memmove(name, base, strlen(base) + 1);
	return name;
}

int vs_fetch_to_fd(const char *url, int fd, const struct vs_fetch_opts *opts,
                   void (*on_data)(const void *, size_t, void *), void *ctx, char **filename)
{
	struct sink s = {.fd = fd, .max_bytes = opts->max_bytes, .on_data = on_data, .ctx = ctx};
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c;
	CURLcode rc;
	long status = 0;
	int ret = 0;

	*filename = NULL;
	if (!vs_is_http_url(url))
		return vs_fail(VS_ERR, VS_E_INVALID, "not an http or https URL");
	pthread_once(&curl_once, curl_init);
	c = curl_easy_init();
	if (!c)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "cannot start libcurl");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)VS_FETCH_MAX_REDIRECTS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, opts->connect_timeout_s);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, opts->stall_timeout_s);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)opts->max_bytes);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vs-ingest/" VS_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);

	/* Only a 2xx body is the file: anything else is discarded. */
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK && (status < 200 || status > 299)) {
		bool transient = status == 408 || status == 429 || status >= 500;

		ret = vs_fail(transient ? VS_ETEMP : VS_ERR,
		              transient ? VS_E_UNAVAILABLE : VS_E_DOWNLOAD,
		              "the server answered HTTP %ld", status);
	} else if (s.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		ret = vs_fail(VS_ERR, VS_E_TOO_LARGE, "larger than the limit of %lld bytes",
		              opts->max_bytes);
	} else if (s.write_failed) {
		ret = vs_fail(VS_ERR, VS_E_IO, "cannot store the download: %s",
		              strerror(s.write_errno));
	} else if (rc != CURLE_OK) {
		bool transient = rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT ||
		                 rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR ||
		                 rc == CURLE_SEND_ERROR || rc == CURLE_PARTIAL_FILE ||
		                 rc == CURLE_GOT_NOTHING || rc == CURLE_COULDNT_RESOLVE_PROXY;

		ret = vs_fail(transient ? VS_ETEMP : VS_ERR,
		              transient ? VS_E_UNAVAILABLE : VS_E_DOWNLOAD, "%s",
		              errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	if (ret == 0) {
		*filename = safe_base(s.disposition_name);
		s.disposition_name = NULL;
		if (!*filename) {
			char *effective = NULL;

			curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
			*filename = safe_base(name_from_url(effective ? effective : url));
		}
	}
	free(s.disposition_name);
	curl_easy_cleanup(c);
	return ret;
}
