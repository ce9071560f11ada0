#ifndef TIDU_STORE_H
#define TIDU_STORE_H
/*
 * The local store: an encrypted SQLite database `tidu.db` (and its WAL) in a
 * home directory, opened through the "tidu" VFS (vfs.h) with the data key
 * unwrapped from the key header (keyfile.h). Schema migrations from schema/
 * are applied on open. One tidu_store is one open connection; it is not
 * shared between threads.
 *
 * This is the low level: a store opened here has no device keys made or
 * checked. Commands use home.h, which adds this device's identity.
 */
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "tidu/buf.h"
#include "tidu/error.h"
#include "tidu/keyfile.h"

typedef struct tidu_store tidu_store;

#define TIDU_DB_NAME "tidu.db"
#define TIDU_DEVICE_ID_LEN 16 /* hex characters */

/*
 * Shortest passphrase accepted for a new store or a new passphrase, in
 * bytes: TIDU_EPASS below it.
 */
#define TIDU_PASSPHRASE_MIN 8

/* Identity of a new store, given at `tidu init`. */
typedef struct {
	const char *district; /* division code from schema/divisions.csv */
	const char *officer;  /* officer's name, any UTF-8 */
	const char *role;     /* "officer", "district" or "city" */
} tidu_store_identity;

/*
 * Resolves the home directory: `home` if not NULL, else $TIDU_HOME, else
 * $XDG_DATA_HOME/tidu, else $HOME/.local/share/tidu. Writes it to `out`.
 */
int tidu_store_home(const char *home, tidu_buf *out);

/* 1 if `home` holds a store database. */
int tidu_store_exists(const char *home);

/*
 * Creates a new store in `home` (created with mode 0700 if missing) protected
 * by the passphrase. Writes the recovery key text to `recovery`
 * (TIDU_RECOVERY_TEXT_MAX bytes). TIDU_EPASS for a passphrase shorter than
 * TIDU_PASSPHRASE_MIN, TIDU_EEXISTS if a store is there already,
 * TIDU_EINVAL for a bad identity. On failure nothing is left behind.
 * `*out` belongs to the caller (tidu_store_free).
 */
int tidu_store_create(tidu_store **out, const char *home,
		      const tidu_store_identity *id, const char *pass,
		      size_t passlen, char *recovery, size_t recovery_size);

/*
 * Opens the store in `home` with the passphrase. TIDU_ENOTFOUND if there is
 * no store, TIDU_EPASS for a wrong passphrase (the files are not touched),
 * TIDU_ECORRUPT if the key header or the database is damaged.
 */
int tidu_store_open(tidu_store **out, const char *home, const char *pass,
		    size_t passlen);

/* As tidu_store_open(), with the recovery key instead of the passphrase. */
int tidu_store_open_recovery(tidu_store **out, const char *home,
			     const char *recovery);

/*
 * As tidu_store_open(), with the unlocked secret (from the key agent,
 * agent.h), checked against the key header first: TIDU_EPASS if it is not
 * this store's.
 */
int tidu_store_open_secret(tidu_store **out, const char *home,
			   const tidu_secret *secret);

/* Closes the store (checkpointing its WAL) and wipes its keys. NULL is ok. */
void tidu_store_free(tidu_store *s);

/*
 * Closes a store and deletes its files (tidu.db, its -wal and -shm): undoes
 * a creation that failed further on. NULL is ok.
 */
void tidu_store_discard(tidu_store *s);

/*
 * Replaces the passphrase key slot; the database is not re-encrypted.
 * TIDU_EPASS for a passphrase shorter than TIDU_PASSPHRASE_MIN.
 */
int tidu_store_set_passphrase(tidu_store *s, const char *pass, size_t passlen);

/*
 * Checks a store without trusting it: both key header copies, the
 * authentication tag of every page of the database and WAL, then SQLite's
 * integrity_check. TIDU_ECORRUPT with a message naming what is damaged.
 */
int tidu_store_check(const char *home, const char *pass, size_t passlen);

/* Borrowed accessors. */
sqlite3 *tidu_store_db(const tidu_store *s);
const char *tidu_store_path(const tidu_store *s);  /* path of tidu.db */
const char *tidu_store_device(const tidu_store *s);
const char *tidu_store_district(const tidu_store *s);
const char *tidu_store_officer(const tidu_store *s);
const char *tidu_store_role(const tidu_store *s);
int tidu_store_schema_version(const tidu_store *s);

/*
 * The progress of a long operation on the store (assessing a reserve list,
 * the pool's review...): `what` names it (translated text, never data),
 * `done` of `total` items (total 0: not known). tidu_store_progress_end
 * says it is over (the callback gets `what` NULL). The CLI draws it on a
 * terminal's stderr; core only reports.
 */
typedef void (*tidu_progress_fn)(void *ctx, const char *what, size_t done, size_t total);
void tidu_store_set_progress(tidu_store *s, tidu_progress_fn fn, void *ctx);
void tidu_store_progress(tidu_store *s, const char *what, size_t done, size_t total);
void tidu_store_progress_end(tidu_store *s);

/* Transactions: BEGIN IMMEDIATE, COMMIT, ROLLBACK. */
int tidu_store_begin(tidu_store *s);
int tidu_store_commit(tidu_store *s);
void tidu_store_rollback(tidu_store *s);

/*
 * A cached prepared statement for `sql` (reset and unbound, ready to bind).
 * NULL on error, with the error set. Borrowed: the store finalizes it, never
 * the caller. Asking again for the same `sql` resets it, so one `sql` is
 * stepped by one loop at a time.
 *
 * When it is finalized: never while it is being stepped (sqlite3_stmt_busy:
 * stepped, and neither done nor reset), so loops may step several cached
 * statements at once and call anything in between; the cache grows when that
 * many are busy. A statement that is not being stepped may be finalized once
 * 32 other statements have been asked for since it was (the least recently
 * used goes first), and at tidu_store_free(). So: bind and step it before
 * calling what may ask for many others, and ask again rather than keep it.
 */
sqlite3_stmt *tidu_store_stmt(tidu_store *s, const char *sql);

/*
 * Sets the error for a failed SQLite call `rc` while doing `what`, mapping
 * SQLite's codes to tidu's (corruption and failed page authentication become
 * TIDU_ECORRUPT). Returns the tidu code.
 */
int tidu_store_sqlerr(tidu_store *s, int rc, const char *what);

/*
 * Steps `st` (a cached statement, bound) once, then resets it and clears
 * its bindings: for statements without results. 0, or the error of
 * tidu_store_sqlerr naming `what`; TIDU_ERROR when `st` is NULL (the
 * error of tidu_store_stmt is set already).
 */
int tidu_store_exec(tidu_store *s, sqlite3_stmt *st, const char *what);

/* Reads / writes a row of the local meta table. get returns a new string. */
int tidu_store_meta_get(tidu_store *s, const char *key, char **out);
int tidu_store_meta_set(tidu_store *s, const char *key, const char *value);

/*
 * Hybrid logical clock: returns the next HLC of this store (48-bit ms << 16
 * | 16-bit counter), at least `at_least`. Call it inside a transaction: the
 * clock is persisted in meta by tidu_store_commit(), with the data that used
 * it. It never goes backwards, whatever the wall clock does.
 */
int tidu_store_hlc_next(tidu_store *s, int64_t at_least, int64_t *out);

/*
 * No HLC reaches this (2^62: the year 4199): change sets that claim more
 * are refused, so that clock arithmetic never overflows.
 */
#define TIDU_HLC_LIMIT ((int64_t)1 << 62)

/* How far ahead of our wall clock an incoming HLC may pull ours. */
#define TIDU_HLC_MAX_AHEAD_MS (10LL * 60 * 1000)

/*
 * Merges an incoming HLC into this store's clock (within the caller's
 * transaction). A clock more than TIDU_HLC_MAX_AHEAD_MS ahead of our wall
 * clock is not followed past that bound, and *ahead_ms says by how much it
 * was ahead (0 if it was not), for the caller to flag.
 */
int tidu_store_hlc_observe(tidu_store *s, int64_t hlc, int64_t *ahead_ms);

#endif
