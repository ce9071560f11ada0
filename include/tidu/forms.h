#ifndef TIDU_FORMS_H
#define TIDU_FORMS_H
/*
 * The forms a store holds (table `form`, migration 007): every version of
 * every form imported (tidu form import) or received from the city, kept as
 * the workbook itself and read again (form.h) when used. docs/surveys.md.
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
	char source[8];      /* "local" or "city" */
	char sha256[65];
	int newest;          /* the newest version of its id */
} tidu_form_info;

/*
 * Imports the workbook `data` (`len` bytes, read from `name`): it must read
 * as a form (form.h: TIDU_EINVAL naming the cell), and a version already
 * stored must be the same bytes (else TIDU_EEXISTS: raise the version).
 * *was_new = 0 when it was there already. `source` "local" or "city".
 */
int tidu_forms_import(tidu_store *s, const char *name, const void *data, size_t len,
		      const char *source, tidu_form_info *out, int *was_new);

/* Every form and version, by id then newest first. Free with tidu_forms_list_free. */
int tidu_forms_list(tidu_store *s, tidu_form_info **out, size_t *n);
void tidu_forms_list_free(tidu_form_info *v, size_t n);

/*
 * The form `id` at `version` (NULL: the newest), read into *form; `info`
 * may be NULL. TIDU_ENOTFOUND naming it ("no form 'x': see tidu form list").
 */
int tidu_forms_get(tidu_store *s, const char *id, const char *version, tidu_form **form,
		   tidu_form_info *info);

/*
 * City: publishes the stored form `id` at `version` (NULL: the newest):
 * the next `tidu sync` signs every published form into the document of
 * refs/heads/city/forms, and every device takes it. *info may be NULL
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
 * packs: nothing stored). Each form not stored yet is stored as the city's;
 * one stored already with the same bytes is kept; one that does not read,
 * or whose id and version a local form holds with other bytes, is refused
 * and named in the report (trust.h; free it), the rest still taken. Each
 * form is stored in a transaction of its own: whole or not at all.
 */
int tidu_forms_import_doc(tidu_store *s, const char *doc, size_t len, tidu_city_import *rep);

/* Negative, zero, positive as version `a` is older, the same, newer than `b`. */
int tidu_forms_version_cmp(const char *a, const char *b);

#endif
