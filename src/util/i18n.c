/*
 * Translations: see include/tidu/i18n.h. The catalog is schema/zh_CN.po,
 * embedded in the binary and read once, on first use, into an array
 * sorted by msgid.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tidu/alloc.h"
#include "tidu/buf.h"
#include "tidu/embedded.h"
#include "tidu/i18n.h"

typedef struct {
	char *msgid;
	char *msgstr;
} entry;

/*
 * Chosen language. Set by main() before threads start (tidu_i18n_init or
 * _set), read afterwards; not meant to change while other threads run.
 */
static int lang_zh;

/* The catalog; built once and kept until exit (never freed). */
static pthread_once_t catalog_once = PTHREAD_ONCE_INIT;
static entry *catalog;
static size_t catalog_count;

static int starts_with_zh(const char *s)
{
	return s && s[0] == 'z' && s[1] == 'h' &&
	       (s[2] == '\0' || s[2] == '_' || s[2] == '-' || s[2] == '.' || s[2] == '@' ||
		s[2] == ':');
}

void tidu_i18n_init(void)
{
	static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
	const char *locale = NULL, *language = getenv("LANGUAGE");
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v) {
			locale = v;
			break;
		}
	}
	/* LANGUAGE is a list like "zh_CN:en"; its first entry counts. */
	lang_zh = starts_with_zh(locale) || starts_with_zh(language);
}

void tidu_i18n_set(const char *lang)
{
	lang_zh = starts_with_zh(lang);
}

int tidu_i18n_is_zh(void)
{
	return lang_zh;
}

/* ------------------------------------------------------------------ */
/* PO reader                                                           */
/* ------------------------------------------------------------------ */

/*
 * Appends the C string literal at `p` (just after its opening quote) to
 * `out`, undoing escapes. Returns 0, or -1 if the line has no closing quote.
 */
static int unquote(const char *p, const char *eol, tidu_buf *out)
{
	while (p < eol && *p != '"') {
		if (*p != '\\') {
			tidu_buf_putc(out, *p++);
			continue;
		}
		if (++p >= eol)
			return -1;
		switch (*p) {
		case 'n': tidu_buf_putc(out, '\n'); break;
		case 't': tidu_buf_putc(out, '\t'); break;
		case 'r': tidu_buf_putc(out, '\r'); break;
		case 'a': tidu_buf_putc(out, '\a'); break;
		case 'b': tidu_buf_putc(out, '\b'); break;
		case 'f': tidu_buf_putc(out, '\f'); break;
		case 'v': tidu_buf_putc(out, '\v'); break;
		default: tidu_buf_putc(out, *p); break; /* \" \\ \' \? */
		}
		p++;
	}
	return p < eol ? 0 : -1;
}

enum part { NONE, CTXT, ID, ID_PLURAL, STR, STR_N };

typedef struct {
	tidu_buf id, str;
	enum part part;
	int fuzzy, has_ctxt, has_plural, has_str;
	size_t cap;
} reader;

/* Ends the entry being read; keeps it if it is a usable translation. */
static void flush(reader *r)
{
	if (r->has_str && !r->fuzzy && !r->has_ctxt && !r->has_plural && r->id.len > 0 &&
	    r->str.len > 0) {
		if (catalog_count == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 64;
			catalog = tidu_reallocarray(catalog, r->cap, sizeof(entry));
		}
		catalog[catalog_count].msgid = tidu_strdup(tidu_buf_cstr(&r->id));
		catalog[catalog_count].msgstr = tidu_strdup(tidu_buf_cstr(&r->str));
		catalog_count++;
	}
	tidu_buf_clear(&r->id);
	tidu_buf_clear(&r->str);
	r->part = NONE;
	r->fuzzy = r->has_ctxt = r->has_plural = r->has_str = 0;
}

static int starts(const char *p, const char *eol, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(eol - p) > n && memcmp(p, word, n) == 0 && (p[n] == ' ' || p[n] == '\t');
}

static int contains(const char *p, const char *eol, const char *word)
{
	size_t n = strlen(word);

	for (; (size_t)(eol - p) >= n; p++)
		if (memcmp(p, word, n) == 0)
			return 1;
	return 0;
}

static int compare_entries(const void *a, const void *b)
{
	return strcmp(((const entry *)a)->msgid, ((const entry *)b)->msgid);
}

static void load_catalog(void)
{
	const tidu_embedded_file *f = tidu_embedded_find("zh_CN.po");
	reader r = {TIDU_BUF_INIT, TIDU_BUF_INIT, NONE, 0, 0, 0, 0, 0};
	const char *p, *end;

	if (!f)
		return;
	p = (const char *)f->data;
	end = p + f->size;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q;

		if (!eol)
			eol = end;
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if (p == eol || *p == '\r') {
			/* blank line: entries are separated by them */
		} else if (*p == '#') {
			if (r.has_str)
				flush(&r);
			if (p + 1 < eol && p[1] == ',' && contains(p, eol, "fuzzy"))
				r.fuzzy = 1;
		} else if (*p == '"') {
			tidu_buf *dst = r.part == ID ? &r.id : r.part == STR ? &r.str : NULL;
			tidu_buf ignored = TIDU_BUF_INIT;

			unquote(p + 1, eol, dst ? dst : &ignored);
			tidu_buf_free(&ignored);
		} else {
			if (starts(p, eol, "msgctxt")) {
				if (r.has_str)
					flush(&r);
				r.has_ctxt = 1;
				r.part = CTXT;
			} else if (starts(p, eol, "msgid")) {
				if (r.has_str)
					flush(&r);
				r.part = ID;
			} else if (starts(p, eol, "msgid_plural")) {
				r.has_plural = 1;
				r.part = ID_PLURAL;
			} else if (starts(p, eol, "msgstr")) {
				r.has_str = 1;
				r.part = STR;
			} else if ((size_t)(eol - p) > 7 && memcmp(p, "msgstr[", 7) == 0) {
				r.has_str = 1;
				r.part = STR_N;
			} else {
				r.part = NONE; /* unknown line: ignore it */
			}
			q = memchr(p, '"', (size_t)(eol - p));
			if (q && (r.part == ID || r.part == STR))
				unquote(q + 1, eol, r.part == ID ? &r.id : &r.str);
		}
		p = eol + 1;
	}
	flush(&r);
	tidu_buf_free(&r.id);
	tidu_buf_free(&r.str);
	if (catalog_count > 1)
		qsort(catalog, catalog_count, sizeof(entry), compare_entries);
}

const char *tidu_gettext(const char *msgid)
{
	entry key, *found;

	if (!lang_zh || !msgid || !*msgid)
		return msgid;
	pthread_once(&catalog_once, load_catalog);
	if (!catalog_count)
		return msgid;
	key.msgid = (char *)msgid;
	found = bsearch(&key, catalog, catalog_count, sizeof(entry), compare_entries);
	return found ? found->msgstr : msgid;
}
