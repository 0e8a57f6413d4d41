#!/usr/bin/env bash
# Storage accounting benchmark (docs/benchmarks.md, "Storage accounting"):
# TPS of (a) lock + update in a client transaction, (b) one hand-written
# UPDATE ... RETURNING and (c) tenancy.adjust_storage, over 1,000 tenants
# picked at random and for one hot tenant, at 1, 8 and 32 clients; for the
# hot tenant also (d) adjust_storage with the tenant's counter in 16 stripes.
# Ratios c/a, c/b, d/a, d/b, and d against the uncontended ceiling (c over
# 1,000 tenants at the same client count).  Each grid runs with commits that
# wait for no disk (the throwaway cluster's fsync = off) and again with
# durable commits (fsync, synchronous_commit, full_page_writes on), where a
# row lock is held longest; BENCH_DURABLE="off on" by default.
# Expects PGHOST etc. of a cluster with the extension installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"

db=bench_storage
q() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
# Deltas are uniform in [-1000, 1000] and start from 10^12 bytes used under a
# 2^62 quota, so no run can reach either the quota or zero: every call takes
# the path under test, not an error or a clamp.
q <<'SQL'
CREATE EXTENSION tenancy;
SELECT count(tenancy.create_tenant('bench-' || i, storage_quota => 4611686018427387904)) FROM generate_series(1, 1000) i;
UPDATE tenancy.tenant SET storage_used = 1000000000000;
VACUUM ANALYZE tenancy.tenant;
SQL

durability() { # durability on|off: commits wait for the disk or not (reloaded)
    psql -X -q -d postgres -c "ALTER SYSTEM SET fsync = $1" -c "ALTER SYSTEM SET synchronous_commit = $1" \
        -c "ALTER SYSTEM SET full_page_writes = $1" -c "SELECT pg_reload_conf()" >/dev/null
}
trap 'durability off' EXIT

# Each variant is measured twice, in the order a b c (d) and then (d) c b a,
# and its better figure is kept; the tables are vacuumed before every
# measurement.  A hot row's page fills with dead versions during a
# measurement, so without this whichever variant ran later would start from
# a worse table.
measure() { # measure SCRIPT TENANTS CLIENTS
    q -c "VACUUM tenancy.tenant" -c "VACUUM tenancy.storage_stripe"
    pgbench_tps "$db" "$here/$1" "$3" -D tenants="$2"
}
striped() { q -c "SELECT tenancy.set_storage_stripes(1, $1)" >/dev/null; } # the hot tenant is tenant 1

for durable in ${BENCH_DURABLE:-off on}; do
    durability "$durable"
    echo "commits: $([ "$durable" = on ] && echo durable || echo 'no disk wait (CPU-bound)'), network delay ${BENCH_DELAY_US:-0} us each way"
    declare -A ceiling=()
    printf '%-8s %7s %9s %9s %9s %9s %6s %6s %6s %6s %8s\n' \
        tenants clients "a tps" "b tps" "c tps" "d tps" c/a c/b d/a d/b d/ceil
    for tenants in 1000 1; do
        for clients in 1 8 32; do
            a=$(measure a_lock_then_update.sql "$tenants" "$clients")
            b=$(measure b_single_update.sql "$tenants" "$clients")
            c=$(measure c_adjust_storage.sql "$tenants" "$clients")
            d=0
            if [ "$tenants" = 1 ]; then
                striped 16
                d=$(measure c_adjust_storage.sql "$tenants" "$clients")
                d=$(best "$d" "$(measure c_adjust_storage.sql "$tenants" "$clients")")
                striped 1
            fi
            c=$(best "$c" "$(measure c_adjust_storage.sql "$tenants" "$clients")")
            b=$(best "$b" "$(measure b_single_update.sql "$tenants" "$clients")")
            a=$(best "$a" "$(measure a_lock_then_update.sql "$tenants" "$clients")")
            [ "$tenants" = 1000 ] && ceiling[$clients]=$c
            if [ "$tenants" = 1 ]; then
                printf '%-8s %7s %9.0f %9.0f %9.0f %9.0f %6s %6s %6s %6s %8s\n' "1 (hot)" "$clients" "$a" "$b" "$c" "$d" \
                    "$(ratio "$c" "$a")" "$(ratio "$c" "$b")" "$(ratio "$d" "$a")" "$(ratio "$d" "$b")" \
                    "$(ratio "$d" "${ceiling[$clients]}")"
            else
                printf '%-8s %7s %9.0f %9.0f %9.0f %9s %6s %6s\n' "$tenants" "$clients" "$a" "$b" "$c" - \
                    "$(ratio "$c" "$a")" "$(ratio "$c" "$b")"
            fi
        done
    done
done
# What one call costs the server, free of the scheduler's noise (1 client,
# no network, no disk wait): b and c over 1,000 tenants, d on the hot tenant.
if [ "${BENCH_DELAY_US:-0}" = 0 ]; then
    durability off
    cpu_b=$(least_cpu_us 3 "$db" "$here/b_single_update.sql" 20000 -D tenants=1000)
    cpu_c=$(least_cpu_us 3 "$db" "$here/c_adjust_storage.sql" 20000 -D tenants=1000)
    striped 16
    cpu_d=$(least_cpu_us 3 "$db" "$here/c_adjust_storage.sql" 20000 -D tenants=1)
    striped 1
    echo "server CPU per call (us, 1 client, least of 3): b $cpu_b, c $cpu_c, d $cpu_d;" \
        "c costs $(ratio "$cpu_c" "$cpu_b")x b, d $(ratio "$cpu_d" "$cpu_b")x b"
fi
# Every variant kept the books: no tenant went negative, tenant 1 is back in one row.
q -At -c "SELECT 'check: ' || count(*) FILTER (WHERE used < 0) || ' negative, ' ||
                 (SELECT count(*) FROM tenancy.storage_stripe) || ' stripes left' FROM tenancy.storage_usage"
psql -X -q -d postgres -c "DROP DATABASE $db"
