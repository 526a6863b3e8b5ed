#ifndef VS_USERAGENT_H
#define VS_USERAGENT_H

#include "vs.h"

/*
 * The device, browser and operating system of a User-Agent header, for
 * viewing sessions whose player did not say. Coarse on purpose: the names
 * a report groups by, not versions. Unknown parts are "other"; an empty or
 * missing header gives "" for all three.
 *
 *   device   desktop, mobile, tablet, tv, bot
 *   browser  Chrome, Chrome Headless, Chromium, Edge, Firefox, Safari,
 *            Opera, Samsung Internet, Internet Explorer, other
 *   os       Windows, macOS, iOS, iPadOS, Android, ChromeOS, Linux, other
 */

struct vs_useragent {
	const char *device;  /* static strings */
	const char *browser;
	const char *os;
};

void vs_useragent_parse(const char *ua, struct vs_useragent *out);

#endif
