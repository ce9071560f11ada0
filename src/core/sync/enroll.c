/*
 * Enrollment through the repository: a device pushes its request, the
 * city gathers, lists and admits them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "tidu/alloc.h"
#include "tidu/i18n.h"
#include "core/sync/sync_int.h"

/* Device: makes (once) and pushes its enrollment request. */
int sync_prepare_enroll(sync_ctx *c, char **spec)
{
	git_oid tip, tree, blob;
	tidu_buf doc = TIDU_BUF_INIT, msg = TIDU_BUF_INIT, s = TIDU_BUF_INIT;
	int have, error = 0;

	*spec = NULL;
	if (sync_server_head(&c->net, c->enroll_ref))
		return 0; /* the city has it (or had it) */
	if ((have = sync_ref_get(&c->local, c->enroll_ref, &tip)) < 0)
		return have;
	if (have == 1) {
		tidu_buf_printf(&msg, "enrollment request of %s\n", c->device);
		if ((error = tidu_trust_enroll_request(c->s, &doc)) < 0 ||
		    (error = sync_one_file_tree(&c->local, REQUEST_FILE, doc.ptr, doc.len, &tree,
						&blob)) < 0 ||
		    (error = sync_commit_tree(&c->local, &tree, NULL, msg.ptr, &tip)) < 0 ||
		    (error = sync_persist(&c->local)) < 0 ||
		    (error = sync_ref_set(&c->local, c->enroll_ref, &tip)) < 0)
			goto done;
	}
	tidu_buf_printf(&s, "%s:%s", c->enroll_ref, c->enroll_ref);
	*spec = tidu_buf_detach(&s);
done:
	tidu_buf_free(&doc);
	tidu_buf_free(&msg);
	tidu_buf_free(&s);
	return error;
}

/* City: one enrollment ref; a request, verified, is kept for approval. */
static int gather_one(sync_ctx *c, const sync_head *h)
{
	const char *name = h->name;
	char district[TIDU_CHANGESET_MAX_DISTRICT + 1], device[TIDU_DEVICE_ID_LEN + 1];
	char hex[OID_HEX];
	tidu_trust_request info;
	tidu_trust_device known_dev;
	git_blob *blob = NULL;
	git_oid blob_oid;
	int known, error;

	if (strncmp(name, "refs/heads/enroll/", 18) ||
	    !sync_split_device_ref(name + 18, district, sizeof(district), device,
				   sizeof(device)))
		return 0;
	/* A device of the keyring (enrolled, maybe revoked since): done with. */
	if ((error = tidu_trust_device_lookup(c->s, device, &known_dev)) == 0)
		return 0;
	if (error != TIDU_ENOTFOUND)
		return error;
	tidu_error_clear();
	error = sync_read_file(&c->local, &h->oid, REQUEST_FILE, &blob, &blob_oid);
	if (error != 0) {
		git_blob_free(blob);
		if (error == 1 || error == TIDU_ECORRUPT) {
			tidu_error_clear();
			return 0; /* not a request: ignored */
		}
		return error;
	}
	sync_oid_hex(&blob_oid, hex);
	if ((known = sync_state_request_known(c->s, hex)) == 0)
		known = sync_state_refused_before(c->s, hex, c->keyring);
	if (known != 0) {
		git_blob_free(blob);
		return known < 0 ? known : 0;
	}
	error = tidu_trust_admit(c->s, git_blob_rawcontent(blob),
				 (size_t)git_blob_rawsize(blob), &info, 0);
	if (error == 0 && (strcmp(info.device, device) || strcmp(info.district, district))) {
		error = tidu_error_set(TIDU_ECORRUPT,
			_("it is the request of device '%s' of district %s"), info.device,
			info.district);
	}
	if (error == TIDU_EINVAL || error == TIDU_ECORRUPT || error == TIDU_EEXISTS) {
		sync_refuse(c->rep, _("enrollment request on '%s' refused: %s"), name,
			    tidu_error_message());
		error = sync_state_remember_refused(c->s, hex, device, 0, "rejected",
						    tidu_error_message(), c->keyring);
		tidu_error_clear();
	} else if (error == 0 && !info.enrolled) {
		error = sync_state_request_keep(c->s, device, name, hex,
						git_blob_rawcontent(blob),
						(size_t)git_blob_rawsize(blob));
		c->rep->requests_new++;
	}
	git_blob_free(blob);
	return error;
}

/* City: verifies the requests on refs/heads/enroll/... and keeps them for approval. */
int sync_gather_requests(sync_ctx *c)
{
	size_t i;
	int error;

	for (i = 0; i < c->net.nheads; i++)
		if ((error = gather_one(c, &c->net.heads[i])) < 0)
			return error;
	return sync_state_request_count(c->s, &c->rep->requests);
}

/* ---- requests waiting on the city ---------------------------------------- */

int tidu_sync_requests(tidu_store *city, tidu_sync_request **out, size_t *n)
{
	sync_state_request *rows = NULL;
	tidu_sync_request *v = NULL;
	size_t nrows = 0, i;
	int error = 0;

	*out = NULL;
	*n = 0;
	if (strcmp(tidu_store_role(city), "city"))
		return tidu_error_set(TIDU_EINVAL,
			_("enrollment requests are approved on the city store: this store's role is '%s'"),
			tidu_store_role(city));
	if ((error = sync_state_requests(city, &rows, &nrows)) < 0)
		return error;
	for (i = 0; i < nrows; i++) {
		tidu_sync_request r;

		memset(&r, 0, sizeof(r));
		error = tidu_trust_admit(city, rows[i].doc.ptr, rows[i].doc.len, &r.req, 0);
		if (error < 0 && error != TIDU_EINVAL && error != TIDU_ECORRUPT &&
		    error != TIDU_EEXISTS)
			break;
		if (error < 0 || r.req.enrolled) {
			/* Enrolled meanwhile, or no longer admissible: forget it. */
			tidu_error_clear();
			if ((error = sync_state_request_forget(city, rows[i].device)) < 0)
				break;
			continue;
		}
		snprintf(r.ref, sizeof(r.ref), "%s", rows[i].ref);
		r.received = rows[i].received;
		v = tidu_reallocarray(v, *n + 1, sizeof(*v));
		v[(*n)++] = r;
	}
	sync_state_requests_free(rows, nrows);
	if (error < 0) {
		free(v);
		*n = 0;
		return error;
	}
	*out = v;
	return 0;
}

int tidu_sync_request_admit(tidu_store *city, const char *device,
			    tidu_trust_request *info_out)
{
	tidu_buf doc = TIDU_BUF_INIT;
	int error;

	if ((error = tidu_store_begin(city)) < 0)
		return error;
	if ((error = sync_state_request_doc(city, device, &doc)) == 1) {
		error = tidu_error_set(TIDU_ENOTFOUND,
			_("no enrollment request of device '%s' waits: run 'tidu sync' to fetch requests"),
			device);
		goto done;
	}
	if (error < 0 ||
	    (error = tidu_trust_admit(city, doc.ptr, doc.len, info_out, 1)) < 0 ||
	    (error = sync_state_request_forget(city, device)) < 0)
		goto done;
	error = tidu_store_commit(city);
done:
	if (error < 0)
		tidu_store_rollback(city);
	tidu_buf_free(&doc);
	return error;
}
