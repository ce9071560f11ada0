/*
 * Unit tests: enrollment through the repository (src/core/sync/enroll.c).
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

static void test_enrollment_through_the_repository(void **state)
{
	fixture *f = *state;
	tidu_store *c;
	tidu_sync_report rep;
	tidu_sync_request *reqs = NULL;
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
	assert_int_equal(tidu_sync_requests(f->a, &reqs, &n), TIDU_EINVAL);
	assert_int_equal(tidu_sync_requests(f->city, &reqs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(reqs[0].req.device, tidu_store_device(c));
	assert_int_equal(tidu_trust_identity(f->city, &id), 0);
	assert_int_equal(tidu_sync_request_admit(f->city, reqs[0].req.device, &info), 0);
	free(reqs);
	assert_int_equal(tidu_sync_request_admit(f->city, tidu_store_device(c), &info),
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enrollment_through_the_repository, setup,
						teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
