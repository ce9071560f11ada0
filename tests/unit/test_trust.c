/* Unit tests: trust.h (device keys, enrollment, keyring, revocation). */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "helpers.h"
#include "tidu/alloc.h"
#include "tidu/json.h"
#include "tidu/home.h"
#include "tidu/keyfile.h"
#include "tidu/store.h"
#include "tidu/trust.h"

#define PASS "unit test passphrase"
#define CITY "410100"
#define JINSHUI "410105"
#define ZHONGYUAN "410102"

typedef struct {
	char root[64];
	tidu_store *city, *a, *b, *c; /* a, b in 410105; c in 410102 */
} fixture;

static tidu_store *make_store(const char *root, const char *name,
			      const char *district, const char *role)
{
	char recovery[TIDU_RECOVERY_TEXT_MAX], dir[128];
	tidu_store_identity id = {district, "王芳", role};
	tidu_store *s = NULL;

	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	assert_int_equal(tidu_home_create(&s, dir, &id, PASS, strlen(PASS), NULL, NULL,
					  recovery, sizeof(recovery)), 0);
	assert_int_equal(tidu_trust_ensure_keys(s), 0);
	return s;
}

static int setup(void **state)
{
	fixture *f = tidu_calloc(1, sizeof(*f));

	snprintf(f->root, sizeof(f->root), "/tmp/tidu-trust.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	f->city = make_store(f->root, "city", CITY, "city");
	f->a = make_store(f->root, "a", JINSHUI, "officer");
	f->b = make_store(f->root, "b", JINSHUI, "district");
	f->c = make_store(f->root, "c", ZHONGYUAN, "officer");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	tidu_store_free(f->city);
	tidu_store_free(f->a);
	tidu_store_free(f->b);
	tidu_store_free(f->c);
	th_rmtree(f->root);
	free(f);
	return 0;
}

/* Enrolls `dev` on the city (request -> admit). */
static void enroll(tidu_store *city, tidu_store *dev)
{
	tidu_buf req = TIDU_BUF_INIT;
	tidu_trust_request info;

	assert_int_equal(tidu_trust_enroll_request(dev, &req), 0);
	assert_int_equal(tidu_trust_admit(city, req.ptr, req.len, &info, 1), 0);
	assert_string_equal(info.device, tidu_store_device(dev));
	tidu_buf_free(&req);
}

static void export_to(tidu_store *city, tidu_buf *doc)
{
	tidu_buf_clear(doc);
	assert_int_equal(tidu_trust_keyring_export(city, doc), 0);
}

static int import(tidu_store *s, const tidu_buf *doc, tidu_trust_import *info)
{
	return tidu_trust_keyring_import(s, doc->ptr, doc->len, info);
}

/* 1 if `s` holds the secret read key of district/epoch. */
static int holds(tidu_store *s, const char *district, int64_t epoch)
{
	tidu_trust_keypair *kps;
	size_t n, i;
	int found = 0;

	assert_int_equal(tidu_trust_reader_keys(s, &kps, &n), 0);
	for (i = 0; i < n; i++)
		if (!strcmp(kps[i].district, district) && kps[i].epoch == epoch)
			found = 1;
	tidu_trust_keypairs_free(kps, n);
	return found;
}

/* Seals a message to `pk` and checks that some reader key of `s` opens it. */
static int can_open(tidu_store *s, const unsigned char pk[32])
{
	unsigned char msg[5] = "hello", sealed[crypto_box_SEALBYTES + 5], out[5];
	tidu_trust_keypair *kps;
	size_t n, i;
	int ok = 0;

	assert_int_equal(crypto_box_seal(sealed, msg, sizeof(msg), pk), 0);
	assert_int_equal(tidu_trust_reader_keys(s, &kps, &n), 0);
	for (i = 0; i < n; i++)
		if (crypto_box_seal_open(out, sealed, sizeof(sealed), kps[i].pk,
				 kps[i].sk) == 0 &&
		    !memcmp(out, msg, sizeof(msg)))
			ok = 1;
	tidu_trust_keypairs_free(kps, n);
	return ok;
}

/* Replaces the first occurrence of `from` by `to` in a document. */
static void replace(tidu_buf *doc, const char *from, const char *to)
{
	tidu_buf out = TIDU_BUF_INIT;
	const char *p = strstr(doc->ptr, from);

	assert_non_null(p);
	tidu_buf_put(&out, doc->ptr, (size_t)(p - doc->ptr));
	tidu_buf_puts(&out, to);
	tidu_buf_puts(&out, p + strlen(from));
	tidu_buf_free(doc);
	*doc = out;
}

/* An independent fingerprint: BLAKE2b, then 100 bits in base32. */
static void reference_fp(const unsigned char sign[32], const unsigned char box[32],
			 char out[25])
{
	static const char abc[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	unsigned char in[64], h[32];
	int bits[100], i, j, o = 0;

	memcpy(in, sign, 32);
	memcpy(in + 32, box, 32);
	crypto_generichash(h, 32, in, 64, (const unsigned char *)"tidu-fingerprint-v1", 19);
	for (i = 0; i < 100; i++)
		bits[i] = h[i / 8] >> (7 - i % 8) & 1;
	for (i = 0; i < 20; i++) {
		int v = 0;

		for (j = 0; j < 5; j++)
			v = v << 1 | bits[i * 5 + j];
		if (i && i % 4 == 0)
			out[o++] = '-';
		out[o++] = abc[v];
	}
	out[o] = '\0';
}

static void test_keys_are_made_once(void **state)
{
	fixture *f = *state;
	tidu_trust_id id1, id2;
	unsigned char sk[64], pk[32];
	tidu_trust_device d;
	tidu_store *again = NULL;
	char dir[128];

	assert_int_equal(tidu_trust_identity(f->a, &id1), 0);
	assert_int_equal(tidu_trust_ensure_keys(f->a), 0);
	assert_int_equal(tidu_trust_ensure_keys(f->a), 0);
	assert_int_equal(th_scalar(f->a, "SELECT count(*) FROM secret"), 4);
	assert_int_equal(tidu_trust_identity(f->a, &id2), 0);
	assert_string_equal(id1.fingerprint, id2.fingerprint);
	assert_string_equal(id1.device, tidu_store_device(f->a));
	assert_string_equal(id1.district, JINSHUI);
	assert_string_equal(id1.role, "officer");
	assert_false(id1.city_pinned);
	assert_false(id1.enrolled);
	assert_int_equal(id1.keyring_version, 0);

	/* The same keys after closing and opening the store again. */
	snprintf(dir, sizeof(dir), "%s/a", f->root);
	tidu_store_free(f->a);
	assert_int_equal(tidu_home_open(&again, dir, PASS, strlen(PASS)), 0);
	f->a = again;
	assert_int_equal(tidu_trust_ensure_keys(f->a), 0);
	assert_int_equal(tidu_trust_identity(f->a, &id2), 0);
	assert_string_equal(id1.fingerprint, id2.fingerprint);

	/* The secret signing key belongs to the public key. */
	assert_int_equal(tidu_trust_sign_sk(f->a, sk), 0);
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	sodium_memzero(sk, sizeof(sk));
	{
		char fp[25];
		unsigned char box[32];
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(tidu_store_db(f->a),
			"SELECT value FROM secret WHERE name='box_pk'", -1, &st, NULL), 0);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		memcpy(box, sqlite3_column_blob(st, 0), 32);
		sqlite3_finalize(st);
		reference_fp(pk, box, fp);
		assert_string_equal(fp, id1.fingerprint);
	}

	/* The city: pinned to itself, listed as a device, a key per division. */
	assert_int_equal(tidu_trust_ensure_keys(f->city), 0);
	assert_int_equal(tidu_trust_identity(f->city, &id1), 0);
	assert_true(id1.city_pinned);
	assert_string_equal(id1.city_fingerprint, id1.fingerprint);
	assert_true(id1.enrolled);
	assert_int_equal(th_scalar(f->city, "SELECT count(*) FROM district_key WHERE epoch=1 "
				"AND sk IS NOT NULL"), 16);
	assert_int_equal(th_scalar(f->city, "SELECT count(*) FROM district_key"), 16);
	assert_int_equal(tidu_trust_device_lookup(f->city, tidu_store_device(f->city),
			 &d), 0);
	assert_string_equal(d.role, "city");

	/* Half a key set is damage, not a reason to make new keys. */
	assert_int_equal(sqlite3_exec(tidu_store_db(f->c),
		"DELETE FROM secret WHERE name='box_sk'", NULL, NULL, NULL), 0);
	assert_int_equal(tidu_trust_ensure_keys(f->c), TIDU_ECORRUPT);
}

static void test_fingerprint_format(void **state)
{
	fixture *f = *state;
	unsigned char zero[32] = {0}, ones[32];
	char fp[25], ref[25], parsed[25];
	tidu_trust_id id;
	size_t i;

	memset(ones, 0xff, sizeof(ones));
	tidu_trust_fingerprint(zero, ones, fp);
	reference_fp(zero, ones, ref);
	assert_string_equal(fp, ref);
	tidu_trust_fingerprint(ones, zero, ref);
	assert_string_not_equal(fp, ref);

	assert_int_equal(tidu_trust_identity(f->b, &id), 0);
	assert_int_equal(strlen(id.fingerprint), 24);
	for (i = 0; i < 24; i++) {
		if (i % 5 == 4)
			assert_int_equal(id.fingerprint[i], '-');
		else
			assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ",
					       id.fingerprint[i]));
	}

	/* Read back as typed. */
	assert_int_equal(tidu_trust_fingerprint_parse("k3f9 oqzd-4t8w-mx2a-7cpn",
			 parsed), 0);
	assert_string_equal(parsed, "K3F9-0QZD-4T8W-MX2A-7CPN");
	assert_int_equal(tidu_trust_fingerprint_parse("IL00-0000-0000-0000-0000",
			 parsed), 0);
	assert_string_equal(parsed, "1100-0000-0000-0000-0000");
	assert_int_equal(tidu_trust_fingerprint_parse("K3F9-0QZD-4T8W-MX2A-7CP", parsed),
			 TIDU_EINVAL);
	assert_int_equal(tidu_trust_fingerprint_parse("K3F9-0QZD-4T8W-MX2A-7CPNN", parsed),
			 TIDU_EINVAL);
	assert_int_equal(tidu_trust_fingerprint_parse("U3F9-0QZD-4T8W-MX2A-7CPN", parsed),
			 TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "fingerprint"));
	assert_int_equal(tidu_trust_fingerprint_parse("", parsed), TIDU_EINVAL);
}

static void test_request_verifies_tampered_rejected(void **state)
{
	fixture *f = *state;
	tidu_buf req = TIDU_BUF_INIT, flat = TIDU_BUF_INIT;
	tidu_trust_request info;
	tidu_trust_id id;
	size_t i;

	assert_int_equal(tidu_trust_identity(f->a, &id), 0);
	assert_int_equal(tidu_trust_enroll_request(f->a, &req), 0);
	assert_non_null(strstr(req.ptr, "\"format\": \"tidu-enroll-request\""));
	assert_null(strstr(req.ptr, "sign_sk"));
	assert_int_equal(tidu_trust_admit(f->city, req.ptr, req.len, &info, 0), 0);
	assert_string_equal(info.device, id.device);
	assert_string_equal(info.district, JINSHUI);
	assert_string_equal(info.role, "officer");
	assert_string_equal(info.officer, "王芳");
	assert_string_equal(info.fingerprint, id.fingerprint);
	assert_false(info.enrolled);
	/* Verifying changed nothing. */
	assert_int_equal(th_scalar(f->city, "SELECT count(*) FROM device WHERE role<>'city-desk'"), 1);

	/* Whitespace does not matter: the payload is signed in compact form. */
	for (i = 0; i < req.len; i++)
		if (req.ptr[i] != '\n')
			tidu_buf_putc(&flat, req.ptr[i]);
	assert_int_equal(tidu_trust_admit(f->city, flat.ptr, flat.len, NULL, 0), 0);

	/* A changed value, a changed signature: tampered. */
	tidu_buf_clear(&flat);
	tidu_buf_put(&flat, req.ptr, req.len);
	replace(&flat, "王芳", "李四");
	assert_int_equal(tidu_trust_admit(f->city, flat.ptr, flat.len, NULL, 0),
			 TIDU_ECORRUPT);
	assert_non_null(strstr(tidu_error_message(), id.device));
	tidu_buf_clear(&flat);
	tidu_buf_put(&flat, req.ptr, req.len);
	replace(&flat, "\"410105\"", "\"410102\"");
	assert_int_equal(tidu_trust_admit(f->city, flat.ptr, flat.len, NULL, 1),
			 TIDU_ECORRUPT);
	tidu_buf_clear(&flat);
	tidu_buf_put(&flat, req.ptr, req.len);
	{
		char *sig = strstr(flat.ptr, "\"signature\": \"") + 14;

		sig[3] = sig[3] == 'A' ? 'B' : 'A';
	}
	assert_int_equal(tidu_trust_admit(f->city, flat.ptr, flat.len, NULL, 0),
			 TIDU_ECORRUPT);

	/* Malformed: cut short, not JSON, another format. */
	assert_int_equal(tidu_trust_admit(f->city, req.ptr, req.len / 2, NULL, 0),
			 TIDU_EINVAL);
	assert_int_equal(tidu_trust_admit(f->city, "hello", 5, NULL, 0), TIDU_EINVAL);
	tidu_buf_clear(&flat);
	tidu_buf_put(&flat, req.ptr, req.len);
	replace(&flat, "tidu-enroll-request", "tidu-keyring");
	assert_int_equal(tidu_trust_admit(f->city, flat.ptr, flat.len, NULL, 0),
			 TIDU_EINVAL);

	/* Only the city admits. */
	assert_int_equal(tidu_trust_admit(f->b, req.ptr, req.len, NULL, 0), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "city"));
	assert_int_equal(th_scalar(f->city, "SELECT count(*) FROM device WHERE role<>'city-desk'"), 1);

	/* Admitted; again is no change. */
	assert_int_equal(tidu_trust_admit(f->city, req.ptr, req.len, &info, 1), 0);
	assert_false(info.enrolled);
	assert_int_equal(tidu_trust_admit(f->city, req.ptr, req.len, &info, 1), 0);
	assert_true(info.enrolled);
	assert_int_equal(th_scalar(f->city, "SELECT count(*) FROM device WHERE role<>'city-desk'"), 2);

	/* A city store cannot be enrolled elsewhere. */
	tidu_buf_clear(&req);
	assert_int_equal(tidu_trust_enroll_request(f->city, &req), 0);
	{
		tidu_store *city2 = make_store(f->root, "city2", CITY, "city");

		assert_int_equal(tidu_trust_admit(city2, req.ptr, req.len, NULL, 1),
				 TIDU_EINVAL);
		tidu_store_free(city2);
	}
	tidu_buf_free(&req);
	tidu_buf_free(&flat);
}

static void test_admit_export_import(void **state)
{
	fixture *f = *state;
	tidu_buf doc = TIDU_BUF_INIT;
	tidu_trust_import info;
	tidu_trust_device d;
	tidu_trust_id id, city_id;
	unsigned char pks[2][32];
	size_t n;

	enroll(f->city, f->a);
	enroll(f->city, f->c);
	export_to(f->city, &doc);
	assert_non_null(strstr(doc.ptr, "\"format\": \"tidu-keyring\""));
	assert_int_equal(th_scalar(f->city, "SELECT max(version) FROM keyring"), 1);

	assert_int_equal(import(f->a, &doc, &info), 0);
	assert_int_equal(info.version, 1);
	assert_true(info.pinned);
	assert_false(info.current);
	assert_true(info.enrolled);
	assert_false(info.revoked);
	assert_int_equal(info.devices,
			 3 + th_scalar(f->city, "SELECT count(*) FROM device WHERE role='city-desk'"));
	assert_int_equal(info.keys_new, 1);
	assert_int_equal(tidu_trust_identity(f->city, &city_id), 0);
	assert_string_equal(info.city_fingerprint, city_id.fingerprint);

	assert_int_equal(import(f->c, &doc, &info), 0);
	assert_int_equal(info.keys_new, 1);

	/* Each device holds its own district's key, and not the other's. */
	assert_true(holds(f->a, JINSHUI, 1));
	assert_false(holds(f->a, ZHONGYUAN, 1));
	assert_true(holds(f->c, ZHONGYUAN, 1));
	assert_false(holds(f->c, JINSHUI, 1));
	/* Public keys of every epoch are there, secrets only where granted. */
	assert_int_equal(th_scalar(f->a, "SELECT count(*) FROM district_key"), 16);
	assert_int_equal(th_scalar(f->a,
			 "SELECT count(*) FROM district_key WHERE sk IS NOT NULL"), 1);

	/* What A seals for its district: A, the city and not C can read it. */
	assert_int_equal(tidu_trust_recipients(f->a, JINSHUI, pks, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_true(can_open(f->a, pks[0]));
	assert_true(can_open(f->city, pks[0]));
	assert_false(can_open(f->c, pks[0]));
	assert_true(can_open(f->city, pks[1]));
	assert_false(can_open(f->a, pks[1]));
	/* Same recipients on the city. */
	{
		unsigned char cpks[2][32];

		assert_int_equal(tidu_trust_recipients(f->city, JINSHUI, cpks, 2, &n), 0);
		assert_memory_equal(cpks, pks, sizeof(pks));
	}

	/* Lookups of the keyring on a device. */
	assert_int_equal(tidu_trust_device_lookup(f->a, tidu_store_device(f->c), &d), 0);
	assert_string_equal(d.district, ZHONGYUAN);
	assert_false(d.revoked);
	assert_int_equal(tidu_trust_device_lookup(f->a, tidu_store_device(f->b), &d),
			 TIDU_ENOTFOUND);
	assert_int_equal(tidu_trust_device_lookup(f->a, tidu_store_device(f->city), &d), 0);
	assert_string_equal(d.role, "city");
	assert_int_equal(tidu_trust_identity(f->a, &id), 0);
	assert_true(id.enrolled);
	assert_true(id.city_pinned);
	assert_string_equal(id.city_fingerprint, city_id.fingerprint);
	assert_int_equal(id.keyring_version, 1);

	/* The same keyring again: no change. */
	assert_int_equal(import(f->a, &doc, &info), 0);
	assert_true(info.current);
	assert_false(info.pinned);
	assert_int_equal(th_scalar(f->a, "SELECT count(*) FROM keyring"), 1);
	/* The city accepts its own current keyring too. */
	assert_int_equal(import(f->city, &doc, &info), 0);
	assert_true(info.current);

	/* Export on a device: only the city. */
	tidu_buf_clear(&doc);
	assert_int_equal(tidu_trust_keyring_export(f->a, &doc), TIDU_EINVAL);
	assert_int_equal(doc.len, 0);
	tidu_buf_free(&doc);
}

static void test_recipients(void **state)
{
	fixture *f = *state;
	tidu_buf doc = TIDU_BUF_INIT;
	unsigned char pks[2][32];
	int64_t epoch;
	size_t n = 9;

	assert_int_equal(tidu_trust_recipients(f->a, JINSHUI, pks, 2, &n), TIDU_ENOTFOUND);
	assert_int_equal(n, 0);
	assert_non_null(strstr(tidu_error_message(), "not enrolled"));
	assert_non_null(strstr(tidu_error_message(), "keyring"));

	/* A keyring that does not list this device yet. */
	enroll(f->city, f->c);
	export_to(f->city, &doc);
	assert_int_equal(import(f->a, &doc, NULL), 0);
	assert_int_equal(tidu_trust_recipients(f->a, JINSHUI, pks, 2, &n), TIDU_ENOTFOUND);
	assert_non_null(strstr(tidu_error_message(), "enroll"));

	enroll(f->city, f->a);
	export_to(f->city, &doc);
	assert_int_equal(import(f->a, &doc, NULL), 0);
	assert_int_equal(tidu_trust_recipients(f->a, JINSHUI, pks, 1, &n), TIDU_EINVAL);
	assert_int_equal(tidu_trust_recipients(f->a, JINSHUI, pks, 2, &n), 0);
	assert_int_equal(n, 2);
	/* Any district of the keyring can be sealed to, by its public key. */
	assert_int_equal(tidu_trust_recipients(f->a, ZHONGYUAN, pks, 2, &n), 0);
	assert_false(can_open(f->a, pks[0]));
	assert_int_equal(tidu_trust_recipients(f->a, "999999", pks, 2, &n), TIDU_ENOTFOUND);
	assert_int_equal(tidu_trust_current_epoch(f->a, JINSHUI, &epoch), 0);
	assert_int_equal(epoch, 1);
	tidu_buf_free(&doc);
}

static void test_revoke_rotates(void **state)
{
	fixture *f = *state;
	tidu_buf doc = TIDU_BUF_INIT, req = TIDU_BUF_INIT;
	tidu_trust_import info;
	tidu_trust_device d;
	unsigned char pks[2][32];
	int64_t epoch;
	size_t n;

	enroll(f->city, f->a);
	enroll(f->city, f->b);
	enroll(f->city, f->c);
	export_to(f->city, &doc);
	assert_int_equal(import(f->a, &doc, NULL), 0);
	assert_int_equal(import(f->b, &doc, NULL), 0);
	assert_int_equal(import(f->c, &doc, NULL), 0);

	assert_int_equal(tidu_trust_revoke(f->city, tidu_store_device(f->b), 7), 0);
	assert_int_equal(tidu_trust_current_epoch(f->city, JINSHUI, &epoch), 0);
	assert_int_equal(epoch, 2);
	assert_int_equal(tidu_trust_current_epoch(f->city, ZHONGYUAN, &epoch), 0);
	assert_int_equal(epoch, 1);
	assert_int_equal(tidu_trust_revoke(f->city, tidu_store_device(f->b), 9),
			 TIDU_EEXISTS);
	assert_int_equal(tidu_trust_revoke(f->city, tidu_store_device(f->city), 0),
			 TIDU_EINVAL);
	assert_int_equal(tidu_trust_revoke(f->city, "0123456789abcdef", 0), TIDU_ENOTFOUND);
	assert_int_equal(tidu_trust_revoke(f->city, tidu_store_device(f->a), -1),
			 TIDU_EINVAL);
	assert_int_equal(tidu_trust_revoke(f->a, tidu_store_device(f->b), 0), TIDU_EINVAL);

	export_to(f->city, &doc);
	assert_int_equal(import(f->a, &doc, &info), 0);
	assert_int_equal(info.version, 2);
	assert_int_equal(info.keys_new, 1);
	assert_int_equal(import(f->b, &doc, &info), 0);
	assert_true(info.revoked);
	assert_int_equal(info.keys_new, 0);
	assert_int_equal(import(f->c, &doc, &info), 0);
	assert_int_equal(info.keys_new, 0);

	/* A keeps both epochs, B only the first; C none of them. */
	assert_true(holds(f->a, JINSHUI, 1));
	assert_true(holds(f->a, JINSHUI, 2));
	assert_true(holds(f->b, JINSHUI, 1));
	assert_false(holds(f->b, JINSHUI, 2));
	assert_false(holds(f->c, JINSHUI, 2));
	assert_true(holds(f->city, JINSHUI, 2));

	/* New change sets go to epoch 2: B cannot read them. */
	assert_int_equal(tidu_trust_recipients(f->a, JINSHUI, pks, 2, &n), 0);
	assert_true(can_open(f->a, pks[0]));
	assert_false(can_open(f->b, pks[0]));
	assert_true(can_open(f->city, pks[0]));

	assert_int_equal(tidu_trust_device_lookup(f->a, tidu_store_device(f->b), &d), 0);
	assert_true(d.revoked);
	assert_int_equal(d.revoked_after, 7);

	/* A revoked device is not enrolled again. */
	assert_int_equal(tidu_trust_enroll_request(f->b, &req), 0);
	assert_int_equal(tidu_trust_admit(f->city, req.ptr, req.len, NULL, 1), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "revoked"));
	tidu_buf_free(&req);
	tidu_buf_free(&doc);
}

static void test_forged_keyring_rejected(void **state)
{
	fixture *f = *state;
	tidu_buf doc = TIDU_BUF_INIT, forged = TIDU_BUF_INIT;
	tidu_store *city2 = make_store(f->root, "city2", CITY, "city");
	char *p;

	enroll(f->city, f->a);
	export_to(f->city, &doc);
	assert_int_equal(import(f->a, &doc, NULL), 0);

	/* A second "city" enrolls A as well and signs a newer keyring. */
	enroll(city2, f->a);
	export_to(city2, &forged);
	export_to(city2, &forged);
	assert_int_equal(import(f->a, &forged, NULL), TIDU_ECORRUPT);
	assert_non_null(strstr(tidu_error_message(),
			 "keyring not signed by the pinned city key"));
	assert_int_equal(th_scalar(f->a, "SELECT max(version) FROM keyring"), 1);

	/* The real keyring with an altered value. */
	export_to(f->city, &doc);
	p = strstr(doc.ptr, "\"version\": 2");
	assert_non_null(p);
	p[11] = '3';
	assert_int_equal(import(f->a, &doc, NULL), TIDU_ECORRUPT);
	assert_non_null(strstr(tidu_error_message(), "signature"));
	assert_int_equal(th_scalar(f->a, "SELECT max(version) FROM keyring"), 1);

	/* A keyring of another city is refused by a city store too. */
	assert_int_equal(import(f->city, &forged, NULL), TIDU_ECORRUPT);
	tidu_store_free(city2);
	tidu_buf_free(&doc);
	tidu_buf_free(&forged);
}

static void test_older_version_refused(void **state)
{
	fixture *f = *state;
	tidu_buf v1 = TIDU_BUF_INIT, v2 = TIDU_BUF_INIT;
	tidu_trust_import info;

	enroll(f->city, f->a);
	export_to(f->city, &v1);
	enroll(f->city, f->b);
	export_to(f->city, &v2);
	assert_int_equal(import(f->a, &v2, &info), 0);
	assert_int_equal(info.version, 2);
	assert_int_equal(import(f->a, &v1, &info), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "older"));
	assert_int_equal(th_scalar(f->a, "SELECT max(version) FROM keyring"), 2);
	assert_int_equal(th_scalar(f->a, "SELECT count(*) FROM device WHERE role<>'city-desk'"), 3);
	assert_int_equal(import(f->a, &v2, &info), 0);
	assert_true(info.current);
	/* A device may skip versions. */
	assert_int_equal(import(f->b, &v2, &info), 0);
	tidu_buf_free(&v1);
	tidu_buf_free(&v2);
}

static void test_pin_by_fingerprint(void **state)
{
	fixture *f = *state;
	tidu_buf doc = TIDU_BUF_INIT, doc2 = TIDU_BUF_INIT;
	tidu_store *city2 = make_store(f->root, "city2", CITY, "city");
	tidu_trust_id cid, cid2, id;
	tidu_trust_import info;
	char lower[25];
	size_t i;

	assert_int_equal(tidu_trust_identity(f->city, &cid), 0);
	assert_int_equal(tidu_trust_identity(city2, &cid2), 0);
	enroll(f->city, f->a);
	export_to(f->city, &doc);
	enroll(city2, f->a);
	export_to(city2, &doc2);

	/* A is told city2's fingerprint (typed in lower case): the other is refused. */
	for (i = 0; i < 25; i++)
		lower[i] = (char)tolower((unsigned char)cid2.fingerprint[i]);
	assert_int_equal(tidu_trust_pin_city(f->a, "not-a-fingerprint"), TIDU_EINVAL);
	assert_int_equal(tidu_trust_pin_city(f->a, lower), 0);
	assert_int_equal(tidu_trust_identity(f->a, &id), 0);
	assert_true(id.city_pinned);
	assert_string_equal(id.city_fingerprint, cid2.fingerprint);
	assert_int_equal(tidu_trust_pin_city(f->a, cid2.fingerprint), 0);
	assert_int_equal(tidu_trust_pin_city(f->a, cid.fingerprint), TIDU_EEXISTS);
	assert_int_equal(import(f->a, &doc, NULL), TIDU_ECORRUPT);
	assert_non_null(strstr(tidu_error_message(),
			 "keyring not signed by the pinned city key"));
	assert_int_equal(th_scalar(f->a, "SELECT count(*) FROM keyring"), 0);
	assert_int_equal(import(f->a, &doc2, &info), 0);
	assert_true(info.pinned);
	assert_string_equal(info.city_fingerprint, cid2.fingerprint);
	assert_int_equal(tidu_trust_pin_city(f->a, cid.fingerprint), TIDU_EEXISTS);

	/* A city store is pinned to itself. */
	assert_int_equal(tidu_trust_pin_city(f->city, cid.fingerprint), 0);
	assert_int_equal(tidu_trust_pin_city(f->city, cid2.fingerprint), TIDU_EEXISTS);
	tidu_store_free(city2);
	tidu_buf_free(&doc);
	tidu_buf_free(&doc2);
}

static void test_joins_caller_transaction(void **state)
{
	fixture *f = *state;
	tidu_buf req = TIDU_BUF_INIT;

	assert_int_equal(tidu_trust_enroll_request(f->a, &req), 0);
	assert_int_equal(tidu_store_begin(f->city), 0);
	assert_int_equal(tidu_trust_admit(f->city, req.ptr, req.len, NULL, 1), 0);
	/* A failing call inside the transaction undoes only itself. */
	assert_int_equal(tidu_trust_revoke(f->city, "0123456789abcdef", 0), TIDU_ENOTFOUND);
	assert_int_equal(th_scalar(f->city, "SELECT count(*) FROM device WHERE role<>'city-desk'"), 2);
	tidu_store_rollback(f->city);
	assert_int_equal(th_scalar(f->city, "SELECT count(*) FROM device WHERE role<>'city-desk'"), 1);
	tidu_buf_free(&req);
}

static void test_signature_by_sign_sk(void **state)
{
	fixture *f = *state;
	unsigned char sk[64], sig[64];
	const unsigned char msg[] = "change set";
	tidu_trust_device d;

	enroll(f->city, f->a);
	assert_int_equal(tidu_trust_sign_sk(f->a, sk), 0);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
	sodium_memzero(sk, sizeof(sk));
	assert_int_equal(tidu_trust_device_lookup(f->city, tidu_store_device(f->a), &d), 0);
	assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof(msg), d.sign_pk), 0);
	assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof(msg), d.box_pk), -1);
}

/* The city's desks: one per district, its keys, derived ids, never granted or revoked. */
static void test_city_desks(void **state)
{
	fixture *f = *state;
	tidu_buf doc = TIDU_BUF_INIT, forged = TIDU_BUF_INIT;
	tidu_trust_device dev, city_dev;
	tidu_trust_import info;
	char want[TIDU_DEVICE_ID_LEN + 1], other[TIDU_DEVICE_ID_LEN + 1];
	const char *at;

	/* Every division but the city itself has a desk. */
	assert_int_equal(th_scalar(f->city, "SELECT count(*) FROM device WHERE role='city-desk'"),
			 th_scalar(f->city, "SELECT count(DISTINCT district) FROM district_key") - 1);
	assert_int_equal(th_scalar(f->city, "SELECT count(*) FROM device WHERE role='city-desk' "
				"AND district='" CITY "'"), 0);
	tidu_trust_desk_id(tidu_store_device(f->city), JINSHUI, want);
	tidu_trust_desk_id(tidu_store_device(f->city), ZHONGYUAN, other);
	assert_string_not_equal(want, other);
	assert_int_equal(strlen(want), TIDU_DEVICE_ID_LEN);
	assert_int_equal(tidu_trust_device_lookup(f->city, want, &dev), 0);
	assert_int_equal(tidu_trust_device_lookup(f->city, tidu_store_device(f->city),
						  &city_dev), 0);
	assert_string_equal(dev.district, JINSHUI);
	assert_string_equal(dev.role, TIDU_TRUST_ROLE_DESK);
	assert_memory_equal(dev.sign_pk, city_dev.sign_pk, TIDU_TRUST_KEY_LEN);
	assert_memory_equal(dev.box_pk, city_dev.box_pk, TIDU_TRUST_KEY_LEN);

	/* The city cannot revoke a desk. */
	assert_int_equal(tidu_trust_revoke(f->city, want, 0), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "desk"));

	/* A device learns the desks; no grant is addressed to them. */
	enroll(f->city, f->a);
	export_to(f->city, &doc);
	at = strstr(doc.ptr, "\"grants\"");
	assert_non_null(at);
	assert_non_null(strstr(at, tidu_store_device(f->a)));
	assert_null(strstr(at, want));
	assert_int_equal(import(f->a, &doc, &info), 0);
	assert_int_equal(tidu_trust_device_lookup(f->a, want, &dev), 0);
	assert_string_equal(dev.role, TIDU_TRUST_ROLE_DESK);
	assert_string_equal(dev.district, JINSHUI);

	/*
	 * A keyring signed by the city that lists a desk under an id not
	 * derived from the city's device and the district is refused.
	 */
	assert_int_equal(sqlite3_exec(tidu_store_db(f->city),
		"UPDATE device SET device='0123456789abcdef' WHERE role='city-desk' "
		"AND district='" ZHONGYUAN "'", NULL, NULL, NULL), SQLITE_OK);
	export_to(f->city, &forged);
	assert_int_equal(import(f->c, &forged, &info), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "desk"));

	tidu_buf_free(&doc);
	tidu_buf_free(&forged);
}

/*
 * `dev`'s own request made again with officer `name` and signed with its
 * key: what anyone holding a device key can push, whatever tidu checks.
 */
static void request_named(tidu_store *dev, const char *name, tidu_buf *out)
{
	tidu_buf req = TIDU_BUF_INIT, payload = TIDU_BUF_INIT, m = TIDU_BUF_INIT;
	char b64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
	unsigned char sk[64], sig[64];
	tidu_json *tree = NULL;
	const tidu_json *p;
	tidu_json_writer w;
	size_t i;

	assert_int_equal(tidu_trust_enroll_request(dev, &req), 0);
	assert_int_equal(tidu_json_parse(req.ptr, req.len, &tree), 0);
	p = tidu_json_get(tree, "payload");
	tidu_json_writer_init(&w, &payload, 0);
	tidu_json_begin_object(&w);
	for (i = 0; i < tidu_json_count(p); i++) {
		const char *k = tidu_json_key_at(p, i);
		const tidu_json *v = tidu_json_at(p, i);
		int64_t n;

		tidu_json_write_key(&w, k);
		if (!strcmp(k, "officer")) {
			tidu_json_write_string(&w, name);
		} else if (tidu_json_as_string(v)) {
			tidu_json_write_string(&w, tidu_json_as_string(v));
		} else {
			assert_int_equal(tidu_json_as_int64(v, &n), 0);
			tidu_json_write_int64(&w, n);
		}
	}
	tidu_json_end_object(&w);
	assert_int_equal(tidu_json_writer_finish(&w), 0);
	tidu_buf_puts(&m, "tidu-enroll-request-v1\n");
	tidu_buf_put(&m, payload.ptr, payload.len);
	assert_int_equal(tidu_trust_sign_sk(dev, sk), 0);
	crypto_sign_detached(sig, NULL, (const unsigned char *)m.ptr, m.len, sk);
	sodium_memzero(sk, sizeof(sk));
	sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
	tidu_buf_clear(out);
	tidu_buf_puts(out, "{\"payload\": ");
	tidu_buf_put(out, payload.ptr, payload.len);
	tidu_buf_printf(out, ", \"signature\": \"%s\"}\n", b64);
	tidu_json_free(tree);
	tidu_buf_free(&req);
	tidu_buf_free(&payload);
	tidu_buf_free(&m);
}

/* The message has no byte a terminal would act on. */
static void assert_printable(const char *msg)
{
	const unsigned char *p;

	for (p = (const unsigned char *)msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			fail_msg("raw control byte 0x%02x in '%s'", *p, msg);
}

/* Issue 9 item 12: one check of an officer's name, at init and at every read. */
static void test_officer_names(void **state)
{
	static const char *const bad[] = {
		"", "   ", "\xe3\x80\x80", "王芳\n  Fingerprint:    GMGE-0000-0000-0000-0000\033[8m",
		"\033]0;x\007", "a\tb", "abc\xe2\x80\xae" "fed", "\xc2\x85", "\xff", NULL,
	};
	fixture *f = *state;
	char recovery[TIDU_RECOVERY_TEXT_MAX], dir[128], name[300];
	tidu_store_identity id = {JINSHUI, NULL, "officer"};
	tidu_store *s = NULL;
	size_t i;

	assert_int_equal(tidu_trust_officer_check("王芳"), 0);
	assert_int_equal(tidu_trust_officer_check(" 王 芳 "), 0);
	memset(name, 'a', 255);
	name[255] = '\0';
	assert_int_equal(tidu_trust_officer_check(name), 0);
	name[255] = 'a';
	name[256] = '\0';
	assert_int_equal(tidu_trust_officer_check(name), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "longer than 255 bytes"));
	for (i = 0; bad[i]; i++) {
		tidu_error_clear();
		if (tidu_trust_officer_check(bad[i]) != TIDU_EINVAL)
			fail_msg("officer name %zu accepted", i);
		assert_non_null(strstr(tidu_error_message(), "invalid officer name: "));
		assert_printable(tidu_error_message());
	}
	assert_non_null(strstr((tidu_trust_officer_check(bad[3]), tidu_error_message()),
			       "control character U+000A at byte 6"));
	assert_non_null(strstr((tidu_trust_officer_check(bad[1]), tidu_error_message()),
			       "empty"));

	/* init refuses them before anything is made. */
	snprintf(dir, sizeof(dir), "%s/bad", f->root);
	for (i = 0; bad[i]; i++) {
		id.officer = bad[i];
		assert_int_equal(tidu_home_create(&s, dir, &id, PASS, strlen(PASS), NULL, NULL,
						  recovery, sizeof(recovery)), TIDU_EINVAL);
		assert_null(s);
		assert_false(tidu_store_exists(dir));
	}
	id.officer = name;
	assert_int_equal(tidu_home_create(&s, dir, &id, PASS, strlen(PASS), NULL, NULL,
					  recovery, sizeof(recovery)), TIDU_EINVAL);
	assert_false(tidu_store_exists(dir));
}

/* A signed request or keyring carrying a bad name is refused, never shown. */
static void test_officer_forged_refused(void **state)
{
	fixture *f = *state;
	tidu_buf req = TIDU_BUF_INIT, doc = TIDU_BUF_INIT;
	tidu_trust_request info;
	tidu_trust_import imp;

	/* The helper makes a valid request: a good name passes. */
	request_named(f->a, "王芳", &req);
	assert_int_equal(tidu_trust_admit(f->city, req.ptr, req.len, &info, 0), 0);
	request_named(f->a, "王芳\n  Fingerprint:    GMGE-0000-0000-0000-0000\033[8m", &req);
	assert_int_equal(tidu_trust_admit(f->city, req.ptr, req.len, &info, 1), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "invalid enrollment request of device '"));
	assert_non_null(strstr(tidu_error_message(), "control character U+000A"));
	assert_printable(tidu_error_message());
	request_named(f->a, " ", &req);
	assert_int_equal(tidu_trust_admit(f->city, req.ptr, req.len, &info, 1), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "the officer's name is empty"));
	request_named(f->a, "\xe2\x80\xae", &req);
	assert_int_equal(tidu_trust_admit(f->city, req.ptr, req.len, &info, 1), TIDU_EINVAL);
	assert_int_equal(th_scalar(f->city, "SELECT count(*) FROM device WHERE role<>'city-desk'"), 1);

	/* A keyring listing a device under such a name (a city store of old). */
	enroll(f->city, f->a);
	assert_int_equal(sqlite3_exec(tidu_store_db(f->city),
		"UPDATE device SET officer='x'||char(27)||'[8m' WHERE role='officer'",
		NULL, NULL, NULL), SQLITE_OK);
	export_to(f->city, &doc);
	assert_int_equal(import(f->a, &doc, &imp), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "control character U+001B"));
	assert_printable(tidu_error_message());
	assert_int_equal(th_scalar(f->a, "SELECT count(*) FROM keyring"), 0);
	tidu_buf_free(&req);
	tidu_buf_free(&doc);
}

/* An enrolled device asks for a corrected name; the city's approval carries it. */
static void test_officer_rename(void **state)
{
	fixture *f = *state;
	tidu_buf req = TIDU_BUF_INIT, doc = TIDU_BUF_INIT;
	tidu_trust_request info;
	tidu_trust_import imp;
	tidu_trust_device d;
	char *officer = NULL;

	enroll(f->city, f->a);
	export_to(f->city, &doc);
	assert_int_equal(import(f->a, &doc, &imp), 0);

	assert_int_equal(tidu_trust_enroll_request_as(f->a, "王\n芳", &req), TIDU_EINVAL);
	assert_int_equal(tidu_trust_enroll_request_as(f->a, "王 芳", &req), 0);
	/* Verified, not yet admitted: the city sees both names. */
	assert_int_equal(tidu_trust_admit(f->city, req.ptr, req.len, &info, 0), 0);
	assert_false(info.enrolled);
	assert_string_equal(info.officer, "王 芳");
	assert_string_equal(info.renamed_from, "王芳");
	assert_int_equal(tidu_trust_device_lookup(f->city, tidu_store_device(f->a), &d), 0);
	assert_string_equal(d.officer, "王芳");
	/* Admitted: the keyring entry takes the new name, keys unchanged. */
	assert_int_equal(tidu_trust_admit(f->city, req.ptr, req.len, &info, 1), 0);
	assert_int_equal(tidu_trust_device_lookup(f->city, tidu_store_device(f->a), &d), 0);
	assert_string_equal(d.officer, "王 芳");
	assert_false(d.revoked);
	/* The same request again: no change. */
	assert_int_equal(tidu_trust_admit(f->city, req.ptr, req.len, &info, 1), 0);
	assert_true(info.enrolled);
	assert_string_equal(info.renamed_from, "");
	/* The device takes the approved name with the next keyring. */
	export_to(f->city, &doc);
	assert_int_equal(import(f->a, &doc, &imp), 0);
	assert_true(imp.enrolled);
	assert_int_equal(tidu_store_meta_get(f->a, "officer", &officer), 0);
	assert_string_equal(officer, "王 芳");
	free(officer);
	assert_int_equal(tidu_trust_device_lookup(f->a, tidu_store_device(f->a), &d), 0);
	assert_string_equal(d.officer, "王 芳");
	tidu_buf_free(&req);
	tidu_buf_free(&doc);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_keys_are_made_once),
		T(test_fingerprint_format),
		T(test_request_verifies_tampered_rejected),
		T(test_admit_export_import),
		T(test_recipients),
		T(test_revoke_rotates),
		T(test_forged_keyring_rejected),
		T(test_older_version_refused),
		T(test_pin_by_fingerprint),
		T(test_joins_caller_transaction),
		T(test_signature_by_sign_sk),
		T(test_city_desks),
		T(test_officer_names),
		T(test_officer_forged_refused),
		T(test_officer_rename),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
