#ifndef TIDU_CLOCK_H
#define TIDU_CLOCK_H
/*
 * Wall-clock time. Every "now" in libtidu (HLC, UUIDv7, dates, audit
 * fields) comes from tidu_clock_now_ms(), so tests can fix it.
 *
 * Environment:
 *   TIDU_FAKE_NOW_MS  if set to a decimal integer (milliseconds since
 *                     1970-01-01T00:00:00Z, may be negative), that value is
 *                     returned instead of the system clock. Read on every
 *                     call, so a test may change it between calls. For
 *                     testing skewed laptop clocks; an unparsable value is
 *                     ignored. Never set it in production.
 */
#include <stdint.h>

/*
 * Milliseconds since the Unix epoch from CLOCK_REALTIME (or
 * TIDU_FAKE_NOW_MS). Not monotonic: the system clock may jump. Cannot fail.
 */
int64_t tidu_clock_now_ms(void);

/* Milliseconds of CLOCK_MONOTONIC, for timeouts and intervals. Cannot fail. */
int64_t tidu_clock_mono_ms(void);

#endif
