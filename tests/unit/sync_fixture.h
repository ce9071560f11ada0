#ifndef TIDU_TEST_SYNC_FIXTURE_H
#define TIDU_TEST_SYNC_FIXTURE_H
/*
 * The fixture of the sync unit tests (test_sync*.c): a city store and two
 * officers a and b of district 410105, enrolled by files, and a central
 * repository on a local path that the city set up. Include after
 * <cmocka.h>; every test_sync*.c is its own executable, so these are
 * static inline.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

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

static inline int setup(void **state)
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
	assert_int_equal(tidu_sync_init_central(f->city, f->central, NULL, NULL, &rep), 0);
	tidu_sync_report_free(&rep);
	assert_int_equal(tidu_remote_add(f->a, "origin", f->central), 0);
	assert_int_equal(tidu_remote_add(f->b, "origin", f->central), 0);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
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

static inline void sync_ok(tidu_store *s, tidu_sync_report *rep)
{
	int error = tidu_sync(s, NULL, NULL, rep);

	if (error < 0)
		fail_msg("sync: %s", tidu_error_message());
	assert_int_equal(rep->rejected, 0);
}

static inline void add_firm(tidu_store *s, const char *uscc, const char *name)
{
	tidu_kv kv[] = {{"name", name}};

	assert_int_equal(tidu_firm_add(s, uscc, kv, 1, NULL), 0);
}

#endif
