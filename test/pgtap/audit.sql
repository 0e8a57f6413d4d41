-- The isolation audit: every hazard it reports, its severity and object, the
-- fix it proposes (run, and the finding is gone), a clean schema laid out the
-- way a distributed engine shards by tenant, the schema filter, and errors.
BEGIN;
SELECT plan(31);

CREATE ROLE tap_au_owner;
CREATE ROLE tap_au_other;
CREATE ROLE tap_au_app;
CREATE ROLE tap_au_bypass BYPASSRLS;
CREATE ROLE tap_au_auditor;
GRANT USAGE ON SCHEMA tenancy TO tap_au_owner, tap_au_other, tap_au_app, tap_au_bypass, tap_au_auditor;
GRANT EXECUTE ON FUNCTION tenancy.protect(regclass, name) TO tap_au_owner;
GRANT EXECUTE ON FUNCTION tenancy.audit(name) TO tap_au_auditor;
CREATE SCHEMA tap_au AUTHORIZATION tap_au_owner;
GRANT USAGE, CREATE ON SCHEMA tap_au TO tap_au_other;
GRANT USAGE ON SCHEMA tap_au TO tap_au_app, tap_au_bypass;

SET ROLE tap_au_owner;
-- Tables with a tenant column that nobody protected.
CREATE TABLE tap_au.unprotected (id bigint, tenant_id bigint);
CREATE TABLE tap_au.narrow (id bigint, tenant_id integer);
-- Protected tables whose keys leave the tenant column out.
CREATE TABLE tap_au.customers (id bigserial PRIMARY KEY, tenant_id bigint, email text UNIQUE, code text, name text);
CREATE UNIQUE INDEX customers_code ON tap_au.customers (code);
CREATE UNIQUE INDEX customers_lower_name ON tap_au.customers (lower(name));
CREATE TABLE tap_au.orders (id bigint GENERATED ALWAYS AS IDENTITY, tenant_id bigint,
                            customer_id bigint CONSTRAINT orders_customer_fkey REFERENCES tap_au.customers (id) ON DELETE CASCADE);
SELECT tenancy.protect('tap_au.customers');
SET client_min_messages = error;  -- protect's warning about the foreign key the audit reports too
SELECT tenancy.protect('tap_au.orders');
RESET client_min_messages;
-- A shared table (no tenant column) that points at tenants' rows.
CREATE TABLE tap_au.shared_log (id bigint, customer_id bigint CONSTRAINT shared_log_customer_fkey REFERENCES tap_au.customers (id));
-- A protected table that lost its policy, and one with an extra permissive policy.
CREATE TABLE tap_au.damaged (tenant_id bigint);
SELECT tenancy.protect('tap_au.damaged');
DROP POLICY tenancy_isolation ON tap_au.damaged;
CREATE TABLE tap_au.widened (tenant_id bigint, public boolean);
SELECT tenancy.protect('tap_au.widened');
CREATE POLICY everyone_sees_public ON tap_au.widened USING (public);
-- Views: the owner's (fine), another role's, and a materialized one.
CREATE VIEW tap_au.own_view AS SELECT id, tenant_id FROM tap_au.orders;
CREATE MATERIALIZED VIEW tap_au.order_counts AS SELECT tenant_id, count(*) FROM tap_au.orders GROUP BY tenant_id;
GRANT SELECT ON tap_au.orders, tap_au.customers TO tap_au_other, tap_au_bypass;
RESET ROLE;
SET ROLE tap_au_other;
CREATE VIEW tap_au.other_view AS SELECT id FROM tap_au.orders;
RESET ROLE;
-- A tenant column recognised by its foreign key (REFERENCES on
-- tenancy.tenant is the extension owner's to use).
CREATE TABLE tap_au.by_key (id bigint, org bigint REFERENCES tenancy.tenant (id));
ALTER TABLE tap_au.by_key OWNER TO tap_au_owner;
-- As a superuser: a protected table, a view, SECURITY DEFINER functions.
CREATE TABLE tap_au.admin_table (tenant_id bigint);
SELECT tenancy.protect('tap_au.admin_table');
CREATE VIEW tap_au.admin_view AS SELECT * FROM tap_au.own_view;
CREATE VIEW tap_au.invoker_view WITH (security_invoker = true) AS SELECT id FROM tap_au.orders;
CREATE FUNCTION tap_au.count_orders() RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
    AS $$ SELECT count(*) FROM tap_au.orders $$;
CREATE FUNCTION tap_au.opaque() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
    AS $$ BEGIN RETURN 1; END $$;
-- A partition created while the event trigger was off, of a table protected
-- on a column other than the default tenant_id.
CREATE TABLE tap_au.parted (org bigint NOT NULL, n int) PARTITION BY LIST (n);
ALTER TABLE tap_au.parted OWNER TO tap_au_owner;
SET ROLE tap_au_owner;
SELECT tenancy.protect('tap_au.parted', 'org');
RESET ROLE;
ALTER EVENT TRIGGER tenancy_protect_partitions DISABLE;
CREATE TABLE tap_au.parted_1 PARTITION OF tap_au.parted FOR VALUES IN (1);
ALTER EVENT TRIGGER tenancy_protect_partitions ENABLE;

-- Findings of schema tap_au -------------------------------------------------------
SELECT results_eq(
    $$SELECT severity, hazard, object FROM tenancy.audit('tap_au')$$,
    $$VALUES ('error', 'cross_tenant_foreign_key', 'orders_customer_fkey on tap_au.orders'),
             ('error', 'incomplete_protection', 'tap_au.damaged'),
             ('error', 'materialized_view_over_protected_table', 'tap_au.order_counts'),
             ('error', 'permissive_policy', 'everyone_sees_public on tap_au.widened'),
             ('error', 'privileged_security_definer', 'tap_au.count_orders()'),
             ('error', 'unique_without_tenant', 'tap_au.customers_code on tap_au.customers'),
             ('error', 'unique_without_tenant', 'tap_au.customers_email_key on tap_au.customers'),
             ('error', 'unique_without_tenant', 'tap_au.customers_lower_name on tap_au.customers'),
             ('error', 'unprotected_partition', 'tap_au.parted_1'),
             ('error', 'unprotected_tenant_table', 'tap_au.by_key'),
             ('error', 'unprotected_tenant_table', 'tap_au.narrow'),
             ('error', 'unprotected_tenant_table', 'tap_au.unprotected'),
             ('error', 'view_bypasses_isolation', 'tap_au.admin_view'),
             ('warning', 'bypassrls_role', 'tap_au_bypass'),
             ('warning', 'privileged_security_definer', 'tap_au.opaque()'),
             ('warning', 'privileged_table_owner', 'tap_au.admin_table'),
             ('warning', 'reference_from_shared_table', 'shared_log_customer_fkey on tap_au.shared_log'),
             ('warning', 'unique_without_tenant', 'tap_au.customers_pkey on tap_au.customers'),
             ('warning', 'view_owner_differs', 'tap_au.other_view')$$,
    'audit(schema) reports each hazard once, errors first, with its object');

CREATE TEMP TABLE found AS SELECT * FROM tenancy.audit('tap_au');
SELECT is((SELECT fix FROM found WHERE object = 'tap_au.unprotected'),
          $$SELECT tenancy.protect('tap_au.unprotected', 'tenant_id');$$, 'the fix of an unprotected table protects it');
SELECT is((SELECT fix FROM found WHERE object = 'tap_au.narrow'), NULL, 'no fix for an integer tenant column');
SELECT matches((SELECT explanation FROM found WHERE object = 'tap_au.narrow'), 'the column is integer, and protect needs bigint',
               'and the explanation says why');
SELECT is((SELECT fix FROM found WHERE object = 'tap_au.by_key'), $$SELECT tenancy.protect('tap_au.by_key', 'org');$$,
          'a column with a foreign key to tenancy.tenant is a tenant column, whatever its name');
SELECT is((SELECT fix FROM found WHERE object = 'tap_au.customers_email_key on tap_au.customers'),
          'ALTER TABLE tap_au.customers DROP CONSTRAINT customers_email_key, ADD CONSTRAINT customers_email_key UNIQUE (tenant_id, email);',
          'a unique constraint''s fix puts the tenant column first');
SELECT is((SELECT fix FROM found WHERE object = 'tap_au.customers_code on tap_au.customers'),
          'DROP INDEX tap_au.customers_code; CREATE UNIQUE INDEX customers_code ON tap_au.customers (tenant_id, code);',
          'a unique index''s fix builds it again with the tenant column');
SELECT is((SELECT fix FROM found WHERE object = 'tap_au.customers_lower_name on tap_au.customers'), NULL,
          'no fix for an expression index: a person decides');
SELECT matches((SELECT explanation FROM found WHERE object = 'tap_au.customers_pkey on tap_au.customers'),
               'come from a sequence.*foreign keys reference it', 'a serial key is a warning, and its dependents are named');
SELECT is((SELECT fix FROM found WHERE hazard = 'cross_tenant_foreign_key'),
          'ALTER TABLE tap_au.orders DROP CONSTRAINT orders_customer_fkey, ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (tenant_id, customer_id) REFERENCES tap_au.customers (tenant_id, id) ON DELETE CASCADE;',
          'a cross-tenant foreign key''s fix pairs the tenant columns and keeps its actions');
SELECT is((SELECT fix FROM found WHERE object = 'tap_au.parted_1'), $$SELECT tenancy.protect('tap_au.parted_1', 'org');$$,
          'the fix of an unprotected partition names the tenant column of its partitioned table');
SELECT is((SELECT fix FROM found WHERE hazard = 'view_bypasses_isolation'),
          'ALTER VIEW tap_au.admin_view SET (security_invoker = true);', 'a superuser''s view: make it security_invoker');
SELECT is((SELECT count(*) FROM found WHERE object IN ('tap_au.own_view', 'tap_au.invoker_view')), 0::bigint,
          'no finding for a view of the table owner, nor for a security_invoker view');
SELECT is((SELECT count(*) FROM found WHERE fix IS NULL), 6::bigint,
          'only findings a person must decide have no fix');

-- The fixes work: run them, and the findings are gone --------------------------------
DO $$
DECLARE f record;
BEGIN
    FOR f IN SELECT fix FROM found
              WHERE (hazard IN ('unprotected_tenant_table', 'unprotected_partition', 'incomplete_protection',
                                'view_bypasses_isolation', 'view_owner_differs', 'privileged_security_definer',
                                'bypassrls_role')
                     OR object IN ('tap_au.customers_email_key on tap_au.customers',
                                   'tap_au.customers_code on tap_au.customers'))
                AND fix IS NOT NULL LOOP
        EXECUTE f.fix;
    END LOOP;
END $$;
SELECT results_eq(
    $$SELECT hazard, object FROM tenancy.audit('tap_au')$$,
    $$VALUES ('cross_tenant_foreign_key', 'orders_customer_fkey on tap_au.orders'),
             ('materialized_view_over_protected_table', 'tap_au.order_counts'),
             ('permissive_policy', 'everyone_sees_public on tap_au.widened'),
             ('unique_without_tenant', 'tap_au.customers_lower_name on tap_au.customers'),
             ('unprotected_tenant_table', 'tap_au.narrow'),
             ('privileged_table_owner', 'tap_au.admin_table'),
             ('reference_from_shared_table', 'shared_log_customer_fkey on tap_au.shared_log'),
             ('unique_without_tenant', 'tap_au.customers_pkey on tap_au.customers')$$,
    'after running the fixes, only the findings without one (or not run) remain');
SELECT is((SELECT complete FROM tenancy.protected_tables WHERE table_name = 'tap_au.parted_1'::regclass), true,
          'the partition''s fix protected it');
SELECT is((SELECT rolbypassrls FROM pg_roles WHERE rolname = 'tap_au_bypass'), false, 'the role''s fix took BYPASSRLS away');

-- The keys, fixed by hand in the order the explanations give ---------------------------
ALTER TABLE tap_au.shared_log DROP CONSTRAINT shared_log_customer_fkey;
ALTER TABLE tap_au.orders DROP CONSTRAINT orders_customer_fkey;
ALTER TABLE tap_au.customers DROP CONSTRAINT customers_pkey, ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE tap_au.orders ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (tenant_id, customer_id)
    REFERENCES tap_au.customers (tenant_id, id);
SELECT is((SELECT count(*) FROM tenancy.audit('tap_au')
            WHERE hazard IN ('cross_tenant_foreign_key', 'reference_from_shared_table')
               OR object = 'tap_au.customers_pkey on tap_au.customers'), 0::bigint,
          'with the tenant column in the key and the foreign key, those findings are gone');

-- A schema laid out for sharding by tenant has no findings -----------------------------
CREATE SCHEMA tap_au_clean AUTHORIZATION tap_au_owner;
SET ROLE tap_au_owner;
CREATE TABLE tap_au_clean.countries (code text PRIMARY KEY);   -- shared reference data, no tenant column
CREATE TABLE tap_au_clean.accounts (tenant_id bigint, id bigint GENERATED ALWAYS AS IDENTITY, email text,
                                    country text REFERENCES tap_au_clean.countries,
                                    PRIMARY KEY (tenant_id, id), UNIQUE (tenant_id, email));
CREATE TABLE tap_au_clean.invoices (tenant_id bigint, id bigint, account_id bigint,
                                    placed date NOT NULL, PRIMARY KEY (tenant_id, id, placed),
                                    FOREIGN KEY (tenant_id, account_id) REFERENCES tap_au_clean.accounts (tenant_id, id))
    PARTITION BY RANGE (placed);
CREATE TABLE tap_au_clean.invoices_2025 PARTITION OF tap_au_clean.invoices FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
SELECT tenancy.protect('tap_au_clean.accounts');
SELECT tenancy.protect('tap_au_clean.invoices');
CREATE VIEW tap_au_clean.open_invoices WITH (security_invoker = true) AS SELECT * FROM tap_au_clean.invoices;
RESET ROLE;
SELECT is_empty($$SELECT * FROM tenancy.audit('tap_au_clean')$$,
                'a schema with the tenant column in every key and foreign key has no findings');

-- Findings that belong to no schema: only audit(NULL) shows them --------------------
CREATE ROLE tap_au_gone;
SELECT tenancy.create_tenant('tap-au') AS t \gset
SELECT tenancy.bind_role('tap_au_gone', :t);
SELECT tenancy.bind_role('tap_au_owner', :t);
SELECT 'tap_au_gone'::regrole::oid AS gone \gset
DROP ROLE tap_au_gone;
GRANT tenancy_admin TO tap_au_owner;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) TO PUBLIC;
SELECT results_eq(
    $$SELECT severity, hazard FROM tenancy.audit() WHERE hazard LIKE 'binding%' OR hazard LIKE 'set_tenant%'$$,
    $$VALUES ('error', 'set_tenant_granted_to_public'), ('warning', 'binding_of_dropped_role'),
             ('info', 'binding_not_required'), ('info', 'binding_of_unrestricted_role')$$,
    'audit() adds the findings about grants and role bindings');
SELECT is((SELECT fix FROM tenancy.audit() WHERE hazard = 'binding_of_dropped_role'),
          format('SELECT tenancy.unbind_role(%s::pg_catalog.oid::pg_catalog.regrole, %s);', :gone, :t),
          'a dropped role''s binding: the fix removes it by OID');
DO $$ DECLARE f record; BEGIN
    FOR f IN SELECT fix FROM tenancy.audit()
              WHERE hazard IN ('set_tenant_granted_to_public', 'binding_of_dropped_role', 'binding_of_unrestricted_role') LOOP
        EXECUTE f.fix;
    END LOOP;
END $$;
SELECT is_empty($$SELECT * FROM tenancy.audit() WHERE hazard IN ('set_tenant_granted_to_public', 'binding_of_dropped_role',
                                                                  'binding_of_unrestricted_role')$$,
                'their fixes work');
SELECT ok(NOT has_function_privilege('public', 'tenancy.set_tenant(bigint, boolean)', 'EXECUTE'),
          '(set_tenant is no longer granted to PUBLIC)');
SELECT is((SELECT count(*) FROM tenancy.audit('tap_au') WHERE hazard LIKE 'binding%'), 0::bigint,
          'audit(schema) leaves them out');

-- Arguments and rights ------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM tenancy.audit('tap_au_nothing')$$, '3F000', 'schema "tap_au_nothing" does not exist',
                 'an unknown schema: 3F000');
SELECT is_empty($$SELECT * FROM tenancy.audit('pg_catalog')$$, 'the system''s schemas are not audited');
SELECT is_empty($$SELECT * FROM tenancy.audit('tenancy')$$, 'nor the extension''s');
SET ROLE tap_au_app;
SELECT throws_ok($$SELECT * FROM tenancy.audit()$$, '42501', NULL, 'a role without the grant cannot run the audit');
SELECT throws_ok($$SELECT * FROM tenancy.isolation_hazards$$, '42501', NULL, 'nor read the view behind it');
RESET ROLE;
SET ROLE tap_au_auditor;
SELECT is((SELECT count(*) FROM tenancy.audit('tap_au') WHERE hazard = 'permissive_policy'), 1::bigint,
          'a role granted EXECUTE runs it');
RESET ROLE;
-- Object names in findings are schema-qualified whatever the caller's search_path.
SET search_path = tap_au, public;
SELECT ok((SELECT bool_and(object LIKE 'tap_au.%' OR object LIKE '% on tap_au.%') FROM tenancy.audit('tap_au')),
          'every object is qualified');
RESET search_path;

SELECT * FROM finish();
ROLLBACK;
