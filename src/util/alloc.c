#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidu/alloc.h"

/* Out of memory: see alloc.h for why this is fatal. */
static void oom(void)
{
	fputs("tidu: out of memory\n", stderr);
	abort();
}

void *tidu_malloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *tidu_calloc(size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	p = calloc(nmemb, size);
	if (!p)
		oom();
	return p;
}

void *tidu_realloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *tidu_reallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		oom();
	return tidu_realloc(ptr, nmemb * size);
}

char *tidu_strdup(const char *s)
{
	return tidu_strndup(s, strlen(s));
}

char *tidu_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p;

	if (len == SIZE_MAX)
		oom();
	p = tidu_malloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
