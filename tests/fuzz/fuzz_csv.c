/*
 * Fuzz target for the CSV reader (csv.h): the encoding step
 * (tidu_csv_to_utf8) and the parser (tidu_csv_parse, _parse_sep), which
 * read every `tidu firm import` file.
 *
 * Byte 0 picks the separator (',' '\t' ';'); the rest is the file. Checks:
 *  1. tidu_csv_to_utf8: on success the result is valid UTF-8 without NUL,
 *     the encoding one of the four documented names, and valid UTF-8 input
 *     (no BOM, no NUL) is copied as is;
 *  2. the parser on the raw bytes and on the converted text (exact-size
 *     copies, so a read past the end is an ASan error): on success the
 *     input was valid UTF-8 without NUL; every record has at least one
 *     field, every field is valid UTF-8, out-of-range indexes give NULL and
 *     0, record lines are at least 1 and never go backwards;
 *  3. the records written back (every field quoted, CRLF) parse to the same
 *     records.
 * A broken invariant aborts. Built with libFuzzer (TIDU_FUZZ=ON, clang) and
 * as a corpus replay under ctest (tests/CMakeLists.txt).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "tidu/buf.h"
#include "tidu/csv.h"
#include "tidu/error.h"
#include "tidu/utf8.h"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_csv: %s (%s)\n", what, tidu_error_message());
		abort();
	}
}

static char *dup_exact(const void *p, size_t n)
{
	char *c = malloc(n ? n : 1);

	if (!c)
		abort();
	if (n)
		memcpy(c, p, n);
	return c;
}

static int has_nul(const char *s, size_t n)
{
	return n && memchr(s, 0, n) != NULL;
}

static void write_back(const tidu_csv *csv, char sep, tidu_buf *out)
{
	size_t r, f, nr = tidu_csv_record_count(csv);

	for (r = 0; r < nr; r++) {
		for (f = 0; f < tidu_csv_field_count(csv, r); f++) {
			const char *s = tidu_csv_field(csv, r, f);

			if (f)
				tidu_buf_putc(out, sep);
			tidu_buf_putc(out, '"');
			for (; *s; s++) {
				if (*s == '"')
					tidu_buf_putc(out, '"');
				tidu_buf_putc(out, *s);
			}
			tidu_buf_putc(out, '"');
		}
		tidu_buf_puts(out, "\r\n");
	}
}

static int same(const tidu_csv *a, const tidu_csv *b)
{
	size_t r, f;

	if (tidu_csv_record_count(a) != tidu_csv_record_count(b))
		return 0;
	for (r = 0; r < tidu_csv_record_count(a); r++) {
		if (tidu_csv_field_count(a, r) != tidu_csv_field_count(b, r))
			return 0;
		for (f = 0; f < tidu_csv_field_count(a, r); f++)
			if (strcmp(tidu_csv_field(a, r, f), tidu_csv_field(b, r, f)) != 0)
				return 0;
	}
	return 1;
}

static void parse_checked(const char *text, size_t len, char sep)
{
	char *copy = dup_exact(text, len);
	tidu_csv *csv = NULL, *again = NULL;
	tidu_buf back = TIDU_BUF_INIT;
	size_t r, f, nr, line = 0;
	const char *back_text;
	int rc;

	rc = sep == ',' ? tidu_csv_parse(copy, len, &csv)
			: tidu_csv_parse_sep(copy, len, sep, &csv);
	if (rc < 0) {
		check(csv == NULL && rc == TIDU_EINVAL && *tidu_error_message(),
		      "failure is EINVAL with a message and no result");
		goto done;
	}
	check(csv != NULL, "a result on success");
	check(tidu_utf8_valid(copy, len) && !has_nul(copy, len),
	      "the input was valid UTF-8 without NUL");
	nr = tidu_csv_record_count(csv);
	for (r = 0; r < nr; r++) {
		size_t nf = tidu_csv_field_count(csv, r);

		check(nf >= 1, "a record has a field");
		check(tidu_csv_line(csv, r) >= 1 && tidu_csv_line(csv, r) > line,
		      "record lines go forward");
		line = tidu_csv_line(csv, r);
		for (f = 0; f < nf; f++) {
			const char *s = tidu_csv_field(csv, r, f);

			check(s && tidu_utf8_valid(s, strlen(s)), "field");
		}
		check(tidu_csv_field(csv, r, nf) == NULL, "field past the end");
	}
	check(tidu_csv_field_count(csv, nr) == 0 && tidu_csv_field(csv, nr, 0) == NULL &&
	      tidu_csv_line(csv, nr) == 0, "record past the end");
	write_back(csv, sep, &back);
	/* Not back.ptr itself: an empty buffer's is NULL, and tidu_csv_parse
	 * (NULL, 0) reaches memchr(NULL, ...) (undefined; reported). */
	back_text = back.ptr ? back.ptr : "";
	rc = sep == ',' ? tidu_csv_parse(back_text, back.len, &again)
			: tidu_csv_parse_sep(back_text, back.len, sep, &again);
	check(rc == 0, "the written-back file parses");
	check(same(csv, again), "the written-back file gives the same records");
done:
	tidu_csv_free(csv);
	tidu_csv_free(again);
	tidu_buf_free(&back);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char seps[3] = { ',', '\t', ';' };
	tidu_buf utf8 = TIDU_BUF_INIT;
	const char *enc = NULL;
	char sep, *copy;
	int rc;

	if (size == 0)
		return 0;
	sep = seps[data[0] % 3];
	data++;
	size--;
	copy = dup_exact(data, size);
	rc = tidu_csv_to_utf8(copy, size, &utf8, &enc);
	if (rc == 0) {
		check(enc && (!strcmp(enc, "UTF-8") || !strcmp(enc, "UTF-16LE") ||
			      !strcmp(enc, "UTF-16BE") || !strcmp(enc, "GB18030")),
		      "encoding name");
		check(tidu_utf8_valid(utf8.ptr, utf8.len) && !has_nul(utf8.ptr, utf8.len),
		      "converted text is UTF-8 without NUL");
		if (tidu_utf8_valid(copy, size) && !has_nul(copy, size) &&
		    !(size >= 3 && !memcmp(copy, "\xef\xbb\xbf", 3)))
			check(utf8.len == size && (!size || !memcmp(utf8.ptr, copy, size)),
			      "UTF-8 is copied as is");
		parse_checked(utf8.ptr ? utf8.ptr : "", utf8.len, sep);
	} else {
		check(rc == TIDU_EINVAL || rc == TIDU_ERROR, "conversion error code");
	}
	parse_checked(copy, size, sep);
	tidu_buf_free(&utf8);
	free(copy);
	return 0;
}
