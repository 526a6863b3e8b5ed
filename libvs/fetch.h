#ifndef VS_FETCH_H
#define VS_FETCH_H

#include <stdbool.h>
#include <sys/socket.h>

#include "vs.h"

/*
 * Downloading an http or https URL with libcurl, with limits: a size cap
 * (checked against Content-Length and while receiving), a connect timeout,
 * a time limit for the whole transfer, and an abort when it stalls.
 * Redirects are followed (at most VS_FETCH_MAX_REDIRECTS), to http and
 * https only, and from https to https only. Every connection, redirects'
 * too, is refused to loopback, private, link-local (169.254.169.254, the
 * cloud's metadata service), unique-local, multicast and unspecified
 * addresses but those listed in allow: a URL from outside cannot make the
 * server fetch from inside.
 */

#define VS_FETCH_MAX_BYTES_DEFAULT (20LL * 1024 * 1024 * 1024) /* 20 GiB */
#define VS_FETCH_CONNECT_TIMEOUT_S 10
#define VS_FETCH_STALL_TIMEOUT_S 30 /* below 1 KiB/s for this long aborts */
#define VS_FETCH_MAX_REDIRECTS 5
#define VS_FETCH_TIMEOUT_S (6 * 3600) /* the whole transfer */
#define VS_FETCH_TIMEOUT_MAX_S (7 * 86400) /* the longest a caller may allow */

struct vs_fetch_opts {
	long long max_bytes;     /* refuse larger downloads */
	long connect_timeout_s;
	long stall_timeout_s;
	long timeout_s;          /* the whole transfer */
	const char *allow;       /* private addresses allowed: "127.0.0.1,10.1.2.3", or NULL */
	const char *ca_file;     /* PEM certificates https servers are checked against; NULL: the system's */
};

#define VS_FETCH_OPTS_INIT \
	{VS_FETCH_MAX_BYTES_DEFAULT, VS_FETCH_CONNECT_TIMEOUT_S, VS_FETCH_STALL_TIMEOUT_S, VS_FETCH_TIMEOUT_S, NULL, NULL}

/* Whether addr is loopback, private, link-local, unique-local, multicast,
 * unspecified or otherwise not a public unicast address. */
bool vs_fetch_private_address(const struct sockaddr *addr);

/* True if s starts with http:// or https:// (any case). */
bool vs_fetch_is_http_url(const char *s);

/*
 * Downloads url, writing the body to fd and passing each chunk to on_data
 * (may be NULL) as well. *filename gets the name of the file as the server
 * gives it (Content-Disposition) or the last segment of the URL path,
 * percent-decoded (malloced; may be NULL).
 *
 * Returns 0; VS_ERR (download_failed: the server refused it with a 4xx;
 * too_large; invalid_input: not an http(s) URL); or VS_ETEMP (unavailable:
 * cannot connect or resolve, timed out, 5xx or 429).
 */
int vs_fetch_to_fd(const char *url, int fd, const struct vs_fetch_opts *opts,
                   void (*on_data)(const void *data, size_t len, void *ctx), void *ctx,
                   char **filename);

#endif
