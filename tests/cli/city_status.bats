#!/usr/bin/env bats
# tidu status on the city: per-district counts, per device the last change
# set received and when a sync last saw it, devices not seen for N days; on
# an officer store, the last sync and its remote. The central repository is
# a local bare repository (the path form): no server.
load helpers

setup() {
	setup_home
	CITY="$BATS_TEST_TMPDIR/city"
	A="$BATS_TEST_TMPDIR/a" # 410105
	B="$BATS_TEST_TMPDIR/b" # 410105, never syncs after enrolling
	C="$BATS_TEST_TMPDIR/c" # 410102
	GD="$BATS_TEST_TMPDIR/central.git"
	F=$(uscc 91410105MA1J8T9H5)
	G=$(uscc 91410102MA1EUXG90)
	H=$(uscc 91410102MA1EUXG81)
}

join() {
	tidu --home "$1" init --district "$2" --officer "$3" --city-key "$CITY_FP" >/dev/null
	on "$1" remote add origin "$GD" >/dev/null
	on "$1" sync >/dev/null
}

network() {
	local s
	tidu --home "$CITY" init --district 410100 --officer 市局 --role city >/dev/null
	on "$CITY" admin repo-init "$GD" >/dev/null
	CITY_FP=$(on "$CITY" id --json | sed -n 's/^  "fingerprint": "\(.*\)",/\1/p')
	join "$A" 410105 王芳
	join "$B" 410105 李雷
	join "$C" 410102 赵敏
	on "$CITY" sync >/dev/null
	on "$CITY" admin pending --yes >/dev/null
	on "$CITY" sync >/dev/null
	for s in A B C; do
		on "${!s}" sync >/dev/null
	done
}

@test "status of an officer store: never synced, then the last sync and its remote" {
	init_store >/dev/null
	run tidu status
	[ "$status" -eq 0 ]
	[[ "$output" == *"Last sync:"*never* ]]
	run tidu status --json
	[[ "$output" == *'"last_sync": null'* ]]
	[[ "$output" != *'"districts"'* ]] # not the city
	git init -q --bare "$BATS_TEST_TMPDIR/r.git"
	tidu remote add hub "$BATS_TEST_TMPDIR/r.git" >/dev/null
	TIDU_FAKE_NOW_MS=1795000000000 tidu sync hub >/dev/null 2>&1
	run tidu status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Last sync:"*"2026-11-18T11:06:40Z"*"'hub'"*"r.git"* ]]
	run tidu status --json
	[[ "$output" == *'"at": "2026-11-18T11:06:40Z"'* ]]
	[[ "$output" == *'"remote": "hub"'* ]]
	run tidu status --stale-days abc
	[ "$status" -eq 2 ]
}

@test "city status: districts, devices, last change set and last seen, stale devices" {
	local da db dc now
	network
	da=$(device_of "$A")
	db=$(device_of "$B")
	dc=$(device_of "$C")
	on "$A" firm add "$F" --name 甲科技 >/dev/null
	on "$A" visit add "$F" --note 走访一 >/dev/null
	on "$A" visit add "$F" --note 走访二 >/dev/null
	on "$C" firm add "$G" --name 乙制造 >/dev/null
	on "$C" firm add "$H" --name 丙制造 >/dev/null
	on "$A" sync >/dev/null
	on "$C" sync >/dev/null
	on "$A" firm set "$F" employees=7 >/dev/null
	on "$A" sync >/dev/null
	on "$CITY" sync >/dev/null

	run on "$CITY" status --json
	echo "$output"
	[ "$status" -eq 0 ]
	grep -A3 '"district": "410105"' <<<"$output" | grep -q '"firms": 1'
	grep -A3 '"district": "410105"' <<<"$output" | grep -q '"visits": 2'
	grep -A3 '"district": "410102"' <<<"$output" | grep -q '"firms": 2'
	grep -A3 '"district": "410102"' <<<"$output" | grep -q '"visits": 0'
	grep -A7 "\"device\": \"$da\"" <<<"$output" | grep -q '"last_seq": 2'
	grep -A7 "\"device\": \"$da\"" <<<"$output" | grep -q '"officer": "王芳"'
	grep -A7 "\"device\": \"$dc\"" <<<"$output" | grep -q '"last_seq": 1'
	grep -A8 "\"device\": \"$db\"" <<<"$output" | grep -q '"last_seen": null'
	grep -A9 "\"device\": \"$db\"" <<<"$output" | grep -q '"stale": true'
	grep -A9 "\"device\": \"$da\"" <<<"$output" | grep -q '"stale": false'
	[[ "$output" == *'"stale_days": 14'* ]]
	[[ "$output" == *'"stale_devices": 1'* ]] # B: never seen
	[[ "$output" == *'"last_sync": {'* ]]

	run on "$CITY" status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Districts"* && "$output" == *"Devices"* ]]
	grep -q "$da 410105 王芳 *2  20" <<<"$output"
	grep -q "$db 410105 李雷 *0  never" <<<"$output"
	[[ "$output" == *"Devices not seen for 14 days: 1"* ]]

	# Twenty days later every device is stale; with --stale-days 30 none but B.
	now=$(($(date +%s) * 1000 + 20 * 86400 * 1000))
	run env TIDU_FAKE_NOW_MS=$now "$TIDU" --home "$CITY" status --json </dev/null
	[[ "$output" == *'"stale_devices": 3'* ]]
	run env TIDU_FAKE_NOW_MS=$now "$TIDU" --home "$CITY" status --stale-days 30 </dev/null
	[[ "$output" == *"Devices not seen for 30 days: 1"* ]]
	[[ "$output" == *"$db"* ]]
}
