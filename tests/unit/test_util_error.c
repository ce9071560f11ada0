/* Unit tests: error.h (the message of the last error). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tidu/error.h"

static void test_set_and_clear(void **state)
{
	(void)state;
	assert_int_equal(tidu_error_set(TIDU_EINVAL, "bad '%s' (%d)", "x", 7), TIDU_EINVAL);
	assert_int_equal(tidu_error_code(), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "bad 'x' (7)");
	tidu_error_clear();
	assert_int_equal(tidu_error_code(), 0);
	assert_string_equal(tidu_error_message(), "");
}

/* A new message that quotes the last one: the callers' "...: %s" with tidu_error_message(). */
static void test_wraps_the_last_message(void **state)
{
	(void)state;
	tidu_error_set(TIDU_EINVAL, "form.xlsx: sheet 'survey' cell D7 (relevant): bad");
	tidu_error_set(TIDU_ECORRUPT, "the stored form '%s' cannot be read: %s", "f",
		       tidu_error_message());
	assert_string_equal(tidu_error_message(), "the stored form 'f' cannot be read: "
			    "form.xlsx: sheet 'survey' cell D7 (relevant): bad");
	assert_int_equal(tidu_error_code(), TIDU_ECORRUPT);
}

static void test_long_message_cut(void **state)
{
	char big[3000];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tidu_error_set(TIDU_ERROR, "%s", big);
	assert_int_equal(strlen(tidu_error_message()), 1023);
	tidu_error_set(TIDU_ERROR, "x: %s", tidu_error_message());
	assert_int_equal(strlen(tidu_error_message()), 1023);
	assert_memory_equal(tidu_error_message(), "x: aaaa", 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_and_clear),
		cmocka_unit_test(test_wraps_the_last_message),
		cmocka_unit_test(test_long_message_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
