#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "tidu/conflict.h"
#include "tidu/dict.h"
#include "tidu/parse.h"
#include "tidu/view.h"

/* "2026-11-27 09:13" in local time, from an HLC. */
static void hlc_time(int64_t hlc, char out[32])
{
	time_t t = (time_t)((hlc >> 16) / 1000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M", &tm))
		snprintf(out, 32, "?");
}

/* The officer's name for a device, from the keyring; else the device id. */
static const char *who(tidu_store *s, const char *device, char *buf, size_t size)
{
	sqlite3_stmt *st = tidu_store_stmt(s, "SELECT officer FROM device WHERE device=?1");

	snprintf(buf, size, "%s", device);
	if (!strcmp(device, tidu_store_device(s)))
		snprintf(buf, size, "%s (%s)", tidu_store_officer(s), _("this device"));
	else if (st) {
		sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			snprintf(buf, size, "%s (%s)", sqlite3_column_text(st, 0), device);
		sqlite3_reset(st);
	}
	return buf;
}

static void json_side(tidu_json_writer *w, tidu_store *s, const char *name,
		      const char *value, int64_t hlc, const char *device)
{
	char buf[160];

	tidu_json_write_key(w, name);
	tidu_json_begin_object(w);
	tidu_json_write_key(w, "value");
	if (value)
		tidu_json_write_string(w, value);
	else
		tidu_json_write_null(w);
	tidu_json_write_key(w, "hlc");
	tidu_json_write_int64(w, hlc);
	tidu_json_write_key(w, "time");
	hlc_time(hlc, buf);
	tidu_json_write_string(w, buf);
	tidu_json_write_key(w, "device");
	tidu_json_write_string(w, device);
	tidu_json_write_key(w, "officer");
	tidu_json_write_string(w, who(s, device, buf, sizeof(buf)));
	tidu_json_end_object(w);
}

static int conflicts_list(cli_ctx *ctx, int argc, char **argv)
{
	int json = 0, all = 0;
	const cli_opt opts[] = {
		{"json", OPT_FLAG, NULL, N_("print one JSON array"), &json},
		{"all", OPT_FLAG, NULL, N_("include resolved conflicts"), &all},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu conflicts [--all] [--json]",
			       N_("list values that lost a merge to a concurrent edit"), opts, 0, 0};
	tidu_conflict *c = NULL;
	tidu_store *s = NULL;
	tidu_buf out = TIDU_BUF_INIT;
	char **args = NULL, t1[32], t2[32], w1[160], w2[160];
	size_t n = 0, i;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_conflict_list(s, all, &c, &n)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (json) {
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
		for (i = 0; i < n; i++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "id");
			tidu_json_write_int64(&w, c[i].id);
			tidu_json_write_key(&w, "entity");
			tidu_json_write_string(&w, c[i].entity);
			tidu_json_write_key(&w, "key");
			tidu_json_write_string(&w, c[i].key);
			tidu_json_write_key(&w, "uscc");
			tidu_json_write_string_len(&w, c[i].key, strcspn(c[i].key, "/"));
			tidu_json_write_key(&w, "field");
			tidu_json_write_string(&w, c[i].field);
			json_side(&w, s, "current", c[i].current, c[i].current_hlc,
				  c[i].current_device);
			json_side(&w, s, "lost", c[i].lost, c[i].lost_hlc, c[i].lost_device);
			tidu_json_write_key(&w, "resolved");
			tidu_json_write_bool(&w, c[i].resolved);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		code = cli_emit_json(&w, &out);
		goto done;
	}
	for (i = 0; i < n; i++) {
		const tidu_field *f = tidu_dict_field(c[i].entity, c[i].field);

		hlc_time(c[i].current_hlc, t1);
		hlc_time(c[i].lost_hlc, t2);
		printf("#%lld  %s  %s%s\n", (long long)c[i].id, c[i].key,
		       f ? tidu_dict_label(f) : c[i].field, c[i].resolved ? _(" (resolved)") : "");
		printf("    %s %s  — %s, %s\n", _("now:"), c[i].current ? c[i].current : "∅",
		       who(s, c[i].current_device, w1, sizeof(w1)), t1);
		printf("    %s %s  — %s, %s\n", _("lost:"), c[i].lost ? c[i].lost : "∅",
		       who(s, c[i].lost_device, w2, sizeof(w2)), t2);
	}
	printf(_("%zu conflicts\n"), n);
done:
	tidu_conflicts_free(c, n);
	tidu_buf_free(&out);
	tidu_store_free(s);
	free(args);
	return code;
}

static int conflicts_resolve(cli_ctx *ctx, int argc, char **argv)
{
	int theirs = 0, mine = 0;
	const char *value = NULL;
	const cli_opt opts[] = {
		{"take-theirs", OPT_FLAG, NULL, N_("take the other side's value"), &theirs},
		{"keep-mine", OPT_FLAG, NULL, N_("keep this device's value"), &mine},
		{"value", OPT_STRING, "V", N_("write a new value"), &value},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu conflicts resolve ID (--take-theirs | --keep-mine | --value V)",
			       N_("settle a conflict with a new change"), opts, 1, 1};
	tidu_store *s = NULL;
	char **args = NULL;
	int64_t id;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	if (theirs + mine + (value != NULL) != 1) {
		code = cli_error(EXIT_USAGE, "%s",
			_("choose one of --take-theirs, --keep-mine and --value"));
		goto done;
	}
	if (tidu_parse_int64(args[0][0] == '#' ? args[0] + 1 : args[0], &id) < 0) {
		code = cli_error(EXIT_USAGE, _("invalid conflict id '%s'"), args[0]);
		goto done;
	}
	if ((code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	error = tidu_conflict_resolve(s, id, value ? TIDU_RESOLVE_VALUE :
				      mine ? TIDU_RESOLVE_KEEP_MINE : TIDU_RESOLVE_TAKE_THEIRS,
				      value);
	if (error < 0)
		code = cli_fail(error);
	else
		printf(_("Conflict %lld resolved; the decision syncs as a new change.\n"),
		       (long long)id);
done:
	tidu_store_free(s);
	free(args);
	return code;
}

int cmd_conflicts(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {
		{"list", conflicts_list, N_("list values that lost a merge to a concurrent edit")},
		{"resolve", conflicts_resolve, N_("settle a conflict with a new change")},
		{NULL, NULL, NULL},
	};

	/* `tidu conflicts [--json]` is `tidu conflicts list`. */
	if (argc < 2 || argv[1][0] == '-')
		return conflicts_list(ctx, argc, argv);
	return cli_dispatch(ctx, "conflicts", subs, argc, argv);
}
