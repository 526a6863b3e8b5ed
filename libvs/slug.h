#ifndef VS_SLUG_H
#define VS_SLUG_H

#include "vs.h"

/*
 * Slugs: a video's name in URLs (videos.slug, unique), as the schema's
 * check constraint has them.
 */

#define VS_SLUG_MAX 200

/* True if s is a valid slug: [a-z0-9]+(-[a-z0-9]+)*, at most VS_SLUG_MAX. */
bool vs_slug_valid(const char *s);

/* Writes the slug for title into out (at most VS_SLUG_MAX + 1 bytes):
 * lower-case ASCII letters and digits, runs of anything else as one '-'.
 * May be empty. */
void vs_slug_make(const char *title, char *out, size_t n);

#endif
