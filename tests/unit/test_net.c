/*
 * Unit tests: net.h, a refused connect reported with host and port in both
 * directions (and, under LeakSanitizer, without libgit2's leak of a refused
 * git:// push). The limits from the environment and servers that never
 * answer are test_stream.c's.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <git2.h>

#include "tidu/net.h"

/* A socket listening on 127.0.0.1 that never accepts; its port in `port`. */
static int listener(char port[16])
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(port, 16, "%u", (unsigned)ntohs(sa.sin_port));
	return fd;
}

/* Connects a detached remote to `url` in `dir`; the error message, or "". */
static const char *try_connect(const char *url, git_direction dir, int defer)
{
	static char msg[512];
	git_remote *r = NULL;
	const git_error *e;
	int rc;

	assert_int_equal(git_remote_create_detached(&r, url), 0);
	tidu_net_defer_connect_errors(defer);
	rc = git_remote_connect(r, dir, NULL, NULL, NULL);
	tidu_net_defer_connect_errors(0);
	e = git_error_last();
	snprintf(msg, sizeof(msg), "%s", rc < 0 && e && e->message ? e->message : "");
	git_remote_free(r);
	return msg;
}

static void test_refused(void **state)
{
	char port[16], url[64], want[64];
	int fd;

	(void)state;
	fd = listener(port);
	close(fd); /* nobody listens there now */
	snprintf(url, sizeof(url), "git://127.0.0.1:%s/central.git", port);
	snprintf(want, sizeof(want), "failed to connect to 127.0.0.1 port %s", port);
	assert_non_null(strstr(try_connect(url, GIT_DIRECTION_PUSH, 1), want));
	assert_non_null(strstr(try_connect(url, GIT_DIRECTION_FETCH, 1), want));
	assert_non_null(strstr(try_connect(url, GIT_DIRECTION_FETCH, 0), want));
	snprintf(url, sizeof(url), "http://127.0.0.1:%s/central.git", port);
	assert_non_null(strstr(try_connect(url, GIT_DIRECTION_FETCH, 0), want));
}

static int setup(void **state)
{
	(void)state;
	git_libgit2_init();
	return tidu_net_register_stream();
}

static int teardown(void **state)
{
	(void)state;
	git_libgit2_shutdown();
	return 0;
}

/* The limits and a silent server: test_stream.c. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
