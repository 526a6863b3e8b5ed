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

const char *vs_progname(void)
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

__attribute__((format(printf, 2, 0))) static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char *msg = NULL;

	/* One write per line, so that lines of concurrent programs in a
	 * pipeline do not interleave mid-line. */
	if (vasprintf(&msg, fmt, ap) < 0) {
		fputs(progname, stderr);
		fputs(": out of memory\n", stderr);
		return;
	}
	fprintf(stderr, "%s: %s%s\n", progname, prefix, msg);
	free(msg);
}

void vs_log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void vs_log_warn(const char *fmt, ...)
{
	va_list ap;

	if (level < VS_LOG_NORMAL)
		return;
	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void vs_log_info(const char *fmt, ...)
{
	va_list ap;

	if (level < VS_LOG_VERBOSE)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void vs_log_debug(const char *fmt, ...)
{
	va_list ap;

	if (level < VS_LOG_DEBUG)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}
