#include <stdlib.h>
#include <string.h>

#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/conflict.h"
#include "tidu/i18n.h"
#include "tidu/record.h"
#include "tidu/view.h"

static char *dup_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? tidu_strdup((const char *)t) : NULL;
}

/* The current value and clock of the conflict's field. */
static int load_current(tidu_store *s, tidu_conflict *c)
{
	return tidu_record_field(s, c->entity, c->key, c->field, &c->current,
				 &c->current_hlc, &c->current_device);
}

int tidu_conflict_list(tidu_store *s, int all, tidu_conflict **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	tidu_conflict *v = NULL;
	size_t cap = 0;
	int rc, error = 0;

	*out = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(tidu_store_db(s),
		"SELECT id, entity, key, field, lost_value, lost_hlc, lost_device, "
		"resolved FROM conflict WHERE ?1 OR resolved=0 ORDER BY id", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return tidu_store_sqlerr(s, rc, _("reading conflicts"));
	sqlite3_bind_int(st, 1, all);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_conflict *c;

		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			v = tidu_reallocarray(v, cap, sizeof(*v));
		}
		c = &v[(*n)++];
		memset(c, 0, sizeof(*c));
		c->id = sqlite3_column_int64(st, 0);
		c->entity = dup_col(st, 1);
		c->key = dup_col(st, 2);
		c->field = dup_col(st, 3);
		c->lost = dup_col(st, 4);
		c->lost_hlc = sqlite3_column_int64(st, 5);
		c->lost_device = dup_col(st, 6);
		c->resolved = sqlite3_column_int(st, 7);
		if ((error = load_current(s, c)) < 0)
			break;
	}
	if (!error && rc != SQLITE_DONE)
		error = tidu_store_sqlerr(s, rc, _("reading conflicts"));
	sqlite3_finalize(st);
	if (error < 0) {
		tidu_conflict_list_free(v, *n);
		*n = 0;
		return error;
	}
	*out = v;
	return 0;
}

void tidu_conflict_list_free(tidu_conflict *c, size_t n)
{
	size_t i;

	for (i = 0; c && i < n; i++) {
		free(c[i].entity);
		free(c[i].key);
		free(c[i].field);
		free(c[i].current);
		free(c[i].current_device);
		free(c[i].lost);
		free(c[i].lost_device);
	}
	free(c);
}

int tidu_conflict_resolve(tidu_store *s, int64_t id, tidu_resolve_how how,
			  const char *value)
{
	tidu_conflict *all = NULL, *c = NULL;
	tidu_edit *e = NULL;
	const char *choice;
	size_t n = 0, i;
	int error;

	if ((error = tidu_store_begin(s)) < 0)
		return error;
	if ((error = tidu_conflict_list(s, 0, &all, &n)) < 0)
		goto done;
	for (i = 0; i < n; i++)
		if (all[i].id == id)
			c = &all[i];
	if (!c) {
		error = tidu_error_set(TIDU_ENOTFOUND,
			_("no open conflict %lld: see 'tidu conflicts'"), (long long)id);
		goto done;
	}
	/*
	 * "Mine": this store's side if it wrote one (on the city, a write of
	 * one of its desks), else what we show now.
	 */
	if (how == TIDU_RESOLVE_VALUE)
		choice = value;
	else if (tidu_changes_is_own(s, c->lost_device, NULL) &&
		 !tidu_changes_is_own(s, c->current_device, NULL))
		choice = how == TIDU_RESOLVE_KEEP_MINE ? c->lost : c->current;
	else
		choice = how == TIDU_RESOLVE_KEEP_MINE ? c->current : c->lost;
	e = tidu_record_edit_new(c->entity, c->key);
	/* Keeping the value shown is a decision the other replicas must hear. */
	tidu_record_edit_keep_all(e);
	if ((error = tidu_record_edit_set(e, c->field, choice)) < 0 ||
	    (error = tidu_record_edit_apply(s, e)) < 0)
		goto done;
	/* tidu_record_edit_apply() settled the field's open conflicts. */
	error = tidu_store_commit(s);
done:
	if (error < 0)
		tidu_store_rollback(s);
	tidu_record_edit_free(e);
	tidu_conflict_list_free(all, n);
	return error;
}
