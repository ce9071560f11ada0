/*
 * Cultivation services (include/tidu/service.h, docs/services.md): the
 * institutions (table `institution`, owned here), the credit products and
 * the item-to-need map (schema/credit.csv, schema/service_map.csv),
 * matching, and referrals (table `referral`, owned here, written through
 * the record path so they are logged, sealed for the firm's district and
 * merged like visits).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "tidu/alloc.h"
#include "tidu/assess.h"
#include "tidu/csv.h"
#include "tidu/dict.h"
#include "tidu/embedded.h"
#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "tidu/parse.h"
#include "tidu/record.h"
#include "tidu/rules.h"
#include "tidu/service.h"
#include "tidu/uscc.h"
#include "tidu/view.h"
#include "tidu/xlsx.h"

static int is_city(tidu_store *s)
{
	return !strcmp(tidu_store_role(s), "city");
}

static char *dup_text(const unsigned char *t)
{
	return tidu_strdup(t ? (const char *)t : "");
}

/* 1 if the space-separated list `list` holds `code` ("" holds everything with `empty_all`). */
static int list_has(const char *list, const char *code, int empty_all)
{
	size_t n = strlen(code);
	const char *p = list;

	if (!*list)
		return empty_all;
	while ((p = strstr(p, code))) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

/* ---- the data files ------------------------------------------------------- */

/* An embedded CSV with a header row (checked by tests: malformed is a bug). */
static tidu_csv *data_csv(const char *name)
{
	const tidu_embedded_file *f = tidu_embedded_find(name);
	tidu_csv *csv = NULL;

	if (!f || tidu_csv_parse((const char *)f->data, f->size, &csv) < 0)
		abort();
	return csv;
}

static tidu_csv *credit_csv, *map_csv;

const char *tidu_service_credit(int tier, int64_t *max_10k_cny)
{
	size_t i;

	if (!credit_csv)
		credit_csv = data_csv("credit.csv");
	for (i = 1; i < tidu_csv_record_count(credit_csv); i++) {
		const char *t = tidu_csv_field(credit_csv, i, 0);
		int64_t v;

		if (!t || tidu_parse_int64(t, &v) < 0 || v != tier)
			continue;
		if (max_10k_cny && tidu_parse_int64(tidu_csv_field(credit_csv, i, 2), max_10k_cny) < 0)
			*max_10k_cny = 0;
		return tidu_csv_field(credit_csv, i, tidu_i18n_is_zh() ? 3 : 4);
	}
	return NULL;
}

/* The need of an assessment item or a visit problem, and why, or NULL. */
static const char *map_need(const char *source, const char *code, const char **why)
{
	size_t i;

	if (!map_csv)
		map_csv = data_csv("service_map.csv");
	for (i = 1; i < tidu_csv_record_count(map_csv); i++)
		if (!strcmp(tidu_csv_field(map_csv, i, 0), source) &&
		    !strcmp(tidu_csv_field(map_csv, i, 1), code)) {
			*why = tidu_csv_field(map_csv, i, tidu_i18n_is_zh() ? 3 : 4);
			return tidu_csv_field(map_csv, i, 2);
		}
	return NULL;
}

/* ---- institutions -------------------------------------------------------- */

void tidu_institution_clear(tidu_institution *i)
{
	free(i->id);
	free(i->name);
	free(i->kind);
	free(i->needs);
	free(i->districts);
	free(i->tiers);
	free(i->contact);
	free(i->origin);
	memset(i, 0, sizeof(*i));
}

void tidu_institutions_free(tidu_institution *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		tidu_institution_clear(&v[i]);
	free(v);
}

/* A choice code of `list` given as its code or its label (either language). */
static const char *choice_code(const char *list, const char *text)
{
	return tidu_dict_choice_code(list, text);
}

/*
 * Canonical space-separated codes of a list cell (spaces, commas or 、
 * between items), each checked by `ok`. TIDU_EINVAL naming the first bad one.
 */
static int canon_list(const char *cell, const char *what, const char *choices, int tiers,
		      tidu_buf *out)
{
	tidu_buf tok = TIDU_BUF_INIT;
	const char *p = cell;
	int error = 0;

	tidu_buf_clear(out);
	tidu_buf_puts(out, "");
	while (*p && !error) {
		const char *code = NULL;
		size_t n;

		if (*p == ' ' || *p == ',' || *p == ';') {
			p++;
			continue;
		}
		if (!strncmp(p, "、", 3) || !strncmp(p, "，", 3)) {
			p += 3;
			continue;
		}
		for (n = 0; p[n] && p[n] != ' ' && p[n] != ',' && p[n] != ';' &&
			    strncmp(p + n, "、", 3) && strncmp(p + n, "，", 3); n++)
			;
		tidu_buf_clear(&tok);
		tidu_buf_put(&tok, p, n);
		p += n;
		if (choices)
			code = choice_code(choices, tok.ptr);
		else if (tiers)
			code = (!strcmp(tok.ptr, "1") || !strcmp(tok.ptr, "2") || !strcmp(tok.ptr, "3"))
				       ? tok.ptr : NULL;
		else
			code = tidu_dict_district_name(tok.ptr) && !tidu_dict_is_city(tok.ptr) ? tok.ptr
												  : NULL;
		if (!code) {
			error = tidu_error_set(TIDU_EINVAL, _("unknown %s '%s'"), what, tok.ptr);
			break;
		}
		if (!list_has(out->ptr, code, 0))
			tidu_buf_printf(out, "%s%s", out->len ? " " : "", code);
	}
	tidu_buf_free(&tok);
	return error;
}

/* The id an institution gets from its name: "i" and 10 hex digits of its hash. */
static void name_id(const char *name, char out[12])
{
	unsigned char h[16];
	size_t i;

	crypto_generichash(h, sizeof(h), (const unsigned char *)name, strlen(name), NULL, 0);
	out[0] = 'i';
	for (i = 0; i < 5; i++)
		snprintf(out + 1 + 2 * i, 3, "%02x", h[i]);
}

enum { C_ID, C_NAME, C_KIND, C_NEEDS, C_DISTRICTS, C_TIERS, C_CONTACT, NCOLS };

static const char *const col_names[NCOLS][4] = {
	{"id", "编号", "机构编号", NULL},
	{"name", "名称", "机构名称", NULL},
	{"kind", "类型", "机构类型", NULL},
	{"needs", "服务需求", "服务领域", NULL},
	{"districts", "服务区县", "服务区域", NULL},
	{"tiers", "服务层级", "服务对象", NULL},
	{"contact", "联系方式", "联系人", NULL},
};

/* One checked row: the values to store. */
static int import_row(const tidu_csv *csv, size_t r, const long col[NCOLS], tidu_institution *o)
{
	tidu_buf b = TIDU_BUF_INIT;
	const char *v[NCOLS];
	char id[12];
	int k, error;

	for (k = 0; k < NCOLS; k++) {
		v[k] = col[k] >= 0 ? tidu_csv_field(csv, r, (size_t)col[k]) : NULL;
		v[k] = v[k] ? v[k] : "";
	}
	memset(o, 0, sizeof(*o));
	if (!*v[C_NAME])
		return tidu_error_set(TIDU_EINVAL, "%s", _("an institution needs a name"));
	if (!choice_code("institution_kind", v[C_KIND]))
		return tidu_error_set(TIDU_EINVAL, _("unknown kind '%s': use %s"), v[C_KIND],
				      tidu_dict_choice_values("institution_kind"));
	o->name = tidu_strdup(v[C_NAME]);
	o->kind = tidu_strdup(choice_code("institution_kind", v[C_KIND]));
	if ((error = canon_list(v[C_NEEDS], _("need"), "need", 0, &b)) < 0)
		goto fail;
	if (!b.len) {
		error = tidu_error_set(TIDU_EINVAL, _("institution '%s' serves no need: give its needs (%s)"),
				       v[C_NAME], tidu_dict_choice_values("need"));
		goto fail;
	}
	o->needs = tidu_strdup(b.ptr);
	if ((error = canon_list(v[C_DISTRICTS], _("district"), NULL, 0, &b)) < 0)
		goto fail;
	o->districts = tidu_strdup(b.ptr ? b.ptr : "");
	if ((error = canon_list(v[C_TIERS], _("tier"), NULL, 1, &b)) < 0)
		goto fail;
	o->tiers = tidu_strdup(b.ptr ? b.ptr : "");
	o->contact = tidu_strdup(v[C_CONTACT]);
	if (*v[C_ID]) {
		if (strlen(v[C_ID]) > 40 || strspn(v[C_ID], "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
						    strlen(v[C_ID])) {
			error = tidu_error_set(TIDU_EINVAL,
				_("invalid id '%s': lower-case letters, digits, '-' and '_', at most 40"),
				v[C_ID]);
			goto fail;
		}
		o->id = tidu_strdup(v[C_ID]);
	} else {
		name_id(v[C_NAME], id);
		o->id = tidu_strdup(id);
	}
	tidu_buf_free(&b);
	return 0;
fail:
	tidu_buf_free(&b);
	tidu_institution_clear(o);
	return error;
}

static int store_institution(tidu_store *s, const tidu_institution *i, const char *origin,
			     const char *updated)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"INSERT OR REPLACE INTO institution(id, name, kind, needs, districts, tiers, contact, "
		"origin, updated) VALUES(?,?,?,?,?,?,?,?,?)");

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, i->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, i->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, i->kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, i->needs, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, i->districts, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, i->tiers, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, i->contact, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, origin, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, updated, -1, SQLITE_TRANSIENT);
	return tidu_store_exec(s, st, _("saving the institutions"));
}

static int delete_origin(tidu_store *s, const char *origin)
{
	sqlite3_stmt *st = tidu_store_stmt(s, "DELETE FROM institution WHERE origin=?");

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
	return tidu_store_exec(s, st, _("replacing the institutions"));
}

/* The first sheet of a workbook as CSV text (Excel and WPS users keep lists there). */
static int xlsx_to_csv(const char *data, size_t len, tidu_buf *out)
{
	tidu_xlsx *x = NULL;
	tidu_xlsx_sheet *sh = NULL;
	size_t r, c, rows, cols;
	int error;

	if ((error = tidu_xlsx_open_mem(_("the workbook"), data, len, NULL, &x)) < 0 ||
	    (error = tidu_xlsx_sheet_read(x, 0, &sh)) < 0)
		goto done;
	rows = tidu_xlsx_rows(sh);
	cols = tidu_xlsx_cols(sh);
	for (r = 0; r < rows; r++)
		for (c = 0; c < cols; c++) {
			const char *v = tidu_xlsx_cell(sh, r, c);

			/* quoted as it is: no formula guard, the text goes back in */
			tidu_buf_putc(out, '"');
			for (; v && *v; v++) {
				if (*v == '"')
					tidu_buf_putc(out, '"');
				tidu_buf_putc(out, *v);
			}
			tidu_buf_puts(out, c + 1 == cols ? "\"\r\n" : "\",");
		}
done:
	tidu_xlsx_sheet_free(sh);
	tidu_xlsx_free(x);
	return error;
}

int tidu_service_import(tidu_store *s, const char *data, size_t len, size_t *count,
			tidu_import_error_cb on_error, void *ctx)
{
	const char *origin = is_city(s) ? "city" : "local";
	tidu_buf utf8 = TIDU_BUF_INIT, sheet = TIDU_BUF_INIT;
	tidu_csv *csv = NULL;
	tidu_institution *rows = NULL;
	const char *enc;
	long col[NCOLS];
	size_t nrec, r, c, bad = 0, n = 0, i;
	char today[11];
	int error, k, j;

	*count = 0;
	if (len >= 4 && !memcmp(data, "PK\003\004", 4)) {
		if ((error = xlsx_to_csv(data, len, &sheet)) < 0) {
			on_error(ctx, 0, tidu_error_message());
			goto done;
		}
		data = sheet.ptr ? sheet.ptr : "";
		len = sheet.len;
	}
	if ((error = tidu_csv_to_utf8(data, len, &utf8, &enc)) < 0 ||
	    (error = tidu_csv_parse(utf8.ptr ? utf8.ptr : "", utf8.len, &csv)) < 0) {
		on_error(ctx, 0, tidu_error_message());
		goto done;
	}
	if ((nrec = tidu_csv_record_count(csv)) == 0) {
		error = tidu_error_set(TIDU_EINVAL, "%s", _("the file is empty: it needs a header row"));
		on_error(ctx, 0, tidu_error_message());
		goto done;
	}
	for (k = 0; k < NCOLS; k++)
		col[k] = -1;
	for (c = 0; c < tidu_csv_field_count(csv, 0); c++) {
		const char *h = tidu_csv_field(csv, 0, c);

		for (k = 0; k < NCOLS; k++)
			for (j = 0; col_names[k][j]; j++)
				if (h && !strcmp(h, col_names[k][j]))
					goto found;
		error = tidu_error_set(TIDU_EINVAL,
			_("unknown column '%s': use name, kind, needs, districts, tiers, contact, id"),
			h ? h : "");
		on_error(ctx, tidu_csv_line(csv, 0), tidu_error_message());
		goto done;
found:
		if (col[k] >= 0) {
			error = tidu_error_set(TIDU_EINVAL, _("column '%s' appears twice"), h);
			on_error(ctx, tidu_csv_line(csv, 0), tidu_error_message());
			goto done;
		}
		col[k] = (long)c;
	}
	if (col[C_NAME] < 0 || col[C_KIND] < 0 || col[C_NEEDS] < 0) {
		error = tidu_error_set(TIDU_EINVAL, "%s",
			_("the header needs at least the columns name, kind and needs"));
		on_error(ctx, tidu_csv_line(csv, 0), tidu_error_message());
		goto done;
	}
	rows = tidu_calloc(nrec, sizeof(*rows));
	for (r = 1; r < nrec; r++) {
		if (import_row(csv, r, col, &rows[n]) < 0) {
			on_error(ctx, tidu_csv_line(csv, r), tidu_error_message());
			bad++;
			continue;
		}
		for (i = 0; i < n && strcmp(rows[i].id, rows[n].id); i++)
			;
		if (i < n) {
			tidu_error_set(TIDU_EINVAL, _("institution id '%s' appears twice (two rows of the same name?)"),
				       rows[n].id);
			on_error(ctx, tidu_csv_line(csv, r), tidu_error_message());
			tidu_institution_clear(&rows[n]);
			bad++;
			continue;
		}
		n++;
	}
	if (bad) {
		error = tidu_error_set(TIDU_EINVAL, _("%zu bad rows: nothing was imported"), bad);
		goto done;
	}
	tidu_date_today(today);
	if ((error = tidu_store_begin(s)) < 0)
		goto done;
	error = delete_origin(s, origin);
	for (i = 0; i < n && !error; i++)
		error = store_institution(s, &rows[i], origin, today);
	if (error || (error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		goto done;
	}
	*count = n;
done:
	tidu_institutions_free(rows, n);
	tidu_csv_free(csv);
	tidu_buf_free(&utf8);
	tidu_buf_free(&sheet);
	return error;
}

static void row_inst(sqlite3_stmt *st, tidu_institution *o)
{
	o->id = dup_text(sqlite3_column_text(st, 0));
	o->name = dup_text(sqlite3_column_text(st, 1));
	o->kind = dup_text(sqlite3_column_text(st, 2));
	o->needs = dup_text(sqlite3_column_text(st, 3));
	o->districts = dup_text(sqlite3_column_text(st, 4));
	o->tiers = dup_text(sqlite3_column_text(st, 5));
	o->contact = dup_text(sqlite3_column_text(st, 6));
	o->origin = dup_text(sqlite3_column_text(st, 7));
}

#define INST_COLS "id, name, kind, needs, districts, tiers, contact, origin"

int tidu_service_list(tidu_store *s, const char *need, const char *district,
		      tidu_institution **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (need && !tidu_dict_choice_label("need", need))
		return tidu_error_set(TIDU_EINVAL, _("unknown need '%s': use %s"), need,
				      tidu_dict_choice_values("need"));
	if (district && (!tidu_dict_district_name(district) || tidu_dict_is_city(district)))
		return tidu_error_set(TIDU_EINVAL, _("unknown district '%s'"), district);
	if (!(st = tidu_store_stmt(s, "SELECT " INST_COLS " FROM institution ORDER BY name, id")))
		return TIDU_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *needs = (const char *)sqlite3_column_text(st, 3);
		const char *ds = (const char *)sqlite3_column_text(st, 4);

		if ((need && !list_has(needs ? needs : "", need, 0)) ||
		    (district && !list_has(ds ? ds : "", district, 1)))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = tidu_reallocarray(*out, cap, sizeof(**out));
		}
		row_inst(st, &(*out)[(*n)++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		tidu_institutions_free(*out, *n);
		*out = NULL;
		*n = 0;
		return tidu_store_sqlerr(s, rc, _("reading the institutions"));
	}
	return 0;
}

int tidu_service_find(tidu_store *s, const char *which, tidu_institution *out)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT " INST_COLS " FROM institution WHERE id=?1 OR name=?1 ORDER BY id=?1 DESC LIMIT 1");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, which, -1, SQLITE_TRANSIENT);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		row_inst(st, out);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return tidu_store_sqlerr(s, rc, _("reading the institutions"));
	return tidu_error_set(TIDU_ENOTFOUND,
		_("no service institution '%s': see 'tidu service list'"), which);
}

/* ---- the city's document --------------------------------------------------- */

static const char *what_doc = N_("the city's service institutions");

int tidu_service_export(tidu_store *city, tidu_buf *doc, size_t *count)
{
	tidu_buf payload = TIDU_BUF_INIT;
	tidu_json_writer w;
	sqlite3_stmt *st;
	int rc, error, k;
	static const char *const keys[] = {"id", "name", "kind", "needs", "districts", "tiers",
					   "contact"};

	*count = 0;
	if (!(st = tidu_store_stmt(city, "SELECT " INST_COLS " FROM institution WHERE "
					 "origin='city' ORDER BY id")))
		return TIDU_ERROR;
	tidu_trust_city_payload_begin(&w, &payload, TIDU_SERVICES_FORMAT, "institutions");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_json_begin_object(&w);
		for (k = 0; k < 7; k++) {
			const unsigned char *t = sqlite3_column_text(st, k);

			tidu_json_write_key(&w, keys[k]);
			tidu_json_write_string(&w, t ? (const char *)t : "");
		}
		tidu_json_end_object(&w);
		(*count)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(city, rc, _("reading the institutions"));
		goto done;
	}
	error = tidu_trust_city_payload_sign(city, &w, &payload, TIDU_SERVICES_DOMAIN, *count, doc);
done:
	tidu_buf_free(&payload);
	return error;
}

int tidu_service_import_doc(tidu_store *s, const char *doc, size_t len, tidu_city_import *rep)
{
	tidu_json *tree = NULL;
	const tidu_json *items;
	char today[11];
	size_t i;
	int error;

	memset(rep, 0, sizeof(*rep));
	if ((error = tidu_trust_city_open(s, _(what_doc), TIDU_SERVICES_DOMAIN,
					  TIDU_SERVICES_FORMAT, "institutions", doc, len, &tree,
					  &items)) < 0)
		return error;
	tidu_date_today(today);
	if ((error = tidu_store_begin(s)) < 0)
		goto done;
	if ((error = delete_origin(s, "city")) < 0)
		goto fail;
	for (i = 0; i < tidu_json_count(items); i++) {
		const tidu_json *e = tidu_json_at(items, i);
		tidu_institution in;
		tidu_buf b = TIDU_BUF_INIT;
		const char *id = tidu_json_as_string(tidu_json_get(e, "id"));
		const char *name = tidu_json_as_string(tidu_json_get(e, "name"));
		const char *kind = tidu_json_as_string(tidu_json_get(e, "kind"));
		const char *needs = tidu_json_as_string(tidu_json_get(e, "needs"));
		const char *ds = tidu_json_as_string(tidu_json_get(e, "districts"));
		const char *tiers = tidu_json_as_string(tidu_json_get(e, "tiers"));
		const char *contact = tidu_json_as_string(tidu_json_get(e, "contact"));
		int ok = id && *id && name && *name && kind &&
			 tidu_dict_choice_label("institution_kind", kind) && needs && ds && tiers &&
			 contact && canon_list(needs, "need", "need", 0, &b) == 0 &&
			 canon_list(ds, "district", NULL, 0, &b) == 0 &&
			 canon_list(tiers, "tier", NULL, 1, &b) == 0;

		tidu_buf_free(&b);
		if (!ok) {
			tidu_buf why = TIDU_BUF_INIT;

			tidu_error_clear();
			tidu_buf_printf(&why, _("institution %zu: expected an id, a name, a known kind and known needs, districts and tiers"),
					i + 1);
			tidu_city_import_refuse(rep, why.ptr);
			tidu_buf_free(&why);
			continue;
		}
		in.id = (char *)id;
		in.name = (char *)name;
		in.kind = (char *)kind;
		in.needs = (char *)needs;
		in.districts = (char *)ds;
		in.tiers = (char *)tiers;
		in.contact = (char *)contact;
		if ((error = store_institution(s, &in, "city", today)) < 0)
			goto fail;
		rep->taken++;
	}
	if ((error = tidu_store_commit(s)) < 0)
		goto fail;
	goto done;
fail:
	tidu_store_rollback(s);
	rep->taken = 0;
done:
	tidu_json_free(tree);
	return error;
}

/* ---- matching -------------------------------------------------------------- */

typedef struct {
	char *need;
	double weight;
	tidu_buf reasons;
} need_acc;

typedef struct {
	need_acc *v;
	size_t n;
} needs_acc;

static void need_add(needs_acc *a, const char *need, double weight, const char *reason)
{
	size_t i;

	for (i = 0; i < a->n && strcmp(a->v[i].need, need); i++)
		;
	if (i == a->n) {
		a->v = tidu_reallocarray(a->v, a->n + 1, sizeof(*a->v));
		a->v[i].need = tidu_strdup(need);
		a->v[i].weight = 0;
		memset(&a->v[i].reasons, 0, sizeof(a->v[i].reasons));
		a->n++;
	}
	a->v[i].weight += weight;
	if (!a->v[i].reasons.ptr || !strstr(a->v[i].reasons.ptr, reason))
		tidu_buf_printf(&a->v[i].reasons, "%s%s", a->v[i].reasons.len ? "; " : "", reason);
}

static int need_cmp(const void *x, const void *y)
{
	const need_acc *a = x, *b = y;

	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	return strcmp(a->need, b->need);
}

static int int_of(const tidu_rec *r, const char *key)
{
	const char *v = tidu_view_rec_get(r, key);
	int64_t t;

	return v && tidu_parse_int64(v, &t) == 0 && t >= 0 && t <= 3 ? (int)t : 0;
}

/* The assessment's failed conditions and lost points, as needs. */
static int assess_needs(tidu_store *s, const tidu_assess_input *in, int tier, needs_acc *a)
{
	tidu_packs *set = NULL;
	tidu_assessment *as = NULL;
	const tidu_pack *pack;
	char today[11];
	size_t i;
	int error;

	if ((error = tidu_rules_load(s, &set)) < 0)
		return error;
	tidu_date_today(today);
	pack = tidu_packs_in_force(set, today);
	if (pack && (error = tidu_assess_run(set, pack, in, 0, tier, &as)) == 0 && as->ntiers) {
		const tidu_assess_tier *t = &as->tiers[0];
		tidu_buf why = TIDU_BUF_INIT, x = TIDU_BUF_INIT, y = TIDU_BUF_INIT;

		for (i = 0; i < t->nfailed; i++) {
			const char *reason, *need = map_need("item", t->failed[i].id, &reason);

			if (!need)
				continue;
			tidu_buf_clear(&why);
			tidu_buf_printf(&why, "%s (%s)", reason,
					t->failed[i].label ? t->failed[i].label : t->failed[i].id);
			need_add(a, need, 3, why.ptr);
		}
		for (i = 0; i < t->nindicators; i++) {
			const tidu_assess_indicator *d = &t->indicators[i];
			double lost = d->max - d->points_max;
			const char *reason, *need;

			if (!(lost > 0) || !(d->max > 0) || !(need = map_need("item", d->id, &reason)))
				continue;
			tidu_buf_clear(&why);
			tidu_buf_clear(&x);
			tidu_buf_clear(&y);
			tidu_assess_format(&x, lost);
			tidu_assess_format(&y, d->max);
			tidu_buf_printf(&why, _("%s: %s of %s points"), reason, x.ptr, y.ptr);
			need_add(a, need, 2 * lost / d->max, why.ptr);
		}
		tidu_buf_free(&why);
		tidu_buf_free(&x);
		tidu_buf_free(&y);
	}
	tidu_assessment_free(as);
	tidu_packs_free(set);
	return error < 0 ? error : 0;
}

/* The needs and problems recorded at the firm's visits, newest first. */
static int visit_needs(tidu_store *s, const char *uscc, needs_acc *a)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT date, coalesce(needs, ''), coalesce(problems, '') FROM visit "
		"WHERE uscc=? AND _deleted=0 ORDER BY date DESC, id DESC");
	tidu_buf why = TIDU_BUF_INIT, tok = TIDU_BUF_INIT;
	int rc, k;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, uscc, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *date = (const char *)sqlite3_column_text(st, 0);

		for (k = 1; k <= 2; k++) {
			const char *p = (const char *)sqlite3_column_text(st, k);

			while (p && *p) {
				size_t n = strcspn(p, " ");
				const char *need = NULL, *reason = NULL;

				tidu_buf_clear(&tok);
				tidu_buf_put(&tok, p, n);
				p += n + (p[n] == ' ');
				if (!tok.len)
					continue;
				tidu_buf_clear(&why);
				if (k == 1) {
					need = tok.ptr;
					tidu_buf_printf(&why, _("asked for at the visit of %s"),
							date ? date : "");
				} else if ((need = map_need("problem", tok.ptr, &reason))) {
					tidu_buf_printf(&why, _("%s (visit of %s)"), reason,
							date ? date : "");
				}
				/* a problem the officer found weighs as a failed condition */
				if (need)
					need_add(a, need, k == 1 ? 2 : 3, why.ptr);
			}
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	tidu_buf_free(&why);
	tidu_buf_free(&tok);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("reading the visits"));
}

void tidu_service_match_free(tidu_service_match_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		tidu_institution_clear(&r->v[i].inst);
		free(r->v[i].need);
		free(r->v[i].reasons);
	}
	free(r->v);
	for (i = 0; i < r->nopen; i++)
		free(r->open_needs[i]);
	free(r->open_needs);
	memset(r, 0, sizeof(*r));
}

int tidu_service_match(tidu_store *s, const char *uscc_in, tidu_service_match_result *out)
{
	char uscc[TIDU_USCC_LEN + 1], tier_text[2];
	tidu_assess_input *in = NULL;
	tidu_institution *inst = NULL;
	needs_acc a = {NULL, 0};
	const tidu_rec *firm;
	const char *district;
	size_t ni = 0, i, j;
	int error, recognised, listed;

	memset(out, 0, sizeof(*out));
	if ((error = tidu_uscc_validate(uscc_in, uscc)) < 0 ||
	    (error = tidu_assess_input_load(s, uscc, &in)) < 0)
		return error;
	firm = tidu_assess_input_firm(in);
	district = tidu_view_rec_get(firm, "district");
	recognised = int_of(firm, "tier");
	listed = int_of(firm, "reserve_tier");
	out->tier = listed ? listed : recognised < 3 ? recognised + 1 : 3;
	out->credit_tier = recognised;
	if ((error = assess_needs(s, in, out->tier, &a)) < 0 ||
	    (error = visit_needs(s, uscc, &a)) < 0 ||
	    (error = tidu_service_list(s, NULL, district && *district ? district : NULL, &inst,
				       &ni)) < 0)
		goto done;
	if (a.n)
		qsort(a.v, a.n, sizeof(*a.v), need_cmp);
	snprintf(tier_text, sizeof(tier_text), "%d", out->tier);
	for (i = 0; i < a.n; i++) {
		size_t found = 0;

		for (j = 0; j < ni; j++) {
			tidu_service_proposal *p;

			if (!list_has(inst[j].needs, a.v[i].need, 0) ||
			    !list_has(inst[j].tiers, tier_text, 1))
				continue;
			out->v = tidu_reallocarray(out->v, out->n + 1, sizeof(*out->v));
			p = &out->v[out->n++];
			p->inst = inst[j];
			inst[j].id = tidu_strdup(inst[j].id); /* the copy owns the rest */
			inst[j].name = tidu_strdup(inst[j].name);
			inst[j].kind = tidu_strdup(inst[j].kind);
			inst[j].needs = tidu_strdup(inst[j].needs);
			inst[j].districts = tidu_strdup(inst[j].districts);
			inst[j].tiers = tidu_strdup(inst[j].tiers);
			inst[j].contact = tidu_strdup(inst[j].contact);
			inst[j].origin = tidu_strdup(inst[j].origin);
			p->need = tidu_strdup(a.v[i].need);
			p->weight = a.v[i].weight;
			p->reasons = tidu_strdup(a.v[i].reasons.ptr ? a.v[i].reasons.ptr : "");
			found++;
		}
		if (!found) {
			out->open_needs = tidu_reallocarray(out->open_needs, out->nopen + 1,
							    sizeof(*out->open_needs));
			out->open_needs[out->nopen++] = tidu_strdup(a.v[i].need);
		}
	}
done:
	for (i = 0; i < a.n; i++) {
		free(a.v[i].need);
		tidu_buf_free(&a.v[i].reasons);
	}
	free(a.v);
	tidu_institutions_free(inst, ni);
	tidu_assess_input_free(in);
	if (error < 0)
		tidu_service_match_free(out);
	return error;
}

/* ---- referrals ---------------------------------------------------------------- */

int tidu_service_refer(tidu_store *s, const char *uscc_in, const char *which, const char *need,
		       const char *due, const char *note, char id_out[TIDU_UUID_LEN + 1])
{
	char uscc[TIDU_USCC_LEN + 1], today[11], id[TIDU_UUID_LEN + 1];
	tidu_institution inst;
	tidu_edit *e = NULL;
	char *district = NULL, *dev = NULL;
	int64_t hlc;
	int error, exists;

	memset(&inst, 0, sizeof(inst));
	if ((error = tidu_uscc_validate(uscc_in, uscc)) < 0)
		return error;
	if (!need || !tidu_dict_choice_label("need", need))
		return tidu_error_set(TIDU_EINVAL, _("unknown need '%s': use %s"), need ? need : "",
				      tidu_dict_choice_values("need"));
	if ((exists = tidu_record_exists(s, TIDU_ENTITY_FIRM, uscc)) != TIDU_RECORD_LIVE)
		return exists < 0 ? exists : tidu_error_set(TIDU_ENOTFOUND,
			_("firm '%s' is not in the store: add it with 'tidu firm add'"), uscc);
	if ((error = tidu_service_find(s, which, &inst)) < 0 ||
	    (error = tidu_record_field(s, TIDU_ENTITY_FIRM, uscc, "district", &district, &hlc,
				       &dev)) < 0)
		goto done;
	if (!list_has(inst.needs, need, 0)) {
		error = tidu_error_set(TIDU_EINVAL, _("institution '%s' does not serve the need '%s' (it serves: %s)"),
				       inst.name, need, inst.needs);
		goto done;
	}
	if (!district || !list_has(inst.districts, district, 1)) {
		error = tidu_error_set(TIDU_EINVAL, _("institution '%s' does not serve the firm's district %s"),
				       inst.name, district ? district : "");
		goto done;
	}
	if ((error = tidu_uuid_v7(id)) < 0)
		goto done;
	tidu_date_today(today);
	e = tidu_record_edit_new(TIDU_ENTITY_REFERRAL, id);
	tidu_record_edit_keep_all(e);
	if ((error = tidu_record_edit_set(e, "uscc", uscc)) < 0 ||
	    (error = tidu_record_edit_set(e, "institution", inst.id)) < 0 ||
	    (error = tidu_record_edit_set(e, "need", need)) < 0 ||
	    (error = tidu_record_edit_set(e, "date", today)) < 0 ||
	    (error = tidu_record_edit_set(e, "officer", tidu_store_officer(s))) < 0 ||
	    (error = tidu_record_edit_set(e, "outcome", "pending")) < 0 ||
	    (due && (error = tidu_record_edit_set(e, "follow_up_due", due)) < 0) ||
	    (note && (error = tidu_record_edit_set(e, "note", note)) < 0))
		goto done;
	if (due && strcmp(tidu_record_edit_get(e, "follow_up_due", &exists), today) < 0) {
		error = tidu_error_set(TIDU_EINVAL, _("invalid value '%s' for 'follow_up_due': before today"),
				       due);
		goto done;
	}
	if ((error = tidu_store_begin(s)) < 0)
		goto done;
	if ((error = tidu_firm_check_writable(s, uscc)) < 0 ||
	    (error = tidu_record_edit_apply(s, e)) < 0 || (error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		goto done;
	}
	memcpy(id_out, id, sizeof(id));
done:
	tidu_record_edit_free(e);
	tidu_institution_clear(&inst);
	free(district);
	free(dev);
	return error;
}

int tidu_service_outcome(tidu_store *s, const char *id, const char *outcome, const char *note)
{
	tidu_edit *e;
	char *uscc = NULL, *dev = NULL;
	int64_t hlc;
	int error;

	if (!tidu_uuid_valid(id))
		return tidu_error_set(TIDU_EINVAL, _("invalid referral id '%s'"), id);
	if ((error = tidu_record_exists(s, TIDU_ENTITY_REFERRAL, id)) != TIDU_RECORD_LIVE)
		return error < 0 ? error : tidu_error_set(TIDU_ENOTFOUND,
			_("no referral '%s': see 'tidu service referrals'"), id);
	e = tidu_record_edit_new(TIDU_ENTITY_REFERRAL, id);
	if ((error = tidu_record_edit_set(e, "outcome", outcome)) < 0 ||
	    (note && (error = tidu_record_edit_set(e, "note", note)) < 0) ||
	    (error = tidu_record_field(s, TIDU_ENTITY_REFERRAL, id, "uscc", &uscc, &hlc, &dev)) < 0)
		goto done;
	if ((error = tidu_store_begin(s)) < 0)
		goto done;
	if ((uscc && (error = tidu_firm_check_writable(s, uscc)) < 0) ||
	    (error = tidu_record_edit_apply(s, e)) < 0 || (error = tidu_store_commit(s)) < 0)
		tidu_store_rollback(s);
done:
	tidu_record_edit_free(e);
	free(uscc);
	free(dev);
	return error;
}

void tidu_referrals_free(tidu_referral *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].district);
		free(v[i].institution);
		free(v[i].institution_name);
		free(v[i].need);
		free(v[i].date);
		free(v[i].officer);
		free(v[i].outcome);
		free(v[i].follow_up_due);
		free(v[i].note);
	}
	free(v);
}

int tidu_service_referrals(tidu_store *s, const tidu_referral_filter *f, tidu_referral **out,
			   size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (f->district && (!tidu_dict_district_name(f->district) || tidu_dict_is_city(f->district)))
		return tidu_error_set(TIDU_EINVAL, _("unknown district '%s'"), f->district);
	if (f->outcome && !tidu_dict_choice_label("referral_outcome", f->outcome))
		return tidu_error_set(TIDU_EINVAL, _("unknown outcome '%s': use %s"), f->outcome,
				      tidu_dict_choice_values("referral_outcome"));
	if (!(st = tidu_store_stmt(s,
		"SELECT r.id, r.uscc, f.name, f.district, r.institution, i.name, r.need, r.date, "
		"r.officer, r.outcome, r.follow_up_due, r.note FROM referral r "
		"LEFT JOIN firm f ON f.uscc=r.uscc LEFT JOIN institution i ON i.id=r.institution "
		"WHERE r._deleted=0 AND (?1 IS NULL OR f.district=?1) AND (?2 IS NULL OR r.outcome=?2) "
		"AND (?3 IS NULL OR r.uscc=?3) ORDER BY r.date DESC, r.id DESC")))
		return TIDU_ERROR;
	if (f->district)
		sqlite3_bind_text(st, 1, f->district, -1, SQLITE_STATIC);
	if (f->outcome)
		sqlite3_bind_text(st, 2, f->outcome, -1, SQLITE_STATIC);
	if (f->uscc)
		sqlite3_bind_text(st, 3, f->uscc, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_referral *r;

		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = tidu_reallocarray(*out, cap, sizeof(**out));
		}
		r = &(*out)[(*n)++];
		memset(r, 0, sizeof(*r));
		snprintf(r->id, sizeof(r->id), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(r->uscc, sizeof(r->uscc), "%s",
			 sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
		r->name = tidu_view_column_text(st, 2);
		r->district = tidu_view_column_text(st, 3);
		r->institution = tidu_view_column_text(st, 4);
		r->institution_name = tidu_view_column_text(st, 5);
		r->need = tidu_view_column_text(st, 6);
		r->date = tidu_view_column_text(st, 7);
		r->officer = tidu_view_column_text(st, 8);
		r->outcome = tidu_view_column_text(st, 9);
		r->follow_up_due = tidu_view_column_text(st, 10);
		r->note = tidu_view_column_text(st, 11);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		tidu_referrals_free(*out, *n);
		*out = NULL;
		*n = 0;
		return tidu_store_sqlerr(s, rc, _("reading the referrals"));
	}
	return 0;
}
