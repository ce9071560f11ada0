/*
 * Unit tests: agent.h — the key agent as a real process on a real Unix
 * socket: its path (per store, in a directory only this user can enter),
 * no agent (ENOTFOUND, a stale socket replaced), a running agent handing
 * out the key, saying what it is and refusing a second agent or a bad
 * request, a key of another store refused by the store, and the agent
 * stopping on request, when idle, at its maximum lifetime and when its
 * socket is removed. Short timeouts keep it under a few seconds.
 */
#define _GNU_SOURCE /* setresuid */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "helpers.h"
#include "tidu/agent.h"
#include "tidu/alloc.h"
#include "tidu/clock.h"
#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/keyfile.h"
#include "tidu/store.h"

#define PASS "agent unit passphrase"

typedef struct {
	char dir[64];     /* the store's home */
	char runtime[64]; /* $XDG_RUNTIME_DIR */
	char db[128];
	tidu_secret secret;
	pid_t pid; /* the agent, 0 if none */
} fixture;

static int setup(void **state)
{
	fixture *f = tidu_calloc(1, sizeof(*f));
	char recovery[TIDU_RECOVERY_TEXT_MAX];

	tidu_i18n_set("en");
	snprintf(f->dir, sizeof(f->dir), "/tmp/tidu-agent-store.XXXXXX");
	snprintf(f->runtime, sizeof(f->runtime), "/tmp/tidu-agent-rt.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_non_null(mkdtemp(f->runtime)); /* mode 0700, ours */
	snprintf(f->db, sizeof(f->db), "%s/tidu.db", f->dir);
	/* Our own runtime directory: never another test's (or person's) agents. */
	setenv("XDG_RUNTIME_DIR", f->runtime, 1);
	if (tidu_keyfile_create(f->db, PASS, strlen(PASS), &f->secret, recovery,
				sizeof(recovery)) < 0)
		fail_msg("keyfile: %s", tidu_error_message());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	tidu_secret_wipe(&f->secret);
	th_rmtree(f->dir);
	th_rmtree(f->runtime);
	unsetenv("XDG_RUNTIME_DIR");
	free(f);
	return 0;
}

/* Starts an agent process serving `secret` for f->db; its pid in f->pid. */
static void start_agent(fixture *f, const tidu_secret *secret, int64_t idle_ms,
			int64_t max_ms)
{
	tidu_secret copy = *secret;
	int fd;

	if (tidu_agent_listen(f->db, &fd) < 0)
		fail_msg("listen: %s", tidu_error_message());
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0)
		_exit(tidu_agent_serve(fd, f->db, &copy, idle_ms, max_ms) < 0 ? 1 : 0);
	close(fd);
	tidu_secret_wipe(&copy);
}

/* Waits up to `ms` for the agent to exit: how long it took, -1 if it did not. */
static int64_t wait_exit(fixture *f, int64_t ms, int *status)
{
	int64_t t0 = tidu_clock_mono_ms();
	struct timespec nap = {0, 10 * 1000 * 1000};

	for (;;) {
		pid_t r = waitpid(f->pid, status, WNOHANG);

		assert_true(r >= 0);
		if (r == f->pid) {
			f->pid = 0;
			return tidu_clock_mono_ms() - t0;
		}
		if (tidu_clock_mono_ms() - t0 > ms)
			return -1;
		nanosleep(&nap, NULL);
	}
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000 * 1000};

	nanosleep(&t, NULL);
}

/* Sends `req` to the socket at `path` as is; the answer's length in `reply`. */
static ssize_t raw_ask(const char *path, const char *req, char *reply, size_t size)
{
	struct sockaddr_un sa;
	ssize_t n, got = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	/* An agent that refuses may answer and close before reading: read anyway. */
	(void)send(fd, req, strlen(req), MSG_NOSIGNAL);
	while ((size_t)got < size && (n = recv(fd, reply + got, size - (size_t)got, 0)) > 0)
		got += n;
	close(fd);
	return got;
}

static void test_path(void **state)
{
	fixture *f = *state;
	tidu_buf a = TIDU_BUF_INIT, b = TIDU_BUF_INIT;
	char dir[128], link[128], longdir[200];
	struct stat sb;
	size_t prefix;

	/* No directory yet, and not asked to make it: no agent. */
	snprintf(dir, sizeof(dir), "%s/tidu-agent", f->runtime);
	assert_int_equal(tidu_agent_path(f->db, 0, &a), TIDU_ENOTFOUND);
	assert_int_equal(tidu_agent_path(f->db, 1, &a), 0);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	/* <dir>/<16 hex>.sock, the same for the same store by any name. */
	prefix = strlen(dir) + 1;
	assert_int_equal(strncmp(a.ptr, dir, strlen(dir)), 0);
	assert_int_equal(a.len, prefix + 16 + 5);
	assert_int_equal(strspn(a.ptr + prefix, "0123456789abcdef"), 16);
	assert_string_equal(a.ptr + prefix + 16, ".sock");
	assert_int_equal(tidu_agent_path(f->db, 0, &b), 0);
	assert_string_equal(a.ptr, b.ptr);
	snprintf(link, sizeof(link), "%s/link.db", f->dir);
	assert_int_equal(symlink(f->db, link), 0);
	assert_int_equal(tidu_agent_path(link, 0, &b), 0);
	assert_string_equal(a.ptr, b.ptr);
	/* Another store, another socket. */
	snprintf(link, sizeof(link), "%s/other.db", f->dir);
	fclose(fopen(link, "w"));
	assert_int_equal(tidu_agent_path(link, 0, &b), 0);
	assert_string_not_equal(a.ptr, b.ptr);

	snprintf(link, sizeof(link), "%s/missing.db", f->dir);
	assert_int_equal(tidu_agent_path(link, 1, &b), TIDU_ENOTFOUND);
	assert_non_null(strstr(tidu_error_message(), "no store at '"));

	/* A directory others may enter is not used. */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(tidu_agent_path(f->db, 1, &b), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(),
			       "is open to other users (mode 755, 0700 needed)"));
	assert_int_equal(tidu_agent_fetch(f->db, &(tidu_secret){{0}, {0}}), TIDU_EINVAL);
	assert_int_equal(chmod(dir, 0700), 0);

	/* A socket path longer than a Unix socket address holds. */
	prefix = (size_t)snprintf(longdir, sizeof(longdir), "%s/", f->runtime);
	memset(longdir + prefix, 'x', 100);
	longdir[prefix + 100] = '\0';
	assert_int_equal(mkdir(longdir, 0700), 0);
	setenv("XDG_RUNTIME_DIR", longdir, 1);
	assert_int_equal(tidu_agent_path(f->db, 1, &b), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "is too long"));
	setenv("XDG_RUNTIME_DIR", f->runtime, 1);
	tidu_buf_free(&a);
	tidu_buf_free(&b);
}

static void test_no_agent(void **state)
{
	fixture *f = *state;
	tidu_secret got;
	tidu_agent_info info;
	int fd, fd2;

	memset(&got, 0xAA, sizeof(got));
	assert_int_equal(tidu_agent_fetch(f->db, &got), TIDU_ENOTFOUND);
	assert_string_equal(tidu_error_message(), "no agent is running for this store");
	/* Nothing left in the output of a failed fetch. */
	assert_true(sodium_is_zero((const unsigned char *)&got, sizeof(got)));
	assert_int_equal(tidu_agent_query(f->db, &info), TIDU_ENOTFOUND);
	assert_int_equal(tidu_agent_stop(f->db), TIDU_ENOTFOUND);

	/* A socket nobody answers on (its agent was killed): still no agent... */
	assert_int_equal(tidu_agent_listen(f->db, &fd), 0);
	close(fd);
	assert_int_equal(tidu_agent_fetch(f->db, &got), TIDU_ENOTFOUND);
	/* ...and the next agent replaces it. */
	assert_int_equal(tidu_agent_listen(f->db, &fd2), 0);
	close(fd2);
}

static void test_serve(void **state)
{
	fixture *f = *state;
	tidu_buf path = TIDU_BUF_INIT;
	tidu_agent_info info;
	tidu_secret got;
	struct stat sb;
	char reply[64];
	int fd, status;

	start_agent(f, &f->secret, 10000, 20000);
	assert_int_equal(tidu_agent_path(f->db, 0, &path), 0);
	assert_int_equal(tidu_agent_query(f->db, &info), 0); /* serving */
	assert_int_equal(stat(path.ptr, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	/* agent.h says 0600; it is 0700 (umask 077): either way, ours alone. */
	assert_int_equal(sb.st_mode & 077, 0);

	assert_int_equal(tidu_agent_fetch(f->db, &got), 0);
	assert_memory_equal(&got, &f->secret, sizeof(got));
	assert_int_equal(tidu_keyfile_check_secret(f->db, &got), 0);
	tidu_secret_wipe(&got);

	assert_int_equal(tidu_agent_query(f->db, &info), 0);
	assert_int_equal(info.pid, f->pid);
	assert_true(info.idle_left_ms > 0 && info.idle_left_ms <= 10000);
	assert_true(info.life_left_ms > 0 && info.life_left_ms <= 20000);

	/* One agent per store. */
	assert_int_equal(tidu_agent_listen(f->db, &fd), TIDU_EEXISTS);
	assert_string_equal(tidu_error_message(),
			    "an agent is running for this store already");
	/* Anything but the three requests: "E". */
	assert_int_equal(raw_ask(path.ptr, "HELLO\n", reply, sizeof(reply)), 2);
	assert_memory_equal(reply, "E\n", 2);
	assert_int_equal(raw_ask(path.ptr, "GETX\n", reply, sizeof(reply)), 2);
	assert_memory_equal(reply, "E\n", 2);

	assert_int_equal(tidu_agent_stop(f->db), 0);
	assert_true(wait_exit(f, 5000, &status) >= 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* It took its socket with it. */
	assert_int_equal(stat(path.ptr, &sb), -1);
	assert_int_equal(tidu_agent_fetch(f->db, &got), TIDU_ENOTFOUND);
	tidu_buf_free(&path);
}

static void test_wrong_key(void **state)
{
	fixture *f = *state;
	tidu_secret bad = f->secret, got;
	tidu_store *s = NULL;
	char home[64];
	char db[128];

	/* An agent holding another key: the header refuses it. */
	bad.key[0] ^= 1;
	start_agent(f, &bad, 10000, 20000);
	assert_int_equal(tidu_agent_fetch(f->db, &got), 0);
	assert_memory_equal(&got, &bad, sizeof(got));
	assert_int_equal(tidu_keyfile_check_secret(f->db, &got), TIDU_EPASS);
	tidu_secret_wipe(&got);
	assert_int_equal(tidu_agent_stop(f->db), 0);
	assert_true(wait_exit(f, 5000, NULL) >= 0);
	/* The right key of another file (its id differs): refused too. */
	bad = f->secret;
	bad.file_id[TIDU_FILE_ID_BYTES - 1] ^= 0x80;
	start_agent(f, &bad, 10000, 20000);
	assert_int_equal(tidu_agent_fetch(f->db, &got), 0);
	assert_int_equal(tidu_keyfile_check_secret(f->db, &got), TIDU_EPASS);
	assert_int_equal(tidu_agent_stop(f->db), 0);
	assert_true(wait_exit(f, 5000, NULL) >= 0);

	/* A whole store: opened with its agent's key, never with another's. */
	tidu_store_free(th_store(home, "agent-home", "410105", "officer", PASS));
	snprintf(db, sizeof(db), "%s/tidu.db", home);
	memcpy(f->db, db, sizeof(db));
	assert_int_equal(tidu_keyfile_unlock(f->db, PASS, strlen(PASS), &bad), 0);
	start_agent(f, &bad, 10000, 20000);
	assert_int_equal(tidu_agent_fetch(f->db, &got), 0);
	assert_int_equal(tidu_store_open_secret(&s, home, &got), 0);
	tidu_store_free(s);
	s = NULL;
	got.key[TIDU_KEY_BYTES - 1] ^= 1;
	assert_int_equal(tidu_store_open_secret(&s, home, &got), TIDU_EPASS);
	assert_null(s);
	assert_int_equal(tidu_agent_stop(f->db), 0);
	assert_true(wait_exit(f, 5000, NULL) >= 0);
	tidu_secret_wipe(&got);
	tidu_secret_wipe(&bad);
	th_rmtree(home);
}

static void test_idle(void **state)
{
	fixture *f = *state;
	tidu_agent_info info;
	tidu_secret got;
	int64_t t0, took;
	int i, status;

	/* Each use restarts the idle time: 8 uses 150 ms apart outlive it. */
	start_agent(f, &f->secret, 600, 20000);
	t0 = tidu_clock_mono_ms();
	for (i = 0; i < 8; i++) {
		sleep_ms(150);
		if (tidu_agent_fetch(f->db, &got) < 0)
			fail_msg("use %d: %s", i, tidu_error_message());
	}
	tidu_secret_wipe(&got);
	assert_true(tidu_clock_mono_ms() - t0 > 1000);
	/* Questions are no use: asked all the time, they do not keep it alive. */
	t0 = tidu_clock_mono_ms();
	while (tidu_clock_mono_ms() - t0 < 4000 && tidu_agent_query(f->db, &info) == 0) {
		assert_true(info.idle_left_ms <= 600);
		sleep_ms(100);
	}
	took = tidu_clock_mono_ms() - t0;
	assert_true(took < 3000);
	assert_true(wait_exit(f, 3000, &status) >= 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(tidu_agent_fetch(f->db, &got), TIDU_ENOTFOUND);
}

static void test_max_life(void **state)
{
	fixture *f = *state;
	tidu_secret got;
	int64_t t0 = tidu_clock_mono_ms(), took;
	int status;

	/* Used all the time, it still stops at its maximum lifetime. */
	start_agent(f, &f->secret, 10000, 700);
	while (tidu_clock_mono_ms() - t0 < 5000 && tidu_agent_fetch(f->db, &got) == 0)
		sleep_ms(50);
	tidu_secret_wipe(&got);
	took = tidu_clock_mono_ms() - t0;
	assert_true(took >= 600);
	assert_true(took < 5000);
	assert_true(wait_exit(f, 3000, &status) >= 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_socket_removed(void **state)
{
	fixture *f = *state;
	tidu_buf path = TIDU_BUF_INIT;
	int64_t took;

	/* Removing its socket is how to make an agent go (its next check, 1 s). */
	start_agent(f, &f->secret, 10000, 20000);
	assert_int_equal(tidu_agent_path(f->db, 0, &path), 0);
	assert_int_equal(unlink(path.ptr), 0);
	took = wait_exit(f, 4000, NULL);
	assert_true(took >= 0);
	tidu_buf_free(&path);
}

static void test_other_user(void **state)
{
	fixture *f = *state;
	tidu_buf path = TIDU_BUF_INIT;
	char dir[128];
	pid_t child;
	int status;

	if (getuid() != 0)
		skip(); /* needs root to be another user */
	start_agent(f, &f->secret, 10000, 20000);
	assert_int_equal(tidu_agent_path(f->db, 0, &path), 0);
	/* Serving first: an agent does not start in a directory others may enter. */
	{
		tidu_agent_info info;

		assert_int_equal(tidu_agent_query(f->db, &info), 0);
	}
	/*
	 * The modes normally keep other users out; opened up here so that the
	 * agent's own check of the peer is what stands in the way.
	 */
	snprintf(dir, sizeof(dir), "%s/tidu-agent", f->runtime);
	assert_int_equal(chmod(f->runtime, 0711), 0);
	assert_int_equal(chmod(dir, 0711), 0);
	assert_int_equal(chmod(path.ptr, 0666), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char reply[64];
		ssize_t n;

		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(3);
		n = raw_ask(path.ptr, "GET\n", reply, sizeof(reply));
		if (n == 2 && !memcmp(reply, "E\n", 2))
			_exit(0);
		_exit(n > 0 && reply[0] == 'K' ? 1 : 2); /* 1: it gave the key away */
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	tidu_buf_free(&path);
	assert_int_equal(chmod(f->runtime, 0700), 0);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The stranger's request changed nothing: the agent still serves us. */
	{
		tidu_secret got;

		assert_int_equal(tidu_agent_fetch(f->db, &got), 0);
		assert_memory_equal(&got, &f->secret, sizeof(got));
		tidu_secret_wipe(&got);
	}
	assert_int_equal(tidu_agent_stop(f->db), 0);
	assert_true(wait_exit(f, 5000, NULL) >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_agent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_life, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_user, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
