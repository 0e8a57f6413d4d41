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

printf '%-8s %7s %10s %10s %10s %6s %6s\n' tenants clients "a tps" "b tps" "c tps" c/a c/b
for tenants in 1 1000; do
    for clients in 1 8 32; do
        a=$(pgbench_tps "$db" "$here/a_lock_then_update.sql" "$clients" -D tenants="$tenants")
        b=$(pgbench_tps "$db" "$here/b_single_update.sql" "$clients" -D tenants="$tenants")
        c=$(pgbench_tps "$db" "$here/c_adjust_storage.sql" "$clients" -D tenants="$tenants")
        printf '%-8s %7s %10.0f %10.0f %10.0f %6s %6s\n' "$tenants" "$clients" "$a" "$b" "$c" \
            "$(ratio "$c" "$a")" "$(ratio "$c" "$b")"
    done
done
psql -X -q -d postgres -c "DROP DATABASE $db"
