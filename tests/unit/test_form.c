/*
 * Unit tests: form.h (XLSForm workbooks into forms). The sample form
 * (tests/data/forms/sample.form.txt) as written by python3-openpyxl
 * (tools/xlsform) and as re-saved by LibreOffice; the bad ones are written
 * here by libxlsxwriter, a third writer, one problem each.
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
#include "tidu/form.h"

#define DATA TIDU_SOURCE_DIR "/tests/data/forms/"

static void check_sample(const char *path)
{
	tidu_form *f = NULL;
	const tidu_form_question *q;
	size_t i;

	if (tidu_form_read(path, &f) < 0)
		fail_msg("%s: %s", path, tidu_error_message());
	assert_string_equal(f->id, "sample");
	assert_string_equal(f->version, "2026120301");
	assert_string_equal(tidu_form_text_get(f, &f->title, NULL), "样例问卷");
	assert_int_equal(f->nlangs, 2);
	assert_string_equal(f->langs[f->default_lang], "zh");
	/* every row but the two 'end' rows is a question; ends are kept */
	assert_int_equal(f->nq, 21);
	i = tidu_form_find(f, "employees");
	assert_true(i != TIDU_FORM_TOP);
	q = &f->q[i];
	assert_int_equal(q->type, TIDU_Q_INTEGER);
	assert_int_equal(q->required, 1);
	assert_string_equal(tidu_form_text_get(f, &q->label, "zh"), "从业人员数");
	assert_string_equal(tidu_form_text_get(f, &q->label, "en"), "Employees");
	assert_string_equal(tidu_form_text_get(f, &q->hint, "en"), "年末人数"); /* falls back */
	assert_string_equal(q->save_to, "employees");
	assert_non_null(q->constraint);
	assert_string_equal(tidu_form_text_get(f, &q->constraint_message, NULL), "人数须为非负整数");
	q = &f->q[tidu_form_find(f, "rd_share")];
	assert_int_equal(q->type, TIDU_Q_CALCULATE);
	assert_int_equal(tidu_expr_ref_count(q->calculation), 2);
	q = &f->q[tidu_form_find(f, "ip_count")];
	assert_non_null(q->relevant);
	assert_string_equal(tidu_expr_ref(q->relevant, 0), "has_ip");
	q = &f->q[tidu_form_find(f, "field")];
	assert_int_equal(q->type, TIDU_Q_SELECT_ONE);
	assert_true(q->or_other);
	assert_string_equal(q->list->name, "field");
	assert_int_equal(q->list->n, 2);
	q = &f->q[tidu_form_find(f, "needs")];
	assert_int_equal(q->type, TIDU_Q_SELECT_MULTIPLE);
	assert_string_equal(tidu_form_text_get(f, &q->list->choices[2].label, "en"), "Digital");
	/* groups and repeats: parents and ends */
	i = tidu_form_find(f, "revenue");
	assert_int_equal(f->q[f->q[i].parent].type, TIDU_Q_BEGIN_GROUP);
	assert_string_equal(f->q[f->q[i].parent].name, "finance");
	assert_string_equal(f->q[i].save_to, "2025.revenue");
	i = tidu_form_find(f, "product_name");
	assert_int_equal(f->q[f->q[i].parent].type, TIDU_Q_BEGIN_REPEAT);
	assert_int_equal(f->q[f->q[f->q[i].parent].end].type, TIDU_Q_END_REPEAT);
	assert_int_equal(f->q[tidu_form_find(f, "photo")].type, TIDU_Q_FILE);
	assert_string_equal(f->q[tidu_form_find(f, "photo")].media, "image");
	assert_int_equal(f->q[tidu_form_find(f, "device")].type, TIDU_Q_DEVICEID);
	assert_int_equal(f->q[tidu_form_find(f, "where")].type, TIDU_Q_GEOPOINT);
	tidu_form_free(f);
}

static void test_sample_openpyxl(void **state)
{
	(void)state;
	check_sample(DATA "sample.xlsx");
}

static void test_sample_libreoffice(void **state)
{
	(void)state;
	check_sample(DATA "sample-libreoffice.xlsx");
}

static char tmpdir[64];

static const char *make(const char *name, const char *const *survey, const char *const *choices,
			const char *const *settings)
{
	return xs_workbook(tmpdir, name, survey, choices, settings);
}

/* Reading `path` fails with a message holding `want`. */
static void expect_bad(const char *path, const char *want)
{
	tidu_form *f = NULL;

	assert_int_equal(tidu_form_read(path, &f), TIDU_EINVAL);
	assert_null(f);
	if (!strstr(tidu_error_message(), want))
		fail_msg("got '%s', wanted '%s'", tidu_error_message(), want);
	tidu_error_clear();
}

static const char *const yn[] = {"list_name\tname\tlabel", "yn\tyes\t是", "yn\tno\t否", NULL};

static void test_aliases_and_defaults(void **state)
{
	static const char *const survey[] = {
		"Type\tName\tLabel:English\tLabel:中文\tRelevance\tReadOnly",
		"select one from yn\tq1\tQuestion one\t问题一",
		"select all that apply from yn\tq2\tTwo\t二\t${q1}='yes'",
		"phone number\tphone",
		"begin lgroup\tloop\tLoop",
		"text\tt\tT\t题\t\tyes",
		"end lgroup",
		"dateTime\twhen\tWhen\t时间",
		NULL};
	static const char *const choices[] = {"list name\tvalue\tcaption", "yn\tyes\tYes",
					      "yn\tno\tNo", NULL};
	tidu_form *f = NULL;
	const char *path = make("my-form_v2", survey, choices, NULL);

	(void)state;
	if (tidu_form_read(path, &f) < 0)
		fail_msg("%s", tidu_error_message());
	assert_string_equal(f->id, "my-form_v2"); /* from the file name */
	assert_string_equal(f->version, "1");
	assert_int_equal(f->q[0].type, TIDU_Q_SELECT_ONE);
	assert_int_equal(f->q[1].type, TIDU_Q_SELECT_MULTIPLE);
	assert_non_null(f->q[1].relevant);
	assert_int_equal(f->q[2].type, TIDU_Q_PHONENUMBER);
	assert_int_equal(f->q[3].type, TIDU_Q_BEGIN_REPEAT);
	assert_int_equal(f->q[4].read_only, 1);
	assert_int_equal(f->q[6].type, TIDU_Q_DATETIME);
	assert_string_equal(tidu_form_text_get(f, &f->q[0].label, "en"), "Question one");
	assert_string_equal(tidu_form_text_get(f, &f->q[0].label, "zh"), "问题一");
	tidu_form_free(f);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_bad(make("nosurvey", NULL, NULL, NULL), "has no 'survey' sheet");
	expect_bad(make("pull", (const char *const[]){"type\tname\tlabel\tcalculation",
		"calculate\tx\t\tpulldata('f', 'a', 'b', 'c')", NULL}, NULL, NULL),
		   "sheet 'survey' cell D2 (calculation): 'pulldata' is not supported");
	expect_bad(make("ext", (const char *const[]){"type\tname\tlabel",
		"select_one_from_file towns.csv\tt\tTown", NULL}, NULL, NULL),
		   "cell A2 (type): 'select_one_from_file towns.csv': selects from external files");
	expect_bad(make("osm", (const char *const[]){"type\tname\tlabel", "osm\tb\tBuilding", NULL},
			NULL, NULL), "cell A2 (type): question type 'osm' is not supported");
	expect_bad(make("unknown", (const char *const[]){"type\tname\tlabel",
		"texty\tb\tB", NULL}, NULL, NULL), "unknown question type 'texty'");
	expect_bad(make("nolist", (const char *const[]){"type\tname\tlabel",
		"select_one colours\tc\tColour", NULL}, yn, NULL),
		   "choice list 'colours' is not on the choices sheet");
	expect_bad(make("dup", (const char *const[]){"type\tname\tlabel",
		"text\ta\tA", "integer\ta\tB", NULL}, NULL, NULL),
		   "cell B3 (name): the name 'a' is used twice (rows 2 and 3)");
	expect_bad(make("unclosed", (const char *const[]){"type\tname\tlabel",
		"begin group\tg\tG", "text\ta\tA", NULL}, NULL, NULL), "'g' is never closed");
	expect_bad(make("badend", (const char *const[]){"type\tname\tlabel",
		"begin group\tg\tG", "end repeat", NULL}, NULL, NULL),
		   "cell A3 (type): 'end repeat' cannot close the open group 'g' (row 2)");
	expect_bad(make("noopen", (const char *const[]){"type\tname\tlabel",
		"text\ta\tA", "end group", NULL}, NULL, NULL), "'end group' closes no open group");
	expect_bad(make("ref", (const char *const[]){"type\tname\tlabel\trelevant",
		"text\ta\tA\t${nobody} = 1", NULL}, NULL, NULL),
		   "cell D2 (relevant): ${nobody} names no question of the form");
	expect_bad(make("cycle", (const char *const[]){"type\tname\tlabel\tcalculation",
		"calculate\ta\t\t${b} + 1", "calculate\tb\t\t${c} + 1", "calculate\tc\t\t${a} * 2",
		NULL}, NULL, NULL), "a cycle: ${a} -> ${b} -> ${c} -> ${a}");
	expect_bad(make("self", (const char *const[]){"type\tname\tlabel\trelevant",
		"integer\ta\tA\t${a} > 1", NULL}, NULL, NULL), "a cycle: ${a} -> ${a}");
	expect_bad(make("groupcycle", (const char *const[]){"type\tname\tlabel\trelevant",
		"begin group\tg\tG\t${a} > 1", "integer\ta\tA", "end group", NULL}, NULL, NULL),
		   "a cycle: ${g} -> ${a} -> ${g}");
	expect_bad(make("badname", (const char *const[]){"type\tname\tlabel",
		"text\t1abc\tA", NULL}, NULL, NULL), "'1abc' is not a valid name");
	expect_bad(make("nolabel", (const char *const[]){"type\tname\tlabel",
		"text\ta", NULL}, NULL, NULL), "'a' has no label");
	expect_bad(make("saveto", (const char *const[]){"type\tname\tlabel\tsave_to",
		"integer\ta\tA\tno_such_field", NULL}, NULL, NULL),
		   "cell D2 (save_to): 'no_such_field' is not a firm field");
	expect_bad(make("savetype", (const char *const[]){"type\tname\tlabel\tsave_to",
		"date\ta\tA\temployees", NULL}, NULL, NULL), "a date question cannot fill 'employees'");
	expect_bad(make("parse", (const char *const[]){"type\tname\tlabel\tconstraint",
		"integer\ta\tA\t(. > 1", NULL}, NULL, NULL), "cell D2 (constraint)");
	expect_bad(make("dupchoice", (const char *const[]){"type\tname\tlabel",
		"select_one yn\ta\tA", NULL}, (const char *const[]){"list_name\tname\tlabel",
		"yn\tyes\tY", "yn\tyes\tY2", NULL}, NULL), "choice 'yes' appears twice in list 'yn'");
	expect_bad(make("url", (const char *const[]){"type\tname\tlabel", "text\ta\tA", NULL},
		NULL, (const char *const[]){"form_id\tsubmission_url", "x\thttps://example.org", NULL}),
		   "submission_url and public_key are not supported");
	expect_bad(make("dupcol", (const char *const[]){"type\tname\tlabel\tname",
		"text\ta\tA\tb", NULL}, NULL, NULL), "cell D1: the column 'name' appears twice (also B1)");
	expect_bad(make("duplabel", (const char *const[]){"type\tname\tlabel::zh\tlabel::zh",
		"text\ta\tA\tB", NULL}, NULL, NULL), "the column 'label::zh' appears twice");
	expect_bad(make("dupchoicecol", (const char *const[]){"type\tname\tlabel",
		"select_one yn\ta\tA", NULL}, (const char *const[]){"list_name\tname\tvalue\tlabel",
		"yn\tyes\tyes\tY", NULL}, NULL),
		   "sheet 'choices' cell C1: the column 'value' appears twice (also B1)");
	expect_bad(DATA "sample.form.txt", "sample.form.txt"); /* not a workbook at all */
	/* a choice_filter's bare names are columns of the choices sheet */
	expect_bad(make("filter", (const char *const[]){"type\tname\tlabel\tchoice_filter",
		"select_one yn\tq\tQ\tnosuch = 'x'", NULL}, yn, NULL),
		   "(choice_filter): 'nosuch' is not a column of the choices sheet");
	expect_bad(make("bare", (const char *const[]){"type\tname\tlabel\trelevant",
		"select_one yn\tq\tQ\tname = 'x'", NULL}, yn, NULL),
		   "(write a question as ${name})");
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tidu-form.XXXXXX");
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
		cmocka_unit_test(test_sample_openpyxl),
		cmocka_unit_test(test_sample_libreoffice),
		cmocka_unit_test(test_aliases_and_defaults),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
