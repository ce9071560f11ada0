#include <math.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "tidu/alloc.h"
#include "tidu/csv.h"
#include "tidu/dict.h"
#include "tidu/embedded.h"
#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/parse.h"
#include "tidu/uscc.h"
#include "tidu/utf8.h"

typedef struct {
	char *list, *value, *zh, *en;
} choice;

typedef struct {
	char *code, *zh, *en;
	int is_city; /* the prefecture city itself (410100), not a district */
} place;

static struct {
	tidu_field *fields;
	size_t nfields;
	unsigned char *max_today; /* per field: a date no later than today */
	choice *choices;
	size_t nchoices;
	place *districts;
	size_t ndistricts;
	char **chains;
	size_t nchains;
	char sections[100]; /* section letter of each GB/T 4754 division, 0 = none */
	tidu_buf *choice_values; /* per choice list, lazily */
} dict;

static pthread_once_t dict_once = PTHREAD_ONCE_INIT;

static const struct {
	const char *name;
	tidu_type type;
} type_names[] = {
	{"text", TIDU_T_TEXT}, {"note", TIDU_T_NOTE}, {"int", TIDU_T_INT}, {"real", TIDU_T_REAL},
	{"date", TIDU_T_DATE}, {"bool", TIDU_T_BOOL}, {"enum", TIDU_T_ENUM},
	{"set", TIDU_T_SET}, {"uscc", TIDU_T_USCC}, {"district", TIDU_T_DISTRICT},
	{"phone", TIDU_T_PHONE}, {"industry", TIDU_T_INDUSTRY},
	{"chain", TIDU_T_CHAIN},
};

/*
 * Parses an embedded CSV file with a header row. The embedded files are part
 * of the build, checked by tests/unit/test_dict.c, so a malformed file is a
 * programming error: abort rather than run with a broken dictionary.
 */
static tidu_csv *load_csv(const char *name)
{
	const tidu_embedded_file *f = tidu_embedded_find(name);
	tidu_csv *csv = NULL;

	if (!f || tidu_csv_parse((const char *)f->data, f->size, &csv) < 0)
		abort();
	return csv;
}

static char *cell(const tidu_csv *csv, size_t row, size_t col)
{
	const char *t = tidu_csv_field(csv, row, col);

	return tidu_strdup(t ? t : "");
}

static void dict_load(void)
{
	tidu_csv *csv;
	size_t i, j, n;

	csv = load_csv("dictionary.csv");
	n = tidu_csv_record_count(csv);
	dict.fields = tidu_calloc(n, sizeof(*dict.fields));
	dict.max_today = tidu_calloc(n, 1);
	for (i = 1; i < n; i++) {
		tidu_field *f = &dict.fields[dict.nfields++];
		char *type = cell(csv, i, 2), *min = cell(csv, i, 4),
		     *max = cell(csv, i, 5);

		f->entity = cell(csv, i, 0);
		f->key = cell(csv, i, 1);
		f->choices = cell(csv, i, 3);
		f->zh = cell(csv, i, 6);
		f->en = cell(csv, i, 7);
		f->type = (tidu_type)-1;
		for (j = 0; j < sizeof(type_names) / sizeof(type_names[0]); j++)
			if (strcmp(type, type_names[j].name) == 0)
				f->type = type_names[j].type;
		if ((int)f->type < 0)
			abort();
		if (*min) {
			f->has_min = 1;
			f->min = tidu_strtod_c(min, NULL);
		}
		/* A date's one bound is max "today": no day after today. */
		if (f->type == TIDU_T_DATE && (*min || (*max && strcmp(max, "today"))))
			abort();
		if (f->type == TIDU_T_DATE)
			dict.max_today[dict.nfields - 1] = *max != '\0';
		else if (*max) {
			f->has_max = 1;
			f->max = tidu_strtod_c(max, NULL);
		}
		free(type);
		free(min);
		free(max);
	}
	tidu_csv_free(csv);

	csv = load_csv("choices.csv");
	n = tidu_csv_record_count(csv);
	dict.choices = tidu_calloc(n, sizeof(*dict.choices));
	for (i = 1; i < n; i++) {
		choice *c = &dict.choices[dict.nchoices++];

		c->list = cell(csv, i, 0);
		c->value = cell(csv, i, 1);
		c->zh = cell(csv, i, 2);
		c->en = cell(csv, i, 3);
	}
	tidu_csv_free(csv);

	csv = load_csv("divisions.csv");
	n = tidu_csv_record_count(csv);
	dict.districts = tidu_calloc(n, sizeof(*dict.districts));
	for (i = 1; i < n; i++) {
		place *p = &dict.districts[dict.ndistricts];

		/* A division with no official code (郑东新区) is a zone, not a district. */
		if (!tidu_csv_field(csv, i, 0) || !*tidu_csv_field(csv, i, 0))
			continue;
		p->code = cell(csv, i, 0);
		p->zh = cell(csv, i, 1);
		p->en = cell(csv, i, 2);
		p->is_city = !strcmp(tidu_csv_field(csv, i, 3), "prefecture_city");
		dict.ndistricts++;
	}
	tidu_csv_free(csv);

	csv = load_csv("chains.csv");
	n = tidu_csv_record_count(csv);
	dict.chains = tidu_calloc(n, sizeof(*dict.chains));
	for (i = 1; i < n; i++)
		dict.chains[dict.nchains++] = cell(csv, i, 0);
	tidu_csv_free(csv);

	/* GB/T 4754-2017: each section letter owns a range of divisions. */
	csv = load_csv("industry_sections.csv");
	n = tidu_csv_record_count(csv);
	for (i = 1; i < n; i++) {
		const char *sec = tidu_csv_field(csv, i, 0);
		long first = strtol(tidu_csv_field(csv, i, 1), NULL, 10),
		     last = strtol(tidu_csv_field(csv, i, 2), NULL, 10);

		if (!sec || strlen(sec) != 1 || *sec < 'A' || *sec > 'Z' || first < 1 ||
		    last > 99 || first > last)
			abort();
		for (j = (size_t)first; j <= (size_t)last; j++)
			dict.sections[j] = *sec;
	}
	tidu_csv_free(csv);
}

static void ensure_loaded(void)
{
	pthread_once(&dict_once, dict_load);
}

const tidu_field *tidu_dict_field(const char *entity, const char *key)
{
	size_t i;

	ensure_loaded();
	for (i = 0; i < dict.nfields; i++)
		if (!strcmp(dict.fields[i].entity, entity) &&
		    !strcmp(dict.fields[i].key, key))
			return &dict.fields[i];
	return NULL;
}

const tidu_field *tidu_dict_lookup(const char *entity, const char *name)
{
	const tidu_field *f = tidu_dict_field(entity, name);
	size_t i;

	for (i = 0; !f && i < dict.nfields; i++)
		if (!strcmp(dict.fields[i].entity, entity) &&
		    (!strcmp(dict.fields[i].zh, name) ||
		     !strcasecmp(dict.fields[i].en, name)))
			f = &dict.fields[i];
	return f;
}

const tidu_field *tidu_dict_nth(const char *entity, size_t n)
{
	size_t i;

	ensure_loaded();
	for (i = 0; i < dict.nfields; i++)
		if (!strcmp(dict.fields[i].entity, entity) && n-- == 0)
			return &dict.fields[i];
	return NULL;
}

const char *tidu_dict_label(const tidu_field *f)
{
	return tidu_i18n_is_zh() ? f->zh : f->en;
}

static const choice *find_choice(const char *list, const char *value)
{
	size_t i;

	ensure_loaded();
	for (i = 0; i < dict.nchoices; i++)
		if (!strcmp(dict.choices[i].list, list) &&
		    !strcmp(dict.choices[i].value, value))
			return &dict.choices[i];
	return NULL;
}

const char *tidu_dict_choice_code(const char *list, const char *text)
{
	size_t i;

	ensure_loaded();
	for (i = 0; i < dict.nchoices; i++)
		if (!strcmp(dict.choices[i].list, list) &&
		    (!strcmp(dict.choices[i].value, text) || !strcmp(dict.choices[i].zh, text) ||
		     !strcmp(dict.choices[i].en, text)))
			return dict.choices[i].value;
	return NULL;
}

const char *tidu_dict_choice_label(const char *list, const char *value)
{
	const choice *c = find_choice(list, value);

	return c ? (tidu_i18n_is_zh() ? c->zh : c->en) : NULL;
}

const char *tidu_dict_choice_values(const char *list)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static tidu_buf cache[64];
	static char *names[64];
	const char *r = "";
	size_t i, slot;

	ensure_loaded();
	pthread_mutex_lock(&lock);
	for (slot = 0; slot < 64 && names[slot]; slot++)
		if (!strcmp(names[slot], list))
			break;
	if (slot < 64 && !names[slot]) {
		names[slot] = tidu_strdup(list);
		for (i = 0; i < dict.nchoices; i++)
			if (!strcmp(dict.choices[i].list, list))
				tidu_buf_printf(&cache[slot], "%s%s",
					cache[slot].len ? ", " : "",
					dict.choices[i].value);
	}
	if (slot < 64)
		r = tidu_buf_cstr(&cache[slot]);
	pthread_mutex_unlock(&lock);
	return r;
}

const char *tidu_dict_district_name(const char *code)
{
	size_t i;

	ensure_loaded();
	if (!code)
		return NULL;
	for (i = 0; i < dict.ndistricts; i++)
		if (!strcmp(dict.districts[i].code, code))
			return tidu_i18n_is_zh() ? dict.districts[i].zh
						 : dict.districts[i].en;
	return NULL;
}

int tidu_dict_is_city(const char *code)
{
	size_t i;

	ensure_loaded();
	for (i = 0; code && i < dict.ndistricts; i++)
		if (!strcmp(dict.districts[i].code, code))
			return dict.districts[i].is_city;
	return 0;
}

const char *tidu_dict_district_nth(size_t i)
{
	ensure_loaded();
	return i < dict.ndistricts ? dict.districts[i].code : NULL;
}

int tidu_dict_chain_valid(const char *code)
{
	size_t i;

	ensure_loaded();
	for (i = 0; i < dict.nchains; i++)
		if (!strcmp(dict.chains[i], code))
			return 1;
	return 0;
}

char tidu_dict_industry_section(int division)
{
	ensure_loaded();
	return division >= 0 && division < 100 ? dict.sections[division] : 0;
}

static int section_known(char letter)
{
	size_t i;

	for (i = 0; i < sizeof(dict.sections); i++)
		if (dict.sections[i] == letter)
			return 1;
	return 0;
}

int tidu_dict_max_today(const tidu_field *f)
{
	size_t i;

	ensure_loaded();
	/*
	 * By identity, not by comparing pointers into the array: fields made
	 * outside the dictionary (record.c's _deleted) have no bound.
	 */
	for (i = 0; i < dict.nfields; i++)
		if (f == &dict.fields[i])
			return dict.max_today[i];
	return 0;
}

int tidu_dict_sqltype(const tidu_field *f)
{
	switch (f->type) {
	case TIDU_T_INT:
	case TIDU_T_BOOL:
		return SQLITE_INTEGER;
	case TIDU_T_REAL:
		return SQLITE_FLOAT;
	default:
		return SQLITE_TEXT;
	}
}

static int bad(const tidu_field *f, const char *in, const char *why)
{
	return tidu_error_set(TIDU_EINVAL, _("invalid value '%s' for '%s': %s"),
			      in, f->key, why);
}

static int range_ok(const tidu_field *f, const char *in, double v)
{
	char why[160];

	if ((f->has_min && v < f->min) || (f->has_max && v > f->max)) {
		snprintf(why, sizeof(why), _("must be between %g and %g"),
			 f->has_min ? f->min : -HUGE_VAL,
			 f->has_max ? f->max : HUGE_VAL);
		return bad(f, in, why);
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sets: values separated by ',', '，', '、', ';' or '|', sorted, unique. */
static int canonical_set(const tidu_field *f, const char *in, tidu_buf *out)
{
	char *copy = tidu_strdup(in), *p = copy, **items = NULL;
	size_t n = 0, cap = 0, i;
	int error = 0;
	char why[256];

	while (*p) {
		char *start, *end;
		size_t seplen = 0;

		start = p;
		while (*p) {
			if (*p == ',' || *p == ';' || *p == '|') {
				seplen = 1;
				break;
			}
			if (!strncmp(p, "，", 3) || !strncmp(p, "、", 3)) {
				seplen = 3;
				break;
			}
			p++;
		}
		end = p;
		if (seplen) {
			*p = '\0';
			p += seplen;
		}
		while (*start == ' ')
			start++;
		while (end > start && end[-1] == ' ')
			*--end = '\0';
		if (!*start)
			continue;
		if (!find_choice(f->choices, start)) {
			snprintf(why, sizeof(why), _("'%s' is not one of: %s"),
				 start, tidu_dict_choice_values(f->choices));
			error = bad(f, in, why);
			goto done;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			items = tidu_realloc(items, cap * sizeof(*items));
		}
		items[n++] = start;
	}
	if (n) /* only separators: no items, and qsort may not take NULL */
		qsort(items, n, sizeof(*items), cmp_str);
	for (i = 0; i < n; i++) {
		if (i && !strcmp(items[i], items[i - 1]))
			continue;
		tidu_buf_printf(out, "%s%s", out->len ? "," : "", items[i]);
	}
done:
	free(items);
	free(copy);
	return error;
}

/*
 * GB/T 4754-2017 codes: a section letter alone (C), or a division (2
 * digits), group (3) or class (4) with or without its section letter. The
 * division must exist and belong to the letter given; the stored form always
 * carries the letter: 3484 and c3484 are C3484, 01 is A01.
 */
static int canonical_industry(const tidu_field *f, const char *in, tidu_buf *out)
{
	const char *d = in;
	char letter = 0, owner, why[160];
	size_t n;
	int div;

	ensure_loaded();
	if (*d >= 'a' && *d <= 'z')
		letter = (char)(*d++ - 'a' + 'A');
	else if (*d >= 'A' && *d <= 'Z')
		letter = *d++;
	n = strlen(d);
	if ((n < 2 || n > 4 || strspn(d, "0123456789") != n) && !(letter && n == 0))
		return bad(f, in, _("use a GB/T 4754-2017 code such as C3484 or 3484"));
	if (letter && !section_known(letter))
		return bad(f, in, _("GB/T 4754-2017 has sections A to T only"));
	if (n >= 2) {
		div = (d[0] - '0') * 10 + (d[1] - '0');
		owner = tidu_dict_industry_section(div);
		if (!owner) {
			snprintf(why, sizeof(why),
				 _("GB/T 4754-2017 has no division %02d"), div);
			return bad(f, in, why);
		}
		if (letter && letter != owner) {
			snprintf(why, sizeof(why),
				 _("division %02d belongs to section %c, not %c"), div,
				 owner, letter);
			return bad(f, in, why);
		}
		letter = owner;
	}
	tidu_buf_putc(out, letter);
	tidu_buf_puts(out, d);
	return 0;
}

/* 1 if `s` holds only spaces (ASCII white space, U+3000). */
static int blank(const char *s)
{
	while (*s) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		else if (!strncmp(s, "\xe3\x80\x80", 3))
			s += 3;
		else
			return 0;
	}
	return 1;
}

static int refuse_control(const tidu_field *f, const char *in, long at)
{
	uint32_t cp = 0;

	if (tidu_utf8_decode(in + at, strlen(in + at), &cp) == 0)
		return tidu_error_set(TIDU_EINVAL,
			_("invalid value for '%s': not valid UTF-8 at byte %ld"),
			f->key, at);
	if (f->type == TIDU_T_NOTE)
		return tidu_error_set(TIDU_EINVAL,
			_("field '%s': control character U+%04X at byte %ld is not allowed (a note allows newline and tab only)"),
			f->key, (unsigned)cp, at);
	return tidu_error_set(TIDU_EINVAL,
		_("field '%s': control character U+%04X at byte %ld is not allowed (the field is one line)"),
		f->key, (unsigned)cp, at);
}

int tidu_dict_canonical(const tidu_field *f, const char *in, tidu_buf *out)
{
	char why[256];
	int64_t i64;
	double d;
	int y, m, day;

	long at;

	tidu_buf_clear(out);
	if (!tidu_utf8_valid(in, strlen(in)))
		return tidu_error_set(TIDU_EINVAL,
			_("invalid value for '%s': not valid UTF-8"), f->key);
	if ((at = tidu_utf8_find_control(in, strlen(in), f->type == TIDU_T_NOTE)) >= 0)
		return refuse_control(f, in, at);
	switch (f->type) {
	case TIDU_T_TEXT:
	case TIDU_T_NOTE:
		if (blank(in))
			return tidu_error_set(TIDU_EINVAL,
				_("field '%s': the value is blank (only spaces); leave it empty to clear the field"),
				f->key);
		tidu_buf_puts(out, in);
		return 0;
	case TIDU_T_INT:
		if (tidu_parse_int64(in, &i64) < 0)
			return bad(f, in, _("not a whole number"));
		if (range_ok(f, in, (double)i64) < 0)
			return TIDU_EINVAL;
		tidu_buf_printf(out, "%lld", (long long)i64);
		return 0;
	case TIDU_T_REAL:
		if (tidu_parse_number(in, &d, out) < 0)
			return bad(f, in, _("not a finite decimal number"));
		return range_ok(f, in, d);
	case TIDU_T_DATE:
		if (tidu_parse_date(in, &y, &m, &day) < 0)
			return bad(f, in, _("not a real date in the form YYYY-MM-DD"));
		if (tidu_dict_max_today(f)) {
			char today[11];

			if (tidu_date_today(today) < 0)
				return TIDU_ERROR;
			if (strcmp(in, today) > 0) {
				snprintf(why, sizeof(why),
					 _("a day in the future (today is %s)"), today);
				return bad(f, in, why);
			}
		}
		tidu_buf_puts(out, in);
		return 0;
	case TIDU_T_BOOL:
		if (tidu_parse_bool(in, &y) < 0)
			return bad(f, in, _("use 1 or 0 (yes/no)"));
		tidu_buf_puts(out, y ? "1" : "0");
		return 0;
	case TIDU_T_ENUM:
		if (!find_choice(f->choices, in)) {
			snprintf(why, sizeof(why), _("use one of: %s"),
				 tidu_dict_choice_values(f->choices));
			return bad(f, in, why);
		}
		tidu_buf_puts(out, in);
		return 0;
	case TIDU_T_SET:
		return canonical_set(f, in, out);
	case TIDU_T_USCC: {
		char code[19];

		if (tidu_uscc_validate(in, code) < 0)
			return TIDU_EINVAL;
		tidu_buf_puts(out, code);
		return 0;
	}
	case TIDU_T_DISTRICT:
		if (!tidu_dict_district_name(in) || tidu_dict_is_city(in))
			return bad(f, in, _("not a district code of the division list"));
		tidu_buf_puts(out, in);
		return 0;
	case TIDU_T_PHONE:
		if (!tidu_parse_phone_valid(in))
			return bad(f, in, _("use digits, spaces, '+' and '-' only"));
		tidu_buf_puts(out, in);
		return 0;
	case TIDU_T_INDUSTRY:
		return canonical_industry(f, in, out);
	case TIDU_T_CHAIN:
		if (!tidu_dict_chain_valid(in))
			return bad(f, in, _("not a code of the key industrial chains list"));
		tidu_buf_puts(out, in);
		return 0;
	}
	return bad(f, in, "?");
}
