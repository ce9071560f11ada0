/*
 * Unit tests: the layout of device trees (src/core/sync/tree.c).
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

static void test_cs_path(void **state)
{
	char p[48];

	(void)state;
	tidu_sync_changeset_path(1, p, sizeof(p));
	assert_string_equal(p, "cs/0000/000/000000000001.tcs");
	tidu_sync_changeset_path(249, p, sizeof(p));
	assert_string_equal(p, "cs/0000/000/000000000249.tcs");
	tidu_sync_changeset_path(250, p, sizeof(p));
	assert_string_equal(p, "cs/0000/001/000000000250.tcs");
	tidu_sync_changeset_path(62499, p, sizeof(p));
	assert_string_equal(p, "cs/0000/249/000000062499.tcs");
	tidu_sync_changeset_path(62500, p, sizeof(p));
	assert_string_equal(p, "cs/0001/000/000000062500.tcs");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cs_path),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
