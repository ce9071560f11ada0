/* Unit tests: i18n.h with the embedded schema/zh_CN.po. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tidu/embedded.h"
#include "tidu/i18n.h"

#define SELF_TEST "tidu i18n self-test:\n\t\"quoted\" \\ backslash"

static void *lookup(void *arg)
{
	(void)arg;
	return (void *)tidu_gettext(SELF_TEST);
}

/* First use of the catalog from several threads at once (runs first). */
static void test_first_use_threads(void **state)
{
	pthread_t t[4];
	void *r;
	int i;

	(void)state;
	tidu_i18n_set("zh");
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, lookup, NULL), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &r), 0);
		assert_string_equal(r, "tidu 翻译自检:\n\t“引号” \\ 反斜杠");
	}
	tidu_i18n_set("en");
}

static void test_catalog_embedded(void **state)
{
	const tidu_embedded_file *f = tidu_embedded_find("zh_CN.po");

	(void)state;
	assert_non_null(f);
	assert_true(f->size > 0);
	assert_int_equal(f->data[f->size], '\0');
}

static void test_english(void **state)
{
	const char *id = "invalid integer '%s'";

	(void)state;
	tidu_i18n_set("en");
	assert_int_equal(tidu_i18n_is_zh(), 0);
	assert_ptr_equal(tidu_gettext(id), id);
	assert_ptr_equal(_(SELF_TEST), SELF_TEST);
	assert_string_equal(N_("x"), "x");
}

static void test_chinese(void **state)
{
	const char *unknown = "no such message in the catalog";

	(void)state;
	tidu_i18n_set("zh");
	assert_int_equal(tidu_i18n_is_zh(), 1);
	assert_string_equal(_("invalid integer '%s'"), "无效的整数“%s”");
	assert_string_equal(_("date '%s' does not exist"), "日期“%s”不存在");
	/* Continuation lines and \n \t \" \\ escapes in msgid and msgstr. */
	assert_string_equal(_(SELF_TEST), "tidu 翻译自检:\n\t“引号” \\ 反斜杠");
	/* Fuzzy and empty translations are not used; nor is the header. */
	assert_string_equal(_("tidu i18n self-test: fuzzy"), "tidu i18n self-test: fuzzy");
	assert_string_equal(_("tidu i18n self-test: untranslated"),
			    "tidu i18n self-test: untranslated");
	assert_string_equal(tidu_gettext(""), "");
	assert_ptr_equal(tidu_gettext(unknown), unknown);
	assert_null(tidu_gettext(NULL));
	/* A prefix of a msgid is not a match. */
	assert_string_equal(_("invalid integer"), "invalid integer");
	tidu_i18n_set("en");
	assert_string_equal(_("invalid integer '%s'"), "invalid integer '%s'");
	tidu_i18n_set("zh_CN.UTF-8");
	assert_int_equal(tidu_i18n_is_zh(), 1);
	tidu_i18n_set("fr");
	assert_int_equal(tidu_i18n_is_zh(), 0);
}

static void env(const char *lc_all, const char *lc_messages, const char *lang,
		const char *language)
{
	const char *names[] = {"LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"};
	const char *values[] = {lc_all, lc_messages, lang, language};
	int i;

	for (i = 0; i < 4; i++) {
		if (values[i])
			setenv(names[i], values[i], 1);
		else
			unsetenv(names[i]);
	}
	tidu_i18n_init();
}

static void test_init_from_environment(void **state)
{
	(void)state;
	env(NULL, NULL, NULL, NULL);
	assert_int_equal(tidu_i18n_is_zh(), 0);
	env(NULL, NULL, "zh_CN.UTF-8", NULL);
	assert_int_equal(tidu_i18n_is_zh(), 1);
	env(NULL, NULL, "zh_CN.GB18030", NULL);
	assert_int_equal(tidu_i18n_is_zh(), 1);
	env(NULL, NULL, "en_US.UTF-8", NULL);
	assert_int_equal(tidu_i18n_is_zh(), 0);
	/* The first non-empty of LC_ALL, LC_MESSAGES, LANG decides. */
	env("C", NULL, "zh_CN.UTF-8", NULL);
	assert_int_equal(tidu_i18n_is_zh(), 0);
	env("", NULL, "zh_CN.UTF-8", NULL);
	assert_int_equal(tidu_i18n_is_zh(), 1);
	env("", "zh_TW.UTF-8", "en_US.UTF-8", NULL);
	assert_int_equal(tidu_i18n_is_zh(), 1);
	env("en_GB.UTF-8", "zh_CN.UTF-8", "zh_CN.UTF-8", NULL);
	assert_int_equal(tidu_i18n_is_zh(), 0);
	/* LANGUAGE listing Chinese first also selects it. */
	env(NULL, NULL, "en_US.UTF-8", "zh_CN:en");
	assert_int_equal(tidu_i18n_is_zh(), 1);
	env(NULL, NULL, "en_US.UTF-8", "en:zh_CN");
	assert_int_equal(tidu_i18n_is_zh(), 0);
	env(NULL, NULL, "zhx", NULL);
	assert_int_equal(tidu_i18n_is_zh(), 0);
	env(NULL, NULL, "zh", NULL);
	assert_int_equal(tidu_i18n_is_zh(), 1);
	env(NULL, NULL, NULL, NULL);
	tidu_i18n_set("en");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_use_threads),
		cmocka_unit_test(test_catalog_embedded),
		cmocka_unit_test(test_english),
		cmocka_unit_test(test_chinese),
		cmocka_unit_test(test_init_from_environment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
