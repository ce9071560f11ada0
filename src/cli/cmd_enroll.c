#include <stdlib.h>

#include "cli.h"
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

int cmd_enroll(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {
		{"request", enroll_request, N_("make this device's enrollment request for the city")},
		{NULL, NULL, NULL},
	};

	return cli_dispatch(ctx, "enroll", subs, argc, argv);
}
