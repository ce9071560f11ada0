/*
 * tidu rules: the rule packs this store assesses with (docs/assess.md):
 * list them, print one (to start an edit from), check an edited file, and
 * on the city publish one (it goes out signed with the next sync).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tidu/assess.h"
#include "tidu/file.h"
#include "tidu/parse.h"
#include "tidu/rules.h"

static int rules_list(cli_run *r)
{
	const cli_json_opts *o = r->opts;
	tidu_packs *set = NULL;
	const tidu_pack *p, *now;
	char today[11];
	size_t i;
	int error;

	if ((error = tidu_rules_load(r->store, &set)) < 0)
		return cli_fail(error);
	tidu_date_today(today);
	now = tidu_packs_in_force(set, today);
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
		for (i = 0; (p = tidu_packs_nth(set, i)); i++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "id");
			tidu_json_write_string(&w, tidu_pack_id(p));
			tidu_json_write_key(&w, "version");
			tidu_json_write_int64(&w, tidu_pack_version(p));
			tidu_json_write_key(&w, "in_force");
			tidu_json_write_string(&w, tidu_pack_in_force(p));
			tidu_json_write_key(&w, "title");
			tidu_json_write_string(&w, tidu_pack_title(p));
			tidu_json_write_key(&w, "source");
			tidu_json_write_string(&w, tidu_pack_from_city(p) ? "city" : "built-in");
			tidu_json_write_key(&w, "default");
			tidu_json_write_bool(&w, p == now);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		tidu_packs_free(set);
		return cli_emit_json(&w, &out);
	}
	for (i = 0; (p = tidu_packs_nth(set, i)); i++) {
		tidu_buf v = TIDU_BUF_INIT;

		cli_print_padded(stdout, tidu_pack_id(p), 12);
		tidu_buf_printf(&v, "v%d", tidu_pack_version(p));
		cli_print_padded(stdout, v.ptr, 5);
		cli_print_padded(stdout, tidu_pack_in_force(p), 12);
		cli_print_padded(stdout, tidu_pack_from_city(p) ? _("city") : _("built-in"), 10);
		printf("%s%s\n", cli_safe(tidu_pack_title(p)), p == now ? _("  (in force today: the default)") : "");
		tidu_buf_free(&v);
	}
	tidu_packs_free(set);
	return EXIT_OK;
}

static int rules_show(cli_run *r)
{
	tidu_packs *set = NULL;
	const tidu_pack *p;
	int error;

	if ((error = tidu_rules_load(r->store, &set)) < 0)
		return cli_fail(error);
	if (!(p = tidu_packs_find(set, r->args[0]))) {
		tidu_packs_free(set);
		return cli_error(EXIT_USAGE, _("unknown rules '%s': see tidu rules list"), r->args[0]);
	}
	fputs(tidu_pack_text(p), stdout);
	tidu_packs_free(set);
	return EXIT_OK;
}

static int rules_check(cli_run *r)
{
	tidu_packs *set = NULL;
	tidu_buf text = TIDU_BUF_INIT;
	const char *base = strrchr(r->args[0], '/');
	int error;

	if ((error = tidu_file_read(r->args[0], TIDU_PACK_MAX, &text)) == 0 &&
	    (error = tidu_rules_load(r->store, &set)) == 0)
		error = tidu_packs_check(base ? base + 1 : r->args[0], tidu_buf_cstr(&text), set);
	tidu_packs_free(set);
	tidu_buf_free(&text);
	if (error < 0)
		return cli_fail(error);
	printf(_("'%s' is a valid rule pack\n"), cli_safe(r->args[0]));
	return EXIT_OK;
}

static int rules_publish(cli_run *r)
{
	tidu_rules_published pub;
	tidu_buf text = TIDU_BUF_INIT;
	const char *base = strrchr(r->args[0], '/');
	int error;

	if ((error = tidu_file_read(r->args[0], TIDU_PACK_MAX, &text)) == 0)
		error = tidu_rules_publish(r->store, base ? base + 1 : r->args[0],
					   tidu_buf_cstr(&text), &pub);
	tidu_buf_free(&text);
	if (error < 0)
		return cli_fail(error);
	if (pub.previous)
		printf(_("published %s version %d (replacing version %d): it goes out signed with the next 'tidu sync'\n"),
		       cli_safe(pub.id), pub.version, pub.previous);
	else
		printf(_("published %s version %d (a new pack): it goes out signed with the next 'tidu sync'\n"),
		       cli_safe(pub.id), pub.version);
	return EXIT_OK;
}

static const cli_cmd rules_subs[] = {
	{.name = "list", .summary = N_("the rule packs, their versions and which is in force"),
	 .spec = {"tidu rules list [--json]", NULL, cli_json_array_optv, 0, 0},
	 CLI_OPTS(cli_json_defaults), .need = NEED_STORE, .run = rules_list},
	{.name = "show", .summary = N_("print a rule pack (to start an edit from)"),
	 .spec = {"tidu rules show ID", NULL, NULL, 1, 1}, .need = NEED_STORE, .run = rules_show},
	{.name = "check", .summary = N_("check an edited rule pack: file, line and reason of each problem"),
	 .spec = {"tidu rules check FILE", NULL, NULL, 1, 1}, .need = NEED_STORE, .run = rules_check},
	{.name = "publish", .summary = N_("city: publish an edited rule pack to every device (with the next sync)"),
	 .spec = {"tidu rules publish FILE", NULL, NULL, 1, 1}, .need = NEED_CITY,
	 .run = rules_publish},
	{NULL},
};

const cli_cmd cmd_rules = {
	.name = "rules",
	.summary = N_("the rule packs tidu assess uses"),
	.subs = rules_subs,
	.dflt = &rules_subs[0],
	.dflt_on = CLI_DFLT_OPTION,
};
