#ifndef VS_META_H
#define VS_META_H

#include <jansson.h>

#include "vs.h"

/*
 * A video's own words: title, description, tags, category, slug, whether
 * it is public, its chapters. One set of rules for every way they come in:
 * vs-ingest's options and records, vs-video set and chapters, vs-cgi's
 * PUT /videos/:id. Lengths are characters (UTF-8), as the schema checks.
 */

#define VS_TITLE_MAX 500
#define VS_DESCRIPTION_MAX 20000
#define VS_TAGS_MAX 50
#define VS_TAG_MAX 64
#define VS_CHAPTERS_MAX 500

/* The characters of the UTF-8 string s. */
size_t vs_meta_chars(const char *s);

/* obj's string field key (or dflt when absent or null) into *out, borrowed;
 * longer than max characters (0: any) or not a string is an error naming
 * the field. */
int vs_meta_string(const json_t *obj, const char *key, const char *dflt, size_t max, const char **out);

/* obj's "tags" (an array of strings, or one comma-separated string; dflt,
 * comma-separated, when absent) as a new array: trimmed, without empty or
 * repeated ones, at most VS_TAGS_MAX of VS_TAG_MAX characters. */
int vs_meta_tags(const json_t *obj, const char *dflt, json_t **out);

/* A chapter list, as the plan names it ({"title", "start_time_seconds",
 * "end_time_seconds"}) or shortly ({"title", "start", "end"}), checked
 * (titles, starts rising, ends after starts) into a new array of
 * {"title", "start"[, "end"]}. */
int vs_meta_chapters(const json_t *list, json_t **out);

/* An edit of a video: what obj gives, checked. Strings borrowed from obj. */
struct vs_meta_edit {
	const char *title, *description, *category, *slug; /* NULL: unchanged */
	bool clear_category;   /* "category": "" or null */
	json_t *tags;          /* new reference, or NULL: unchanged */
	int is_public;         /* 0 or 1; -1: unchanged */
	json_t *chapters;      /* from vs_meta_chapters(), or NULL: unchanged */
};

/* Parses an edit: the fields of a video's record that may change; those a
 * client read from GET /videos/:id and sends back (id, qualities,
 * duration...) are ignored; any other field is an error naming it. */
int vs_meta_edit_parse(const json_t *obj, struct vs_meta_edit *e);
bool vs_meta_edit_empty(const struct vs_meta_edit *e);
void vs_meta_edit_release(struct vs_meta_edit *e);

#endif
