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

/* Issue 9 item 13: a name git refuses as a ref name is refused at add. */
static void test_remote_names(void **state)
{
	static const char *const bad[] = {
		"a.lock", "origin.lock", "a..b", ".hidden", "-x", "a.", "a b", "a/b",
		"a~1", "a^", "a:b", "a?", "a*", "a[", "a\\b", "a\033", "a@{1}", "", NULL,
	};
	static const char *const good[] = {"a.locks", "a.b", "hub-2", "x_y", "lock", NULL};
	fixture *f = *state;
	char long_name[80];
	size_t i;

	for (i = 0; bad[i]; i++) {
		tidu_error_clear();
		if (tidu_remote_add(f->a, bad[i], "git://x/y") != TIDU_EINVAL)
			fail_msg("remote name '%s' accepted", bad[i]);
		assert_non_null(strstr(tidu_error_message(), "invalid remote name"));
	}
	for (i = 0; good[i]; i++)
		if (tidu_remote_add(f->a, good[i], "git://x/y") != 0)
			fail_msg("remote name '%s' refused: %s", good[i], tidu_error_message());
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	assert_int_equal(tidu_remote_add(f->a, long_name, "git://x/y"), TIDU_EINVAL);
	long_name[64] = '\0';
	assert_int_equal(tidu_remote_add(f->a, long_name, "git://x/y"), 0);
}

/* The URL as shown: the password of the userinfo replaced, the rest kept. */
static void test_redact(void **state)
{
	static const char *const cases[][2] = {
		{"https://li:s3cret@git.example/c.git", "https://li:***@git.example/c.git"},
		{"http://li:p@ss@10.0.0.2:8080/c.git", "http://li:***@10.0.0.2:8080/c.git"},
		{"https://:tok@host/x", "https://:***@host/x"},
		{"ssh://git:pw@host:22/x.git", "ssh://git:***@host:22/x.git"},
		{"https://li@git.example/c.git", "https://li@git.example/c.git"},
		{"https://git.example/c.git", "https://git.example/c.git"},
		{"https://host/a:b@c", "https://host/a:b@c"},
		{"git://127.0.0.1:9418/c.git", "git://127.0.0.1:9418/c.git"},
		{"git@example.org:city/central.git", "git@example.org:city/central.git"},
		{"/srv/git/a:b@c.git", "/srv/git/a:b@c.git"},
		{NULL, NULL},
	};
	fixture *f = *state;
	tidu_remote *list = NULL;
	size_t i, n = 0;
	char *shown;

	for (i = 0; cases[i][0]; i++) {
		shown = tidu_remote_redact(cases[i][0]);
		if (strcmp(shown, cases[i][1]))
			fail_msg("'%s' shown as '%s', want '%s'", cases[i][0], shown, cases[i][1]);
		free(shown);
	}
	/* Stored as given (sync needs it), shown redacted; a second add says so. */
	assert_int_equal(tidu_remote_add(f->a, "hub", "https://li:s3cret@git.example/c.git"), 0);
	assert_int_equal(tidu_remote_list(f->a, &list, &n), 0);
	assert_string_equal(list[0].url, "https://li:s3cret@git.example/c.git");
	tidu_remote_list_free(list, n);
	assert_int_equal(tidu_remote_add(f->a, "hub", "git://x/y"), TIDU_EEXISTS);
	assert_null(strstr(tidu_error_message(), "s3cret"));
	assert_non_null(strstr(tidu_error_message(), "li:***@"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test_setup_teardown(test_remotes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remote_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redact, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
