#ifndef TIDU_RULES_H
#define TIDU_RULES_H
/*
 * The rule packs the city publishes (docs/assess.md, "How the city updates
 * a pack"): table `rule_pack` holds, per pack id, the newest pack the city
 * published (on the city) or that came signed through the city's ref
 * refs/heads/city/rules (on a device). Every store assesses with the
 * embedded packs (schema/rules/) and, above them, the newer stored ones.
 *
 * The document on the ref is {"payload": {"format": "tidu-rules",
 * "format_version": 1, "packs": [{"id", "version", "text"}...]},
 * "signature"}, signed with the city key (tidu_trust_city_sign), packs in
 * id order: the same packs give the same bytes.
 */
#include <stddef.h>

#include "tidu/assess.h"
#include "tidu/buf.h"
#include "tidu/store.h"
#include "tidu/trust.h"

#define TIDU_RULES_DOMAIN "tidu-rules-v1"
#define TIDU_RULES_FORMAT "tidu-rules"

/* The packs of this store: the embedded ones, replaced by newer stored ones. */
int tidu_rules_load(tidu_store *s, tidu_packs **out);

/*
 * City: publishes the pack `text` (`name` in messages): it must load next
 * to the packs of this store (tidu_packs_check) and its version must be
 * higher than the one in use for its id; it is stored, and the next
 * `tidu sync` signs and commits it. *pack_out gets a copy of its id and
 * version (may be NULL). TIDU_EINVAL naming the problem, nothing stored.
 */
typedef struct {
	char id[64];
	int version, previous; /* previous: the version it replaces (0: new id) */
} tidu_rules_published;

int tidu_rules_publish(tidu_store *city, const char *name, const char *text,
		       tidu_rules_published *out);

/*
 * City: the signed document of every published pack, appended to `doc`;
 * *count is how many it holds (0: none published, doc left empty).
 */
int tidu_rules_export(tidu_store *city, tidu_buf *doc, size_t *count);

/*
 * Any store: imports a document of tidu_rules_export, verified against the
 * pinned city key (TIDU_ECORRUPT when it does not verify, TIDU_EINVAL when
 * malformed, TIDU_ENOTFOUND when no city is pinned yet: nothing stored).
 * Each pack newer than the one in use for its id and loading next to the
 * others is stored; one that does not load is refused and named in the
 * report (trust.h; free it), the rest are still taken. One transaction.
 */
int tidu_rules_import(tidu_store *s, const char *doc, size_t len, tidu_city_import *rep);

#endif
