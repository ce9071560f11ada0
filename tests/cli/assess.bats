#!/usr/bin/env bats
# tidu assess (issue 10): the command over a real store. The points are
# checked in tests/unit/test_assess.c; here: output, JSON shape, what-if
# without writing, --all, CSV, bad input.

load helpers

U=91410100MA44A9BX8H

setup() {
	setup_home
	init_store >/dev/null
	add_assess_firm $U "郑州测试科技有限公司"
}

@test "assess shows the score, each indicator and the next band" {
	run tidu assess $U --rules rules-2022 --tier 1
	[ "$status" -eq 0 ]
	[[ "$output" == *"Rules: rules-2022 version 1"* ]]
	[[ "$output" == *"Year: 2025 (the latest with a revenue figure)"* ]]
	[[ "$output" == *"Tier 1, Innovative SME: pass"* ]]
	[[ "$output" == *"Score 65 / 100 (pass: 60)"* ]]
	[[ "$output" == *"R&D expense / revenue, last year"*"10/20"*"2.5%"*">= 3% → 15 (+5)"* ]]
}

@test "Chinese output aligns its columns by display width" {
	run env LANG=zh_CN.UTF-8 "$TIDU" assess $U --rules rules-2022 --tier 1
	[ "$status" -eq 0 ]
	[[ "$output" == *"第1层 创新型中小企业: 通过"* ]]
	# The points column starts at the same terminal column on every row.
	python3 - "$output" <<'PY'
import sys, unicodedata
def width(s): return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
rows = [l for l in sys.argv[1].splitlines() if "/20" in l or "/10" in l]
assert len(rows) == 6, rows
cols = {width(l[:l.index("/")].rstrip("0123456789?")) for l in rows}
assert len(cols) == 1, cols
PY
}

@test "--json has the documented shape" {
	run tidu assess $U --rules rules-2022 --json
	[ "$status" -eq 0 ]
	python3 - "$output" <<'PY'
import json, sys
a = json.loads(sys.argv[1])
assert a["uscc"] == "91410100MA44A9BX8H" and a["rules"] == "rules-2022"
assert a["rules_version"] == 1 and a["year"] == 2025
t1 = a["tiers"][0]
assert t1["tier"] == 1 and t1["status"] == "pass" and t1["score"] == 65 and t1["max"] == 100
assert t1["categories"] == {"innovation": 20, "growth": 20, "specialisation": 25}
ids = [i["id"] for i in t1["indicators"]]
assert ids == ["ip", "rd_ratio", "growth", "debt", "field", "main_share"], ids
rd = t1["indicators"][1]
assert rd["points"] == 10 and rd["value"] == 2.5 and rd["next"] == {"value": 3, "op": ">=", "points": 15}
t2 = a["tiers"][1]
assert t2["status"] == "fail"
# R&D 250 >= 100 holds; 2.5% < 3% fails; the niche is unknown (named, not failed).
assert [f["id"] for f in t2["failed"]] == ["rd_ratio"], t2["failed"]
assert t2["failed"][0]["value"] == 2.5 and t2["failed"][0]["threshold"] == 3
assert "niche_since" in t2["missing"]
PY
}

@test "what-if (--set and pairs) changes the result and writes nothing" {
	before=$(home_digest)
	run tidu assess $U --rules rules-2022 --tier 1 --json --set 2025.rd_expense=500 ip_class1_high_value=1
	[ "$status" -eq 0 ]
	python3 -c 'import json,sys; t=json.loads(sys.argv[1])["tiers"][0]; assert t["score"] == 65 + 10 + 10, t["score"]' "$output"
	[ "$(home_digest)" = "$before" ]
	run tidu firm show $U --json
	[[ "$output" == *'"rd_expense": 250'* ]]
}

@test "a missing prior year is named, not read as 0%" {
	tidu firm set $U 2024.main_revenue= >/dev/null
	run tidu assess $U --rules rules-2022 --tier 1
	[ "$status" -eq 0 ]
	[[ "$output" == *"incomplete"* ]]
	[[ "$output" == *"Missing inputs: 2024.main_revenue"* ]]
}

@test "judgement items say how to answer them" {
	run tidu assess $U --rules rules-2026 --tier 3
	[[ "$output" == *"tidu firm set $U judge.field_fit=yes|no"* ]]
	tidu firm set $U judge.field_fit=yes >/dev/null
	run tidu assess $U --rules rules-2026 --tier 3 --json
	[[ "$output" != *'"field": "judge.field_fit"'* ]]
}

@test "the default rules are the pack in force today" {
	run tidu assess $U --json
	[ "$status" -eq 0 ]
	# Today is after 2026-04-01 on every machine this runs on.
	[[ "$output" == *'"rules": "rules-2026"'* ]]
}

@test "bad input: one line, exit 2" {
	run tidu assess $U --rules rules-1999
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"unknown rules 'rules-1999': use one of rules-2022, rules-2026"* ]]
	run tidu assess $U --year 2019
	[ "$status" -eq 2 ]
	[[ "$output" == *"has no figures for 2019"* ]]
	run tidu assess 91410100MA45A0XN82
	[ "$status" -eq 2 ]
	[[ "$output" == *"firm '91410100MA45A0XN82' is not in the store"* ]]
	run tidu assess $U --set 2025.rd_expense=lots
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	run tidu assess $U --tier 4
	[ "$status" -eq 2 ]
	run tidu assess --all $U
	[ "$status" -eq 2 ]
}

@test "--all streams one JSON object per firm; --csv is read back" {
	tidu firm add 91410105MA9K8D1Q4J --name '=HYPERLINK("x")' >/dev/null
	run tidu assess --all --json --rules rules-2022
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	python3 -c 'import json,sys; [json.loads(l) for l in sys.argv[1].splitlines()]' "$output"
	run tidu assess --all --rules rules-2022 --csv out.csv
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 firms assessed, written to 'out.csv'"* ]]
	python3 - <<'PY'
import csv
rows = list(csv.reader(open("out.csv", encoding="utf-8-sig", newline="")))
assert rows[0][:4] == ["USCC", "Name", "District", "Year"], rows[0]
byu = {r[0]: r for r in rows[1:]}
assert byu["91410100MA44A9BX8H"][1] == "郑州测试科技有限公司"
assert byu["91410100MA44A9BX8H"][4:6] == ["pass", "65"], byu["91410100MA44A9BX8H"]
assert byu["91410105MA9K8D1Q4J"][1] == "'=HYPERLINK(\"x\")"  # never a formula
PY
}

@test "tidu rules: list, show, check an edited pack with file and line" {
	run tidu rules list
	[ "$status" -eq 0 ]
	[[ "$output" == *"rules-2022  v1   2022-06-01"* ]]
	[[ "$output" == *"rules-2026"*"(in force today: the default)"* ]]
	tidu rules show rules-2022 > mine.pack
	run tidu rules check mine.pack
	[ "$status" -eq 0 ]
	[[ "$output" == *"'mine.pack' is a valid rule pack"* ]]
	line=$(grep -n 'band >= 5 => 20' mine.pack | head -1 | cut -d: -f1)
	sed -i "${line}s/=> 20/=> 25/" mine.pack
	run tidu rules check mine.pack
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"rule pack mine.pack:$line: 25 points is outside 0 to the indicator's maximum 20"* ]]
	run tidu rules show rules-1999
	[ "$status" -eq 2 ]
}
