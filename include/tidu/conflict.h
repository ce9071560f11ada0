#ifndef TIDU_CONFLICT_H
#define TIDU_CONFLICT_H
/*
 * Conflicts: values that lost a merge against a concurrent write of the same
 * field (neither writer had seen the other's value). The merge itself is
 * deterministic (the greater (HLC, device) wins); conflicts are kept so that
 * a person can review the losing value and decide. A decision is a new
 * change, which syncs like any other; any later write of the field made
 * after seeing the current value also settles its conflicts.
 */
#include <stdint.h>

#include "tidu/store.h"

typedef struct {
	int64_t id;
	char *entity, *key, *field;
	char *current;          /* the value the store holds now (NULL = empty) */
	int64_t current_hlc;
	char *current_device;
	char *lost;             /* the value that lost */
	int64_t lost_hlc;
	char *lost_device;
	int resolved;
} tidu_conflict;

/*
 * Lists conflicts (unresolved only unless `all`), oldest first. `*out` is an
 * array of `*n` entries owned by the caller (tidu_conflict_list_free).
 */
int tidu_conflict_list(tidu_store *s, int all, tidu_conflict **out, size_t *n);
void tidu_conflict_list_free(tidu_conflict *c, size_t n);

typedef enum {
	TIDU_RESOLVE_KEEP_MINE,   /* keep this store's side (see docs/merge.md) */
	TIDU_RESOLVE_TAKE_THEIRS, /* take the other side */
	TIDU_RESOLVE_VALUE        /* a new value */
} tidu_resolve_how;

/*
 * Resolves conflict `id` by writing the chosen value as a new change (even
 * when it equals the current one, so that every replica learns the
 * decision). "Mine" is the side written by this device if either was; else
 * the value this store holds now. TIDU_ENOTFOUND for an unknown or resolved
 * conflict, TIDU_EINVAL for a bad value.
 */
int tidu_conflict_resolve(tidu_store *s, int64_t id, tidu_resolve_how how,
			  const char *value);

#endif
