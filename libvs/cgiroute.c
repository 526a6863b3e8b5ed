/*
 * vs-cgi's router: vs_cgi_handle() (cgi.h) takes a request from its method
 * and path to the handler (cgihandlers.h) that answers it, by way of the
 * answers every path shares: a broken configuration, the authorizer role,
 * CORS's preflight (OPTIONS), 404 and 405, a bad bearer token.
 */
#include "cgi.h"
#include "cgiadmin.h"
#include "cgiauth.h"
#include "cgihandlers.h"
#include "cgihttp.h"
#include "cgitus.h"
#include "cgireq.h"
#include "error.h"

void vs_cgi_handle(const struct vs_cgi_config *cfg, PGconn **db, const struct vs_cgi_io *io)
{
	struct vs_cgi_req r = {.cfg = cfg, .io = io, .db = db};
	const char *path = io->param(io->ctx, "PATH_INFO"), *allow;
	const char *sub = "";
	struct vs_cgi_video v = {0};
	char allow_hdr[128];

	vs_error_clear();
	r.method = io->param(io->ctx, "REQUEST_METHOD");
	if (!r.method)
		r.method = "GET";
	if (cfg->broken) {
		vs_fail(VS_ERR, VS_E_USAGE, "configuration: %s", cfg->broken);
		vs_cgihttp_server_error(&r, 500, "vs-cgi");
		return;
	}
	if (io->param(io->ctx, "FCGI_ROLE") && !strcmp(io->param(io->ctx, "FCGI_ROLE"), "AUTHORIZER")) {
		vs_cgihandlers_authorize(&r);
		return;
	}
	r.head = !strcmp(r.method, "HEAD");
	if (vs_cgihttp_allowed_origin(cfg, io->param(io->ctx, "HTTP_ORIGIN")))
		r.origin = io->param(io->ctx, "HTTP_ORIGIN");
	/* split the path into at most 4 segments of at most 255 bytes */
	for (const char *p = path ? path : ""; *p;) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (r.nseg == 4 || n >= sizeof(r.seg[0])) {
			vs_cgihttp_problem(&r, 404, "no such resource", NULL);
			return;
		}
		memcpy(r.seg[r.nseg], p, n);
		r.seg[r.nseg++][n] = '\0';
		p += n;
	}
	if (r.nseg == 1 && !strcmp(r.seg[0], "health"))
		allow = "GET, HEAD, OPTIONS";
	else if (r.nseg == 2 && !strcmp(r.seg[0], "videos") && !strcmp(r.seg[1], "upload"))
		allow = "POST, OPTIONS";
	else if (r.nseg == 3 && !strcmp(r.seg[0], "videos") && !strcmp(r.seg[1], "upload"))
		allow = "HEAD, PATCH, DELETE, OPTIONS";
	else if (r.nseg >= 2 && r.nseg <= 3 && !strcmp(r.seg[0], "videos")) {
		sub = r.nseg == 3 ? r.seg[2] : "";
		if (!strcmp(sub, ""))
			allow = "GET, HEAD, PUT, DELETE, OPTIONS";
		else if (!strcmp(sub, "publish"))
			allow = "PUT, OPTIONS";
		else if (!strcmp(sub, "qualities") || !strcmp(sub, "chapters") ||
		    !strcmp(sub, "stream") || !strcmp(sub, "key"))
			allow = "GET, HEAD, OPTIONS";
		else if (!strcmp(sub, "progress") || !strcmp(sub, "analytics"))
			allow = "GET, HEAD, POST, OPTIONS";
		else {
			vs_cgihttp_problem(&r, 404, "no such resource", NULL);
			return;
		}
	} else {
		vs_cgihttp_problem(&r, 404, "no such resource", NULL);
		return;
	}
	snprintf(allow_hdr, sizeof(allow_hdr), "Allow: %s\r\n", allow);
	if (!strcmp(r.method, "OPTIONS")) {
		char extra[1024], tus[512] = "";

		if (!strcmp(r.seg[0], "videos") && r.nseg >= 2 && !strcmp(r.seg[1], "upload"))
			vs_cgitus_options(&r, tus, sizeof(tus));
		snprintf(extra, sizeof(extra), "%s%s%s", allow_hdr, tus,
		         r.origin ? "Access-Control-Allow-Headers: Authorization, Content-Type, If-None-Match, Tus-Resumable,"
		                    " Upload-Length, Upload-Metadata, Upload-Offset, Upload-Checksum\r\n"
		                    "Access-Control-Max-Age: 600\r\n" : "");
		if (r.origin)
			snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
			         "Access-Control-Allow-Methods: %s\r\n", allow);
		vs_cgihttp_respond(&r, 204, NULL, NULL, extra, NULL, 0);
		return;
	}
	if (!vs_cgihttp_method_in(r.method, allow)) {
		vs_cgihttp_problem(&r, 405, "method not allowed here", allow_hdr);
		return;
	}
	if (vs_cgiauth_identify(&r) < 0)
		return;
	if (r.nseg == 1) {
		vs_cgihandlers_health(&r);
		return;
	}
	if (!strcmp(r.seg[1], "upload") && vs_cgitus_is_tus(&r)) {
		vs_cgitus_handle(&r);
		return;
	}
	if (!strcmp(r.seg[1], "upload") && r.nseg == 2) {
		vs_cgiadmin_upload(&r);
		return;
	}
	if (!strcmp(r.method, "PUT") || !strcmp(r.method, "DELETE")) {
		vs_cgiadmin_handle(&r, sub);
		return;
	}
	if (vs_cgihandlers_find_video(&r, r.seg[1], !*sub && strcmp(r.method, "POST"), &v) < 0)
		return;
	if (!strcmp(sub, "stream"))
		vs_cgihandlers_stream(&r, &v);
	else if (!strcmp(sub, "key"))
		vs_cgihandlers_key(&r, &v);
	else if (!strcmp(sub, "progress"))
		vs_cgihandlers_progress(&r, &v, !strcmp(r.method, "POST"));
	else if (!strcmp(sub, "analytics") && !strcmp(r.method, "POST"))
		vs_cgihandlers_analytics_post(&r, &v);
	else if (!strcmp(sub, "analytics"))
		vs_cgihandlers_analytics_get(&r, &v);
	else
		vs_cgihandlers_video(&r, &v, sub);
	json_decref(v.row);
}
