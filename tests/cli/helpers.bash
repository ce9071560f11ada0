# Shared set-up for the CLI tests. $TIDU is the binary under test (ctest sets
# it); every test gets its own home directory and passphrase.
: "${TIDU:=$BATS_TEST_DIRNAME/../../build/sanitize/tidu}"
: "${TIDU_SOURCE_DIR:=$BATS_TEST_DIRNAME/../..}"
. "$BATS_TEST_DIRNAME/../common.bash"

setup_home() {
	export TIDU_HOME="$BATS_TEST_TMPDIR/home"
	export TIDU_PASSPHRASE='correct horse battery 马'
	unset TIDU_NEW_PASSPHRASE TIDU_RECOVERY_KEY
	export LANG=C.UTF-8 LC_ALL=
	cd "$BATS_TEST_TMPDIR"
}

# init_store [ARGS]: a store for district 410105 unless told otherwise.
init_store() {
	"$TIDU" init --district "${1:-410105}" --officer '王芳' </dev/null
}

tidu() {
	"$TIDU" "$@" </dev/null
}


# The sha256 of every file of the home directory, for "nothing changed".
home_digest() {
	(cd "$TIDU_HOME" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}


# add_assess_firm USCC NAME: a firm with the figures of the assessment
# tests (tier 1 of rules-2022 scores 65 by hand: tests/unit/test_assess.c).
add_assess_firm() {
	tidu firm add "$1" --name "$2" ip_class1=2 ip_class1_self=0 \
		ip_class1_high_value=0 ip_class2=1 product_field=other high_tech_title=0 \
		st_award=none rd_institution=none >/dev/null
	tidu firm set "$1" 2023.equity_financing=0 2024.equity_financing=0 \
		2025.equity_financing=0 2024.revenue=9000 2024.main_revenue=8000 \
		2025.revenue=10000 2025.main_revenue=8800 2025.rd_expense=250 \
		2025.total_assets=10000 2025.total_liabilities=6000 >/dev/null
}

# network: the city ($CITY) sets up the central repository $URL; A (410105, $A) and
# C (410102, $C) join it and are enrolled. Sets CITY_FP.
network() {
	local h
	tidu --home "$CITY" init --district 410100 --officer 市局 --role city >/dev/null
	run on "$CITY" admin repo-init "$URL"
	[ "$status" -eq 0 ]
	CITY_FP=$(id_of "$CITY" fingerprint)
	tidu --home "$A" init --district 410105 --officer 王芳 --city-key "$CITY_FP" >/dev/null
	tidu --home "$C" init --district 410102 --officer 赵敏 --city-key "$CITY_FP" >/dev/null
	for h in "$A" "$C"; do
		on "$h" remote add origin "$URL" >/dev/null
		on "$h" sync >/dev/null
	done
	on "$CITY" sync >/dev/null
	on "$CITY" admin pending --yes >/dev/null
	on "$CITY" sync >/dev/null
	for h in "$A" "$C"; do
		run on "$h" sync --json
		[ "$status" -eq 0 ]
		[[ "$output" == *'"enrolled": true'* ]]
	done
}

# chromium_run ARGS: headless Chromium on FILE (the last argument); its log
# goes to chr.err, which must show no console message and no script error.
chromium_run() {
	command -v chromium >/dev/null || skip "chromium not installed (tools/deps installs it)"
	local page=${!#}
	set -- "${@:1:$#-1}"
	timeout 60 chromium --headless=new --no-sandbox --disable-gpu \
		--user-data-dir="$BATS_TEST_TMPDIR/chr" --enable-logging=stderr --v=0 \
		"$@" "file://$BATS_TEST_TMPDIR/$page" 2>>"$BATS_TEST_TMPDIR/chr.err"
}

# no_console_errors: chromium_run logged no console message and no script error.
no_console_errors() {
	if grep -E 'Uncaught|CONSOLE' "$BATS_TEST_TMPDIR/chr.err"; then
		echo "chromium reported console messages (above)" >&2
		return 1
	fi
}
