/*
 * Trust, the device table: the devices of the current keyring as rows
 * (written on enrollment and keyring import, read by the lookups), and the
 * new district read keys the city makes (first epoch, rotation).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/trust/trust_int.h"
#include "tidu/alloc.h"
#include "tidu/i18n.h"

int trust_new_district_key(tidu_store *s, const char *district, int64_t epoch)
{
	unsigned char pk[PK_LEN], sk[PK_LEN];
	sqlite3_stmt *st;
	int error;

	crypto_box_keypair(pk, sk);
	if ((error = trust_prep(s, "INSERT INTO district_key(district, epoch, pk, sk) "
				"VALUES(?1, ?2, ?3, ?4)", &st)) == 0) {
		sqlite3_bind_text(st, 1, district, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, epoch);
		sqlite3_bind_blob(st, 3, pk, sizeof(pk), SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, sk, sizeof(sk), SQLITE_STATIC);
		error = trust_run(s, st);
	}
	sodium_memzero(sk, sizeof(sk));
	return error;
}

int trust_district_key_ensure(tidu_store *s, const char *district)
{
	int64_t n;
	int error;

	if ((error = trust_scalar(s,
				  "SELECT count(*) FROM district_key WHERE district=?1",
				  district, &n)) < 0)
		return error;
	return n ? 0 : trust_new_district_key(s, district, 1);
}

int trust_insert_device(tidu_store *s, const tidu_trust_device *d)
{
	sqlite3_stmt *st;
	int error;

	if ((error = trust_prep(s, "INSERT INTO device(device, district, role, officer, "
				"sign_pk, box_pk, revoked_after) VALUES(?1,?2,?3,?4,?5,?6,?7)",
				&st)) < 0)
		return error;
	sqlite3_bind_text(st, 1, d->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->district, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, d->role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, d->officer, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, d->sign_pk, PK_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, d->box_pk, PK_LEN, SQLITE_STATIC);
	if (d->revoked)
		sqlite3_bind_int64(st, 7, d->revoked_after);
	else
		sqlite3_bind_null(st, 7);
	return trust_run(s, st);
}

void trust_copy_text(char *out, size_t size, const unsigned char *t)
{
	snprintf(out, size, "%s", t ? (const char *)t : "");
}

/* Reads a row (device, district, role, officer, sign_pk, box_pk, revoked_after). */
static int read_device_row(sqlite3_stmt *st, tidu_trust_device *d)
{
	int error;

	memset(d, 0, sizeof(*d));
	trust_copy_text(d->device, sizeof(d->device), sqlite3_column_text(st, 0));
	trust_copy_text(d->district, sizeof(d->district), sqlite3_column_text(st, 1));
	trust_copy_text(d->role, sizeof(d->role), sqlite3_column_text(st, 2));
	trust_copy_text(d->officer, sizeof(d->officer), sqlite3_column_text(st, 3));
	if ((error = trust_column_bytes(st, 4, d->sign_pk, PK_LEN,
					"device.sign_pk")) < 0 ||
	    (error = trust_column_bytes(st, 5, d->box_pk, PK_LEN, "device.box_pk")) < 0)
		return error;
	d->revoked = sqlite3_column_type(st, 6) != SQLITE_NULL;
	d->revoked_after = d->revoked ? sqlite3_column_int64(st, 6) : 0;
	tidu_trust_fingerprint(d->sign_pk, d->box_pk, d->fingerprint);
	return 0;
}

#define DEVICE_COLUMNS "device, district, role, officer, sign_pk, box_pk, revoked_after"

int tidu_trust_device_lookup(tidu_store *s, const char *device, tidu_trust_device *out)
{
	sqlite3_stmt *st;
	int error, rc;

	if ((error = trust_prep(s,
				"SELECT " DEVICE_COLUMNS " FROM device WHERE device=?1",
				&st)) < 0)
		return error;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		error = read_device_row(st, out);
	else if (rc == SQLITE_DONE)
		error = tidu_error_set(TIDU_ENOTFOUND,
			_("device '%s' is not in the keyring"), device);
	else
		error = tidu_store_sqlerr(s, rc, _("reading keys"));
	trust_release(st);
	return error;
}

int tidu_trust_device_list(tidu_store *s, tidu_trust_device **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int64_t count;
	int error, rc = SQLITE_DONE;

	*out = NULL;
	*n = 0;
	if ((error = trust_scalar(s, "SELECT count(*) FROM device", NULL, &count)) < 0 ||
	    (error = trust_prep(s,
				"SELECT " DEVICE_COLUMNS " FROM device ORDER BY device",
				&st)) < 0)
		return error;
	*out = tidu_calloc((size_t)count + 1, sizeof(**out));
	while (*n < (size_t)count && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((error = read_device_row(st, &(*out)[(*n)++])) < 0)
			break;
	if (!error && rc != SQLITE_ROW && rc != SQLITE_DONE)
		error = tidu_store_sqlerr(s, rc, _("reading keys"));
	trust_release(st);
	if (error < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return error;
}
