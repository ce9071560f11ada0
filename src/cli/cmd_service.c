/*
 * tidu service: the service institutions (优质服务机构清单), matching a
 * firm with them, and referrals (docs/services.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tidu/alloc.h"
#include "tidu/dict.h"
#include "tidu/file.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "tidu/service.h"

/* Space-separated need codes as labels: "融资、知识产权". */
static void needs_text(tidu_buf *b, const char *needs)
{
	const char *p = needs;

	tidu_buf_clear(b);
	tidu_buf_puts(b, "");
	while (p && *p) {
		size_t n = strcspn(p, " ");
		char code[64];

		if (n && n < sizeof(code)) {
			memcpy(code, p, n);
			code[n] = '\0';
			tidu_buf_printf(b, "%s%s", b->len ? _(", ") : "", cli_choice("need", code));
		}
		p += n + (p[n] == ' ');
	}
}

static void json_inst(tidu_json_writer *w, const tidu_institution *i)
{
	cli_json_str(w, "id", i->id);
	cli_json_str(w, "name", i->name);
	cli_json_str(w, "kind", i->kind);
	cli_json_str(w, "needs", i->needs);
	cli_json_str(w, "districts", i->districts);
	cli_json_str(w, "tiers", i->tiers);
	cli_json_str(w, "contact", i->contact);
	cli_json_str(w, "origin", i->origin);
}

/* ------------------------------------------------------------ import */

/* Not NEED_STORE in the table: the file is read before the passphrase is asked. */
static int service_import(cli_run *r)
{
	tidu_buf data = TIDU_BUF_INIT;
	cli_import_ui ui = {r->args[0], NULL};
	size_t n = 0;
	int code, error;

	if ((error = tidu_file_read(r->args[0], (size_t)64 << 20, &data)) < 0) {
		code = cli_fail(error == TIDU_ERROR ? TIDU_EINVAL : error);
		goto done;
	}
	if ((code = cli_run_need(r, NEED_STORE)) != EXIT_OK)
		goto done;
	error = tidu_service_import(r->store, data.ptr ? data.ptr : "", data.len, &n,
				    cli_import_error, &ui);
	if (error < 0) {
		code = cli_import_fail(&ui, error);
		goto done;
	}
	if (!strcmp(tidu_store_role(r->store), "city"))
		printf(_("%zu service institutions imported: the city's list, published at the next 'tidu sync'\n"),
		       n);
	else
		printf(_("%zu local service institutions imported (this district's own)\n"), n);
done:
	free(ui.said);
	tidu_buf_free(&data);
	return code;
}

/* ------------------------------------------------------------ list */

typedef struct {
	const char *need, *district;
	int json;
} list_opts;

static list_opts list_defaults;

static const cli_opt list_optv[] = {
	CLI_STRING("need", "CODE", N_("only institutions serving this need"), list_defaults, need),
	CLI_STRING("district", "CODE", N_("only institutions serving this district"), list_defaults,
		   district),
	CLI_FLAG("json", N_("print one JSON array"), list_defaults, json),
	CLI_OPT_END,
};

static int list_check(cli_run *r)
{
	const list_opts *o = r->opts;

	return cli_check_district(o->district);
}

static int service_list(cli_run *r)
{
	const list_opts *o = r->opts;
	tidu_institution *v = NULL;
	tidu_buf b = TIDU_BUF_INIT;
	size_t n = 0, i;
	int error;

	if ((error = tidu_service_list(r->store, o->need, o->district, &v, &n)) < 0)
		return cli_fail(error);
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
		for (i = 0; i < n; i++) {
			tidu_json_begin_object(&w);
			json_inst(&w, &v[i]);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		tidu_institutions_free(v, n);
		return cli_emit_json(&w, &out);
	}
	if (!n) {
		printf("%s\n", _("No service institution: the city imports its list with 'tidu service import FILE.csv'."));
		tidu_institutions_free(v, n);
		return EXIT_OK;
	}
	cli_print_padded(stdout, _("Id"), 13);
	cli_print_padded(stdout, _("Kind"), 18);
	cli_print_padded(stdout, _("Name"), 30);
	printf("%s\n", _("Needs"));
	for (i = 0; i < n; i++) {
		cli_print_padded(stdout, v[i].id, 13);
		cli_print_padded(stdout, cli_choice("institution_kind", v[i].kind), 18);
		cli_print_padded(stdout, v[i].name, 30);
		needs_text(&b, v[i].needs);
		printf("%s%s\n", cli_safe(b.ptr), strcmp(v[i].origin, "local") ? "" : _(" (local)"));
	}
	printf(_("%zu service institutions\n"), n);
	tidu_buf_free(&b);
	tidu_institutions_free(v, n);
	return EXIT_OK;
}

/* ------------------------------------------------------------ match */

static int service_match(cli_run *r)
{
	const cli_json_opts *o = r->opts;
	tidu_service_match_result m;
	tidu_buf b = TIDU_BUF_INIT;
	const char *credit;
	int64_t max = 0;
	size_t i;
	int error;

	if ((error = tidu_service_match(r->store, r->args[0], &m)) < 0)
		return cli_fail(error);
	credit = m.credit_tier ? tidu_service_credit(m.credit_tier, &max) : NULL;
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "tier");
		tidu_json_write_int64(&w, m.tier);
		tidu_json_write_key(&w, "credit");
		if (credit) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "tier");
			tidu_json_write_int64(&w, m.credit_tier);
			tidu_json_write_key(&w, "max_10k_cny");
			tidu_json_write_int64(&w, max);
			cli_json_str(&w, "text", credit);
			tidu_json_end_object(&w);
		} else {
			tidu_json_write_null(&w);
		}
		tidu_json_write_key(&w, "proposals");
		tidu_json_begin_array(&w);
		for (i = 0; i < m.n; i++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "rank");
			tidu_json_write_int64(&w, (int64_t)i + 1);
			cli_json_str(&w, "need", m.v[i].need);
			tidu_json_write_key(&w, "weight");
			tidu_json_write_double(&w, m.v[i].weight);
			cli_json_str(&w, "reasons", m.v[i].reasons);
			tidu_json_write_key(&w, "institution");
			tidu_json_begin_object(&w);
			json_inst(&w, &m.v[i].inst);
			tidu_json_end_object(&w);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		tidu_json_write_key(&w, "unserved_needs");
		tidu_json_begin_array(&w);
		for (i = 0; i < m.nopen; i++)
			tidu_json_write_string(&w, m.open_needs[i]);
		tidu_json_end_array(&w);
		tidu_json_end_object(&w);
		tidu_service_match_free(&m);
		return cli_emit_json(&w, &out);
	}
	printf(_("Services for %s, working towards tier %d:\n"), cli_safe(r->args[0]), m.tier);
	for (i = 0; i < m.n; i++) {
		const tidu_service_proposal *p = &m.v[i];

		tidu_buf_clear(&b);
		tidu_buf_printf(&b, "%zu.", i + 1);
		printf("  ");
		cli_print_padded(stdout, b.ptr, 4);
		cli_print_padded(stdout, cli_choice("need", p->need), 16);
		cli_print_padded(stdout, p->inst.name, 30);
		printf("%s\n", cli_safe(p->inst.contact));
		printf("      %s %s\n", _("why:"), cli_safe(p->reasons));
	}
	if (!m.n)
		printf("  %s\n", _("no institution matches: no need recorded or found, or none serves it here"));
	for (i = 0; i < m.nopen; i++)
		printf(_("  No institution serves the need '%s' in this firm's district and tier.\n"),
		       cli_choice("need", m.open_needs[i]));
	if (credit)
		printf(_("Credit for its recognised tier %d: %s\n"), m.credit_tier, credit);
	tidu_buf_free(&b);
	tidu_service_match_free(&m);
	return EXIT_OK;
}

/* ------------------------------------------------------------ refer, outcome */

typedef struct {
	const char *need, *due, *note;
} refer_opts;

static refer_opts refer_defaults;

static const cli_opt refer_optv[] = {
	CLI_STRING("need", "CODE", N_("the need the institution is to serve (required)"),
		   refer_defaults, need),
	CLI_STRING("due", "DATE", N_("follow up by this date"), refer_defaults, due),
	CLI_STRING("note", "TEXT", N_("a note"), refer_defaults, note),
	CLI_OPT_END,
};

static int refer_check(cli_run *r)
{
	const refer_opts *o = r->opts;

	if (!o->need)
		return cli_error(EXIT_USAGE, _("say which need the referral is for with --need (%s)"),
				 tidu_dict_choice_values("need"));
	return EXIT_OK;
}

static int service_refer(cli_run *r)
{
	const refer_opts *o = r->opts;
	char id[TIDU_UUID_LEN + 1];
	int error;

	if ((error = tidu_service_refer(r->store, r->args[0], r->args[1], o->need, o->due, o->note,
					id)) < 0)
		return cli_fail(error);
	printf("%s\n", id);
	return EXIT_OK;
}

typedef struct {
	const char *note;
} outcome_opts;

static outcome_opts outcome_defaults;

static const cli_opt outcome_optv[] = {
	CLI_STRING("note", "TEXT", N_("a note on the outcome"), outcome_defaults, note),
	CLI_OPT_END,
};

static int service_outcome(cli_run *r)
{
	const outcome_opts *o = r->opts;
	int error;

	if ((error = tidu_service_outcome(r->store, r->args[0], r->args[1], o->note)) < 0)
		return cli_fail(error);
	printf(_("Referral %s: %s\n"), cli_safe(r->args[0]), cli_choice("referral_outcome", r->args[1]));
	return EXIT_OK;
}

/* ------------------------------------------------------------ referrals */

typedef struct {
	const char *district, *outcome, *firm;
	int json;
} referrals_opts;

static referrals_opts referrals_defaults;

static const cli_opt referrals_optv[] = {
	CLI_STRING("district", "CODE", N_("only firms of this district"), referrals_defaults,
		   district),
	CLI_STRING("outcome", "O", N_("only referrals with this outcome: pending, met, declined, done"),
		   referrals_defaults, outcome),
	CLI_STRING("firm", "USCC", N_("only this firm's referrals"), referrals_defaults, firm),
	CLI_FLAG("json", N_("print one JSON array"), referrals_defaults, json),
	CLI_OPT_END,
};

static int referrals_check(cli_run *r)
{
	const referrals_opts *o = r->opts;

	return cli_check_district(o->district);
}

static int service_referrals(cli_run *r)
{
	const referrals_opts *o = r->opts;
	tidu_referral_filter f = {o->district, o->outcome, o->firm};
	tidu_referral *v = NULL;
	size_t n = 0, i;
	int error;

	if ((error = tidu_service_referrals(r->store, &f, &v, &n)) < 0)
		return cli_fail(error);
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
		for (i = 0; i < n; i++) {
			tidu_json_begin_object(&w);
			cli_json_str(&w, "id", v[i].id);
			cli_json_str(&w, "uscc", v[i].uscc);
			cli_json_str(&w, "name", v[i].name);
			cli_json_str(&w, "district", v[i].district);
			cli_json_str(&w, "institution", v[i].institution);
			cli_json_str(&w, "institution_name", v[i].institution_name);
			cli_json_str(&w, "need", v[i].need);
			cli_json_str(&w, "date", v[i].date);
			cli_json_str(&w, "officer", v[i].officer);
			cli_json_str(&w, "outcome", v[i].outcome);
			cli_json_str(&w, "follow_up_due", v[i].follow_up_due);
			cli_json_str(&w, "note", v[i].note);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		tidu_referrals_free(v, n);
		return cli_emit_json(&w, &out);
	}
	cli_print_padded(stdout, _("Date"), 12);
	cli_print_padded(stdout, _("Outcome"), 10);
	cli_print_padded(stdout, _("Need"), 16);
	cli_print_padded(stdout, _("Institution"), 28);
	cli_print_padded(stdout, _("USCC"), 20);
	printf("%s\n", _("Name"));
	for (i = 0; i < n; i++) {
		cli_print_padded(stdout, v[i].date ? v[i].date : "-", 12);
		cli_print_padded(stdout, cli_choice("referral_outcome", v[i].outcome), 10);
		cli_print_padded(stdout, cli_choice("need", v[i].need), 16);
		cli_print_padded(stdout, v[i].institution_name ? v[i].institution_name
							     : v[i].institution ? v[i].institution : "-", 28);
		cli_print_padded(stdout, v[i].uscc, 20);
		printf("%s\n", cli_safe(v[i].name ? v[i].name : ""));
	}
	printf(_("%zu referrals\n"), n);
	tidu_referrals_free(v, n);
	return EXIT_OK;
}

static const cli_cmd service_subs[] = {
	{.name = "import", .summary = N_("import the service institutions from a CSV or XLSX file (the city's list, or a district's own)"),
	 .spec = {"tidu service import FILE.csv|FILE.xlsx", NULL, NULL, 1, 1}, .run = service_import},
	{.name = "list", .summary = N_("the service institutions"),
	 .spec = {"tidu service list [--need CODE] [--district CODE] [--json]", NULL, list_optv, 0, 0},
	 CLI_OPTS(list_defaults), .need = NEED_STORE, .check = list_check, .run = service_list},
	{.name = "match", .summary = N_("institutions for a firm's needs, problems and lost points, with the reasons"),
	 .spec = {"tidu service match USCC [--json]", NULL, cli_json_object_optv, 1, 1},
	 CLI_OPTS(cli_json_defaults), .need = NEED_STORE, .run = service_match},
	{.name = "refer", .summary = N_("refer a firm to an institution for a need"),
	 .spec = {"tidu service refer USCC INSTITUTION --need CODE [--due DATE] [--note TEXT]", NULL,
		  refer_optv, 2, 2},
	 CLI_OPTS(refer_defaults), .need = NEED_STORE, .check = refer_check, .run = service_refer},
	{.name = "outcome", .summary = N_("record a referral's outcome: pending, met, declined, done"),
	 .spec = {"tidu service outcome REFERRAL OUTCOME [--note TEXT]", NULL, outcome_optv, 2, 2},
	 CLI_OPTS(outcome_defaults), .need = NEED_STORE, .run = service_outcome},
	{.name = "referrals", .summary = N_("the referrals, newest first"),
	 .spec = {"tidu service referrals [--district CODE] [--outcome O] [--firm USCC] [--json]", NULL,
		  referrals_optv, 0, 0},
	 CLI_OPTS(referrals_defaults), .need = NEED_STORE, .check = referrals_check,
	 .run = service_referrals},
	{NULL},
};

const cli_cmd cmd_service = {
	.name = "service",
	.summary = N_("service institutions, matching firms with them, referrals"),
	.subs = service_subs,
};
