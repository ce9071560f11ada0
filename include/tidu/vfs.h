#ifndef TIDU_VFS_H
#define TIDU_VFS_H
/*
 * The "tidu" SQLite VFS: encrypts every database page, every page inside a
 * WAL frame and every page image in a rollback journal with
 * XChaCha20-Poly1305 (libsodium), layered over SQLite's "unix" VFS.
 *
 * - The database file is [key header, TIDU_HEADER_SIZE bytes, keyfile.h]
 *   followed by the pages; SQLite never sees the header.
 * - Pages are TIDU_PAGE_SIZE bytes with TIDU_PAGE_RESERVE reserved bytes at
 *   their end that hold the nonce and tag. The first page-1 write of a store
 *   is refused unless tidu_vfs_configure_new() set this up.
 * - The associated data binds the store's file id and the page number, so a
 *   page cannot be moved to another place or another store undetected.
 * - A page that fails authentication is never handed to SQLite: the read
 *   fails with SQLITE_IOERR_DATA and tidu_vfs_tamper_count() goes up.
 * - Temporary files (temp databases, statement journals, sorter spills) are
 *   refused with SQLITE_CANTOPEN: use PRAGMA temp_store=MEMORY.
 * - No memory mapping (no xFetch), no atomic-write claims.
 * Design and limits: docs/security.md.
 *
 * Intended use:
 *   tidu_vfs_register();
 *   tidu_vfs_attach_key(path, secret.key, secret.file_id);
 *   sqlite3_open_v2(path, &db, flags, TIDU_VFS_NAME);
 *   tidu_vfs_configure_new(db);            (new stores only, before writing)
 *   PRAGMA journal_mode=WAL; synchronous=FULL; temp_store=MEMORY;
 *   PRAGMA secure_delete=ON; mmap_size=0;
 *   ...
 *   sqlite3_close(db); tidu_vfs_detach_key(path);
 * The key may be detached as soon as sqlite3_open_v2() returns: open files
 * (the WAL and journal included) keep their own copy, wiped on close.
 */
#include <stddef.h>
#include <sqlite3.h>

#include "tidu/error.h"

#define TIDU_VFS_NAME "tidu"
#define TIDU_PAGE_SIZE 4096
#define TIDU_PAGE_RESERVE 40 /* 24-byte nonce + 16-byte tag */

/* Size of the key header (keyfile.h) at the start of the database file. */
#define TIDU_HEADER_SIZE 4096

#define TIDU_KEY_BYTES 32     /* data key */
#define TIDU_FILE_ID_BYTES 16 /* random per store, bound into every page */

/*
 * Registers the "tidu" VFS with SQLite (not as the default VFS) on top of
 * the "unix" VFS. Idempotent and thread-safe.
 * Errors: TIDU_ERROR if libsodium or SQLite cannot be initialized.
 */
int tidu_vfs_register(void) TIDU_WUR;

/*
 * Tells the VFS the data key and file id of the database at `dbpath`
 * (the same path later given to sqlite3_open_v2; it is resolved the way
 * SQLite resolves it). The key is copied into locked memory; attaching a
 * path again replaces its key. Opening a database through the VFS with no
 * key attached fails with SQLITE_CANTOPEN.
 * Errors: TIDU_EINVAL (NULL arguments, path too long), TIDU_ERROR (VFS not
 * registered, or too many stores attached at once).
 */
int tidu_vfs_attach_key(const char *dbpath,
			const unsigned char key[TIDU_KEY_BYTES],
			const unsigned char file_id[TIDU_FILE_ID_BYTES]) TIDU_WUR;

/* Forgets and wipes the key of `dbpath`. Unknown paths and NULL are ok. */
void tidu_vfs_detach_key(const char *dbpath);

/*
 * Sets page size TIDU_PAGE_SIZE and TIDU_PAGE_RESERVE reserved bytes on an
 * empty database opened through the VFS, before anything is written.
 * Errors: TIDU_EINVAL if `db` is not opened through the "tidu" VFS or the
 * database is not empty; TIDU_ERROR if SQLite refuses.
 */
int tidu_vfs_configure_new(sqlite3 *db) TIDU_WUR;

/*
 * Authenticates every page of the database file `dbpath` and every frame of
 * "<dbpath>-wal" that belongs to the current WAL (its salts match the WAL
 * header), with plain POSIX reads (not SQLite). Pages beyond the end of the
 * file are not judged; a file whose size is not the header plus whole pages
 * is corrupt. `bad_page_out` (may be NULL) receives the number of the first
 * bad page, 0 if none. Limits (docs/security.md): a torn frame at the end of
 * the WAL left by a crash is reported as corrupt until SQLite has recovered
 * and rewritten the WAL; an old but authentic version of a page is not
 * detected; a hot rollback journal is not checked.
 * Errors: TIDU_ECORRUPT naming the page (or WAL frame), TIDU_ENOTFOUND,
 * TIDU_EINVAL, TIDU_ERROR (I/O).
 */
int tidu_vfs_verify_file(const char *dbpath,
			 const unsigned char key[TIDU_KEY_BYTES],
			 const unsigned char file_id[TIDU_FILE_ID_BYTES],
			 unsigned *bad_page_out) TIDU_WUR;

/*
 * Pages refused by this process since it started because they failed
 * authentication (tampering, corruption or a wrong key), and the page number
 * of the latest one (0 if none). Thread-safe.
 */
unsigned long tidu_vfs_tamper_count(void);
unsigned tidu_vfs_last_bad_page(void);

/*
 * WAL frames that failed authentication while SQLite recovered a WAL (read
 * whole frames). They are handed back zeroed, so SQLite's checksum ends the
 * log there: a torn frame left by a crash is expected, but a nonzero count
 * after a clean shutdown means the WAL was damaged and committed
 * transactions after that frame were dropped. Thread-safe.
 */
unsigned long tidu_vfs_wal_dropped_count(void);

/*
 * Raw access to a store's database file (used by keyfile.c for the key
 * header and by tidu_vfs_verify_file). If this process has the file open
 * through the VFS, the I/O goes through SQLite's own descriptor: opening and
 * closing a second descriptor on the file would silently release the POSIX
 * locks SQLite holds on it. Otherwise the file is opened and closed here.
 *
 * tidu_vfs_raw_read reads up to `len` bytes at `off` into `buf`; `*got`
 * receives the number read (fewer at the end of the file).
 * tidu_vfs_raw_write writes `len` bytes at `off` (the file must exist) and
 * fsyncs the file before returning.
 * Errors: TIDU_ENOTFOUND (no such file), TIDU_ERROR (I/O).
 */
int tidu_vfs_raw_read(const char *path, void *buf, size_t len,
		      sqlite3_int64 off, size_t *got) TIDU_WUR;
int tidu_vfs_raw_write(const char *path, const void *buf, size_t len,
		       sqlite3_int64 off) TIDU_WUR;

#endif
