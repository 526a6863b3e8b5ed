#include <strings.h>

#include "cgiadmin.h"
#include "cgihandlers.h"
#include "cgihttp.h"
#include "cgitus.h"
#include "error.h"
#include "record.h"
#include "tus.h"

#define RESUMABLE "Tus-Resumable: " VS_TUS_VERSION "\r\n"

bool vs_cgitus_is_tus(struct vs_cgi_req *r)
{
	return r->nseg == 3 || vs_cgihttp_param(r, "HTTP_TUS_RESUMABLE") != NULL;
}

void vs_cgitus_options(const struct vs_cgi_req *r, char *out, size_t n)
{
	snprintf(out, n,
	         RESUMABLE "Tus-Version: " VS_TUS_VERSION "\r\nTus-Extension: " VS_TUS_EXTENSIONS "\r\n"
	         "Tus-Checksum-Algorithm: " VS_TUS_CHECKSUMS "\r\nTus-Max-Size: %lld\r\n%s",
	         r->cfg->upload_max,
	         r->origin ? "Access-Control-Expose-Headers: Location, Upload-Offset, Upload-Length, Tus-Resumable, "
	                     "Tus-Version, Tus-Extension, Tus-Max-Size, Vs-Video-Id\r\n" : "");
}

static long long number_header(struct vs_cgi_req *r, const char *name)
{
	const char *v = vs_cgihttp_param(r, name);
	char *end;
	long long n;

	if (!v || !*v)
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	return *end || errno || n < 0 ? -2 : n;
}

static void answer(struct vs_cgi_req *r, int status, const char *extra)
{
	char hdr[1024];

	snprintf(hdr, sizeof(hdr), RESUMABLE "%s", extra ? extra : "");
	vs_cgihttp_respond(r, status, NULL, "no-store", hdr, NULL, 0);
}

static void refuse(struct vs_cgi_req *r, int ret, const char *what)
{
	const char *code = vs_error_code();
	int status = ret == VS_ETEMP ? 503 : !strcmp(code, VS_E_NOT_FOUND) ? 404 : !strcmp(code, VS_E_CONFLICT) ? 409 :
	             !strcmp(code, VS_E_BUSY) ? 423 : !strcmp(code, VS_E_TOO_LARGE) ? 413 :
	             !strcmp(code, VS_E_CHECKSUM) ? 460 :
	             !strcmp(code, VS_E_INVALID) ? 400 : 500;

	if (status >= 500)
		vs_cgihttp_server_error(r, status, what);
	else
		vs_cgihttp_problem(r, status, vs_error_message(), RESUMABLE);
}

static void create(struct vs_cgi_req *r)
{
	long long length = number_header(r, "HTTP_UPLOAD_LENGTH");
	const char *script = vs_cgihttp_param(r, "SCRIPT_NAME");
	struct vs_tus t;
	char hdr[512];
	int ret;

	if (length < 0) {
		vs_cgihttp_problem(r, 400, "Upload-Length is required: a number of bytes (no deferred lengths)", RESUMABLE);
		return;
	}
	if (length > r->cfg->upload_max) {
		vs_cgihttp_problem(r, 413, "the upload is larger than Tus-Max-Size", RESUMABLE);
		return;
	}
	if ((ret = vs_tus_create(r->cfg->media_root, length, vs_cgihttp_param(r, "HTTP_UPLOAD_METADATA"), &t)) < 0) {
		refuse(r, ret, "upload");
		return;
	}
	snprintf(hdr, sizeof(hdr), "Location: %s/videos/upload/%s\r\n", script ? script : "", t.id);
	vs_tus_release(&t);
	answer(r, 201, hdr);
}

/* The upload complete: ingested, then gone; the video named, or refused. */
static void complete(struct vs_cgi_req *r, struct vs_tus *t)
{
	json_t *row = NULL;
	char hdr[256];
	int ret = vs_cgihandlers_db(r);

	if (ret == 0)
		ret = vs_cgiadmin_ingest(r, t->part, vs_json_str(t->metadata, "filename"), t->metadata, &row);
	if (ret < 0 && ret != VS_ETEMP) /* a refused file: its bytes are not kept */
		vs_tus_remove(r->cfg->media_root, t->id);
	if (ret < 0) {
		vs_cgiadmin_refusal(r, ret);
	} else {
		vs_tus_remove(r->cfg->media_root, t->id);
		snprintf(hdr, sizeof(hdr), "Upload-Offset: %lld\r\nVs-Video-Id: %s\r\n", t->offset, vs_json_str(row, "id"));
		answer(r, 204, hdr);
	}
	json_decref(row);
}

static int read_io(void *ctx, char *buf, int n)
{
	const struct vs_cgi_io *io = ctx;

	return io->read(io->ctx, buf, n);
}

static void patch(struct vs_cgi_req *r, struct vs_tus *t)
{
	const char *ct = vs_cgihttp_param(r, "CONTENT_TYPE");
	long long offset = number_header(r, "HTTP_UPLOAD_OFFSET"), n = number_header(r, "CONTENT_LENGTH");
	char hdr[128];
	int ret;

	if (!ct || strcasecmp(ct, "application/offset+octet-stream")) {
		vs_cgihttp_problem(r, 415, "a PATCH is application/offset+octet-stream", RESUMABLE);
		return;
	}
	if (offset < 0 || n < 0) {
		vs_cgihttp_problem(r, 400, "Upload-Offset and Content-Length are required", RESUMABLE);
		return;
	}
	if ((ret = vs_tus_append(r->cfg->media_root, t, offset, n, vs_cgihttp_param(r, "HTTP_UPLOAD_CHECKSUM"), read_io,
	                         (void *)r->io)) < 0) {
		refuse(r, ret, "upload");
		return;
	}
	if (t->offset == t->length) {
		complete(r, t);
		return;
	}
	snprintf(hdr, sizeof(hdr), "Upload-Offset: %lld\r\n", t->offset);
	answer(r, 204, hdr);
}

void vs_cgitus_handle(struct vs_cgi_req *r)
{
	const char *v = vs_cgihttp_param(r, "HTTP_TUS_RESUMABLE");
	struct vs_tus t;
	char hdr[256];
	int ret;

	if (!v || strcmp(v, VS_TUS_VERSION)) {
		vs_cgihttp_problem(r, 412, "Tus-Resumable: " VS_TUS_VERSION " is required",
		                   RESUMABLE "Tus-Version: " VS_TUS_VERSION "\r\n");
		return;
	}
	if (!vs_cgiadmin_only(r))
		return;
	if (r->nseg == 2) {
		create(r);
		return;
	}
	if ((ret = vs_tus_open(r->cfg->media_root, r->seg[2], &t)) < 0) {
		refuse(r, ret, "upload");
		return;
	}
	if (!strcmp(r->method, "PATCH")) {
		patch(r, &t);
	} else if (!strcmp(r->method, "DELETE")) {
		ret = vs_tus_remove(r->cfg->media_root, t.id);
		if (ret < 0)
			refuse(r, ret, "upload");
		else
			answer(r, 204, NULL);
	} else { /* HEAD */
		snprintf(hdr, sizeof(hdr), "Upload-Offset: %lld\r\nUpload-Length: %lld\r\n", t.offset, t.length);
		answer(r, 200, hdr);
	}
	vs_tus_release(&t);
}
