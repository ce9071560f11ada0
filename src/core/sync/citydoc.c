/*
 * The city's other signed documents through the repository, one ref each
 * (a table below): the rule packs on refs/heads/city/rules (rules.h) and
 * the survey forms on refs/heads/city/forms (forms.h), the year's targets
 * on refs/heads/city/targets (pool.h), the service institutions on
 * refs/heads/city/services (service.h). The city commits the
 * document of what it published; devices verify it against the pinned city
 * key and take what is new. Modelled on keyring.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "tidu/forms.h"
#include "tidu/i18n.h"
#include "tidu/pool.h"
#include "tidu/rules.h"
#include "tidu/service.h"
#include "core/sync/sync_int.h"

typedef struct {
	const char *kind;   /* the state key: sync.<kind>.<remote> */
	const char *ref, *file;
	const char *what;   /* N_() for messages: "rule packs", "forms" */
	int (*import)(tidu_store *s, const char *doc, size_t len, tidu_city_import *rep);
	int (*export)(tidu_store *city, tidu_buf *doc, size_t *count);
	size_t taken_at, published_at; /* offsets of the report's counts */
} citydoc;

static const citydoc docs[] = {
	{"rules", CITY_RULES_REF, RULES_FILE, N_("rule packs"), tidu_rules_import, tidu_rules_export,
	 offsetof(tidu_sync_report, rules_taken), offsetof(tidu_sync_report, rules_published)},
	{"forms", CITY_FORMS_REF, FORMS_FILE, N_("forms"), tidu_forms_import_doc,
	 tidu_forms_export, offsetof(tidu_sync_report, forms_taken),
	 offsetof(tidu_sync_report, forms_published)},
	{"targets", CITY_TARGETS_REF, TARGETS_FILE, N_("targets"), tidu_pool_targets_import,
	 tidu_pool_targets_export, offsetof(tidu_sync_report, targets_taken),
	 offsetof(tidu_sync_report, targets_published)},
	{"services", CITY_SERVICES_REF, SERVICES_FILE, N_("service institutions"),
	 tidu_service_import_doc, tidu_service_export, offsetof(tidu_sync_report, services_taken),
	 offsetof(tidu_sync_report, services_published)},
};

#define NDOCS (sizeof(docs) / sizeof(docs[0]))

static size_t *count_at(tidu_sync_report *rep, size_t off)
{
	return (size_t *)(void *)((char *)rep + off);
}

int sync_citydoc_is_ref(const char *name)
{
	size_t i;

	for (i = 0; i < NDOCS; i++)
		if (!strcmp(name, docs[i].ref))
			return 1;
	return 0;
}

const char *sync_citydoc_ref(size_t i)
{
	return i < NDOCS ? docs[i].ref : NULL;
}

/* Device: imports one document when its file changed since the last import. */
static int import_one(sync_ctx *c, const citydoc *d)
{
	const git_oid *tip = sync_server_head(&c->net, d->ref);
	tidu_city_import ir;
	git_blob *blob = NULL;
	git_oid blob_oid;
	char hex[OID_HEX], *seen = NULL;
	int error;

	memset(&ir, 0, sizeof(ir));
	if (!tip)
		return 0; /* the city has published none */
	if ((error = sync_read_file(&c->local, tip, d->file, &blob, &blob_oid)) < 0)
		goto done;
	if (error == 1) {
		sync_refuse(c->rep, _("'%s' holds no %s"), d->ref, d->file);
		error = 0;
		goto done;
	}
	sync_oid_hex(&blob_oid, hex);
	if ((error = sync_state_doc_seen(c->s, d->kind, c->net.remote, &seen)) < 0)
		goto done;
	if (seen && !strcmp(seen, hex))
		goto done; /* imported already */
	if (git_blob_rawsize(blob) > (git_object_size_t)TIDU_TRUST_DOC_MAX) {
		sync_refuse(c->rep, _("%s on '%s' refused: the file is larger than %zu bytes"),
			    _(d->what), d->ref, TIDU_TRUST_DOC_MAX);
		error = 0;
		goto done;
	}
	error = d->import(c->s, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), &ir);
	if (error == TIDU_ENOTFOUND) {
		/* No city key yet (not enrolled): the next sync reads it. */
		tidu_error_clear();
		error = 0;
		goto done;
	}
	if (error == TIDU_ECORRUPT || error == TIDU_EINVAL) {
		sync_refuse(c->rep, _("%s on '%s' refused: %s"), _(d->what), d->ref,
			    tidu_error_message());
		tidu_error_clear();
		error = 0;
		goto done;
	}
	if (error < 0)
		goto done;
	*count_at(c->rep, d->taken_at) += ir.taken;
	if (ir.nrefused) {
		/* Signed by the city but not usable here: read again next time (a newer tidu may take it). */
		sync_note(c->rep, _("%zu %s of the city not used (is this tidu older than the city's?): %s"),
			  ir.nrefused, _(d->what), tidu_buf_cstr(&ir.refused));
		goto done;
	}
	error = sync_state_set_doc_seen(c->s, d->kind, c->net.remote, hex);
done:
	tidu_city_import_free(&ir);
	git_blob_free(blob);
	free(seen);
	return error;
}

int sync_import_citydocs(sync_ctx *c)
{
	size_t i;
	int error = 0;

	for (i = 0; i < NDOCS && !error; i++)
		error = import_one(c, &docs[i]);
	return error;
}

/* City: commits the document of what it published on each ref. */
int sync_publish_citydocs(sync_ctx *c)
{
	tidu_buf doc = TIDU_BUF_INIT, msg = TIDU_BUF_INIT;
	size_t i, count;
	int made, error = 0;

	for (i = 0; i < NDOCS && !error; i++) {
		tidu_buf_clear(&doc);
		tidu_buf_clear(&msg);
		count = 0;
		made = 0;
		if ((error = docs[i].export(c->s, &doc, &count)) < 0 || !count)
			continue;
		tidu_buf_printf(&msg, "%s: %zu\n", docs[i].kind, count);
		if ((error = sync_commit_file(c, docs[i].ref, docs[i].file, doc.ptr, doc.len,
					      msg.ptr, &made)) == 0 && made)
			*count_at(c->rep, docs[i].published_at) = count;
	}
	tidu_buf_free(&doc);
	tidu_buf_free(&msg);
	return error;
}
