#ifndef VS_LOG_H
#define VS_LOG_H

#include "vs.h"

/*
 * Diagnostics on stderr, one line each, in one format:
 *
 *     vs-ingest: cannot open 'in.mp4': No such file or directory
 *
 * program name first, lower case, no trailing period, the subject quoted.
 * Nothing here ever writes to stdout: stdout carries records only.
 */

enum vs_log_level {
	VS_LOG_SILENT = -1, /* nothing at all: for the fuzz targets, which read millions of bad inputs */
	VS_LOG_QUIET = 0, /* errors only */
	VS_LOG_NORMAL,    /* errors and warnings (default) */
	VS_LOG_VERBOSE,   /* plus progress notes (--verbose) */
	VS_LOG_DEBUG,     /* plus details for developers (VS_DEBUG=1) */
};

/* Sets the program name used as prefix (basename of argv0); call first. */
void vs_log_init(const char *argv0);
const char *vs_log_progname(void);
void vs_log_set_level(enum vs_log_level level);
enum vs_log_level vs_log_level(void);

/* One line on stderr when the level is at least at (VS_LOG_QUIET: always);
 * warnings say "warning: ", debug lines "debug: ". */
void vs_log_at(enum vs_log_level at, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define vs_log_error(...) vs_log_at(VS_LOG_QUIET, __VA_ARGS__)
#define vs_log_warn(...)  vs_log_at(VS_LOG_NORMAL, __VA_ARGS__)
#define vs_log_info(...)  vs_log_at(VS_LOG_VERBOSE, __VA_ARGS__)
#define vs_log_debug(...) vs_log_at(VS_LOG_DEBUG, __VA_ARGS__)

#endif
