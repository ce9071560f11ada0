#!/usr/bin/env bats
# tidu survey add / list / show / delete / file / export: responses from a
# JSON file of answers, refused whole on a bad answer (the store unchanged),
# save_to writing the firm, drafts local, files kept encrypted and returned
# byte for byte, exports read back by openpyxl (an independent reader).
load helpers

U=91410100MA44XY3K6E

setup() {
	setup_home
	init_store >/dev/null
	tidu form import "$TIDU_SOURCE_DIR/tests/data/forms/sample.xlsx" >/dev/null
	tidu firm add $U --name 测试企业 >/dev/null
	printf 'PNG\000\001\002binary' >pic.png
	cat >a.json <<-'EOF'
	{"employees": 120, "rd_staff": 30, "has_ip": "yes", "ip_count": 3,
	 "needs": "financing ip", "field": "other", "field_other": "新材料 «测试»",
	 "revenue": "8800.5", "products": [{"product_name": "传感器"}, {"product_name": "阀门"}],
	 "where": "34.75 113.62", "photo": "pic.png"}
	EOF
}

teardown() {
	if declare -F servers_stop >/dev/null; then servers_stop; fi
}

# The answers of a.json with one key changed: answers KEY JSONVALUE > FILE
answers() {
	python3 -c '
import json, sys
a = json.load(open("a.json"))
if sys.argv[2] == "DELETE":
    del a[sys.argv[1]]
else:
    a[sys.argv[1]] = json.loads(sys.argv[2])
print(json.dumps(a, ensure_ascii=False))' "$1" "$2"
}

@test "survey add keeps the answers, fills the firm through save_to, and logs both" {
	run tidu survey add sample $U --answers a.json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]
	id=$output
	run tidu survey show "${id:0:8}" --json
	[ "$status" -eq 0 ]
	python3 -c '
import json, sys
r = json.load(sys.stdin)
a = r["answers"]
assert r["draft"] is False and r["form"] == "sample", r
assert a["employees"] == 120 and a["rd_share"] == "25", a
assert a["needs"] == ["financing", "ip"], a
assert a["field_other"] == "新材料 «测试»", a
assert [p["product_name"] for p in a["products"]] == ["传感器", "阀门"]
assert a["photo"] == "pic.png" and a["officer"] == "王芳"
assert r["attachments"][0]["size"] == 12 and r["attachments"][0]["complete"]
' <<<"$output"
	# save_to: employees, rd_staff and 2025.revenue are the firm's now
	run tidu firm show $U --json
	python3 -c '
import json, sys
f = json.load(sys.stdin)
assert f["employees"] == 120 and f["rd_staff"] == 30, f
assert f["years"]["2025"]["revenue"] == 8800.5, f
' <<<"$output"
	run tidu changes pending --json
	python3 -c '
import json, sys
p = json.load(sys.stdin)["by_entity"]
assert p["response"] == 1 and p["attachment"] == 1, p
' <<<"$output"
	run tidu survey list
	[[ "$output" == *"$id"*"sample 2026120301"*"$U 测试企业"* ]]
	run tidu survey file "$id" photo --out back.png
	[ "$status" -eq 0 ]
	cmp pic.png back.png
}

@test "a bad answer is one line naming the question, exit 2, nothing stored" {
	before=$(home_digest)
	for bad in 'rd_staff|500' 'employees|"many"' 'has_ip|"maybe"' 'ip_count|0' \
		'nosuch|1' 'rd_share|"7"' 'products|{"product_name": "x"}' 'where|"91 0"'; do
		answers "${bad%%|*}" "${bad#*|}" >bad.json
		run tidu survey add sample $U --answers bad.json
		echo "$bad -> $output"
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == "tidu: "* ]]
	done
	# the form's own constraint message, in the officer's language
	answers rd_staff 500 >bad.json
	run env LANG=zh_CN.UTF-8 "$TIDU" survey add sample $U --answers bad.json </dev/null
	[[ "$output" == *"不能超过从业人员数"* ]]
	# an answer to a question that is not asked (has_ip = no hides ip_count)
	answers has_ip '"no"' >bad.json
	run tidu survey add sample $U --answers bad.json
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"ip_count"* ]]
	# a missing required answer names it
	answers revenue DELETE >bad.json
	run tidu survey add sample $U --answers bad.json
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"revenue"* ]]
	# no such form, no such firm, a file that is not there, not JSON
	run tidu survey add nosuch $U --answers a.json
	[ "$status" -eq 2 ]
	[[ "$output" == *"no form 'nosuch'"* ]]
	run tidu survey add sample "$(uscc 91410105MA1J8T9H5)" --answers a.json
	[ "$status" -eq 2 ]
	[[ "$output" == *"is not in the store"* ]]
	answers photo '"missing.png"' >bad.json
	run tidu survey add sample $U --answers bad.json
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"photo"*"missing.png"* ]]
	echo '{"employees": ' >bad.json
	run tidu survey add sample $U --answers bad.json
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.json"* ]]
	[ "$(home_digest)" = "$before" ]
}

@test "a file over 20 MiB is refused, naming the question and the limit" {
	head -c $((20 * 1024 * 1024 + 1)) /dev/zero >big.bin
	answers photo '"big.bin"' >big.json
	before=$(home_digest)
	run tidu survey add sample $U --answers big.json
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"photo"*"20 MiB"* ]]
	[ "$(home_digest)" = "$before" ]
}

@test "--draft keeps an incomplete response local; delete removes it" {
	echo '{"employees": 5}' >part.json
	run tidu survey add sample $U --answers part.json
	[ "$status" -eq 2 ]
	run tidu survey add sample $U --answers part.json --draft
	[ "$status" -eq 0 ]
	id=$output
	run tidu survey list
	[[ "$output" != *"$id"* ]]
	run tidu survey list --drafts --json
	[[ "$output" == *"$id"* ]]
	# a draft is not in the change log
	run tidu changes pending --json
	python3 -c '
import json, sys
assert json.load(sys.stdin)["by_entity"]["response"] == 0' <<<"$output"
	run tidu survey delete "$id"
	[ "$status" -eq 0 ]
	[[ "$output" == "Deleted draft"* ]]
	run tidu survey list --all --json
	[ "$output" = "[]" ]
}

@test "a deleted response is a tombstone that syncs; short and unknown ids are refused" {
	id=$(tidu survey add sample $U --answers a.json)
	run tidu survey show abc
	[ "$status" -eq 2 ]
	run tidu survey show 0000
	[ "$status" -eq 2 ]
	[[ "$output" == *"no response '0000'"* ]]
	run tidu survey delete "${id^^}"
	echo "$output"
	[ "$status" -eq 0 ]
	run tidu survey list --all --json
	[ "$output" = "[]" ]
	run tidu changes pending --json
	python3 -c '
import json, sys
p = json.load(sys.stdin)["by_entity"]
assert p["response"] == 2 and p["attachment"] == 2, p' <<<"$output"
}

@test "survey export: CSV with BOM and a file per repeat, XLSX read back by openpyxl, JSON" {
	id1=$(tidu survey add sample $U --answers a.json)
	answers employees 7 | python3 -c '
import json, sys; a = json.load(sys.stdin); a["rd_staff"] = 1; a["products"] = [{"product_name": "=1+1"}]
print(json.dumps(a, ensure_ascii=False))' >b.json
	id2=$(tidu survey add sample $U --answers b.json)
	run tidu survey export sample --out out.csv
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(head -c 3 out.csv | od -An -tx1 | tr -d ' ')" = "efbbbf" ]
	python3 -c '
import csv, sys
rows = list(csv.DictReader(open("out.csv", encoding="utf-8-sig")))
assert [r["KEY"] for r in rows] == [sys.argv[1], sys.argv[2]], rows
assert rows[0]["employees"] == "120" and rows[1]["employees"] == "7"
assert rows[0]["field_other"] == "新材料 «测试»" and rows[0]["_firm"] == "测试企业"
assert rows[0]["needs"] == "financing ip"
rep = list(csv.DictReader(open("out-products.csv", encoding="utf-8-sig")))
assert [r["product_name"] for r in rep] == ["传感器", "阀门", "\u0027=1+1"], rep
assert rep[2]["PARENT_KEY"] == sys.argv[2]
' "$id1" "$id2"
	run tidu survey export sample --format xlsx --out out.xlsx
	[ "$status" -eq 0 ]
	/usr/bin/python3 -c '
import openpyxl, sys
wb = openpyxl.load_workbook("out.xlsx")
ws = wb["sample"]
rows = list(ws.iter_rows(values_only=True))
head, labels = rows[0], rows[1]
assert head[0] == "KEY" and "employees" in head
e = head.index("employees")
assert labels[e] == "Employees", labels
assert rows[2][0] == sys.argv[1] and rows[2][e] == 120 and isinstance(rows[2][e], int)
assert rows[3][e] == 7
assert ws.freeze_panes == "A3"
p = list(wb["products"].iter_rows(values_only=True))
assert [r[2] for r in p[2:]] == ["传感器", "阀门", "=1+1"], p
' "$id1"
	run tidu survey export sample --format json
	[ "$status" -eq 0 ]
	python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [r["id"] for r in d] == sys.argv[1:], d
' "$id1" "$id2" <<<"$output"
	# CSV to standard output needs a form without repeats; xlsx needs --out
	run tidu survey export sample
	[ "$status" -eq 2 ]
	run tidu survey export sample --format xlsx
	[ "$status" -eq 2 ]
	run tidu survey export sample --format pdf
	[ "$status" -eq 2 ]
}

@test "end to end over git daemon: the officer's response and its file reach the city, encrypted all the way" {
	. "$BATS_TEST_DIRNAME/../servers/servers.bash"
	SRV="$BATS_TEST_TMPDIR/srv"
	mkdir -p "$SRV"
	central_repo "$SRV" central.git
	git_daemon_start "$SRV"
	URL="$GIT_DAEMON_URL/central.git"
	CITY="$BATS_TEST_TMPDIR/city" A="$BATS_TEST_TMPDIR/a" C="$BATS_TEST_TMPDIR/c"
	network
	on "$CITY" form import "$TIDU_SOURCE_DIR/tests/data/forms/sample.xlsx" >/dev/null
	on "$CITY" form publish sample >/dev/null
	on "$CITY" sync >/dev/null
	on "$A" sync >/dev/null
	on "$C" sync >/dev/null
	# Offline on site: the firm, then the survey with a photo.
	marker="SURVEY-PLAINTEXT-MARKER-$$-0123456789"
	on "$A" firm add $U --name 测试企业 >/dev/null
	printf '%s photo bytes' "$marker" >photo.jpg
	answers photo '"photo.jpg"' | sed "s/新材料 «测试»/$marker/" >e2e.json
	id=$(on "$A" survey add sample $U --answers "$PWD/e2e.json")
	[ -n "$id" ]
	run on "$A" sync
	echo "$output"
	[ "$status" -eq 0 ]
	run on "$CITY" sync
	[ "$status" -eq 0 ]
	run on "$CITY" survey show "$id" --json
	echo "$output"
	[ "$status" -eq 0 ]
	python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["answers"]["field_other"] == sys.argv[1], r
assert r["uscc"] == sys.argv[2] and r["officer"] == "王芳"
assert r["attachments"][0]["complete"], r
' "$marker" $U <<<"$output"
	run on "$CITY" firm show $U --json
	[[ "$output" == *'"employees": 120'* ]]
	on "$CITY" survey file "$id" photo --out city.jpg >/dev/null
	cmp photo.jpg city.jpg
	run on "$CITY" survey export sample --format json
	[[ "$output" == *"$marker"* ]]
	# Another district never receives it.
	on "$C" sync >/dev/null
	run on "$C" survey list --json
	[ "$output" = "[]" ]
	# No plaintext of the answer or of the file on any disk or on the server.
	for d in "$A" "$CITY" "$C" "$SRV"; do
		run grep -rlaF "$marker" "$d"
		echo "$d: $output"
		[ "$status" -eq 1 ]
	done
	run grep -rlaF "photo bytes" "$A" "$CITY" "$SRV"
	[ "$status" -eq 1 ]
}

@test "survey import: many responses from JSON Lines in one transaction, or none with the line named" {
	G=$(uscc 91410105MA1J8T9H5)
	tidu firm add "$G" --name 第二企业 >/dev/null
	python3 -c '
import json, sys
a = json.load(open("a.json"))
for u in sys.argv[1:]:
    print(json.dumps({"uscc": u, "answers": a}, ensure_ascii=False))
    print()
' $U "$G" $U >many.jsonl
	run tidu survey import sample many.jsonl
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "Added 3 responses to form 'sample'" ]]
	run tidu survey list --json
	[ "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$output")" -eq 3 ]
	# a bad third response: nothing of the file is stored
	python3 -c '
import json
a = json.load(open("a.json"))
print(json.dumps({"uscc": "'$U'", "answers": a}))
b = dict(a); b["rd_staff"] = 999
print(json.dumps({"uscc": "'$U'", "answers": a}))
print(json.dumps({"uscc": "'$U'", "answers": b}))
' >bad.jsonl
	before=$(home_digest)
	run tidu survey import sample bad.jsonl
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.jsonl: line 3: "*"rd_staff"* ]]
	[ "$(home_digest)" = "$before" ]
	echo '{"answers": {}}' >nouscc.jsonl
	run tidu survey import sample nouscc.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"line 1: each line must be"* ]]
}

@test "a new version of the form keeps the old responses readable and exportable" {
	id1=$(tidu survey add sample $U --answers a.json)
	# version 2: employees renamed to staff, a new question
	sed -e 's/^\(integer\t\)employees\t/\1staff\t/' -e 's/\${employees}/${staff}/g' \
		-e 's/2026120301/2026120302/' \
		-e 's/^end\tended$/text\tremark\t备注\tRemark\nend\tended/' \
		"$TIDU_SOURCE_DIR/tests/data/forms/sample.form.txt" >v2.form.txt
	/usr/bin/python3 "$TIDU_SOURCE_DIR/tools/xlsform" v2.form.txt v2.xlsx
	run tidu form import v2.xlsx
	echo "$output"
	[ "$status" -eq 0 ]
	answers employees DELETE | python3 -c '
import json, sys; a = json.load(sys.stdin); a["staff"] = 50; a["remark"] = "第二版"
print(json.dumps(a, ensure_ascii=False))' >v2.json
	id2=$(tidu survey add sample $U --answers v2.json)
	# the old response still shows with its own version's labels
	run tidu survey show "$id1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"sample 2026120301"*"employees  (Employees): 120"* ]]
	run tidu survey show "$id2" --json
	[[ "$output" == *'"version": "2026120302"'*'"staff":50'* ]]
	# every version's responses, the newest version's columns; or one version's
	run tidu survey export sample --format json
	[[ "$output" == *"$id1"*"$id2"* ]]
	tidu survey export sample --out all.csv >/dev/null
	python3 -c '
import csv
rows = list(csv.DictReader(open("all.csv", encoding="utf-8-sig")))
assert [r["_version"] for r in rows] == ["2026120301", "2026120302"], rows
assert rows[1]["staff"] == "50" and rows[1]["remark"] == "第二版" and rows[0]["remark"] == ""
'
	tidu survey export sample --version 2026120301 --out old.csv >/dev/null
	python3 -c '
import csv
rows = list(csv.DictReader(open("old.csv", encoding="utf-8-sig")))
assert len(rows) == 1 and rows[0]["employees"] == "120", rows
'
}

@test "a response to a built-in form pins that version of the form into the store" {
	run tidu form list --json
	python3 -c '
import json, sys
f = {x["id"]: x for x in json.load(sys.stdin)}
assert f["lookback-review"]["source"] == "builtin" and not f["lookback-review"]["stored"], f
' <<<"$output"
	echo '{}' >empty.json
	id=$(tidu survey add lookback-review $U --answers empty.json --draft)
	[ -n "$id" ]
	run tidu form list --json
	python3 -c '
import json, sys
f = {x["id"]: x for x in json.load(sys.stdin)}
assert f["lookback-review"]["stored"], f
' <<<"$output"
}
