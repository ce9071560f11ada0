#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tidu/alloc.h"
#include "tidu/dict.h"
#include "tidu/export.h"
#include "tidu/record.h"
#include "tidu/uscc.h"
#include "tidu/view.h"
#include "tidu/visit.h"

typedef struct {
	const char *date, *kind, *note;
} visit_opts;

/* What the option tables point into; never written (cli_cmd.defaults). */
static visit_opts visit_defaults;

static const cli_opt add_optv[] = {
	CLI_STRING("date", "YYYY-MM-DD", N_("day of the visit (default today)"), visit_defaults, date),
	CLI_STRING("kind", "KIND", N_("first, follow_up, review or coaching"), visit_defaults, kind),
	CLI_STRING("note", "TEXT", N_("notes of the visit"), visit_defaults, note),
	CLI_OPT_END,
};

/*
 * Splits the KEY=VALUE arguments after the USCC into `kv` (with room for 3
 * more), the copies into `owned` (nargs entries). Returns the number of pairs,
 * or -1 after printing the error.
 */
static int add_pairs(const cli_run *r, tidu_kv *kv, char **owned)
{
	int i, n = 0;

	for (i = 1; i < r->nargs; i++, n++)
		if (tidu_parse_kv(r->args[i], &kv[n], &owned[i]) < 0) {
			cli_fail(TIDU_EINVAL);
			return -1;
		}
	return n;
}

static void pairs_free(tidu_kv *kv, char **owned, int nargs)
{
	int i;

	for (i = 0; owned && i < nargs; i++)
		free(owned[i]);
	free(owned);
	free(kv);
}

/* Bad pairs fail before the store opens (no passphrase prompt). */
static int add_check(cli_run *r)
{
	tidu_kv *kv = tidu_calloc((size_t)r->nargs + 3, sizeof(*kv));
	char **owned = tidu_calloc((size_t)r->nargs, sizeof(*owned));
	int n = add_pairs(r, kv, owned);

	pairs_free(kv, owned, r->nargs);
	return n < 0 ? EXIT_USAGE : EXIT_OK;
}

static int visit_add(cli_run *r)
{
	const visit_opts *o = r->opts;
	tidu_kv *kv = tidu_calloc((size_t)r->nargs + 3, sizeof(*kv));
	char **owned = tidu_calloc((size_t)r->nargs, sizeof(*owned));
	char id[TIDU_UUID_LEN + 1];
	int n = add_pairs(r, kv, owned), code = EXIT_OK, error;

	if (o->date)
		kv[n].key = "date", kv[n++].value = o->date;
	if (o->kind)
		kv[n].key = "kind", kv[n++].value = o->kind;
	if (o->note)
		kv[n].key = "note", kv[n++].value = o->note;
	if ((error = tidu_visit_add(r->store, r->args[0], kv, (size_t)n, id)) < 0)
		code = cli_fail(error);
	else
		printf("%s\n", id);
	pairs_free(kv, owned, r->nargs);
	return code;
}

typedef struct {
	int json;
	tidu_json_writer w;
	tidu_buf text;
	size_t count;
} list_state;

static int list_one(void *ctx, const char *id, const tidu_rec *v)
{
	list_state *ls = ctx;

	ls->count++;
	if (ls->json) {
		tidu_export_visit(id, v, &ls->w);
		return 0;
	}
	cli_print_padded(stdout, id, 38);
	cli_print_padded(stdout, tidu_view_rec_get(v, "date"), 12);
	cli_print_padded(stdout, tidu_view_rec_get(v, "uscc"), 20);
	tidu_view_value_display(tidu_dict_field("visit", "kind"), tidu_view_rec_get(v, "kind"),
			   &ls->text);
	cli_print_padded(stdout, tidu_buf_cstr(&ls->text), 14);
	printf("%s\n", cli_safe(tidu_view_rec_get(v, "officer")));
	return 0;
}

static int list_check(cli_run *r)
{
	char uscc[TIDU_USCC_LEN + 1];

	if (r->nargs && tidu_uscc_validate(r->args[0], uscc) < 0)
		return cli_fail(TIDU_EINVAL);
	return EXIT_OK;
}

/* Visits are listed newest day first; the id (UUIDv7) orders one day's. */
static int visit_list(cli_run *r)
{
	const cli_json_opts *o = r->opts;
	char uscc[TIDU_USCC_LEN + 1];
	tidu_buf out = TIDU_BUF_INIT;
	list_state ls;
	int code = EXIT_OK, error;

	/* Valid (list_check): the canonical form. */
	if (r->nargs)
		tidu_uscc_validate(r->args[0], uscc);
	memset(&ls, 0, sizeof(ls));
	ls.json = o->json;
	if (ls.json) {
		tidu_json_writer_init(&ls.w, &out, 1);
		tidu_json_begin_array(&ls.w);
	} else {
		cli_print_padded(stdout, _("Visit id"), 38);
		cli_print_padded(stdout, _("Date"), 12);
		cli_print_padded(stdout, _("USCC"), 20);
		cli_print_padded(stdout, _("Kind"), 14);
		printf("%s\n", _("Officer"));
	}
	if ((error = tidu_visit_list(r->store, r->nargs ? uscc : NULL, list_one, &ls)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (ls.json) {
		tidu_json_end_array(&ls.w);
		if ((error = tidu_json_writer_finish(&ls.w)) < 0) {
			code = cli_fail(error);
			goto done;
		}
		cli_print_json(&out);
	} else {
		printf(_("%zu visits\n"), ls.count);
	}
done:
	tidu_buf_free(&out);
	tidu_buf_free(&ls.text);
	return code;
}

static int show_check(cli_run *r)
{
	if (!tidu_uuid_valid(r->args[0]))
		return cli_error(EXIT_USAGE, _("invalid visit id '%s'"), r->args[0]);
	return EXIT_OK;
}

static int visit_show(cli_run *r)
{
	const cli_json_opts *o = r->opts;
	char **args = r->args;
	tidu_buf out = TIDU_BUF_INIT, text = TIDU_BUF_INIT;
	tidu_json_writer w;
	tidu_rec v = TIDU_REC_INIT;
	size_t i;
	int code = EXIT_OK, error;

	if ((error = tidu_view_rec_load(r->store, "visit", args[0], &v)) < 0) {
		if (error == TIDU_ENOTFOUND)
			tidu_error_set(TIDU_ENOTFOUND, _("visit '%s' is not in the store"), args[0]);
		code = cli_fail(error);
		goto done;
	}
	if (o->json) {
		tidu_json_writer_init(&w, &out, 1);
		tidu_export_visit(args[0], &v, &w);
		if ((error = tidu_json_writer_finish(&w)) < 0) {
			code = cli_fail(error);
			goto done;
		}
		cli_print_json(&out);
		goto done;
	}
	cli_print_padded(stdout, _("Visit id"), 30);
	printf(" %s\n", cli_safe(args[0]));
	for (i = 0; i < v.n; i++) {
		if (!v.values[i])
			continue;
		tidu_view_value_display(v.fields[i], v.values[i], &text);
		cli_print_padded(stdout, tidu_dict_label(v.fields[i]), 30);
		printf(" %s\n", cli_safe_field(v.fields[i], tidu_buf_cstr(&text)));
	}
done:
	tidu_view_rec_clear(&v);
	tidu_buf_free(&out);
	tidu_buf_free(&text);
	return code;
}

static int visit_delete(cli_run *r)
{
	int error = tidu_visit_delete(r->store, r->args[0]);

	return error < 0 ? cli_fail(error) : EXIT_OK;
}

static const cli_cmd visit_subs[] = {
	{.name = "add", .summary = N_("record a visit; prints the new visit id"),
	 .spec = {"tidu visit add USCC [--date D] [--kind K] [--note TEXT] [KEY=VALUE ...]", NULL,
		  add_optv, 1, -1},
	 CLI_OPTS(visit_defaults), .need = NEED_STORE, .check = add_check,
	 .run = visit_add},
	{.name = "list", .summary = N_("list visits, of one firm or of all"),
	 .spec = {"tidu visit list [USCC] [--json]", NULL, cli_json_array_optv, 0, 1},
	 CLI_OPTS(cli_json_defaults), .need = NEED_STORE, .check = list_check,
	 .run = visit_list},
	{.name = "show", .summary = N_("show one visit"),
	 .spec = {"tidu visit show ID [--json]", NULL, cli_json_object_optv, 1, 1},
	 CLI_OPTS(cli_json_defaults), .need = NEED_STORE, .check = show_check,
	 .run = visit_show},
	{.name = "delete", .summary = N_("delete a visit (a tombstone that syncs)"),
	 .spec = {"tidu visit delete ID", NULL, NULL, 1, 1},
	 .need = NEED_STORE, .run = visit_delete},
	{.name = NULL},
};

const cli_cmd cmd_visit = {
	.name = "visit", .summary = N_("record and list visits to firms"),
	.subs = visit_subs,
};
