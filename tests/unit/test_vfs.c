/*
 * The encrypting VFS (vfs.h): round trips, no plaintext on disk (database,
 * WAL, shm, journals), crash recovery, partial reads, refused writes and
 * files, wrong keys, tampering of every kind we can think of, rollback
 * journals, several stores at once, nonces across fork(), and SQLite's
 * POSIX locks surviving key-header I/O.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "helpers.h"
#include "tidu/error.h"
#include "tidu/keyfile.h"
#include "tidu/vfs.h"

#define PASS "vfs test passphrase"
#define PAGE TIDU_PAGE_SIZE
#define HDR TIDU_HEADER_SIZE
#define MARK_ZH "\xe6\x9c\xba\xe5\xaf\x86\xe6\xa0\x87\xe8\xae\xb0" /* 机密标记 */
#define MARK_EN "PLAINTEXT-MARKER"
#define WAL_HDR 32
#define FRAME (24 + PAGE)

static char dir[512];
static int counter;

struct store {
	char dir[600];
	char path[700];
	tidu_secret s;
};

/* ---- helpers ------------------------------------------------------------- */

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tidu-vfs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	return tidu_vfs_register() == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (getenv("TIDU_TEST_KEEP")) { /* for debugging a failure */
		fprintf(stderr, "kept %s\n", dir);
		return 0;
	}
	th_rmtree(dir);
	return 0;
}

static void sidecar(const struct store *st, const char *suffix, char *out,
		    size_t n)
{
	snprintf(out, n, "%s%s", st->path, suffix);
}

static long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;
	long sz;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)sz + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*n = (size_t)sz;
	return b;
}

static void spit(const char *path, const unsigned char *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void patch(const char *path, long off, const void *b, size_t n)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, b, n, off), (ssize_t)n);
	close(fd);
}

static void flip(const char *path, long off)
{
	unsigned char c;
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static int contains(const unsigned char *b, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (b[i] == (unsigned char)needle[0] && memcmp(b + i, needle, k) == 0)
			return 1;
	return 0;
}

/*
 * Counts occurrences of the markers (and of SQLite's own plaintext: its
 * file header string and our table name) in every file of `d`. Safe to
 * call from a forked child (no cmocka asserts).
 */
static int scan_dir(const char *d)
{
	static const char *const needles[] = { MARK_ZH, MARK_EN, "SQLite format 3",
					       "secret_tbl", "CREATE TABLE" };
	char path[1024];
	struct dirent *e;
	DIR *dp = opendir(d);
	int hits = 0;
	size_t i;

	if (!dp)
		return -1;
	while ((e = readdir(dp)) != NULL) {
		unsigned char *b;
		FILE *f;
		long sz;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
		if (!(f = fopen(path, "rb")))
			continue;
		fseek(f, 0, SEEK_END);
		sz = ftell(f);
		fseek(f, 0, SEEK_SET);
		b = malloc((size_t)sz + 1);
		if (b && fread(b, 1, (size_t)sz, f) == (size_t)sz)
			for (i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
				if (contains(b, (size_t)sz, needles[i])) {
					fprintf(stderr, "plaintext '%s' found in %s\n",
						needles[i], path);
					hits++;
				}
		free(b);
		fclose(f);
	}
	closedir(dp);
	return hits;
}

/* Every file in the store's directory is the database or its WAL/shm. */
static void assert_only_store_files(const struct store *st)
{
	const char *base = strrchr(st->path, '/') + 1;
	struct dirent *e;
	DIR *dp = opendir(st->dir);

	assert_non_null(dp);
	while ((e = readdir(dp)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		assert_memory_equal(e->d_name, base, strlen(base));
		if (strcmp(e->d_name + strlen(base), "") &&
		    strcmp(e->d_name + strlen(base), "-wal") &&
		    strcmp(e->d_name + strlen(base), "-shm")) {
			fprintf(stderr, "unexpected file %s\n", e->d_name);
			fail();
		}
	}
	closedir(dp);
}

static void row_text(int i, char *buf, size_t n)
{
	int pad = 20 + i % 90, k;
	size_t len;

	snprintf(buf, n, MARK_ZH " row %06d " MARK_EN " ", i);
	len = strlen(buf);
	for (k = 0; k < pad && len + 1 < n; k++)
		buf[len++] = (char)('a' + (i + k) % 26);
	buf[len] = '\0';
}

static void row_blob(int i, unsigned char b[32])
{
	int k;

	for (k = 0; k < 32; k++)
		b[k] = (unsigned char)(i * 7 + k * 13);
}

static int exec_rc(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	int rc = exec_rc(db, sql);

	if (rc != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
	assert_int_equal(rc, SQLITE_OK);
}

static const char pragmas[] =
	"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	"PRAGMA temp_store=MEMORY; PRAGMA secure_delete=ON;"
	"PRAGMA mmap_size=0;";

/* Opens a store with the key attached; SQLite's code, db always set. */
static int try_open(const char *path, sqlite3 **db)
{
	int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE |
				 SQLITE_OPEN_EXRESCODE, TIDU_VFS_NAME);

	if (*db)
		sqlite3_extended_result_codes(*db, 1);
	if (rc == SQLITE_OK)
		rc = exec_rc(*db, pragmas);
	return rc;
}

static sqlite3 *open_db(const char *path)
{
	sqlite3 *db = NULL;
	int rc = try_open(path, &db);

	if (rc != SQLITE_OK)
		fprintf(stderr, "open %s: %s\n", path, sqlite3_errmsg(db));
	assert_int_equal(rc, SQLITE_OK);
	return db;
}

/* A new store in its own directory, key attached. */
static void new_store(struct store *st)
{
	char rec[TIDU_RECOVERY_TEXT_MAX];

	snprintf(st->dir, sizeof(st->dir), "%s/s%d", dir, counter++);
	assert_int_equal(mkdir(st->dir, 0700), 0);
	snprintf(st->path, sizeof(st->path), "%s/tidu.db", st->dir);
	assert_int_equal(tidu_keyfile_create(st->path, PASS, strlen(PASS), &st->s,
					     rec, sizeof(rec)), 0);
	assert_int_equal(tidu_vfs_attach_key(st->path, st->s.key, st->s.file_id), 0);
}

/* New store, configured and with its table, in WAL mode (or `mode`). */
static sqlite3 *create_db(struct store *st, const char *mode)
{
	sqlite3 *db = NULL;
	char sql[100];

	new_store(st);
	assert_int_equal(sqlite3_open_v2(st->path, &db, SQLITE_OPEN_READWRITE |
					 SQLITE_OPEN_CREATE, TIDU_VFS_NAME), SQLITE_OK);
	sqlite3_extended_result_codes(db, 1);
	assert_int_equal(tidu_vfs_configure_new(db), 0);
	exec_ok(db, pragmas);
	if (mode) {
		snprintf(sql, sizeof(sql), "PRAGMA journal_mode=%s", mode);
		exec_ok(db, sql);
	}
	exec_ok(db, "CREATE TABLE secret_tbl(id INTEGER PRIMARY KEY, v TEXT NOT NULL,"
		    " b BLOB); CREATE INDEX secret_idx ON secret_tbl(v)");
	return db;
}

static int insert_rows_rc(sqlite3 *db, int from, int to, int per_txn)
{
	sqlite3_stmt *st = NULL;
	unsigned char blob[32];
	char text[200];
	int i, rc;

	rc = sqlite3_prepare_v2(db, "INSERT INTO secret_tbl(id, v, b) VALUES (?,?,?)",
				-1, &st, NULL);
	for (i = from; rc == SQLITE_OK && i < to; i++) {
		if ((i - from) % per_txn == 0 && (rc = exec_rc(db, "BEGIN")) != SQLITE_OK)
			break;
		row_text(i, text, sizeof(text));
		row_blob(i, blob);
		sqlite3_bind_int(st, 1, i);
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, blob, sizeof(blob), SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			break;
		rc = SQLITE_OK;
		if ((i - from) % per_txn == per_txn - 1 || i == to - 1)
			rc = exec_rc(db, "COMMIT");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Rows [from, to) inside the caller's transaction. */
static int insert_uncommitted(sqlite3 *db, int from, int to)
{
	sqlite3_stmt *st = NULL;
	unsigned char blob[32];
	char text[200];
	int i, rc;

	rc = sqlite3_prepare_v2(db, "INSERT INTO secret_tbl(id, v, b) VALUES (?,?,?)",
				-1, &st, NULL);
	for (i = from; rc == SQLITE_OK && i < to; i++) {
		row_text(i, text, sizeof(text));
		row_blob(i, blob);
		sqlite3_bind_int(st, 1, i);
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, blob, sizeof(blob), SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static void insert_rows(sqlite3 *db, int from, int to, int per_txn)
{
	int rc = insert_rows_rc(db, from, to, per_txn);

	if (rc != SQLITE_OK)
		fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
	assert_int_equal(rc, SQLITE_OK);
}

/*
 * Reads every row; each one returned must be exactly what was inserted
 * (never different data). Returns SQLite's final code (SQLITE_DONE when all
 * went well) and the number of rows in `*n`.
 */
static int read_rows(sqlite3 *db, int *n)
{
	sqlite3_stmt *st = NULL;
	unsigned char blob[32];
	char text[200];
	int rc, id;

	*n = 0;
	rc = sqlite3_prepare_v2(db, "SELECT id, v, b FROM secret_tbl ORDER BY id",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int(st, 0);
		row_text(id, text, sizeof(text));
		row_blob(id, blob);
		assert_string_equal((const char *)sqlite3_column_text(st, 1), text);
		assert_int_equal(sqlite3_column_bytes(st, 2), sizeof(blob));
		assert_memory_equal(sqlite3_column_blob(st, 2), blob, sizeof(blob));
		(*n)++;
	}
	sqlite3_finalize(st);
	return rc;
}

static int integrity_rc(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0 ?
			SQLITE_OK : SQLITE_CORRUPT;
	}
	sqlite3_finalize(st);
	return rc;
}

static int count_rows(sqlite3 *db)
{
	int n = -1, rc = read_rows(db, &n);

	assert_int_equal(rc, SQLITE_DONE);
	return n;
}

/* A store with rows [0, n), closed (WAL checkpointed away). */
static void closed_store(struct store *st, int n)
{
	sqlite3 *db = create_db(st, NULL);

	insert_rows(db, 0, n, 500);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static int index_scan_rc(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM secret_tbl INDEXED BY "
				    "secret_idx WHERE v >= ''", -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	return rc;
}

/*
 * Opens the store and reads everything (table, index, integrity check);
 * returns SQLite's first error. Rows returned must all be right.
 */
static int sql_after_damage(const char *path)
{
	sqlite3 *db = NULL;
	int rc, n;

	rc = try_open(path, &db);
	if (rc == SQLITE_OK) {
		rc = read_rows(db, &n);
		if (rc == SQLITE_DONE)
			rc = index_scan_rc(db);
		if (rc == SQLITE_OK)
			rc = integrity_rc(db);
	}
	sqlite3_close(db);
	return rc;
}

/* ---- tests --------------------------------------------------------------- */

static void test_roundtrip_no_plaintext(void **state)
{
	unsigned long tampered = tidu_vfs_tamper_count();
	unsigned long dropped = tidu_vfs_wal_dropped_count();
	char wal[800];
	struct store st;
	unsigned bad = 1;
	sqlite3 *db;

	(void)state;
	db = create_db(&st, NULL);
	exec_ok(db, "PRAGMA wal_autocheckpoint=0");
	insert_rows(db, 0, 4000, 100);

	/* Open connection, everything still in the WAL. */
	sidecar(&st, "-wal", wal, sizeof(wal));
	assert_true(file_size(wal) > 1000000);
	assert_int_equal(scan_dir(st.dir), 0);
	assert_only_store_files(&st);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, &bad), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(count_rows(db), 4000);

	/* Checkpointed into the database, connection still open. */
	exec_ok(db, "PRAGMA wal_checkpoint(PASSIVE)");
	assert_int_equal(scan_dir(st.dir), 0);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(file_size(wal), -1);
	assert_int_equal(scan_dir(st.dir), 0);
	assert_only_store_files(&st);

	db = open_db(st.path);
	assert_int_equal(count_rows(db), 4000);
	assert_int_equal(integrity_rc(db), SQLITE_OK);
	/* Updates and deletes, VACUUM, a big sort and a new index. */
	exec_ok(db, "UPDATE secret_tbl SET b = zeroblob(32) WHERE id % 3 = 0;"
		    "UPDATE secret_tbl SET b = NULL WHERE id % 3 = 0;"
		    "DELETE FROM secret_tbl WHERE id >= 3000");
	exec_ok(db, "VACUUM");
	exec_ok(db, "CREATE INDEX secret_idx2 ON secret_tbl(b, v)");
	exec_ok(db, "SELECT v FROM secret_tbl ORDER BY substr(v, 30), id");
	exec_ok(db, "DROP INDEX secret_idx2");
	assert_int_equal(scan_dir(st.dir), 0);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);

	db = open_db(st.path);
	{
		sqlite3_stmt *s = NULL;

		assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), sum(b IS NULL) "
			"FROM secret_tbl", -1, &s, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(s, 0), 3000);
		assert_int_equal(sqlite3_column_int(s, 1), 1000);
		sqlite3_finalize(s);
	}
	assert_int_equal(integrity_rc(db), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, &bad), 0);
	assert_int_equal(scan_dir(st.dir), 0);
	assert_only_store_files(&st);

	assert_int_equal(tidu_vfs_tamper_count(), tampered);
	assert_int_equal(tidu_vfs_wal_dropped_count(), dropped);
	tidu_vfs_detach_key(st.path);
}

/* Reads and writes straight through the VFS file object. */
static void test_direct_io(void **state)
{
	unsigned char p1[PAGE], p2[PAGE], b[3 * PAGE], page[PAGE];
	sqlite3_file *fp = NULL, *wp = NULL;
	sqlite3_int64 size;
	struct store st;
	char *name = NULL;
	sqlite3 *db;
	sqlite3_stmt *s;

	(void)state;
	db = create_db(&st, NULL);
	insert_rows(db, 0, 300, 300);
	exec_ok(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_int_equal(sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &fp),
			 SQLITE_OK);
	assert_non_null(fp);
	assert_int_equal(fp->pMethods->iVersion, 2); /* no xFetch */
	assert_null(fp->pMethods->xFetch);
	assert_true(fp->pMethods->xDeviceCharacteristics(fp) &
		    SQLITE_IOCAP_POWERSAFE_OVERWRITE);
	assert_int_equal(fp->pMethods->xDeviceCharacteristics(fp) &
			 (SQLITE_IOCAP_ATOMIC | SQLITE_IOCAP_ATOMIC4K |
			  SQLITE_IOCAP_BATCH_ATOMIC | SQLITE_IOCAP_SAFE_APPEND), 0);

	/* Page 1 in the clear as SQLite sees it. */
	assert_int_equal(fp->pMethods->xRead(fp, p1, PAGE, 0), SQLITE_OK);
	assert_int_equal(fp->pMethods->xRead(fp, p2, PAGE, PAGE), SQLITE_OK);
	assert_memory_equal(p1, "SQLite format 3", 16);
	assert_int_equal(p1[16], 0x10);
	assert_int_equal(p1[17], 0x00);
	assert_int_equal(p1[20], TIDU_PAGE_RESERVE);
	assert_true(sodium_is_zero(p1 + PAGE - TIDU_PAGE_RESERVE, TIDU_PAGE_RESERVE));

	/* Partial reads: the pager's, and one across two pages. */
	assert_int_equal(fp->pMethods->xRead(fp, b, 100, 0), SQLITE_OK);
	assert_memory_equal(b, p1, 100);
	assert_int_equal(fp->pMethods->xRead(fp, b, 16, 24), SQLITE_OK);
	assert_memory_equal(b, p1 + 24, 16);
	assert_int_equal(fp->pMethods->xRead(fp, b, 200, 4000), SQLITE_OK);
	assert_memory_equal(b, p1 + 4000, 96);
	assert_memory_equal(b + 96, p2, 104);
	assert_int_equal(fp->pMethods->xRead(fp, b, 2 * PAGE, 0), SQLITE_OK);
	assert_memory_equal(b, p1, PAGE);
	assert_memory_equal(b + PAGE, p2, PAGE);

	/* Size without the header; reads past the end are zeros. */
	assert_int_equal(fp->pMethods->xFileSize(fp, &size), SQLITE_OK);
	assert_int_equal(size + HDR, file_size(st.path));
	assert_int_equal(size % PAGE, 0);
	memset(b, 0xAA, sizeof(b));
	assert_int_equal(fp->pMethods->xRead(fp, b, PAGE, size), SQLITE_IOERR_SHORT_READ);
	assert_true(sodium_is_zero(b, PAGE));
	memset(b, 0xAA, sizeof(b));
	assert_int_equal(fp->pMethods->xRead(fp, b, 2 * PAGE, size - PAGE),
			 SQLITE_IOERR_SHORT_READ);
	assert_false(sodium_is_zero(b, PAGE));
	assert_true(sodium_is_zero(b + PAGE, PAGE));

	/* Refused writes: not page-aligned; a page 1 with another layout;
	 * a page with data in the reserved bytes. Nothing reaches the file. */
	assert_int_equal(fp->pMethods->xWrite(fp, p1, 100, 0), SQLITE_IOERR_WRITE);
	assert_int_equal(fp->pMethods->xWrite(fp, p1, PAGE, 10), SQLITE_IOERR_WRITE);
	memcpy(page, p1, PAGE);
	page[20] = 0;
	assert_int_equal(fp->pMethods->xWrite(fp, page, PAGE, 0), SQLITE_IOERR_WRITE);
	memcpy(page, p1, PAGE);
	page[16] = 0x20;
	assert_int_equal(fp->pMethods->xWrite(fp, page, PAGE, 0), SQLITE_IOERR_WRITE);
	memcpy(page, p2, PAGE);
	page[PAGE - 1] = 1;
	assert_int_equal(fp->pMethods->xWrite(fp, page, PAGE, PAGE), SQLITE_IOERR_WRITE);
	assert_int_equal(fp->pMethods->xRead(fp, b, PAGE, PAGE), SQLITE_OK);
	assert_memory_equal(b, p2, PAGE);
	/* A correct rewrite is fine and reads back. */
	assert_int_equal(fp->pMethods->xWrite(fp, p2, PAGE, PAGE), SQLITE_OK);
	assert_int_equal(fp->pMethods->xRead(fp, b, PAGE, PAGE), SQLITE_OK);
	assert_memory_equal(b, p2, PAGE);

	/* No mmap, whatever is asked; the VFS names itself. */
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA mmap_size=268435456", -1, &s,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 0);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_file_control(db, "main", SQLITE_FCNTL_VFSNAME, &name),
			 SQLITE_OK);
	assert_string_equal(name, "tidu/unix");
	sqlite3_free(name);

	/* WAL: only whole pages, whole frames and header bytes. */
	insert_rows(db, 1000, 1010, 10);
	assert_int_equal(sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
					      &wp), SQLITE_OK);
	assert_non_null(wp);
	assert_int_equal(wp->pMethods->xRead(wp, b, 32, 0), SQLITE_OK);
	assert_int_equal(wp->pMethods->xRead(wp, b, 8, WAL_HDR + 16), SQLITE_OK);
	assert_int_equal(wp->pMethods->xRead(wp, b, FRAME, WAL_HDR), SQLITE_OK);
	assert_int_equal(wp->pMethods->xRead(wp, b + FRAME, PAGE, WAL_HDR + 24), SQLITE_OK);
	assert_memory_equal(b + 24, b + FRAME, PAGE);
	assert_int_equal(wp->pMethods->xRead(wp, b, 100, WAL_HDR + 50),
			 SQLITE_IOERR_READ);
	assert_int_equal(wp->pMethods->xWrite(wp, p2, 100, WAL_HDR + 50),
			 SQLITE_IOERR_WRITE);
	assert_int_equal(count_rows(db), 310);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	tidu_vfs_detach_key(st.path);
}

static void test_refusals(void **state)
{
	char other[800], sql_err[200];
	struct store st, st2;
	sqlite3 *db = NULL;
	int rc;

	(void)state;
	/* No key attached. */
	new_store(&st);
	tidu_vfs_detach_key(st.path);
	rc = sqlite3_open_v2(st.path, &db, SQLITE_OPEN_READWRITE, TIDU_VFS_NAME);
	assert_int_equal(rc & 0xff, SQLITE_CANTOPEN);
	sqlite3_close(db);
	db = NULL;

	/* Key attached but no file: not created. Or a file with no header. */
	snprintf(other, sizeof(other), "%s/none.db", st.dir);
	assert_int_equal(tidu_vfs_attach_key(other, st.s.key, st.s.file_id), 0);
	rc = sqlite3_open_v2(other, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			     TIDU_VFS_NAME);
	assert_int_equal(rc & 0xff, SQLITE_CANTOPEN);
	sqlite3_close(db);
	db = NULL;
	assert_int_equal(file_size(other), -1);
	spit(other, (const unsigned char *)"short", 5);
	rc = sqlite3_open_v2(other, &db, SQLITE_OPEN_READWRITE, TIDU_VFS_NAME);
	assert_int_equal(rc & 0xff, SQLITE_CANTOPEN);
	sqlite3_close(db);
	db = NULL;
	tidu_vfs_detach_key(other);

	/* configure_new: not our VFS; not empty. */
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(tidu_vfs_configure_new(db), TIDU_EINVAL);
	sqlite3_close(db);
	assert_int_equal(tidu_vfs_configure_new(NULL), TIDU_EINVAL);
	db = create_db(&st2, NULL);
	insert_rows(db, 0, 10, 10);
	assert_int_equal(tidu_vfs_configure_new(db), TIDU_EINVAL);

	/* Temp files are refused: a sort that spills fails cleanly with
	 * temp_store=FILE, and works in memory. */
	insert_rows(db, 10, 6000, 6000);
	exec_ok(db, "PRAGMA cache_size=-100; PRAGMA temp_store=FILE");
	rc = exec_rc(db, "SELECT v FROM secret_tbl ORDER BY substr(v, 40), random()");
	snprintf(sql_err, sizeof(sql_err), "%s", sqlite3_errmsg(db));
	assert_int_equal(rc & 0xff, SQLITE_CANTOPEN);
	exec_ok(db, "PRAGMA temp_store=MEMORY");
	exec_ok(db, "SELECT v FROM secret_tbl ORDER BY substr(v, 40), random()");
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(scan_dir(st2.dir), 0);

	/* A store not configured: page 1 with no reserved bytes is refused
	 * before anything is written. */
	db = NULL;
	assert_int_equal(sqlite3_open_v2(st.path, &db, SQLITE_OPEN_READWRITE,
					 "unix"), SQLITE_OK); /* control: plain works */
	sqlite3_close(db);
	db = NULL;
	assert_int_equal(tidu_vfs_attach_key(st.path, st.s.key, st.s.file_id), 0);
	assert_int_equal(sqlite3_open_v2(st.path, &db, SQLITE_OPEN_READWRITE,
					 TIDU_VFS_NAME), SQLITE_OK);
	sqlite3_extended_result_codes(db, 1);
	rc = exec_rc(db, "PRAGMA journal_mode=WAL; CREATE TABLE x(a)");
	assert_int_equal(rc, SQLITE_IOERR_WRITE);
	sqlite3_close(db);
	assert_int_equal(file_size(st.path), HDR);
	assert_int_equal(scan_dir(st.dir), 0);
	tidu_vfs_detach_key(st.path);
	tidu_vfs_detach_key(st2.path);

	/* Bad arguments. */
	assert_int_equal(tidu_vfs_attach_key(NULL, st.s.key, st.s.file_id), TIDU_EINVAL);
	assert_int_equal(tidu_vfs_verify_file(NULL, st.s.key, st.s.file_id, NULL),
			 TIDU_EINVAL);
	assert_int_equal(tidu_vfs_verify_file(other, st.s.key, st.s.file_id, NULL),
			 TIDU_ECORRUPT);
	unlink(other);
	assert_int_equal(tidu_vfs_verify_file(other, st.s.key, st.s.file_id, NULL),
			 TIDU_ENOTFOUND);
	tidu_vfs_detach_key(NULL);
}

static void test_wrong_key(void **state)
{
	unsigned long tampered = tidu_vfs_tamper_count();
	unsigned char key[TIDU_KEY_BYTES];
	struct store st;
	unsigned bad = 0;
	sqlite3 *db = NULL;
	int rc;

	(void)state;
	closed_store(&st, 200);
	randombytes_buf(key, sizeof(key));
	assert_int_equal(tidu_vfs_attach_key(st.path, key, st.s.file_id), 0);
	rc = sql_after_damage(st.path);
	assert_int_equal(rc, SQLITE_IOERR_DATA);
	assert_true(tidu_vfs_tamper_count() > tampered);
	assert_int_equal(tidu_vfs_last_bad_page(), 1);
	assert_int_equal(tidu_vfs_verify_file(st.path, key, st.s.file_id, &bad),
			 TIDU_ECORRUPT);
	assert_int_equal(bad, 1);

	/* The right key, wrong file id: also refused. */
	randombytes_buf(key, sizeof(key));
	assert_int_equal(tidu_vfs_attach_key(st.path, st.s.key, key), 0);
	assert_int_equal(sql_after_damage(st.path), SQLITE_IOERR_DATA);

	/* The right one: all is there, nothing was written meanwhile. */
	assert_int_equal(tidu_vfs_attach_key(st.path, st.s.key, st.s.file_id), 0);
	db = open_db(st.path);
	assert_int_equal(count_rows(db), 200);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL), 0);
	tidu_vfs_detach_key(st.path);
}

/* Damage to one page must be caught by verify_file and by SQLite. */
static void expect_page_caught(const struct store *st, unsigned pgno)
{
	unsigned long tampered = tidu_vfs_tamper_count();
	char needle[40];
	unsigned bad = 0;
	int rc;

	assert_int_equal(tidu_vfs_verify_file(st->path, st->s.key, st->s.file_id, &bad),
			 TIDU_ECORRUPT);
	assert_int_equal(bad, pgno);
	snprintf(needle, sizeof(needle), "page %u ", pgno);
	assert_non_null(strstr(tidu_error_message(), needle));
	rc = sql_after_damage(st->path);
	if (rc != SQLITE_IOERR_DATA)
		fprintf(stderr, "page %u: SQLite said %d (%s)\n", pgno, rc, sqlite3_errstr(rc));
	assert_int_equal(rc, SQLITE_IOERR_DATA);
	assert_true(tidu_vfs_tamper_count() > tampered);
	assert_int_equal(tidu_vfs_last_bad_page(), pgno);
}

static void test_tamper_pages(void **state)
{
	struct store st, other, same_key;
	unsigned char *orig, *foreign, *foreign2;
	size_t n, n2, n3;
	unsigned npages, pgno, k;
	long at;
	sqlite3 *db;
	int rc;

	(void)state;
	closed_store(&st, 3000);
	orig = slurp(st.path, &n);
	npages = (unsigned)((n - HDR) / PAGE);
	assert_true(npages > 20);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL), 0);

	/* One flipped bit: in the content, the nonce, the tag, of first,
	 * middle and last pages. */
	{
		const unsigned pages[] = { 1, 2, 3, npages / 2, npages - 1, npages };
		const long offs[] = { 0, 17, 100, 2000, 4055, 4056, 4070, 4079,
				      4080, 4095 };
		size_t i, j;

		for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
			for (j = 0; j < sizeof(offs) / sizeof(offs[0]); j++) {
				if ((i + j) % 2 && pages[i] > 3)
					continue; /* keep the run short */
				spit(st.path, orig, n);
				flip(st.path, HDR + (long)(pages[i] - 1) * PAGE + offs[j]);
				expect_page_caught(&st, pages[i]);
			}
	}

	/* A page of zeros inside the file. */
	{
		unsigned char zero[PAGE] = { 0 };

		spit(st.path, orig, n);
		patch(st.path, HDR + 2 * PAGE, zero, PAGE);
		expect_page_caught(&st, 3);
	}

	/* Two pages swapped. */
	spit(st.path, orig, n);
	patch(st.path, HDR + 1 * PAGE, orig + HDR + 2 * PAGE, PAGE);
	patch(st.path, HDR + 2 * PAGE, orig + HDR + 1 * PAGE, PAGE);
	expect_page_caught(&st, 2);

	/* A page copied from another store. */
	closed_store(&other, 3000);
	foreign = slurp(other.path, &n2);
	spit(st.path, orig, n);
	patch(st.path, HDR + 4 * PAGE, foreign + HDR + 4 * PAGE, PAGE);
	expect_page_caught(&st, 5);

	/* ... even one encrypted with the same key: the file id differs. */
	new_store(&same_key);
	assert_int_equal(tidu_vfs_attach_key(same_key.path, st.s.key,
					     same_key.s.file_id), 0);
	db = NULL;
	assert_int_equal(sqlite3_open_v2(same_key.path, &db, SQLITE_OPEN_READWRITE,
					 TIDU_VFS_NAME), SQLITE_OK);
	assert_int_equal(tidu_vfs_configure_new(db), 0);
	exec_ok(db, pragmas);
	exec_ok(db, "CREATE TABLE secret_tbl(id INTEGER PRIMARY KEY, v TEXT NOT NULL,"
		    " b BLOB); CREATE INDEX secret_idx ON secret_tbl(v)");
	insert_rows(db, 0, 3000, 500);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	foreign2 = slurp(same_key.path, &n3);
	for (k = 1; k <= 3; k++) {
		spit(st.path, orig, n);
		patch(st.path, HDR + (long)(k - 1) * PAGE, foreign2 + HDR + (k - 1) * PAGE, PAGE);
		expect_page_caught(&st, k);
	}
	tidu_vfs_detach_key(same_key.path);
	tidu_vfs_detach_key(other.path);

	/* Cut inside a page: the size is wrong, the last page is short. */
	spit(st.path, orig, n - 100);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL),
			 TIDU_ECORRUPT);
	rc = sql_after_damage(st.path);
	assert_int_equal(rc, SQLITE_IOERR_DATA);

	/* A whole page cut off the end: pages are all authentic (a limit of
	 * verify_file), but SQLite sees the store as malformed: never data. */
	spit(st.path, orig, n - PAGE);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL), 0);
	rc = sql_after_damage(st.path);
	assert_int_not_equal(rc, SQLITE_OK);
	assert_int_not_equal(rc, SQLITE_DONE);

	/* A zero page appended. */
	{
		unsigned char zero[PAGE] = { 0 };

		spit(st.path, orig, n);
		patch(st.path, (long)n, zero, PAGE);
		assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id,
						      &pgno), TIDU_ECORRUPT);
		assert_int_equal(pgno, npages + 1);
	}

	/* The key header is not the VFS's: damage there is keyfile_check's. */
	for (at = 100; at < HDR; at += 2048) {
		spit(st.path, orig, n);
		flip(st.path, at);
		assert_int_equal(tidu_keyfile_check(st.path), TIDU_ECORRUPT);
		assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL), 0);
		db = open_db(st.path);
		assert_int_equal(count_rows(db), 3000);
		assert_int_equal(sqlite3_close(db), SQLITE_OK);
	}

	/* Restored: all fine again. */
	spit(st.path, orig, n);
	assert_int_equal(sql_after_damage(st.path), SQLITE_OK);
	free(orig);
	free(foreign);
	free(foreign2);
	tidu_vfs_detach_key(st.path);
}

/*
 * A child writes committed transactions into the WAL, starts another that
 * spills uncommitted frames, and dies without closing. Returns the child's
 * exit status (0: no plaintext seen while it ran).
 */
static int crash_writer(const struct store *st, int from, int to, int per_txn,
			int uncommitted)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *db = NULL;

		if (try_open(st->path, &db) != SQLITE_OK ||
		    exec_rc(db, "PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=20") != SQLITE_OK ||
		    insert_rows_rc(db, from, to, per_txn) != SQLITE_OK)
			_exit(2);
		if (uncommitted) {
			if (exec_rc(db, "BEGIN") != SQLITE_OK ||
			    insert_uncommitted(db, 100000, 100000 + uncommitted) != SQLITE_OK)
				_exit(3);
		}
		_exit(scan_dir(st->dir) == 0 ? 0 : 4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_crash_recovery(void **state)
{
	unsigned long dropped = tidu_vfs_wal_dropped_count();
	unsigned long tampered = tidu_vfs_tamper_count();
	struct store st;
	char wal[800];
	sqlite3 *db;

	(void)state;
	closed_store(&st, 100);
	/* 1000-row transactions with a 20-page cache: frames are overwritten in
	 * place and their checksums rewritten at commit. */
	assert_int_equal(crash_writer(&st, 100, 3100, 1000, 2000), 0);
	sidecar(&st, "-wal", wal, sizeof(wal));
	assert_true(file_size(wal) > 500000);
	assert_int_equal(scan_dir(st.dir), 0);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL), 0);

	db = open_db(st.path);
	assert_int_equal(count_rows(db), 3100); /* and not the uncommitted */
	assert_int_equal(integrity_rc(db), SQLITE_OK);
	insert_rows(db, 3100, 3200, 50);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(file_size(wal), -1);

	db = open_db(st.path);
	assert_int_equal(count_rows(db), 3200);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL), 0);
	assert_int_equal(scan_dir(st.dir), 0);
	assert_int_equal(tidu_vfs_wal_dropped_count(), dropped);
	assert_int_equal(tidu_vfs_tamper_count(), tampered);
	tidu_vfs_detach_key(st.path);
}

/*
 * A torn frame after the last commit (what a power cut can leave) ends the
 * log: the committed data is all there.
 */
static void test_wal_torn_tail(void **state)
{
	unsigned long dropped = tidu_vfs_wal_dropped_count();
	unsigned long tampered = tidu_vfs_tamper_count();
	unsigned char *w;
	struct store st;
	char wal[800];
	size_t size, i, nframes, last_commit = 0, last_salted = 0, torn;
	sqlite3 *db;

	(void)state;
	closed_store(&st, 100);
	assert_int_equal(crash_writer(&st, 100, 1100, 100, 2000), 0);
	sidecar(&st, "-wal", wal, sizeof(wal));
	w = slurp(wal, &size);
	assert_int_equal((size - WAL_HDR) % FRAME, 0);
	nframes = (size - WAL_HDR) / FRAME;
	/*
	 * Frames of the current WAL carry its salts, except those SQLite
	 * writes after it overwrote a frame in the same transaction (zero
	 * salts until the commit rewrites them): recovery stops at those.
	 */
	for (i = 0; i < nframes; i++) {
		const unsigned char *h = w + WAL_HDR + i * FRAME;

		if (memcmp(h + 8, w + 16, 8) != 0)
			break;
		last_salted = i;
		if (memcmp(h + 4, "\0\0\0\0", 4) != 0)
			last_commit = i;
	}
	free(w);
	assert_true(last_salted > last_commit);
	/* The first frame after the last commit (recovery reads up to it
	 * whatever follows): half of its page never made it. */
	torn = last_commit + 1;
	{
		unsigned char junk[2048];

		memset(junk, 0x5a, sizeof(junk));
		patch(wal, (long)(WAL_HDR + torn * FRAME + 24 + 2048), junk,
		      sizeof(junk));
	}
	/* verify_file cannot tell a torn tail from damage (documented). */
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL),
			 TIDU_ECORRUPT);
	assert_non_null(strstr(tidu_error_message(), "frame"));

	db = open_db(st.path);
	assert_int_equal(count_rows(db), 1100);
	assert_int_equal(integrity_rc(db), SQLITE_OK);
	assert_int_equal(tidu_vfs_wal_dropped_count(), dropped + 1);
	assert_int_equal(tidu_vfs_tamper_count(), tampered);
	insert_rows(db, 1100, 1200, 100);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	db = open_db(st.path);
	assert_int_equal(count_rows(db), 1200);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL), 0);
	tidu_vfs_detach_key(st.path);
}

/* Damage to committed WAL frames. */
static void test_wal_tamper(void **state)
{
	unsigned long dropped = tidu_vfs_wal_dropped_count();
	unsigned long tampered;
	struct store st, st2;
	char wal[800];
	long size, nframes;
	sqlite3 *a, *b = NULL;
	int n, rc;

	(void)state;
	/* Offline: verify_file names the frame. Recovery ends the log before
	 * it, so SQLite shows an older committed state (every row it shows
	 * is right) and the drop is counted. */
	closed_store(&st, 100);
	assert_int_equal(crash_writer(&st, 100, 2100, 100, 0), 0);
	sidecar(&st, "-wal", wal, sizeof(wal));
	size = file_size(wal);
	nframes = (size - WAL_HDR) / FRAME;
	assert_true(nframes > 20);
	flip(wal, WAL_HDR + (nframes / 2) * FRAME + 24 + 1000);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL),
			 TIDU_ECORRUPT);
	assert_non_null(strstr(tidu_error_message(), "frame"));
	a = open_db(st.path);
	assert_int_equal(read_rows(a, &n), SQLITE_DONE);
	assert_true(n >= 100 && n < 2100);
	assert_int_equal(n % 100, 0);
	assert_int_equal(integrity_rc(a), SQLITE_OK);
	assert_int_equal(tidu_vfs_wal_dropped_count(), dropped + 1);
	assert_int_equal(sqlite3_close(a), SQLITE_OK);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL), 0);
	a = open_db(st.path);
	assert_int_equal(count_rows(a), n);
	assert_int_equal(sqlite3_close(a), SQLITE_OK);
	tidu_vfs_detach_key(st.path);

	/* Online: once SQLite's index holds a frame as committed, reading
	 * its page must fail, never hand back other bytes. */
	closed_store(&st2, 100);
	assert_int_equal(crash_writer(&st2, 100, 2100, 100, 0), 0);
	a = open_db(st2.path);
	assert_int_equal(count_rows(a), 2100);
	sidecar(&st2, "-wal", wal, sizeof(wal));
	size = file_size(wal);
	flip(wal, size - PAGE + 500); /* the page of the last frame */
	tampered = tidu_vfs_tamper_count();
	rc = try_open(st2.path, &b);
	if (rc == SQLITE_OK && (rc = read_rows(b, &n)) == SQLITE_DONE)
		rc = integrity_rc(b);
	assert_int_equal(rc, SQLITE_IOERR_DATA);
	assert_true(tidu_vfs_tamper_count() > tampered);
	sqlite3_close(b);
	sqlite3_close(a);
	tidu_vfs_detach_key(st2.path);
}

/* A copy of a store: VACUUM INTO a new store (own header and key). */
/* The bytes at `off` of `path`. */
static void read_bytes(const char *path, long off, unsigned char *out, size_t n)
{
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	assert_int_equal(fread(out, 1, n, f), n);
	fclose(f);
}

/*
 * A checkpoint copies the WAL's ciphertext into the database (it is bound
 * to the file id and page number only): the page in the database is then
 * byte for byte the WAL frame's page, nonce and tag included — where a
 * fresh seal would have drawn a new nonce — and it still reads back right.
 */
static void test_checkpoint_copies_ciphertext(void **state)
{
	unsigned char frame_page[PAGE], db_page[PAGE], hdr[24];
	struct store st;
	char wal[800];
	long size, i, nframes, last = -1;
	uint32_t pgno = 0;
	sqlite3 *db;

	(void)state;
	db = create_db(&st, "WAL");
	exec_ok(db, "PRAGMA wal_autocheckpoint=0");
	insert_rows(db, 0, 500, 100);
	sidecar(&st, "-wal", wal, sizeof(wal));
	size = file_size(wal);
	nframes = (size - WAL_HDR) / FRAME;
	assert_true(nframes > 5);
	/* The newest frame of the page in the last frame: what a checkpoint copies. */
	read_bytes(wal, WAL_HDR + (nframes - 1) * FRAME, hdr, sizeof(hdr));
	pgno = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) |
	       ((uint32_t)hdr[2] << 8) | hdr[3];
	for (i = 0; i < nframes; i++) {
		read_bytes(wal, WAL_HDR + i * FRAME, hdr, 4);
		if ((((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) |
		     ((uint32_t)hdr[2] << 8) | hdr[3]) == pgno)
			last = i;
	}
	assert_true(last >= 0);
	read_bytes(wal, WAL_HDR + last * FRAME + 24, frame_page, PAGE);
	exec_ok(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	read_bytes(st.path, HDR + (long)(pgno - 1) * PAGE, db_page, PAGE);
	assert_memory_equal(frame_page, db_page, PAGE);
	sqlite3_close(db);
	db = open_db(st.path);
	assert_int_equal(count_rows(db), 500);
	assert_int_equal(integrity_rc(db), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL), 0);
}

static void test_vacuum_into(void **state)
{
	struct store src, dst;
	char sql[900];
	sqlite3 *db;

	(void)state;
	closed_store(&src, 1500);
	new_store(&dst); /* header only, its key attached */
	db = open_db(src.path);
	snprintf(sql, sizeof(sql), "VACUUM INTO '%s'", dst.path);
	exec_ok(db, sql);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(tidu_vfs_verify_file(dst.path, dst.s.key, dst.s.file_id, NULL), 0);
	assert_int_equal(tidu_vfs_verify_file(dst.path, src.s.key, src.s.file_id, NULL),
			 TIDU_ECORRUPT);
	assert_int_equal(tidu_keyfile_check(dst.path), 0);
	assert_int_equal(scan_dir(dst.dir), 0);
	db = open_db(dst.path);
	assert_int_equal(count_rows(db), 1500);
	assert_int_equal(integrity_rc(db), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);

	/* The backup API copies raw pages: refused rather than misused. */
	{
		sqlite3 *mem = NULL;
		sqlite3_backup *b;
		int rc;

		assert_int_equal(sqlite3_open(":memory:", &mem), SQLITE_OK);
		exec_ok(mem, "CREATE TABLE t(x); INSERT INTO t VALUES('" MARK_EN "')");
		db = open_db(dst.path);
		b = sqlite3_backup_init(db, "main", mem, "main");
		rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(db);
		sqlite3_backup_finish(b);
		assert_int_not_equal(rc, SQLITE_DONE);
		sqlite3_close(db);
		sqlite3_close(mem);
		assert_int_equal(scan_dir(dst.dir), 0);
		db = open_db(dst.path);
		assert_int_equal(count_rows(db), 1500);
		assert_int_equal(sqlite3_close(db), SQLITE_OK);
	}
	tidu_vfs_detach_key(src.path);
	tidu_vfs_detach_key(dst.path);
}

/* Stores in a rollback-journal mode: page images in the journal are
 * encrypted too, and a hot journal rolls back after a crash. */
static void test_rollback_journal(void **state)
{
	unsigned long tampered = tidu_vfs_tamper_count();
	char journal[800];
	struct store st;
	sqlite3 *db;
	int status, n;
	pid_t pid;

	(void)state;
	db = create_db(&st, "DELETE");
	insert_rows(db, 0, 2000, 250);
	/* A spilled transaction rolled back in process; a savepoint. */
	exec_ok(db, "PRAGMA cache_size=10");
	exec_ok(db, "BEGIN; UPDATE secret_tbl SET v = v || ' changed';");
	assert_int_equal(scan_dir(st.dir), 0);
	/* Straight at the journal: a page-sized write that is neither a page
	 * image nor a header sector is refused (and nothing is written). */
	{
		sqlite3_file *jp = NULL;
		sqlite3_int64 jsize = 0, jsize2 = 0;
		unsigned char page[PAGE];

		assert_int_equal(sqlite3_file_control(db, "main",
			SQLITE_FCNTL_JOURNAL_POINTER, &jp), SQLITE_OK);
		assert_non_null(jp);
		assert_non_null(jp->pMethods);
		assert_int_equal(jp->pMethods->xFileSize(jp, &jsize), SQLITE_OK);
		memset(page, 'A', sizeof(page));
		assert_int_equal(jp->pMethods->xWrite(jp, page, PAGE, jsize),
				 SQLITE_IOERR_WRITE);
		memset(page, 0, sizeof(page));
		page[100] = 1; /* a header sector has zeros after byte 28 */
		assert_int_equal(jp->pMethods->xWrite(jp, page, PAGE, jsize),
				 SQLITE_IOERR_WRITE);
		assert_int_equal(jp->pMethods->xFileSize(jp, &jsize2), SQLITE_OK);
		assert_int_equal(jsize, jsize2);
	}
	exec_ok(db, "ROLLBACK");
	assert_int_equal(count_rows(db), 2000);
	exec_ok(db, "BEGIN; DELETE FROM secret_tbl WHERE id >= 1990; SAVEPOINT sp;"
		    "UPDATE secret_tbl SET v = 'x';"
		    "ROLLBACK TO sp; COMMIT");
	assert_int_equal(count_rows(db), 1990);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL), 0);

	/* A child dies in the middle of a big transaction. */
	sidecar(&st, "-journal", journal, sizeof(journal));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *c = NULL;

		if (sqlite3_open_v2(st.path, &c, SQLITE_OPEN_READWRITE,
				    TIDU_VFS_NAME) != SQLITE_OK ||
		    exec_rc(c, "PRAGMA journal_mode=DELETE; PRAGMA cache_size=10;"
			       "PRAGMA temp_store=MEMORY; BEGIN;"
			       "UPDATE secret_tbl SET v = 'gone', b = NULL") != SQLITE_OK)
			_exit(2);
		if (file_size(journal) < 100 * PAGE)
			_exit(3);
		_exit(scan_dir(st.dir) == 0 ? 0 : 4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(file_size(journal) > 100 * PAGE);
	assert_int_equal(scan_dir(st.dir), 0);

	db = NULL;
	assert_int_equal(sqlite3_open_v2(st.path, &db, SQLITE_OPEN_READWRITE,
					 TIDU_VFS_NAME), SQLITE_OK);
	exec_ok(db, "PRAGMA temp_store=MEMORY");
	assert_int_equal(read_rows(db, &n), SQLITE_DONE);
	assert_int_equal(n, 1990);
	assert_int_equal(integrity_rc(db), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(file_size(journal), -1);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL), 0);
	assert_int_equal(tidu_vfs_tamper_count(), tampered);

	/* A damaged page image in a hot journal is refused, not played back. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *c = NULL;

		if (sqlite3_open_v2(st.path, &c, SQLITE_OPEN_READWRITE,
				    TIDU_VFS_NAME) != SQLITE_OK ||
		    exec_rc(c, "PRAGMA cache_size=10; PRAGMA temp_store=MEMORY; BEGIN;"
			       "UPDATE secret_tbl SET v = 'gone'") != SQLITE_OK)
			_exit(2);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Records start after the 512-byte header: pgno(4) page cksum(4). */
	flip(journal, 512 + 4 + 10 * (PAGE + 8) + 77);
	assert_int_equal(sql_after_damage(st.path), SQLITE_IOERR_DATA);
	assert_true(tidu_vfs_tamper_count() > tampered);
	tidu_vfs_detach_key(st.path);
}

/* Several stores at once; keys detached right after opening. */
static void test_several_stores(void **state)
{
	struct store st[3];
	sqlite3 *db[3];
	char path[800];
	int i, k, rc;

	(void)state;
	for (i = 0; i < 3; i++) {
		db[i] = create_db(&st[i], NULL);
		assert_int_equal(sqlite3_close(db[i]), SQLITE_OK);
	}
	for (i = 0; i < 3; i++) {
		db[i] = NULL;
		assert_int_equal(sqlite3_open_v2(st[i].path, &db[i], SQLITE_OPEN_READWRITE,
						 TIDU_VFS_NAME), SQLITE_OK);
		/* The WAL is opened later; it takes the key from the database
		 * file, so the table entry may go now. */
		tidu_vfs_detach_key(st[i].path);
		exec_ok(db[i], pragmas);
	}
	for (k = 0; k < 5; k++)
		for (i = 0; i < 3; i++)
			insert_rows(db[i], (k * 3 + i) * 100, (k * 3 + i) * 100 + 100, 50);
	for (i = 0; i < 3; i++) {
		sqlite3_stmt *s = NULL;

		assert_int_equal(sqlite3_prepare_v2(db[i], "SELECT count(*) FROM "
			"secret_tbl WHERE (id / 100) % 3 = ?", -1, &s, NULL), SQLITE_OK);
		sqlite3_bind_int(s, 1, i);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(s, 0), 500);
		sqlite3_finalize(s);
		assert_int_equal(count_rows(db[i]), 500);
		assert_int_equal(sqlite3_close(db[i]), SQLITE_OK);
	}
	/* Detached: cannot be opened. */
	db[0] = NULL;
	rc = sqlite3_open_v2(st[0].path, &db[0], SQLITE_OPEN_READWRITE, TIDU_VFS_NAME);
	assert_int_equal(rc & 0xff, SQLITE_CANTOPEN);
	sqlite3_close(db[0]);
	for (i = 0; i < 3; i++)
		assert_int_equal(tidu_vfs_verify_file(st[i].path, st[i].s.key,
						      st[i].s.file_id, NULL), 0);
	/* Stores are not interchangeable. */
	assert_int_equal(tidu_vfs_verify_file(st[0].path, st[1].s.key,
					      st[1].s.file_id, NULL), TIDU_ECORRUPT);

	/* The table is bounded; errors are clean and detaching frees it. */
	for (i = 0; i < 100; i++) {
		snprintf(path, sizeof(path), "%s/many%d.db", dir, i);
		if ((rc = tidu_vfs_attach_key(path, st[0].s.key, st[0].s.file_id)) < 0)
			break;
	}
	assert_int_equal(rc, TIDU_ERROR);
	assert_true(i >= 8);
	while (i-- > 0) {
		snprintf(path, sizeof(path), "%s/many%d.db", dir, i);
		tidu_vfs_detach_key(path);
	}
	assert_int_equal(tidu_vfs_attach_key(st[0].path, st[0].s.key, st[0].s.file_id), 0);
	tidu_vfs_detach_key(st[0].path);
}

/* Nonces never repeat: not across pages, not in a forked child. */
static void test_nonces(void **state)
{
	struct store st;
	unsigned char *db_bytes, *wal_bytes, prefix[16];
	size_t n, nw, i, j, npages, nframes;
	char wal[800];

	(void)state;
	closed_store(&st, 2000);
	db_bytes = slurp(st.path, &n);
	npages = (n - HDR) / PAGE;
	for (i = 0; i < npages; i++)
		for (j = i + 1; j < npages; j++)
			assert_memory_not_equal(db_bytes + HDR + i * PAGE + PAGE - 40,
						db_bytes + HDR + j * PAGE + PAGE - 40, 24);
	memcpy(prefix, db_bytes + HDR + PAGE - 40, 16); /* this process's */

	assert_int_equal(crash_writer(&st, 2000, 2500, 100, 0), 0);
	sidecar(&st, "-wal", wal, sizeof(wal));
	wal_bytes = slurp(wal, &nw);
	nframes = (nw - WAL_HDR) / FRAME;
	assert_true(nframes > 5);
	for (i = 0; i < nframes; i++) {
		const unsigned char *nonce = wal_bytes + WAL_HDR + i * FRAME + 24 + PAGE - 40;

		/* The child drew its own prefix. */
		assert_memory_not_equal(nonce, prefix, 16);
		assert_memory_equal(nonce, wal_bytes + WAL_HDR + 24 + PAGE - 40, 16);
		for (j = 0; j < npages; j++)
			assert_memory_not_equal(nonce, db_bytes + HDR + j * PAGE + PAGE - 40, 24);
	}
	free(db_bytes);
	free(wal_bytes);
	tidu_vfs_detach_key(st.path);
}

/* 1 if another process sees a lock on SQLite's shared-lock bytes. */
static int shared_lock_held(const char *path)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct flock fl;
		int fd = open(path, O_RDWR);

		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = 0x40000000 + 2; /* SHARED_FIRST of os_unix.c */
		fl.l_len = 510;
		if (fd < 0 || fcntl(fd, F_GETLK, &fl) < 0)
			_exit(2);
		_exit(fl.l_type == F_UNLCK ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_true(WEXITSTATUS(status) < 2);
	return WEXITSTATUS(status);
}

/*
 * Closing any descriptor of a file drops the process's POSIX locks on it.
 * Key-header I/O while the store is open must go through SQLite's own
 * descriptor, or another process could checkpoint and delete the WAL under
 * us.
 */
static void test_header_io_keeps_locks(void **state)
{
	struct store st;
	tidu_secret u;
	sqlite3_stmt *s = NULL;
	sqlite3 *db;
	int fd;

	(void)state;
	db = create_db(&st, NULL);
	insert_rows(db, 0, 100, 100);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT id FROM secret_tbl", -1, &s,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW); /* read transaction open */
	assert_int_equal(shared_lock_held(st.path), 1);

	assert_int_equal(tidu_keyfile_unlock(st.path, PASS, strlen(PASS), &u), 0);
	assert_memory_equal(u.key, st.s.key, sizeof(u.key));
	assert_int_equal(tidu_keyfile_check(st.path), 0);
	assert_int_equal(tidu_keyfile_set_passphrase(st.path, &st.s, "new", 3), 0);
	assert_int_equal(tidu_vfs_verify_file(st.path, st.s.key, st.s.file_id, NULL), 0);
	assert_int_equal(shared_lock_held(st.path), 1);
	assert_int_equal(tidu_keyfile_unlock(st.path, "new", 3, &u), 0);
	assert_int_equal(tidu_keyfile_unlock(st.path, PASS, strlen(PASS), &u), TIDU_EPASS);
	assert_int_equal(shared_lock_held(st.path), 1);

	/* The trap itself, for the record: a plain open and close. */
	fd = open(st.path, O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(shared_lock_held(st.path), 0);

	sqlite3_finalize(s);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	db = open_db(st.path);
	assert_int_equal(count_rows(db), 100);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	tidu_vfs_detach_key(st.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_no_plaintext),
		cmocka_unit_test(test_direct_io),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_tamper_pages),
		cmocka_unit_test(test_crash_recovery),
		cmocka_unit_test(test_wal_torn_tail),
		cmocka_unit_test(test_wal_tamper),
		cmocka_unit_test(test_vacuum_into),
		cmocka_unit_test(test_checkpoint_copies_ciphertext),
		cmocka_unit_test(test_rollback_journal),
		cmocka_unit_test(test_several_stores),
		cmocka_unit_test(test_nonces),
		cmocka_unit_test(test_header_io_keeps_locks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
