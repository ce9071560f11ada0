#ifndef TIDU_EXPR_H
#define TIDU_EXPR_H
/*
 * XLSForm expressions (relevant, constraint, calculation, required,
 * choice_filter, repeat_count, default): the subset of XPath 1.0 that ODK
 * forms use, with `${name}` references. Parsed once into a tree
 * (tidu_expr_parse), evaluated any number of times against the answers of a
 * response through a lookup callback. Evaluation is total and safe: no
 * access to anything but the callback, no side effects, bounded steps and
 * depth; a type problem gives the XPath conversion (number('') is NaN),
 * never an error, except the bounds (TIDU_EINVAL).
 *
 * Grammar: or / and / = != / < <= > >= / + - / * div mod / unary - /
 * primary: number, 'string' or "string", ${name}, `.` (the question being
 * checked), `..`-free; function calls f(a, b...); parentheses.
 * Functions: true() false() not(x) boolean(x) number(x) string(x) int(x)
 * round(x[, digits]) floor ceiling abs pow(x, y) sqrt
 * concat(...) string-length([x]) substr(s, start[, len]) contains(s, t)
 * starts-with ends-with normalize-space translate(s, from, to)
 * selected(list, value) count-selected(list) selected-at(list, i)
 * jr:choice-name is refused; regex(s, pattern) (POSIX extended, bounded
 * length), if(c, a, b) coalesce(a, b) today() now() date(x) decimal-date-time
 * format-date(d, fmt) position(..) (the 1-based index of the current repeat
 * instance) count(${repeat}) sum(${q_in_repeat}) max min once(x) uuid()
 * (uuid and once: allowed in calculations only, deterministic per response:
 * the env gives them). Unknown functions are a parse error naming them.
 */
#include <stddef.h>
#include <stdint.h>

#include "tidu/buf.h"

typedef struct tidu_expr tidu_expr;

/*
 * Parses `text`. TIDU_EINVAL with a message "at character N: reason"
 * (unknown function, wrong number of arguments, unbalanced parenthesis,
 * nesting deeper than TIDU_EXPR_MAX_DEPTH, longer than TIDU_EXPR_MAX_TEXT).
 */
#define TIDU_EXPR_MAX_DEPTH 64
#define TIDU_EXPR_MAX_TEXT 8192
int tidu_expr_parse(const char *text, tidu_expr **out);
void tidu_expr_free(tidu_expr *e);

/* The names it references (${name}), each once, in order of appearance. */
size_t tidu_expr_ref_count(const tidu_expr *e);
const char *tidu_expr_ref(const tidu_expr *e, size_t i);

/* 1 if it uses `.`. */
int tidu_expr_uses_self(const tidu_expr *e);

typedef enum { TIDU_EXPR_STRING, TIDU_EXPR_NUMBER, TIDU_EXPR_BOOL } tidu_expr_kind;

/* A value. `str` is owned (freed by tidu_expr_value_clear) when kind is STRING. */
typedef struct {
	tidu_expr_kind kind;
	double num;   /* NUMBER; BOOL: 0 or 1 */
	char *str;    /* STRING */
} tidu_expr_value;

void tidu_expr_value_clear(tidu_expr_value *v);

/*
 * What an evaluation sees. lookup(ctx, name, out) gives the value of
 * ${name} (name NULL: `.`): an unanswered question is the empty string;
 * a select_multiple answer is its codes separated by single spaces. For a
 * name inside a repeat evaluated outside it, `values` may be called to get
 * every instance's value (count, sum, max, min); it returns how many it set
 * (at most `max`). Returns 0, or < 0 to stop the evaluation with that error.
 */
typedef struct {
	int (*lookup)(void *ctx, const char *name, tidu_expr_value *out);
	size_t (*values)(void *ctx, const char *name, tidu_expr_value *out, size_t max);
	void *ctx;
	const char *today;     /* "YYYY-MM-DD", local */
	const char *now;       /* "YYYY-MM-DDTHH:MM:SS+08:00", local */
	const char *uuid;      /* for uuid() and once(): given by the caller */
	int position;          /* position(..): 1-based index in the current repeat, 0 outside */
	size_t max_steps;      /* 0: 100000 */
} tidu_expr_env;

/* Evaluates `e`; *out is set (clear it after). TIDU_EINVAL when a bound is hit. */
int tidu_expr_eval(const tidu_expr *e, const tidu_expr_env *env, tidu_expr_value *out);

/* XPath boolean() of a value: a non-empty string, a non-zero non-NaN number. */
int tidu_expr_truthy(const tidu_expr_value *v);

/* XPath number() of a value (NaN when not a number). */
double tidu_expr_number(const tidu_expr_value *v);

/* XPath string() of a value, appended to `out` (numbers as tidu_format_number). */
void tidu_expr_string(const tidu_expr_value *v, tidu_buf *out);

#endif
