#!/usr/bin/env bash
# Tenant-binding benchmark (run by test/bench/run, which provides the cluster).
#   1. the cost of the binding rule in set_tenant: BEGIN; set_tenant; COMMIT
#      as a tenancy_admin member (no lookup), a role without bindings, a
#      role bound (through a group) to all 1,000 tenants, and, the
#      alternative an application writes, its own SECURITY DEFINER wrapper
#      over a mapping table (pgbench, prepared, 2 clients);
#   2. set_tenant_by_api_key: microseconds per call for a valid key and for
#      each kind of invalid key, which must be alike (one backend, calls
#      interleaved in rounds, the median round kept).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
cd "$here"

db=bench_binding
q() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -c "CREATE EXTENSION tenancy"
q -f setup.sql >/dev/null

# The machine is shared and noisy: each variant is measured in `rounds`
# rounds, interleaved, and the median counts.
rounds=${BENCH_ROUNDS:-3}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A tps=()
for ((r = 0; r < rounds; r++)); do
    tps[admin]+="$(pgbench_tps "$db" set_tenant.sql 2 -U bench_admin)"$'\n'
    tps[unbound]+="$(pgbench_tps "$db" set_tenant.sql 2 -U bench_unbound)"$'\n'
    tps[bound]+="$(pgbench_tps "$db" set_tenant.sql 2 -U bench_bound)"$'\n'
    tps[handwritten]+="$(pgbench_tps "$db" set_tenant_checked.sql 2 -U bench_handwritten)"$'\n'
done
for key in "${!tps[@]}"; do
    declare "$key=$(printf '%s' "${tps[$key]}" | median)"
done
echo "1. BEGIN; set_tenant(random of 1,000); COMMIT (TPS, median of $rounds, higher is better; 2 clients, prepared)"
printf '   tenancy_admin member (no binding lookup)       %10s\n' "$admin"
printf '   role without bindings                          %10s   ratio %s\n' "$unbound" "$(ratio "$unbound" "$admin")"
printf '   role bound through a group                     %10s   ratio %s\n' "$bound" "$(ratio "$bound" "$admin")"
printf '   hand-written check + set_tenant (alternative)  %10s   ratio %s\n' "$handwritten" "$(ratio "$handwritten" "$admin")"
printf '   bound set_tenant versus the hand-written check: %s\n' "$(ratio "$bound" "$handwritten")"

calls=${BENCH_KEY_CALLS:-1000}
key_rounds=${BENCH_KEY_ROUNDS:-21}
echo "2. set_tenant_by_api_key (microseconds per call, median of $key_rounds rounds of $calls calls; lower is better)"
q -At -U bench_unbound <<SQL
CREATE TEMP TABLE timing (kind text, round int, us numeric);
DO \$\$
DECLARE
    k record; started timestamptz; failed int;
BEGIN
    FOR r IN 1..$key_rounds LOOP
        FOR k IN SELECT kind, key FROM bench_keys ORDER BY random() LOOP
            failed := 0;
            started := clock_timestamp();
            FOR i IN 1..$calls LOOP
                BEGIN
                    PERFORM tenancy.set_tenant_by_api_key(k.key);
                EXCEPTION WHEN OTHERS THEN
                    failed := failed + 1;
                END;
            END LOOP;
            INSERT INTO timing VALUES (k.kind, r,
                extract(epoch FROM clock_timestamp() - started) * 1e6 / $calls);
        END LOOP;
    END LOOP;
END \$\$;
SELECT format('   %-16s %8s us', kind, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us)::numeric, 2))
  FROM timing GROUP BY kind ORDER BY kind;
SQL

psql -X -q -d postgres -c "DROP DATABASE $db"
psql -X -q -d postgres -At -c "SELECT 'DROP ROLE ' || string_agg(quote_ident(rolname), ', ') FROM pg_roles
                                WHERE rolname LIKE 'bench\\_%' AND rolname <> 'bench_app'" | psql -X -q -d postgres
