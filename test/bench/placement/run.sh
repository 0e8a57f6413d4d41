#!/usr/bin/env bash
# Placement benchmark (docs/benchmarks.md, "Placement"): migrations over
# schema and database tenants against the common tools' per-tenant loop, and
# provisioning time per database tenant over three clusters.  Expects PGHOST
# etc. of the main cluster with the extension installed, and PG_BINDIR and the
# functions of scripts/lib.sh (test/bench/run sources it).
#   PLACEMENT_SCHEMA_TENANTS (default 1000), PLACEMENT_DATABASE_TENANTS (default 300)
set -euo pipefail
# Provisioning and migrating are measured over local sockets only: the
# runner's network delay (BENCH_DELAY_US) is for the per-call comparisons.
if [ "${BENCH_DELAY_US:-0}" -gt 0 ]; then
    echo "placement: measured without network delay only"
    exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
source "$root/scripts/lib.sh"

cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" --target tenancy_placement_bench -j"$(nproc)" >/dev/null

# Two more clusters like the main one, for database tenants.
PG_BINDIR=${BENCH_PG_BINDIR:-$PG_BINDIR}
new_cluster BENCH2 "max_connections = 200"
new_cluster BENCH3 "max_connections = 200"
"$root/build/tenancy_placement_bench" "${PLACEMENT_SCHEMA_TENANTS:-1000}" "${PLACEMENT_DATABASE_TENANTS:-300}" \
    "host=$BENCH2_DIR port=$BENCH2_PORT user=postgres" "host=$BENCH3_DIR port=$BENCH3_PORT user=postgres"
psql -X -q -d postgres -c "DROP DATABASE bench_placement_schemas WITH (FORCE)" \
     -c "DROP DATABASE bench_placement_databases WITH (FORCE)"
