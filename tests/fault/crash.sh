#!/usr/bin/env bash
# kill -9 at random moments during imports and visit adds, many times over:
# the store always reopens, integrity is ok, every command that exited 0 kept
# its data, an import is all or nothing, and no recorded value is ever on
# disk in plaintext (the WAL left by a killed process included).
. "$(dirname "$0")/lib.bash"
ROUNDS=${TIDU_CRASH_ROUNDS:-30}

"$TIDU" init --district 410105 --officer 测试员 </dev/null >/dev/null || { fail init; finish 0; exit 1; }
: > "$WORK/visits.ok"
: > "$WORK/imports.ok"
# The firm the visits are for, stored before any kill.
"$TIDU" firm add "$(uscc_n 0)" --name 走访对象 </dev/null >/dev/null || fail "firm add"

next=1
rounds=0
for round in $(seq 1 "$ROUNDS"); do
	# An import of 150 new firms, then visit adds, in one process group.
	first=$next
	next=$((next + 150))
	{
		echo "uscc,name,main_product,2025.revenue"
		for i in $(seq "$first" $((next - 1))); do
			printf '%s,明文标记企业%d,PLAINMARK-%d,%d\n' "$(uscc_n "$i")" "$i" "$i" "$i"
		done
	} > "$WORK/import-$round.csv"
	cat > "$WORK/loop.sh" <<LOOP
if "$TIDU" firm import "$WORK/import-$round.csv" </dev/null >/dev/null 2>&1; then
	echo "$round $first" >> "$WORK/imports.ok"
fi
while :; do
	id=\$("$TIDU" visit add "$(uscc_n 0)" --note "走访明文VISITMARK-$round" </dev/null 2>/dev/null) &&
		echo "\$id" >> "$WORK/visits.ok"
done
LOOP
	# Its own process group, so that kill -9 reaches only its processes.
	setsid bash "$WORK/loop.sh" &
	pid=$!
	sleep "$((RANDOM % 2)).$((RANDOM % 10))$((RANDOM % 10))"
	kill -9 -- "-$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rounds=$((rounds + 1))

	# Plaintext: look at the files exactly as the killed process left them.
	hits=$(find_plaintext "$TIDU_HOME" "明文标记" "PLAINMARK-" "VISITMARK-" "走访明文")
	[ -z "$hits" ] || fail "round $round: plaintext on disk: $hits"

	"$TIDU" check </dev/null >"$WORK/out" 2>&1 || fail "round $round: check failed: $(cat "$WORK/out")"
done

# Every import that exited 0 is complete; every other one is all or nothing.
"$TIDU" export json </dev/null > "$WORK/final.json" || fail "export after crashes"
for round in $(seq 1 "$rounds"); do
	first=$(( (round - 1) * 150 + 1 ))
	n=0
	for i in $first $((first + 74)) $((first + 149)); do
		grep -q "\"uscc\": \"$(uscc_n "$i")\"" "$WORK/final.json" && n=$((n + 1))
	done
	if grep -q "^$round " "$WORK/imports.ok"; then
		[ "$n" -eq 3 ] || fail "import $round exited 0 but lost firms"
	else
		[ "$n" -eq 0 ] || [ "$n" -eq 3 ] || fail "import $round half-written ($n of 3 sampled firms)"
	fi
done
count=$(grep -c '"uscc": "' "$WORK/final.json")
nvisits=0
while read -r id; do
	nvisits=$((nvisits + 1))
	grep -q "\"id\": \"$id\"" "$WORK/final.json" || fail "visit $id exited 0 but is gone"
done < "$WORK/visits.ok"
# A loop in which nothing ever succeeds proves nothing.
[ -s "$WORK/imports.ok" ] || fail "no import ever completed: the test exercised nothing"
[ -s "$WORK/visits.ok" ] || fail "no visit add ever completed: the test exercised nothing"
echo "rounds: $rounds, imports completed: $(wc -l < "$WORK/imports.ok"), visits kept: $nvisits, firms stored: $count"
finish "$rounds"
