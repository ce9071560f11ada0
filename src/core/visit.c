#include <stdlib.h>
#include <string.h>


#include "tidu/firm.h"
#include "tidu/i18n.h"
#include "tidu/parse.h"
#include "tidu/record.h"
#include "tidu/uscc.h"
#include "tidu/visit.h"
#include "view_int.h"

static int visited_before(tidu_store *s, const char *uscc, int *out)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT 1 FROM visit WHERE uscc=?1 AND _deleted=0 LIMIT 1");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, uscc, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tidu_store_sqlerr(s, rc, _("reading visits"));
	*out = rc == SQLITE_ROW;
	return 0;
}

/* A follow-up cannot fall due before the visit that asks for it. */
static int check_due(tidu_edit *e)
{
	int is_set;
	const char *date = tidu_record_edit_get(e, "date", &is_set),
		   *due = tidu_record_edit_get(e, "follow_up_due", &is_set);

	if (date && due && strcmp(due, date) < 0)
		return tidu_error_set(TIDU_EINVAL,
			_("invalid value '%s' for 'follow_up_due': before the visit's date %s"),
			due, date);
	return 0;
}

int tidu_visit_add(tidu_store *s, const char *uscc_in, const tidu_kv *kv,
		   size_t n, char id_out[TIDU_UUID_LEN + 1])
{
	char uscc[TIDU_USCC_LEN + 1], today[11], id[TIDU_UUID_LEN + 1];
	tidu_edit *e = NULL;
	size_t i;
	int error, exists, before = 0, is_set;

	if ((error = tidu_uscc_validate(uscc_in, uscc)) < 0)
		return error;
	if ((error = tidu_uuid_v7(id)) < 0)
		return error;
	e = tidu_record_edit_new(TIDU_ENTITY_VISIT, id);
	for (i = 0; i < n; i++) {
		if (!strcmp(kv[i].key, "uscc")) {
			error = tidu_error_set(TIDU_EINVAL,
				"%s", _("give the firm as the first argument, not as 'uscc='"));
			goto done;
		}
		if ((error = tidu_record_edit_set(e, kv[i].key, kv[i].value)) < 0)
			goto done;
	}
	if ((error = tidu_store_begin(s)) < 0)
		goto done;
	if ((exists = tidu_record_exists(s, TIDU_ENTITY_FIRM, uscc)) != TIDU_RECORD_LIVE) {
		error = exists < 0 ? exists : tidu_error_set(TIDU_ENOTFOUND,
			_("firm '%s' is not in the store: add it with 'tidu firm add'"),
			uscc);
		goto rollback;
	}
	if ((error = tidu_firm_check_writable(s, uscc)) < 0 ||
	    (error = visited_before(s, uscc, &before)) < 0)
		goto rollback;
	tidu_date_today(today);
	if ((error = tidu_record_edit_set(e, "uscc", uscc)) < 0 ||
	    (!tidu_record_edit_get(e, "date", &is_set) &&
	     (error = tidu_record_edit_set(e, "date", today)) < 0) ||
	    (!tidu_record_edit_get(e, "officer", &is_set) &&
	     (error = tidu_record_edit_set(e, "officer", tidu_store_officer(s))) < 0) ||
	    (!tidu_record_edit_get(e, "kind", &is_set) &&
	     (error = tidu_record_edit_set(e, "kind", before ? "follow_up" : "first")) < 0))
		goto rollback;
	if ((error = check_due(e)) < 0)
		goto rollback;
	if ((error = tidu_record_edit_apply(s, e)) < 0 ||
	    (error = tidu_store_commit(s)) < 0)
		goto rollback;
	memcpy(id_out, id, sizeof(id));
	goto done;
rollback:
	tidu_store_rollback(s);
done:
	tidu_record_edit_free(e);
	return error;
}

int tidu_visit_delete(tidu_store *s, const char *id)
{
	int error;

	char *uscc = NULL, *dev = NULL;
	int64_t hlc;

	if (!tidu_uuid_valid(id))
		return tidu_error_set(TIDU_EINVAL, _("invalid visit id '%s'"), id);
	/* A visit of a firm that moved away is history here (firm.h). */
	error = tidu_record_field(s, TIDU_ENTITY_VISIT, id, "uscc", &uscc, &hlc, &dev);
	if (error == 0 && uscc)
		error = tidu_firm_check_writable(s, uscc);
	free(uscc);
	free(dev);
	if (error < 0)
		return error;
	error = tidu_record_delete(s, TIDU_ENTITY_VISIT, id);
	if (error == TIDU_ENOTFOUND)
		tidu_error_set(error, _("visit '%s' is not in the store"), id);
	return error;
}

int tidu_visit_list(tidu_store *s, const char *uscc, tidu_visit_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	tidu_rec v = TIDU_REC_INIT;
	int rc, error = 0;

	/* Visit ids are not a dictionary field; walk ids, then load each. */
	rc = sqlite3_prepare_v2(tidu_store_db(s),
		"SELECT id FROM visit WHERE _deleted=0 AND (?1 IS NULL OR uscc=?1) "
		"ORDER BY date DESC, id DESC", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return tidu_store_sqlerr(s, rc, _("listing visits"));
	if (uscc)
		sqlite3_bind_text(st, 1, uscc, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);

		if ((error = tidu_view_rec_load(s, TIDU_ENTITY_VISIT, id, &v)) < 0 ||
		    (error = fn(ctx, id, &v)) < 0)
			break;
	}
	if (error == 0 && rc != SQLITE_DONE)
		error = tidu_store_sqlerr(s, rc, _("listing visits"));
	tidu_view_rec_clear(&v);
	sqlite3_finalize(st);
	return error;
}

int tidu_visit_count(tidu_store *s, int64_t *out)
{
	return tidu_view_scalar(s, "SELECT count(*) FROM visit WHERE _deleted=0", NULL,
				_("counting records"), out);
}

int tidu_visit_count_by_district(tidu_store *s, tidu_district_count **out, size_t *n)
{
	/* A visit's district is its firm's: the one join into the firm table. */
	return tidu_view_district_counts(s,
		"SELECT coalesce(f.district, ''), count(*) FROM visit v "
		"LEFT JOIN firm f ON f.uscc=v.uscc WHERE v._deleted=0 "
		"GROUP BY 1 ORDER BY 1", out, n);
}
