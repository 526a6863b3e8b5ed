#include <ctype.h>

#include "captions.h"
#include "codec.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "meta.h"
#include "record.h"

#define CAPTIONS_DIR "captions"

/* ISO 639-2 (bibliographic and terminology codes, as MP4 and Matroska
 * carry them) to the two-letter tags BCP 47 prefers; the rest stay. */
static const char *const iso639_2[][2] = {
	{"afr", "af"}, {"ara", "ar"}, {"baq", "eu"}, {"ben", "bn"}, {"bul", "bg"}, {"cat", "ca"},
	{"ces", "cs"}, {"chi", "zh"}, {"cym", "cy"}, {"cze", "cs"}, {"dan", "da"}, {"deu", "de"},
	{"dut", "nl"}, {"ell", "el"}, {"eng", "en"}, {"est", "et"}, {"eus", "eu"}, {"fas", "fa"},
	{"fin", "fi"}, {"fra", "fr"}, {"fre", "fr"}, {"ger", "de"}, {"gle", "ga"}, {"glg", "gl"},
	{"gre", "el"}, {"heb", "he"}, {"hin", "hi"}, {"hrv", "hr"}, {"hun", "hu"}, {"ice", "is"},
	{"ind", "id"}, {"isl", "is"}, {"ita", "it"}, {"jpn", "ja"}, {"kor", "ko"}, {"lav", "lv"},
	{"lit", "lt"}, {"may", "ms"}, {"msa", "ms"}, {"nld", "nl"}, {"nor", "no"}, {"per", "fa"},
	{"pol", "pl"}, {"por", "pt"}, {"ron", "ro"}, {"rum", "ro"}, {"rus", "ru"}, {"slk", "sk"},
	{"slo", "sk"}, {"slv", "sl"}, {"spa", "es"}, {"srp", "sr"}, {"swa", "sw"}, {"swe", "sv"},
	{"tam", "ta"}, {"tel", "te"}, {"tha", "th"}, {"tur", "tr"}, {"ukr", "uk"}, {"urd", "ur"},
	{"vie", "vi"}, {"wel", "cy"}, {"zho", "zh"},
};

/* Each language's name in itself, for a track's default label. */
static const char *const names[][2] = {
	{"af", "Afrikaans"}, {"ar", "العربية"}, {"bg", "Български"}, {"bn", "বাংলা"}, {"ca", "Català"},
	{"cs", "Čeština"}, {"cy", "Cymraeg"}, {"da", "Dansk"}, {"de", "Deutsch"}, {"el", "Ελληνικά"},
	{"en", "English"}, {"es", "Español"}, {"et", "Eesti"}, {"eu", "Euskara"}, {"fa", "فارسی"},
	{"fi", "Suomi"}, {"fr", "Français"}, {"ga", "Gaeilge"}, {"gl", "Galego"}, {"he", "עברית"},
	{"hi", "हिन्दी"}, {"hr", "Hrvatski"}, {"hu", "Magyar"}, {"id", "Bahasa Indonesia"}, {"is", "Íslenska"},
	{"it", "Italiano"}, {"ja", "日本語"}, {"ko", "한국어"}, {"lt", "Lietuvių"}, {"lv", "Latviešu"},
	{"ms", "Bahasa Melayu"}, {"nl", "Nederlands"}, {"no", "Norsk"}, {"pl", "Polski"}, {"pt", "Português"},
	{"ro", "Română"}, {"ru", "Русский"}, {"sk", "Slovenčina"}, {"sl", "Slovenščina"}, {"sr", "Српски"},
	{"sv", "Svenska"}, {"sw", "Kiswahili"}, {"ta", "தமிழ்"}, {"te", "తెలుగు"}, {"th", "ไทย"},
	{"tr", "Türkçe"}, {"uk", "Українська"}, {"und", "Unknown language"}, {"ur", "اردو"},
	{"vi", "Tiếng Việt"}, {"zh", "中文"},
};

int vs_captions_language(const char *tag, char out[VS_CAPTIONS_LANGUAGE_MAX + 1])
{
	size_t len = tag ? strlen(tag) : 0, k = 0;
	int part = 0;

	out[0] = '\0';
	if (!len || len > VS_CAPTIONS_LANGUAGE_MAX)
		return vs_fail(VS_ERR, VS_E_INVALID, "'%.40s' is not a language tag (en, pt-BR, zh-Hant…)", tag ? tag : "");
	for (const char *p = tag; *p;) { /* subtags of 1 to 8 letters or digits, the first of letters */
		size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

		if (n < (part ? 1u : 2u) || n > 8 || (part == 0 && strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != n) ||
		    (p[n] && (p[n] != '-' || !p[n + 1])))
			return vs_fail(VS_ERR, VS_E_INVALID, "'%.40s' is not a language tag (en, pt-BR, zh-Hant…)", tag);
		for (size_t i = 0; i < n; i++) { /* en, zh-Hant, pt-BR */
			int c = (unsigned char)p[i];

			out[k++] = (char)(part && n == 2 ? toupper(c) : part && n == 4 && i == 0 ? toupper(c) : tolower(c));
		}
		p += n;
		if (*p)
			out[k++] = *p++;
		part++;
	}
	out[k] = '\0';
	for (size_t i = 0; i < VS_ARRAY_SIZE(iso639_2); i++) {
		size_t n = strcspn(out, "-");

		if (n == 3 && !strncmp(out, iso639_2[i][0], 3)) {
			memmove(out + 2, out + 3, strlen(out + 3) + 1);
			memcpy(out, iso639_2[i][1], 2);
			break;
		}
	}
	return 0;
}

const char *vs_captions_language_name(const char *tag)
{
	size_t n = tag ? strcspn(tag, "-") : 0;

	for (size_t i = 0; i < VS_ARRAY_SIZE(names); i++)
		if (strlen(names[i][0]) == n && !strncmp(tag, names[i][0], n))
			return names[i][1];
	return NULL;
}

bool vs_captions_kind_ok(const char *kind)
{
	return !kind || !strcmp(kind, "captions") || !strcmp(kind, "subtitles");
}

/* What of v is worth a word, as the track's "warnings" (NULL: none). */
static json_t *warnings(const struct vs_vtt *v, const char *what)
{
	static const char *const said[] = {"cues out of order, put in order", "cues that overlap another, shown together",
	                                   "cues without text, dropped", "cues that end after the video, shortened",
	                                   "cues that start after the video, dropped"};
	const int counts[] = {v->reordered, v->overlaps, v->empty, v->clamped, v->dropped};
	const char *const keys[] = {"reordered", "overlaps", "empty", "clamped", "dropped"};
	json_t *w = NULL;

	for (size_t i = 0; i < VS_ARRAY_SIZE(counts); i++) {
		if (!counts[i])
			continue;
		if (!w)
			w = json_object();
		json_object_set_new(w, keys[i], json_integer(counts[i]));
		vs_log_warn("%s: %s: %d", what, said[i], counts[i]);
	}
	return w;
}

/* The spec checked: *lang the tag, *label the label to keep. */
static int check_spec(const struct vs_caption_spec *spec, char lang[VS_CAPTIONS_LANGUAGE_MAX + 1], const char **label)
{
	int ret = vs_captions_language(spec->language, lang);

	if (ret < 0)
		return ret;
	if (!vs_captions_kind_ok(spec->kind))
		return vs_fail(VS_ERR, VS_E_INVALID, "kind '%.40s' is neither captions nor subtitles", spec->kind);
	*label = spec->label ? spec->label : vs_captions_language_name(lang) ? vs_captions_language_name(lang) : lang;
	if (!**label || vs_meta_chars(*label) > VS_CAPTIONS_LABEL_MAX || strpbrk(*label, "\"\n\r"))
		return vs_fail(VS_ERR, VS_E_INVALID, "a label is 1 to %d characters, without quotes or line breaks",
		               VS_CAPTIONS_LABEL_MAX);
	return 0;
}

int vs_captions_store(const char *media_root, const char *id, const struct vs_caption_spec *spec,
                      struct vs_vtt *v, double duration_s, json_t **track)
{
	char lang[VS_CAPTIONS_LANGUAGE_MAX + 1], sha[2 * VS_CODEC_SHA256_LEN + 1], *video = NULL, *dir = NULL,
	     *name = NULL, *path = NULL, *text = NULL;
	const char *label = NULL, *kind = spec->kind ? spec->kind : "captions";
	int ret;

	*track = NULL;
	if ((ret = check_spec(spec, lang, &label)) < 0)
		return ret;
	if (duration_s > 0)
		vs_vtt_clamp(v, duration_s);
	if (v->n == 0)
		return vs_fail(VS_ERR, VS_E_INVALID, "the %s track '%s' has no cues%s", kind, lang,
		               v->dropped ? " within the video's duration" : "");
	if (asprintf(&name, "%s-%s.vtt", kind, lang) < 0)
		name = NULL;
	video = name ? vs_fsutil_path_join(media_root, id) : NULL;
	dir = video ? vs_fsutil_path_join(video, CAPTIONS_DIR) : NULL;
	path = dir ? vs_fsutil_path_join(dir, name) : NULL;
	text = path ? vs_vtt_text(v) : NULL;
	if (!text) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	if ((ret = vs_fsutil_mkdir_p(dir, 0755)) < 0 || (ret = vs_fsutil_write_atomic(path, text, strlen(text))) < 0)
		goto out;
	vs_codec_sha256_hex(text, strlen(text), sha);
	*track = json_pack("{s:s,s:s,s:s,s:b,s:s,s:s,s:i,s:s}", "language", lang, "label", label, "kind", kind,
	                   "default", spec->is_default, "path", path, "sha256", sha, "cues", v->n, "source",
	                   spec->source ? spec->source : "file");
	if (*track) {
		char what[VS_CAPTIONS_LANGUAGE_MAX + 32];
		json_t *w;

		snprintf(what, sizeof(what), "the %s %s", lang, kind);
		w = warnings(v, what);

		if (w)
			json_object_set_new(*track, "warnings", w);
	}
out:
	free(text);
	free(path);
	free(dir);
	free(video);
	free(name);
	return ret;
}

int vs_captions_store_file(const char *media_root, const char *id, const struct vs_caption_spec *spec,
                           const char *path, double duration_s, json_t **track)
{
	struct vs_vtt v;
	int ret = vs_vtt_read_file(path, &v);

	*track = NULL;
	if (ret == 0 && (ret = vs_captions_store(media_root, id, spec, &v, duration_s, track)) < 0)
		vs_error_prefix("'%s'", path);
	vs_vtt_release(&v);
	return ret;
}

int vs_captions_parse_arg(const char *arg, json_t **out)
{
	char *copy = strdup(arg ? arg : "");
	json_t *list = json_array();
	int ret = 0;

	*out = NULL;
	if (!copy || !list) {
		free(copy);
		json_decref(list);
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	}
	for (char *part = copy, *next; part && ret == 0; part = next) {
		char *eq = strchr(part, '=');

		next = strchr(part, ',');
		if (next)
			*next++ = '\0';
		if (!eq || eq == part || !eq[1])
			ret = vs_fail(VS_ERR, VS_E_INVALID, "'%.80s' is not LANG=FILE (en=lecture.vtt)", part);
		else {
			*eq = '\0';
			json_array_append_new(list, json_pack("{s:s,s:s}", "language", part, "path", eq + 1));
		}
	}
	free(copy);
	if (ret == 0 && json_array_size(list) == 0)
		ret = vs_fail(VS_ERR, VS_E_INVALID, "no LANG=FILE given");
	if (ret < 0)
		json_decref(list);
	else
		*out = list;
	return ret;
}

void vs_captions_merge(json_t *rec, json_t *track)
{
	json_t *list = json_object_get(rec, "captions"), *t;
	bool is_default = json_is_true(json_object_get(track, "default"));
	size_t i;

	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(rec, "captions", list);
	}
	json_array_foreach(list, i, t) {
		if (!strcmp(vs_json_str(t, "language") ? vs_json_str(t, "language") : "", vs_json_str(track, "language")) &&
		    !strcmp(vs_json_str(t, "kind") ? vs_json_str(t, "kind") : "", vs_json_str(track, "kind"))) {
			json_array_remove(list, i);
			break;
		}
	}
	if (is_default)
		json_array_foreach(list, i, t)
			json_object_set_new(t, "default", json_false());
	json_array_append_new(list, track);
}
