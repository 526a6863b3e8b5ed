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

static const char *browser_of(const char *ua)
{
	/* the order matters: Edge, Opera and Samsung say "Chrome" too, and
	 * Chrome says "Safari" */
	if (has(ua, "Edg/") || has(ua, "EdgA/") || has(ua, "EdgiOS/") || has(ua, "Edge/"))
		return "Edge";
	if (has(ua, "OPR/") || has(ua, "Opera"))
		return "Opera";
	if (has(ua, "SamsungBrowser/"))
		return "Samsung Internet";
	if (has(ua, "Firefox/") || has(ua, "FxiOS/"))
		return "Firefox";
	if (has(ua, "HeadlessChrome/"))
		return "Chrome Headless";
	if (has(ua, "Chromium/"))
		return "Chromium";
	if (has(ua, "Chrome/") || has(ua, "CriOS/"))
		return "Chrome";
	if (has(ua, "Safari/") && (has(ua, "Version/") || has(ua, "Mobile/")))
		return "Safari";
	if (has(ua, "MSIE ") || has(ua, "Trident/"))
		return "Internet Explorer";
	return "other";
}

static const char *os_of(const char *ua)
{
	if (has(ua, "Windows"))
		return "Windows";
	if (has(ua, "iPad"))
		return "iPadOS";
	if (has(ua, "iPhone") || has(ua, "iPod"))
		return "iOS";
	if (has(ua, "Android"))
		return "Android";
	if (has(ua, "CrOS"))
		return "ChromeOS";
	if (has(ua, "Mac OS X") || has(ua, "Macintosh"))
		return "macOS";
	if (has(ua, "Linux") || has(ua, "X11"))
		return "Linux";
	return "other";
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

void vs_user_agent_parse(const char *ua, struct vs_user_agent *out)
{
	if (!ua || !*ua) {
		out->device = out->browser = out->os = "";
		return;
	}
	out->browser = browser_of(ua);
	out->os = os_of(ua);
	out->device = device_of(ua);
}
