#ifndef TIDU_CHANGES_H
#define TIDU_CHANGES_H
/*
 * Change sets in the store: sealing this device's pending changes into one
 * signed, encrypted file (changeset.h), applying the files of other devices
 * with the merge rule (record.h), holding files that arrive before an
 * earlier one of their device, and rejecting what the keyring (trust.h)
 * does not vouch for. Every file is kept as received, never modified.
 */
#include <stddef.h>
#include <stdint.h>

#include "tidu/buf.h"
#include "tidu/changeset.h"
#include "tidu/store.h"

/* ---- counts for status and admin ---- */

/* The highest sequence number applied here from `device` (0 if none). */
int tidu_changes_last_applied(tidu_store *s, const char *device, int64_t *out);

/* Bodies are cut at about this size: a huge import goes out in parts. */
/* A quarter of the file limit: one more change (its values each within
 * TIDU_CHANGESET_MAX_STRING) still fits in TIDU_CHANGESET_MAX_FILE. */
#define TIDU_SEAL_MAX_BODY (TIDU_CHANGESET_MAX_FILE / 4)

/* One change larger than this cannot go out (body cut + it < the file cap). */
#define TIDU_SEAL_MAX_CHANGE (TIDU_CHANGESET_MAX_FILE / 2)

/*
 * Seals pending changes, oldest first, into this device's next change set,
 * up to about TIDU_SEAL_MAX_BODY bytes of body: call again until
 * *count_out is 0 to seal them all. On the city, the changes of one desk
 * at a time (the device of the oldest pending change) go into that desk's
 * next change set, sealed for its district. *seq_out is its sequence number and
 * *count_out its number of changes, both 0 when nothing was pending.
 * TIDU_ENOTFOUND if the device is not enrolled (no keyring): the changes
 * stay pending.
 */
int tidu_changes_seal(tidu_store *s, uint64_t *seq_out, size_t *count_out);
/*
 * (A change that cannot be sealed — a value over a limit, a damaged
 * change-log row, a change over TIDU_SEAL_MAX_CHANGE — never blocks the
 * outbox: the seal sets it aside with the reason and seals the rest.)
 */

/* ---- the outbox: what waits to be sealed ---- */

typedef struct {
	int64_t id;      /* the change-log row */
	char *entity;    /* firm, firm_year, visit, ... */
	char *key;       /* the record's key, as stored */
	char *device;    /* who wrote it */
	int64_t wall;    /* when (ms since 1970, the writer's clock) */
	size_t fields;   /* how many fields it changes */
	char *reason;    /* set aside: why it cannot go out; NULL when pending */
	int64_t aside_at; /* set aside: when (ms) */
} tidu_outbox_item;

typedef struct {
	int64_t pending;         /* waiting to be sealed */
	int64_t aside;           /* set aside */
	int64_t by_entity[TIDU_CHANGESET_LAST + 1]; /* pending, by entity code (changeset.h) */
} tidu_outbox_counts;

/* How many changes wait and how many are set aside. */
int tidu_changes_outbox_counts(tidu_store *s, tidu_outbox_counts *out);

/*
 * The changes set aside, oldest first, and with `pending` also the ones
 * waiting to be sealed (at most `limit` of those; 0: all).
 */
int tidu_changes_outbox(tidu_store *s, int pending, size_t limit,
			tidu_outbox_item **out, size_t *n);
void tidu_changes_outbox_free(tidu_outbox_item *items, size_t n);

/*
 * Puts the changes set aside back in the outbox (the next seal tries them
 * again, e.g. after the limit that refused them was raised). *n_out: how many.
 */
int tidu_changes_retry(tidu_store *s, size_t *n_out);

/* As tidu_changes_seal(); also the district the change set is for ("" if none). */
int tidu_changes_seal_for(tidu_store *s, uint64_t *seq_out, size_t *count_out,
			  char district_out[16]);

/*
 * 1 if `device` writing for `district` is this store itself: its own
 * device, or on the city its desk for that district (trust.h). With
 * `district` NULL, the district of the device's keyring entry.
 */
int tidu_changes_is_own(tidu_store *s, const char *device, const char *district);

typedef enum {
	TIDU_APPLY_APPLIED,   /* merged now */
	TIDU_APPLY_DUPLICATE, /* held or applied already: nothing to do */
	TIDU_APPLY_HELD,      /* an earlier file of its device is missing */
	TIDU_APPLY_SKIPPED,   /* not readable by this store (not for us) */
	TIDU_APPLY_REJECTED   /* forged, tampered, replayed, revoked, ... */
} tidu_apply_outcome;

typedef struct {
	tidu_apply_outcome outcome;
	char device[TIDU_CHANGESET_DEVICE_LEN + 1];
	char district[TIDU_CHANGESET_MAX_DISTRICT + 1];
	uint64_t seq;
	size_t changes;     /* changes merged (with any unblocked held files) */
	size_t conflicts;   /* conflicts recorded */
	size_t unblocked;   /* held files of the device applied after this one */
	int stuck;          /* the next held file of the device was refused when its
			       turn came (a fork, a change the merge refuses): the
			       device waits; `reason` says why */
	int64_t ahead_ms;   /* its clock was this far ahead of ours (0: fine) */
	char reason[320];   /* for held, skipped and rejected: why */
} tidu_apply_report;

/*
 * Applies the change-set file `file` (`name` is used in messages). The
 * outcome and its reason are in *rep; the return value is 0 for every
 * outcome, or a negative error when the store itself failed (then nothing
 * of this file was applied). Idempotent; the order of files does not matter.
 */
int tidu_changes_apply(tidu_store *s, const unsigned char *file, size_t len,
		       const char *name, tidu_apply_report *rep);

/* What tidu_changes_export() did. */
typedef struct {
	size_t written;  /* files that were not there */
	size_t skipped;  /* there already, byte for byte */
	size_t repaired; /* there but damaged or different: rewritten */
	size_t cleaned;  /* leftover temporary files of a killed export, removed */
} tidu_export_report;

/*
 * Writes every change set this store holds to DIR/<district>/<device>/
 * <seq>.tcs. A file there already is kept only if its bytes are the ones
 * to write; any other file of that name is replaced. Files are written
 * whole (temporary file and rename); leftover `*.tcs.tmp-*` files of a
 * killed export are removed from the device folders.
 */
int tidu_changes_export(tidu_store *s, const char *dir, tidu_export_report *rep);

/* One held change set, for `tidu changes log`. */
typedef struct {
	char device[TIDU_CHANGESET_DEVICE_LEN + 1];
	char district[TIDU_CHANGESET_MAX_DISTRICT + 1];
	uint64_t seq;
	uint64_t hlc_min, hlc_max;
	uint32_t count;
	char state[16];      /* "sealed" (own), "applied", "held" */
	int64_t received;    /* ms */
	char hash[17];       /* first 8 bytes of the file hash, hex */
	size_t bytes;
} tidu_changes_entry;

/* Every change set held, by device then sequence. `*out` is the caller's. */
int tidu_changes_list(tidu_store *s, tidu_changes_entry **out, size_t *n);

/* ---- change sets as sync reads them ---- */

/*
 * Calls `fn` for every change set of `device` above sequence `after`, in
 * sequence order, whatever its state, with the file as held (borrowed for
 * the call). Stops at the first `fn` returning non-zero and returns that.
 */
int tidu_changes_each_file(tidu_store *s, const char *device, uint64_t after,
			   int (*fn)(void *ctx, uint64_t seq, const unsigned char *file,
				     size_t len),
			   void *ctx);

/*
 * The file of change set `seq` of `device` into `out` (cleared first).
 * `with_held`: 0 leaves out a file held for an earlier one. 1 if there is
 * none.
 */
int tidu_changes_file(tidu_store *s, const char *device, uint64_t seq, int with_held,
		      tidu_buf *out);

/* 1 if `device` has sealed change sets here (0: none). */
int tidu_changes_has_sealed(tidu_store *s, const char *device);

/*
 * The highest sequence of `device` held here, not waiting (0: none), and
 * when the last of its change sets was received (ms, 0: never; `received`
 * may be NULL).
 */
int tidu_changes_last(tidu_store *s, const char *device, uint64_t *seq,
		      int64_t *received);

#endif
