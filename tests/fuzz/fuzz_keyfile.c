/*
 * Fuzz target for the key header (keyfile.h): the parser of the first
 * TIDU_HEADER_SIZE bytes of a store (two copies of a key block with their
 * key slots, docs/security.md) and of the recovery key text.
 *
 * Byte 0 picks a mode; the rest is:
 *  0. the whole file, any length (short, long, garbage);
 *  1. a header: cut or zero-padded to TIDU_HEADER_SIZE, with magic, version
 *     and copy size set and each copy's hash recomputed, so that the slot
 *     checks are reached (the passphrase slots get the smallest Argon2
 *     limits, so that unlocking stays cheap);
 *  2. a recovery key text, tried on a real store made at start-up;
 *  3. edits of that real store's header: (offset16, xor byte) triples,
 *     with the hashes recomputed when byte 1 is odd.
 * On each file: tidu_keyfile_check, tidu_keyfile_check_secret (with the
 * real store's secret), tidu_keyfile_unlock_recovery (the real recovery
 * key) and, in mode 1, tidu_keyfile_unlock. Checks: only documented error
 * codes, a message on every failure, the secret zeroed on failure; the
 * real key opens the real store (mode 2: only its own text, modes 3 with
 * no effective edit: always), and what opens gives the real secret.
 * The file is written to a temporary directory made once per process.
 * A broken invariant aborts. Built with libFuzzer (TIDU_FUZZ=ON, clang) and
 * as a corpus replay under ctest (tests/CMakeLists.txt).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "fuzz.h"

#include "tidu/error.h"
#include "tidu/keyfile.h"

/* The layout of docs/security.md ("key header"). */
#define COPY_SIZE (TIDU_HEADER_SIZE / 2)
#define OFF_VERSION 8
#define OFF_COPY_SIZE 10
#define OFF_SLOTS 64
#define SLOT_SIZE 128
#define S_OPS 8
#define S_MEM 16
#define OFF_HASH (COPY_SIZE - 32)

static char dir[256], path[300], real_path[300];
static unsigned char real_hdr[TIDU_HEADER_SIZE];
static tidu_secret real_secret;
static char real_recovery[TIDU_RECOVERY_TEXT_MAX];

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_keyfile: %s (%s)\n", what, tidu_error_message());
		abort();
	}
}

static int zeroed(const tidu_secret *s)
{
	return sodium_is_zero((const unsigned char *)s, sizeof(*s));
}

static void cleanup(void)
{
	unlink(path);
	unlink(real_path);
	rmdir(dir);
}

static void setup(void)
{
	static int ready;
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	if (ready)
		return;
	check(sodium_init() >= 0, "sodium_init");
	snprintf(dir, sizeof(dir), "%s/tidu-fuzz-keyfile-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	check(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/fuzzed.db", dir);
	snprintf(real_path, sizeof(real_path), "%s/real.db", dir);
	check(tidu_keyfile_create(real_path, "pass", 4, &real_secret, real_recovery,
				  sizeof(real_recovery)) == 0, "create");
	f = fopen(real_path, "rb");
	check(f && fread(real_hdr, 1, sizeof(real_hdr), f) == sizeof(real_hdr), "read");
	fclose(f);
	atexit(cleanup);
	ready = 1;
}

static void put_file(const unsigned char *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	check(f != NULL, "open the fuzzed file");
	check(fwrite(p, 1, n, f) == n && fclose(f) == 0, "write the fuzzed file");
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)(v >> 8);
}

static void put64(unsigned char *p, unsigned long long v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void rehash(unsigned char *hdr)
{
	static const char domain[] = "tidu-keyblock-v1";
	int c;

	for (c = 0; c < 2; c++) {
		unsigned char *copy = hdr + c * COPY_SIZE;

		crypto_generichash(copy + OFF_HASH, 32, copy, OFF_HASH,
				   (const unsigned char *)domain, sizeof(domain) - 1);
	}
}

/* Runs every reader on the file at `path`; `real`: it is the real header. */
static void try_file(int real, int try_pass)
{
	tidu_secret s;
	int rc;

	rc = tidu_keyfile_check(path);
	check(rc == 0 || rc == TIDU_ECORRUPT || rc == TIDU_ERROR, "check: code");
	check(rc == 0 || *tidu_error_message(), "check: message");
	check(!real || rc == 0, "check: the real header is whole");
	rc = tidu_keyfile_check_secret(path, &real_secret);
	check(rc == 0 || rc == TIDU_EPASS || rc == TIDU_ECORRUPT || rc == TIDU_ERROR,
	      "check_secret: code");
	check(!real || rc == 0, "check_secret: the real secret fits the real header");
	memset(&s, 0xA5, sizeof(s));
	rc = tidu_keyfile_unlock_recovery(path, real_recovery, &s);
	check(rc == 0 || rc == TIDU_EPASS || rc == TIDU_ECORRUPT || rc == TIDU_ERROR,
	      "unlock_recovery: code");
	check(rc == 0 ? sodium_memcmp(&s, &real_secret, sizeof(s)) == 0 : zeroed(&s),
	      "unlock_recovery: the real secret, or zeroed");
	check(!real || rc == 0, "unlock_recovery: the real key opens the real header");
	if (try_pass) {
		memset(&s, 0xA5, sizeof(s));
		rc = tidu_keyfile_unlock(path, "pass", 4, &s);
		check(rc == 0 || rc == TIDU_EPASS || rc == TIDU_ECORRUPT || rc == TIDU_ERROR,
		      "unlock: code");
		check(rc == 0 || zeroed(&s), "unlock: zeroed on failure");
	}
	tidu_secret_wipe(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char hdr[TIDU_HEADER_SIZE];
	int mode;

	setup();
	if (size == 0 || size > 3 * TIDU_HEADER_SIZE)
		return 0;
	mode = data[0] % 4;
	data++;
	size--;
	if (mode == 0) {
		put_file(data, size);
		try_file(0, 0);
	} else if (mode == 1) {
		int c, k;

		memset(hdr, 0, sizeof(hdr));
		memcpy(hdr, data, size < sizeof(hdr) ? size : sizeof(hdr));
		for (c = 0; c < 2; c++) {
			unsigned char *copy = hdr + c * COPY_SIZE;

			memcpy(copy, "TIDUKEYS", 8);
			put16(copy + OFF_VERSION, 1);
			put16(copy + OFF_COPY_SIZE, COPY_SIZE);
			for (k = 0; k < 2; k++) {
				unsigned char *slot = copy + OFF_SLOTS + k * SLOT_SIZE;

				if (slot[0] == 1) { /* a passphrase slot: cheap limits */
					put64(slot + S_OPS, crypto_pwhash_argon2id_OPSLIMIT_MIN);
					put64(slot + S_MEM, crypto_pwhash_argon2id_MEMLIMIT_MIN);
				}
			}
		}
		rehash(hdr);
		put_file(hdr, sizeof(hdr));
		try_file(0, 1);
	} else if (mode == 2) {
		char text[256];
		tidu_secret s;
		int rc;

		if (size >= sizeof(text))
			return 0;
		memcpy(text, data, size);
		text[size] = '\0';
		memset(&s, 0xA5, sizeof(s));
		rc = tidu_keyfile_unlock_recovery(real_path, text, &s);
		check(rc == 0 || rc == TIDU_EINVAL || rc == TIDU_EPASS, "recovery text: code");
		check(rc == 0 || *tidu_error_message(), "recovery text: message");
		check(rc == 0 ? sodium_memcmp(&s, &real_secret, sizeof(s)) == 0 : zeroed(&s),
		      "recovery text: the real secret, or zeroed");
		if (strcmp(text, real_recovery) == 0)
			check(rc == 0, "the real recovery text opens its store");
		tidu_secret_wipe(&s);
	} else {
		size_t i;
		int changed = 0;

		memcpy(hdr, real_hdr, sizeof(hdr));
		for (i = 1; i + 3 <= size; i += 3) {
			unsigned off = (unsigned)(data[i] | data[i + 1] << 8) % TIDU_HEADER_SIZE;

			hdr[off] ^= data[i + 2];
		}
		if (size && (data[0] & 1))
			rehash(hdr);
		changed = memcmp(hdr, real_hdr, sizeof(hdr)) != 0;
		put_file(hdr, sizeof(hdr));
		try_file(!changed, 0);
	}
	return 0;
}
