/*
 * Change-set files (changeset.h): the body codec, sealing and opening,
 * recipients and signatures, every single-byte change and every truncation
 * of a file, versions, decompression bombs with bounded memory, bodies that
 * break the rules behind a valid signature, headers and hashes.
 *
 * Files that tidu_changeset_seal() refuses to make are written with the
 * independent writer of tests/fuzz/cs_craft.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>
#include <zlib.h>

#include "tidu/changeset.h"
#include "tidu/error.h"

#include "../fuzz/cs_craft.h"

#define DEVICE "0123456789abcdef"
#define DEVICE2 "fedcba9876543210"
#define USCC "91410100MA44XXXX1X"

static craft_keys K;

/* ---- memory high-water mark --------------------------------------------- */

/* Under ASan (tools/test) the allocator's hooks count every byte; in other
 * builds a child process runs the call under an address-space limit. */
extern int __sanitizer_install_malloc_and_free_hooks(
	void (*malloc_hook)(const volatile void *, size_t),
	void (*free_hook)(const volatile void *)) __attribute__((weak));
extern size_t __sanitizer_get_allocated_size(const volatile void *p)
	__attribute__((weak));

static int hooks_on, counting;
static size_t current, peak;

static void on_malloc(const volatile void *p, size_t size)
{
	(void)p;
	if (!counting)
		return;
	current += size;
	if (current > peak)
		peak = current;
}

static void on_free(const volatile void *p)
{
	size_t size;

	if (!counting || !p)
		return;
	size = __sanitizer_get_allocated_size(p);
	current = size > current ? 0 : current - size;
}

static int setup(void **state)
{
	(void)state;
	if (craft_make_keys(&K) < 0)
		return -1;
	if (__sanitizer_install_malloc_and_free_hooks && __sanitizer_get_allocated_size)
		hooks_on = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free) != 0;
	return 0;
}

static int open_district(const tidu_buf *file, tidu_changeset_header *h, tidu_buf *body)
{
	tidu_changeset_keypair kp;

	memcpy(kp.pk, K.district_pk, 32);
	memcpy(kp.sk, K.district_sk, 32);
	return tidu_changeset_open((const unsigned char *)file->ptr, file->len, "test.tcs",
			    &kp, 1, K.sign_pk, h, body);
}

/*
 * Opens `file` with the district key and checks that it fails with `code`
 * having allocated at most `limit` bytes at any time.
 */
static void open_bounded(const tidu_buf *file, int code, size_t limit)
{
	tidu_buf body = TIDU_BUF_INIT;
	tidu_changeset_header h;
	int rc;

	if (hooks_on) {
		current = peak = 0;
		counting = 1;
		rc = open_district(file, &h, &body);
		counting = 0;
		assert_int_equal(rc, code);
		assert_true(peak <= limit);
		assert_int_equal(body.len, 0);
		tidu_buf_free(&body);
		return;
	}
	{
		unsigned long pages = 0;
		FILE *f = fopen("/proc/self/statm", "r");
		pid_t pid;
		int status;

		assert_non_null(f);
		assert_int_equal(fscanf(f, "%lu", &pages), 1);
		fclose(f);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct rlimit rl;

			rl.rlim_cur = rl.rlim_max =
				pages * (rlim_t)sysconf(_SC_PAGESIZE) + limit;
			setrlimit(RLIMIT_AS, &rl);
			_exit(open_district(file, &h, &body) == code ? 0 : 1);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

/* ---- helpers -------------------------------------------------------------- */

static void origin_init(tidu_changeset_origin *o, uint64_t seq, const unsigned char *prev)
{
	memset(o, 0, sizeof(*o));
	o->district = "410102";
	o->device = DEVICE;
	o->seq = seq;
	if (prev)
		memcpy(o->prev, prev, 32);
}

/* A small body: two changes. */
static void small_body(tidu_buf *body, uint64_t hlc)
{
	tidu_changeset_field f1[] = {
		{ "name", "郑州示例科技有限公司", "" },
		{ "address", NULL, "99:" DEVICE2 },
		{ "employees", "120", NULL },
	};
	tidu_changeset_field f2[] = { { "revenue", "12345.6", "" } };
	tidu_changeset_change c1 = { TIDU_CHANGESET_FIRM, USCC, hlc, 1700000000000, f1, 3 };
	tidu_changeset_change c2 = { TIDU_CHANGESET_FIRM_YEAR, USCC "/2024", hlc + 1, 1700000000001,
			      f2, 1 };

	assert_int_equal(tidu_changeset_body_add(body, &c1), 0);
	assert_int_equal(tidu_changeset_body_add(body, &c2), 0);
}

static void seal_small(tidu_buf *file, uint64_t seq, const unsigned char *prev,
		       uint64_t hlc)
{
	tidu_buf body = TIDU_BUF_INIT;
	tidu_changeset_origin o;
	unsigned char pks[2][32];

	memcpy(pks[0], K.district_pk, 32);
	memcpy(pks[1], K.city_pk, 32);
	origin_init(&o, seq, prev);
	small_body(&body, hlc);
	assert_int_equal(tidu_changeset_seal(&o, &body, K.sign_sk,
				      (const unsigned char (*)[32])pks, 2, file, NULL), 0);
	tidu_buf_free(&body);
}

static int count_changes(const tidu_buf *body)
{
	tidu_changeset_reader r;
	tidu_changeset_change c;
	int n = 0, rc;

	tidu_changeset_reader_init(&r, body->ptr, body->len);
	while ((rc = tidu_changeset_reader_next(&r, &c)) > 0)
		n++;
	tidu_changeset_reader_free(&r);
	return rc < 0 ? rc : n;
}

static void same_header(const tidu_changeset_header *a, const tidu_changeset_header *b)
{
	assert_int_equal(a->version, b->version);
	assert_string_equal(a->district, b->district);
	assert_string_equal(a->device, b->device);
	assert_true(a->seq == b->seq);
	assert_memory_equal(a->prev, b->prev, 32);
	assert_true(a->hlc_min == b->hlc_min && a->hlc_max == b->hlc_max);
	assert_int_equal(a->count, b->count);
	assert_true(a->body_size == b->body_size);
	assert_int_equal(a->nrecipients, b->nrecipients);
}

static int has(const char *needle)
{
	return strstr(tidu_error_message(), needle) != NULL;
}

/* ---- entities and body ---------------------------------------------------- */

static void test_entities(void **state)
{
	(void)state;
	assert_string_equal(tidu_changeset_entity_name(TIDU_CHANGESET_FIRM), "firm");
	assert_string_equal(tidu_changeset_entity_name(TIDU_CHANGESET_FIRM_YEAR), "firm_year");
	assert_string_equal(tidu_changeset_entity_name(TIDU_CHANGESET_VISIT), "visit");
	assert_null(tidu_changeset_entity_name(0));
	assert_string_equal(tidu_changeset_entity_name(TIDU_CHANGESET_RESPONSE), "response");
	assert_string_equal(tidu_changeset_entity_name(TIDU_CHANGESET_ATTACHMENT), "attachment");
	assert_string_equal(tidu_changeset_entity_name(TIDU_CHANGESET_REFERRAL), "referral");
	assert_string_equal(tidu_changeset_entity_name(TIDU_CHANGESET_EVENT), "event");
	assert_string_equal(tidu_changeset_entity_name(TIDU_CHANGESET_ATTENDANCE), "attendance");
	assert_null(tidu_changeset_entity_name(TIDU_CHANGESET_LAST + 1));
	assert_int_equal(tidu_changeset_entity_code("attendance"), TIDU_CHANGESET_ATTENDANCE);
	assert_int_equal(tidu_changeset_entity_code("visit"), TIDU_CHANGESET_VISIT);
	assert_int_equal(tidu_changeset_entity_code("attachment"), TIDU_CHANGESET_ATTACHMENT);
	assert_int_equal(tidu_changeset_entity_code("firm_year"), TIDU_CHANGESET_FIRM_YEAR);
	assert_int_equal(tidu_changeset_entity_code("survey"), 0);
	assert_int_equal(tidu_changeset_entity_code(NULL), 0);
}

static void test_body_round_trip(void **state)
{
	enum { N = 300 };
	static tidu_changeset_field many[N];
	static char names[N][16], values[N][64];
	tidu_changeset_field few[] = {
		{ "name", "郑州示例科技有限公司（高新区）", "" },
		{ "address", NULL, "1700000000000000:" DEVICE2 },
		{ "note", "", NULL },
		{ "problems", "line 1\nline 2\ttab \"quoted\" 😀", "5:" DEVICE },
	};
	tidu_changeset_change in[3] = {
		{ TIDU_CHANGESET_FIRM, USCC, 1000, 1700000000000, few, 4 },
		{ TIDU_CHANGESET_VISIT, "0190b1c2-7d3e-7abc-8def-0123456789ab", 1001, -5, many, N },
		{ TIDU_CHANGESET_FIRM_YEAR, USCC "/2024", (uint64_t)INT64_MAX, INT64_MIN, few + 1, 1 },
	};
	tidu_buf body = TIDU_BUF_INIT;
	tidu_changeset_reader r;
	tidu_changeset_change c;
	size_t i, j;

	(void)state;
	/* Given in reverse name order: stored sorted. */
	for (i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "f%03zu", N - 1 - i);
		if (i % 3 == 0)
			snprintf(values[i], sizeof(values[i]), "值%zu：专精特新", i);
		else if (i % 3 == 1)
			snprintf(values[i], sizeof(values[i]), "%zu", i * 1000);
		many[i].field = names[i];
		many[i].value = i % 3 == 2 ? NULL : values[i];
		many[i].base = i % 2 ? "" : "42:" DEVICE;
	}
	for (i = 0; i < 3; i++)
		assert_int_equal(tidu_changeset_body_add(&body, &in[i]), 0);

	tidu_changeset_reader_init(&r, body.ptr, body.len);
	for (i = 0; i < 3; i++) {
		assert_int_equal(tidu_changeset_reader_next(&r, &c), 1);
		assert_int_equal(c.entity, in[i].entity);
		assert_string_equal(c.key, in[i].key);
		assert_true(c.hlc == in[i].hlc);
		assert_true(c.wall == in[i].wall);
		assert_int_equal(c.nfields, in[i].nfields);
		for (j = 0; j < c.nfields; j++) {
			const tidu_changeset_field *want = NULL;
			size_t k;

			if (j)
				assert_true(strcmp(c.fields[j - 1].field, c.fields[j].field) < 0);
			for (k = 0; k < in[i].nfields; k++)
				if (strcmp(in[i].fields[k].field, c.fields[j].field) == 0)
					want = &in[i].fields[k];
			assert_non_null(want);
			if (want->value)
				assert_string_equal(c.fields[j].value, want->value);
			else
				assert_null(c.fields[j].value);
			assert_string_equal(c.fields[j].base, want->base ? want->base : "");
		}
	}
	assert_int_equal(tidu_changeset_reader_next(&r, &c), 0);
	assert_int_equal(tidu_changeset_reader_next(&r, &c), 0);
	tidu_changeset_reader_free(&r);
	tidu_buf_free(&body);
}

static void test_body_add_rejects(void **state)
{
	static char big[TIDU_CHANGESET_MAX_STRING + 2];
	static tidu_changeset_field lots[TIDU_CHANGESET_MAX_FIELDS + 1];
	static char lot_names[TIDU_CHANGESET_MAX_FIELDS + 1][8];
	char long_key[TIDU_CHANGESET_MAX_KEY + 2], long_name[TIDU_CHANGESET_MAX_NAME + 2];
	tidu_changeset_field f = { "name", "x", "" };
	tidu_changeset_field dup[] = { { "name", "a", "" }, { "name", "b", "" } };
	tidu_changeset_change c = { TIDU_CHANGESET_FIRM, USCC, 1, 0, &f, 1 };
	tidu_changeset_change bad;
	tidu_buf body = TIDU_BUF_INIT;
	size_t i, before;
	const char *bad_bases[] = {
		"1", ":" DEVICE, "01:" DEVICE, "1:" "0123456789ABCDEF", "1:0123",
		"1:" DEVICE "0", "9223372036854775808:" DEVICE, "0:" DEVICE,
		"-1:" DEVICE, "1:" DEVICE ":", "12345678901234567890:" DEVICE,
	};
	const char *bad_names[] = { "", "Name", "na-me", "名字", "a b", long_name };
	const char *bad_values[] = { "\xC0\x80", "\xED\xA0\x80", "\xFF", "ab\xE4\xB8", big };

	(void)state;
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	memset(big, 'v', sizeof(big) - 1);
	for (i = 0; i <= TIDU_CHANGESET_MAX_FIELDS; i++) {
		snprintf(lot_names[i], sizeof(lot_names[i]), "f%zu", i);
		lots[i].field = lot_names[i];
	}

	assert_int_equal(tidu_changeset_body_add(&body, &c), 0);
	before = body.len;

#define REJECT(change) do { \
		bad = (change); \
		assert_int_equal(tidu_changeset_body_add(&body, &bad), TIDU_EINVAL); \
		assert_int_equal(body.len, before); \
	} while (0)
	bad = c; bad.entity = 0; REJECT(bad);
	bad = c; bad.entity = TIDU_CHANGESET_LAST + 1; REJECT(bad);
	bad = c; bad.key = ""; REJECT(bad);
	bad = c; bad.key = NULL; REJECT(bad);
	bad = c; bad.key = long_key; REJECT(bad);
	bad = c; bad.key = "\xC3("; REJECT(bad);
	bad = c; bad.hlc = 0; REJECT(bad);
	bad = c; bad.hlc = (uint64_t)INT64_MAX + 1; REJECT(bad);
	bad = c; bad.nfields = 0; REJECT(bad);
	bad = c; bad.fields = NULL; REJECT(bad);
	bad = c; bad.fields = dup; bad.nfields = 2; REJECT(bad);
	assert_true(has("twice"));
	bad = c; bad.fields = lots; bad.nfields = TIDU_CHANGESET_MAX_FIELDS + 1; REJECT(bad);
	for (i = 0; i < sizeof(bad_bases) / sizeof(*bad_bases); i++) {
		tidu_changeset_field bf = { "name", "x", bad_bases[i] };

		bad = c; bad.fields = &bf; REJECT(bad);
	}
	for (i = 0; i < sizeof(bad_names) / sizeof(*bad_names); i++) {
		tidu_changeset_field bf = { bad_names[i], "x", "" };

		bad = c; bad.fields = &bf; REJECT(bad);
	}
	for (i = 0; i < sizeof(bad_values) / sizeof(*bad_values); i++) {
		tidu_changeset_field bf = { "name", bad_values[i], "" };

		bad = c; bad.fields = &bf; REJECT(bad);
	}
#undef REJECT
	assert_int_equal(tidu_changeset_body_add(NULL, &c), TIDU_EINVAL);
	assert_int_equal(tidu_changeset_body_add(&body, NULL), TIDU_EINVAL);

	/* The limits themselves are fine. */
	big[TIDU_CHANGESET_MAX_STRING] = '\0';
	long_key[TIDU_CHANGESET_MAX_KEY] = '\0';
	long_name[TIDU_CHANGESET_MAX_NAME] = '\0';
	{
		tidu_changeset_field edge[] = { { long_name, big, "9223372036854775807:" DEVICE } };
		tidu_changeset_change e = { TIDU_CHANGESET_VISIT, long_key, 2, 0, edge, 1 };
		tidu_changeset_change l = { TIDU_CHANGESET_VISIT, "k", 3, 0, lots, TIDU_CHANGESET_MAX_FIELDS };

		assert_int_equal(tidu_changeset_body_add(&body, &e), 0);
		assert_int_equal(tidu_changeset_body_add(&body, &l), 0);
		assert_int_equal(count_changes(&body), 3);
	}
	tidu_buf_free(&body);
}

/* ---- raw bodies ------------------------------------------------------------ */

static void raw_varint(tidu_buf *b, uint64_t v)
{
	do {
		unsigned char c = (unsigned char)(v & 0x7F);

		v >>= 7;
		if (v)
			c |= 0x80;
		tidu_buf_putc(b, (char)c);
	} while (v);
}

static void raw_str(tidu_buf *b, const char *s, size_t len)
{
	raw_varint(b, len);
	tidu_buf_put(b, s, len);
}

static void raw_head(tidu_buf *b, int entity, const char *key, uint64_t hlc,
		     uint64_t nfields)
{
	unsigned char n[8];

	tidu_buf_putc(b, (char)entity);
	raw_str(b, key, strlen(key));
	craft_le(n, hlc, 8);
	tidu_buf_put(b, n, 8);
	craft_le(n, 7, 8);
	tidu_buf_put(b, n, 8);
	raw_varint(b, nfields);
}

static void raw_field(tidu_buf *b, const char *name, int flag, const char *value,
		      size_t vlen, const char *base)
{
	raw_str(b, name, strlen(name));
	tidu_buf_putc(b, (char)flag);
	if (flag == 1)
		raw_str(b, value, vlen);
	raw_str(b, base, strlen(base));
}

/* A body with one good change, then what `tail` appends. */
static int reads(void (*tail)(tidu_buf *))
{
	tidu_buf b = TIDU_BUF_INIT;
	int rc;

	raw_head(&b, 1, "k", 1, 1);
	raw_field(&b, "a", 1, "v", 1, "");
	tail(&b);
	rc = count_changes(&b);
	tidu_buf_free(&b);
	return rc;
}

static void t_nothing(tidu_buf *b) { (void)b; }
static void t_entity0(tidu_buf *b) { raw_head(b, 0, "k", 2, 1); raw_field(b, "a", 0, NULL, 0, ""); }
static void t_entity6(tidu_buf *b) { raw_head(b, TIDU_CHANGESET_LAST + 1, "k", 2, 1); raw_field(b, "a", 0, NULL, 0, ""); }
static void t_entity255(tidu_buf *b) { raw_head(b, 255, "k", 2, 1); raw_field(b, "a", 0, NULL, 0, ""); }
static void t_hlc_same(tidu_buf *b) { raw_head(b, 1, "k", 1, 1); raw_field(b, "a", 0, NULL, 0, ""); }
static void t_hlc_back(tidu_buf *b) { raw_head(b, 1, "k", 0, 1); raw_field(b, "a", 0, NULL, 0, ""); }
static void t_hlc_huge(tidu_buf *b) { raw_head(b, 1, "k", UINT64_MAX, 1); raw_field(b, "a", 0, NULL, 0, ""); }
static void t_nfields0(tidu_buf *b) { raw_head(b, 1, "k", 2, 0); }
static void t_nfields_max(tidu_buf *b) { raw_head(b, 1, "k", 2, TIDU_CHANGESET_MAX_FIELDS + 1); }
static void t_nfields_huge(tidu_buf *b) { raw_head(b, 1, "k", 2, UINT64_MAX); }
static void t_nfields_short(tidu_buf *b) { raw_head(b, 1, "k", 2, 1000); raw_field(b, "a", 0, NULL, 0, ""); }
static void t_flag2(tidu_buf *b) { raw_head(b, 1, "k", 2, 1); raw_field(b, "a", 2, NULL, 0, ""); }
static void t_nul(tidu_buf *b) { raw_head(b, 1, "k", 2, 1); raw_field(b, "a", 1, "x\0y", 3, ""); }
static void t_utf8(tidu_buf *b) { raw_head(b, 1, "k", 2, 1); raw_field(b, "a", 1, "\xED\xA0\x80", 3, ""); }
static void t_unsorted(tidu_buf *b) { raw_head(b, 1, "k", 2, 2); raw_field(b, "b", 0, NULL, 0, ""); raw_field(b, "a", 0, NULL, 0, ""); }
static void t_repeated(tidu_buf *b) { raw_head(b, 1, "k", 2, 2); raw_field(b, "a", 0, NULL, 0, ""); raw_field(b, "a", 0, NULL, 0, ""); }
static void t_prefix_order(tidu_buf *b) { raw_head(b, 1, "k", 2, 2); raw_field(b, "ab", 0, NULL, 0, ""); raw_field(b, "a", 0, NULL, 0, ""); }
static void t_base(tidu_buf *b) { raw_head(b, 1, "k", 2, 1); raw_field(b, "a", 0, NULL, 0, "7:zz"); }
static void t_name(tidu_buf *b) { raw_head(b, 1, "k", 2, 1); raw_field(b, "A", 0, NULL, 0, ""); }
static void t_key_empty(tidu_buf *b) { raw_head(b, 1, "", 2, 1); raw_field(b, "a", 0, NULL, 0, ""); }
static void t_overlong(tidu_buf *b)
{
	raw_head(b, 1, "k", 2, 1);
	tidu_buf_put(b, "\x81\x00" "a", 3); /* name length 1 in two bytes */
	tidu_buf_put(b, "\x00\x00", 2);
}
static void t_len_huge(tidu_buf *b)
{
	raw_head(b, 1, "k", 2, 1);
	tidu_buf_put(b, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01", 10);
}
static void t_len_11(tidu_buf *b)
{
	raw_head(b, 1, "k", 2, 1);
	tidu_buf_put(b, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01", 11);
}
static void t_value_cap(tidu_buf *b)
{
	raw_head(b, 1, "k", 2, 1);
	raw_str(b, "a", 1);
	tidu_buf_putc(b, 1);
	raw_varint(b, TIDU_CHANGESET_MAX_STRING + 1); /* claimed, not present */
}
static void t_value_short(tidu_buf *b)
{
	raw_head(b, 1, "k", 2, 1);
	raw_str(b, "a", 1);
	tidu_buf_putc(b, 1);
	raw_varint(b, 1000);
	tidu_buf_puts(b, "only a few");
}
static void t_key_cap(tidu_buf *b)
{
	char key[TIDU_CHANGESET_MAX_KEY + 2]; /* one byte over */

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	raw_head(b, 1, key, 2, 1);
	raw_field(b, "a", 0, NULL, 0, "");
}
static void t_one_byte(tidu_buf *b) { tidu_buf_putc(b, 1); }

static void test_body_reader_rejects(void **state)
{
	void (*bad[])(tidu_buf *) = {
		t_entity0, t_entity6, t_entity255, t_hlc_same, t_hlc_back, t_hlc_huge,
		t_nfields0, t_nfields_max, t_nfields_huge, t_nfields_short, t_flag2,
		t_nul, t_utf8, t_unsorted, t_repeated, t_prefix_order, t_base, t_name,
		t_key_empty, t_overlong, t_len_huge, t_len_11, t_value_cap,
		t_value_short, t_key_cap, t_one_byte,
	};
	tidu_changeset_reader r;
	tidu_changeset_change c;
	tidu_buf b = TIDU_BUF_INIT;
	size_t i;

	(void)state;
	assert_int_equal(reads(t_nothing), 1);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (reads(bad[i]) != TIDU_ECORRUPT)
			fail_msg("bad body %zu was accepted", i);
		assert_true(has("change 2"));
	}

	/* Once failed, a reader stays failed. */
	raw_head(&b, 9, "k", 1, 1);
	tidu_changeset_reader_init(&r, b.ptr, b.len);
	assert_int_equal(tidu_changeset_reader_next(&r, &c), TIDU_ECORRUPT);
	assert_true(has("unknown entity"));
	assert_int_equal(tidu_changeset_reader_next(&r, &c), TIDU_ECORRUPT);
	tidu_changeset_reader_free(&r);

	/* An empty body has no changes. */
	tidu_changeset_reader_init(&r, NULL, 0);
	assert_int_equal(tidu_changeset_reader_next(&r, &c), 0);
	tidu_changeset_reader_free(&r);
	tidu_buf_free(&b);
}

static void test_body_truncated(void **state)
{
	tidu_buf body = TIDU_BUF_INIT;
	size_t len, ends[3] = {0};
	tidu_changeset_reader r;
	tidu_changeset_change c;
	int n = 0;

	(void)state;
	small_body(&body, 10);
	tidu_changeset_reader_init(&r, body.ptr, body.len);
	while (tidu_changeset_reader_next(&r, &c) > 0)
		ends[++n] = (size_t)(r.pos - (const unsigned char *)body.ptr);
	tidu_changeset_reader_free(&r);
	assert_int_equal(n, 2);
	assert_int_equal(ends[2], body.len);

	for (len = 0; len < body.len; len++) {
		tidu_buf part = TIDU_BUF_INIT;
		int rc;

		tidu_buf_put(&part, body.ptr, len);
		rc = count_changes(&part);
		if (len == ends[0] || len == ends[1])
			assert_int_equal(rc, len == 0 ? 0 : 1);
		else
			assert_int_equal(rc, TIDU_ECORRUPT);
		tidu_buf_free(&part);
	}
	tidu_buf_free(&body);
}

/* ---- sealing and opening --------------------------------------------------- */

static void test_seal_open(void **state)
{
	tidu_buf body = TIDU_BUF_INIT, file = TIDU_BUF_INIT, out = TIDU_BUF_INIT;
	tidu_changeset_header sealed, read, opened;
	tidu_changeset_keypair keys[2];
	tidu_changeset_origin o;
	unsigned char pk_list[3][32];
	const unsigned char (*pks)[32] = (const unsigned char (*)[32])pk_list;

	(void)state;
	memcpy(pk_list[0], K.district_pk, 32);
	memcpy(pk_list[1], K.city_pk, 32);
	memcpy(pk_list[2], K.district_pk, 32); /* listed once */
	origin_init(&o, 1, NULL);
	small_body(&body, 500);
	assert_int_equal(tidu_changeset_seal(&o, &body, K.sign_sk, pks, 3, &file, &sealed), 0);
	assert_int_equal(sealed.version, TIDU_CHANGESET_FORMAT);
	assert_string_equal(sealed.district, "410102");
	assert_string_equal(sealed.device, DEVICE);
	assert_true(sealed.seq == 1);
	assert_true(sealed.hlc_min == 500 && sealed.hlc_max == 501);
	assert_int_equal(sealed.count, 2);
	assert_true(sealed.body_size == body.len);
	assert_int_equal(sealed.nrecipients, 2);
	assert_memory_equal(file.ptr, "TIDUCS\0\1", 8);

	/* The header reads back without any key. */
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)file.ptr, file.len,
					     "x", &read), 0);
	same_header(&read, &sealed);

	/* The district key opens it. */
	assert_int_equal(open_district(&file, &opened, &out), 0);
	same_header(&opened, &sealed);
	assert_int_equal(out.len, body.len);
	assert_memory_equal(out.ptr, body.ptr, body.len);
	assert_int_equal(count_changes(&out), 2);

	/* So does the city key, also after a key that is not a recipient. */
	memcpy(keys[0].pk, K.other_pk, 32);
	memcpy(keys[0].sk, K.other_sk, 32);
	memcpy(keys[1].pk, K.city_pk, 32);
	memcpy(keys[1].sk, K.city_sk, 32);
	assert_int_equal(tidu_changeset_open((const unsigned char *)file.ptr, file.len, "x",
				      keys, 2, K.sign_pk, &opened, &out), 0);
	assert_memory_equal(out.ptr, body.ptr, body.len);

	/* A third key cannot: "not for me", not "tampered". */
	assert_int_equal(tidu_changeset_open((const unsigned char *)file.ptr, file.len,
				      "d/410102/x.tcs", keys, 1, K.sign_pk, &opened, &out),
			 TIDU_ENOTFOUND);
	assert_true(has("not readable by this store"));
	assert_true(has("d/410102/x.tcs"));
	assert_int_equal(out.len, 0);
	assert_int_equal(tidu_changeset_open((const unsigned char *)file.ptr, file.len, "x",
				      NULL, 0, K.sign_pk, &opened, &out), TIDU_ENOTFOUND);

	/* Another device's signing key: corrupt. */
	assert_int_equal(tidu_changeset_open((const unsigned char *)file.ptr, file.len, "x",
				      keys + 1, 1, K.other_sign_pk, &opened, &out),
			 TIDU_ECORRUPT);
	assert_true(has("signature"));
	assert_int_equal(out.len, 0);

	/* A key listed with a damaged sealed file key: corrupt, not "not for me". */
	file.ptr[112 + 2 + 88 + 8 + 5] ^= 1; /* city's entry */
	assert_int_equal(tidu_changeset_open((const unsigned char *)file.ptr, file.len, "x",
				      keys + 1, 1, K.sign_pk, &opened, &out),
			 TIDU_ECORRUPT);
	assert_true(has("file key"));
	assert_int_equal(tidu_changeset_open((const unsigned char *)file.ptr, file.len, "x",
				      keys, 0, K.sign_pk, &opened, &out), TIDU_ENOTFOUND);

	/* Two seals of the same body differ (random key and nonce). */
	{
		tidu_buf again = TIDU_BUF_INIT;

		assert_int_equal(tidu_changeset_seal(&o, &body, K.sign_sk, pks, 1, &again, NULL), 0);
		assert_true(again.len != file.len || memcmp(again.ptr, file.ptr, file.len));
		tidu_buf_free(&again);
	}
	tidu_buf_free(&body);
	tidu_buf_free(&file);
	tidu_buf_free(&out);
}

static void test_seal_rejects(void **state)
{
	tidu_buf body = TIDU_BUF_INIT, file = TIDU_BUF_INIT, empty = TIDU_BUF_INIT;
	static unsigned char pks[TIDU_CHANGESET_MAX_RECIPIENTS + 1][32];
	const unsigned char (*cpks)[32] = (const unsigned char (*)[32])pks;
	unsigned char prev[32];
	tidu_changeset_origin o;
	size_t i;
	const char *districts[] = { "", "12345678901234567", "a/b", "41 01", "郑州" };
	const char *devices[] = { "", "0123456789ABCDEF", "0123456789abcde",
				  "0123456789abcdef0", "0123456789abcdeg" };

	(void)state;
	for (i = 0; i <= TIDU_CHANGESET_MAX_RECIPIENTS; i++)
		crypto_box_keypair(pks[i], prev); /* prev: scratch */
	memset(prev, 7, sizeof(prev));
	small_body(&body, 1);
	origin_init(&o, 1, NULL);
	tidu_buf_puts(&file, "old contents");

#define SEAL_FAILS(n) do { \
		assert_int_equal(tidu_changeset_seal(&o, &body, K.sign_sk, cpks, (n), &file, \
					      NULL), TIDU_EINVAL); \
		assert_int_equal(file.len, 0); \
	} while (0)
	for (i = 0; i < sizeof(districts) / sizeof(*districts); i++) {
		o.district = districts[i];
		SEAL_FAILS(1);
	}
	origin_init(&o, 1, NULL);
	for (i = 0; i < sizeof(devices) / sizeof(*devices); i++) {
		o.device = devices[i];
		SEAL_FAILS(1);
	}
	origin_init(&o, 0, NULL);
	SEAL_FAILS(1);
	origin_init(&o, 1, prev);    /* first file with a previous hash */
	SEAL_FAILS(1);
	origin_init(&o, 2, NULL);    /* later file without one */
	SEAL_FAILS(1);
	origin_init(&o, 1, NULL);
	SEAL_FAILS(0);
	SEAL_FAILS(TIDU_CHANGESET_MAX_RECIPIENTS + 1);
	assert_int_equal(tidu_changeset_seal(&o, &body, K.sign_sk, cpks, TIDU_CHANGESET_MAX_RECIPIENTS,
				      &file, NULL), 0);
	/* An all-zero public key is refused by libsodium. */
	memset(pks[0], 0, 32);
	SEAL_FAILS(1);
	assert_true(has("public key"));
	/* Empty body, body out of HLC order, malformed body. */
	assert_int_equal(tidu_changeset_seal(&o, &empty, K.sign_sk, cpks + 1, 1, &file, NULL),
			 TIDU_EINVAL);
	small_body(&body, 1); /* again: HLCs 1, 2 after 1, 2 */
	SEAL_FAILS(1);
	assert_true(has("HLC order"));
	tidu_buf_clear(&body);
	tidu_buf_put(&body, "\x01\x01k", 3);
	SEAL_FAILS(1);
	assert_int_equal(tidu_changeset_seal(NULL, &body, K.sign_sk, cpks, 1, &file, NULL),
			 TIDU_EINVAL);
	assert_int_equal(tidu_changeset_seal(&o, &body, K.sign_sk, cpks, 1, NULL, NULL),
			 TIDU_EINVAL);
#undef SEAL_FAILS
	tidu_buf_free(&body);
	tidu_buf_free(&file);
}

/* Every single-byte change of a file makes opening fail. */
static void test_every_byte_flip(void **state)
{
	tidu_buf file = TIDU_BUF_INIT, body = TIDU_BUF_INIT;
	tidu_changeset_header h;
	const unsigned char masks[] = { 0x01, 0x80, 0xFF };
	size_t i, m;

	(void)state;
	seal_small(&file, 3, (const unsigned char *)"0123456789abcdef0123456789abcdef", 77);
	for (i = 0; i < file.len; i++)
		for (m = 0; m < sizeof(masks); m++) {
			int rc;

			file.ptr[i] ^= (char)masks[m];
			rc = open_district(&file, &h, &body);
			if (rc >= 0)
				fail_msg("flip of byte %zu by %02x opened", i, masks[m]);
			assert_true(rc == TIDU_ECORRUPT || rc == TIDU_ENOTFOUND ||
				    rc == TIDU_EINVAL);
			assert_int_equal(body.len, 0);
			file.ptr[i] ^= (char)masks[m];
		}
	assert_int_equal(open_district(&file, &h, &body), 0);
	tidu_buf_free(&file);
	tidu_buf_free(&body);
}

/* Every truncation, and an appended byte, fail cleanly. */
static void test_truncation(void **state)
{
	tidu_buf file = TIDU_BUF_INIT, body = TIDU_BUF_INIT;
	tidu_changeset_header h;
	size_t len, fixed = 112 + 2 + 2 * 88 + 24 + 64 + 16;

	(void)state;
	seal_small(&file, 1, NULL, 5);
	for (len = 0; len < file.len; len++) {
		unsigned char *copy = malloc(len ? len : 1);
		int rc;

		memcpy(copy, file.ptr, len);
		rc = tidu_changeset_open(copy, len, "t", NULL, 0, K.sign_pk, &h, &body);
		assert_true(rc == TIDU_ECORRUPT || (len > fixed && rc == TIDU_ENOTFOUND));
		{
			tidu_changeset_keypair kp;

			memcpy(kp.pk, K.city_pk, 32);
			memcpy(kp.sk, K.city_sk, 32);
			rc = tidu_changeset_open(copy, len, "t", &kp, 1, K.sign_pk, &h, &body);
			assert_int_equal(rc, TIDU_ECORRUPT);
			assert_int_equal(body.len, 0);
		}
		rc = tidu_changeset_read_header(copy, len, "t", &h);
		if (len <= fixed)
			assert_int_equal(rc, TIDU_ECORRUPT);
		free(copy);
	}
	tidu_buf_putc(&file, 0);
	assert_int_equal(open_district(&file, &h, &body), TIDU_ECORRUPT);
	tidu_buf_free(&file);
	tidu_buf_free(&body);
}

static void test_magic_and_version(void **state)
{
	tidu_buf file = TIDU_BUF_INIT, body = TIDU_BUF_INIT;
	tidu_changeset_header h;

	(void)state;
	seal_small(&file, 1, NULL, 5);

	file.ptr[0] = 'X';
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)file.ptr, file.len,
					     "a.tcs", &h), TIDU_ECORRUPT);
	assert_true(has("not a tidu change set"));
	assert_true(has("a.tcs"));
	assert_int_equal(open_district(&file, &h, &body), TIDU_ECORRUPT);
	file.ptr[0] = 'T';
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)"PK\3\4", 4, "z", &h),
			 TIDU_ECORRUPT);
	assert_true(has("not a tidu change set"));
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)"TIDU", 4, "z", &h),
			 TIDU_ECORRUPT);
	assert_true(has("truncated"));

	/* A newer format: a clear message, whatever follows the version. */
	file.ptr[8] = 2;
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)file.ptr, file.len,
					     "new.tcs", &h), TIDU_EINVAL);
	assert_string_equal(tidu_error_message(),
			    "change set 'new.tcs' was made by a newer tidu (format 2)");
	assert_int_equal(open_district(&file, &h, &body), TIDU_EINVAL);
	assert_true(has("newer tidu (format 2)"));
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)file.ptr, 10,
					     "new.tcs", &h), TIDU_EINVAL);
	file.ptr[8] = 0;
	file.ptr[9] = 1; /* 256 */
	assert_int_equal(open_district(&file, &h, &body), TIDU_EINVAL);
	assert_true(has("(format 256)"));
	file.ptr[9] = 0; /* 0: never written */
	assert_int_equal(open_district(&file, &h, &body), TIDU_ECORRUPT);
	file.ptr[8] = 1;
	file.ptr[10] = 113; /* header length */
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)file.ptr, file.len,
					     "x", &h), TIDU_ECORRUPT);
	file.ptr[10] = 112;
	assert_int_equal(open_district(&file, &h, &body), 0);

	/* Names in messages stay on one line. */
	file.ptr[0] = 'X';
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)file.ptr, file.len,
					     "evil\nname", &h), TIDU_ECORRUPT);
	assert_null(strchr(tidu_error_message(), '\n'));
	tidu_buf_free(&file);
	tidu_buf_free(&body);
}

/* ---- crafted files: lying headers, bombs, bad bodies behind a signature ---- */

static void craft(tidu_buf *out, const craft_header *h, const unsigned char *z,
		  size_t zlen, const unsigned char *sign_sk)
{
	unsigned char hdr[CRAFT_HDR_LEN], key[32];
	tidu_buf rcpt = TIDU_BUF_INIT;
	const unsigned char (*pks)[32] = (const unsigned char (*)[32])K.district_pk;

	randombytes_buf(key, sizeof(key));
	craft_recipients(&rcpt, key, pks, 1);
	craft_encode_header(hdr, h);
	tidu_buf_clear(out);
	craft_file(out, hdr, (const unsigned char *)rcpt.ptr, rcpt.len, key, z, zlen,
		   sign_sk ? sign_sk : K.sign_sk);
	tidu_buf_free(&rcpt);
}

static void craft_header_for(craft_header *h, uint32_t count, uint64_t hlc_min,
			     uint64_t hlc_max, uint64_t body_size)
{
	memset(h, 0, sizeof(*h));
	h->version = 1;
	h->district = "410102";
	h->device = DEVICE;
	h->seq = 1;
	h->count = count;
	h->hlc_min = hlc_min;
	h->hlc_max = hlc_max;
	h->body_size = body_size;
}

static void zip(tidu_buf *out, const void *data, size_t len)
{
	uLongf zlen = compressBound((uLong)len);

	tidu_buf_clear(out);
	tidu_buf_grow(out, zlen);
	assert_int_equal(compress2((Bytef *)out->ptr, &zlen, data, (uLong)len, 9), Z_OK);
	out->len = zlen;
}

/* A zlib stream of `n` zero bytes, made without holding them. */
static void zip_zeros(tidu_buf *out, size_t n)
{
	static unsigned char zeros[1 << 16], chunk[1 << 16];
	z_stream zs;
	int rc;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit(&zs, 9), Z_OK);
	tidu_buf_clear(out);
	do {
		size_t in = n < sizeof(zeros) ? n : sizeof(zeros);

		n -= in;
		zs.next_in = zeros;
		zs.avail_in = (uInt)in;
		do {
			zs.next_out = chunk;
			zs.avail_out = sizeof(chunk);
			rc = deflate(&zs, n ? Z_NO_FLUSH : Z_FINISH);
			tidu_buf_put(out, chunk, sizeof(chunk) - zs.avail_out);
		} while (zs.avail_out == 0);
	} while (n);
	assert_int_equal(rc, Z_STREAM_END);
	deflateEnd(&zs);
}

static void test_crafted_matches_seal(void **state)
{
	tidu_buf body = TIDU_BUF_INIT, z = TIDU_BUF_INIT, file = TIDU_BUF_INIT,
		 out = TIDU_BUF_INIT;
	craft_header ch;
	tidu_changeset_header h;

	(void)state;
	/* The documented layout, written independently, opens. */
	small_body(&body, 40);
	zip(&z, body.ptr, body.len);
	craft_header_for(&ch, 2, 40, 41, body.len);
	craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
	assert_int_equal(open_district(&file, &h, &out), 0);
	assert_memory_equal(out.ptr, body.ptr, body.len);

	/* Headers that do not match their (valid, signed) body. */
	craft_header_for(&ch, 3, 40, 42, body.len);
	craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
	assert_int_equal(open_district(&file, &h, &out), TIDU_ECORRUPT);
	assert_true(has("does not match its header"));
	craft_header_for(&ch, 2, 39, 41, body.len);
	craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
	assert_int_equal(open_district(&file, &h, &out), TIDU_ECORRUPT);
	craft_header_for(&ch, 2, 40, 42, body.len);
	craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
	assert_int_equal(open_district(&file, &h, &out), TIDU_ECORRUPT);

	/* A body that breaks the rules, properly signed. */
	tidu_buf_clear(&body);
	raw_head(&body, 1, "k", 5, 2);
	raw_field(&body, "b", 0, NULL, 0, "");
	raw_field(&body, "a", 0, NULL, 0, "");
	zip(&z, body.ptr, body.len);
	craft_header_for(&ch, 1, 5, 5, body.len);
	craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
	assert_int_equal(open_district(&file, &h, &out), TIDU_ECORRUPT);
	assert_true(has("not sorted"));
	assert_int_equal(out.len, 0);

	/* Not a zlib stream at all. */
	craft_header_for(&ch, 1, 5, 5, 100);
	craft(&file, &ch, (const unsigned char *)"not zlib at all", 15, NULL);
	assert_int_equal(open_district(&file, &h, &out), TIDU_ECORRUPT);
	assert_true(has("compressed body is damaged"));
	/* A stream with bytes after its end. */
	tidu_buf_clear(&body);
	small_body(&body, 60);
	zip(&z, body.ptr, body.len);
	tidu_buf_putc(&z, 0);
	craft_header_for(&ch, 2, 60, 61, body.len);
	craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
	assert_int_equal(open_district(&file, &h, &out), TIDU_ECORRUPT);
	/* A stream cut short. */
	z.len -= 5;
	craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
	assert_int_equal(open_district(&file, &h, &out), TIDU_ECORRUPT);

	tidu_buf_free(&body);
	tidu_buf_free(&z);
	tidu_buf_free(&file);
	tidu_buf_free(&out);
}

static void test_bombs(void **state)
{
	tidu_buf body = TIDU_BUF_INIT, z = TIDU_BUF_INIT, file = TIDU_BUF_INIT,
		 out = TIDU_BUF_INIT;
	craft_header ch;
	tidu_changeset_header h;

	(void)state;
	/* Claims 1 MiB, inflates to 256 MiB: refused after 1 MiB. */
	zip_zeros(&z, (size_t)256 << 20);
	craft_header_for(&ch, 1, 1, 1, 1 << 20);
	craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
	open_bounded(&file, TIDU_ECORRUPT, (size_t)4 << 20);
	assert_int_equal(open_district(&file, &h, &out), TIDU_ECORRUPT);
	assert_true(has("larger than its header says"));

	/* Claims a little, gives a little more. */
	small_body(&body, 9);
	zip(&z, body.ptr, body.len);
	craft_header_for(&ch, 1, 9, 9, body.len - 1);
	craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
	assert_int_equal(open_district(&file, &h, &out), TIDU_ECORRUPT);
	assert_true(has("larger than its header says"));

	/* Claims the cap, gives a small body: memory follows the data. */
	craft_header_for(&ch, 2, 9, 10, TIDU_CHANGESET_MAX_BODY);
	craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
	open_bounded(&file, TIDU_ECORRUPT, (size_t)4 << 20);
	assert_int_equal(open_district(&file, &h, &out), TIDU_ECORRUPT);
	assert_true(has("smaller than its header says"));

	/* Claims more than the cap: refused from the header alone. */
	craft_header_for(&ch, 2, 9, 10, (uint64_t)TIDU_CHANGESET_MAX_BODY + 1);
	craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)file.ptr, file.len,
					     "x", &h), TIDU_ECORRUPT);
	open_bounded(&file, TIDU_ECORRUPT, (size_t)1 << 20);
	craft_header_for(&ch, 2, 9, 10, UINT64_MAX);
	craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
	open_bounded(&file, TIDU_ECORRUPT, (size_t)1 << 20);

	/* A compressed body larger than its claimed size can give. */
	craft_header_for(&ch, 1, 9, 9, 24);
	craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)file.ptr, file.len,
					     "x", &h), TIDU_ECORRUPT);
	assert_true(has("larger than its size allows"));

	tidu_buf_free(&body);
	tidu_buf_free(&z);
	tidu_buf_free(&file);
	tidu_buf_free(&out);
}

static void test_absurd_headers(void **state)
{
	tidu_buf body = TIDU_BUF_INIT, z = TIDU_BUF_INIT, file = TIDU_BUF_INIT;
	unsigned char prev[32];
	craft_header ch;
	tidu_changeset_header h;
	int i;

	(void)state;
	memset(prev, 1, sizeof(prev));
	small_body(&body, 9);
	zip(&z, body.ptr, body.len);
	for (i = 0; i < 14; i++) {
		craft_header_for(&ch, 2, 9, 10, body.len);
		switch (i) {
		case 0: ch.count = 0; break;
		case 1: ch.count = UINT32_MAX; break;           /* > body_size / 24 */
		case 2: ch.hlc_min = 0; break;
		case 3: ch.hlc_min = 11; break;                 /* min > max */
		case 4: ch.hlc_max = 9; break;                  /* 2 changes, 1 HLC */
		case 5: ch.hlc_max = (uint64_t)INT64_MAX + 1; break;
		case 6: ch.seq = 0; break;
		case 7: ch.prev = prev; break;                  /* seq 1 with prev */
		case 8: ch.seq = 2; break;                      /* seq 2 without */
		case 9: ch.district = ""; break;
		case 10: ch.district = "a b"; break;
		case 11: ch.device = "0123456789ABCDEF"; break;
		case 12: ch.device = "0123"; break;
		case 13: ch.body_size = 47; break;              /* < 2 * 24 */
		}
		craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
		if (tidu_changeset_read_header((const unsigned char *)file.ptr, file.len, "x",
					&h) != TIDU_ECORRUPT)
			fail_msg("absurd header %d accepted", i);
		assert_true(has("invalid header"));
	}
	/* District padding must be zero. */
	craft_header_for(&ch, 2, 9, 10, body.len);
	craft(&file, &ch, (const unsigned char *)z.ptr, z.len, NULL);
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)file.ptr, file.len,
					     "x", &h), 0);
	assert_string_equal(h.district, "410102");
	file.ptr[64 + 10] = 'x';
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)file.ptr, file.len,
					     "x", &h), TIDU_ECORRUPT);
	file.ptr[64 + 10] = 0;
	/* Recipient counts. */
	file.ptr[112] = 0;
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)file.ptr, file.len,
					     "x", &h), TIDU_ECORRUPT);
	file.ptr[112] = 65;
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)file.ptr, file.len,
					     "x", &h), TIDU_ECORRUPT);
	file.ptr[112] = 64; /* more than the file holds */
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)file.ptr, file.len,
					     "x", &h), TIDU_ECORRUPT);
	tidu_buf_free(&body);
	tidu_buf_free(&z);
	tidu_buf_free(&file);
}

/* ---- chains and hashes ----------------------------------------------------- */

static void test_hash_and_chain(void **state)
{
	tidu_buf f1 = TIDU_BUF_INIT, f2 = TIDU_BUF_INIT, body = TIDU_BUF_INIT;
	unsigned char h1[32], again[32], h2[32];
	tidu_changeset_header h;
	static const unsigned char abc[32] = {
		0xbd, 0xdd, 0x81, 0x3c, 0x63, 0x42, 0x39, 0x72, 0x31, 0x71, 0xef,
		0x3f, 0xee, 0x98, 0x57, 0x9b, 0x94, 0x96, 0x4e, 0x3b, 0xb1, 0xcb,
		0x3e, 0x42, 0x72, 0x62, 0xc8, 0xc0, 0x68, 0xd5, 0x23, 0x19,
	};

	(void)state;
	/* BLAKE2b-256, unkeyed. */
	tidu_changeset_hash((const unsigned char *)"abc", 3, h1);
	assert_memory_equal(h1, abc, 32);

	seal_small(&f1, 1, NULL, 100);
	tidu_changeset_hash((const unsigned char *)f1.ptr, f1.len, h1);
	tidu_changeset_hash((const unsigned char *)f1.ptr, f1.len, again);
	assert_memory_equal(h1, again, 32);
	seal_small(&f2, 2, h1, 200);
	tidu_changeset_hash((const unsigned char *)f2.ptr, f2.len, h2);
	assert_memory_not_equal(h1, h2, 32);

	assert_int_equal(tidu_changeset_read_header((const unsigned char *)f2.ptr, f2.len, "2",
					     &h), 0);
	assert_true(h.seq == 2);
	assert_memory_equal(h.prev, h1, 32);
	assert_int_equal(open_district(&f2, &h, &body), 0);
	assert_memory_equal(h.prev, h1, 32);
	assert_int_equal(tidu_changeset_read_header((const unsigned char *)f1.ptr, f1.len, "1",
					     &h), 0);
	assert_true(h.seq == 1);
	assert_true(h.prev[0] == 0 && memcmp(h.prev, h.prev + 1, 31) == 0);

	/* The hash changes with any byte. */
	f1.ptr[f1.len / 2] ^= 1;
	tidu_changeset_hash((const unsigned char *)f1.ptr, f1.len, again);
	assert_memory_not_equal(h1, again, 32);
	tidu_buf_free(&f1);
	tidu_buf_free(&f2);
	tidu_buf_free(&body);
}

/* A large body with values up to the string cap round-trips. */
static void test_large(void **state)
{
	tidu_buf body = TIDU_BUF_INIT, file = TIDU_BUF_INIT, out = TIDU_BUF_INIT;
	char *big = malloc(TIDU_CHANGESET_MAX_STRING + 1);
	const unsigned char (*pks)[32] = (const unsigned char (*)[32])K.city_pk;
	tidu_changeset_keypair kp;
	tidu_changeset_header h;
	tidu_changeset_origin o;
	uint64_t i;

	(void)state;
	for (i = 0; i < TIDU_CHANGESET_MAX_STRING; i++)
		big[i] = (char)('a' + (i * 7919 + i / 13) % 26);
	big[TIDU_CHANGESET_MAX_STRING] = '\0';
	for (i = 0; i < 8; i++) {
		tidu_changeset_field f = { "note", big, "" };
		tidu_changeset_change c = { TIDU_CHANGESET_VISIT, "v", 1000 + i, 0, &f, 1 };

		assert_int_equal(tidu_changeset_body_add(&body, &c), 0);
	}
	origin_init(&o, 1, NULL);
	assert_int_equal(tidu_changeset_seal(&o, &body, K.sign_sk, pks, 1, &file, &h), 0);
	assert_int_equal(h.count, 8);
	memcpy(kp.pk, K.city_pk, 32);
	memcpy(kp.sk, K.city_sk, 32);
	assert_int_equal(tidu_changeset_open((const unsigned char *)file.ptr, file.len, "x", &kp,
				      1, K.sign_pk, &h, &out), 0);
	assert_int_equal(out.len, body.len);
	assert_memory_equal(out.ptr, body.ptr, body.len);
	assert_int_equal(count_changes(&out), 8);
	free(big);
	tidu_buf_free(&body);
	tidu_buf_free(&file);
	tidu_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entities),
		cmocka_unit_test(test_body_round_trip),
		cmocka_unit_test(test_body_add_rejects),
		cmocka_unit_test(test_body_reader_rejects),
		cmocka_unit_test(test_body_truncated),
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_seal_rejects),
		cmocka_unit_test(test_every_byte_flip),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_magic_and_version),
		cmocka_unit_test(test_crafted_matches_seal),
		cmocka_unit_test(test_bombs),
		cmocka_unit_test(test_absurd_headers),
		cmocka_unit_test(test_hash_and_chain),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
