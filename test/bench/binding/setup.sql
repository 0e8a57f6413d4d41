-- Data for the tenant-binding benchmark (test/bench/binding/run.sh).
SET client_min_messages = warning;
-- Tenants 1-1000 are set at random; 1001-1003 hold the API keys of part 2.
INSERT INTO tenancy.tenant (slug) SELECT 'bench-' || g FROM generate_series(1, 1003) g;

-- Roles that each call set_tenant the way an application would.
CREATE ROLE bench_admin LOGIN IN ROLE tenancy_admin;   -- exempt: no binding lookup
CREATE ROLE bench_unbound LOGIN;                       -- no bindings: one lookup, finds none
CREATE ROLE bench_bound LOGIN;                         -- bound to every tenant through a group
CREATE ROLE bench_group;
GRANT bench_group TO bench_bound;
CREATE ROLE bench_handwritten LOGIN;                   -- uses the application's own check instead
GRANT USAGE ON SCHEMA tenancy TO bench_unbound, bench_bound, bench_handwritten;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) TO bench_unbound, bench_bound;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant_by_api_key(text, boolean) TO bench_unbound;

SELECT tenancy.bind_role('bench_group', g) FROM generate_series(1, 1000) g;
-- Bindings of other roles, so the lookup is not on a tiny table.
DO $$ BEGIN
    FOR i IN 1..200 LOOP
        EXECUTE format('CREATE ROLE bench_other_%s', i);
        PERFORM tenancy.bind_role(format('bench_other_%s', i)::regrole, i);
    END LOOP;
END $$;

-- What an application writes without bindings: a mapping table and a
-- SECURITY DEFINER wrapper, owned by a role exempt from the binding rule.
CREATE SCHEMA bench_app AUTHORIZATION bench_admin;
CREATE TABLE bench_app.role_tenant (role_name name, tenant bigint, PRIMARY KEY (role_name, tenant));
INSERT INTO bench_app.role_tenant SELECT 'bench_handwritten', g FROM generate_series(1, 1000) g;
ALTER TABLE bench_app.role_tenant OWNER TO bench_admin;
CREATE FUNCTION bench_app.set_tenant_checked(t bigint) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM bench_app.role_tenant WHERE role_name = session_user AND tenant = t) THEN
        RAISE EXCEPTION 'role % may not act as tenant %', session_user, t USING ERRCODE = '42501';
    END IF;
    PERFORM tenancy.set_tenant(t);
END $$;
ALTER FUNCTION bench_app.set_tenant_checked(bigint) OWNER TO bench_admin;
GRANT USAGE ON SCHEMA bench_app TO bench_handwritten;
GRANT EXECUTE ON FUNCTION bench_app.set_tenant_checked(bigint) TO bench_handwritten;

-- API keys: a live one, a revoked one, one of a deleted tenant.
CREATE TABLE bench_keys (kind text PRIMARY KEY, key text);
INSERT INTO bench_keys VALUES ('valid', tenancy.issue_api_key(1001)), ('revoked', tenancy.issue_api_key(1002)),
                              ('deleted tenant', tenancy.issue_api_key(1003)),
                              ('unknown', 'tnk_' || repeat('0', 64)), ('malformed', 'tnk_not-a-key');
SELECT tenancy.revoke_api_keys(1002), tenancy.delete_tenant(1003);
GRANT SELECT ON bench_keys TO bench_unbound;
