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
	VS_LOG_QUIET = 0, /* errors only */
	VS_LOG_NORMAL,    /* errors and warnings (default) */
	VS_LOG_VERBOSE,   /* plus progress notes (--verbose) */
	VS_LOG_DEBUG,     /* plus details for developers (VS_DEBUG=1) */
};

/* Sets the program name used as prefix (basename of argv0); call first. */
void vs_log_init(const char *argv0);
const char *vs_progname(void);
void vs_log_set_level(enum vs_log_level level);
enum vs_log_level vs_log_level(void);

void vs_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vs_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vs_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vs_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
