/*
 * tidu survey: responses to the forms of this store (docs/surveys.md):
 * add one from a JSON file, list, show, delete them, get a file back,
 * export a form's responses. The terminal fill is cmd_survey_fill.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_survey.h"
#include "tidu/alloc.h"
#include "tidu/file.h"
#include "tidu/i18n.h"
#include "tidu/survey.h"

/* Largest answers file read (bytes). */
#define ANSWERS_MAX ((size_t)64 << 20)

const char *cli_survey_lang(void)
{
	return tidu_i18n_is_zh() ? "zh" : "en";
}

/* Reads `path` ("-": standard input) whole into `out`. */
static int read_input(const char *path, size_t max, tidu_buf *out)
{
	char chunk[65536];
	size_t n;

	if (strcmp(path, "-"))
		return tidu_file_read(path, max, out);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (out->len + n > max) {
			tidu_buf_free(out);
			return tidu_error_set(TIDU_EINVAL,
				_("standard input: more than %zu MiB of answers"), max >> 20);
		}
		tidu_buf_put(out, chunk, n);
	}
	if (ferror(stdin)) {
		tidu_buf_free(out);
		return tidu_error_set(TIDU_ERROR, "%s", _("standard input: read error"));
	}
	return 0;
}

typedef struct {
	const char *answers, *version;
	int draft;
} add_opts;

static add_opts add_defaults;

static const cli_opt add_optv[] = {
	CLI_STRING("answers", "FILE", N_("the answers: a JSON object {name: value} ('-': standard input)"),
		   add_defaults, answers),
	CLI_STRING("version", "V", N_("this version of the form (default: the newest)"),
		   add_defaults, version),
	CLI_FLAG("draft", N_("keep it as a draft: incomplete answers are allowed"), add_defaults, draft),
	CLI_OPT_END,
};

static int add_check(cli_run *r)
{
	const add_opts *o = r->opts;

	if (!o->answers)
		return cli_error(EXIT_USAGE, "%s",
			_("give the answers with --answers FILE.json (or '-' for standard input); to fill on a terminal, use 'tidu survey fill'"));
	return EXIT_OK;
}

/* The directory of `path` (for the files its answers name), or NULL. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!strcmp(path, "-"))
		return NULL;
	if (!slash)
		return tidu_strdup(".");
	return tidu_strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* tidu survey add FORM USCC --answers FILE|- [--draft] [--version V] */
static int survey_add(cli_run *r)
{
	const add_opts *o = r->opts;
	tidu_buf data = TIDU_BUF_INIT;
	tidu_survey *sv = NULL;
	tidu_json *doc = NULL;
	char *dir = NULL;
	int error;

	if ((error = read_input(o->answers, ANSWERS_MAX, &data)) < 0)
		goto done;
	if ((error = tidu_json_parse(data.ptr ? data.ptr : "", data.len, &doc)) < 0) {
		tidu_error_prefix("%s: ", strcmp(o->answers, "-") ? o->answers : _("standard input"));
		goto done;
	}
	if (tidu_json_typeof(doc) != TIDU_JSON_OBJECT) {
		error = tidu_error_set(TIDU_EINVAL,
			_("%s: the answers must be one JSON object {name: value}"),
			strcmp(o->answers, "-") ? o->answers : _("standard input"));
		goto done;
	}
	dir = dir_of(o->answers);
	if ((error = tidu_survey_begin(r->store, r->args[0], o->version, r->args[1],
				       cli_survey_lang(), &sv)) < 0 ||
	    (error = tidu_survey_load_json(sv, doc, dir)) < 0)
		goto done;
	error = o->draft ? tidu_survey_save(sv) : tidu_survey_finalize(sv, NULL);
	if (error == 0)
		printf("%s\n", tidu_survey_id(sv));
done:
	tidu_survey_free(sv);
	tidu_json_free(doc);
	tidu_buf_free(&data);
	free(dir);
	return error < 0 ? cli_fail(error) : EXIT_OK;
}

typedef struct {
	const char *version;
} import_opts;

static import_opts import_defaults;

static const cli_opt import_optv[] = {
	CLI_STRING("version", "V", N_("this version of the form (default: the newest)"),
		   import_defaults, version),
	CLI_OPT_END,
};

/* tidu survey import FORM FILE.jsonl|- [--version V] */
static int survey_import(cli_run *r)
{
	const import_opts *o = r->opts;
	tidu_buf data = TIDU_BUF_INIT;
	char *dir = dir_of(r->args[1]);
	size_t n = 0;
	int error;

	if ((error = read_input(r->args[1], (size_t)1 << 30, &data)) == 0)
		error = tidu_survey_import(r->store, r->args[0], o->version,
					   data.ptr ? data.ptr : "", data.len, dir,
					   cli_survey_lang(), &n);
	if (error < 0 && strcmp(r->args[1], "-"))
		tidu_error_prefix("%s: ", r->args[1]);
	tidu_buf_free(&data);
	free(dir);
	if (error < 0)
		return cli_fail(error);
	printf(_("Added %zu responses to form '%s'\n"), n, cli_safe(r->args[0]));
	return EXIT_OK;
}

typedef struct {
	const char *form;
	int drafts, all, json;
} list_opts;

static list_opts list_defaults;

static const cli_opt list_optv[] = {
	CLI_STRING("form", "FORM", N_("only the responses to this form"), list_defaults, form),
	CLI_FLAG("drafts", N_("the drafts (not finalised) instead"), list_defaults, drafts),
	CLI_FLAG("all", N_("responses and drafts"), list_defaults, all),
	CLI_FLAG("json", N_("print one JSON array"), list_defaults, json),
	CLI_OPT_END,
};

static void info_json(tidu_json_writer *w, const tidu_survey_info *i)
{
	tidu_json_write_key(w, "id");
	tidu_json_write_string(w, i->id);
	tidu_json_write_key(w, "uscc");
	tidu_json_write_string(w, i->uscc);
	tidu_json_write_key(w, "firm");
	tidu_json_write_string(w, i->firm_name);
	tidu_json_write_key(w, "form");
	tidu_json_write_string(w, i->form);
	tidu_json_write_key(w, "version");
	tidu_json_write_string(w, i->version);
	tidu_json_write_key(w, "officer");
	tidu_json_write_string(w, i->officer);
	tidu_json_write_key(w, "started");
	tidu_json_write_string(w, i->started);
	tidu_json_write_key(w, "finished");
	if (i->draft)
		tidu_json_write_null(w);
	else
		tidu_json_write_string(w, i->finished);
	tidu_json_write_key(w, "draft");
	tidu_json_write_bool(w, i->draft);
	tidu_json_write_key(w, "files");
	tidu_json_write_int64(w, (int64_t)i->files);
}

/* "2026-12-03 14:20" of an ISO date-time. */
static void short_time(const char *iso, char out[17])
{
	snprintf(out, 17, "%.10s %.5s", iso, strlen(iso) > 11 ? iso + 11 : "");
}

/* tidu survey list [USCC] [--form F] [--drafts|--all] [--json] */
static int survey_list(cli_run *r)
{
	const list_opts *o = r->opts;
	tidu_survey_filter f = {r->nargs ? r->args[0] : NULL, o->form,
				o->all ? 2 : o->drafts ? 1 : 0};
	tidu_survey_info *v = NULL;
	size_t n = 0, i;
	int code = EXIT_OK, error;

	if ((error = tidu_survey_list(r->store, &f, &v, &n)) < 0)
		return cli_fail(error);
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
		for (i = 0; i < n; i++) {
			tidu_json_begin_object(&w);
			info_json(&w, &v[i]);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		code = cli_emit_json(&w, &out);
		goto done;
	}
	if (!n) {
		printf("%s\n", f.drafts == 1 ? _("No draft.")
			: _("No response yet: add one with 'tidu survey fill FORM USCC'."));
		goto done;
	}
	cli_print_padded(stdout, _("Id"), 38);
	cli_print_padded(stdout, _("Started"), 18);
	cli_print_padded(stdout, _("Form"), 30);
	cli_print_padded(stdout, _("State"), 8);
	printf("%s\n", _("Firm"));
	for (i = 0; i < n; i++) {
		char when[17];
		tidu_buf form = TIDU_BUF_INIT;

		short_time(v[i].started, when);
		tidu_buf_printf(&form, "%s %s", v[i].form, v[i].version);
		cli_print_padded(stdout, v[i].id, 38);
		cli_print_padded(stdout, when, 18);
		cli_print_padded(stdout, form.ptr, 30);
		cli_print_padded(stdout, v[i].draft ? _("draft") : _("done"), 8);
		printf("%s %s\n", cli_safe(v[i].uscc), cli_safe(v[i].firm_name));
		tidu_buf_free(&form);
	}
done:
	tidu_survey_list_free(v, n);
	return code;
}

/* Prints the answers object `obj` as "path  label: value" lines. */
static void show_answers(const tidu_form *f, const tidu_json *obj, const char *prefix,
			 const char *lang)
{
	size_t i, j;

	for (i = 0; i < tidu_json_count(obj); i++) {
		const char *name = tidu_json_key_at(obj, i);
		const tidu_json *v = tidu_json_at(obj, i);
		size_t q = f ? tidu_form_find(f, name) : TIDU_FORM_TOP;
		const char *label = q != TIDU_FORM_TOP ?
			tidu_form_text_get(f, &f->q[q].label, lang) : "";
		tidu_buf path = TIDU_BUF_INIT;

		tidu_buf_printf(&path, "%s%s", prefix, name);
		if (tidu_json_typeof(v) == TIDU_JSON_ARRAY && q != TIDU_FORM_TOP &&
		    f->q[q].type == TIDU_Q_BEGIN_REPEAT) {
			for (j = 0; j < tidu_json_count(v); j++) {
				tidu_buf sub = TIDU_BUF_INIT;

				tidu_buf_printf(&sub, "%s[%zu]/", path.ptr, j + 1);
				show_answers(f, tidu_json_at(v, j), sub.ptr, lang);
				tidu_buf_free(&sub);
			}
			tidu_buf_free(&path);
			continue;
		}
		printf("  %s", cli_safe(path.ptr));
		if (label[0])
			printf("  (%s)", cli_safe(label));
		printf(": ");
		if (tidu_json_typeof(v) == TIDU_JSON_ARRAY) {
			for (j = 0; j < tidu_json_count(v); j++)
				printf("%s%s", j ? " " : "",
				       cli_safe(tidu_json_as_string(tidu_json_at(v, j))
						? tidu_json_as_string(tidu_json_at(v, j)) : ""));
			printf("\n");
		} else if (tidu_json_typeof(v) == TIDU_JSON_NUMBER) {
			printf("%s\n", cli_safe(tidu_json_number_text(v)));
		} else if (tidu_json_typeof(v) == TIDU_JSON_STRING) {
			printf("%s\n", cli_safe_ml(tidu_json_as_string(v)));
		} else {
			printf("%s\n", tidu_json_typeof(v) == TIDU_JSON_NULL ? "-" :
			       tidu_json_as_bool(v) ? "true" : "false");
		}
		tidu_buf_free(&path);
	}
}

/* tidu survey show ID [--json] */
static int survey_show(cli_run *r)
{
	const cli_json_opts *o = r->opts;
	tidu_survey_info info;
	tidu_survey_file *files = NULL;
	tidu_form *form = NULL;
	tidu_json *doc = NULL;
	char *answers = NULL;
	size_t nfiles = 0, i;
	int code = EXIT_OK, error;

	if ((error = tidu_survey_get(r->store, r->args[0], &info, &answers)) < 0)
		return cli_fail(error);
	if (!info.draft && (error = tidu_survey_files(r->store, info.id, &files, &nfiles)) < 0)
		goto fail;
	if ((error = tidu_json_parse(answers, strlen(answers), &doc)) < 0)
		goto fail;
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_object(&w);
		info_json(&w, &info);
		tidu_json_write_key(&w, "answers");
		tidu_json_write_raw(&w, answers);
		tidu_json_write_key(&w, "attachments");
		tidu_json_begin_array(&w);
		for (i = 0; i < nfiles; i++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "question");
			tidu_json_write_string(&w, files[i].question);
			tidu_json_write_key(&w, "name");
			tidu_json_write_string(&w, files[i].name);
			tidu_json_write_key(&w, "size");
			tidu_json_write_int64(&w, files[i].size);
			tidu_json_write_key(&w, "sha256");
			tidu_json_write_string(&w, files[i].sha256);
			tidu_json_write_key(&w, "complete");
			tidu_json_write_bool(&w, files[i].have >= files[i].parts);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		tidu_json_end_object(&w);
		code = cli_emit_json(&w, &out);
		goto done;
	}
	/* The labels, when this store has the form's version (it may not yet). */
	if (tidu_forms_get(r->store, info.form, info.version, &form, NULL) < 0)
		tidu_error_clear();
	printf("%s %s\n", _("Response"), info.id);
	printf("  %s: %s %s\n", _("form"), cli_safe(info.form), cli_safe(info.version));
	printf("  %s: %s %s\n", _("firm"), cli_safe(info.uscc), cli_safe(info.firm_name));
	printf("  %s: %s\n", _("officer"), cli_safe(info.officer));
	printf("  %s: %s\n", _("started"), cli_safe(info.started));
	printf("  %s: %s\n", _("finished"), info.draft ? _("(a draft)") : cli_safe(info.finished));
	printf("%s\n", _("Answers:"));
	show_answers(form, doc, "", cli_survey_lang());
	for (i = 0; i < nfiles; i++)
		printf(_("  file of %s: %s, %lld bytes%s\n"), cli_safe(files[i].question),
		       cli_safe(files[i].name), (long long)files[i].size,
		       files[i].have < files[i].parts ? _(" (not all here yet: sync)") : "");
	goto done;
fail:
	code = cli_fail(error);
done:
	tidu_form_free(form);
	tidu_json_free(doc);
	free(answers);
	tidu_survey_files_free(files, nfiles);
	tidu_survey_info_clear(&info);
	return code;
}

/* tidu survey delete ID */
static int survey_delete(cli_run *r)
{
	int draft = 0, error;

	if ((error = tidu_survey_delete(r->store, r->args[0], &draft)) < 0)
		return cli_fail(error);
	printf(draft ? _("Deleted draft '%s'\n")
		     : _("Deleted response '%s' (the deletion syncs like any change)\n"),
	       cli_safe(r->args[0]));
	return EXIT_OK;
}

typedef struct {
	const char *out;
} file_opts;

static file_opts file_defaults;

static const cli_opt file_optv[] = {
	CLI_STRING("out", "FILE", N_("write the file here"), file_defaults, out),
	CLI_OPT_END,
};

static int file_check(cli_run *r)
{
	const file_opts *o = r->opts;

	if (!o->out || !*o->out)
		return cli_error(EXIT_USAGE, "%s", _("give where to write the file with --out FILE"));
	return EXIT_OK;
}

/* tidu survey file ID QUESTION --out FILE */
static int survey_file(cli_run *r)
{
	const file_opts *o = r->opts;
	tidu_buf data = TIDU_BUF_INIT;
	tidu_survey_file info;
	int error;

	memset(&info, 0, sizeof(info));
	if ((error = tidu_survey_file_read(r->store, r->args[0], r->args[1], &data, &info)) == 0)
		error = tidu_file_write(o->out, data.ptr ? data.ptr : "", data.len, 0600);
	tidu_buf_wipe(&data);
	if (error == 0)
		printf(_("Wrote '%s' (%lld bytes) to %s\n"), cli_safe(info.name),
		       (long long)info.size, cli_safe(o->out));
	free(info.question);
	free(info.name);
	return error < 0 ? cli_fail(error) : EXIT_OK;
}

typedef struct {
	const char *format, *out, *version;
} export_opts;

static export_opts export_defaults;

static const cli_opt export_optv[] = {
	CLI_STRING("format", "F", N_("csv (default), xlsx or json"), export_defaults, format),
	CLI_STRING("out", "FILE", N_("write to FILE (csv: one more file per repeat, FILE-REPEAT.csv)"),
		   export_defaults, out),
	CLI_STRING("version", "V", N_("only the responses to this version (default: every version)"),
		   export_defaults, version),
	CLI_OPT_END,
};

static int export_format(const char *name, tidu_survey_format *out)
{
	if (!name || !strcmp(name, "csv"))
		*out = TIDU_SURVEY_CSV;
	else if (!strcmp(name, "xlsx"))
		*out = TIDU_SURVEY_XLSX;
	else if (!strcmp(name, "json"))
		*out = TIDU_SURVEY_JSON;
	else
		return cli_error(EXIT_USAGE, _("unknown export format '%s': give csv, xlsx or json"),
				 name);
	return EXIT_OK;
}

static int export_check(cli_run *r)
{
	const export_opts *o = r->opts;
	tidu_survey_format f;

	if (o->out && !*o->out)
		return cli_error(EXIT_USAGE, "%s", _("--out: give a file name"));
	return export_format(o->format, &f);
}

/* tidu survey export FORM [--format csv|xlsx|json] [--out FILE] [--version V] */
static int survey_export(cli_run *r)
{
	const export_opts *o = r->opts;
	tidu_survey_export_report rep;
	tidu_survey_format f = TIDU_SURVEY_CSV;
	size_t i;
	int error;

	export_format(o->format, &f);
	if ((error = tidu_survey_export(r->store, r->args[0], o->version, f, o->out, stdout,
					cli_survey_lang(), &rep)) < 0)
		return cli_fail(error);
	if (o->out) {
		printf(_("Exported %zu responses to form '%s':"), rep.responses, cli_safe(r->args[0]));
		for (i = 0; i < rep.npaths; i++)
			printf(" %s", cli_safe(rep.paths[i]));
		printf("\n");
	}
	tidu_survey_export_report_free(&rep);
	return EXIT_OK;
}

static const cli_cmd survey_subs[] = {
	{.name = "add", .summary = N_("add a response from a JSON file of answers"),
	 .spec = {"tidu survey add FORM USCC --answers FILE.json|- [--draft] [--version V]", NULL,
		  add_optv, 2, 2},
	 CLI_OPTS(add_defaults), .need = NEED_STORE, .check = add_check, .run = survey_add},
	{.name = "import", .summary = N_("add many responses from JSON Lines, all or none"),
	 .spec = {"tidu survey import FORM FILE.jsonl|- [--version V]", NULL, import_optv, 2, 2},
	 CLI_OPTS(import_defaults), .need = NEED_STORE, .run = survey_import},
	{.name = "fill", .summary = N_("fill a form on this terminal, one question at a time"),
	 .spec = {"tidu survey fill FORM USCC [--version V] | tidu survey fill --resume ID", NULL,
		  cli_survey_fill_optv, 0, 2},
	 CLI_OPTS(cli_survey_fill_defaults), .need = NEED_STORE, .check = cli_survey_fill_check,
	 .run = cli_survey_fill},
	{.name = "list", .summary = N_("the responses (or drafts) of this store"),
	 .spec = {"tidu survey list [USCC] [--form FORM] [--drafts|--all] [--json]", NULL,
		  list_optv, 0, 1},
	 CLI_OPTS(list_defaults), .need = NEED_STORE, .run = survey_list},
	{.name = "show", .summary = N_("one response: every answer by question"),
	 .spec = {"tidu survey show ID [--json]", NULL, cli_json_object_optv, 1, 1},
	 CLI_OPTS(cli_json_defaults), .need = NEED_STORE, .run = survey_show},
	{.name = "delete", .summary = N_("delete a draft, or a response (the deletion syncs)"),
	 .spec = {"tidu survey delete ID", NULL, NULL, 1, 1},
	 .need = NEED_STORE, .run = survey_delete},
	{.name = "file", .summary = N_("write out the file a response holds for a question"),
	 .spec = {"tidu survey file ID QUESTION --out FILE", NULL, file_optv, 2, 2},
	 CLI_OPTS(file_defaults), .need = NEED_STORE, .check = file_check, .run = survey_file},
	{.name = "export", .summary = N_("every response to a form as CSV, XLSX or JSON"),
	 .spec = {"tidu survey export FORM [--format csv|xlsx|json] [--out FILE] [--version V]",
		  NULL, export_optv, 1, 1},
	 CLI_OPTS(export_defaults), .need = NEED_STORE, .check = export_check,
	 .run = survey_export},
	{.name = NULL},
};

const cli_cmd cmd_survey = {
	.name = "survey", .summary = N_("survey responses: fill, add, list, show, export"),
	.subs = survey_subs,
};
