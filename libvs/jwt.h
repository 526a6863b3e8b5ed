#ifndef VS_JWT_H
#define VS_JWT_H

#include <time.h>

#include <jansson.h>

#include "vs.h"

/*
 * HS256 JSON Web Tokens (RFC 7519), verified only: the algorithm is pinned
 * to HS256 (a token naming any other, "none" above all, is refused), the
 * signature is compared in constant time, and exp and nbf are checked.
 */

/* Verifies token with secret at now; *claims (new reference) gets the
 * payload. Returns 0 or VS_ERR with the reason. */
int vs_jwt_verify(const char *token, const void *secret, size_t secret_len, time_t now,
                  json_t **claims);

/* Makes an HS256 token of claims (for tests and tools). Malloced. */
char *vs_jwt_sign(const json_t *claims, const void *secret, size_t secret_len);

#endif
