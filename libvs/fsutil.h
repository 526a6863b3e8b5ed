#ifndef VS_FSUTIL_H
#define VS_FSUTIL_H

#include <sys/types.h>

#include <jansson.h>

#include "vs.h"

/*
 * File system helpers. Every output is written under a temporary name in
 * its final directory and renamed into place, so that a reader never sees a
 * half-written file (vs(7), "Never a half-written output").
 *
 * All functions return 0 or VS_ERR with the message set (vs_error_message()),
 * naming the path and the reason.
 */

/* "a/b": joins with exactly one slash. New string, NULL when out of memory. */
char *vs_fsutil_path_join(const char *dir, const char *name);

/* Creates dir and its missing parents (mode for the new ones). */
int vs_fsutil_mkdir_p(const char *dir, mode_t mode);

/*
 * Creates and opens a new file "dir/.prefix-XXXXXX" (mode 0644): *path gets
 * its name (malloced, caller frees), *fd the descriptor.
 */
int vs_fsutil_tmpfile(const char *dir, const char *prefix, char **path, int *fd);

/* Writes len bytes of data to path via a temporary file, fsync and rename;
 * the file is 0644. */
int vs_fsutil_write_atomic(const char *path, const void *data, size_t len);

/* A file of a staging directory, one that vs_fsutil_swap_dir() puts in
 * place whole once complete: written plainly (mode 0644), without a
 * temporary name or an fsync of its own, since nothing sees it before the
 * swap, which makes them all durable at once. */
int vs_fsutil_write_staged(const char *path, const void *data, size_t len);

/* vs_fsutil_write_staged() of the file src's bytes, read as they are
 * written (src may be larger than memory). */
int vs_fsutil_copy_staged(const char *src, const char *path);

/* vs_fsutil_write_staged() of the string text as dir/name; NULL text (a
 * failed allocation upstream) is an out-of-memory failure. */
int vs_fsutil_write_text(const char *dir, const char *name, const char *text);

/* The same with the file's mode: 0600 for a secret, which is never readable
 * by others, not even before the rename. */
int vs_fsutil_write_atomic_mode(const char *path, const void *data, size_t len, mode_t mode);

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer
 * (*data, malloced); *len gets its length. */
int vs_fsutil_read_file(const char *path, size_t max, char **data, size_t *len);

/* Removes path and everything below it; a missing path is not an error. */
int vs_fsutil_remove_tree(const char *path);

/* True if path names an existing regular file / directory. */
bool vs_fsutil_is_file(const char *path);
bool vs_fsutil_is_dir(const char *path);

/* The absolute form of path (not resolving links); new string or NULL. */
char *vs_fsutil_abspath(const char *path);

/* True if path is dir or lies under it, both canonical (realpath's): a
 * string prefix alone would take /srv/vod2 for a part of /srv/vod. */
bool vs_fsutil_is_within(const char *path, const char *dir);

/* The directory of the running program (malloced), or NULL: where the
 * other tools of its installation are. */
char *vs_fsutil_self_dir(void);

/*
 * Puts the directory tmp in place of final, so that final is complete or
 * absent at every moment but the instant between two renames: an existing
 * final is renamed to old first (a path beside it that no other process
 * uses: the caller puts its pid in it; one left over is removed before),
 * then tmp to final, then old is removed, even when that second rename
 * failed. tmp is left for the caller to remove on failure. What tmp holds
 * is made durable first (one syncfs of its file system, in place of an
 * fsync a file), and the renames after.
 */
int vs_fsutil_swap_dir(const char *tmp, const char *final, const char *old);

/*
 * Finished markers. A step whose output is a whole directory (vs-encode's
 * renditions, vs-package's package) writes, once that output is complete,
 * a JSON marker of what it was made from: a key over its inputs and
 * settings. A later run that computes the same key reuses the output
 * instead of making it again.
 */

/* Writes the marker m (borrowed), json_dumps()ed with flags, to path as
 * vs_fsutil_write_atomic() does. */
int vs_fsutil_write_finished(const char *path, const json_t *m, size_t flags);

/* The marker at path (new reference) if its string at key_path (a
 * vs_json_str() path: "key", "encode.key") is key; NULL if there is none,
 * it cannot be read or it was made from something else. Sets no error. */
json_t *vs_fsutil_read_finished(const char *path, const char *key_path, const char *key);

#endif
