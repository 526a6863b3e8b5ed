#ifndef VS_H
#define VS_H

/*
 * Everything a vs source file includes. The C library headers come first so
 * that banned.h, last, cannot clash with their declarations.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exitcode.h"

#ifndef VS_VERSION
#define VS_VERSION "unknown"
#endif

#define VS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#include "banned.h"

#endif
