#ifndef TIDU_ALLOC_H
#define TIDU_ALLOC_H
/*
 * Allocation. Every allocation in tidu goes through these wrappers.
 *
 * Running out of memory is fatal: the wrappers print one line to stderr and
 * abort() instead of returning NULL. This is the one place where libtidu
 * ends the process. It is safe because every change to the store happens
 * inside an SQLite transaction, which an aborted process never commits, and
 * it spares every caller an error path that would never be tested.
 *
 * Memory returned by these functions belongs to the caller and is released
 * with free().
 */
#include <stddef.h>

/* malloc(); a size of 0 gives a unique, freeable pointer. Never NULL. */
void *tidu_malloc(size_t size);

/* calloc(); aborts when nmemb * size overflows. Never NULL. */
void *tidu_calloc(size_t nmemb, size_t size);

/* realloc(); a size of 0 keeps a freeable pointer (never frees). Never NULL. */
void *tidu_realloc(void *ptr, size_t size);

/* realloc() of nmemb * size bytes; aborts when the product overflows. */
void *tidu_reallocarray(void *ptr, size_t nmemb, size_t size);

/* strdup(). Never NULL; `s` must not be NULL. */
char *tidu_strdup(const char *s);

/* The first `n` bytes of `s` (fewer if `s` is shorter), NUL-terminated. */
char *tidu_strndup(const char *s, size_t n);

#endif
