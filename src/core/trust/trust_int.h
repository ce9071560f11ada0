#ifndef TIDU_CORE_TRUST_INT_H
#define TIDU_CORE_TRUST_INT_H
/*
 * What the files of src/core/trust/ share, and nothing outside it may use:
 *   sql.c      the trust code's SQL helpers, transactions, the `secret` table
 *   doc.c      signed documents, their fields, fingerprints, files
 *   keys.c     this store's own keys and identity (desks, city pin)
 *   device.c   the `device` table and new district read keys
 *   enroll.c   enrollment requests, admission, revocation
 *   keyring.c  the keyring document: export, import, digest, latest
 *   readkey.c  the district read keys change sets are sealed to and opened with
 * Every statement on `secret`, `device`, `district_key` and `keyring` is in
 * one of these files.
 */
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>
#include <sqlite3.h>

#include "tidu/buf.h"
#include "tidu/json.h"
#include "tidu/store.h"
#include "tidu/trust.h"

#define PK_LEN TIDU_TRUST_KEY_LEN /* every public key, X25519 secret keys */
#define SEALED_LEN (crypto_box_SEALBYTES + PK_LEN)
#define SIG_LEN crypto_sign_BYTES
#define FORMAT_VERSION 1 /* of every signed document */

/* ---- SQL (sql.c) -------------------------------------------------------- */

/*
 * Every statement of the trust code is prepared with trust_prep() and
 * released with trust_release() (trust_run() releases it too). They are
 * prepared and finalised rather than taken from the store's statement
 * cache: several are stepped at once (export), and the cache may evict a
 * statement that is still being stepped. Moving to the cache is a change of
 * these two functions only.
 */
int trust_prep(tidu_store *s, const char *sql, sqlite3_stmt **st);
void trust_release(sqlite3_stmt *st);

/* Steps a statement that returns no row, then releases it. */
int trust_run(tidu_store *s, sqlite3_stmt *st);
int trust_exec(tidu_store *s, const char *sql);

/* One integer from a query with one optional text parameter. */
int trust_scalar(tidu_store *s, const char *sql, const char *param, int64_t *out);

/*
 * Writes of a function are atomic: in a transaction of its own (*own = 1),
 * or in a savepoint of the caller's transaction. trust_tx_end() commits or
 * rolls back by `error` and returns the final code.
 */
int trust_tx_begin(tidu_store *s, int *own);
int trust_tx_end(tidu_store *s, int own, int error);

/* Copies a blob column of exactly `len` bytes; TIDU_ECORRUPT otherwise. */
int trust_column_bytes(sqlite3_stmt *st, int col, unsigned char *out, size_t len,
		       const char *what);

/* Reads secret `name` (exactly `len` bytes). *found = 0 if it is missing. */
int trust_secret_get(tidu_store *s, const char *name, unsigned char *out,
		     size_t len, int *found);
int trust_secret_put(tidu_store *s, const char *name, const void *value, size_t len);

/* ---- own keys and identity (keys.c) -------------------------------------- */

/* This store's own keys, wiped by trust_own_wipe(). */
typedef struct {
	unsigned char sign_sk[TIDU_TRUST_SIGN_SK_LEN];
	unsigned char sign_pk[PK_LEN];
	unsigned char box_sk[PK_LEN];
	unsigned char box_pk[PK_LEN];
} own_keys;

/* Loads this store's keys; TIDU_ENOTFOUND if it has none (k wiped on error). */
int trust_own_load(tidu_store *s, own_keys *k);
void trust_own_wipe(own_keys *k);

/* 1 if this is the city store (the root of trust). */
int trust_is_root(tidu_store *s);

/* 0 on the city store; otherwise TIDU_EINVAL "only the city store can <what>". */
int trust_require_city(tidu_store *s, const char *what);

/*
 * The fingerprint of the pinned city, "" if none; *pinned_key: city_pin
 * exists (then `pin` and `box` hold the city's keys).
 */
int trust_pinned_city(tidu_store *s, char fp[TIDU_TRUST_FP_SIZE],
		      unsigned char pin[PK_LEN], unsigned char box[PK_LEN],
		      int *pinned_key);

/* ---- the device table, new read keys (device.c) ---------------------------- */

int trust_insert_device(tidu_store *s, const tidu_trust_device *d);

/* Makes a new read key pair of `district`, `epoch` (this store holds sk). */
int trust_new_district_key(tidu_store *s, const char *district, int64_t epoch);

/* Makes the district's epoch-1 read key if it has none. */
int trust_district_key_ensure(tidu_store *s, const char *district);

/* Copies a fixed-size text, cut at `size - 1` bytes; NULL copies as "". */
void trust_copy_text(char *out, size_t size, const unsigned char *t);

/* ---- signed documents (doc.c) -------------------------------------------- */

/* "2026-11-27T09:07:00Z" of the clock (tidu_clock_now_ms), UTC. */
void trust_now_text(char out[32]);

/* Writes `bin` as a base64 JSON string. */
void trust_put_b64(tidu_json_writer *w, const unsigned char *bin, size_t len);

/* Signs the compact `payload` and appends the whole document to `out`. */
int trust_doc_wrap(const char *domain, const tidu_buf *payload,
		   const unsigned char sk[TIDU_TRUST_SIGN_SK_LEN], tidu_buf *out);

/* An opened (not yet verified) signed document. */
typedef struct {
	tidu_json *tree;
	const tidu_json *payload;
	tidu_buf canon; /* the payload's signed bytes */
	unsigned char sig[SIG_LEN];
} signed_doc;

/*
 * Parses the envelope of a `what` document (named in errors) and checks its
 * format name and version; nothing is verified yet (trust_doc_verify).
 */
int trust_doc_open(const char *what, const char *format, const char *text,
		   size_t len, signed_doc *d);

/* 1 if the signature of `d` verifies under `pk` for `domain`. */
int trust_doc_verify(const char *domain, const signed_doc *d,
		     const unsigned char pk[PK_LEN]);
void trust_signed_doc_free(signed_doc *d);

/* TIDU_EINVAL "invalid <what>: <detail>". */
int trust_malformed(const char *what, const char *detail);

/* Typed members of a payload; errors name the document and the field. */
int trust_get_int(const tidu_json *o, const char *key, const char *what,
		  int64_t *out);
int trust_get_bytes(const tidu_json *o, const char *key, const char *what,
		    unsigned char *out, size_t len);
/* Copies a string field into a fixed buffer; too long is malformed. */
int trust_get_text(const tidu_json *o, const char *key, const char *what,
		   char *out, size_t size);

/* Checks device id, district, role, officer of a device entry. */
int trust_check_identity(const char *what, const char *device, const char *district,
			 const char *role, const char *officer);

#endif
