/* The libxlsxwriter workbook of make.sh: gen_xlsxwriter OUT.xlsx */
#include <stdio.h>

#include <xlsxwriter.h>

int main(int argc, char **argv)
{
	lxw_workbook *wb;
	lxw_worksheet *survey, *choices, *settings;
	lxw_format *bold;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_xlsxwriter OUT.xlsx\n");
		return 2;
	}
	wb = workbook_new(argv[1]);
	survey = workbook_add_worksheet(wb, "survey");
	choices = workbook_add_worksheet(wb, "choices");
	settings = workbook_add_worksheet(wb, "settings");
	bold = workbook_add_format(wb);
	format_set_bold(bold);

	worksheet_write_string(survey, 0, 0, "type", NULL);
	worksheet_write_string(survey, 0, 1, "name", NULL);
	worksheet_write_string(survey, 0, 2, "label", NULL);
	worksheet_write_string(survey, 0, 3, "required", NULL);
	worksheet_write_string(survey, 0, 4, "hint", NULL);
	worksheet_write_string(survey, 1, 0, "text", NULL);
	worksheet_write_string(survey, 1, 1, "firm_name", NULL);
	worksheet_write_string(survey, 1, 2, "企业名称", NULL);
	worksheet_write_boolean(survey, 1, 3, 1, NULL);
	worksheet_write_string(survey, 1, 4, "  前后空格 ", NULL);
	worksheet_write_string(survey, 2, 0, "integer", NULL);
	worksheet_write_string(survey, 2, 1, "staff", NULL);
	worksheet_write_boolean(survey, 2, 3, 0, NULL);
	worksheet_write_string(survey, 3, 0, "decimal", NULL);
	worksheet_write_number(survey, 3, 1, 12, NULL);
	worksheet_write_number(survey, 3, 2, 0.5, NULL);
	{
		lxw_rich_string_tuple a = { .format = NULL, .string = "营业" };
		lxw_rich_string_tuple b = { .format = bold, .string = "收入" };
		lxw_rich_string_tuple *rich[] = { &a, &b, NULL };

		worksheet_write_rich_string(survey, 3, 3, rich, NULL);
	}

	worksheet_write_string(choices, 0, 0, "list_name", NULL);
	worksheet_write_string(choices, 0, 1, "name", NULL);
	worksheet_write_string(choices, 0, 2, "label", NULL);
	worksheet_write_string(choices, 1, 0, "yn", NULL);
	worksheet_write_string(choices, 1, 1, "yes", NULL);
	worksheet_write_string(choices, 1, 2, "是", NULL);

	worksheet_write_string(settings, 0, 0, "form_title", NULL);
	worksheet_write_string(settings, 0, 1, "form_id", NULL);
	worksheet_write_string(settings, 1, 0, "企业调查 2024", NULL);
	worksheet_write_number(settings, 1, 1, 2024010101, NULL);
	return workbook_close(wb) == LXW_NO_ERROR ? 0 : 1;
}
