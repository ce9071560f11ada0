#ifndef TIDU_PARSE_H
#define TIDU_PARSE_H
/*
 * Strict parsers for values typed by officers or read from files, and the
 * canonical text forms tidu stores. All are independent of the process
 * locale: the decimal separator is always '.'.
 *
 * Every parser returns 0, or TIDU_EINVAL after setting a message that names
 * the bad value, e.g. "invalid number '12abc'"; callers may add the field.
 * Out-parameters are written only on success.
 */
#include <stdint.h>

#include "tidu/buf.h"

/*
 * Parses a decimal integer: an optional '+' or '-' and the digits 0-9, and
 * nothing else (no spaces, no "0x", no thousands separators). Errors:
 * TIDU_EINVAL for anything else or a value outside int64_t.
 */
int tidu_parse_int64(const char *s, int64_t *out);

/*
 * Parses a finite decimal number: optional sign, digits with an optional
 * '.' fraction (".5" and "5." are accepted), optional exponent ("1e3",
 * "2.5E-2"). Rejected with TIDU_EINVAL: "", " 1", "1,000", "0x10", "inf",
 * "nan", "12abc", values that overflow ("1e999") or that underflow to zero
 * ("1e-999").
 *
 * If `canonical` is not NULL it is cleared and set to the canonical text of
 * the value (see tidu_format_number): "1234.50" -> "1234.5", "1e3" ->
 * "1000", "-0" -> "0". A negative zero is stored in `*out` as 0.
 */
int tidu_parse_number(const char *s, double *out, tidu_buf *canonical);

/*
 * Appends to `out` the canonical text of `v`: ECMAScript's Number to
 * String conversion, which RFC 8785 (JSON canonicalization) also uses.
 * The digits are the shortest that read back as exactly `v` (the first of
 * 15, 16, 17 significant digits that round-trips; from 1 digit for
 * subnormals, as 5e-324); plain decimal notation
 * is used for 1e-7 <= |v| < 1e21, exponent notation otherwise:
 *   1000 -> "1000", 1234.5 -> "1234.5", 0.1 -> "0.1", -0 -> "0",
 *   1e20 -> "100000000000000000000", 1e21 -> "1e+21", 1e-7 -> "1e-7",
 *   123456789012345678 -> "123456789012345680".
 * The result is valid JSON. Errors: TIDU_EINVAL for an infinity or NaN
 * (nothing appended).
 */
int tidu_format_number(tidu_buf *out, double v);

/* Appends the decimal text of `v` ("-12", "0"), as printf's "%" PRId64 would. */
void tidu_format_int64(tidu_buf *out, int64_t v);

/*
 * strtod() in the "C" locale whatever the process locale is. For callers
 * that have checked the syntax themselves (the JSON parser). No message.
 */
double tidu_strtod_c(const char *s, char **end);

/*
 * Parses a date written exactly YYYY-MM-DD (4-2-2 digits, year 0001-9999)
 * that exists in the Gregorian calendar: "2024-02-29" is accepted,
 * "2025-02-29", "2025-13-01" and "2025-1-1" are not. Any of y, m, d may be
 * NULL. Errors: TIDU_EINVAL.
 */
int tidu_parse_date(const char *s, int *y, int *m, int *d);

/*
 * Writes today's date in local time as "YYYY-MM-DD" (NUL-terminated) to
 * `out`. "Now" is tidu_clock_now_ms(), so TIDU_FAKE_NOW_MS applies.
 * Errors: TIDU_ERROR if the time cannot be converted.
 */
int tidu_date_today(char out[11]);

/*
 * The start of local day y-m-d (midnight, local time) in Unix ms, as the
 * change log's wall clock counts. Errors: TIDU_EINVAL for a date mktime
 * cannot place.
 */
int tidu_date_start_ms(int y, int m, int d, int64_t *ms);

/*
 * Parses a yes/no answer: "1", "true", "yes", "y", "是" give 1; "0",
 * "false", "no", "n", "否" give 0 (ASCII case-insensitive, no spaces). The
 * canonical stored text is "1" or "0". Errors: TIDU_EINVAL.
 */
int tidu_parse_bool(const char *s, int *out);

/*
 * 1 if `s` looks like a phone number: only digits, spaces, '+' and '-',
 * with at least one digit. Otherwise 0, after setting a TIDU_EINVAL
 * message naming the value (so callers may return TIDU_EINVAL directly).
 */
int tidu_parse_phone_valid(const char *s);

/*
 * One KEY=VALUE pair of a command line (a field of a record: for firms KEY is
 * a firm field, or YEAR.KEY for a firm-year field).
 */
typedef struct {
	const char *key;
	const char *value; /* "" clears the field */
} tidu_kv;

/*
 * Splits "KEY=VALUE" at the first '='. TIDU_EINVAL if there is no '=' or the
 * key is empty. `out` points into `arg`'s copy held in *owned (free it).
 */
int tidu_parse_kv(const char *arg, tidu_kv *out, char **owned);

#endif
