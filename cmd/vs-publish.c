/*
 * vs-publish: put packages on their origin and mark them published.
 *
 *   ... | vs-publish [--to URL] [--publish|--no-publish]
 *   vs-publish --unpublish ID
 *   vs-publish [--to URL] --delete ID
 */
#include "error.h"
#include "log.h"
#include "prog.h"
#include "publish.h"
#include "record.h"
#include "s3.h"


enum {
	OPT_TO = 0x100,
	OPT_PUBLISH,
	OPT_NO_PUBLISH,
	OPT_UNPUBLISH,
	OPT_DELETE,
	OPT_BASE_URL,
	OPT_MULTIPART,
	OPT_PLAYLIST_CACHE,
};

static const struct vs_option options[] = {
	{OPT_TO, 0, "to", "URL", "target: file:///path or s3://bucket/prefix (default: $VS_PUBLISH_URL)"},
	{OPT_PUBLISH, 0, "publish", NULL, "mark the video published (default)"},
	{OPT_NO_PUBLISH, 0, "no-publish", NULL, "upload, but leave the video unpublished"},
	{OPT_UNPUBLISH, 0, "unpublish", "ID", "hide a published video"},
	{OPT_DELETE, 0, "delete", "ID", "remove a video's published objects and mark it deleted"},
	{OPT_BASE_URL, 0, "base-url", "URL", "public URL of the target (default: $VS_PUBLIC_BASE_URL)"},
	{OPT_MULTIPART, 0, "multipart-threshold", "BYTES", "S3: upload larger files in parts of this size", VS_OPT_DEFAULT(VS_S3_MULTIPART_THRESHOLD)},
	{OPT_PLAYLIST_CACHE, 0, "playlist-cache-control", "VALUE", "S3: Cache-Control of playlists (default: " VS_CACHE_PLAYLIST ")"},
	{0},
};

static const struct vs_command cmd = {
	.name = "vs-publish",
	.synopsis = "[options] < records\n--unpublish ID\n[--to URL] --delete ID",
	.summary = "Put packages on their origin and mark the videos published",
	.options = options,
	.common = VS_COMMON_DATABASE,
};

static int publish_one(json_t *rec, void *ctx)
{
	return vs_publish(rec, ctx);
}

int main(int argc, char **argv)
{
	struct vs_publish_opts po = {.publish = true};
	struct vs_opt opt = VS_OPT_INIT(&cmd, argc, argv);
	struct vs_prog p;
	const char *arg, *unpublish = NULL, *del = NULL;
	int c, ret = 0;

	vs_log_init(argv[0]);
	po.target = getenv("VS_PUBLISH_URL");
	po.base_url = getenv("VS_PUBLIC_BASE_URL");
	while ((c = vs_opt_next(&opt, &arg)) > 0) {
		switch (c) {
		case OPT_TO: po.target = arg; break;
		case OPT_PUBLISH: po.publish = true; break;
		case OPT_NO_PUBLISH: po.publish = false; break;
		case OPT_UNPUBLISH: unpublish = arg; break;
		case OPT_DELETE: del = arg; break;
		case OPT_BASE_URL: po.base_url = arg; break;
		case OPT_MULTIPART:
			if (vs_opt_long(&cmd, "multipart-threshold", arg, 5LL << 20, 5LL << 30, &po.multipart_threshold) < 0)
				return VS_EXIT_USAGE;
			break;
		case OPT_PLAYLIST_CACHE: po.playlist_cache_control = arg; break;
		}
	}
	if (c < 0)
		return vs_opt_exit(c);
	vs_prog_init(&p, &opt);
	if (p.n_args > 0)
		return vs_usage_error(&cmd, "unexpected argument '%s'", p.args[0]);
	if (unpublish && del)
		return vs_usage_error(&cmd, "--unpublish and --delete do not go together");
	if (!unpublish && (!po.target || !*po.target))
		return vs_usage_error(&cmd, "no target: give --to URL or set VS_PUBLISH_URL");
	if (!unpublish && strncmp(po.target, "file:///", 8) && strncmp(po.target, "s3://", 5))
		return vs_usage_error(&cmd, "target '%s': use file:///path or s3://bucket/prefix", po.target);
	if (!unpublish && !strncmp(po.target, "s3://", 5)) {
		char *bucket = NULL, *prefix = NULL;
		int bad = vs_s3_parse_url(po.target, &bucket, &prefix);

		free(bucket);
		free(prefix);
		if (bad < 0)
			return vs_usage_error(&cmd, "%s", vs_error_message());
	}
	ret = vs_prog_open_db(&p, unpublish || del ? VS_OPT_DB_NEEDED : VS_OPT_DB_IF_GIVEN,
	                      unpublish ? "--unpublish" : del ? "--delete" : NULL);
	po.db = p.db;
	if (ret == 0 && unpublish)
		ret = vs_publish_unpublish(p.db, unpublish);
	else if (ret == 0 && del)
		ret = vs_publish_delete(p.db, po.target, del);
	else if (ret == 0)
		ret = vs_record_loop(stdin, "stdin", publish_one, &po, &p.status);
	return vs_prog_end(&p, ret);
}
