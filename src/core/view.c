#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidu/alloc.h"
#include "tidu/i18n.h"
#include "tidu/parse.h"
#include "tidu/dict.h"
#include "tidu/view.h"
#include "view_int.h"

struct tidu_query {
	tidu_store *s;
	sqlite3_stmt *st;
	const char *entity;
	size_t nfields;
	const tidu_field **fields;
	tidu_buf text;   /* the texts of a row, each ended by a NUL; reused */
	size_t *at;      /* per field: its text's offset in `text` + 1; 0: NULL */
	double *num;     /* per field: the row's numbers (tidu_rec.numbers) */
};

/* The numbers come first in a record's block, the pointers after them. */
_Static_assert(sizeof(double) % _Alignof(char *) == 0 &&
	       sizeof(double) % _Alignof(const tidu_field *) == 0,
	       "a record's block keeps its pointers aligned");

void tidu_view_rec_clear(tidu_rec *r)
{
	free(r->mem);
	memset(r, 0, sizeof(*r));
}

const char *tidu_view_rec_get(const tidu_rec *r, const char *field)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->fields[i]->key, field))
			return r->values[i];
	return NULL;
}

long tidu_view_rec_find(const tidu_rec *r, const tidu_field *f)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->fields[i] == f)
			return (long)i;
	for (i = 0; i < r->n; i++)
		if (!strcmp(r->fields[i]->entity, f->entity) && !strcmp(r->fields[i]->key, f->key))
			return (long)i;
	return -1;
}

int tidu_view_rec_json_members(const tidu_rec *r, tidu_json_writer *w)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const tidu_field *f = r->fields[i];
		const char *v = r->values[i];

		tidu_json_write_key(w, f->key);
		if (!v) {
			tidu_json_write_null(w);
			continue;
		}
		switch (f->type) {
		case TIDU_T_INT: {
			int64_t n = 0;

			tidu_parse_int64(v, &n);
			tidu_json_write_int64(w, n);
			break;
		}
		case TIDU_T_REAL:
			tidu_json_write_double(w, tidu_strtod_c(v, NULL));
			break;
		case TIDU_T_BOOL:
			tidu_json_write_bool(w, !strcmp(v, "1"));
			break;
		case TIDU_T_SET: {
			const char *p = v;

			tidu_json_begin_array(w);
			while (*p) {
				const char *comma = strchr(p, ',');
				size_t len = comma ? (size_t)(comma - p) : strlen(p);

				tidu_json_write_string_len(w, p, len);
				p += len + (comma ? 1 : 0);
			}
			tidu_json_end_array(w);
			break;
		}
		default:
			tidu_json_write_string(w, v);
		}
	}
	return w->error;
}

void tidu_view_value_display(const tidu_field *f, const char *text, tidu_buf *out)
{
	const char *label;

	tidu_buf_clear(out);
	if (!text)
		return;
	switch (f->type) {
	case TIDU_T_BOOL:
		tidu_buf_puts(out, !strcmp(text, "1") ? _("yes") : _("no"));
		return;
	case TIDU_T_ENUM:
		label = tidu_dict_choice_label(f->choices, text);
		tidu_buf_puts(out, label ? label : text);
		return;
	case TIDU_T_SET: {
		const char *p = text;

		while (*p) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			char *item = tidu_strndup(p, len);

			label = tidu_dict_choice_label(f->choices, item);
			if (out->len)
				tidu_buf_puts(out, tidu_i18n_is_zh() ? "、" : ", ");
			tidu_buf_puts(out, label ? label : item);
			free(item);
			p += len + (comma ? 1 : 0);
		}
		return;
	}
	case TIDU_T_DISTRICT:
		label = tidu_dict_district_name(text);
		tidu_buf_printf(out, "%s %s", text, label ? label : "");
		return;
	default:
		tidu_buf_puts(out, text);
	}
}

/*
 * Appends the canonical text of column `col`, as the change log would
 * carry it, and sets *num to what it reads as for an integer or a real
 * (NaN otherwise). 0 for NULL (nothing appended), else 1.
 */
static int column_text(sqlite3_stmt *st, int col, tidu_buf *out, double *num)
{
	sqlite3_int64 k;
	double d;

	*num = NAN;
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL:
		return 0;
	case SQLITE_INTEGER:
		k = sqlite3_column_int64(st, col);
		tidu_format_int64(out, k);
		*num = (double)k;
		break;
	case SQLITE_FLOAT:
		d = sqlite3_column_double(st, col);
		tidu_format_number(out, d);
		*num = d + 0.0; /* -0 is printed, and read back, as 0 */
		break;
	default:
		tidu_buf_put(out, sqlite3_column_text(st, col),
			     (size_t)sqlite3_column_bytes(st, col));
	}
	return 1;
}

char *tidu_view_column_text(sqlite3_stmt *st, int col)
{
	tidu_buf b = TIDU_BUF_INIT;
	double num;

	if (!column_text(st, col, &b, &num))
		return NULL;
	return tidu_buf_detach(&b);
}

/* Up to three text parameters (?1..?3); NULL binds NULL. */
#define QUERY_PARAMS 3

/*
 * Prepares the query of `entity` for rows matching the SQL `where` over its
 * columns (may be NULL) in `order` (SQL, may be NULL), binding `params`.
 */
static int query_sql(tidu_store *s, const char *entity, const char *where,
		     const char *order, const char *const params[QUERY_PARAMS],
		     tidu_query **out)
{
	tidu_query *q;
	tidu_buf sql = TIDU_BUF_INIT;
	const tidu_field *f;
	size_t i;
	int rc;

	*out = NULL;
	if (!tidu_dict_nth(entity, 0))
		return tidu_error_set(TIDU_EINVAL, _("unknown entity '%s'"), entity);
	q = tidu_calloc(1, sizeof(*q));
	q->s = s;
	q->entity = entity;
	while (tidu_dict_nth(entity, q->nfields))
		q->nfields++;
	q->fields = tidu_calloc(q->nfields, sizeof(*q->fields));
	q->at = tidu_calloc(q->nfields ? q->nfields : 1, sizeof(*q->at));
	q->num = tidu_calloc(q->nfields ? q->nfields : 1, sizeof(*q->num));
	tidu_buf_puts(&sql, "SELECT ");
	for (i = 0; (f = tidu_dict_nth(entity, i)); i++) {
		q->fields[i] = f;
		tidu_buf_printf(&sql, "%s\"%s\"", i ? ", " : "", f->key);
	}
	if (!strcmp(entity, TIDU_ENTITY_FIRM_YEAR))
		tidu_buf_puts(&sql, ", year, uscc");
	else if (strcmp(entity, TIDU_ENTITY_FIRM) && strcmp(entity, TIDU_ENTITY_ATTACHMENT))
		tidu_buf_puts(&sql, ", id"); /* the key of a visit, a response, a referral... */
	tidu_buf_printf(&sql, " FROM %s WHERE _deleted=0%s%s%s%s", entity,
			where ? " AND (" : "", where ? where : "", where ? ")" : "",
			order ? " ORDER BY " : "");
	if (order)
		tidu_buf_puts(&sql, order);
	rc = sqlite3_prepare_v2(tidu_store_db(s), sql.ptr, -1, &q->st, NULL);
	tidu_buf_free(&sql);
	if (rc != SQLITE_OK) {
		tidu_view_query_free(q);
		return tidu_store_sqlerr(s, rc, _("querying records"));
	}
	for (i = 0; params && i < QUERY_PARAMS; i++)
		if (params[i])
			sqlite3_bind_text(q->st, (int)i + 1, params[i], -1, SQLITE_TRANSIENT);
	*out = q;
	return 0;
}

/* "%TEXT%" with %, _ and \ escaped, so that LIKE matches TEXT literally. */
static void like_pattern(const char *text, tidu_buf *out)
{
	const char *p;

	tidu_buf_putc(out, '%');
	for (p = text; *p; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			tidu_buf_putc(out, '\\');
		tidu_buf_putc(out, *p);
	}
	tidu_buf_putc(out, '%');
}

/* ORDER BY of TIDU_ORDER_KEY for `entity`. */
static const char *key_order(const char *entity)
{
	if (!strcmp(entity, TIDU_ENTITY_FIRM_YEAR))
		return "uscc, year";
	return !strcmp(entity, TIDU_ENTITY_FIRM) ? "uscc" : "id";
}

int tidu_view_query_open(tidu_store *s, const char *entity, const tidu_query_filter *filter,
		    tidu_query **out)
{
	static const tidu_query_filter all = {NULL, NULL, NULL, TIDU_ORDER_NONE};
	const tidu_query_filter *f = filter ? filter : &all;
	tidu_buf pattern = TIDU_BUF_INIT, where = TIDU_BUF_INIT;
	const char *params[QUERY_PARAMS];
	int error;

	*out = NULL;
	if ((f->district || f->search) && strcmp(entity, TIDU_ENTITY_FIRM))
		return tidu_error_set(TIDU_EINVAL,
			_("records of '%s' have no district or search filter"), entity);
	/* Only the columns filtered on: a firm-year has no district. */
	if (f->uscc)
		tidu_buf_puts(&where, "uscc=?1");
	if (f->district)
		tidu_buf_printf(&where, "%sdistrict=?2", where.len ? " AND " : "");
	if (f->search && strlen(f->search) > TIDU_VIEW_SEARCH_MAX)
		return tidu_error_set(TIDU_EINVAL,
			_("the search text is too long (%zu bytes, at most %d)"),
			strlen(f->search), TIDU_VIEW_SEARCH_MAX);
	if (f->search) {
		like_pattern(f->search, &pattern);
		tidu_buf_printf(&where, "%s(name LIKE ?3 ESCAPE '\\' OR uscc LIKE ?3 ESCAPE '\\' "
				"OR main_product LIKE ?3 ESCAPE '\\' OR contact LIKE ?3 ESCAPE '\\')",
				where.len ? " AND " : "");
	}
	params[0] = f->uscc;
	params[1] = f->district;
	params[2] = f->search ? pattern.ptr : NULL;
	error = query_sql(s, entity, where.len ? where.ptr : NULL,
			  f->order == TIDU_ORDER_KEY ? key_order(entity) : NULL, params, out);
	tidu_buf_free(&where);
	tidu_buf_free(&pattern);
	return error;
}

int tidu_view_query_next(tidu_query *q, tidu_rec *r)
{
	char *block, *texts;
	size_t i, n;
	int rc;

	tidu_view_rec_clear(r);
	rc = sqlite3_step(q->st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return tidu_store_sqlerr(q->s, rc, _("reading records"));
	n = q->nfields;
	/* The texts, each ended by its NUL, into one buffer first. */
	tidu_buf_clear(&q->text);
	for (i = 0; i < n; i++) {
		size_t at = q->text.len + 1;

		q->at[i] = column_text(q->st, (int)i, &q->text, &q->num[i]) ? at : 0;
		if (q->at[i])
			tidu_buf_putc(&q->text, '\0');
	}
	/* One allocation per record: numbers, fields, values, texts. */
	block = tidu_malloc(n * (sizeof(double) + sizeof(*r->fields) + sizeof(*r->values)) +
			    q->text.len);
	r->mem = block;
	r->numbers = (double *)block;
	r->fields = (const tidu_field **)(block + n * sizeof(double));
	r->values = (char **)(block + n * (sizeof(double) + sizeof(*r->fields)));
	texts = block + n * (sizeof(double) + sizeof(*r->fields) + sizeof(*r->values));
	if (q->text.len)
		memcpy(texts, q->text.ptr, q->text.len);
	memcpy(r->numbers, q->num, n * sizeof(double));
	memcpy(r->fields, q->fields, n * sizeof(*r->fields));
	r->entity = q->entity;
	r->n = n;
	for (i = 0; i < n; i++)
		r->values[i] = q->at[i] ? texts + q->at[i] - 1 : NULL;
	if (!strcmp(q->entity, TIDU_ENTITY_FIRM_YEAR)) {
		const unsigned char *u = sqlite3_column_text(q->st, (int)r->n + 1);

		r->year = sqlite3_column_int64(q->st, (int)r->n);
		snprintf(r->uscc, sizeof(r->uscc), "%s", u ? (const char *)u : "");
	} else if (strcmp(q->entity, TIDU_ENTITY_FIRM) && strcmp(q->entity, TIDU_ENTITY_ATTACHMENT)) {
		const unsigned char *u = sqlite3_column_text(q->st, (int)r->n);

		snprintf(r->id, sizeof(r->id), "%s", u ? (const char *)u : "");
	}
	return 1;
}

void tidu_view_query_free(tidu_query *q)
{
	if (!q)
		return;
	sqlite3_finalize(q->st);
	free(q->fields);
	free(q->at);
	free(q->num);
	tidu_buf_free(&q->text);
	free(q);
}

int tidu_view_rec_load(tidu_store *s, const char *entity, const char *key,
		  tidu_rec *out)
{
	tidu_query *q = NULL;
	const char *slash = strchr(key, '/');
	int is_year = !strcmp(entity, TIDU_ENTITY_FIRM_YEAR),
	    is_part = !strcmp(entity, TIDU_ENTITY_ATTACHMENT), two = is_year || is_part;
	char *k1 = two && slash ? tidu_strndup(key, (size_t)(slash - key)) : tidu_strdup(key);
	const char *params[QUERY_PARAMS] = {k1, two ? (slash ? slash + 1 : "0") : NULL, NULL};
	int error;

	error = query_sql(s, entity,
		is_year ? "uscc=?1 AND year=CAST(?2 AS INTEGER)"
			: is_part ? "id=?1 AND part=CAST(?2 AS INTEGER)"
			: !strcmp(entity, TIDU_ENTITY_FIRM) ? "uscc=?1" : "id=?1",
		NULL, params, &q);
	if (error < 0)
		goto done;
	error = tidu_view_query_next(q, out);
	if (error == 0)
		error = tidu_error_set(TIDU_ENOTFOUND, _("'%s' is not in the store"),
				       key);
	else if (error > 0)
		error = 0;
done:
	tidu_view_query_free(q);
	free(k1);
	return error;
}

int tidu_view_scalar(tidu_store *s, const char *sql, const char *param,
		     const char *what, int64_t *out)
{
	sqlite3_stmt *st = tidu_store_stmt(s, sql);
	int rc;

	*out = 0;
	if (!st)
		return TIDU_ERROR;
	if (param)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : tidu_store_sqlerr(s, rc, what);
}

int tidu_view_district_counts(tidu_store *s, const char *sql,
			      tidu_district_count **out, size_t *n)
{
	sqlite3_stmt *st = tidu_store_stmt(s, sql);
	tidu_district_count *v = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return TIDU_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = tidu_reallocarray(v, *n + 1, sizeof(*v));
		snprintf(v[*n].district, sizeof(v[*n].district), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		v[*n].count = sqlite3_column_int64(st, 1);
		(*n)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		*n = 0;
		return tidu_store_sqlerr(s, rc, _("counting records"));
	}
	*out = v;
	return 0;
}
