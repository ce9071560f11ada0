# Shared helpers of the fault tests (sourced). $TIDU is the binary under test.
set -u
: "${TIDU:?TIDU must name the tidu binary}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tidu-fault.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export TIDU_HOME="$WORK/home"
export TIDU_PASSPHRASE='fault test passphrase'
export LANG=C.UTF-8
failures=0
. "$(dirname "${BASH_SOURCE[0]}")/../common.bash"

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# Prints "N passed, M failed" and exits non-zero on failure.
finish() {
	echo "$1 passed, $failures failed"
	[ "$failures" -eq 0 ]
}


# uscc_n N: the N-th synthetic USCC of district 410105.
uscc_n() {
	uscc "$(printf '91410105MA%07d' "$1")"
}

# Searches every byte of every file under DIR for each marker; prints hits.
find_plaintext() {
	local dir=$1; shift
	local m
	for m in "$@"; do
		grep -rlaF -- "$m" "$dir" 2>/dev/null | sed "s|^|$m in |"
	done
}
