/*
 * Trust, the city's other signed documents (rule packs now; forms and
 * targets later): signed with the city key like the keyring, verified on
 * every store against the pinned city key. What a document says is its
 * owning module's business (docs/architecture.md, "Where new things go").
 */
#include <string.h>

#include "core/trust/trust_int.h"
#include "tidu/i18n.h"

int tidu_trust_city_sign(tidu_store *city, const char *domain, const tidu_buf *payload,
			 tidu_buf *out)
{
	own_keys k;
	int error;

	if ((error = trust_require_city(city, _("sign a city document"))) < 0)
		return error;
	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialise libsodium"));
	if ((error = trust_own_load(city, &k)) < 0)
		return error;
	error = trust_doc_wrap(domain, payload, k.sign_sk, out);
	trust_own_wipe(&k);
	return error;
}

void tidu_trust_city_payload_begin(tidu_json_writer *w, tidu_buf *payload,
				   const char *format, const char *list)
{
	tidu_json_writer_init(w, payload, TIDU_JSON_MINIMAL_ESCAPES);
	tidu_json_begin_object(w);
	tidu_json_write_key(w, "format");
	tidu_json_write_string(w, format);
	tidu_json_write_key(w, "format_version");
	tidu_json_write_int64(w, FORMAT_VERSION);
	tidu_json_write_key(w, list);
	tidu_json_begin_array(w);
}

int tidu_trust_city_payload_sign(tidu_store *city, tidu_json_writer *w, tidu_buf *payload,
				 const char *domain, size_t count, tidu_buf *doc)
{
	int error;

	tidu_json_end_array(w);
	tidu_json_end_object(w);
	if ((error = tidu_json_writer_finish(w)) < 0 || !count)
		return error;
	return tidu_trust_city_sign(city, domain, payload, doc);
}

int tidu_trust_city_open(tidu_store *s, const char *what, const char *domain,
			 const char *format, const char *list, const char *text, size_t len,
			 tidu_json **tree, const tidu_json **items)
{
	unsigned char pin[PK_LEN], box[PK_LEN];
	char fp[TIDU_TRUST_FP_SIZE];
	signed_doc d;
	int pinned, error;

	*tree = NULL;
	*items = NULL;
	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialise libsodium"));
	if ((error = trust_pinned_city(s, fp, pin, box, &pinned)) < 0)
		return error;
	if (!pinned)
		return tidu_error_set(TIDU_ENOTFOUND,
			_("%s not read: this store has no city key yet (it comes with the keyring)"),
			what);
	if ((error = trust_doc_open(what, format, text, len, &d)) < 0)
		return error;
	if (!trust_doc_verify(domain, &d, pin)) {
		error = tidu_error_set(TIDU_ECORRUPT,
			_("the %s is not signed by the pinned city key (%s): altered, or from another city"),
			what, fp);
	} else if (tidu_json_typeof(tidu_json_get(d.payload, list)) != TIDU_JSON_ARRAY) {
		error = tidu_error_set(TIDU_EINVAL, _("invalid %s: '%s' is not a list"), what, list);
	} else {
		/* The verified tree is kept: its payload is what was signed. */
		*tree = d.tree;
		*items = tidu_json_get(d.payload, list);
		d.tree = NULL;
	}
	trust_signed_doc_free(&d);
	return error;
}

void tidu_city_import_refuse(tidu_city_import *rep, const char *why)
{
	if (rep->refused.len)
		tidu_buf_puts(&rep->refused, "; ");
	tidu_buf_puts(&rep->refused, why);
	rep->nrefused++;
}

void tidu_city_import_free(tidu_city_import *rep)
{
	tidu_buf_free(&rep->refused);
	memset(rep, 0, sizeof(*rep));
}
