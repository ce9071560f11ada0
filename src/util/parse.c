#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tidu/alloc.h"
#include "tidu/clock.h"
#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/parse.h"
#include "tidu/utf8.h"

/* Longest excerpt of a bad value quoted in a message. */
#define QUOTE_MAX 64

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Sets TIDU_EINVAL with `fmt`, whose one %s receives `value`, quoted safely. */
static int fail(const char *fmt, const char *value)
{
	tidu_buf q = TIDU_BUF_INIT;

	tidu_utf8_excerpt(&q, value, QUOTE_MAX);
	tidu_error_set(TIDU_EINVAL, fmt, tidu_buf_cstr(&q));
	tidu_buf_free(&q);
	return TIDU_EINVAL;
}

int tidu_parse_int64(const char *s, int64_t *out)
{
	const char *p = s;
	uint64_t v = 0, limit = INT64_MAX;
	int neg = 0;

	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
	}
	if (!is_digit(*p))
		return fail(_("invalid integer '%s'"), s);
	for (const char *q = p; *q; q++)
		if (!is_digit(*q))
			return fail(_("invalid integer '%s'"), s);
	if (neg)
		limit = (uint64_t)INT64_MAX + 1;
	for (; *p; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (limit - d) / 10)
			return fail(_("integer '%s' is out of range"), s);
		v = v * 10 + d;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

/*
 * The "C" locale for this thread while printf/strtod run, so that a
 * process locale with a decimal comma cannot change the text. newlocale()
 * of "C" is cheap in glibc (a static object).
 */
static locale_t enter_c_locale(locale_t *c)
{
	*c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	return *c ? uselocale(*c) : (locale_t)0;
}

static void leave_c_locale(locale_t c, locale_t old)
{
	if (c) {
		uselocale(old);
		freelocale(c);
	}
}

double tidu_strtod_c(const char *s, char **end)
{
	const char *p = s + (*s == '-');
	locale_t c, old;
	double v;

	/*
	 * A whole number of at most 15 digits is exact as a double: most
	 * numbers in answers and expressions, without the locale switch and
	 * strtod's general path. Anything else (a fraction, an exponent, hex,
	 * a sign '+', spaces, 16 digits or more) goes to strtod.
	 */
	if (*p >= '0' && *p <= '9') {
		const char *d = p;
		int64_t n = 0;

		while (*d >= '0' && *d <= '9' && d - p < 16)
			n = n * 10 + (*d++ - '0');
		if (d - p <= 15 && !(*d && strchr(".eExXpP0123456789", *d))) {
			if (end)
				*end = (char *)(uintptr_t)d;
			return *s == '-' ? -(double)n : (double)n;
		}
	}
	old = enter_c_locale(&c);
	v = strtod(s, end);

	leave_c_locale(c, old);
	return v;
}

/*
 * ECMAScript's Number::toString (also RFC 8785's JSON number form), given
 * the sign, the significant digits without trailing zeros and the exponent
 * n such that the value is 0.DIGITS x 10^n.
 */
static void put_es_number(tidu_buf *out, int neg, const char *digits, int n)
{
	int k = (int)strlen(digits), i;

	if (neg)
		tidu_buf_putc(out, '-');
	if (k <= n && n <= 21) {
		tidu_buf_puts(out, digits);
		for (i = k; i < n; i++)
			tidu_buf_putc(out, '0');
	} else if (0 < n && n <= 21) {
		tidu_buf_put(out, digits, (size_t)n);
		tidu_buf_putc(out, '.');
		tidu_buf_puts(out, digits + n);
	} else if (-6 < n && n <= 0) {
		tidu_buf_puts(out, "0.");
		for (i = n; i < 0; i++)
			tidu_buf_putc(out, '0');
		tidu_buf_puts(out, digits);
	} else {
		tidu_buf_putc(out, digits[0]);
		if (k > 1) {
			tidu_buf_putc(out, '.');
			tidu_buf_puts(out, digits + 1);
		}
		tidu_buf_printf(out, "e%c%d", n - 1 < 0 ? '-' : '+', n - 1 < 0 ? 1 - n : n - 1);
	}
}

/* The decimal digits of `v` into `d` (room for 20), most significant first; their number. */
static int put_digits(char *d, uint64_t v)
{
	char tmp[20];
	int k = 0, i;

	do {
		tmp[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < k; i++)
		d[i] = tmp[k - 1 - i];
	return k;
}

void tidu_format_int64(tidu_buf *out, int64_t v)
{
	char d[21];
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	int k = 0;

	if (v < 0)
		d[k++] = '-';
	k += put_digits(d + k, u);
	tidu_buf_put(out, d, (size_t)k);
}

/* Powers of ten that are exact doubles, for the few-decimals path. */
static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15
};

/*
 * The digits of |v| when it is the double nearest to m / 10^d for an
 * integer m of at most 15 digits and some d of 1 to 15 (17350.2, 48.1638:
 * stored figures and rounded ratios). Such a decimal is the only one of at
 * most 15 significant digits that reads as v, so it is what the search in
 * tidu_format_number() finds: the same bytes without printf or strtod.
 * The check is exact: 10^d and m are exact doubles and IEEE division is
 * correctly rounded, so m / 10^d == |v| says that |v| is the nearest double
 * to the decimal. 0 when no such d.
 */
static int few_decimals(double a, char digits[20], int *n)
{
	int d, k;

	for (d = 1; d <= 15 && a * pow10_exact[d] < 1e15; d++) {
		double m = nearbyint(a * pow10_exact[d]);

		if (m >= 1e15 || m / pow10_exact[d] != a)
			continue;
		k = put_digits(digits, (uint64_t)m);
		*n = k - d;
		while (k > 1 && digits[k - 1] == '0')
			k--;
		digits[k] = '\0';
		return 1;
	}
	return 0;
}

int tidu_format_number(tidu_buf *out, double v)
{
	char tmp[40], digits[20], *p, *e;
	locale_t c, old;
	int prec, exp10, n;
	size_t k = 0;

	if (!isfinite(v))
		return tidu_error_set(TIDU_EINVAL, "%s", _("a number is infinite or not a number"));
	if (v == 0) {
		tidu_buf_putc(out, '0'); /* -0 too, as ECMAScript does */
		return 0;
	}
	/*
	 * Whole numbers below 10^15 (most stored figures: counts, years, 万元
	 * amounts) are their own shortest form: no digit search, no locale
	 * switch. The bytes are the ones the search below would give.
	 */
	if (fabs(v) < 1e15 && v == (double)(long long)v) {
		tidu_format_int64(out, (int64_t)v);
		return 0;
	}
	if (fabs(v) < 1e15 && few_decimals(fabs(v), digits, &n)) {
		put_es_number(out, v < 0, digits, n);
		return 0;
	}
	/*
	 * The shortest of 15, 16 and 17 significant digits that reads back as
	 * v: any decimal of at most 15 digits survives a trip through a normal
	 * double (DBL_DIG), so this is the shortest of all. Subnormals have
	 * less precision: for them, search from 1 digit.
	 */
	old = enter_c_locale(&c);
	for (prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	leave_c_locale(c, old);
	/* tmp is "-d.ddde+XX": collect the digits, then the exponent. */
	e = strchr(tmp, 'e');
	for (p = tmp; p < e; p++)
		if (*p >= '0' && *p <= '9')
			digits[k++] = *p;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	exp10 = (int)strtol(e + 1, NULL, 10);
	put_es_number(out, v < 0, digits, exp10 + 1);
	return 0;
}

int tidu_parse_number(const char *s, double *out, tidu_buf *canonical)
{
	const char *p = s;
	int digits = 0, nonzero = 0;
	double v;

	if (*p == '+' || *p == '-')
		p++;
	for (; is_digit(*p); p++, digits++)
		nonzero |= *p != '0';
	if (*p == '.')
		for (p++; is_digit(*p); p++, digits++)
			nonzero |= *p != '0';
	if (!digits)
		return fail(_("invalid number '%s'"), s);
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!is_digit(*p))
			return fail(_("invalid number '%s'"), s);
		while (is_digit(*p))
			p++;
	}
	if (*p)
		return fail(_("invalid number '%s'"), s);
	v = tidu_strtod_c(s, NULL);
	if (!isfinite(v) || (v == 0 && nonzero))
		return fail(_("number '%s' is out of range"), s);
	if (v == 0)
		v = 0; /* no negative zero */
	if (canonical) {
		tidu_buf_clear(canonical);
		tidu_format_number(canonical, v);
	}
	*out = v;
	return 0;
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int tidu_parse_date(const char *s, int *y, int *m, int *d)
{
	int yy, mm, dd, i;

	for (i = 0; i < 10; i++) {
		if (i == 4 || i == 7 ? s[i] != '-' : !is_digit(s[i]))
			return fail(_("invalid date '%s' (expected YYYY-MM-DD)"), s);
	}
	if (s[10] != '\0')
		return fail(_("invalid date '%s' (expected YYYY-MM-DD)"), s);
	yy = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	mm = (s[5] - '0') * 10 + (s[6] - '0');
	dd = (s[8] - '0') * 10 + (s[9] - '0');
	if (yy < 1 || mm < 1 || mm > 12 || dd < 1 || dd > days_in_month(yy, mm))
		return fail(_("date '%s' does not exist"), s);
	if (y)
		*y = yy;
	if (m)
		*m = mm;
	if (d)
		*d = dd;
	return 0;
}

int tidu_date_today(char out[11])
{
	int64_t ms = tidu_clock_now_ms();
	/* Floor division: -1 ms is still 1969-12-31. */
	time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0));
	struct tm tm;
	char tmp[32];

	if (!localtime_r(&t, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot convert the current time to a date"));
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	memcpy(out, tmp, 11);
	return 0;
}

int tidu_date_start_ms(int y, int m, int d, int64_t *ms)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return tidu_error_set(TIDU_EINVAL, _("cannot place the date %04d-%02d-%02d"), y, m, d);
	*ms = (int64_t)t * 1000;
	return 0;
}

/* ASCII-only case-insensitive equality (strcasecmp depends on the locale). */
static int ascii_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
		char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;

		if (x != y)
			return 0;
	}
	return *a == *b;
}

int tidu_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"1", "true", "yes", "y", "\xe6\x98\xaf" /* 是 */};
	static const char *const no[] = {"0", "false", "no", "n", "\xe5\x90\xa6" /* 否 */};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (ascii_ieq(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (ascii_ieq(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return fail(_("invalid yes/no value '%s'"), s);
}

int tidu_parse_phone_valid(const char *s)
{
	int digits = 0;
	const char *p;

	for (p = s; *p; p++) {
		if (is_digit(*p))
			digits++;
		else if (*p != ' ' && *p != '+' && *p != '-')
			break;
	}
	if (*p || !digits) {
		fail(_("invalid phone number '%s'"), s);
		return 0;
	}
	return 1;
}

int tidu_parse_kv(const char *arg, tidu_kv *out, char **owned)
{
	char *copy, *eq;

	*owned = NULL;
	eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return tidu_error_set(TIDU_EINVAL,
			_("expected KEY=VALUE, got '%s'"), arg);
	copy = tidu_strdup(arg);
	eq = copy + (eq - arg);
	*eq = '\0';
	out->key = copy;
	out->value = eq + 1;
	*owned = copy;
	return 0;
}
