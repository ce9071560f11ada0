/*
 * Trust, the keyring: the city's signed document of every device, every
 * district read public key by epoch, and the read secret keys sealed to the
 * devices that may hold them. The city exports it (a new version each
 * time); every store imports it, checked against the pinned city key, into
 * `keyring`, `device` and `district_key`.
 */
#include <stdlib.h>
#include <string.h>

#include "core/trust/trust_int.h"
#include "tidu/alloc.h"
#include "tidu/dict.h"
#include "tidu/i18n.h"

static const char keyring_domain[] = "tidu-keyring-v1";
static const char keyring_format[] = "tidu-keyring";

/* ---- export (city store) ------------------------------------------------ */

/* One entry of "devices" (revoked_after null while not revoked). */
static void put_device(tidu_json_writer *w, const tidu_trust_device *d)
{
	tidu_json_begin_object(w);
	tidu_json_write_key(w, "device");
	tidu_json_write_string(w, d->device);
	tidu_json_write_key(w, "district");
	tidu_json_write_string(w, d->district);
	tidu_json_write_key(w, "role");
	tidu_json_write_string(w, d->role);
	tidu_json_write_key(w, "officer");
	tidu_json_write_string(w, d->officer);
	tidu_json_write_key(w, "sign_pk");
	trust_put_b64(w, d->sign_pk, PK_LEN);
	tidu_json_write_key(w, "box_pk");
	trust_put_b64(w, d->box_pk, PK_LEN);
	tidu_json_write_key(w, "revoked_after");
	if (d->revoked)
		tidu_json_write_int64(w, d->revoked_after);
	else
		tidu_json_write_null(w);
	tidu_json_end_object(w);
}

/* Writes the "grants" array: every epoch of its district to every live device. */
static int put_grants(tidu_store *city, tidu_json_writer *w,
		      const tidu_trust_device *devs, size_t ndevs)
{
	sqlite3_stmt *st = NULL;
	unsigned char sk[PK_LEN], sealed[SEALED_LEN];
	size_t i;
	int error = 0, rc;

	if ((error = trust_prep(city,
				"SELECT epoch, sk FROM district_key WHERE district=?1 "
				"AND sk IS NOT NULL ORDER BY epoch", &st)) < 0)
		return error;
	tidu_json_begin_array(w);
	for (i = 0; i < ndevs && !error; i++) {
		const tidu_trust_device *d = &devs[i];

		if (d->revoked || !strcmp(d->device, tidu_store_device(city)) ||
		    !strcmp(d->role, TIDU_TRUST_ROLE_DESK))
			continue; /* the city holds every key itself */
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, d->district, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t epoch = sqlite3_column_int64(st, 0);

			error = trust_column_bytes(st, 1, sk, sizeof(sk),
						   "district_key.sk");
			if (error < 0)
				break;
			if (crypto_box_seal(sealed, sk, sizeof(sk), d->box_pk) != 0) {
				error = tidu_error_set(TIDU_ECORRUPT,
					_("device '%s' has an unusable box key"), d->device);
				break;
			}
			tidu_json_begin_object(w);
			tidu_json_write_key(w, "device");
			tidu_json_write_string(w, d->device);
			tidu_json_write_key(w, "district");
			tidu_json_write_string(w, d->district);
			tidu_json_write_key(w, "epoch");
			tidu_json_write_int64(w, epoch);
			tidu_json_write_key(w, "sealed");
			trust_put_b64(w, sealed, sizeof(sealed));
			tidu_json_end_object(w);
		}
		if (!error && rc != SQLITE_DONE)
			error = tidu_store_sqlerr(city, rc, _("reading keys"));
	}
	tidu_json_end_array(w);
	sodium_memzero(sk, sizeof(sk));
	trust_release(st);
	return error;
}

/* Writes the "city" object: the signer's device and public keys. */
static void put_city(tidu_store *city, tidu_json_writer *w, const own_keys *k)
{
	tidu_json_begin_object(w);
	tidu_json_write_key(w, "device");
	tidu_json_write_string(w, tidu_store_device(city));
	tidu_json_write_key(w, "sign_pk");
	trust_put_b64(w, k->sign_pk, PK_LEN);
	tidu_json_write_key(w, "box_pk");
	trust_put_b64(w, k->box_pk, PK_LEN);
	tidu_json_end_object(w);
}

/* Writes the "districts" array: every read public key, by district and epoch. */
static int put_districts(tidu_store *city, tidu_json_writer *w)
{
	sqlite3_stmt *st;
	int error, rc;

	tidu_json_begin_array(w);
	if ((error = trust_prep(city, "SELECT district, epoch, pk FROM district_key "
				"ORDER BY district, epoch", &st)) < 0)
		return error;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		unsigned char pk[PK_LEN];

		if ((error = trust_column_bytes(st, 2, pk, sizeof(pk),
						"district_key.pk")) < 0)
			goto done;
		tidu_json_begin_object(w);
		tidu_json_write_key(w, "district");
		tidu_json_write_string(w, (const char *)sqlite3_column_text(st, 0));
		tidu_json_write_key(w, "epoch");
		tidu_json_write_int64(w, sqlite3_column_int64(st, 1));
		tidu_json_write_key(w, "pk");
		trust_put_b64(w, pk, sizeof(pk));
		tidu_json_end_object(w);
	}
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(city, rc, _("reading keys"));
		goto done;
	}
	tidu_json_end_array(w);
done:
	trust_release(st);
	return error;
}

/* Writes the compact payload of keyring `version` to `payload`. */
static int put_payload(tidu_store *city, const own_keys *k, int64_t version,
		       const tidu_trust_device *devs, size_t ndevs, tidu_buf *payload)
{
	tidu_json_writer w;
	char created[32];
	size_t i;
	int error;

	trust_now_text(created);
	tidu_json_writer_init(&w, payload, TIDU_JSON_MINIMAL_ESCAPES);
	tidu_json_begin_object(&w);
	tidu_json_write_key(&w, "format");
	tidu_json_write_string(&w, keyring_format);
	tidu_json_write_key(&w, "format_version");
	tidu_json_write_int64(&w, FORMAT_VERSION);
	tidu_json_write_key(&w, "version");
	tidu_json_write_int64(&w, version);
	tidu_json_write_key(&w, "created");
	tidu_json_write_string(&w, created);
	tidu_json_write_key(&w, "city");
	put_city(city, &w, k);
	tidu_json_write_key(&w, "districts");
	if ((error = put_districts(city, &w)) < 0)
		return error;
	tidu_json_write_key(&w, "devices");
	tidu_json_begin_array(&w);
	for (i = 0; i < ndevs; i++)
		put_device(&w, &devs[i]);
	tidu_json_end_array(&w);
	tidu_json_write_key(&w, "grants");
	if ((error = put_grants(city, &w, devs, ndevs)) < 0)
		return error;
	tidu_json_end_object(&w);
	return tidu_json_writer_finish(&w);
}

/* Keeps document `doc` as keyring `version` (made here or imported). */
static int keyring_insert(tidu_store *s, int64_t version, const char *doc, size_t len)
{
	sqlite3_stmt *st;
	int error;

	if ((error = trust_prep(s, "INSERT INTO keyring(version, doc) VALUES(?1, ?2)",
				&st)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, version);
	sqlite3_bind_blob(st, 2, doc, (int)len, SQLITE_STATIC);
	return trust_run(s, st);
}

int tidu_trust_keyring_export(tidu_store *city, tidu_buf *out)
{
	tidu_buf payload = TIDU_BUF_INIT, doc = TIDU_BUF_INIT;
	tidu_trust_device *devs = NULL;
	size_t ndevs = 0;
	int64_t version;
	own_keys k;
	int own = 0, error;

	if ((error = trust_require_city(city, _("export the keyring"))) < 0)
		return error;
	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialise libsodium"));
	if ((error = trust_own_load(city, &k)) < 0)
		return error;
	if ((error = trust_tx_begin(city, &own)) < 0)
		goto wipe;
	if ((error = trust_scalar(city,
				  "SELECT coalesce(max(version), 0) + 1 FROM keyring",
				  NULL, &version)) < 0 ||
	    (error = tidu_trust_device_list(city, &devs, &ndevs)) < 0 ||
	    (error = put_payload(city, &k, version, devs, ndevs, &payload)) < 0 ||
	    (error = trust_doc_wrap(keyring_domain, &payload, k.sign_sk, &doc)) < 0)
		goto done;
	error = keyring_insert(city, version, doc.ptr, doc.len);
done:
	error = trust_tx_end(city, own, error);
	if (error == 0)
		tidu_buf_put(out, doc.ptr, doc.len);
wipe:
	trust_own_wipe(&k);
	free(devs);
	tidu_buf_free(&payload);
	tidu_buf_free(&doc);
	return error;
}

/* ---- import (any store) ------------------------------------------------- */

/* A parsed keyring. Strings are copied; nothing borrowed from the tree. */
typedef struct {
	char district[TIDU_TRUST_DISTRICT_SIZE];
	int64_t epoch;
	unsigned char pk[PK_LEN];
} kr_key;

typedef struct {
	char device[TIDU_DEVICE_ID_LEN + 1];
	char district[TIDU_TRUST_DISTRICT_SIZE];
	int64_t epoch;
	unsigned char sealed[SEALED_LEN];
} kr_grant;

typedef struct {
	signed_doc doc;
	int64_t version;
	unsigned char city_sign_pk[PK_LEN];
	unsigned char city_box_pk[PK_LEN];
	char city_device[TIDU_DEVICE_ID_LEN + 1];
	kr_key *keys;
	size_t nkeys;
	tidu_trust_device *devices;
	size_t ndevices;
	kr_grant *grants;
	size_t ngrants;
} keyring;

static void keyring_free(keyring *k)
{
	trust_signed_doc_free(&k->doc);
	free(k->keys);
	free(k->devices);
	free(k->grants);
	memset(k, 0, sizeof(*k));
}

/* Opens the envelope and reads version and city keys (nothing verified). */
static int keyring_open(const char *text, size_t len, keyring *k)
{
	const char *what = _("keyring");
	const tidu_json *city;
	int error;

	memset(k, 0, sizeof(*k));
	if ((error = trust_doc_open(what, keyring_format, text, len, &k->doc)) < 0)
		return error;
	city = tidu_json_get(k->doc.payload, "city");
	if ((error = trust_get_int(k->doc.payload, "version", what, &k->version)) < 0 ||
	    (error = trust_get_bytes(city, "sign_pk", what, k->city_sign_pk,
				     PK_LEN)) < 0 ||
	    (error = trust_get_bytes(city, "box_pk", what, k->city_box_pk, PK_LEN)) < 0 ||
	    (error = trust_get_text(city, "device", what, k->city_device,
				    sizeof(k->city_device))) < 0)
		goto fail;
	if (k->version < 1) {
		error = trust_malformed(what, _("the version must be 1 or more"));
		goto fail;
	}
	return 0;
fail:
	keyring_free(k);
	return error;
}

static const tidu_json *get_array(const tidu_json *o, const char *key,
				  const char *what, int *error)
{
	const tidu_json *a = tidu_json_get(o, key);

	*error = 0;
	if (tidu_json_typeof(a) != TIDU_JSON_ARRAY)
		*error = tidu_error_set(TIDU_EINVAL,
			_("invalid %s: field '%s' is missing or not an array"), what, key);
	return a;
}

static const kr_key *find_key(const keyring *k, const char *district, int64_t epoch)
{
	size_t i;

	for (i = 0; i < k->nkeys; i++)
		if (k->keys[i].epoch == epoch && !strcmp(k->keys[i].district, district))
			return &k->keys[i];
	return NULL;
}

static const tidu_trust_device *find_device(const keyring *k, const char *device)
{
	size_t i;

	for (i = 0; i < k->ndevices; i++)
		if (!strcmp(k->devices[i].device, device))
			return &k->devices[i];
	return NULL;
}

/* Reads and checks the "districts" array: the read public keys. */
static int body_keys(keyring *k, const char *what)
{
	const tidu_json *a, *e;
	size_t i, n;
	int error;

	if (!(a = get_array(k->doc.payload, "districts", what, &error)) || error)
		return error;
	n = tidu_json_count(a);
	k->keys = tidu_calloc(n + 1, sizeof(*k->keys));
	for (i = 0; i < n; i++) {
		kr_key *key = &k->keys[i];

		e = tidu_json_at(a, i);
		if ((error = trust_get_text(e, "district", what, key->district,
					    sizeof(key->district))) < 0 ||
		    (error = trust_get_int(e, "epoch", what, &key->epoch)) < 0 ||
		    (error = trust_get_bytes(e, "pk", what, key->pk, PK_LEN)) < 0)
			return error;
		if (!tidu_dict_district_name(key->district) || key->epoch < 1 ||
		    find_key(k, key->district, key->epoch))
			return tidu_error_set(TIDU_EINVAL,
				_("invalid keyring: bad or repeated read key of district '%s', epoch %lld"),
				key->district, (long long)key->epoch);
		k->nkeys++;
	}
	return 0;
}

/* Reads and checks one entry `e` of "devices" into `d`. */
static int body_device(const keyring *k, const tidu_json *e, const char *what,
		       tidu_trust_device *d)
{
	const tidu_json *ra;
	int error;

	if ((error = trust_get_text(e, "device", what, d->device,
				    sizeof(d->device))) < 0 ||
	    (error = trust_get_text(e, "district", what, d->district,
				    sizeof(d->district))) < 0 ||
	    (error = trust_get_text(e, "role", what, d->role, sizeof(d->role))) < 0 ||
	    (error = trust_get_text(e, "officer", what, d->officer,
				    sizeof(d->officer))) < 0 ||
	    (error = trust_get_bytes(e, "sign_pk", what, d->sign_pk, PK_LEN)) < 0 ||
	    (error = trust_get_bytes(e, "box_pk", what, d->box_pk, PK_LEN)) < 0 ||
	    (error = trust_check_identity(what, d->device, d->district, d->role,
					  d->officer)) < 0)
		return error;
	ra = tidu_json_get(e, "revoked_after");
	if (tidu_json_typeof(ra) != TIDU_JSON_NULL) {
		error = trust_get_int(e, "revoked_after", what, &d->revoked_after);
		if (error < 0)
			return error;
		d->revoked = 1;
	} else if (!ra) {
		return trust_get_int(e, "revoked_after", what, &d->revoked_after);
	}
	if (d->revoked_after < 0 || find_device(k, d->device))
		return tidu_error_set(TIDU_EINVAL,
			_("invalid keyring: bad or repeated entry of device '%s'"), d->device);
	if (!strcmp(d->role, TIDU_TRUST_ROLE_DESK)) {
		char want[TIDU_DEVICE_ID_LEN + 1];

		/* A desk is the city itself writing for a district. */
		tidu_trust_desk_id(k->city_device, d->district, want);
		if (strcmp(want, d->device) || d->revoked ||
		    sodium_memcmp(d->sign_pk, k->city_sign_pk, PK_LEN) ||
		    sodium_memcmp(d->box_pk, k->city_box_pk, PK_LEN))
			return tidu_error_set(TIDU_EINVAL,
				_("invalid keyring: device '%s' claims to be the city's desk for district %s"),
				d->device, d->district);
	}
	tidu_trust_fingerprint(d->sign_pk, d->box_pk, d->fingerprint);
	return 0;
}

/* Reads and checks the "devices" array. */
static int body_devices(keyring *k, const char *what)
{
	const tidu_json *a;
	size_t i, n;
	int error;

	if (!(a = get_array(k->doc.payload, "devices", what, &error)) || error)
		return error;
	n = tidu_json_count(a);
	k->devices = tidu_calloc(n + 1, sizeof(*k->devices));
	for (i = 0; i < n; i++) {
		if ((error = body_device(k, tidu_json_at(a, i), what,
					 &k->devices[i])) < 0)
			return error;
		k->ndevices++;
	}
	return 0;
}

/* Reads and checks the "grants" array: each names a listed device and key. */
static int body_grants(keyring *k, const char *what)
{
	const tidu_json *a, *e;
	size_t i, n;
	int error;

	if (!(a = get_array(k->doc.payload, "grants", what, &error)) || error)
		return error;
	n = tidu_json_count(a);
	k->grants = tidu_calloc(n + 1, sizeof(*k->grants));
	for (i = 0; i < n; i++) {
		kr_grant *g = &k->grants[i];

		e = tidu_json_at(a, i);
		if ((error = trust_get_text(e, "device", what, g->device,
					    sizeof(g->device))) < 0 ||
		    (error = trust_get_text(e, "district", what, g->district,
					    sizeof(g->district))) < 0 ||
		    (error = trust_get_int(e, "epoch", what, &g->epoch)) < 0 ||
		    (error = trust_get_bytes(e, "sealed", what, g->sealed,
					     SEALED_LEN)) < 0)
			return error;
		if (!find_device(k, g->device) || !find_key(k, g->district, g->epoch))
			return tidu_error_set(TIDU_EINVAL,
				_("invalid keyring: a grant names device '%s', district '%s', epoch %lld, which it does not list"),
				g->device, g->district, (long long)g->epoch);
		k->ngrants++;
	}
	return 0;
}

/* Reads and checks districts, devices and grants (after the signature). */
static int keyring_body(keyring *k)
{
	const char *what = _("keyring");
	int error;

	if ((error = body_keys(k, what)) < 0 || (error = body_devices(k, what)) < 0)
		return error;
	return body_grants(k, what);
}

/* Verifies the keyring's signer against the pin. *tofu: nothing pinned yet. */
static int keyring_check_signer(tidu_store *s, const keyring *k, int *tofu)
{
	unsigned char pin[PK_LEN], box[PK_LEN];
	char pinned_fp[TIDU_TRUST_FP_SIZE], fp[TIDU_TRUST_FP_SIZE];
	int pinned_key, error;

	*tofu = 0;
	if ((error = trust_pinned_city(s, pinned_fp, pin, box, &pinned_key)) < 0)
		return error;
	tidu_trust_fingerprint(k->city_sign_pk, k->city_box_pk, fp);
	if (pinned_key ? (sodium_memcmp(pin, k->city_sign_pk, sizeof(pin)) != 0 ||
			  sodium_memcmp(box, k->city_box_pk, sizeof(box)) != 0)
		       : (pinned_fp[0] && strcmp(pinned_fp, fp) != 0))
		return tidu_error_set(TIDU_ECORRUPT,
			_("keyring not signed by the pinned city key: it comes from city %s, the pinned city is %s"),
			fp, pinned_fp);
	if (!trust_doc_verify(keyring_domain, &k->doc, k->city_sign_pk))
		return tidu_error_set(TIDU_ECORRUPT, "%s",
			_("the keyring's signature does not verify: the file was altered"));
	*tofu = !pinned_key;
	return 0;
}

/* Compares with the stored document of the same version. */
static int keyring_same(tidu_store *s, const keyring *k)
{
	sqlite3_stmt *st;
	keyring old;
	int error, rc;

	if ((error = trust_prep(s, "SELECT doc FROM keyring WHERE version=?1", &st)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, k->version);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		trust_release(st);
		return tidu_store_sqlerr(s, rc, _("reading keys"));
	}
	{
		const char *blob = sqlite3_column_blob(st, 0);

		error = keyring_open(blob ? blob : "",
				     (size_t)sqlite3_column_bytes(st, 0),
				     &old);
	}
	trust_release(st);
	if (error < 0) {
		char *m = tidu_strdup(tidu_error_message());

		error = tidu_error_set(TIDU_ECORRUPT,
			_("the stored keyring version %lld is damaged: %s"),
			(long long)k->version, m);
		free(m);
		return error;
	}
	if (old.doc.canon.len != k->doc.canon.len ||
	    memcmp(old.doc.canon.ptr, k->doc.canon.ptr, old.doc.canon.len) != 0)
		error = tidu_error_set(TIDU_ECORRUPT,
			_("keyring version %lld differs from the one imported before"),
			(long long)k->version);
	keyring_free(&old);
	return error;
}

/* Stores the public key of one epoch, or checks the one stored already. */
static int store_public_key(tidu_store *s, const kr_key *key)
{
	unsigned char pk[PK_LEN];
	sqlite3_stmt *st;
	int error, rc;

	if ((error = trust_prep(s, "SELECT pk FROM district_key WHERE district=?1 "
				"AND epoch=?2", &st)) < 0)
		return error;
	sqlite3_bind_text(st, 1, key->district, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, key->epoch);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		error = trust_column_bytes(st, 0, pk, sizeof(pk), "district_key.pk");
		if (error == 0 && memcmp(pk, key->pk, sizeof(pk)) != 0)
			error = tidu_error_set(TIDU_ECORRUPT,
				_("the keyring changes the read key of district '%s', epoch %lld"),
				key->district, (long long)key->epoch);
		trust_release(st);
		return error;
	}
	trust_release(st);
	if (rc != SQLITE_DONE)
		return tidu_store_sqlerr(s, rc, _("reading keys"));
	if ((error = trust_prep(s, "INSERT INTO district_key(district, epoch, pk) "
				"VALUES(?1, ?2, ?3)", &st)) < 0)
		return error;
	sqlite3_bind_text(st, 1, key->district, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, key->epoch);
	sqlite3_bind_blob(st, 3, key->pk, PK_LEN, SQLITE_STATIC);
	return trust_run(s, st);
}

/*
 * Opens grant `g` (addressed to this device) and keeps its secret key
 * unless this store holds it already; counts it in *keys_new then.
 */
static int open_grant(tidu_store *s, const keyring *k, const kr_grant *g,
		      const own_keys *me, size_t *keys_new)
{
	const kr_key *key = find_key(k, g->district, g->epoch);
	unsigned char sk[PK_LEN], pk[PK_LEN];
	sqlite3_stmt *st;
	int64_t had;
	int error, rc;

	if (crypto_box_seal_open(sk, g->sealed, SEALED_LEN, me->box_pk,
				 me->box_sk) != 0 ||
	    crypto_scalarmult_base(pk, sk) != 0 ||
	    sodium_memcmp(pk, key->pk, sizeof(pk)) != 0) {
		error = tidu_error_set(TIDU_ECORRUPT,
			_("the keyring's read key of district '%s', epoch %lld does not open for this device"),
			g->district, (long long)g->epoch);
		goto done;
	}
	if ((error = trust_prep(s, "SELECT count(*) FROM district_key WHERE district=?1 "
				"AND epoch=?2 AND sk IS NOT NULL", &st)) < 0)
		goto done;
	sqlite3_bind_text(st, 1, g->district, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, g->epoch);
	rc = sqlite3_step(st);
	had = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	trust_release(st);
	if (rc != SQLITE_ROW) {
		error = tidu_store_sqlerr(s, rc, _("reading keys"));
		goto done;
	}
	if (had)
		goto done;
	if ((error = trust_prep(s, "UPDATE district_key SET sk=?3 WHERE district=?1 "
				"AND epoch=?2", &st)) < 0)
		goto done;
	sqlite3_bind_text(st, 1, g->district, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, g->epoch);
	sqlite3_bind_blob(st, 3, sk, sizeof(sk), SQLITE_STATIC);
	if ((error = trust_run(s, st)) == 0)
		(*keys_new)++;
done:
	sodium_memzero(sk, sizeof(sk));
	return error;
}

/* Stores the public key of every epoch and opens the grants to this device. */
static int keyring_store_keys(tidu_store *s, const keyring *k, const own_keys *me,
			      size_t *keys_new)
{
	size_t i;
	int error = 0;

	for (i = 0; i < k->nkeys && !error; i++)
		error = store_public_key(s, &k->keys[i]);
	for (i = 0; i < k->ngrants && !error; i++)
		if (strcmp(k->grants[i].device, tidu_store_device(s)) == 0)
			error = open_grant(s, k, &k->grants[i], me, keys_new);
	return error;
}

/*
 * Takes a verified keyring newer than the current one: keeps the document,
 * replaces the device table, stores the read keys and, on first use, pins
 * the city that signed it.
 */
static int keyring_take(tidu_store *s, const keyring *k, const char *doc, size_t len,
			const own_keys *me, int tofu, tidu_trust_import *info)
{
	size_t i;
	int error;

	if ((error = keyring_insert(s, k->version, doc, len)) < 0 ||
	    (error = trust_exec(s, "DELETE FROM device")) < 0)
		return error;
	for (i = 0; i < k->ndevices && !error; i++)
		error = trust_insert_device(s, &k->devices[i]);
	if (error < 0 ||
	    (error = keyring_store_keys(s, k, me, &info->keys_new)) < 0)
		return error;
	if (tofu) {
		if ((error = trust_secret_put(s, "city_pin", k->city_sign_pk,
					      PK_LEN)) < 0 ||
		    (error = trust_secret_put(s, "city_box_pk", k->city_box_pk,
					      PK_LEN)) < 0 ||
		    (error = trust_secret_put(s, "city_fp", info->city_fingerprint,
					      TIDU_TRUST_FP_LEN)) < 0)
			return error;
		info->pinned = 1;
	}
	return 0;
}

int tidu_trust_keyring_import(tidu_store *s, const char *doc, size_t len,
			      tidu_trust_import *info_out)
{
	tidu_trust_import info;
	const tidu_trust_device *mine;
	keyring k;
	own_keys me;
	int64_t current;
	int tofu = 0, own = 0, error;

	memset(&info, 0, sizeof(info));
	memset(&me, 0, sizeof(me));
	if ((error = keyring_open(doc, len, &k)) < 0)
		return error;
	if ((error = keyring_check_signer(s, &k, &tofu)) < 0 ||
	    (error = keyring_body(&k)) < 0 ||
	    (error = trust_own_load(s, &me)) < 0)
		goto out;
	info.version = k.version;
	info.devices = k.ndevices;
	tidu_trust_fingerprint(k.city_sign_pk, k.city_box_pk, info.city_fingerprint);
	if ((mine = find_device(&k, tidu_store_device(s)))) {
		if (sodium_memcmp(mine->sign_pk, me.sign_pk, PK_LEN) ||
		    sodium_memcmp(mine->box_pk, me.box_pk, PK_LEN)) {
			error = tidu_error_set(TIDU_ECORRUPT,
				_("the keyring lists device '%s' with other keys than this store's"),
				tidu_store_device(s));
			goto out;
		}
		info.enrolled = 1;
		info.revoked = mine->revoked;
	}
	if ((error = trust_tx_begin(s, &own)) < 0)
		goto out;
	if ((error = trust_scalar(s, "SELECT coalesce(max(version), 0) FROM keyring",
				  NULL, &current)) < 0)
		goto done;
	if (k.version < current) {
		error = tidu_error_set(TIDU_EINVAL,
			_("keyring version %lld is older than the current version %lld: refusing to roll back"),
			(long long)k.version, (long long)current);
		goto done;
	}
	if (k.version == current) {
		if ((error = keyring_same(s, &k)) == 0)
			info.current = 1;
		goto done;
	}
	error = keyring_take(s, &k, doc, len, &me, tofu, &info);
	/* The city approved a corrected name: the store takes it (next open). */
	if (error == 0 && mine && strcmp(mine->officer, tidu_store_officer(s)))
		error = tidu_store_meta_set(s, "officer", mine->officer);
done:
	error = trust_tx_end(s, own, error);
out:
	trust_own_wipe(&me);
	keyring_free(&k);
	if (error == 0 && info_out)
		*info_out = info;
	return error;
}

/* ---- the keyring this store holds ---------------------------------------- */

/* A digest of what a keyring carries: devices and district public keys. */
int tidu_trust_state_digest(tidu_store *s, char out[TIDU_TRUST_DIGEST_HEX])
{
	static const char *const sql[] = {
		"SELECT device, district, role, officer, hex(sign_pk), hex(box_pk), "
		"coalesce(revoked_after, -1) FROM device ORDER BY device",
		"SELECT district, epoch, hex(pk) FROM district_key ORDER BY district, epoch",
	};
	crypto_generichash_state h;
	unsigned char d[32];
	size_t q;
	int rc = SQLITE_DONE;

	crypto_generichash_init(&h, NULL, 0, sizeof(d));
	for (q = 0; q < 2; q++) {
		/* From the store's cache, as before the split: stepped alone. */
		sqlite3_stmt *st = tidu_store_stmt(s, sql[q]);
		int col;

		if (!st)
			return TIDU_ERROR;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			for (col = 0; col < sqlite3_column_count(st); col++) {
				const unsigned char *t = sqlite3_column_text(st, col);

				/* Each value with its NUL; NULL as an empty text. */
				if (!t)
					t = (const unsigned char *)"";
				crypto_generichash_update(&h, t,
							  strlen((const char *)t) + 1);
			}
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return tidu_store_sqlerr(s, rc, _("reading the keyring"));
		crypto_generichash_update(&h, (const unsigned char *)"\n", 1);
	}
	crypto_generichash_final(&h, d, sizeof(d));
	sodium_bin2hex(out, TIDU_TRUST_DIGEST_HEX, d, sizeof(d));
	return 0;
}

int tidu_trust_keyring_latest(tidu_store *s, int64_t *version, tidu_buf *doc)
{
	sqlite3_stmt *st;
	int rc, error;

	*version = 0;
	if ((error = trust_prep(s,
				"SELECT version, doc FROM keyring ORDER BY version DESC LIMIT 1",
				&st)) < 0)
		return error;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int64(st, 0);
		tidu_buf_put(doc, sqlite3_column_blob(st, 1),
			     (size_t)sqlite3_column_bytes(st, 1));
	}
	trust_release(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tidu_store_sqlerr(s, rc, _("reading the keyring"));
	return 0;
}
