/*
 * Trust, SQL: how the trust code reads and writes its tables (`secret`,
 * `device`, `district_key`, `keyring`; schema/002_sync.sql), its
 * transactions, and this store's secrets.
 *
 * trust_tx_begin/trust_tx_end do what tidu_store_begin/commit/rollback do,
 * plus a savepoint when the caller has a transaction open, so that a
 * trust function that fails inside it leaves the caller's writes alone.
 */
#include <string.h>

#include "core/trust/trust_int.h"
#include "tidu/i18n.h"

int trust_prep(tidu_store *s, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(tidu_store_db(s), sql, -1, st, NULL);

	return rc == SQLITE_OK ? 0 : tidu_store_sqlerr(s, rc, _("reading keys"));
}

void trust_release(sqlite3_stmt *st)
{
	sqlite3_finalize(st);
}

int trust_run(tidu_store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	trust_release(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("writing keys"));
}

int trust_exec(tidu_store *s, const char *sql)
{
	int rc = sqlite3_exec(tidu_store_db(s), sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : tidu_store_sqlerr(s, rc, _("writing keys"));
}

int trust_scalar(tidu_store *s, const char *sql, const char *param, int64_t *out)
{
	sqlite3_stmt *st;
	int error, rc;

	if ((error = trust_prep(s, sql, &st)) < 0)
		return error;
	if (param)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	trust_release(st);
	return rc == SQLITE_ROW ? 0 : tidu_store_sqlerr(s, rc, _("reading keys"));
}

int trust_tx_begin(tidu_store *s, int *own)
{
	int error;

	*own = 0;
	if (!sqlite3_get_autocommit(tidu_store_db(s)))
		return trust_exec(s, "SAVEPOINT tidu_trust");
	if ((error = tidu_store_begin(s)) < 0)
		return error;
	*own = 1;
	return 0;
}

int trust_tx_end(tidu_store *s, int own, int error)
{
	if (!own) {
		if (error < 0) {
			sqlite3_exec(tidu_store_db(s), "ROLLBACK TO tidu_trust; "
				     "RELEASE tidu_trust", NULL, NULL, NULL);
			return error;
		}
		return trust_exec(s, "RELEASE tidu_trust");
	}
	if (error < 0 || (error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		return error;
	}
	return 0;
}

int trust_column_bytes(sqlite3_stmt *st, int col, unsigned char *out, size_t len,
		       const char *what)
{
	const void *p = sqlite3_column_blob(st, col);

	if (!p || (size_t)sqlite3_column_bytes(st, col) != len)
		return tidu_error_set(TIDU_ECORRUPT,
			_("the store's key '%s' is damaged"), what);
	memcpy(out, p, len);
	return 0;
}

int trust_secret_get(tidu_store *s, const char *name, unsigned char *out,
		     size_t len, int *found)
{
	sqlite3_stmt *st;
	int error, rc;

	*found = 0;
	if ((error = trust_prep(s, "SELECT value FROM secret WHERE name=?1", &st)) < 0)
		return error;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		error = trust_column_bytes(st, 0, out, len, name);
		*found = error == 0;
	} else if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(s, rc, _("reading keys"));
	}
	trust_release(st);
	return error;
}

int trust_secret_put(tidu_store *s, const char *name, const void *value, size_t len)
{
	sqlite3_stmt *st;
	int error;

	if ((error = trust_prep(s, "INSERT INTO secret(name, value) VALUES(?1, ?2) "
				"ON CONFLICT(name) DO UPDATE SET value=excluded.value", &st)) < 0)
		return error;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, value, (int)len, SQLITE_STATIC);
	return trust_run(s, st);
}
