#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "tidu/clock.h"
#include "tidu/alloc.h"
#include "tidu/dict.h"
#include "tidu/parse.h"
#include "tidu/repo.h"
#include "tidu/trust.h"

/* ---- progress and prompts -------------------------------------------------- */

typedef struct {
	int shown;     /* a progress line is on the terminal */
	int64_t last;  /* ms of the last update */
} ui_state;

static void progress(void *ctx, const char *what, size_t done, size_t total, size_t bytes)
{
	ui_state *ui = ctx;
	int64_t now = tidu_clock_mono_ms();

	if (ui->shown && done < total && now - ui->last < 100)
		return;
	ui->last = now;
	fprintf(stderr, "\r%s: ", !strcmp(what, "push") ? _("Sending") : _("Receiving"));
	if (total)
		fprintf(stderr, "%3u%% (%zu/%zu), ", (unsigned)(done * 100 / total), done, total);
	fprintf(stderr, "%zu KiB   ", bytes / 1024);
	ui->shown = 1;
}

static void progress_end(ui_state *ui)
{
	if (ui->shown)
		fputc('\n', stderr);
	ui->shown = 0;
}

static int ask_password(void *ctx, const char *url, tidu_buf *user, tidu_buf *pass)
{
	ui_state *ui = ctx;

	progress_end(ui);
	fprintf(stderr, _("The repository '%s' asks for a user name and password.\n"), url);
	if (!user->len && cli_read_line(_("User name: "), 1, user) < 0)
		return -1;
	return cli_read_line(_("Password: "), 0, pass);
}

static void make_opts(tidu_sync_opts *o, ui_state *ui, const char *ssh_key)
{
	const char *wait;
	int64_t secs;

	memset(o, 0, sizeof(*o));
	memset(ui, 0, sizeof(*ui));
	o->ctx = ui;
	o->ssh_key = ssh_key;
	if (isatty(STDERR_FILENO))
		o->progress = progress;
	if (isatty(STDIN_FILENO))
		o->ask_password = ask_password;
	/* Seconds a second sync waits for the first (docs/sync.md; tests). */
	if ((wait = getenv("TIDU_SYNC_WAIT")) && tidu_parse_int64(wait, &secs) == 0 &&
	    secs >= 0 && secs <= 3600)
		o->lock_wait_ms = secs ? (int)secs * 1000 : 1;
	/* A server closing the connection must be an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
}

/* ---- the report ------------------------------------------------------------ */

static void json_lines(tidu_json_writer *w, const char *key, char **v, size_t n)
{
	size_t i;

	tidu_json_write_key(w, key);
	tidu_json_begin_array(w);
	for (i = 0; i < n; i++)
		tidu_json_write_string(w, v[i]);
	tidu_json_end_array(w);
}

/*
 * The report as one JSON object: for `tidu relay --json` with `from` and
 * `to` (NULL for sync and repo-init). `error` is the run's return value.
 * Returns EXIT_OK or the writer's error.
 */
static int sync_json(const tidu_sync_report *r, int error, const char *from,
		     const char *to)
{
	tidu_buf out = TIDU_BUF_INIT;
	tidu_json_writer w;

	tidu_json_writer_init(&w, &out, 1);
	tidu_json_begin_object(&w);
	if (from) {
		/* tidu relay: where from, where to, and what was forwarded. */
		tidu_json_write_key(&w, "from");
		tidu_json_write_string(&w, from);
		tidu_json_write_key(&w, "to");
		tidu_json_write_string(&w, to);
		tidu_json_write_key(&w, "relayed");
		tidu_json_write_int64(&w, (int64_t)r->relayed);
		tidu_json_write_key(&w, "relayed_back");
		tidu_json_write_int64(&w, (int64_t)r->relayed_back);
	}
	tidu_json_write_key(&w, "remote");
	tidu_json_write_string(&w, r->remote);
	tidu_json_write_key(&w, "sealed_changes");
	tidu_json_write_int64(&w, (int64_t)r->sealed);
	tidu_json_write_key(&w, "sent");
	tidu_json_write_int64(&w, (int64_t)r->sent);
	tidu_json_write_key(&w, "received");
	tidu_json_write_int64(&w, (int64_t)r->received);
	tidu_json_write_key(&w, "devices");
	tidu_json_write_int64(&w, (int64_t)r->devices);
	tidu_json_write_key(&w, "changes");
	tidu_json_write_int64(&w, (int64_t)r->changes);
	tidu_json_write_key(&w, "conflicts");
	tidu_json_write_int64(&w, (int64_t)r->conflicts);
	tidu_json_write_key(&w, "rejected");
	tidu_json_write_int64(&w, (int64_t)r->rejected);
	tidu_json_write_key(&w, "held");
	tidu_json_write_int64(&w, (int64_t)r->held);
	tidu_json_write_key(&w, "skipped");
	tidu_json_write_int64(&w, (int64_t)r->skipped);
	tidu_json_write_key(&w, "enrolled");
	tidu_json_write_bool(&w, r->enrolled);
	tidu_json_write_key(&w, "enroll_published");
	tidu_json_write_bool(&w, r->enroll_published);
	tidu_json_write_key(&w, "keyring_version");
	tidu_json_write_int64(&w, r->keyring_version);
	tidu_json_write_key(&w, "requests");
	tidu_json_write_int64(&w, (int64_t)r->requests);
	tidu_json_write_key(&w, "pool_committed");
	tidu_json_write_bool(&w, r->pool_committed);
	json_lines(&w, "problems", r->problems, r->nproblems);
	json_lines(&w, "notes", r->notes, r->nnotes);
	tidu_json_write_key(&w, "error");
	if (error < 0)
		tidu_json_write_string(&w, tidu_error_message());
	else
		tidu_json_write_null(&w);
	tidu_json_end_object(&w);
	return cli_emit_json(&w, &out);
}

/*
 * Prints the report of a sync, a repo-init or a relay (`from`, `to`; NULL
 * for the others) and the error, if any; returns the exit code.
 */
static int finish(const tidu_sync_report *r, int error, int json, const char *from,
		  const char *to)
{
	size_t i;
	int code = EXIT_OK;

	if (error < 0 && !r->remote[0])
		return cli_fail(error); /* nothing was tried */

	for (i = 0; i < r->nproblems; i++)
		cli_error(0, _("refused: %s"), r->problems[i]);
	for (i = 0; i < r->nnotes; i++)
		cli_warn("%s", r->notes[i]);
	if (r->ahead_ms)
		cli_warn(_("the clock of device '%s' is %lld minutes ahead"), r->ahead_device,
			 (long long)(r->ahead_ms / 60000));
	if (json) {
		code = sync_json(r, error, from, to);
		if (error < 0)
			code = cli_fail(error);
	} else {
		if (r->city_pinned)
			printf(_("Pinned the city key %s (first keyring): check this fingerprint with the city.\n"),
			       r->city_fingerprint);
		if (r->keyring_version)
			printf(_("Keyring version %lld is now in use.\n"), (long long)r->keyring_version);
		if (r->enroll_published)
			printf("%s\n", _("Published this device's enrollment request: the city approves it with 'tidu admin pending'."));
		if (r->requests)
			printf(_("%zu enrollment requests wait for approval: 'tidu admin pending'.\n"),
			       r->requests);
		if (error < 0) {
			if (r->sealed)
				printf(_("Sealed %zu changes; they stay committed here and go out with the next sync.\n"),
				       r->sealed);
			code = cli_fail(error);
		} else if (from) {
			printf(_("Relayed '%s' to '%s': %zu refs forwarded, %zu city refs sent back; %zu change sets verified and applied here from %zu devices, %zu rejected.\n"),
			       from, to, r->relayed, r->relayed_back, r->received, r->devices,
			       r->rejected);
		} else {
			printf(_("Synced with '%s': sent %zu change sets, received %zu from %zu devices; %zu changes merged, %zu conflicts, %zu rejected.\n"),
			       r->remote, r->sent, r->received, r->devices, r->changes, r->conflicts,
			       r->rejected);
		}
	}
	if (r->rejected && code == EXIT_OK)
		code = EXIT_CORRUPT;
	return code;
}

/* ---- tidu sync --------------------------------------------------------------- */

int cmd_sync(cli_ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const char *ssh_key = NULL;
	const cli_opt opts[] = {
		{"json", OPT_FLAG, NULL, N_("print the summary as one JSON object"), &json},
		{"ssh-key", OPT_STRING, "FILE", N_("SSH private key (default: the SSH agent)"), &ssh_key},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu sync [REMOTE] [--json] [--ssh-key FILE]",
			       N_("seal, send and receive change sets through the central repository"),
			       opts, 0, 1};
	tidu_sync_report rep;
	tidu_sync_opts o;
	ui_state ui;
	tidu_store *s = NULL;
	char **args = NULL;
	int nargs = 0, code, error;

	memset(&rep, 0, sizeof(rep));
	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	make_opts(&o, &ui, ssh_key);
	error = tidu_sync(s, nargs ? args[0] : NULL, &o, &rep);
	progress_end(&ui);
	code = finish(&rep, error, json, NULL, NULL);
done:
	tidu_sync_report_free(&rep);
	tidu_store_free(s);
	free(args);
	return code;
}

/* ---- tidu admin repo-init ---------------------------------------------------- */

int cmd_admin_repo_init(cli_ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const char *ssh_key = NULL, *name = NULL;
	const cli_opt opts[] = {
		{"name", OPT_STRING, "NAME", N_("name of the remote (default origin)"), &name},
		{"json", OPT_FLAG, NULL, N_("print the summary as one JSON object"), &json},
		{"ssh-key", OPT_STRING, "FILE", N_("SSH private key (default: the SSH agent)"), &ssh_key},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu admin repo-init URL [--name NAME] [--json] [--ssh-key FILE]",
			       N_("make URL the central repository and publish the city's keyring there (city store)"),
			       opts, 1, 1};
	tidu_sync_report rep;
	tidu_sync_opts o;
	ui_state ui;
	tidu_store *s = NULL;
	char **args = NULL;
	int nargs = 0, code, error;

	memset(&rep, 0, sizeof(rep));
	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	make_opts(&o, &ui, ssh_key);
	error = tidu_repo_init_central(s, args[0], name, &o, &rep);
	progress_end(&ui);
	code = finish(&rep, error, json, NULL, NULL);
	if (code == EXIT_OK && !json)
		printf(_("The central repository is '%s' (remote '%s'); devices join it with 'tidu remote add %s URL' and 'tidu sync'.\n"),
		       args[0], rep.remote, rep.remote);
done:
	tidu_sync_report_free(&rep);
	tidu_store_free(s);
	free(args);
	return code;
}

/* ---- tidu admin pending ------------------------------------------------------ */

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

static void show_request(const tidu_repo_request *r)
{
	const char *dname = tidu_dict_district_name(r->req.district);

	printf(_("Enrollment request from the repository (%s, made %s):\n"), r->ref,
	       r->req.created);
	printf("  ");
	cli_print_padded(stdout, _("Device:"), 16);
	printf("%s (%s, %s)\n", r->req.device, r->req.officer, r->req.role);
	printf("  ");
	cli_print_padded(stdout, _("District:"), 16);
	printf("%s %s\n", r->req.district, dname ? dname : "");
	printf("  ");
	cli_print_padded(stdout, _("Fingerprint:"), 16);
	printf("%s\n", r->req.fingerprint);
}

int cmd_admin_pending(cli_ctx *ctx, int argc, char **argv)
{
	int yes = 0, json = 0;
	const cli_opt opts[] = {
		{"yes", OPT_FLAG, NULL, N_("approve every listed request without asking"), &yes},
		{"json", OPT_FLAG, NULL, N_("list the requests as JSON and approve nothing"), &json},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu admin pending [--yes | --json]",
			       N_("list and approve the enrollment requests fetched by sync (city store)"),
			       opts, 0, 0};
	tidu_repo_request *reqs = NULL;
	tidu_store *s = NULL;
	char **args = NULL;
	size_t n = 0, i, added = 0;
	int nargs = 0, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_repo_requests(s, &reqs, &n)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (json) {
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
			printf(_("Device %s, fingerprint %s.\n"), reqs[i].req.device,
			       reqs[i].req.fingerprint);
			fflush(stdout);
			if (!ask_yes(_("Approve?"))) {
				printf(_("Skipped device %s.\n"), reqs[i].req.device);
				continue;
			}
		}
		if ((error = tidu_repo_request_admit(s, reqs[i].req.device, &info)) < 0) {
			code = cli_fail(error);
			goto done;
		}
		printf(_("Enrolled device %s (district %s).\n"), info.device, info.district);
		added++;
	}
	if (added)
		printf("%s\n", _("The next 'tidu sync' publishes the new keyring to the devices."));
done:
	free(reqs);
	tidu_store_free(s);
	free(args);
	return code;
}

/* ---- tidu relay -------------------------------------------------------------- */

/*
 * tidu relay FROM TO: a district hub (or the city) forwards its district's
 * verified refs from a LAN repository to the central one, and the city's
 * refs back (docs/sync.md, "District hubs and relay").
 */
int cmd_relay(cli_ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const char *ssh_key = NULL;
	const cli_opt opts[] = {
		{"json", OPT_FLAG, NULL, N_("print the summary as one JSON object"), &json},
		{"ssh-key", OPT_STRING, "FILE", N_("SSH private key (default: the SSH agent)"), &ssh_key},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu relay FROM TO [--json] [--ssh-key FILE]",
			       N_("forward the district's verified change sets from remote FROM to remote TO"),
			       opts, 2, 2};
	tidu_sync_report rep;
	tidu_sync_opts o;
	ui_state ui;
	tidu_store *s = NULL;
	char **args = NULL;
	int nargs = 0, code, error;

	memset(&rep, 0, sizeof(rep));
	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	make_opts(&o, &ui, ssh_key);
	error = tidu_relay(s, args[0], args[1], &o, &rep);
	progress_end(&ui);
	code = finish(&rep, error, json, args[0], args[1]);
done:
	tidu_sync_report_free(&rep);
	tidu_store_free(s);
	free(args);
	return code;
}
