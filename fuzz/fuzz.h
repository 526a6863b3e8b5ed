/* What every libFuzzer target of vs shares. */
#ifndef VS_FUZZ_H
#define VS_FUZZ_H

#include <stdlib.h>
#include <string.h>

#include "log.h"

/*
 * The input as a NUL-terminated string, malloced (NULL when out of
 * memory); and vs's diagnostics silenced first: millions of bad inputs
 * would be gigabytes of messages on stderr.
 */
static inline char *fuzz_string(const unsigned char *data, size_t size)
{
	char *s = malloc(size + 1);

	vs_log_set_level(VS_LOG_SILENT);
	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#endif
