/*
 * Unit tests: uscc.h. Every row of tests/unit/data/uscc_vectors.csv (a copy
 * of shared/data/uscc_vectors.csv) is checked. TIDU_SHARED=<dir> in the
 * environment checks <dir>/data/uscc_vectors.csv instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tidu/buf.h"
#include "tidu/csv.h"
#include "tidu/error.h"
#include "tidu/uscc.h"

/* The directory of the tests' data files. */
static void data_dir(tidu_buf *out)
{
#ifdef TIDU_SOURCE_DIR
	tidu_buf_puts(out, TIDU_SOURCE_DIR "/tests/unit/data");
#else
	const char *slash = strrchr(__FILE__, '/');

	if (slash)
		tidu_buf_put(out, __FILE__, (size_t)(slash - __FILE__));
	else
		tidu_buf_putc(out, '.');
	tidu_buf_puts(out, "/data");
#endif
}

/* Reads a whole file; 0 if it cannot be opened. */
static int read_file(const char *path, tidu_buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	if (!f)
		return 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		tidu_buf_put(out, chunk, n);
	fclose(f);
	return 1;
}

static int contains(const char *haystack, const char *needle)
{
	return strstr(haystack, needle) != NULL;
}

/* The normalisation the vectors expect, written independently. */
static void expected_normal(const char *in, char *out)
{
	size_t len = strlen(in), i = 0;

	while (i < len && (in[i] == ' ' || in[i] == '\t'))
		i++;
	while (len > i && (in[len - 1] == ' ' || in[len - 1] == '\t'))
		len--;
	for (; i < len; i++)
		*out++ = (in[i] >= 'a' && in[i] <= 'z') ? (char)(in[i] - 32) : in[i];
	*out = '\0';
}

static void test_vectors(void **state)
{
	tidu_buf path = TIDU_BUF_INIT, text = TIDU_BUF_INIT;
	const char *shared = getenv("TIDU_SHARED");
	tidu_csv *csv = NULL;
	size_t rec, valid = 0, invalid = 0;

	(void)state;
	if (shared && *shared) {
		tidu_buf_printf(&path, "%s/data/uscc_vectors.csv", shared);
	} else {
		data_dir(&path);
		tidu_buf_puts(&path, "/uscc_vectors.csv");
	}
	if (!read_file(path.ptr, &text))
		fail_msg("cannot read '%s'", path.ptr);
	assert_int_equal(tidu_csv_parse(text.ptr, text.len, &csv), 0);
	assert_string_equal(tidu_csv_field(csv, 0, 0), "code");
	assert_string_equal(tidu_csv_field(csv, 0, 1), "valid");
	assert_string_equal(tidu_csv_field(csv, 0, 2), "why");

	for (rec = 1; rec < tidu_csv_record_count(csv); rec++) {
		const char *code = tidu_csv_field(csv, rec, 0);
		const char *flag = tidu_csv_field(csv, rec, 1);
		const char *why = tidu_csv_field(csv, rec, 2);
		char out[TIDU_USCC_LEN + 1], want[64];
		int rc;

		assert_int_equal(tidu_csv_field_count(csv, rec), 3);
		rc = tidu_uscc_validate(code, out);
		if (strcmp(flag, "1") == 0) {
			valid++;
			if (rc != 0)
				fail_msg("line %zu: '%s' rejected: %s", tidu_csv_line(csv, rec), code,
					 tidu_error_message());
			expected_normal(code, want);
			assert_string_equal(out, want);
			continue;
		}
		assert_string_equal(flag, "0");
		invalid++;
		if (rc != TIDU_EINVAL)
			fail_msg("line %zu: '%s' accepted (%s)", tidu_csv_line(csv, rec), code, why);
		assert_true(strncmp(tidu_error_message(), "invalid credit code '", 21) == 0);
		if (contains(why, "forbidden"))
			assert_true(contains(tidu_error_message(), "is not allowed"));
		else if (contains(why, "short") || contains(why, "long"))
			assert_true(contains(tidu_error_message(), "characters instead of 18"));
		else if (contains(why, "check") || contains(why, "transposition"))
			assert_true(contains(tidu_error_message(), "wrong check character"));
		if (contains(why, "check should be 3"))
			assert_true(contains(tidu_error_message(), "expected '3'"));
	}
	/* A missing or truncated file must not pass quietly. */
	assert_true(valid >= 13);
	assert_true(invalid >= 13);
	tidu_csv_free(csv);
	tidu_buf_free(&path);
	tidu_buf_free(&text);
}

/* The copy in tests/unit/data must not drift from shared/ (when present). */
static void test_vectors_copy_current(void **state)
{
	tidu_buf dir = TIDU_BUF_INIT, path = TIDU_BUF_INIT, copy = TIDU_BUF_INIT,
		 master = TIDU_BUF_INIT;

	(void)state;
	data_dir(&dir);
	tidu_buf_printf(&path, "%s/../../../../shared/data/uscc_vectors.csv", dir.ptr);
	if (!read_file(path.ptr, &master)) {
		tidu_buf_free(&dir);
		tidu_buf_free(&path);
		skip();
	}
	tidu_buf_clear(&path);
	tidu_buf_printf(&path, "%s/uscc_vectors.csv", dir.ptr);
	assert_true(read_file(path.ptr, &copy));
	if (copy.len != master.len || memcmp(copy.ptr, master.ptr, copy.len) != 0)
		fail_msg("tests/unit/data/uscc_vectors.csv differs from shared/data: copy it again");
	tidu_buf_free(&dir);
	tidu_buf_free(&path);
	tidu_buf_free(&copy);
	tidu_buf_free(&master);
}

static void expect_error(const char *in, const char *message)
{
	char out[TIDU_USCC_LEN + 1];

	if (tidu_uscc_validate(in, out) != TIDU_EINVAL)
		fail_msg("'%s' accepted", in);
	assert_string_equal(tidu_error_message(), message);
	assert_int_equal(tidu_error_code(), TIDU_EINVAL);
}

static void test_messages(void **state)
{
	(void)state;
	expect_error("91410122MA1JPLF2",
		     "invalid credit code '91410122MA1JPLF2': 16 characters instead of 18");
	expect_error("", "invalid credit code '': 0 characters instead of 18");
	expect_error("91410103MAJ8T9H26RX",
		     "invalid credit code '91410103MAJ8T9H26RX': 19 characters instead of 18");
	expect_error("914101 03MAJ8T9H26R",
		     "invalid credit code '914101 03MAJ8T9H26R': 19 characters instead of 18");
	expect_error("91410103MAJIT9H26R",
		     "invalid credit code '91410103MAJIT9H26R': 'I' is not allowed");
	expect_error("91410103MAJ8T9H26O",
		     "invalid credit code '91410103MAJ8T9H26O': wrong check character 'O', expected 'R'");
	expect_error("O1410103MAJ8T9H26R",
		     "invalid credit code 'O1410103MAJ8T9H26R': 'O' is not allowed");
	expect_error("91410103 AJ8T9H26R",
		     "invalid credit code '91410103 AJ8T9H26R': ' ' is not allowed");
	expect_error("91410103MAJ8T9H2\x01R",
		     "invalid credit code '91410103MAJ8T9H2?R': '\\x01' is not allowed");
	expect_error("91410103MAJ8T9H2郑R",
		     "invalid credit code '91410103MAJ8T9H2郑R': '郑' is not allowed");
	expect_error("91A10103MAJ8T9H26R",
		     "invalid credit code '91A10103MAJ8T9H26R': positions 3-8 must be digits");
	expect_error("914101M3MAJ8T9H26R",
		     "invalid credit code '914101M3MAJ8T9H26R': positions 3-8 must be digits");
	expect_error("91410108MA9C7YY44K",
		     "invalid credit code '91410108MA9C7YY44K': wrong check character 'K', expected 'Y'");
	/* The standard's own example of a wrong check character. */
	expect_error("91350100M000100Y4Z",
		     "invalid credit code '91350100M000100Y4Z': wrong check character 'Z', expected '3'");
}

static void test_normalize(void **state)
{
	char out[TIDU_USCC_LEN + 1];

	(void)state;
	assert_int_equal(tidu_uscc_validate(" 91410105ma1j8t9h5m ", out), 0);
	assert_string_equal(out, "91410105MA1J8T9H5M");
	assert_int_equal(tidu_uscc_validate("\t91410103MAJ8T9H26R\r\n", out), 0);
	assert_string_equal(out, "91410103MAJ8T9H26R");
	/* Fullwidth forms from a Chinese input method, and U+3000 spaces. */
	assert_int_equal(tidu_uscc_validate("\xE3\x80\x80９１４１０１０３ＭＡＪ８Ｔ９Ｈ２６ｒ", out), 0);
	assert_string_equal(out, "91410103MAJ8T9H26R");
	assert_int_equal(tidu_uscc_validate("91350100M000100Y43", out), 0);
	/* A weighted sum divisible by 31 gives the check character '0'. */
	assert_int_equal(tidu_uscc_validate("91410103MAJ8T9H280", out), 0);
	assert_int_equal(tidu_uscc_validate("91410105MA1J8T9HX0", out), 0);
	expect_error("91410103MAJ8T9H281",
		     "invalid credit code '91410103MAJ8T9H281': wrong check character '1', expected '0'");

	assert_int_equal(tidu_uscc_normalize("  abc ", out), 0);
	assert_string_equal(out, "ABC");
	assert_int_equal(tidu_uscc_normalize("", out), 0);
	assert_string_equal(out, "");
	assert_int_equal(tidu_uscc_normalize(" 91410105ma1j8t9h5m ", out), 0);
	assert_string_equal(out, "91410105MA1J8T9H5M");
	assert_int_equal(tidu_uscc_normalize("91410105MA1J8T9H5M1", out), TIDU_EINVAL);
	assert_string_equal(out, "");
	assert_string_equal(tidu_error_message(),
			    "invalid credit code '91410105MA1J8T9H5M1': 19 characters instead of 18");
	/* 18 characters but more than 18 bytes do not fit `out`. */
	assert_int_equal(tidu_uscc_normalize("郑州", out), 0);
	assert_string_equal(out, "郑州");
	assert_int_equal(tidu_uscc_normalize("91410105MA1J8T9H5郑", out), TIDU_EINVAL);
	assert_string_equal(out, "");
	assert_string_equal(tidu_error_message(),
			    "invalid credit code '91410105MA1J8T9H5郑': '郑' is not allowed");
	/* On failure, validate still gives the normalised text when it fits. */
	assert_int_equal(tidu_uscc_validate(" 91410108ma9c7yy44k", out), TIDU_EINVAL);
	assert_string_equal(out, "91410108MA9C7YY44K");
}

static void test_zhengzhou(void **state)
{
	(void)state;
	assert_int_equal(tidu_uscc_region_is_zhengzhou("91410103MAJ8T9H26R"), 1);
	assert_int_equal(tidu_uscc_region_is_zhengzhou("91410182MAFN1G178A"), 1);
	assert_int_equal(tidu_uscc_region_is_zhengzhou("91350100M000100Y43"), 0);
	assert_int_equal(tidu_uscc_region_is_zhengzhou("91410203MAJ8T9H26R"), 0); /* Kaifeng */
	assert_int_equal(tidu_uscc_region_is_zhengzhou("914101"), 1);
	assert_int_equal(tidu_uscc_region_is_zhengzhou("91410"), 0);
	assert_int_equal(tidu_uscc_region_is_zhengzhou(""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_vectors_copy_current),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_zhengzhou),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
