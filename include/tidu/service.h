#ifndef TIDU_SERVICE_H
#define TIDU_SERVICE_H
/*
 * Cultivation services (docs/services.md): the service institutions (优质
 * 服务机构清单, table `institution`), matching a firm's needs, problems and
 * assessment deductions to them, the city's credit products by tier
 * (schema/credit.csv) and referrals (entity `referral`, synced like
 * visits). The mapping from assessment items and visit problems to need
 * codes is data: schema/service_map.csv.
 */
#include <stddef.h>
#include <stdint.h>
#include "tidu/buf.h"
#include "tidu/firm.h"
#include "tidu/store.h"
#include "tidu/trust.h"
#include "tidu/uuid.h"

#define TIDU_SERVICES_DOMAIN "tidu-services-v1"
#define TIDU_SERVICES_FORMAT "tidu-services"

typedef struct {
	char *id, *name, *kind;
	char *needs, *districts, *tiers; /* space-separated codes; districts/tiers "": all */
	char *contact, *origin;          /* origin: "city" or "local" */
} tidu_institution;

/*
 * Imports institutions from CSV `data` (UTF-8 or GB18030; header: name,
 * kind, needs, districts, tiers, contact and optionally id, or their
 * Chinese titles 名称, 类型, 服务需求, 服务区县, 服务层级, 联系方式, 编号).
 * On the city they become the city's list (replacing its rows whole, for
 * the next sync to publish); on a district's store they are its local
 * institutions (replacing its local rows). All or nothing: every bad row
 * is told to `on_error` and TIDU_EINVAL returned, nothing written.
 * An institution without an id gets one from its name.
 */
int tidu_service_import(tidu_store *s, const char *data, size_t len, size_t *count,
			tidu_import_error_cb on_error, void *ctx);

/* The institutions serving `need` and `district` (NULL: any), by name. */
int tidu_service_list(tidu_store *s, const char *need, const char *district,
		      tidu_institution **out, size_t *n);
void tidu_institutions_free(tidu_institution *v, size_t n);

/* The institution of id or exact name `which`, or TIDU_ENOTFOUND. */
int tidu_service_find(tidu_store *s, const char *which, tidu_institution *out);
void tidu_institution_clear(tidu_institution *i);

/* The city's signed document of its institutions (citydoc.c). */
int tidu_service_export(tidu_store *city, tidu_buf *doc, size_t *count);
/* Device: replaces the city's institutions with the document's. */
int tidu_service_import_doc(tidu_store *s, const char *doc, size_t len, tidu_city_import *rep);

/* The credit product of tier `tier` (1..3) in the current language, or NULL. */
const char *tidu_service_credit(int tier, int64_t *max_10k_cny);

/* One proposal of `tidu service match`. */
typedef struct {
	tidu_institution inst;
	char *need;           /* the need code it serves */
	double weight;        /* the sum of the need's reasons' weights */
	char *reasons;        /* why, in the current language: "; "-separated */
} tidu_service_proposal;

typedef struct {
	int tier;             /* the tier the firm works towards (its assessment's) */
	int credit_tier;      /* its recognised tier, for the credit product (0: none) */
	tidu_service_proposal *v;
	size_t n;
	char **open_needs;    /* needs with no institution serving the firm's district */
	size_t nopen;
} tidu_service_match_result;

/*
 * Proposes institutions for firm `uscc`: from the needs and problems of
 * its visits, and the items its assessment (for the tier it works towards:
 * its reserve list, else the one above its recognition) fails or loses
 * points on, mapped to needs by schema/service_map.csv. Each need is
 * weighed (a failed hard condition 3, a problem found at a visit 3, a
 * need recorded at a visit 2, lost points twice their share of the item's
 * maximum); institutions that
 * serve the firm's district, the need and the tier, heaviest need first.
 */
int tidu_service_match(tidu_store *s, const char *uscc, tidu_service_match_result *out);
void tidu_service_match_free(tidu_service_match_result *r);

/*
 * Refers firm `uscc` to institution `which` for `need`: a referral record
 * (date today, this store's officer, outcome pending, `due` and `note` may
 * be NULL). TIDU_EINVAL when the institution does not serve the need or the
 * firm's district, or for an unknown need; TIDU_ENOTFOUND for an unknown
 * firm or institution. Nothing is written then.
 */
int tidu_service_refer(tidu_store *s, const char *uscc, const char *which, const char *need,
		       const char *due, const char *note, char id_out[TIDU_UUID_LEN + 1]);

/* Sets a referral's outcome (pending, met, declined, done) and, if given, its note. */
int tidu_service_outcome(tidu_store *s, const char *id, const char *outcome, const char *note);

typedef struct {
	char id[TIDU_UUID_LEN + 1];
	char uscc[20];
	char *name, *district, *institution, *institution_name, *need, *date, *officer,
		*outcome, *follow_up_due, *note;
} tidu_referral;

typedef struct {
	const char *district, *outcome, *uscc; /* NULL: all */
} tidu_referral_filter;

/* The referrals, newest first. */
int tidu_service_referrals(tidu_store *s, const tidu_referral_filter *f, tidu_referral **out,
			   size_t *n);
void tidu_referrals_free(tidu_referral *v, size_t n);
#endif
