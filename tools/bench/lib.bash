# tools/bench/lib.bash: what tools/bench/run and tools/bench/pool share
# (sourced; bash). Needs $W (the work directory, with $W/t for samples),
# $ROOT and a die function.

# ---- timing helpers ---------------------------------------------------------
usec() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }
# record KEY VALUE: appends one sample
record() { printf '%s\n' "$2" >>"$W/t/$1"; }
samples() { awk -v d="${2:-2}" '{printf "%s" sprintf("%%.%df", d), (NR > 1 ? " " : ""), $1}' "$W/t/$1"; }
median() { sort -g "$W/t/$1" | awk '{a[NR]=$1} END {if (NR % 2) printf "%.6g\n", a[(NR+1)/2]; else printf "%.6g\n", (a[NR/2]+a[NR/2+1])/2}'; }
minimum() { sort -g "$W/t/$1" | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
fmt() { awk -v a="$1" -v d="${2:-2}" 'BEGIN {printf sprintf("%%.%df", d), a}'; }
mib() { awk -v a="$1" 'BEGIN {printf "%.1f", a / 1024}'; }
fsize() { local s=0 f; for f in "$@"; do [ -e "$f" ] && s=$((s + $(stat -c %s "$f"))); done; echo $s; }
goal() { awk -v r="$1" -v g="$2" 'BEGIN {print (r <= g ? "met" : "missed")}'; }

# timed KEY CMD...: runs CMD (its redirections are the caller's) and records
# its wall time in seconds.
timed() {
	local key=$1 t0 t1
	shift
	t0=$(usec)
	"$@" || die "failed: $*"
	t1=$(usec)
	record "$key" "$(awk -v d=$((t1 - t0)) 'BEGIN {printf "%.4f", d / 1e6}')"
}

# rotate N I: the contender order of run I (0-based), so no contender is
# always first or always right after another one.
order() { local n=$1 i=$2 k; for ((k = 0; k < n; k++)); do echo $(((k + i) % n)); done; }

# The store's page cache (src/core/store.c, connect()) is given to every
# contender, so that all of them run with the same settings.
STORE_CACHE=$(grep -o 'cache_size=-\{0,1\}[0-9]*' "$ROOT/src/core/store.c" | head -1 | cut -d= -f2)
COMMON_PRAGMAS="PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
PRAGMA temp_store=MEMORY;
PRAGMA secure_delete=ON;${STORE_CACHE:+
PRAGMA cache_size=$STORE_CACHE;}"
if [ -z "$STORE_CACHE" ]; then
	CACHE_TEXT="SQLite's default page cache (2 MiB), as the store leaves it"
elif [ "${STORE_CACHE#-}" != "$STORE_CACHE" ]; then
	CACHE_TEXT="a $(( ${STORE_CACHE#-} / 1024 )) MiB page cache (\`cache_size=$STORE_CACHE\`, as the store sets it)"
else
	CACHE_TEXT="a $STORE_CACHE-page cache (\`cache_size=$STORE_CACHE\`, as the store sets it)"
fi

# schema_sql ROLE DISTRICT: the schema as `tidu init` leaves it (the
# migrations of schema/, user_version, meta rows), for plain SQLite copies.
schema_sql() {
	local f last=0
	echo "PRAGMA page_size=4096;"
	echo "PRAGMA journal_mode=WAL;"
	for f in "$ROOT"/schema/[0-9][0-9][0-9]_*.sql; do
		cat "$f"
		echo
		last=$(basename "$f" | cut -c1-3)
	done
	echo "PRAGMA user_version=$((10#$last));"
	echo "INSERT OR REPLACE INTO meta(key, value) VALUES('device','b0b0b0b0b0b0b0b0'),('district','$2'),('officer','bench'),('role','$1'),('hlc','0');"
}

# pack_columns SCHEMA_DB TABLE: the columns of TABLE that the rule packs
# (schema/rules/*.pack) name (a judgement item NAME is the field judge.NAME),
# but the keys uscc and year.
pack_columns() {
	local ids
	ids=$({ grep -hv '^[[:space:]]*\(zh\|en\|#\)' "$ROOT"/schema/rules/*.pack | grep -o '[A-Za-z_][A-Za-z0-9_]*'
		grep -h '^judge ' "$ROOT"/schema/rules/*.pack | awk '{print "judge." $2}'; } | sort -u)
	sqlite3 "$1" "SELECT name FROM pragma_table_info('$2')" | grep -xF "$ids" | grep -vx 'uscc\|year'
}

# dump_sql SCHEMA_DB TABLE...: a query that prints every row of the tables
# as INSERT statements (all columns), run through tidu_sql on a store.
dump_sql() {
	local db=$1 t
	shift
	for t in "$@"; do
		sqlite3 "$db" "SELECT 'SELECT ''INSERT INTO $t(' || group_concat('\"' || name || '\"', ',') || ') VALUES(''||' || group_concat('quote(\"' || name || '\")', '||'',''||') || '||'');'' FROM $t;' FROM pragma_table_info('$t');"
	done
}
