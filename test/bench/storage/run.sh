#!/usr/bin/env bash
# Storage accounting benchmark (docs/benchmarks.md, "Storage accounting"):
# TPS of (a) lock + update in a client transaction, (b) one hand-written
# UPDATE ... RETURNING and (c) tenancy.adjust_storage, for one hot tenant and
# for 1,000 tenants picked at random, at 1, 8 and 32 clients; with the ratios
# c/a and c/b.  Expects PGHOST etc. of a cluster with the extension installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"

db=bench_storage
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
# Deltas are uniform in [-1000, 1000] and start from 10^12 bytes used under a
# 2^62 quota, so no run can reach either the quota or zero: every call takes
# the path under test, not an error or a clamp.
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
CREATE EXTENSION tenancy;
SELECT count(tenancy.create_tenant('bench-' || i, storage_quota => 4611686018427387904)) FROM generate_series(1, 1000) i;
UPDATE tenancy.tenant SET storage_used = 1000000000000;
VACUUM ANALYZE tenancy.tenant;
SQL

# Each variant is measured twice, in the order a b c and then c b a, and its
# better figure is kept; the table is vacuumed before every measurement.  A
# hot row's page fills with dead versions during a measurement, so without
# this whichever variant ran later would start from a worse table.
measure() { # measure SCRIPT TENANTS CLIENTS
    psql -X -q -d "$db" -c "VACUUM tenancy.tenant"
    pgbench_tps "$db" "$here/$1" "$3" -D tenants="$2"
}
best() { awk -v x="$1" -v y="$2" 'BEGIN { print (x > y ? x : y) }'; }

printf '%-8s %7s %10s %10s %10s %6s %6s\n' tenants clients "a tps" "b tps" "c tps" c/a c/b
for tenants in 1 1000; do
    for clients in 1 8 32; do
        a=$(measure a_lock_then_update.sql "$tenants" "$clients")
        b=$(measure b_single_update.sql "$tenants" "$clients")
        c=$(measure c_adjust_storage.sql "$tenants" "$clients")
        c=$(best "$c" "$(measure c_adjust_storage.sql "$tenants" "$clients")")
        b=$(best "$b" "$(measure b_single_update.sql "$tenants" "$clients")")
        a=$(best "$a" "$(measure a_lock_then_update.sql "$tenants" "$clients")")
        printf '%-8s %7s %10.0f %10.0f %10.0f %6s %6s\n' "$tenants" "$clients" "$a" "$b" "$c" \
            "$(ratio "$c" "$a")" "$(ratio "$c" "$b")"
    done
done
psql -X -q -d postgres -c "DROP DATABASE $db"
