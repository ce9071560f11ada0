#!/usr/bin/env bats
# The reserve pool (docs/pool.md): reserve lists kept by the districts'
# officers, targets set and published signed by the city, progress counted
# per tier and district. Two districts and the city through a central
# repository served by git daemon on loopback.
load helpers

setup() {
	setup_home
	CITY="$BATS_TEST_TMPDIR/city"
	A="$BATS_TEST_TMPDIR/a" # 410105 金水区
	C="$BATS_TEST_TMPDIR/c" # 410102 中原区
	URL="$BATS_TEST_TMPDIR/central.git"
	F1=$(uscc 91410105MA1J8T9H5)
	F2=$(uscc 91410105MA1J8T9J1)
	F3=$(uscc 91410102MA1J8T9K7)
}

teardown() {
	if declare -F servers_stop >/dev/null; then servers_stop; fi
}

# progress JSON TIER [DISTRICT]: "target recognised completion reserve passing"
progress() {
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
t = [t for t in d["tiers"] if t["tier"] == int(sys.argv[2])][0]
if len(sys.argv) > 3:
    t = [x for x in t["districts"] if x["district"] == sys.argv[3]][0]
c = t["completion"]
print(t["target"], t["recognised"], None if c is None else float(c), t["reserve"], t["passing"])' "$@"
}

# report_matches DOM JSON [DISTRICT]: the report's targets table (as Chromium
# rendered it) holds the numbers of pool targets --json, tier by tier.
report_matches() {
	python3 - "$@" <<'PY'
import json, re, sys
from html.parser import HTMLParser

class T(HTMLParser):
    def __init__(self):
        super().__init__(); self.on = False; self.rows = []; self.cell = None
    def handle_starttag(self, tag, a):
        if tag == "table" and ("class", "targets") in a: self.on = True
        elif self.on and tag == "tr": self.rows.append([])
        elif self.on and tag == "td": self.cell = ""
    def handle_endtag(self, tag):
        if tag == "table": self.on = False
        elif self.on and tag == "td":
            self.rows[-1].append(self.cell.strip()); self.cell = None
    def handle_data(self, d):
        if self.cell is not None: self.cell += d

t = T(); t.feed(open(sys.argv[1], encoding="utf-8").read())
rows = {int(re.search(r"\d", r[0]).group()): r[1:] for r in t.rows if r}
want = json.loads(sys.argv[2])
assert sorted(rows) == [1, 2, 3], rows
for tier in want["tiers"]:
    p = tier
    if len(sys.argv) > 3:
        p = [d for d in tier["districts"] if d["district"] == sys.argv[3]]
        p = p[0] if p else {"target": None, "recognised": 0, "completion": None,
                             "reserve": 0, "passing": 0}
    num = lambda v: "—" if v is None else str(v)
    c = p["completion"]
    exp = [num(p["target"]), num(p["recognised"]),
           "—" if c is None else "%.1f%%" % c, num(p["reserve"]), num(p["passing"])]
    assert rows[tier["tier"]] == exp, (tier["tier"], rows[tier["tier"]], exp)
PY
}

@test "a firm joins, moves and leaves a reserve list; each change is in the firm's fields" {
	init_store
	add_assess_firm "$F1" 金水测试一
	tidu firm add "$F2" --name 金水测试二 >/dev/null
	run tidu pool add "$F1" --tier 1 --officer 李强 --reason 测评接近标准
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"added to the tier 1 reserve list"* ]]
	tidu pool add "$F2" --tier 1 >/dev/null
	run tidu pool list --tier 1 --json
	echo "$output"
	[ "$status" -eq 0 ]
	python3 -c '
import json, sys, datetime
v = json.loads(sys.argv[1])
assert [e["uscc"] for e in v] == [sys.argv[2], sys.argv[3]], v   # F1 has figures: it scores
assert v[0]["officer"] == "李强" and v[0]["reason"] == "测评接近标准", v[0]
assert v[0]["since"] == datetime.date.today().isoformat(), v[0]
assert v[0]["score"] == 65 and v[0]["status"] == "pass", v[0]
assert v[0]["top_deduction"] == "IP related to the main product" and v[0]["top_deduction_points"] == 10, v[0]
assert v[1]["status"] == "incomplete" and v[1]["missing"] > 0, v[1]' "$output" "$F1" "$F2"
	run tidu pool list --tier 1
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 firms on the tier 1 reserve list"* ]]
	[[ "$output" == *金水测试一* ]]
	# exports: CSV with a BOM, XLSX read back by openpyxl, one sheet per tier
	run tidu pool list --csv pool.csv
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 firms of the reserve lists written to 'pool.csv'"* ]]
	head -c 3 pool.csv | od -An -tx1 | grep -q 'ef bb bf'
	grep -q "^$F1,金水测试一,Jinshui District,1,李强," pool.csv
	LANG=zh_CN.UTF-8 run tidu pool list --xlsx pool.xlsx
	[ "$status" -eq 0 ]
	/usr/bin/python3 -c '
import openpyxl, sys, datetime
wb = openpyxl.load_workbook("pool.xlsx")
assert len(wb.sheetnames) == 3 and "小巨人" in wb.sheetnames[0], wb.sheetnames
ws = wb.worksheets[2]
assert ws.freeze_panes == "A2", ws.freeze_panes
rows = [[c.value for c in r] for r in ws.iter_rows()]
assert rows[0][0] == "统一社会信用代码" and rows[0][1] == "企业名称", rows[0]
assert rows[1][0] == sys.argv[1] and rows[1][1] == "金水测试一" and rows[1][2] == "金水区", rows[1]
assert rows[1][3] == 1 and isinstance(rows[1][8], (int, float)) and rows[1][8] == 65, rows[1]
assert isinstance(rows[1][5], datetime.datetime), rows[1]
assert len(rows) == 3 and wb.worksheets[0].max_row == 1, rows' "$F1"
	run tidu pool list --xlsx nodir/x.xlsx
	[ "$status" -eq 2 ]
	[[ "$output" == *"cannot write 'nodir/x.xlsx'"* ]]
	[ ! -e nodir ]
	run tidu pool list --tier 1 --json --csv x.csv
	[ "$status" -eq 2 ]
	[[ "$output" == *"one at a time"* ]]
	run tidu pool add "$F1" --tier 2
	[ "$status" -eq 0 ]
	[[ "$output" == *"moved from the tier 1 reserve list to tier 2"* ]]
	[ "$(tidu firm show "$F1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["reserve_tier"])')" = 2 ]
	run tidu pool remove "$F1" --reason 已认定
	[ "$status" -eq 0 ]
	[[ "$output" == *"taken off the tier 2 reserve list"* ]]
	tidu firm show "$F1" --json | python3 -c '
import json, sys
f = json.load(sys.stdin)
assert f["reserve_tier"] == 0 and f["reserve_left_reason"] == "已认定" and f["reserve_left"], f'
	run tidu pool list --tier 2
	[ "$status" -eq 0 ]
	[[ "$output" == *"is empty"* ]]
}

@test "bad input to the pool: one line, exit 2, nothing changed" {
	init_store
	tidu firm add "$F1" --name 金水测试一 >/dev/null
	tidu pool add "$F1" --tier 1 >/dev/null
	before=$(home_digest)
	run tidu pool add "$F1" --tier 4
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid tier '4'"* ]]
	[ "${#lines[@]}" -eq 1 ]
	run tidu pool add "$F1" --tier 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"on the tier 1 reserve list already"* ]]
	[ "${#lines[@]}" -eq 1 ]
	run tidu pool remove "$F2" --reason x
	[ "$status" -eq 2 ]
	[[ "$output" == *"is not in the store"* ]]
	tidu firm add "$F2" --name 金水测试二 >/dev/null
	before=$(home_digest)
	run tidu pool remove "$F2" --reason x
	[ "$status" -eq 2 ]
	[[ "$output" == *"is on no reserve list"* ]]
	[ "${#lines[@]}" -eq 1 ]
	run tidu pool remove "$F1"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--reason"* ]]
	run tidu pool list --tier 1 --district 999999
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown district '999999'"* ]]
	run tidu pool target set --year 2025 --tier 3 5
	[ "$status" -eq 2 ]
	[[ "$output" == *"targets are set on the city's store"* ]]
	[ "$(home_digest)" = "$before" ]
}

@test "the city's targets: bad values refused, nothing stored" {
	tidu init --district 410100 --officer 市局 --role city >/dev/null
	before=$(home_digest)
	run tidu pool target set --year 2025 --tier 3 -- -1
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid target '-1'"* ]]
	run tidu pool target set --year 2025 --tier 3 --district 419999 4
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown district '419999'"* ]]
	run tidu pool target set --year 2025 --tier 0 4
	[ "$status" -eq 2 ]
	run tidu pool target set --year 1800 --tier 3 4
	[ "$status" -eq 2 ]
	[ "$(home_digest)" = "$before" ]
	run tidu pool targets --year 2025 --json
	[ "$status" -eq 0 ]
	[ "$(progress "$output" 3)" = "None 0 None 0 0" ]
}

@test "over git daemon: targets set on the city reach each district; progress counted by hand" {
	. "$BATS_TEST_DIRNAME/../servers/servers.bash"
	SRV="$BATS_TEST_TMPDIR/srv"
	mkdir -p "$SRV"
	central_repo "$SRV" central.git
	git_daemon_start "$SRV"
	URL="$GIT_DAEMON_URL/central.git"
	network
	on "$CITY" pool target set --year 2025 --tier 3 20 >/dev/null
	on "$CITY" pool target set --year 2025 --tier 3 --district 410105 4 >/dev/null
	on "$CITY" pool target set --year 2025 --tier 3 --district 410102 2 >/dev/null
	on "$CITY" pool target set --year 2025 --tier 1 --district 410105 10 >/dev/null
	# 金水区: F1 recognised tier 3 in 2025, F2 on the tier 3 list and passing tier 1 figures
	TIDU_HOME=$A tidu firm add "$F1" --name 金水一 tier=3 tier_year=2025 >/dev/null
	TIDU_HOME=$A add_assess_firm "$F2" 金水二
	on "$A" pool add "$F2" --tier 1 --officer 王芳 >/dev/null
	# 中原区: F3 recognised tier 3 in 2024 (not this year's), on the tier 3 list
	TIDU_HOME=$C tidu firm add "$F3" --name 中原三 tier=3 tier_year=2024 >/dev/null
	on "$C" pool add "$F3" --tier 3 --reason 已获专精特新 >/dev/null
	run on "$CITY" sync --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"targets_published": 4'* ]]
	git --git-dir="$SRV/central.git" show refs/heads/city/targets:targets.json |
		grep -q '"format": "tidu-targets"'
	for h in "$A" "$C"; do
		run on "$h" sync --json
		echo "$output"
		[ "$status" -eq 0 ]
	done
	on "$CITY" sync >/dev/null
	run on "$CITY" pool targets --year 2025 --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(progress "$output" 3)" = "20 1 5.0 1 0" ]
	[ "$(progress "$output" 3 410105)" = "4 1 25.0 0 0" ]
	[ "$(progress "$output" 3 410102)" = "2 0 0.0 1 0" ]
	[ "$(progress "$output" 1 410105)" = "10 0 0.0 1 1" ]
	# ranked by completion: 金水区 first
	python3 -c '
import json, sys
t = [t for t in json.loads(sys.argv[1])["tiers"] if t["tier"] == 3][0]
assert [d["district"] for d in t["districts"]] == ["410105", "410102"], t' "$output"
	# the report: rendered by Chromium, its targets table equals pool targets --json
	TARGETS=$output
	run on "$CITY" pool report --year 2025 --out "$BATS_TEST_TMPDIR/r.html"
	echo "$output"
	[ "$status" -eq 0 ]
	chromium_run --screenshot="$BATS_TEST_TMPDIR/r.png" --window-size=1240,1754 r.html
	[ -s "$BATS_TEST_TMPDIR/r.png" ]
	chromium_run --dump-dom r.html >"$BATS_TEST_TMPDIR/dom.html"
	no_console_errors
	report_matches "$BATS_TEST_TMPDIR/dom.html" "$TARGETS"
	grep -q 'Zhongyuan District' "$BATS_TEST_TMPDIR/dom.html"
	! grep -Eq '<(script|link|img)[ >]|https?://' "$BATS_TEST_TMPDIR/r.html"
	run on "$CITY" pool report --year 2025 --district 410105 --out "$BATS_TEST_TMPDIR/d.html"
	[ "$status" -eq 0 ]
	chromium_run --dump-dom d.html >"$BATS_TEST_TMPDIR/ddom.html"
	report_matches "$BATS_TEST_TMPDIR/ddom.html" "$TARGETS" 410105
	# each district sees its own target and counts
	run on "$A" pool targets --year 2025 --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(progress "$output" 3)" = "4 1 25.0 0 0" ]
	[[ "$output" != *410102* ]]
	run on "$C" pool targets --year 2025 --json
	[ "$(progress "$output" 3)" = "2 0 0.0 1 0" ]
	[[ "$output" != *410105* ]]
	run on "$C" pool targets --year 2025
	[ "$status" -eq 0 ]
	[[ "$output" == *"Zhongyuan District"* ]]
	LANG=zh_CN.UTF-8 run on "$C" pool targets --year 2025
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *中原区* ]]
	# the city's reserve list holds the districts' firms, and so does its workbook
	run on "$CITY" pool list --tier 3 --json
	[[ "$output" == *"$F3"* && "$output" == *已获专精特新* ]]
	LANG=zh_CN.UTF-8 run on "$CITY" pool list --xlsx "$BATS_TEST_TMPDIR/city.xlsx"
	[ "$status" -eq 0 ]
	/usr/bin/python3 - "$BATS_TEST_TMPDIR/city.xlsx" "$F2" "$F3" <<'PY'
import openpyxl, sys
wb = openpyxl.load_workbook(sys.argv[1])
rows = {ws.title: [[c.value for c in r] for r in ws.iter_rows()][1:] for ws in wb.worksheets}
got = sorted((r[0], r[2], r[3]) for v in rows.values() for r in v)
assert got == sorted([(sys.argv[2], "金水区", 1), (sys.argv[3], "中原区", 3)]), got
assert [r[0] for r in rows[wb.sheetnames[0]]] == [sys.argv[3]], rows    # tier 3 first
PY
}

@test "pool suggest, check, history and due" {
	init_store
	add_assess_firm "$F1" 金水测试一        # passes tier 1 (65 points)
	tidu firm add "$F2" --name 金水测试二 tier=1 tier_year=2024 >/dev/null   # recognised at tier 1
	tidu firm set "$F2" 2021.revenue=100 >/dev/null
	run tidu pool suggest --tier 1 --json
	echo "$output"
	[ "$status" -eq 0 ]
	python3 -c '
import json, sys
v = json.loads(sys.argv[1])
assert [e["uscc"] for e in v] == [sys.argv[2]], v     # not F2: recognised at tier 1 already
assert v[0]["status"] == "pass" and v[0]["tier"] == 1, v' "$output" "$F1"
	run tidu pool suggest --tier 1 --within -3
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid --within '-3'"* ]]
	tidu pool add "$F1" --tier 1 --reason 测评接近 >/dev/null
	run tidu pool suggest --tier 1 --json
	[ "$output" = "[]" ]
	# check: F1 has no officer; F2 on a list with figures of 2021 only is stale
	tidu pool add "$F2" --tier 2 --officer 李强 >/dev/null
	run tidu pool check --json
	echo "$output"
	[ "$status" -eq 0 ]
	python3 -c '
import json, sys
v = json.loads(sys.argv[1])
got = sorted((e["uscc"], e["problem"], e["detail"]) for e in v)
assert got == sorted([(sys.argv[2], "no_officer", None), (sys.argv[3], "stale", "2021")]), got' "$output" "$F1" "$F2"
	run tidu pool check
	[[ "$output" == *"no assigned officer"* && "$output" == *"2 problems in the pool"* ]]
	# history: every change of the firm's place, old -> new, in order
	tidu pool add "$F1" --tier 2 --officer 王芳 >/dev/null
	tidu pool remove "$F1" --reason 已认定 >/dev/null
	run tidu pool history "$F1" --json
	echo "$output"
	[ "$status" -eq 0 ]
	python3 -c '
import json, sys
v = json.loads(sys.argv[1])
tiers = [(e["old"], e["value"]) for e in v if e["field"] == "reserve_tier"]
assert tiers == [(None, "1"), ("1", "2"), ("2", "0")], tiers   # off the lists: tier 0
assert [e["value"] for e in v if e["field"] == "reserve_left_reason"] == ["已认定"], v
assert all(e["when"] and e["device"] for e in v), v' "$output"
	run tidu pool history "$F3"
	[ "$status" -eq 2 ]
	[[ "$output" == *"is not in the store"* ]]
	# due: the latest visit's follow-up date, unless a later visit answered it
	tidu visit add "$F1" --date 2026-01-10 follow_up_due=2026-02-01 >/dev/null
	tidu visit add "$F2" --date 2026-01-05 follow_up_due=2099-01-01 >/dev/null
	run tidu pool due --json
	echo "$output"
	python3 -c '
import json, sys
v = json.loads(sys.argv[1])
assert [(e["uscc"], e["due"], e["overdue"]) for e in v] == [(sys.argv[3], "2099-01-01", False), (sys.argv[2], "2026-02-01", True)], v' "$output" "$F1" "$F2"
	run tidu pool due --overdue
	[[ "$output" == *"$F1"* && "$output" != *"$F2"* && "$output" == *overdue* ]]
	tidu visit add "$F1" --date 2026-02-03 >/dev/null   # the follow-up visit
	run tidu pool due --overdue --json
	[ "$output" = "[]" ]
	run tidu pool due --district 999999
	[ "$status" -eq 2 ]
}

@test "pool review: visits of the year, the assessment then and now rebuilt from the change log" {
	export TIDU_FAKE_NOW_MS=1717200000000 # 2024-06-01
	init_store
	tidu firm add "$F1" --name 金水测试一 >/dev/null
	tidu pool add "$F1" --tier 1 --officer 王芳 >/dev/null
	tidu firm add "$F2" --name 金水测试二 >/dev/null
	tidu pool add "$F2" --tier 2 --officer 李强 >/dev/null
	tidu visit add "$F1" --date 2024-06-01 >/dev/null
	TIDU_FAKE_NOW_MS=1740787200000 tidu pool remove "$F2" --reason 已认定 >/dev/null # 2025-03-01
	# 2025-05-01: the figures that make F1 pass tier 1 (65 points)
	TIDU_FAKE_NOW_MS=1746057600000 tidu firm set "$F1" ip_class1=2 ip_class1_self=0 \
		ip_class1_high_value=0 ip_class2=1 product_field=other high_tech_title=0 \
		st_award=none rd_institution=none 2023.equity_financing=0 2024.equity_financing=0 \
		2025.equity_financing=0 2024.revenue=9000 2024.main_revenue=8000 \
		2025.revenue=10000 2025.main_revenue=8800 2025.rd_expense=250 \
		2025.total_assets=10000 2025.total_liabilities=6000 >/dev/null
	TIDU_FAKE_NOW_MS=1746057600000 tidu visit add "$F1" --date 2025-05-01 >/dev/null
	TIDU_FAKE_NOW_MS=1756684800000 tidu visit add "$F1" --date 2025-05-20 >/dev/null
	export TIDU_FAKE_NOW_MS=1756684800000 # 2025-09-01
	run tidu pool review --year 2025 --json
	echo "$output"
	[ "$status" -eq 0 ]
	python3 - "$output" "$F1" "$F2" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["year"] == 2025, d
f = {e["uscc"]: e for e in d["firms"]}
assert sorted(f) == sorted(sys.argv[2:4]), f
a, b = f[sys.argv[2]], f[sys.argv[3]]
assert (a["tier_then"], a["tier_now"], a["visits"], a["last_visit"]) == (1, 1, 2, "2025-05-20"), a
assert a["then"]["status"] == "incomplete" and a["then"]["missing"] == 14, a
assert a["now"]["status"] == "pass" and a["now"]["score"] == 65, a
assert "ip_class1" in a["changed"] and "2025.revenue" in a["changed"], a
assert "name" not in a["changed"] and a["changes"] == 4, a   # firm set: the firm, 3 years
assert (b["tier_then"], b["tier_now"], b["tier"]) == (2, None, 2), b
assert (b["left"], b["left_reason"], b["visits"]) == ("2025-03-01", "已认定", 0), b
PY
	# 2024 looked back on from 2025: its end is before the figures came
	run tidu pool review --year 2024 --json
	echo "$output"
	python3 - "$output" "$F1" <<'PY'
import json, sys
f = {e["uscc"]: e for e in json.loads(sys.argv[1])["firms"]}
a = f[sys.argv[2]]
assert (a["tier_then"], a["tier_now"], a["visits"]) == (None, 1, 1), a
assert a["now"]["status"] == "incomplete" and "2025.revenue" not in a["changed"], a
assert "name" in a["changed"], a
PY
	run tidu pool review --year 2025
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"left the list on 2025-03-01: 已认定"* ]]
	[[ "$output" == *"2 firms of the lists in 2025; 1 not visited in the year"* ]]
	[[ "$output" == *"Science and technology award, figures of 2023, 2024, 2025 (10)"* ]]
	LANG=zh_CN.UTF-8 run tidu pool review --year 2025
	[ "$status" -eq 0 ]
	[[ "$output" == *金水测试一* ]]
	run tidu pool review --year 1999
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid year '1999'"* ]]
	run tidu pool review --district 999999
	[ "$status" -eq 2 ]
	run tidu pool review --year 2023
	[[ "$output" == *"No firm was on a reserve list in 2023."* ]]
}

@test "long pool operations draw a progress line on a terminal's stderr, and only there" {
	init_store
	add_assess_firm "$F1" 金水测试一
	tidu pool add "$F1" --tier 1 >/dev/null
	# stderr on a pty (stdout a pipe): the line is drawn, then erased
	python3 - "$TIDU" <<'PY'
import os, subprocess, sys
for args in (["pool", "list", "--tier", "1"], ["pool", "review"], ["pool", "suggest", "--tier", "2"]):
    m, s = os.openpty()
    p = subprocess.run([sys.argv[1]] + args, stdout=subprocess.PIPE, stderr=s, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, TIDU_PROGRESS_DELAY_MS="0"))
    os.close(s)
    err = b""
    while True:
        try:
            d = os.read(m, 4096)
        except OSError:
            break
        if not d:
            break
        err += d
    os.close(m)
    assert p.returncode == 0, (args, p.returncode, err)
    want = {"list": b"Assessing the reserve list:   0% (0/1)", "review": b"Reviewing the reserve firms:",
            "suggest": b"Assessing the firms: 1"}[args[1]]
    assert b"\r\x1b[K" + want in err, (args, err)
    assert err.endswith(b"\r\x1b[K"), (args, err)     # erased before the output
    assert b"\r" not in p.stdout and b"\x1b" not in p.stdout, (args, p.stdout)
    print(args, err)
PY
	run tidu pool list --tier 1
	[ "$status" -eq 0 ]
	[[ "$output" != *Assessing* && "$output" != *$'\r'* ]]
}

@test "recognitions from the province's published list: firm import --existing" {
	init_store
	tidu firm add "$F1" --name 金水测试一 >/dev/null
	tidu pool add "$F1" --tier 2 >/dev/null
	printf '统一社会信用代码,当前认定层级,认定年份\n%s,2,2025\n%s,3,2025\n' "$F1" "$F3" >list.csv
	run tidu firm import list.csv
	[ "$status" -eq 2 ]   # F3 is not stored (and has no name): all or nothing
	[[ "$output" == *"list.csv:3:"* ]]
	[ "$(tidu firm show "$F1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tier"])')" = None ]
	run tidu firm import list.csv --existing
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Imported 2 rows from list.csv (UTF-8): 0 firms added, 1 updated"* ]]
	[[ "$output" == *"1 rows skipped: their firms are not in this store"* ]]
	run tidu pool targets --year 2025 --json
	[ "$(progress "$output" 2)" = "None 1 None 1 0" ]
	run tidu firm list --json
	[[ "$output" != *"$F3"* ]]
	# a bad header: one line naming the file and the column
	printf 'uscc,梯度\n%s,2\n' "$F1" >bad.csv
	run tidu firm import bad.csv --existing
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"bad.csv"*"梯度"* ]]
}
