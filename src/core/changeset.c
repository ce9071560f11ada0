/*
 * Change-set files (changeset.h). Byte layout, with all integers
 * little-endian (docs/formats.md has the full description):
 *
 * header, 112 bytes, in the clear:
 *     0    8  magic "TIDUCS\0\1"
 *     8    2  format version (1)
 *    10    2  header length (112)
 *    12    4  change count (>= 1)
 *    16    8  sequence number (>= 1)
 *    24    8  HLC of the first change
 *    32    8  HLC of the last change
 *    40    8  body size, uncompressed (<= TIDU_CHANGESET_MAX_BODY)
 *    48   16  device id, 16 lower-case hex characters
 *    64   16  district code, zero-padded
 *    80   32  BLAKE2b-256 of the device's previous file (zero for seq 1)
 * recipients:
 *   112    2  recipient count n (1..64)
 *   114 88*n  per recipient: key id (8: BLAKE2b-256 of the X25519 public
 *             key, first 8 bytes), crypto_box_seal() of the file key (80)
 * payload:
 *     .   24  nonce
 *     .    .  XChaCha20-Poly1305-IETF ciphertext of
 *             Ed25519 signature (64) || zlib stream of the body,
 *             with the file key; associated data: bytes 0 .. 114+88n
 *             (header and recipients); tag (16) at the end.
 * The signature covers "tidu-changeset-v1" || header || zlib stream.
 *
 * body: changes, one after the other, up to its end:
 *     entity (u8), key (str), hlc (u64), wall ms (i64), field count (varint),
 *     per field, sorted by name: name (str), value flag (u8: 0 null, 1 text)
 *     [value (str)], base (str)
 * str: varint length, bytes (UTF-8, no NUL). varint: unsigned LEB128,
 * shortest form.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zlib.h>

#include "tidu/alloc.h"
#include "tidu/changeset.h"
#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/utf8.h"

#define OFF_VERSION 8
#define OFF_HDRLEN 10
#define OFF_COUNT 12
#define OFF_SEQ 16
#define OFF_HLC_MIN 24
#define OFF_HLC_MAX 32
#define OFF_BODY_SIZE 40
#define OFF_DEVICE 48
#define OFF_DISTRICT 64
#define OFF_PREV 80
#define HDR_LEN 112

#define OFF_NRCPT HDR_LEN
#define OFF_RCPT (HDR_LEN + 2)
#define KEY_ID_LEN 8
#define SEALED_LEN (crypto_aead_xchacha20poly1305_ietf_KEYBYTES + crypto_box_SEALBYTES)
#define RCPT_LEN (KEY_ID_LEN + SEALED_LEN)
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SIG_LEN crypto_sign_BYTES
#define FILE_KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES

/* Smallest encoded change: entity, 1-byte key, hlc, wall, 1 field of a
 * 1-byte name, null value, empty base. */
#define MIN_CHANGE (1 + 2 + 8 + 8 + 1 + MIN_FIELD)
#define MIN_FIELD (2 + 1 + 1)
#define BASE_MAX (19 + 1 + TIDU_CHANGESET_DEVICE_LEN) /* "<hlc>:<device>" */

static const unsigned char magic[8] = { 'T', 'I', 'D', 'U', 'C', 'S', 0, 1 };
static const char sign_domain[] = "tidu-changeset-v1";
#define DOMAIN_LEN (sizeof(sign_domain) - 1)
/* The signed message is domain || header || zlib stream. Both open and
 * seal build it in one buffer, in front of the zlib stream, with the
 * signature's slot of the plaintext overlapping the prefix. */
#define PREFIX_LEN (DOMAIN_LEN + HDR_LEN)

_Static_assert(OFF_PREV + TIDU_CHANGESET_HASH_BYTES == HDR_LEN, "header layout");
_Static_assert(OFF_DISTRICT + TIDU_CHANGESET_MAX_DISTRICT == OFF_PREV, "district");
_Static_assert(OFF_DEVICE + TIDU_CHANGESET_DEVICE_LEN == OFF_DISTRICT, "device");
_Static_assert(SEALED_LEN == 80 && RCPT_LEN == 88, "recipient layout");
_Static_assert(PREFIX_LEN >= SIG_LEN, "signature slot in front of the body");
_Static_assert(TIDU_CHANGESET_HASH_BYTES == crypto_generichash_BYTES, "hash");
_Static_assert(TIDU_CHANGESET_SIGN_PK_BYTES == crypto_sign_PUBLICKEYBYTES, "sign pk");
_Static_assert(TIDU_CHANGESET_SIGN_SK_BYTES == crypto_sign_SECRETKEYBYTES, "sign sk");
_Static_assert(TIDU_CHANGESET_BOX_PK_BYTES == crypto_box_PUBLICKEYBYTES, "box pk");
_Static_assert(TIDU_CHANGESET_BOX_SK_BYTES == crypto_box_SECRETKEYBYTES, "box sk");
_Static_assert(TIDU_CHANGESET_MAX_BODY <= UINT_MAX / 2, "zlib sizes are uInt");
_Static_assert(TIDU_CHANGESET_MAX_RECIPIENTS <= UINT16_MAX, "u16 count");

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

static void put32(unsigned char *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_varint(tidu_buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	do {
		tmp[n] = (unsigned char)(v & 0x7F);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	tidu_buf_put(b, tmp, n);
}

static int all_zero(const unsigned char *p, size_t n)
{
	unsigned char acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* ---- rules shared by the builder, the reader and the header ------------- */

static int valid_text(const unsigned char *s, size_t len)
{
	return !memchr(s, '\0', len) && tidu_utf8_valid((const char *)s, len);
}

static int valid_key(const unsigned char *s, size_t len)
{
	return len >= 1 && len <= TIDU_CHANGESET_MAX_KEY && valid_text(s, len);
}

static int valid_name(const unsigned char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > TIDU_CHANGESET_MAX_NAME)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_'))
			return 0;
	return 1;
}

static int valid_hlc(uint64_t hlc)
{
	return hlc >= 1 && hlc <= INT64_MAX;
}

static int valid_device(const unsigned char *s, size_t len)
{
	size_t i;

	if (len != TIDU_CHANGESET_DEVICE_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int valid_district(const unsigned char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > TIDU_CHANGESET_MAX_DISTRICT)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* "" or "<hlc>:<device>": hlc in decimal without leading zeros (the store
 * prints it with %lld), 1..INT64_MAX. */
static int valid_base(const unsigned char *s, size_t len)
{
	const unsigned char *colon;
	uint64_t v = 0;
	size_t i, digits;

	if (len == 0)
		return 1;
	colon = memchr(s, ':', len);
	if (!colon)
		return 0;
	digits = (size_t)(colon - s);
	if (digits < 1 || digits > 19 || s[0] == '0')
		return 0;
	for (i = 0; i < digits; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits fit in u64 */
	}
	return valid_hlc(v) && valid_device(colon + 1, len - digits - 1);
}

/* ---- entities ------------------------------------------------------------ */

static const char *const entity_names[] = {
	NULL, "firm", "firm_year", "visit", "response", "attachment", "referral", "event",
	"attendance",
};

const char *tidu_changeset_entity_name(int entity)
{
	if (entity < TIDU_CHANGESET_FIRM || entity > TIDU_CHANGESET_LAST)
		return NULL;
	return entity_names[entity];
}

int tidu_changeset_entity_code(const char *name)
{
	int i;

	for (i = TIDU_CHANGESET_FIRM; name && i <= TIDU_CHANGESET_LAST; i++)
		if (strcmp(name, entity_names[i]) == 0)
			return i;
	return 0;
}

/* ---- body: builder ------------------------------------------------------- */

static int add_fail(const char *key, const char *why)
{
	tidu_buf k = TIDU_BUF_INIT;

	tidu_utf8_excerpt(&k, key ? key : "", 64);
	tidu_error_set(TIDU_EINVAL, _("invalid change of '%s' for a change set: %s"),
		       tidu_buf_cstr(&k), why);
	tidu_buf_free(&k);
	return TIDU_EINVAL;
}

static int cmp_field(const void *a, const void *b)
{
	const tidu_changeset_field *fa = *(const tidu_changeset_field *const *)a;
	const tidu_changeset_field *fb = *(const tidu_changeset_field *const *)b;

	return strcmp(fa->field, fb->field);
}

static void put_str(tidu_buf *b, const char *s, size_t len)
{
	put_varint(b, len);
	tidu_buf_put(b, s, len);
}

int tidu_changeset_body_add(tidu_buf *body, const tidu_changeset_change *c)
{
	const tidu_changeset_field **order = NULL;
	unsigned char num[8];
	size_t i, start;
	int error = 0;

	if (!body || !c)
		return tidu_error_set(TIDU_EINVAL, "%s",
				      _("bad arguments to add a change to a change set"));
	if (!tidu_changeset_entity_name(c->entity))
		return add_fail(c->key, _("unknown entity"));
	if (!c->key || !valid_key((const unsigned char *)c->key, strlen(c->key)))
		return add_fail(c->key, _("invalid key"));
	if (!valid_hlc(c->hlc))
		return add_fail(c->key, _("invalid HLC"));
	if (c->nfields < 1 || c->nfields > TIDU_CHANGESET_MAX_FIELDS || !c->fields)
		return add_fail(c->key, _("invalid number of fields"));

	order = tidu_calloc(c->nfields, sizeof(*order));
	for (i = 0; i < c->nfields; i++) {
		const tidu_changeset_field *f = &c->fields[i];
		const char *base = f->base ? f->base : "";

		if (!f->field || !valid_name((const unsigned char *)f->field,
					     strlen(f->field))) {
			error = add_fail(c->key, _("invalid field name"));
			goto done;
		}
		if (f->value && strlen(f->value) > TIDU_CHANGESET_MAX_STRING) {
			char why[160];

			snprintf(why, sizeof(why),
				 _("field '%s': value is %zu bytes, over the limit of %u bytes"),
				 f->field, strlen(f->value), TIDU_CHANGESET_MAX_STRING);
			error = add_fail(c->key, why);
			goto done;
		}
		if (f->value && !valid_text((const unsigned char *)f->value, strlen(f->value))) {
			char why[160];

			snprintf(why, sizeof(why), _("field '%s': the value is not valid UTF-8 text"),
				 f->field);
			error = add_fail(c->key, why);
			goto done;
		}
		if (!valid_base((const unsigned char *)base, strlen(base))) {
			error = add_fail(c->key, _("invalid base"));
			goto done;
		}
		order[i] = f;
	}
	qsort(order, c->nfields, sizeof(*order), cmp_field);
	for (i = 1; i < c->nfields; i++)
		if (strcmp(order[i - 1]->field, order[i]->field) == 0) {
			error = add_fail(c->key, _("a field is given twice"));
			goto done;
		}

	start = body->len;
	tidu_buf_putc(body, (char)c->entity);
	put_str(body, c->key, strlen(c->key));
	put64(num, c->hlc);
	tidu_buf_put(body, num, 8);
	put64(num, (uint64_t)c->wall);
	tidu_buf_put(body, num, 8);
	put_varint(body, c->nfields);
	for (i = 0; i < c->nfields; i++) {
		const tidu_changeset_field *f = order[i];
		const char *base = f->base ? f->base : "";

		put_str(body, f->field, strlen(f->field));
		tidu_buf_putc(body, f->value ? 1 : 0);
		if (f->value)
			put_str(body, f->value, strlen(f->value));
		put_str(body, base, strlen(base));
	}
	if (body->len - start > TIDU_CHANGESET_MAX_BODY) {
		tidu_buf_truncate(body, start);
		error = add_fail(c->key, _("too large for a change set"));
	}
done:
	free(order);
	return error;
}

/* ---- body: reader -------------------------------------------------------- */

void tidu_changeset_reader_init(tidu_changeset_reader *r, const void *body, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->pos = body;
	r->end = r->pos ? r->pos + len : r->pos;
}

void tidu_changeset_reader_free(tidu_changeset_reader *r)
{
	if (!r)
		return;
	tidu_buf_free(&r->text);
	free(r->fields);
	memset(r, 0, sizeof(*r));
}

/* A cursor over the current change; `why` is NULL until something is wrong
 * and then says what (a msgid, translated when reported). */
typedef struct {
	const unsigned char *p, *end;
	const char *why;
} cursor;

static int need(cursor *c, size_t n)
{
	if (c->why)
		return 0;
	if ((size_t)(c->end - c->p) < n) {
		c->why = N_("truncated");
		return 0;
	}
	return 1;
}

static uint64_t take_u64(cursor *c)
{
	uint64_t v;

	if (!need(c, 8))
		return 0;
	v = get64(c->p);
	c->p += 8;
	return v;
}

static unsigned take_u8(cursor *c)
{
	if (!need(c, 1))
		return 0;
	return *c->p++;
}

/* Unsigned LEB128 of at most `max`; shortest form only. */
static uint64_t take_varint(cursor *c, uint64_t max)
{
	uint64_t v = 0;
	unsigned shift = 0;
	unsigned char byte;

	do {
		if (!need(c, 1))
			return 0;
		byte = *c->p++;
		if (shift == 63 && byte > 1) {
			c->why = N_("invalid length");
			return 0;
		}
		v |= (uint64_t)(byte & 0x7F) << shift;
		shift += 7;
	} while ((byte & 0x80) && shift < 64);
	if ((byte & 0x80) || (byte == 0 && shift > 7) || v > max) {
		c->why = N_("invalid length");
		return 0;
	}
	return v;
}

/* A string of at most `max` bytes: sets *s and returns its length. */
static size_t take_str(cursor *c, size_t max, const unsigned char **s)
{
	size_t len = (size_t)take_varint(c, max);

	*s = c->p;
	if (!need(c, len))
		return 0;
	c->p += len;
	return len;
}

/* Appends a NUL-terminated copy to the reader's text when `copy`. */
static const char *keep(tidu_changeset_reader *r, int copy, const unsigned char *s,
			size_t len)
{
	const char *out;

	if (!copy)
		return NULL;
	out = r->text.ptr + r->text.len;
	tidu_buf_put(&r->text, s, len);
	tidu_buf_putc(&r->text, '\0');
	return out;
}

/*
 * Decodes one change at c->p. First called with copy = 0, which checks
 * everything and counts the text bytes the change needs into `*text`; then,
 * once the reader's memory is large enough (so that no pointer moves), with
 * copy = 1, which fills `out`.
 */
static void parse_change(tidu_changeset_reader *r, cursor *c, int copy,
			 tidu_changeset_change *out, size_t *text)
{
	const unsigned char *s, *prev_name = NULL;
	size_t len, prev_len = 0, i, n;

	out->entity = (int)take_u8(c);
	if (!c->why && !tidu_changeset_entity_name(out->entity))
		c->why = N_("unknown entity");
	len = take_str(c, TIDU_CHANGESET_MAX_KEY, &s);
	if (!c->why && !valid_key(s, len))
		c->why = N_("invalid key");
	*text += len + 1;
	out->key = keep(r, copy && !c->why, s, len);
	out->hlc = take_u64(c);
	if (!c->why && !valid_hlc(out->hlc))
		c->why = N_("invalid HLC");
	if (!c->why && out->hlc <= r->last_hlc)
		c->why = N_("changes are not in HLC order");
	{
		uint64_t u = take_u64(c);

		out->wall = u <= INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
	}
	n = (size_t)take_varint(c, TIDU_CHANGESET_MAX_FIELDS);
	if (!c->why && n < 1)
		c->why = N_("invalid number of fields");
	if (!c->why && n > (size_t)(c->end - c->p) / MIN_FIELD)
		c->why = N_("truncated");
	out->nfields = c->why ? 0 : n;
	out->fields = copy ? r->fields : NULL;
	for (i = 0; !c->why && i < n; i++) {
		tidu_changeset_field *f = copy ? &r->fields[i] : NULL;
		unsigned flag;

		len = take_str(c, TIDU_CHANGESET_MAX_NAME, &s);
		if (c->why)
			break;
		if (!valid_name(s, len)) {
			c->why = N_("invalid field name");
			break;
		}
		if (prev_name) {
			int cmp = memcmp(prev_name, s, prev_len < len ? prev_len : len);

			if (cmp > 0 || (cmp == 0 && prev_len >= len)) {
				c->why = N_("fields are not sorted or repeated");
				break;
			}
		}
		prev_name = s;
		prev_len = len;
		*text += len + 1;
		if (f)
			f->field = keep(r, copy, s, len);

		flag = take_u8(c);
		if (!c->why && flag > 1)
			c->why = N_("invalid value flag");
		if (f)
			f->value = NULL;
		if (!c->why && flag == 1) {
			len = take_str(c, TIDU_CHANGESET_MAX_STRING, &s);
			if (!c->why && !valid_text(s, len))
				c->why = N_("text is not valid UTF-8");
			*text += len + 1;
			if (f && !c->why)
				f->value = keep(r, copy, s, len);
		}

		len = take_str(c, BASE_MAX, &s);
		if (!c->why && !valid_base(s, len))
			c->why = N_("invalid base");
		*text += len + 1;
		if (f && !c->why)
			f->base = keep(r, copy, s, len);
	}
}

static int reader_fail(tidu_changeset_reader *r, const char *why)
{
	r->error = why;
	r->pos = r->end;
	return tidu_error_set(TIDU_ECORRUPT,
			      _("invalid change-set body at change %llu: %s"),
			      (unsigned long long)r->index + 1, _(why));
}

int tidu_changeset_reader_next(tidu_changeset_reader *r, tidu_changeset_change *out)
{
	tidu_changeset_change tmp;
	cursor c;
	size_t text = 0;

	if (!r || !out)
		return tidu_error_set(TIDU_EINVAL, "%s",
				      _("bad arguments to read a change set"));
	memset(out, 0, sizeof(*out));
	if (r->error)
		return tidu_error_set(TIDU_ECORRUPT,
				      _("invalid change-set body at change %llu: %s"),
				      (unsigned long long)r->index + 1, _(r->error));
	if (r->pos == r->end)
		return 0;

	c.p = r->pos;
	c.end = r->end;
	c.why = NULL;
	memset(&tmp, 0, sizeof(tmp));
	parse_change(r, &c, 0, &tmp, &text);
	if (c.why)
		return reader_fail(r, c.why);

	if (r->fields_cap < tmp.nfields) {
		r->fields = tidu_reallocarray(r->fields, tmp.nfields,
					      sizeof(*r->fields));
		r->fields_cap = tmp.nfields;
	}
	tidu_buf_clear(&r->text);
	tidu_buf_grow(&r->text, text);
	c.p = r->pos;
	text = 0;
	parse_change(r, &c, 1, out, &text);
	if (c.why) /* cannot happen: the same bytes passed above */
		return reader_fail(r, c.why);
	r->pos = c.p;
	r->last_hlc = out->hlc;
	r->index++;
	return 1;
}

/* ---- file header ---------------------------------------------------------- */

typedef struct {
	tidu_changeset_header h;
	size_t ad_len;   /* header + recipients: the associated data */
	size_t zlen;     /* bytes of the zlib stream */
} layout;

static int file_fail(int code, const char *name, const char *why)
{
	tidu_buf n = TIDU_BUF_INIT;

	tidu_utf8_excerpt(&n, name ? name : "?", 120);
	tidu_error_set(code, _("change set '%s': %s"), tidu_buf_cstr(&n), why);
	tidu_buf_free(&n);
	return code;
}

static void encode_header(unsigned char hdr[HDR_LEN], const tidu_changeset_header *h)
{
	memset(hdr, 0, HDR_LEN);
	memcpy(hdr, magic, sizeof(magic));
	put16(hdr + OFF_VERSION, h->version);
	put16(hdr + OFF_HDRLEN, HDR_LEN);
	put32(hdr + OFF_COUNT, h->count);
	put64(hdr + OFF_SEQ, h->seq);
	put64(hdr + OFF_HLC_MIN, h->hlc_min);
	put64(hdr + OFF_HLC_MAX, h->hlc_max);
	put64(hdr + OFF_BODY_SIZE, h->body_size);
	memcpy(hdr + OFF_DEVICE, h->device, TIDU_CHANGESET_DEVICE_LEN);
	memcpy(hdr + OFF_DISTRICT, h->district, strlen(h->district));
	memcpy(hdr + OFF_PREV, h->prev, TIDU_CHANGESET_HASH_BYTES);
}

/* The header's own rules, common to reading and sealing. */
static int header_consistent(const tidu_changeset_header *h)
{
	return h->count >= 1 && h->seq >= 1 &&
	       (h->seq == 1) == all_zero(h->prev, sizeof(h->prev)) &&
	       valid_hlc(h->hlc_min) && valid_hlc(h->hlc_max) &&
	       h->hlc_min <= h->hlc_max && h->hlc_max - h->hlc_min >= h->count - 1 &&
	       h->body_size <= TIDU_CHANGESET_MAX_BODY &&
	       h->body_size >= (uint64_t)h->count * MIN_CHANGE;
}

static int parse_file(const unsigned char *file, size_t len, const char *name,
		      layout *out)
{
	tidu_changeset_header *h = &out->h;
	const unsigned char *d;
	size_t dlen, nr, fixed;

	memset(out, 0, sizeof(*out));
	if (!file)
		return tidu_error_set(TIDU_EINVAL, "%s",
				      _("bad arguments to read a change set"));
	if (len < sizeof(magic))
		return file_fail(TIDU_ECORRUPT, name,
				 memcmp(file, magic, len) ? _("not a tidu change set")
							   : _("truncated"));
	if (memcmp(file, magic, sizeof(magic)) != 0)
		return file_fail(TIDU_ECORRUPT, name, _("not a tidu change set"));
	if (len < OFF_HDRLEN)
		return file_fail(TIDU_ECORRUPT, name, _("truncated"));
	h->version = (uint16_t)get16(file + OFF_VERSION);
	if (h->version > TIDU_CHANGESET_FORMAT) {
		tidu_buf n = TIDU_BUF_INIT;

		tidu_utf8_excerpt(&n, name ? name : "?", 120);
		tidu_error_set(TIDU_EINVAL,
			       _("change set '%s' was made by a newer tidu (format %u)"),
			       tidu_buf_cstr(&n), (unsigned)h->version);
		tidu_buf_free(&n);
		return TIDU_EINVAL;
	}
	if (len < OFF_NRCPT + 2)
		return file_fail(TIDU_ECORRUPT, name, _("truncated"));
	if (h->version != TIDU_CHANGESET_FORMAT || get16(file + OFF_HDRLEN) != HDR_LEN)
		return file_fail(TIDU_ECORRUPT, name, _("invalid header"));

	h->count = get32(file + OFF_COUNT);
	h->seq = get64(file + OFF_SEQ);
	h->hlc_min = get64(file + OFF_HLC_MIN);
	h->hlc_max = get64(file + OFF_HLC_MAX);
	h->body_size = get64(file + OFF_BODY_SIZE);
	memcpy(h->prev, file + OFF_PREV, TIDU_CHANGESET_HASH_BYTES);
	d = file + OFF_DISTRICT;
	dlen = strnlen((const char *)d, TIDU_CHANGESET_MAX_DISTRICT);
	if (!valid_device(file + OFF_DEVICE, TIDU_CHANGESET_DEVICE_LEN) ||
	    !valid_district(d, dlen) ||
	    !all_zero(d + dlen, TIDU_CHANGESET_MAX_DISTRICT - dlen) ||
	    !header_consistent(h))
		return file_fail(TIDU_ECORRUPT, name, _("invalid header"));
	memcpy(h->device, file + OFF_DEVICE, TIDU_CHANGESET_DEVICE_LEN);
	memcpy(h->district, d, dlen);

	nr = get16(file + OFF_NRCPT);
	if (nr < 1 || nr > TIDU_CHANGESET_MAX_RECIPIENTS)
		return file_fail(TIDU_ECORRUPT, name, _("invalid recipient list"));
	h->nrecipients = (uint16_t)nr;
	out->ad_len = OFF_RCPT + nr * RCPT_LEN;
	fixed = out->ad_len + NONCE_LEN + SIG_LEN + TAG_LEN;
	if (len <= fixed)
		return file_fail(TIDU_ECORRUPT, name, _("truncated"));
	out->zlen = len - fixed;
	/* A writer compresses with compress2(), which never gives more than
	 * compressBound(); this also caps the file's size. */
	if (out->zlen > compressBound((uLong)h->body_size))
		return file_fail(TIDU_ECORRUPT, name,
				 _("the compressed body is larger than its size allows"));
	return 0;
}

int tidu_changeset_read_header(const unsigned char *file, size_t len, const char *name,
			tidu_changeset_header *out)
{
	layout l;
	int error;

	if (!out)
		return tidu_error_set(TIDU_EINVAL, "%s",
				      _("bad arguments to read a change set"));
	error = parse_file(file, len, name, &l);
	*out = l.h;
	if (error < 0)
		memset(out, 0, sizeof(*out));
	return error;
}

void tidu_changeset_hash(const unsigned char *file, size_t len,
		  unsigned char out[TIDU_CHANGESET_HASH_BYTES])
{
	crypto_generichash(out, TIDU_CHANGESET_HASH_BYTES, file, len, NULL, 0);
}

static void key_id(const unsigned char pk[TIDU_CHANGESET_BOX_PK_BYTES],
		   unsigned char out[KEY_ID_LEN])
{
	unsigned char h[crypto_generichash_BYTES];

	crypto_generichash(h, sizeof(h), pk, TIDU_CHANGESET_BOX_PK_BYTES, NULL, 0);
	memcpy(out, h, KEY_ID_LEN);
}

/* ---- zlib ---------------------------------------------------------------- */

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
	(void)opaque;
	return tidu_calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
	(void)opaque;
	free(p);
}

/*
 * Inflates the zlib stream `z` into exactly `size` bytes, growing the
 * output as data really comes (a header that claims a large size costs
 * nothing until the stream delivers it) and never past `size` + 1. Fails
 * if the stream is damaged, ends early, wants to give more than `size`
 * (a decompression bomb) or has bytes after its end. On success the result
 * replaces the contents of `out`.
 */
static int inflate_exact(const unsigned char *z, size_t zlen, size_t size,
			 const char *name, tidu_buf *out)
{
	z_stream zs;
	unsigned char *p = NULL, extra;
	size_t have = 0, cap = 0;
	int rc, error = 0;

	memset(&zs, 0, sizeof(zs));
	zs.zalloc = z_alloc;
	zs.zfree = z_free;
	if (inflateInit(&zs) != Z_OK)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot start zlib"));
	zs.next_in = (Bytef *)(uintptr_t)z; /* zlib does not write input */
	zs.avail_in = (uInt)zlen;
	for (;;) {
		uInt room;

		if (have == size) {
			/* Room for one more byte: any output is too much. */
			zs.next_out = &extra;
			zs.avail_out = 1;
		} else {
			if (cap - have == 0 || !p) {
				size_t want = cap < 65536 ? 65536 : cap * 2;

				if (want > size + 1)
					want = size + 1;
				p = tidu_realloc(p, want);
				cap = want;
			}
			zs.next_out = p + have;
			zs.avail_out = (uInt)(cap - have < size - have ? cap - have
								    : size - have);
		}
		room = zs.avail_out;
		rc = inflate(&zs, Z_NO_FLUSH);
		if (have == size && zs.avail_out != room) {
			error = file_fail(TIDU_ECORRUPT, name,
					  _("the body is larger than its header says"));
			goto done;
		}
		if (have < size)
			have += room - zs.avail_out;
		if (rc == Z_STREAM_END)
			break;
		if (rc == Z_OK)
			continue;
		/* Z_BUF_ERROR here means the input ended in mid-stream. */
		error = file_fail(TIDU_ECORRUPT, name, _("the compressed body is damaged"));
		goto done;
	}
	if (zs.avail_in != 0) {
		error = file_fail(TIDU_ECORRUPT, name, _("the compressed body is damaged"));
		goto done;
	}
	if (have != size) {
		error = file_fail(TIDU_ECORRUPT, name,
				  _("the body is smaller than its header says"));
		goto done;
	}
	if (!p)
		p = tidu_malloc(1);
	else if (cap < size + 1)
		p = tidu_realloc(p, size + 1);
	p[size] = '\0';
	if (out->ptr) {
		sodium_memzero(out->ptr, out->cap);
		free(out->ptr);
	}
	out->ptr = (char *)p;
	out->len = size;
	out->cap = cap < size + 1 ? size + 1 : cap;
	p = NULL;
done:
	inflateEnd(&zs);
	if (p) {
		sodium_memzero(p, cap);
		free(p);
	}
	return error;
}

/* ---- seal ---------------------------------------------------------------- */

/* Checks the body by reading it through: count and HLC range. */
static int scan_body(const unsigned char *body, size_t len, uint32_t *count,
		     uint64_t *hlc_min, uint64_t *hlc_max)
{
	tidu_changeset_reader r;
	tidu_changeset_change c;
	uint64_t n = 0;
	int rc;

	*hlc_min = *hlc_max = 0;
	tidu_changeset_reader_init(&r, body, len);
	while ((rc = tidu_changeset_reader_next(&r, &c)) > 0) {
		if (n++ == 0)
			*hlc_min = c.hlc;
		*hlc_max = c.hlc;
	}
	tidu_changeset_reader_free(&r);
	*count = (uint32_t)n; /* the body cap keeps n far below 2^32 */
	return rc;
}

/*
 * The checks of seal's arguments, before anything is made; the body's
 * count and clock range go into *h.
 */
static int seal_check(const tidu_changeset_origin *origin, const tidu_buf *body,
		      const unsigned char *sign_sk,
		      const unsigned char (*recipient_pks)[TIDU_CHANGESET_BOX_PK_BYTES],
		      size_t nrecipients, const tidu_buf *file_out,
		      tidu_changeset_header *h)
{
	if (!origin || !body || !sign_sk || !file_out ||
	    (nrecipients && !recipient_pks) || !origin->district || !origin->device)
		return tidu_error_set(TIDU_EINVAL, "%s",
				      _("bad arguments to seal a change set"));
	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialize libsodium"));

	if (!valid_district((const unsigned char *)origin->district,
			    strlen(origin->district)))
		return tidu_error_set(TIDU_EINVAL,
				      _("invalid district code for a change set: '%s'"),
				      origin->district);
	if (!valid_device((const unsigned char *)origin->device,
			  strlen(origin->device)))
		return tidu_error_set(TIDU_EINVAL,
				      _("invalid device id for a change set: '%s'"),
				      origin->device);
	if (origin->seq < 1 ||
	    (origin->seq == 1) != all_zero(origin->prev, sizeof(origin->prev)))
		return tidu_error_set(TIDU_EINVAL, "%s",
			_("invalid sequence number for a change set: the first is 1, "
			  "and only the first has no previous hash"));
	if (nrecipients < 1 || nrecipients > TIDU_CHANGESET_MAX_RECIPIENTS)
		return tidu_error_set(TIDU_EINVAL, "%s",
				      _("a change set needs 1 to 64 recipients"));
	if (body->len == 0)
		return tidu_error_set(TIDU_EINVAL, "%s",
				      _("a change set needs at least one change"));
	if (body->len > TIDU_CHANGESET_MAX_BODY)
		return tidu_error_set(TIDU_EINVAL, "%s",
			_("too many changes for one change set: seal fewer at a time"));
	if (scan_body((const unsigned char *)body->ptr, body->len, &h->count,
		      &h->hlc_min, &h->hlc_max) < 0) {
		/* The caller's own body: a usage error, not a damaged file. */
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", tidu_error_message());
		return tidu_error_set(TIDU_EINVAL, "%s", msg);
	}
	return 0;
}

int tidu_changeset_seal(const tidu_changeset_origin *origin, const tidu_buf *body,
		 const unsigned char sign_sk[TIDU_CHANGESET_SIGN_SK_BYTES],
		 const unsigned char (*recipient_pks)[TIDU_CHANGESET_BOX_PK_BYTES],
		 size_t nrecipients, tidu_buf *file_out, tidu_changeset_header *h_out)
{
	tidu_changeset_header h;
	unsigned char hdr[HDR_LEN], file_key[FILE_KEY_LEN], sig[SIG_LEN];
	unsigned char num[2], nonce[NONCE_LEN];
	const unsigned char (*uniq[TIDU_CHANGESET_MAX_RECIPIENTS])[TIDU_CHANGESET_BOX_PK_BYTES];
	unsigned char *work = NULL;
	size_t work_len = 0, nuniq = 0, i, j;
	unsigned long long ct_len;
	uLongf zlen;
	int error = 0;

	if (h_out)
		memset(h_out, 0, sizeof(*h_out));
	if (file_out)
		tidu_buf_clear(file_out);
	memset(&h, 0, sizeof(h));
	if ((error = seal_check(origin, body, sign_sk, recipient_pks, nrecipients,
				file_out, &h)) < 0)
		return error;
	for (i = 0; i < nrecipients; i++) {
		for (j = 0; j < nuniq; j++)
			if (memcmp(*uniq[j], recipient_pks[i], TIDU_CHANGESET_BOX_PK_BYTES) == 0)
				break;
		if (j == nuniq)
			uniq[nuniq++] = &recipient_pks[i];
	}

	h.version = TIDU_CHANGESET_FORMAT;
	memcpy(h.district, origin->district, strlen(origin->district));
	memcpy(h.device, origin->device, TIDU_CHANGESET_DEVICE_LEN);
	h.seq = origin->seq;
	memcpy(h.prev, origin->prev, TIDU_CHANGESET_HASH_BYTES);
	h.body_size = body->len;
	h.nrecipients = (uint16_t)nuniq;
	if (!header_consistent(&h))
		return tidu_error_set(TIDU_EINVAL, "%s",
				      _("the changes do not fit a change-set header"));
	encode_header(hdr, &h);

	/* work = domain || header || zlib stream: the signed message. */
	zlen = compressBound((uLong)body->len);
	work_len = PREFIX_LEN + zlen;
	work = tidu_malloc(work_len);
	if (compress2(work + PREFIX_LEN, &zlen, (const Bytef *)body->ptr,
		      (uLong)body->len, Z_DEFAULT_COMPRESSION) != Z_OK) {
		error = tidu_error_set(TIDU_ERROR, "%s", _("cannot compress a change set"));
		goto done;
	}
	memcpy(work, sign_domain, DOMAIN_LEN);
	memcpy(work + DOMAIN_LEN, hdr, HDR_LEN);
	crypto_sign_detached(sig, NULL, work, PREFIX_LEN + zlen, sign_sk);
	/* plaintext = signature || zlib stream, in place before the stream */
	memcpy(work + PREFIX_LEN - SIG_LEN, sig, SIG_LEN);

	crypto_aead_xchacha20poly1305_ietf_keygen(file_key);
	tidu_buf_put(file_out, hdr, HDR_LEN);
	put16(num, (unsigned)nuniq);
	tidu_buf_put(file_out, num, 2);
	for (i = 0; i < nuniq; i++) {
		unsigned char entry[RCPT_LEN];

		key_id(*uniq[i], entry);
		if (crypto_box_seal(entry + KEY_ID_LEN, file_key, FILE_KEY_LEN,
				    *uniq[i]) != 0) {
			error = tidu_error_set(TIDU_EINVAL, "%s",
					       _("invalid recipient public key"));
			goto done;
		}
		tidu_buf_put(file_out, entry, RCPT_LEN);
	}
	randombytes_buf(nonce, sizeof(nonce));
	tidu_buf_put(file_out, nonce, NONCE_LEN);
	tidu_buf_grow(file_out, SIG_LEN + zlen + TAG_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		(unsigned char *)file_out->ptr + file_out->len, &ct_len,
		work + PREFIX_LEN - SIG_LEN, SIG_LEN + zlen,
		(const unsigned char *)file_out->ptr, file_out->len - NONCE_LEN,
		NULL, nonce, file_key);
	file_out->len += (size_t)ct_len;
	file_out->ptr[file_out->len] = '\0';
	if (h_out)
		*h_out = h;
done:
	sodium_memzero(file_key, sizeof(file_key));
	sodium_memzero(sig, sizeof(sig));
	if (work) {
		sodium_memzero(work, work_len);
		free(work);
	}
	if (error < 0)
		tidu_buf_clear(file_out);
	return error;
}

/* ---- open ---------------------------------------------------------------- */

/* Unseals the file key with the first of `keys` that is a recipient. */
static int find_file_key(const unsigned char *file, const layout *l,
			 const char *name, const tidu_changeset_keypair *keys,
			 size_t nkeys, unsigned char file_key[FILE_KEY_LEN])
{
	unsigned char id[KEY_ID_LEN];
	int listed = 0;
	size_t k, i;

	for (k = 0; k < nkeys; k++) {
		key_id(keys[k].pk, id);
		for (i = 0; i < l->h.nrecipients; i++) {
			const unsigned char *e = file + OFF_RCPT + i * RCPT_LEN;

			if (memcmp(e, id, KEY_ID_LEN) != 0)
				continue;
			listed = 1;
			if (crypto_box_seal_open(file_key, e + KEY_ID_LEN, SEALED_LEN,
						 keys[k].pk, keys[k].sk) == 0)
				return 0;
		}
	}
	if (listed)
		return file_fail(TIDU_ECORRUPT, name,
				 _("its file key cannot be opened: damaged or tampered with"));
	return file_fail(TIDU_ENOTFOUND, name,
			 _("not readable by this store: no key for its recipients"));
}

/* Checks every change of an opened body against the header. */
static int check_body(const tidu_buf *body, const tidu_changeset_header *h,
		      const char *name)
{
	uint32_t count;
	uint64_t hlc_min, hlc_max;

	if (scan_body((const unsigned char *)body->ptr, body->len, &count, &hlc_min,
		      &hlc_max) < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", tidu_error_message());
		return file_fail(TIDU_ECORRUPT, name, msg);
	}
	if (count != h->count || hlc_min != h->hlc_min || hlc_max != h->hlc_max)
		return file_fail(TIDU_ECORRUPT, name,
				 _("its body does not match its header"));
	return 0;
}

int tidu_changeset_open(const unsigned char *file, size_t len, const char *name,
		 const tidu_changeset_keypair *keys, size_t nkeys,
		 const unsigned char sign_pk[TIDU_CHANGESET_SIGN_PK_BYTES],
		 tidu_changeset_header *h_out, tidu_buf *body_out)
{
	layout l;
	unsigned char file_key[FILE_KEY_LEN], sig[SIG_LEN];
	unsigned char *work = NULL;
	size_t work_len = 0;
	unsigned long long pt_len;
	int error;

	if (h_out)
		memset(h_out, 0, sizeof(*h_out));
	if (body_out && body_out->ptr) {
		sodium_memzero(body_out->ptr, body_out->len);
		tidu_buf_clear(body_out);
	}
	if (!file || !sign_pk || !body_out || (nkeys && !keys))
		return tidu_error_set(TIDU_EINVAL, "%s",
				      _("bad arguments to read a change set"));
	if (sodium_init() < 0)
		return tidu_error_set(TIDU_ERROR, "%s", _("cannot initialize libsodium"));
	if ((error = parse_file(file, len, name, &l)) < 0 ||
	    (error = find_file_key(file, &l, name, keys, nkeys, file_key)) < 0)
		goto done;

	/* work = domain || header || zlib stream, decrypted so that the
	 * signature lands in the header's place, then copied out of it. */
	work_len = PREFIX_LEN + l.zlen;
	work = tidu_malloc(work_len);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    work + PREFIX_LEN - SIG_LEN, &pt_len, NULL,
		    file + l.ad_len + NONCE_LEN, len - l.ad_len - NONCE_LEN,
		    file, l.ad_len, file + l.ad_len, file_key) != 0 ||
	    pt_len != SIG_LEN + l.zlen) {
		error = file_fail(TIDU_ECORRUPT, name,
				  _("damaged or tampered with (authentication failed)"));
		goto done;
	}
	memcpy(sig, work + PREFIX_LEN - SIG_LEN, SIG_LEN);
	memcpy(work, sign_domain, DOMAIN_LEN);
	memcpy(work + DOMAIN_LEN, file, HDR_LEN);
	if (crypto_sign_verify_detached(sig, work, work_len, sign_pk) != 0) {
		error = file_fail(TIDU_ECORRUPT, name,
				  _("bad signature: tampered with, or not signed by "
				    "its device"));
		goto done;
	}
	if ((error = inflate_exact(work + PREFIX_LEN, l.zlen, (size_t)l.h.body_size,
				   name, body_out)) < 0 ||
	    (error = check_body(body_out, &l.h, name)) < 0)
		goto done;
	if (h_out)
		*h_out = l.h;
done:
	sodium_memzero(file_key, sizeof(file_key));
	if (work) {
		sodium_memzero(work, work_len);
		free(work);
	}
	if (error < 0 && body_out->ptr) {
		sodium_memzero(body_out->ptr, body_out->len);
		tidu_buf_clear(body_out);
	}
	return error;
}
