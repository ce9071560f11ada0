#include <stdlib.h>

#include <sodium.h>

#include "cli.h"

/* Not NEED_STORE: the check reads the file itself, before any open. */
static int check_run(cli_run *r)
{
	tidu_buf home = TIDU_BUF_INIT, pass = TIDU_BUF_INIT;
	int code, error;

	if ((code = cli_home(r->ctx, &home)) != EXIT_OK)
		goto done;
	if (!tidu_store_exists(home.ptr)) {
		code = cli_error(EXIT_USAGE, _("no store in '%s': run 'tidu init' first"), home.ptr);
		goto done;
	}
	if ((code = cli_passphrase(r->ctx->passfile, "TIDU_PASSPHRASE", _("Passphrase: "),
				   0, &pass)) != EXIT_OK)
		goto done;
	if ((error = tidu_home_check(home.ptr, pass.ptr, pass.len)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	printf("%s\n", _("ok: every page authenticated and the integrity check passed"));
done:
	tidu_buf_wipe(&pass);
	tidu_buf_free(&home);
	return code;
}

const cli_cmd cmd_check = {
	.name = "check", .summary = N_("authenticate every page and check integrity"),
	.spec = {"tidu check", NULL, NULL, 0, 0},
	.run = check_run,
};
