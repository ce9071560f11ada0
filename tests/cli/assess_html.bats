#!/usr/bin/env bats
# tidu assess USCC --html FILE: the printed report. Written in Chinese
# (LANG=zh_CN.UTF-8, as an officer runs it), checked as text, then rendered
# by headless Chromium as a browser would print it: A4, one or two pages,
# CJK as real text with a font, a screenshot, no console error. Chromium,
# fonts-noto-cjk and poppler-utils come from tools/deps.

load helpers

U=91410100MA44A9BX8H
NAME=郑州测试科技有限公司
# 2026-05-01 12:00 UTC: rules-2026 is in force, and the report has a known date.
NOW=1777636800000

setup() {
	setup_home
	init_store >/dev/null
	add_assess_firm $U "$NAME"
}

# report FILE [ARGS]: the Chinese report of $U.
report() {
	local f=$1
	shift
	env LANG=zh_CN.UTF-8 TIDU_FAKE_NOW_MS=$NOW "$TIDU" assess $U --html "$f" "$@" </dev/null
}

# absent ERE FILE: FILE does not match (a bare `! grep` would not fail a test).
absent() {
	if grep -qiE "$1" "$2"; then
		echo "'$2' matches '$1':" >&2
		grep -iE "$1" "$2" >&2
		return 1
	fi
}


@test "the report holds the firm, the rules, each tier and the notes, in Chinese" {
	run report r.html
	[ "$status" -eq 0 ]
	[ "$output" = "报告已写入“r.html”" ]
	grep -qF '<html lang="zh-CN">' r.html
	grep -qF '@page { size: A4; margin: 15mm }' r.html
	grep -qF '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif' r.html
	grep -qF "<td>$NAME</td>" r.html
	grep -qF "<td>$U</td>" r.html
	grep -qF 'rules-2026</code> 版本 1' r.html
	grep -qF '优质中小企业梯度培育管理办法' r.html
	grep -qF '2025(最近一个有营业收入数据的年度)' r.html
	grep -qF '<th>报告日期</th><td>2026-05-01</td>' r.html
	# Tier 1: status, score, categories, the indicator table and its chart.
	grep -qF '第1层 创新型中小企业<span class="status pass">通过</span>' r.html
	grep -qF '65 / 100(及格线:60)' r.html
	grep -qF '创新能力 <b>20</b>/40 (最低 20 分)' r.html
	grep -qF '<td>上年度研发费用占营业收入比重</td><td class="n">10/20</td><td class="n">2.5%</td><td>&gt;= 3% → 15 (+5)</td>' r.html
	[ "$(grep -c '<rect class="pts" x="400"' r.html)" -eq 6 ]
	# Tier 3: failed conditions with value and threshold; judgement items.
	grep -qF '<td class="n">88</td><td class="n">&gt;= 90</td>' r.html
	grep -qF '是否在产业链中发挥关键作用(链)? <code>judge.chain_role</code>' r.html
	# Missing inputs by label and key; the pack's interpretations.
	grep -qF '从事细分市场起始年份 <code>niche_since</code>' r.html
	grep -qF '<h3>口径说明</h3>' r.html
	grep -qF '第一层仍按2022年评价表' r.html
	# Self-contained: nothing to load, nothing to run.
	absent '<script|<link|<img|<iframe|src=|href=|url\(|@import|@font-face|https?:' r.html
}

@test "text from the store is HTML-escaped, never markup" {
	H=91410105MA9K8D1Q4J
	tidu firm add $H --name '<script>alert(1)</script>&"'"'" >/dev/null
	tidu firm set $H 2025.revenue=100 >/dev/null
	run env LANG=zh_CN.UTF-8 "$TIDU" assess $H --html x.html
	[ "$status" -eq 0 ]
	grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;' x.html
	absent '<script' x.html
	absent 'alert\(1\)</script>' x.html
	absent '&"'"'" x.html
	# Parsed as a browser does: no script element, and the name reads back whole.
	python3 - x.html <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.cells = set(), []
    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
    def handle_data(self, data):
        self.cells.append(data)
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
assert "script" not in p.tags, p.tags
assert """<script>alert(1)</script>&"'""" in p.cells, p.cells[:20]
PY
	chromium_run --screenshot="$BATS_TEST_TMPDIR/x.png" --window-size=1240,1754 x.html
	[ -s x.png ]
	no_console_errors
}

@test "Chromium prints it on one or two A4 pages, CJK as text; a screenshot; no console error" {
	report r.html >/dev/null
	report r22.html --rules rules-2022 >/dev/null   # the longest: 6 + 13 indicators
	chromium_run --screenshot="$BATS_TEST_TMPDIR/shot.png" --window-size=1240,1754 r.html
	chromium_run --print-to-pdf="$BATS_TEST_TMPDIR/r.pdf" --no-pdf-header-footer r.html
	chromium_run --print-to-pdf="$BATS_TEST_TMPDIR/r22.pdf" --no-pdf-header-footer r22.html
	for pdf in r.pdf r22.pdf; do
		run pdfinfo "$pdf"
		[ "$status" -eq 0 ]
		[[ "$output" == *"(A4)"* ]]
		pages=$(awk '/^Pages:/ {print $2}' <<<"$output")
		echo "$pdf: $pages pages"
		[ "$pages" -ge 1 ] && [ "$pages" -le 2 ]
		# Text in the PDF, not boxes: the glyphs came from a CJK font.
		run pdftotext -enc UTF-8 "$pdf" -
		[ "$status" -eq 0 ]
		[[ "$output" == *"$NAME"* ]]
		[[ "$output" == *"创新型中小企业"* ]]
	done
	[ -f shot.png ]
	[ "$(stat -c %s shot.png)" -gt 20000 ]
	no_console_errors
}

@test "--html is for one firm's recorded data; a bad FILE is exit 2 and writes nothing" {
	run tidu assess --all --html r.html
	[ "$status" -eq 2 ]
	[[ "$output" == *"--html is for one firm, not --all"* ]]
	run tidu assess $U --html r.html --json
	[ "$status" -eq 2 ]
	[[ "$output" == *"give --html or --json, not both"* ]]
	run tidu assess $U --html r.html 2025.rd_expense=800
	[ "$status" -eq 2 ]
	run tidu assess $U --html r.html --set 2025.rd_expense=800
	[ "$status" -eq 2 ]
	[[ "$output" == *"drop --set and KEY=VALUE"* ]]
	[ ! -e r.html ]
	mkdir d
	run tidu assess $U --html d
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"'d' is not a regular file"* ]]
	[ -z "$(ls -A d)" ]
	run tidu assess $U --html missing/r.html
	[ "$status" -eq 2 ]
	[ ! -e missing ]
}

@test "--tier and --rules shape the report; English under LANG=C" {
	run tidu assess $U --rules rules-2022 --tier 2 --html r.html
	[ "$status" -eq 0 ]
	[ "$output" = "report written to 'r.html'" ]
	grep -qF '<html lang="en">' r.html
	grep -qF 'rules-2022</code> version 1' r.html
	grep -qF 'Tier 2, ' r.html
	absent 'Tier 1, ' r.html
	absent 'Tier 3, ' r.html
	grep -qF '<h3>Conditions not met</h3>' r.html
	[ "$(grep -c '<rect class="pts" x="400"' r.html)" -eq 13 ]
}
