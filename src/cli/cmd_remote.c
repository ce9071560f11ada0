#include <stdlib.h>

#include "cli.h"
#include "tidu/repo.h"

/* tidu remote add NAME URL */
static int remote_add(cli_run *r)
{
	char *url = NULL, *shown;
	int error;

	if ((error = tidu_remote_add(r->store, r->args[0], r->args[1])) < 0 ||
	    (error = tidu_remote_url(r->store, r->args[0], &url)) < 0)
		return cli_fail(error);
	shown = tidu_remote_redact(url);
	printf(_("Added remote '%s': %s\n"), cli_safe(r->args[0]), cli_safe(shown));
	free(shown);
	free(url);
	return EXIT_OK;
}

static int list_json(const tidu_remote *rem, size_t n)
{
	tidu_buf out = TIDU_BUF_INIT;
	tidu_json_writer w;
	size_t i;

	tidu_json_writer_init(&w, &out, 1);
	tidu_json_begin_array(&w);
	for (i = 0; i < n; i++) {
		char *shown = tidu_remote_redact(rem[i].url);

		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "name");
		tidu_json_write_string(&w, rem[i].name);
		tidu_json_write_key(&w, "url");
		tidu_json_write_string(&w, shown);
		tidu_json_end_object(&w);
		free(shown);
	}
	tidu_json_end_array(&w);
	return cli_emit_json(&w, &out);
}

/* tidu remote list [--json] */
static int remote_list(cli_run *r)
{
	const cli_json_opts *o = r->opts;
	tidu_remote *rem = NULL;
	size_t n = 0, i;
	int code = EXIT_OK, error;

	if ((error = tidu_remote_list(r->store, &rem, &n)) < 0)
		return cli_fail(error);
	if (o->json) {
		code = list_json(rem, n);
	} else {
		for (i = 0; i < n; i++) {
			char *shown = tidu_remote_redact(rem[i].url);

			cli_print_padded(stdout, rem[i].name, 12);
			printf("%s\n", cli_safe(shown));
			free(shown);
		}
		if (!n)
			printf("%s\n", _("No remote: add one with 'tidu remote add origin URL'."));
	}
	tidu_remote_list_free(rem, n);
	return code;
}

/* tidu remote remove NAME */
static int remote_remove(cli_run *r)
{
	int error;

	if ((error = tidu_remote_remove(r->store, r->args[0])) < 0)
		return cli_fail(error);
	printf(_("Removed remote '%s'.\n"), cli_safe(r->args[0]));
	return EXIT_OK;
}

static const cli_cmd remote_subs[] = {
	{.name = "add",
	 .summary = N_("add a central repository to sync with (git://, http(s)://, ssh:// or a path)"),
	 .spec = {"tidu remote add NAME URL", NULL, NULL, 2, 2},
	 .need = NEED_STORE, .run = remote_add},
	{.name = "list", .summary = N_("list the central repositories this store syncs with"),
	 .spec = {"tidu remote list [--json]", NULL, cli_json_array_optv, 0, 0},
	 CLI_OPTS(cli_json_defaults), .need = NEED_STORE, .run = remote_list},
	{.name = "remove",
	 .summary = N_("forget a central repository (nothing on the server changes)"),
	 .spec = {"tidu remote remove NAME", NULL, NULL, 1, 1},
	 .need = NEED_STORE, .run = remote_remove},
	{.name = NULL},
};

const cli_cmd cmd_remote = {
	.name = "remote", .summary = N_("add, list and remove central repositories"),
	.subs = remote_subs,
};
