/* Unit tests: parse.h and clock.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tidu/clock.h"
#include "tidu/error.h"
#include "tidu/parse.h"

static void test_int64_ok(void **state)
{
	static const struct {
		const char *s;
		int64_t v;
	} cases[] = {
		{"0", 0},
		{"12", 12},
		{"-3", -3},
		{"+7", 7},
		{"007", 7},
		{"-0", 0},
		{"9223372036854775807", INT64_MAX},
		{"-9223372036854775808", INT64_MIN},
	};
	size_t i;
	int64_t v;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 42;
		if (tidu_parse_int64(cases[i].s, &v) != 0)
			fail_msg("'%s' rejected: %s", cases[i].s, tidu_error_message());
		assert_true(v == cases[i].v);
	}
}

static void test_int64_bad(void **state)
{
	static const char *const bad[] = {"", " 1", "1 ", "+", "-", "0x10", "1e3", "1.0",
					  "12abc", "1,000", "--1", "١"};
	size_t i;
	int64_t v = 42;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tidu_parse_int64(bad[i], &v) != TIDU_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(v == 42);
	}
	assert_int_equal(tidu_parse_int64("12abc", &v), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "invalid integer '12abc'");
	assert_int_equal(tidu_error_code(), TIDU_EINVAL);
	assert_int_equal(tidu_parse_int64("9223372036854775808", &v), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "integer '9223372036854775808' is out of range");
	assert_int_equal(tidu_parse_int64("-9223372036854775809", &v), TIDU_EINVAL);
	assert_int_equal(tidu_parse_int64("99999999999999999999999", &v), TIDU_EINVAL);
	assert_true(v == 42);
}

static void test_number_ok(void **state)
{
	static const struct {
		const char *s;
		double v;
		const char *canonical;
	} cases[] = {
		{"12", 12, "12"},
		{"-3.5", -3.5, "-3.5"},
		{"+3.5", 3.5, "3.5"},
		{"1234.50", 1234.5, "1234.5"},
		{"1e3", 1000, "1000"},
		{"1E3", 1000, "1000"},
		{"2.5e-2", 0.025, "0.025"},
		{"0.1", 0.1, "0.1"},
		{".5", 0.5, "0.5"},
		{"5.", 5, "5"},
		{"007", 7, "7"},
		{"-0", 0, "0"},
		{"0.000", 0, "0"},
		{"100.00", 100, "100"},
		{"0.30000000000000004", 0.30000000000000004, "0.30000000000000004"},
		{"123456789012345678", 123456789012345678.0, "123456789012345680"},
		{"1e20", 1e20, "100000000000000000000"},
		{"1e21", 1e21, "1e+21"},
		{"0.00001", 1e-5, "0.00001"},
		{"0.0000001", 1e-7, "1e-7"},
		{"1.7976931348623157e308", 1.7976931348623157e308, "1.7976931348623157e+308"},
		{"4.9e-324", 4.9e-324, "5e-324"},
		{"-12.5e-10", -12.5e-10, "-1.25e-9"},
	};
	tidu_buf canon = TIDU_BUF_INIT;
	size_t i;
	double v;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tidu_buf_puts(&canon, "junk");
		if (tidu_parse_number(cases[i].s, &v, &canon) != 0)
			fail_msg("'%s' rejected: %s", cases[i].s, tidu_error_message());
		if (v != cases[i].v)
			fail_msg("'%s' gave %.17g", cases[i].s, v);
		assert_string_equal(tidu_buf_cstr(&canon), cases[i].canonical);
	}
	/* No negative zero. */
	assert_int_equal(tidu_parse_number("-0.0", &v, NULL), 0);
	assert_false(signbit(v));
	tidu_buf_free(&canon);
}

static void test_number_bad(void **state)
{
	static const char *const bad[] = {"", " 1", "1 ", "12abc", "1e999", "-1e999", "1e-999",
					  "inf", "-inf", "nan", "NaN", "infinity", "0x10", "1,000",
					  "1,5", ".", "-", "+", "e3", "1e", "1e+", "--1", "1..2",
					  "1.2.3", "１２", "1e3x"};
	tidu_buf canon = TIDU_BUF_INIT;
	size_t i;
	double v = 42;

	(void)state;
	tidu_buf_puts(&canon, "kept");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tidu_parse_number(bad[i], &v, &canon) != TIDU_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(v == 42);
		assert_string_equal(canon.ptr, "kept");
	}
	assert_int_equal(tidu_parse_number("12abc", &v, NULL), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "invalid number '12abc'");
	assert_int_equal(tidu_parse_number("1e999", &v, NULL), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "number '1e999' is out of range");
	/* Control characters in the value do not reach the message raw. */
	assert_int_equal(tidu_parse_number("1\x1b[2J", &v, NULL), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "invalid number '1?[2J'");
	tidu_buf_free(&canon);
}

static void test_format_number(void **state)
{
	static const struct {
		double v;
		const char *text;
	} cases[] = {
		/* Expected texts are what JavaScript's String(v) gives. */
		{0, "0"},
		{-0.0, "0"},
		{1, "1"},
		{-1, "-1"},
		{0.1, "0.1"},
		{1.0 / 3, "0.3333333333333333"},
		{2.0 / 3, "0.6666666666666666"},
		{0.1 + 0.2, "0.30000000000000004"},
		{1e15, "1000000000000000"},
		{123456789012345.0, "123456789012345"},
		{9007199254740993.0, "9007199254740992"},
		{1e-6, "0.000001"},
		{1.5e-6, "0.0000015"},
		{1e-7, "1e-7"},
		{1.5e300, "1.5e+300"},
		{-2.5e-300, "-2.5e-300"},
		{0.0001, "0.0001"},
		{123.456, "123.456"},
		{5e-324, "5e-324"},
		{1e21, "1e+21"},
		{999999999999999900000.0, "999999999999999900000"},
		{1234567.0, "1234567"},
		/* A few decimals (the direct path), and just past it. */
		{17350.2, "17350.2"},
		{-48.1638, "-48.1638"},
		{0.000123, "0.000123"},
		{1e-15, "1e-15"},
		{-1.25e-7, "-1.25e-7"},
		{99999999999999.9, "99999999999999.9"},
		{999999999999999.9, "999999999999999.9"},
		{0.1234567890123456, "0.1234567890123456"},
	};
	tidu_buf b = TIDU_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tidu_buf_clear(&b);
		assert_int_equal(tidu_format_number(&b, cases[i].v), 0);
		assert_string_equal(b.ptr, cases[i].text);
		assert_true(tidu_strtod_c(b.ptr, NULL) == cases[i].v);
	}
	tidu_buf_clear(&b);
	tidu_buf_puts(&b, "x=");
	assert_int_equal(tidu_format_number(&b, 2.5), 0);
	assert_string_equal(b.ptr, "x=2.5"); /* appends */
	assert_int_equal(tidu_format_number(&b, INFINITY), TIDU_EINVAL);
	assert_int_equal(tidu_format_number(&b, NAN), TIDU_EINVAL);
	assert_string_equal(b.ptr, "x=2.5");
	tidu_buf_free(&b);
}

/* Decimals of up to 6 places against printf's fixed notation, zeros dropped. */
static void test_format_number_decimals(void **state)
{
	static const double scale[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6};
	tidu_buf b = TIDU_BUF_INIT;
	char want[64];
	long m;
	int d;
	size_t k;

	(void)state;
	for (d = 1; d <= 6; d++) {
		for (m = -30011; m <= 30011; m += 7) {
			double v = (double)(m * 997) / scale[d];

			snprintf(want, sizeof(want), "%.*f", d, v);
			k = strlen(want);
			while (want[k - 1] == '0')
				want[--k] = '\0';
			if (want[k - 1] == '.')
				want[--k] = '\0';
			if (!strcmp(want, "-0"))
				snprintf(want, sizeof(want), "0");
			tidu_buf_clear(&b);
			assert_int_equal(tidu_format_number(&b, v), 0);
			assert_string_equal(b.ptr, want);
			assert_true(tidu_strtod_c(b.ptr, NULL) == v);
		}
	}
	tidu_buf_free(&b);
}

/* The whole-number shortcut agrees with strtod on value, sign and end. */
static void test_strtod_c(void **state)
{
	static const char *const cases[] = {
		"0", "-0", "7", "-7", "123456789012345", "-123456789012345",
		"1234567890123456", "12345678901234567890", "00012", "12abc", "12 ", "12,5",
		"1.5", "1e3", "12E-1", "0x1A", "+5", " 5", "-", "", "abc", "9007199254740993",
		"1.", "5p3", "999999999999999", "-999999999999999.0",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *e1, *e2;
		double a = tidu_strtod_c(cases[i], &e1), b = strtod(cases[i], &e2);

		if (!(a == b && signbit(a) == signbit(b) && e1 == e2))
			fail_msg("'%s': %.17g (end +%td) against strtod's %.17g (end +%td)", cases[i],
				 a, e1 - cases[i], b, e2 - cases[i]);
	}
}

static void test_format_int64(void **state)
{
	tidu_buf b = TIDU_BUF_INIT;

	(void)state;
	tidu_format_int64(&b, 0);
	tidu_buf_puts(&b, " ");
	tidu_format_int64(&b, -7);
	tidu_buf_puts(&b, " ");
	tidu_format_int64(&b, INT64_MAX);
	tidu_buf_puts(&b, " ");
	tidu_format_int64(&b, INT64_MIN);
	assert_string_equal(b.ptr, "0 -7 9223372036854775807 -9223372036854775808");
	tidu_buf_free(&b);
}

static void test_number_locale(void **state)
{
	/* A process locale with a decimal comma must not matter. */
	const char *locales[] = {"de_DE.UTF-8", "fr_FR.UTF-8", "ru_RU.UTF-8"};
	tidu_buf b = TIDU_BUF_INIT;
	size_t i;
	double v;

	(void)state;
	for (i = 0; i < 3 && !setlocale(LC_ALL, locales[i]); i++)
		;
	if (i == 3)
		skip(); /* no such locale installed */
	assert_int_equal(tidu_parse_number("1234.5", &v, &b), 0);
	assert_true(v == 1234.5);
	assert_string_equal(b.ptr, "1234.5");
	assert_int_equal(tidu_parse_number("1234,5", &v, NULL), TIDU_EINVAL);
	setlocale(LC_ALL, "C");
	tidu_buf_free(&b);
}

static void test_date(void **state)
{
	static const char *const bad[] = {"2025-02-29", "2025-13-01", "2025-1-1", "2025-00-10",
					  "2025-01-00", "2025-04-31", "1900-02-29", "0000-01-01",
					  "2025/01/01", "20250101", "2025-01-01 ", " 2025-01-01",
					  "2025-01-011", "2025-01", "", "２０２５-01-01", "2025-0a-01"};
	int y = 0, m = 0, d = 0;
	size_t i;

	(void)state;
	assert_int_equal(tidu_parse_date("2024-02-29", &y, &m, &d), 0);
	assert_int_equal(y, 2024);
	assert_int_equal(m, 2);
	assert_int_equal(d, 29);
	assert_int_equal(tidu_parse_date("2000-02-29", &y, &m, &d), 0);
	assert_int_equal(tidu_parse_date("2025-12-31", &y, &m, &d), 0);
	assert_int_equal(m, 12);
	assert_int_equal(d, 31);
	assert_int_equal(tidu_parse_date("0001-01-01", NULL, NULL, NULL), 0);
	assert_int_equal(tidu_parse_date("9999-12-31", NULL, NULL, NULL), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		y = m = d = -1;
		if (tidu_parse_date(bad[i], &y, &m, &d) != TIDU_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(y, -1);
	}
	assert_int_equal(tidu_parse_date("2025-02-29", NULL, NULL, NULL), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "date '2025-02-29' does not exist");
	assert_int_equal(tidu_parse_date("2025-1-1", NULL, NULL, NULL), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "invalid date '2025-1-1' (expected YYYY-MM-DD)");
}

static void test_date_today(void **state)
{
	char today[11];

	(void)state;
	setenv("TZ", "Asia/Shanghai", 1);
	tzset();
	/* 2025-03-01T15:59:59.999Z is 23:59:59.999 in Beijing. */
	setenv("TIDU_FAKE_NOW_MS", "1740844799999", 1);
	assert_int_equal(tidu_date_today(today), 0);
	assert_string_equal(today, "2025-03-01");
	setenv("TIDU_FAKE_NOW_MS", "1740844800000", 1);
	assert_int_equal(tidu_date_today(today), 0);
	assert_string_equal(today, "2025-03-02");
	setenv("TZ", "UTC", 1);
	tzset();
	setenv("TIDU_FAKE_NOW_MS", "-1", 1); /* floor, not truncation */
	assert_int_equal(tidu_date_today(today), 0);
	assert_string_equal(today, "1969-12-31");
	unsetenv("TIDU_FAKE_NOW_MS");
	assert_int_equal(tidu_date_today(today), 0);
	assert_int_equal(tidu_parse_date(today, NULL, NULL, NULL), 0);
	unsetenv("TZ");
	tzset();
}

static void test_bool(void **state)
{
	static const char *const yes[] = {"1", "true", "TRUE", "True", "yes", "YES", "y", "Y", "是"};
	static const char *const no[] = {"0", "false", "False", "no", "NO", "n", "N", "否"};
	static const char *const bad[] = {"", "2", "ye", "yess", " yes", "on", "off", "是的",
					  "t", "f", "-1"};
	size_t i;
	int v;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = -1;
		assert_int_equal(tidu_parse_bool(yes[i], &v), 0);
		assert_int_equal(v, 1);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		v = -1;
		assert_int_equal(tidu_parse_bool(no[i], &v), 0);
		assert_int_equal(v, 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = -1;
		if (tidu_parse_bool(bad[i], &v) != TIDU_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(v, -1);
	}
	assert_int_equal(tidu_parse_bool("maybe", &v), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "invalid yes/no value 'maybe'");
}

static void test_phone(void **state)
{
	(void)state;
	assert_int_equal(tidu_parse_phone_valid("13800138000"), 1);
	assert_int_equal(tidu_parse_phone_valid("+86 371-6788 1234"), 1);
	assert_int_equal(tidu_parse_phone_valid("0371-67881234"), 1);
	assert_int_equal(tidu_parse_phone_valid("1"), 1);
	tidu_error_clear();
	assert_int_equal(tidu_parse_phone_valid(""), 0);
	assert_string_equal(tidu_error_message(), "invalid phone number ''");
	assert_int_equal(tidu_error_code(), TIDU_EINVAL);
	assert_int_equal(tidu_parse_phone_valid("+- "), 0);
	assert_int_equal(tidu_parse_phone_valid("(0371) 6788"), 0);
	assert_int_equal(tidu_parse_phone_valid("138x"), 0);
	assert_int_equal(tidu_parse_phone_valid("１３８"), 0);
	assert_int_equal(tidu_parse_phone_valid("138\n"), 0);
}

static void test_clock(void **state)
{
	int64_t a, b;

	(void)state;
	unsetenv("TIDU_FAKE_NOW_MS");
	a = tidu_clock_now_ms();
	assert_true(a > INT64_C(1700000000000)); /* after 2023-11 */
	b = tidu_clock_now_ms();
	assert_true(b >= a - 1000);
	setenv("TIDU_FAKE_NOW_MS", "1234567890123", 1);
	assert_true(tidu_clock_now_ms() == INT64_C(1234567890123));
	setenv("TIDU_FAKE_NOW_MS", "-5", 1);
	assert_true(tidu_clock_now_ms() == -5);
	/* Unparsable: ignored, and the error state is untouched. */
	tidu_error_set(TIDU_ENOTFOUND, "%s", "kept");
	setenv("TIDU_FAKE_NOW_MS", "soon", 1);
	assert_true(tidu_clock_now_ms() > INT64_C(1700000000000));
	setenv("TIDU_FAKE_NOW_MS", "12x", 1);
	assert_true(tidu_clock_now_ms() > INT64_C(1700000000000));
	assert_string_equal(tidu_error_message(), "kept");
	assert_int_equal(tidu_error_code(), TIDU_ENOTFOUND);
	unsetenv("TIDU_FAKE_NOW_MS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int64_ok),
		cmocka_unit_test(test_int64_bad),
		cmocka_unit_test(test_number_ok),
		cmocka_unit_test(test_number_bad),
		cmocka_unit_test(test_format_number),
		cmocka_unit_test(test_format_number_decimals),
		cmocka_unit_test(test_strtod_c),
		cmocka_unit_test(test_format_int64),
		cmocka_unit_test(test_number_locale),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_date_today),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
