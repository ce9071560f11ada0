#!/usr/bin/env bats
# Hostile and careless input (issue 9, items 3, 12 and 13): what is refused
# at the write, with one line naming the field, and never half-written.
load helpers

setup() {
	setup_home
	A=$(uscc 91410105MA1J8T9H5)
	B=$(uscc 91410102MA1EUXG90)
}

# The store's content as canonical JSON (for "unchanged" assertions).
snapshot() { tidu export json; }

# No raw control byte (C0 but newline, DEL, ESC) in "$1".
no_controls() {
	! printf '%s' "$1" | LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]'
}

@test "init refuses officer names enroll request would refuse, before anything is made" {
	forged=$'王芳\n  Fingerprint:    GMGE-0000-0000-0000-0000\e[8m'
	for name in "$forged" '   ' $'a\tb' $'\u202eabc' "$(printf 'a%.0s' {1..256})"; do
		run tidu init --district 410105 --officer "$name"
		[ "$status" -eq 2 ] || { echo "accepted: $name"; false; }
		[[ "$output" == *"invalid officer name: "* ]]
		[ "${#lines[@]}" -eq 1 ]
		no_controls "$output"
		[ ! -e "$TIDU_HOME/tidu.db" ]
	done
	run tidu init --district 410105 --officer "$(printf 'a%.0s' {1..255})"
	[ "$status" -eq 0 ]
}

@test "single-line fields refuse control characters; notes keep newline and tab" {
	init_store >/dev/null
	tidu firm add "$A" --name '甲公司' >/dev/null
	before=$(snapshot)
	run tidu firm add "$B" --name $'乙\n91410105MA1J8T9H5X  假公司'
	[ "$status" -eq 2 ]
	[[ "$output" == *"field 'name': control character U+000A at byte 3 is not allowed"* ]]
	run tidu firm set "$A" name=$'甲\e]0;pwned\a'
	[ "$status" -eq 2 ]
	[[ "$output" == *"field 'name': control character U+001B at byte 3"* ]]
	no_controls "$output"
	run tidu firm set "$A" address=$'金水路\u202e1号'
	[ "$status" -eq 2 ]
	[[ "$output" == *"field 'address': control character U+202E at byte 9"* ]]
	printf 'uscc,name,address\n%s,丙,"x\x1b[2Jy"\n' "$B" > f.csv
	run tidu firm import f.csv
	[ "$status" -eq 2 ]
	[[ "$output" == *"field 'address': control character U+001B"* ]]
	[ "$(snapshot)" = "$before" ]
	run tidu visit add "$A" --note $'第一行\n\t第二行' follow_up=$'一\n二'
	[ "$status" -eq 0 ]
	run tidu visit add "$A" --note $'记录\e[8m'
	[ "$status" -eq 2 ]
	[[ "$output" == *"field 'note': control character U+001B at byte 6"* ]]
}

@test "blank text is refused: a firm's name of spaces only" {
	init_store >/dev/null
	run tidu firm add "$A" --name '   '
	[ "$status" -eq 2 ]
	[[ "$output" == *"field 'name': the value is blank"* ]]
	run tidu firm add "$A" --name '　'
	[ "$status" -eq 2 ]
	tidu firm add "$A" --name '甲' >/dev/null
	run tidu firm set "$A" name=' '
	[ "$status" -eq 2 ]
	[[ "$output" == *"blank"* ]]
	run tidu firm show "$A" --json
	[[ "$output" == *'"name": "甲"'* ]]
}

@test "industry codes: one rule, stored with their section letter" {
	init_store >/dev/null
	tidu firm add "$A" --name '甲' industry=01 >/dev/null
	run tidu firm show "$A" --json
	[[ "$output" == *'"industry": "A01"'* ]]
	tidu firm set "$A" industry=a0111 >/dev/null
	run tidu firm show "$A" --json
	[[ "$output" == *'"industry": "A0111"'* ]]
	tidu firm set "$A" industry=3484 >/dev/null
	run tidu firm show "$A" --json
	[[ "$output" == *'"industry": "C3484"'* ]]
	for bad in 00 99 C99 B01 U; do
		run tidu firm set "$A" industry=$bad
		[ "$status" -eq 2 ] || { echo "accepted: $bad"; false; }
		[[ "$output" == *"'industry'"* ]]
	done
	run tidu firm show "$A" --json
	[[ "$output" == *'"industry": "C3484"'* ]]
}

@test "dates in the future are refused, today is not; a follow-up cannot fall due before the visit" {
	init_store >/dev/null
	today=$(date +%F)
	run tidu firm add "$A" --name '甲' founded=2099-01-01
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid value '2099-01-01' for 'founded': a day in the future"* ]]
	tidu firm add "$A" --name '甲' founded="$today" >/dev/null
	run tidu visit add "$A" --date 2099-01-01
	[ "$status" -eq 2 ]
	[[ "$output" == *"'date': a day in the future"* ]]
	run tidu visit add "$A" --date 2025-03-01 follow_up_due=2025-02-28
	[ "$status" -eq 2 ]
	[[ "$output" == *"'follow_up_due': before the visit's date 2025-03-01"* ]]
	run tidu visit list --json
	[[ "$output" != *2099* ]]
	run tidu visit add "$A" --date "$today" follow_up_due=2099-01-01
	[ "$status" -eq 0 ]
	run tidu visit add "$A" --date 2025-03-01 follow_up_due=2025-03-01
	[ "$status" -eq 0 ]
}

@test "remote add refuses names git refuses as ref names" {
	init_store >/dev/null
	for name in a.lock a..b .x a. 'a~1' 'a:b'; do
		run tidu remote add "$name" git://127.0.0.1:9/c.git
		[ "$status" -eq 2 ] || { echo "accepted: $name"; false; }
		[[ "$output" == *"invalid remote name"* ]]
	done
	run tidu remote list
	[[ "$output" == *"No remote"* ]]
	run tidu remote add a.locks git://127.0.0.1:9/c.git
	[ "$status" -eq 0 ]
}

@test "remote list and status never print a URL's password" {
	git init -q --bare central.git
	tidu init --district 410100 --officer '王芳' --role city --remote "$PWD/central.git" >/dev/null
	tidu sync >/dev/null
	tidu remote remove origin >/dev/null
	run tidu remote add origin 'https://li:s3cret@git.example/c.git'
	[ "$status" -eq 0 ]
	[[ "$output" != *s3cret* ]]
	run tidu remote list
	[[ "$output" == *'https://li:***@git.example/c.git'* ]]
	[[ "$output" != *s3cret* ]]
	run tidu remote list --json
	[[ "$output" != *s3cret* ]]
	run tidu status
	[[ "$output" == *'li:***@git.example'* ]]
	[[ "$output" != *s3cret* ]]
	run tidu status --json
	[[ "$output" != *s3cret* ]]
	run tidu remote add origin git://x/y
	[ "$status" -eq 2 ]
	[[ "$output" != *s3cret* ]]
}

@test "an enrolled device asks the city for a corrected name" {
	CITY="$BATS_TEST_TMPDIR/city" D="$BATS_TEST_TMPDIR/d"
	on "$CITY" init --district 410100 --officer '市管理员' --role city >/dev/null
	on "$D" init --district 410105 --officer '王防' >/dev/null
	on "$D" enroll request --out req.json >/dev/null
	on "$CITY" admin enroll req.json --yes >/dev/null
	on "$CITY" keyring export ring1.json >/dev/null
	on "$D" keyring import ring1.json >/dev/null
	run on "$D" enroll request --officer $'王\e[8m' --out bad.json
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid officer name"* ]]
	[ ! -e bad.json ]
	run on "$D" enroll request --officer '王芳' --out fix.json
	[ "$status" -eq 0 ]
	[[ "$output" == *"'王防' to '王芳'"* ]]
	run on "$CITY" admin enroll fix.json --yes
	[ "$status" -eq 0 ]
	[[ "$output" == *"王芳"* ]]
	[[ "$output" == *"Corrects the officer's name, was '王防'"* ]]
	on "$CITY" keyring export ring2.json >/dev/null
	run on "$CITY" keyring show
	[[ "$output" == *"王芳"* ]]
	[[ "$output" != *"王防"* ]]
	on "$D" keyring import ring2.json >/dev/null
	run on "$D" keyring show
	[[ "$output" == *"王芳"* ]]
	# The device's store takes the approved name: its next visit is recorded by it.
	on "$D" firm add "$A" --name '甲' >/dev/null
	on "$D" visit add "$A" >/dev/null
	run on "$D" visit list --json
	[[ "$output" == *'"officer": "王芳"'* ]]
}
