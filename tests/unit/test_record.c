/*
 * Unit tests: record.h — the one write path. Edits validated and put in
 * canonical form (a bad value leaves the edit and the store untouched), a
 * local write with its change-log row, Chinese text stored byte for byte,
 * tombstones, and the merge rules: the greater (hlc, device) wins, a
 * concurrent write of a field with another value is kept as a conflict with
 * both values, re-applying a change changes nothing, and the order of
 * changes does not matter.
 */
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
#include "tidu/changes.h"
#include "tidu/changeset.h"
#include "tidu/conflict.h"
#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/record.h"
#include "tidu/store.h"
#include "tidu/trust.h"

#define PASS "record unit passphrase"
#define FIRM "91410105MA1J8T9H5M"
#define NAME_ZH "郑州市金水区“专精特新”测试有限公司 🙂 ①"

typedef struct {
	char dir[64];
	tidu_store *s; /* an officer of 410105 */
} fixture;

static int setup(void **state)
{
	fixture *f = tidu_calloc(1, sizeof(*f));

	tidu_i18n_set("en");
	f->s = th_store(f->dir, "record", "410105", "officer", PASS);
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

/* The first column of the first row of `sql` as text (the caller's), NULL if none. */
static char *text_of(tidu_store *s, const char *sql)
{
	sqlite3_stmt *st;
	char *v = NULL;

	assert_int_equal(sqlite3_prepare_v2(tidu_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = tidu_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static void assert_text(tidu_store *s, const char *sql, const char *want)
{
	char *v = text_of(s, sql);

	if (!want) {
		if (v)
			fail_msg("%s: '%s', want NULL", sql, v);
		return;
	}
	if (!v)
		fail_msg("%s: NULL, want '%s'", sql, want);
	if (strlen(v) != strlen(want) || memcmp(v, want, strlen(want)))
		fail_msg("%s: '%s', want '%s'", sql, v, want);
	free(v);
}

/* Applies `e` in a transaction of its own; the result of apply. */
static int apply(tidu_store *s, tidu_edit *e)
{
	int rc;

	assert_int_equal(tidu_store_begin(s), 0);
	rc = tidu_record_edit_apply(s, e);
	if (rc == 0)
		assert_int_equal(tidu_store_commit(s), 0);
	else
		tidu_store_rollback(s);
	return rc;
}

/* Merges one one-field change in a transaction of its own; conflicts counted. */
static size_t merge1(tidu_store *s, const char *key, int64_t hlc, const char *device,
		     const char *field, const char *value, const char *base)
{
	tidu_merge_field mf = {field, value, base};
	size_t conflicts = 0;

	assert_int_equal(tidu_store_begin(s), 0);
	if (tidu_record_merge(s, TIDU_ENTITY_FIRM, key, hlc, device, &mf, 1, &conflicts) < 0)
		fail_msg("merge: %s", tidu_error_message());
	assert_int_equal(tidu_store_commit(s), 0);
	return conflicts;
}

static void test_edit_validation(void **state)
{
	tidu_edit *e = tidu_record_edit_new(TIDU_ENTITY_FIRM, FIRM);
	int is_set;

	(void)state;
	assert_string_equal(tidu_record_edit_key(e), FIRM);
	assert_int_equal(tidu_record_edit_count(e), 0);
	assert_int_equal(tidu_record_edit_set(e, "employees", "+0120"), 0);
	assert_string_equal(tidu_record_edit_get(e, "employees", &is_set), "120");
	assert_int_equal(is_set, 1);

	/* Refused values leave the edit as it was, the earlier value included. */
	tidu_error_clear();
	assert_int_equal(tidu_record_edit_set(e, "employees", "120人"), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "invalid value '120人' for 'employees'"));
	assert_string_equal(tidu_record_edit_get(e, "employees", NULL), "120");
	assert_int_equal(tidu_record_edit_set(e, "revenue", "1"), TIDU_EINVAL); /* of firm_year */
	assert_string_equal(tidu_error_message(), "unknown field 'revenue'");
	assert_int_equal(tidu_record_edit_set(e, "niche_share", "101"), TIDU_EINVAL);
	assert_int_equal(tidu_record_edit_count(e), 1);
	assert_null(tidu_record_edit_get(e, "niche_share", &is_set));
	assert_int_equal(is_set, 0);

	/* A value over the change-set limit is refused at the write, naming field and limit. */
	{
		tidu_edit *b = tidu_record_edit_new(TIDU_ENTITY_FIRM, FIRM);
		char *big = tidu_malloc(TIDU_CHANGESET_MAX_STRING + 2);

		memset(big, 'a', TIDU_CHANGESET_MAX_STRING + 1);
		big[TIDU_CHANGESET_MAX_STRING + 1] = '\0';
		assert_int_equal(tidu_record_edit_set(b, "address", big), TIDU_EINVAL);
		assert_non_null(strstr(tidu_error_message(), "field 'address'"));
		assert_non_null(strstr(tidu_error_message(), "limit of 1048576 bytes"));
		assert_int_equal(tidu_record_edit_count(b), 0);
		big[TIDU_CHANGESET_MAX_STRING] = '\0';
		assert_int_equal(tidu_record_edit_set(b, "address", big), 0);
		assert_int_equal(tidu_record_edit_count(b), 1);
		free(big);
		tidu_record_edit_free(b);
	}

	/* A later value of a field replaces the earlier; "" and NULL clear it. */
	assert_int_equal(tidu_record_edit_set(e, "employees", "121"), 0);
	assert_int_equal(tidu_record_edit_count(e), 1);
	assert_string_equal(tidu_record_edit_get(e, "employees", NULL), "121");
	assert_int_equal(tidu_record_edit_set(e, "employees", ""), 0);
	assert_null(tidu_record_edit_get(e, "employees", &is_set));
	assert_int_equal(is_set, 1);
	assert_int_equal(tidu_record_edit_set(e, "name", NULL), 0);
	assert_int_equal(tidu_record_edit_count(e), 2);

	/* put: canonical values unchecked, but the field must exist. */
	assert_int_equal(tidu_record_edit_put(e, "_deleted", "1"), 0);
	assert_int_equal(tidu_record_edit_put(e, "colour", "red"), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(),
			    "unknown field 'colour' of 'firm': made by a newer tidu?");
	assert_int_equal(tidu_record_edit_count(e), 3);
	tidu_record_edit_free(e);
	tidu_record_edit_free(NULL);
}

static void test_apply_roundtrip(void **state)
{
	fixture *f = *state;
	tidu_edit *e = tidu_record_edit_new(TIDU_ENTITY_FIRM, FIRM);
	int64_t pending;
	char *fields;

	assert_int_equal(tidu_record_exists(f->s, TIDU_ENTITY_FIRM, FIRM), 0);
	assert_int_equal(tidu_record_edit_set(e, "uscc", FIRM), 0);
	assert_int_equal(tidu_record_edit_set(e, "name", NAME_ZH), 0);
	assert_int_equal(tidu_record_edit_set(e, "district", "410105"), 0);
	assert_int_equal(tidu_record_edit_set(e, "niche_share", "12.50"), 0);
	assert_int_equal(tidu_record_edit_set(e, "quality_award", "是"), 0);
	assert_int_equal(apply(f->s, e), 0);
	tidu_record_edit_free(e);

	assert_int_equal(tidu_record_exists(f->s, TIDU_ENTITY_FIRM, FIRM), TIDU_RECORD_LIVE);
	assert_text(f->s, "SELECT name FROM firm", NAME_ZH);
	assert_text(f->s, "SELECT typeof(niche_share) || ' ' || niche_share FROM firm",
		    "real 12.5");
	assert_int_equal(th_scalar(f->s, "SELECT quality_award FROM firm"), 1);
	assert_int_equal(th_scalar(f->s,
		"SELECT typeof(quality_award)='integer' FROM firm"), 1);

	/* One change row, by this device, not yet sealed, with the values as set. */
	assert_int_equal(tidu_record_pending(f->s, &pending), 0);
	assert_int_equal(pending, 1);
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM change"), 1);
	assert_int_equal(th_scalar(f->s, "SELECT hlc > 0 FROM change"), 1);
	fields = text_of(f->s, "SELECT device FROM change");
	assert_string_equal(fields, tidu_store_device(f->s));
	free(fields);
	assert_text(f->s, "SELECT entity || ' ' || key FROM change", "firm " FIRM);
	fields = text_of(f->s, "SELECT fields FROM change");
	assert_non_null(strstr(fields, "[\"name\",\"" NAME_ZH "\",\"\"]"));
	assert_non_null(strstr(fields, "[\"niche_share\",\"12.5\",\"\"]"));
	free(fields);

	/* Clearing a field writes NULL, and names the value it replaced as base. */
	e = tidu_record_edit_new(TIDU_ENTITY_FIRM, FIRM);
	assert_int_equal(tidu_record_edit_set(e, "niche_share", ""), 0);
	assert_int_equal(apply(f->s, e), 0);
	tidu_record_edit_free(e);
	assert_text(f->s, "SELECT niche_share FROM firm", NULL);
	assert_text(f->s, "SELECT name FROM firm", NAME_ZH); /* untouched */
	assert_int_equal(tidu_record_pending(f->s, &pending), 0);
	assert_int_equal(pending, 2);
	assert_int_equal(th_scalar(f->s,
		"SELECT fields LIKE '[[\"niche_share\",null,\"' || (SELECT hlc FROM change "
		"WHERE id=1) || ':' || device || '\"]]' FROM change WHERE id=2"), 1);

	/* A firm-year: its key is USCC/year, its real stored as a number. */
	e = tidu_record_edit_new(TIDU_ENTITY_FIRM_YEAR, FIRM "/2025");
	assert_int_equal(tidu_record_edit_set(e, "revenue", "1234.5000"), 0);
	assert_int_equal(apply(f->s, e), 0);
	tidu_record_edit_free(e);
	assert_int_equal(tidu_record_exists(f->s, TIDU_ENTITY_FIRM_YEAR, FIRM "/2025"),
			 TIDU_RECORD_LIVE);
	assert_int_equal(tidu_record_exists(f->s, TIDU_ENTITY_FIRM_YEAR, FIRM "/2024"), 0);
	assert_text(f->s, "SELECT uscc || ' ' || year || ' ' || revenue FROM firm_year",
		    FIRM " 2025 1234.5");
}

static void test_nothing_written(void **state)
{
	fixture *f = *state;
	tidu_edit *e = tidu_record_edit_new(TIDU_ENTITY_FIRM, FIRM);
	int64_t pending = -1;

	/* Only refused values: an empty edit, which writes nothing at all. */
	assert_int_equal(tidu_record_edit_set(e, "founded", "2025-02-29"), TIDU_EINVAL);
	assert_int_equal(tidu_record_edit_set(e, "district", "410100"), TIDU_EINVAL);
	assert_int_equal(tidu_record_edit_count(e), 0);
	assert_int_equal(apply(f->s, e), 0);
	tidu_record_edit_free(e);
	assert_int_equal(tidu_record_exists(f->s, TIDU_ENTITY_FIRM, FIRM), 0);
	assert_int_equal(tidu_record_pending(f->s, &pending), 0);
	assert_int_equal(pending, 0);
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM firm"), 0);

	/* A merge of a field this tidu does not know: refused, no row made. */
	{
		tidu_merge_field mf[] = {{"name", "甲", ""}, {"colour", "red", ""}};
		size_t conflicts = 0;

		assert_int_equal(tidu_store_begin(f->s), 0);
		assert_int_equal(tidu_record_merge(f->s, TIDU_ENTITY_FIRM, FIRM, 100, "dev-a",
						   mf, 2, &conflicts), TIDU_EINVAL);
		assert_string_equal(tidu_error_message(),
				    "unknown field 'colour' of 'firm': made by a newer tidu?");
		assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM firm"), 0);
		assert_int_equal(tidu_record_merge(f->s, "firms", FIRM, 100, "dev-a", mf, 1,
						   &conflicts), TIDU_EINVAL);
		assert_string_equal(tidu_error_message(), "unknown entity 'firms'");
		tidu_store_rollback(f->s);
		assert_int_equal(conflicts, 0);
	}
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM firm"), 0);
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM change"), 0);
}

/* Item 5 of issue 9: a write that changes no value records nothing. */
static void test_unchanged_write_records_nothing(void **state)
{
	fixture *f = *state;
	tidu_edit *e = tidu_record_edit_new(TIDU_ENTITY_FIRM, FIRM);
	int64_t pending;
	char *clock;

	assert_int_equal(tidu_record_edit_set(e, "uscc", FIRM), 0);
	assert_int_equal(tidu_record_edit_set(e, "name", NAME_ZH), 0);
	assert_int_equal(tidu_record_edit_set(e, "district", "410105"), 0);
	assert_int_equal(apply(f->s, e), 0);
	clock = text_of(f->s, "SELECT _clock FROM firm");
	/* The same values again (as a re-import of an unchanged list writes). */
	assert_int_equal(apply(f->s, e), 0);
	tidu_record_edit_free(e);
	assert_int_equal(tidu_record_pending(f->s, &pending), 0);
	assert_int_equal(pending, 1);
	assert_text(f->s, "SELECT _clock FROM firm", clock);
	free(clock);

	/* One changed field among unchanged ones: only it is recorded. */
	e = tidu_record_edit_new(TIDU_ENTITY_FIRM, FIRM);
	assert_int_equal(tidu_record_edit_set(e, "name", NAME_ZH), 0);
	assert_int_equal(tidu_record_edit_set(e, "zone", "航空港区"), 0);
	assert_int_equal(apply(f->s, e), 0);
	tidu_record_edit_free(e);
	assert_int_equal(tidu_record_pending(f->s, &pending), 0);
	assert_int_equal(pending, 2);
	assert_int_equal(th_scalar(f->s,
		"SELECT fields NOT LIKE '%\"name\"%' AND fields LIKE '%\"zone\"%' "
		"FROM change WHERE id=2"), 1);

	/* Unless asked to keep them all (a conflict settled for the value shown). */
	e = tidu_record_edit_new(TIDU_ENTITY_FIRM, FIRM);
	tidu_record_edit_keep_all(e);
	assert_int_equal(tidu_record_edit_set(e, "name", NAME_ZH), 0);
	assert_int_equal(apply(f->s, e), 0);
	tidu_record_edit_free(e);
	assert_int_equal(tidu_record_pending(f->s, &pending), 0);
	assert_int_equal(pending, 3);
}

static void test_delete(void **state)
{
	fixture *f = *state;
	tidu_edit *e;
	int64_t pending;

	tidu_error_clear();
	assert_int_equal(tidu_record_delete(f->s, TIDU_ENTITY_FIRM, FIRM), TIDU_ENOTFOUND);
	assert_string_equal(tidu_error_message(), "'" FIRM "' is not in the store");
	e = tidu_record_edit_new(TIDU_ENTITY_FIRM, FIRM);
	assert_int_equal(tidu_record_edit_set(e, "name", "甲"), 0);
	assert_int_equal(apply(f->s, e), 0);
	tidu_record_edit_free(e);
	assert_int_equal(tidu_record_delete(f->s, TIDU_ENTITY_FIRM, FIRM), 0);
	/* A tombstone: the row stays (so the delete merges), marked deleted. */
	assert_int_equal(tidu_record_exists(f->s, TIDU_ENTITY_FIRM, FIRM),
			 TIDU_RECORD_DELETED);
	assert_text(f->s, "SELECT name FROM firm", "甲");
	assert_int_equal(th_scalar(f->s,
		"SELECT fields LIKE '[[\"_deleted\",\"1\",%' FROM change WHERE id=2"), 1);
	assert_int_equal(tidu_record_delete(f->s, TIDU_ENTITY_FIRM, FIRM), TIDU_ENOTFOUND);
	assert_int_equal(tidu_record_pending(f->s, &pending), 0);
	assert_int_equal(pending, 2);
}

static void test_merge_last_writer(void **state)
{
	fixture *f = *state;
	tidu_conflict *c;
	size_t n;

	/* A field never written here: the incoming value is taken. */
	assert_int_equal(merge1(f->s, FIRM, 1000, "dev-b", "name", "甲", ""), 0);
	assert_text(f->s, "SELECT name FROM firm", "甲");
	/* Later by clock, having seen it: wins, no conflict. */
	assert_int_equal(merge1(f->s, FIRM, 2000, "dev-a", "name", "乙", "1000:dev-b"), 0);
	assert_text(f->s, "SELECT name FROM firm", "乙");
	/* Older by clock and concurrent: loses, kept as a conflict with both values. */
	assert_int_equal(merge1(f->s, FIRM, 1500, "dev-c", "name", "丙", "1000:dev-b"), 1);
	assert_text(f->s, "SELECT name FROM firm", "乙");
	assert_int_equal(tidu_conflict_list(f->s, 0, &c, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].field, "name");
	assert_string_equal(c[0].current, "乙");
	assert_int_equal(c[0].current_hlc, 2000);
	assert_string_equal(c[0].current_device, "dev-a");
	assert_string_equal(c[0].lost, "丙");
	assert_int_equal(c[0].lost_hlc, 1500);
	assert_string_equal(c[0].lost_device, "dev-c");
	tidu_conflict_list_free(c, n);
	/* Same clock: the greater device wins ("dev-d" > "dev-a"), concurrently. */
	assert_int_equal(merge1(f->s, FIRM, 2000, "dev-d", "name", "丁", "1000:dev-b"), 1);
	assert_text(f->s, "SELECT name FROM firm", "丁");
	/* ...and the smaller one loses ("dev-0" < "dev-d"). */
	assert_int_equal(merge1(f->s, FIRM, 2000, "dev-0", "name", "戊", "1000:dev-b"), 1);
	assert_text(f->s, "SELECT name FROM firm", "丁");
	assert_int_equal(tidu_conflict_list(f->s, 0, &c, &n), 0);
	assert_int_equal(n, 3);
	tidu_conflict_list_free(c, n);
	/* A write that had seen the current value settles the field's conflicts. */
	assert_int_equal(merge1(f->s, FIRM, 3000, "dev-b", "name", "己", "2000:dev-d"), 0);
	assert_text(f->s, "SELECT name FROM firm", "己");
	assert_int_equal(tidu_conflict_list(f->s, 0, &c, &n), 0);
	assert_int_equal(n, 0);
	tidu_conflict_list_free(c, n);
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM conflict WHERE resolved=1"), 3);
	/* Merges are not local writes: nothing for the change log. */
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM change"), 0);
}

static void test_merge_same_value_and_idempotent(void **state)
{
	fixture *f = *state;
	tidu_merge_field mf[] = {{"name", NAME_ZH, ""}, {"employees", "120", ""}};
	size_t conflicts = 0;
	int i;

	assert_int_equal(merge1(f->s, FIRM, 1000, "dev-a", "name", "甲", ""), 0);
	/* Concurrent, but the same value: nothing to review. */
	assert_int_equal(merge1(f->s, FIRM, 1200, "dev-b", "name", "甲", ""), 0);
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM conflict"), 0);

	/*
	 * The same change applied three times: one conflict, the same row.
	 * Current behaviour: *conflicts counts the lost write on every
	 * application, though the table keeps it once.
	 */
	for (i = 0; i < 3; i++) {
		conflicts = 0;
		assert_int_equal(tidu_store_begin(f->s), 0);
		assert_int_equal(tidu_record_merge(f->s, TIDU_ENTITY_FIRM, FIRM, 1100, "dev-c",
						   mf, 2, &conflicts), 0);
		assert_int_equal(tidu_store_commit(f->s), 0);
		assert_int_equal(conflicts, 1);
		assert_text(f->s, "SELECT name FROM firm", "甲");
		assert_int_equal(th_scalar(f->s, "SELECT employees FROM firm"), 120);
		assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM conflict"), 1);
	}
	/* The losing Chinese value is kept byte for byte. */
	assert_text(f->s, "SELECT lost_value FROM conflict", NAME_ZH);
	assert_text(f->s, "SELECT value FROM conflict", "甲");
	/* A NULL from a merge clears the field. */
	assert_int_equal(merge1(f->s, FIRM, 5000, "dev-a", "employees", NULL,
				"1100:dev-c"), 0);
	assert_text(f->s, "SELECT employees FROM firm", NULL);
}

/* Four writes of one field, some concurrent, as other devices made them. */
static const struct {
	int64_t hlc;
	const char *device, *value, *base;
} writes[] = {
	{1000, "dev-a", "甲", ""},
	{1500, "dev-b", "乙", "1000:dev-a"},
	{1400, "dev-c", "丙", "1000:dev-a"},
	{1500, "dev-c", "丁", ""},
};

/* The name of `key` and its conflicts ("lost@hlc:device;") after the writes in `order`. */
static void merge_in_order(tidu_store *s, const char *key, const int *order, size_t n,
			   tidu_buf *out)
{
	tidu_conflict *c;
	char sql[128], *v;
	size_t i;

	for (i = 0; i < n; i++)
		merge1(s, key, writes[order[i]].hlc, writes[order[i]].device, "name",
		       writes[order[i]].value, writes[order[i]].base);
	snprintf(sql, sizeof(sql), "SELECT name FROM firm WHERE uscc='%s'", key);
	v = text_of(s, sql);
	tidu_buf_clear(out);
	tidu_buf_printf(out, "name=%s;", v ? v : "(null)");
	free(v);
	assert_int_equal(tidu_conflict_list(s, 1, &c, &n), 0);
	for (i = 0; i < n; i++)
		if (!strcmp(c[i].key, key))
			tidu_buf_printf(out, "%s@%lld:%s;", c[i].lost ? c[i].lost : "",
					(long long)c[i].lost_hlc, c[i].lost_device);
	tidu_conflict_list_free(c, n);
}

static void test_merge_order_independent(void **state)
{
	static const int orders[][4] = {
		{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}, {0, 2, 1, 3},
	};
	fixture *f = *state;
	tidu_buf first = TIDU_BUF_INIT, got = TIDU_BUF_INIT;
	char key[32];
	size_t i;

	/* Whatever the order, the greatest (hlc, device), (1500, dev-c), holds it. */
	for (i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		snprintf(key, sizeof(key), "K%zu", i);
		merge_in_order(f->s, key, orders[i], 4, &got);
		if (!strstr(tidu_buf_cstr(&got), "name=丁;"))
			fail_msg("order %zu: %s", i, tidu_buf_cstr(&got));
	}
	/* Two concurrent writes: the same value and the same conflict either way. */
	merge_in_order(f->s, "P1", (const int[]){1, 2}, 2, &first);
	merge_in_order(f->s, "P2", (const int[]){2, 1}, 2, &got);
	assert_string_equal(tidu_buf_cstr(&first), "name=乙;丙@1400:dev-c;");
	assert_string_equal(tidu_buf_cstr(&got), tidu_buf_cstr(&first));
	tidu_buf_free(&first);
	tidu_buf_free(&got);
}

static void test_local_write_beats_clock_ahead(void **state)
{
	fixture *f = *state;
	tidu_edit *e;
	int64_t ahead;

	/* A laptop whose clock is far ahead wrote the name: ours still wins. */
	ahead = th_scalar(f->s, "SELECT 1") + ((int64_t)1 << 60);
	assert_int_equal(merge1(f->s, FIRM, ahead, "dev-z", "name", "甲", ""), 0);
	e = tidu_record_edit_new(TIDU_ENTITY_FIRM, FIRM);
	assert_int_equal(tidu_record_edit_set(e, "name", "乙"), 0);
	assert_int_equal(apply(f->s, e), 0);
	tidu_record_edit_free(e);
	assert_text(f->s, "SELECT name FROM firm", "乙");
	assert_int_equal(th_scalar(f->s, "SELECT hlc FROM change"), ahead + 1);
	assert_int_equal(th_scalar(f->s, "SELECT count(*) FROM conflict"), 0);
}

static void test_city_writes_as_desk(void **state)
{
	char dir[64], desk[TIDU_DEVICE_ID_LEN + 1], *dev;
	tidu_store *city = th_store(dir, "record-city", "410100", "city", PASS);
	tidu_edit *e;

	(void)state;
	/* A firm whose district the city does not know: refused, nothing written. */
	e = tidu_record_edit_new(TIDU_ENTITY_FIRM, FIRM);
	assert_int_equal(tidu_record_edit_set(e, "name", "甲"), 0);
	assert_int_equal(apply(city, e), TIDU_ENOTFOUND);
	assert_non_null(strstr(tidu_error_message(), "firm '" FIRM "' has no district"));
	assert_int_equal(th_scalar(city, "SELECT count(*) FROM firm"), 0);
	assert_int_equal(th_scalar(city, "SELECT count(*) FROM change"), 0);
	/* With its district: written under the desk of that district. */
	assert_int_equal(tidu_record_edit_set(e, "district", "410105"), 0);
	assert_int_equal(apply(city, e), 0);
	tidu_record_edit_free(e);
	tidu_trust_desk_id(tidu_store_device(city), "410105", desk);
	dev = text_of(city, "SELECT device FROM change");
	assert_string_equal(dev, desk);
	assert_string_not_equal(dev, tidu_store_device(city));
	free(dev);
	tidu_store_free(city);
	th_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edit_validation),
		cmocka_unit_test_setup_teardown(test_apply_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_write_records_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_last_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_same_value_and_idempotent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_merge_order_independent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_write_beats_clock_ahead, setup,
						teardown),
		cmocka_unit_test(test_city_writes_as_desk),
	};

	tidu_i18n_set("en");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
