\echo Use "ALTER EXTENSION tenancy UPDATE" to load this file. \quit

-- 0.5.0: hot paths at the speed of the raw statement, striped storage
-- counters (docs/storage.md, "Striped counters").

-- Hot functions without a SET search_path clause: each call paid a GUC save,
-- parse and restore for it.  adjust_storage and set_tenant pin the path in C
-- (pg_catalog only) around their statements; sync_links runs fully qualified
-- SQL with the caller's path, like the hand-written statements it replaces;
-- current_tenant and tenant_guard look nothing up by name.  docs/security.md,
-- "Hot functions", says why each is as safe as the clause.
ALTER FUNCTION tenancy.adjust_storage(bigint, bigint, text, text) RESET search_path;
ALTER FUNCTION tenancy.sync_links(regclass, name, anyelement, name, anycompatiblearray) RESET search_path;
ALTER FUNCTION tenancy.sync_links(regclass, name, text, name, anycompatiblearray) RESET search_path;
ALTER FUNCTION tenancy.set_tenant(bigint, boolean) RESET search_path;
ALTER FUNCTION tenancy.current_tenant() RESET search_path;
ALTER FUNCTION tenancy.tenant_guard() RESET search_path;
