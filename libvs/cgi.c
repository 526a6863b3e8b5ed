/*
 * vs-cgi's configuration, read once from the environment. The rest of
 * cgi.h is the router's (cgiroute.c): vs_cgi_handle() reaches every other
 * cgi module, and they all read this configuration, so it sits above them
 * and cgi.c below (the include graph stays acyclic).
 */

#include "cgi.h"
#include "db.h"
#include "error.h"
#include "opt.h"
#include "publish.h"
#include "upload.h"

/* A secret file named by var, or NULL when var is unset. */
static int read_secret(const char *var, char **s, size_t *len)
{
	const char *path = getenv(var);

	*s = NULL;
	*len = 0;
	if (!path || !*path)
		return 0;
	if (vs_sign_read_secret(path, s, len) < 0) {
		vs_error_prefix("%s", var);
		return VS_ERR;
	}
	return 0;
}

static int config_load(struct vs_cgi_config *c);

/* The next comma-separated item of *s (VS_SIGN_SCHEME's), blanks trimmed
 * (s moves past it); NULL at the end. */
static char *next_item(char **s)
{
	char *item, *end;

	while (**s == ' ' || **s == ',')
		(*s)++;
	if (!**s)
		return NULL;
	item = *s;
	*s += strcspn(*s, ",");
	if (**s)
		*(*s)++ = '\0';
	for (end = item + strlen(item); end > item && end[-1] == ' '; end--)
		end[-1] = '\0';
	return item;
}

/* VS_PUBLIC_BASE_URL's bases (comma-separated: the failover order), each
 * signed by VS_SIGN_SCHEME's scheme at its place (the last one given for
 * the rest), from c->sign. */
static int origins_load(struct vs_cgi_config *c, const char *bases, const char *schemes)
{
	char *sl = schemes && *schemes ? strdup(schemes) : NULL, *sp = sl, *s, *b;
	enum vs_sign_scheme scheme = c->sign.scheme;
	int ret = 0;

	c->n_origins = 0;
	if (schemes && *schemes && !sl)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	for (int i = 0; ret == 0 && (b = vs_publish_base_url(bases, i)); i++) {
		if (c->n_origins == VS_CGI_ORIGINS_MAX)
			ret = vs_fail(VS_ERR, VS_E_USAGE, "VS_PUBLIC_BASE_URL: more than %d bases", VS_CGI_ORIGINS_MAX);
		else if (strncmp(b, "http://", 7) && strncmp(b, "https://", 8))
			ret = vs_fail(VS_ERR, VS_E_USAGE, "VS_PUBLIC_BASE_URL: '%s' is not an http(s) URL", b);
		else if (sp && (s = next_item(&sp)) && vs_sign_scheme_parse(s, &scheme) < 0) {
			vs_error_prefix("VS_SIGN_SCHEME");
			ret = VS_ERR;
		}
		if (ret < 0) {
			free(b);
			break;
		}
		c->origins[c->n_origins].base_url = b;
		c->origins[c->n_origins].sign = c->sign;
		c->origins[c->n_origins].sign.scheme = scheme;
		c->n_origins++;
	}
	free(sl);
	c->public_base_url = c->n_origins ? c->origins[0].base_url : NULL;
	return ret;
}

int vs_cgi_config_load(struct vs_cgi_config *c)
{
	int ret = config_load(c);

	if (ret < 0)
		c->broken = strdup(vs_error_message());
	return ret;
}

static int config_load(struct vs_cgi_config *c)
{
	const char *scheme = getenv("VS_SIGN_SCHEME"), *ttl = getenv("VS_STREAM_TTL");
	const char *cors = getenv("VS_CORS_ORIGINS"), *pkey = getenv("VS_CLOUDFRONT_PRIVATE_KEY_FILE");

	memset(c, 0, sizeof(*c));
	c->database_url = vs_db_url(NULL);
	c->publish_url = getenv("VS_PUBLISH_URL");
	c->media_root = getenv("VS_MEDIA_ROOT") && *getenv("VS_MEDIA_ROOT") ? getenv("VS_MEDIA_ROOT") : VS_MEDIA_ROOT_DEFAULT;
	c->upload_max = VS_UPLOAD_MAX_DEFAULT;
	if (getenv("VS_UPLOAD_MAX") && *getenv("VS_UPLOAD_MAX")) {
		char *end;

		c->upload_max = strtoll(getenv("VS_UPLOAD_MAX"), &end, 10);
		if (*end || c->upload_max <= 0)
			return vs_fail(VS_ERR, VS_E_USAGE, "VS_UPLOAD_MAX '%s' is not a number of bytes", getenv("VS_UPLOAD_MAX"));
	}
	c->stream_ttl_s = VS_SIGN_TTL_DEFAULT;
	if (ttl && *ttl) {
		char *end;
		long long l = strtoll(ttl, &end, 10);

		if (*end || l < 1 || l > VS_SIGN_TTL_MAX)
			return vs_fail(VS_ERR, VS_E_USAGE, "VS_STREAM_TTL '%s' is not a number of seconds from 1 to %lld",
			               ttl, VS_SIGN_TTL_MAX);
		c->stream_ttl_s = (long)l;
	}
	c->cors_origins = cors && *cors ? strdup(cors) : NULL;
	c->rules = (struct vs_progress_rules)VS_PROGRESS_RULES_INIT;
	c->jwt = (struct vs_jwt_rules)VS_JWT_RULES_INIT;
	c->admin_users = getenv("VS_ADMIN_USERS");
	c->jwt.audience = getenv("VS_JWT_AUDIENCE") && *getenv("VS_JWT_AUDIENCE") ? getenv("VS_JWT_AUDIENCE") : NULL;
	c->jwt.issuer = getenv("VS_JWT_ISSUER") && *getenv("VS_JWT_ISSUER") ? getenv("VS_JWT_ISSUER") : NULL;
	if (getenv("VS_JWT_MAX_LIFETIME") && *getenv("VS_JWT_MAX_LIFETIME")) {
		char *end;
		long l = strtol(getenv("VS_JWT_MAX_LIFETIME"), &end, 10);

		if (*end || l <= 0 || l > 366L * 24 * 3600)
			return vs_fail(VS_ERR, VS_E_USAGE, "VS_JWT_MAX_LIFETIME: not a number of seconds up to a year");
		c->jwt.max_lifetime_s = l;
	}
	c->sign.nginx_template = getenv("VS_NGINX_TEMPLATE");
	if (vs_analytics_ip_parse(getenv("VS_ANALYTICS_IP"), &c->ip_policy) < 0) {
		vs_error_prefix("VS_ANALYTICS_IP");
		return VS_ERR;
	}
	if (read_secret("VS_JWT_SECRET_FILE", &c->jwt_secret, &c->jwt_secret_len) < 0 ||
	    read_secret("VS_SIGNING_KEY_FILE", &c->sign_secret, &c->sign.secret_len) < 0)
		return VS_ERR;
	c->sign.secret = c->sign_secret;
	/* the first scheme is the default, the one records and the
	 * authorizer's lone base use */
	if (scheme && *scheme) {
		char first[16];

		snprintf(first, sizeof(first), "%.*s", (int)strcspn(scheme + strspn(scheme, " "), ", "),
		         scheme + strspn(scheme, " "));
		if (vs_sign_scheme_parse(first, &c->sign.scheme) < 0) {
			vs_error_prefix("VS_SIGN_SCHEME");
			return VS_ERR;
		}
	}
	if (c->sign.scheme == VS_SIGN_CLOUDFRONT || (scheme && strstr(scheme, "cloudfront"))) {
		/* a custom policy on the package's directory: the cookies it
		 * comes with cover every playlist and segment */
		c->sign.key_pair_id = getenv("VS_CLOUDFRONT_KEY_PAIR_ID");
		c->sign.custom_policy = true;
		if (!c->sign.key_pair_id || !*c->sign.key_pair_id || !pkey || !*pkey)
			return vs_fail(VS_ERR, VS_E_USAGE, "VS_SIGN_SCHEME=cloudfront needs VS_CLOUDFRONT_KEY_PAIR_ID"
			                                   " and VS_CLOUDFRONT_PRIVATE_KEY_FILE");
		if (vs_sign_key_load(pkey, &c->cloudfront_key) < 0)
			return VS_ERR;
		c->sign.private_key = c->cloudfront_key;
	}
	return origins_load(c, getenv("VS_PUBLIC_BASE_URL"), scheme);
}

void vs_cgi_config_release(struct vs_cgi_config *c)
{
	char *owned[] = {c->jwt_secret, c->sign_secret, c->cors_origins, c->broken};

	for (size_t i = 0; i < VS_ARRAY_SIZE(owned); i++)
		free(owned[i]);
	for (int i = 0; i < c->n_origins; i++)
		free(c->origins[i].base_url);
	vs_sign_key_free(c->cloudfront_key);
	memset(c, 0, sizeof(*c));
}
