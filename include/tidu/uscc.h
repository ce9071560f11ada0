#ifndef TIDU_USCC_H
#define TIDU_USCC_H
/*
 * Unified Social Credit Codes (统一社会信用代码, GB 32100-2015), the key of
 * every firm: 18 characters from "0123456789ABCDEFGHJKLMNPQRTUWXY" (no I,
 * O, S, V, Z); positions 3-8 are the region code (digits); the 18th is a
 * check character over the first 17 (see docs, domain.md section 4).
 */

#define TIDU_USCC_LEN 18

/*
 * Writes the normalised form of `in` to `out` (NUL-terminated): ASCII
 * whitespace trimmed at both ends, ASCII letters upper-cased, and the
 * fullwidth digits, letters and ideographic space a Chinese input method
 * produces (０-９, Ａ-Ｚ, ａ-ｚ, U+3000) folded to ASCII first. No other
 * check. Errors: TIDU_EINVAL if the result would be longer than 18
 * characters (message names the code and its length); `out` is then "".
 */
int tidu_uscc_normalize(const char *in, char out[TIDU_USCC_LEN + 1]);

/*
 * Normalises `in` as tidu_uscc_normalize() does, writes the result to `out`
 * and checks it. Returns 0 if it is a valid code, else TIDU_EINVAL with a
 * message naming the code and the first problem found, in this order:
 *   - its length when it is not 18 characters;
 *   - a character outside the alphabet in positions 1-17 (e.g. 'I');
 *   - positions 3-8 (region) not all digits;
 *   - a wrong 18th character, with the expected one (also when the 18th is
 *     outside the alphabet, as in the standard's "91350100M000100Y4Z").
 * `out` holds the normalised text even on failure (possibly "").
 */
int tidu_uscc_validate(const char *in, char out[TIDU_USCC_LEN + 1]);

/*
 * 1 if positions 3-6 of the (normalised) code are "4101", Zhengzhou;
 * else 0. Callers use it for a warning only: firms registered elsewhere
 * may still be in scope.
 */
/*
 * The check character for the first 17 characters of `code`, which must all
 * be in the USCC alphabet (used to make synthetic test and demo codes).
 */
char tidu_uscc_check_char(const char *code);

int tidu_uscc_region_is_zhengzhou(const char *code);

#endif
