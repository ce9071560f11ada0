/* Unit tests: json.h (writer and parser). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tidu/alloc.h"
#include "tidu/buf.h"
#include "tidu/error.h"
#include "tidu/json.h"
#include "tidu/utf8.h"

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

static void write_sample(tidu_json_writer *w)
{
	tidu_json_begin_object(w);
	TIDU_JSON_KEY(w, "name"); /* the same as tidu_json_write_key, unchecked */
	tidu_json_write_string(w, "郑州某某科技有限公司");
	tidu_json_write_key(w, "uscc");
	tidu_json_write_string(w, "91410103MAJ8T9H26R");
	tidu_json_write_key(w, "revenue");
	tidu_json_write_double(w, 1234.5);
	tidu_json_write_key(w, "staff");
	tidu_json_write_int64(w, 42);
	tidu_json_write_key(w, "tiers");
	tidu_json_begin_array(w);
	tidu_json_write_int64(w, 1);
	tidu_json_write_bool(w, 1);
	tidu_json_write_null(w);
	tidu_json_begin_object(w);
	tidu_json_end_object(w);
	tidu_json_begin_array(w);
	tidu_json_end_array(w);
	tidu_json_end_array(w);
	TIDU_JSON_KEY(w, "ok");
	tidu_json_write_bool(w, 0);
	tidu_json_end_object(w);
}

static void test_writer_compact(void **state)
{
	tidu_buf b = TIDU_BUF_INIT;
	tidu_json_writer w;

	(void)state;
	tidu_json_writer_init(&w, &b, 0);
	write_sample(&w);
	assert_int_equal(tidu_json_writer_finish(&w), 0);
	assert_string_equal(b.ptr, "{\"name\":\"郑州某某科技有限公司\",\"uscc\":\"91410103MAJ8T9H26R\","
				   "\"revenue\":1234.5,\"staff\":42,\"tiers\":[1,true,null,{},[]],"
				   "\"ok\":false}");
	tidu_buf_free(&b);
}

static void test_writer_pretty(void **state)
{
	tidu_buf b = TIDU_BUF_INIT;
	tidu_json_writer w;

	(void)state;
	tidu_json_writer_init(&w, &b, 1);
	write_sample(&w);
	assert_int_equal(tidu_json_writer_finish(&w), 0);
	assert_string_equal(b.ptr, "{\n"
				   "  \"name\": \"郑州某某科技有限公司\",\n"
				   "  \"uscc\": \"91410103MAJ8T9H26R\",\n"
				   "  \"revenue\": 1234.5,\n"
				   "  \"staff\": 42,\n"
				   "  \"tiers\": [\n"
				   "    1,\n"
				   "    true,\n"
				   "    null,\n"
				   "    {},\n"
				   "    []\n"
				   "  ],\n"
				   "  \"ok\": false\n"
				   "}");
	tidu_buf_free(&b);
}

static void test_writer_scalars(void **state)
{
	static const struct {
		double v;
		const char *text;
	} doubles[] = {
		{0.1, "0.1"}, {-2.5, "-2.5"}, {1e21, "1e+21"}, {1e-7, "1e-7"},
		{100, "100"}, {0.1 + 0.2, "0.30000000000000004"}, {-0.0, "0"},
	};
	tidu_buf b = TIDU_BUF_INIT;
	tidu_json_writer w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++) {
		tidu_buf_clear(&b);
		tidu_json_writer_init(&w, &b, 0);
		assert_int_equal(tidu_json_write_double(&w, doubles[i].v), 0);
		assert_int_equal(tidu_json_writer_finish(&w), 0);
		assert_string_equal(b.ptr, doubles[i].text);
	}
	tidu_buf_clear(&b);
	tidu_json_writer_init(&w, &b, 0);
	tidu_json_begin_array(&w);
	tidu_json_write_int64(&w, INT64_MIN);
	tidu_json_write_int64(&w, INT64_MAX);
	tidu_json_write_raw(&w, "{\"x\":[1,2]}");
	tidu_json_write_string(&w, "");
	tidu_json_end_array(&w);
	assert_int_equal(tidu_json_writer_finish(&w), 0);
	assert_string_equal(b.ptr, "[-9223372036854775808,9223372036854775807,{\"x\":[1,2]},\"\"]");
	/* Appends to what is in the buffer. */
	tidu_buf_clear(&b);
	tidu_buf_puts(&b, "x=");
	tidu_json_writer_init(&w, &b, 1);
	tidu_json_write_string(&w, "y");
	assert_int_equal(tidu_json_writer_finish(&w), 0);
	assert_string_equal(b.ptr, "x=\"y\"");
	tidu_buf_free(&b);
}

static void test_writer_escapes(void **state)
{
	tidu_buf b = TIDU_BUF_INIT;
	tidu_json_writer w;

	(void)state;
	tidu_json_writer_init(&w, &b, 0);
	tidu_json_begin_object(&w);
	tidu_json_write_key(&w, "k\"ey\n");
	tidu_json_write_string(&w, "a\"b\\c/\n\r\t\b\f\x01\x1f\x7f é郑😀\xe2\x80\xa8");
	tidu_json_write_key(&w, "nul");
	tidu_json_write_string_len(&w, "a\0b", 3);
	tidu_json_end_object(&w);
	assert_int_equal(tidu_json_writer_finish(&w), 0);
	/* DEL and U+2028 are terminal controls: \\u escapes (see below). */
	assert_string_equal(b.ptr, "{\"k\\\"ey\\n\":\"a\\\"b\\\\c/\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f"
				   " é郑😀\\u2028\",\"nul\":\"a\\u0000b\"}");
	/* TIDU_JSON_MINIMAL_ESCAPES: only what RFC 8259 requires. */
	tidu_buf_clear(&b);
	tidu_json_writer_init(&w, &b, TIDU_JSON_MINIMAL_ESCAPES);
	tidu_json_write_string(&w, "\x01\x7f é\xe2\x80\xa8\xc2\x85");
	assert_int_equal(tidu_json_writer_finish(&w), 0);
	assert_string_equal(b.ptr, "\"\\u0001\x7f é\xe2\x80\xa8\xc2\x85\"");
	tidu_buf_free(&b);
}

/*
 * What a terminal would interpret is escaped, so that --json shown raw is
 * safe: DEL, C1 controls (as UTF-8), U+2028/U+2029, the bidi controls; the
 * characters next to them (U+00A0, U+202F, U+2065) and Chinese are not.
 */
static const struct {
	const char *in, *out;
} terminal_cases[] = {
	{"\x1b]0;title\x07", "\"\\u001b]0;title\\u0007\""},
	{"a\x7f" "b", "\"a\\u007fb\""},
	{"\xc2\x80\xc2\x85\xc2\x9b\xc2\x9f\xc2\xa0", "\"\\u0080\\u0085\\u009b\\u009f\xc2\xa0\""},
	{"x\xe2\x80\xa8y\xe2\x80\xa9z", "\"x\\u2028y\\u2029z\""},
	{"\xe2\x80\xae" "evil\xe2\x80\xac", "\"\\u202eevil\\u202c\""},
	{"\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xad\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c",
	 "\"\\u202a\\u202b\\u202d\\u200e\\u200f\\u061c\""},
	{"\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", "\"\\u2066\\u2067\\u2068\\u2069\""},
	{"\xe2\x80\xaf\xe2\x81\xa5", "\"\xe2\x80\xaf\xe2\x81\xa5\""},
	{"郑州\n\t😀", "\"郑州\\n\\t😀\""},
};

static void test_writer_terminal_escapes(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(terminal_cases) / sizeof(terminal_cases[0]); i++) {
		tidu_buf b = TIDU_BUF_INIT;
		tidu_json_writer w;
		tidu_json *doc = NULL;

		tidu_json_writer_init(&w, &b, 0);
		tidu_json_write_string(&w, terminal_cases[i].in);
		assert_int_equal(tidu_json_writer_finish(&w), 0);
		assert_string_equal(b.ptr, terminal_cases[i].out);
		/* Read back byte for byte. */
		assert_int_equal(tidu_json_parse(b.ptr, b.len, &doc), 0);
		assert_string_equal(tidu_json_as_string(doc), terminal_cases[i].in);
		tidu_json_free(doc);
		tidu_buf_free(&b);
	}
}

/*
 * Each character that is escaped (and some that are not) at every offset
 * of a plain text: the writer copies plain runs 8 bytes at a time. Invalid
 * UTF-8 anywhere leaves the output as it was before the call.
 */
static void test_writer_escapes_at_every_offset(void **state)
{
	static const struct {
		const char *in, *out;
	} special[] = {
		{"\"", "\\\""}, {"\\", "\\\\"}, {"\n", "\\n"}, {"\x01", "\\u0001"},
		{"\x1f", "\\u001f"}, {"\x7f", "\\u007f"}, {"\xc2\x85", "\\u0085"},
		{"\xe2\x80\xa8", "\\u2028"}, {"\xc3\xa9", "\xc3\xa9"}, {"\xe9\x83\x91", "\xe9\x83\x91"},
		{" ", " "}, {"~", "~"}, {"!", "!"}, {"#", "#"}, {"[", "["}, {"]", "]"},
	};
	static const char text[] = "abcdefghijklmnopqrstuvwx";
	tidu_buf in = TIDU_BUF_INIT, want = TIDU_BUF_INIT, b = TIDU_BUF_INIT;
	tidu_json_writer w;
	size_t i, off;

	(void)state;
	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		for (off = 0; off <= 20; off++) {
			tidu_buf_clear(&in);
			tidu_buf_put(&in, text, off);
			tidu_buf_puts(&in, special[i].in);
			tidu_buf_puts(&in, text + off);
			tidu_buf_clear(&want);
			tidu_buf_putc(&want, '"');
			tidu_buf_put(&want, text, off);
			tidu_buf_puts(&want, special[i].out);
			tidu_buf_puts(&want, text + off);
			tidu_buf_putc(&want, '"');
			tidu_buf_clear(&b);
			tidu_json_writer_init(&w, &b, 0);
			tidu_json_write_string_len(&w, in.ptr, in.len);
			assert_int_equal(tidu_json_writer_finish(&w), 0);
			assert_string_equal(b.ptr, want.ptr);
		}
	}
	for (off = 0; off <= 20; off++) {
		tidu_buf_clear(&in);
		tidu_buf_put(&in, text, off);
		tidu_buf_puts(&in, "\xff");
		tidu_buf_puts(&in, text + off);
		tidu_buf_clear(&b);
		tidu_json_writer_init(&w, &b, 0);
		tidu_json_begin_array(&w);
		tidu_json_write_string(&w, "x");
		assert_int_equal(tidu_json_write_string(&w, in.ptr), TIDU_EINVAL);
		assert_string_equal(b.ptr, "[\"x\"");
		tidu_buf_clear(&b);
		tidu_json_writer_init(&w, &b, 0);
		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "a");
		tidu_json_write_null(&w);
		assert_int_equal(tidu_json_write_key(&w, in.ptr), TIDU_EINVAL);
		assert_string_equal(b.ptr, "{\"a\":null");
	}
	tidu_buf_free(&in);
	tidu_buf_free(&want);
	tidu_buf_free(&b);
}

/* Every code point of U+0001..U+FFFF (no surrogates), written and read back exactly. */
static void test_roundtrip_every_bmp(void **state)
{
	tidu_buf s = TIDU_BUF_INIT, b = TIDU_BUF_INIT;
	tidu_json_writer w;
	tidu_json *doc = NULL;
	const char *back;
	uint32_t cp;
	size_t i;

	(void)state;
	for (cp = 1; cp < 0x10000; cp++) {
		char enc[4];
		int n = tidu_utf8_encode(cp, enc);

		if (n)
			tidu_buf_put(&s, enc, (size_t)n);
	}
	tidu_json_writer_init(&w, &b, 0);
	tidu_json_write_string_len(&w, s.ptr, s.len);
	assert_int_equal(tidu_json_writer_finish(&w), 0);
	/* No byte a terminal interprets is left raw in the JSON text. */
	assert_int_equal(tidu_utf8_find_control(b.ptr, b.len, 0), -1);
	for (i = 0; i < b.len; i++)
		assert_true((unsigned char)b.ptr[i] >= 0x20 && b.ptr[i] != 0x7f);
	assert_int_equal(tidu_json_parse(b.ptr, b.len, &doc), 0);
	back = tidu_json_as_string(doc);
	assert_non_null(back);
	assert_int_equal(strlen(back), s.len);
	assert_memory_equal(back, s.ptr, s.len);
	tidu_json_free(doc);
	tidu_buf_free(&s);
	tidu_buf_free(&b);
}

/* Runs `steps` on a fresh writer; the finish must fail with TIDU_EINVAL. */
static void expect_misuse(void (*steps)(tidu_json_writer *), const char *message)
{
	tidu_buf b = TIDU_BUF_INIT;
	tidu_json_writer w;

	tidu_json_writer_init(&w, &b, 0);
	steps(&w);
	assert_int_equal(tidu_json_writer_finish(&w), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), message);
	/* Sticky: later calls fail and write nothing. */
	tidu_buf_clear(&b);
	assert_int_equal(tidu_json_write_null(&w), TIDU_EINVAL);
	assert_int_equal(tidu_json_end_object(&w), TIDU_EINVAL);
	assert_int_equal(b.len, 0);
	tidu_buf_free(&b);
}

static void m_no_key(tidu_json_writer *w)
{
	tidu_json_begin_object(w);
	tidu_json_write_int64(w, 1);
	tidu_json_end_object(w);
}

static void m_key_in_array(tidu_json_writer *w)
{
	tidu_json_begin_array(w);
	tidu_json_write_key(w, "a");
	tidu_json_end_array(w);
}

static void m_raw_key_in_array(tidu_json_writer *w)
{
	tidu_json_begin_array(w);
	TIDU_JSON_KEY(w, "a");
	tidu_json_end_array(w);
}

static void m_raw_key_twice(tidu_json_writer *w)
{
	tidu_json_begin_object(w);
	TIDU_JSON_KEY(w, "a");
	TIDU_JSON_KEY(w, "b");
	tidu_json_end_object(w);
}

static void m_two_keys(tidu_json_writer *w)
{
	tidu_json_begin_object(w);
	tidu_json_write_key(w, "a");
	tidu_json_write_key(w, "b");
}

static void m_dangling_key(tidu_json_writer *w)
{
	tidu_json_begin_object(w);
	tidu_json_write_key(w, "a");
	tidu_json_end_object(w);
}

static void m_mismatch(tidu_json_writer *w)
{
	tidu_json_begin_object(w);
	tidu_json_end_array(w);
}

static void m_two_values(tidu_json_writer *w)
{
	tidu_json_write_int64(w, 1);
	tidu_json_write_int64(w, 2);
}

static void m_unclosed(tidu_json_writer *w)
{
	tidu_json_begin_array(w);
}

static void m_nothing(tidu_json_writer *w)
{
	(void)w;
}

static void m_bad_utf8(tidu_json_writer *w)
{
	tidu_json_begin_array(w);
	assert_int_equal(tidu_json_write_string(w, "\xD6\xA3\xD6\xDD"), TIDU_EINVAL);
	tidu_json_end_array(w);
}

static void m_nan(tidu_json_writer *w)
{
	tidu_json_begin_array(w);
	assert_int_equal(tidu_json_write_double(w, NAN), TIDU_EINVAL);
	tidu_json_write_double(w, 1);
	tidu_json_end_array(w);
}

static void m_inf(tidu_json_writer *w)
{
	tidu_json_write_double(w, -INFINITY);
}

static void m_too_deep(tidu_json_writer *w)
{
	int i;

	for (i = 0; i < TIDU_JSON_MAX_DEPTH + 1; i++)
		tidu_json_begin_array(w);
}

static void test_writer_misuse(void **state)
{
	(void)state;
	expect_misuse(m_no_key, "cannot write JSON: object member without a key");
	expect_misuse(m_key_in_array, "cannot write JSON: key outside an object");
	expect_misuse(m_raw_key_in_array, "cannot write JSON: key outside an object");
	expect_misuse(m_raw_key_twice, "cannot write JSON: key without a value");
	expect_misuse(m_two_keys, "cannot write JSON: key without a value");
	expect_misuse(m_dangling_key, "cannot write JSON: key without a value");
	expect_misuse(m_mismatch, "cannot write JSON: end of an array that is not open");
	expect_misuse(m_two_values, "cannot write JSON: more than one top-level value");
	expect_misuse(m_unclosed, "cannot write JSON: document is incomplete");
	expect_misuse(m_nothing, "cannot write JSON: document is incomplete");
	expect_misuse(m_bad_utf8, "cannot write JSON: string is not valid UTF-8");
	expect_misuse(m_nan, "cannot write JSON: number is infinite or not a number");
	expect_misuse(m_inf, "cannot write JSON: number is infinite or not a number");
	expect_misuse(m_too_deep, "cannot write JSON: nesting too deep");
}

static void test_writer_max_depth(void **state)
{
	tidu_buf b = TIDU_BUF_INIT;
	tidu_json_writer w;
	tidu_json *doc = NULL;
	int i;

	(void)state;
	tidu_json_writer_init(&w, &b, 0);
	for (i = 0; i < TIDU_JSON_MAX_DEPTH; i++)
		tidu_json_begin_array(&w);
	for (i = 0; i < TIDU_JSON_MAX_DEPTH; i++)
		tidu_json_end_array(&w);
	assert_int_equal(tidu_json_writer_finish(&w), 0);
	assert_int_equal(b.len, 2 * TIDU_JSON_MAX_DEPTH);
	/* What the writer can write, the parser can read. */
	assert_int_equal(tidu_json_parse(b.ptr, b.len, &doc), 0);
	tidu_json_free(doc);
	tidu_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */
/* ------------------------------------------------------------------ */

static tidu_json *parse_ok(const char *text)
{
	tidu_json *doc = NULL;

	if (tidu_json_parse(text, strlen(text), &doc) != 0)
		fail_msg("'%s' rejected: %s", text, tidu_error_message());
	assert_non_null(doc);
	return doc;
}

static void test_parse_document(void **state)
{
	const char *text = "\xEF\xBB\xBF {\"z\": [1, -2.5e3, \"x\"], \"name\": \"\\u90d1\\u5dde\\ud83d\\ude00\","
			   " \"t\": true, \"f\": false, \"n\": null, \"big\": 9007199254740993,"
			   " \"neg\": -9223372036854775808, \"esc\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\","
			   " \"empty\": {}, \"e\": \"\"}\r\n\t ";
	const tidu_json *z, *v;
	tidu_json *doc = parse_ok(text);
	int64_t i64 = 0;

	(void)state;
	assert_int_equal(tidu_json_typeof(doc), TIDU_JSON_OBJECT);
	assert_int_equal(tidu_json_count(doc), 10);
	/* Document order. */
	assert_string_equal(tidu_json_key_at(doc, 0), "z");
	assert_string_equal(tidu_json_key_at(doc, 1), "name");
	assert_string_equal(tidu_json_key_at(doc, 9), "e");
	assert_null(tidu_json_key_at(doc, 10));

	z = tidu_json_get(doc, "z");
	assert_ptr_equal(z, tidu_json_at(doc, 0));
	assert_int_equal(tidu_json_typeof(z), TIDU_JSON_ARRAY);
	assert_int_equal(tidu_json_count(z), 3);
	assert_true(tidu_json_as_double(tidu_json_at(z, 1)) == -2500);
	assert_string_equal(tidu_json_number_text(tidu_json_at(z, 1)), "-2.5e3");
	assert_int_equal(tidu_json_as_int64(tidu_json_at(z, 1), &i64), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "invalid integer '-2.5e3'");
	assert_string_equal(tidu_json_as_string(tidu_json_at(z, 2)), "x");
	assert_null(tidu_json_at(z, 3));
	assert_null(tidu_json_key_at(z, 0));
	assert_null(tidu_json_get(z, "x"));

	assert_string_equal(tidu_json_as_string(tidu_json_get(doc, "name")), "郑州😀");
	assert_int_equal(tidu_json_as_bool(tidu_json_get(doc, "t")), 1);
	assert_int_equal(tidu_json_as_bool(tidu_json_get(doc, "f")), 0);
	assert_int_equal(tidu_json_typeof(tidu_json_get(doc, "f")), TIDU_JSON_BOOL);
	assert_int_equal(tidu_json_typeof(tidu_json_get(doc, "n")), TIDU_JSON_NULL);
	assert_non_null(tidu_json_get(doc, "n"));
	assert_null(tidu_json_get(doc, "missing"));

	/* Integers beyond 2^53 stay exact through the literal text. */
	v = tidu_json_get(doc, "big");
	assert_int_equal(tidu_json_as_int64(v, &i64), 0);
	assert_true(i64 == INT64_C(9007199254740993));
	assert_int_equal(tidu_json_as_int64(tidu_json_get(doc, "neg"), &i64), 0);
	assert_true(i64 == INT64_MIN);
	assert_int_equal(tidu_json_as_int64(tidu_json_get(doc, "name"), &i64), TIDU_EINVAL);

	assert_string_equal(tidu_json_as_string(tidu_json_get(doc, "esc")), "\"\\/\b\f\n\r\t");
	assert_int_equal(tidu_json_count(tidu_json_get(doc, "empty")), 0);
	assert_string_equal(tidu_json_as_string(tidu_json_get(doc, "e")), "");
	/* Accessors on the wrong type. */
	assert_null(tidu_json_as_string(z));
	assert_true(tidu_json_as_double(z) == 0);
	assert_null(tidu_json_number_text(z));
	assert_int_equal(tidu_json_count(tidu_json_get(doc, "name")), 0);
	assert_null(tidu_json_at(tidu_json_get(doc, "name"), 0));
	assert_int_equal(tidu_json_typeof(NULL), TIDU_JSON_NULL);
	tidu_json_free(doc);
	tidu_json_free(NULL);
}

static void test_parse_scalars(void **state)
{
	tidu_json *doc;

	(void)state;
	doc = parse_ok("0");
	assert_int_equal(tidu_json_typeof(doc), TIDU_JSON_NUMBER);
	tidu_json_free(doc);
	doc = parse_ok(" \"a\" ");
	assert_string_equal(tidu_json_as_string(doc), "a");
	tidu_json_free(doc);
	doc = parse_ok("-0.5E+2");
	assert_true(tidu_json_as_double(doc) == -50);
	tidu_json_free(doc);
	doc = parse_ok("1e-400"); /* underflow to 0 is accepted */
	assert_true(tidu_json_as_double(doc) == 0);
	tidu_json_free(doc);
	doc = parse_ok("null");
	assert_int_equal(tidu_json_typeof(doc), TIDU_JSON_NULL);
	tidu_json_free(doc);
}

static void test_parse_many_keys(void **state)
{
	tidu_buf b = TIDU_BUF_INIT, key = TIDU_BUF_INIT;
	tidu_json_writer w;
	tidu_json *doc = NULL;
	int64_t v;
	int i;

	(void)state;
	tidu_json_writer_init(&w, &b, 1);
	tidu_json_begin_object(&w);
	for (i = 999; i >= 0; i--) {
		tidu_buf_clear(&key);
		tidu_buf_printf(&key, "k%d", i);
		tidu_json_write_key(&w, key.ptr);
		tidu_json_write_int64(&w, i);
	}
	tidu_json_end_object(&w);
	assert_int_equal(tidu_json_writer_finish(&w), 0);
	assert_int_equal(tidu_json_parse(b.ptr, b.len, &doc), 0);
	assert_int_equal(tidu_json_count(doc), 1000);
	assert_string_equal(tidu_json_key_at(doc, 0), "k999");
	for (i = 0; i < 1000; i++) {
		tidu_buf_clear(&key);
		tidu_buf_printf(&key, "k%d", i);
		assert_int_equal(tidu_json_as_int64(tidu_json_get(doc, key.ptr), &v), 0);
		assert_int_equal(v, i);
	}
	assert_null(tidu_json_get(doc, "k1000"));
	assert_null(tidu_json_get(doc, ""));
	tidu_json_free(doc);
	tidu_buf_free(&b);
	tidu_buf_free(&key);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "[", "[1", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\"}", "{\"a\":}",
		"{a:1}", "{'a':1}", "{1:1}", "01", "-01", "+1", ".5", "1.", "1.e3", "1e", "1e+",
		"-", "--1", "0x10", "NaN", "Infinity", "-Infinity", "tru", "nul", "True", "[1] x",
		"1 2", "{} {}", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\ud800\"",
		"\"\\ud800x\"", "\"\\ud800\\u0041\"", "\"\\udc00\"", "\"\\ude00\\ud83d\"",
		"\"\\u0000\"", "{\"\\u0000\":1}", "\"a\nb\"", "\"a\tb\"", "\"\x01\"", "\"\xff\"",
		"\"\xc0\x80\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe9\x83\"",
		"[1e999]", "[-1e999]", "{\"a\":1,\"a\":2}", "// c\n1", "/* c */ 1", "[1]//",
		"\xEF\xBB\xBF", "\xEF\xBB", "[1，2]", "\"\\", "[\"a\" \"b\"]", "{\"a\":1 \"b\":2}",
		"\x00", "[\v1]", "\xc2\xa0\x31" /* NBSP then 1 */,
	};
	tidu_json *doc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		doc = (tidu_json *)&doc; /* must be reset to NULL */
		if (tidu_json_parse(bad[i], strlen(bad[i]), &doc) != TIDU_EINVAL)
			fail_msg("case %zu '%s' accepted", i, bad[i]);
		assert_null(doc);
		assert_true(strncmp(tidu_error_message(), "invalid JSON at line ", 21) == 0);
	}
	/* Embedded NUL: len counts, not strlen. */
	assert_int_equal(tidu_json_parse("[1]\0", 4, &doc), TIDU_EINVAL);
	assert_int_equal(tidu_json_parse("[1]\0", 3, &doc), 0);
	tidu_json_free(doc);
}

static void expect_parse_error(const char *text, const char *message)
{
	tidu_json *doc = NULL;

	assert_int_equal(tidu_json_parse(text, strlen(text), &doc), TIDU_EINVAL);
	assert_null(doc);
	assert_string_equal(tidu_error_message(), message);
}

static void test_parse_messages(void **state)
{
	(void)state;
	expect_parse_error("{\n  \"a\": 1,\n  \"b\" 2\n}",
			   "invalid JSON at line 3, column 7: expected ':'");
	expect_parse_error("[\"郑州\", x]",
			   "invalid JSON at line 1, column 8: unexpected character 'x'");
	expect_parse_error("[1，2]", "invalid JSON at line 1, column 3: expected ',' or ']'");
	expect_parse_error("{\"a\":1,\"b\":2,\"a\":3}",
			   "invalid JSON at line 1, column 14: duplicate key 'a'");
	expect_parse_error("{\"a\":1,}", "invalid JSON at line 1, column 8: expected a string key");
	expect_parse_error("[1] x", "invalid JSON at line 1, column 5: unexpected text after the value");
	expect_parse_error("", "invalid JSON at line 1, column 1: unexpected end of text");
	expect_parse_error("[1,\n", "invalid JSON at line 2, column 1: unexpected end of text");
	expect_parse_error("\"\\ud800\"", "invalid JSON at line 1, column 2: lone surrogate in \\u escape");
	expect_parse_error("\"\\u0000\"", "invalid JSON at line 1, column 2: \\u0000 is not supported");
	expect_parse_error("\"\\q\"", "invalid JSON at line 1, column 2: invalid escape in string");
	expect_parse_error("\"a\x01\"", "invalid JSON at line 1, column 3: control character in string");
	expect_parse_error("\"\xff\"", "invalid JSON at line 1, column 2: invalid UTF-8");
	expect_parse_error("  \"abc", "invalid JSON at line 1, column 3: unterminated string");
	expect_parse_error("007", "invalid JSON at line 1, column 1: leading zero in number");
	expect_parse_error("[1e400]", "invalid JSON at line 1, column 2: number out of range");
	expect_parse_error("\x01", "invalid JSON at line 1, column 1: unexpected character 'U+0001'");
}

static void test_parse_depth(void **state)
{
	char text[2 * (TIDU_JSON_MAX_DEPTH + 1) + 1];
	tidu_json *doc = NULL;
	int i;

	(void)state;
	for (i = 0; i < TIDU_JSON_MAX_DEPTH; i++) {
		text[i] = '[';
		text[2 * TIDU_JSON_MAX_DEPTH - 1 - i] = ']';
	}
	assert_int_equal(tidu_json_parse(text, 2 * TIDU_JSON_MAX_DEPTH, &doc), 0);
	tidu_json_free(doc);
	/* One level more. */
	for (i = 0; i < TIDU_JSON_MAX_DEPTH + 1; i++) {
		text[i] = '[';
		text[2 * (TIDU_JSON_MAX_DEPTH + 1) - 1 - i] = ']';
	}
	assert_int_equal(tidu_json_parse(text, 2 * (TIDU_JSON_MAX_DEPTH + 1), &doc), TIDU_EINVAL);
	assert_null(doc);
	assert_string_equal(tidu_error_message(), "invalid JSON at line 1, column 65: nesting too deep");
	/* Deeply nested objects too, and no stack trouble with a huge depth. */
	{
		size_t n = 100000, j;
		char *deep = tidu_malloc(n);

		for (j = 0; j < n; j++)
			deep[j] = j % 2 ? '[' : '{';
		assert_int_equal(tidu_json_parse(deep, n, &doc), TIDU_EINVAL);
		free(deep);
	}
}

static void test_parse_size_limit(void **state)
{
	size_t n = TIDU_JSON_MAX_SIZE + 1;
	char *big = tidu_malloc(n);
	tidu_json *doc = NULL;

	(void)state;
	memset(big, ' ', n);
	big[0] = '1';
	assert_int_equal(tidu_json_parse(big, n, &doc), TIDU_EINVAL);
	assert_null(doc);
	assert_string_equal(tidu_error_message(), "JSON text is larger than 16777216 bytes");
	assert_int_equal(tidu_json_parse(big, n - 1, &doc), 0);
	assert_true(tidu_json_as_double(doc) == 1);
	tidu_json_free(doc);
	free(big);
}

static void test_roundtrip(void **state)
{
	tidu_buf a = TIDU_BUF_INIT, b = TIDU_BUF_INIT;
	tidu_json_writer w;
	tidu_json *doc = NULL;
	const tidu_json *v;
	const char *s = "tab\there \"q\" \\ 郑州 \x01 😀";
	size_t i;

	(void)state;
	tidu_json_writer_init(&w, &a, 1);
	tidu_json_begin_object(&w);
	tidu_json_write_key(&w, s);
	tidu_json_write_string(&w, s);
	tidu_json_write_key(&w, "d");
	tidu_json_write_double(&w, 0.1 + 0.2);
	tidu_json_end_object(&w);
	assert_int_equal(tidu_json_writer_finish(&w), 0);
	assert_int_equal(tidu_json_parse(a.ptr, a.len, &doc), 0);
	v = tidu_json_get(doc, s);
	assert_string_equal(tidu_json_as_string(v), s);
	assert_true(tidu_json_as_double(tidu_json_get(doc, "d")) == 0.1 + 0.2);
	/* Writing the tree again gives the same text. */
	tidu_json_writer_init(&w, &b, 1);
	tidu_json_begin_object(&w);
	for (i = 0; i < tidu_json_count(doc); i++) {
		const tidu_json *m = tidu_json_at(doc, i);

		tidu_json_write_key(&w, tidu_json_key_at(doc, i));
		if (tidu_json_typeof(m) == TIDU_JSON_STRING)
			tidu_json_write_string(&w, tidu_json_as_string(m));
		else
			tidu_json_write_double(&w, tidu_json_as_double(m));
	}
	tidu_json_end_object(&w);
	assert_int_equal(tidu_json_writer_finish(&w), 0);
	assert_string_equal(a.ptr, b.ptr);
	tidu_json_free(doc);
	tidu_buf_free(&a);
	tidu_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_compact),
		cmocka_unit_test(test_writer_pretty),
		cmocka_unit_test(test_writer_scalars),
		cmocka_unit_test(test_writer_escapes),
		cmocka_unit_test(test_writer_terminal_escapes),
		cmocka_unit_test(test_writer_escapes_at_every_offset),
		cmocka_unit_test(test_roundtrip_every_bmp),
		cmocka_unit_test(test_writer_misuse),
		cmocka_unit_test(test_writer_max_depth),
		cmocka_unit_test(test_parse_document),
		cmocka_unit_test(test_parse_scalars),
		cmocka_unit_test(test_parse_many_keys),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_messages),
		cmocka_unit_test(test_parse_depth),
		cmocka_unit_test(test_parse_size_limit),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
