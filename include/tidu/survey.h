#ifndef TIDU_SURVEY_H
#define TIDU_SURVEY_H
/*
 * Survey responses (docs/surveys.md): filling a form about one firm, the
 * drafts kept as it is filled, the finalised responses and their files.
 * Owner of the tables `response`, `attachment`, `survey_draft` and
 * `survey_draft_file` (migration 008).
 *
 * Decisions:
 * - A draft is local: a row of `survey_draft` in this (encrypted) store,
 *   never in the change log, so an unfinished survey reaches nobody. It
 *   is saved whole after every answer (tidu_survey_save), so a crash loses
 *   at most the answer being typed.
 * - Finalising checks every answer (answers.h), then in one transaction
 *   writes the response record (entity `response`, its answers one JSON
 *   field), the parts of each file it names (entity `attachment`), the
 *   firm fields its `save_to` columns name (the firm's normal write path:
 *   validated, logged, merged), and removes the draft. All or nothing.
 * - A response is sealed for its firm's district like a visit: on an
 *   officer's device that is the device's district; on the city the desk of
 *   the firm's district (record.c). When a firm moves, its responses and
 *   their files go to the new district with it (move.c).
 * - A file question's answer is the path of a file of at most
 *   TIDU_SURVEY_FILE_MAX bytes, read when it is answered; the answer then
 *   holds the file's name, and the bytes stay with the draft (encrypted in
 *   the store) until they become the response's attachment parts.
 * - Response ids are UUIDv7 (the draft's id is the response's); commands
 *   take a unique prefix of at least 4 characters, in any case.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tidu/answers.h"
#include "tidu/buf.h"
#include "tidu/forms.h"
#include "tidu/json.h"
#include "tidu/store.h"
#include "tidu/uuid.h"
#include "tidu/view.h"

#define TIDU_SURVEY_FILE_MAX ((size_t)20 << 20) /* bytes of one answered file */
#define TIDU_SURVEY_PART ((size_t)256 << 10)    /* bytes of one attachment part */

typedef struct tidu_survey tidu_survey;

/*
 * A new response of form `form` (`version` NULL: the newest) about the firm
 * `uscc`, which must be in the store and this store's to write. Nothing is
 * stored until tidu_survey_save or tidu_survey_finalize. `lang` ("zh",
 * "en", NULL: the form's default) is the language of the form's messages.
 */
int tidu_survey_begin(tidu_store *s, const char *form, const char *version,
		      const char *uscc, const char *lang, tidu_survey **out);

/* Continues the draft `id` (or a unique prefix): TIDU_ENOTFOUND if none. */
int tidu_survey_resume(tidu_store *s, const char *id, const char *lang, tidu_survey **out);

void tidu_survey_free(tidu_survey *sv);

/* Borrowed, valid while `sv` lives. */
tidu_answers *tidu_survey_answers(tidu_survey *sv);
const tidu_form *tidu_survey_form(const tidu_survey *sv);
const char *tidu_survey_id(const tidu_survey *sv);
const char *tidu_survey_uscc(const tidu_survey *sv);

/*
 * tidu_answers_set, except that for a file question `text` is a path: the
 * file is read (at most TIDU_SURVEY_FILE_MAX bytes; TIDU_EINVAL naming it
 * and its size otherwise) and kept, and the answer becomes its name.
 */
int tidu_survey_set(tidu_survey *sv, size_t q, const tidu_answers_at *at, const char *text);

/*
 * tidu_answers_from_json, then reads the file of every file answer (a
 * relative path from `dir`, NULL: the working directory).
 */
int tidu_survey_load_json(tidu_survey *sv, const tidu_json *obj, const char *dir);

/* Keeps the draft as it is now (answers and files), in one transaction. */
int tidu_survey_save(tidu_survey *sv);

/*
 * Checks every answer (tidu_answers_finalize; *first_bad, may be NULL, is
 * the first failing question), then writes the response, its files and its
 * save_to firm fields and removes the draft, in one transaction.
 */
int tidu_survey_finalize(tidu_survey *sv, tidu_answers_pos *first_bad);

/*
 * Adds many finalised responses to form `form` (`version` NULL: the
 * newest) from JSON Lines `data`: one {"uscc": U, "answers": {...}} per
 * line (blank lines skipped), each checked as tidu_survey_add would, files
 * relative to `dir`. All in one transaction: the first bad line
 * (TIDU_EINVAL "line N: ...") and nothing is stored. *count: responses added.
 */
int tidu_survey_import(tidu_store *s, const char *form, const char *version,
		       const char *data, size_t len, const char *dir, const char *lang,
		       size_t *count);

typedef struct {
	char id[TIDU_UUID_LEN + 1];
	char uscc[32];
	char *firm_name;     /* "" when the firm is not in the store */
	char *form, *version;
	char *officer;
	char *started;
	char *finished;      /* "" for a draft */
	int draft;
	int64_t updated;     /* a draft: when it was last saved (ms since 1970) */
	size_t answered;     /* questions with a value (top-level keys of the answers) */
	size_t files;
} tidu_survey_info;

typedef struct {
	const char *uscc;    /* NULL: every firm */
	const char *form;    /* NULL: every form */
	int drafts;          /* 0: responses, 1: drafts, 2: both */
} tidu_survey_filter;

/* Responses (and/or drafts), newest first. Free with tidu_survey_list_free. */
int tidu_survey_list(tidu_store *s, const tidu_survey_filter *f, tidu_survey_info **out,
		     size_t *n);
void tidu_survey_list_free(tidu_survey_info *v, size_t n);
void tidu_survey_info_clear(tidu_survey_info *i);

/*
 * The response or draft `id` (or a unique prefix): its description into
 * *info (clear it with tidu_survey_info_clear) and its answers' JSON text
 * into *answers (may be NULL; the caller frees it).
 */
int tidu_survey_get(tidu_store *s, const char *id, tidu_survey_info *info, char **answers);

/*
 * Deletes the draft or response `id` (or a unique prefix): a draft is
 * removed; a response and its files get tombstones, which sync. *was_draft
 * (may be NULL) says which.
 */
int tidu_survey_delete(tidu_store *s, const char *id, int *was_draft);

typedef struct {
	char *question;      /* path: "photo", "products[2]/picture" */
	char *name;
	int64_t size;
	char sha256[65];
	size_t parts, have; /* parts it has, parts this store holds */
} tidu_survey_file;

/* The files of response `id` (full id), by question. Free with tidu_survey_files_free. */
int tidu_survey_files(tidu_store *s, const char *id, tidu_survey_file **out, size_t *n);
void tidu_survey_files_free(tidu_survey_file *v, size_t n);

/*
 * The bytes of the file of response `id` (a unique prefix) at question
 * `question`, appended to `out`, checked against its size and SHA-256:
 * TIDU_ENOTFOUND while a part has not arrived, TIDU_ECORRUPT if they differ.
 */
int tidu_survey_file_read(tidu_store *s, const char *id, const char *question, tidu_buf *out,
			  tidu_survey_file *info);

typedef enum {
	TIDU_SURVEY_CSV,
	TIDU_SURVEY_XLSX,
	TIDU_SURVEY_JSON,
} tidu_survey_format;

typedef struct {
	size_t responses;    /* rows of the main table */
	size_t tables;       /* the main table and one per repeat */
	char **paths;        /* the files written (CSV: one per table) */
	size_t npaths;
} tidu_survey_export_report;

/*
 * Writes every finalised response of form `form` (`version` NULL: every
 * version; the columns are those of the newest) to `path`, one row per
 * response and one column per question; each repeat in a table of its own
 * (CSV: "PATH-REPEAT.csv" beside it; XLSX: a sheet) whose rows name their
 * parent. CSV in UTF-8 with a BOM; XLSX with a second header row of
 * labels in `lang`; JSON an array of {"id", "uscc", ..., "answers"}.
 * Streams: memory does not grow with the number of responses. Files are
 * written whole or not at all (temporary names, renamed at the end).
 * `path` NULL writes CSV (a form without repeats) or JSON to `stream`.
 */
int tidu_survey_export(tidu_store *s, const char *form, const char *version,
		       tidu_survey_format format, const char *path, FILE *stream,
		       const char *lang, tidu_survey_export_report *rep);
void tidu_survey_export_report_free(tidu_survey_export_report *rep);

/*
 * Move support (move.c): calls `fn` with the entity, key and record of
 * every live response and attachment part of firm `uscc`.
 */
typedef int (*tidu_survey_record_fn)(void *ctx, const char *entity, const char *key,
				     const tidu_rec *r);
int tidu_survey_each_record(tidu_store *s, const char *uscc, tidu_survey_record_fn fn,
			    void *ctx);

#endif
