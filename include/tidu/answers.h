#ifndef TIDU_ANSWERS_H
#define TIDU_ANSWERS_H
/*
 * The answers of one survey response being filled (docs/surveys.md): pure,
 * no store and no terminal, shared by `tidu survey add --answers` and the
 * terminal fill. Values are kept as canonical text (the strings the
 * expressions see, expr.h); every change recomputes the calculations and
 * the repeat counts fixed by repeat_count.
 *
 * Addressing. A question is its index in the form (tidu_form_find). A
 * question inside repeats also needs the instance of each enclosing
 * repeat: a tidu_answers_at, 1-based positions outermost first, one per
 * enclosing repeat (`n` must be that number: tidu_answers_depth). NULL is
 * the top (n = 0). Written as a path: "products[2]/product_name",
 * "visits[1]/people[3]/name" (the repeat names with positions, then the
 * question's name).
 *
 * Decisions:
 * - relevant: a question is asked when its relevant and that of every
 *   enclosing group and repeat are true (a repeat's relevant is evaluated
 *   per instance). The value of a question that is not relevant is kept
 *   (going back restores it) but the expressions see "" and it is left
 *   out of tidu_answers_to_json, the checks and save_to;
 *   tidu_answers_finalize clears it.
 * - A question with a calculation (a calculate, or any type) is computed:
 *   setting it is refused. Calculations are recomputed after every change
 *   by a fixed point over the form order; a non-relevant one is "".
 * - default: the literal default text is set when the instance holding
 *   the question is created (the response, or an added repeat instance),
 *   if it is a valid answer; it is an ordinary answer afterwards.
 * - Metadata: start and end are env->now (tidu_answers_finalize sets end
 *   again), today env->today, deviceid and username from env,
 *   phonenumber and simserial empty. They are never set by hand.
 * - or_other: a select_one/select_multiple ... or_other accepts the code
 *   "other" (unless the list has its own "other" choice), and a companion
 *   text (tidu_answers_set_other; in JSON the key "NAME_other"), required
 *   when "other" is chosen. tidu_answers_choices does not list "other".
 * - repeat_count: when present, it fixes the number of instances (its
 *   number value, truncated; NaN or negative is 0, at most
 *   TIDU_ANSWERS_MAX_INSTANCES); add and remove are then refused.
 * - choice_filter: a choice is offered when the filter is true with its
 *   bare names bound to the choice's columns (expr.h,
 *   tidu_expr_parse_filter); an answer must be an offered choice.
 * - Errors name the question by its path; the form's constraint_message and
 *   required_message are given in env->lang.
 */
#include <stddef.h>

#include "tidu/buf.h"
#include "tidu/form.h"
#include "tidu/json.h"
#include "tidu/parse.h"

typedef struct tidu_answers tidu_answers;

typedef struct {
	const char *today;     /* "YYYY-MM-DD", local */
	const char *now;       /* "YYYY-MM-DDTHH:MM:SS+08:00", local */
	const char *uuid;      /* the response id: uuid() and once() */
	const char *device_id; /* deviceid */
	const char *username;  /* username: the officer */
	const char *lang;      /* of the form's messages: "zh", "en"; NULL: the form's default */
} tidu_answers_env;

#define TIDU_ANSWERS_MAX_DEPTH 64        /* nested repeats (the form's nesting bound) */
#define TIDU_ANSWERS_MAX_INSTANCES 1000  /* of one repeat in one parent instance */
#define TIDU_ANSWERS_MAX_TEXT 65536      /* bytes of one answer */

typedef struct {
	size_t n;                            /* enclosing repeats */
	size_t pos[TIDU_ANSWERS_MAX_DEPTH];  /* 1-based, outermost first */
} tidu_answers_at;

/*
 * A new, empty response of form `f` (borrowed: it must outlive the
 * answers); env's strings are copied. Defaults and metadata are set. The
 * caller frees it with tidu_answers_free.
 */
tidu_answers *tidu_answers_new(const tidu_form *f, const tidu_answers_env *env);
void tidu_answers_free(tidu_answers *a);
const tidu_form *tidu_answers_form(const tidu_answers *a);

/* The number of repeats enclosing question `q` (for a begin repeat: not itself). */
size_t tidu_answers_depth(const tidu_answers *a, size_t q);

/* Appends the path of `q` at `at` to `out` ("products[2]/product_name"). */
void tidu_answers_path(const tidu_answers *a, size_t q, const tidu_answers_at *at, tidu_buf *out);

/* Parses a path into a question and its instance. TIDU_EINVAL naming it. */
int tidu_answers_parse_path(const tidu_answers *a, const char *path, size_t *q,
			    tidu_answers_at *at);

/*
 * Repeat instances: `repeat` is a begin repeat, `at` its parent instance
 * (n = tidu_answers_depth(repeat)). count: 0 when `at` does not exist.
 * add appends one (defaults set) and gives its position in *pos (may be
 * NULL); remove deletes instance `pos`, the later ones move up. Both are
 * TIDU_EINVAL when repeat_count fixes the number, past
 * TIDU_ANSWERS_MAX_INSTANCES, or for an instance that does not exist.
 */
size_t tidu_answers_count(const tidu_answers *a, size_t repeat, const tidu_answers_at *at);
int tidu_answers_add(tidu_answers *a, size_t repeat, const tidu_answers_at *at, size_t *pos);
int tidu_answers_remove(tidu_answers *a, size_t repeat, const tidu_answers_at *at, size_t pos);

/*
 * Sets the answer of `q` at `at` from `text` as typed: checked by type
 * (integer: optional sign and digits within int64; decimal: a finite
 * number; date YYYY-MM-DD that exists; time HH:MM[:SS]; datetime
 * YYYY-MM-DD[T ]HH:MM[:SS] with an optional zone Z or +HH:MM; select_one:
 * an offered choice name; select_multiple: names separated by spaces, no
 * duplicate, stored in the list's order; geopoint "lat lon [alt [acc]]"
 * with lat in [-90, 90], lon in [-180, 180], acc >= 0; text: UTF-8
 * without control characters but newline and tab; barcode and hidden: one
 * line; acknowledge "OK" or "1"; file: a path, only recorded), then by its
 * constraint with `.` the new value, checked after the calculations are
 * redone (on failure the old value is put back). Surrounding spaces are
 * trimmed except for text. "" clears the answer. TIDU_EINVAL, with the
 * form's constraint_message or a message naming the question: a wrong
 * value, a question that is not relevant here ("question 'x' is not asked
 * here (its relevant is false)"), read-only, computed, metadata, a note or
 * a group, an instance that does not exist.
 */
int tidu_answers_set(tidu_answers *a, size_t q, const tidu_answers_at *at, const char *text);

/* The companion text of an or_other select ("" clears it). */
int tidu_answers_set_other(tidu_answers *a, size_t q, const tidu_answers_at *at,
			   const char *text);

/*
 * The value of `q` at `at` (an answer, a default, a calculation, metadata)
 * as canonical text, or NULL when it has none. Borrowed until the next
 * change. Not filtered by relevance.
 */
const char *tidu_answers_get(const tidu_answers *a, size_t q, const tidu_answers_at *at);
const char *tidu_answers_get_other(const tidu_answers *a, size_t q, const tidu_answers_at *at);

/*
 * 1 or 0: asked here (relevant, with its groups), required, read-only. For
 * a begin repeat, `at` with n = depth + 1 is one instance, n = depth the
 * repeat as a whole. < 0 when an expression hits a bound (expr.h).
 */
int tidu_answers_relevant(tidu_answers *a, size_t q, const tidu_answers_at *at);
int tidu_answers_required(tidu_answers *a, size_t q, const tidu_answers_at *at);
int tidu_answers_read_only(tidu_answers *a, size_t q, const tidu_answers_at *at);

/*
 * The choices offered for select `q` at `at` (its choice_filter applied),
 * in the list's order: *out is a new array of borrowed pointers into the
 * form (the caller frees the array), *n its length.
 */
int tidu_answers_choices(tidu_answers *a, size_t q, const tidu_answers_at *at,
			 const tidu_form_choice ***out, size_t *n);

/*
 * Navigation for the terminal fill, in form order over the instances that
 * exist: the stops are the questions that are asked (relevant; not
 * calculate, hidden or metadata; notes included) and, after the last
 * instance of a repeat without repeat_count, the repeat itself ("add
 * another?": q is the begin repeat and at->n = its depth). A begin repeat
 * with at->n = depth + 1 is the start of that instance (use it after
 * tidu_answers_add). next: the first stop after `cur` (NULL: from the
 * start); prev: the last one before it. first_unanswered: the first stop
 * that holds a value and has none (notes and repeats are not). Return 1
 * with *out set, 0 when there is none, < 0 on an expression bound.
 */
typedef struct {
	size_t q;
	tidu_answers_at at;
} tidu_answers_pos;

int tidu_answers_next(tidu_answers *a, const tidu_answers_pos *cur, tidu_answers_pos *out);
int tidu_answers_prev(tidu_answers *a, const tidu_answers_pos *cur, tidu_answers_pos *out);
int tidu_answers_first_unanswered(tidu_answers *a, tidu_answers_pos *out);

/*
 * The finalize check, in form order: every relevant question that is
 * required has a value (TIDU_EINVAL with its required_message or "'x' is
 * required"), every relevant value is still a valid answer (an offered
 * choice, its constraint true: another answer may have changed). Sets
 * *first_bad (may be NULL) to the first failing question.
 */
int tidu_answers_check(tidu_answers *a, tidu_answers_pos *first_bad);

/* tidu_answers_check, then clears the non-relevant values and sets `end` to `now`. */
int tidu_answers_finalize(tidu_answers *a, const char *now, tidu_answers_pos *first_bad);

/*
 * Loads answers from a JSON object {name: value}: a repeat is an array of
 * objects (one per instance, appended), a select_multiple an array of
 * names or one string of names separated by spaces, a number a JSON
 * number or a string, an acknowledge also true, null an unanswered
 * question; "NAME_other" the companion of an or_other select. Metadata
 * keys are ignored (tidu fills them); a calculate key must equal the
 * computed value. The answers are set first and checked once all are in,
 * so their order does not matter: an unknown name, a wrong value, an
 * answer to a question that is not relevant, read-only or computed, or an
 * array whose length is not the repeat_count is TIDU_EINVAL naming it
 * (the answers are then partly loaded: discard them). Required answers
 * are not checked (tidu_answers_check does).
 */
int tidu_answers_from_json(tidu_answers *a, const tidu_json *obj);

/*
 * For a caller that finalises straight after loading (an import, `survey
 * add` without --draft): with `on`, tidu_answers_from_json leaves each
 * given value's own checks (its type, its choices under the filter, its
 * constraint) to tidu_answers_finalize, which makes them for every answer
 * anyway, so that they run once, not twice. A value that cannot be read as
 * its type is still refused by the load. Answers loaded so must be
 * finalised before anything else reads them as checked (a draft saved from
 * them could hold a value that breaks its constraint).
 */
void tidu_answers_defer_checks(tidu_answers *a, int on);

/*
 * Writes every relevant value (answers, calculations, metadata) as one
 * JSON object by name in form order: integers and decimals as numbers,
 * select_multiple as an array of names, the rest as strings, a repeat as
 * an array of objects, "NAME_other" after an or_other select; null for a
 * question with a default that was cleared (loading the JSON gives the
 * same answers).
 */
int tidu_answers_to_json(tidu_answers *a, tidu_json_writer *w);

/*
 * The firm fields the response fills: one (save_to key as written,
 * canonical value) per relevant question with a value and a save_to, in
 * form order (an acknowledge gives "1"). *out is a new array (the caller
 * frees the array; the strings are borrowed until the next change).
 */
int tidu_answers_save_to(tidu_answers *a, tidu_kv **out, size_t *n);

#endif
