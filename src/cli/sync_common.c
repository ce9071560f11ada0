#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sync_common.h"
#include "tidu/clock.h"
#include "tidu/parse.h"

cli_sync_args cli_sync_defaults;

const cli_opt cli_sync_optv[] = {
	CLI_FLAG("json", N_("print the summary as one JSON object"), cli_sync_defaults, json),
	CLI_STRING("ssh-key", "FILE", N_("SSH private key (default: the SSH agent)"),
		   cli_sync_defaults, ssh_key),
	CLI_OPT_END,
};

/* ---- progress and prompts -------------------------------------------------- */

static void progress(void *ctx, const char *what, size_t done, size_t total, size_t bytes)
{
	cli_sync_ui *ui = ctx;
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

void cli_sync_ui_end(cli_sync_ui *ui)
{
	if (ui->shown)
		fputc('\n', stderr);
	ui->shown = 0;
}

static int ask_password(void *ctx, const char *url, tidu_buf *user, tidu_buf *pass)
{
	cli_sync_ui *ui = ctx;

	cli_sync_ui_end(ui);
	fprintf(stderr, _("The repository '%s' asks for a user name and password.\n"), cli_safe(url));
	if (!user->len && cli_read_line(_("User name: "), 1, user) < 0)
		return -1;
	return cli_read_line(_("Password: "), 0, pass);
}

void cli_sync_opts(tidu_sync_opts *o, cli_sync_ui *ui, const char *ssh_key)
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
	tidu_json_write_key(&w, "rule_packs_taken");
	tidu_json_write_int64(&w, (int64_t)r->rules_taken);
	tidu_json_write_key(&w, "rule_packs_published");
	tidu_json_write_int64(&w, (int64_t)r->rules_published);
	tidu_json_write_key(&w, "forms_taken");
	tidu_json_write_int64(&w, (int64_t)r->forms_taken);
	tidu_json_write_key(&w, "forms_published");
	tidu_json_write_int64(&w, (int64_t)r->forms_published);
	tidu_json_write_key(&w, "targets_taken");
	tidu_json_write_int64(&w, (int64_t)r->targets_taken);
	tidu_json_write_key(&w, "targets_published");
	tidu_json_write_int64(&w, (int64_t)r->targets_published);
	tidu_json_write_key(&w, "services_taken");
	tidu_json_write_int64(&w, (int64_t)r->services_taken);
	tidu_json_write_key(&w, "services_published");
	tidu_json_write_int64(&w, (int64_t)r->services_published);
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

int cli_sync_finish(const tidu_sync_report *r, int error, int json, const char *from,
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
			       cli_safe(r->city_fingerprint));
		if (r->keyring_version)
			printf(_("Keyring version %lld is now in use.\n"), (long long)r->keyring_version);
		if (r->rules_taken)
			printf(_("%zu rule packs of the city are now in use ('tidu rules list').\n"),
			       r->rules_taken);
		if (r->rules_published)
			printf(_("Published the city's rule packs (%zu) on refs/heads/city/rules.\n"),
			       r->rules_published);
		if (r->forms_taken)
			printf(_("%zu forms of the city are new here ('tidu form list').\n"),
			       r->forms_taken);
		if (r->forms_published)
			printf(_("Published the city's forms (%zu) on refs/heads/city/forms.\n"),
			       r->forms_published);
		if (r->targets_taken)
			printf(_("The city's targets are here (%zu): 'tidu pool targets'.\n"),
			       r->targets_taken);
		if (r->targets_published)
			printf(_("Published the city's targets (%zu) on refs/heads/city/targets.\n"),
			       r->targets_published);
		if (r->services_taken)
			printf(_("The city's service institutions are here (%zu): 'tidu service list'.\n"),
			       r->services_taken);
		if (r->services_published)
			printf(_("Published the city's service institutions (%zu) on refs/heads/city/services.\n"),
			       r->services_published);
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
			       cli_safe(from), cli_safe(to), r->relayed, r->relayed_back, r->received, r->devices,
			       r->rejected);
		} else {
			printf(_("Synced with '%s': sent %zu change sets, received %zu from %zu devices; %zu changes merged, %zu conflicts, %zu rejected.\n"),
			       cli_safe(r->remote), r->sent, r->received, r->devices, r->changes, r->conflicts,
			       r->rejected);
		}
	}
	if (r->rejected && code == EXIT_OK)
		code = EXIT_CORRUPT;
	return code;
}

int cli_sync_run(cli_run *r, int (*op)(cli_run *r, const tidu_sync_opts *o,
					tidu_sync_report *rep),
		 const char *from, const char *to, tidu_sync_report *rep)
{
	const cli_sync_args *a = r->opts;
	tidu_sync_opts o;
	cli_sync_ui ui;
	int error;

	cli_sync_opts(&o, &ui, a->ssh_key);
	error = op(r, &o, rep);
	cli_sync_ui_end(&ui);
	if (r->store)
		cli_changes_warn_aside(r->store);
	return cli_sync_finish(rep, error, a->json, from, to);
}
