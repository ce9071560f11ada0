/*
 * Trust, signed documents: the envelope every trust document travels in
 * (enrollment requests, keyrings), its canonical form and signature, the
 * typed fields of a payload, fingerprints, and documents as files.
 * What the documents say is read in enroll.c and keyring.c.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/trust/trust_int.h"
#include "tidu/alloc.h"
#include "tidu/clock.h"
#include "tidu/dict.h"
#include "tidu/file.h"
#include "tidu/i18n.h"
#include "tidu/utf8.h"

static const char fp_domain[] = "tidu-fingerprint-v1";
static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

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

void trust_now_text(char out[32])
{
	int64_t ms = tidu_clock_now_ms();
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "1970-01-01T00:00:00Z");
}

void trust_put_b64(tidu_json_writer *w, const unsigned char *bin, size_t len)
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

int trust_doc_wrap(const char *domain, const tidu_buf *payload,
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
	trust_put_b64(&w, sig, sizeof(sig));
	tidu_json_end_object(&w);
	if ((error = tidu_json_writer_finish(&w)) == 0)
		tidu_buf_putc(out, '\n');
	tidu_json_free(tree);
	tidu_buf_free(&m);
	return error;
}

void trust_signed_doc_free(signed_doc *d)
{
	tidu_json_free(d->tree);
	tidu_buf_free(&d->canon);
	memset(d, 0, sizeof(*d));
}

int trust_malformed(const char *what, const char *detail)
{
	return tidu_error_set(TIDU_EINVAL, _("invalid %s: %s"), what, detail);
}

int trust_doc_open(const char *what, const char *format, const char *text,
		   size_t len, signed_doc *d)
{
	const tidu_json *sig, *fmt, *fv;
	tidu_json_writer w;
	int64_t version;
	int error;

	memset(d, 0, sizeof(*d));
	if (len > TIDU_TRUST_DOC_MAX)
		return trust_malformed(what, _("the document is too large"));
	if ((error = tidu_json_parse(text, len, &d->tree)) < 0) {
		char *m = tidu_strdup(tidu_error_message());

		error = trust_malformed(what, m);
		free(m);
		return error;
	}
	d->payload = tidu_json_get(d->tree, "payload");
	sig = tidu_json_get(d->tree, "signature");
	if (tidu_json_typeof(d->tree) != TIDU_JSON_OBJECT ||
	    tidu_json_count(d->tree) != 2 ||
	    tidu_json_typeof(d->payload) != TIDU_JSON_OBJECT ||
	    tidu_json_typeof(sig) != TIDU_JSON_STRING) {
		error = trust_malformed(what, _("expected an object with 'payload' and 'signature'"));
		goto fail;
	}
	if (get_b64(tidu_json_as_string(sig), d->sig, SIG_LEN) < 0) {
		error = trust_malformed(what, _("the signature is not 64 bytes of base64"));
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
	/*
	 * Signed payloads are canonical in the minimal-escape form, the one
	 * every tidu has signed: a payload re-writes to the bytes that were
	 * signed whichever version signed it.
	 */
	tidu_json_writer_init(&w, &d->canon, TIDU_JSON_MINIMAL_ESCAPES);
	json_emit(&w, d->payload);
	if ((error = tidu_json_writer_finish(&w)) < 0)
		goto fail;
	return 0;
fail:
	trust_signed_doc_free(d);
	return error;
}

int trust_doc_verify(const char *domain, const signed_doc *d,
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

int trust_get_int(const tidu_json *o, const char *key, const char *what,
		  int64_t *out)
{
	const tidu_json *v = tidu_json_get(o, key);

	if (tidu_json_typeof(v) == TIDU_JSON_NUMBER && tidu_json_as_int64(v, out) == 0)
		return 0;
	return tidu_error_set(TIDU_EINVAL,
		_("invalid %s: field '%s' is missing or not an integer"), what, key);
}

int trust_get_bytes(const tidu_json *o, const char *key, const char *what,
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

int trust_get_text(const tidu_json *o, const char *key, const char *what,
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

/*
 * What is wrong with officer name `name`, written to `why`; 0 if nothing.
 * One rule for init, enroll request and every document read.
 */
static int officer_problem(const char *name, char *why, size_t size)
{
	size_t len = strlen(name), i;
	long at;
	uint32_t cp = 0;

	for (i = 0; i < len && (name[i] == ' ' || !strncmp(name + i, "\xe3\x80\x80", 3));)
		i += name[i] == ' ' ? 1 : 3;
	if (i == len) {
		snprintf(why, size, "%s", _("the officer's name is empty"));
		return -1;
	}
	if (len > TIDU_TRUST_OFFICER_MAX) {
		snprintf(why, size, _("the officer's name is longer than %d bytes (%zu)"),
			 TIDU_TRUST_OFFICER_MAX, len);
		return -1;
	}
	if (!tidu_utf8_valid(name, len)) {
		snprintf(why, size, "%s", _("the officer's name is not valid UTF-8"));
		return -1;
	}
	if ((at = tidu_utf8_find_control(name, len, 0)) >= 0) {
		tidu_utf8_decode(name + at, len - (size_t)at, &cp);
		snprintf(why, size,
			 _("the officer's name has the control character U+%04X at byte %ld"),
			 (unsigned)cp, at);
		return -1;
	}
	return 0;
}

int tidu_trust_officer_check(const char *name)
{
	char why[160];

	if (officer_problem(name, why, sizeof(why)) < 0)
		return tidu_error_set(TIDU_EINVAL, _("invalid officer name: %s"), why);
	return 0;
}

int trust_check_identity(const char *what, const char *device, const char *district,
			 const char *role, const char *officer)
{
	char why[160];

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
	/* Never shown raw: a name with controls could forge the admin's screen. */
	if (officer_problem(officer, why, sizeof(why)) < 0)
		return tidu_error_set(TIDU_EINVAL, _("invalid %s of device '%s': %s"),
				      what, device, why);
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
