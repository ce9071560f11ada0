#!/usr/bin/env bash
# kill -9 at random moments of `tidu sync` (officers and the city, at the
# same time, against git daemon on 127.0.0.1), many rounds: afterwards a
# final sync on every store converges, no visit recorded is lost and none
# is doubled, every device's ref on the server holds exactly its sealed
# change sets 1..N, and every repository and store checks clean.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/../servers/servers.bash"
trap 'servers_stop; rm -rf "$WORK"' EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
ROUNDS=${TIDU_SYNC_CRASH_ROUNDS:-20}
CITY=$WORK/city A=$WORK/a B=$WORK/b
F=$(uscc_n 1)
checks=0
killed=0 # syncs that kill -9 ended (wait status 137), not ones done before it

# Sets up a city and two officers of 410105, enrolled through the repository.
setup() {
	local url fp s
	mkdir -p "$WORK/srv"
	central_repo "$WORK/srv" central.git || return 1
	git_daemon_start "$WORK/srv" || return 1
	url=$GIT_DAEMON_URL/central.git
	on "$CITY" init --district 410100 --officer 市局 --role city >/dev/null || return 1
	on "$CITY" admin repo-init "$url" >/dev/null || return 1
	fp=$(on "$CITY" id --json | sed -n 's/^  "fingerprint": "\(.*\)",/\1/p')
	for s in "$A" "$B"; do
		on "$s" init --district 410105 --officer 测试员 --city-key "$fp" \
			--remote "$url" >/dev/null &&
			on "$s" sync >/dev/null 2>&1 || return 1
	done
	on "$CITY" sync >/dev/null 2>&1 &&
		on "$CITY" admin pending --yes >/dev/null &&
		on "$CITY" sync >/dev/null 2>&1 &&
		on "$A" sync >/dev/null 2>&1 && on "$B" sync >/dev/null 2>&1 || return 1
	on "$A" firm add "$F" --name 崩溃测试企业 >/dev/null &&
		on "$A" sync >/dev/null 2>&1 && on "$B" sync >/dev/null 2>&1
}

if ! setup; then
	fail "setup"
	finish 0
	exit 1
fi

: >"$WORK/visits.ok"
for round in $(seq 1 "$ROUNDS"); do
	# New visits on both laptops (these commands are not killed).
	for s in "$A" "$B"; do
		for i in 1 2; do
			id=$(on "$s" visit add "$F" --note "round $round") && echo "$id" >>"$WORK/visits.ok"
		done
	done
	# Three syncs at once, plus a second one on A's home (the lock), each
	# in its own process group; then kill -9 them all at a random moment.
	pids=""
	for s in "$A" "$B" "$CITY" "$A"; do
		setsid "$TIDU" --home "$s" sync </dev/null >/dev/null 2>&1 &
		pids="$pids $!"
	done
	sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	for p in $pids; do
		kill -9 -- "-$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
		[ $? -eq 137 ] && killed=$((killed + 1))
	done
done
# Kills that all came after the syncs had finished prove nothing.
checks=$((checks + 1))
[ "$killed" -gt 0 ] || fail "no kill -9 hit a running sync in $ROUNDS rounds: the test exercised nothing"

# Final syncs, never killed: everything converges.
for s in "$A" "$B" "$CITY" "$A" "$B"; do
	out=$(on "$s" sync 2>&1)
	rc=$?
	checks=$((checks + 1))
	[ "$rc" -eq 0 ] || fail "final sync of $s: exit $rc: $out"
done
on "$A" export json >"$WORK/a.json"
on "$B" export json >"$WORK/b.json"
on "$CITY" export json --district 410105 >"$WORK/city.json"
checks=$((checks + 1))
cmp -s "$WORK/a.json" "$WORK/b.json" || fail "A and B differ after the final syncs"
checks=$((checks + 1))
cmp -s "$WORK/a.json" "$WORK/city.json" || fail "A and the city differ after the final syncs"

# Nothing lost, nothing doubled.
expected=$(wc -l <"$WORK/visits.ok")
got=$(grep -c '"id": "' "$WORK/a.json")
checks=$((checks + 1))
[ "$got" -eq "$expected" ] || fail "$expected visits recorded, $got in the export"
while read -r id; do
	grep -q "\"id\": \"$id\"" "$WORK/a.json" || fail "visit $id is lost"
done <"$WORK/visits.ok"
# No visit id twice in any store's export (a change set applied twice).
for j in a b city; do
	checks=$((checks + 1))
	dup=$(grep -o '"id": "[^"]*"' "$WORK/$j.json" | sort | uniq -d)
	[ -z "$dup" ] || fail "a visit id twice in $j.json: $dup"
done

# Each device's ref holds exactly its change sets 1..N, in order.
for s in "$A" "$B"; do
	dev=$(device_of "$s")
	n=$(on "$s" changes log --json | grep -c '"state": "sealed"')
	checks=$((checks + 1))
	[ -n "$dev" ] && [ "$n" -gt 0 ] || { fail "$s: no device id ('$dev') or no sealed change set ($n)"; continue; }
	git -C "$WORK/srv/central.git" ls-tree -r --name-only "refs/heads/410105/$dev" >"$WORK/tree"
	expect=$(for i in $(seq 1 "$n"); do
		printf 'cs/%04d/%03d/%012d.tcs\n' $((i / 62500)) $(((i / 250) % 250)) "$i"
	done)
	checks=$((checks + 1))
	[ "$(cat "$WORK/tree")" = "$expect" ] || fail "ref of $dev does not hold change sets 1..$n"
	checks=$((checks + 1))
	on "$s" status --json | grep -q '"pending_changes": 0' || fail "$s still has pending changes"
done

for gd in "$WORK/srv/central.git" "$A/repo.git" "$B/repo.git" "$CITY/repo.git"; do
	checks=$((checks + 1))
	git -C "$gd" fsck --strict >"$WORK/fsck" 2>&1 || fail "git fsck $gd: $(cat "$WORK/fsck")"
done
for s in "$A" "$B" "$CITY"; do
	checks=$((checks + 1))
	on "$s" check >"$WORK/check" 2>&1 || fail "tidu check $s: $(cat "$WORK/check")"
done
echo "rounds: $ROUNDS, syncs killed while running: $killed, visits recorded: $expected, in every export: $got"
finish "$checks"
