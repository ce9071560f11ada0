#!/usr/bin/env bats
# The outbox (issue 9, items 1 and 6): a value over a limit is refused at
# the write; a change that cannot be sealed is set aside, shown by
# 'tidu changes pending', and never blocks the rest; a big outbox goes out
# as several change sets that 'changes apply' reads.
load helpers

setup() {
	setup_home
	CITY="$BATS_TEST_TMPDIR/city"
	A="$BATS_TEST_TMPDIR/a"     # 410105
	B="$BATS_TEST_TMPDIR/b"     # 410105
	F=$(uscc 91410105MA1J8T9H5)
	INJECT="${TIDU_BINARY_DIR:-$BATS_TEST_DIRNAME/../../build/sanitize}/tests/tidu-inject"
}

mk() {
	tidu --home "$1" init --district "$2" --officer "$3" --role "${4:-officer}" >/dev/null
}

enroll() {
	mk "$CITY" 410100 市局 city
	mk "$A" 410105 王芳
	mk "$B" 410105 李雷
	on "$A" enroll request --out reqA.json >/dev/null
	on "$B" enroll request --out reqB.json >/dev/null
	on "$CITY" admin enroll reqA.json reqB.json --yes >/dev/null
	on "$CITY" keyring export ring.json >/dev/null
	on "$A" keyring import ring.json >/dev/null
	on "$B" keyring import ring.json >/dev/null
}

# big_csv FILE N BYTES: N firms of 410105, each with an address of BYTES bytes.
big_csv() {
	python3 - "$1" "$2" "$3" <<'PY'
import random, sys
path, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
alpha = "0123456789ABCDEFGHJKLMNPQRTUWXY"
w = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
def uscc(i):
    body = "91410105MA1J%05d" % i
    s = sum(alpha.index(c) * w[k] for k, c in enumerate(body))
    return body + alpha[(31 - s % 31) % 31]
rnd = random.Random(9)
with open(path, "w", encoding="utf-8") as f:
    f.write("uscc,name,address\n")
    for i in range(n):
        addr = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(size))
        f.write("%s,大地址公司%d,%s\n" % (uscc(i), i, addr))
PY
}

@test "import of a value over 1 MiB: refused naming file, line, field and limit; nothing stored" {
	init_store >/dev/null
	big_csv big.csv 3 1048577
	before=$(tidu export json)
	run tidu firm import big.csv
	[ "$status" -eq 2 ]
	# One line per bad row, then the verdict.
	[[ "${lines[0]}" == *"big.csv:2: field 'address': value is 1048577 bytes, over the limit of 1048576 bytes"* ]]
	[[ "${lines[3]}" == *"3 bad rows: nothing was imported"* ]]
	[ "$(tidu export json)" = "$before" ]
	run tidu changes pending --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"pending": 0'* ]]
}

@test "a change that cannot be sealed is set aside and shown; the rest goes out" {
	enroll
	on "$A" firm add "$F" --name 甲 >/dev/null
	head -c 1048577 /dev/zero | tr '\0' 'x' >huge.txt
	TIDU_PASSPHRASE="$TIDU_PASSPHRASE" "$INJECT" --outbox "$A" firm "$F" address=@huge.txt
	on "$A" firm set "$F" name=乙 >/dev/null
	run on "$A" changes pending
	[ "$status" -eq 0 ]
	[[ "$output" == *"3 changes wait to be sealed (firm 3"* ]]
	run on "$A" changes seal
	[ "$status" -eq 0 ]
	[[ "$output" == *"Sealed change set 1 with 2 changes"* ]]
	[[ "$output" == *"1 changes cannot be sent"*"tidu changes pending"* ]]
	run on "$A" changes pending
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 changes wait to be sealed"* ]]
	[[ "$output" == *"1 changes are set aside"* ]]
	[[ "$output" == *"set aside"*"$F"*"address"*"1048577 bytes"*"1048576"* ]]
	run on "$A" changes pending --json
	[[ "$output" == *'"set_aside": 1'* ]]
	[[ "$output" == *'"state": "set_aside"'* ]]
	run on "$A" status
	[[ "$output" == *"Set aside:"*"1 changes cannot be sent"* ]]
	# The rest reached B whole.
	on "$A" changes export out >/dev/null
	run on "$B" changes apply out
	[ "$status" -eq 0 ]
	run on "$B" firm show "$F"
	[[ "$output" == *"乙"* ]]
	# Later changes are not blocked either.
	on "$A" firm set "$F" name=丙 >/dev/null
	run on "$A" changes seal
	[ "$status" -eq 0 ]
	[[ "$output" == *"Sealed change set 2 with 1 changes"* ]]
	# retry puts it back; it is set aside again, and says so.
	run on "$A" changes retry
	[[ "$output" == *"Put 1 set-aside changes back"* ]]
	run on "$A" changes seal
	[ "$status" -eq 0 ]
	[[ "$output" == *"cannot be sent"* ]]
}

@test "a big outbox goes out as several change sets that changes apply reads" {
	enroll
	big_csv big.csv 40 700000
	on "$A" firm import big.csv >/dev/null
	run on "$A" changes seal
	[ "$status" -eq 0 ]
	[ "$(grep -c '^Sealed change set' <<<"$output")" -ge 2 ]
	on "$A" changes export out >/dev/null
	for f in $(find out -name '*.tcs'); do
		[ "$(stat -c %s "$f")" -le $((64 << 20)) ]
	done
	run on "$B" changes apply out
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 rejected"* ]]
	[[ "$output" == *"40 changes merged"* ]]
	run on "$B" status --json
	[[ "$output" == *'"firms": 40'* ]]
}
