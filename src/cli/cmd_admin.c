#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sync_common.h"
#include "tidu/alloc.h"
#include "tidu/changes.h"
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

typedef struct {
	int yes, pending, json; /* enroll: yes, pending; pending: yes, json; revoke: yes */
} admin_opts;

/* What the option tables point into; never written (cli_cmd.defaults). */
static admin_opts admin_defaults;

static const cli_opt enroll_optv[] = {
	CLI_FLAG("yes", N_("approve every request without asking"), admin_defaults, yes),
	CLI_FLAG("pending", N_("the requests fetched by sync from the repository (as 'tidu admin pending')"),
		 admin_defaults, pending),
	CLI_OPT_END,
};

static const cli_opt revoke_optv[] = {
	CLI_FLAG("yes", N_("revoke without asking"), admin_defaults, yes),
	CLI_OPT_END,
};

static const cli_opt pending_optv[] = {
	CLI_FLAG("yes", N_("approve every listed request without asking"), admin_defaults, yes),
	CLI_FLAG("json", N_("list the requests as JSON and approve nothing"), admin_defaults, json),
	CLI_OPT_END,
};

static const cli_opt repo_init_optv[] = {
	CLI_STRING("name", "NAME", N_("name of the remote (default origin)"), cli_sync_defaults, name),
	CLI_FLAG("json", N_("print the summary as one JSON object"), cli_sync_defaults, json),
	CLI_STRING("ssh-key", "FILE", N_("SSH private key (default: the SSH agent)"),
		   cli_sync_defaults, ssh_key),
	CLI_OPT_END,
};

static int admin_pending(cli_run *r);

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

static void show_device(const char *device, const char *officer, const char *role,
			const char *district, const char *fingerprint)
{
	const char *name = tidu_dict_district_name(district);

	printf("  ");
	cli_print_padded(stdout, _("Device:"), 16);
	printf("%s (%s, %s)\n", cli_safe(device), cli_safe(officer), cli_safe(role));
	printf("  ");
	cli_print_padded(stdout, _("District:"), 16);
	printf("%s %s\n", cli_safe(district), name ? name : "");
	printf("  ");
	cli_print_padded(stdout, _("Fingerprint:"), 16);
	printf("%s\n", cli_safe(fingerprint));
}

/* tidu admin enroll FILE... [--yes] | tidu admin enroll --pending [--yes] */
#define ENROLL_USAGE "tidu admin enroll FILE... [--yes] | tidu admin enroll --pending [--yes]"

/* FILE... or --pending, not both. */
static int enroll_check(cli_run *r)
{
	const admin_opts *o = r->opts;

	if (o->pending ? r->nargs != 0 : r->nargs == 0)
		return cli_error(EXIT_USAGE, _("usage: %s"), ENROLL_USAGE);
	return EXIT_OK;
}

/* Not NEED_CITY in the table: --pending is 'tidu admin pending', which opens the store only. */
static int admin_enroll(cli_run *r)
{
	const admin_opts *o = r->opts;
	char **args = r->args;
	int nargs = r->nargs, yes = o->yes;
	tidu_store *s;
	tidu_buf *docs = NULL;
	tidu_trust_request *reqs = NULL;
	int *approved = NULL;
	int code, error, i, added = 0;

	if (o->pending) {
		admin_opts po = {.yes = o->yes};

		r->opts = &po;
		code = cli_run_need(r, NEED_STORE);
		if (code == EXIT_OK)
			code = admin_pending(r);
		r->opts = (void *)o;
		return code;
	}
	if ((code = cli_run_need(r, NEED_CITY)) != EXIT_OK)
		goto done;
	s = r->store;
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
		printf(_("Enrollment request '%s' (made %s):\n"), cli_safe(args[i]),
		       cli_safe(reqs[i].created));
		show_device(reqs[i].device, reqs[i].officer, reqs[i].role, reqs[i].district,
			    reqs[i].fingerprint);
		if (*reqs[i].renamed_from) /* an enrolled device asks for a corrected name */
			printf(_("  Corrects the officer's name, was '%s'.\n"), cli_safe(reqs[i].renamed_from));
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
			       cli_safe(reqs[i].device));
			continue;
		}
		if (!yes) {
			printf(_("Device %s, fingerprint %s.\n"), cli_safe(reqs[i].device),
			       cli_safe(reqs[i].fingerprint));
			fflush(stdout);
		}
		approved[i] = yes || ask(_("Approve?"));
		if (!approved[i])
			printf(_("Skipped device %s.\n"), cli_safe(reqs[i].device));
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
			printf(_("Enrolled device %s (district %s).\n"), cli_safe(reqs[i].device),
			       cli_safe(reqs[i].district));
	if (added)
		printf("%s\n", _("Now run 'tidu keyring export FILE' and give the file to the devices."));
done:
	for (i = 0; docs && i < nargs; i++)
		tidu_buf_free(&docs[i]);
	free(docs);
	free(reqs);
	free(approved);
	return code;
}

/* tidu admin revoke DEVICE [--yes] */
static int admin_revoke(cli_run *r)
{
	int yes = ((const admin_opts *)r->opts)->yes;
	tidu_store *s = r->store;
	tidu_trust_device d;
	int64_t last = 0, epoch = 0;
	int error;

	if ((error = tidu_trust_device_lookup(s, r->args[0], &d)) < 0)
		return cli_fail(error);
	if (d.revoked) {
		printf(_("Device %s was revoked already (after change set %lld): nothing to do.\n"),
		       cli_safe(d.device), (long long)d.revoked_after);
		return EXIT_OK;
	}
	if ((error = tidu_changes_last_applied(s, d.device, &last)) < 0)
		return cli_fail(error);
	printf("%s\n", _("Revoking:"));
	show_device(d.device, d.officer, d.role, d.district, d.fingerprint);
	printf(_("Change sets of this device after number %lld will be refused.\n"),
	       (long long)last);
	fflush(stdout);
	if (!yes && !isatty(STDIN_FILENO))
		return cli_error(EXIT_USAGE, "%s",
			_("not revoking without a terminal: run again with --yes to confirm"));
	if (!yes && !ask(_("Revoke this device?"))) {
		printf("%s\n", _("Nothing changed."));
		return EXIT_OK;
	}
	if ((error = tidu_trust_revoke(s, d.device, last)) < 0 ||
	    (error = tidu_trust_current_epoch(s, d.district, &epoch)) < 0)
		return cli_fail(error);
	printf(_("Revoked device %s; the read key of district %s is now at epoch %lld.\n"),
	       cli_safe(d.device), cli_safe(d.district), (long long)epoch);
	printf("%s\n", _("Now run 'tidu keyring export FILE' and give the file to the devices."));
	return EXIT_OK;
}

/* Asks a yes/no question on the terminal; anything but y/yes is no. */
static int ask_yes(const char *question)
{
	tidu_buf line = TIDU_BUF_INIT;
	int yes;

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (cli_read_line("", 1, &line) < 0) {
		tidu_buf_free(&line);
		return 0;
	}
	yes = !strcmp(tidu_buf_cstr(&line), "y") || !strcmp(tidu_buf_cstr(&line), "Y") ||
	      !strcmp(tidu_buf_cstr(&line), "yes") || !strcmp(tidu_buf_cstr(&line), "YES");
	tidu_buf_free(&line);
	return yes;
}

static void show_request(const tidu_sync_request *r)
{
	printf(_("Enrollment request from the repository (%s, made %s):\n"), cli_safe(r->ref),
	       cli_safe(r->req.created));
	show_device(r->req.device, r->req.officer, r->req.role, r->req.district,
		    r->req.fingerprint);
}

/* tidu admin pending [--yes | --json] */
static int admin_pending(cli_run *r)
{
	const admin_opts *o = r->opts;
	int yes = o->yes;
	tidu_sync_request *reqs = NULL;
	tidu_store *s = r->store;
	size_t n = 0, i, added = 0;
	int code = EXIT_OK, error;

	if ((error = tidu_sync_requests(s, &reqs, &n)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
		for (i = 0; i < n; i++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "device");
			tidu_json_write_string(&w, reqs[i].req.device);
			tidu_json_write_key(&w, "district");
			tidu_json_write_string(&w, reqs[i].req.district);
			tidu_json_write_key(&w, "role");
			tidu_json_write_string(&w, reqs[i].req.role);
			tidu_json_write_key(&w, "officer");
			tidu_json_write_string(&w, reqs[i].req.officer);
			tidu_json_write_key(&w, "fingerprint");
			tidu_json_write_string(&w, reqs[i].req.fingerprint);
			tidu_json_write_key(&w, "created");
			tidu_json_write_string(&w, reqs[i].req.created);
			tidu_json_write_key(&w, "ref");
			tidu_json_write_string(&w, reqs[i].ref);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		code = cli_emit_json(&w, &out);
		goto done;
	}
	if (!n) {
		printf("%s\n", _("No enrollment request waits. 'tidu sync' fetches new ones."));
		goto done;
	}
	for (i = 0; i < n; i++)
		show_request(&reqs[i]);
	fflush(stdout);
	if (!yes && !isatty(STDIN_FILENO)) {
		code = cli_error(EXIT_USAGE, "%s",
			_("not approving without a terminal: check each fingerprint with its officer, then run again with --yes"));
		goto done;
	}
	for (i = 0; i < n; i++) {
		tidu_trust_request info;

		if (!yes) {
			printf(_("Device %s, fingerprint %s.\n"), cli_safe(reqs[i].req.device),
			       cli_safe(reqs[i].req.fingerprint));
			fflush(stdout);
			if (!ask_yes(_("Approve?"))) {
				printf(_("Skipped device %s.\n"), cli_safe(reqs[i].req.device));
				continue;
			}
		}
		if ((error = tidu_sync_request_admit(s, reqs[i].req.device, &info)) < 0) {
			code = cli_fail(error);
			goto done;
		}
		printf(_("Enrolled device %s (district %s).\n"), cli_safe(info.device),
		       cli_safe(info.district));
		added++;
	}
	if (added)
		printf("%s\n", _("The next 'tidu sync' publishes the new keyring to the devices."));
done:
	free(reqs);
	return code;
}

/* tidu admin repo-init URL [--name NAME] */
static int repo_init_op(cli_run *r, const tidu_sync_opts *o, tidu_sync_report *rep)
{
	const cli_sync_args *a = r->opts;

	return tidu_sync_init_central(r->store, r->args[0], a->name, o, rep);
}

static int admin_repo_init(cli_run *r)
{
	const cli_sync_args *a = r->opts;
	tidu_sync_report rep;
	int code;

	memset(&rep, 0, sizeof(rep));
	code = cli_sync_run(r, repo_init_op, NULL, NULL, &rep);
	if (code == EXIT_OK && !a->json)
		printf(_("The central repository is '%s' (remote '%s'); devices join it with 'tidu remote add %s URL' and 'tidu sync'.\n"),
		       cli_safe(r->args[0]), cli_safe(rep.remote), cli_safe(rep.remote));
	tidu_sync_report_free(&rep);
	return code;
}

static const cli_cmd admin_subs[] = {
	{.name = "enroll",
	 .summary = N_("approve enrollment requests into the keyring (city store)"),
	 .spec = {ENROLL_USAGE, NULL, enroll_optv, 0, -1},
	 CLI_OPTS(admin_defaults), .check = enroll_check, .run = admin_enroll},
	{.name = "revoke",
	 .summary = N_("revoke a device and rotate its district's read key (city store)"),
	 .spec = {"tidu admin revoke DEVICE [--yes]", NULL, revoke_optv, 1, 1},
	 CLI_OPTS(admin_defaults), .need = NEED_CITY, .run = admin_revoke},
	{.name = "pending",
	 .summary = N_("list and approve the enrollment requests fetched by sync (city store)"),
	 .spec = {"tidu admin pending [--yes | --json]", NULL, pending_optv, 0, 0},
	 CLI_OPTS(admin_defaults), .need = NEED_STORE, .run = admin_pending},
	{.name = "repo-init",
	 .summary = N_("make URL the central repository and publish the city's keyring there (city store)"),
	 .spec = {"tidu admin repo-init URL [--name NAME] [--json] [--ssh-key FILE]", NULL,
		  repo_init_optv, 1, 1},
	 CLI_OPTS(cli_sync_defaults), .need = NEED_STORE, .run = admin_repo_init},
	{.name = NULL},
};

const cli_cmd cmd_admin = {
	.name = "admin", .summary = N_("enroll and revoke devices (city store)"),
	.subs = admin_subs,
};
