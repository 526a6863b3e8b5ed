#include <strings.h>

#include "cgi.h"
#include "cgiauth.h"
#include "cgihttp.h"
#include "error.h"
#include "hash.h"
#include "jwt.h"

/* The access_token query parameter (RFC 6750 2.3), for beacons, which
 * cannot send headers; "" when absent or unusable. */
static void query_token(const char *qs, char *out, size_t n)
{
	if (vs_cgihttp_query_param(qs, "access_token", out, n) < 0)
		out[0] = '\0';
}

/* Whether word is one of the items of list (separated by commas, spaces
 * around them ignored). */
static bool in_list(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p;) {
		size_t l;

		p += strspn(p, " ,");
		l = strcspn(p, ",");
		while (l > 0 && p[l - 1] == ' ')
			l--;
		if (l == n && n > 0 && !strncmp(p, word, n))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

/* The admin claim: "role": "admin", or a "scope" (space-separated, RFC
 * 8693) holding videos:write. */
static bool admin_claim(const json_t *claims)
{
	const char *role = json_string_value(json_object_get(claims, "role"));
	const char *scope = json_string_value(json_object_get(claims, "scope"));

	if (role && !strcmp(role, "admin"))
		return true;
	for (const char *p = scope; p && *p;) {
		size_t l;

		p += strspn(p, " ");
		l = strcspn(p, " ");
		if (l == strlen("videos:write") && !strncmp(p, "videos:write", l))
			return true;
		p += l;
	}
	return false;
}

int vs_cgiauth_identify(struct vs_cgi_req *r)
{
	const char *auth = vs_cgihttp_param(r, "HTTP_AUTHORIZATION"), *ru = vs_cgihttp_param(r, "REMOTE_USER");
	const char *tok = NULL;
	char qtok[2048];

	r->user[0] = '\0';
	query_token(vs_cgihttp_param(r, "QUERY_STRING"), qtok, sizeof(qtok));
	if (auth && *auth)
		tok = strncasecmp(auth, "Bearer ", 7) ? "" : auth + 7;
	else if (qtok[0])
		tok = qtok;
	if (tok) {
		json_t *claims = NULL;
		const char *sub;

		if (!*tok || !r->cfg->jwt_secret ||
		    vs_jwt_verify(tok, r->cfg->jwt_secret, r->cfg->jwt_secret_len, time(NULL), &r->cfg->jwt, &claims) < 0) {
			vs_cgihttp_problem(r, 401, r->cfg->jwt_secret ? "the bearer token is not valid"
			                                              : "bearer tokens are not accepted here",
			                   "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n");
			return VS_ERR;
		}
		sub = json_string_value(json_object_get(claims, "sub"));
		if (!sub || !vs_hash_is_uuid(sub)) {
			json_decref(claims);
			vs_cgihttp_problem(r, 401, "the token's subject is not a user id",
			                   "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n");
			return VS_ERR;
		}
		snprintf(r->user, sizeof(r->user), "%s", sub);
		r->by_token = r->identified = true;
		r->admin = admin_claim(claims);
		json_decref(claims);
	} else if (ru && *ru) {
		if (vs_hash_is_uuid(ru))
			snprintf(r->user, sizeof(r->user), "%s", ru);
		r->admin = in_list(r->cfg->admin_users, ru);
		r->identified = true; /* the web server knows them, even by a name */
	}
	return 0;
}
