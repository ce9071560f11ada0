#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "tidu/clock.h"
#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/uuid.h"

#define MS_MAX (((uint64_t)1 << 48) - 1)
#define RAND_A_MASK (((uint64_t)1 << 12) - 1)
#define RAND_B_MASK (((uint64_t)1 << 62) - 1)

/* The last UUID made: its millisecond and its 74 random bits (12 + 62). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_ms;
static uint64_t last_a, last_b;
static int have_last;

static void fresh_random(uint64_t *a, uint64_t *b)
{
	unsigned char r[10];

	randombytes_buf(r, sizeof(r));
	*a = ((uint64_t)r[0] << 8 | r[1]) & RAND_A_MASK;
	*b = 0;
	for (int i = 2; i < 10; i++)
		*b = *b << 8 | r[i];
	/*
	 * Leave the top bit of the 74-bit counter clear (RFC 9562 6.2,
	 * "counter rollover guard"): at least 2^73 increments fit in one ms.
	 */
	*a &= RAND_A_MASK >> 1;
	*b &= RAND_B_MASK;
	sodium_memzero(r, sizeof(r));
}

int tidu_uuid_v7(char out[TIDU_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char u[16];
	int64_t now = tidu_clock_now_ms();
	uint64_t ms, a, b;
	int i, j;

	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialise libsodium"));
	ms = now < 0 ? 0 : (uint64_t)now > MS_MAX ? MS_MAX : (uint64_t)now;

	pthread_mutex_lock(&lock);
	if (!have_last || ms > last_ms) {
		fresh_random(&a, &b);
	} else {
		ms = last_ms;
		a = last_a;
		b = (last_b + 1) & RAND_B_MASK;
		if (b == 0)
			a = (a + 1) & RAND_A_MASK;
		if (a == 0 && b == 0) {
			/* 2^74 UUIDs in one ms: borrow the next millisecond. */
			ms = last_ms < MS_MAX ? last_ms + 1 : last_ms;
			fresh_random(&a, &b);
		}
	}
	last_ms = ms;
	last_a = a;
	last_b = b;
	have_last = 1;
	pthread_mutex_unlock(&lock);

	for (i = 0; i < 6; i++)
		u[i] = (unsigned char)(ms >> (8 * (5 - i)));
	u[6] = (unsigned char)(0x70 | (a >> 8));
	u[7] = (unsigned char)(a & 0xFF);
	u[8] = (unsigned char)(0x80 | (b >> 56));
	for (i = 9; i < 16; i++)
		u[i] = (unsigned char)(b >> (8 * (15 - i)));

	for (i = 0, j = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[u[i] >> 4];
		out[j++] = hex[u[i] & 0xF];
	}
	out[j] = '\0';
	return 0;
}

int tidu_uuid_valid(const char *s)
{
	int i;

	for (i = 0; i < TIDU_UUID_LEN; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return 0;
		}
	}
	return s[TIDU_UUID_LEN] == '\0';
}
