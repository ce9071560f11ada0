/* Unit tests: alloc.h, buf.h, utf8.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tidu/alloc.h"
#include "tidu/buf.h"
#include "tidu/utf8.h"

static void test_alloc(void **state)
{
	char *s;
	unsigned char *z;
	int *a;
	size_t i;

	(void)state;
	s = tidu_strndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
	s = tidu_strndup("ab", 10);
	assert_string_equal(s, "ab");
	free(s);
	s = tidu_strdup("郑州");
	assert_string_equal(s, "郑州");
	free(s);
	z = tidu_calloc(100, 1);
	for (i = 0; i < 100; i++)
		assert_int_equal(z[i], 0);
	free(z);
	assert_non_null(s = tidu_malloc(0));
	free(s);
	a = tidu_reallocarray(NULL, 10, sizeof(int));
	a[9] = 7;
	a = tidu_reallocarray(a, 1000, sizeof(int));
	assert_int_equal(a[9], 7);
	free(a);
}

static void test_buf_empty(void **state)
{
	tidu_buf b = TIDU_BUF_INIT;
	char *s;

	(void)state;
	assert_null(b.ptr);
	assert_int_equal(b.len, 0);
	assert_string_equal(tidu_buf_cstr(&b), "");
	tidu_buf_clear(&b);
	assert_null(b.ptr);
	s = tidu_buf_detach(&b);
	assert_string_equal(s, "");
	free(s);
	tidu_buf_free(&b);
	tidu_buf_free(&b); /* twice is fine */
}

static void test_buf_put(void **state)
{
	tidu_buf b = TIDU_BUF_INIT;

	(void)state;
	tidu_buf_puts(&b, "ab");
	tidu_buf_putc(&b, 'c');
	tidu_buf_put(&b, "de\0f", 4);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.ptr, "abcde\0f", 8); /* includes the final NUL */
	tidu_buf_put(&b, NULL, 0);
	assert_int_equal(b.len, 7);
	tidu_buf_truncate(&b, 2);
	assert_string_equal(tidu_buf_cstr(&b), "ab");
	tidu_buf_truncate(&b, 100);
	assert_int_equal(b.len, 2);
	tidu_buf_free(&b);
	assert_null(b.ptr);
	assert_int_equal(b.cap, 0);
}

static void test_buf_printf(void **state)
{
	tidu_buf b = TIDU_BUF_INIT;
	char big[5000];
	size_t i;

	(void)state;
	tidu_buf_printf(&b, "%d firms in %s", 42, "金水区");
	assert_string_equal(b.ptr, "42 firms in 金水区");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tidu_buf_printf(&b, "[%s]", big);
	assert_int_equal(b.len, strlen("42 firms in 金水区") + 2 + 4999);
	assert_int_equal(b.ptr[b.len - 1], ']');
	assert_int_equal(b.ptr[b.len], '\0');
	for (i = 0; i < 1000; i++)
		tidu_buf_printf(&b, "%zu,", i);
	assert_int_equal(strlen(b.ptr), b.len);
	assert_true(b.cap > b.len);
	tidu_buf_free(&b);
}

static void test_buf_clear_detach(void **state)
{
	tidu_buf b = TIDU_BUF_INIT;
	char *s, *old;
	size_t cap;

	(void)state;
	tidu_buf_puts(&b, "hello");
	old = b.ptr;
	cap = b.cap;
	tidu_buf_clear(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.ptr, old); /* memory kept */
	assert_int_equal(b.cap, cap);
	assert_string_equal(tidu_buf_cstr(&b), "");
	tidu_buf_puts(&b, "world");
	s = tidu_buf_detach(&b);
	assert_string_equal(s, "world");
	assert_null(b.ptr);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	free(s);
}

static void test_utf8_valid(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		int valid;
	} cases[] = {
		{"", 0, 1},
		{"abc", 3, 1},
		{"a\0b", 3, 1},
		{"郑州市", 9, 1},
		{"\xF0\x9F\x98\x80", 4, 1},     /* U+1F600 */
		{"\xC2\x80", 2, 1},             /* U+0080 */
		{"\xEF\xBF\xBF", 3, 1},         /* U+FFFF */
		{"\xF4\x8F\xBF\xBF", 4, 1},     /* U+10FFFF */
		{"\xED\x9F\xBF", 3, 1},         /* U+D7FF */
		{"\xEE\x80\x80", 3, 1},         /* U+E000 */
		{"\xC0\x80", 2, 0},             /* overlong NUL */
		{"\xC1\xBF", 2, 0},             /* overlong */
		{"\xE0\x80\x80", 3, 0},         /* overlong */
		{"\xE0\x9F\xBF", 3, 0},         /* overlong U+07FF */
		{"\xF0\x8F\xBF\xBF", 4, 0},     /* overlong U+FFFF */
		{"\xED\xA0\x80", 3, 0},         /* U+D800 */
		{"\xED\xBF\xBF", 3, 0},         /* U+DFFF */
		{"\xF4\x90\x80\x80", 4, 0},     /* U+110000 */
		{"\xF5\x80\x80\x80", 4, 0},
		{"\xFF", 1, 0},
		{"\x80", 1, 0},                 /* lone continuation */
		{"\xE9\x83", 2, 0},             /* truncated 郑 */
		{"\xE9\x83\x91\xE5", 4, 0},     /* truncated at the end */
		{"\xD6\xA3\xD6\xDD", 4, 0},     /* 郑州 in GBK */
		{"\xC1\xAA\xCD\xA8", 4, 0},     /* 联通 in GBK */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (tidu_utf8_valid(cases[i].s, cases[i].len) != cases[i].valid)
			fail_msg("case %zu: expected %d", i, cases[i].valid);
	}
}

static void test_utf8_decode_encode(void **state)
{
	static const uint32_t cps[] = {0, 0x41, 0x7F, 0x80, 0x7FF, 0x800, 0x90D1, 0xD7FF,
				       0xE000, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF};
	char enc[4];
	uint32_t cp = 12345;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		n = tidu_utf8_encode(cps[i], enc);
		assert_true(n >= 1 && n <= 4);
		assert_int_equal(tidu_utf8_decode(enc, (size_t)n, &cp), n);
		assert_int_equal(cp, cps[i]);
		assert_int_equal(tidu_utf8_decode(enc, (size_t)n - 1, &cp), 0); /* truncated */
	}
	assert_int_equal(tidu_utf8_encode(0x90D1, enc), 3);
	assert_memory_equal(enc, "郑", 3);
	assert_int_equal(tidu_utf8_encode(0xD800, enc), 0);
	assert_int_equal(tidu_utf8_encode(0x110000, enc), 0);
	cp = 7;
	assert_int_equal(tidu_utf8_decode("\xED\xA0\x80", 3, &cp), 0);
	assert_int_equal(cp, 7);
}

static void test_utf8_columns(void **state)
{
	(void)state;
	assert_int_equal(tidu_utf8_columns(""), 0);
	assert_int_equal(tidu_utf8_columns("abc"), 3);
	assert_int_equal(tidu_utf8_columns("郑州"), 4);
	assert_int_equal(tidu_utf8_columns("郑州 ok"), 7);
	assert_int_equal(tidu_utf8_columns("金水区（郑东新区）"), 18); /* fullwidth parentheses */
	assert_int_equal(tidu_utf8_columns("ＡＢ"), 4);             /* fullwidth letters */
	assert_int_equal(tidu_utf8_columns("한국"), 4);              /* Hangul */
	assert_int_equal(tidu_utf8_columns("e\xCC\x81"), 1);         /* e + combining acute */
	assert_int_equal(tidu_utf8_columns("\xF0\x9F\x98\x80"), 2); /* emoji */
	assert_int_equal(tidu_utf8_columns("a\xE2\x80\x8B" "b"), 2); /* zero-width space */
	assert_int_equal(tidu_utf8_columns("\xF0\xA0\x80\x80"), 2); /* U+20000, plane 2 */
	assert_int_equal(tidu_utf8_columns("a\xFF" "b"), 3);        /* invalid byte: 1 */
	assert_int_equal(tidu_utf8_columns("a\tb"), 2);             /* control: 0 */
	assert_int_equal(tidu_utf8_columns("ü½"), 2);
}

static void test_utf8_excerpt(void **state)
{
	tidu_buf b = TIDU_BUF_INIT;

	(void)state;
	tidu_utf8_excerpt(&b, "abc", 10);
	assert_string_equal(tidu_buf_cstr(&b), "abc");
	tidu_buf_clear(&b);
	tidu_utf8_excerpt(&b, "abcdef", 3);
	assert_string_equal(b.ptr, "abc...");
	tidu_buf_clear(&b);
	tidu_utf8_excerpt(&b, "郑州市", 7); /* cut between characters, not inside */
	assert_string_equal(b.ptr, "郑州...");
	tidu_buf_clear(&b);
	tidu_utf8_excerpt(&b, "a\x1b[31mb\n\xFF", 64);
	assert_string_equal(b.ptr, "a?[31mb??");
	tidu_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc),
		cmocka_unit_test(test_buf_empty),
		cmocka_unit_test(test_buf_put),
		cmocka_unit_test(test_buf_printf),
		cmocka_unit_test(test_buf_clear_detach),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_decode_encode),
		cmocka_unit_test(test_utf8_columns),
		cmocka_unit_test(test_utf8_excerpt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
