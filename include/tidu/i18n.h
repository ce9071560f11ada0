#ifndef TIDU_I18N_H
#define TIDU_I18N_H
/*
 * Translations. Texts are written in English in the code and marked with
 * _("...") (or N_("...") where only marked); schema/zh_CN.po holds their
 * Chinese, compiled into the binary. Chinese is chosen when the first
 * non-empty of LC_ALL, LC_MESSAGES, LANG starts with "zh" (LANGUAGE may
 * list "zh..." first as well). This does not depend on the system having the
 * zh_CN locale generated: many field laptops do not.
 */

/* Chooses the language from the environment. Called once by main(). */
void tidu_i18n_init(void);

/* Forces the language: "zh" or "en". */
void tidu_i18n_set(const char *lang);

/* 1 when texts are Chinese. */
int tidu_i18n_is_zh(void);

/* The translation of `msgid` in the current language, else `msgid`. */
#if defined(__GNUC__)
__attribute__((format_arg(1)))
#endif
const char *tidu_gettext(const char *msgid);

#define _(s) tidu_gettext(s)
#define N_(s) (s)

#endif
