/*
 * Unit tests: changes.h — the rejections that need crafted files (a device
 * writing for another district, a fork in a hash chain), a clock far ahead,
 * and holding/releasing across gaps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "helpers.h"
#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/changeset.h"
#include "tidu/conflict.h"
#include "tidu/firm.h"
#include "tidu/record.h"
#include "tidu/keyfile.h"
#include "tidu/store.h"
#include "tidu/trust.h"
#include "tidu/uscc.h"

#define PASS "changes unit passphrase"
#define FIRM "91410105MA1J8T9H5M"

typedef struct {
	char dirs[3][64];
	tidu_store *city, *a, *b; /* a and b of 410105 */
} fixture;

static int setup(void **state)
{
	fixture *f = tidu_calloc(1, sizeof(*f));

	f->city = th_store(f->dirs[0], "changes", "410100", "city", PASS);
	f->a = th_store(f->dirs[1], "changes", "410105", "officer", PASS);
	f->b = th_store(f->dirs[2], "changes", "410105", "officer", PASS);
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
	unsetenv("TIDU_FAKE_NOW_MS");
	return 0;
}

/* Seals a one-change file as store `s` would (field `field`), with the given header. */
static void craft_field(tidu_store *s, const char *district, uint64_t seq,
			const unsigned char prev[TIDU_CHANGESET_HASH_BYTES], uint64_t hlc,
			const char *field, const char *name, tidu_buf *file)
{
	unsigned char pks[2][TIDU_TRUST_KEY_LEN], sk[TIDU_TRUST_SIGN_SK_LEN];
	tidu_buf body = TIDU_BUF_INIT;
	tidu_changeset_field fld[] = {{field, name, ""}, {"uscc", FIRM, ""}};
	tidu_changeset_change c = {TIDU_CHANGESET_FIRM, FIRM, hlc, 0, fld, 2};
	tidu_changeset_origin o;
	size_t n;

	memset(&o, 0, sizeof(o));
	o.district = district;
	o.device = tidu_store_device(s);
	o.seq = seq;
	if (prev)
		memcpy(o.prev, prev, TIDU_CHANGESET_HASH_BYTES);
	assert_int_equal(tidu_changeset_body_add(&body, &c), 0);
	assert_int_equal(tidu_trust_recipients(s, "410105", pks, 2, &n), 0);
	assert_int_equal(tidu_trust_sign_sk(s, sk), 0);
	assert_int_equal(tidu_changeset_seal(&o, &body, sk, (const unsigned char (*)[32])pks, n,
				      file, NULL), 0);
	sodium_memzero(sk, sizeof(sk));
	tidu_buf_free(&body);
}

static void craft(tidu_store *s, const char *district, uint64_t seq,
		  const unsigned char prev[TIDU_CHANGESET_HASH_BYTES], uint64_t hlc,
		  const char *name, tidu_buf *file)
{
	craft_field(s, district, seq, prev, hlc, "name", name, file);
}

static void apply(tidu_store *s, const tidu_buf *file, tidu_apply_report *rep)
{
	assert_int_equal(tidu_changes_apply(s, (const unsigned char *)file->ptr,
					    file->len, "test", rep), 0);
}

static void test_wrong_district_is_rejected(void **state)
{
	fixture *f = *state;
	tidu_buf file = TIDU_BUF_INIT;
	tidu_apply_report rep;

	craft(f->a, "410102", 1, NULL, 1000 << 16, "越界", &file);
	apply(f->city, &file, &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_REJECTED);
	assert_non_null(strstr(rep.reason, "410102"));
	tidu_buf_free(&file);
}

static void test_fork_in_chain_is_rejected(void **state)
{
	fixture *f = *state;
	tidu_buf one = TIDU_BUF_INIT, two = TIDU_BUF_INIT;
	unsigned char wrong[TIDU_CHANGESET_HASH_BYTES];
	tidu_apply_report rep;

	craft(f->a, "410105", 1, NULL, 1000 << 16, "一", &one);
	memset(wrong, 7, sizeof(wrong));
	craft(f->a, "410105", 2, wrong, 2000 << 16, "二", &two);
	apply(f->b, &one, &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_APPLIED);
	apply(f->b, &two, &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_REJECTED);
	assert_non_null(strstr(rep.reason, "fork"));
	/* Held first, then its predecessor arrives: still refused. */
	apply(f->city, &two, &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_HELD);
	apply(f->city, &one, &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_APPLIED);
	assert_int_equal(rep.unblocked, 0);
	assert_non_null(strstr(rep.reason, "fork"));
	tidu_buf_free(&one);
	tidu_buf_free(&two);
}

static void test_gap_holds_then_releases_in_order(void **state)
{
	fixture *f = *state;
	tidu_buf files[3] = {TIDU_BUF_INIT, TIDU_BUF_INIT, TIDU_BUF_INIT};
	unsigned char prev[TIDU_CHANGESET_HASH_BYTES];
	tidu_apply_report rep;
	int i;

	for (i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "v%d", i + 1);
		craft(f->a, "410105", (uint64_t)i + 1, i ? prev : NULL,
		      ((uint64_t)i + 1000) << 16, name, &files[i]);
		tidu_changeset_hash((const unsigned char *)files[i].ptr, files[i].len, prev);
	}
	apply(f->b, &files[2], &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_HELD);
	apply(f->b, &files[2], &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_DUPLICATE);
	apply(f->b, &files[1], &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_HELD);
	apply(f->b, &files[0], &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_APPLIED);
	assert_int_equal(rep.unblocked, 2);
	assert_int_equal(rep.changes, 3);
	apply(f->b, &files[0], &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_DUPLICATE);
	for (i = 0; i < 3; i++)
		tidu_buf_free(&files[i]);
}

static void test_clock_far_ahead_is_flagged(void **state)
{
	fixture *f = *state;
	tidu_buf file = TIDU_BUF_INIT;
	tidu_apply_report rep;
	int64_t hlc;

	setenv("TIDU_FAKE_NOW_MS", "1900000000000", 1);
	/* A laptop two days ahead. */
	craft(f->a, "410105", 1, NULL, (uint64_t)(1900000000000LL + 2 * 86400000LL) << 16,
	      "未来", &file);
	apply(f->b, &file, &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_APPLIED);
	assert_true(rep.ahead_ms >= 2 * 86400000LL - 1000);
	/* Our clock followed it only up to the bound. */
	assert_int_equal(tidu_store_begin(f->b), 0);
	assert_int_equal(tidu_store_hlc_next(f->b, 0, &hlc), 0);
	tidu_store_rollback(f->b);
	assert_true((hlc >> 16) <= 1900000000000LL + TIDU_HLC_MAX_AHEAD_MS + 1);
	tidu_buf_free(&file);
}

static void test_seal_is_atomic_and_sequenced(void **state)
{
	fixture *f = *state;
	tidu_kv kv[] = {{"name", "甲"}};
	uint64_t seq;
	size_t count;
	int64_t pending;

	assert_int_equal(tidu_changes_seal(f->a, &seq, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(tidu_firm_add(f->a, FIRM, kv, 1, NULL), 0);
	assert_int_equal(tidu_changes_seal(f->a, &seq, &count), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(count, 1);
	assert_int_equal(tidu_record_pending(f->a, &pending), 0);
	assert_int_equal(pending, 0);
	kv[0].value = "乙";
	assert_int_equal(tidu_firm_set(f->a, FIRM, kv, 1), 0);
	assert_int_equal(tidu_changes_seal(f->a, &seq, &count), 0);
	assert_int_equal(seq, 2);
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

/* The city's "keep mine" keeps the city's value: its writes are its desk's. */
static void test_city_keep_mine(void **state)
{
	fixture *f = *state;
	tidu_kv name[] = {{"name", "甲"}}, mine[] = {{"employees", "77"}},
		theirs[] = {{"employees", "88"}};
	tidu_buf file = TIDU_BUF_INIT;
	tidu_apply_report rep;
	tidu_conflict *c = NULL;
	uint64_t seq;
	size_t count, n = 0;
	char *v = NULL;
	sqlite3_stmt *st;

	assert_int_equal(tidu_firm_add(f->a, FIRM, name, 1, NULL), 0);
	assert_int_equal(tidu_changes_seal(f->a, &seq, &count), 0);
	file_of(f->a, tidu_store_device(f->a), seq, &file);
	apply(f->city, &file, &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_APPLIED);
	/* Both write the same field, neither having seen the other. */
	assert_int_equal(tidu_firm_set(f->city, FIRM, mine, 1), 0);
	assert_int_equal(tidu_firm_set(f->a, FIRM, theirs, 1), 0);
	assert_int_equal(tidu_changes_seal(f->a, &seq, &count), 0);
	file_of(f->a, tidu_store_device(f->a), seq, &file);
	apply(f->city, &file, &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_APPLIED);
	assert_int_equal(rep.conflicts, 1);
	assert_int_equal(tidu_conflict_list(f->city, 0, &c, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(tidu_conflict_resolve(f->city, c[0].id, TIDU_RESOLVE_KEEP_MINE, NULL), 0);
	assert_int_equal(sqlite3_prepare_v2(tidu_store_db(f->city),
		"SELECT employees FROM firm WHERE uscc=?1", -1, &st, NULL), 0);
	sqlite3_bind_text(st, 1, FIRM, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = tidu_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	assert_string_equal(v, "77");
	free(v);
	tidu_conflict_list_free(c, n);
	tidu_buf_free(&file);
}

/* A held file refused when its turn comes is said, not dropped. */
static void test_held_file_refused_is_reported(void **state)
{
	fixture *f = *state;
	tidu_buf one = TIDU_BUF_INIT, two = TIDU_BUF_INIT;
	unsigned char h1[TIDU_CHANGESET_HASH_BYTES];
	tidu_apply_report rep;

	craft(f->a, "410105", 1, NULL, 1000 << 16, "一", &one);
	tidu_changeset_hash((const unsigned char *)one.ptr, one.len, h1);
	craft_field(f->a, "410105", 2, h1, 2000 << 16, "no_such_field", "x", &two);
	apply(f->b, &two, &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_HELD);
	apply(f->b, &one, &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_APPLIED);
	assert_int_equal(rep.unblocked, 0);
	assert_true(rep.stuck);
	assert_non_null(strstr(rep.reason, "held change set 2"));
	tidu_buf_free(&one);
	tidu_buf_free(&two);
}

/*
 * Issue 9, item 1: a change the seal cannot carry (here a value over
 * TIDU_CHANGESET_MAX_STRING, written into the change log as a store made
 * before the write refused it would hold it) is set aside with its reason;
 * the changes before and after it go out, and a receiver applies them.
 * Before: every seal failed with "invalid value" and nothing went out.
 */
static void test_unsealable_change_is_set_aside(void **state)
{
	fixture *f = *state;
	tidu_kv kv[] = {{"name", "甲"}};
	tidu_outbox_counts oc;
	tidu_outbox_item *it;
	tidu_apply_report rep;
	tidu_buf file = TIDU_BUF_INIT;
	sqlite3_stmt *st;
	char *big = tidu_malloc(TIDU_CHANGESET_MAX_STRING + 64);
	uint64_t seq;
	size_t count, n, again;
	int64_t pending;

	assert_int_equal(tidu_firm_add(f->a, FIRM, kv, 1, NULL), 0);
	/* The poisoned row: a 1 MiB + 1 address, as JSON [field, value, base]. */
	memcpy(big, "[[\"address\",\"", 13);
	memset(big + 13, 'x', TIDU_CHANGESET_MAX_STRING + 1);
	strcpy(big + 13 + TIDU_CHANGESET_MAX_STRING + 1, "\",\"\"]]");
	assert_int_equal(sqlite3_prepare_v2(tidu_store_db(f->a),
		"INSERT INTO change(entity, key, hlc, device, wall, fields) "
		"SELECT entity, key, hlc + 1, device, wall, ?1 FROM change ORDER BY id DESC LIMIT 1",
		-1, &st, NULL), 0);
	sqlite3_bind_text(st, 1, big, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	kv[0].value = "乙";
	assert_int_equal(tidu_firm_set(f->a, FIRM, kv, 1), 0);

	assert_int_equal(tidu_changes_seal(f->a, &seq, &count), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(count, 2); /* the add and the set; not the poisoned one */
	assert_int_equal(tidu_changes_seal(f->a, &seq, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(tidu_record_pending(f->a, &pending), 0);
	assert_int_equal(pending, 0);
	assert_int_equal(tidu_changes_outbox_counts(f->a, &oc), 0);
	assert_int_equal(oc.aside, 1);
	assert_int_equal(tidu_changes_outbox(f->a, 1, 0, &it, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(it[0].entity, "firm");
	assert_string_equal(it[0].key, FIRM);
	assert_non_null(it[0].reason);
	assert_non_null(strstr(it[0].reason, "address"));
	assert_non_null(strstr(it[0].reason, "1048576"));
	tidu_changes_outbox_free(it, n);

	/* What went out is whole: the receiver has the firm with the later name. */
	file_of(f->a, tidu_store_device(f->a), 1, &file);
	apply(f->b, &file, &rep);
	assert_int_equal(rep.outcome, TIDU_APPLY_APPLIED);
	assert_int_equal(rep.changes, 2);

	/* retry puts it back; the seal sets it aside again, still not blocking. */
	assert_int_equal(tidu_changes_retry(f->a, &again), 0);
	assert_int_equal(again, 1);
	assert_int_equal(tidu_changes_outbox_counts(f->a, &oc), 0);
	assert_int_equal(oc.aside, 0);
	assert_int_equal(oc.pending, 1);
	assert_int_equal(tidu_changes_seal(f->a, &seq, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(tidu_changes_outbox_counts(f->a, &oc), 0);
	assert_int_equal(oc.aside, 1);
	assert_int_equal(oc.pending, 0);
	tidu_buf_free(&file);
	free(big);
}

/*
 * Issue 9, item 6: a big outbox (40 firms with 700 KB addresses, 28 MB)
 * goes out as several change sets, each within TIDU_CHANGESET_MAX_FILE and
 * each applied by the receiver.
 */
static void test_big_outbox_is_split(void **state)
{
	fixture *f = *state;
	char *addr = tidu_malloc(700 * 1000 + 1);
	tidu_buf file = TIDU_BUF_INIT;
	tidu_apply_report rep;
	size_t count, total = 0, sets = 0, merged = 0;
	uint64_t seq;
	uint32_t x = 1;
	int i;

	for (i = 0; i < 700 * 1000; i++) {
		x = x * 1103515245u + 12345u; /* poorly compressible */
		addr[i] = (char)('a' + (x >> 16) % 26);
	}
	addr[700 * 1000] = '\0';
	for (i = 0; i < 40; i++) {
		char first17[18], uscc[TIDU_USCC_LEN + 1];
		tidu_kv kv[] = {{"name", "大地址公司"}, {"address", addr}};

		snprintf(first17, sizeof(first17), "91410105MA1J8%04d", i);
		snprintf(uscc, sizeof(uscc), "%s%c", first17, tidu_uscc_check_char(first17));
		addr[0] = (char)('a' + i % 26);
		assert_int_equal(tidu_firm_add(f->a, uscc, kv, 2, NULL), 0);
	}
	do {
		assert_int_equal(tidu_changes_seal(f->a, &seq, &count), 0);
		if (!count)
			break;
		sets++;
		total += count;
		file_of(f->a, tidu_store_device(f->a), seq, &file);
		assert_true(file.len <= TIDU_CHANGESET_MAX_FILE);
		apply(f->b, &file, &rep);
		assert_int_equal(rep.outcome, TIDU_APPLY_APPLIED);
		merged += rep.changes;
	} while (count);
	assert_int_equal(total, 40);
	assert_int_equal(merged, 40);
	assert_true(sets >= 2);
	tidu_buf_free(&file);
	free(addr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wrong_district_is_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_in_chain_is_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_holds_then_releases_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_far_ahead_is_flagged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal_is_atomic_and_sequenced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_city_keep_mine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_file_refused_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsealable_change_is_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_outbox_is_split, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
