#ifndef TIDU_ASSESS_H
#define TIDU_ASSESS_H
/*
 * The criteria assessment (docs/assess.md): rule packs (schema/rules/, one
 * .pack file per national rule version) read into memory and evaluated against a
 * firm's fields and yearly figures. Every number lives in the pack; this
 * module only knows the pack language. A pack is total: every expression
 * has a value or is "missing" (an input not recorded), and a missing input
 * is named, never read as zero.
 */
#include <stddef.h>
#include <stdint.h>

#include "tidu/json.h"
#include "tidu/store.h"
#include "tidu/view.h"

/* The packs known to this run: the embedded ones and the city's (rules.h). */
typedef struct tidu_packs tidu_packs;
typedef struct tidu_pack tidu_pack;

/*
 * Parses the pack `text` named `name` (for messages) and adds it to `set`.
 * TIDU_EINVAL with "NAME:LINE: reason" for a malformed pack; `set` is left
 * as it was. A pack of an id already in `set` replaces it when its version
 * is higher, and is ignored otherwise.
 */
int tidu_packs_add(tidu_packs *set, const char *name, const char *text);

/* As tidu_packs_add, for a pack of the store's table (the city's: rules.h). */
int tidu_packs_add_city(tidu_packs *set, const char *name, const char *text);

/* Parses one pack alone ("from" tiers not resolved); the caller frees it. */
int tidu_pack_read(const char *name, const char *text, tidu_pack **out);
void tidu_pack_free(tidu_pack *p);

/* 1 if the pack came from the city (rules.h), 0 if it is embedded. */
int tidu_pack_from_city(const tidu_pack *p);

/* Largest pack text read from a file or a city document. */
#define TIDU_PACK_MAX ((size_t)1 << 20)

/* A new set holding the embedded packs; the caller frees it. */
int tidu_packs_load(tidu_packs **out);
tidu_packs *tidu_packs_new(void);
void tidu_packs_free(tidu_packs *set);

/* The pack of id `id`, or NULL. Borrowed. */
const tidu_pack *tidu_packs_find(const tidu_packs *set, const char *id);

/* The pack in force on `date` (YYYY-MM-DD): the newest in_force not after it. */
const tidu_pack *tidu_packs_in_force(const tidu_packs *set, const char *date);

/* The i-th pack by id, or NULL past the end. */
const tidu_pack *tidu_packs_nth(const tidu_packs *set, size_t i);

const char *tidu_pack_id(const tidu_pack *p);
int tidu_pack_version(const tidu_pack *p);
const char *tidu_pack_in_force(const tidu_pack *p);
const char *tidu_pack_title(const tidu_pack *p); /* current language */
const char *tidu_pack_text(const tidu_pack *p);  /* the pack file as read */

/*
 * Checks the pack `text` (named `name` in messages) as it would load next
 * to the packs of `with` (its "from" tiers resolved; a pack of the same id
 * in `with` is replaced whatever its version). 0, or TIDU_EINVAL with
 * "NAME:LINE: reason".
 */
int tidu_packs_check(const char *name, const char *text, const tidu_packs *with);

/* A firm's inputs: its fields and figures, plus what-if values. */
typedef struct tidu_assess_input tidu_assess_input;

/*
 * The inputs of stored firm `uscc` (canonical). TIDU_ENOTFOUND naming the
 * firm if it is not stored. The caller frees them.
 */
int tidu_assess_input_load(tidu_store *s, const char *uscc, tidu_assess_input **out);

/* Inputs from records already read: `firm` and its `years` are taken over. */
tidu_assess_input *tidu_assess_input_take(tidu_rec *firm, tidu_rec *years, size_t nyears);
void tidu_assess_input_free(tidu_assess_input *in);

/*
 * A what-if value: `key` is a firm field or YEAR.KEY of a yearly figure,
 * validated like `tidu firm set` (TIDU_EINVAL naming key and value). Only
 * the assessment sees it; nothing is written.
 */
int tidu_assess_input_set(tidu_assess_input *in, const char *key, const char *value);

/* The firm's own fields (borrowed). */
const tidu_rec *tidu_assess_input_firm(const tidu_assess_input *in);

/*
 * Calls `cb` with the inputs of every live firm (of `district`, or all if
 * NULL) in USCC order, one at a time: memory stays flat however many firms.
 * The inputs are freed after the call. A negative return of `cb` stops.
 */
typedef int (*tidu_assess_each_cb)(void *ctx, const tidu_assess_input *in);
int tidu_assess_each(tidu_store *s, const char *district, tidu_assess_each_cb cb, void *ctx);

/* The default year: the latest with a revenue figure, or 0 if none. */
int tidu_assess_default_year(const tidu_assess_input *in);

/* 1 if the input holds any figure for `year`. */
int tidu_assess_has_year(const tidu_assess_input *in, int year);

typedef enum {
	TIDU_ASSESS_PASS,
	TIDU_ASSESS_FAIL,
	TIDU_ASSESS_UNDECIDED,  /* every condition holds; a judgement item is unanswered */
	TIDU_ASSESS_INCOMPLETE  /* inputs are missing: neither pass nor fail is certain */
} tidu_assess_status;

/* "pass", "fail", "undecided", "incomplete". */
const char *tidu_assess_status_name(tidu_assess_status st);

/* The status as a person reads it, in the current language. */
const char *tidu_assess_status_label(tidu_assess_status st);
/* The same in one word, for the columns of a table. */
const char *tidu_assess_status_short(tidu_assess_status st);

/* A number as the text and HTML reports show it: at most 2 decimals ("—" if not finite). */
void tidu_assess_format(tidu_buf *out, double v);

/* The value that reaches the next band of an indicator. */
typedef struct {
	int has;            /* 0: the best band already, or not known */
	int has_value;      /* a threshold on the indicator's value */
	double value;
	const char *op;     /* ">=", ">", "<=", "<" */
	const char *condition; /* a `when` band: its condition as written */
	double points;
} tidu_assess_next;

typedef struct {
	const char *id, *category, *label, *unit;
	int known;           /* points certain */
	double points, points_max; /* points: the sure part; points_max: at most */
	double max;
	int has_value;
	double value;
	tidu_assess_next next;
} tidu_assess_indicator;

typedef struct {
	const char *id, *label;
	double points, points_max, max, floor;
} tidu_assess_category;

/* A failed condition: value against threshold where the test compares. */
typedef struct {
	const char *id, *label;
	int has_value, has_threshold;
	double value, threshold;
	const char *op;        /* the comparison that failed */
	const char *text;      /* the value as text when it is not a number */
} tidu_assess_failed;

typedef struct {
	const char *id, *field, *question;
} tidu_assess_judgement;

typedef struct {
	int tier;
	const char *label;
	const char *rules;     /* the pack whose table this tier used */
	tidu_assess_status status;
	int scored;
	double score, score_max, max, pass_score;
	tidu_assess_category *categories;
	size_t ncategories;
	tidu_assess_indicator *indicators;
	size_t nindicators;
	tidu_assess_failed *failed;
	size_t nfailed;
	const char **direct, **direct_labels; /* direct conditions met */
	size_t ndirect;
	const char **exempt;   /* conditions held by their exemption */
	size_t nexempt;
	tidu_assess_judgement *judgement; /* unanswered */
	size_t njudgement;
	char **missing;        /* "ip_class1", "2024.main_revenue", sorted, unique */
	size_t nmissing;
} tidu_assess_tier;

typedef struct {
	const tidu_pack *pack;
	int year;
	int year_default;      /* 1 if the year was not given */
	tidu_assess_tier *tiers;
	size_t ntiers;
} tidu_assessment;

/*
 * Evaluates `pack` for `in` in assessment year `year` (> 0; 0: the default
 * year, and with none every yearly figure is missing), for tier `tier`
 * (1..3) or all (0). The caller frees the result. Never fails on data.
 */
int tidu_assess_run(const tidu_packs *set, const tidu_pack *pack,
		    const tidu_assess_input *in, int year, int tier,
		    tidu_assessment **out);
void tidu_assessment_free(tidu_assessment *a);

/* The interpretations the pack uses: id and text (current language). */
size_t tidu_pack_note_count(const tidu_pack *p);
void tidu_pack_note(const tidu_pack *p, size_t i, const char **id, const char **text);

/*
 * Writes `a` of firm `uscc` as one JSON object (docs/assess.md, the fixed
 * shape) to `w`.
 */
int tidu_assess_json(const tidu_assessment *a, const char *uscc, tidu_json_writer *w);

#endif
