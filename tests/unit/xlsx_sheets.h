#ifndef TIDU_TEST_XLSX_SHEETS_H
#define TIDU_TEST_XLSX_SHEETS_H
/*
 * Workbooks for the form tests (test_form.c, test_answers.c, test_forms.c), written by
 * libxlsxwriter: each sheet given as rows of tab-separated cells, the
 * header first. Test code only; include after <cmocka.h>.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

static void xs_write_sheet(lxw_workbook *wb, const char *name, const char *const *rows)
{
	lxw_worksheet *ws = workbook_add_worksheet(wb, name);
	size_t r;

	for (r = 0; rows[r]; r++) {
		char *line = strdup(rows[r]), *p = line, *tab;
		lxw_col_t c = 0;

		for (;;) {
			tab = strchr(p, '\t');
			if (tab)
				*tab = '\0';
			if (*p)
				worksheet_write_string(ws, (lxw_row_t)r, c, p, NULL);
			c++;
			if (!tab)
				break;
			p = tab + 1;
		}
		free(line);
	}
}

/*
 * Writes DIR/NAME.xlsx with the sheets given (NULL: not there; with no
 * survey a sheet "notes" stands in, so the workbook is still valid) and
 * returns its path (a static buffer, valid until the next call).
 */
static const char *xs_workbook(const char *dir, const char *name, const char *const *survey,
			       const char *const *choices, const char *const *settings)
{
	static char path[160];
	static const char *const notes[] = {"x", NULL};
	lxw_workbook *wb;

	snprintf(path, sizeof(path), "%s/%s.xlsx", dir, name);
	wb = workbook_new(path);
	assert_non_null(wb);
	xs_write_sheet(wb, survey ? "survey" : "notes", survey ? survey : notes);
	if (choices)
		xs_write_sheet(wb, "choices", choices);
	if (settings)
		xs_write_sheet(wb, "settings", settings);
	assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
	return path;
}

#endif
