#ifndef TIDU_DICT_H
#define TIDU_DICT_H
/*
 * The data dictionary (schema/dictionary.csv, schema/choices.csv), the
 * divisions (schema/divisions.csv) and the key industrial chains
 * (schema/chains.csv), compiled into the binary. Loaded once, on first use;
 * every pointer returned here is borrowed and lives as long as the process.
 */
#include <stddef.h>

#include "tidu/buf.h"

/* The entities: a table each, whose fields the dictionary lists. */
#define TIDU_ENTITY_FIRM "firm"           /* key: USCC */
#define TIDU_ENTITY_FIRM_YEAR "firm_year" /* key: USCC "/" year */
#define TIDU_ENTITY_VISIT "visit"         /* key: UUIDv7 */
#define TIDU_ENTITY_RESPONSE "response"   /* key: UUIDv7 (a survey response) */
#define TIDU_ENTITY_ATTACHMENT "attachment" /* key: UUIDv7 "/" part */
#define TIDU_ENTITY_REFERRAL "referral"   /* key: UUIDv7 (docs/services.md) */
#define TIDU_ENTITY_EVENT "event"         /* key: UUIDv7; no firm: its `district` */
#define TIDU_ENTITY_ATTENDANCE "attendance" /* key: UUIDv7 (a firm at an event) */

typedef enum {
	TIDU_T_TEXT,     /* one line of UTF-8: no control characters, not blank */
	TIDU_T_NOTE,     /* multi-line text ("note"): newline and tab allowed */
	TIDU_T_INT,      /* decimal integer within [min, max] */
	TIDU_T_REAL,     /* finite decimal number within [min, max] */
	TIDU_T_DATE,     /* YYYY-MM-DD, a real calendar day */
	TIDU_T_BOOL,     /* 1/0 (true/false, yes/no, 是/否 accepted) */
	TIDU_T_ENUM,     /* one value of a choice list */
	TIDU_T_SET,      /* comma-separated values of a choice list */
	TIDU_T_USCC,     /* unified social credit code */
	TIDU_T_DISTRICT, /* code from the divisions list */
	TIDU_T_PHONE,    /* digits, spaces, '+', '-' */
	TIDU_T_INDUSTRY, /* GB/T 4754-2017 code, stored with its section: C3484 */
	TIDU_T_CHAIN     /* code from the chains list */
} tidu_type;

typedef struct {
	const char *entity;  /* TIDU_ENTITY_* */
	const char *key;     /* dictionary key, also the column name */
	tidu_type type;
	const char *choices; /* choice list name for enum/set, else "" */
	int has_min, has_max;
	double min, max;
	const char *zh, *en; /* labels */
} tidu_field;

/* The field `key` of `entity`, or NULL. */
const tidu_field *tidu_dict_field(const char *entity, const char *key);

/* The field whose key, Chinese or English label is `name`, or NULL. */
const tidu_field *tidu_dict_lookup(const char *entity, const char *name);

/* The i-th field of `entity` in dictionary order, or NULL past the end. */
const tidu_field *tidu_dict_nth(const char *entity, size_t i);

/* The label of `f` in the current language. */
const char *tidu_dict_label(const tidu_field *f);

/* The label of a choice in the current language, or NULL if unknown. */
const char *tidu_dict_choice_label(const char *list, const char *value);

/* The code of a choice given as its code or its Chinese or English label, or NULL. */
const char *tidu_dict_choice_code(const char *list, const char *text);

/* Comma-separated values of a choice list (for messages and help). */
const char *tidu_dict_choice_values(const char *list);

/* The name of a district code in the current language, or NULL. */
const char *tidu_dict_district_name(const char *code);

/* 1 if `code` is the prefecture city itself (410100), which is no district. */
int tidu_dict_is_city(const char *code);

/* The i-th division code (with a code), or NULL past the end. */
const char *tidu_dict_district_nth(size_t i);

/* 1 if `code` is a known key industrial chain. */
int tidu_dict_chain_valid(const char *code);

/*
 * The section letter (A to T) of GB/T 4754-2017 division `division` (1 to
 * 97, from schema/industry_sections.csv), or 0 if there is no such division.
 */
char tidu_dict_industry_section(int division);

/* 1 if `f` is a date that may not be after today (dictionary max "today"). */
int tidu_dict_max_today(const tidu_field *f);

/* SQLite storage class of a field: SQLITE_INTEGER, SQLITE_FLOAT or SQLITE_TEXT. */
int tidu_dict_sqltype(const tidu_field *f);

/*
 * Validates `in` for field `f` and writes its canonical text to `out`
 * (numbers in shortest form, booleans as 1/0, sets sorted and unique, USCC
 * upper-case, industry codes with their section letter). TIDU_EINVAL with a
 * message naming the field and the value. Every field refuses invalid
 * UTF-8 and a value of spaces only; every field but a `note` refuses the
 * characters tidu_utf8_is_control() names (a note allows newline and tab);
 * a date whose dictionary max is "today" refuses a day after today (local
 * time).
 */
int tidu_dict_canonical(const tidu_field *f, const char *in, tidu_buf *out);

#endif
