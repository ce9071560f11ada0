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
 * concat(...) string-length([x]) substr(s, start[, end]) contains(s, t)
 * starts-with ends-with normalize-space translate(s, from, to)
 * selected(list, value) count-selected(list) selected-at(list, i)
 * jr:choice-name is refused; regex(s, pattern) (POSIX extended, bounded
 * length), if(c, a, b) coalesce(a, b) today() now() date(x) decimal-date-time
 * format-date(d, fmt) position(..) (the 1-based index of the current repeat
 * instance) count(${repeat}) sum(${q_in_repeat}) max min once(x) uuid()
 * (uuid and once: allowed in calculations only, deterministic per response:
 * the env gives them). Unknown functions are a parse error naming them.
 * Also: boolean-from-string substring-before substring-after exp log log10
 * pi() format-date-time (as format-date).
 *
 * Decisions where XPath and ODK leave room (src/core/expr.c):
 * - Numbers are XPath's: digits with an optional fraction (".5", "5.");
 *   no exponent: "1e3" is a parse error ("invalid number"). number() of a
 *   string takes the same syntax with surrounding whitespace ("" -> NaN,
 *   "1e3" -> NaN, "+1" -> NaN), except that a date "YYYY-MM-DD" or date-time
 *   "YYYY-MM-DDTHH:MM[:SS[.fff]][zone]" gives its days since 1970-01-01
 *   (the time as a fraction of a day), as ODK does for date answers: so
 *   ${d} < today(), today() - ${dob} and date(today() + 7) work on the
 *   strings the lookup gives. Local days: the wall time as written, the
 *   zone not applied.
 * - A ${name} is its value, not a node-set. = and != compare as booleans if
 *   either side is a boolean, else as numbers if either is a number, else
 *   as strings; < <= > >= always as numbers; NaN compares false.
 *   Arithmetic is IEEE (1 div 0 is Infinity, mod as C fmod). string() of a
 *   number uses tidu_format_number ("1", "0.5", "1e+21"), "NaN",
 *   "Infinity", "-Infinity"; of a boolean "true"/"false".
 * - today(), now(), date(x) give strings ("YYYY-MM-DD"; now(): env->now);
 *   date() of a number of days or a date(-time) string gives its date, else
 *   "". decimal-date-time(x) gives days (NaN when not a date).
 *   format-date(d, fmt): %Y %y %m %n (month, no zero) %d %e (day, no zero)
 *   %H %h (hour, no zero) %M %S %a (Mon) %b (Jan) %%; "" when d is not a date.
 * - round(x[, digits]) rounds half away from zero on the decimal digits of
 *   x (round(2.675, 2) is 2.68, round(-2.5) is -3: ODK, not XPath's
 *   round(-2.5) = -2); digits may be negative. int() truncates.
 * - substr(s, start[, end]) is ODK's: 0-based start, end exclusive, in
 *   characters; a negative index counts from the end; clamped.
 *   string-length and translate count characters (code points).
 * - selected(list, v): v (trimmed) is one of the whitespace-separated codes;
 *   selected-at(list, i) is 0-based ("" outside).
 * - regex(s, re): POSIX extended (regcomp REG_EXTENDED|REG_NOSUB, bytes),
 *   unanchored like Java's find(); the Java shorthands \d \D \s \S \w \W
 *   are translated; refused: back-references, patterns whose counted
 *   repetitions expand past 1000 atoms ((a{255}){255}) or that nest more
 *   than 32 groups, patterns longer than TIDU_EXPR_MAX_REGEX bytes. A
 *   literal pattern is compiled at parse time (a bad one is a parse
 *   error); a computed one at each evaluation (one that does not
 *   compile matches nothing).
 * - count(${r}) and sum(${q}) take a ${name}; max and min take one or more
 *   arguments, a ${name} giving all its values (NaN if any is NaN or
 *   none). once(x) is the value of `.` if not empty, else x.
 * - position() takes `..` only; `..` is refused elsewhere; bare names and
 *   paths (/data/x) are refused: write ${x}. Except in a choice_filter
 *   (tidu_expr_parse_filter): there a bare name (`county`, `name`) is a
 *   column of the choice being filtered, and the lookup receives it
 *   prefixed by '@' ("@county"; question names never start with '@').
 * - and, or short-circuit; if() evaluates only the branch it takes.
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
/* Bounds of evaluation (TIDU_EINVAL): a string result (concat, a lookup's
 * value), a regex() pattern, the values of one count/sum/max/min argument. */
#define TIDU_EXPR_MAX_STRING 65536
#define TIDU_EXPR_MAX_REGEX 512
#define TIDU_EXPR_MAX_VALUES 100000
int tidu_expr_parse(const char *text, tidu_expr **out);
void tidu_expr_free(tidu_expr *e);

/*
 * As tidu_expr_parse, for a choice_filter (`county = ${county}`): a bare
 * name (no ':' in it, not followed by '(') is the column of that name of
 * the choice being tested, looked up as "@name". Paths stay refused.
 */
int tidu_expr_parse_filter(const char *text, tidu_expr **out);

/* The bare names of a choice_filter (without the '@'), each once, in order. */
size_t tidu_expr_col_count(const tidu_expr *e);
const char *tidu_expr_col(const tidu_expr *e, size_t i);

/* The names it references (${name}), each once, in order of appearance. */
size_t tidu_expr_ref_count(const tidu_expr *e);
const char *tidu_expr_ref(const tidu_expr *e, size_t i);

/* 1 if it uses `.`. */
int tidu_expr_uses_self(const tidu_expr *e);

/*
 * 1 if it calls the function `name` (e.g. "uuid", "once", "now": for the
 * form's check that they appear in calculations only).
 */
int tidu_expr_uses_function(const tidu_expr *e, const char *name);

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
