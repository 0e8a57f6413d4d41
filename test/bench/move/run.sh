#!/usr/bin/env bash
# Move benchmark (docs/benchmarks.md, "Moving a tenant"): one tenant of
# MOVE_ROWS rows (default 1,000,000) in 10 tables moved MOVE_COUNT times
# (default 5) between two clusters while MOVE_WRITERS writers (default 2)
# write MOVE_RATE transactions per second each (default 100; 0: as fast as
# each goes) through the Router.  Expects PGHOST etc. of the main cluster with the extension
# installed, and PG_BINDIR and the functions of scripts/lib.sh (test/bench/run
# sources it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
source "$root/scripts/lib.sh"

cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" --target tenancy_move_bench -j"$(nproc)" >/dev/null

# Two servers that publish with logical replication.  The registry stays on
# the main cluster.
PG_BINDIR=${BENCH_PG_BINDIR:-$PG_BINDIR}
new_cluster MOVE2 "wal_level = logical"
new_cluster MOVE3 "wal_level = logical"
echo "load before: $(uptime)"
PATH="$PG_BINDIR:$PATH" "$root/build/tenancy_move_bench" "${MOVE_ROWS:-1000000}" "${MOVE_COUNT:-5}" \
    "${MOVE_WRITERS:-2}" "${MOVE_RATE:-100}" \
    "host=$MOVE2_DIR port=$MOVE2_PORT user=postgres" "host=$MOVE3_DIR port=$MOVE3_PORT user=postgres"
echo "load after: $(uptime)"
psql -X -q -d postgres -c "DROP DATABASE bench_move_registry WITH (FORCE)"
