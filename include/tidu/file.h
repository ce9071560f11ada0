#ifndef TIDU_FILE_H
#define TIDU_FILE_H
/* Whole-file reads and crash-safe whole-file writes, and mkdir -p. */
#include <stddef.h>

#include "tidu/buf.h"

/*
 * Reads the file `path` into `out` (cleared first). TIDU_ENOTFOUND if it
 * does not exist, TIDU_EINVAL if it is a directory or larger than `max`
 * bytes, TIDU_ERROR for other I/O errors; the message names the file. On
 * an error `out` is left empty (freed).
 */
int tidu_file_read(const char *path, size_t max, tidu_buf *out);

/*
 * Writes `len` bytes to `path` through a temporary file in the same
 * directory, fsync, rename and fsync of the directory: afterwards the file
 * is there whole or not at all, even after a crash. `mode` as for chmod.
 * TIDU_EINVAL if `path` is there and is not a regular file (a folder, a
 * device, a pipe: the rename would replace it).
 */
int tidu_file_write(const char *path, const void *data, size_t len, int mode);

/*
 * 1 if `path` is a regular file (not a symlink) holding exactly the `len`
 * bytes at `data`, 0 otherwise (missing, unreadable, different).
 */
int tidu_file_same(const char *path, const void *data, size_t len);

/*
 * Removes the temporary files `<name><ext>.tmp-XXXXXX` that a
 * tidu_file_write() killed before its rename left in `dir`; adds their
 * number to *removed. A missing `dir` is not an error.
 */
int tidu_file_remove_temps(const char *dir, const char *ext, size_t *removed);

/* Creates `path` and its missing parents with `mode` (mkdir -p). */
int tidu_file_mkdirs(const char *path, int mode);

#endif
