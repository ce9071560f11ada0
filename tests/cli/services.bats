#!/usr/bin/env bats
# Cultivation services (docs/services.md): the city's institutions published
# signed, matching a firm with them, referrals and events, over git daemon
# on loopback with two districts and the city.
load helpers

setup() {
	setup_home
	CITY="$BATS_TEST_TMPDIR/city"
	A="$BATS_TEST_TMPDIR/a" # 410105 金水区
	C="$BATS_TEST_TMPDIR/c" # 410102 中原区
	F1=$(uscc 91410105MA1J8T9H5)
	F3=$(uscc 91410102MA1J8T9K7)
	cat >"$BATS_TEST_TMPDIR/inst.csv" <<-'EOF'
	名称,类型,服务需求,服务区县,服务层级,联系方式
	金水知识产权服务中心,IP agency,ip,410105,,0371-1234567
	中原专利代理,ip_agency,ip,410102,,0371-2222222
	中原银行,bank,financing,,1 2 3,王经理
	河南省检测研究院,certification,certification、rd,,,0371-7654321
	EOF
}

teardown() {
	if declare -F servers_stop >/dev/null; then servers_stop; fi
}

count() { python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'; }

@test "over git daemon: institutions published, a weak-IP firm matched, its referral and event reach the city" {
	. "$BATS_TEST_DIRNAME/../servers/servers.bash"
	SRV="$BATS_TEST_TMPDIR/srv"
	mkdir -p "$SRV"
	central_repo "$SRV" central.git
	git_daemon_start "$SRV"
	URL="$GIT_DAEMON_URL/central.git"
	network
	run on "$CITY" service import "$BATS_TEST_TMPDIR/inst.csv"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"4 service institutions imported"* ]]
	run on "$CITY" sync --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"services_published": 4'* ]]
	git --git-dir="$SRV/central.git" show refs/heads/city/services:services.json |
		grep -q '"format": "tidu-services"'
	run on "$A" sync --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"services_taken": 4'* ]]
	[ "$(on "$A" service list --json | count)" = 4 ]
	[ "$(on "$A" service list --need ip --district 410105 --json | count)" = 1 ]
	# on site: the firm, its figures (tier 1 loses 10 points on IP), a visit finding weak IP
	TIDU_HOME=$A add_assess_firm "$F1" 金水一
	on "$A" visit add "$F1" problems=weak_ip needs=financing >/dev/null
	run on "$A" service match "$F1" --json
	echo "$output"
	[ "$status" -eq 0 ]
	python3 - "$output" <<'PY'
import json, sys
m = json.loads(sys.argv[1])
p = m["proposals"]
assert m["tier"] == 1, m
assert p[0]["need"] == "ip" and p[0]["institution"]["name"] == "金水知识产权服务中心", p[0]
assert "weak IP" in p[0]["reasons"] and "loses points on IP" in p[0]["reasons"], p[0]
assert "中原专利代理" not in [x["institution"]["name"] for x in p], p     # serves 410102 only
assert [x["institution"]["name"] for x in p if x["need"] == "financing"] == ["中原银行"], p
PY
	run on "$A" service match "$F1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"1.  IP"*"金水知识产权服务中心"* ]]
	LANG=zh_CN.UTF-8 run on "$A" service match "$F1"
	[[ "$output" == *"知识产权"*"金水知识产权服务中心"* && "$output" == *"理由"* ]]
	# the referral and the event
	inst=$(on "$A" service list --need ip --district 410105 --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
	run on "$A" service refer "$F1" "$inst" --need ip --note 先做专利布局
	[ "$status" -eq 0 ]
	ref=$output
	ev=$(on "$A" event add --kind training-basic --date 2026-11-20 --title 普惠性培训第三期 --firms "$F1")
	[ -n "$ev" ]
	on "$A" sync >/dev/null
	on "$CITY" sync >/dev/null
	run on "$CITY" service referrals --json
	echo "$output"
	python3 - "$output" "$ref" "$F1" <<'PY'
import json, sys
v = json.loads(sys.argv[1])
assert [(r["id"], r["uscc"], r["district"], r["need"], r["outcome"], r["institution_name"]) for r in v] == \
    [(sys.argv[2], sys.argv[3], "410105", "ip", "pending", "金水知识产权服务中心")], v
assert v[0]["note"] == "先做专利布局" and v[0]["officer"] == "王芳", v
PY
	run on "$CITY" event list --json
	echo "$output"
	python3 - "$output" "$ev" <<'PY'
import json, sys
v = json.loads(sys.argv[1])
assert [(e["id"], e["district"], e["kind"], e["firms"]) for e in v] == [(sys.argv[2], "410105", "training-basic", 1)], v
PY
	# the outcome, recorded at the city's desk, reaches the district
	on "$CITY" service outcome "$ref" met --note 已签约 >/dev/null
	on "$CITY" sync >/dev/null
	on "$A" sync >/dev/null
	run on "$A" service referrals --outcome met --json
	[ "$(count <<<"$output")" = 1 ]
	[[ "$output" == *已签约* ]]
	# 中原区 sees neither 金水区's referral nor its event
	on "$C" sync >/dev/null
	[ "$(on "$C" service referrals --json | count)" = 0 ]
	[ "$(on "$C" event list --json | count)" = 0 ]
}

@test "bad input to services: one line, exit 2, nothing changed" {
	init_store
	tidu firm add "$F1" --name 金水一 >/dev/null
	tidu service import "$BATS_TEST_TMPDIR/inst.csv" >/dev/null
	printf 'name,kind,needs\n好机构,bank,financing\n坏机构,pawnshop,financing\n空机构,bank,\n' >bad.csv
	run tidu service import bad.csv
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *"bad.csv:3: unknown kind 'pawnshop'"* ]]
	[[ "${lines[1]}" == *"bad.csv:4: institution '空机构' serves no need"* ]]
	[[ "${lines[2]}" == *"2 bad rows: nothing was imported"* ]]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(tidu service list --json | count)" = 4 ]
	run tidu service refer "$F1" 金水知识产权服务中心 --need nonsense
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown need 'nonsense'"* ]]
	run tidu service refer "$F1" 中原专利代理 --need ip
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"does not serve the firm's district 410105"* ]]
	run tidu service refer "$F1" 中原银行 --need ip
	[ "$status" -eq 2 ]
	[[ "$output" == *"does not serve the need 'ip'"* ]]
	run tidu service refer "$F1" 没有的机构 --need ip
	[ "$status" -eq 2 ]
	[ "$(tidu service referrals --json | count)" = 0 ]
	run tidu event add --kind training-basic --title 培训
	[ "$status" -eq 2 ]
	[[ "$output" == *"--date"* ]]
	run tidu event add --kind party --date 2026-11-01 --title 培训
	[ "$status" -eq 2 ]
	run tidu event add --kind other --date 2026-11-01 --title 培训 --firms "$F1,$F3"
	[ "$status" -eq 2 ]
	[[ "$output" == *"is not in the store"* ]]
	[ "$(tidu event list --json | count)" = 0 ]
	run tidu service outcome 01a242f0-bd32-775f-97ae-fd12d1e5158e met
	[ "$status" -eq 2 ]
	run tidu service match 91410105MA1J8T9H5X
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	# the recorded ones: pending → done
	id=$(tidu service refer "$F1" 金水知识产权服务中心 --need ip)
	run tidu service outcome "$id" finished
	[ "$status" -eq 2 ]
	tidu service outcome "$id" done >/dev/null
	[ "$(tidu service referrals --outcome done --json | count)" = 1 ]
}

@test "institutions from a workbook (as Excel and WPS save it) import like the CSV, text as it is" {
	init_store
	/usr/bin/python3 - <<'PY'
import openpyxl
wb = openpyxl.Workbook()
ws = wb.active
ws.append(["名称", "类型", "服务需求", "服务区县", "服务层级", "联系方式"])
ws.append(["金水知识产权服务中心", "知识产权服务机构", "知识产权 融资", "410105", 3, "+86 371 1234567"])
ws.append(["郑州大学技术转移中心", "university", "rd", None, None, "-zzu \"tt\", 李老师"])
wb.save("inst.xlsx")
PY
	run tidu service import inst.xlsx
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 local service institutions imported"* ]]
	run tidu service list --json
	python3 - "$output" <<'PY'
import json, sys
v = {i["name"]: i for i in json.loads(sys.argv[1])}
a = v["金水知识产权服务中心"]
assert (a["kind"], a["needs"], a["districts"], a["tiers"], a["contact"], a["origin"]) == \
    ("ip_agency", "ip financing", "410105", "3", "+86 371 1234567", "local"), a
assert v["郑州大学技术转移中心"]["contact"] == '-zzu "tt", 李老师', v
PY
	printf 'PK\003\004not a zip' >broken.xlsx
	run tidu service import broken.xlsx
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(tidu service list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ]
}
