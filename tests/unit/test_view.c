/*
 * Unit tests: view.h — reading records back: the typed query filters (uscc,
 * district, literal search, order), live rows only, bad input, loading one
 * record, and the record accessors.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "tidu/alloc.h"
#include "tidu/firm.h"
#include "tidu/json.h"
#include "tidu/record.h"
#include "tidu/store.h"
#include "tidu/uscc.h"
#include "tidu/view.h"

#define PASS "view unit passphrase"

typedef struct {
	char dir[64];
	tidu_store *s;
	char a[TIDU_USCC_LEN + 1]; /* of 410105: name with %, contact with _ */
	char b[TIDU_USCC_LEN + 1]; /* of 410102: sorts before a */
} fixture;

/* A valid USCC from its first 17 characters. */
static void make_uscc(const char *first17, char out[TIDU_USCC_LEN + 1])
{
	snprintf(out, TIDU_USCC_LEN + 1, "%s%c", first17, tidu_uscc_check_char(first17));
	assert_int_equal(tidu_uscc_validate(out, out), 0);
}

static void add_firm(tidu_store *s, const char *uscc, const tidu_kv *kv, size_t n)
{
	if (tidu_firm_add(s, uscc, kv, n, NULL) < 0)
		fail_msg("adding %s: %s", uscc, tidu_error_message());
}

static int setup(void **state)
{
	fixture *f = tidu_calloc(1, sizeof(*f));
	const tidu_kv ka[] = {{"name", "Alpha 100% Works"}, {"contact", "Li_Wei"},
			      {"main_product", "widgets"}};
	const tidu_kv kb[] = {{"name", "Beta"}, {"district", "410102"},
			      {"main_product", "gears"}, {"contact", "Wang"}};
	/* Years set out of order: the key order must sort them. */
	const tidu_kv years[] = {{"2024.revenue", "200"}, {"2023.revenue", "100"}};

	/* Firms of two districts: only the city's store files both (firm.h). */
	f->s = th_store(f->dir, "view", "410100", "city", PASS);
	make_uscc("91410105MA1J8T9H5", f->a);
	make_uscc("91410102MA1EUXG90", f->b);
	add_firm(f->s, f->a, ka, 3);
	add_firm(f->s, f->b, kb, 4);
	assert_int_equal(tidu_firm_set(f->s, f->a, years, 2), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	tidu_store_free(f->s);
	th_rmtree(f->dir);
	free(f);
	return 0;
}

/* The USCCs of the rows `filter` selects from "firm", comma-separated. */
static void firm_usccs(tidu_store *s, const tidu_query_filter *filter, tidu_buf *out)
{
	tidu_query *q = NULL;
	tidu_rec r = TIDU_REC_INIT;
	int rc;

	tidu_buf_clear(out);
	assert_int_equal(tidu_view_query_open(s, "firm", filter, &q), 0);
	while ((rc = tidu_view_query_next(q, &r)) > 0)
		tidu_buf_printf(out, "%s%s", out->len ? "," : "", tidu_view_rec_get(&r, "uscc"));
	assert_int_equal(rc, 0);
	tidu_view_rec_clear(&r);
	tidu_view_query_free(q);
}

static void test_order_and_district(void **state)
{
	fixture *f = *state;
	tidu_query_filter all = {NULL, NULL, NULL, TIDU_ORDER_KEY};
	tidu_query_filter d105 = {NULL, "410105", NULL, TIDU_ORDER_KEY};
	tidu_query_filter none = {NULL, "410181", NULL, TIDU_ORDER_KEY};
	tidu_query_filter one = {NULL, NULL, NULL, TIDU_ORDER_KEY};
	tidu_buf got = TIDU_BUF_INIT, want = TIDU_BUF_INIT;

	tidu_buf_printf(&want, "%s,%s", f->b, f->a);
	firm_usccs(f->s, &all, &got);
	assert_string_equal(got.ptr, want.ptr);
	firm_usccs(f->s, NULL, &got); /* no filter: every live firm */
	assert_int_equal(got.len, want.len);
	firm_usccs(f->s, &d105, &got);
	assert_string_equal(got.ptr, f->a);
	firm_usccs(f->s, &none, &got);
	assert_int_equal(got.len, 0);
	one.uscc = f->b;
	firm_usccs(f->s, &one, &got);
	assert_string_equal(got.ptr, f->b);
	tidu_buf_free(&got);
	tidu_buf_free(&want);
}

static void test_search_is_literal(void **state)
{
	fixture *f = *state;
	tidu_query_filter q = {NULL, NULL, NULL, TIDU_ORDER_KEY};
	tidu_buf got = TIDU_BUF_INIT;

	/* '_' and '%' are not wildcards: only the firm that has them matches. */
	q.search = "_";
	firm_usccs(f->s, &q, &got);
	assert_string_equal(got.ptr, f->a);
	q.search = "%";
	firm_usccs(f->s, &q, &got);
	assert_string_equal(got.ptr, f->a);
	q.search = "gears"; /* main product */
	firm_usccs(f->s, &q, &got);
	assert_string_equal(got.ptr, f->b);
	q.search = "Wang"; /* contact */
	firm_usccs(f->s, &q, &got);
	assert_string_equal(got.ptr, f->b);
	q.search = "MA1EUX"; /* part of the USCC */
	firm_usccs(f->s, &q, &got);
	assert_string_equal(got.ptr, f->b);
	q.search = "Alpha";
	q.district = "410102"; /* both filters: none matches */
	firm_usccs(f->s, &q, &got);
	assert_int_equal(got.len, 0);
	tidu_buf_free(&got);
}

static void test_years_in_key_order(void **state)
{
	fixture *f = *state;
	tidu_query_filter q = {f->a, NULL, NULL, TIDU_ORDER_KEY};
	tidu_query *it = NULL;
	tidu_rec r = TIDU_REC_INIT;

	assert_int_equal(tidu_view_query_open(f->s, "firm_year", &q, &it), 0);
	assert_int_equal(tidu_view_query_next(it, &r), 1);
	assert_int_equal(r.year, 2023);
	assert_string_equal(tidu_view_rec_get(&r, "revenue"), "100");
	assert_int_equal(tidu_view_query_next(it, &r), 1);
	assert_int_equal(r.year, 2024);
	assert_int_equal(tidu_view_query_next(it, &r), 0);
	tidu_view_query_free(it);
	/* Firm b has no yearly figures. */
	q.uscc = f->b;
	assert_int_equal(tidu_view_query_open(f->s, "firm_year", &q, &it), 0);
	assert_int_equal(tidu_view_query_next(it, &r), 0);
	tidu_view_query_free(it);
	tidu_view_rec_clear(&r);
}

static void test_deleted_rows_are_not_listed(void **state)
{
	fixture *f = *state;
	tidu_buf got = TIDU_BUF_INIT;
	tidu_rec r = TIDU_REC_INIT;

	assert_int_equal(tidu_firm_delete(f->s, f->b), 0);
	firm_usccs(f->s, NULL, &got);
	assert_string_equal(got.ptr, f->a);
	assert_int_equal(tidu_view_rec_load(f->s, "firm", f->b, &r), TIDU_ENOTFOUND);
	tidu_buf_free(&got);
	tidu_view_rec_clear(&r);
}

static void test_bad_input(void **state)
{
	fixture *f = *state;
	tidu_query_filter district = {NULL, "410105", NULL, TIDU_ORDER_NONE};
	tidu_query_filter search = {NULL, NULL, "x", TIDU_ORDER_NONE};
	tidu_query *q = (tidu_query *)1;

	assert_int_equal(tidu_view_query_open(f->s, "nosuch", NULL, &q), TIDU_EINVAL);
	assert_null(q);
	assert_non_null(strstr(tidu_error_message(), "nosuch"));
	/* Only firms have a district and searchable text. */
	assert_int_equal(tidu_view_query_open(f->s, "firm_year", &district, &q), TIDU_EINVAL);
	assert_null(q);
	assert_int_equal(tidu_view_query_open(f->s, "visit", &search, &q), TIDU_EINVAL);
	assert_null(q);
	tidu_view_query_free(NULL);
}

static void test_load_and_accessors(void **state)
{
	fixture *f = *state;
	tidu_rec r = TIDU_REC_INIT;
	tidu_buf key = TIDU_BUF_INIT, out = TIDU_BUF_INIT, text = TIDU_BUF_INIT;
	tidu_json_writer w;

	assert_int_equal(tidu_view_rec_load(f->s, "firm", f->a, &r), 0);
	assert_string_equal(r.entity, "firm");
	assert_string_equal(tidu_view_rec_get(&r, "contact"), "Li_Wei");
	assert_string_equal(tidu_view_rec_get(&r, "district"), "410105"); /* the store's */
	assert_null(tidu_view_rec_get(&r, "phone"));   /* unset */
	assert_null(tidu_view_rec_get(&r, "no_such")); /* unknown */
	tidu_view_value_display(tidu_dict_field("firm", "name"), tidu_view_rec_get(&r, "name"), &text);
	assert_string_equal(tidu_buf_cstr(&text), "Alpha 100% Works");
	tidu_view_value_display(tidu_dict_field("firm", "name"), NULL, &text);
	assert_int_equal(text.len, 0);
	tidu_json_writer_init(&w, &out, 0);
	tidu_json_begin_object(&w);
	assert_int_equal(tidu_view_rec_json_members(&r, &w), 0);
	tidu_json_end_object(&w);
	assert_int_equal(tidu_json_writer_finish(&w), 0);
	assert_non_null(strstr(out.ptr, "\"contact\":\"Li_Wei\""));
	assert_non_null(strstr(out.ptr, "\"phone\":null"));
	tidu_view_rec_clear(&r);
	assert_int_equal(r.n, 0);

	tidu_buf_printf(&key, "%s/2024", f->a);
	assert_int_equal(tidu_view_rec_load(f->s, "firm_year", key.ptr, &r), 0);
	assert_int_equal(r.year, 2024);
	tidu_buf_clear(&key);
	tidu_buf_printf(&key, "%s/1999", f->a);
	assert_int_equal(tidu_view_rec_load(f->s, "firm_year", key.ptr, &r), TIDU_ENOTFOUND);
	tidu_view_rec_clear(&r);
	tidu_buf_free(&key);
	tidu_buf_free(&out);
	tidu_buf_free(&text);
}

/* Numbers kept beside the text: found by field, what the text reads as. */
static void test_numbers_and_find(void **state)
{
	fixture *f = *state;
	const tidu_kv kv[] = {{"employees", "12"}, {"2024.rd_expense", "12.25"}};
	const tidu_field *employees = tidu_dict_field("firm", "employees");
	const tidu_field *name = tidu_dict_field("firm", "name");
	const tidu_field *phone = tidu_dict_field("firm", "phone");
	const tidu_field *rd = tidu_dict_field("firm_year", "rd_expense");
	tidu_field copy = *employees;
	tidu_buf key = TIDU_BUF_INIT;
	tidu_rec r = TIDU_REC_INIT;
	long k;

	assert_int_equal(tidu_firm_set(f->s, f->a, kv, 2), 0);
	assert_int_equal(tidu_view_rec_load(f->s, "firm", f->a, &r), 0);
	assert_non_null(r.numbers);
	k = tidu_view_rec_find(&r, employees);
	assert_true(k >= 0);
	assert_string_equal(r.fields[k]->key, "employees");
	assert_true(r.numbers[k] == 12);
	assert_int_equal(tidu_view_rec_find(&r, &copy), k); /* by key */
	assert_true(isnan(r.numbers[tidu_view_rec_find(&r, name)]));  /* text */
	assert_true(isnan(r.numbers[tidu_view_rec_find(&r, phone)])); /* unset */
	assert_int_equal(tidu_view_rec_find(&r, rd), -1); /* a firm-year field */
	tidu_buf_printf(&key, "%s/2024", f->a);
	assert_int_equal(tidu_view_rec_load(f->s, "firm_year", key.ptr, &r), 0);
	k = tidu_view_rec_find(&r, rd);
	assert_true(k >= 0);
	assert_string_equal(r.values[k], "12.25");
	assert_true(r.numbers[k] == 12.25);
	tidu_view_rec_clear(&r);
	assert_null(r.numbers);
	tidu_buf_free(&key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_and_district, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_is_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_years_in_key_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_rows_are_not_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_and_accessors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_numbers_and_find, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
