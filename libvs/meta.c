#include <ctype.h>
#include <math.h>

#include "error.h"
#include "meta.h"
#include "slug.h"

size_t vs_meta_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

int vs_meta_string(const json_t *rec, const char *key, const char *dflt, size_t max,
                   const char **out)
{
	json_t *v = json_object_get(rec, key);

	*out = dflt;
	if (v && !json_is_null(v)) {
		if (!json_is_string(v))
			return vs_fail(VS_ERR, VS_E_INVALID, "field '%s' must be a string", key);
		*out = json_string_value(v);
	}
	if (*out && max && vs_meta_chars(*out) > max)
		return vs_fail(VS_ERR, VS_E_INVALID, "field '%s' is longer than %zu characters", key,
		               max);
	return 0;
}

static int add_tag(json_t *tags, const char *s, size_t n)
{
	json_t *t;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return 0;
	t = json_stringn(s, n);
	if (!t)
		return vs_fail(VS_ERR, VS_E_INVALID, "tag '%.*s' is not valid UTF-8", (int)n, s);
	if (vs_meta_chars(json_string_value(t)) > VS_TAG_MAX) {
		json_decref(t);
		return vs_fail(VS_ERR, VS_E_INVALID, "a tag is longer than %d characters", VS_TAG_MAX);
	}
	for (size_t i = 0; i < json_array_size(tags); i++)
		if (json_equal(json_array_get(tags, i), t)) {
			json_decref(t);
			return 0;
		}
	json_array_append_new(tags, t);
	if (json_array_size(tags) > VS_TAGS_MAX)
		return vs_fail(VS_ERR, VS_E_INVALID, "more than %d tags", VS_TAGS_MAX);
	return 0;
}

int vs_meta_tags(const json_t *rec, const char *dflt, json_t **out)
{
	json_t *v = json_object_get(rec, "tags");
	json_t *tags = json_array();
	int ret = 0;

	*out = NULL;
	if (v && json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v) && ret == 0; i++) {
			json_t *t = json_array_get(v, i);

			if (!json_is_string(t))
				ret = vs_fail(VS_ERR, VS_E_INVALID, "field 'tags' must hold strings");
			else
				ret = add_tag(tags, json_string_value(t), json_string_length(t));
		}
	} else if (v && !json_is_null(v) && !json_is_string(v)) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "field 'tags' must be an array of strings");
	} else {
		const char *s = v && json_is_string(v) ? json_string_value(v) : dflt;

		while (s && *s && ret == 0) {
			size_t n = strcspn(s, ",");

			ret = add_tag(tags, s, n);
			s += n;
			s += *s == ',';
		}
	}
	if (ret < 0) {
		json_decref(tags);
		return ret;
	}
	*out = tags;
	return 0;
}

/* The fields of a video's record a catalog edit may change, and those of
 * VideoDetailResponse it ignores (a client may send back what it read). */
static const char *const editable[] = {"title", "description", "tags", "category", "slug", "is_public",
                                       "chapters"};
static const char *const read_only[] = {"id", "duration", "thumbnail_url", "qualities", "captions", "progress",
                                        "analytics", "created_at", "updated_at", "upload_status", "is_published"};

static bool listed(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(key, list[i]))
			return true;
	return false;
}

static double chapter_time(const json_t *c, const char *plan_name, const char *short_name)
{
	const json_t *v = json_object_get(c, plan_name);

	if (!v)
		v = json_object_get(c, short_name);
	return json_is_number(v) ? json_number_value(v) : json_is_null(v) || !v ? NAN : -1;
}

int vs_meta_chapters(const json_t *list, json_t **out)
{
	json_t *norm = json_array(), *c;
	double last = -1;
	size_t i;

	*out = NULL;
	if (!json_is_array(list)) {
		json_decref(norm);
		return vs_fail(VS_ERR, VS_E_INVALID, "field 'chapters' must be an array of {title, start_time_seconds}");
	}
	if (json_array_size(list) > VS_CHAPTERS_MAX) {
		json_decref(norm);
		return vs_fail(VS_ERR, VS_E_INVALID, "more than %d chapters", VS_CHAPTERS_MAX);
	}
	json_array_foreach(list, i, c) {
		const char *title = json_string_value(json_object_get(c, "title"));
		double start = chapter_time(c, "start_time_seconds", "start");
		double end = chapter_time(c, "end_time_seconds", "end");

		if (!json_is_object(c) || !title || !*title || vs_meta_chars(title) > VS_TITLE_MAX) {
			json_decref(norm);
			return vs_fail(VS_ERR, VS_E_INVALID, "chapter %zu: a title of 1 to %d characters is needed", i + 1,
			               VS_TITLE_MAX);
		}
		if (!(start >= 0) || !isfinite(start) || start <= last || (!isnan(end) && !(end > start))) {
			json_decref(norm);
			return vs_fail(VS_ERR, VS_E_INVALID,
			               "chapter %zu: start_time_seconds must be a number after the previous chapter's, "
			               "and end_time_seconds after it", i + 1);
		}
		last = start;
		json_array_append_new(norm, json_pack("{s:s,s:f}", "title", title, "start", start));
		if (!isnan(end))
			json_object_set_new(json_array_get(norm, i), "end", json_real(end));
	}
	*out = norm;
	return 0;
}

int vs_meta_edit_parse(const json_t *obj, struct vs_meta_edit *e)
{
	const char *key;
	json_t *v;
	int ret = 0;

	memset(e, 0, sizeof(*e));
	e->is_public = -1;
	if (!json_is_object(obj))
		return vs_fail(VS_ERR, VS_E_INVALID, "an edit is a JSON object");
	json_object_foreach((json_t *)obj, key, v) {
		if (!listed(key, editable, VS_ARRAY_SIZE(editable)) && !listed(key, read_only, VS_ARRAY_SIZE(read_only)))
			return vs_fail(VS_ERR, VS_E_INVALID, "field '%s' is not one a video has", key);
	}
	if ((ret = vs_meta_string(obj, "title", NULL, VS_TITLE_MAX, &e->title)) < 0 ||
	    (ret = vs_meta_string(obj, "description", NULL, VS_DESCRIPTION_MAX, &e->description)) < 0 ||
	    (ret = vs_meta_string(obj, "category", NULL, VS_TAG_MAX, &e->category)) < 0 ||
	    (ret = vs_meta_string(obj, "slug", NULL, 0, &e->slug)) < 0)
		goto out;
	if (json_object_get(obj, "title") && (!e->title || !*e->title)) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "field 'title' cannot be empty");
		goto out;
	}
	if (json_object_get(obj, "description") && !e->description)
		e->description = "";
	e->clear_category = json_object_get(obj, "category") && (!e->category || !*e->category);
	if (e->clear_category)
		e->category = NULL;
	if (e->slug && !vs_slug_valid(e->slug)) {
		ret = vs_fail(VS_ERR, VS_E_INVALID,
		              "slug '%s' is not valid: use lower-case letters, digits and single dashes, at most %d "
		              "characters", e->slug, VS_SLUG_MAX);
		goto out;
	}
	if (json_object_get(obj, "tags") && (ret = vs_meta_tags(obj, NULL, &e->tags)) < 0)
		goto out;
	v = json_object_get(obj, "is_public");
	if (v && !json_is_boolean(v)) {
		ret = vs_fail(VS_ERR, VS_E_INVALID, "field 'is_public' must be true or false");
		goto out;
	}
	if (v)
		e->is_public = json_is_true(v);
	if ((v = json_object_get(obj, "chapters")) && (ret = vs_meta_chapters(v, &e->chapters)) < 0)
		goto out;
	return 0;
out:
	vs_meta_edit_release(e);
	return ret;
}

bool vs_meta_edit_empty(const struct vs_meta_edit *e)
{
	return !e->title && !e->description && !e->category && !e->clear_category && !e->slug && !e->tags &&
	       e->is_public < 0 && !e->chapters;
}

void vs_meta_edit_release(struct vs_meta_edit *e)
{
	json_decref(e->tags);
	json_decref(e->chapters);
	e->tags = e->chapters = NULL;
}
