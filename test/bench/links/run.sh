#!/usr/bin/env bash
# Link sync benchmark: syncing one member's 50 groups (5 changed per call)
# over 10,000 members, three ways, at 1, 8 and 32 clients:
#   (a) ORM pattern: select, delete each removed row, insert each added row
#   (b) hand-written DELETE + INSERT ... ON CONFLICT DO NOTHING in a transaction
#   (c) tenancy.sync_links
# Prints TPS and the ratios c/a and c/b.  Targets: c/a >= 3, c/b >= 0.85.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"

db=bench_links
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -X -q -d "$db" -c "CREATE EXTENSION tenancy"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$here/setup.sql"

echo "network delay ${BENCH_DELAY_US:-0} us each way"
printf '%-8s %12s %12s %12s %8s %8s\n' clients "a: ORM" "b: pair" "c: sync" "c/a" "c/b"
for clients in 1 8 32; do
    a=$(pgbench_tps "$db" "$here/orm.sql" "$clients" -D nclients="$clients")
    b=$(pgbench_tps "$db" "$here/handwritten.sql" "$clients" -D nclients="$clients")
    c=$(pgbench_tps "$db" "$here/sync_links.sql" "$clients" -D nclients="$clients")
    printf '%-8s %12.0f %12.0f %12.0f %8s %8s\n' "$clients" "$a" "$b" "$c" "$(ratio "$c" "$a")" "$(ratio "$c" "$b")"
done

# What one sync costs the server (1 client, no network): the pair against sync_links.
if [ "${BENCH_DELAY_US:-0}" = 0 ]; then
    cpu_b=$(least_cpu_us 3 "$db" "$here/handwritten.sql" 5000 -D nclients=1)
    cpu_c=$(least_cpu_us 3 "$db" "$here/sync_links.sql" 5000 -D nclients=1)
    echo "server CPU per sync (us, 1 client, least of 3): b $cpu_b, c $cpu_c; c costs $(ratio "$cpu_c" "$cpu_b")x b"
fi

# Every approach keeps the data shape: 50 distinct groups per member.
psql -X -At -d "$db" -c "SELECT 'check: ' || count(DISTINCT member_id) || ' members, ' || count(*) || ' rows, ' ||
                                (SELECT count(*) FROM (SELECT member_id FROM role_membership GROUP BY 1 HAVING count(*) <> 50) x)
                                || ' members without exactly 50 groups' FROM role_membership"
psql -X -q -d postgres -c "DROP DATABASE $db"
