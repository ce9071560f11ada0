#!/usr/bin/env bats
# tidu survey fill (docs/surveys.md, "Filling on a terminal"): driven
# through a real terminal, a tmux pane (send-keys types, capture-pane reads
# the screen), and through a pipe. Every wait is a poll on the pane (the
# cursor on a new prompt line, or the exit status file), never a bare sleep.
load helpers

F=91410100MA44XY3K6E

setup() {
	setup_home
	init_store >/dev/null
	tidu firm add $F --name 测试企业 >/dev/null
	tidu form import "$TIDU_SOURCE_DIR/tests/data/forms/sample.xlsx" >/dev/null
	# One tmux server per test, its own socket, no user configuration.
	SOCK="tidu-fill-$$-${BATS_TEST_NUMBER}"
	RUN="$BATS_TEST_TMPDIR/run"
	PROMPT_AT=-1
}

teardown() {
	tmux -L "$SOCK" kill-server 2>/dev/null || true
}

need_tmux() {
	command -v tmux >/dev/null || skip "tmux is not installed"
}

tm() {
	TMUX= tmux -f /dev/null -L "$SOCK" "$@"
}

# term LANG ARGS...: tidu ARGS in a new 160x50 pane under LANG (session "fill").
term() {
	local lang=$1
	shift
	tm kill-session -t fill 2>/dev/null || true
	rm -rf "$RUN"
	mkdir -p "$RUN"
	PROMPT_AT=-1
	tm new-session -d -s fill -x 160 -y 50 -- env TIDU_HOME="$TIDU_HOME" \
		TIDU_PASSPHRASE="$TIDU_PASSPHRASE" LANG="$lang" LC_ALL= TIDU_NO_AGENT=1 \
		bash "$BATS_TEST_DIRNAME/term_run.sh" "$RUN" "$TIDU" "$@"
}

# The whole screen, history included, wrapped lines joined.
screen() {
	tm capture-pane -p -J -S - -E - -t fill
}

dump() {
	echo "--- screen ---" >&2
	screen >&2
	echo "--------------" >&2
}

# wait_prompt: until tidu waits for a line on a prompt below the last one
# seen (the cursor after "> ", "[y/N] " or "...: " on a later line).
wait_prompt() {
	local i hs cy cx abs line
	for i in $(seq 1 600); do
		read -r hs cy cx < <(tm display-message -p -t fill \
			'#{history_size} #{cursor_y} #{cursor_x}')
		abs=$((hs + cy))
		if [ "$abs" -gt "$PROMPT_AT" ] && [ "$cx" -gt 0 ]; then
			line=$(tm capture-pane -p -N -t fill -S "$cy" -E "$cy")
			case "$line" in
			*'> ' | *'] ' | *': ' | *':')
				PROMPT_AT=$abs
				return 0
				;;
			esac
		fi
		if [ -e "$RUN/rc" ]; then
			echo "wait_prompt: tidu ended (status $(cat "$RUN/rc"))" >&2
			dump
			return 1
		fi
		sleep 0.1
	done
	echo "wait_prompt: no new prompt in 60 s" >&2
	dump
	return 1
}

# prompt_line: the line the cursor is on (the prompt waiting).
prompt_line() {
	local cy
	cy=$(tm display-message -p -t fill '#{cursor_y}')
	tm capture-pane -p -N -t fill -S "$cy" -E "$cy"
}

# at PATH: waits for the next prompt and checks that it asks question PATH
# (the last "  [PATH]" heading on the screen).
at() {
	local cur
	wait_prompt || return 1
	cur=$(screen | sed -n 's/^.*  \[\(.*\)\]\( \*\)\{0,1\}$/\1/p' | tail -n 1)
	if [ "$cur" != "$1" ]; then
		echo "at: asked '$cur', expected '$1'" >&2
		dump
		return 1
	fi
}

# at_prompt TEXT: waits for the next prompt and checks that its line holds TEXT.
at_prompt() {
	local line
	wait_prompt || return 1
	line=$(prompt_line)
	if [[ "$line" != *"$1"* ]]; then
		echo "at_prompt: the prompt is '$line', expected '$1'" >&2
		dump
		return 1
	fi
}

# type LINE: types LINE and Enter.
type() {
	tm send-keys -t fill -l -- "$1"
	tm send-keys -t fill Enter
}

# has TEXT: the screen shows TEXT (the screen is printed when not).
has() {
	if ! screen | grep -qF -- "$1"; then
		echo "has: no '$1' on the screen" >&2
		dump
		return 1
	fi
}

# count TEXT: how many lines of the screen hold TEXT.
count() {
	screen | grep -cF -- "$1" || true
}

# wait_exit: until tidu ended; prints its exit status.
wait_exit() {
	local i
	for i in $(seq 1 600); do
		if [ -e "$RUN/rc" ]; then
			cat "$RUN/rc"
			return 0
		fi
		sleep 0.1
	done
	echo "wait_exit: tidu still runs after 60 s" >&2
	dump
	return 1
}

# The draft or response id the screen names last.
screen_id() {
	screen | grep -oE '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' | tail -n 1
}

# answers ID EXPR: checks the Python expression EXPR on `a`, the answers of
# 'tidu survey show ID --json' (and `d`, the whole document).
answers() {
	tidu survey show "$1" --json >"$BATS_TEST_TMPDIR/show.json"
	python3 - "$BATS_TEST_TMPDIR/show.json" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
a = d["answers"]
if not eval(sys.argv[2]):
    sys.exit("answers: not %s in %s" % (sys.argv[2], json.dumps(d, ensure_ascii=False)))
EOF
}

@test "on a terminal (English): required, a failed constraint with the form's message, :back, :skip, selects by name and number, select_multiple, a repeat, a file, finalize" {
	need_tmux
	printf 'JPEG bytes\n' >"$BATS_TEST_TMPDIR/photo.jpg"
	term C.UTF-8 survey fill sample $F
	at_prompt '> '
	has '样例问卷 (sample 2026120301)'
	has "Firm: $F 测试企业"
	has "Draft "
	has "resume with 'tidu survey fill --resume "
	has 'Please answer truthfully'
	type ''
	at employees
	has 'Employees  [employees] *'
	has '  (a whole number)'
	type ''
	at employees
	has "tidu: 'employees' is required"
	type 10
	at rd_staff
	type 20
	at rd_staff
	# The form's own constraint_message (it has only Chinese: the default language).
	has "tidu: 'rd_staff': 不能超过从业人员数"
	type ':back'
	at employees
	has '  now: 10 (Enter keeps it)'
	type 30
	at rd_staff
	type 20
	at has_ip
	has '  1) Yes [yes]'
	has '  2) No [no]'
	type yes
	at ip_count
	type ':skip'
	at needs
	has '  3) Digital [digital]'
	type '1 3'
	at field
	has '  3) Other [other]'
	type 2
	at revenue
	has '== Finance =='
	type 1234.5
	at_prompt "'Main products': none yet. Add one? [y/N] "
	type y
	at 'products[1]/product_name'
	has '== Main products (1) =='
	type Widget
	at_prompt "'Main products': 1 so far. Add another? [y/N] "
	type n
	at where
	type ''
	at photo
	type "$BATS_TEST_TMPDIR/photo.jpg"
	at_prompt 'Finalize? [y/N] '
	has '== Summary =='
	has '  Employees [employees]: 30'
	has '  Any invention patents? [has_ip]: Yes [yes]'
	has '  Needs [needs]: Financing [financing], Digital [digital]'
	has '  Field [field]: Software [software]'
	has '  Product name [products[1]/product_name]: Widget'
	has '  Photo [photo]: photo.jpg'
	[ "$(count 'Invention patents [ip_count]')" -eq 0 ]
	type y
	[ "$(wait_exit)" -eq 0 ]
	has 'Finalized: response '
	id=$(screen_id)
	[ -n "$id" ]
	answers "$id" 'd["draft"] is False and d["files"] == 1'
	answers "$id" 'a["employees"] == 30 and a["rd_staff"] == 20 and a["has_ip"] == "yes"'
	answers "$id" '"ip_count" not in a and a["needs"] == ["financing", "digital"]'
	answers "$id" 'a["field"] == "software" and a["revenue"] == 1234.5'
	answers "$id" 'a["products"] == [{"product_name": "Widget"}] and a["photo"] == "photo.jpg"'
	run tidu survey list --drafts
	[ "$output" = "No draft." ]
}

@test "on a terminal (Chinese): Chinese prompts, CJK typed and stored byte-exact, or_other's text, :quit then --resume" {
	need_tmux
	other='智能制造「测试」 𠀀𝌆 – ü'
	product='高端装备　制造 (第二代)'
	term zh_CN.UTF-8 survey fill sample $F
	at_prompt '> '
	has '样例问卷 (sample 2026120301)'
	has "企业:$F 测试企业"
	has '输入 :help 查看命令。'
	has '请如实填写'
	has '  (按回车继续)'
	type ''
	at employees
	has '从业人员数  [employees] *'
	has '  年末人数'
	has '  (整数)'
	type 8
	at rd_staff
	type 2
	at has_ip
	has '  1) 是 [yes]'
	type 2
	# has_ip = no: ip_count is not asked (its relevant is false).
	at needs
	has '  (输入序号或选项名,多个用空格分隔)'
	type ':help'
	at needs
	has '  :back   上一题'
	has '  :quit   到此为止,草稿保留'
	type 'ip'
	at field
	has '  3) 其他 [other]'
	type 3
	at_prompt '其他,请说明:'
	type "$other"
	at revenue
	has '== 财务 =='
	type ':quit'
	[ "$(wait_exit)" -eq 0 ]
	has "草稿已保留:用 'tidu survey fill --resume "
	id=$(screen_id)
	[ -n "$id" ]
	run tidu survey list --drafts
	[[ "$output" == *"$id"*draft* ]]
	answers "$id" 'd["draft"] and a["field"] == "other" and "revenue" not in a'
	# --resume with a prefix: the first unanswered question, its group shown.
	term zh_CN.UTF-8 survey fill --resume "${id:0:8}"
	at revenue
	has '== 财务 =='
	has "草稿 $id"
	type 99.5
	at_prompt '“主导产品”:还没有。添加一条?[y/N] '
	type 是
	at 'products[1]/product_name'
	has '== 主导产品 (1) =='
	type "$product"
	at_prompt '“主导产品”:已有 1 条。再添加一条?[y/N] '
	type ''
	at where
	type ''
	at photo
	type ''
	at_prompt '确认提交?[y/N] '
	has '== 填写汇总 =='
	has "  所属领域 [field]: 其他 [other]: $other"
	has "  产品名称 [products[1]/product_name]: $product"
	type y
	[ "$(wait_exit)" -eq 0 ]
	has "已提交:答卷 $id"
	# Byte for byte: the typed UTF-8 is what the response holds.
	tidu survey show "$id" --json >"$BATS_TEST_TMPDIR/show.json"
	python3 - "$BATS_TEST_TMPDIR/show.json" "$other" "$product" <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
a = d["answers"]
other, product = (os.fsencode(s) for s in sys.argv[2:4])
assert a["field_other"].encode("utf-8") == other, a
assert a["products"][0]["product_name"].encode("utf-8") == product, a
assert a["employees"] == 8 and a["has_ip"] == "no" and a["needs"] == ["ip"], a
assert a["revenue"] == 99.5 and not d["draft"], d
EOF
}

@test "kill -9 mid-form: --resume continues at the first unanswered question, the earlier answers kept" {
	need_tmux
	term C.UTF-8 survey fill sample $F
	at_prompt '> '
	id=$(screen_id)
	type ''
	at employees
	type 12
	at rd_staff
	type 3
	at has_ip
	type yes
	at ip_count
	# Half a line typed, then the process killed.
	tm send-keys -t fill -l -- 7
	for i in $(seq 1 100); do
		[[ "$(prompt_line)" == '> 7' ]] && break
		sleep 0.1
	done
	[[ "$(prompt_line)" == '> 7' ]]
	pid=$(cat "$RUN/pid")
	kill -9 "$pid"
	[ "$(wait_exit)" -eq 137 ]
	answers "$id" 'd["draft"] and a["employees"] == 12 and a["rd_staff"] == 3'
	answers "$id" 'a["has_ip"] == "yes" and "ip_count" not in a'
	term C.UTF-8 survey fill --resume "$id"
	at ip_count
	type ':back'
	at has_ip
	has '  now: Yes [yes] (Enter keeps it)'
	type ''
	at ip_count
	type 5
	at needs
	type ':quit'
	[ "$(wait_exit)" -eq 0 ]
	answers "$id" 'd["draft"] and a["ip_count"] == 5 and a["employees"] == 12'
}

# fill ARGS... <<< LINES: tidu survey fill through a pipe, stdout and stderr together.
fill() {
	"$TIDU" survey fill "$@" 2>&1
}

@test "through a pipe: end of input keeps the draft; Finalize N keeps it; a failed finalize goes back to the question" {
	run fill sample $F <<<''
	[ "$status" -eq 0 ]
	[[ "$output" == *"The draft is kept: resume with 'tidu survey fill --resume "* ]]
	id=$(printf '%s\n' "$output" | grep -oE '[0-9a-f-]{36}' | tail -n 1)
	run tidu survey list --drafts
	[[ "$output" == *"$id"* ]]
	# employees 10, rd_staff 5, then employees 3 again: rd_staff's constraint
	# fails at the end, and the fill goes back to it.
	run fill --resume "$id" <<-'EOF'
		10
		5
		:back
		:back
		3

		no



		1
		n


		y
		2
		no

		:skip





		N
	EOF
	[ "$status" -eq 0 ]
	[[ "$output" == *"tidu: 'rd_staff': 不能超过从业人员数"* ]]
	[[ "$output" == *"The draft is kept"* ]]
	[ "$(printf '%s\n' "$output" | grep -c 'Finalize? \[y/N\]')" -eq 2 ]
	answers "$id" 'd["draft"] and a["employees"] == 3 and a["rd_staff"] == 2'
	answers "$id" 'a["has_ip"] == "no" and a["revenue"] == 1'
	# Resumed at the first unanswered question (needs: optional), then to the end.
	run fill --resume "$id" <<-'EOF'






		y
	EOF
	[ "$status" -eq 0 ]
	[[ "$output" == *"Finalized: response $id"* ]]
	answers "$id" 'not d["draft"] and a["rd_staff"] == 2'
}

@test "through a pipe: '::' types a colon, unknown commands and too-long lines are refused" {
	run fill sample $F <<-'EOF'

		:what
		::5
		5
		1
		no



		1
		y
		::ab:c
		n
		:quit
	EOF
	[ "$status" -eq 0 ]
	[[ "$output" == *"tidu: unknown command ':what' (:help lists them)"* ]]
	# "::5" is the answer ":5": not a whole number (and not a command).
	[[ "$output" == *"tidu: invalid answer to 'employees': not a whole number"* ]]
	[[ "$output" != *"command ':5'"* ]]
	id=$(printf '%s\n' "$output" | grep -oE '[0-9a-f-]{36}' | tail -n 1)
	answers "$id" 'a["employees"] == 5 and a["products"] == [{"product_name": ":ab:c"}]'
	# A line longer than an answer can be: refused, the rest of it dropped.
	{ echo; head -c 70000 /dev/zero | tr '\0' 1; echo; echo 4; echo :quit; } >long.txt
	run fill sample $F <long.txt
	[ "$status" -eq 0 ]
	[[ "$output" == *"tidu: the line is longer than 65600 bytes"* ]]
	id=$(printf '%s\n' "$output" | grep -oE '[0-9a-f-]{36}' | tail -n 1)
	answers "$id" 'a["employees"] == 4'
}

@test "through a pipe: a draft from 'survey add --draft' with 'other' unsaid: Enter keeps the choice and asks what it is" {
	printf '%s' '{"employees": 5, "rd_staff": 1, "has_ip": "no", "field": "other", "revenue": 2}' >a.json
	id=$(tidu survey add sample $F --answers a.json --draft)
	run fill --resume "$id" <<-'EOF'


		软件外包




		y
	EOF
	[ "$status" -eq 0 ]
	[[ "$output" == *"  now: Other [other] (Enter keeps it)"* ]]
	[[ "$output" == *"Other, please say what: "* ]]
	[[ "$output" == *"Finalized: response $id"* ]]
	answers "$id" 'a["field"] == "other" and a["field_other"] == "软件外包"'
}

@test "through a pipe: acknowledge, read-only, select_multiple or_other; form text and answers never printed raw" {
	rlo=$'\u202e'
	{
		echo '[survey]'
		printf '%s\t' type name 'label::Chinese (zh)' 'label::English (en)' \
			'hint::English (en)' required read_only; echo default
		printf '%s\t' acknowledge consent 我已知悉 'I agree to answer' 'Type OK'; echo yes
		printf '%s\t' text fixed 固定值 'Fixed value' '' '' yes; echo preset
		printf '%s\t' 'select_multiple need or_other' needs 需求 Needs "${rlo}reversed"; echo yes
		printf '%s\t' text remark 备注; echo Remark
		echo '[choices]'
		printf '%s\t' list_name name 'label::Chinese (zh)'; echo 'label::English (en)'
		printf '%s\t' need money 资金; echo Money
		printf '%s\t' need people 人才; echo "People${rlo}x"
		echo '[settings]'
		printf '%s\t' form_id version; echo default_language
		printf '%s\t' small 1; echo 'Chinese (zh)'
	} >small.form.txt
	/usr/bin/python3 "$TIDU_SOURCE_DIR/tools/xlsform" small.form.txt small.xlsx
	tidu form import small.xlsx >/dev/null
	run fill small $F < <(printf '%s\n' no OK typed '1 other' '' '数据 治理' $'a\e[8mb' \
		':skip' y)
	[ "$status" -eq 0 ]
	[[ "$output" == *"tidu: invalid answer to 'consent'"* ]]
	[[ "$output" == *"  (read-only: press Enter to go on)"* ]]
	[[ "$output" == *"  now: preset"* ]]
	[[ "$output" == *'  \u{202E}reversed'* ]]
	[[ "$output" == *'  2) People\u{202E}x [people]'* ]]
	[[ "$output" == *"tidu: say what 'other' is, or :back to choose again"* ]]
	[[ "$output" == *"tidu: invalid answer to 'remark': control characters are not allowed"* ]]
	[[ "$output" == *"  Needs [needs]: Money [money], Other [other]: 数据 治理"* ]]
	[[ "$output" != *$'\e'* ]]
	[[ "$output" != *"$rlo"* ]]
	id=$(printf '%s\n' "$output" | grep -oE '[0-9a-f-]{36}' | tail -n 1)
	answers "$id" 'not d["draft"] and a["consent"] == "OK" and a["fixed"] == "preset"'
	answers "$id" 'a["needs"] == ["money", "other"] and a["needs_other"] == "数据 治理"'
	answers "$id" '"remark" not in a'
}

@test "bad invocations: exit 2, nothing stored" {
	run tidu survey fill sample
	[ "$status" -eq 2 ]
	[[ "$output" == *"tidu survey fill FORM USCC"* ]]
	run tidu survey fill --resume 0123 sample $F
	[ "$status" -eq 2 ]
	run tidu survey fill --resume 0123abcd
	[ "$status" -eq 2 ]
	run tidu survey fill nosuchform $F
	[ "$status" -eq 2 ]
	run tidu survey fill sample 91410105MA1J8T9H5M
	[ "$status" -eq 2 ]
	[[ "$output" == *"not in the store"* ]]
	run tidu survey list --drafts
	[ "$output" = "No draft." ]
}
