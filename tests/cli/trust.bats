#!/usr/bin/env bats
# Trust: device identity, enrollment, the city's keyring, revocation.
load helpers

setup() {
	setup_home
	CITY="$BATS_TEST_TMPDIR/city"
	A="$BATS_TEST_TMPDIR/a"
	B="$BATS_TEST_TMPDIR/b"
}

# mk HOME DISTRICT [ROLE]: a new store.
mk() {
	tidu --home "$1" init --district "$2" --officer "王芳" --role "${3:-officer}" >/dev/null
}

# enroll_all: the city admits A and B (both of 410105) and exports ring1.json.
enroll_all() {
	mk "$CITY" 410100 city
	mk "$A" 410105
	mk "$B" 410105
	on "$A" enroll request --out reqa.json >/dev/null
	on "$B" enroll request > reqb.json 2>/dev/null
	on "$CITY" admin enroll reqa.json reqb.json --yes >/dev/null
	on "$CITY" keyring export ring1.json >/dev/null
}

@test "help of the trust commands" {
	for c in id "enroll request" "admin enroll" "admin revoke" "keyring export" \
		"keyring import" "keyring show"; do
		run tidu $c --help
		[ "$status" -eq 0 ]
		[[ "$output" == *usage:* ]]
	done
	run tidu --help
	[[ "$output" == *keyring* ]]
}

@test "id shows device, district, role and a stable fingerprint" {
	mk "$A" 410105
	run on "$A" id
	[ "$status" -eq 0 ]
	[[ "$output" == *410105* ]]
	[[ "$output" == *"not pinned"* ]]
	run on "$A" id --json
	[ "$status" -eq 0 ]
	for key in device district role fingerprint city_pinned enrolled; do
		[[ "$output" == *"\"$key\": "* ]]
	done
	[[ "$output" == *'"district": "410105"'* ]]
	[[ "$output" == *'"role": "officer"'* ]]
	[[ "$output" == *'"city_pinned": false'* ]]
	[[ "$output" == *'"enrolled": false'* ]]
	fp=$(id_of "$A" fingerprint)
	[[ "$fp" =~ ^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$ ]]
	again=$(id_of "$A" fingerprint)
	[ "$again" = "$fp" ]
	dev=$(id_of "$A" device)
	sdev=$(on "$A" status --json | sed -n 's/^  "device": "\(.*\)",$/\1/p')
	[ -n "$sdev" ]
	[ "$dev" = "$sdev" ]
	# The city store is its own city: pinned and enrolled from the start.
	mk "$CITY" 410100 city
	run on "$CITY" id --json
	[[ "$output" == *'"city_pinned": true'* ]]
	[[ "$output" == *'"enrolled": true'* ]]
	cityfp=$(id_of "$CITY" fingerprint)
	pinned=$(id_of "$CITY" city_fingerprint)
	[ "$pinned" = "$cityfp" ]
}

@test "enroll request, admin enroll --yes, keyring export and import" {
	mk "$CITY" 410100 city
	mk "$A" 410105
	run on "$A" enroll request --out req.json
	[ "$status" -eq 0 ]
	fp=$(id_of "$A" fingerprint)
	deva=$(id_of "$A" device)
	[[ "$output" == *"$fp"* ]]
	grep -q '"format": "tidu-enroll-request"' req.json
	# Without --out, the request goes to standard output.
	on "$A" enroll request 2>/dev/null | grep -q '"signature"'

	run on "$CITY" admin enroll req.json --yes
	[ "$status" -eq 0 ]
	[[ "$output" == *"$fp"* ]]
	[[ "$output" == *"王芳"* ]]
	[[ "$output" == *"Enrolled device $deva"* ]]
	# Again: enrolled already, no change.
	run on "$CITY" admin enroll req.json --yes
	[ "$status" -eq 0 ]
	[[ "$output" == *"enrolled already"* ]]

	run on "$CITY" keyring export ring.json
	[ "$status" -eq 0 ]
	grep -q '"format": "tidu-keyring"' ring.json
	cityfp=$(id_of "$CITY" fingerprint)
	run on "$A" keyring import ring.json
	[ "$status" -eq 0 ]
	[[ "$output" == *Pinned*"$cityfp"* ]]
	[[ "$output" == *"new to this device: 1"* ]]
	run on "$A" id --json
	[[ "$output" == *'"city_pinned": true'* ]]
	[[ "$output" == *'"enrolled": true'* ]]
	pinned=$(id_of "$A" city_fingerprint)
	[ "$pinned" = "$cityfp" ]
	run on "$A" keyring show
	[[ "$output" == *"410105/1"* ]]
	[[ "$output" != *"410102/1"* ]]
	# The same keyring again is no change.
	run on "$A" keyring import ring.json
	[ "$status" -eq 0 ]
	[[ "$output" == *"current one already"* ]]
	[[ "$output" != *Pinned* ]]
}

@test "admin enroll without --yes and without a terminal refuses and changes nothing" {
	mk "$CITY" 410100 city
	mk "$A" 410105
	on "$A" enroll request --out req.json >/dev/null
	fp=$(id_of "$A" fingerprint)
	dev=$(id_of "$A" device)
	on "$CITY" id >/dev/null
	before=$(home_digest_of "$CITY")
	run timeout 20 "$TIDU" --home "$CITY" admin enroll req.json </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"$fp"* ]]
	[[ "$output" == *"terminal"*"--yes"* ]]
	[ "$(home_digest_of "$CITY")" = "$before" ]
	run on "$CITY" keyring show
	[ "$status" -eq 0 ]
	[[ "$output" != *"$dev"* ]]
}

@test "on a terminal admin enroll asks, and only y approves" {
	command -v script >/dev/null || skip "script(1) is not installed"
	mk "$CITY" 410100 city
	mk "$A" 410105
	on "$A" enroll request --out req.json >/dev/null
	dev=$(id_of "$A" device)
	run bash -c "printf 'n\n' | timeout 20 script -qec '\"$TIDU\" --home \"$CITY\" admin enroll req.json' /dev/null"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Approve? [y/N]"* ]]
	[[ "$output" == *"Skipped device $dev"* ]]
	run on "$CITY" keyring show
	[ "$status" -eq 0 ]
	[[ "$output" != *"$dev"* ]]
	run bash -c "printf 'y\n' | timeout 20 script -qec '\"$TIDU\" --home \"$CITY\" admin enroll req.json' /dev/null"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Enrolled device $dev"* ]]
	run on "$CITY" keyring show
	[[ "$output" == *"$dev"* ]]
}

@test "admin and keyring export need the city store" {
	mk "$A" 410105
	mk "$B" 410105
	on "$B" enroll request --out req.json >/dev/null
	devb=$(id_of "$B" device)
	run on "$A" admin enroll req.json --yes
	[ "$status" -eq 2 ]
	[[ "$output" == *"city store"* ]]
	run on "$A" admin revoke "$devb" --yes
	[ "$status" -eq 2 ]
	[[ "$output" == *"city store"* ]]
	run on "$A" keyring export ring.json
	[ "$status" -eq 2 ]
	[[ "$output" == *"city store"* ]]
	[ ! -e ring.json ]
}

@test "a tampered request exits 4, a malformed one 2, and nothing is enrolled" {
	mk "$CITY" 410100 city
	mk "$A" 410105
	on "$A" enroll request --out req.json >/dev/null
	sed 's/王芳/李四/' req.json > forged.json
	run on "$CITY" admin enroll forged.json --yes
	[ "$status" -eq 4 ]
	[[ "$output" == *forged.json*signature* ]]
	head -c 200 req.json > cut.json
	run on "$CITY" admin enroll req.json cut.json --yes
	[ "$status" -eq 2 ]
	[[ "$output" == *cut.json* ]]
	run on "$CITY" admin enroll missing.json --yes
	[ "$status" -eq 2 ]
	[[ "$output" == *missing.json* ]]
	dev=$(id_of "$A" device)
	run on "$CITY" keyring show
	[ "$status" -eq 0 ]
	[[ "$output" != *"$dev"* ]]
}

@test "revoke rotates the district key; the devices import the new keyring" {
	enroll_all
	on "$A" keyring import ring1.json >/dev/null
	on "$B" keyring import ring1.json >/dev/null
	devb=$(id_of "$B" device)

	# Without --yes and without a terminal: refused, nothing changed.
	run timeout 20 "$TIDU" --home "$CITY" admin revoke "$devb" </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"--yes"* ]]
	run on "$CITY" keyring show
	[ "$status" -eq 0 ]
	[[ "$output" != *"revoked after"* ]]

	run on "$CITY" admin revoke "$devb" --yes
	[ "$status" -eq 0 ]
	[[ "$output" == *"epoch 2"* ]]
	run on "$CITY" admin revoke "$devb" --yes
	[ "$status" -eq 0 ]
	[[ "$output" == *"revoked already"* ]]
	run on "$CITY" admin revoke 0123456789abcdef --yes
	[ "$status" -eq 2 ]
	[[ "$output" == *0123456789abcdef* ]]

	on "$CITY" keyring export ring2.json >/dev/null
	run on "$A" keyring import ring2.json
	[ "$status" -eq 0 ]
	[[ "$output" == *"version 2"* ]]
	[[ "$output" == *"new to this device: 1"* ]]
	run on "$B" keyring import ring2.json
	[ "$status" -eq 0 ]
	[[ "$output" == *"revoked"* ]]
	run on "$A" keyring show
	[[ "$output" == *"410105/1 410105/2"* ]]
	[[ "$output" == *"$devb"*"revoked after 0"* ]]
	run on "$B" keyring show
	[[ "$output" == *"410105/1"* ]]
	[[ "$output" != *"410105/2"* ]]
	run on "$B" id --json
	[[ "$output" == *'"revoked": true'* ]]
}

@test "a keyring signed by another city store exits 4" {
	enroll_all
	on "$A" keyring import ring1.json >/dev/null
	OTHER="$BATS_TEST_TMPDIR/other"
	mk "$OTHER" 410100 city
	on "$OTHER" admin enroll reqa.json --yes >/dev/null
	on "$OTHER" keyring export forged.json >/dev/null
	on "$OTHER" keyring export forged.json >/dev/null
	otherfp=$(id_of "$OTHER" fingerprint)
	run on "$A" keyring import forged.json
	[ "$status" -eq 4 ]
	[[ "$output" == *"keyring not signed by the pinned city key"* ]]
	[[ "$output" == *"$otherfp"* ]]
	run on "$A" id --json
	[[ "$output" == *'"keyring_version": 1'* ]]
	pinned=$(id_of "$A" city_fingerprint)
	cityfp=$(id_of "$CITY" fingerprint)
	[ "$pinned" = "$cityfp" ]
}

@test "an older keyring after a newer one is refused" {
	enroll_all
	devb=$(id_of "$B" device)
	on "$CITY" admin revoke "$devb" --yes >/dev/null
	on "$CITY" keyring export ring2.json >/dev/null
	run on "$A" keyring import ring2.json
	[ "$status" -eq 0 ]
	run on "$A" keyring import ring1.json
	[ "$status" -eq 2 ]
	[[ "$output" == *"older"* ]]
	run on "$A" keyring show
	[[ "$output" == *"410105/2"* ]]
	[[ "$output" == *"revoked after"* ]]
}

# The sha256 of every file of a store directory.
home_digest_of() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
