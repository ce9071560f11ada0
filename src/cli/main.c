#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"

typedef struct {
	const char *name;
	int (*fn)(cli_ctx *ctx, int argc, char **argv);
	const char *summary; /* N_() msgid */
} command;

static const command commands[] = {
	{"init", cmd_init, N_("create a new encrypted store on this device")},
	{"firm", cmd_firm, N_("add, change, show, list and import firms")},
	{"visit", cmd_visit, N_("record and list visits to firms")},
	{"status", cmd_status, N_("show the store, this device and its counts")},
	{"export", cmd_export, N_("write every current record as canonical JSON")},
	{"check", cmd_check, N_("authenticate every page and check integrity")},
	{"changes", cmd_changes, N_("seal, export, apply and list change sets")},
	{"conflicts", cmd_conflicts, N_("list and resolve values that lost a merge")},
	{"passwd", cmd_passwd, N_("change the passphrase (or reset it with the recovery key)")},
	{"agent", cmd_agent, N_("keep the unlocked key in memory for a while (like ssh-agent)")},
	{"id", cmd_id, N_("show this device's identity and key fingerprint")},
	{"enroll", cmd_enroll, N_("make this device's enrollment request for the city")},
	{"admin", cmd_admin, N_("enroll and revoke devices (city store)")},
	{"keyring", cmd_keyring, N_("export, import and show the city's signed keyring")},
	{"sync", cmd_sync, N_("seal, send and receive change sets through the central repository")},
	{"remote", cmd_remote, N_("add, list and remove central repositories")},
	{"relay", cmd_relay, N_("forward a district's verified change sets between repositories")},
	{NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	const command *c;

	fprintf(f, "%s\n\n", _("usage: tidu [--home DIR] [--passphrase-file FILE] COMMAND [ARGS]"));
	fprintf(f, "%s\n", _("Commands:"));
	for (c = commands; c->name; c++) {
		fprintf(f, "  ");
		cli_print_padded(f, c->name, 10);
		fprintf(f, "%s\n", _(c->summary));
	}
	fprintf(f, "\n%s\n", _("Run 'tidu COMMAND --help' for the options of a command."));
	fprintf(f, "%s\n", _("Environment: TIDU_HOME (store directory), TIDU_PASSPHRASE."));
}

int main(int argc, char **argv)
{
	cli_ctx ctx = {0};
	const command *c;
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
	for (c = commands; c->name; c++) {
		if (!strcmp(c->name, argv[i])) {
			int code = c->fn(&ctx, argc - i, argv + i);

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
