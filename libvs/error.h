#ifndef VS_ERROR_H
#define VS_ERROR_H

#include "vs.h"

/*
 * How library functions fail. A function returns 0 on success and a negative
 * value on failure:
 *
 *   VS_ERR        the input is bad or the work failed; retrying will not help
 *   VS_ETEMP      a service (PostgreSQL, S3, an HTTP server) is unreachable
 *                 or answered a transient error; retrying later may help
 *
 * and, before returning, records what went wrong with vs_fail(): a short
 * machine-readable code (the "code" of an error record) and a message naming
 * the subject and the reason. The caller fetches them with vs_error_code()
 * and vs_error_message(). The state is per thread, so encoder threads do not
 * overwrite each other's messages.
 */

enum {
	VS_ERR = -1,
	VS_ETEMP = -2,
};

/* The error codes used in error records ({"error":{"code":...}}). */
#define VS_E_USAGE "usage"                 /* a bad flag or argument */
#define VS_E_BAD_RECORD "bad_record"       /* input line is not a JSON object */
#define VS_E_INVALID "invalid_input"       /* a field or value is not acceptable */
#define VS_E_NOT_FOUND "not_found"         /* the file or row does not exist */
#define VS_E_NOT_VIDEO "not_a_video"       /* not a playable video */
#define VS_E_TRUNCATED "truncated"         /* media ends before its own index says */
#define VS_E_TOO_LARGE "too_large"         /* over a size limit */
#define VS_E_CONFLICT "conflict"           /* e.g. a slug taken by another video */
#define VS_E_BUSY "busy"                   /* another request holds it: try again */
#define VS_E_CHECKSUM "checksum_mismatch"  /* the bytes are not those the sender meant */
#define VS_E_IO "io_error"                 /* reading or writing local files */
#define VS_E_DOWNLOAD "download_failed"    /* the HTTP server refused the file */
#define VS_E_DATABASE "database_error"     /* PostgreSQL refused a statement */
#define VS_E_UNAVAILABLE "unavailable"     /* a service cannot be reached */
#define VS_E_INTERNAL "internal_error"     /* out of memory, a library bug */

/*
 * Records code and message (printf format) for this thread and returns ret,
 * so that a failing path reads: return vs_fail(VS_ERR, VS_E_IO, "...", ...);
 */
int vs_fail(int ret, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the current message with "prefix: " (adds context on the way up). */
void vs_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

const char *vs_error_code(void);    /* borrowed; "internal_error" if none set */
const char *vs_error_message(void); /* borrowed; valid until the next vs_fail */
void vs_error_clear(void);

/* Exit status for a call's return value: VS_ETEMP → 75, VS_ERR → 1, else 0. */
int vs_exit_for(int ret);

/* The status to exit with after both a and b: 75 (retry later) outranks
 * 1 (bad input), which outranks 0. */
int vs_exit_worse(int a, int b);

#endif
