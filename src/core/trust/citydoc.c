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

int tidu_trust_city_open(tidu_store *s, const char *what, const char *domain,
			 const char *format, const char *text, size_t len, tidu_buf *payload)
{
	unsigned char pin[PK_LEN], box[PK_LEN];
	char fp[TIDU_TRUST_FP_SIZE];
	signed_doc d;
	int pinned, error;

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
	if (!trust_doc_verify(domain, &d, pin))
		error = tidu_error_set(TIDU_ECORRUPT,
			_("the %s is not signed by the pinned city key (%s): altered, or from another city"),
			what, fp);
	else
		tidu_buf_put(payload, d.canon.ptr, d.canon.len);
	trust_signed_doc_free(&d);
	return error;
}
