#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"

/* The two that parse their own arguments (cmd_init.c, cmd_passwd.c). */
static const cli_cmd cmd_init_raw = {
	.name = "init", .summary = N_("create a new encrypted store on this device"),
	.raw = cmd_init,
};
static const cli_cmd cmd_passwd_raw = {
	.name = "passwd",
	.summary = N_("change the passphrase (or reset it with the recovery key)"),
	.raw = cmd_passwd,
};

/* In the order of `tidu --help`. */
static const cli_cmd *const commands[] = {
	&cmd_init_raw, &cmd_firm, &cmd_visit, &cmd_assess, &cmd_pool, &cmd_service, &cmd_event, &cmd_rules, &cmd_form, &cmd_survey, &cmd_status, &cmd_export, &cmd_check,
	&cmd_changes, &cmd_conflicts, &cmd_passwd_raw, &cmd_agent, &cmd_id,
	&cmd_enroll, &cmd_admin, &cmd_keyring, &cmd_sync, &cmd_remote, &cmd_relay,
	NULL,
};

static void usage(FILE *f)
{
	const cli_cmd *const *c;

	fprintf(f, "%s\n\n", _("usage: tidu [--home DIR] [--passphrase-file FILE] COMMAND [ARGS]"));
	fprintf(f, "%s\n", _("Commands:"));
	for (c = commands; *c; c++) {
		fprintf(f, "  ");
		cli_print_padded(f, (*c)->name, 10);
		fprintf(f, "%s\n", _((*c)->summary));
	}
	fprintf(f, "\n%s\n", _("Run 'tidu COMMAND --help' for the options of a command."));
	fprintf(f, "%s\n", _("Environment: TIDU_HOME (store directory), TIDU_PASSPHRASE."));
}

/*
 * Flushes and closes stdout and checks every write made to it: output cut
 * short (a full disk, /dev/full, a closed pipe) is a failure, exit 1, never
 * an exit 0 over a cut file.
 */
static int finish(int code)
{
	int error = 0, noted, reported;

	errno = 0;
	if (fflush(stdout) != 0)
		error = errno ? errno : EIO;
	else if (ferror(stdout))
		error = -1; /* an earlier write failed: its reason, if noted, below */
	if (fclose(stdout) != 0 && !error)
		error = errno ? errno : EIO;
	noted = cli_output_errno(&reported);
	if (!error && !noted)
		return code;
	if (error <= 0)
		error = noted ? noted : EIO;
	if (!reported)
		fprintf(stderr, "tidu: %s: %s\n", _("cannot write the output"), strerror(error));
	return code ? code : EXIT_FAIL;
}

static int run(int argc, char **argv);

int main(int argc, char **argv)
{
	return finish(run(argc, argv));
}

static int run(int argc, char **argv)
{
	cli_ctx ctx = {0};
	const cli_cmd *const *c;
	int i = 1;

	setlocale(LC_ALL, "");
	/* Numbers are always written and read with '.', whatever the locale. */
	setlocale(LC_NUMERIC, "C");
	tidu_i18n_init();
	if (sodium_init() < 0) {
		fprintf(stderr, "tidu: %s\n", _("cannot initialise libsodium"));
		return EXIT_FAIL;
	}

	/* Global options before the command. */
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];

		if (!strcmp(a, "--version")) {
			printf("tidu %s (SQLite %s, libsodium %s)\n", TIDU_VERSION,
			       sqlite3_libversion(), sodium_version_string());
			return EXIT_OK;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--home") && i + 1 < argc) {
			ctx.home = argv[++i];
		} else if (!strncmp(a, "--home=", 7)) {
			ctx.home = a + 7;
		} else if (!strcmp(a, "--passphrase-file") && i + 1 < argc) {
			ctx.passfile = argv[++i];
		} else if (!strncmp(a, "--passphrase-file=", 18)) {
			ctx.passfile = a + 18;
		} else {
			return cli_error(EXIT_USAGE, _("unknown option '%s'"), a);
		}
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (c = commands; *c; c++) {
		if (!strcmp((*c)->name, argv[i])) {
			int code = cli_run_cmd(&ctx, *c, argc - i, argv + i);

			/* cli_parse() returns -1 once it has printed --help. */
			return code < 0 ? EXIT_OK : code;
		}
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	return cli_error(EXIT_USAGE, _("unknown command '%s': run 'tidu --help'"),
			 argv[i]);
}
