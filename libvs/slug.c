#include <ctype.h>

#include "slug.h"

bool vs_slug_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VS_SLUG_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-' ? s[i + 1] == '-' : !(isdigit((unsigned char)s[i]) ||
		                                       (s[i] >= 'a' && s[i] <= 'z')))
			return false;
	}
	return true;
}

void vs_slug_make(const char *title, char *out, size_t n)
{
	size_t k = 0;
	bool dash = false;

	for (const unsigned char *p = (const unsigned char *)title; *p && k + 1 < n; p++) {
		if (isascii(*p) && isalnum(*p)) {
			if (dash && k > 0 && k + 2 < n)
				out[k++] = '-';
			dash = false;
			out[k++] = (char)tolower(*p);
		} else if (*p == '\'') {
			continue; /* "Newton's" → "newtons" */
		} else {
			dash = true;
		}
		if (k >= VS_SLUG_MAX - 12) /* room for a "-<suffix>" */
			break;
	}
	while (k > 0 && out[k - 1] == '-')
		k--;
	out[k] = '\0';
}
