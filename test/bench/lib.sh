# Helpers for test/bench/<capability>/run.sh; source it.

# pgbench_tps DB SCRIPT CLIENTS [pgbench options...]: prints the TPS of one
# measurement of SCRIPT (a custom pgbench script, prepared protocol) run by
# CLIENTS connections for BENCH_SECONDS seconds.  pgbench connects through
# BENCH_PGHOST (the delaying relay, see test/bench/run) when it is set.
pgbench_tps() {
    local db=$1 script=$2 clients=$3
    shift 3
    local threads=$((clients < 2 ? clients : 2))
    pgbench -n -M prepared -h "${BENCH_PGHOST:-$PGHOST}" -f "$script" -c "$clients" -j "$threads" \
        -T "${BENCH_SECONDS:-10}" "$@" "$db" 2>&1 |
        sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p'
}

# ratio A B: A divided by B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# best X Y: the larger of two figures.
best() { awk -v x="$1" -v y="$2" 'BEGIN { print (x > y ? x : y) }'; }
