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

static int visit_add(cli_ctx *ctx, int argc, char **argv)
{
	const char *date = NULL, *kind = NULL, *note = NULL;
	const cli_opt opts[] = {
		{"date", OPT_STRING, "YYYY-MM-DD", N_("day of the visit (default today)"), &date},
		{"kind", OPT_STRING, "KIND", N_("first, follow_up, review or coaching"), &kind},
		{"note", OPT_STRING, "TEXT", N_("notes of the visit"), &note},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu visit add USCC [--date D] [--kind K] [--note TEXT] [KEY=VALUE ...]",
			       N_("record a visit; prints the new visit id"), opts, 1, -1};
	char **args = NULL, **owned = NULL, id[TIDU_UUID_LEN + 1];
	tidu_kv *kv = NULL;
	tidu_store *s = NULL;
	size_t n = 0;
	int nargs = 0, code = EXIT_OK, error, i;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	kv = tidu_calloc((size_t)nargs + 3, sizeof(*kv));
	owned = tidu_calloc((size_t)nargs, sizeof(*owned));
	for (i = 1; i < nargs; i++, n++)
		if (tidu_kv_split(args[i], &kv[n], &owned[i]) < 0) {
			code = cli_fail(TIDU_EINVAL);
			goto done;
		}
	if (date)
		kv[n].key = "date", kv[n++].value = date;
	if (kind)
		kv[n].key = "kind", kv[n++].value = kind;
	if (note)
		kv[n].key = "note", kv[n++].value = note;
	if ((code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_visit_add(s, args[0], kv, n, id)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	printf("%s\n", id);
done:
	for (i = 0; owned && i < nargs; i++)
		free(owned[i]);
	free(owned);
	free(kv);
	tidu_store_free(s);
	free(args);
	return code;
}

/* Visits are listed newest day first; the id (UUIDv7) orders one day's. */
static int visit_list(cli_ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const cli_opt opts[] = {
		{"json", OPT_FLAG, NULL, N_("print one JSON array"), &json},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu visit list [USCC] [--json]",
			       N_("list visits, of one firm or of all"), opts, 0, 1};
	sqlite3_stmt *st = NULL;
	tidu_buf out = TIDU_BUF_INIT, text = TIDU_BUF_INIT;
	tidu_json_writer w;
	tidu_rec v = TIDU_REC_INIT;
	tidu_store *s = NULL;
	char **args = NULL, uscc[TIDU_USCC_LEN + 1];
	size_t count = 0;
	int nargs = 0, code, error = 0, rc;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	if (nargs && tidu_uscc_validate(args[0], uscc) < 0) {
		code = cli_fail(TIDU_EINVAL);
		goto done;
	}
	if ((code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	rc = sqlite3_prepare_v2(tidu_store_db(s),
		"SELECT id FROM visit WHERE _deleted=0 AND (?1 IS NULL OR uscc=?1) "
		"ORDER BY date DESC, id DESC", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		code = cli_fail(tidu_store_sqlerr(s, rc, _("listing visits")));
		goto done;
	}
	if (nargs)
		sqlite3_bind_text(st, 1, uscc, -1, SQLITE_STATIC);
	if (json) {
		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
	} else {
		cli_print_padded(stdout, _("Visit id"), 38);
		cli_print_padded(stdout, _("Date"), 12);
		cli_print_padded(stdout, _("USCC"), 20);
		cli_print_padded(stdout, _("Kind"), 14);
		printf("%s\n", _("Officer"));
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);

		if ((error = tidu_rec_load(s, "visit", id, &v)) < 0)
			break;
		count++;
		if (json) {
			tidu_visit_json(id, &v, &w);
			continue;
		}
		cli_print_padded(stdout, id, 38);
		cli_print_padded(stdout, tidu_rec_get(&v, "date"), 12);
		cli_print_padded(stdout, tidu_rec_get(&v, "uscc"), 20);
		tidu_value_display(tidu_dict_field("visit", "kind"),
				   tidu_rec_get(&v, "kind"), &text);
		cli_print_padded(stdout, tidu_buf_cstr(&text), 14);
		printf("%s\n", tidu_rec_get(&v, "officer") ? tidu_rec_get(&v, "officer") : "");
	}
	if (error == 0 && rc != SQLITE_DONE)
		error = tidu_store_sqlerr(s, rc, _("listing visits"));
	if (error < 0) {
		code = cli_fail(error);
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
		printf(_("%zu visits\n"), count);
	}
done:
	sqlite3_finalize(st);
	tidu_rec_clear(&v);
	tidu_buf_free(&out);
	tidu_buf_free(&text);
	tidu_store_free(s);
	free(args);
	return code;
}

static int visit_show(cli_ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const cli_opt opts[] = {
		{"json", OPT_FLAG, NULL, N_("print one JSON object"), &json},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu visit show ID [--json]", N_("show one visit"),
			       opts, 1, 1};
	tidu_buf out = TIDU_BUF_INIT, text = TIDU_BUF_INIT;
	tidu_json_writer w;
	tidu_rec v = TIDU_REC_INIT;
	tidu_store *s = NULL;
	char **args = NULL;
	size_t i;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	if (!tidu_uuid_valid(args[0])) {
		code = cli_error(EXIT_USAGE, _("invalid visit id '%s'"), args[0]);
		goto done;
	}
	if ((code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_rec_load(s, "visit", args[0], &v)) < 0) {
		if (error == TIDU_ENOTFOUND)
			tidu_error_set(TIDU_ENOTFOUND, _("visit '%s' is not in the store"), args[0]);
		code = cli_fail(error);
		goto done;
	}
	if (json) {
		tidu_json_writer_init(&w, &out, 1);
		tidu_visit_json(args[0], &v, &w);
		if ((error = tidu_json_writer_finish(&w)) < 0) {
			code = cli_fail(error);
			goto done;
		}
		cli_print_json(&out);
		goto done;
	}
	cli_print_padded(stdout, _("Visit id"), 30);
	printf(" %s\n", args[0]);
	for (i = 0; i < v.n; i++) {
		if (!v.values[i])
			continue;
		tidu_value_display(v.fields[i], v.values[i], &text);
		cli_print_padded(stdout, tidu_dict_label(v.fields[i]), 30);
		printf(" %s\n", tidu_buf_cstr(&text));
	}
done:
	tidu_rec_clear(&v);
	tidu_buf_free(&out);
	tidu_buf_free(&text);
	tidu_store_free(s);
	free(args);
	return code;
}

static int visit_delete(cli_ctx *ctx, int argc, char **argv)
{
	const cli_spec spec = {"tidu visit delete ID",
			       N_("delete a visit (a tombstone that syncs)"), NULL, 1, 1};
	tidu_store *s = NULL;
	char **args = NULL;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_visit_delete(s, args[0])) < 0)
		code = cli_fail(error);
done:
	tidu_store_free(s);
	free(args);
	return code;
}

int cmd_visit(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {
		{"add", visit_add, N_("record a visit; prints the new visit id")},
		{"list", visit_list, N_("list visits, of one firm or of all")},
		{"show", visit_show, N_("show one visit")},
		{"delete", visit_delete, N_("delete a visit (a tombstone that syncs)")},
		{NULL, NULL, NULL},
	};

	return cli_dispatch(ctx, "visit", subs, argc, argv);
}
