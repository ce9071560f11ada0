#!/usr/bin/env bats
# tidu form import / list / show: the built-in forms (schema/forms/*.xlsx,
# written by python3-openpyxl through tools/xlsform) and the sample form as
# LibreOffice re-saves it; a workbook with a problem is refused with its
# cell and nothing is stored; Chinese labels round-trip byte for byte.
load helpers

setup() {
	setup_home
	init_store >/dev/null
	FORMS="$TIDU_SOURCE_DIR/schema/forms"
	DATA="$TIDU_SOURCE_DIR/tests/data/forms"
}

@test "the built-in forms import, list and show" {
	local f n
	for f in "$FORMS"/*.xlsx; do
		run tidu form import "$f"
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" == "Imported form '$(basename "$f" .xlsx)' version "* ]]
	done
	run tidu form list --json
	[ "$status" -eq 0 ]
	n=$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$output")
	[ "$n" -eq 5 ]
	run tidu form list
	[[ "$output" == *"tier1-self-check    2026120301"*"创新型中小企业自评"* ]]
	# every save_to of a built-in form names a dictionary field (the reader checked it)
	run tidu form show tier1-self-check --json
	[ "$status" -eq 0 ]
	python3 -c '
import json, sys
f = json.load(sys.stdin)
fills = [q["save_to"] for q in f["questions"] if "save_to" in q]
assert len(fills) >= 10, fills
assert f["title"]["zh"] == "创新型中小企业自评"
' <<<"$output"
}

@test "the same workbook again is no change; other bytes under the same version are refused" {
	tidu form import "$DATA/sample.xlsx" >/dev/null
	run tidu form import "$DATA/sample.xlsx"
	[ "$status" -eq 0 ]
	[[ "$output" == *"stored already (the same workbook)"* ]]
	before=$(home_digest)
	run tidu form import "$DATA/sample-libreoffice.xlsx"
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"version 2026120301 is stored already with other contents: raise the version"* ]]
	[ "$(home_digest)" = "$before" ]
}

@test "form show prints questions, logic and labels in either language" {
	tidu form import "$DATA/sample-libreoffice.xlsx" >/dev/null
	run tidu form show sample
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"employees         integer               从业人员数 *"* ]]
	[[ "$output" == *"relevant: \${has_ip} = 'yes'"* ]]
	[[ "$output" == *"  revenue           decimal               营业收入(万元) *"* ]]
	run tidu form show sample --lang en
	[[ "$output" == *"Employees *"* ]]
	run tidu form show sample --json
	python3 -c '
import json, sys
f = json.load(sys.stdin)
q = {x.get("name"): x for x in f["questions"]}
assert q["employees"]["label"] == {"zh": "从业人员数", "en": "Employees"}, q["employees"]
assert q["revenue"]["in"] == "finance"
assert q["field"]["or_other"] is True
assert [c["name"] for c in f["choices"]["need"]] == ["financing", "ip", "digital"]
' <<<"$output"
	run tidu form show nothing
	[ "$status" -eq 2 ]
	[[ "$output" == *"no form 'nothing': see tidu form list"* ]]
}

@test "a workbook with a problem is refused with its cell, nothing stored" {
	before=$(home_digest)
	# The sample's source with an unknown reference in a relevant.
	sed 's/\${has_ip} = /${has_ipx} = /' "$DATA/sample.form.txt" >bad.form.txt
	/usr/bin/python3 "$TIDU_SOURCE_DIR/tools/xlsform" bad.form.txt bad.xlsx
	run tidu form import bad.xlsx
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.xlsx: sheet 'survey' cell G11 (relevant): \${has_ipx} names no question of the form"* ]]
	# Not a workbook at all, and a missing file.
	run tidu form import "$DATA/sample.form.txt"
	[ "$status" -eq 2 ]
	[[ "$output" == *"not an .xlsx workbook"* ]]
	run tidu form import nowhere.xlsx
	[ "$status" -eq 2 ]
	[ "$(home_digest)" = "$before" ]
	run tidu form list
	[[ "$output" == *"No form yet"* ]]
}
