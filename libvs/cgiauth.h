#ifndef VS_CGIAUTH_H
#define VS_CGIAUTH_H

#include "cgireq.h"
#include "vs.h"

/*
 * Internal to vs-cgi: who is asking. A viewer identifies with an HS256
 * bearer token (RFC 6750: the Authorization header, else the access_token
 * query parameter, for beacons, which cannot send headers) checked against
 * VS_JWT_SECRET_FILE and the VS_JWT_* rules, or as the web server's
 * REMOTE_USER.
 */

/*
 * Sets r->user (a token's "sub", or a REMOTE_USER that is a UUID; else ""),
 * r->by_token, r->identified, and r->admin (a token with "role": "admin"
 * or a "scope" holding videos:write, or a REMOTE_USER listed in
 * VS_ADMIN_USERS). Returns 0, anonymous included, or VS_ERR for a bad or
 * unaccepted token, answered already (401 with WWW-Authenticate).
 */
int vs_cgiauth_identify(struct vs_cgi_req *r);

#endif
