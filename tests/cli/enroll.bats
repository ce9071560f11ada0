#!/usr/bin/env bats
# `tidu enroll`: the enrollment request travels through the central
# repository (here a bare repository on a local path); the grant comes back
# with the next sync after the city approved.
load helpers

setup() {
	setup_home
	CITY="$BATS_TEST_TMPDIR/city"
	A="$BATS_TEST_TMPDIR/a"
	CENTRAL="$BATS_TEST_TMPDIR/central.git"
}

@test "enroll publishes the request; the city approves; the next enroll or sync brings the grant" {
	on "$CITY" init --district 410100 --officer 市局 --role city >/dev/null
	on "$CITY" admin repo-init "$CENTRAL" >/dev/null
	fp=$(on "$CITY" id --json | sed -n 's/^  "fingerprint": "\(.*\)",/\1/p')
	[ -n "$fp" ]
	run on "$A" init --district 410105 --officer 王芳 --city-key "$fp" --remote "$CENTRAL"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Central repository"* ]]
	run on "$A" enroll
	[ "$status" -eq 0 ]
	[[ "$output" == *"Published the enrollment request"* ]]
	run on "$A" id --json
	[[ "$output" == *'"enrolled": false'* ]]
	on "$CITY" sync >/dev/null
	fpa=$(id_of "$A" fingerprint)
	# The issue's spelling: 'admin enroll --pending' is 'admin pending'.
	run on "$CITY" admin enroll --pending
	[ "$status" -eq 2 ] # no terminal, no --yes: nothing approved
	[[ "$output" == *"$fpa"* ]]
	run on "$CITY" admin enroll --pending extra.json
	[ "$status" -eq 2 ]
	run on "$CITY" admin enroll
	[ "$status" -eq 2 ]
	run on "$CITY" admin enroll --pending --yes
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Enrolled device"* ]]
	on "$CITY" sync >/dev/null
	run on "$A" enroll
	[ "$status" -eq 0 ]
	[[ "$output" == *"is enrolled in district 410105"* ]]
	run on "$A" id --json
	[[ "$output" == *'"enrolled": true'* ]]
	# Enrolled: records now go out with sync.
	on "$A" firm add "$(uscc 91410105MA1J8T9H5)" --name 登记后的企业
	run on "$A" sync
	[ "$status" -eq 0 ]
	on "$CITY" sync >/dev/null
	run on "$CITY" firm list
	[[ "$output" == *登记后的企业* ]]
}

@test "enroll with an unknown remote is a usage error" {
	on "$A" init --district 410105 --officer 王芳 >/dev/null
	run on "$A" enroll nowhere
	[ "$status" -eq 2 ]
}

@test "many syncs do not pile up packs in repo.git: past 32 they are repacked, the base pack kept" {
	local base
	on "$CITY" init --district 410100 --officer 市局 --role city >/dev/null
	on "$CITY" admin repo-init "$CENTRAL" >/dev/null
	fp=$(on "$CITY" id --json | sed -n 's/^  "fingerprint": "\(.*\)",/\1/p')
	on "$A" init --district 410105 --officer 王芳 --city-key "$fp" --remote "$CENTRAL" >/dev/null
	on "$A" enroll >/dev/null
	on "$CITY" sync >/dev/null
	on "$CITY" admin pending --yes >/dev/null
	on "$CITY" sync >/dev/null
	F=$(uscc 91410105MA1J8T9H5)
	on "$A" firm add "$F" --name 甲 >/dev/null
	# Visits with 240 KB of (incompressible) notes: a base pack far bigger
	# than what 35 small syncs add, so that the second repack is partial.
	for i in 1 2 3; do
		on "$A" visit add "$F" --note "$(head -c 60000 /dev/urandom | base64 -w0)" >/dev/null
	done
	most=0
	for i in $(seq 1 40); do
		on "$A" firm set "$F" employees=$i
		on "$A" sync >/dev/null
		n=$(ls "$A"/repo.git/objects/pack/*.pack | wc -l)
		[ "$n" -gt "$most" ] && most=$n
	done
	[ "$most" -le 33 ]
	[ "$(ls "$A"/repo.git/objects/pack/*.pack | wc -l)" -lt 20 ]
	git --git-dir="$A/repo.git" fsck --strict
	# The first repack was a full one: its pack is the base.
	base=$(head -1 "$A/repo.git/tidu-base-pack")
	[ -f "$A/repo.git/objects/pack/pack-$base.pack" ]
	# The next one packs only what is new; the base pack stays as it is.
	for i in $(seq 41 75); do
		on "$A" firm set "$F" employees=$i
		on "$A" sync >/dev/null
	done
	[ "$(head -1 "$A/repo.git/tidu-base-pack")" = "$base" ]
	[ -f "$A/repo.git/objects/pack/pack-$base.pack" ]
	[ "$(ls "$A"/repo.git/objects/pack/*.pack | wc -l)" -lt 20 ]
	git --git-dir="$A/repo.git" fsck --strict
	[ "$(git --git-dir="$A/repo.git" ls-tree -r --name-only "refs/heads/410105/$(on "$A" id --json | sed -n 's/^  "device": "\(.*\)",/\1/p')" | wc -l)" -eq 75 ]
	on "$CITY" sync >/dev/null
	run on "$CITY" firm show "$F" --json
	[[ "$output" == *'"employees": 75'* ]]
	run on "$A" changes log --json
	[[ "$output" == *'"seq": 75'* ]]
}

@test "init --remote with a bad URL is refused before anything is created" {
	run tidu --home "$A" init --district 410105 --officer 王芳 --remote 'ftp://x y'
	[ "$status" -eq 2 ]
	[[ "$output" == *"ftp://x y"* ]]
	[ ! -e "$A" ]
}
