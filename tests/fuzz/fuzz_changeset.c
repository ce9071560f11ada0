/*
 * Fuzz target for change-set files and bodies (changeset.h).
 *
 * Every input is tried five ways:
 *  1. as a file: tidu_changeset_read_header(), then tidu_changeset_open() with fixed test
 *     keys (cs_craft.h), so that the corpus's real files reach the
 *     decryption and the body checks;
 *  2. as a body: every change read with a tidu_changeset_reader;
 *  3. when it is a valid body: sealed with tidu_changeset_seal() and opened again,
 *     which must give back the same bytes and header;
 *  4. as a zlib stream behind a valid encryption and signature (written by
 *     cs_craft.h): bytes 0-1 give the claimed body size (+ 24), byte 2 the
 *     change count (1 + b % 4), byte 3 the HLC spread; the rest is the
 *     stream. The AEAD stops random files early; this way the inflate caps
 *     and the body-against-header checks see arbitrary data;
 *  5. when it is not a valid body: compressed and sealed the same way with
 *     a plausible header, which tidu_changeset_open() must refuse.
 * A broken invariant aborts. Built by tests/CMakeLists.txt with libFuzzer
 * (TIDU_FUZZ=ON, clang) and as a corpus replay under ctest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include <zlib.h>

#include "tidu/buf.h"
#include "tidu/changeset.h"
#include "tidu/error.h"

#include "cs_craft.h"

#define FUZZ_MAX_INPUT (1u << 20)

static craft_keys K;
static tidu_changeset_keypair readers[2]; /* other (not a recipient), district */
static unsigned char file_key[32];
static tidu_buf rcpt;              /* file key sealed to district and city */

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_changeset: %s (%s)\n", what, tidu_error_message());
		abort();
	}
}

static void setup(void)
{
	static int ready;
	unsigned char pks[2][32];

	if (ready)
		return;
	check(craft_make_keys(&K) == 0, "sodium_init");
	memcpy(readers[0].pk, K.other_pk, 32);
	memcpy(readers[0].sk, K.other_sk, 32);
	memcpy(readers[1].pk, K.district_pk, 32);
	memcpy(readers[1].sk, K.district_sk, 32);
	memcpy(pks[0], K.district_pk, 32);
	memcpy(pks[1], K.city_pk, 32);
	memset(file_key, 0x5A, sizeof(file_key));
	craft_recipients(&rcpt, file_key, (const unsigned char (*)[32])pks, 2);
	ready = 1;
}

static int same_header(const tidu_changeset_header *a, const tidu_changeset_header *b)
{
	return a->version == b->version && strcmp(a->district, b->district) == 0 &&
	       strcmp(a->device, b->device) == 0 && a->seq == b->seq &&
	       memcmp(a->prev, b->prev, 32) == 0 && a->hlc_min == b->hlc_min &&
	       a->hlc_max == b->hlc_max && a->count == b->count &&
	       a->body_size == b->body_size && a->nrecipients == b->nrecipients;
}

/* Reads a body through; returns the number of changes or a negative code.
 * Checks what the reader promises about each change. */
static long read_body(const unsigned char *body, size_t len, uint64_t *hlc_min,
		      uint64_t *hlc_max)
{
	tidu_changeset_reader r;
	tidu_changeset_change c;
	long n = 0;
	int rc;

	tidu_changeset_reader_init(&r, body, len);
	while ((rc = tidu_changeset_reader_next(&r, &c)) > 0) {
		size_t i;

		check(tidu_changeset_entity_name(c.entity) != NULL, "entity");
		check(c.key && *c.key && c.nfields >= 1 &&
		      c.nfields <= TIDU_CHANGESET_MAX_FIELDS, "change");
		check(c.hlc > *hlc_max || n == 0, "hlc order");
		for (i = 0; i < c.nfields; i++) {
			check(c.fields[i].field && c.fields[i].base, "field");
			check(i == 0 || strcmp(c.fields[i - 1].field, c.fields[i].field) < 0,
			      "field order");
		}
		if (n++ == 0)
			*hlc_min = c.hlc;
		*hlc_max = c.hlc;
	}
	check(tidu_changeset_reader_next(&r, &c) == rc, "reader stays at its end");
	tidu_changeset_reader_free(&r);
	return rc < 0 ? rc : n;
}

/* 1. The input as a file. */
static void as_file(const uint8_t *data, size_t size)
{
	tidu_buf body = TIDU_BUF_INIT;
	tidu_changeset_header h, h2;
	uint64_t lo = 0, hi = 0;
	int rc;

	rc = tidu_changeset_read_header(data, size, "fuzz", &h);
	check(rc == 0 || rc == TIDU_ECORRUPT || rc == TIDU_EINVAL, "read_header code");
	rc = tidu_changeset_open(data, size, "fuzz", readers, 2, K.sign_pk, &h2, &body);
	check(rc == 0 || rc == TIDU_ECORRUPT || rc == TIDU_EINVAL || rc == TIDU_ENOTFOUND,
	      "open code");
	if (rc == 0) {
		check(same_header(&h, &h2), "open and read_header agree");
		check(body.len == h2.body_size, "body size");
		check(read_body((const unsigned char *)body.ptr, body.len, &lo, &hi) ==
			      (long)h2.count && lo == h2.hlc_min && hi == h2.hlc_max,
		      "an opened body reads");
	} else {
		check(body.len == 0, "no body on failure");
	}
	tidu_buf_free(&body);
}

/* 3. A valid body, sealed and opened again. */
static void round_trip(const uint8_t *data, size_t size, uint32_t count,
		       uint64_t lo, uint64_t hi)
{
	tidu_buf body = TIDU_BUF_INIT, file = TIDU_BUF_INIT, out = TIDU_BUF_INIT;
	tidu_changeset_header sealed, read, opened;
	tidu_changeset_origin o;
	const unsigned char (*pks)[32] = (const unsigned char (*)[32])K.district_pk;

	memset(&o, 0, sizeof(o));
	o.district = "410102";
	o.device = "0123456789abcdef";
	o.seq = 1;
	tidu_buf_put(&body, data, size);
	check(tidu_changeset_seal(&o, &body, K.sign_sk, pks, 1, &file, &sealed) == 0, "seal");
	check(sealed.count == count && sealed.hlc_min == lo && sealed.hlc_max == hi &&
	      sealed.body_size == size, "sealed header");
	check(tidu_changeset_read_header((const unsigned char *)file.ptr, file.len, "rt",
				  &read) == 0 && same_header(&read, &sealed),
	      "read back the header");
	check(tidu_changeset_open((const unsigned char *)file.ptr, file.len, "rt", readers, 2,
			   K.sign_pk, &opened, &out) == 0, "open what was sealed");
	check(same_header(&opened, &sealed) && out.len == size &&
	      memcmp(out.ptr, data, size) == 0, "round trip");
	tidu_buf_free(&body);
	tidu_buf_free(&file);
	tidu_buf_free(&out);
}

/* 5. An invalid body, compressed, behind a valid encryption and signature
 * and a plausible header: the body checks after decryption must refuse it. */
static void invalid_body_sealed(const uint8_t *data, size_t size)
{
	tidu_buf file = TIDU_BUF_INIT, body = TIDU_BUF_INIT;
	unsigned char hdr[CRAFT_HDR_LEN], *z;
	uLongf zlen = compressBound((uLong)size);
	craft_header ch;
	tidu_changeset_header h;
	int rc;

	if (size < 24)
		return;
	z = malloc(zlen);
	check(z && compress2(z, &zlen, data, (uLong)size, 1) == Z_OK, "compress2");
	memset(&ch, 0, sizeof(ch));
	ch.version = 1;
	ch.district = "410102";
	ch.device = "0123456789abcdef";
	ch.seq = 1;
	ch.body_size = size;
	ch.count = 1;
	ch.hlc_min = ch.hlc_max = 1;
	craft_encode_header(hdr, &ch);
	craft_file(&file, hdr, (const unsigned char *)rcpt.ptr, rcpt.len, file_key,
		   z, zlen, K.sign_sk);
	rc = tidu_changeset_open((const unsigned char *)file.ptr, file.len, "invalid", readers,
			  2, K.sign_pk, &h, &body);
	check(rc == TIDU_ECORRUPT && body.len == 0, "an invalid body is refused");
	free(z);
	tidu_buf_free(&file);
	tidu_buf_free(&body);
}

/* 4. The input as a zlib stream behind a valid encryption and signature. */
static void as_stream(const uint8_t *data, size_t size)
{
	tidu_buf file = TIDU_BUF_INIT, body = TIDU_BUF_INIT;
	unsigned char hdr[CRAFT_HDR_LEN];
	craft_header ch;
	tidu_changeset_header h;
	int rc;

	if (size < 4)
		return;
	memset(&ch, 0, sizeof(ch));
	ch.version = 1;
	ch.district = "410102";
	ch.device = "0123456789abcdef";
	ch.seq = 1;
	ch.body_size = 24 + ((uint64_t)data[0] | (uint64_t)data[1] << 8);
	ch.count = 1 + data[2] % 4;
	ch.hlc_min = 1;
	ch.hlc_max = 1 + (ch.count - 1) + data[3];
	craft_encode_header(hdr, &ch);
	craft_file(&file, hdr, (const unsigned char *)rcpt.ptr, rcpt.len, file_key,
		   data + 4, size - 4, K.sign_sk);
	rc = tidu_changeset_open((const unsigned char *)file.ptr, file.len, "stream", readers, 2,
			  K.sign_pk, &h, &body);
	check(rc == 0 || rc == TIDU_ECORRUPT, "stream code");
	if (rc == 0)
		check(body.len == ch.body_size && h.count == ch.count, "stream body");
	else
		check(body.len == 0, "no body on failure");
	tidu_buf_free(&file);
	tidu_buf_free(&body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t lo = 0, hi = 0;
	long n;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	setup();
	as_file(data, size);
	n = read_body(data, size, &lo, &hi);
	check(n >= 0 || n == TIDU_ECORRUPT, "reader code");
	if (n > 0)
		round_trip(data, size, (uint32_t)n, lo, hi);
	else if (n < 0)
		invalid_body_sealed(data, size);
	as_stream(data, size);
	tidu_error_clear();
	return 0;
}
