/* Unit tests: uuid.h (and its use of clock.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tidu/alloc.h"
#include "tidu/clock.h"
#include "tidu/uuid.h"

/* The 48-bit millisecond timestamp of a UUIDv7. */
static int64_t uuid_ms(const char *u)
{
	char hex[13];

	memcpy(hex, u, 8);
	memcpy(hex + 8, u + 9, 4);
	hex[12] = '\0';
	return (int64_t)strtoll(hex, NULL, 16);
}

static void check_shape(const char *u)
{
	assert_int_equal(strlen(u), 36);
	assert_true(tidu_uuid_valid(u));
	assert_int_equal(u[14], '7');                   /* version */
	assert_non_null(strchr("89ab", u[19]));         /* variant 0b10 */
}

static void set_fake(int64_t ms)
{
	char s[32];

	snprintf(s, sizeof(s), "%lld", (long long)ms);
	setenv("TIDU_FAKE_NOW_MS", s, 1);
}

static void test_fake_clock_layout(void **state)
{
	char u[TIDU_UUID_LEN + 1];

	(void)state;
	set_fake(INT64_C(0x0123456789AB));
	assert_int_equal(tidu_uuid_v7(u), 0);
	check_shape(u);
	assert_memory_equal(u, "01234567-89ab-7", 15);
	assert_true(uuid_ms(u) == INT64_C(0x0123456789AB));
	unsetenv("TIDU_FAKE_NOW_MS");
}

static void test_monotonic_same_ms(void **state)
{
	char prev[TIDU_UUID_LEN + 1], u[TIDU_UUID_LEN + 1];
	int i;

	(void)state;
	set_fake(INT64_C(1300000000000));
	assert_int_equal(tidu_uuid_v7(prev), 0);
	for (i = 0; i < 20000; i++) {
		assert_int_equal(tidu_uuid_v7(u), 0);
		check_shape(u);
		if (strcmp(prev, u) >= 0)
			fail_msg("not increasing: %s then %s", prev, u);
		assert_true(uuid_ms(u) == INT64_C(1300000000000));
		memcpy(prev, u, sizeof(u));
	}
	/* The clock is set back: the UUIDs still increase. */
	set_fake(INT64_C(1299999990000));
	assert_int_equal(tidu_uuid_v7(u), 0);
	assert_true(strcmp(prev, u) < 0);
	assert_true(uuid_ms(u) == INT64_C(1300000000000));
	memcpy(prev, u, sizeof(u));
	/* And forward again: the new millisecond is used. */
	set_fake(INT64_C(1300000000001));
	assert_int_equal(tidu_uuid_v7(u), 0);
	assert_true(strcmp(prev, u) < 0);
	assert_true(uuid_ms(u) == INT64_C(1300000000001));
	/* A negative fake time clamps to 0 but stays monotonic. */
	set_fake(-5);
	assert_int_equal(tidu_uuid_v7(u), 0);
	assert_true(uuid_ms(u) == INT64_C(1300000000001));
	unsetenv("TIDU_FAKE_NOW_MS");
}

static void test_real_clock(void **state)
{
	char prev[TIDU_UUID_LEN + 1], u[TIDU_UUID_LEN + 1];
	int64_t before, after;
	int i;

	(void)state;
	unsetenv("TIDU_FAKE_NOW_MS");
	before = tidu_clock_now_ms();
	assert_int_equal(tidu_uuid_v7(prev), 0);
	for (i = 0; i < 5000; i++) {
		assert_int_equal(tidu_uuid_v7(u), 0);
		check_shape(u);
		assert_true(strcmp(prev, u) < 0);
		memcpy(prev, u, sizeof(u));
	}
	after = tidu_clock_now_ms();
	assert_true(uuid_ms(u) >= before && uuid_ms(u) <= after);
}

static void test_random_part(void **state)
{
	char a[TIDU_UUID_LEN + 1], b[TIDU_UUID_LEN + 1];

	(void)state;
	/* New milliseconds: fresh random bits, so the tails differ. */
	set_fake(INT64_C(1400000000000));
	assert_int_equal(tidu_uuid_v7(a), 0);
	set_fake(INT64_C(1400000000001));
	assert_int_equal(tidu_uuid_v7(b), 0);
	assert_true(strcmp(a + 24, b + 24) != 0);
	unsetenv("TIDU_FAKE_NOW_MS");
}

#define THREADS 4
#define PER_THREAD 3000

static void *make_many(void *arg)
{
	char *out = arg;
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		if (tidu_uuid_v7(out + i * (TIDU_UUID_LEN + 1)) != 0)
			return NULL;
	}
	return out;
}

static int compare_uuids(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_threads_unique(void **state)
{
	char *all = tidu_calloc(THREADS * PER_THREAD, TIDU_UUID_LEN + 1);
	pthread_t t[THREADS];
	void *ret;
	size_t i;

	(void)state;
	set_fake(INT64_C(1500000000000)); /* all in one millisecond */
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, make_many,
						all + i * PER_THREAD * (TIDU_UUID_LEN + 1)), 0);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_non_null(ret);
	}
	qsort(all, THREADS * PER_THREAD, TIDU_UUID_LEN + 1, compare_uuids);
	for (i = 1; i < THREADS * PER_THREAD; i++)
		assert_true(strcmp(all + (i - 1) * (TIDU_UUID_LEN + 1),
				   all + i * (TIDU_UUID_LEN + 1)) < 0);
	free(all);
	unsetenv("TIDU_FAKE_NOW_MS");
}

static void test_valid(void **state)
{
	static const char *const bad[] = {
		"", "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2", "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b3",
		"0190A1B2-C3D4-7E5F-8A6B-7C8D9E0F1A2B", "0190a1b2c3d47e5f8a6b7c8d9e0f1a2b",
		"0190a1b2-c3d4-7e5f-8a6b_7c8d9e0f1a2b", "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2g",
		"{0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b}", " 0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b",
		"0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b\n", "0190a1b-2c3d4-7e5f-8a6b-7c8d9e0f1a2b",
	};
	size_t i;

	(void)state;
	assert_int_equal(tidu_uuid_valid("0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"), 1);
	assert_int_equal(tidu_uuid_valid("00000000-0000-0000-0000-000000000000"), 1);
	assert_int_equal(tidu_uuid_valid("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), 1); /* v1 */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tidu_uuid_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* Fake times are in the past, so the order does not matter. */
		cmocka_unit_test(test_fake_clock_layout),
		cmocka_unit_test(test_monotonic_same_ms),
		cmocka_unit_test(test_random_part),
		cmocka_unit_test(test_threads_unique),
		cmocka_unit_test(test_real_clock),
		cmocka_unit_test(test_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
