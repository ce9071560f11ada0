/* Unit tests: store.h, dict.h, record.h, firm.h, visit.h, export.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "helpers.h"
#include "tidu/alloc.h"
#include "tidu/dict.h"
#include "tidu/export.h"
#include "tidu/firm.h"
#include "tidu/home.h"
#include "tidu/keyfile.h"
#include "tidu/record.h"
#include "tidu/store.h"
#include "tidu/visit.h"

#define PASS "unit test passphrase"
#define FIRM_A "91410105MA1J8T9H5M"

typedef struct {
	char dir[64];
	tidu_store *s;
} fixture;

static int setup(void **state)
{
	fixture *f = tidu_calloc(1, sizeof(*f));
	char recovery[TIDU_RECOVERY_TEXT_MAX];
	tidu_store_identity id = {"410105", "王芳", "officer"};

	snprintf(f->dir, sizeof(f->dir), "/tmp/tidu-unit.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(tidu_home_create(&f->s, f->dir, &id, PASS, strlen(PASS),
					  NULL, NULL, recovery, sizeof(recovery)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	tidu_store_free(f->s);
	th_rmtree(f->dir);
	free(f);
	unsetenv("TIDU_FAKE_NOW_MS");
	return 0;
}

static char *text(tidu_store *s, const char *sql)
{
	sqlite3_stmt *st;
	char *v = NULL;

	assert_int_equal(sqlite3_prepare_v2(tidu_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = tidu_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

/* Every dictionary field has its column, and every column its field. */
static void test_dictionary_matches_schema(void **state)
{
	fixture *f = *state;
	static const char *const entities[] = {"firm", "firm_year", "visit"};
	size_t e, i;

	for (e = 0; e < 3; e++) {
		const tidu_field *fd;
		sqlite3_stmt *st;
		char sql[128];
		size_t ncols = 0, nfields = 0;

		for (i = 0; (fd = tidu_dict_nth(entities[e], i)); i++) {
			nfields++;
			assert_non_null(fd->zh);
			assert_true(strlen(fd->zh) > 0 && strlen(fd->en) > 0);
			if (fd->type == TIDU_T_ENUM || fd->type == TIDU_T_SET)
				assert_true(strlen(tidu_dict_choice_values(fd->choices)) > 0);
		}
		snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('%s')",
			 entities[e]);
		assert_int_equal(sqlite3_prepare_v2(tidu_store_db(f->s), sql, -1, &st, NULL), 0);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *col = (const char *)sqlite3_column_text(st, 0);

			if (col[0] == '_' || !strcmp(col, "id") ||
			    (e == 1 && (!strcmp(col, "uscc") || !strcmp(col, "year"))))
				continue;
			ncols++;
			if (!tidu_dict_field(entities[e], col))
				fail_msg("column %s.%s is not in the dictionary", entities[e], col);
		}
		sqlite3_finalize(st);
		assert_int_equal(ncols, nfields);
	}
	assert_non_null(tidu_dict_district_name("410173"));
	assert_true(tidu_dict_is_city("410100")); /* the city is not a district */
	assert_false(tidu_dict_is_city("410105"));
}

static void test_write_logs_fields_with_clocks(void **state)
{
	fixture *f = *state;
	tidu_kv kv[] = {{"name", "甲公司"}, {"employees", "120"}, {"2025.revenue", "1234.50"}};
	tidu_kv kv2[] = {{"employees", "130"}};
	char *fields, *clock;
	int64_t hlc1, hlc2;

	assert_int_equal(tidu_firm_add(f->s, FIRM_A, kv, 3, NULL), 0);
	/* One change row for the firm, one for its 2025 figures. */
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM change WHERE seq IS NULL"), 2);
	fields = text(f->s, "SELECT fields FROM change WHERE entity='firm_year'");
	assert_string_equal(fields, "[[\"revenue\",\"1234.5\",\"\"]]");
	free(fields);
	hlc1 = th_scalar(f->s, "SELECT hlc FROM change WHERE entity='firm'");
	assert_true(hlc1 > 0);
	assert_int_equal(th_scalar(f->s, "SELECT employees FROM firm"), 120);

	assert_int_equal(tidu_firm_set(f->s, FIRM_A, kv2, 1), 0);
	hlc2 = th_scalar(f->s, "SELECT max(hlc) FROM change");
	assert_true(hlc2 > hlc1);
	/* The base of the new value is the clock of the value it replaced. */
	fields = text(f->s, "SELECT fields FROM change ORDER BY id DESC LIMIT 1");
	{
		char want[128];

		snprintf(want, sizeof(want), "[[\"employees\",\"130\",\"%lld:%s\"]]",
			 (long long)hlc1, tidu_store_device(f->s));
		assert_string_equal(fields, want);
	}
	free(fields);
	clock = text(f->s, "SELECT _clock FROM firm");
	assert_non_null(strstr(clock, "employees\t"));
	assert_non_null(strstr(clock, tidu_store_device(f->s)));
	free(clock);
}

static void test_hlc_never_goes_back(void **state)
{
	fixture *f = *state;
	int64_t a, b, c;

	setenv("TIDU_FAKE_NOW_MS", "1900000000000", 1);
	assert_int_equal(tidu_store_begin(f->s), 0);
	assert_int_equal(tidu_store_hlc_next(f->s, 0, &a), 0);
	/* The laptop's clock is set back by a day. */
	setenv("TIDU_FAKE_NOW_MS", "1899913600000", 1);
	assert_int_equal(tidu_store_hlc_next(f->s, 0, &b), 0);
	assert_int_equal(tidu_store_hlc_next(f->s, 0, &c), 0);
	assert_int_equal(tidu_store_commit(f->s), 0);
	assert_true(a >> 16 == 1900000000000LL);
	assert_int_equal(b, a + 1);
	assert_int_equal(c, b + 1);
}

static void test_bad_pair_changes_nothing(void **state)
{
	fixture *f = *state;
	tidu_kv ok[] = {{"name", "甲"}, {"ip_class1", "2"}};
	tidu_kv bad1[] = {{"employees", "5"}, {"founded", "2025-02-29"}};
	tidu_kv bad2[] = {{"employees", "5"}, {"ip_class1_self", "3"}};
	tidu_kv bad3[] = {{"2025.revenue", "10"}, {"2025.main_revenue", "11"}};
	int64_t changes;

	assert_int_equal(tidu_firm_add(f->s, FIRM_A, ok, 2, NULL), 0);
	changes = th_scalar(f->s, "SELECT count(*) FROM change");
	assert_int_equal(tidu_firm_set(f->s, FIRM_A, bad1, 2), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "founded"));
	assert_int_equal(tidu_firm_set(f->s, FIRM_A, bad2, 2), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "ip_class1_self"));
	assert_int_equal(tidu_firm_set(f->s, FIRM_A, bad3, 2), TIDU_EINVAL);
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM change"), changes);
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM firm WHERE employees IS NULL"), 1);
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM firm_year"), 0);
	assert_int_equal(tidu_firm_add(f->s, FIRM_A, ok, 2, NULL), TIDU_EEXISTS);
	assert_int_equal(tidu_firm_set(f->s, "91410102MA1EUXG90Q", ok, 1), TIDU_ENOTFOUND);
}

static void test_canonical_values(void **state)
{
	static const struct {
		const char *entity, *key, *in, *out;
	} cases[] = {
		{"firm_year", "revenue", "1234.50", "1234.5"},
		{"firm_year", "revenue", "1e3", "1000"},
		{"firm", "iso_cert", "是", "1"},
		{"firm", "iso_cert", "No", "0"},
		{"firm", "industry", "3484", "C3484"},
		{"firm", "industry", "c3484", "C3484"},
		{"visit", "problems", "weak_ip，industry_mismatch、weak_ip", "industry_mismatch,weak_ip"},
		{"firm", "uscc", " 91410105ma1j8t9h5m ", FIRM_A},
	};
	static const struct {
		const char *entity, *key, *in;
	} bad[] = {
		{"firm", "employees", "12abc"}, {"firm_year", "revenue", "1e999"},
		{"firm", "founded", "2025-02-29"}, {"firm", "product_field", "gold"},
		{"firm", "industry", "C9999"}, {"firm", "industry", "A13"},
		{"firm", "district", "410100"}, {"firm", "chain", "C99"},
		{"firm", "digital_level", "7"}, {"firm", "phone", "abc"},
		{"visit", "needs", "ip,money"},
	};
	tidu_buf out = TIDU_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const tidu_field *fd = tidu_dict_field(cases[i].entity, cases[i].key);

		assert_non_null(fd);
		assert_int_equal(tidu_dict_canonical(fd, cases[i].in, &out), 0);
		assert_string_equal(out.ptr, cases[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const tidu_field *fd = tidu_dict_field(bad[i].entity, bad[i].key);

		assert_non_null(fd);
		if (tidu_dict_canonical(fd, bad[i].in, &out) != TIDU_EINVAL)
			fail_msg("accepted %s=%s", bad[i].key, bad[i].in);
	}
	tidu_buf_free(&out);
}

static void test_visit_and_export(void **state)
{
	fixture *f = *state;
	tidu_kv firm[] = {{"name", "甲"}};
	tidu_kv v[] = {{"note", "第一次\n走访"}, {"problems", "weak_ip"}};
	char id1[TIDU_UUID_LEN + 1], id2[TIDU_UUID_LEN + 1];
	const char *p1, *p2;
	tidu_buf a = TIDU_BUF_INIT, b = TIDU_BUF_INIT;

	assert_int_equal(tidu_visit_add(f->s, FIRM_A, v, 2, id1), TIDU_ENOTFOUND);
	assert_int_equal(tidu_firm_add(f->s, FIRM_A, firm, 1, NULL), 0);
	assert_int_equal(tidu_visit_add(f->s, FIRM_A, v, 2, id1), 0);
	assert_int_equal(tidu_visit_add(f->s, FIRM_A, NULL, 0, id2), 0);
	assert_true(strcmp(id1, id2) < 0);
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM visit WHERE kind='first'"), 1);
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM visit WHERE kind='follow_up'"), 1);
	assert_int_equal(tidu_export_json(f->s, NULL, th_collect, &a), 0);
	assert_int_equal(tidu_export_json(f->s, NULL, th_collect, &b), 0);
	assert_string_equal(a.ptr, b.ptr);
	assert_non_null(strstr(a.ptr, "\"note\": \"第一次\\n走访\""));
	p1 = strstr(a.ptr, id1);
	p2 = strstr(a.ptr, id2);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_true(p1 < p2);
	tidu_buf_free(&a);
	tidu_buf_free(&b);
}

static void test_reopen_and_passphrases(void **state)
{
	fixture *f = *state;
	tidu_kv firm[] = {{"name", "郑州甲"}};
	tidu_store *s = NULL;
	char device[32];

	assert_int_equal(tidu_firm_add(f->s, FIRM_A, firm, 1, NULL), 0);
	snprintf(device, sizeof(device), "%s", tidu_store_device(f->s));
	assert_int_equal(tidu_store_set_passphrase(f->s, "new passphrase", 14), 0);
	tidu_store_free(f->s);
	f->s = NULL;
	assert_int_equal(tidu_home_open(&s, f->dir, PASS, strlen(PASS)), TIDU_EPASS);
	assert_null(s);
	assert_int_equal(tidu_home_open(&f->s, f->dir, "new passphrase", 14), 0);
	assert_string_equal(tidu_store_device(f->s), device);
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM firm WHERE name='郑州甲'"), 1);
	assert_int_equal(tidu_home_check(f->dir, "new passphrase", 14), 0);
}

static void merge_all(tidu_store *s, const int *order, size_t n)
{
	static const tidu_merge_field f1[] = {{"name", "甲", ""}, {"uscc", FIRM_A, ""},
					      {"district", "410105", ""}};
	static const tidu_merge_field f2[] = {{"name", "乙", ""}};
	static const tidu_merge_field f3[] = {{"employees", "5", ""}};
	static const tidu_merge_field f4[] = {{"revenue", "12.5", ""}};
	static const struct {
		const char *entity, *key;
		int64_t hlc;
		const char *device;
		const tidu_merge_field *f;
		size_t n;
	} changes[] = {
		{"firm", FIRM_A, 100LL << 16, "aaaaaaaaaaaaaaaa", f1, 3},
		{"firm", FIRM_A, 101LL << 16, "bbbbbbbbbbbbbbbb", f2, 1},
		{"firm", FIRM_A, 102LL << 16, "aaaaaaaaaaaaaaaa", f3, 1},
		{"firm_year", FIRM_A "/2025", 103LL << 16, "bbbbbbbbbbbbbbbb", f4, 1},
	};
	size_t i;

	assert_int_equal(tidu_store_begin(s), 0);
	for (i = 0; i < n; i++) {
		int k = order[i];

		assert_int_equal(tidu_record_merge(s, changes[k].entity, changes[k].key,
			changes[k].hlc, changes[k].device, changes[k].f, changes[k].n,
			NULL), 0);
	}
	assert_int_equal(tidu_store_commit(s), 0);
}

/* Any order, with duplicates, gives the same state and the same conflicts. */
static void test_merge_converges(void **state)
{
	fixture *f = *state;
	tidu_store *other = NULL;
	char dir[64], recovery[TIDU_RECOVERY_TEXT_MAX];
	tidu_store_identity id = {"410102", "李雷", "officer"};
	static const int forward[] = {0, 1, 2, 3};
	static const int backward[] = {3, 2, 1, 0, 1, 3, 0};
	tidu_buf a = TIDU_BUF_INIT, b = TIDU_BUF_INIT;
	char *lost;

	snprintf(dir, sizeof(dir), "/tmp/tidu-unit.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tidu_home_create(&other, dir, &id, PASS, strlen(PASS), NULL,
					  NULL, recovery, sizeof(recovery)), 0);
	merge_all(f->s, forward, 4);
	merge_all(other, backward, 7);
	assert_int_equal(tidu_export_json(f->s, NULL, th_collect, &a), 0);
	assert_int_equal(tidu_export_json(other, NULL, th_collect, &b), 0);
	assert_string_equal(a.ptr, b.ptr);
	assert_non_null(strstr(a.ptr, "\"name\": \"乙\""));
	assert_non_null(strstr(a.ptr, "\"employees\": 5"));
	assert_non_null(strstr(a.ptr, "\"revenue\": 12.5"));
	/* 甲 and 乙 were written from the same (empty) base: a conflict. */
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM conflict"), 1);
	assert_int_equal(th_scalar(other, "SELECT count(*) FROM conflict"), 1);
	lost = text(other, "SELECT lost_value FROM conflict");
	assert_string_equal(lost, "甲");
	free(lost);
	lost = text(f->s, "SELECT lost_value || '/' || value FROM conflict");
	assert_string_equal(lost, "甲/乙");
	free(lost);
	/*
	 * A laptop a year ahead wrote the name; a later local edit still wins
	 * (its HLC passes the one it replaces) and is no conflict.
	 */
	{
		tidu_kv kv[] = {{"name", "丙"}};
		int64_t ahead = (1900000000000LL + 365LL * 86400000) << 16, ms = 0;
		tidu_merge_field fut[] = {{"name", "未来", ""}};

		setenv("TIDU_FAKE_NOW_MS", "1900000000000", 1);
		assert_int_equal(tidu_store_begin(f->s), 0);
		assert_int_equal(tidu_record_merge(f->s, "firm", FIRM_A, ahead,
			"cccccccccccccccc", fut, 1, NULL), 0);
		assert_int_equal(tidu_store_hlc_observe(f->s, ahead, &ms), 0);
		assert_int_equal(ms, 365LL * 86400000);
		assert_int_equal(tidu_store_commit(f->s), 0);
		assert_int_equal(tidu_firm_set(f->s, FIRM_A, kv, 1), 0);
		assert_true(th_scalar(f->s, "SELECT max(hlc) FROM change") > ahead);
		assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM firm WHERE name='丙'"), 1);
		assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM conflict"), 2);
	}
	tidu_buf_free(&a);
	tidu_buf_free(&b);
	tidu_store_free(other);
	th_rmtree(dir);
}

/* Three rows, a distinct text per n: after one step it is busy. */
static sqlite3_stmt *three_rows(tidu_store *s, int n)
{
	char sql[160];

	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
		 "WHERE x < 3) SELECT x + %d FROM c", n);
	return tidu_store_stmt(s, sql);
}

/* A cached statement being stepped outlives any number of others. */
static void test_stmt_cache_keeps_busy(void **state)
{
	fixture *f = *state;
	int64_t want = th_scalar(f->s, "SELECT count(*) FROM meta");
	sqlite3_stmt *outer = tidu_store_stmt(f->s, "SELECT key FROM meta ORDER BY key");
	int64_t rows = 0;
	int i;

	assert_non_null(outer);
	assert_int_equal(sqlite3_step(outer), SQLITE_ROW);
	rows++;
	for (i = 0; i < 100; i++) {
		sqlite3_stmt *st = three_rows(f->s, i);

		assert_non_null(st);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), i + 1);
		sqlite3_reset(st);
	}
	/* The old first-in first-out cache had finalized it by now. */
	while (sqlite3_step(outer) == SQLITE_ROW)
		rows++;
	assert_int_equal(rows, want);
	assert_true(want >= 5);
}

/* More statements busy at once than the cache has slots: it grows. */
static void test_stmt_cache_grows(void **state)
{
	fixture *f = *state;
	sqlite3_stmt *held[80];
	int i, n = (int)(sizeof(held) / sizeof(held[0]));

	for (i = 0; i < n; i++) {
		held[i] = three_rows(f->s, 10 * i);
		assert_non_null(held[i]);
		assert_int_equal(sqlite3_step(held[i]), SQLITE_ROW);
	}
	for (i = 0; i < n; i++)
		assert_non_null(three_rows(f->s, 10 * i + 5)); /* idle ones */
	for (i = 0; i < n; i++) {
		assert_int_equal(sqlite3_step(held[i]), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(held[i], 0), 10 * i + 2);
		assert_int_equal(sqlite3_step(held[i]), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(held[i], 0), 10 * i + 3);
		assert_int_equal(sqlite3_step(held[i]), SQLITE_DONE);
		sqlite3_reset(held[i]);
	}
}

/*
 * A statement in constant use stays cached (the same statement, which has
 * run every time) however many others pass through; the others do not
 * pile up.
 */
static void test_stmt_cache_least_recently_used(void **state)
{
	fixture *f = *state;
	const char *hot_sql = "SELECT count(*) FROM meta WHERE key <> ''";
	sqlite3_stmt *hot = tidu_store_stmt(f->s, hot_sql), *st;
	int i, n = 0;

	assert_non_null(hot);
	for (i = 0; i < 200; i++) {
		assert_ptr_equal(tidu_store_stmt(f->s, hot_sql), hot);
		assert_int_equal(sqlite3_stmt_status(hot, SQLITE_STMTSTATUS_RUN, 0), i);
		assert_int_equal(sqlite3_step(hot), SQLITE_ROW);
		assert_int_equal(sqlite3_step(hot), SQLITE_DONE);
		sqlite3_reset(hot);
		assert_non_null(three_rows(f->s, 1000 + i));
	}
	for (st = sqlite3_next_stmt(tidu_store_db(f->s), NULL); st;
	     st = sqlite3_next_stmt(tidu_store_db(f->s), st))
		n++;
	assert_true(n <= 32);
}

/* A creation that fails at any step leaves nothing behind. */
static void test_home_create_all_or_nothing(void **state)
{
	char dir[64], recovery[TIDU_RECOVERY_TEXT_MAX], path[128];
	tidu_store_identity id = {"410105", "王芳", "officer"};
	static const char *const files[] = {"tidu.db", "tidu.db-wal", "tidu.db-shm"};
	tidu_store *s = NULL;
	size_t i;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tidu-unit.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tidu_home_create(&s, dir, &id, "1234567", 7, NULL, NULL,
					  recovery, sizeof(recovery)), TIDU_EPASS);
	assert_string_equal(tidu_error_message(),
			    "the passphrase is too short: use at least 8 characters");
	assert_null(s);
	assert_false(tidu_store_exists(dir));
	assert_int_equal(tidu_home_create(&s, dir, &id, PASS, strlen(PASS), NULL,
					  "nonsense://remote", recovery,
					  sizeof(recovery)), TIDU_EINVAL);
	assert_null(s);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (access(path, F_OK) == 0)
			fail_msg("%s was left behind", path);
	}
	assert_int_equal(tidu_home_create(&s, dir, &id, "12345678", 8, NULL, NULL,
					  recovery, sizeof(recovery)), 0);
	assert_int_equal(tidu_store_set_passphrase(s, "1234567", 7), TIDU_EPASS);
	tidu_store_free(s);
	assert_int_equal(tidu_home_open(&s, dir, "12345678", 8), 0);
	tidu_store_free(s);
	th_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dictionary_matches_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_logs_fields_with_clocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hlc_never_goes_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_pair_changes_nothing, setup, teardown),
		cmocka_unit_test(test_canonical_values),
		cmocka_unit_test_setup_teardown(test_visit_and_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_and_passphrases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_converges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stmt_cache_keeps_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stmt_cache_grows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stmt_cache_least_recently_used, setup,
						teardown),
		cmocka_unit_test(test_home_create_all_or_nothing),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
