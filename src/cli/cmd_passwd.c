#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "tidu/agent.h"
#include "tidu/home.h"

int cmd_passwd(cli_ctx *ctx, int argc, char **argv)
{
	int use_recovery = 0;
	const char *newfile = NULL, *recfile = NULL;
	const cli_opt opts[] = {
		{"recovery-key", OPT_FLAG, NULL, N_("unlock with the recovery key instead of the passphrase"), &use_recovery},
		{"recovery-key-file", OPT_STRING, "FILE", N_("read the recovery key from FILE (else $TIDU_RECOVERY_KEY or a prompt)"), &recfile},
		{"new-passphrase-file", OPT_STRING, "FILE", N_("read the new passphrase from FILE (else $TIDU_NEW_PASSPHRASE or a prompt)"), &newfile},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {
		"tidu passwd [--recovery-key] [--new-passphrase-file FILE]",
		N_("change the passphrase (or reset it with the recovery key)"), opts, 0, 0,
	};
	tidu_buf home = TIDU_BUF_INIT, secret = TIDU_BUF_INIT, newpass = TIDU_BUF_INIT;
	tidu_store *s = NULL;
	char **args = NULL;
	int nargs, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	if (recfile)
		use_recovery = 1;
	if ((code = cli_home(ctx, &home)) != EXIT_OK)
		goto done;
	if (!tidu_store_exists(home.ptr)) {
		code = cli_error(EXIT_USAGE, _("no store in '%s': run 'tidu init' first"), home.ptr);
		goto done;
	}
	if (use_recovery)
		code = cli_passphrase(recfile, "TIDU_RECOVERY_KEY", _("Recovery key: "),
				      0, &secret);
	else
		code = cli_passphrase(ctx->passfile, "TIDU_PASSPHRASE",
				      _("Current passphrase: "), 0, &secret);
	if (code != EXIT_OK)
		goto done;
	error = use_recovery ? tidu_home_open_recovery(&s, home.ptr, secret.ptr)
			     : tidu_home_open(&s, home.ptr, secret.ptr, secret.len);
	if (error < 0) {
		code = cli_fail(error);
		goto done;
	}
	if ((code = cli_passphrase(newfile, "TIDU_NEW_PASSPHRASE",
				   _("New passphrase: "), 1, &newpass)) != EXIT_OK)
		goto done;
	/* It refuses a passphrase shorter than TIDU_PASSPHRASE_MIN. */
	if ((error = tidu_store_set_passphrase(s, newpass.ptr, newpass.len)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	printf("%s\n", _("The passphrase has been changed."));
	{
		tidu_buf db = TIDU_BUF_INIT;

		/* Whoever knew the old passphrase: no key in memory stays behind. */
		tidu_buf_printf(&db, "%s/%s", home.ptr, TIDU_DB_NAME);
		if (tidu_agent_stop(db.ptr) == 0)
			printf("%s\n", _("The store's key agent has been stopped."));
		tidu_error_clear();
		tidu_buf_free(&db);
	}
	code = EXIT_OK;
done:
	tidu_buf_wipe(&secret);
	tidu_buf_wipe(&newpass);
	tidu_buf_free(&home);
	tidu_store_free(s);
	free(args);
	return code;
}
