#!/usr/bin/env bats
# Careless media (issue 9, items 8-11): folders with strays and loops,
# damaged exports, read-only and full disks, truncated stores, a moved
# store's agent.
load helpers

setup() {
	setup_home
	CITY="$BATS_TEST_TMPDIR/city"
	A="$BATS_TEST_TMPDIR/a"     # 410105
	B="$BATS_TEST_TMPDIR/b"     # 410105
	F=$(uscc 91410105MA1J8T9H5)
}

teardown() {
	if [ -n "${XDG_RUNTIME_DIR:-}" ] && [ -d "$BATS_TEST_TMPDIR/run" ]; then
		"$TIDU" agent stop --all >/dev/null 2>&1 </dev/null || true
	fi
}

mk() {
	tidu --home "$1" init --district "$2" --officer "$3" --role "${4:-officer}" >/dev/null
}

# The city enrolls A and B (410105); both import the keyring.
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

# A has sealed one change set and exported it into out/.
one_set() {
	enroll
	on "$A" firm add "$F" --name 甲 >/dev/null
	on "$A" changes seal >/dev/null
	on "$A" changes export out >/dev/null
	SET=$(find out -name '*.tcs')
	[ -n "$SET" ]
}

# ---- item 8: export judges files by content ---------------------------------

@test "export repairs a damaged file and keeps a good one" {
	one_set
	good=$(sha256sum "$SET" | cut -d' ' -f1)
	head -c 100 "$SET" >cut && mv cut "$SET"
	run on "$A" changes export out
	[ "$status" -eq 0 ]
	[[ "$output" == *"Repaired 1 "* ]]
	[ "$(sha256sum "$SET" | cut -d' ' -f1)" = "$good" ]
	# A file of the right size but other bytes is replaced too.
	printf 'X' | dd of="$SET" bs=1 seek=200 conv=notrunc 2>/dev/null
	run on "$A" changes export out
	[[ "$output" == *"Repaired 1 "* ]]
	[ "$(sha256sum "$SET" | cut -d' ' -f1)" = "$good" ]
	run on "$A" changes export out
	[ "$status" -eq 0 ]
	[[ "$output" != *Repaired* ]]
	[[ "$output" == *"(1 were there already)"* ]]
	run on "$B" changes apply out
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 applied"* ]]
}

@test "export removes the leftovers of a killed export" {
	one_set
	dir=$(dirname "$SET")
	: >"$dir/000000000002.tcs.tmp-Ab12Cd"
	: >"$dir/000000000001.tcs.tmp-zzzzzz"
	: >"$dir/notes.tmp-abcdef"
	run on "$A" changes export out
	[ "$status" -eq 0 ]
	[[ "$output" == *"Removed 2 leftover"* ]]
	[ -z "$(find out -name '*.tcs.tmp-*')" ]
	[ -e "$dir/notes.tmp-abcdef" ]
}

# ---- item 9: apply of a folder with strays ----------------------------------

@test "apply skips what is not a change set, lists it and exits 0" {
	one_set
	dir=$(dirname "$SET")
	echo hello >out/readme.txt
	printf '[.ShellClassInfo]\r\n' >out/desktop.ini
	head -c 64 /dev/urandom >"$dir/Thumbs.db"
	head -c 64 /dev/urandom >"$dir/._000000000001.tcs"
	run on "$B" changes apply out
	[ "$status" -eq 0 ]
	[[ "$output" == *"skipped    out/readme.txt: not a change set"* ]]
	[[ "$output" == *"desktop.ini: not a change set"* ]]
	[[ "$output" == *"Thumbs.db: not a change set"* ]]
	[[ "$output" == *"1 applied, 0 duplicate, 0 held, 3 skipped, 0 rejected"* ]]
	# Named explicitly, a file is always tried: rejected, the tamper code.
	run on "$B" changes apply out/readme.txt
	[ "$status" -eq 4 ]
	[[ "$output" == *"rejected"*readme.txt* ]]
}

@test "apply does not follow a symlink loop" {
	one_set
	ln -s .. "$(dirname "$SET")/up"
	ln -s loop out/loop
	run on "$B" changes apply out
	[ "$status" -eq 0 ]
	[[ "$output" == *"up: a folder visited already"* ]]
	[[ "$output" == *"out/loop: a symbolic link loop"* ]]
	[ "$(grep -c 'applied  ' <<<"$output")" -eq 1 ]
	[[ "$output" == *"1 applied, 0 duplicate, 0 held, 2 skipped"* ]]
}

@test "apply on a store without a keyring says to import it, exit 2" {
	one_set
	mk "$BATS_TEST_TMPDIR/new" 410105 新人
	run on "$BATS_TEST_TMPDIR/new" changes apply out
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"import the keyring first: tidu keyring import FILE"* ]]
}

@test "apply of an empty file says it is empty" {
	one_set
	: >out/empty.tcs
	run on "$B" changes apply out
	[ "$status" -eq 0 ]
	[[ "$output" == *"out/empty.tcs: the file is empty"* ]]
	[[ "$output" != *"bad arguments"* ]]
	# Named on the command line it is the user's mistake: exit 2, said once.
	run on "$B" changes apply out/empty.tcs
	[ "$status" -eq 2 ]
	[[ "$output" == *"'out/empty.tcs' is empty: it holds no change set"* ]]
}

@test "apply of a path that is not there: one line, exit 2, nothing applied" {
	one_set
	run on "$B" changes apply out nowhere
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"cannot read 'nowhere': No such file or directory"* ]]
	run on "$B" firm show "$F"
	[ "$status" -eq 2 ]
}

@test "an over-long search text is refused with exit 2" {
	enroll
	run on "$B" firm list --search "$(printf 'a%.0s' $(seq 2000))"
	[ "$status" -eq 2 ]
	[[ "$output" == *"the search text is too long (2000 bytes, at most 1000)"* ]]
}

@test "apply prints a hostile path escaped" {
	one_set
	cp "$SET" "out/$(printf 'x\033]0;pwn\007y.tcs')"
	run on "$B" changes apply out
	[[ "$output" != *$'\033'* ]]
	[[ "$output" != *$'\007'* ]]
}

# ---- item 11: the agent of a moved store; a foreign agent directory ------

agent_setup() {
	export XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/run"
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	mk "$A" 410105 王芳
	on "$A" agent start >/dev/null
	PID=$(on "$A" agent status --json | sed -n 's/^  "pid": \([0-9]*\),/\1/p')
	[ -n "$PID" ]
}

# gone PID: true once the process has ended (within 5 s).
gone() {
	local i
	for i in $(seq 50); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

@test "the agent of a moved store stops and wipes its key by itself" {
	agent_setup
	mv "$A" "$BATS_TEST_TMPDIR/moved"
	gone "$PID"
	[ -z "$(find "$XDG_RUNTIME_DIR" -name '*.sock')" ]
	# Asked at the old place, tidu says how to stop such an agent.
	run on "$A" agent stop
	[ "$status" -eq 2 ]
	[[ "$output" == *"tidu agent stop --all"* ]]
}

@test "the agent of a deleted store stops; agent stop --all stops every agent" {
	agent_setup
	mk "$B" 410105 李雷
	on "$B" agent start >/dev/null
	rm -rf "$A"
	gone "$PID"
	run on "$B" agent stop --all
	[ "$status" -eq 0 ]
	[[ "$output" == *"Stopped 1 agents"* ]]
	run on "$B" agent status
	[ "$status" -eq 1 ]
}

@test "an agent directory made by another user: one line naming it, suggesting XDG_RUNTIME_DIR" {
	mk "$A" 410105 王芳
	unset XDG_RUNTIME_DIR
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	dir="$TMPDIR/tidu-agent-$(id -u)"
	mkdir -p -m 700 "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown 65534 "$dir"
		want="belongs to another user"
	else
		chmod 777 "$dir"
		want="is open to other users"
	fi
	run on "$A" agent start
	echo "$output"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"$dir"*"$want"*XDG_RUNTIME_DIR* ]]
	chown "$(id -u)" "$dir"
	chmod 777 "$dir"
	run on "$A" agent start
	[ "$status" -eq 2 ]
	[[ "$output" == *"is open to other users (mode 777"*XDG_RUNTIME_DIR* ]]
}

# ---- item 10: read-only and full media, a truncated store -------------------

# ns SCRIPT: runs bash SCRIPT in a mount namespace of its own (root: plain;
# otherwise a user namespace), so that it may mount a read-only bind or a
# tiny tmpfs without touching the machine. Skips the test where neither works.
ns() {
	local how=-m
	[ "$(id -u)" -eq 0 ] || how=-rm
	export TIDU
	unshare $how true 2>/dev/null || skip "no mount namespace here (unshare $how)"
	unshare $how bash -c "$1"
}

@test "a read-only home: read-only commands work, writes say the store is read-only" {
	mk "$A" 410105 王芳
	on "$A" firm add "$F" --name 甲 >/dev/null
	export TIDU_HOME="$A" F
	before=$(home_digest)
	run ns '
		mount --bind "$TIDU_HOME" "$TIDU_HOME" &&
		mount -o remount,bind,ro "$TIDU_HOME" || exit 99
		for c in status "export json" check "firm list" "firm show $F" id "changes log"; do
			"$TIDU" $c </dev/null >/dev/null || { echo "FAILED $c: $?"; exit 1; }
		done
		"$TIDU" firm set "$F" name=乙 </dev/null
		echo "set=$?"'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"the store at '$A' is read-only"* ]]
	[[ "$output" == *"set=1"* ]]
	[[ "$output" != *FAILED* ]]
	[ "$(home_digest)" = "$before" ]
}

@test "a tidu.db-shm that cannot be written: the hint names it" {
	mk "$A" 410105 王芳
	export TIDU_HOME="$A" F
	: >"$A/tidu.db-shm"
	chmod 400 "$A/tidu.db-shm"
	run ns '
		mount --bind -o ro "$TIDU_HOME/tidu.db-shm" "$TIDU_HOME/tidu.db-shm" || exit 99
		"$TIDU" firm add "$F" --name 甲 </dev/null
		echo "add=$?"'
	echo "$output"
	[[ "$output" == *"'$A/tidu.db-shm' is read-only"*"remove that file"* ]]
	[[ "$output" == *"add=1"* ]]
}

@test "a full disk: init leaves no home behind, a write says the disk is full" {
	export SMALL="$BATS_TEST_TMPDIR/small" F
	mkdir "$SMALL"
	run ns '
		mount -t tmpfs -o size=64k tmpfs "$SMALL" || exit 99
		export TIDU_HOME="$SMALL/home"
		"$TIDU" init --district 410105 --officer 王芳 </dev/null
		echo "init=$?"
		echo "left=[$(ls -A "$SMALL")]"
		umount "$SMALL"
		mount -t tmpfs -o size=400k tmpfs "$SMALL"
		"$TIDU" init --district 410105 --officer 王芳 </dev/null >/dev/null || exit 98
		head -c 10M /dev/zero >"$SMALL/fill" 2>/dev/null
		"$TIDU" firm add "$F" --name 甲 </dev/null
		echo "add=$?"'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"the disk is full"*"init=1"* ]]
	[[ "$output" == *"left=[]"* ]]
	[[ "$output" == *"the disk is full: cannot write the store '$SMALL/home/tidu.db'"* ]]
	[[ "$output" == *"add=1"* ]]
	[[ "$output" != *"disk I/O error"* ]]
}

@test "a store cut to its key header is damaged: exit 4" {
	mk "$A" 410105 王芳
	truncate -s 4096 "$A/tidu.db"
	run on "$A" status
	[ "$status" -eq 4 ]
	[[ "$output" == *"is damaged: the file is truncated"* ]]
	run on "$A" check
	[ "$status" -eq 4 ]
	[[ "$output" == *truncated* ]]
	mk "$B" 410105 李雷
	truncate -s 10000 "$B/tidu.db"
	run on "$B" status
	[ "$status" -eq 4 ]
	[[ "$output" == *"a page is cut short"* ]]
}

@test "an --out that is a pipe or a folder is refused, never replaced" {
	mk "$CITY" 410100 市局 city
	mkfifo pipe
	mkdir folder
	run on "$CITY" keyring export pipe
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"'pipe' is not a regular file"* ]]
	[ -p pipe ]
	run on "$CITY" keyring export folder
	[ "$status" -eq 2 ]
	[[ "$output" == *"'folder' is not a regular file"* ]]
	[ -d folder ]
	[ -z "$(ls folder)" ]
	[ -z "$(ls -a | grep tmp-)" ]
}
