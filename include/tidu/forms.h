#ifndef TIDU_FORMS_H
#define TIDU_FORMS_H
/*
 * The forms a store holds (table `form`, migration 007): every version of
 * every form imported (tidu form import) or received from the city, kept as
 * the workbook itself and read again (form.h) when used; and the built-in
 * forms, compiled into the binary from schema/forms/ID.xlsx (one version of
 * each id), which every store sees without importing them. docs/surveys.md.
 *
 * A built-in form is read from the binary's bytes when used, so a newer
 * tidu brings newer built-ins with nothing to migrate. What depends on one
 * version of it (a saved response, a published form) pins it first
 * (tidu_forms_pin): its workbook is copied into the table (source
 * "builtin"), where it stays when a later tidu ships another version. A
 * stored form of the same id and version as a built-in is the one used.
 */
#include <stddef.h>

#include "tidu/form.h"
#include "tidu/store.h"
#include "tidu/trust.h"

typedef struct {
	char id[256];
	char version[64];
	char *title;         /* default language */
	size_t questions;    /* rows that hold a value or are asked */
	char source[8];      /* "local", "city" or "builtin" */
	char sha256[65];
	int newest;          /* the newest version of its id */
	int stored;          /* in the table; 0: a built-in read from the binary (not pinned) */
} tidu_form_info;

/*
 * Imports the workbook `data` (`len` bytes, read from `name`): it must read
 * as a form (form.h: TIDU_EINVAL naming the cell), and a version already
 * stored or built in must be the same bytes (else TIDU_EEXISTS: raise the
 * version). *was_new = 0 when it was there already: stored, or (source
 * "local") the built-in's own bytes, which are not stored (*out says
 * source "builtin", stored 0). `source` "local" or "city"; the city's copy
 * of a built-in is stored (the city published it to every device).
 * *out may be NULL; its title is the caller's to free.
 */
int tidu_forms_import(tidu_store *s, const char *name, const void *data, size_t len,
		      const char *source, tidu_form_info *out, int *was_new);

/*
 * Every form and version, by id then newest first: the stored ones and the
 * built-ins (source "builtin", stored 0) whose version is not stored. Free
 * with tidu_forms_list_free.
 */
int tidu_forms_list(tidu_store *s, tidu_form_info **out, size_t *n);
void tidu_forms_list_free(tidu_form_info *v, size_t n);

/*
 * The form `id` at `version` (NULL: the newest of the stored versions and
 * the built-in, by tidu_forms_version_cmp), read into *form (the caller's:
 * tidu_form_free); `info` may be NULL (its title is the caller's to free).
 * TIDU_ENOTFOUND naming it ("no form 'x': see tidu form list").
 */
int tidu_forms_get(tidu_store *s, const char *id, const char *version, tidu_form **form,
		   tidu_form_info *info);

/*
 * Makes sure the form `id` at `version` (NULL: the newest, as
 * tidu_forms_get) stays available to this store: a built-in not stored
 * yet is copied into the table (source "builtin"); a stored one is left as
 * it is. Idempotent; TIDU_ENOTFOUND as tidu_forms_get. One INSERT: inside
 * the caller's transaction when one is open (tidu_store_begin; undone with
 * it), else on its own. The survey code calls it with the form id and
 * version of a response when it saves the response, in the transaction
 * that writes it, so that the response can always be read with its form.
 */
int tidu_forms_pin(tidu_store *s, const char *id, const char *version);

/*
 * City: publishes the form `id` at `version` (NULL: the newest), a
 * built-in one pinned first (tidu_forms_pin), in one transaction of its
 * own: the next `tidu sync` signs every published form into the document
 * of refs/heads/city/forms, and every device takes it. *info may be NULL
 * (its title is the caller's to free). TIDU_EINVAL if not the city store.
 */
int tidu_forms_publish(tidu_store *city, const char *id, const char *version,
		       tidu_form_info *info);

#define TIDU_FORMS_DOMAIN "tidu-forms-v1"
#define TIDU_FORMS_FORMAT "tidu-forms"

/*
 * City: the signed document of every published form ({"payload":
 * {"format": "tidu-forms", "format_version": 1, "forms": [{"id",
 * "version", "sha256", "xlsx" (base64)}...]}, "signature"}, forms in id
 * and version order), appended to `doc`; *count forms (0: none, doc empty).
 */
int tidu_forms_export(tidu_store *city, tidu_buf *doc, size_t *count);

/*
 * Any store: imports a document of tidu_forms_export, verified against the
 * pinned city key (TIDU_ECORRUPT, TIDU_EINVAL, TIDU_ENOTFOUND as for rule
 * packs: nothing stored). Each form not stored yet is stored as the city's
 * (a built-in's own bytes too); one stored already with the same bytes is
 * kept; one that does not read, or whose id and version a local form or a
 * built-in holds with other bytes, is refused and named in the report
 * (trust.h; free it), the rest still taken. Each
 * form is stored in a transaction of its own: whole or not at all.
 */
int tidu_forms_import_doc(tidu_store *s, const char *doc, size_t len, tidu_city_import *rep);

/* Negative, zero, positive as version `a` is older, the same, newer than `b`. */
int tidu_forms_version_cmp(const char *a, const char *b);

#endif
