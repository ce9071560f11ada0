/*
 * The key header (keyfile.h): creation, unlocking by passphrase and by
 * recovery key, passphrase changes (including kill -9 in the middle), and
 * damaged copies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "helpers.h"
#include "tidu/error.h"
#include "tidu/keyfile.h"

#if defined(__linux__) && defined(__x86_64__)
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#define HAVE_SYSCALL_STOPS 1
#endif

#define PASS "correct horse battery staple"
#define PASS2 "Tr0ub4dor&3 新口令"

static char dir[512];
static int counter;

static void new_path(char *out, size_t n)
{
	snprintf(out, n, "%s/store%d.db", dir, counter++);
}

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tidu-keyfile-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	th_rmtree(dir);
	return 0;
}

static void read_all(const char *path, unsigned char *buf, size_t n)
{
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	assert_int_equal(fread(buf, 1, n, f), n);
	fclose(f);
}

static void write_all(const char *path, const unsigned char *buf, size_t n)
{
	FILE *f = fopen(path, "r+b");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void flip(const char *path, long off)
{
	unsigned char b[TIDU_HEADER_SIZE];

	read_all(path, b, sizeof(b));
	b[off] ^= 0x20;
	write_all(path, b, sizeof(b));
}

static void create(const char *path, tidu_secret *s, char *recovery)
{
	char rec[TIDU_RECOVERY_TEXT_MAX];

	assert_int_equal(tidu_keyfile_create(path, PASS, strlen(PASS), s,
					     recovery ? recovery : rec,
					     TIDU_RECOVERY_TEXT_MAX), 0);
}

static void assert_secret_eq(const tidu_secret *a, const tidu_secret *b)
{
	assert_memory_equal(a->key, b->key, sizeof(a->key));
	assert_memory_equal(a->file_id, b->file_id, sizeof(a->file_id));
}

static void test_create_unlock(void **state)
{
	char path[600], rec[TIDU_RECOVERY_TEXT_MAX];
	tidu_secret s, u;
	struct stat st;
	size_t i;

	(void)state;
	new_path(path, sizeof(path));
	create(path, &s, rec);
	assert_false(sodium_is_zero(s.key, sizeof(s.key)));
	assert_false(sodium_is_zero(s.file_id, sizeof(s.file_id)));

	/* The file: just the header, private. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, TIDU_HEADER_SIZE);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* The recovery text: 14 groups of 4 from the Crockford alphabet. */
	assert_int_equal(strlen(rec), TIDU_RECOVERY_TEXT_MAX - 1);
	for (i = 0; rec[i]; i++) {
		if (i % 5 == 4)
			assert_int_equal(rec[i], '-');
		else
			assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", rec[i]));
	}

	assert_int_equal(tidu_keyfile_unlock(path, PASS, strlen(PASS), &u), 0);
	assert_secret_eq(&s, &u);
	assert_int_equal(tidu_keyfile_check(path), 0);

	/* The passphrase is its bytes: a prefix is not it. */
	assert_int_equal(tidu_keyfile_unlock(path, PASS, strlen(PASS) - 1, &u),
			 TIDU_EPASS);
	assert_true(sodium_is_zero((unsigned char *)&u, sizeof(u)));

	tidu_secret_wipe(&s);
	assert_true(sodium_is_zero((unsigned char *)&s, sizeof(s)));
	tidu_secret_wipe(NULL);
}

static void test_create_errors(void **state)
{
	char path[600], rec[TIDU_RECOVERY_TEXT_MAX];
	unsigned char before[TIDU_HEADER_SIZE], after[TIDU_HEADER_SIZE];
	tidu_secret s;

	(void)state;
	new_path(path, sizeof(path));
	assert_int_equal(tidu_keyfile_create(path, "", 0, &s, rec, sizeof(rec)),
			 TIDU_EINVAL);
	assert_int_equal(tidu_keyfile_create(path, PASS, strlen(PASS), &s, rec,
					     sizeof(rec) - 1), TIDU_EINVAL);
	assert_int_equal(access(path, F_OK), -1);

	create(path, &s, NULL);
	read_all(path, before, sizeof(before));
	assert_int_equal(tidu_keyfile_create(path, PASS, strlen(PASS), &s, rec,
					     sizeof(rec)), TIDU_EEXISTS);
	assert_true(strlen(tidu_error_message()) > 0);
	read_all(path, after, sizeof(after));
	assert_memory_equal(before, after, sizeof(before));

	snprintf(path, sizeof(path), "%s/no/such/dir.db", dir);
	assert_int_equal(tidu_keyfile_create(path, PASS, strlen(PASS), &s, rec,
					     sizeof(rec)), TIDU_ERROR);
	assert_int_equal(tidu_keyfile_unlock(path, PASS, strlen(PASS), &s),
			 TIDU_ENOTFOUND);
	assert_int_equal(tidu_keyfile_check(path), TIDU_ENOTFOUND);

	/* Not a store: too short. */
	new_path(path, sizeof(path));
	fclose(fopen(path, "wb"));
	assert_int_equal(tidu_keyfile_unlock(path, PASS, strlen(PASS), &s),
			 TIDU_ECORRUPT);
}

static void test_wrong_pass_leaves_file(void **state)
{
	char path[600];
	unsigned char before[TIDU_HEADER_SIZE], after[TIDU_HEADER_SIZE];
	struct stat st1, st2;
	tidu_secret s, u;

	(void)state;
	new_path(path, sizeof(path));
	create(path, &s, NULL);
	read_all(path, before, sizeof(before));
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(tidu_keyfile_unlock(path, "wrong", 5, &u), TIDU_EPASS);
	assert_int_equal(tidu_error_code(), TIDU_EPASS);
	assert_non_null(strstr(tidu_error_message(), path));
	assert_int_equal(tidu_keyfile_unlock(path, NULL, 0, &u), TIDU_EPASS);
	read_all(path, after, sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st1.st_mtim.tv_sec, st2.st_mtim.tv_sec);
	assert_int_equal(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
	assert_int_equal(st1.st_size, st2.st_size);
}

static void test_recovery(void **state)
{
	char path[600], other[600], rec[TIDU_RECOVERY_TEXT_MAX];
	char rec2[TIDU_RECOVERY_TEXT_MAX], text[200];
	tidu_secret s, s2, u;
	size_t i, n;

	(void)state;
	new_path(path, sizeof(path));
	new_path(other, sizeof(other));
	create(path, &s, rec);
	create(other, &s2, rec2);

	assert_int_equal(tidu_keyfile_unlock_recovery(path, rec, &u), 0);
	assert_secret_eq(&s, &u);

	/* Lower case, no dashes, O for 0, l for 1. */
	for (i = n = 0; rec[i]; i++) {
		char c = rec[i];

		if (c == '-')
			continue;
		text[n++] = c == '0' ? 'o' : c == '1' ? 'l' : (char)tolower((unsigned char)c);
	}
	text[n] = '\0';
	assert_int_equal(tidu_keyfile_unlock_recovery(path, text, &u), 0);
	assert_secret_eq(&s, &u);

	/* Groups separated by spaces, with a newline at the end. */
	for (i = n = 0; rec[i]; i++)
		text[n++] = rec[i] == '-' ? ' ' : rec[i];
	text[n++] = '\n';
	text[n] = '\0';
	assert_int_equal(tidu_keyfile_unlock_recovery(path, text, &u), 0);
	assert_secret_eq(&s, &u);

	/* Another store's recovery key is well-formed but wrong. */
	assert_int_equal(tidu_keyfile_unlock_recovery(path, rec2, &u), TIDU_EPASS);
	assert_true(sodium_is_zero((unsigned char *)&u, sizeof(u)));

	/* Malformed: short, long, foreign character, typo. */
	memcpy(text, rec, sizeof(rec));
	text[strlen(text) - 1] = '\0';
	assert_int_equal(tidu_keyfile_unlock_recovery(path, text, &u), TIDU_EINVAL);
	snprintf(text, sizeof(text), "%sA", rec);
	assert_int_equal(tidu_keyfile_unlock_recovery(path, text, &u), TIDU_EINVAL);
	memcpy(text, rec, sizeof(rec));
	text[0] = 'U';
	assert_int_equal(tidu_keyfile_unlock_recovery(path, text, &u), TIDU_EINVAL);
	memcpy(text, rec, sizeof(rec));
	text[7] = text[7] == 'Z' ? 'Y' : 'Z';
	assert_int_equal(tidu_keyfile_unlock_recovery(path, text, &u), TIDU_EINVAL);
	assert_int_equal(tidu_keyfile_unlock_recovery(path, "", &u), TIDU_EINVAL);

	/* The passphrase is not a recovery key and vice versa. */
	assert_int_equal(tidu_keyfile_unlock(path, rec, strlen(rec), &u), TIDU_EPASS);
}

static void test_set_passphrase(void **state)
{
	char path[600], other[600], rec[TIDU_RECOVERY_TEXT_MAX];
	unsigned char hdr[TIDU_HEADER_SIZE];
	tidu_secret s, s2, u;

	(void)state;
	new_path(path, sizeof(path));
	new_path(other, sizeof(other));
	create(path, &s, rec);
	create(other, &s2, NULL);

	assert_int_equal(tidu_keyfile_set_passphrase(path, &s, PASS2, strlen(PASS2)), 0);
	assert_int_equal(tidu_keyfile_unlock(path, PASS, strlen(PASS), &u), TIDU_EPASS);
	assert_int_equal(tidu_keyfile_unlock(path, PASS2, strlen(PASS2), &u), 0);
	assert_secret_eq(&s, &u);
	assert_int_equal(tidu_keyfile_unlock_recovery(path, rec, &u), 0);
	assert_secret_eq(&s, &u);
	assert_int_equal(tidu_keyfile_check(path), 0);

	/* Both copies carry generation 2. */
	read_all(path, hdr, sizeof(hdr));
	assert_int_equal(hdr[16], 2);
	assert_int_equal(hdr[2048 + 16], 2);
	assert_memory_equal(hdr, "TIDUKEYS", 8);

	/* Refused: another store's secret, an empty passphrase. */
	assert_int_equal(tidu_keyfile_set_passphrase(path, &s2, PASS, strlen(PASS)),
			 TIDU_EINVAL);
	assert_int_equal(tidu_keyfile_set_passphrase(path, &s, "", 0), TIDU_EINVAL);
	assert_int_equal(tidu_keyfile_unlock(path, PASS2, strlen(PASS2), &u), 0);
}

static void test_damaged_copies(void **state)
{
	static const long offsets[] = { 0, 9, 17, 30, 45, 64 + 20, 64 + 70,
					 64 + 100, 192 + 30, 192 + 80, 1000, 2016,
					 2047 };
	char path[600];
	unsigned char orig[TIDU_HEADER_SIZE];
	tidu_secret s, u;
	size_t i;
	int copy;

	(void)state;
	new_path(path, sizeof(path));
	create(path, &s, NULL);
	read_all(path, orig, sizeof(orig));

	for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		for (copy = 0; copy < 2; copy++) {
			write_all(path, orig, sizeof(orig));
			flip(path, copy * 2048 + offsets[i]);
			assert_int_equal(tidu_keyfile_unlock(path, PASS, strlen(PASS), &u), 0);
			assert_secret_eq(&s, &u);
			assert_int_equal(tidu_keyfile_check(path), TIDU_ECORRUPT);
			assert_non_null(strstr(tidu_error_message(),
					       copy ? "copy B" : "copy A"));
		}
		/* Both copies damaged: nothing to unlock with. */
		write_all(path, orig, sizeof(orig));
		flip(path, offsets[i]);
		flip(path, 2048 + offsets[(i + 3) % (sizeof(offsets) / sizeof(offsets[0]))]);
		assert_int_equal(tidu_keyfile_unlock(path, PASS, strlen(PASS), &u),
				 TIDU_ECORRUPT);
		assert_int_equal(tidu_keyfile_check(path), TIDU_ECORRUPT);
	}

	/* A copy damaged on disk is repaired by setting the passphrase. */
	write_all(path, orig, sizeof(orig));
	flip(path, 100);
	assert_int_equal(tidu_keyfile_set_passphrase(path, &s, PASS2, strlen(PASS2)), 0);
	assert_int_equal(tidu_keyfile_check(path), 0);
	assert_int_equal(tidu_keyfile_unlock(path, PASS2, strlen(PASS2), &u), 0);
	assert_secret_eq(&s, &u);
}

/* The states a crash between the two writes of a change can leave. */
static void test_interrupted_change(void **state)
{
	char path[600];
	unsigned char old[TIDU_HEADER_SIZE], new[TIDU_HEADER_SIZE];
	unsigned char mix[TIDU_HEADER_SIZE];
	tidu_secret s, u;
	int first;

	(void)state;
	new_path(path, sizeof(path));
	create(path, &s, NULL);
	read_all(path, old, sizeof(old));
	assert_int_equal(tidu_keyfile_set_passphrase(path, &s, PASS2, strlen(PASS2)), 0);
	read_all(path, new, sizeof(new));

	for (first = 0; first < 2; first++) {
		/* One copy rewritten, the other not yet: both passphrases work,
		 * check names the stale state. */
		memcpy(mix, old, sizeof(mix));
		memcpy(mix + first * 2048, new + first * 2048, 2048);
		write_all(path, mix, sizeof(mix));
		assert_int_equal(tidu_keyfile_unlock(path, PASS, strlen(PASS), &u), 0);
		assert_secret_eq(&s, &u);
		assert_int_equal(tidu_keyfile_unlock(path, PASS2, strlen(PASS2), &u), 0);
		assert_secret_eq(&s, &u);
		assert_int_equal(tidu_keyfile_check(path), TIDU_ECORRUPT);
		assert_non_null(strstr(tidu_error_message(), "differ"));

		/* The first write torn: the old passphrase still works. */
		memcpy(mix, old, sizeof(mix));
		memcpy(mix + first * 2048, new + first * 2048, 1024);
		write_all(path, mix, sizeof(mix));
		assert_int_equal(tidu_keyfile_unlock(path, PASS, strlen(PASS), &u), 0);
		assert_int_equal(tidu_keyfile_unlock(path, PASS2, strlen(PASS2), &u),
				 TIDU_EPASS);

		/* The second write torn: the new passphrase works. */
		memcpy(mix, new, sizeof(mix));
		memcpy(mix + (1 - first) * 2048 + 1024, old + (1 - first) * 2048 + 1024, 1024);
		write_all(path, mix, sizeof(mix));
		assert_int_equal(tidu_keyfile_unlock(path, PASS2, strlen(PASS2), &u), 0);
		assert_secret_eq(&s, &u);
		assert_int_equal(tidu_keyfile_unlock(path, PASS, strlen(PASS), &u),
				 TIDU_EPASS);
	}

	/* A stale state is repaired by the next change. */
	memcpy(mix, old, sizeof(mix));
	memcpy(mix, new, 2048);
	write_all(path, mix, sizeof(mix));
	assert_int_equal(tidu_keyfile_set_passphrase(path, &s, "third", 5), 0);
	assert_int_equal(tidu_keyfile_check(path), 0);
	assert_int_equal(tidu_keyfile_unlock(path, "third", 5, &u), 0);
	assert_int_equal(tidu_keyfile_unlock(path, PASS, strlen(PASS), &u), TIDU_EPASS);
	assert_int_equal(tidu_keyfile_unlock(path, PASS2, strlen(PASS2), &u), TIDU_EPASS);
}

/* kill -9 while passphrases are being changed in a loop. */
static void test_kill_during_change(void **state)
{
	static const char *const pw[] = { "alpha", "beta" };
	char path[600];
	tidu_secret s, u;
	int round, status, ok, i;
	pid_t pid;

	(void)state;
	new_path(path, sizeof(path));
	create(path, &s, NULL);
	assert_int_equal(tidu_keyfile_set_passphrase(path, &s, pw[0], 5), 0);
	srand((unsigned)time(NULL));
	for (round = 0; round < 5; round++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			for (i = 1;; i++)
				if (tidu_keyfile_set_passphrase(path, &s, pw[i % 2],
								strlen(pw[i % 2])) < 0)
					_exit(3);
		}
		usleep((useconds_t)(50000 + rand() % 300000));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		for (ok = i = 0; i < 2; i++)
			if (tidu_keyfile_unlock(path, pw[i], strlen(pw[i]), &u) == 0) {
				assert_secret_eq(&s, &u);
				ok++;
			}
		assert_true(ok >= 1);
	}
	/* Whatever state it was left in, a change completes it. */
	assert_int_equal(tidu_keyfile_set_passphrase(path, &s, PASS, strlen(PASS)), 0);
	assert_int_equal(tidu_keyfile_check(path), 0);
}

#ifdef HAVE_SYSCALL_STOPS
/*
 * Runs tidu_keyfile_set_passphrase(pass) in a child stopped at every system
 * call and kills it at the `stop`-th stop at a pwrite64 (each call stops at
 * entry and at exit). Returns 1 if it was killed, 0 if it finished first,
 * -1 if ptrace is not available here.
 */
static int change_killed_at(const char *path, const tidu_secret *s,
			    const char *pass, int stop)
{
	struct user_regs_struct regs;
	int status, n = 0, sig = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			_exit(90);
		raise(SIGSTOP);
		_exit(tidu_keyfile_set_passphrase(path, s, pass, strlen(pass)) == 0 ? 0 : 3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status))
		return -1;
	ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACESYSGOOD |
							    PTRACE_O_EXITKILL));
	for (;;) {
		assert_int_equal(ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig), 0);
		sig = 0;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (WIFEXITED(status)) {
			assert_int_equal(WEXITSTATUS(status), 0);
			return 0;
		}
		assert_true(WIFSTOPPED(status));
		if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
			sig = WSTOPSIG(status) == SIGSTOP ? 0 : WSTOPSIG(status);
			continue;
		}
		assert_int_equal(ptrace(PTRACE_GETREGS, pid, NULL, &regs), 0);
		if (regs.orig_rax == SYS_pwrite64 && ++n == stop) {
			kill(pid, SIGKILL);
			assert_int_equal(waitpid(pid, &status, 0), pid);
			return 1;
		}
	}
}

static int opens(const char *path, const char *pass, const tidu_secret *s)
{
	tidu_secret u;

	if (tidu_keyfile_unlock(path, pass, strlen(pass), &u) != 0)
		return 0;
	assert_secret_eq(s, &u);
	return 1;
}

/*
 * kill -9 at every point of a passphrase change where the file is written,
 * from a clean header and from one left by an interrupted change; and each
 * write torn in half (a power cut). The passphrase in use before the change
 * (the newest copy's) or the new one must always open the store.
 */
static void test_kill_at_each_write(void **state)
{
	char path[600];
	unsigned char p1[TIDU_HEADER_SIZE], p2[TIDU_HEADER_SIZE];
	unsigned char start[TIDU_HEADER_SIZE], after[TIDU_HEADER_SIZE];
	unsigned char torn[TIDU_HEADER_SIZE];
	const char *current;
	tidu_secret s;
	int kind, stop, killed, c, writes;

	(void)state;
	new_path(path, sizeof(path));
	create(path, &s, NULL);
	assert_int_equal(tidu_keyfile_set_passphrase(path, &s, "one", 3), 0);
	read_all(path, p1, sizeof(p1));
	assert_int_equal(tidu_keyfile_set_passphrase(path, &s, "two", 3), 0);
	read_all(path, p2, sizeof(p2));

	/* 0: clean; 1: A newer ("two") than B ("one"); 2: the reverse. */
	for (kind = 0; kind < 3; kind++) {
		memcpy(start, p2, sizeof(start));
		if (kind)
			memcpy(start + (kind == 1 ? 2048 : 0), p1 + (kind == 1 ? 2048 : 0), 2048);
		current = "two";
		for (stop = 1, writes = 0; stop <= 6; stop++) {
			write_all(path, start, sizeof(start));
			killed = change_killed_at(path, &s, "three", stop);
			if (killed < 0) {
				print_message("ptrace unavailable: test skipped\n");
				return;
			}
			read_all(path, after, sizeof(after));
			assert_true(opens(path, current, &s) || opens(path, "three", &s));
			if (!killed) {
				/* Finished: only the new passphrase. */
				assert_true(opens(path, "three", &s));
				assert_false(opens(path, current, &s));
				assert_int_equal(tidu_keyfile_check(path), 0);
				break;
			}
			/* Each copy written so far, torn in half instead. */
			for (c = 0; c < 2; c++) {
				if (memcmp(start + c * 2048, after + c * 2048, 2048) == 0)
					continue;
				writes++;
				memcpy(torn, after, sizeof(torn));
				memcpy(torn + c * 2048 + 1024, start + c * 2048 + 1024, 1024);
				write_all(path, torn, sizeof(torn));
				assert_true(opens(path, current, &s) || opens(path, "three", &s));
			}
		}
		assert_int_equal(stop, 5); /* two pwrite calls: four stops */
		assert_true(writes >= 3);
	}
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_unlock),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_wrong_pass_leaves_file),
		cmocka_unit_test(test_recovery),
		cmocka_unit_test(test_set_passphrase),
		cmocka_unit_test(test_damaged_copies),
		cmocka_unit_test(test_interrupted_change),
		cmocka_unit_test(test_kill_during_change),
#ifdef HAVE_SYSCALL_STOPS
		cmocka_unit_test(test_kill_at_each_write),
#endif
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
