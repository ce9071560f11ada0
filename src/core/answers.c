/*
 * The answers of a survey response (answers.h): an instance tree (the top
 * and one node per repeat instance), each node one slot per question of
 * its scope (the questions whose nearest enclosing repeat owns the node).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tidu/alloc.h"
#include "tidu/answers.h"
#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/utf8.h"

typedef struct inst inst;

typedef struct {
	char *val, *other;
	inst **kids;          /* a begin repeat of this scope: its instances */
	size_t nkids;
	unsigned rel_gen;     /* relevance cache: valid when == a->gen */
	signed char rel;
} slot;

struct inst {
	slot *s;
	size_t ns;
	unsigned rel_gen;     /* the relevance of this repeat instance */
	signed char rel;
};

struct tidu_answers {
	const tidu_form *f;
	char *today, *now, *uuid, *device_id, *username, *lang;
	size_t *scope;        /* nearest enclosing begin repeat, or TIDU_FORM_TOP */
	size_t *depth;        /* enclosing repeats */
	size_t *slotix;       /* index in its scope's nodes */
	size_t *nslots;       /* by question (a begin repeat) and [nq]: the top */
	unsigned char *in_rel; /* relevance being computed (breaks a group's self-reference) */
	inst *root;
	unsigned gen;
	int loading;          /* from_json: repeat_count not applied yet */
	int defer;            /* tidu_answers_defer_checks */
	unsigned settled;     /* gen when recompute last reached its fixed point */
};

/* ---- the tree ---------------------------------------------------------------------- */

static int is_meta(tidu_qtype t)
{
	return t >= TIDU_Q_START;
}

static int is_stop_type(tidu_qtype t)
{
	return t <= TIDU_Q_SELECT_MULTIPLE || t == TIDU_Q_NOTE || t == TIDU_Q_ACKNOWLEDGE ||
	       t == TIDU_Q_GEOPOINT || t == TIDU_Q_FILE || t == TIDU_Q_BARCODE;
}

/* The nodes of scope `s` (a begin repeat, or TIDU_FORM_TOP) have this many slots. */
static size_t scope_slots(const tidu_answers *a, size_t s)
{
	return a->nslots[s == TIDU_FORM_TOP ? a->f->nq : s];
}

static void inst_free(inst *n)
{
	size_t i, k;

	if (!n)
		return;
	for (i = 0; i < n->ns; i++) {
		free(n->s[i].val);
		free(n->s[i].other);
		for (k = 0; k < n->s[i].nkids; k++)
			inst_free(n->s[i].kids[k]);
		free(n->s[i].kids);
	}
	free(n->s);
	free(n);
}

static void apply_defaults(tidu_answers *a, inst *n, size_t scope);

static inst *inst_new(tidu_answers *a, size_t scope)
{
	inst *n = tidu_calloc(1, sizeof(*n));

	n->ns = scope_slots(a, scope);
	n->s = tidu_calloc(n->ns ? n->ns : 1, sizeof(*n->s));
	apply_defaults(a, n, scope);
	return n;
}

/*
 * The repeats around `q`, outermost first, into chain[] (and q itself when
 * `self` and q is a begin repeat). Returns their number.
 */
static size_t chain_of(const tidu_answers *a, size_t q, int self, size_t *chain)
{
	size_t n = 0, r, i, t;

	r = self && a->f->q[q].type == TIDU_Q_BEGIN_REPEAT ? q : a->scope[q];
	for (; r != TIDU_FORM_TOP; r = a->scope[r])
		chain[n++] = r;
	for (i = 0; i < n / 2; i++) {
		t = chain[i];
		chain[i] = chain[n - 1 - i];
		chain[n - 1 - i] = t;
	}
	return n;
}

/* The node at positions pos[0..len) along chain[], or NULL. */
static inst *node_at(const tidu_answers *a, const size_t *chain, const size_t *pos, size_t len)
{
	inst *n = a->root;
	size_t k;

	for (k = 0; k < len; k++) {
		slot *s = &n->s[a->slotix[chain[k]]];

		if (pos[k] < 1 || pos[k] > s->nkids)
			return NULL;
		n = s->kids[pos[k] - 1];
	}
	return n;
}

/* The slot of `q` at `at` (at->n must be its depth), or NULL. */
static slot *slot_of(const tidu_answers *a, size_t q, const tidu_answers_at *at)
{
	size_t chain[TIDU_ANSWERS_MAX_DEPTH + 1], d;
	inst *n;

	if (q >= a->f->nq)
		return NULL;
	d = chain_of(a, q, 0, chain);
	if ((at ? at->n : 0) != d)
		return NULL;
	n = node_at(a, chain, at ? at->pos : NULL, d);
	return n ? &n->s[a->slotix[q]] : NULL;
}

static size_t find_q(const tidu_answers *a, const char *name)
{
	return tidu_form_find(a->f, name);
}

static char *dup_or_null(const char *s)
{
	return s ? tidu_strdup(s) : NULL;
}

/* ---- paths ------------------------------------------------------------------------- */

size_t tidu_answers_depth(const tidu_answers *a, size_t q)
{
	return q < a->f->nq ? a->depth[q] : 0;
}

void tidu_answers_path(const tidu_answers *a, size_t q, const tidu_answers_at *at, tidu_buf *out)
{
	size_t chain[TIDU_ANSWERS_MAX_DEPTH + 1], d, k;

	if (q >= a->f->nq)
		return;
	d = chain_of(a, q, 1, chain);
	for (k = 0; k < d && at && k < at->n; k++) {
		if (chain[k] == q)
			break;
		tidu_buf_printf(out, "%s[%zu]/", a->f->q[chain[k]].name, at->pos[k]);
	}
	tidu_buf_puts(out, a->f->q[q].name);
	if (at && at->n > a->depth[q] && a->f->q[q].type == TIDU_Q_BEGIN_REPEAT)
		tidu_buf_printf(out, "[%zu]", at->pos[a->depth[q]]);
}

int tidu_answers_parse_path(const tidu_answers *a, const char *path, size_t *q,
			    tidu_answers_at *at)
{
	size_t named_r[TIDU_ANSWERS_MAX_DEPTH + 1], chain[TIDU_ANSWERS_MAX_DEPTH + 1], d, k;
	const char *p = path;

	at->n = 0;
	for (;;) {
		size_t len = strcspn(p, "[/"), i;
		char *name = tidu_strndup(p, len);
		int last, is_inst = 0;

		i = find_q(a, name);
		free(name);
		p += len;
		if (i == TIDU_FORM_TOP)
			break;
		if (*p == '[') {
			char *close;
			unsigned long long v;

			if (a->f->q[i].type != TIDU_Q_BEGIN_REPEAT || at->n >= TIDU_ANSWERS_MAX_DEPTH ||
			    p[1] < '1' || p[1] > '9')
				break;
			v = strtoull(p + 1, &close, 10);
			if (*close != ']' || v > TIDU_ANSWERS_MAX_INSTANCES)
				break;
			named_r[at->n] = i;
			at->pos[at->n++] = (size_t)v;
			p = close + 1;
			is_inst = 1;
		}
		last = !*p;
		if (!last && (*p != '/' || !is_inst))
			break;
		if (last) {
			/* the repeats named must be those around the question, in order */
			d = chain_of(a, i, is_inst, chain);
			if (d != at->n)
				break;
			for (k = 0; k < d && chain[k] == named_r[k]; k++)
				;
			if (k < d)
				break;
			*q = i;
			return 0;
		}
		p++;
	}
	return tidu_error_set(TIDU_EINVAL, _("'%s' names no question of the form"), path);
}

/* ---- evaluation -------------------------------------------------------------------- */

typedef struct {
	tidu_answers *a;
	size_t q;                    /* the question whose expression it is */
	size_t chain[TIDU_ANSWERS_MAX_DEPTH + 1];
	size_t pos[TIDU_ANSWERS_MAX_DEPTH + 1];
	size_t n;                    /* the context's instances along chain */
	const char *self;            /* `.` when not the stored value (a constraint's candidate) */
	const tidu_form_choice *choice; /* a choice_filter's choice */
} ectx;

static int rel_at(tidu_answers *a, size_t q, const size_t *pos, size_t n);

/* The context of q's expressions at `at` (n = depth, or depth + 1: a repeat instance). */
static void ectx_init(ectx *x, tidu_answers *a, size_t q, const size_t *pos, size_t n)
{
	memset(x, 0, sizeof(*x));
	x->a = a;
	x->q = q;
	chain_of(a, q, n > a->depth[q], x->chain);
	x->n = n;
	if (n)
		memcpy(x->pos, pos, n * sizeof(*pos));
}

typedef int (*value_fn)(void *ctx, const char *v);

/*
 * Calls fn with every value of question t seen from the context: the one
 * instance on the context's path, or every instance of the repeats that
 * are not on it (a NULL value: none, or not relevant).
 */
static int each_value(ectx *x, size_t t, value_fn fn, void *ctx)
{
	tidu_answers *a = x->a;
	size_t chain[TIDU_ANSWERS_MAX_DEPTH + 1], pos[TIDU_ANSWERS_MAX_DEPTH + 1];
	size_t d, p = 0, depth;
	int rc;

	d = chain_of(a, t, 0, chain);
	while (p < d && p < x->n && chain[p] == x->chain[p]) {
		pos[p] = x->pos[p];
		p++;
	}
	/* an odometer over the instances of chain[p..d) */
	depth = p;
	for (;;) {
		inst *n;

		if (depth == d) {
			const char *v = NULL;
			int r;

			n = node_at(a, chain, pos, d);
			if (n && a->f->q[t].type != TIDU_Q_BEGIN_REPEAT) {
				if ((r = rel_at(a, t, pos, d)) < 0)
					return r;
				if (r)
					v = n->s[a->slotix[t]].val;
			}
			if (a->f->q[t].type == TIDU_Q_BEGIN_REPEAT) {
				/* count(${repeat}): one value per instance */
				size_t k, cnt = n ? n->s[a->slotix[t]].nkids : 0;

				for (k = 0; k < cnt; k++)
					if ((rc = fn(ctx, "")) != 0)
						return rc;
			} else if ((rc = fn(ctx, v)) != 0)
				return rc;
		} else {
			pos[depth] = 1;
			depth++;
			n = node_at(a, chain, pos, depth);
			if (n)
				continue;
			depth--;
		}
		/* the next instance: back up to the deepest level that has one */
		for (;;) {
			if (depth == p)
				return 0;
			pos[depth - 1]++;
			if (node_at(a, chain, pos, depth))
				break;
			depth--;
		}
	}
}

static int first_cb(void *ctx, const char *v)
{
	*(const char **)ctx = v ? v : "";
	return 1;
}

static int lookup_cb(void *ctx, const char *name, tidu_expr_value *out)
{
	ectx *x = ctx;
	const char *v = "";
	size_t t;
	int rc;

	out->kind = TIDU_EXPR_STRING;
	if (!name) {
		if (x->self)
			v = x->self;
		else {
			slot *s;
			tidu_answers_at at;

			at.n = x->a->depth[x->q];
			memcpy(at.pos, x->pos, at.n * sizeof(*at.pos));
			s = slot_of(x->a, x->q, &at);
			v = s && s->val ? s->val : "";
		}
	} else if (name[0] == '@') {
		const tidu_form *f = x->a->f;
		size_t k;

		if (x->choice && !strcmp(name + 1, "name"))
			v = x->choice->name;
		for (k = 0; x->choice && k < f->nchoice_cols; k++)
			if (!strcmp(f->choice_cols[k], name + 1) && x->choice->extra &&
			    x->choice->extra[k])
				v = x->choice->extra[k];
	} else if ((t = find_q(x->a, name)) != TIDU_FORM_TOP) {
		if ((rc = each_value(x, t, first_cb, &v)) < 0)
			return rc;
	}
	out->str = tidu_strdup(v);
	return 0;
}

typedef struct {
	tidu_expr_value *out;
	size_t max, n;
} vals_ctx;

static int vals_cb(void *ctx, const char *v)
{
	vals_ctx *c = ctx;

	if (c->n >= c->max)
		return 1;
	c->out[c->n].kind = TIDU_EXPR_STRING;
	c->out[c->n].str = tidu_strdup(v ? v : "");
	c->n++;
	return 0;
}

static size_t values_cb(void *ctx, const char *name, tidu_expr_value *out, size_t max)
{
	ectx *x = ctx;
	vals_ctx c = {out, max, 0};
	size_t t = find_q(x->a, name);

	if (t != TIDU_FORM_TOP && each_value(x, t, vals_cb, &c) < 0)
		return c.n; /* a bound: what was gathered */
	return c.n;
}

static int eval(ectx *x, const tidu_expr *e, tidu_expr_value *out)
{
	tidu_expr_env env = {0};

	env.lookup = lookup_cb;
	env.values = values_cb;
	env.ctx = x;
	env.today = x->a->today;
	env.now = x->a->now;
	env.uuid = x->a->uuid;
	env.position = x->n ? (int)x->pos[x->n - 1] : 0;
	return tidu_expr_eval(e, &env, out);
}

/* 1 or 0: e is true in the context; < 0 on a bound. */
static int eval_bool(ectx *x, const tidu_expr *e)
{
	tidu_expr_value v;
	int rc = eval(x, e, &v);

	if (rc < 0)
		return rc;
	rc = tidu_expr_truthy(&v);
	tidu_expr_value_clear(&v);
	return rc;
}

/*
 * Relevance of q at pos[0..n) (n = its depth, or depth + 1 for one
 * instance of a begin repeat), with its enclosing groups and repeats.
 */
static int rel_at(tidu_answers *a, size_t q, const size_t *pos, size_t n)
{
	const tidu_form_question *fq = &a->f->q[q];
	size_t chain[TIDU_ANSWERS_MAX_DEPTH + 1], p;
	unsigned *gen;
	signed char *cache;
	inst *node;
	int r = 1;

	chain_of(a, q, n > a->depth[q], chain);
	node = node_at(a, chain, pos, n);
	if (!node)
		return 0;
	if (n > a->depth[q]) {
		gen = &node->rel_gen;
		cache = &node->rel;
	} else {
		gen = &node->s[a->slotix[q]].rel_gen;
		cache = &node->s[a->slotix[q]].rel;
	}
	if (*gen == a->gen)
		return *cache;
	if (a->in_rel[q])
		return 1; /* a group's relevant that reads its own questions: the cycle ends here */
	a->in_rel[q] = 1;
	p = fq->parent;
	if (p != TIDU_FORM_TOP)
		r = rel_at(a, p, pos,
			   a->f->q[p].type == TIDU_Q_BEGIN_REPEAT ? a->depth[p] + 1 : a->depth[p]);
	if (r > 0 && fq->relevant) {
		ectx x;

		ectx_init(&x, a, q, pos, n);
		r = eval_bool(&x, fq->relevant);
	}
	a->in_rel[q] = 0;
	if (r < 0)
		return r;
	*gen = a->gen;
	*cache = (signed char)r;
	return r;
}

static void changed(tidu_answers *a)
{
	a->gen++;
	if (!a->gen)
		a->gen = 1; /* 0 is "never computed" of a new slot */
}

static const size_t *at_pos(const tidu_answers_at *at)
{
	static const size_t none[1] = {0};

	return at ? at->pos : none;
}

int tidu_answers_relevant(tidu_answers *a, size_t q, const tidu_answers_at *at)
{
	size_t n = at ? at->n : 0;

	if (q >= a->f->nq || n < a->depth[q] ||
	    n > a->depth[q] + (a->f->q[q].type == TIDU_Q_BEGIN_REPEAT))
		return 0;
	return rel_at(a, q, at_pos(at), n);
}

static int flag_at(tidu_answers *a, size_t q, const tidu_answers_at *at, int fixed,
		   const tidu_expr *e)
{
	ectx x;

	if (fixed >= 0 || !e)
		return fixed > 0;
	ectx_init(&x, a, q, at_pos(at), a->depth[q]);
	return eval_bool(&x, e);
}

int tidu_answers_required(tidu_answers *a, size_t q, const tidu_answers_at *at)
{
	if (!slot_of(a, q, at))
		return 0;
	return flag_at(a, q, at, a->f->q[q].required, a->f->q[q].required_expr);
}

int tidu_answers_read_only(tidu_answers *a, size_t q, const tidu_answers_at *at)
{
	if (!slot_of(a, q, at))
		return 0;
	return flag_at(a, q, at, a->f->q[q].read_only, a->f->q[q].read_only_expr);
}

static int choices_at(tidu_answers *a, size_t q, const size_t *pos, const tidu_form_choice ***out,
		      size_t *n)
{
	const tidu_form_question *fq = &a->f->q[q];
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if (!fq->list)
		return 0;
	*out = tidu_calloc(fq->list->n ? fq->list->n : 1, sizeof(**out));
	for (i = 0; i < fq->list->n; i++) {
		const tidu_form_choice *c = &fq->list->choices[i];

		if (fq->choice_filter) {
			ectx x;

			ectx_init(&x, a, q, pos, a->depth[q]);
			x.choice = c;
			if ((rc = eval_bool(&x, fq->choice_filter)) < 0) {
				free(*out);
				*out = NULL;
				*n = 0;
				return rc;
			}
			if (!rc)
				continue;
		}
		(*out)[(*n)++] = c;
	}
	return 0;
}

int tidu_answers_choices(tidu_answers *a, size_t q, const tidu_answers_at *at,
			 const tidu_form_choice ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!slot_of(a, q, at))
		return tidu_error_set(TIDU_EINVAL, "%s", _("no such question or instance"));
	return choices_at(a, q, at_pos(at), out, n);
}

/* ---- validation -------------------------------------------------------------------- */

static int bad(const tidu_answers *a, size_t q, const size_t *pos, const char *why)
{
	tidu_buf p = TIDU_BUF_INIT;
	tidu_answers_at at;
	int rc;

	at.n = a->depth[q];
	memcpy(at.pos, pos, at.n * sizeof(*pos));
	tidu_answers_path(a, q, &at, &p);
	rc = tidu_error_set(TIDU_EINVAL, _("invalid answer to '%s': %s"), tidu_buf_cstr(&p), why);
	tidu_buf_free(&p);
	return rc;
}

static int digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

/* HH:MM[:SS] at s; the length read, 0 if not one. */
static size_t parse_time(const char *s, int *h, int *m, int *sec)
{
	*sec = 0;
	if (!digits(s, 2, h) || s[2] != ':' || !digits(s + 3, 2, m) || *h > 23 || *m > 59)
		return 0;
	if (s[5] == ':') {
		if (!digits(s + 6, 2, sec) || *sec > 59)
			return 0;
		return 8;
	}
	return 5;
}

/* strcmp of a name with the token (tok, len) */
static int tok_cmp(const char *name, const char *tok, size_t len)
{
	int c = strncmp(name, tok, len);

	return c ? c : name[len] != '\0';
}

/*
 * The place in q's list of the first choice named (tok, len) that is
 * offered here (its choice_filter, when `filtered`): 1 with *at, 0 when
 * none is, or an error of the filter.
 */
static int one_of(tidu_answers *a, size_t q, const size_t *pos, int filtered, const char *tok,
		  size_t len, size_t *at)
{
	const tidu_form_question *fq = &a->f->q[q];
	const tidu_form_list *l = fq->list;
	const tidu_form_choice *const *ix = l->byname;
	size_t lo = 0, hi = l->n;
	int rc;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tok_cmp(ix[mid]->name, tok, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < l->n && !tok_cmp(ix[lo]->name, tok, len); lo++) {
		if (filtered && fq->choice_filter) {
			ectx x;

			ectx_init(&x, a, q, pos, a->depth[q]);
			x.choice = ix[lo];
			if ((rc = eval_bool(&x, fq->choice_filter)) < 0)
				return rc;
			if (!rc)
				continue;
		}
		*at = (size_t)(ix[lo] - l->choices);
		return 1;
	}
	return 0;
}

/* Has the list its own choice named "other"? */
static int list_has_other(const tidu_form_list *l)
{
	size_t i;

	for (i = 0; l && i < l->n; i++)
		if (!strcmp(l->choices[i].name, "other"))
			return 1;
	return 0;
}

/*
 * Checks `text` as an answer to q (choices: those offered, or NULL for the
 * whole list) and sets *canon to its canonical text (caller frees).
 */
static int validate(tidu_answers *a, size_t q, const size_t *pos, const char *text,
		    int filtered, char **canon)
{
	const tidu_form_question *fq = &a->f->q[q];
	tidu_buf b = TIDU_BUF_INIT;
	size_t len = strlen(text);
	int rc = 0;

	*canon = NULL;
	if (len > TIDU_ANSWERS_MAX_TEXT)
		return bad(a, q, pos, _("longer than 64 KiB"));
	if (!tidu_utf8_valid(text, len))
		return bad(a, q, pos, _("not valid UTF-8"));
	if (fq->type != TIDU_Q_TEXT) {
		/* trim ASCII spaces */
		while (*text == ' ' || *text == '\t')
			text++;
		len = strlen(text);
		while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
			len--;
	}
	tidu_buf_put(&b, text, len);
	text = tidu_buf_cstr(&b);
	switch (fq->type) {
	case TIDU_Q_INTEGER: {
		int64_t v;

		if (tidu_parse_int64(text, &v) < 0) {
			rc = bad(a, q, pos, _("not a whole number"));
			break;
		}
		tidu_buf_clear(&b);
		tidu_format_int64(&b, v);
		break;
	}
	case TIDU_Q_DECIMAL: {
		double d;
		tidu_buf c = TIDU_BUF_INIT;

		if (tidu_parse_number(text, &d, &c) < 0 || !isfinite(d)) {
			tidu_buf_free(&c);
			rc = bad(a, q, pos, _("not a number"));
			break;
		}
		tidu_buf_free(&b);
		b = c;
		break;
	}
	case TIDU_Q_DATE:
		if (tidu_parse_date(text, NULL, NULL, NULL) < 0)
			rc = bad(a, q, pos, _("not a date YYYY-MM-DD"));
		break;
	case TIDU_Q_TIME: {
		int h, m, s;

		if (parse_time(text, &h, &m, &s) != len) {
			rc = bad(a, q, pos, _("not a time HH:MM or HH:MM:SS"));
			break;
		}
		tidu_buf_clear(&b);
		tidu_buf_printf(&b, "%02d:%02d:%02d", h, m, s);
		break;
	}
	case TIDU_Q_DATETIME: {
		char day[11];
		const char *z;
		int h, m, s, zh, zm;
		size_t tl;

		if (len < 16 || (text[10] != 'T' && text[10] != ' ')) {
			rc = bad(a, q, pos, _("not a date and time YYYY-MM-DDTHH:MM[:SS]"));
			break;
		}
		memcpy(day, text, 10);
		day[10] = '\0';
		tl = parse_time(text + 11, &h, &m, &s);
		z = text + 11 + tl;
		if (tidu_parse_date(day, NULL, NULL, NULL) < 0 || !tl ||
		    !(!*z || !strcmp(z, "Z") ||
		      ((*z == '+' || *z == '-') && strlen(z) == 6 && digits(z + 1, 2, &zh) &&
		       z[3] == ':' && digits(z + 4, 2, &zm) && zh <= 14 && zm <= 59))) {
			rc = bad(a, q, pos, _("not a date and time YYYY-MM-DDTHH:MM[:SS]"));
			break;
		}
		{
			char *zone = tidu_strdup(z);

			tidu_buf_clear(&b);
			tidu_buf_printf(&b, "%sT%02d:%02d:%02d%s", day, h, m, s, zone);
			free(zone);
		}
		break;
	}
	case TIDU_Q_SELECT_ONE:
	case TIDU_Q_SELECT_MULTIPLE: {
		const tidu_form_list *l = fq->list;
		size_t i, k = 0, ntok = 0;
		unsigned char *picked = tidu_calloc(l->n + 1, 1);
		int other_ok = fq->or_other && !list_has_other(l), other = 0, found;
		const char *s = text;

		/* each token looked up by name, the filter asked of that choice only */
		while (*s && !rc) {
			size_t tl;

			while (*s == ' ' || *s == '\t')
				s++;
			if (!*s)
				break;
			tl = strcspn(s, " \t");
			ntok++;
			if ((found = one_of(a, q, pos, filtered, s, tl, &k)) < 0) {
				rc = found;
				break;
			}
			if (found) {
				if (picked[k])
					rc = 1;
				picked[k] = 1;
			} else if (other_ok && tl == 5 && !memcmp(s, "other", 5)) {
				if (other)
					rc = 1;
				other = 1;
			} else {
				char *tok = tidu_strndup(s, tl);
				char *why = tidu_strprintf(_("'%s' is not a choice offered here"), tok);

				rc = bad(a, q, pos, why);
				free(why);
				free(tok);
			}
			if (rc == 1) {
				char *tok = tidu_strndup(s, tl);
				char *why = tidu_strprintf(_("'%s' is chosen twice"), tok);

				rc = bad(a, q, pos, why);
				free(why);
				free(tok);
			}
			s += tl;
		}
		if (!rc && fq->type == TIDU_Q_SELECT_ONE && ntok != 1)
			rc = bad(a, q, pos, _("choose one"));
		if (!rc) {
			/* in the list's order */
			tidu_buf_clear(&b);
			for (i = 0; i < l->n; i++)
				if (picked[i]) {
					if (b.len)
						tidu_buf_putc(&b, ' ');
					tidu_buf_puts(&b, l->choices[i].name);
				}
			if (other)
				tidu_buf_puts(&b, b.len ? " other" : "other");
		}
		free(picked);
		break;
	}
	case TIDU_Q_GEOPOINT: {
		double v[4];
		size_t n = 0, i;
		const char *s = text;

		while (*s && n < 5) {
			tidu_buf tok = TIDU_BUF_INIT;
			size_t tl;

			while (*s == ' ')
				s++;
			if (!*s)
				break;
			tl = strcspn(s, " ");
			tidu_buf_put(&tok, s, tl);
			if (n == 4 || tidu_parse_number(tidu_buf_cstr(&tok), &v[n], NULL) < 0) {
				tidu_buf_free(&tok);
				n = 5;
				break;
			}
			tidu_buf_free(&tok);
			n++;
			s += tl;
		}
		if (n < 2 || n > 4) {
			rc = bad(a, q, pos, _("not a point 'latitude longitude [altitude [accuracy]]'"));
			break;
		}
		if (v[0] < -90 || v[0] > 90 || v[1] < -180 || v[1] > 180 || (n == 4 && v[3] < 0)) {
			rc = bad(a, q, pos,
				 _("latitude must be in [-90, 90], longitude in [-180, 180], "
				   "accuracy not negative"));
			break;
		}
		tidu_buf_clear(&b);
		for (i = 0; i < n; i++) {
			if (i)
				tidu_buf_putc(&b, ' ');
			tidu_format_number(&b, v[i]);
		}
		break;
	}
	case TIDU_Q_ACKNOWLEDGE:
		if (strcmp(text, "OK") && strcmp(text, "ok") && strcmp(text, "1"))
			rc = bad(a, q, pos, _("acknowledge with 'OK'"));
		else {
			tidu_buf_clear(&b);
			tidu_buf_puts(&b, "OK");
		}
		break;
	case TIDU_Q_TEXT:
		if (tidu_utf8_find_control(text, len, 1) >= 0)
			rc = bad(a, q, pos, _("control characters are not allowed"));
		break;
	case TIDU_Q_FILE:
		if (len > 4096 || tidu_utf8_find_control(text, len, 0) >= 0)
			rc = bad(a, q, pos, _("not a file path"));
		break;
	default: /* barcode, hidden */
		if (tidu_utf8_find_control(text, len, 0) >= 0)
			rc = bad(a, q, pos, _("control characters are not allowed"));
	}
	if (rc < 0) {
		tidu_buf_free(&b);
		return rc;
	}
	*canon = tidu_buf_detach(&b);
	return 0;
}

/*
 * Every stored value went through validate() when it was set (a set, a
 * load, a default), so it is canonical and of its type; what a later check
 * must ask again is only what depends on other answers: a select's
 * choice_filter (and the constraint, asked by the caller).
 */
static int needs_filter_check(const tidu_form_question *fq)
{
	return fq->choice_filter &&
	       (fq->type == TIDU_Q_SELECT_ONE || fq->type == TIDU_Q_SELECT_MULTIPLE);
}

/* ---- recomputation ----------------------------------------------------------------- */

typedef int (*inst_fn)(tidu_answers *a, size_t q, const size_t *pos, size_t n, slot *s, void *ctx);

/*
 * Calls fn for every instance of q that exists (n = its depth; with
 * `self` and a begin repeat, every instance of q itself, n = depth + 1).
 */
static int each_inst(tidu_answers *a, size_t q, int self, inst_fn fn, void *ctx)
{
	size_t chain[TIDU_ANSWERS_MAX_DEPTH + 1], pos[TIDU_ANSWERS_MAX_DEPTH + 1], d, depth = 0;
	int rc;

	d = chain_of(a, q, self, chain);
	for (;;) {
		inst *n = node_at(a, chain, pos, depth);

		if (n && depth == d) {
			if ((rc = fn(a, q, pos, d, self && d > a->depth[q] ? NULL
								: &n->s[a->slotix[q]], ctx)) != 0)
				return rc;
		} else if (n) {
			pos[depth++] = 1;
			continue;
		}
		for (;;) {
			if (depth == 0)
				return 0;
			pos[depth - 1]++;
			if (node_at(a, chain, pos, depth))
				break;
			depth--;
		}
	}
}

static int same(const char *x, const char *y)
{
	if (!x || !y)
		return x == y;
	return !strcmp(x, y);
}

static int calc_one(tidu_answers *a, size_t q, const size_t *pos, size_t n, slot *s, void *ctx)
{
	int *dirty = ctx, r;
	char *v = NULL;

	r = rel_at(a, q, pos, n);
	if (r < 0)
		return r;
	if (r) {
		ectx x;
		tidu_expr_value val;
		tidu_buf b = TIDU_BUF_INIT;

		ectx_init(&x, a, q, pos, n);
		if ((r = eval(&x, a->f->q[q].calculation, &val)) < 0)
			return r;
		tidu_expr_string(&val, &b);
		tidu_expr_value_clear(&val);
		v = tidu_buf_detach(&b);
		if (!*v) {
			free(v);
			v = NULL;
		}
	}
	if (!same(v, s->val)) {
		free(s->val);
		s->val = v;
		*dirty = 1;
		changed(a);
	} else
		free(v);
	return 0;
}

/* The number of instances repeat_count gives to repeat q in its parent at pos[0..n). */
static int count_want(tidu_answers *a, size_t q, const size_t *pos, size_t n, size_t *want)
{
	double d = 0;
	int r;

	r = rel_at(a, q, pos, n);
	if (r < 0)
		return r;
	if (r) {
		ectx x;
		tidu_expr_value val;

		ectx_init(&x, a, q, pos, n);
		if ((r = eval(&x, a->f->q[q].repeat_count, &val)) < 0)
			return r;
		d = tidu_expr_number(&val);
		tidu_expr_value_clear(&val);
	}
	if (!(d >= 0))
		d = 0;
	*want = d > TIDU_ANSWERS_MAX_INSTANCES ? TIDU_ANSWERS_MAX_INSTANCES : (size_t)d;
	return 0;
}

static int count_one(tidu_answers *a, size_t q, const size_t *pos, size_t n, slot *s, void *ctx)
{
	int *dirty = ctx, r;
	size_t want;

	if ((r = count_want(a, q, pos, n, &want)) < 0)
		return r;
	if (want == s->nkids)
		return 0;
	while (s->nkids > want)
		inst_free(s->kids[--s->nkids]);
	if (want > s->nkids) {
		s->kids = tidu_reallocarray(s->kids, want, sizeof(*s->kids));
		while (s->nkids < want)
			s->kids[s->nkids++] = inst_new(a, q);
	}
	*dirty = 1;
	changed(a);
	return 0;
}

/*
 * The calculations and repeat counts, to a fixed point; nothing to do when
 * no value, instance or setting has changed since the last (every change
 * calls changed()).
 */
static int recompute(tidu_answers *a)
{
	size_t pass, q;
	int dirty = 1, rc;

	if (a->settled == a->gen)
		return 0;
	changed(a);
	for (pass = 0; dirty && pass <= a->f->nq + 1; pass++) {
		dirty = 0;
		for (q = 0; q < a->f->nq; q++) {
			const tidu_form_question *fq = &a->f->q[q];

			if (fq->calculation && fq->type != TIDU_Q_BEGIN_GROUP &&
			    fq->type != TIDU_Q_BEGIN_REPEAT &&
			    (rc = each_inst(a, q, 0, calc_one, &dirty)) < 0)
				return rc;
			if (fq->type == TIDU_Q_BEGIN_REPEAT && fq->repeat_count && !a->loading &&
			    (rc = each_inst(a, q, 0, count_one, &dirty)) < 0)
				return rc;
		}
	}
	if (dirty)
		return tidu_error_set(TIDU_EINVAL, "%s", _("the calculations do not settle"));
	a->settled = a->gen;
	return 0;
}

/* ---- the response ------------------------------------------------------------------ */

static void apply_defaults(tidu_answers *a, inst *n, size_t scope)
{
	size_t i, from = scope == TIDU_FORM_TOP ? 0 : scope + 1;
	size_t to = scope == TIDU_FORM_TOP ? a->f->nq : a->f->q[scope].end;
	size_t pos[TIDU_ANSWERS_MAX_DEPTH + 1] = {0};

	for (i = from; i < to; i++) {
		const tidu_form_question *fq = &a->f->q[i];
		const char *v = NULL;
		char *canon = NULL;

		if (a->scope[i] != scope)
			continue;
		switch (fq->type) {
		case TIDU_Q_START:
		case TIDU_Q_END:
			v = a->now;
			break;
		case TIDU_Q_TODAY:
			v = a->today;
			break;
		case TIDU_Q_DEVICEID:
			v = a->device_id;
			break;
		case TIDU_Q_USERNAME:
			v = a->username;
			break;
		default:
			break;
		}
		if (v && *v) {
			n->s[a->slotix[i]].val = tidu_strdup(v);
			continue;
		}
		if (!fq->default_text || !*fq->default_text || fq->calculation ||
		    !tidu_qtype_has_value(fq->type) || is_meta(fq->type) ||
		    fq->type == TIDU_Q_CALCULATE)
			continue;
		/* the list check only (no filter: the instance is not in the tree yet) */
		if (validate(a, i, pos, fq->default_text, 0, &canon) == 0)
			n->s[a->slotix[i]].val = canon;
		else
			tidu_error_clear();
	}
}

tidu_answers *tidu_answers_new(const tidu_form *f, const tidu_answers_env *env)
{
	tidu_answers *a = tidu_calloc(1, sizeof(*a));
	size_t i, nq = f->nq;

	a->f = f;
	a->today = dup_or_null(env ? env->today : NULL);
	a->now = dup_or_null(env ? env->now : NULL);
	a->uuid = dup_or_null(env ? env->uuid : NULL);
	a->device_id = dup_or_null(env ? env->device_id : NULL);
	a->username = dup_or_null(env ? env->username : NULL);
	a->lang = dup_or_null(env ? env->lang : NULL);
	a->scope = tidu_calloc(nq + 1, sizeof(*a->scope));
	a->depth = tidu_calloc(nq + 1, sizeof(*a->depth));
	a->slotix = tidu_calloc(nq + 1, sizeof(*a->slotix));
	a->nslots = tidu_calloc(nq + 1, sizeof(*a->nslots));
	a->in_rel = tidu_calloc(nq + 1, 1);
	for (i = 0; i < nq; i++) {
		size_t p = f->q[i].parent, s;

		while (p != TIDU_FORM_TOP && f->q[p].type != TIDU_Q_BEGIN_REPEAT)
			p = f->q[p].parent;
		a->scope[i] = p;
		a->depth[i] = p == TIDU_FORM_TOP ? 0 : a->depth[p] + 1;
		s = p == TIDU_FORM_TOP ? nq : p;
		a->slotix[i] = a->nslots[s]++;
	}
	a->gen = 1;
	a->root = inst_new(a, TIDU_FORM_TOP);
	if (recompute(a) < 0)
		tidu_error_clear(); /* a bound: the values stay empty, check() says it */
	return a;
}

void tidu_answers_free(tidu_answers *a)
{
	if (!a)
		return;
	inst_free(a->root);
	free(a->today);
	free(a->now);
	free(a->uuid);
	free(a->device_id);
	free(a->username);
	free(a->lang);
	free(a->scope);
	free(a->depth);
	free(a->slotix);
	free(a->nslots);
	free(a->in_rel);
	free(a);
}

const tidu_form *tidu_answers_form(const tidu_answers *a)
{
	return a->f;
}

const char *tidu_answers_get(const tidu_answers *a, size_t q, const tidu_answers_at *at)
{
	const slot *s = slot_of(a, q, at);

	return s ? s->val : NULL;
}

const char *tidu_answers_get_other(const tidu_answers *a, size_t q, const tidu_answers_at *at)
{
	const slot *s = slot_of(a, q, at);

	return s ? s->other : NULL;
}

static int no_instance(const tidu_answers *a, size_t q, const tidu_answers_at *at)
{
	tidu_buf p = TIDU_BUF_INIT;
	int rc;

	if (q >= a->f->nq)
		return tidu_error_set(TIDU_EINVAL, "%s", _("no such question"));
	tidu_answers_path(a, q, at, &p);
	rc = tidu_error_set(TIDU_EINVAL, _("'%s': no such repeat instance"), tidu_buf_cstr(&p));
	tidu_buf_free(&p);
	return rc;
}

static int refuse(const tidu_answers *a, size_t q, const tidu_answers_at *at, const char *fmt)
{
	tidu_buf p = TIDU_BUF_INIT;
	int rc;

	tidu_answers_path(a, q, at, &p);
	rc = tidu_error_set(TIDU_EINVAL, fmt, tidu_buf_cstr(&p));
	tidu_buf_free(&p);
	return rc;
}

/* Can q be set by hand at all? (not by relevance or read_only) */
static int settable(const tidu_answers *a, size_t q, const tidu_answers_at *at)
{
	const tidu_form_question *fq = &a->f->q[q];

	if (!tidu_qtype_has_value(fq->type) || fq->type == TIDU_Q_NOTE)
		return refuse(a, q, at, _("'%s' is a note or a group: it takes no answer"));
	if (is_meta(fq->type))
		return refuse(a, q, at, _("'%s' is filled by tidu (metadata)"));
	if (fq->calculation || fq->type == TIDU_Q_CALCULATE)
		return refuse(a, q, at, _("'%s' is calculated: it takes no answer"));
	return 0;
}

/* The constraint of q at pos, on its current value: 0, or TIDU_EINVAL with its message. */
static int check_constraint(tidu_answers *a, size_t q, const size_t *pos, const char *v)
{
	const tidu_form_question *fq = &a->f->q[q];
	const char *msg;
	ectx x;
	int r;

	if (!fq->constraint || !v)
		return 0;
	ectx_init(&x, a, q, pos, a->depth[q]);
	x.self = v;
	if ((r = eval_bool(&x, fq->constraint)) != 0)
		return r < 0 ? r : 0;
	msg = tidu_form_text_get(a->f, &fq->constraint_message, a->lang);
	{
		tidu_buf p = TIDU_BUF_INIT;
		tidu_answers_at at;

		at.n = a->depth[q];
		memcpy(at.pos, pos, at.n * sizeof(*pos));
		tidu_answers_path(a, q, &at, &p);
		if (*msg)
			r = tidu_error_set(TIDU_EINVAL, _("'%s': %s"), tidu_buf_cstr(&p), msg);
		else
			r = tidu_error_set(TIDU_EINVAL, _("'%s' does not meet its constraint: %s"),
					   tidu_buf_cstr(&p), fq->constraint_text);
		tidu_buf_free(&p);
	}
	return r;
}

int tidu_answers_set(tidu_answers *a, size_t q, const tidu_answers_at *at, const char *text)
{
	slot *s = slot_of(a, q, at);
	char *canon = NULL, *old;
	int rc;

	if (!s)
		return no_instance(a, q, at);
	if ((rc = settable(a, q, at)) < 0)
		return rc;
	if ((rc = tidu_answers_relevant(a, q, at)) <= 0)
		return rc < 0 ? rc
			      : refuse(a, q, at,
				       _("question '%s' is not asked here (its relevant is false)"));
	if ((rc = tidu_answers_read_only(a, q, at)) != 0)
		return rc < 0 ? rc : refuse(a, q, at, _("'%s' is read-only"));
	if (text && *text && (rc = validate(a, q, at_pos(at), text, 1, &canon)) < 0)
		return rc;
	if (canon && !*canon) {
		free(canon);
		canon = NULL;
	}
	old = s->val;
	s->val = canon;
	changed(a);
	if ((rc = recompute(a)) == 0)
		rc = check_constraint(a, q, at_pos(at), canon);
	if (rc < 0) {
		/* put the old value back (the tree may have moved: look it up again) */
		char *why = tidu_strdup(tidu_error_message());

		s = slot_of(a, q, at);
		if (s) {
			free(s->val);
			s->val = old;
		} else
			free(old);
		changed(a);
		(void)recompute(a);
		rc = tidu_error_set(rc, "%s", why);
		free(why);
		return rc;
	}
	free(old);
	return 0;
}

int tidu_answers_set_other(tidu_answers *a, size_t q, const tidu_answers_at *at,
			   const char *text)
{
	slot *s = slot_of(a, q, at);
	const tidu_form_question *fq;
	size_t len;

	if (!s)
		return no_instance(a, q, at);
	fq = &a->f->q[q];
	if (!fq->or_other)
		return refuse(a, q, at, _("'%s' has no 'other' choice"));
	len = text ? strlen(text) : 0;
	if (len > TIDU_ANSWERS_MAX_TEXT || (text && !tidu_utf8_valid(text, len)) ||
	    (text && tidu_utf8_find_control(text, len, 0) >= 0))
		return bad(a, q, at_pos(at), _("not one line of text"));
	free(s->other);
	s->other = len ? tidu_strdup(text) : NULL;
	changed(a);
	return 0;
}

/* ---- repeats ----------------------------------------------------------------------- */

static slot *repeat_slot(const tidu_answers *a, size_t repeat, const tidu_answers_at *at)
{
	if (repeat >= a->f->nq || a->f->q[repeat].type != TIDU_Q_BEGIN_REPEAT)
		return NULL;
	return slot_of(a, repeat, at);
}

size_t tidu_answers_count(const tidu_answers *a, size_t repeat, const tidu_answers_at *at)
{
	const slot *s = repeat_slot(a, repeat, at);

	return s ? s->nkids : 0;
}

static int add_inst(tidu_answers *a, slot *s, size_t repeat)
{
	s->kids = tidu_reallocarray(s->kids, s->nkids + 1, sizeof(*s->kids));
	s->kids[s->nkids++] = inst_new(a, repeat);
	changed(a);
	return 0;
}

int tidu_answers_add(tidu_answers *a, size_t repeat, const tidu_answers_at *at, size_t *pos)
{
	slot *s = repeat_slot(a, repeat, at);

	if (!s)
		return no_instance(a, repeat, at);
	if (a->f->q[repeat].repeat_count && !a->loading)
		return refuse(a, repeat, at, _("'%s' has as many instances as its repeat_count says"));
	if (s->nkids >= TIDU_ANSWERS_MAX_INSTANCES)
		return refuse(a, repeat, at, _("'%s' has too many instances"));
	add_inst(a, s, repeat);
	if (pos)
		*pos = s->nkids;
	return recompute(a);
}

int tidu_answers_remove(tidu_answers *a, size_t repeat, const tidu_answers_at *at, size_t pos)
{
	slot *s = repeat_slot(a, repeat, at);

	if (!s || pos < 1 || pos > s->nkids)
		return no_instance(a, repeat, at);
	if (a->f->q[repeat].repeat_count)
		return refuse(a, repeat, at, _("'%s' has as many instances as its repeat_count says"));
	inst_free(s->kids[pos - 1]);
	memmove(&s->kids[pos - 1], &s->kids[pos], (s->nkids - pos) * sizeof(*s->kids));
	s->nkids--;
	changed(a);
	return recompute(a);
}

/* ---- navigation -------------------------------------------------------------------- */

/*
 * Every position in form order (stop or not), one callback each:
 * questions at each instance, a begin repeat at each instance (n = depth
 * + 1) and after them (n = depth: the "add another?" prompt).
 */
typedef int (*pos_fn)(tidu_answers *a, size_t q, const size_t *pos, size_t n, void *ctx);

static int walk(tidu_answers *a, size_t from, size_t to, size_t *pos, size_t n, pos_fn fn,
		void *ctx)
{
	size_t i, k, cnt;
	int rc;

	for (i = from; i < to; i++) {
		const tidu_form_question *fq = &a->f->q[i];
		tidu_answers_at at;

		if (fq->type != TIDU_Q_BEGIN_REPEAT) {
			if ((rc = fn(a, i, pos, n, ctx)) != 0)
				return rc;
			continue;
		}
		at.n = n;
		memcpy(at.pos, pos, n * sizeof(*pos));
		cnt = tidu_answers_count(a, i, &at);
		for (k = 1; k <= cnt; k++) {
			pos[n] = k;
			if ((rc = fn(a, i, pos, n + 1, ctx)) != 0)
				return rc;
			if ((rc = walk(a, i + 1, fq->end, pos, n + 1, fn, ctx)) != 0)
				return rc;
		}
		if ((rc = fn(a, i, pos, n, ctx)) != 0)
			return rc;
		i = fq->end;
	}
	return 0;
}

/* Is (q, pos[0..n)) a stop? 1, 0 or < 0. */
static int is_stop(tidu_answers *a, size_t q, const size_t *pos, size_t n)
{
	const tidu_form_question *fq = &a->f->q[q];

	if (fq->type == TIDU_Q_BEGIN_REPEAT) {
		if (n > a->depth[q] || fq->repeat_count)
			return 0;
		return rel_at(a, q, pos, n);
	}
	if (!is_stop_type(fq->type) || fq->calculation)
		return 0;
	return rel_at(a, q, pos, n);
}

typedef struct {
	const tidu_answers_pos *cur;
	tidu_answers_pos *out;
	int mode;        /* 0 next, 1 prev, 2 first unanswered */
	int seen;        /* cur passed */
	int found;
} nav;

static int same_pos(const tidu_answers_pos *p, size_t q, const size_t *pos, size_t n)
{
	return p->q == q && p->at.n == n && !memcmp(p->at.pos, pos, n * sizeof(*pos));
}

static void set_pos(tidu_answers_pos *o, size_t q, const size_t *pos, size_t n)
{
	o->q = q;
	o->at.n = n;
	memcpy(o->at.pos, pos, n * sizeof(*pos));
}

static int nav_cb(tidu_answers *a, size_t q, const size_t *pos, size_t n, void *ctx)
{
	nav *v = ctx;
	int r;

	if (v->cur && same_pos(v->cur, q, pos, n)) {
		v->seen = 1;
		return v->mode == 1 ? 1 : 0;
	}
	if (v->mode == 0 && v->cur && !v->seen)
		return 0;
	if ((r = is_stop(a, q, pos, n)) <= 0)
		return r;
	if (v->mode == 2) {
		const tidu_form_question *fq = &a->f->q[q];
		tidu_answers_at at;
		const slot *s;

		if (fq->type == TIDU_Q_NOTE || fq->type == TIDU_Q_BEGIN_REPEAT)
			return 0;
		at.n = n;
		memcpy(at.pos, pos, n * sizeof(*pos));
		s = slot_of(a, q, &at);
		if (s && s->val)
			return 0;
	}
	set_pos(v->out, q, pos, n);
	v->found = 1;
	return v->mode == 1 ? 0 : 1;
}

static int navigate(tidu_answers *a, const tidu_answers_pos *cur, tidu_answers_pos *out, int mode)
{
	size_t pos[TIDU_ANSWERS_MAX_DEPTH + 1];
	nav v = {cur, out, mode, 0, 0};
	int rc;

	rc = walk(a, 0, a->f->nq, pos, 0, nav_cb, &v);
	if (rc < 0)
		return rc;
	if (mode == 0 && cur && !v.seen)
		return 0; /* cur no longer exists */
	return v.found;
}

int tidu_answers_next(tidu_answers *a, const tidu_answers_pos *cur, tidu_answers_pos *out)
{
	return navigate(a, cur, out, 0);
}

int tidu_answers_prev(tidu_answers *a, const tidu_answers_pos *cur, tidu_answers_pos *out)
{
	return navigate(a, cur, out, 1);
}

int tidu_answers_first_unanswered(tidu_answers *a, tidu_answers_pos *out)
{
	return navigate(a, NULL, out, 2);
}

/* ---- the checks -------------------------------------------------------------------- */

typedef struct {
	tidu_answers_pos *bad;
} check_ctx;

static int check_cb(tidu_answers *a, size_t q, const size_t *pos, size_t n, void *ctx)
{
	const tidu_form_question *fq = &a->f->q[q];
	check_ctx *c = ctx;
	tidu_answers_at at;
	const slot *s;
	int r;

	if (fq->type == TIDU_Q_BEGIN_REPEAT || !tidu_qtype_has_value(fq->type) ||
	    is_meta(fq->type))
		return 0;
	at.n = n;
	memcpy(at.pos, pos, n * sizeof(*pos));
	s = slot_of(a, q, &at);
	if (!s || (r = rel_at(a, q, pos, n)) == 0)
		return 0;
	if (r < 0)
		goto fail;
	if (!s->val) {
		if (fq->calculation)
			return 0;
		if ((r = tidu_answers_required(a, q, &at)) == 0)
			return 0;
		if (r > 0) {
			const char *msg = tidu_form_text_get(a->f, &fq->required_message, a->lang);

			if (*msg) {
				tidu_buf p = TIDU_BUF_INIT;

				tidu_answers_path(a, q, &at, &p);
				r = tidu_error_set(TIDU_EINVAL, _("'%s': %s"), tidu_buf_cstr(&p), msg);
				tidu_buf_free(&p);
			} else
				r = refuse(a, q, &at, _("'%s' is required"));
		}
		goto fail;
	}
	if (!fq->calculation) {
		char *canon = NULL;

		if (needs_filter_check(fq) && (r = validate(a, q, pos, s->val, 1, &canon)) < 0)
			goto fail;
		free(canon);
		if ((r = check_constraint(a, q, pos, s->val)) < 0)
			goto fail;
		if (fq->or_other && (fq->type == TIDU_Q_SELECT_ONE || fq->type == TIDU_Q_SELECT_MULTIPLE) &&
		    !list_has_other(fq->list) && !s->other) {
			char *dup = tidu_strdup(s->val), *t, *save = NULL;
			int other = 0;

			for (t = strtok_r(dup, " ", &save); t; t = strtok_r(NULL, " ", &save))
				other |= !strcmp(t, "other");
			free(dup);
			if (other) {
				r = refuse(a, q, &at, _("'%s': say what 'other' is"));
				goto fail;
			}
		}
	}
	return 0;
fail:
	if (c->bad)
		set_pos(c->bad, q, pos, n);
	return r;
}

int tidu_answers_check(tidu_answers *a, tidu_answers_pos *first_bad)
{
	size_t pos[TIDU_ANSWERS_MAX_DEPTH + 1];
	check_ctx c = {first_bad};
	int rc;

	if ((rc = recompute(a)) < 0)
		return rc;
	rc = walk(a, 0, a->f->nq, pos, 0, check_cb, &c);
	return rc < 0 ? rc : 0;
}

static int clear_cb(tidu_answers *a, size_t q, const size_t *pos, size_t n, void *ctx)
{
	tidu_answers_at at;
	slot *s;
	int r;

	if (a->f->q[q].type == TIDU_Q_BEGIN_REPEAT)
		return 0;
	at.n = n;
	memcpy(at.pos, pos, n * sizeof(*pos));
	s = slot_of(a, q, &at);
	if (!s || !(s->val || s->other) || (r = rel_at(a, q, pos, n)) > 0)
		return 0;
	if (r < 0)
		return r;
	free(s->val);
	free(s->other);
	s->val = s->other = NULL;
	*(int *)ctx = 1;
	return 0;
}

int tidu_answers_finalize(tidu_answers *a, const char *now, tidu_answers_pos *first_bad)
{
	size_t pos[TIDU_ANSWERS_MAX_DEPTH + 1], q;
	int rc, cleared = 0;

	if (now) {
		free(a->now);
		a->now = tidu_strdup(now);
		for (q = 0; q < a->f->nq; q++)
			if (a->f->q[q].type == TIDU_Q_END && a->depth[q] == 0) {
				slot *s = slot_of(a, q, NULL);

				free(s->val);
				s->val = tidu_strdup(now);
			}
		changed(a);
	}
	if ((rc = tidu_answers_check(a, first_bad)) < 0)
		return rc;
	/* the expressions saw "" for these already: clearing changes no value */
	rc = walk(a, 0, a->f->nq, pos, 0, clear_cb, &cleared);
	if (cleared)
		changed(a);
	if (rc < 0)
		return rc;
	return recompute(a);
}

/* ---- JSON -------------------------------------------------------------------------- */

/* The text of a JSON answer for q (caller frees), or NULL with an error. */
static char *json_text(tidu_answers *a, size_t q, const size_t *pos, const tidu_json *v)
{
	const tidu_form_question *fq = &a->f->q[q];
	tidu_buf b = TIDU_BUF_INIT;
	size_t i;

	switch (tidu_json_typeof(v)) {
	case TIDU_JSON_NULL:
		return tidu_strdup("");
	case TIDU_JSON_STRING:
		return tidu_strdup(tidu_json_as_string(v));
	case TIDU_JSON_NUMBER:
		return tidu_strdup(tidu_json_number_text(v));
	case TIDU_JSON_BOOL:
		if (fq->type == TIDU_Q_ACKNOWLEDGE)
			return tidu_strdup(tidu_json_as_bool(v) ? "OK" : "");
		break;
	case TIDU_JSON_ARRAY:
		if (fq->type != TIDU_Q_SELECT_MULTIPLE)
			break;
		for (i = 0; i < tidu_json_count(v); i++) {
			const char *s = tidu_json_as_string(tidu_json_at(v, i));

			if (!s) {
				tidu_buf_free(&b);
				bad(a, q, pos, _("a list of choice names"));
				return NULL;
			}
			if (!*s || strchr(s, ' ')) {
				tidu_buf_free(&b);
				bad(a, q, pos, _("a list of choice names"));
				return NULL;
			}
			if (b.len)
				tidu_buf_putc(&b, ' ');
			tidu_buf_puts(&b, s);
		}
		return tidu_buf_detach(&b);
	default:
		break;
	}
	bad(a, q, pos, _("a value of the wrong JSON type"));
	return NULL;
}

/* One given answer, checked after the whole object is in. */
typedef struct {
	size_t q;
	tidu_answers_at at;
	int other;      /* the NAME_other companion */
	char *calc;     /* a calculate's given value; a repeat's number of instances */
	char *prev;     /* the value before (a read-only question may be given it again) */
} given;

typedef struct {
	given *v;
	size_t n, cap;
} givens;

/* A new, zeroed given at the end of g. */
static given *given_add(givens *g)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->v = tidu_reallocarray(g->v, g->cap, sizeof(*g->v));
	}
	memset(&g->v[g->n], 0, sizeof(g->v[g->n]));
	return &g->v[g->n++];
}

static int load_obj(tidu_answers *a, size_t scope, size_t *pos, size_t n, const tidu_json *obj,
		    givens *g);

static int load_member(tidu_answers *a, size_t scope, size_t *pos, size_t n, const char *key,
		       const tidu_json *v, givens *g)
{
	tidu_answers_at at;
	size_t q = find_q(a, key), k;
	int other = 0, rc;
	slot *s;
	given *gv;
	char *text, *canon = NULL;

	at.n = n;
	memcpy(at.pos, pos, n * sizeof(*pos));
	if (q == TIDU_FORM_TOP) {
		size_t len = strlen(key);

		if (len > 6 && !strcmp(key + len - 6, "_other")) {
			char *base = tidu_strndup(key, len - 6);

			q = find_q(a, base);
			free(base);
			if (q != TIDU_FORM_TOP && a->f->q[q].or_other)
				other = 1;
			else
				q = TIDU_FORM_TOP;
		}
	}
	if (q == TIDU_FORM_TOP || a->scope[q] != scope) {
		tidu_buf p = TIDU_BUF_INIT;

		if (n) {
			tidu_answers_path(a, scope, &at, &p);
			tidu_buf_putc(&p, '/');
		}
		tidu_buf_puts(&p, key);
		if (q == TIDU_FORM_TOP)
			rc = tidu_error_set(TIDU_EINVAL, _("'%s' names no question of the form"),
					    tidu_buf_cstr(&p));
		else
			rc = tidu_error_set(TIDU_EINVAL, _("'%s': '%s' is not at this level of the form"),
					    tidu_buf_cstr(&p), key);
		tidu_buf_free(&p);
		return rc;
	}
	if (a->f->q[q].type == TIDU_Q_BEGIN_REPEAT) {
		slot *rs = slot_of(a, q, &at);

		if (tidu_json_typeof(v) != TIDU_JSON_ARRAY)
			return refuse(a, q, &at, _("'%s' is a repeat: give an array of objects"));
		for (k = 0; k < tidu_json_count(v); k++) {
			const tidu_json *o = tidu_json_at(v, k);

			if (tidu_json_typeof(o) != TIDU_JSON_OBJECT)
				return refuse(a, q, &at, _("'%s' is a repeat: give an array of objects"));
			if (rs->nkids >= TIDU_ANSWERS_MAX_INSTANCES)
				return refuse(a, q, &at, _("'%s' has too many instances"));
			if (k >= rs->nkids)
				add_inst(a, rs, q);
			pos[n] = k + 1;
			if ((rc = load_obj(a, q, pos, n + 1, o, g)) < 0)
				return rc;
			rs = slot_of(a, q, &at);
		}
		gv = given_add(g);
		gv->q = q;
		gv->at = at;
		gv->calc = tidu_strprintf("%zu", tidu_json_count(v));
		return 0;
	}
	if (is_meta(a->f->q[q].type))
		return 0; /* tidu fills them */
	if (!other && a->f->q[q].type != TIDU_Q_CALCULATE && !a->f->q[q].calculation &&
	    (rc = settable(a, q, &at)) < 0)
		return rc;
	if (!(text = json_text(a, q, pos, v)))
		return TIDU_EINVAL;
	s = slot_of(a, q, &at);
	gv = given_add(g);
	gv->q = q;
	gv->at = at;
	gv->other = other;
	if (a->f->q[q].type == TIDU_Q_CALCULATE || a->f->q[q].calculation) {
		gv->calc = text;
		return 0;
	}
	gv->prev = dup_or_null(s->val);
	if (other) {
		rc = tidu_answers_set_other(a, q, &at, text);
		free(text);
		return rc;
	}
	if (*text && (rc = validate(a, q, pos, text, 0, &canon)) < 0) {
		free(text);
		return rc;
	}
	free(text);
	free(s->val);
	s->val = canon && *canon ? canon : NULL;
	changed(a);
	if (canon && !*canon)
		free(canon);
	return 0;
}

static int load_obj(tidu_answers *a, size_t scope, size_t *pos, size_t n, const tidu_json *obj,
		    givens *g)
{
	size_t i;
	int rc;

	for (i = 0; i < tidu_json_count(obj); i++)
		if ((rc = load_member(a, scope, pos, n, tidu_json_key_at(obj, i),
				      tidu_json_at(obj, i), g)) < 0)
			return rc;
	return 0;
}

static int check_given(tidu_answers *a, const given *g)
{
	const tidu_form_question *fq = &a->f->q[g->q];
	const slot *s = slot_of(a, g->q, &g->at);
	int r;

	if (fq->type == TIDU_Q_BEGIN_REPEAT) {
		char *want;
		size_t nw;

		if (!fq->repeat_count)
			return 0;
		if ((r = count_want(a, g->q, g->at.pos, g->at.n, &nw)) < 0)
			return r;
		want = tidu_strprintf("%zu", nw);
		r = strcmp(want, g->calc);
		if (r) {
			tidu_buf p = TIDU_BUF_INIT;

			tidu_answers_path(a, g->q, &g->at, &p);
			r = tidu_error_set(TIDU_EINVAL,
					   _("'%s' has %s instances, but its repeat_count says %s"),
					   tidu_buf_cstr(&p), g->calc, want);
			tidu_buf_free(&p);
		}
		free(want);
		return r;
	}
	if ((r = tidu_answers_relevant(a, g->q, &g->at)) <= 0) {
		if (r < 0)
			return r;
		if (!g->calc && !g->other && !s->val)
			return 0; /* null for a question not asked: nothing */
		return refuse(a, g->q, &g->at,
			      _("question '%s' is not asked here (its relevant is false)"));
	}
	if (g->calc) {
		if (!*g->calc && !s->val)
			return 0;
		if (s->val && !strcmp(s->val, g->calc))
			return 0;
		{
			tidu_buf p = TIDU_BUF_INIT;

			tidu_answers_path(a, g->q, &g->at, &p);
			r = tidu_error_set(TIDU_EINVAL,
					   _("'%s' is calculated (%s), not '%s': leave it out"),
					   tidu_buf_cstr(&p), s->val ? s->val : "", g->calc);
			tidu_buf_free(&p);
		}
		return r;
	}
	if (!g->other && !same(g->prev, s->val) &&
	    (r = tidu_answers_read_only(a, g->q, &g->at)) != 0)
		return r < 0 ? r : refuse(a, g->q, &g->at, _("'%s' is read-only"));
	if (!g->other && s->val && !a->defer) {
		char *canon = NULL;

		if (needs_filter_check(fq) && (r = validate(a, g->q, g->at.pos, s->val, 1, &canon)) < 0)
			return r;
		free(canon);
		if ((r = check_constraint(a, g->q, g->at.pos, s->val)) < 0)
			return r;
	}
	return 0;
}

void tidu_answers_defer_checks(tidu_answers *a, int on)
{
	a->defer = on != 0;
}

int tidu_answers_from_json(tidu_answers *a, const tidu_json *obj)
{
	size_t pos[TIDU_ANSWERS_MAX_DEPTH + 1], i;
	givens g = {NULL, 0, 0};
	int rc;

	if (tidu_json_typeof(obj) != TIDU_JSON_OBJECT)
		return tidu_error_set(TIDU_EINVAL, "%s", _("the answers must be a JSON object"));
	a->loading = 1;
	rc = load_obj(a, TIDU_FORM_TOP, pos, 0, obj, &g);
	if (rc == 0)
		rc = recompute(a);
	for (i = 0; i < g.n && rc == 0; i++)
		rc = check_given(a, &g.v[i]);
	a->loading = 0;
	for (i = 0; i < a->f->nq; i++)
		if (a->f->q[i].type == TIDU_Q_BEGIN_REPEAT && a->f->q[i].repeat_count) {
			changed(a); /* the repeat counts apply from now on */
			break;
		}
	if (rc == 0)
		rc = recompute(a);
	for (i = 0; i < g.n; i++) {
		free(g.v[i].calc);
		free(g.v[i].prev);
	}
	free(g.v);
	return rc;
}

static int write_scope(tidu_answers *a, tidu_json_writer *w, size_t scope, size_t *pos, size_t n)
{
	size_t from = scope == TIDU_FORM_TOP ? 0 : scope + 1;
	size_t to = scope == TIDU_FORM_TOP ? a->f->nq : a->f->q[scope].end, i, k;
	tidu_answers_at at;
	int r;

	at.n = n;
	memcpy(at.pos, pos, n * sizeof(*pos));
	tidu_json_begin_object(w);
	for (i = from; i < to; i++) {
		const tidu_form_question *fq = &a->f->q[i];
		const slot *s;

		if (a->scope[i] != scope)
			continue;
		if (fq->type == TIDU_Q_BEGIN_REPEAT) {
			size_t cnt = tidu_answers_count(a, i, &at);

			if ((r = rel_at(a, i, pos, n)) < 0)
				return r;
			if (!r || !cnt)
				continue;
			tidu_json_write_key(w, fq->name);
			tidu_json_begin_array(w);
			for (k = 1; k <= cnt; k++) {
				pos[n] = k;
				if ((r = write_scope(a, w, i, pos, n + 1)) < 0)
					return r;
			}
			tidu_json_end_array(w);
			continue;
		}
		s = slot_of(a, i, &at);
		if (!s || !fq->name)
			continue;
		if (!(s->val || s->other) && !(fq->default_text && *fq->default_text))
			continue;
		if ((r = rel_at(a, i, pos, n)) < 0)
			return r;
		if (!r)
			continue;
		if (!s->val && !s->other && !fq->calculation && tidu_qtype_has_value(fq->type) &&
		    !is_meta(fq->type)) {
			/* a default cleared: null, so that loading this gives the same */
			tidu_json_write_key(w, fq->name);
			tidu_json_write_null(w);
			continue;
		}
		if (s->val) {
			tidu_json_write_key(w, fq->name);
			if (fq->type == TIDU_Q_INTEGER) {
				int64_t v;

				if (tidu_parse_int64(s->val, &v) == 0)
					tidu_json_write_int64(w, v);
				else
					tidu_json_write_string(w, s->val);
			} else if (fq->type == TIDU_Q_DECIMAL && !fq->calculation) {
				double d;

				if (tidu_parse_number(s->val, &d, NULL) == 0)
					tidu_json_write_double(w, d);
				else
					tidu_json_write_string(w, s->val);
			} else if (fq->type == TIDU_Q_SELECT_MULTIPLE) {
				char *dup = tidu_strdup(s->val), *t, *save = NULL;

				tidu_json_begin_array(w);
				for (t = strtok_r(dup, " ", &save); t; t = strtok_r(NULL, " ", &save))
					tidu_json_write_string(w, t);
				tidu_json_end_array(w);
				free(dup);
			} else
				tidu_json_write_string(w, s->val);
		}
		if (s->other) {
			char *key = tidu_strprintf("%s_other", fq->name);

			tidu_json_write_key(w, key);
			tidu_json_write_string(w, s->other);
			free(key);
		}
	}
	return tidu_json_end_object(w);
}

int tidu_answers_to_json(tidu_answers *a, tidu_json_writer *w)
{
	size_t pos[TIDU_ANSWERS_MAX_DEPTH + 1];
	int rc;

	if ((rc = recompute(a)) < 0)
		return rc;
	return write_scope(a, w, TIDU_FORM_TOP, pos, 0);
}

int tidu_answers_save_to(tidu_answers *a, tidu_kv **out, size_t *n)
{
	size_t q, pos[1] = {0};
	int r;

	*out = NULL;
	*n = 0;
	for (q = 0; q < a->f->nq; q++) {
		const tidu_form_question *fq = &a->f->q[q];
		const slot *s;

		if (!fq->save_to || a->depth[q] || fq->type == TIDU_Q_BEGIN_REPEAT)
			continue;
		s = slot_of(a, q, NULL);
		if (!s || !s->val)
			continue;
		if ((r = rel_at(a, q, pos, 0)) < 0) {
			free(*out);
			*out = NULL;
			*n = 0;
			return r;
		}
		if (!r)
			continue;
		*out = tidu_reallocarray(*out, *n + 1, sizeof(**out));
		(*out)[*n].key = fq->save_to;
		(*out)[*n].value = fq->type == TIDU_Q_ACKNOWLEDGE ? "1" : s->val;
		(*n)++;
	}
	return 0;
}
