/*
 * tidu survey export (survey.h): every response to a form as CSV, XLSX
 * (libxlsxwriter, constant memory) or JSON, one row per response, a table
 * per repeat, streamed from one query so that memory stays flat.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "tidu/alloc.h"
#include "tidu/csv.h"
#include "tidu/i18n.h"
#include "tidu/parse.h"
#include "tidu/survey.h"

/*
 * The metadata columns every main table starts with: "KEY" as ODK Central
 * names the response id; the rest start with "_" so that they cannot take
 * the name of a question (the form's own start, username... are columns too).
 */
static const char *const meta_cols[] = {
	"KEY", "_uscc", "_firm", "_officer", "_started", "_finished", "_version",
};
#define NMETA (sizeof(meta_cols) / sizeof(meta_cols[0]))

typedef struct {
	size_t q;        /* question index, or TIDU_FORM_TOP for a NAME_other column */
	size_t other_of; /* the or_other select of a NAME_other column */
	char *name;
} column;

/* One table: the main one (repeat TIDU_FORM_TOP) or one repeat's. */
typedef struct {
	size_t repeat;
	char *name;       /* "" for the main table, else the repeat's name */
	column *cols;
	size_t ncols;
	/* CSV */
	FILE *fp;
	char *tmp, *path;
	tidu_buf line;
	/* XLSX */
	lxw_worksheet *ws;
	lxw_row_t row;
	size_t rows;
} table;

typedef struct {
	tidu_store *s;
	const tidu_form *f;
	tidu_survey_format format;
	const char *lang;
	table *t;
	size_t nt;
	lxw_workbook *wb;
	lxw_format *bold, *date_fmt;
	char *xlsx_tmp;
	char *xlsx_dir;   /* libxlsxwriter's own temporary files, until it closes */
	tidu_buf json;
	int json_first;
	FILE *json_fp;
	char *json_tmp;
} exporter;

/* The innermost repeat enclosing question `q` (TIDU_FORM_TOP: none). */
static size_t repeat_of(const tidu_form *f, size_t q)
{
	size_t p = f->q[q].parent;

	while (p != TIDU_FORM_TOP && f->q[p].type != TIDU_Q_BEGIN_REPEAT)
		p = f->q[p].parent;
	return p;
}

static void add_col(table *t, size_t q, size_t other_of, const char *name)
{
	t->cols = tidu_reallocarray(t->cols, t->ncols + 1, sizeof(*t->cols));
	t->cols[t->ncols].q = q;
	t->cols[t->ncols].other_of = other_of;
	t->cols[t->ncols].name = tidu_strdup(name);
	t->ncols++;
}

static void make_tables(exporter *x)
{
	const tidu_form *f = x->f;
	size_t i, k;

	x->t = tidu_calloc(1, sizeof(*x->t));
	x->nt = 1;
	x->t[0].repeat = TIDU_FORM_TOP;
	x->t[0].name = tidu_strdup("");
	for (i = 0; i < f->nq; i++)
		if (f->q[i].type == TIDU_Q_BEGIN_REPEAT) {
			x->t = tidu_reallocarray(x->t, x->nt + 1, sizeof(*x->t));
			memset(&x->t[x->nt], 0, sizeof(*x->t));
			x->t[x->nt].repeat = i;
			x->t[x->nt].name = tidu_strdup(f->q[i].name);
			x->nt++;
		}
	for (i = 0; i < f->nq; i++) {
		size_t r;

		if (!tidu_qtype_has_value(f->q[i].type))
			continue;
		r = repeat_of(f, i);
		for (k = 0; k < x->nt; k++)
			if (x->t[k].repeat == r)
				break;
		add_col(&x->t[k], i, 0, f->q[i].name);
		if (f->q[i].or_other) {
			tidu_buf b = TIDU_BUF_INIT;

			tidu_buf_printf(&b, "%s_other", f->q[i].name);
			add_col(&x->t[k], TIDU_FORM_TOP, i, b.ptr);
			tidu_buf_free(&b);
		}
	}
}

static void tables_free(exporter *x)
{
	size_t i, j;

	for (i = 0; i < x->nt; i++) {
		table *t = &x->t[i];

		for (j = 0; j < t->ncols; j++)
			free(t->cols[j].name);
		free(t->cols);
		free(t->name);
		if (t->fp)
			fclose(t->fp);
		if (t->tmp) {
			unlink(t->tmp);
			free(t->tmp);
		}
		free(t->path);
		tidu_buf_free(&t->line);
	}
	free(x->t);
}

static int is_number(const tidu_form *f, const column *c)
{
	return c->q != TIDU_FORM_TOP &&
	       (f->q[c->q].type == TIDU_Q_INTEGER || f->q[c->q].type == TIDU_Q_DECIMAL);
}

/* The text of a JSON answer: arrays of names joined by spaces, as ODK does. */
static void value_text(const tidu_json *v, tidu_buf *out)
{
	size_t i;

	tidu_buf_clear(out);
	switch (tidu_json_typeof(v)) {
	case TIDU_JSON_STRING:
		tidu_buf_puts(out, tidu_json_as_string(v));
		break;
	case TIDU_JSON_NUMBER:
		tidu_buf_puts(out, tidu_json_number_text(v));
		break;
	case TIDU_JSON_BOOL:
		tidu_buf_puts(out, tidu_json_as_bool(v) ? "1" : "0");
		break;
	case TIDU_JSON_ARRAY:
		for (i = 0; i < tidu_json_count(v); i++) {
			const char *s = tidu_json_as_string(tidu_json_at(v, i));

			if (i)
				tidu_buf_putc(out, ' ');
			tidu_buf_puts(out, s ? s : "");
		}
		break;
	default:
		break;
	}
}

/* ---- CSV ------------------------------------------------------------------ */

static int csv_flush(table *t, int force)
{
	if (!t->line.len || (!force && t->line.len < 65536))
		return 0;
	if (fwrite(t->line.ptr, 1, t->line.len, t->fp) != t->line.len)
		return tidu_error_set(TIDU_ERROR, _("writing '%s': %s"), t->path, strerror(errno));
	tidu_buf_clear(&t->line);
	return 0;
}

static int open_temp(const char *path, char **tmp, FILE **fp)
{
	tidu_buf b = TIDU_BUF_INIT;
	int fd;

	tidu_buf_printf(&b, "%s.tmp-XXXXXX", path);
	if ((fd = mkstemp(b.ptr)) < 0 || !(*fp = fdopen(fd, "wb"))) {
		int e = errno;

		if (fd >= 0) {
			close(fd);
			unlink(b.ptr);
		}
		tidu_buf_free(&b);
		/* A path that cannot be written is the caller's to correct. */
		return tidu_error_set(TIDU_EINVAL, _("cannot write '%s': %s"), path, strerror(e));
	}
	*tmp = tidu_buf_detach(&b);
	return 0;
}

/* "out.csv" and repeat "products" → "out-products.csv". */
static char *repeat_path(const char *path, const char *name)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	tidu_buf b = TIDU_BUF_INIT;

	if (!dot || (slash && dot < slash))
		dot = path + strlen(path);
	tidu_buf_put(&b, path, (size_t)(dot - path));
	tidu_buf_printf(&b, "-%s%s", name, *dot ? dot : ".csv");
	return tidu_buf_detach(&b);
}

static void header_cells(exporter *x, table *t, int main, tidu_buf *line)
{
	size_t i;

	if (main)
		for (i = 0; i < NMETA; i++)
			tidu_csv_put_cell(line, meta_cols[i], 0);
	else {
		tidu_csv_put_cell(line, "PARENT_KEY", 0);
		tidu_csv_put_cell(line, "KEY", t->ncols == 0);
	}
	for (i = 0; i < t->ncols; i++)
		tidu_csv_put_cell(line, t->cols[i].name, i + 1 == t->ncols);
	(void)x;
}

static int csv_open(exporter *x, const char *path)
{
	size_t i;
	int error;

	for (i = 0; i < x->nt; i++) {
		table *t = &x->t[i];

		t->path = i == 0 ? tidu_strdup(path) : repeat_path(path, t->name);
		if ((error = open_temp(t->path, &t->tmp, &t->fp)) < 0)
			return error;
		tidu_buf_puts(&t->line, "\xEF\xBB\xBF");
		header_cells(x, t, i == 0, &t->line);
	}
	return 0;
}

/* ---- XLSX ----------------------------------------------------------------- */

static int xlsx_fail(const char *path, lxw_error e)
{
	return tidu_error_set(e == LXW_ERROR_CREATING_XLSX_FILE ? TIDU_EINVAL : TIDU_ERROR, _("writing '%s': %s"), path, lxw_strerror(e));
}

/* Sheet names: at most 31 characters, none of []:*?/\ (Excel's rules). */
static void sheet_name(const char *name, size_t k, tidu_buf *out)
{
	size_t n = 0;
	const char *p;

	tidu_buf_clear(out);
	for (p = name; *p && n < 24; p++, n++)
		tidu_buf_putc(out, strchr("[]:*?/\\", *p) ? '_' : *p);
	if (k)
		tidu_buf_printf(out, "~%zu", k);
}

static int xlsx_open(exporter *x, const char *path)
{
	lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = NULL};
	tidu_buf name = TIDU_BUF_INIT;
	size_t i, j;
	char *dir = NULL;
	const char *slash = strrchr(path, '/');
	int error = 0;

	/* libxlsxwriter's own temporary files go beside the export, not to /tmp. */
	dir = slash ? tidu_strndup(path, slash == path ? 1 : (size_t)(slash - path))
		    : tidu_strdup(".");
	opt.tmpdir = dir;
	{
		FILE *probe = NULL;

		/* The temporary name is made (and so checked) now, not at the end. */
		if ((error = open_temp(path, &x->xlsx_tmp, &probe)) < 0)
			goto done;
		fclose(probe);
	}
	if (!(x->wb = workbook_new_opt(x->xlsx_tmp, &opt))) {
		error = tidu_error_set(TIDU_EINVAL, _("cannot write '%s'"), path);
		goto done;
	}
	x->bold = workbook_add_format(x->wb);
	format_set_bold(x->bold);
	x->date_fmt = workbook_add_format(x->wb);
	format_set_num_format(x->date_fmt, "yyyy-mm-dd");
	for (i = 0; i < x->nt; i++) {
		table *t = &x->t[i];
		lxw_col_t c = 0;

		sheet_name(i == 0 ? x->f->id : t->name,
			   i && !strncmp(t->name, x->f->id, 24) ? i : 0, &name);
		if (!(t->ws = workbook_add_worksheet(x->wb, name.ptr))) {
			error = tidu_error_set(TIDU_ERROR, _("writing '%s': sheet '%s'"), path,
					       name.ptr);
			goto done;
		}
		if (i == 0)
			for (j = 0; j < NMETA; j++)
				worksheet_write_string(t->ws, 0, c++, meta_cols[j], x->bold);
		else {
			worksheet_write_string(t->ws, 0, c++, "PARENT_KEY", x->bold);
			worksheet_write_string(t->ws, 0, c++, "KEY", x->bold);
		}
		for (j = 0; j < t->ncols; j++)
			worksheet_write_string(t->ws, 0, c++, t->cols[j].name, x->bold);
		/* The second header row: the questions' labels. */
		c = i == 0 ? NMETA : 2;
		for (j = 0; j < t->ncols; j++, c++) {
			const char *label = t->cols[j].q != TIDU_FORM_TOP ?
				tidu_form_text_get(x->f, &x->f->q[t->cols[j].q].label, x->lang) :
				(tidu_i18n_is_zh() ? "其他(请注明)" : "other (specify)");

			if (label[0])
				worksheet_write_string(t->ws, 1, c, label, NULL);
		}
		worksheet_freeze_panes(t->ws, 2, 0);
		t->row = 2;
	}
done:
	tidu_buf_free(&name);
	/* libxlsxwriter keeps the pointer until the workbook closes. */
	x->xlsx_dir = dir;
	return error;
}

static void xlsx_cell(exporter *x, table *t, lxw_col_t c, const column *col,
		      const tidu_json *v, tidu_buf *text)
{
	int y, m, d;

	if (!v || tidu_json_typeof(v) == TIDU_JSON_NULL)
		return;
	if (is_number(x->f, col) && tidu_json_typeof(v) == TIDU_JSON_NUMBER) {
		worksheet_write_number(t->ws, t->row, c, tidu_json_as_double(v), NULL);
		return;
	}
	value_text(v, text);
	if (col->q != TIDU_FORM_TOP && x->f->q[col->q].type == TIDU_Q_DATE &&
	    sscanf(text->ptr, "%4d-%2d-%2d", &y, &m, &d) == 3) {
		lxw_datetime dt = {y, m, d, 0, 0, 0};

		worksheet_write_datetime(t->ws, t->row, c, &dt, x->date_fmt);
		return;
	}
	worksheet_write_string(t->ws, t->row, c, text->ptr, NULL);
}

/* ---- rows ----------------------------------------------------------------- */

static void csv_cell(exporter *x, table *t, const column *col, const tidu_json *v,
		     tidu_buf *text, int last)
{
	if (v && is_number(x->f, col) && tidu_json_typeof(v) == TIDU_JSON_NUMBER) {
		tidu_buf_puts(&t->line, tidu_json_number_text(v));
		tidu_buf_puts(&t->line, last ? "\r\n" : ",");
		return;
	}
	if (v)
		value_text(v, text);
	else
		tidu_buf_clear(text);
	tidu_csv_put_cell(&t->line, tidu_buf_cstr(text), last);
}

/* The cells of table `t` from the answers object `obj`, after `lead` cells written. */
static int table_cells(exporter *x, table *t, const tidu_json *obj, lxw_col_t c0,
		       tidu_buf *text)
{
	size_t j;

	for (j = 0; j < t->ncols; j++) {
		const tidu_json *v = tidu_json_get(obj, t->cols[j].name);

		if (x->format == TIDU_SURVEY_CSV)
			csv_cell(x, t, &t->cols[j], v, text, j + 1 == t->ncols);
		else
			xlsx_cell(x, t, (lxw_col_t)(c0 + j), &t->cols[j], v, text);
	}
	if (x->format == TIDU_SURVEY_CSV)
		return csv_flush(t, 0);
	return 0;
}

/* The rows of the repeats inside `obj` (an instance keyed `key`), depth first. */
static int repeat_rows(exporter *x, size_t scope, const tidu_json *obj, const char *key,
		       tidu_buf *text)
{
	size_t k, i;
	int error;

	for (k = 1; k < x->nt; k++) {
		table *t = &x->t[k];
		const tidu_json *arr;

		if (repeat_of(x->f, t->repeat) != scope)
			continue;
		arr = tidu_json_get(obj, t->name);
		if (!arr || tidu_json_typeof(arr) != TIDU_JSON_ARRAY)
			continue;
		for (i = 0; i < tidu_json_count(arr); i++) {
			const tidu_json *inst = tidu_json_at(arr, i);
			tidu_buf ikey = TIDU_BUF_INIT;

			tidu_buf_printf(&ikey, "%s/%s[%zu]", key, t->name, i + 1);
			if (x->format == TIDU_SURVEY_CSV) {
				tidu_csv_put_cell(&t->line, key, 0);
				tidu_csv_put_cell(&t->line, ikey.ptr, t->ncols == 0);
			} else {
				worksheet_write_string(t->ws, t->row, 0, key, NULL);
				worksheet_write_string(t->ws, t->row, 1, ikey.ptr, NULL);
			}
			error = table_cells(x, t, inst, 2, text);
			t->row++;
			t->rows++;
			if (error == 0)
				error = repeat_rows(x, t->repeat, inst, ikey.ptr, text);
			tidu_buf_free(&ikey);
			if (error < 0)
				return error;
		}
	}
	return 0;
}

static int json_flush(exporter *x, int force)
{
	if (!x->json.len || (!force && x->json.len < 65536))
		return 0;
	if (fwrite(x->json.ptr, 1, x->json.len, x->json_fp) != x->json.len)
		return tidu_error_set(TIDU_ERROR, "%s", _("writing the export failed"));
	tidu_buf_clear(&x->json);
	return 0;
}

static int json_row(exporter *x, sqlite3_stmt *st)
{
	static const char *const keys[] = {"id", "uscc", "firm", "officer", "started",
					   "finished", "version"};
	tidu_json_writer w;
	tidu_buf one = TIDU_BUF_INIT;
	size_t i;
	int error;

	tidu_json_writer_init(&w, &one, 1);
	tidu_json_begin_object(&w);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const unsigned char *v = sqlite3_column_text(st, (int)i);

		tidu_json_write_key(&w, keys[i]);
		tidu_json_write_string(&w, v ? (const char *)v : "");
	}
	tidu_json_write_key(&w, "answers");
	tidu_json_write_raw(&w, (const char *)sqlite3_column_text(st, 7));
	tidu_json_end_object(&w);
	error = tidu_json_writer_finish(&w);
	if (error == 0) {
		tidu_buf_puts(&x->json, x->json_first ? "[\n" : ",\n");
		tidu_buf_put(&x->json, one.ptr, one.len);
		x->json_first = 0;
		error = json_flush(x, 0);
	}
	tidu_buf_free(&one);
	return error;
}

static int export_row(exporter *x, sqlite3_stmt *st, tidu_buf *text)
{
	table *t = &x->t[0];
	const char *answers = (const char *)sqlite3_column_text(st, 7);
	const char *id = (const char *)sqlite3_column_text(st, 0);
	tidu_json *doc = NULL;
	size_t i;
	int error;

	if (x->format == TIDU_SURVEY_JSON)
		return json_row(x, st);
	if ((error = tidu_json_parse(answers ? answers : "{}", answers ? strlen(answers) : 2,
				     &doc)) < 0) {
		tidu_error_prefix(_("response '%s': "), id);
		return error;
	}
	for (i = 0; i < NMETA; i++) {
		const unsigned char *v = sqlite3_column_text(st, (int)i);

		if (x->format == TIDU_SURVEY_CSV)
			tidu_csv_put_cell(&t->line, v ? (const char *)v : "", 0);
		else if (v)
			worksheet_write_string(t->ws, t->row, (lxw_col_t)i, (const char *)v, NULL);
	}
	if (x->format == TIDU_SURVEY_CSV && t->ncols == 0)
		tidu_buf_puts(&t->line, "\r\n");
	error = table_cells(x, t, doc, NMETA, text);
	t->row++;
	t->rows++;
	if (error == 0)
		error = repeat_rows(x, TIDU_FORM_TOP, doc, id, text);
	tidu_json_free(doc);
	return error;
}

/* Renames the temporary files to their names: the export is there whole. */
static int finish(exporter *x, const char *path, tidu_survey_export_report *rep)
{
	size_t i;
	lxw_error e;

	if (x->format == TIDU_SURVEY_XLSX) {
		e = workbook_close(x->wb);
		x->wb = NULL;
		if (e != LXW_NO_ERROR)
			return xlsx_fail(path, e);
		if (rename(x->xlsx_tmp, path) < 0)
			return tidu_error_set(TIDU_ERROR, _("cannot write '%s': %s"), path,
					      strerror(errno));
		free(x->xlsx_tmp);
		x->xlsx_tmp = NULL;
		rep->paths = tidu_calloc(1, sizeof(*rep->paths));
		rep->paths[rep->npaths++] = tidu_strdup(path);
		return 0;
	}
	if (x->format == TIDU_SURVEY_JSON) {
		tidu_buf_puts(&x->json, x->json_first ? "[]\n" : "\n]\n");
		if (json_flush(x, 1) < 0)
			return TIDU_ERROR;
		if (!x->json_tmp)
			return fflush(x->json_fp) == 0 ? 0
				: tidu_error_set(TIDU_ERROR, "%s", _("writing the export failed"));
		if (fclose(x->json_fp) != 0) {
			x->json_fp = NULL;
			return tidu_error_set(TIDU_ERROR, _("writing '%s': %s"), path, strerror(errno));
		}
		x->json_fp = NULL;
		if (rename(x->json_tmp, path) < 0)
			return tidu_error_set(TIDU_ERROR, _("cannot write '%s': %s"), path,
					      strerror(errno));
		free(x->json_tmp);
		x->json_tmp = NULL;
		rep->paths = tidu_calloc(1, sizeof(*rep->paths));
		rep->paths[rep->npaths++] = tidu_strdup(path);
		return 0;
	}
	for (i = 0; i < x->nt; i++) {
		table *t = &x->t[i];
		int rc;

		if (csv_flush(t, 1) < 0)
			return TIDU_ERROR;
		rc = fflush(t->fp) || fsync(fileno(t->fp));
		rc = fclose(t->fp) || rc;
		t->fp = NULL;
		if (rc)
			return tidu_error_set(TIDU_ERROR, _("writing '%s': %s"), t->path,
					      strerror(errno));
	}
	rep->paths = tidu_calloc(x->nt, sizeof(*rep->paths));
	for (i = 0; i < x->nt; i++) {
		table *t = &x->t[i];

		if (rename(t->tmp, t->path) < 0)
			return tidu_error_set(TIDU_ERROR, _("cannot write '%s': %s"), t->path,
					      strerror(errno));
		free(t->tmp);
		t->tmp = NULL;
		rep->paths[rep->npaths++] = tidu_strdup(t->path);
	}
	return 0;
}

void tidu_survey_export_report_free(tidu_survey_export_report *rep)
{
	size_t i;

	for (i = 0; i < rep->npaths; i++)
		free(rep->paths[i]);
	free(rep->paths);
	memset(rep, 0, sizeof(*rep));
}

int tidu_survey_export(tidu_store *s, const char *form_id, const char *version,
		       tidu_survey_format format, const char *path, FILE *stream,
		       const char *lang, tidu_survey_export_report *rep)
{
	exporter x;
	tidu_form *form = NULL;
	tidu_buf text = TIDU_BUF_INIT;
	sqlite3_stmt *st = NULL;
	int error, rc;

	memset(rep, 0, sizeof(*rep));
	memset(&x, 0, sizeof(x));
	if ((error = tidu_forms_get(s, form_id, version, &form, NULL)) < 0)
		return error;
	x.s = s;
	x.f = form;
	x.format = format;
	x.lang = lang;
	x.json_first = 1;
	make_tables(&x);
	if (!path && (format == TIDU_SURVEY_XLSX || (format == TIDU_SURVEY_CSV && x.nt > 1))) {
		error = tidu_error_set(TIDU_EINVAL,
			format == TIDU_SURVEY_XLSX
			? _("give the workbook to write with --out FILE.xlsx")
			: _("form '%s' has repeats, exported as one CSV file each: give --out FILE.csv"),
			form_id);
		goto done;
	}
	if (format == TIDU_SURVEY_CSV)
		error = csv_open(&x, path);
	else if (format == TIDU_SURVEY_XLSX)
		error = xlsx_open(&x, path);
	else if (path)
		error = open_temp(path, &x.json_tmp, &x.json_fp);
	else
		x.json_fp = stream;
	if (error < 0)
		goto done;
	if (format == TIDU_SURVEY_CSV && !path) {
		x.t[0].fp = stream;
		x.t[0].path = tidu_strdup(_("standard output"));
	}
	rc = sqlite3_prepare_v2(tidu_store_db(s),
		"SELECT r.id, r.uscc, coalesce(f.name, ''), r.officer, r.started, r.finished, "
		"r.form_version, r.answers FROM response r LEFT JOIN firm f ON f.uscc=r.uscc "
		"WHERE r._deleted=0 AND r.form=?1 AND (?2 IS NULL OR r.form_version=?2) "
		"ORDER BY r.id", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		error = tidu_store_sqlerr(s, rc, _("reading responses"));
		goto done;
	}
	sqlite3_bind_text(st, 1, form->id, -1, SQLITE_STATIC);
	if (version)
		sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((error = export_row(&x, st, &text)) < 0)
			goto done;
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(s, rc, _("reading responses"));
		goto done;
	}
	rep->responses = x.t[0].rows;
	rep->tables = x.nt;
	if (format == TIDU_SURVEY_CSV && !path) {
		error = csv_flush(&x.t[0], 1);
		x.t[0].fp = NULL;
		goto done;
	}
	error = finish(&x, path, rep);
done:
	sqlite3_finalize(st);
	if (x.wb) {
		workbook_close(x.wb);
		if (x.xlsx_tmp)
			unlink(x.xlsx_tmp);
	} else if (x.xlsx_tmp) {
		unlink(x.xlsx_tmp);
	}
	free(x.xlsx_tmp);
	free(x.xlsx_dir);
	if (x.json_fp && x.json_tmp) {
		fclose(x.json_fp);
		unlink(x.json_tmp);
	}
	free(x.json_tmp);
	tidu_buf_free(&x.json);
	tables_free(&x);
	tidu_buf_free(&text);
	tidu_form_free(form);
	if (error < 0)
		tidu_survey_export_report_free(rep);
	return error;
}
