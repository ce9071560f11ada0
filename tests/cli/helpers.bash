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

