#ifndef TIDU_HOME_H
#define TIDU_HOME_H
/*
 * A tidu home: the encrypted store (store.h) plus this device's identity
 * (its keys, trust.h), ready to use. Commands open their store here; the
 * store.h functions of the same names are the level below, which knows
 * nothing of keys. Every function here makes this device's keys if the
 * store has none yet (tidu_trust_ensure_keys), and fails rather than hand
 * out a store whose keys are damaged.
 *
 * `*out` belongs to the caller (tidu_store_free); it is NULL on failure.
 * Errors are those of the store.h function of the same name, and those of
 * tidu_trust_ensure_keys (TIDU_ECORRUPT for a half key set).
 */
#include <stddef.h>

#include "tidu/keyfile.h"
#include "tidu/store.h"

/*
 * Creates a new home, all or nothing: the store (tidu_store_create, which
 * checks the passphrase against TIDU_PASSPHRASE_MIN and the identity;
 * the officer's name first by tidu_trust_officer_check), this
 * device's keys, then, if not NULL, the city's key pinned by its parsed
 * fingerprint `city_fp` (tidu_trust_fingerprint_parse) and the remote
 * "origin" at `remote`. If any step fails the store and its files
 * (tidu.db, -wal, -shm) are removed, and the error is that step's.
 * `recovery` is as for tidu_store_create().
 */
int tidu_home_create(tidu_store **out, const char *home,
		     const tidu_store_identity *id, const char *pass,
		     size_t passlen, const char *city_fp, const char *remote,
		     char *recovery, size_t recovery_size);

/* tidu_store_open(), then this device's keys. */
int tidu_home_open(tidu_store **out, const char *home, const char *pass,
		   size_t passlen);

/* tidu_store_open_recovery(), then this device's keys. */
int tidu_home_open_recovery(tidu_store **out, const char *home,
			    const char *recovery);

/* tidu_store_open_secret(), then this device's keys. */
int tidu_home_open_secret(tidu_store **out, const char *home,
			  const tidu_secret *secret);

/*
 * tidu_store_check(), and this device's keys checked (made if missing) in
 * the store it opened.
 */
int tidu_home_check(const char *home, const char *pass, size_t passlen);

#endif
