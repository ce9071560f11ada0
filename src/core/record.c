#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidu/alloc.h"
#include "tidu/changeset.h"
#include "tidu/clock.h"
#include "tidu/dict.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "tidu/parse.h"
#include "tidu/record.h"
#include "tidu/trust.h"
#include "tidu/view.h"

typedef struct {
	const char *name;
	const char *key_where; /* WHERE clause binding the key as ?1 (?2) */
	const char *key_cols;  /* key column list */
	int nkeys;
	int firm_in_key; /* the firm is the key's first part; else its `uscc` field */
	int no_firm;     /* concerns no firm: its own `district` field says whose it is */
} entity_def;

static const entity_def entities[] = {
	{TIDU_ENTITY_FIRM, "uscc=?1", "uscc", 1, 1, 0},
	{TIDU_ENTITY_FIRM_YEAR, "uscc=?1 AND year=?2", "uscc, year", 2, 1, 0},
	{TIDU_ENTITY_VISIT, "id=?1", "id", 1, 0, 0},
	{TIDU_ENTITY_RESPONSE, "id=?1", "id", 1, 0, 0},
	{TIDU_ENTITY_ATTACHMENT, "id=?1 AND part=?2", "id, part", 2, 0, 0},
	{TIDU_ENTITY_REFERRAL, "id=?1", "id", 1, 0, 0},
	{TIDU_ENTITY_EVENT, "id=?1", "id", 1, 0, 1},
	{TIDU_ENTITY_ATTENDANCE, "id=?1", "id", 1, 0, 0},
};

typedef struct {
	const tidu_field *field;
	char *value; /* canonical text, NULL = clear */
} edit_field;

struct tidu_edit {
	const entity_def *entity;
	char *key;
	char *key1;   /* first key part */
	int64_t year; /* second key part of firm_year */
	edit_field *fields;
	size_t n, cap;
	char *as_district; /* city: the desk to write as (tidu_record_edit_as) */
	int keep_all;      /* record unchanged fields too (tidu_record_edit_keep_all) */
};

static const entity_def *entity_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(entities) / sizeof(entities[0]); i++)
		if (!strcmp(entities[i].name, name))
			return &entities[i];
	return NULL;
}

tidu_edit *tidu_record_edit_new(const char *entity, const char *key)
{
	const entity_def *def = entity_find(entity);
	tidu_edit *e;
	const char *slash;

	if (!def)
		abort(); /* a programming error: entities are fixed */
	e = tidu_calloc(1, sizeof(*e));
	e->entity = def;
	e->key = tidu_strdup(key);
	if (def->nkeys == 2 && (slash = strchr(key, '/'))) {
		e->key1 = tidu_strndup(key, (size_t)(slash - key));
		e->year = strtoll(slash + 1, NULL, 10);
	} else {
		e->key1 = tidu_strdup(key);
	}
	return e;
}

void tidu_record_edit_free(tidu_edit *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->n; i++)
		free(e->fields[i].value);
	free(e->fields);
	free(e->key);
	free(e->key1);
	free(e->as_district);
	free(e);
}

void tidu_record_edit_as(tidu_edit *e, const char *district)
{
	free(e->as_district);
	e->as_district = district ? tidu_strdup(district) : NULL;
}

const char *tidu_record_edit_key(const tidu_edit *e)
{
	return e->key;
}

size_t tidu_record_edit_count(const tidu_edit *e)
{
	return e->n;
}

const char *tidu_record_edit_get(const tidu_edit *e, const char *field, int *is_set)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		if (!strcmp(e->fields[i].field->key, field)) {
			if (is_set)
				*is_set = 1;
			return e->fields[i].value;
		}
	}
	if (is_set)
		*is_set = 0;
	return NULL;
}

/* The tombstone: a boolean field of every entity, outside the dictionary. */
static const tidu_field deleted_field = {
	"", "_deleted", TIDU_T_BOOL, "", 0, 0, 0, 0, "已删除", "deleted",
};

static const tidu_field *field_of(const tidu_edit *e, const char *name)
{
	if (!strcmp(name, "_deleted"))
		return &deleted_field;
	return tidu_dict_field(e->entity->name, name);
}

static edit_field *slot_for(tidu_edit *e, const tidu_field *f)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (e->fields[i].field == f)
			return &e->fields[i];
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->fields = tidu_reallocarray(e->fields, e->cap, sizeof(*e->fields));
	}
	e->fields[e->n].field = f;
	e->fields[e->n].value = NULL;
	return &e->fields[e->n++];
}

int tidu_record_edit_set(tidu_edit *e, const char *field, const char *value)
{
	const tidu_field *f = field_of(e, field);
	tidu_buf canon = TIDU_BUF_INIT;
	edit_field *slot;
	int error;

	if (!f)
		return tidu_error_set(TIDU_EINVAL, _("unknown field '%s'"), field);
	if (value && *value &&
	    (error = tidu_dict_canonical(f, value, &canon)) < 0) {
		tidu_buf_free(&canon);
		return error;
	}
	if (canon.len > TIDU_CHANGESET_MAX_STRING) {
		size_t len = canon.len;

		tidu_buf_free(&canon);
		return tidu_error_set(TIDU_EINVAL,
			_("field '%s': value is %zu bytes, over the limit of %u bytes"),
			field, len, TIDU_CHANGESET_MAX_STRING);
	}
	slot = slot_for(e, f);
	free(slot->value);
	slot->value = value && *value ? tidu_buf_detach(&canon) : NULL;
	tidu_buf_free(&canon);
	return 0;
}

int tidu_record_edit_put(tidu_edit *e, const char *field, const char *value)
{
	const tidu_field *f = field_of(e, field);
	edit_field *slot;

	if (!f)
		return tidu_error_set(TIDU_EINVAL,
			_("unknown field '%s' of '%s': made by a newer tidu?"),
			field, e->entity->name);
	slot = slot_for(e, f);
	free(slot->value);
	slot->value = value ? tidu_strdup(value) : NULL;
	return 0;
}

static void bind_key(sqlite3_stmt *st, const tidu_edit *e)
{
	sqlite3_bind_text(st, 1, e->key1, -1, SQLITE_STATIC);
	if (e->entity->nkeys == 2)
		sqlite3_bind_int64(st, 2, e->year);
}

static void split_key(const entity_def *def, const char *key, char **k1,
		      int64_t *year)
{
	const char *slash = def->nkeys == 2 ? strchr(key, '/') : NULL;

	*k1 = slash ? tidu_strndup(key, (size_t)(slash - key)) : tidu_strdup(key);
	*year = slash ? strtoll(slash + 1, NULL, 10) : 0;
}

int tidu_record_exists(tidu_store *s, const char *entity, const char *key)
{
	const entity_def *def = entity_find(entity);
	tidu_buf sql = TIDU_BUF_INIT;
	sqlite3_stmt *st;
	char *k1;
	int64_t year;
	int rc, deleted;

	tidu_buf_printf(&sql, "SELECT _deleted FROM %s WHERE %s",
			def->name, def->key_where);
	st = tidu_store_stmt(s, sql.ptr);
	tidu_buf_free(&sql);
	if (!st)
		return TIDU_ERROR;
	split_key(def, key, &k1, &year);
	sqlite3_bind_text(st, 1, k1, -1, SQLITE_TRANSIENT);
	if (def->nkeys == 2)
		sqlite3_bind_int64(st, 2, year);
	free(k1);
	rc = sqlite3_step(st);
	deleted = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return deleted ? TIDU_RECORD_DELETED : TIDU_RECORD_LIVE;
	if (rc == SQLITE_DONE)
		return 0;
	return tidu_store_sqlerr(s, rc, _("looking up a record"));
}

/*
 * Per-field clocks. A row's `_clock` is "field\thlc\tdevice\tbase\n" lines
 * sorted by field: the HLC and device of the value the field holds, and the
 * "hlc:device" of the value that one replaced when it was written (its base,
 * "" if none). It is small (one line per field ever written), so it is
 * parsed into an array, updated and written back whole.
 */
typedef struct {
	char *field;
	int64_t hlc;
	char *device;
	char *base;
} clock_entry;

typedef struct {
	clock_entry *v;
	size_t n, cap;
} clock_vec;

static void clock_parse(clock_vec *c, const char *text)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n'), *t1, *t2, *t3;
		clock_entry *e;

		if (!nl)
			nl = p + strlen(p);
		t1 = memchr(p, '\t', (size_t)(nl - p));
		t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(nl - t1 - 1)) : NULL;
		if (!t2)
			break;
		t3 = memchr(t2 + 1, '\t', (size_t)(nl - t2 - 1));
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 16;
			c->v = tidu_reallocarray(c->v, c->cap, sizeof(*c->v));
		}
		e = &c->v[c->n++];
		e->field = tidu_strndup(p, (size_t)(t1 - p));
		e->hlc = strtoll(t1 + 1, NULL, 10);
		e->device = tidu_strndup(t2 + 1, (size_t)((t3 ? t3 : nl) - t2 - 1));
		e->base = t3 ? tidu_strndup(t3 + 1, (size_t)(nl - t3 - 1)) : tidu_strdup("");
		p = *nl ? nl + 1 : nl;
	}
}

static clock_entry *clock_find(clock_vec *c, const char *field)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].field, field))
			return &c->v[i];
	return NULL;
}

static clock_entry *clock_add(clock_vec *c, const char *field)
{
	clock_entry *e;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = tidu_reallocarray(c->v, c->cap, sizeof(*c->v));
	}
	e = &c->v[c->n++];
	e->field = tidu_strdup(field);
	e->hlc = 0;
	e->device = tidu_strdup("");
	e->base = tidu_strdup("");
	return e;
}

static void clock_set(clock_entry *e, int64_t hlc, const char *device,
		      const char *base)
{
	free(e->device);
	free(e->base);
	e->hlc = hlc;
	e->device = tidu_strdup(device);
	e->base = tidu_strdup(base);
}

static int clock_cmp(const void *a, const void *b)
{
	return strcmp(((const clock_entry *)a)->field,
		      ((const clock_entry *)b)->field);
}

static void clock_format(clock_vec *c, tidu_buf *out)
{
	size_t i;

	qsort(c->v, c->n, sizeof(*c->v), clock_cmp);
	for (i = 0; i < c->n; i++)
		tidu_buf_printf(out, "%s\t%lld\t%s\t%s\n", c->v[i].field,
				(long long)c->v[i].hlc, c->v[i].device, c->v[i].base);
}

static void clock_free(clock_vec *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].field);
		free(c->v[i].device);
		free(c->v[i].base);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static int read_clock(tidu_store *s, const tidu_edit *e, clock_vec *c)
{
	tidu_buf sql = TIDU_BUF_INIT;
	sqlite3_stmt *st;
	int rc;

	tidu_buf_printf(&sql, "SELECT _clock FROM %s WHERE %s", e->entity->name,
			e->entity->key_where);
	st = tidu_store_stmt(s, sql.ptr);
	tidu_buf_free(&sql);
	if (!st)
		return TIDU_ERROR;
	bind_key(st, e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		clock_parse(c, (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tidu_store_sqlerr(s, rc, _("reading a record"));
	return 0;
}

static void bind_value(sqlite3_stmt *st, int col, const edit_field *f)
{
	if (!f->value) {
		sqlite3_bind_null(st, col);
		return;
	}
	switch (tidu_dict_sqltype(f->field)) {
	case SQLITE_INTEGER:
		sqlite3_bind_int64(st, col, strtoll(f->value, NULL, 10));
		break;
	case SQLITE_FLOAT:
		sqlite3_bind_double(st, col, tidu_strtod_c(f->value, NULL));
		break;
	default:
		sqlite3_bind_text(st, col, f->value, -1, SQLITE_STATIC);
	}
}

static int write_row(tidu_store *s, const tidu_edit *e, const char *clock)
{
	tidu_buf sql = TIDU_BUF_INIT;
	sqlite3_stmt *st;
	size_t i;
	int rc, col;

	tidu_buf_printf(&sql, "INSERT INTO %s(%s", e->entity->name,
			e->entity->key_cols);
	for (i = 0; i < e->n; i++)
		tidu_buf_printf(&sql, ", \"%s\"", e->fields[i].field->key);
	tidu_buf_printf(&sql, ", _clock) VALUES(?1%s",
			e->entity->nkeys == 2 ? ", ?2" : "");
	for (i = 0; i <= e->n; i++)
		tidu_buf_printf(&sql, ", ?%zu", i + 3);
	tidu_buf_printf(&sql, ") ON CONFLICT(%s) DO UPDATE SET _clock=excluded._clock",
			e->entity->key_cols);
	for (i = 0; i < e->n; i++)
		tidu_buf_printf(&sql, ", \"%s\"=excluded.\"%s\"",
				e->fields[i].field->key, e->fields[i].field->key);
	st = tidu_store_stmt(s, sql.ptr);
	tidu_buf_free(&sql);
	if (!st)
		return TIDU_ERROR;
	bind_key(st, e);
	if (e->entity->nkeys == 1)
		sqlite3_bind_null(st, 2);
	for (i = 0, col = 3; i < e->n; i++, col++)
		bind_value(st, col, &e->fields[i]);
	sqlite3_bind_text(st, col, clock, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("writing a record"));
}

static int log_change(tidu_store *s, const char *entity, const char *key,
		      int64_t hlc, const char *author, const char *fields_json)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"INSERT INTO change(entity, key, hlc, device, wall, fields) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, hlc);
	sqlite3_bind_text(st, 4, author, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, tidu_clock_now_ms());
	sqlite3_bind_text(st, 6, fields_json, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("logging a change"));
}

/* Keeps a losing value for review, once. */
static int record_conflict(tidu_store *s, const char *entity, const char *key,
		      const char *field, const char *value, int64_t hlc,
		      const char *device, const char *lost, int64_t lost_hlc,
		      const char *lost_device)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"INSERT INTO conflict(entity, key, field, value, hlc, device, "
		"lost_value, lost_hlc, lost_device) "
		"SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE NOT EXISTS ("
		"SELECT 1 FROM conflict WHERE entity=?1 AND key=?2 AND field=?3 "
		"AND lost_hlc=?8 AND lost_device=?9)");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, field, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, hlc);
	sqlite3_bind_text(st, 6, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, lost, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, lost_hlc);
	sqlite3_bind_text(st, 9, lost_device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("recording a conflict"));
}

/*
 * Marks the open conflicts of the fields listed in `fields` ("\nf1\nf2\n")
 * resolved: a write made after seeing the current value settles them.
 */
static int settle_conflicts(tidu_store *s, const char *entity, const char *key,
			 const char *fields)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"UPDATE conflict SET resolved=1 WHERE entity=?1 AND key=?2 "
		"AND resolved=0 AND instr(?3, char(10) || field || char(10)) > 0");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, fields, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("recording a conflict"));
}

/* The new value of `field` in the edit: NULL if it does not set it. */
static const char *edit_value(const tidu_edit *e, const char *field)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (!strcmp(e->fields[i].field->key, field))
			return e->fields[i].value;
	return NULL;
}

static int current_value(tidu_store *s, const tidu_edit *e, const char *field, char **out);

/*
 * The device a local write is recorded under: this store's, or on the city
 * the desk of the district of the firm concerned (trust.h), so that the
 * write is sealed for that district and every replica orders it by the
 * same (clock, device). Writes of firms without a district stay the city's.
 * The firm is the key of a firm or firm-year, the `uscc` field of the rest.
 */
static int author_of(tidu_store *s, const tidu_edit *e, char out[TIDU_DEVICE_ID_LEN + 1])
{
	const char *v = NULL, *uscc = e->key1;
	char *found_uscc = NULL, *district = NULL;
	tidu_edit *firm = NULL;
	int error = 0;

	snprintf(out, TIDU_DEVICE_ID_LEN + 1, "%s", tidu_store_device(s));
	if (strcmp(tidu_store_role(s), "city"))
		return 0;
	if (e->as_district)
		district = tidu_strdup(e->as_district);
	else if ((e->entity == &entities[0] || e->entity->no_firm) &&
		 (v = edit_value(e, "district")))
		district = tidu_strdup(v);
	if (e->entity->no_firm) {
		/* an event: its district's (none: the city's own) */
		if (!district && (error = current_value(s, e, "district", &district)) < 0)
			goto done;
		uscc = NULL;
	} else if (!e->entity->firm_in_key) {
		if ((v = edit_value(e, "uscc")))
			uscc = v;
		else if ((error = current_value(s, e, "uscc", &found_uscc)) < 0)
			goto done;
		else
			uscc = found_uscc;
	}
	if (!district && uscc) {
		firm = tidu_record_edit_new(TIDU_ENTITY_FIRM, uscc);
		if ((error = current_value(s, firm, "district", &district)) < 0)
			goto done;
	}
	if (uscc && (!district || !*district)) {
		/*
		 * Known only in part (an earlier change set of it has not
		 * arrived): whose the firm is cannot be told, and a write that
		 * reaches no district would be lost to it.
		 */
		error = tidu_error_set(TIDU_ENOTFOUND,
			_("firm '%s' has no district in this store yet (a change set of it has not arrived): sync first, or set its district in the same command"),
			uscc);
		goto done;
	}
	if (tidu_dict_district_name(district) && !tidu_dict_is_city(district))
		tidu_trust_desk_id(tidu_store_device(s), district, out);
done:
	tidu_record_edit_free(firm);
	free(found_uscc);
	free(district);
	return error;
}

static int same_value(const char *a, const char *b);

void tidu_record_edit_keep_all(tidu_edit *e)
{
	e->keep_all = 1;
}

/*
 * `e` without the fields whose new value is the stored one, into `out`
 * (sharing e's fields; out->fields is the caller's to free): a write that
 * changes nothing must record nothing, or re-importing an unchanged list
 * would override a colleague's correction on every replica.
 */
static int changed_only(tidu_store *s, const tidu_edit *e, tidu_edit *out)
{
	size_t i;
	int error;

	*out = *e;
	out->fields = NULL;
	out->n = out->cap = 0;
	if (e->n)
		out->fields = tidu_reallocarray(NULL, e->n, sizeof(*out->fields));
	for (i = 0; i < e->n; i++) {
		char *now = NULL;

		if (!e->keep_all &&
		    (error = current_value(s, e, e->fields[i].field->key, &now)) < 0) {
			free(out->fields);
			out->fields = NULL;
			return error;
		}
		if (e->keep_all || !same_value(now, e->fields[i].value))
			out->fields[out->n++] = e->fields[i];
		free(now);
	}
	return 0;
}

static int edit_apply_changed(tidu_store *s, const tidu_edit *e);

int tidu_record_edit_apply(tidu_store *s, const tidu_edit *e)
{
	tidu_edit changed;
	int error;

	if (e->n == 0)
		return 0;
	if ((error = changed_only(s, e, &changed)) < 0)
		return error;
	error = changed.n ? edit_apply_changed(s, &changed) : 0;
	free(changed.fields);
	return error;
}

static int edit_apply_changed(tidu_store *s, const tidu_edit *e)
{
	char author[TIDU_DEVICE_ID_LEN + 1];
	clock_vec clock = {0};
	tidu_buf clock_text = TIDU_BUF_INIT, base = TIDU_BUF_INIT;
	tidu_buf json = TIDU_BUF_INIT;
	tidu_json_writer jw, *w = &jw;
	int64_t hlc, newest = 0;
	size_t i;
	int error;

	if (e->n == 0)
		return 0;
	if ((error = author_of(s, e, author)) < 0 ||
	    (error = read_clock(s, e, &clock)) < 0)
		goto done;
	/*
	 * A local write must beat every value it replaces, even one written by
	 * a laptop whose clock runs ahead: otherwise other replicas would keep
	 * the old value while this one shows the new.
	 */
	for (i = 0; i < e->n; i++) {
		clock_entry *c = clock_find(&clock, e->fields[i].field->key);

		/* HLCs are below TIDU_HLC_LIMIT (change sets beyond are refused). */
		if (c && c->hlc < TIDU_HLC_LIMIT && c->hlc + 1 > newest)
			newest = c->hlc + 1;
	}
	if ((error = tidu_store_hlc_next(s, newest, &hlc)) < 0)
		goto done;

	tidu_json_writer_init(w, &json, 0);
	tidu_json_begin_array(w);
	for (i = 0; i < e->n; i++) {
		const char *field = e->fields[i].field->key;
		clock_entry *c = clock_find(&clock, field);

		tidu_buf_clear(&base);
		if (c)
			tidu_buf_printf(&base, "%lld:%s", (long long)c->hlc, c->device);
		else
			c = clock_add(&clock, field);
		clock_set(c, hlc, author, tidu_buf_cstr(&base));

		tidu_json_begin_array(w);
		tidu_json_write_string(w, field);
		if (e->fields[i].value)
			tidu_json_write_string(w, e->fields[i].value);
		else
			tidu_json_write_null(w);
		tidu_json_write_string(w, tidu_buf_cstr(&base));
		tidu_json_end_array(w);
	}
	tidu_json_end_array(w);
	if ((error = tidu_json_writer_finish(w)) < 0)
		goto done;
	clock_format(&clock, &clock_text);
	tidu_buf_clear(&base);
	tidu_buf_putc(&base, '\n');
	for (i = 0; i < e->n; i++)
		tidu_buf_printf(&base, "%s\n", e->fields[i].field->key);

	if ((error = write_row(s, e, clock_text.ptr)) < 0 ||
	    (error = log_change(s, e->entity->name, e->key, hlc, author,
				      json.ptr)) < 0 ||
	    (error = settle_conflicts(s, e->entity->name, e->key, base.ptr)) < 0)
		goto done;
done:
	tidu_buf_free(&json);
	clock_free(&clock);
	tidu_buf_free(&clock_text);
	tidu_buf_free(&base);
	return error;
}

/* (hlc, device) order: the merge rule's total order of writes. */
static int clock_order(int64_t h1, const char *d1, int64_t h2, const char *d2)
{
	if (h1 != h2)
		return h1 < h2 ? -1 : 1;
	return strcmp(d1, d2);
}

/* 1 if a write with base `base` had seen the write (hlc, device). */
static int saw(const char *base, int64_t hlc, const char *device)
{
	char text[64];

	snprintf(text, sizeof(text), "%lld:%s", (long long)hlc, device);
	return !strcmp(base, text);
}

/* The current canonical value of `field` in the row of `e`, or NULL. */
/* The stored value of `field` (*out NULL when absent or NULL); errors are errors. */
static int current_value(tidu_store *s, const tidu_edit *e, const char *field, char **out)
{
	tidu_buf sql = TIDU_BUF_INIT;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	tidu_buf_printf(&sql, "SELECT \"%s\" FROM %s WHERE %s", field,
			e->entity->name, e->entity->key_where);
	st = tidu_store_stmt(s, sql.ptr);
	tidu_buf_free(&sql);
	if (!st)
		return TIDU_ERROR;
	bind_key(st, e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = tidu_view_column_text(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
		: tidu_store_sqlerr(s, rc, _("reading a record"));
}

static int same_value(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int tidu_record_merge(tidu_store *s, const char *entity, const char *key,
		      int64_t hlc, const char *device, const tidu_merge_field *f,
		      size_t n, size_t *conflicts)
{
	const entity_def *def = entity_find(entity);
	tidu_edit *win = NULL;
	clock_vec clock = {0};
	tidu_buf clock_text = TIDU_BUF_INIT, settled = TIDU_BUF_INIT;
	size_t i;
	int error = 0;

	if (!def)
		return tidu_error_set(TIDU_EINVAL, _("unknown entity '%s'"), entity);
	win = tidu_record_edit_new(entity, key);
	if ((error = read_clock(s, win, &clock)) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		clock_entry *c = clock_find(&clock, f[i].field);
		const char *base = f[i].base ? f[i].base : "";
		int order = c ? clock_order(hlc, device, c->hlc, c->device) : 1;
		int concurrent = c && !saw(base, c->hlc, c->device) &&
				 !saw(c->base, hlc, device);
		char *cur = NULL;

		if (order == 0)
			continue; /* this very write is here already */
		/* The value a conflict would keep for review: never guessed. */
		if (concurrent && (error = current_value(s, win, f[i].field, &cur)) < 0)
			goto done;
		if (order > 0) {
			/* Incoming wins. */
			if ((error = tidu_record_edit_put(win, f[i].field, f[i].value)) < 0) {
				free(cur);
				goto done;
			}
			if (concurrent && !same_value(cur, f[i].value)) {
				error = record_conflict(s, win->entity->name, win->key, f[i].field, f[i].value,
					hlc, device, cur, c->hlc, c->device);
				if (conflicts)
					(*conflicts)++;
			}
			if (c && saw(base, c->hlc, c->device)) {
				if (!settled.len)
					tidu_buf_putc(&settled, '\n');
				tidu_buf_printf(&settled, "%s\n", f[i].field);
			}
			if (!c)
				c = clock_add(&clock, f[i].field);
			clock_set(c, hlc, device, base);
		} else if (concurrent && !same_value(cur, f[i].value)) {
			/* Incoming loses to a write it had not seen. */
			error = record_conflict(s, win->entity->name, win->key, f[i].field, cur, c->hlc,
				c->device, f[i].value, hlc, device);
			if (conflicts)
				(*conflicts)++;
		}
		free(cur);
		if (error < 0)
			goto done;
	}
	if (win->n == 0)
		goto done;
	clock_format(&clock, &clock_text);
	if ((error = write_row(s, win, clock_text.ptr)) < 0)
		goto done;
	if (settled.len)
		error = settle_conflicts(s, win->entity->name, win->key, settled.ptr);
done:
	tidu_record_edit_free(win);
	clock_free(&clock);
	tidu_buf_free(&clock_text);
	tidu_buf_free(&settled);
	return error;
}

int tidu_record_delete(tidu_store *s, const char *entity, const char *key)
{
	tidu_edit *e = NULL;
	int error, exists;

	if ((error = tidu_store_begin(s)) < 0)
		return error;
	if ((exists = tidu_record_exists(s, entity, key)) != TIDU_RECORD_LIVE) {
		error = exists < 0 ? exists : tidu_error_set(TIDU_ENOTFOUND,
			_("'%s' is not in the store"), key);
		goto done;
	}
	/* A tombstone: the row and its history stay, so the delete merges. */
	e = tidu_record_edit_new(entity, key);
	if ((error = tidu_record_edit_set(e, "_deleted", "1")) < 0 ||
	    (error = tidu_record_edit_apply(s, e)) < 0 ||
	    (error = tidu_store_commit(s)) < 0)
		goto done;
done:
	if (error < 0)
		tidu_store_rollback(s);
	tidu_record_edit_free(e);
	return error;
}

int tidu_record_field(tidu_store *s, const char *entity, const char *key,
		      const char *field, char **value, int64_t *hlc, char **device)
{
	tidu_edit *e = tidu_record_edit_new(entity, key);
	tidu_buf sql = TIDU_BUF_INIT;
	clock_vec c = {0};
	clock_entry *ce;
	sqlite3_stmt *st;
	int rc, error = 0;

	*value = NULL;
	*hlc = 0;
	*device = NULL;
	/* Value and clock in one statement: one snapshot of the row. */
	tidu_buf_printf(&sql, "SELECT \"%s\", _clock FROM %s WHERE %s", field,
			e->entity->name, e->entity->key_where);
	st = tidu_store_stmt(s, sql.ptr);
	tidu_buf_free(&sql);
	if (!st) {
		error = TIDU_ERROR;
		goto done;
	}
	bind_key(st, e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*value = tidu_view_column_text(st, 0);
		clock_parse(&c, (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		/* Not "no value": a caller would act on what it did not read. */
		error = tidu_store_sqlerr(s, rc, _("reading a record"));
		free(*value);
		*value = NULL;
		goto done;
	}
	if ((ce = clock_find(&c, field))) {
		*hlc = ce->hlc;
		*device = tidu_strdup(ce->device);
	} else {
		*device = tidu_strdup("");
	}
done:
	clock_free(&c);
	tidu_record_edit_free(e);
	return error;
}

int tidu_record_pending(tidu_store *s, int64_t *out)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT count(*) FROM change WHERE seq IS NULL");
	int rc;

	*out = 0;
	if (!st)
		return TIDU_ERROR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : tidu_store_sqlerr(s, rc, _("counting changes"));
}

int tidu_record_set_aside(tidu_store *s, const char *entity, const char *key,
			  const char *field, const char *value, int64_t hlc,
			  const char *device)
{
	char *cur = NULL, *cur_device = NULL;
	int64_t cur_hlc = 0;
	int error = tidu_record_field(s, entity, key, field, &cur, &cur_hlc, &cur_device);

	if (error == 0)
		error = record_conflict(s, entity, key, field, cur, cur_hlc,
					cur_device ? cur_device : "", value, hlc, device);
	free(cur);
	free(cur_device);
	return error;
}

int tidu_record_history(tidu_store *s, const char *entity, const char *key,
			tidu_record_history_fn fn, void *ctx)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT hlc, wall, device, fields FROM change WHERE entity=? AND key=? "
		"ORDER BY hlc, id");
	int rc = SQLITE_DONE, error = 0;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		error = fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
			   (const char *)sqlite3_column_text(st, 2),
			   (const char *)sqlite3_column_text(st, 3));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (error)
		return error;
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("reading the change log"));
}

int tidu_record_log_each(tidu_store *s, const char *entity, tidu_record_log_fn fn, void *ctx)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT key, hlc, wall, fields FROM change WHERE entity=? ORDER BY hlc, id");
	int rc = SQLITE_DONE, error = 0;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
	while (error == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		error = fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
			   sqlite3_column_int64(st, 2), (const char *)sqlite3_column_text(st, 3));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (error)
		return error;
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("reading the change log"));
}
