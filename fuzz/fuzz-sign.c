/* libFuzzer target: signed-URL verification (libvs/sign.c) under the hmac
 * scheme, nginx secure_link in the path and in the query, and CloudFront
 * (whose verification needs no private key to refuse), input = the URL. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "error.h"
#include "log.h"
#include "sign.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char secret[] = "signing secret for fuzzing";
	char *url = fuzz_string(data, size);
	struct vs_sign_opts o = {.secret = secret, .secret_len = sizeof(secret) - 1};

	if (!url)
		return 0;
	for (int scheme = 0; scheme < 4; scheme++) {
		o.scheme = scheme == 0 ? VS_SIGN_HMAC : scheme == 3 ? VS_SIGN_CLOUDFRONT : VS_SIGN_NGINX;
		o.token_in_query = scheme == 2;
		vs_sign_verify_url(url, 1767225600, &o);
		vs_error_clear();
	}
	free(url);
	return 0;
}
