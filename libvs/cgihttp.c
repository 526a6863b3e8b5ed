#include <strings.h>


#include "cgi.h"
#include "cgihttp.h"
#include "codec.h"
#include "error.h"

const char *vs_cgihttp_param(const struct vs_cgi_req *r, const char *name)
{
	return r->io->param(r->io->ctx, name);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 423: return "Locked";
	case 460: return "Checksum Mismatch"; /* tus's own */
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

void vs_cgihttp_respond(struct vs_cgi_req *r, int status, const char *ctype, const char *cache,
                        const char *extra, const char *body, size_t len)
{
	char *head = NULL;
	size_t hl = 0;
	FILE *f = open_memstream(&head, &hl);

	if (!f)
		return;
	fprintf(f, "Status: %d %s\r\n", status, reason(status));
	if (ctype)
		fprintf(f, "Content-Type: %s\r\n", ctype);
	fprintf(f, "X-Content-Type-Options: nosniff\r\n");
	if (cache)
		fprintf(f, "Cache-Control: %s\r\n", cache);
	if (r->origin)
		fprintf(f, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n", r->origin);
	if (extra)
		fputs(extra, f);
	if (status != 304 && status != 204)
		fprintf(f, "Content-Length: %zu\r\n", len);
	fputs("\r\n", f);
	fclose(f);
	r->io->write(r->io->ctx, head, (int)hl);
	if (body && len && !r->head && status != 304 && status != 204)
		r->io->write(r->io->ctx, body, (int)len);
	free(head);
}

void vs_cgihttp_problem(struct vs_cgi_req *r, int status, const char *detail, const char *extra)
{
	json_t *p = json_pack("{s:s,s:s,s:i,s:s}", "type", "about:blank", "title", reason(status),
	                      "status", status, "detail", detail);
	char *body = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);

	vs_cgihttp_respond(r, status, "application/problem+json", "no-store", extra, body,
	                   body ? strlen(body) : 0);
	free(body);
	json_decref(p);
}

/* 5xx: the details to the server's log, a plain answer to the client. */
void vs_cgihttp_server_error(struct vs_cgi_req *r, int status, const char *what)
{
	const char *path = vs_cgihttp_param(r, "PATH_INFO");

	fprintf(stderr, "vs-cgi: %s %s: %s: %s\n", r->method, path ? path : "", what, vs_error_message());
	vs_cgihttp_problem(r, status, status == 503 ? "the service is unavailable; try again shortly"
	                                            : "the server failed to answer",
	                   status == 503 ? "Retry-After: 5\r\n" : NULL);
}

void vs_cgihttp_send_json(struct vs_cgi_req *r, int status, json_t *body, const char *cache,
                          const char *extra)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (!s) {
		vs_fail(VS_ERR, VS_E_INTERNAL, "cannot serialise");
		vs_cgihttp_server_error(r, 500, "json");
		return;
	}
	vs_cgihttp_respond(r, status, "application/json", cache, extra, s, strlen(s));
	free(s);
}

bool vs_cgihttp_allowed_origin(const struct vs_cgi_config *c, const char *origin)
{
	if (!origin || !c->cors_origins)
		return false;
	for (const char *p = c->cors_origins; *p;) {
		size_t n = strcspn(p, ",");

		while (n > 0 && p[n - 1] == ' ')
			n--;
		if ((n == 1 && *p == '*') || (strlen(origin) == n && !strncmp(p, origin, n)))
			return true;
		p += strcspn(p, ",");
		p += *p == ',';
		while (*p == ' ')
			p++;
	}
	return false;
}

static int hex_digit(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int vs_cgihttp_query_param(const char *qs, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);

	out[0] = '\0';
	for (const char *p = qs; p && *p; p += strcspn(p, "&"), p += *p == '&') {
		size_t len = strcspn(p, "&"), o = 0;

		if (len <= nl || strncmp(p, name, nl) || p[nl] != '=')
			continue;
		for (size_t i = nl + 1; i < len; i++) {
			int c = (unsigned char)p[i];

			if (c == '+')
				c = ' ';
			else if (c == '%') {
				int hi = i + 2 < len ? hex_digit(p[i + 1]) : -1, lo = hi >= 0 ? hex_digit(p[i + 2]) : -1;

				if (lo < 0 || (hi == 0 && lo == 0))
					return -1;
				c = hi * 16 + lo;
				i += 2;
			}
			if (o + 1 >= n)
				return -1;
			out[o++] = (char)c;
		}
		out[o] = '\0';
		return 1;
	}
	return 0;
}

int vs_cgihttp_read_body(struct vs_cgi_req *r, json_t **out)
{
	const char *cl = vs_cgihttp_param(r, "CONTENT_LENGTH"), *ct = vs_cgihttp_param(r, "CONTENT_TYPE");
	long len = cl && *cl ? strtol(cl, NULL, 10) : 0;
	char *buf;
	int got = 0;
	json_error_t e;

	*out = NULL;
	if (len > VS_CGI_MAX_BODY) {
		vs_cgihttp_problem(r, 413, "the body is larger than 64 KiB", NULL);
		return VS_ERR;
	}
	if (len <= 0) {
		vs_cgihttp_problem(r, 400, "a JSON body is required", NULL);
		return VS_ERR;
	}
	if (ct && *ct && strncasecmp(ct, "application/json", 16) && strncasecmp(ct, "text/plain", 10)) {
		vs_cgihttp_problem(r, 415, "the body must be application/json", NULL);
		return VS_ERR;
	}
	/* text/plain is what sendBeacon sends, and what a cross-site form can
	 * send without a preflight: with the browser's own credentials
	 * (REMOTE_USER from cookies or Basic) it could write a viewer's
	 * progress. So a body that is not application/json needs a bearer
	 * token (the beacon's access_token), or no viewer at all. */
	if ((!ct || strncasecmp(ct, "application/json", 16)) && r->user[0] && !r->by_token) {
		vs_cgihttp_problem(r, 403, "send application/json, or identify with a bearer token", NULL);
		return VS_ERR;
	}
	buf = malloc((size_t)len + 1);
	if (!buf) {
		vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		vs_cgihttp_server_error(r, 500, "body");
		return VS_ERR;
	}
	/* read exactly CONTENT_LENGTH bytes, never more (RFC 3875 4.2) */
	while (got < len) {
		int n = r->io->read(r->io->ctx, buf + got, (int)(len - got));

		if (n <= 0)
			break;
		got += n;
	}
	if (got < len) {
		free(buf);
		vs_cgihttp_problem(r, 400, "the body is shorter than its Content-Length", NULL);
		return VS_ERR;
	}
	*out = json_loadb(buf, (size_t)got, JSON_REJECT_DUPLICATES, &e);
	free(buf);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		vs_cgihttp_problem(r, 400, "the body is not a JSON object", NULL);
		return VS_ERR;
	}
	return 0;
}

static void etag_of(const char *body, char out[48])
{
	unsigned char md[VS_CODEC_SHA256_LEN];

	/* the first 12 bytes of the body's SHA-256, quoted */
	vs_codec_sha256(body, strlen(body), md);
	out[0] = '"';
	vs_codec_hex(md, 12, out + 1);
	out[25] = '"';
	out[26] = '\0';
}

void vs_cgihttp_send_cacheable(struct vs_cgi_req *r, json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER), tag[48], extra[96], cache[64];
	const char *inm = vs_cgihttp_param(r, "HTTP_IF_NONE_MATCH");

	if (!s) {
		vs_cgihttp_server_error(r, 500, "json");
		return;
	}
	etag_of(s, tag);
	snprintf(extra, sizeof(extra), "ETag: %s\r\n", tag);
	/* with the viewer's progress inside, only the viewer's cache may keep
	 * it, and must ask again each time (the ETag makes that a 304) */
	if (r->user[0])
		snprintf(cache, sizeof(cache), "private, no-cache");
	else
		snprintf(cache, sizeof(cache), "public, max-age=%d", VS_CGI_METADATA_MAX_AGE);
	if (inm && (strstr(inm, tag) || !strcmp(inm, "*")))
		vs_cgihttp_respond(r, 304, NULL, cache, extra, NULL, 0);
	else
		vs_cgihttp_respond(r, 200, "application/json", cache, extra, s, strlen(s));
	free(s);
}

bool vs_cgihttp_method_in(const char *m, const char *allow)
{
	size_t n = strlen(m);

	if (n == 0) /* strstr would find "" everywhere, and never move on */
		return false;
	for (const char *p = allow; (p = strstr(p, m)); p += n)
		if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}
