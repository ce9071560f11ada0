#include <string.h>

#include "cli.h"
#include "sync_common.h"

static int relay_op(cli_run *r, const tidu_sync_opts *o, tidu_sync_report *rep)
{
	return tidu_relay(r->store, r->args[0], r->args[1], o, rep);
}

/*
 * tidu relay FROM TO: a district hub (or the city) forwards its district's
 * verified refs from a LAN repository to the central one, and the city's
 * refs back (docs/sync.md, "District hubs and relay").
 */
static int relay_run(cli_run *r)
{
	tidu_sync_report rep;
	int code;

	memset(&rep, 0, sizeof(rep));
	code = cli_sync_run(r, relay_op, r->args[0], r->args[1], &rep);
	tidu_sync_report_free(&rep);
	return code;
}

const cli_cmd cmd_relay = {
	.name = "relay",
	.summary = N_("forward a district's verified change sets between repositories"),
	.spec = {"tidu relay FROM TO [--json] [--ssh-key FILE]",
		 N_("forward the district's verified change sets from remote FROM to remote TO"),
		 cli_sync_optv, 2, 2},
	CLI_OPTS(cli_sync_defaults), .need = NEED_STORE, .run = relay_run,
};
