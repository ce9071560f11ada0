#!/usr/bin/env bash
# Writes the workbooks of tests/unit/test_xlsx.c, each by a real writer:
#   libreoffice.xlsx  LibreOffice (soffice --convert-to xlsx from form.fods)
#   openpyxl.xlsx     python3-openpyxl (inline strings; Debian's /usr/bin/python3)
#   xlsxwriter.xlsx   libxlsxwriter (gen_xlsxwriter.c; shared strings, rich text)
# All three hold the same small XLSForm (sheets survey, choices, settings):
# Chinese text, numbers, booleans, an empty cell in the middle (survey!C3),
# rich text (survey!D4, except openpyxl 3.0, which has none), blanks kept.
# Run from anywhere; needs soffice, python3-openpyxl, libxlsxwriter-dev, cc.
# The files are committed: the test does not need the writers.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tidu-xlsx.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

soffice --headless -env:UserInstallation="file://$tmp/profile" \
	--convert-to xlsx --outdir "$tmp" form.fods >/dev/null
mv "$tmp/form.xlsx" libreoffice.xlsx

/usr/bin/python3 - <<'PY'
import openpyxl
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "survey"
for row in [["type", "name", "label", "required", "hint"],
            ["text", "firm_name", "企业名称", True, "  前后空格 "],
            ["integer", "staff", None, False],
            ["decimal", 12, 0.5, "营业收入"]]:
    ws.append(row)
ch = wb.create_sheet("choices")
ch.append(["list_name", "name", "label"])
ch.append(["yn", "yes", "是"])
st = wb.create_sheet("settings")
st.append(["form_title", "form_id"])
st.append(["企业调查 2024", 2024010101])
wb.save("openpyxl.xlsx")
PY

cc -o "$tmp/gen" gen_xlsxwriter.c $(pkg-config --cflags --libs xlsxwriter)
"$tmp/gen" xlsxwriter.xlsx
