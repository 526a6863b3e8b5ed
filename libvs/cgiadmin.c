#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "catalog.h"
#include "catalogedit.h"
#include "cgiadmin.h"
#include "cgihandlers.h"
#include "cgihttp.h"
#include "error.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "meta.h"
#include "publish.h"
#include "record.h"
#include "slug.h"
#include "upload.h"

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

/* The outcome of a change: the video as it is now, or why not. */
static void answer(struct vs_cgi_req *r, int ret, json_t *row, const char *what)
{
	if (ret < 0)
		answer_failure(r, ret, what);
	else
		vs_cgihttp_send_json(r, 200, row, "no-store", NULL);
}

static void edit(struct vs_cgi_req *r, const char *key)
{
	json_t *body = NULL, *row = NULL;
	int ret;

	if (vs_cgihttp_read_body(r, &body) < 0)
		return;
	ret = vs_catalog_edit_json(*r->db, key, body, &row);
	answer(r, ret, row, "edit");
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
	else if ((ret = vs_catalog_publish(*r->db, key, json_is_true(on), id)) < 0)
		answer_failure(r, ret, "publish");
	else {
		ret = vs_catalog_show(*r->db, id, &row);
		answer(r, ret, row, "publish");
	}
	json_decref(row);
	json_decref(body);
}

/* Hidden and deleted at once; the objects leave the origin when
 * VS_PUBLISH_URL names it (vs-publish --delete's way). */
static void delete(struct vs_cgi_req *r, const char *key)
{
	int ret = vs_catalog_delete(*r->db, key, r->cfg->publish_url, NULL);

	if (ret < 0)
		answer_failure(r, ret, "delete");
	else
		vs_cgihttp_respond(r, 204, NULL, "no-store", NULL, NULL, 0);
}

bool vs_cgiadmin_only(struct vs_cgi_req *r)
{
	if (!r->identified) {
		vs_cgihttp_problem(r, 401, "editing the catalog is for admins: sign in", "WWW-Authenticate: Bearer\r\n");
		return false;
	}
	if (!r->admin) {
		vs_cgihttp_problem(r, 403, "editing the catalog is for admins (role admin, or scope videos:write)",
		                   NULL);
		return false;
	}
	return true;
}

void vs_cgiadmin_handle(struct vs_cgi_req *r, const char *sub)
{
	const char *key = r->seg[1];
	int ret;

	if (!vs_hash_is_uuid(key) && !vs_slug_valid(key)) {
		vs_cgihttp_problem(r, 400, "a video id is a UUID or a slug", NULL);
		return;
	}
	if (!vs_cgiadmin_only(r))
		return;
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

void vs_cgiadmin_refusal(struct vs_cgi_req *r, int ret)
{
	const char *code = vs_error_code();

	if (ret != VS_ETEMP && (!strcmp(code, VS_E_NOT_VIDEO) || !strcmp(code, VS_E_TRUNCATED) ||
	                        !strcmp(code, VS_E_INVALID) || !strcmp(code, VS_E_CONFLICT)))
		vs_cgihttp_problem(r, 422, vs_error_message(), NULL);
	else
		vs_cgihttp_server_error(r, ret == VS_ETEMP ? 503 : 500, "upload");
}

static int read_io(void *ctx, char *buf, int n)
{
	const struct vs_cgi_io *io = ctx;

	return io->read(io->ctx, buf, n);
}

/* The upload's text fields that ingest takes, into rec. */
static void take_fields(json_t *rec, const json_t *fields)
{
	static const char *const names[] = {"title", "description", "tags", "category", "slug"};

	for (size_t i = 0; i < VS_ARRAY_SIZE(names); i++) {
		const char *v = vs_json_str(fields, names[i]);

		if (v && *v)
			json_object_set_new(rec, names[i], json_string(v));
	}
}

/* vs-ingest beside this program. */
static char *ingest_program(void)
{
	char *dir = vs_fsutil_self_dir(), *prog = dir ? vs_fsutil_path_join(dir, "vs-ingest") : NULL;

	free(dir);
	return prog;
}

/* Everything fd has to read, into a malloced string (NULL out of memory). */
static char *read_all(int fd)
{
	char *buf = NULL, chunk[8192];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ssize_t n;

	if (!f)
		return NULL;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			fwrite(chunk, 1, (size_t)n, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The error of vs-ingest's record out (its exit status was status). */
static int ingest_failure(const json_t *out, int status)
{
	const char *code = vs_json_str(out, "error.code"), *message = vs_json_str(out, "error.message");

	if (!message)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "vs-ingest failed (exit status %d)", status);
	return vs_fail(status == VS_EXIT_TEMPFAIL ? VS_ETEMP : VS_ERR, code ? code : VS_E_INTERNAL, "%s", message);
}

/*
 * Runs vs-ingest on rec: a process of its own, so that this program links
 * no media library (plain CGI starts it for every request: 147 shared
 * libraries took 28 ms to load; without libavformat and libavcodec it
 * starts in a few). Its environment is the configuration's database and
 * media root, nothing of the request's. *out: its record.
 */
static int run_ingest(const struct vs_cgi_config *cfg, const json_t *rec, json_t **out)
{
	char *prog = ingest_program(), *db = NULL, *root = NULL, *text = json_dumps(rec, JSON_COMPACT), *got = NULL;
	char *argv[] = {(char *)"vs-ingest", (char *)"--move-source", NULL};
	int in[2] = {-1, -1}, outp[2] = {-1, -1}, ret = 0, status = -1;
	posix_spawn_file_actions_t fa;
	pid_t pid;

	*out = NULL;
	if (!prog || !text || asprintf(&db, "VS_DATABASE_URL=%s", cfg->database_url ? cfg->database_url : "") < 0 ||
	    asprintf(&root, "VS_MEDIA_ROOT=%s", cfg->media_root) < 0)
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	if (ret == 0 && (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 || pipe2(outp, O_CLOEXEC) < 0))
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "cannot run vs-ingest: %s", strerror(errno));
	if (ret == 0) {
		char *envp[] = {db, root, (char *)"PATH=/usr/local/bin:/usr/bin:/bin", NULL};
		int e;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, in[1], 0);
		posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
		/* what went wrong comes back in its record: the answer says it */
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
		e = posix_spawn(&pid, prog, &fa, NULL, argv, envp);
		posix_spawn_file_actions_destroy(&fa);
		if (e != 0)
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "cannot run %s: %s", prog, strerror(e));
	}
	if (in[1] >= 0) /* the child's ends */
		close(in[1]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (ret == 0) {
		/* one small record: the socket's buffer takes it whole */
		if (send(in[0], text, strlen(text), MSG_NOSIGNAL) < 0 || send(in[0], "\n", 1, MSG_NOSIGNAL) < 0)
			vs_log_debug("vs-ingest took no record: %s", strerror(errno));
		shutdown(in[0], SHUT_WR);
		got = read_all(outp[0]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		*out = got ? json_loads(got, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
		if (status != 0 || !*out || json_object_get(*out, "error"))
			ret = ingest_failure(*out, status);
	}
	if (in[0] >= 0)
		close(in[0]);
	if (outp[0] >= 0)
		close(outp[0]);
	free(got);
	free(text);
	free(db);
	free(root);
	free(prog);
	return ret;
}

int vs_cgiadmin_ingest(struct vs_cgi_req *r, const char *path, const char *filename, const json_t *fields,
                       json_t **row)
{
	json_t *rec = json_pack("{s:{s:s,s:s}}", "source", "path", path, "original_filename",
	                        filename && *filename ? filename : "upload"), *out = NULL;
	int ret;

	take_fields(rec, fields);
	ret = run_ingest(r->cfg, rec, &out);
	if (ret == 0)
		ret = vs_catalog_show(*r->db, vs_json_str(out, "id"), row);
	json_decref(out);
	json_decref(rec);
	return ret;
}

void vs_cgiadmin_upload(struct vs_cgi_req *r)
{
	const char *cl = vs_cgihttp_param(r, "CONTENT_LENGTH"), *origin = vs_cgihttp_param(r, "HTTP_ORIGIN");
	long long len = cl && *cl ? strtoll(cl, NULL, 10) : -1;
	struct vs_upload u;
	json_t *row = NULL;
	char *incoming;
	int ret;

	if (!vs_cgiadmin_only(r))
		return;
	/* a form on another site can post multipart with the browser's own
	 * credentials: a REMOTE_USER's upload comes from an allowed origin */
	if (!r->by_token && origin && *origin && !r->origin) {
		vs_cgihttp_problem(r, 403, "uploads come from an allowed origin, or with a bearer token", NULL);
		return;
	}
	if (len < 0) {
		vs_cgihttp_problem(r, 411, "an upload needs a Content-Length", NULL);
		return;
	}
	if (len > r->cfg->upload_max + VS_UPLOAD_FIELD_MAX) {
		vs_cgihttp_problem(r, 413, "the upload is larger than VS_UPLOAD_MAX allows", NULL);
		return;
	}
	if (!(incoming = vs_fsutil_path_join(r->cfg->media_root, ".incoming"))) {
		vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		vs_cgihttp_server_error(r, 500, "upload");
		return;
	}
	ret = vs_upload_multipart(read_io, (void *)r->io, len, vs_cgihttp_param(r, "CONTENT_TYPE"), "video", incoming,
	                          r->cfg->upload_max, &u);
	free(incoming);
	if (ret < 0 && !strcmp(vs_error_code(), VS_E_TOO_LARGE))
		vs_cgihttp_problem(r, 413, vs_error_message(), NULL);
	else if (ret < 0 && !strcmp(vs_error_code(), VS_E_INVALID))
		vs_cgihttp_problem(r, 400, vs_error_message(), NULL);
	else if (ret < 0)
		vs_cgihttp_server_error(r, 500, "upload");
	else if ((ret = vs_cgihandlers_db(r)) < 0 || (ret = vs_cgiadmin_ingest(r, u.path, u.filename, u.fields, &row)) < 0)
		vs_cgiadmin_refusal(r, ret);
	else
		vs_cgihttp_send_json(r, 200, row, "no-store", NULL);
	vs_upload_release(&u); /* the temporary file, if ingest did not move it into place */
	json_decref(row);
}
