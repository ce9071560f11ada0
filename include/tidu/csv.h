#ifndef TIDU_CSV_H
#define TIDU_CSV_H
/*
 * CSV files (RFC 4180) as Excel and WPS write them, read whole from memory.
 *
 * Reading a file is two steps: tidu_csv_to_utf8() turns whatever encoding
 * the spreadsheet used into UTF-8, then tidu_csv_parse() splits it.
 */
#include <stddef.h>

#include "tidu/buf.h"
#include "tidu/error.h"

/*
 * Converts the `len` bytes at `data` to UTF-8, into `out` (cleared first).
 * Detection, in order:
 *   - UTF-16LE or UTF-16BE with a byte order mark (Excel's "Unicode text");
 *   - a UTF-8 byte order mark, which is dropped: the rest must be UTF-8;
 *   - valid UTF-8 (ASCII included), copied as is;
 *   - valid GB18030 (a superset of GBK and GB2312: what Excel and WPS save
 *     as "CSV" on Chinese Windows), converted with iconv.
 * If `encoding_out` is not NULL it receives the encoding found, a static
 * string: "UTF-8", "UTF-16LE", "UTF-16BE" or "GB18030".
 * Errors: TIDU_EINVAL "file is neither UTF-8 nor GBK/GB18030" (also for
 * malformed UTF-16, or a NUL byte in the result, which no CSV text holds);
 * TIDU_ERROR if iconv is not usable.
 */
int tidu_csv_to_utf8(const char *data, size_t len, tidu_buf *out,
		     const char **encoding_out) TIDU_WUR;

/* A parsed CSV file. Opaque; strings it hands out are borrowed from it. */
typedef struct tidu_csv tidu_csv;

/*
 * Parses the `len` bytes of UTF-8 text at `utf8` (no NUL needed; a leading
 * UTF-8 byte order mark is skipped) and stores the result, owned by the
 * caller, in `*out` (release with tidu_csv_free()).
 *
 * Fields are separated by ','; a field starting with '"' is quoted and may
 * hold ',', '""' (one '"'), and CR, LF or CRLF newlines, kept as written.
 * A '"' inside an unquoted field is kept as a literal. Records end at LF
 * or CRLF (a bare CR outside quotes is data, except as the very last byte).
 * Fields are not trimmed.
 * Empty lines (no bytes at all) are skipped anywhere, so a trailing newline
 * or blank lines at the end make no record; a line of only commas does.
 * Each record remembers the 1-based line on which it starts (lines counted
 * by LF, including those inside quoted fields).
 *
 * Errors: TIDU_EINVAL naming the line for an unterminated quoted field
 * ("unterminated quoted field starting on line 4"), text after a closing
 * quote ('"ab"c'), a NUL byte, or invalid UTF-8; `*out` is then NULL.
 */
int tidu_csv_parse(const char *utf8, size_t len, tidu_csv **out) TIDU_WUR;

/*
 * As tidu_csv_parse() with `sep` as the field separator instead of ',':
 * '\t' for Excel's "Unicode text" (tab-separated) files, ';' for Excel in
 * some European locales. `sep` must not be '"', CR or LF.
 */
int tidu_csv_parse_sep(const char *utf8, size_t len, char sep, tidu_csv **out) TIDU_WUR;

/* Frees a parsed file. NULL is a no-op. */
void tidu_csv_free(tidu_csv *csv);

/* Number of records (the header line, if any, is record 0). */
size_t tidu_csv_record_count(const tidu_csv *csv);

/* Number of fields of record `rec` (at least 1), or 0 if out of range. */
size_t tidu_csv_field_count(const tidu_csv *csv, size_t rec);

/*
 * Field `field` of record `rec` as a NUL-terminated UTF-8 string, without
 * the quotes and with '""' undone. NULL if either index is out of range.
 */
const char *tidu_csv_field(const tidu_csv *csv, size_t rec, size_t field);

/* The 1-based line on which record `rec` starts, or 0 if out of range. */
size_t tidu_csv_line(const tidu_csv *csv, size_t rec);

/*
 * Appends `s` as one CSV cell (RFC 4180 quoting), then ',' or, when `last`,
 * CRLF. A cell starting with = + - @ gets a leading ' so that Excel, WPS
 * and LibreOffice show it as text instead of running it as a formula.
 */
void tidu_csv_put_cell(tidu_buf *out, const char *s, int last);

#endif
