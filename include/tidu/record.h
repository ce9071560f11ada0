#ifndef TIDU_RECORD_H
#define TIDU_RECORD_H
/*
 * The one write path of the store. An edit is a set of field values for one
 * entity instance (a firm, a firm-year, a visit); applying it updates the
 * entity's row, its per-field clocks and appends one row to the change log,
 * all inside the caller's transaction. Every local write goes through here,
 * so nothing reaches the store without its change record (docs/design.md).
 */
#include <stdint.h>

#include "tidu/dict.h"
#include "tidu/store.h"

typedef struct tidu_edit tidu_edit;

/*
 * Entities: TIDU_ENTITY_* (dict.h). A key is the text form used in the
 * change log.
 */

/* A new, empty edit of `entity` `key`. Owned by the caller (tidu_record_edit_free). */
tidu_edit *tidu_record_edit_new(const char *entity, const char *key);
void tidu_record_edit_free(tidu_edit *e);

/*
 * Adds field `field` = `value` (NULL or "" clears the field) after
 * validating it against the dictionary and putting it in canonical form.
 * TIDU_EINVAL naming field and value; the edit is unchanged then. A later
 * value for the same field replaces the earlier one.
 */
int tidu_record_edit_set(tidu_edit *e, const char *field, const char *value);

/*
 * On the city: records the edit as the desk of `district` (so it is sealed
 * for that district) whatever district the firm has; NULL: the firm's
 * (the default). Used when a firm moves: its old district hears of the move.
 */
void tidu_record_edit_as(tidu_edit *e, const char *district);

/*
 * Records every field of the edit even where the value is unchanged: a
 * conflict settled in favour of the stored value, a moved firm's whole
 * state for its new district, a record under a key just made (a new
 * response: nothing can be stored under it, so nothing is looked up).
 */
void tidu_record_edit_keep_all(tidu_edit *e);

/* The change-log key of the edited entity. Borrowed. */
const char *tidu_record_edit_key(const tidu_edit *e);

/*
 * Adds `field` = `value` without validation: for values that come canonical
 * from a signed change set. The field must exist (or be "_deleted", the
 * tombstone); TIDU_EINVAL otherwise ("made by a newer tidu?").
 */
int tidu_record_edit_put(tidu_edit *e, const char *field, const char *value);

/* Number of fields in the edit. */
size_t tidu_record_edit_count(const tidu_edit *e);

/* The canonical value set for `field` in this edit, NULL if not set. */
const char *tidu_record_edit_get(const tidu_edit *e, const char *field, int *is_set);

/*
 * Applies the edit inside the caller's open transaction: creates the row if
 * missing, writes the fields, advances their clocks and logs the change with
 * a new HLC. Fields whose value is already the stored one are left out (a
 * write that changes nothing records nothing: no change, no clock, nothing
 * pending), unless tidu_record_edit_keep_all(). An edit with no fields left
 * does nothing.
 */
int tidu_record_edit_apply(tidu_store *s, const tidu_edit *e);

/* One field of an incoming change. */
typedef struct {
	const char *field;
	const char *value; /* canonical text, NULL = cleared */
	const char *base;  /* "hlc:device" of the value it replaced, "" if none */
} tidu_merge_field;

/*
 * Merges one change written by `device` at `hlc` into the row of `entity`
 * `key`, inside the caller's transaction. Per field the greater (hlc,
 * device) wins; applying the same change twice changes nothing; the order of
 * changes does not matter. A value that loses to (or beats) a concurrent
 * write of the same field — neither had seen the other — with a different
 * value is kept in the conflicts table, and counted in *conflicts.
 */
int tidu_record_merge(tidu_store *s, const char *entity, const char *key,
		      int64_t hlc, const char *device, const tidu_merge_field *f,
		      size_t n, size_t *conflicts);

/*
 * Whether a row of `entity` `key` exists: TIDU_RECORD_LIVE, TIDU_RECORD_DELETED
 * (a tombstone), 0 (never stored) or a negative error.
 */
#define TIDU_RECORD_LIVE 1
#define TIDU_RECORD_DELETED 2
int tidu_record_exists(tidu_store *s, const char *entity, const char *key);

/*
 * Deletes a live record in a transaction of its own: writes its tombstone
 * (`_deleted` = 1), which merges like any change. TIDU_ENOTFOUND if there
 * is no live record.
 */
int tidu_record_delete(tidu_store *s, const char *entity, const char *key);

/*
 * The stored value of `field` of a record (*value NULL when the record or
 * the value is absent) and the clock of that value: its HLC and writer
 * (0 and "" when the field was never written). *value and *device are the
 * caller's. A failed read is an error, never "no value".
 */
int tidu_record_field(tidu_store *s, const char *entity, const char *key,
		      const char *field, char **value, int64_t *hlc, char **device);

/*
 * The number of change-log rows (table `change`, which record appends to
 * with every write) not yet sealed into a change set.
 */
int tidu_record_pending(tidu_store *s, int64_t *out);

/*
 * The logged changes of one record, oldest first (by HLC): local writes and
 * merged ones alike. `fields` is the change's JSON as logged:
 * [[FIELD, VALUE or null, BASE], ...]. fn returns 0 to go on, < 0 to stop
 * with that error. A full scan of the change log (no index: every write
 * would pay for one); meant for one firm's history, not for loops.
 */
typedef int (*tidu_record_history_fn)(void *ctx, int64_t hlc, int64_t wall_ms,
				      const char *device, const char *fields);
int tidu_record_history(tidu_store *s, const char *entity, const char *key,
			tidu_record_history_fn fn, void *ctx);

/*
 * Every logged change of `entity` (any key), oldest first (by HLC), with
 * its key: one pass over the change log for a look-back over many records
 * (pool review). fn returns 0 to go on, < 0 to stop with that error.
 */
typedef int (*tidu_record_log_fn)(void *ctx, const char *key, int64_t hlc, int64_t wall_ms,
				  const char *fields);
int tidu_record_log_each(tidu_store *s, const char *entity, tidu_record_log_fn fn, void *ctx);

/*
 * Keeps `value` of `field` of `entity` `key`, written by `device` at `hlc`
 * but not merged (a change set aside: docs/sync.md, "Whose firm it is"), as
 * an unresolved conflict against the stored value, so that it can be
 * reviewed and taken over (conflict.h). Kept once.
 */
int tidu_record_set_aside(tidu_store *s, const char *entity, const char *key,
			  const char *field, const char *value, int64_t hlc,
			  const char *device);

#endif
