/*
 * Unit tests: repo.h — the layout of device trees, remotes, and tidu_sync()
 * against a central repository on a local path (the network transports are
 * tested end to end by tests/cli/sync.bats): sending and receiving,
 * idempotence, packs only, the lock, a server that is down, stale locks
 * left by a killed sync, enrollment through the repository.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmocka.h>
#include <git2.h>
#include <sodium.h>

#include "helpers.h"
#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/firm.h"
#include "tidu/keyfile.h"
#include "tidu/repo.h"
#include "tidu/store.h"
#include "tidu/trust.h"

#define PASS "repo unit passphrase"
#define FIRM "91410105MA1J8T9H5M"

typedef struct {
	char dirs[4][64];
	char central[96];
	tidu_store *city, *a, *b; /* a and b of 410105, enrolled by files */
} fixture;

static int setup(void **state)
{
	fixture *f = tidu_calloc(1, sizeof(*f));
	tidu_sync_report rep;

	f->city = th_store(f->dirs[0], "repo", "410100", "city", PASS);
	f->a = th_store(f->dirs[1], "repo", "410105", "officer", PASS);
	f->b = th_store(f->dirs[2], "repo", "410105", "officer", PASS);
	snprintf(f->dirs[3], sizeof(f->dirs[3]), "/tmp/tidu-central.XXXXXX");
	assert_non_null(mkdtemp(f->dirs[3]));
	snprintf(f->central, sizeof(f->central), "%s/central.git", f->dirs[3]);
	assert_int_equal(tidu_trust_ensure_keys(f->city), 0);
	th_enroll(f->city, (tidu_store *const[]){f->a, f->b}, 2);
	assert_int_equal(tidu_repo_init_central(f->city, f->central, NULL, NULL, &rep), 0);
	tidu_sync_report_free(&rep);
	assert_int_equal(tidu_remote_add(f->a, "origin", f->central), 0);
	assert_int_equal(tidu_remote_add(f->b, "origin", f->central), 0);
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
	for (i = 0; i < 4; i++)
		th_rmtree(f->dirs[i]);
	free(f);
	return 0;
}

static void sync_ok(tidu_store *s, tidu_sync_report *rep)
{
	int error = tidu_sync(s, NULL, NULL, rep);

	if (error < 0)
		fail_msg("sync: %s", tidu_error_message());
	assert_int_equal(rep->rejected, 0);
}

static void add_firm(tidu_store *s, const char *uscc, const char *name)
{
	tidu_kv kv[] = {{"name", name}};

	assert_int_equal(tidu_firm_add(s, uscc, kv, 1, NULL), 0);
}

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

static void test_cs_path(void **state)
{
	char p[48];

	(void)state;
	tidu_repo_cs_path(1, p, sizeof(p));
	assert_string_equal(p, "cs/0000/000/000000000001.tcs");
	tidu_repo_cs_path(249, p, sizeof(p));
	assert_string_equal(p, "cs/0000/000/000000000249.tcs");
	tidu_repo_cs_path(250, p, sizeof(p));
	assert_string_equal(p, "cs/0000/001/000000000250.tcs");
	tidu_repo_cs_path(62499, p, sizeof(p));
	assert_string_equal(p, "cs/0000/249/000000062499.tcs");
	tidu_repo_cs_path(62500, p, sizeof(p));
	assert_string_equal(p, "cs/0001/000/000000062500.tcs");
}

static void test_normalize(void **state)
{
	char *out = NULL, cwd[200], want[256];

	(void)state;
	assert_int_equal(tidu_remote_normalize("git://127.0.0.1:9418/c.git", &out), 0);
	assert_string_equal(out, "git://127.0.0.1:9418/c.git");
	free(out);
	assert_int_equal(tidu_remote_normalize("git@example.org:city/central.git", &out), 0);
	assert_string_equal(out, "git@example.org:city/central.git");
	assert_false(tidu_remote_is_local(out));
	free(out);
	assert_int_equal(tidu_remote_normalize("/srv/git/central.git/", &out), 0);
	assert_string_equal(out, "/srv/git/central.git");
	assert_true(tidu_remote_is_local(out));
	free(out);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/usb/central.git", cwd);
	assert_int_equal(tidu_remote_normalize("usb/central.git", &out), 0);
	assert_string_equal(out, want);
	free(out);
	assert_int_equal(tidu_remote_normalize("gopher://x/y", &out), TIDU_EINVAL);
	assert_null(out);
	assert_int_equal(tidu_remote_normalize("", &out), TIDU_EINVAL);
	assert_int_equal(tidu_remote_normalize("http://x/a b", &out), TIDU_EINVAL);
}

static void test_remotes(void **state)
{
	fixture *f = *state;
	tidu_remote *list = NULL;
	size_t n = 0;
	char *url = NULL;

	assert_int_equal(tidu_remote_add(f->a, "origin", "git://x/y"), TIDU_EEXISTS);
	assert_int_equal(tidu_remote_add(f->a, "-bad", "git://x/y"), TIDU_EINVAL);
	assert_int_equal(tidu_remote_add(f->a, "hub", "http://10.0.0.2/central.git"), 0);
	assert_int_equal(tidu_remote_list(f->a, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "hub");
	assert_string_equal(list[1].name, "origin");
	assert_string_equal(list[1].url, f->central);
	tidu_remote_list_free(list, n);
	assert_int_equal(tidu_remote_remove(f->a, "hub"), 0);
	assert_int_equal(tidu_remote_remove(f->a, "hub"), TIDU_ENOTFOUND);
	assert_int_equal(tidu_remote_url(f->a, "hub", &url), TIDU_ENOTFOUND);
	assert_null(url);
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

static void test_enrollment_through_the_repository(void **state)
{
	fixture *f = *state;
	tidu_store *c;
	tidu_sync_report rep;
	tidu_repo_request *reqs = NULL;
	tidu_trust_request info;
	tidu_trust_id id;
	size_t n = 0;
	char dir[64];

	c = th_store(dir, "repo", "410105", "officer", PASS);
	assert_int_equal(tidu_remote_add(c, "origin", f->central), 0);
	add_firm(f->a, FIRM, "甲");
	sync_ok(f->a, &rep);
	tidu_sync_report_free(&rep);
	sync_ok(c, &rep);
	assert_false(rep.enrolled);
	assert_true(rep.enroll_published);
	assert_true(rep.city_pinned); /* trust on first use */
	tidu_sync_report_free(&rep);
	sync_ok(f->city, &rep);
	assert_int_equal(rep.requests, 1);
	tidu_sync_report_free(&rep);
	assert_int_equal(tidu_repo_requests(f->a, &reqs, &n), TIDU_EINVAL);
	assert_int_equal(tidu_repo_requests(f->city, &reqs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(reqs[0].req.device, tidu_store_device(c));
	assert_int_equal(tidu_trust_identity(f->city, &id), 0);
	assert_int_equal(tidu_repo_request_admit(f->city, reqs[0].req.device, &info), 0);
	free(reqs);
	assert_int_equal(tidu_repo_request_admit(f->city, tidu_store_device(c), &info),
			 TIDU_ENOTFOUND);
	sync_ok(f->city, &rep);
	assert_int_equal(rep.keyring_version, id.keyring_version + 1);
	assert_int_equal(rep.requests, 0);
	tidu_sync_report_free(&rep);
	sync_ok(c, &rep);
	assert_true(rep.enrolled);
	assert_int_equal(rep.keyring_version, id.keyring_version + 1);
	assert_int_equal(rep.received, 1); /* the district's history */
	tidu_sync_report_free(&rep);
	tidu_store_free(c);
	th_rmtree(dir);
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
		cmocka_unit_test(test_cs_path),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test_setup_teardown(test_remotes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_receive_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offline_commits_locally_and_stale_locks,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_enrollment_through_the_repository, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gap_left_by_usb_is_filled, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
