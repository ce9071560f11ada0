/*
 * tidu-inject: a test fixture that writes values into a store exactly as a
 * peer's change set would, through the merge (tidu_record_merge), which
 * takes canonical text from signed change sets and does not validate it
 * against the dictionary. The CLI tests use it to put hostile text (escape
 * sequences, newlines, bidi overrides) where input checks cannot stop it,
 * then check that every printer shows it escaped.
 *
 *   tidu-inject [--device ID] [--old] HOME ENTITY KEY FIELD=VALUE...
 *
 * The store is opened with $TIDU_PASSPHRASE, as the CLI does. The change
 * is written by device ID (default: a peer device not in the keyring) at
 * the current time (`--old`: at the start of the clock, so that it loses
 * to what the store has, as a conflict). Its base is empty: a field the
 * store wrote already becomes a conflict. Exit 0, or 1 with the error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tidu/clock.h"
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

int main(int argc, char **argv)
{
	const char *device = PEER_DEVICE, *pass = getenv("TIDU_PASSPHRASE");
	tidu_merge_field *f;
	tidu_store *s = NULL;
	int64_t hlc;
	size_t n = 0, conflicts = 0;
	int i = 1, old = 0, error, code = 1;

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--device") && i + 1 < argc)
			device = argv[++i];
		else if (!strcmp(argv[i], "--old"))
			old = 1;
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
	if (!f)
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
		f[n].base = "";
		n++;
	}
	if ((error = tidu_home_open(&s, argv[i], pass, strlen(pass))) < 0) {
		code = fail("cannot open the store");
		goto done;
	}
	hlc = old ? (int64_t)1 << 16 : (tidu_clock_now_ms() << 16) + 7;
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
	free(f);
	return code;
}
