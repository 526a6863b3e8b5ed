#ifndef VS_FSUTIL_H
#define VS_FSUTIL_H

#include <sys/types.h>

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
char *vs_path_join(const char *dir, const char *name);

/* Creates dir and its missing parents (mode for the new ones). */
int vs_mkdir_p(const char *dir, mode_t mode);

/*
 * Creates and opens a new file "dir/.prefix-XXXXXX" (mode 0644): *path gets
 * its name (malloced, caller frees), *fd the descriptor.
 */
int vs_tmpfile(const char *dir, const char *prefix, char **path, int *fd);

/* Writes len bytes of data to path via a temporary file, fsync and rename;
 * the file is 0644. */
int vs_write_file_atomic(const char *path, const void *data, size_t len);

/* The same with the file's mode: 0600 for a secret, which is never readable
 * by others, not even before the rename. */
int vs_write_file_atomic_mode(const char *path, const void *data, size_t len, mode_t mode);

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer
 * (*data, malloced); *len gets its length. */
int vs_read_file(const char *path, size_t max, char **data, size_t *len);

/* Removes path and everything below it; a missing path is not an error. */
int vs_remove_tree(const char *path);

/* True if path names an existing regular file / directory. */
bool vs_is_file(const char *path);
bool vs_is_dir(const char *path);

/* The absolute form of path (not resolving links); new string or NULL. */
char *vs_abspath(const char *path);

#endif
