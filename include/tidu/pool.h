#ifndef TIDU_POOL_H
#define TIDU_POOL_H
/*
 * The reserve pool (docs/pool.md): the three tiers' reserve lists (后备清单)
 * and the year's targets. A firm's place on a list is firm fields
 * (reserve_tier, officer, reserve_since, reserve_reason, reserve_left,
 * reserve_left_reason), written through the firm's own path, so that they
 * are logged, synced and merged like any field. The targets are the
 * city's, published signed on refs/heads/city/targets.
 */
#include <stddef.h>
#include <stdint.h>

#include "tidu/assess.h"
#include "tidu/buf.h"
#include "tidu/store.h"
#include "tidu/trust.h"
#include "tidu/uscc.h"

#define TIDU_TARGETS_DOMAIN "tidu-targets-v1"
#define TIDU_TARGETS_FORMAT "tidu-targets"

/*
 * Puts firm `uscc` on the tier `tier` (1..3) reserve list, since today,
 * with `reason` (may be NULL) and, when given, `officer` as its assigned
 * officer (指定专人). A firm on another list moves (*was_tier says which, 0
 * for none). TIDU_EINVAL when it is on that list already, TIDU_ENOTFOUND
 * when it is not stored; nothing is written then.
 */
int tidu_pool_add(tidu_store *s, const char *uscc, int tier, const char *officer,
		  const char *reason, int *was_tier);

/*
 * Takes firm `uscc` off its reserve list today, with `reason` (required).
 * TIDU_EINVAL when it is on no list.
 */
int tidu_pool_remove(tidu_store *s, const char *uscc, const char *reason, int *was_tier);

/* One firm of a reserve list, with its readiness for the list's tier. */
typedef struct {
	char uscc[TIDU_USCC_LEN + 1];
	char *name, *district, *officer, *since, *reason;
	int tier;
	tidu_assess_status status;
	int scored;
	double score, pass_score;
	size_t failed;         /* hard conditions failed */
	size_t missing;        /* inputs missing */
	char *top_item;        /* the indicator that loses the most points (its label), or NULL */
	double top_lost;
	char *last_visit;      /* the date of its latest visit, or NULL */
	char *follow_up_due;   /* the latest visit's follow-up due date, or NULL */
} tidu_pool_entry;

typedef struct {
	int tier;              /* 1..3 (tidu_pool_export: 0 for all) */
	const char *district;  /* NULL: all */
	const char *officer;   /* NULL: all */
} tidu_pool_filter;

/*
 * The firms of a reserve list, assessed with the rule pack in force today
 * for the list's tier, most ready first: passing, undecided, incomplete,
 * failing; then fewer hard conditions failed, then the higher score.
 */
int tidu_pool_list(tidu_store *s, const tidu_pool_filter *f, tidu_pool_entry **out, size_t *n);
void tidu_pool_list_free(tidu_pool_entry *v, size_t n);

/*
 * The candidates for the tier `tier` list: firms on no list of that tier
 * and not recognised at it or above, whose assessment for the tier passes,
 * is undecided, or falls short by at most `within` points with at most one
 * hard condition failed. In the order of tidu_pool_list (the entries'
 * `tier` is the one suggested). `district` NULL: all.
 */
int tidu_pool_suggest(tidu_store *s, int tier, double within, const char *district,
		      tidu_pool_entry **out, size_t *n);

/* What `pool check` finds wrong with a firm of the pool. */
typedef enum {
	TIDU_POOL_NO_OFFICER = 1,   /* on a list with no assigned officer */
	TIDU_POOL_CONFLICT,         /* unresolved conflicts (`tidu conflicts`) */
	TIDU_POOL_TWO_DISTRICTS,    /* its district was written two ways (a conflict on it) */
	TIDU_POOL_STALE             /* its newest yearly figures are older than the last full year */
} tidu_pool_problem;

typedef struct {
	char uscc[TIDU_USCC_LEN + 1];
	char *name, *district;
	int tier;                   /* its list (0: none) */
	tidu_pool_problem problem;
	char *detail;               /* the year of the newest figures, the number of conflicts... */
} tidu_pool_issue;

/* Every problem of the firms on the lists (and conflicts of any firm), by firm. */
int tidu_pool_check(tidu_store *s, tidu_pool_issue **out, size_t *n);
void tidu_pool_issues_free(tidu_pool_issue *v, size_t n);

/* One change of a firm's place on the lists (from the change log). */
typedef struct {
	int64_t wall_ms;            /* when it was written, on the writing device's clock */
	const char *device;         /* the device that wrote it */
	const char *field;          /* reserve_tier, officer, reserve_since, ... */
	const char *value;          /* NULL: cleared */
	const char *old;            /* the value before (NULL: empty) */
} tidu_pool_change;

typedef int (*tidu_pool_history_fn)(void *ctx, const tidu_pool_change *c);

/* The history of firm `uscc` on the lists, oldest first. TIDU_ENOTFOUND if it is not stored. */
int tidu_pool_history(tidu_store *s, const char *uscc, tidu_pool_history_fn fn, void *ctx);

/* A follow-up that is due: a visit's `follow_up_due`. */
typedef struct {
	char uscc[TIDU_USCC_LEN + 1];
	char *name, *district, *officer; /* the firm's assigned officer (else the visit's) */
	char *visit, *visit_date, *due;
	int tier;                   /* its list (0: none) */
	int overdue;                /* due before today */
} tidu_pool_due;

typedef struct {
	int overdue_only;
	const char *district, *officer; /* NULL: all */
} tidu_pool_due_filter;

/*
 * The open follow-ups: for each firm, its latest visit's follow_up_due when
 * no later visit was made on or after that visit (a later visit answers it).
 * Sorted by officer, then due date.
 */
int tidu_pool_due_list(tidu_store *s, const tidu_pool_due_filter *f, tidu_pool_due **out,
		       size_t *n);
void tidu_pool_due_free(tidu_pool_due *v, size_t n);

/*
 * Writes the lists (f->tier 0: all three) to `path`: CSV (UTF-8 with a BOM,
 * one row per firm with its tier) or, with `xlsx`, a workbook with one
 * sheet per tier (frozen header, numbers as numbers, dates as dates).
 * Column titles in the current language. Written beside `path` and renamed:
 * on an error the file at `path` is as it was. *rows: the firms written.
 */
int tidu_pool_export(tidu_store *s, const tidu_pool_filter *f, int xlsx, const char *path,
		     size_t *rows);

/* A firm's readiness for a tier at one moment. */
typedef struct {
	tidu_assess_status status;
	int scored;
	double score, pass_score;
	size_t failed, missing;
} tidu_pool_readiness;

/* One firm of the look-back review (回头看) of a year. */
typedef struct {
	char uscc[TIDU_USCC_LEN + 1];
	char *name, *district, *officer;
	int tier_then, tier_now;    /* its list at the start and at the end (0: none) */
	int tier;                   /* the tier it is assessed for */
	char *left, *left_reason;   /* taken off a list in the year: when and why */
	int64_t visits;             /* visits dated in the year */
	char *last_visit;           /* the latest of them, or NULL */
	tidu_pool_readiness then, now;
	char **changed;             /* what changed in the year: firm fields and YEAR.KEY */
	size_t nchanged;
	size_t nchanges;            /* logged changes of the firm in the year */
} tidu_pool_review_row;

typedef struct {
	int year;
	const char *district, *officer; /* NULL: all */
} tidu_pool_review_filter;

/*
 * The look-back review of `f->year`: every firm on a list at the start or
 * the end of the year (or on one for part of it), with its visits of the
 * year, its assessment with the inputs it had at the start of the year
 * ("then", under the rule pack in force that day) and at the end of it, or
 * now for the current year ("now"), and the fields its change log changed
 * in between. The inputs of a moment are rebuilt from the change log (one
 * pass over it): a change counts from its writer's wall clock. Sorted by
 * tier (3 first), then readiness now.
 */
int tidu_pool_review(tidu_store *s, const tidu_pool_review_filter *f,
		     tidu_pool_review_row **out, size_t *n);
void tidu_pool_review_free(tidu_pool_review_row *v, size_t n);

/* Visits per month of `year` (months[0] is January), of `district` (NULL: all). */
int tidu_pool_visit_months(tidu_store *s, int year, const char *district, int64_t months[12]);

/*
 * Appends the pool report of `year` to `out`: one self-contained HTML page
 * for A4 (docs/pool.md), of `district` (NULL: the store's whole pool),
 * dated `today`. Texts in the current language, every stored text escaped.
 */
int tidu_pool_report(tidu_store *s, int year, const char *district, const char *today,
		     tidu_buf *out);

/*
 * City: sets the year's target for a tier, for the city (`district` NULL)
 * or a district (a known district code of the city). `target` >= 0.
 * TIDU_EINVAL on a district's store or for a bad value.
 */
int tidu_pool_target_set(tidu_store *city, int year, int tier, const char *district,
			 int64_t target);

/* One line of the progress table. */
typedef struct {
	char district[16];     /* "" for the city's totals */
	int64_t target;        /* -1: none set */
	int64_t recognised;    /* firms with tier = T and tier_year = the year */
	int64_t reserve;       /* firms on the tier T list */
	int64_t passing;       /* ... whose assessment for tier T passes today */
} tidu_pool_progress;

typedef struct {
	int tier;
	tidu_pool_progress total;   /* the city (on a district's store: that district) */
	tidu_pool_progress *districts;
	size_t ndistricts;          /* ranked by completion, then code */
} tidu_pool_tier_progress;

/*
 * The year's progress per tier (3, 2, 1 in out[0..2]) and district. On a
 * district's store only its own district is counted (it holds only its
 * firms); the city's target is the district's own.
 */
int tidu_pool_targets(tidu_store *s, int year, tidu_pool_tier_progress out[3]);
void tidu_pool_targets_free(tidu_pool_tier_progress out[3]);

/* completion in percent (one decimal), or -1 when there is no target (or it is 0) */
double tidu_pool_completion(const tidu_pool_progress *p);

/* The city's signed document of every target (citydoc.c); count 0: none. */
int tidu_pool_targets_export(tidu_store *city, tidu_buf *doc, size_t *count);

/*
 * Device: replaces its targets with those of the city's document (the
 * city's rows and its own district's), verified under the pinned city key.
 */
int tidu_pool_targets_import(tidu_store *s, const char *doc, size_t len, tidu_city_import *rep);

#endif
