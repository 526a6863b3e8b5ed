/* libFuzzer target: the bearer-token reader (libvs/jwt.c), input = the token. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jwt.h"
#include "log.h"

/* Millions of bad inputs: their messages would be gigabytes on stderr. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	vs_log_set_level(VS_LOG_SILENT);
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char secret[] = "jwt secret for fuzzing";
	struct vs_jwt_rules rules = VS_JWT_RULES_INIT;
	char *token = malloc(size + 1);
	json_t *claims = NULL;

	if (!token)
		return 0;
	memcpy(token, data, size);
	token[size] = '\0';
	rules.audience = size % 2 ? "vs-api" : NULL;
	rules.issuer = size % 3 ? NULL : "https://auth.example.com";
	vs_jwt_verify(token, secret, sizeof(secret) - 1, 1767225600, &rules, &claims);
	json_decref(claims);
	vs_error_clear();
	free(token);
	return 0;
}
