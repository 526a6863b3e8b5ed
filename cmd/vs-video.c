/* vs-video: the catalog from the shell (catalogedit.h, as vs-cgi's admin endpoints). */
#include <math.h>

#include "catalogedit.h"
#include "chapters.h"
#include "clock.h"
#include "error.h"
#include "log.h"
#include "prog.h"
#include "record.h"
#include "tus.h"

/* The program's settings, for its subcommands. */
struct run {
	struct vs_catalog_filter filter;
	bool published, unpublished, public_, private_, clear;
	int format; /* 0 json, 1 table */
	const char *since, *from, *to;
	const char *title, *description, *tags, *category, *slug;
	double older_than_s;
};

static int list(struct vs_prog *p)
{
	static const char *const columns[] = {"id", "slug", "upload_status", "is_published", "title", NULL};
	struct run *r = p->ctx;
	json_t *rows = json_array();
	int ret = vs_catalog_list(p->db, &r->filter, rows);

	if (ret == 0)
		ret = r->format ? vs_record_write_table(stdout, rows, columns) : vs_record_write_all(stdout, rows);
	json_decref(rows);
	return ret;
}

static int show(struct vs_prog *p)
{
	json_t *row = NULL;
	int ret = vs_catalog_show(p->db, p->args[0], &row);

	return vs_record_emit(stdout, ret, row);
}

/* An edit (set, chapters) from fields, applied; the video afterwards out. */
static int apply(struct vs_prog *p, json_t *fields)
{
	struct vs_meta_edit e;
	json_t *row = NULL;
	int ret = vs_meta_edit_parse(fields, &e); /* e borrows fields' strings */

	if (ret == 0 && vs_meta_edit_empty(&e)) {
		vs_opt_usage_error(p->cmd, "%s: nothing to change", p->sub->name);
		ret = VS_PROG_USAGE;
	} else if (ret == 0 && (ret = vs_catalog_edit(p->db, p->args[0], &e, &row)) == 0) {
		ret = vs_record_write(stdout, row);
	}
	vs_meta_edit_release(&e);
	json_decref(fields);
	json_decref(row);
	return ret;
}

static int set(struct vs_prog *p)
{
	struct run *r = p->ctx;
	json_t *f = json_object();

	if (r->public_ && r->private_) {
		vs_opt_usage_error(p->cmd, "--public and --private do not go together");
		json_decref(f);
		return VS_PROG_USAGE;
	}
	const char *const names[] = {"title", "description", "tags", "category", "slug"};
	const char *const values[] = {r->title, r->description, r->tags, r->category, r->slug};

	for (size_t i = 0; i < VS_ARRAY_SIZE(names); i++)
		if (values[i])
			json_object_set_new(f, names[i], json_string(values[i]));
	if (r->public_ || r->private_)
		json_object_set_new(f, "is_public", json_boolean(r->public_));
	return apply(p, f);
}

static int chapters(struct vs_prog *p)
{
	struct run *r = p->ctx;
	json_t *list = NULL;
	int ret;

	if (!r->from == !r->clear) {
		vs_opt_usage_error(p->cmd, "chapters needs --from FILE or --clear");
		return VS_PROG_USAGE;
	}
	if (r->clear)
		return apply(p, json_pack("{s:[]}", "chapters"));
	if ((ret = vs_chapters_read_file(r->from, &list)) < 0)
		return ret;
	vs_log_info("the package's chapters.vtt follows on the next vs-package and vs-publish of the video");
	return apply(p, json_pack("{s:o}", "chapters", list));
}

static int publish(struct vs_prog *p)
{
	return vs_catalog_publish(p->db, p->args[0], !strcmp(p->sub->name, "publish"), NULL);
}

static int delete(struct vs_prog *p)
{
	struct run *r = p->ctx;
	char id[37];
	int ret = vs_catalog_delete(p->db, p->args[0], r->to, id);

	if (ret == 0 && (!r->to || !*r->to))
		vs_log_warn("%s is deleted; what vs-publish put on an origin stays there (give --to URL)", id);
	return ret;
}

/* gc: uploads (tus) left unfinished longer than --older-than */
static int gc(struct vs_prog *p)
{
	struct run *r = p->ctx;
	int n = 0, ret = vs_tus_gc(p->media_root, r->older_than_s, &n);

	if (ret == 0)
		vs_log_info("%d unfinished upload%s removed", n, n == 1 ? "" : "s");
	return ret;
}

static const struct vs_subcommand commands[] = {
	{"list", list, VS_OPT_DB_NEEDED},
	{"show", show, VS_OPT_DB_NEEDED, 1, 1, "a video id or slug"},
	{"set", set, VS_OPT_DB_NEEDED, 1, 1, "a video id or slug"},
	{"chapters", chapters, VS_OPT_DB_NEEDED, 1, 1, "a video id or slug"},
	{"publish", publish, VS_OPT_DB_NEEDED, 1, 1, "a video id or slug"},
	{"unpublish", publish, VS_OPT_DB_NEEDED, 1, 1, "a video id or slug"},
	{"delete", delete, VS_OPT_DB_NEEDED, 1, 1, "a video id or slug"},
	{"gc", gc, VS_OPT_DB_NONE},
	{0},
};

int main(int argc, char **argv)
{
	struct run r = {.filter = {.published = -1, .since = NAN}, .to = getenv("VS_PUBLISH_URL"),
	                .older_than_s = VS_TUS_EXPIRY_S};
	const struct vs_command cmd = {
		.name = "vs-video",
		.synopsis = "[options] list [--status S] [--published|--unpublished] [--search TEXT] [--format table]\n"
		            "[options] set ID [--title T] [--description D] [--tags A,B] [--category C] [--slug S]"
		            " [--public|--private]\n"
		            "[options] chapters ID --from FILE|--clear\n"
		            "[options] show|publish|unpublish|delete ID\n"
		            "[options] gc [--older-than SECONDS]",
		.summary = "List, show and edit the catalog's videos; publish, hide and delete them",
		.commands = commands,
		.common = VS_COMMON_DATABASE | VS_COMMON_MEDIA_ROOT,
		.options = (const struct vs_option[]){
			VS_OPT_STRING(0, "status", "STATUS", r.filter.status, "list: uploading, processing, ready, failed or deleted"),
			VS_OPT_SET(0, "published", r.published, "list: only published videos"),
			VS_OPT_SET(0, "unpublished", r.unpublished, "list: only unpublished videos"),
			VS_OPT_STRING(0, "category", "NAME", r.filter.category, "list: of this category; set: the category"),
			VS_OPT_STRING(0, "tag", "TAG", r.filter.tag, "list: with this tag"),
			VS_OPT_STRING(0, "since", "TIME", r.since, "list: created from TIME (epoch seconds, ISO 8601, 7d)"),
			VS_OPT_STRING(0, "search", "TEXT", r.filter.search, "list: TEXT in the title or description"),
			VS_OPT_INT('n', "limit", "N", r.filter.limit, 1, VS_CATALOG_LIST_MAX, "list: at most N, newest first",
			           VS_OPT_DEFAULT(VS_CATALOG_LIST_DEFAULT)),
			VS_OPT_CHOICE(0, "format", "FORMAT", r.format, "json|table", "list: json records (default) or a table"),
			VS_OPT_STRING('t', "title", "TEXT", r.title, "set: the title"),
			VS_OPT_STRING('d', "description", "TEXT", r.description, "set: the description"),
			VS_OPT_STRING(0, "tags", "A,B", r.tags, "set: the tags, comma-separated (replace the old ones)"),
			VS_OPT_STRING(0, "slug", "SLUG", r.slug, "set: the URL name"),
			VS_OPT_SET(0, "public", r.public_, "set: anyone may watch it once published"),
			VS_OPT_SET(0, "private", r.private_, "set: only signed-in viewers may watch it"),
			VS_OPT_STRING(0, "from", "FILE", r.from, "chapters: WebVTT, JSON records or an FFmpeg metadata file"),
			VS_OPT_SET(0, "clear", r.clear, "chapters: remove them all"),
			VS_OPT_STRING(0, "to", "URL", r.to, "delete: remove its objects from this origin ($VS_PUBLISH_URL)"),
			VS_OPT_DOUBLE(0, "older-than", "SECONDS", r.older_than_s, 0, 1e9, "gc: uploads unfinished this long",
			              VS_OPT_DEFAULT(VS_TUS_EXPIRY_S)),
			{0},
		},
	};
	struct vs_prog p;

	if (!vs_prog_start(&p, &cmd, argc, argv, &r))
		return p.status;
	if (r.published && r.unpublished)
		return vs_opt_usage_error(&cmd, "--published and --unpublished do not go together");
	r.filter.published = r.published ? 1 : r.unpublished ? 0 : -1;
	if (r.since && vs_clock_parse_time(r.since, true, vs_clock_now(), &r.filter.since) < 0)
		return vs_opt_usage_error(&cmd, "--since: %s", vs_error_message());
	r.category = r.filter.category; /* one --category: the filter of list, the value of set */
	return vs_prog_dispatch(&p, &r);
}
