#ifndef TIDU_CLI_H
#define TIDU_CLI_H
/*
 * The command-line client: a thin layer over libtidu. Each command is a
 * cli_cmd entry (cmd_<name> in its own cmd_<name>.c, listed in main.c's
 * table) that declares its options (cli_opt, driving both parsing and
 * --help) and what it needs opened; the runner (cli_run_cmd) parses, opens,
 * runs and frees, so that a command function only does its own work.
 */
#include <stddef.h>
#include <stdio.h>

#include "tidu/buf.h"
#include "tidu/dict.h"
#include "tidu/error.h"
#include "tidu/home.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "tidu/repo.h"
#include "tidu/store.h"

/* Exit codes (docs/exit-codes.md). Never renumber. */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_PASS 3
#define EXIT_CORRUPT 4

/* Options and state shared by every command. */
typedef struct {
	const char *home;      /* --home DIR */
	const char *passfile;  /* --passphrase-file FILE */
	int json;              /* --json, for commands that have it */
} cli_ctx;

typedef enum { OPT_FLAG, OPT_STRING } cli_opt_kind;

typedef struct {
	const char *name;     /* long name without "--" */
	cli_opt_kind kind;
	const char *arg;      /* argument name shown in help, e.g. "DIR" */
	const char *help;     /* N_() msgid */
	void *target;         /* int * for flags, const char ** for strings; in a
				 cli_cmd's table, a member of its `defaults` */
} cli_opt;

/*
 * Option table rows for a cli_cmd: `member` of its options struct, named by
 * the command's `defaults` object (the runner parses into a copy of it).
 */
#define CLI_FLAG(name, help, defaults, member) \
	{name, OPT_FLAG, NULL, help, &(defaults).member}
#define CLI_STRING(name, arg, help, defaults, member) \
	{name, OPT_STRING, arg, help, &(defaults).member}
#define CLI_OPT_END {NULL, 0, NULL, NULL, NULL}
/* In a cli_cmd: its options struct `defaults` (cli_cmd.defaults, .opts_size). */
#define CLI_OPTS(d) .defaults = &(d), .opts_size = sizeof(d)

typedef struct {
	const char *usage;    /* e.g. "tidu firm add USCC --name NAME [KEY=VALUE ...]" */
	const char *summary;  /* N_() msgid, one line */
	const cli_opt *opts;  /* terminated by {NULL} */
	int min_args, max_args; /* positional arguments; max -1 = unlimited */
} cli_spec;

/*
 * Parses argv[1..argc) against `spec` plus the global options (--home,
 * --passphrase-file, --help). Positional arguments are collected into
 * `args`/`nargs` (pointers into argv). Returns EXIT_OK to go on, or an exit
 * code to stop with: EXIT_USAGE after printing a usage error, or -1 after
 * printing --help (the caller then exits 0).
 */
int cli_parse(cli_ctx *ctx, const cli_spec *spec, int argc, char **argv,
	      char ***args, int *nargs);

/* Prints `spec`'s help to stdout. */
void cli_help(const cli_spec *spec);

/* Prints "tidu: <message>" for the last libtidu error; returns its exit code. */
int cli_fail(int code);
/* The exit code for a libtidu error (EXIT_USAGE for bad input...), printing nothing. */
int cli_exit_code(int error);

/* Prints "tidu: <formatted message>" to stderr and returns `code`. */
int cli_error(int code, const char *fmt, ...) TIDU_PRINTF(2, 3);

/* Prints a warning line to stderr. */
void cli_warn(const char *fmt, ...) TIDU_PRINTF(1, 2);

/* Warns on stderr when the seal set changes aside (tidu changes pending). */
void cli_changes_warn_aside(tidu_store *s);

/* The home directory for this run (resolved). Returns an exit code. */
int cli_home(const cli_ctx *ctx, tidu_buf *home);

/*
 * Gets a passphrase: --passphrase-file, else $TIDU_PASSPHRASE, else a prompt
 * without echo when stdin is a terminal (asked twice if `confirm`). No source
 * and no terminal: EXIT_PASS with a message. `envname` is the variable to
 * read (TIDU_PASSPHRASE or TIDU_NEW_PASSPHRASE) and `file` the file option.
 */
int cli_passphrase(const char *file, const char *envname, const char *prompt,
		   int confirm, tidu_buf *out);

/*
 * Reads one line from stdin after printing `prompt` on stderr; with `echo`
 * 0 (a secret) without echo on a terminal. 0, or -1 at end of input.
 */
int cli_read_line(const char *prompt, int echo, tidu_buf *out);

/*
 * Opens the store of this run: with the key from its agent (agent.h) when
 * no passphrase is given (no --passphrase-file, no $TIDU_PASSPHRASE) and
 * $TIDU_NO_AGENT is not set, else asking for the passphrase. Returns an
 * exit code.
 */
int cli_open_store(const cli_ctx *ctx, tidu_store **out);

/* Writes a finished JSON document and a newline to stdout. */
void cli_print_json(tidu_buf *json);

/*
 * Finishes `w` (writing into `out`) and prints the document, then frees
 * `out`. EXIT_OK, or the writer's error (bad data) printed as usual and
 * nothing on stdout: never a half document with exit 0.
 */
int cli_emit_json(tidu_json_writer *w, tidu_buf *out);

/* Writes `key` and `v` as a string, or null when `v` is NULL or empty. */
void cli_json_str(tidu_json_writer *w, const char *key, const char *v);

/* EXIT_OK for NULL or a known district code (not the city itself), else one line and EXIT_USAGE. */
int cli_check_district(const char *d);

/* The label of choice `code` of `list` in the current language ("" for NULL; the code if unknown). */
const char *cli_choice(const char *list, const char *code);

/*
 * The problems of an import (tidu_import_error_cb): one line each, naming
 * `file` and the line. It remembers the last message, so that the final
 * error, when it is that same problem, is not said twice (cli_import_fail).
 */
typedef struct {
	const char *file;
	char *said;
} cli_import_ui;
void cli_import_error(void *ctx, size_t line, const char *message);
/* The exit code of a failed import, printing its error unless already said; frees ui->said. */
int cli_import_fail(cli_import_ui *ui, int error);

/*
 * `s` made safe to print on a terminal (tidu_utf8_safe: controls, escapes,
 * bidi overrides and invalid bytes shown as visible escapes). Every text
 * that came from a user or a peer goes through one of these before it is
 * printed; cli_error/cli_warn/cli_fail do it for their whole message. The
 * result lives until the 8th next call. cli_safe_ml keeps newline and tab
 * (multi-line fields such as a visit's notes).
 */
const char *cli_safe(const char *s);
const char *cli_safe_ml(const char *s);

/*
 * Standard output could not be written (`err`: the errno of the failed
 * write): says so once, "cannot write the output: REASON", and returns
 * EXIT_FAIL. main() flushes and closes stdout at the end and fails the
 * same way when a write failed unnoticed; it does not say it twice.
 */
int cli_output_failed(int err);

/*
 * The errno of the first failed write to stdout noted so far (by
 * cli_output_failed or cli_print_json), or 0; `*reported` is set to 1 if
 * it has been said already.
 */
int cli_output_errno(int *reported);

/*
 * The text of field `f` made safe to print: cli_safe_ml for the fields
 * documented as multi-line (a visit's note and follow-up: they keep their
 * lines and tabs), cli_safe for every other. `f` may be NULL (one line).
 */
const char *cli_safe_field(const tidu_field *f, const char *s);

/* "2026-11-27 09:13": a time in milliseconds since the epoch, in local time ("?" if out of range). */
void cli_local_minute(int64_t ms, char out[32]);

/* Prints `s` (made safe: cli_safe) and spaces up to `cols` terminal columns (CJK count 2), at least one. */
void cli_print_padded(FILE *f, const char *s, size_t cols);

/* What a command needs opened before it runs (cli_cmd.need). */
#define NEED_STORE 1u              /* the store, opened by cli_open_store */
#define NEED_KEYS (2u | NEED_STORE) /* and its trust keys made (tidu_trust_ensure_keys) */
#define NEED_CITY (4u | NEED_KEYS)  /* and it must be the city's store ('tidu admin') */

/* One run of a command, as its functions see it. */
typedef struct {
	cli_ctx *ctx;
	char **args;         /* positional arguments (pointers into argv) */
	int nargs;
	void *opts;          /* the command's options struct, filled by the parse */
	tidu_store *store;   /* opened by the runner (NEED_*), freed after the run */
} cli_run;

/* When a group runs its default subcommand (cli_cmd.dflt_on). */
typedef enum {
	CLI_DFLT_OPTION,   /* no argument, or the first one is an option */
	CLI_DFLT_UNKNOWN   /* the first argument is not a subcommand (nor --help) */
} cli_dflt_on;

/*
 * A command or subcommand. Either `run` (with its spec, options and needs),
 * or `subs` (a group: "tidu firm add"), or `raw` (parses its own argv).
 */
typedef struct cli_cmd {
	const char *name;
	const char *summary;      /* N_() msgid: its line in the list of commands */
	cli_spec spec;            /* usage, options, arguments; spec.summary NULL: summary */
	void *defaults;           /* its options struct as it starts (never written) */
	size_t opts_size;         /* its size; the options point into it */
	unsigned need;            /* NEED_* flags, opened after `check` */
	int (*check)(cli_run *r); /* validation before anything is opened; an exit code */
	int (*run)(cli_run *r);   /* the work; an exit code */
	const struct cli_cmd *subs;   /* a group: its subcommands, ending with {NULL} */
	const struct cli_cmd *dflt;   /* a group: run without a subcommand name */
	cli_dflt_on dflt_on;
	int (*raw)(cli_ctx *ctx, int argc, char **argv);
} cli_cmd;

/*
 * Runs `cmd` for argv[0..argc) (argv[0] its name): parses against its spec,
 * runs its check, opens what it needs, runs it and frees the run. A group
 * picks its subcommand, or prints its list. Returns an exit code, or -1
 * after printing --help (the caller then exits 0).
 */
int cli_run_cmd(cli_ctx *ctx, const cli_cmd *cmd, int argc, char **argv);

/*
 * Opens what `need` asks for (NEED_*) into r->store if not open yet: for the
 * few commands that must do something first. Returns an exit code.
 */
int cli_run_need(cli_run *r, unsigned need);

/* --json alone, the options of many commands: CLI_OPTS(cli_json_defaults). */
typedef struct {
	int json;
} cli_json_opts;
extern cli_json_opts cli_json_defaults;      /* never written */
extern const cli_opt cli_json_object_optv[]; /* "print one JSON object" */
extern const cli_opt cli_json_array_optv[];  /* "print one JSON array" */

/* Commands: main.c's table. */
int cmd_init(cli_ctx *ctx, int argc, char **argv);
int cmd_passwd(cli_ctx *ctx, int argc, char **argv);
extern const cli_cmd cmd_agent, cmd_assess, cmd_pool, cmd_service, cmd_event, cmd_rules, cmd_form, cmd_survey, cmd_firm, cmd_visit, cmd_status, cmd_export,
	cmd_check, cmd_id, cmd_enroll, cmd_admin, cmd_keyring, cmd_conflicts,
	cmd_changes, cmd_sync, cmd_remote, cmd_relay;

#endif
