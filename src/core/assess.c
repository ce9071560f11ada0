/*
 * Evaluating a rule pack (docs/assess.md). Values are numbers, strings or
 * "missing"; logic is three-valued (Kleene): `a or b` holds when either
 * holds even if the other is missing, fails when both fail, and is missing
 * otherwise. A missing input is named in the tier's list whenever a part of
 * the assessment could not be decided without it; a part that came out
 * certain names nothing. Points are a range [sure, at most] so that a
 * score can pass or fail with inputs missing when the rest decides it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assess_int.h"
#include "tidu/alloc.h"
#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/parse.h"

/* ------------------------------------------------------------- inputs */

struct tidu_assess_input {
	tidu_rec firm;
	tidu_rec *years;
	size_t nyears;
	char **okey, **oval; /* what-if values: "ip_class1" or "2025.rd_expense"; NULL value: unset */
	size_t nover;
};

tidu_assess_input *tidu_assess_input_take(tidu_rec *firm, tidu_rec *years, size_t nyears)
{
	tidu_assess_input *in = tidu_calloc(1, sizeof(*in));

	in->firm = *firm;
	memset(firm, 0, sizeof(*firm));
	in->years = years;
	in->nyears = nyears;
	return in;
}

void tidu_assess_input_free(tidu_assess_input *in)
{
	size_t i;

	if (!in)
		return;
	tidu_view_rec_clear(&in->firm);
	for (i = 0; i < in->nyears; i++)
		tidu_view_rec_clear(&in->years[i]);
	free(in->years);
	for (i = 0; i < in->nover; i++) {
		free(in->okey[i]);
		free(in->oval[i]);
	}
	free(in->okey);
	free(in->oval);
	free(in);
}

int tidu_assess_input_load(tidu_store *s, const char *uscc, tidu_assess_input **out)
{
	tidu_query_filter filter = {uscc, NULL, NULL, TIDU_ORDER_KEY};
	tidu_rec firm = TIDU_REC_INIT, *years = NULL;
	tidu_query *q = NULL;
	size_t n = 0;
	int error, rc;

	if ((error = tidu_view_rec_load(s, TIDU_ENTITY_FIRM, uscc, &firm)) < 0) {
		if (error == TIDU_ENOTFOUND)
			tidu_error_set(TIDU_ENOTFOUND, _("firm '%s' is not in the store"), uscc);
		return error;
	}
	if ((error = tidu_view_query_open(s, TIDU_ENTITY_FIRM_YEAR, &filter, &q)) < 0)
		goto fail;
	for (;;) {
		tidu_rec y = TIDU_REC_INIT;

		if ((rc = tidu_view_query_next(q, &y)) <= 0) {
			error = rc;
			break;
		}
		years = tidu_reallocarray(years, n + 1, sizeof(*years));
		years[n++] = y;
	}
	tidu_view_query_free(q);
	if (error < 0)
		goto fail;
	*out = tidu_assess_input_take(&firm, years, n);
	return 0;
fail:
	tidu_view_rec_clear(&firm);
	while (n)
		tidu_view_rec_clear(&years[--n]);
	free(years);
	return error;
}

/* "2025.revenue" → 2025 and "revenue"; 0 when `key` has no year prefix. */
static int key_year(const char *key, const char **field)
{
	size_t d = strspn(key, "0123456789");
	int y = 0;
	size_t i;

	if (d != 4 || key[4] != '.')
		return 0;
	for (i = 0; i < 4; i++)
		y = y * 10 + (key[i] - '0');
	*field = key + 5;
	return y;
}

int tidu_assess_input_set(tidu_assess_input *in, const char *key, const char *value)
{
	const char *name = key;
	int year = key_year(key, &name);
	const tidu_field *f = tidu_dict_lookup(year ? TIDU_ENTITY_FIRM_YEAR : TIDU_ENTITY_FIRM, name);
	tidu_buf canon = TIDU_BUF_INIT, k = TIDU_BUF_INIT;
	size_t i;
	int error;

	if (year && (year < 1949 || year > 2100))
		return tidu_error_set(TIDU_EINVAL, _("invalid year in '%s': use 1949 to 2100"), key);
	if (!f || !strcmp(f->key, "uscc"))
		return tidu_error_set(TIDU_EINVAL,
			_("unknown field '%s': a firm field, or YEAR.KEY for a yearly figure"), key);
	if (*value && (error = tidu_dict_canonical(f, value, &canon)) < 0) {
		tidu_buf_free(&canon);
		return error;
	}
	if (year)
		tidu_buf_printf(&k, "%d.%s", year, f->key);
	else
		tidu_buf_puts(&k, f->key);
	for (i = 0; i < in->nover && strcmp(in->okey[i], k.ptr) != 0; i++)
		;
	if (i == in->nover) {
		in->okey = tidu_reallocarray(in->okey, in->nover + 1, sizeof(*in->okey));
		in->oval = tidu_reallocarray(in->oval, in->nover + 1, sizeof(*in->oval));
		in->okey[i] = tidu_buf_detach(&k);
		in->oval[i] = NULL;
		in->nover++;
	} else {
		tidu_buf_free(&k);
	}
	free(in->oval[i]);
	in->oval[i] = *value ? tidu_buf_detach(&canon) : NULL;
	tidu_buf_free(&canon);
	return 0;
}

/* The record of the firm (year 0) or of its yearly figures of `year`, or NULL. */
static const tidu_rec *input_rec(const tidu_assess_input *in, int year)
{
	size_t i;

	if (!year)
		return &in->firm;
	for (i = 0; i < in->nyears; i++)
		if (in->years[i].year == year)
			return &in->years[i];
	return NULL;
}

/*
 * The canonical text of a firm field, or of a yearly figure of `year`;
 * NULL: unset. With `number`, also what the stored value reads as when the
 * record kept it (NaN otherwise, and for what-if values): the text need
 * not be parsed again.
 */
static const char *input_get_num(const tidu_assess_input *in, const tidu_field *f, int year,
				 double *number)
{
	const tidu_rec *r;
	char key[96];
	size_t i;
	long k;

	if (number)
		*number = NAN;
	if (in->nover) {
		if (year)
			snprintf(key, sizeof(key), "%d.%s", year, f->key);
		else
			snprintf(key, sizeof(key), "%s", f->key);
		for (i = 0; i < in->nover; i++)
			if (!strcmp(in->okey[i], key))
				return in->oval[i];
	}
	if (!(r = input_rec(in, year)) || (k = tidu_view_rec_find(r, f)) < 0)
		return NULL;
	if (number && r->numbers)
		*number = r->numbers[k];
	return r->values[k];
}

static const char *input_get(const tidu_assess_input *in, const tidu_field *f, int year)
{
	return input_get_num(in, f, year, NULL);
}

int tidu_assess_has_year(const tidu_assess_input *in, int year)
{
	char prefix[8];
	size_t i, j;

	for (i = 0; i < in->nyears; i++)
		if (in->years[i].year == year)
			for (j = 0; j < in->years[i].n; j++)
				if (in->years[i].values[j])
					return 1;
	snprintf(prefix, sizeof(prefix), "%d.", year);
	for (i = 0; i < in->nover; i++)
		if (in->oval[i] && !strncmp(in->okey[i], prefix, 5))
			return 1;
	return 0;
}

int tidu_assess_default_year(const tidu_assess_input *in)
{
	const tidu_field *rev = tidu_dict_field(TIDU_ENTITY_FIRM_YEAR, "revenue");
	int best = 0, y;
	size_t i;

	for (i = 0; i < in->nyears; i++) {
		y = (int)in->years[i].year;
		if (y > best && input_get(in, rev, y))
			best = y;
	}
	for (i = 0; i < in->nover; i++) {
		const char *name = "";

		if ((y = key_year(in->okey[i], &name)) > best && !strcmp(name, "revenue") &&
		    in->oval[i])
			best = y;
	}
	return best;
}

/* --------------------------------------------------------- evaluation */

enum { V_MISS, V_NUM, V_STR };

typedef struct {
	int k;
	double n;
	const char *s;
} val;

/* Three-valued truth: 1 holds, 0 fails, -1 missing. */
#define T3_TRUE 1
#define T3_FALSE 0
#define T3_MISS (-1)

typedef struct {
	const tidu_pack *pack; /* whose lets the expressions use */
	const tidu_assess_input *in;
	int year;
	char **miss;           /* the tier's missing inputs (unsorted, unique) */
	size_t nmiss;
} ev;

static const val MISS = {V_MISS, 0, NULL};

static val num(double n)
{
	val v = {V_NUM, n, NULL};

	return isfinite(n) ? v : MISS;
}

static void note_missing(ev *e, const tidu_field *f, int yoff, int yearly)
{
	char name[96];
	size_t i;

	if (!yearly)
		snprintf(name, sizeof(name), "%s", f->key);
	else if (e->year)
		snprintf(name, sizeof(name), "%d.%s", e->year + yoff, f->key);
	else
		snprintf(name, sizeof(name), "YEAR.%s", f->key);
	for (i = 0; i < e->nmiss; i++)
		if (!strcmp(e->miss[i], name))
			return;
	e->miss = tidu_reallocarray(e->miss, e->nmiss + 1, sizeof(*e->miss));
	e->miss[e->nmiss++] = tidu_strdup(name);
}

/* Forgets the missing inputs noted since `mark` (the part came out certain). */
static void drop_missing(ev *e, size_t mark)
{
	while (e->nmiss > mark)
		free(e->miss[--e->nmiss]);
}

static val field_value(ev *e, const tidu_field *f, int yoff, int yearly)
{
	const char *t;
	double d;

	if (yearly && !e->year) {
		note_missing(e, f, yoff, 1);
		return MISS;
	}
	t = input_get_num(e->in, f, yearly ? e->year + yoff : 0, &d);
	if (!t) {
		note_missing(e, f, yoff, yearly);
		return MISS;
	}
	switch (f->type) {
	case TIDU_T_INT:
	case TIDU_T_REAL:
	case TIDU_T_BOOL:
		if (isnan(d) && tidu_parse_number(t, &d, NULL) < 0) {
			tidu_error_clear();
			note_missing(e, f, yoff, yearly);
			return MISS;
		}
		return num(d);
	default: {
		val v = {V_STR, 0, t};

		return v;
	}
	}
}

static int truth(val v)
{
	if (v.k == V_MISS)
		return T3_MISS;
	return v.k == V_NUM ? v.n != 0 : v.s[0] != '\0';
}

static val boolv(int t)
{
	return t == T3_MISS ? MISS : num(t);
}

static val eval(ev *e, const x_node *n);

static int compare(int op, val a, val b)
{
	if (a.k == V_MISS || b.k == V_MISS)
		return T3_MISS;
	if (a.k != b.k)
		return op == OP_NE;
	if (a.k == V_STR) {
		int c = strcmp(a.s, b.s);

		return op == OP_EQ ? c == 0 : op == OP_NE ? c != 0 : 0;
	}
	switch (op) {
	case OP_GE: return a.n >= b.n;
	case OP_GT: return a.n > b.n;
	case OP_LE: return a.n <= b.n;
	case OP_LT: return a.n < b.n;
	case OP_EQ: return a.n == b.n;
	default: return a.n != b.n;
	}
}

static val eval_bin(ev *e, const x_node *n)
{
	val a, b;
	int ta, tb;

	if (n->op == OP_AND || n->op == OP_OR) {
		ta = truth(eval(e, n->args[0]));
		tb = truth(eval(e, n->args[1]));
		if (n->op == OP_AND)
			return boolv(ta == T3_FALSE || tb == T3_FALSE ? T3_FALSE
				     : ta == T3_TRUE && tb == T3_TRUE ? T3_TRUE : T3_MISS);
		return boolv(ta == T3_TRUE || tb == T3_TRUE ? T3_TRUE
			     : ta == T3_FALSE && tb == T3_FALSE ? T3_FALSE : T3_MISS);
	}
	a = eval(e, n->args[0]);
	b = eval(e, n->args[1]);
	if (n->op >= OP_GE)
		return boolv(compare(n->op, a, b));
	if (a.k != V_NUM || b.k != V_NUM)
		return MISS;
	switch (n->op) {
	case OP_ADD: return num(a.n + b.n);
	case OP_SUB: return num(a.n - b.n);
	case OP_MUL: return num(a.n * b.n);
	default: return b.n == 0 ? MISS : num(a.n / b.n);
	}
}

static val eval_call(ev *e, const x_node *n)
{
	val v[X_MAX_ARGS] = {{V_MISS, 0, NULL}}, r;
	size_t i, k = n->nargs;
	int t, known;

	if (n->fn == F_IF) {
		t = truth(eval(e, n->args[0]));
		if (t != T3_MISS)
			return eval(e, n->args[t ? 1 : 2]);
		v[0] = eval(e, n->args[1]);
		v[1] = eval(e, n->args[2]);
		return v[0].k == V_NUM && v[1].k == V_NUM && v[0].n == v[1].n ? v[0] : MISS;
	}
	if (n->fn == F_COUNT) {
		double c = 0;

		known = 1;
		for (i = 0; i < k; i++) {
			t = truth(eval(e, n->args[i]));
			if (t == T3_MISS)
				known = 0;
			else
				c += t;
		}
		return known ? num(c) : MISS;
	}
	if (n->fn == F_IN) {
		r = eval(e, n->args[0]);
		if (r.k == V_MISS)
			return MISS;
		for (i = 1; i < k; i++)
			if (compare(OP_EQ, r, eval(e, n->args[i])) == T3_TRUE)
				return num(1);
		return num(0);
	}
	/* The rest are numeric and missing when any argument is. */
	known = 1;
	for (i = 0; i < k; i++) {
		v[i] = eval(e, n->args[i]); /* k <= X_MAX_ARGS: checked at load */
		if (v[i].k != V_NUM)
			known = 0;
	}
	if (!known)
		return MISS;
	switch (n->fn) {
	case F_PCT:
		return v[1].n == 0 ? MISS : num(100 * v[0].n / v[1].n);
	case F_GROWTH: /* from v[1] (the earlier year) to v[0] */
		return v[1].n <= 0 ? MISS : num(100 * (v[0].n - v[1].n) / v[1].n);
	case F_CAGR:
		if (v[1].n <= 0 || v[0].n < 0 || v[2].n <= 0)
			return MISS;
		return num(100 * (pow(v[0].n / v[1].n, 1 / v[2].n) - 1));
	case F_AVG: {
		double s = 0;

		for (i = 0; i < k; i++)
			s += v[i].n;
		return num(s / (double)k);
	}
	case F_MIN:
	case F_MAX: {
		double m = v[0].n;

		for (i = 1; i < k; i++)
			m = n->fn == F_MIN ? fmin(m, v[i].n) : fmax(m, v[i].n);
		return num(m);
	}
	case F_FLOOR:
		return num(floor(v[0].n));
	default:
		return MISS;
	}
}

static val eval(ev *e, const x_node *n)
{
	switch (n->kind) {
	case X_NUM:
		return num(n->num);
	case X_STR: {
		val v = {V_STR, 0, n->str};

		return v;
	}
	case X_FIELD:
		return field_value(e, n->field, 0, 0);
	case X_YFIELD:
		return field_value(e, n->field, n->yoff, 1);
	case X_YEAR:
		return e->year ? num(e->year) : MISS;
	case X_LET:
		return eval(e, e->pack->lets[n->let].expr);
	case X_NEG: {
		val a = eval(e, n->args[0]);

		return a.k == V_NUM ? num(-a.n) : MISS;
	}
	case X_NOT: {
		int t = truth(eval(e, n->args[0]));

		return boolv(t == T3_MISS ? T3_MISS : !t);
	}
	case X_BIN:
		return eval_bin(e, n);
	case X_CALL:
		return eval_call(e, n);
	}
	return MISS;
}

/* Evaluates a condition; missing inputs stay noted only when it is undecided. */
static int eval_truth(ev *e, const x_node *n)
{
	size_t mark = e->nmiss;
	int t = truth(eval(e, n));

	if (t != T3_MISS)
		drop_missing(e, mark);
	return t;
}

static const char *op_text(int op)
{
	switch (op) {
	case OP_GE: return ">=";
	case OP_GT: return ">";
	case OP_LE: return "<=";
	case OP_LT: return "<";
	case OP_EQ: return "==";
	default: return "!=";
	}
}

/* Says why a failed test failed: the comparison that did, value against threshold. */
static void explain(ev *e, const x_node *n, tidu_assess_failed *f)
{
	size_t mark = e->nmiss;

	while (n) {
		if (n->kind == X_LET) {
			n = e->pack->lets[n->let].expr;
		} else if (n->kind == X_BIN && n->op == OP_AND) {
			n = truth(eval(e, n->args[0])) == T3_FALSE ? n->args[0] : n->args[1];
		} else if (n->kind == X_BIN && n->op == OP_OR) {
			n = n->args[0];
		} else if (n->kind == X_CALL && n->fn == F_IF) {
			int t = truth(eval(e, n->args[0]));

			n = t == T3_MISS ? NULL : n->args[t ? 1 : 2];
		} else {
			break;
		}
	}
	if (n && n->kind == X_BIN && n->op >= OP_GE && n->op <= OP_NE) {
		val a = eval(e, n->args[0]), b = eval(e, n->args[1]);

		f->op = op_text(n->op);
		if (a.k == V_NUM) {
			f->has_value = 1;
			f->value = a.n;
		} else if (a.k == V_STR) {
			f->text = a.s;
		}
		if (b.k == V_NUM) {
			f->has_threshold = 1;
			f->threshold = b.n;
		}
	} else if (n && n->kind == X_CALL && n->fn == F_IN) {
		val a = eval(e, n->args[0]);

		if (a.k == V_STR)
			f->text = a.s;
	} else if (n) {
		val a = eval(e, n);

		if (a.k == V_NUM) {
			f->has_value = 1;
			f->value = a.n;
		}
	}
	drop_missing(e, mark);
}

/* ------------------------------------------------------------- tiers */

static int band_holds(const p_band *b, double v)
{
	return compare(b->op, num(v), num(b->bound)) == T3_TRUE;
}

static void eval_indicator(ev *e, const p_ind *d, tidu_assess_indicator *out)
{
	size_t mark = e->nmiss, i;
	double lo = d->else_points, hi = d->else_points, unknown_hi = -1;
	int known = 1;

	memset(out, 0, sizeof(*out));
	out->id = d->id;
	out->category = d->category;
	out->label = tidu_assess_label(d->zh, d->en);
	out->unit = d->unit;
	out->max = d->max;
	if (d->kind == IND_POINTS) {
		val v = eval(e, d->value);

		if (v.k == V_NUM) {
			lo = hi = fmin(fmax(v.n, 0), d->max);
			out->has_value = 1;
			out->value = v.n;
		} else {
			lo = 0;
			hi = d->max;
			known = 0;
		}
	} else if (d->kind == IND_BANDS) {
		val v = eval(e, d->value);

		if (v.k != V_NUM) {
			known = 0;
			lo = d->else_points;
			hi = lo;
			for (i = 0; i < d->nbands; i++) {
				lo = fmin(lo, d->bands[i].points);
				hi = fmax(hi, d->bands[i].points);
			}
		} else {
			out->has_value = 1;
			out->value = v.n;
			for (i = 0; i < d->nbands && !band_holds(&d->bands[i], v.n); i++)
				;
			lo = hi = i < d->nbands ? d->bands[i].points : d->else_points;
			/* The next band: the one above, if it gives more. */
			while (i > 0 && d->bands[i - 1].points <= lo)
				i--;
			if (i > 0) {
				out->next.has = out->next.has_value = 1;
				out->next.value = d->bands[i - 1].bound;
				out->next.op = op_text(d->bands[i - 1].op);
				out->next.points = d->bands[i - 1].points;
			}
		}
	} else {
		for (i = 0; i < d->nbands; i++) {
			int t = truth(eval(e, d->bands[i].cond));

			if (t == T3_TRUE)
				break;
			if (t == T3_MISS)
				unknown_hi = fmax(unknown_hi, d->bands[i].points);
		}
		lo = i < d->nbands ? d->bands[i].points : d->else_points;
		hi = fmax(lo, unknown_hi);
		known = hi == lo;
		if (known) {
			while (i > 0 && d->bands[i - 1].points <= lo)
				i--;
			if (i > 0) {
				out->next.has = 1;
				out->next.condition = d->bands[i - 1].text;
				out->next.points = d->bands[i - 1].points;
			}
		}
	}
	out->known = known && lo == hi;
	out->points = lo;
	out->points_max = hi;
	if (out->known)
		drop_missing(e, mark);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void push_failed(tidu_assess_tier *t, const tidu_assess_failed *f)
{
	t->failed = tidu_reallocarray(t->failed, t->nfailed + 1, sizeof(*t->failed));
	t->failed[t->nfailed++] = *f;
}

static int t3_and(int a, int b)
{
	return a == T3_FALSE || b == T3_FALSE ? T3_FALSE : a == T3_TRUE && b == T3_TRUE ? T3_TRUE
										   : T3_MISS;
}

static void eval_tier(const tidu_packs *set, const tidu_pack *pack, int k, ev *e,
		      tidu_assess_tier *out)
{
	const p_tier *decl = &pack->tiers[k - 1], *t = decl;
	const tidu_pack *owner = pack;
	int all = T3_TRUE, path = T3_TRUE, judged = T3_TRUE;
	size_t i, j;

	if (decl->from && (owner = tidu_packs_find(set, decl->from)))
		t = &owner->tiers[k - 1];
	else
		owner = pack;
	e->pack = owner;
	e->miss = NULL;
	e->nmiss = 0;
	memset(out, 0, sizeof(*out));
	out->tier = k;
	out->label = tidu_assess_label(decl->zh, decl->en);
	out->rules = owner->id;

	for (i = 0; i < t->nreqs; i++) {
		const p_cond *c = &t->reqs[i];
		int r = eval_truth(e, c->test);

		if (r != T3_TRUE && c->exempt) {
			int x = eval_truth(e, c->exempt);

			if (x == T3_TRUE) {
				out->exempt = tidu_reallocarray(out->exempt, out->nexempt + 1,
								sizeof(*out->exempt));
				out->exempt[out->nexempt++] = c->id;
				r = T3_TRUE;
			} else if (x == T3_MISS && r == T3_FALSE) {
				r = T3_MISS;
			}
		}
		if (r == T3_FALSE) {
			tidu_assess_failed f = {0};

			f.id = c->id;
			f.label = tidu_assess_label(c->zh, c->en);
			explain(e, c->test, &f);
			push_failed(out, &f);
		}
		all = t3_and(all, r);
	}

	if (t->has_score) {
		int score_ok, direct = T3_FALSE;
		size_t direct_mark;

		out->scored = 1;
		out->pass_score = t->pass_score;
		out->ncategories = t->ncats;
		out->categories = tidu_calloc(t->ncats ? t->ncats : 1, sizeof(*out->categories));
		for (i = 0; i < t->ncats; i++) {
			out->categories[i].id = t->cats[i].id;
			out->categories[i].label = tidu_assess_label(t->cats[i].zh, t->cats[i].en);
			out->categories[i].floor = t->cats[i].floor;
		}
		out->nindicators = t->ninds;
		out->indicators = tidu_calloc(t->ninds, sizeof(*out->indicators));
		for (i = 0; i < t->ninds; i++) {
			tidu_assess_indicator *d = &out->indicators[i];

			eval_indicator(e, &t->inds[i], d);
			out->score += d->points;
			out->score_max += d->points_max;
			out->max += d->max;
			for (j = 0; j < t->ncats; j++)
				if (!strcmp(t->cats[j].id, d->category)) {
					out->categories[j].points += d->points;
					out->categories[j].points_max += d->points_max;
					out->categories[j].max += d->max;
				}
		}
		score_ok = out->score >= t->pass_score ? T3_TRUE
			 : out->score_max < t->pass_score ? T3_FALSE : T3_MISS;
		for (j = 0; j < t->ncats; j++) {
			const tidu_assess_category *c = &out->categories[j];
			int ok = c->points >= c->floor ? T3_TRUE
			       : c->points_max < c->floor ? T3_FALSE : T3_MISS;

			score_ok = t3_and(score_ok, ok);
		}
		/* Once the score passes, what a direct condition lacks does not matter. */
		direct_mark = e->nmiss;
		for (i = 0; i < t->ndirects; i++) {
			int r = eval_truth(e, t->directs[i].test);

			if (r == T3_TRUE) {
				out->direct = tidu_reallocarray(out->direct, out->ndirect + 1,
								sizeof(*out->direct));
				out->direct_labels = tidu_reallocarray(out->direct_labels,
					out->ndirect + 1, sizeof(*out->direct_labels));
				out->direct[out->ndirect] = t->directs[i].id;
				out->direct_labels[out->ndirect++] =
					tidu_assess_label(t->directs[i].zh, t->directs[i].en);
				direct = T3_TRUE;
			} else if (r == T3_MISS && direct == T3_FALSE) {
				direct = T3_MISS;
			}
		}
		if (score_ok == T3_TRUE)
			drop_missing(e, direct_mark);
		path = score_ok == T3_TRUE || direct == T3_TRUE ? T3_TRUE
		     : score_ok == T3_FALSE && direct == T3_FALSE ? T3_FALSE : T3_MISS;
		if (path == T3_FALSE) {
			/* What lost it: the score, and each category under its floor. */
			tidu_assess_failed f = {0};

			if (out->score_max < t->pass_score) {
				f.id = "score";
				f.label = _("total score");
				f.has_value = f.has_threshold = 1;
				f.value = out->score;
				f.threshold = t->pass_score;
				f.op = ">=";
				push_failed(out, &f);
			}
			for (j = 0; j < t->ncats; j++) {
				const tidu_assess_category *c = &out->categories[j];

				if (c->points_max >= c->floor)
					continue;
				memset(&f, 0, sizeof(f));
				f.id = c->id;
				f.label = c->label;
				f.has_value = f.has_threshold = 1;
				f.value = c->points;
				f.threshold = c->floor;
				f.op = ">=";
				push_failed(out, &f);
			}
		}
	}
	all = t3_and(all, path);

	for (i = 0; i < t->njudges; i++) {
		const p_judge *jd = &t->judges[i];
		const char *v = input_get(e->in, jd->field, 0);

		if (!v) {
			out->judgement = tidu_reallocarray(out->judgement, out->njudgement + 1,
							   sizeof(*out->judgement));
			out->judgement[out->njudgement].id = jd->id;
			out->judgement[out->njudgement].field = jd->field->key;
			out->judgement[out->njudgement++].question = tidu_assess_label(jd->zh, jd->en);
			if (judged == T3_TRUE)
				judged = T3_MISS;
		} else if (!strcmp(v, "0")) {
			tidu_assess_failed f = {0};

			f.id = jd->field->key;
			f.label = tidu_assess_label(jd->zh, jd->en);
			f.text = "no";
			push_failed(out, &f);
			judged = T3_FALSE;
		}
	}
	if (all == T3_FALSE || judged == T3_FALSE)
		out->status = TIDU_ASSESS_FAIL;
	else if (all == T3_MISS)
		out->status = TIDU_ASSESS_INCOMPLETE;
	else if (judged == T3_MISS)
		out->status = TIDU_ASSESS_UNDECIDED;
	else
		out->status = TIDU_ASSESS_PASS;
	if (e->nmiss)
		qsort(e->miss, e->nmiss, sizeof(*e->miss), name_cmp);
	out->missing = e->miss;
	out->nmissing = e->nmiss;
	e->miss = NULL;
	e->nmiss = 0;
}

int tidu_assess_run(const tidu_packs *set, const tidu_pack *pack,
		    const tidu_assess_input *in, int year, int tier,
		    tidu_assessment **out)
{
	tidu_assessment *a;
	ev e = {0};
	int k;

	if (tier < 0 || tier > 3)
		return tidu_error_set(TIDU_EINVAL, _("invalid tier '%d': use 1, 2 or 3"), tier);
	a = tidu_calloc(1, sizeof(*a));
	a->pack = pack;
	a->year_default = year == 0;
	a->year = year ? year : tidu_assess_default_year(in);
	a->tiers = tidu_calloc(3, sizeof(*a->tiers));
	e.in = in;
	e.year = a->year;
	for (k = 1; k <= 3; k++)
		if (pack->tiers[k - 1].present && (!tier || tier == k))
			eval_tier(set, pack, k, &e, &a->tiers[a->ntiers++]);
	*out = a;
	return 0;
}

void tidu_assessment_free(tidu_assessment *a)
{
	size_t i, j;

	if (!a)
		return;
	for (i = 0; i < a->ntiers; i++) {
		tidu_assess_tier *t = &a->tiers[i];

		free(t->categories);
		free(t->indicators);
		free(t->failed);
		free(t->direct);
		free(t->direct_labels);
		free(t->exempt);
		free(t->judgement);
		for (j = 0; j < t->nmissing; j++)
			free(t->missing[j]);
		free(t->missing);
	}
	free(a->tiers);
	free(a);
}

const char *tidu_assess_status_label(tidu_assess_status st)
{
	switch (st) {
	case TIDU_ASSESS_PASS: return _("pass");
	case TIDU_ASSESS_FAIL: return _("fail");
	case TIDU_ASSESS_UNDECIDED: return _("undecided (a judgement item is unanswered)");
	default: return _("incomplete (inputs are missing)");
	}
}

const char *tidu_assess_status_short(tidu_assess_status st)
{
	switch (st) {
	case TIDU_ASSESS_PASS: return _("pass");
	case TIDU_ASSESS_FAIL: return _("fail");
	case TIDU_ASSESS_UNDECIDED: return _("undecided");
	default: return _("incomplete");
	}
}

void tidu_assess_format(tidu_buf *out, double v)
{
	if (!isfinite(v)) {
		tidu_buf_puts(out, "—");
		return;
	}
	tidu_format_number(out, round(v * 100) / 100);
}

const char *tidu_assess_status_name(tidu_assess_status st)
{
	switch (st) {
	case TIDU_ASSESS_PASS: return "pass";
	case TIDU_ASSESS_FAIL: return "fail";
	case TIDU_ASSESS_UNDECIDED: return "undecided";
	default: return "incomplete";
	}
}

/* ------------------------------------------------------------- JSON */

/*
 * The keys are constants of the program: TIDU_JSON_KEY copies them as they
 * are, instead of checking and escaping each again for every firm.
 */

/* Numbers rounded to 4 decimals: a ratio of 3.4 is printed 3.4, not 3.4000000001. */
static int write_num(tidu_json_writer *w, double v)
{
	return tidu_json_write_double(w, round(v * 10000) / 10000);
}

/* An array of strings. */
static int write_strings(tidu_json_writer *w, const char *const *s, size_t n)
{
	size_t i;
	int error = tidu_json_begin_array(w);

	for (i = 0; i < n && !error; i++)
		error = tidu_json_write_string(w, s[i]);
	return error ? error : tidu_json_end_array(w);
}

static int write_indicator(tidu_json_writer *w, const tidu_assess_indicator *d)
{
	int error = 0;

	error |= tidu_json_begin_object(w);
	error |= TIDU_JSON_KEY(w, "id");
	error |= tidu_json_write_string(w, d->id);
	error |= TIDU_JSON_KEY(w, "category");
	error |= tidu_json_write_string(w, d->category);
	error |= TIDU_JSON_KEY(w, "label");
	error |= tidu_json_write_string(w, d->label);
	error |= TIDU_JSON_KEY(w, "points");
	error |= d->known ? write_num(w, d->points) : tidu_json_write_null(w);
	if (!d->known) {
		error |= TIDU_JSON_KEY(w, "points_max");
		error |= write_num(w, d->points_max);
	}
	error |= TIDU_JSON_KEY(w, "max");
	error |= write_num(w, d->max);
	error |= TIDU_JSON_KEY(w, "value");
	error |= d->has_value ? write_num(w, d->value) : tidu_json_write_null(w);
	if (d->unit) {
		error |= TIDU_JSON_KEY(w, "unit");
		error |= tidu_json_write_string(w, d->unit);
	}
	error |= TIDU_JSON_KEY(w, "next");
	if (!d->next.has) {
		error |= tidu_json_write_null(w);
	} else {
		error |= tidu_json_begin_object(w);
		if (d->next.has_value) {
			error |= TIDU_JSON_KEY(w, "value");
			error |= write_num(w, d->next.value);
			error |= TIDU_JSON_KEY(w, "op");
			error |= tidu_json_write_string(w, d->next.op);
		} else {
			error |= TIDU_JSON_KEY(w, "condition");
			error |= tidu_json_write_string(w, d->next.condition);
		}
		error |= TIDU_JSON_KEY(w, "points");
		error |= write_num(w, d->next.points);
		error |= tidu_json_end_object(w);
	}
	error |= tidu_json_end_object(w);
	return error ? TIDU_EINVAL : 0;
}

static int write_failed(tidu_json_writer *w, const tidu_assess_failed *f)
{
	int error = 0;

	error |= tidu_json_begin_object(w);
	error |= TIDU_JSON_KEY(w, "id");
	error |= tidu_json_write_string(w, f->id);
	error |= TIDU_JSON_KEY(w, "label");
	error |= tidu_json_write_string(w, f->label);
	error |= TIDU_JSON_KEY(w, "value");
	error |= f->has_value ? write_num(w, f->value)
	       : f->text ? tidu_json_write_string(w, f->text) : tidu_json_write_null(w);
	if (f->op) {
		error |= TIDU_JSON_KEY(w, "op");
		error |= tidu_json_write_string(w, f->op);
	}
	error |= TIDU_JSON_KEY(w, "threshold");
	error |= f->has_threshold ? write_num(w, f->threshold) : tidu_json_write_null(w);
	error |= tidu_json_end_object(w);
	return error ? TIDU_EINVAL : 0;
}

static int write_tier(tidu_json_writer *w, const tidu_assess_tier *t)
{
	size_t i;
	int error = 0;

	error |= tidu_json_begin_object(w);
	error |= TIDU_JSON_KEY(w, "tier");
	error |= tidu_json_write_int64(w, t->tier);
	error |= TIDU_JSON_KEY(w, "name");
	error |= tidu_json_write_string(w, t->label);
	error |= TIDU_JSON_KEY(w, "table");
	error |= tidu_json_write_string(w, t->rules);
	error |= TIDU_JSON_KEY(w, "status");
	error |= tidu_json_write_string(w, tidu_assess_status_name(t->status));
	error |= TIDU_JSON_KEY(w, "score");
	error |= t->scored ? write_num(w, t->score) : tidu_json_write_null(w);
	if (t->scored) {
		error |= TIDU_JSON_KEY(w, "score_max");
		error |= write_num(w, t->score_max);
		error |= TIDU_JSON_KEY(w, "max");
		error |= write_num(w, t->max);
		error |= TIDU_JSON_KEY(w, "pass_score");
		error |= write_num(w, t->pass_score);
		error |= TIDU_JSON_KEY(w, "categories");
		error |= tidu_json_begin_object(w);
		for (i = 0; i < t->ncategories; i++) {
			error |= tidu_json_write_key(w, t->categories[i].id);
			error |= write_num(w, t->categories[i].points);
		}
		error |= tidu_json_end_object(w);
	}
	error |= TIDU_JSON_KEY(w, "indicators");
	error |= tidu_json_begin_array(w);
	for (i = 0; i < t->nindicators; i++)
		error |= write_indicator(w, &t->indicators[i]);
	error |= tidu_json_end_array(w);
	error |= TIDU_JSON_KEY(w, "failed");
	error |= tidu_json_begin_array(w);
	for (i = 0; i < t->nfailed; i++)
		error |= write_failed(w, &t->failed[i]);
	error |= tidu_json_end_array(w);
	error |= TIDU_JSON_KEY(w, "direct");
	error |= write_strings(w, t->direct, t->ndirect);
	error |= TIDU_JSON_KEY(w, "exempt");
	error |= write_strings(w, t->exempt, t->nexempt);
	error |= TIDU_JSON_KEY(w, "judgement");
	error |= tidu_json_begin_array(w);
	for (i = 0; i < t->njudgement; i++) {
		error |= tidu_json_begin_object(w);
		error |= TIDU_JSON_KEY(w, "id");
		error |= tidu_json_write_string(w, t->judgement[i].id);
		error |= TIDU_JSON_KEY(w, "field");
		error |= tidu_json_write_string(w, t->judgement[i].field);
		error |= TIDU_JSON_KEY(w, "question");
		error |= tidu_json_write_string(w, t->judgement[i].question);
		error |= tidu_json_end_object(w);
	}
	error |= tidu_json_end_array(w);
	error |= TIDU_JSON_KEY(w, "missing");
	error |= write_strings(w, (const char *const *)t->missing, t->nmissing);
	error |= tidu_json_end_object(w);
	return error ? TIDU_EINVAL : 0;
}

int tidu_assess_json(const tidu_assessment *a, const char *uscc, tidu_json_writer *w)
{
	size_t i;
	int error = 0;

	error |= tidu_json_begin_object(w);
	error |= TIDU_JSON_KEY(w, "uscc");
	error |= tidu_json_write_string(w, uscc);
	error |= TIDU_JSON_KEY(w, "rules");
	error |= tidu_json_write_string(w, a->pack->id);
	error |= TIDU_JSON_KEY(w, "rules_version");
	error |= tidu_json_write_int64(w, a->pack->version);
	error |= TIDU_JSON_KEY(w, "year");
	error |= a->year ? tidu_json_write_int64(w, a->year) : tidu_json_write_null(w);
	error |= TIDU_JSON_KEY(w, "year_default");
	error |= tidu_json_write_bool(w, a->year_default);
	error |= TIDU_JSON_KEY(w, "interpretations");
	error |= tidu_json_begin_array(w);
	for (i = 0; i < a->pack->nnotes; i++) {
		error |= tidu_json_begin_object(w);
		error |= TIDU_JSON_KEY(w, "id");
		error |= tidu_json_write_string(w, a->pack->notes[i].id);
		error |= TIDU_JSON_KEY(w, "text");
		error |= tidu_json_write_string(w, tidu_assess_label(a->pack->notes[i].zh,
								     a->pack->notes[i].en));
		error |= tidu_json_end_object(w);
	}
	error |= tidu_json_end_array(w);
	error |= TIDU_JSON_KEY(w, "tiers");
	error |= tidu_json_begin_array(w);
	for (i = 0; i < a->ntiers; i++)
		error |= write_tier(w, &a->tiers[i]);
	error |= tidu_json_end_array(w);
	error |= tidu_json_end_object(w);
	return error ? tidu_error_set(TIDU_EINVAL, "%s", _("cannot write the assessment as JSON"))
		     : 0;
}

/* ------------------------------------------------------------ streaming */

const tidu_rec *tidu_assess_input_firm(const tidu_assess_input *in)
{
	return &in->firm;
}

/*
 * Firms and their yearly figures come from two queries in USCC order, read
 * side by side (a merge): one pass over each table, however many firms.
 */
int tidu_assess_each(tidu_store *s, const char *district, tidu_assess_each_cb cb, void *ctx)
{
	tidu_query_filter ff = {NULL, district, NULL, TIDU_ORDER_KEY};
	tidu_query_filter yf = {NULL, NULL, NULL, TIDU_ORDER_KEY};
	tidu_query *fq = NULL, *yq = NULL;
	tidu_rec firm = TIDU_REC_INIT, y = TIDU_REC_INIT;
	int error, have_y = 0, rc;

	if ((error = tidu_view_query_open(s, TIDU_ENTITY_FIRM, &ff, &fq)) < 0 ||
	    (error = tidu_view_query_open(s, TIDU_ENTITY_FIRM_YEAR, &yf, &yq)) < 0)
		goto done;
	if ((rc = tidu_view_query_next(yq, &y)) < 0) {
		error = rc;
		goto done;
	}
	have_y = rc > 0;
	while ((rc = tidu_view_query_next(fq, &firm)) > 0) {
		const char *uscc = tidu_view_rec_get(&firm, "uscc");
		tidu_rec *years = NULL;
		tidu_assess_input *in;
		size_t n = 0;

		while (have_y) {
			int c = strcmp(y.uscc, uscc ? uscc : "");

			if (c > 0)
				break;
			if (c == 0) {
				years = tidu_reallocarray(years, n + 1, sizeof(*years));
				years[n++] = y;
				memset(&y, 0, sizeof(y));
			}
			if ((rc = tidu_view_query_next(yq, &y)) < 0) {
				error = rc;
				while (n)
					tidu_view_rec_clear(&years[--n]);
				free(years);
				goto done;
			}
			have_y = rc > 0;
		}
		in = tidu_assess_input_take(&firm, years, n);
		error = cb(ctx, in);
		tidu_assess_input_free(in);
		if (error < 0)
			goto done;
	}
	error = rc < 0 ? rc : 0;
done:
	tidu_view_rec_clear(&firm);
	tidu_view_rec_clear(&y);
	tidu_view_query_free(fq);
	tidu_view_query_free(yq);
	return error;
}
