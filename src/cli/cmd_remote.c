#include <stdlib.h>

#include "cli.h"
#include "tidu/repo.h"

/* tidu remote add NAME URL */
static int remote_add(cli_ctx *ctx, int argc, char **argv)
{
	const cli_spec spec = {"tidu remote add NAME URL",
			       N_("add a central repository to sync with (git://, http(s)://, ssh:// or a path)"),
			       NULL, 2, 2};
	tidu_store *s = NULL;
	char **args = NULL, *url = NULL;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_remote_add(s, args[0], args[1])) < 0 ||
	    (error = tidu_remote_url(s, args[0], &url)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	printf(_("Added remote '%s': %s\n"), args[0], url);
done:
	free(url);
	tidu_store_free(s);
	free(args);
	return code;
}

/* tidu remote list [--json] */
static int remote_list(cli_ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const cli_opt opts[] = {
		{"json", OPT_FLAG, NULL, N_("print one JSON array"), &json},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu remote list [--json]",
			       N_("list the central repositories this store syncs with"), opts, 0, 0};
	tidu_remote *r = NULL;
	tidu_store *s = NULL;
	char **args = NULL;
	size_t n = 0, i;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_remote_list(s, &r, &n)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
		for (i = 0; i < n; i++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "name");
			tidu_json_write_string(&w, r[i].name);
			tidu_json_write_key(&w, "url");
			tidu_json_write_string(&w, r[i].url);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		code = cli_emit_json(&w, &out);
		goto done;
	}
	for (i = 0; i < n; i++) {
		cli_print_padded(stdout, r[i].name, 12);
		printf("%s\n", r[i].url);
	}
	if (!n)
		printf("%s\n", _("No remote: add one with 'tidu remote add origin URL'."));
done:
	tidu_remote_list_free(r, n);
	tidu_store_free(s);
	free(args);
	return code;
}

/* tidu remote remove NAME */
static int remote_remove(cli_ctx *ctx, int argc, char **argv)
{
	const cli_spec spec = {"tidu remote remove NAME",
			       N_("forget a central repository (nothing on the server changes)"),
			       NULL, 1, 1};
	tidu_store *s = NULL;
	char **args = NULL;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_remote_remove(s, args[0])) < 0) {
		code = cli_fail(error);
		goto done;
	}
	printf(_("Removed remote '%s'.\n"), args[0]);
done:
	tidu_store_free(s);
	free(args);
	return code;
}

int cmd_remote(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {
		{"add", remote_add, N_("add a central repository to sync with (git://, http(s)://, ssh:// or a path)")},
		{"list", remote_list, N_("list the central repositories this store syncs with")},
		{"remove", remote_remove, N_("forget a central repository (nothing on the server changes)")},
		{NULL, NULL, NULL},
	};

	return cli_dispatch(ctx, "remote", subs, argc, argv);
}
