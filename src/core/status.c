#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/firm.h"
#include "tidu/record.h"
#include "tidu/remote.h"
#include "tidu/status.h"
#include "tidu/visit.h"

/* The next row of the merged list for district `d`. */
static tidu_status_district *add_district(tidu_status *st, const char *d)
{
	tidu_status_district *row;

	st->districts = tidu_reallocarray(st->districts, st->ndistricts + 1,
					  sizeof(*st->districts));
	row = &st->districts[st->ndistricts++];
	memset(row, 0, sizeof(*row));
	snprintf(row->district, sizeof(row->district), "%s", d);
	return row;
}

/* Firms and visits per district: the two lists, both by code, merged. */
static int read_districts(tidu_store *s, tidu_status *st)
{
	tidu_district_count *f = NULL, *v = NULL;
	size_t nf = 0, nv = 0, i = 0, j = 0;
	int error;

	if ((error = tidu_firm_count_by_district(s, &f, &nf)) < 0 ||
	    (error = tidu_visit_count_by_district(s, &v, &nv)) < 0)
		goto done;
	while (i < nf || j < nv) {
		int c = i == nf ? 1 : j == nv ? -1 : strcmp(f[i].district, v[j].district);
		tidu_status_district *row = add_district(st, c <= 0 ? f[i].district
								    : v[j].district);

		if (c <= 0)
			row->firms = f[i++].count;
		if (c >= 0)
			row->visits = v[j++].count;
	}
done:
	free(f);
	free(v);
	return error;
}

int tidu_status_read(tidu_store *s, tidu_status *out)
{
	int error;

	memset(out, 0, sizeof(*out));
	out->city = !strcmp(tidu_store_role(s), "city");
	if ((error = tidu_firm_count(s, &out->firms, &out->firm_years)) < 0 ||
	    (error = tidu_visit_count(s, &out->visits)) < 0 ||
	    (error = tidu_record_pending(s, &out->pending)) < 0)
		return error;
	{
		tidu_outbox_counts oc;

		if ((error = tidu_changes_outbox_counts(s, &oc)) < 0)
			return error;
		out->aside = oc.aside;
	}
	error = tidu_sync_last(s, &out->last_sync_ms, out->last_remote);
	if (error == 0) {
		out->synced = 1;
		char *url = NULL;

		if (tidu_remote_url(s, out->last_remote, &url) < 0)
			url = NULL; /* removed since */
		/* Shown by status (text and JSON): never with a password. */
		out->last_url = url ? tidu_remote_redact(url) : NULL;
		free(url);
	} else if (error != TIDU_ENOTFOUND) {
		return error;
	}
	tidu_error_clear();
	if (out->city && ((error = read_districts(s, out)) < 0 ||
			  (error = tidu_sync_devices_seen(s, &out->devices, &out->ndevices)) < 0))
		return error;
	return 0;
}

void tidu_status_free(tidu_status *st)
{
	free(st->districts);
	free(st->devices);
	free(st->last_url);
	memset(st, 0, sizeof(*st));
}
