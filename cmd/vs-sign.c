/*
 * vs-sign: make and verify expiring signed URLs for a video's package.
 *
 *   vs-sign [options] URL...         print each URL signed
 *   ... | vs-sign [options]          sign published.master_url into "stream"
 *   vs-sign [options] --verify URL   exit 0 if valid and unexpired, else 1
 */

#include "clock.h"
#include "error.h"
#include "log.h"
#include "prog.h"
#include "record.h"
#include "sign.h"

struct run {
	struct vs_sign_opts so;
	time_t expires;
	bool cookies, json;
	char *secret;              /* owned */
	struct vs_sign_key *pkey;  /* owned */
};

static int sign_record(json_t *rec, void *ctx)
{
	const char *url = vs_json_str(rec, "published.master_url");
	json_t *s;
	int ret;
	const struct run *r = ctx;

	if (!url)
		return vs_fail(VS_ERR, VS_E_INVALID, "the record has no published.master_url: run vs-publish first");
	if ((ret = vs_sign_stream(url, r->expires, &r->so, r->cookies, &s)) < 0)
		return ret;
	json_object_set_new(rec, "stream", s);
	return 0;
}

/* The secret (hmac, nginx) or the key (cloudfront) the scheme signs with. */
static int load_keys(const struct vs_command *cmd, struct run *r, const char *key_file, const char *pkey_file,
                     bool verify)
{
	if (key_file && *key_file && r->so.scheme != VS_SIGN_CLOUDFRONT) {
		size_t len = 0;

		if (vs_sign_read_secret(key_file, &r->secret, &len) < 0)
			return VS_ERR;
		r->so.secret = r->secret;
		r->so.secret_len = len;
	}
	if (r->so.scheme == VS_SIGN_CLOUDFRONT) {
		if (!pkey_file || !*pkey_file || (!verify && !r->so.key_pair_id)) {
			vs_opt_usage_error(cmd, "cloudfront needs --key-pair-id and --private-key");
			return VS_PROG_USAGE;
		}
		if (vs_sign_key_load(pkey_file, &r->pkey) < 0)
			return VS_ERR;
		r->so.private_key = r->pkey;
	}
	return 0;
}

/* URL operands: each printed signed, or as a record with --json. */
static int sign_operands(struct vs_prog *p, struct run *r)
{
	int ret = 0;

	for (int i = 0; i < p->n_args && ret == 0; i++) {
		json_t *s = NULL;

		if ((ret = vs_sign_stream(p->args[i], r->expires, &r->so, r->cookies, &s)) < 0) {
			vs_log_error("cannot sign '%s': %s", p->args[i], vs_error_message());
			p->status = vs_exit_worse(p->status, strcmp(vs_error_code(), VS_E_USAGE) ? VS_EXIT_FAILED : VS_EXIT_USAGE);
			ret = 0;
			continue;
		}
		if (r->json) {
			json_t *rec = json_pack("{s:s,s:O}", "url", p->args[i], "stream", s);

			ret = vs_record_write(stdout, rec);
			json_decref(rec);
		} else if (printf("%s\n", vs_json_str(s, "url")) < 0) {
			ret = vs_fail(VS_ERR, VS_E_IO, "cannot write: %s", strerror(errno));
		}
		json_decref(s);
	}
	return ret;
}

enum { OPT_SCHEME = 0x100, OPT_EXPIRES };

/* --scheme, --expires */
static int sign_option(const struct vs_command *cmd, int id, const char *arg, void *ctx)
{
	struct run *r = ctx;
	double t = 0;

	if (id == OPT_SCHEME && vs_sign_scheme_parse(arg, &r->so.scheme) < 0)
		return vs_opt_usage_error(cmd, "--scheme: %s", vs_error_message());
	if (id == OPT_EXPIRES && (vs_clock_parse_time(arg, false, 0, &t) < 0 || t <= 0))
		return vs_opt_usage_error(cmd, "--expires: '%s' is not a time", arg);
	if (id == OPT_EXPIRES)
		r->expires = (time_t)t;
	return 0;
}

int main(int argc, char **argv)
{
	struct run r = {.so.key_pair_id = getenv("VS_CLOUDFRONT_KEY_PAIR_ID")};
	const char *verify = NULL, *key_file = getenv("VS_SIGNING_KEY_FILE");
	const char *pkey_file = getenv("VS_CLOUDFRONT_PRIVATE_KEY_FILE");
	long long ttl = VS_SIGN_TTL_DEFAULT;
	const struct vs_command cmd = {
		.name = "vs-sign",
		.synopsis = "[options] URL...\n[options] < records\n[options] --verify URL",
		.summary = "Make and verify expiring signed URLs for a video's package",
		.on_option = sign_option,
		.options = (const struct vs_option[]){
			{OPT_SCHEME, 's', "scheme", "NAME", "hmac (default), nginx or cloudfront"},
			VS_OPT_LLONG('t', "ttl", "SECONDS", ttl, 1, VS_SIGN_TTL_MAX, "lifetime, rounded up to 5 minutes",
			             VS_OPT_DEFAULT(VS_SIGN_TTL_DEFAULT)),
			{OPT_EXPIRES, 'e', "expires", "TIME", "expiry: seconds since the epoch or YYYY-MM-DDTHH:MM:SSZ"},
			VS_OPT_STRING(0, "verify", "URL", verify, "check URL: exit 0 if valid and unexpired, 1 if not"),
			VS_OPT_STRING('k', "key-file", "FILE", key_file, "signing key (default: $VS_SIGNING_KEY_FILE)"),
			VS_OPT_STRING(0, "nginx-template", "EXPR", r.so.nginx_template, "nginx: the secure_link_md5 expression"),
			VS_OPT_STRING(0, "remote-addr", "IP", r.so.remote_addr, "nginx: the value of $remote_addr"),
			VS_OPT_SET(0, "query", r.so.token_in_query, "nginx: ?md5=&expires= instead of a token in the path"),
			VS_OPT_STRING(0, "key-pair-id", "ID", r.so.key_pair_id,
			              "cloudfront: key pair id (default: $VS_CLOUDFRONT_KEY_PAIR_ID)"),
			VS_OPT_STRING(0, "private-key", "FILE", pkey_file,
			              "cloudfront: RSA private key, PEM (default: $VS_CLOUDFRONT_PRIVATE_KEY_FILE)"),
			VS_OPT_SET(0, "sha256", r.so.sha256, "cloudfront: sign with SHA-256 (Hash-Algorithm=SHA256)"),
			VS_OPT_SET(0, "custom-policy", r.so.custom_policy, "cloudfront: a custom policy on the package's directory"),
			VS_OPT_SET(0, "cookies", r.cookies, "cloudfront: also give signed cookies for the package"),
			VS_OPT_SET(0, "json", r.json, "for URL operands: records instead of plain URLs"),
			{0},
		},
	};
	struct vs_prog p;
	int ret;

	if (!vs_prog_start(&p, &cmd, argc, argv, &r))
		return p.status;
	if (r.cookies && r.so.scheme != VS_SIGN_CLOUDFRONT)
		return vs_opt_usage_error(&cmd, "--cookies goes with --scheme cloudfront");
	if (verify && p.n_args > 0)
		return vs_opt_usage_error(&cmd, "--verify takes one URL and no operands");
	if (!r.expires)
		r.expires = vs_sign_expiry(time(NULL), ttl);
	ret = load_keys(&cmd, &r, key_file, pkey_file, verify != NULL);
	if (ret == 0 && verify && vs_sign_verify_url(verify, time(NULL), &r.so) < 0) {
		vs_log_error("invalid: %s", vs_error_message());
		p.status = VS_EXIT_FAILED;
	} else if (ret == 0 && !verify && p.n_args > 0) {
		ret = sign_operands(&p, &r);
	} else if (ret == 0 && !verify) {
		ret = vs_record_loop(stdin, "stdin", sign_record, &r, &p.status);
	}
	vs_sign_key_free(r.pkey);
	free(r.secret);
	return vs_prog_end(&p, ret);
}
