#!/usr/bin/env bats
# tidu form import / list / show / publish: the built-in forms
# (schema/forms/*.xlsx, written by python3-openpyxl through tools/xlsform,
# compiled into tidu: every store sees them), and the sample form as
# LibreOffice re-saves it; a workbook with a problem is refused with its
# cell and nothing is stored; Chinese labels round-trip byte for byte.
load helpers

setup() {
	setup_home
	init_store >/dev/null
	FORMS="$TIDU_SOURCE_DIR/schema/forms"
	DATA="$TIDU_SOURCE_DIR/tests/data/forms"
}

teardown() {
	if declare -F servers_stop >/dev/null; then servers_stop; fi
}

@test "a new store lists the five built-in forms and shows them; their workbooks import as no change" {
	local f before
	run tidu form list --json
	echo "$output"
	[ "$status" -eq 0 ]
	python3 -c '
import json, sys
v = json.load(sys.stdin)
assert [f["id"] for f in v] == ["giant-readiness", "lookback-review", "service-needs",
				"srdi-application", "tier1-self-check"], v
assert all(f["source"] == "builtin" and not f["stored"] and f["newest"] for f in v), v
' <<<"$output"
	# The same bytes as schema/forms: the workbook in the binary is the file.
	[ "$(tidu form list --json | python3 -c 'import json,sys; print([f["sha256"] for f in json.load(sys.stdin) if f["id"] == "tier1-self-check"][0])')" = \
	  "$(sha256sum "$FORMS/tier1-self-check.xlsx" | cut -d' ' -f1)" ]
	run tidu form list
	[[ "$output" == *"tier1-self-check    2026120301  39   built-in  创新型中小企业自评"* ]]
	LANG=zh_CN.UTF-8 run tidu form list
	[[ "$output" == *"tier1-self-check    2026120301  39   内置"* ]]
	# every save_to of a built-in form names a dictionary field (the reader checked it)
	run tidu form show tier1-self-check --json
	[ "$status" -eq 0 ]
	python3 -c '
import json, sys
f = json.load(sys.stdin)
fills = [q["save_to"] for q in f["questions"] if "save_to" in q]
assert len(fills) >= 10, fills
assert f["title"]["zh"] == "创新型中小企业自评"
assert f["version"] == "2026120301"
' <<<"$output"
	run tidu form show giant-readiness --version 2026120301
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "giant-readiness 2026120301  "* ]]
	# Importing a built-in's own workbook changes nothing.
	before=$(home_digest)
	for f in "$FORMS"/*.xlsx; do
		run tidu form import "$f"
		echo "$output"
		[ "$status" -eq 0 ]
		[ "$output" = "Form '$(basename "$f" .xlsx)' version 2026120301 is built in already (the same workbook)" ]
	done
	[ "$(home_digest)" = "$before" ]
}

@test "other bytes under a built-in's version are refused; a newer version is the newest, the built-in still shown" {
	local before
	sed 's/^tier1-self-check\t创新型中小企业自评\t/tier1-self-check\t改过的自评\t/' \
		"$FORMS/src/tier1-self-check.form.txt" >t1.form.txt
	grep -q '改过的自评' t1.form.txt
	/usr/bin/python3 "$TIDU_SOURCE_DIR/tools/xlsform" t1.form.txt t1.xlsx
	before=$(home_digest)
	run tidu form import t1.xlsx
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"form 'tier1-self-check' version 2026120301 is built in with other contents: raise the version in its settings sheet"* ]]
	[ "$(home_digest)" = "$before" ]
	# The same change under a newer version is a local form, newest of its id.
	sed -i 's/\t2026120301\t/\t2026120302\t/' t1.form.txt
	/usr/bin/python3 "$TIDU_SOURCE_DIR/tools/xlsform" t1.form.txt t1.xlsx
	run tidu form import t1.xlsx
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "Imported form 'tier1-self-check' version 2026120302: 39 questions (改过的自评)" ]]
	run tidu form list
	echo "$output"
	[[ "$output" == *"tier1-self-check    2026120302  39   local     改过的自评"* ]]
	[[ "$output" == *"tier1-self-check    2026120301  39   built-in  创新型中小企业自评  (older version)"* ]]
	run tidu form show tier1-self-check
	[[ "${lines[0]}" == "tier1-self-check 2026120302  改过的自评" ]]
	run tidu form show tier1-self-check --version 2026120301
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "tier1-self-check 2026120301  创新型中小企业自评" ]]
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
	run tidu form list --json
	[ "$(python3 -c 'import json,sys; print(sum(f["stored"] for f in json.load(sys.stdin)))' <<<"$output")" -eq 0 ]
}

@test "the city publishes a form over git daemon; every district receives it, a forged one is refused" {
	. "$BATS_TEST_DIRNAME/../servers/servers.bash"
	SRV="$BATS_TEST_TMPDIR/srv"
	mkdir -p "$SRV"
	central_repo "$SRV" central.git
	git_daemon_start "$SRV"
	URL="$GIT_DAEMON_URL/central.git"
	CITY="$BATS_TEST_TMPDIR/city" A="$BATS_TEST_TMPDIR/a" C="$BATS_TEST_TMPDIR/c"
	network
	# A built-in form, never imported: publishing pins it into the city's table.
	run on "$A" form publish tier1-self-check
	[ "$status" -eq 2 ] # not the city
	[[ "$output" == *"needs the city store"* ]]
	run on "$CITY" form publish tier1-self-check
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Published form 'tier1-self-check' version 2026120301"* ]]
	run on "$CITY" form list --json
	python3 -c '
import json, sys
v = {f["id"]: f for f in json.load(sys.stdin)}
assert v["tier1-self-check"]["stored"] is True and v["tier1-self-check"]["source"] == "builtin", v
assert v["service-needs"]["stored"] is False, v
' <<<"$output"
	run on "$CITY" form publish tier1-self-check # again: the same
	[ "$status" -eq 0 ]
	run on "$CITY" sync --json
	[[ "$output" == *'"forms_published": 1'* ]]
	for h in "$A" "$C"; do
		run on "$h" sync --json
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" == *'"forms_taken": 1'* ]]
		# The device carries the same built-in, and keeps the city's copy.
		run on "$h" form list --json
		python3 -c '
import json, sys
v = [f for f in json.load(sys.stdin) if f["id"] == "tier1-self-check"]
assert len(v) == 1 and v[0]["source"] == "city" and v[0]["stored"] is True, v
' <<<"$output"
	done
	# The workbook arrived byte for byte.
	[ "$(on "$A" form list --json | python3 -c 'import json,sys; print([f["sha256"] for f in json.load(sys.stdin) if f["id"] == "tier1-self-check"][0])')" = \
	  "$(sha256sum "$FORMS/tier1-self-check.xlsx" | cut -d' ' -f1)" ]
	# Someone with write access swaps the workbook's bytes in the signed document.
	git --git-dir="$SRV/central.git" show refs/heads/city/forms:forms.json |
		sed 's/"version": "2026120301"/"version": "2026120302"/' >forged.json
	blob=$(git --git-dir="$SRV/central.git" hash-object -w forged.json)
	tree=$(printf '100644 blob %s\tforms.json\n' "$blob" | git --git-dir="$SRV/central.git" mktree)
	commit=$(git --git-dir="$SRV/central.git" -c user.name=x -c user.email=x@x commit-tree "$tree" \
		-p refs/heads/city/forms -m forged)
	git --git-dir="$SRV/central.git" update-ref refs/heads/city/forms "$commit"
	run on "$C" sync
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"forms on 'refs/heads/city/forms' refused"*"not signed by the pinned city key"* ]]
}
