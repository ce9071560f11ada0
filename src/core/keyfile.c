/*
 * The key header (keyfile.h): two copies of a key block in the first
 * TIDU_HEADER_SIZE bytes of the database file. Byte layout, with all
 * integers little-endian (also in docs/security.md):
 *
 * copy A at 0, copy B at 2048; each 2048 bytes:
 *     0    8  magic "TIDUKEYS"
 *     8    2  format version (1)
 *    10    2  copy size (2048)
 *    12    4  flags (0)
 *    16    8  generation (1 at creation, +1 per passphrase change)
 *    24   16  file id
 *    40   16  key check: BLAKE2b-128, key = data key,
 *             message = "tidu-keycheck-v1" || file id
 *    56    8  zero
 *    64  128  slot 0: passphrase
 *   192  128  slot 1: recovery key
 *   320 1696  zero
 *  2016   32  BLAKE2b-256 of bytes 0..2015, key = "tidu-keyblock-v1"
 *
 * slot (128 bytes):
 *     0    1  kind (1 passphrase, 2 recovery)
 *     1    1  algorithm (1 Argon2id v1.3, 2 BLAKE2b-256)
 *     2    6  zero
 *     8    8  Argon2 opslimit (0 for recovery)
 *    16    8  Argon2 memlimit in bytes (0 for recovery)
 *    24   16  salt
 *    40   24  XChaCha20-Poly1305 nonce
 *    64   32  wrapped data key
 *    96   16  tag
 *   112   16  zero
 * The wrapping's associated data is "tidu-keyslot-v1" || file id || slot
 * bytes 0..39 (kind, algorithm, limits, salt).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/keyfile.h"
#include "tidu/vfs.h"

#define COPY_SIZE (TIDU_HEADER_SIZE / 2)
#define VERSION 1

#define OFF_VERSION 8
#define OFF_COPY_SIZE 10
#define OFF_FLAGS 12
#define OFF_GEN 16
#define OFF_FILE_ID 24
#define OFF_KEYCHECK 40
#define OFF_SLOTS 64
#define SLOT_SIZE 128
#define NSLOTS 2
#define OFF_HASH (COPY_SIZE - 32)

#define S_KIND 0
#define S_ALG 1
#define S_OPS 8
#define S_MEM 16
#define S_SALT 24
#define S_NONCE 40
#define S_WRAPPED 64
#define S_TAG 96
#define S_BOUND 40 /* slot bytes bound as associated data */

#define SLOT_PASS 0
#define SLOT_RECOVERY 1
#define KIND_PASS 1
#define KIND_RECOVERY 2
#define ALG_ARGON2ID13 1
#define ALG_BLAKE2B 2

#define KEYCHECK_BYTES 16
#define RECOVERY_BYTES 32
#define RECOVERY_CHECK 3 /* bytes of check appended before encoding */
#define RECOVERY_SYMBOLS 56 /* (32 + 3) * 8 / 5 */
#define GROUP 4

/* Sanity bounds on stored Argon2 limits (a forged header cannot ask for
 * terabytes). */
#define OPS_MAX 64ULL
#define MEM_MAX ((unsigned long long)crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE)

_Static_assert(S_TAG + crypto_aead_xchacha20poly1305_ietf_ABYTES <= SLOT_SIZE,
	       "slot layout");
_Static_assert(S_SALT + crypto_pwhash_argon2id_SALTBYTES == S_NONCE, "salt");
_Static_assert(OFF_SLOTS + NSLOTS * SLOT_SIZE <= OFF_HASH, "copy layout");
_Static_assert(RECOVERY_SYMBOLS * 5 == (RECOVERY_BYTES + RECOVERY_CHECK) * 8,
	       "recovery text encodes whole bytes");
_Static_assert(TIDU_RECOVERY_TEXT_MAX ==
	       RECOVERY_SYMBOLS + RECOVERY_SYMBOLS / GROUP - 1 + 1,
	       "recovery text size");

static const char magic[8] = { 'T', 'I', 'D', 'U', 'K', 'E', 'Y', 'S' };
static const char block_domain[] = "tidu-keyblock-v1";
static const char keycheck_domain[] = "tidu-keycheck-v1";
static const char slot_domain[] = "tidu-keyslot-v1";
static const char recovery_kek_domain[] = "tidu-recovery-kek-v1";
static const char recovery_check_domain[] = "tidu-recovery-check-v1";
static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* ---- bytes --------------------------------------------------------------- */

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static void put64(unsigned char *p, unsigned long long v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static unsigned long long get64(const unsigned char *p)
{
	unsigned long long v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* ---- key block ----------------------------------------------------------- */

static void block_hash(const unsigned char *copy, unsigned char out[32])
{
	crypto_generichash(out, 32, copy, OFF_HASH,
			   (const unsigned char *)block_domain,
			   sizeof(block_domain) - 1);
}

static void key_check(const unsigned char *key, const unsigned char *file_id,
		      unsigned char out[KEYCHECK_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, TIDU_KEY_BYTES, KEYCHECK_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)keycheck_domain,
				  sizeof(keycheck_domain) - 1);
	crypto_generichash_update(&st, file_id, TIDU_FILE_ID_BYTES);
	crypto_generichash_final(&st, out, KEYCHECK_BYTES);
	sodium_memzero(&st, sizeof(st));
}

static unsigned char *slot_of(unsigned char *copy, int i)
{
	return copy + OFF_SLOTS + i * SLOT_SIZE;
}

static const unsigned char *cslot_of(const unsigned char *copy, int i)
{
	return copy + OFF_SLOTS + i * SLOT_SIZE;
}

static int slot_valid(const unsigned char *slot, int kind)
{
	unsigned long long ops = get64(slot + S_OPS), mem = get64(slot + S_MEM);

	if (!sodium_is_zero(slot + 2, 6) || !sodium_is_zero(slot + S_TAG + 16, 16))
		return 0;
	if (kind == KIND_PASS)
		return slot[S_KIND] == KIND_PASS && slot[S_ALG] == ALG_ARGON2ID13 &&
		       ops >= crypto_pwhash_argon2id_OPSLIMIT_MIN && ops <= OPS_MAX &&
		       mem >= crypto_pwhash_argon2id_MEMLIMIT_MIN && mem <= MEM_MAX;
	return slot[S_KIND] == KIND_RECOVERY && slot[S_ALG] == ALG_BLAKE2B &&
	       ops == 0 && mem == 0;
}

/* 1 if the copy is whole: magic, version, self-check, slot shapes. */
static int copy_valid(const unsigned char *copy)
{
	unsigned char h[32];
	int ok;

	block_hash(copy, h);
	ok = sodium_memcmp(h, copy + OFF_HASH, 32) == 0 &&
	     memcmp(copy, magic, sizeof(magic)) == 0 &&
	     get16(copy + OFF_VERSION) == VERSION &&
	     get16(copy + OFF_COPY_SIZE) == COPY_SIZE &&
	     sodium_is_zero(copy + OFF_FLAGS, 4) &&
	     sodium_is_zero(copy + OFF_KEYCHECK + KEYCHECK_BYTES, 8) &&
	     sodium_is_zero(copy + OFF_SLOTS + NSLOTS * SLOT_SIZE,
			    OFF_HASH - OFF_SLOTS - NSLOTS * SLOT_SIZE) &&
	     slot_valid(cslot_of(copy, SLOT_PASS), KIND_PASS) &&
	     slot_valid(cslot_of(copy, SLOT_RECOVERY), KIND_RECOVERY);
	return ok;
}

/*
 * The valid copies of `hdr`, newest generation first (A before B on a tie),
 * in `order`. Returns how many (0, 1 or 2).
 */
static int valid_copies(const unsigned char *hdr, int order[2])
{
	int va = copy_valid(hdr), vb = copy_valid(hdr + COPY_SIZE);

	if (va && vb) {
		int b_first = get64(hdr + COPY_SIZE + OFF_GEN) > get64(hdr + OFF_GEN);

		order[0] = b_first;
		order[1] = !b_first;
		return 2;
	}
	order[0] = va ? 0 : 1;
	order[1] = -1;
	return va || vb;
}

static void slot_ad(const unsigned char *file_id, const unsigned char *slot,
		    unsigned char *ad)
{
	memcpy(ad, slot_domain, sizeof(slot_domain) - 1);
	memcpy(ad + sizeof(slot_domain) - 1, file_id, TIDU_FILE_ID_BYTES);
	memcpy(ad + sizeof(slot_domain) - 1 + TIDU_FILE_ID_BYTES, slot, S_BOUND);
}

#define AD_BYTES (sizeof(slot_domain) - 1 + TIDU_FILE_ID_BYTES + S_BOUND)

/* Fills the nonce, wrapped key and tag of `slot` (bytes 0..39 set). */
static void slot_wrap(unsigned char *slot, const unsigned char *file_id,
		      const unsigned char *kek, const unsigned char *key)
{
	unsigned char ad[AD_BYTES];

	slot_ad(file_id, slot, ad);
	randombytes_buf(slot + S_NONCE, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt_detached(slot + S_WRAPPED,
		slot + S_TAG, NULL, key, TIDU_KEY_BYTES, ad, sizeof(ad), NULL,
		slot + S_NONCE, kek);
}

/* 0 and the data key in `key`, or -1 (wrong KEK or tampered slot). */
static int slot_unwrap(const unsigned char *slot, const unsigned char *file_id,
		       const unsigned char *kek, unsigned char *key)
{
	unsigned char ad[AD_BYTES];

	slot_ad(file_id, slot, ad);
	return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(key, NULL,
		slot + S_WRAPPED, TIDU_KEY_BYTES, slot + S_TAG, ad, sizeof(ad),
		slot + S_NONCE, kek);
}

/* Argon2id of the passphrase with the slot's salt and limits. */
static int pass_kek(const unsigned char *slot, const char *pass, size_t passlen,
		    unsigned char kek[32])
{
	if (crypto_pwhash(kek, 32, pass, passlen, slot + S_SALT,
			  get64(slot + S_OPS), (size_t)get64(slot + S_MEM),
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return tidu_error_set(TIDU_ERROR,
			"%s", _("not enough memory to derive the key from the passphrase"));
	return 0;
}

static void recovery_kek(const unsigned char *slot, const unsigned char *file_id,
			 const unsigned char *recovery, unsigned char kek[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, recovery, RECOVERY_BYTES, 32);
	crypto_generichash_update(&st, (const unsigned char *)recovery_kek_domain,
				  sizeof(recovery_kek_domain) - 1);
	crypto_generichash_update(&st, file_id, TIDU_FILE_ID_BYTES);
	crypto_generichash_update(&st, slot + S_SALT, 16);
	crypto_generichash_final(&st, kek, 32);
	sodium_memzero(&st, sizeof(st));
}

/* Writes a new passphrase slot (fresh salt) wrapping `key`. */
static int make_pass_slot(unsigned char *slot, const unsigned char *file_id,
			  const unsigned char *key, const char *pass,
			  size_t passlen)
{
	unsigned char kek[32];
	int error;

	memset(slot, 0, SLOT_SIZE);
	slot[S_KIND] = KIND_PASS;
	slot[S_ALG] = ALG_ARGON2ID13;
	put64(slot + S_OPS, crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
	put64(slot + S_MEM, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
	randombytes_buf(slot + S_SALT, crypto_pwhash_argon2id_SALTBYTES);
	if ((error = pass_kek(slot, pass, passlen, kek)) == 0)
		slot_wrap(slot, file_id, kek, key);
	sodium_memzero(kek, sizeof(kek));
	return error;
}

static void seal_copy(unsigned char *copy)
{
	block_hash(copy, copy + OFF_HASH);
}

/* ---- recovery text ------------------------------------------------------- */

static void recovery_checksum(const unsigned char *recovery,
			      unsigned char out[RECOVERY_CHECK])
{
	unsigned char h[16];

	crypto_generichash(h, sizeof(h), recovery, RECOVERY_BYTES,
			   (const unsigned char *)recovery_check_domain,
			   sizeof(recovery_check_domain) - 1);
	memcpy(out, h, RECOVERY_CHECK);
}

/* "XXXX-XXXX-..." from the 32-byte recovery key and its check bytes. */
static void recovery_encode(const unsigned char *recovery, char *out)
{
	unsigned char payload[RECOVERY_BYTES + RECOVERY_CHECK];
	unsigned bits = 0, nbits = 0;
	size_t i, n = 0, sym = 0;

	memcpy(payload, recovery, RECOVERY_BYTES);
	recovery_checksum(recovery, payload + RECOVERY_BYTES);
	for (i = 0; i < sizeof(payload); i++) {
		bits = (bits << 8 | payload[i]) & 0xfff;
		nbits += 8;
		while (nbits >= 5) {
			nbits -= 5;
			if (sym && sym % GROUP == 0)
				out[n++] = '-';
			out[n++] = alphabet[(bits >> nbits) & 31];
			sym++;
		}
	}
	out[n] = '\0';
	sodium_memzero(payload, sizeof(payload));
}

static int symbol_value(char c)
{
	const char *p;

	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	if (c == 'O')
		c = '0';
	if (c == 'I' || c == 'L')
		c = '1';
	p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

/*
 * The 32-byte recovery key from its text. TIDU_EINVAL if it is not one:
 * wrong length, a foreign character, or check bytes that do not match.
 */
static int recovery_decode(const char *text, unsigned char *recovery)
{
	unsigned char payload[RECOVERY_BYTES + RECOVERY_CHECK];
	unsigned char check[RECOVERY_CHECK];
	unsigned bits = 0, nbits = 0;
	size_t n = 0, nsym = 0;
	int v, error = 0;

	for (; *text; text++) {
		if (*text == '-' || *text == ' ' || *text == '\t' ||
		    *text == '\r' || *text == '\n')
			continue;
		if ((v = symbol_value(*text)) < 0 || ++nsym > RECOVERY_SYMBOLS) {
			error = tidu_error_set(TIDU_EINVAL, "%s", v < 0 ?
				_("the recovery key contains a character that cannot be in it") :
				_("the recovery key is too long"));
			goto done;
		}
		bits = (bits << 5 | (unsigned)v) & 0xfff;
		nbits += 5;
		if (nbits >= 8) {
			nbits -= 8;
			payload[n++] = (unsigned char)(bits >> nbits);
		}
	}
	if (nsym != RECOVERY_SYMBOLS) {
		error = tidu_error_set(TIDU_EINVAL,
			_("the recovery key is too short (%zu of %d characters)"),
			nsym, RECOVERY_SYMBOLS);
		goto done;
	}
	recovery_checksum(payload, check);
	if (sodium_memcmp(check, payload + RECOVERY_BYTES, RECOVERY_CHECK) != 0) {
		error = tidu_error_set(TIDU_EINVAL,
			"%s", _("the recovery key has a typo: check it character by character"));
		goto done;
	}
	memcpy(recovery, payload, RECOVERY_BYTES);
done:
	sodium_memzero(payload, sizeof(payload));
	return error;
}

/* ---- file ---------------------------------------------------------------- */

static int load_header(const char *dbpath, unsigned char hdr[TIDU_HEADER_SIZE])
{
	size_t got;
	int error;

	if ((error = tidu_vfs_raw_read(dbpath, hdr, TIDU_HEADER_SIZE, 0, &got)) < 0)
		return error == TIDU_ENOTFOUND ? tidu_error_set(TIDU_ENOTFOUND,
			_("no store at '%s'"), dbpath) : error;
	if (got < TIDU_HEADER_SIZE)
		return tidu_error_set(TIDU_ECORRUPT,
			_("'%s' is too short to hold a key header: it is not a "
			  "store or was cut short"), dbpath);
	return 0;
}

static int sync_parent_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd, error = 0;

	if (!slash) {
		memcpy(dir, ".", 2);
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return tidu_error_set(TIDU_EINVAL, _("path too long: '%s'"), path);
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		error = tidu_error_set(TIDU_ERROR, _("cannot sync the directory '%s': %s"),
				       dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return error;
}

/* Creates `path` exclusively holding `hdr`, durable when this returns. */
static int write_new_file(const char *path, const unsigned char *hdr)
{
	size_t done = 0;
	ssize_t n;
	int fd, error = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return tidu_error_set(errno == EEXIST ? TIDU_EEXISTS : TIDU_ERROR,
			errno == EEXIST ? _("'%s' exists already") :
			_("cannot create '%s': %s"), path, strerror(errno));
	while (done < TIDU_HEADER_SIZE) {
		n = write(fd, hdr + done, TIDU_HEADER_SIZE - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error = tidu_error_set(TIDU_ERROR, _("cannot write '%s': %s"),
				path, n < 0 ? strerror(errno) : "");
			break;
		}
		done += (size_t)n;
	}
	if (!error && fsync(fd) < 0)
		error = tidu_error_set(TIDU_ERROR, _("cannot write '%s': %s"),
				       path, strerror(errno));
	if (close(fd) < 0 && !error)
		error = tidu_error_set(TIDU_ERROR, _("cannot write '%s': %s"),
				       path, strerror(errno));
	if (!error)
		error = sync_parent_dir(path);
	if (error)
		unlink(path);
	return error;
}

/* ---- API ----------------------------------------------------------------- */

int tidu_keyfile_create(const char *dbpath, const char *pass, size_t passlen,
			tidu_secret *out, char *recovery_text,
			size_t recovery_size)
{
	unsigned char hdr[TIDU_HEADER_SIZE];
	unsigned char recovery[RECOVERY_BYTES], kek[32];
	unsigned char *copy = hdr, *slot;
	tidu_secret s;
	int error;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!dbpath || !pass || !passlen || !out || !recovery_text ||
	    recovery_size < TIDU_RECOVERY_TEXT_MAX)
		return tidu_error_set(TIDU_EINVAL, "%s", passlen || !pass ?
			_("bad arguments to create a key header") :
			_("the passphrase must not be empty"));
	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialize libsodium"));

	memset(hdr, 0, sizeof(hdr));
	randombytes_buf(s.key, sizeof(s.key));
	randombytes_buf(s.file_id, sizeof(s.file_id));
	randombytes_buf(recovery, sizeof(recovery));

	memcpy(copy, magic, sizeof(magic));
	put16(copy + OFF_VERSION, VERSION);
	put16(copy + OFF_COPY_SIZE, COPY_SIZE);
	put64(copy + OFF_GEN, 1);
	memcpy(copy + OFF_FILE_ID, s.file_id, TIDU_FILE_ID_BYTES);
	key_check(s.key, s.file_id, copy + OFF_KEYCHECK);

	if ((error = make_pass_slot(slot_of(copy, SLOT_PASS), s.file_id, s.key,
				    pass, passlen)) < 0)
		goto done;
	slot = slot_of(copy, SLOT_RECOVERY);
	slot[S_KIND] = KIND_RECOVERY;
	slot[S_ALG] = ALG_BLAKE2B;
	randombytes_buf(slot + S_SALT, 16);
	recovery_kek(slot, s.file_id, recovery, kek);
	slot_wrap(slot, s.file_id, kek, s.key);
	seal_copy(copy);
	memcpy(hdr + COPY_SIZE, copy, COPY_SIZE);

	if ((error = write_new_file(dbpath, hdr)) < 0)
		goto done;
	recovery_encode(recovery, recovery_text);
	*out = s;
done:
	sodium_memzero(&s, sizeof(s));
	sodium_memzero(recovery, sizeof(recovery));
	sodium_memzero(kek, sizeof(kek));
	sodium_memzero(hdr, sizeof(hdr));
	return error;
}

/*
 * Opens slot `which` of the valid copies, newest first, with `pass` (a
 * passphrase) or `recovery` (a decoded recovery key). A copy whose slot is
 * identical to the one just tried is skipped (same salt: same answer).
 */
static int unlock_with(const char *dbpath, int which, const char *pass,
		       size_t passlen, const unsigned char *recovery,
		       tidu_secret *out)
{
	unsigned char hdr[TIDU_HEADER_SIZE], kek[32], check[KEYCHECK_BYTES];
	const unsigned char *copy = hdr, *prev = NULL;
	int order[2], n, i, opened = 0, error;

	if ((error = load_header(dbpath, hdr)) < 0)
		goto done;
	if ((n = valid_copies(hdr, order)) == 0) {
		error = tidu_error_set(TIDU_ECORRUPT,
			_("both copies of the key header of '%s' are damaged"), dbpath);
		goto done;
	}
	for (i = 0; i < n && !opened; i++) {
		copy = hdr + order[i] * COPY_SIZE;
		if (prev && memcmp(cslot_of(prev, which), cslot_of(copy, which),
				   SLOT_SIZE) == 0 &&
		    memcmp(prev + OFF_FILE_ID, copy + OFF_FILE_ID,
			   TIDU_FILE_ID_BYTES) == 0)
			continue;
		prev = copy;
		if (which == SLOT_PASS) {
			if ((error = pass_kek(cslot_of(copy, which), pass, passlen,
					      kek)) < 0)
				goto done;
		} else {
			recovery_kek(cslot_of(copy, which), copy + OFF_FILE_ID,
				     recovery, kek);
		}
		opened = slot_unwrap(cslot_of(copy, which), copy + OFF_FILE_ID,
				     kek, out->key) == 0;
	}
	if (!opened) {
		error = tidu_error_set(TIDU_EPASS, which == SLOT_PASS ?
			_("wrong passphrase for '%s'") :
			_("this recovery key does not open '%s'"), dbpath);
		goto done;
	}
	/* `copy` is the copy that opened. */
	key_check(out->key, copy + OFF_FILE_ID, check);
	if (sodium_memcmp(check, copy + OFF_KEYCHECK, KEYCHECK_BYTES) != 0) {
		error = tidu_error_set(TIDU_ECORRUPT,
			_("the key header of '%s' is inconsistent"), dbpath);
		goto done;
	}
	memcpy(out->file_id, copy + OFF_FILE_ID, TIDU_FILE_ID_BYTES);
done:
	if (error < 0)
		sodium_memzero(out, sizeof(*out));
	sodium_memzero(kek, sizeof(kek));
	sodium_memzero(hdr, sizeof(hdr));
	return error;
}

int tidu_keyfile_unlock(const char *dbpath, const char *pass, size_t passlen,
			tidu_secret *out)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (!dbpath || (!pass && passlen) || !out)
		return tidu_error_set(TIDU_EINVAL, "%s", _("bad arguments to unlock a store"));
	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialize libsodium"));
	return unlock_with(dbpath, SLOT_PASS, pass ? pass : "", passlen, NULL, out);
}

int tidu_keyfile_unlock_recovery(const char *dbpath, const char *recovery_text,
				 tidu_secret *out)
{
	unsigned char recovery[RECOVERY_BYTES];
	int error;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!dbpath || !recovery_text || !out)
		return tidu_error_set(TIDU_EINVAL, "%s", _("bad arguments to unlock a store"));
	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialize libsodium"));
	if ((error = recovery_decode(recovery_text, recovery)) == 0)
		error = unlock_with(dbpath, SLOT_RECOVERY, NULL, 0, recovery, out);
	sodium_memzero(recovery, sizeof(recovery));
	return error;
}

int tidu_keyfile_check_secret(const char *dbpath, const tidu_secret *s)
{
	unsigned char hdr[TIDU_HEADER_SIZE], check[KEYCHECK_BYTES];
	const unsigned char *newest;
	int order[2], error;

	if (!dbpath || !s)
		return tidu_error_set(TIDU_EINVAL, "%s", _("bad arguments to unlock a store"));
	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialize libsodium"));
	if ((error = load_header(dbpath, hdr)) < 0)
		return error;
	if (valid_copies(hdr, order) == 0)
		return tidu_error_set(TIDU_ECORRUPT,
			_("both copies of the key header of '%s' are damaged"), dbpath);
	newest = hdr + order[0] * COPY_SIZE;
	key_check(s->key, s->file_id, check);
	if (sodium_memcmp(s->file_id, newest + OFF_FILE_ID, TIDU_FILE_ID_BYTES) != 0 ||
	    sodium_memcmp(check, newest + OFF_KEYCHECK, KEYCHECK_BYTES) != 0)
		error = tidu_error_set(TIDU_EPASS,
			_("the key given does not belong to the store '%s'"), dbpath);
	sodium_memzero(check, sizeof(check));
	return error;
}

int tidu_keyfile_set_passphrase(const char *dbpath, const tidu_secret *s,
				const char *pass, size_t passlen)
{
	unsigned char hdr[TIDU_HEADER_SIZE], fresh[COPY_SIZE], check[KEYCHECK_BYTES];
	const unsigned char *newest;
	int order[2], n, first, error;

	if (!dbpath || !s || !pass || !passlen)
		return tidu_error_set(TIDU_EINVAL, "%s", pass && !passlen ?
			_("the passphrase must not be empty") :
			_("bad arguments to set a passphrase"));
	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialize libsodium"));
	if ((error = load_header(dbpath, hdr)) < 0)
		goto done;
	if ((n = valid_copies(hdr, order)) == 0) {
		error = tidu_error_set(TIDU_ECORRUPT,
			_("both copies of the key header of '%s' are damaged"), dbpath);
		goto done;
	}
	newest = hdr + order[0] * COPY_SIZE;
	key_check(s->key, s->file_id, check);
	if (sodium_memcmp(s->file_id, newest + OFF_FILE_ID, TIDU_FILE_ID_BYTES) != 0 ||
	    sodium_memcmp(check, newest + OFF_KEYCHECK, KEYCHECK_BYTES) != 0) {
		error = tidu_error_set(TIDU_EINVAL,
			_("the key given does not belong to the store '%s'"), dbpath);
		goto done;
	}

	memcpy(fresh, newest, COPY_SIZE);
	put64(fresh + OFF_GEN, get64(newest + OFF_GEN) + 1);
	if ((error = make_pass_slot(slot_of(fresh, SLOT_PASS), s->file_id,
				    s->key, pass, passlen)) < 0)
		goto done;
	seal_copy(fresh);

	/*
	 * The damaged or older copy first: until it is durable the other one
	 * still opens with the old passphrase; after that it opens with the
	 * new one, whatever happens to the second write.
	 */
	first = n == 1 ? !order[0] : order[1];
	if ((error = tidu_vfs_raw_write(dbpath, fresh, COPY_SIZE,
					(sqlite3_int64)first * COPY_SIZE)) < 0 ||
	    (error = tidu_vfs_raw_write(dbpath, fresh, COPY_SIZE,
					(sqlite3_int64)!first * COPY_SIZE)) < 0)
		goto done;
done:
	sodium_memzero(hdr, sizeof(hdr));
	sodium_memzero(fresh, sizeof(fresh));
	return error;
}

int tidu_keyfile_check(const char *dbpath)
{
	unsigned char hdr[TIDU_HEADER_SIZE];
	int va, vb, error;

	if (!dbpath)
		return tidu_error_set(TIDU_EINVAL, "%s", _("bad arguments to check a store"));
	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialize libsodium"));
	if ((error = load_header(dbpath, hdr)) < 0)
		return error;
	va = copy_valid(hdr);
	vb = copy_valid(hdr + COPY_SIZE);
	if (!va && !vb)
		error = tidu_error_set(TIDU_ECORRUPT,
			_("both copies of the key header of '%s' are damaged"), dbpath);
	else if (!va || !vb)
		error = tidu_error_set(TIDU_ECORRUPT,
			_("copy %c of the key header of '%s' is damaged (copy %c is "
			  "intact; setting the passphrase again rewrites both)"),
			va ? 'B' : 'A', dbpath, va ? 'A' : 'B');
	else if (memcmp(hdr, hdr + COPY_SIZE, COPY_SIZE) != 0)
		error = tidu_error_set(TIDU_ECORRUPT,
			_("the copies of the key header of '%s' differ (generations "
			  "%llu and %llu): a passphrase change was interrupted; set "
			  "the passphrase again"), dbpath, get64(hdr + OFF_GEN),
			get64(hdr + COPY_SIZE + OFF_GEN));
	return error;
}

void tidu_secret_wipe(tidu_secret *s)
{
	if (s)
		sodium_memzero(s, sizeof(*s));
}
