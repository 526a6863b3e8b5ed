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

static int publish_one(json_t *rec, void *ctx)
{
	return vs_publish(rec, ctx);
}

int main(int argc, char **argv)
{
	struct vs_publish_opts po = {.publish = true};
	const char *unpublish = NULL, *del = NULL;
	const struct vs_command cmd = {
		.name = "vs-publish",
		.synopsis = "[options] < records\n--unpublish ID\n[--to URL] --delete ID",
		.summary = "Put packages on their origin and mark the videos published",
		.common = VS_COMMON_DATABASE,
		.options = (const struct vs_option[]){
			VS_OPT_STRING(0, "to", "URL", po.target,
			              "target: file:///path or s3://bucket/prefix (default: $VS_PUBLISH_URL)"),
			VS_OPT_SET(0, "publish", po.publish, "mark the video published (default)"),
			VS_OPT_CLEAR(0, "no-publish", po.publish, "upload, but leave the video unpublished"),
			VS_OPT_STRING(0, "unpublish", "ID", unpublish, "hide a published video"),
			VS_OPT_STRING(0, "delete", "ID", del, "remove a video's published objects and mark it deleted"),
			VS_OPT_STRING(0, "base-url", "URL", po.base_url,
			              "public URL of the target (default: $VS_PUBLIC_BASE_URL)"),
			VS_OPT_LLONG(0, "multipart-threshold", "BYTES", po.multipart_threshold, 5LL << 20, 5LL << 30,
			             "S3: upload larger files in parts of this size", VS_OPT_DEFAULT(VS_S3_MULTIPART_THRESHOLD)),
			VS_OPT_STRING(0, "playlist-cache-control", "VALUE", po.playlist_cache_control,
			              "S3: Cache-Control of playlists (default: " VS_CACHE_PLAYLIST ")"),
			{0},
		},
	};
	struct vs_prog p;
	int ret = 0;

	po.target = getenv("VS_PUBLISH_URL");
	po.base_url = getenv("VS_PUBLIC_BASE_URL");
	if (!vs_prog_start(&p, &cmd, argc, argv, NULL))
		return p.status;
	if (p.n_args > 0)
		return vs_opt_usage_error(&cmd, "unexpected argument '%s'", p.args[0]);
	if (unpublish && del)
		return vs_opt_usage_error(&cmd, "--unpublish and --delete do not go together");
	if (!unpublish && (!po.target || !*po.target))
		return vs_opt_usage_error(&cmd, "no target: give --to URL or set VS_PUBLISH_URL");
	if (!unpublish && strncmp(po.target, "file:///", 8) && strncmp(po.target, "s3://", 5))
		return vs_opt_usage_error(&cmd, "target '%s': use file:///path or s3://bucket/prefix", po.target);
	if (!unpublish && !strncmp(po.target, "s3://", 5)) {
		char *bucket = NULL, *prefix = NULL;
		int bad = vs_s3_parse_url(po.target, &bucket, &prefix);

		free(bucket);
		free(prefix);
		if (bad < 0)
			return vs_opt_usage_error(&cmd, "%s", vs_error_message());
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
