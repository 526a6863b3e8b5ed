#include <strings.h>

#include "useragent.h"

static bool has(const char *ua, const char *s)
{
	return strstr(ua, s) != NULL;
}

/* Case-insensitive strstr, for robots' free-form names. */
static bool has_ci(const char *ua, const char *s)
{
	size_t n = strlen(s);

	for (; *ua; ua++)
		if (!strncasecmp(ua, s, n))
			return true;
	return false;
}

/* A name, and the tokens any one of which gives it away (and, where
 * also is set, one of those as well). */
struct sign {
	const char *name;
	const char *any[4];
	const char *also[2];
};

static bool any_of(const char *ua, const char *const *tokens, size_t n)
{
	for (size_t i = 0; i < n && tokens[i]; i++)
		if (has(ua, tokens[i]))
			return true;
	return false;
}

static const char *first_match(const char *ua, const struct sign *signs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (any_of(ua, signs[i].any, VS_ARRAY_SIZE(signs[i].any)) &&
		    (!signs[i].also[0] || any_of(ua, signs[i].also, VS_ARRAY_SIZE(signs[i].also))))
			return signs[i].name;
	return "other";
}

static const char *browser_of(const char *ua)
{
	/* the order matters: Edge, Opera and Samsung say "Chrome" too, and
	 * Chrome says "Safari" */
	static const struct sign browsers[] = {
		{"Edge", {"Edg/", "EdgA/", "EdgiOS/", "Edge/"}},
		{"Opera", {"OPR/", "Opera"}},
		{"Samsung Internet", {"SamsungBrowser/"}},
		{"Firefox", {"Firefox/", "FxiOS/"}},
		{"Chrome Headless", {"HeadlessChrome/"}},
		{"Chromium", {"Chromium/"}},
		{"Chrome", {"Chrome/", "CriOS/"}},
		{"Safari", {"Safari/"}, {"Version/", "Mobile/"}},
		{"Internet Explorer", {"MSIE ", "Trident/"}},
	};

	return first_match(ua, browsers, VS_ARRAY_SIZE(browsers));
}

static const char *os_of(const char *ua)
{
	static const struct sign systems[] = {
		{"Windows", {"Windows"}},
		{"iPadOS", {"iPad"}},
		{"iOS", {"iPhone", "iPod"}},
		{"Android", {"Android"}},
		{"ChromeOS", {"CrOS"}},
		{"macOS", {"Mac OS X", "Macintosh"}},
		{"Linux", {"Linux", "X11"}},
	};

	return first_match(ua, systems, VS_ARRAY_SIZE(systems));
}

static const char *device_of(const char *ua)
{
	static const char *const bots[] = {"bot", "crawl", "spider", "slurp", "curl/", "wget/", "python-"};
	static const char *const tvs[] = {"SmartTV", "SMART-TV", "Smart-TV", "Tizen TV", "Web0S", "WebOS TV", "AppleTV",
	                                  "CrKey", "AFTS", "AFTM", "AFTT", "BRAVIA", "HbbTV", "Roku", "PlayStation", "Xbox"};

	for (size_t i = 0; i < VS_ARRAY_SIZE(bots); i++)
		if (has_ci(ua, bots[i]))
			return "bot";
	for (size_t i = 0; i < VS_ARRAY_SIZE(tvs); i++)
		if (has(ua, tvs[i]))
			return "tv";
	if (has(ua, "iPad") || has(ua, "Tablet") || has(ua, "Kindle") || has(ua, "Silk/") ||
	    (has(ua, "Android") && !has(ua, "Mobile")))
		return "tablet";
	if (has(ua, "Mobi") || has(ua, "iPhone") || has(ua, "iPod") || has(ua, "Windows Phone"))
		return "mobile";
	return "desktop";
}

void vs_useragent_parse(const char *ua, struct vs_useragent *out)
{
	if (!ua || !*ua) {
		out->device = out->browser = out->os = "";
		return;
	}
	out->browser = browser_of(ua);
	out->os = os_of(ua);
	out->device = device_of(ua);
}
