/*
 * Unit tests: the socket stream libgit2 uses (stream.c, net.h), against
 * real servers on 127.0.0.1: one that accepts and never answers (each read
 * bounded by TIDU_NET_TIMEOUT, over git:// and http://, the socket sent
 * with TCP_NODELAY), one that answers slowly but within the limit of each
 * read (not cut off, though the whole takes longer than the limit), and one
 * whose backlog is full, so that a connect is never answered (bounded by
 * TIDU_CONNECT_TIMEOUT, reported at connect or, deferred, at the first
 * write). test_net.c has the refused connect and the settings' defaults.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <git2.h>

#include "tidu/clock.h"
#include "tidu/i18n.h"
#include "tidu/net.h"

#define OID "0123456789abcdef0123456789abcdef01234567"

/* A listening socket on 127.0.0.1 (backlog `backlog`); its port in `port`. */
static int listener(int backlog, char port[16])
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(port, 16, "%u", (unsigned)ntohs(sa.sin_port));
	return fd;
}

typedef enum { SILENT, SLOW } server_mode;

typedef struct {
	int lfd;
	server_mode mode;
	int accepted;
	int nodelay; /* TCP_NODELAY of the client's end: 1, 0, -1 not found */
	pthread_t thread;
} server;

static int local_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 || sa.sin_family != AF_INET)
		return -1;
	return ntohs(sa.sin_port);
}

/* TCP_NODELAY of this process's socket whose local port is `port`; -1 if none. */
static int nodelay_of_port(int port, int except)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int found = -1;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		int fd = (int)strtol(de->d_name, NULL, 10), one = 0;
		socklen_t len = sizeof(one);

		if (de->d_name[0] == '.' || fd == except || local_port(fd) != port)
			continue;
		if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, &len) == 0)
			found = one != 0;
	}
	closedir(d);
	return found;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000 * 1000};

	nanosleep(&t, NULL);
}

static void *serve(void *arg)
{
	server *sv = arg;
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	struct timeval tv = {10, 0}; /* never hang the test */
	char buf[512];
	int fd = accept(sv->lfd, (struct sockaddr *)&peer, &len);

	if (fd < 0)
		return NULL;
	sv->accepted = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* The client's request: sent after connect set the socket's options. */
	if (recv(fd, buf, sizeof(buf), 0) <= 0)
		goto done;
	sv->nodelay = nodelay_of_port(ntohs(peer.sin_port), fd);
	if (sv->mode == SLOW) {
		/*
		 * A reference advertisement (pkt-lines) in three parts, 800 ms
		 * apart: each read waits less than the limit (2 s), the whole
		 * takes longer.
		 */
		static const struct {
			const char *p;
			size_t n;
		} parts[] = {
			{"0048" OID " refs/heads/m", 4 + 40 + 13},
			{"ain\0agent=test", 14},
			{"\n0000", 5},
		};
		size_t i;

		for (i = 0; i < 3; i++) {
			sleep_ms(800);
			if (send(fd, parts[i].p, parts[i].n, MSG_NOSIGNAL) < 0)
				goto done;
		}
	}
	/* Never a word (more): read whatever comes until the client goes. */
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
done:
	close(fd);
	return NULL;
}

static void server_start(server *sv, server_mode mode, char port[16])
{
	memset(sv, 0, sizeof(*sv));
	sv->lfd = listener(4, port);
	sv->mode = mode;
	sv->nodelay = -1;
	assert_int_equal(pthread_create(&sv->thread, NULL, serve, sv), 0);
}

static void server_stop(server *sv)
{
	shutdown(sv->lfd, SHUT_RDWR); /* wakes an accept that got nobody */
	pthread_join(sv->thread, NULL);
	close(sv->lfd);
}

/* Connects a detached remote to `url`: libgit2's message ("" if it worked), time taken. */
static int try_connect(const char *url, git_direction dir, int defer, char msg[512],
		       int64_t *took)
{
	git_remote *r = NULL;
	const git_error *e;
	int64_t t0;
	int rc;

	assert_int_equal(git_remote_create_detached(&r, url), 0);
	tidu_net_defer_connect_errors(defer);
	t0 = tidu_clock_mono_ms();
	rc = git_remote_connect(r, dir, NULL, NULL, NULL);
	*took = tidu_clock_mono_ms() - t0;
	tidu_net_defer_connect_errors(0);
	e = git_error_last();
	snprintf(msg, 512, "%s", rc < 0 && e && e->message ? e->message : "");
	if (rc == 0) {
		const git_remote_head **heads;
		size_t n;

		assert_int_equal(git_remote_ls(&heads, &n, r), 0);
		assert_int_equal(n, 1);
		assert_string_equal(heads[0]->name, "refs/heads/main");
		assert_string_equal(git_oid_tostr_s(&heads[0]->oid), OID);
		git_remote_disconnect(r);
	}
	git_remote_free(r);
	return rc;
}

static void test_limits_from_environment(void **state)
{
	(void)state;
	/* Per read or write: 1 to 86400 s, else the default. */
	setenv("TIDU_NET_TIMEOUT", "1", 1);
	assert_int_equal(tidu_net_wait_ms(), 1000);
	setenv("TIDU_NET_TIMEOUT", "86400", 1);
	assert_int_equal(tidu_net_wait_ms(), 86400000);
	setenv("TIDU_NET_TIMEOUT", "86401", 1);
	assert_int_equal(tidu_net_wait_ms(), TIDU_NET_WAIT_MS);
	setenv("TIDU_NET_TIMEOUT", "-1", 1);
	assert_int_equal(tidu_net_wait_ms(), TIDU_NET_WAIT_MS);
	setenv("TIDU_NET_TIMEOUT", "2 ", 1);
	assert_int_equal(tidu_net_wait_ms(), TIDU_NET_WAIT_MS);
	setenv("TIDU_NET_TIMEOUT", "", 1);
	assert_int_equal(tidu_net_wait_ms(), TIDU_NET_WAIT_MS);
	setenv("TIDU_NET_TIMEOUT", "1.5", 1);
	assert_int_equal(tidu_net_wait_ms(), TIDU_NET_WAIT_MS);
	/* To connect: 1 to 3600 s. */
	setenv("TIDU_CONNECT_TIMEOUT", "3600", 1);
	assert_int_equal(tidu_net_timeout_ms(), 3600000);
	setenv("TIDU_CONNECT_TIMEOUT", "3601", 1);
	assert_int_equal(tidu_net_timeout_ms(), TIDU_CONNECT_TIMEOUT_MS);
	setenv("TIDU_CONNECT_TIMEOUT", "1", 1);
	assert_int_equal(tidu_net_timeout_ms(), 1000);
	unsetenv("TIDU_NET_TIMEOUT");
	unsetenv("TIDU_CONNECT_TIMEOUT");
}

static void silent(const char *scheme)
{
	char port[16], url[96], msg[512], want[160];
	server sv;
	int64_t took;

	server_start(&sv, SILENT, port);
	snprintf(url, sizeof(url), "%s://127.0.0.1:%s/central.git", scheme, port);
	snprintf(want, sizeof(want),
		 "no answer from 127.0.0.1 port %s within 1 s "
		 "(TIDU_NET_TIMEOUT sets the limit)",
		 port);
	setenv("TIDU_NET_TIMEOUT", "1", 1);
	assert_true(try_connect(url, GIT_DIRECTION_FETCH, 0, msg, &took) < 0);
	unsetenv("TIDU_NET_TIMEOUT");
	server_stop(&sv);
	assert_true(sv.accepted);
	if (!strstr(msg, want))
		fail_msg("%s: '%s', want '%s'", scheme, msg, want);
	/* Waited the limit, not much less, not much more. */
	assert_true(took >= 900);
	assert_true(took < 4000);
	/* Small writes go out at once (no Nagle delay). */
	assert_int_equal(sv.nodelay, 1);
}

static void test_silent_git(void **state)
{
	(void)state;
	silent("git");
}

static void test_silent_http(void **state)
{
	(void)state;
	silent("http");
}

static void test_slow_within_limit(void **state)
{
	char port[16], url[96], msg[512];
	server sv;
	int64_t took;
	int rc;

	(void)state;
	server_start(&sv, SLOW, port);
	snprintf(url, sizeof(url), "git://127.0.0.1:%s/central.git", port);
	setenv("TIDU_NET_TIMEOUT", "2", 1);
	rc = try_connect(url, GIT_DIRECTION_FETCH, 0, msg, &took);
	unsetenv("TIDU_NET_TIMEOUT");
	server_stop(&sv);
	if (rc < 0)
		fail_msg("a slow server was cut off: %s", msg);
	/* The limit is on each read, not on the whole. */
	assert_true(took > 2000);
}

static void test_connect_never_answered(void **state)
{
	char port[16], url[96], msg[512], want[192];
	int lfd, fill[3], i;
	int64_t took;
	struct sockaddr_in sa;

	(void)state;
	/*
	 * A listener that never accepts, its backlog filled: the kernel drops
	 * further SYNs, so a connect gets no answer at all (only 127.0.0.1).
	 */
	lfd = listener(0, port);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)strtol(port, NULL, 10));
	for (i = 0; i < 3; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(fill[i] >= 0);
		(void)connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	sleep_ms(100);
	snprintf(url, sizeof(url), "git://127.0.0.1:%s/central.git", port);
	snprintf(want, sizeof(want),
		 "failed to connect to 127.0.0.1 port %s: no answer within 1 s "
		 "(TIDU_CONNECT_TIMEOUT sets the limit)", port);
	setenv("TIDU_CONNECT_TIMEOUT", "1", 1);
	assert_true(try_connect(url, GIT_DIRECTION_FETCH, 0, msg, &took) < 0);
	if (!strstr(msg, want))
		fail_msg("'%s', want '%s'", msg, want);
	assert_true(took >= 900 && took < 6000);
	/* Deferred (git:// push): the same message, from the first write. */
	assert_true(try_connect(url, GIT_DIRECTION_PUSH, 1, msg, &took) < 0);
	if (!strstr(msg, want))
		fail_msg("deferred: '%s', want '%s'", msg, want);
	assert_true(took >= 900 && took < 6000);
	unsetenv("TIDU_CONNECT_TIMEOUT");
	for (i = 0; i < 3; i++)
		close(fill[i]);
	close(lfd);
}

static int setup(void **state)
{
	(void)state;
	tidu_i18n_set("en");
	git_libgit2_init();
	return tidu_net_register_stream();
}

static int teardown(void **state)
{
	(void)state;
	git_libgit2_shutdown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits_from_environment),
		cmocka_unit_test(test_silent_git),
		cmocka_unit_test(test_silent_http),
		cmocka_unit_test(test_slow_within_limit),
		cmocka_unit_test(test_connect_never_answered),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
