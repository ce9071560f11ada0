/* Unit tests: rules.h (the city's rule packs: publish, export, import). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "tidu/alloc.h"
#include "tidu/json.h"
#include "tidu/rules.h"
#include "tidu/trust.h"

#define PASS "unit test passphrase"

typedef struct {
	char dcity[64], da[64], dother[64], dlone[64];
	tidu_store *city, *a, *other, *lone; /* other: another city; lone: nothing pinned */
} fixture;

static int setup(void **state)
{
	fixture *f = tidu_calloc(1, sizeof(*f));

	f->city = th_store(f->dcity, "rules-city", "410100", "city", PASS);
	f->a = th_store(f->da, "rules-a", "410105", "officer", PASS);
	f->other = th_store(f->dother, "rules-other", "410100", "city", PASS);
	f->lone = th_store(f->dlone, "rules-lone", "410105", "officer", PASS);
	th_enroll(f->city, &f->a, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	tidu_store_free(f->city);
	tidu_store_free(f->a);
	tidu_store_free(f->other);
	tidu_store_free(f->lone);
	th_rmtree(f->dcity);
	th_rmtree(f->da);
	th_rmtree(f->dother);
	th_rmtree(f->dlone);
	free(f);
	return 0;
}

/* The embedded pack `id` with its version line set to `version`: a new string. */
static char *pack_version(const char *id, int version)
{
	tidu_packs *set = NULL;
	const char *text, *line, *eol;
	tidu_buf b = TIDU_BUF_INIT;

	assert_int_equal(tidu_packs_load(&set), 0);
	text = tidu_pack_text(tidu_packs_find(set, id));
	line = strstr(text, "\nversion ");
	assert_non_null(line);
	eol = strchr(line + 1, '\n');
	tidu_buf_put(&b, text, (size_t)(line + 1 - text));
	tidu_buf_printf(&b, "version %d", version);
	tidu_buf_puts(&b, eol);
	tidu_packs_free(set);
	return tidu_buf_detach(&b);
}

/* The version of pack `id` that store `s` assesses with, 0 if none; *city its source. */
static int in_use(tidu_store *s, const char *id, int *city)
{
	tidu_packs *set = NULL;
	const tidu_pack *p;
	int v;

	assert_int_equal(tidu_rules_load(s, &set), 0);
	p = tidu_packs_find(set, id);
	v = p ? tidu_pack_version(p) : 0;
	if (city)
		*city = p ? tidu_pack_from_city(p) : -1;
	tidu_packs_free(set);
	return v;
}

/* A document signed by `signer` with the entries (id, version, text) given. */
static void signed_doc(tidu_store *signer, tidu_buf *doc, size_t n, const char *const *ids,
		       const int *versions, const char *const *texts)
{
	tidu_buf payload = TIDU_BUF_INIT;
	tidu_json_writer w;
	size_t i;

	tidu_json_writer_init(&w, &payload, TIDU_JSON_MINIMAL_ESCAPES);
	tidu_json_begin_object(&w);
	tidu_json_write_key(&w, "format");
	tidu_json_write_string(&w, TIDU_RULES_FORMAT);
	tidu_json_write_key(&w, "format_version");
	tidu_json_write_int64(&w, 1);
	tidu_json_write_key(&w, "packs");
	tidu_json_begin_array(&w);
	for (i = 0; i < n; i++) {
		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "id");
		tidu_json_write_string(&w, ids[i]);
		tidu_json_write_key(&w, "version");
		tidu_json_write_int64(&w, versions[i]);
		tidu_json_write_key(&w, "text");
		tidu_json_write_string(&w, texts[i]);
		tidu_json_end_object(&w);
	}
	tidu_json_end_array(&w);
	tidu_json_end_object(&w);
	assert_int_equal(tidu_json_writer_finish(&w), 0);
	tidu_buf_clear(doc);
	assert_int_equal(tidu_trust_city_sign(signer, TIDU_RULES_DOMAIN, &payload, doc), 0);
	tidu_buf_free(&payload);
}

static void test_publish_export_import(void **state)
{
	fixture *f = *state;
	char *v2 = pack_version("rules-2022", 2), *v1 = pack_version("rules-2022", 1);
	tidu_rules_published pub;
	tidu_city_import rep;
	tidu_buf doc = TIDU_BUF_INIT, again = TIDU_BUF_INIT;
	size_t n;
	int city;

	/* Nothing published: no document. */
	assert_int_equal(tidu_rules_export(f->city, &doc, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(doc.len, 0);
	/* Only the city publishes; only a newer version. */
	assert_int_equal(tidu_rules_publish(f->a, "v2.pack", v2, &pub), TIDU_EINVAL);
	assert_int_equal(tidu_rules_publish(f->city, "v1.pack", v1, &pub), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "not newer"));
	tidu_error_clear();
	assert_int_equal(tidu_rules_publish(f->city, "v2.pack", v2, &pub), 0);
	assert_string_equal(pub.id, "rules-2022");
	assert_int_equal(pub.version, 2);
	assert_int_equal(pub.previous, 1);
	assert_int_equal(in_use(f->city, "rules-2022", &city), 2);
	assert_int_equal(city, 1);
	assert_int_equal(tidu_rules_publish(f->city, "v2.pack", v2, &pub), TIDU_EINVAL);
	tidu_error_clear();

	/* The document is the same bytes each time (no commit when nothing changed). */
	assert_int_equal(tidu_rules_export(f->city, &doc, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(tidu_rules_export(f->city, &again, &n), 0);
	assert_int_equal(doc.len, again.len);
	assert_memory_equal(doc.ptr, again.ptr, doc.len);

	/* A device takes it once; again is no change. */
	assert_int_equal(in_use(f->a, "rules-2022", &city), 1);
	assert_int_equal(city, 0);
	assert_int_equal(tidu_rules_import(f->a, doc.ptr, doc.len, &rep), 0);
	assert_int_equal(rep.taken, 1);
	assert_int_equal(rep.nrefused, 0);
	tidu_city_import_free(&rep);
	assert_int_equal(in_use(f->a, "rules-2022", &city), 2);
	assert_int_equal(city, 1);
	assert_int_equal(tidu_rules_import(f->a, doc.ptr, doc.len, &rep), 0);
	assert_int_equal(rep.taken, 0);
	assert_int_equal(rep.kept, 1);
	tidu_city_import_free(&rep);

	/* A store with no city key pinned reads nothing yet. */
	assert_int_equal(tidu_rules_import(f->lone, doc.ptr, doc.len, &rep), TIDU_ENOTFOUND);
	tidu_error_clear();
	assert_int_equal(in_use(f->lone, "rules-2022", NULL), 1);
	free(v1);
	free(v2);
	tidu_buf_free(&doc);
	tidu_buf_free(&again);
}

static void test_import_refuses(void **state)
{
	fixture *f = *state;
	char *v3 = pack_version("rules-2022", 3), *v4 = pack_version("rules-2022", 4);
	char *n2 = pack_version("rules-2026", 2), *bad;
	tidu_city_import rep;
	tidu_buf doc = TIDU_BUF_INIT, b = TIDU_BUF_INIT;
	size_t at;

	/* Signed by another city: refused whole, nothing stored. */
	{
		const char *ids[] = {"rules-2022"};
		const int vs[] = {3};
		const char *texts[] = {v3};

		signed_doc(f->other, &doc, 1, ids, vs, texts);
		assert_int_equal(tidu_rules_import(f->a, doc.ptr, doc.len, &rep), TIDU_ECORRUPT);
		assert_non_null(strstr(tidu_error_message(), "not signed by the pinned city key"));
		tidu_error_clear();
		assert_int_equal(in_use(f->a, "rules-2022", NULL), 1);
		/* The city's own, with one byte of the text changed. */
		signed_doc(f->city, &doc, 1, ids, vs, texts);
		at = (size_t)(strstr(doc.ptr, "version 3") - doc.ptr);
		doc.ptr[at + 8] = '9';
		assert_int_equal(tidu_rules_import(f->a, doc.ptr, doc.len, &rep), TIDU_ECORRUPT);
		tidu_error_clear();
		assert_int_equal(in_use(f->a, "rules-2022", NULL), 1);
	}
	/*
	 * Signed by the city: a pack that does not parse, a text that is not the
	 * version its entry says, an entry without a text are refused and named;
	 * the good pack of the same document is still taken.
	 */
	tidu_buf_puts(&b, v3);
	tidu_buf_puts(&b, "indicator broken nowhere\n");
	bad = tidu_buf_detach(&b);
	{
		const char *ids[] = {"rules-2022", "rules-2022", "rules-2022", "rules-2026"};
		const int vs[] = {3, 5, 6, 2};
		const char *texts[] = {bad, v4, "", n2};

		signed_doc(f->city, &doc, 4, ids, vs, texts);
		assert_int_equal(tidu_rules_import(f->a, doc.ptr, doc.len, &rep), 0);
		assert_int_equal(rep.taken, 1);
		assert_int_equal(rep.nrefused, 3);
		assert_non_null(strstr(tidu_buf_cstr(&rep.refused), "city:rules-2022:"));
		assert_non_null(strstr(tidu_buf_cstr(&rep.refused), "not version 5"));
		tidu_city_import_free(&rep);
		assert_int_equal(in_use(f->a, "rules-2022", NULL), 1);
		assert_int_equal(in_use(f->a, "rules-2026", NULL), 2);
	}
	/* An older version than the one in use is kept out. */
	{
		const char *ids[] = {"rules-2026"};
		const int vs[] = {1};
		char *n1 = pack_version("rules-2026", 1);
		const char *texts[] = {n1};

		signed_doc(f->city, &doc, 1, ids, vs, texts);
		assert_int_equal(tidu_rules_import(f->a, doc.ptr, doc.len, &rep), 0);
		assert_int_equal(rep.taken, 0);
		assert_int_equal(rep.kept, 1);
		tidu_city_import_free(&rep);
		assert_int_equal(in_use(f->a, "rules-2026", NULL), 2);
		free(n1);
	}
	/* Not a rule pack document at all. */
	assert_int_equal(tidu_rules_import(f->a, "{}", 2, &rep), TIDU_EINVAL);
	tidu_error_clear();
	free(bad);
	free(v3);
	free(v4);
	free(n2);
	tidu_buf_free(&doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_publish_export_import, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_refuses, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
