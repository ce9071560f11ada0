/*
 * Survey forms: an XLSForm workbook (xlsx.h) read into a checked model
 * (form.h). Header and type aliases follow pyxform's tables (aliases.py,
 * question_type_dictionary.py), which ODK and KoboToolbox accept; what
 * tidu does not support is refused by name with its cell.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidu/alloc.h"
#include "tidu/buf.h"
#include "tidu/dict.h"
#include "tidu/error.h"
#include "tidu/form.h"
#include "tidu/i18n.h"

#define TIDU_FORM_MAX_LANGS 16

/* Canonical columns of the survey sheet. */
enum {
	C_TYPE, C_NAME, C_LABEL, C_HINT, C_REQUIRED, C_REQUIRED_MSG, C_RELEVANT,
	C_CONSTRAINT, C_CONSTRAINT_MSG, C_CALCULATION, C_DEFAULT, C_READ_ONLY,
	C_CHOICE_FILTER, C_APPEARANCE, C_REPEAT_COUNT, C_SAVE_TO, C_PARAMETERS,
	C_IGNORED, C_NCOLS
};

static const char *const col_names[C_NCOLS] = {
	"type", "name", "label", "hint", "required", "required_message", "relevant",
	"constraint", "constraint_message", "calculation", "default", "read_only",
	"choice_filter", "appearance", "repeat_count", "save_to", "parameters", "",
};

/* pyxform's survey_header aliases (snake_case first token -> column). */
static const struct {
	const char *alias;
	int col;
} survey_alias[] = {
	{"caption", C_LABEL}, {"relevance", C_RELEVANT}, {"readonly", C_READ_ONLY},
	{"calculate", C_CALCULATION}, {"constraining_message", C_CONSTRAINT_MSG},
	{"requiredmsg", C_REQUIRED_MSG}, {"count", C_REPEAT_COUNT},
	{"jr:count", C_REPEAT_COUNT}, {"command", C_TYPE}, {"tag", C_NAME},
	{"value", C_NAME}, {"bind::entities:saveto", C_SAVE_TO}, {"entities:saveto", C_SAVE_TO},
	/* media, guidance, sms columns: kept by pyxform for other clients, ignored here */
	{"image", C_IGNORED}, {"big-image", C_IGNORED}, {"audio", C_IGNORED},
	{"video", C_IGNORED}, {"media", C_IGNORED}, {"guidance_hint", C_IGNORED},
	{"autoplay", C_IGNORED}, {"rows", C_IGNORED}, {"body", C_IGNORED},
	{"noapperrorstring", C_IGNORED}, {"no_app_error_string", C_IGNORED},
	{"compact_tag", C_IGNORED}, {"instance", C_IGNORED}, {"control", C_IGNORED},
	{"bind", C_IGNORED}, {"trigger", C_IGNORED}, {"note", C_IGNORED},
};

/* A column of a sheet: what it is and, for texts, its language. */
typedef struct {
	int col;        /* C_* (survey), or 0..2 (choices: list, name, label), -1 other */
	int lang;       /* index in the form's languages, -1 none */
	char *raw;      /* the header as written */
} colinfo;

/* A question's name and index, for the sorted index of names. */
typedef struct {
	const char *name; /* borrowed from the question */
	size_t i;
} name_ix;

typedef struct {
	const char *file;
	tidu_form *f;
	tidu_xlsx_sheet *survey, *choices, *settings;
	const char *survey_name, *choices_name, *settings_name;
	colinfo *scol, *ccol;
	size_t nscol, nccol;
	int have_default;   /* settings named a default_language */
	char *title;        /* settings' form_title without a language */
	name_ix *names;     /* the named questions by name, then index (read_questions) */
	size_t nnames;
} rd;

/* ---- messages ---------------------------------------------------------------- */

static int cell_fail(rd *r, const char *sheet, size_t row, size_t col, const char *head,
		     const char *fmt, ...) TIDU_PRINTF(6, 7);

/* "FILE: sheet 'survey' cell C7 (relevant): reason" */
static int cell_fail(rd *r, const char *sheet, size_t row, size_t col, const char *head,
		     const char *fmt, ...)
{
	tidu_buf why = TIDU_BUF_INIT;
	char cell[16];
	va_list ap;
	int error;

	va_start(ap, fmt);
	tidu_buf_vprintf(&why, fmt, ap);
	va_end(ap);
	tidu_xlsx_cell_name(row, col, cell);
	if (head && *head)
		error = tidu_error_set(TIDU_EINVAL, _("%s: sheet '%s' cell %s (%s): %s"), r->file,
				       sheet, cell, head, tidu_buf_cstr(&why));
	else
		error = tidu_error_set(TIDU_EINVAL, _("%s: sheet '%s' cell %s: %s"), r->file, sheet,
				       cell, tidu_buf_cstr(&why));
	tidu_buf_free(&why);
	return error;
}

/* ---- small text helpers ---------------------------------------------------- */

/* A new copy of `s` without leading and trailing blanks (ASCII white space). */
static char *trimmed(const char *s)
{
	size_t b = 0, e = s ? strlen(s) : 0;

	if (!s)
		return NULL;
	while (b < e && isspace((unsigned char)s[b]))
		b++;
	while (e > b && isspace((unsigned char)s[e - 1]))
		e--;
	return tidu_strndup(s + b, e - b);
}

/* pyxform's to_snake_case: words joined by '_', lower case (ASCII). */
static char *snake(const char *s)
{
	tidu_buf b = TIDU_BUF_INIT;
	int gap = 0;

	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			gap = b.len > 0;
			continue;
		}
		if (gap)
			tidu_buf_putc(&b, '_');
		gap = 0;
		tidu_buf_putc(&b, (char)tolower((unsigned char)*s));
	}
	return b.ptr ? tidu_buf_detach(&b) : tidu_strdup("");
}

static int ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
	return *a == *b;
}

/* The cell's text trimmed, or NULL when empty or blank. A new string. */
static char *cell(const tidu_xlsx_sheet *s, size_t row, size_t col)
{
	const char *t = tidu_xlsx_cell(s, row, col);
	char *v;

	if (!t)
		return NULL;
	v = trimmed(t);
	if (!*v) {
		free(v);
		return NULL;
	}
	return v;
}

/* ---- languages ------------------------------------------------------------- */

/* The language code of a header's language part: "Chinese (zh)" -> "zh". */
static char *lang_code(const char *t)
{
	const char *open = strrchr(t, '('), *close = open ? strchr(open, ')') : NULL;
	char *s;

	if (open && close && close > open + 1) {
		char *in = tidu_strndup(open + 1, (size_t)(close - open - 1)), *c = trimmed(in);

		free(in);
		for (s = c; *s; s++)
			*s = (char)tolower((unsigned char)*s);
		return c;
	}
	s = trimmed(t);
	if (ieq(s, "chinese") || !strcmp(s, "中文") || ieq(s, "zh-cn") || ieq(s, "zh_cn") ||
	    !strcmp(s, "汉语") || ieq(s, "zh-hans")) {
		free(s);
		return tidu_strdup("zh");
	}
	if (ieq(s, "english") || !strcmp(s, "英文") || ieq(s, "en-us") || ieq(s, "en-gb")) {
		free(s);
		return tidu_strdup("en");
	}
	return s;
}

static int lang_index(tidu_form *f, const char *code)
{
	size_t i;

	for (i = 0; i < f->nlangs; i++)
		if (!strcmp(f->langs[i], code))
			return (int)i;
	if (f->nlangs == TIDU_FORM_MAX_LANGS)
		return -1;
	f->langs = tidu_reallocarray(f->langs, f->nlangs + 1, sizeof(*f->langs));
	f->langs[f->nlangs] = tidu_strdup(code);
	return (int)f->nlangs++;
}

/* ---- headers ----------------------------------------------------------------- */

/*
 * Splits the header `h` as pyxform does: on "::" when the sheet uses it
 * anywhere, else on ":" (keeping "jr:count" whole). *first gets the first
 * part in snake_case, *lang the language part or NULL. New strings.
 */
static void split_header(const char *h, int double_colon, char **first, char **lang)
{
	const char *sep = double_colon ? strstr(h, "::") : NULL;
	char *head;

	*lang = NULL;
	if (!double_colon && !strncmp(h, "jr:", 3))
		sep = strchr(h + 3, ':');
	else if (!double_colon)
		sep = strchr(h, ':');
	if (!sep) {
		*first = snake(h);
		return;
	}
	head = tidu_strndup(h, (size_t)(sep - h));
	*first = snake(head);
	free(head);
	*lang = trimmed(sep + (double_colon ? 2 : 1));
}

static int is_text_col(int c)
{
	return c == C_LABEL || c == C_HINT || c == C_REQUIRED_MSG || c == C_CONSTRAINT_MSG;
}

static int survey_col(const char *first)
{
	size_t i;

	for (i = 0; i < C_IGNORED; i++)
		if (!strcmp(first, col_names[i]))
			return (int)i;
	for (i = 0; i < sizeof(survey_alias) / sizeof(survey_alias[0]); i++)
		if (!strcmp(first, survey_alias[i].alias))
			return survey_alias[i].col;
	return -1; /* an extra column: ignored */
}

static int sheet_uses_double_colon(const tidu_xlsx_sheet *s)
{
	size_t c;

	for (c = 0; c < tidu_xlsx_cols(s); c++) {
		const char *h = tidu_xlsx_cell(s, 0, c);

		if (h && strstr(h, "::"))
			return 1;
	}
	return 0;
}

/* The language index of a text column's language part (NULL: unnamed). */
static int header_lang(rd *r, const char *sheet, size_t c, const char *lang, int *out)
{
	char *code = lang ? lang_code(lang) : tidu_strdup("");

	*out = lang_index(r->f, code);
	free(code);
	if (*out < 0)
		return cell_fail(r, sheet, 0, c, NULL, _("more than %d languages"),
				 TIDU_FORM_MAX_LANGS);
	return 0;
}

/* Column `c` of `cols` says what an earlier one says already (the same column and language). */
static int header_dup(rd *r, const colinfo *cols, size_t c, const char *sheet, int ignored)
{
	size_t k;

	if (cols[c].col < 0 || cols[c].col == ignored)
		return 0;
	for (k = 0; k < c; k++)
		if (cols[k].col == cols[c].col && cols[k].lang == cols[c].lang) {
			char other[16];

			tidu_xlsx_cell_name(0, k, other);
			return cell_fail(r, sheet, 0, c, NULL,
					 _("the column '%s' appears twice (also %s)"), cols[c].raw,
					 other);
		}
	return 0;
}

static int read_survey_header(rd *r)
{
	tidu_xlsx_sheet *s = r->survey;
	int dc = sheet_uses_double_colon(s);
	size_t c, have_type = 0, have_name = 0;

	r->nscol = tidu_xlsx_cols(s);
	r->scol = tidu_calloc(r->nscol ? r->nscol : 1, sizeof(*r->scol));
	for (c = 0; c < r->nscol; c++) {
		char *h = cell(s, 0, c), *first = NULL, *lang = NULL;
		colinfo *ci = &r->scol[c];
		int error = 0;

		ci->col = -1;
		ci->lang = -1;
		if (!h)
			continue;
		ci->raw = h;
		split_header(h, dc, &first, &lang);
		ci->col = survey_col(first);
		if (ci->col >= 0 && is_text_col(ci->col))
			error = header_lang(r, r->survey_name, c, lang, &ci->lang);
		free(first);
		free(lang);
		if (error || (error = header_dup(r, r->scol, c, r->survey_name, C_IGNORED)) < 0)
			return error;
		if (ci->col == C_TYPE)
			have_type++;
		if (ci->col == C_NAME)
			have_name++;
	}
	if (!have_type || !have_name)
		return tidu_error_set(TIDU_EINVAL,
			_("%s: sheet '%s' has no '%s' column in its first row"), r->file,
			r->survey_name, have_type ? "name" : "type");
	return 0;
}

/* ---- types ----------------------------------------------------------------- */

static const struct {
	const char *name;
	tidu_qtype type;
	const char *media;
} simple_types[] = {
	{"text", TIDU_Q_TEXT, NULL}, {"string", TIDU_Q_TEXT, NULL}, {"qstring", TIDU_Q_TEXT, NULL},
	{"add_text_prompt", TIDU_Q_TEXT, NULL},
	{"integer", TIDU_Q_INTEGER, NULL}, {"int", TIDU_Q_INTEGER, NULL},
	{"qint", TIDU_Q_INTEGER, NULL}, {"add_integer_prompt", TIDU_Q_INTEGER, NULL},
	{"decimal", TIDU_Q_DECIMAL, NULL}, {"qdecimal", TIDU_Q_DECIMAL, NULL},
	{"add_decimal_prompt", TIDU_Q_DECIMAL, NULL},
	{"date", TIDU_Q_DATE, NULL}, {"qdate", TIDU_Q_DATE, NULL},
	{"add_date_prompt", TIDU_Q_DATE, NULL},
	{"time", TIDU_Q_TIME, NULL},
	{"datetime", TIDU_Q_DATETIME, NULL}, {"qdatetime", TIDU_Q_DATETIME, NULL},
	{"add_datetime_prompt", TIDU_Q_DATETIME, NULL},
	{"note", TIDU_Q_NOTE, NULL}, {"qnote", TIDU_Q_NOTE, NULL},
	{"add_note_prompt", TIDU_Q_NOTE, NULL},
	{"acknowledge", TIDU_Q_ACKNOWLEDGE, NULL}, {"qacknowledge", TIDU_Q_ACKNOWLEDGE, NULL},
	{"add_acknowledge_prompt", TIDU_Q_ACKNOWLEDGE, NULL}, {"trigger", TIDU_Q_ACKNOWLEDGE, NULL},
	{"calculate", TIDU_Q_CALCULATE, NULL}, {"qcalculate", TIDU_Q_CALCULATE, NULL},
	{"add_calculate_prompt", TIDU_Q_CALCULATE, NULL},
	{"hidden", TIDU_Q_HIDDEN, NULL},
	{"geopoint", TIDU_Q_GEOPOINT, NULL}, {"gps", TIDU_Q_GEOPOINT, NULL},
	{"location", TIDU_Q_GEOPOINT, NULL}, {"qgeopoint", TIDU_Q_GEOPOINT, NULL},
	{"qlocation", TIDU_Q_GEOPOINT, NULL}, {"add_location_prompt", TIDU_Q_GEOPOINT, NULL},
	{"image", TIDU_Q_FILE, "image"}, {"photo", TIDU_Q_FILE, "image"},
	{"qimage", TIDU_Q_FILE, "image"}, {"qpicture", TIDU_Q_FILE, "image"},
	{"add_image_prompt", TIDU_Q_FILE, "image"}, {"add_photo_prompt", TIDU_Q_FILE, "image"},
	{"audio", TIDU_Q_FILE, "audio"}, {"qaudio", TIDU_Q_FILE, "audio"},
	{"add_audio_prompt", TIDU_Q_FILE, "audio"},
	{"video", TIDU_Q_FILE, "video"}, {"qvideo", TIDU_Q_FILE, "video"},
	{"add_video_prompt", TIDU_Q_FILE, "video"},
	{"file", TIDU_Q_FILE, "file"}, {"add_file_prompt", TIDU_Q_FILE, "file"},
	{"barcode", TIDU_Q_BARCODE, NULL}, {"qbarcode", TIDU_Q_BARCODE, NULL},
	{"add_barcode_prompt", TIDU_Q_BARCODE, NULL},
	{"start", TIDU_Q_START, NULL}, {"starttime", TIDU_Q_START, NULL},
	{"getstarttime", TIDU_Q_START, NULL},
	{"end", TIDU_Q_END, NULL}, {"endtime", TIDU_Q_END, NULL}, {"getendtime", TIDU_Q_END, NULL},
	{"today", TIDU_Q_TODAY, NULL}, {"gettoday", TIDU_Q_TODAY, NULL},
	{"deviceid", TIDU_Q_DEVICEID, NULL}, {"imei", TIDU_Q_DEVICEID, NULL},
	{"getdeviceid", TIDU_Q_DEVICEID, NULL}, {"uri:deviceid", TIDU_Q_DEVICEID, NULL},
	{"username", TIDU_Q_USERNAME, NULL}, {"uri:username", TIDU_Q_USERNAME, NULL},
	{"phonenumber", TIDU_Q_PHONENUMBER, NULL}, {"phone_number", TIDU_Q_PHONENUMBER, NULL},
	{"getphonenumber", TIDU_Q_PHONENUMBER, NULL}, {"uri:phonenumber", TIDU_Q_PHONENUMBER, NULL},
	{"simserial", TIDU_Q_SIMSERIAL, NULL}, {"getsimid", TIDU_Q_SIMSERIAL, NULL},
	{"simid", TIDU_Q_SIMSERIAL, NULL}, {"uri:simserial", TIDU_Q_SIMSERIAL, NULL},
	{"subscriberid", TIDU_Q_SIMSERIAL, NULL}, {"getsubscriberid", TIDU_Q_SIMSERIAL, NULL},
	{"uri:subscriberid", TIDU_Q_SIMSERIAL, NULL},
};

/* Types pyxform knows that tidu refuses, with what to tell the author. */
static const char *const refused_types[] = {
	"geoshape", "qgeoshape", "geotrace", "qgeotrace", "osm", "rank", "range", "audit",
	"background-audio", "background_audio", "background-geopoint", "background_geopoint",
	"start-geopoint", "start_geopoint", "xml-external", "csv-external", "email",
	"uri:email", "percentage", "numberofdaysinlastmonth", "numberofdaysinlastsixmonths",
	"numberofdaysinlastyear", "include", "begin_loop", "end_loop", "select_one_external",
	"entity", NULL,
};

static const struct {
	const char *prefix;
	tidu_qtype type;
} select_prefixes[] = {
	/* longest first: "select one from" before "select one" */
	{"add_select_one_prompt_using", TIDU_Q_SELECT_ONE},
	{"add_select_multiple_prompt_using", TIDU_Q_SELECT_MULTIPLE},
	{"select_all_that_apply_from", TIDU_Q_SELECT_MULTIPLE},
	{"select_multiple_from", TIDU_Q_SELECT_MULTIPLE},
	{"select_one_from", TIDU_Q_SELECT_ONE},
	{"select_all_that_apply", TIDU_Q_SELECT_MULTIPLE},
	{"select_multiple_using", TIDU_Q_SELECT_MULTIPLE},
	{"select_one_using", TIDU_Q_SELECT_ONE},
	{"select_multiple", TIDU_Q_SELECT_MULTIPLE},
	{"select_one", TIDU_Q_SELECT_ONE},
	{"select1", TIDU_Q_SELECT_ONE},
	{"qselect1", TIDU_Q_SELECT_ONE},
	{"qselect", TIDU_Q_SELECT_MULTIPLE},
};

static int select_prefix(const char *sn, tidu_qtype *type)
{
	size_t i;

	for (i = 0; i < sizeof(select_prefixes) / sizeof(select_prefixes[0]); i++)
		if (!strcmp(sn, select_prefixes[i].prefix)) {
			*type = select_prefixes[i].type;
			return 1;
		}
	return 0;
}

/*
 * Reads the type cell `t` into q (type, media; the list name of a select
 * in *list, a new string). 0, or an error naming the cell.
 */
static int parse_type(rd *r, size_t row, size_t col, const char *t, tidu_form_question *q,
		      char **list)
{
	char *copy = tidu_strdup(t), *words[64], *save = NULL, *w, *sn = NULL, *head = NULL;
	size_t n = 0, i;
	tidu_buf b = TIDU_BUF_INIT;
	int error = 0;

	*list = NULL;
	q->type_text = tidu_strdup(t);
	for (w = strtok_r(copy, " \t", &save); w && n < 64; w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	/* "select_one L or_other", "select one from L or specify other" */
	if (n >= 2 && !strcmp(words[n - 1], "or_other")) {
		q->or_other = 1;
		n--;
	} else if (n >= 4 && ieq(words[n - 3], "or") && ieq(words[n - 2], "specify") &&
		   ieq(words[n - 1], "other")) {
		q->or_other = 1;
		n -= 3;
	}
	for (i = 0; i < n; i++) {
		if (i)
			tidu_buf_putc(&b, ' ');
		tidu_buf_puts(&b, words[i]);
	}
	sn = snake(tidu_buf_cstr(&b));
	if (n >= 2) {
		tidu_buf_clear(&b);
		for (i = 0; i + 1 < n; i++) {
			if (i)
				tidu_buf_putc(&b, ' ');
			tidu_buf_puts(&b, words[i]);
		}
		head = snake(tidu_buf_cstr(&b));
	}
	if (strstr(sn, "from_file") || strstr(sn, "_external")) {
		error = cell_fail(r, r->survey_name, row, col, "type",
				  _("'%s': selects from external files are not supported"), t);
		goto done;
	}
	if (head && select_prefix(head, &q->type)) {
		*list = tidu_strdup(words[n - 1]);
		goto done;
	}
	if (select_prefix(sn, &q->type)) {
		error = cell_fail(r, r->survey_name, row, col, "type",
				  _("'%s' names no choice list"), t);
		goto done;
	}
	if (q->or_other) {
		error = cell_fail(r, r->survey_name, row, col, "type",
				  _("'%s': 'or_other' goes only with a select"), t);
		goto done;
	}
	if (!strcmp(sn, "begin_group") || !strcmp(sn, "begin")) {
		q->type = TIDU_Q_BEGIN_GROUP;
		goto done;
	}
	if (!strcmp(sn, "end_group")) {
		q->type = TIDU_Q_END_GROUP;
		goto done;
	}
	if (!strcmp(sn, "begin_repeat") || !strcmp(sn, "begin_lgroup") ||
	    !strcmp(sn, "begin_looped_group")) {
		q->type = TIDU_Q_BEGIN_REPEAT;
		goto done;
	}
	if (!strcmp(sn, "end_repeat") || !strcmp(sn, "end_lgroup") ||
	    !strcmp(sn, "end_looped_group")) {
		q->type = TIDU_Q_END_REPEAT;
		goto done;
	}
	for (i = 0; i < sizeof(simple_types) / sizeof(simple_types[0]); i++)
		if (!strcmp(sn, simple_types[i].name)) {
			q->type = simple_types[i].type;
			q->media = simple_types[i].media;
			goto done;
		}
	for (i = 0; refused_types[i]; i++)
		if (!strcmp(sn, refused_types[i])) {
			error = cell_fail(r, r->survey_name, row, col, "type",
					  _("question type '%s' is not supported by tidu"), t);
			goto done;
		}
	error = cell_fail(r, r->survey_name, row, col, "type", _("unknown question type '%s'"), t);
done:
	free(copy);
	free(sn);
	free(head);
	tidu_buf_free(&b);
	return error;
}

/* ---- texts ------------------------------------------------------------------ */

static void text_init(const tidu_form *f, tidu_form_text *t)
{
	(void)f;
	t->text = NULL;
}

/* Sets the text of language `lang` (grown to the form's languages). */
static void text_set(tidu_form *f, tidu_form_text *t, int lang, char *v)
{
	size_t i;

	(void)f;
	if (lang < 0) {
		free(v); /* past TIDU_FORM_MAX_LANGS: refused when the headers were read */
		return;
	}
	if (!t->text)
		t->text = tidu_calloc(TIDU_FORM_MAX_LANGS, sizeof(*t->text));
	i = (size_t)lang;
	free(t->text[i]);
	t->text[i] = v;
}

static void text_free(tidu_form_text *t)
{
	size_t i;

	if (!t->text)
		return;
	for (i = 0; i < TIDU_FORM_MAX_LANGS; i++)
		free(t->text[i]);
	free(t->text);
	t->text = NULL;
}

const char *tidu_form_text_get(const tidu_form *f, const tidu_form_text *t, const char *lang)
{
	size_t i;

	if (!t->text)
		return "";
	if (lang)
		for (i = 0; i < f->nlangs; i++)
			if (!strcmp(f->langs[i], lang) && t->text[i])
				return t->text[i];
	if (f->nlangs && t->text[f->default_lang])
		return t->text[f->default_lang];
	for (i = 0; i < f->nlangs; i++)
		if (t->text[i])
			return t->text[i];
	return "";
}

/* ---- names ------------------------------------------------------------------ */

/* An XML name as ODK needs it: a letter or '_' first, then letters, digits, '-', '.', '_'. */
static int valid_name(const char *n)
{
	const unsigned char *p = (const unsigned char *)n;

	if (!*p || !(isalpha(*p) || *p == '_' || *p >= 0x80))
		return 0;
	for (p++; *p; p++)
		if (!(isalnum(*p) || *p == '_' || *p == '-' || *p == '.' || *p >= 0x80))
			return 0;
	return strlen(n) <= 255;
}

/* ---- the choices sheet -------------------------------------------------------- */

static tidu_form_list *find_list(tidu_form *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nlists; i++)
		if (!strcmp(f->lists[i].name, name))
			return &f->lists[i];
	return NULL;
}

/* by name, then by place (the choices of a list are one array) */
static int byname_cmp(const void *x, const void *y)
{
	const tidu_form_choice *i = *(const tidu_form_choice *const *)x;
	const tidu_form_choice *k = *(const tidu_form_choice *const *)y;
	int c = strcmp(i->name, k->name);

	return c ? c : (i > k) - (i < k);
}

static void index_list(tidu_form_list *l)
{
	size_t i;

	l->byname = tidu_reallocarray(NULL, l->n ? l->n : 1, sizeof(*l->byname));
	for (i = 0; i < l->n; i++)
		l->byname[i] = &l->choices[i];
	qsort(l->byname, l->n, sizeof(*l->byname), byname_cmp);
}

static int read_choices(rd *r)
{
	tidu_xlsx_sheet *s = r->choices;
	tidu_form *f = r->f;
	int dc, lcol = -1, ncol = -1;
	size_t c, row;

	if (!s)
		return 0;
	dc = sheet_uses_double_colon(s);
	r->nccol = tidu_xlsx_cols(s);
	r->ccol = tidu_calloc(r->nccol ? r->nccol : 1, sizeof(*r->ccol));
	for (c = 0; c < r->nccol; c++) {
		char *h = cell(s, 0, c), *first = NULL, *lang = NULL;
		colinfo *ci = &r->ccol[c];
		int error = 0;

		ci->col = -1;
		ci->lang = -1;
		if (!h)
			continue;
		ci->raw = h;
		split_header(h, dc, &first, &lang);
		if (!strcmp(first, "list_name")) {
			ci->col = 0;
			lcol = (int)c;
		} else if (!strcmp(first, "name") || !strcmp(first, "value")) {
			ci->col = 1;
			ncol = (int)c;
		} else if (!strcmp(first, "label") || !strcmp(first, "caption")) {
			ci->col = 2;
			error = header_lang(r, r->choices_name, c, lang, &ci->lang);
		} else if (!strcmp(first, "image") || !strcmp(first, "audio") ||
			   !strcmp(first, "video") || !strcmp(first, "big-image") ||
			   !strcmp(first, "media")) {
			ci->col = -2; /* media: ignored */
		} else {
			/* an extra column, for choice_filter */
			ci->col = 3 + (int)f->nchoice_cols;
			f->choice_cols = tidu_reallocarray(f->choice_cols, f->nchoice_cols + 1,
							   sizeof(*f->choice_cols));
			f->choice_cols[f->nchoice_cols++] = tidu_strdup(h);
		}
		free(first);
		free(lang);
		if (error || (error = header_dup(r, r->ccol, c, r->choices_name, -2)) < 0)
			return error;
	}
	if (lcol < 0 || ncol < 0)
		return tidu_error_set(TIDU_EINVAL,
			_("%s: sheet '%s' has no '%s' column in its first row"), r->file,
			r->choices_name, lcol < 0 ? "list_name" : "name");
	for (row = 1; row < tidu_xlsx_rows(s); row++) {
		char *ln = cell(s, row, (size_t)lcol), *nm = cell(s, row, (size_t)ncol);
		tidu_form_list *l;
		tidu_form_choice *ch;
		size_t i;

		if (!ln && !nm) {
			free(ln);
			free(nm);
			continue; /* a blank row */
		}
		if (!ln || !nm) {
			free(ln);
			free(nm);
			return cell_fail(r, r->choices_name, row, (size_t)(ln ? ncol : lcol),
					 ln ? "name" : "list_name", "%s",
					 _("a choice needs both its list name and its name"));
		}
		if (!(l = find_list(f, ln))) {
			f->lists = tidu_reallocarray(f->lists, f->nlists + 1, sizeof(*f->lists));
			l = &f->lists[f->nlists++];
			memset(l, 0, sizeof(*l));
			l->name = tidu_strdup(ln);
		}
		for (i = 0; i < l->n && !f->allow_choice_duplicates; i++)
			if (!strcmp(l->choices[i].name, nm)) {
				int error = cell_fail(r, r->choices_name, row, (size_t)ncol, "name",
					_("choice '%s' appears twice in list '%s' (set allow_choice_duplicates in settings if that is meant)"),
					nm, ln);

				free(ln);
				free(nm);
				return error;
			}
		if (l->n >= TIDU_FORM_MAX_QUESTIONS * 10) {
			free(ln);
			free(nm);
			return cell_fail(r, r->choices_name, row, (size_t)ncol, "name", "%s",
					 _("too many choices in one list"));
		}
		l->choices = tidu_reallocarray(l->choices, l->n + 1, sizeof(*l->choices));
		ch = &l->choices[l->n++];
		memset(ch, 0, sizeof(*ch));
		ch->name = nm;
		text_init(f, &ch->label);
		if (f->nchoice_cols)
			ch->extra = tidu_calloc(f->nchoice_cols, sizeof(*ch->extra));
		for (c = 0; c < r->nccol; c++) {
			colinfo *ci = &r->ccol[c];

			if (ci->col == 2)
				text_set(f, &ch->label, ci->lang, cell(s, row, c));
			else if (ci->col >= 3)
				ch->extra[ci->col - 3] = cell(s, row, c);
		}
		free(ln);
	}
	for (c = 0; c < f->nlists; c++)
		index_list(&f->lists[c]);
	return 0;
}

/* ---- the settings sheet --------------------------------------------------------- */

static int read_settings(rd *r)
{
	tidu_xlsx_sheet *s = r->settings;
	tidu_form *f = r->f;
	size_t c;

	if (!s || tidu_xlsx_rows(s) < 2)
		return 0;
	for (c = 0; c < tidu_xlsx_cols(s); c++) {
		char *h = cell(s, 0, c), *first = NULL, *lang = NULL, *v;

		if (!h)
			continue;
		split_header(h, 1, &first, &lang);
		v = cell(s, 1, c);
		if (v && (!strcmp(first, "form_id") || !strcmp(first, "set_form_id"))) {
			free(f->id);
			f->id = v;
			v = NULL;
		} else if (v && (!strcmp(first, "form_title") || !strcmp(first, "set_form_title")) &&
			   !lang) {
			free(r->title);
			r->title = v; /* placed once the languages are known */
			v = NULL;
		} else if (v && (!strcmp(first, "form_title") || !strcmp(first, "set_form_title"))) {
			char *code = lang_code(lang);

			text_set(f, &f->title, lang_index(f, code), v);
			free(code);
			v = NULL;
		} else if (v && !strcmp(first, "version")) {
			f->version = v;
			v = NULL;
		} else if (v && !strcmp(first, "default_language")) {
			char *code = lang_code(v);

			int li = lang_index(f, code);

			free(code);
			if (li >= 0) {
				f->default_lang = (size_t)li;
				r->have_default = 1;
			}
		} else if (v && !strcmp(first, "allow_choice_duplicates")) {
			f->allow_choice_duplicates = ieq(v, "yes") || ieq(v, "true") || !strcmp(v, "1");
		} else if (v && (!strcmp(first, "submission_url") || !strcmp(first, "public_key"))) {
			int error = cell_fail(r, r->settings_name, 1, c, first, "%s",
				_("tidu keeps responses in its own encrypted store: submission_url and public_key are not supported"));

			free(h);
			free(first);
			free(lang);
			free(v);
			return error;
		}
		free(h);
		free(first);
		free(lang);
		free(v);
	}
	return 0;
}

/* ---- the survey sheet ------------------------------------------------------------- */

/* yes/no as pyxform reads them; -1 when it is an expression. */
static int yes_no(const char *v)
{
	static const char *const yes[] = {"yes", "true", "true()", "1", NULL};
	static const char *const no[] = {"no", "false", "false()", "0", NULL};
	size_t i;

	for (i = 0; yes[i]; i++)
		if (ieq(v, yes[i]))
			return 1;
	for (i = 0; no[i]; i++)
		if (ieq(v, no[i]))
			return 0;
	return -1;
}

/* Functions and forms that need what tidu does not have (other files, a server). */
static const char *refused_feature(const char *e)
{
	static const char *const bad[] = {"pulldata(", "instance(", "jr:choice-name(",
					  "indexed-repeat(", "digest(", "base64-decode(",
					  "geofence(", "area(", "distance(", NULL};
	size_t i;

	for (i = 0; bad[i]; i++)
		if (strstr(e, bad[i]))
			return bad[i];
	return NULL;
}

/*
 * Parses the expression of column `col` of survey row `row` into *out
 * (`filter`: a choice_filter, whose bare names are choice columns).
 */
static int parse_expr_as(rd *r, size_t row, size_t col, const char *text, int filter,
			 tidu_expr **out)
{
	const char *bad = refused_feature(text);
	int error;

	if (bad) {
		char *fn = tidu_strndup(bad, strlen(bad) - 1);

		error = cell_fail(r, r->survey_name, row, col, r->scol[col].raw,
				  _("'%s' is not supported by tidu"), fn);
		free(fn);
		return error;
	}
	if ((error = (filter ? tidu_expr_parse_filter : tidu_expr_parse)(text, out)) < 0) {
		char *why = tidu_strdup(tidu_error_message());

		error = cell_fail(r, r->survey_name, row, col, r->scol[col].raw, "%s", why);
		free(why);
	}
	return error;
}

static int parse_expr(rd *r, size_t row, size_t col, const char *text, tidu_expr **out)
{
	return parse_expr_as(r, row, col, text, 0, out);
}

/* Reads one row into q; *skip = 1 for a blank row. */
static int read_row(rd *r, size_t row, tidu_form_question *q, char **list, int *skip)
{
	tidu_xlsx_sheet *s = r->survey;
	tidu_form *f = r->f;
	size_t c;
	int error = 0, any = 0;

	memset(q, 0, sizeof(*q));
	q->row = row + 1;
	q->parent = TIDU_FORM_TOP;
	q->end = TIDU_FORM_TOP;
	*list = NULL;
	*skip = 0;
	for (c = 0; c < r->nscol && !error; c++) {
		colinfo *ci = &r->scol[c];
		char *v;

		if (ci->col < 0 || ci->col == C_IGNORED || !(v = cell(s, row, c)))
			continue;
		any = 1;
		switch (ci->col) {
		case C_TYPE:
			error = parse_type(r, row, c, v, q, list);
			free(v);
			break;
		case C_NAME:
			q->name = v;
			if (!valid_name(v))
				error = cell_fail(r, r->survey_name, row, c, ci->raw,
					_("'%s' is not a valid name: a letter or '_' first, then letters, digits, '-', '.' or '_'"),
					v);
			break;
		case C_LABEL:
			text_set(f, &q->label, ci->lang, v);
			break;
		case C_HINT:
			text_set(f, &q->hint, ci->lang, v);
			break;
		case C_REQUIRED_MSG:
			text_set(f, &q->required_message, ci->lang, v);
			break;
		case C_CONSTRAINT_MSG:
			text_set(f, &q->constraint_message, ci->lang, v);
			break;
		case C_REQUIRED:
			q->required_text = v;
			if ((q->required = yes_no(v)) < 0)
				error = parse_expr(r, row, c, v, &q->required_expr);
			break;
		case C_READ_ONLY:
			q->read_only_text = v;
			if ((q->read_only = yes_no(v)) < 0)
				error = parse_expr(r, row, c, v, &q->read_only_expr);
			break;
		case C_RELEVANT:
			q->relevant_text = v;
			error = parse_expr(r, row, c, v, &q->relevant);
			break;
		case C_CONSTRAINT:
			q->constraint_text = v;
			error = parse_expr(r, row, c, v, &q->constraint);
			break;
		case C_CALCULATION:
			q->calculation_text = v;
			error = parse_expr(r, row, c, v, &q->calculation);
			break;
		case C_CHOICE_FILTER:
			q->choice_filter_text = v;
			error = parse_expr_as(r, row, c, v, 1, &q->choice_filter);
			break;
		case C_REPEAT_COUNT:
			q->repeat_count_text = v;
			error = parse_expr(r, row, c, v, &q->repeat_count);
			break;
		case C_DEFAULT:
			q->default_text = v;
			break;
		case C_APPEARANCE:
			q->appearance = v;
			break;
		case C_SAVE_TO:
			q->save_to = v;
			break;
		case C_PARAMETERS:
			free(v); /* max-pixels and the like: for phones, not for tidu */
			break;
		default:
			free(v);
		}
	}
	if (!any) {
		*skip = 1;
		return 0;
	}
	if (error)
		return error;
	if (!q->type_text) {
		for (c = 0; c < r->nscol && r->scol[c].col != C_TYPE; c++)
			;
		return cell_fail(r, r->survey_name, row, c, "type", "%s",
				 _("the row has no type"));
	}
	if (!q->name && q->type != TIDU_Q_END_GROUP && q->type != TIDU_Q_END_REPEAT) {
		for (c = 0; c < r->nscol && r->scol[c].col != C_NAME; c++)
			;
		return cell_fail(r, r->survey_name, row, c, "name", "%s",
				 _("the question has no name"));
	}
	return 0;
}

/* The column index of canonical column `col` in the survey sheet (for messages). */
static size_t col_of(const rd *r, int col)
{
	size_t c;

	for (c = 0; c < r->nscol; c++)
		if (r->scol[c].col == col)
			return c;
	return 0;
}

static int name_ix_cmp(const void *a, const void *b)
{
	const name_ix *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/*
 * Sorts the named questions by name (then sheet order) into r->names, so
 * that names are checked and found in O(n log n) rather than pair by pair
 * (a form of 2,000 questions made 2 million comparisons). A name used
 * twice is refused as a search over all pairs would find it first: at the
 * earliest question whose name an earlier one has, naming the first row
 * with that name.
 */
static int index_names(rd *r)
{
	tidu_form *f = r->f;
	size_t i, k, start = 0, dup = TIDU_FORM_TOP, first = 0;

	r->names = tidu_reallocarray(NULL, f->nq ? f->nq : 1, sizeof(*r->names));
	r->nnames = 0;
	for (i = 0; i < f->nq; i++)
		if (f->q[i].name)
			r->names[r->nnames++] = (name_ix){ .name = f->q[i].name, .i = i };
	if (r->nnames)
		qsort(r->names, r->nnames, sizeof(*r->names), name_ix_cmp);
	for (k = 1; k < r->nnames; k++) {
		if (strcmp(r->names[k - 1].name, r->names[k].name)) {
			start = k;
			continue;
		}
		/* the second of a run of one name: the earliest repeat of that name */
		if (k == start + 1 && r->names[k].i < dup) {
			dup = r->names[k].i;
			first = r->names[start].i;
		}
	}
	if (dup == TIDU_FORM_TOP)
		return 0;
	return cell_fail(r, r->survey_name, f->q[dup].row - 1, col_of(r, C_NAME), "name",
			 _("the name '%s' is used twice (rows %zu and %zu)"), f->q[dup].name,
			 f->q[first].row, f->q[dup].row);
}

static int name_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const name_ix *)elem)->name);
}

/*
 * The question named `name`, or TIDU_FORM_TOP: tidu_form_find through the
 * index, once read_questions has passed (names are unique then).
 */
static size_t find_question(const rd *r, const char *name)
{
	const name_ix *e = r->nnames ? bsearch(name, r->names, r->nnames, sizeof(*r->names),
					       name_key_cmp) : NULL;

	return e ? e->i : TIDU_FORM_TOP;
}

static int read_questions(rd *r)
{
	tidu_form *f = r->f;
	size_t row, stack[TIDU_EXPR_MAX_DEPTH], depth = 0;
	int error = 0;

	for (row = 1; row < tidu_xlsx_rows(r->survey) && !error; row++) {
		tidu_form_question q;
		char *list = NULL;
		int skip;

		if ((error = read_row(r, row, &q, &list, &skip)) < 0 || skip) {
			if (error < 0) {
				/* q is half made: keep it in the form so that it is freed */
				f->q = tidu_reallocarray(f->q, f->nq + 1, sizeof(*f->q));
				f->q[f->nq++] = q;
			}
			free(list);
			continue;
		}
		if (f->nq >= TIDU_FORM_MAX_QUESTIONS) {
			free(list);
			f->q = tidu_reallocarray(f->q, f->nq + 1, sizeof(*f->q));
			f->q[f->nq++] = q;
			error = cell_fail(r, r->survey_name, row, col_of(r, C_TYPE), "type",
					  _("more than %d questions"), TIDU_FORM_MAX_QUESTIONS);
			break;
		}
		q.parent = depth ? stack[depth - 1] : TIDU_FORM_TOP;
		if (list) {
			if (!(q.list = find_list(f, list)))
				error = cell_fail(r, r->survey_name, row, col_of(r, C_TYPE), "type",
						  _("choice list '%s' is not on the choices sheet"), list);
			free(list);
		}
		f->q = tidu_reallocarray(f->q, f->nq + 1, sizeof(*f->q));
		f->q[f->nq] = q;
		if (error)
			f->nq++;
		else if (q.type == TIDU_Q_BEGIN_GROUP || q.type == TIDU_Q_BEGIN_REPEAT) {
			if (depth == TIDU_EXPR_MAX_DEPTH)
				error = cell_fail(r, r->survey_name, row, col_of(r, C_TYPE), "type",
						  _("groups nested more than %d deep"), TIDU_EXPR_MAX_DEPTH);
			else
				stack[depth++] = f->nq;
			f->nq++;
		} else if (q.type == TIDU_Q_END_GROUP || q.type == TIDU_Q_END_REPEAT) {
			tidu_qtype want = q.type == TIDU_Q_END_GROUP ? TIDU_Q_BEGIN_GROUP
								     : TIDU_Q_BEGIN_REPEAT;

			if (!depth)
				error = cell_fail(r, r->survey_name, row, col_of(r, C_TYPE), "type",
					_("'%s' closes no open %s"), q.type_text,
					want == TIDU_Q_BEGIN_GROUP ? "group" : "repeat");
			else if (f->q[stack[depth - 1]].type != want)
				error = cell_fail(r, r->survey_name, row, col_of(r, C_TYPE), "type",
					_("'%s' cannot close the open %s '%s' (row %zu)"), q.type_text,
					want == TIDU_Q_BEGIN_GROUP ? "repeat" : "group",
					f->q[stack[depth - 1]].name, f->q[stack[depth - 1]].row);
			else {
				f->q[stack[depth - 1]].end = f->nq;
				f->q[f->nq].parent = depth > 1 ? stack[depth - 2] : TIDU_FORM_TOP;
				depth--;
			}
			f->nq++;
		} else {
			f->nq++;
		}
	}
	if (!error && depth) {
		const tidu_form_question *open = &f->q[stack[depth - 1]];

		error = cell_fail(r, r->survey_name, open->row - 1, col_of(r, C_TYPE), "type",
				  _("'%s' is never closed (an 'end %s' row is missing)"), open->name,
				  open->type == TIDU_Q_BEGIN_GROUP ? "group" : "repeat");
	}
	if (!error)
		error = index_names(r);
	return error;
}

/* ---- checks across questions ---------------------------------------------------------- */

int tidu_qtype_has_value(tidu_qtype t)
{
	return !(t == TIDU_Q_NOTE || t == TIDU_Q_BEGIN_GROUP || t == TIDU_Q_END_GROUP ||
		 t == TIDU_Q_BEGIN_REPEAT || t == TIDU_Q_END_REPEAT);
}

static int is_asked(tidu_qtype t)
{
	return t <= TIDU_Q_SELECT_MULTIPLE || t == TIDU_Q_NOTE || t == TIDU_Q_ACKNOWLEDGE ||
	       t == TIDU_Q_GEOPOINT || t == TIDU_Q_FILE || t == TIDU_Q_BARCODE;
}

size_t tidu_form_find(const tidu_form *f, const char *name)
{
	size_t lo = 0, hi = f->nnamed;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(f->q[f->byname[mid]].name, name);

		if (!c)
			return f->byname[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return TIDU_FORM_TOP;
}

/* Every ${name} of `e` names a question that holds a value (or a repeat, for count()). */
static int check_refs(rd *r, const tidu_form_question *q, const tidu_expr *e, int col)
{
	size_t i, k;

	for (i = 0; e && i < tidu_expr_ref_count(e); i++) {
		const char *n = tidu_expr_ref(e, i);

		k = find_question(r, n);
		if (k == TIDU_FORM_TOP)
			return cell_fail(r, r->survey_name, q->row - 1, col_of(r, col),
					 col_names[col], _("${%s} names no question of the form"), n);
		if (r->f->q[k].type == TIDU_Q_NOTE || r->f->q[k].type == TIDU_Q_BEGIN_GROUP)
			return cell_fail(r, r->survey_name, q->row - 1, col_of(r, col),
					 col_names[col], _("${%s} is a %s: it has no value"), n,
					 r->f->q[k].type == TIDU_Q_NOTE ? "note" : "group");
	}
	return 0;
}

/* Every bare name of a choice_filter is `name` or a column of the choices sheet. */
static int check_cols(rd *r, const tidu_form_question *q)
{
	size_t i, k;

	for (i = 0; i < tidu_expr_col_count(q->choice_filter); i++) {
		const char *c = tidu_expr_col(q->choice_filter, i);

		for (k = 0; k < r->f->nchoice_cols && strcmp(r->f->choice_cols[k], c); k++)
			;
		if (strcmp(c, "name") && k == r->f->nchoice_cols)
			return cell_fail(r, r->survey_name, q->row - 1, col_of(r, C_CHOICE_FILTER),
					 "choice_filter",
					 _("'%s' is not a column of the choices sheet"), c);
	}
	return 0;
}

/*
 * The expressions that decide a value or whether it is asked (calculation,
 * relevant, required, read_only, repeat_count) must not depend on
 * themselves: a depth-first walk over their ${} references and from each
 * question to its enclosing group (a group whose relevant reads one of its
 * own questions is a cycle).
 */
static int visit(rd *r, size_t i, unsigned char *mark, size_t *path, size_t depth)
{
	const tidu_form_question *q = &r->f->q[i];
	const tidu_expr *es[5] = {q->calculation, q->relevant, q->required_expr, q->read_only_expr,
				  q->repeat_count};
	size_t e, k, j;

	if (mark[i] == 2)
		return 0;
	if (mark[i] == 1) {
		tidu_buf cyc = TIDU_BUF_INIT;
		int error;

		for (j = 0; j < depth && path[j] != i; j++)
			;
		for (; j < depth; j++)
			tidu_buf_printf(&cyc, "${%s} -> ", r->f->q[path[j]].name);
		tidu_buf_printf(&cyc, "${%s}", q->name);
		error = cell_fail(r, r->survey_name, q->row - 1, col_of(r, C_NAME), "name",
				  _("a cycle: %s"), tidu_buf_cstr(&cyc));
		tidu_buf_free(&cyc);
		return error;
	}
	mark[i] = 1;
	path[depth] = i;
	/* Whether a question is asked depends on its groups' relevant too. */
	if (q->parent != TIDU_FORM_TOP) {
		int error = visit(r, q->parent, mark, path, depth + 1);

		if (error < 0)
			return error;
	}
	for (e = 0; e < 5; e++)
		for (k = 0; es[e] && k < tidu_expr_ref_count(es[e]); k++) {
			size_t to = find_question(r, tidu_expr_ref(es[e], k));
			int error;

			if (to != TIDU_FORM_TOP && (error = visit(r, to, mark, path, depth + 1)) < 0)
				return error;
		}
	mark[i] = 2;
	return 0;
}

/* A save_to key: a firm field, or YEAR.KEY of a yearly figure; it must fit the type. */
static int check_save_to(rd *r, const tidu_form_question *q)
{
	const char *k = q->save_to, *dot = strchr(k, '.');
	const tidu_field *fld;
	int numeric, ok;

	if (dot && dot - k == 4 && isdigit((unsigned char)k[0]) && isdigit((unsigned char)k[1]) &&
	    isdigit((unsigned char)k[2]) && isdigit((unsigned char)k[3]))
		fld = tidu_dict_field(TIDU_ENTITY_FIRM_YEAR, dot + 1);
	else
		fld = tidu_dict_field(TIDU_ENTITY_FIRM, k);
	if (!fld || !strcmp(fld->key, "uscc") || !strcmp(fld->key, "district"))
		return cell_fail(r, r->survey_name, q->row - 1, col_of(r, C_SAVE_TO), "save_to",
			_("'%s' is not a firm field that a survey may fill (see the data dictionary)"), k);
	if (!tidu_qtype_has_value(q->type) || q->type == TIDU_Q_BEGIN_REPEAT ||
	    q->type == TIDU_Q_FILE || q->type >= TIDU_Q_START)
		return cell_fail(r, r->survey_name, q->row - 1, col_of(r, C_SAVE_TO), "save_to",
				 _("a %s question cannot fill a firm field"), tidu_qtype_name(q->type));
	if (q->parent != TIDU_FORM_TOP) {
		size_t p;

		for (p = q->parent; p != TIDU_FORM_TOP; p = r->f->q[p].parent)
			if (r->f->q[p].type == TIDU_Q_BEGIN_REPEAT)
				return cell_fail(r, r->survey_name, q->row - 1, col_of(r, C_SAVE_TO),
						 "save_to", "%s",
						 _("a question inside a repeat cannot fill a firm field"));
	}
	numeric = fld->type == TIDU_T_INT || fld->type == TIDU_T_REAL;
	switch (q->type) {
	case TIDU_Q_INTEGER:
		ok = numeric || fld->type == TIDU_T_BOOL;
		break;
	case TIDU_Q_DECIMAL:
		ok = fld->type == TIDU_T_REAL;
		break;
	case TIDU_Q_DATE:
		ok = fld->type == TIDU_T_DATE;
		break;
	case TIDU_Q_SELECT_ONE:
		ok = fld->type == TIDU_T_ENUM || fld->type == TIDU_T_BOOL ||
		     fld->type == TIDU_T_DISTRICT || fld->type == TIDU_T_CHAIN ||
		     fld->type == TIDU_T_INDUSTRY || numeric;
		break;
	case TIDU_Q_SELECT_MULTIPLE:
		ok = fld->type == TIDU_T_SET;
		break;
	case TIDU_Q_ACKNOWLEDGE:
		ok = fld->type == TIDU_T_BOOL;
		break;
	default: /* text, calculate, hidden, barcode, geopoint: the field's own check decides */
		ok = 1;
	}
	if (!ok)
		return cell_fail(r, r->survey_name, q->row - 1, col_of(r, C_SAVE_TO), "save_to",
				 _("a %s question cannot fill '%s' (%s)"), tidu_qtype_name(q->type), k,
				 tidu_dict_label(fld));
	return 0;
}

static int check_form(rd *r)
{
	tidu_form *f = r->f;
	unsigned char *mark;
	size_t *path, i;
	int error = 0;

	for (i = 0; i < f->nq && !error; i++) {
		const tidu_form_question *q = &f->q[i];

		if (q->type == TIDU_Q_END_GROUP || q->type == TIDU_Q_END_REPEAT)
			continue;
		if (is_asked(q->type) && !q->label.text)
			error = cell_fail(r, r->survey_name, q->row - 1, col_of(r, C_LABEL), "label",
					  _("'%s' has no label"), q->name);
		else if (q->type == TIDU_Q_CALCULATE && !q->calculation)
			error = cell_fail(r, r->survey_name, q->row - 1, col_of(r, C_CALCULATION),
					  "calculation", _("calculate '%s' has no calculation"), q->name);
		else if (q->repeat_count && q->type != TIDU_Q_BEGIN_REPEAT)
			error = cell_fail(r, r->survey_name, q->row - 1, col_of(r, C_REPEAT_COUNT),
					  "repeat_count", "%s",
					  _("repeat_count goes only with 'begin repeat'"));
		else if (q->choice_filter && q->type != TIDU_Q_SELECT_ONE &&
			 q->type != TIDU_Q_SELECT_MULTIPLE)
			error = cell_fail(r, r->survey_name, q->row - 1, col_of(r, C_CHOICE_FILTER),
					  "choice_filter", "%s", _("choice_filter goes only with a select"));
		if (!error)
			error = check_refs(r, q, q->relevant, C_RELEVANT);
		if (!error)
			error = check_refs(r, q, q->constraint, C_CONSTRAINT);
		if (!error)
			error = check_refs(r, q, q->calculation, C_CALCULATION);
		if (!error)
			error = check_refs(r, q, q->required_expr, C_REQUIRED);
		if (!error)
			error = check_refs(r, q, q->read_only_expr, C_READ_ONLY);
		if (!error)
			error = check_refs(r, q, q->choice_filter, C_CHOICE_FILTER);
		if (!error)
			error = check_refs(r, q, q->repeat_count, C_REPEAT_COUNT);
		if (!error && q->choice_filter)
			error = check_cols(r, q);
		if (!error && q->save_to)
			error = check_save_to(r, q);
	}
	if (error)
		return error;
	mark = tidu_calloc(f->nq ? f->nq : 1, 1);
	path = tidu_calloc(f->nq ? f->nq : 1, sizeof(*path));
	for (i = 0; i < f->nq && !error; i++)
		error = visit(r, i, mark, path, 0);
	free(mark);
	free(path);
	return error;
}

/* ---- the whole ---------------------------------------------------------------------- */

static const char *const qtype_names[] = {
	"text", "integer", "decimal", "date", "time", "datetime", "select_one",
	"select_multiple", "note", "acknowledge", "calculate", "hidden", "geopoint", "file",
	"barcode", "begin_group", "end_group", "begin_repeat", "end_repeat", "start", "end",
	"today", "deviceid", "username", "phonenumber", "simserial",
};

const char *tidu_qtype_name(tidu_qtype t)
{
	return (size_t)t < sizeof(qtype_names) / sizeof(qtype_names[0]) ? qtype_names[t] : "?";
}

static void question_free(tidu_form_question *q)
{
	free(q->type_text);
	free(q->name);
	text_free(&q->label);
	text_free(&q->hint);
	text_free(&q->constraint_message);
	text_free(&q->required_message);
	free(q->relevant_text);
	free(q->constraint_text);
	free(q->calculation_text);
	free(q->default_text);
	free(q->required_text);
	free(q->read_only_text);
	free(q->choice_filter_text);
	free(q->repeat_count_text);
	free(q->appearance);
	free(q->save_to);
	tidu_expr_free(q->relevant);
	tidu_expr_free(q->constraint);
	tidu_expr_free(q->calculation);
	tidu_expr_free(q->required_expr);
	tidu_expr_free(q->read_only_expr);
	tidu_expr_free(q->choice_filter);
	tidu_expr_free(q->repeat_count);
}

void tidu_form_free(tidu_form *f)
{
	size_t i, j, k;

	if (!f)
		return;
	free(f->id);
	free(f->version);
	text_free(&f->title);
	for (i = 0; i < f->nlangs; i++)
		free(f->langs[i]);
	free(f->langs);
	for (i = 0; i < f->nq; i++)
		question_free(&f->q[i]);
	free(f->q);
	for (i = 0; i < f->nlists; i++) {
		for (j = 0; j < f->lists[i].n; j++) {
			tidu_form_choice *c = &f->lists[i].choices[j];

			free(c->name);
			text_free(&c->label);
			for (k = 0; c->extra && k < f->nchoice_cols; k++)
				free(c->extra[k]);
			free(c->extra);
		}
		free(f->lists[i].choices);
		free(f->lists[i].byname);
		free(f->lists[i].name);
	}
	free(f->lists);
	free(f->byname);
	for (i = 0; i < f->nchoice_cols; i++)
		free(f->choice_cols[i]);
	free(f->choice_cols);
	free(f);
}

/* The form id from a file name: "tier1-self-check.xlsx" -> "tier1-self-check". */
static char *id_from_file(const char *file)
{
	const char *base = strrchr(file, '/'), *dot;

	base = base ? base + 1 : file;
	dot = strrchr(base, '.');
	return tidu_strndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

/* The sheet named `name` in any case, or SIZE_MAX. */
static size_t sheet_named(const tidu_xlsx *x, const char *name)
{
	size_t i;

	for (i = 0; i < tidu_xlsx_sheet_count(x); i++)
		if (ieq(tidu_xlsx_sheet_name(x, i), name))
			return i;
	return (size_t)-1;
}

int tidu_form_from_xlsx(tidu_xlsx *x, const char *file, tidu_form **out)
{
	rd r;
	size_t si, ci, ti, i;
	int error;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	r.file = file;
	if ((si = sheet_named(x, "survey")) == (size_t)-1)
		return tidu_error_set(TIDU_EINVAL, _("%s: the workbook has no 'survey' sheet"), file);
	if (sheet_named(x, "external_choices") != (size_t)-1)
		return tidu_error_set(TIDU_EINVAL,
			_("%s: sheet 'external_choices': selects from external files are not supported"),
			file);
	ci = sheet_named(x, "choices");
	ti = sheet_named(x, "settings");
	r.survey_name = tidu_xlsx_sheet_name(x, si);
	r.choices_name = ci != (size_t)-1 ? tidu_xlsx_sheet_name(x, ci) : "choices";
	r.settings_name = ti != (size_t)-1 ? tidu_xlsx_sheet_name(x, ti) : "settings";
	r.f = tidu_calloc(1, sizeof(*r.f));
	if ((error = tidu_xlsx_sheet_read(x, si, &r.survey)) < 0 ||
	    (ci != (size_t)-1 && (error = tidu_xlsx_sheet_read(x, ci, &r.choices)) < 0) ||
	    (ti != (size_t)-1 && (error = tidu_xlsx_sheet_read(x, ti, &r.settings)) < 0))
		goto done;
	if ((error = read_settings(&r)) < 0 || (error = read_survey_header(&r)) < 0 ||
	    (error = read_choices(&r)) < 0 || (error = read_questions(&r)) < 0 ||
	    (error = check_form(&r)) < 0)
		goto done;
	r.f->byname = tidu_reallocarray(NULL, r.nnames ? r.nnames : 1, sizeof(*r.f->byname));
	for (r.f->nnamed = 0; r.f->nnamed < r.nnames; r.f->nnamed++)
		r.f->byname[r.f->nnamed] = r.names[r.f->nnamed].i;
	if (!r.f->id)
		r.f->id = id_from_file(file);
	if (!valid_name(r.f->id)) {
		error = tidu_error_set(TIDU_EINVAL,
			_("%s: the form id '%s' is not a valid name (settings, form_id)"), file, r.f->id);
		goto done;
	}
	if (!r.f->version)
		r.f->version = tidu_strdup("1");
	if (!r.f->nlangs)
		lang_index(r.f, "");
	/* The default language: settings' default_language, else unnamed columns, else zh. */
	if (!r.have_default) {
		for (i = 0; i < r.f->nlangs; i++)
			if (!strcmp(r.f->langs[i], ""))
				break;
		if (i == r.f->nlangs)
			for (i = 0; i < r.f->nlangs && strcmp(r.f->langs[i], "zh"); i++)
				;
		r.f->default_lang = i < r.f->nlangs ? i : 0;
	}
	if (r.title) {
		for (i = 0; i < r.f->nlangs && strcmp(r.f->langs[i], ""); i++)
			;
		text_set(r.f, &r.f->title, (int)(i < r.f->nlangs ? i : r.f->default_lang), r.title);
		r.title = NULL;
	}
	*out = r.f;
	r.f = NULL;
done:
	free(r.title);
	tidu_form_free(r.f);
	tidu_xlsx_sheet_free(r.survey);
	tidu_xlsx_sheet_free(r.choices);
	tidu_xlsx_sheet_free(r.settings);
	for (i = 0; i < r.nscol; i++)
		free(r.scol[i].raw);
	free(r.scol);
	for (i = 0; i < r.nccol; i++)
		free(r.ccol[i].raw);
	free(r.ccol);
	free(r.names);
	return error;
}

int tidu_form_read(const char *path, tidu_form **out)
{
	tidu_xlsx_limits lim = tidu_xlsx_default_limits;
	tidu_xlsx *x = NULL;
	int error;

	lim.max_file = TIDU_FORM_FILE_MAX;
	*out = NULL;
	if ((error = tidu_xlsx_open(path, &lim, &x)) < 0)
		return error;
	error = tidu_form_from_xlsx(x, path, out);
	tidu_xlsx_free(x);
	return error;
}

int tidu_form_read_mem(const char *name, const void *data, size_t len, tidu_form **out)
{
	tidu_xlsx_limits lim = tidu_xlsx_default_limits;
	tidu_xlsx *x = NULL;
	int error;

	lim.max_file = TIDU_FORM_FILE_MAX;
	*out = NULL;
	if ((error = tidu_xlsx_open_mem(name, data, len, &lim, &x)) < 0)
		return error;
	error = tidu_form_from_xlsx(x, name, out);
	tidu_xlsx_free(x);
	return error;
}
