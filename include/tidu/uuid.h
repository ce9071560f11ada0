#ifndef TIDU_UUID_H
#define TIDU_UUID_H
/*
 * UUIDs, the keys of rows made on a device (visits, survey responses).
 */
#include "tidu/error.h"

#define TIDU_UUID_LEN 36

/*
 * Writes a new RFC 9562 UUIDv7 to `out` in canonical lowercase form
 * ("018f3c1e-7a2b-7c3d-8e4f-0123456789ab", NUL-terminated): 48 bits of
 * Unix milliseconds from tidu_clock_now_ms() (so TIDU_FAKE_NOW_MS applies),
 * version 7, variant 0b10, 74 random bits from libsodium.
 *
 * Monotonic within the process, also across threads: when the clock has
 * not advanced past the previous UUID's millisecond (same millisecond, or
 * the clock was set back), the previous timestamp is reused and its 74-bit
 * random part incremented, so every UUID sorts after the one before.
 * Errors: TIDU_ERROR if libsodium cannot be initialised.
 */
int tidu_uuid_v7(char out[TIDU_UUID_LEN + 1]) TIDU_WUR;

/*
 * 1 if `s` is a UUID in canonical form: 36 characters, 8-4-4-4-12 lowercase
 * hex digits separated by '-' (any version); else 0. No message.
 */
int tidu_uuid_valid(const char *s);

#endif
