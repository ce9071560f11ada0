#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tidu/repo.h"
#include "tidu/trust.h"

typedef struct {
	const char *out, *officer;
} enroll_opts;

/* What the option tables point into; never written (cli_cmd.defaults). */
static enroll_opts enroll_defaults;

static const cli_opt request_optv[] = {
	CLI_STRING("out", "FILE", N_("write the request to FILE (default: standard output)"),
		   enroll_defaults, out),
	CLI_STRING("officer", "NAME",
		   N_("ask the city to correct this device's officer name to NAME"),
		   enroll_defaults, officer),
	CLI_OPT_END,
};

/* tidu enroll request [--out FILE] [--officer NAME] */
static int enroll_request(cli_run *r)
{
	const char *out = ((const enroll_opts *)r->opts)->out,
		   *officer = ((const enroll_opts *)r->opts)->officer;
	tidu_buf doc = TIDU_BUF_INIT;
	tidu_store *s = r->store;
	tidu_trust_id id;
	int code = EXIT_OK, error;

	if ((error = tidu_trust_identity(s, &id)) < 0 ||
	    (error = tidu_trust_enroll_request_as(s, officer ? officer : tidu_store_officer(s),
						  &doc)) < 0 ||
	    (out && (error = tidu_trust_doc_write(out, doc.ptr, doc.len)) < 0)) {
		code = cli_fail(error);
		goto done;
	}
	if (out) {
		printf(_("Wrote the enrollment request of device %s to %s.\n"), id.device,
		       cli_safe(out));
		printf(_("Fingerprint: %s (the city checks it with you before approving)\n"),
		       id.fingerprint);
	} else {
		fwrite(doc.ptr, 1, doc.len, stdout);
		fprintf(stderr, _("Fingerprint: %s (the city checks it with you before approving)\n"),
			id.fingerprint);
	}
	if (officer && strcmp(officer, tidu_store_officer(s)))
		fprintf(stderr, _("The request asks the city to change the officer's name from '%s' to '%s': the city approves it with 'tidu admin enroll FILE', then import the new keyring.\n"),
			cli_safe(tidu_store_officer(s)), cli_safe(officer));
	if (fflush(stdout) != 0)
		code = cli_error(EXIT_FAIL, "%s", _("cannot write to standard output"));
done:
	tidu_buf_free(&doc);
	return code;
}

/*
 * tidu enroll [REMOTE]: publishes the request through the central
 * repository. It is a sync: a device that is not enrolled pushes its request
 * with every sync, and takes its grant with the first sync after the city
 * approved it.
 */
static int enroll_publish(cli_run *r)
{
	tidu_sync_report rep;
	tidu_trust_id id;
	int code = EXIT_OK, error;

	memset(&rep, 0, sizeof(rep));
	if ((error = tidu_trust_identity(r->store, &id)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	error = tidu_sync(r->store, r->nargs ? r->args[0] : NULL, NULL, &rep);
	if (error < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (rep.enrolled)
		printf(_("Device %s is enrolled in district %s.\n"), id.device, id.district);
	else
		printf(_("Published the enrollment request of device %s (fingerprint %s): "
			 "the city approves it, then run 'tidu sync'.\n"),
		       id.device, id.fingerprint);
	if (rep.rejected)
		code = EXIT_CORRUPT;
done:
	tidu_sync_report_free(&rep);
	return code;
}

static const cli_cmd enroll_subs[] = {
	{.name = "request", .summary = N_("make this device's enrollment request for the city"),
	 .spec = {"tidu enroll request [--out FILE] [--officer NAME]", NULL, request_optv, 0, 0},
	 CLI_OPTS(enroll_defaults), .need = NEED_KEYS, .run = enroll_request},
	{.name = NULL},
};

/* `tidu enroll [REMOTE]` publishes; `tidu enroll request` writes a file. */
static const cli_cmd enroll_publish_cmd = {
	.name = "enroll",
	.summary = N_("publish this device's enrollment request through the central repository"),
	.spec = {"tidu enroll [REMOTE]", NULL, NULL, 0, 1},
	.need = NEED_STORE, .run = enroll_publish,
};

const cli_cmd cmd_enroll = {
	.name = "enroll", .summary = N_("make this device's enrollment request for the city"),
	.subs = enroll_subs, .dflt = &enroll_publish_cmd, .dflt_on = CLI_DFLT_UNKNOWN,
};
