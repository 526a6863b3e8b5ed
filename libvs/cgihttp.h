#ifndef VS_CGIHTTP_H
#define VS_CGIHTTP_H

#include <jansson.h>

#include "cgi.h"
#include "cgireq.h"
#include "vs.h"

/*
 * Internal to vs-cgi: its HTTP manners, the same for every endpoint. The
 * status line as CGI's "Status:" header, nosniff, Cache-Control, CORS's
 * Access-Control-Allow-Origin, Content-Length; problem+json (RFC 9457) for
 * every error; ETags and 304s; the request body read up to a cap; the query
 * string. Every answer goes out through r->io, one write for the headers
 * and one for the body. None of these fails; only out of memory may leave
 * an answer unsent.
 */

/* The CGI variable name of this request (RFC 3875 4.1), or NULL. Borrowed
 * from r->io. */
const char *vs_cgihttp_param(const struct vs_cgi_req *r, const char *name);

/*
 * Writes a whole answer: status, Content-Type ctype and Cache-Control cache
 * when not NULL, extra (more header lines, each ending in \r\n, or NULL),
 * then len bytes of body. A 204 or 304 has no body and no Content-Length; a
 * HEAD request gets the headers only.
 */
void vs_cgihttp_respond(struct vs_cgi_req *r, int status, const char *ctype, const char *cache,
                        const char *extra, const char *body, size_t len);

/* A client error: status with an application/problem+json body whose
 * detail is the text a client may see, never internals; no-store. */
void vs_cgihttp_problem(struct vs_cgi_req *r, int status, const char *detail, const char *extra);

/*
 * A server error (500, or 503 with Retry-After): what failed and the
 * current error message (error.h) go to stderr, the web server's log, as
 * "vs-cgi: METHOD PATH: what: message"; the client gets a plain problem.
 */
void vs_cgihttp_server_error(struct vs_cgi_req *r, int status, const char *what);

/* body (borrowed) as compact application/json; 500 when it cannot be
 * serialised. */
void vs_cgihttp_send_json(struct vs_cgi_req *r, int status, json_t *body, const char *cache,
                          const char *extra);

/*
 * body (borrowed) as a cacheable answer with an ETag (of its bytes), 304
 * when If-None-Match has it: public for VS_CGI_METADATA_MAX_AGE seconds, or
 * private and revalidated each time when there is a viewer (r->user), whose
 * progress may be inside.
 */
void vs_cgihttp_send_cacheable(struct vs_cgi_req *r, json_t *body);

/*
 * The first query parameter name in qs (may be NULL), percent-decoded into
 * out (n bytes). Returns 1 when found, 0 when absent (out ""), -1 when it
 * is too long or holds a bad escape or a NUL.
 */
int vs_cgihttp_query_param(const char *qs, const char *name, char *out, size_t n);

/*
 * Reads the JSON body (at most VS_CGI_MAX_BODY, exactly CONTENT_LENGTH
 * bytes) into *out (new reference). Answers and returns VS_ERR when it is
 * too large (413), missing, short, not a JSON object (400), of another
 * media type (415), or text/plain from a viewer not identified by a bearer
 * token (403).
 */
int vs_cgihttp_read_body(struct vs_cgi_req *r, json_t **out);

/* Whether origin is one of VS_CORS_ORIGINS (or that list holds "*"). */
bool vs_cgihttp_allowed_origin(const struct vs_cgi_config *c, const char *origin);

/* Whether method m is one of allow, an Allow header's value ("GET, HEAD"). */
bool vs_cgihttp_method_in(const char *m, const char *allow);

#endif
