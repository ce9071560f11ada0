#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tidu/export.h"

static int to_stdout(void *ctx, tidu_buf *buf)
{
	(void)ctx;
	if (buf->len && fwrite(buf->ptr, 1, buf->len, stdout) != buf->len)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot write the export"));
	tidu_buf_clear(buf);
	return 0;
}

int cmd_export(cli_ctx *ctx, int argc, char **argv)
{
	const char *district = NULL;
	const cli_opt opts[] = {
		{"district", OPT_STRING, "CODE", N_("only this district's firms and their visits"), &district},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu export json [--district CODE]",
			       N_("write every current record as canonical JSON"), opts, 1, 1};
	tidu_store *s = NULL;
	char **args = NULL;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	if (strcmp(args[0], "json")) {
		code = cli_error(EXIT_USAGE, _("unknown export format '%s': use json"), args[0]);
		goto done;
	}
	if ((code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_export_json(s, district, to_stdout, NULL)) < 0)
		code = cli_fail(error);
	else if (fflush(stdout) != 0)
		code = cli_error(EXIT_FAIL, "%s", _("cannot write the export"));
done:
	tidu_store_free(s);
	free(args);
	return code;
}
