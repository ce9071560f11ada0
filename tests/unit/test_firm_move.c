/*
 * Unit tests: whose firm it is (firm.h; issue 9, items 7 and 14a). A change
 * set from a device that files a firm under another district — a tidu from
 * before the check, or a forged one — is applied without that change, which
 * is kept as conflicts; the city's desks may write any firm; a move logs the
 * old district's last change and the firm's whole state for the new one.
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
#include "tidu/firm.h"
#include "tidu/record.h"
#include "tidu/store.h"
#include "tidu/trust.h"
#include "tidu/visit.h"

#define PASS "move unit passphrase"
#define OWN "91410105MA1J8T9H5M"   /* region 410105 */
#define OTHER "91410102MA1EUXG90Q" /* region 410102 */

typedef struct {
	char dirs[3][64];
	tidu_store *city, *a, *b; /* a and b of 410105 */
} fixture;

static int setup(void **state)
{
	fixture *f = tidu_calloc(1, sizeof(*f));

	f->city = th_store(f->dirs[0], "move", "410100", "city", PASS);
	f->a = th_store(f->dirs[1], "move", "410105", "officer", PASS);
	f->b = th_store(f->dirs[2], "move", "410105", "officer", PASS);
	th_enroll(f->city, (tidu_store *const[]){f->a, f->b}, 2);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	int i;

	tidu_store_free(f->city);
	tidu_store_free(f->a);
	tidu_store_free(f->b);
	for (i = 0; i < 3; i++)
		th_rmtree(f->dirs[i]);
	free(f);
	return 0;
}

/* The file of change set `seq` of `device` as store `s` holds it. */
static void file_of(tidu_store *s, const char *device, uint64_t seq, tidu_buf *out)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(tidu_store_db(s),
		"SELECT file FROM changeset WHERE device=?1 AND seq=?2", -1, &st, NULL), 0);
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	tidu_buf_clear(out);
	tidu_buf_put(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_finalize(st);
}

/* A write through the record layer only, as a tidu without the check makes it. */
static void raw_firm(tidu_store *s, const char *uscc, const char *name, const char *district)
{
	tidu_edit *e = tidu_record_edit_new(TIDU_ENTITY_FIRM, uscc);

	assert_int_equal(tidu_record_edit_set(e, "uscc", uscc), 0);
	assert_int_equal(tidu_record_edit_set(e, "name", name), 0);
	assert_int_equal(tidu_record_edit_set(e, "district", district), 0);
	assert_int_equal(tidu_store_begin(s), 0);
	assert_int_equal(tidu_record_edit_apply(s, e), 0);
	assert_int_equal(tidu_store_commit(s), 0);
	tidu_record_edit_free(e);
}

static void seal_one(tidu_store *s, tidu_buf *file)
{
	uint64_t seq;
	size_t count;

	assert_int_equal(tidu_changes_seal(s, &seq, &count), 0);
	assert_true(count > 0);
	file_of(s, tidu_store_device(s), seq, file);
}

static void apply_ok(tidu_store *s, const tidu_buf *file, tidu_apply_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	assert_int_equal(tidu_changes_apply(s, (const unsigned char *)file->ptr, file->len,
					    "x.tcs", rep), 0);
	assert_int_equal(rep->outcome, TIDU_APPLY_APPLIED);
}

static void test_foreign_firm_from_a_peer_is_set_aside(void **state)
{
	fixture *f = *state;
	tidu_buf file = TIDU_BUF_INIT;
	tidu_apply_report rep;

	raw_firm(f->a, OTHER, "中原乙制造", "410102");
	raw_firm(f->a, OWN, "郑州甲科技", "410105");
	seal_one(f->a, &file);
	/* The change set applies (the chain goes on) without the foreign firm. */
	apply_ok(f->b, &file, &rep);
	assert_int_equal(tidu_record_exists(f->b, TIDU_ENTITY_FIRM, OWN), TIDU_RECORD_LIVE);
	assert_int_equal(tidu_record_exists(f->b, TIDU_ENTITY_FIRM, OTHER), 0);
	assert_true(rep.conflicts >= 2);
	apply_ok(f->city, &file, &rep);
	assert_int_equal(tidu_record_exists(f->city, TIDU_ENTITY_FIRM, OTHER), 0);
	assert_int_equal(tidu_record_exists(f->city, TIDU_ENTITY_FIRM, OWN), TIDU_RECORD_LIVE);
	assert_true(th_scalar(f->city, "SELECT count(*) FROM conflict WHERE key='" OTHER
			      "' AND field='district' AND lost_value='410102'") == 1);
	tidu_buf_free(&file);
}

static void test_move_logs_old_and_new_district(void **state)
{
	fixture *f = *state;
	tidu_kv kv[] = {{"name", "郑州甲科技"}, {"employees", "12"}, {"2025.revenue", "100"}};
	tidu_kv visit[] = {{"note", "走访"}};
	char old[16], id[64], desk102[TIDU_DEVICE_ID_LEN + 1], desk105[TIDU_DEVICE_ID_LEN + 1];
	char sql[512];

	assert_int_equal(tidu_firm_add(f->city, OWN, kv, 3, NULL), 0);
	assert_int_equal(tidu_visit_add(f->city, OWN, visit, 1, id), 0);
	assert_int_equal(tidu_firm_move(f->city, OWN, "410102", old), 0);
	assert_string_equal(old, "410105");
	tidu_trust_desk_id(tidu_store_device(f->city), "410102", desk102);
	tidu_trust_desk_id(tidu_store_device(f->city), "410105", desk105);
	/* The old district: one change, the new district only. */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM change WHERE device='%s' AND "
		 "entity='firm' AND fields LIKE '%%district%%410102%%' AND "
		 "fields NOT LIKE '%%employees%%'", desk105);
	assert_int_equal(th_scalar(f->city, sql), 1);
	/* The new district: the firm, its year and its visit, whole. */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM change WHERE device='%s' AND "
		 "((entity='firm' AND fields LIKE '%%employees%%' AND fields LIKE '%%410102%%')"
		 " OR (entity='firm_year' AND fields LIKE '%%revenue%%')"
		 " OR (entity='visit' AND fields LIKE '%%走访%%'))", desk102);
	assert_int_equal(th_scalar(f->city, sql), 3);
	/* Nothing half-done on a refusal. */
	assert_int_equal(tidu_firm_move(f->city, OWN, "410102", old), TIDU_EINVAL);
	assert_int_equal(tidu_firm_move(f->a, OWN, "410102", old), TIDU_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_foreign_firm_from_a_peer_is_set_aside,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_logs_old_and_new_district, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
