/*
 * Writes the seed corpus of fuzz_changeset.c:
 *
 *	gen_changeset DIR
 *
 * into DIR (which must exist): change-set files sealed with the fixed test
 * keys of cs_craft.h (one for the district and the city, one in a chain,
 * one for the city only, one of a newer format), raw bodies, and "stream"
 * inputs (4 parameter bytes and a zlib stream, see fuzz_changeset.c), one
 * of them a small decompression bomb. Files sealed anew differ in their
 * random bytes; the corpus in the repository was made once with this.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "tidu/buf.h"
#include "tidu/changeset.h"

#include "cs_craft.h"

static const char *dir;
static craft_keys K;

static void die(const char *what)
{
	fprintf(stderr, "gen_changeset: %s\n", what);
	exit(1);
}

static void save(const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die(path);
}

static void add(tidu_buf *body, int entity, const char *key, uint64_t hlc,
		int64_t wall, const tidu_changeset_field *f, size_t n)
{
	tidu_changeset_change c = { entity, key, hlc, wall, f, n };

	if (tidu_changeset_body_add(body, &c) != 0)
		die("tidu_changeset_body_add");
}

static void seal(tidu_buf *out, const tidu_buf *body, uint64_t seq,
		 const unsigned char *prev, int city_only)
{
	unsigned char pks[2][32];
	tidu_changeset_origin o;

	memset(&o, 0, sizeof(o));
	o.district = "410102";
	o.device = "0123456789abcdef";
	o.seq = seq;
	if (prev)
		memcpy(o.prev, prev, 32);
	memcpy(pks[0], city_only ? K.city_pk : K.district_pk, 32);
	memcpy(pks[1], K.city_pk, 32);
	if (tidu_changeset_seal(&o, body, K.sign_sk, (const unsigned char (*)[32])pks,
			 city_only ? 1 : 2, out, NULL) != 0)
		die("tidu_changeset_seal");
}

/* A "stream" input: parameters so that the header matches `body` (whose
 * HLCs must start at 1), then its zlib stream. */
static void save_stream(const char *name, const tidu_buf *body, unsigned count,
			uint64_t hlc_max, size_t claim)
{
	unsigned char *z;
	uLongf zlen = compressBound((uLong)body->len);

	z = malloc(4 + zlen);
	if (!z || claim < 24 || claim - 24 > 0xFFFF || count < 1 || count > 4 ||
	    hlc_max - count > 0xFF)
		die("stream parameters");
	z[0] = (unsigned char)(claim - 24);
	z[1] = (unsigned char)((claim - 24) >> 8);
	z[2] = (unsigned char)(count - 1);
	z[3] = (unsigned char)(hlc_max - count);
	if (compress2(z + 4, &zlen, (const Bytef *)body->ptr, (uLong)body->len, 9) != Z_OK)
		die("compress2");
	save(name, z, 4 + zlen);
	free(z);
}

int main(int argc, char **argv)
{
	tidu_buf b1 = TIDU_BUF_INIT, b2 = TIDU_BUF_INIT, b3 = TIDU_BUF_INIT,
		 f = TIDU_BUF_INIT, zeros = TIDU_BUF_INIT;
	unsigned char h1[32];
	tidu_changeset_field many[40];
	char names[40][8], values[40][32];
	size_t i;
	tidu_changeset_field firm[] = {
		{ "name", "郑州示例精密制造有限公司", "" },
		{ "district", "410102", "" },
		{ "address", NULL, "1717000000000000:fedcba9876543210" },
		{ "employees", "120", "" },
	};
	tidu_changeset_field year[] = {
		{ "revenue", "12345.6", "" },
		{ "rd_expense", "", "3:0123456789abcdef" },
	};
	tidu_changeset_field visit[] = {
		{ "needs", "融资；人才。\n第二行\t😀", "" },
		{ "uscc", "91410100MA44XXXX1X", "" },
		{ "_deleted", "0", "" },
	};

	if (argc != 2)
		die("usage: gen_changeset DIR");
	dir = argv[1];
	if (craft_make_keys(&K) != 0)
		die("sodium_init");

	add(&b1, TIDU_CHANGESET_FIRM, "91410100MA44XXXX1X", 1, 1717000000000, firm, 4);
	add(&b1, TIDU_CHANGESET_FIRM_YEAR, "91410100MA44XXXX1X/2024", 2, 1717000000001, year, 2);
	for (i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "f%02zu", i);
		snprintf(values[i], sizeof(values[i]), "值 %zu", i * 37);
		many[i].field = names[i];
		many[i].value = i % 4 == 3 ? NULL : values[i];
		many[i].base = i % 2 ? "" : "7:0123456789abcdef";
	}
	add(&b2, TIDU_CHANGESET_VISIT, "0190b1c2-7d3e-7abc-8def-0123456789ab", 1, -1, visit, 3);
	add(&b2, TIDU_CHANGESET_FIRM, "91410100MA44XXXX1X", 2, 0, many, 40);
	add(&b2, TIDU_CHANGESET_FIRM, "k", 9, INT64_MAX, firm + 2, 1);
	add(&b3, TIDU_CHANGESET_FIRM, "k", 1, 0, firm + 2, 1);

	save("body-01-two-changes", b1.ptr, b1.len);
	save("body-02-many-fields", b2.ptr, b2.len);
	save("body-03-minimal", b3.ptr, b3.len);

	seal(&f, &b1, 1, NULL, 0);
	save("file-01-first.tcs", f.ptr, f.len);
	tidu_changeset_hash((const unsigned char *)f.ptr, f.len, h1);
	f.ptr[8] = 2; /* a newer format */
	save("file-04-newer.tcs", f.ptr, f.len);
	seal(&f, &b2, 2, h1, 0);
	save("file-02-chained.tcs", f.ptr, f.len);
	seal(&f, &b3, 3, h1, 1);
	save("file-03-city-only.tcs", f.ptr, f.len);

	save_stream("stream-01-two-changes", &b1, 2, 2, b1.len);
	save_stream("stream-02-many-fields", &b2, 3, 9, b2.len);
	save_stream("stream-03-short-claim", &b2, 3, 9, b2.len - 1);
	tidu_buf_grow(&zeros, 100000);
	memset(zeros.ptr, 0, 100000);
	zeros.len = 100000;
	save_stream("stream-04-bomb", &zeros, 1, 1, 124);

	tidu_buf_free(&b1);
	tidu_buf_free(&b2);
	tidu_buf_free(&b3);
	tidu_buf_free(&f);
	tidu_buf_free(&zeros);
	return 0;
}
