/*
 * The keyring through the repository: devices import
 * refs/heads/city/keyring, the city publishes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "tidu/i18n.h"
#include "tidu/json.h"
#include "core/sync/sync_int.h"

/* The version in a keyring document's payload (0 if unreadable). */
static int64_t doc_version(const char *doc, size_t len)
{
	tidu_json *j = NULL;
	int64_t v = 0;

	if (tidu_json_parse(doc, len, &j) == 0 &&
	    tidu_json_as_int64(tidu_json_get(tidu_json_get(j, "payload"), "version"), &v) < 0)
		v = 0;
	tidu_json_free(j);
	tidu_error_clear();
	return v;
}

/* Device: imports the keyring of refs/heads/city/keyring if it is newer. */
int sync_import_keyring(sync_ctx *c)
{
	const git_oid *tip = sync_server_head(&c->net, CITY_KEYRING_REF);
	tidu_trust_import info;
	git_blob *blob = NULL;
	git_oid blob_oid;
	char hex[OID_HEX], *seen = NULL;
	int64_t version;
	int error;

	if (!tip) {
		sync_note(c->rep, "%s", _("the repository has no keyring yet: the city publishes it with 'tidu admin repo-init' or 'tidu sync'"));
		return 0;
	}
	if ((error = sync_read_file(&c->local, tip, KEYRING_FILE, &blob, &blob_oid)) < 0)
		goto done;
	if (error == 1) {
		sync_refuse(c->rep, _("'%s' holds no %s"), CITY_KEYRING_REF, KEYRING_FILE);
		error = 0;
		goto done;
	}
	sync_oid_hex(&blob_oid, hex);
	if ((error = sync_state_keyring_seen(c->s, c->net.remote, &seen)) < 0)
		goto done;
	if (seen && !strcmp(seen, hex))
		goto done; /* imported already */
	/* The signature is checked first: a forged keyring is refused whatever its version. */
	error = tidu_trust_keyring_import(c->s, git_blob_rawcontent(blob),
					  (size_t)git_blob_rawsize(blob), &info);
	if (error == TIDU_EINVAL &&
	    (version = doc_version(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob))) &&
	    version < c->keyring) {
		/* Signed, but older than ours (ours came another way): keep ours. */
		sync_note(c->rep, _("the repository's keyring (version %lld) is older than this store's (%lld): kept this store's"),
		     (long long)version, (long long)c->keyring);
		error = 0;
		goto done;
	}
	if (error == TIDU_ECORRUPT || error == TIDU_EINVAL) {
		sync_refuse(c->rep, _("keyring on '%s' refused: %s"), CITY_KEYRING_REF,
		       tidu_error_message());
		tidu_error_clear();
		error = 0;
		goto done;
	}
	if (error < 0 || (error = sync_state_set_keyring_seen(c->s, c->net.remote, hex)) < 0)
		goto done;
	if (!info.current)
		c->rep->keyring_version = info.version;
	c->rep->city_pinned = info.pinned;
	snprintf(c->rep->city_fingerprint, sizeof(c->rep->city_fingerprint), "%s",
		 info.city_fingerprint);
	c->keyring = info.version > c->keyring ? info.version : c->keyring;
done:
	git_blob_free(blob);
	free(seen);
	return error;
}

/*
 * City: exports a new keyring version when devices or keys changed since
 * the last one (admissions, revocations), then commits the latest on
 * refs/heads/city/keyring.
 */
int sync_publish_keyring(sync_ctx *c)
{
	tidu_buf doc = TIDU_BUF_INIT, want = TIDU_BUF_INIT, msg = TIDU_BUF_INIT;
	char state[TIDU_TRUST_DIGEST_HEX], *have = NULL;
	int64_t latest = 0;
	int made, error;

	if ((error = tidu_trust_ensure_keys(c->s)) < 0 ||
	    (error = tidu_trust_state_digest(c->s, state)) < 0)
		return error;
	if ((error = tidu_trust_keyring_latest(c->s, &latest, &doc)) < 0)
		goto done;
	tidu_buf_printf(&want, "%lld:%s", (long long)latest, state);
	if ((error = sync_state_keyring_state(c->s, &have)) < 0)
		goto done;
	if (!latest || !have || strcmp(have, want.ptr)) {
		tidu_trust_id id;

		/* The new version and the state it was made from: one transaction. */
		tidu_buf_clear(&doc);
		if ((error = tidu_store_begin(c->s)) < 0)
			goto done;
		if ((error = tidu_trust_keyring_export(c->s, &doc)) < 0 ||
		    (error = tidu_trust_identity(c->s, &id)) < 0) {
			tidu_store_rollback(c->s);
			goto done;
		}
		latest = id.keyring_version;
		tidu_buf_clear(&want);
		tidu_buf_printf(&want, "%lld:%s", (long long)latest, state);
		if ((error = sync_state_set_keyring_state(c->s, want.ptr)) < 0 ||
		    (error = tidu_store_commit(c->s)) < 0) {
			tidu_store_rollback(c->s);
			goto done;
		}
	}
	c->keyring = latest;
	tidu_buf_printf(&msg, "keyring version %lld\n", (long long)latest);
	if ((error = sync_commit_file(c, CITY_KEYRING_REF, KEYRING_FILE, doc.ptr, doc.len,
				 msg.ptr, &made)) < 0)
		goto done;
	if (made)
		c->rep->keyring_version = latest;
done:
	free(have);
	tidu_buf_free(&doc);
	tidu_buf_free(&want);
	tidu_buf_free(&msg);
	return error;
}
