#include <stdio.h>
#include <string.h>

#include "tidu/export.h"
#include "tidu/i18n.h"
#include "tidu/record.h"

#define CHUNK 65536

int tidu_export_firm(tidu_store *s, const tidu_rec *firm, tidu_json_writer *w)
{
	tidu_query_filter years = {tidu_view_rec_get(firm, "uscc"), NULL, NULL, TIDU_ORDER_KEY};
	tidu_query *q = NULL;
	tidu_rec y = TIDU_REC_INIT;
	char year[24];
	int error, rc;

	tidu_json_begin_object(w);
	tidu_view_rec_json_members(firm, w);
	tidu_json_write_key(w, "years");
	tidu_json_begin_object(w);
	if ((error = tidu_view_query_open(s, TIDU_ENTITY_FIRM_YEAR, &years, &q)) < 0)
		return error;
	while ((rc = tidu_view_query_next(q, &y)) > 0) {
		snprintf(year, sizeof(year), "%lld", (long long)y.year);
		tidu_json_write_key(w, year);
		tidu_json_begin_object(w);
		tidu_view_rec_json_members(&y, w);
		tidu_json_end_object(w);
	}
	tidu_view_rec_clear(&y);
	tidu_view_query_free(q);
	if (rc < 0)
		return rc;
	tidu_json_end_object(w);
	tidu_json_end_object(w);
	return w->error;
}

int tidu_export_visit(const char *id, const tidu_rec *visit, tidu_json_writer *w)
{
	tidu_json_begin_object(w);
	tidu_json_write_key(w, "id");
	tidu_json_write_string(w, id);
	tidu_view_rec_json_members(visit, w);
	tidu_json_end_object(w);
	return w->error;
}

static int export_visits(tidu_store *s, const char *district,
			 tidu_json_writer *w, tidu_buf *out, tidu_sink sink, void *ctx)
{
	sqlite3_stmt *st = NULL;
	tidu_rec v = TIDU_REC_INIT;
	int rc, error = 0;

	/* Visit ids are not a dictionary field; walk ids, then load each. */
	rc = sqlite3_prepare_v2(tidu_store_db(s),
		"SELECT id FROM visit WHERE _deleted=0 AND (?1 IS NULL OR uscc IN "
		"(SELECT uscc FROM firm WHERE district=?1)) ORDER BY id", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return tidu_store_sqlerr(s, rc, _("exporting visits"));
	if (district)
		sqlite3_bind_text(st, 1, district, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);

		if ((error = tidu_view_rec_load(s, TIDU_ENTITY_VISIT, id, &v)) < 0)
			break;
		tidu_export_visit(id, &v, w);
		if (out->len > CHUNK && (error = sink(ctx, out)) < 0)
			break;
	}
	if (!error && rc != SQLITE_DONE)
		error = tidu_store_sqlerr(s, rc, _("exporting visits"));
	tidu_view_rec_clear(&v);
	sqlite3_finalize(st);
	return error;
}

int tidu_export_json(tidu_store *s, const char *district, tidu_sink sink,
		     void *ctx)
{
	tidu_query_filter firms = {NULL, district, NULL, TIDU_ORDER_KEY};
	tidu_buf out = TIDU_BUF_INIT;
	tidu_json_writer w;
	tidu_query *q = NULL;
	tidu_rec firm = TIDU_REC_INIT;
	int error, rc;

	/* One read transaction: the document is one consistent snapshot. */
	if ((rc = sqlite3_exec(tidu_store_db(s), "BEGIN", NULL, NULL, NULL)) != SQLITE_OK)
		return tidu_store_sqlerr(s, rc, _("exporting"));
	tidu_json_writer_init(&w, &out, 1);
	tidu_json_begin_object(&w);
	tidu_json_write_key(&w, "format");
	tidu_json_write_string(&w, "tidu-export");
	tidu_json_write_key(&w, "version");
	tidu_json_write_int64(&w, 1);
	tidu_json_write_key(&w, "firms");
	tidu_json_begin_array(&w);
	if ((error = tidu_view_query_open(s, TIDU_ENTITY_FIRM, &firms, &q)) < 0)
		goto done;
	while ((rc = tidu_view_query_next(q, &firm)) > 0) {
		if ((error = tidu_export_firm(s, &firm, &w)) < 0)
			goto done;
		if (out.len > CHUNK && (error = sink(ctx, &out)) < 0)
			goto done;
	}
	if ((error = rc) < 0)
		goto done;
	tidu_json_end_array(&w);
	tidu_json_write_key(&w, "visits");
	tidu_json_begin_array(&w);
	if ((error = export_visits(s, district, &w, &out, sink, ctx)) < 0)
		goto done;
	tidu_json_end_array(&w);
	tidu_json_end_object(&w);
	if ((error = tidu_json_writer_finish(&w)) < 0)
		goto done;
	tidu_buf_putc(&out, '\n');
	error = sink(ctx, &out);
done:
	sqlite3_exec(tidu_store_db(s), "COMMIT", NULL, NULL, NULL);
	tidu_view_rec_clear(&firm);
	tidu_view_query_free(q);
	tidu_buf_free(&out);
	return error;
}
