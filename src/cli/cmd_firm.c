#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tidu/alloc.h"
#include "tidu/dict.h"
#include "tidu/export.h"
#include "tidu/file.h"
#include "tidu/firm.h"
#include "tidu/record.h"
#include "tidu/uscc.h"
#include "tidu/view.h"

/* Splits KEY=VALUE arguments; returns an exit code. */
static int split_pairs(char **args, int n, tidu_kv *kv, char **owned)
{
	int i;

	for (i = 0; i < n; i++)
		if (tidu_parse_kv(args[i], &kv[i], &owned[i]) < 0)
			return cli_fail(TIDU_EINVAL);
	return EXIT_OK;
}

static void free_owned(char **owned, int n)
{
	int i;

	for (i = 0; owned && i < n; i++)
		free(owned[i]);
	free(owned);
}

typedef struct {
	const char *name;              /* add */
	const char *district, *search; /* list */
	int json;                      /* list */
} firm_opts;

/* What the option tables point into; never written (cli_cmd.defaults). */
static firm_opts firm_defaults;

static const cli_opt add_optv[] = {
	CLI_STRING("name", "NAME", N_("the firm's registered name"), firm_defaults, name),
	CLI_OPT_END,
};

static const cli_opt list_optv[] = {
	CLI_STRING("district", "CODE", N_("only firms of this district"), firm_defaults, district),
	CLI_STRING("search", "TEXT", N_("only firms whose name, USCC, product or contact contains TEXT"),
		   firm_defaults, search),
	CLI_FLAG("json", N_("print one JSON array"), firm_defaults, json),
	CLI_OPT_END,
};

/*
 * The KEY=VALUE arguments after the USCC, checked before the store opens:
 * bad input fails without a passphrase prompt. tidu firm set takes any key
 * (YEAR.KEY too); the core checks them.
 */
static int set_check(cli_run *r)
{
	tidu_kv kv;
	char *owned;
	int i;

	for (i = 1; i < r->nargs; i++) {
		if (tidu_parse_kv(r->args[i], &kv, &owned) < 0)
			return cli_fail(TIDU_EINVAL);
		free(owned);
	}
	return EXIT_OK;
}

/* add and show: the pairs (add), then the USCC, which must be valid. */
static int uscc_check(cli_run *r)
{
	char uscc[TIDU_USCC_LEN + 1];
	int code = set_check(r);

	if (code == EXIT_OK && tidu_uscc_validate(r->args[0], uscc) < 0)
		code = cli_fail(TIDU_EINVAL);
	return code;
}

static int firm_add(cli_run *r)
{
	const firm_opts *o = r->opts;
	const char *name = o->name;
	char **args = r->args, **owned = NULL, uscc[TIDU_USCC_LEN + 1];
	tidu_kv *kv = NULL;
	int nargs = r->nargs, code = EXIT_OK, error;

	kv = tidu_calloc((size_t)nargs + 1, sizeof(*kv));
	owned = tidu_calloc((size_t)nargs + 1, sizeof(*owned));
	if ((code = split_pairs(args + 1, nargs - 1, kv, owned)) != EXIT_OK)
		goto done;
	if (name) {
		kv[nargs - 1].key = "name";
		kv[nargs - 1].value = name;
	}
	if ((error = tidu_firm_add(r->store, args[0], kv, (size_t)nargs - (name ? 0 : 1),
				   uscc)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (!tidu_uscc_region_is_zhengzhou(uscc))
		cli_warn(_("the USCC '%s' is not registered in Zhengzhou (region %.6s)"),
			 uscc, uscc + 2);
	printf(_("Added firm %s\n"), cli_safe(uscc));
done:
	free_owned(owned, nargs);
	free(kv);
	return code;
}

static int firm_set(cli_run *r)
{
	char **args = r->args, **owned = NULL;
	tidu_kv *kv = NULL;
	int nargs = r->nargs, code, error;

	kv = tidu_calloc((size_t)nargs, sizeof(*kv));
	owned = tidu_calloc((size_t)nargs, sizeof(*owned));
	if ((code = split_pairs(args + 1, nargs - 1, kv, owned)) == EXIT_OK &&
	    (error = tidu_firm_set(r->store, args[0], kv, (size_t)nargs - 1)) < 0)
		code = cli_fail(error);
	free_owned(owned, nargs);
	free(kv);
	return code;
}

static void print_rec(const tidu_rec *r, const char *indent)
{
	tidu_buf text = TIDU_BUF_INIT;
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (!r->values[i])
			continue;
		tidu_view_value_display(r->fields[i], r->values[i], &text);
		printf("%s", indent);
		cli_print_padded(stdout, tidu_dict_label(r->fields[i]), 30);
		printf(" %s\n", cli_safe_field(r->fields[i], tidu_buf_cstr(&text)));
	}
	tidu_buf_free(&text);
}

static int firm_show(cli_run *r)
{
	const cli_json_opts *o = r->opts;
	char uscc[TIDU_USCC_LEN + 1];
	tidu_query_filter years = {uscc, NULL, NULL, TIDU_ORDER_KEY};
	tidu_rec firm = TIDU_REC_INIT, year = TIDU_REC_INIT;
	tidu_store *s = r->store;
	tidu_query *q = NULL;
	int code = EXIT_OK, error, rc;

	tidu_uscc_validate(r->args[0], uscc); /* valid: uscc_check */
	if ((error = tidu_view_rec_load(s, "firm", uscc, &firm)) < 0) {
		if (error == TIDU_ENOTFOUND)
			tidu_error_set(TIDU_ENOTFOUND, _("firm '%s' is not in the store"), uscc);
		code = cli_fail(error);
		goto done;
	}
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		if ((error = tidu_export_firm(s, &firm, &w)) < 0 ||
		    (error = tidu_json_writer_finish(&w)) < 0) {
			tidu_buf_free(&out);
			code = cli_fail(error);
			goto done;
		}
		cli_print_json(&out);
		tidu_buf_free(&out);
		goto done;
	}
	print_rec(&firm, "");
	if ((error = tidu_view_query_open(s, "firm_year", &years, &q)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	while ((rc = tidu_view_query_next(q, &year)) > 0) {
		printf("\n%lld\n", (long long)year.year);
		print_rec(&year, "  ");
	}
	if (rc < 0)
		code = cli_fail(rc);
done:
	tidu_view_query_free(q);
	tidu_view_rec_clear(&year);
	tidu_view_rec_clear(&firm);
	return code;
}

static int list_check(cli_run *r)
{
	const firm_opts *o = r->opts;

	if (o->district && !tidu_dict_district_name(o->district))
		return cli_error(EXIT_USAGE,
			_("unknown district '%s': use a code from the division list"), o->district);
	return EXIT_OK;
}

static int firm_list(cli_run *r)
{
	const firm_opts *o = r->opts;
	tidu_query_filter filter = {NULL, o->district, o->search, TIDU_ORDER_KEY};
	int json = o->json;
	tidu_buf out = TIDU_BUF_INIT;
	tidu_rec firm = TIDU_REC_INIT;
	tidu_json_writer w;
	tidu_store *s = r->store;
	tidu_query *q = NULL;
	const char *p;
	size_t count = 0;
	int code = EXIT_OK, error, rc;

	if ((error = tidu_view_query_open(s, "firm", &filter, &q)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (json) {
		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
	} else {
		cli_print_padded(stdout, _("USCC"), 20);
		cli_print_padded(stdout, _("Reserve tier"), 14);
		cli_print_padded(stdout, _("District"), 20);
		printf("%s\n", _("Name"));
	}
	while ((rc = tidu_view_query_next(q, &firm)) > 0) {
		count++;
		if (json) {
			if ((error = tidu_export_firm(s, &firm, &w)) < 0) {
				rc = error;
				break;
			}
			if (out.len > 65536) {
				fwrite(out.ptr, 1, out.len, stdout);
				tidu_buf_clear(&out);
			}
			continue;
		}
		cli_print_padded(stdout, tidu_view_rec_get(&firm, "uscc"), 20);
		p = tidu_view_rec_get(&firm, "reserve_tier");
		cli_print_padded(stdout, p ? p : "-", 14);
		p = tidu_dict_district_name(tidu_view_rec_get(&firm, "district"));
		cli_print_padded(stdout, p ? p : "-", 20);
		printf("%s\n", cli_safe(tidu_view_rec_get(&firm, "name")));
	}
	if (rc < 0) {
		code = cli_fail(rc);
		goto done;
	}
	if (json) {
		tidu_json_end_array(&w);
		if ((error = tidu_json_writer_finish(&w)) < 0) {
			code = cli_fail(error);
			goto done;
		}
		cli_print_json(&out);
	} else {
		printf(_("%zu firms\n"), count);
	}
done:
	tidu_view_rec_clear(&firm);
	tidu_view_query_free(q);
	tidu_buf_free(&out);
	return code;
}

typedef struct {
	int existing;
} import_opts;

static import_opts import_defaults;

static const cli_opt import_optv[] = {
	CLI_FLAG("existing", N_("only update firms already stored; skip the rows of others (the province's list)"),
		 import_defaults, existing),
	CLI_OPT_END,
};

#define MAX_IMPORT_BYTES ((size_t)1 << 30)

/* Not NEED_STORE in the table: the file is read before the passphrase is asked. */
static int firm_import(cli_run *r)
{
	const import_opts *o = r->opts;
	char **args = r->args;
	tidu_buf data = TIDU_BUF_INIT;
	tidu_import_result res;
	cli_import_ui ui = {args[0], NULL};
	int code, error;

	if ((error = tidu_file_read(args[0], MAX_IMPORT_BYTES, &data)) < 0) {
		code = cli_fail(error == TIDU_ERROR ? TIDU_EINVAL : error);
		goto done;
	}
	if ((code = cli_run_need(r, NEED_STORE)) != EXIT_OK)
		goto done;
	error = tidu_firm_import(r->store, data.ptr ? data.ptr : "", data.len,
				 o->existing ? TIDU_IMPORT_EXISTING : 0, &res, cli_import_error, &ui);
	if (error < 0) {
		code = cli_import_fail(&ui, error);
		goto done;
	}
	printf(_("Imported %zu rows from %s (%s): %zu firms added, %zu updated\n"),
	       res.rows, cli_safe(args[0]), res.encoding, res.added, res.updated);
	if (res.skipped)
		printf(_("%zu rows skipped: their firms are not in this store\n"), res.skipped);
done:
	free(ui.said);
	tidu_buf_free(&data);
	return code;
}

static int firm_delete(cli_run *r)
{
	int error = tidu_firm_delete(r->store, r->args[0]);

	return error < 0 ? cli_fail(error) : EXIT_OK;
}

typedef struct {
	const char *district;
} move_opts;

static move_opts move_defaults;

static const cli_opt move_optv[] = {
	CLI_STRING("district", "CODE", N_("the district to file the firm under"), move_defaults,
		   district),
	CLI_OPT_END,
};

static int move_check(cli_run *r)
{
	const move_opts *o = r->opts;
	char uscc[TIDU_USCC_LEN + 1];

	if (!o->district)
		return cli_error(EXIT_USAGE, "%s", _("give the new district: --district CODE"));
	return tidu_uscc_validate(r->args[0], uscc) < 0 ? cli_fail(TIDU_EINVAL) : EXIT_OK;
}

/* tidu firm move USCC --district CODE (the city's store only). */
static int firm_move(cli_run *r)
{
	const move_opts *o = r->opts;
	char old[16];
	int error = tidu_firm_move(r->store, r->args[0], o->district, old);

	if (error < 0)
		return cli_fail(error);
	printf(_("Moved firm %s from district %s to %s: %s receives its whole record at the next sync; %s keeps its history, read-only\n"),
	       cli_safe(r->args[0]), old[0] ? old : "-", o->district, o->district,
	       old[0] ? old : "-");
	return EXIT_OK;
}

static const cli_cmd firm_subs[] = {
	{.name = "add", .summary = N_("add a firm"),
	 .spec = {"tidu firm add USCC --name NAME [KEY=VALUE ...]", NULL, add_optv, 1, -1},
	 CLI_OPTS(firm_defaults), .need = NEED_STORE, .check = uscc_check,
	 .run = firm_add},
	{.name = "set", .summary = N_("change fields of a firm"),
	 .spec = {"tidu firm set USCC KEY=VALUE ... (YEAR.KEY=VALUE for yearly figures)", NULL,
		  NULL, 2, -1},
	 .need = NEED_STORE, .check = set_check, .run = firm_set},
	{.name = "show", .summary = N_("show a firm with its yearly figures"),
	 .spec = {"tidu firm show USCC [--json]", NULL, cli_json_object_optv, 1, 1},
	 CLI_OPTS(cli_json_defaults), .need = NEED_STORE, .check = uscc_check,
	 .run = firm_show},
	{.name = "list", .summary = N_("list firms"),
	 .spec = {"tidu firm list [--district CODE] [--search TEXT] [--json]", NULL, list_optv,
		  0, 0},
	 CLI_OPTS(firm_defaults), .need = NEED_STORE, .check = list_check,
	 .run = firm_list},
	{.name = "import", .summary = N_("add or update firms from a CSV file (all or nothing)"),
	 .spec = {"tidu firm import FILE.csv [--existing]", NULL, import_optv, 1, 1},
	 CLI_OPTS(import_defaults), .run = firm_import},
	{.name = "delete", .summary = N_("delete a firm (a tombstone that syncs; its visits stay)"),
	 .spec = {"tidu firm delete USCC", NULL, NULL, 1, 1},
	 .need = NEED_STORE, .run = firm_delete},
	{.name = "move", .summary = N_("file a firm under another district (the city's store only)"),
	 .spec = {"tidu firm move USCC --district CODE", NULL, move_optv, 1, 1},
	 CLI_OPTS(move_defaults), .need = NEED_STORE, .check = move_check, .run = firm_move},
	{.name = NULL},
};

const cli_cmd cmd_firm = {
	.name = "firm", .summary = N_("add, change, show, list and import firms"),
	.subs = firm_subs,
};
