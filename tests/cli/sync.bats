#!/usr/bin/env bats
# tidu sync through a central git repository: enrollment through the
# repository, records, conflicts, revocation, the city pool; against git
# daemon and smart HTTP (nginx + fcgiwrap + git http-backend, basic auth),
# each started here on 127.0.0.1 (tests/servers/servers.bash); refusals by
# the server, wrong credentials, a server that is down, refs tampered with
# on the server, a forged keyring, two syncs at once, the repository layout.
load helpers

setup() {
	setup_home
	. "$BATS_TEST_DIRNAME/../servers/servers.bash"
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
	export TIDU_GIT_USERNAME=tidu-test TIDU_GIT_PASSWORD='test pass 口令'
	SRV="$BATS_TEST_TMPDIR/srv"
	mkdir -p "$SRV"
	CITY="$BATS_TEST_TMPDIR/city"
	A="$BATS_TEST_TMPDIR/a" # 410105
	B="$BATS_TEST_TMPDIR/b" # 410105
	D="$BATS_TEST_TMPDIR/d" # 410105
	C="$BATS_TEST_TMPDIR/c" # 410102
	F=$(uscc 91410105MA1J8T9H5)
	G=$(uscc 91410102MA1EUXG90)
}

teardown() {
	servers_stop
}

# city_admin SUB ARGS: 'tidu admin SUB' on the city store.
city_admin() {
	tidu --home "$CITY" admin "$@"
}

# join HOME DISTRICT OFFICER URL: a laptop with the city key pinned and the
# remote set; its first sync publishes its enrollment request.
join() {
	tidu --home "$1" init --district "$2" --officer "$3" --city-key "$CITY_FP" >/dev/null
	on "$1" remote add origin "$4" >/dev/null
	run on "$1" sync
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"enrollment request"* ]]
}

# network URL: the city sets up URL; A, B, D (410105) and C (410102) join
# and are enrolled through the repository.
network() {
	local url=$1 s fpa
	tidu --home "$CITY" init --district 410100 --officer 市局 --role city >/dev/null
	run city_admin repo-init "$url"
	echo "$output"
	[ "$status" -eq 0 ]
	CITY_FP=$(id_of "$CITY" fingerprint)
	join "$A" 410105 王芳 "$url"
	join "$B" 410105 李雷 "$url"
	join "$D" 410105 韩梅 "$url"
	join "$C" 410102 赵敏 "$url"
	run on "$CITY" sync --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"requests": 4'* ]]
	run city_admin pending
	[ "$status" -eq 2 ] # no terminal, no --yes: nothing approved
	run city_admin pending --yes
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^Enrolled device' <<<"$output")" -eq 4 ]
	fpa=$(id_of "$A" fingerprint)
	[[ "$output" == *"$fpa"* ]]
	run on "$CITY" sync --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"keyring_version": 2'* ]]
	for s in A B D C; do
		run on "${!s}" sync --json
		[ "$status" -eq 0 ]
		[[ "$output" == *'"enrolled": true'* ]]
	done
}

# sync_all STORE...: one sync each, in order; refusals are checked elsewhere.
sync_all() {
	local s
	for s in "$@"; do
		on "$s" sync >/dev/null 2>&1 || [ $? -eq 4 ]
	done
}

# Every object of the bare repository GITDIR, uncompressed, must hold none
# of the markers.
no_plaintext() {
	local gd=$1 m
	shift
	git -C "$gd" rev-list --objects --all | cut -d' ' -f1 |
		git -C "$gd" cat-file --batch >"$BATS_TEST_TMPDIR/objects"
	[ -s "$BATS_TEST_TMPDIR/objects" ]
	for m in "$@"; do
		run grep -qaF -- "$m" "$BATS_TEST_TMPDIR/objects"
		[ "$status" -eq 1 ] || { echo "found $m (grep exit $status)"; false; }
	done
}

# The whole job over one server: records, a conflict, a revocation.
scenario() {
	local url=$1 gd=$2 devd refs
	network "$url"
	on "$A" firm add "$F" --name 郑州明文甲科技 contact=PLAINMARK-A main_product=秘密传感器
	on "$C" firm add "$G" --name 中原明文乙制造
	sync_all "$A" "$B" "$D" "$C" "$CITY" "$A" "$B" "$D" "$C"
	run on "$B" firm show "$F" --json
	[[ "$output" == *郑州明文甲科技* ]]
	run on "$C" firm list
	[ "$status" -eq 0 ]
	[[ "$output" != *郑州明文甲科技* ]] # other district: not readable
	on "$B" visit add "$F" --note '李雷走访VISITMARK' >/dev/null

	# The same field changed on two laptops: a conflict on every store.
	on "$A" firm set "$F" name=王芳改的名
	on "$B" firm set "$F" name=李雷改的名 employees=12
	run on "$A" sync --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"sent": 1'* ]]
	run on "$B" sync --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"conflicts": 1'* ]]
	sync_all "$A" "$D" "$CITY"
	for s in "$A" "$B" "$D" "$CITY"; do
		run on "$s" conflicts --json
		[[ "$output" == *'"field": "name"'* ]]
		[[ "$output" == *王芳改的名* && "$output" == *李雷改的名* ]]
	done

	# Revocation of D with rotation, reaching everyone by sync.
	devd=$(device_of "$D")
	on "$CITY" admin revoke "$devd" --yes >/dev/null
	run on "$CITY" sync --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"keyring_version": 3'* ]]
	on "$D" firm set "$F" contact=吊销后写的
	run on "$D" sync
	[ "$status" -eq 0 ]
	[[ "$output" == *revoked* ]]
	run on "$A" sync
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"$devd"* && "$output" == *revoked* ]]
	run on "$A" sync # reported once
	[ "$status" -eq 0 ]
	on "$B" firm set "$F" main_product=新纪元产品
	sync_all "$B" "$CITY" "$A" "$C"
	run on "$D" sync --json # sealed to the new epoch: D cannot read it
	echo "$output"
	[[ "$output" == *'"skipped": 1'* ]]
	run on "$D" firm show "$F" --json
	[ "$status" -eq 0 ]
	[[ "$output" != *新纪元产品* ]]

	# The city's own edits reach the district of the firm, and only it; a
	# firm the city adds belongs to the district of its USCC.
	local h desk102 desk105 vid
	h=$(uscc 91410102MA1EUXH30)
	on "$CITY" firm set "$F" contact=市局联系人CITYMARK
	on "$CITY" firm set "$G" main_product=市局改的产品CITYMARK2
	on "$CITY" firm add "$h" --name 市局新增企业CITYMARK3
	vid=$(on "$CITY" visit add "$G" --note 市局走访CITYMARK4)
	run on "$CITY" sync --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"sent": 2'* ]] # one change set per district
	desk105=$(git -C "$gd" for-each-ref --format='%(refname)' refs/heads/city/410105/)
	desk102=$(git -C "$gd" for-each-ref --format='%(refname)' refs/heads/city/410102/)
	[ -n "$desk105" ] && [ -n "$desk102" ]
	sync_all "$A" "$C"
	run on "$A" firm show "$F" --json
	[[ "$output" == *市局联系人CITYMARK* ]]
	run on "$C" firm show "$G" --json
	[[ "$output" == *市局改的产品CITYMARK2* ]]
	run on "$C" firm show "$h" --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"district": "410102"'* ]]
	run on "$C" visit show "$vid" --json
	[[ "$output" == *市局走访CITYMARK4* ]]
	run on "$A" firm list
	[ "$status" -eq 0 ]
	[[ "$output" != *市局新增企业CITYMARK3* ]]
	# An officer does not fetch another district's desk ref.
	refs=$(git -C "$A/repo.git" for-each-ref --format='%(refname)')
	grep -q 'city/410105/' <<<"$refs"
	run grep -q 'city/410102/' <<<"$refs"
	[ "$status" -eq 1 ]
	# The city and an officer change one field at once: a conflict on both.
	on "$CITY" firm set "$F" employees=77
	on "$A" firm set "$F" employees=88
	sync_all "$CITY" "$A" "$CITY"
	for s in "$A" "$CITY"; do
		run on "$s" conflicts --json
		[[ "$output" == *'"field": "employees"'* ]]
	done

	# Everyone converges on its part of the pool.
	sync_all "$A" "$B" "$C" "$CITY" "$A" "$B" "$C"
	on "$CITY" export json --district 410105 >city105.json
	on "$CITY" export json --district 410102 >city102.json
	on "$A" export json >a.json
	on "$B" export json >b.json
	on "$C" export json >c.json
	cmp a.json city105.json
	cmp b.json city105.json
	cmp c.json city102.json
	grep -q 新纪元产品 a.json
	grep -q 李雷走访VISITMARK a.json
	grep -q 市局联系人CITYMARK a.json
	grep -q 市局新增企业CITYMARK3 c.json
	run grep -q 市局新增企业CITYMARK3 a.json
	[ "$status" -eq 1 ]
	run grep -q 吊销后写的 a.json
	[ "$status" -eq 1 ]
	# The pool names the device tips it merged.
	git -C "$gd" show refs/heads/city/pool:tips.txt | grep -q "refs/heads/410105/$(device_of "$A") "
	git -C "$gd" fsck --strict
	no_plaintext "$gd" 郑州明文甲科技 PLAINMARK-A 秘密传感器 中原明文乙制造 李雷走访VISITMARK \
		王芳改的名 李雷改的名 新纪元产品 吊销后写的 "$F" "$G" \
		市局联系人CITYMARK 市局改的产品CITYMARK2 市局新增企业CITYMARK3 市局走访CITYMARK4 "$h"
}

@test "help of the sync commands" {
	for c in sync "remote add" "remote list" "remote remove"; do
		run tidu $c --help
		[ "$status" -eq 0 ]
		[[ "$output" == *usage:* ]]
	done
	CITY="$BATS_TEST_TMPDIR/none"
	run city_admin pending --help
	[ "$status" -eq 0 ]
	run city_admin repo-init --help
	[ "$status" -eq 0 ]
}

@test "remote add, list, remove; bad names and URLs" {
	init_store >/dev/null
	run tidu remote list
	[[ "$output" == *"No remote"* ]]
	tidu remote add origin git://127.0.0.1:9/central.git
	tidu remote add hub central.git
	run tidu remote list --json
	[[ "$output" == *'"url": "git://127.0.0.1:9/central.git"'* ]]
	[[ "$output" == *"\"url\": \"$BATS_TEST_TMPDIR/central.git\""* ]]
	run tidu remote add origin http://example.invalid/x.git
	[ "$status" -eq 2 ]
	[[ "$output" == *"exists already"* ]]
	run tidu remote add 'bad name' git://x/y
	[ "$status" -eq 2 ]
	run tidu remote add other gopher://x/y
	[ "$status" -eq 2 ]
	run tidu remote remove hub
	[ "$status" -eq 0 ]
	run tidu remote remove hub
	[ "$status" -eq 2 ]
	run tidu sync nowhere
	[ "$status" -eq 2 ]
	[[ "$output" == *"no remote 'nowhere'"* ]]
}

@test "end to end over git daemon: enrollment, records, conflicts, revocation, pool" {
	central_repo "$SRV" central.git
	git_daemon_start "$SRV"
	scenario "$GIT_DAEMON_URL/central.git" "$SRV/central.git"
}

@test "end to end over smart HTTP with basic auth" {
	central_repo "$SRV" central.git
	http_start "$SRV" "$TIDU_GIT_USERNAME" "$TIDU_GIT_PASSWORD"
	scenario "$HTTP_URL/central.git" "$SRV/central.git"
}

@test "a pre-receive hook that refuses: exit 1 naming the ref and the reason" {
	central_repo "$SRV" central.git
	git_daemon_start "$SRV"
	http_start "$SRV" "$TIDU_GIT_USERNAME" "$TIDU_GIT_PASSWORD"
	cat >"$SRV/central.git/hooks/pre-receive" <<'EOF'
#!/bin/sh
if [ -e "$GIT_DIR/closed" ]; then
	echo "pushes closed for maintenance until 18:00" >&2
	exit 1
fi
EOF
	chmod +x "$SRV/central.git/hooks/pre-receive"
	network "$GIT_DAEMON_URL/central.git"
	da=$(device_of "$A")
	db=$(device_of "$B")
	on "$B" remote add web "$HTTP_URL/central.git"
	touch "$SRV/central.git/closed"
	on "$A" firm add "$F" --name 甲
	for r in origin; do
		run on "$A" sync "$r"
		echo "$output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"refs/heads/410105/$da"* ]]
		[[ "$output" == *"closed for maintenance"* ]]
	done
	on "$B" firm add "$G" --name 乙 >/dev/null
	on "$B" firm add "$(uscc 91410105MA1K00001)" --name 丙
	run on "$B" sync web
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refs/heads/410105/$db"* ]]
	[[ "$output" == *"closed for maintenance"* ]]
	rm "$SRV/central.git/closed"
	run on "$A" sync --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"sent": 1'* ]]
	run on "$B" sync web --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"sent": 1'* && "$output" == *'"received": 1'* ]]
}

@test "wrong or missing credentials: a bounded number of attempts, exit 1, no hang" {
	central_repo "$SRV" central.git
	http_start "$SRV" "$TIDU_GIT_USERNAME" "$TIDU_GIT_PASSWORD"
	tidu --home "$CITY" init --district 410100 --officer 市局 --role city >/dev/null
	run city_admin repo-init "$HTTP_URL/central.git"
	[ "$status" -eq 0 ]
	TIDU_GIT_PASSWORD=wrong run timeout 60 "$TIDU" --home "$CITY" sync </dev/null
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refused the credentials 3 times"* ]]
	[ "$(grep -c 'password mismatch' "$SERVERS_DIR/http/error.log")" -le 4 ]
	unset TIDU_GIT_USERNAME TIDU_GIT_PASSWORD
	run timeout 60 "$TIDU" --home "$CITY" sync </dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"TIDU_GIT_USERNAME"* ]]
}

@test "server down: exit 1 with a clear message, the change set stays committed and goes out next time" {
	central_repo "$SRV" central.git
	git_daemon_start "$SRV"
	network "$GIT_DAEMON_URL/central.git"
	port=$GIT_DAEMON_PORT
	git_daemon_stop
	on "$A" firm add "$F" --name 离线录入
	run on "$A" sync
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot reach the repository"* && "$output" == *"127.0.0.1:$port"* ]]
	[[ "$output" == *"go out with the next sync"* ]]
	git -C "$A/repo.git" show --stat "refs/heads/410105/$(device_of "$A")" | grep -q 000000000001.tcs
	run on "$A" status --json
	[[ "$output" == *'"pending_changes": 0'* ]]
	git_daemon_start "$SRV" "$port"
	run on "$A" sync --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"sent": 1'* ]]
	run on "$B" sync --json
	[[ "$output" == *'"received": 1'* ]]
	run on "$B" firm show "$F" --json
	[[ "$output" == *离线录入* ]]
}

@test "a server that accepts and never answers: exit 1 after TIDU_NET_TIMEOUT, nothing lost" {
	local port pid start
	central_repo "$SRV" central.git
	git_daemon_start "$SRV"
	network "$GIT_DAEMON_URL/central.git"
	perl "$BATS_TEST_DIRNAME/../servers/silent.pl" >"$BATS_TEST_TMPDIR/silent.port" &
	pid=$!
	for _ in $(seq 50); do [ -s "$BATS_TEST_TMPDIR/silent.port" ] && break; sleep 0.1; done
	port=$(cat "$BATS_TEST_TMPDIR/silent.port")
	on "$A" remote add silent "git://127.0.0.1:$port/central.git" >/dev/null
	on "$A" firm add "$F" --name 挂起的服务器
	start=$SECONDS
	TIDU_NET_TIMEOUT=2 run timeout 60 "$TIDU" --home "$A" sync silent </dev/null
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no answer from 127.0.0.1 port $port within 2 s"* ]]
	[ $((SECONDS - start)) -lt 30 ]
	kill "$pid"
	# What was sealed goes out through the working server.
	run on "$A" sync --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"sent": 1'* ]]
}

@test "repo.git lost on a laptop and on the city: the next sync rebuilds on the server's refs, nothing lost or doubled; a copied store is refused" {
	local da desk before_a before_desk
	central_repo "$SRV" central.git
	git_daemon_start "$SRV"
	network "$GIT_DAEMON_URL/central.git"
	da=$(device_of "$A")
	on "$A" firm add "$F" --name 丢失仓库前
	sync_all "$A" "$CITY"
	on "$CITY" firm set "$F" contact=市局第一次
	sync_all "$CITY" "$A"
	desk=$(git -C "$SRV/central.git" for-each-ref --format='%(refname)' refs/heads/city/410105/)
	before_a=$(git -C "$SRV/central.git" rev-parse "refs/heads/410105/$da")
	before_desk=$(git -C "$SRV/central.git" rev-parse "$desk")

	rm -rf "$A/repo.git" "$CITY/repo.git"
	on "$A" firm set "$F" employees=31
	on "$CITY" firm set "$F" contact=市局第二次
	run on "$A" sync --json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"sent": 1'* ]]
	run on "$CITY" sync --json
	echo "$output"
	[ "$status" -eq 0 ]
	# Fast-forwards of the old tips: nothing rewritten, nothing doubled.
	git -C "$SRV/central.git" merge-base --is-ancestor "$before_a" "refs/heads/410105/$da"
	git -C "$SRV/central.git" merge-base --is-ancestor "$before_desk" "$desk"
	[ "$(git -C "$SRV/central.git" ls-tree -r --name-only "refs/heads/410105/$da" | wc -l)" -eq 2 ]
	[ "$(git -C "$SRV/central.git" ls-tree -r --name-only "$desk" | wc -l)" -eq 2 ]
	sync_all "$A" "$B"
	run on "$B" firm show "$F" --json
	[[ "$output" == *市局第二次* && "$output" == *'"employees": 31'* ]]
	on "$CITY" export json --district 410105 >city.json
	on "$B" export json >b.json
	cmp city.json b.json
	git -C "$SRV/central.git" fsck --strict

	# The same store on two laptops: the second one's next change set is
	# not the first one's; the server holds the first: refused, exit 4.
	cp -a "$A" "$BATS_TEST_TMPDIR/a-copy"
	on "$BATS_TEST_TMPDIR/a-copy" firm set "$F" employees=40
	on "$BATS_TEST_TMPDIR/a-copy" sync >/dev/null
	on "$A" firm set "$F" employees=41
	run on "$A" sync
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"change set 3 of this device that this store did not seal"* ]]
	[[ "$output" == *"copied to another laptop"* ]]
	# Its own change set 3 stays here, unsent; the server keeps the copy's.
	[ "$(git -C "$SRV/central.git" ls-tree -r --name-only "refs/heads/410105/$da" | wc -l)" -eq 3 ]
}

# forge GITDIR REF replace|remove PATH: a commit on top of REF whose tree has
# PATH replaced by other bytes or removed (what a hostile server could do).
forge() {
	local gd=$1 ref=$2 action=$3 path=$4 idx="$BATS_TEST_TMPDIR/forge.idx" blob tree commit
	GIT_INDEX_FILE=$idx git -C "$gd" read-tree "$ref"
	if [ "$action" = remove ]; then
		printf '0 %s\t%s\n' 0000000000000000000000000000000000000000 "$path" |
			GIT_INDEX_FILE=$idx git -C "$gd" update-index --index-info
	else
		blob=$(echo forged | git -C "$gd" hash-object -w --stdin)
		GIT_INDEX_FILE=$idx git -C "$gd" update-index --cacheinfo "100644,$blob,$path"
	fi
	tree=$(GIT_INDEX_FILE=$idx git -C "$gd" write-tree)
	commit=$(git -C "$gd" -c user.name=x -c user.email=x@x commit-tree "$tree" -p "$ref" -m forged)
	git -C "$gd" update-ref "$ref" "$commit"
	rm -f "$idx"
}

@test "a ref rewound, rewritten or with a file removed or replaced on the server: exit 4, nothing applied from it" {
	gd="$SRV/central.git"
	network "$gd" # a local path: git is used directly on it below
	deva=$(device_of "$A")
	ref="refs/heads/410105/$deva"
	on "$A" firm add "$F" --name 一
	sync_all "$A" "$B"
	on "$A" firm set "$F" name=二
	sync_all "$A" "$B"
	tip2=$(git -C "$gd" rev-parse "$ref")

	# Rewound: B saw change set 2; the server goes back to 1.
	git -C "$gd" update-ref "$ref" "$ref~1"
	run on "$B" sync
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"$deva"* && "$output" == *rewound* ]]
	# A's next sync puts it back (a fast-forward); B is content again.
	sync_all "$A"
	run on "$B" sync
	[ "$status" -eq 0 ]

	# A file replaced in a new commit on top.
	forge "$gd" "$ref" replace cs/0000/000/000000000001.tcs
	run on "$B" sync
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"change set 1 of device '$deva' was replaced"* ]]
	git -C "$gd" update-ref "$ref" "$tip2"

	# A file removed while a new one arrives: the new one is not applied.
	on "$A" firm set "$F" name=三
	sync_all "$A"
	forge "$gd" "$ref" remove cs/0000/000/000000000002.tcs
	run on "$B" sync
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"change set 2 of device '$deva' was removed"* ]]
	run on "$B" firm show "$F" --json
	[[ "$output" == *'"name": "二"'* ]]

	# A rewritten ref (another history): refused too.
	git -C "$gd" update-ref "$ref" "$(git -C "$gd" -c user.name=x -c user.email=x@x \
		commit-tree "$(git -C "$gd" rev-parse "$ref^{tree}")" -m rewritten)"
	run on "$B" sync
	[ "$status" -eq 4 ]
	[[ "$output" == *rewritten* ]]

	# Deleted on the server: reported once.
	git -C "$gd" update-ref -d "$ref"
	run on "$B" sync
	[ "$status" -eq 4 ]
	[[ "$output" == *"'$ref' is gone from the server"* ]]
	run on "$B" sync
	[ "$status" -eq 0 ]
}

@test "a forged keyring on the server is refused with exit 4" {
	gd="$SRV/central.git"
	network "$gd"
	other="$BATS_TEST_TMPDIR/other-city"
	tidu --home "$other" init --district 410100 --officer 假市局 --role city >/dev/null
	for i in 1 2 3 4; do on "$other" keyring export forged.json >/dev/null; done
	idx="$BATS_TEST_TMPDIR/k.idx"
	blob=$(git -C "$gd" hash-object -w "$PWD/forged.json")
	GIT_INDEX_FILE=$idx git -C "$gd" update-index --add --cacheinfo "100644,$blob,keyring.json"
	tree=$(GIT_INDEX_FILE=$idx git -C "$gd" write-tree)
	git -C "$gd" update-ref refs/heads/city/keyring "$(git -C "$gd" -c user.name=x \
		-c user.email=x@x commit-tree "$tree" -p refs/heads/city/keyring -m forged)"
	run on "$A" sync
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"keyring"* && "$output" == *"pinned city key"* ]]
	run on "$A" id --json
	[[ "$output" == *'"keyring_version": 2'* ]]
}

@test "two syncs at once on one home: the second waits, then says why it stopped" {
	gd="$SRV/central.git"
	network "$gd"
	# Someone holds the lock (as a running sync does) for 3 s.
	flock "$A/sync.lock" sleep 3 3>&- &
	holder=$!
	sleep 0.3
	TIDU_SYNC_WAIT=1 run on "$A" sync
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"another 'tidu sync' is running"* ]]
	TIDU_SYNC_WAIT=10 run on "$A" sync
	[ "$status" -eq 0 ]
	wait "$holder"
}

@test "repository layout: sharded device trees, one pack per sync, no personal data in commits" {
	gd="$SRV/central.git"
	network "$gd"
	deva=$(device_of "$A")
	on "$A" firm add "$F" --name 甲
	on "$A" sync >/dev/null
	on "$A" firm set "$F" name=乙
	on "$A" firm set "$F" employees=3
	run on "$A" sync --json
	[[ "$output" == *'"sent": 1'* ]]
	run git -C "$gd" ls-tree -r --name-only "refs/heads/410105/$deva"
	[ "$output" = "cs/0000/000/000000000001.tcs
cs/0000/000/000000000002.tcs" ]
	run git -C "$gd" log --format='%an <%ae>|%cn <%ce>|%s' "refs/heads/410105/$deva"
	[ "${lines[0]}" = "tidu <$deva@tidu>|tidu <$deva@tidu>|change set 2" ]
	log=$(git -C "$gd" log --all --format='%an%ae%cn%ce%B')
	[ -n "$log" ]
	run grep -q 王芳 <<<"$log"
	[ "$status" -eq 1 ]
	# The laptop's own repository: packs only, no loose objects.
	[ -z "$(find "$A/repo.git/objects" -type f -path '*/objects/??/*')" ]
	[ "$(find "$A/repo.git/objects/pack" -name '*.pack' | wc -l)" -ge 1 ]
	git -C "$A/repo.git" fsck --strict
	# Syncing again changes nothing.
	before=$(git -C "$gd" for-each-ref)
	on "$A" sync >/dev/null
	[ "$before" = "$(git -C "$gd" for-each-ref)" ]
}
