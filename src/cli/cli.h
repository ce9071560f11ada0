#ifndef TIDU_CLI_H
#define TIDU_CLI_H
/*
 * The command-line client: a thin layer over libtidu. Each command is a
 * cmd_<name>() in its own cmd_<name>.c, listed in main.c's table; options
 * are tables (cli_opt) that drive both parsing and --help.
 */
#include <stdio.h>

#include "tidu/buf.h"
#include "tidu/error.h"
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
	void *target;         /* int * for flags, const char ** for strings */
} cli_opt;

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

/* Prints "tidu: <formatted message>" to stderr and returns `code`. */
int cli_error(int code, const char *fmt, ...) TIDU_PRINTF(2, 3);

/* Prints a warning line to stderr. */
void cli_warn(const char *fmt, ...) TIDU_PRINTF(1, 2);

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

/* Prints `s` and spaces up to `cols` terminal columns (CJK count 2), at least one. */
void cli_print_padded(FILE *f, const char *s, size_t cols);

/* A subcommand ("firm add"). */
typedef struct {
	const char *name;
	int (*fn)(cli_ctx *ctx, int argc, char **argv);
	const char *summary; /* N_() msgid */
} cli_sub;

/* Runs the subcommand named by argv[1] from `subs` (ends with {NULL}). */
int cli_dispatch(cli_ctx *ctx, const char *command, const cli_sub *subs,
		 int argc, char **argv);


/* Commands. */
int cmd_init(cli_ctx *ctx, int argc, char **argv);
int cmd_passwd(cli_ctx *ctx, int argc, char **argv);
int cmd_agent(cli_ctx *ctx, int argc, char **argv);
int cmd_firm(cli_ctx *ctx, int argc, char **argv);
int cmd_visit(cli_ctx *ctx, int argc, char **argv);
int cmd_status(cli_ctx *ctx, int argc, char **argv);
int cmd_export(cli_ctx *ctx, int argc, char **argv);
int cmd_check(cli_ctx *ctx, int argc, char **argv);
int cmd_id(cli_ctx *ctx, int argc, char **argv);
int cmd_enroll(cli_ctx *ctx, int argc, char **argv);
int cmd_admin(cli_ctx *ctx, int argc, char **argv);
int cmd_keyring(cli_ctx *ctx, int argc, char **argv);
int cmd_conflicts(cli_ctx *ctx, int argc, char **argv);
int cmd_changes(cli_ctx *ctx, int argc, char **argv);
int cmd_sync(cli_ctx *ctx, int argc, char **argv);
int cmd_remote(cli_ctx *ctx, int argc, char **argv);
int cmd_relay(cli_ctx *ctx, int argc, char **argv);
int cmd_admin_pending(cli_ctx *ctx, int argc, char **argv);   /* tidu admin pending */
int cmd_admin_repo_init(cli_ctx *ctx, int argc, char **argv); /* tidu admin repo-init */

#endif
