#ifndef TIDU_EXPORT_H
#define TIDU_EXPORT_H
/*
 * JSON documents of records. The same functions serve `show --json`,
 * `list --json` and `tidu export json`, so every output agrees.
 */
#include "tidu/json.h"
#include "tidu/store.h"
#include "tidu/view.h"

/*
 * Writes the firm `firm` as a JSON object: every firm field, then "years",
 * an object keyed by year ("2025") of firm-year objects, in year order.
 */
int tidu_export_firm(tidu_store *s, const tidu_rec *firm, tidu_json_writer *w);

/* Writes the visit `visit` as a JSON object: "id" then every visit field. */
int tidu_export_visit(const char *id, const tidu_rec *visit, tidu_json_writer *w);

/*
 * Called when `buf` has grown past a chunk, and at the end; the callback
 * writes the text out and empties the buffer. Returns 0 or an error code.
 */
typedef int (*tidu_sink)(void *ctx, tidu_buf *buf);

/*
 * Writes every live record in canonical order (firms by USCC with their
 * years, visits by id) as one JSON document. The same data gives the same
 * bytes on every store: store-local state (device, clocks) is left out.
 * With `district` not NULL, only that district's firms and their visits.
 */
int tidu_export_json(tidu_store *s, const char *district, tidu_sink sink,
		     void *ctx);

#endif
