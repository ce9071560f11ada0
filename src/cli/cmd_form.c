/*
 * tidu form: the survey forms of this store (docs/surveys.md): import an
 * XLSForm workbook, list them, show one's questions and logic, and on the
 * city publish one to every device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tidu/file.h"
#include "tidu/forms.h"

/* tidu form import FILE.xlsx */
static int form_import(cli_run *r)
{
	tidu_buf data = TIDU_BUF_INIT;
	tidu_form_info in;
	int was_new = 0, error;

	if ((error = tidu_file_read(r->args[0], TIDU_FORM_FILE_MAX, &data)) == 0)
		error = tidu_forms_import(r->store, r->args[0], data.ptr, data.len, "local", &in,
					  &was_new);
	tidu_buf_free(&data);
	if (error < 0)
		return cli_fail(error);
	if (was_new)
		printf(_("Imported form '%s' version %s: %zu questions (%s)\n"), cli_safe(in.id),
		       cli_safe(in.version), in.questions, cli_safe(in.title));
	else if (!in.stored)
		printf(_("Form '%s' version %s is built in already (the same workbook)\n"),
		       cli_safe(in.id), cli_safe(in.version));
	else
		printf(_("Form '%s' version %s is stored already (the same workbook)\n"),
		       cli_safe(in.id), cli_safe(in.version));
	free(in.title);
	return EXIT_OK;
}

/* The source column of tidu form list ("built-in" as tidu rules list says it). */
static const char *source_name(const char *source)
{
	if (!strcmp(source, "city"))
		return _("city");
	if (!strcmp(source, "builtin"))
		return _("built-in");
	return _("local");
}

/* tidu form list [--json] */
static int form_list(cli_run *r)
{
	const cli_json_opts *o = r->opts;
	tidu_form_info *v = NULL;
	size_t n = 0, i;
	int code = EXIT_OK, error;

	if ((error = tidu_forms_list(r->store, &v, &n)) < 0)
		return cli_fail(error);
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
		for (i = 0; i < n; i++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "id");
			tidu_json_write_string(&w, v[i].id);
			tidu_json_write_key(&w, "version");
			tidu_json_write_string(&w, v[i].version);
			tidu_json_write_key(&w, "title");
			tidu_json_write_string(&w, v[i].title);
			tidu_json_write_key(&w, "questions");
			tidu_json_write_int64(&w, (int64_t)v[i].questions);
			tidu_json_write_key(&w, "source");
			tidu_json_write_string(&w, v[i].source);
			tidu_json_write_key(&w, "newest");
			tidu_json_write_bool(&w, v[i].newest);
			tidu_json_write_key(&w, "stored");
			tidu_json_write_bool(&w, v[i].stored);
			tidu_json_write_key(&w, "sha256");
			tidu_json_write_string(&w, v[i].sha256);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		code = cli_emit_json(&w, &out);
	} else {
		for (i = 0; i < n; i++) {
			char q[32];

			cli_print_padded(stdout, v[i].id, 20);
			cli_print_padded(stdout, v[i].version, 12);
			snprintf(q, sizeof(q), "%zu", v[i].questions);
			cli_print_padded(stdout, q, 5);
			cli_print_padded(stdout, source_name(v[i].source), 10);
			printf("%s%s\n", cli_safe(v[i].title), v[i].newest ? "" : _("  (older version)"));
		}
		if (!n)
			printf("%s\n", _("No form yet: import one with 'tidu form import FILE.xlsx'."));
	}
	tidu_forms_list_free(v, n);
	return code;
}

typedef struct {
	const char *version, *lang;
	int json;
} show_opts;

static show_opts show_defaults;

static const cli_opt show_optv[] = {
	CLI_STRING("version", "V", N_("this version of the form (default: the newest)"),
		   show_defaults, version),
	CLI_STRING("lang", "CODE", N_("the labels of this language (zh, en; default: the form's)"),
		   show_defaults, lang),
	CLI_FLAG("json", N_("print JSON"), show_defaults, json),
	CLI_OPT_END,
};

static void json_text(tidu_json_writer *w, const tidu_form *f, const char *key,
		      const tidu_form_text *t)
{
	size_t i;

	if (!t->text)
		return;
	tidu_json_write_key(w, key);
	tidu_json_begin_object(w);
	for (i = 0; i < f->nlangs; i++)
		if (t->text[i]) {
			tidu_json_write_key(w, f->langs[i][0] ? f->langs[i] : "default");
			tidu_json_write_string(w, t->text[i]);
		}
	tidu_json_end_object(w);
}

static void json_opt(tidu_json_writer *w, const char *key, const char *v)
{
	if (!v)
		return;
	tidu_json_write_key(w, key);
	tidu_json_write_string(w, v);
}

static int show_json(const tidu_form *f)
{
	tidu_buf out = TIDU_BUF_INIT;
	tidu_json_writer w;
	size_t i, j;

	tidu_json_writer_init(&w, &out, 1);
	tidu_json_begin_object(&w);
	json_opt(&w, "id", f->id);
	json_opt(&w, "version", f->version);
	json_text(&w, f, "title", &f->title);
	tidu_json_write_key(&w, "languages");
	tidu_json_begin_array(&w);
	for (i = 0; i < f->nlangs; i++)
		tidu_json_write_string(&w, f->langs[i][0] ? f->langs[i] : "default");
	tidu_json_end_array(&w);
	tidu_json_write_key(&w, "questions");
	tidu_json_begin_array(&w);
	for (i = 0; i < f->nq; i++) {
		const tidu_form_question *q = &f->q[i];

		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "type");
		tidu_json_write_string(&w, tidu_qtype_name(q->type));
		json_opt(&w, "name", q->name);
		json_opt(&w, "media", q->media);
		if (q->list) {
			tidu_json_write_key(&w, "list");
			tidu_json_write_string(&w, q->list->name);
		}
		if (q->or_other) {
			tidu_json_write_key(&w, "or_other");
			tidu_json_write_bool(&w, 1);
		}
		if (q->parent != TIDU_FORM_TOP) {
			tidu_json_write_key(&w, "in");
			tidu_json_write_string(&w, f->q[q->parent].name);
		}
		json_text(&w, f, "label", &q->label);
		json_text(&w, f, "hint", &q->hint);
		json_opt(&w, "required", q->required_text);
		json_opt(&w, "relevant", q->relevant_text);
		json_opt(&w, "constraint", q->constraint_text);
		json_text(&w, f, "constraint_message", &q->constraint_message);
		json_opt(&w, "calculation", q->calculation_text);
		json_opt(&w, "default", q->default_text);
		json_opt(&w, "read_only", q->read_only_text);
		json_opt(&w, "choice_filter", q->choice_filter_text);
		json_opt(&w, "repeat_count", q->repeat_count_text);
		json_opt(&w, "save_to", q->save_to);
		tidu_json_write_key(&w, "row");
		tidu_json_write_int64(&w, (int64_t)q->row);
		tidu_json_end_object(&w);
	}
	tidu_json_end_array(&w);
	tidu_json_write_key(&w, "choices");
	tidu_json_begin_object(&w);
	for (i = 0; i < f->nlists; i++) {
		tidu_json_write_key(&w, f->lists[i].name);
		tidu_json_begin_array(&w);
		for (j = 0; j < f->lists[i].n; j++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "name");
			tidu_json_write_string(&w, f->lists[i].choices[j].name);
			json_text(&w, f, "label", &f->lists[i].choices[j].label);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
	}
	tidu_json_end_object(&w);
	tidu_json_end_object(&w);
	return cli_emit_json(&w, &out);
}

/* One line of logic: "  relevant: ${a} = 'yes'". */
static void show_logic(const char *what, const char *text)
{
	if (text)
		printf("      %s %s\n", what, cli_safe(text));
}

static void show_text(const tidu_form *f, const char *lang)
{
	size_t i, depth;

	printf("%s %s  %s\n", cli_safe(f->id), cli_safe(f->version),
	       cli_safe(tidu_form_text_get(f, &f->title, lang)));
	for (i = 0; i < f->nq; i++) {
		const tidu_form_question *q = &f->q[i];
		size_t p;

		if (q->type == TIDU_Q_END_GROUP || q->type == TIDU_Q_END_REPEAT)
			continue;
		for (depth = 0, p = q->parent; p != TIDU_FORM_TOP; p = f->q[p].parent)
			depth++;
		printf("%*s", (int)(2 * depth), "");
		cli_print_padded(stdout, q->name, 18);
		cli_print_padded(stdout, q->list ? q->type_text : tidu_qtype_name(q->type), 22);
		printf("%s%s\n", cli_safe(tidu_form_text_get(f, &q->label, lang)),
		       q->required == 1 ? " *" : "");
		show_logic(_("relevant:"), q->relevant_text);
		show_logic(_("constraint:"), q->constraint_text);
		show_logic(_("calculation:"), q->calculation_text);
		show_logic(_("required if:"), q->required == -1 ? q->required_text : NULL);
		show_logic(_("fills:"), q->save_to);
	}
}

/* tidu form show FORM [--version V] [--lang CODE] [--json] */
static int form_show(cli_run *r)
{
	const show_opts *o = r->opts;
	tidu_form *f = NULL;
	int code, error;

	if ((error = tidu_forms_get(r->store, r->args[0], o->version, &f, NULL)) < 0)
		return cli_fail(error);
	if (o->json) {
		code = show_json(f);
	} else {
		show_text(f, o->lang);
		code = EXIT_OK;
	}
	tidu_form_free(f);
	return code;
}

typedef struct {
	const char *version;
} publish_opts;

static publish_opts publish_defaults;

static const cli_opt publish_optv[] = {
	CLI_STRING("version", "V", N_("this version of the form (default: the newest)"),
		   publish_defaults, version),
	CLI_OPT_END,
};

/* tidu form publish FORM [--version V] (city) */
static int form_publish(cli_run *r)
{
	const publish_opts *o = r->opts;
	tidu_form_info in;
	int error;

	if ((error = tidu_forms_publish(r->store, r->args[0], o->version, &in)) < 0)
		return cli_fail(error);
	printf(_("Published form '%s' version %s: every device receives it with its next sync\n"),
	       cli_safe(in.id), cli_safe(in.version));
	free(in.title);
	return EXIT_OK;
}

static const cli_cmd form_subs[] = {
	{.name = "import", .summary = N_("import an XLSForm workbook (.xlsx) for use on this store"),
	 .spec = {"tidu form import FILE.xlsx", NULL, NULL, 1, 1},
	 .need = NEED_STORE, .run = form_import},
	{.name = "list", .summary = N_("the forms of this store and their versions"),
	 .spec = {"tidu form list [--json]", NULL, cli_json_array_optv, 0, 0},
	 CLI_OPTS(cli_json_defaults), .need = NEED_STORE, .run = form_list},
	{.name = "show", .summary = N_("a form's questions, types and logic"),
	 .spec = {"tidu form show FORM [--version V] [--lang CODE] [--json]", NULL, show_optv, 1, 1},
	 CLI_OPTS(show_defaults), .need = NEED_STORE, .run = form_show},
	{.name = "publish", .summary = N_("city: send a form (stored or built in) to every device (with the next sync)"),
	 .spec = {"tidu form publish FORM [--version V]", NULL, publish_optv, 1, 1},
	 CLI_OPTS(publish_defaults), .need = NEED_CITY, .run = form_publish},
	{.name = NULL},
};

const cli_cmd cmd_form = {
	.name = "form", .summary = N_("survey forms (XLSForm): import, list, show, publish"),
	.subs = form_subs,
};
