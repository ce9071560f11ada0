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
		if (tidu_kv_split(args[i], &kv[i], &owned[i]) < 0)
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

static int firm_add(cli_ctx *ctx, int argc, char **argv)
{
	const char *name = NULL;
	const cli_opt opts[] = {
		{"name", OPT_STRING, "NAME", N_("the firm's registered name"), &name},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu firm add USCC --name NAME [KEY=VALUE ...]",
			       N_("add a firm"), opts, 1, -1};
	char **args = NULL, **owned = NULL, uscc[TIDU_USCC_LEN + 1];
	tidu_kv *kv = NULL;
	tidu_store *s = NULL;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	kv = tidu_calloc((size_t)nargs + 1, sizeof(*kv));
	owned = tidu_calloc((size_t)nargs + 1, sizeof(*owned));
	if ((code = split_pairs(args + 1, nargs - 1, kv, owned)) != EXIT_OK)
		goto done;
	if (name) {
		kv[nargs - 1].key = "name";
		kv[nargs - 1].value = name;
	}
	if (tidu_uscc_validate(args[0], uscc) < 0) {
		code = cli_fail(TIDU_EINVAL);
		goto done;
	}
	if ((code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_firm_add(s, args[0], kv, (size_t)nargs - (name ? 0 : 1),
				   uscc)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (!tidu_uscc_region_is_zhengzhou(uscc))
		cli_warn(_("the USCC '%s' is not registered in Zhengzhou (region %.6s)"),
			 uscc, uscc + 2);
	printf(_("Added firm %s\n"), uscc);
done:
	tidu_store_free(s);
	free_owned(owned, nargs);
	free(kv);
	free(args);
	return code;
}

static int firm_set(cli_ctx *ctx, int argc, char **argv)
{
	const cli_spec spec = {"tidu firm set USCC KEY=VALUE ... (YEAR.KEY=VALUE for yearly figures)",
			       N_("change fields of a firm"), NULL, 2, -1};
	char **args = NULL, **owned = NULL;
	tidu_kv *kv = NULL;
	tidu_store *s = NULL;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	kv = tidu_calloc((size_t)nargs, sizeof(*kv));
	owned = tidu_calloc((size_t)nargs, sizeof(*owned));
	if ((code = split_pairs(args + 1, nargs - 1, kv, owned)) != EXIT_OK)
		goto done;
	if ((code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_firm_set(s, args[0], kv, (size_t)nargs - 1)) < 0)
		code = cli_fail(error);
done:
	tidu_store_free(s);
	free_owned(owned, nargs);
	free(kv);
	free(args);
	return code;
}

static void print_rec(const tidu_rec *r, const char *indent)
{
	tidu_buf text = TIDU_BUF_INIT;
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (!r->values[i])
			continue;
		tidu_value_display(r->fields[i], r->values[i], &text);
		printf("%s", indent);
		cli_print_padded(stdout, tidu_dict_label(r->fields[i]), 30);
		printf(" %s\n", text.ptr ? text.ptr : "");
	}
	tidu_buf_free(&text);
}

static int firm_show(cli_ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const cli_opt opts[] = {
		{"json", OPT_FLAG, NULL, N_("print one JSON object"), &json},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu firm show USCC [--json]",
			       N_("show a firm with its yearly figures"), opts, 1, 1};
	char **args = NULL, uscc[TIDU_USCC_LEN + 1];
	tidu_rec firm = TIDU_REC_INIT, year = TIDU_REC_INIT;
	tidu_store *s = NULL;
	tidu_query *q = NULL;
	int nargs = 0, code, error, rc;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	if (tidu_uscc_validate(args[0], uscc) < 0) {
		code = cli_fail(TIDU_EINVAL);
		goto done;
	}
	if ((code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_rec_load(s, "firm", uscc, &firm)) < 0) {
		if (error == TIDU_ENOTFOUND)
			tidu_error_set(TIDU_ENOTFOUND, _("firm '%s' is not in the store"), uscc);
		code = cli_fail(error);
		goto done;
	}
	if (json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		if ((error = tidu_firm_json(s, &firm, &w)) < 0 ||
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
	if ((error = tidu_query_open(s, "firm_year", "uscc=?1", "year", &q)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	tidu_query_bind(q, 1, uscc);
	while ((rc = tidu_query_next(q, &year)) > 0) {
		printf("\n%lld\n", (long long)year.year);
		print_rec(&year, "  ");
	}
	if (rc < 0)
		code = cli_fail(rc);
done:
	tidu_query_free(q);
	tidu_rec_clear(&year);
	tidu_rec_clear(&firm);
	tidu_store_free(s);
	free(args);
	return code;
}

static int firm_list(cli_ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const char *district = NULL, *search = NULL;
	const cli_opt opts[] = {
		{"district", OPT_STRING, "CODE", N_("only firms of this district"), &district},
		{"search", OPT_STRING, "TEXT", N_("only firms whose name, USCC, product or contact contains TEXT"), &search},
		{"json", OPT_FLAG, NULL, N_("print one JSON array"), &json},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu firm list [--district CODE] [--search TEXT] [--json]",
			       N_("list firms"), opts, 0, 0};
	tidu_buf pattern = TIDU_BUF_INIT, out = TIDU_BUF_INIT;
	tidu_rec firm = TIDU_REC_INIT;
	tidu_json_writer w;
	tidu_store *s = NULL;
	tidu_query *q = NULL;
	char **args = NULL;
	const char *p;
	size_t count = 0;
	int nargs = 0, code, error, rc;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	if (district && !tidu_dict_district_name(district)) {
		code = cli_error(EXIT_USAGE,
			_("unknown district '%s': use a code from the division list"), district);
		goto done;
	}
	if (search) {
		/* LIKE pattern with %, _ and \ escaped: TEXT is matched literally. */
		tidu_buf_putc(&pattern, '%');
		for (p = search; *p; p++) {
			if (*p == '%' || *p == '_' || *p == '\\')
				tidu_buf_putc(&pattern, '\\');
			tidu_buf_putc(&pattern, *p);
		}
		tidu_buf_putc(&pattern, '%');
	}
	if ((code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_query_open(s, "firm",
		"(?1 IS NULL OR district=?1) AND (?2 IS NULL OR name LIKE ?2 ESCAPE '\\' "
		"OR uscc LIKE ?2 ESCAPE '\\' OR main_product LIKE ?2 ESCAPE '\\' "
		"OR contact LIKE ?2 ESCAPE '\\')", "uscc", &q)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	tidu_query_bind(q, 1, district);
	tidu_query_bind(q, 2, search ? pattern.ptr : NULL);
	if (json) {
		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
	} else {
		cli_print_padded(stdout, _("USCC"), 20);
		cli_print_padded(stdout, _("Reserve tier"), 14);
		cli_print_padded(stdout, _("District"), 20);
		printf("%s\n", _("Name"));
	}
	while ((rc = tidu_query_next(q, &firm)) > 0) {
		count++;
		if (json) {
			if ((error = tidu_firm_json(s, &firm, &w)) < 0) {
				rc = error;
				break;
			}
			if (out.len > 65536) {
				fwrite(out.ptr, 1, out.len, stdout);
				tidu_buf_clear(&out);
			}
			continue;
		}
		cli_print_padded(stdout, tidu_rec_get(&firm, "uscc"), 20);
		p = tidu_rec_get(&firm, "reserve_tier");
		cli_print_padded(stdout, p ? p : "-", 14);
		p = tidu_dict_district_name(tidu_rec_get(&firm, "district"));
		cli_print_padded(stdout, p ? p : "-", 20);
		printf("%s\n", tidu_rec_get(&firm, "name"));
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
	tidu_rec_clear(&firm);
	tidu_query_free(q);
	tidu_buf_free(&pattern);
	tidu_buf_free(&out);
	tidu_store_free(s);
	free(args);
	return code;
}

static void import_error(void *ctx, size_t line, const char *message)
{
	const char *file = ctx;

	if (line)
		fprintf(stderr, _("tidu: %s:%zu: %s\n"), file, line, message);
	else
		fprintf(stderr, "tidu: %s: %s\n", file, message);
}

#define MAX_IMPORT_BYTES ((size_t)1 << 30)

static int firm_import(cli_ctx *ctx, int argc, char **argv)
{
	const cli_spec spec = {"tidu firm import FILE.csv",
			       N_("add or update firms from a CSV file (all or nothing)"),
			       NULL, 1, 1};
	tidu_buf data = TIDU_BUF_INIT;
	tidu_import_result res;
	tidu_store *s = NULL;
	char **args = NULL;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	if ((error = tidu_file_read(args[0], MAX_IMPORT_BYTES, &data)) < 0) {
		code = cli_fail(error == TIDU_ERROR ? TIDU_EINVAL : error);
		goto done;
	}
	if ((code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	error = tidu_firm_import(s, data.ptr ? data.ptr : "", data.len, &res,
				 import_error, args[0]);
	if (error < 0) {
		code = cli_fail(error);
		goto done;
	}
	printf(_("Imported %zu rows from %s (%s): %zu firms added, %zu updated\n"),
	       res.rows, args[0], res.encoding, res.added, res.updated);
done:
	tidu_buf_free(&data);
	tidu_store_free(s);
	free(args);
	return code;
}

static int firm_delete(cli_ctx *ctx, int argc, char **argv)
{
	const cli_spec spec = {"tidu firm delete USCC",
			       N_("delete a firm (a tombstone that syncs; its visits stay)"),
			       NULL, 1, 1};
	tidu_store *s = NULL;
	char **args = NULL;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_firm_delete(s, args[0])) < 0)
		code = cli_fail(error);
done:
	tidu_store_free(s);
	free(args);
	return code;
}

int cmd_firm(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {
		{"add", firm_add, N_("add a firm")},
		{"set", firm_set, N_("change fields of a firm")},
		{"show", firm_show, N_("show a firm with its yearly figures")},
		{"list", firm_list, N_("list firms")},
		{"import", firm_import, N_("add or update firms from a CSV file (all or nothing)")},
		{"delete", firm_delete, N_("delete a firm (a tombstone that syncs; its visits stay)")},
		{NULL, NULL, NULL},
	};

	return cli_dispatch(ctx, "firm", subs, argc, argv);
}
