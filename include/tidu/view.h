#ifndef TIDU_VIEW_H
#define TIDU_VIEW_H
/*
 * Reading records back: a tidu_rec holds one row of an entity as canonical
 * text per dictionary field (the same text the change log carries), so the
 * JSON output, the export and the human display all start from one form.
 */
#include <stddef.h>

#include "tidu/buf.h"
#include "tidu/dict.h"
#include "tidu/json.h"
#include "tidu/store.h"

typedef struct {
	const char *entity;          /* "firm", "firm_year", "visit" */
	size_t n;                    /* number of fields of the entity */
	const tidu_field **fields;   /* borrowed, dictionary order */
	char **values;               /* canonical text, NULL when unset */
	double *numbers;             /* per field: the number of a value stored as an
					integer or a real (what the text reads as),
					NaN otherwise; NULL when not kept */
	int64_t year;                /* firm_year rows: the year */
	char uscc[20];               /* firm_year rows: the firm */
	char id[48];                 /* rows keyed by an id (visit, response, referral,
					event, attendance) read by a query: the id */
	void *mem;                   /* private: the one allocation that holds
					fields, values, numbers and the texts */
} tidu_rec;

#define TIDU_REC_INIT {0}

/* Frees the values of `r` (the struct itself is the caller's). */
void tidu_view_rec_clear(tidu_rec *r);

/* The canonical value of `field`, or NULL if unset or unknown. Borrowed. */
const char *tidu_view_rec_get(const tidu_rec *r, const char *field);

/*
 * The position of dictionary field `f` in `r` (found by its address, then
 * by its key), or -1 if `r` has no such field.
 */
long tidu_view_rec_find(const tidu_rec *r, const tidu_field *f);

/*
 * Writes the fields of `r` as members of the JSON object being written by
 * `w`: every dictionary key, null when unset, typed by the dictionary
 * (numbers, booleans, arrays for sets, strings otherwise).
 */
int tidu_view_rec_json_members(const tidu_rec *r, tidu_json_writer *w);

/* Human text for a canonical value: choice labels, district names, yes/no. */
void tidu_view_value_display(const tidu_field *f, const char *text, tidu_buf *out);

/* Canonical text of column `col` of the current row, or NULL. Caller frees. */
char *tidu_view_column_text(sqlite3_stmt *st, int col);

typedef struct tidu_query tidu_query;

/* The order of a query's rows. */
typedef enum {
	TIDU_ORDER_NONE,  /* as stored */
	TIDU_ORDER_KEY    /* firms by USCC, firm-years by USCC then year, visits by id */
} tidu_query_order;

/* The longest search text (bytes): SQLite refuses much longer patterns. */
#define TIDU_VIEW_SEARCH_MAX 1000

/* Which rows a query reads; every field NULL (or the filter NULL): all. */
typedef struct {
	const char *uscc;     /* rows of this firm (any entity) */
	const char *district; /* firms of this district code (firm only) */
	const char *search;   /* firms whose name, USCC, main product or contact
				 contains this text, matched literally (firm only) */
	tidu_query_order order;
} tidu_query_filter;

/*
 * Iterates over the live rows of `entity` that match `filter`. TIDU_EINVAL
 * for an unknown entity, or a district or search filter on another entity
 * than "firm". The query is owned by the caller (tidu_view_query_free).
 */
int tidu_view_query_open(tidu_store *s, const char *entity, const tidu_query_filter *filter,
		    tidu_query **out);
/* Fills `r` with the next row: 1, or 0 at the end, or a negative error. */
int tidu_view_query_next(tidu_query *q, tidu_rec *r);
void tidu_view_query_free(tidu_query *q);

/* Live records of one district (firms.h, visit.h, status.h count them). */
typedef struct {
	char district[16]; /* "" for records without a district */
	int64_t count;
} tidu_district_count;

/* Loads one live record by its change-log key. TIDU_ENOTFOUND if absent. */
int tidu_view_rec_load(tidu_store *s, const char *entity, const char *key,
		  tidu_rec *out);

#endif
