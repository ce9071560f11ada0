#!/usr/bin/env bats
# A district hub (--role district) syncs its officers on a LAN repository
# like any remote, and 'tidu relay lan central' forwards its district's
# verified refs to the central repository, and the city's keyring back.
# Two local bare repositories: no server.
load helpers

setup() {
	setup_home
	CITY="$BATS_TEST_TMPDIR/city"
	HUB="$BATS_TEST_TMPDIR/hub" # 410105, role district
	A="$BATS_TEST_TMPDIR/a"     # 410105, on the LAN only
	B="$BATS_TEST_TMPDIR/b"     # 410105, on the LAN only
	CENTRAL="$BATS_TEST_TMPDIR/central.git"
	LAN="$BATS_TEST_TMPDIR/lan.git"
	F=$(uscc 91410105MA1J8T9H5)
	G=$(uscc 91410105MA1EUXG90)
}

relay() {
	run on "$HUB" relay lan central "$@"
	echo "$output"
}

# The city on CENTRAL; the hub on both; A and B on the LAN; all enrolled
# through the relay.
network() {
	local s
	tidu --home "$CITY" init --district 410100 --officer 市局 --role city >/dev/null
	on "$CITY" admin repo-init "$CENTRAL" >/dev/null
	CITY_FP=$(id_of "$CITY" fingerprint)
	git init -q --bare "$LAN"
	git -C "$LAN" config receive.denyNonFastForwards true
	tidu --home "$HUB" init --district 410105 --officer 区中心 --role district \
		--city-key "$CITY_FP" >/dev/null
	on "$HUB" remote add central "$CENTRAL" >/dev/null
	on "$HUB" remote add lan "$LAN" >/dev/null
	on "$HUB" sync central >/dev/null
	for s in A B; do
		tidu --home "${!s}" init --district 410105 --officer "officer$s" \
			--city-key "$CITY_FP" >/dev/null
		on "${!s}" remote add origin "$LAN" >/dev/null
		run on "${!s}" sync
		[[ "$output" == *"enrollment request"* ]]
	done
	# The hub is not enrolled: it forwards the requests, verifies nothing.
	relay
	[ "$status" -eq 0 ]
	[[ "$output" == *"not enrolled"* ]]
	git -C "$CENTRAL" rev-parse --verify -q "refs/heads/enroll/410105/$(device_of "$A")"
	on "$CITY" sync >/dev/null
	run on "$CITY" admin pending --yes
	[ "$(grep -c '^Enrolled device' <<<"$output")" -eq 3 ]
	on "$CITY" sync >/dev/null
	run on "$HUB" sync central --json
	[[ "$output" == *'"enrolled": true'* ]]
	relay # the keyring goes to the LAN
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 city refs sent back"* ]]
	for s in A B; do
		run on "${!s}" sync --json
		echo "$output"
		[[ "$output" == *'"enrolled": true'* ]]
	done
}

@test "officers sync on the LAN, the hub relays to central, the city sees everything" {
	local desk lanpool tree forged da central lan
	network
	da=$(device_of "$A")
	on "$A" firm add "$F" --name 甲科技 >/dev/null
	on "$B" firm add "$G" --name 乙制造 >/dev/null
	on "$A" sync >/dev/null
	on "$B" sync >/dev/null # brings A's firm: B can visit it
	on "$B" visit add "$F" --note 乙的走访 >/dev/null
	on "$B" sync >/dev/null
	on "$A" sync >/dev/null
	# The hub syncs on the LAN like any store of its district.
	run on "$HUB" sync lan --json
	echo "$output"
	[ "$status" -eq 0 ]
	run on "$HUB" firm list
	[[ "$output" == *甲科技* && "$output" == *乙制造* ]]
	relay --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"relayed": 2'* ]]
	central=$(git -C "$CENTRAL" rev-parse --verify -q "refs/heads/410105/$da")
	lan=$(git -C "$LAN" rev-parse --verify -q "refs/heads/410105/$da")
	[ "$central" = "$lan" ]
	relay # nothing new
	[ "$status" -eq 0 ]
	[[ "$output" == *" 0 refs forwarded"* ]]
	run on "$CITY" sync --json
	echo "$output"
	[ "$status" -eq 0 ]
	run on "$CITY" firm list
	[[ "$output" == *甲科技* && "$output" == *乙制造* ]]
	on "$CITY" export json --district 410105 | grep -q 乙的走访
	run on "$CITY" status --json
	grep -A3 '"district": "410105"' <<<"$output" | grep -q '"firms": 2'
	# A also syncs with central directly: the LAN copy of its ref is behind,
	# which is no refusal.
	on "$A" remote add central "$CENTRAL" >/dev/null
	on "$A" firm set "$F" employees=5 >/dev/null
	run on "$A" sync central
	[ "$status" -eq 0 ]
	relay
	[ "$status" -eq 0 ]
	[[ "$output" == *" 0 refs forwarded"* ]]
	on "$A" sync >/dev/null # the LAN catches up: same commits
	relay
	[ "$status" -eq 0 ]
	[[ "$output" == *" 0 refs forwarded"* ]]
	run on "$HUB" status --json
	[[ "$output" == *'"remote": "central"'* ]]
	# The city's own edit goes back through the hub to the LAN officers.
	on "$CITY" firm set "$F" contact=市局联系人 >/dev/null
	on "$CITY" sync >/dev/null
	desk=$(git -C "$CENTRAL" for-each-ref --format='%(refname)' refs/heads/city/410105/)
	[ -n "$desk" ]
	relay --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"relayed_back": 2'* ]] # the desk ref and the pool
	[ "$(git -C "$LAN" rev-parse "$desk")" = "$(git -C "$CENTRAL" rev-parse "$desk")" ]
	[ "$(git -C "$LAN" rev-parse refs/heads/city/pool)" = \
	  "$(git -C "$CENTRAL" rev-parse refs/heads/city/pool)" ]
	run on "$HUB" firm show "$F" --json
	[[ "$output" == *市局联系人* ]]
	on "$B" sync >/dev/null
	run on "$B" firm show "$F" --json
	[[ "$output" == *市局联系人* ]]
	relay # nothing new either way
	[ "$status" -eq 0 ]
	[[ "$output" == *" 0 refs forwarded"* && "$output" == *"0 city refs sent back"* ]]
	# A pool on central that is not what the city writes does not reach the LAN.
	lanpool=$(git -C "$LAN" rev-parse refs/heads/city/pool)
	tree=$(printf '100644 blob %s\ttips.txt\n100644 blob %s\textra.txt\n' \
		"$(echo a | git -C "$CENTRAL" hash-object -w --stdin)" \
		"$(echo b | git -C "$CENTRAL" hash-object -w --stdin)" | git -C "$CENTRAL" mktree)
	forged=$(git -C "$CENTRAL" -c user.name=x -c user.email=x@x commit-tree "$tree" \
		-p refs/heads/city/pool -m forged)
	git -C "$CENTRAL" update-ref refs/heads/city/pool "$forged"
	relay
	[ "$status" -eq 4 ]
	[[ "$output" == *"not the city's pool"* ]]
	[ "$(git -C "$LAN" rev-parse refs/heads/city/pool)" = "$lanpool" ]
	git -C "$CENTRAL" fsck --strict
	run on "$A" relay lan central
	[ "$status" -eq 2 ] # an officer's store does not relay
	[[ "$output" == *"district hub"* ]]
}

@test "a forged or tampered file on the LAN is not relayed and the city never sees it" {
	local da db tip tree blob forged
	network
	da=$(device_of "$A")
	db=$(device_of "$B")
	on "$A" firm add "$F" --name 甲科技 >/dev/null
	on "$B" firm add "$G" --name 乙制造 >/dev/null
	on "$A" sync >/dev/null
	on "$B" sync >/dev/null
	relay
	[ "$status" -eq 0 ]
	on "$CITY" sync >/dev/null
	before=$(git -C "$CENTRAL" rev-parse "refs/heads/410105/$da")

	# Forged: a next change set of A appended on the LAN by someone else.
	cp -r "$A" "$BATS_TEST_TMPDIR/a-copy"
	tip=$(git -C "$LAN" rev-parse "refs/heads/410105/$da")
	blob=$(head -c 600 /dev/urandom | git -C "$LAN" hash-object -w --stdin)
	git -C "$LAN" read-tree --index-output="$BATS_TEST_TMPDIR/idx" "$tip"
	GIT_INDEX_FILE="$BATS_TEST_TMPDIR/idx" git -C "$LAN" update-index --add \
		--cacheinfo "100644,$blob,cs/0000/000/000000000002.tcs"
	tree=$(GIT_INDEX_FILE="$BATS_TEST_TMPDIR/idx" git -C "$LAN" write-tree)
	forged=$(git -C "$LAN" -c user.name=x -c user.email=x@x commit-tree "$tree" -p "$tip" -m forged)
	git -C "$LAN" update-ref "refs/heads/410105/$da" "$forged"

	# Tampered: B's change set 1 replaced, history rewritten (the LAN server
	# is not trusted with anything).
	tip=$(git -C "$LAN" rev-parse "refs/heads/410105/$db")
	blob=$(git -C "$LAN" cat-file -p "$tip:cs/0000/000/000000000001.tcs" | sed 's/./X/50' |
		git -C "$LAN" hash-object -w --stdin)
	git -C "$LAN" read-tree --index-output="$BATS_TEST_TMPDIR/idx2" "$tip"
	GIT_INDEX_FILE="$BATS_TEST_TMPDIR/idx2" git -C "$LAN" update-index \
		--cacheinfo "100644,$blob,cs/0000/000/000000000001.tcs"
	tree=$(GIT_INDEX_FILE="$BATS_TEST_TMPDIR/idx2" git -C "$LAN" write-tree)
	forged=$(git -C "$LAN" -c user.name=x -c user.email=x@x commit-tree "$tree" -p "$tip" -m tampered)
	git -C "$LAN" update-ref "refs/heads/410105/$db" "$forged"

	# Copied: A's signed change set 1 under the ref of a device nobody enrolled.
	git -C "$LAN" update-ref refs/heads/410105/0123456789abcdef "$before"

	relay
	[ "$status" -eq 4 ]
	[[ "$output" == *"$da"* && "$output" == *"$db"* && "$output" == *0123456789abcdef* ]]
	run git -C "$CENTRAL" rev-parse -q --verify refs/heads/410105/0123456789abcdef
	[ "$status" -eq 1 ]
	[ "$(git -C "$CENTRAL" rev-parse "refs/heads/410105/$da")" = "$before" ]
	run git -C "$CENTRAL" cat-file -e "$forged"
	[ "$status" -eq 1 ]
	relay # still refused, still not forwarded
	[ "$status" -eq 4 ]
	# A device ref the hub had read, deleted on the LAN: reported once.
	git -C "$LAN" update-ref -d "refs/heads/410105/$db"
	relay
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"refs/heads/410105/$db' is gone"* ]]
	git -C "$CENTRAL" rev-parse -q --verify "refs/heads/410105/$db" # central keeps it
	[ "$(git -C "$CENTRAL" rev-parse "refs/heads/410105/$da")" = "$before" ]
	run on "$CITY" sync --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"rejected": 0'* ]]
	[[ "$output" == *'"received": 0'* ]]
	run git -C "$CENTRAL" cat-file -e "$forged"
	[ "$status" -eq 1 ]
	git -C "$CENTRAL" fsck --strict
}

@test "the city store relays too: from the LAN to central, its keyring back" {
	local da central lan
	network
	da=$(device_of "$A")
	on "$CITY" remote add lan "$LAN" >/dev/null
	on "$A" firm add "$F" --name 甲科技 >/dev/null
	on "$A" sync >/dev/null
	run on "$CITY" relay lan origin --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"relayed": 1'* ]]
	[[ "$output" == *'"received": 1'* ]]
	run on "$CITY" firm list
	[[ "$output" == *甲科技* ]]
	central=$(git -C "$CENTRAL" rev-parse --verify -q "refs/heads/410105/$da")
	lan=$(git -C "$LAN" rev-parse --verify -q "refs/heads/410105/$da")
	[ "$central" = "$lan" ]
	central=$(git -C "$CENTRAL" rev-parse --verify -q refs/heads/city/keyring)
	lan=$(git -C "$LAN" rev-parse --verify -q refs/heads/city/keyring)
	[ "$central" = "$lan" ]
}

@test "relay: usage errors" {
	run tidu relay --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage:"* ]]
	run tidu relay onlyone
	[ "$status" -eq 2 ]
	tidu --home "$HUB" init --district 410105 --officer 区中心 --role district >/dev/null
	run on "$HUB" relay lan central
	[ "$status" -eq 2 ]
	[[ "$output" == *"no remote 'lan'"* ]]
	git init -q --bare "$LAN"
	on "$HUB" remote add lan "$LAN" >/dev/null
	run on "$HUB" relay lan lan
	[ "$status" -eq 2 ]
}
