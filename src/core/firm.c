#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidu/alloc.h"
#include "tidu/csv.h"
#include "tidu/dict.h"
#include "tidu/firm.h"
#include "tidu/i18n.h"
#include "tidu/parse.h"
#include "tidu/record.h"
#include "tidu/uscc.h"
#include "view_int.h"

/* The edits of one firm write: the firm itself and any firm-years. */
typedef struct {
	tidu_edit *firm;
	tidu_edit **years;
	size_t nyears;
} firm_edits;

static void edits_free(firm_edits *fe)
{
	size_t i;

	tidu_record_edit_free(fe->firm);
	for (i = 0; i < fe->nyears; i++)
		tidu_record_edit_free(fe->years[i]);
	free(fe->years);
	memset(fe, 0, sizeof(*fe));
}

static tidu_edit *year_edit(firm_edits *fe, const char *uscc, int64_t year)
{
	char key[48];
	size_t i;

	snprintf(key, sizeof(key), "%s/%lld", uscc, (long long)year);
	for (i = 0; i < fe->nyears; i++)
		if (!strcmp(tidu_record_edit_key(fe->years[i]), key))
			return fe->years[i];
	fe->years = tidu_reallocarray(fe->years, fe->nyears + 1, sizeof(*fe->years));
	return fe->years[fe->nyears++] = tidu_record_edit_new(TIDU_ENTITY_FIRM_YEAR, key);
}

/*
 * Splits "2025.revenue" into a year and a field name; 0 if `key` has no
 * year prefix, TIDU_EINVAL for a bad year.
 */
static int split_year(const char *key, int64_t *year, const char **field)
{
	const char *dot = strchr(key, '.');
	char digits[16];
	size_t len;

	if (!dot)
		return 0;
	len = (size_t)(dot - key);
	if (len == 0 || len >= sizeof(digits) || strspn(key, "0123456789") != len)
		return 0;
	memcpy(digits, key, len);
	digits[len] = '\0';
	if (tidu_parse_int64(digits, year) < 0 || *year < 1949 || *year > 2100)
		return tidu_error_set(TIDU_EINVAL,
			_("invalid year '%s' in '%s': use 1949 to 2100"), digits, key);
	*field = dot + 1;
	return 1;
}

/* Builds the edits for `kv` (keys already resolved to dictionary keys). */
static int build_edits(firm_edits *fe, const char *uscc, const tidu_kv *kv,
		       size_t n)
{
	size_t i;
	int error;

	fe->firm = tidu_record_edit_new(TIDU_ENTITY_FIRM, uscc);
	for (i = 0; i < n; i++) {
		const char *field = kv[i].key;
		int64_t year = 0;
		int has_year = split_year(kv[i].key, &year, &field);

		if (has_year < 0)
			return has_year;
		if (has_year) {
			if (!tidu_dict_field(TIDU_ENTITY_FIRM_YEAR, field))
				return tidu_error_set(TIDU_EINVAL,
					_("unknown firm-year field '%s' in '%s'"),
					field, kv[i].key);
			error = tidu_record_edit_set(year_edit(fe, uscc, year), field,
					      kv[i].value);
		} else {
			if (!strcmp(field, "uscc"))
				return tidu_error_set(TIDU_EINVAL,
					"%s", _("the USCC of a firm cannot be changed"));
			if (!tidu_dict_field(TIDU_ENTITY_FIRM, field))
				return tidu_error_set(TIDU_EINVAL,
					tidu_dict_field(TIDU_ENTITY_FIRM_YEAR, field)
					? _("'%s' is a yearly field: write YEAR.%s=VALUE")
					: _("unknown field '%s'%.0s"),
					field, field);
			error = tidu_record_edit_set(fe->firm, field, kv[i].value);
		}
		if (error < 0)
			return error;
	}
	return 0;
}

static int get_int(sqlite3_stmt *st, int col, int64_t *v)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return 0;
	*v = sqlite3_column_int64(st, col);
	return 1;
}

/* Rules between fields, checked on the row as it is after the write. */
static int check_firm(tidu_store *s, const char *uscc)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT ip_class1, ip_class1_self, ip_class1_high_value, "
		"employees, rd_staff FROM firm WHERE uscc=?1");
	int64_t ip1 = 0, self = 0, high = 0, emp = 0, rd = 0;
	int has_ip1, has_self, has_high, has_emp, has_rd, rc, error = 0;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, uscc, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("checking a firm"));
	}
	has_ip1 = get_int(st, 0, &ip1);
	has_self = get_int(st, 1, &self);
	has_high = get_int(st, 2, &high);
	has_emp = get_int(st, 3, &emp);
	has_rd = get_int(st, 4, &rd);
	sqlite3_reset(st);
	if (has_self && self > (has_ip1 ? ip1 : 0))
		error = tidu_error_set(TIDU_EINVAL,
			_("'ip_class1_self' (%lld) cannot exceed 'ip_class1' (%lld) for firm '%s'"),
			(long long)self, (long long)ip1, uscc);
	else if (has_high && high > (has_ip1 ? ip1 : 0))
		error = tidu_error_set(TIDU_EINVAL,
			_("'ip_class1_high_value' (%lld) cannot exceed 'ip_class1' (%lld) for firm '%s'"),
			(long long)high, (long long)ip1, uscc);
	else if (has_rd && has_emp && rd > emp)
		error = tidu_error_set(TIDU_EINVAL,
			_("'rd_staff' (%lld) cannot exceed 'employees' (%lld) for firm '%s'"),
			(long long)rd, (long long)emp, uscc);
	return error;
}

static int check_year(tidu_store *s, const char *key)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT revenue, main_revenue FROM firm_year "
		"WHERE uscc=?1 AND year=?2");
	const char *slash = strchr(key, '/');
	int error = 0, rc;

	if (!st || !slash)
		return st ? 0 : TIDU_ERROR;
	sqlite3_bind_text(st, 1, key, (int)(slash - key), SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, strtoll(slash + 1, NULL, 10));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
	    sqlite3_column_type(st, 1) != SQLITE_NULL &&
	    sqlite3_column_double(st, 1) > sqlite3_column_double(st, 0))
		error = tidu_error_set(TIDU_EINVAL,
			_("'main_revenue' (%g) cannot exceed 'revenue' (%g) for '%s'"),
			sqlite3_column_double(st, 1), sqlite3_column_double(st, 0), key);
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		error = tidu_store_sqlerr(s, rc, _("checking a firm-year"));
	sqlite3_reset(st);
	return error;
}

enum { MODE_ADD, MODE_SET, MODE_UPSERT };

/*
 * Writes one firm inside the caller's transaction. `*added` says whether the
 * firm was new. Nothing is committed here.
 */
/*
 * The district of a new firm when none is given: the store's own; on the
 * city, the registration authority's division in the USCC (characters 3-8)
 * when it is one of the city's districts, so that the firm is the
 * district's (and the city's edits of it reach that district); else NULL
 * (the city has no district of its own for firms).
 */
static const char *default_district(tidu_store *s, const char *uscc, char code[7])
{
	if (!strcmp(tidu_store_role(s), "city")) {
		if (strlen(uscc) != 18)
			return NULL;
		memcpy(code, uscc + 2, 6);
		code[6] = '\0';
		return tidu_dict_district_name(code) && !tidu_dict_is_city(code) ? code : NULL;
	}
	return tidu_store_district(s);
}

/*
 * The district of a stored firm: *out the caller's (NULL when the firm has
 * none or is not stored).
 */
static int stored_district(tidu_store *s, const char *uscc, char **out)
{
	sqlite3_stmt *st = tidu_store_stmt(s, "SELECT district FROM firm WHERE uscc=?1");
	int rc;

	*out = NULL;
	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, uscc, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) && *sqlite3_column_text(st, 0))
		*out = tidu_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
		: tidu_store_sqlerr(s, rc, _("reading a firm"));
}

int tidu_firm_check_writable(tidu_store *s, const char *uscc)
{
	char *d = NULL;
	int error;

	if (!strcmp(tidu_store_role(s), "city"))
		return 0;
	if ((error = stored_district(s, uscc, &d)) < 0)
		return error;
	if (d && strcmp(d, tidu_store_district(s)))
		error = tidu_error_set(TIDU_EINVAL,
			_("firm '%s' moved to district %s (%s): this store keeps its history read-only and its changes are made there"),
			uscc, d, tidu_dict_district_name(d) ? tidu_dict_district_name(d) : "?");
	free(d);
	return error;
}

/*
 * An officer's or a district's store files firms of its own district only:
 * the city sends a district the firms of that district, so a firm filed
 * under another would reach nobody who works on it (issue 9, item 7).
 */
static int check_district(tidu_store *s, const char *uscc, const firm_edits *fe,
			  int exists)
{
	int is_set, error;
	const char *d = tidu_record_edit_get(fe->firm, "district", &is_set);
	char *stored = NULL;

	if (!strcmp(tidu_store_role(s), "city")) {
		/*
		 * A new district for a stored firm is a move: the new district
		 * needs the whole firm, not one field (tidu_firm_move).
		 */
		if (!exists || !is_set)
			return 0;
		if ((error = stored_district(s, uscc, &stored)) < 0)
			return error;
		if (stored && (!d || strcmp(stored, d)))
			error = tidu_error_set(TIDU_EINVAL,
				_("firm '%s' is filed under district %s: move it with 'tidu firm move %s --district %s', which sends the new district the whole firm"),
				uscc, stored, uscc, d ? d : "CODE");
		free(stored);
		return error;
	}
	if (exists && (error = tidu_firm_check_writable(s, uscc)) < 0)
		return error;
	if (is_set && (!d || strcmp(d, tidu_store_district(s))))
		return tidu_error_set(TIDU_EINVAL,
			_("firm '%s' cannot be filed under district %s on this store of district %s: only the city can file a firm under another district; ask the city to move it"),
			uscc, d ? d : "''", tidu_store_district(s));
	return 0;
}

static int firm_write(tidu_store *s, const char *uscc_in, const tidu_kv *kv,
		      size_t n, int mode, char *uscc_out, int *added)
{
	firm_edits fe = {0};
	char uscc[TIDU_USCC_LEN + 1];
	size_t i;
	int exists, tombstone, error, name_set = 0;

	if ((error = tidu_uscc_validate(uscc_in, uscc)) < 0)
		return error;
	if (uscc_out)
		memcpy(uscc_out, uscc, sizeof(uscc));
	if ((exists = tidu_record_exists(s, TIDU_ENTITY_FIRM, uscc)) < 0)
		return exists;
	tombstone = exists == TIDU_RECORD_DELETED;
	exists = exists == TIDU_RECORD_LIVE;
	if (exists && mode == MODE_ADD)
		return tidu_error_set(TIDU_EEXISTS,
			_("firm '%s' is already in the store: use 'tidu firm set'"), uscc);
	if (!exists && mode == MODE_SET)
		return tidu_error_set(TIDU_ENOTFOUND,
			_("firm '%s' is not in the store: add it with 'tidu firm add'"), uscc);
	if ((error = build_edits(&fe, uscc, kv, n)) < 0 ||
	    (error = check_district(s, uscc, &fe, exists)) < 0)
		goto done;
	if (!exists) {
		int is_set;
		const char *name = tidu_record_edit_get(fe.firm, "name", &is_set);
		char code[7];

		if (!name) {
			error = tidu_error_set(TIDU_EINVAL,
				_("firm '%s' needs a name"), uscc);
			goto done;
		}
		if (!tidu_record_edit_get(fe.firm, "district", &is_set)) {
			const char *d = default_district(s, uscc, code);

			if (!d) {
				error = tidu_error_set(TIDU_EINVAL,
					_("firm '%s' needs its district on the city store (district=CODE): its USCC names none of the city's districts"),
					uscc);
				goto done;
			}
			if ((error = tidu_record_edit_set(fe.firm, "district", d)) < 0)
				goto done;
		}
		if ((error = tidu_record_edit_set(fe.firm, "uscc", uscc)) < 0 ||
		    (tombstone && (error = tidu_record_edit_set(fe.firm, "_deleted", "0")) < 0))
			goto done;
	} else if (tidu_record_edit_get(fe.firm, "name", &name_set) == NULL && name_set) {
		error = tidu_error_set(TIDU_EINVAL,
			_("the name of firm '%s' cannot be cleared"), uscc);
		goto done;
	}
	if ((error = tidu_record_edit_apply(s, fe.firm)) < 0 ||
	    (error = check_firm(s, uscc)) < 0)
		goto done;
	for (i = 0; i < fe.nyears; i++)
		if ((error = tidu_record_edit_apply(s, fe.years[i])) < 0 ||
		    (error = check_year(s, tidu_record_edit_key(fe.years[i]))) < 0)
			goto done;
	if (added)
		*added = !exists;
done:
	edits_free(&fe);
	return error;
}

static int in_transaction(tidu_store *s, const char *uscc, const tidu_kv *kv,
			  size_t n, int mode, char *uscc_out)
{
	int error;

	if ((error = tidu_store_begin(s)) < 0)
		return error;
	if ((error = firm_write(s, uscc, kv, n, mode, uscc_out, NULL)) < 0 ||
	    (error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		return error;
	}
	return 0;
}

int tidu_firm_add(tidu_store *s, const char *uscc, const tidu_kv *kv, size_t n,
		  char *uscc_out)
{
	return in_transaction(s, uscc, kv, n, MODE_ADD, uscc_out);
}

int tidu_firm_set_in(tidu_store *s, const char *uscc, const tidu_kv *kv, size_t n)
{
	return n ? firm_write(s, uscc, kv, n, MODE_SET, NULL, NULL) : 0;
}

int tidu_firm_set(tidu_store *s, const char *uscc, const tidu_kv *kv, size_t n)
{
	if (n == 0)
		return tidu_error_set(TIDU_EINVAL, "%s", _("nothing to set: give KEY=VALUE pairs"));
	return in_transaction(s, uscc, kv, n, MODE_SET, NULL);
}

/*
 * Resolves a CSV header cell to a dictionary key ("name", "2025.revenue").
 * Accepts keys, Chinese or English labels, with an optional year prefix
 * "2025." or "2025年".
 */
static int resolve_header(const char *cell, tidu_buf *out)
{
	const char *p = cell, *name;
	const tidu_field *f;
	size_t digits = strspn(cell, "0123456789");
	char *trimmed;
	size_t len;
	int year = 0;

	if (digits == 4 && (p[4] == '.' || !strncmp(p + 4, "年", 3))) {
		year = 1;
		name = p + (p[4] == '.' ? 5 : 7);
	} else {
		name = p;
	}
	while (*name == ' ')
		name++;
	len = strlen(name);
	while (len && (name[len - 1] == ' ' || name[len - 1] == '\r'))
		len--;
	trimmed = tidu_strndup(name, len);
	f = tidu_dict_lookup(year ? TIDU_ENTITY_FIRM_YEAR : TIDU_ENTITY_FIRM,
			     trimmed);
	free(trimmed);
	tidu_buf_clear(out);
	if (!f)
		return tidu_error_set(TIDU_EINVAL, _("unknown column '%s'"), cell);
	if (year)
		tidu_buf_put(out, cell, 5);
	if (year)
		out->ptr[4] = '.';
	tidu_buf_puts(out, f->key);
	return 0;
}

/* A small open-addressing set of USCCs seen in a file, with their lines. */
typedef struct {
	char (*codes)[TIDU_USCC_LEN + 1];
	size_t *lines;
	size_t cap;
} seen_set;

static size_t seen_check(seen_set *set, const char *code, size_t line)
{
	size_t h = 5381, i;

	for (i = 0; code[i]; i++)
		h = h * 33 + (unsigned char)code[i];
	for (i = h & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
		if (!set->codes[i][0]) {
			memcpy(set->codes[i], code, TIDU_USCC_LEN + 1);
			set->lines[i] = line;
			return 0;
		}
		if (!strcmp(set->codes[i], code))
			return set->lines[i];
	}
}

/* A row of an import that passed its own checks, and where it is. */
typedef struct {
	char uscc[TIDU_USCC_LEN + 1];
	size_t rec;
} import_row;

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const import_row *)a)->uscc, ((const import_row *)b)->uscc);
}

/* Problems of an import, kept to be told in file order at the end. */
typedef struct {
	struct {
		size_t line;
		char *message;
	} *v;
	size_t n, cap;
} problem_list;

/* Keeps the current error message for `line`; returns 1 (one more bad row). */
static size_t problem(problem_list *p, size_t line)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->v = tidu_reallocarray(p->v, p->cap, sizeof(*p->v));
	}
	p->v[p->n].line = line;
	p->v[p->n].message = tidu_strdup(tidu_error_message());
	p->n++;
	return 1;
}

static int problem_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	/* Lines first; qsort is not stable, so a row's order is its line's. */
	return x < y ? -1 : x > y;
}

/* One import: the parsed file, its columns and what the passes found. */
typedef struct {
	tidu_csv *csv;
	char **keys;            /* the field of each column (NULL if refused) */
	size_t ncols, nrows, uscc_col;
	seen_set seen;
	import_row *order;      /* the rows that passed pass 1 */
	size_t nvalid;
	problem_list problems;
	size_t bad;
	tidu_import_result *result;
	tidu_import_error_cb on_error;
	void *ctx;
	unsigned flags;         /* TIDU_IMPORT_* */
} import_run;

/* The header: one known, unrepeated field per column, and a 'uscc' column. */
static int import_header(import_run *im)
{
	tidu_buf key = TIDU_BUF_INIT;
	size_t c, r;

	im->ncols = tidu_csv_field_count(im->csv, 0);
	im->keys = tidu_calloc(im->ncols, sizeof(*im->keys));
	im->uscc_col = (size_t)-1;
	for (c = 0; c < im->ncols; c++) {
		const char *cell = tidu_csv_field(im->csv, 0, c);

		if (resolve_header(cell, &key) < 0) {
			im->on_error(im->ctx, tidu_csv_line(im->csv, 0), tidu_error_message());
			im->bad++;
			continue;
		}
		for (r = 0; r < c; r++)
			if (im->keys[r] && !strcmp(im->keys[r], key.ptr))
				break;
		if (r < c) {
			tidu_error_set(TIDU_EINVAL, _("column '%s' appears twice"), cell);
			im->on_error(im->ctx, tidu_csv_line(im->csv, 0), tidu_error_message());
			im->bad++;
			continue;
		}
		im->keys[c] = tidu_strdup(key.ptr);
		if (!strcmp(key.ptr, "uscc"))
			im->uscc_col = c;
	}
	tidu_buf_free(&key);
	if (!im->bad && im->uscc_col == (size_t)-1) {
		tidu_error_set(TIDU_EINVAL, "%s", _("the header has no 'uscc' column"));
		im->on_error(im->ctx, tidu_csv_line(im->csv, 0), tidu_error_message());
		im->bad++;
	}
	return im->bad ? TIDU_EINVAL : 0;
}

/* Pass 1, in file order: the checks of the row itself. */
static void import_check_rows(import_run *im)
{
	size_t r;

	for (im->seen.cap = 16; im->seen.cap < im->nrows * 2; im->seen.cap *= 2)
		;
	im->seen.codes = tidu_calloc(im->seen.cap, sizeof(*im->seen.codes));
	im->seen.lines = tidu_calloc(im->seen.cap, sizeof(*im->seen.lines));
	im->order = tidu_calloc(im->nrows, sizeof(*im->order));
	for (r = 1; r < im->nrows; r++) {
		size_t line = tidu_csv_line(im->csv, r), first;
		import_row *row = &im->order[im->nvalid];

		im->result->rows++;
		if (tidu_csv_field_count(im->csv, r) != im->ncols) {
			tidu_error_set(TIDU_EINVAL,
				_("has %zu fields, the header has %zu"),
				tidu_csv_field_count(im->csv, r), im->ncols);
			im->bad += problem(&im->problems, line);
			continue;
		}
		if (tidu_uscc_validate(tidu_csv_field(im->csv, r, im->uscc_col),
				       row->uscc) < 0) {
			im->bad += problem(&im->problems, line);
			continue;
		}
		if ((first = seen_check(&im->seen, row->uscc, line))) {
			tidu_error_set(TIDU_EINVAL,
				_("firm '%s' appears again (first on line %zu)"),
				row->uscc, first);
			im->bad += problem(&im->problems, line);
			continue;
		}
		row->rec = r;
		im->nvalid++;
	}
}

/*
 * Pass 2, in USCC order, inside the caller's transaction: the writes. Keys
 * in order make the B-tree inserts sequential, which halves the cost of a
 * large import. A row the checks refuse is a problem; any other error ends
 * the import.
 */
static int import_write_rows(tidu_store *s, import_run *im)
{
	tidu_kv *kv = tidu_calloc(im->ncols, sizeof(*kv));
	size_t i, c;
	int error = 0;

	qsort(im->order, im->nvalid, sizeof(*im->order), row_cmp);
	for (i = 0; i < im->nvalid; i++) {
		size_t line = tidu_csv_line(im->csv, im->order[i].rec), n = 0;
		int added = 0;

		for (c = 0; c < im->ncols; c++) {
			const char *v = tidu_csv_field(im->csv, im->order[i].rec, c);

			/* An empty cell leaves the field as it is. */
			if (c == im->uscc_col || !v || !*v)
				continue;
			kv[n].key = im->keys[c];
			kv[n].value = v;
			n++;
		}
		if (im->flags & TIDU_IMPORT_EXISTING) {
			int live = tidu_record_exists(s, TIDU_ENTITY_FIRM, im->order[i].uscc);

			if (live < 0) {
				error = live;
				im->on_error(im->ctx, line, tidu_error_message());
				break;
			}
			if (live != TIDU_RECORD_LIVE) {
				im->result->skipped++;
				continue;
			}
		}
		error = firm_write(s, im->order[i].uscc, kv, n, MODE_UPSERT, NULL, &added);
		if (error == TIDU_EINVAL || error == TIDU_ENOTFOUND ||
		    error == TIDU_EEXISTS) {
			im->bad += problem(&im->problems, line);
			error = 0;
			continue;
		}
		if (error < 0) {
			im->on_error(im->ctx, line, tidu_error_message());
			break;
		}
		if (added)
			im->result->added++;
		else
			im->result->updated++;
	}
	free(kv);
	return error;
}

static void import_free(import_run *im)
{
	size_t c, i;

	for (c = 0; im->keys && c < im->ncols; c++)
		free(im->keys[c]);
	free(im->keys);
	free(im->seen.codes);
	free(im->seen.lines);
	free(im->order);
	for (i = 0; i < im->problems.n; i++)
		free(im->problems.v[i].message);
	free(im->problems.v);
	tidu_csv_free(im->csv);
}

int tidu_firm_import(tidu_store *s, const char *data, size_t len, unsigned flags,
		     tidu_import_result *result, tidu_import_error_cb on_error,
		     void *ctx)
{
	tidu_buf utf8 = TIDU_BUF_INIT;
	import_run im;
	size_t i;
	int error, began = 0;

	memset(result, 0, sizeof(*result));
	memset(&im, 0, sizeof(im));
	im.result = result;
	im.on_error = on_error;
	im.ctx = ctx;
	im.flags = flags;
	if ((error = tidu_csv_to_utf8(data, len, &utf8, &result->encoding)) < 0 ||
	    (error = tidu_csv_parse(utf8.ptr ? utf8.ptr : "", utf8.len, &im.csv)) < 0) {
		on_error(ctx, 0, tidu_error_message());
		goto done;
	}
	im.nrows = tidu_csv_record_count(im.csv);
	if (im.nrows == 0) {
		error = tidu_error_set(TIDU_EINVAL, "%s", _("the file is empty: it needs a header row"));
		on_error(ctx, 0, tidu_error_message());
		goto done;
	}
	if ((error = import_header(&im)) < 0)
		goto done;
	import_check_rows(&im);
	if ((error = tidu_store_begin(s)) < 0) {
		on_error(ctx, 0, tidu_error_message());
		goto done;
	}
	began = 1;
	if ((error = import_write_rows(s, &im)) < 0)
		goto done;
	/* Every bad row, in file order. */
	if (im.problems.n)
		qsort(im.problems.v, im.problems.n, sizeof(*im.problems.v), problem_cmp);
	for (i = 0; i < im.problems.n; i++)
		on_error(ctx, im.problems.v[i].line, im.problems.v[i].message);
	if (im.bad) {
		error = tidu_error_set(TIDU_EINVAL,
			_("%zu bad rows: nothing was imported"), im.bad);
		goto done;
	}
	if ((error = tidu_store_commit(s)) < 0)
		on_error(ctx, 0, tidu_error_message());
	else
		began = 0;
done:
	if (began)
		tidu_store_rollback(s);
	if (error < 0)
		result->added = result->updated = result->skipped = 0;
	import_free(&im);
	tidu_buf_free(&utf8);
	return error;
}

int tidu_firm_delete(tidu_store *s, const char *uscc_in)
{
	char uscc[TIDU_USCC_LEN + 1];
	int error;

	if ((error = tidu_uscc_validate(uscc_in, uscc)) < 0)
		return error;
	if ((error = tidu_firm_check_writable(s, uscc)) < 0)
		return error;
	error = tidu_record_delete(s, TIDU_ENTITY_FIRM, uscc);
	if (error == TIDU_ENOTFOUND)
		tidu_error_set(error, _("firm '%s' is not in the store"), uscc);
	return error;
}

int tidu_firm_count(tidu_store *s, int64_t *firms, int64_t *firm_years)
{
	int error = tidu_view_scalar(s, "SELECT count(*) FROM firm WHERE _deleted=0", NULL,
				     _("counting records"), firms);

	*firm_years = 0;
	return error < 0 ? error
		: tidu_view_scalar(s, "SELECT count(*) FROM firm_year WHERE _deleted=0", NULL,
				   _("counting records"), firm_years);
}

int tidu_firm_count_by_district(tidu_store *s, tidu_district_count **out, size_t *n)
{
	return tidu_view_district_counts(s,
		"SELECT coalesce(district, ''), count(*) FROM firm WHERE _deleted=0 "
		"GROUP BY 1 ORDER BY 1", out, n);
}
