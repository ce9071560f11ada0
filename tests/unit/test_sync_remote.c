/*
 * Unit tests: remotes (src/core/sync/remote.c): URL normalisation, the
 * remote table.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test_setup_teardown(test_remotes, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
