/*
 * Moving a firm to another district (docs/sync.md, "Moving a firm"). The
 * city writes as the desk of a firm's district, so a change reaches the
 * district the firm has when it is written. A move is therefore two writes
 * in one transaction:
 *
 *  - `district` = NEW, as the desk of the OLD district: the old district's
 *    last change of the firm. Its copy then names the new district, and its
 *    stores refuse edits of it (tidu_firm_check_writable): history, read-only.
 *  - every current value of the firm, of its yearly figures, its visits
 *    and its survey responses (with their files), as the desk of the NEW district: the new district receives the
 *    firm's whole state in its next change set, not only later changes.
 *
 * Later edits follow the firm's district, so only the new district hears of
 * them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidu/alloc.h"
#include "tidu/dict.h"
#include "tidu/firm.h"
#include "tidu/i18n.h"
#include "tidu/record.h"
#include "tidu/survey.h"
#include "tidu/trust.h"
#include "tidu/uscc.h"
#include "tidu/view.h"
#include "tidu/visit.h"

typedef struct {
	tidu_edit **v;
	size_t n;
} edit_list;

static tidu_edit *list_add(edit_list *l, const char *entity, const char *key)
{
	tidu_edit *e = tidu_record_edit_new(entity, key);

	/* The new district gets every value, unchanged as they all are here. */
	tidu_record_edit_keep_all(e);
	l->v = tidu_reallocarray(l->v, l->n + 1, sizeof(*l->v));
	return l->v[l->n++] = e;
}

/* Every value `r` holds, into `e` (already canonical: the store's text). */
static int put_all(tidu_edit *e, const tidu_rec *r)
{
	size_t i;
	int error;

	for (i = 0; i < r->n; i++)
		if (r->values[i] &&
		    (error = tidu_record_edit_put(e, r->fields[i]->key, r->values[i])) < 0)
			return error;
	return 0;
}

static int add_visit(void *ctx, const char *id, const tidu_rec *visit)
{
	return put_all(list_add(ctx, TIDU_ENTITY_VISIT, id), visit);
}

static int add_survey_record(void *ctx, const char *entity, const char *key,
			     const tidu_rec *r)
{
	return put_all(list_add(ctx, entity, key), r);
}

/* The live records of `entity` (keyed by id, with a `uscc` field) of firm `uscc`. */
static int collect_by_id(tidu_store *s, const char *entity, const char *uscc, edit_list *l)
{
	tidu_query_filter filter = {.uscc = uscc, .order = TIDU_ORDER_KEY};
	tidu_rec r = TIDU_REC_INIT;
	tidu_query *q = NULL;
	int error;

	if ((error = tidu_view_query_open(s, entity, &filter, &q)) < 0)
		return error;
	while ((error = tidu_view_query_next(q, &r)) > 0) {
		error = put_all(list_add(l, entity, r.id), &r);
		tidu_view_rec_clear(&r);
		if (error < 0)
			break;
	}
	tidu_view_rec_clear(&r);
	tidu_view_query_free(q);
	return error < 0 ? error : 0;
}

/*
 * The edits that carry the live yearly figures, visits, responses,
 * referrals and attendances of `uscc`.
 */
static int collect(tidu_store *s, const char *uscc, edit_list *l)
{
	tidu_query_filter filter = {.uscc = uscc, .order = TIDU_ORDER_KEY};
	tidu_rec r = TIDU_REC_INIT;
	tidu_query *q = NULL;
	char key[48];
	int error;

	if ((error = tidu_view_query_open(s, TIDU_ENTITY_FIRM_YEAR, &filter, &q)) < 0)
		return error;
	while ((error = tidu_view_query_next(q, &r)) > 0) {
		snprintf(key, sizeof(key), "%s/%lld", uscc, (long long)r.year);
		error = put_all(list_add(l, TIDU_ENTITY_FIRM_YEAR, key), &r);
		tidu_view_rec_clear(&r);
		if (error < 0)
			break;
	}
	tidu_view_rec_clear(&r);
	tidu_view_query_free(q);
	if (error < 0 || (error = tidu_visit_list(s, uscc, add_visit, l)) < 0 ||
	    (error = tidu_survey_each_record(s, uscc, add_survey_record, l)) < 0 ||
	    (error = collect_by_id(s, TIDU_ENTITY_REFERRAL, uscc, l)) < 0)
		return error;
	return collect_by_id(s, TIDU_ENTITY_ATTENDANCE, uscc, l);
}

int tidu_firm_move(tidu_store *s, const char *uscc_in, const char *district,
		   char old_out[16])
{
	char uscc[TIDU_USCC_LEN + 1];
	tidu_rec firm = TIDU_REC_INIT;
	edit_list l = {0};
	tidu_edit *gone = NULL;
	const char *old;
	size_t i;
	int error, began = 0;

	old_out[0] = '\0';
	if (strcmp(tidu_store_role(s), "city"))
		return tidu_error_set(TIDU_EINVAL,
			_("only the city's store can move a firm to another district (this store's role is '%s')"),
			tidu_store_role(s));
	if ((error = tidu_uscc_validate(uscc_in, uscc)) < 0)
		return error;
	if (!tidu_dict_district_name(district) || tidu_dict_is_city(district))
		return tidu_error_set(TIDU_EINVAL,
			_("'%s' is not one of the city's districts: give a district code of schema/divisions.csv, such as 410102"),
			district);
	error = tidu_view_rec_load(s, TIDU_ENTITY_FIRM, uscc, &firm);
	if (error == TIDU_ENOTFOUND)
		error = tidu_error_set(error, _("firm '%s' is not in the store"), uscc);
	if (error < 0)
		goto done;
	old = tidu_view_rec_get(&firm, "district");
	if (old)
		snprintf(old_out, 16, "%s", old);
	if (old && !strcmp(old, district)) {
		error = tidu_error_set(TIDU_EINVAL,
			_("firm '%s' is already in district %s"), uscc, district);
		goto done;
	}
	if ((error = tidu_store_begin(s)) < 0)
		goto done;
	began = 1;
	/* The old district's last word on the firm: where it went. */
	if (old && tidu_dict_district_name(old) && !tidu_dict_is_city(old)) {
		gone = tidu_record_edit_new(TIDU_ENTITY_FIRM, uscc);
		tidu_record_edit_as(gone, old);
		if ((error = tidu_record_edit_put(gone, "district", district)) < 0 ||
		    (error = tidu_record_edit_apply(s, gone)) < 0)
			goto done;
	}
	/* The whole firm, for the new district (its desk: the new district). */
	if ((error = put_all(list_add(&l, TIDU_ENTITY_FIRM, uscc), &firm)) < 0 ||
	    (error = tidu_record_edit_put(l.v[0], "district", district)) < 0 ||
	    (error = tidu_record_edit_apply(s, l.v[0])) < 0 ||
	    (error = collect(s, uscc, &l)) < 0)
		goto done;
	for (i = 1; i < l.n; i++)
		if ((error = tidu_record_edit_apply(s, l.v[i])) < 0)
			goto done;
	error = tidu_store_commit(s);
	began = error < 0;
done:
	if (began)
		tidu_store_rollback(s);
	for (i = 0; i < l.n; i++)
		tidu_record_edit_free(l.v[i]);
	free(l.v);
	tidu_record_edit_free(gone);
	tidu_view_rec_clear(&firm);
	return error;
}

/* The firm a change concerns: *uscc the caller's, NULL if it cannot be told. */
static int change_firm(tidu_store *s, const char *entity, const char *key,
		       const tidu_merge_field *f, size_t n, char **uscc)
{
	int64_t hlc;
	char *dev = NULL;
	const char *slash;
	size_t i;
	int error;

	*uscc = NULL;
	if (!strcmp(entity, TIDU_ENTITY_FIRM)) {
		*uscc = tidu_strdup(key);
		return 0;
	}
	if (!strcmp(entity, TIDU_ENTITY_FIRM_YEAR)) {
		slash = strchr(key, '/');
		*uscc = slash ? tidu_strndup(key, (size_t)(slash - key)) : tidu_strdup(key);
		return 0;
	}
	/* A visit, a response, a part of a file: its `uscc` field. */
	for (i = 0; i < n; i++)
		if (!strcmp(f[i].field, "uscc") && f[i].value) {
			*uscc = tidu_strdup(f[i].value);
			return 0;
		}
	error = tidu_record_field(s, entity, key, "uscc", uscc, &hlc, &dev);
	free(dev);
	return error;
}

int tidu_firm_merge_check(tidu_store *s, const char *device, const char *district,
			  const char *entity, const char *key, int64_t hlc,
			  const tidu_merge_field *f, size_t n, size_t *kept)
{
	tidu_trust_device dev;
	char *uscc = NULL, *stored = NULL, *wdev = NULL;
	int64_t whlc;
	size_t i;
	int error, foreign = 0;

	if (!strcmp(device, tidu_store_device(s)) || !district || !*district)
		return 1;
	/* a firm or an event filed under another district than its writer's */
	if (!strcmp(entity, TIDU_ENTITY_FIRM) || !strcmp(entity, TIDU_ENTITY_EVENT))
		for (i = 0; i < n; i++)
			if (!strcmp(f[i].field, "district") &&
			    (!f[i].value || strcmp(f[i].value, district)))
				foreign = 1;
	/*
	 * The firm's district as stored is judged on the city only: there a
	 * move is a local write, so the outcome does not depend on the order
	 * in which change sets arrive; elsewhere it would, and replicas of one
	 * district could end up different.
	 */
	if (!foreign && !strcmp(tidu_store_role(s), "city")) {
		if ((error = change_firm(s, entity, key, f, n, &uscc)) < 0)
			goto done;
		if (uscc && (error = tidu_record_field(s, TIDU_ENTITY_FIRM, uscc, "district",
						       &stored, &whlc, &wdev)) < 0)
			goto done;
		foreign = stored && *stored && strcmp(stored, district);
	}
	/* Looked up only then: most changes are of the device's own firms. */
	if (foreign) {
		if (tidu_trust_device_lookup(s, device, &dev) < 0) {
			/* Not this check's to judge: the keyring check is. */
			tidu_error_clear();
			foreign = 0;
		} else if (!strcmp(dev.role, TIDU_TRUST_ROLE_DESK)) {
			/* The city's desks file firms anywhere: that is how a firm moves. */
			foreign = 0;
		}
	}
	error = !foreign;
	for (i = 0; foreign && i < n; i++) {
		if (f[i].field[0] == '_')
			continue;
		if ((error = tidu_record_set_aside(s, entity, key, f[i].field, f[i].value,
						   hlc, device)) < 0)
			goto done;
		(*kept)++;
	}
done:
	free(uscc);
	free(stored);
	free(wdev);
	return error;
}
