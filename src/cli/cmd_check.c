#include <stdlib.h>

#include <sodium.h>

#include "cli.h"

int cmd_check(cli_ctx *ctx, int argc, char **argv)
{
	const cli_spec spec = {"tidu check",
			       N_("authenticate every page and check integrity"), NULL, 0, 0};
	tidu_buf home = TIDU_BUF_INIT, pass = TIDU_BUF_INIT;
	char **args = NULL;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_home(ctx, &home)) != EXIT_OK)
		goto done;
	if (!tidu_store_exists(home.ptr)) {
		code = cli_error(EXIT_USAGE, _("no store in '%s': run 'tidu init' first"), home.ptr);
		goto done;
	}
	if ((code = cli_passphrase(ctx->passfile, "TIDU_PASSPHRASE", _("Passphrase: "),
				   0, &pass)) != EXIT_OK)
		goto done;
	if ((error = tidu_store_check(home.ptr, pass.ptr, pass.len)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	printf("%s\n", _("ok: every page authenticated and the integrity check passed"));
done:
	tidu_buf_wipe(&pass);
	tidu_buf_free(&home);
	free(args);
	return code;
}
