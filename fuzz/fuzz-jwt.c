/* libFuzzer target: the bearer-token reader (libvs/jwt.c), input = the token. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "error.h"
#include "jwt.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char secret[] = "jwt secret for fuzzing";
	struct vs_jwt_rules rules = VS_JWT_RULES_INIT;
	char *token = fuzz_string(data, size);
	json_t *claims = NULL;

	if (!token)
		return 0;
	rules.audience = size % 2 ? "vs-api" : NULL;
	rules.issuer = size % 3 ? NULL : "https://auth.example.com";
	vs_jwt_verify(token, secret, sizeof(secret) - 1, 1767225600, &rules, &claims);
	json_decref(claims);
	vs_error_clear();
	free(token);
	return 0;
}
