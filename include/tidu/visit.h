#ifndef TIDU_VISIT_H
#define TIDU_VISIT_H
/* Visits to firms: records keyed by a UUIDv7 made on this device. */
#include "tidu/firm.h"
#include "tidu/store.h"
#include "tidu/uuid.h"

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

#endif
