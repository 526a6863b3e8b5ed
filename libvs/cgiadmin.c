#include "catalog.h"
#include "catalogedit.h"
#include "cgiadmin.h"
#include "cgihandlers.h"
#include "cgihttp.h"
#include "error.h"
#include "hash.h"
#include "meta.h"
#include "publish.h"
#include "record.h"
#include "slug.h"

/* A failure of the catalog as the client's problem, or the server's. */
static void answer_failure(struct vs_cgi_req *r, int ret, const char *what)
{
	const char *code = vs_error_code();

	if (ret == VS_ETEMP)
		vs_cgihttp_server_error(r, 503, what);
	else if (!strcmp(code, VS_E_NOT_FOUND))
		vs_cgihttp_problem(r, 404, "no such video", NULL);
	else if (!strcmp(code, VS_E_CONFLICT))
		vs_cgihttp_problem(r, 409, vs_error_message(), NULL);
	else if (!strcmp(code, VS_E_INVALID))
		vs_cgihttp_problem(r, 422, vs_error_message(), NULL);
	else
		vs_cgihttp_server_error(r, 500, what);
}

static void edit(struct vs_cgi_req *r, const char *key)
{
	struct vs_meta_edit e;
	json_t *body = NULL, *row = NULL;
	int ret;

	if (vs_cgihttp_read_body(r, &body) < 0)
		return;
	if ((ret = vs_meta_edit_parse(body, &e)) < 0)
		answer_failure(r, ret, "edit");
	else if ((ret = vs_catalog_edit(*r->db, key, &e, &row)) < 0)
		answer_failure(r, ret, "edit");
	else
		vs_cgihttp_send_json(r, 200, row, "no-store", NULL);
	vs_meta_edit_release(&e);
	json_decref(row);
	json_decref(body);
}

static void publish(struct vs_cgi_req *r, const char *key)
{
	json_t *body = NULL, *row = NULL, *on;
	char id[VS_UUID_LEN + 1];
	int ret;

	if (vs_cgihttp_read_body(r, &body) < 0)
		return;
	on = json_object_get(body, "is_published");
	if (!json_is_boolean(on))
		vs_cgihttp_problem(r, 422, "is_published must be true or false", NULL);
	else if ((ret = vs_catalog_publish(*r->db, key, json_is_true(on), id)) < 0 ||
	         (ret = vs_catalog_show(*r->db, id, &row)) < 0)
		answer_failure(r, ret, "publish");
	else
		vs_cgihttp_send_json(r, 200, row, "no-store", NULL);
	json_decref(row);
	json_decref(body);
}

/* Hidden and deleted at once; the objects leave the origin when
 * VS_PUBLISH_URL names it (vs-publish --delete's way). */
static void delete(struct vs_cgi_req *r, const char *key)
{
	struct vs_video_state st = {.status = "deleted", .published = VS_PUBLICATION_OFF};
	const char *target = r->cfg->publish_url;
	json_t *row = NULL;
	int ret = vs_catalog_show(*r->db, key, &row);
	const char *id = vs_json_str(row, "id");

	if (ret == 0 && !strcmp(vs_json_str(row, "upload_status"), "deleted"))
		ret = vs_fail(VS_ERR, VS_E_NOT_FOUND, "no video '%s'", key);
	else if (ret == 0 && target && *target)
		ret = vs_publish_delete(*r->db, target, id);
	else if (ret == 0)
		ret = vs_catalog_set_state(*r->db, id, &st);
	if (ret < 0)
		answer_failure(r, ret, "delete");
	else
		vs_cgihttp_respond(r, 204, NULL, "no-store", NULL, NULL, 0);
	json_decref(row);
}

void vs_cgiadmin_handle(struct vs_cgi_req *r, const char *sub)
{
	const char *key = r->seg[1];
	int ret;

	if (!vs_hash_is_uuid(key) && !vs_slug_valid(key)) {
		vs_cgihttp_problem(r, 400, "a video id is a UUID or a slug", NULL);
		return;
	}
	if (!r->identified) {
		vs_cgihttp_problem(r, 401, "editing the catalog is for admins: sign in", "WWW-Authenticate: Bearer\r\n");
		return;
	}
	if (!r->admin) {
		vs_cgihttp_problem(r, 403, "editing the catalog is for admins (role admin, or scope videos:write)",
		                   NULL);
		return;
	}
	if ((ret = vs_cgihandlers_db(r)) < 0) {
		vs_cgihttp_server_error(r, 503, "database");
		return;
	}
	if (!strcmp(r->method, "DELETE"))
		delete(r, key);
	else if (!strcmp(sub, "publish"))
		publish(r, key);
	else
		edit(r, key);
}
