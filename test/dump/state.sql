-- What a dump and restore must keep, section by section ("== name" lines),
-- in a fixed order, so two databases can be compared with diff.
\pset format unaligned
\pset tuples_only on
\pset null '<null>'
SET client_min_messages = warning;

\echo == extension
SELECT extname, extversion FROM pg_extension WHERE extname = 'tenancy';
\echo == tenants
SELECT id, slug, name, status, storage_quota, storage_used, settings, created_at, updated_at, deleted_at
  FROM tenancy.tenant ORDER BY id;
\echo == api keys
SELECT id, tenant_id, encode(key_hash, 'hex'), created_at, revoked_at FROM tenancy.api_key ORDER BY id;
\echo == storage idempotency keys
SELECT * FROM tenancy.storage_idempotency_key ORDER BY tenant_id, idempotency_key;
\echo == storage anomalies
SELECT * FROM tenancy.storage_anomaly ORDER BY id;
\echo == protected tables
SELECT tbl::text, tenant_column, added_not_null, foreign_key, index_name, enabled_rls, forced_rls, protected_at,
       partition_of::text
  FROM tenancy.protected_table ORDER BY 1;
SELECT table_name::text, not_null, foreign_key, index, rls_enabled, rls_forced, policy, trigger, truncate_guard, complete
  FROM tenancy.protected_tables ORDER BY 1;
\echo == required rows
SELECT id, tbl::text, template, created_at FROM tenancy.required_row ORDER BY id;
\echo == role bindings
SELECT role::text, tenant_id, bound_at FROM tenancy.role_binding ORDER BY 1, 2;
\echo == sequences
SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'tenancy' ORDER BY 1;
\echo == policies
SELECT schemaname, tablename, policyname, permissive, roles, cmd, qual, with_check
  FROM pg_policies WHERE schemaname = 'shop' ORDER BY 1, 2, 3;
\echo == row-level security
SELECT c.oid::regclass, c.relrowsecurity, c.relforcerowsecurity, c.relacl
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'shop' AND c.relkind IN ('r', 'p') ORDER BY c.oid::regclass::text;
\echo == triggers
SELECT tgrelid::regclass, tgname, tgenabled, pg_get_triggerdef(oid)
  FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'shop.%' ORDER BY tgrelid::regclass::text, tgname;
\echo == application rows
SELECT 'orders', id, tenant_id, item FROM shop.orders ORDER BY id;
SELECT 'apps', tenant_id, name FROM shop.apps ORDER BY 2, 3;
SELECT 'membership', member_id, group_id FROM shop.membership ORDER BY 2, 3;
SELECT 'events', tableoid::regclass, tenant_id, at, what FROM shop.events ORDER BY 3, 4;
\echo == event triggers
SELECT evtname, evtevent, evtenabled, evttags FROM pg_event_trigger ORDER BY 1;
\echo == audit
SELECT severity, hazard, object, explanation, fix FROM tenancy.audit() ORDER BY 1, 2, 3;
\echo == check
SELECT tenant, problem, object, detail, repaired FROM tenancy.check() ORDER BY 1, 2, 3;
