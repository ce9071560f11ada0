/*
 * Unit tests: expr.h, the XLSForm expression language. The expected values
 * are worked out by hand from XPath 1.0 and the ODK XForms spec (and the
 * decisions documented in include/tidu/expr.h), not taken from the output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tidu/buf.h"
#include "tidu/error.h"
#include "tidu/expr.h"
#include "tidu/i18n.h"

/* ---- the answers the tests evaluate against ---- */

static const char *self_value = "13812345678";
static char *big_value;     /* ${big}: 40,000 bytes */
static char *huge_value;    /* ${huge}: 70,000 bytes */
static char *longpat_value; /* ${longpat}: a 600-byte pattern */

static const struct {
	const char *name;
	tidu_expr_kind kind;
	const char *str;
	double num;
} answers[] = {
	{"a", TIDU_EXPR_STRING, "3", 0},
	{"b", TIDU_EXPR_STRING, "4", 0},
	{"n5", TIDU_EXPR_NUMBER, NULL, 5},
	{"empty", TIDU_EXPR_STRING, "", 0},
	{"name", TIDU_EXPR_STRING, "Zhang San", 0},
	{"zh", TIDU_EXPR_STRING, "郑州市", 0},
	{"sel", TIDU_EXPR_STRING, "a b  c", 0},
	{"d1", TIDU_EXPR_STRING, "2025-01-02", 0},
	{"dt", TIDU_EXPR_STRING, "2025-01-02T10:30:00+08:00", 0},
	{"flag", TIDU_EXPR_BOOL, NULL, 1},
	{"a-b", TIDU_EXPR_STRING, "7", 0},
};

static int lookup(void *ctx, const char *name, tidu_expr_value *out)
{
	size_t i;

	(void)ctx;
	if (!name) {
		out->kind = TIDU_EXPR_STRING;
		out->str = strdup(self_value);
		return 0;
	}
	if (strcmp(name, "fail") == 0)
		return tidu_error_set(TIDU_ENOTFOUND, "no answer for 'fail'");
	if (strcmp(name, "big") == 0 || strcmp(name, "huge") == 0 ||
	    strcmp(name, "longpat") == 0) {
		out->kind = TIDU_EXPR_STRING;
		out->str = strdup(name[0] == 'b' ? big_value :
				  name[0] == 'h' ? huge_value : longpat_value);
		return 0;
	}
	for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		if (strcmp(answers[i].name, name) != 0)
			continue;
		out->kind = answers[i].kind;
		out->num = answers[i].num;
		out->str = answers[i].str ? strdup(answers[i].str) : NULL;
		return 0;
	}
	out->kind = TIDU_EXPR_STRING;
	out->str = strdup(""); /* unknown or unanswered */
	return 0;
}

/* Repeats: r.age 34 7 19; r.none has no instance; r.blank "1" and "". */
static size_t values(void *ctx, const char *name, tidu_expr_value *out, size_t max)
{
	static const char *const ages[] = {"34", "7", "19"};
	size_t i, n = 0;

	if (strcmp(name, "r.age") == 0) {
		for (i = 0; i < 3 && n < max; i++, n++) {
			out[n].kind = TIDU_EXPR_STRING;
			out[n].str = strdup(ages[i]);
		}
		return n;
	}
	if (strcmp(name, "r.none") == 0)
		return 0;
	if (strcmp(name, "r.blank") == 0) {
		static const char *const v[] = {"1", ""};

		for (i = 0; i < 2 && n < max; i++, n++) {
			out[n].kind = TIDU_EXPR_STRING;
			out[n].str = strdup(v[i]);
		}
		return n;
	}
	if (strcmp(name, "r.huge") == 0) { /* always as many as asked */
		for (n = 0; n < max; n++) {
			out[n].kind = TIDU_EXPR_NUMBER;
			out[n].num = 1;
		}
		return n;
	}
	if (max == 0)
		return 0;
	/* not in a repeat: its one value */
	return lookup(ctx, name, &out[0]) < 0 ? 0 : 1;
}

static tidu_expr_env env(void)
{
	tidu_expr_env e = {0};

	e.lookup = lookup;
	e.values = values;
	e.today = "2025-03-15";
	e.now = "2025-03-15T09:30:00+08:00";
	e.uuid = "uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301";
	e.position = 2;
	return e;
}

/* Evaluates `text`; the result as XPath string() and its kind. */
static char *run_env(const char *text, const tidu_expr_env *en, tidu_expr_kind *kind)
{
	tidu_buf b = TIDU_BUF_INIT;
	tidu_expr_value v;
	tidu_expr *e = NULL;

	if (tidu_expr_parse(text, &e) != 0)
		fail_msg("parse of \"%s\" failed: %s", text, tidu_error_message());
	if (tidu_expr_eval(e, en, &v) != 0)
		fail_msg("eval of \"%s\" failed: %s", text, tidu_error_message());
	tidu_expr_string(&v, &b);
	if (kind)
		*kind = v.kind;
	tidu_expr_value_clear(&v);
	tidu_expr_free(e);
	return tidu_buf_detach(&b);
}

typedef struct {
	const char *text;
	char kind; /* 'n' number, 's' string, 'b' boolean */
	const char *want;
} tcase;

static void run_cases(const tcase *c, size_t n)
{
	tidu_expr_env en = env();
	tidu_expr_kind kind;
	size_t i;

	for (i = 0; i < n; i++) {
		char *got = run_env(c[i].text, &en, &kind);
		char k = kind == TIDU_EXPR_NUMBER ? 'n' : kind == TIDU_EXPR_STRING ? 's' : 'b';

		if (strcmp(got, c[i].want) != 0 || k != c[i].kind)
			fail_msg("\"%s\": got %c \"%s\", want %c \"%s\"", c[i].text, k, got,
				 c[i].kind, c[i].want);
		free(got);
	}
}

#define RUN(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

/* Parse error: the code and the exact message. */
static void parse_fails(const char *text, const char *msg)
{
	tidu_expr *e = (tidu_expr *)1;

	if (tidu_expr_parse(text, &e) != TIDU_EINVAL)
		fail_msg("\"%s\" parsed", text);
	assert_null(e);
	if (msg && strcmp(tidu_error_message(), msg) != 0)
		fail_msg("\"%s\": message \"%s\", want \"%s\"", text, tidu_error_message(), msg);
}

/* ---- tests ---- */

static void test_arithmetic(void **state)
{
	static const tcase cases[] = {
		{"1 + 2 * 3", 'n', "7"},
		{"(1 + 2) * 3", 'n', "9"},
		{"10 - 2 - 3", 'n', "5"},
		{"2 * 3 div 4", 'n', "1.5"},
		{"7 div 2", 'n', "3.5"},
		{"7 mod 3", 'n', "1"},
		{"-7 mod 3", 'n', "-1"},
		{"7 mod -3", 'n', "1"},
		{"5.5 mod 2", 'n', "1.5"},
		{"1 div 0", 'n', "Infinity"},
		{"-1 div 0", 'n', "-Infinity"},
		{"0 div 0", 'n', "NaN"},
		{"- - 2", 'n', "2"},
		{"-2 * 3", 'n', "-6"},
		{"3 - -2", 'n', "5"},
		{"3--2", 'n', "5"},
		{".5 + 1.", 'n', "1.5"},
		{"0.1 + 0.2", 'n', "0.30000000000000004"},
		{"${a} + ${b}", 'n', "7"},
		{"${a}-${b}", 'n', "-1"},
		{"${a-b} - 1", 'n', "6"},
		{"${n5} * 2", 'n', "10"},
		{"${empty} + 1", 'n', "NaN"},
		{"${flag} + 1", 'n', "2"},
		{"1000000 * 1000000", 'n', "1000000000000"},
		{"3 * 2 div 4 mod 1", 'n', "0.5"},
		{" \t\n 1 \r\n", 'n', "1"},
	};

	(void)state;
	RUN(cases);
}

static void test_logic_precedence(void **state)
{
	static const tcase cases[] = {
		{"1 + 2 = 3", 'b', "true"},
		{"1 < 2 = 2 > 1", 'b', "true"},    /* (1 < 2) = (2 > 1) */
		{"3 > 2 > 1", 'b', "false"},       /* (3 > 2) > 1: 1 > 1 */
		{"1 = 1 and 2 = 3 or 1", 'b', "true"},
		{"1 or 0 and 0", 'b', "true"},     /* and binds tighter */
		{"(1 or 0) and 0", 'b', "false"},
		{"0 or ''", 'b', "false"},
		{"'a' and 1", 'b', "true"},
		{"not(0) and not('')", 'b', "true"},
		{"-1 < 0 and 2 * 3 >= 6", 'b', "true"},
		{"1 <= 1 and 1 >= 1 and 1 != 2", 'b', "true"},
		{"true() or 1 div 0", 'b', "true"},
		{"${a} > 2 and ${b} < 5", 'b', "true"},
	};

	(void)state;
	RUN(cases);
}

static void test_comparisons(void **state)
{
	static const tcase cases[] = {
		{"${a} = 3", 'b', "true"},         /* string vs number: numeric */
		{"${a} = '3'", 'b', "true"},
		{"'3.0' = 3", 'b', "true"},
		{"'3.0' = '3'", 'b', "false"},     /* two strings: as strings */
		{"'abc' = 'abc'", 'b', "true"},
		{"'abc' != 'abd'", 'b', "true"},
		{"'abc' < 'abd'", 'b', "false"},   /* < is numeric: NaN */
		{"'abc' >= 'abc'", 'b', "false"},
		{"'10' < '9'", 'b', "false"},      /* 10 < 9 */
		{"${a} < ${b}", 'b', "true"},
		{"'2' > 1", 'b', "true"},
		{"${empty} = ''", 'b', "true"},
		{"${empty} = 0", 'b', "false"},    /* NaN = 0 */
		{"${empty} != 0", 'b', "true"},
		{"${empty} > 0", 'b', "false"},
		{"${empty} <= 0", 'b', "false"},
		{"number('') = number('')", 'b', "false"},
		{"number('') != number('')", 'b', "true"},
		{"true() = 'x'", 'b', "true"},     /* boolean('x') */
		{"false() = ''", 'b', "true"},
		{"true() = 2", 'b', "true"},
		{"false() = 0", 'b', "true"},
		{"${flag} = 1", 'b', "true"},
		{"${flag} = 'false'", 'b', "true"}, /* boolean('false') is true */
		{"${n5} = '5'", 'b', "true"},
		{"${n5} = ' 5 '", 'b', "true"},
		{"${name} = 'Zhang San'", 'b', "true"},
		{"${nosuch} = ''", 'b', "true"},   /* unanswered: "" */
	};

	(void)state;
	RUN(cases);
}

static void test_coercions(void **state)
{
	static const tcase cases[] = {
		{"number('  12 ')", 'n', "12"},
		{"number('-.5')", 'n', "-0.5"},
		{"number('5.')", 'n', "5"},
		{"number('1e3')", 'n', "NaN"},
		{"number('+1')", 'n', "NaN"},
		{"number('1 2')", 'n', "NaN"},
		{"number('abc')", 'n', "NaN"},
		{"number('')", 'n', "NaN"},
		{"number('-')", 'n', "NaN"},
		{"number(true())", 'n', "1"},
		{"number(false())", 'n', "0"},
		{"number()", 'n', "13812345678"},  /* . */
		{"string(1 div 3)", 's', "0.3333333333333333"},
		{"string(3.0)", 's', "3"},
		{"string(-0)", 's', "0"},
		{"string(1000000)", 's', "1000000"},
		{"string(0.5)", 's', "0.5"},
		{"string(true())", 's', "true"},
		{"string(number(''))", 's', "NaN"},
		{"string(${n5})", 's', "5"},
		{"string()", 's', "13812345678"},
		{"boolean('0')", 'b', "true"},
		{"boolean('false')", 'b', "true"},
		{"boolean(0)", 'b', "false"},
		{"boolean(-0.0001)", 'b', "true"},
		{"boolean(number(''))", 'b', "false"},
		{"boolean('')", 'b', "false"},
		{"not('')", 'b', "true"},
		{"not(${a})", 'b', "false"},
		{"boolean-from-string('true')", 'b', "true"},
		{"boolean-from-string('1')", 'b', "true"},
		{"boolean-from-string('yes')", 'b', "false"},
		{"true()", 'b', "true"},
		{"false()", 'b', "false"},
		{"'x'", 's', "x"},
		{"\"it's\"", 's', "it's"},
		{"'say \"hi\"'", 's', "say \"hi\""},
		{"${a}", 's', "3"},
		{"${n5}", 'n', "5"},
		{"${flag}", 'b', "true"},
		{".", 's', "13812345678"},
	};
	tidu_expr_value v = {TIDU_EXPR_STRING, 0, NULL};

	(void)state;
	RUN(cases);
	/* the public conversions on their own */
	assert_false(tidu_expr_truthy(&v));
	assert_true(isnan(tidu_expr_number(&v)));
	v.kind = TIDU_EXPR_NUMBER;
	v.num = NAN;
	assert_false(tidu_expr_truthy(&v));
	v.num = 2;
	assert_true(tidu_expr_truthy(&v));
	v.kind = TIDU_EXPR_BOOL;
	v.num = 1;
	assert_true(tidu_expr_number(&v) == 1);
}

static void test_numeric_functions(void **state)
{
	static const tcase cases[] = {
		{"int(3.7)", 'n', "3"},
		{"int(-3.7)", 'n', "-3"},
		{"int('12.9')", 'n', "12"},
		{"int('')", 'n', "NaN"},
		{"round(2.5)", 'n', "3"},
		{"round(-2.5)", 'n', "-3"},        /* half away from zero (ODK) */
		{"round(2.4)", 'n', "2"},
		{"round(0.5)", 'n', "1"},
		{"round(-0.4)", 'n', "0"},
		{"round(2.675, 2)", 'n', "2.68"},  /* the decimal digits, not binary */
		{"round(-1.005, 2)", 'n', "-1.01"},
		{"round(9.995, 2)", 'n', "10"},
		{"round(1.23, 5)", 'n', "1.23"},
		{"round(1234.5678, -2)", 'n', "1200"},
		{"round(1250, -2)", 'n', "1300"},
		{"round(49, -2)", 'n', "0"},
		{"round(1234.5678, 1.9)", 'n', "1234.6"}, /* digits truncated */
		{"round('')", 'n', "NaN"},
		{"round(1 div 0)", 'n', "Infinity"},
		{"floor(-1.5)", 'n', "-2"},
		{"floor(1.5)", 'n', "1"},
		{"ceiling(1.2)", 'n', "2"},
		{"ceiling(-1.2)", 'n', "-1"},
		{"abs(-3)", 'n', "3"},
		{"abs('x')", 'n', "NaN"},
		{"pow(2, 10)", 'n', "1024"},
		{"pow(4, 0.5)", 'n', "2"},
		{"sqrt(16)", 'n', "4"},
		{"sqrt(-1)", 'n', "NaN"},
		{"pi()", 'n', "3.141592653589793"},
		{"exp(0)", 'n', "1"},
		{"log10(1000)", 'n', "3"},
		{"log(1)", 'n', "0"},
	};

	(void)state;
	RUN(cases);
}

static void test_string_functions(void **state)
{
	static const tcase cases[] = {
		{"concat('a', 1, true(), ${n5})", 's', "a1true5"},
		{"concat()", 's', ""},
		{"concat(${name}, '/', ${zh})", 's', "Zhang San/郑州市"},
		{"string-length('郑州')", 'n', "2"},
		{"string-length(${zh})", 'n', "3"},
		{"string-length('')", 'n', "0"},
		{"string-length()", 'n', "11"},   /* . */
		{"string-length(12.5)", 'n', "4"},
		{"substr('hello', 1, 3)", 's', "el"},
		{"substr('hello', 2)", 's', "llo"},
		{"substr('hello', 0, 99)", 's', "hello"},
		{"substr('hello', -2)", 's', "lo"},
		{"substr('hello', 0, -1)", 's', "hell"},
		{"substr('hello', 3, 1)", 's', ""},
		{"substr('hello', 9)", 's', ""},
		{"substr('郑州市', 1)", 's', "州市"},
		{"substr('郑州市', 0, 1)", 's', "郑"},
		{"substr('hello', number(''))", 's', ""},
		{"contains('hello', 'ell')", 'b', "true"},
		{"contains('hello', 'xyz')", 'b', "false"},
		{"contains('hello', '')", 'b', "true"},
		{"contains(${zh}, '州')", 'b', "true"},
		{"starts-with('hello', 'he')", 'b', "true"},
		{"starts-with('he', 'hello')", 'b', "false"},
		{"ends-with('hello', 'lo')", 'b', "true"},
		{"ends-with('lo', 'hello')", 'b', "false"},
		{"ends-with('hello', '')", 'b', "true"},
		{"normalize-space('  a \t b\n ')", 's', "a b"},
		{"normalize-space('')", 's', ""},
		{"translate('bar', 'abc', 'ABC')", 's', "BAr"},
		{"translate('--aaa--', 'abc-', 'ABC')", 's', "AAA"},
		{"translate('郑州', '州', 'Z')", 's', "郑Z"},
		{"translate('abc', 'a', '郑')", 's', "郑bc"},
		{"substring-before('2025-01-02', '-')", 's', "2025"},
		{"substring-after('2025-01-02', '-')", 's', "01-02"},
		{"substring-before('abc', 'x')", 's', ""},
		{"substring-after('abc', 'x')", 's', ""},
	};

	(void)state;
	RUN(cases);
}

static void test_select_multiple(void **state)
{
	static const tcase cases[] = {
		{"selected(${sel}, 'b')", 'b', "true"},
		{"selected(${sel}, 'c')", 'b', "true"},
		{"selected(${sel}, ' c ')", 'b', "true"},
		{"selected(${sel}, 'd')", 'b', "false"},
		{"selected(${sel}, 'a b')", 'b', "false"},
		{"selected(${sel}, '')", 'b', "false"},
		{"selected(${empty}, 'a')", 'b', "false"},
		{"selected(${a}, 3)", 'b', "true"},
		{"not(selected(${sel}, 'x'))", 'b', "true"},
		{"count-selected(${sel})", 'n', "3"},
		{"count-selected(${empty})", 'n', "0"},
		{"count-selected('  x  ')", 'n', "1"},
		{"selected-at(${sel}, 0)", 's', "a"},
		{"selected-at(${sel}, 2)", 's', "c"},
		{"selected-at(${sel}, 3)", 's', ""},
		{"selected-at(${sel}, -1)", 's', ""},
		{"selected-at(${empty}, 0)", 's', ""},
	};

	(void)state;
	RUN(cases);
}

static void test_if_coalesce(void **state)
{
	static const tcase cases[] = {
		{"if(${a} > 2, 'big', 'small')", 's', "big"},
		{"if(${a} > 5, 'big', 'small')", 's', "small"},
		{"if('', 1, 2)", 'n', "2"},
		{"if(true(), 1, 1 div 0)", 'n', "1"},
		{"if(${empty} = '', 'unanswered', ${empty})", 's', "unanswered"},
		{"coalesce(${empty}, 'x')", 's', "x"},
		{"coalesce(${a}, 'x')", 's', "3"},
		{"coalesce(${nosuch}, ${empty})", 's', ""},
		{"coalesce(0, 1)", 'n', "0"},          /* "0" is not empty */
	};

	(void)state;
	RUN(cases);
}

static void test_regex(void **state)
{
	static const tcase cases[] = {
		{"regex('13812345678', '^1[3-9]\\d{9}$')", 'b', "true"},
		{"regex('1381234567', '^1[3-9]\\d{9}$')", 'b', "false"},
		{"regex('12812345678', '^1[3-9]\\d{9}$')", 'b', "false"},
		{"regex(., '^1[3-9][0-9]{9}$')", 'b', "true"},
		{"regex('abc', 'b')", 'b', "true"},     /* unanchored */
		{"regex('abc', '^b')", 'b', "false"},
		{"regex('123', '^[\\d]+$')", 'b', "true"},
		{"regex('1a3', '^[\\d]+$')", 'b', "false"},
		{"regex('a b', '\\s')", 'b', "true"},
		{"regex('ab', '\\s')", 'b', "false"},
		{"regex('ab', '^\\S+$')", 'b', "true"},
		{"regex('a_1', '^\\w+$')", 'b', "true"},
		{"regex('a-1', '^\\w+$')", 'b', "false"},
		{"regex('a.b', 'a\\.b')", 'b', "true"},
		{"regex('axb', 'a\\.b')", 'b', "false"},
		{"regex('x9', '\\D\\d')", 'b', "true"},
		{"regex('', '^$')", 'b', "true"},
		{"regex('ABC', '^(abc|ABC)$')", 'b', "true"},
		{"regex(${name}, concat('^', 'Zh'))", 'b', "true"}, /* computed */
		{"regex(${name}, concat('^', 'zh'))", 'b', "false"},
		{"regex('x', concat('(', ''))", 'b', "false"},      /* bad: no match */
		{"regex(123, '^[0-9]+$')", 'b', "true"},
		{"regex('abab', '^(ab){2}$')", 'b', "true"},
		{"regex('ababab', '^(ab){2}$')", 'b', "false"},
		{"regex('aaa', '^a{2,}$')", 'b', "true"},
		{"regex('a{', 'a\\{')", 'b', "true"},
		{"regex('x:', '^[[:alpha:]]:$')", 'b', "true"},
		{"regex('91410100MA44Q8XX0F', '^[0-9A-Z]{18}$')", 'b', "true"},
		/* characters, not bytes, in any process locale (this test runs in C) */
		{"regex('郑州', '^..$')", 'b', "true"},
		{"regex('郑州', '^.{6}$')", 'b', "false"},
		{"regex('郑州市', '^[^a-z]{3}$')", 'b', "true"},
		{"regex('a郑', '^[a-z].$')", 'b', "true"},   /* ASCII pattern, non-ASCII text */
		{"regex('a郑', '^[a-z]{2}$')", 'b', "false"},
		{"regex('ab', '^[a-z].$')", 'b', "true"},    /* ASCII pattern and text */
		{"regex('金水区', '区$')", 'b', "true"},       /* a non-ASCII pattern */
		{"regex('金水县', '区$')", 'b', "false"},
	};
	tidu_expr_env en = env();
	tidu_expr_value v;
	tidu_expr *e;
	tidu_buf b = TIDU_BUF_INIT;
	int i;

	(void)state;
	RUN(cases);
	parse_fails("regex('aa', '(a)\\1')",
		    "at character 1: regex(): back-references are not allowed");
	parse_fails("regex(., '(')", "at character 1: regex(): invalid regular expression");
	/* counted repetitions that expand past 1000 atoms (seconds in glibc) */
	parse_fails("regex(., '(a{255}){255}')",
		    "at character 1: regex(): the pattern is too complex");
	parse_fails("regex(., 'a{')", "at character 1: regex(): invalid regular expression");
	parse_fails("regex(., 'a++++++++++++++++++++++++++++++++++++++++')",
		    "at character 1: regex(): the pattern is too complex");
	parse_fails("regex(., 'a{1001}')", "at character 1: regex(): the pattern is too complex");
	parse_fails("regex(., '[0-9]{999}[a-z]{2}')",
		    "at character 1: regex(): the pattern is too complex");
	parse_fails("regex(., '((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))')",
		    "at character 1: regex(): the pattern is too complex");
	assert_int_equal(tidu_expr_parse("regex(., '^((a{10}){10}){10}$')", &e), 0);
	tidu_expr_free(e);
	assert_int_equal(tidu_expr_parse("regex(., '^[0-9A-HJ-NPQRTUWXY]{2}\\d{6}[0-9A-Z]{10}$')", &e), 0);
	tidu_expr_free(e);
	tidu_buf_puts(&b, "regex(., '");
	for (i = 0; i < TIDU_EXPR_MAX_REGEX + 1; i++)
		tidu_buf_putc(&b, 'a');
	tidu_buf_puts(&b, "')");
	parse_fails(tidu_buf_cstr(&b),
		    "at character 1: regex(): the pattern is longer than 512 bytes");
	/* one of exactly the bound is fine */
	tidu_buf_clear(&b);
	tidu_buf_puts(&b, "regex(., '");
	for (i = 0; i < TIDU_EXPR_MAX_REGEX; i++)
		tidu_buf_putc(&b, 'a');
	tidu_buf_puts(&b, "')");
	assert_int_equal(tidu_expr_parse(tidu_buf_cstr(&b), &e), 0);
	tidu_expr_free(e);
	tidu_buf_free(&b);
	/* a computed pattern over the bound stops the evaluation */
	assert_int_equal(tidu_expr_parse("regex(., ${longpat})", &e), 0);
	assert_int_equal(tidu_expr_eval(e, &en, &v), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(),
			    "regex(): the pattern is longer than 512 bytes");
	tidu_expr_free(e);
}

static void test_dates(void **state)
{
	/* 2025-01-01 is day 20089: 55 years from 1970 of 365 days and 14 leap
	 * days (1972 ... 2024). 1970-01-01 was a Thursday. */
	static const tcase cases[] = {
		{"today()", 's', "2025-03-15"},
		{"now()", 's', "2025-03-15T09:30:00+08:00"},
		{"date('2025-01-02')", 's', "2025-01-02"},
		{"date(0)", 's', "1970-01-01"},
		{"date(20090)", 's', "2025-01-02"},
		{"date(-1)", 's', "1969-12-31"},
		{"date(${dt})", 's', "2025-01-02"},
		{"date('2025-02-29')", 's', ""},
		{"date('')", 's', ""},
		{"date('x')", 's', ""},
		{"decimal-date-time('2025-01-02')", 'n', "20090"},
		{"decimal-date-time('2025-01-02T12:00:00+08:00')", 'n', "20090.5"},
		{"decimal-date-time('2025-01-02T06:00')", 'n', "20090.25"},
		{"decimal-date-time('2025-01-02T18:00:00.000Z')", 'n', "20090.75"},
		{"decimal-date-time('x')", 'n', "NaN"},
		{"decimal-date-time('2025-01-02T25:00')", 'n', "NaN"},
		{"date('2025-01-02') + 1", 'n', "20091"},
		{"date(date('2025-01-02') + 30)", 's', "2025-02-01"},
		{"date('2024-03-01') - date('2024-02-28')", 'n', "2"},
		{"date('2025-03-01') - date('2025-02-28')", 'n', "1"},
		{"today() - ${d1}", 'n', "72"},        /* 29 + 28 + 15 */
		{"${d1} < today()", 'b', "true"},
		{"${d1} > today()", 'b', "false"},
		{"${d1} = '2025-01-02'", 'b', "true"},
		{"${d1} = date('2025-01-02')", 'b', "true"},
		{"int((today() - date('1990-03-15')) div 365.25)", 'n', "35"},
		{"format-date('2025-01-02', '%Y/%m/%d %e %a %b')", 's', "2025/01/02 2 Thu Jan"},
		{"format-date(${dt}, '%H:%M:%S')", 's', "10:30:00"},
		{"format-date(${dt}, '%h %n %y %%')", 's', "10 1 25 %"},
		{"format-date(20090, '%Y-%m-%d')", 's', "2025-01-02"},
		{"format-date(20090.5, '%H:%M')", 's', "12:00"},
		{"format-date('2024-02-29', '%d %b %Y, %a')", 's', "29 Feb 2024, Thu"},
		{"format-date('1969-12-28', '%a')", 's', "Sun"},
		{"format-date('bad', '%Y')", 's', ""},
		{"format-date('', '%Y')", 's', ""},
		{"format-date-time(${dt}, '%Y-%m-%d %H:%M')", 's', "2025-01-02 10:30"},
		{"number('2024-02-30')", 'n', "NaN"},
		{"number('2025-01-02')", 'n', "20090"},
	};

	(void)state;
	RUN(cases);
}

static void test_repeats_env(void **state)
{
	static const tcase cases[] = {
		{"position(..)", 'n', "2"},
		{"position( .. )", 'n', "2"},
		{"count(${r.age})", 'n', "3"},
		{"sum(${r.age})", 'n', "60"},
		{"max(${r.age})", 'n', "34"},
		{"min(${r.age})", 'n', "7"},
		{"count(${r.none})", 'n', "0"},
		{"sum(${r.none})", 'n', "0"},
		{"max(${r.none})", 'n', "NaN"},
		{"count(${r.blank})", 'n', "2"},
		{"sum(${r.blank})", 'n', "NaN"},       /* number('') is NaN */
		{"max(${r.blank})", 'n', "NaN"},
		{"max(${a}, ${b}, 10)", 'n', "10"},
		{"min(${a}, ${b}, 10)", 'n', "3"},
		{"max(${r.age}, 40)", 'n', "40"},
		{"min(1)", 'n', "1"},
		{"count(${a})", 'n', "1"},
		{"uuid()", 's', "uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301"},
		{"once(uuid())", 's', "13812345678"},  /* . has a value: kept */
	};
	tidu_expr_env en = env();
	char *got;

	(void)state;
	RUN(cases);
	/* once() of an empty question takes the value */
	self_value = "";
	got = run_env("once(uuid())", &en, NULL);
	assert_string_equal(got, "uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301");
	free(got);
	got = run_env("string-length()", &en, NULL);
	assert_string_equal(got, "0");
	free(got);
	self_value = "13812345678";
	/* no values callback: a ${name} is one value */
	en.values = NULL;
	got = run_env("count(${r.age}) + sum(${a})", &en, NULL);
	assert_string_equal(got, "4");
	free(got);
	/* no env at all: empty answers, no date, position 0 */
	got = run_env("concat(${a}, today(), position(..), uuid())", NULL, NULL);
	assert_string_equal(got, "0");
	free(got);
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{"foo(1)", "at character 1: unknown function 'foo'"},
		{"1 + bar()", "at character 5: unknown function 'bar'"},
		{"'郑州' + foo()", "at character 8: unknown function 'foo'"},
		{"jr:choice-name(${a}, 'x')", "at character 1: unknown function 'jr:choice-name'"},
		{"not(1, 2)", "at character 1: wrong number of arguments for 'not'"},
		{"if(1, 2)", "at character 1: wrong number of arguments for 'if'"},
		{"concat('a', round())", "at character 13: wrong number of arguments for 'round'"},
		{"true(1)", "at character 1: wrong number of arguments for 'true'"},
		{"concat('a', 'b'", "at character 16: missing ')'"},
		{"(1 + 2", "at character 7: missing ')'"},
		{"1 + 2)", "at character 6: unbalanced ')'"},
		{"(1 2)", "at character 4: unexpected '2'"},
		{"'abc", "at character 1: unterminated string"},
		{"1 + \"abc", "at character 5: unterminated string"},
		{"1e3", "at character 1: invalid number '1e3'"},
		{"2 * 12abc", "at character 5: invalid number '12abc'"},
		{"${a", "at character 1: unterminated ${name} reference"},
		{"${}", "at character 1: empty ${} reference"},
		{"${a b}", "at character 4: invalid character in a ${name} reference"},
		{"", "at character 1: unexpected end of the expression"},
		{"  ", "at character 3: unexpected end of the expression"},
		{"1 +", "at character 4: unexpected end of the expression"},
		{"1 ! 2", "at character 3: unexpected '!'"},
		{"1 | 2", "at character 3: unexpected '|'"},
		{"/data/x", "at character 1: unexpected '/'"},
		{"$a", "at character 1: unexpected '$'"},
		{"x + 1", "at character 1: unexpected 'x' (write a question as ${name})"},
		{"1 and", "at character 6: unexpected end of the expression"},
		{"1 div-1", "at character 3: unexpected 'div-1'"},
		{"count(1)", "at character 1: 'count' takes a ${name} reference"},
		{"sum(${a} + 1)", "at character 1: 'sum' takes a ${name} reference"},
		{"position(.)", "at character 1: position() takes '..' (position(..))"},
		{"../x", "at character 1: '..' is allowed only in position(..)"},
		{"concat(1,)", "at character 10: unexpected ')'"},
		{"\xff", "at character 1: invalid UTF-8"},
		{"'a' = 'b\xc3'", "at character 9: invalid UTF-8"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		parse_fails(cases[i].text, cases[i].msg);
	/* the code is EINVAL and the message translated */
	tidu_i18n_set("zh");
	parse_fails("foo(1)", "第 1 个字符处:未知函数 'foo'");
	tidu_i18n_set("en");
}

static void test_refs(void **state)
{
	tidu_expr *e;

	(void)state;
	/* unknown names are no parse error: the form checks them */
	assert_int_equal(tidu_expr_parse("${b} + ${a} + ${b} + count(${r.age}) + . + ${nosuch}",
					 &e), 0);
	assert_int_equal(tidu_expr_ref_count(e), 4);
	assert_string_equal(tidu_expr_ref(e, 0), "b");
	assert_string_equal(tidu_expr_ref(e, 1), "a");
	assert_string_equal(tidu_expr_ref(e, 2), "r.age");
	assert_string_equal(tidu_expr_ref(e, 3), "nosuch");
	assert_null(tidu_expr_ref(e, 4));
	assert_true(tidu_expr_uses_self(e));
	assert_true(tidu_expr_uses_function(e, "count"));
	assert_false(tidu_expr_uses_function(e, "sum"));
	tidu_expr_free(e);

	assert_int_equal(tidu_expr_parse("1 + 2", &e), 0);
	assert_int_equal(tidu_expr_ref_count(e), 0);
	assert_null(tidu_expr_ref(e, 0));
	assert_false(tidu_expr_uses_self(e));
	tidu_expr_free(e);

	assert_int_equal(tidu_expr_parse("once(uuid())", &e), 0);
	assert_true(tidu_expr_uses_function(e, "once"));
	assert_true(tidu_expr_uses_function(e, "uuid"));
	assert_false(tidu_expr_uses_function(e, "now"));
	assert_false(tidu_expr_uses_function(e, "nosuch"));
	assert_true(tidu_expr_uses_self(e)); /* once() reads . */
	tidu_expr_free(e);

	assert_int_equal(tidu_expr_parse("string-length(${x-y.z}) > 0", &e), 0);
	assert_int_equal(tidu_expr_ref_count(e), 1);
	assert_string_equal(tidu_expr_ref(e, 0), "x-y.z");
	assert_false(tidu_expr_uses_self(e));
	tidu_expr_free(e);

	assert_int_equal(tidu_expr_parse("${题目1} = 1", &e), 0);
	assert_string_equal(tidu_expr_ref(e, 0), "题目1");
	tidu_expr_free(e);

	assert_int_equal(tidu_expr_ref_count(NULL), 0);
	tidu_expr_free(NULL);
}

static char *repeat(const char *unit, size_t n, const char *tail)
{
	tidu_buf b = TIDU_BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++)
		tidu_buf_puts(&b, unit);
	tidu_buf_puts(&b, tail);
	return tidu_buf_detach(&b);
}

static void test_depth(void **state)
{
	tidu_expr_env en = env();
	tidu_buf b = TIDU_BUF_INIT;
	tidu_expr *e;
	char *s, *got;
	size_t i;

	(void)state;
	/* 63 parentheses: 64 levels with the whole expression */
	for (i = 0; i < 63; i++)
		tidu_buf_putc(&b, '(');
	tidu_buf_putc(&b, '1');
	for (i = 0; i < 63; i++)
		tidu_buf_putc(&b, ')');
	got = run_env(tidu_buf_cstr(&b), &en, NULL);
	assert_string_equal(got, "1");
	free(got);
	tidu_buf_clear(&b);
	for (i = 0; i < 64; i++)
		tidu_buf_putc(&b, '(');
	tidu_buf_putc(&b, '1');
	for (i = 0; i < 64; i++)
		tidu_buf_putc(&b, ')');
	parse_fails(tidu_buf_cstr(&b), "at character 65: nesting deeper than 64 levels");
	tidu_buf_free(&b);

	/* far deeper: refused without running out of stack */
	s = repeat("(", 8000, "1");
	parse_fails(s, "at character 65: nesting deeper than 64 levels");
	free(s);
	s = repeat("not(", 2000, "1");
	parse_fails(s, NULL);
	free(s);
	s = repeat("-", 8000, "1");
	parse_fails(s, "at character 65: nesting deeper than 64 levels");
	free(s);
	s = repeat("-", 62, "1");
	got = run_env(s, &en, NULL);
	assert_string_equal(got, "1"); /* 62 minus signs */
	free(s);
	free(got);

	/* a long flat chain is not nesting */
	s = repeat("1+", 4000, "1");
	got = run_env(s, &en, NULL);
	assert_string_equal(got, "4001");
	free(s);
	free(got);
	s = repeat("${a} * 1 + ", 700, "0");
	got = run_env(s, &en, NULL);
	assert_string_equal(got, "2100");
	free(s);
	free(got);
	assert_int_equal(tidu_expr_parse("1", &e), 0);
	tidu_expr_free(e);
}

static void test_bounds(void **state)
{
	tidu_expr_env en = env();
	tidu_expr_value v;
	tidu_expr *e;
	char *s, *got;

	(void)state;
	/* text length */
	s = repeat(" ", TIDU_EXPR_MAX_TEXT - 1, "1");
	got = run_env(s, &en, NULL);
	assert_string_equal(got, "1");
	free(got);
	free(s);
	s = repeat(" ", TIDU_EXPR_MAX_TEXT, "1");
	parse_fails(s, "at character 8193: the expression is longer than 8192 bytes");
	free(s);
	s = repeat("'", 1000000, "");
	parse_fails(s, "at character 8193: the expression is longer than 8192 bytes");
	free(s);

	/* steps */
	assert_int_equal(tidu_expr_parse("1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10", &e), 0);
	en.max_steps = 11; /* the sum and its 10 terms */
	assert_int_equal(tidu_expr_eval(e, &en, &v), 0);
	assert_true(v.kind == TIDU_EXPR_NUMBER && v.num == 55);
	en.max_steps = 10;
	assert_int_equal(tidu_expr_eval(e, &en, &v), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "expression stopped after 10 steps");
	assert_true(v.kind == TIDU_EXPR_STRING && v.str == NULL);
	tidu_expr_free(e);
	/* values count as steps too */
	assert_int_equal(tidu_expr_parse("sum(${r.huge})", &e), 0);
	en.max_steps = 0; /* the default, 100000 */
	assert_int_equal(tidu_expr_eval(e, &en, &v), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "more than 100000 values of 'r.huge'");
	tidu_expr_free(e);
	assert_int_equal(tidu_expr_parse("count(${r.age}) + sum(${r.age})", &e), 0);
	en.max_steps = 8; /* 1 + 1 + 1 + 3 values + 1 + ... */
	assert_int_equal(tidu_expr_eval(e, &en, &v), TIDU_EINVAL);
	tidu_expr_free(e);
	en.max_steps = 0;

	/* strings */
	got = run_env("string-length(${big})", &en, NULL);
	assert_string_equal(got, "40000");
	free(got);
	assert_int_equal(tidu_expr_parse("concat(${big}, ${big})", &e), 0);
	assert_int_equal(tidu_expr_eval(e, &en, &v), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "expression result longer than 65536 bytes");
	tidu_expr_free(e);
	assert_int_equal(tidu_expr_parse("string-length(${huge})", &e), 0);
	assert_int_equal(tidu_expr_eval(e, &en, &v), TIDU_EINVAL);
	tidu_expr_free(e);

	/* the lookup's error stops the evaluation with its code */
	assert_int_equal(tidu_expr_parse("1 + ${fail}", &e), 0);
	assert_int_equal(tidu_expr_eval(e, &en, &v), TIDU_ENOTFOUND);
	assert_string_equal(tidu_error_message(), "no answer for 'fail'");
	tidu_expr_free(e);
	assert_int_equal(tidu_expr_eval(NULL, &en, &v), TIDU_EINVAL);
}

/* Parsed once, evaluated many times: the same answer (regex compiled once). */
static void test_reuse(void **state)
{
	tidu_expr_env en = env();
	tidu_expr_value v;
	tidu_expr *e;
	int i;

	(void)state;
	assert_int_equal(tidu_expr_parse("regex(., '^1[3-9]\\d{9}$') and ${a} = 3", &e), 0);
	for (i = 0; i < 100; i++) {
		self_value = i % 2 ? "13812345678" : "12345";
		assert_int_equal(tidu_expr_eval(e, &en, &v), 0);
		assert_true(v.kind == TIDU_EXPR_BOOL);
		assert_true(tidu_expr_truthy(&v) == (i % 2));
		tidu_expr_value_clear(&v);
	}
	self_value = "13812345678";
	tidu_expr_free(e);
}

static int setup(void **state)
{
	(void)state;
	tidu_i18n_set("en");
	big_value = malloc(40001);
	huge_value = malloc(70001);
	longpat_value = malloc(601);
	if (!big_value || !huge_value || !longpat_value)
		return -1;
	memset(big_value, 'x', 40000);
	big_value[40000] = 0;
	memset(huge_value, 'y', 70000);
	huge_value[70000] = 0;
	memset(longpat_value, 'a', 600);
	longpat_value[600] = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(big_value);
	free(huge_value);
	free(longpat_value);
	return 0;
}

/* A choice_filter's bare names are the choice's columns, looked up as "@name". */
static int filter_lookup(void *ctx, const char *name, tidu_expr_value *out)
{
	(void)ctx;
	out->kind = TIDU_EXPR_STRING;
	if (name && !strcmp(name, "@county"))
		out->str = strdup("c1");
	else if (name && !strcmp(name, "@name"))
		out->str = strdup("t2");
	else if (name && !strcmp(name, "county"))
		out->str = strdup("c1");
	else
		out->str = strdup("");
	return 0;
}

static void test_filter_bare_names(void **state)
{
	tidu_expr_env env = {0};
	tidu_expr_value v;
	tidu_expr *e = NULL;

	(void)state;
	env.lookup = filter_lookup;
	assert_int_equal(tidu_expr_parse_filter("county = ${county} and name != 't1'", &e), 0);
	assert_int_equal(tidu_expr_col_count(e), 2);
	assert_string_equal(tidu_expr_col(e, 0), "county");
	assert_string_equal(tidu_expr_col(e, 1), "name");
	assert_null(tidu_expr_col(e, 2));
	assert_int_equal(tidu_expr_ref_count(e), 1);
	assert_string_equal(tidu_expr_ref(e, 0), "county");
	assert_int_equal(tidu_expr_eval(e, &env, &v), 0);
	assert_true(tidu_expr_truthy(&v));
	tidu_expr_value_clear(&v);
	tidu_expr_free(e);
	/* a bare name that is an operator's place, and a function call, stay as they were */
	assert_int_equal(tidu_expr_parse_filter("not(county = 'c2') and count-selected(name) = 1",
						&e), 0);
	assert_int_equal(tidu_expr_eval(e, &env, &v), 0);
	assert_true(tidu_expr_truthy(&v));
	tidu_expr_value_clear(&v);
	tidu_expr_free(e);
	/* elsewhere bare names are refused, and prefixed names everywhere */
	assert_int_equal(tidu_expr_parse("county = 'c1'", &e), TIDU_EINVAL);
	assert_int_equal(tidu_expr_parse_filter("jr:county = 'c1'", &e), TIDU_EINVAL);
	assert_int_equal(tidu_expr_parse_filter("/data/county = 'c1'", &e), TIDU_EINVAL);
	tidu_error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arithmetic),
		cmocka_unit_test(test_filter_bare_names),
		cmocka_unit_test(test_logic_precedence),
		cmocka_unit_test(test_comparisons),
		cmocka_unit_test(test_coercions),
		cmocka_unit_test(test_numeric_functions),
		cmocka_unit_test(test_string_functions),
		cmocka_unit_test(test_select_multiple),
		cmocka_unit_test(test_if_coalesce),
		cmocka_unit_test(test_regex),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_repeats_env),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_reuse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
