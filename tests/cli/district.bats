#!/usr/bin/env bats
# Whose firm it is (issue 9, items 7 and 14): an officer's store files firms
# of its own district only; the city moves a firm to another district, the
# new district receives the whole firm, the old keeps its history read-only.
load helpers

setup() {
	setup_home
	CITY="$BATS_TEST_TMPDIR/city"
	A="$BATS_TEST_TMPDIR/a"     # 410105
	C="$BATS_TEST_TMPDIR/c"     # 410102
	F=$(uscc 91410105MA1J8T9H5)
	G=$(uscc 91410102MA1EUXG90)
}

mk() {
	tidu --home "$1" init --district "$2" --officer "$3" --role "${4:-officer}" >/dev/null
}

enroll() {
	mk "$CITY" 410100 市局 city
	mk "$A" 410105 王芳
	mk "$C" 410102 赵敏
	for s in A C; do
		on "${!s}" enroll request --out "req$s.json" >/dev/null
	done
	on "$CITY" admin enroll reqA.json reqC.json --yes >/dev/null
	on "$CITY" keyring export ring.json >/dev/null
	for s in A C; do
		on "${!s}" keyring import ring.json >/dev/null
	done
}

# sync_via DIR STORE...: each store seals, exports into DIR, then applies DIR.
sync_via() {
	local dir=$1 s
	shift
	for s in "$@"; do
		on "$s" changes seal >/dev/null
		on "$s" changes export "$dir" >/dev/null
	done
	for s in "$@"; do
		on "$s" changes apply "$dir" >/dev/null
	done
}

@test "an officer's store refuses a firm of another district, by add, set and import" {
	mk "$A" 410105 王芳
	before=$(TIDU_HOME=$A home_digest)
	run on "$A" firm add "$G" --name 中原乙制造 district=410102
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"$G"* && "$output" == *410102* && "$output" == *410105* ]]
	[[ "$output" == *"ask the city to move it"* ]]
	[ "$(TIDU_HOME=$A home_digest)" = "$before" ]
	on "$A" firm add "$F" --name 郑州甲科技
	run on "$A" firm set "$F" district=410102 employees=5
	[ "$status" -eq 2 ]
	[[ "$output" == *"only the city can file a firm under another district"* ]]
	run on "$A" firm show "$F" --json
	[[ "$output" == *'"district": "410105"'* && "$output" != *'"employees": 5'* ]]
	# Its own district, said aloud, is fine.
	run on "$A" firm set "$F" district=410105 employees=6
	[ "$status" -eq 0 ]
	printf 'uscc,name,district\n%s,甲,410105\n%s,乙,410102\n' "$F" "$G" > firms.csv
	run on "$A" firm import firms.csv
	[ "$status" -eq 2 ]
	[[ "$output" == *":3:"* && "$output" == *"$G"* && "$output" == *410102* ]]
	[[ "$output" == *"nothing was imported"* ]]
	run on "$A" firm show "$G"
	[ "$status" -ne 0 ]
}

@test "the city files firms under any district" {
	mk "$CITY" 410100 市局 city
	run on "$CITY" firm add "$G" --name 中原乙制造 district=410102
	[ "$status" -eq 0 ]
	run on "$CITY" firm add "$F" --name 郑州甲科技 district=410102
	[ "$status" -eq 0 ]
	# A stored firm changes district by a move, which sends it whole.
	run on "$CITY" firm set "$F" district=410105
	[ "$status" -eq 2 ]
	[[ "$output" == *"tidu firm move $F --district 410105"* ]]
	run on "$CITY" firm show "$F" --json
	[[ "$output" == *'"district": "410102"'* ]]
	printf 'uscc,name,district\n%s,甲,410105\n' "$F" > firms.csv
	run on "$CITY" firm import firms.csv
	[ "$status" -eq 2 ]
	[[ "$output" == *"tidu firm move"* ]]
	run on "$CITY" firm set "$F" district=410102 employees=3
	[ "$status" -eq 0 ]
}

@test "firm move: the city's store only, a known district, a stored firm" {
	mk "$A" 410105 王芳
	on "$A" firm add "$F" --name 郑州甲科技
	run on "$A" firm move "$F" --district 410102
	[ "$status" -eq 2 ]
	[[ "$output" == *"only the city"* ]]
	mk "$CITY" 410100 市局 city
	run on "$CITY" firm move "$F"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--district"* ]]
	run on "$CITY" firm move "$F" --district 410102
	[ "$status" -ne 0 ]
	[[ "$output" == *"$F"* && "$output" == *"not in the store"* ]]
	on "$CITY" firm add "$F" --name 郑州甲科技
	run on "$CITY" firm move "$F" --district 999999
	[ "$status" -eq 2 ]
	[[ "$output" == *999999* ]]
	run on "$CITY" firm move "$F" --district 410100
	[ "$status" -eq 2 ]
	run on "$CITY" firm move "$F" --district 410105
	[ "$status" -eq 2 ]
	[[ "$output" == *"already in district 410105"* ]]
}

@test "a moved firm: the new district gets all of it, the old keeps its history read-only" {
	enroll
	on "$A" firm add "$F" --name 郑州甲科技 main_product=传感器 employees=12 \
		2024.revenue=80 2025.revenue=100
	on "$A" visit add "$F" --note '王芳走访记录' >/dev/null
	sync_via usb "$A" "$C" "$CITY"
	run on "$CITY" firm move "$F" --district 410102
	[ "$status" -eq 0 ]
	[[ "$output" == *410105* && "$output" == *410102* ]]
	sync_via usb "$CITY" "$A" "$C"
	# The new district has the whole firm: fields, yearly figures, visits.
	on "$C" export json > c.json
	on "$CITY" export json --district 410102 > city102.json
	cmp c.json city102.json
	grep -q 传感器 c.json
	grep -q '"employees": 12' c.json
	grep -q '"revenue": 80' c.json
	grep -q '"revenue": 100' c.json
	grep -q 王芳走访记录 c.json
	# The old district keeps it, under its new district, read-only.
	run on "$A" firm show "$F" --json
	[[ "$output" == *'"district": "410102"'* && "$output" == *传感器* ]]
	run on "$A" firm set "$F" employees=13
	[ "$status" -eq 2 ]
	[[ "$output" == *"moved to district 410102"* ]]
	run on "$A" visit add "$F" --note 再访
	[ "$status" -eq 2 ]
	[[ "$output" == *"moved to district 410102"* ]]
	vid=$(on "$A" visit list "$F" --json | sed -n 's/.*"id": "\([0-9a-f-]*\)".*/\1/p' | head -1)
	[ -n "$vid" ]
	run on "$A" visit delete "$vid"
	[ "$status" -eq 2 ]
	[[ "$output" == *"moved to district 410102"* ]]
	run on "$A" firm delete "$F"
	[ "$status" -eq 2 ]
	# The new district edits it; later edits reach it, not the old one.
	run on "$C" firm set "$F" employees=20
	[ "$status" -eq 0 ]
	on "$CITY" firm set "$F" contact=赵敏
	sync_via usb "$C" "$CITY" "$A" "$C"
	run on "$C" firm show "$F" --json
	[[ "$output" == *'"employees": 20'* && "$output" == *'"contact": "赵敏"'* ]]
	run on "$CITY" firm show "$F" --json
	[[ "$output" == *'"employees": 20'* ]]
	run on "$A" firm show "$F" --json
	[[ "$output" == *'"employees": 12'* && "$output" != *赵敏* ]]
}

@test "an officer's change of a firm the city moved away is set aside as a conflict, not lost" {
	enroll
	on "$A" firm add "$F" --name 郑州甲科技 employees=12
	sync_via usb "$A" "$C" "$CITY"
	on "$CITY" firm move "$F" --district 410102 >/dev/null
	# A writes before it hears of the move.
	on "$A" firm set "$F" employees=13
	sync_via usb "$CITY" "$A" "$C"
	run on "$CITY" firm show "$F" --json
	[[ "$output" == *'"employees": 12'* ]]
	run on "$C" firm show "$F" --json
	[[ "$output" == *'"employees": 12'* ]]
	run on "$CITY" conflicts --json
	[[ "$output" == *'"field": "employees"'* && "$output" == *13* ]]
	id=$(echo "$output" | sed -n 's/^    "id": \([0-9]*\),/\1/p' | head -1)
	[ -n "$id" ]
	# The city takes it over: as the new district's desk, so it reaches C.
	run on "$CITY" conflicts resolve "$id" --take-theirs
	[ "$status" -eq 0 ]
	sync_via usb "$CITY" "$C"
	run on "$C" firm show "$F" --json
	[[ "$output" == *'"employees": 13'* ]]
}


@test "a moved firm's survey responses and their files go to the new district with it" {
	enroll
	for s in "$A" "$CITY" "$C"; do
		on "$s" form import "$TIDU_SOURCE_DIR/tests/data/forms/sample.xlsx" >/dev/null
	done
	on "$A" firm add "$F" --name 郑州甲科技 >/dev/null
	printf 'photo of %s' "$F" >photo.jpg
	cat >ans.json <<-'EOF2'
	{"employees": 12, "rd_staff": 2, "has_ip": "no", "revenue": 100,
	 "products": [{"product_name": "传感器"}], "photo": "photo.jpg"}
	EOF2
	id=$(on "$A" survey add sample "$F" --answers "$PWD/ans.json")
	[ -n "$id" ]
	sync_via usb "$A" "$C" "$CITY"
	run on "$C" survey list --json
	[ "$output" = "[]" ]
	on "$CITY" firm move "$F" --district 410102 >/dev/null
	sync_via usb "$CITY" "$A" "$C"
	run on "$C" survey show "$id" --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"product_name":"传感器"'* ]]
	on "$C" survey file "$id" photo --out c.jpg >/dev/null
	cmp photo.jpg c.jpg
	# The old district keeps it read-only.
	run on "$A" survey delete "$id"
	[ "$status" -eq 2 ]
	[[ "$output" == *"moved to district 410102"* ]]
}
