/*
 * tidu_bench_apply: the cost of applying change sets, against a plain SQLite
 * insert of the same field changes, in one process (so both pay the same
 * machine). Also the cost of sealing and the bytes per field change.
 *
 *   tidu_bench_apply [DEVICES [FIRMS_PER_DEVICE]]     default 100 1000
 *
 * Each device writes FIRMS_PER_DEVICE firms x 10 fields (1,000,000 field
 * changes by default), realistic values (Chinese names and products,
 * figures), sealed into one change set per device. A fresh city store then
 * applies the 100 files; the baseline inserts the same rows (entity, key,
 * field, value, hlc, device) into one plain SQLite table, same pragmas
 * (WAL, synchronous=FULL), one transaction.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/changeset.h"
#include "tidu/home.h"
#include "tidu/keyfile.h"
#include "tidu/store.h"
#include "tidu/trust.h"
#include "tidu/uscc.h"

#define PASS "bench passphrase"
#define NFIELDS 10

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "tidu_bench_apply: %s: %s\n", what, tidu_error_message());
	exit(1);
}

static tidu_store *make(const char *root, int i, const char *district, const char *role)
{
	char dir[512], recovery[TIDU_RECOVERY_TEXT_MAX];
	tidu_store_identity id = {district, "bench", role};
	tidu_store *s;

	snprintf(dir, sizeof(dir), "%s/s%03d", root, i);
	if (tidu_home_create(&s, dir, &id, PASS, strlen(PASS), NULL, NULL, recovery,
			     sizeof(recovery)) < 0)
		die("create");
	return s;
}

static const char *const names[] = {"郑州", "中原", "嵩山", "黄河", "金水", "高新"};
static const char *const cores[] = {"智能传感", "超硬材料", "精密机械", "新能源", "生物医药"};
static const char *const products[] = {"MEMS 压力传感器", "金刚石微粉", "数控刀具",
				       "锂电池隔膜", "体外诊断试剂"};

/*
 * The 10 fields of firm i of device d, as canonical text: survey-like values
 * whose numbers, phones and name parts vary as real ones do (so that
 * compression is not flattered by repetition).
 */
static void firm_fields(int d, int i, char vals[NFIELDS][64])
{
	uint64_t r = (uint64_t)d * 1000003u + (uint64_t)i * 7919u + 12345u;
	static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄"};

	r = r * 6364136223846793005ULL + 1442695040888963407ULL;
	snprintf(vals[0], 64, "%s%s%s有限公司", names[r % 6], cores[(r >> 8) % 5],
		 (r >> 16) % 3 ? "科技" : "制造");
	snprintf(vals[1], 64, "410105");
	snprintf(vals[2], 64, "%s", products[(r >> 20) % 5]);
	snprintf(vals[3], 64, "%d", 20 + (int)((r >> 24) % 900));
	snprintf(vals[4], 64, "%d", 2 + (int)((r >> 34) % 90));
	snprintf(vals[5], 64, "%d", (int)((r >> 42) % 12));
	snprintf(vals[6], 64, "%d", 1995 + (int)((r >> 46) % 30));
	r = r * 6364136223846793005ULL + 1442695040888963407ULL;
	snprintf(vals[7], 64, "0371-%08d", (int)((r >> 20) % 100000000));
	snprintf(vals[8], 64, "%s%s", surnames[(r >> 52) % 8], (r >> 56) % 2 ? "经理" : "女士");
	snprintf(vals[9], 64, "%s", (r >> 60) % 2 ? "key_gap" : "strategic_emerging");
}

static const char *const field_names[NFIELDS] = {
	"name", "district", "main_product", "employees", "rd_staff", "ip_class1",
	"niche_since", "phone", "contact", "product_field",
};

static void firm_code(int d, int i, char out[19])
{
	snprintf(out, 19, "91410105M%03u%05uX", (unsigned)d % 1000u, (unsigned)i % 100000u);
	out[17] = tidu_uscc_check_char(out);
	out[18] = '\0';
}

int main(int argc, char **argv)
{
	int ndev = argc > 1 ? atoi(argv[1]) : 100, nfirm = argc > 2 ? atoi(argv[2]) : 1000;
	char root[] = "/tmp/tidu-bench-apply.XXXXXX", path[600];
	tidu_store *city, *one;
	unsigned char (*sks)[64];
	char (*devids)[TIDU_DEVICE_ID_LEN + 1];
	tidu_buf *files, req = TIDU_BUF_INIT, ring = TIDU_BUF_INIT;
	size_t total_bytes = 0, changes = 0, d;
	double t0, seal_s = 0, apply_s, base_s;
	sqlite3 *db;
	sqlite3_stmt *ins;
	int i, f;

	if (sodium_init() < 0 || ndev < 1 || nfirm < 1 || !mkdtemp(root))
		return 2;
	setenv("TIDU_FAKE_NOW_MS", "1900000000000", 1);
	city = make(root, 999, "410100", "city");
	sks = tidu_calloc((size_t)ndev, sizeof(*sks));
	devids = tidu_calloc((size_t)ndev, sizeof(*devids));
	files = tidu_calloc((size_t)ndev, sizeof(*files));
	fprintf(stderr, "making %d enrolled device stores...\n", ndev);
	for (i = 0; i < ndev; i++) {
		/* One at a time: a process keeps at most a few stores open. */
		one = make(root, i, "410105", "officer");
		tidu_buf_clear(&req);
		if (tidu_trust_enroll_request(one, &req) < 0 ||
		    tidu_trust_admit(city, req.ptr, req.len, NULL, 1) < 0 ||
		    tidu_trust_sign_sk(one, sks[i]) < 0)
			die("enroll");
		snprintf(devids[i], sizeof(devids[i]), "%s", tidu_store_device(one));
		tidu_store_free(one);
	}
	if (tidu_trust_keyring_export(city, &ring) < 0)
		die("keyring");

	fprintf(stderr, "sealing %d x %d x %d field changes...\n", ndev, nfirm, NFIELDS);
	for (i = 0; i < ndev; i++) {
		unsigned char pks[2][32];
		tidu_buf body = TIDU_BUF_INIT;
		tidu_changeset_origin o;
		size_t n;

		memset(&o, 0, sizeof(o));
		o.district = "410105";
		o.device = devids[i];
		o.seq = 1;
		for (f = 0; f < nfirm; f++) {
			char vals[NFIELDS][64], code[19];
			tidu_changeset_field fl[NFIELDS];
			tidu_changeset_change c;
			int k;

			firm_fields(i, f, vals);
			firm_code(i, f, code);
			for (k = 0; k < NFIELDS; k++) {
				fl[k].field = field_names[k];
				fl[k].value = vals[k];
				fl[k].base = "";
			}
			c.entity = TIDU_CHANGESET_FIRM;
			c.key = code;
			c.hlc = ((uint64_t)1900000000000LL << 16) + (uint64_t)f + 1;
			c.wall = 1900000000000LL;
			c.fields = fl;
			c.nfields = NFIELDS;
			if (tidu_changeset_body_add(&body, &c) < 0)
				die("body");
		}
		if (tidu_trust_recipients(city, "410105", pks, 2, &n) < 0)
			die("keys");
		t0 = now_s();
		if (tidu_changeset_seal(&o, &body, sks[i], (const unsigned char (*)[32])pks, n,
				 &files[i], NULL) < 0)
			die("seal");
		seal_s += now_s() - t0;
		total_bytes += files[i].len;
		changes += (size_t)nfirm * NFIELDS;
		tidu_buf_free(&body);
	}

	fprintf(stderr, "applying into the city store...\n");
	t0 = now_s();
	for (i = 0; i < ndev; i++) {
		tidu_apply_report rep;

		if (tidu_changes_apply(city, (const unsigned char *)files[i].ptr, files[i].len,
				       "bench", &rep) < 0 || rep.outcome != TIDU_APPLY_APPLIED) {
			fprintf(stderr, "apply: %s\n", rep.reason);
			return 1;
		}
	}
	apply_s = now_s() - t0;

	fprintf(stderr, "plain SQLite insert of the same rows...\n");
	snprintf(path, sizeof(path), "%s/plain.db", root);
	t0 = now_s();
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE fieldchange(entity TEXT, key TEXT, field TEXT, "
			 "value TEXT, hlc INTEGER, device TEXT); BEGIN", NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO fieldchange VALUES('firm', ?1, ?2, ?3, ?4, ?5)",
			       -1, &ins, NULL))
		return 1;
	for (d = 0; d < (size_t)ndev; d++) {
		for (f = 0; f < nfirm; f++) {
			char vals[NFIELDS][64], code[19];
			int k;

			firm_fields((int)d, f, vals);
			firm_code((int)d, f, code);
			for (k = 0; k < NFIELDS; k++) {
				sqlite3_bind_text(ins, 1, code, -1, SQLITE_STATIC);
				sqlite3_bind_text(ins, 2, field_names[k], -1, SQLITE_STATIC);
				sqlite3_bind_text(ins, 3, vals[k], -1, SQLITE_STATIC);
				sqlite3_bind_int64(ins, 4, ((int64_t)1900000000000LL << 16) + f + 1);
				sqlite3_bind_text(ins, 5, devids[d], -1, SQLITE_STATIC);
				if (sqlite3_step(ins) != SQLITE_DONE)
					return 1;
				sqlite3_reset(ins);
			}
		}
	}
	sqlite3_finalize(ins);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return 1;
	sqlite3_close(db);
	base_s = now_s() - t0;

	printf("field changes:                %zu from %d devices\n", changes, ndev);
	printf("apply (tidu, encrypted store): %.2f s  = %.0f field changes/s\n",
	       apply_s, (double)changes / apply_s);
	printf("plain SQLite insert:           %.2f s  = %.0f rows/s\n", base_s,
	       (double)changes / base_s);
	printf("ratio apply / plain insert:    %.2fx\n", apply_s / base_s);
	printf("seal:                          %.1f ms per change set of %d field changes "
	       "(%.2f us per field change)\n", seal_s * 1000 / ndev, nfirm * NFIELDS,
	       seal_s * 1e6 / (double)changes);
	printf("sealed bytes per field change: %.1f (%zu bytes in %d files)\n",
	       (double)total_bytes / (double)changes, total_bytes, ndev);

	for (i = 0; i < ndev; i++)
		tidu_buf_free(&files[i]);
	tidu_store_free(city);
	sodium_memzero(sks, (size_t)ndev * sizeof(*sks));
	free(sks);
	free(devids);
	free(files);
	tidu_buf_free(&req);
	tidu_buf_free(&ring);
	snprintf(path, sizeof(path), "rm -rf %s", root);
	return system(path) == 0 ? 0 : 1;
}
