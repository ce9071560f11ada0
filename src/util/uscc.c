#include <stdint.h>
#include <string.h>

#include "tidu/buf.h"
#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/uscc.h"
#include "tidu/utf8.h"

static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

/* Value of `c` in the alphabet, or -1. */
static int value_of(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p ? (int)(p - alphabet) : -1;
}

static int is_space(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' ||
	       cp == '\f' || cp == 0x3000;
}

/* Folds fullwidth ASCII forms (U+FF01..U+FF5E) and U+3000 to ASCII. */
static uint32_t fold(uint32_t cp)
{
	if (cp >= 0xFF01 && cp <= 0xFF5E)
		cp -= 0xFEE0;
	else if (cp == 0x3000)
		cp = ' ';
	if (cp >= 'a' && cp <= 'z')
		cp -= 32;
	return cp;
}

/* Quotes `s` for a message; `q` must be freed. */
static const char *quote(tidu_buf *q, const char *s)
{
	tidu_utf8_excerpt(q, s, 64);
	return tidu_buf_cstr(q);
}

/*
 * Normalises into `norm`; returns the number of characters (not bytes),
 * counting each invalid byte as one character.
 */
static size_t normalize(tidu_buf *norm, const char *in)
{
	size_t len = strlen(in), i = 0, chars = 0, keep = 0, keep_chars = 0;
	uint32_t cp;
	char enc[4];
	int n;

	/* Leading spaces. */
	while (i < len) {
		n = tidu_utf8_decode(in + i, len - i, &cp);
		if (n == 0 || !is_space(cp))
			break;
		i += (size_t)n;
	}
	while (i < len) {
		n = tidu_utf8_decode(in + i, len - i, &cp);
		if (n == 0) {
			tidu_buf_putc(norm, in[i]);
			i++;
		} else {
			cp = fold(cp);
			tidu_buf_put(norm, enc, (size_t)tidu_utf8_encode(cp, enc));
			i += (size_t)n;
		}
		chars++;
		if (n == 0 || !is_space(cp)) {
			keep = norm->len;
			keep_chars = chars;
		}
	}
	/* Trailing spaces. */
	tidu_buf_truncate(norm, keep);
	return keep_chars;
}

/* "'X' is not allowed" for the character at byte `i` of `code`. */
static int bad_char(const char *code, size_t len, size_t i)
{
	tidu_buf q = TIDU_BUF_INIT, bad = TIDU_BUF_INIT;
	uint32_t cp;
	int n = tidu_utf8_decode(code + i, len - i, &cp);

	if (n == 0 || cp < 0x20 || cp == 0x7f)
		tidu_buf_printf(&bad, "\\x%02X", (unsigned char)code[i]);
	else
		tidu_buf_put(&bad, code + i, (size_t)n);
	tidu_error_set(TIDU_EINVAL, _("invalid credit code '%s': '%s' is not allowed"),
		       quote(&q, code), tidu_buf_cstr(&bad));
	tidu_buf_free(&q);
	tidu_buf_free(&bad);
	return TIDU_EINVAL;
}

static int bad_length(const char *in, size_t chars)
{
	tidu_buf q = TIDU_BUF_INIT;

	tidu_error_set(TIDU_EINVAL, _("invalid credit code '%s': %zu characters instead of 18"),
		       quote(&q, in), chars);
	tidu_buf_free(&q);
	return TIDU_EINVAL;
}

/* Index of the first byte of `code` that is not in the alphabet, or `len`. */
static size_t first_bad(const char *code, size_t len)
{
	size_t i;

	for (i = 0; i < len && value_of(code[i]) >= 0; i++)
		;
	return i;
}

int tidu_uscc_normalize(const char *in, char out[TIDU_USCC_LEN + 1])
{
	tidu_buf norm = TIDU_BUF_INIT;
	size_t chars = normalize(&norm, in);
	int error = 0;

	out[0] = '\0';
	if (chars > TIDU_USCC_LEN) {
		error = bad_length(in, chars);
		goto done;
	}
	if (norm.len > TIDU_USCC_LEN) {
		/* Few enough characters, but some are not ASCII. */
		error = bad_char(norm.ptr, norm.len, first_bad(norm.ptr, norm.len));
		goto done;
	}
	memcpy(out, tidu_buf_cstr(&norm), norm.len + 1);
done:
	tidu_buf_free(&norm);
	return error;
}

/* The check character of the first 17 characters (all in the alphabet). */
char tidu_uscc_check_char(const char *code)
{
	int sum = 0, i;

	for (i = 0; i < 17; i++)
		sum += value_of(code[i]) * weights[i];
	return alphabet[(31 - sum % 31) % 31];
}

int tidu_uscc_validate(const char *in, char out[TIDU_USCC_LEN + 1])
{
	tidu_buf norm = TIDU_BUF_INIT;
	size_t chars = normalize(&norm, in), i, limit;
	const char *code = tidu_buf_cstr(&norm);
	int error = 0;
	char expected;

	out[0] = '\0';
	if (norm.len <= TIDU_USCC_LEN)
		memcpy(out, code, norm.len + 1);
	if (chars != TIDU_USCC_LEN) {
		error = bad_length(in, chars);
		goto done;
	}
	/*
	 * 18 characters in more than 18 bytes hold a non-ASCII one, which is
	 * not allowed anywhere. In 18 bytes, a bad 18th character is reported
	 * as a wrong check character below, with the expected one.
	 */
	limit = norm.len == TIDU_USCC_LEN ? 17 : norm.len;
	if ((i = first_bad(code, limit)) < limit) {
		error = bad_char(code, norm.len, i);
		goto done;
	}
	for (i = 2; i < 8; i++) {
		if (code[i] < '0' || code[i] > '9') {
			error = tidu_error_set(TIDU_EINVAL,
					       _("invalid credit code '%s': positions 3-8 must be digits"),
					       code);
			goto done;
		}
	}
	expected = tidu_uscc_check_char(code);
	if (code[17] != expected) {
		error = tidu_error_set(TIDU_EINVAL,
				       _("invalid credit code '%s': wrong check character '%c', expected '%c'"),
				       code, code[17], expected);
		goto done;
	}
done:
	tidu_buf_free(&norm);
	return error;
}

int tidu_uscc_region_is_zhengzhou(const char *code)
{
	return strlen(code) >= 6 && memcmp(code + 2, "4101", 4) == 0;
}
