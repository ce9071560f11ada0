#ifndef TIDU_CHANGESET_H
#define TIDU_CHANGESET_H
/*
 * Change-set files: one device's batch of field changes, sealed once and
 * never modified (docs/architecture.md, "Three paths"). Byte layout, caps and
 * versioning: docs/formats.md.
 *
 * A file is a clear header (district, device, sequence number, hash of the
 * device's previous file, HLC range, change count, body size), the list of
 * recipients (the file key sealed to each X25519 key that may read it), and
 * an XChaCha20-Poly1305 ciphertext holding the device's Ed25519 signature
 * and the zlib-compressed body. The body is a list of changes, built with
 * tidu_changeset_body_add() and read back with a tidu_changeset_reader.
 *
 *	tidu_buf body = TIDU_BUF_INIT, file = TIDU_BUF_INIT;
 *	for each pending change (in HLC order):
 *		error = tidu_changeset_body_add(&body, &change);
 *	error = tidu_changeset_seal(&origin, &body, sign_sk, pks, npks, &file, NULL);
 *	...
 *	error = tidu_changeset_open(file.ptr, file.len, "path", keys, nkeys, sign_pk,
 *			     &header, &body);
 *	tidu_changeset_reader_init(&r, body.ptr, body.len);
 *	while ((error = tidu_changeset_reader_next(&r, &change)) > 0)
 *		apply(&change);
 *	tidu_changeset_reader_free(&r);
 *
 * Errors, for every function: TIDU_EINVAL for bad arguments (a programming
 * or caller error: nothing was read); TIDU_ECORRUPT when the file or body is
 * damaged, tampered with, truncated, over a cap, or signed by another key;
 * TIDU_EINVAL "made by a newer tidu" for a newer format version;
 * TIDU_ENOTFOUND when none of the reader's keys is among the recipients.
 * Memory used while reading stays bounded by the caps below, whatever the
 * input. No function here prints, logs or keeps state between calls.
 */
#include <stddef.h>
#include <stdint.h>

#include "tidu/buf.h"
#include "tidu/error.h"

#define TIDU_CHANGESET_FORMAT 1 /* the format version this tidu writes and reads */

#define TIDU_CHANGESET_HASH_BYTES 32    /* BLAKE2b-256 file hash (chains) */
#define TIDU_CHANGESET_SIGN_PK_BYTES 32 /* Ed25519 (crypto_sign) public key */
#define TIDU_CHANGESET_SIGN_SK_BYTES 64 /* Ed25519 (crypto_sign) secret key */
#define TIDU_CHANGESET_BOX_PK_BYTES 32  /* X25519 (crypto_box) public key */
#define TIDU_CHANGESET_BOX_SK_BYTES 32  /* X25519 (crypto_box) secret key */

/* Caps (docs/formats.md). Readers reject anything beyond them. */
#define TIDU_CHANGESET_MAX_BODY (256u << 20)  /* body bytes, before compression */
#define TIDU_CHANGESET_MAX_STRING (1u << 20)  /* bytes of one value */
/* Bytes of one change-set file: what seal may write and apply and sync read. */
#define TIDU_CHANGESET_MAX_FILE ((size_t)64 << 20)
#define TIDU_CHANGESET_MAX_KEY 256            /* bytes of an entity key */
#define TIDU_CHANGESET_MAX_NAME 64            /* bytes of a field name */
#define TIDU_CHANGESET_MAX_FIELDS 1024        /* fields in one change */
#define TIDU_CHANGESET_MAX_RECIPIENTS 64
#define TIDU_CHANGESET_MAX_DISTRICT 16        /* bytes of a district code */
#define TIDU_CHANGESET_DEVICE_LEN 16          /* hex characters of a device id */

/* Entities (the u8 in the body). Other values are rejected. */
#define TIDU_CHANGESET_FIRM 1
#define TIDU_CHANGESET_FIRM_YEAR 2
#define TIDU_CHANGESET_VISIT 3
#define TIDU_CHANGESET_RESPONSE 4   /* a survey response (docs/surveys.md) */
#define TIDU_CHANGESET_ATTACHMENT 5 /* a part of a response's file */
#define TIDU_CHANGESET_REFERRAL 6   /* a referral to a service institution (docs/services.md) */
#define TIDU_CHANGESET_EVENT 7      /* an event: matchmaking, training, competition */
#define TIDU_CHANGESET_ATTENDANCE 8 /* a firm at an event */
#define TIDU_CHANGESET_LAST TIDU_CHANGESET_ATTENDANCE

/* The store's name of an entity ("firm", "firm_year", "visit", ...), or NULL. */
const char *tidu_changeset_entity_name(int entity);

/* The entity of a store name, or 0 if it is none of them. */
int tidu_changeset_entity_code(const char *name);

/* ---- body ----------------------------------------------------------------- */

/*
 * One field of a change. `field` is a dictionary key (1..TIDU_CHANGESET_MAX_NAME
 * bytes of a-z, 0-9, '_'); `value` is the canonical text, NULL to clear the
 * field; `base` is the "hlc:device" of the value this one replaced, or ""
 * (or NULL, read as "") if none.
 */
typedef struct {
	const char *field;
	const char *value;
	const char *base;
} tidu_changeset_field;

/*
 * One change: one write of one entity by the file's device. `hlc` must be
 * 1..INT64_MAX and strictly increase from one change of a body to the next.
 * `wall` is the device's wall clock in ms (kept for audit, any value).
 */
typedef struct {
	int entity; /* TIDU_CHANGESET_FIRM, ... */
	const char *key;
	uint64_t hlc;
	int64_t wall;
	const tidu_changeset_field *fields;
	size_t nfields; /* 1..TIDU_CHANGESET_MAX_FIELDS, field names distinct */
} tidu_changeset_change;

/*
 * Appends the encoding of `c` to `body`. Fields may come in any order (they
 * are stored sorted by name). Strings must be valid UTF-8 and within the
 * caps. TIDU_EINVAL, with `body` unchanged, if `c` breaks a rule above;
 * the order of HLCs across changes is checked by tidu_changeset_seal().
 */
int tidu_changeset_body_add(tidu_buf *body, const tidu_changeset_change *c) TIDU_WUR;

/*
 * Reads the changes of a body, checking every one. The reader copies the
 * strings of the current change into memory of its own: the change given
 * by tidu_changeset_reader_next() (its strings and its `fields` array) stays valid
 * until the next call of tidu_changeset_reader_next() or tidu_changeset_reader_free().
 * The reader reads the body as it goes: keep the body until it is freed.
 * The members are private.
 */
typedef struct {
	const unsigned char *pos, *end;
	uint64_t last_hlc;
	uint64_t index;
	const char *error;
	tidu_buf text;
	tidu_changeset_field *fields;
	size_t fields_cap;
} tidu_changeset_reader;

/* Starts reading the `len` bytes of `body` (which must outlive the reader). */
void tidu_changeset_reader_init(tidu_changeset_reader *r, const void *body, size_t len);

/*
 * Decodes the next change into `*out`: returns 1, or 0 at the end of the
 * body, or TIDU_ECORRUPT if the body is malformed there (and from then on).
 */
int tidu_changeset_reader_next(tidu_changeset_reader *r, tidu_changeset_change *out) TIDU_WUR;

/* Releases the reader's memory. The reader may be initialized again. */
void tidu_changeset_reader_free(tidu_changeset_reader *r);

/* ---- files ---------------------------------------------------------------- */

/* The clear header of a file, as read back. */
typedef struct {
	uint16_t version;                        /* TIDU_CHANGESET_FORMAT */
	char district[TIDU_CHANGESET_MAX_DISTRICT + 1]; /* NUL-terminated */
	char device[TIDU_CHANGESET_DEVICE_LEN + 1];     /* NUL-terminated */
	uint64_t seq;                            /* 1, 2, ... per device */
	unsigned char prev[TIDU_CHANGESET_HASH_BYTES];  /* zero when seq is 1 */
	uint64_t hlc_min, hlc_max;               /* of the first, last change */
	uint32_t count;                          /* changes */
	uint64_t body_size;                      /* body bytes, uncompressed */
	uint16_t nrecipients;
} tidu_changeset_header;

/* Who writes a file: the caller's part of the header. */
typedef struct {
	const char *district; /* 1..16 bytes of A-Z, a-z, 0-9, '-', '_' */
	const char *device;   /* 16 lower-case hex characters */
	uint64_t seq;         /* 1 for the device's first file, then +1 */
	unsigned char prev[TIDU_CHANGESET_HASH_BYTES]; /* tidu_changeset_hash() of file seq-1;
						   all zero when seq is 1 */
} tidu_changeset_origin;

/* An X25519 key pair a reader holds (a district or city read key). */
typedef struct {
	unsigned char pk[TIDU_CHANGESET_BOX_PK_BYTES];
	unsigned char sk[TIDU_CHANGESET_BOX_SK_BYTES];
} tidu_changeset_keypair;

/*
 * Seals `body` (made with tidu_changeset_body_add(), 1 change at least, at most
 * TIDU_CHANGESET_MAX_BODY bytes) into a new change-set file written to `file_out`
 * (its contents are replaced; emptied on failure). The header's count, HLC
 * range and body size are taken from the body, which is checked in full.
 * The body is signed with `sign_sk` and readable by the holders of the
 * secret keys of `recipient_pks` (1..TIDU_CHANGESET_MAX_RECIPIENTS X25519 public
 * keys; repeated keys are listed once). Writes the header to `*h_out`
 * unless it is NULL. Errors: TIDU_EINVAL for a bad origin, body, key or
 * recipient count (the message says which).
 */
int tidu_changeset_seal(const tidu_changeset_origin *origin, const tidu_buf *body,
		 const unsigned char sign_sk[TIDU_CHANGESET_SIGN_SK_BYTES],
		 const unsigned char (*recipient_pks)[TIDU_CHANGESET_BOX_PK_BYTES],
		 size_t nrecipients, tidu_buf *file_out,
		 tidu_changeset_header *h_out) TIDU_WUR;

/*
 * Reads and checks the clear header of the `len` bytes of `file`, without
 * any key: for routing, hash chains and replay checks. Checks the whole
 * outer structure (lengths, recipient list, caps), not the contents, which
 * only tidu_changeset_open() authenticates: a header read here may be forged.
 * `name` is how messages refer to the file (e.g. its path in the
 * repository). `*out` is zeroed on failure. Errors: TIDU_ECORRUPT,
 * TIDU_EINVAL for a newer format.
 */
int tidu_changeset_read_header(const unsigned char *file, size_t len, const char *name,
			tidu_changeset_header *out) TIDU_WUR;

/*
 * Opens a file: finds the file key sealed to one of the reader's `keys`,
 * decrypts, verifies the signature with `sign_pk` (the public key of the
 * device named in the header, from the keyring: the caller looks it up with
 * tidu_changeset_read_header() first), inflates the body (never more than the
 * header's body size) and checks every change of it against the header.
 * On success writes the header to `*h_out` and the body to `body_out` (its
 * contents are replaced; it is emptied on failure), ready for a
 * tidu_changeset_reader that cannot fail on it.
 * Errors: TIDU_ENOTFOUND "not readable by this store" when no key of the
 * reader is a recipient; TIDU_ECORRUPT when the file is damaged, tampered
 * with or signed by another key; TIDU_EINVAL for a newer format.
 */
int tidu_changeset_open(const unsigned char *file, size_t len, const char *name,
		 const tidu_changeset_keypair *keys, size_t nkeys,
		 const unsigned char sign_pk[TIDU_CHANGESET_SIGN_PK_BYTES],
		 tidu_changeset_header *h_out, tidu_buf *body_out) TIDU_WUR;

/* The file's hash for the device's chain: BLAKE2b-256 of all its bytes. */
void tidu_changeset_hash(const unsigned char *file, size_t len,
		  unsigned char out[TIDU_CHANGESET_HASH_BYTES]);

#endif
