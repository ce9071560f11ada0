#include <string.h>

#include "cli.h"
#include "sync_common.h"

static int sync_op(cli_run *r, const tidu_sync_opts *o, tidu_sync_report *rep)
{
	return tidu_sync(r->store, r->nargs ? r->args[0] : NULL, o, rep);
}

static int sync_run(cli_run *r)
{
	tidu_sync_report rep;
	int code;

	memset(&rep, 0, sizeof(rep));
	code = cli_sync_run(r, sync_op, NULL, NULL, &rep);
	tidu_sync_report_free(&rep);
	return code;
}

const cli_cmd cmd_sync = {
	.name = "sync",
	.summary = N_("seal, send and receive change sets through the central repository"),
	.spec = {"tidu sync [REMOTE] [--json] [--ssh-key FILE]", NULL, cli_sync_optv, 0, 1},
	CLI_OPTS(cli_sync_defaults), .need = NEED_STORE, .run = sync_run,
};
