/* libFuzzer target: a CGI request into vs-cgi's router (libvs/cgiroute.c), with
 * no database (endpoints that need it answer 503). The input is the
 * request: REQUEST_METHOD, PATH_INFO, QUERY_STRING, HTTP_AUTHORIZATION,
 * CONTENT_TYPE, REMOTE_USER, HTTP_ORIGIN, one a line, then the body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "cgi.h"
#include "error.h"
#include "jwt.h"
#include "log.h"

static const char *const names[] = {"REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "HTTP_AUTHORIZATION",
                                    "CONTENT_TYPE", "REMOTE_USER", "HTTP_ORIGIN"};
#define N (sizeof(names) / sizeof(names[0]))

struct request {
	char *value[N];
	char length[32];
	const char *body;
	size_t body_len, at;
};

static const char *param(void *ctx, const char *name)
{
	struct request *q = ctx;

	for (size_t i = 0; i < N; i++)
		if (!strcmp(name, names[i]))
			return q->value[i];
	if (!strcmp(name, "CONTENT_LENGTH"))
		return q->length;
	if (!strcmp(name, "GATEWAY_INTERFACE"))
		return "CGI/1.1";
	return NULL;
}

static int body(void *ctx, char *buf, int n)
{
	struct request *q = ctx;
	size_t k = q->body_len - q->at < (size_t)n ? q->body_len - q->at : (size_t)n;

	memcpy(buf, q->body + q->at, k);
	q->at += k;
	return (int)k;
}

static int out(void *ctx, const char *buf, int n)
{
	(void)ctx;
	(void)buf;
	return n;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static char jwt_secret[] = "jwt secret for fuzzing", sign_secret[] = "signing secret for fuzzing";
	struct vs_cgi_config cfg = {
		.jwt_secret = jwt_secret, .jwt_secret_len = sizeof(jwt_secret) - 1, .jwt = VS_JWT_RULES_INIT,
		.sign = {.scheme = VS_SIGN_HMAC, .secret = sign_secret, .secret_len = sizeof(sign_secret) - 1},
		.public_base_url = "https://cdn.example.com/vod", .stream_ttl_s = 3600,
		.cors_origins = "https://learn.example.com", .admin_users = "ops",
		.rules = VS_PROGRESS_RULES_INIT,
	};
	struct request q = {0};
	struct vs_cgi_io io = {param, body, out, &q};
	char *copy = fuzz_string(data, size), *p = copy;
	PGconn *db = NULL;

	if (!copy)
		return 0;
	for (size_t i = 0; i < N && p; i++) {
		char *nl = memchr(p, '\n', size - (size_t)(p - copy));

		q.value[i] = p;
		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : NULL;
	}
	q.body = p ? p : "";
	q.body_len = p ? size - (size_t)(p - copy) : 0;
	snprintf(q.length, sizeof(q.length), "%zu", q.body_len);
	vs_cgi_handle(&cfg, &db, &io);
	vs_error_clear();
	free(copy);
	return 0;
}
