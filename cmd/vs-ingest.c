/*
 * vs-ingest: probe, store and register uploaded videos.
 *
 *   vs-ingest [options] FILE|URL...
 *   ... | vs-ingest [options]          (records carrying "source")
 */
#include "captions.h"
#include "error.h"
#include "hash.h"
#include "ingest.h"
#include "log.h"
#include "prog.h"
#include "record.h"
#include "slug.h"
#include "store.h"

struct run {
	struct vs_ingest_opts io;
	const char *store;    /* s3://bucket/prefix, or NULL */
	const char *captions; /* --captions LANG=FILE,… */
	int download_timeout_s;
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
	struct run run = {.io = {.fetch = VS_FETCH_OPTS_INIT}, .store = getenv("VS_SOURCE_STORE"),
	                  .download_timeout_s = VS_FETCH_TIMEOUT_S};
	struct vs_ingest_opts *io = &run.io;
	const struct vs_command cmd = {
		.name = "vs-ingest",
		.synopsis = "[options] FILE|URL...\n[options] < records",
		.summary = "Probe uploaded videos, store them under the media root and register them",
		.common = VS_COMMON_DATABASE | VS_COMMON_MEDIA_ROOT,
		.options = (const struct vs_option[]){
			VS_OPT_STRING('t', "title", "TEXT", io->title, "title (default: the file name)"),
			VS_OPT_STRING('d', "description", "TEXT", io->description, "description"),
			VS_OPT_STRING(0, "tags", "A,B", io->tags, "comma-separated tags"),
			VS_OPT_STRING(0, "category", "NAME", io->category, "category"),
			VS_OPT_STRING(0, "slug", "SLUG", io->slug, "URL name, unique (default: from the title)"),
			VS_OPT_STRING(0, "captions", "LANG=FILE,...", run.captions,
			              "caption files, WebVTT or SubRip (en=lecture.vtt,fr=lecture.fr.srt)"),
			VS_OPT_LLONG(0, "max-size", "BYTES", io->fetch.max_bytes, 1, INT64_MAX, "largest download accepted",
			             VS_OPT_DEFAULT(VS_FETCH_MAX_BYTES_DEFAULT)),
			VS_OPT_INT(0, "download-timeout", "SECONDS", run.download_timeout_s, 1, VS_FETCH_TIMEOUT_MAX_S,
			           "give up a download that takes longer", VS_OPT_DEFAULT(VS_FETCH_TIMEOUT_S)),
			VS_OPT_STRING(0, "allow-address", "IP,...", io->fetch.allow,
			              "private addresses downloads may come from ($VS_INGEST_ALLOW_ADDRESSES)"),
			VS_OPT_STRING(0, "ca-file", "FILE", io->fetch.ca_file,
			              "check https servers against these PEM certificates ($VS_INGEST_CA_FILE)"),
			VS_OPT_SET(0, "move-source", io->move_source,
			           "the sources are the caller's files under the media root (uploads): rename, not copy"),
			VS_OPT_STRING(0, "store", "URL", run.store,
			              "also keep the source in s3://bucket/prefix for other workers ($VS_SOURCE_STORE)"),
			{0},
		},
	};
	struct vs_prog p;
	json_t *captions = NULL;
	int ret = 0;

	io->fetch.allow = getenv("VS_INGEST_ALLOW_ADDRESSES");
	io->fetch.ca_file = getenv("VS_INGEST_CA_FILE");
	if (!vs_prog_start(&p, &cmd, argc, argv, NULL))
		return p.status;
	if (io->slug && p.n_args > 1)
		return vs_opt_usage_error(&cmd, "--slug names one video: give one input");
	if (io->slug && !vs_slug_valid(io->slug))
		return vs_opt_usage_error(&cmd, "--slug '%s' is not valid: use lower-case letters, "
		                      "digits and single dashes", io->slug);
	io->media_root = p.media_root;
	io->fetch.timeout_s = run.download_timeout_s;
	if (run.store && !*run.store)
		run.store = NULL;
	if (run.store && strncmp(run.store, "s3://", 5))
		return vs_opt_usage_error(&cmd, "--store: '%s' is not an s3://bucket/prefix", run.store);
	if (run.captions && vs_captions_parse_arg(run.captions, &captions) < 0)
		return vs_opt_usage_error(&cmd, "--captions: %s", vs_error_message());
	io->captions = captions;

	if ((ret = vs_prog_open_db(&p, VS_OPT_DB_IF_GIVEN, NULL)) < 0) {
		json_decref(captions);
		return vs_prog_end(&p, ret);
	}
	io->db = p.db;

	if (p.n_args == 0) {
		ret = vs_record_loop(stdin, "stdin", ingest_one, &run, &p.status);
	} else {
		for (int i = 0; i < p.n_args && ret == 0; i++) {
			json_t *rec = json_object();
			json_t *src = json_string(p.args[i]);

			if (src) {
				json_object_set_new(rec, "source", src);
				ret = vs_record_process(rec, ingest_one, &run, &p.status);
			} else {
				/* JSON strings must be UTF-8; so must the names we keep. */
				vs_log_error("cannot ingest '%s': the name is not valid UTF-8", p.args[i]);
				vs_record_set_error(rec, VS_E_INVALID, "the file name is not valid UTF-8");
				p.status = vs_exit_worse(p.status, VS_EXIT_FAILED);
				ret = vs_record_write(stdout, rec);
			}
			json_decref(rec);
		}
	}
	json_decref(captions);
	return vs_prog_end(&p, ret);
}
