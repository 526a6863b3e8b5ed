/*
 * vs-ingest: probe, store and register uploaded videos.
 *
 *   vs-ingest [options] FILE|URL...
 *   ... | vs-ingest [options]          (records carrying "source")
 */
#include "db.h"
#include "error.h"
#include "ingest.h"
#include "log.h"
#include "opt.h"
#include "store.h"
#include "record.h"

enum {
	OPT_TITLE = 0x100,
	OPT_DESCRIPTION,
	OPT_TAGS,
	OPT_CATEGORY,
	OPT_SLUG,
	OPT_MEDIA_ROOT,
	OPT_MAX_SIZE,
	OPT_ALLOW_ADDRESS,
	OPT_STORE,
};

static const struct vs_option options[] = {
	{OPT_TITLE, 't', "title", "TEXT", "title (default: the file name)"},
	{OPT_DESCRIPTION, 'd', "description", "TEXT", "description"},
	{OPT_TAGS, 0, "tags", "A,B", "comma-separated tags"},
	{OPT_CATEGORY, 0, "category", "NAME", "category"},
	{OPT_SLUG, 0, "slug", "SLUG", "URL name, unique (default: from the title)"},
	{OPT_MEDIA_ROOT, 0, "media-root", "DIR", "working storage (default: $VS_MEDIA_ROOT or ./vs-media)"},
	{OPT_MAX_SIZE, 0, "max-size", "BYTES", "largest download accepted (default: 20 GiB)"},
	{OPT_ALLOW_ADDRESS, 0, "allow-address", "IP,...", "private addresses downloads may come from ($VS_INGEST_ALLOW_ADDRESSES)"},
	{OPT_STORE, 0, "store", "URL", "also keep the source in s3://bucket/prefix for other workers ($VS_SOURCE_STORE)"},
	{0},
};

static const struct vs_command cmd = {
	.name = "vs-ingest",
	.synopsis = "[options] FILE|URL...\n[options] < records",
	.summary = "Probe uploaded videos, store them under the media root and register them",
	.options = options,
	.common = VS_COMMON_DATABASE,
};

struct run {
	struct vs_ingest_opts io;
	const char *store; /* s3://bucket/prefix, or NULL */
};

static int ingest_one(json_t *rec, void *ctx)
{
	struct run *r = ctx;
	bool existing = false;
	int ret = vs_ingest(rec, &r->io, &existing);

	if (ret == 0 && existing)
		vs_log_info("'%s' is already ingested as %s",
		            vs_json_str(rec, "source.original_filename"), vs_json_str(rec, "id"));
	if (ret == 0 && r->store)
		ret = vs_store_put_source(r->store, rec, r->io.db);
	return ret;
}

int main(int argc, char **argv)
{
	struct run run = {.io = {.fetch = VS_FETCH_OPTS_INIT}, .store = getenv("VS_SOURCE_STORE")};
	struct vs_ingest_opts *io = &run.io;
	struct vs_opt opt = VS_OPT_INIT(&cmd, argc, argv);
	const char *arg, *media_root = NULL, *url;
	int c, status = VS_EXIT_OK, ret = 0;
	PGconn *db = NULL;

	vs_log_init(argv[0]);
	io->fetch.allow = getenv("VS_INGEST_ALLOW_ADDRESSES");
	while ((c = vs_opt_next(&opt, &arg)) > 0) {
		switch (c) {
		case OPT_TITLE: io->title = arg; break;
		case OPT_DESCRIPTION: io->description = arg; break;
		case OPT_TAGS: io->tags = arg; break;
		case OPT_CATEGORY: io->category = arg; break;
		case OPT_SLUG: io->slug = arg; break;
		case OPT_MEDIA_ROOT: media_root = arg; break;
		case OPT_STORE: run.store = arg; break;
		case OPT_ALLOW_ADDRESS: io->fetch.allow = arg; break;
		case OPT_MAX_SIZE:
			if (vs_opt_long(&cmd, "max-size", arg, 1, INT64_MAX, &io->fetch.max_bytes) < 0)
				return VS_EXIT_USAGE;
			break;
		}
	}
	if (c < 0)
		return vs_opt_exit(c);
	vs_opt_release(&opt);
	if (io->slug && argc - opt.optind > 1)
		return vs_usage_error(&cmd, "--slug names one video: give one input");
	if (io->slug && !vs_is_slug(io->slug))
		return vs_usage_error(&cmd, "--slug '%s' is not valid: use lower-case letters, "
		                      "digits and single dashes", io->slug);
	io->media_root = vs_media_root(media_root);
	if (run.store && !*run.store)
		run.store = NULL;
	if (run.store && strncmp(run.store, "s3://", 5))
		return vs_usage_error(&cmd, "--store: '%s' is not an s3://bucket/prefix", run.store);

	url = vs_db_url(opt.common.database);
	if (url && (ret = vs_db_connect(url, &db)) < 0) {
		vs_log_error("%s", vs_error_message());
		return vs_exit_for(ret);
	}
	io->db = db;

	if (opt.optind == argc) {
		ret = vs_record_loop(stdin, "stdin", ingest_one, &run, &status);
	} else {
		for (int i = opt.optind; i < argc && ret == 0; i++) {
			json_t *rec = json_object();
			json_t *src = json_string(argv[i]);

			if (src) {
				json_object_set_new(rec, "source", src);
				ret = vs_record_process(rec, ingest_one, &run, &status);
			} else {
				/* JSON strings must be UTF-8; so must the names we keep. */
				vs_log_error("cannot ingest '%s': the name is not valid UTF-8", argv[i]);
				vs_record_set_error(rec, VS_E_INVALID, "the file name is not valid UTF-8");
				status = vs_exit_worse(status, VS_EXIT_FAILED);
				ret = vs_record_write(stdout, rec);
			}
			json_decref(rec);
		}
	}
	if (ret < 0) {
		vs_log_error("%s", vs_error_message());
		status = VS_EXIT_FAILED;
	}
	vs_db_close(db);
	if (vs_close_stdout() < 0)
		status = VS_EXIT_FAILED;
	return status;
}
