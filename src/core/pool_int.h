#ifndef TIDU_POOL_INT_H
#define TIDU_POOL_INT_H
/*
 * What the pool's files (pool.c, pool_review.c, pool_html.c,
 * pool_export.c) share. Internal to src/core.
 */
#include "tidu/assess.h"
#include "tidu/pool.h"

/* A status in the order of readiness: pass, undecided, incomplete, fail. */
int pool_status_rank(tidu_assess_status st);

/* Frees what an entry holds and zeroes it. */
void pool_entry_clear(tidu_pool_entry *e);

/* A copy of `s`, or NULL when it is NULL or empty. */
char *pool_dup(const char *s);
/*
 * tidu_pool_targets with the three lists already assessed (lists[k]: the
 * tier k + 1 list of every district, as tidu_pool_list gives it).
 */
int pool_targets_lists(tidu_store *s, int year, tidu_pool_entry *const lists[3],
		       const size_t n[3], tidu_pool_tier_progress out[3]);
/*
 * Every list of `f` (its tier is not read) in one pass over the firms:
 * lists[k] is the tier k + 1 list, each most ready first. Without
 * `visits`, the entries' last_visit and follow_up_due stay NULL.
 */
int pool_lists(tidu_store *s, const tidu_pool_filter *f, int visits, tidu_pool_entry *lists[3],
	       size_t n[3]);
#endif
