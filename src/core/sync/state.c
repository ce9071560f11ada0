/*
 * What sync remembers: the tables sync_ref, sync_refused and
 * enroll_pending, and the meta keys sync.*. Nothing else reads them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/clock.h"
#include "tidu/i18n.h"
#include "core/sync/sync_int.h"

#define META_KEYRING_SEEN "sync.keyring." /* + remote: the keyring blob imported */
#define META_KEYRING_STATE "sync.keyring_state"
/* sync.<kind>.<remote>: the city document (rules, forms) imported from a remote */
#define META_LAST_SYNC "sync.last"

/* ---- sync_ref: the tips read, for rewind detection ---------------------- */

int sync_state_seen_tip(tidu_store *s, const char *remote, const char *ref, git_oid *out)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT tip FROM sync_ref WHERE remote=?1 AND ref=?2");
	int rc, error = 1;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, remote, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		error = git_oid_fromstr(out, (const char *)sqlite3_column_text(st, 0)) < 0 ? 1 : 0;
	else if (rc != SQLITE_DONE)
		error = tidu_store_sqlerr(s, rc, _("reading sync state"));
	sqlite3_reset(st);
	return error;
}

int sync_state_set_seen_tip(tidu_store *s, const char *remote, const char *ref,
			    const git_oid *tip)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"INSERT INTO sync_ref(remote, ref, tip, seen) VALUES(?1, ?2, ?3, ?4) "
		"ON CONFLICT(remote, ref) DO UPDATE SET tip=excluded.tip, seen=excluded.seen");
	char hex[OID_HEX];

	if (!st)
		return TIDU_ERROR;
	sync_oid_hex(tip, hex);
	sqlite3_bind_text(st, 1, remote, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, tidu_clock_now_ms());
	return sync_exec1(s, st, _("writing sync state"));
}

void sync_state_each_tip(tidu_store *s, void (*fn)(void *ctx, const char *hex), void *ctx)
{
	sqlite3_stmt *st = NULL;

	/* For the repack, which keeps what it can: a failed read keeps nothing more. */
	if (sqlite3_prepare_v2(tidu_store_db(s), "SELECT tip FROM sync_ref", -1, &st,
			       NULL) == SQLITE_OK)
		while (sqlite3_step(st) == SQLITE_ROW)
			fn(ctx, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

int sync_state_refs(tidu_store *s, const char *remote, char ***out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(tidu_store_db(s),
		"SELECT ref FROM sync_ref WHERE remote=?1 ORDER BY ref", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return tidu_store_sqlerr(s, rc, _("reading sync state"));
	sqlite3_bind_text(st, 1, remote, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = tidu_reallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = tidu_strdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("reading sync state"));
}

int sync_state_forget_ref(tidu_store *s, const char *remote, const char *ref)
{
	sqlite3_stmt *del = tidu_store_stmt(s,
		"DELETE FROM sync_ref WHERE remote=?1 AND ref=?2");

	if (del) {
		sqlite3_bind_text(del, 1, remote, -1, SQLITE_STATIC);
		sqlite3_bind_text(del, 2, ref, -1, SQLITE_STATIC);
	}
	return sync_exec1(s, del, _("writing sync state"));
}

int sync_state_forget_remote(tidu_store *s, const char *name)
{
	static const char *const sql[] = {
		"DELETE FROM sync_ref WHERE remote=?1",
		"DELETE FROM meta WHERE key='" META_KEYRING_SEEN "' || ?1",
		"DELETE FROM meta WHERE key='sync.rules.' || ?1",
		"DELETE FROM meta WHERE key='sync.forms.' || ?1",
	};
	size_t i;
	int error = 0;

	for (i = 0; i < sizeof(sql) / sizeof(sql[0]) && !error; i++) {
		sqlite3_stmt *st = tidu_store_stmt(s, sql[i]);

		if (st)
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		error = sync_exec1(s, st, _("removing a remote"));
	}
	return error;
}

/* ---- sync_refused: what was refused, with which keyring ------------------ */

int sync_state_refused_before(tidu_store *s, const char *oid, int64_t keyring)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT 1 FROM sync_refused WHERE oid=?1 AND keyring=?2");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, oid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, keyring);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("reading sync state"));
}

int sync_state_remember_refused(tidu_store *s, const char *oid, const char *device,
				uint64_t seq, const char *outcome, const char *reason,
				int64_t keyring)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"INSERT OR REPLACE INTO sync_refused(oid, device, seq, outcome, reason, "
		"keyring, at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, oid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)seq);
	sqlite3_bind_text(st, 4, outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, keyring);
	sqlite3_bind_int64(st, 7, tidu_clock_now_ms());
	return sync_exec1(s, st, _("writing sync state"));
}

/* ---- meta keys sync.* ------------------------------------------------------ */

/* A meta value or NULL when absent. */
static int meta_get(tidu_store *s, const char *key, char **out)
{
	int error = tidu_store_meta_get(s, key, out);

	if (error == TIDU_ENOTFOUND) {
		tidu_error_clear();
		*out = NULL;
		return 0;
	}
	return error;
}

int sync_state_keyring_seen(tidu_store *s, const char *remote, char **hex)
{
	tidu_buf key = TIDU_BUF_INIT;
	int error;

	tidu_buf_printf(&key, "%s%s", META_KEYRING_SEEN, remote);
	error = meta_get(s, key.ptr, hex);
	tidu_buf_free(&key);
	return error;
}

int sync_state_set_keyring_seen(tidu_store *s, const char *remote, const char *hex)
{
	tidu_buf key = TIDU_BUF_INIT;
	int error;

	tidu_buf_printf(&key, "%s%s", META_KEYRING_SEEN, remote);
	error = tidu_store_meta_set(s, key.ptr, hex);
	tidu_buf_free(&key);
	return error;
}

int sync_state_doc_seen(tidu_store *s, const char *kind, const char *remote, char **hex)
{
	tidu_buf key = TIDU_BUF_INIT;
	int error;

	tidu_buf_printf(&key, "sync.%s.%s", kind, remote);
	error = meta_get(s, key.ptr, hex);
	tidu_buf_free(&key);
	return error;
}

int sync_state_set_doc_seen(tidu_store *s, const char *kind, const char *remote,
			    const char *hex)
{
	tidu_buf key = TIDU_BUF_INIT;
	int error;

	tidu_buf_printf(&key, "sync.%s.%s", kind, remote);
	error = tidu_store_meta_set(s, key.ptr, hex);
	tidu_buf_free(&key);
	return error;
}

int sync_state_keyring_state(tidu_store *s, char **state)
{
	return meta_get(s, META_KEYRING_STATE, state);
}

int sync_state_set_keyring_state(tidu_store *s, const char *state)
{
	return tidu_store_meta_set(s, META_KEYRING_STATE, state);
}

/* Remembers when this sync completed, for `tidu status`. */
int sync_state_note_last_sync(tidu_store *s, const char *remote)
{
	tidu_buf v = TIDU_BUF_INIT;
	int error;

	tidu_buf_printf(&v, "%lld %s", (long long)tidu_clock_now_ms(), remote);
	error = tidu_store_meta_set(s, META_LAST_SYNC, v.ptr);
	tidu_buf_free(&v);
	return error;
}

int tidu_sync_last(tidu_store *s, int64_t *ms, char remote[TIDU_REMOTE_NAME_MAX + 1])
{
	char *v = NULL, *end = NULL;
	long long t;
	int error;

	*ms = 0;
	remote[0] = '\0';
	if ((error = tidu_store_meta_get(s, META_LAST_SYNC, &v)) < 0) {
		if (error == TIDU_ENOTFOUND)
			tidu_error_set(TIDU_ENOTFOUND, "%s", _("this store never synced"));
		return error;
	}
	errno = 0;
	t = strtoll(v, &end, 10);
	if (errno || end == v || *end != ' ') {
		free(v);
		return tidu_error_set(TIDU_ECORRUPT, "%s", _("the time of the last sync is unreadable"));
	}
	*ms = (int64_t)t;
	snprintf(remote, TIDU_REMOTE_NAME_MAX + 1, "%s", end + 1);
	free(v);
	return 0;
}

/* The last time a sync saw device ref `ref` move (any remote); 0: never. */
static int ref_last_seen(tidu_store *s, const char *ref, int64_t *seen)
{
	sqlite3_stmt *st = tidu_store_stmt(s, "SELECT max(seen) FROM sync_ref WHERE ref=?1");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*seen = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : tidu_store_sqlerr(s, rc, _("reading sync state"));
}

int tidu_sync_devices_seen(tidu_store *s, tidu_sync_device_seen **out, size_t *n)
{
	tidu_trust_device *devs = NULL;
	tidu_sync_device_seen *v = NULL;
	size_t nd = 0, i;
	int error;

	*out = NULL;
	*n = 0;
	if ((error = tidu_trust_device_list(s, &devs, &nd)) < 0)
		return error;
	if (nd)
		v = tidu_calloc(nd, sizeof(*v));
	for (i = 0; i < nd; i++) {
		tidu_sync_device_seen *d = &v[*n];
		tidu_buf ref = TIDU_BUF_INIT;

		if (!strcmp(devs[i].device, tidu_store_device(s)) ||
		    !strcmp(devs[i].role, TIDU_TRUST_ROLE_DESK))
			continue; /* the city's desks are the city */
		d->dev = devs[i];
		if ((error = tidu_changes_last(s, devs[i].device, &d->last_seq,
					       &d->last_seen)) < 0)
			break;
		tidu_buf_printf(&ref, "refs/heads/%s/%s", devs[i].district, devs[i].device);
		error = ref_last_seen(s, ref.ptr, &d->last_seen);
		tidu_buf_free(&ref);
		if (error < 0)
			break;
		(*n)++;
	}
	free(devs);
	if (error < 0) {
		free(v);
		*n = 0;
		return error;
	}
	*out = v;
	return 0;
}

/* ---- enroll_pending: requests waiting for the city ----------------------- */

int sync_state_request_known(tidu_store *s, const char *oid)
{
	sqlite3_stmt *st = tidu_store_stmt(s, "SELECT 1 FROM enroll_pending WHERE oid=?1");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, oid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW;
}

int sync_state_request_keep(tidu_store *s, const char *device, const char *ref,
			    const char *oid, const void *doc, size_t len)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"INSERT OR REPLACE INTO enroll_pending(device, ref, oid, doc, received) "
		"VALUES(?1, ?2, ?3, ?4, ?5)");

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, oid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, doc, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, tidu_clock_now_ms());
	return sync_exec1(s, st, _("keeping an enrollment request"));
}

int sync_state_request_count(tidu_store *s, size_t *n)
{
	sqlite3_stmt *st = tidu_store_stmt(s, "SELECT count(*) FROM enroll_pending");
	int rc;

	if (!st)
		return TIDU_ERROR;
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : tidu_store_sqlerr(s, rc, _("reading sync state"));
}

int sync_state_requests(tidu_store *s, sync_state_request **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(tidu_store_db(s),
		"SELECT device, ref, doc, received FROM enroll_pending ORDER BY received, device",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return tidu_store_sqlerr(s, rc, _("reading sync state"));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sync_state_request *r;

		*out = tidu_reallocarray(*out, *n + 1, sizeof(**out));
		r = &(*out)[(*n)++];
		memset(r, 0, sizeof(*r));
		snprintf(r->device, sizeof(r->device), "%s", sqlite3_column_text(st, 0));
		snprintf(r->ref, sizeof(r->ref), "%s", sqlite3_column_text(st, 1));
		tidu_buf_put(&r->doc, sqlite3_column_blob(st, 2),
			     (size_t)sqlite3_column_bytes(st, 2));
		r->received = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	sync_state_requests_free(*out, *n);
	*out = NULL;
	*n = 0;
	return tidu_store_sqlerr(s, rc, _("reading sync state"));
}

void sync_state_requests_free(sync_state_request *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		tidu_buf_free(&v[i].doc);
	free(v);
}

int sync_state_request_doc(tidu_store *s, const char *device, tidu_buf *doc)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT doc FROM enroll_pending WHERE device=?1");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		tidu_buf_put(doc, sqlite3_column_blob(st, 0),
			     (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : tidu_store_sqlerr(s, rc, _("reading sync state"));
}

int sync_state_request_forget(tidu_store *s, const char *device)
{
	sqlite3_stmt *st = tidu_store_stmt(s, "DELETE FROM enroll_pending WHERE device=?1");

	if (st)
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	return sync_exec1(s, st, _("writing sync state"));
}
