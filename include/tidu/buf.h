#ifndef TIDU_BUF_H
#define TIDU_BUF_H
/*
 * A growable byte buffer, used for every string built at run time.
 *
 * `ptr` is NULL until something is added; from then on it is always
 * NUL-terminated at `len` (the NUL is not counted in `len`), so it can be
 * used as a C string when the contents hold no NUL byte. The memory belongs
 * to the buffer until tidu_buf_detach() hands it to the caller.
 *
 * Growing never fails: out of memory aborts (see alloc.h), so these
 * functions return nothing.
 *
 *	tidu_buf b = TIDU_BUF_INIT;
 *	tidu_buf_printf(&b, "%d firms", n);
 *	puts(tidu_buf_cstr(&b));
 *	tidu_buf_free(&b);
 */
#include <stdarg.h>
#include <stddef.h>

#include "tidu/error.h"

typedef struct {
	char *ptr;  /* contents, NUL-terminated; NULL while nothing was added */
	size_t len; /* bytes used, without the terminating NUL */
	size_t cap; /* bytes allocated */
} tidu_buf;

#define TIDU_BUF_INIT {0}

/* Makes room for at least `extra` more bytes (plus the NUL). */
void tidu_buf_grow(tidu_buf *buf, size_t extra);

/* Appends `len` bytes of `data` (which may hold NUL bytes). */
void tidu_buf_put(tidu_buf *buf, const void *data, size_t len);

/* Appends the C string `s`. */
void tidu_buf_puts(tidu_buf *buf, const char *s);

/* Appends one byte. */
void tidu_buf_putc(tidu_buf *buf, char c);

/*
 * Appends printf-style formatted text. A format that vsnprintf() rejects is
 * a programming error and aborts.
 */
void tidu_buf_printf(tidu_buf *buf, const char *fmt, ...) TIDU_PRINTF(2, 3);
void tidu_buf_vprintf(tidu_buf *buf, const char *fmt, va_list ap) TIDU_PRINTF(2, 0);

/* Shortens the contents to `len` bytes (no-op if already shorter). */
void tidu_buf_truncate(tidu_buf *buf, size_t len);

/* Empties the buffer but keeps its memory for reuse. */
void tidu_buf_clear(tidu_buf *buf);

/* Releases the memory; the buffer is then empty (TIDU_BUF_INIT) again. */
void tidu_buf_free(tidu_buf *buf);

/*
 * As tidu_buf_free(), zeroing the whole allocation first: for passphrases
 * and passwords. Reserve room before reading a secret into a buffer
 * (tidu_buf_grow) so that no copy is left behind by a reallocation.
 */
void tidu_buf_wipe(tidu_buf *buf);

/*
 * Hands the contents to the caller as a NUL-terminated string (owned by the
 * caller, release with free(); "" when empty, never NULL) and resets the
 * buffer to TIDU_BUF_INIT.
 */
char *tidu_buf_detach(tidu_buf *buf);

/* The contents as a C string, "" when empty. Borrowed from the buffer. */
const char *tidu_buf_cstr(const tidu_buf *buf);

/* A new string formatted as printf does; the caller frees it. */
char *tidu_strprintf(const char *fmt, ...) TIDU_PRINTF(1, 2);

#endif
