#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tidu/error.h"

static _Thread_local char last_message[1024];
static _Thread_local int last_code;

int tidu_error_set(int code, const char *fmt, ...)
{
	char text[sizeof(last_message)];
	va_list ap;

	/*
	 * Formatted aside first: callers wrap the last message in a new one
	 * ("...: %s", tidu_error_message()), and vsnprintf must not write the
	 * buffer it reads.
	 */
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	memcpy(last_message, text, sizeof(text));
	last_code = code;
	return code;
}

const char *tidu_error_message(void)
{
	return last_message;
}

int tidu_error_code(void)
{
	return last_code;
}

void tidu_error_clear(void)
{
	last_message[0] = '\0';
	last_code = TIDU_OK;
}

int tidu_error_prefix(const char *fmt, ...)
{
	char head[512], old[sizeof(last_message)];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, last_message, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	/* Cut at the buffer's end like every message (a truncated tail is no error). */
	n = strlen(head);
	memcpy(last_message, head, n);
	snprintf(last_message + n, sizeof(last_message) - n, "%.*s",
		 (int)(sizeof(last_message) - n - 1), old);
	return last_code;
}
