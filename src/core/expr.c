/*
 * XLSForm expressions (include/tidu/expr.h): a recursive-descent parser
 * into a tree, and a tree-walking evaluator.
 *
 * Binary operators of one precedence level are kept as one n-ary node
 * (kids[0] ops[0] kids[1] ops[1] kids[2] ...), evaluated left to right, so
 * that a long sum such as ${a1} + ${a2} + ... + ${a80} is a flat node and
 * not 80 levels of recursion: the tree's depth is then bounded by the
 * nesting of parentheses, calls and unary minus (TIDU_EXPR_MAX_DEPTH).
 */
#include <math.h>
#include <pthread.h>
#include <locale.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidu/alloc.h"
#include "tidu/buf.h"
#include "tidu/error.h"
#include "tidu/expr.h"
#include "tidu/i18n.h"
#include "tidu/parse.h"
#include "tidu/utf8.h"

#define DEFAULT_STEPS 100000

enum {
	N_NUM, N_STR, N_REF, N_COL, N_SELF, N_PARENT, N_NEG,
	N_OR, N_AND, N_EQ, N_REL, N_ADD, N_MUL, N_CALL
};

enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD };

/* Function ids: the order of `fns` below. */
enum {
	F_TRUE, F_FALSE, F_NOT, F_BOOLEAN, F_BOOLEAN_FROM_STRING, F_NUMBER, F_STRING,
	F_INT, F_ROUND, F_FLOOR, F_CEILING, F_ABS, F_POW, F_SQRT, F_EXP, F_LOG, F_LOG10,
	F_PI, F_CONCAT, F_STRING_LENGTH, F_SUBSTR, F_SUBSTRING_BEFORE, F_SUBSTRING_AFTER,
	F_CONTAINS, F_STARTS_WITH, F_ENDS_WITH, F_NORMALIZE_SPACE, F_TRANSLATE,
	F_SELECTED, F_COUNT_SELECTED, F_SELECTED_AT, F_REGEX, F_IF, F_COALESCE,
	F_TODAY, F_NOW, F_DATE, F_DECIMAL_DATE_TIME, F_FORMAT_DATE, F_FORMAT_DATE_TIME,
	F_POSITION, F_COUNT, F_SUM, F_MAX, F_MIN, F_ONCE, F_UUID,
	F_COUNT_FNS
};

static const struct {
	const char *name;
	int min, max; /* arguments; max -1: any number */
} fns[F_COUNT_FNS] = {
	[F_TRUE] = {"true", 0, 0},
	[F_FALSE] = {"false", 0, 0},
	[F_NOT] = {"not", 1, 1},
	[F_BOOLEAN] = {"boolean", 1, 1},
	[F_BOOLEAN_FROM_STRING] = {"boolean-from-string", 1, 1},
	[F_NUMBER] = {"number", 0, 1},
	[F_STRING] = {"string", 0, 1},
	[F_INT] = {"int", 1, 1},
	[F_ROUND] = {"round", 1, 2},
	[F_FLOOR] = {"floor", 1, 1},
	[F_CEILING] = {"ceiling", 1, 1},
	[F_ABS] = {"abs", 1, 1},
	[F_POW] = {"pow", 2, 2},
	[F_SQRT] = {"sqrt", 1, 1},
	[F_EXP] = {"exp", 1, 1},
	[F_LOG] = {"log", 1, 1},
	[F_LOG10] = {"log10", 1, 1},
	[F_PI] = {"pi", 0, 0},
	[F_CONCAT] = {"concat", 0, -1},
	[F_STRING_LENGTH] = {"string-length", 0, 1},
	[F_SUBSTR] = {"substr", 2, 3},
	[F_SUBSTRING_BEFORE] = {"substring-before", 2, 2},
	[F_SUBSTRING_AFTER] = {"substring-after", 2, 2},
	[F_CONTAINS] = {"contains", 2, 2},
	[F_STARTS_WITH] = {"starts-with", 2, 2},
	[F_ENDS_WITH] = {"ends-with", 2, 2},
	[F_NORMALIZE_SPACE] = {"normalize-space", 0, 1},
	[F_TRANSLATE] = {"translate", 3, 3},
	[F_SELECTED] = {"selected", 2, 2},
	[F_COUNT_SELECTED] = {"count-selected", 1, 1},
	[F_SELECTED_AT] = {"selected-at", 2, 2},
	[F_REGEX] = {"regex", 2, 2},
	[F_IF] = {"if", 3, 3},
	[F_COALESCE] = {"coalesce", 2, 2},
	[F_TODAY] = {"today", 0, 0},
	[F_NOW] = {"now", 0, 0},
	[F_DATE] = {"date", 1, 1},
	[F_DECIMAL_DATE_TIME] = {"decimal-date-time", 1, 1},
	[F_FORMAT_DATE] = {"format-date", 2, 2},
	[F_FORMAT_DATE_TIME] = {"format-date-time", 2, 2},
	[F_POSITION] = {"position", 1, 1},
	[F_COUNT] = {"count", 1, 1},
	[F_SUM] = {"sum", 1, 1},
	[F_MAX] = {"max", 1, -1},
	[F_MIN] = {"min", 1, -1},
	[F_ONCE] = {"once", 1, 1},
	[F_UUID] = {"uuid", 0, 0},
};

typedef struct node node;
struct node {
	int kind;
	int fn;           /* N_CALL */
	size_t ref;       /* N_REF: index in tidu_expr.refs; N_COL: in tidu_expr.cols */
	double num;       /* N_NUM */
	char *str;        /* N_STR */
	node **kids;
	unsigned char *ops; /* n-ary operators: ops[i] is between kids[i] and kids[i+1] */
	size_t nkids;
	struct re_entry *re; /* regex() with a literal pattern, compiled once */
};

struct tidu_expr {
	node *root;
	char **refs;
	size_t nrefs;
	char **cols;      /* bare names of a choice_filter, "@name" */
	size_t ncols;
	int uses_self;
	unsigned char used[F_COUNT_FNS];
};

/* ---- values ---- */

void tidu_expr_value_clear(tidu_expr_value *v)
{
	if (!v)
		return;
	if (v->kind == TIDU_EXPR_STRING)
		free(v->str);
	v->kind = TIDU_EXPR_STRING;
	v->str = NULL;
	v->num = 0;
}

static const char *sv(const tidu_expr_value *v)
{
	return v->str ? v->str : "";
}

static void set_num(tidu_expr_value *v, double d)
{
	v->kind = TIDU_EXPR_NUMBER;
	v->num = d;
	v->str = NULL;
}

static void set_bool(tidu_expr_value *v, int b)
{
	v->kind = TIDU_EXPR_BOOL;
	v->num = b ? 1 : 0;
	v->str = NULL;
}

/* Takes `s` (malloc'ed). */
static void set_str_own(tidu_expr_value *v, char *s)
{
	v->kind = TIDU_EXPR_STRING;
	v->num = 0;
	v->str = s;
}

static void set_str(tidu_expr_value *v, const char *s, size_t len)
{
	set_str_own(v, tidu_strndup(s, len));
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* ---- dates: days since 1970-01-01 in the proleptic Gregorian calendar ---- */

static long days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int two_digits(const char *s, int *out)
{
	if (!is_digit(s[0]) || !is_digit(s[1]))
		return 0;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return 1;
}

/*
 * A date "YYYY-MM-DD" or date-time "YYYY-MM-DDTHH:MM[:SS[.fff]][zone]"
 * (zone "Z", "+HH:MM", "+HHMM" or "+HH"): days since 1970-01-01, the time of
 * day as a fraction, read as the wall time written (the zone is checked but
 * not applied: ODK counts local days, and tidu's officers share one zone).
 */
static int parse_days(const char *s, double *out)
{
	char date[11];
	const char *p;
	int y, m, d, hh = 0, mm = 0, ss = 0, zh, zm;
	double frac = 0;

	while (is_space((unsigned char)*s))
		s++;
	if (strlen(s) < 10)
		return 0;
	memcpy(date, s, 10);
	date[10] = 0;
	if (tidu_parse_date(date, &y, &m, &d) < 0) {
		tidu_error_clear();
		return 0;
	}
	p = s + 10;
	if (*p == 'T') {
		if (!two_digits(p + 1, &hh) || p[3] != ':' || !two_digits(p + 4, &mm) ||
		    hh > 23 || mm > 59)
			return 0;
		p += 6;
		if (*p == ':') {
			if (!two_digits(p + 1, &ss) || ss > 59)
				return 0;
			p += 3;
			if (*p == '.') {
				double scale = 0.1;

				if (!is_digit((unsigned char)p[1]))
					return 0;
				for (p++; is_digit((unsigned char)*p); p++, scale /= 10)
					frac += (*p - '0') * scale;
			}
		}
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			if (!two_digits(p + 1, &zh) || zh > 23)
				return 0;
			p += 3;
			if (*p == ':')
				p++;
			if (is_digit((unsigned char)*p)) {
				if (!two_digits(p, &zm) || zm > 59)
					return 0;
				p += 2;
			}
		}
	}
	while (is_space((unsigned char)*p))
		p++;
	if (*p)
		return 0;
	*out = (double)days_from_civil(y, m, d) +
	       ((double)hh * 3600 + mm * 60 + ss + frac) / 86400.0;
	return 1;
}

/* XPath's Number syntax, with the whitespace number() allows around it. */
static int parse_xpath_number(const char *s, double *out)
{
	const char *p = s, *start;
	int digits = 0;

	while (is_space((unsigned char)*p))
		p++;
	start = p;
	if (*p == '-')
		p++;
	for (; is_digit((unsigned char)*p); p++)
		digits++;
	if (*p == '.')
		for (p++; is_digit((unsigned char)*p); p++)
			digits++;
	if (!digits)
		return 0;
	{
		const char *end = p;
		char *copy;

		while (is_space((unsigned char)*p))
			p++;
		if (*p)
			return 0;
		copy = tidu_strndup(start, (size_t)(end - start));
		*out = tidu_strtod_c(copy, NULL);
		free(copy);
	}
	return 1;
}

double tidu_expr_number(const tidu_expr_value *v)
{
	double d;

	switch (v->kind) {
	case TIDU_EXPR_NUMBER:
		return v->num;
	case TIDU_EXPR_BOOL:
		return v->num != 0 ? 1 : 0;
	case TIDU_EXPR_STRING:
		if (parse_xpath_number(sv(v), &d))
			return d;
		if (parse_days(sv(v), &d))
			return d;
		return NAN;
	}
	return NAN;
}

int tidu_expr_truthy(const tidu_expr_value *v)
{
	switch (v->kind) {
	case TIDU_EXPR_NUMBER:
		return v->num != 0 && !isnan(v->num);
	case TIDU_EXPR_BOOL:
		return v->num != 0;
	case TIDU_EXPR_STRING:
		return *sv(v) != 0;
	}
	return 0;
}

static void number_string(double d, tidu_buf *out)
{
	if (isnan(d))
		tidu_buf_puts(out, "NaN");
	else if (isinf(d))
		tidu_buf_puts(out, d > 0 ? "Infinity" : "-Infinity");
	else
		(void)tidu_format_number(out, d);
}

void tidu_expr_string(const tidu_expr_value *v, tidu_buf *out)
{
	switch (v->kind) {
	case TIDU_EXPR_NUMBER:
		number_string(v->num, out);
		break;
	case TIDU_EXPR_BOOL:
		tidu_buf_puts(out, v->num != 0 ? "true" : "false");
		break;
	case TIDU_EXPR_STRING:
		tidu_buf_puts(out, sv(v));
		break;
	}
}

/* ---- parser ---- */

typedef struct {
	const char *text;
	size_t pos;
	int depth;
	int failed;
	int bare;         /* tidu_expr_parse_filter: bare names are choice columns */
	tidu_expr *e;
} parser;

/* The 1-based character (not byte) position of byte `at`, for messages. */
static size_t char_pos(const char *text, size_t at)
{
	size_t i, n = 1;

	for (i = 0; i < at && text[i]; i++)
		if (((unsigned char)text[i] & 0xC0) != 0x80)
			n++;
	return n;
}

static void perr(parser *p, size_t at, const char *fmt, ...) TIDU_PRINTF(3, 4);

static void perr(parser *p, size_t at, const char *fmt, ...)
{
	tidu_buf why = TIDU_BUF_INIT;
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	va_start(ap, fmt);
	tidu_buf_vprintf(&why, fmt, ap);
	va_end(ap);
	tidu_error_set(TIDU_EINVAL, _("at character %zu: %s"), char_pos(p->text, at),
		       tidu_buf_cstr(&why));
	tidu_buf_free(&why);
}

static void regex_release(struct re_entry *e);

static void node_free(node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->ops);
	free(n->str);
	regex_release(n->re);
	free(n);
}

static node *node_new(int kind)
{
	node *n = tidu_calloc(1, sizeof(*n));

	n->kind = kind;
	return n;
}

static void add_kid(node *n, node *kid, int op)
{
	n->kids = tidu_reallocarray(n->kids, n->nkids + 1, sizeof(*n->kids));
	n->ops = tidu_reallocarray(n->ops, n->nkids + 1, 1);
	n->kids[n->nkids] = kid;
	n->ops[n->nkids] = (unsigned char)op;
	n->nkids++;
}

static void skip_ws(parser *p)
{
	while (is_space((unsigned char)p->text[p->pos]))
		p->pos++;
}

static int name_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int name_char(int c)
{
	return name_start(c) || is_digit(c) || c == '-' || c == '.' || c == ':';
}

/* Length of the XPath name at the current position (0: none). */
static size_t name_len(const parser *p)
{
	size_t n = 0;

	if (!name_start((unsigned char)p->text[p->pos]))
		return 0;
	while (name_char((unsigned char)p->text[p->pos + n]))
		n++;
	return n;
}

/* 1 (and skips it) if the next token is the operator name `word`. */
static int accept_word(parser *p, const char *word)
{
	size_t n = strlen(word);

	skip_ws(p);
	if (name_len(p) != n || strncmp(p->text + p->pos, word, n) != 0)
		return 0;
	p->pos += n;
	return 1;
}

static node *parse_expr(parser *p);

typedef int (*op_fn)(parser *p);
typedef node *(*sub_fn)(parser *p);

/* One precedence level: sub (op sub)*, kept as one n-ary node. */
static node *chain(parser *p, int kind, sub_fn sub, op_fn op)
{
	node *first = sub(p), *n = NULL, *next;
	int o;

	if (!first)
		return NULL;
	while ((o = op(p)) >= 0) {
		if (!n) {
			n = node_new(kind);
			add_kid(n, first, 0);
		}
		next = sub(p);
		if (!next) {
			node_free(n);
			return NULL;
		}
		add_kid(n, next, 0);
		n->ops[n->nkids - 2] = (unsigned char)o;
	}
	return n ? n : first;
}

static int op_or(parser *p)
{
	return accept_word(p, "or") ? 0 : -1;
}

static int op_and(parser *p)
{
	return accept_word(p, "and") ? 0 : -1;
}

static int op_eq(parser *p)
{
	const char *s;

	skip_ws(p);
	s = p->text + p->pos;
	if (s[0] == '=') {
		p->pos++;
		return OP_EQ;
	}
	if (s[0] == '!' && s[1] == '=') {
		p->pos += 2;
		return OP_NE;
	}
	return -1;
}

static int op_rel(parser *p)
{
	const char *s;

	skip_ws(p);
	s = p->text + p->pos;
	if (s[0] != '<' && s[0] != '>')
		return -1;
	if (s[1] == '=') {
		p->pos += 2;
		return s[0] == '<' ? OP_LE : OP_GE;
	}
	p->pos++;
	return s[0] == '<' ? OP_LT : OP_GT;
}

static int op_add(parser *p)
{
	char c;

	skip_ws(p);
	c = p->text[p->pos];
	if (c != '+' && c != '-')
		return -1;
	p->pos++;
	return c == '+' ? OP_ADD : OP_SUB;
}

static int op_mul(parser *p)
{
	skip_ws(p);
	if (p->text[p->pos] == '*') {
		p->pos++;
		return OP_MUL;
	}
	if (accept_word(p, "div"))
		return OP_DIV;
	if (accept_word(p, "mod"))
		return OP_MOD;
	return -1;
}

static int enter(parser *p)
{
	if (++p->depth > TIDU_EXPR_MAX_DEPTH) {
		perr(p, p->pos, _("nesting deeper than %d levels"), TIDU_EXPR_MAX_DEPTH);
		return 0;
	}
	return 1;
}

static node *parse_primary(parser *p);

static node *parse_unary(parser *p)
{
	node *n, *kid;

	skip_ws(p);
	if (p->text[p->pos] != '-')
		return parse_primary(p);
	p->pos++;
	if (!enter(p))
		return NULL;
	kid = parse_unary(p);
	p->depth--;
	if (!kid)
		return NULL;
	n = node_new(N_NEG);
	add_kid(n, kid, 0);
	return n;
}

static node *parse_mul(parser *p)
{
	return chain(p, N_MUL, parse_unary, op_mul);
}

static node *parse_add(parser *p)
{
	return chain(p, N_ADD, parse_mul, op_add);
}

static node *parse_rel(parser *p)
{
	return chain(p, N_REL, parse_add, op_rel);
}

static node *parse_eq(parser *p)
{
	return chain(p, N_EQ, parse_rel, op_eq);
}

static node *parse_and(parser *p)
{
	return chain(p, N_AND, parse_eq, op_and);
}

static node *parse_expr(parser *p)
{
	node *n;

	if (!enter(p))
		return NULL;
	n = chain(p, N_OR, parse_and, op_or);
	p->depth--;
	return n;
}

/* Describes the token at the current position for "unexpected ..." messages. */
static void unexpected(parser *p)
{
	const char *s = p->text + p->pos;
	size_t n = name_len(p);
	uint32_t cp;

	if (!*s) {
		perr(p, p->pos, "%s", _("unexpected end of the expression"));
		return;
	}
	if (!n) {
		n = (size_t)tidu_utf8_decode(s, strlen(s), &cp);
		if (!n)
			n = 1;
	}
	if (n > 40)
		n = 40;
	perr(p, p->pos, _("unexpected '%.*s'"), (int)n, s);
}

/* A bare name of a choice_filter, kept as "@name" (what the lookup receives). */
static size_t add_col(tidu_expr *e, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < e->ncols; i++)
		if (strlen(e->cols[i]) == len + 1 && memcmp(e->cols[i] + 1, name, len) == 0)
			return i;
	e->cols = tidu_reallocarray(e->cols, e->ncols + 1, sizeof(*e->cols));
	e->cols[e->ncols] = tidu_strprintf("@%.*s", (int)len, name);
	return e->ncols++;
}

static size_t add_ref(tidu_expr *e, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < e->nrefs; i++)
		if (strlen(e->refs[i]) == len && memcmp(e->refs[i], name, len) == 0)
			return i;
	e->refs = tidu_reallocarray(e->refs, e->nrefs + 1, sizeof(*e->refs));
	e->refs[e->nrefs] = tidu_strndup(name, len);
	return e->nrefs++;
}

static node *parse_ref(parser *p)
{
	size_t start = p->pos, i = p->pos + 2;
	const char *t = p->text;
	node *n;

	while (t[i] && t[i] != '}') {
		unsigned char c = (unsigned char)t[i];

		if (c <= ' ' || c == 0x7f || c == '$' || c == '{' || c == '\'' || c == '"' ||
		    c == '(' || c == ')' || c == ',') {
			perr(p, i, "%s", _("invalid character in a ${name} reference"));
			return NULL;
		}
		i++;
	}
	if (!t[i]) {
		perr(p, start, "%s", _("unterminated ${name} reference"));
		return NULL;
	}
	if (i == start + 2) {
		perr(p, start, "%s", _("empty ${} reference"));
		return NULL;
	}
	n = node_new(N_REF);
	n->ref = add_ref(p->e, t + start + 2, i - start - 2);
	p->pos = i + 1;
	return n;
}

static node *parse_number(parser *p)
{
	size_t start = p->pos;
	const char *t = p->text;
	char *copy;
	node *n;

	while (is_digit((unsigned char)t[p->pos]))
		p->pos++;
	if (t[p->pos] == '.')
		for (p->pos++; is_digit((unsigned char)t[p->pos]); p->pos++)
			;
	/* XPath numbers have no exponent: "1e3" (or "12abc") is refused, not
	 * read as 1 followed by a name. */
	if (name_start((unsigned char)t[p->pos])) {
		size_t end = p->pos;

		while (name_char((unsigned char)t[end]))
			end++;
		if (end - start > 40)
			end = start + 40;
		perr(p, start, _("invalid number '%.*s'"),
		     (int)(end - start), t + start);
		return NULL;
	}
	copy = tidu_strndup(t + start, p->pos - start);
	n = node_new(N_NUM);
	n->num = tidu_strtod_c(copy, NULL);
	free(copy);
	return n;
}

static node *parse_string(parser *p)
{
	const char *t = p->text;
	char q = t[p->pos];
	const char *end = strchr(t + p->pos + 1, q);
	node *n;

	if (!end) {
		perr(p, p->pos, "%s", _("unterminated string"));
		return NULL;
	}
	n = node_new(N_STR);
	n->str = tidu_strndup(t + p->pos + 1, (size_t)(end - t - p->pos - 1));
	p->pos = (size_t)(end - t) + 1;
	return n;
}

/*
 * The size of a pattern once its repetitions are expanded, as glibc's
 * regcomp does: a{9} is 9 atoms, (a{255}){255} 65,025, whose compiling and
 * matching take seconds; a+ is two (aa*), a+++ eight. Bounded by
 * REGEX_MAX_ATOMS.
 */
#define REGEX_MAX_ATOMS 1000
#define REGEX_MAX_GROUPS 32

typedef struct {
	long sum[REGEX_MAX_GROUPS + 1]; /* atoms of each open group */
	int top;
	long last; /* atoms of the last atom (a group's: all of them) */
	int over;
} regex_size;

static void rs_atom(regex_size *z, long n)
{
	z->last = n;
	z->sum[z->top] += n;
	if (z->sum[z->top] > REGEX_MAX_ATOMS)
		z->over = 1;
}

/* The last atom repeated `n` times (glibc copies its tree). */
static void rs_repeat(regex_size *z, long n)
{
	if (n < 1)
		n = 1;
	if (n > REGEX_MAX_ATOMS || z->last * n > REGEX_MAX_ATOMS) {
		z->over = 1;
		return;
	}
	z->sum[z->top] += z->last * (n - 1);
	z->last *= n;
	if (z->sum[z->top] > REGEX_MAX_ATOMS)
		z->over = 1;
}

/* `s` at '{': applies "{m}", "{m,}" or "{m,n}"; returns its length, 0 if none. */
static size_t rs_interval(regex_size *z, const char *s)
{
	const char *p = s + 1;
	long m = 0, n;

	if (!is_digit((unsigned char)*p))
		return 0;
	for (; is_digit((unsigned char)*p); p++)
		m = m > REGEX_MAX_ATOMS ? m : m * 10 + (*p - '0');
	n = m;
	if (*p == ',') {
		p++;
		n = m + 1;
		if (is_digit((unsigned char)*p))
			for (n = 0; is_digit((unsigned char)*p); p++)
				n = n > REGEX_MAX_ATOMS ? n : n * 10 + (*p - '0');
	}
	if (*p != '}')
		return 0;
	rs_repeat(z, n);
	return (size_t)(p + 1 - s);
}

/*
 * The pattern of regex() as POSIX extended syntax. Forms are written for
 * ODK's Java regular expressions, so the shorthands \d \D \s \S \w \W are
 * translated ([0-9], [[:space:]], [[:alnum:]_] and their complements; inside
 * brackets \d \s \w only). Refused: back-references (\1 to \9), whose
 * matching can take exponential time, and patterns that expand to more than
 * REGEX_MAX_ATOMS atoms or nest more than REGEX_MAX_GROUPS groups. Returns
 * 0 or -1 (reason in *why).
 */
static int regex_translate(const char *pat, tidu_buf *out, const char **why)
{
	regex_size z = {{0}, 0, 1, 0};
	const char *s = pat;
	int in_bracket = 0;
	size_t k;

	for (; *s; s++) {
		if (z.over) {
			*why = _("the pattern is too complex");
			return -1;
		}
		if (in_bracket) {
			if (s[0] == '[' && (s[1] == ':' || s[1] == '=' || s[1] == '.')) {
				char close[3] = {s[1], ']', 0};
				const char *end = strstr(s + 2, close);

				if (end) {
					tidu_buf_put(out, s, (size_t)(end + 2 - s));
					s = end + 1;
					continue;
				}
			}
			if (s[0] == ']') {
				in_bracket = 0;
				rs_atom(&z, 1);
			} else if (s[0] == '\\' && (s[1] == 'd' || s[1] == 's' || s[1] == 'w')) {
				tidu_buf_puts(out, s[1] == 'd' ? "0-9" :
					      s[1] == 's' ? "[:space:]" : "[:alnum:]_");
				s++;
				continue;
			}
			tidu_buf_putc(out, *s);
			continue;
		}
		switch (s[0]) {
		case '[':
			tidu_buf_putc(out, '[');
			if (s[1] == '^')
				tidu_buf_putc(out, *++s);
			if (s[1] == ']')
				tidu_buf_putc(out, *++s);
			in_bracket = 1;
			continue;
		case '(':
			if (z.top == REGEX_MAX_GROUPS) {
				*why = _("the pattern is too complex");
				return -1;
			}
			z.sum[++z.top] = 0;
			z.last = 1;
			tidu_buf_putc(out, '(');
			continue;
		case ')':
			tidu_buf_putc(out, ')');
			if (z.top > 0) {
				long w = z.sum[z.top--];

				rs_atom(&z, w > 0 ? w : 1);
			}
			continue;
		case '{':
			k = rs_interval(&z, s);
			if (k) {
				tidu_buf_put(out, s, k);
				s += k - 1;
				continue;
			}
			break;
		case '+':
			/* x+ is compiled as xx*: a copy, so x+++ is 8 of them */
			rs_repeat(&z, 2);
			tidu_buf_putc(out, *s);
			continue;
		case '*': case '?': case '|': case '^': case '$':
			tidu_buf_putc(out, *s);
			continue;
		case '\\':
			if (s[1]) {
				const char *rep = NULL;

				switch (s[1]) {
				case 'd': rep = "[0-9]"; break;
				case 'D': rep = "[^0-9]"; break;
				case 's': rep = "[[:space:]]"; break;
				case 'S': rep = "[^[:space:]]"; break;
				case 'w': rep = "[[:alnum:]_]"; break;
				case 'W': rep = "[^[:alnum:]_]"; break;
				default:
					if (s[1] >= '1' && s[1] <= '9') {
						*why = _("back-references are not allowed");
						return -1;
					}
				}
				if (rep)
					tidu_buf_puts(out, rep);
				else
					tidu_buf_put(out, s, 2);
				s++;
				rs_atom(&z, 1);
				continue;
			}
			break;
		}
		tidu_buf_putc(out, *s);
		rs_atom(&z, 1);
	}
	if (z.over) {
		*why = _("the pattern is too complex");
		return -1;
	}
	return 0;
}

/*
 * Compiled patterns, shared: a form repeats the same constraint pattern on
 * many questions (a phone number, a code), and glibc's regcomp is costly
 * in a UTF-8 locale, so each distinct pattern is compiled once while any
 * expression holds it. A list under a lock: few distinct patterns live at
 * once, and regexec on a shared regex_t is safe (POSIX).
 *
 * Answers are UTF-8 whatever the process locale, so a pattern is compiled
 * and run under C.UTF-8 (`.` is one character, not one byte). A pattern
 * that is ASCII once translated is compiled a second time under the C
 * locale, for ASCII subjects: there the two agree on every match (one byte
 * is one character, C.UTF-8 collates by code point) and glibc's byte
 * matcher is several times faster than its multibyte one.
 */
typedef struct re_entry {
	struct re_entry *next;
	char *pat;      /* as written in the form */
	regex_t re;     /* under C.UTF-8 */
	regex_t re_ascii; /* under C, when has_ascii */
	int has_ascii;
	size_t refs;
} re_entry;

static re_entry *re_cache;
static pthread_mutex_t re_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t re_once = PTHREAD_ONCE_INIT;
static locale_t re_utf8, re_c; /* (locale_t)0 when the system lacks one */

static void re_locales(void)
{
	re_utf8 = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
	re_c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Switches this thread to `l` (no change for (locale_t)0); returns the old. */
static locale_t re_use(locale_t l)
{
	return l ? uselocale(l) : (locale_t)0;
}

static void re_back(locale_t old)
{
	if (old)
		uselocale(old);
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static void regex_release(struct re_entry *e)
{
	re_entry **p;

	if (!e)
		return;
	pthread_mutex_lock(&re_lock);
	if (--e->refs == 0) {
		for (p = &re_cache; *p; p = &(*p)->next)
			if (*p == e) {
				*p = e->next;
				break;
			}
		regfree(&e->re);
		if (e->has_ascii)
			regfree(&e->re_ascii);
		free(e->pat);
		free(e);
	}
	pthread_mutex_unlock(&re_lock);
}

/* Compiles `pat`: 0 with *re set (release it), or -1 with *why. */
static int regex_compile(const char *pat, re_entry **re, const char **why)
{
	tidu_buf b = TIDU_BUF_INIT;
	re_entry *e;
	locale_t old;
	int rc;

	*re = NULL;
	if (strlen(pat) > TIDU_EXPR_MAX_REGEX) {
		*why = NULL; /* the caller says what the bound is */
		return -1;
	}
	pthread_once(&re_once, re_locales);
	pthread_mutex_lock(&re_lock);
	for (e = re_cache; e; e = e->next)
		if (!strcmp(e->pat, pat)) {
			e->refs++;
			pthread_mutex_unlock(&re_lock);
			*re = e;
			return 0;
		}
	pthread_mutex_unlock(&re_lock);
	if (regex_translate(pat, &b, why) < 0) {
		tidu_buf_free(&b);
		return -1;
	}
	e = tidu_calloc(1, sizeof(*e));
	old = re_use(re_utf8);
	rc = regcomp(&e->re, tidu_buf_cstr(&b), REG_EXTENDED | REG_NOSUB);
	re_back(old);
	if (rc != 0) {
		free(e);
		tidu_buf_free(&b);
		*why = _("invalid regular expression");
		return -1;
	}
	if (re_c && re_utf8 && is_ascii(tidu_buf_cstr(&b))) {
		old = re_use(re_c);
		e->has_ascii = regcomp(&e->re_ascii, tidu_buf_cstr(&b), REG_EXTENDED | REG_NOSUB) == 0;
		re_back(old);
	}
	tidu_buf_free(&b);
	e->pat = tidu_strdup(pat);
	e->refs = 1;
	pthread_mutex_lock(&re_lock);
	e->next = re_cache;
	re_cache = e;
	pthread_mutex_unlock(&re_lock);
	*re = e;
	return 0;
}

/* 1 when `s` matches `e`, under the locale its pattern was compiled in. */
static int regex_match(const re_entry *e, const char *s)
{
	int ascii = e->has_ascii && is_ascii(s);
	locale_t old = re_use(ascii ? re_c : re_utf8);
	int r = regexec(ascii ? &e->re_ascii : &e->re, s, 0, NULL, 0) == 0;

	re_back(old);
	return r;
}

static int find_fn(const char *name, size_t len)
{
	int i;

	for (i = 0; i < F_COUNT_FNS; i++)
		if (strlen(fns[i].name) == len && memcmp(fns[i].name, name, len) == 0)
			return i;
	return -1;
}

static int is_aggregate(int fn)
{
	return fn == F_COUNT || fn == F_SUM;
}

static node *parse_call(parser *p, size_t len)
{
	size_t at = p->pos, nargs = 0;
	const char *name = p->text + p->pos;
	int fn = find_fn(name, len);
	node *n, *arg;

	if (fn < 0) {
		perr(p, at, _("unknown function '%.*s'"), (int)len, name);
		return NULL;
	}
	p->pos += len;
	skip_ws(p);
	p->pos++; /* '(' */
	n = node_new(N_CALL);
	n->fn = fn;
	p->e->used[fn] = 1;
	skip_ws(p);
	if (p->text[p->pos] != ')') {
		for (;;) {
			skip_ws(p);
			if (fn == F_POSITION && p->text[p->pos] == '.' &&
			    p->text[p->pos + 1] == '.') {
				p->pos += 2;
				arg = node_new(N_PARENT);
			} else {
				arg = parse_expr(p);
			}
			if (!arg)
				goto fail;
			add_kid(n, arg, 0);
			nargs++;
			skip_ws(p);
			if (p->text[p->pos] == ',') {
				p->pos++;
				continue;
			}
			if (p->text[p->pos] == ')')
				break;
			if (!p->text[p->pos])
				perr(p, p->pos, "%s", _("missing ')'"));
			else
				unexpected(p);
			goto fail;
		}
	}
	p->pos++; /* ')' */
	if (nargs < (size_t)fns[fn].min || (fns[fn].max >= 0 && nargs > (size_t)fns[fn].max)) {
		perr(p, at, _("wrong number of arguments for '%s'"), fns[fn].name);
		goto fail;
	}
	if (fn == F_POSITION && n->kids[0]->kind != N_PARENT) {
		perr(p, at, "%s", _("position() takes '..' (position(..))"));
		goto fail;
	}
	if (is_aggregate(fn) && n->kids[0]->kind != N_REF) {
		perr(p, at, _("'%s' takes a ${name} reference"), fns[fn].name);
		goto fail;
	}
	if ((fn == F_STRING_LENGTH || fn == F_NORMALIZE_SPACE || fn == F_NUMBER ||
	     fn == F_STRING) && nargs == 0)
		p->e->uses_self = 1;
	if (fn == F_ONCE)
		p->e->uses_self = 1;
	if (fn == F_REGEX && n->kids[1]->kind == N_STR) {
		const char *why = NULL;

		if (regex_compile(n->kids[1]->str, &n->re, &why) < 0) {
			if (why)
				perr(p, at, _("regex(): %s"), why);
			else
				perr(p, at, _("regex(): the pattern is longer than %d bytes"),
				     TIDU_EXPR_MAX_REGEX);
			goto fail;
		}
	}
	return n;
fail:
	node_free(n);
	return NULL;
}

static node *parse_primary(parser *p)
{
	const char *t = p->text;
	size_t len, q;
	node *n;

	skip_ws(p);
	switch (t[p->pos]) {
	case '$':
		if (t[p->pos + 1] == '{')
			return parse_ref(p);
		break;
	case '\'':
	case '"':
		return parse_string(p);
	case '(':
		p->pos++;
		n = parse_expr(p);
		if (!n)
			return NULL;
		skip_ws(p);
		if (t[p->pos] != ')') {
			if (!t[p->pos])
				perr(p, p->pos, "%s", _("missing ')'"));
			else
				unexpected(p);
			node_free(n);
			return NULL;
		}
		p->pos++;
		return n;
	case '.':
		if (is_digit((unsigned char)t[p->pos + 1]))
			return parse_number(p);
		if (t[p->pos + 1] == '.') {
			perr(p, p->pos, "%s", _("'..' is allowed only in position(..)"));
			return NULL;
		}
		p->pos++;
		p->e->uses_self = 1;
		return node_new(N_SELF);
	default:
		if (is_digit((unsigned char)t[p->pos]))
			return parse_number(p);
		len = name_len(p);
		if (!len)
			break;
		q = p->pos + len;
		while (is_space((unsigned char)t[q]))
			q++;
		if (t[q] == '(')
			return parse_call(p, len);
		if (p->bare && !memchr(t + p->pos, ':', len)) {
			n = node_new(N_COL);
			n->ref = add_col(p->e, t + p->pos, len);
			p->pos += len;
			return n;
		}
		/* A bare name or path (/data/x, name): ODK forms use ${name}. */
		perr(p, p->pos, _("unexpected '%.*s' (write a question as ${name})"),
		     (int)(len > 40 ? 40 : len), t + p->pos);
		return NULL;
	}
	unexpected(p);
	return NULL;
}

void tidu_expr_free(tidu_expr *e)
{
	size_t i;

	if (!e)
		return;
	node_free(e->root);
	for (i = 0; i < e->nrefs; i++)
		free(e->refs[i]);
	free(e->refs);
	for (i = 0; i < e->ncols; i++)
		free(e->cols[i]);
	free(e->cols);
	free(e);
}

static int parse_text(const char *text, int bare, tidu_expr **out)
{
	parser p = {0};
	size_t len, i;
	uint32_t cp;
	int n;

	*out = NULL;
	if (!text)
		text = "";
	p.text = text;
	p.bare = bare;
	len = strlen(text);
	if (len > TIDU_EXPR_MAX_TEXT) {
		perr(&p, TIDU_EXPR_MAX_TEXT, _("the expression is longer than %d bytes"),
		     TIDU_EXPR_MAX_TEXT);
		return TIDU_EINVAL;
	}
	for (i = 0; i < len; i += (size_t)n) {
		n = tidu_utf8_decode(text + i, len - i, &cp);
		if (!n) {
			perr(&p, i, "%s", _("invalid UTF-8"));
			return TIDU_EINVAL;
		}
	}
	p.e = tidu_calloc(1, sizeof(*p.e));
	p.e->root = parse_expr(&p);
	if (p.e->root) {
		skip_ws(&p);
		if (text[p.pos]) {
			if (text[p.pos] == ')')
				perr(&p, p.pos, "%s", _("unbalanced ')'"));
			else
				unexpected(&p);
		}
	}
	if (p.failed) {
		tidu_expr_free(p.e);
		return TIDU_EINVAL;
	}
	*out = p.e;
	return 0;
}

int tidu_expr_parse(const char *text, tidu_expr **out)
{
	return parse_text(text, 0, out);
}

int tidu_expr_parse_filter(const char *text, tidu_expr **out)
{
	return parse_text(text, 1, out);
}

size_t tidu_expr_col_count(const tidu_expr *e)
{
	return e ? e->ncols : 0;
}

const char *tidu_expr_col(const tidu_expr *e, size_t i)
{
	return e && i < e->ncols ? e->cols[i] + 1 : NULL;
}

size_t tidu_expr_ref_count(const tidu_expr *e)
{
	return e ? e->nrefs : 0;
}

const char *tidu_expr_ref(const tidu_expr *e, size_t i)
{
	return e && i < e->nrefs ? e->refs[i] : NULL;
}

int tidu_expr_uses_self(const tidu_expr *e)
{
	return e ? e->uses_self : 0;
}

int tidu_expr_uses_function(const tidu_expr *e, const char *name)
{
	int fn;

	if (!e || !name)
		return 0;
	fn = find_fn(name, strlen(name));
	return fn >= 0 && e->used[fn];
}

/* ---- evaluator ---- */

typedef struct {
	const tidu_expr *e;
	const tidu_expr_env *env;
	size_t steps, max_steps;
} evaluator;

static int ev(evaluator *x, const node *n, tidu_expr_value *out);

static int step(evaluator *x)
{
	if (++x->steps > x->max_steps)
		return tidu_error_set(TIDU_EINVAL, _("expression stopped after %zu steps"),
				      x->max_steps);
	return 0;
}

static int lookup(evaluator *x, const char *name, tidu_expr_value *out)
{
	int rc;

	out->kind = TIDU_EXPR_STRING;
	out->str = NULL;
	out->num = 0;
	if (!x->env->lookup)
		return 0;
	rc = x->env->lookup(x->env->ctx, name, out);
	if (rc < 0) {
		tidu_expr_value_clear(out);
		return rc;
	}
	if (out->kind != TIDU_EXPR_STRING && out->kind != TIDU_EXPR_NUMBER &&
	    out->kind != TIDU_EXPR_BOOL)
		set_str(out, "", 0);
	return 0;
}

/* Evaluates kid `i` of `n` into a new string (caller frees). */
static int ev_string(evaluator *x, const node *n, size_t i, tidu_buf *b)
{
	tidu_expr_value v;
	int rc = ev(x, n->kids[i], &v);

	if (rc < 0)
		return rc;
	tidu_expr_string(&v, b);
	tidu_expr_value_clear(&v);
	return 0;
}

static int ev_number(evaluator *x, const node *n, size_t i, double *d)
{
	tidu_expr_value v;
	int rc = ev(x, n->kids[i], &v);

	if (rc < 0)
		return rc;
	*d = tidu_expr_number(&v);
	tidu_expr_value_clear(&v);
	return 0;
}

static int ev_bool(evaluator *x, const node *n, size_t i, int *b)
{
	tidu_expr_value v;
	int rc = ev(x, n->kids[i], &v);

	if (rc < 0)
		return rc;
	*b = tidu_expr_truthy(&v);
	tidu_expr_value_clear(&v);
	return 0;
}

/* XPath 1.0 comparison of two values (no node-sets: a ${name} is its value). */
static int compare(int op, const tidu_expr_value *a, const tidu_expr_value *b)
{
	double x, y;

	if (op == OP_EQ || op == OP_NE) {
		int eq;

		if (a->kind == TIDU_EXPR_BOOL || b->kind == TIDU_EXPR_BOOL)
			eq = tidu_expr_truthy(a) == tidu_expr_truthy(b);
		else if (a->kind == TIDU_EXPR_NUMBER || b->kind == TIDU_EXPR_NUMBER)
			eq = tidu_expr_number(a) == tidu_expr_number(b);
		else
			eq = strcmp(sv(a), sv(b)) == 0;
		return op == OP_EQ ? eq : !eq;
	}
	x = tidu_expr_number(a);
	y = tidu_expr_number(b);
	switch (op) {
	case OP_LT: return x < y;
	case OP_LE: return x <= y;
	case OP_GT: return x > y;
	default: return x >= y;
	}
}

static double arith(int op, double a, double b)
{
	switch (op) {
	case OP_ADD: return a + b;
	case OP_SUB: return a - b;
	case OP_MUL: return a * b;
	case OP_DIV: return a / b;
	default: return fmod(a, b);
	}
}

/* Code points of a UTF-8 string (invalid bytes count one each). */
static size_t u8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* Byte offset of code point `i` (clamped to the end). */
static size_t u8_offset(const char *s, size_t i)
{
	size_t off = 0;

	while (s[off] && i > 0) {
		off++;
		while (((unsigned char)s[off] & 0xC0) == 0x80)
			off++;
		i--;
	}
	return off;
}

/* The next whitespace-separated token of `*s`: its start and length, 0 at the end. */
static size_t next_token(const char **s, const char **tok)
{
	const char *p = *s;
	size_t n = 0;

	while (is_space((unsigned char)*p))
		p++;
	*tok = p;
	while (p[n] && !is_space((unsigned char)p[n]))
		n++;
	*s = p + n;
	return n;
}

static int selected(const char *list, const char *value)
{
	const char *tok, *v = value;
	size_t vn, n;

	while (is_space((unsigned char)*v))
		v++;
	vn = strlen(v);
	while (vn && is_space((unsigned char)v[vn - 1]))
		vn--;
	while ((n = next_token(&list, &tok)) > 0)
		if (n == vn && memcmp(tok, v, n) == 0)
			return 1;
	return 0;
}

/*
 * round(x, digits), half away from zero, on the decimal digits of x's
 * shortest representation, so that round(2.675, 2) is 2.68 as written, not
 * 2.67 as the binary value 2.67499999... would give.
 */
static double round_digits(double x, double digits)
{
	tidu_buf b = TIDU_BUF_INIT, r = TIDU_BUF_INIT;
	const char *s, *dot;
	size_t intlen, total, k, i;
	char *num;
	long n;
	int neg;
	double res;

	if (isnan(x) || isnan(digits))
		return NAN;
	if (isinf(x))
		return x;
	if (digits > 400)
		return x;
	n = digits < -400 ? -400 : (long)digits;
	(void)tidu_format_number(&b, x);
	s = tidu_buf_cstr(&b);
	neg = *s == '-';
	if (neg)
		s++;
	if (strchr(s, 'e')) {
		/* >= 1e21: no fraction left to round; < 1e-7: scale. */
		tidu_buf_free(&b);
		if (fabs(x) >= 1)
			return n >= 0 ? x : round(x / pow(10, (double)-n)) * pow(10, (double)-n);
		if (n > 300)
			return x;
		return round(x * pow(10, (double)n)) / pow(10, (double)n);
	}
	/* digits D = int part then fraction; keep the first intlen + n. */
	dot = strchr(s, '.');
	intlen = dot ? (size_t)(dot - s) : strlen(s);
	for (i = 0; s[i]; i++)
		if (s[i] != '.')
			tidu_buf_putc(&r, s[i]);
	total = r.len;
	if (n >= 0 && intlen + (size_t)n >= total) {
		tidu_buf_free(&b);
		tidu_buf_free(&r);
		return x;
	}
	if (n < 0 && (size_t)-n > intlen) {
		tidu_buf_free(&b);
		tidu_buf_free(&r);
		return 0;
	}
	k = n >= 0 ? intlen + (size_t)n : intlen - (size_t)-n;
	num = r.ptr;
	if (num[k] >= '5') {
		/* add one to the kept digits, carrying */
		size_t j = k;

		while (j > 0 && num[j - 1] == '9')
			num[--j] = '0';
		tidu_buf_truncate(&r, k);
		if (j == 0) {
			tidu_buf_clear(&b);
			tidu_buf_putc(&b, '1');
			tidu_buf_puts(&b, tidu_buf_cstr(&r));
		} else {
			r.ptr[j - 1]++;
			tidu_buf_clear(&b);
			tidu_buf_puts(&b, tidu_buf_cstr(&r));
		}
	} else {
		tidu_buf_truncate(&r, k);
		tidu_buf_clear(&b);
		tidu_buf_puts(&b, r.len ? tidu_buf_cstr(&r) : "0");
	}
	tidu_buf_printf(&b, "e%ld", -n);
	res = tidu_strtod_c(tidu_buf_cstr(&b), NULL);
	tidu_buf_free(&b);
	tidu_buf_free(&r);
	return neg ? -res : res;
}

/* A date value as days: a date or date-time string, or a number of days. */
static int value_days(const tidu_expr_value *v, double *days)
{
	double d;

	if (v->kind == TIDU_EXPR_BOOL)
		return 0;
	if (v->kind == TIDU_EXPR_STRING && parse_days(sv(v), &d)) {
		*days = d;
		return 1;
	}
	d = tidu_expr_number(v);
	if (!isfinite(d) || fabs(d) > 3e6) /* years 0001-9999 and a margin */
		return 0;
	*days = d;
	return 1;
}

static void put_date(tidu_buf *b, double days)
{
	long y;
	int m, d;

	civil_from_days((long)floor(days), &y, &m, &d);
	tidu_buf_printf(b, "%04ld-%02d-%02d", y, m, d);
}

static void format_date(tidu_buf *b, double days, const char *fmt)
{
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	long day = (long)floor(days), secs, y;
	int m, d;

	secs = (long)floor((days - (double)day) * 86400 + 0.5);
	if (secs >= 86400) {
		secs -= 86400;
		day++;
	}
	civil_from_days(day, &y, &m, &d);
	for (; *fmt; fmt++) {
		if (*fmt != '%' || !fmt[1]) {
			tidu_buf_putc(b, *fmt);
			continue;
		}
		switch (*++fmt) {
		case 'Y': tidu_buf_printf(b, "%04ld", y); break;
		case 'y': tidu_buf_printf(b, "%02ld", y % 100); break;
		case 'm': tidu_buf_printf(b, "%02d", m); break;
		case 'n': tidu_buf_printf(b, "%d", m); break;
		case 'd': tidu_buf_printf(b, "%02d", d); break;
		case 'e': tidu_buf_printf(b, "%d", d); break;
		case 'H': tidu_buf_printf(b, "%02ld", secs / 3600); break;
		case 'h': tidu_buf_printf(b, "%ld", secs / 3600); break;
		case 'M': tidu_buf_printf(b, "%02ld", secs / 60 % 60); break;
		case 'S': tidu_buf_printf(b, "%02ld", secs % 60); break;
		case 'a': tidu_buf_puts(b, wd[((day % 7) + 7 + 4) % 7]); break;
		case 'b': tidu_buf_puts(b, mon[m - 1]); break;
		case '%': tidu_buf_putc(b, '%'); break;
		default:
			tidu_buf_putc(b, '%');
			tidu_buf_putc(b, *fmt);
		}
	}
}

/*
 * The values of the ${name} argument of count, sum, max and min: every
 * instance's through env->values, else the one through lookup. *vals is
 * allocated (free each with tidu_expr_value_clear, then the array).
 */
static int gather(evaluator *x, const node *ref, tidu_expr_value **vals, size_t *n)
{
	const char *name = x->e->refs[ref->ref];
	size_t cap = 16, got, i;
	tidu_expr_value *v;
	int rc;

	*vals = NULL;
	*n = 0;
	if (!x->env->values) {
		v = tidu_calloc(1, sizeof(*v));
		rc = lookup(x, name, v);
		if (rc < 0) {
			free(v);
			return rc;
		}
		*vals = v;
		*n = 1;
		return 0;
	}
	for (;;) {
		v = tidu_calloc(cap, sizeof(*v));
		got = x->env->values(x->env->ctx, name, v, cap);
		if (got > cap)
			got = cap;
		if (got < cap && got <= TIDU_EXPR_MAX_VALUES)
			break;
		for (i = 0; i < got; i++)
			tidu_expr_value_clear(&v[i]);
		free(v);
		if (got > TIDU_EXPR_MAX_VALUES)
			return tidu_error_set(TIDU_EINVAL, _("more than %d values of '%s'"),
					      TIDU_EXPR_MAX_VALUES, name);
		/* full: ask again for more, up to one past the bound */
		cap = cap * 2 > TIDU_EXPR_MAX_VALUES + 1 ? TIDU_EXPR_MAX_VALUES + 1 : cap * 2;
	}
	*vals = v;
	*n = got;
	return 0;
}

static void free_vals(tidu_expr_value *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		tidu_expr_value_clear(&v[i]);
	free(v);
}

/* max/min over every argument: a ${name} gives all its values. */
static int ev_extreme(evaluator *x, const node *n, int want_max, tidu_expr_value *out)
{
	double best = NAN, d;
	size_t i, j, count = 0, nv;
	tidu_expr_value *vals;
	int rc, nan = 0;

	for (i = 0; i < n->nkids; i++) {
		if (n->kids[i]->kind == N_REF) {
			rc = gather(x, n->kids[i], &vals, &nv);
			if (rc < 0)
				return rc;
		} else {
			vals = tidu_calloc(1, sizeof(*vals));
			nv = 1;
			rc = ev(x, n->kids[i], vals);
			if (rc < 0) {
				free(vals);
				return rc;
			}
		}
		for (j = 0; j < nv; j++) {
			if ((rc = step(x)) < 0) {
				free_vals(vals, nv);
				return rc;
			}
			d = tidu_expr_number(&vals[j]);
			if (isnan(d))
				nan = 1;
			else if (!count++ || (want_max ? d > best : d < best))
				best = d;
		}
		free_vals(vals, nv);
	}
	set_num(out, nan || !count ? NAN : best);
	return 0;
}

/* One character of translate()'s `from`: the first index wins. */
typedef struct {
	uint32_t cp;
	size_t idx;
} tr_map;

static int tr_cmp(const void *a, const void *b)
{
	const tr_map *x = a, *y = b;

	if (x->cp != y->cp)
		return x->cp < y->cp ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * translate(s, from, to) by code points: each character of s found in
 * `from` becomes the character at the same index of `to`, or goes when `to`
 * is shorter. `from` is sorted once, so that a long `from` does not make
 * it quadratic. Invalid bytes are copied as they are. Returns a new string.
 */
static char *translate(const char *s, const tidu_buf *from, const tidu_buf *to)
{
	tidu_buf r = TIDU_BUF_INIT;
	const char *f = tidu_buf_cstr(from), *t = tidu_buf_cstr(to);
	tr_map *map = tidu_reallocarray(NULL, from->len + 1, sizeof(*map));
	size_t nmap = 0, ntos = 0, i, off = 0, *tos;
	uint32_t cp;
	int k;

	while (off < from->len) {
		k = tidu_utf8_decode(f + off, from->len - off, &cp);
		if (k <= 0) {
			k = 1;
			cp = 0xFFFFFFFF; /* never equal to a decoded character */
		}
		map[nmap].cp = cp;
		map[nmap].idx = nmap;
		nmap++;
		off += (size_t)k;
	}
	qsort(map, nmap, sizeof(*map), tr_cmp);
	/* where each character of `to` starts, and its end */
	tos = tidu_reallocarray(NULL, to->len + 2, sizeof(*tos));
	for (off = 0; off < to->len; off += (size_t)k) {
		k = tidu_utf8_decode(t + off, to->len - off, &cp);
		if (k <= 0)
			k = 1;
		tos[ntos++] = off;
	}
	tos[ntos] = to->len;
	while (*s) {
		tr_map key, *hit;

		k = tidu_utf8_decode(s, strlen(s), &cp);
		if (k <= 0) {
			tidu_buf_putc(&r, *s++);
			continue;
		}
		key.cp = cp;
		key.idx = 0;
		/* the first entry of cp: binary search for the lowest index */
		hit = NULL;
		{
			size_t lo = 0, hi = nmap;

			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (tr_cmp(&map[mid], &key) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < nmap && map[lo].cp == cp)
				hit = &map[lo];
		}
		if (!hit) {
			tidu_buf_put(&r, s, (size_t)k);
		} else if (hit->idx < ntos) {
			i = tos[hit->idx];
			tidu_buf_put(&r, t + i, tos[hit->idx + 1] - i);
		}
		s += k;
	}
	free(map);
	free(tos);
	return tidu_buf_detach(&r);
}

static int ev_call(evaluator *x, const node *n, tidu_expr_value *out)
{
	tidu_buf b = TIDU_BUF_INIT, c = TIDU_BUF_INIT, d = TIDU_BUF_INIT;
	tidu_expr_value v = {TIDU_EXPR_STRING, 0, NULL};
	double a1 = 0, a2 = 0;
	int rc = 0, t;
	size_t i;

	switch (n->fn) {
	case F_TRUE:
	case F_FALSE:
		set_bool(out, n->fn == F_TRUE);
		break;
	case F_NOT:
	case F_BOOLEAN:
		if ((rc = ev_bool(x, n, 0, &t)) < 0)
			break;
		set_bool(out, n->fn == F_NOT ? !t : t);
		break;
	case F_BOOLEAN_FROM_STRING:
		if ((rc = ev_string(x, n, 0, &b)) < 0)
			break;
		set_bool(out, strcmp(tidu_buf_cstr(&b), "true") == 0 ||
			 strcmp(tidu_buf_cstr(&b), "1") == 0);
		break;
	case F_NUMBER:
	case F_STRING:
		if (n->nkids)
			rc = ev(x, n->kids[0], &v);
		else
			rc = lookup(x, NULL, &v);
		if (rc < 0)
			break;
		if (n->fn == F_NUMBER) {
			set_num(out, tidu_expr_number(&v));
		} else {
			tidu_expr_string(&v, &b);
			set_str_own(out, tidu_buf_detach(&b));
		}
		break;
	case F_INT: case F_FLOOR: case F_CEILING: case F_ABS: case F_SQRT:
	case F_EXP: case F_LOG: case F_LOG10:
		if ((rc = ev_number(x, n, 0, &a1)) < 0)
			break;
		switch (n->fn) {
		case F_INT: a1 = trunc(a1); break;
		case F_FLOOR: a1 = floor(a1); break;
		case F_CEILING: a1 = ceil(a1); break;
		case F_ABS: a1 = fabs(a1); break;
		case F_SQRT: a1 = sqrt(a1); break;
		case F_EXP: a1 = exp(a1); break;
		case F_LOG: a1 = log(a1); break;
		default: a1 = log10(a1); break;
		}
		set_num(out, a1 == 0 ? 0 : a1); /* no -0 */
		break;
	case F_ROUND:
		if ((rc = ev_number(x, n, 0, &a1)) < 0)
			break;
		if (n->nkids > 1 && (rc = ev_number(x, n, 1, &a2)) < 0)
			break;
		a1 = round_digits(a1, a2);
		set_num(out, a1 == 0 ? 0 : a1);
		break;
	case F_POW:
		if ((rc = ev_number(x, n, 0, &a1)) < 0 || (rc = ev_number(x, n, 1, &a2)) < 0)
			break;
		set_num(out, pow(a1, a2));
		break;
	case F_PI:
		set_num(out, 3.14159265358979323846);
		break;
	case F_CONCAT:
		for (i = 0; i < n->nkids; i++) {
			if ((rc = ev_string(x, n, i, &b)) < 0)
				break;
			if (b.len > TIDU_EXPR_MAX_STRING) {
				rc = tidu_error_set(TIDU_EINVAL,
						    _("expression result longer than %d bytes"),
						    TIDU_EXPR_MAX_STRING);
				break;
			}
		}
		if (rc == 0)
			set_str_own(out, tidu_buf_detach(&b));
		break;
	case F_STRING_LENGTH:
	case F_NORMALIZE_SPACE:
		if (n->nkids)
			rc = ev(x, n->kids[0], &v);
		else
			rc = lookup(x, NULL, &v);
		if (rc < 0)
			break;
		tidu_expr_string(&v, &b);
		if (n->fn == F_STRING_LENGTH) {
			set_num(out, (double)u8_len(tidu_buf_cstr(&b)));
		} else {
			const char *p = tidu_buf_cstr(&b), *tok;
			size_t len;

			while ((len = next_token(&p, &tok)) > 0) {
				if (c.len)
					tidu_buf_putc(&c, ' ');
				tidu_buf_put(&c, tok, len);
			}
			set_str_own(out, tidu_buf_detach(&c));
		}
		break;
	case F_SUBSTR: {
		const char *s;
		double len;
		double from, to;
		size_t o1, o2;

		if ((rc = ev_string(x, n, 0, &b)) < 0 || (rc = ev_number(x, n, 1, &a1)) < 0)
			break;
		s = tidu_buf_cstr(&b);
		len = (double)u8_len(s);
		a2 = len;
		if (n->nkids > 2 && (rc = ev_number(x, n, 2, &a2)) < 0)
			break;
		if (isnan(a1) || isnan(a2)) {
			set_str(out, "", 0);
			break;
		}
		from = trunc(a1);
		to = trunc(a2);
		if (from < 0)
			from += len;
		if (to < 0)
			to += len;
		from = from < 0 ? 0 : from > len ? len : from;
		to = to < 0 ? 0 : to > len ? len : to;
		if (from >= to) {
			set_str(out, "", 0);
			break;
		}
		o1 = u8_offset(s, (size_t)from);
		o2 = u8_offset(s, (size_t)to);
		set_str(out, s + o1, o2 - o1);
		break;
	}
	case F_SUBSTRING_BEFORE: case F_SUBSTRING_AFTER:
	case F_CONTAINS: case F_STARTS_WITH: case F_ENDS_WITH: {
		const char *s, *t2, *hit;
		size_t ls, lt;

		if ((rc = ev_string(x, n, 0, &b)) < 0 || (rc = ev_string(x, n, 1, &c)) < 0)
			break;
		s = tidu_buf_cstr(&b);
		t2 = tidu_buf_cstr(&c);
		ls = b.len;
		lt = c.len;
		hit = strstr(s, t2);
		switch (n->fn) {
		case F_CONTAINS:
			set_bool(out, hit != NULL);
			break;
		case F_STARTS_WITH:
			set_bool(out, strncmp(s, t2, lt) == 0);
			break;
		case F_ENDS_WITH:
			set_bool(out, lt <= ls && memcmp(s + ls - lt, t2, lt) == 0);
			break;
		case F_SUBSTRING_BEFORE:
			set_str(out, s, hit ? (size_t)(hit - s) : 0);
			break;
		default:
			if (hit)
				set_str(out, hit + lt, strlen(hit + lt));
			else
				set_str(out, "", 0);
		}
		break;
	}
	case F_TRANSLATE:
		if ((rc = ev_string(x, n, 0, &b)) < 0 || (rc = ev_string(x, n, 1, &c)) < 0 ||
		    (rc = ev_string(x, n, 2, &d)) < 0)
			break;
		set_str_own(out, translate(tidu_buf_cstr(&b), &c, &d));
		break;
	case F_SELECTED:
		if ((rc = ev_string(x, n, 0, &b)) < 0 || (rc = ev_string(x, n, 1, &c)) < 0)
			break;
		set_bool(out, selected(tidu_buf_cstr(&b), tidu_buf_cstr(&c)));
		break;
	case F_COUNT_SELECTED: {
		const char *p, *tok;
		size_t k = 0;

		if ((rc = ev_string(x, n, 0, &b)) < 0)
			break;
		p = tidu_buf_cstr(&b);
		while (next_token(&p, &tok) > 0)
			k++;
		set_num(out, (double)k);
		break;
	}
	case F_SELECTED_AT: {
		const char *p, *tok;
		size_t len;
		double k;

		if ((rc = ev_string(x, n, 0, &b)) < 0 || (rc = ev_number(x, n, 1, &a1)) < 0)
			break;
		p = tidu_buf_cstr(&b);
		k = trunc(a1);
		set_str(out, "", 0);
		if (isnan(k) || k < 0)
			break;
		while ((len = next_token(&p, &tok)) > 0) {
			if (k-- == 0) {
				free(out->str);
				set_str(out, tok, len);
				break;
			}
		}
		break;
	}
	case F_REGEX: {
		re_entry *re = n->re;
		const char *why = NULL;

		if ((rc = ev_string(x, n, 0, &b)) < 0)
			break;
		if (!re) {
			if ((rc = ev_string(x, n, 1, &c)) < 0)
				break;
			if (c.len > TIDU_EXPR_MAX_REGEX) {
				rc = tidu_error_set(TIDU_EINVAL,
						    _("regex(): the pattern is longer than %d bytes"),
						    TIDU_EXPR_MAX_REGEX);
				break;
			}
			/* A pattern that does not compile matches nothing. */
			if (regex_compile(tidu_buf_cstr(&c), &re, &why) < 0) {
				set_bool(out, 0);
				break;
			}
		}
		set_bool(out, regex_match(re, tidu_buf_cstr(&b)));
		if (re != n->re)
			regex_release(re);
		break;
	}
	case F_IF:
		if ((rc = ev_bool(x, n, 0, &t)) < 0)
			break;
		rc = ev(x, n->kids[t ? 1 : 2], out);
		break;
	case F_COALESCE:
		if ((rc = ev(x, n->kids[0], out)) < 0)
			break;
		tidu_expr_string(out, &b);
		if (b.len)
			break;
		tidu_expr_value_clear(out);
		rc = ev(x, n->kids[1], out);
		break;
	case F_TODAY:
	case F_NOW: {
		const char *s = n->fn == F_TODAY ? x->env->today : x->env->now;

		set_str(out, s ? s : "", s ? strlen(s) : 0);
		break;
	}
	case F_DATE:
	case F_DECIMAL_DATE_TIME:
		if ((rc = ev(x, n->kids[0], &v)) < 0)
			break;
		if (!value_days(&v, &a1)) {
			if (n->fn == F_DATE)
				set_str(out, "", 0);
			else
				set_num(out, NAN);
			break;
		}
		if (n->fn == F_DATE) {
			put_date(&b, a1);
			set_str_own(out, tidu_buf_detach(&b));
		} else {
			set_num(out, a1);
		}
		break;
	case F_FORMAT_DATE:
	case F_FORMAT_DATE_TIME:
		if ((rc = ev(x, n->kids[0], &v)) < 0 || (rc = ev_string(x, n, 1, &c)) < 0)
			break;
		if (value_days(&v, &a1))
			format_date(&b, a1, tidu_buf_cstr(&c));
		set_str_own(out, tidu_buf_detach(&b));
		break;
	case F_POSITION:
		set_num(out, x->env->position);
		break;
	case F_COUNT:
	case F_SUM: {
		tidu_expr_value *vals;
		size_t nv;
		double sum = 0;

		if ((rc = gather(x, n->kids[0], &vals, &nv)) < 0)
			break;
		for (i = 0; i < nv && rc == 0; i++) {
			rc = step(x);
			sum += tidu_expr_number(&vals[i]);
		}
		free_vals(vals, nv);
		if (rc == 0)
			set_num(out, n->fn == F_COUNT ? (double)nv : sum);
		break;
	}
	case F_MAX:
	case F_MIN:
		rc = ev_extreme(x, n, n->fn == F_MAX, out);
		break;
	case F_ONCE:
		/* The question keeps the value it has; only an empty one takes x. */
		if ((rc = lookup(x, NULL, out)) < 0)
			break;
		tidu_expr_string(out, &b);
		if (b.len)
			break;
		tidu_expr_value_clear(out);
		rc = ev(x, n->kids[0], out);
		break;
	case F_UUID: {
		const char *s = x->env->uuid;

		set_str(out, s ? s : "", s ? strlen(s) : 0);
		break;
	}
	}
	tidu_expr_value_clear(&v);
	tidu_buf_free(&b);
	tidu_buf_free(&c);
	tidu_buf_free(&d);
	return rc;
}

static int ev_node(evaluator *x, const node *n, tidu_expr_value *out)
{
	tidu_expr_value a, b;
	size_t i;
	double acc, d;
	int rc, t;

	switch (n->kind) {
	case N_NUM:
		set_num(out, n->num);
		return 0;
	case N_STR:
		set_str(out, n->str, strlen(n->str));
		return 0;
	case N_REF:
		return lookup(x, x->e->refs[n->ref], out);
	case N_COL:
		return lookup(x, x->e->cols[n->ref], out);
	case N_SELF:
		return lookup(x, NULL, out);
	case N_PARENT:
		set_str(out, "", 0);
		return 0;
	case N_NEG:
		if ((rc = ev_number(x, n, 0, &d)) < 0)
			return rc;
		set_num(out, -d);
		return 0;
	case N_OR:
	case N_AND:
		/* short-circuit, left to right */
		for (i = 0; i < n->nkids; i++) {
			if ((rc = ev_bool(x, n, i, &t)) < 0)
				return rc;
			if (n->kind == N_OR ? t : !t)
				break;
		}
		set_bool(out, n->kind == N_OR ? i < n->nkids : i == n->nkids);
		return 0;
	case N_EQ:
	case N_REL:
		if ((rc = ev(x, n->kids[0], &a)) < 0)
			return rc;
		for (i = 1; i < n->nkids; i++) {
			if ((rc = ev(x, n->kids[i], &b)) < 0) {
				tidu_expr_value_clear(&a);
				return rc;
			}
			t = compare(n->ops[i - 1], &a, &b);
			tidu_expr_value_clear(&a);
			tidu_expr_value_clear(&b);
			set_bool(&a, t);
		}
		*out = a;
		return 0;
	case N_ADD:
	case N_MUL:
		if ((rc = ev_number(x, n, 0, &acc)) < 0)
			return rc;
		for (i = 1; i < n->nkids; i++) {
			if ((rc = ev_number(x, n, i, &d)) < 0)
				return rc;
			acc = arith(n->ops[i - 1], acc, d);
		}
		set_num(out, acc);
		return 0;
	case N_CALL:
		return ev_call(x, n, out);
	}
	set_str(out, "", 0);
	return 0;
}

static int ev(evaluator *x, const node *n, tidu_expr_value *out)
{
	int rc;

	out->kind = TIDU_EXPR_STRING;
	out->str = NULL;
	out->num = 0;
	if ((rc = step(x)) < 0)
		return rc;
	rc = ev_node(x, n, out);
	if (rc < 0) {
		tidu_expr_value_clear(out);
		return rc;
	}
	if (out->kind == TIDU_EXPR_STRING && out->str &&
	    strlen(out->str) > TIDU_EXPR_MAX_STRING) {
		tidu_expr_value_clear(out);
		return tidu_error_set(TIDU_EINVAL, _("expression result longer than %d bytes"),
				      TIDU_EXPR_MAX_STRING);
	}
	return 0;
}

int tidu_expr_eval(const tidu_expr *e, const tidu_expr_env *env, tidu_expr_value *out)
{
	static const tidu_expr_env none = {0};
	evaluator x;

	out->kind = TIDU_EXPR_STRING;
	out->str = NULL;
	out->num = 0;
	if (!e)
		return tidu_error_set(TIDU_EINVAL, "%s", _("no expression"));
	x.e = e;
	x.env = env ? env : &none;
	x.steps = 0;
	x.max_steps = x.env->max_steps ? x.env->max_steps : DEFAULT_STEPS;
	return ev(&x, e->root, out);
}
