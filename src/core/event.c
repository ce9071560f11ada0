/*
 * Events and attendance (include/tidu/event.h, docs/services.md): tables
 * `event` and `attendance`, owned here, written through the record path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "tidu/alloc.h"
#include "tidu/dict.h"
#include "tidu/error.h"
#include "tidu/event.h"
#include "tidu/firm.h"
#include "tidu/i18n.h"
#include "tidu/parse.h"
#include "tidu/record.h"
#include "tidu/uscc.h"
#include "tidu/view.h"

/* Checks the firms (canonical USCCs into `out`, the caller's n x 19 bytes). */
static int check_firms(tidu_store *s, char *const *usccs, size_t n, char (*out)[TIDU_USCC_LEN + 1])
{
	size_t i;
	int error;

	for (i = 0; i < n; i++) {
		if ((error = tidu_uscc_validate(usccs[i], out[i])) < 0)
			return error;
		if ((error = tidu_record_exists(s, TIDU_ENTITY_FIRM, out[i])) != TIDU_RECORD_LIVE)
			return error < 0 ? error : tidu_error_set(TIDU_ENOTFOUND,
				_("firm '%s' is not in the store: add it with 'tidu firm add'"), out[i]);
		if ((error = tidu_firm_check_writable(s, out[i])) < 0)
			return error;
	}
	return 0;
}

/* Whether firm `uscc` is recorded at event `id` already. */
static int attends(tidu_store *s, const char *id, const char *uscc, int *yes)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT 1 FROM attendance WHERE event=? AND uscc=? AND _deleted=0 LIMIT 1");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, uscc, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
		: tidu_store_sqlerr(s, rc, _("reading the attendance"));
}

/* Writes the attendance of the firms not yet recorded, inside the caller's transaction. */
static int write_attendance(tidu_store *s, const char *id, char (*usccs)[TIDU_USCC_LEN + 1],
			    size_t n, int64_t people, size_t *added)
{
	size_t i, j;
	int error = 0, yes;

	for (i = 0; i < n && !error; i++) {
		char aid[TIDU_UUID_LEN + 1], num[24];
		tidu_edit *e;

		for (j = 0; j < i && strcmp(usccs[j], usccs[i]); j++)
			;
		if (j < i)
			continue; /* named twice */
		if ((error = attends(s, id, usccs[i], &yes)) < 0)
			break;
		if (yes)
			continue;
		if ((error = tidu_uuid_v7(aid)) < 0)
			break;
		e = tidu_record_edit_new(TIDU_ENTITY_ATTENDANCE, aid);
		tidu_record_edit_keep_all(e);
		snprintf(num, sizeof(num), "%lld", (long long)people);
		if ((error = tidu_record_edit_set(e, "event", id)) == 0 &&
		    (error = tidu_record_edit_set(e, "uscc", usccs[i])) == 0 &&
		    (!people || (error = tidu_record_edit_set(e, "people", num)) == 0))
			error = tidu_record_edit_apply(s, e);
		tidu_record_edit_free(e);
		if (!error && added)
			(*added)++;
	}
	return error;
}

int tidu_event_add(tidu_store *s, const tidu_event_in *in, char *const *usccs, size_t n,
		   char id_out[TIDU_UUID_LEN + 1])
{
	char id[TIDU_UUID_LEN + 1];
	char (*u)[TIDU_USCC_LEN + 1] = NULL;
	const char *district = in->district;
	tidu_edit *e = NULL;
	int city = !strcmp(tidu_store_role(s), "city"), error;

	if (!in->kind || !*in->kind)
		return tidu_error_set(TIDU_EINVAL, _("give the event's kind with --kind (%s)"),
				      tidu_dict_choice_values("event_kind"));
	if (!in->date || !*in->date)
		return tidu_error_set(TIDU_EINVAL, "%s", _("give the event's date with --date YYYY-MM-DD"));
	if (!in->title || !*in->title)
		return tidu_error_set(TIDU_EINVAL, "%s", _("give the event's title with --title"));
	if (!district && !city)
		district = tidu_store_district(s);
	if (district && *district && !city && strcmp(district, tidu_store_district(s)))
		return tidu_error_set(TIDU_EINVAL,
			_("district %s is not this store's (%s): an officer records the events of his district"),
			district, tidu_store_district(s));
	if ((error = tidu_uuid_v7(id)) < 0)
		return error;
	e = tidu_record_edit_new(TIDU_ENTITY_EVENT, id);
	tidu_record_edit_keep_all(e);
	if ((error = tidu_record_edit_set(e, "kind", in->kind)) < 0 ||
	    (error = tidu_record_edit_set(e, "date", in->date)) < 0 ||
	    (error = tidu_record_edit_set(e, "title", in->title)) < 0 ||
	    (in->place && (error = tidu_record_edit_set(e, "place", in->place)) < 0) ||
	    (in->note && (error = tidu_record_edit_set(e, "note", in->note)) < 0) ||
	    (district && *district && (error = tidu_record_edit_set(e, "district", district)) < 0))
		goto done;
	u = tidu_calloc(n ? n : 1, sizeof(*u));
	if ((error = tidu_store_begin(s)) < 0)
		goto done;
	if ((error = check_firms(s, usccs, n, u)) < 0 || (error = tidu_record_edit_apply(s, e)) < 0 ||
	    (error = write_attendance(s, id, u, n, 0, NULL)) < 0 ||
	    (error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		goto done;
	}
	memcpy(id_out, id, sizeof(id));
done:
	free(u);
	tidu_record_edit_free(e);
	return error;
}

int tidu_event_attend(tidu_store *s, const char *id, char *const *usccs, size_t n,
		      int64_t people, size_t *added)
{
	char (*u)[TIDU_USCC_LEN + 1];
	int error;

	*added = 0;
	if (!tidu_uuid_valid(id))
		return tidu_error_set(TIDU_EINVAL, _("invalid event id '%s'"), id);
	if ((error = tidu_record_exists(s, TIDU_ENTITY_EVENT, id)) != TIDU_RECORD_LIVE)
		return error < 0 ? error : tidu_error_set(TIDU_ENOTFOUND,
			_("no event '%s': see 'tidu event list'"), id);
	if (people < 0 || people > 10000)
		return tidu_error_set(TIDU_EINVAL, _("invalid number of people %lld: use 0 to 10000"),
				      (long long)people);
	u = tidu_calloc(n ? n : 1, sizeof(*u));
	if ((error = tidu_store_begin(s)) < 0)
		goto done;
	if ((error = check_firms(s, usccs, n, u)) < 0 ||
	    (error = write_attendance(s, id, u, n, people, added)) < 0 ||
	    (error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		*added = 0;
	}
done:
	free(u);
	return error;
}

void tidu_events_free(tidu_event *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].district);
		free(v[i].kind);
		free(v[i].date);
		free(v[i].title);
		free(v[i].place);
		free(v[i].note);
	}
	free(v);
}

int tidu_event_list(tidu_store *s, const tidu_event_filter *f, tidu_event **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (f->since && tidu_parse_date(f->since, NULL, NULL, NULL) < 0)
		return tidu_error_set(TIDU_EINVAL, _("invalid date '%s': use YYYY-MM-DD"), f->since);
	if (f->kind && !tidu_dict_choice_label("event_kind", f->kind))
		return tidu_error_set(TIDU_EINVAL, _("unknown event kind '%s': use %s"), f->kind,
				      tidu_dict_choice_values("event_kind"));
	if (!(st = tidu_store_stmt(s,
		"SELECT e.id, e.district, e.kind, e.date, e.title, e.place, e.note, "
		"(SELECT count(DISTINCT a.uscc) FROM attendance a WHERE a.event=e.id AND a._deleted=0), "
		"(SELECT coalesce(sum(a.people), 0) FROM attendance a WHERE a.event=e.id AND a._deleted=0) "
		"FROM event e WHERE e._deleted=0 AND (?1 IS NULL OR e.date>=?1) AND "
		"(?2 IS NULL OR e.kind=?2) AND (?3 IS NULL OR EXISTS (SELECT 1 FROM attendance b "
		"WHERE b.event=e.id AND b.uscc=?3 AND b._deleted=0)) ORDER BY e.date DESC, e.id DESC")))
		return TIDU_ERROR;
	if (f->since)
		sqlite3_bind_text(st, 1, f->since, -1, SQLITE_STATIC);
	if (f->kind)
		sqlite3_bind_text(st, 2, f->kind, -1, SQLITE_STATIC);
	if (f->uscc)
		sqlite3_bind_text(st, 3, f->uscc, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_event *e;

		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = tidu_reallocarray(*out, cap, sizeof(**out));
		}
		e = &(*out)[(*n)++];
		memset(e, 0, sizeof(*e));
		snprintf(e->id, sizeof(e->id), "%s", (const char *)sqlite3_column_text(st, 0));
		e->district = tidu_view_column_text(st, 1);
		e->kind = tidu_view_column_text(st, 2);
		e->date = tidu_view_column_text(st, 3);
		e->title = tidu_view_column_text(st, 4);
		e->place = tidu_view_column_text(st, 5);
		e->note = tidu_view_column_text(st, 6);
		e->firms = sqlite3_column_int64(st, 7);
		e->people = sqlite3_column_int64(st, 8);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		tidu_events_free(*out, *n);
		*out = NULL;
		*n = 0;
		return tidu_store_sqlerr(s, rc, _("reading the events"));
	}
	return 0;
}

int tidu_event_firms(tidu_store *s, const char *id, char ***usccs, char ***names, size_t *n)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT DISTINCT a.uscc, f.name FROM attendance a LEFT JOIN firm f ON f.uscc=a.uscc "
		"WHERE a.event=? AND a._deleted=0 ORDER BY a.uscc");
	size_t cap = 0;
	int rc;

	*usccs = *names = NULL;
	*n = 0;
	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*usccs = tidu_reallocarray(*usccs, cap, sizeof(**usccs));
			*names = tidu_reallocarray(*names, cap, sizeof(**names));
		}
		(*usccs)[*n] = tidu_view_column_text(st, 0);
		(*names)[*n] = tidu_view_column_text(st, 1);
		(*n)++;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("reading the attendance"));
}
