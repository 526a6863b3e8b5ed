#ifndef VS_JWT_H
#define VS_JWT_H

#include <time.h>

#include <jansson.h>

#include "vs.h"

/*
 * HS256 JSON Web Tokens (RFC 7519), verified only: the algorithm is pinned
 * to HS256 (a token naming any other, "none" above all, is refused), the
 * signature is compared in constant time; exp is required and bounded,
 * nbf checked, aud and iss when the rules name them.
 */

#define VS_JWT_MAX_LIFETIME_S (24 * 3600) /* VS_JWT_MAX_LIFETIME's default */
#define VS_JWT_LEEWAY_S 60                /* clock skew forgiven */

struct vs_jwt_rules {
	long max_lifetime_s;  /* exp at most this far from now (and from iat) */
	const char *audience; /* aud must be or contain it; NULL: not checked */
	const char *issuer;   /* iss must be it; NULL: not checked */
};

#define VS_JWT_RULES_INIT {VS_JWT_MAX_LIFETIME_S, NULL, NULL}

/* Verifies token with secret at now under rules; *claims (new reference)
 * gets the payload. Returns 0 or VS_ERR with the reason. */
int vs_jwt_verify(const char *token, const void *secret, size_t secret_len, time_t now,
                  const struct vs_jwt_rules *rules, json_t **claims);

/* Makes an HS256 token of claims (for tests and tools). Malloced. */
char *vs_jwt_sign(const json_t *claims, const void *secret, size_t secret_len);

#endif
