#ifndef TIDU_CHANGESET_CRAFT_H
#define TIDU_CHANGESET_CRAFT_H
/*
 * Test helpers for change-set files, shared by tests/unit/test_changeset.c,
 * the fuzz target and the corpus generator.
 *
 * - Fixed test keys, derived from fixed seeds, so that corpus files sealed
 *   once stay openable by the fuzz target.
 * - A second, independent writer of the format of docs/formats.md, which
 *   skips every check of tidu_changeset_seal(): it makes the files seal() refuses
 *   to make (headers that lie about the body, decompression bombs, bodies
 *   that break the rules) but are still properly encrypted and signed, so
 *   that they get past the AEAD and the signature into the checks behind
 *   them. It also checks the documentation: files it writes from the
 *   documented layout must open.
 * Test code only: it uses a zero nonce.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tidu/buf.h"
#include "tidu/changeset.h"

#define CRAFT_HDR_LEN 112
#define CRAFT_RCPT_LEN 88

typedef struct {
	unsigned char district_pk[32], district_sk[32];
	unsigned char city_pk[32], city_sk[32];
	unsigned char other_pk[32], other_sk[32];
	unsigned char sign_pk[32], sign_sk[64];   /* the device's */
	unsigned char other_sign_pk[32], other_sign_sk[64];
} craft_keys;

static inline void craft_seed(unsigned char seed[32], const char *label)
{
	crypto_generichash(seed, 32, (const unsigned char *)label, strlen(label),
			   NULL, 0);
}

static inline int craft_make_keys(craft_keys *k)
{
	unsigned char seed[32];

	if (sodium_init() < 0)
		return -1;
	craft_seed(seed, "tidu-test-district-key");
	crypto_box_seed_keypair(k->district_pk, k->district_sk, seed);
	craft_seed(seed, "tidu-test-city-key");
	crypto_box_seed_keypair(k->city_pk, k->city_sk, seed);
	craft_seed(seed, "tidu-test-other-key");
	crypto_box_seed_keypair(k->other_pk, k->other_sk, seed);
	craft_seed(seed, "tidu-test-device-sign-key");
	crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed);
	craft_seed(seed, "tidu-test-other-sign-key");
	crypto_sign_seed_keypair(k->other_sign_pk, k->other_sign_sk, seed);
	return 0;
}

static inline void craft_le(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The header fields, written as given (no checks). */
typedef struct {
	unsigned version;
	unsigned header_length; /* 0: 112 */
	const char *district, *device;
	uint64_t seq;
	const unsigned char *prev; /* NULL: zero */
	uint64_t hlc_min, hlc_max;
	uint32_t count;
	uint64_t body_size;
} craft_header;

static inline void craft_encode_header(unsigned char out[CRAFT_HDR_LEN],
				       const craft_header *h)
{
	static const unsigned char magic[8] = { 'T', 'I', 'D', 'U', 'C', 'S', 0, 1 };
	size_t dl = strlen(h->district), vl = strlen(h->device);

	memset(out, 0, CRAFT_HDR_LEN);
	memcpy(out, magic, 8);
	craft_le(out + 8, h->version, 2);
	craft_le(out + 10, h->header_length ? h->header_length : CRAFT_HDR_LEN, 2);
	craft_le(out + 12, h->count, 4);
	craft_le(out + 16, h->seq, 8);
	craft_le(out + 24, h->hlc_min, 8);
	craft_le(out + 32, h->hlc_max, 8);
	craft_le(out + 40, h->body_size, 8);
	memcpy(out + 48, h->device, vl > 16 ? 16 : vl);
	memcpy(out + 64, h->district, dl > 16 ? 16 : dl);
	if (h->prev)
		memcpy(out + 80, h->prev, 32);
}

/* Recipient count and list: the file key sealed to each of `pks`. */
static inline void craft_recipients(tidu_buf *out, const unsigned char key[32],
				    const unsigned char (*pks)[32], size_t n)
{
	unsigned char num[2], entry[CRAFT_RCPT_LEN], h[32];
	size_t i;

	craft_le(num, n, 2);
	tidu_buf_put(out, num, 2);
	for (i = 0; i < n; i++) {
		crypto_generichash(h, 32, pks[i], 32, NULL, 0);
		memcpy(entry, h, 8);
		crypto_box_seal(entry + 8, key, 32, pks[i]);
		tidu_buf_put(out, entry, sizeof(entry));
	}
}

/*
 * Appends to `out` the file: header, recipients (as made by
 * craft_recipients), nonce, and the encryption with `key` of the signature
 * by `sign_sk` and the `zlen` bytes of `z` (taken as the zlib stream).
 */
static inline void craft_file(tidu_buf *out, const unsigned char hdr[CRAFT_HDR_LEN],
			      const unsigned char *rcpt, size_t rcpt_len,
			      const unsigned char key[32], const unsigned char *z,
			      size_t zlen, const unsigned char sign_sk[64])
{
	static const char domain[] = "tidu-changeset-v1";
	unsigned char nonce[24] = {0};
	unsigned char *msg, *pt;
	unsigned long long clen;
	size_t start = out->len, plen = 17 + CRAFT_HDR_LEN;

	msg = malloc(plen + zlen + 1);
	memcpy(msg, domain, 17);
	memcpy(msg + 17, hdr, CRAFT_HDR_LEN);
	if (zlen)
		memcpy(msg + plen, z, zlen);
	pt = malloc(64 + zlen + 1);
	crypto_sign_detached(pt, NULL, msg, plen + zlen, sign_sk);
	if (zlen)
		memcpy(pt + 64, z, zlen);
	tidu_buf_put(out, hdr, CRAFT_HDR_LEN);
	tidu_buf_put(out, rcpt, rcpt_len);
	tidu_buf_put(out, nonce, 24);
	tidu_buf_grow(out, 64 + zlen + 16);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		(unsigned char *)out->ptr + out->len, &clen, pt, 64 + zlen,
		(const unsigned char *)out->ptr + start, CRAFT_HDR_LEN + rcpt_len,
		NULL, nonce, key);
	out->len += (size_t)clen;
	out->ptr[out->len] = '\0';
	free(msg);
	free(pt);
}

#endif
