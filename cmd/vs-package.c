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
	const char *check = NULL;
	int ts = 0, aes = -1; /* indexes of the choices */
	const struct vs_command cmd = {
		.name = "vs-package",
		.synopsis = "[options] < records\n--check DIR|PLAYLIST",
		.summary = "Cut renditions into HLS (fMP4 or TS) and DASH packages, or validate a package",
		.common = VS_COMMON_DATABASE | VS_COMMON_MEDIA_ROOT,
		.options = (const struct vs_option[]){
			VS_OPT_STRING('o', "out", "DIR", po.out, "package directory (default: MEDIA_ROOT/ID/hls)"),
			VS_OPT_DOUBLE(0, "segment-seconds", "S", po.segment_s, 0.5, 60,
			              "segment length, a multiple of the GOP (default: the fewest GOPs that last 2 s)"),
			VS_OPT_CHOICE(0, "segment-type", "TYPE", ts, "fmp4|ts", "fmp4 (CMAF, default) or ts"),
			VS_OPT_SET(0, "audio-group", po.audio_group, "one audio rendition shared by all variants"),
			VS_OPT_SET(0, "dash", po.dash, "also write a DASH MPD over the same segments (fmp4; implies --audio-group)"),
			VS_OPT_CHOICE(0, "encrypt", "METHOD", aes, "aes-128", "encrypt the segments: aes-128"),
			VS_OPT_STRING(0, "key-uri", "URI", po.key_uri, "EXT-X-KEY URI (default: /api/v1/videos/ID/key)"),
			VS_OPT_SET(0, "no-fallback", po.no_fallback,
			           "no progressive MP4 of the lowest rung (" VS_PACKAGE_FALLBACK ") in the package"),
			VS_OPT_STRING(0, "check", "PATH", check, "validate the HLS package at PATH (a directory or playlist)"),
			VS_OPT_SET('f', "force", po.force,
			           "package again even when a finished package of the same inputs exists"),
			{0},
		},
	};
	struct vs_prog p;
	int ret;

	if (!vs_prog_start(&p, &cmd, argc, argv, NULL))
		return p.status;
	po.ts = ts == 1;
	po.encrypt = aes == 0;
	if (p.n_args > 0)
		return vs_opt_usage_error(&cmd, "unexpected argument '%s'", p.args[0]);
	if (po.dash && po.ts)
		return vs_opt_usage_error(&cmd, "--dash needs fmp4 segments, not ts");
	/* HLS AES-128 encrypts whole segments (CBC): DASH players know only
	 * CENC, so that MPD would promise what no DASH player can play */
	if (po.dash && po.encrypt)
		return vs_opt_usage_error(&cmd, "--dash cannot go with --encrypt aes-128: DASH players need CENC");
	if (po.key_uri && !po.encrypt)
		return vs_opt_usage_error(&cmd, "--key-uri goes with --encrypt aes-128");
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
