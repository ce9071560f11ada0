/*
 * tidu_bench_xlsx: the contenders of benchmark h (tools/bench/run) that are
 * not the tidu command itself.
 *
 *   tidu_bench_xlsx expat FILE.xlsx    the baseline: libzip + libexpat alone
 *   tidu_bench_xlsx reader FILE.xlsx   tidu's workbook reader (xlsx.h) alone
 *   tidu_bench_xlsx form FILE.xlsx     tidu_form_read: the reader, the form
 *                                      model and every check of an import
 *   tidu_bench_xlsx loop N FILE.xlsx   each of the three N times in this
 *                                      process, interleaved; prints the
 *                                      median and minimum microseconds
 *
 * expat: the file read into memory, opened with libzip from that buffer (as
 * src/core/xlsx.c does), and every XML part a form reader needs parsed by a
 * plain expat parser (no namespace processing), streamed from the zip in
 * 64 KiB pieces: xl/workbook.xml, xl/_rels/workbook.xml.rels,
 * xl/sharedStrings.xml when there is one, and every part under
 * xl/worksheets/. Its handlers count cells that hold a value (a <c> with a
 * <v> or an <is>), shared strings (<si>), elements and text bytes; nothing
 * is kept. The same Debian libzip and libexpat as tidu.
 *
 * expat and reader print "cells N ..." (the cells with a value in all the
 * sheets, which run compares), form "rows N choices M" (survey rows read as
 * questions, groups and ends; choices of all lists).
 */
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <expat.h>
#include <zip.h>

#include "tidu/error.h"
#include "tidu/form.h"
#include "tidu/xlsx.h"

#define PIECE 65536

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "tidu_bench_xlsx: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/* ---- the baseline: libzip + expat ---- */

typedef struct {
	unsigned long cells, strings, elements, text, bytes;
	int in_c, c_has_value;
} counts;

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	counts *k = ud;

	(void)atts;
	k->elements++;
	if (name[0] == 'c' && !name[1]) {
		k->in_c = 1;
		k->c_has_value = 0;
	} else if (k->in_c && ((name[0] == 'v' && !name[1]) || !strcmp(name, "is"))) {
		k->c_has_value = 1;
	} else if (name[0] == 's' && name[1] == 'i' && !name[2]) {
		k->strings++;
	}
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	counts *k = ud;

	if (name[0] == 'c' && !name[1]) {
		k->cells += (unsigned long)k->c_has_value;
		k->in_c = 0;
	}
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	counts *k = ud;

	(void)s;
	k->text += (unsigned long)len;
}

static int wanted(const char *name)
{
	size_t n = strlen(name);

	return !strcmp(name, "xl/workbook.xml") || !strcmp(name, "xl/_rels/workbook.xml.rels") ||
	       !strcmp(name, "xl/sharedStrings.xml") ||
	       (!strncmp(name, "xl/worksheets/", 14) && n > 18 && !strcmp(name + n - 4, ".xml"));
}

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		die("cannot read", path);
	if (!(p = malloc((size_t)n + 1)) || fread(p, 1, (size_t)n, f) != (size_t)n)
		die("cannot read", path);
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void run_expat(const char *path, counts *k, unsigned long *parts)
{
	static char piece[PIECE];
	size_t len;
	void *data = read_file(path, &len);
	zip_error_t ze;
	zip_source_t *src;
	zip_t *z;
	zip_int64_t i, n;

	memset(k, 0, sizeof(*k));
	*parts = 0;
	zip_error_init(&ze);
	if (!(src = zip_source_buffer_create(data, len, 0, &ze)) ||
	    !(z = zip_open_from_source(src, ZIP_RDONLY, &ze)))
		die("not a zip", zip_error_strerror(&ze));
	n = zip_get_num_entries(z, 0);
	for (i = 0; i < n; i++) {
		const char *name = zip_get_name(z, (zip_uint64_t)i, 0);
		XML_Parser p;
		zip_file_t *zf;
		zip_int64_t got;

		if (!name || !wanted(name))
			continue;
		if (!(zf = zip_fopen_index(z, (zip_uint64_t)i, 0)))
			die("cannot open part", name);
		if (!(p = XML_ParserCreate(NULL)))
			die("out of memory", NULL);
		XML_SetUserData(p, k);
		XML_SetElementHandler(p, on_start, on_end);
		XML_SetCharacterDataHandler(p, on_text);
		do {
			if ((got = zip_fread(zf, piece, sizeof(piece))) < 0)
				die("damaged part", name);
			if (XML_Parse(p, piece, (int)got, got == 0) != XML_STATUS_OK)
				die(name, XML_ErrorString(XML_GetErrorCode(p)));
			k->bytes += (unsigned long)got;
		} while (got > 0);
		XML_ParserFree(p);
		zip_fclose(zf);
		(*parts)++;
	}
	zip_close(z);
	free(data);
}

/* ---- tidu ---- */

static void tidu_die(const char *what)
{
	die(what, tidu_error_message());
}

static unsigned long run_reader(const char *path, size_t *sheets)
{
	tidu_xlsx *x;
	unsigned long cells = 0;
	size_t i;

	if (tidu_xlsx_open(path, NULL, &x) < 0)
		tidu_die("tidu_xlsx_open");
	*sheets = tidu_xlsx_sheet_count(x);
	for (i = 0; i < *sheets; i++) {
		tidu_xlsx_sheet *s;
		size_t r, c;

		if (tidu_xlsx_sheet_read(x, i, &s) < 0)
			tidu_die("tidu_xlsx_sheet_read");
		for (r = 0; r < tidu_xlsx_rows(s); r++)
			for (c = 0; c < tidu_xlsx_cols(s); c++)
				cells += tidu_xlsx_cell(s, r, c) != NULL;
		tidu_xlsx_sheet_free(s);
	}
	tidu_xlsx_free(x);
	return cells;
}

static size_t run_form(const char *path, size_t *choices)
{
	tidu_form *f;
	size_t nq, i;

	if (tidu_form_read(path, &f) < 0)
		tidu_die("tidu_form_read");
	nq = f->nq;
	*choices = 0;
	for (i = 0; i < f->nlists; i++)
		*choices += f->lists[i].n;
	tidu_form_free(f);
	return nq;
}

/* ---- loop ---- */

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void loop(long n, const char *path)
{
	static const char *const names[3] = { "expat", "reader", "form" };
	double *t[3];
	long i;
	int k;

	for (k = 0; k < 3; k++)
		if (!(t[k] = calloc((size_t)n, sizeof(double))))
			die("out of memory", NULL);
	for (i = 0; i < n; i++) {
		for (k = 0; k < 3; k++) {
			int which = (int)((k + i) % 3); /* rotating, as run does */
			double t0 = now_us();
			counts c;
			unsigned long parts;
			size_t x;

			if (which == 0)
				run_expat(path, &c, &parts);
			else if (which == 1)
				(void)run_reader(path, &x);
			else
				(void)run_form(path, &x);
			t[which][i] = now_us() - t0;
		}
	}
	for (k = 0; k < 3; k++) {
		qsort(t[k], (size_t)n, sizeof(double), cmp_double);
		printf("%s %.1f %.1f\n", names[k],
		       n % 2 ? t[k][n / 2] : (t[k][n / 2 - 1] + t[k][n / 2]) / 2, t[k][0]);
		free(t[k]);
	}
}

int main(int argc, char **argv)
{
	/*
	 * The locale as the CLI sets it (src/cli/main.c): regcomp, which the
	 * expressions' regex() uses, works much harder in a UTF-8 locale.
	 */
	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C");
	if (argc == 3 && !strcmp(argv[1], "expat")) {
		counts k;
		unsigned long parts;

		run_expat(argv[2], &k, &parts);
		printf("cells %lu strings %lu elements %lu text %lu parts %lu bytes %lu\n", k.cells,
		       k.strings, k.elements, k.text, parts, k.bytes);
	} else if (argc == 3 && !strcmp(argv[1], "reader")) {
		size_t sheets;
		unsigned long cells = run_reader(argv[2], &sheets);

		printf("cells %lu sheets %zu\n", cells, sheets);
	} else if (argc == 3 && !strcmp(argv[1], "form")) {
		size_t choices, nq = run_form(argv[2], &choices);

		printf("rows %zu choices %zu\n", nq, choices);
	} else if (argc == 4 && !strcmp(argv[1], "loop")) {
		char *end;
		long n = strtol(argv[2], &end, 10);

		if (*end || n < 1 || n > 100000)
			die("loop: N must be 1 to 100000", NULL);
		loop(n, argv[3]);
	} else {
		fprintf(stderr, "usage: tidu_bench_xlsx expat|reader|form FILE.xlsx\n"
				"       tidu_bench_xlsx loop N FILE.xlsx\n");
		return 2;
	}
	return 0;
}
