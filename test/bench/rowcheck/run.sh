#!/usr/bin/env bash
# Row-check benchmark (run by test/bench/run, which provides the cluster).
# Each figure is compared, in the same run, with what an application would
# do without tenancy:
#   1. bulk load of BENCH_ROWS rows (default 1,000,000): an unprotected table
#      with the same foreign key and index versus a protected one;
#   2. an indexed single-tenant query through the policy versus the same
#      query with an explicit WHERE tenant_id = ... (pgbench, prepared), at
#      1, 8 and 32 clients; the tenant set for the session, per transaction
#      in four round trips, and per transaction in one (pipeline mode, what
#      Client::in_tenant sends);
#   3. tenancy.check() over 10,000 tenants with 3 required-row rules versus a
#      client loop checking tenant by tenant (pgbench, prepared, 1 client).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
cd "$here"

rows=${BENCH_ROWS:-1000000}
db=bench_rowcheck
q() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -c "CREATE EXTENSION tenancy"
q -f setup.sql >/dev/null

delay=${BENCH_DELAY_US:-0}
echo "network delay $delay us each way"
work=$(mktemp -d /tmp/tenancy-bench-rowcheck.XXXXXX)
trap 'rm -rf "$work"' EXIT
# 1. Bulk loads are one statement each, not bound by round trips: measured
# without the relay only.
if [ "$delay" = 0 ]; then
    q -c "\\copy (SELECT 1, 'row ' || g, g FROM generate_series(1, $rows) g) TO '$work/with_tenant.tsv'"
    q -c "\\copy (SELECT 'row ' || g, g FROM generate_series(1, $rows) g) TO '$work/without_tenant.tsv'"

    # elapsed COMMAND...: seconds the command took, with 3 decimals.
    elapsed() {
        local start end
        start=$(date +%s.%N)
        "$@" >/dev/null
        end=$(date +%s.%N)
        awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
    }
    load() { # load TABLE SQL...: empties TABLE (and vacuums it) and times the SQL
        local table=$1
        shift
        q -c "TRUNCATE $table" -c "VACUUM $table" -c CHECKPOINT
        elapsed q "$@"
    }
    # Loads take seconds and vary by several percent from one run to the next:
    # each is run `repeats` times, interleaved with the others, and the fastest
    # run counts.
    repeats=${BENCH_REPEATS:-2}
    fastest() { sort -n | head -1; }
    declare -A runs=()
    insert_sql="SELECT 'row ' || g, g FROM generate_series(1, $rows) g"
    for ((i = 0; i < repeats; i++)); do
        runs[copy_plain]+="$(load load_plain -c "\\copy load_plain FROM '$work/with_tenant.tsv'")"$'\n'
        runs[copy_protected]+="$(load load_protected -c "SELECT tenancy.set_tenant(1, false)" \
            -c "\\copy load_protected FROM '$work/with_tenant.tsv'")"$'\n'
        runs[copy_filled]+="$(load load_protected -c "SELECT tenancy.set_tenant(1, false)" \
            -c "\\copy load_protected (body, amount) FROM '$work/without_tenant.tsv'")"$'\n'
        runs[insert_plain]+="$(load load_plain -c "SET ROLE bench_app" \
            -c "INSERT INTO load_plain SELECT 1, s.* FROM ($insert_sql) s")"$'\n'
        runs[insert_protected]+="$(load load_protected -c "SET ROLE bench_app" -c "BEGIN" -c "SELECT tenancy.set_tenant(1)" \
            -c "INSERT INTO load_protected (body, amount) $insert_sql" -c "COMMIT")"$'\n'
    done
    for key in "${!runs[@]}"; do
        declare "$key=$(printf '%s' "${runs[$key]}" | fastest)"
    done

    echo "1. bulk load of $rows rows (seconds, fastest of $repeats, lower is better; tenant 1)"
    printf '   COPY, unprotected (FK + index)               %8s s\n' "$copy_plain"
    printf '   COPY, protected, tenant_id given             %8s s   ratio %s\n' "$copy_protected" "$(ratio "$copy_protected" "$copy_plain")"
    printf '   COPY, protected, tenant_id filled by trigger %8s s   ratio %s\n' "$copy_filled" "$(ratio "$copy_filled" "$copy_plain")"
    printf '   INSERT..SELECT as app role, unprotected      %8s s\n' "$insert_plain"
    printf '   INSERT..SELECT as app role, protected        %8s s   ratio %s\n' "$insert_protected" "$(ratio "$insert_protected" "$insert_plain")"
fi

echo "2. single-tenant indexed query, 100 of 100,000 rows (TPS, higher is better; prepared)"
printf '   %-7s %10s %10s %6s %10s %10s %6s %10s %6s\n' clients "where 500" "session" ratio \
    "where rnd" "per-tx 4rt" ratio "per-tx 1rt" ratio
for clients in 1 8 32; do
    q -c "ALTER ROLE bench_app SET tenancy.tenant_id = '500'"
    where_fixed=$(pgbench_tps "$db" query_where_fixed.sql "$clients" -U bench_app)
    policy_session=$(pgbench_tps "$db" query_policy_session.sql "$clients" -U bench_app)
    q -c "ALTER ROLE bench_app RESET tenancy.tenant_id"
    where_random=$(pgbench_tps "$db" query_where.sql "$clients" -U bench_app)
    policy_per_tx=$(pgbench_tps "$db" query_policy_per_tx.sql "$clients" -U bench_app)
    policy_pipeline=$(pgbench_tps "$db" query_policy_pipeline.sql "$clients" -U bench_app)
    printf '   %-7s %10.0f %10.0f %6s %10.0f %10.0f %6s %10.0f %6s\n' "$clients" "$where_fixed" "$policy_session" \
        "$(ratio "$policy_session" "$where_fixed")" "$where_random" "$policy_per_tx" \
        "$(ratio "$policy_per_tx" "$where_random")" "$policy_pipeline" "$(ratio "$policy_pipeline" "$where_random")"
done

if [ "$delay" = 0 ]; then
    cpu_where=$(least_cpu_us 3 "$db" query_where.sql 20000 -U bench_app)
    cpu_pipeline=$(least_cpu_us 3 "$db" query_policy_pipeline.sql 20000 -U bench_app)
    echo "   server CPU per request (us, 1 client, least of 3): explicit WHERE $cpu_where," \
        "per-tx in one round trip $cpu_pipeline ($(ratio "$cpu_pipeline" "$cpu_where")x)"
fi

echo "3. check over 10,000 tenants and 3 required-row rules (seconds per full check, lower is better)"
check_tps=$(pgbench -n -M prepared -h "${BENCH_PGHOST:-$PGHOST}" -f check.sql -c 1 -t 5 "$db" 2>&1 |
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p')
loop_tps=$(pgbench -n -M prepared -h "${BENCH_PGHOST:-$PGHOST}" -f check_loop.sql -c 1 -t 10000 "$db" 2>&1 |
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p')
check_seconds=$(awk -v t="$check_tps" 'BEGIN { printf "%.3f", 1 / t }')
loop_seconds=$(awk -v t="$loop_tps" 'BEGIN { printf "%.3f", 10000 / t }')
printf '   tenancy.check()                          %8s s\n' "$check_seconds"
printf '   client loop, 3 prepared queries/tenant   %8s s   check is %sx faster\n' "$loop_seconds" "$(ratio "$loop_seconds" "$check_seconds")"

psql -X -q -d postgres -c "DROP DATABASE $db" -c "DROP ROLE bench_app"
