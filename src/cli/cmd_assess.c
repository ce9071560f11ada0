/*
 * tidu assess: where a firm stands on each tier (docs/assess.md). The
 * engine is src/core/assess.c; this file picks the pack and the year,
 * applies what-if values and prints.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tidu/alloc.h"
#include "tidu/assess.h"
#include "tidu/assess_html.h"
#include "tidu/csv.h"
#include "tidu/file.h"
#include "tidu/parse.h"
#include "tidu/rules.h"
#include "tidu/uscc.h"
#include "tidu/utf8.h"

typedef struct {
	const char *rules, *year, *tier, *set, *district, *csv, *html;
	int all, json;
} assess_opts;

static assess_opts assess_defaults;

static const cli_opt assess_optv[] = {
	CLI_STRING("rules", "ID", N_("the rule pack: rules-2022 or rules-2026 (default: in force today)"),
		   assess_defaults, rules),
	CLI_STRING("year", "Y", N_("the assessment year (default: the latest with a revenue figure)"),
		   assess_defaults, year),
	CLI_STRING("tier", "N", N_("only tier N (1, 2 or 3)"), assess_defaults, tier),
	CLI_STRING("set", "KEY=VALUE", N_("what if KEY were VALUE (nothing is written; more pairs may follow the USCC)"),
		   assess_defaults, set),
	CLI_FLAG("all", N_("every firm of the store, one line each"), assess_defaults, all),
	CLI_STRING("district", "CODE", N_("with --all: only firms of this district"), assess_defaults,
		   district),
	CLI_STRING("csv", "FILE", N_("with --all: write a CSV table to FILE"), assess_defaults, csv),
	CLI_FLAG("json", N_("print JSON (one object; with --all one object per line)"),
		 assess_defaults, json),
	CLI_STRING("html", "FILE", N_("write a printable report of the firm (A4, HTML) to FILE"),
		   assess_defaults, html),
	CLI_OPT_END,
};

/* What the checks found, for the run. */
typedef struct {
	int year, tier;
} assess_args;

static int parse_small(const char *s, const char *what, int lo, int hi, int *out)
{
	int64_t v;

	if (tidu_parse_int64(s, &v) < 0 || v < lo || v > hi) {
		tidu_error_clear();
		return cli_error(EXIT_USAGE, _("invalid %s '%s': use %d to %d"), what, s, lo, hi);
	}
	*out = (int)v;
	return EXIT_OK;
}

static int assess_check(cli_run *r)
{
	const assess_opts *o = r->opts;
	char uscc[TIDU_USCC_LEN + 1];
	int i, v, code;

	if (o->year && (code = parse_small(o->year, _("year"), 1949, 2100, &v)) != EXIT_OK)
		return code;
	if (o->tier && (code = parse_small(o->tier, _("tier"), 1, 3, &v)) != EXIT_OK)
		return code;
	if (o->all) {
		if (r->nargs)
			return cli_error(EXIT_USAGE, "%s", _("--all takes no USCC"));
		if (o->set)
			return cli_error(EXIT_USAGE, "%s", _("--set is for one firm, not --all"));
		if (o->district && !tidu_dict_district_name(o->district))
			return cli_error(EXIT_USAGE,
				_("unknown district '%s': use a code from the division list"), o->district);
		if (o->html)
			return cli_error(EXIT_USAGE, "%s", _("--html is for one firm, not --all"));
		if (o->csv && o->json)
			return cli_error(EXIT_USAGE, "%s", _("give --csv or --json, not both"));
		return EXIT_OK;
	}
	if (o->district || o->csv)
		return cli_error(EXIT_USAGE, "%s", _("--district and --csv go with --all"));
	if (r->nargs < 1)
		return cli_error(EXIT_USAGE, "%s", _("give a firm's USCC, or --all"));
	if (tidu_uscc_validate(r->args[0], uscc) < 0)
		return cli_fail(TIDU_EINVAL);
	for (i = 1; i < r->nargs; i++)
		if (!strchr(r->args[i], '='))
			return cli_error(EXIT_USAGE, _("'%s' is not KEY=VALUE"), r->args[i]);
	if (o->set && !strchr(o->set, '='))
		return cli_error(EXIT_USAGE, _("'%s' is not KEY=VALUE"), o->set);
	if (o->html && o->json)
		return cli_error(EXIT_USAGE, "%s", _("give --html or --json, not both"));
	/* A report is handed over: it shows what is recorded, never a what-if. */
	if (o->html && (o->set || r->nargs > 1))
		return cli_error(EXIT_USAGE, "%s",
				 _("--html reports the recorded data: drop --set and KEY=VALUE"));
	return EXIT_OK;
}

/* The pack asked for, or the one in force today. */
static int pick_pack(const assess_opts *o, const tidu_packs *set, const tidu_pack **out)
{
	char today[11];
	tidu_buf ids = TIDU_BUF_INIT;
	const tidu_pack *p;
	size_t i;

	if (o->rules) {
		if ((*out = tidu_packs_find(set, o->rules)))
			return EXIT_OK;
		for (i = 0; (p = tidu_packs_nth(set, i)); i++)
			tidu_buf_printf(&ids, "%s%s", i ? ", " : "", tidu_pack_id(p));
		cli_error(EXIT_USAGE, _("unknown rules '%s': use one of %s"), o->rules, ids.ptr);
		tidu_buf_free(&ids);
		return EXIT_USAGE;
	}
	tidu_date_today(today);
	if (!(*out = tidu_packs_in_force(set, today)))
		return cli_error(EXIT_USAGE, "%s", _("no rule pack is in force today"));
	return EXIT_OK;
}

/* "3.4%", "12 年", "—" for an unknown value. */
static void value_text(tidu_buf *b, const tidu_assess_indicator *d)
{
	if (!d->has_value) {
		tidu_buf_puts(b, "—");
		return;
	}
	tidu_assess_format(b, d->value);
	if (d->unit && !strcmp(d->unit, "%"))
		tidu_buf_puts(b, "%");
}

static void print_indicators(const tidu_assess_tier *t)
{
	tidu_buf a = TIDU_BUF_INIT;
	size_t i, w = 20;

	for (i = 0; i < t->nindicators; i++) {
		size_t c = tidu_utf8_columns(t->indicators[i].label);

		if (c > w)
			w = c;
	}
	printf("  ");
	cli_print_padded(stdout, _("Indicator"), w + 2);
	cli_print_padded(stdout, _("Points"), 9);
	cli_print_padded(stdout, _("Value"), 10);
	printf("%s\n", _("To gain points"));
	for (i = 0; i < t->nindicators; i++) {
		const tidu_assess_indicator *d = &t->indicators[i];

		printf("  ");
		cli_print_padded(stdout, d->label, w + 2);
		tidu_buf_clear(&a);
		if (d->known) {
			tidu_assess_format(&a, d->points);
		} else {
			tidu_buf_puts(&a, "?");
		}
		tidu_buf_puts(&a, "/");
		tidu_assess_format(&a, d->max);
		cli_print_padded(stdout, a.ptr, 9);
		tidu_buf_clear(&a);
		value_text(&a, d);
		cli_print_padded(stdout, a.ptr, 10);
		tidu_buf_clear(&a);
		if (d->next.has) {
			if (d->next.has_value) {
				tidu_buf_printf(&a, "%s ", d->next.op);
				tidu_assess_format(&a, d->next.value);
				if (d->unit && !strcmp(d->unit, "%"))
					tidu_buf_puts(&a, "%");
			} else {
				tidu_buf_puts(&a, d->next.condition);
			}
			tidu_buf_puts(&a, " → ");
			tidu_assess_format(&a, d->next.points);
			tidu_buf_puts(&a, " (+");
			tidu_assess_format(&a, d->next.points - d->points);
			tidu_buf_puts(&a, ")");
		} else if (!d->known) {
			tidu_buf_puts(&a, _("inputs missing"));
		}
		printf("%s\n", cli_safe(a.ptr));
	}
	tidu_buf_free(&a);
}

static void print_tier(const tidu_assess_tier *t, const char *uscc)
{
	tidu_buf a = TIDU_BUF_INIT;
	size_t i;

	printf("\n");
	printf(_("Tier %d, %s"), t->tier, cli_safe(t->label));
	printf(": %s\n", tidu_assess_status_label(t->status));
	if (t->scored) {
		tidu_buf_clear(&a);
		tidu_assess_format(&a, t->score);
		if (t->score_max > t->score) {
			tidu_buf_puts(&a, "–");
			tidu_assess_format(&a, t->score_max);
		}
		tidu_buf_puts(&a, " / ");
		tidu_assess_format(&a, t->max);
		printf("  %s %s", _("Score"), a.ptr);
		tidu_buf_clear(&a);
		tidu_assess_format(&a, t->pass_score);
		printf(_(" (pass: %s)"), a.ptr);
		for (i = 0; i < t->ncategories; i++) {
			const tidu_assess_category *c = &t->categories[i];

			tidu_buf_clear(&a);
			tidu_assess_format(&a, c->points);
			tidu_buf_puts(&a, "/");
			tidu_assess_format(&a, c->max);
			if (c->floor > 0) {
				tidu_buf_puts(&a, " ≥");
				tidu_assess_format(&a, c->floor);
			}
			printf("  %s %s", cli_safe(c->label), a.ptr);
		}
		printf("\n");
		if (t->rules)
			printf("  %s %s\n", _("Table:"), cli_safe(t->rules));
		print_indicators(t);
	}
	for (i = 0; i < t->nfailed; i++) {
		const tidu_assess_failed *f = &t->failed[i];

		tidu_buf_clear(&a);
		if (f->has_value)
			tidu_assess_format(&a, f->value);
		else if (f->text)
			tidu_buf_puts(&a, !strcmp(f->text, "no") ? _("no") : f->text);
		else
			tidu_buf_puts(&a, "—");
		if (f->op && f->has_threshold) {
			tidu_buf_printf(&a, _(", needs %s "), f->op);
			tidu_assess_format(&a, f->threshold);
		}
		printf("  %s %s: %s\n", _("Not met:"), cli_safe(f->label), cli_safe(a.ptr));
	}
	for (i = 0; i < t->ndirect; i++)
		printf("  %s %s\n", _("Direct condition met:"), cli_safe(t->direct_labels[i]));
	for (i = 0; i < t->nexempt; i++)
		printf("  %s %s\n", _("Exempt:"), cli_safe(t->exempt[i]));
	for (i = 0; i < t->njudgement; i++) {
		const tidu_assess_judgement *j = &t->judgement[i];

		printf("  %s %s\n", _("To judge:"), cli_safe(j->question));
		printf("      tidu firm set %s %s=yes|no\n", uscc, j->field);
	}
	if (t->nmissing) {
		printf("  %s ", _("Missing inputs:"));
		for (i = 0; i < t->nmissing; i++)
			printf("%s%s", i ? ", " : "", cli_safe(t->missing[i]));
		printf("\n");
	}
	tidu_buf_free(&a);
}

static void print_assessment(const tidu_assessment *a, const tidu_assess_input *in)
{
	const tidu_rec *firm = tidu_assess_input_firm(in);
	const char *uscc = tidu_view_rec_get(firm, "uscc");
	const char *name = tidu_view_rec_get(firm, "name");
	size_t i;

	printf("%s  %s\n", uscc, cli_safe(name ? name : ""));
	printf("%s %s %s %d (%s)\n", _("Rules:"), tidu_pack_id(a->pack), _("version"),
	       tidu_pack_version(a->pack), cli_safe(tidu_pack_title(a->pack)));
	if (a->year)
		printf("%s %d%s\n", _("Year:"), a->year,
		       a->year_default ? _(" (the latest with a revenue figure)") : "");
	for (i = 0; i < a->ntiers; i++)
		print_tier(&a->tiers[i], uscc);
}

/* ------------------------------------------------------------ --all */

typedef struct {
	const tidu_packs *set;
	const tidu_pack *pack;
	int year, tier, json;
	tidu_buf *csv;
	size_t firms;
	int code;
	tidu_buf line;  /* one firm's text; kept, so it grows once, not for every firm */
} all_ctx;

static int all_one(void *vctx, const tidu_assess_input *in)
{
	all_ctx *c = vctx;
	const tidu_rec *firm = tidu_assess_input_firm(in);
	const char *uscc = tidu_view_rec_get(firm, "uscc");
	tidu_assessment *a = NULL;
	tidu_buf *b = &c->line;
	size_t i;
	int error;

	if ((error = tidu_assess_run(c->set, c->pack, in, c->year, c->tier, &a)) < 0)
		return error;
	c->firms++;
	tidu_buf_clear(b);
	if (c->json) {
		tidu_json_writer w;

		tidu_json_writer_init(&w, b, 0);
		if ((error = tidu_assess_json(a, uscc, &w)) == 0 &&
		    (error = tidu_json_writer_finish(&w)) == 0) {
			fwrite(b->ptr, 1, b->len, stdout);
			fputc('\n', stdout);
		}
	} else if (c->csv) {
		const char *name = tidu_view_rec_get(firm, "name");
		const char *district = tidu_view_rec_get(firm, "district");

		tidu_csv_put_cell(c->csv, uscc, 0);
		tidu_csv_put_cell(c->csv, name ? name : "", 0);
		tidu_csv_put_cell(c->csv, district ? district : "", 0);
		tidu_buf_clear(b);
		if (a->year)
			tidu_buf_printf(b, "%d", a->year);
		tidu_csv_put_cell(c->csv, b->ptr ? b->ptr : "", 0);
		for (i = 0; i < a->ntiers; i++) {
			const tidu_assess_tier *t = &a->tiers[i];

			tidu_csv_put_cell(c->csv, tidu_assess_status_name(t->status), 0);
			tidu_buf_clear(b);
			if (t->scored)
				tidu_assess_format(b, t->score);
			tidu_csv_put_cell(c->csv, b->ptr ? b->ptr : "", 0);
			tidu_csv_put_cell(c->csv, t->nmissing ? t->missing[0] : "",
					  i + 1 == a->ntiers);
		}
	} else {
		const char *name = tidu_view_rec_get(firm, "name");

		printf("%s  ", uscc);
		for (i = 0; i < a->ntiers; i++) {
			const tidu_assess_tier *t = &a->tiers[i];

			tidu_buf_clear(b);
			tidu_buf_printf(b, "T%d %s", t->tier, tidu_assess_status_name(t->status));
			if (t->scored) {
				tidu_buf_puts(b, " ");
				tidu_assess_format(b, t->score);
			}
			cli_print_padded(stdout, b->ptr, 20);
		}
		printf("%s\n", cli_safe(name ? name : ""));
	}
	tidu_assessment_free(a);
	return error;
}

static int assess_all(cli_run *r, const tidu_packs *set, const tidu_pack *pack, int year,
		      int tier)
{
	const assess_opts *o = r->opts;
	tidu_buf csv = TIDU_BUF_INIT;
	all_ctx c = {set, pack, year, tier, o->json, o->csv ? &csv : NULL, 0, EXIT_OK,
		     TIDU_BUF_INIT};
	int error, k;

	if (o->csv) {
		tidu_buf_puts(&csv, "\xEF\xBB\xBF"); /* a BOM: Excel and WPS read UTF-8 */
		tidu_csv_put_cell(&csv, _("USCC"), 0);
		tidu_csv_put_cell(&csv, _("Name"), 0);
		tidu_csv_put_cell(&csv, _("District"), 0);
		tidu_csv_put_cell(&csv, _("Year"), 0);
		for (k = 1; k <= 3; k++) {
			tidu_buf h = TIDU_BUF_INIT;

			if (tier && k != tier)
				continue;
			tidu_buf_printf(&h, _("Tier %d status"), k);
			tidu_csv_put_cell(&csv, h.ptr, 0);
			tidu_buf_clear(&h);
			tidu_buf_printf(&h, _("Tier %d score"), k);
			tidu_csv_put_cell(&csv, h.ptr, 0);
			tidu_buf_clear(&h);
			tidu_buf_printf(&h, _("Tier %d first missing input"), k);
			tidu_csv_put_cell(&csv, h.ptr, k == 3 || k == tier);
			tidu_buf_free(&h);
		}
	}
	error = tidu_assess_each(r->store, o->district, all_one, &c);
	tidu_buf_free(&c.line);
	if (error == 0 && o->csv)
		error = tidu_file_write(o->csv, csv.ptr, csv.len, 0644);
	tidu_buf_free(&csv);
	if (error < 0)
		return cli_fail(error);
	if (o->csv)
		printf(_("%zu firms assessed, written to '%s'\n"), c.firms, cli_safe(o->csv));
	else if (!o->json)
		printf(_("%zu firms assessed (%s)\n"), c.firms, tidu_pack_id(pack));
	return EXIT_OK;
}

/* ------------------------------------------------------------ one firm */

static int assess_run(cli_run *r)
{
	const assess_opts *o = r->opts;
	tidu_packs *set = NULL;
	const tidu_pack *pack;
	tidu_assess_input *in = NULL;
	tidu_assessment *a = NULL;
	char uscc[TIDU_USCC_LEN + 1];
	int year = 0, tier = 0, code, error, i;

	if (o->year)
		parse_small(o->year, "year", 1949, 2100, &year);
	if (o->tier)
		parse_small(o->tier, "tier", 1, 3, &tier);
	if ((error = tidu_rules_load(r->store, &set)) < 0)
		return cli_fail(error);
	if ((code = pick_pack(o, set, &pack)) != EXIT_OK)
		goto done;
	if (o->all) {
		code = assess_all(r, set, pack, year, tier);
		goto done;
	}
	tidu_uscc_validate(r->args[0], uscc);
	if ((error = tidu_assess_input_load(r->store, uscc, &in)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	/* What-if values: --set, then the pairs after the USCC. */
	for (i = o->set ? 0 : 1; i < r->nargs; i++) {
		const char *pair = i == 0 ? o->set : r->args[i];
		const char *eq = strchr(pair, '=');
		char *key = tidu_strndup(pair, (size_t)(eq - pair));

		error = tidu_assess_input_set(in, key, eq + 1);
		free(key);
		if (error < 0) {
			code = cli_fail(error);
			goto done;
		}
	}
	if (year && !tidu_assess_has_year(in, year)) {
		code = cli_error(EXIT_USAGE, _("firm '%s' has no figures for %d: record them "
				 "(tidu firm set %s %d.revenue=...) or choose another --year"),
				 uscc, year, uscc, year);
		goto done;
	}
	if (!year && !tidu_assess_default_year(in)) {
		code = cli_error(EXIT_USAGE, _("firm '%s' has no year with a revenue figure: record "
				 "one (tidu firm set %s 2025.revenue=...) or give --year"), uscc, uscc);
		goto done;
	}
	tidu_assess_run(set, pack, in, year, tier, &a);
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		if ((error = tidu_assess_json(a, uscc, &w)) < 0) {
			tidu_buf_free(&out);
			code = cli_fail(error);
			goto done;
		}
		code = cli_emit_json(&w, &out);
		goto done;
	}
	if (o->html) {
		tidu_buf out = TIDU_BUF_INIT;
		char today[11];

		if ((error = tidu_date_today(today)) < 0 ||
		    (error = tidu_assess_html(a, tidu_assess_input_firm(in), today, &out)) < 0 ||
		    (error = tidu_file_write(o->html, out.ptr, out.len, 0644)) < 0) {
			tidu_buf_free(&out);
			code = cli_fail(error);
			goto done;
		}
		tidu_buf_free(&out);
		printf(_("report written to '%s'\n"), cli_safe(o->html));
		code = EXIT_OK;
		goto done;
	}
	print_assessment(a, in);
	code = EXIT_OK;
done:
	tidu_assessment_free(a);
	tidu_assess_input_free(in);
	tidu_packs_free(set);
	return code;
}

const cli_cmd cmd_assess = {
	.name = "assess",
	.summary = N_("where a firm stands on each tier, and what it loses"),
	.spec = {"tidu assess USCC [--rules ID] [--year Y] [--tier N] [--set KEY=VALUE] "
		 "[KEY=VALUE ...] [--json | --html FILE] | tidu assess --all [--district CODE] [--tier N] "
		 "[--json | --csv FILE]", NULL, assess_optv, 0, -1},
	CLI_OPTS(assess_defaults),
	.need = NEED_STORE,
	.check = assess_check,
	.run = assess_run,
};
