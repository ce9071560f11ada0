/*
 * The rule packs the city publishes: table `rule_pack` (migration 006),
 * publishing on the city, the signed document of refs/heads/city/rules and
 * its import on every store (rules.h, docs/assess.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "tidu/alloc.h"
#include "tidu/clock.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "tidu/rules.h"
#include "tidu/trust.h"

static const char what_doc[] = N_("rule pack document");

static int store_pack(tidu_store *s, const char *id, int version, const char *text)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"INSERT INTO rule_pack(id, version, text, at) VALUES(?1, ?2, ?3, ?4) "
		"ON CONFLICT(id) DO UPDATE SET version=excluded.version, "
		"text=excluded.text, at=excluded.at");

	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, version);
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, tidu_clock_now_ms());
	}
	return tidu_store_exec(s, st, _("storing a rule pack"));
}

/* "city:ID" names a stored pack in messages. */
static char *stored_name(const char *id)
{
	tidu_buf b = TIDU_BUF_INIT;

	tidu_buf_printf(&b, "city:%s", id);
	return tidu_buf_detach(&b);
}

int tidu_rules_load(tidu_store *s, tidu_packs **out)
{
	tidu_packs *set = NULL;
	sqlite3_stmt *st;
	int rc, error;

	*out = NULL;
	if ((error = tidu_packs_load(&set)) < 0)
		return error;
	if (!(st = tidu_store_stmt(s, "SELECT id, text FROM rule_pack ORDER BY id"))) {
		tidu_packs_free(set);
		return TIDU_ERROR;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char *name = stored_name((const char *)sqlite3_column_text(st, 0));

		/* Checked when it was stored: failing now is a damaged store. */
		error = tidu_packs_add_city(set, name, (const char *)sqlite3_column_text(st, 1));
		free(name);
		if (error < 0) {
			sqlite3_reset(st);
			tidu_packs_free(set);
			return tidu_error_set(TIDU_ECORRUPT, _("a stored rule pack cannot be read: %s"),
					      tidu_error_message());
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		tidu_packs_free(set);
		return tidu_store_sqlerr(s, rc, _("reading the rule packs"));
	}
	*out = set;
	return 0;
}

/*
 * Reads `text` as the pack `name` and checks it may go into `set`: it
 * loads next to the others and is newer than the one of its id there.
 * 1 if it is not newer (*have is the version in use), 0 if it may go in.
 */
static int vet(const tidu_packs *set, const char *name, const char *text, char *id,
	       size_t idsize, int *version, int *have)
{
	const tidu_pack *old;
	tidu_pack *p = NULL;
	int error;

	if (strlen(text) > TIDU_PACK_MAX)
		return tidu_error_set(TIDU_EINVAL, _("rule pack %s is larger than %zu bytes"),
				      name, TIDU_PACK_MAX);
	if ((error = tidu_pack_read(name, text, &p)) < 0)
		return error;
	snprintf(id, idsize, "%s", tidu_pack_id(p));
	*version = tidu_pack_version(p);
	tidu_pack_free(p);
	old = tidu_packs_find(set, id);
	*have = old ? tidu_pack_version(old) : 0;
	if (old && *version <= *have)
		return 1;
	return tidu_packs_check(name, text, set);
}

int tidu_rules_publish(tidu_store *city, const char *name, const char *text,
		       tidu_rules_published *out)
{
	tidu_rules_published pub;
	tidu_packs *set = NULL;
	int error;

	memset(&pub, 0, sizeof(pub));
	if (strcmp(tidu_store_role(city), "city"))
		return tidu_error_set(TIDU_EINVAL,
			_("only the city store publishes rule packs: this store's role is '%s'"),
			tidu_store_role(city));
	if ((error = tidu_rules_load(city, &set)) < 0)
		return error;
	error = vet(set, name, text, pub.id, sizeof(pub.id), &pub.version, &pub.previous);
	tidu_packs_free(set);
	if (error == 1)
		return tidu_error_set(TIDU_EINVAL,
			_("rule pack %s: version %d is not newer than the %s in use (version %d): raise its 'version' line"),
			name, pub.version, pub.id, pub.previous);
	if (error < 0)
		return error;
	if ((error = tidu_store_begin(city)) < 0)
		return error;
	if ((error = store_pack(city, pub.id, pub.version, text)) < 0 ||
	    (error = tidu_store_commit(city)) < 0) {
		tidu_store_rollback(city);
		return error;
	}
	if (out)
		*out = pub;
	return 0;
}

int tidu_rules_export(tidu_store *city, tidu_buf *doc, size_t *count)
{
	tidu_buf payload = TIDU_BUF_INIT;
	tidu_json_writer w;
	sqlite3_stmt *st;
	int rc, error;

	*count = 0;
	if (!(st = tidu_store_stmt(city, "SELECT id, version, text FROM rule_pack ORDER BY id")))
		return TIDU_ERROR;
	tidu_trust_city_payload_begin(&w, &payload, TIDU_RULES_FORMAT, "packs");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "id");
		tidu_json_write_string(&w, (const char *)sqlite3_column_text(st, 0));
		tidu_json_write_key(&w, "version");
		tidu_json_write_int64(&w, sqlite3_column_int64(st, 1));
		tidu_json_write_key(&w, "text");
		tidu_json_write_string(&w, (const char *)sqlite3_column_text(st, 2));
		tidu_json_end_object(&w);
		(*count)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(city, rc, _("reading the rule packs"));
		goto done;
	}
	error = tidu_trust_city_payload_sign(city, &w, &payload, TIDU_RULES_DOMAIN, *count, doc);
done:
	tidu_buf_free(&payload);
	return error;
}

/* One entry of the document: taken, kept or refused (reported); < 0 for the store. */
static int import_one(tidu_store *s, tidu_packs *set, const tidu_json *e, size_t i,
		      tidu_city_import *rep)
{
	const char *eid = tidu_json_as_string(tidu_json_get(e, "id"));
	const char *text = tidu_json_as_string(tidu_json_get(e, "text"));
	char id[64], *name;
	int64_t ever;
	int version, have, error;
	tidu_buf why = TIDU_BUF_INIT;

	if (!eid || !text || tidu_json_as_int64(tidu_json_get(e, "version"), &ever) < 0) {
		tidu_error_clear();
		tidu_buf_printf(&why, _("pack %zu: expected an id, a version and a text"), i + 1);
		tidu_city_import_refuse(rep, why.ptr);
		tidu_buf_free(&why);
		return 0;
	}
	name = stored_name(eid);
	error = vet(set, name, text, id, sizeof(id), &version, &have);
	if (error >= 0 && (strcmp(id, eid) || version != ever)) {
		error = tidu_error_set(TIDU_EINVAL,
			_("rule pack %s: its text is %s version %d, not version %lld"),
			name, id, version, (long long)ever);
	}
	if (error == 1) {
		rep->kept++;
		error = 0;
	} else if (error == 0) {
		if ((error = store_pack(s, id, version, text)) == 0 &&
		    (error = tidu_packs_add_city(set, name, text)) == 0)
			rep->taken++;
	} else if (error == TIDU_EINVAL) {
		tidu_city_import_refuse(rep, tidu_error_message());
		tidu_error_clear();
		error = 0;
	}
	free(name);
	return error;
}

int tidu_rules_import(tidu_store *s, const char *doc, size_t len, tidu_city_import *rep)
{
	tidu_packs *set = NULL;
	tidu_json *tree = NULL;
	const tidu_json *packs;
	size_t i;
	int error;

	memset(rep, 0, sizeof(*rep));
	if ((error = tidu_trust_city_open(s, _(what_doc), TIDU_RULES_DOMAIN, TIDU_RULES_FORMAT,
					  "packs", doc, len, &tree, &packs)) < 0)
		return error;
	if ((error = tidu_rules_load(s, &set)) < 0 || (error = tidu_store_begin(s)) < 0)
		goto done;
	for (i = 0; i < tidu_json_count(packs) && !error; i++)
		error = import_one(s, set, tidu_json_at(packs, i), i, rep);
	if (error < 0 || (error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		rep->taken = 0;
	}
done:
	tidu_packs_free(set);
	tidu_json_free(tree);
	return error;
}
