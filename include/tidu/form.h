#ifndef TIDU_FORM_H
#define TIDU_FORM_H
/*
 * Survey forms (docs/surveys.md): an XLSForm workbook read into a checked
 * model. The reader accepts what pyxform (the converter behind ODK and
 * KoboToolbox) accepts: header aliases and older spellings ("list name",
 * "label:English", "select one from L", "end_group", "phone number"...),
 * sheet names in any case, extra columns and sheets ignored, a form id from
 * the file name when `settings` has none. What tidu cannot do (pulldata,
 * include, external selects, osm, ranks, geoshapes...) is refused with one
 * line naming the feature and the cell (sheet, row, column), TIDU_EINVAL.
 *
 * Every expression is parsed at import (expr.h); a reference to an unknown
 * question, a cycle among calculations, relevants, constraints or
 * required, a choice list that is not defined, a duplicate name or an
 * unbalanced group is an import error naming the cell. `save_to` names a
 * firm field of the dictionary (`employees`, `2025.rd_expense`) and must fit
 * the question's type.
 */
#include <stddef.h>

#include "tidu/expr.h"
#include "tidu/xlsx.h"

typedef enum {
	TIDU_Q_TEXT,
	TIDU_Q_INTEGER,
	TIDU_Q_DECIMAL,
	TIDU_Q_DATE,
	TIDU_Q_TIME,
	TIDU_Q_DATETIME,
	TIDU_Q_SELECT_ONE,
	TIDU_Q_SELECT_MULTIPLE,
	TIDU_Q_NOTE,
	TIDU_Q_ACKNOWLEDGE,
	TIDU_Q_CALCULATE,
	TIDU_Q_HIDDEN,
	TIDU_Q_GEOPOINT,
	TIDU_Q_FILE,      /* image, audio, video, file: `media` says which */
	TIDU_Q_BARCODE,
	TIDU_Q_BEGIN_GROUP,
	TIDU_Q_END_GROUP,
	TIDU_Q_BEGIN_REPEAT,
	TIDU_Q_END_REPEAT,
	/* metadata: filled by tidu, never asked */
	TIDU_Q_START,
	TIDU_Q_END,
	TIDU_Q_TODAY,
	TIDU_Q_DEVICEID,
	TIDU_Q_USERNAME,
	TIDU_Q_PHONENUMBER,
	TIDU_Q_SIMSERIAL,
} tidu_qtype;

/* A text in each language of the form (NULL where a language has none). */
typedef struct {
	char **text; /* one per tidu_form_lang */
} tidu_form_text;

typedef struct {
	char *name;
	tidu_form_text label;
	char **extra;       /* the choices sheet's other columns, by tidu_form choice_cols */
} tidu_form_choice;

typedef struct {
	char *name;
	tidu_form_choice *choices;
	size_t n;
	const tidu_form_choice **byname; /* the n choices sorted by name, then by place */
} tidu_form_list;

typedef struct {
	tidu_qtype type;
	char *type_text;        /* as written in the sheet */
	char *name;
	const char *media;      /* TIDU_Q_FILE: "image", "audio", "video", "file" */
	tidu_form_text label, hint, constraint_message, required_message;
	const tidu_form_list *list; /* selects */
	int or_other;
	int required;           /* 1: yes; 0: no; -1: the expression `required_expr` */
	int read_only;          /* same */
	char *relevant_text, *constraint_text, *calculation_text, *default_text;
	char *required_text, *read_only_text, *choice_filter_text, *repeat_count_text;
	char *appearance, *save_to;
	tidu_expr *relevant, *constraint, *calculation, *required_expr, *read_only_expr;
	tidu_expr *choice_filter, *repeat_count;
	size_t parent;          /* index of the enclosing begin group/repeat, or TIDU_FORM_TOP */
	size_t end;             /* begin group/repeat: the index of its end */
	size_t row;             /* 1-based row of the survey sheet, for messages */
} tidu_form_question;

#define TIDU_FORM_TOP ((size_t)-1)

typedef struct {
	char *id, *version;
	tidu_form_text title;
	char **langs;           /* language codes: "zh", "en", or "" for unnamed */
	size_t nlangs;
	size_t default_lang;
	int allow_choice_duplicates;
	tidu_form_question *q;
	size_t nq;
	tidu_form_list *lists;
	size_t nlists;
	char **choice_cols;     /* extra columns of the choices sheet (for choice_filter) */
	size_t nchoice_cols;
	size_t *byname;         /* the named questions' indices sorted by name (unique) */
	size_t nnamed;
} tidu_form;

/* Largest form file read (bytes) and the most questions of one form. */
#define TIDU_FORM_FILE_MAX ((size_t)20 << 20)
#define TIDU_FORM_MAX_QUESTIONS 10000

/*
 * Reads the workbook `x` (opened from a file named `file`: the form id when
 * settings has none) into a new form. TIDU_EINVAL with "FILE: sheet
 * 'survey' row 7 column C (relevant): reason" for every problem that stops
 * it (the first). The caller frees it.
 */
int tidu_form_from_xlsx(tidu_xlsx *x, const char *file, tidu_form **out);

/* Opens and reads the .xlsx at `path` (tidu_form_from_xlsx). */
int tidu_form_read(const char *path, tidu_form **out);
int tidu_form_read_mem(const char *name, const void *data, size_t len, tidu_form **out);

void tidu_form_free(tidu_form *f);

/* The index of question `name`, or TIDU_FORM_TOP. */
size_t tidu_form_find(const tidu_form *f, const char *name);

/*
 * A text in language `lang` ("zh", "en", or NULL: the form's default),
 * falling back to the default language and then to any language; "" if none.
 */
const char *tidu_form_text_get(const tidu_form *f, const tidu_form_text *t, const char *lang);

/* "text", "select_one", ... the canonical name of a type. */
const char *tidu_qtype_name(tidu_qtype t);

/* 1 for types that hold an answer (not groups, notes or ends). */
int tidu_qtype_has_value(tidu_qtype t);

#endif
