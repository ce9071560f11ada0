/*
 * Unit tests: the local repository (src/core/sync/local.c) through
 * tidu_sync(): the lock on the home, a server that is down (changes are
 * committed locally), stale locks left by a killed sync.
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

static void test_lock(void **state)
{
	fixture *f = *state;
	tidu_sync_opts o;
	tidu_sync_report rep;
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", f->dirs[1], TIDU_SYNC_LOCK);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	memset(&o, 0, sizeof(o));
	o.lock_wait_ms = 200;
	assert_int_equal(tidu_sync(f->a, NULL, &o, &rep), TIDU_ERROR);
	assert_non_null(strstr(tidu_error_message(), "another 'tidu sync'"));
	tidu_sync_report_free(&rep);
	close(fd);
	sync_ok(f->a, &rep);
	tidu_sync_report_free(&rep);
}

static void test_offline_commits_locally_and_stale_locks(void **state)
{
	fixture *f = *state;
	tidu_sync_report rep;
	git_repository *r = NULL;
	git_object *obj = NULL;
	char spec[128], local[96], lock[192];
	FILE *fp;

	/* Port 9 of this machine: nobody listens there. */
	assert_int_equal(tidu_remote_add(f->a, "down", "git://127.0.0.1:9/central.git"), 0);
	add_firm(f->a, FIRM, "离线");
	assert_int_equal(tidu_sync(f->a, "down", NULL, &rep), TIDU_ERROR);
	assert_non_null(strstr(tidu_error_message(), "cannot reach the repository"));
	assert_int_equal(rep.sealed, 1);
	tidu_sync_report_free(&rep);
	snprintf(local, sizeof(local), "%s/repo.git", f->dirs[1]);
	git_libgit2_init();
	assert_int_equal(git_repository_open_bare(&r, local), 0);
	snprintf(spec, sizeof(spec), "refs/heads/410105/%s:cs/0000/000/000000000001.tcs",
		 tidu_store_device(f->a));
	assert_int_equal(git_revparse_single(&obj, r, spec), 0);
	git_object_free(obj);
	git_repository_free(r);
	git_libgit2_shutdown();

	/* What a sync killed while updating the ref leaves: a lock file. */
	snprintf(lock, sizeof(lock), "%s/refs/heads/410105/%s.lock", local,
		 tidu_store_device(f->a));
	assert_non_null(fp = fopen(lock, "w"));
	fclose(fp);
	assert_int_equal(tidu_firm_set(f->a, FIRM, (tidu_kv[]){{"name", "在线"}}, 1), 0);
	sync_ok(f->a, &rep);
	assert_int_equal(rep.sent, 2); /* the one sealed offline too */
	tidu_sync_report_free(&rep);
	sync_ok(f->b, &rep);
	assert_int_equal(rep.received, 2);
	tidu_sync_report_free(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offline_commits_locally_and_stale_locks,
						setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
