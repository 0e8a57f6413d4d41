#!/usr/bin/env bash
# Change-landing benchmark (run by test/bench/run, which provides the
# cluster): 8 workers land a shuffled stream of BENCH_EVENTS events (default
# 200,000: products and categories, 10% deletes, 20% referencing a category
# whose create has not arrived yet) three ways:
#   (a) the ORM pattern done well by hand (per event: SELECT, INSERT or
#       UPDATE, placeholder INSERT for a missing category, retry on a unique
#       violation up to 3 times);
#   (b) tenancy.apply_changes, one event per call;
#   (c) tenancy.apply_changes, 100 events per call (and (c') the same with
#       16 calls in flight, libpq pipeline mode).
# Prints events/s, ratios to (a), (a)'s retries and lost events, the
# server's and the client's CPU time per event, and how many rows of each
# final state differ from the in-order state.  Then the same through a relay
# that delays every message by BENCH_DELAY_US microseconds each way (default
# 250; 0 skips it): the round trips of a real network.
# Target: (c) >= 10x (a).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
source "$here/../lib.sh"

events=${BENCH_EVENTS:-200000}
workers=${BENCH_WORKERS:-8}
seed=${BENCH_SEED:-11}
db=bench_changes
q() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

# The driver links the client library: its own build directory, so the
# test build is not reconfigured.
cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release -DTENANCY_BUILD_BENCH=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build "$root/build-bench" --target changes_bench changes_relay -j"$(nproc)" >/dev/null
driver="$root/build-bench/changes_bench"
delay=${BENCH_DELAY_US:-250}

work=$(mktemp -d /tmp/tenancy-bench-changes.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$driver" generate "$events" "$seed" "$work/events.jsonl"

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -c "CREATE EXTENSION tenancy"
q -f "$here/setup.sql" >/dev/null
export PGDATABASE=$db

# run MODE SCHEMA: lands the stream with search_path SCHEMA; prints the result line.
# The tables are emptied by TRUNCATE and never vacuumed while empty: after a
# VACUUM of an empty table PostgreSQL plans its own foreign-key checks as
# sequential scans, and keeps those plans while the table fills up, until
# autoanalyze (that slowed every variant here, the ORM's too, up to 10x).
run() {
    q -c CHECKPOINT
    PGOPTIONS="-c search_path=$2" "$driver" "$1" "$work/events.jsonl" "$seed" "$workers"
}
reset_land() { q -c "TRUNCATE land.products, land.categories"; }
reset_orm() { q -c "TRUNCATE orm.orm_products, orm.orm_categories"; }

# Rows (key, values, version, tombstone, placeholder) in one table and not
# the other, both ways.
differ_all() { # differ_all TABLE
    q -At -c "WITH a AS (SELECT id, name, version, deleted_at IS NULL AS live, placeholder_since IS NULL AS real, to_jsonb(t) - 'deleted_at' - 'placeholder_since' AS v FROM ref.$1 t),
                   b AS (SELECT id, name, version, deleted_at IS NULL AS live, placeholder_since IS NULL AS real, to_jsonb(t) - 'deleted_at' - 'placeholder_since' AS v FROM land.$1 t)
              SELECT (SELECT count(*) FROM (SELECT * FROM a EXCEPT SELECT * FROM b) x) + (SELECT count(*) FROM (SELECT * FROM b EXCEPT SELECT * FROM a) y)"
}
# Products whose visible state (present or not; name, price, category)
# differs from the in-order state's: what an application reading the ORM's
# table sees wrongly.
differ_orm() {
    q -At -c "WITH a AS (SELECT id, name, price, category_id FROM ref.products_live),
                   b AS (SELECT id, name, price, category_id FROM orm.orm_products WHERE isactive)
              SELECT count(DISTINCT id) FROM ((SELECT * FROM a EXCEPT SELECT * FROM b)
                                              UNION ALL (SELECT * FROM b EXCEPT SELECT * FROM a)) d"
}

echo "load: $(uptime)"
read -r _ _ ref_s ref_eps _ _ < <(run inorder ref)
live=$(q -At -c "SELECT count(*) FROM ref.products_live")
tomb=$(q -At -c "SELECT count(*) FROM ref.products WHERE deleted_at IS NOT NULL")
holders=$(q -At -c "SELECT count(*) FROM tenancy.placeholders(tbl => 'ref.categories')")
echo "in-order reference: ${ref_s}s (${ref_eps} events/s, 1 connection); $live live products, $tomb tombstones, $holders placeholder categories left"

# compare LABEL: runs (a), (b), (c), (c') and prints their table.
compare() {
    local a_s a_eps a_retries a_lost a_srv a_cli b_s b_eps b_srv b_cli c_s c_eps c_srv c_cli p_s p_eps p_srv p_cli
    reset_orm
    read -r _ _ a_s a_eps a_retries a_lost a_srv a_cli < <(run orm orm)
    local a_diff b_diff c_diff p_diff
    a_diff=$(differ_orm)
    reset_land
    read -r _ _ b_s b_eps _ _ b_srv b_cli < <(run batch1 land)
    b_diff=$(( $(differ_all products) + $(differ_all categories) ))
    reset_land
    read -r _ _ c_s c_eps _ _ c_srv c_cli < <(run batch100 land)
    c_diff=$(( $(differ_all products) + $(differ_all categories) ))
    reset_land
    read -r _ _ p_s p_eps _ _ p_srv p_cli < <(run pipelined land)
    p_diff=$(( $(differ_all products) + $(differ_all categories) ))

    printf '\n%s\n' "$1"
    printf '%-34s %9s %10s %7s %17s  %s\n' "$workers workers, $events events" seconds events/s "x (a)" \
        "CPU us/event s+c" "final state vs in-order"
    printf '%-34s %9s %10s %7s %17s  %s\n' "(a) ORM pattern" "$a_s" "$a_eps" 1.00 "$a_srv + $a_cli" \
        "$a_diff products shown wrongly (in order: $live live); $a_retries retries, $a_lost lost"
    printf '%-34s %9s %10s %7s %17s  %s\n' "(b) apply_changes, batches of 1" "$b_s" "$b_eps" "$(ratio "$b_eps" "$a_eps")" \
        "$b_srv + $b_cli" "$b_diff rows differ"
    printf '%-34s %9s %10s %7s %17s  %s\n' "(c) apply_changes, batches of 100" "$c_s" "$c_eps" "$(ratio "$c_eps" "$a_eps")" \
        "$c_srv + $c_cli" "$c_diff rows differ"
    printf '%-34s %9s %10s %7s %17s  %s\n' "(c') (c) pipelined, 16 in flight" "$p_s" "$p_eps" "$(ratio "$p_eps" "$a_eps")" \
        "$p_srv + $p_cli" "$p_diff rows differ"
}

compare "Unix socket (no network)"
if [ "$delay" -gt 0 ]; then
    relay_dir=$(mktemp -d /tmp/tenancy-bench-relay.XXXXXX)
    "$root/build-bench/changes_relay" "$relay_dir/.s.PGSQL.$PGPORT" "$PGHOST/.s.PGSQL.$PGPORT" "$delay" &
    relay_pid=$!
    trap 'kill $relay_pid 2>/dev/null; rm -rf "$work" "$relay_dir"' EXIT
    sleep 0.5
    echo "SELECT 1;" >"$work/select1.sql"
    rtt=$(PGHOST=$relay_dir pgbench -n -f "$work/select1.sql" -T 3 "$db" 2>/dev/null |
          sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p')
    PGHOST=$relay_dir compare "Through the relay: ${delay} us each way, measured round trip (SELECT 1) ${rtt} ms"
fi
echo "load: $(uptime)"
psql -X -q -d postgres -c "DROP DATABASE $db"
