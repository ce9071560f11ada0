#ifndef TIDU_XLSX_CRAFT_H
#define TIDU_XLSX_CRAFT_H
/*
 * Test helpers for .xlsx files, shared by tests/unit/test_xlsx.c and the
 * fuzz target: zips written in memory with libzip from given parts, so
 * that hostile parts (DTDs, bombs, lying relationships) get past the zip
 * into the checks behind it. Test code only.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <zip.h>

#include "tidu/buf.h"

typedef struct {
	const char *name;
	const void *data;
	size_t len;    /* (size_t)-1: strlen(data) */
	int deflate;   /* 1: compressed, 0: stored */
} xc_part;

/* The zip of the `n` parts into `out` (cleared): 0, or -1 if libzip failed. */
static int xc_zip(const xc_part *parts, size_t n, tidu_buf *out)
{
	zip_source_t *src;
	zip_error_t ze;
	zip_stat_t st;
	zip_t *za;
	size_t i;
	int rc = -1;

	tidu_buf_clear(out);
	zip_error_init(&ze);
	if (!(src = zip_source_buffer_create(NULL, 0, 0, &ze)))
		goto done;
	zip_source_keep(src);
	if (!(za = zip_open_from_source(src, ZIP_TRUNCATE, &ze))) {
		zip_source_free(src);
		src = NULL;
		goto done;
	}
	for (i = 0; i < n; i++) {
		size_t len = parts[i].len == (size_t)-1 ? strlen(parts[i].data) : parts[i].len;
		zip_source_t *fs = zip_source_buffer(za, parts[i].data, len, 0);
		zip_int64_t idx;

		if (!fs)
			break;
		if ((idx = zip_file_add(za, parts[i].name, fs, ZIP_FL_ENC_UTF_8)) < 0) {
			zip_source_free(fs);
			break;
		}
		zip_set_file_compression(za, (zip_uint64_t)idx,
					 parts[i].deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
	}
	if (i < n) {
		zip_discard(za);
		goto done;
	}
	if (zip_close(za) != 0) {
		zip_discard(za);
		goto done;
	}
	zip_stat_init(&st);
	if (zip_source_stat(src, &st) != 0 || zip_source_open(src) != 0)
		goto done;
	tidu_buf_grow(out, (size_t)st.size);
	for (;;) {
		char chunk[4096];
		zip_int64_t got = zip_source_read(src, chunk, sizeof(chunk));

		if (got < 0)
			break;
		if (got == 0) {
			rc = 0;
			break;
		}
		tidu_buf_put(out, chunk, (size_t)got);
	}
	zip_source_close(src);
done:
	if (src)
		zip_source_free(src);
	zip_error_fini(&ze);
	return rc;
}

static const char XC_WORKBOOK[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\""
	" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
	"<sheets><sheet name=\"survey\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";

static const char XC_RELS[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
	"2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
	"<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
	"2006/relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>"
	"</Relationships>";

/* The same without the shared strings. */
static const char XC_RELS_NO_SST[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
	"2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
	"</Relationships>";

/*
 * A one-sheet workbook ("survey") into `out`: `sheet` is the XML of
 * xl/worksheets/sheet1.xml, `sst` of xl/sharedStrings.xml (NULL: none),
 * `workbook` and `rels` replace the defaults above when not NULL (XC_RELS,
 * or XC_RELS_NO_SST without `sst`). `len`
 * of each: -1 for strlen. Parts are deflated.
 */
static int xc_workbook(tidu_buf *out, const char *sheet, size_t sheet_len,
		       const char *sst, size_t sst_len,
		       const char *workbook, const char *rels)
{
	xc_part p[4] = {
		{ "xl/workbook.xml", workbook ? workbook : XC_WORKBOOK, (size_t)-1, 1 },
		{ "xl/_rels/workbook.xml.rels", rels ? rels : sst ? XC_RELS : XC_RELS_NO_SST,
		  (size_t)-1, 1 },
		{ "xl/worksheets/sheet1.xml", sheet, sheet_len, 1 },
		{ "xl/sharedStrings.xml", sst, sst_len, 1 },
	};

	return xc_zip(p, sst ? 4 : 3, out);
}

#endif
