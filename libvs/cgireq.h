#ifndef VS_CGIREQ_H
#define VS_CGIREQ_H

#include <libpq-fe.h>

#include "cgi.h"
#include "hash.h"
#include "vs.h"

/*
 * Internal to vs-cgi's modules: the request in flight, as the router
 * (cgiroute.c), the viewer's identification (cgiauth.c), the HTTP manners
 * (cgihttp.c) and the handlers (cgihandlers.c) share it. Not for programs:
 * they see cgi.h only.
 *
 * vs_cgi_handle() (cgiroute.c) makes one on its stack per request and fills
 * it as it goes: cfg, io, db and method first, then head, origin and the
 * path's segments (router), then the viewer (vs_cgiauth_identify()). Every
 * pointer in it is borrowed, for the request's time.
 */
struct vs_cgi_req {
	const struct vs_cgi_config *cfg;
	const struct vs_cgi_io *io;
	PGconn **db;             /* the caller's connection; *db NULL until a handler needs one */
	const char *method;      /* GET, HEAD, POST, OPTIONS, … */
	bool head;
	char seg[4][256];        /* path segments */
	int nseg;
	char user[VS_UUID_LEN + 1]; /* the viewer, or "" */
	bool by_token;           /* the viewer is a bearer token's, not REMOTE_USER's */
	bool admin;              /* a token with the admin claim, or a REMOTE_USER of VS_ADMIN_USERS */
	bool identified;         /* a valid token or a REMOTE_USER, admin or viewer */
	const char *origin;      /* an allowed Origin, or NULL */
};

#endif
