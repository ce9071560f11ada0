#ifndef TIDU_XLSX_H
#define TIDU_XLSX_H
/*
 * Reading .xlsx workbooks (Office Open XML spreadsheets, as Excel, WPS and
 * LibreOffice save them): the zip through libzip, the XML through libexpat
 * with DTDs refused (no entity of any kind is expanded). Only what a form
 * needs: the sheets by name and the text of each cell. Hostile files are
 * expected: every size is bounded (tidu_xlsx_limits), a damaged zip, XML
 * that is not well formed or a reference outside the workbook is
 * TIDU_EINVAL with one line naming the file and the part, never a crash.
 */
#include <stddef.h>
#include <stdint.h>

typedef struct {
	size_t max_file;        /* the .xlsx itself (bytes) */
	size_t max_part;        /* one uncompressed part (sheet, shared strings) */
	size_t max_total;       /* all parts read, uncompressed */
	size_t max_ratio;       /* uncompressed / compressed of one part (zip bombs) */
	size_t max_cells;       /* non-empty cells of one sheet */
	size_t max_strings;     /* entries of the shared-strings table */
	size_t max_cell_text;   /* bytes of one cell's text */
} tidu_xlsx_limits;

/*
 * 20 MiB file, 64 MiB per part, 128 MiB in all, ratio 200, 1M cells, 1M
 * strings, 32 KiB a cell. The ratio is checked on parts above 1 MiB (small
 * XML packs well and cannot harm); the bytes inflated are counted as well,
 * and may never exceed the part's declared size.
 */
extern const tidu_xlsx_limits tidu_xlsx_default_limits;

typedef struct tidu_xlsx tidu_xlsx;
typedef struct tidu_xlsx_sheet tidu_xlsx_sheet;

/*
 * Opens the workbook at `path` (or `len` bytes at `data`, for tests and
 * fuzzing; `name` names it in messages) and reads its list of sheets
 * (xl/workbook.xml and its relationships) and the shared strings.
 * `lim` NULL: the defaults. The caller frees it with tidu_xlsx_free.
 * Errors: TIDU_EINVAL for anything wrong with the file (the message names
 * the file and the part, and the line for XML); tidu_xlsx_open also
 * tidu_file_read's (TIDU_ENOTFOUND for a missing file, TIDU_ERROR).
 */
int tidu_xlsx_open(const char *path, const tidu_xlsx_limits *lim, tidu_xlsx **out);
int tidu_xlsx_open_mem(const char *name, const void *data, size_t len,
		       const tidu_xlsx_limits *lim, tidu_xlsx **out);
void tidu_xlsx_free(tidu_xlsx *x);

/* The sheets in workbook order; names as written (UTF-8). */
size_t tidu_xlsx_sheet_count(const tidu_xlsx *x);
const char *tidu_xlsx_sheet_name(const tidu_xlsx *x, size_t i);

/*
 * Reads sheet `i`: every cell with a value, as text. Shared and inline
 * strings (rich-text runs joined), numbers as written in the file ("12",
 * "0.5", "2024010101"), booleans as "TRUE"/"FALSE", a formula's cached
 * result; an error cell (#N/A) as its text. Leading and trailing blanks are
 * kept (the caller decides); a cell whose text is "" is empty. A boolean
 * is "TRUE"/"FALSE" when the file says it is one (t="b"): LibreOffice
 * writes a number with a boolean format instead, which reads "1"/"0".
 * The caller frees it; it may outlive `x`. TIDU_ENOTFOUND when there is no
 * sheet `i`, TIDU_EINVAL for a bad part.
 */
int tidu_xlsx_sheet_read(tidu_xlsx *x, size_t i, tidu_xlsx_sheet **out);
void tidu_xlsx_sheet_free(tidu_xlsx_sheet *s);

/* Rows and columns spanned (0-based: the last non-empty cell + 1). */
size_t tidu_xlsx_rows(const tidu_xlsx_sheet *s);
size_t tidu_xlsx_cols(const tidu_xlsx_sheet *s);

/* The text of the cell at 0-based `row`, `col`; NULL when the cell is empty. Borrowed. */
const char *tidu_xlsx_cell(const tidu_xlsx_sheet *s, size_t row, size_t col);

/*
 * "A1" style name of 0-based `row`, `col` into `out` (at least 16 bytes;
 * cut to 15 characters for coordinates far outside Excel's grid).
 */
void tidu_xlsx_cell_name(size_t row, size_t col, char out[16]);

#endif
