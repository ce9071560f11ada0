/*
 * Fuzz target for the .xlsx reader (xlsx.h), which reads every survey form
 * (XLSForm) an officer gives tidu.
 *
 * Byte 0 picks the mode:
 *  - even: the rest is the .xlsx file itself (the zip first; the corpus
 *    holds real workbooks);
 *  - odd: the rest is split at the first two NUL bytes into the XML of a
 *    sheet, of the shared strings and of the workbook (missing pieces: a
 *    default), zipped with libzip (xlsx_craft.h), so that mutations reach
 *    the XML handlers instead of dying at the zip's CRC.
 * The limits are small, so that a run stays fast. Checks:
 *  1. failure is TIDU_EINVAL with a message naming the file and no result;
 *  2. on success every sheet reads or fails as in 1; a read sheet stays
 *     within Excel's grid and the limits, every cell in it is NULL or
 *     non-empty valid UTF-8 without NUL, at most max_cell_text bytes long,
 *     and cells outside rows x cols are NULL;
 *  3. the sheet stays readable after the workbook is freed.
 * A broken invariant aborts. Built with libFuzzer (TIDU_FUZZ=ON, clang) and
 * as a corpus replay under ctest (tests/CMakeLists.txt).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "xlsx_craft.h"

#include "tidu/alloc.h"
#include "tidu/buf.h"
#include "tidu/error.h"
#include "tidu/utf8.h"
#include "tidu/xlsx.h"

static const tidu_xlsx_limits lim = {
	.max_file = 1 << 20,
	.max_part = 1 << 20,
	.max_total = 4 << 20,
	.max_ratio = 200,
	.max_cells = 20000,
	.max_strings = 20000,
	.max_cell_text = 4096,
};

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_xlsx: %s (%s)\n", what, tidu_error_message());
		abort();
	}
}

static void check_failure(int rc)
{
	check(rc == TIDU_EINVAL, "failure is EINVAL");
	check(strstr(tidu_error_message(), "'f.xlsx'") != NULL, "the message names the file");
}

static void check_sheet(const tidu_xlsx_sheet *s)
{
	size_t rows = tidu_xlsx_rows(s), cols = tidu_xlsx_cols(s), r, c, n = 0;

	check(rows <= 1048576 && cols <= 16384, "within Excel's grid");
	check((rows == 0) == (cols == 0), "rows and columns both or neither");
	/* The grid may be large and sparse: look at a bounded part of it. */
	for (r = 0; r < rows && r < 200; r++) {
		for (c = 0; c < cols && c < 200; c++) {
			const char *t = tidu_xlsx_cell(s, r, c);
			size_t len;

			if (!t)
				continue;
			n++;
			len = strlen(t);
			check(len > 0 && len <= lim.max_cell_text, "cell length");
			check(tidu_utf8_valid(t, len), "cell is UTF-8");
		}
		check(tidu_xlsx_cell(s, r, cols) == NULL, "cell past the last column");
	}
	check(n <= lim.max_cells, "at most max_cells cells");
	check(tidu_xlsx_cell(s, rows, 0) == NULL, "cell past the last row");
}

static void run(const void *data, size_t len)
{
	tidu_xlsx_sheet *keep = NULL;
	tidu_xlsx *x = NULL;
	size_t i;
	int rc;

	rc = tidu_xlsx_open_mem("f.xlsx", data, len, &lim, &x);
	if (rc) {
		check_failure(rc);
		check(x == NULL, "no workbook on failure");
		return;
	}
	check(x != NULL, "a workbook on success");
	for (i = 0; i < tidu_xlsx_sheet_count(x); i++) {
		tidu_xlsx_sheet *s = NULL;
		const char *name = tidu_xlsx_sheet_name(x, i);

		check(name && tidu_utf8_valid(name, strlen(name)), "sheet name is UTF-8");
		rc = tidu_xlsx_sheet_read(x, i, &s);
		if (rc) {
			check_failure(rc);
			check(s == NULL, "no sheet on failure");
			continue;
		}
		check_sheet(s);
		if (!keep)
			keep = s;
		else
			tidu_xlsx_sheet_free(s);
	}
	check(tidu_xlsx_sheet_name(x, i) == NULL, "no name past the last sheet");
	tidu_xlsx_free(x);
	if (keep) {
		check_sheet(keep);
		tidu_xlsx_sheet_free(keep);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tidu_buf zip = TIDU_BUF_INIT;
	const char *p[3] = { NULL, NULL, NULL };
	size_t n[3] = { 0, 0, 0 }, k = 0;
	const char *s, *end;

	if (size == 0)
		return 0;
	if (!(data[0] & 1)) {
		run(data + 1, size - 1);
		return 0;
	}
	s = (const char *)data + 1;
	end = (const char *)data + size;
	while (k < 3 && s <= end) {
		const char *z = k < 2 ? memchr(s, 0, (size_t)(end - s)) : NULL;

		p[k] = s;
		n[k] = (size_t)((z ? z : end) - s);
		k++;
		if (!z)
			break;
		s = z + 1;
	}
	/* Without a workbook piece the default's one sheet is used. */
	{
		char *wb = p[2] ? tidu_strndup(p[2], n[2]) : NULL;

		if (xc_workbook(&zip, p[0], n[0], p[1], n[1], wb, NULL) == 0)
			run(zip.ptr, zip.len);
		free(wb);
	}
	tidu_buf_free(&zip);
	return 0;
}
