#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "codec.h"
#include "error.h"
#include "fetch.h"
#include "log.h"
#include "sigv4.h"

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
	const char *allow;      /* the private addresses allowed */
	char refused[INET6_ADDRSTRLEN]; /* the private address refused, or "" */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool vs_fetch_is_http_url(const char *s)
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
			s->disposition_name = vlen ? vs_codec_uri_decode(v, vlen) : NULL;
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
	return vs_codec_uri_decode(slash + 1, (size_t)(end - slash - 1));
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

bool vs_fetch_private_address(const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr);

		return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||   /* this net, private, loopback */
		       (a >> 16) == 0xa9fe || (a >> 20) == 0xac1 ||               /* 169.254/16, 172.16/12 */
		       (a >> 16) == 0xc0a8 || (a >> 22) == (100u << 2 | 1) ||      /* 192.168/16, 100.64/10 */
		       (a >> 8) == 0xc00000 || (a >> 17) == (198u << 7 | 9) ||     /* 192.0.0/24, 198.18/15 */
		       (a >> 28) >= 0xe;                                         /* multicast, reserved */
	}
	if (addr->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)addr)->sin6_addr;
		const uint8_t *b = a->s6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
			struct sockaddr_in v4 = {.sin_family = AF_INET};

			memcpy(&v4.sin_addr, b + 12, 4);
			return vs_fetch_private_address((const struct sockaddr *)&v4);
		}
		return IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a) ||
		       IN6_IS_ADDR_SITELOCAL(a) || IN6_IS_ADDR_MULTICAST(a) || (b[0] & 0xfe) == 0xfc || /* fc00::/7 */
		       (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) ||           /* 2001:db8::/32 */
		       (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b);            /* 64:ff9b::/96 */
	}
	return true;
}

/* CURLOPT_OPENSOCKETFUNCTION: every connection, redirects' too, is checked
 * here, on the address libcurl resolved, before it is made. */
static curl_socket_t open_socket(void *u, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct sink *s = u;
	char text[INET6_ADDRSTRLEN] = "";

	(void)purpose;
	if (vs_fetch_private_address(&a->addr)) {
		const void *in = a->family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&a->addr)->sin6_addr
		                                       : (const void *)&((struct sockaddr_in *)&a->addr)->sin_addr;
		bool listed = false;

		inet_ntop(a->family, in, text, sizeof(text));
		for (const char *p = s->allow; p && *p && text[0] && !listed;) {
			size_t n = strcspn(p, ", ");

			listed = n == strlen(text) && !strncmp(p, text, n);
			p += n;
			p += strspn(p, ", ");
		}
		if (!listed) {
			snprintf(s->refused, sizeof(s->refused), "%s", text[0] ? text : "?");
			return CURL_SOCKET_BAD;
		}
	}
	return socket(a->family, a->socktype, a->protocol);
}

int vs_fetch_to_fd(const char *url, int fd, const struct vs_fetch_opts *opts,
                   void (*on_data)(const void *, size_t, void *), void *ctx, char **filename)
{
	struct sink s = {.fd = fd, .max_bytes = opts->max_bytes, .on_data = on_data, .ctx = ctx,
	                 .allow = opts->allow};
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c;
	CURLcode rc;
	long status = 0;
	int ret = 0;

	*filename = NULL;
	if (!vs_fetch_is_http_url(url))
		return vs_fail(VS_ERR, VS_E_INVALID, "not an http or https URL");
	pthread_once(&curl_once, curl_init);
	c = curl_easy_init();
	if (!c)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "cannot start libcurl");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* never from https down to http */
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, strncasecmp(url, "https:", 6) ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &s);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, opts->timeout_s);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)VS_FETCH_MAX_REDIRECTS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, opts->connect_timeout_s);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, opts->stall_timeout_s);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)opts->max_bytes);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vs-ingest/" VS_VERSION);
	if (opts->ca_file && *opts->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, opts->ca_file);
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
	} else if (s.refused[0]) {
		ret = vs_fail(VS_ERR, VS_E_DOWNLOAD,
		              "refused to connect to %s: a loopback, private or link-local address (--allow-address allows one)",
		              s.refused);
	} else if (rc == CURLE_UNSUPPORTED_PROTOCOL && !strncasecmp(url, "https:", 6)) {
		ret = vs_fail(VS_ERR, VS_E_DOWNLOAD, "refused a redirect from https to another protocol: %s",
		              errbuf[0] ? errbuf : curl_easy_strerror(rc));
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
