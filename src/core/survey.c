/*
 * Survey responses: drafts, finalising, listing, files (survey.h).
 * Owns `response`, `attachment`, `survey_draft`, `survey_draft_file`;
 * response and attachment rows are written through record.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdint.h>
#include <sys/stat.h>

#include <sodium.h>

#include "tidu/alloc.h"
#include "tidu/clock.h"
#include "tidu/dict.h"
#include "tidu/file.h"
#include "tidu/firm.h"
#include "tidu/i18n.h"
#include "tidu/parse.h"
#include "tidu/record.h"
#include "tidu/survey.h"
#include "tidu/uscc.h"
#include "tidu/view.h"

typedef struct {
	char *question; /* path */
	char *name;
	tidu_buf data;
} survey_file;

struct tidu_survey {
	tidu_store *s;
	tidu_form *form;
	tidu_answers *a;
	char id[TIDU_UUID_LEN + 1];
	char uscc[TIDU_USCC_LEN + 1];
	char *form_id, *version, *officer, *lang;
	char started[40];
	survey_file *files;
	size_t nfiles;
	int files_dirty; /* the draft's files differ from what is stored */
	int form_borrowed; /* `form` is the caller's (tidu_survey_import) */
};

/* "YYYY-MM-DDTHH:MM:SS+08:00" in local time, and the local date. */
static void local_now(char now[40], char today[11])
{
	time_t t = time(NULL);
	struct tm tm;
	char zone[8];
	size_t n;

	if (!localtime_r(&t, &tm)) {
		snprintf(now, 40, "1970-01-01T00:00:00+00:00");
		snprintf(today, 11, "1970-01-01");
		return;
	}
	strftime(today, 11, "%Y-%m-%d", &tm);
	n = strftime(now, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	if (strftime(zone, sizeof(zone), "%z", &tm) == 5)
		snprintf(now + n, 40 - n, "%.3s:%.2s", zone, zone + 3);
	else
		snprintf(now + n, 40 - n, "Z");
}

static char *col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return tidu_strdup(t ? (const char *)t : "");
}

/* ---- ids ---------------------------------------------------------------- */

/*
 * The full id of the draft or live response whose id starts with `prefix`
 * (any case, at least 4 characters): *draft 1 for a draft.
 */
static int resolve_id(tidu_store *s, const char *prefix, int want_draft,
		      char id[TIDU_UUID_LEN + 1], int *draft)
{
	static const char *const sql[2] = {
		"SELECT id FROM response WHERE _deleted=0 AND id >= ?1 AND id < ?2 LIMIT 2",
		"SELECT id FROM survey_draft WHERE id >= ?1 AND id < ?2 LIMIT 2",
	};
	char lo[TIDU_UUID_LEN + 1], hi[TIDU_UUID_LEN + 2];
	size_t len = strlen(prefix), i, found = 0;
	int k, rc;

	if (len < 4 || len > TIDU_UUID_LEN)
		return tidu_error_set(TIDU_EINVAL,
			_("'%s' is not a response id: give at least its first 4 characters"),
			prefix);
	for (i = 0; i < len; i++) {
		char c = (char)tolower((unsigned char)prefix[i]);

		if (!isxdigit((unsigned char)c) && c != '-')
			return tidu_error_set(TIDU_EINVAL,
				_("'%s' is not a response id: give at least its first 4 characters"),
				prefix);
		lo[i] = c;
	}
	lo[len] = '\0';
	/* Every id with the prefix lies in [prefix, prefix + 0x7f). */
	memcpy(hi, lo, len);
	hi[len] = 0x7f;
	hi[len + 1] = '\0';
	for (k = 0; k < 2; k++) {
		sqlite3_stmt *st;

		if (want_draft >= 0 && k != want_draft)
			continue;
		if (!(st = tidu_store_stmt(s, sql[k])))
			return TIDU_ERROR;
		sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (found++ == 0) {
				snprintf(id, TIDU_UUID_LEN + 1, "%s", sqlite3_column_text(st, 0));
				*draft = k;
			}
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return tidu_store_sqlerr(s, rc, _("reading responses"));
	}
	if (found == 0)
		return tidu_error_set(TIDU_ENOTFOUND,
			want_draft == 1 ? _("no draft '%s': see tidu survey list --drafts")
					: _("no response '%s': see tidu survey list"),
			prefix);
	if (found > 1)
		return tidu_error_set(TIDU_EINVAL,
			_("'%s' names more than one response: give more of its id"), prefix);
	return 0;
}

/* ---- filling ------------------------------------------------------------ */

static int open_form(tidu_survey *sv, const char *form, const char *version)
{
	tidu_form_info info;
	int error;

	memset(&info, 0, sizeof(info));
	if ((error = tidu_forms_get(sv->s, form, version, &sv->form, &info)) < 0)
		return error;
	sv->form_id = tidu_strdup(info.id);
	sv->version = tidu_strdup(info.version);
	free(info.title);
	return 0;
}

static void make_answers(tidu_survey *sv)
{
	char now[40], today[11];
	tidu_answers_env env;

	local_now(now, today);
	if (!sv->started[0])
		snprintf(sv->started, sizeof(sv->started), "%s", now);
	memset(&env, 0, sizeof(env));
	env.today = today;
	env.now = sv->started;
	env.uuid = sv->id;
	env.device_id = tidu_store_device(sv->s);
	env.username = sv->officer;
	env.lang = sv->lang;
	sv->a = tidu_answers_new(sv->form, &env);
}

static tidu_survey *survey_new(tidu_store *s, const char *lang)
{
	tidu_survey *sv = tidu_calloc(1, sizeof(*sv));

	sv->s = s;
	sv->lang = lang ? tidu_strdup(lang) : NULL;
	return sv;
}

/* The checks and set-up of a new response about `uscc`, its form open. */
static int begin_common(tidu_survey *sv, const char *uscc)
{
	tidu_store *s = sv->s;
	int error, exists;

	if ((error = tidu_uscc_validate(uscc, sv->uscc)) < 0)
		return error;
	if ((exists = tidu_record_exists(s, TIDU_ENTITY_FIRM, sv->uscc)) != TIDU_RECORD_LIVE)
		return exists < 0 ? exists : tidu_error_set(TIDU_ENOTFOUND,
			_("firm '%s' is not in the store: add it with 'tidu firm add'"),
			sv->uscc);
	if ((error = tidu_firm_check_writable(s, sv->uscc)) < 0 ||
	    (error = tidu_uuid_v7(sv->id)) < 0)
		return error;
	sv->officer = tidu_strdup(tidu_store_officer(s) ? tidu_store_officer(s) : "");
	make_answers(sv);
	return 0;
}

int tidu_survey_begin(tidu_store *s, const char *form, const char *version,
		      const char *uscc, const char *lang, tidu_survey **out)
{
	tidu_survey *sv = survey_new(s, lang);
	int error;

	*out = NULL;
	if ((error = open_form(sv, form, version)) < 0 || (error = begin_common(sv, uscc)) < 0) {
		tidu_survey_free(sv);
		return error;
	}
	*out = sv;
	return 0;
}

static int load_draft_files(tidu_survey *sv)
{
	sqlite3_stmt *st = tidu_store_stmt(sv->s,
		"SELECT question, name, data FROM survey_draft_file WHERE draft=?1 "
		"ORDER BY question");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, sv->id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		survey_file *f;

		sv->files = tidu_reallocarray(sv->files, sv->nfiles + 1, sizeof(*sv->files));
		f = &sv->files[sv->nfiles++];
		f->question = col_dup(st, 0);
		f->name = col_dup(st, 1);
		memset(&f->data, 0, sizeof(f->data));
		tidu_buf_put(&f->data, sqlite3_column_blob(st, 2),
			     (size_t)sqlite3_column_bytes(st, 2));
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(sv->s, rc, _("reading a draft"));
}

int tidu_survey_resume(tidu_store *s, const char *id, const char *lang, tidu_survey **out)
{
	tidu_survey *sv = survey_new(s, lang);
	sqlite3_stmt *st;
	char *form = NULL, *version = NULL, *answers = NULL;
	tidu_json *doc = NULL;
	int error, draft, rc;

	*out = NULL;
	if ((error = resolve_id(s, id, 1, sv->id, &draft)) < 0)
		goto fail;
	if (!(st = tidu_store_stmt(s, "SELECT uscc, form, form_version, officer, started, "
				   "answers FROM survey_draft WHERE id=?1"))) {
		error = TIDU_ERROR;
		goto fail;
	}
	sqlite3_bind_text(st, 1, sv->id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(sv->uscc, sizeof(sv->uscc), "%s", sqlite3_column_text(st, 0));
		form = col_dup(st, 1);
		version = col_dup(st, 2);
		sv->officer = col_dup(st, 3);
		snprintf(sv->started, sizeof(sv->started), "%s", sqlite3_column_text(st, 4));
		answers = col_dup(st, 5);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		error = tidu_store_sqlerr(s, rc, _("reading a draft"));
		goto fail;
	}
	if ((error = tidu_firm_check_writable(s, sv->uscc)) < 0 ||
	    (error = open_form(sv, form, version)) < 0)
		goto fail;
	make_answers(sv);
	if ((error = tidu_json_parse(answers, strlen(answers), &doc)) < 0 ||
	    (error = tidu_answers_from_json(sv->a, doc)) < 0 ||
	    (error = load_draft_files(sv)) < 0) {
		tidu_error_prefix(_("draft '%s': "), sv->id);
		goto fail;
	}
	*out = sv;
	error = 0;
	goto done;
fail:
	tidu_survey_free(sv);
done:
	tidu_json_free(doc);
	free(form);
	free(version);
	free(answers);
	return error;
}

void tidu_survey_free(tidu_survey *sv)
{
	size_t i;

	if (!sv)
		return;
	tidu_answers_free(sv->a);
	if (!sv->form_borrowed)
		tidu_form_free(sv->form);
	for (i = 0; i < sv->nfiles; i++) {
		free(sv->files[i].question);
		free(sv->files[i].name);
		tidu_buf_free(&sv->files[i].data);
	}
	free(sv->files);
	free(sv->form_id);
	free(sv->version);
	free(sv->officer);
	free(sv->lang);
	free(sv);
}

tidu_answers *tidu_survey_answers(tidu_survey *sv)
{
	return sv->a;
}

const tidu_form *tidu_survey_form(const tidu_survey *sv)
{
	return sv->form;
}

const char *tidu_survey_id(const tidu_survey *sv)
{
	return sv->id;
}

const char *tidu_survey_uscc(const tidu_survey *sv)
{
	return sv->uscc;
}

static survey_file *file_find(tidu_survey *sv, const char *question)
{
	size_t i;

	for (i = 0; i < sv->nfiles; i++)
		if (!strcmp(sv->files[i].question, question))
			return &sv->files[i];
	return NULL;
}

static void file_drop(tidu_survey *sv, const char *question)
{
	survey_file *f = file_find(sv, question);

	if (!f)
		return;
	free(f->question);
	free(f->name);
	tidu_buf_free(&f->data);
	*f = sv->files[--sv->nfiles];
	sv->files_dirty = 1;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

/* Reads the file at `path` (relative to `dir`) as the answer of `q` at `at`. */
static int set_file(tidu_survey *sv, size_t q, const tidu_answers_at *at,
		    const char *path, const char *dir)
{
	tidu_buf full = TIDU_BUF_INIT, data = TIDU_BUF_INIT, question = TIDU_BUF_INIT;
	const char *name;
	survey_file *f;
	struct stat sb;
	int error;

	if (dir && path[0] != '/')
		tidu_buf_printf(&full, "%s/%s", dir, path);
	else
		tidu_buf_puts(&full, path);
	tidu_answers_path(sv->a, q, at, &question);
	/* The cap said in MiB, as the officer sizes a photo; other refusals are the reader's. */
	if (stat(full.ptr, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (uintmax_t)sb.st_size > TIDU_SURVEY_FILE_MAX) {
		error = tidu_error_set(TIDU_EINVAL,
			_("question '%s': '%s' is %.1f MiB; a file must be at most %zu MiB"),
			question.ptr, full.ptr, (double)sb.st_size / (1 << 20),
			TIDU_SURVEY_FILE_MAX >> 20);
		goto done;
	}
	if ((error = tidu_file_read(full.ptr, TIDU_SURVEY_FILE_MAX, &data)) < 0) {
		tidu_error_prefix(_("question '%s': "), question.ptr);
		goto done;
	}
	name = base_name(path);
	if ((error = tidu_answers_set(sv->a, q, at, name)) < 0)
		goto done;
	file_drop(sv, question.ptr);
	sv->files = tidu_reallocarray(sv->files, sv->nfiles + 1, sizeof(*sv->files));
	f = &sv->files[sv->nfiles++];
	f->question = tidu_buf_detach(&question);
	f->name = tidu_strdup(name);
	f->data = data;
	memset(&data, 0, sizeof(data));
	sv->files_dirty = 1;
done:
	tidu_buf_free(&full);
	tidu_buf_free(&data);
	tidu_buf_free(&question);
	return error;
}

int tidu_survey_set(tidu_survey *sv, size_t q, const tidu_answers_at *at, const char *text)
{
	tidu_buf question = TIDU_BUF_INIT;
	int error;

	if (q < sv->form->nq && sv->form->q[q].type == TIDU_Q_FILE && text && *text)
		return set_file(sv, q, at, text, NULL);
	if ((error = tidu_answers_set(sv->a, q, at, text)) < 0)
		return error;
	if (q < sv->form->nq && sv->form->q[q].type == TIDU_Q_FILE) {
		tidu_answers_path(sv->a, q, at, &question);
		file_drop(sv, question.ptr);
		tidu_buf_free(&question);
	}
	return 0;
}

int tidu_survey_load_json(tidu_survey *sv, const tidu_json *obj, const char *dir)
{
	tidu_answers_pos pos;
	size_t q;
	int rc, error;

	if ((error = tidu_answers_from_json(sv->a, obj)) < 0)
		return error;
	for (q = 0; q < sv->form->nq && sv->form->q[q].type != TIDU_Q_FILE; q++)
		;
	if (q == sv->form->nq)
		return 0; /* no file question: no walk through the form */
	for (rc = tidu_answers_next(sv->a, NULL, &pos); rc > 0;
	     rc = tidu_answers_next(sv->a, &pos, &pos)) {
		const char *path;
		char *copy;

		if (sv->form->q[pos.q].type != TIDU_Q_FILE ||
		    !(path = tidu_answers_get(sv->a, pos.q, &pos.at)))
			continue;
		copy = tidu_strdup(path);
		error = set_file(sv, pos.q, &pos.at, copy, dir);
		free(copy);
		if (error < 0)
			return error;
	}
	return rc < 0 ? rc : 0;
}

static int answers_text(tidu_survey *sv, tidu_buf *out)
{
	tidu_json_writer w;

	tidu_json_writer_init(&w, out, 0);
	if (tidu_answers_to_json(sv->a, &w) < 0)
		return TIDU_ERROR;
	return tidu_json_writer_finish(&w);
}

static int drop_draft(tidu_store *s, const char *id)
{
	sqlite3_stmt *st;
	int error;

	if (!(st = tidu_store_stmt(s, "DELETE FROM survey_draft_file WHERE draft=?1")))
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((error = tidu_store_exec(s, st, _("removing a draft"))) < 0)
		return error;
	if (!(st = tidu_store_stmt(s, "DELETE FROM survey_draft WHERE id=?1")))
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return tidu_store_exec(s, st, _("removing a draft"));
}

static int write_draft(tidu_survey *sv)
{
	tidu_buf json = TIDU_BUF_INIT;
	sqlite3_stmt *st;
	size_t i;
	int error;

	if ((error = answers_text(sv, &json)) < 0 ||
	    (error = tidu_forms_pin(sv->s, sv->form_id, sv->version)) < 0)
		goto done;
	if (!(st = tidu_store_stmt(sv->s,
		"INSERT INTO survey_draft(id, uscc, form, form_version, officer, started, "
		"updated, answers) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
		"ON CONFLICT(id) DO UPDATE SET updated=excluded.updated, "
		"answers=excluded.answers"))) {
		error = TIDU_ERROR;
		goto done;
	}
	sqlite3_bind_text(st, 1, sv->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sv->uscc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sv->form_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sv->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, sv->officer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, sv->started, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, tidu_clock_now_ms());
	sqlite3_bind_text(st, 8, json.ptr, (int)json.len, SQLITE_STATIC);
	if ((error = tidu_store_exec(sv->s, st, _("saving a draft"))) < 0 || !sv->files_dirty)
		goto done;
	/* The files change seldom: rewritten only when one did. */
	if (!(st = tidu_store_stmt(sv->s, "DELETE FROM survey_draft_file WHERE draft=?1"))) {
		error = TIDU_ERROR;
		goto done;
	}
	sqlite3_bind_text(st, 1, sv->id, -1, SQLITE_STATIC);
	if ((error = tidu_store_exec(sv->s, st, _("saving a draft"))) < 0)
		goto done;
	for (i = 0; i < sv->nfiles; i++) {
		if (!(st = tidu_store_stmt(sv->s,
			"INSERT INTO survey_draft_file(draft, question, name, data) "
			"VALUES(?1, ?2, ?3, ?4)"))) {
			error = TIDU_ERROR;
			goto done;
		}
		sqlite3_bind_text(st, 1, sv->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, sv->files[i].question, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, sv->files[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, sv->files[i].data.ptr ? sv->files[i].data.ptr : "",
				  (int)sv->files[i].data.len, SQLITE_STATIC);
		if ((error = tidu_store_exec(sv->s, st, _("saving a draft"))) < 0)
			goto done;
	}
done:
	tidu_buf_free(&json);
	return error;
}

int tidu_survey_save(tidu_survey *sv)
{
	int error;

	if ((error = tidu_store_begin(sv->s)) < 0)
		return error;
	if ((error = write_draft(sv)) < 0 || (error = tidu_store_commit(sv->s)) < 0) {
		tidu_store_rollback(sv->s);
		return error;
	}
	sv->files_dirty = 0;
	return 0;
}

/* The parts of one file, as attachment records `fid`/0.. of response `sv`. */
static int write_file(tidu_survey *sv, const survey_file *f)
{
	char fid[TIDU_UUID_LEN + 1], key[TIDU_UUID_LEN + 24], num[32], hex[65];
	unsigned char hash[crypto_hash_sha256_BYTES];
	size_t parts = f->data.len ? (f->data.len + TIDU_SURVEY_PART - 1) / TIDU_SURVEY_PART : 1;
	size_t i, at, len;
	char *b64 = NULL;
	int error;

	if ((error = tidu_uuid_v7(fid)) < 0)
		return error;
	crypto_hash_sha256(hash, (const unsigned char *)(f->data.ptr ? f->data.ptr : ""),
			   f->data.len);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	b64 = tidu_malloc(sodium_base64_ENCODED_LEN(TIDU_SURVEY_PART,
						    sodium_base64_VARIANT_ORIGINAL));
	for (i = 0, at = 0; i < parts && error == 0; i++, at += len) {
		tidu_edit *e;

		len = f->data.len - at < TIDU_SURVEY_PART ? f->data.len - at : TIDU_SURVEY_PART;
		snprintf(key, sizeof(key), "%s/%zu", fid, i);
		e = tidu_record_edit_new(TIDU_ENTITY_ATTACHMENT, key);
		tidu_record_edit_keep_all(e); /* a new id */
		sodium_bin2base64(b64, sodium_base64_ENCODED_LEN(TIDU_SURVEY_PART,
								 sodium_base64_VARIANT_ORIGINAL),
				  (const unsigned char *)(f->data.ptr ? f->data.ptr + at : ""),
				  len, sodium_base64_VARIANT_ORIGINAL);
		error = tidu_record_edit_set(e, "uscc", sv->uscc);
		if (error == 0 && i == 0) {
			snprintf(num, sizeof(num), "%zu", f->data.len);
			if ((error = tidu_record_edit_set(e, "response", sv->id)) == 0 &&
			    (error = tidu_record_edit_set(e, "question", f->question)) == 0 &&
			    (error = tidu_record_edit_set(e, "name", f->name)) == 0 &&
			    (error = tidu_record_edit_set(e, "size", num)) == 0 &&
			    (error = tidu_record_edit_set(e, "sha256", hex)) == 0) {
				snprintf(num, sizeof(num), "%zu", parts);
				error = tidu_record_edit_set(e, "parts", num);
			}
		}
		if (error == 0 && len)
			error = tidu_record_edit_set(e, "data", b64);
		if (error == 0)
			error = tidu_record_edit_apply(sv->s, e);
		tidu_record_edit_free(e);
	}
	free(b64);
	return error;
}

static int write_response(tidu_survey *sv, const char *finished)
{
	tidu_buf json = TIDU_BUF_INIT;
	tidu_edit *e = tidu_record_edit_new(TIDU_ENTITY_RESPONSE, sv->id);
	tidu_kv *kv = NULL;
	size_t n = 0, i;
	int error;

	tidu_record_edit_keep_all(e); /* a new id: no stored value to compare */

	if ((error = answers_text(sv, &json)) < 0 ||
	    (error = tidu_record_edit_set(e, "uscc", sv->uscc)) < 0 ||
	    (error = tidu_record_edit_set(e, "form", sv->form_id)) < 0 ||
	    (error = tidu_record_edit_set(e, "form_version", sv->version)) < 0 ||
	    (sv->officer[0] && (error = tidu_record_edit_set(e, "officer", sv->officer)) < 0) ||
	    (error = tidu_record_edit_set(e, "started", sv->started)) < 0 ||
	    (error = tidu_record_edit_set(e, "finished", finished)) < 0 ||
	    (error = tidu_record_edit_set(e, "answers", json.ptr)) < 0 ||
	    (error = tidu_record_edit_apply(sv->s, e)) < 0)
		goto done;
	for (i = 0; i < sv->nfiles; i++)
		if ((error = write_file(sv, &sv->files[i])) < 0)
			goto done;
	if ((error = tidu_answers_save_to(sv->a, &kv, &n)) < 0)
		goto done;
	if ((error = tidu_firm_set_in(sv->s, sv->uscc, kv, n)) < 0)
		tidu_error_prefix(_("saving the answers to the firm: "));
done:
	free(kv);
	tidu_record_edit_free(e);
	tidu_buf_free(&json);
	return error;
}

/* Drops the files of answers that finalising cleared (not relevant). */
static void prune_files(tidu_survey *sv)
{
	size_t i = 0;

	while (i < sv->nfiles) {
		size_t q;
		tidu_answers_at at;
		const char *v;

		if (tidu_answers_parse_path(sv->a, sv->files[i].question, &q, &at) < 0 ||
		    !(v = tidu_answers_get(sv->a, q, &at)) || !tidu_answers_relevant(sv->a, q, &at)) {
			tidu_error_clear();
			file_drop(sv, sv->files[i].question);
			continue;
		}
		i++;
	}
}

/* Finalising inside the caller's transaction. */
static int finalize_in(tidu_survey *sv, tidu_answers_pos *first_bad)
{
	char now[40], today[11];
	int error;

	local_now(now, today);
	if ((error = tidu_answers_finalize(sv->a, now, first_bad)) < 0)
		return error;
	prune_files(sv);
	/* The form's version stays readable with the response, built in or not. */
	if ((error = tidu_firm_check_writable(sv->s, sv->uscc)) < 0 ||
	    (error = tidu_forms_pin(sv->s, sv->form_id, sv->version)) < 0 ||
	    (error = write_response(sv, now)) < 0)
		return error;
	return drop_draft(sv->s, sv->id);
}

int tidu_survey_finalize(tidu_survey *sv, tidu_answers_pos *first_bad)
{
	int error;

	if ((error = tidu_store_begin(sv->s)) < 0)
		return error;
	if ((error = finalize_in(sv, first_bad)) < 0 || (error = tidu_store_commit(sv->s)) < 0) {
		tidu_store_rollback(sv->s);
		return error;
	}
	return 0;
}

/* One line of an import: {"uscc": U, "answers": {...}}, finalised. */
static int import_one(tidu_store *s, tidu_form *form, const tidu_form_info *info,
		      const tidu_json *line, const char *dir, const char *lang)
{
	const tidu_json *answers = tidu_json_get(line, "answers");
	const char *uscc = tidu_json_as_string(tidu_json_get(line, "uscc"));
	tidu_survey *sv;
	int error;

	if (tidu_json_typeof(line) != TIDU_JSON_OBJECT || !uscc || !answers ||
	    tidu_json_typeof(answers) != TIDU_JSON_OBJECT)
		return tidu_error_set(TIDU_EINVAL, "%s",
			_("each line must be one JSON object {\"uscc\": \"...\", \"answers\": {...}}"));
	sv = survey_new(s, lang);
	sv->form = form;
	sv->form_borrowed = 1;
	sv->form_id = tidu_strdup(info->id);
	sv->version = tidu_strdup(info->version);
	if ((error = begin_common(sv, uscc)) == 0) {
		tidu_answers_defer_checks(sv->a, 1); /* finalize_in checks each value */
		if ((error = tidu_survey_load_json(sv, answers, dir)) == 0)
			error = finalize_in(sv, NULL);
	}
	tidu_survey_free(sv);
	return error;
}

int tidu_survey_import(tidu_store *s, const char *form_id, const char *version,
		       const char *data, size_t len, const char *dir, const char *lang,
		       size_t *count)
{
	tidu_form *form = NULL;
	tidu_form_info info;
	size_t at = 0, lineno = 0;
	int error;

	*count = 0;
	memset(&info, 0, sizeof(info));
	if ((error = tidu_forms_get(s, form_id, version, &form, &info)) < 0)
		return error;
	if ((error = tidu_store_begin(s)) < 0)
		goto done;
	while (at < len) {
		const char *nl = memchr(data + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - data) : len, i;
		tidu_json *doc = NULL;

		lineno++;
		for (i = at; i < end && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r'); i++)
			;
		if (i < end) {
			if ((error = tidu_json_parse(data + at, end - at, &doc)) == 0)
				error = import_one(s, form, &info, doc, dir, lang);
			tidu_json_free(doc);
			if (error < 0) {
				tidu_error_prefix(_("line %zu: "), lineno);
				tidu_store_rollback(s);
				*count = 0;
				goto done;
			}
			(*count)++;
		}
		at = end + 1;
	}
	if ((error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		*count = 0;
	}
done:
	free(info.title);
	tidu_form_free(form);
	return error;
}

/* ---- reading ------------------------------------------------------------ */

void tidu_survey_info_clear(tidu_survey_info *i)
{
	free(i->firm_name);
	free(i->form);
	free(i->version);
	free(i->officer);
	free(i->started);
	free(i->finished);
	memset(i, 0, sizeof(*i));
}

void tidu_survey_list_free(tidu_survey_info *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		tidu_survey_info_clear(&v[i]);
	free(v);
}

/*
 * Rows of (id, uscc, firm name, form, version, officer, started, finished,
 * updated, answered, files, draft): responses and drafts in one shape.
 */
#define INFO_RESPONSES \
	"SELECT r.id, r.uscc, f.name, r.form, r.form_version, r.officer, r.started, " \
	"r.finished, 0, (SELECT count(*) FROM json_each(r.answers)), " \
	"(SELECT count(*) FROM attachment a WHERE a.response=r.id AND a.part=0 " \
	"AND a._deleted=0), 0 FROM response r LEFT JOIN firm f ON f.uscc=r.uscc " \
	"WHERE r._deleted=0"
#define INFO_DRAFTS \
	"SELECT d.id, d.uscc, f.name, d.form, d.form_version, d.officer, d.started, " \
	"'', d.updated, (SELECT count(*) FROM json_each(d.answers)), " \
	"(SELECT count(*) FROM survey_draft_file x WHERE x.draft=d.id), 1 " \
	"FROM survey_draft d LEFT JOIN firm f ON f.uscc=d.uscc WHERE 1"

static void info_from(sqlite3_stmt *st, tidu_survey_info *i)
{
	memset(i, 0, sizeof(*i));
	snprintf(i->id, sizeof(i->id), "%s", sqlite3_column_text(st, 0));
	snprintf(i->uscc, sizeof(i->uscc), "%s",
		 sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
	i->firm_name = col_dup(st, 2);
	i->form = col_dup(st, 3);
	i->version = col_dup(st, 4);
	i->officer = col_dup(st, 5);
	i->started = col_dup(st, 6);
	i->finished = col_dup(st, 7);
	i->updated = sqlite3_column_int64(st, 8);
	i->answered = (size_t)sqlite3_column_int64(st, 9);
	i->files = (size_t)sqlite3_column_int64(st, 10);
	i->draft = sqlite3_column_int(st, 11);
}

#define LIST_RESPONSES INFO_RESPONSES " AND (?1 IS NULL OR r.uscc=?1) AND (?2 IS NULL OR r.form=?2)"
#define LIST_DRAFTS INFO_DRAFTS " AND (?1 IS NULL OR d.uscc=?1) AND (?2 IS NULL OR d.form=?2)"

int tidu_survey_list(tidu_store *s, const tidu_survey_filter *f, tidu_survey_info **out,
		     size_t *n)
{
	/* Newest first: UUIDv7 ids sort by time. By f->drafts: 0, 1, 2. */
	static const char *const sql[3] = {
		LIST_RESPONSES " ORDER BY 1 DESC",
		LIST_DRAFTS " ORDER BY 1 DESC",
		LIST_RESPONSES " UNION ALL " LIST_DRAFTS " ORDER BY 1 DESC",
	};
	char uscc[TIDU_USCC_LEN + 1];
	tidu_survey_info *v = NULL;
	size_t cnt = 0, cap = 0;
	sqlite3_stmt *st;
	int rc, error, want = f && f->drafts >= 0 && f->drafts <= 2 ? f->drafts : 0;

	*out = NULL;
	*n = 0;
	if (f && f->uscc && (error = tidu_uscc_validate(f->uscc, uscc)) < 0)
		return error;
	if (!(st = tidu_store_stmt(s, sql[want])))
		return TIDU_ERROR;
	if (f && f->uscc)
		sqlite3_bind_text(st, 1, uscc, -1, SQLITE_TRANSIENT);
	if (f && f->form)
		sqlite3_bind_text(st, 2, f->form, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			v = tidu_reallocarray(v, cap, sizeof(*v));
		}
		info_from(st, &v[cnt++]);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		tidu_survey_list_free(v, cnt);
		return tidu_store_sqlerr(s, rc, _("reading responses"));
	}
	*out = v;
	*n = cnt;
	return 0;
}

int tidu_survey_get(tidu_store *s, const char *id_in, tidu_survey_info *info, char **answers)
{
	static const char *const sql[2] = {
		"SELECT answers FROM response WHERE id=?1",
		"SELECT answers FROM survey_draft WHERE id=?1",
	};
	static const char *const one[2] = {
		INFO_RESPONSES " AND r.id=?1",
		INFO_DRAFTS " AND d.id=?1",
	};
	char id[TIDU_UUID_LEN + 1];
	sqlite3_stmt *st;
	int error, draft, rc;

	memset(info, 0, sizeof(*info));
	if (answers)
		*answers = NULL;
	if ((error = resolve_id(s, id_in, -1, id, &draft)) < 0)
		return error;
	if (!(st = tidu_store_stmt(s, one[draft])))
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		info_from(st, info);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return tidu_store_sqlerr(s, rc, _("reading responses"));
	if (!answers)
		return 0;
	if (!(st = tidu_store_stmt(s, sql[draft]))) {
		tidu_survey_info_clear(info);
		return TIDU_ERROR;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*answers = col_dup(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		tidu_survey_info_clear(info);
		return tidu_store_sqlerr(s, rc, _("reading responses"));
	}
	return 0;
}

/* The keys "id/part" of every live attachment part of response `id`, into *keys. */
static int part_keys(tidu_store *s, const char *id, char ***keys, size_t *n)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT a.id, a.part FROM attachment a WHERE a._deleted=0 AND a.id IN "
		"(SELECT id FROM attachment WHERE response=?1 AND part=0) ORDER BY a.id, a.part");
	int rc;

	*keys = NULL;
	*n = 0;
	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_buf k = TIDU_BUF_INIT;

		tidu_buf_printf(&k, "%s/%lld", sqlite3_column_text(st, 0),
				(long long)sqlite3_column_int64(st, 1));
		*keys = tidu_reallocarray(*keys, *n + 1, sizeof(**keys));
		(*keys)[(*n)++] = tidu_buf_detach(&k);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : tidu_store_sqlerr(s, rc, _("reading responses"));
}

static void keys_free(char **keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

int tidu_survey_delete(tidu_store *s, const char *id_in, int *was_draft)
{
	char id[TIDU_UUID_LEN + 1], uscc[32] = "";
	char **keys = NULL;
	size_t n = 0, i;
	int error, draft;
	tidu_survey_info info;

	if ((error = resolve_id(s, id_in, -1, id, &draft)) < 0)
		return error;
	if (was_draft)
		*was_draft = draft;
	if ((error = tidu_survey_get(s, id, &info, NULL)) < 0)
		return error;
	snprintf(uscc, sizeof(uscc), "%s", info.uscc);
	tidu_survey_info_clear(&info);
	if ((error = tidu_store_begin(s)) < 0)
		return error;
	if (draft) {
		error = drop_draft(s, id);
		goto done;
	}
	if ((error = tidu_firm_check_writable(s, uscc)) < 0 ||
	    (error = part_keys(s, id, &keys, &n)) < 0)
		goto done;
	for (i = 0; i < n && error == 0; i++) {
		tidu_edit *e = tidu_record_edit_new(TIDU_ENTITY_ATTACHMENT, keys[i]);

		if ((error = tidu_record_edit_set(e, "_deleted", "1")) == 0)
			error = tidu_record_edit_apply(s, e);
		tidu_record_edit_free(e);
	}
	if (error == 0) {
		tidu_edit *e = tidu_record_edit_new(TIDU_ENTITY_RESPONSE, id);

		if ((error = tidu_record_edit_set(e, "_deleted", "1")) == 0)
			error = tidu_record_edit_apply(s, e);
		tidu_record_edit_free(e);
	}
done:
	if (error == 0)
		error = tidu_store_commit(s);
	if (error < 0)
		tidu_store_rollback(s);
	keys_free(keys, n);
	return error;
}

void tidu_survey_files_free(tidu_survey_file *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].question);
		free(v[i].name);
	}
	free(v);
}

int tidu_survey_files(tidu_store *s, const char *id, tidu_survey_file **out, size_t *n)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT a.question, a.name, a.size, a.sha256, a.parts, "
		"(SELECT count(*) FROM attachment b WHERE b.id=a.id AND b._deleted=0) "
		"FROM attachment a WHERE a.response=?1 AND a.part=0 AND a._deleted=0 "
		"ORDER BY a.question");
	tidu_survey_file *v = NULL;
	size_t cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tidu_survey_file *f;

		v = tidu_reallocarray(v, cnt + 1, sizeof(*v));
		f = &v[cnt++];
		f->question = col_dup(st, 0);
		f->name = col_dup(st, 1);
		f->size = sqlite3_column_int64(st, 2);
		snprintf(f->sha256, sizeof(f->sha256), "%s",
			 sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "");
		f->parts = (size_t)sqlite3_column_int64(st, 4);
		f->have = (size_t)sqlite3_column_int64(st, 5);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		tidu_survey_files_free(v, cnt);
		return tidu_store_sqlerr(s, rc, _("reading responses"));
	}
	*out = v;
	*n = cnt;
	return 0;
}

int tidu_survey_file_read(tidu_store *s, const char *id_in, const char *question,
			  tidu_buf *out, tidu_survey_file *info)
{
	char id[TIDU_UUID_LEN + 1], hex[65];
	unsigned char hash[crypto_hash_sha256_BYTES];
	tidu_survey_file *files = NULL;
	const tidu_survey_file *f = NULL;
	sqlite3_stmt *st;
	size_t n = 0, i, start = out->len, parts = 0;
	int error, draft, rc;

	if ((error = resolve_id(s, id_in, 0, id, &draft)) < 0 ||
	    (error = tidu_survey_files(s, id, &files, &n)) < 0)
		return error;
	for (i = 0; i < n; i++)
		if (!strcmp(files[i].question, question))
			f = &files[i];
	if (!f) {
		error = tidu_error_set(TIDU_ENOTFOUND,
			_("response '%s' has no file for question '%s'"), id, question);
		goto done;
	}
	if (f->have < f->parts) {
		error = tidu_error_set(TIDU_ENOTFOUND,
			_("file '%s' of response '%s': %zu of its %zu parts are here; sync again"),
			f->name, id, f->have, f->parts);
		goto done;
	}
	if (!(st = tidu_store_stmt(s,
		"SELECT b.data FROM attachment b WHERE b._deleted=0 AND b.id=(SELECT id FROM "
		"attachment WHERE response=?1 AND question=?2 AND part=0 AND _deleted=0) "
		"ORDER BY b.part"))) {
		error = TIDU_ERROR;
		goto done;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, question, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *b64 = (const char *)sqlite3_column_text(st, 0);
		size_t blen = b64 ? strlen(b64) : 0, got = 0;

		parts++;
		tidu_buf_grow(out, blen);
		if (blen && sodium_base642bin((unsigned char *)out->ptr + out->len,
					      out->cap - out->len, b64, blen, NULL, &got, NULL,
					      sodium_base64_VARIANT_ORIGINAL) != 0) {
			rc = SQLITE_ROW;
			break;
		}
		out->len += got;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW) {
		error = tidu_error_set(TIDU_ECORRUPT, _("file '%s' of response '%s' is damaged"),
				       f->name, id);
		goto done;
	}
	if (rc != SQLITE_DONE) {
		error = tidu_store_sqlerr(s, rc, _("reading responses"));
		goto done;
	}
	crypto_hash_sha256(hash, (const unsigned char *)out->ptr + start, out->len - start);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	if (parts != f->parts || (int64_t)(out->len - start) != f->size || strcmp(hex, f->sha256)) {
		error = tidu_error_set(TIDU_ECORRUPT,
			_("file '%s' of response '%s' is damaged: its bytes do not match its SHA-256"),
			f->name, id);
		goto done;
	}
	if (info) {
		*info = *f;
		info->question = tidu_strdup(f->question);
		info->name = tidu_strdup(f->name);
	}
done:
	if (error < 0)
		tidu_buf_truncate(out, start);
	tidu_survey_files_free(files, n);
	return error;
}

int tidu_survey_each_record(tidu_store *s, const char *uscc, tidu_survey_record_fn fn,
			    void *ctx)
{
	tidu_rec r = TIDU_REC_INIT;
	char **keys = NULL;
	size_t n = 0, i;
	sqlite3_stmt *st;
	int error = 0, rc;

	/* Responses and parts by key, each loaded as a record. */
	if (!(st = tidu_store_stmt(s,
		"SELECT 'r', id FROM response WHERE uscc=?1 AND _deleted=0 UNION ALL "
		"SELECT 'a', id || '/' || part FROM attachment WHERE uscc=?1 AND _deleted=0")))
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, uscc, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		tidu_buf k = TIDU_BUF_INIT;

		tidu_buf_printf(&k, "%c%s", kind[0], sqlite3_column_text(st, 1));
		keys = tidu_reallocarray(keys, n + 1, sizeof(*keys));
		keys[n++] = tidu_buf_detach(&k);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		keys_free(keys, n);
		return tidu_store_sqlerr(s, rc, _("reading responses"));
	}
	for (i = 0; i < n && error == 0; i++) {
		const char *entity = keys[i][0] == 'r' ? TIDU_ENTITY_RESPONSE
						       : TIDU_ENTITY_ATTACHMENT;

		if ((error = tidu_view_rec_load(s, entity, keys[i] + 1, &r)) == 0)
			error = fn(ctx, entity, keys[i] + 1, &r);
		tidu_view_rec_clear(&r);
	}
	keys_free(keys, n);
	return error;
}
