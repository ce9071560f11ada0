#ifndef TIDU_FIRM_H
#define TIDU_FIRM_H
/*
 * Firms and their yearly figures, written through the record layer so that
 * every change is logged. A write is all-or-nothing: one bad KEY=VALUE and
 * the store is left as it was.
 */
#include <stddef.h>
#include <stdint.h>

#include "tidu/parse.h"
#include "tidu/record.h"
#include "tidu/store.h"
#include "tidu/view.h"

/*
 * Adds a firm: validates the USCC, requires a name (in `kv`), defaults the
 * district to the store's. TIDU_EEXISTS if the firm is already stored.
 * Writes the canonical USCC to `uscc_out` (19 bytes) if not NULL.
 */
int tidu_firm_add(tidu_store *s, const char *uscc, const tidu_kv *kv, size_t n,
		  char *uscc_out);

/* Changes fields of a stored firm. TIDU_ENOTFOUND if it is not stored. */
int tidu_firm_set(tidu_store *s, const char *uscc, const tidu_kv *kv, size_t n);

/* tidu_firm_set inside the caller's transaction (a survey's save_to fields); n = 0 writes nothing. */
int tidu_firm_set_in(tidu_store *s, const char *uscc, const tidu_kv *kv, size_t n);

/*
 * Deletes a stored firm: writes its tombstone, which syncs like any change.
 * Its visits stay. TIDU_ENOTFOUND if the firm is not stored.
 */
int tidu_firm_delete(tidu_store *s, const char *uscc);

/*
 * 0 if this store may edit firm `uscc` (and add its visits): always on the
 * city; elsewhere unless the firm is stored under another district than the
 * store's (the city moved it away: its copy here is history, read-only).
 * TIDU_EINVAL naming the firm and its new district otherwise.
 */
int tidu_firm_check_writable(tidu_store *s, const char *uscc);

/*
 * On the city's store only (TIDU_EINVAL elsewhere): files firm `uscc` under
 * `district`, one of the city's districts. The old district gets one last
 * change naming the new district (its copy becomes read-only history); the
 * new district gets every current value of the firm, its yearly figures and
 * its visits. One transaction. Writes the old district ("" if none) to
 * `old_out`. TIDU_ENOTFOUND if the firm is not stored.
 */
int tidu_firm_move(tidu_store *s, const char *uscc, const char *district,
		   char old_out[16]);

/*
 * Whether an incoming change of `entity` `key`, written by `device` of
 * `district` at `hlc`, may be merged (docs/sync.md, "Whose firm it is"):
 * 1 yes; 0 no, it is set aside and its values are kept as conflicts (*kept
 * counts them). An officer's or a district's device may write firms of its
 * own district only: a change filing a firm under another is set aside on
 * every store, and on the city so is a change of a firm the city files
 * under another district (it moved). The city's desks may write any firm.
 */
int tidu_firm_merge_check(tidu_store *s, const char *device, const char *district,
			  const char *entity, const char *key, int64_t hlc,
			  const tidu_merge_field *f, size_t n, size_t *kept);

/* Result of an import. */
typedef struct {
	size_t rows;      /* data rows read */
	size_t added;     /* firms added */
	size_t updated;   /* firms already stored and updated */
	size_t skipped;   /* rows of firms not stored, with TIDU_IMPORT_EXISTING */
	const char *encoding; /* "UTF-8", "GB18030", ... (static) */
} tidu_import_result;

/* Called for every problem found in a file: line 0 for file-level problems. */
typedef void (*tidu_import_error_cb)(void *ctx, size_t line, const char *message);

/*
 * Imports firms from CSV `data`: a header of dictionary keys or their
 * Chinese/English labels (YEAR.KEY for firm-year fields), UTF-8 with or
 * without BOM, or GBK/GB18030 as Excel and WPS save it. New firms are added,
 * stored firms updated; an empty cell leaves a field as it is. All or
 * nothing: on any bad row nothing is written, `on_error` hears of every bad
 * row and TIDU_EINVAL is returned. With TIDU_IMPORT_EXISTING in `flags`,
 * only firms already stored are updated and the rows of others are
 * skipped (counted): the province's published list of recognitions holds
 * every district's firms.
 */
#define TIDU_IMPORT_EXISTING 1u
int tidu_firm_import(tidu_store *s, const char *data, size_t len, unsigned flags,
		     tidu_import_result *result, tidu_import_error_cb on_error,
		     void *ctx);

/* The numbers of live firms and of live firm-years (yearly figures). */
int tidu_firm_count(tidu_store *s, int64_t *firms, int64_t *firm_years);

/*
 * The live firms per district, ordered by district code; *out is the
 * caller's (free()), *n its length.
 */
int tidu_firm_count_by_district(tidu_store *s, tidu_district_count **out, size_t *n);

#endif
