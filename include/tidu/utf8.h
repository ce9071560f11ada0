#ifndef TIDU_UTF8_H
#define TIDU_UTF8_H
/*
 * UTF-8. Everything tidu stores or prints is UTF-8; these helpers check it,
 * walk it and measure it for terminal output. None depends on the process
 * locale (field laptops often lack a generated zh_CN.UTF-8 locale).
 */
#include <stddef.h>
#include <stdint.h>

#include "tidu/buf.h"

/*
 * 1 if the `len` bytes at `s` are well-formed UTF-8, else 0. Overlong forms,
 * surrogates (U+D800..U+DFFF) and code points above U+10FFFF are rejected;
 * NUL bytes are accepted (they are valid UTF-8).
 */
int tidu_utf8_valid(const char *s, size_t len);

/*
 * Decodes the code point at the start of the `len` bytes at `s` into `*out`.
 * Returns its length in bytes (1 to 4), or 0 if the bytes there are not a
 * well-formed UTF-8 sequence (or `len` is 0); `*out` is then untouched.
 */
int tidu_utf8_decode(const char *s, size_t len, uint32_t *out);

/*
 * Writes the UTF-8 form of `cp` into `out` (not NUL-terminated). Returns the
 * number of bytes (1 to 4), or 0 for a surrogate or a value above U+10FFFF.
 */
int tidu_utf8_encode(uint32_t cp, char out[4]);

/*
 * Terminal columns of one code point: 0 for combining marks, format and
 * control characters, 2 for East Asian wide and fullwidth characters (CJK,
 * Hangul, fullwidth forms, most emoji), 1 otherwise. Unicode 14 tables.
 */
int tidu_utf8_cp_columns(uint32_t cp);

/*
 * Terminal columns the C string `s` occupies, for aligning table output:
 * tidu_utf8_columns("郑州 ok") == 7. Each byte that is not part of valid
 * UTF-8 counts as one column (terminals show a replacement character).
 */
size_t tidu_utf8_columns(const char *s);

/*
 * Appends to `out` a copy of `s` that is safe to show inside a one-line
 * message: at most `max_bytes` bytes of it, cut at a character boundary
 * and followed by "..." when cut; control characters and invalid bytes
 * shown as '?'. For quoting user data such as CSV fields in errors.
 */
void tidu_utf8_excerpt(tidu_buf *out, const char *s, size_t max_bytes);

/*
 * 1 if `cp` is a character a terminal would interpret rather than show, or
 * that reorders or breaks the line around it: C0 controls (U+0000..U+001F),
 * DEL, C1 controls (U+0080..U+009F), the line and paragraph separators
 * U+2028/U+2029 and the bidirectional controls (U+061C, U+200E, U+200F,
 * U+202A..U+202E, U+2066..U+2069). Single-line fields refuse them at input.
 */
int tidu_utf8_is_control(uint32_t cp);

/*
 * The first control character (tidu_utf8_is_control) or invalid byte in
 * the `len` bytes at `s`, as a byte offset, or -1 if there is none. With
 * `multiline`, newline and tab are allowed (a note may hold them).
 */
long tidu_utf8_find_control(const char *s, size_t len, int multiline);

/* tidu_utf8_safe() flags. */
#define TIDU_SAFE_MULTILINE 1u /* keep newline and tab as they are */

/*
 * Appends to `out` the `len` bytes at `s` made safe to print on a terminal:
 * every character tidu_utf8_is_control() names is shown as a visible escape
 * instead (\n, \r, \t, \e for ESC, \xNN for other controls below U+00A0,
 * \u{XXXX} above) and every invalid byte as \xNN; everything else is copied
 * byte for byte. With TIDU_SAFE_MULTILINE, newline and tab are kept. The one
 * function every printer of user or peer data goes through.
 */
void tidu_utf8_safe(tidu_buf *out, const char *s, size_t len, unsigned flags);

#endif
