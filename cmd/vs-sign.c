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

enum {
	OPT_SCHEME = 0x100,
	OPT_TTL,
	OPT_EXPIRES,
	OPT_VERIFY,
	OPT_KEY_FILE,
	OPT_TEMPLATE,
	OPT_REMOTE_ADDR,
	OPT_QUERY,
	OPT_KEY_PAIR_ID,
	OPT_PRIVATE_KEY,
	OPT_SHA256,
	OPT_CUSTOM_POLICY,
	OPT_COOKIES,
	OPT_JSON,
};

static const struct vs_option options[] = {
	{OPT_SCHEME, 's', "scheme", "NAME", "hmac (default), nginx or cloudfront"},
	{OPT_TTL, 't', "ttl", "SECONDS", "lifetime, rounded up to 5 minutes", VS_OPT_DEFAULT(VS_SIGN_TTL_DEFAULT)},
	{OPT_EXPIRES, 'e', "expires", "TIME", "expiry: seconds since the epoch or YYYY-MM-DDTHH:MM:SSZ"},
	{OPT_VERIFY, 0, "verify", "URL", "check URL: exit 0 if valid and unexpired, 1 if not"},
	{OPT_KEY_FILE, 'k', "key-file", "FILE", "signing key (default: $VS_SIGNING_KEY_FILE)"},
	{OPT_TEMPLATE, 0, "nginx-template", "EXPR", "nginx: the secure_link_md5 expression"},
	{OPT_REMOTE_ADDR, 0, "remote-addr", "IP", "nginx: the value of $remote_addr"},
	{OPT_QUERY, 0, "query", NULL, "nginx: ?md5=&expires= instead of a token in the path"},
	{OPT_KEY_PAIR_ID, 0, "key-pair-id", "ID", "cloudfront: key pair id (default: $VS_CLOUDFRONT_KEY_PAIR_ID)"},
	{OPT_PRIVATE_KEY, 0, "private-key", "FILE", "cloudfront: RSA private key, PEM (default: $VS_CLOUDFRONT_PRIVATE_KEY_FILE)"},
	{OPT_SHA256, 0, "sha256", NULL, "cloudfront: sign with SHA-256 (Hash-Algorithm=SHA256)"},
	{OPT_CUSTOM_POLICY, 0, "custom-policy", NULL, "cloudfront: a custom policy on the package's directory"},
	{OPT_COOKIES, 0, "cookies", NULL, "cloudfront: also give signed cookies for the package"},
	{OPT_JSON, 0, "json", NULL, "for URL operands: records instead of plain URLs"},
	{0},
};

static const struct vs_command cmd = {
	.name = "vs-sign",
	.synopsis = "[options] URL...\n[options] < records\n[options] --verify URL",
	.summary = "Make and verify expiring signed URLs for a video's package",
	.options = options,
};

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
static int load_keys(struct run *r, const char *key_file, const char *pkey_file, bool verify)
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
			vs_usage_error(&cmd, "cloudfront needs --key-pair-id and --private-key");
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

int main(int argc, char **argv)
{
	struct run r = {0};
	struct vs_opt opt = VS_OPT_INIT(&cmd, argc, argv);
	struct vs_prog p;
	const char *arg, *verify = NULL, *key_file = getenv("VS_SIGNING_KEY_FILE");
	const char *pkey_file = getenv("VS_CLOUDFRONT_PRIVATE_KEY_FILE");
	long long ttl = VS_SIGN_TTL_DEFAULT;
	double t = 0;
	int c, ret;

	vs_log_init(argv[0]);
	r.so.key_pair_id = getenv("VS_CLOUDFRONT_KEY_PAIR_ID");
	while ((c = vs_opt_next(&opt, &arg)) > 0) {
		switch (c) {
		case OPT_SCHEME:
			if (vs_sign_scheme_parse(arg, &r.so.scheme) < 0)
				return vs_usage_error(&cmd, "--scheme: %s", vs_error_message());
			break;
		case OPT_TTL:
			if (vs_opt_long(&cmd, "ttl", arg, 1, 10LL * 365 * 86400, &ttl) < 0)
				return VS_EXIT_USAGE;
			break;
		case OPT_EXPIRES:
			if (vs_parse_time(arg, false, 0, &t) < 0 || t <= 0)
				return vs_usage_error(&cmd, "--expires: '%s' is not a time", arg);
			r.expires = (time_t)t;
			break;
		case OPT_VERIFY: verify = arg; break;
		case OPT_KEY_FILE: key_file = arg; break;
		case OPT_TEMPLATE: r.so.nginx_template = arg; break;
		case OPT_REMOTE_ADDR: r.so.remote_addr = arg; break;
		case OPT_QUERY: r.so.token_in_query = true; break;
		case OPT_KEY_PAIR_ID: r.so.key_pair_id = arg; break;
		case OPT_PRIVATE_KEY: pkey_file = arg; break;
		case OPT_SHA256: r.so.sha256 = true; break;
		case OPT_CUSTOM_POLICY: r.so.custom_policy = true; break;
		case OPT_COOKIES: r.cookies = true; break;
		case OPT_JSON: r.json = true; break;
		}
	}
	if (c < 0)
		return vs_opt_exit(c);
	vs_prog_init(&p, &opt);
	if (r.cookies && r.so.scheme != VS_SIGN_CLOUDFRONT)
		return vs_usage_error(&cmd, "--cookies goes with --scheme cloudfront");
	if (verify && p.n_args > 0)
		return vs_usage_error(&cmd, "--verify takes one URL and no operands");
	if (!r.expires)
		r.expires = vs_sign_expiry(time(NULL), ttl);
	ret = load_keys(&r, key_file, pkey_file, verify != NULL);
	if (ret == 0 && verify && vs_verify_url(verify, time(NULL), &r.so) < 0) {
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
