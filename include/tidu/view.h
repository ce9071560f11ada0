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
	int64_t year;                /* firm_year rows: the year */
} tidu_rec;

#define TIDU_REC_INIT {0}

/* Frees the values of `r` (the struct itself is the caller's). */
void tidu_rec_clear(tidu_rec *r);

/* The canonical value of `field`, or NULL if unset or unknown. Borrowed. */
const char *tidu_rec_get(const tidu_rec *r, const char *field);

/*
 * Writes the fields of `r` as members of the JSON object being written by
 * `w`: every dictionary key, null when unset, typed by the dictionary
 * (numbers, booleans, arrays for sets, strings otherwise).
 */
int tidu_rec_json_members(const tidu_rec *r, tidu_json_writer *w);

/* Human text for a canonical value: choice labels, district names, yes/no. */
void tidu_value_display(const tidu_field *f, const char *text, tidu_buf *out);

/* Canonical text of column `col` of the current row, or NULL. Caller frees. */
char *tidu_view_column_text(sqlite3_stmt *st, int col);

typedef struct tidu_query tidu_query;

/*
 * Iterates over live rows of `entity` matching `where` (SQL over its columns,
 * may use ?1..?9, bound with tidu_query_bind) in `order`. Owned by the caller.
 */
int tidu_query_open(tidu_store *s, const char *entity, const char *where,
		    const char *order, tidu_query **out);
/* Binds text (NULL binds NULL) to parameter `idx`. */
void tidu_query_bind(tidu_query *q, int idx, const char *text);
/* Fills `r` with the next row: 1, or 0 at the end, or a negative error. */
int tidu_query_next(tidu_query *q, tidu_rec *r);
void tidu_query_free(tidu_query *q);

/* Loads one live record by its change-log key. TIDU_ENOTFOUND if absent. */
int tidu_rec_load(tidu_store *s, const char *entity, const char *key,
		  tidu_rec *out);

#endif
