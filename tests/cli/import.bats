#!/usr/bin/env bats
# firm import: encodings, headers, all-or-nothing.
load helpers

setup() {
	setup_home
	init_store >/dev/null
	A=$(uscc 91410105MA1J8T9H5)
	B=$(uscc 91410102MA1EUXG90)
	C=$(uscc 91410122MA1JPLF21)
}

@test "import with dictionary keys, UTF-8 without BOM" {
	printf 'uscc,name,employees,2025.revenue\n%s,甲,10,100.5\n%s,"乙, 有限公司",20,\n' "$A" "$B" > f.csv
	run tidu firm import f.csv
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 firms added"* ]]
	run tidu firm show "$B" --json
	[[ "$output" == *'"name": "乙, 有限公司"'* ]]
	# Importing again updates, and an empty cell leaves the field alone.
	printf 'uscc,name,employees\n%s,甲,\n' "$A" > g.csv
	run tidu firm import g.csv
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 updated"* ]]
	run tidu firm show "$A" --json
	[[ "$output" == *'"employees": 10'* ]]
}

@test "import with Chinese labels, UTF-8 with BOM and CRLF" {
	printf '\xef\xbb\xbf统一社会信用代码,企业名称,从业人员数,2025年营业收入 (万元)\r\n%s,郑州丙公司,5,9\r\n' "$C" > f.csv
	run tidu firm import f.csv
	[ "$status" -eq 0 ]
	run tidu firm show "$C" --json
	[[ "$output" == *'"name": "郑州丙公司"'* ]]
	[[ "$output" == *'"revenue": 9'* ]]
}

@test "import of a GBK (GB18030) file as Excel and WPS save it" {
	printf '统一社会信用代码,企业名称,主导产品\r\n%s,郑州丁公司,超硬材料\r\n' "$A" | iconv -f UTF-8 -t GBK > gbk.csv
	run tidu firm import gbk.csv
	[ "$status" -eq 0 ]
	[[ "$output" == *GB18030* ]]
	run tidu firm show "$A" --json
	[[ "$output" == *'"name": "郑州丁公司"'* ]]
	[[ "$output" == *'"main_product": "超硬材料"'* ]]
}

@test "one bad row rejects the file; every bad row is reported with line and field" {
	tidu firm add "$C" --name 已有
	before=$(tidu export json)
	printf 'uscc,name,employees,founded\n%s,甲,10,2020-01-01\n%s,乙,many,2020-01-01\n91410102MA1EUX9G0Q,丙,1,2020-01-01\n%s,丁,1,2020-02-30\n%s,甲又,1,2020-01-01\n' \
		"$A" "$B" "$C" "$A" > bad.csv
	run tidu firm import bad.csv
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.csv:3:"*many*employees* ]]
	[[ "$output" == *"bad.csv:4:"* ]]
	[[ "$output" == *"bad.csv:5:"*founded* ]]
	[[ "$output" == *"bad.csv:6:"*"line 2"* ]]
	[[ "$output" != *"bad.csv:2:"* ]]
	[ "$(tidu export json)" = "$before" ]
}

@test "unknown columns, a missing uscc column, ragged rows and binary junk are refused" {
	before=$(tidu export json)
	printf 'uscc,name,shoe_size\n%s,甲,42\n' "$A" > a.csv
	run tidu firm import a.csv
	[ "$status" -eq 2 ]
	[[ "$output" == *shoe_size* ]]
	printf 'name\n甲\n' > b.csv
	run tidu firm import b.csv
	[ "$status" -eq 2 ]
	[[ "$output" == *uscc* ]]
	printf 'uscc,name\n%s,甲,extra\n' "$A" > c.csv
	run tidu firm import c.csv
	[ "$status" -eq 2 ]
	[[ "$output" == *"c.csv:2:"* ]]
	head -c 3000 /dev/urandom > d.csv
	run tidu firm import d.csv
	[ "$status" -eq 2 ]
	run tidu firm import no-such-file.csv
	[ "$status" -eq 2 ]
	[ "$(tidu export json)" = "$before" ]
}
