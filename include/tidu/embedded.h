#ifndef TIDU_EMBEDDED_H
#define TIDU_EMBEDDED_H
/*
 * The files of schema/ compiled into the binary (see tools/embed.cmake),
 * named by their path under schema/: the migrations, tables and catalog at
 * the top ("001_init.sql", "zh_CN.po"), the rule packs ("rules/NAME.pack",
 * read by assess_pack.c) and the built-in forms ("forms/ID.xlsx", read by
 * forms.c). Any bytes (the workbooks are binary); each data array is also
 * NUL-terminated one byte past `size`, so text files can be used as C strings.
 */
#include <stddef.h>

typedef struct {
	const char *name;          /* path under schema/: "001_init.sql", "rules/x.pack" */
	const unsigned char *data; /* contents, followed by one NUL byte */
	size_t size;               /* contents size in bytes, without the NUL */
} tidu_embedded_file;

/* Sorted by name (byte order); ends with a {NULL, NULL, 0} entry. */
extern const tidu_embedded_file tidu_embedded[];
extern const size_t tidu_embedded_count;

/* Returns the embedded file called `name`, or NULL. Borrowed pointer. */
const tidu_embedded_file *tidu_embedded_find(const char *name);

#endif
