/*
 * The reserve pool (include/tidu/pool.h, docs/pool.md): reserve lists as
 * firm fields written through the firm's own path, readiness from the
 * assessment, and the year's targets (the pool_target table, owned here),
 * which the city publishes signed and each device takes.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "tidu/alloc.h"
#include "tidu/conflict.h"
#include "tidu/dict.h"
#include "tidu/error.h"
#include "tidu/firm.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "tidu/parse.h"
#include "tidu/pool.h"
#include "tidu/record.h"
#include "tidu/rules.h"
#include "tidu/view.h"

#include "core/pool_int.h"

static int is_city(tidu_store *s)
{
	return !strcmp(tidu_store_role(s), "city");
}

static int check_tier(int tier)
{
	if (tier < 1 || tier > 3)
		return tidu_error_set(TIDU_EINVAL,
			_("unknown tier %d: 1 (innovative SME), 2 (provincial SRDI SME) or 3 (little giant)"),
			tier);
	return 0;
}

/* The firm's stored reserve tier (0: none) after checking it can be written. */
static int reserve_of(tidu_store *s, const char *uscc_in, char uscc[TIDU_USCC_LEN + 1], int *tier)
{
	tidu_rec firm = TIDU_REC_INIT;
	const char *v;
	int error;

	*tier = 0;
	if ((error = tidu_uscc_validate(uscc_in, uscc)) < 0)
		return error;
	if ((error = tidu_view_rec_load(s, TIDU_ENTITY_FIRM, uscc, &firm)) < 0) {
		if (error == TIDU_ENOTFOUND)
			error = tidu_error_set(TIDU_ENOTFOUND,
				_("firm '%s' is not in the store: add it with 'tidu firm add'"), uscc);
		return error;
	}
	if ((v = tidu_view_rec_get(&firm, "reserve_tier")) && *v) {
		int64_t t;

		if (tidu_parse_int64(v, &t) == 0 && t >= 0 && t <= 3)
			*tier = (int)t;
	}
	tidu_view_rec_clear(&firm);
	return tidu_firm_check_writable(s, uscc);
}

int tidu_pool_add(tidu_store *s, const char *uscc_in, int tier, const char *officer,
		  const char *reason, int *was_tier)
{
	char uscc[TIDU_USCC_LEN + 1], today[11], t[2];
	tidu_kv kv[7];
	size_t n = 0;
	int error;

	*was_tier = 0;
	if ((error = check_tier(tier)) < 0 || (error = reserve_of(s, uscc_in, uscc, was_tier)) < 0)
		return error;
	if (*was_tier == tier)
		return tidu_error_set(TIDU_EINVAL, _("firm '%s' is on the tier %d reserve list already"),
				      uscc, tier);
	tidu_date_today(today);
	snprintf(t, sizeof(t), "%d", tier);
	kv[n++] = (tidu_kv){"reserve_tier", t};
	kv[n++] = (tidu_kv){"reserve_since", today};
	kv[n++] = (tidu_kv){"reserve_reason", reason ? reason : ""};
	kv[n++] = (tidu_kv){"reserve_left", ""};
	kv[n++] = (tidu_kv){"reserve_left_reason", ""};
	if (officer)
		kv[n++] = (tidu_kv){"officer", officer};
	return tidu_firm_set(s, uscc, kv, n);
}

int tidu_pool_remove(tidu_store *s, const char *uscc_in, const char *reason, int *was_tier)
{
	char uscc[TIDU_USCC_LEN + 1], today[11];
	tidu_kv kv[3];
	int error;

	*was_tier = 0;
	if (!reason || !*reason)
		return tidu_error_set(TIDU_EINVAL, "%s",
				      _("say why the firm leaves its reserve list (--reason)"));
	if ((error = reserve_of(s, uscc_in, uscc, was_tier)) < 0)
		return error;
	if (*was_tier < 1)
		return tidu_error_set(TIDU_EINVAL, _("firm '%s' is on no reserve list"), uscc);
	tidu_date_today(today);
	kv[0] = (tidu_kv){"reserve_tier", "0"};
	kv[1] = (tidu_kv){"reserve_left", today};
	kv[2] = (tidu_kv){"reserve_left_reason", reason};
	return tidu_firm_set(s, uscc, kv, 3);
}

/* ---- the lists ------------------------------------------------------------------ */

char *pool_dup(const char *s)
{
	return s && *s ? tidu_strdup(s) : NULL;
}

int pool_status_rank(tidu_assess_status st)
{
	switch (st) {
	case TIDU_ASSESS_PASS:
		return 0;
	case TIDU_ASSESS_UNDECIDED:
		return 1;
	case TIDU_ASSESS_INCOMPLETE:
		return 2;
	default:
		return 3;
	}
}

static int ready_cmp(const void *x, const void *y)
{
	const tidu_pool_entry *a = x, *b = y;
	int c = pool_status_rank(a->status) - pool_status_rank(b->status);

	if (c)
		return c;
	if (a->failed != b->failed)
		return a->failed < b->failed ? -1 : 1;
	if (a->scored != b->scored)
		return b->scored - a->scored;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return strcmp(a->uscc, b->uscc);
}

/* The latest visit's date and follow-up due date. */
static int visits_of(tidu_store *s, tidu_pool_entry *e)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT max(date), (SELECT follow_up_due FROM visit w WHERE w.uscc=?1 AND "
		"w._deleted=0 AND coalesce(w.follow_up_due, '')<>'' ORDER BY w.date DESC, w.id DESC "
		"LIMIT 1) FROM visit v WHERE v.uscc=?1 AND v._deleted=0");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, e->uscc, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e->last_visit = tidu_view_column_text(st, 0);
		e->follow_up_due = tidu_view_column_text(st, 1);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
		: tidu_store_sqlerr(s, rc, _("reading the visits"));
}

/* Fills `e` (uscc and tier set) from the firm's input and its assessment for e->tier. */
static int fill_entry(tidu_store *s, const tidu_packs *set, const tidu_pack *pack,
		      const tidu_assess_input *in, int visits, tidu_pool_entry *e)
{
	tidu_assessment *a = NULL;
	const tidu_rec *firm = tidu_assess_input_firm(in);
	size_t i;
	int error = 0;

	e->name = pool_dup(tidu_view_rec_get(firm, "name"));
	e->district = pool_dup(tidu_view_rec_get(firm, "district"));
	e->officer = pool_dup(tidu_view_rec_get(firm, "officer"));
	e->since = pool_dup(tidu_view_rec_get(firm, "reserve_since"));
	e->reason = pool_dup(tidu_view_rec_get(firm, "reserve_reason"));
	e->status = TIDU_ASSESS_INCOMPLETE;
	if (pack && (error = tidu_assess_run(set, pack, in, 0, e->tier, &a)) == 0 && a->ntiers) {
		const tidu_assess_tier *t = &a->tiers[0];

		e->status = t->status;
		e->scored = t->scored;
		e->score = t->score;
		e->pass_score = t->pass_score;
		e->failed = t->nfailed;
		e->missing = t->nmissing;
		for (i = 0; i < t->nindicators; i++) {
			const tidu_assess_indicator *d = &t->indicators[i];
			double lost = d->max - d->points_max;

			if (lost > 0 && lost > e->top_lost) {
				e->top_lost = lost;
				free(e->top_item);
				e->top_item = tidu_strdup(d->label ? d->label : d->id);
			}
		}
	}
	tidu_assessment_free(a);
	return error < 0 ? error : visits ? visits_of(s, e) : 0;
}

/* Fills the readiness of `e` for its tier from the assessment. */
static int assess_entry(tidu_store *s, const tidu_packs *set, const tidu_pack *pack,
			int visits, tidu_pool_entry *e)
{
	tidu_assess_input *in = NULL;
	int error;

	if ((error = tidu_assess_input_load(s, e->uscc, &in)) < 0)
		return error;
	error = fill_entry(s, set, pack, in, visits, e);
	tidu_assess_input_free(in);
	return error;
}

void pool_entry_clear(tidu_pool_entry *e)
{
	free(e->name);
	free(e->district);
	free(e->officer);
	free(e->since);
	free(e->reason);
	free(e->top_item);
	free(e->last_visit);
	free(e->follow_up_due);
	memset(e, 0, sizeof(*e));
}

void tidu_pool_list_free(tidu_pool_entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pool_entry_clear(&v[i]);
	free(v);
}

/*
 * The entries of `f` (f->tier 0: every list) assessed, in USCC order; with
 * `visits`, their latest visit and follow-up too.
 */
static int list_load(tidu_store *s, const tidu_pool_filter *f, int visits, tidu_pool_entry **out,
		     size_t *n)
{
	sqlite3_stmt *st;
	tidu_packs *set = NULL;
	const tidu_pack *pack;
	tidu_pool_entry *v = NULL;
	size_t cap = 0, i;
	char today[11];
	int rc, error;

	*out = NULL;
	*n = 0;
	if (f->district && !tidu_dict_district_name(f->district))
		return tidu_error_set(TIDU_EINVAL, _("unknown district '%s'"), f->district);
	st = tidu_store_stmt(s,
		"SELECT uscc, reserve_tier FROM firm WHERE _deleted=0 AND reserve_tier BETWEEN 1 AND 3 "
		"AND (?1=0 OR reserve_tier=?1) AND "
		"(?2 IS NULL OR district=?2) AND (?3 IS NULL OR officer=?3) ORDER BY uscc");
	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_int(st, 1, f->tier);
	if (f->district)
		sqlite3_bind_text(st, 2, f->district, -1, SQLITE_STATIC);
	if (f->officer)
		sqlite3_bind_text(st, 3, f->officer, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			v = tidu_reallocarray(v, cap, sizeof(*v));
		}
		memset(&v[*n], 0, sizeof(v[*n]));
		snprintf(v[*n].uscc, sizeof(v[*n].uscc), "%s", sqlite3_column_text(st, 0));
		v[*n].tier = sqlite3_column_int(st, 1);
		(*n)++;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(s, rc, _("reading the reserve list"));
		goto fail;
	}
	if ((error = tidu_rules_load(s, &set)) < 0)
		goto fail;
	tidu_date_today(today);
	pack = tidu_packs_in_force(set, today);
	for (i = 0; i < *n; i++) {
		tidu_store_progress(s, _("Assessing the reserve list"), i, *n);
		if ((error = assess_entry(s, set, pack, visits, &v[i])) < 0)
			goto fail;
	}
	tidu_store_progress_end(s);
	tidu_packs_free(set);
	*out = v;
	return 0;
fail:
	tidu_store_progress_end(s);
	tidu_packs_free(set);
	tidu_pool_list_free(v, *n);
	*n = 0;
	return error;
}

/* Tier 3 first, then as ready_cmp. */
static int tier_ready_cmp(const void *x, const void *y)
{
	const tidu_pool_entry *a = x, *b = y;

	return a->tier != b->tier ? b->tier - a->tier : ready_cmp(x, y);
}

int tidu_pool_list(tidu_store *s, const tidu_pool_filter *f, tidu_pool_entry **out, size_t *n)
{
	int error;

	*out = NULL;
	*n = 0;
	if ((error = check_tier(f->tier)) < 0)
		return error;
	if ((error = list_load(s, f, 1, out, n)) < 0)
		return error;
	if (*n)
		qsort(*out, *n, sizeof(**out), ready_cmp);
	return 0;
}

int pool_lists(tidu_store *s, const tidu_pool_filter *f, int visits, tidu_pool_entry *lists[3],
	       size_t n[3])
{
	tidu_pool_filter all = *f;
	tidu_pool_entry *v = NULL;
	size_t nv = 0, i, at = 0;
	int error, k;

	all.tier = 0;
	for (k = 0; k < 3; k++) {
		lists[k] = NULL;
		n[k] = 0;
	}
	if ((error = list_load(s, &all, visits, &v, &nv)) < 0)
		return error;
	if (nv)
		qsort(v, nv, sizeof(*v), tier_ready_cmp);
	for (k = 2; k >= 0; k--) {
		for (i = at; i < nv && v[i].tier == k + 1; i++)
			;
		lists[k] = tidu_reallocarray(NULL, i - at ? i - at : 1, sizeof(*v));
		if (i > at)
			memcpy(lists[k], v + at, (i - at) * sizeof(*v));
		n[k] = i - at;
		at = i;
	}
	free(v);
	return 0;
}

/* ---- suggestions ------------------------------------------------------------------ */

typedef struct {
	tidu_store *s;
	const tidu_packs *set;
	const tidu_pack *pack;
	int tier;
	double within;
	tidu_pool_entry *v;
	size_t n, cap;
	size_t seen;            /* firms assessed so far (the progress) */
} suggest_ctx;

static int int_field(const tidu_rec *r, const char *key)
{
	const char *v = tidu_view_rec_get(r, key);
	int64_t n;

	return v && *v && tidu_parse_int64(v, &n) == 0 && n > 0 && n < 100 ? (int)n : 0;
}

static int suggest_one(void *vctx, const tidu_assess_input *in)
{
	suggest_ctx *c = vctx;
	const tidu_rec *firm = tidu_assess_input_firm(in);
	const char *uscc = tidu_view_rec_get(firm, "uscc");
	tidu_pool_entry e;
	double short_by;
	int error;

	tidu_store_progress(c->s, _("Assessing the firms"), ++c->seen, 0);
	if (!uscc || int_field(firm, "reserve_tier") == c->tier || int_field(firm, "tier") >= c->tier)
		return 0;
	memset(&e, 0, sizeof(e));
	snprintf(e.uscc, sizeof(e.uscc), "%s", uscc);
	e.tier = c->tier;
	if ((error = fill_entry(c->s, c->set, c->pack, in, 1, &e)) < 0) {
		pool_entry_clear(&e);
		return error;
	}
	short_by = e.scored && e.score < e.pass_score ? e.pass_score - e.score : 0;
	if (e.status == TIDU_ASSESS_PASS || e.status == TIDU_ASSESS_UNDECIDED ||
	    (e.status == TIDU_ASSESS_FAIL && e.failed <= 1 && short_by <= c->within &&
	     (e.scored || e.failed == 1))) {
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 64;
			c->v = tidu_reallocarray(c->v, c->cap, sizeof(*c->v));
		}
		c->v[c->n++] = e;
		return 0;
	}
	pool_entry_clear(&e);
	return 0;
}

int tidu_pool_suggest(tidu_store *s, int tier, double within, const char *district,
		      tidu_pool_entry **out, size_t *n)
{
	suggest_ctx c;
	tidu_packs *set = NULL;
	char today[11];
	int error;

	*out = NULL;
	*n = 0;
	if ((error = check_tier(tier)) < 0)
		return error;
	if (!(within >= 0) || within > 100)
		return tidu_error_set(TIDU_EINVAL, "%s", _("--within takes points from 0 to 100"));
	if (district && !tidu_dict_district_name(district))
		return tidu_error_set(TIDU_EINVAL, _("unknown district '%s'"), district);
	if ((error = tidu_rules_load(s, &set)) < 0)
		return error;
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.set = set;
	tidu_date_today(today);
	c.pack = tidu_packs_in_force(set, today);
	c.tier = tier;
	c.within = within;
	error = c.pack ? tidu_assess_each(s, district, suggest_one, &c) : 0;
	tidu_store_progress_end(s);
	tidu_packs_free(set);
	if (error < 0) {
		tidu_pool_list_free(c.v, c.n);
		return error;
	}
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), ready_cmp);
	*out = c.v;
	*n = c.n;
	return 0;
}

/* ---- check ---------------------------------------------------------------------------- */

void tidu_pool_issues_free(tidu_pool_issue *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].district);
		free(v[i].detail);
	}
	free(v);
}

typedef struct {
	tidu_pool_issue *v;
	size_t n, cap;
} issues;

static void issue_add(issues *is, const char *uscc, const tidu_rec *firm, tidu_pool_problem p,
		      char *detail)
{
	tidu_pool_issue *x;

	if (is->n == is->cap) {
		is->cap = is->cap ? 2 * is->cap : 32;
		is->v = tidu_reallocarray(is->v, is->cap, sizeof(*is->v));
	}
	x = &is->v[is->n++];
	memset(x, 0, sizeof(*x));
	snprintf(x->uscc, sizeof(x->uscc), "%s", uscc);
	if (firm) {
		x->name = pool_dup(tidu_view_rec_get(firm, "name"));
		x->district = pool_dup(tidu_view_rec_get(firm, "district"));
		x->tier = int_field(firm, "reserve_tier");
	}
	x->problem = p;
	x->detail = detail;
}

static int issue_cmp(const void *a, const void *b)
{
	const tidu_pool_issue *x = a, *y = b;
	int c = strcmp(x->uscc, y->uscc);

	return c ? c : (int)x->problem - (int)y->problem;
}

int tidu_pool_check(tidu_store *s, tidu_pool_issue **out, size_t *n)
{
	tidu_conflict *cf = NULL;
	size_t ncf = 0, i, k;
	issues is = {NULL, 0, 0};
	sqlite3_stmt *st;
	char today[11];
	int rc, error, last_full;

	*out = NULL;
	*n = 0;
	tidu_date_today(today);
	last_full = (today[0] - '0') * 1000 + (today[1] - '0') * 100 + (today[2] - '0') * 10 +
		    (today[3] - '0') - 1;
	/* the firms on the lists: an officer, and figures of the last full year */
	if (!(st = tidu_store_stmt(s, "SELECT uscc FROM firm WHERE _deleted=0 AND "
				      "reserve_tier BETWEEN 1 AND 3 ORDER BY uscc")))
		return TIDU_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char uscc[TIDU_USCC_LEN + 1];
		tidu_assess_input *in = NULL;
		const tidu_rec *firm;
		int year;

		snprintf(uscc, sizeof(uscc), "%s", sqlite3_column_text(st, 0));
		if ((error = tidu_assess_input_load(s, uscc, &in)) < 0) {
			sqlite3_reset(st);
			goto fail;
		}
		firm = tidu_assess_input_firm(in);
		if (!tidu_view_rec_get(firm, "officer") || !*tidu_view_rec_get(firm, "officer"))
			issue_add(&is, uscc, firm, TIDU_POOL_NO_OFFICER, NULL);
		year = tidu_assess_default_year(in);
		if (year < last_full)
			issue_add(&is, uscc, firm, TIDU_POOL_STALE,
				  year ? tidu_strprintf("%d", year) : NULL);
		tidu_assess_input_free(in);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(s, rc, _("reading the reserve list"));
		goto fail;
	}
	/* unresolved conflicts of any firm, and its district written two ways */
	if ((error = tidu_conflict_list(s, 0, &cf, &ncf)) < 0)
		goto fail;
	for (i = 0; i < ncf; i++) {
		char uscc[TIDU_USCC_LEN + 1];
		tidu_rec firm = TIDU_REC_INIT;
		size_t count = 0;

		if (strcmp(cf[i].entity, TIDU_ENTITY_FIRM) && strcmp(cf[i].entity, TIDU_ENTITY_FIRM_YEAR))
			continue;
		snprintf(uscc, sizeof(uscc), "%.*s", TIDU_USCC_LEN, cf[i].key);
		for (k = 0; k < i; k++)
			if (!strncmp(cf[k].key, uscc, TIDU_USCC_LEN) &&
			    (!strcmp(cf[k].entity, TIDU_ENTITY_FIRM) ||
			     !strcmp(cf[k].entity, TIDU_ENTITY_FIRM_YEAR)))
				break;
		if (k < i)
			continue; /* counted with the first */
		for (k = i; k < ncf; k++)
			if (!strncmp(cf[k].key, uscc, TIDU_USCC_LEN) &&
			    (!strcmp(cf[k].entity, TIDU_ENTITY_FIRM) ||
			     !strcmp(cf[k].entity, TIDU_ENTITY_FIRM_YEAR)))
				count++;
		if (tidu_view_rec_load(s, TIDU_ENTITY_FIRM, uscc, &firm) < 0)
			tidu_error_clear();
		issue_add(&is, uscc, &firm, TIDU_POOL_CONFLICT, tidu_strprintf("%zu", count));
		for (k = i; k < ncf; k++)
			if (!strcmp(cf[k].entity, TIDU_ENTITY_FIRM) && !strcmp(cf[k].key, uscc) &&
			    !strcmp(cf[k].field, "district"))
				issue_add(&is, uscc, &firm, TIDU_POOL_TWO_DISTRICTS,
					  tidu_strprintf("%s / %s", cf[k].current ? cf[k].current : "",
							 cf[k].lost ? cf[k].lost : ""));
		tidu_view_rec_clear(&firm);
	}
	tidu_conflict_list_free(cf, ncf);
	if (is.n)
		qsort(is.v, is.n, sizeof(*is.v), issue_cmp);
	*out = is.v;
	*n = is.n;
	return 0;
fail:
	tidu_pool_issues_free(is.v, is.n);
	return error;
}

/* ---- history --------------------------------------------------------------------------- */

static const char *const reserve_fields[] = {
	"reserve_tier", "officer", "reserve_since", "reserve_reason", "reserve_left",
	"reserve_left_reason",
};
#define NRESERVE (sizeof(reserve_fields) / sizeof(reserve_fields[0]))

typedef struct {
	tidu_pool_history_fn fn;
	void *ctx;
	char *last[NRESERVE];
} history_ctx;

static int history_one(void *vctx, int64_t hlc, int64_t wall, const char *device,
		       const char *fields)
{
	history_ctx *h = vctx;
	tidu_json *doc = NULL;
	size_t i, k;
	int error = 0;

	(void)hlc;
	if (!fields || tidu_json_parse(fields, strlen(fields), &doc) < 0) {
		tidu_error_clear();
		return 0; /* a change this tidu cannot read: not part of the history */
	}
	for (i = 0; i < tidu_json_count(doc) && !error; i++) {
		const tidu_json *f = tidu_json_at(doc, i);
		const char *name = tidu_json_as_string(tidu_json_at(f, 0));
		const char *value = tidu_json_as_string(tidu_json_at(f, 1));
		tidu_pool_change c;

		for (k = 0; name && k < NRESERVE; k++)
			if (!strcmp(name, reserve_fields[k]))
				break;
		if (!name || k == NRESERVE)
			continue;
		c.wall_ms = wall;
		c.device = device;
		c.field = reserve_fields[k];
		c.value = value && *value ? value : NULL;
		c.old = h->last[k];
		error = h->fn(h->ctx, &c);
		free(h->last[k]);
		h->last[k] = value && *value ? tidu_strdup(value) : NULL;
	}
	tidu_json_free(doc);
	return error;
}

int tidu_pool_history(tidu_store *s, const char *uscc_in, tidu_pool_history_fn fn, void *ctx)
{
	char uscc[TIDU_USCC_LEN + 1];
	history_ctx h;
	size_t k;
	int error;

	if ((error = tidu_uscc_validate(uscc_in, uscc)) < 0)
		return error;
	if ((error = tidu_record_exists(s, TIDU_ENTITY_FIRM, uscc)) != TIDU_RECORD_LIVE)
		return error < 0 ? error : tidu_error_set(TIDU_ENOTFOUND,
			_("firm '%s' is not in the store"), uscc);
	memset(&h, 0, sizeof(h));
	h.fn = fn;
	h.ctx = ctx;
	error = tidu_record_history(s, TIDU_ENTITY_FIRM, uscc, history_one, &h);
	for (k = 0; k < NRESERVE; k++)
		free(h.last[k]);
	return error;
}

/* ---- follow-ups due -------------------------------------------------------------------- */

void tidu_pool_due_free(tidu_pool_due *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].district);
		free(v[i].officer);
		free(v[i].visit);
		free(v[i].visit_date);
		free(v[i].due);
	}
	free(v);
}

int tidu_pool_due_list(tidu_store *s, const tidu_pool_due_filter *f, tidu_pool_due **out,
		       size_t *n)
{
	sqlite3_stmt *st;
	tidu_pool_due *v = NULL;
	size_t cap = 0;
	char today[11];
	int rc;

	*out = NULL;
	*n = 0;
	if (f->district && !tidu_dict_district_name(f->district))
		return tidu_error_set(TIDU_EINVAL, _("unknown district '%s'"), f->district);
	tidu_date_today(today);
	/*
	 * Each firm's latest visit, when it set a follow-up date: those visits
	 * first (materialized), then one scan of the firms that looks them up.
	 * Looking up the firm of each visit instead reads the big firm rows at
	 * random: three times slower at 300,000 visits (docs/benchmarks.md, j).
	 */
	st = tidu_store_stmt(s,
		"WITH last AS MATERIALIZED (SELECT v.uscc, v.id, v.date, v.follow_up_due, v.officer "
		"FROM visit v WHERE v._deleted=0 AND coalesce(v.follow_up_due, '')<>'' AND "
		"(?3 IS NULL OR v.follow_up_due<?3) AND NOT EXISTS (SELECT 1 FROM visit w WHERE "
		"w.uscc=v.uscc AND w._deleted=0 AND (w.date>v.date OR (w.date=v.date AND w.id>v.id)))) "
		"SELECT v.uscc, f.name, f.district, coalesce(nullif(f.officer, ''), v.officer), v.id, "
		"v.date, v.follow_up_due, coalesce(f.reserve_tier, 0) FROM firm f CROSS JOIN last v "
		"ON v.uscc=f.uscc WHERE f._deleted=0 AND (?1 IS NULL OR f.district=?1) AND "
		"(?2 IS NULL OR coalesce(nullif(f.officer, ''), v.officer)=?2) "
		"ORDER BY coalesce(nullif(f.officer, ''), v.officer), v.follow_up_due, v.uscc");
	if (!st)
		return TIDU_ERROR;
	if (f->district)
		sqlite3_bind_text(st, 1, f->district, -1, SQLITE_STATIC);
	if (f->officer)
		sqlite3_bind_text(st, 2, f->officer, -1, SQLITE_STATIC);
	if (f->overdue_only)
		sqlite3_bind_text(st, 3, today, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_pool_due *d;

		if (*n == cap) {
			cap = cap ? 2 * cap : 32;
			v = tidu_reallocarray(v, cap, sizeof(*v));
		}
		d = &v[(*n)++];
		memset(d, 0, sizeof(*d));
		snprintf(d->uscc, sizeof(d->uscc), "%s", sqlite3_column_text(st, 0));
		d->name = tidu_view_column_text(st, 1);
		d->district = tidu_view_column_text(st, 2);
		d->officer = tidu_view_column_text(st, 3);
		d->visit = tidu_view_column_text(st, 4);
		d->visit_date = tidu_view_column_text(st, 5);
		d->due = tidu_view_column_text(st, 6);
		d->tier = sqlite3_column_int(st, 7);
		d->overdue = d->due && strcmp(d->due, today) < 0;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		tidu_pool_due_free(v, *n);
		*n = 0;
		return tidu_store_sqlerr(s, rc, _("reading the visits"));
	}
	*out = v;
	return 0;
}

int tidu_pool_visit_months(tidu_store *s, int year, const char *district, int64_t months[12])
{
	sqlite3_stmt *st;
	char from[24], to[24];
	int rc;

	memset(months, 0, 12 * sizeof(*months));
	snprintf(from, sizeof(from), "%04d-01-01", year);
	snprintf(to, sizeof(to), "%04d-01-01", year + 1);
	/*
	 * The whole store: one scan of the visits. A district: from its firms
	 * (an index) to their visits; a lookup of the firm for every visit
	 * reads the big firm rows at random, 30 times slower at 300,000 visits.
	 */
	if (!(st = district ? tidu_store_stmt(s,
		"SELECT CAST(substr(v.date, 6, 2) AS INTEGER), count(*) FROM firm f JOIN visit v "
		"ON v.uscc=f.uscc WHERE f.district=?3 AND v._deleted=0 AND v.date>=?1 AND v.date<?2 "
		"GROUP BY 1")
			    : tidu_store_stmt(s,
		"SELECT CAST(substr(date, 6, 2) AS INTEGER), count(*) FROM visit "
		"WHERE _deleted=0 AND date>=?1 AND date<?2 GROUP BY 1")))
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, from, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_TRANSIENT);
	if (district)
		sqlite3_bind_text(st, 3, district, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int m = sqlite3_column_int(st, 0);

		if (m >= 1 && m <= 12)
			months[m - 1] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("reading the visits"));
}

/* ---- targets ---------------------------------------------------------------------- */

static int check_year(int year)
{
	if (year < 2000 || year > 2100)
		return tidu_error_set(TIDU_EINVAL, _("year %d is out of range (2000 to 2100)"), year);
	return 0;
}

static int check_district(const char *d)
{
	if (!tidu_dict_district_name(d) || tidu_dict_is_city(d))
		return tidu_error_set(TIDU_EINVAL, _("unknown district '%s'"), d);
	return 0;
}

int tidu_pool_target_set(tidu_store *city, int year, int tier, const char *district,
			 int64_t target)
{
	sqlite3_stmt *st;
	char now[32];
	int error;

	if (!is_city(city))
		return tidu_error_set(TIDU_EINVAL, "%s",
			_("targets are set on the city's store (a district sees the city's with the next sync)"));
	if ((error = check_year(year)) < 0 || (error = check_tier(tier)) < 0 ||
	    (district && (error = check_district(district)) < 0))
		return error;
	if (target < 0 || target > 1000000)
		return tidu_error_set(TIDU_EINVAL, _("target %lld is out of range (0 to 1000000)"),
				      (long long)target);
	tidu_date_today(now);
	if (!(st = tidu_store_stmt(city,
		"INSERT INTO pool_target(year, tier, district, target, updated) VALUES(?,?,?,?,?) "
		"ON CONFLICT(year, tier, district) DO UPDATE SET target=excluded.target, "
		"updated=excluded.updated")))
		return TIDU_ERROR;
	sqlite3_bind_int(st, 1, year);
	sqlite3_bind_int(st, 2, tier);
	sqlite3_bind_text(st, 3, district ? district : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, target);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_TRANSIENT);
	return tidu_store_exec(city, st, _("saving the target"));
}

double tidu_pool_completion(const tidu_pool_progress *p)
{
	if (p->target <= 0)
		return -1;
	return round(1000.0 * (double)p->recognised / (double)p->target) / 10.0;
}

static tidu_pool_progress *row_for(tidu_pool_tier_progress *t, const char *district)
{
	size_t i;

	for (i = 0; i < t->ndistricts; i++)
		if (!strcmp(t->districts[i].district, district))
			return &t->districts[i];
	t->districts = tidu_reallocarray(t->districts, t->ndistricts + 1, sizeof(*t->districts));
	memset(&t->districts[t->ndistricts], 0, sizeof(*t->districts));
	snprintf(t->districts[t->ndistricts].district, sizeof(t->districts->district), "%s",
		 district);
	t->districts[t->ndistricts].target = -1;
	return &t->districts[t->ndistricts++];
}

static int rank_cmp(const void *x, const void *y)
{
	const tidu_pool_progress *a = x, *b = y;
	double ca = tidu_pool_completion(a), cb = tidu_pool_completion(b);

	if (ca != cb)
		return ca > cb ? -1 : 1;
	if (a->recognised != b->recognised)
		return a->recognised > b->recognised ? -1 : 1;
	return strcmp(a->district, b->district);
}

void tidu_pool_targets_free(tidu_pool_tier_progress out[3])
{
	int i;

	for (i = 0; i < 3; i++) {
		free(out[i].districts);
		out[i].districts = NULL;
		out[i].ndistricts = 0;
	}
}

/* Adds the counts a query (district, tier, count) gives to the `field` of each row. */
static int add_counts(tidu_store *s, const char *sql, int year, const char *own,
		      tidu_pool_tier_progress out[3], size_t field)
{
	sqlite3_stmt *st = tidu_store_stmt(s, sql);
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_int(st, 1, year);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 0);
		int tier = sqlite3_column_int(st, 1);
		int64_t c = sqlite3_column_int64(st, 2);
		tidu_pool_progress *p;

		if (tier < 1 || tier > 3 || (own && (!d || strcmp(d, own))))
			continue; /* on a district's store, a firm the city moved away */
		if (d && *d) {
			p = row_for(&out[3 - tier], d);
			*(int64_t *)(void *)((char *)p + field) += c;
		}
		*(int64_t *)(void *)((char *)&out[3 - tier].total + field) += c;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("counting the pool"));
}

int pool_targets_lists(tidu_store *s, int year, tidu_pool_entry *const lists[3],
		       const size_t n[3], tidu_pool_tier_progress out[3])
{
	const char *own = is_city(s) ? NULL : tidu_store_district(s);
	sqlite3_stmt *st;
	size_t i;
	int rc, error, k;

	memset(out, 0, 3 * sizeof(*out));
	for (k = 0; k < 3; k++) {
		out[k].tier = 3 - k;
		out[k].total.target = -1;
	}
	if ((error = check_year(year)) < 0)
		return error;
	/* the targets: the city's own rows give the totals' targets */
	if (!(st = tidu_store_stmt(s, "SELECT tier, district, target FROM pool_target WHERE year=?")))
		return TIDU_ERROR;
	sqlite3_bind_int(st, 1, year);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int tier = sqlite3_column_int(st, 0);
		const char *d = (const char *)sqlite3_column_text(st, 1);

		if (tier < 1 || tier > 3 || !d)
			continue;
		if (own ? !strcmp(d, own) : !*d)
			out[3 - tier].total.target = sqlite3_column_int64(st, 2);
		if (*d && (!own || !strcmp(d, own)))
			row_for(&out[3 - tier], d)->target = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(s, rc, _("reading the targets"));
		goto fail;
	}
	if ((error = add_counts(s,
		"SELECT coalesce(district, ''), tier, count(*) FROM firm WHERE _deleted=0 AND "
		"tier BETWEEN 1 AND 3 AND tier_year=? GROUP BY 1, 2", year, own, out,
		offsetof(tidu_pool_progress, recognised))) < 0 ||
	    (error = add_counts(s,
		"SELECT coalesce(district, ''), reserve_tier, count(*) FROM firm WHERE _deleted=0 "
		"AND reserve_tier BETWEEN 1 AND 3 AND ?1 = ?1 GROUP BY 1, 2", year, own, out,
		offsetof(tidu_pool_progress, reserve))) < 0)
		goto fail;
	/* passing: each list's firms assessed for its tier (out[k] is tier 3 - k) */
	for (k = 0; k < 3; k++) {
		const tidu_pool_entry *list = lists[2 - k];

		for (i = 0; i < n[2 - k]; i++) {
			const char *d = list[i].district;

			if (list[i].status != TIDU_ASSESS_PASS || (own && (!d || strcmp(d, own))))
				continue;
			if (d)
				row_for(&out[k], d)->passing++;
			out[k].total.passing++;
		}
	}
	for (k = 0; k < 3; k++)
		if (out[k].ndistricts)
			qsort(out[k].districts, out[k].ndistricts, sizeof(*out[k].districts), rank_cmp);
	return 0;
fail:
	tidu_pool_targets_free(out);
	return error;
}

int tidu_pool_targets(tidu_store *s, int year, tidu_pool_tier_progress out[3])
{
	tidu_pool_entry *lists[3] = {NULL, NULL, NULL};
	size_t n[3] = {0, 0, 0};
	int error = 0, k;

	memset(out, 0, 3 * sizeof(*out));
	if ((error = check_year(year)) < 0)
		return error;
	{
		tidu_pool_filter f = {0, NULL, NULL};

		error = pool_lists(s, &f, 0, lists, n); /* passing: no visit needed */
	}
	if (!error)
		error = pool_targets_lists(s, year, lists, n, out);
	for (k = 0; k < 3; k++)
		tidu_pool_list_free(lists[k], n[k]);
	return error;
}

/* ---- the city's document ------------------------------------------------------------ */

static const char *what_doc = N_("the city's targets");

int tidu_pool_targets_export(tidu_store *city, tidu_buf *doc, size_t *count)
{
	tidu_buf payload = TIDU_BUF_INIT;
	tidu_json_writer w;
	sqlite3_stmt *st;
	int rc, error;

	*count = 0;
	if (!(st = tidu_store_stmt(city, "SELECT year, tier, district, target, updated FROM "
					 "pool_target ORDER BY year, tier, district")))
		return TIDU_ERROR;
	tidu_trust_city_payload_begin(&w, &payload, TIDU_TARGETS_FORMAT, "targets");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "year");
		tidu_json_write_int64(&w, sqlite3_column_int64(st, 0));
		tidu_json_write_key(&w, "tier");
		tidu_json_write_int64(&w, sqlite3_column_int64(st, 1));
		tidu_json_write_key(&w, "district");
		tidu_json_write_string(&w, (const char *)sqlite3_column_text(st, 2));
		tidu_json_write_key(&w, "target");
		tidu_json_write_int64(&w, sqlite3_column_int64(st, 3));
		tidu_json_write_key(&w, "updated");
		tidu_json_write_string(&w, (const char *)sqlite3_column_text(st, 4));
		tidu_json_end_object(&w);
		(*count)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(city, rc, _("reading the targets"));
		goto done;
	}
	error = tidu_trust_city_payload_sign(city, &w, &payload, TIDU_TARGETS_DOMAIN, *count, doc);
done:
	tidu_buf_free(&payload);
	return error;
}

int tidu_pool_targets_import(tidu_store *s, const char *doc, size_t len, tidu_city_import *rep)
{
	const char *own = tidu_store_district(s);
	tidu_json *tree = NULL;
	const tidu_json *items;
	sqlite3_stmt *del, *ins;
	size_t i;
	int error;

	memset(rep, 0, sizeof(*rep));
	if ((error = tidu_trust_city_open(s, _(what_doc), TIDU_TARGETS_DOMAIN, TIDU_TARGETS_FORMAT,
					  "targets", doc, len, &tree, &items)) < 0)
		return error;
	if ((error = tidu_store_begin(s)) < 0)
		goto done;
	if (!(del = tidu_store_stmt(s, "DELETE FROM pool_target")) ||
	    (error = tidu_store_exec(s, del, _("replacing the targets"))) < 0) {
		error = error < 0 ? error : TIDU_ERROR;
		goto fail;
	}
	for (i = 0; i < tidu_json_count(items); i++) {
		const tidu_json *e = tidu_json_at(items, i);
		const char *d = tidu_json_as_string(tidu_json_get(e, "district"));
		const char *up = tidu_json_as_string(tidu_json_get(e, "updated"));
		int64_t year, tier, target;
		tidu_buf why = TIDU_BUF_INIT;

		if (!d || tidu_json_as_int64(tidu_json_get(e, "year"), &year) < 0 ||
		    tidu_json_as_int64(tidu_json_get(e, "tier"), &tier) < 0 ||
		    tidu_json_as_int64(tidu_json_get(e, "target"), &target) < 0 ||
		    year < 2000 || year > 2100 || tier < 1 || tier > 3 || target < 0 ||
		    (*d && check_district(d) < 0)) {
			tidu_error_clear();
			tidu_buf_printf(&why, _("target %zu: expected a year, a tier 1 to 3, a known district and a target of 0 or more"),
					i + 1);
			tidu_city_import_refuse(rep, why.ptr);
			tidu_buf_free(&why);
			continue;
		}
		if (*d && own && *own && strcmp(d, own) && !is_city(s))
			continue; /* another district's: not this store's business */
		if (!(ins = tidu_store_stmt(s, "INSERT OR REPLACE INTO pool_target(year, tier, "
					       "district, target, updated) VALUES(?,?,?,?,?)"))) {
			error = TIDU_ERROR;
			goto fail;
		}
		sqlite3_bind_int64(ins, 1, year);
		sqlite3_bind_int64(ins, 2, tier);
		sqlite3_bind_text(ins, 3, d, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 4, target);
		sqlite3_bind_text(ins, 5, up ? up : "", -1, SQLITE_TRANSIENT);
		if ((error = tidu_store_exec(s, ins, _("saving the targets"))) < 0)
			goto fail;
		rep->taken++;
	}
	if ((error = tidu_store_commit(s)) < 0)
		goto fail;
	goto done;
fail:
	tidu_store_rollback(s);
	rep->taken = 0;
done:
	tidu_json_free(tree);
	return error;
}
