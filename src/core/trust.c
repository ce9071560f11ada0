/*
 * Trust: device keys, enrollment, the city's signed keyring, district read
 * keys (trust.h; the model and formats are in docs/security.md).
 *
 * Statements are prepared and finalised here rather than taken from the
 * store's cache: several are stepped at once (export), and the cache may
 * evict a statement that is still being stepped.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "tidu/alloc.h"
#include "tidu/clock.h"
#include "tidu/dict.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "tidu/file.h"
#include "tidu/trust.h"

#define PK_LEN TIDU_TRUST_KEY_LEN /* every public key, X25519 secret keys */
#define SEALED_LEN (crypto_box_SEALBYTES + PK_LEN)
#define SIG_LEN crypto_sign_BYTES
#define FORMAT_VERSION 1

static const char fp_domain[] = "tidu-fingerprint-v1";
static const char request_domain[] = "tidu-enroll-request-v1";
static const char keyring_domain[] = "tidu-keyring-v1";
static const char request_format[] = "tidu-enroll-request";
static const char keyring_format[] = "tidu-keyring";
static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* This store's own keys, wiped by own_wipe(). */
typedef struct {
	unsigned char sign_sk[TIDU_TRUST_SIGN_SK_LEN];
	unsigned char sign_pk[PK_LEN];
	unsigned char box_sk[PK_LEN];
	unsigned char box_pk[PK_LEN];
} own_keys;

static void own_wipe(own_keys *k)
{
	sodium_memzero(k, sizeof(*k));
}

static int is_root(tidu_store *s)
{
	return strcmp(tidu_store_role(s), "city") == 0;
}

static int require_city(tidu_store *s, const char *what)
{
	if (is_root(s))
		return 0;
	return tidu_error_set(TIDU_EINVAL,
		_("only the city store can %s: this store's role is '%s'"),
		what, tidu_store_role(s));
}

/* ---- SQL helpers --------------------------------------------------------- */

static int prep(tidu_store *s, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(tidu_store_db(s), sql, -1, st, NULL);

	return rc == SQLITE_OK ? 0 : tidu_store_sqlerr(s, rc, _("reading keys"));
}

/* Steps a statement that returns no row, then finalises it. */
static int run(tidu_store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("writing keys"));
}

static int exec(tidu_store *s, const char *sql)
{
	int rc = sqlite3_exec(tidu_store_db(s), sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : tidu_store_sqlerr(s, rc, _("writing keys"));
}

/* One integer from a query with one optional text parameter. */
static int scalar(tidu_store *s, const char *sql, const char *param, int64_t *out)
{
	sqlite3_stmt *st;
	int error, rc;

	if ((error = prep(s, sql, &st)) < 0)
		return error;
	if (param)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : tidu_store_sqlerr(s, rc, _("reading keys"));
}

/*
 * Writes of a function are atomic: in a transaction of their own, or in a
 * savepoint of the caller's transaction.
 */
static int tx_begin(tidu_store *s, int *own)
{
	int error;

	*own = 0;
	if (!sqlite3_get_autocommit(tidu_store_db(s)))
		return exec(s, "SAVEPOINT tidu_trust");
	if ((error = tidu_store_begin(s)) < 0)
		return error;
	*own = 1;
	return 0;
}

static int tx_end(tidu_store *s, int own, int error)
{
	if (!own) {
		if (error < 0) {
			sqlite3_exec(tidu_store_db(s), "ROLLBACK TO tidu_trust; "
				     "RELEASE tidu_trust", NULL, NULL, NULL);
			return error;
		}
		return exec(s, "RELEASE tidu_trust");
	}
	if (error < 0 || (error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		return error;
	}
	return 0;
}

/* Copies a blob column of exactly `len` bytes; TIDU_ECORRUPT otherwise. */
static int column_bytes(sqlite3_stmt *st, int col, unsigned char *out, size_t len,
			const char *what)
{
	const void *p = sqlite3_column_blob(st, col);

	if (!p || (size_t)sqlite3_column_bytes(st, col) != len)
		return tidu_error_set(TIDU_ECORRUPT,
			_("the store's key '%s' is damaged"), what);
	memcpy(out, p, len);
	return 0;
}

/* Reads secret `name` (exactly `len` bytes). *found = 0 if it is missing. */
static int secret_get(tidu_store *s, const char *name, unsigned char *out,
		      size_t len, int *found)
{
	sqlite3_stmt *st;
	int error, rc;

	*found = 0;
	if ((error = prep(s, "SELECT value FROM secret WHERE name=?1", &st)) < 0)
		return error;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		error = column_bytes(st, 0, out, len, name);
		*found = error == 0;
	} else if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(s, rc, _("reading keys"));
	}
	sqlite3_finalize(st);
	return error;
}

static int secret_put(tidu_store *s, const char *name, const void *value, size_t len)
{
	sqlite3_stmt *st;
	int error;

	if ((error = prep(s, "INSERT INTO secret(name, value) VALUES(?1, ?2) "
			  "ON CONFLICT(name) DO UPDATE SET value=excluded.value", &st)) < 0)
		return error;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, value, (int)len, SQLITE_STATIC);
	return run(s, st);
}

static int own_load(tidu_store *s, own_keys *k)
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
		if ((error = secret_get(s, names[i], dst[i], lens[i], &found)) < 0)
			goto fail;
		if (!found) {
			error = tidu_error_set(TIDU_ENOTFOUND,
				_("store '%s' has no device keys yet"), tidu_store_path(s));
			goto fail;
		}
	}
	return 0;
fail:
	own_wipe(k);
	return error;
}

/* ---- text forms ---------------------------------------------------------- */

void tidu_trust_fingerprint(const unsigned char sign_pk[PK_LEN],
			    const unsigned char box_pk[PK_LEN],
			    char out[TIDU_TRUST_FP_SIZE])
{
	unsigned char in[2 * PK_LEN], h[32];
	size_t i, o = 0;

	memcpy(in, sign_pk, PK_LEN);
	memcpy(in + PK_LEN, box_pk, PK_LEN);
	crypto_generichash(h, sizeof(h), in, sizeof(in),
			   (const unsigned char *)fp_domain, sizeof(fp_domain) - 1);
	/* 20 symbols of 5 bits, most significant bits first. */
	for (i = 0; i < 20; i++) {
		size_t bit = i * 5, byte = bit / 8;
		unsigned v = ((unsigned)h[byte] << 8 | h[byte + 1]) >> (11 - bit % 8);

		if (i && i % 4 == 0)
			out[o++] = '-';
		out[o++] = alphabet[v & 31];
	}
	out[o] = '\0';
}

int tidu_trust_fingerprint_parse(const char *text, char out[TIDU_TRUST_FP_SIZE])
{
	char sym[20];
	size_t n = 0, o = 0, i;
	const char *p;

	for (p = text ? text : ""; *p; p++) {
		int c = toupper((unsigned char)*p);

		if (c == '-' || c == ' ' || c == '\t')
			continue;
		if (c == 'O')
			c = '0';
		else if (c == 'I' || c == 'L')
			c = '1';
		if (!strchr(alphabet, c) || c == '\0' || n == 20)
			goto bad;
		sym[n++] = (char)c;
	}
	if (n != 20)
		goto bad;
	for (i = 0; i < 20; i++) {
		if (i && i % 4 == 0)
			out[o++] = '-';
		out[o++] = sym[i];
	}
	out[o] = '\0';
	return 0;
bad:
	return tidu_error_set(TIDU_EINVAL,
		_("invalid fingerprint '%s': expected 20 letters and digits such as K3F9-0QZD-4T8W-MX2A-7CPN"),
		text ? text : "");
}

static void now_text(char out[32])
{
	int64_t ms = tidu_clock_now_ms();
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "1970-01-01T00:00:00Z");
}

static void put_b64(tidu_json_writer *w, const unsigned char *bin, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *t = tidu_malloc(n);

	sodium_bin2base64(t, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
	tidu_json_write_string(w, t);
	free(t);
}

/* Decodes base64 of exactly `len` bytes; -1 otherwise. */
static int get_b64(const char *text, unsigned char *out, size_t len)
{
	size_t got = 0, tl = strlen(text);
	const char *end = NULL;

	if (sodium_base642bin(out, len, text, tl, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != len || end != text + tl)
		return -1;
	return 0;
}

static int valid_device_id(const char *d)
{
	size_t i;

	for (i = 0; d[i]; i++)
		if (!isdigit((unsigned char)d[i]) && (d[i] < 'a' || d[i] > 'f'))
			return 0;
	return i == TIDU_DEVICE_ID_LEN;
}

static int valid_role(const char *r)
{
	return !strcmp(r, "officer") || !strcmp(r, "district") || !strcmp(r, "city") ||
	       !strcmp(r, TIDU_TRUST_ROLE_DESK);
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

/* ---- signed documents ---------------------------------------------------- */

/*
 * A signed document is {"payload": {...}, "signature": "<base64>"}; the
 * signature is Ed25519 over domain ‖ "\n" ‖ the payload written compactly
 * by the JSON writer (members in document order). The verifier rewrites the
 * parsed payload the same way, so the file's whitespace does not matter but
 * any change of a value, a key or their order does.
 */
static int json_emit(tidu_json_writer *w, const tidu_json *v)
{
	size_t i;

	switch (tidu_json_typeof(v)) {
	case TIDU_JSON_NULL:
		return tidu_json_write_null(w);
	case TIDU_JSON_BOOL:
		return tidu_json_write_bool(w, tidu_json_as_bool(v));
	case TIDU_JSON_NUMBER:
		return tidu_json_write_raw(w, tidu_json_number_text(v));
	case TIDU_JSON_STRING:
		return tidu_json_write_string(w, tidu_json_as_string(v));
	case TIDU_JSON_ARRAY:
		tidu_json_begin_array(w);
		for (i = 0; i < tidu_json_count(v); i++)
			json_emit(w, tidu_json_at(v, i));
		return tidu_json_end_array(w);
	case TIDU_JSON_OBJECT:
		tidu_json_begin_object(w);
		for (i = 0; i < tidu_json_count(v); i++) {
			tidu_json_write_key(w, tidu_json_key_at(v, i));
			json_emit(w, tidu_json_at(v, i));
		}
		return tidu_json_end_object(w);
	}
	return TIDU_EINVAL;
}

static void signed_message(tidu_buf *m, const char *domain, const tidu_buf *canon)
{
	tidu_buf_clear(m);
	tidu_buf_puts(m, domain);
	tidu_buf_putc(m, '\n');
	tidu_buf_put(m, canon->ptr, canon->len);
}

/* Signs the compact `payload` and appends the whole document to `out`. */
static int doc_wrap(const char *domain, const tidu_buf *payload,
		    const unsigned char sk[TIDU_TRUST_SIGN_SK_LEN], tidu_buf *out)
{
	unsigned char sig[SIG_LEN];
	tidu_buf m = TIDU_BUF_INIT;
	tidu_json *tree = NULL;
	tidu_json_writer w;
	int error;

	if ((error = tidu_json_parse(payload->ptr, payload->len, &tree)) < 0)
		return error;
	signed_message(&m, domain, payload);
	crypto_sign_detached(sig, NULL, (const unsigned char *)m.ptr, m.len, sk);
	tidu_json_writer_init(&w, out, 1);
	tidu_json_begin_object(&w);
	tidu_json_write_key(&w, "payload");
	json_emit(&w, tree);
	tidu_json_write_key(&w, "signature");
	put_b64(&w, sig, sizeof(sig));
	tidu_json_end_object(&w);
	if ((error = tidu_json_writer_finish(&w)) == 0)
		tidu_buf_putc(out, '\n');
	tidu_json_free(tree);
	tidu_buf_free(&m);
	return error;
}

/* An opened (not yet verified) signed document. */
typedef struct {
	tidu_json *tree;
	const tidu_json *payload;
	tidu_buf canon; /* the payload's signed bytes */
	unsigned char sig[SIG_LEN];
} signed_doc;

static void signed_doc_free(signed_doc *d)
{
	tidu_json_free(d->tree);
	tidu_buf_free(&d->canon);
	memset(d, 0, sizeof(*d));
}

static int malformed(const char *what, const char *detail)
{
	return tidu_error_set(TIDU_EINVAL, _("invalid %s: %s"), what, detail);
}

static int doc_open(const char *what, const char *format, const char *text,
		    size_t len, signed_doc *d)
{
	const tidu_json *sig, *fmt, *fv;
	tidu_json_writer w;
	int64_t version;
	int error;

	memset(d, 0, sizeof(*d));
	if (len > TIDU_TRUST_DOC_MAX)
		return malformed(what, _("the document is too large"));
	if ((error = tidu_json_parse(text, len, &d->tree)) < 0) {
		char *m = tidu_strdup(tidu_error_message());

		error = malformed(what, m);
		free(m);
		return error;
	}
	d->payload = tidu_json_get(d->tree, "payload");
	sig = tidu_json_get(d->tree, "signature");
	if (tidu_json_typeof(d->tree) != TIDU_JSON_OBJECT ||
	    tidu_json_count(d->tree) != 2 ||
	    tidu_json_typeof(d->payload) != TIDU_JSON_OBJECT ||
	    tidu_json_typeof(sig) != TIDU_JSON_STRING) {
		error = malformed(what, _("expected an object with 'payload' and 'signature'"));
		goto fail;
	}
	if (get_b64(tidu_json_as_string(sig), d->sig, SIG_LEN) < 0) {
		error = malformed(what, _("the signature is not 64 bytes of base64"));
		goto fail;
	}
	fmt = tidu_json_get(d->payload, "format");
	if (!tidu_json_as_string(fmt) || strcmp(tidu_json_as_string(fmt), format)) {
		error = tidu_error_set(TIDU_EINVAL,
			_("this is not a %s (format '%s' expected)"), what, format);
		goto fail;
	}
	fv = tidu_json_get(d->payload, "format_version");
	if (tidu_json_typeof(fv) != TIDU_JSON_NUMBER ||
	    tidu_json_as_int64(fv, &version) < 0 || version != FORMAT_VERSION) {
		error = tidu_error_set(TIDU_EINVAL,
			_("unsupported %s format version: this tidu reads version %d"),
			what, FORMAT_VERSION);
		goto fail;
	}
	tidu_json_writer_init(&w, &d->canon, 0);
	json_emit(&w, d->payload);
	if ((error = tidu_json_writer_finish(&w)) < 0)
		goto fail;
	return 0;
fail:
	signed_doc_free(d);
	return error;
}

static int doc_verify(const char *domain, const signed_doc *d,
		      const unsigned char pk[PK_LEN])
{
	tidu_buf m = TIDU_BUF_INIT;
	int ok;

	signed_message(&m, domain, &d->canon);
	ok = crypto_sign_verify_detached(d->sig, (const unsigned char *)m.ptr,
					 m.len, pk) == 0;
	tidu_buf_free(&m);
	return ok;
}

/* Typed members of a payload; errors name the document and the field. */
static int get_str(const tidu_json *o, const char *key, const char *what,
		   const char **out)
{
	*out = tidu_json_as_string(tidu_json_get(o, key));
	if (*out)
		return 0;
	return tidu_error_set(TIDU_EINVAL,
		_("invalid %s: field '%s' is missing or not a string"), what, key);
}

static int get_int(const tidu_json *o, const char *key, const char *what,
		   int64_t *out)
{
	const tidu_json *v = tidu_json_get(o, key);

	if (tidu_json_typeof(v) == TIDU_JSON_NUMBER && tidu_json_as_int64(v, out) == 0)
		return 0;
	return tidu_error_set(TIDU_EINVAL,
		_("invalid %s: field '%s' is missing or not an integer"), what, key);
}

static int get_bytes(const tidu_json *o, const char *key, const char *what,
		     unsigned char *out, size_t len)
{
	const char *t;
	int error;

	if ((error = get_str(o, key, what, &t)) < 0)
		return error;
	if (get_b64(t, out, len) == 0)
		return 0;
	return tidu_error_set(TIDU_EINVAL,
		_("invalid %s: field '%s' is not %d bytes of base64"), what, key, (int)len);
}

/* Copies a string field into a fixed buffer; too long is malformed. */
static int get_text(const tidu_json *o, const char *key, const char *what,
		    char *out, size_t size)
{
	const char *t;
	int error;

	if ((error = get_str(o, key, what, &t)) < 0)
		return error;
	if (strlen(t) >= size)
		return tidu_error_set(TIDU_EINVAL,
			_("invalid %s: field '%s' is too long"), what, key);
	memcpy(out, t, strlen(t) + 1);
	return 0;
}

/* Checks device id, district, role, officer of a device entry. */
static int check_identity(const char *what, const char *device, const char *district,
			  const char *role, const char *officer)
{
	if (!valid_device_id(device))
		return tidu_error_set(TIDU_EINVAL,
			_("invalid %s: '%s' is not a device id"), what, device);
	if (!tidu_dict_district_name(district))
		return tidu_error_set(TIDU_EINVAL,
			_("invalid %s: unknown district '%s'"), what, district);
	if (!valid_role(role) ||
	    (strcmp(role, "city") == 0) != (tidu_dict_is_city(district) != 0) ||
	    (strcmp(role, TIDU_TRUST_ROLE_DESK) == 0 && tidu_dict_is_city(district)))
		return tidu_error_set(TIDU_EINVAL,
			_("invalid %s: role '%s' does not fit district '%s'"),
			what, role, district);
	if (!*officer)
		return tidu_error_set(TIDU_EINVAL,
			_("invalid %s: the officer's name is empty"), what);
	return 0;
}

/* 1 if `pk` can be sealed to (not a low-order or malformed point). */
static int box_pk_usable(const unsigned char pk[PK_LEN])
{
	unsigned char probe[crypto_box_SEALBYTES + 1];
	unsigned char one = 0;
	int ok = crypto_box_seal(probe, &one, 1, pk) == 0;

	sodium_memzero(probe, sizeof(probe));
	return ok;
}

/* ---- keys and identity ----------------------------------------------------- */

static int new_district_key(tidu_store *s, const char *district, int64_t epoch)
{
	unsigned char pk[PK_LEN], sk[PK_LEN];
	sqlite3_stmt *st;
	int error;

	crypto_box_keypair(pk, sk);
	if ((error = prep(s, "INSERT INTO district_key(district, epoch, pk, sk) "
			  "VALUES(?1, ?2, ?3, ?4)", &st)) == 0) {
		sqlite3_bind_text(st, 1, district, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, epoch);
		sqlite3_bind_blob(st, 3, pk, sizeof(pk), SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, sk, sizeof(sk), SQLITE_STATIC);
		error = run(s, st);
	}
	sodium_memzero(sk, sizeof(sk));
	return error;
}

static int district_key_ensure(tidu_store *s, const char *district)
{
	int64_t n;
	int error;

	if ((error = scalar(s, "SELECT count(*) FROM district_key WHERE district=?1",
			    district, &n)) < 0)
		return error;
	return n ? 0 : new_district_key(s, district, 1);
}

static int insert_device(tidu_store *s, const tidu_trust_device *d)
{
	sqlite3_stmt *st;
	int error;

	if ((error = prep(s, "INSERT INTO device(device, district, role, officer, "
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
	return run(s, st);
}

/* Copies a fixed-size text, cut at `size - 1` bytes. */
static void copy_text(char *out, size_t size, const unsigned char *t)
{
	snprintf(out, size, "%s", t ? (const char *)t : "");
}

/* Reads a row (device, district, role, officer, sign_pk, box_pk, revoked_after). */
static int read_device_row(sqlite3_stmt *st, tidu_trust_device *d)
{
	int error;

	memset(d, 0, sizeof(*d));
	copy_text(d->device, sizeof(d->device), sqlite3_column_text(st, 0));
	copy_text(d->district, sizeof(d->district), sqlite3_column_text(st, 1));
	copy_text(d->role, sizeof(d->role), sqlite3_column_text(st, 2));
	copy_text(d->officer, sizeof(d->officer), sqlite3_column_text(st, 3));
	if ((error = column_bytes(st, 4, d->sign_pk, PK_LEN, "device.sign_pk")) < 0 ||
	    (error = column_bytes(st, 5, d->box_pk, PK_LEN, "device.box_pk")) < 0)
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

	if ((error = prep(s, "SELECT " DEVICE_COLUMNS " FROM device WHERE device=?1",
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
	sqlite3_finalize(st);
	return error;
}

int tidu_trust_device_list(tidu_store *s, tidu_trust_device **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int64_t count;
	int error, rc = SQLITE_DONE;

	*out = NULL;
	*n = 0;
	if ((error = scalar(s, "SELECT count(*) FROM device", NULL, &count)) < 0 ||
	    (error = prep(s, "SELECT " DEVICE_COLUMNS " FROM device ORDER BY device",
			  &st)) < 0)
		return error;
	*out = tidu_calloc((size_t)count + 1, sizeof(**out));
	while (*n < (size_t)count && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((error = read_device_row(st, &(*out)[(*n)++])) < 0)
			break;
	if (!error && rc != SQLITE_ROW && rc != SQLITE_DONE)
		error = tidu_store_sqlerr(s, rc, _("reading keys"));
	sqlite3_finalize(st);
	if (error < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return error;
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

	if ((error = own_load(s, &k)) < 0)
		return error;
	if ((error = secret_get(s, "city_pin", pin, sizeof(pin), &found)) < 0)
		goto done;
	if (!found) {
		MISSING(create, missing);
		tidu_trust_fingerprint(k.sign_pk, k.box_pk, fp);
		if ((error = secret_put(s, "city_pin", k.sign_pk, PK_LEN)) < 0 ||
		    (error = secret_put(s, "city_box_pk", k.box_pk, PK_LEN)) < 0 ||
		    (error = secret_put(s, "city_fp", fp, TIDU_TRUST_FP_LEN)) < 0)
			goto done;
	} else if (sodium_memcmp(pin, k.sign_pk, sizeof(pin)) != 0) {
		error = tidu_error_set(TIDU_ECORRUPT, "%s",
			_("this city store is pinned to another city key"));
		goto done;
	}
	if ((error = scalar(s, "SELECT count(*) FROM device WHERE device=?1",
			    tidu_store_device(s), &n)) < 0)
		goto done;
	if (!n) {
		MISSING(create, missing);
		own_device(s, &k, &d);
		if ((error = insert_device(s, &d)) < 0)
			goto done;
	}
	for (i = 0; (code = tidu_dict_district_nth(i)); i++) {
		if ((error = scalar(s, "SELECT count(*) FROM district_key "
				    "WHERE district=?1", code, &n)) < 0)
			goto done;
		if (!n) {
			MISSING(create, missing);
			if ((error = new_district_key(s, code, 1)) < 0)
				goto done;
		}
		if (tidu_dict_is_city(code))
			continue;
		/* The city's desk for the district: how the city writes to it. */
		own_device(s, &k, &d);
		tidu_trust_desk_id(tidu_store_device(s), code, d.device);
		snprintf(d.district, sizeof(d.district), "%s", code);
		snprintf(d.role, sizeof(d.role), "%s", TIDU_TRUST_ROLE_DESK);
		if ((error = scalar(s, "SELECT count(*) FROM device WHERE device=?1",
				    d.device, &n)) < 0)
			goto done;
		if (n)
			continue;
		MISSING(create, missing);
		if ((error = insert_device(s, &d)) < 0)
			goto done;
	}
done:
	own_wipe(&k);
	return error;
}

static int ensure_pass(tidu_store *s, int create, int *missing)
{
	unsigned char sign_pk[PK_LEN], sign_sk[TIDU_TRUST_SIGN_SK_LEN];
	unsigned char box_pk[PK_LEN], box_sk[PK_LEN];
	int64_t nkeys;
	int error;

	if ((error = scalar(s, "SELECT count(*) FROM secret WHERE name IN "
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
		if ((error = secret_put(s, "sign_sk", sign_sk, sizeof(sign_sk))) == 0 &&
		    (error = secret_put(s, "sign_pk", sign_pk, sizeof(sign_pk))) == 0 &&
		    (error = secret_put(s, "box_sk", box_sk, sizeof(box_sk))) == 0)
			error = secret_put(s, "box_pk", box_pk, sizeof(box_pk));
		sodium_memzero(sign_sk, sizeof(sign_sk));
		sodium_memzero(box_sk, sizeof(box_sk));
		if (error < 0)
			return error;
	}
	return is_root(s) ? city_ensure(s, create, missing) : 0;
}

int tidu_trust_ensure_keys(tidu_store *s)
{
	int missing = 0, own, error;

	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialise libsodium"));
	/* A read-only look first: opening a store should not write. */
	if ((error = ensure_pass(s, 0, &missing)) < 0 || !missing)
		return error;
	if ((error = tx_begin(s, &own)) < 0)
		return error;
	error = ensure_pass(s, 1, &missing);
	return tx_end(s, own, error);
}

/* The fingerprint of the pinned city, "" if none; *pinned_key: city_pin exists. */
static int pinned_city(tidu_store *s, char fp[TIDU_TRUST_FP_SIZE],
		       unsigned char pin[PK_LEN],
		       unsigned char box[PK_LEN], int *pinned_key)
{
	int found_pin, found_box, found_fp, error;

	fp[0] = '\0';
	*pinned_key = 0;
	if ((error = secret_get(s, "city_pin", pin, PK_LEN, &found_pin)) < 0 ||
	    (error = secret_get(s, "city_box_pk", box, PK_LEN, &found_box)) < 0 ||
	    (error = secret_get(s, "city_fp", (unsigned char *)fp, TIDU_TRUST_FP_LEN,
				&found_fp)) < 0)
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
	if ((error = own_load(s, &k)) < 0)
		return error;
	snprintf(out->device, sizeof(out->device), "%s", tidu_store_device(s));
	snprintf(out->district, sizeof(out->district), "%s", tidu_store_district(s));
	snprintf(out->role, sizeof(out->role), "%s", tidu_store_role(s));
	tidu_trust_fingerprint(k.sign_pk, k.box_pk, out->fingerprint);
	own_wipe(&k);
	if ((error = pinned_city(s, out->city_fingerprint, pin, box, &pinned)) < 0)
		return error;
	out->city_pinned = out->city_fingerprint[0] != '\0';
	if ((error = scalar(s, "SELECT coalesce(max(version), 0) FROM keyring", NULL,
			    &out->keyring_version)) < 0)
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
	if ((error = tx_begin(s, &own)) < 0)
		return error;
	if ((error = pinned_city(s, have, pin, box, &pinned)) < 0)
		goto done;
	if (have[0]) {
		if (strcmp(have, want) != 0)
			error = tidu_error_set(TIDU_EEXISTS,
				_("another city key is pinned already: %s"), have);
		goto done;
	}
	error = secret_put(s, "city_fp", want, TIDU_TRUST_FP_LEN);
done:
	return tx_end(s, own, error);
}

int tidu_trust_sign_sk(tidu_store *s, unsigned char sk[TIDU_TRUST_SIGN_SK_LEN])
{
	int found, error;

	if ((error = secret_get(s, "sign_sk", sk, TIDU_TRUST_SIGN_SK_LEN, &found)) < 0)
		return error;
	if (!found)
		return tidu_error_set(TIDU_ENOTFOUND,
			_("store '%s' has no device keys yet"), tidu_store_path(s));
	return 0;
}

/* ---- enrollment requests ------------------------------------------------- */

int tidu_trust_enroll_request(tidu_store *s, tidu_buf *out)
{
	tidu_buf payload = TIDU_BUF_INIT;
	tidu_json_writer w;
	char created[32];
	own_keys k;
	int error;

	if (strlen(tidu_store_officer(s)) > TIDU_TRUST_OFFICER_MAX)
		return tidu_error_set(TIDU_EINVAL,
			_("the officer's name is longer than %d bytes"), TIDU_TRUST_OFFICER_MAX);
	if ((error = own_load(s, &k)) < 0)
		return error;
	now_text(created);
	tidu_json_writer_init(&w, &payload, 0);
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
	tidu_json_write_string(&w, tidu_store_officer(s));
	tidu_json_write_key(&w, "sign_pk");
	put_b64(&w, k.sign_pk, PK_LEN);
	tidu_json_write_key(&w, "box_pk");
	put_b64(&w, k.box_pk, PK_LEN);
	tidu_json_write_key(&w, "created");
	tidu_json_write_string(&w, created);
	tidu_json_end_object(&w);
	if ((error = tidu_json_writer_finish(&w)) == 0)
		error = doc_wrap(request_domain, &payload, k.sign_sk, out);
	own_wipe(&k);
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
	if ((error = doc_open(what, request_format, text, len, &d)) < 0)
		return error;
	p = d.payload;
	if ((error = get_text(p, "device", what, r->device, sizeof(r->device))) < 0 ||
	    (error = get_text(p, "district", what, r->district, sizeof(r->district))) < 0 ||
	    (error = get_text(p, "role", what, r->role, sizeof(r->role))) < 0 ||
	    (error = get_text(p, "officer", what, r->officer, sizeof(r->officer))) < 0 ||
	    (error = get_text(p, "created", what, r->created, sizeof(r->created))) < 0 ||
	    (error = get_bytes(p, "sign_pk", what, r->sign_pk, PK_LEN)) < 0 ||
	    (error = get_bytes(p, "box_pk", what, r->box_pk, PK_LEN)) < 0 ||
	    (error = check_identity(what, r->device, r->district, r->role, r->officer)) < 0)
		goto done;
	/* Self-signed: the request proves that its maker holds the signing key. */
	if (!doc_verify(request_domain, &d, r->sign_pk)) {
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
	signed_doc_free(&d);
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
	r->enrolled = 1;
	return 0;
}

int tidu_trust_admit(tidu_store *city, const char *req, size_t len,
		     tidu_trust_request *info_out, int commit)
{
	tidu_trust_request r;
	tidu_trust_device d;
	int own = 0, error;

	if ((error = require_city(city, _("enroll devices"))) < 0 ||
	    (error = request_parse(req, len, &r)) < 0)
		return error;
	if (commit && (error = tx_begin(city, &own)) < 0)
		return error;
	error = admit_check(city, &r);
	if (error == 0 && commit && !r.enrolled) {
		memset(&d, 0, sizeof(d));
		memcpy(d.device, r.device, sizeof(d.device));
		memcpy(d.district, r.district, sizeof(d.district));
		memcpy(d.role, r.role, sizeof(d.role));
		memcpy(d.officer, r.officer, sizeof(d.officer));
		memcpy(d.sign_pk, r.sign_pk, PK_LEN);
		memcpy(d.box_pk, r.box_pk, PK_LEN);
		if ((error = insert_device(city, &d)) == 0)
			error = district_key_ensure(city, r.district);
	}
	if (commit)
		error = tx_end(city, own, error);
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

	if ((error = require_city(city, _("revoke devices"))) < 0)
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
	if ((error = tx_begin(city, &own)) < 0)
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
	if ((error = prep(city, "UPDATE device SET revoked_after=?2 WHERE device=?1",
			  &st)) < 0)
		goto done;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, last_seq);
	if ((error = run(city, st)) < 0 ||
	    (error = scalar(city, "SELECT coalesce(max(epoch), 0) FROM district_key "
			    "WHERE district=?1", d.district, &epoch)) < 0)
		goto done;
	/* The revoked device holds every key up to now; the next one it never gets. */
	error = new_district_key(city, d.district, epoch + 1);
done:
	return tx_end(city, own, error);
}

/* ---- keyring documents --------------------------------------------------- */

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
	put_b64(w, d->sign_pk, PK_LEN);
	tidu_json_write_key(w, "box_pk");
	put_b64(w, d->box_pk, PK_LEN);
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

	if ((error = prep(city, "SELECT epoch, sk FROM district_key WHERE district=?1 "
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

			error = column_bytes(st, 1, sk, sizeof(sk), "district_key.sk");
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
			put_b64(w, sealed, sizeof(sealed));
			tidu_json_end_object(w);
		}
		if (!error && rc != SQLITE_DONE)
			error = tidu_store_sqlerr(city, rc, _("reading keys"));
	}
	tidu_json_end_array(w);
	sodium_memzero(sk, sizeof(sk));
	sqlite3_finalize(st);
	return error;
}

int tidu_trust_keyring_export(tidu_store *city, tidu_buf *out)
{
	tidu_buf payload = TIDU_BUF_INIT, doc = TIDU_BUF_INIT;
	tidu_trust_device *devs = NULL;
	size_t ndevs = 0, i;
	sqlite3_stmt *st = NULL;
	tidu_json_writer w;
	char created[32];
	int64_t version;
	own_keys k;
	int own = 0, error, rc;

	if ((error = require_city(city, _("export the keyring"))) < 0)
		return error;
	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialise libsodium"));
	if ((error = own_load(city, &k)) < 0)
		return error;
	if ((error = tx_begin(city, &own)) < 0)
		goto wipe;
	if ((error = scalar(city, "SELECT coalesce(max(version), 0) + 1 FROM keyring",
			    NULL, &version)) < 0 ||
	    (error = tidu_trust_device_list(city, &devs, &ndevs)) < 0)
		goto done;
	now_text(created);
	tidu_json_writer_init(&w, &payload, 0);
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
	tidu_json_begin_object(&w);
	tidu_json_write_key(&w, "device");
	tidu_json_write_string(&w, tidu_store_device(city));
	tidu_json_write_key(&w, "sign_pk");
	put_b64(&w, k.sign_pk, PK_LEN);
	tidu_json_write_key(&w, "box_pk");
	put_b64(&w, k.box_pk, PK_LEN);
	tidu_json_end_object(&w);

	tidu_json_write_key(&w, "districts");
	tidu_json_begin_array(&w);
	if ((error = prep(city, "SELECT district, epoch, pk FROM district_key "
			  "ORDER BY district, epoch", &st)) < 0)
		goto done;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		unsigned char pk[PK_LEN];

		if ((error = column_bytes(st, 2, pk, sizeof(pk), "district_key.pk")) < 0)
			goto done;
		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "district");
		tidu_json_write_string(&w, (const char *)sqlite3_column_text(st, 0));
		tidu_json_write_key(&w, "epoch");
		tidu_json_write_int64(&w, sqlite3_column_int64(st, 1));
		tidu_json_write_key(&w, "pk");
		put_b64(&w, pk, sizeof(pk));
		tidu_json_end_object(&w);
	}
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(city, rc, _("reading keys"));
		goto done;
	}
	tidu_json_end_array(&w);

	tidu_json_write_key(&w, "devices");
	tidu_json_begin_array(&w);
	for (i = 0; i < ndevs; i++)
		put_device(&w, &devs[i]);
	tidu_json_end_array(&w);
	tidu_json_write_key(&w, "grants");
	if ((error = put_grants(city, &w, devs, ndevs)) < 0)
		goto done;
	tidu_json_end_object(&w);
	if ((error = tidu_json_writer_finish(&w)) < 0 ||
	    (error = doc_wrap(keyring_domain, &payload, k.sign_sk, &doc)) < 0)
		goto done;
	sqlite3_finalize(st);
	if ((error = prep(city, "INSERT INTO keyring(version, doc) VALUES(?1, ?2)",
			  &st)) < 0) {
		st = NULL;
		goto done;
	}
	sqlite3_bind_int64(st, 1, version);
	sqlite3_bind_blob(st, 2, doc.ptr, (int)doc.len, SQLITE_STATIC);
	error = run(city, st);
	st = NULL;
done:
	sqlite3_finalize(st);
	error = tx_end(city, own, error);
	if (error == 0)
		tidu_buf_put(out, doc.ptr, doc.len);
wipe:
	own_wipe(&k);
	free(devs);
	tidu_buf_free(&payload);
	tidu_buf_free(&doc);
	return error;
}

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
	signed_doc_free(&k->doc);
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
	if ((error = doc_open(what, keyring_format, text, len, &k->doc)) < 0)
		return error;
	city = tidu_json_get(k->doc.payload, "city");
	if ((error = get_int(k->doc.payload, "version", what, &k->version)) < 0 ||
	    (error = get_bytes(city, "sign_pk", what, k->city_sign_pk, PK_LEN)) < 0 ||
	    (error = get_bytes(city, "box_pk", what, k->city_box_pk, PK_LEN)) < 0 ||
	    (error = get_text(city, "device", what, k->city_device,
			      sizeof(k->city_device))) < 0)
		goto fail;
	if (k->version < 1) {
		error = malformed(what, _("the version must be 1 or more"));
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

/* Reads and checks districts, devices and grants (after the signature). */
static int keyring_body(keyring *k)
{
	const char *what = _("keyring");
	const tidu_json *p = k->doc.payload, *a, *e, *ra;
	size_t i, n;
	int error;

	if (!(a = get_array(p, "districts", what, &error)) || error)
		return error;
	n = tidu_json_count(a);
	k->keys = tidu_calloc(n + 1, sizeof(*k->keys));
	for (i = 0; i < n; i++) {
		kr_key *key = &k->keys[i];

		e = tidu_json_at(a, i);
		if ((error = get_text(e, "district", what, key->district,
				      sizeof(key->district))) < 0 ||
		    (error = get_int(e, "epoch", what, &key->epoch)) < 0 ||
		    (error = get_bytes(e, "pk", what, key->pk, PK_LEN)) < 0)
			return error;
		if (!tidu_dict_district_name(key->district) || key->epoch < 1 ||
		    find_key(k, key->district, key->epoch))
			return tidu_error_set(TIDU_EINVAL,
				_("invalid keyring: bad or repeated read key of district '%s', epoch %lld"),
				key->district, (long long)key->epoch);
		k->nkeys++;
	}

	if (!(a = get_array(p, "devices", what, &error)) || error)
		return error;
	n = tidu_json_count(a);
	k->devices = tidu_calloc(n + 1, sizeof(*k->devices));
	for (i = 0; i < n; i++) {
		tidu_trust_device *d = &k->devices[i];

		e = tidu_json_at(a, i);
		if ((error = get_text(e, "device", what, d->device,
					      sizeof(d->device))) < 0 ||
		    (error = get_text(e, "district", what, d->district,
					      sizeof(d->district))) < 0 ||
		    (error = get_text(e, "role", what, d->role, sizeof(d->role))) < 0 ||
		    (error = get_text(e, "officer", what, d->officer,
					      sizeof(d->officer))) < 0 ||
		    (error = get_bytes(e, "sign_pk", what, d->sign_pk, PK_LEN)) < 0 ||
		    (error = get_bytes(e, "box_pk", what, d->box_pk, PK_LEN)) < 0 ||
		    (error = check_identity(what, d->device, d->district, d->role,
					    d->officer)) < 0)
			return error;
		ra = tidu_json_get(e, "revoked_after");
		if (tidu_json_typeof(ra) != TIDU_JSON_NULL) {
			error = get_int(e, "revoked_after", what, &d->revoked_after);
			if (error < 0)
				return error;
			d->revoked = 1;
		} else if (!ra) {
			return get_int(e, "revoked_after", what, &d->revoked_after);
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
		k->ndevices++;
	}

	if (!(a = get_array(p, "grants", what, &error)) || error)
		return error;
	n = tidu_json_count(a);
	k->grants = tidu_calloc(n + 1, sizeof(*k->grants));
	for (i = 0; i < n; i++) {
		kr_grant *g = &k->grants[i];

		e = tidu_json_at(a, i);
		if ((error = get_text(e, "device", what, g->device,
					      sizeof(g->device))) < 0 ||
		    (error = get_text(e, "district", what, g->district,
					      sizeof(g->district))) < 0 ||
		    (error = get_int(e, "epoch", what, &g->epoch)) < 0 ||
		    (error = get_bytes(e, "sealed", what, g->sealed, SEALED_LEN)) < 0)
			return error;
		if (!find_device(k, g->device) || !find_key(k, g->district, g->epoch))
			return tidu_error_set(TIDU_EINVAL,
				_("invalid keyring: a grant names device '%s', district '%s', epoch %lld, which it does not list"),
				g->device, g->district, (long long)g->epoch);
		k->ngrants++;
	}
	return 0;
}

/* Verifies the keyring's signer against the pin. *tofu: nothing pinned yet. */
static int keyring_check_signer(tidu_store *s, const keyring *k, int *tofu)
{
	unsigned char pin[PK_LEN], box[PK_LEN];
	char pinned_fp[TIDU_TRUST_FP_SIZE], fp[TIDU_TRUST_FP_SIZE];
	int pinned_key, error;

	*tofu = 0;
	if ((error = pinned_city(s, pinned_fp, pin, box, &pinned_key)) < 0)
		return error;
	tidu_trust_fingerprint(k->city_sign_pk, k->city_box_pk, fp);
	if (pinned_key ? (sodium_memcmp(pin, k->city_sign_pk, sizeof(pin)) != 0 ||
			  sodium_memcmp(box, k->city_box_pk, sizeof(box)) != 0)
		       : (pinned_fp[0] && strcmp(pinned_fp, fp) != 0))
		return tidu_error_set(TIDU_ECORRUPT,
			_("keyring not signed by the pinned city key: it comes from city %s, the pinned city is %s"),
			fp, pinned_fp);
	if (!doc_verify(keyring_domain, &k->doc, k->city_sign_pk))
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

	if ((error = prep(s, "SELECT doc FROM keyring WHERE version=?1", &st)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, k->version);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return tidu_store_sqlerr(s, rc, _("reading keys"));
	}
	{
		const char *blob = sqlite3_column_blob(st, 0);

		error = keyring_open(blob ? blob : "", (size_t)sqlite3_column_bytes(st, 0),
				     &old);
	}
	sqlite3_finalize(st);
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

/* Stores the public key of every epoch and opens the grants to this device. */
static int keyring_store_keys(tidu_store *s, const keyring *k, const own_keys *me,
			      size_t *keys_new)
{
	unsigned char sk[PK_LEN], pk[PK_LEN];
	sqlite3_stmt *st;
	size_t i;
	int error = 0, rc;

	for (i = 0; i < k->nkeys && !error; i++) {
		const kr_key *key = &k->keys[i];

		if ((error = prep(s, "SELECT pk FROM district_key WHERE district=?1 "
				  "AND epoch=?2", &st)) < 0)
			break;
		sqlite3_bind_text(st, 1, key->district, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, key->epoch);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			error = column_bytes(st, 0, pk, sizeof(pk), "district_key.pk");
			if (error == 0 && memcmp(pk, key->pk, sizeof(pk)) != 0)
				error = tidu_error_set(TIDU_ECORRUPT,
					_("the keyring changes the read key of district '%s', epoch %lld"),
					key->district, (long long)key->epoch);
			sqlite3_finalize(st);
			continue;
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			error = tidu_store_sqlerr(s, rc, _("reading keys"));
			break;
		}
		if ((error = prep(s, "INSERT INTO district_key(district, epoch, pk) "
				  "VALUES(?1, ?2, ?3)", &st)) < 0)
			break;
		sqlite3_bind_text(st, 1, key->district, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, key->epoch);
		sqlite3_bind_blob(st, 3, key->pk, PK_LEN, SQLITE_STATIC);
		error = run(s, st);
	}
	for (i = 0; i < k->ngrants && !error; i++) {
		const kr_grant *g = &k->grants[i];
		const kr_key *key = find_key(k, g->district, g->epoch);
		int64_t had;

		if (strcmp(g->device, tidu_store_device(s)) != 0)
			continue;
		if (crypto_box_seal_open(sk, g->sealed, SEALED_LEN, me->box_pk,
					 me->box_sk) != 0 ||
		    crypto_scalarmult_base(pk, sk) != 0 ||
		    sodium_memcmp(pk, key->pk, sizeof(pk)) != 0) {
			error = tidu_error_set(TIDU_ECORRUPT,
				_("the keyring's read key of district '%s', epoch %lld does not open for this device"),
				g->district, (long long)g->epoch);
			break;
		}
		if ((error = prep(s, "SELECT count(*) FROM district_key WHERE district=?1 "
				  "AND epoch=?2 AND sk IS NOT NULL", &st)) < 0)
			break;
		sqlite3_bind_text(st, 1, g->district, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, g->epoch);
		rc = sqlite3_step(st);
		had = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW) {
			error = tidu_store_sqlerr(s, rc, _("reading keys"));
			break;
		}
		if (had)
			continue;
		if ((error = prep(s, "UPDATE district_key SET sk=?3 WHERE district=?1 "
				  "AND epoch=?2", &st)) < 0)
			break;
		sqlite3_bind_text(st, 1, g->district, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, g->epoch);
		sqlite3_bind_blob(st, 3, sk, sizeof(sk), SQLITE_STATIC);
		if ((error = run(s, st)) == 0)
			(*keys_new)++;
	}
	sodium_memzero(sk, sizeof(sk));
	return error;
}

int tidu_trust_keyring_import(tidu_store *s, const char *doc, size_t len,
			      tidu_trust_import *info_out)
{
	tidu_trust_import info;
	const tidu_trust_device *mine;
	sqlite3_stmt *st;
	keyring k;
	own_keys me;
	int64_t current;
	size_t i;
	int tofu = 0, own = 0, error;

	memset(&info, 0, sizeof(info));
	memset(&me, 0, sizeof(me));
	if ((error = keyring_open(doc, len, &k)) < 0)
		return error;
	if ((error = keyring_check_signer(s, &k, &tofu)) < 0 ||
	    (error = keyring_body(&k)) < 0 ||
	    (error = own_load(s, &me)) < 0)
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
	if ((error = tx_begin(s, &own)) < 0)
		goto out;
	if ((error = scalar(s, "SELECT coalesce(max(version), 0) FROM keyring", NULL,
			    &current)) < 0)
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
	if ((error = prep(s, "INSERT INTO keyring(version, doc) VALUES(?1, ?2)", &st)) < 0)
		goto done;
	sqlite3_bind_int64(st, 1, k.version);
	sqlite3_bind_blob(st, 2, doc, (int)len, SQLITE_STATIC);
	if ((error = run(s, st)) < 0 || (error = exec(s, "DELETE FROM device")) < 0)
		goto done;
	for (i = 0; i < k.ndevices && !error; i++)
		error = insert_device(s, &k.devices[i]);
	if (error < 0 ||
	    (error = keyring_store_keys(s, &k, &me, &info.keys_new)) < 0)
		goto done;
	if (tofu) {
		if ((error = secret_put(s, "city_pin", k.city_sign_pk, PK_LEN)) < 0 ||
		    (error = secret_put(s, "city_box_pk", k.city_box_pk, PK_LEN)) < 0 ||
		    (error = secret_put(s, "city_fp", info.city_fingerprint,
					TIDU_TRUST_FP_LEN)) < 0)
			goto done;
		info.pinned = 1;
	}
done:
	error = tx_end(s, own, error);
out:
	own_wipe(&me);
	keyring_free(&k);
	if (error == 0 && info_out)
		*info_out = info;
	return error;
}

/* ---- lookups --------------------------------------------------------------- */

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
		sqlite3_stmt *st = tidu_store_stmt(s, sql[q]);
		int col;

		if (!st)
			return TIDU_ERROR;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			for (col = 0; col < sqlite3_column_count(st); col++) {
				const unsigned char *t = sqlite3_column_text(st, col);

				crypto_generichash_update(&h, t ? t : (const unsigned char *)"",
					t ? strlen((const char *)t) + 1 : 1);
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
	if ((error = prep(s, "SELECT version, doc FROM keyring ORDER BY version DESC LIMIT 1",
			  &st)) < 0)
		return error;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int64(st, 0);
		tidu_buf_put(doc, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tidu_store_sqlerr(s, rc, _("reading the keyring"));
	return 0;
}

int tidu_trust_current_epoch(tidu_store *s, const char *district, int64_t *epoch)
{
	int error;

	if ((error = scalar(s, "SELECT coalesce(max(epoch), 0) FROM district_key "
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
	if (!is_root(s)) {
		if ((error = scalar(s, "SELECT coalesce(max(version), 0) FROM keyring",
				    NULL, &version)) < 0 ||
		    (error = scalar(s, "SELECT count(*) FROM device WHERE device=?1",
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
	if ((error = secret_get(s, "city_box_pk", city_box, sizeof(city_box), &found)) < 0)
		return error;
	if (!found)
		return tidu_error_set(TIDU_ENOTFOUND, "%s",
			_("this device is not enrolled: import the city's keyring first"));
	if ((error = tidu_trust_current_epoch(s, district, &epoch)) < 0 ||
	    (error = prep(s, "SELECT pk FROM district_key WHERE district=?1 AND epoch=?2",
			  &st)) < 0)
		return error;
	sqlite3_bind_text(st, 1, district, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, epoch);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		error = column_bytes(st, 0, pks_out[0], PK_LEN,
				     "district_key.pk");
	else
		error = tidu_store_sqlerr(s, rc, _("reading keys"));
	sqlite3_finalize(st);
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
	if ((error = scalar(s, "SELECT count(*) FROM district_key WHERE sk IS NOT NULL",
			    NULL, &count)) < 0 ||
	    (error = prep(s, "SELECT district, epoch, pk, sk FROM district_key "
			  "WHERE sk IS NOT NULL ORDER BY district, epoch", &st)) < 0)
		return error;
	/* Allocated once: a realloc would leave copies of secret keys behind. */
	cap = (size_t)count + 1;
	kps = tidu_calloc(cap, sizeof(*kps));
	while (*n < (size_t)count && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_trust_keypair *kp = &kps[*n];

		copy_text(kp->district, sizeof(kp->district), sqlite3_column_text(st, 0));
		kp->epoch = sqlite3_column_int64(st, 1);
		error = column_bytes(st, 2, kp->pk, PK_LEN, "district_key.pk");
		if (error == 0)
			error = column_bytes(st, 3, kp->sk, PK_LEN, "district_key.sk");
		if (error < 0)
			break;
		(*n)++;
	}
	if (!error && rc != SQLITE_ROW && rc != SQLITE_DONE)
		error = tidu_store_sqlerr(s, rc, _("reading keys"));
	sqlite3_finalize(st);
	if (!error && is_root(s)) {
		if ((error = own_load(s, &k)) == 0) {
			tidu_trust_keypair *kp = &kps[(*n)++];

			memcpy(kp->pk, k.box_pk, PK_LEN);
			memcpy(kp->sk, k.box_sk, PK_LEN);
			own_wipe(&k);
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

/* ---- files ------------------------------------------------------------------ */

int tidu_trust_doc_read(const char *path, tidu_buf *out)
{
	return tidu_file_read(path, TIDU_TRUST_DOC_MAX, out);
}

int tidu_trust_doc_write(const char *path, const char *data, size_t len)
{
	/* A public document: readable like any file the officer writes. */
	return tidu_file_write(path, data, len, 0644);
}
