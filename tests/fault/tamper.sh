#!/usr/bin/env bash
# One flipped byte anywhere in the database file: `tidu check` exits 4; other
# commands exit 4 naming corruption/tampering, or give exactly the right
# output: never wrong data, never a crash.
. "$(dirname "$0")/lib.bash"

"$TIDU" init --district 410105 --officer 测试员 </dev/null >/dev/null || { fail init; finish 0; exit 1; }
for i in $(seq 1 60); do
	printf '%s,企业%d号,%d,%d.5\n' "$(uscc_n "$i")" "$i" "$i" "$i"
done | sed '1i uscc,name,employees,2025.revenue' > "$WORK/firms.csv"
"$TIDU" firm import "$WORK/firms.csv" </dev/null >/dev/null || fail import
"$TIDU" visit add "$(uscc_n 1)" --note "$(head -c 3000 /dev/zero | tr '\0' x)" </dev/null >/dev/null || fail visit
"$TIDU" export json </dev/null > "$WORK/good.json" || fail export
"$TIDU" firm list </dev/null > "$WORK/good.list" || fail list
"$TIDU" check </dev/null >/dev/null || fail "check of the sound store"
[ ! -e "$TIDU_HOME/tidu.db-wal" ] || [ ! -s "$TIDU_HOME/tidu.db-wal" ] || echo "note: WAL left after close"
cp -a "$TIDU_HOME" "$WORK/pristine"
size=$(stat -c %s "$WORK/pristine/tidu.db")
echo "database: $size bytes"

# Positions: all over both key header copies, the start, middle, nonce and
# tag of page 1 and of later pages, and random places.
positions="0 7 8 16 40 100 1000 2047 2048 2100 3000 4095 4096 4100 4196 8151 8152 8175 8176 8191"
pages=$(( (size - 4096) / 4096 ))
for p in 2 3 $((pages / 2)) $pages; do
	base=$((4096 + (p - 1) * 4096))
	positions="$positions $base $((base + 2000)) $((base + 4056)) $((base + 4080)) $((base + 4095))"
done
for _ in $(seq 1 25); do
	positions="$positions $(( (RANDOM * 32768 + RANDOM) % size ))"
done

tested=0
for pos in $positions; do
	[ "$pos" -lt "$size" ] || continue
	rm -rf "$TIDU_HOME"
	cp -a "$WORK/pristine" "$TIDU_HOME"
	byte=$(od -An -tu1 -j "$pos" -N1 "$TIDU_HOME/tidu.db" | tr -d ' ')
	printf "$(printf '\\%03o' $(( (byte ^ (1 << (pos % 8))) & 255 )))" |
		dd of="$TIDU_HOME/tidu.db" bs=1 seek="$pos" conv=notrunc status=none
	tested=$((tested + 1))

	"$TIDU" check </dev/null >"$WORK/out" 2>&1
	rc=$?
	[ "$rc" -eq 4 ] || fail "byte $pos flipped: check exited $rc: $(cat "$WORK/out")"

	for cmd in "export json" "firm list"; do
		"$TIDU" $cmd </dev/null >"$WORK/out" 2>"$WORK/err"
		rc=$?
		want="$WORK/good.json"
		[ "$cmd" = "firm list" ] && want="$WORK/good.list"
		if [ "$rc" -eq 0 ]; then
			cmp -s "$WORK/out" "$want" || fail "byte $pos flipped: '$cmd' gave wrong data"
		elif [ "$rc" -eq 4 ]; then
			grep -qiE 'corrupt|tamper' "$WORK/err" || fail "byte $pos: exit 4 without saying why: $(cat "$WORK/err")"
		else
			fail "byte $pos flipped: '$cmd' exited $rc: $(head -c 300 "$WORK/err")"
		fi
	done
done
echo "flipped $tested positions"
finish "$tested"
