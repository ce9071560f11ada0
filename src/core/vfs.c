/*
 * The "tidu" VFS: page encryption under SQLite (see vfs.h and
 * docs/security.md for the design, the on-disk layout and its limits).
 *
 * Files and how their bytes are handled:
 *
 *   main database   [key header][page 1][page 2]...; every SQLite offset is
 *                   shifted by TIDU_HEADER_SIZE. Each page is stored as
 *                   ciphertext(4056) || nonce(24) || tag(16).
 *   WAL             32-byte header and 24-byte frame headers in the clear;
 *                   the page of each frame is encrypted like a database page
 *                   (page number taken from its frame header).
 *   rollback        records are pgno(4) || page || checksum(4); the page
 *   journal         image is encrypted like a database page. SQLite only
 *                   creates one when a database leaves or enters WAL mode
 *                   (no page images: the database is empty then) or when a
 *                   store is used in a rollback journal mode.
 *   anything else   (temp databases, statement journals, sorter spills,
 *                   super-journals) refused with SQLITE_CANTOPEN.
 *
 * The associated data of every page is "tidu-page-v1" || file id || pgno
 * (u32 little-endian). The nonce is a per-process random 16-byte prefix and
 * a 64-bit counter; a forked child draws a new prefix (pthread_atfork).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/vfs.h"

#define PAGE TIDU_PAGE_SIZE
#define RESERVE TIDU_PAGE_RESERVE
#define PAYLOAD (PAGE - RESERVE)
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define NONCE_OFF PAYLOAD
#define TAG_OFF (PAYLOAD + NONCE_BYTES)
#define HDR TIDU_HEADER_SIZE

_Static_assert(NONCE_BYTES + TAG_BYTES == RESERVE,
	       "the nonce and the tag fill the reserved bytes");
_Static_assert(TIDU_KEY_BYTES ==
	       crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");
_Static_assert(HDR % PAGE == 0, "pages stay aligned behind the header");

#define WAL_HDR 32                  /* WAL file header */
#define FRAME_HDR 24                /* WAL frame header */
#define FRAME (FRAME_HDR + PAGE)    /* one WAL frame */
#define WAL_MAGIC 0x377f0682u       /* low bit: checksum byte order */
#define WAL_VERSION 3007000u
#define JRNL_PGNO 4                 /* journal record: pgno, page, cksum */
#define JRNL_HDR_USED 28            /* nonzero bytes of a journal header */

/* SQLite never writes the page that holds its lock bytes. */
#define PENDING_PGNO ((uint32_t)(0x40000000 / PAGE + 1))

#define MAX_KEYS 16      /* stores attached at once */
#define PATH_BYTES 1025  /* > mxPathname of the unix VFS (512) */

static const char page_domain[] = "tidu-page-v1";
#define DOMAIN_LEN (sizeof(page_domain) - 1)
#define AD_BYTES (DOMAIN_LEN + TIDU_FILE_ID_BYTES + 4)

enum kind { KIND_MAIN = 1, KIND_WAL, KIND_JOURNAL };

/*
 * One open file. SQLite allocates szOsFile bytes: this struct, then the
 * unix VFS's file object at `real`.
 */
typedef struct tidu_file {
	sqlite3_file base;
	sqlite3_file *real;
	enum kind kind;
	const char *path;        /* main db: SQLite's name, valid until close */
	struct tidu_file *next;  /* list of open main databases (g_open) */
	unsigned char key[TIDU_KEY_BYTES];
	unsigned char file_id[TIDU_FILE_ID_BYTES];
	/*
	 * WAL and journal: offset and page number of the last frame header
	 * or record header written, so that the page written right after it
	 * is sealed with the right page number (-1: none).
	 */
	sqlite3_int64 rec_off;
	uint32_t rec_pgno;
	/* journal: where the checksum of the last page image goes (-1). */
	sqlite3_int64 cksum_off;
	/*
	 * Checkpoint copy. A checkpoint reads each page from the WAL and
	 * writes it to the database unchanged; since a page's ciphertext is
	 * bound to the file id and page number only, the WAL's ciphertext is
	 * valid in the database as it is. So while the database file is in a
	 * checkpoint (SQLITE_FCNTL_CKPT_START..DONE), the WAL remembers on it
	 * the last page it authenticated, and the database writes that
	 * ciphertext instead of sealing the same plaintext again.
	 */
	struct tidu_file *db;    /* WAL: the database file of its connection */
	int in_ckpt;             /* main db: inside a checkpoint */
	int ck_valid;            /* main db: ck_* hold a page */
	uint32_t ck_pgno;
	unsigned char ck_cipher[PAGE];
	unsigned char ck_plain[PAGE];
	unsigned char buf[FRAME]; /* scratch; wiped after plaintext use */
} tidu_file;

#define REAL_OFFSET ((sizeof(tidu_file) + 15) & ~(size_t)15)

struct key_entry {
	int used;
	char path[PATH_BYTES];
	unsigned char key[TIDU_KEY_BYTES];
	unsigned char file_id[TIDU_FILE_ID_BYTES];
};

/* g_mutex guards g_keys and g_open. */
static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct key_entry g_keys[MAX_KEYS];
static tidu_file *g_open;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_ready;
static sqlite3_vfs *g_orig;
static sqlite3_vfs g_vfs;
static const sqlite3_io_methods g_methods;

static unsigned char g_prefix[16];
static _Atomic uint64_t g_counter;
static atomic_ulong g_tamper;
static atomic_uint g_last_bad;
static atomic_ulong g_dropped;

/* ---- bytes ------------------------------------------------------------ */

static uint32_t get32be(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint32_t get32le(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | (uint32_t)p[0];
}

static void put32le(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* ---- page crypto -------------------------------------------------------- */

static void after_fork_child(void)
{
	/* The child must never reuse the parent's nonces. */
	randombytes_buf(g_prefix, sizeof(g_prefix));
	atomic_store(&g_counter, 0);
}

static void make_nonce(unsigned char nonce[NONCE_BYTES])
{
	uint64_t c = atomic_fetch_add_explicit(&g_counter, 1,
					       memory_order_relaxed);

	memcpy(nonce, g_prefix, sizeof(g_prefix));
	put32le(nonce + 16, (uint32_t)c);
	put32le(nonce + 20, (uint32_t)(c >> 32));
}

static void make_ad(unsigned char ad[AD_BYTES], const unsigned char *file_id,
		    uint32_t pgno)
{
	memcpy(ad, page_domain, DOMAIN_LEN);
	memcpy(ad + DOMAIN_LEN, file_id, TIDU_FILE_ID_BYTES);
	put32le(ad + DOMAIN_LEN + TIDU_FILE_ID_BYTES, pgno);
}

static void note_tamper(uint32_t pgno)
{
	atomic_fetch_add(&g_tamper, 1);
	atomic_store(&g_last_bad, pgno);
}

/*
 * Page 1 must describe the layout the encryption needs: page size 4096
 * (bytes 16-17, big-endian) and 40 reserved bytes (byte 20). Writing any
 * other page 1 would let SQLite use the bytes that hold nonce and tag.
 */
static int page1_layout_ok(const unsigned char *p)
{
	return p[16] == (PAGE >> 8) && p[17] == (PAGE & 0xff) &&
	       p[20] == RESERVE;
}

/*
 * Encrypts the page `plain` (page number `pgno`) into `out` (PAGE bytes).
 * The reserved bytes of the plaintext must be zero: SQLite never uses them,
 * and the reads hand them back as zeros, so anything else would be lost
 * (and would break the WAL checksums SQLite computed over it).
 */
static int seal_page(const tidu_file *f, uint32_t pgno,
		     const unsigned char *plain, unsigned char *out)
{
	unsigned char ad[AD_BYTES];

	if (pgno == 0 || !sodium_is_zero(plain + PAYLOAD, RESERVE))
		return SQLITE_IOERR_WRITE;
	if (pgno == 1 && !page1_layout_ok(plain))
		return SQLITE_IOERR_WRITE;
	make_nonce(out + NONCE_OFF);
	make_ad(ad, f->file_id, pgno);
	crypto_aead_xchacha20poly1305_ietf_encrypt_detached(out, out + TAG_OFF,
		NULL, plain, PAYLOAD, ad, sizeof(ad), NULL, out + NONCE_OFF,
		f->key);
	return SQLITE_OK;
}

/*
 * Authenticates and decrypts the stored page `page` in place. On success
 * the reserved bytes become zeros; on failure the whole page is zeroed and
 * -1 returned. Counts nothing: the caller decides what a failure means.
 */
static int open_page(const unsigned char *key, const unsigned char *file_id,
		     uint32_t pgno, unsigned char *page)
{
	unsigned char ad[AD_BYTES];

	make_ad(ad, file_id, pgno);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(page, NULL,
		page, PAYLOAD, page + TAG_OFF, ad, sizeof(ad),
		page + NONCE_OFF, key) != 0) {
		sodium_memzero(page, PAGE);
		return -1;
	}
	sodium_memzero(page + PAYLOAD, RESERVE);
	return 0;
}

/* ---- keys --------------------------------------------------------------- */

/* SQLite's name for `path` (what xOpen will be given). 0 or -1. */
static int full_path(const char *path, char out[PATH_BYTES])
{
	int rc;

	if (!g_orig || g_orig->mxPathname >= PATH_BYTES)
		return -1;
	rc = g_orig->xFullPathname(g_orig, path, PATH_BYTES, out);
	return (rc & 0xff) == SQLITE_OK ? 0 : -1;
}

static struct key_entry *find_key_locked(const char *path)
{
	int i;

	for (i = 0; i < MAX_KEYS; i++)
		if (g_keys[i].used && strcmp(g_keys[i].path, path) == 0)
			return &g_keys[i];
	return NULL;
}

/* Copies the key attached to `path` into `f`. 0 or -1 (none). */
static int key_lookup(const char *path, tidu_file *f)
{
	struct key_entry *e;

	if (!path)
		return -1;
	pthread_mutex_lock(&g_mutex);
	if ((e = find_key_locked(path)) != NULL) {
		memcpy(f->key, e->key, sizeof(f->key));
		memcpy(f->file_id, e->file_id, sizeof(f->file_id));
	}
	pthread_mutex_unlock(&g_mutex);
	return e ? 0 : -1;
}

int tidu_vfs_attach_key(const char *dbpath,
			const unsigned char key[TIDU_KEY_BYTES],
			const unsigned char file_id[TIDU_FILE_ID_BYTES])
{
	char full[PATH_BYTES];
	struct key_entry *e;
	int i, error = 0;

	if (!dbpath || !key || !file_id)
		return tidu_error_set(TIDU_EINVAL, "%s", _("no database key given"));
	if (!g_ready)
		return tidu_error_set(TIDU_ERROR,
			"%s", _("the encrypting database layer is not registered"));
	if (full_path(dbpath, full) < 0)
		return tidu_error_set(TIDU_EINVAL,
			_("cannot resolve the path '%s'"), dbpath);

	pthread_mutex_lock(&g_mutex);
	e = find_key_locked(full);
	for (i = 0; !e && i < MAX_KEYS; i++)
		if (!g_keys[i].used)
			e = &g_keys[i];
	if (!e) {
		error = tidu_error_set(TIDU_ERROR,
			_("too many stores are open at once (at most %d)"),
			MAX_KEYS);
		goto done;
	}
	e->used = 1;
	memcpy(e->path, full, sizeof(e->path));
	memcpy(e->key, key, sizeof(e->key));
	memcpy(e->file_id, file_id, sizeof(e->file_id));
done:
	pthread_mutex_unlock(&g_mutex);
	return error;
}

void tidu_vfs_detach_key(const char *dbpath)
{
	char full[PATH_BYTES];
	struct key_entry *e;

	if (!dbpath || !g_ready || full_path(dbpath, full) < 0)
		return;
	pthread_mutex_lock(&g_mutex);
	if ((e = find_key_locked(full)) != NULL)
		sodium_memzero(e, sizeof(*e));
	pthread_mutex_unlock(&g_mutex);
}

/* ---- main database ------------------------------------------------------ */

/* Reads and opens page `pgno` into `page` (PAGE bytes). */
static int main_read_page(tidu_file *f, uint32_t pgno, unsigned char *page)
{
	sqlite3_int64 at = HDR + (sqlite3_int64)(pgno - 1) * PAGE;
	sqlite3_int64 size;
	int rc;

	rc = f->real->pMethods->xRead(f->real, page, PAGE, at);
	if (rc == SQLITE_IOERR_SHORT_READ) {
		/* Past the end: zeros, never authenticated. A page cut short
		 * inside the file is damage, not the end. */
		memset(page, 0, PAGE);
		if ((rc = f->real->pMethods->xFileSize(f->real, &size)) != SQLITE_OK)
			return rc;
		if (size <= at)
			return SQLITE_IOERR_SHORT_READ;
		note_tamper(pgno);
		return SQLITE_IOERR_DATA;
	}
	if (rc != SQLITE_OK) {
		memset(page, 0, PAGE);
		return rc;
	}
	if (open_page(f->key, f->file_id, pgno, page) < 0) {
		note_tamper(pgno);
		return SQLITE_IOERR_DATA;
	}
	return SQLITE_OK;
}

/*
 * Any range of the database: each page it touches is read whole and
 * authenticated, then the slice copied (the pager reads 100 bytes at 0 and
 * 16 bytes at 24 of page 1).
 */
static int main_read(tidu_file *f, unsigned char *out, int amt,
		     sqlite3_int64 off)
{
	unsigned char *start = out;
	int total = amt, rc = SQLITE_OK;

	while (amt > 0) {
		sqlite3_int64 idx = off / PAGE;
		int in = (int)(off % PAGE);
		int n = amt < PAGE - in ? amt : PAGE - in;
		int whole = in == 0 && n == PAGE;

		if (idx >= UINT32_MAX) {
			rc = SQLITE_IOERR_READ;
			break;
		}
		rc = main_read_page(f, (uint32_t)idx + 1, whole ? out : f->buf);
		if (!whole) {
			if (rc == SQLITE_OK)
				memcpy(out, f->buf + in, (size_t)n);
			sodium_memzero(f->buf, PAGE);
		}
		if (rc != SQLITE_OK)
			break;
		out += n;
		off += n;
		amt -= n;
	}
	if (rc == SQLITE_IOERR_SHORT_READ)
		memset(out, 0, (size_t)amt);
	else if (rc != SQLITE_OK)
		memset(start, 0, (size_t)total);
	return rc;
}

/* SQLite writes whole pages to the database, and only those are allowed. */
static int main_write(tidu_file *f, const unsigned char *in, int amt,
		      sqlite3_int64 off)
{
	int rc;

	if (off < 0 || off % PAGE != 0 || amt % PAGE != 0 ||
	    off / PAGE + amt / PAGE >= UINT32_MAX)
		return SQLITE_IOERR_WRITE;
	for (; amt > 0; amt -= PAGE, in += PAGE, off += PAGE) {
		uint32_t pgno = (uint32_t)(off / PAGE) + 1;
		const unsigned char *page = f->buf;

		if (f->in_ckpt && f->ck_valid && f->ck_pgno == pgno &&
		    memcmp(in, f->ck_plain, PAGE) == 0) {
			/* The page the checkpoint just read: its ciphertext. */
			page = f->ck_cipher;
		} else if ((rc = seal_page(f, pgno, in, f->buf)) != SQLITE_OK) {
			return rc;
		}
		rc = f->real->pMethods->xWrite(f->real, page, PAGE, HDR + off);
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

/* ---- WAL ----------------------------------------------------------------- */

/* Reads the 4-byte page number stored at `at` (a frame or record header). */
static int read_pgno(tidu_file *f, sqlite3_int64 at, uint32_t *out)
{
	unsigned char b[4];
	int rc;

	if (at < 0)
		return SQLITE_IOERR_READ;
	rc = f->real->pMethods->xRead(f->real, b, 4, at);
	if (rc != SQLITE_OK)
		return rc == SQLITE_IOERR_SHORT_READ ? SQLITE_IOERR_READ : rc;
	*out = get32be(b);
	return SQLITE_OK;
}

/*
 * A whole frame: read by SQLite's WAL recovery (and when it recomputes
 * checksums), which then checks the frame's checksum over the plaintext. A
 * page that does not authenticate is handed back as zeros, so the checksum
 * fails and SQLite ends the log there: after a crash that is the torn tail
 * of an unfinished transaction. Such frames are counted (g_dropped).
 */
static int wal_read_frame(tidu_file *f, unsigned char *out, sqlite3_int64 off)
{
	int rc = f->real->pMethods->xRead(f->real, out, FRAME, off);

	if (rc != SQLITE_OK) {
		memset(out + FRAME_HDR, 0, PAGE);
		return rc;
	}
	if (open_page(f->key, f->file_id, get32be(out), out + FRAME_HDR) < 0)
		atomic_fetch_add(&g_dropped, 1);
	return SQLITE_OK;
}

/*
 * The page of a frame SQLite trusts (its index says it is committed): a
 * failure to authenticate is damage or tampering.
 */
static int wal_read_page(tidu_file *f, unsigned char *out, sqlite3_int64 off)
{
	tidu_file *ck;
	uint32_t pgno = 0;
	int rc = f->real->pMethods->xRead(f->real, out, PAGE, off);

	if (rc == SQLITE_OK)
		rc = read_pgno(f, off - FRAME_HDR, &pgno);
	if (rc != SQLITE_OK) {
		memset(out, 0, PAGE);
		return rc;
	}
	ck = f->db && f->db->in_ckpt ? f->db : NULL;
	if (ck) {
		ck->ck_valid = 0;
		memcpy(ck->ck_cipher, out, PAGE);
	}
	if (open_page(f->key, f->file_id, pgno, out) < 0) {
		note_tamper(pgno);
		return SQLITE_IOERR_DATA;
	}
	if (ck) {
		memcpy(ck->ck_plain, out, PAGE);
		ck->ck_pgno = pgno;
		ck->ck_valid = 1;
	}
	return SQLITE_OK;
}

static int wal_read(tidu_file *f, unsigned char *out, int amt,
		    sqlite3_int64 off)
{
	int pos;

	if (off >= 0 && off + amt <= WAL_HDR)
		return f->real->pMethods->xRead(f->real, out, amt, off);
	if (off < WAL_HDR)
		return SQLITE_IOERR_READ;
	pos = (int)((off - WAL_HDR) % FRAME);
	if (pos + amt <= FRAME_HDR) /* frame header bytes only (checksums) */
		return f->real->pMethods->xRead(f->real, out, amt, off);
	if (pos == 0 && amt == FRAME)
		return wal_read_frame(f, out, off);
	if (pos == FRAME_HDR && amt == PAGE)
		return wal_read_page(f, out, off);
	return SQLITE_IOERR_READ;
}

/*
 * SQLite writes the WAL header (32 bytes at 0), frame headers (24 bytes)
 * and frame pages (PAGE bytes) in separate calls. A page written again in
 * the same transaction is overwritten in place without its header: then
 * the page number is read back from the header on disk.
 */
static int wal_write(tidu_file *f, const unsigned char *in, int amt,
		     sqlite3_int64 off)
{
	sqlite3_file *r = f->real;
	uint32_t pgno;
	int pos, rc;

	if (off == 0 && amt == WAL_HDR)
		return r->pMethods->xWrite(r, in, amt, off);
	if (off < WAL_HDR)
		return SQLITE_IOERR_WRITE;
	pos = (int)((off - WAL_HDR) % FRAME);
	if (pos == 0 && amt == FRAME_HDR) {
		rc = r->pMethods->xWrite(r, in, amt, off);
		f->rec_off = rc == SQLITE_OK ? off : -1;
		f->rec_pgno = get32be(in);
		return rc;
	}
	if (pos == 0 && amt == FRAME) {
		f->rec_off = -1;
		memcpy(f->buf, in, FRAME_HDR);
		rc = seal_page(f, get32be(in), in + FRAME_HDR, f->buf + FRAME_HDR);
		return rc != SQLITE_OK ? rc : r->pMethods->xWrite(r, f->buf, FRAME, off);
	}
	if (pos == FRAME_HDR && amt == PAGE) {
		if (f->rec_off == off - FRAME_HDR)
			pgno = f->rec_pgno;
		else if (read_pgno(f, off - FRAME_HDR, &pgno) != SQLITE_OK)
			return SQLITE_IOERR_WRITE;
		f->rec_off = -1;
		if ((rc = seal_page(f, pgno, in, f->buf)) != SQLITE_OK)
			return rc;
		return r->pMethods->xWrite(r, f->buf, PAGE, off);
	}
	return SQLITE_IOERR_WRITE;
}

/* ---- rollback journal ---------------------------------------------------- */

/*
 * Page-sized reads are page images (record: pgno(4) page cksum(4)); all
 * other reads (header fields, record numbers, checksums) are small and
 * hold no page data.
 */
static int journal_read(tidu_file *f, unsigned char *out, int amt,
			sqlite3_int64 off)
{
	uint32_t pgno = 0;
	int rc;

	if (amt < PAGE)
		return f->real->pMethods->xRead(f->real, out, amt, off);
	if (amt != PAGE || off < JRNL_PGNO)
		return SQLITE_IOERR_READ;
	rc = f->real->pMethods->xRead(f->real, out, PAGE, off);
	if (rc == SQLITE_OK)
		rc = read_pgno(f, off - JRNL_PGNO, &pgno);
	if (rc != SQLITE_OK) {
		memset(out, 0, PAGE);
		return rc;
	}
	if (open_page(f->key, f->file_id, pgno, out) < 0) {
		note_tamper(pgno);
		return SQLITE_IOERR_DATA;
	}
	return SQLITE_OK;
}

/*
 * A page image is a page-sized write right after a 4-byte write of its page
 * number; the 4-byte write right after the image is its checksum. The only
 * other page-sized writes are journal header sectors, which hold 28 bytes
 * and zeros: anything else is refused rather than written in the clear.
 */
static int journal_write(tidu_file *f, const unsigned char *in, int amt,
			 sqlite3_int64 off)
{
	sqlite3_file *r = f->real;
	sqlite3_int64 rec_off = f->rec_off;
	int rc;

	f->rec_off = -1;
	if (amt == JRNL_PGNO) {
		if (off == f->cksum_off) {
			f->cksum_off = -1;
		} else {
			f->rec_off = off;
			f->rec_pgno = get32be(in);
		}
		return r->pMethods->xWrite(r, in, amt, off);
	}
	f->cksum_off = -1;
	if (amt == PAGE && rec_off >= 0 && off == rec_off + JRNL_PGNO) {
		if ((rc = seal_page(f, f->rec_pgno, in, f->buf)) != SQLITE_OK)
			return rc;
		rc = r->pMethods->xWrite(r, f->buf, PAGE, off);
		if (rc == SQLITE_OK)
			f->cksum_off = off + PAGE;
		return rc;
	}
	if (amt < PAGE ||
	    (amt == PAGE && sodium_is_zero(in + JRNL_HDR_USED, PAGE - JRNL_HDR_USED)))
		return r->pMethods->xWrite(r, in, amt, off);
	return SQLITE_IOERR_WRITE;
}

/* ---- io methods ---------------------------------------------------------- */

static int io_close(sqlite3_file *file)
{
	tidu_file *f = (tidu_file *)file;
	tidu_file **pp;
	int rc = SQLITE_OK;

	if (f->kind == KIND_MAIN) {
		pthread_mutex_lock(&g_mutex);
		for (pp = &g_open; *pp; pp = &(*pp)->next)
			if (*pp == f) {
				*pp = f->next;
				break;
			}
		pthread_mutex_unlock(&g_mutex);
	}
	if (f->real->pMethods)
		rc = f->real->pMethods->xClose(f->real);
	sodium_memzero(f->key, sizeof(f->key));
	sodium_memzero(f->file_id, sizeof(f->file_id));
	sodium_memzero(f->buf, sizeof(f->buf));
	sodium_memzero(f->ck_plain, sizeof(f->ck_plain));
	return rc;
}

static int io_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
	tidu_file *f = (tidu_file *)file;

	if (amt <= 0 || off < 0)
		return SQLITE_IOERR_READ;
	switch (f->kind) {
	case KIND_MAIN:
		return main_read(f, out, amt, off);
	case KIND_WAL:
		return wal_read(f, out, amt, off);
	case KIND_JOURNAL:
		return journal_read(f, out, amt, off);
	}
	return SQLITE_IOERR_READ;
}

static int io_write(sqlite3_file *file, const void *in, int amt,
		    sqlite3_int64 off)
{
	tidu_file *f = (tidu_file *)file;

	if (amt <= 0 || off < 0)
		return SQLITE_IOERR_WRITE;
	switch (f->kind) {
	case KIND_MAIN:
		return main_write(f, in, amt, off);
	case KIND_WAL:
		return wal_write(f, in, amt, off);
	case KIND_JOURNAL:
		return journal_write(f, in, amt, off);
	}
	return SQLITE_IOERR_WRITE;
}

static int io_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	tidu_file *f = (tidu_file *)file;

	if (f->kind == KIND_MAIN)
		size += HDR;
	return f->real->pMethods->xTruncate(f->real, size);
}

static int io_sync(sqlite3_file *file, int flags)
{
	tidu_file *f = (tidu_file *)file;

	return f->real->pMethods->xSync(f->real, flags);
}

static int io_file_size(sqlite3_file *file, sqlite3_int64 *out)
{
	tidu_file *f = (tidu_file *)file;
	int rc = f->real->pMethods->xFileSize(f->real, out);

	if (rc == SQLITE_OK && f->kind == KIND_MAIN)
		*out = *out > HDR ? *out - HDR : 0;
	return rc;
}

static int io_lock(sqlite3_file *file, int level)
{
	tidu_file *f = (tidu_file *)file;

	return f->real->pMethods->xLock(f->real, level);
}

static int io_unlock(sqlite3_file *file, int level)
{
	tidu_file *f = (tidu_file *)file;

	return f->real->pMethods->xUnlock(f->real, level);
}

static int io_check_reserved_lock(sqlite3_file *file, int *out)
{
	tidu_file *f = (tidu_file *)file;

	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int io_file_control(sqlite3_file *file, int op, void *arg)
{
	tidu_file *f = (tidu_file *)file;
	sqlite3_file *r = f->real;
	sqlite3_int64 hint;
	int rc;

	switch (op) {
	case SQLITE_FCNTL_CKPT_START:
	case SQLITE_FCNTL_CKPT_DONE:
		if (f->kind == KIND_MAIN) {
			f->in_ckpt = op == SQLITE_FCNTL_CKPT_START;
			f->ck_valid = 0;
			if (!f->in_ckpt)
				sodium_memzero(f->ck_plain, PAGE);
		}
		break;
	case SQLITE_FCNTL_SIZE_HINT:
		if (f->kind != KIND_MAIN)
			break;
		hint = *(sqlite3_int64 *)arg + HDR;
		return r->pMethods->xFileControl(r, op, &hint);
	case SQLITE_FCNTL_CHUNK_SIZE:
		/* Chunked growth would leave all-zero, unauthenticated pages. */
		return SQLITE_NOTFOUND;
	case SQLITE_FCNTL_MMAP_SIZE:
		/* Never map: mapped reads would hand SQLite ciphertext. */
		*(sqlite3_int64 *)arg = 0;
		return SQLITE_OK;
	case SQLITE_FCNTL_VFSNAME:
		rc = r->pMethods->xFileControl(r, op, arg);
		if (rc == SQLITE_OK && *(char **)arg)
			*(char **)arg = sqlite3_mprintf("%s/%z", TIDU_VFS_NAME,
							*(char **)arg);
		else
			*(char **)arg = sqlite3_mprintf("%s", TIDU_VFS_NAME);
		return SQLITE_OK;
	default:
		break;
	}
	return r->pMethods->xFileControl(r, op, arg);
}

static int io_sector_size(sqlite3_file *file)
{
	tidu_file *f = (tidu_file *)file;

	return f->real->pMethods->xSectorSize(f->real);
}

/*
 * Powersafe overwrite keeps SQLite from padding WAL commits to sector
 * boundaries (which would split frame writes); no atomic-write claims, so
 * SQLite always journals.
 */
static int io_device_characteristics(sqlite3_file *file)
{
	tidu_file *f = (tidu_file *)file;
	int dc = f->real->pMethods->xDeviceCharacteristics(f->real);

	return (dc & (SQLITE_IOCAP_UNDELETABLE_WHEN_OPEN | SQLITE_IOCAP_IMMUTABLE)) |
	       SQLITE_IOCAP_POWERSAFE_OVERWRITE;
}

static int io_shm_map(sqlite3_file *file, int region, int size, int extend,
		      void volatile **out)
{
	tidu_file *f = (tidu_file *)file;

	return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

static int io_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	tidu_file *f = (tidu_file *)file;

	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void io_shm_barrier(sqlite3_file *file)
{
	tidu_file *f = (tidu_file *)file;

	f->real->pMethods->xShmBarrier(f->real);
}

static int io_shm_unmap(sqlite3_file *file, int delete_flag)
{
	tidu_file *f = (tidu_file *)file;

	return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

/* Version 2: shared memory for WAL, but no xFetch/xUnfetch (no mmap). */
static const sqlite3_io_methods g_methods = {
	2,
	io_close,
	io_read,
	io_write,
	io_truncate,
	io_sync,
	io_file_size,
	io_lock,
	io_unlock,
	io_check_reserved_lock,
	io_file_control,
	io_sector_size,
	io_device_characteristics,
	io_shm_map,
	io_shm_lock,
	io_shm_barrier,
	io_shm_unmap,
	NULL,
	NULL,
};

/* ---- vfs methods ---------------------------------------------------------- */

/* The key of a WAL or journal: its database's open file, else the table. */
static int key_from_database(sqlite3_filename name, tidu_file *f)
{
	sqlite3_file *db;

	if (!name)
		return -1;
	db = sqlite3_database_file_object(name);
	if (db && db->pMethods == &g_methods) {
		/* Same connection: the database file outlives its WAL. */
		f->db = (tidu_file *)db;
		memcpy(f->key, ((tidu_file *)db)->key, sizeof(f->key));
		memcpy(f->file_id, ((tidu_file *)db)->file_id, sizeof(f->file_id));
		return 0;
	}
	return key_lookup(sqlite3_filename_database(name), f);
}

static int vfs_open(sqlite3_vfs *vfs, sqlite3_filename name,
		    sqlite3_file *file, int flags, int *out_flags)
{
	const int types = SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_TEMP_DB |
		SQLITE_OPEN_TRANSIENT_DB | SQLITE_OPEN_MAIN_JOURNAL |
		SQLITE_OPEN_TEMP_JOURNAL | SQLITE_OPEN_SUBJOURNAL |
		SQLITE_OPEN_SUPER_JOURNAL | SQLITE_OPEN_WAL;
	tidu_file *f = (tidu_file *)file;
	sqlite3_int64 size;
	int rc;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)((char *)f + REAL_OFFSET);
	f->rec_off = -1;
	f->cksum_off = -1;
	switch (flags & types) {
	case SQLITE_OPEN_MAIN_DB:
		f->kind = KIND_MAIN;
		if (key_lookup(name, f) < 0)
			return SQLITE_CANTOPEN;
		/* The file and its key header are made by keyfile.c. */
		flags &= ~SQLITE_OPEN_CREATE;
		break;
	case SQLITE_OPEN_WAL:
		f->kind = KIND_WAL;
		if (key_from_database(name, f) < 0)
			return SQLITE_CANTOPEN;
		break;
	case SQLITE_OPEN_MAIN_JOURNAL:
		f->kind = KIND_JOURNAL;
		if (key_from_database(name, f) < 0)
			return SQLITE_CANTOPEN;
		break;
	default:
		/* Temp files would hold plaintext: temp_store=MEMORY. */
		return SQLITE_CANTOPEN;
	}

	rc = g_orig->xOpen(g_orig, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK)
		goto fail;
	if (f->kind == KIND_MAIN) {
		rc = f->real->pMethods->xFileSize(f->real, &size);
		if (rc == SQLITE_OK && size < HDR)
			rc = SQLITE_CANTOPEN; /* no key header: not a store */
		if (rc != SQLITE_OK) {
			f->real->pMethods->xClose(f->real);
			goto fail;
		}
		f->path = name;
		pthread_mutex_lock(&g_mutex);
		f->next = g_open;
		g_open = f;
		pthread_mutex_unlock(&g_mutex);
	}
	f->base.pMethods = &g_methods;
	return SQLITE_OK;
fail:
	sodium_memzero(f->key, sizeof(f->key));
	f->base.pMethods = NULL;
	return rc;
}

static int vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return g_orig->xDelete(g_orig, name, sync_dir);
}

static int vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return g_orig->xAccess(g_orig, name, flags, out);
}

static int vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n,
			     char *out)
{
	(void)vfs;
	return g_orig->xFullPathname(g_orig, name, n, out);
}

static void *vfs_dl_open(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return g_orig->xDlOpen(g_orig, name);
}

static void vfs_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	g_orig->xDlError(g_orig, n, out);
}

static void (*vfs_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return g_orig->xDlSym(g_orig, h, sym);
}

static void vfs_dl_close(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	g_orig->xDlClose(g_orig, h);
}

static int vfs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return g_orig->xRandomness(g_orig, n, out);
}

static int vfs_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return g_orig->xSleep(g_orig, us);
}

static int vfs_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return g_orig->xCurrentTime(g_orig, out);
}

static int vfs_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return g_orig->xGetLastError(g_orig, n, out);
}

static int vfs_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return g_orig->xCurrentTimeInt64(g_orig, out);
}

static int vfs_set_system_call(sqlite3_vfs *vfs, const char *name,
			       sqlite3_syscall_ptr p)
{
	(void)vfs;
	return g_orig->xSetSystemCall(g_orig, name, p);
}

static sqlite3_syscall_ptr vfs_get_system_call(sqlite3_vfs *vfs,
					       const char *name)
{
	(void)vfs;
	return g_orig->xGetSystemCall(g_orig, name);
}

static const char *vfs_next_system_call(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return g_orig->xNextSystemCall(g_orig, name);
}

static void init_once(void)
{
	if (sodium_init() < 0 || sqlite3_initialize() != SQLITE_OK)
		return;
	g_orig = sqlite3_vfs_find("unix");
	if (!g_orig || g_orig->iVersion < 3 || g_orig->mxPathname >= PATH_BYTES)
		return;
	randombytes_buf(g_prefix, sizeof(g_prefix));
	sodium_mlock(g_keys, sizeof(g_keys)); /* best effort */
	if (pthread_atfork(NULL, NULL, after_fork_child) != 0)
		return;
	g_vfs.iVersion = 3;
	g_vfs.szOsFile = (int)REAL_OFFSET + g_orig->szOsFile;
	g_vfs.mxPathname = g_orig->mxPathname;
	g_vfs.zName = TIDU_VFS_NAME;
	g_vfs.xOpen = vfs_open;
	g_vfs.xDelete = vfs_delete;
	g_vfs.xAccess = vfs_access;
	g_vfs.xFullPathname = vfs_full_pathname;
	g_vfs.xDlOpen = vfs_dl_open;
	g_vfs.xDlError = vfs_dl_error;
	g_vfs.xDlSym = vfs_dl_sym;
	g_vfs.xDlClose = vfs_dl_close;
	g_vfs.xRandomness = vfs_randomness;
	g_vfs.xSleep = vfs_sleep;
	g_vfs.xCurrentTime = vfs_current_time;
	g_vfs.xGetLastError = vfs_get_last_error;
	g_vfs.xCurrentTimeInt64 = vfs_current_time_int64;
	g_vfs.xSetSystemCall = vfs_set_system_call;
	g_vfs.xGetSystemCall = vfs_get_system_call;
	g_vfs.xNextSystemCall = vfs_next_system_call;
	if (sqlite3_vfs_register(&g_vfs, 0) != SQLITE_OK)
		return;
	g_ready = 1;
}

int tidu_vfs_register(void)
{
	pthread_once(&g_once, init_once);
	if (!g_ready)
		return tidu_error_set(TIDU_ERROR,
			"%s", _("cannot set up the encrypting database layer"));
	return 0;
}

unsigned long tidu_vfs_tamper_count(void)
{
	return atomic_load(&g_tamper);
}

unsigned tidu_vfs_last_bad_page(void)
{
	return atomic_load(&g_last_bad);
}

unsigned long tidu_vfs_wal_dropped_count(void)
{
	return atomic_load(&g_dropped);
}

/* ---- new databases ------------------------------------------------------- */

static int pragma_int(sqlite3 *db, const char *sql, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int tidu_vfs_configure_new(sqlite3 *db)
{
	sqlite3_vfs *vfs = NULL;
	int pages = -1, size = 0, reserve, rc;

	if (!db || sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER,
					&vfs) != SQLITE_OK || vfs != &g_vfs)
		return tidu_error_set(TIDU_EINVAL,
			"%s", _("the database is not opened through the encrypting layer"));
	if ((rc = pragma_int(db, "PRAGMA main.page_count", &pages)) != SQLITE_OK)
		return tidu_error_set(TIDU_ERROR, _("cannot read the new database: %s"),
				      sqlite3_errmsg(db));
	if (pages != 0)
		return tidu_error_set(TIDU_EINVAL,
			"%s", _("the database is not empty: its layout is fixed"));
	rc = sqlite3_exec(db, "PRAGMA main.page_size=4096", NULL, NULL, NULL);
	reserve = RESERVE;
	if (rc == SQLITE_OK)
		rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES,
					  &reserve);
	reserve = -1; /* query */
	if (rc == SQLITE_OK)
		rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES,
					  &reserve);
	if (rc == SQLITE_OK)
		rc = pragma_int(db, "PRAGMA main.page_size", &size);
	if (rc != SQLITE_OK || size != PAGE || reserve != RESERVE)
		return tidu_error_set(TIDU_ERROR,
			_("cannot set the page layout of the new database: %s"),
			rc != SQLITE_OK ? sqlite3_errmsg(db) : "page size or reserve");
	return 0;
}

/* ---- raw file access ----------------------------------------------------- */

/*
 * A file opened for raw access: either SQLite's own descriptor of a
 * database open through this VFS (`borrowed`, g_mutex held until
 * raw_close so that it cannot be closed meanwhile), or our own.
 */
struct raw {
	int fd;
	sqlite3_file *borrowed;
};

#define RAW_INIT { -1, NULL }

static int raw_open(struct raw *r, const char *path, int writable)
{
	char full[PATH_BYTES];
	tidu_file *f;

	if (g_ready && full_path(path, full) == 0) {
		pthread_mutex_lock(&g_mutex);
		for (f = g_open; f; f = f->next)
			if (strcmp(f->path, full) == 0) {
				r->borrowed = f->real;
				return 0; /* keeps g_mutex */
			}
		pthread_mutex_unlock(&g_mutex);
	}
	r->fd = open(path, (writable ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (r->fd < 0)
		return tidu_error_set(errno == ENOENT ? TIDU_ENOTFOUND : TIDU_ERROR,
			_("cannot open '%s': %s"), path, strerror(errno));
	return 0;
}

static void raw_close(struct raw *r)
{
	if (r->borrowed) {
		r->borrowed = NULL;
		pthread_mutex_unlock(&g_mutex);
	}
	if (r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
}

static int raw_size(struct raw *r, const char *path, sqlite3_int64 *out)
{
	struct stat st;

	if (r->borrowed) {
		if (r->borrowed->pMethods->xFileSize(r->borrowed, out) == SQLITE_OK)
			return 0;
		return tidu_error_set(TIDU_ERROR, _("cannot read '%s'"), path);
	}
	if (fstat(r->fd, &st) < 0)
		return tidu_error_set(TIDU_ERROR, _("cannot read '%s': %s"),
				      path, strerror(errno));
	*out = st.st_size;
	return 0;
}

static int raw_pread(struct raw *r, const char *path, void *buf, size_t len,
		     sqlite3_int64 off, size_t *got)
{
	sqlite3_int64 size;
	ssize_t n;
	int rc;

	*got = 0;
	if (len > INT32_MAX || off < 0)
		return tidu_error_set(TIDU_EINVAL, _("bad read of '%s'"), path);
	if (r->borrowed) {
		rc = r->borrowed->pMethods->xRead(r->borrowed, buf, (int)len, off);
		if (rc == SQLITE_OK) {
			*got = len;
			return 0;
		}
		if (rc == SQLITE_IOERR_SHORT_READ && raw_size(r, path, &size) == 0) {
			*got = size > off ? (size_t)(size - off) : 0;
			return 0;
		}
		return tidu_error_set(TIDU_ERROR, _("cannot read '%s'"), path);
	}
	while (*got < len) {
		n = pread(r->fd, (char *)buf + *got, len - *got,
			  (off_t)(off + (sqlite3_int64)*got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return tidu_error_set(TIDU_ERROR, _("cannot read '%s': %s"),
					      path, strerror(errno));
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

int tidu_vfs_raw_read(const char *path, void *buf, size_t len,
		      sqlite3_int64 off, size_t *got)
{
	struct raw r = RAW_INIT;
	int error;

	if (!path || !buf || !got)
		return tidu_error_set(TIDU_EINVAL, "%s", _("bad arguments to a raw read"));
	if ((error = raw_open(&r, path, 0)) == 0)
		error = raw_pread(&r, path, buf, len, off, got);
	raw_close(&r);
	return error;
}

int tidu_vfs_raw_write(const char *path, const void *buf, size_t len,
		       sqlite3_int64 off)
{
	struct raw r = RAW_INIT;
	size_t done = 0;
	ssize_t n;
	int error;

	if (!path || !buf || len > INT32_MAX || off < 0)
		return tidu_error_set(TIDU_EINVAL, "%s", _("bad arguments to a raw write"));
	if ((error = raw_open(&r, path, 1)) < 0)
		goto done;
	if (r.borrowed) {
		const sqlite3_io_methods *m = r.borrowed->pMethods;

		if (m->xWrite(r.borrowed, buf, (int)len, off) != SQLITE_OK ||
		    m->xSync(r.borrowed, SQLITE_SYNC_NORMAL) != SQLITE_OK)
			error = tidu_error_set(TIDU_ERROR, _("cannot write '%s'"), path);
		goto done;
	}
	while (done < len) {
		n = pwrite(r.fd, (const char *)buf + done, len - done,
			   (off_t)(off + (sqlite3_int64)done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error = tidu_error_set(TIDU_ERROR, _("cannot write '%s': %s"),
					       path, n < 0 ? strerror(errno) : "");
			goto done;
		}
		done += (size_t)n;
	}
	if (fsync(r.fd) < 0)
		error = tidu_error_set(TIDU_ERROR, _("cannot write '%s': %s"),
				       path, strerror(errno));
done:
	raw_close(&r);
	return error;
}

/* ---- verification -------------------------------------------------------- */

/* SQLite's WAL checksum, words read in the byte order the magic names. */
static void wal_checksum(int big, const unsigned char *p, size_t n,
			 uint32_t s[2])
{
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		s[0] += (big ? get32be(p + i) : get32le(p + i)) + s[1];
		s[1] += (big ? get32be(p + i + 4) : get32le(p + i + 4)) + s[0];
	}
}

/*
 * The frames of the current WAL generation: SQLite's recovery stops at the
 * first frame whose salts differ from the header, and so do we. A WAL whose
 * header is not valid is ignored by SQLite (treated as empty), and here.
 */
static int verify_wal(const char *dbpath, const unsigned char *key,
		      const unsigned char *file_id, unsigned *bad,
		      unsigned char *frame)
{
	char walpath[PATH_BYTES + 8];
	unsigned char hdr[WAL_HDR];
	struct raw r = RAW_INIT;
	sqlite3_int64 size = 0, off;
	uint32_t magic, s[2] = { 0, 0 }, pgno;
	unsigned i;
	size_t got;
	int error;

	if ((size_t)snprintf(walpath, sizeof(walpath), "%s-wal", dbpath) >=
	    sizeof(walpath))
		return tidu_error_set(TIDU_EINVAL, _("path too long: '%s'"), dbpath);
	/* Our own descriptor: SQLite holds no POSIX locks on the WAL file. */
	r.fd = open(walpath, O_RDONLY | O_CLOEXEC);
	if (r.fd < 0)
		return errno == ENOENT ? 0 : tidu_error_set(TIDU_ERROR,
			_("cannot open '%s': %s"), walpath, strerror(errno));
	if ((error = raw_size(&r, walpath, &size)) < 0 ||
	    (error = raw_pread(&r, walpath, hdr, WAL_HDR, 0, &got)) < 0 ||
	    got < WAL_HDR)
		goto done;
	magic = get32be(hdr);
	if ((magic & ~1u) != WAL_MAGIC)
		goto done;
	wal_checksum(magic & 1, hdr, 24, s);
	if (s[0] != get32be(hdr + 24) || s[1] != get32be(hdr + 28))
		goto done;
	if (get32be(hdr + 4) != WAL_VERSION || get32be(hdr + 8) != PAGE) {
		error = tidu_error_set(TIDU_ECORRUPT,
			_("the WAL '%s' does not belong to this store"), walpath);
		goto done;
	}
	for (i = 1, off = WAL_HDR; off + FRAME <= size; i++, off += FRAME) {
		if ((error = raw_pread(&r, walpath, frame, FRAME, off, &got)) < 0)
			goto done;
		if (got < FRAME || memcmp(frame + 8, hdr + 16, 8) != 0)
			break;
		pgno = get32be(frame);
		if (open_page(key, file_id, pgno, frame + FRAME_HDR) < 0) {
			*bad = pgno;
			error = tidu_error_set(TIDU_ECORRUPT,
				_("frame %u (page %u) of '%s' failed authentication: "
				  "the store is damaged or was tampered with"),
				i, pgno, walpath);
			goto done;
		}
	}
done:
	raw_close(&r);
	return error;
}

int tidu_vfs_verify_file(const char *dbpath,
			 const unsigned char key[TIDU_KEY_BYTES],
			 const unsigned char file_id[TIDU_FILE_ID_BYTES],
			 unsigned *bad_page_out)
{
	unsigned char page[FRAME];
	struct raw r = RAW_INIT;
	sqlite3_int64 size, npages;
	unsigned bad = 0;
	uint32_t pgno;
	size_t got;
	int error;

	if (bad_page_out)
		*bad_page_out = 0;
	if (!dbpath || !key || !file_id)
		return tidu_error_set(TIDU_EINVAL, "%s", _("bad arguments to verify a store"));
	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialize libsodium"));
	if ((error = raw_open(&r, dbpath, 0)) < 0 ||
	    (error = raw_size(&r, dbpath, &size)) < 0)
		goto done;
	if (size < HDR || (size - HDR) % PAGE != 0) {
		error = tidu_error_set(TIDU_ECORRUPT,
			_("'%s' is %lld bytes, not a key header and whole pages: "
			  "it was cut short or damaged"), dbpath, (long long)size);
		goto done;
	}
	npages = (size - HDR) / PAGE;
	if (npages >= UINT32_MAX) {
		error = tidu_error_set(TIDU_ECORRUPT, _("'%s' is too large"), dbpath);
		goto done;
	}
	for (pgno = 1; pgno <= (uint32_t)npages; pgno++) {
		if ((error = raw_pread(&r, dbpath, page, PAGE,
				       HDR + (sqlite3_int64)(pgno - 1) * PAGE, &got)) < 0)
			goto done;
		if (got != PAGE) {
			error = tidu_error_set(TIDU_ERROR,
				_("'%s' changed while it was being checked"), dbpath);
			goto done;
		}
		if (pgno == PENDING_PGNO && sodium_is_zero(page, PAGE))
			continue;
		if (open_page(key, file_id, pgno, page) < 0) {
			bad = pgno;
			error = tidu_error_set(TIDU_ECORRUPT,
				_("page %u of '%s' failed authentication: "
				  "the store is damaged or was tampered with"),
				pgno, dbpath);
			goto done;
		}
	}
	raw_close(&r);
	error = verify_wal(dbpath, key, file_id, &bad, page);
done:
	raw_close(&r);
	sodium_memzero(page, sizeof(page));
	if (bad_page_out)
		*bad_page_out = bad;
	return error;
}
