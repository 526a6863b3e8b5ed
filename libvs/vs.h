#ifndef VS_H
#define VS_H

/*
 * Everything a vs source file includes. The C library headers come first so
 * that banned.h, last, cannot clash with their declarations.
 *
 * The house's rules for the library's interfaces, which every header keeps:
 *
 * Names. A public function is named for its module: vs_<module>_<what>
 * (vs_record_read in record.h, vs_catalog_find in catalog.h). A type a
 * module is about may lend its name to the functions on it (struct
 * vs_reader in record.h: vs_reader_new, vs_reader_free; struct vs_sha256
 * in hash.h), and the record module's accessors of jansson values are
 * vs_json_*. The ground floor's verbs that every file calls keep their
 * short names: vs_fail, vs_exit_for and vs_exit_worse (error.h) and
 * vs_close_stdout (record.h). A module's internal header (s3req.h) uses
 * the module's prefix. Lifecycle
 * verbs: _new/_free for heap objects, _init/_release for embedded ones,
 * _open/_close for connections; every _free, _release and _close accepts
 * NULL.
 *
 * Arguments. Inputs first, then options, then outputs: out-parameters come
 * last (vs_db_connect(url, &db), vs_s3_open(&s3), vs_codec_base64(in, n,
 * flags, out)); the object a function works on comes first (vs_s3_upload(s3,
 * ...)). Sizes follow the buffer they size.
 *
 * Errors. 0 (or a count) on success, a negative code from error.h on
 * failure, with the message set; the library never exits and never prints
 * to stdout, and warns on stderr only through log.h.
 *
 * Layers. The include graph has no cycle and runs down: cmd/ programs →
 * service modules (ingest, encode, package, publish, queue, report, cgi,
 * catalog, progress, analytics, store) → media and storage modules (probe,
 * ladder, transcode and its parts, segment, dash, hls, check; db, s3, fetch)
 * → the ground floor (error, log, record, fsutil, codec, hash, clock, opt).
 * Media modules never include db.h, cgi.h or s3.h; SQL lives in the modules
 * that own its tables. scripts/measures checks these.
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
