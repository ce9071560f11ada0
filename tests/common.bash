# Helpers shared by the CLI tests (tests/cli/helpers.bash) and the fault
# tests (tests/fault/lib.bash), sourced by both. $TIDU is the binary under test.

# on HOME ARGS...: tidu on the store at HOME, stdin closed.
on() {
	local home=$1
	shift
	"$TIDU" --home "$home" "$@" </dev/null
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

# device_of HOME: the device id of the store at HOME (fails if none).
device_of() {
	id_of "$1" device
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
	printf '%s%s\n' "$body" "${alphabet:$(((31 - sum % 31) % 31)):1}"
}
