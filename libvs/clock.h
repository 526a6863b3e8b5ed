#ifndef VS_CLOCK_H
#define VS_CLOCK_H

#include "vs.h"

/*
 * Times as the tools read and print them: seconds since the epoch (with a
 * fraction where it matters) and ISO 8601 in UTC.
 */

/* Now, in seconds since the epoch, to the microsecond. */
double vs_clock_now(void);

/*
 * Parses a time given on a command line or in a record:
 *   - seconds since the epoch: "1795610100", "1795610100.25";
 *   - ISO 8601: "2026-11-24", "2026-11-24T20:00:00", with fractions of a
 *     second and "Z" or an offset ("+01:00", "-0500"); no zone means UTC;
 *   - with relative set, a span before now: "90s", "15m", "24h", "7d",
 *     "2w" (for --since and --until).
 * Returns 0 and the time in *out, or VS_ERR (message set) when s is none
 * of these.
 */
int vs_clock_parse_time(const char *s, bool relative, double now, double *out);

/* Writes t as "2026-11-24T20:00:00Z" (seconds, UTC) into buf (n >= 21). */
void vs_clock_format_time(double t, char *buf, size_t n);

#endif
