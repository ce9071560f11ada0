/*
 * tidu-inject: a test fixture that writes values into a store exactly as a
 * peer's change set would, through the merge (tidu_record_merge), which
 * takes canonical text from signed change sets and does not validate it
 * against the dictionary. The CLI tests use it to put hostile text (escape
 * sequences, newlines, bidi overrides) where input checks cannot stop it,
 * then check that every printer shows it escaped.
 *
 *   tidu-inject [--device ID] [--old] [--outbox] HOME ENTITY KEY FIELD=VALUE...
 *
 * The store is opened with $TIDU_PASSPHRASE, as the CLI does. The change
 * is written by device ID (default: a peer device not in the keyring) at
 * the current time (`--old`: at the start of the clock, so that it loses
 * to what the store has, as a conflict). Its base is empty: a field the
 * store wrote already becomes a conflict. Exit 0, or 1 with the error.
 *
 * `--outbox` appends the change to this store's own change log instead, as
 * pending, without any check: what a store made before the write refused
 * over-limit values may hold (issue 9, item 1). VALUE `@PATH` is read from
 * the file PATH (for values larger than an argument may be).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tidu/buf.h"
#include "tidu/clock.h"
#include "tidu/file.h"
#include "tidu/json.h"
#include "tidu/error.h"
#include "tidu/home.h"
#include "tidu/record.h"
#include "tidu/store.h"

#define PEER_DEVICE "0190f0e0-0000-7000-8000-00000000beef"

static int fail(const char *what)
{
	fprintf(stderr, "tidu-inject: %s: %s\n", what, tidu_error_message());
	return 1;
}

/* --outbox: one pending change-log row of this store's device, unchecked. */
static int append_change(tidu_store *s, const char *entity, const char *key, int64_t hlc,
			 const tidu_merge_field *f, size_t n)
{
	tidu_buf json = TIDU_BUF_INIT;
	tidu_json_writer w;
	sqlite3_stmt *st = NULL;
	int rc;

	tidu_json_writer_init(&w, &json, 0);
	tidu_json_begin_array(&w);
	for (size_t k = 0; k < n; k++) {
		tidu_json_begin_array(&w);
		tidu_json_write_string(&w, f[k].field);
		tidu_json_write_string(&w, f[k].value);
		tidu_json_write_string(&w, "");
		tidu_json_end_array(&w);
	}
	tidu_json_end_array(&w);
	rc = sqlite3_prepare_v2(tidu_store_db(s),
		"INSERT INTO change(entity, key, hlc, device, wall, fields) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6)", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, entity, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, hlc);
		sqlite3_bind_text(st, 4, tidu_store_device(s), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, tidu_clock_now_ms());
		sqlite3_bind_text(st, 6, tidu_buf_cstr(&json), -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	tidu_buf_free(&json);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "tidu-inject: cannot append: %s\n", sqlite3_errmsg(tidu_store_db(s)));
		return 1;
	}
	printf("appended a pending change of %zu fields\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	const char *device = PEER_DEVICE, *pass = getenv("TIDU_PASSPHRASE");
	tidu_merge_field *f;
	tidu_store *s = NULL;
	int64_t hlc;
	size_t n = 0, conflicts = 0;
	tidu_buf *vals = NULL;
	int i = 1, old = 0, outbox = 0, error, code = 1;

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--device") && i + 1 < argc)
			device = argv[++i];
		else if (!strcmp(argv[i], "--old"))
			old = 1;
		else if (!strcmp(argv[i], "--outbox"))
			outbox = 1;
		else
			break;
	}
	if (argc - i < 4 || !pass) {
		fprintf(stderr, "usage: TIDU_PASSPHRASE=P tidu-inject [--device ID] [--old] "
				"HOME ENTITY KEY FIELD=VALUE...\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	f = calloc((size_t)(argc - i), sizeof(*f));
	vals = calloc((size_t)(argc - i), sizeof(*vals));
	if (!f || !vals)
		return 1;
	for (int k = i + 3; k < argc; k++) {
		char *eq = strchr(argv[k], '=');

		if (!eq) {
			fprintf(stderr, "tidu-inject: '%s' is not FIELD=VALUE\n", argv[k]);
			goto done;
		}
		*eq = '\0';
		f[n].field = argv[k];
		f[n].value = eq + 1;
		if (eq[1] == '@') {
			if (tidu_file_read(eq + 2, (size_t)256 << 20, &vals[n]) < 0) {
				code = fail(eq + 2);
				goto done;
			}
			f[n].value = tidu_buf_cstr(&vals[n]);
		}
		f[n].base = "";
		n++;
	}
	if ((error = tidu_home_open(&s, argv[i], pass, strlen(pass))) < 0) {
		code = fail("cannot open the store");
		goto done;
	}
	hlc = old ? (int64_t)1 << 16 : (tidu_clock_now_ms() << 16) + 7;
	if (outbox) {
		code = append_change(s, argv[i + 1], argv[i + 2], hlc, f, n);
		goto done;
	}
	if ((error = tidu_store_begin(s)) < 0 ||
	    (error = tidu_record_merge(s, argv[i + 1], argv[i + 2], hlc, device, f, n,
				       &conflicts)) < 0) {
		tidu_store_rollback(s);
		code = fail("cannot merge");
		goto done;
	}
	if ((error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		code = fail("cannot commit");
		goto done;
	}
	printf("merged %zu fields, %zu conflicts\n", n, conflicts);
	code = 0;
done:
	tidu_store_free(s);
	for (size_t k = 0; vals && k < (size_t)(argc - i); k++)
		tidu_buf_free(&vals[k]);
	free(vals);
	free(f);
	return code;
}
