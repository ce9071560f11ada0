#ifndef TIDU_POOL_INT_H
#define TIDU_POOL_INT_H
/*
 * What the pool's files (pool.c, pool_review.c, pool_html.c,
 * pool_export.c) share. Internal to src/core.
 */
#include "tidu/assess.h"

/* A status in the order of readiness: pass, undecided, incomplete, fail. */
int pool_status_rank(tidu_assess_status st);

/* A copy of `s`, or NULL when it is NULL or empty. */
char *pool_dup(const char *s);
#endif
