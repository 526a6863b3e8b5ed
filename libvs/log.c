#include <unistd.h>

#include "log.h"

static char progname[64] = "vs";
static enum vs_log_level level = VS_LOG_NORMAL;

void vs_log_init(const char *argv0)
{
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;
	const char *env = getenv("VS_DEBUG");

	base = base ? base + 1 : argv0;
	if (base && *base)
		snprintf(progname, sizeof(progname), "%s", base);
	if (env && *env && strcmp(env, "0") != 0)
		level = VS_LOG_DEBUG;
}

const char *vs_log_progname(void)
{
	return progname;
}

void vs_log_set_level(enum vs_log_level l)
{
	/* VS_DEBUG in the environment wins over --quiet/--verbose. */
	if (level != VS_LOG_DEBUG)
		level = l;
}

enum vs_log_level vs_log_level(void)
{
	return level;
}

void vs_log_at(enum vs_log_level at, const char *fmt, ...)
{
	const char *prefix = at == VS_LOG_NORMAL ? "warning: " : at == VS_LOG_DEBUG ? "debug: " : "";
	char *msg = NULL;
	va_list ap;
	int n;

	if (level < at)
		return;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	/* One write per line, so that lines of concurrent programs in a
	 * pipeline do not interleave mid-line. */
	if (n < 0) {
		fputs(progname, stderr);
		fputs(": out of memory\n", stderr);
		return;
	}
	fprintf(stderr, "%s: %s%s\n", progname, prefix, msg);
	free(msg);
}
