#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tidu/export.h"

typedef struct {
	const char *district;
} export_opts;

/* What the option tables point into; never written (cli_cmd.defaults). */
static export_opts export_defaults;

static const cli_opt export_optv[] = {
	CLI_STRING("district", "CODE", N_("only this district's firms and their visits"),
		   export_defaults, district),
	CLI_OPT_END,
};

/* `ctx`: an int, set to the errno of a failed write. */
static int to_stdout(void *ctx, tidu_buf *buf)
{
	int *failed = ctx;

	errno = 0;
	if (buf->len && fwrite(buf->ptr, 1, buf->len, stdout) != buf->len) {
		*failed = errno ? errno : EIO;
		return tidu_error_set(TIDU_ERROR, "%s: %s", _("cannot write the output"),
				      strerror(*failed));
	}
	tidu_buf_clear(buf);
	return 0;
}

static int export_check(cli_run *r)
{
	if (strcmp(r->args[0], "json"))
		return cli_error(EXIT_USAGE, _("unknown export format '%s': use json"), r->args[0]);
	return EXIT_OK;
}

static int export_run(cli_run *r)
{
	const export_opts *o = r->opts;
	int error, failed = 0;

	if ((error = tidu_export_json(r->store, o->district, to_stdout, &failed)) < 0)
		return failed ? cli_output_failed(failed) : cli_fail(error);
	errno = 0;
	if (fflush(stdout) != 0)
		return cli_output_failed(errno);
	return EXIT_OK;
}

const cli_cmd cmd_export = {
	.name = "export", .summary = N_("write every current record as canonical JSON"),
	.spec = {"tidu export json [--district CODE]", NULL, export_optv, 1, 1},
	CLI_OPTS(export_defaults), .need = NEED_STORE,
	.check = export_check, .run = export_run,
};
