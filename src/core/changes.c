#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/clock.h"
#include "tidu/file.h"
#include "tidu/firm.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "tidu/record.h"
#include "tidu/trust.h"

/* ---- sealing ------------------------------------------------------------- */

/* Appends the change-log row `st` (id, entity, key, hlc, wall, fields) to `body`. */
static int add_row(sqlite3_stmt *st, tidu_buf *body)
{
	const char *entity = (const char *)sqlite3_column_text(st, 1);
	const char *fields = (const char *)sqlite3_column_text(st, 5);
	tidu_json *doc = NULL;
	tidu_changeset_field *f = NULL;
	tidu_changeset_change c;
	size_t i, n;
	int error;

	if ((error = tidu_json_parse(fields, strlen(fields), &doc)) < 0)
		return tidu_error_set(TIDU_ECORRUPT,
			_("change log row %lld is damaged: %s"),
			(long long)sqlite3_column_int64(st, 0), tidu_error_message());
	n = tidu_json_count(doc);
	f = tidu_calloc(n ? n : 1, sizeof(*f));
	for (i = 0; i < n; i++) {
		const tidu_json *t = tidu_json_at(doc, i);

		f[i].field = tidu_json_as_string(tidu_json_at(t, 0));
		f[i].value = tidu_json_typeof(tidu_json_at(t, 1)) == TIDU_JSON_NULL ? NULL :
			     tidu_json_as_string(tidu_json_at(t, 1));
		f[i].base = tidu_json_as_string(tidu_json_at(t, 2));
	}
	c.entity = tidu_changeset_entity_code(entity);
	c.key = (const char *)sqlite3_column_text(st, 2);
	c.hlc = (uint64_t)sqlite3_column_int64(st, 3);
	c.wall = sqlite3_column_int64(st, 4);
	c.fields = f;
	c.nfields = n;
	error = tidu_changeset_body_add(body, &c);
	free(f);
	tidu_json_free(doc);
	return error;
}

/* The last sequence and hash of `device` held in state `state` (NULL: any). */
static int last_of(tidu_store *s, const char *device, const char *state,
		   uint64_t *seq, unsigned char hash[TIDU_CHANGESET_HASH_BYTES])
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT seq, hash FROM changeset WHERE device=?1 "
		"AND (?2 IS NULL OR state=?2) ORDER BY seq DESC LIMIT 1");
	int rc;

	*seq = 0;
	memset(hash, 0, TIDU_CHANGESET_HASH_BYTES);
	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	if (state)
		sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = (uint64_t)sqlite3_column_int64(st, 0);
		if (sqlite3_column_bytes(st, 1) == TIDU_CHANGESET_HASH_BYTES)
			memcpy(hash, sqlite3_column_blob(st, 1), TIDU_CHANGESET_HASH_BYTES);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
		: tidu_store_sqlerr(s, rc, _("reading change sets"));
}

static int store_file(tidu_store *s, const tidu_changeset_header *h,
		      const unsigned char *file, size_t len, const char *state)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"INSERT INTO changeset(device, seq, district, hash, prev, hlc_min, "
		"hlc_max, count, state, file, received) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
		"ON CONFLICT(device, seq) DO UPDATE SET state=excluded.state");
	unsigned char hash[TIDU_CHANGESET_HASH_BYTES];
	int rc;

	if (!st)
		return TIDU_ERROR;
	tidu_changeset_hash(file, len, hash);
	sqlite3_bind_text(st, 1, h->device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)h->seq);
	sqlite3_bind_text(st, 3, h->district, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, hash, sizeof(hash), SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 5, h->prev, sizeof(h->prev), SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (int64_t)h->hlc_min);
	sqlite3_bind_int64(st, 7, (int64_t)h->hlc_max);
	sqlite3_bind_int64(st, 8, h->count);
	sqlite3_bind_text(st, 9, state, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 10, file, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, tidu_clock_now_ms());
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("storing a change set"));
}

/*
 * The device of the oldest pending change and the district it writes for:
 * this store's, or on the city one of its desks (trust.h). 1 if there is a
 * pending change, 0 if none.
 */
static int next_author(tidu_store *s, char author[TIDU_DEVICE_ID_LEN + 1],
		       char district[TIDU_TRUST_DISTRICT_SIZE])
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT device FROM change WHERE seq IS NULL ORDER BY id LIMIT 1");
	tidu_trust_device dev;
	int rc, error;

	if (!st)
		return TIDU_ERROR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(author, TIDU_DEVICE_ID_LEN + 1, "%s", sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return tidu_store_sqlerr(s, rc, _("reading the change log"));
	if (!strcmp(author, tidu_store_device(s))) {
		snprintf(district, TIDU_TRUST_DISTRICT_SIZE, "%s", tidu_store_district(s));
		return 1;
	}
	/* Only the city writes as another device: one of its desks. */
	error = tidu_trust_device_lookup(s, author, &dev);
	if (error < 0 && error != TIDU_ENOTFOUND)
		return error;
	tidu_error_clear();
	if (error < 0 || !tidu_changes_is_own(s, author, dev.district) ||
	    strcmp(dev.role, TIDU_TRUST_ROLE_DESK))
		return tidu_error_set(TIDU_ECORRUPT,
			_("the change log holds changes of device '%s', which is not this store's"),
			author);
	snprintf(district, TIDU_TRUST_DISTRICT_SIZE, "%s", dev.district);
	return 1;
}

/* ---- the outbox: changes set aside ----------------------------------- */

/* Changes of one seal that cannot go out, stored once the scan is over. */
typedef struct {
	int64_t *ids;
	char **reasons;
	size_t n, cap;
	size_t total; /* set aside by this scan (n is reset when stored) */
} aside_list;

static void aside_add(aside_list *a, int64_t id, const char *reason)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		a->ids = tidu_reallocarray(a->ids, a->cap, sizeof(*a->ids));
		a->reasons = tidu_reallocarray(a->reasons, a->cap, sizeof(*a->reasons));
	}
	a->ids[a->n] = id;
	a->reasons[a->n++] = tidu_strdup(reason);
	a->total++;
}

static void aside_free(aside_list *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->reasons[i]);
	free(a->ids);
	free(a->reasons);
	memset(a, 0, sizeof(*a));
}

/* Marks the listed changes set aside (seq 0) with their reasons. */
static int aside_store(tidu_store *s, aside_list *a)
{
	sqlite3_stmt *mark = tidu_store_stmt(s, "UPDATE change SET seq=0 WHERE id=?1");
	sqlite3_stmt *add;
	size_t i;
	int rc = SQLITE_DONE;

	if (!mark)
		return TIDU_ERROR;
	add = tidu_store_stmt(s, "INSERT OR REPLACE INTO change_aside(change, reason, at) "
			      "VALUES(?1, ?2, ?3)");
	if (!add)
		return TIDU_ERROR;
	for (i = 0; i < a->n && rc == SQLITE_DONE; i++) {
		sqlite3_bind_int64(mark, 1, a->ids[i]);
		rc = sqlite3_step(mark);
		sqlite3_reset(mark);
		if (rc != SQLITE_DONE)
			break;
		sqlite3_bind_int64(add, 1, a->ids[i]);
		sqlite3_bind_text(add, 2, a->reasons[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(add, 3, tidu_clock_now_ms());
		rc = sqlite3_step(add);
		sqlite3_reset(add);
	}
	for (i = 0; i < a->n; i++)
		free(a->reasons[i]);
	a->n = 0;
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("setting a change aside"));
}

int tidu_changes_outbox_counts(tidu_store *s, tidu_outbox_counts *out)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT entity, count(*) FROM change WHERE seq IS NULL GROUP BY entity");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return TIDU_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int code = tidu_changeset_entity_code((const char *)sqlite3_column_text(st, 0));
		int64_t n = sqlite3_column_int64(st, 1);

		out->pending += n;
		if (code > 0 && code < (int)(sizeof(out->by_entity) / sizeof(out->by_entity[0])))
			out->by_entity[code] += n;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return tidu_store_sqlerr(s, rc, _("counting changes"));
	st = tidu_store_stmt(s, "SELECT count(*) FROM change_aside");
	if (!st)
		return TIDU_ERROR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		out->aside = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : tidu_store_sqlerr(s, rc, _("counting changes"));
}

static int outbox_rows(tidu_store *s, const char *sql, int64_t limit,
		       tidu_outbox_item **items, size_t *n, size_t *cap)
{
	sqlite3_stmt *st = tidu_store_stmt(s, sql);
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_int64(st, 1, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_outbox_item *it;
		const char *fields = (const char *)sqlite3_column_text(st, 5);
		tidu_json *doc = NULL;

		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*items = tidu_reallocarray(*items, *cap, sizeof(**items));
		}
		it = &(*items)[(*n)++];
		memset(it, 0, sizeof(*it));
		it->id = sqlite3_column_int64(st, 0);
		it->entity = tidu_strdup((const char *)sqlite3_column_text(st, 1));
		it->key = tidu_strdup((const char *)sqlite3_column_text(st, 2));
		it->device = tidu_strdup((const char *)sqlite3_column_text(st, 3));
		it->wall = sqlite3_column_int64(st, 4);
		if (tidu_json_parse(fields, strlen(fields), &doc) == 0)
			it->fields = tidu_json_count(doc);
		tidu_error_clear();
		tidu_json_free(doc);
		if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
			it->reason = tidu_strdup((const char *)sqlite3_column_text(st, 6));
			it->aside_at = sqlite3_column_int64(st, 7);
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("reading the change log"));
}

int tidu_changes_outbox(tidu_store *s, int pending, size_t limit,
			tidu_outbox_item **out, size_t *n)
{
	size_t cap = 0;
	int error;

	*out = NULL;
	*n = 0;
	error = outbox_rows(s,
		"SELECT c.id, c.entity, c.key, c.device, c.wall, c.fields, a.reason, a.at "
		"FROM change_aside a JOIN change c ON c.id = a.change ORDER BY c.id LIMIT ?1",
		-1, out, n, &cap);
	if (error == 0 && pending)
		error = outbox_rows(s,
			"SELECT id, entity, key, device, wall, fields, NULL, NULL FROM change "
			"WHERE seq IS NULL ORDER BY id LIMIT ?1",
			limit ? (int64_t)limit : -1, out, n, &cap);
	if (error < 0) {
		tidu_changes_outbox_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return error;
}

void tidu_changes_outbox_free(tidu_outbox_item *items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(items[i].entity);
		free(items[i].key);
		free(items[i].device);
		free(items[i].reason);
	}
	free(items);
}

int tidu_changes_retry(tidu_store *s, size_t *n_out)
{
	int error, rc;

	*n_out = 0;
	if ((error = tidu_store_begin(s)) < 0)
		return error;
	rc = sqlite3_exec(tidu_store_db(s),
		"UPDATE change SET seq=NULL WHERE seq=0 AND id IN (SELECT change FROM change_aside)",
		NULL, NULL, NULL);
	if (rc == SQLITE_OK) {
		*n_out = (size_t)sqlite3_changes(tidu_store_db(s));
		rc = sqlite3_exec(tidu_store_db(s), "DELETE FROM change_aside", NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		error = tidu_store_sqlerr(s, rc, _("putting changes back in the outbox"));
		tidu_store_rollback(s);
		*n_out = 0;
		return error;
	}
	if ((error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		*n_out = 0;
	}
	return error;
}

/* ---- counts for status and admin ---- */

int tidu_changes_last_applied(tidu_store *s, const char *device, int64_t *out)
{
	unsigned char hash[TIDU_CHANGESET_HASH_BYTES];
	uint64_t seq;
	int error = last_of(s, device, "applied", &seq, hash);

	*out = error < 0 ? 0 : (int64_t)seq;
	return error;
}

int tidu_changes_seal(tidu_store *s, uint64_t *seq_out, size_t *count_out)
{
	char district[TIDU_TRUST_DISTRICT_SIZE];

	return tidu_changes_seal_for(s, seq_out, count_out, district);
}

int tidu_changes_seal_for(tidu_store *s, uint64_t *seq_out, size_t *count_out,
			  char district_out[TIDU_TRUST_DISTRICT_SIZE])
{
	unsigned char pks[2][TIDU_TRUST_KEY_LEN], sk[TIDU_TRUST_SIGN_SK_LEN];
	char author[TIDU_DEVICE_ID_LEN + 1], district[TIDU_TRUST_DISTRICT_SIZE];
	tidu_buf body = TIDU_BUF_INIT, file = TIDU_BUF_INIT;
	tidu_changeset_origin origin;
	tidu_changeset_header h;
	sqlite3_stmt *st = NULL, *mark;
	size_t npks = 0, count = 0;
	int64_t last_id = 0;
	aside_list aside;
	int rc, error;

	memset(&aside, 0, sizeof(aside));
	*seq_out = 0;
	*count_out = 0;
	district_out[0] = '\0';
	memset(&origin, 0, sizeof(origin));
	if ((error = tidu_store_begin(s)) < 0)
		return error;
again:
	/* One device at a time: on the city, each desk is a device of its own. */
	if ((error = next_author(s, author, district)) <= 0)
		goto done;
	error = 0;
	rc = sqlite3_prepare_v2(tidu_store_db(s),
		"SELECT id, entity, key, hlc, wall, fields FROM change "
		"WHERE seq IS NULL AND device=?1 ORDER BY id", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		error = tidu_store_sqlerr(s, rc, _("reading the change log"));
		goto done;
	}
	sqlite3_bind_text(st, 1, author, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t before = body.len;

		error = add_row(st, &body);
		if (error == 0 && body.len - before > TIDU_SEAL_MAX_CHANGE)
			error = tidu_error_set(TIDU_EINVAL,
				_("the change is %zu bytes, more than one change set carries (%zu)"),
				body.len - before, (size_t)TIDU_SEAL_MAX_CHANGE);
		if (error == TIDU_EINVAL || error == TIDU_ECORRUPT) {
			/* It cannot go out: set it aside, never block the rest. */
			tidu_buf_truncate(&body, before);
			aside_add(&aside, sqlite3_column_int64(st, 0), tidu_error_message());
			tidu_error_clear();
			error = 0;
			continue;
		}
		if (error < 0)
			goto done;
		count++;
		last_id = sqlite3_column_int64(st, 0);
		/* Big batches go out as several change sets (callers loop). */
		if (body.len >= TIDU_SEAL_MAX_BODY) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(s, rc, _("reading the change log"));
		goto done;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((error = aside_store(s, &aside)) < 0)
		goto done;
	if (count == 0) {
		/* Everything of this author was set aside: try the next one. */
		if (aside.total) {
			aside.total = 0;
			goto again;
		}
		goto done; /* nothing pending: nothing to seal */
	}
	if ((error = tidu_trust_recipients(s, district, pks, 2, &npks)) < 0 ||
	    (error = tidu_trust_sign_sk(s, sk)) < 0)
		goto done;
	origin.district = district;
	origin.device = author;
	if ((error = last_of(s, origin.device, NULL, &origin.seq, origin.prev)) < 0)
		goto done;
	origin.seq++;
	if ((error = tidu_changeset_seal(&origin, &body, sk, (const unsigned char (*)[32])pks,
				  npks, &file, &h)) < 0 ||
	    (error = store_file(s, &h, (const unsigned char *)file.ptr, file.len,
				"sealed")) < 0)
		goto done;
	mark = tidu_store_stmt(s, "UPDATE change SET seq=?1 WHERE seq IS NULL AND id<=?2 "
			       "AND device=?3");
	if (!mark) {
		error = TIDU_ERROR;
		goto done;
	}
	sqlite3_bind_int64(mark, 1, (int64_t)origin.seq);
	sqlite3_bind_int64(mark, 2, last_id);
	sqlite3_bind_text(mark, 3, author, -1, SQLITE_STATIC);
	rc = sqlite3_step(mark);
	sqlite3_reset(mark);
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(s, rc, _("sealing changes"));
		goto done;
	}
	*seq_out = origin.seq;
	*count_out = count;
	snprintf(district_out, TIDU_TRUST_DISTRICT_SIZE, "%s", district);
done:
	sqlite3_finalize(st);
	aside_free(&aside);
	sodium_memzero(sk, sizeof(sk));
	if (error < 0 || (error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		*seq_out = 0;
		*count_out = 0;
	}
	tidu_buf_free(&body);
	tidu_buf_free(&file);
	return error;
}

/* ---- applying ------------------------------------------------------------ */

int tidu_changes_is_own(tidu_store *s, const char *device, const char *district)
{
	char desk[TIDU_DEVICE_ID_LEN + 1];
	tidu_trust_device dev;

	if (!strcmp(device, tidu_store_device(s)))
		return 1;
	if (strcmp(tidu_store_role(s), "city"))
		return 0;
	if (!district) {
		/* Only a desk of the keyring can be one of ours. */
		if (tidu_trust_device_lookup(s, device, &dev) < 0) {
			tidu_error_clear();
			return 0;
		}
		if (strcmp(dev.role, TIDU_TRUST_ROLE_DESK))
			return 0;
		district = dev.district;
	}
	tidu_trust_desk_id(tidu_store_device(s), district, desk);
	return !strcmp(desk, device);
}

static int report(tidu_apply_report *rep, tidu_apply_outcome outcome,
		  const char *fmt, ...) TIDU_PRINTF(3, 4);

static int report(tidu_apply_report *rep, tidu_apply_outcome outcome,
		  const char *fmt, ...)
{
	va_list ap;

	rep->outcome = outcome;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
	va_end(ap);
	return 0;
}

/* Does the store hold (device, seq)? 1 with the same hash, 2 with another. */
static int held_already(tidu_store *s, const char *device, uint64_t seq,
			const unsigned char hash[TIDU_CHANGESET_HASH_BYTES], int *found)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT hash FROM changeset WHERE device=?1 AND seq=?2");
	int rc;

	*found = 0;
	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*found = sqlite3_column_bytes(st, 0) == TIDU_CHANGESET_HASH_BYTES &&
			 !memcmp(sqlite3_column_blob(st, 0), hash, TIDU_CHANGESET_HASH_BYTES) ? 1 : 2;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
		: tidu_store_sqlerr(s, rc, _("reading change sets"));
}

/* Decrypts and verifies `file`; *readable = 0 if no key of ours opens it. */
static int open_file(tidu_store *s, const unsigned char *file, size_t len,
		     const char *name, const tidu_trust_device *dev,
		     tidu_changeset_header *h, tidu_buf *body, tidu_apply_report *rep,
		     int *ok)
{
	tidu_trust_keypair *kps = NULL;
	tidu_changeset_keypair *keys = NULL;
	size_t n = 0, i;
	int error;

	*ok = 0;
	if ((error = tidu_trust_reader_keys(s, &kps, &n)) < 0)
		return error;
	keys = tidu_calloc(n ? n : 1, sizeof(*keys));
	for (i = 0; i < n; i++) {
		memcpy(keys[i].pk, kps[i].pk, sizeof(keys[i].pk));
		memcpy(keys[i].sk, kps[i].sk, sizeof(keys[i].sk));
	}
	error = tidu_changeset_open(file, len, name, keys, n, dev->sign_pk, h, body);
	sodium_memzero(keys, (n ? n : 1) * sizeof(*keys));
	free(keys);
	tidu_trust_keypairs_free(kps, n);
	if (error == TIDU_ENOTFOUND)
		return report(rep, TIDU_APPLY_SKIPPED, "%s", tidu_error_message());
	if (error == TIDU_ECORRUPT || error == TIDU_EINVAL)
		return report(rep, TIDU_APPLY_REJECTED, "%s", tidu_error_message());
	if (error < 0)
		return error;
	*ok = 1;
	return 0;
}

/* Merges every change of an opened body (inside the caller's transaction). */
static int merge_body(tidu_store *s, const tidu_changeset_header *h, const tidu_buf *body,
		      tidu_apply_report *rep)
{
	tidu_changeset_reader r;
	tidu_changeset_change c;
	tidu_merge_field *mf = NULL;
	size_t cap = 0, i;
	int64_t ahead = 0;
	int rc, error = 0;

	tidu_changeset_reader_init(&r, body->ptr, body->len);
	while ((rc = tidu_changeset_reader_next(&r, &c)) > 0) {
		if (c.nfields > cap) {
			cap = c.nfields;
			mf = tidu_reallocarray(mf, cap, sizeof(*mf));
		}
		for (i = 0; i < c.nfields; i++) {
			mf[i].field = c.fields[i].field;
			mf[i].value = c.fields[i].value;
			mf[i].base = c.fields[i].base;
		}
		/* A change for another district's firm is set aside (firm.h). */
		if ((error = tidu_firm_merge_check(s, h->device, h->district,
				tidu_changeset_entity_name(c.entity), c.key, (int64_t)c.hlc,
				mf, c.nfields, &rep->conflicts)) <= 0) {
			if (error < 0)
				break;
			error = 0;
			continue;
		}
		if ((error = tidu_record_merge(s, tidu_changeset_entity_name(c.entity), c.key,
					       (int64_t)c.hlc, h->device, mf, c.nfields,
					       &rep->conflicts)) < 0)
			break;
		rep->changes++;
	}
	if (!error && rc < 0)
		error = rc;
	if (!error && (error = tidu_store_hlc_observe(s, (int64_t)h->hlc_max, &ahead)) == 0 &&
	    ahead > rep->ahead_ms)
		rep->ahead_ms = ahead;
	free(mf);
	tidu_changeset_reader_free(&r);
	return error;
}

/*
 * Applies a file whose device is known and whose place in the chain is
 * next: opens it, merges it and records it, in one transaction.
 */
static int apply_next(tidu_store *s, const unsigned char *file, size_t len,
		      const char *name, const tidu_trust_device *dev,
		      tidu_apply_report *rep)
{
	tidu_buf body = TIDU_BUF_INIT;
	tidu_changeset_header h;
	int ok, error;

	if ((error = open_file(s, file, len, name, dev, &h, &body, rep, &ok)) < 0 || !ok)
		goto done;
	if ((error = tidu_store_begin(s)) < 0)
		goto done;
	if ((error = merge_body(s, &h, &body, rep)) < 0 ||
	    (error = store_file(s, &h, file, len, "applied")) < 0 ||
	    (error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		if (error == TIDU_EINVAL || error == TIDU_ECORRUPT) {
			/* A change the merge refuses: the file is rejected whole. */
			rep->changes = rep->conflicts = 0;
			error = report(rep, TIDU_APPLY_REJECTED, "%s", tidu_error_message());
		}
		goto done;
	}
	rep->outcome = TIDU_APPLY_APPLIED;
done:
	tidu_buf_free(&body);
	return error;
}

/* After applying seq N of `device`, applies its held N+1, N+2, ... */
static int apply_held(tidu_store *s, const tidu_trust_device *dev,
		      tidu_apply_report *rep)
{
	for (;;) {
		unsigned char hash[TIDU_CHANGESET_HASH_BYTES];
		tidu_apply_report sub;
		sqlite3_stmt *st;
		uint64_t seq;
		unsigned char *file = NULL;
		size_t len = 0;
		int rc, error, chained = 0;

		if ((error = last_of(s, dev->device, "applied", &seq, hash)) < 0)
			return error;
		st = tidu_store_stmt(s,
			"SELECT file, prev FROM changeset WHERE device=?1 AND seq=?2 "
			"AND state='held'");
		if (!st)
			return TIDU_ERROR;
		sqlite3_bind_text(st, 1, dev->device, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)seq + 1);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			len = (size_t)sqlite3_column_bytes(st, 0);
			file = tidu_malloc(len ? len : 1);
			memcpy(file, sqlite3_column_blob(st, 0), len);
			chained = sqlite3_column_bytes(st, 1) == TIDU_CHANGESET_HASH_BYTES &&
				  !memcmp(sqlite3_column_blob(st, 1), hash, TIDU_CHANGESET_HASH_BYTES);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_ROW) {
			free(file);
			return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("reading change sets"));
		}
		memset(&sub, 0, sizeof(sub));
		if (!chained) {
			rep->stuck = 1;
			/* The held file does not follow what arrived: a fork. */
			snprintf(rep->reason, sizeof(rep->reason),
				 _("held change set %llu of device '%s' does not follow %llu: fork in its chain"),
				 (unsigned long long)seq + 1, dev->device, (unsigned long long)seq);
			free(file);
			return 0;
		}
		error = apply_next(s, file, len, "held", dev, &sub);
		free(file);
		if (error < 0)
			return error;
		if (sub.outcome != TIDU_APPLY_APPLIED) {
			/* Said, not dropped: the device waits on this file. */
			rep->stuck = 1;
			snprintf(rep->reason, sizeof(rep->reason),
				 _("held change set %llu of device '%s' refused: %s"),
				 (unsigned long long)seq + 1, dev->device, sub.reason);
			return 0;
		}
		rep->changes += sub.changes;
		rep->conflicts += sub.conflicts;
		rep->unblocked++;
	}
}

int tidu_changes_apply(tidu_store *s, const unsigned char *file, size_t len,
		       const char *name, tidu_apply_report *rep)
{
	unsigned char hash[TIDU_CHANGESET_HASH_BYTES], last_hash[TIDU_CHANGESET_HASH_BYTES];
	tidu_trust_device dev;
	tidu_changeset_header h;
	uint64_t last;
	int error, found;

	memset(rep, 0, sizeof(*rep));
	if (tidu_changeset_read_header(file, len, name, &h) < 0)
		return report(rep, TIDU_APPLY_REJECTED, "%s", tidu_error_message());
	snprintf(rep->device, sizeof(rep->device), "%s", h.device);
	snprintf(rep->district, sizeof(rep->district), "%s", h.district);
	rep->seq = h.seq;
	if (h.hlc_max >= (uint64_t)TIDU_HLC_LIMIT)
		return report(rep, TIDU_APPLY_REJECTED,
			_("change set %llu of device '%s' claims a clock beyond the year 4000"),
			(unsigned long long)h.seq, h.device);
	tidu_changeset_hash(file, len, hash);

	if ((error = held_already(s, h.device, h.seq, hash, &found)) < 0)
		return error;
	if (found == 1)
		return report(rep, TIDU_APPLY_DUPLICATE, "%s", _("already here"));
	if (found == 2)
		return report(rep, TIDU_APPLY_REJECTED,
			_("device '%s' has another change set %llu: replayed or forked sequence"),
			h.device, (unsigned long long)h.seq);
	if (tidu_changes_is_own(s, h.device, h.district))
		return report(rep, TIDU_APPLY_REJECTED, "%s",
			_("claims to come from this device, which never sealed it"));
	error = tidu_trust_device_lookup(s, h.device, &dev);
	if (error == TIDU_ENOTFOUND)
		return report(rep, TIDU_APPLY_REJECTED,
			_("device '%s' is not in the keyring"), h.device);
	if (error < 0)
		return error;
	if (strcmp(dev.district, h.district))
		return report(rep, TIDU_APPLY_REJECTED,
			_("device '%s' of district %s wrote for district %s"),
			h.device, dev.district, h.district);
	if (dev.revoked && (int64_t)h.seq > dev.revoked_after)
		return report(rep, TIDU_APPLY_REJECTED,
			_("sealed after device '%s' was revoked (its last accepted change set is %lld)"),
			h.device, (long long)dev.revoked_after);
	if ((error = last_of(s, h.device, "applied", &last, last_hash)) < 0)
		return error;
	if (h.seq <= last)
		return report(rep, TIDU_APPLY_REJECTED,
			_("replayed: change set %llu of device '%s' is older than the last applied (%llu)"),
			(unsigned long long)h.seq, h.device, (unsigned long long)last);
	if (h.seq > last + 1) {
		tidu_buf body = TIDU_BUF_INIT;
		int ok;

		/* Authenticate it now, so that only genuine files wait. */
		error = open_file(s, file, len, name, &dev, &h, &body, rep, &ok);
		tidu_buf_free(&body);
		if (error < 0 || !ok)
			return error;
		if ((error = tidu_store_begin(s)) < 0)
			return error;
		if ((error = store_file(s, &h, file, len, "held")) < 0 ||
		    (error = tidu_store_commit(s)) < 0) {
			tidu_store_rollback(s);
			return error;
		}
		return report(rep, TIDU_APPLY_HELD,
			_("waiting for change set %llu of device '%s'"),
			(unsigned long long)last + 1, h.device);
	}
	if (memcmp(h.prev, last_hash, sizeof(last_hash)))
		return report(rep, TIDU_APPLY_REJECTED,
			_("change set %llu of device '%s' does not follow %llu: fork in its chain"),
			(unsigned long long)h.seq, h.device, (unsigned long long)last);
	if ((error = apply_next(s, file, len, name, &dev, rep)) < 0)
		return error;
	if (rep->outcome == TIDU_APPLY_APPLIED)
		error = apply_held(s, &dev, rep);
	return error;
}

/* ---- export and log ------------------------------------------------------ */

/*
 * A file already in the folder counts only if it holds exactly what would
 * be written: a damaged or different one is rewritten whole (repaired), and
 * the temporary files of a killed export are removed from every device
 * folder written to.
 */
int tidu_changes_export(tidu_store *s, const char *dir, tidu_export_report *rep)
{
	sqlite3_stmt *st = NULL;
	tidu_buf path = TIDU_BUF_INIT, folder = TIDU_BUF_INIT;
	int rc, error = 0;

	memset(rep, 0, sizeof(*rep));
	rc = sqlite3_prepare_v2(tidu_store_db(s),
		"SELECT district, device, seq, file FROM changeset ORDER BY device, seq",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return tidu_store_sqlerr(s, rc, _("reading change sets"));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *file = sqlite3_column_blob(st, 3);
		size_t len = (size_t)sqlite3_column_bytes(st, 3);
		struct stat sb;
		int there;

		tidu_buf_clear(&path);
		tidu_buf_printf(&path, "%s/%s/%s", dir, sqlite3_column_text(st, 0),
				sqlite3_column_text(st, 1));
		if (!folder.ptr || strcmp(folder.ptr, path.ptr)) {
			tidu_buf_clear(&folder);
			tidu_buf_puts(&folder, path.ptr);
			if ((error = tidu_file_mkdirs(path.ptr, 0700)) < 0 ||
			    (error = tidu_file_remove_temps(path.ptr, ".tcs",
							    &rep->cleaned)) < 0)
				break;
		}
		tidu_buf_printf(&path, "/%012lld.tcs", (long long)sqlite3_column_int64(st, 2));
		there = lstat(path.ptr, &sb) == 0;
		if (there && tidu_file_same(path.ptr, file, len)) {
			rep->skipped++;
			continue;
		}
		if ((error = tidu_file_write(path.ptr, file, len, 0644)) < 0)
			break;
		if (there)
			rep->repaired++;
		else
			rep->written++;
	}
	if (!error && rc != SQLITE_DONE)
		error = tidu_store_sqlerr(s, rc, _("reading change sets"));
	sqlite3_finalize(st);
	tidu_buf_free(&path);
	tidu_buf_free(&folder);
	return error;
}

int tidu_changes_list(tidu_store *s, tidu_changes_entry **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	tidu_changes_entry *v = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(tidu_store_db(s),
		"SELECT device, district, seq, hlc_min, hlc_max, count, state, "
		"received, hash, length(file) FROM changeset ORDER BY device, seq",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return tidu_store_sqlerr(s, rc, _("reading change sets"));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_changes_entry *e;

		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			v = tidu_reallocarray(v, cap, sizeof(*v));
		}
		e = &v[(*n)++];
		memset(e, 0, sizeof(*e));
		snprintf(e->device, sizeof(e->device), "%s", sqlite3_column_text(st, 0));
		snprintf(e->district, sizeof(e->district), "%s", sqlite3_column_text(st, 1));
		e->seq = (uint64_t)sqlite3_column_int64(st, 2);
		e->hlc_min = (uint64_t)sqlite3_column_int64(st, 3);
		e->hlc_max = (uint64_t)sqlite3_column_int64(st, 4);
		e->count = (uint32_t)sqlite3_column_int64(st, 5);
		snprintf(e->state, sizeof(e->state), "%s", sqlite3_column_text(st, 6));
		e->received = sqlite3_column_int64(st, 7);
		if (sqlite3_column_bytes(st, 8) >= 8)
			sodium_bin2hex(e->hash, sizeof(e->hash), sqlite3_column_blob(st, 8), 8);
		e->bytes = (size_t)sqlite3_column_int64(st, 9);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		*n = 0;
		return tidu_store_sqlerr(s, rc, _("reading change sets"));
	}
	*out = v;
	return 0;
}

/* ---- change sets as sync reads them ---- */

int tidu_changes_each_file(tidu_store *s, const char *device, uint64_t after,
			   int (*fn)(void *ctx, uint64_t seq, const unsigned char *file,
				     size_t len),
			   void *ctx)
{
	sqlite3_stmt *st = NULL;
	int rc, error = 0;

	rc = sqlite3_prepare_v2(tidu_store_db(s),
		"SELECT seq, file FROM changeset WHERE device=?1 AND seq>?2 ORDER BY seq",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return tidu_store_sqlerr(s, rc, _("reading change sets"));
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)after);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((error = fn(ctx, (uint64_t)sqlite3_column_int64(st, 0),
				sqlite3_column_blob(st, 1),
				(size_t)sqlite3_column_bytes(st, 1))) != 0)
			break;
	if (!error && rc != SQLITE_DONE)
		error = tidu_store_sqlerr(s, rc, _("reading change sets"));
	sqlite3_finalize(st);
	return error;
}

int tidu_changes_file(tidu_store *s, const char *device, uint64_t seq, int with_held,
		      tidu_buf *out)
{
	sqlite3_stmt *st = tidu_store_stmt(s, with_held ?
		"SELECT file FROM changeset WHERE device=?1 AND seq=?2" :
		"SELECT file FROM changeset WHERE device=?1 AND seq=?2 AND state<>'held'");
	int rc;

	tidu_buf_clear(out);
	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		tidu_buf_put(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : tidu_store_sqlerr(s, rc, _("reading change sets"));
}

int tidu_changes_has_sealed(tidu_store *s, const char *device)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT 1 FROM changeset WHERE device=?1 AND state='sealed' LIMIT 1");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("reading change sets"));
}

int tidu_changes_last(tidu_store *s, const char *device, uint64_t *seq,
		      int64_t *received)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT coalesce(max(seq), 0), coalesce(max(received), 0) FROM changeset "
		"WHERE device=?1 AND state<>'held'");
	int rc;

	*seq = 0;
	if (received)
		*received = 0;
	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = (uint64_t)sqlite3_column_int64(st, 0);
		if (received)
			*received = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : tidu_store_sqlerr(s, rc, _("reading change sets"));
}
