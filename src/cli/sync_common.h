#ifndef TIDU_CLI_SYNC_COMMON_H
#define TIDU_CLI_SYNC_COMMON_H
/*
 * What tidu sync, tidu relay and tidu admin repo-init share
 * (sync_common.c): the progress line and password prompt they give libtidu,
 * and their report.
 */
#include <stdint.h>

#include "cli.h"
#include "tidu/repo.h"

typedef struct {
	int shown;     /* a progress line is on the terminal */
	int64_t last;  /* ms of the last update */
} cli_sync_ui;

/*
 * Fills `o` for a run with `ssh_key` (NULL: the SSH agent): progress on a
 * terminal's stderr, a password prompt on a terminal, $TIDU_SYNC_WAIT.
 */
void cli_sync_opts(tidu_sync_opts *o, cli_sync_ui *ui, const char *ssh_key);

/* The options of the three (--name: repo-init only). */
typedef struct {
	int json;
	const char *ssh_key, *name;
} cli_sync_args;

/* What their option tables point into (cli_cmd.defaults); never written. */
extern cli_sync_args cli_sync_defaults;

/* --json and --ssh-key, as tidu sync and tidu relay take them. */
extern const cli_opt cli_sync_optv[];

/* Ends the progress line, if one is shown. */
void cli_sync_ui_end(cli_sync_ui *ui);

/*
 * Prints the report of a sync, a repo-init or a relay (`from`, `to`; NULL
 * for the others), as JSON with `json`, and the error, if any (`error` is
 * the run's return value); returns the exit code.
 */
int cli_sync_finish(const tidu_sync_report *r, int error, int json, const char *from,
		    const char *to);

/*
 * One sync-like run on the opened r->store: `op` with the options above,
 * then the report (cli_sync_finish with `from` and `to`) into `rep` (the
 * caller's, zeroed; it frees it). Returns the exit code.
 */
int cli_sync_run(cli_run *r, int (*op)(cli_run *r, const tidu_sync_opts *o,
					tidu_sync_report *rep),
		 const char *from, const char *to, tidu_sync_report *rep);

#endif
