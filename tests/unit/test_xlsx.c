/*
 * Unit tests: xlsx.h. Real workbooks of three writers (tests/data/xlsx,
 * made by make.sh there), crafted ones for what those writers do not
 * write (prefixes, cells without r, phonetic runs), and hostile ones built
 * at run time (tests/fuzz/xlsx_craft.h): each refused with TIDU_EINVAL and
 * a message naming the problem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tidu/buf.h"
#include "tidu/error.h"
#include "tidu/file.h"
#include "tidu/xlsx.h"

#include "../fuzz/xlsx_craft.h"

#define DATA TIDU_SOURCE_DIR "/tests/data/xlsx/"

static void cell_is(const tidu_xlsx_sheet *s, const char *ref_name, size_t row, size_t col,
		    const char *want)
{
	const char *got = tidu_xlsx_cell(s, row, col);

	if (!want && got)
		fail_msg("%s: '%s', expected empty", ref_name, got);
	if (want && !got)
		fail_msg("%s: empty, expected '%s'", ref_name, want);
	if (want)
		assert_string_equal(got, want);
}

/* The form of make.sh; `yes`/`no`: how the writer stores booleans. */
static void check_form(tidu_xlsx *x, const char *yes, const char *no)
{
	tidu_xlsx_sheet *s = NULL;

	assert_int_equal(tidu_xlsx_sheet_count(x), 3);
	assert_string_equal(tidu_xlsx_sheet_name(x, 0), "survey");
	assert_string_equal(tidu_xlsx_sheet_name(x, 1), "choices");
	assert_string_equal(tidu_xlsx_sheet_name(x, 2), "settings");
	assert_null(tidu_xlsx_sheet_name(x, 3));

	if (tidu_xlsx_sheet_read(x, 0, &s))
		fail_msg("survey: %s", tidu_error_message());
	assert_int_equal(tidu_xlsx_rows(s), 4);
	assert_int_equal(tidu_xlsx_cols(s), 5);
	cell_is(s, "A1", 0, 0, "type");
	cell_is(s, "E1", 0, 4, "hint");
	cell_is(s, "C2", 1, 2, "企业名称");
	cell_is(s, "D2", 1, 3, yes);
	cell_is(s, "E2", 1, 4, "  前后空格 ");
	cell_is(s, "B3", 2, 1, "staff");
	cell_is(s, "C3", 2, 2, NULL);
	cell_is(s, "D3", 2, 3, no);
	cell_is(s, "E3", 2, 4, NULL);
	cell_is(s, "B4", 3, 1, "12");
	cell_is(s, "C4", 3, 2, "0.5");
	cell_is(s, "D4", 3, 3, "营业收入");
	cell_is(s, "E4", 3, 4, NULL);
	cell_is(s, "A5", 4, 0, NULL);
	cell_is(s, "F1", 0, 5, NULL);
	tidu_xlsx_sheet_free(s);

	if (tidu_xlsx_sheet_read(x, 1, &s))
		fail_msg("choices: %s", tidu_error_message());
	assert_int_equal(tidu_xlsx_rows(s), 2);
	assert_int_equal(tidu_xlsx_cols(s), 3);
	cell_is(s, "C2", 1, 2, "是");
	tidu_xlsx_sheet_free(s);

	if (tidu_xlsx_sheet_read(x, 2, &s))
		fail_msg("settings: %s", tidu_error_message());
	cell_is(s, "A2", 1, 0, "企业调查 2024");
	cell_is(s, "B2", 1, 1, "2024010101");
	tidu_xlsx_sheet_free(s);

	assert_int_equal(tidu_xlsx_sheet_read(x, 3, &s), TIDU_ENOTFOUND);
	assert_null(s);
}

static void check_file(const char *file, const char *yes, const char *no)
{
	tidu_buf b = TIDU_BUF_INIT;
	tidu_xlsx *x = NULL;

	if (tidu_xlsx_open(file, NULL, &x))
		fail_msg("%s: %s", file, tidu_error_message());
	check_form(x, yes, no);
	tidu_xlsx_free(x);
	/* The same bytes from memory. */
	assert_int_equal(tidu_file_read(file, 1 << 20, &b), 0);
	if (tidu_xlsx_open_mem("mem.xlsx", b.ptr, b.len, NULL, &x))
		fail_msg("%s in memory: %s", file, tidu_error_message());
	check_form(x, yes, no);
	tidu_xlsx_free(x);
	tidu_buf_free(&b);
}

static void test_libreoffice(void **state)
{
	(void)state;
	/* LibreOffice writes booleans as numbers with a TRUE/FALSE format. */
	check_file(DATA "libreoffice.xlsx", "1", "0");
}

static void test_openpyxl(void **state)
{
	(void)state;
	check_file(DATA "openpyxl.xlsx", "TRUE", "FALSE");
}

static void test_xlsxwriter(void **state)
{
	(void)state;
	check_file(DATA "xlsxwriter.xlsx", "TRUE", "FALSE");
}

/* A sheet being read outlives its workbook: the shared strings are shared. */
static void test_sheet_outlives_workbook(void **state)
{
	tidu_xlsx_sheet *s = NULL;
	tidu_xlsx *x = NULL;

	(void)state;
	assert_int_equal(tidu_xlsx_open(DATA "xlsxwriter.xlsx", NULL, &x), 0);
	assert_int_equal(tidu_xlsx_sheet_read(x, 0, &s), 0);
	tidu_xlsx_free(x);
	cell_is(s, "C2", 1, 2, "企业名称");
	tidu_xlsx_sheet_free(s);
}

#define SHEET_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
#define SHEET_TAIL "</sheetData></worksheet>"
#define SST_HEAD "<?xml version=\"1.0\"?>\n" \
	"<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"

/* Opens the one-sheet workbook and reads the sheet; 0 or the error. */
static int open_read(const tidu_buf *zip, const tidu_xlsx_limits *lim, tidu_xlsx_sheet **out)
{
	tidu_xlsx *x = NULL;
	int rc;

	*out = NULL;
	if ((rc = tidu_xlsx_open_mem("t.xlsx", zip->ptr, zip->len, lim, &x)))
		return rc;
	rc = tidu_xlsx_sheet_read(x, 0, out);
	tidu_xlsx_free(x);
	return rc;
}

static void test_crafted(void **state)
{
	static const char sheet[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<x:worksheet xmlns:x=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
		"<x:sheetData>"
		"<x:row r=\"2\"><x:c r=\"B2\" t=\"s\"><x:v>1</x:v></x:c>"
		"<x:c t=\"inlineStr\"><x:is><x:r><x:t>郑</x:t></x:r><x:r><x:t xml:space=\"preserve\">"
		" 州 </x:t></x:r><x:rPh sb=\"0\" eb=\"1\"><x:t>zheng</x:t></x:rPh></x:is></x:c>"
		"<x:c t=\"e\"><x:v>#N/A</x:v></x:c>"
		"<x:c t=\"str\"><x:f>A1&amp;\"x\"</x:f><x:v>a&lt;b</x:v></x:c>"
		"<x:c t=\"b\"><x:v>0</x:v></x:c>"
		"<x:c s=\"3\"/><x:c t=\"n\"><x:v>1.5E-3</x:v></x:c></x:row>"
		"<x:row><x:c t=\"s\"><x:v>0</x:v></x:c><x:c t=\"s\"><x:v>2</x:v></x:c></x:row>"
		"</x:sheetData>"
		"<x:extLst><x:c><x:v>not a cell</x:v></x:c></x:extLst>"
		"</x:worksheet>";
	static const char sst[] =
		SST_HEAD "<si><t>first</t></si>"
		"<si><r><rPr><b/></rPr><t>富</t></r><r><t>文本</t></r>"
		"<rPh sb=\"0\" eb=\"1\"><t>fu</t></rPh><phoneticPr fontId=\"1\"/></si>"
		"<si><t/></si></sst>";
	static const char rels[] =
		"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
		"<Relationship Id=\"rId1\" Type=\"t/worksheet\" Target=\"/xl/worksheets/sheet1.xml\"/>"
		"<Relationship Id=\"rId9\" Type=\"x/sharedStrings\" Target=\"./sharedStrings.xml\"/>"
		"</Relationships>";
	tidu_xlsx_sheet *s = NULL;
	tidu_buf zip = TIDU_BUF_INIT;

	(void)state;
	assert_int_equal(xc_workbook(&zip, sheet, (size_t)-1, sst, (size_t)-1, NULL, rels), 0);
	if (open_read(&zip, NULL, &s))
		fail_msg("%s", tidu_error_message());
	assert_int_equal(tidu_xlsx_rows(s), 3);
	assert_int_equal(tidu_xlsx_cols(s), 8);
	cell_is(s, "A1", 0, 0, NULL);
	cell_is(s, "B2", 1, 1, "富文本");
	cell_is(s, "C2", 1, 2, "郑 州 ");
	cell_is(s, "D2", 1, 3, "#N/A");
	cell_is(s, "E2", 1, 4, "a<b");
	cell_is(s, "F2", 1, 5, "FALSE");
	cell_is(s, "G2", 1, 6, NULL);
	cell_is(s, "H2", 1, 7, "1.5E-3");
	cell_is(s, "A3", 2, 0, "first");
	cell_is(s, "B3", 2, 1, NULL); /* the empty shared string */
	tidu_xlsx_sheet_free(s);
	tidu_buf_free(&zip);
}

static void test_cell_name(void **state)
{
	char n[16];

	(void)state;
	tidu_xlsx_cell_name(0, 0, n);
	assert_string_equal(n, "A1");
	tidu_xlsx_cell_name(2, 1, n);
	assert_string_equal(n, "B3");
	tidu_xlsx_cell_name(0, 25, n);
	assert_string_equal(n, "Z1");
	tidu_xlsx_cell_name(9, 26, n);
	assert_string_equal(n, "AA10");
	tidu_xlsx_cell_name(0, 701, n);
	assert_string_equal(n, "ZZ1");
	tidu_xlsx_cell_name(0, 702, n);
	assert_string_equal(n, "AAA1");
	tidu_xlsx_cell_name(1048575, 16383, n);
	assert_string_equal(n, "XFD1048576");
	tidu_xlsx_cell_name(SIZE_MAX, SIZE_MAX, n);
	assert_true(strlen(n) <= 15);
}

/* ---- hostile files ---- */

static void expect_refused(const tidu_buf *zip, const tidu_xlsx_limits *lim, const char *what)
{
	tidu_xlsx_sheet *s = (tidu_xlsx_sheet *)1;
	int rc = open_read(zip, lim, &s);

	if (rc != TIDU_EINVAL)
		fail_msg("expected EINVAL with '%s', got %d (%s)", what, rc, tidu_error_message());
	assert_null(s);
	if (!strstr(tidu_error_message(), what))
		fail_msg("message '%s' does not say '%s'", tidu_error_message(), what);
	if (!strstr(tidu_error_message(), "'t.xlsx'"))
		fail_msg("message '%s' does not name the file", tidu_error_message());
}

static void expect_bytes_refused(const void *data, size_t len, const char *what)
{
	tidu_buf b = TIDU_BUF_INIT;

	tidu_buf_put(&b, data, len);
	expect_refused(&b, NULL, what);
	tidu_buf_free(&b);
}

static void test_not_a_zip(void **state)
{
	tidu_buf b = TIDU_BUF_INIT;
	tidu_xlsx *x = (tidu_xlsx *)1;

	(void)state;
	expect_bytes_refused("hello, world\n", 13, "not an .xlsx workbook (zip: ");
	/* libzip takes an empty file for an empty archive. */
	expect_bytes_refused("", 0, "not an .xlsx workbook (no part 'xl/workbook.xml')");
	assert_int_equal(tidu_file_read(DATA "form.fods", 1 << 20, &b), 0);
	expect_refused(&b, NULL, "not an .xlsx workbook (zip: ");
	tidu_buf_free(&b);
	assert_int_equal(tidu_xlsx_open(DATA "no-such.xlsx", NULL, &x), TIDU_ENOTFOUND);
	assert_null(x);
}

static void test_truncated(void **state)
{
	tidu_buf b = TIDU_BUF_INIT;
	size_t cut[] = { 4, 30, 100, 0, 0, 0 };
	size_t i;

	(void)state;
	assert_int_equal(tidu_file_read(DATA "libreoffice.xlsx", 1 << 20, &b), 0);
	cut[3] = b.len / 2;
	cut[4] = b.len - 30;
	cut[5] = b.len - 1;
	for (i = 0; i < sizeof(cut) / sizeof(*cut); i++)
		expect_bytes_refused(b.ptr, cut[i], "not an .xlsx workbook (zip: ");
	tidu_buf_free(&b);
}

static void test_missing_parts(void **state)
{
	xc_part only_sheet[] = { { "xl/worksheets/sheet1.xml", SHEET_HEAD SHEET_TAIL, (size_t)-1, 1 } };
	xc_part no_rels[] = { { "xl/workbook.xml", XC_WORKBOOK, (size_t)-1, 1 } };
	tidu_buf zip = TIDU_BUF_INIT;

	(void)state;
	assert_int_equal(xc_zip(only_sheet, 1, &zip), 0);
	expect_refused(&zip, NULL, "not an .xlsx workbook (no part 'xl/workbook.xml')");
	assert_int_equal(xc_zip(no_rels, 1, &zip), 0);
	expect_refused(&zip, NULL, "no part 'xl/_rels/workbook.xml.rels'");
	tidu_buf_free(&zip);
}

static void rels_refused(const char *target, const char *what)
{
	tidu_buf rels = TIDU_BUF_INIT, zip = TIDU_BUF_INIT;

	tidu_buf_printf(&rels, "<Relationships xmlns=\"http://schemas.openxmlformats.org/"
			"package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"w\" "
			"Target=\"%s\"/></Relationships>", target);
	assert_int_equal(xc_workbook(&zip, SHEET_HEAD SHEET_TAIL, (size_t)-1, NULL, 0, NULL,
				     rels.ptr), 0);
	expect_refused(&zip, NULL, what);
	tidu_buf_free(&rels);
	tidu_buf_free(&zip);
}

static void test_rels_targets(void **state)
{
	tidu_buf zip = TIDU_BUF_INIT;
	static const char wb_other_id[] =
		"<workbook xmlns:r=\"urn:r\"><sheets><sheet name=\"s\" r:id=\"rId7\"/></sheets></workbook>";

	(void)state;
	rels_refused("../../etc/passwd", "outside the workbook's folder xl/");
	rels_refused("/etc/passwd", "outside the workbook's folder xl/");
	rels_refused("worksheets/../../../sheet1.xml", "outside the workbook's folder xl/");
	rels_refused("..\\..\\sheet1.xml", "outside the workbook's folder xl/");
	rels_refused("file:///etc/passwd", "outside the workbook's folder xl/");
	rels_refused("/xl", "outside the workbook's folder xl/");
	rels_refused("worksheets/sheet2.xml", "refers to part 'xl/worksheets/sheet2.xml', which is not in the file");
	rels_refused("../[Content_Types].xml", "outside the workbook's folder xl/");
	/* A sheet whose relationship is not there. */
	assert_int_equal(xc_workbook(&zip, SHEET_HEAD SHEET_TAIL, (size_t)-1, NULL, 0,
				     wb_other_id, NULL), 0);
	expect_refused(&zip, NULL, "sheet 's' has no relationship 'rId7'");
	/* The shared strings named but missing. */
	assert_int_equal(xc_workbook(&zip, SHEET_HEAD SHEET_TAIL, (size_t)-1, NULL, 0,
				     NULL, XC_RELS), 0);
	expect_refused(&zip, NULL, "the shared strings refers to part 'xl/sharedStrings.xml'");
	tidu_buf_free(&zip);
}

static const char laughs[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE lolz [\n"
	" <!ENTITY lol \"lol\">\n"
	" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	" <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	" <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	" <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	" <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	" <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	" <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	" <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	"]>\n";

static void test_doctype(void **state)
{
	tidu_buf x = TIDU_BUF_INIT, zip = TIDU_BUF_INIT;

	(void)state;
	/* In a sheet. */
	tidu_buf_puts(&x, laughs);
	tidu_buf_puts(&x, "<worksheet><sheetData><row><c t=\"inlineStr\"><is><t>&lol9;</t>"
		      "</is></c></row></sheetData></worksheet>");
	assert_int_equal(xc_workbook(&zip, x.ptr, x.len, NULL, 0, NULL, NULL), 0);
	expect_refused(&zip, NULL, "part 'xl/worksheets/sheet1.xml', line 2: DTDs are not allowed");
	/* In the shared strings. */
	tidu_buf_clear(&x);
	tidu_buf_puts(&x, laughs);
	tidu_buf_puts(&x, "<sst><si><t>&lol9;</t></si></sst>");
	assert_int_equal(xc_workbook(&zip, SHEET_HEAD SHEET_TAIL, (size_t)-1, x.ptr, x.len,
				     NULL, NULL), 0);
	expect_refused(&zip, NULL, "part 'xl/sharedStrings.xml', line 2: DTDs are not allowed");
	/* In the workbook, an external one. */
	tidu_buf_clear(&x);
	tidu_buf_puts(&x, "<?xml version=\"1.0\"?><!DOCTYPE workbook SYSTEM \"/etc/passwd\">"
		      "<workbook/>");
	assert_int_equal(xc_workbook(&zip, SHEET_HEAD SHEET_TAIL, (size_t)-1, NULL, 0,
				     x.ptr, NULL), 0);
	expect_refused(&zip, NULL, "part 'xl/workbook.xml', line 1: DTDs are not allowed");
	/* An entity that was never declared. */
	assert_int_equal(xc_workbook(&zip, SHEET_HEAD "<row><c t=\"inlineStr\"><is><t>&lol;</t>"
				     "</is></c></row>" SHEET_TAIL, (size_t)-1, NULL, 0, NULL, NULL), 0);
	expect_refused(&zip, NULL, "undefined entity");
	tidu_buf_free(&x);
	tidu_buf_free(&zip);
}

/* A sheet of `n` bytes: the frame and blanks between rows. */
static void big_sheet(tidu_buf *x, size_t n)
{
	tidu_buf_clear(x);
	tidu_buf_puts(x, SHEET_HEAD);
	while (x->len < n - strlen(SHEET_TAIL))
		tidu_buf_putc(x, ' ');
	tidu_buf_puts(x, SHEET_TAIL);
}

static void test_bombs(void **state)
{
	tidu_xlsx_limits lim = tidu_xlsx_default_limits;
	tidu_buf x = TIDU_BUF_INIT, zip = TIDU_BUF_INIT;
	tidu_xlsx_sheet *s = NULL;

	(void)state;
	/* 8 MiB of blanks pack into a few KiB: refused for the ratio alone. */
	big_sheet(&x, (size_t)8 << 20);
	assert_int_equal(xc_workbook(&zip, x.ptr, x.len, NULL, 0, NULL, NULL), 0);
	assert_true(zip.len < 100000);
	expect_refused(&zip, NULL, "part 'xl/worksheets/sheet1.xml' is compressed more than 200 times");
	/* The same accepted with a higher ratio. */
	lim.max_ratio = 100000;
	assert_int_equal(open_read(&zip, &lim, &s), 0);
	assert_int_equal(tidu_xlsx_rows(s), 0);
	tidu_xlsx_sheet_free(s);
	/* A part larger than max_part. */
	lim.max_part = 1 << 20;
	expect_refused(&zip, &lim, "part 'xl/worksheets/sheet1.xml' is larger than 1048576 bytes");
	/* All parts together larger than max_total. */
	lim = tidu_xlsx_default_limits;
	lim.max_total = 4096;
	big_sheet(&x, 5000);
	assert_int_equal(xc_workbook(&zip, x.ptr, x.len, NULL, 0, NULL, NULL), 0);
	expect_refused(&zip, &lim, "the parts read are larger than 4096 bytes in all");
	/* The whole file larger than max_file. */
	lim = tidu_xlsx_default_limits;
	lim.max_file = zip.len - 1;
	expect_refused(&zip, &lim, "the file is larger than");
	tidu_buf_free(&x);
	tidu_buf_free(&zip);
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/*
 * A part that inflates to more than its headers declare: the sizes of the
 * sheet's local and central headers are changed to 200 bytes.
 */
static void test_lying_size(void **state)
{
	static const char name[] = "xl/worksheets/sheet1.xml";
	tidu_buf x = TIDU_BUF_INIT, zip = TIDU_BUF_INIT;
	unsigned char *p;
	size_t i, patched = 0, nl = strlen(name);

	(void)state;
	big_sheet(&x, 100000);
	assert_int_equal(xc_workbook(&zip, x.ptr, x.len, NULL, 0, NULL, NULL), 0);
	p = (unsigned char *)zip.ptr;
	for (i = 0; i + 46 + nl <= zip.len; i++) {
		if (!memcmp(p + i, "PK\3\4", 4) && !memcmp(p + i + 30, name, nl)) {
			put_le32(p + i + 22, 200);
			patched++;
		} else if (!memcmp(p + i, "PK\1\2", 4) && !memcmp(p + i + 46, name, nl)) {
			put_le32(p + i + 24, 200);
			patched++;
		}
	}
	assert_int_equal(patched, 2);
	expect_refused(&zip, NULL, "part 'xl/worksheets/sheet1.xml'");
	tidu_buf_free(&x);
	tidu_buf_free(&zip);
}

static void sheet_refused(const char *rows, const char *sst, const tidu_xlsx_limits *lim,
			  const char *what)
{
	tidu_buf x = TIDU_BUF_INIT, zip = TIDU_BUF_INIT;

	tidu_buf_printf(&x, SHEET_HEAD "%s" SHEET_TAIL, rows);
	assert_int_equal(xc_workbook(&zip, x.ptr, x.len, sst, (size_t)-1, NULL, NULL), 0);
	expect_refused(&zip, lim, what);
	tidu_buf_free(&x);
	tidu_buf_free(&zip);
}

static void test_limits(void **state)
{
	tidu_xlsx_limits lim = tidu_xlsx_default_limits;
	static const char four[] = "<row><c><v>1</v></c><c><v>2</v></c></row>"
				   "<row><c><v>3</v></c><c><v>4</v></c></row>";

	(void)state;
	lim.max_cells = 3;
	sheet_refused(four, NULL, &lim, "part 'xl/worksheets/sheet1.xml', line 2: more than 3 cells");
	lim.max_cells = 4;
	{
		tidu_buf x = TIDU_BUF_INIT, zip = TIDU_BUF_INIT;
		tidu_xlsx_sheet *s = NULL;

		tidu_buf_printf(&x, SHEET_HEAD "%s" SHEET_TAIL, four);
		assert_int_equal(xc_workbook(&zip, x.ptr, x.len, NULL, 0, NULL, NULL), 0);
		assert_int_equal(open_read(&zip, &lim, &s), 0);
		cell_is(s, "B2", 1, 1, "4");
		tidu_xlsx_sheet_free(s);
		tidu_buf_free(&x);
		tidu_buf_free(&zip);
	}
	lim = tidu_xlsx_default_limits;
	lim.max_strings = 2;
	sheet_refused("", SST_HEAD "<si><t>a</t></si><si><t>b</t></si><si><t>c</t></si></sst>",
		      &lim, "part 'xl/sharedStrings.xml', line 2: more than 2 shared strings");
	lim = tidu_xlsx_default_limits;
	lim.max_cell_text = 4;
	sheet_refused("<row><c t=\"inlineStr\"><is><t>abc</t><t>de</t></is></c></row>", NULL, &lim,
		      "cell A1: the text is longer than 4 bytes");
	sheet_refused("", SST_HEAD "<si><r><t>abc</t></r><r><t>de</t></r></si></sst>", &lim,
		      "a text is longer than 4 bytes");
}

static void test_bad_cells(void **state)
{
	(void)state;
	sheet_refused("<row><c r=\"A0\"><v>1</v></c></row>", NULL, NULL,
		      "invalid cell reference 'A0'");
	sheet_refused("<row><c r=\"XFE1\"><v>1</v></c></row>", NULL, NULL,
		      "invalid cell reference 'XFE1'");
	sheet_refused("<row><c r=\"A1048577\"><v>1</v></c></row>", NULL, NULL,
		      "invalid cell reference 'A1048577'");
	sheet_refused("<row><c r=\"1A\"><v>1</v></c></row>", NULL, NULL,
		      "invalid cell reference '1A'");
	sheet_refused("<row r=\"0\"/>", NULL, NULL, "invalid row number '0'");
	sheet_refused("<row r=\"-1\"/>", NULL, NULL, "invalid row number '-1'");
	sheet_refused("<row><c t=\"s\"><v>0</v></c></row>", NULL, NULL,
		      "cell A1: shared string '0' does not exist");
	sheet_refused("<row><c t=\"s\"><v>1</v></c></row>", SST_HEAD "<si><t>a</t></si></sst>",
		      NULL, "cell A1: shared string '1' does not exist");
	sheet_refused("<row><c t=\"s\"><v>-1</v></c></row>", SST_HEAD "<si><t>a</t></si></sst>",
		      NULL, "shared string '-1' does not exist");
	sheet_refused("<row><c r=\"C7\" t=\"b\"><v>yes</v></c></row>", NULL, NULL,
		      "cell C7: invalid boolean 'yes'");
	sheet_refused("<row><c r=\"B1\"><v>1</v></c><c r=\"B1\"><v>2</v></c></row>", NULL, NULL,
		      "part 'xl/worksheets/sheet1.xml': cell B1 appears twice");
	sheet_refused("<row><c><v>1</c></row>", NULL, NULL, "mismatched tag");
	sheet_refused("<row><y:c><v>1</v></y:c></row>", NULL, NULL, "unbound prefix");
	sheet_refused("<row><c><v>\xff</v></c></row>", NULL, NULL, "line 2: not well-formed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libreoffice),
		cmocka_unit_test(test_openpyxl),
		cmocka_unit_test(test_xlsxwriter),
		cmocka_unit_test(test_sheet_outlives_workbook),
		cmocka_unit_test(test_crafted),
		cmocka_unit_test(test_cell_name),
		cmocka_unit_test(test_not_a_zip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_missing_parts),
		cmocka_unit_test(test_rels_targets),
		cmocka_unit_test(test_doctype),
		cmocka_unit_test(test_bombs),
		cmocka_unit_test(test_lying_size),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bad_cells),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
