#ifndef TIDU_VISIT_H
#define TIDU_VISIT_H
/* Visits to firms: records keyed by a UUIDv7 made on this device. */
#include "tidu/firm.h"
#include "tidu/store.h"
#include "tidu/uuid.h"
#include "tidu/view.h"

/*
 * Records a visit to the stored firm `uscc` with fields `kv` (dictionary
 * keys of "visit"). Defaults: date today, officer the store's officer,
 * kind "follow_up" if the firm was visited before, else "first".
 * TIDU_ENOTFOUND if the firm is not stored. Writes the new id to `id_out`.
 */
int tidu_visit_add(tidu_store *s, const char *uscc, const tidu_kv *kv, size_t n,
		   char id_out[TIDU_UUID_LEN + 1]);

/* Deletes a visit (a tombstone that syncs). TIDU_ENOTFOUND if not stored. */
int tidu_visit_delete(tidu_store *s, const char *id);

/* Called with each visit listed: its id and record (borrowed). Negative: stop. */
typedef int (*tidu_visit_fn)(void *ctx, const char *id, const tidu_rec *visit);

/*
 * Calls `fn` for every live visit, of the firm `uscc` only if not NULL,
 * newest day first and, within a day, newest id (UUIDv7) first. Returns 0,
 * fn's negative return, or an error.
 */
int tidu_visit_list(tidu_store *s, const char *uscc, tidu_visit_fn fn, void *ctx);

/* The number of live visits. */
int tidu_visit_count(tidu_store *s, int64_t *out);

/*
 * The live visits per district (their firm's; "" for a firm without one or
 * not stored), ordered by district code; *out is the caller's (free()).
 */
int tidu_visit_count_by_district(tidu_store *s, tidu_district_count **out, size_t *n);

#endif
