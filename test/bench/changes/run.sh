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
# Prints events/s, ratios to (a), (a)'s retries and lost events, and how
# many rows of each final state differ from the in-order state.
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
cmake --build "$root/build-bench" --target changes_bench -j"$(nproc)" >/dev/null
driver="$root/build-bench/changes_bench"

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

# Rows (key, values, version, tombstone, placeholder) in one table and not
# the other, both ways.
differ_all() { # differ_all TABLE
    q -At -c "WITH a AS (SELECT id, name, version, deleted_at IS NULL AS live, placeholder_since IS NULL AS real, to_jsonb(t) - 'deleted_at' - 'placeholder_since' AS v FROM ref.$1 t),
                   b AS (SELECT id, name, version, deleted_at IS NULL AS live, placeholder_since IS NULL AS real, to_jsonb(t) - 'deleted_at' - 'placeholder_since' AS v FROM land.$1 t)
              SELECT (SELECT count(*) FROM (SELECT * FROM a EXCEPT SELECT * FROM b) x) + (SELECT count(*) FROM (SELECT * FROM b EXCEPT SELECT * FROM a) y)"
}
# Visible products (id, name, price, category) that differ from the in-order
# state's, both ways: what an application reading the ORM's table would see.
differ_orm() {
    q -At -c "WITH a AS (SELECT id, name, price, category_id FROM ref.products_live),
                   b AS (SELECT id, name, price, category_id FROM orm.orm_products WHERE isactive)
              SELECT (SELECT count(*) FROM (SELECT * FROM a EXCEPT SELECT * FROM b) x) + (SELECT count(*) FROM (SELECT * FROM b EXCEPT SELECT * FROM a) y)"
}

echo "load: $(uptime)"
read -r _ _ ref_s ref_eps _ _ < <(run inorder ref)
live=$(q -At -c "SELECT count(*) FROM ref.products_live")
tomb=$(q -At -c "SELECT count(*) FROM ref.products WHERE deleted_at IS NOT NULL")
holders=$(q -At -c "SELECT count(*) FROM tenancy.placeholders(tbl => 'ref.categories')")
echo "in-order reference: ${ref_s}s (${ref_eps} events/s, 1 connection); $live live products, $tomb tombstones, $holders placeholder categories left"

read -r _ _ a_s a_eps a_retries a_lost < <(run orm orm)
a_diff=$(differ_orm)
reset_land
read -r _ _ b_s b_eps _ _ < <(run batch1 land)
b_diff=$(( $(differ_all products) + $(differ_all categories) ))
reset_land
read -r _ _ c_s c_eps _ _ < <(run batch100 land)
c_diff=$(( $(differ_all products) + $(differ_all categories) ))
reset_land
read -r _ _ p_s p_eps _ _ < <(run pipelined land)
p_diff=$(( $(differ_all products) + $(differ_all categories) ))

printf '\n%-34s %10s %12s %8s %s\n' "$workers workers, $events events" seconds events/s "x (a)" "final state vs in-order"
printf '%-34s %10s %12s %8s %s\n' "(a) ORM pattern" "$a_s" "$a_eps" 1.00 \
    "$a_diff visible products differ; $a_retries retries, $a_lost events lost after 3 retries"
printf '%-34s %10s %12s %8s %s\n' "(b) apply_changes, batches of 1" "$b_s" "$b_eps" "$(ratio "$b_eps" "$a_eps")" "$b_diff rows differ"
printf '%-34s %10s %12s %8s %s\n' "(c) apply_changes, batches of 100" "$c_s" "$c_eps" "$(ratio "$c_eps" "$a_eps")" "$c_diff rows differ"
printf '%-34s %10s %12s %8s %s\n' "(c') (c) pipelined, 16 in flight" "$p_s" "$p_eps" "$(ratio "$p_eps" "$a_eps")" "$p_diff rows differ"
echo "load: $(uptime)"
psql -X -q -d postgres -c "DROP DATABASE $db"
