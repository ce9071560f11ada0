# Shared set-up for the CLI tests. $TIDU is the binary under test (ctest sets
# it); every test gets its own home directory and passphrase.
: "${TIDU:=$BATS_TEST_DIRNAME/../../build/sanitize/tidu}"
: "${TIDU_SOURCE_DIR:=$BATS_TEST_DIRNAME/../..}"

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

# id_of HOME KEY: the string value of KEY ("device", "fingerprint",
# "city_fingerprint"...) in 'tidu id --json' of the store at HOME. Fails,
# printing nothing, when the key is missing, null or empty. Use it only in
# an assignment (v=$(id_of ...)): a failing $(...) inside [ ] or [[ ]] goes
# unnoticed and an empty value makes *"$v"* match anything.
id_of() {
	local v
	v=$("$TIDU" --home "$1" id --json </dev/null |
		sed -n "s/^  \"$2\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p")
	if [ -z "$v" ]; then
		echo "id_of: no \"$2\" in 'tidu id --json' of $1" >&2
		return 1
	fi
	printf '%s\n' "$v"
}

# The sha256 of every file of the home directory, for "nothing changed".
home_digest() {
	(cd "$TIDU_HOME" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

# A valid USCC made from a 17-character body (computes the check character).
uscc() {
	local body=$1 alphabet=0123456789ABCDEFGHJKLMNPQRTUWXY
	local weights=(1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28)
	local sum=0 i c v
	for ((i = 0; i < 17; i++)); do
		c=${body:i:1}
		v=${alphabet%%"$c"*}
		sum=$((sum + ${#v} * weights[i]))
	done
	local check=$(((31 - sum % 31) % 31))
	printf '%s%s\n' "$body" "${alphabet:check:1}"
}
