#include <stdlib.h>
#include <string.h>

#include "tidu/alloc.h"
#include "tidu/i18n.h"
#include "tidu/parse.h"
#include "tidu/record.h"
#include "tidu/view.h"

struct tidu_query {
	tidu_store *s;
	sqlite3_stmt *st;
	const char *entity;
	size_t nfields;
	const tidu_field **fields;
};

void tidu_rec_clear(tidu_rec *r)
{
	size_t i;

	for (i = 0; r->values && i < r->n; i++)
		free(r->values[i]);
	free(r->values);
	free(r->fields);
	memset(r, 0, sizeof(*r));
}

const char *tidu_rec_get(const tidu_rec *r, const char *field)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->fields[i]->key, field))
			return r->values[i];
	return NULL;
}

int tidu_rec_json_members(const tidu_rec *r, tidu_json_writer *w)
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

void tidu_value_display(const tidu_field *f, const char *text, tidu_buf *out)
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

/* Canonical text of column `col`, as the change log would carry it. */
char *tidu_view_column_text(sqlite3_stmt *st, int col)
{
	tidu_buf b = TIDU_BUF_INIT;

	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL:
		return NULL;
	case SQLITE_INTEGER:
		tidu_buf_printf(&b, "%lld", (long long)sqlite3_column_int64(st, col));
		break;
	case SQLITE_FLOAT:
		tidu_format_number(&b, sqlite3_column_double(st, col));
		break;
	default:
		tidu_buf_put(&b, sqlite3_column_text(st, col),
			     (size_t)sqlite3_column_bytes(st, col));
	}
	return tidu_buf_detach(&b);
}

int tidu_query_open(tidu_store *s, const char *entity, const char *where,
		    const char *order, tidu_query **out)
{
	tidu_query *q = tidu_calloc(1, sizeof(*q));
	tidu_buf sql = TIDU_BUF_INIT;
	const tidu_field *f;
	size_t i;
	int rc;

	q->s = s;
	q->entity = entity;
	while (tidu_dict_nth(entity, q->nfields))
		q->nfields++;
	q->fields = tidu_calloc(q->nfields, sizeof(*q->fields));
	tidu_buf_puts(&sql, "SELECT ");
	for (i = 0; (f = tidu_dict_nth(entity, i)); i++) {
		q->fields[i] = f;
		tidu_buf_printf(&sql, "%s\"%s\"", i ? ", " : "", f->key);
	}
	if (!strcmp(entity, TIDU_ENTITY_FIRM_YEAR))
		tidu_buf_puts(&sql, ", year");
	tidu_buf_printf(&sql, " FROM %s WHERE _deleted=0%s%s%s%s", entity,
			where ? " AND (" : "", where ? where : "", where ? ")" : "",
			order ? " ORDER BY " : "");
	if (order)
		tidu_buf_puts(&sql, order);
	rc = sqlite3_prepare_v2(tidu_store_db(s), sql.ptr, -1, &q->st, NULL);
	tidu_buf_free(&sql);
	if (rc != SQLITE_OK) {
		tidu_query_free(q);
		return tidu_store_sqlerr(s, rc, _("querying records"));
	}
	*out = q;
	return 0;
}

void tidu_query_bind(tidu_query *q, int idx, const char *text)
{
	if (text)
		sqlite3_bind_text(q->st, idx, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q->st, idx);
}

int tidu_query_next(tidu_query *q, tidu_rec *r)
{
	size_t i;
	int rc;

	tidu_rec_clear(r);
	rc = sqlite3_step(q->st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return tidu_store_sqlerr(q->s, rc, _("reading records"));
	r->entity = q->entity;
	r->n = q->nfields;
	r->fields = tidu_calloc(r->n, sizeof(*r->fields));
	r->values = tidu_calloc(r->n, sizeof(*r->values));
	for (i = 0; i < r->n; i++) {
		r->fields[i] = q->fields[i];
		r->values[i] = tidu_view_column_text(q->st, (int)i);
	}
	if (!strcmp(q->entity, TIDU_ENTITY_FIRM_YEAR))
		r->year = sqlite3_column_int64(q->st, (int)r->n);
	return 1;
}

void tidu_query_free(tidu_query *q)
{
	if (!q)
		return;
	sqlite3_finalize(q->st);
	free(q->fields);
	free(q);
}

int tidu_rec_load(tidu_store *s, const char *entity, const char *key,
		  tidu_rec *out)
{
	tidu_query *q = NULL;
	const char *slash = strchr(key, '/');
	int is_year = !strcmp(entity, TIDU_ENTITY_FIRM_YEAR);
	char *k1 = is_year && slash ? tidu_strndup(key, (size_t)(slash - key))
				    : tidu_strdup(key);
	int error;

	error = tidu_query_open(s, entity,
		is_year ? "uscc=?1 AND year=CAST(?2 AS INTEGER)"
			: !strcmp(entity, TIDU_ENTITY_VISIT) ? "id=?1" : "uscc=?1",
		NULL, &q);
	if (error < 0)
		goto done;
	tidu_query_bind(q, 1, k1);
	if (is_year)
		tidu_query_bind(q, 2, slash ? slash + 1 : "0");
	error = tidu_query_next(q, out);
	if (error == 0)
		error = tidu_error_set(TIDU_ENOTFOUND, _("'%s' is not in the store"),
				       key);
	else if (error > 0)
		error = 0;
done:
	tidu_query_free(q);
	free(k1);
	return error;
}
