/*
 * tidu pool: the reserve lists (后备清单) and the year's targets
 * (docs/pool.md): add a firm to a tier's list, take it off, list a tier
 * with each firm's readiness, set the targets on the city, see the
 * progress per tier and district.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tidu/buf.h"
#include "tidu/dict.h"
#include "tidu/file.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "tidu/parse.h"
#include "tidu/pool.h"

static int parse_range(const char *s, const char *what, int64_t lo, int64_t hi, int64_t *out)
{
	if (tidu_parse_int64(s, out) < 0 || *out < lo || *out > hi) {
		tidu_error_clear();
		return cli_error(EXIT_USAGE, _("invalid %s '%s': use %lld to %lld"), what, s,
				 (long long)lo, (long long)hi);
	}
	return EXIT_OK;
}

static int this_year(void)
{
	char today[11];

	tidu_date_today(today);
	return (today[0] - '0') * 1000 + (today[1] - '0') * 100 + (today[2] - '0') * 10 +
	       (today[3] - '0');
}

static const char *tier_label(int tier)
{
	switch (tier) {
	case 1:
		return _("innovative SME");
	case 2:
		return _("provincial SRDI SME");
	default:
		return _("little giant");
	}
}

/* ------------------------------------------------------------ add, remove */

typedef struct {
	const char *tier, *officer, *reason;
} add_opts;

static add_opts add_defaults;

static const cli_opt add_optv[] = {
	CLI_STRING("tier", "N", N_("the list: 1 innovative SME, 2 provincial SRDI SME, 3 little giant"),
		   add_defaults, tier),
	CLI_STRING("officer", "NAME", N_("the firm's assigned officer (指定专人)"), add_defaults, officer),
	CLI_STRING("reason", "TEXT", N_("why it joins the list"), add_defaults, reason),
	CLI_OPT_END,
};

static int add_check(cli_run *r)
{
	const add_opts *o = r->opts;
	int64_t t;

	if (!o->tier)
		return cli_error(EXIT_USAGE, "%s", _("say which list with --tier 1, 2 or 3"));
	return parse_range(o->tier, "tier", 1, 3, &t);
}

static int pool_add(cli_run *r)
{
	const add_opts *o = r->opts;
	int64_t tier;
	int was, error;

	parse_range(o->tier, "tier", 1, 3, &tier);
	if ((error = tidu_pool_add(r->store, r->args[0], (int)tier, o->officer, o->reason, &was)) < 0)
		return cli_fail(error);
	if (was)
		printf(_("%s moved from the tier %d reserve list to tier %d (%s)\n"),
		       cli_safe(r->args[0]), was, (int)tier, tier_label((int)tier));
	else
		printf(_("%s added to the tier %d reserve list (%s)\n"), cli_safe(r->args[0]),
		       (int)tier, tier_label((int)tier));
	return EXIT_OK;
}

typedef struct {
	const char *reason;
} remove_opts;

static remove_opts remove_defaults;

static const cli_opt remove_optv[] = {
	CLI_STRING("reason", "TEXT", N_("why it leaves the list (required)"), remove_defaults, reason),
	CLI_OPT_END,
};

static int remove_check(cli_run *r)
{
	const remove_opts *o = r->opts;

	if (!o->reason || !*o->reason)
		return cli_error(EXIT_USAGE, "%s",
				 _("say why the firm leaves its reserve list (--reason)"));
	return EXIT_OK;
}

static int pool_remove(cli_run *r)
{
	const remove_opts *o = r->opts;
	int was, error;

	if ((error = tidu_pool_remove(r->store, r->args[0], o->reason, &was)) < 0)
		return cli_fail(error);
	printf(_("%s taken off the tier %d reserve list\n"), cli_safe(r->args[0]), was);
	return EXIT_OK;
}

/* ------------------------------------------------------------ list */

typedef struct {
	const char *tier, *district, *officer, *csv, *xlsx;
	int json;
} list_opts;

static list_opts list_defaults;

static const cli_opt list_optv[] = {
	CLI_STRING("tier", "N", N_("the list: 1, 2 or 3"), list_defaults, tier),
	CLI_STRING("district", "CODE", N_("only firms of this district"), list_defaults, district),
	CLI_STRING("officer", "NAME", N_("only firms of this assigned officer"), list_defaults, officer),
	CLI_FLAG("json", N_("print one JSON array"), list_defaults, json),
	CLI_STRING("csv", "FILE", N_("write a CSV table to FILE (without --tier: all three lists)"),
		   list_defaults, csv),
	CLI_STRING("xlsx", "FILE", N_("write a workbook to FILE, one sheet per tier (without --tier: all three)"),
		   list_defaults, xlsx),
	CLI_OPT_END,
};

static int list_check(cli_run *r)
{
	const list_opts *o = r->opts;
	int64_t t;
	int code;

	if ((o->csv != NULL) + (o->xlsx != NULL) + o->json > 1)
		return cli_error(EXIT_USAGE, "%s", _("--json, --csv and --xlsx go one at a time"));
	if (!o->tier && !o->csv && !o->xlsx)
		return cli_error(EXIT_USAGE, "%s", _("say which list with --tier 1, 2 or 3"));
	if (o->tier && (code = parse_range(o->tier, "tier", 1, 3, &t)) != EXIT_OK)
		return code;
	return cli_check_district(o->district);
}

static int pool_export(cli_run *r)
{
	const list_opts *o = r->opts;
	tidu_pool_filter f = {0, o->district, o->officer};
	const char *path = o->csv ? o->csv : o->xlsx;
	size_t rows = 0;
	int64_t tier = 0;
	int error;

	if (o->tier)
		parse_range(o->tier, "tier", 1, 3, &tier);
	f.tier = (int)tier;
	if ((error = tidu_pool_export(r->store, &f, o->xlsx != NULL, path, &rows)) < 0)
		return cli_fail(error);
	printf(_("%zu firms of the reserve lists written to '%s'\n"), rows, cli_safe(path));
	return EXIT_OK;
}

/* The entries as a table or one JSON array; frees them. */
static int print_entries(tidu_pool_entry *v, size_t n, int json)
{
	size_t i;

	if (json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
		for (i = 0; i < n; i++) {
			const tidu_pool_entry *e = &v[i];

			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "uscc");
			tidu_json_write_string(&w, e->uscc);
			cli_json_str(&w, "name", e->name);
			cli_json_str(&w, "district", e->district);
			tidu_json_write_key(&w, "tier");
			tidu_json_write_int64(&w, e->tier);
			cli_json_str(&w, "officer", e->officer);
			cli_json_str(&w, "since", e->since);
			cli_json_str(&w, "reason", e->reason);
			tidu_json_write_key(&w, "status");
			tidu_json_write_string(&w, tidu_assess_status_name(e->status));
			tidu_json_write_key(&w, "score");
			if (e->scored)
				tidu_json_write_double(&w, e->score);
			else
				tidu_json_write_null(&w);
			tidu_json_write_key(&w, "hard_failed");
			tidu_json_write_int64(&w, (int64_t)e->failed);
			tidu_json_write_key(&w, "missing");
			tidu_json_write_int64(&w, (int64_t)e->missing);
			cli_json_str(&w, "top_deduction", e->top_item);
			tidu_json_write_key(&w, "top_deduction_points");
			if (e->top_item)
				tidu_json_write_double(&w, e->top_lost);
			else
				tidu_json_write_null(&w);
			cli_json_str(&w, "last_visit", e->last_visit);
			cli_json_str(&w, "follow_up_due", e->follow_up_due);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		tidu_pool_list_free(v, n);
		return cli_emit_json(&w, &out);
	}
	cli_print_padded(stdout, _("USCC"), 20);
	cli_print_padded(stdout, _("Status"), 12);
	cli_print_padded(stdout, _("Score"), 8);
	cli_print_padded(stdout, _("Failed"), 8);
	cli_print_padded(stdout, _("Officer"), 12);
	cli_print_padded(stdout, _("Last visit"), 12);
	cli_print_padded(stdout, _("Follow-up"), 12);
	cli_print_padded(stdout, _("Top deduction"), 24);
	printf("%s\n", _("Name"));
	for (i = 0; i < n; i++) {
		const tidu_pool_entry *e = &v[i];
		tidu_buf b = TIDU_BUF_INIT;

		cli_print_padded(stdout, e->uscc, 20);
		cli_print_padded(stdout, tidu_assess_status_short(e->status), 12);
		if (e->scored)
			tidu_assess_format(&b, e->score);
		cli_print_padded(stdout, e->scored ? b.ptr : "-", 8);
		tidu_buf_clear(&b);
		tidu_buf_printf(&b, "%zu", e->failed);
		cli_print_padded(stdout, b.ptr, 8);
		cli_print_padded(stdout, e->officer ? e->officer : "-", 12);
		cli_print_padded(stdout, e->last_visit ? e->last_visit : "-", 12);
		cli_print_padded(stdout, e->follow_up_due ? e->follow_up_due : "-", 12);
		cli_print_padded(stdout, e->top_item ? e->top_item : "-", 24);
		printf("%s\n", cli_safe(e->name ? e->name : ""));
		tidu_buf_free(&b);
	}
	tidu_pool_list_free(v, n);
	return EXIT_OK;
}

static int pool_list(cli_run *r)
{
	const list_opts *o = r->opts;
	tidu_pool_filter f = {0, o->district, o->officer};
	tidu_pool_entry *v = NULL;
	size_t n = 0;
	int64_t tier;
	int error, code;

	if (o->csv || o->xlsx)
		return pool_export(r);
	parse_range(o->tier, "tier", 1, 3, &tier);
	f.tier = (int)tier;
	if ((error = tidu_pool_list(r->store, &f, &v, &n)) < 0)
		return cli_fail(error);
	if (!n && !o->json) {
		printf(_("The tier %d reserve list (%s) is empty: add a firm with 'tidu pool add USCC --tier %d'.\n"),
		       (int)tier, tier_label((int)tier), (int)tier);
		tidu_pool_list_free(v, n);
		return EXIT_OK;
	}
	if ((code = print_entries(v, n, o->json)) != EXIT_OK || o->json)
		return code;
	printf(_("%zu firms on the tier %d reserve list (%s), most ready first\n"), n, (int)tier,
	       tier_label((int)tier));
	return EXIT_OK;
}

/* ------------------------------------------------------------ suggest */

typedef struct {
	const char *tier, *within, *district;
	int json;
} suggest_opts;

static suggest_opts suggest_defaults;

static const cli_opt suggest_optv[] = {
	CLI_STRING("tier", "N", N_("the list: 1, 2 or 3"), suggest_defaults, tier),
	CLI_STRING("within", "P", N_("at most P points short (default 5)"), suggest_defaults, within),
	CLI_STRING("district", "CODE", N_("only firms of this district"), suggest_defaults, district),
	CLI_FLAG("json", N_("print one JSON array"), suggest_defaults, json),
	CLI_OPT_END,
};

static int suggest_check(cli_run *r)
{
	const suggest_opts *o = r->opts;
	double d;
	int64_t t;
	int code;

	if (!o->tier)
		return cli_error(EXIT_USAGE, "%s", _("say which list with --tier 1, 2 or 3"));
	if ((code = parse_range(o->tier, "tier", 1, 3, &t)) != EXIT_OK)
		return code;
	if (o->within && (tidu_parse_number(o->within, &d, NULL) < 0 || !(d >= 0) || d > 100)) {
		tidu_error_clear();
		return cli_error(EXIT_USAGE, _("invalid --within '%s': points from 0 to 100"), o->within);
	}
	return cli_check_district(o->district);
}

static int pool_suggest(cli_run *r)
{
	const suggest_opts *o = r->opts;
	tidu_pool_entry *v = NULL;
	size_t n = 0;
	double within = 5;
	int64_t tier;
	int error, code;

	parse_range(o->tier, "tier", 1, 3, &tier);
	if (o->within && tidu_parse_number(o->within, &within, NULL) < 0)
		return cli_fail(TIDU_EINVAL);
	if ((error = tidu_pool_suggest(r->store, (int)tier, within, o->district, &v, &n)) < 0)
		return cli_fail(error);
	if (!n && !o->json) {
		printf(_("No firm off the tier %d list passes or falls short by %g points or less.\n"),
		       (int)tier, within);
		tidu_pool_list_free(v, n);
		return EXIT_OK;
	}
	if ((code = print_entries(v, n, o->json)) != EXIT_OK || o->json)
		return code;
	printf(_("%zu candidates for the tier %d reserve list (%s): add one with 'tidu pool add USCC --tier %d'\n"),
	       n, (int)tier, tier_label((int)tier), (int)tier);
	return EXIT_OK;
}

/* ------------------------------------------------------------ check */

static const char *problem_text(tidu_pool_problem p)
{
	switch (p) {
	case TIDU_POOL_NO_OFFICER:
		return _("no assigned officer");
	case TIDU_POOL_CONFLICT:
		return _("unresolved conflicts");
	case TIDU_POOL_TWO_DISTRICTS:
		return _("claimed by two districts");
	default:
		return _("inputs older than the last full year");
	}
}

static const char *problem_name(tidu_pool_problem p)
{
	switch (p) {
	case TIDU_POOL_NO_OFFICER:
		return "no_officer";
	case TIDU_POOL_CONFLICT:
		return "conflicts";
	case TIDU_POOL_TWO_DISTRICTS:
		return "two_districts";
	default:
		return "stale";
	}
}

static int pool_check(cli_run *r)
{
	const cli_json_opts *o = r->opts;
	tidu_pool_issue *v = NULL;
	size_t n = 0, i;
	int error;

	if ((error = tidu_pool_check(r->store, &v, &n)) < 0)
		return cli_fail(error);
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
		for (i = 0; i < n; i++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "uscc");
			tidu_json_write_string(&w, v[i].uscc);
			cli_json_str(&w, "name", v[i].name);
			cli_json_str(&w, "district", v[i].district);
			tidu_json_write_key(&w, "reserve_tier");
			tidu_json_write_int64(&w, v[i].tier);
			tidu_json_write_key(&w, "problem");
			tidu_json_write_string(&w, problem_name(v[i].problem));
			cli_json_str(&w, "detail", v[i].detail);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		tidu_pool_issues_free(v, n);
		return cli_emit_json(&w, &out);
	}
	for (i = 0; i < n; i++) {
		cli_print_padded(stdout, v[i].uscc, 20);
		cli_print_padded(stdout, problem_text(v[i].problem), 30);
		cli_print_padded(stdout, v[i].detail ? v[i].detail : "", 12);
		printf("%s\n", cli_safe(v[i].name ? v[i].name : ""));
	}
	if (n)
		printf(_("%zu problems in the pool\n"), n);
	else
		printf("%s\n", _("No problem in the pool: every firm on a list has an officer and recent figures, no firm has a conflict."));
	tidu_pool_issues_free(v, n);
	return EXIT_OK;
}

/* ------------------------------------------------------------ history */

typedef struct {
	int json;
	tidu_json_writer *w;
	size_t n;
} history_out;

static int history_cb(void *ctx, const tidu_pool_change *c)
{
	history_out *h = ctx;
	char when[32];

	cli_local_minute(c->wall_ms, when);
	h->n++;
	if (h->json) {
		tidu_json_begin_object(h->w);
		tidu_json_write_key(h->w, "when");
		tidu_json_write_string(h->w, when);
		tidu_json_write_key(h->w, "device");
		tidu_json_write_string(h->w, c->device ? c->device : "");
		tidu_json_write_key(h->w, "field");
		tidu_json_write_string(h->w, c->field);
		cli_json_str(h->w, "old", c->old);
		cli_json_str(h->w, "value", c->value);
		tidu_json_end_object(h->w);
		return 0;
	}
	cli_print_padded(stdout, when, 18);
	cli_print_padded(stdout, c->device ? c->device : "", 18);
	cli_print_padded(stdout, cli_safe_field(tidu_dict_field(TIDU_ENTITY_FIRM, c->field),
						tidu_dict_label(tidu_dict_field(TIDU_ENTITY_FIRM, c->field))),
			 32);
	printf("%s", cli_safe(c->old ? c->old : "-"));
	printf(" -> %s\n", cli_safe(c->value ? c->value : "-"));
	return 0;
}

static int pool_history(cli_run *r)
{
	const cli_json_opts *o = r->opts;
	tidu_buf out = TIDU_BUF_INIT;
	tidu_json_writer w;
	history_out h = {o->json, &w, 0};
	int error;

	if (o->json) {
		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
	}
	if ((error = tidu_pool_history(r->store, r->args[0], history_cb, &h)) < 0) {
		tidu_buf_free(&out);
		return cli_fail(error);
	}
	if (o->json) {
		tidu_json_end_array(&w);
		return cli_emit_json(&w, &out);
	}
	if (!h.n)
		printf("%s\n", _("This firm has never been on a reserve list."));
	return EXIT_OK;
}

/* ------------------------------------------------------------ due */

typedef struct {
	const char *district, *officer;
	int overdue, json;
} due_opts;

static due_opts due_defaults;

static const cli_opt due_optv[] = {
	CLI_FLAG("overdue", N_("only those past their date"), due_defaults, overdue),
	CLI_STRING("district", "CODE", N_("only firms of this district"), due_defaults, district),
	CLI_STRING("officer", "NAME", N_("only this officer's"), due_defaults, officer),
	CLI_FLAG("json", N_("print one JSON array"), due_defaults, json),
	CLI_OPT_END,
};

static int due_check(cli_run *r)
{
	const due_opts *o = r->opts;

	return cli_check_district(o->district);
}

static int pool_due(cli_run *r)
{
	const due_opts *o = r->opts;
	tidu_pool_due_filter f = {o->overdue, o->district, o->officer};
	tidu_pool_due *v = NULL;
	size_t n = 0, i;
	int error;

	if ((error = tidu_pool_due_list(r->store, &f, &v, &n)) < 0)
		return cli_fail(error);
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
		for (i = 0; i < n; i++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "uscc");
			tidu_json_write_string(&w, v[i].uscc);
			cli_json_str(&w, "name", v[i].name);
			cli_json_str(&w, "district", v[i].district);
			cli_json_str(&w, "officer", v[i].officer);
			tidu_json_write_key(&w, "reserve_tier");
			tidu_json_write_int64(&w, v[i].tier);
			cli_json_str(&w, "visit", v[i].visit);
			cli_json_str(&w, "visit_date", v[i].visit_date);
			cli_json_str(&w, "due", v[i].due);
			tidu_json_write_key(&w, "overdue");
			tidu_json_write_bool(&w, v[i].overdue);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		tidu_pool_due_free(v, n);
		return cli_emit_json(&w, &out);
	}
	for (i = 0; i < n; i++) {
		if (!i || strcmp(v[i].officer ? v[i].officer : "", v[i - 1].officer ? v[i - 1].officer : ""))
			printf("%s\n", cli_safe(v[i].officer && *v[i].officer ? v[i].officer : _("(no officer)")));
		printf("  ");
		cli_print_padded(stdout, v[i].due, 12);
		cli_print_padded(stdout, v[i].overdue ? _("overdue") : "", 10);
		cli_print_padded(stdout, v[i].uscc, 20);
		printf("%s\n", cli_safe(v[i].name ? v[i].name : ""));
	}
	if (n)
		printf(_("%zu follow-ups due\n"), n);
	else
		printf("%s\n", _("No follow-up is due."));
	tidu_pool_due_free(v, n);
	return EXIT_OK;
}

/* ------------------------------------------------------------ review */

typedef struct {
	const char *year, *district, *officer;
	int json;
} review_opts;

static review_opts review_defaults;

static const cli_opt review_optv[] = {
	CLI_STRING("year", "Y", N_("the year to look back on (default: this year)"), review_defaults, year),
	CLI_STRING("district", "CODE", N_("only firms of this district"), review_defaults, district),
	CLI_STRING("officer", "NAME", N_("only this officer's firms"), review_defaults, officer),
	CLI_FLAG("json", N_("print one JSON array"), review_defaults, json),
	CLI_OPT_END,
};

static int review_check(cli_run *r)
{
	const review_opts *o = r->opts;
	int64_t v;
	int code;

	if (o->year && (code = parse_range(o->year, "year", 2000, 2100, &v)) != EXIT_OK)
		return code;
	return cli_check_district(o->district);
}

static void json_readiness(tidu_json_writer *w, const char *key, const tidu_pool_readiness *p)
{
	tidu_json_write_key(w, key);
	tidu_json_begin_object(w);
	tidu_json_write_key(w, "status");
	tidu_json_write_string(w, tidu_assess_status_name(p->status));
	tidu_json_write_key(w, "score");
	if (p->scored)
		tidu_json_write_double(w, p->score);
	else
		tidu_json_write_null(w);
	tidu_json_write_key(w, "hard_failed");
	tidu_json_write_int64(w, (int64_t)p->failed);
	tidu_json_write_key(w, "missing");
	tidu_json_write_int64(w, (int64_t)p->missing);
	tidu_json_end_object(w);
}

static void json_tier(tidu_json_writer *w, const char *key, int tier)
{
	tidu_json_write_key(w, key);
	if (tier)
		tidu_json_write_int64(w, tier);
	else
		tidu_json_write_null(w);
}

/* "status score" of a readiness, as the table shows it. */
static void readiness_text(tidu_buf *b, const tidu_pool_readiness *p)
{
	tidu_buf_clear(b);
	tidu_buf_puts(b, tidu_assess_status_short(p->status));
	if (p->scored) {
		tidu_buf_putc(b, ' ');
		tidu_assess_format(b, p->score);
	}
}

/*
 * What changed, as a person reads it: the labels of the firm's fields,
 * then the years whose figures changed and how many values ("figures of
 * 2024, 2025 (10)"); JSON has every key.
 */
static void print_changed(tidu_buf *b, const tidu_pool_review_row *e)
{
	size_t j, nfig = 0, n = 0;
	const char *last_year = NULL;

	tidu_buf_clear(b);
	for (j = 0; j < e->nchanged; j++) {
		const tidu_field *f;

		if (strchr(e->changed[j], '.')) {
			nfig++;
			continue;
		}
		f = tidu_dict_field(TIDU_ENTITY_FIRM, e->changed[j]);
		if (n++)
			tidu_buf_puts(b, _(", "));
		tidu_buf_puts(b, f ? tidu_dict_label(f) : e->changed[j]);
	}
	if (!nfig)
		return;
	if (n)
		tidu_buf_puts(b, _(", "));
	tidu_buf_puts(b, _("figures of"));
	for (j = 0; j < e->nchanged; j++) {
		const char *dot = strchr(e->changed[j], '.');

		if (!dot || (last_year && !strncmp(last_year, e->changed[j], (size_t)(dot - e->changed[j]) + 1)))
			continue;
		tidu_buf_printf(b, "%s%.*s", last_year ? _(", ") : " ", (int)(dot - e->changed[j]),
				e->changed[j]);
		last_year = e->changed[j];
	}
	tidu_buf_printf(b, " (%zu)", nfig);
}

static int review_json(tidu_pool_review_row *v, size_t n, int year)
{
	tidu_buf out = TIDU_BUF_INIT;
	tidu_json_writer w;
	size_t i, j;

	tidu_json_writer_init(&w, &out, 1);
	tidu_json_begin_object(&w);
	tidu_json_write_key(&w, "year");
	tidu_json_write_int64(&w, year);
	tidu_json_write_key(&w, "firms");
	tidu_json_begin_array(&w);
	for (i = 0; i < n; i++) {
		const tidu_pool_review_row *e = &v[i];

		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "uscc");
		tidu_json_write_string(&w, e->uscc);
		cli_json_str(&w, "name", e->name);
		cli_json_str(&w, "district", e->district);
		cli_json_str(&w, "officer", e->officer);
		tidu_json_write_key(&w, "tier");
		tidu_json_write_int64(&w, e->tier);
		json_tier(&w, "tier_then", e->tier_then);
		json_tier(&w, "tier_now", e->tier_now);
		cli_json_str(&w, "left", e->left);
		cli_json_str(&w, "left_reason", e->left_reason);
		tidu_json_write_key(&w, "visits");
		tidu_json_write_int64(&w, e->visits);
		cli_json_str(&w, "last_visit", e->last_visit);
		json_readiness(&w, "then", &e->then);
		json_readiness(&w, "now", &e->now);
		tidu_json_write_key(&w, "changes");
		tidu_json_write_int64(&w, (int64_t)e->nchanges);
		tidu_json_write_key(&w, "changed");
		tidu_json_begin_array(&w);
		for (j = 0; j < e->nchanged; j++)
			tidu_json_write_string(&w, e->changed[j]);
		tidu_json_end_array(&w);
		tidu_json_end_object(&w);
	}
	tidu_json_end_array(&w);
	tidu_json_end_object(&w);
	tidu_pool_review_free(v, n);
	return cli_emit_json(&w, &out);
}

static int pool_review(cli_run *r)
{
	const review_opts *o = r->opts;
	tidu_pool_review_row *v = NULL;
	tidu_pool_review_filter f = {this_year(), o->district, o->officer};
	tidu_buf b = TIDU_BUF_INIT;
	size_t n = 0, i, unvisited = 0;
	int64_t year = f.year;
	int error;

	if (o->year)
		parse_range(o->year, "year", 2000, 2100, &year);
	f.year = (int)year;
	if ((error = tidu_pool_review(r->store, &f, &v, &n)) < 0)
		return cli_fail(error);
	if (o->json)
		return review_json(v, n, f.year);
	if (!n) {
		printf(_("No firm was on a reserve list in %d.\n"), f.year);
		tidu_pool_review_free(v, n);
		return EXIT_OK;
	}
	cli_print_padded(stdout, _("USCC"), 20);
	cli_print_padded(stdout, _("List"), 8);
	cli_print_padded(stdout, _("Visits"), 8);
	cli_print_padded(stdout, _("At the start"), 16);
	cli_print_padded(stdout, _("At the end"), 16);
	cli_print_padded(stdout, _("Changes"), 8);
	cli_print_padded(stdout, _("Officer"), 12);
	printf("%s\n", _("Name"));
	for (i = 0; i < n; i++) {
		const tidu_pool_review_row *e = &v[i];

		tidu_buf_clear(&b);
		if (e->tier_then != e->tier_now)
			tidu_buf_printf(&b, "%c→%c", e->tier_then ? '0' + e->tier_then : '-',
					e->tier_now ? '0' + e->tier_now : '-');
		else
			tidu_buf_printf(&b, "%d", e->tier_now);
		cli_print_padded(stdout, e->uscc, 20);
		cli_print_padded(stdout, b.ptr, 8);
		tidu_buf_clear(&b);
		tidu_buf_printf(&b, "%lld", (long long)e->visits);
		cli_print_padded(stdout, b.ptr, 8);
		unvisited += e->visits == 0;
		readiness_text(&b, &e->then);
		cli_print_padded(stdout, b.ptr, 16);
		readiness_text(&b, &e->now);
		cli_print_padded(stdout, b.ptr, 16);
		tidu_buf_clear(&b);
		tidu_buf_printf(&b, "%zu", e->nchanges);
		cli_print_padded(stdout, b.ptr, 8);
		cli_print_padded(stdout, e->officer ? e->officer : "-", 12);
		printf("%s\n", cli_safe(e->name ? e->name : ""));
		if (e->left)
			printf("    %s %s: %s\n", _("left the list on"), e->left,
			       cli_safe(e->left_reason ? e->left_reason : ""));
		if (e->nchanged) {
			print_changed(&b, e);
			printf("    %s %s\n", _("changed:"), cli_safe(b.ptr));
		}
	}
	tidu_buf_free(&b);
	printf(_("%zu firms of the lists in %d; %zu not visited in the year\n"), n, f.year, unvisited);
	tidu_pool_review_free(v, n);
	return EXIT_OK;
}

/* ------------------------------------------------------------ targets */

typedef struct {
	const char *year, *tier, *district;
} set_opts;

static set_opts set_defaults;

static const cli_opt set_optv[] = {
	CLI_STRING("year", "Y", N_("the year of the target"), set_defaults, year),
	CLI_STRING("tier", "N", N_("the tier: 1, 2 or 3"), set_defaults, tier),
	CLI_STRING("district", "CODE", N_("a district's target (default: the city's)"), set_defaults,
		   district),
	CLI_OPT_END,
};

static int set_check(cli_run *r)
{
	const set_opts *o = r->opts;
	int64_t v;
	int code;

	if (!o->year || !o->tier)
		return cli_error(EXIT_USAGE, "%s", _("give --year Y and --tier N"));
	if ((code = parse_range(o->year, "year", 2000, 2100, &v)) != EXIT_OK ||
	    (code = parse_range(o->tier, "tier", 1, 3, &v)) != EXIT_OK ||
	    (code = parse_range(r->args[0], "target", 0, 1000000, &v)) != EXIT_OK)
		return code;
	return cli_check_district(o->district);
}

static int target_set(cli_run *r)
{
	const set_opts *o = r->opts;
	int64_t year, tier, n;
	int error;

	parse_range(o->year, "year", 2000, 2100, &year);
	parse_range(o->tier, "tier", 1, 3, &tier);
	parse_range(r->args[0], "target", 0, 1000000, &n);
	if ((error = tidu_pool_target_set(r->store, (int)year, (int)tier, o->district, n)) < 0)
		return cli_fail(error);
	if (o->district)
		printf(_("target %lld set for tier %d (%s) in %lld, district %s %s: it goes out signed with the next 'tidu sync'\n"),
		       (long long)n, (int)tier, tier_label((int)tier), (long long)year, o->district,
		       tidu_dict_district_name(o->district));
	else
		printf(_("target %lld set for tier %d (%s) in %lld, the city: it goes out signed with the next 'tidu sync'\n"),
		       (long long)n, (int)tier, tier_label((int)tier), (long long)year);
	return EXIT_OK;
}

typedef struct {
	const char *year;
	int json;
} targets_opts;

static targets_opts targets_defaults;

static const cli_opt targets_optv[] = {
	CLI_STRING("year", "Y", N_("the year (default: this year)"), targets_defaults, year),
	CLI_FLAG("json", N_("print one JSON object (docs/pool.md)"), targets_defaults, json),
	CLI_OPT_END,
};

static int targets_check(cli_run *r)
{
	const targets_opts *o = r->opts;
	int64_t v;

	return o->year ? parse_range(o->year, "year", 2000, 2100, &v) : EXIT_OK;
}

static void json_progress(tidu_json_writer *w, const tidu_pool_progress *p)
{
	double c = tidu_pool_completion(p);

	tidu_json_write_key(w, "target");
	if (p->target >= 0)
		tidu_json_write_int64(w, p->target);
	else
		tidu_json_write_null(w);
	tidu_json_write_key(w, "recognised");
	tidu_json_write_int64(w, p->recognised);
	tidu_json_write_key(w, "completion");
	if (c >= 0)
		tidu_json_write_double(w, c);
	else
		tidu_json_write_null(w);
	tidu_json_write_key(w, "reserve");
	tidu_json_write_int64(w, p->reserve);
	tidu_json_write_key(w, "passing");
	tidu_json_write_int64(w, p->passing);
}

static void print_progress(const char *who, const tidu_pool_progress *p)
{
	tidu_buf b = TIDU_BUF_INIT;
	double c = tidu_pool_completion(p);

	cli_print_padded(stdout, who, 20);
	if (p->target >= 0)
		tidu_buf_printf(&b, "%lld", (long long)p->target);
	cli_print_padded(stdout, p->target >= 0 ? b.ptr : "-", 8);
	tidu_buf_clear(&b);
	tidu_buf_printf(&b, "%lld", (long long)p->recognised);
	cli_print_padded(stdout, b.ptr, 8);
	tidu_buf_clear(&b);
	if (c >= 0)
		tidu_buf_printf(&b, "%.1f%%", c);
	cli_print_padded(stdout, c >= 0 ? b.ptr : "-", 10);
	tidu_buf_clear(&b);
	tidu_buf_printf(&b, "%lld", (long long)p->reserve);
	cli_print_padded(stdout, b.ptr, 8);
	printf("%lld\n", (long long)p->passing);
	tidu_buf_free(&b);
}

static int pool_targets(cli_run *r)
{
	const targets_opts *o = r->opts;
	tidu_pool_tier_progress t[3];
	int64_t year;
	size_t i;
	int error, k;

	year = this_year();
	if (o->year)
		parse_range(o->year, "year", 2000, 2100, &year);
	if ((error = tidu_pool_targets(r->store, (int)year, t)) < 0)
		return cli_fail(error);
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "year");
		tidu_json_write_int64(&w, year);
		tidu_json_write_key(&w, "tiers");
		tidu_json_begin_array(&w);
		for (k = 0; k < 3; k++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "tier");
			tidu_json_write_int64(&w, t[k].tier);
			json_progress(&w, &t[k].total);
			tidu_json_write_key(&w, "districts");
			tidu_json_begin_array(&w);
			for (i = 0; i < t[k].ndistricts; i++) {
				tidu_json_begin_object(&w);
				tidu_json_write_key(&w, "district");
				tidu_json_write_string(&w, t[k].districts[i].district);
				json_progress(&w, &t[k].districts[i]);
				tidu_json_end_object(&w);
			}
			tidu_json_end_array(&w);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		tidu_json_end_object(&w);
		tidu_pool_targets_free(t);
		return cli_emit_json(&w, &out);
	}
	for (k = 0; k < 3; k++) {
		printf(_("Tier %d (%s), %lld\n"), t[k].tier, tier_label(t[k].tier), (long long)year);
		printf("  ");
		cli_print_padded(stdout, _("District"), 20);
		cli_print_padded(stdout, _("Target"), 8);
		cli_print_padded(stdout, _("Recognised"), 8);
		cli_print_padded(stdout, _("Completion"), 10);
		cli_print_padded(stdout, _("Reserve"), 8);
		printf("%s\n", _("Passing"));
		for (i = 0; i < t[k].ndistricts; i++) {
			const char *code = t[k].districts[i].district;
			const char *name = tidu_dict_district_name(code);

			printf("  ");
			print_progress(name ? name : code, &t[k].districts[i]);
		}
		printf("  ");
		print_progress(strcmp(tidu_store_role(r->store), "city") ? _("this district") : _("city"),
			       &t[k].total);
	}
	tidu_pool_targets_free(t);
	return EXIT_OK;
}

/* ------------------------------------------------------------ report */

typedef struct {
	const char *out, *year, *district;
} report_opts;

static report_opts report_defaults;

static const cli_opt report_optv[] = {
	CLI_STRING("out", "FILE", N_("the HTML file to write (required)"), report_defaults, out),
	CLI_STRING("year", "Y", N_("the year (default: this year)"), report_defaults, year),
	CLI_STRING("district", "CODE", N_("only this district"), report_defaults, district),
	CLI_OPT_END,
};

static int report_check(cli_run *r)
{
	const report_opts *o = r->opts;
	int64_t v;
	int code;

	if (!o->out)
		return cli_error(EXIT_USAGE, "%s", _("give the file to write with --out FILE.html"));
	if (o->year && (code = parse_range(o->year, "year", 2000, 2100, &v)) != EXIT_OK)
		return code;
	return cli_check_district(o->district);
}

static int pool_report(cli_run *r)
{
	const report_opts *o = r->opts;
	tidu_buf html = TIDU_BUF_INIT;
	char today[11];
	int64_t year = this_year();
	int error;

	if (o->year)
		parse_range(o->year, "year", 2000, 2100, &year);
	tidu_date_today(today);
	if ((error = tidu_pool_report(r->store, (int)year, o->district, today, &html)) < 0 ||
	    (error = tidu_file_write(o->out, html.ptr, html.len, 0644)) < 0) {
		tidu_buf_free(&html);
		return cli_fail(error);
	}
	tidu_buf_free(&html);
	printf(_("Report written to '%s'\n"), cli_safe(o->out));
	return EXIT_OK;
}

static const cli_cmd target_subs[] = {
	{.name = "set", .summary = N_("city: set a year's target for a tier, for the city or a district"),
	 .spec = {"tidu pool target set --year Y --tier N [--district CODE] COUNT", NULL, set_optv, 1, 1},
	 CLI_OPTS(set_defaults), .need = NEED_STORE, .check = set_check, .run = target_set},
	{NULL},
};

static const cli_cmd pool_subs[] = {
	{.name = "list", .summary = N_("a tier's reserve list, most ready first"),
	 .spec = {"tidu pool list --tier N [--district CODE] [--officer NAME] [--json | --csv FILE | --xlsx FILE]", NULL,
		  list_optv, 0, 0},
	 CLI_OPTS(list_defaults), .need = NEED_STORE, .check = list_check, .run = pool_list},
	{.name = "suggest", .summary = N_("firms to add to a tier's list: passing or close"),
	 .spec = {"tidu pool suggest --tier N [--within P] [--district CODE] [--json]", NULL,
		  suggest_optv, 0, 0},
	 CLI_OPTS(suggest_defaults), .need = NEED_STORE, .check = suggest_check,
	 .run = pool_suggest},
	{.name = "check", .summary = N_("firms of the pool with no officer, conflicts, two districts or old figures"),
	 .spec = {"tidu pool check [--json]", NULL, cli_json_array_optv, 0, 0},
	 CLI_OPTS(cli_json_defaults), .need = NEED_STORE, .run = pool_check},
	{.name = "history", .summary = N_("a firm's history on the reserve lists, from the change log"),
	 .spec = {"tidu pool history USCC [--json]", NULL, cli_json_array_optv, 1, 1},
	 CLI_OPTS(cli_json_defaults), .need = NEED_STORE, .run = pool_history},
	{.name = "due", .summary = N_("the follow-ups due, by officer"),
	 .spec = {"tidu pool due [--overdue] [--district CODE] [--officer NAME] [--json]", NULL,
		  due_optv, 0, 0},
	 CLI_OPTS(due_defaults), .need = NEED_STORE, .check = due_check, .run = pool_due},
	{.name = "review", .summary = N_("the look-back review of a year: visits, assessment then and now, changes"),
	 .spec = {"tidu pool review [--year Y] [--district CODE] [--officer NAME] [--json]", NULL,
		  review_optv, 0, 0},
	 CLI_OPTS(review_defaults), .need = NEED_STORE, .check = review_check, .run = pool_review},
	{.name = "add", .summary = N_("put a firm on a tier's reserve list"),
	 .spec = {"tidu pool add USCC --tier N [--officer NAME] [--reason TEXT]", NULL, add_optv, 1, 1},
	 CLI_OPTS(add_defaults), .need = NEED_STORE, .check = add_check, .run = pool_add},
	{.name = "remove", .summary = N_("take a firm off its reserve list"),
	 .spec = {"tidu pool remove USCC --reason TEXT", NULL, remove_optv, 1, 1},
	 CLI_OPTS(remove_defaults), .need = NEED_STORE, .check = remove_check, .run = pool_remove},
	{.name = "targets", .summary = N_("the year's targets and progress per tier and district"),
	 .spec = {"tidu pool targets [--year Y] [--json]", NULL, targets_optv, 0, 0},
	 CLI_OPTS(targets_defaults), .need = NEED_STORE, .check = targets_check, .run = pool_targets},
	{.name = "report", .summary = N_("the pool report: one HTML page for A4 (targets, districts, lists, visits, follow-ups)"),
	 .spec = {"tidu pool report --out FILE.html [--year Y] [--district CODE]", NULL, report_optv,
		  0, 0},
	 CLI_OPTS(report_defaults), .need = NEED_STORE, .check = report_check, .run = pool_report},
	{.name = "target", .summary = N_("city: set the year's targets"), .subs = target_subs},
	{NULL},
};

const cli_cmd cmd_pool = {
	.name = "pool",
	.summary = N_("the reserve lists of the three tiers and the year's targets"),
	.subs = pool_subs,
};
