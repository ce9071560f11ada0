#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "tidu/clock.h"
#include "tidu/dict.h"
#include "tidu/parse.h"
#include "tidu/repo.h"
#include "tidu/status.h"

#define DAY_MS (24LL * 3600 * 1000)

/* "2026-11-27T09:07:00Z" (UTC) for `ms`. */
static void utc_text(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "?");
}

/* Not seen by any sync for more than `days` days (or never); revoked ones aside. */
static int is_stale(const tidu_sync_device_seen *d, int64_t now, int64_t days)
{
	return !d->dev.revoked && (!d->last_seen || now - d->last_seen > days * DAY_MS);
}

typedef struct {
	int json;
	const char *stale_arg;
	int64_t stale_days; /* --stale-days, as checked */
} status_opts;

/* What the option tables point into; never written (cli_cmd.defaults). */
static status_opts status_defaults;

static const cli_opt status_optv[] = {
	CLI_FLAG("json", N_("print one JSON object"), status_defaults, json),
	CLI_STRING("stale-days", "N", N_("city: list devices not seen by a sync for N days (default 14)"),
		   status_defaults, stale_arg),
	CLI_OPT_END,
};

static int status_check(cli_run *r)
{
	status_opts *o = r->opts;

	o->stale_days = 14;
	if (o->stale_arg && (tidu_parse_int64(o->stale_arg, &o->stale_days) < 0 ||
			     o->stale_days < 0 || o->stale_days > 36500))
		return cli_error(EXIT_USAGE, _("invalid value '%s' for '--stale-days': a number of days (0 to 36500)"),
				 o->stale_arg);
	return EXIT_OK;
}

/* What both forms of the status show. */
typedef struct {
	tidu_store *s;
	tidu_status st;
	int64_t counts[3];   /* firms, firm-years, visits */
	int64_t stale_days, now, bytes;
	size_t nstale;
} status_view;

static const char *const count_keys[] = {"firms", "firm_years", "visits"};

static int status_json(const status_view *v)
{
	const tidu_status *sts = &v->st;
	tidu_store *s = v->s;
	char when[32];
	size_t k;
	int i;
	tidu_buf out = TIDU_BUF_INIT;
	tidu_json_writer w;

	tidu_json_writer_init(&w, &out, 1);
	tidu_json_begin_object(&w);
	tidu_json_write_key(&w, "store");
	tidu_json_write_string(&w, tidu_store_path(s));
	tidu_json_write_key(&w, "bytes");
	tidu_json_write_int64(&w, v->bytes);
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
		tidu_json_write_int64(&w, v->counts[i]);
	}
	tidu_json_write_key(&w, "pending_changes");
	tidu_json_write_int64(&w, sts->pending);
	tidu_json_write_key(&w, "set_aside_changes");
	tidu_json_write_int64(&w, sts->aside);
	tidu_json_write_key(&w, "last_sync");
	if (sts->synced) {
		utc_text(sts->last_sync_ms, when);
		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "at");
		tidu_json_write_string(&w, when);
		tidu_json_write_key(&w, "remote");
		tidu_json_write_string(&w, sts->last_remote);
		tidu_json_write_key(&w, "url");
		if (sts->last_url)
			tidu_json_write_string(&w, sts->last_url);
		else
			tidu_json_write_null(&w);
		tidu_json_end_object(&w);
	} else {
		tidu_json_write_null(&w);
	}
	if (sts->city) {
		tidu_json_write_key(&w, "districts");
		tidu_json_begin_array(&w);
		for (k = 0; k < sts->ndistricts; k++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "district");
			tidu_json_write_string(&w, sts->districts[k].district);
			tidu_json_write_key(&w, "firms");
			tidu_json_write_int64(&w, sts->districts[k].firms);
			tidu_json_write_key(&w, "visits");
			tidu_json_write_int64(&w, sts->districts[k].visits);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		tidu_json_write_key(&w, "stale_days");
		tidu_json_write_int64(&w, v->stale_days);
		tidu_json_write_key(&w, "devices");
		tidu_json_begin_array(&w);
		for (k = 0; k < sts->ndevices; k++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "device");
			tidu_json_write_string(&w, sts->devices[k].dev.device);
			tidu_json_write_key(&w, "district");
			tidu_json_write_string(&w, sts->devices[k].dev.district);
			tidu_json_write_key(&w, "officer");
			tidu_json_write_string(&w, sts->devices[k].dev.officer);
			tidu_json_write_key(&w, "role");
			tidu_json_write_string(&w, sts->devices[k].dev.role);
			tidu_json_write_key(&w, "revoked");
			tidu_json_write_bool(&w, sts->devices[k].dev.revoked);
			tidu_json_write_key(&w, "last_seq");
			tidu_json_write_int64(&w, (int64_t)sts->devices[k].last_seq);
			tidu_json_write_key(&w, "last_seen");
			if (sts->devices[k].last_seen) {
				utc_text(sts->devices[k].last_seen, when);
				tidu_json_write_string(&w, when);
			} else {
				tidu_json_write_null(&w);
			}
			tidu_json_write_key(&w, "stale");
			tidu_json_write_bool(&w, is_stale(&sts->devices[k], v->now, v->stale_days));
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		tidu_json_write_key(&w, "stale_devices");
		tidu_json_write_int64(&w, (int64_t)v->nstale);
	}
	tidu_json_end_object(&w);
	return cli_emit_json(&w, &out);
}

static void status_text(const status_view *v)
{
	const tidu_status *sts = &v->st;
	tidu_store *s = v->s;
	char when[32];
	size_t k;
	int i;
	const char *count_labels[] = {_("Firms:"), _("Firm-years:"), _("Visits:")};

	cli_print_padded(stdout, _("Store:"), 18);
	printf("%s (%lld KiB, %s %d)\n", cli_safe(tidu_store_path(s)),
	       (long long)(v->bytes / 1024), _("schema"), tidu_store_schema_version(s));
	cli_print_padded(stdout, _("Device:"), 18);
	printf("%s\n", cli_safe(tidu_store_device(s)));
	cli_print_padded(stdout, _("District:"), 18);
	printf("%s %s\n", cli_safe(tidu_store_district(s)),
	       tidu_dict_district_name(tidu_store_district(s)) ?
	       tidu_dict_district_name(tidu_store_district(s)) : "");
	cli_print_padded(stdout, _("Officer:"), 18);
	printf("%s (%s)\n", cli_safe(tidu_store_officer(s)), cli_safe(tidu_store_role(s)));
	for (i = 0; i < 3; i++) {
		cli_print_padded(stdout, count_labels[i], 18);
		printf("%lld\n", (long long)v->counts[i]);
	}
	cli_print_padded(stdout, _("Pending changes:"), 18);
	printf("%lld\n", (long long)sts->pending);
	if (sts->aside) {
		cli_print_padded(stdout, _("Set aside:"), 18);
		printf(_("%lld changes cannot be sent: see 'tidu changes pending'\n"),
		       (long long)sts->aside);
	}
	cli_print_padded(stdout, _("Last sync:"), 18);
	if (sts->synced) {
		utc_text(sts->last_sync_ms, when);
		printf("%s, %s '%s'%s%s%s\n", when, _("remote"), cli_safe(sts->last_remote), sts->last_url ? " (" : "",
		       sts->last_url ? cli_safe(sts->last_url) : "", sts->last_url ? ")" : "");
	} else {
		printf("%s\n", _("never"));
	}
	if (!sts->city)
		return;
	printf("\n%s\n", _("Districts (firms, visits):"));
	for (k = 0; k < sts->ndistricts; k++) {
		const char *dn = tidu_dict_district_name(sts->districts[k].district);

		printf("  %s ", sts->districts[k].district[0] ? cli_safe(sts->districts[k].district) : "-");
		cli_print_padded(stdout, dn ? dn : "", 12);
		printf("%8lld %8lld\n", (long long)sts->districts[k].firms, (long long)sts->districts[k].visits);
	}
	if (!sts->ndistricts)
		printf("  %s\n", _("none yet"));
	printf("\n%s\n", _("Devices (district, officer, last change set, last seen by a sync):"));
	for (k = 0; k < sts->ndevices; k++) {
		const tidu_sync_device_seen *d = &sts->devices[k];

		if (d->last_seen)
			utc_text(d->last_seen, when);
		printf("  %s %s ", cli_safe(d->dev.device), cli_safe(d->dev.district));
		cli_print_padded(stdout, d->dev.officer, 10);
		printf("%6llu  %s%s%s\n", (unsigned long long)d->last_seq,
		       d->last_seen ? when : _("never"),
		       d->dev.revoked ? "  " : "", d->dev.revoked ? _("(revoked)") : "");
	}
	if (!sts->ndevices)
		printf("  %s\n", _("none enrolled yet"));
	printf("\n");
	printf(_("Devices not seen for %lld days: %zu\n"), (long long)v->stale_days, v->nstale);
	for (k = 0; k < sts->ndevices; k++)
		if (is_stale(&sts->devices[k], v->now, v->stale_days))
			printf("  %s %s %s\n", cli_safe(sts->devices[k].dev.device),
			       cli_safe(sts->devices[k].dev.district),
			       cli_safe(sts->devices[k].dev.officer));
}

static int status_run(cli_run *r)
{
	const status_opts *o = r->opts;
	status_view v;
	struct stat st;
	size_t k;
	int code = EXIT_OK, error;

	memset(&v, 0, sizeof(v));
	v.s = r->store;
	v.stale_days = o->stale_days;
	v.now = tidu_clock_now_ms();
	if ((error = tidu_status_read(v.s, &v.st)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	v.counts[0] = v.st.firms;
	v.counts[1] = v.st.firm_years;
	v.counts[2] = v.st.visits;
	for (k = 0; k < v.st.ndevices; k++)
		v.nstale += (size_t)is_stale(&v.st.devices[k], v.now, v.stale_days);
	v.bytes = stat(tidu_store_path(v.s), &st) < 0 ? 0 : (int64_t)st.st_size;
	if (o->json)
		code = status_json(&v);
	else
		status_text(&v);
done:
	tidu_status_free(&v.st);
	return code;
}

const cli_cmd cmd_status = {
	.name = "status", .summary = N_("show the store, this device and its counts"),
	.spec = {"tidu status [--json] [--stale-days N]", NULL, status_optv, 0, 0},
	CLI_OPTS(status_defaults), .need = NEED_STORE,
	.check = status_check, .run = status_run,
};
