#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tidu/alloc.h"
#include "tidu/buf.h"

void tidu_buf_grow(tidu_buf *buf, size_t extra)
{
	size_t need, cap;

	if (extra > SIZE_MAX - 1 - buf->len)
		abort(); /* cannot be satisfied by any allocator */
	need = buf->len + extra + 1;
	if (buf->ptr && need <= buf->cap)
		return;
	cap = buf->cap ? buf->cap : 32;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	buf->ptr = tidu_realloc(buf->ptr, cap);
	buf->cap = cap;
	buf->ptr[buf->len] = '\0';
}

void tidu_buf_put(tidu_buf *buf, const void *data, size_t len)
{
	tidu_buf_grow(buf, len);
	if (len)
		memcpy(buf->ptr + buf->len, data, len);
	buf->len += len;
	buf->ptr[buf->len] = '\0';
}

void tidu_buf_puts(tidu_buf *buf, const char *s)
{
	tidu_buf_put(buf, s, strlen(s));
}

void tidu_buf_putc(tidu_buf *buf, char c)
{
	tidu_buf_put(buf, &c, 1);
}

void tidu_buf_vprintf(tidu_buf *buf, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	/* First try into the space already there: most calls fit. */
	tidu_buf_grow(buf, 64);
	va_copy(ap2, ap);
	n = vsnprintf(buf->ptr + buf->len, buf->cap - buf->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		abort();
	if ((size_t)n >= buf->cap - buf->len) {
		tidu_buf_grow(buf, (size_t)n);
		n = vsnprintf(buf->ptr + buf->len, buf->cap - buf->len, fmt, ap);
		if (n < 0)
			abort();
	}
	buf->len += (size_t)n;
}

void tidu_buf_printf(tidu_buf *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tidu_buf_vprintf(buf, fmt, ap);
	va_end(ap);
}

void tidu_buf_truncate(tidu_buf *buf, size_t len)
{
	if (len >= buf->len)
		return;
	buf->len = len;
	buf->ptr[len] = '\0';
}

void tidu_buf_clear(tidu_buf *buf)
{
	buf->len = 0;
	if (buf->ptr)
		buf->ptr[0] = '\0';
}

void tidu_buf_free(tidu_buf *buf)
{
	free(buf->ptr);
	buf->ptr = NULL;
	buf->len = buf->cap = 0;
}

void tidu_buf_wipe(tidu_buf *buf)
{
	if (buf->ptr)
		sodium_memzero(buf->ptr, buf->cap);
	tidu_buf_free(buf);
}

char *tidu_buf_detach(tidu_buf *buf)
{
	char *s = buf->ptr ? buf->ptr : tidu_strdup("");

	buf->ptr = NULL;
	buf->len = buf->cap = 0;
	return s;
}

const char *tidu_buf_cstr(const tidu_buf *buf)
{
	return buf->ptr ? buf->ptr : "";
}

char *tidu_strprintf(const char *fmt, ...)
{
	tidu_buf b = TIDU_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	tidu_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return tidu_buf_detach(&b);
}
