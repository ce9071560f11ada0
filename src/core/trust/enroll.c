/*
 * Trust, enrollment: a device's signed request to join the keyring, and on
 * the city store its admission (a row of `device`) and revocation (the
 * district's read key rotated). The city's next keyring export carries both.
 */
#include <string.h>

#include "core/trust/trust_int.h"
#include "tidu/i18n.h"

static const char request_domain[] = "tidu-enroll-request-v1";
static const char request_format[] = "tidu-enroll-request";

/* 1 if `pk` can be sealed to (not a low-order or malformed point). */
static int box_pk_usable(const unsigned char pk[PK_LEN])
{
	unsigned char probe[crypto_box_SEALBYTES + 1];
	unsigned char one = 0;
	int ok = crypto_box_seal(probe, &one, 1, pk) == 0;

	sodium_memzero(probe, sizeof(probe));
	return ok;
}

int tidu_trust_enroll_request(tidu_store *s, tidu_buf *out)
{
	return tidu_trust_enroll_request_as(s, tidu_store_officer(s), out);
}

int tidu_trust_enroll_request_as(tidu_store *s, const char *officer, tidu_buf *out)
{
	tidu_buf payload = TIDU_BUF_INIT;
	tidu_json_writer w;
	char created[32];
	own_keys k;
	int error;

	if ((error = tidu_trust_officer_check(officer)) < 0 ||
	    (error = trust_own_load(s, &k)) < 0)
		return error;
	trust_now_text(created);
	tidu_json_writer_init(&w, &payload, TIDU_JSON_MINIMAL_ESCAPES);
	tidu_json_begin_object(&w);
	tidu_json_write_key(&w, "format");
	tidu_json_write_string(&w, request_format);
	tidu_json_write_key(&w, "format_version");
	tidu_json_write_int64(&w, FORMAT_VERSION);
	tidu_json_write_key(&w, "device");
	tidu_json_write_string(&w, tidu_store_device(s));
	tidu_json_write_key(&w, "district");
	tidu_json_write_string(&w, tidu_store_district(s));
	tidu_json_write_key(&w, "role");
	tidu_json_write_string(&w, tidu_store_role(s));
	tidu_json_write_key(&w, "officer");
	tidu_json_write_string(&w, officer);
	tidu_json_write_key(&w, "sign_pk");
	trust_put_b64(&w, k.sign_pk, PK_LEN);
	tidu_json_write_key(&w, "box_pk");
	trust_put_b64(&w, k.box_pk, PK_LEN);
	tidu_json_write_key(&w, "created");
	tidu_json_write_string(&w, created);
	tidu_json_end_object(&w);
	if ((error = tidu_json_writer_finish(&w)) == 0)
		error = trust_doc_wrap(request_domain, &payload, k.sign_sk, out);
	trust_own_wipe(&k);
	tidu_buf_free(&payload);
	return error;
}

static int request_parse(const char *text, size_t len, tidu_trust_request *r)
{
	const char *what = _("enrollment request");
	signed_doc d;
	const tidu_json *p;
	int error;

	memset(r, 0, sizeof(*r));
	if ((error = trust_doc_open(what, request_format, text, len, &d)) < 0)
		return error;
	p = d.payload;
	if ((error = trust_get_text(p, "device", what, r->device,
				    sizeof(r->device))) < 0 ||
	    (error = trust_get_text(p, "district", what, r->district,
				    sizeof(r->district))) < 0 ||
	    (error = trust_get_text(p, "role", what, r->role, sizeof(r->role))) < 0 ||
	    (error = trust_get_text(p, "officer", what, r->officer,
				    sizeof(r->officer))) < 0 ||
	    (error = trust_get_text(p, "created", what, r->created,
				    sizeof(r->created))) < 0 ||
	    (error = trust_get_bytes(p, "sign_pk", what, r->sign_pk, PK_LEN)) < 0 ||
	    (error = trust_get_bytes(p, "box_pk", what, r->box_pk, PK_LEN)) < 0 ||
	    (error = trust_check_identity(what, r->device, r->district, r->role,
					  r->officer)) < 0)
		goto done;
	/* Self-signed: the request proves that its maker holds the signing key. */
	if (!trust_doc_verify(request_domain, &d, r->sign_pk)) {
		error = tidu_error_set(TIDU_ECORRUPT,
			_("the enrollment request of device '%s' has a bad signature: it was altered or forged"),
			r->device);
		goto done;
	}
	if (!box_pk_usable(r->box_pk)) {
		error = tidu_error_set(TIDU_EINVAL,
			_("invalid enrollment request: the box key of device '%s' is not usable"),
			r->device);
		goto done;
	}
	tidu_trust_fingerprint(r->sign_pk, r->box_pk, r->fingerprint);
done:
	trust_signed_doc_free(&d);
	return error;
}

/* Is the requesting device enrolled already, may it be? Sets r->enrolled. */
static int admit_check(tidu_store *city, tidu_trust_request *r)
{
	tidu_trust_device d;
	int error = tidu_trust_device_lookup(city, r->device, &d);

	if (error == TIDU_ENOTFOUND) {
		tidu_error_clear();
		if (!strcmp(r->role, "city") || !strcmp(r->role, TIDU_TRUST_ROLE_DESK))
			return tidu_error_set(TIDU_EINVAL,
				_("device '%s' is a city store: a city store is its own root and cannot be enrolled"),
				r->device);
		return 0;
	}
	if (error < 0)
		return error;
	if (d.revoked)
		return tidu_error_set(TIDU_EINVAL,
			_("device '%s' was revoked and cannot be enrolled again: make a new store on it and enroll that"),
			r->device);
	if (sodium_memcmp(d.sign_pk, r->sign_pk, PK_LEN) ||
	    sodium_memcmp(d.box_pk, r->box_pk, PK_LEN))
		return tidu_error_set(TIDU_EEXISTS,
			_("device '%s' is enrolled already with other keys"), r->device);
	/* Same keys, another name: the device asks for its name to be corrected. */
	if (strcmp(d.officer, r->officer))
		memcpy(r->renamed_from, d.officer, sizeof(r->renamed_from));
	else
		r->enrolled = 1;
	return 0;
}

int tidu_trust_admit(tidu_store *city, const char *req, size_t len,
		     tidu_trust_request *info_out, int commit)
{
	tidu_trust_request r;
	tidu_trust_device d;
	int own = 0, error;

	if ((error = trust_require_city(city, _("enroll devices"))) < 0 ||
	    (error = request_parse(req, len, &r)) < 0)
		return error;
	if (commit && (error = trust_tx_begin(city, &own)) < 0)
		return error;
	error = admit_check(city, &r);
	if (error == 0 && commit && *r.renamed_from) {
		sqlite3_stmt *st;

		if ((error = trust_prep(city, "UPDATE device SET officer=?2 WHERE device=?1",
					&st)) == 0) {
			sqlite3_bind_text(st, 1, r.device, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, r.officer, -1, SQLITE_STATIC);
			error = trust_run(city, st);
		}
	} else if (error == 0 && commit && !r.enrolled) {
		memset(&d, 0, sizeof(d));
		memcpy(d.device, r.device, sizeof(d.device));
		memcpy(d.district, r.district, sizeof(d.district));
		memcpy(d.role, r.role, sizeof(d.role));
		memcpy(d.officer, r.officer, sizeof(d.officer));
		memcpy(d.sign_pk, r.sign_pk, PK_LEN);
		memcpy(d.box_pk, r.box_pk, PK_LEN);
		if ((error = trust_insert_device(city, &d)) == 0)
			error = trust_district_key_ensure(city, r.district);
	}
	if (commit)
		error = trust_tx_end(city, own, error);
	if (error == 0 && info_out)
		*info_out = r;
	return error;
}

int tidu_trust_revoke(tidu_store *city, const char *device, int64_t last_seq)
{
	tidu_trust_device d;
	sqlite3_stmt *st;
	int64_t epoch;
	int own, error;

	if ((error = trust_require_city(city, _("revoke devices"))) < 0)
		return error;
	if (last_seq < 0)
		return tidu_error_set(TIDU_EINVAL,
			_("invalid sequence number %lld: it must be 0 or more"),
			(long long)last_seq);
	if (!strcmp(device, tidu_store_device(city)))
		return tidu_error_set(TIDU_EINVAL, "%s",
			_("the city cannot revoke its own device"));
	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialise libsodium"));
	if ((error = trust_tx_begin(city, &own)) < 0)
		return error;
	if ((error = tidu_trust_device_lookup(city, device, &d)) < 0)
		goto done;
	if (!strcmp(d.role, TIDU_TRUST_ROLE_DESK)) {
		error = tidu_error_set(TIDU_EINVAL,
			_("device '%s' is the city's own desk for district %s: the city cannot revoke its own device"),
			device, d.district);
		goto done;
	}
	if (d.revoked) {
		error = tidu_error_set(TIDU_EEXISTS,
			_("device '%s' is revoked already (after change set %lld)"),
			device, (long long)d.revoked_after);
		goto done;
	}
	if ((error = trust_prep(city,
				"UPDATE device SET revoked_after=?2 WHERE device=?1",
				&st)) < 0)
		goto done;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, last_seq);
	if ((error = trust_run(city, st)) < 0 ||
	    (error = trust_scalar(city,
				  "SELECT coalesce(max(epoch), 0) FROM district_key "
				  "WHERE district=?1", d.district, &epoch)) < 0)
		goto done;
	/* The revoked device holds every key up to now; the next one it never gets. */
	error = trust_new_district_key(city, d.district, epoch + 1);
done:
	return trust_tx_end(city, own, error);
}
