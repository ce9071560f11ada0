/*
 * Unit tests: answers.h (filling a survey response). The forms are written
 * here by libxlsxwriter, one concern each, plus the sample form and a
 * built-in form of schema/forms filled from JSON. Expected values by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include "helpers.h"
#include "xlsx_sheets.h"
#include "tidu/answers.h"
#include "tidu/error.h"
#include "tidu/form.h"
#include "tidu/i18n.h"
#include "tidu/json.h"

static char tmpdir[64];

/* The form of `survey` and `choices` rows (tab-separated, the header first). */
static tidu_form *make(const char *name, const char *const *survey, const char *const *choices)
{
	const char *path = xs_workbook(tmpdir, name, survey, choices, NULL);
	tidu_form *f = NULL;

	if (tidu_form_read(path, &f) < 0)
		fail_msg("%s: %s", name, tidu_error_message());
	return f;
}

static const tidu_answers_env env_zh = {"2026-01-05", "2026-01-05T09:00:00+08:00",
					"01900000-0000-7000-8000-000000000001", "dev-1", "王警官",
					"zh"};
static const tidu_answers_env env_en = {"2026-01-05", "2026-01-05T09:00:00+08:00",
					"01900000-0000-7000-8000-000000000001", "dev-1", "Wang",
					"en"};

static size_t Q(tidu_answers *a, const char *name)
{
	size_t q = tidu_form_find(tidu_answers_form(a), name);

	if (q == TIDU_FORM_TOP)
		fail_msg("no question %s", name);
	return q;
}

/* Sets a top-level answer; it must succeed. */
static void ok(tidu_answers *a, const char *name, const char *text)
{
	if (tidu_answers_set(a, Q(a, name), NULL, text) < 0)
		fail_msg("%s = '%s': %s", name, text, tidu_error_message());
}

/* Setting fails with a message holding `want`. */
static void no(tidu_answers *a, const char *name, const tidu_answers_at *at, const char *text,
	       const char *want)
{
	assert_int_equal(tidu_answers_set(a, Q(a, name), at, text), TIDU_EINVAL);
	if (!strstr(tidu_error_message(), want))
		fail_msg("%s = '%s': got '%s', wanted '%s'", name, text, tidu_error_message(), want);
	tidu_error_clear();
}

static void is(tidu_answers *a, const char *name, const tidu_answers_at *at, const char *want)
{
	const char *v = tidu_answers_get(a, Q(a, name), at);

	if (!want) {
		if (v)
			fail_msg("%s: '%s', wanted none", name, v);
		return;
	}
	if (!v || strcmp(v, want))
		fail_msg("%s: '%s', wanted '%s'", name, v ? v : "(none)", want);
}

static const char *const lists[] = {
	"list_name\tname\tlabel",
	"yn\tyes\t是", "yn\tno\t否",
	"need\tfinancing\t融资", "need\tip\t知识产权", "need\tdigital\t数字化",
	NULL};

static void test_types(void **state)
{
	static const char *const survey[] = {
		"type\tname\tlabel\tcalculation",
		"integer\ti\t整数", "decimal\td\t小数", "date\tdt\t日期", "time\ttm\t时间",
		"datetime\tdtm\t日期时间", "select_one yn\ts1\t单选", "select_multiple need\tsm\t多选",
		"select_one yn or_other\tso\t其他", "geopoint\tg\t位置", "text\tt\t文本",
		"barcode\tb\t条码", "acknowledge\tack\t确认", "image\tphoto\t照片",
		"calculate\tc\t\t${i} * 2", "hidden\th", "note\tn\t说明", "today\tday",
		NULL};
	tidu_form *f = make("types", survey, lists);
	tidu_answers *a = tidu_answers_new(f, &env_zh);
	tidu_answers_pos bad;
	char *big;

	(void)state;
	ok(a, "i", "42");
	is(a, "i", NULL, "42");
	is(a, "c", NULL, "84");
	ok(a, "i", "+7");
	is(a, "i", NULL, "7");
	is(a, "c", NULL, "14");
	ok(a, "i", " -0 ");
	is(a, "i", NULL, "0");
	ok(a, "i", "9223372036854775807");
	no(a, "i", NULL, "9223372036854775808", "not a whole number");
	no(a, "i", NULL, "1.5", "not a whole number");
	no(a, "i", NULL, "abc", "invalid answer to 'i'");
	ok(a, "i", "");
	is(a, "i", NULL, NULL);
	is(a, "c", NULL, "NaN"); /* '' * 2, as XPath says */

	ok(a, "d", "1e3");
	is(a, "d", NULL, "1000");
	ok(a, "d", "1.50");
	is(a, "d", NULL, "1.5");
	no(a, "d", NULL, "inf", "not a number");
	no(a, "d", NULL, "nan", "not a number");
	no(a, "d", NULL, "1,5", "not a number");

	ok(a, "dt", "2024-02-29");
	no(a, "dt", NULL, "2025-02-29", "not a date");
	no(a, "dt", NULL, "2025-1-1", "not a date");

	ok(a, "tm", "09:30");
	is(a, "tm", NULL, "09:30:00");
	ok(a, "tm", "23:59:59");
	no(a, "tm", NULL, "24:00", "not a time");
	no(a, "tm", NULL, "9:30", "not a time");

	ok(a, "dtm", "2025-06-01T08:30");
	is(a, "dtm", NULL, "2025-06-01T08:30:00");
	ok(a, "dtm", "2025-06-01 08:30:15+08:00");
	is(a, "dtm", NULL, "2025-06-01T08:30:15+08:00");
	ok(a, "dtm", "2025-06-01T08:30:15Z");
	no(a, "dtm", NULL, "2025-06-01T25:00", "not a date and time");
	no(a, "dtm", NULL, "2025-02-30T01:00", "not a date and time");
	no(a, "dtm", NULL, "2025-06-01T08:30+8", "not a date and time");

	ok(a, "s1", "yes");
	no(a, "s1", NULL, "maybe", "'maybe' is not a choice offered here");
	no(a, "s1", NULL, "yes no", "choose one");
	no(a, "s1", NULL, "other", "'other' is not a choice"); /* no or_other */

	ok(a, "sm", "ip  financing");
	is(a, "sm", NULL, "financing ip"); /* the list's order */
	no(a, "sm", NULL, "ip ip", "'ip' is chosen twice");
	no(a, "sm", NULL, "ip xx", "'xx' is not a choice");

	ok(a, "g", "34.75 113.62");
	is(a, "g", NULL, "34.75 113.62");
	ok(a, "g", "34.75 113.62 100 5.0");
	is(a, "g", NULL, "34.75 113.62 100 5");
	no(a, "g", NULL, "91 0", "latitude");
	no(a, "g", NULL, "0 181", "latitude");
	no(a, "g", NULL, "0 0 0 -1", "accuracy");
	no(a, "g", NULL, "1", "not a point");
	no(a, "g", NULL, "1 2 3 4 5", "not a point");
	no(a, "g", NULL, "north east", "not a point");

	ok(a, "t", " 第一行\n第二行\t! ");
	is(a, "t", NULL, " 第一行\n第二行\t! "); /* text is kept as typed */
	no(a, "t", NULL, "a\001b", "control characters");
	no(a, "t", NULL, "a\033[2Jb", "control characters");
	no(a, "t", NULL, "\xff", "not valid UTF-8");
	big = malloc(TIDU_ANSWERS_MAX_TEXT + 2);
	memset(big, 'x', TIDU_ANSWERS_MAX_TEXT + 1);
	big[TIDU_ANSWERS_MAX_TEXT + 1] = '\0';
	no(a, "t", NULL, big, "longer than 64 KiB");
	big[TIDU_ANSWERS_MAX_TEXT] = '\0';
	ok(a, "t", big);
	free(big);

	ok(a, "b", "6901234567892");
	no(a, "b", NULL, "a\nb", "control characters");

	ok(a, "ack", "1");
	is(a, "ack", NULL, "OK");
	no(a, "ack", NULL, "yes", "acknowledge");

	ok(a, "photo", "/home/officer/照片 1.jpg");
	is(a, "photo", NULL, "/home/officer/照片 1.jpg");
	ok(a, "h", "x");

	no(a, "c", NULL, "3", "'c' is calculated");
	no(a, "n", NULL, "3", "'n' is a note or a group");
	no(a, "day", NULL, "2020-01-01", "'day' is filled by tidu");
	is(a, "day", NULL, "2026-01-05");

	/* or_other: the code, then the text that says what it is */
	ok(a, "so", "other");
	is(a, "so", NULL, "other");
	assert_int_equal(tidu_answers_check(a, &bad), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "'so': say what 'other' is");
	assert_int_equal(bad.q, Q(a, "so"));
	assert_int_equal(tidu_answers_set_other(a, Q(a, "so"), NULL, "也许"), 0);
	assert_string_equal(tidu_answers_get_other(a, Q(a, "so"), NULL), "也许");
	assert_int_equal(tidu_answers_check(a, &bad), 0);
	assert_int_equal(tidu_answers_set_other(a, Q(a, "s1"), NULL, "x"), TIDU_EINVAL);

	tidu_answers_free(a);
	tidu_form_free(f);
}

static const char *const logic[] = {
	"type\tname\tlabel::zh\tlabel::en\trequired\trequired_message::zh\trelevant\tconstraint\t"
	"constraint_message::zh\tconstraint_message::en\tcalculation\tdefault\tread_only",
	"integer\temployees\t人数\tEmployees\tyes\t\t\t. >= 0\t人数须为非负整数\tmust not be negative",
	"integer\trd\t研发人员\tR&D staff\tyes\t请填研发人员数\t\t. <= ${employees}",
	"select_one yn\thas_ip\t有无专利\tPatents?\tyes",
	"integer\tip_count\t专利数\tPatents\t\t\t${has_ip} = 'yes'\t. >= 1",
	"begin group\tfin\t财务\tFinance\t\t\t${employees} > 10",
	"decimal\trevenue\t收入\tRevenue\tyes",
	"end group",
	"calculate\tc3\t\t\t\t\t\t\t\t\t${c2} + 1",
	"calculate\tc2\t\t\t\t\t\t\t\t\t${employees} * 10",
	"text\tnote_t\t备注\tRemarks\t\t\t\t\t\t\t\t默认文本",
	"integer\tn_def\t次数\tTimes\t\t\t\t\t\t\t\t5",
	"text\tfixed\t固定\tFixed\t\t\t\t\t\t\t\t定值\tyes",
	NULL};

static void test_logic(void **state)
{
	tidu_form *f = make("logic", logic, lists);
	tidu_answers *a = tidu_answers_new(f, &env_zh), *en = tidu_answers_new(f, &env_en);
	tidu_answers_pos bad;

	(void)state;
	/* constraint messages in the response's language; a generic one names the rule */
	no(a, "employees", NULL, "-1", "'employees': 人数须为非负整数");
	no(en, "employees", NULL, "-1", "'employees': must not be negative");
	ok(a, "employees", "3");
	is(a, "employees", NULL, "3");
	no(a, "rd", NULL, "5", "'rd' does not meet its constraint: . <= ${employees}");
	is(a, "rd", NULL, NULL); /* the old value stays */
	ok(a, "rd", "2");

	/* calculations in dependency order (c3 is before c2 in the form) and redone */
	is(a, "c2", NULL, "30");
	is(a, "c3", NULL, "31");
	ok(a, "employees", "4");
	is(a, "c2", NULL, "40");
	is(a, "c3", NULL, "41");

	/* defaults; read_only */
	is(a, "note_t", NULL, "默认文本");
	is(a, "n_def", NULL, "5");
	is(a, "fixed", NULL, "定值");
	no(a, "fixed", NULL, "x", "'fixed' is read-only");

	/* relevant on a question */
	no(a, "ip_count", NULL, "2", "question 'ip_count' is not asked here (its relevant is false)");
	ok(a, "has_ip", "yes");
	no(a, "ip_count", NULL, "0", "'ip_count' does not meet its constraint");
	ok(a, "ip_count", "2");
	assert_int_equal(tidu_answers_relevant(a, Q(a, "ip_count"), NULL), 1);

	/* relevant on a group: revenue is asked when employees > 10 */
	no(a, "revenue", NULL, "100", "question 'revenue' is not asked here");
	assert_int_equal(tidu_answers_check(a, &bad), 0); /* not asked: not required */
	ok(a, "employees", "20");
	assert_int_equal(tidu_answers_check(a, &bad), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "'revenue' is required");
	assert_int_equal(bad.q, Q(a, "revenue"));
	ok(a, "revenue", "100.5");
	assert_int_equal(tidu_answers_check(a, &bad), 0);

	/* required, with the form's message */
	ok(a, "rd", "");
	assert_int_equal(tidu_answers_check(a, &bad), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "'rd': 请填研发人员数");
	assert_int_equal(bad.q, Q(a, "rd"));
	ok(a, "rd", "15");

	/* a constraint broken by a change elsewhere */
	ok(a, "employees", "12");
	assert_int_equal(tidu_answers_check(a, &bad), TIDU_EINVAL);
	assert_int_equal(bad.q, Q(a, "rd"));
	ok(a, "employees", "20");
	assert_int_equal(tidu_answers_check(a, &bad), 0);

	/* not relevant any more: kept, ignored, cleared at finalize */
	ok(a, "has_ip", "no");
	is(a, "ip_count", NULL, "2");
	assert_int_equal(tidu_answers_relevant(a, Q(a, "ip_count"), NULL), 0);
	assert_int_equal(tidu_answers_finalize(a, "2026-01-05T10:00:00+08:00", &bad), 0);
	is(a, "ip_count", NULL, NULL);
	is(a, "revenue", NULL, "100.5");

	tidu_answers_free(en);
	tidu_answers_free(a);
	tidu_form_free(f);
}

static const char *const reps[] = {
	"type\tname\tlabel\trepeat_count\tcalculation",
	"integer\tn_kids\t孩子数",
	"begin repeat\tkids\t孩子\t${n_kids}",
	"text\tkname\t名字",
	"calculate\tkpos\t\t\tposition(..)",
	"integer\tage\t年龄",
	"end repeat",
	"calculate\ttotal_age\t\t\tsum(${age})",
	"calculate\tnk\t\t\tcount(${kids})",
	"begin repeat\tproducts\t产品",
	"text\tpname\t名称",
	"decimal\tprice\t价格",
	"calculate\tpl\t\t\tconcat(${pname}, '#', position(..))",
	"end repeat",
	"calculate\tpsum\t\t\tsum(${price})",
	"calculate\tpcount\t\t\tcount(${products})",
	"calculate\tfirst_p\t\t\t${pname}",
	NULL};

static void test_repeats(void **state)
{
	tidu_form *f = make("reps", reps, NULL);
	tidu_answers *a = tidu_answers_new(f, &env_zh);
	tidu_answers_at top = {0}, i1 = {1, {1}}, i2 = {1, {2}}, i5 = {1, {5}}, at;
	tidu_answers_pos p, p2;
	tidu_buf b = TIDU_BUF_INIT;
	size_t pos, q;

	(void)state;
	/* repeat_count: the number of instances follows n_kids ('' is 0) */
	assert_int_equal(tidu_answers_count(a, Q(a, "kids"), &top), 0);
	is(a, "nk", NULL, "0");
	ok(a, "n_kids", "2");
	assert_int_equal(tidu_answers_count(a, Q(a, "kids"), &top), 2);
	is(a, "nk", NULL, "2");
	assert_int_equal(tidu_answers_add(a, Q(a, "kids"), &top, &pos), TIDU_EINVAL);
	tidu_error_clear();
	is(a, "kpos", &i1, "1");
	is(a, "kpos", &i2, "2");
	assert_int_equal(tidu_answers_set(a, Q(a, "age"), &i1, "3"), 0);
	assert_int_equal(tidu_answers_set(a, Q(a, "age"), &i2, "5"), 0);
	is(a, "total_age", NULL, "8");
	ok(a, "n_kids", "1");
	assert_int_equal(tidu_answers_count(a, Q(a, "kids"), &top), 1);
	is(a, "total_age", NULL, "3");

	/* add and remove; positions, count and sum across instances */
	assert_int_equal(tidu_answers_add(a, Q(a, "products"), NULL, &pos), 0);
	assert_int_equal(pos, 1);
	assert_int_equal(tidu_answers_add(a, Q(a, "products"), NULL, &pos), 0);
	assert_int_equal(pos, 2);
	assert_int_equal(tidu_answers_set(a, Q(a, "pname"), &i1, "甲"), 0);
	assert_int_equal(tidu_answers_set(a, Q(a, "pname"), &i2, "乙"), 0);
	assert_int_equal(tidu_answers_set(a, Q(a, "price"), &i1, "1.5"), 0);
	assert_int_equal(tidu_answers_set(a, Q(a, "price"), &i2, "2"), 0);
	is(a, "psum", NULL, "3.5");
	is(a, "pcount", NULL, "2");
	is(a, "pl", &i2, "乙#2");
	is(a, "first_p", NULL, "甲");
	no(a, "pname", &i5, "丙", "'products[5]/pname': no such repeat instance");
	no(a, "pname", NULL, "丙", "no such repeat instance");
	assert_int_equal(tidu_answers_remove(a, Q(a, "products"), NULL, 1), 0);
	is(a, "pcount", NULL, "1");
	is(a, "pname", &i1, "乙");
	is(a, "pl", &i1, "乙#1");
	is(a, "psum", NULL, "2");

	/* paths */
	tidu_answers_path(a, Q(a, "pname"), &i1, &b);
	assert_string_equal(tidu_buf_cstr(&b), "products[1]/pname");
	tidu_buf_free(&b);
	assert_int_equal(tidu_answers_parse_path(a, "products[1]/pname", &q, &at), 0);
	assert_int_equal(q, Q(a, "pname"));
	assert_int_equal(at.n, 1);
	assert_int_equal(at.pos[0], 1);
	assert_int_equal(tidu_answers_parse_path(a, "products[3]", &q, &at), 0);
	assert_int_equal(q, Q(a, "products"));
	assert_int_equal(at.pos[0], 3);
	assert_int_equal(tidu_answers_parse_path(a, "n_kids", &q, &at), 0);
	assert_int_equal(at.n, 0);
	assert_int_equal(tidu_answers_parse_path(a, "pname", &q, &at), TIDU_EINVAL);
	assert_int_equal(tidu_answers_parse_path(a, "products[0]/pname", &q, &at), TIDU_EINVAL);
	assert_int_equal(tidu_answers_parse_path(a, "kids[1]/pname", &q, &at), TIDU_EINVAL);
	tidu_error_clear();

	/* navigation: n_kids, kids[1]/kname, kids[1]/age, the products prompt... */
	assert_int_equal(tidu_answers_next(a, NULL, &p), 1);
	assert_int_equal(p.q, Q(a, "n_kids"));
	assert_int_equal(tidu_answers_next(a, &p, &p), 1);
	assert_int_equal(p.q, Q(a, "kname"));
	assert_int_equal(p.at.n, 1);
	assert_int_equal(p.at.pos[0], 1);
	assert_int_equal(tidu_answers_next(a, &p, &p), 1);
	assert_int_equal(p.q, Q(a, "age"));
	assert_int_equal(tidu_answers_next(a, &p, &p), 1);
	assert_int_equal(p.q, Q(a, "pname")); /* products[1] */
	assert_int_equal(tidu_answers_next(a, &p, &p), 1);
	assert_int_equal(p.q, Q(a, "price"));
	assert_int_equal(tidu_answers_next(a, &p, &p), 1);
	assert_int_equal(p.q, Q(a, "products")); /* "add another?" */
	assert_int_equal(p.at.n, 0);
	assert_int_equal(tidu_answers_next(a, &p, &p2), 0); /* the end */
	assert_int_equal(tidu_answers_prev(a, &p, &p2), 1);
	assert_int_equal(p2.q, Q(a, "price"));
	assert_int_equal(tidu_answers_first_unanswered(a, &p2), 1);
	assert_int_equal(p2.q, Q(a, "kname"));
	/* after adding: from the start of the new instance */
	assert_int_equal(tidu_answers_add(a, Q(a, "products"), NULL, &pos), 0);
	p.at.n = 1;
	p.at.pos[0] = pos;
	assert_int_equal(tidu_answers_next(a, &p, &p2), 1);
	assert_int_equal(p2.q, Q(a, "pname"));
	assert_int_equal(p2.at.pos[0], 2);

	tidu_answers_free(a);
	tidu_form_free(f);
}

static void test_choice_filter(void **state)
{
	static const char *const survey[] = {
		"type\tname\tlabel\tchoice_filter",
		"select_one county\tcounty\t县",
		"select_one town\ttown\t镇\tcounty = ${county}",
		"select_multiple town\ttowns\t镇\tcounty = ${county} or name = 'x1'",
		NULL};
	static const char *const choices[] = {
		"list_name\tname\tlabel\tcounty",
		"county\tc1\t县一", "county\tc2\t县二",
		"town\tt1\t镇一\tc1", "town\tt2\t镇二\tc1", "town\tt3\t镇三\tc2", "town\tx1\t特\tc9",
		NULL};
	tidu_form *f = make("filter", survey, choices);
	tidu_answers *a = tidu_answers_new(f, &env_zh);
	const tidu_form_choice **ch;
	tidu_answers_pos bad;
	size_t n;

	(void)state;
	assert_int_equal(tidu_answers_choices(a, Q(a, "town"), NULL, &ch, &n), 0);
	assert_int_equal(n, 0);
	free(ch);
	ok(a, "county", "c1");
	assert_int_equal(tidu_answers_choices(a, Q(a, "town"), NULL, &ch, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ch[0]->name, "t1");
	assert_string_equal(ch[1]->name, "t2");
	free(ch);
	assert_int_equal(tidu_answers_choices(a, Q(a, "towns"), NULL, &ch, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ch[2]->name, "x1");
	free(ch);
	no(a, "town", NULL, "t3", "'t3' is not a choice offered here");
	ok(a, "town", "t1");
	ok(a, "towns", "x1 t2");
	is(a, "towns", NULL, "t2 x1");
	assert_int_equal(tidu_answers_check(a, &bad), 0);
	ok(a, "county", "c2");
	assert_int_equal(tidu_answers_check(a, &bad), TIDU_EINVAL);
	assert_int_equal(bad.q, Q(a, "town"));
	tidu_error_clear();
	tidu_answers_free(a);
	tidu_form_free(f);
}

/* The JSON of `a`, compact; the caller frees. */
static char *to_json(tidu_answers *a)
{
	tidu_buf b = TIDU_BUF_INIT;
	tidu_json_writer w;

	tidu_json_writer_init(&w, &b, 0);
	if (tidu_answers_to_json(a, &w) < 0 || tidu_json_writer_finish(&w) < 0)
		fail_msg("to_json: %s", tidu_error_message());
	return tidu_buf_detach(&b);
}

/* Loads `json` into a new response of f: 0 or the error. */
static int from_json(const tidu_form *f, const char *json, tidu_answers **out)
{
	tidu_json *doc = NULL;
	int rc;

	if (tidu_json_parse(json, strlen(json), &doc) < 0)
		fail_msg("bad test JSON: %s", tidu_error_message());
	*out = tidu_answers_new(f, &env_zh);
	rc = tidu_answers_from_json(*out, doc);
	tidu_json_free(doc);
	return rc;
}

static void json_bad(const tidu_form *f, const char *json, const char *want)
{
	tidu_answers *a;

	assert_int_equal(from_json(f, json, &a), TIDU_EINVAL);
	if (!strstr(tidu_error_message(), want))
		fail_msg("%s: got '%s', wanted '%s'", json, tidu_error_message(), want);
	tidu_error_clear();
	tidu_answers_free(a);
}

static void test_json(void **state)
{
	tidu_form *f = make("json", logic, lists), *r = make("json-reps", reps, NULL);
	tidu_answers *a, *b;
	char *out, *again;
	static const char want[] =
		"{\"employees\":20,\"rd\":15,\"has_ip\":\"yes\",\"ip_count\":2,\"revenue\":123.5,"
		"\"c3\":\"201\",\"c2\":\"200\",\"note_t\":\"企业名称:郑州·测试 \\\"引号\\\"\\n第二行\","
		"\"n_def\":null,\"fixed\":\"定值\"}";

	(void)state;
	/* in any order: ip_count before has_ip; numbers as strings or numbers */
	if (from_json(f, "{\"ip_count\": 2, \"has_ip\": \"yes\", \"employees\": 20, \"rd\": \"15\","
			 " \"revenue\": 123.50, \"note_t\": \"企业名称:郑州·测试 \\\"引号\\\"\\n第二行\","
			 " \"n_def\": null}", &a) < 0)
		fail_msg("%s", tidu_error_message());
	assert_int_equal(tidu_answers_check(a, NULL), 0);
	out = to_json(a);
	assert_string_equal(out, want);
	/* the round trip: the same bytes */
	assert_int_equal(from_json(f, out, &b), 0);
	again = to_json(b);
	assert_string_equal(again, out);
	free(again);
	free(out);
	tidu_answers_free(b);
	tidu_answers_free(a);

	json_bad(f, "{\"nobody\": 1}", "'nobody' names no question of the form");
	json_bad(f, "{\"employees\": 5, \"revenue\": 1}",
		 "question 'revenue' is not asked here (its relevant is false)");
	json_bad(f, "{\"ip_count\": 1}", "question 'ip_count' is not asked here");
	json_bad(f, "{\"employees\": 1, \"c2\": \"99\"}", "'c2' is calculated (10), not '99'");
	json_bad(f, "{\"employees\": 1.5}", "invalid answer to 'employees': not a whole number");
	json_bad(f, "{\"employees\": -1}", "'employees': 人数须为非负整数");
	json_bad(f, "{\"employees\": [1]}", "a value of the wrong JSON type");
	json_bad(f, "{\"fixed\": \"x\"}", "'fixed' is read-only");
	json_bad(f, "[]", "must be a JSON object");

	/* repeats as arrays of objects */
	if (from_json(r, "{\"n_kids\": 2, \"kids\": [{\"kname\": \"大毛\", \"age\": 7},"
			 " {\"kname\": \"二毛\", \"age\": 5}], \"products\": [{\"pname\": \"甲\","
			 " \"price\": \"1.5\"}]}", &a) < 0)
		fail_msg("%s", tidu_error_message());
	is(a, "total_age", NULL, "12");
	is(a, "psum", NULL, "1.5");
	out = to_json(a);
	assert_string_equal(out,
		"{\"n_kids\":2,\"kids\":[{\"kname\":\"大毛\",\"kpos\":\"1\",\"age\":7},"
		"{\"kname\":\"二毛\",\"kpos\":\"2\",\"age\":5}],\"total_age\":\"12\",\"nk\":\"2\","
		"\"products\":[{\"pname\":\"甲\",\"price\":1.5,\"pl\":\"甲#1\"}],\"psum\":\"1.5\","
		"\"pcount\":\"1\",\"first_p\":\"甲\"}");
	assert_int_equal(from_json(r, out, &b), 0);
	again = to_json(b);
	assert_string_equal(again, out);
	free(again);
	free(out);
	tidu_answers_free(b);
	tidu_answers_free(a);
	json_bad(r, "{\"n_kids\": 1, \"kids\": [{\"age\": 1}, {\"age\": 2}]}",
		 "'kids' has 2 instances, but its repeat_count says 1");
	json_bad(r, "{\"products\": [{\"nobody\": 1}]}", "'products[1]/nobody' names no question");
	json_bad(r, "{\"pname\": \"x\"}", "'pname': 'pname' is not at this level of the form");
	json_bad(r, "{\"products\": {\"pname\": \"x\"}}", "give an array of objects");

	tidu_form_free(r);
	tidu_form_free(f);
}

static void test_sample(void **state)
{
	tidu_form *f = NULL;
	tidu_answers *a;
	tidu_kv *kv;
	size_t n;
	char *out;

	(void)state;
	if (tidu_form_read(TIDU_SOURCE_DIR "/tests/data/forms/sample.xlsx", &f) < 0)
		fail_msg("%s", tidu_error_message());
	if (from_json(f, "{\"employees\": 120, \"rd_staff\": 30, \"has_ip\": \"yes\","
			 " \"ip_count\": 3, \"needs\": [\"ip\", \"financing\"], \"field\": \"other\","
			 " \"field_other\": \"新材料\", \"revenue\": 5000.5, \"products\":"
			 " [{\"product_name\": \"传感器\"}, {\"product_name\": \"控制器\"}],"
			 " \"where\": \"34.7466 113.6253\", \"photo\": \"/home/officer/photo.jpg\"}",
			 &a) < 0)
		fail_msg("%s", tidu_error_message());
	is(a, "rd_share", NULL, "25");
	assert_int_equal(tidu_answers_finalize(a, "2026-01-05T09:30:00+08:00", NULL), 0);
	out = to_json(a);
	assert_string_equal(out,
		"{\"started\":\"2026-01-05T09:00:00+08:00\",\"day\":\"2026-01-05\","
		"\"device\":\"dev-1\",\"officer\":\"王警官\",\"employees\":120,\"rd_staff\":30,"
		"\"rd_share\":\"25\",\"has_ip\":\"yes\",\"ip_count\":3,"
		"\"needs\":[\"financing\",\"ip\"],\"field\":\"other\",\"field_other\":\"新材料\","
		"\"revenue\":5000.5,\"products\":[{\"product_name\":\"传感器\"},"
		"{\"product_name\":\"控制器\"}],\"where\":\"34.7466 113.6253\","
		"\"photo\":\"/home/officer/photo.jpg\",\"ended\":\"2026-01-05T09:30:00+08:00\"}");
	free(out);
	assert_int_equal(tidu_answers_save_to(a, &kv, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(kv[0].key, "employees");
	assert_string_equal(kv[0].value, "120");
	assert_string_equal(kv[1].key, "rd_staff");
	assert_string_equal(kv[1].value, "30");
	assert_string_equal(kv[2].key, "2025.revenue");
	assert_string_equal(kv[2].value, "5000.5");
	free(kv);
	tidu_answers_free(a);

	/* product_name is required in each instance */
	assert_int_equal(from_json(f, "{\"employees\": 1, \"rd_staff\": 0, \"has_ip\": \"no\","
				  " \"revenue\": 1, \"products\": [{}]}", &a), 0);
	assert_int_equal(tidu_answers_check(a, NULL), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "'products[1]/product_name' is required");
	tidu_error_clear();
	tidu_answers_free(a);
	tidu_form_free(f);
}

static void test_tier1(void **state)
{
	tidu_form *f = NULL;
	tidu_answers *a;
	tidu_kv *kv;
	size_t n, i;

	(void)state;
	if (tidu_form_read(TIDU_SOURCE_DIR "/schema/forms/tier1-self-check.xlsx", &f) < 0)
		fail_msg("%s", tidu_error_message());
	if (from_json(f, "{\"ip1\": 5, \"ip1_self\": 3, \"ip1_hv\": 1, \"ip2\": 10,"
			 " \"rev_2024\": 900, \"rev_2025\": 1000, \"main_rev_2024\": 640,"
			 " \"main_rev_2025\": 800, \"rd_2024\": 50, \"rd_2025\": 60,"
			 " \"assets_2025\": 2000, \"liab_2025\": 900,"
			 " \"main_product\": \"高精度压力传感器(工业过程控制)\","
			 " \"product_field\": \"strategic_emerging\", \"high_tech\": \"1\","
			 " \"st_award\": \"none\", \"rd_inst\": \"city\", \"equity_2023\": 100,"
			 " \"equity_2024\": 200, \"equity_2025\": 300}", &a) < 0)
		fail_msg("%s", tidu_error_message());
	assert_int_equal(tidu_answers_check(a, NULL), 0);
	is(a, "rd_share_2025", NULL, "6");
	is(a, "main_share_2025", NULL, "80");
	is(a, "main_growth_2025", NULL, "25");
	is(a, "debt_2025", NULL, "45");
	is(a, "equity_3y", NULL, "600");
	assert_int_equal(tidu_answers_relevant(a, Q(a, "s_direct"), NULL), 1);
	assert_int_equal(tidu_answers_save_to(a, &kv, &n), 0);
	assert_int_equal(n, 20);
	assert_string_equal(kv[0].key, "ip_class1");
	assert_string_equal(kv[0].value, "5");
	for (i = 0; i < n && strcmp(kv[i].key, "2025.total_liabilities"); i++)
		;
	assert_true(i < n);
	assert_string_equal(kv[i].value, "900");
	free(kv);
	/* the constraint of ip1_self against ip1 */
	no(a, "ip1_self", NULL, "6", "'ip1_self': 应在 0 到 1000000 之间;不能超过Ⅰ类知识产权总数");
	tidu_answers_free(a);
	/* a missing required answer */
	assert_int_equal(from_json(f, "{\"ip1\": 5}", &a), 0);
	assert_int_equal(tidu_answers_check(a, NULL), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(), "'ip1_self' is required");
	tidu_error_clear();
	tidu_answers_free(a);
	tidu_form_free(f);
}

static int setup(void **state)
{
	(void)state;
	tidu_i18n_set("en");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tidu-answers.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_rmtree(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_logic),
		cmocka_unit_test(test_repeats),
		cmocka_unit_test(test_choice_filter),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_tier1),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
