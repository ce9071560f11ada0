#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "tidu/dict.h"
#include "tidu/record.h"

static int count_rows(tidu_store *s, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = tidu_store_stmt(s, sql);
	int rc;

	if (!st)
		return TIDU_ERROR;
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : tidu_store_sqlerr(s, rc, _("counting records"));
}

int cmd_status(cli_ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const cli_opt opts[] = {
		{"json", OPT_FLAG, NULL, N_("print one JSON object"), &json},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu status [--json]",
			       N_("show the store, this device and its counts"), opts, 0, 0};
	static const char *const counts_sql[] = {
		"SELECT count(*) FROM firm WHERE _deleted=0",
		"SELECT count(*) FROM firm_year WHERE _deleted=0",
		"SELECT count(*) FROM visit WHERE _deleted=0",
	};
	static const char *const count_keys[] = {"firms", "firm_years", "visits"};
	const char *count_labels[] = {_("Firms:"), _("Firm-years:"), _("Visits:")};
	int64_t counts[3], pending = 0;
	tidu_store *s = NULL;
	char **args = NULL;
	struct stat st;
	int nargs = 0, code, error = 0, i;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	if ((code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	for (i = 0; i < 3 && !error; i++)
		error = count_rows(s, counts_sql[i], &counts[i]);
	if (error < 0 || (error = tidu_record_pending(s, &pending)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (stat(tidu_store_path(s), &st) < 0)
		st.st_size = 0;
	if (json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "store");
		tidu_json_write_string(&w, tidu_store_path(s));
		tidu_json_write_key(&w, "bytes");
		tidu_json_write_int64(&w, (int64_t)st.st_size);
		tidu_json_write_key(&w, "schema_version");
		tidu_json_write_int64(&w, tidu_store_schema_version(s));
		tidu_json_write_key(&w, "device");
		tidu_json_write_string(&w, tidu_store_device(s));
		tidu_json_write_key(&w, "district");
		tidu_json_write_string(&w, tidu_store_district(s));
		tidu_json_write_key(&w, "officer");
		tidu_json_write_string(&w, tidu_store_officer(s));
		tidu_json_write_key(&w, "role");
		tidu_json_write_string(&w, tidu_store_role(s));
		for (i = 0; i < 3; i++) {
			tidu_json_write_key(&w, count_keys[i]);
			tidu_json_write_int64(&w, counts[i]);
		}
		tidu_json_write_key(&w, "pending_changes");
		tidu_json_write_int64(&w, pending);
		tidu_json_end_object(&w);
		tidu_json_writer_finish(&w);
		cli_print_json(&out);
		tidu_buf_free(&out);
		goto done;
	}
	cli_print_padded(stdout, _("Store:"), 18);
	printf("%s (%lld KiB, %s %d)\n", tidu_store_path(s),
	       (long long)(st.st_size / 1024), _("schema"), tidu_store_schema_version(s));
	cli_print_padded(stdout, _("Device:"), 18);
	printf("%s\n", tidu_store_device(s));
	cli_print_padded(stdout, _("District:"), 18);
	printf("%s %s\n", tidu_store_district(s),
	       tidu_dict_district_name(tidu_store_district(s)) ?
	       tidu_dict_district_name(tidu_store_district(s)) : "");
	cli_print_padded(stdout, _("Officer:"), 18);
	printf("%s (%s)\n", tidu_store_officer(s), tidu_store_role(s));
	for (i = 0; i < 3; i++) {
		cli_print_padded(stdout, count_labels[i], 18);
		printf("%lld\n", (long long)counts[i]);
	}
	cli_print_padded(stdout, _("Pending changes:"), 18);
	printf("%lld\n", (long long)pending);
done:
	tidu_store_free(s);
	free(args);
	return code;
}
