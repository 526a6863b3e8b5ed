/*
 * vs-video: the catalog from the shell: list, show, set, chapters, publish,
 * unpublish, delete (catalogedit.h underneath, as vs-cgi's admin endpoints).
 */
#include <math.h>

#include "catalog.h"
#include "catalogedit.h"
#include "chapters.h"
#include "clock.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "prog.h"
#include "publish.h"
#include "record.h"

/* The program's settings, for its subcommands. */
struct run {
	struct vs_catalog_filter filter;
	bool published, unpublished, public_, private_, clear;
	int format; /* 0 json, 1 table */
	const char *since, *from, *to;
	const char *title, *description, *tags, *category, *slug;
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

	if (ret == 0)
		ret = vs_record_write(stdout, row);
	json_decref(row);
	return ret;
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
	if (r->title)
		json_object_set_new(f, "title", json_string(r->title));
	if (r->description)
		json_object_set_new(f, "description", json_string(r->description));
	if (r->tags)
		json_object_set_new(f, "tags", json_string(r->tags));
	if (r->category)
		json_object_set_new(f, "category", json_string(r->category));
	if (r->slug)
		json_object_set_new(f, "slug", json_string(r->slug));
	if (r->public_ || r->private_)
		json_object_set_new(f, "is_public", json_boolean(r->public_));
	return apply(p, f);
}

static int chapters(struct vs_prog *p)
{
	struct run *r = p->ctx;
	json_t *list = NULL;
	char *text = NULL;
	size_t len = 0;
	int ret;

	if (!r->from == !r->clear) {
		vs_opt_usage_error(p->cmd, "chapters needs --from FILE or --clear");
		return VS_PROG_USAGE;
	}
	if (r->clear)
		return apply(p, json_pack("{s:[]}", "chapters"));
	ret = vs_fsutil_read_file(r->from, VS_CHAPTERS_FILE_MAX, &text, &len);
	if (ret == 0 && (ret = vs_chapters_parse(text, len, &list)) < 0)
		vs_error_prefix("'%s'", r->from);
	free(text);
	if (ret < 0)
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
	struct vs_video_state st = {.status = "deleted", .published = VS_PUBLICATION_OFF};
	json_t *row = NULL;
	int ret = vs_catalog_show(p->db, p->args[0], &row);
	const char *id = vs_json_str(row, "id");

	if (ret == 0 && r->to && *r->to)
		ret = vs_publish_delete(p->db, r->to, id);
	else if (ret == 0 && (ret = vs_catalog_set_state(p->db, id, &st)) == 0)
		vs_log_warn("%s is deleted; what vs-publish put on an origin stays there (give --to URL)", id);
	json_decref(row);
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
	{0},
};

int main(int argc, char **argv)
{
	struct run r = {.filter = {.published = -1, .since = NAN}, .to = getenv("VS_PUBLISH_URL")};
	const struct vs_command cmd = {
		.name = "vs-video",
		.synopsis = "[options] list [--status S] [--published|--unpublished] [--search TEXT] [--format table]\n"
		            "[options] show ID\n"
		            "[options] set ID [--title T] [--description D] [--tags A,B] [--category C] [--slug S]"
		            " [--public|--private]\n"
		            "[options] chapters ID --from FILE|--clear\n"
		            "[options] publish|unpublish|delete ID",
		.summary = "List, show and edit the catalog's videos; publish, hide and delete them",
		.commands = commands,
		.common = VS_COMMON_DATABASE,
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
