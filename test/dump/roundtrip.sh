#!/usr/bin/env bash
# pg_dump / pg_restore round trip (docs/deployment.md): a database with
# tenants in every status, API keys, storage usage and idempotency records,
# link tables, protected tables with rows of several tenants, a
# required-row rule and role bindings (test/dump/populate.sql) is dumped with pg_dump -Fc and
# restored with pg_restore into a new database.  The restored database must
# describe the same (test/dump/state.sql, compared section by section, the
# findings of tenancy.audit() included) and
# behave the same: keys resolve, a retried storage adjustment is still
# counted once, the policies, guard triggers and bindings enforce, check() is clean,
# the identity sequences continue where they were, ALTER EXTENSION UPDATE
# works.  Then: a dump of the previous released version, restored (as the
# current version: pg_dump names none); a dump of 0.5.0 with a protected
# table, which needs check(repair => true) for the TRUNCATE guard; and a
# restore into a database where the extension already exists.
#
# Expects PGHOST/PGPORT/PGUSER for a superuser; prints one "PASS ..." or
# "FAIL ..." line per check.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/tenancy-dump.XXXXXX)
trap 'rm -rf "$work"' EXIT

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
source "$here/../db_helpers.sh"  # psql_do, fresh_db
value() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }  # value DB -c SQL: the result as text

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; }
# expect DB SQL EXPECTED DESCRIPTION: the query's text result must be EXPECTED.
expect() {
    local got
    got=$(value -d "$1" -c "$2" 2>&1)
    if [ "$got" = "$3" ]; then pass "$4"; else fail "$4: expected '$3', got '$got'"; fi
}

# compare_state SRC DST: one PASS/FAIL per section of state.sql, comparing
# DST with the state SRC had when it was dumped (saved in $work/SRC.state).
compare_state() {
    value -d "$2" -f "$here/state.sql" >"$work/$2.state" 2>&1
    local section
    for section in $(grep '^== ' "$work/$1.state" | sed 's/^== //; s/ /_/g'); do
        awk -v want="== ${section//_/ }" '/^== /{on = ($0 == want)} on' "$work/$1.state" >"$work/a"
        awk -v want="== ${section//_/ }" '/^== /{on = ($0 == want)} on' "$work/$2.state" >"$work/b"
        if diff -u "$work/a" "$work/b" >"$work/diff"; then
            pass "restored $2 has the same ${section//_/ } ($(($(wc -l <"$work/a") - 1)) rows)"
        else
            fail "restored $2 differs in ${section//_/ }:"
            cat "$work/diff"
        fi
    done
}

psql_do -d postgres -c "DROP ROLE IF EXISTS dump_app" 2>/dev/null
src=tenancy_dump_src
dst=tenancy_dump_dst
fresh_db "$src"
psql_do -d "$src" -f "$here/populate.sql" >"$work/populate.out" 2>&1 \
    || { fail "populating the source database:"; cat "$work/populate.out"; exit 1; }

# Every table and sequence of the extension is marked for pg_dump, so one
# added later cannot silently be left out of backups.
unmarked=$(value -d "$src" -c "
    SELECT coalesce(string_agg(c.oid::regclass::text, ', ' ORDER BY c.oid::regclass::text), '')
      FROM pg_depend d
      JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'tenancy'
     WHERE d.deptype = 'e' AND c.relkind IN ('r', 'p', 'S') AND NOT c.oid = ANY (coalesce(e.extconfig, '{}'))")
if [ -z "$unmarked" ]; then
    pass "every table and sequence of the extension is marked with pg_extension_config_dump"
else
    fail "tables or sequences of the extension that pg_dump would leave out: $unmarked"
fi

# ---- dump, restore into a new database ------------------------------------------------
value -d "$src" -f "$here/state.sql" >"$work/$src.state" 2>&1
if pg_dump -Fc -d "$src" -f "$work/src.dump" 2>"$work/dump.err"; then
    pass "pg_dump -Fc of a database with the extension"
else
    fail "pg_dump -Fc: $(cat "$work/dump.err")"
fi
psql_do -d postgres -c "DROP DATABASE IF EXISTS $dst" -c "CREATE DATABASE $dst"
if pg_restore --exit-on-error -d "$dst" "$work/src.dump" 2>"$work/restore.err"; then
    pass "pg_restore into a new database, without an error"
else
    fail "pg_restore into a new database: $(cat "$work/restore.err")"
fi
compare_state "$src" "$dst"

# ---- the restored database behaves the same ------------------------------------------
live_key=$(value -d "$src" -c "SELECT key FROM dump_test.issued_key WHERE tenant_id = (SELECT id FROM tenancy.tenant WHERE slug = 'acme')")
revoked_key=$(value -d "$src" -c "SELECT key FROM dump_test.issued_key WHERE revoked")
acme=$(value -d "$src" -c "SELECT id FROM tenancy.tenant WHERE slug = 'acme'")
globex=$(value -d "$src" -c "SELECT id FROM tenancy.tenant WHERE slug = 'globex'")
expect "$dst" "SELECT tenancy.tenant_for_api_key('$live_key')" "$acme" "a live API key resolves to its tenant after the restore"
expect "$dst" "SELECT coalesce(tenancy.tenant_for_api_key('$revoked_key')::text, 'none')" "none" \
    "a revoked API key stays revoked"
expect "$dst" "SELECT used FROM tenancy.storage($acme)" "5120" "storage usage is restored"
expect "$dst" "SELECT tenancy.adjust_storage($acme, 4096, 'upload-1')" "4096" \
    "a retried adjustment with a restored idempotency key returns the first result"
expect "$dst" "SELECT used FROM tenancy.storage($acme)" "5120" "and is not counted again"
expect "$dst" "SELECT count(*) FROM tenancy.check()" "0" "check() is clean after the restore"
expect "$dst" "SELECT bool_and(complete) FROM tenancy.protected_tables" "t" \
    "every protected table has all its parts after the restore"
expect "$dst" "SET ROLE dump_app; DO \$\$BEGIN PERFORM tenancy.set_tenant($acme, false); END\$\$;
               SELECT string_agg(item, ',' ORDER BY item) FROM shop.orders" "anvil,rocket" \
    "the policy enforces: the application role sees only the current tenant's rows"
expect "$dst" "DO \$\$BEGIN SET LOCAL ROLE dump_app; PERFORM tenancy.set_tenant($acme);
               INSERT INTO shop.orders (tenant_id, item) VALUES ($globex, 'x');
               EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE 'refused'; END\$\$;
               SELECT count(*) FROM shop.orders WHERE item = 'x'" "0" \
    "the guard trigger enforces: another tenant's row is refused"
umbrella=$(value -d "$src" -c "SELECT id FROM tenancy.tenant WHERE slug = 'umbrella'")
expect "$dst" "SET ROLE dump_app; DO \$\$BEGIN PERFORM tenancy.set_tenant($umbrella);
               EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE 'refused'; END\$\$;
               SELECT coalesce(tenancy.current_tenant()::text, 'none')" "none" \
    "role bindings enforce: the application role cannot act for a tenant it is not bound to"
expect "$dst" "SET ROLE dump_app; DO \$\$BEGIN PERFORM tenancy.set_tenant($acme, false); END\$\$;
               DO \$\$BEGIN TRUNCATE shop.orders; EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE 'refused'; END\$\$;
               SELECT count(*) FROM shop.orders" "2" \
    "the TRUNCATE guard enforces: an application role granted ALL cannot truncate"
expect "$dst" "SET ROLE dump_app; DO \$\$BEGIN PERFORM tenancy.set_tenant($acme, false); END\$\$;
               SELECT string_agg(what || '@' || tableoid::regclass::text, ',' ORDER BY at)
                 FROM (SELECT *, tableoid FROM shop.events_2024_h0 UNION ALL SELECT *, tableoid FROM shop.events_2024_h1
                       UNION ALL SELECT *, tableoid FROM shop.events_2025) e
                WHERE tenant_id IS DISTINCT FROM $acme" "" \
    "each partition queried directly shows only the current tenant's rows"
psql_do -d "$dst" -c "CREATE TABLE shop.events_2026 PARTITION OF shop.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
expect "$dst" "SELECT complete FROM tenancy.protected_tables WHERE table_name = 'shop.events_2026'::regclass" "t" \
    "a partition created after the restore is protected by the restored event trigger"
next_src=$(value -d "$src" -c "SELECT tenancy.create_tenant('after-dump')")
expect "$dst" "SELECT tenancy.create_tenant('after-dump')" "$next_src" \
    "the tenant id sequence continues where the source's did"
expect "$dst" "SELECT tenancy.require_row('shop.apps', '{\"name\": \"admin\"}') > 1" "t" \
    "the required-row id sequence continues too"
if psql_do -d "$dst" -c "ALTER EXTENSION tenancy UPDATE" 2>"$work/update.err"; then
    pass "ALTER EXTENSION tenancy UPDATE runs on the restored database"
else
    fail "ALTER EXTENSION tenancy UPDATE on the restored database: $(cat "$work/update.err")"
fi

# ---- a dump of the previous release, restored, then updated -----------------------------
previous=$(ls "$root"/sql/released/tenancy--*.sql | sed 's/.*tenancy--//; s/\.sql$//' | sort -V | tail -1)
current=$(sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$root/tenancy.control")
old_src=tenancy_dump_old_src
old_dst=tenancy_dump_old_dst
fresh_db "$old_src" "$previous"
psql_do -d "$old_src" -c "SELECT tenancy.create_tenant('old-acme'); SELECT tenancy.issue_api_key(1)" >/dev/null
old_key=$(value -d "$old_src" -c "SELECT tenancy.issue_api_key(1)")
pg_dump -Fc -d "$old_src" -f "$work/old.dump"
psql_do -d postgres -c "DROP DATABASE IF EXISTS $old_dst" -c "CREATE DATABASE $old_dst"
if pg_restore --exit-on-error -d "$old_dst" "$work/old.dump" 2>"$work/old.err" \
   && psql_do -d "$old_dst" -c "ALTER EXTENSION tenancy UPDATE" 2>>"$work/old.err"; then
    pass "a dump of $previous restores, and ALTER EXTENSION UPDATE runs after it"
else
    fail "a dump of $previous restored and updated: $(cat "$work/old.err")"
fi
expect "$old_dst" "SELECT extversion FROM pg_extension WHERE extname = 'tenancy'" "$current" "the restored $previous is now $current"
expect "$old_dst" "SELECT tenancy.tenant_for_api_key('$old_key')" "1" "and its keys still resolve"

# ---- a dump of a version before the TRUNCATE guard, restored, then repaired ---------------
# pg_dump writes CREATE EXTENSION without a version, so pg_restore installs
# the current version directly and no update script runs: the step of
# 0.5.0 -> 0.6.0 that gives already protected tables the TRUNCATE guard never
# runs for them.  check(repair => true) adds it (docs/deployment.md).  The
# table is protected by hand, part by part as 0.5.0's protect did (the
# installed module is the current one, whose protect expects the current
# tables).
pre_guard=0.5.0
pre_src=tenancy_dump_pre_guard_src
pre_dst=tenancy_dump_pre_guard_dst
fresh_db "$pre_src" "$pre_guard"
psql_do -d "$pre_src" -c "
    CREATE TABLE guarded (tenant_id bigint NOT NULL REFERENCES tenancy.tenant (id), item text);
    CREATE INDEX guarded_tenant_id_idx ON guarded (tenant_id);
    ALTER TABLE guarded ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenancy_isolation ON guarded USING (tenant_id = (SELECT tenancy.current_tenant()))
        WITH CHECK (tenant_id = (SELECT tenancy.current_tenant()));
    CREATE TRIGGER tenancy_tenant_guard BEFORE INSERT OR UPDATE ON guarded
        FOR EACH ROW EXECUTE FUNCTION tenancy.tenant_guard('tenant_id');
    INSERT INTO tenancy.protected_table (tbl, tenant_column, added_not_null, enabled_rls, forced_rls)
        VALUES ('guarded', 'tenant_id', false, true, true);" >/dev/null
pg_dump -Fc -d "$pre_src" -f "$work/pre_guard.dump"
psql_do -d postgres -c "DROP DATABASE IF EXISTS $pre_dst" -c "CREATE DATABASE $pre_dst"
if pg_restore --exit-on-error -d "$pre_dst" "$work/pre_guard.dump" 2>"$work/pre_guard.err"; then
    pass "a dump of $pre_guard restores"
else
    fail "a dump of $pre_guard restored: $(cat "$work/pre_guard.err")"
fi
expect "$pre_dst" "SELECT extversion || ' ' || truncate_guard FROM pg_extension, tenancy.protected_tables
                    WHERE extname = 'tenancy' AND table_name = 'guarded'::regclass" "$current false" \
    "it is restored as $current directly, and its protected table lacks the TRUNCATE guard"
expect "$pre_dst" "SELECT string_agg(concat_ws(' ', problem, object, split_part(detail, ' part', 1), repaired), ', ')
                      FROM tenancy.check(repair => true)" \
    "missing_part public.guarded the truncate_guard t" "check(repair => true) reports the missing guard and adds it"
expect "$pre_dst" "SELECT truncate_guard AND complete FROM tenancy.protected_tables WHERE table_name = 'guarded'::regclass" "t" \
    "then the table has every part, the TRUNCATE guard included"

# ---- restore into a database where the extension already exists ---------------------------
# pg_restore reports that schema tenancy exists (the dump creates the schema
# before CREATE EXTENSION IF NOT EXISTS, which then does nothing) and loads
# the extension's rows into the existing, empty tables: the result is the
# same as a restore into a new database.
existing=tenancy_dump_existing
fresh_db "$existing"
pg_restore -d "$existing" "$work/src.dump" >"$work/existing.out" 2>&1
errors=$(grep -c '^pg_restore: error:' "$work/existing.out" || true)
if [ "$errors" -eq 1 ] && grep -q 'schema "tenancy" already exists' "$work/existing.out"; then
    pass "restoring over an existing extension: one error, schema tenancy already exists"
else
    fail "restoring over an existing extension gave $errors error(s):"
    cat "$work/existing.out"
fi
compare_state "$src" "$existing"

# ---- and where it already has tenants --------------------------------------------------------
# Then the rows of the extension's tables collide with the dump's: the COPY
# of every table whose keys collide fails as a whole, so the restore is
# incomplete; pg_restore says so.  docs/deployment.md: restore into a new
# database.
busy=tenancy_dump_busy
fresh_db "$busy"
psql_do -d "$busy" -c "SELECT tenancy.create_tenant('already-here')" >/dev/null
pg_restore -d "$busy" "$work/src.dump" >"$work/busy.out" 2>&1
if grep -q 'COPY tenant' "$work/busy.out" && grep -q 'duplicate key value violates unique constraint "tenant_pkey"' "$work/busy.out"; then
    pass "restoring over an extension that has tenants fails loudly on the tenant table"
else
    fail "restoring over an extension that has tenants did not report the collision:"
    cat "$work/busy.out"
fi

for db in "$src" "$dst" "$old_src" "$old_dst" "$pre_src" "$pre_dst" "$existing" "$busy"; do
    psql_do -d postgres -c "DROP DATABASE \"$db\""
done
psql_do -d postgres -c "DROP ROLE dump_app"
