/*
 * Property test of change sets and the merge: several officer stores in two
 * districts and the city make thousands of random edits (the same fields of
 * the same firms concurrently included), exchange their change-set files in
 * random order with duplicates, late deliveries and files withheld until the
 * end; then every store of a district and the city hold byte-identical
 * exports of what they can read, and every concurrent same-field edit shows
 * in the conflicts.
 *
 *   TIDU_PROPERTY_SEED=N   replay a seed (a failure prints its seed)
 *   TIDU_PROPERTY_OPS=N    number of random operations (default 3000)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "helpers.h"
#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/export.h"
#include "tidu/firm.h"
#include "tidu/keyfile.h"
#include "tidu/record.h"
#include "tidu/store.h"
#include "tidu/trust.h"
#include "tidu/uscc.h"
#include "tidu/visit.h"

#define PASS "property test passphrase"
#define NDEV 5
#define NFIRMS 12 /* per district: few, so that edits collide */

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

typedef struct {
	tidu_store *s;
	char dir[64];
	const char *district;
	int64_t skew;     /* this laptop's clock error, ms */
	size_t seen;      /* files of the pool it has been offered */
	int city;
	struct {          /* per device of the store (the city: its desks) */
		char device[TIDU_DEVICE_ID_LEN + 1];
		uint64_t seq; /* last published to the pool */
	} pub[8];
	size_t npub;
} node;

typedef struct {
	unsigned char *data;
	size_t len;
	char district[8];
	int withheld;     /* delivered only at the very end */
} cs_file;

static node nodes[NDEV + 1]; /* nodes[NDEV] is the city */
static cs_file *pool;
static size_t npool, cappool;
static int64_t now_ms = 1900000000000LL;
static uint64_t seed;
static size_t city_files; /* change sets of the city's desks */

static const char *const districts[] = {"410105", "410102"};

static void set_clock(const node *n)
{
	char text[32];

	snprintf(text, sizeof(text), "%lld", (long long)(now_ms + n->skew));
	setenv("TIDU_FAKE_NOW_MS", text, 1);
}

static void firm_code(const char *district, int i, char out[19])
{
	snprintf(out, 19, "91%sMA%06dX", district, i);
	out[17] = tidu_uscc_check_char(out);
	out[18] = '\0';
}

static void make_node(node *n, const char *district, const char *role)
{
	n->s = th_store(n->dir, "prop", district, role, PASS);
	n->district = district;
	n->city = !strcmp(role, "city");
}

static void enroll_all(void)
{
	tidu_store *devs[NDEV];
	int i;

	for (i = 0; i < NDEV; i++)
		devs[i] = nodes[i].s;
	th_enroll(nodes[NDEV].s, devs, NDEV);
}

/* The last sequence of `device` the node published; a new slot if none. */
static uint64_t *published(node *n, const char *device)
{
	size_t i;

	for (i = 0; i < n->npub; i++)
		if (!strcmp(n->pub[i].device, device))
			return &n->pub[i].seq;
	assert_true(n->npub < sizeof(n->pub) / sizeof(n->pub[0]));
	snprintf(n->pub[n->npub].device, sizeof(n->pub[0].device), "%s", device);
	n->pub[n->npub].seq = 0;
	return &n->pub[n->npub++].seq;
}

/*
 * Seals the node's pending changes and publishes the new files to the pool
 * (the city's go out as one change set per desk, for the desk's district).
 */
static void seal(node *n)
{
	uint64_t seq, *last;
	size_t count;
	sqlite3_stmt *st;

	set_clock(n);
	do {
		if (tidu_changes_seal(n->s, &seq, &count) < 0)
			fail_msg("seal: %s", tidu_error_message());
	} while (count);
	assert_int_equal(sqlite3_prepare_v2(tidu_store_db(n->s),
		"SELECT device, seq, district, file FROM changeset WHERE state='sealed' "
		"ORDER BY device, seq", -1, &st, NULL), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *device = (const char *)sqlite3_column_text(st, 0);

		seq = (uint64_t)sqlite3_column_int64(st, 1);
		last = published(n, device);
		if (seq <= *last)
			continue;
		*last = seq;
		if (npool == cappool) {
			cappool = cappool ? cappool * 2 : 64;
			pool = tidu_reallocarray(pool, cappool, sizeof(*pool));
		}
		pool[npool].len = (size_t)sqlite3_column_bytes(st, 3);
		pool[npool].data = tidu_malloc(pool[npool].len);
		memcpy(pool[npool].data, sqlite3_column_blob(st, 3), pool[npool].len);
		snprintf(pool[npool].district, sizeof(pool[npool].district), "%s",
			 sqlite3_column_text(st, 2));
		if (n->city && strcmp(pool[npool].district, n->district))
			city_files++;
		pool[npool].withheld = rnd(10) == 0;
		npool++;
	}
	sqlite3_finalize(st);
}

static void deliver(node *n, size_t i)
{
	tidu_apply_report rep;

	if (n != &nodes[NDEV] && strcmp(pool[i].district, n->district))
		return; /* a district store fetches only its district's files */
	set_clock(n);
	if (tidu_changes_apply(n->s, pool[i].data, pool[i].len, "pool", &rep) < 0)
		fail_msg("apply: %s", tidu_error_message());
	if (rep.outcome == TIDU_APPLY_REJECTED || rep.outcome == TIDU_APPLY_SKIPPED)
		fail_msg("seed %llu: file %zu %s: %s", (unsigned long long)seed, i,
			 rep.outcome == TIDU_APPLY_REJECTED ? "rejected" : "skipped",
			 rep.reason);
}

/* Offers a node some of the files it has not seen, in random order. */
static void exchange(node *n)
{
	size_t k, count = npool - n->seen;

	for (k = 0; k < count; k++) {
		size_t i = n->seen + rnd((uint32_t)count);

		if (!pool[i].withheld || rnd(3) == 0)
			deliver(n, i);
		if (rnd(4) == 0) /* a duplicate of an older file */
			deliver(n, rnd((uint32_t)npool));
	}
	if (rnd(2))
		n->seen = npool;
}

static void random_op(node *n)
{
	static const char *const fields[] = {"name", "main_product", "contact", "employees",
					     "2024.revenue", "2025.revenue", "2025.rd_expense"};
	char uscc[19], value[32], id[TIDU_UUID_LEN + 1];
	tidu_kv kv[2];
	int r = (int)rnd(100), error;

	/* The city edits the firms of every district. */
	firm_code(n->city ? districts[rnd(2)] : n->district, (int)rnd(NFIRMS), uscc);
	set_clock(n);
	/* Large value spaces: two concurrent writes never pick the same value. */
	snprintf(value, sizeof(value), "%u", rnd(1000000) + 1);
	if (r < 15) {
		kv[0].key = "name";
		kv[0].value = value;
		error = tidu_firm_add(n->s, uscc, kv, 1, NULL);
		if (error == TIDU_EEXISTS)
			error = 0;
	} else if (r < 80) {
		kv[0].key = fields[rnd(sizeof(fields) / sizeof(fields[0]))];
		kv[0].value = value;
		error = tidu_firm_set(n->s, uscc, kv, 1);
		if (error == TIDU_ENOTFOUND)
			error = 0;
	} else if (r < 93) {
		kv[0].key = "note";
		kv[0].value = value;
		error = tidu_visit_add(n->s, uscc, kv, 1, id);
		if (error == TIDU_ENOTFOUND)
			error = 0;
	} else if (r < 96) {
		error = tidu_firm_delete(n->s, uscc);
		if (error == TIDU_ENOTFOUND)
			error = 0;
	} else {
		seal(n);
		error = 0;
	}
	if (error < 0)
		fail_msg("seed %llu: op failed: %s", (unsigned long long)seed,
			 tidu_error_message());
}

static char *export_of(node *n, const char *district)
{
	tidu_buf b = TIDU_BUF_INIT;

	assert_int_equal(tidu_export_json(n->s, district, th_collect, &b), 0);
	return tidu_buf_detach(&b);
}

/*
 * Every pair of writes of one field from one base by two devices, with
 * different values, must show in the store's conflicts: each of the two
 * lines of descent (a write and the writes made on top of it, each naming
 * the one it replaced as its base) takes part in a conflict of that field.
 * Where a line moved on before the other arrived, its newer write is the one
 * in the conflict; where three or more lines met, each met the one winning
 * at the time, so every line shows without every pair showing.
 */
static size_t check_conflicts(node *n, node **writers, size_t nwriters, const char *desk)
{
	sqlite3 *db = tidu_store_db(n->s);
	sqlite3_stmt *a, *chk;
	size_t pairs = 0, w;

	assert_int_equal(sqlite3_exec(db,
		"CREATE TEMP TABLE IF NOT EXISTS w(entity, key, field, value, base, hlc, device);"
		"DELETE FROM w;"
		"CREATE TEMP TABLE IF NOT EXISTS anc(entity, key, field, hlc, device, ahlc, adevice);"
		"DELETE FROM anc;", NULL, NULL, NULL), 0);
	/* Every write of every writer, from their change logs. */
	for (w = 0; w < nwriters; w++) {
		sqlite3_stmt *rd, *ins;

		/* Of the city, only the writes of the store's district's desk. */
		assert_int_equal(sqlite3_prepare_v2(tidu_store_db(writers[w]->s),
			"SELECT c.entity, c.key, j.value->>0, j.value->>1, j.value->>2, c.hlc, c.device "
			"FROM change c, json_each(c.fields) j WHERE ?1 IS NULL OR c.device=?1",
			-1, &rd, NULL), 0);
		if (writers[w]->city && desk)
			sqlite3_bind_text(rd, 1, desk, -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_prepare_v2(db,
			"INSERT INTO w VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &ins, NULL), 0);
		while (sqlite3_step(rd) == SQLITE_ROW) {
			int c;

			for (c = 0; c < 7; c++)
				sqlite3_bind_value(ins, c + 1, sqlite3_column_value(rd, c));
			assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
			sqlite3_reset(ins);
		}
		sqlite3_finalize(rd);
		sqlite3_finalize(ins);
	}
	/* anc: each write with every write of its line of ascent, itself included. */
	assert_int_equal(sqlite3_exec(db,
		"CREATE INDEX IF NOT EXISTS w_clock ON w(entity, key, field, hlc, device);"
		"INSERT INTO anc WITH RECURSIVE a(entity, key, field, hlc, device, ahlc, adevice, abase) AS ("
		" SELECT entity, key, field, hlc, device, hlc, device, base FROM w"
		" UNION"
		" SELECT a.entity, a.key, a.field, a.hlc, a.device, p.hlc, p.device, p.base"
		" FROM a JOIN w p ON p.entity=a.entity AND p.key=a.key AND p.field=a.field"
		" AND a.abase = p.hlc || ':' || p.device)"
		" SELECT entity, key, field, hlc, device, ahlc, adevice FROM a;"
		"CREATE INDEX IF NOT EXISTS anc_w ON anc(entity, key, field, hlc, device);",
		NULL, NULL, NULL), 0);
	/* 1 when both lines (of ?4:?5 and of ?6:?7) take part in a conflict. */
	assert_int_equal(sqlite3_prepare_v2(db,
		"WITH sides(hlc, device) AS ("
		" SELECT lost_hlc, lost_device FROM conflict WHERE entity=?1 AND key=?2 AND field=?3"
		" UNION SELECT hlc, device FROM conflict WHERE entity=?1 AND key=?2 AND field=?3),"
		" lines AS (SELECT a.ahlc, a.adevice FROM sides s JOIN anc a ON a.entity=?1 "
		"  AND a.key=?2 AND a.field=?3 AND a.hlc=s.hlc AND a.device=s.device) "
		"SELECT EXISTS(SELECT 1 FROM lines WHERE ahlc=?4 AND adevice=?5) "
		"   AND EXISTS(SELECT 1 FROM lines WHERE ahlc=?6 AND adevice=?7)",
		-1, &chk, NULL), 0);
	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT x.entity, x.key, x.field, x.hlc, x.device, y.hlc, y.device "
		"FROM w x JOIN w y ON x.entity=y.entity AND x.key=y.key AND x.field=y.field "
		"AND x.base=y.base AND x.device<y.device "
		"AND x.value IS NOT y.value", -1, &a, NULL), 0);
	while (sqlite3_step(a) == SQLITE_ROW) {
		int c;

		for (c = 0; c < 7; c++)
			sqlite3_bind_value(chk, c + 1, sqlite3_column_value(a, c));
		assert_int_equal(sqlite3_step(chk), SQLITE_ROW);
		if (sqlite3_column_int(chk, 0) == 0)
			fail_msg("seed %llu: concurrent edits of %s %s.%s (%lld:%s, %lld:%s) "
				 "are not in the conflicts of store %s",
				 (unsigned long long)seed, sqlite3_column_text(a, 0),
				 sqlite3_column_text(a, 1), sqlite3_column_text(a, 2),
				 (long long)sqlite3_column_int64(a, 3), sqlite3_column_text(a, 4),
				 (long long)sqlite3_column_int64(a, 5), sqlite3_column_text(a, 6),
				 tidu_store_device(n->s));
		sqlite3_reset(chk);
		pairs++;
	}
	sqlite3_finalize(a);
	sqlite3_finalize(chk);
	return pairs;
}

/* With TIDU_PROPERTY_DUMP set, writes an export that differs, for diff(1). */
static void dump(const char *path, const char *text)
{
	FILE *f;

	if (!getenv("TIDU_PROPERTY_DUMP") || !(f = fopen(path, "w")))
		return;
	fputs(text, f);
	fclose(f);
	printf("wrote %s\n", path);
}

static void test_converges(void **state)
{
	const char *env = getenv("TIDU_PROPERTY_SEED"), *ops_env = getenv("TIDU_PROPERTY_OPS");
	long ops = ops_env ? strtol(ops_env, NULL, 10) : 3000, k;
	size_t i, pairs = 0;
	int d, j;

	(void)state;
	seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
	rng = seed * 2654435761ULL + 88172645463325252ULL;
	printf("property test seed %llu (replay: TIDU_PROPERTY_SEED=%llu)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	setenv("TIDU_FAKE_NOW_MS", "1900000000000", 1);
	make_node(&nodes[NDEV], "410100", "city");
	for (j = 0; j < NDEV; j++) {
		make_node(&nodes[j], districts[j < 3 ? 0 : 1], "officer");
		/* Laptops with clocks minutes off, one an hour behind. */
		nodes[j].skew = j == 4 ? -3600000 : (int64_t)rnd(600000) - 300000;
	}
	enroll_all();

	for (k = 0; k < ops; k++) {
		node *n = &nodes[rnd(NDEV + 1)]; /* the city writes too */

		now_ms += rnd(2000);
		random_op(n);
		if (rnd(40) == 0)
			exchange(&nodes[rnd(NDEV + 1)]);
	}
	/* The end of the day: everyone seals, every file reaches everyone. */
	for (j = 0; j <= NDEV; j++)
		seal(&nodes[j]);
	for (j = 0; j <= NDEV; j++) {
		for (i = 0; i < npool; i++)
			deliver(&nodes[j], npool - 1 - i); /* newest first: many holds */
		for (i = 0; i < npool; i++)
			deliver(&nodes[j], i);
	}
	for (d = 0; d < 2; d++) {
		char *city = export_of(&nodes[NDEV], districts[d]);

		for (j = 0; j < NDEV; j++) {
			char *mine;

			if (strcmp(nodes[j].district, districts[d]))
				continue;
			mine = export_of(&nodes[j], NULL);
			if (strcmp(mine, city)) {
				dump("/tmp/tidu-prop-city.json", city);
				dump("/tmp/tidu-prop-store.json", mine);
			}
			if (strcmp(mine, city))
				fail_msg("seed %llu: store %d of %s differs from the city",
					 (unsigned long long)seed, j, districts[d]);
			free(mine);
		}
		free(city);
	}
	for (j = 0; j <= NDEV; j++) {
		node *writers[NDEV + 1];
		char desk[TIDU_DEVICE_ID_LEN + 1];
		size_t nw = 0;
		int w;

		/* A district's store: its officers and the city's desk for it. */
		for (w = 0; w <= NDEV; w++)
			if (j == NDEV || w == NDEV || nodes[w].district == nodes[j].district)
				writers[nw++] = &nodes[w];
		tidu_trust_desk_id(tidu_store_device(nodes[NDEV].s), nodes[j].district, desk);
		pairs += check_conflicts(&nodes[j], writers, nw, j == NDEV ? NULL : desk);
	}
	printf("%ld operations, %zu change sets (%zu of the city's desks), "
	       "%zu concurrent same-field pairs checked\n", ops, npool, city_files, pairs);
	assert_true(npool > 20);
	assert_true(city_files > 2);
	assert_true(pairs > 0);

	for (j = 0; j <= NDEV; j++) {
		tidu_store_free(nodes[j].s);
		th_rmtree(nodes[j].dir);
	}
	for (i = 0; i < npool; i++)
		free(pool[i].data);
	free(pool);
	unsetenv("TIDU_FAKE_NOW_MS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converges),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
