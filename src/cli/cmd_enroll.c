#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tidu/repo.h"
#include "tidu/trust.h"

/* tidu enroll request [--out FILE] */
static int enroll_request(cli_ctx *ctx, int argc, char **argv)
{
	const char *out = NULL;
	const cli_opt opts[] = {
		{"out", OPT_STRING, "FILE", N_("write the request to FILE (default: standard output)"), &out},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu enroll request [--out FILE]",
			       N_("make this device's enrollment request for the city"), opts, 0, 0};
	tidu_buf doc = TIDU_BUF_INIT;
	tidu_store *s = NULL;
	tidu_trust_id id;
	char **args = NULL;
	int nargs, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_trust_ensure_keys(s)) < 0 ||
	    (error = tidu_trust_identity(s, &id)) < 0 ||
	    (error = tidu_trust_enroll_request(s, &doc)) < 0 ||
	    (out && (error = tidu_trust_doc_write(out, doc.ptr, doc.len)) < 0)) {
		code = cli_fail(error);
		goto done;
	}
	if (out) {
		printf(_("Wrote the enrollment request of device %s to %s.\n"), id.device, out);
		printf(_("Fingerprint: %s (the city checks it with you before approving)\n"),
		       id.fingerprint);
	} else {
		fwrite(doc.ptr, 1, doc.len, stdout);
		fprintf(stderr, _("Fingerprint: %s (the city checks it with you before approving)\n"),
			id.fingerprint);
	}
	if (fflush(stdout) != 0)
		code = cli_error(EXIT_FAIL, "%s", _("cannot write to standard output"));
done:
	tidu_buf_free(&doc);
	tidu_store_free(s);
	free(args);
	return code;
}

/*
 * tidu enroll [REMOTE]: publishes the request through the central
 * repository. It is a sync: a device that is not enrolled pushes its request
 * with every sync, and takes its grant with the first sync after the city
 * approved it.
 */
static int enroll_publish(cli_ctx *ctx, int argc, char **argv)
{
	const cli_spec spec = {"tidu enroll [REMOTE]",
			       N_("publish this device's enrollment request through the central repository"),
			       NULL, 0, 1};
	tidu_sync_report rep;
	tidu_store *s = NULL;
	tidu_trust_id id;
	char **args = NULL;
	int nargs, code, error;

	memset(&rep, 0, sizeof(rep));
	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_trust_identity(s, &id)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	error = tidu_sync(s, nargs ? args[0] : NULL, NULL, &rep);
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
	tidu_store_free(s);
	free(args);
	return code;
}

int cmd_enroll(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {
		{"request", enroll_request, N_("make this device's enrollment request for the city")},
		{NULL, NULL, NULL},
	};

	/* `tidu enroll [REMOTE]` publishes; `tidu enroll request` writes a file. */
	if (argc < 2 || strcmp(argv[1], "request"))
		return argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		       ? cli_dispatch(ctx, "enroll", subs, argc, argv)
		       : enroll_publish(ctx, argc, argv);
	return cli_dispatch(ctx, "enroll", subs, argc, argv);
}
