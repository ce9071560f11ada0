#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "tidu/conflict.h"
#include "tidu/dict.h"
#include "tidu/parse.h"
#include "tidu/trust.h"
#include "tidu/view.h"

/* "2026-11-27 09:13" in local time, from an HLC. */
static void hlc_time(int64_t hlc, char out[32])
{
	cli_local_minute((hlc >> 16), out);
}

/* Room for "officer (device)": who() never cuts a name. */
#define WHO_MAX (TIDU_TRUST_OFFICER_MAX + TIDU_DEVICE_ID_LEN + 64)

/* The officer's name for a device, from the keyring; else the device id. */
static const char *who(tidu_store *s, const char *device, char *buf, size_t size)
{
	tidu_trust_device d;

	snprintf(buf, size, "%s", device);
	if (!strcmp(device, tidu_store_device(s)))
		snprintf(buf, size, "%s (%s)", tidu_store_officer(s), _("this device"));
	else if (tidu_trust_device_lookup(s, device, &d) == 0)
		snprintf(buf, size, "%s (%s)", d.officer, device);
	else
		tidu_error_clear(); /* not in the keyring: the device id says who */
	return buf;
}

static void json_side(tidu_json_writer *w, tidu_store *s, const char *name,
		      const char *value, int64_t hlc, const char *device)
{
	char buf[WHO_MAX];

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

typedef struct {
	int json, all;                /* list */
	int theirs, mine;             /* resolve */
	const char *value;
	int64_t id;                   /* resolve: the ID argument, as checked */
} conflicts_opts;

/* What the option tables point into; never written (cli_cmd.defaults). */
static conflicts_opts conflicts_defaults;

static const cli_opt list_optv[] = {
	CLI_FLAG("json", N_("print one JSON array"), conflicts_defaults, json),
	CLI_FLAG("all", N_("include resolved conflicts"), conflicts_defaults, all),
	CLI_OPT_END,
};

static const cli_opt resolve_optv[] = {
	CLI_FLAG("take-theirs", N_("take the other side's value"), conflicts_defaults, theirs),
	CLI_FLAG("keep-mine", N_("keep this device's value"), conflicts_defaults, mine),
	CLI_STRING("value", "V", N_("write a new value"), conflicts_defaults, value),
	CLI_OPT_END,
};

static int conflicts_list(cli_run *r)
{
	const conflicts_opts *o = r->opts;
	tidu_conflict *c = NULL;
	tidu_store *s = r->store;
	tidu_buf out = TIDU_BUF_INIT;
	char t1[32], t2[32], w1[WHO_MAX], w2[WHO_MAX];
	size_t n = 0, i;
	int code = EXIT_OK, error;

	if ((error = tidu_conflict_list(s, o->all, &c, &n)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (o->json) {
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
		printf("#%lld  %s  %s%s\n", (long long)c[i].id, cli_safe(c[i].key),
		       f ? tidu_dict_label(f) : cli_safe(c[i].field),
		       c[i].resolved ? _(" (resolved)") : "");
		/* One line per side, whatever the field: a note's newlines are escaped here. */
		printf("    %s %s  — %s, %s\n", _("now:"), c[i].current ? cli_safe(c[i].current) : "∅",
		       cli_safe(who(s, c[i].current_device, w1, sizeof(w1))), t1);
		printf("    %s %s  — %s, %s\n", _("lost:"), c[i].lost ? cli_safe(c[i].lost) : "∅",
		       cli_safe(who(s, c[i].lost_device, w2, sizeof(w2))), t2);
	}
	printf(_("%zu conflicts\n"), n);
done:
	tidu_conflict_list_free(c, n);
	tidu_buf_free(&out);
	return code;
}

/* One of the three choices, and an ID, before the store opens. */
static int resolve_check(cli_run *r)
{
	conflicts_opts *o = r->opts;
	const char *arg = r->args[0];

	if (o->theirs + o->mine + (o->value != NULL) != 1)
		return cli_error(EXIT_USAGE, "%s",
			_("choose one of --take-theirs, --keep-mine and --value"));
	if (tidu_parse_int64(arg[0] == '#' ? arg + 1 : arg, &o->id) < 0)
		return cli_error(EXIT_USAGE, _("invalid conflict id '%s'"), arg);
	return EXIT_OK;
}

static int conflicts_resolve(cli_run *r)
{
	const conflicts_opts *o = r->opts;
	int error;

	error = tidu_conflict_resolve(r->store, o->id, o->value ? TIDU_RESOLVE_VALUE :
				      o->mine ? TIDU_RESOLVE_KEEP_MINE : TIDU_RESOLVE_TAKE_THEIRS,
				      o->value);
	if (error < 0)
		return cli_fail(error);
	printf(_("Conflict %lld resolved; the decision syncs as a new change.\n"),
	       (long long)o->id);
	return EXIT_OK;
}

static const cli_cmd conflicts_subs[] = {
	{.name = "list", .summary = N_("list values that lost a merge to a concurrent edit"),
	 .spec = {"tidu conflicts [--all] [--json]", NULL, list_optv, 0, 0},
	 CLI_OPTS(conflicts_defaults), .need = NEED_STORE, .run = conflicts_list},
	{.name = "resolve", .summary = N_("settle a conflict with a new change"),
	 .spec = {"tidu conflicts resolve ID (--take-theirs | --keep-mine | --value V)", NULL,
		  resolve_optv, 1, 1},
	 CLI_OPTS(conflicts_defaults), .need = NEED_STORE, .check = resolve_check,
	 .run = conflicts_resolve},
	{.name = NULL},
};

/* `tidu conflicts [--json]` is `tidu conflicts list`. */
const cli_cmd cmd_conflicts = {
	.name = "conflicts", .summary = N_("list and resolve values that lost a merge"),
	.subs = conflicts_subs, .dflt = &conflicts_subs[0], .dflt_on = CLI_DFLT_OPTION,
};
