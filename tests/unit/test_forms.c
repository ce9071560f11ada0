/*
 * Unit tests: forms.h (the forms a store holds) with the built-in forms
 * compiled in from schema/forms: the embedded table itself (sorted, the
 * workbooks byte for byte), every store seeing the built-ins, pinning (in
 * and out of the caller's transaction), imports beside a built-in, newest
 * versions across both, publishing a built-in on the city and a device
 * taking the city's copy. The other workbooks are written by libxlsxwriter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "xlsx_sheets.h"
#include "tidu/buf.h"
#include "tidu/embedded.h"
#include "tidu/error.h"
#include "tidu/file.h"
#include "tidu/forms.h"
#include "tidu/trust.h"

#define PASS "unit test passphrase"
#define T1 "tier1-self-check"
#define T1_VERSION "2026120301"

static const char *const builtin_ids[] = {"giant-readiness", "lookback-review", "service-needs",
					  "srdi-application", T1};
#define NBUILTIN (sizeof(builtin_ids) / sizeof(builtin_ids[0]))

typedef struct {
	char dcity[64], da[64], dtmp[64];
	tidu_store *city, *a;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->city = th_store(f->dcity, "forms-city", "410100", "city", PASS);
	f->a = th_store(f->da, "forms-a", "410105", "officer", PASS);
	th_enroll(f->city, &f->a, 1);
	snprintf(f->dtmp, sizeof(f->dtmp), "/tmp/tidu-forms-x.XXXXXX");
	assert_non_null(mkdtemp(f->dtmp));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	tidu_store_free(f->city);
	tidu_store_free(f->a);
	th_rmtree(f->dcity);
	th_rmtree(f->da);
	th_rmtree(f->dtmp);
	free(f);
	return 0;
}

static int64_t stored(tidu_store *s, const char *id)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM form WHERE id='%s'", id);
	return th_scalar(s, sql);
}

/* The source column of the stored row of T1 at T1_VERSION ("" if none): a new string. */
static char *stored_source(tidu_store *s)
{
	sqlite3_stmt *st;
	char *v;

	assert_int_equal(sqlite3_prepare_v2(tidu_store_db(s),
		"SELECT source FROM form WHERE id='" T1 "' AND version='" T1_VERSION "'", -1,
		&st, NULL), SQLITE_OK);
	v = strdup(sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "");
	sqlite3_finalize(st);
	return v;
}

/* The workbook of a small form `id` at `version` with label `label`: a buffer to free. */
static void workbook(const fixture *f, const char *id, const char *version, const char *label,
		     tidu_buf *out)
{
	char survey1[128], settings1[128];
	const char *survey[] = {"type\tname\tlabel", survey1, NULL};
	const char *settings[] = {"form_id\tversion", settings1, NULL};
	const char *path;

	snprintf(survey1, sizeof(survey1), "integer\temployees\t%s", label);
	snprintf(settings1, sizeof(settings1), "%s\t%s", id, version);
	path = xs_workbook(f->dtmp, "w", survey, NULL, settings);
	tidu_buf_clear(out);
	assert_int_equal(tidu_file_read(path, TIDU_FORM_FILE_MAX, out), 0);
}

/* The built-in T1's bytes as schema/forms holds them. */
static void builtin_bytes(tidu_buf *out)
{
	assert_int_equal(tidu_file_read(TIDU_SOURCE_DIR "/schema/forms/" T1 ".xlsx",
					TIDU_FORM_FILE_MAX, out), 0);
}

/* tools/embed.cmake: sorted for the binary search, binary files byte for byte. */
static void test_embedded_table(void **state)
{
	size_t i, nforms = 0;

	(void)state;
	for (i = 0; i < tidu_embedded_count; i++) {
		const tidu_embedded_file *e = &tidu_embedded[i];

		if (i)
			assert_true(strcmp(tidu_embedded[i - 1].name, e->name) < 0);
		assert_ptr_equal(tidu_embedded_find(e->name), e);
		assert_int_equal(e->data[e->size], 0);
		if (!strncmp(e->name, "forms/", 6)) {
			tidu_buf disk = TIDU_BUF_INIT;
			char path[256];

			snprintf(path, sizeof(path), "%s/schema/%s", TIDU_SOURCE_DIR, e->name);
			assert_int_equal(tidu_file_read(path, TIDU_FORM_FILE_MAX, &disk), 0);
			assert_int_equal(disk.len, e->size);
			assert_memory_equal(disk.ptr, e->data, e->size);
			assert_memory_equal(e->data, "PK\x03\x04", 4);
			tidu_buf_free(&disk);
			nforms++;
		}
	}
	assert_int_equal(nforms, NBUILTIN);
	assert_non_null(tidu_embedded_find("rules/rules-2026.pack"));
	assert_non_null(tidu_embedded_find("001_init.sql"));
	assert_null(tidu_embedded_find(T1 ".xlsx"));
	assert_null(tidu_embedded_find("forms/nothing.xlsx"));
}

/* A new store lists the five, each named by its file; each reads. */
static void test_fresh_store_sees_builtins(void **state)
{
	fixture *f = *state;
	tidu_form_info *v = NULL, in;
	tidu_form *form = NULL;
	size_t n = 0, i;

	assert_int_equal(tidu_forms_list(f->a, &v, &n), 0);
	assert_int_equal(n, NBUILTIN);
	for (i = 0; i < n; i++) {
		assert_string_equal(v[i].id, builtin_ids[i]);
		assert_string_equal(v[i].source, "builtin");
		assert_int_equal(v[i].stored, 0);
		assert_int_equal(v[i].newest, 1);
		assert_true(v[i].questions > 10);
		assert_true(v[i].title[0] != '\0');
		assert_int_equal(strlen(v[i].sha256), 64);
	}
	tidu_forms_list_free(v, n);
	assert_int_equal(th_scalar(f->a, "SELECT count(*) FROM form"), 0);

	assert_int_equal(tidu_forms_get(f->a, T1, NULL, &form, &in), 0);
	assert_string_equal(form->id, T1);
	assert_string_equal(in.version, T1_VERSION);
	assert_string_equal(in.source, "builtin");
	assert_int_equal(in.stored, 0);
	assert_string_equal(in.title, "创新型中小企业自评");
	free(in.title);
	tidu_form_free(form);
	assert_int_equal(tidu_forms_get(f->a, T1, T1_VERSION, &form, NULL), 0);
	tidu_form_free(form);
	assert_int_equal(tidu_forms_get(f->a, T1, "1", &form, NULL), TIDU_ENOTFOUND);
	assert_null(form);
	assert_string_equal(tidu_error_message(),
			    "no form '" T1 "' version 1: see tidu form list");
	/* Found by the id, never by a path of the embedded table. */
	assert_int_equal(tidu_forms_get(f->a, "../rules/rules-2026", NULL, &form, NULL),
			 TIDU_ENOTFOUND);
	assert_int_equal(tidu_forms_get(f->a, "forms/" T1, NULL, &form, NULL), TIDU_ENOTFOUND);
}

/* Pinning: in the caller's transaction (undone with it), then on its own; idempotent. */
static void test_pin(void **state)
{
	fixture *f = *state;
	tidu_form_info *v = NULL, in;
	tidu_form *form = NULL;
	size_t n = 0;
	char *src;

	assert_int_equal(tidu_store_begin(f->a), 0);
	assert_int_equal(tidu_forms_pin(f->a, T1, T1_VERSION), 0);
	assert_int_equal(stored(f->a, T1), 1);
	tidu_store_rollback(f->a);
	assert_int_equal(stored(f->a, T1), 0);

	assert_int_equal(tidu_store_begin(f->a), 0);
	assert_int_equal(tidu_forms_pin(f->a, T1, T1_VERSION), 0);
	assert_int_equal(tidu_forms_pin(f->a, T1, T1_VERSION), 0);
	assert_int_equal(tidu_store_commit(f->a), 0);
	assert_int_equal(stored(f->a, T1), 1);
	assert_int_equal(tidu_forms_pin(f->a, T1, NULL), 0); /* no transaction open */
	assert_int_equal(stored(f->a, T1), 1);
	src = stored_source(f->a);
	assert_string_equal(src, "builtin");
	free(src);
	assert_int_equal(th_scalar(f->a, "SELECT count(*) FROM form WHERE published=0"), 1);

	assert_int_equal(tidu_forms_pin(f->a, T1, "1"), TIDU_ENOTFOUND);
	assert_int_equal(tidu_forms_pin(f->a, "nothing", NULL), TIDU_ENOTFOUND);
	assert_int_equal(th_scalar(f->a, "SELECT count(*) FROM form"), 1);

	/* Listed once, now from the table; read from it. */
	assert_int_equal(tidu_forms_list(f->a, &v, &n), 0);
	assert_int_equal(n, NBUILTIN);
	assert_string_equal(v[4].id, T1);
	assert_string_equal(v[4].source, "builtin");
	assert_int_equal(v[4].stored, 1);
	assert_int_equal(v[3].stored, 0);
	tidu_forms_list_free(v, n);
	assert_int_equal(tidu_forms_get(f->a, T1, NULL, &form, &in), 0);
	assert_int_equal(in.stored, 1);
	free(in.title);
	tidu_form_free(form);
}

/* The built-in's own bytes: no change locally; other bytes under its version refused. */
static void test_import_beside_builtin(void **state)
{
	fixture *f = *state;
	tidu_buf data = TIDU_BUF_INIT;
	tidu_form_info in;
	int was_new = 1;
	char *src;

	builtin_bytes(&data);
	assert_int_equal(tidu_forms_import(f->a, "t1.xlsx", data.ptr, data.len, "local", &in,
					   &was_new), 0);
	assert_int_equal(was_new, 0);
	assert_string_equal(in.source, "builtin");
	assert_int_equal(in.stored, 0);
	assert_string_equal(in.version, T1_VERSION);
	free(in.title);
	assert_int_equal(th_scalar(f->a, "SELECT count(*) FROM form"), 0);

	workbook(f, T1, T1_VERSION, "Employees", &data);
	assert_int_equal(tidu_forms_import(f->a, "w.xlsx", data.ptr, data.len, "local", &in,
					   &was_new), TIDU_EEXISTS);
	assert_string_equal(tidu_error_message(), "form '" T1 "' version " T1_VERSION
			    " is built in with other contents: raise the version in its settings sheet");
	assert_int_equal(tidu_forms_import(f->a, "w.xlsx", data.ptr, data.len, "city", &in,
					   &was_new), TIDU_EEXISTS);
	assert_int_equal(th_scalar(f->a, "SELECT count(*) FROM form"), 0);

	/* Pinned, the same bytes again are "stored already". */
	assert_int_equal(tidu_forms_pin(f->a, T1, NULL), 0);
	builtin_bytes(&data);
	assert_int_equal(tidu_forms_import(f->a, "t1.xlsx", data.ptr, data.len, "local", &in,
					   &was_new), 0);
	assert_int_equal(was_new, 0);
	assert_int_equal(in.stored, 1);
	assert_string_equal(in.source, "builtin");
	free(in.title);
	src = stored_source(f->a);
	assert_string_equal(src, "builtin");
	free(src);
	tidu_buf_free(&data);
}

/* The newest version across the table and the built-in (tidu_forms_version_cmp). */
static void test_newest_across(void **state)
{
	fixture *f = *state;
	tidu_buf data = TIDU_BUF_INIT;
	tidu_form_info *v = NULL, in;
	tidu_form *form = NULL;
	size_t n = 0;
	int was_new = 0;

	workbook(f, T1, "999999999", "older", &data); /* fewer digits: older */
	assert_int_equal(tidu_forms_import(f->a, "w.xlsx", data.ptr, data.len, "local", NULL,
					   &was_new), 0);
	assert_int_equal(was_new, 1);
	assert_int_equal(tidu_forms_get(f->a, T1, NULL, &form, &in), 0);
	assert_string_equal(in.version, T1_VERSION);
	assert_int_equal(in.stored, 0);
	free(in.title);
	tidu_form_free(form);

	workbook(f, T1, "2026120302", "newer", &data);
	assert_int_equal(tidu_forms_import(f->a, "w.xlsx", data.ptr, data.len, "local", NULL,
					   &was_new), 0);
	assert_int_equal(tidu_forms_get(f->a, T1, NULL, &form, &in), 0);
	assert_string_equal(in.version, "2026120302");
	assert_string_equal(in.source, "local");
	assert_int_equal(form->nq, 1);
	free(in.title);
	tidu_form_free(form);
	assert_int_equal(tidu_forms_get(f->a, T1, T1_VERSION, &form, &in), 0);
	assert_string_equal(in.source, "builtin");
	assert_true(form->nq > 10);
	free(in.title);
	tidu_form_free(form);

	assert_int_equal(tidu_forms_list(f->a, &v, &n), 0);
	assert_int_equal(n, NBUILTIN + 2);
	assert_string_equal(v[4].version, "2026120302");
	assert_int_equal(v[4].newest, 1);
	assert_string_equal(v[5].version, T1_VERSION);
	assert_int_equal(v[5].newest, 0);
	assert_string_equal(v[5].source, "builtin");
	assert_string_equal(v[6].version, "999999999");
	tidu_forms_list_free(v, n);
	tidu_buf_free(&data);
}

/* The city publishes a built-in (pinned first); a device stores the city's copy. */
static void test_publish_builtin(void **state)
{
	fixture *f = *state;
	tidu_buf doc = TIDU_BUF_INIT;
	tidu_city_import rep;
	tidu_form_info in;
	size_t count = 0;
	char *src;

	assert_int_equal(tidu_forms_publish(f->a, T1, NULL, &in), TIDU_EINVAL);
	assert_int_equal(tidu_forms_export(f->city, &doc, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(tidu_forms_publish(f->city, "nothing", NULL, &in), TIDU_ENOTFOUND);
	assert_int_equal(th_scalar(f->city, "SELECT count(*) FROM form"), 0);

	assert_int_equal(tidu_forms_publish(f->city, T1, NULL, &in), 0);
	assert_string_equal(in.version, T1_VERSION);
	assert_int_equal(in.stored, 1);
	free(in.title);
	assert_int_equal(th_scalar(f->city, "SELECT count(*) FROM form WHERE published=1 AND "
				   "source='builtin'"), 1);
	assert_int_equal(tidu_forms_publish(f->city, T1, T1_VERSION, NULL), 0);
	assert_int_equal(th_scalar(f->city, "SELECT count(*) FROM form"), 1);
	assert_int_equal(tidu_forms_export(f->city, &doc, &count), 0);
	assert_int_equal(count, 1);

	/* The device sees the same built-in, and still keeps the city's copy. */
	assert_int_equal(tidu_forms_import_doc(f->a, doc.ptr, doc.len, &rep), 0);
	assert_int_equal(rep.taken, 1);
	assert_int_equal(rep.nrefused, 0);
	tidu_city_import_free(&rep);
	src = stored_source(f->a);
	assert_string_equal(src, "city");
	free(src);
	assert_int_equal(tidu_forms_import_doc(f->a, doc.ptr, doc.len, &rep), 0);
	assert_int_equal(rep.taken, 0);
	assert_int_equal(rep.kept, 1);
	tidu_city_import_free(&rep);
	tidu_buf_free(&doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_table),
		cmocka_unit_test_setup_teardown(test_fresh_store_sees_builtins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_beside_builtin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newest_across, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_builtin, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
