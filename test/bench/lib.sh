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

# backend_cpu_us DB SCRIPT TRANSACTIONS [pgbench options...]: CPU time of the
# server backend per transaction (user + system, microseconds) for SCRIPT run
# by one client, read from /proc while it runs.  Unlike TPS it does not count
# pgbench, the scheduler or the other jobs of a shared machine, so it shows
# what a call costs the server even when TPS figures are noisy.  (Granularity
# 1/CLK_TCK s over the whole run; connection set-up is included, so use
# thousands of transactions.)
backend_cpu_us() {
    local db=$1 script=$2 transactions=$3
    shift 3
    local app="bench-cpu-$$-$RANDOM" pid="" ticks=0 now
    PGAPPNAME=$app pgbench -n -M prepared -f "$script" -c 1 -t "$transactions" "$@" "$db" >/dev/null 2>&1 &
    local bench=$!
    for _ in $(seq 1000); do
        pid=$(psql -XAt -d postgres -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$app'" 2>/dev/null)
        [ -n "$pid" ] && break
        sleep 0.01
    done
    while [ -n "$pid" ] && [ -e "/proc/$pid/stat" ]; do
        now=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) && [ -n "$now" ] && ticks=$now
        sleep 0.02
    done
    wait "$bench" || true
    # Not found (pgbench failed or ended before it was seen): no figure.
    [ -n "$pid" ] && [ "$ticks" != 0 ] || return 0
    awk -v t="$ticks" -v n="$transactions" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }'
}

# least_cpu_us ROUNDS DB SCRIPT TRANSACTIONS [options...]: the least of ROUNDS
# backend_cpu_us measurements (interference only ever adds).
least_cpu_us() {
    local rounds=$1 best="" v
    shift
    for ((r = 0; r < rounds; r++)); do
        v=$(backend_cpu_us "$@")
        [ -n "$v" ] || continue
        best=$(awk -v x="$v" -v y="${best:-$v}" 'BEGIN { print (x < y ? x : y) }')
    done
    echo "${best:-n/a}"
}
