/*
 * Trust, own keys and identity: this store's signing and box key pairs
 * (kept in table `secret`), who the store is, the city pin, and what the
 * city store makes for itself (its self-pin, its device, its desks and the
 * epoch-1 read key of every district).
 */
#include <stdio.h>
#include <string.h>

#include "core/trust/trust_int.h"
#include "tidu/dict.h"
#include "tidu/i18n.h"

void trust_own_wipe(own_keys *k)
{
	sodium_memzero(k, sizeof(*k));
}

int trust_is_root(tidu_store *s)
{
	return strcmp(tidu_store_role(s), "city") == 0;
}

int trust_require_city(tidu_store *s, const char *what)
{
	if (trust_is_root(s))
		return 0;
	return tidu_error_set(TIDU_EINVAL,
		_("only the city store can %s: this store's role is '%s'"),
		what, tidu_store_role(s));
}

int trust_own_load(tidu_store *s, own_keys *k)
{
	static const char *const names[] = {"sign_sk", "sign_pk", "box_sk", "box_pk"};
	unsigned char *dst[4];
	size_t lens[4] = {TIDU_TRUST_SIGN_SK_LEN, PK_LEN,
			  PK_LEN, PK_LEN};
	int i, found, error;

	dst[0] = k->sign_sk;
	dst[1] = k->sign_pk;
	dst[2] = k->box_sk;
	dst[3] = k->box_pk;
	for (i = 0; i < 4; i++) {
		if ((error = trust_secret_get(s, names[i], dst[i], lens[i], &found)) < 0)
			goto fail;
		if (!found) {
			error = tidu_error_set(TIDU_ENOTFOUND,
				_("store '%s' has no device keys yet"), tidu_store_path(s));
			goto fail;
		}
	}
	return 0;
fail:
	trust_own_wipe(k);
	return error;
}

void tidu_trust_desk_id(const char *city_device, const char *district,
			char out[TIDU_DEVICE_ID_LEN + 1])
{
	static const char domain[] = "tidu-city-desk-v1";
	unsigned char h[TIDU_DEVICE_ID_LEN / 2];
	crypto_generichash_state st;

	crypto_generichash_init(&st, (const unsigned char *)domain, sizeof(domain) - 1,
				sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)city_device,
				  strlen(city_device));
	crypto_generichash_update(&st, (const unsigned char *)"/", 1);
	crypto_generichash_update(&st, (const unsigned char *)district, strlen(district));
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, TIDU_DEVICE_ID_LEN + 1, h, sizeof(h));
}

/* The keys of the city itself as a device entry. */
static void own_device(tidu_store *s, const own_keys *k, tidu_trust_device *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->device, sizeof(d->device), "%s", tidu_store_device(s));
	snprintf(d->district, sizeof(d->district), "%s", tidu_store_district(s));
	snprintf(d->role, sizeof(d->role), "%s", tidu_store_role(s));
	snprintf(d->officer, sizeof(d->officer), "%s", tidu_store_officer(s));
	memcpy(d->sign_pk, k->sign_pk, PK_LEN);
	memcpy(d->box_pk, k->box_pk, PK_LEN);
}

/*
 * Ensuring keys is done in passes: with `create` 0 a pass only looks and sets
 * *missing at the first thing missing; with `create` 1 it makes everything
 * missing (inside a write transaction, so that it is checked again under the
 * lock).
 */
#define MISSING(create, missing) do { \
		*(missing) = 1; \
		if (!(create)) \
			goto done; \
	} while (0)

/* What the city store adds to its own keys: self-pin, own device, district keys. */
static int city_ensure(tidu_store *s, int create, int *missing)
{
	own_keys k;
	char fp[TIDU_TRUST_FP_SIZE];
	unsigned char pin[PK_LEN];
	tidu_trust_device d;
	const char *code;
	int64_t n;
	size_t i;
	int found, error;

	if ((error = trust_own_load(s, &k)) < 0)
		return error;
	if ((error = trust_secret_get(s, "city_pin", pin, sizeof(pin), &found)) < 0)
		goto done;
	if (!found) {
		MISSING(create, missing);
		tidu_trust_fingerprint(k.sign_pk, k.box_pk, fp);
		if ((error = trust_secret_put(s, "city_pin", k.sign_pk, PK_LEN)) < 0 ||
		    (error = trust_secret_put(s, "city_box_pk", k.box_pk, PK_LEN)) < 0 ||
		    (error = trust_secret_put(s, "city_fp", fp, TIDU_TRUST_FP_LEN)) < 0)
			goto done;
	} else if (sodium_memcmp(pin, k.sign_pk, sizeof(pin)) != 0) {
		error = tidu_error_set(TIDU_ECORRUPT, "%s",
			_("this city store is pinned to another city key"));
		goto done;
	}
	if ((error = trust_scalar(s, "SELECT count(*) FROM device WHERE device=?1",
				  tidu_store_device(s), &n)) < 0)
		goto done;
	if (!n) {
		MISSING(create, missing);
		own_device(s, &k, &d);
		if ((error = trust_insert_device(s, &d)) < 0)
			goto done;
	}
	for (i = 0; (code = tidu_dict_district_nth(i)); i++) {
		if ((error = trust_scalar(s, "SELECT count(*) FROM district_key "
					  "WHERE district=?1", code, &n)) < 0)
			goto done;
		if (!n) {
			MISSING(create, missing);
			if ((error = trust_new_district_key(s, code, 1)) < 0)
				goto done;
		}
		if (tidu_dict_is_city(code))
			continue;
		/* The city's desk for the district: how the city writes to it. */
		own_device(s, &k, &d);
		tidu_trust_desk_id(tidu_store_device(s), code, d.device);
		snprintf(d.district, sizeof(d.district), "%s", code);
		snprintf(d.role, sizeof(d.role), "%s", TIDU_TRUST_ROLE_DESK);
		if ((error = trust_scalar(s,
					  "SELECT count(*) FROM device WHERE device=?1",
					  d.device, &n)) < 0)
			goto done;
		if (n)
			continue;
		MISSING(create, missing);
		if ((error = trust_insert_device(s, &d)) < 0)
			goto done;
	}
done:
	trust_own_wipe(&k);
	return error;
}

static int ensure_pass(tidu_store *s, int create, int *missing)
{
	unsigned char sign_pk[PK_LEN], sign_sk[TIDU_TRUST_SIGN_SK_LEN];
	unsigned char box_pk[PK_LEN], box_sk[PK_LEN];
	int64_t nkeys;
	int error;

	if ((error = trust_scalar(s, "SELECT count(*) FROM secret WHERE name IN "
				  "('sign_sk','sign_pk','box_sk','box_pk')", NULL, &nkeys)) < 0)
		return error;
	if (nkeys != 0 && nkeys != 4)
		return tidu_error_set(TIDU_ECORRUPT,
			_("store '%s' has only some of its device keys"), tidu_store_path(s));
	if (nkeys == 0) {
		*missing = 1;
		if (!create)
			return 0;
		crypto_sign_keypair(sign_pk, sign_sk);
		crypto_box_keypair(box_pk, box_sk);
		if ((error = trust_secret_put(s, "sign_sk", sign_sk,
					      sizeof(sign_sk))) == 0 &&
		    (error = trust_secret_put(s, "sign_pk", sign_pk,
					      sizeof(sign_pk))) == 0 &&
		    (error = trust_secret_put(s, "box_sk", box_sk, sizeof(box_sk))) == 0)
			error = trust_secret_put(s, "box_pk", box_pk, sizeof(box_pk));
		sodium_memzero(sign_sk, sizeof(sign_sk));
		sodium_memzero(box_sk, sizeof(box_sk));
		if (error < 0)
			return error;
	}
	return trust_is_root(s) ? city_ensure(s, create, missing) : 0;
}

int tidu_trust_ensure_keys(tidu_store *s)
{
	int missing = 0, own, error;

	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialise libsodium"));
	/* A read-only look first: opening a store should not write. */
	if ((error = ensure_pass(s, 0, &missing)) < 0 || !missing)
		return error;
	if ((error = trust_tx_begin(s, &own)) < 0)
		return error;
	error = ensure_pass(s, 1, &missing);
	return trust_tx_end(s, own, error);
}

int trust_pinned_city(tidu_store *s, char fp[TIDU_TRUST_FP_SIZE],
		      unsigned char pin[PK_LEN],
		      unsigned char box[PK_LEN], int *pinned_key)
{
	int found_pin, found_box, found_fp, error;

	fp[0] = '\0';
	*pinned_key = 0;
	if ((error = trust_secret_get(s, "city_pin", pin, PK_LEN, &found_pin)) < 0 ||
	    (error = trust_secret_get(s, "city_box_pk", box, PK_LEN, &found_box)) < 0 ||
	    (error = trust_secret_get(s, "city_fp", (unsigned char *)fp,
				      TIDU_TRUST_FP_LEN, &found_fp)) < 0)
		return error;
	fp[found_fp ? TIDU_TRUST_FP_LEN : 0] = '\0';
	if (found_pin && found_box) {
		tidu_trust_fingerprint(pin, box, fp);
		*pinned_key = 1;
	} else if (found_pin) {
		return tidu_error_set(TIDU_ECORRUPT, "%s",
			_("the pinned city key is incomplete"));
	}
	return 0;
}

int tidu_trust_identity(tidu_store *s, tidu_trust_id *out)
{
	unsigned char pin[PK_LEN], box[PK_LEN];
	own_keys k;
	tidu_trust_device d;
	int pinned, error;

	memset(out, 0, sizeof(*out));
	if ((error = trust_own_load(s, &k)) < 0)
		return error;
	snprintf(out->device, sizeof(out->device), "%s", tidu_store_device(s));
	snprintf(out->district, sizeof(out->district), "%s", tidu_store_district(s));
	snprintf(out->role, sizeof(out->role), "%s", tidu_store_role(s));
	tidu_trust_fingerprint(k.sign_pk, k.box_pk, out->fingerprint);
	trust_own_wipe(&k);
	if ((error = trust_pinned_city(s, out->city_fingerprint, pin, box, &pinned)) < 0)
		return error;
	out->city_pinned = out->city_fingerprint[0] != '\0';
	if ((error = trust_scalar(s, "SELECT coalesce(max(version), 0) FROM keyring",
				  NULL, &out->keyring_version)) < 0)
		return error;
	error = tidu_trust_device_lookup(s, out->device, &d);
	if (error == TIDU_ENOTFOUND) {
		tidu_error_clear();
		return 0;
	}
	if (error < 0)
		return error;
	out->enrolled = 1;
	out->revoked = d.revoked;
	return 0;
}

int tidu_trust_pin_city(tidu_store *s, const char *fingerprint)
{
	char want[TIDU_TRUST_FP_SIZE], have[TIDU_TRUST_FP_SIZE];
	unsigned char pin[PK_LEN], box[PK_LEN];
	int pinned, own, error;

	if ((error = tidu_trust_fingerprint_parse(fingerprint, want)) < 0)
		return error;
	if ((error = trust_tx_begin(s, &own)) < 0)
		return error;
	if ((error = trust_pinned_city(s, have, pin, box, &pinned)) < 0)
		goto done;
	if (have[0]) {
		if (strcmp(have, want) != 0)
			error = tidu_error_set(TIDU_EEXISTS,
				_("another city key is pinned already: %s"), have);
		goto done;
	}
	error = trust_secret_put(s, "city_fp", want, TIDU_TRUST_FP_LEN);
done:
	return trust_tx_end(s, own, error);
}

int tidu_trust_sign_sk(tidu_store *s, unsigned char sk[TIDU_TRUST_SIGN_SK_LEN])
{
	int found, error;

	if ((error = trust_secret_get(s, "sign_sk", sk, TIDU_TRUST_SIGN_SK_LEN,
				      &found)) < 0)
		return error;
	if (!found)
		return tidu_error_set(TIDU_ENOTFOUND,
			_("store '%s' has no device keys yet"), tidu_store_path(s));
	return 0;
}
