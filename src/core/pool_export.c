/*
 * The reserve lists as files for Excel, WPS and LibreOffice (pool.h,
 * docs/pool.md): CSV (UTF-8 with a BOM, one row per firm, a tier column)
 * or XLSX through libxlsxwriter (one sheet per tier, frozen header row,
 * columns as wide as their text, numbers as numbers, dates as dates).
 * Written to a temporary file beside the target, renamed at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "core/pool_int.h"
#include "tidu/alloc.h"
#include "tidu/csv.h"
#include "tidu/dict.h"
#include "tidu/error.h"
#include "tidu/file.h"
#include "tidu/i18n.h"
#include "tidu/parse.h"
#include "tidu/pool.h"
#include "tidu/utf8.h"

enum { C_USCC, C_NAME, C_DISTRICT, C_TIER, C_OFFICER, C_SINCE, C_REASON, C_STATUS, C_SCORE,
       C_FAILED, C_MISSING, C_TOP, C_TOP_POINTS, C_LAST_VISIT, C_DUE, NCOLS };

/* Column titles: N_() msgids, shown in the current language. */
static const char *const titles[NCOLS] = {
	N_("USCC"), N_("Name"), N_("District"), N_("Reserve list tier"), N_("Assigned officer"),
	N_("On the list since"), N_("Why it is on the list"), N_("Status"), N_("Score"),
	N_("Hard conditions failed"), N_("Inputs missing"), N_("Top deduction"),
	N_("Points lost there"), N_("Last visit"), N_("Follow-up due"),
};

static const char *tier_sheet(int tier)
{
	switch (tier) {
	case 1:
		return _("Tier 1 innovative SME");
	case 2:
		return _("Tier 2 provincial SRDI SME");
	default:
		return _("Tier 3 little giant");
	}
}

static const char *district_text(const char *code)
{
	const char *name = code ? tidu_dict_district_name(code) : NULL;

	return name ? name : code ? code : "";
}

/* The cell of column c as text (numbers formatted), into b. */
static const char *cell_text(const tidu_pool_entry *e, int c, tidu_buf *b)
{
	tidu_buf_clear(b);
	switch (c) {
	case C_USCC:
		return e->uscc;
	case C_NAME:
		return e->name ? e->name : "";
	case C_DISTRICT:
		return district_text(e->district);
	case C_TIER:
		tidu_buf_printf(b, "%d", e->tier);
		break;
	case C_OFFICER:
		return e->officer ? e->officer : "";
	case C_SINCE:
		return e->since ? e->since : "";
	case C_REASON:
		return e->reason ? e->reason : "";
	case C_STATUS:
		return tidu_assess_status_label(e->status);
	case C_SCORE:
		if (e->scored)
			tidu_assess_format(b, e->score);
		break;
	case C_FAILED:
		tidu_buf_printf(b, "%zu", e->failed);
		break;
	case C_MISSING:
		tidu_buf_printf(b, "%zu", e->missing);
		break;
	case C_TOP:
		return e->top_item ? e->top_item : "";
	case C_TOP_POINTS:
		if (e->top_item)
			tidu_assess_format(b, e->top_lost);
		break;
	case C_LAST_VISIT:
		return e->last_visit ? e->last_visit : "";
	default:
		return e->follow_up_due ? e->follow_up_due : "";
	}
	return tidu_buf_cstr(b);
}

static int is_number_col(int c)
{
	return c == C_TIER || c == C_SCORE || c == C_FAILED || c == C_MISSING || c == C_TOP_POINTS;
}

static int is_date_col(int c)
{
	return c == C_SINCE || c == C_LAST_VISIT || c == C_DUE;
}

/* ---- CSV ------------------------------------------------------------------------------ */

static int write_csv(const char *path, tidu_pool_entry *const *lists, const size_t *counts)
{
	tidu_buf out = TIDU_BUF_INIT, b = TIDU_BUF_INIT;
	size_t i;
	int c, k, error;

	tidu_buf_puts(&out, "\xEF\xBB\xBF"); /* a BOM: Excel and WPS read UTF-8 */
	for (c = 0; c < NCOLS; c++)
		tidu_csv_put_cell(&out, _(titles[c]), c + 1 == NCOLS);
	for (k = 0; k < 3; k++)
		for (i = 0; i < counts[k]; i++)
			for (c = 0; c < NCOLS; c++)
				tidu_csv_put_cell(&out, cell_text(&lists[k][i], c, &b),
						  c + 1 == NCOLS);
	error = tidu_file_write(path, out.ptr, out.len, 0644);
	tidu_buf_free(&out);
	tidu_buf_free(&b);
	return error;
}

/* ---- XLSX ----------------------------------------------------------------------------- */

static int write_xlsx(const char *path, tidu_pool_entry *const *lists, const size_t *counts,
		      int only)
{
	tidu_buf tmp = TIDU_BUF_INIT, b = TIDU_BUF_INIT;
	lxw_workbook *wb;
	lxw_format *bold, *date_fmt;
	lxw_error le;
	size_t i;
	int c, k, fd, error = 0;

	/* the temporary file beside the target: an unwritable folder is said now */
	tidu_buf_printf(&tmp, "%s.tmp-XXXXXX", path);
	if ((fd = mkstemp(tmp.ptr)) < 0) {
		error = tidu_error_set(TIDU_EINVAL, _("cannot write '%s': %s"), path, strerror(errno));
		tidu_buf_free(&tmp);
		return error;
	}
	close(fd);
	if (!(wb = workbook_new(tmp.ptr))) {
		error = tidu_error_set(TIDU_ERROR, _("writing '%s': %s"), path, "libxlsxwriter");
		goto fail;
	}
	bold = workbook_add_format(wb);
	format_set_bold(bold);
	date_fmt = workbook_add_format(wb);
	format_set_num_format(date_fmt, "yyyy-mm-dd");
	for (k = 2; k >= 0; k--) {
		lxw_worksheet *ws;
		size_t width[NCOLS];

		if (only && only != k + 1)
			continue;
		ws = workbook_add_worksheet(wb, tier_sheet(k + 1));
		for (c = 0; c < NCOLS; c++) {
			worksheet_write_string(ws, 0, (lxw_col_t)c, _(titles[c]), bold);
			width[c] = tidu_utf8_columns(_(titles[c]));
		}
		worksheet_freeze_panes(ws, 1, 0);
		for (i = 0; i < counts[k]; i++) {
			const tidu_pool_entry *e = &lists[k][i];
			lxw_row_t row = (lxw_row_t)(i + 1);

			for (c = 0; c < NCOLS; c++) {
				const char *t = cell_text(e, c, &b);
				double d;
				int y, m, dd;
				size_t w = tidu_utf8_columns(t);

				if (w > width[c])
					width[c] = w;
				if (!*t)
					continue;
				if (is_number_col(c) && tidu_parse_number(t, &d, NULL) == 0)
					worksheet_write_number(ws, row, (lxw_col_t)c, d, NULL);
				else if (is_date_col(c) && tidu_parse_date(t, &y, &m, &dd) == 0) {
					lxw_datetime dt = {y, m, dd, 0, 0, 0};

					worksheet_write_datetime(ws, row, (lxw_col_t)c, &dt, date_fmt);
				} else
					worksheet_write_string(ws, row, (lxw_col_t)c, t, NULL);
				tidu_error_clear();
			}
		}
		for (c = 0; c < NCOLS; c++)
			worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c,
					     (double)(width[c] < 60 ? width[c] + 2 : 62), NULL);
	}
	if ((le = workbook_close(wb)) != LXW_NO_ERROR) {
		error = tidu_error_set(TIDU_ERROR, _("writing '%s': %s"), path, lxw_strerror(le));
		goto fail;
	}
	if (rename(tmp.ptr, path) < 0) {
		error = tidu_error_set(TIDU_ERROR, _("writing '%s': %s"), path, strerror(errno));
		goto fail;
	}
	tidu_buf_free(&tmp);
	tidu_buf_free(&b);
	return 0;
fail:
	unlink(tmp.ptr); /* the target is left as it was */
	tidu_buf_free(&tmp);
	tidu_buf_free(&b);
	return error;
}

int tidu_pool_export(tidu_store *s, const tidu_pool_filter *f, int xlsx, const char *path,
		     size_t *rows)
{
	tidu_pool_entry *lists[3] = {NULL, NULL, NULL};
	size_t counts[3] = {0, 0, 0};
	int k, error = 0;

	*rows = 0;
	if (f->tier) {
		error = tidu_pool_list(s, f, &lists[f->tier - 1], &counts[f->tier - 1]);
	} else {
		error = pool_lists(s, f, 1, lists, counts); /* one pass over the firms */
	}
	for (k = 0; k < 3; k++)
		*rows += counts[k];
	if (!error)
		error = xlsx ? write_xlsx(path, lists, counts, f->tier) : write_csv(path, lists, counts);
	for (k = 0; k < 3; k++)
		tidu_pool_list_free(lists[k], counts[k]);
	if (error)
		*rows = 0;
	return error;
}
