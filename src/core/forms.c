/*
 * The forms a store holds: table `form` (migration 007), every version of
 * every form as the workbook itself, and the built-in forms compiled into
 * the binary (schema/forms, embedded as "forms/ID.xlsx"), read from their
 * bytes when used and pinned into the table once something depends on
 * them (forms.h, docs/surveys.md).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "tidu/alloc.h"
#include "tidu/clock.h"
#include "tidu/embedded.h"
#include "tidu/forms.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "tidu/trust.h"

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

int tidu_forms_version_cmp(const char *a, const char *b)
{
	/* Numbers as numbers ("10" after "9"), without leading zeros counting; else bytes. */
	if (all_digits(a) && all_digits(b)) {
		size_t la, lb;

		while (*a == '0' && a[1])
			a++;
		while (*b == '0' && b[1])
			b++;
		la = strlen(a);
		lb = strlen(b);
		if (la != lb)
			return la < lb ? -1 : 1;
	}
	return strcmp(a, b);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

static size_t asked(const tidu_form *f)
{
	size_t i, n = 0;

	for (i = 0; i < f->nq; i++)
		if (tidu_qtype_has_value(f->q[i].type) || f->q[i].type == TIDU_Q_NOTE)
			n++;
	return n;
}

static void fill_info(tidu_form_info *in, const tidu_form *f, const char *source,
		      const char *sha, int stored)
{
	memset(in, 0, sizeof(*in));
	in->stored = stored;
	snprintf(in->id, sizeof(in->id), "%s", f->id);
	snprintf(in->version, sizeof(in->version), "%s", f->version);
	in->title = tidu_strdup(tidu_form_text_get(f, &f->title, NULL));
	in->questions = asked(f);
	snprintf(in->source, sizeof(in->source), "%s", source);
	snprintf(in->sha256, sizeof(in->sha256), "%s", sha);
}

/* ---- the built-in forms ------------------------------------------------------ */

#define BUILTIN_DIR "forms/"
#define BUILTIN_EXT ".xlsx"

/* Whether the embedded file `e` is a built-in form ("forms/ID.xlsx"). */
static int is_builtin(const tidu_embedded_file *e)
{
	size_t len = strlen(e->name), dir = strlen(BUILTIN_DIR), ext = strlen(BUILTIN_EXT);

	return len > dir + ext && !strncmp(e->name, BUILTIN_DIR, dir) &&
	       !strcmp(e->name + len - ext, BUILTIN_EXT) && !strchr(e->name + dir, '/');
}

/* The built-in form of id `id`: the file "forms/ID.xlsx", or NULL. */
static const tidu_embedded_file *builtin_file(const char *id)
{
	tidu_buf b = TIDU_BUF_INIT;
	const tidu_embedded_file *e;

	tidu_buf_printf(&b, BUILTIN_DIR "%s" BUILTIN_EXT, id);
	e = tidu_embedded_find(tidu_buf_cstr(&b));
	tidu_buf_free(&b);
	return e;
}

/*
 * Reads the built-in form `e` into *out. It was checked when tidu was built
 * (tests/unit/test_forms): failing now, or an id other than its file name
 * (by which tidu_forms_get finds it), is a defect of this build.
 */
static int builtin_read(const tidu_embedded_file *e, tidu_form **out)
{
	const char *file = e->name + strlen(BUILTIN_DIR);
	size_t idlen = strlen(file) - strlen(BUILTIN_EXT);
	int error;

	*out = NULL;
	if ((error = tidu_form_read_mem(e->name, e->data, e->size, out)) < 0)
		return tidu_error_set(TIDU_ERROR, _("the built-in form '%s' cannot be read: %s"),
				      e->name, tidu_error_message());
	if (strlen((*out)->id) != idlen || strncmp((*out)->id, file, idlen) ||
	    strlen((*out)->version) >= sizeof(((tidu_form_info *)NULL)->version)) {
		error = tidu_error_set(TIDU_ERROR,
			_("the built-in form '%s' says it is '%s' version %s"), e->name,
			(*out)->id, (*out)->version);
		tidu_form_free(*out);
		*out = NULL;
	}
	return error;
}

/* The info of built-in `e` (not stored), its form in *form if `form` is not NULL. */
static int builtin_info(const tidu_embedded_file *e, tidu_form_info *in, tidu_form **form)
{
	tidu_form *f = NULL;
	char sha[65];
	int error;

	if ((error = builtin_read(e, &f)) < 0)
		return error;
	sha256_hex(e->data, e->size, sha);
	fill_info(in, f, "builtin", sha, 0);
	if (form)
		*form = f;
	else
		tidu_form_free(f);
	return 0;
}

/*
 * Stores the workbook of form `f` (already read and checked). A row there
 * already under its id and version is left as it is: the callers looked
 * first, in their transaction (import) or without one (pin, which may race
 * another process pinning the same bytes).
 */
static int store_form(tidu_store *s, const tidu_form *f, const void *data, size_t len,
		      const char *source, const char *sha)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"INSERT INTO form(id, version, title, questions, xlsx, sha256, source, at) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(id, version) DO NOTHING");

	if (st) {
		sqlite3_bind_text(st, 1, f->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, f->version, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, tidu_form_text_get(f, &f->title, NULL), -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)asked(f));
		sqlite3_bind_blob64(st, 5, data, len, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, sha, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 8, tidu_clock_now_ms());
	}
	return tidu_store_exec(s, st, _("storing a form"));
}

int tidu_forms_import(tidu_store *s, const char *name, const void *data, size_t len,
		      const char *source, tidu_form_info *out, int *was_new)
{
	const tidu_embedded_file *e;
	tidu_form_info bin;
	tidu_form *f = NULL;
	sqlite3_stmt *st;
	char sha[65], have[8] = "";
	int builtin = 0, rc, error;

	*was_new = 0;
	memset(&bin, 0, sizeof(bin));
	if (out)
		memset(out, 0, sizeof(*out));
	if ((error = tidu_form_read_mem(name, data, len, &f)) < 0)
		return error;
	if (strlen(f->id) >= sizeof(out->id) || strlen(f->version) >= sizeof(out->version)) {
		error = tidu_error_set(TIDU_EINVAL, _("%s: the form id or version is too long"), name);
		goto done;
	}
	sha256_hex(data, len, sha);
	/* The built-in of this id, read before the write lock is taken. */
	if ((e = builtin_file(f->id))) {
		if ((error = builtin_info(e, &bin, NULL)) < 0)
			goto done;
		builtin = !strcmp(bin.version, f->version);
	}
	if ((error = tidu_store_begin(s)) < 0)
		goto done;
	st = tidu_store_stmt(s, "SELECT sha256, source FROM form WHERE id=?1 AND version=?2");
	if (!st) {
		error = TIDU_ERROR;
		goto rollback;
	}
	sqlite3_bind_text(st, 1, f->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->version, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int same = !strcmp((const char *)sqlite3_column_text(st, 0), sha);

		snprintf(have, sizeof(have), "%s", sqlite3_column_text(st, 1));
		sqlite3_reset(st);
		if (!same) {
			error = tidu_error_set(TIDU_EEXISTS,
				_("form '%s' version %s is stored already with other contents: raise the version in its settings sheet"),
				f->id, f->version);
			goto rollback;
		}
		tidu_store_rollback(s);
		if (out)
			fill_info(out, f, have, sha, 1);
		goto done;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(s, rc, _("reading the forms"));
		goto rollback;
	}
	if (builtin && strcmp(bin.sha256, sha)) {
		error = tidu_error_set(TIDU_EEXISTS,
			_("form '%s' version %s is built in with other contents: raise the version in its settings sheet"),
			f->id, f->version);
		goto rollback;
	}
	/*
	 * A local import of a built-in's own bytes changes nothing: the store
	 * sees it already. The city's copy is kept: the city publishes it to
	 * every device, and a later tidu may no longer carry this version.
	 */
	if (builtin && strcmp(source, "city")) {
		tidu_store_rollback(s);
		if (out) {
			*out = bin;
			bin.title = NULL;
		}
		goto done;
	}
	if ((error = store_form(s, f, data, len, source, sha)) < 0 ||
	    (error = tidu_store_commit(s)) < 0)
		goto rollback;
	*was_new = 1;
	if (out)
		fill_info(out, f, source, sha, 1);
	goto done;
rollback:
	tidu_store_rollback(s);
done:
	free(bin.title);
	tidu_form_free(f);
	return error;
}

void tidu_forms_list_free(tidu_form_info *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i].title);
	free(v);
}

static int by_id_newest(const void *pa, const void *pb)
{
	const tidu_form_info *a = pa, *b = pb;
	int c = strcmp(a->id, b->id);

	return c ? c : -tidu_forms_version_cmp(a->version, b->version);
}

/* Appends a zeroed entry to *v (*n of them). */
static tidu_form_info *push(tidu_form_info **v, size_t *n)
{
	tidu_form_info *in;

	*v = tidu_reallocarray(*v, *n + 1, sizeof(**v));
	in = &(*v)[(*n)++];
	memset(in, 0, sizeof(*in));
	return in;
}

/*
 * The forms of id `id` (NULL: of every id): the stored versions, and each
 * built-in whose version is not stored (a stored one of the same id and
 * version is the one used: pinned, or what came first), by id then newest
 * first, the newest of each id marked.
 */
static int collect(tidu_store *s, const char *id, tidu_form_info **out, size_t *n)
{
	sqlite3_stmt *st = tidu_store_stmt(s, id ?
		"SELECT id, version, title, questions, source, sha256 FROM form WHERE id=?1" :
		"SELECT id, version, title, questions, source, sha256 FROM form");
	const tidu_embedded_file *one;
	tidu_form_info *v = NULL;
	size_t i, j, nstored;
	int rc, error = 0;

	*out = NULL;
	*n = 0;
	if (!st)
		return TIDU_ERROR;
	if (id)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_form_info *in = push(&v, n);

		snprintf(in->id, sizeof(in->id), "%s", sqlite3_column_text(st, 0));
		snprintf(in->version, sizeof(in->version), "%s", sqlite3_column_text(st, 1));
		in->title = tidu_strdup((const char *)sqlite3_column_text(st, 2));
		in->questions = (size_t)sqlite3_column_int64(st, 3);
		snprintf(in->source, sizeof(in->source), "%s", sqlite3_column_text(st, 4));
		snprintf(in->sha256, sizeof(in->sha256), "%s", sqlite3_column_text(st, 5));
		in->stored = 1;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(s, rc, _("reading the forms"));
		goto fail;
	}
	nstored = *n;
	one = id ? builtin_file(id) : NULL;
	for (i = 0; i < (id ? 1 : tidu_embedded_count); i++) {
		const tidu_embedded_file *e = id ? one : &tidu_embedded[i];
		tidu_form_info bin;

		if (!e || !is_builtin(e))
			continue;
		if ((error = builtin_info(e, &bin, NULL)) < 0)
			goto fail;
		for (j = 0; j < nstored; j++)
			if (!strcmp(v[j].id, bin.id) && !strcmp(v[j].version, bin.version))
				break;
		if (j < nstored)
			free(bin.title);
		else
			*push(&v, n) = bin;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), by_id_newest);
	for (i = 0; i < *n; i++)
		v[i].newest = i == 0 || strcmp(v[i - 1].id, v[i].id) != 0;
	*out = v;
	return 0;
fail:
	tidu_forms_list_free(v, *n);
	*n = 0;
	return error;
}

int tidu_forms_list(tidu_store *s, tidu_form_info **out, size_t *n)
{
	return collect(s, NULL, out, n);
}

int tidu_forms_get(tidu_store *s, const char *id, const char *version, tidu_form **form,
		   tidu_form_info *info)
{
	tidu_form_info *v = NULL, in;
	sqlite3_stmt *st;
	size_t n = 0, i;
	int rc, error;

	*form = NULL;
	if (info)
		memset(info, 0, sizeof(*info));
	if ((error = collect(s, id, &v, &n)) < 0)
		return error;
	for (i = 0; i < n; i++)
		if (version ? !strcmp(v[i].version, version) : v[i].newest)
			break;
	if (i == n) {
		tidu_forms_list_free(v, n);
		if (version)
			return tidu_error_set(TIDU_ENOTFOUND,
				_("no form '%s' version %s: see tidu form list"), id, version);
		return tidu_error_set(TIDU_ENOTFOUND, _("no form '%s': see tidu form list"), id);
	}
	in = v[i];
	v[i].title = NULL;
	tidu_forms_list_free(v, n);
	if (!in.stored) {
		/* collect found it as "forms/ID.xlsx". */
		error = builtin_read(builtin_file(in.id), form);
		goto done;
	}
	if (!(st = tidu_store_stmt(s, "SELECT xlsx FROM form WHERE id=?1 AND version=?2"))) {
		error = TIDU_ERROR;
		goto done;
	}
	sqlite3_bind_text(st, 1, in.id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in.version, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		error = tidu_store_sqlerr(s, rc, _("reading the forms"));
		goto done;
	}
	/* Checked when it was stored: failing now is a damaged store. */
	error = tidu_form_read_mem(id, sqlite3_column_blob(st, 0),
				   (size_t)sqlite3_column_bytes(st, 0), form);
	sqlite3_reset(st);
	if (error < 0)
		error = tidu_error_set(TIDU_ECORRUPT, _("the stored form '%s' cannot be read: %s"), id,
				       tidu_error_message());
done:
	if (error == 0 && info)
		*info = in;
	else
		free(in.title);
	return error;
}

/* Stores the built-in `in` (not stored: tidu_forms_get said so), read as `f`. */
static int pin(tidu_store *s, const tidu_form *f, tidu_form_info *in)
{
	const tidu_embedded_file *e = builtin_file(in->id);
	int error;

	if ((error = store_form(s, f, e->data, e->size, "builtin", in->sha256)) == 0)
		in->stored = 1;
	return error;
}

int tidu_forms_pin(tidu_store *s, const char *id, const char *version)
{
	tidu_form_info in;
	tidu_form *f = NULL;
	sqlite3_stmt *st;
	int error, rc;

	/*
	 * Asked once per saved response or draft: a version stored already is
	 * told by its key, without reading and checking its workbook again.
	 */
	if (version) {
		if (!(st = tidu_store_stmt(s, "SELECT 1 FROM form WHERE id=?1 AND version=?2")))
			return TIDU_ERROR;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_ROW)
			return 0;
		if (rc != SQLITE_DONE)
			return tidu_store_sqlerr(s, rc, _("reading the forms"));
	}
	memset(&in, 0, sizeof(in));
	/* One statement: in the caller's transaction if one is open, else its own. */
	if ((error = tidu_forms_get(s, id, version, &f, &in)) == 0 && !in.stored)
		error = pin(s, f, &in);
	free(in.title); /* NULL when tidu_forms_get failed */
	tidu_form_free(f);
	return error;
}

/* ---- publishing through the city's ref --------------------------------------- */

int tidu_forms_publish(tidu_store *city, const char *id, const char *version,
		       tidu_form_info *info)
{
	tidu_form_info in;
	tidu_form *f = NULL;
	sqlite3_stmt *st;
	int error;

	if (info)
		memset(info, 0, sizeof(*info));
	if (strcmp(tidu_store_role(city), "city"))
		return tidu_error_set(TIDU_EINVAL,
			_("only the city store publishes forms: this store's role is '%s'"),
			tidu_store_role(city));
	if ((error = tidu_store_begin(city)) < 0)
		return error;
	if ((error = tidu_forms_get(city, id, version, &f, &in)) < 0)
		goto rollback;
	/* A built-in is pinned first: the document is made of the table's workbooks. */
	if (!in.stored && (error = pin(city, f, &in)) < 0)
		goto free_in;
	st = tidu_store_stmt(city, "UPDATE form SET published=1 WHERE id=?1 AND version=?2");
	if (st) {
		sqlite3_bind_text(st, 1, in.id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, in.version, -1, SQLITE_STATIC);
	}
	if ((error = tidu_store_exec(city, st, _("storing a form"))) < 0 ||
	    (error = tidu_store_commit(city)) < 0)
		goto free_in;
	tidu_form_free(f);
	if (info)
		*info = in;
	else
		free(in.title);
	return 0;
free_in:
	free(in.title);
rollback:
	tidu_store_rollback(city);
	tidu_form_free(f);
	return error;
}

int tidu_forms_export(tidu_store *city, tidu_buf *doc, size_t *count)
{
	tidu_buf payload = TIDU_BUF_INIT;
	tidu_json_writer w;
	sqlite3_stmt *st;
	int rc, error;

	*count = 0;
	if (!(st = tidu_store_stmt(city, "SELECT id, version, sha256, xlsx FROM form "
				   "WHERE published=1 ORDER BY id, version")))
		return TIDU_ERROR;
	tidu_trust_city_payload_begin(&w, &payload, TIDU_FORMS_FORMAT, "forms");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t blen = (size_t)sqlite3_column_bytes(st, 3);
		size_t n = sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_ORIGINAL);
		char *b64 = tidu_malloc(n);

		sodium_bin2base64(b64, n, sqlite3_column_blob(st, 3), blen,
				  sodium_base64_VARIANT_ORIGINAL);
		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "id");
		tidu_json_write_string(&w, (const char *)sqlite3_column_text(st, 0));
		tidu_json_write_key(&w, "version");
		tidu_json_write_string(&w, (const char *)sqlite3_column_text(st, 1));
		tidu_json_write_key(&w, "sha256");
		tidu_json_write_string(&w, (const char *)sqlite3_column_text(st, 2));
		tidu_json_write_key(&w, "xlsx");
		tidu_json_write_string(&w, b64);
		tidu_json_end_object(&w);
		free(b64);
		(*count)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(city, rc, _("reading the forms"));
		goto done;
	}
	error = tidu_trust_city_payload_sign(city, &w, &payload, TIDU_FORMS_DOMAIN, *count, doc);
done:
	tidu_buf_free(&payload);
	return error;
}

/* One entry: stored, kept or refused (named); < 0 for the store. */
static int import_entry(tidu_store *s, const tidu_json *e, size_t i, tidu_city_import *rep)
{
	const char *id = tidu_json_as_string(tidu_json_get(e, "id"));
	const char *ver = tidu_json_as_string(tidu_json_get(e, "version"));
	const char *sha = tidu_json_as_string(tidu_json_get(e, "sha256"));
	const char *b64 = tidu_json_as_string(tidu_json_get(e, "xlsx"));
	unsigned char *bin = NULL;
	size_t blen = 0, cap;
	tidu_buf why = TIDU_BUF_INIT, name = TIDU_BUF_INIT;
	tidu_form_info in;
	char have[65];
	int was_new = 0, error = 0;

	if (!id || !ver || !sha || !b64) {
		tidu_buf_printf(&why, _("form %zu: expected an id, a version, a sha256 and the workbook"),
				i + 1);
		goto refuse;
	}
	cap = strlen(b64) / 4 * 3 + 3;
	bin = tidu_malloc(cap ? cap : 1);
	if (sodium_base642bin(bin, cap, b64, strlen(b64), NULL, &blen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		tidu_buf_printf(&why, _("form '%s' version %s: the workbook is not base64"), id, ver);
		goto refuse;
	}
	sha256_hex(bin, blen, have);
	if (strcmp(have, sha)) {
		tidu_buf_printf(&why, _("form '%s' version %s: the workbook does not match its sha256"),
				id, ver);
		goto refuse;
	}
	tidu_buf_printf(&name, "city:%s", id);
	error = tidu_forms_import(s, name.ptr, bin, blen, "city", &in, &was_new);
	if (error == 0) {
		if (strcmp(in.id, id) || strcmp(in.version, ver)) {
			/* Stored under what the workbook says; named for the record. */
			tidu_buf_printf(&why, _("form '%s' version %s: the workbook says '%s' version %s"),
					id, ver, in.id, in.version);
			free(in.title);
			goto refuse;
		}
		free(in.title);
		if (was_new)
			rep->taken++;
		else
			rep->kept++;
		goto done;
	}
	if (error == TIDU_EINVAL || error == TIDU_EEXISTS) {
		tidu_buf_puts(&why, tidu_error_message());
		tidu_error_clear();
		error = 0;
		goto refuse;
	}
	goto done;
refuse:
	tidu_city_import_refuse(rep, tidu_buf_cstr(&why));
done:
	free(bin);
	tidu_buf_free(&why);
	tidu_buf_free(&name);
	return error;
}

int tidu_forms_import_doc(tidu_store *s, const char *doc, size_t len, tidu_city_import *rep)
{
	tidu_json *tree = NULL;
	const tidu_json *forms;
	size_t i;
	int error;

	memset(rep, 0, sizeof(*rep));
	if ((error = tidu_trust_city_open(s, _("form document"), TIDU_FORMS_DOMAIN,
					  TIDU_FORMS_FORMAT, "forms", doc, len, &tree, &forms)) < 0)
		return error;
	/* Each form in a transaction of its own (tidu_forms_import): a form is whole or absent. */
	for (i = 0; i < tidu_json_count(forms) && !error; i++)
		error = import_entry(s, tidu_json_at(forms, i), i, rep);
	tidu_json_free(tree);
	return error;
}
