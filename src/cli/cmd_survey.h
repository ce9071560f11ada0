#ifndef TIDU_CLI_CMD_SURVEY_H
#define TIDU_CLI_CMD_SURVEY_H
/* What the files of `tidu survey` share (cmd_survey*.c). */

#include "cli.h"

/* The language of a form's texts and messages for this user: "zh" or "en". */
const char *cli_survey_lang(void);

/* tidu survey fill (cmd_survey_fill.c): its options, check and run. */
typedef struct {
	const char *version, *resume;
} cli_survey_fill_opts;
extern cli_survey_fill_opts cli_survey_fill_defaults; /* never written */
extern const cli_opt cli_survey_fill_optv[];
int cli_survey_fill_check(cli_run *r);
int cli_survey_fill(cli_run *r);

#endif
