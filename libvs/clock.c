#include <ctype.h>
#include <math.h>
#include <sys/time.h>

#include "clock.h"
#include "error.h"

double vs_clock_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* "Z", "+01:00", "-0500", "+01" or nothing: the offset east of UTC. */
static int parse_zone(const char *s, long *offset_s)
{
	int h = 0, m = 0, sign;

	*offset_s = 0;
	if (!*s || !strcmp(s, "Z") || !strcmp(s, "z"))
		return 0;
	if (*s != '+' && *s != '-')
		return VS_ERR;
	sign = *s == '-' ? -1 : 1;
	s++;
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return VS_ERR;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	s += 2;
	if (*s == ':')
		s++;
	if (*s) {
		if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2])
			return VS_ERR;
		m = (s[0] - '0') * 10 + (s[1] - '0');
	}
	if (h > 23 || m > 59)
		return VS_ERR;
	*offset_s = sign * (h * 3600L + m * 60L);
	return 0;
}

int vs_clock_parse_time(const char *s, bool relative, double now, double *out)
{
	struct tm tm = {0};
	char *end = NULL;
	double v;
	long zone;

	if (!s || !*s || isspace((unsigned char)*s))
		return vs_fail(VS_ERR, VS_E_INVALID, "a time is required");
	errno = 0;
	v = strtod(s, &end);
	if (end != s && isdigit((unsigned char)*s) && !errno && isfinite(v)) {
		if (!*end) {
			*out = v;
			return 0;
		}
		if (relative && end[1] == '\0' && strchr("smhdw", *end)) {
			static const double unit[] = {['s' - 'a'] = 1, ['m' - 'a'] = 60, ['h' - 'a'] = 3600,
			                              ['d' - 'a'] = 86400, ['w' - 'a'] = 7 * 86400};

			*out = now - v * unit[*end - 'a'];
			return 0;
		}
	}
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end && (*end == 'T' || *end == 't' || *end == ' ') && isdigit((unsigned char)end[1])) {
		end = strptime(end + 1, "%H:%M:%S", &tm);
		if (end) {
			v = (double)timegm(&tm);
			if (*end == '.' || *end == ',') {
				double frac = 0, scale = 0.1;

				for (end++; isdigit((unsigned char)*end); end++, scale /= 10)
					frac += (*end - '0') * scale;
				v += frac;
			}
			if (parse_zone(end, &zone) == 0) {
				*out = v - (double)zone;
				return 0;
			}
		}
	} else if (end && !*end) {
		*out = (double)timegm(&tm);
		return 0;
	}
	return vs_fail(VS_ERR, VS_E_INVALID, "'%s' is not a time: use seconds since the epoch or ISO 8601%s", s,
	               relative ? ", or a span before now such as 7d or 24h" : "");
}

void vs_clock_format_time(double t, char *buf, size_t n)
{
	time_t secs = (time_t)floor(t);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
