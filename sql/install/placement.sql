
-- Placement: where each tenant's data lives (docs/placement.md).
--
-- A tenant is `shared` (rows in protected shared tables, the default),
-- `schema` (a schema of its own, tenant_<id>, in the registry database) or
-- `database` (a database of its own, tenant_<id>, on one of the registered
-- servers, holding the schema tenant_<id>).  The registry database holds the
-- servers, the placements, the migrations and the erasure records; a tenant
-- database holds its claim (which tenant of which registry it belongs to) and
-- its own migration ledger.  Work that cannot run in one transaction
-- (creating a database on another server, migrating every tenant, dropping a
-- database) is driven by the client through recorded, idempotent steps.
--
-- Same conventions as the other parts: pinned search_path everywhere, every
-- reference qualified, EXECUTE revoked from PUBLIC on everything.

-- Registry side -------------------------------------------------------------

-- This registry's identity, so that a tenant database names the registry it
-- belongs to and a database of another installation is never taken for one
-- of ours.  Created on first use (tenancy.registry_id), not here, so that a
-- dump restored into a new database keeps the identity it was dumped with.
CREATE TABLE tenancy.registry (
    id        uuid NOT NULL,
    singleton boolean NOT NULL DEFAULT true,
    CONSTRAINT registry_pkey PRIMARY KEY (singleton),
    CONSTRAINT registry_singleton CHECK (singleton)
);
COMMENT ON TABLE tenancy.registry IS 'The identity of this registry (one row, made on first use)';

CREATE TABLE tenancy.server (
    name       text NOT NULL,
    -- libpq connection string or URI of the server's maintenance database;
    -- '' means the registry's own server (clients reuse their registry
    -- connection's parameters).  Never a password: docs/placement.md.
    conninfo   text NOT NULL,
    accepting  boolean NOT NULL DEFAULT true,
    capacity   integer,        -- most tenants placed here; NULL: no limit
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT server_pkey PRIMARY KEY (name),
    CONSTRAINT server_name_format CHECK (name OPERATOR(pg_catalog.~) '^[a-z0-9][a-z0-9_-]{0,62}$'),
    CONSTRAINT server_capacity_nonnegative CHECK (capacity OPERATOR(pg_catalog.>=) 0)
);
COMMENT ON TABLE tenancy.server IS 'Servers that database tenants can be placed on; changed through tenancy.*_server';

CREATE TABLE tenancy.placement (
    -- Bookkeeping of the tenant row: it goes with it (a tenant row deleted by
    -- hand leaves its schema or database behind, which check reports).
    tenant_id        bigint NOT NULL REFERENCES tenancy.tenant (id) ON DELETE CASCADE,
    isolation        text NOT NULL,
    server           text REFERENCES tenancy.server (name),
    database_name    text,
    schema_name      text,
    -- provisioning -> ready for database tenants; ready from the start for
    -- the others; purging -> dropped while a database tenant is purged.
    state            text NOT NULL,
    -- Bumped whenever the tenant's location changes, so that routers notice.
    epoch            bigint NOT NULL DEFAULT 1,
    -- The newest migration applied to the tenant.  For a schema tenant it is
    -- written in the transaction that applies the migration; for a database
    -- tenant it is copied from the tenant database after each commit there
    -- (docs/placement.md, "Keeping progress consistent").
    migrated_version bigint NOT NULL DEFAULT 0,
    state_changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT placement_pkey PRIMARY KEY (tenant_id),
    CONSTRAINT placement_isolation_valid
        CHECK (isolation OPERATOR(pg_catalog.=) ANY (ARRAY['shared', 'schema', 'database'])),
    CONSTRAINT placement_state_valid
        CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['provisioning', 'ready', 'purging', 'dropped'])),
    CONSTRAINT placement_shape CHECK (CASE isolation
        WHEN 'shared' THEN server IS NULL AND database_name IS NULL AND schema_name IS NULL
                           AND state OPERATOR(pg_catalog.=) 'ready'
        WHEN 'schema' THEN server IS NULL AND database_name IS NULL AND schema_name IS NOT NULL
                           AND state OPERATOR(pg_catalog.=) 'ready'
        ELSE server IS NOT NULL AND database_name IS NOT NULL AND schema_name IS NOT NULL END),
    CONSTRAINT placement_epoch_positive CHECK (epoch OPERATOR(pg_catalog.>) 0),
    CONSTRAINT placement_migrated_version_nonnegative CHECK (migrated_version OPERATOR(pg_catalog.>=) 0)
);
CREATE INDEX placement_by_server ON tenancy.placement (server) WHERE server IS NOT NULL;
COMMENT ON TABLE tenancy.placement IS 'Where each tenant lives, its provisioning state, placement epoch and migration progress';

CREATE TABLE tenancy.migration (
    version    bigint NOT NULL,
    name       text NOT NULL,
    sql        text NOT NULL,
    checksum   text NOT NULL,   -- hex SHA-256 of sql (UTF-8)
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT migration_pkey PRIMARY KEY (version),
    CONSTRAINT migration_version_positive CHECK (version OPERATOR(pg_catalog.>) 0),
    CONSTRAINT migration_name_not_empty CHECK (name OPERATOR(pg_catalog.<>) '')
);
COMMENT ON TABLE tenancy.migration IS 'Migrations of tenant schemas and databases, applied in version order; never edited';

-- Rows every schema and database tenant must have in its own tables, the
-- counterpart of tenancy.required_row for tenants that live apart.
CREATE TABLE tenancy.tenant_row_rule (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name text NOT NULL,   -- a table of the tenant's schema, unqualified
    template   jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT tenant_row_rule_key UNIQUE (table_name, template),
    CONSTRAINT tenant_row_rule_template_object
        CHECK (pg_catalog.jsonb_typeof(template) OPERATOR(pg_catalog.=) 'object'),
    CONSTRAINT tenant_row_rule_table_not_empty CHECK (table_name OPERATOR(pg_catalog.<>) '')
);
COMMENT ON TABLE tenancy.tenant_row_rule
    IS 'Rules declared by tenancy.require_tenant_row: a row every schema and database tenant must have';

-- What tenancy.purge_tenant erased.  No customer data: ids, names of places
-- and counts only.
CREATE TABLE tenancy.erasure (
    tenant_id     bigint NOT NULL,
    slug          text NOT NULL,
    isolation     text NOT NULL,
    server        text,
    database_name text,
    schema_name   text,
    removed       jsonb NOT NULL,   -- {"<what>": <count>, ...}
    erased_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    erased_by     name NOT NULL,
    CONSTRAINT erasure_pkey PRIMARY KEY (tenant_id)
);
COMMENT ON TABLE tenancy.erasure IS 'One record per purged tenant: what was removed where, when and by whom';

-- Tenant side: in every database that holds tenant data ---------------------

-- The migrations applied to each tenant whose data lives in this database
-- (schema tenants in the registry database; the one tenant of a tenant
-- database), written in the transaction that applied them.
CREATE TABLE tenancy.applied_migration (
    tenant_id  bigint NOT NULL,
    version    bigint NOT NULL,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    duration   interval NOT NULL,
    applied_by name NOT NULL,
    CONSTRAINT applied_migration_pkey PRIMARY KEY (tenant_id, version)
);
COMMENT ON TABLE tenancy.applied_migration IS 'Migrations applied to the tenants whose data is in this database';

-- In a tenant database: the tenant and registry it belongs to.  Written once,
-- by tenancy.claim_database, before any tenant data.
CREATE TABLE tenancy.database_claim (
    tenant_id  bigint NOT NULL,
    registry   uuid NOT NULL,
    slug       text NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    singleton  boolean NOT NULL DEFAULT true,
    -- A move of the tenant to another server (docs/placement.md, "Moving a
    -- tenant"): the source copy is 'moving' (migrations wait), then 'frozen'
    -- (writes refused for the cutover), then 'moved' (kept read-only); the
    -- target copy is 'incoming' until the move has finished.  NULL: none.
    move_state    text,
    move_id       bigint,
    moved_to      text,
    move_state_at timestamptz,
    CONSTRAINT database_claim_pkey PRIMARY KEY (singleton),
    CONSTRAINT database_claim_singleton CHECK (singleton),
    CONSTRAINT database_claim_move_state_valid
        CHECK (move_state OPERATOR(pg_catalog.=) ANY (ARRAY['moving', 'frozen', 'moved', 'incoming'])),
    CONSTRAINT database_claim_move_shape CHECK ((move_state IS NULL) OPERATOR(pg_catalog.=) (move_id IS NULL))
);
COMMENT ON TABLE tenancy.database_claim IS 'In a tenant database: which tenant of which registry it belongs to';

SELECT pg_catalog.pg_extension_config_dump('tenancy.registry', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.server', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.placement', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.migration', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_row_rule', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_row_rule_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.erasure', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.applied_migration', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.database_claim', '');

-- Servers ------------------------------------------------------------------

CREATE FUNCTION tenancy.add_server(
    name text,
    conninfo text DEFAULT '',
    accepting boolean DEFAULT true,
    capacity integer DEFAULT NULL)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_add_server';
COMMENT ON FUNCTION tenancy.add_server(text, text, boolean, integer)
    IS 'Registers a server for database tenants; conninfo '''' is the registry''s own server; no passwords';

CREATE FUNCTION tenancy.set_server_accepting(name text, accepting boolean)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_set_server_accepting';
COMMENT ON FUNCTION tenancy.set_server_accepting(text, boolean)
    IS 'Lets placement choose the server for new tenants, or stops it';

CREATE FUNCTION tenancy.remove_server(name text)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_remove_server';
COMMENT ON FUNCTION tenancy.remove_server(text) IS 'Forgets a server; refused while tenants are placed there';

CREATE VIEW tenancy.servers AS
SELECT s.name, s.conninfo, s.accepting, s.capacity,
       coalesce(c.tenants, 0) AS tenants,
       coalesce(c.provisioning, 0) AS provisioning,
       coalesce(c.ready, 0) AS ready,
       coalesce(c.purging, 0) AS purging,
       s.capacity OPERATOR(pg_catalog.-) coalesce(c.tenants, 0)::integer AS free,
       s.created_at
  FROM tenancy.server s
  LEFT JOIN (SELECT p.server,
                    pg_catalog.count(*) AS tenants,
                    pg_catalog.count(*) FILTER (WHERE p.state OPERATOR(pg_catalog.=) 'provisioning') AS provisioning,
                    pg_catalog.count(*) FILTER (WHERE p.state OPERATOR(pg_catalog.=) 'ready') AS ready,
                    pg_catalog.count(*) FILTER (WHERE p.state OPERATOR(pg_catalog.=) ANY (ARRAY['purging', 'dropped'])) AS purging
               FROM tenancy.placement p
              WHERE p.server IS NOT NULL
              GROUP BY p.server) c ON c.server OPERATOR(pg_catalog.=) s.name;
COMMENT ON VIEW tenancy.servers IS 'Registered servers with their tenant counts by placement state and free capacity';

-- Tenants' locations -------------------------------------------------------

CREATE FUNCTION tenancy.registry_id()
RETURNS uuid
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_registry_id';
COMMENT ON FUNCTION tenancy.registry_id() IS 'This registry''s identity (made on first use)';

CREATE FUNCTION tenancy.tenant_location(tenant bigint)
RETURNS TABLE (
    tenant bigint, status text, isolation text, server text, conninfo text,
    database_name text, schema_name text, state text, epoch bigint,
    migrated_version bigint, latest_version bigint, registry uuid, on_registry_server boolean)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
ROWS 1
AS 'MODULE_PATHNAME', 'tenancy_tenant_location';
COMMENT ON FUNCTION tenancy.tenant_location(bigint)
    IS 'Where a tenant lives: isolation, server, conninfo (for its database; relative to the registry connection when on_registry_server), database, schema, placement state and epoch';

CREATE FUNCTION tenancy.tenant_locations(tenants bigint[] DEFAULT NULL, include_ready boolean DEFAULT true)
RETURNS TABLE (
    tenant bigint, status text, isolation text, server text, conninfo text,
    database_name text, schema_name text, state text, epoch bigint,
    migrated_version bigint, latest_version bigint, registry uuid, on_registry_server boolean)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_tenant_locations';
COMMENT ON FUNCTION tenancy.tenant_locations(bigint[], boolean)
    IS 'tenant_location for many tenants (all schema and database tenants when tenants is NULL); include_ready => false lists only those not ready';

-- Database tenants: the registry's side of provisioning ---------------------

CREATE FUNCTION tenancy.placement_ready(tenant bigint, epoch bigint, migrated_version bigint)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_placement_ready';
COMMENT ON FUNCTION tenancy.placement_ready(bigint, bigint, bigint)
    IS 'Marks a provisioned database tenant ready (step of tenancyctl provision); false if it already was';

CREATE FUNCTION tenancy.record_migration_progress(tenant bigint, epoch bigint, migrated_version bigint)
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_record_migration_progress';
COMMENT ON FUNCTION tenancy.record_migration_progress(bigint, bigint, bigint)
    IS 'Copies a database tenant''s migration progress, as read from its database, into the registry; returns the previous value';

-- Migrations ---------------------------------------------------------------

CREATE FUNCTION tenancy.add_migration(version bigint, name text, sql text)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_add_migration';
COMMENT ON FUNCTION tenancy.add_migration(bigint, text, text)
    IS 'Registers a tenant migration; true if added, false if the same version with the same SQL was already there';

-- The way out of a registered migration that cannot apply anywhere: only the
-- latest one, and only while no tenant is known to have applied it.
CREATE FUNCTION tenancy.remove_migration(version bigint)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_remove_migration';
COMMENT ON FUNCTION tenancy.remove_migration(bigint)
    IS 'Removes the latest registered migration; refused once any tenant has applied it';

CREATE VIEW tenancy.migrations AS
SELECT m.version, m.name, m.checksum, m.created_at, m.sql
  FROM tenancy.migration m
 ORDER BY m.version;
COMMENT ON VIEW tenancy.migrations IS 'Registered tenant migrations in the order they are applied';

CREATE FUNCTION tenancy.pending_migrations()
RETURNS TABLE (
    tenant bigint, isolation text, server text, state text,
    migrated_version bigint, latest_version bigint, pending bigint)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_pending_migrations';
COMMENT ON FUNCTION tenancy.pending_migrations()
    IS 'Schema and database tenants behind the latest migration, and by how many migrations (from the registry alone)';

-- Applies the pending migrations to a schema tenant, in the caller's
-- transaction, as the caller.
CREATE FUNCTION tenancy.migrate_tenant(tenant bigint)
RETURNS bigint
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_migrate_tenant';
COMMENT ON FUNCTION tenancy.migrate_tenant(bigint)
    IS 'Applies every pending migration to a schema tenant in this transaction; returns its version';

-- Tenant databases: run in the tenant's own database by the client ----------

CREATE FUNCTION tenancy.claim_database(tenant bigint, registry uuid, slug text)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_claim_database';
COMMENT ON FUNCTION tenancy.claim_database(bigint, uuid, text)
    IS 'Records that this database belongs to a tenant of a registry; true if claimed now, false if it already was';

CREATE FUNCTION tenancy.database_claim()
RETURNS TABLE (tenant bigint, registry uuid, slug text, claimed_at timestamptz,
               move_state text, move_id bigint, moved_to text)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_database_claim';
COMMENT ON FUNCTION tenancy.database_claim()
    IS 'The tenant and registry this database belongs to, and the state of a move of it; no row if unclaimed';

CREATE FUNCTION tenancy.apply_migrations(tenant bigint, registry uuid, migrations jsonb)
RETURNS bigint
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_apply_migrations';
COMMENT ON FUNCTION tenancy.apply_migrations(bigint, uuid, jsonb)
    IS 'In a tenant database: applies the given migrations that are not applied yet, in this transaction; returns the version';

CREATE FUNCTION tenancy.applied_migrations(tenant bigint)
RETURNS TABLE (version bigint, name text, checksum text, applied_at timestamptz, duration interval, applied_by name)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_applied_migrations';
COMMENT ON FUNCTION tenancy.applied_migrations(bigint)
    IS 'The migrations recorded as applied to a tenant whose data is in this database';

-- Required rows of tenants that live apart ----------------------------------

CREATE FUNCTION tenancy.require_tenant_row(table_name text, template jsonb)
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_require_tenant_row';
COMMENT ON FUNCTION tenancy.require_tenant_row(text, jsonb)
    IS 'Declares that every schema and database tenant must have a row of its table matching template; returns the rule id';

CREATE FUNCTION tenancy.unrequire_tenant_row(table_name text, template jsonb)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_unrequire_tenant_row';
COMMENT ON FUNCTION tenancy.unrequire_tenant_row(text, jsonb) IS 'Removes a tenant-row rule; false if there was none';

-- Checks one tenant whose data is in this database (run by the client in a
-- tenant database; tenancy.check covers schema tenants itself).
CREATE FUNCTION tenancy.check_tenant_data(
    tenant bigint, registry uuid, latest_version bigint, rules jsonb, repair boolean DEFAULT false)
RETURNS TABLE (tenant bigint, problem text, object text, detail text, repaired boolean)
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_check_tenant_data';
COMMENT ON FUNCTION tenancy.check_tenant_data(bigint, uuid, bigint, jsonb, boolean)
    IS 'Checks (and repairs) one tenant''s schema here: claim, migrations, required rows';

-- Erasure ------------------------------------------------------------------

CREATE FUNCTION tenancy.begin_purge(tenant bigint)
RETURNS TABLE (tenant bigint, isolation text, server text, conninfo text, database_name text, state text, registry uuid)
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_begin_purge';
COMMENT ON FUNCTION tenancy.begin_purge(bigint)
    IS 'First step of purging a deleted database tenant: routing and migration stop; its database may then be dropped';

CREATE FUNCTION tenancy.database_dropped(tenant bigint)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_database_dropped';
COMMENT ON FUNCTION tenancy.database_dropped(bigint)
    IS 'Records that a purging database tenant''s database has been dropped (step of tenancyctl tenant purge)';

CREATE FUNCTION tenancy.purge_tenant(tenant bigint)
RETURNS jsonb
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_purge_tenant';
COMMENT ON FUNCTION tenancy.purge_tenant(bigint)
    IS 'Erases a soft-deleted tenant completely and returns the erasure record; re-running returns the same record';

-- The sandbox of tenant migrations: refuses DDL outside the tenant's schema
-- while a migration runs, and does nothing otherwise.
CREATE FUNCTION tenancy.migration_ddl_guard()
RETURNS event_trigger
LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_migration_ddl_guard';
COMMENT ON FUNCTION tenancy.migration_ddl_guard()
    IS 'Event trigger: while a tenant migration runs, refuses DDL on objects outside the tenant''s schema';

CREATE EVENT TRIGGER tenancy_migration_ddl_guard ON ddl_command_end
    EXECUTE FUNCTION tenancy.migration_ddl_guard();
CREATE EVENT TRIGGER tenancy_migration_drop_guard ON sql_drop
    EXECUTE FUNCTION tenancy.migration_ddl_guard();

REVOKE ALL ON FUNCTION
    tenancy.add_server(text, text, boolean, integer),
    tenancy.set_server_accepting(text, boolean),
    tenancy.remove_server(text),
    tenancy.registry_id(),
    tenancy.tenant_location(bigint),
    tenancy.tenant_locations(bigint[], boolean),
    tenancy.placement_ready(bigint, bigint, bigint),
    tenancy.record_migration_progress(bigint, bigint, bigint),
    tenancy.add_migration(bigint, text, text),
    tenancy.remove_migration(bigint),
    tenancy.pending_migrations(),
    tenancy.migrate_tenant(bigint),
    tenancy.claim_database(bigint, uuid, text),
    tenancy.database_claim(),
    tenancy.apply_migrations(bigint, uuid, jsonb),
    tenancy.applied_migrations(bigint),
    tenancy.require_tenant_row(text, jsonb),
    tenancy.unrequire_tenant_row(text, jsonb),
    tenancy.check_tenant_data(bigint, uuid, bigint, jsonb, boolean),
    tenancy.begin_purge(bigint),
    tenancy.database_dropped(bigint),
    tenancy.purge_tenant(bigint),
    tenancy.migration_ddl_guard()
FROM PUBLIC;
