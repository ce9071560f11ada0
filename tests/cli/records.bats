#!/usr/bin/env bats
# Recording firms, firm-years and visits; bad input leaves the store as it was.
load helpers

setup() {
	setup_home
	init_store >/dev/null
	A=$(uscc 91410105MA1J8T9H5)
	B=$(uscc 91410102MA1EUXG90)
}

# The store's content as canonical JSON (for "unchanged" assertions).
snapshot() { tidu export json; }

@test "every USCC test vector behaves as listed" {
	vectors="$TIDU_SOURCE_DIR/tests/unit/data/uscc_vectors.csv"
	[ -f "$vectors" ]
	n=0
	while IFS=, read -r code valid why; do
		[ "$code" = code ] && continue
		n=$((n + 1))
		run tidu firm add "$code" --name "向量$n"
		if [ "$valid" = 1 ]; then
			[ "$status" -eq 0 ] || { echo "valid $code rejected: $output"; false; }
		else
			[ "$status" -eq 2 ] || { echo "invalid $code ($why) accepted"; false; }
			[[ "$output" == *"$(echo "$code" | tr -d ' ')"* ]] || [[ "$output" == *"USCC"* ]]
		fi
	done < "$vectors"
	[ "$n" -ge 26 ]
}

@test "firm add, set and show round-trip Chinese byte-exact" {
	run tidu firm add "$A" --name '郑州市金水区测试科技有限公司' main_product='智能传感器「α」' \
		address='金水路 1 号 𠀀' employees=120 rd_staff=30 2025.revenue=1234.50
	[ "$status" -eq 0 ]
	run tidu firm set "$A" 2024.revenue=1000 2025.rd_expense=80 product_field=key_gap \
		iso_cert=是 problems_ignored= 2>/dev/null
	[ "$status" -eq 2 ]
	run tidu firm set "$A" 2024.revenue=1000 2025.rd_expense=80 product_field=key_gap iso_cert=是
	[ "$status" -eq 0 ]
	run tidu firm show "$A" --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"name": "郑州市金水区测试科技有限公司"'* ]]
	[[ "$output" == *'"main_product": "智能传感器「α」"'* ]]
	[[ "$output" == *'"address": "金水路 1 号 𠀀"'* ]]
	[[ "$output" == *'"district": "410105"'* ]]
	[[ "$output" == *'"iso_cert": true'* ]]
	[[ "$output" == *'"2025": {'* ]]
	[[ "$output" == *'"revenue": 1234.5'* ]]
	[[ "$output" == *'"2024": {'* ]]
	run tidu firm show "$A"
	[ "$status" -eq 0 ]
	[[ "$output" == *郑州市金水区测试科技有限公司* ]]
}

@test "firm add of a stored USCC is refused" {
	tidu firm add "$A" --name 甲
	before=$(snapshot)
	run tidu firm add "$(echo "$A" | tr A-Z a-z)" --name 乙
	[ "$status" -eq 2 ]
	[[ "$output" == *"$A"* ]]
	[ "$(snapshot)" = "$before" ]
}

@test "bad values exit 2 naming field and value, and change nothing" {
	tidu firm add "$A" --name 甲 ip_class1=3
	before=$(snapshot)
	for bad in revenue=12 employees=12abc 2025.revenue=12abc 2025.revenue=1e999 \
		2025.revenue=nan founded=2025-02-30 founded=2025-13-01 product_field=gold \
		rd_institution=galactic district=999999 ip_class1_self=4 digital_level=9 \
		phone=call-me 2025.main_revenue=-5x industry=C9999 chain=X99 nosuchkey=1 \
		1848.revenue=1 visits=1; do
		run tidu firm set "$A" name=改名 "$bad"
		[ "$status" -eq 2 ] || { echo "accepted: $bad"; false; }
		key=${bad%%=*}; key=${key#*.}
		[[ "$output" == *"$key"* ]] || { echo "message for $bad: $output"; false; }
		[ "${#lines[@]}" -eq 1 ] || { echo "not one line: $output"; false; }
	done
	[ "$(snapshot)" = "$before" ]
	run tidu firm set "$A" $'name=\xff\xfe'
	[ "$status" -eq 2 ]
	[ "$(snapshot)" = "$before" ]
}

@test "main revenue cannot exceed revenue; the self-developed IP count cannot exceed ip_class1" {
	tidu firm add "$A" --name 甲 2025.revenue=100
	run tidu firm set "$A" 2025.main_revenue=150
	[ "$status" -eq 2 ]
	[[ "$output" == *main_revenue* ]]
	run tidu firm set "$A" ip_class1=2 ip_class1_self=3
	[ "$status" -eq 2 ]
	[[ "$output" == *ip_class1_self* ]]
	run tidu firm set "$A" ip_class1=3 ip_class1_self=3
	[ "$status" -eq 0 ]
}

@test "firm list filters by district and search text, as a table or JSON" {
	# Firms of two districts: only the city's store files both (issue 9, item 7).
	rm -rf "$TIDU_HOME"
	tidu init --district 410100 --officer 市局 --role city >/dev/null
	tidu firm add "$A" --name 甲科技 main_product=传感器
	tidu firm add "$B" --name 乙制造 district=410102
	run tidu firm list --json
	[ "$status" -eq 0 ]
	[[ "$output" == *甲科技* && "$output" == *乙制造* ]]
	[[ "$output" == \[* ]]
	run tidu firm list --district 410102
	[[ "$output" == *乙制造* && "$output" != *甲科技* ]]
	run tidu firm list --search 传感
	[[ "$output" == *甲科技* && "$output" != *乙制造* ]]
	run tidu firm list --search '%'
	[ "$status" -eq 0 ]
	[[ "$output" != *甲科技* ]]
	run tidu firm list --district 123
	[ "$status" -eq 2 ]
}

@test "visit add prints only the id; list and show give it back" {
	tidu firm add "$A" --name 甲
	run tidu visit add "$A" --date 2025-03-01 --kind first --note $'第一次走访\n多行' \
		problems=weak_ip,industry_mismatch needs=financing
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
	id=$output
	run tidu visit show "$id" --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"note": "第一次走访\n多行"'* ]]
	[[ "$output" == *'"problems": ['* ]]
	[[ "$output" == *'"officer": "王芳"'* ]]
	run tidu visit list "$A" --json
	[[ "$output" == *"$id"* ]]
	run tidu visit list
	[[ "$output" == *"$id"* ]]
	second=$(tidu visit add "$A")
	run tidu visit show "$second" --json
	[[ "$output" == *'"kind": "follow_up"'* ]]
}

@test "a visit for a firm not in the store, or with bad fields, is refused" {
	before=$(snapshot)
	run tidu visit add "$A" --note x
	[ "$status" -eq 2 ]
	[[ "$output" == *"$A"* ]]
	tidu firm add "$A" --name 甲
	before=$(snapshot)
	for bad in --date=2025-02-29 --kind=party problems=sleepy lat=91; do
		run tidu visit add "$A" "$bad"
		[ "$status" -eq 2 ] || { echo "accepted $bad"; false; }
	done
	[ "$(snapshot)" = "$before" ]
}

@test "export json is canonical and stable" {
	tidu firm add "$B" --name 乙 2024.revenue=1 2023.revenue=2
	tidu firm add "$A" --name 甲
	tidu visit add "$A" >/dev/null
	tidu export json > "$BATS_TEST_TMPDIR/one"
	tidu export json > "$BATS_TEST_TMPDIR/two"
	cmp "$BATS_TEST_TMPDIR/one" "$BATS_TEST_TMPDIR/two"
	# Firms in USCC order, years in year order.
	a=$(grep -n "\"uscc\": \"$A\"" "$BATS_TEST_TMPDIR/one" | head -1 | cut -d: -f1)
	b=$(grep -n "\"uscc\": \"$B\"" "$BATS_TEST_TMPDIR/one" | head -1 | cut -d: -f1)
	if [[ "$A" < "$B" ]]; then [ "$a" -lt "$b" ]; else [ "$b" -lt "$a" ]; fi
	y3=$(grep -n '"2023"' "$BATS_TEST_TMPDIR/one" | cut -d: -f1)
	y4=$(grep -n '"2024"' "$BATS_TEST_TMPDIR/one" | cut -d: -f1)
	[ "$y3" -lt "$y4" ]
}

@test "delete writes a tombstone; the firm can be added again; unknown ones are refused" {
	tidu firm add "$A" --name 甲
	id=$(tidu visit add "$A" --note 记录)
	run tidu visit delete "$id"
	[ "$status" -eq 0 ]
	run tidu visit show "$id"
	[ "$status" -eq 2 ]
	run tidu visit delete "$id"
	[ "$status" -eq 2 ]
	run tidu firm delete "$A"
	[ "$status" -eq 0 ]
	run tidu firm list --json
	[ "$status" -eq 0 ]
	[[ "$output" != *甲* ]]
	run tidu firm set "$A" name=乙
	[ "$status" -eq 2 ]
	run tidu firm add "$A" --name 丙
	[ "$status" -eq 0 ]
	run tidu firm show "$A" --json
	[[ "$output" == *'"name": "丙"'* ]]
	run tidu firm delete "$B"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$B"* ]]
	run tidu status --json
	[[ "$output" == *'"firms": 1'* ]]
}

# Issue 9, item 5: a write that changes nothing records nothing, so that
# re-importing an unchanged master list never overrides a colleague's
# correction (it would win on every replica, the correction only a conflict).
@test "a write that changes no value records no change" {
	pending() { tidu status --json | sed -n 's/.*"pending_changes": \([0-9]*\).*/\1/p'; }
	run tidu firm add "$A" --name '郑州甲科技有限公司' employees=12
	[ "$status" -eq 0 ]
	[ "$(pending)" = 1 ]
	run tidu firm set "$A" name='郑州甲科技有限公司'
	[ "$status" -eq 0 ]
	run tidu firm set "$A" name='郑州甲科技有限公司' employees=12
	[ "$status" -eq 0 ]
	[ "$(pending)" = 1 ]
	printf 'uscc,name,employees\n%s,郑州甲科技有限公司,12\n' "$A" > "$BATS_TEST_TMPDIR/list.csv"
	run tidu firm import "$BATS_TEST_TMPDIR/list.csv"
	[ "$status" -eq 0 ]
	[ "$(pending)" = 1 ]
	run tidu firm set "$A" employees=13
	[ "$status" -eq 0 ]
	[ "$(pending)" = 2 ]
}
