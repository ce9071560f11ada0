#ifndef TIDU_TRUST_H
#define TIDU_TRUST_H
/*
 * Trust: the keys of a store, the city's signed keyring, enrollment of
 * devices, district read keys and their rotation when a device is revoked
 * (docs/architecture.md, "Rooms"; the model and the document formats are in
 * docs/security.md, "Trust model").
 *
 * Every store has an Ed25519 signing key pair and an X25519 box key pair,
 * kept in the encrypted store (table `secret`); they never leave it in the
 * clear. The city store (role "city", district 410100) is the root: its
 * own signing key signs the keyring, its own box key is a recipient of
 * every change set, and it holds every district's read keys (X25519, by
 * epoch). A device learns its district's read keys from the keyring, where
 * the city seals them to the device's box key (crypto_box_seal).
 *
 * Functions that write join the caller's transaction when one is open
 * (tidu_store_begin) and otherwise run in a transaction of their own.
 * Errors are the codes of error.h, with a message set; none prints.
 * Secrets handed out (tidu_trust_sign_sk, tidu_trust_reader_keys) are the
 * caller's to wipe (sodium_memzero, tidu_trust_keypairs_free).
 */
#include <stddef.h>
#include <stdint.h>

#include "tidu/buf.h"
#include "tidu/error.h"
#include "tidu/json.h"
#include "tidu/store.h"

#define TIDU_TRUST_KEY_LEN 32     /* public keys, X25519 secret keys */
#define TIDU_TRUST_SIGN_SK_LEN 64 /* Ed25519 secret key (seed ‖ public key) */

/*
 * A fingerprint: 20 symbols of Crockford's base32 in 5 groups of 4,
 * "K3F9-0QZD-4T8W-MX2A-7CPN" (24 characters; TIDU_TRUST_FP_SIZE with the
 * NUL), the first 100 bits of BLAKE2b-256 keyed with "tidu-fingerprint-v1"
 * over sign_pk ‖ box_pk. A city's fingerprint is that of its own keys.
 */
#define TIDU_TRUST_FP_LEN 24
#define TIDU_TRUST_FP_SIZE 25

#define TIDU_TRUST_DISTRICT_SIZE 16
#define TIDU_TRUST_ROLE_SIZE 16
#define TIDU_TRUST_OFFICER_MAX 255 /* bytes of an officer's name in documents */

/* Largest document (request, keyring) read from a file. */
#define TIDU_TRUST_DOC_MAX ((size_t)16 << 20)

/*
 * The city writes to a district as its "desk" for that district: a device
 * of the keyring with role TIDU_TRUST_ROLE_DESK, the district's code, the
 * city's own keys and the id tidu_trust_desk_id() derives. The city store
 * records its edits of a firm under the desk of the firm's district, so
 * that they are sealed for that district and every replica orders them by
 * the same (clock, device). Desks are made by tidu_trust_ensure_keys() on
 * the city, never enrolled, revoked or granted keys.
 */
#define TIDU_TRUST_ROLE_DESK "city-desk"

/*
 * The device id of the city's desk for `district`: the first 8 bytes, hex,
 * of BLAKE2b keyed with "tidu-city-desk-v1" over city_device "/" district.
 */
void tidu_trust_desk_id(const char *city_device, const char *district,
			char out[TIDU_DEVICE_ID_LEN + 1]);

/* Who this store is (tidu_trust_identity). */
typedef struct {
	char device[TIDU_DEVICE_ID_LEN + 1];
	char district[TIDU_TRUST_DISTRICT_SIZE];
	char role[TIDU_TRUST_ROLE_SIZE];
	char fingerprint[TIDU_TRUST_FP_SIZE];      /* of this store's keys */
	int city_pinned;                           /* a city key is pinned */
	char city_fingerprint[TIDU_TRUST_FP_SIZE]; /* "" when nothing is pinned */
	int enrolled;            /* this device is in the current keyring */
	int revoked;             /* ... and revoked there */
	int64_t keyring_version; /* current keyring, 0 if none */
} tidu_trust_id;

/* An enrollment request, verified (tidu_trust_admit). */
typedef struct {
	char device[TIDU_DEVICE_ID_LEN + 1];
	char district[TIDU_TRUST_DISTRICT_SIZE];
	char role[TIDU_TRUST_ROLE_SIZE];
	char officer[TIDU_TRUST_OFFICER_MAX + 1];
	char created[32];        /* "2026-11-27T09:07:00Z", as the device said */
	char fingerprint[TIDU_TRUST_FP_SIZE];
	unsigned char sign_pk[TIDU_TRUST_KEY_LEN];
	unsigned char box_pk[TIDU_TRUST_KEY_LEN];
	int enrolled;            /* already in the keyring with these keys and name */
	/*
	 * The officer's name in the keyring when the device is enrolled with
	 * these keys but the request carries another name (a correction the
	 * device asks for: tidu_trust_enroll_request_as); "" otherwise.
	 */
	char renamed_from[TIDU_TRUST_OFFICER_MAX + 1];
} tidu_trust_request;

/* A device of the keyring (tidu_trust_device_lookup). */
typedef struct {
	char device[TIDU_DEVICE_ID_LEN + 1];
	char district[TIDU_TRUST_DISTRICT_SIZE];
	char role[TIDU_TRUST_ROLE_SIZE];
	char officer[TIDU_TRUST_OFFICER_MAX + 1];
	char fingerprint[TIDU_TRUST_FP_SIZE];
	unsigned char sign_pk[TIDU_TRUST_KEY_LEN];
	unsigned char box_pk[TIDU_TRUST_KEY_LEN];
	int revoked;             /* 1 if revoked */
	int64_t revoked_after;   /* last sequence accepted from it; 0 if not revoked */
} tidu_trust_device;

/* An X25519 key pair this store can open sealed boxes with. */
typedef struct {
	char district[TIDU_TRUST_DISTRICT_SIZE]; /* "" for the city's own box key */
	int64_t epoch;                           /* 0 for the city's own box key */
	unsigned char pk[TIDU_TRUST_KEY_LEN];
	unsigned char sk[TIDU_TRUST_KEY_LEN];
} tidu_trust_keypair;

/* What tidu_trust_keyring_import() did. */
typedef struct {
	int64_t version;        /* version of the document */
	int current;            /* it was the current keyring already: no change */
	int pinned;             /* the city key was pinned now (trust on first use) */
	char city_fingerprint[TIDU_TRUST_FP_SIZE];
	size_t devices;         /* devices listed */
	size_t keys_new;        /* read keys granted to this device, new to it */
	int enrolled;           /* this device is listed */
	int revoked;            /* ... and revoked */
} tidu_trust_import;

/* ---- keys and identity ------------------------------------------------- */

/*
 * Generates this store's signing and box key pairs if it has none
 * (idempotent; cheap when there is nothing to do). On a city store it also
 * pins the city key to the store's own keys, lists the city itself as a
 * device, and makes an epoch-1 read key for every division that has none,
 * the city's own code included, so that the city can seal to any district
 * before any device of it is enrolled. TIDU_ECORRUPT if only some of the
 * keys are there.
 */
int tidu_trust_ensure_keys(tidu_store *s);

/* Fills `out` (see tidu_trust_id). TIDU_ENOTFOUND if the store has no keys. */
int tidu_trust_identity(tidu_store *s, tidu_trust_id *out);

/*
 * This store's Ed25519 secret key, for signing. The caller wipes it.
 * TIDU_ENOTFOUND if the store has no keys yet.
 */
int tidu_trust_sign_sk(tidu_store *s, unsigned char sk[TIDU_TRUST_SIGN_SK_LEN]);

/* Writes the fingerprint of the key pair to `out` (TIDU_TRUST_FP_SIZE). */
void tidu_trust_fingerprint(const unsigned char sign_pk[TIDU_TRUST_KEY_LEN],
			    const unsigned char box_pk[TIDU_TRUST_KEY_LEN],
			    char out[TIDU_TRUST_FP_SIZE]);

/*
 * Reads a fingerprint as typed: case-insensitive, '-', spaces and tabs
 * ignored, O read as 0, I and L as 1. Writes the canonical text to `out`.
 * TIDU_EINVAL if it is not 20 base32 symbols.
 */
int tidu_trust_fingerprint_parse(const char *text, char out[TIDU_TRUST_FP_SIZE]);

/*
 * Pins the city by its fingerprint (`tidu init --city-key`): the first
 * keyring imported must then come from the city with that fingerprint.
 * Idempotent for the same fingerprint. TIDU_EINVAL for a malformed one,
 * TIDU_EEXISTS if another city key is pinned already (a city store is
 * pinned to itself).
 */
int tidu_trust_pin_city(tidu_store *s, const char *fingerprint);

/* ---- enrollment (device side) ------------------------------------------ */

/*
 * The one check of an officer's name, for init, enroll request and every
 * request or keyring read: not blank after trimming spaces, at most
 * TIDU_TRUST_OFFICER_MAX bytes, valid UTF-8, no control character
 * (tidu_utf8_find_control: no newline, escape or bidi override).
 * TIDU_EINVAL "invalid officer name: ..." naming the problem.
 */
int tidu_trust_officer_check(const char *name);

/*
 * Appends to `out` this device's enrollment request: a JSON document
 * signed with the device's own key (proof of possession). It holds no
 * secret. TIDU_EINVAL if the officer's name is longer than
 * TIDU_TRUST_OFFICER_MAX bytes.
 */
int tidu_trust_enroll_request(tidu_store *s, tidu_buf *out);

/*
 * The same request carrying officer name `officer` instead of the store's:
 * how an enrolled device asks the city to correct its name. When the city
 * admits it (tidu_trust_admit), the device's keyring entry takes the new
 * name, and the device's store takes it when it imports that keyring.
 * TIDU_EINVAL for a name tidu_trust_officer_check() refuses.
 */
int tidu_trust_enroll_request_as(tidu_store *s, const char *officer, tidu_buf *out);

/* ---- administration (city store only) ---------------------------------- */

/*
 * Verifies the enrollment request `req` (`len` bytes) and fills `info_out`
 * (may be NULL) for display. With `commit` non-zero it also admits the
 * device: adds it to the device table and makes its district's read key
 * (epoch 1) if the district has none. A device enrolled already with the
 * same keys and name is no change (info_out->enrolled = 1); with the same
 * keys and another name, admitting it corrects the officer's name in the
 * device table (info_out->renamed_from is the old name).
 * Errors: TIDU_EINVAL if `city` is not a city store, for a malformed
 * request (bad JSON, fields, unknown district, role and district that do
 * not fit) or a revoked device; TIDU_ECORRUPT if the signature does not
 * verify (tampered); TIDU_EEXISTS if the device is enrolled with other keys.
 */
int tidu_trust_admit(tidu_store *city, const char *req, size_t len,
		     tidu_trust_request *info_out, int commit);

/*
 * Revokes `device`: its change sets with a sequence number above
 * `last_seq` (>= 0) are refused from now on, and its district's read key
 * is rotated to a new epoch, granted to every other device of the district
 * at the next export. TIDU_EINVAL if `city` is not a city store, for a
 * negative `last_seq`, or the city's own device; TIDU_ENOTFOUND for a
 * device not in the keyring; TIDU_EEXISTS if it is revoked already
 * (nothing changes).
 */
int tidu_trust_revoke(tidu_store *city, const char *device, int64_t last_seq);

/*
 * Appends to `out` a new keyring document (version = last + 1), signed with
 * the city key, and keeps it in table `keyring`. It carries the city's
 * public keys, every district read public key by epoch, every device, and
 * the grants: each district secret key sealed to every non-revoked device
 * of that district, for every epoch. TIDU_EINVAL if not a city store.
 */
int tidu_trust_keyring_export(tidu_store *city, tidu_buf *out);

/*
 * Imports a keyring document (`len` bytes) into any store: verifies the
 * signature against the pinned city key (pinning it now if nothing is
 * pinned: trust on first use), refuses an older version than the current
 * one, accepts the current one again as no change, then replaces the device
 * table, stores every district public key and opens the grants addressed
 * to this device. `info_out` may be NULL.
 * Errors: TIDU_EINVAL for a malformed document or an older version
 * (rollback); TIDU_ECORRUPT "keyring not signed by the pinned city key",
 * for a bad signature, a grant that does not open or does not match its
 * public key, a changed public key of a known epoch, this device listed
 * with other keys, or the current version with other contents.
 */
int tidu_trust_keyring_import(tidu_store *s, const char *doc, size_t len,
			      tidu_trust_import *info_out);

/* ---- other documents the city signs (rule packs, later forms, targets) --- */

/*
 * City: signs `payload` (a JSON object written compactly, with a "format"
 * string and "format_version" 1) with the city key for `domain` (one
 * domain per kind of document, "tidu-rules-v1"), and appends the signed
 * document to `out`. Deterministic: the same payload gives the same bytes.
 * TIDU_EINVAL if not a city store.
 */
int tidu_trust_city_sign(tidu_store *city, const char *domain, const tidu_buf *payload,
			 tidu_buf *out);

/*
 * A city document is a list: {"format": FORMAT, "format_version": 1,
 * LIST: [items...]}. payload_begin starts the payload in `payload` through
 * `w` up to the opening '[' (the caller writes the items); payload_sign
 * closes it and, when `count` > 0, signs it (tidu_trust_city_sign) into
 * `doc` (left empty when there is nothing to publish).
 */
void tidu_trust_city_payload_begin(tidu_json_writer *w, tidu_buf *payload,
				   const char *format, const char *list);
int tidu_trust_city_payload_sign(tidu_store *city, tidu_json_writer *w,
				 tidu_buf *payload, const char *domain, size_t count,
				 tidu_buf *doc);

/*
 * Opens a document the city signed: `what` names it in errors, `format` is
 * the payload's expected format and `list` the key of its items. On
 * success *tree holds the parsed payload (the caller frees it) and *items
 * its list. TIDU_EINVAL for a malformed document, another format or no
 * list; TIDU_ENOTFOUND when no city key is pinned yet (the keyring comes
 * first); TIDU_ECORRUPT when the signature does not verify under the
 * pinned city key (altered, or signed by another city).
 */
int tidu_trust_city_open(tidu_store *s, const char *what, const char *domain,
			 const char *format, const char *list, const char *text, size_t len,
			 tidu_json **tree, const tidu_json **items);

/* What importing a city document did (rule packs, forms). */
typedef struct {
	size_t taken;    /* stored now */
	size_t kept;     /* not newer than what this store has */
	size_t nrefused; /* unusable here: named in `refused` */
	tidu_buf refused; /* each refused item and why, "; " between */
} tidu_city_import;

void tidu_city_import_refuse(tidu_city_import *rep, const char *why);
void tidu_city_import_free(tidu_city_import *rep);

/* ---- the keyring this store holds --------------------------------------- */

/* Hex digits (+ NUL) of tidu_trust_state_digest(). */
#define TIDU_TRUST_DIGEST_HEX 65

/*
 * A digest of what a keyring carries (devices, their keys and revocations,
 * district public keys): the city republishes when it changes.
 */
int tidu_trust_state_digest(tidu_store *s, char out[TIDU_TRUST_DIGEST_HEX]);

/*
 * The newest keyring version this store holds and its document, appended
 * to `doc`; *version is 0 (and doc untouched) when it holds none.
 */
int tidu_trust_keyring_latest(tidu_store *s, int64_t *version, tidu_buf *doc);

/* ---- lookups for change sets (stable) ---------------------------------- */

/*
 * The keyring's entry for `device`. TIDU_ENOTFOUND if it is not in this
 * store's keyring.
 */
int tidu_trust_device_lookup(tidu_store *s, const char *device,
			     tidu_trust_device *out);

/*
 * Every device of the keyring, ordered by id. `*out` is the caller's (free()).
 */
int tidu_trust_device_list(tidu_store *s, tidu_trust_device **out, size_t *n);

/*
 * The public keys a change set of `district` is sealed to: the district's
 * current-epoch read key, then the city's box key (`*n` = 2). TIDU_EINVAL
 * if `max` < 2; TIDU_ENOTFOUND if this store has no keyring yet ("this
 * device is not enrolled: import the city's keyring first"), if this device
 * is not in it, or if the district has no read key. The city store needs no
 * keyring: it has every district's key from the start.
 */
int tidu_trust_recipients(tidu_store *s, const char *district,
			  unsigned char (*pks_out)[TIDU_TRUST_KEY_LEN], size_t max,
			  size_t *n);

/* The current (highest) read-key epoch of `district`; TIDU_ENOTFOUND if none. */
int tidu_trust_current_epoch(tidu_store *s, const char *district, int64_t *epoch);

/*
 * Every X25519 key pair this store can open sealed boxes with: the district
 * read keys it holds the secret of (by district, then epoch), and on the
 * city also its own box key pair (district "", epoch 0). `*out` is the
 * caller's: release it with tidu_trust_keypairs_free(), which wipes it.
 * `*n` may be 0 (then `*out` is still freeable).
 */
int tidu_trust_reader_keys(tidu_store *s, tidu_trust_keypair **out, size_t *n);

/* Wipes and frees what tidu_trust_reader_keys() returned. NULL is a no-op. */
void tidu_trust_keypairs_free(tidu_trust_keypair *kps, size_t n);

/* ---- documents as files ------------------------------------------------ */

/*
 * Reads the file `path` into `out` (cleared first). TIDU_ENOTFOUND if it
 * does not exist, TIDU_EINVAL if it is larger than TIDU_TRUST_DOC_MAX,
 * TIDU_ERROR for other I/O errors.
 */
int tidu_trust_doc_read(const char *path, tidu_buf *out);

/*
 * Writes `len` bytes to `path` through a temporary file in the same
 * directory, fsync and rename: the file is whole or not there. TIDU_ERROR
 * on I/O errors.
 */
int tidu_trust_doc_write(const char *path, const char *data, size_t len);

#endif
