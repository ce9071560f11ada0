/*
 * Trust, district read keys: the public keys a change set is sealed to and
 * the key pairs this store opens change sets with. The keys themselves
 * arrive with the keyring (keyring.c) or are made by the city (device.c).
 */
#include <stdlib.h>
#include <string.h>

#include "core/trust/trust_int.h"
#include "tidu/alloc.h"
#include "tidu/i18n.h"

int tidu_trust_current_epoch(tidu_store *s, const char *district, int64_t *epoch)
{
	int error;

	if ((error = trust_scalar(s, "SELECT coalesce(max(epoch), 0) FROM district_key "
				  "WHERE district=?1", district, epoch)) < 0)
		return error;
	if (*epoch == 0)
		return tidu_error_set(TIDU_ENOTFOUND,
			_("district '%s' has no read key in the keyring"), district);
	return 0;
}

int tidu_trust_recipients(tidu_store *s, const char *district,
			  unsigned char (*pks_out)[PK_LEN], size_t max,
			  size_t *n)
{
	unsigned char city_box[PK_LEN];
	sqlite3_stmt *st;
	int64_t version, epoch, me;
	int found, error, rc;

	*n = 0;
	if (max < 2)
		return tidu_error_set(TIDU_EINVAL, "%s",
			_("room for at least 2 recipients is needed"));
	if (!trust_is_root(s)) {
		if ((error = trust_scalar(s,
					  "SELECT coalesce(max(version), 0) FROM keyring",
					  NULL, &version)) < 0 ||
		    (error = trust_scalar(s,
					  "SELECT count(*) FROM device WHERE device=?1",
					  tidu_store_device(s), &me)) < 0)
			return error;
		if (version == 0)
			return tidu_error_set(TIDU_ENOTFOUND, "%s",
				_("this device is not enrolled: import the city's keyring first"));
		if (!me)
			return tidu_error_set(TIDU_ENOTFOUND,
				_("this device is not in the city's keyring (version %lld): ask the city to enroll it, then import the new keyring"),
				(long long)version);
	}
	if ((error = trust_secret_get(s, "city_box_pk", city_box, sizeof(city_box),
				      &found)) < 0)
		return error;
	if (!found)
		return tidu_error_set(TIDU_ENOTFOUND, "%s",
			_("this device is not enrolled: import the city's keyring first"));
	if ((error = tidu_trust_current_epoch(s, district, &epoch)) < 0 ||
	    (error = trust_prep(s,
				"SELECT pk FROM district_key WHERE district=?1 AND epoch=?2",
				&st)) < 0)
		return error;
	sqlite3_bind_text(st, 1, district, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, epoch);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		error = trust_column_bytes(st, 0, pks_out[0], PK_LEN,
					   "district_key.pk");
	else
		error = tidu_store_sqlerr(s, rc, _("reading keys"));
	trust_release(st);
	if (error < 0)
		return error;
	memcpy(pks_out[1], city_box, PK_LEN);
	*n = 2;
	return 0;
}

void tidu_trust_keypairs_free(tidu_trust_keypair *kps, size_t n)
{
	if (!kps)
		return;
	sodium_memzero(kps, n * sizeof(*kps));
	free(kps);
}

int tidu_trust_reader_keys(tidu_store *s, tidu_trust_keypair **out, size_t *n)
{
	tidu_trust_keypair *kps;
	sqlite3_stmt *st = NULL;
	int64_t count;
	size_t cap;
	own_keys k;
	int error, rc = SQLITE_DONE;

	*out = NULL;
	*n = 0;
	if ((error = trust_scalar(s,
				  "SELECT count(*) FROM district_key WHERE sk IS NOT NULL",
				  NULL, &count)) < 0 ||
	    (error = trust_prep(s, "SELECT district, epoch, pk, sk FROM district_key "
				"WHERE sk IS NOT NULL ORDER BY district, epoch", &st)) < 0)
		return error;
	/* Allocated once: a realloc would leave copies of secret keys behind. */
	cap = (size_t)count + 1;
	kps = tidu_calloc(cap, sizeof(*kps));
	while (*n < (size_t)count && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_trust_keypair *kp = &kps[*n];

		trust_copy_text(kp->district, sizeof(kp->district),
				sqlite3_column_text(st, 0));
		kp->epoch = sqlite3_column_int64(st, 1);
		error = trust_column_bytes(st, 2, kp->pk, PK_LEN, "district_key.pk");
		if (error == 0)
			error = trust_column_bytes(st, 3, kp->sk, PK_LEN,
						   "district_key.sk");
		if (error < 0)
			break;
		(*n)++;
	}
	if (!error && rc != SQLITE_ROW && rc != SQLITE_DONE)
		error = tidu_store_sqlerr(s, rc, _("reading keys"));
	trust_release(st);
	if (!error && trust_is_root(s)) {
		if ((error = trust_own_load(s, &k)) == 0) {
			tidu_trust_keypair *kp = &kps[(*n)++];

			memcpy(kp->pk, k.box_pk, PK_LEN);
			memcpy(kp->sk, k.box_sk, PK_LEN);
			trust_own_wipe(&k);
		}
	}
	if (error < 0) {
		tidu_trust_keypairs_free(kps, cap);
		*n = 0;
		return error;
	}
	*out = kps;
	return 0;
}
