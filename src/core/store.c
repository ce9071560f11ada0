#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "tidu/alloc.h"
#include "tidu/clock.h"
#include "tidu/dict.h"
#include "tidu/embedded.h"
#include "tidu/file.h"
#include "tidu/i18n.h"
#include "tidu/keyfile.h"
#include "tidu/parse.h"
#include "tidu/store.h"
#include "tidu/vfs.h"

#include "core/store_int.h"

/* Statements the cache keeps that are not being stepped: see tidu_store_stmt(). */
#define STMT_CACHE 32

/* The key header before the pages (vfs.h). */
#define HDR_SIZE TIDU_HEADER_SIZE

typedef struct {
	char *sql;
	sqlite3_stmt *stmt;
	uint64_t used; /* cache_clock when last handed out: least recent goes first */
} stmt_entry;

struct tidu_store {
	sqlite3 *db;
	char *path;      /* .../tidu.db */
	char *device;
	char *district;
	char *officer;
	char *role;
	int schema_version;
	int64_t hlc;     /* last HLC handed out or seen */
	int hlc_dirty;   /* hlc is ahead of meta: written at the next commit */
	tidu_secret secret; /* data key and file id, wiped on free */
	unsigned long tamper_base; /* tidu_vfs_tamper_count() when opened */
	int readonly;    /* opened read-only: its home cannot be written */
	stmt_entry *cache; /* tidu_store_stmt(): see there */
	size_t ncache, cache_cap;
	uint64_t cache_clock; /* ticks once per tidu_store_stmt() */
	tidu_progress_fn progress; /* tidu_store_set_progress() */
	void *progress_ctx;
};

int tidu_store_home(const char *home, tidu_buf *out)
{
	const char *env;

	tidu_buf_clear(out);
	if (home && *home)
		return tidu_buf_puts(out, home), 0;
	if ((env = getenv("TIDU_HOME")) && *env)
		return tidu_buf_puts(out, env), 0;
	if ((env = getenv("XDG_DATA_HOME")) && *env)
		return tidu_buf_printf(out, "%s/tidu", env), 0;
	if ((env = getenv("HOME")) && *env)
		return tidu_buf_printf(out, "%s/.local/share/tidu", env), 0;
	return tidu_error_set(TIDU_EINVAL,
		"%s", _("no home directory: use --home or set TIDU_HOME"));
}

static char *db_path(const char *home)
{
	tidu_buf b = TIDU_BUF_INIT;

	tidu_buf_printf(&b, "%s/%s", home, TIDU_DB_NAME);
	return tidu_buf_detach(&b);
}

int tidu_store_exists(const char *home)
{
	char *p = db_path(home);
	struct stat st;
	int r = stat(p, &st) == 0;

	free(p);
	return r;
}

/* The home directory of the store file `path` (.../tidu.db), the caller's. */
static char *home_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	tidu_buf b = TIDU_BUF_INIT;

	if (!slash)
		tidu_buf_puts(&b, ".");
	else
		tidu_buf_put(&b, path, slash == path ? 1 : (size_t)(slash - path));
	return tidu_buf_detach(&b);
}

/*
 * A write refused because a file cannot be written. A `tidu.db-shm` that
 * cannot be written while the rest can (left at 0400 by a copy or a
 * careless chmod) blocks every write: name it.
 */
static int readonly_error(tidu_store *s, const char *what)
{
	tidu_buf shm = TIDU_BUF_INIT;
	char *home = home_of(s->path);
	int error;

	tidu_buf_printf(&shm, "%s-shm", s->path);
	if (!s->readonly && access(shm.ptr, F_OK) == 0 && access(shm.ptr, W_OK) < 0)
		error = tidu_error_set(TIDU_ERROR,
			_("the store at '%s' cannot be written because '%s' is read-only: "
			  "if no tidu is running, remove that file (or chmod 600 it) and try again"),
			home, shm.ptr);
	else
		error = tidu_error_set(TIDU_ERROR,
			_("the store at '%s' is read-only (%s): read-only commands work, "
			  "to change it copy it to a writable disk"), home, what);
	free(home);
	tidu_buf_free(&shm);
	return error;
}

int tidu_store_sqlerr(tidu_store *s, int rc, const char *what)
{
	const char *msg = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	int prim = rc & 0xff;

	/*
	 * The pager may report a failed page authentication as a plain I/O
	 * error; the VFS counts every such failure, so ask it.
	 */
	if (s && tidu_vfs_tamper_count() != s->tamper_base)
		return tidu_error_set(TIDU_ECORRUPT,
			_("store '%s' is corrupted or has been tampered with: page %u failed authentication"),
			s->path, tidu_vfs_last_bad_page());
	if (rc == SQLITE_IOERR_DATA || prim == SQLITE_CORRUPT ||
	    prim == SQLITE_NOTADB)
		return tidu_error_set(TIDU_ECORRUPT,
			_("store '%s' is corrupted or has been tampered with (%s: %s)"),
			s && s->path ? s->path : "?", what, msg);
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		return tidu_error_set(TIDU_ERROR,
			_("store '%s' is busy: another tidu is using it (%s)"),
			s && s->path ? s->path : "?", what);
	if (prim == SQLITE_FULL || (s && s->db && sqlite3_system_errno(s->db) == ENOSPC) ||
	    (s && s->db && sqlite3_system_errno(s->db) == EDQUOT))
		return tidu_error_set(TIDU_ERROR,
			_("the disk is full: cannot write the store '%s' (%s); make room and try again"),
			s && s->path ? s->path : "?", what);
	if (prim == SQLITE_READONLY && s && s->path)
		return readonly_error(s, what);
	return tidu_error_set(TIDU_ERROR, _("database error while %s: %s"),
			      what, msg);
}

int tidu_store_exec(tidu_store *s, sqlite3_stmt *st, const char *what)
{
	int rc;

	if (!st)
		return TIDU_ERROR;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : tidu_store_sqlerr(s, rc, what);
}

static int exec(tidu_store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : tidu_store_sqlerr(s, rc, what);
}

/*
 * The slot for a new statement. Only a statement that no caller is stepping
 * may be finalized (sqlite3_stmt_busy: stepped, neither done nor reset), and
 * only once STMT_CACHE others that are not being stepped were handed out
 * since it was: the least recently used goes. With fewer idle statements
 * than that, the cache grows instead, so callers that step many at once
 * (nested loops) never see one finalized under them.
 */
static stmt_entry *stmt_slot(tidu_store *s)
{
	stmt_entry *lru = NULL;
	size_t i, idle = 0;

	for (i = 0; i < s->ncache; i++) {
		if (sqlite3_stmt_busy(s->cache[i].stmt))
			continue;
		idle++;
		if (!lru || s->cache[i].used < lru->used)
			lru = &s->cache[i];
	}
	if (idle >= STMT_CACHE) {
		sqlite3_finalize(lru->stmt);
		free(lru->sql);
		return lru;
	}
	if (s->ncache == s->cache_cap) {
		s->cache_cap = s->cache_cap ? 2 * s->cache_cap : STMT_CACHE;
		s->cache = tidu_reallocarray(s->cache, s->cache_cap, sizeof(*s->cache));
	}
	return &s->cache[s->ncache++];
}

sqlite3_stmt *tidu_store_stmt(tidu_store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	stmt_entry *e;
	size_t i;
	int rc;

	s->cache_clock++;
	for (i = 0; i < s->ncache; i++) {
		e = &s->cache[i];
		if (strcmp(e->sql, sql) == 0) {
			sqlite3_reset(e->stmt);
			sqlite3_clear_bindings(e->stmt);
			e->used = s->cache_clock;
			return e->stmt;
		}
	}
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
				NULL);
	if (rc != SQLITE_OK) {
		tidu_store_sqlerr(s, rc, _("preparing a statement"));
		return NULL;
	}
	e = stmt_slot(s);
	e->sql = tidu_strdup(sql);
	e->stmt = st;
	e->used = s->cache_clock;
	return st;
}

int tidu_store_begin(tidu_store *s)
{
	return exec(s, "BEGIN IMMEDIATE", _("starting a transaction"));
}

int tidu_store_commit(tidu_store *s)
{
	int error;

	/*
	 * The clock goes to disk once per transaction, with the data that used
	 * it, rather than once per write.
	 */
	if (s->hlc_dirty) {
		char text[32];

		snprintf(text, sizeof(text), "%lld", (long long)s->hlc);
		if ((error = tidu_store_meta_set(s, "hlc", text)) < 0)
			return error;
	}
	if ((error = exec(s, "COMMIT", _("committing"))) < 0)
		return error;
	s->hlc_dirty = 0;
	return 0;
}

void tidu_store_rollback(tidu_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int tidu_store_meta_get(tidu_store *s, const char *key, char **out)
{
	sqlite3_stmt *st = tidu_store_stmt(s, "SELECT value FROM meta WHERE key=?1");
	int rc;

	*out = NULL;
	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = tidu_strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return tidu_error_set(TIDU_ENOTFOUND,
			_("store setting '%s' is missing"), key);
	return tidu_store_sqlerr(s, rc, _("reading settings"));
}

int tidu_store_meta_set(tidu_store *s, const char *key, const char *value)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"INSERT INTO meta(key, value) VALUES(?1, ?2) "
		"ON CONFLICT(key) DO UPDATE SET value=excluded.value");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("writing settings"));
}

/* Advances the clock; tidu_store_commit() persists it. */
static int hlc_save(tidu_store *s, int64_t hlc)
{
	s->hlc = hlc;
	s->hlc_dirty = 1;
	return 0;
}

int tidu_store_hlc_next(tidu_store *s, int64_t at_least, int64_t *out)
{
	int64_t now = tidu_clock_now_ms();
	int64_t phys = now < 0 ? 0 : (now & 0xffffffffffffLL) << 16;
	int64_t next = s->hlc + 1 > phys ? s->hlc + 1 : phys;
	int error;

	if (next < at_least)
		next = at_least;
	if ((error = hlc_save(s, next)) < 0)
		return error;
	*out = next;
	return 0;
}

int tidu_store_hlc_observe(tidu_store *s, int64_t hlc, int64_t *ahead_ms)
{
	int64_t now = tidu_clock_now_ms();
	int64_t limit = (now + TIDU_HLC_MAX_AHEAD_MS) << 16;

	*ahead_ms = 0;
	if (hlc > limit) {
		/*
		 * A laptop with its clock far ahead: the change still merges
		 * (every replica must decide alike), but our clock does not
		 * follow it, and the caller reports it.
		 */
		*ahead_ms = (hlc >> 16) - now;
		hlc = limit;
	}
	return hlc > s->hlc ? hlc_save(s, hlc) : 0;
}

/* The NNN of a file named NNN_*.sql; 0 if the name does not start with digits. */
static int migration_number(const char *name)
{
	char digits[10];
	size_t n = strspn(name, "0123456789");
	int64_t v;

	if (n == 0 || n >= sizeof(digits))
		return 0;
	memcpy(digits, name, n);
	digits[n] = '\0';
	return tidu_parse_int64(digits, &v) == 0 ? (int)v : 0;
}

/* Applies the migrations NNN_*.sql newer than PRAGMA user_version. */
static int migrate(tidu_store *s)
{
	sqlite3_stmt *st = NULL;
	int version = 0, rc;
	size_t i;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	rc = sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return tidu_store_sqlerr(s, rc, _("reading the schema version"));

	for (i = 0; i < tidu_embedded_count; i++) {
		const tidu_embedded_file *f = &tidu_embedded[i];
		size_t len = strlen(f->name);
		int n = migration_number(f->name);
		char pragma[64];
		int error;

		if (len < 8 || strcmp(f->name + len - 4, ".sql") != 0 || n <= 0)
			continue;
		if (n <= version)
			continue;
		if (n != version + 1)
			return tidu_error_set(TIDU_ERROR,
				_("schema migration %d is missing"), version + 1);
		if ((error = tidu_store_begin(s)) < 0)
			return error;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", n);
		if ((error = exec(s, (const char *)f->data, _("migrating the schema"))) < 0 ||
		    (error = exec(s, pragma, _("migrating the schema"))) < 0 ||
		    (error = tidu_store_commit(s)) < 0) {
			tidu_store_rollback(s);
			return error;
		}
		version = n;
	}
	s->schema_version = version;
	return 0;
}

static int load_identity(tidu_store *s)
{
	char *hlc = NULL;
	int error;

	if ((error = tidu_store_meta_get(s, "device", &s->device)) < 0 ||
	    (error = tidu_store_meta_get(s, "district", &s->district)) < 0 ||
	    (error = tidu_store_meta_get(s, "officer", &s->officer)) < 0 ||
	    (error = tidu_store_meta_get(s, "role", &s->role)) < 0 ||
	    (error = tidu_store_meta_get(s, "hlc", &hlc)) < 0)
		return error == TIDU_ENOTFOUND ? tidu_error_set(TIDU_ECORRUPT,
			_("store '%s' is incomplete: %s"), s->path,
			tidu_error_message()) : error;
	s->hlc = strtoll(hlc, NULL, 10);
	free(hlc);
	return 0;
}

/*
 * `path` as an SQLite URI opening it read-only and immutable: no lock, no
 * -shm, no -wal is made (none can be on a write-protected disk).
 */
static char *immutable_uri(const char *path)
{
	tidu_buf b = TIDU_BUF_INIT;
	const unsigned char *p;

	tidu_buf_puts(&b, "file:");
	for (p = (const unsigned char *)path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#' || *p <= ' ' || *p >= 0x7f)
			tidu_buf_printf(&b, "%%%02X", *p);
		else
			tidu_buf_put(&b, (const char *)p, 1);
	}
	tidu_buf_puts(&b, "?immutable=1");
	return tidu_buf_detach(&b);
}

/*
 * Whether a write to the store would be refused by the file system (a
 * write-protected stick, a read-only mount, files and folder not ours to
 * write): then it opens read-only, and what only reads still works.
 */
static int cannot_write(const char *path)
{
	char *home = home_of(path);
	int r = access(path, W_OK) < 0 || access(home, W_OK) < 0;

	free(home);
	return r;
}

/* A -wal file with frames in it: the store's last commits are there. */
static int wal_has_frames(const char *path)
{
	tidu_buf wal = TIDU_BUF_INIT;
	struct stat st;
	int r;

	tidu_buf_printf(&wal, "%s-wal", path);
	r = stat(wal.ptr, &st) == 0 && st.st_size > 0;
	tidu_buf_free(&wal);
	return r;
}

/* Opens the SQLite connection once the key is attached to the VFS. */
static int connect(tidu_store *s, int create)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
		    (create ? SQLITE_OPEN_CREATE : 0);
	char *uri = NULL;
	int rc, error;

	if (!create && cannot_write(s->path)) {
		s->readonly = 1;
		flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
		/*
		 * With no -wal (a store closed cleanly) nothing but the file is
		 * needed: immutable. With one, SQLite reads it through a
		 * read-only -shm or, lacking that, the -wal itself.
		 */
		if (!wal_has_frames(s->path)) {
			uri = immutable_uri(s->path);
			flags |= SQLITE_OPEN_URI;
		}
	}
	rc = sqlite3_open_v2(uri ? uri : s->path, &s->db, flags, TIDU_VFS_NAME);
	free(uri);
	if (rc != SQLITE_OK)
		return tidu_store_sqlerr(s, rc, _("opening the store"));
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 10000);
	if (create && (error = tidu_vfs_configure_new(s->db)) < 0)
		return error;
	/*
	 * WAL with synchronous=FULL: a commit is on disk when COMMIT returns.
	 * temp_store=MEMORY: no plaintext temp files. secure_delete: freed
	 * pages are zeroed before they are encrypted, not left readable.
	 * mmap_size=0: the VFS has no xFetch anyway; say so. A read-only
	 * store is WAL already and cannot be switched.
	 */
	if ((!s->readonly &&
	     (error = exec(s, "PRAGMA journal_mode=WAL", _("opening the store"))) < 0) ||
	    (error = exec(s,
		"PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;"
		"PRAGMA secure_delete=ON; PRAGMA mmap_size=0;"
		"PRAGMA foreign_keys=OFF; PRAGMA trusted_schema=OFF;"
		"PRAGMA cache_size=-65536",
		_("opening the store"))) < 0)
		return error;
	/* Reading the schema authenticates page 1 and the schema pages. */
	return migrate(s);
}

/*
 * A store file cut short: only its key header left, or a page cut in two.
 * The pages are whole PAGE-sized blocks after the header; without them (and
 * no -wal holding them) SQLite would see an empty database.
 */
static int check_length(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return 0; /* the open reports it */
	if ((st.st_size <= HDR_SIZE && !wal_has_frames(path)) ||
	    (st.st_size > HDR_SIZE && (st.st_size - HDR_SIZE) % TIDU_PAGE_SIZE))
		return tidu_error_set(TIDU_ECORRUPT,
			_("store '%s' is damaged: the file is truncated (%lld bytes, %s): "
			  "restore it from a backup"), path, (long long)st.st_size,
			st.st_size <= HDR_SIZE ? _("its key header and no data")
					       : _("a page is cut short"));
	return 0;
}

/* The one place of the rule, for a new store and a new passphrase alike. */
static int check_passphrase(size_t passlen)
{
	_Static_assert(TIDU_PASSPHRASE_MIN == 8, "the message says 8");
	if (passlen < TIDU_PASSPHRASE_MIN)
		return tidu_error_set(TIDU_EPASS, "%s",
			_("the passphrase is too short: use at least 8 characters"));
	return 0;
}

static tidu_store *store_alloc(const char *home)
{
	tidu_store *s = tidu_calloc(1, sizeof(*s));

	s->path = db_path(home);
	s->tamper_base = tidu_vfs_tamper_count();
	return s;
}

int tidu_store_create(tidu_store **out, const char *home,
		      const tidu_store_identity *id, const char *pass,
		      size_t passlen, char *recovery, size_t recovery_size)
{
	tidu_store *s = NULL;
	tidu_secret secret;
	unsigned char dev[TIDU_DEVICE_ID_LEN / 2];
	char devhex[TIDU_DEVICE_ID_LEN + 1];
	int error, created = 0;

	*out = NULL;
	memset(&secret, 0, sizeof(secret));
	if ((error = check_passphrase(passlen)) < 0)
		return error;
	if (!tidu_dict_district_name(id->district))
		return tidu_error_set(TIDU_EINVAL,
			_("unknown district '%s': use a code from the division list"),
			id->district ? id->district : "");
	if (strcmp(id->role, "city") == 0 ? !tidu_dict_is_city(id->district)
					   : tidu_dict_is_city(id->district))
		return tidu_error_set(TIDU_EINVAL,
			_("district '%s' does not fit role '%s': the city uses 410100, the others a district code"),
			id->district, id->role);
	if (!id->officer || !*id->officer)
		return tidu_error_set(TIDU_EINVAL, "%s", _("an officer name is required"));
	if (strcmp(id->role, "officer") && strcmp(id->role, "district") &&
	    strcmp(id->role, "city"))
		return tidu_error_set(TIDU_EINVAL,
			_("unknown role '%s': use officer, district or city"), id->role);
	if ((error = tidu_file_mkdirs(home, 0700)) < 0)
		return error;
	if ((error = tidu_vfs_register()) < 0)
		return error;

	s = store_alloc(home);
	if ((error = tidu_keyfile_create(s->path, pass, passlen, &secret,
					 recovery, recovery_size)) < 0)
		goto done;
	created = 1;
	if ((error = tidu_vfs_attach_key(s->path, secret.key, secret.file_id)) < 0 ||
	    (error = connect(s, 1)) < 0)
		goto done;

	randombytes_buf(dev, sizeof(dev));
	sodium_bin2hex(devhex, sizeof(devhex), dev, sizeof(dev));
	if ((error = tidu_store_begin(s)) < 0)
		goto done;
	if ((error = tidu_store_meta_set(s, "device", devhex)) < 0 ||
	    (error = tidu_store_meta_set(s, "district", id->district)) < 0 ||
	    (error = tidu_store_meta_set(s, "officer", id->officer)) < 0 ||
	    (error = tidu_store_meta_set(s, "role", id->role)) < 0 ||
	    (error = tidu_store_meta_set(s, "hlc", "0")) < 0 ||
	    (error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		goto done;
	}
	if ((error = load_identity(s)) < 0)
		goto done;
	s->secret = secret;

done:
	tidu_secret_wipe(&secret);
	if (error < 0) {
		if (created)
			tidu_store_discard(s);
		else
			tidu_store_free(s);
		return error;
	}
	*out = s;
	return 0;
}

void tidu_store_discard(tidu_store *s)
{
	tidu_buf side = TIDU_BUF_INIT;
	char *p;

	if (!s)
		return;
	p = tidu_strdup(s->path);
	/* Closed first: SQLite may write the -wal and -shm until then. */
	tidu_store_free(s);
	unlink(p);
	tidu_buf_printf(&side, "%s-wal", p);
	unlink(side.ptr);
	tidu_buf_clear(&side);
	tidu_buf_printf(&side, "%s-shm", p);
	unlink(side.ptr);
	tidu_buf_free(&side);
	free(p);
}

static int open_with(tidu_store **out, const char *home, const char *pass,
		     size_t passlen, const char *recovery, const tidu_secret *given)
{
	tidu_store *s;
	tidu_secret secret;
	int error;

	*out = NULL;
	memset(&secret, 0, sizeof(secret));
	if (!tidu_store_exists(home))
		return tidu_error_set(TIDU_ENOTFOUND,
			_("no store in '%s': run 'tidu init' first"), home);
	if ((error = tidu_vfs_register()) < 0)
		return error;
	s = store_alloc(home);
	if (given) {
		if ((error = tidu_keyfile_check_secret(s->path, given)) == 0)
			secret = *given;
	} else {
		error = recovery ? tidu_keyfile_unlock_recovery(s->path, recovery, &secret)
				 : tidu_keyfile_unlock(s->path, pass, passlen, &secret);
	}
	if (error < 0)
		goto done;
	if ((error = check_length(s->path)) < 0 ||
	    (error = tidu_vfs_attach_key(s->path, secret.key, secret.file_id)) < 0 ||
	    (error = connect(s, 0)) < 0 || (error = load_identity(s)) < 0)
		goto done;
	s->secret = secret;
done:
	tidu_secret_wipe(&secret);
	if (error < 0) {
		tidu_store_free(s);
		return error;
	}
	*out = s;
	return 0;
}

int tidu_store_open(tidu_store **out, const char *home, const char *pass,
		    size_t passlen)
{
	return open_with(out, home, pass, passlen, NULL, NULL);
}

int tidu_store_open_secret(tidu_store **out, const char *home, const tidu_secret *secret)
{
	return open_with(out, home, NULL, 0, NULL, secret);
}

int tidu_store_open_recovery(tidu_store **out, const char *home,
			     const char *recovery)
{
	return open_with(out, home, NULL, 0, recovery, NULL);
}

void tidu_store_free(tidu_store *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ncache; i++) {
		sqlite3_finalize(s->cache[i].stmt);
		free(s->cache[i].sql);
	}
	free(s->cache);
	if (s->db)
		sqlite3_close(s->db);
	if (s->path)
		tidu_vfs_detach_key(s->path);
	free(s->path);
	free(s->device);
	free(s->district);
	free(s->officer);
	free(s->role);
	tidu_secret_wipe(&s->secret);
	free(s);
}

int tidu_store_set_passphrase(tidu_store *s, const char *pass, size_t passlen)
{
	int error;

	if ((error = check_passphrase(passlen)) < 0)
		return error;
	if (s->readonly)
		return readonly_error(s, _("changing the passphrase"));
	return tidu_keyfile_set_passphrase(s->path, &s->secret, pass, passlen);
}

int tidu_store_check(const char *home, const char *pass, size_t passlen)
{
	return tidu_store_check_with(home, pass, passlen, tidu_store_open_secret);
}

int tidu_store_check_with(const char *home, const char *pass, size_t passlen,
			  tidu_store_opener opener)
{
	tidu_store *s = NULL;
	tidu_secret secret;
	sqlite3_stmt *st = NULL;
	unsigned bad = 0;
	char *path = db_path(home);
	int error, rc;

	memset(&secret, 0, sizeof(secret));
	if (!tidu_store_exists(home)) {
		error = tidu_error_set(TIDU_ENOTFOUND,
			_("no store in '%s': run 'tidu init' first"), home);
		goto done;
	}
	if ((error = tidu_keyfile_unlock(path, pass, passlen, &secret)) < 0 ||
	    (error = tidu_keyfile_check(path)) < 0 ||
	    (error = tidu_vfs_verify_file(path, secret.key, secret.file_id, &bad)) < 0)
		goto done;
	/* The key is unlocked already: one Argon2id derivation, not two. */
	if ((error = opener(&s, home, &secret)) < 0)
		goto done;
	rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0);

		if (!r || strcmp(r, "ok") != 0)
			error = tidu_error_set(TIDU_ECORRUPT,
				_("store '%s' failed the integrity check: %s"),
				path, r ? r : "?");
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK && rc != SQLITE_DONE && error == 0)
		error = tidu_store_sqlerr(s, rc, _("checking integrity"));
done:
	sqlite3_finalize(st);
	tidu_store_free(s);
	tidu_secret_wipe(&secret);
	free(path);
	return error;
}

sqlite3 *tidu_store_db(const tidu_store *s) { return s->db; }
const char *tidu_store_path(const tidu_store *s) { return s->path; }
const char *tidu_store_device(const tidu_store *s) { return s->device; }
const char *tidu_store_district(const tidu_store *s) { return s->district; }
const char *tidu_store_officer(const tidu_store *s) { return s->officer; }
const char *tidu_store_role(const tidu_store *s) { return s->role; }

void tidu_store_set_progress(tidu_store *s, tidu_progress_fn fn, void *ctx)
{
	s->progress = fn;
	s->progress_ctx = ctx;
}

void tidu_store_progress(tidu_store *s, const char *what, size_t done, size_t total)
{
	if (s->progress)
		s->progress(s->progress_ctx, what, done, total);
}

void tidu_store_progress_end(tidu_store *s)
{
	if (s->progress)
		s->progress(s->progress_ctx, NULL, 0, 0);
}
int tidu_store_schema_version(const tidu_store *s) { return s->schema_version; }
