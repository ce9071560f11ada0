#!/usr/bin/env bash
# Load: 40 officer stores in 4 districts and the city, enrolled through the
# central repository, syncing concurrently (at most $TIDU_SYNC_LOAD_JOBS at
# once, default 8) against one `git daemon --enable=receive-pack` on
# 127.0.0.1 (tests/servers/servers.bash). Three rounds: each officer records
# something and syncs, the city syncs among them; in round 3 every officer
# of a district also edits the same field of one shared firm (conflicts).
# Then everyone syncs, the city syncs, everyone syncs again. Afterwards:
#   - every sync exited 0;
#   - no change set is missing: every change set an officer sealed is in the
#     city's log as applied, with the same hash, and the officer's ref on
#     the server holds exactly its change sets 1..N;
#   - every officer's `tidu export json` equals the city's
#     `tidu export json --district D` of its district;
#   - `git fsck --strict` of the central repository is clean, and the city
#     store checks clean.
# Each tidu command pays Argon2id (about 0.1 s): about 700 commands in all.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/../servers/servers.bash"
trap 'servers_stop; rm -rf "$WORK"' EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
OFFICERS=${TIDU_SYNC_LOAD_OFFICERS:-40}
JOBS=${TIDU_SYNC_LOAD_JOBS:-8}
DISTRICTS=(410102 410103 410105 410122)
CITY=$WORK/city
SRV=$WORK/srv
checks=0
T0=$SECONDS
mkdir -p "$WORK/log"

home_of() { echo "$WORK/o$1"; }
district_of() { echo "${DISTRICTS[$(($1 % ${#DISTRICTS[@]}))]}"; }
# firm_of I N: the N-th firm of officer I (a USCC of the officer's district).
firm_of() { uscc "$(printf '91%sMA%03d%04d' "$(district_of "$1")" "$1" "$2")"; }

# step WHAT I: one unit of work for officer I (or the city for I = city),
# run by xargs in parallel. A failure leaves a file in $WORK/log/fail.
step() {
	local what=$1 i=$2 h d out rc
	if [ "$i" = city ]; then h=$CITY what=sync; else h=$(home_of "$i") d=$(district_of "$i"); fi
	case $what in
	join)
		out=$(on "$h" init --district "$d" --officer "测试员$i" --city-key "$CITY_FP" \
			--remote "$URL" 2>&1) || { echo "init $i: $out" >>"$WORK/log/fail"; return 0; }
		;;
	r1)
		out=$(on "$h" firm add "$(firm_of "$i" 1)" --name "负载测试企业$i" \
			employees=$((10 + i)) main_product="产品$i" 2>&1) ||
			{ echo "round 1 firm add $i: $out" >>"$WORK/log/fail"; return 0; }
		;;
	r2)
		out=$(on "$h" visit add "$(firm_of "$i" 1)" --kind first --note "第2轮走访$i" 2>&1) ||
			{ echo "round 2 visit add $i: $out" >>"$WORK/log/fail"; return 0; }
		;;
	r3)
		# The district's first officer's firm, read from round 1's syncs:
		# every officer of the district sets the same field (conflicts).
		out=$(on "$h" firm set "$(firm_of $((i % ${#DISTRICTS[@]})) 1)" \
			contact="联系人$i" 2025.revenue=$((100 + i)) 2>&1) ||
			{ echo "round 3 firm set $i: $out" >>"$WORK/log/fail"; return 0; }
		;;
	sync) ;;
	esac
	out=$(on "$h" sync 2>&1)
	rc=$?
	echo "$what $i $rc" >>"$WORK/log/syncs"
	if [ "$rc" -ne 0 ]; then
		echo "sync ($what) of $i: exit $rc: $out" >>"$WORK/log/fail"
	fi
	return 0
}
export -f step on home_of district_of firm_of uscc
export WORK TIDU CITY URL CITY_FP DISTRICTS_S="${DISTRICTS[*]}"

# parallel WHAT I...: step WHAT for each I, $JOBS at a time.
parallel() {
	local what=$1
	shift
	printf '%s\n' "$@" | xargs -P "$JOBS" -n 1 bash -c \
		'DISTRICTS=($DISTRICTS_S); step "$0" "$1"' "$what"
}

failures_of() {
	local label=$1 n
	n=0
	[ -f "$WORK/log/fail" ] && n=$(wc -l <"$WORK/log/fail")
	checks=$((checks + 1))
	if [ "$n" -ne 0 ]; then
		fail "$label: $n failed steps:"
		head -20 "$WORK/log/fail" >&2
	fi
	rm -f "$WORK/log/fail"
}

officers=$(seq 0 $((OFFICERS - 1)))

# ---- set-up: the city, the repository, 40 officers enrolled through it -------
mkdir -p "$SRV"
central_repo "$SRV" central.git || { fail "central_repo"; finish 0; exit 1; }
git_daemon_start "$SRV" || { fail "git daemon"; finish 0; exit 1; }
URL=$GIT_DAEMON_URL/central.git
export URL
if ! { on "$CITY" init --district 410100 --officer 市局 --role city >/dev/null &&
	on "$CITY" admin repo-init "$URL" >/dev/null; }; then
	fail "city set-up"
	finish 0
	exit 1
fi
CITY_FP=$(on "$CITY" id --json | sed -n 's/^  "fingerprint": "\(.*\)",/\1/p')
export CITY_FP
parallel join $officers
failures_of "joining (init --remote, first sync)"
out=$(on "$CITY" sync --json 2>&1)
checks=$((checks + 1))
[[ "$out" == *"\"requests\": $OFFICERS"* ]] || fail "city sees not $OFFICERS requests: $out"
out=$(on "$CITY" admin pending --yes 2>&1)
checks=$((checks + 1))
[ "$(grep -c '^Enrolled device' <<<"$out")" -eq "$OFFICERS" ] || fail "pending --yes: $out"
out=$(on "$CITY" sync 2>&1) || fail "city sync after approval: $out"
parallel sync $officers
failures_of "first sync after enrollment"
echo "set-up: $OFFICERS officers enrolled in $((SECONDS - T0)) s"

# ---- three rounds, the city syncing among the officers ------------------------
for r in 1 2 3; do
	# The city's sync comes in the middle of the officers' (concurrently).
	half=$((OFFICERS / 2))
	parallel "r$r" $(seq 0 $((half - 1))) city $(seq "$half" $((OFFICERS - 1)))
	failures_of "round $r"
	echo "round $r: done at $((SECONDS - T0)) s"
done

# ---- final: everyone syncs, the city syncs, everyone syncs again ---------------
parallel sync $officers
failures_of "final sync 1"
out=$(on "$CITY" sync 2>&1)
rc=$?
checks=$((checks + 1))
[ "$rc" -eq 0 ] || fail "final city sync: exit $rc: $out"
parallel sync $officers
failures_of "final sync 2"
syncs=$(wc -l <"$WORK/log/syncs")
echo "final syncs: done at $((SECONDS - T0)) s ($syncs concurrent syncs in all)"

# ---- checks -------------------------------------------------------------------
# log_of HOME: "device seq state hash mine" per change set of `changes log --json`.
log_of() {
	on "$1" changes log --json | awk -F'"' '
		/"device":/ {dev = $4}
		/"seq":/ {seq = $3; gsub(/[^0-9]/, "", seq)}
		/"state":/ {st = $4}
		/"hash":/ {h = $4}
		/"mine":/ {m = ($0 ~ /true/) ? 1 : 0; print dev, seq, st, h, m}'
}
log_of "$CITY" | awk '$3 == "applied" {print $1, $2, $4}' | sort >"$WORK/city.applied"
checks=$((checks + 1))
[ -s "$WORK/city.applied" ] || fail "the city's log holds no applied change set"
on "$CITY" export json --district 410100 >/dev/null 2>&1 # (not checked: no firms)
for d in "${DISTRICTS[@]}"; do
	on "$CITY" export json --district "$d" >"$WORK/city.$d.json" ||
		fail "city export --district $d"
done
total_sealed=0
for i in $officers; do
	h=$(home_of "$i") d=$(district_of "$i")
	log_of "$h" | awk '$5 == 1 && $3 == "sealed" {print $1, $2, $4}' | sort >"$WORK/own"
	n=$(wc -l <"$WORK/own")
	total_sealed=$((total_sealed + n))
	dev=$(head -1 "$WORK/own" | cut -d' ' -f1)
	checks=$((checks + 1))
	# Setup sync, three rounds: at least three change sets each.
	[ "$n" -ge 3 ] || { fail "officer $i sealed only $n change sets"; continue; }
	missing=$(comm -23 "$WORK/own" "$WORK/city.applied")
	checks=$((checks + 1))
	[ -z "$missing" ] || fail "officer $i ($dev): not applied on the city (device seq hash): $missing"
	# The server's ref holds exactly change sets 1..n.
	git -C "$SRV/central.git" ls-tree -r --name-only "refs/heads/$d/$dev" >"$WORK/tree" 2>&1
	expect=$(for s in $(seq 1 "$n"); do
		printf 'cs/%04d/%03d/%012d.tcs\n' $((s / 62500)) $(((s / 250) % 250)) "$s"
	done)
	checks=$((checks + 1))
	[ "$(cat "$WORK/tree")" = "$expect" ] || fail "officer $i: ref $d/$dev does not hold change sets 1..$n"
	on "$h" export json >"$WORK/o.json"
	checks=$((checks + 1))
	cmp -s "$WORK/o.json" "$WORK/city.$d.json" ||
		fail "officer $i ($d): export differs from the city's --district $d: $(diff "$WORK/o.json" "$WORK/city.$d.json" | head -5)"
done
# What the exports hold: every officer's firm, visit and the shared edits.
for d in "${DISTRICTS[@]}"; do
	checks=$((checks + 1))
	n=$(grep -c '负载测试企业' "$WORK/city.$d.json")
	[ "$n" -eq $((OFFICERS / ${#DISTRICTS[@]})) ] || fail "district $d: $n firms in the city's export"
	checks=$((checks + 1))
	n=$(grep -c '第2轮走访' "$WORK/city.$d.json")
	[ "$n" -eq $((OFFICERS / ${#DISTRICTS[@]})) ] || fail "district $d: $n visits in the city's export"
done
checks=$((checks + 1))
[ "$(wc -l <"$WORK/city.applied")" -eq "$total_sealed" ] ||
	fail "the city applied $(wc -l <"$WORK/city.applied") change sets, officers sealed $total_sealed"
# Round 3: the officers of a district set the contact of one shared firm,
# each before its sync: concurrent edits. The city holds a contact conflict
# on the shared firm of every district with two officers or more.
on "$CITY" conflicts --json >"$WORK/conflicts.json" || fail "city conflicts --json"
conflicts=$(grep -c '"field": "contact"' "$WORK/conflicts.json")
awk -F'"' '/"uscc":/ {u = $4} /"field": "contact"/ {print u}' "$WORK/conflicts.json" |
	sort -u >"$WORK/conflicted"
checks=$((checks + 1))
[ "$conflicts" -gt 0 ] || fail "round 3 made no contact conflict on the city"
for k in "${!DISTRICTS[@]}"; do
	[ $((k + ${#DISTRICTS[@]})) -lt "$OFFICERS" ] || continue # fewer than two officers
	checks=$((checks + 1))
	grep -qx "$(firm_of "$k" 1)" "$WORK/conflicted" ||
		fail "district ${DISTRICTS[$k]}: no contact conflict on the shared firm $(firm_of "$k" 1)"
done
checks=$((checks + 1))
git -C "$SRV/central.git" fsck --strict >"$WORK/fsck" 2>&1 ||
	fail "git fsck --strict on the central repository: $(cat "$WORK/fsck")"
checks=$((checks + 1))
on "$CITY" check >"$WORK/check" 2>&1 || fail "tidu check (city): $(cat "$WORK/check")"
echo "officers: $OFFICERS in ${#DISTRICTS[@]} districts, $JOBS at once; change sets sealed: $total_sealed, applied on the city: $(wc -l <"$WORK/city.applied"); contact conflicts on the city: $conflicts; $syncs syncs; $((SECONDS - T0)) s"
finish "$checks"
