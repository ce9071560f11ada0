/*
 * tidu_xlsxw: writes the readable source of a form (the format of
 * schema/forms/src/NAME.form.txt: one [sheet] line per sheet, then its rows of
 * tab-separated cells; '#' lines and blank lines ignored) as an .xlsx with
 * libxlsxwriter, which keeps every text in a shared-strings table as Excel
 * does (tools/xlsform, through openpyxl, writes inline strings instead).
 * Every cell is a string, as tools/xlsform writes them. For benchmark h of
 * tools/bench/run.
 *
 *   tidu_xlsxw SOURCE.form.txt OUT.xlsx
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

int main(int argc, char **argv)
{
	FILE *in;
	lxw_workbook *wb;
	lxw_worksheet *ws = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	lxw_row_t row = 0;
	unsigned long lineno = 0;
	int rc = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: tidu_xlsxw SOURCE.form.txt OUT.xlsx\n");
		return 2;
	}
	if (!(in = fopen(argv[1], "r"))) {
		perror(argv[1]);
		return 1;
	}
	if (!(wb = workbook_new(argv[2]))) {
		fprintf(stderr, "tidu_xlsxw: cannot create %s\n", argv[2]);
		fclose(in);
		return 1;
	}
	while ((len = getline(&line, &cap, in)) >= 0) {
		char *p = line, *tab;
		lxw_col_t col = 0;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		p += strspn(p, " \t");
		if (!*p || *p == '#')
			continue;
		if (*p == '[' && line[len - 1] == ']') {
			line[len - 1] = '\0';
			if (!(ws = workbook_add_worksheet(wb, p + 1))) {
				fprintf(stderr, "%s:%lu: cannot add sheet '%s'\n", argv[1], lineno, p + 1);
				rc = 1;
				break;
			}
			row = 0;
			continue;
		}
		if (!ws) {
			fprintf(stderr, "%s:%lu: a row before the first [sheet]\n", argv[1], lineno);
			rc = 1;
			break;
		}
		for (p = line;; col++) {
			if ((tab = strchr(p, '\t')))
				*tab = '\0';
			if (*p && worksheet_write_string(ws, row, col, p, NULL) != LXW_NO_ERROR) {
				fprintf(stderr, "%s:%lu: cannot write a cell\n", argv[1], lineno);
				rc = 1;
			}
			if (!tab)
				break;
			p = tab + 1;
		}
		row++;
	}
	free(line);
	fclose(in);
	if (workbook_close(wb) != LXW_NO_ERROR) {
		fprintf(stderr, "tidu_xlsxw: cannot write %s\n", argv[2]);
		rc = 1;
	}
	return rc;
}
