#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/clock.h"
#include "tidu/dict.h"
#include "tidu/parse.h"
#include "tidu/record.h"
#include "tidu/repo.h"

#define DAY_MS (24LL * 3600 * 1000)

/* "2026-11-27T09:07:00Z" (UTC) for `ms`. */
static void utc_text(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "?");
}

/* Per district of the city: firms and visits. */
typedef struct {
	char district[16];
	int64_t firms, visits;
} district_counts;

static int district_list(tidu_store *s, district_counts **out, size_t *n)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT d, sum(f), sum(v) FROM ("
		" SELECT coalesce(district, '') AS d, 1 AS f, 0 AS v FROM firm WHERE _deleted=0"
		" UNION ALL"
		" SELECT coalesce(f.district, ''), 0, 1 FROM visit v LEFT JOIN firm f ON f.uscc=v.uscc"
		" WHERE v._deleted=0) GROUP BY d ORDER BY d");
	district_counts *v = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return TIDU_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = tidu_reallocarray(v, *n + 1, sizeof(*v));
		snprintf(v[*n].district, sizeof(v[*n].district), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		v[*n].firms = sqlite3_column_int64(st, 1);
		v[*n].visits = sqlite3_column_int64(st, 2);
		(*n)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		*n = 0;
		return tidu_store_sqlerr(s, rc, _("counting records"));
	}
	*out = v;
	return 0;
}

/* Not seen by any sync for more than `days` days (or never); revoked ones aside. */
static int is_stale(const tidu_repo_device_seen *d, int64_t now, int64_t days)
{
	return !d->dev.revoked && (!d->last_seen || now - d->last_seen > days * DAY_MS);
}

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
	const char *stale_arg = NULL;
	const cli_opt opts[] = {
		{"json", OPT_FLAG, NULL, N_("print one JSON object"), &json},
		{"stale-days", OPT_STRING, "N", N_("city: list devices not seen by a sync for N days (default 14)"),
		 &stale_arg},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu status [--json] [--stale-days N]",
			       N_("show the store, this device and its counts"), opts, 0, 0};
	static const char *const counts_sql[] = {
		"SELECT count(*) FROM firm WHERE _deleted=0",
		"SELECT count(*) FROM firm_year WHERE _deleted=0",
		"SELECT count(*) FROM visit WHERE _deleted=0",
	};
	static const char *const count_keys[] = {"firms", "firm_years", "visits"};
	const char *count_labels[] = {_("Firms:"), _("Firm-years:"), _("Visits:")};
	int64_t counts[3], pending = 0, stale_days = 14, last_ms = 0, now;
	district_counts *dists = NULL;
	tidu_repo_device_seen *devs = NULL;
	size_t ndists = 0, ndevs = 0, nstale = 0, k;
	char last_remote[TIDU_REMOTE_NAME_MAX + 1] = "", *last_url = NULL, when[32];
	tidu_store *s = NULL;
	char **args = NULL;
	struct stat st;
	int nargs = 0, code, error = 0, i, city, synced = 0;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	if (stale_arg && (tidu_parse_int64(stale_arg, &stale_days) < 0 || stale_days < 0 ||
			  stale_days > 36500)) {
		code = cli_error(EXIT_USAGE, _("invalid value '%s' for '--stale-days': a number of days (0 to 36500)"),
				 stale_arg);
		goto done;
	}
	if ((code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	city = !strcmp(tidu_store_role(s), "city");
	now = tidu_clock_now_ms();
	for (i = 0; i < 3 && !error; i++)
		error = count_rows(s, counts_sql[i], &counts[i]);
	if (error < 0 || (error = tidu_changes_pending(s, &pending)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	error = tidu_repo_last_sync(s, &last_ms, last_remote);
	if (error == 0) {
		synced = 1;
		if (tidu_remote_url(s, last_remote, &last_url) < 0) {
			tidu_error_clear();
			last_url = NULL; /* removed since */
		}
	} else if (error != TIDU_ENOTFOUND) {
		code = cli_fail(error);
		goto done;
	}
	tidu_error_clear();
	error = 0;
	if (city && ((error = district_list(s, &dists, &ndists)) < 0 ||
		     (error = tidu_repo_devices_seen(s, &devs, &ndevs)) < 0)) {
		code = cli_fail(error);
		goto done;
	}
	for (k = 0; k < ndevs; k++)
		nstale += (size_t)is_stale(&devs[k], now, stale_days);
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
		tidu_json_write_key(&w, "last_sync");
		if (synced) {
			utc_text(last_ms, when);
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "at");
			tidu_json_write_string(&w, when);
			tidu_json_write_key(&w, "remote");
			tidu_json_write_string(&w, last_remote);
			tidu_json_write_key(&w, "url");
			if (last_url)
				tidu_json_write_string(&w, last_url);
			else
				tidu_json_write_null(&w);
			tidu_json_end_object(&w);
		} else {
			tidu_json_write_null(&w);
		}
		if (city) {
			tidu_json_write_key(&w, "districts");
			tidu_json_begin_array(&w);
			for (k = 0; k < ndists; k++) {
				tidu_json_begin_object(&w);
				tidu_json_write_key(&w, "district");
				tidu_json_write_string(&w, dists[k].district);
				tidu_json_write_key(&w, "firms");
				tidu_json_write_int64(&w, dists[k].firms);
				tidu_json_write_key(&w, "visits");
				tidu_json_write_int64(&w, dists[k].visits);
				tidu_json_end_object(&w);
			}
			tidu_json_end_array(&w);
			tidu_json_write_key(&w, "stale_days");
			tidu_json_write_int64(&w, stale_days);
			tidu_json_write_key(&w, "devices");
			tidu_json_begin_array(&w);
			for (k = 0; k < ndevs; k++) {
				tidu_json_begin_object(&w);
				tidu_json_write_key(&w, "device");
				tidu_json_write_string(&w, devs[k].dev.device);
				tidu_json_write_key(&w, "district");
				tidu_json_write_string(&w, devs[k].dev.district);
				tidu_json_write_key(&w, "officer");
				tidu_json_write_string(&w, devs[k].dev.officer);
				tidu_json_write_key(&w, "role");
				tidu_json_write_string(&w, devs[k].dev.role);
				tidu_json_write_key(&w, "revoked");
				tidu_json_write_bool(&w, devs[k].dev.revoked);
				tidu_json_write_key(&w, "last_seq");
				tidu_json_write_int64(&w, (int64_t)devs[k].last_seq);
				tidu_json_write_key(&w, "last_seen");
				if (devs[k].last_seen) {
					utc_text(devs[k].last_seen, when);
					tidu_json_write_string(&w, when);
				} else {
					tidu_json_write_null(&w);
				}
				tidu_json_write_key(&w, "stale");
				tidu_json_write_bool(&w, is_stale(&devs[k], now, stale_days));
				tidu_json_end_object(&w);
			}
			tidu_json_end_array(&w);
			tidu_json_write_key(&w, "stale_devices");
			tidu_json_write_int64(&w, (int64_t)nstale);
		}
		tidu_json_end_object(&w);
		code = cli_emit_json(&w, &out);
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
	cli_print_padded(stdout, _("Last sync:"), 18);
	if (synced) {
		utc_text(last_ms, when);
		printf("%s, %s '%s'%s%s%s\n", when, _("remote"), last_remote, last_url ? " (" : "",
		       last_url ? last_url : "", last_url ? ")" : "");
	} else {
		printf("%s\n", _("never"));
	}
	if (!city)
		goto done;
	printf("\n%s\n", _("Districts (firms, visits):"));
	for (k = 0; k < ndists; k++) {
		const char *dn = tidu_dict_district_name(dists[k].district);

		printf("  %s ", dists[k].district[0] ? dists[k].district : "-");
		cli_print_padded(stdout, dn ? dn : "", 12);
		printf("%8lld %8lld\n", (long long)dists[k].firms, (long long)dists[k].visits);
	}
	if (!ndists)
		printf("  %s\n", _("none yet"));
	printf("\n%s\n", _("Devices (district, officer, last change set, last seen by a sync):"));
	for (k = 0; k < ndevs; k++) {
		const tidu_repo_device_seen *d = &devs[k];

		if (d->last_seen)
			utc_text(d->last_seen, when);
		printf("  %s %s ", d->dev.device, d->dev.district);
		cli_print_padded(stdout, d->dev.officer, 10);
		printf("%6llu  %s%s%s\n", (unsigned long long)d->last_seq,
		       d->last_seen ? when : _("never"),
		       d->dev.revoked ? "  " : "", d->dev.revoked ? _("(revoked)") : "");
	}
	if (!ndevs)
		printf("  %s\n", _("none enrolled yet"));
	printf("\n");
	printf(_("Devices not seen for %lld days: %zu\n"), (long long)stale_days, nstale);
	for (k = 0; k < ndevs; k++)
		if (is_stale(&devs[k], now, stale_days))
			printf("  %s %s %s\n", devs[k].dev.device, devs[k].dev.district,
			       devs[k].dev.officer);
done:
	free(dists);
	free(devs);
	free(last_url);
	tidu_store_free(s);
	free(args);
	return code;
}
