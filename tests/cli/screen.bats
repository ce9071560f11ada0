#!/usr/bin/env bats
# Issue 9, items 2 to 4: no forged screen. Text that came from a user or a
# peer is shown escaped by every printer (no raw ESC, CR, C1 control, bidi
# override or newline-forged line), --json escapes the same, and a command
# whose output cannot be written exits 1 ("cannot write the output").
load helpers

setup() {
	setup_home
	CITY="$BATS_TEST_TMPDIR/city"
	A="$BATS_TEST_TMPDIR/a"
	CENTRAL="$BATS_TEST_TMPDIR/central.git"
	INJECT="${TIDU_BINARY_DIR:-$BATS_TEST_DIRNAME/../../build/sanitize}/tests/tidu-inject"
	F=91410105MA1J8T9H5M
	# The forged line of the issue: a fake fingerprint, the real one hidden.
	FORGED=$'王芳\n  Fingerprint:    GMGE-FAKE-FAKE-FAKE-FAKE\e[8m'
}

# no_raw TEXT: fails (saying which) if TEXT holds a byte a terminal would
# interpret: C0 controls but newline, DEL, C1 controls as UTF-8, the bidi
# controls and U+2028/U+2029.
no_raw() {
	local t=$1 c
	for c in $'\e' $'\r' $'\a' $'\b' $'\x7f' $'\xc2\x85' $'\xc2\x9b' $'\u202e' \
		$'\u2066' $'\u2028' $'\u200f'; do
		if [[ "$t" == *"$c"* ]]; then
			printf 'raw control %q in:\n%s\n' "$c" "$t" >&2
			return 1
		fi
	done
}

# forged_lines TEXT: the number of lines that look like a fake fingerprint.
forged_lines() {
	printf '%s\n' "$1" | grep -c 'GMGE-FAKE' || true
}

city_and_officer() {
	on "$CITY" init --district 410100 --officer 市局 --role city >/dev/null
	on "$CITY" admin repo-init "$CENTRAL" >/dev/null
	CITY_FP=$(id_of "$CITY" fingerprint)
}

@test "an officer name forging a fingerprint line: refused, or shown escaped everywhere" {
	city_and_officer
	run on "$A" init --district 410105 --officer "$FORGED" --city-key "$CITY_FP" \
		--remote "$CENTRAL"
	if [ "$status" -ne 0 ]; then
		# Refused at input: one clear line, bad input, nothing made.
		no_raw "$output"
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == *officer* ]]
		[ ! -e "$A/tidu.db" ]
		skip "init refuses the name (the input side); the peer-text tests cover the printers"
	fi
	for cmd in id status "keyring show"; do
		run on "$A" $cmd
		[ "$status" -eq 0 ]
		no_raw "$output"
		[ "$(forged_lines "$output")" -le 1 ]
		[[ "$output" != *$'\n  Fingerprint:    GMGE-FAKE'* ]]
		[[ "$output" == *'\n  Fingerprint:    GMGE-FAKE'* ]] || [ "$cmd" = "keyring show" ]
	done
	# The request, by file: admin enroll shows the name escaped, one line.
	on "$A" enroll request --out "$BATS_TEST_TMPDIR/req.json" >/dev/null
	run on "$CITY" admin enroll "$BATS_TEST_TMPDIR/req.json"
	[ "$status" -eq 2 ] # no terminal, no --yes
	no_raw "$output"
	[ "$(printf '%s\n' "$output" | grep -c '^  Fingerprint:')" -eq 1 ]
	[[ "$output" == *'王芳\n  Fingerprint:    GMGE-FAKE-FAKE-FAKE-FAKE\e[8m'* ]]
	# Through the repository: admin pending the same.
	on "$A" enroll >/dev/null
	on "$CITY" sync >/dev/null
	run on "$CITY" admin pending
	[ "$status" -eq 2 ]
	no_raw "$output"
	[ "$(printf '%s\n' "$output" | grep -c '^  Fingerprint:')" -eq 1 ]
	run on "$CITY" admin pending --json
	[ "$status" -eq 0 ]
	no_raw "$output"
	[[ "$output" == *'\n  Fingerprint:    GMGE-FAKE-FAKE-FAKE-FAKE\u001b[8m'* ]]
	on "$CITY" admin pending --yes >/dev/null
	for cmd in "keyring show" "status"; do
		run on "$CITY" $cmd
		[ "$status" -eq 0 ]
		no_raw "$output"
		[[ "$output" != *$'\n  Fingerprint:    GMGE-FAKE'* ]]
		[[ "$output" == *'王芳\n  Fingerprint:'* ]]
	done
}

# A firm whose single-line fields a peer's change set filled with hostile
# text (the merge does not check values against the dictionary).
hostile_firm() {
	init_store
	tidu firm add "$F" --name 郑州某科技有限公司 >/dev/null
	"$INJECT" "$TIDU_HOME" firm "$F" \
		name=$'坏\n91410105MA1J8T9H5X  -  Jinshui  Fake firm\e]0;pwned\a' \
		address=$'\u202eabc\e[8m' contact=$'x\xc2\x9b31my' legal_rep=$'a\rb\u2028c' \
		main_product=$'\x7fdel\u2066' >/dev/null
}

@test "peer text in a firm: firm list and firm show escape it, --json too" {
	hostile_firm
	run tidu firm list
	[ "$status" -eq 0 ]
	no_raw "$output"
	[ "${#lines[@]}" -eq 3 ] # header, the firm, the count: no forged row
	[[ "${lines[1]}" == *'坏\n91410105MA1J8T9H5X  -  Jinshui  Fake firm\e]0;pwned\x07'* ]]
	run tidu firm show "$F"
	[ "$status" -eq 0 ]
	no_raw "$output"
	[[ "$output" == *'\u{202E}abc\e[8m'* ]]
	[[ "$output" == *'x\x9B31my'* ]]
	[[ "$output" == *'a\rb\u{2028}c'* ]]
	[[ "$output" == *'\x7Fdel\u{2066}'* ]]
	for cmd in "firm list --json" "firm show $F --json" "export json"; do
		run tidu $cmd
		[ "$status" -eq 0 ]
		no_raw "$output"
		[[ "$output" == *'\u001b]0;pwned\u0007'* ]]
		[[ "$output" == *'\u202eabc\u001b[8m'* ]]
		[[ "$output" == *'x\u009b31my'* ]]
		[[ "$output" == *'a\rb\u2028c'* ]]
		[[ "$output" == *'\u007fdel\u2066'* ]]
	done
}

@test "peer text in conflicts and visits: escaped; a note keeps its lines but not its escapes" {
	hostile_firm # the name was set here first: the peer's name is a conflict
	run tidu conflicts
	[ "$status" -eq 0 ]
	no_raw "$output"
	[[ "$output" == *'now: 坏\n91410105MA1J8T9H5X'* ]]
	run tidu conflicts --json
	no_raw "$output"
	# A hostile peer device id (not in the keyring: shown as is) and an old clock.
	"$INJECT" --old --device $'dev\e[2Jice' "$TIDU_HOME" firm "$F" name=$'旧\e[5m' >/dev/null
	run tidu conflicts
	[ "$status" -eq 0 ]
	no_raw "$output"
	[[ "$output" == *'dev\e[2Jice'* ]]
	id=$(tidu visit add "$F" --kind first --note 'first line')
	"$INJECT" "$TIDU_HOME" visit "$id" officer=$'李雷\n'"$id"$'  2026-01-01  x\e[8m' \
		note=$'line one\nline two\e]2;t\a\r' >/dev/null
	run tidu visit list
	[ "$status" -eq 0 ]
	no_raw "$output"
	[ "${#lines[@]}" -eq 3 ]
	[[ "$output" == *'李雷\n'"$id"'  2026-01-01  x\e[8m'* ]]
	run tidu visit show "$id"
	[ "$status" -eq 0 ]
	no_raw "$output"
	# The note is multi-line: its newline kept, its escapes and CR shown.
	[[ "$output" == *$'line one\nline two\\e]2;t\\x07\\r'* ]]
	run tidu visit list --json
	no_raw "$output"
	[[ "$output" == *'"note": "line one\nline two\u001b]2;t\u0007\r"'* ]]
}

@test "peer text in a district code: the city's status escapes it" {
	on "$CITY" init --district 410100 --officer 市局 --role city >/dev/null
	on "$CITY" firm add "$F" --name 甲 >/dev/null
	"$INJECT" "$CITY" firm "$F" district=$'4101\e[2J05\n  410102' >/dev/null
	run on "$CITY" status
	[ "$status" -eq 0 ]
	no_raw "$output"
	[[ "$output" == *'4101\e[2J05\n'* ]] # the code is cut to its column's size
	run on "$CITY" status --json
	no_raw "$output"
	[[ "$output" == *'4101\u001b[2J05\n'* ]]
}

@test "every command with output exits 1 when it cannot be written (/dev/full)" {
	[ -w /dev/full ] || skip "no /dev/full"
	init_store
	tidu firm add "$F" --name 郑州某科技有限公司 >/dev/null
	id=$(tidu visit add "$F" --kind first --note 走访)
	for cmd in "firm list" "firm list --json" "firm show $F" "firm show $F --json" \
		"visit list" "visit list --json" "visit show $id" "visit show $id --json" \
		"status" "status --json" "id" "id --json" "conflicts" "conflicts --json" \
		"changes log" "changes log --json" "keyring show" "keyring show --json" \
		"export json" "check" "agent status" "remote list" "--help" "firm --help"; do
		run bash -c '"$TIDU" $1 </dev/null >/dev/full' _ "$cmd"
		echo "tidu $cmd: $status: $output"
		[ "$status" -eq 1 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == "tidu: cannot write the output: No space left on device" ]]
	done
	# Output bigger than stdio's buffer: cut while the command runs.
	for i in $(seq 1 40); do
		tidu visit add "$F" --kind first --note "$(printf '走访记录 %.0s' $(seq 1 60))" >/dev/null
	done
	for cmd in "visit list --json" "export json"; do
		run bash -c '"$TIDU" $1 </dev/null >/dev/full' _ "$cmd"
		echo "tidu $cmd: $status: $output"
		[ "$status" -eq 1 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == "tidu: cannot write the output: No space left on device" ]]
	done
}
