#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "tidu/alloc.h"
#include "tidu/csv.h"
#include "tidu/i18n.h"
#include "tidu/utf8.h"

/* ================================================================== */
/* Encodings                                                           */
/* ================================================================== */

/*
 * Converts with iconv; every input byte must convert (no //IGNORE, no
 * //TRANSLIT). Returns 0, 1 if the input is not in `from`, or TIDU_ERROR.
 */
static int convert(const char *from, const char *data, size_t len, tidu_buf *out)
{
	iconv_t cd = iconv_open("UTF-8", from);
	char *in = (char *)data; /* iconv's prototype is not const-correct */
	size_t in_left = len;
	int result = 0;

	if (cd == (iconv_t)-1)
		return tidu_error_set(TIDU_ERROR, _("cannot convert from '%s': %s"), from,
				      strerror(errno));
	/* Each input byte gives at most 3 bytes of UTF-8 (GB18030 4 -> 4). */
	tidu_buf_grow(out, len + len / 2 + 16);
	while (in_left > 0) {
		char *o = out->ptr + out->len;
		size_t o_left = out->cap - out->len - 1, before = o_left;
		size_t r = iconv(cd, &in, &in_left, &o, &o_left);

		out->len += before - o_left;
		out->ptr[out->len] = '\0';
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG) {
			tidu_buf_grow(out, in_left * 2 + 16);
			continue;
		}
		result = 1; /* EILSEQ or EINVAL (truncated sequence at the end) */
		break;
	}
	iconv_close(cd);
	return result;
}

static int not_text(void)
{
	return tidu_error_set(TIDU_EINVAL, "%s", _("file is neither UTF-8 nor GBK/GB18030"));
}

int tidu_csv_to_utf8(const char *data, size_t len, tidu_buf *out, const char **encoding_out)
{
	const unsigned char *u = (const unsigned char *)data;
	const char *encoding;
	int r;

	tidu_buf_clear(out);
	if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
		encoding = u[0] == 0xFF ? "UTF-16LE" : "UTF-16BE";
		if ((r = convert(encoding, data + 2, len - 2, out)) < 0)
			return r;
		if (r > 0 || (len % 2) != 0)
			goto not_text;
	} else if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		encoding = "UTF-8";
		if (!tidu_utf8_valid(data + 3, len - 3))
			goto not_text;
		tidu_buf_put(out, data + 3, len - 3);
	} else if (tidu_utf8_valid(data, len)) {
		encoding = "UTF-8";
		tidu_buf_put(out, data, len);
	} else {
		encoding = "GB18030";
		if ((r = convert(encoding, data, len, out)) < 0)
			return r;
		if (r > 0)
			goto not_text;
	}
	/* A NUL byte: UTF-16 without a byte order mark, or a binary file. */
	if (out->len && memchr(out->ptr, '\0', out->len))
		goto not_text;
	if (!out->ptr)
		tidu_buf_grow(out, 0);
	if (encoding_out)
		*encoding_out = encoding;
	return 0;
not_text:
	tidu_buf_clear(out);
	return not_text();
}

/* ================================================================== */
/* Parser                                                              */
/* ================================================================== */

typedef struct {
	size_t first; /* index of its first field in fields[] */
	size_t count; /* number of fields */
	size_t line;  /* 1-based line where it starts */
} record;

struct tidu_csv {
	tidu_buf text;  /* every field, each NUL-terminated */
	size_t *fields; /* offset of each field in text */
	size_t field_count, field_cap;
	record *records;
	size_t record_count, record_cap;
};

static void add_field(tidu_csv *csv, size_t offset)
{
	if (csv->field_count == csv->field_cap) {
		csv->field_cap = csv->field_cap ? csv->field_cap * 2 : 64;
		csv->fields = tidu_reallocarray(csv->fields, csv->field_cap, sizeof(size_t));
	}
	csv->fields[csv->field_count++] = offset;
}

static void add_record(tidu_csv *csv, size_t first, size_t line)
{
	record *r;

	if (csv->record_count == csv->record_cap) {
		csv->record_cap = csv->record_cap ? csv->record_cap * 2 : 16;
		csv->records = tidu_reallocarray(csv->records, csv->record_cap, sizeof(record));
	}
	r = &csv->records[csv->record_count++];
	r->first = first;
	r->count = csv->field_count - first;
	r->line = line;
}

int tidu_csv_parse_sep(const char *s, size_t len, char sep, tidu_csv **out)
{
	tidu_csv *csv = tidu_calloc(1, sizeof(*csv));
	size_t i = 0, line = 1;
	int error = 0;

	*out = NULL;
	if (sep == '"' || sep == '\r' || sep == '\n' || sep == '\0') {
		error = tidu_error_set(TIDU_EINVAL, "%s", _("invalid CSV field separator"));
		goto done;
	}
	if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	if (memchr(s + i, '\0', len - i)) {
		size_t at = (size_t)((const char *)memchr(s + i, '\0', len - i) - s), l = 1;

		for (size_t k = 0; k < at; k++)
			l += s[k] == '\n';
		error = tidu_error_set(TIDU_EINVAL, _("NUL byte on line %zu: not a text file"), l);
		goto done;
	}
	if (!tidu_utf8_valid(s + i, len - i)) {
		error = tidu_error_set(TIDU_EINVAL, "%s", _("file is not valid UTF-8"));
		goto done;
	}
	tidu_buf_grow(&csv->text, len - i + 1);

	while (i < len) {
		size_t first = csv->field_count, start_line = line;

		/* An empty line (LF or CRLF alone) is no record. */
		if (s[i] == '\n') {
			i++;
			line++;
			continue;
		}
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') {
			i += 2;
			line++;
			continue;
		}
		/* One record: fields until LF, CRLF or the end. */
		for (;;) {
			add_field(csv, csv->text.len);
			if (i < len && s[i] == '"') {
				size_t quote_line = line;

				i++;
				for (;;) {
					if (i >= len) {
						error = tidu_error_set(TIDU_EINVAL,
							_("unterminated quoted field starting on line %zu"),
							quote_line);
						goto done;
					}
					if (s[i] == '"') {
						if (i + 1 < len && s[i + 1] == '"') {
							tidu_buf_putc(&csv->text, '"');
							i += 2;
							continue;
						}
						i++;
						break;
					}
					line += s[i] == '\n';
					tidu_buf_putc(&csv->text, s[i++]);
				}
				if (i < len && s[i] != sep && s[i] != '\n' &&
				    !(s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') &&
				    !(s[i] == '\r' && i + 1 == len)) {
					error = tidu_error_set(TIDU_EINVAL,
						_("unexpected text after a closing quote on line %zu"),
						line);
					goto done;
				}
			} else {
				size_t run = i;

				while (i < len && s[i] != sep && s[i] != '\n' &&
				       !(s[i] == '\r' && (i + 1 == len || s[i + 1] == '\n')))
					i++;
				tidu_buf_put(&csv->text, s + run, i - run);
			}
			tidu_buf_putc(&csv->text, '\0');
			if (i < len && s[i] == sep) {
				i++;
				continue;
			}
			break;
		}
		add_record(csv, first, start_line);
		/* The end of the record: LF, CRLF, a final CR, or the end. */
		if (i < len && s[i] == '\r')
			i++;
		if (i < len && s[i] == '\n') {
			i++;
			line++;
		}
	}
	*out = csv;
	csv = NULL;
done:
	tidu_csv_free(csv);
	return error;
}

int tidu_csv_parse(const char *utf8, size_t len, tidu_csv **out)
{
	return tidu_csv_parse_sep(utf8, len, ',', out);
}

void tidu_csv_free(tidu_csv *csv)
{
	if (!csv)
		return;
	tidu_buf_free(&csv->text);
	free(csv->fields);
	free(csv->records);
	free(csv);
}

size_t tidu_csv_record_count(const tidu_csv *csv)
{
	return csv->record_count;
}

size_t tidu_csv_field_count(const tidu_csv *csv, size_t rec)
{
	return rec < csv->record_count ? csv->records[rec].count : 0;
}

const char *tidu_csv_field(const tidu_csv *csv, size_t rec, size_t field)
{
	if (rec >= csv->record_count || field >= csv->records[rec].count)
		return NULL;
	return csv->text.ptr + csv->fields[csv->records[rec].first + field];
}

size_t tidu_csv_line(const tidu_csv *csv, size_t rec)
{
	return rec < csv->record_count ? csv->records[rec].line : 0;
}

void tidu_csv_put_cell(tidu_buf *out, const char *s, int last)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		tidu_buf_putc(out, '"');
	/* A cell a spreadsheet would run as a formula is kept as text. */
	if (strchr("=+-@", s[0]) && s[0])
		tidu_buf_putc(out, '\'');
	for (; *s; s++) {
		if (*s == '"')
			tidu_buf_putc(out, '"');
		tidu_buf_putc(out, *s);
	}
	if (quote)
		tidu_buf_putc(out, '"');
	tidu_buf_puts(out, last ? "\r\n" : ",");
}
