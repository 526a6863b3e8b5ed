/* vs-video: the catalog from the shell (catalogedit.h, as vs-cgi's admin endpoints). */
#include <math.h>

#include "captioning.h"
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
	struct vs_caption_spec caption; /* captions add|remove: --lang, --label, --kind, --default */
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
	json_t *row = NULL;
	int ret = json_object_size(fields) ? vs_catalog_edit_json(p->db, p->args[0], fields, &row)
	                                   : vs_opt_usage_error(p->cmd, "%s: nothing to change", p->sub->name);

	json_decref(fields);
	return ret == VS_EXIT_USAGE ? VS_PROG_USAGE : vs_record_emit(stdout, ret, row);
}

static int set(struct vs_prog *p)
{
	struct run *r = p->ctx;
	const char *const names[] = {"title", "description", "tags", "category", "slug"};
	const char *const values[] = {r->title, r->description, r->tags, r->category, r->slug};
	json_t *f = json_object();

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

	if (!r->from == !r->clear)
		return vs_opt_usage_error(p->cmd, "chapters needs --from FILE or --clear"), VS_PROG_USAGE;
	if (r->from && (ret = vs_chapters_read_file(r->from, &list)) < 0)
		return ret;
	return apply(p, json_pack("{s:o}", "chapters", list ? list : json_array()));
}

/* captions ID [add FILE | remove]: the video's tracks, one more, one less */
static int captions(struct vs_prog *p)
{
	struct run *r = p->ctx;
	const char *act = p->n_args > 1 ? p->args[1] : "";
	json_t *out = NULL;
	int ret;

	if (!*act)
		ret = vs_captioning_list(p->db, p->args[0], &out);
	else if (r->caption.language && !strcmp(act, "add") && p->n_args == 3)
		ret = vs_captioning_add(p->db, p->media_root, p->args[0], &r->caption, p->args[2], &out);
	else if (r->caption.language && !strcmp(act, "remove") && p->n_args == 2)
		ret = vs_captioning_remove(p->db, p->args[0], r->caption.language, r->caption.kind, &out);
	else
		return vs_opt_usage_error(p->cmd, "captions ID [add FILE --lang L | remove --lang L]"), VS_PROG_USAGE;
	return vs_record_emit(stdout, ret, out);
}

static int publish(struct vs_prog *p)
{
	return vs_catalog_publish(p->db, p->args[0], !strcmp(p->sub->name, "publish"), NULL);
}

static int delete(struct vs_prog *p)
{
	return vs_catalog_delete(p->db, p->args[0], ((const struct run *)p->ctx)->to, NULL);
}

/* gc: uploads (tus) left unfinished longer than --older-than */
static int gc(struct vs_prog *p)
{
	int n = 0, ret = vs_tus_gc(p->media_root, ((const struct run *)p->ctx)->older_than_s, &n);

	if (ret == 0)
		vs_log_info("%d unfinished upload%s removed", n, n == 1 ? "" : "s");
	return ret;
}

static const struct vs_subcommand commands[] = {
	{"list", list, VS_OPT_DB_NEEDED},
	{"show", show, VS_OPT_DB_NEEDED, 1, 1, "a video id or slug"},
	{"set", set, VS_OPT_DB_NEEDED, 1, 1, "a video id or slug"},
	{"chapters", chapters, VS_OPT_DB_NEEDED, 1, 1, "a video id or slug"},
	{"captions", captions, VS_OPT_DB_NEEDED, 1, 3, "a video id or slug"},
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
		            "[options] captions ID [add FILE --lang L [--label T] [--kind K] [--default] | remove --lang L]\n"
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
			VS_OPT_STRING(0, "lang", "TAG", r.caption.language, "captions: the track's language (en, pt-BR)"),
			VS_OPT_STRING(0, "label", "TEXT", r.caption.label, "captions add: its name (default: the language's)"),
			VS_OPT_STRING(0, "kind", "KIND", r.caption.kind, "captions: captions (default) or subtitles"),
			VS_OPT_SET(0, "default", r.caption.is_default, "captions add: the track players show unless told"),
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
	if (r.public_ && r.private_)
		return vs_opt_usage_error(&cmd, "--public and --private do not go together");
	r.filter.published = r.published ? 1 : r.unpublished ? 0 : -1;
	if (r.since && vs_clock_parse_time(r.since, true, vs_clock_now(), &r.filter.since) < 0)
		return vs_opt_usage_error(&cmd, "--since: %s", vs_error_message());
	r.category = r.filter.category; /* one --category: the filter of list, the value of set */
	return vs_prog_dispatch(&p, &r);
}
