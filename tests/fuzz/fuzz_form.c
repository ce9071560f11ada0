/*
 * Fuzz target for the XLSForm reader (form.h) on top of the .xlsx reader.
 * Byte 0 picks the mode: even, the rest is a workbook; odd, the rest is a
 * survey sheet as text (rows by newline, cells by tab), written as inline
 * strings into a one-sheet workbook (xlsx_craft.h), so that mutations reach
 * the form's checks instead of the zip's CRC. Checks: a failure is TIDU_EINVAL with a message
 * naming the file and no form; a form read has an id and a version, every
 * question but the ends has a valid name, every parent is a begin group or
 * repeat before it whose end is after it, every select has its list, and
 * finding a question by its name gives it back. A broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "xlsx_craft.h"

#include "tidu/error.h"
#include "tidu/form.h"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_form: %s (%s)\n", what, tidu_error_message());
		abort();
	}
}

/* The text as a sheet: rows by '\n', cells by '\t', each an inline string. */
static void text_sheet(const uint8_t *d, size_t n, tidu_buf *xml)
{
	size_t i, row = 1, col = 0;
	char ref[16];
	int open = 0;

	tidu_buf_puts(xml, "<?xml version=\"1.0\"?><worksheet xmlns=\"http://schemas.openxmlformats."
		      "org/spreadsheetml/2006/main\"><sheetData><row>");
	for (i = 0; i < n; i++) {
		unsigned char ch = d[i];

		if (ch == '\n' || ch == '\t') {
			if (open)
				tidu_buf_puts(xml, "</t></is></c>");
			open = 0;
			if (ch == '\n') {
				tidu_buf_puts(xml, "</row><row>");
				row++;
				col = 0;
			} else {
				col++;
			}
			continue;
		}
		if (!open) {
			tidu_xlsx_cell_name(row - 1, col, ref);
			tidu_buf_printf(xml, "<c r=\"%s\" t=\"inlineStr\"><is><t>", ref);
			open = 1;
		}
		if (ch == '<')
			tidu_buf_puts(xml, "&lt;");
		else if (ch == '&')
			tidu_buf_puts(xml, "&amp;");
		else if (ch >= 0x20)
			tidu_buf_putc(xml, (char)ch);
	}
	if (open)
		tidu_buf_puts(xml, "</t></is></c>");
	tidu_buf_puts(xml, "</row></sheetData></worksheet>");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tidu_buf xml = TIDU_BUF_INIT, zip = TIDU_BUF_INIT;
	tidu_form *f = NULL;
	size_t i;
	int rc;

	if (size && (data[0] & 1)) {
		text_sheet(data + 1, size - 1, &xml);
		if (xc_workbook(&zip, xml.ptr, xml.len, NULL, 0, NULL, NULL) < 0) {
			tidu_buf_free(&xml);
			return 0;
		}
		rc = tidu_form_read_mem("f.xlsx", zip.ptr, zip.len, &f);
	} else {
		rc = tidu_form_read_mem("f.xlsx", size ? data + 1 : data, size ? size - 1 : 0, &f);
	}
	tidu_buf_free(&xml);
	tidu_buf_free(&zip);

	if (rc < 0) {
		check(rc == TIDU_EINVAL, "failure is EINVAL");
		check(strstr(tidu_error_message(), "f.xlsx") != NULL, "the message names the file");
		check(f == NULL, "no form on failure");
		tidu_error_clear();
		return 0;
	}
	check(f->id && *f->id && f->version && *f->version, "an id and a version");
	check(f->nlangs >= 1 && f->default_lang < f->nlangs, "a default language");
	for (i = 0; i < f->nq; i++) {
		const tidu_form_question *q = &f->q[i];

		if (q->type != TIDU_Q_END_GROUP && q->type != TIDU_Q_END_REPEAT) {
			check(q->name && *q->name, "a name");
			check(tidu_form_find(f, q->name) == i, "found by its name");
		}
		if (q->parent != TIDU_FORM_TOP) {
			const tidu_form_question *p = &f->q[q->parent];

			check(q->parent < i, "the parent comes first");
			check(p->type == TIDU_Q_BEGIN_GROUP || p->type == TIDU_Q_BEGIN_REPEAT,
			      "the parent is a group or repeat");
			check(p->end != TIDU_FORM_TOP && p->end >= i, "the parent ends after it");
		}
		if (q->type == TIDU_Q_SELECT_ONE || q->type == TIDU_Q_SELECT_MULTIPLE)
			check(q->list != NULL, "a select has its list");
	}
	tidu_form_free(f);
	return 0;
}
