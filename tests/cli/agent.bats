#!/usr/bin/env bats
# tidu agent: one unlock, then commands without the passphrase; it answers
# only this user, stops when idle, on 'stop' and on 'passwd', survives no
# kill -9 as a usable socket, and never holds the passphrase.
load helpers

setup() {
	setup_home
	export XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/run"
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	init_store >/dev/null
	A=$(uscc 91410105MA1J8T9H5)
}

teardown() {
	TIDU_PASSPHRASE=x "$TIDU" agent stop >/dev/null 2>&1 || true
}

agent_pid() {
	tidu agent status --json | sed -n 's/^  "pid": \([0-9]*\),/\1/p'
}

@test "agent start: the next commands need no passphrase; stop ends it" {
	run tidu agent status
	[ "$status" -eq 1 ]
	[[ "$output" == *"No agent"* ]]
	run tidu agent start
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Agent started"* ]]
	run tidu agent status --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"running": true'* ]]
	unset TIDU_PASSPHRASE
	run tidu firm add "$A" --name 甲科技
	echo "$output"
	[ "$status" -eq 0 ]
	run tidu firm show "$A" --json
	[ "$status" -eq 0 ]
	[[ "$output" == *甲科技* ]]
	# The socket: in a directory of this user only, itself 0600.
	[ "$(stat -c %a "$XDG_RUNTIME_DIR/tidu-agent")" = 700 ]
	[[ "$(stat -c %a "$XDG_RUNTIME_DIR"/tidu-agent/*.sock)" == [67]00 ]]
	run tidu agent start
	[ "$status" -eq 2 ]
	[[ "$output" == *"already"* ]]
	run tidu agent stop
	[ "$status" -eq 0 ]
	[[ "$output" == *"stopped"* ]]
	run tidu firm list
	[ "$status" -eq 3 ]
	[[ "$output" == *"no passphrase"* ]]
	[ -z "$(ls "$XDG_RUNTIME_DIR/tidu-agent")" ]
	run tidu agent stop
	[ "$status" -eq 0 ]
	[[ "$output" == *"No agent"* ]]
}

@test "agent start with a wrong passphrase starts nothing" {
	run env TIDU_PASSPHRASE=wrong-passphrase "$TIDU" agent start
	[ "$status" -eq 3 ]
	[[ "$output" == *"wrong passphrase"* ]]
	run tidu agent status
	[ "$status" -eq 1 ]
}

@test "the agent keeps the key, not the passphrase" {
	tidu agent start >/dev/null
	pid=$(agent_pid)
	[ -n "$pid" ]
	run grep -qaF "$TIDU_PASSPHRASE" "/proc/$pid/environ"
	[ "$status" -eq 1 ]
}

@test "an idle agent stops by itself; --idle and --max are checked" {
	run tidu agent start --idle 5x
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid time '5x'"* ]]
	run tidu agent start --max 25h
	[ "$status" -eq 2 ]
	tidu agent start --idle 2s >/dev/null
	run tidu agent status
	[ "$status" -eq 0 ]
	# 'agent status' does not count as use: poll it until the agent is gone.
	deadline=$((SECONDS + 15))
	while tidu agent status >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || { echo "agent still running after 15 s"; false; }
		sleep 0.2
	done
	run tidu agent status
	[ "$status" -eq 1 ]
	[ -z "$(ls "$XDG_RUNTIME_DIR/tidu-agent")" ]
}

@test "passwd stops the agent" {
	tidu agent start >/dev/null
	run env TIDU_NEW_PASSPHRASE='another passphrase 2' "$TIDU" passwd
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"agent has been stopped"* ]]
	run tidu agent status
	[ "$status" -eq 1 ]
}

@test "a killed agent leaves a socket nobody answers: commands ask for the passphrase, a new agent starts" {
	tidu agent start >/dev/null
	pid=$(agent_pid)
	kill -9 "$pid"
	sleep 0.2
	[ -n "$(ls "$XDG_RUNTIME_DIR/tidu-agent")" ]
	run env -u TIDU_PASSPHRASE "$TIDU" firm list </dev/null
	[ "$status" -eq 3 ]
	run tidu firm list # with the passphrase as usual
	[ "$status" -eq 0 ]
	run tidu agent start
	[ "$status" -eq 0 ]
	run env -u TIDU_PASSPHRASE "$TIDU" firm list </dev/null
	[ "$status" -eq 0 ]
}

@test "an agent of a replaced store is ignored, with a warning" {
	tidu agent start >/dev/null
	# Renamed over the old one: the agent of a deleted store would stop.
	TIDU_HOME="$BATS_TEST_TMPDIR/other" init_store >/dev/null
	mv "$BATS_TEST_TMPDIR/other/tidu.db" "$TIDU_HOME/tidu.db"
	run env -u TIDU_PASSPHRASE "$TIDU" firm list </dev/null
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *"does not open this store"* ]]
	run tidu firm list
	[ "$status" -eq 0 ]
}

@test "a socket directory of the wrong mode is refused" {
	mkdir -m 755 "$XDG_RUNTIME_DIR/tidu-agent"
	run tidu agent start
	[ "$status" -eq 2 ]
	[[ "$output" == *"is open to other users"* ]]
}

@test "agent in Chinese" {
	run env LANG=zh_CN.UTF-8 "$TIDU" agent status </dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *本数据库* ]]
}
