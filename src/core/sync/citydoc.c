/*
 * The city's other signed documents through the repository: the rule packs
 * on refs/heads/city/rules (rules.h). The city commits the document of its
 * published packs; devices verify it against the pinned city key and take
 * the packs newer than theirs. Modelled on keyring.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "tidu/i18n.h"
#include "tidu/rules.h"
#include "core/sync/sync_int.h"

/* Device: imports the rule packs of refs/heads/city/rules when the file changed. */
int sync_import_rules(sync_ctx *c)
{
	const git_oid *tip = sync_server_head(&c->net, CITY_RULES_REF);
	tidu_rules_import_report ir;
	git_blob *blob = NULL;
	git_oid blob_oid;
	char hex[OID_HEX], *seen = NULL;
	int error;

	memset(&ir, 0, sizeof(ir));
	if (!tip)
		return 0; /* the city has published no pack of its own */
	if ((error = sync_read_file(&c->local, tip, RULES_FILE, &blob, &blob_oid)) < 0)
		goto done;
	if (error == 1) {
		sync_refuse(c->rep, _("'%s' holds no %s"), CITY_RULES_REF, RULES_FILE);
		error = 0;
		goto done;
	}
	sync_oid_hex(&blob_oid, hex);
	if ((error = sync_state_rules_seen(c->s, c->net.remote, &seen)) < 0)
		goto done;
	if (seen && !strcmp(seen, hex))
		goto done; /* imported already */
	if (git_blob_rawsize(blob) > (git_object_size_t)TIDU_TRUST_DOC_MAX) {
		sync_refuse(c->rep, _("rule packs on '%s' refused: the file is larger than %zu bytes"),
			    CITY_RULES_REF, TIDU_TRUST_DOC_MAX);
		error = 0;
		goto done;
	}
	error = tidu_rules_import(c->s, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob),
				  &ir);
	if (error == TIDU_ENOTFOUND) {
		/* No city key yet (not enrolled): the next sync reads them. */
		tidu_error_clear();
		error = 0;
		goto done;
	}
	if (error == TIDU_ECORRUPT || error == TIDU_EINVAL) {
		sync_refuse(c->rep, _("rule packs on '%s' refused: %s"), CITY_RULES_REF,
			    tidu_error_message());
		tidu_error_clear();
		error = 0;
		goto done;
	}
	if (error < 0)
		goto done;
	c->rep->rules_taken += ir.taken;
	if (ir.nrefused) {
		/* Signed by the city but not readable here: a newer tidu may be needed. Read again next time. */
		sync_note(c->rep, _("%zu rule packs of the city not used (is this tidu older than the city's?): %s"),
			  ir.nrefused, tidu_buf_cstr(&ir.refused));
		goto done;
	}
	error = sync_state_set_rules_seen(c->s, c->net.remote, hex);
done:
	tidu_rules_import_report_free(&ir);
	git_blob_free(blob);
	free(seen);
	return error;
}

/* City: commits the document of its published packs on refs/heads/city/rules. */
int sync_publish_rules(sync_ctx *c)
{
	tidu_buf doc = TIDU_BUF_INIT;
	size_t count = 0;
	int made = 0, error;

	if ((error = tidu_rules_export(c->s, &doc, &count)) < 0 || !count)
		goto done;
	if ((error = sync_commit_file(c, CITY_RULES_REF, RULES_FILE, doc.ptr, doc.len,
				      "rule packs\n", &made)) < 0)
		goto done;
	if (made)
		c->rep->rules_published = count;
done:
	tidu_buf_free(&doc);
	return error;
}
