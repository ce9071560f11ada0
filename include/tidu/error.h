#ifndef TIDU_ERROR_H
#define TIDU_ERROR_H
/*
 * Errors. Every libtidu function that can fail returns an int: 0 on success,
 * one of the negative codes below on failure, after setting a one-line,
 * translated message with tidu_error_set() at the place of the failure.
 * SQLite, libsodium, zlib and libgit2 codes never leave src/core: they are
 * translated to these codes where the call is made.
 *
 * The CLI maps codes to exit statuses (docs/exit-codes.md):
 *   TIDU_EINVAL, TIDU_ENOTFOUND, TIDU_EEXISTS -> 2
 *   TIDU_EPASS                               -> 3
 *   TIDU_ECORRUPT                            -> 4
 *   anything else                            -> 1
 */

#define TIDU_OK 0
#define TIDU_ERROR -1     /* runtime failure: I/O, out of memory, ... */
#define TIDU_EINVAL -2    /* invalid input or usage */
#define TIDU_EPASS -3     /* wrong passphrase / no usable passphrase */
#define TIDU_ECORRUPT -4  /* store or file corrupted or tampered with */
#define TIDU_ENOTFOUND -5 /* the named thing does not exist */
#define TIDU_EEXISTS -6   /* the named thing exists already */

#if defined(__GNUC__)
#define TIDU_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define TIDU_WUR __attribute__((warn_unused_result))
#else
#define TIDU_PRINTF(a, b)
#define TIDU_WUR
#endif

/*
 * Records `code` and a message for the current thread, replacing any earlier
 * one. Returns `code`, so that `return tidu_error_set(...)` reads well.
 */
int tidu_error_set(int code, const char *fmt, ...) TIDU_PRINTF(2, 3);

/*
 * Puts the formatted text before the last error's message (the subject a
 * caller knows and the failing function did not). Returns its code.
 */
int tidu_error_prefix(const char *fmt, ...) TIDU_PRINTF(1, 2);

/* The message of the last error of this thread ("" if none). Borrowed. */
const char *tidu_error_message(void);

/* The code of the last error of this thread (TIDU_OK if none). */
int tidu_error_code(void);

/* Forgets the last error of this thread. */
void tidu_error_clear(void);

#endif
