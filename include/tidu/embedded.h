#ifndef TIDU_EMBEDDED_H
#define TIDU_EMBEDDED_H
/*
 * The files of schema/ compiled into the binary (see tools/embed.cmake).
 * Each data array is NUL-terminated one byte past `size`, so text files can
 * be used as C strings.
 */
#include <stddef.h>

typedef struct {
	const char *name;          /* file name without directory, e.g. "001_init.sql" */
	const unsigned char *data; /* contents, followed by one NUL byte */
	size_t size;               /* contents size in bytes, without the NUL */
} tidu_embedded_file;

/* Sorted by name; ends with a {NULL, NULL, 0} entry. */
extern const tidu_embedded_file tidu_embedded[];
extern const size_t tidu_embedded_count;

/* Returns the embedded file called `name`, or NULL. Borrowed pointer. */
const tidu_embedded_file *tidu_embedded_find(const char *name);

#endif
