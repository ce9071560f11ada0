/*
 * Unit tests: tidu_sync() against a central repository on a local path
 * (the network transports are tested end to end by tests/cli/sync.bats):
 * sending and receiving, idempotence, packs only, a gap left by a USB copy.
 */

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sync_fixture.h"

/* The number of loose objects in a repository (objects/xx/...). */
static int loose_objects(const char *gitdir)
{
	char path[256];
	DIR *d, *sub;
	struct dirent *de, *e;
	int n = 0;

	snprintf(path, sizeof(path), "%s/objects", gitdir);
	assert_non_null(d = opendir(path));
	while ((de = readdir(d))) {
		char subpath[600];

		if (strlen(de->d_name) != 2 || de->d_name[0] == '.')
			continue;
		snprintf(subpath, sizeof(subpath), "%s/%s", path, de->d_name);
		if (!(sub = opendir(subpath)))
			continue;
		while ((e = readdir(sub)))
			n += e->d_name[0] != '.';
		closedir(sub);
	}
	closedir(d);
	return n;
}

static void test_send_receive_idempotent(void **state)
{
	fixture *f = *state;
	tidu_sync_report rep;
	git_repository *r = NULL;
	git_object *obj = NULL;
	char spec[160], local[96];

	add_firm(f->a, FIRM, "甲");
	sync_ok(f->a, &rep);
	assert_int_equal(rep.sealed, 1);
	assert_int_equal(rep.sent, 1);
	tidu_sync_report_free(&rep);
	sync_ok(f->b, &rep);
	assert_int_equal(rep.received, 1);
	assert_int_equal(rep.devices, 1);
	assert_int_equal(rep.changes, 1);
	tidu_sync_report_free(&rep);
	/* Nothing new: nothing sent, nothing received, no new commit. */
	sync_ok(f->a, &rep);
	assert_int_equal(rep.sent, 0);
	assert_int_equal(rep.received, 0);
	tidu_sync_report_free(&rep);
	sync_ok(f->city, &rep);
	assert_int_equal(rep.received, 1);
	assert_true(rep.pool_committed);
	tidu_sync_report_free(&rep);

	git_libgit2_init();
	assert_int_equal(git_repository_open_bare(&r, f->central), 0);
	snprintf(spec, sizeof(spec), "refs/heads/410105/%s:cs/0000/000/000000000001.tcs",
		 tidu_store_device(f->a));
	assert_int_equal(git_revparse_single(&obj, r, spec), 0);
	git_object_free(obj);
	snprintf(spec, sizeof(spec), "refs/heads/410105/%s~1", tidu_store_device(f->a));
	/* One commit: the ref exists (above), its first commit has no parent. */
	assert_int_equal(git_revparse_single(&obj, r, spec), GIT_ENOTFOUND);
	assert_int_equal(git_revparse_single(&obj, r, "refs/heads/city/pool:tips.txt"), 0);
	git_object_free(obj);
	git_repository_free(r);
	git_libgit2_shutdown();
	snprintf(local, sizeof(local), "%s/repo.git", f->dirs[1]);
	assert_int_equal(loose_objects(local), 0);
}

/* Reads change set `seq` of store `s`'s own device into `out`. */
static void own_file(tidu_store *s, int64_t seq, tidu_buf *out)
{
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_prepare_v2(tidu_store_db(s),
		"SELECT file FROM changeset WHERE device=?1 AND seq=?2", -1, &st, NULL),
		SQLITE_OK);
	sqlite3_bind_text(st, 1, tidu_store_device(s), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	tidu_buf_clear(out);
	tidu_buf_put(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_finalize(st);
}

static void test_gap_left_by_usb_is_filled(void **state)
{
	fixture *f = *state;
	tidu_sync_report rep;
	tidu_apply_report ar;
	tidu_buf file = TIDU_BUF_INIT;
	uint64_t seq;
	size_t count;
	int64_t i;

	add_firm(f->a, FIRM, "一");
	assert_int_equal(tidu_changes_seal(f->a, &seq, &count), 0);
	assert_int_equal(tidu_firm_set(f->a, FIRM, (tidu_kv[]){{"name", "二"}}, 1), 0);
	assert_int_equal(tidu_changes_seal(f->a, &seq, &count), 0);
	assert_int_equal(tidu_firm_set(f->a, FIRM, (tidu_kv[]){{"name", "三"}}, 1), 0);
	sync_ok(f->a, &rep);
	assert_int_equal(rep.sent, 3);
	tidu_sync_report_free(&rep);
	/* B got 2 and 3 on a USB stick, not 1: they wait. */
	for (i = 2; i <= 3; i++) {
		own_file(f->a, i, &file);
		assert_int_equal(tidu_changes_apply(f->b, (const unsigned char *)file.ptr,
						    file.len, "usb", &ar), 0);
		assert_int_equal(ar.outcome, TIDU_APPLY_HELD);
	}
	sync_ok(f->b, &rep);
	assert_int_equal(rep.received, 3);
	assert_int_equal(rep.held, 0);
	tidu_sync_report_free(&rep);
	tidu_buf_free(&file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_send_receive_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_left_by_usb_is_filled, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
