/* Unit tests: net.h (the reachability check before libgit2 connects). */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tidu/error.h"
#include "tidu/net.h"

static void expect_endpoint(const char *url, int rc, const char *host, const char *port)
{
	char h[64], p[16];

	assert_int_equal(tidu_net_endpoint(url, h, sizeof(h), p, sizeof(p)), rc);
	if (rc == 1) {
		assert_string_equal(h, host);
		assert_string_equal(p, port);
	}
}

static void test_endpoints(void **state)
{
	(void)state;
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	expect_endpoint("git://127.0.0.1:9418/central.git", 1, "127.0.0.1", "9418");
	expect_endpoint("git://git.example.org/central.git", 1, "git.example.org", "9418");
	expect_endpoint("http://u:p@h.example:8080/x.git", 1, "h.example", "8080");
	expect_endpoint("https://h.example/city/central.git", 1, "h.example", "443");
	expect_endpoint("http://h.example", 1, "h.example", "80");
	expect_endpoint("ssh://git@h.example:2222/srv/c.git", 1, "h.example", "2222");
	expect_endpoint("ssh://[::1]:2222/c.git", 1, "::1", "2222");
	expect_endpoint("https://[2001:db8::1]/c.git", 1, "2001:db8::1", "443");
	expect_endpoint("git@h.example:city/central.git", 1, "h.example", "22");
	expect_endpoint("/srv/git/central.git", 0, NULL, NULL);
	expect_endpoint("file:///srv/git/central.git", 0, NULL, NULL);
	expect_endpoint("relative/dir:with/colon", 0, NULL, NULL);
	expect_endpoint("git:///nohost.git", TIDU_EINVAL, NULL, NULL);
	expect_endpoint("ssh://[::1/c.git", TIDU_EINVAL, NULL, NULL);
	/* A proxy is what http(s) would reach: no check of the host. */
	setenv("https_proxy", "http://proxy.example:3128", 1);
	expect_endpoint("https://h.example/c.git", 0, NULL, NULL);
	expect_endpoint("git://h.example/c.git", 1, "h.example", "9418");
	unsetenv("https_proxy");
}

/* A listening socket on 127.0.0.1; its port in `port`. */
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

static void test_reach(void **state)
{
	char port[16];
	int fd;

	(void)state;
	fd = listener(port);
	assert_int_equal(tidu_net_reach("127.0.0.1", port, 2000), 0);
	close(fd); /* now nobody listens there */
	assert_int_equal(tidu_net_reach("127.0.0.1", port, 2000), TIDU_ERROR);
	assert_non_null(strstr(tidu_error_message(), "127.0.0.1"));
	assert_non_null(strstr(tidu_error_message(), port));
	assert_non_null(strstr(tidu_error_message(), "refused"));
	assert_int_equal(tidu_net_reach("no-such-host.invalid", "9418", 2000), TIDU_ERROR);
	assert_non_null(strstr(tidu_error_message(), "no-such-host.invalid"));
}

static void test_timeout_setting(void **state)
{
	(void)state;
	unsetenv("TIDU_CONNECT_TIMEOUT");
	assert_int_equal(tidu_net_timeout_ms(), TIDU_CONNECT_TIMEOUT_MS);
	setenv("TIDU_CONNECT_TIMEOUT", "3", 1);
	assert_int_equal(tidu_net_timeout_ms(), 3000);
	setenv("TIDU_CONNECT_TIMEOUT", "0", 1);
	assert_int_equal(tidu_net_timeout_ms(), TIDU_CONNECT_TIMEOUT_MS);
	setenv("TIDU_CONNECT_TIMEOUT", "5s", 1);
	assert_int_equal(tidu_net_timeout_ms(), TIDU_CONNECT_TIMEOUT_MS);
	unsetenv("TIDU_CONNECT_TIMEOUT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_reach),
		cmocka_unit_test(test_timeout_setting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
