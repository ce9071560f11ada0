/*
 * tidu_sql: runs an SQL script through tidu's encrypted "tidu" VFS, the way
 * a store opens its database (benchmarks only; not installed).
 *
 *   tidu_sql DBPATH [--create] < script.sql
 *   tidu_sql DBPATH --plain < script.sql
 *   tidu_sql --kdf [DBPATH]
 *
 * The passphrase comes from $TIDU_PASSPHRASE. With --create, DBPATH must not
 * exist: a new key header is written (tidu_keyfile_create, one Argon2id
 * derivation) and the database is set up with tidu_vfs_configure_new().
 * Without it, the key is unwrapped from DBPATH's header (tidu_keyfile_unlock,
 * one Argon2id derivation); a tidu store's tidu.db can be opened this way.
 * Either way the connection gets the store's pragmas (journal_mode=WAL,
 * synchronous=FULL, temp_store=MEMORY, secure_delete=ON, mmap_size=0,
 * foreign_keys=OFF, trusted_schema=OFF, cache_size=-65536), then
 * runs the script from standard input statement by statement. Result rows
 * are printed like sqlite3's list mode ('|' between columns, NULL empty).
 * The first failing statement ends the run with exit status 1.
 *
 * --plain is the control: the same program, pragmas and page size (4096)
 * through SQLite's default "unix" VFS, with no key and no encryption, so
 * that a comparison with the encrypted run measures the VFS alone.
 *
 * --kdf times one passphrase unlock of DBPATH (or of a throwaway key header
 * created in $TMPDIR when DBPATH is not given) and prints its wall time in
 * milliseconds: the Argon2id cost every tidu command pays once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tidu/error.h"
#include "tidu/keyfile.h"
#include "tidu/vfs.h"

static void usage(void)
{
	fprintf(stderr, "usage: tidu_sql DBPATH [--create] < script.sql\n"
			"       tidu_sql DBPATH --plain < script.sql\n"
			"       tidu_sql --kdf [DBPATH]\n"
			"The passphrase is read from $TIDU_PASSPHRASE.\n");
	exit(2);
}

static void die_tidu(const char *what)
{
	fprintf(stderr, "tidu_sql: %s: %s\n", what, tidu_error_message());
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *passphrase(void)
{
	const char *p = getenv("TIDU_PASSPHRASE");

	if (!p || !*p) {
		fprintf(stderr, "tidu_sql: set TIDU_PASSPHRASE\n");
		exit(2);
	}
	return p;
}

static int kdf(const char *dbpath)
{
	const char *pass = passphrase();
	char dir[4096], path[4200];
	char recovery[TIDU_RECOVERY_TEXT_MAX];
	tidu_secret secret;
	const char *tmp = getenv("TMPDIR");
	double t0, t1;
	int error;

	if (tidu_vfs_register() < 0)
		die_tidu("registering the VFS");
	dir[0] = '\0';
	if (!dbpath) {
		snprintf(dir, sizeof(dir), "%s/tidu_sql.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			fprintf(stderr, "tidu_sql: mkdtemp: %s\n", strerror(errno));
			return 1;
		}
		snprintf(path, sizeof(path), "%s/kdf.db", dir);
		if (tidu_keyfile_create(path, pass, strlen(pass), &secret, recovery,
					sizeof(recovery)) < 0) {
			rmdir(dir);
			die_tidu("creating a key header");
		}
		tidu_secret_wipe(&secret);
		dbpath = path;
	}
	t0 = now_ms();
	error = tidu_keyfile_unlock(dbpath, pass, strlen(pass), &secret);
	t1 = now_ms();
	tidu_secret_wipe(&secret);
	if (dir[0]) {
		unlink(path);
		rmdir(dir);
	}
	if (error < 0)
		die_tidu("unlocking");
	printf("%.1f\n", t1 - t0);
	return 0;
}

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 1 << 20, n = 0, got;
	char *buf = malloc(cap + 1);

	if (!buf)
		abort();
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			if (!(buf = realloc(buf, cap + 1)))
				abort();
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "tidu_sql: reading standard input: %s\n", strerror(errno));
		exit(1);
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int exec_pragma(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "tidu_sql: %s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Line number (1-based) of `p` in `script`, for error messages. */
static unsigned long line_of(const char *script, const char *p)
{
	unsigned long line = 1;

	for (; script < p; script++)
		line += *script == '\n';
	return line;
}

static int run_script(sqlite3 *db, const char *script)
{
	const char *p = script, *tail;
	sqlite3_stmt *st;
	int rc, i, n;

	while (*p) {
		rc = sqlite3_prepare_v2(db, p, -1, &st, &tail);
		if (rc != SQLITE_OK) {
			fprintf(stderr, "tidu_sql: line %lu: %s\n", line_of(script, p),
				sqlite3_errmsg(db));
			return -1;
		}
		if (!st) { /* whitespace or a comment */
			p = tail;
			continue;
		}
		n = sqlite3_column_count(st);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			for (i = 0; i < n; i++) {
				const unsigned char *v = sqlite3_column_text(st, i);

				if (i)
					putchar('|');
				if (v)
					fputs((const char *)v, stdout);
			}
			putchar('\n');
		}
		if (rc != SQLITE_DONE) {
			fprintf(stderr, "tidu_sql: line %lu: %s\n", line_of(script, p),
				sqlite3_errmsg(db));
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_finalize(st);
		p = tail;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *dbpath = NULL, *pass;
	char recovery[TIDU_RECOVERY_TEXT_MAX];
	tidu_secret secret;
	sqlite3 *db = NULL;
	char *script;
	size_t len;
	int create = 0, plain = 0, i, rc, status = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--kdf")) {
			if (argc > 3 || (argc == 3 && i != 1))
				usage();
			return kdf(argc == 3 ? argv[2] : NULL);
		} else if (!strcmp(argv[i], "--create")) {
			create = 1;
		} else if (!strcmp(argv[i], "--plain")) {
			plain = 1;
		} else if (argv[i][0] == '-' || dbpath) {
			usage();
		} else {
			dbpath = argv[i];
		}
	}
	if (!dbpath || (plain && create))
		usage();
	if (plain) {
		rc = sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE |
				     SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
		if (rc != SQLITE_OK) {
			fprintf(stderr, "tidu_sql: opening %s: %s\n", dbpath,
				db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
			sqlite3_close(db);
			return 1;
		}
		if (exec_pragma(db, "PRAGMA page_size=4096") < 0) {
			sqlite3_close(db);
			return 1;
		}
		goto opened;
	}
	pass = passphrase();
	if (tidu_vfs_register() < 0)
		die_tidu("registering the VFS");
	if (create) {
		if (tidu_keyfile_create(dbpath, pass, strlen(pass), &secret, recovery,
					sizeof(recovery)) < 0)
			die_tidu(dbpath);
	} else if (tidu_keyfile_unlock(dbpath, pass, strlen(pass), &secret) < 0) {
		die_tidu(dbpath);
	}
	if (tidu_vfs_attach_key(dbpath, secret.key, secret.file_id) < 0)
		die_tidu("attaching the key");
	tidu_secret_wipe(&secret);
	rc = sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
			     (create ? SQLITE_OPEN_CREATE : 0), TIDU_VFS_NAME);
	tidu_vfs_detach_key(dbpath);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "tidu_sql: opening %s: %s\n", dbpath,
			db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return 1;
	}
	if (create && tidu_vfs_configure_new(db) < 0)
		die_tidu("configuring the new database");
opened:
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 10000);
	/* The pragmas of src/core/store.c's connect(): keep them in step. */
	if (exec_pragma(db, "PRAGMA journal_mode=WAL") < 0 ||
	    exec_pragma(db, "PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;"
			    "PRAGMA secure_delete=ON; PRAGMA mmap_size=0;"
			    "PRAGMA foreign_keys=OFF; PRAGMA trusted_schema=OFF;"
			    "PRAGMA cache_size=-65536") < 0) {
		sqlite3_close(db);
		return 1;
	}
	script = read_all(stdin, &len);
	if (run_script(db, script) < 0)
		status = 1;
	free(script);
	if (fflush(stdout) != 0)
		status = 1;
	if (sqlite3_close(db) != SQLITE_OK) {
		fprintf(stderr, "tidu_sql: closing: %s\n", sqlite3_errmsg(db));
		status = 1;
	}
	return status;
}
