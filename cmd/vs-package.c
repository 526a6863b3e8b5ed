/*
 * vs-package: cut renditions into HLS (and DASH) packages; validate any
 * HLS package.
 *
 *   ... | vs-package [options]
 *   vs-package --check DIR|PLAYLIST
 */
#include "catalog.h"
#include "check.h"
#include "error.h"
#include "log.h"
#include "package.h"
#include "prog.h"
#include "record.h"

enum {
	OPT_OUT = 0x100,
	OPT_SEGMENT_SECONDS,
	OPT_SEGMENT_TYPE,
	OPT_AUDIO_GROUP,
	OPT_DASH,
	OPT_ENCRYPT,
	OPT_KEY_URI,
	OPT_CHECK,
	OPT_FORCE,
};

static const struct vs_option options[] = {
	{OPT_OUT, 'o', "out", "DIR", "package directory (default: MEDIA_ROOT/ID/hls)"},
	{OPT_SEGMENT_SECONDS, 0, "segment-seconds", "S", "segment length, a multiple of the GOP", VS_OPT_DEFAULT(VS_SEGMENT_SECONDS_DEFAULT)},
	{OPT_SEGMENT_TYPE, 0, "segment-type", "TYPE", "fmp4 (CMAF, default) or ts"},
	{OPT_AUDIO_GROUP, 0, "audio-group", NULL, "one audio rendition shared by all variants"},
	{OPT_DASH, 0, "dash", NULL, "also write a DASH MPD over the same segments (fmp4)"},
	{OPT_ENCRYPT, 0, "encrypt", "METHOD", "encrypt the segments: aes-128"},
	{OPT_KEY_URI, 0, "key-uri", "URI", "EXT-X-KEY URI (default: /api/v1/videos/ID/key)"},
	{OPT_CHECK, 0, "check", "PATH", "validate the HLS package at PATH (a directory or playlist)"},
	{OPT_FORCE, 'f', "force", NULL, "package again even when a finished package of the same inputs exists"},
	{0},
};

static const struct vs_command cmd = {
	.name = "vs-package",
	.synopsis = "[options] < records\n--check DIR|PLAYLIST",
	.summary = "Cut renditions into HLS (fMP4 or TS) and DASH packages, or validate a package",
	.options = options,
	.common = VS_COMMON_DATABASE | VS_COMMON_MEDIA_ROOT,
};

struct run {
	struct vs_package_opts po;
	int packaged;
};

/* vs_package()'s key_ready: the key into the database (ctx), where vs-cgi's
 * key endpoint finds it, before the package that needs it is in place. */
static int store_key(const char *id, const uint8_t key[16], const uint8_t iv[16], void *ctx)
{
	return vs_catalog_store_key(ctx, id, key, iv);
}

static int package_one(json_t *rec, void *ctx)
{
	struct run *r = ctx;
	bool reused = false;
	int ret;

	if (r->po.out && r->packaged > 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "--out names one package: this is a second record");
	r->po.reused = &reused;
	ret = vs_package(rec, &r->po);
	r->po.reused = NULL;
	if (ret == 0 && reused)
		vs_log_info("%s is already packaged from these inputs (--force packages again)", vs_json_str(rec, "id"));
	r->packaged += ret == 0;
	return ret;
}

int main(int argc, char **argv)
{
	struct run r = {.po = VS_PACKAGE_OPTS_INIT};
	struct vs_package_opts po = VS_PACKAGE_OPTS_INIT;
	struct vs_opt opt = VS_OPT_INIT(&cmd, argc, argv);
	struct vs_prog p;
	const char *arg, *check = NULL;
	int c, ret;

	vs_log_init(argv[0]);
	while ((c = vs_opt_next(&opt, &arg)) > 0) {
		switch (c) {
		case OPT_OUT: po.out = arg; break;
		case OPT_SEGMENT_SECONDS:
			if (vs_opt_double(&cmd, "segment-seconds", arg, 0.5, 60, &po.segment_s) < 0)
				return VS_EXIT_USAGE;
			break;
		case OPT_SEGMENT_TYPE:
			if (strcmp(arg, "fmp4") && strcmp(arg, "ts"))
				return vs_usage_error(&cmd, "--segment-type: '%s' is not fmp4 or ts", arg);
			po.ts = !strcmp(arg, "ts");
			break;
		case OPT_AUDIO_GROUP: po.audio_group = true; break;
		case OPT_DASH: po.dash = true; break;
		case OPT_ENCRYPT:
			if (strcmp(arg, "aes-128"))
				return vs_usage_error(&cmd, "--encrypt: '%s' is not aes-128", arg);
			po.encrypt = true;
			break;
		case OPT_KEY_URI: po.key_uri = arg; break;
		case OPT_CHECK: check = arg; break;
		case OPT_FORCE: po.force = true; break;
		}
	}
	if (c < 0)
		return vs_opt_exit(c);
	vs_prog_init(&p, &opt);
	if (p.n_args > 0)
		return vs_usage_error(&cmd, "unexpected argument '%s'", p.args[0]);
	if (po.dash && po.ts)
		return vs_usage_error(&cmd, "--dash needs fmp4 segments, not ts");
	/* HLS AES-128 encrypts whole segments (CBC): DASH players know only
	 * CENC, so that MPD would promise what no DASH player can play */
	if (po.dash && po.encrypt)
		return vs_usage_error(&cmd, "--dash cannot go with --encrypt aes-128: DASH players need CENC");
	if (po.key_uri && !po.encrypt)
		return vs_usage_error(&cmd, "--key-uri goes with --encrypt aes-128");
	if (check) {
		/* the findings are on stdout; > 0 of them fail it */
		ret = vs_check_package(check, stdout);
		p.status = ret != 0 ? VS_EXIT_FAILED : VS_EXIT_OK;
		return vs_prog_end(&p, 0);
	}
	po.media_root = p.media_root;
	if ((ret = vs_prog_open_db(&p, VS_OPT_DB_IF_GIVEN, NULL)) < 0)
		return vs_prog_end(&p, ret);
	if (p.db) {
		po.key_ready = store_key;
		po.key_ctx = p.db;
	}
	r.po = po;
	ret = vs_record_loop(stdin, "stdin", package_one, &r, &p.status);
	return vs_prog_end(&p, ret);
}
