/*
 * The look-back review (回头看) of a year (include/tidu/pool.h,
 * docs/pool.md): for every firm of the lists, its visits of the year and
 * its assessment then and now, the inputs of each moment rebuilt from the
 * change log in one pass over it.
 *
 * The rebuild: a field's value at moment T is the last logged value
 * written before T. Only the fields changed at or after T differ from
 * what is stored, so the stored inputs are loaded and just those fields
 * are set back, as what-if values (tidu_assess_input_set): nothing is
 * written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "tidu/alloc.h"
#include "tidu/clock.h"
#include "tidu/dict.h"
#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "tidu/parse.h"
#include "tidu/pool.h"
#include "tidu/record.h"
#include "tidu/rules.h"
#include "tidu/view.h"

#include "core/pool_int.h"

/* One field of one firm as the log has it. */
typedef struct {
	char *key;          /* a firm field, or YEAR.KEY */
	char *at_from;      /* its value at the start (NULL: none) */
	char *at_to;        /* its value at the end */
	int in_window;      /* written between the two */
	int after;          /* written after the end */
} field_state;

typedef struct {
	tidu_pool_review_row row;
	field_state *f;
	size_t nf, capf;
	int tier_seen;      /* the last list it was put on in the window */
	int64_t last_hlc;   /* the last change counted in row.nchanges */
} firm_acc;

typedef struct {
	firm_acc *v;
	size_t n;
	int64_t from_ms, to_ms;
} review_ctx;

static void row_clear(tidu_pool_review_row *r)
{
	size_t j;

	free(r->name);
	free(r->district);
	free(r->officer);
	free(r->left);
	free(r->left_reason);
	free(r->last_visit);
	for (j = 0; j < r->nchanged; j++)
		free(r->changed[j]);
	free(r->changed);
	memset(r, 0, sizeof(*r));
}

void tidu_pool_review_free(tidu_pool_review_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		row_clear(&v[i]);
	free(v);
}

static void acc_clear_fields(firm_acc *a)
{
	size_t i;

	for (i = 0; i < a->nf; i++) {
		free(a->f[i].key);
		free(a->f[i].at_from);
		free(a->f[i].at_to);
	}
	free(a->f);
	a->f = NULL;
	a->nf = a->capf = 0;
}

static int acc_cmp_key(const void *k, const void *e)
{
	return strncmp(k, ((const firm_acc *)e)->row.uscc, TIDU_USCC_LEN);
}

static field_state *state_of(firm_acc *a, const char *key)
{
	size_t i;

	for (i = 0; i < a->nf; i++)
		if (!strcmp(a->f[i].key, key))
			return &a->f[i];
	if (a->nf == a->capf) {
		a->capf = a->capf ? 2 * a->capf : 16;
		a->f = tidu_reallocarray(a->f, a->capf, sizeof(*a->f));
	}
	memset(&a->f[a->nf], 0, sizeof(a->f[a->nf]));
	a->f[a->nf].key = tidu_strdup(key);
	return &a->f[a->nf++];
}

static void set_text(char **slot, const char *v)
{
	free(*slot);
	*slot = pool_dup(v);
}

static int tier_of(const char *v)
{
	int64_t t;

	return v && tidu_parse_int64(v, &t) == 0 && t >= 1 && t <= 3 ? (int)t : 0;
}

/* One logged change of a firm or a firm-year: kept if it is a candidate's. */
static int review_change(review_ctx *c, const char *entity_year_key, const char *key,
			 int64_t hlc, int64_t wall, const char *fields)
{
	firm_acc *a;
	tidu_json *doc = NULL;
	const char *year = NULL;
	size_t i;

	if (!c->n || !key || strlen(key) < TIDU_USCC_LEN)
		return 0;
	if (entity_year_key) {
		if (key[TIDU_USCC_LEN] != '/')
			return 0;
		year = key + TIDU_USCC_LEN + 1;
	} else if (key[TIDU_USCC_LEN]) {
		return 0;
	}
	if (!(a = bsearch(key, c->v, c->n, sizeof(*c->v), acc_cmp_key)))
		return 0;
	if (!fields || tidu_json_parse(fields, strlen(fields), &doc) < 0) {
		tidu_error_clear();
		return 0; /* a change this tidu cannot read */
	}
	for (i = 0; i < tidu_json_count(doc); i++) {
		const tidu_json *fj = tidu_json_at(doc, i);
		const char *name = tidu_json_as_string(tidu_json_at(fj, 0));
		const char *value = tidu_json_as_string(tidu_json_at(fj, 1));
		field_state *st;
		char k[96];

		if (!name || name[0] == '_' || !strcmp(name, "uscc") || !strcmp(name, "year"))
			continue;
		if (year)
			snprintf(k, sizeof(k), "%.8s.%s", year, name);
		else
			snprintf(k, sizeof(k), "%s", name);
		st = state_of(a, k);
		if (wall < c->from_ms) {
			set_text(&st->at_from, value);
			set_text(&st->at_to, value);
		} else if (wall < c->to_ms) {
			set_text(&st->at_to, value);
			st->in_window = 1;
			if (a->last_hlc != hlc) {
				a->row.nchanges++;
				a->last_hlc = hlc;
			}
			if (!year && !strcmp(name, "reserve_tier") && value && *value)
				a->tier_seen = tier_of(value);
		} else {
			st->after = 1;
		}
	}
	tidu_json_free(doc);
	return 0;
}

static int firm_change(void *ctx, const char *key, int64_t hlc, int64_t wall, const char *fields)
{
	return review_change(ctx, NULL, key, hlc, wall, fields);
}

static int year_change(void *ctx, const char *key, int64_t hlc, int64_t wall, const char *fields)
{
	return review_change(ctx, "", key, hlc, wall, fields);
}

/* The firms that may belong to the review: on a list now, or taken off one. */
static int candidates(tidu_store *s, const tidu_pool_review_filter *f, review_ctx *c)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT uscc FROM firm WHERE _deleted=0 AND "
		"(coalesce(reserve_tier, '')<>'' OR coalesce(reserve_left, '')<>'') AND "
		"(?1 IS NULL OR district=?1) AND (?2 IS NULL OR officer=?2) ORDER BY uscc");
	size_t cap = 0;
	int rc;

	if (!st)
		return TIDU_ERROR;
	if (f->district)
		sqlite3_bind_text(st, 1, f->district, -1, SQLITE_STATIC);
	if (f->officer)
		sqlite3_bind_text(st, 2, f->officer, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (c->n == cap) {
			cap = cap ? 2 * cap : 64;
			c->v = tidu_reallocarray(c->v, cap, sizeof(*c->v));
		}
		memset(&c->v[c->n], 0, sizeof(c->v[c->n]));
		snprintf(c->v[c->n].row.uscc, sizeof(c->v[c->n].row.uscc), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		c->v[c->n].last_hlc = -1;
		c->n++;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("reading the reserve lists"));
}

/* The visits of the firm dated in [from, to). */
static int visits_in(tidu_store *s, tidu_pool_review_row *r, const char *from, const char *to)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT count(*), max(date) FROM visit WHERE uscc=?1 AND _deleted=0 AND "
		"date>=?2 AND date<?3");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, r->uscc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r->visits = sqlite3_column_int64(st, 0);
		r->last_visit = tidu_view_column_text(st, 1);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
		: tidu_store_sqlerr(s, rc, _("reading the visits"));
}

/* Sets the what-if values that take `in` back to a moment; `then`: the start. */
static void set_back(tidu_assess_input *in, const firm_acc *a, int then)
{
	size_t i;

	for (i = 0; i < a->nf; i++) {
		const field_state *st = &a->f[i];
		const char *v = then ? st->at_from : st->at_to;

		if (!(then ? st->in_window || st->after : st->after))
			continue;
		/* a value this dictionary no longer reads stays as stored */
		if (tidu_assess_input_set(in, st->key, v ? v : "") < 0)
			tidu_error_clear();
	}
}

static void readiness(const tidu_packs *set, const tidu_pack *pack, const tidu_assess_input *in,
		      int tier, tidu_pool_readiness *out)
{
	tidu_assessment *a = NULL;

	memset(out, 0, sizeof(*out));
	out->status = TIDU_ASSESS_INCOMPLETE;
	if (!pack || !tier || tidu_assess_run(set, pack, in, 0, tier, &a) < 0 || !a->ntiers) {
		tidu_error_clear();
		tidu_assessment_free(a);
		return;
	}
	out->status = a->tiers[0].status;
	out->scored = a->tiers[0].scored;
	out->score = a->tiers[0].score;
	out->pass_score = a->tiers[0].pass_score;
	out->failed = a->tiers[0].nfailed;
	out->missing = a->tiers[0].nmissing;
	tidu_assessment_free(a);
}

static const field_state *find_state(const firm_acc *a, const char *key)
{
	size_t i;

	for (i = 0; i < a->nf; i++)
		if (!strcmp(a->f[i].key, key))
			return &a->f[i];
	return NULL;
}

/* The firm's value of `key` at the start (`then`) or the end; NULL: none. */
static const char *value_at(const firm_acc *a, const tidu_rec *now, const char *key, int then)
{
	const field_state *st = find_state(a, key);

	if (!st || !(then ? st->in_window || st->after : st->after))
		return tidu_view_rec_get(now, key);
	return then ? st->at_from : st->at_to;
}

static int key_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

typedef struct {
	const tidu_packs *set;
	const tidu_pack *pack_then, *pack_now;
	const char *from_date, *to_date;
} moments;

/* Fills the row of `a` from the inputs; 1 if the firm belongs to the review. */
static int fill_row(tidu_store *s, const moments *m, firm_acc *a)
{
	tidu_pool_review_row *r = &a->row;
	tidu_assess_input *then = NULL, *now = NULL;
	const tidu_rec *firm;
	const char *left, *v;
	size_t i;
	int error;

	if ((error = tidu_assess_input_load(s, r->uscc, &then)) < 0 ||
	    (error = tidu_assess_input_load(s, r->uscc, &now)) < 0) {
		tidu_assess_input_free(then);
		return error;
	}
	firm = tidu_assess_input_firm(now);
	v = value_at(a, firm, "reserve_tier", 1);
	r->tier_then = tier_of(v);
	v = value_at(a, firm, "reserve_tier", 0);
	r->tier_now = tier_of(v);
	r->tier = r->tier_now ? r->tier_now : r->tier_then ? r->tier_then : a->tier_seen;
	if (!r->tier) {
		error = 0; /* on no list in the year */
		goto done;
	}
	r->name = pool_dup(tidu_view_rec_get(firm, "name"));
	r->district = pool_dup(tidu_view_rec_get(firm, "district"));
	r->officer = pool_dup(value_at(a, firm, "officer", 0));
	left = value_at(a, firm, "reserve_left", 0);
	if (left && strcmp(left, m->from_date) >= 0 && strcmp(left, m->to_date) < 0) {
		r->left = pool_dup(left);
		r->left_reason = pool_dup(value_at(a, firm, "reserve_left_reason", 0));
	}
	set_back(then, a, 1);
	set_back(now, a, 0);
	readiness(m->set, m->pack_then, then, r->tier, &r->then);
	readiness(m->set, m->pack_now, now, r->tier, &r->now);
	for (i = 0; i < a->nf; i++)
		if (a->f[i].in_window) {
			r->changed = tidu_reallocarray(r->changed, r->nchanged + 1, sizeof(*r->changed));
			r->changed[r->nchanged++] = tidu_strdup(a->f[i].key);
		}
	if (r->nchanged)
		qsort(r->changed, r->nchanged, sizeof(*r->changed), key_cmp);
	error = visits_in(s, r, m->from_date, m->to_date);
	if (error == 0)
		error = 1;
done:
	tidu_assess_input_free(then);
	tidu_assess_input_free(now);
	return error;
}

static int review_cmp(const void *x, const void *y)
{
	const tidu_pool_review_row *a = x, *b = y;
	int c;

	if (a->tier != b->tier)
		return b->tier - a->tier;
	if ((c = pool_status_rank(a->now.status) - pool_status_rank(b->now.status)))
		return c;
	if (a->now.failed != b->now.failed)
		return a->now.failed < b->now.failed ? -1 : 1;
	if (a->now.scored != b->now.scored)
		return b->now.scored - a->now.scored;
	if (a->now.score != b->now.score)
		return a->now.score > b->now.score ? -1 : 1;
	return strcmp(a->uscc, b->uscc);
}

int tidu_pool_review(tidu_store *s, const tidu_pool_review_filter *f,
		     tidu_pool_review_row **out, size_t *n)
{
	review_ctx c = {NULL, 0, 0, 0};
	tidu_packs *set = NULL;
	tidu_pool_review_row *rows = NULL;
	moments m;
	char from[24], to[24], today[11], last[24];
	int64_t now_ms;
	size_t i, nrows = 0;
	int error;

	*out = NULL;
	*n = 0;
	if (f->year < 2000 || f->year > 2100)
		return tidu_error_set(TIDU_EINVAL, _("invalid year '%d': use 2000 to 2100"), f->year);
	if (f->district && !tidu_dict_district_name(f->district))
		return tidu_error_set(TIDU_EINVAL, _("unknown district '%s'"), f->district);
	snprintf(from, sizeof(from), "%04d-01-01", f->year);
	snprintf(to, sizeof(to), "%04d-01-01", f->year + 1);
	if ((error = tidu_date_today(today)) < 0 ||
	    (error = tidu_date_start_ms(f->year, 1, 1, &c.from_ms)) < 0 ||
	    (error = tidu_date_start_ms(f->year + 1, 1, 1, &c.to_ms)) < 0)
		return error;
	now_ms = tidu_clock_now_ms();
	if (c.to_ms > now_ms)
		c.to_ms = now_ms + 1; /* the current year: "now" is now */
	snprintf(last, sizeof(last), "%04d-12-31", f->year);
	if ((error = candidates(s, f, &c)) < 0 ||
	    (error = tidu_record_log_each(s, TIDU_ENTITY_FIRM, firm_change, &c)) < 0 ||
	    (error = tidu_record_log_each(s, TIDU_ENTITY_FIRM_YEAR, year_change, &c)) < 0 ||
	    (error = tidu_rules_load(s, &set)) < 0)
		goto done;
	m.set = set;
	m.pack_then = tidu_packs_in_force(set, from);
	m.pack_now = tidu_packs_in_force(set, strcmp(today, last) < 0 ? today : last);
	m.from_date = from;
	m.to_date = to;
	rows = tidu_reallocarray(NULL, c.n ? c.n : 1, sizeof(*rows));
	for (i = 0; i < c.n; i++) {
		int in;

		tidu_store_progress(s, _("Reviewing the reserve firms"), i, c.n);
		in = error < 0 ? error : fill_row(s, &m, &c.v[i]);

		acc_clear_fields(&c.v[i]);
		if (in == 1)
			rows[nrows++] = c.v[i].row;
		else
			row_clear(&c.v[i].row);
		if (in < 0)
			error = in;
	}
	tidu_store_progress_end(s);
	if (error < 0)
		goto done;
	if (nrows)
		qsort(rows, nrows, sizeof(*rows), review_cmp);
	*out = rows;
	*n = nrows;
	rows = NULL;
	nrows = 0;
done:
	if (error < 0)
		for (i = 0; i < c.n; i++)
			acc_clear_fields(&c.v[i]);
	free(c.v);
	tidu_packs_free(set);
	tidu_pool_review_free(rows, nrows);
	return error < 0 ? error : 0;
}
