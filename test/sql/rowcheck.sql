-- Tenant-row checks as a user sees them: protect a table, work as a tenant,
-- see that the policy uses the index, break things and let check repair them.
\set SHOW_CONTEXT never
-- Tenant ids appear in messages below: start them at a known value.
ALTER TABLE tenancy.tenant ALTER COLUMN id RESTART WITH 1001;
SELECT tenancy.create_tenant('rc-acme') AS acme, tenancy.create_tenant('rc-globex') AS globex \gset

-- A schema owner who protects tables, and an application role that does not
-- own them.
CREATE ROLE regress_rc_owner;
CREATE ROLE regress_rc_app;
GRANT USAGE ON SCHEMA tenancy TO regress_rc_owner, regress_rc_app;
GRANT EXECUTE ON FUNCTION tenancy.protect(regclass, name), tenancy.unprotect(regclass),
                          tenancy.require_row(regclass, jsonb), tenancy.unrequire_row(regclass, jsonb)
   TO regress_rc_owner;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) TO regress_rc_app;
CREATE SCHEMA rc AUTHORIZATION regress_rc_owner;
GRANT USAGE ON SCHEMA rc TO regress_rc_app;

SET ROLE regress_rc_owner;
CREATE TABLE rc.projects (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id bigint,
    name      text NOT NULL,
    UNIQUE (tenant_id, name)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON rc.projects TO regress_rc_app;
SELECT tenancy.protect('rc.projects');
SELECT tenancy.protect('rc.projects');  -- idempotent
RESET ROLE;
SELECT * FROM tenancy.protected_tables;
SELECT tbl, tenant_column, added_not_null, foreign_key, index_name, enabled_rls, forced_rls
  FROM tenancy.protected_table;

-- The application works as one tenant per transaction.
SET ROLE regress_rc_app;
BEGIN;
SELECT tenancy.set_tenant(:acme);
INSERT INTO rc.projects (name) VALUES ('website'), ('mobile');  -- tenant_id filled in
COMMIT;
BEGIN;
SELECT tenancy.set_tenant(:globex);
INSERT INTO rc.projects (tenant_id, name) VALUES (:globex, 'website');
SELECT tenant_id, name FROM rc.projects ORDER BY id;  -- globex sees only its row
COMMIT;
-- Another tenant's id is refused, with the table and both tenants named.
BEGIN;
SELECT tenancy.set_tenant(:globex);
INSERT INTO rc.projects (tenant_id, name) VALUES (:acme, 'sneaky');
ROLLBACK;
BEGIN;
SELECT tenancy.set_tenant(:acme);
UPDATE rc.projects SET tenant_id = :globex WHERE name = 'mobile';
ROLLBACK;
-- No tenant: nothing visible, nothing writable.
SELECT count(*) FROM rc.projects;
INSERT INTO rc.projects (name) VALUES ('orphan');
-- The context cannot be forged with SET or set_config.
SET tenancy.tenant_id = '1001';
SELECT set_config('tenancy.tenant_id', '1001', false);
RESET ROLE;

-- The policy costs no sequential scan: with many tenants, a tenant's query
-- uses the tenant index, and current_tenant() runs once (an InitPlan).
INSERT INTO tenancy.tenant (slug) SELECT 'rc-bulk-' || g FROM generate_series(1, 200) g;
INSERT INTO rc.projects (tenant_id, name)
SELECT t.id, 'p' || g FROM tenancy.tenant t, generate_series(1, 50) g WHERE t.slug LIKE 'rc-bulk-%';
ANALYZE rc.projects;
SET ROLE regress_rc_app;
BEGIN;
SELECT tenancy.set_tenant(:acme);
EXPLAIN (COSTS OFF, VERBOSE) SELECT name FROM rc.projects;
SELECT name FROM rc.projects ORDER BY name;
COMMIT;
RESET ROLE;

-- Required rows: every active tenant must have a 'public' project.  Other
-- tests' tenants share this database: the view shows only this test's.
CREATE TEMP VIEW my_check AS SELECT * FROM tenancy.check() c
 WHERE c.tenant IS NULL OR c.tenant = 424242 OR c.tenant IN (SELECT id FROM tenancy.tenant WHERE slug LIKE 'rc-%');
CREATE TEMP VIEW my_repair AS SELECT * FROM tenancy.check(true) c
 WHERE c.tenant IS NULL OR c.tenant = 424242 OR c.tenant IN (SELECT id FROM tenancy.tenant WHERE slug LIKE 'rc-%');
SET ROLE regress_rc_owner;
SELECT tenancy.require_row('rc.projects', '{"name": "public"}') AS rule \gset
RESET ROLE;
DELETE FROM rc.projects WHERE tenant_id IN (SELECT id FROM tenancy.tenant WHERE slug LIKE 'rc-bulk-%');
DELETE FROM tenancy.tenant WHERE slug LIKE 'rc-bulk-%';
SELECT tenancy.delete_tenant(tenancy.create_tenant('rc-gone'));
SELECT tenancy.delete_tenant(:globex);  -- its rows stay (soft delete)
-- Damage the protection too, and let a row of an unknown tenant in.
DROP POLICY tenancy_isolation ON rc.projects;
ALTER TABLE rc.projects DISABLE TRIGGER tenancy_tenant_guard;
ALTER TABLE rc.projects DROP CONSTRAINT projects_tenant_id_tenancy_fkey;
INSERT INTO rc.projects (tenant_id, name) VALUES (424242, 'stray');
SELECT * FROM my_check;
SELECT * FROM my_repair;
-- check never deletes: the stray row and the deleted tenant's rows remain
-- until someone decides about them.
DELETE FROM rc.projects WHERE tenant_id = 424242;
SELECT * FROM my_repair;
-- A tenant that was deleted during the repair gets its rows when restored.
SELECT tenancy.restore_tenant(:globex);
SELECT * FROM my_check;
SELECT * FROM my_repair;
SELECT * FROM my_check;  -- clean
SELECT t.slug, p.name FROM rc.projects p JOIN tenancy.tenant t ON t.id = p.tenant_id WHERE t.slug LIKE 'rc-%' ORDER BY 1, 2;

-- Errors say what is wrong.
SET ROLE regress_rc_owner;
CREATE TABLE rc.loose (id int, tenant_id integer, owner_id bigint);
SELECT tenancy.protect('rc.loose');
SELECT tenancy.protect('rc.loose', 'nope');
SELECT tenancy.protect('rc.loose', 'owner_id');  -- fine: an empty table, any bigint column
SELECT tenancy.require_row('rc.loose', '{"id": 1}');
SELECT tenancy.require_row('rc.projects', '{"colour": "red"}');
SELECT tenancy.require_row('rc.projects', '{"tenant_id": 1}');
SELECT tenancy.require_row('rc.projects', '[1]');
SELECT tenancy.unprotect('rc.projects');
RESET ROLE;
SET ROLE regress_rc_app;
SELECT tenancy.unprotect('rc.projects');
RESET ROLE;
SELECT tenancy.set_tenant(999999);

-- unprotect removes exactly what protect added: here everything, except the
-- unique index on (tenant_id, name), which was the table's own.
SET ROLE regress_rc_owner;
SELECT tenancy.unrequire_row('rc.projects', '{"name": "private"}');  -- not a rule: false
SELECT tenancy.unrequire_row('rc.projects', '{"name": "public"}');
SELECT tenancy.unprotect('rc.projects');
SELECT tenancy.unprotect('rc.projects');  -- not protected any more
RESET ROLE;
SELECT relrowsecurity, relforcerowsecurity,
       (SELECT count(*) FROM pg_policy WHERE polrelid = 'rc.projects'::regclass) AS policies,
       (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'rc.projects'::regclass) AS triggers,
       (SELECT array_agg(conname ORDER BY conname) FROM pg_constraint WHERE conrelid = 'rc.projects'::regclass) AS constraints,
       (SELECT array_agg(indexrelid::regclass ORDER BY 1) FROM pg_index WHERE indrelid = 'rc.projects'::regclass) AS indexes,
       (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'rc.projects'::regclass AND attname = 'tenant_id') AS not_null
  FROM pg_class WHERE oid = 'rc.projects'::regclass;

DROP SCHEMA rc CASCADE;
DROP OWNED BY regress_rc_owner, regress_rc_app;
DROP ROLE regress_rc_owner, regress_rc_app;
