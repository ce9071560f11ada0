#!/usr/bin/env bats
# The city publishes an edited rule pack (tidu rules publish): it goes out
# signed on refs/heads/city/rules with the city's sync, every device of any
# district takes it with its next sync and assesses with it; what the city
# has not signed, an older or equal version, and a pack that does not load
# are refused. Through a central repository on the local disk and, for the
# relay, a second one (the district's LAN).
load helpers

setup() {
	setup_home
	CITY="$BATS_TEST_TMPDIR/city"
	A="$BATS_TEST_TMPDIR/a" # 410105
	C="$BATS_TEST_TMPDIR/c" # 410102
	URL="$BATS_TEST_TMPDIR/central.git"
	F=$(uscc 91410105MA1J8T9H5)
}

# digest HOME: the sha256 of every file of a home.
digest() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

# edited_pack FILE VERSION: rules-2022 with a lower R&D band (3% -> 2.5%)
# and the version given: the test firm (R&D 2.5%) gains 5 points on tier 1.
edited_pack() {
	on "$CITY" rules show rules-2022 |
		sed -e "s/^version 1\$/version $2/" -e 's/^band >= 3 => 15$/band >= 2.5 => 15/' >"$1"
	grep -q "^version $2\$" "$1"
	grep -q '^band >= 2.5 => 15$' "$1"
}

# tier1 HOME RULES: "score version" of tier 1 of the test firm.
tier1() {
	on "$1" assess "$F" --rules "$2" --tier 1 --json | python3 -c '
import json, sys
a = json.load(sys.stdin)
print(a["tiers"][0]["score"], a["rules_version"])'
}

@test "a pack the city publishes reaches every district, which assesses with it" {
	network
	TIDU_HOME=$A add_assess_firm "$F" 测试企业
	[ "$(tier1 "$A" rules-2022)" = "65 1" ]
	[ "$(tier1 "$A" rules-2026)" = "65 1" ] # its tier 1 is the 2022 table
	edited_pack p.pack 2
	run on "$CITY" rules publish p.pack
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"published rules-2022 version 2 (replacing version 1)"* ]]
	run on "$CITY" rules list --json
	[[ "$output" == *'"id": "rules-2022"'*'"version": 2'*'"source": "city"'* ]]
	# Not on the devices before the city's sync and theirs.
	[ "$(tier1 "$A" rules-2022)" = "65 1" ]
	run on "$CITY" sync --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"rule_packs_published": 1'* ]]
	git --git-dir="$URL" show refs/heads/city/rules:rules.json | grep -q '"format": "tidu-rules"'
	run on "$A" sync
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 rule packs of the city are now in use"* ]]
	[ "$(tier1 "$A" rules-2022)" = "70 2" ]
	[ "$(tier1 "$A" rules-2026)" = "70 1" ] # rules-2026 v1, tier 1 from rules-2022 v2
	run on "$A" rules list
	echo "$output"
	[[ "$output" == *"rules-2022  v2   2022-06-01  city"* ]]
	[[ "$output" == *"rules-2026  v1   2026-04-01  built-in"* ]]
	run on "$A" rules show rules-2022
	[[ "$output" == *"band >= 2.5 => 15"* ]]
	# Another district takes it too; a second sync takes nothing again.
	run on "$C" sync --json
	[[ "$output" == *'"rule_packs_taken": 1'* ]]
	run on "$C" sync --json
	[[ "$output" == *'"rule_packs_taken": 0'* ]]
	# The city's next sync commits nothing new.
	before=$(git --git-dir="$URL" rev-parse refs/heads/city/rules)
	run on "$CITY" sync --json
	[[ "$output" == *'"rule_packs_published": 0'* ]]
	[ "$(git --git-dir="$URL" rev-parse refs/heads/city/rules)" = "$before" ]
}

@test "publishing refuses an old version, a pack that does not load, and any store but the city's" {
	network
	edited_pack p.pack 1
	before="$(digest "$CITY") $(digest "$A")"
	run on "$CITY" rules publish p.pack
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"version 1 is not newer than the rules-2022 in use (version 1)"* ]]
	sed -e 's/^version 1$/version 3/' -e 's/^band >= 5 => 20$/band >= five => 20/' \
		p.pack >bad.pack
	run on "$CITY" rules publish bad.pack
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.pack:"* ]]
	# A pack whose tier 1 comes from a pack that has none.
	on "$CITY" rules show rules-2026 | sed -e 's/^version 1$/version 2/' \
		-e 's/from rules-2022/from rules-9999/' >from.pack
	grep -q 'from rules-9999' from.pack
	run on "$CITY" rules publish from.pack
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"rules-9999"* ]]
	edited_pack p2.pack 2
	run on "$A" rules publish p2.pack
	echo "$output"
	[ "$status" -eq 2 ]
	[ "$(digest "$CITY") $(digest "$A")" = "$before" ] # nothing stored anywhere
	run on "$CITY" rules list --json
	[[ "$output" != *'"source": "city"'* ]]
}

@test "a rule pack document the city did not sign is refused, the packs in use stay" {
	network
	TIDU_HOME=$A add_assess_firm "$F" 测试企业
	edited_pack p.pack 2
	on "$CITY" rules publish p.pack >/dev/null
	on "$CITY" sync >/dev/null
	# Someone with write access to the repository raises a band in the signed text.
	git --git-dir="$URL" show refs/heads/city/rules:rules.json |
		sed 's/band >= 2.5 => 15/band >= 0.1 => 15/' >forged.json
	! cmp -s forged.json <(git --git-dir="$URL" show refs/heads/city/rules:rules.json)
	blob=$(git --git-dir="$URL" hash-object -w forged.json)
	tree=$(printf '100644 blob %s\trules.json\n' "$blob" | git --git-dir="$URL" mktree)
	commit=$(git --git-dir="$URL" -c user.name=x -c user.email=x@x commit-tree "$tree" \
		-p refs/heads/city/rules -m forged)
	git --git-dir="$URL" update-ref refs/heads/city/rules "$commit"
	run on "$A" sync
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"rule packs on 'refs/heads/city/rules' refused"*"not signed by the pinned city key"* ]]
	[ "$(tier1 "$A" rules-2022)" = "65 1" ]
	run on "$A" rules list --json
	[[ "$output" != *'"source": "city"'* ]]
}

@test "a district hub's relay carries the city's rule packs to its LAN repository" {
	network
	HUB="$BATS_TEST_TMPDIR/hub"
	LAN="$BATS_TEST_TMPDIR/lan.git"
	git init -q --bare "$LAN"
	git --git-dir="$LAN" config receive.denyNonFastForwards true
	tidu --home "$HUB" init --district 410105 --officer 区中心 --role district \
		--city-key "$CITY_FP" >/dev/null
	on "$HUB" remote add central "$URL" >/dev/null
	on "$HUB" remote add lan "$LAN" >/dev/null
	on "$HUB" sync central >/dev/null
	on "$CITY" sync >/dev/null
	on "$CITY" admin pending --yes >/dev/null
	on "$CITY" sync >/dev/null
	run on "$HUB" sync central --json
	[[ "$output" == *'"enrolled": true'* ]]
	edited_pack p.pack 2
	on "$CITY" rules publish p.pack >/dev/null
	on "$CITY" sync >/dev/null
	run on "$HUB" relay lan central
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(git --git-dir="$LAN" rev-parse refs/heads/city/rules)" = \
	  "$(git --git-dir="$URL" rev-parse refs/heads/city/rules)" ]
	run on "$HUB" rules list --json
	[[ "$output" == *'"version": 2'*'"source": "city"'* ]]
	# An officer of the district who reaches only the LAN gets them there.
	on "$A" remote remove origin >/dev/null
	on "$A" remote add origin "$LAN" >/dev/null
	run on "$A" sync --json
	echo "$output"
	[[ "$output" == *'"rule_packs_taken": 1'* ]]
	run on "$A" rules list --json
	[[ "$output" == *'"version": 2'*'"source": "city"'* ]]
}
