#ifndef TIDU_KEYFILE_H
#define TIDU_KEYFILE_H
/*
 * The key header: the first TIDU_HEADER_SIZE bytes of the store's database
 * file, in the clear, before the encrypted SQLite pages (the "tidu" VFS,
 * vfs.h, hides them from SQLite). It holds two copies of a key block; each
 * names the store (a random file id) and wraps the store's random 256-bit
 * data key in key slots: one opened by the passphrase (Argon2id), one by the
 * recovery key shown once at creation. Changing the passphrase rewrites the
 * copies one after the other, never the database. Byte layout and design:
 * docs/security.md.
 *
 * Rules for every function here:
 * - Secrets handed out (tidu_secret, recovery text) belong to the caller,
 *   who wipes them (tidu_secret_wipe, sodium_memzero) when done.
 * - A file that this process has open through SQLite is accessed through
 *   the VFS's own descriptor (see tidu_vfs_raw_read), never a second one:
 *   closing a second descriptor would drop SQLite's POSIX locks.
 * - Messages are set with tidu_error_set() on every failure.
 */
#include <stddef.h>

#include "tidu/error.h"
#include "tidu/vfs.h"

/* TIDU_HEADER_SIZE, TIDU_KEY_BYTES, TIDU_FILE_ID_BYTES: vfs.h (the layer below). */

/*
 * Size of a buffer that holds a recovery key as text, with its NUL: 56
 * Crockford base32 symbols in 14 dash-separated groups of 4, e.g.
 * "7K3M-Q0ZD-....". It is read back case-insensitively, with or without the
 * dashes or spaces; O is read as 0 and I, L as 1.
 */
#define TIDU_RECOVERY_TEXT_MAX 70

/* An unlocked store: its data key and file id. Wipe with tidu_secret_wipe. */
typedef struct {
	unsigned char key[TIDU_KEY_BYTES];
	unsigned char file_id[TIDU_FILE_ID_BYTES];
} tidu_secret;

/*
 * Creates the database file `dbpath` holding only a new key header: a new
 * random data key, file id and recovery key; the key slots for the
 * passphrase (pass, passlen bytes, not NUL-terminated necessarily; must not
 * be empty) and the recovery key. The file is created exclusively (O_EXCL,
 * mode 0600); file and directory are fsynced. Writes the secret to `*out`
 * and the recovery key text to `recovery_text` (recovery_size must be at
 * least TIDU_RECOVERY_TEXT_MAX); both belong to the caller.
 * Errors: TIDU_EEXISTS if the file exists, TIDU_EINVAL for bad arguments,
 * TIDU_ERROR for I/O (no partial file is left behind).
 */
int tidu_keyfile_create(const char *dbpath, const char *pass, size_t passlen,
			tidu_secret *out, char *recovery_text,
			size_t recovery_size) TIDU_WUR;

/*
 * Unlocks the store with its passphrase: writes the data key and file id to
 * `*out` (the caller's, to wipe). Uses the valid copy with the highest
 * generation (a torn or damaged copy is ignored). Opens the file read-only
 * and never writes it.
 * Errors: TIDU_ENOTFOUND if there is no file, TIDU_EPASS for a wrong
 * passphrase, TIDU_ECORRUPT if no copy of the header is valid, TIDU_EINVAL
 * for bad arguments, TIDU_ERROR for I/O. `*out` is zeroed on failure.
 */
int tidu_keyfile_unlock(const char *dbpath, const char *pass, size_t passlen,
			tidu_secret *out) TIDU_WUR;

/*
 * As tidu_keyfile_unlock(), with the recovery key text instead of the
 * passphrase. Errors: TIDU_EINVAL if the text is not a well-formed recovery
 * key (wrong length, a character outside the alphabet, or a typo caught by
 * its check symbols), TIDU_EPASS if it is well-formed but does not open this
 * store; otherwise as tidu_keyfile_unlock().
 */
int tidu_keyfile_unlock_recovery(const char *dbpath, const char *recovery_text,
				 tidu_secret *out) TIDU_WUR;

/*
 * Checks that `s` (from the key agent, agent.h) is the data key and file id
 * of the store `dbpath`, against the newest valid copy of its header. No
 * key derivation: cheap. TIDU_EPASS if it is not, TIDU_ECORRUPT if no copy
 * is valid, TIDU_ENOTFOUND, TIDU_ERROR (I/O).
 */
int tidu_keyfile_check_secret(const char *dbpath, const tidu_secret *s) TIDU_WUR;

/*
 * Replaces the passphrase slot, keeping the data key and the recovery slot.
 * `s` is the store's unlocked secret; it must match the header (else
 * TIDU_EINVAL). Crash-safe: the older (or damaged) copy is rewritten first
 * with generation+1 and fsynced, then the other copy; a kill at any point
 * leaves a file that unlocks with the old or the new passphrase. Safe to
 * call while this process has the store open through the "tidu" VFS.
 * Not safe against a concurrent change of the same file by another process.
 * Errors: TIDU_EINVAL (empty passphrase, secret of another store),
 * TIDU_ENOTFOUND, TIDU_ECORRUPT (no valid copy), TIDU_ERROR (I/O).
 */
int tidu_keyfile_set_passphrase(const char *dbpath, const tidu_secret *s,
				const char *pass, size_t passlen) TIDU_WUR;

/*
 * Checks the header without a secret: both copies must be valid and
 * identical. Errors: TIDU_ECORRUPT with a message naming the copy that is
 * damaged or stale (e.g. after an interrupted passphrase change: running
 * tidu_keyfile_set_passphrase again repairs it), TIDU_ENOTFOUND, TIDU_ERROR.
 */
int tidu_keyfile_check(const char *dbpath) TIDU_WUR;

/* Wipes `*s` (sodium_memzero). NULL is ok. */
void tidu_secret_wipe(tidu_secret *s);

#endif
