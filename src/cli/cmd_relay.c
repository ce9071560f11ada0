/*
 * tidu relay FROM TO: a district hub (or the city) forwards its district's
 * verified refs from a LAN repository to the central one, and the city's
 * keyring back (docs/sync.md, "District hubs and relay").
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tidu/repo.h"

int cmd_relay(cli_ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const char *ssh_key = NULL;
	const cli_opt opts[] = {
		{"json", OPT_FLAG, NULL, N_("print the summary as one JSON object"), &json},
		{"ssh-key", OPT_STRING, "FILE", N_("SSH private key (default: the SSH agent)"), &ssh_key},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu relay FROM TO [--json] [--ssh-key FILE]",
			       N_("forward the district's verified change sets from remote FROM to remote TO"),
			       opts, 2, 2};
	tidu_sync_report rep;
	tidu_sync_opts o;
	tidu_store *s = NULL;
	char **args = NULL;
	size_t i;
	int nargs = 0, code, error;

	memset(&rep, 0, sizeof(rep));
	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	memset(&o, 0, sizeof(o));
	o.ssh_key = ssh_key;
	signal(SIGPIPE, SIG_IGN);
	error = tidu_relay(s, args[0], args[1], &o, &rep);
	if (error < 0 && !rep.remote[0]) {
		code = cli_fail(error); /* nothing was tried */
		goto done;
	}
	for (i = 0; i < rep.nproblems; i++)
		cli_error(0, _("refused: %s"), rep.problems[i]);
	for (i = 0; i < rep.nnotes; i++)
		cli_warn("%s", rep.notes[i]);
	if (json)
		cli_sync_json(&rep, error, args[0], args[1]);
	if (error < 0) {
		code = cli_fail(error);
	} else if (!json) {
		if (rep.keyring_version)
			printf(_("Keyring version %lld is now in use.\n"), (long long)rep.keyring_version);
		printf(_("Relayed '%s' to '%s': %zu refs forwarded, %zu city refs sent back; %zu change sets verified and applied here from %zu devices, %zu rejected.\n"),
		       args[0], args[1], rep.relayed, rep.relayed_back, rep.received, rep.devices,
		       rep.rejected);
	}
	if (rep.rejected && code == EXIT_OK)
		code = EXIT_CORRUPT;
done:
	tidu_sync_report_free(&rep);
	tidu_store_free(s);
	free(args);
	return code;
}
