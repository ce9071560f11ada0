/* Unit tests: utf8.h, the escaping printer (tidu_utf8_safe) and its checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tidu/buf.h"
#include "tidu/utf8.h"

/* tidu_utf8_safe of `len` bytes at `in`, as a new C string compared with `want`. */
static void expect_safe(const char *in, size_t len, unsigned flags, const char *want)
{
	tidu_buf b = TIDU_BUF_INIT;

	tidu_utf8_safe(&b, in, len, flags);
	tidu_buf_putc(&b, '\0');
	assert_string_equal(b.ptr, want);
	tidu_buf_free(&b);
}

#define SAFE(lit, flags, want) expect_safe(lit, sizeof(lit) - 1, flags, want)

static void test_safe_c0_and_esc(void **state)
{
	(void)state;
	SAFE("a\nb\rc\td", 0, "a\\nb\\rc\\td");
	SAFE("\x1b[8m hidden \x1b[0m", 0, "\\e[8m hidden \\e[0m");
	/* OSC: set the terminal title, ended by BEL or by ESC \ (ST). */
	SAFE("\x1b]0;owned\x07", 0, "\\e]0;owned\\x07");
	SAFE("\x1b]8;;http://x\x1b\\", 0, "\\e]8;;http://x\\e\\");
	SAFE("\x01\x08\x0b\x0c\x1f", 0, "\\x01\\x08\\x0B\\x0C\\x1F");
	SAFE("del\x7f", 0, "del\\x7F");
	/* The forged line of issue 9, item 2. */
	SAFE("王芳\n  Fingerprint:    GMGE-1234\x1b[8m", 0,
	     "王芳\\n  Fingerprint:    GMGE-1234\\e[8m");
}

static void test_safe_multiline(void **state)
{
	(void)state;
	/* A note keeps its lines and tabs; everything else is still escaped. */
	SAFE("第一行\n\t第二行\r\n\x1b[2J", TIDU_SAFE_MULTILINE, "第一行\n\t第二行\\r\n\\e[2J");
	SAFE("\xe2\x80\xa8", TIDU_SAFE_MULTILINE, "\\u{2028}");
}

static void test_safe_c1_and_bidi(void **state)
{
	(void)state;
	/* C1 controls as UTF-8 (U+0080..U+009F): CSI is U+009B. */
	SAFE("\xc2\x9b" "31m", 0, "\\x9B31m");
	SAFE("\xc2\x80\xc2\x85\xc2\x9f", 0, "\\x80\\x85\\x9F");
	/* U+00A0 is the first character past the C1 block: kept. */
	SAFE("\xc2\xa0", 0, "\xc2\xa0");
	/* Bidi overrides and isolates, line and paragraph separators. */
	SAFE("abc\xe2\x80\xae" "fdp.exe", 0, "abc\\u{202E}fdp.exe");
	SAFE("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad", 0,
	     "\\u{202A}\\u{202B}\\u{202C}\\u{202D}");
	SAFE("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", 0,
	     "\\u{2066}\\u{2067}\\u{2068}\\u{2069}");
	SAFE("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", 0, "\\u{200E}\\u{200F}\\u{061C}");
	SAFE("\xe2\x80\xa8\xe2\x80\xa9", 0, "\\u{2028}\\u{2029}");
	/* Neighbours that are plain characters stay as they are. */
	SAFE("\xe2\x80\xaf\xe2\x81\xa5\xe2\x80\x8d", 0, "\xe2\x80\xaf\xe2\x81\xa5\xe2\x80\x8d");
}

static void test_safe_invalid_bytes(void **state)
{
	(void)state;
	/* A lone continuation byte, a byte never valid, a cut sequence. */
	SAFE("a\x80z", 0, "a\\x80z");
	SAFE("\xff\xfe", 0, "\\xFF\\xFE");
	SAFE("郑\xe5\xb7", 0, "郑\\xE5\\xB7");
	/* Overlong forms of '/', NUL and ESC: each byte shown, none decoded. */
	SAFE("\xc0\xaf", 0, "\\xC0\\xAF");
	SAFE("\xc0\x80", 0, "\\xC0\\x80");
	SAFE("\xe0\x80\x9b", 0, "\\xE0\\x80\\x9B");
	SAFE("\xf0\x80\x80\xaf", 0, "\\xF0\\x80\\x80\\xAF");
	/* A surrogate (CESU-8) and a code point above U+10FFFF. */
	SAFE("\xed\xa0\x80", 0, "\\xED\\xA0\\x80");
	SAFE("\xf4\x90\x80\x80", 0, "\\xF4\\x90\\x80\\x80");
}

static void test_safe_nul_and_length(void **state)
{
	(void)state;
	/* A NUL inside `len` is shown; nothing past `len` is read. */
	SAFE("a\0b", 0, "a\\x00b");
	expect_safe("abc\x1b", 3, 0, "abc");
	expect_safe("", 0, 0, "");
}

static void test_safe_keeps_text_byte_exact(void **state)
{
	static const char text[] = "郑州市金水区 Zhengzhou 91410105MA1J8T9H5M 😀 é ｱ １２３";
	tidu_buf b = TIDU_BUF_INIT;

	(void)state;
	tidu_utf8_safe(&b, text, sizeof(text) - 1, 0);
	assert_int_equal(b.len, sizeof(text) - 1);
	assert_memory_equal(b.ptr, text, b.len);
	/* Appends: what the buffer held stays. */
	tidu_utf8_safe(&b, "\n", 1, 0);
	assert_int_equal(b.len, sizeof(text) - 1 + 2);
	assert_memory_equal(b.ptr + sizeof(text) - 1, "\\n", 2);
	tidu_buf_free(&b);
}

/* Whatever goes in, nothing a terminal interprets comes out. */
static void test_safe_output_is_clean(void **state)
{
	unsigned char in[512];
	tidu_buf b = TIDU_BUF_INIT;
	unsigned seed = 12345;
	size_t i, round;

	(void)state;
	for (round = 0; round < 2000; round++) {
		size_t len = round % sizeof(in);

		for (i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = (unsigned char)(seed >> 16);
		}
		tidu_buf_clear(&b);
		tidu_utf8_safe(&b, (const char *)in, len, round & 1 ? TIDU_SAFE_MULTILINE : 0);
		assert_true(tidu_utf8_valid(b.ptr ? b.ptr : "", b.len));
		assert_int_equal(tidu_utf8_find_control(b.ptr ? b.ptr : "", b.len, round & 1), -1);
	}
	tidu_buf_free(&b);
}

static void test_is_control(void **state)
{
	static const uint32_t yes[] = {0x00, 0x0A, 0x1B, 0x1F, 0x7F, 0x80, 0x9B, 0x9F,
				       0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A,
				       0x202E, 0x2066, 0x2069};
	static const uint32_t no[] = {0x20, 0x41, 0x7E, 0xA0, 0xFF, 0x061B, 0x200D,
				      0x2027, 0x202F, 0x2065, 0x206A, 0x90D1, 0x1F600};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(tidu_utf8_is_control(yes[i]));
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(tidu_utf8_is_control(no[i]));
}

#define FIND(lit, ml) tidu_utf8_find_control(lit, sizeof(lit) - 1, ml)

static void test_find_control(void **state)
{
	(void)state;
	assert_int_equal(FIND("郑州科技", 0), -1);
	assert_int_equal(FIND("", 0), -1);
	assert_int_equal(FIND("ab\x1b[0m", 0), 2);
	assert_int_equal(FIND("郑\n", 0), 3);
	/* Multi-line: newline and tab allowed, CR and ESC not. */
	assert_int_equal(FIND("a\nb\tc", 1), -1);
	assert_int_equal(FIND("a\nb\r\n", 1), 3);
	assert_int_equal(FIND("a\n\x1b", 1), 2);
	/* The offset of a multi-byte control is its first byte. */
	assert_int_equal(FIND("名\xe2\x80\xae", 0), 3);
	assert_int_equal(FIND("x\xc2\x85", 1), 1);
	/* Invalid bytes and overlong forms count as found. */
	assert_int_equal(FIND("ok\xff", 0), 2);
	assert_int_equal(FIND("\xc0\xaf", 0), 0);
	assert_int_equal(FIND("abc\xe9\x83", 1), 3);
	/* A NUL inside the length is found; nothing past the length is looked at. */
	assert_int_equal(FIND("ab\0c", 0), 2);
	assert_int_equal(tidu_utf8_find_control("ab\n", 2, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safe_c0_and_esc),
		cmocka_unit_test(test_safe_multiline),
		cmocka_unit_test(test_safe_c1_and_bidi),
		cmocka_unit_test(test_safe_invalid_bytes),
		cmocka_unit_test(test_safe_nul_and_length),
		cmocka_unit_test(test_safe_keeps_text_byte_exact),
		cmocka_unit_test(test_safe_output_is_clean),
		cmocka_unit_test(test_is_control),
		cmocka_unit_test(test_find_control),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
