#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "tidu/clock.h"

/*
 * Not tidu_parse_int64(): that would overwrite the thread's error message,
 * and reading the clock must have no side effect.
 */
static int fake_now(int64_t *out)
{
	const char *s = getenv("TIDU_FAKE_NOW_MS");
	char *end;
	long long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0')
		return 0;
	*out = (int64_t)v;
	return 1;
}

int64_t tidu_clock_now_ms(void)
{
	struct timespec ts;
	int64_t ms;

	if (fake_now(&ms))
		return ms;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (int64_t)time(NULL) * 1000;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tidu_clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
