/*
 * tidu event: matchmaking meetings, trainings, competitions and the firms
 * that took part (docs/services.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tidu/alloc.h"
#include "tidu/dict.h"
#include "tidu/event.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "tidu/parse.h"

/* "U1,U2 U3": the firms of --firms, split on commas and spaces. */
static char **split_firms(const char *list, size_t *n)
{
	char **v = NULL;
	const char *p = list;

	*n = 0;
	while (p && *p) {
		size_t k = strcspn(p, ", ");

		if (k) {
			v = tidu_reallocarray(v, *n + 1, sizeof(*v));
			v[(*n)++] = tidu_strndup(p, k);
		}
		p += k + (p[k] != '\0');
	}
	return v;
}

static void free_list(char **v, size_t n)
{
	while (n)
		free(v[--n]);
	free(v);
}

/* ------------------------------------------------------------ add */

typedef struct {
	const char *kind, *date, *title, *place, *note, *district, *firms;
} add_opts;

static add_opts add_defaults;

static const cli_opt add_optv[] = {
	CLI_STRING("kind", "KIND", N_("matchmaking, training-basic, training-middle, training-senior, competition or other"),
		   add_defaults, kind),
	CLI_STRING("date", "DATE", N_("the day it is held (YYYY-MM-DD)"), add_defaults, date),
	CLI_STRING("title", "TEXT", N_("its title"), add_defaults, title),
	CLI_STRING("place", "TEXT", N_("where"), add_defaults, place),
	CLI_STRING("note", "TEXT", N_("a note"), add_defaults, note),
	CLI_STRING("district", "CODE", N_("city: the district holding it (default: the city's own)"),
		   add_defaults, district),
	CLI_STRING("firms", "U1,U2,...", N_("the firms that take part"), add_defaults, firms),
	CLI_OPT_END,
};

static int add_check(cli_run *r)
{
	const add_opts *o = r->opts;

	if (!o->kind)
		return cli_error(EXIT_USAGE, _("give the event's kind with --kind (%s)"),
				 tidu_dict_choice_values("event_kind"));
	if (!o->date)
		return cli_error(EXIT_USAGE, "%s", _("give the event's date with --date YYYY-MM-DD"));
	if (!o->title)
		return cli_error(EXIT_USAGE, "%s", _("give the event's title with --title"));
	return cli_check_district(o->district);
}

static int event_add(cli_run *r)
{
	const add_opts *o = r->opts;
	tidu_event_in in = {o->kind, o->date, o->title, o->place, o->note, o->district};
	char id[TIDU_UUID_LEN + 1];
	size_t n = 0;
	char **firms = split_firms(o->firms, &n);
	int error = tidu_event_add(r->store, &in, firms, n, id);

	free_list(firms, n);
	if (error < 0)
		return cli_fail(error);
	printf("%s\n", id);
	return EXIT_OK;
}

/* ------------------------------------------------------------ attend */

typedef struct {
	const char *people;
} attend_opts;

static attend_opts attend_defaults;

static const cli_opt attend_optv[] = {
	CLI_STRING("people", "N", N_("how many people each firm sent"), attend_defaults, people),
	CLI_OPT_END,
};

static int event_attend(cli_run *r)
{
	const attend_opts *o = r->opts;
	int64_t people = 0;
	size_t added;
	int error;

	if (o->people && (tidu_parse_int64(o->people, &people) < 0 || people < 0 || people > 10000)) {
		tidu_error_clear();
		return cli_error(EXIT_USAGE, _("invalid --people '%s': use 0 to 10000"), o->people);
	}
	if ((error = tidu_event_attend(r->store, r->args[0], r->args + 1, (size_t)(r->nargs - 1), people,
				       &added)) < 0)
		return cli_fail(error);
	printf(_("%zu firms recorded at the event (%zu already were)\n"), added,
	       (size_t)(r->nargs - 1) - added);
	return EXIT_OK;
}

/* ------------------------------------------------------------ list, show */

typedef struct {
	const char *since, *kind, *firm;
	int json;
} list_opts;

static list_opts list_defaults;

static const cli_opt list_optv[] = {
	CLI_STRING("since", "DATE", N_("only events on or after this day"), list_defaults, since),
	CLI_STRING("kind", "KIND", N_("only events of this kind"), list_defaults, kind),
	CLI_STRING("firm", "USCC", N_("only events this firm attended"), list_defaults, firm),
	CLI_FLAG("json", N_("print one JSON array"), list_defaults, json),
	CLI_OPT_END,
};

static int event_list(cli_run *r)
{
	const list_opts *o = r->opts;
	tidu_event_filter f = {o->since, o->kind, o->firm};
	tidu_event *v = NULL;
	size_t n = 0, i;
	int error;

	if ((error = tidu_event_list(r->store, &f, &v, &n)) < 0)
		return cli_fail(error);
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
		for (i = 0; i < n; i++) {
			tidu_json_begin_object(&w);
			cli_json_str(&w, "id", v[i].id);
			cli_json_str(&w, "district", v[i].district);
			cli_json_str(&w, "kind", v[i].kind);
			cli_json_str(&w, "date", v[i].date);
			cli_json_str(&w, "title", v[i].title);
			cli_json_str(&w, "place", v[i].place);
			cli_json_str(&w, "note", v[i].note);
			tidu_json_write_key(&w, "firms");
			tidu_json_write_int64(&w, v[i].firms);
			tidu_json_write_key(&w, "people");
			tidu_json_write_int64(&w, v[i].people);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		tidu_events_free(v, n);
		return cli_emit_json(&w, &out);
	}
	cli_print_padded(stdout, _("Date"), 12);
	cli_print_padded(stdout, _("Kind"), 22);
	cli_print_padded(stdout, _("Firms"), 6);
	cli_print_padded(stdout, _("Id"), 38);
	printf("%s\n", _("Title"));
	for (i = 0; i < n; i++) {
		char num[24];

		snprintf(num, sizeof(num), "%lld", (long long)v[i].firms);
		cli_print_padded(stdout, v[i].date ? v[i].date : "-", 12);
		cli_print_padded(stdout, cli_choice("event_kind", v[i].kind), 22);
		cli_print_padded(stdout, num, 6);
		cli_print_padded(stdout, v[i].id, 38);
		printf("%s\n", cli_safe(v[i].title ? v[i].title : ""));
	}
	printf(_("%zu events\n"), n);
	tidu_events_free(v, n);
	return EXIT_OK;
}

static int event_show(cli_run *r)
{
	char **usccs = NULL, **names = NULL;
	size_t n = 0, i;
	int error;

	if ((error = tidu_event_firms(r->store, r->args[0], &usccs, &names, &n)) < 0)
		return cli_fail(error);
	for (i = 0; i < n; i++) {
		cli_print_padded(stdout, usccs[i], 20);
		printf("%s\n", cli_safe(names[i] ? names[i] : ""));
	}
	printf(_("%zu firms attended\n"), n);
	free_list(usccs, n);
	free_list(names, n);
	return EXIT_OK;
}

static const cli_cmd event_subs[] = {
	{.name = "add", .summary = N_("record an event: a matchmaking meeting, a training, a competition"),
	 .spec = {"tidu event add --kind KIND --date DATE --title TEXT [--place TEXT] [--district CODE] [--firms U1,U2,...]",
		  NULL, add_optv, 0, 0},
	 CLI_OPTS(add_defaults), .need = NEED_STORE, .check = add_check, .run = event_add},
	{.name = "attend", .summary = N_("record the firms that took part in an event"),
	 .spec = {"tidu event attend EVENT USCC... [--people N]", NULL, attend_optv, 2, 1000},
	 CLI_OPTS(attend_defaults), .need = NEED_STORE, .run = event_attend},
	{.name = "list", .summary = N_("the events, newest first, with the firms that took part"),
	 .spec = {"tidu event list [--since DATE] [--kind KIND] [--firm USCC] [--json]", NULL,
		  list_optv, 0, 0},
	 CLI_OPTS(list_defaults), .need = NEED_STORE, .run = event_list},
	{.name = "show", .summary = N_("the firms that attended an event"),
	 .spec = {"tidu event show EVENT", NULL, NULL, 1, 1}, .need = NEED_STORE, .run = event_show},
	{NULL},
};

const cli_cmd cmd_event = {
	.name = "event",
	.summary = N_("matchmaking meetings, trainings, competitions and who took part"),
	.subs = event_subs,
};
