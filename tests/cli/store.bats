#!/usr/bin/env bats
# The store: init, passphrases, recovery, status, check.
load helpers

setup() { setup_home; }

@test "--version and --help work without a store" {
	run tidu --version
	[ "$status" -eq 0 ]
	[[ "$output" == tidu\ * ]]
	run tidu --help
	[ "$status" -eq 0 ]
	[[ "$output" == *init* ]]
	for c in init status check export passwd "firm add" "firm set" "firm show" \
		"firm list" "firm import" "visit add" "visit list" "visit show"; do
		run tidu $c --help
		[ "$status" -eq 0 ]
		[[ "$output" == *usage:* ]]
	done
}

@test "init creates an encrypted store and prints device id and recovery key" {
	run init_store
	[ "$status" -eq 0 ]
	[[ "$output" =~ [0-9a-f]{16} ]]
	[[ "$output" == *"Recovery key"* ]]
	[ -f "$TIDU_HOME/tidu.db" ]
	[ "$(stat -c %a "$TIDU_HOME")" = 700 ]
	run tidu status --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"district": "410105"'* ]]
	[[ "$output" == *'"officer": "王芳"'* ]]
	[[ "$output" == *'"role": "officer"'* ]]
}

@test "init refuses a second store, an unknown district and a bad role" {
	init_store
	before=$(home_digest)
	run init_store
	[ "$status" -eq 2 ]
	[ "$(home_digest)" = "$before" ]
	export TIDU_HOME="$BATS_TEST_TMPDIR/other"
	run tidu init --district 999999 --officer x
	[ "$status" -eq 2 ]
	[[ "$output" == *"999999"* ]]
	[ ! -e "$TIDU_HOME/tidu.db" ]
	run tidu init --district 410105 --officer x --role boss
	[ "$status" -eq 2 ]
	[ ! -e "$TIDU_HOME/tidu.db" ]
}

@test "init under --home, and XDG_DATA_HOME when nothing else is set" {
	run tidu --home "$BATS_TEST_TMPDIR/h1" init --district 410102 --officer a
	[ "$status" -eq 0 ]
	[ -f "$BATS_TEST_TMPDIR/h1/tidu.db" ]
	unset TIDU_HOME
	XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg" run tidu init --district 410102 --officer a
	[ "$status" -eq 0 ]
	[ -f "$BATS_TEST_TMPDIR/xdg/tidu/tidu.db" ]
}

@test "no passphrase source and no terminal is a clear error, not a hang" {
	unset TIDU_PASSPHRASE
	run timeout 20 "$TIDU" init --district 410105 --officer x </dev/null
	[ "$status" -eq 3 ]
	[[ "$output" == *"passphrase"* ]]
	[ ! -e "$TIDU_HOME/tidu.db" ]
}

@test "--passphrase-file is used before the environment" {
	printf 'from the file 123\n' > "$BATS_TEST_TMPDIR/pass"
	run tidu --passphrase-file "$BATS_TEST_TMPDIR/pass" init --district 410105 --officer x
	[ "$status" -eq 0 ]
	run tidu status
	[ "$status" -eq 3 ]
	run tidu status --passphrase-file "$BATS_TEST_TMPDIR/pass"
	[ "$status" -eq 0 ]
}

@test "a wrong passphrase exits 3 and leaves every file byte-identical" {
	init_store
	tidu firm add "$(uscc 91410105MA1J8T9H5)" --name 甲
	before=$(home_digest)
	TIDU_PASSPHRASE=wrong-passphrase run tidu firm list
	[ "$status" -eq 3 ]
	[[ "$output" == *"passphrase"* ]]
	[ "$(home_digest)" = "$before" ]
	TIDU_PASSPHRASE=wrong-passphrase run tidu check
	[ "$status" -eq 3 ]
	[ "$(home_digest)" = "$before" ]
}

@test "passwd changes the passphrase; the recovery key sets a new one" {
	out=$(init_store)
	key=$(printf '%s\n' "$out" | awk '/Recovery key/{getline; print $1}')
	[ -n "$key" ]
	tidu firm add "$(uscc 91410105MA1J8T9H5)" --name 甲公司
	TIDU_NEW_PASSPHRASE='second passphrase' run tidu passwd
	[ "$status" -eq 0 ]
	run tidu firm list
	[ "$status" -eq 3 ]
	TIDU_PASSPHRASE='second passphrase' run tidu firm list
	[ "$status" -eq 0 ]
	[[ "$output" == *甲公司* ]]
	# Forgotten passphrase: the recovery key sets a third one.
	TIDU_RECOVERY_KEY=nonsense TIDU_NEW_PASSPHRASE='third passphrase' run tidu passwd --recovery-key
	[ "$status" -ne 0 ]
	TIDU_RECOVERY_KEY="$key" TIDU_NEW_PASSPHRASE='third passphrase' run tidu passwd --recovery-key
	[ "$status" -eq 0 ]
	TIDU_PASSPHRASE='second passphrase' run tidu firm list
	[ "$status" -eq 3 ]
	TIDU_PASSPHRASE='third passphrase' run tidu firm show "$(uscc 91410105MA1J8T9H5)" --json
	[ "$status" -eq 0 ]
	[[ "$output" == *甲公司* ]]
}

@test "status counts records and pending changes; check passes on a sound store" {
	init_store
	tidu firm add "$(uscc 91410105MA1J8T9H5)" --name 甲 2025.revenue=100
	tidu visit add "$(uscc 91410105MA1J8T9H5)" --note 走访
	run tidu status --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"firms": 1'* ]]
	[[ "$output" == *'"firm_years": 1'* ]]
	[[ "$output" == *'"visits": 1'* ]]
	[[ "$output" == *'"pending_changes": 3'* ]]
	run tidu check
	[ "$status" -eq 0 ]
}

@test "texts are Chinese under a zh_* locale and English otherwise" {
	LANG=zh_CN.UTF-8 run tidu firm list
	[ "$status" -eq 2 ]
	[[ "$output" == *"tidu init"* ]]
	LANG=zh_CN.UTF-8 run tidu --help
	[[ "$output" == *命令* ]]
	LANG=en_US.UTF-8 run tidu --help
	[[ "$output" == *Commands* ]]
	LC_ALL=zh_TW.UTF-8 LANG=C run tidu --help
	[[ "$output" == *命令* ]]
}
