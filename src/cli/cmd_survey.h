#ifndef TIDU_CLI_CMD_SURVEY_H
#define TIDU_CLI_CMD_SURVEY_H
/* What the files of `tidu survey` share (cmd_survey*.c). */

/* The language of a form's texts and messages for this user: "zh" or "en". */
const char *cli_survey_lang(void);

#endif
