/* Unit tests: csv.h (encodings and RFC 4180 parsing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tidu/buf.h"
#include "tidu/csv.h"
#include "tidu/error.h"

static const char header_utf8[] = "企业名称,统一社会信用代码\r\n"
				  "郑州某某科技有限公司,91410103MAJ8T9H26R\r\n"
				  "\"河南·郑州\"\"金水\"\"有限公司\",91410105MAU4AM27X6\r\n";

/* `utf8` converted to `to` with iconv, into `out`; fails the test if it cannot. */
static void encode(const char *to, const char *utf8, size_t len, tidu_buf *out)
{
	iconv_t cd = iconv_open(to, "UTF-8");
	char *in = (char *)utf8, *o;
	size_t in_left = len, o_left;

	if (cd == (iconv_t)-1)
		fail_msg("iconv_open(%s): %s", to, strerror(errno));
	tidu_buf_clear(out);
	tidu_buf_grow(out, len * 4 + 8);
	o = out->ptr;
	o_left = out->cap - 1;
	if (iconv(cd, &in, &in_left, &o, &o_left) == (size_t)-1)
		fail_msg("iconv to %s: %s", to, strerror(errno));
	out->len = (size_t)(o - out->ptr);
	out->ptr[out->len] = '\0';
	iconv_close(cd);
}

static void expect_utf8(const char *data, size_t len, const char *want, const char *want_enc)
{
	tidu_buf out = TIDU_BUF_INIT;
	const char *enc = NULL;

	tidu_buf_puts(&out, "old contents");
	if (tidu_csv_to_utf8(data, len, &out, &enc) != 0)
		fail_msg("rejected: %s", tidu_error_message());
	assert_string_equal(enc, want_enc);
	assert_int_equal(out.len, strlen(want));
	assert_string_equal(tidu_buf_cstr(&out), want);
	tidu_buf_free(&out);
}

static void expect_not_text(const char *data, size_t len)
{
	tidu_buf out = TIDU_BUF_INIT;
	const char *enc = "unchanged";

	assert_int_equal(tidu_csv_to_utf8(data, len, &out, &enc), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "file is neither UTF-8 nor GBK/GB18030");
	assert_string_equal(enc, "unchanged");
	assert_int_equal(out.len, 0);
	tidu_buf_free(&out);
}

static void test_to_utf8_utf8(void **state)
{
	tidu_buf b = TIDU_BUF_INIT;

	(void)state;
	expect_utf8(header_utf8, strlen(header_utf8), header_utf8, "UTF-8");
	expect_utf8("a,b\n", 4, "a,b\n", "UTF-8");
	expect_utf8("", 0, "", "UTF-8");
	/* A UTF-8 byte order mark (Excel's "CSV UTF-8") is dropped. */
	tidu_buf_puts(&b, "\xEF\xBB\xBF");
	tidu_buf_puts(&b, header_utf8);
	expect_utf8(b.ptr, b.len, header_utf8, "UTF-8");
	expect_utf8("\xEF\xBB\xBF", 3, "", "UTF-8");
	/* encoding_out may be NULL. */
	{
		tidu_buf out = TIDU_BUF_INIT;

		assert_int_equal(tidu_csv_to_utf8("x", 1, &out, NULL), 0);
		assert_string_equal(out.ptr, "x");
		tidu_buf_free(&out);
	}
	tidu_buf_free(&b);
}

static void test_to_utf8_gbk(void **state)
{
	tidu_buf gbk = TIDU_BUF_INIT;

	(void)state;
	encode("GBK", header_utf8, strlen(header_utf8), &gbk);
	/* Real GBK bytes: 企 is C6 F3, 业 is D2 B5. */
	assert_memory_equal(gbk.ptr, "\xC6\xF3\xD2\xB5", 4);
	assert_true(gbk.len < strlen(header_utf8));
	expect_utf8(gbk.ptr, gbk.len, header_utf8, "GB18030");
	/* 联通 in GBK is the classic bytes that fool loose UTF-8 detection. */
	expect_utf8("\xC1\xAA\xCD\xA8", 4, "联通", "GB18030");
	/* Characters outside GBK take GB18030's four-byte form. */
	encode("GB18030", "𠀀😀,€", strlen("𠀀😀,€"), &gbk);
	assert_int_equal(gbk.len, 4 + 4 + 1 + 2);
	expect_utf8(gbk.ptr, gbk.len, "𠀀😀,€", "GB18030");
	tidu_buf_free(&gbk);
}

static void test_to_utf8_utf16(void **state)
{
	tidu_buf raw = TIDU_BUF_INIT, file = TIDU_BUF_INIT;
	const char *tsv = "企业名称\t统一社会信用代码\r\n郑州😀\t91410103MAJ8T9H26R\r\n";

	(void)state;
	encode("UTF-16LE", tsv, strlen(tsv), &raw);
	tidu_buf_put(&file, "\xFF\xFE", 2);
	tidu_buf_put(&file, raw.ptr, raw.len);
	expect_utf8(file.ptr, file.len, tsv, "UTF-16LE");
	/* Odd length: a truncated file. */
	expect_not_text(file.ptr, file.len - 1);

	encode("UTF-16BE", tsv, strlen(tsv), &raw);
	tidu_buf_clear(&file);
	tidu_buf_put(&file, "\xFE\xFF", 2);
	tidu_buf_put(&file, raw.ptr, raw.len);
	expect_utf8(file.ptr, file.len, tsv, "UTF-16BE");
	/* A lone surrogate. */
	expect_not_text("\xFF\xFE\x00\xD8\x41\x00", 6);
	/* UTF-16 without a byte order mark holds NUL bytes: refused. */
	expect_not_text("a\0b\0", 4);
	tidu_buf_free(&raw);
	tidu_buf_free(&file);
}

static void test_to_utf8_rejects(void **state)
{
	(void)state;
	expect_not_text("\xFF\xFF\xFF", 3);
	expect_not_text("abc\x81\x20", 5);          /* GBK lead byte, bad trail */
	expect_not_text("\xD6\xA3\xD6", 3);         /* truncated GBK at the end */
	expect_not_text("\xEF\xBB\xBF\xC1\xAA", 5); /* UTF-8 BOM, then GBK */
	expect_not_text("a,b\0", 4);
	expect_not_text("\x80", 1);
}

static tidu_csv *parse_ok(const char *text, size_t len)
{
	tidu_csv *csv = NULL;

	if (tidu_csv_parse(text, len, &csv) != 0)
		fail_msg("rejected: %s", tidu_error_message());
	assert_non_null(csv);
	return csv;
}

static void test_parse_basic(void **state)
{
	const char *text = "a,b,c\n1,2,3\n";
	tidu_csv *csv = parse_ok(text, strlen(text));

	(void)state;
	assert_int_equal(tidu_csv_record_count(csv), 2);
	assert_int_equal(tidu_csv_field_count(csv, 0), 3);
	assert_string_equal(tidu_csv_field(csv, 0, 0), "a");
	assert_string_equal(tidu_csv_field(csv, 0, 2), "c");
	assert_string_equal(tidu_csv_field(csv, 1, 1), "2");
	assert_int_equal(tidu_csv_line(csv, 0), 1);
	assert_int_equal(tidu_csv_line(csv, 1), 2);
	/* Out of range. */
	assert_null(tidu_csv_field(csv, 0, 3));
	assert_null(tidu_csv_field(csv, 2, 0));
	assert_int_equal(tidu_csv_field_count(csv, 2), 0);
	assert_int_equal(tidu_csv_line(csv, 2), 0);
	tidu_csv_free(csv);
	tidu_csv_free(NULL);
}

static void test_parse_quotes(void **state)
{
	const char *text = "\"x,y\",\"say \"\"hi\"\"\",\"line1\nline2\",\"l1\r\nl2\",\"c\rr\",\"\"\r\n"
			   "next,\"\"\"\"\n";
	tidu_csv *csv = parse_ok(text, strlen(text));

	(void)state;
	assert_int_equal(tidu_csv_record_count(csv), 2);
	assert_int_equal(tidu_csv_field_count(csv, 0), 6);
	assert_string_equal(tidu_csv_field(csv, 0, 0), "x,y");
	assert_string_equal(tidu_csv_field(csv, 0, 1), "say \"hi\"");
	assert_string_equal(tidu_csv_field(csv, 0, 2), "line1\nline2");
	assert_string_equal(tidu_csv_field(csv, 0, 3), "l1\r\nl2");
	assert_string_equal(tidu_csv_field(csv, 0, 4), "c\rr");
	assert_string_equal(tidu_csv_field(csv, 0, 5), "");
	assert_int_equal(tidu_csv_line(csv, 0), 1);
	/* Two LFs inside quotes: the next record starts on line 4. */
	assert_int_equal(tidu_csv_line(csv, 1), 4);
	assert_string_equal(tidu_csv_field(csv, 1, 0), "next");
	assert_string_equal(tidu_csv_field(csv, 1, 1), "\"");
	tidu_csv_free(csv);
}

static void test_parse_lines(void **state)
{
	static const struct {
		const char *text;
		size_t records;
		size_t last_line;
		const char *last_field; /* first field of the last record */
	} cases[] = {
		{"", 0, 0, NULL},
		{"\n", 0, 0, NULL},
		{"\r\n\r\n", 0, 0, NULL},
		{"a", 1, 1, "a"},
		{"a\n", 1, 1, "a"},
		{"a\r\n", 1, 1, "a"},
		{"a\n\n\n", 1, 1, "a"},
		{"a\r\n\r\n", 1, 1, "a"},
		{"a\n\nb\n", 2, 3, "b"},
		{"\n\na\n", 1, 3, "a"},
		{"a\nb", 2, 2, "b"},
		{"a,b\r", 1, 1, "a"},
		{"a\rb,c\n", 1, 1, "a\rb"},
		{",,\n", 1, 1, ""},
		{"\"\"\n", 1, 1, ""},
		{" a , b \n", 1, 1, " a "},
		{"5\" screen,x\n", 1, 1, "5\" screen"},
		{"\xEF\xBB\xBFh1,h2\n", 1, 1, "h1"},
		{"\"a\nb\"\n\"c\"", 2, 3, "c"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tidu_csv *csv = parse_ok(cases[i].text, strlen(cases[i].text));
		size_t n = tidu_csv_record_count(csv);

		if (n != cases[i].records)
			fail_msg("case %zu: %zu records", i, n);
		if (n) {
			assert_int_equal(tidu_csv_line(csv, n - 1), cases[i].last_line);
			assert_string_equal(tidu_csv_field(csv, n - 1, 0), cases[i].last_field);
		}
		tidu_csv_free(csv);
	}
}

static void test_parse_fields(void **state)
{
	tidu_csv *csv = parse_ok(",,\n", 3);

	(void)state;
	assert_int_equal(tidu_csv_field_count(csv, 0), 3);
	tidu_csv_free(csv);
	csv = parse_ok("a,\n", 3);
	assert_int_equal(tidu_csv_field_count(csv, 0), 2);
	assert_string_equal(tidu_csv_field(csv, 0, 1), "");
	tidu_csv_free(csv);
	csv = parse_ok(" a , b ", 7);
	assert_string_equal(tidu_csv_field(csv, 0, 1), " b ");
	tidu_csv_free(csv);
	/* Not NUL-terminated: only `len` bytes are read. */
	csv = parse_ok("a,b,c", 3);
	assert_int_equal(tidu_csv_field_count(csv, 0), 2);
	assert_string_equal(tidu_csv_field(csv, 0, 1), "b");
	tidu_csv_free(csv);
}

static void expect_parse_error(const char *text, size_t len, const char *message)
{
	tidu_csv *csv = (tidu_csv *)&csv;

	assert_int_equal(tidu_csv_parse(text, len, &csv), TIDU_EINVAL);
	assert_null(csv);
	assert_string_equal(tidu_error_message(), message);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("a,b\n\"c,d\ne\n", 11, "unterminated quoted field starting on line 2");
	expect_parse_error("\"", 1, "unterminated quoted field starting on line 1");
	expect_parse_error("a\n\n\"x\"\"", 7, "unterminated quoted field starting on line 3");
	expect_parse_error("\"ab\"c,d\n", 8, "unexpected text after a closing quote on line 1");
	expect_parse_error("x\n\"a\nb\" ,c\n", 11, "unexpected text after a closing quote on line 3");
	expect_parse_error("a\nb\0c\n", 6, "NUL byte on line 2: not a text file");
	expect_parse_error("a,\xC1\xAA\n", 5, "file is not valid UTF-8");
}

static void test_parse_sep(void **state)
{
	tidu_csv *csv = NULL;

	(void)state;
	assert_int_equal(tidu_csv_parse_sep("a\tb,c\t\"d\te\"\n", 12, '\t', &csv), 0);
	assert_int_equal(tidu_csv_field_count(csv, 0), 3);
	assert_string_equal(tidu_csv_field(csv, 0, 1), "b,c");
	assert_string_equal(tidu_csv_field(csv, 0, 2), "d\te");
	tidu_csv_free(csv);
	assert_int_equal(tidu_csv_parse_sep("a;b\n", 4, ';', &csv), 0);
	assert_string_equal(tidu_csv_field(csv, 0, 1), "b");
	tidu_csv_free(csv);
	assert_int_equal(tidu_csv_parse_sep("a\"b", 3, '"', &csv), TIDU_EINVAL);
	assert_null(csv);
	assert_int_equal(tidu_csv_parse_sep("a\nb", 3, '\n', &csv), TIDU_EINVAL);
}

/* The whole path: GBK file from Excel -> UTF-8 -> records. */
static void test_gbk_file(void **state)
{
	tidu_buf gbk = TIDU_BUF_INIT, utf8 = TIDU_BUF_INIT;
	const char *enc = NULL;
	tidu_csv *csv = NULL;

	(void)state;
	encode("GBK", header_utf8, strlen(header_utf8), &gbk);
	assert_int_equal(tidu_csv_to_utf8(gbk.ptr, gbk.len, &utf8, &enc), 0);
	assert_string_equal(enc, "GB18030");
	assert_int_equal(tidu_csv_parse(utf8.ptr, utf8.len, &csv), 0);
	assert_int_equal(tidu_csv_record_count(csv), 3);
	assert_string_equal(tidu_csv_field(csv, 0, 0), "企业名称");
	assert_string_equal(tidu_csv_field(csv, 0, 1), "统一社会信用代码");
	assert_string_equal(tidu_csv_field(csv, 1, 0), "郑州某某科技有限公司");
	assert_string_equal(tidu_csv_field(csv, 2, 0), "河南·郑州\"金水\"有限公司");
	assert_string_equal(tidu_csv_field(csv, 2, 1), "91410105MAU4AM27X6");
	assert_int_equal(tidu_csv_line(csv, 2), 3);
	tidu_csv_free(csv);
	tidu_buf_free(&gbk);
	tidu_buf_free(&utf8);
}

static void test_parse_large(void **state)
{
	tidu_buf b = TIDU_BUF_INIT;
	tidu_csv *csv = NULL;
	size_t i;

	(void)state;
	tidu_buf_puts(&b, "n,name,note\r\n");
	for (i = 1; i <= 20000; i++)
		tidu_buf_printf(&b, "%zu,企业%zu,\"多行\n备注, \"\"%zu\"\"\"\r\n", i, i, i);
	assert_int_equal(tidu_csv_parse(b.ptr, b.len, &csv), 0);
	assert_int_equal(tidu_csv_record_count(csv), 20001);
	assert_string_equal(tidu_csv_field(csv, 20000, 0), "20000");
	assert_string_equal(tidu_csv_field(csv, 20000, 1), "企业20000");
	assert_string_equal(tidu_csv_field(csv, 20000, 2), "多行\n备注, \"20000\"");
	assert_int_equal(tidu_csv_line(csv, 20000), 2 * 20000);
	tidu_csv_free(csv);
	tidu_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_to_utf8_utf8),
		cmocka_unit_test(test_to_utf8_gbk),
		cmocka_unit_test(test_to_utf8_utf16),
		cmocka_unit_test(test_to_utf8_rejects),
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_quotes),
		cmocka_unit_test(test_parse_lines),
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_sep),
		cmocka_unit_test(test_gbk_file),
		cmocka_unit_test(test_parse_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
