/*
 * Reading rule packs (docs/assess.md, "The pack language"): one statement
 * per line, a keyword and its arguments; `zh`/`en` lines label the item
 * above them. Expressions are parsed here into trees that assess.c
 * evaluates; every name is resolved at load (a let defined above, a
 * dictionary field, Y), so a pack that loads cannot fail at evaluation.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assess_int.h"
#include "tidu/alloc.h"
#include "tidu/buf.h"
#include "tidu/embedded.h"
#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/parse.h"
#include "tidu/utf8.h"

#define MAX_DEPTH 64 /* expression nesting: deeper is refused, never a deep recursion */

typedef enum { C_PACK, C_NOTE, C_TIER, C_CAT, C_IND, C_REQ, C_DIRECT, C_JUDGE } cur_kind;

typedef struct {
	const char *name; /* for messages */
	int line;
	tidu_pack *p;
	p_tier *tier;     /* the tier being read, or NULL */
	cur_kind cur;
	/* expression parsing */
	const char *s;
	int depth;
	char *err;        /* the reason, when a parse failed */
} rd;

static int fail(rd *r, const char *fmt, ...) TIDU_PRINTF(2, 3);

static int fail(rd *r, const char *fmt, ...)
{
	tidu_buf b = TIDU_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	tidu_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	tidu_error_set(TIDU_EINVAL, _("rule pack %s:%d: %s"), r->name, r->line, b.ptr);
	tidu_buf_free(&b);
	return TIDU_EINVAL;
}

const char *tidu_assess_label(const char *zh, const char *en)
{
	if (tidu_i18n_is_zh())
		return zh && *zh ? zh : en ? en : "";
	return en && *en ? en : zh ? zh : "";
}

/* ------------------------------------------------------------ freeing */

static void node_free(x_node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->nargs; i++)
		node_free(n->args[i]);
	free(n->args);
	free(n->str);
	free(n);
}

static void cond_free(p_cond *c)
{
	free(c->id);
	free(c->zh);
	free(c->en);
	node_free(c->test);
	node_free(c->exempt);
}

static void tier_free(p_tier *t)
{
	size_t i, j;

	free(t->zh);
	free(t->en);
	free(t->from);
	for (i = 0; i < t->ncats; i++) {
		free(t->cats[i].id);
		free(t->cats[i].zh);
		free(t->cats[i].en);
	}
	free(t->cats);
	for (i = 0; i < t->ninds; i++) {
		p_ind *d = &t->inds[i];

		free(d->id);
		free(d->category);
		free(d->zh);
		free(d->en);
		free(d->unit);
		node_free(d->value);
		for (j = 0; j < d->nbands; j++) {
			node_free(d->bands[j].cond);
			free(d->bands[j].text);
		}
		free(d->bands);
	}
	free(t->inds);
	for (i = 0; i < t->nreqs; i++)
		cond_free(&t->reqs[i]);
	free(t->reqs);
	for (i = 0; i < t->ndirects; i++)
		cond_free(&t->directs[i]);
	free(t->directs);
	for (i = 0; i < t->njudges; i++) {
		free(t->judges[i].id);
		free(t->judges[i].zh);
		free(t->judges[i].en);
	}
	free(t->judges);
}

static void pack_free(tidu_pack *p)
{
	size_t i;

	if (!p)
		return;
	free(p->id);
	free(p->zh);
	free(p->en);
	free(p->name);
	free(p->text);
	for (i = 0; i < p->nnotes; i++) {
		free(p->notes[i].id);
		free(p->notes[i].zh);
		free(p->notes[i].en);
	}
	free(p->notes);
	for (i = 0; i < p->nlets; i++) {
		free(p->lets[i].id);
		node_free(p->lets[i].expr);
	}
	free(p->lets);
	for (i = 0; i < 3; i++)
		tier_free(&p->tiers[i]);
	free(p);
}

/* ------------------------------------------------------- expressions */

static void skip_ws(rd *r)
{
	while (*r->s == ' ' || *r->s == '\t')
		r->s++;
}

static int is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* The identifier at r->s (advanced past it) into `out`; 0 if none. */
static int ident(rd *r, char *out, size_t size)
{
	size_t n = 0;

	skip_ws(r);
	if (!is_ident_start(*r->s))
		return 0;
	while (is_ident(r->s[n]))
		n++;
	if (n >= size)
		return 0;
	memcpy(out, r->s, n);
	out[n] = '\0';
	r->s += n;
	return 1;
}

/* Consumes `tok` if it comes next (a word must not run on). */
static int accept(rd *r, const char *tok)
{
	size_t n = strlen(tok);

	skip_ws(r);
	if (strncmp(r->s, tok, n) != 0)
		return 0;
	if (is_ident(tok[n - 1]) && is_ident(r->s[n]))
		return 0;
	r->s += n;
	return 1;
}

static x_node *new_node(x_kind kind)
{
	x_node *n = tidu_calloc(1, sizeof(*n));

	n->kind = kind;
	return n;
}

static void add_arg(x_node *n, x_node *a)
{
	n->args = tidu_reallocarray(n->args, n->nargs + 1, sizeof(*n->args));
	n->args[n->nargs++] = a;
}

static x_node *bin(int op, x_node *a, x_node *b)
{
	x_node *n = new_node(X_BIN);

	n->op = op;
	add_arg(n, a);
	add_arg(n, b);
	return n;
}

static x_node *parse_or(rd *r);

static const struct {
	const char *name;
	x_fn fn;
	int min, max; /* arguments; max -1: any number */
} fns[] = {
	{"pct", F_PCT, 2, 2},     {"growth", F_GROWTH, 2, 2}, {"cagr", F_CAGR, 3, 3},
	{"avg", F_AVG, 1, -1},    {"min", F_MIN, 1, -1},      {"max", F_MAX, 1, -1},
	{"if", F_IF, 3, 3},       {"count", F_COUNT, 1, -1},  {"in", F_IN, 2, -1},
	{"floor", F_FLOOR, 1, 1},
};

/* A string literal in double quotes (no escapes: the values are choice codes). */
static x_node *parse_string(rd *r)
{
	const char *end = strchr(r->s + 1, '"');
	x_node *n;

	if (!end) {
		r->err = tidu_strdup(_("a string without its closing '\"'"));
		return NULL;
	}
	n = new_node(X_STR);
	n->str = tidu_strndup(r->s + 1, (size_t)(end - r->s - 1));
	r->s = end + 1;
	return n;
}

static x_node *parse_number(rd *r)
{
	char buf[64];
	size_t n = strspn(r->s, "0123456789.");
	x_node *x;
	double v;

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, r->s, n);
	buf[n] = '\0';
	if (tidu_parse_number(buf, &v, NULL) < 0) {
		tidu_error_clear();
		r->err = tidu_strprintf(_("'%s' is not a number"), buf);
		return NULL;
	}
	r->s += n;
	x = new_node(X_NUM);
	x->num = v;
	return x;
}

/* name[Y], name[Y-1], ...: the year offset. */
static int parse_year_index(rd *r, int *off)
{
	long k = 0;

	if (!accept(r, "Y"))
		return 0;
	skip_ws(r);
	if (*r->s == '-' || *r->s == '+') {
		int sign = *r->s == '-' ? -1 : 1;

		r->s++;
		skip_ws(r);
		if (!isdigit((unsigned char)*r->s))
			return 0;
		while (isdigit((unsigned char)*r->s) && k < 100)
			k = k * 10 + (*r->s++ - '0');
		k *= sign;
	}
	if (k < -10 || k > 0 || !accept(r, "]"))
		return 0;
	*off = (int)k;
	return 1;
}

static x_node *parse_name(rd *r, const char *name)
{
	const tidu_field *f;
	x_node *n;
	size_t i;

	if (!strcmp(name, "Y"))
		return new_node(X_YEAR);
	if (!strcmp(name, "true") || !strcmp(name, "false")) {
		n = new_node(X_NUM);
		n->num = name[0] == 't';
		return n;
	}
	for (i = 0; i < r->p->nlets; i++)
		if (!strcmp(r->p->lets[i].id, name)) {
			n = new_node(X_LET);
			n->let = i;
			return n;
		}
	if ((f = tidu_dict_field(TIDU_ENTITY_FIRM_YEAR, name))) {
		int off;

		if (!accept(r, "[") || !parse_year_index(r, &off)) {
			r->err = tidu_strprintf(
				_("'%s' is a yearly figure: write %s[Y], %s[Y-1], ..."), name, name, name);
			return NULL;
		}
		n = new_node(X_YFIELD);
		n->field = f;
		n->yoff = off;
		return n;
	}
	if ((f = tidu_dict_field(TIDU_ENTITY_FIRM, name)) && strcmp(name, "uscc") != 0) {
		n = new_node(X_FIELD);
		n->field = f;
		return n;
	}
	r->err = tidu_strprintf(_("unknown name '%s' (not a let above, a firm field or Y)"), name);
	return NULL;
}

static x_node *parse_call(rd *r, const char *name)
{
	x_node *n;
	size_t i;

	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (!strcmp(fns[i].name, name))
			break;
	if (i == sizeof(fns) / sizeof(fns[0])) {
		r->err = tidu_strprintf(_("unknown function '%s'"), name);
		return NULL;
	}
	n = new_node(X_CALL);
	n->fn = fns[i].fn;
	if (!accept(r, ")")) {
		do {
			x_node *a = parse_or(r);

			if (!a) {
				node_free(n);
				return NULL;
			}
			add_arg(n, a);
		} while (accept(r, ","));
		if (!accept(r, ")")) {
			node_free(n);
			r->err = tidu_strprintf(_("'%s(' without its ')'"), name);
			return NULL;
		}
	}
	if ((int)n->nargs < fns[i].min || (fns[i].max >= 0 && (int)n->nargs > fns[i].max) ||
	    n->nargs > X_MAX_ARGS) {
		r->err = tidu_strprintf(_("wrong number of arguments to '%s'"), name);
		node_free(n);
		return NULL;
	}
	/* A choice code compared with an enum field must be one of its values. */
	if (n->fn == F_IN && n->args[0]->kind == X_FIELD && n->args[0]->field->choices[0]) {
		for (i = 1; i < n->nargs; i++)
			if (n->args[i]->kind == X_STR &&
			    !tidu_dict_choice_label(n->args[0]->field->choices, n->args[i]->str)) {
				r->err = tidu_strprintf(_("'%s' is not a value of '%s' (%s)"),
					n->args[i]->str, n->args[0]->field->key,
					tidu_dict_choice_values(n->args[0]->field->choices));
				node_free(n);
				return NULL;
			}
	}
	return n;
}

static x_node *parse_primary(rd *r)
{
	char name[64];
	x_node *n;

	skip_ws(r);
	if (++r->depth > MAX_DEPTH) {
		r->err = tidu_strdup(_("the expression is nested too deeply"));
		return NULL;
	}
	if (*r->s == '(') {
		r->s++;
		if (!(n = parse_or(r)))
			return NULL;
		if (!accept(r, ")")) {
			node_free(n);
			r->err = tidu_strdup(_("'(' without its ')'"));
			return NULL;
		}
	} else if (*r->s == '"') {
		n = parse_string(r);
	} else if (isdigit((unsigned char)*r->s) || *r->s == '.') {
		n = parse_number(r);
	} else if (*r->s == '-') {
		r->s++;
		if (!(n = parse_primary(r)))
			return NULL;
		x_node *neg = new_node(X_NEG);

		add_arg(neg, n);
		n = neg;
	} else if (ident(r, name, sizeof(name))) {
		n = accept(r, "(") ? parse_call(r, name) : parse_name(r, name);
	} else {
		r->err = *r->s ? tidu_strprintf(_("unexpected '%.8s'"), r->s)
			       : tidu_strdup(_("the expression ends too soon"));
		return NULL;
	}
	r->depth--;
	return n;
}

static x_node *parse_mul(rd *r)
{
	x_node *a = parse_primary(r), *b;

	while (a) {
		int op = accept(r, "*") ? OP_MUL : accept(r, "/") ? OP_DIV : 0;

		if (!op)
			break;
		if (!(b = parse_primary(r))) {
			node_free(a);
			return NULL;
		}
		a = bin(op, a, b);
	}
	return a;
}

static x_node *parse_add(rd *r)
{
	x_node *a = parse_mul(r), *b;

	while (a) {
		int op = accept(r, "+") ? OP_ADD : accept(r, "-") ? OP_SUB : 0;

		if (!op)
			break;
		if (!(b = parse_mul(r))) {
			node_free(a);
			return NULL;
		}
		a = bin(op, a, b);
	}
	return a;
}

static int cmp_op(rd *r)
{
	return accept(r, ">=") ? OP_GE : accept(r, "<=") ? OP_LE : accept(r, "==") ? OP_EQ
	     : accept(r, "!=") ? OP_NE : accept(r, ">") ? OP_GT : accept(r, "<") ? OP_LT : 0;
}

static x_node *parse_cmp(rd *r)
{
	x_node *a = parse_add(r), *b;
	int op;

	if (!a || !(op = cmp_op(r)))
		return a;
	if (!(b = parse_add(r))) {
		node_free(a);
		return NULL;
	}
	if ((op == OP_EQ || op == OP_NE) && a->kind == X_FIELD && b->kind == X_STR &&
	    a->field->choices[0] && !tidu_dict_choice_label(a->field->choices, b->str)) {
		r->err = tidu_strprintf(_("'%s' is not a value of '%s' (%s)"), b->str,
					a->field->key, tidu_dict_choice_values(a->field->choices));
		node_free(a);
		node_free(b);
		return NULL;
	}
	return bin(op, a, b);
}

static x_node *parse_not(rd *r)
{
	x_node *a, *n;

	if (!accept(r, "not"))
		return parse_cmp(r);
	if (++r->depth > MAX_DEPTH) {
		r->err = tidu_strdup(_("the expression is nested too deeply"));
		return NULL;
	}
	if (!(a = parse_not(r)))
		return NULL;
	r->depth--;
	n = new_node(X_NOT);
	add_arg(n, a);
	return n;
}

static x_node *parse_and(rd *r)
{
	x_node *a = parse_not(r), *b;

	while (a && accept(r, "and")) {
		if (!(b = parse_not(r))) {
			node_free(a);
			return NULL;
		}
		a = bin(OP_AND, a, b);
	}
	return a;
}

static x_node *parse_or(rd *r)
{
	x_node *a = parse_and(r), *b;

	while (a && accept(r, "or")) {
		if (!(b = parse_and(r))) {
			node_free(a);
			return NULL;
		}
		a = bin(OP_OR, a, b);
	}
	return a;
}

/* A whole expression: `text` up to its end, or up to " => " when `arrow`. */
static int parse_expr(rd *r, const char *text, x_node **out)
{
	x_node *n;

	r->s = text;
	r->depth = 0;
	free(r->err);
	r->err = NULL;
	n = parse_or(r);
	if (n) {
		skip_ws(r);
		if (*r->s && strncmp(r->s, "=>", 2) != 0) {
			r->err = tidu_strprintf(_("unexpected '%.8s'"), r->s);
			node_free(n);
			n = NULL;
		}
	}
	if (!n) {
		int e = fail(r, "%s", r->err ? r->err : _("not an expression"));

		free(r->err);
		r->err = NULL;
		return e;
	}
	*out = n;
	return 0;
}

/* ------------------------------------------------------- statements */

static p_tier *need_tier(rd *r, const char *kw)
{
	if (!r->tier)
		fail(r, _("'%s' outside a tier"), kw);
	return r->tier;
}

/* The zh/en slots of the item being read. */
static void label_slots(rd *r, char ***zh, char ***en)
{
	tidu_pack *p = r->p;
	p_tier *t = r->tier;

	switch (r->cur) {
	case C_PACK: *zh = &p->zh; *en = &p->en; break;
	case C_NOTE: *zh = &p->notes[p->nnotes - 1].zh; *en = &p->notes[p->nnotes - 1].en; break;
	case C_TIER: *zh = &t->zh; *en = &t->en; break;
	case C_CAT: *zh = &t->cats[t->ncats - 1].zh; *en = &t->cats[t->ncats - 1].en; break;
	case C_IND: *zh = &t->inds[t->ninds - 1].zh; *en = &t->inds[t->ninds - 1].en; break;
	case C_REQ: *zh = &t->reqs[t->nreqs - 1].zh; *en = &t->reqs[t->nreqs - 1].en; break;
	case C_DIRECT:
		*zh = &t->directs[t->ndirects - 1].zh;
		*en = &t->directs[t->ndirects - 1].en;
		break;
	case C_JUDGE:
		*zh = &t->judges[t->njudges - 1].zh;
		*en = &t->judges[t->njudges - 1].en;
		break;
	}
}

/* An id: lower-case letters, digits and '_', at most 40 bytes. */
static int valid_id(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 40 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n &&
	       !isdigit((unsigned char)s[0]);
}

/* Splits the argument words of a statement (at most `max`), in place. */
static size_t words(char *s, char **w, size_t max)
{
	size_t n = 0;

	while (*s && n < max) {
		while (*s == ' ' || *s == '\t')
			*s++ = '\0';
		if (!*s)
			break;
		w[n++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
	}
	return n;
}

static int parse_points(rd *r, const char *s, double max, double *out)
{
	double v;

	if (tidu_parse_number(s, &v, NULL) < 0) {
		tidu_error_clear();
		return fail(r, _("'%s' is not a number of points"), s);
	}
	if (v < 0 || v > max)
		return fail(r, _("%s points is outside 0 to the indicator's maximum %g"), s, max);
	*out = v;
	return 0;
}

static p_ind *cur_ind(rd *r, const char *kw)
{
	if (r->cur != C_IND || !r->tier) {
		fail(r, _("'%s' outside an indicator"), kw);
		return NULL;
	}
	return &r->tier->inds[r->tier->ninds - 1];
}

static p_cond *cur_cond(rd *r, const char *kw)
{
	if (r->cur == C_REQ)
		return &r->tier->reqs[r->tier->nreqs - 1];
	if (r->cur == C_DIRECT)
		return &r->tier->directs[r->tier->ndirects - 1];
	fail(r, _("'%s' outside a require or direct condition"), kw);
	return NULL;
}

/* The "indicator ID CATEGORY MAX" statement. */
static int st_indicator(rd *r, char *args)
{
	char *w[4];
	p_tier *t = need_tier(r, "indicator");
	p_ind *d;
	double max;
	size_t i;

	if (!t)
		return TIDU_EINVAL;
	if (words(args, w, 4) != 3)
		return fail(r, "%s", _("write: indicator ID CATEGORY MAX"));
	if (!valid_id(w[0]))
		return fail(r, _("'%s' is not an id (a-z, 0-9, _)"), w[0]);
	for (i = 0; i < t->ninds; i++)
		if (!strcmp(t->inds[i].id, w[0]))
			return fail(r, _("%s '%s' is defined twice"), "indicator", w[0]);
	for (i = 0; i < t->ncats; i++)
		if (!strcmp(t->cats[i].id, w[1]))
			break;
	if (i == t->ncats)
		return fail(r, _("unknown category '%s' (declare it with 'category' first)"), w[1]);
	if (tidu_parse_number(w[2], &max, NULL) < 0 || max <= 0 || max > 1000) {
		tidu_error_clear();
		return fail(r, _("'%s' is not a maximum of points"), w[2]);
	}
	t->inds = tidu_reallocarray(t->inds, t->ninds + 1, sizeof(*t->inds));
	d = &t->inds[t->ninds++];
	memset(d, 0, sizeof(*d));
	d->id = tidu_strdup(w[0]);
	d->category = tidu_strdup(w[1]);
	d->max = max;
	d->kind = IND_BANDS;
	d->line = r->line;
	r->cur = C_IND;
	return 0;
}

static int st_band(rd *r, const char *kw, char *args)
{
	p_ind *d = cur_ind(r, kw);
	char *arrow;
	p_band b = {0};
	int error;

	if (!d)
		return TIDU_EINVAL;
	if (d->kind == IND_POINTS)
		return fail(r, "%s", _("an indicator with 'points' has no bands"));
	if (!(arrow = strstr(args, "=>")))
		return fail(r, _("write: %s ... => POINTS"), kw);
	if ((error = parse_points(r, arrow + 2 + strspn(arrow + 2, " \t"), d->max, &b.points)) < 0)
		return error;
	if (!strcmp(kw, "band")) {
		char *w[3];

		if (d->nbands && d->bands[0].op == 0)
			return fail(r, "%s", _("an indicator has 'band' or 'when' lines, not both"));
		*arrow = '\0';
		if (!d->value)
			return fail(r, "%s", _("'band' needs the indicator's 'value' above it"));
		if (words(args, w, 3) != 2)
			return fail(r, "%s", _("write: band >=|>|<=|< NUMBER => POINTS"));
		b.op = !strcmp(w[0], ">=") ? OP_GE : !strcmp(w[0], ">") ? OP_GT
		     : !strcmp(w[0], "<=") ? OP_LE : !strcmp(w[0], "<") ? OP_LT : 0;
		if (!b.op)
			return fail(r, _("'%s' is not one of >=, >, <=, <"), w[0]);
		if (tidu_parse_number(w[1], &b.bound, NULL) < 0) {
			tidu_error_clear();
			return fail(r, _("'%s' is not a number"), w[1]);
		}
	} else {
		size_t len = (size_t)(arrow - args);

		if (d->value || (d->nbands && d->bands[0].op != 0))
			return fail(r, "%s", _("an indicator has 'band' or 'when' lines, not both"));
		if ((error = parse_expr(r, args, &b.cond)) < 0)
			return error;
		while (len && (args[len - 1] == ' ' || args[len - 1] == '\t'))
			len--;
		b.text = tidu_strndup(args, len);
		d->kind = IND_WHEN;
	}
	d->bands = tidu_reallocarray(d->bands, d->nbands + 1, sizeof(*d->bands));
	d->bands[d->nbands++] = b;
	return 0;
}

static int st_cond(rd *r, const char *kw, char *args)
{
	p_tier *t = need_tier(r, kw);
	int direct = !strcmp(kw, "direct");
	p_cond *c, **arr;
	size_t *n, i;
	char *w[2];

	if (!t)
		return TIDU_EINVAL;
	if (words(args, w, 2) != 1 || !valid_id(w[0]))
		return fail(r, _("write: %s ID"), kw);
	arr = direct ? &t->directs : &t->reqs;
	n = direct ? &t->ndirects : &t->nreqs;
	for (i = 0; i < *n; i++)
		if (!strcmp((*arr)[i].id, w[0]))
			return fail(r, _("%s '%s' is defined twice"), kw, w[0]);
	*arr = tidu_reallocarray(*arr, *n + 1, sizeof(**arr));
	c = &(*arr)[(*n)++];
	memset(c, 0, sizeof(*c));
	c->id = tidu_strdup(w[0]);
	c->line = r->line;
	r->cur = direct ? C_DIRECT : C_REQ;
	return 0;
}

static int st_judge(rd *r, char *args)
{
	p_tier *t = need_tier(r, "judge");
	tidu_buf key = TIDU_BUF_INIT;
	const tidu_field *f;
	p_judge *j;
	char *w[2];

	if (!t)
		return TIDU_EINVAL;
	if (words(args, w, 2) != 1 || !valid_id(w[0]))
		return fail(r, "%s", _("write: judge ID"));
	tidu_buf_printf(&key, "judge.%s", w[0]);
	f = tidu_dict_field(TIDU_ENTITY_FIRM, key.ptr);
	if (!f || f->type != TIDU_T_BOOL) {
		int e = fail(r, _("judgement '%s' has no yes/no firm field '%s' in the dictionary"),
			     w[0], key.ptr);

		tidu_buf_free(&key);
		return e;
	}
	tidu_buf_free(&key);
	t->judges = tidu_reallocarray(t->judges, t->njudges + 1, sizeof(*t->judges));
	j = &t->judges[t->njudges++];
	memset(j, 0, sizeof(*j));
	j->id = tidu_strdup(w[0]);
	j->field = f;
	r->cur = C_JUDGE;
	return 0;
}

static int st_tier(rd *r, char *args)
{
	char *w[4];
	size_t n = words(args, w, 4);
	int64_t k;

	if ((n != 1 && n != 3) || tidu_parse_int64(w[0], &k) < 0 || k < 1 || k > 3 ||
	    (n == 3 && strcmp(w[1], "from") != 0)) {
		tidu_error_clear();
		return fail(r, "%s", _("write: tier 1|2|3 [from PACK]"));
	}
	r->tier = &r->p->tiers[k - 1];
	if (r->tier->present)
		return fail(r, _("tier %d is defined twice"), (int)k);
	r->tier->present = 1;
	r->tier->line = r->line;
	if (n == 3) {
		if (!strcmp(w[2], r->p->id ? r->p->id : ""))
			return fail(r, "%s", _("a tier cannot come from its own pack"));
		r->tier->from = tidu_strdup(w[2]);
	}
	r->cur = C_TIER;
	return 0;
}

static int st_category(rd *r, char *args)
{
	p_tier *t = need_tier(r, "category");
	char *w[3];
	p_cat *c;
	size_t i;

	if (!t)
		return TIDU_EINVAL;
	if (words(args, w, 3) != 2 || !valid_id(w[0]))
		return fail(r, "%s", _("write: category ID FLOOR"));
	for (i = 0; i < t->ncats; i++)
		if (!strcmp(t->cats[i].id, w[0]))
			return fail(r, _("%s '%s' is defined twice"), "category", w[0]);
	t->cats = tidu_reallocarray(t->cats, t->ncats + 1, sizeof(*t->cats));
	c = &t->cats[t->ncats++];
	memset(c, 0, sizeof(*c));
	c->id = tidu_strdup(w[0]);
	if (tidu_parse_number(w[1], &c->floor, NULL) < 0 || c->floor < 0) {
		tidu_error_clear();
		return fail(r, _("'%s' is not a floor of points"), w[1]);
	}
	r->cur = C_CAT;
	return 0;
}

/* One statement: `kw` and the rest of the line `args` (trimmed). */
static int statement(rd *r, const char *kw, char *args)
{
	tidu_pack *p = r->p;
	int error;

	if (!strcmp(kw, "zh") || !strcmp(kw, "en")) {
		char **zh = NULL, **en = NULL, **slot;

		label_slots(r, &zh, &en);
		slot = kw[0] == 'z' ? zh : en;
		if (*slot)
			return fail(r, _("a second '%s' label for the same item"), kw);
		if (!*args)
			return fail(r, _("an empty '%s' label"), kw);
		*slot = tidu_strdup(args);
		return 0;
	}
	if (!strcmp(kw, "pack")) {
		if (p->id)
			return fail(r, "%s", _("a second 'pack' line"));
		if (!*args || strspn(args, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(args))
			return fail(r, _("'%s' is not a pack id (a-z, 0-9, '-')"), args);
		p->id = tidu_strdup(args);
		return 0;
	}
	if (!p->id)
		return fail(r, "%s", _("the pack must start with 'pack ID'"));
	if (!strcmp(kw, "version")) {
		int64_t v;

		if (tidu_parse_int64(args, &v) < 0 || v < 1 || v > 1000000) {
			tidu_error_clear();
			return fail(r, _("'%s' is not a version (1, 2, ...)"), args);
		}
		p->version = (int)v;
		return 0;
	}
	if (!strcmp(kw, "in_force")) {
		int y, m, d;

		if (strlen(args) != 10 || tidu_parse_date(args, &y, &m, &d) < 0) {
			tidu_error_clear();
			return fail(r, _("'%s' is not a date (YYYY-MM-DD)"), args);
		}
		memcpy(p->in_force, args, 11);
		return 0;
	}
	if (!strcmp(kw, "note")) {
		if (r->tier)
			return fail(r, "%s", _("'note' belongs above the tiers"));
		if (!valid_id(args))
			return fail(r, _("'%s' is not an id (a-z, 0-9, _)"), args);
		p->notes = tidu_reallocarray(p->notes, p->nnotes + 1, sizeof(*p->notes));
		memset(&p->notes[p->nnotes], 0, sizeof(p->notes[0]));
		p->notes[p->nnotes++].id = tidu_strdup(args);
		r->cur = C_NOTE;
		return 0;
	}
	if (!strcmp(kw, "let")) {
		char name[64];
		const char *rest;
		x_node *e;
		size_t i;

		if (r->tier)
			return fail(r, "%s", _("'let' belongs above the tiers"));
		r->s = args;
		if (!ident(r, name, sizeof(name)) || !valid_id(name))
			return fail(r, "%s", _("write: let NAME EXPRESSION"));
		rest = r->s;
		for (i = 0; i < p->nlets; i++)
			if (!strcmp(p->lets[i].id, name))
				return fail(r, _("%s '%s' is defined twice"), "let", name);
		if (tidu_dict_field(TIDU_ENTITY_FIRM, name) ||
		    tidu_dict_field(TIDU_ENTITY_FIRM_YEAR, name))
			return fail(r, _("let '%s' would hide the firm field of that name"), name);
		if ((error = parse_expr(r, rest, &e)) < 0)
			return error;
		p->lets = tidu_reallocarray(p->lets, p->nlets + 1, sizeof(*p->lets));
		p->lets[p->nlets].id = tidu_strdup(name);
		p->lets[p->nlets++].expr = e;
		return 0;
	}
	if (!strcmp(kw, "tier"))
		return st_tier(r, args);
	if (r->tier && r->tier->from)
		return fail(r, _("'%s' in a tier taken from another pack (only zh and en)"), kw);
	if (!strcmp(kw, "pass_score")) {
		p_tier *t = need_tier(r, kw);

		if (!t)
			return TIDU_EINVAL;
		if (tidu_parse_number(args, &t->pass_score, NULL) < 0 || t->pass_score < 0) {
			tidu_error_clear();
			return fail(r, _("'%s' is not a score"), args);
		}
		t->has_score = 1;
		return 0;
	}
	if (!strcmp(kw, "category"))
		return st_category(r, args);
	if (!strcmp(kw, "indicator"))
		return st_indicator(r, args);
	if (!strcmp(kw, "value") || !strcmp(kw, "points")) {
		p_ind *d = cur_ind(r, kw);

		if (!d)
			return TIDU_EINVAL;
		if (d->value || d->nbands)
			return fail(r, _("'%s' after the indicator's value or bands"), kw);
		if ((error = parse_expr(r, args, &d->value)) < 0)
			return error;
		if (kw[0] == 'p')
			d->kind = IND_POINTS;
		return 0;
	}
	if (!strcmp(kw, "unit")) {
		p_ind *d = cur_ind(r, kw);

		if (!d)
			return TIDU_EINVAL;
		free(d->unit);
		d->unit = tidu_strdup(args);
		return 0;
	}
	if (!strcmp(kw, "band") || !strcmp(kw, "when"))
		return st_band(r, kw, args);
	if (!strcmp(kw, "else")) {
		p_ind *d = cur_ind(r, kw);

		return d ? parse_points(r, args, d->max, &d->else_points) : TIDU_EINVAL;
	}
	if (!strcmp(kw, "require") || !strcmp(kw, "direct"))
		return st_cond(r, kw, args);
	if (!strcmp(kw, "test") || !strcmp(kw, "exempt")) {
		p_cond *c = cur_cond(r, kw);
		x_node **slot;

		if (!c)
			return TIDU_EINVAL;
		slot = kw[0] == 't' ? &c->test : &c->exempt;
		if (*slot)
			return fail(r, _("a second '%s' line"), kw);
		if (kw[0] == 'e' && r->cur == C_DIRECT)
			return fail(r, "%s", _("a direct condition has no exemption"));
		return parse_expr(r, args, slot);
	}
	if (!strcmp(kw, "judge"))
		return st_judge(r, args);
	return fail(r, _("unknown statement '%s'"), kw);
}

/* What a finished pack must hold; the line is the item's own. */
static int check_pack(rd *r)
{
	tidu_pack *p = r->p;
	size_t t, i;

	if (!p->id)
		return fail(r, "%s", _("the pack has no 'pack ID' line"));
	if (!p->version)
		return fail(r, "%s", _("the pack has no 'version' line"));
	if (!p->in_force[0])
		return fail(r, "%s", _("the pack has no 'in_force' date"));
	if (!p->zh || !p->en)
		return fail(r, "%s", _("the pack needs its title in 'zh' and 'en'"));
	for (i = 0; i < p->nnotes; i++)
		if (!p->notes[i].zh || !p->notes[i].en)
			return fail(r, _("note '%s' needs 'zh' and 'en'"), p->notes[i].id);
	for (t = 0; t < 3; t++) {
		p_tier *tr = &p->tiers[t];

		if (!tr->present)
			continue;
		r->line = tr->line;
		if (!tr->zh || !tr->en)
			return fail(r, _("tier %d needs its name in 'zh' and 'en'"), (int)t + 1);
		if (tr->from)
			continue;
		if (tr->has_score && !tr->ninds)
			return fail(r, _("tier %d has a pass score but no indicators"), (int)t + 1);
		if (!tr->has_score && tr->ninds)
			return fail(r, _("tier %d has indicators but no 'pass_score'"), (int)t + 1);
		if (!tr->has_score && !tr->nreqs)
			return fail(r, _("tier %d has neither a score nor conditions"), (int)t + 1);
		for (i = 0; i < tr->ncats; i++)
			if (!tr->cats[i].zh || !tr->cats[i].en)
				return fail(r, _("category '%s' needs 'zh' and 'en'"), tr->cats[i].id);
		for (i = 0; i < tr->ninds; i++) {
			p_ind *d = &tr->inds[i];

			r->line = d->line;
			if (!d->zh || !d->en)
				return fail(r, _("indicator '%s' needs 'zh' and 'en'"), d->id);
			if (d->kind == IND_POINTS ? !d->value : !d->nbands)
				return fail(r, _("indicator '%s' has no bands, 'when' lines or 'points'"),
					    d->id);
		}
		for (i = 0; i < tr->nreqs + tr->ndirects; i++) {
			p_cond *c = i < tr->nreqs ? &tr->reqs[i] : &tr->directs[i - tr->nreqs];

			r->line = c->line;
			if (!c->zh || !c->en)
				return fail(r, _("condition '%s' needs 'zh' and 'en'"), c->id);
			if (!c->test)
				return fail(r, _("condition '%s' has no 'test'"), c->id);
		}
		for (i = 0; i < tr->njudges; i++)
			if (!tr->judges[i].zh || !tr->judges[i].en)
				return fail(r, _("judgement '%s' needs its question in 'zh' and 'en'"),
					    tr->judges[i].id);
	}
	for (t = 0; t < 3 && !p->tiers[t].present; t++)
		;
	if (t == 3)
		return fail(r, "%s", _("the pack has no tier"));
	return 0;
}

static int parse_pack(const char *name, const char *text, tidu_pack **out)
{
	rd r = {0};
	const char *line = text;
	int error = 0;

	if (!tidu_utf8_valid(text, strlen(text)))
		return tidu_error_set(TIDU_EINVAL, _("rule pack %s: not valid UTF-8"), name);
	r.name = name;
	r.p = tidu_calloc(1, sizeof(*r.p));
	r.cur = C_PACK;
	while (*line && !error) {
		const char *end = strchr(line, '\n');
		size_t whole = end ? (size_t)(end - line) : strlen(line), len = whole;
		char *l = tidu_strndup(line, len), *kw, *args;
		size_t n;

		r.line++;
		while (len && (l[len - 1] == '\r' || l[len - 1] == ' ' || l[len - 1] == '\t'))
			l[--len] = '\0';
		kw = l + strspn(l, " \t");
		if (*kw && *kw != '#') {
			n = strcspn(kw, " \t");
			args = kw + n;
			if (*args)
				*args++ = '\0';
			args += strspn(args, " \t");
			for (n = 0; args[n]; n++)
				if ((unsigned char)args[n] < 0x20 && args[n] != '\t')
					break;
			error = args[n] ? fail(&r, "%s", _("a control character in the line"))
					: statement(&r, kw, args);
		}
		free(l);
		line = end ? end + 1 : line + whole; /* not len: the blanks it cut are still there */
	}
	if (!error)
		error = check_pack(&r);
	free(r.err);
	if (error < 0) {
		pack_free(r.p);
		return error;
	}
	r.p->name = tidu_strdup(name);
	r.p->text = tidu_strdup(text);
	*out = r.p;
	return 0;
}

/* ------------------------------------------------------------- the set */

tidu_packs *tidu_packs_new(void)
{
	return tidu_calloc(1, sizeof(tidu_packs));
}

void tidu_packs_free(tidu_packs *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->n; i++)
		pack_free(set->packs[i]);
	free(set->packs);
	free(set);
}

static int add_pack(tidu_packs *set, const char *name, const char *text, int always,
		    int city)
{
	tidu_pack *p = NULL;
	size_t i;
	int error;

	if ((error = parse_pack(name, text, &p)) < 0)
		return error;
	p->city = city;
	for (i = 0; i < set->n && strcmp(set->packs[i]->id, p->id) < 0; i++)
		;
	if (i < set->n && !strcmp(set->packs[i]->id, p->id)) {
		if (always || p->version > set->packs[i]->version) {
			pack_free(set->packs[i]);
			set->packs[i] = p;
		} else {
			pack_free(p);
		}
		return 0;
	}
	set->packs = tidu_reallocarray(set->packs, set->n + 1, sizeof(*set->packs));
	memmove(set->packs + i + 1, set->packs + i, (set->n - i) * sizeof(*set->packs));
	set->packs[i] = p;
	set->n++;
	return 0;
}

int tidu_packs_add(tidu_packs *set, const char *name, const char *text)
{
	return add_pack(set, name, text, 0, 0);
}

int tidu_packs_add_city(tidu_packs *set, const char *name, const char *text)
{
	return add_pack(set, name, text, 0, 1);
}

static int packs_add_replacing(tidu_packs *set, const char *name, const char *text)
{
	return add_pack(set, name, text, 1, 0);
}

int tidu_pack_read(const char *name, const char *text, tidu_pack **out)
{
	*out = NULL;
	return parse_pack(name, text, out);
}

void tidu_pack_free(tidu_pack *p)
{
	if (p)
		pack_free(p);
}

int tidu_pack_from_city(const tidu_pack *p)
{
	return p->city;
}

/* Every "tier N from PACK" names a pack of the set that has that tier. */
static int check_from(const tidu_packs *set)
{
	size_t i, t;

	for (i = 0; i < set->n; i++)
		for (t = 0; t < 3; t++) {
			const p_tier *tr = &set->packs[i]->tiers[t];
			const tidu_pack *src;

			if (!tr->present || !tr->from)
				continue;
			src = tidu_packs_find(set, tr->from);
			if (!src || !src->tiers[t].present || src->tiers[t].from)
				return tidu_error_set(TIDU_EINVAL,
					_("rule pack %s:%d: tier %d from '%s': that pack has no such table"),
					set->packs[i]->name, tr->line, (int)t + 1, tr->from);
		}
	return 0;
}

int tidu_packs_load(tidu_packs **out)
{
	tidu_packs *set = tidu_packs_new();
	size_t i;
	int error = 0;

	for (i = 0; i < tidu_embedded_count && !error; i++) {
		const char *name = tidu_embedded[i].name;
		size_t len = strlen(name);

		/* "rules/NAME.pack" (embedded.h); the pack is named NAME.pack in messages. */
		if (!strncmp(name, "rules/", 6) && len > 11 && !strcmp(name + len - 5, ".pack"))
			error = tidu_packs_add(set, name + 6, (const char *)tidu_embedded[i].data);
	}
	if (!error)
		error = check_from(set);
	if (error < 0) {
		tidu_packs_free(set);
		return error;
	}
	*out = set;
	return 0;
}

const tidu_pack *tidu_packs_find(const tidu_packs *set, const char *id)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (!strcmp(set->packs[i]->id, id))
			return set->packs[i];
	return NULL;
}

const tidu_pack *tidu_packs_in_force(const tidu_packs *set, const char *date)
{
	const tidu_pack *best = NULL;
	size_t i;

	for (i = 0; i < set->n; i++) {
		const tidu_pack *p = set->packs[i];

		if (strcmp(p->in_force, date) <= 0 && (!best || strcmp(p->in_force, best->in_force) > 0))
			best = p;
	}
	return best;
}

const tidu_pack *tidu_packs_nth(const tidu_packs *set, size_t i)
{
	return i < set->n ? set->packs[i] : NULL;
}

const char *tidu_pack_id(const tidu_pack *p)
{
	return p->id;
}

int tidu_pack_version(const tidu_pack *p)
{
	return p->version;
}

const char *tidu_pack_in_force(const tidu_pack *p)
{
	return p->in_force;
}

const char *tidu_pack_text(const tidu_pack *p)
{
	return p->text;
}

int tidu_packs_check(const char *name, const char *text, const tidu_packs *with)
{
	tidu_packs *set = tidu_packs_new();
	size_t i;
	int error;

	/* The tiers it takes "from" another pack must resolve, as at load. */
	for (i = 0; with && i < with->n; i++)
		if ((error = add_pack(set, with->packs[i]->name, with->packs[i]->text, 0,
				      with->packs[i]->city)) < 0)
			goto done;
	if ((error = packs_add_replacing(set, name, text)) == 0)
		error = check_from(set);
done:
	tidu_packs_free(set);
	return error;
}

const char *tidu_pack_title(const tidu_pack *p)
{
	return tidu_assess_label(p->zh, p->en);
}

size_t tidu_pack_note_count(const tidu_pack *p)
{
	return p->nnotes;
}

void tidu_pack_note(const tidu_pack *p, size_t i, const char **id, const char **text)
{
	*id = p->notes[i].id;
	*text = tidu_assess_label(p->notes[i].zh, p->notes[i].en);
}
