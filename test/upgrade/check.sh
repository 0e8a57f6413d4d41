#!/usr/bin/env bash
# Upgrade check: for every shipped version of the extension, installs that
# version, runs ALTER EXTENSION tenancy UPDATE, and compares a description of
# every object (test/upgrade/snapshot.sql) with a fresh install of the newest
# version.  Any difference fails.  A self-test first proves that the
# comparison notices a changed object, so a green check means something even
# while only one version exists.
#
# Expects PGHOST/PGPORT/PGUSER for a superuser; prints one "PASS ..." or
# "FAIL ..." line per check.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/tenancy-upgrade.XXXXXX)
trap 'rm -rf "$work"' EXIT

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
source "$here/../db_helpers.sh"  # psql_do, fresh_db

snapshot() { # snapshot DB FILE
    psql_do -d "$1" -f "$here/snapshot.sql" >"$2"
}

current=$(sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$root/tenancy.control")
fresh_db tenancy_upgrade_fresh || { echo "FAIL fresh install of $current"; exit 1; }
snapshot tenancy_upgrade_fresh "$work/fresh.txt"

# Self-test: a changed function setting must show up as a difference.
fresh_db tenancy_upgrade_selftest
psql_do -d tenancy_upgrade_selftest -c \
    "ALTER FUNCTION tenancy.issue_api_key(bigint) RESET search_path"
snapshot tenancy_upgrade_selftest "$work/selftest.txt"
if diff -q "$work/fresh.txt" "$work/selftest.txt" >/dev/null; then
    echo "FAIL self-test: a changed function went unnoticed by the comparison"
else
    echo "PASS self-test: the comparison notices a changed function"
fi
psql_do -d postgres -c "DROP DATABASE tenancy_upgrade_selftest"

shopt -s nullglob
for script in "$root"/sql/released/tenancy--*.sql; do
    version=$(basename "$script" .sql)
    version=${version#tenancy--}
    db="tenancy_upgrade_from_${version//./_}"
    if ! fresh_db "$db" "$version" || ! psql_do -d "$db" -c "ALTER EXTENSION tenancy UPDATE"; then
        echo "FAIL $version -> $current: install or update failed"
        continue
    fi
    snapshot "$db" "$work/from-$version.txt"
    if diff -u "$work/fresh.txt" "$work/from-$version.txt" >"$work/from-$version.diff"; then
        echo "PASS $version -> $current: updated objects match a fresh install"
    else
        echo "FAIL $version -> $current: updated objects differ from a fresh install:"
        cat "$work/from-$version.diff"
    fi
    psql_do -d postgres -c "DROP DATABASE \"$db\""
done
# Tables protected before the TRUNCATE guard existed (0.6.0) get it from
# ALTER EXTENSION UPDATE, as triggers of the table, not of the extension.
# (The record is written by hand: the installed module is the current one,
# whose protect expects the current tables.)
db=tenancy_upgrade_protected
if [ -f "$root/sql/released/tenancy--0.4.0.sql" ]; then
    if fresh_db "$db" 0.4.0 &&
        psql_do -d "$db" -c "CREATE TABLE guarded (tenant_id bigint)" \
            -c "INSERT INTO tenancy.protected_table (tbl, tenant_column, added_not_null, enabled_rls, forced_rls)
                VALUES ('guarded', 'tenant_id', false, false, false)" \
            -c "ALTER EXTENSION tenancy UPDATE"; then
        state=$(psql -X -At -d "$db" -c "
            SELECT (SELECT truncate_guard FROM tenancy.protected_tables
                     WHERE table_name = 'guarded'::regclass)::text || ' ' ||
                   (SELECT count(*) FROM pg_depend WHERE classid = 'pg_trigger'::regclass AND deptype = 'e')")
        if [ "$state" = "true 0" ]; then
            echo "PASS 0.4.0 -> $current: a protected table gets the TRUNCATE guard"
        else
            echo "FAIL 0.4.0 -> $current: a protected table after the update (guarded, extension triggers): $state"
        fi
    else
        echo "FAIL 0.4.0 -> $current: recording a protected table and updating failed"
    fi
    psql_do -d postgres -c "DROP DATABASE IF EXISTS \"$db\""
fi
psql_do -d postgres -c "DROP DATABASE tenancy_upgrade_fresh"
