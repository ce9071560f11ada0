#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tidu/alloc.h"
#include "tidu/dict.h"
#include "tidu/trust.h"

/* Fails with the last error, its message prefixed by the subject (a file). */
static int fail_on(const char *subject, int error)
{
	char *m = tidu_strdup(tidu_error_message());

	tidu_error_set(error, "'%s': %s", subject, m);
	free(m);
	return cli_fail(error);
}

/* Asks a yes/no question on the terminal; anything but y/yes is no. */
static int ask(const char *question)
{
	char line[64];
	size_t i;

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin)) {
		fputc('\n', stderr);
		return 0;
	}
	line[strcspn(line, "\r\n")] = '\0';
	for (i = 0; line[i]; i++)
		if (line[i] >= 'A' && line[i] <= 'Z')
			line[i] = (char)(line[i] - 'A' + 'a');
	return !strcmp(line, "y") || !strcmp(line, "yes");
}

/* Opens the store and checks that it is the city's. */
static int open_city(cli_ctx *ctx, tidu_store **s)
{
	int code, error;

	if ((code = cli_open_store(ctx, s)) != EXIT_OK)
		return code;
	if ((error = tidu_trust_ensure_keys(*s)) < 0)
		return cli_fail(error);
	if (strcmp(tidu_store_role(*s), "city") != 0)
		return cli_error(EXIT_USAGE,
			_("'tidu admin' needs the city store: this store's role is '%s'"),
			tidu_store_role(*s));
	return EXIT_OK;
}

static void show_device(const char *device, const char *officer, const char *role,
			const char *district, const char *fingerprint)
{
	const char *name = tidu_dict_district_name(district);

	printf("  ");
	cli_print_padded(stdout, _("Device:"), 16);
	printf("%s (%s, %s)\n", device, officer, role);
	printf("  ");
	cli_print_padded(stdout, _("District:"), 16);
	printf("%s %s\n", district, name ? name : "");
	printf("  ");
	cli_print_padded(stdout, _("Fingerprint:"), 16);
	printf("%s\n", fingerprint);
}

/* tidu admin enroll FILE... [--yes] | tidu admin enroll --pending [--yes] */
static int admin_enroll(cli_ctx *ctx, int argc, char **argv)
{
	int yes = 0, pending = 0;
	const cli_opt opts[] = {
		{"yes", OPT_FLAG, NULL, N_("approve every request without asking"), &yes},
		{"pending", OPT_FLAG, NULL, N_("the requests fetched by sync from the repository (as 'tidu admin pending')"), &pending},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu admin enroll FILE... [--yes] | tidu admin enroll --pending [--yes]",
			       N_("approve enrollment requests into the keyring (city store)"),
			       opts, 0, -1};
	tidu_store *s = NULL;
	tidu_buf *docs = NULL;
	tidu_trust_request *reqs = NULL;
	int *approved = NULL;
	char **args = NULL;
	int nargs = 0, code, error, i, added = 0;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	if (pending) {
		char *sub[] = {"pending", "--yes", NULL};

		if (nargs) {
			code = cli_error(EXIT_USAGE, _("usage: %s"), spec.usage);
			goto done;
		}
		code = cmd_admin_pending(ctx, yes ? 2 : 1, sub);
		goto done;
	}
	if (!nargs) {
		code = cli_error(EXIT_USAGE, _("usage: %s"), spec.usage);
		goto done;
	}
	if ((code = open_city(ctx, &s)) != EXIT_OK)
		goto done;
	docs = tidu_calloc((size_t)nargs, sizeof(*docs));
	reqs = tidu_calloc((size_t)nargs, sizeof(*reqs));
	approved = tidu_calloc((size_t)nargs, sizeof(*approved));
	/* Verify every request before anything is asked or written. */
	for (i = 0; i < nargs; i++) {
		if ((error = tidu_trust_doc_read(args[i], &docs[i])) < 0 ||
		    (error = tidu_trust_admit(s, docs[i].ptr, docs[i].len,
					      &reqs[i], 0)) < 0) {
			code = fail_on(args[i], error);
			goto done;
		}
		printf(_("Enrollment request '%s' (made %s):\n"), args[i], reqs[i].created);
		show_device(reqs[i].device, reqs[i].officer, reqs[i].role, reqs[i].district,
			    reqs[i].fingerprint);
	}
	fflush(stdout);
	if (!yes && !isatty(STDIN_FILENO)) {
		code = cli_error(EXIT_USAGE, "%s",
			_("not approving without a terminal: check each fingerprint with its officer, then run again with --yes"));
		goto done;
	}
	for (i = 0; i < nargs; i++) {
		if (reqs[i].enrolled) {
			printf(_("Device %s is enrolled already with these keys: nothing to do.\n"),
			       reqs[i].device);
			continue;
		}
		if (!yes) {
			printf(_("Device %s, fingerprint %s.\n"), reqs[i].device, reqs[i].fingerprint);
			fflush(stdout);
		}
		approved[i] = yes || ask(_("Approve?"));
		if (!approved[i])
			printf(_("Skipped device %s.\n"), reqs[i].device);
	}
	if ((error = tidu_store_begin(s)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	for (i = 0; i < nargs; i++) {
		if (!approved[i])
			continue;
		error = tidu_trust_admit(s, docs[i].ptr, docs[i].len, &reqs[i], 1);
		if (error < 0) {
			tidu_store_rollback(s);
			code = fail_on(args[i], error);
			goto done;
		}
		added += !reqs[i].enrolled;
	}
	if ((error = tidu_store_commit(s)) < 0) {
		tidu_store_rollback(s);
		code = cli_fail(error);
		goto done;
	}
	for (i = 0; i < nargs; i++)
		if (approved[i])
			printf(_("Enrolled device %s (district %s).\n"), reqs[i].device,
			       reqs[i].district);
	if (added)
		printf("%s\n", _("Now run 'tidu keyring export FILE' and give the file to the devices."));
done:
	for (i = 0; docs && i < nargs; i++)
		tidu_buf_free(&docs[i]);
	free(docs);
	free(reqs);
	free(approved);
	tidu_store_free(s);
	free(args);
	return code;
}

/* The last sequence number applied from `device` (0 if none). */
static int last_applied(tidu_store *s, const char *device, int64_t *out)
{
	sqlite3_stmt *st = tidu_store_stmt(s,
		"SELECT coalesce(max(seq), 0) FROM changeset "
		"WHERE device=?1 AND state='applied'");
	int rc;

	if (!st)
		return TIDU_ERROR;
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : tidu_store_sqlerr(s, rc, _("reading change sets"));
}

/* tidu admin revoke DEVICE [--yes] */
static int admin_revoke(cli_ctx *ctx, int argc, char **argv)
{
	int yes = 0;
	const cli_opt opts[] = {
		{"yes", OPT_FLAG, NULL, N_("revoke without asking"), &yes},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu admin revoke DEVICE [--yes]",
			       N_("revoke a device and rotate its district's read key (city store)"),
			       opts, 1, 1};
	tidu_store *s = NULL;
	tidu_trust_device d;
	int64_t last = 0, epoch = 0;
	char **args = NULL;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = open_city(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_trust_device_lookup(s, args[0], &d)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (d.revoked) {
		printf(_("Device %s was revoked already (after change set %lld): nothing to do.\n"),
		       d.device, (long long)d.revoked_after);
		goto done;
	}
	if ((error = last_applied(s, d.device, &last)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	printf("%s\n", _("Revoking:"));
	show_device(d.device, d.officer, d.role, d.district, d.fingerprint);
	printf(_("Change sets of this device after number %lld will be refused.\n"),
	       (long long)last);
	fflush(stdout);
	if (!yes && !isatty(STDIN_FILENO)) {
		code = cli_error(EXIT_USAGE, "%s",
			_("not revoking without a terminal: run again with --yes to confirm"));
		goto done;
	}
	if (!yes && !ask(_("Revoke this device?"))) {
		printf("%s\n", _("Nothing changed."));
		goto done;
	}
	if ((error = tidu_trust_revoke(s, d.device, last)) < 0 ||
	    (error = tidu_trust_current_epoch(s, d.district, &epoch)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	printf(_("Revoked device %s; the read key of district %s is now at epoch %lld.\n"),
	       d.device, d.district, (long long)epoch);
	printf("%s\n", _("Now run 'tidu keyring export FILE' and give the file to the devices."));
done:
	tidu_store_free(s);
	free(args);
	return code;
}

int cmd_admin(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {
		{"enroll", admin_enroll, N_("approve enrollment requests into the keyring (city store)")},
		{"revoke", admin_revoke, N_("revoke a device and rotate its district's read key (city store)")},
		{"pending", cmd_admin_pending, N_("list and approve the enrollment requests fetched by sync (city store)")},
		{"repo-init", cmd_admin_repo_init, N_("make URL the central repository and publish the city's keyring there (city store)")},
		{NULL, NULL, NULL},
	};

	return cli_dispatch(ctx, "admin", subs, argc, argv);
}
