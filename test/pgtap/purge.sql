-- Erasure: purge_tenant removes a soft-deleted tenant completely (its schema,
-- its rows in protected shared tables, API keys, storage records, registry
-- row) and keeps a record with no customer data; database tenants go through
-- begin_purge and database_dropped first; every step may be repeated.
BEGIN;
SELECT plan(31);

CREATE SCHEMA tap_pg;
CREATE TABLE tap_pg.projects (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id bigint NOT NULL,
                              name text NOT NULL, UNIQUE (tenant_id, id));
CREATE TABLE tap_pg.tasks (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id bigint NOT NULL,
                           project_id bigint NOT NULL, title text,
                           FOREIGN KEY (tenant_id, project_id) REFERENCES tap_pg.projects (tenant_id, id));
SELECT tenancy.protect('tap_pg.projects');
SELECT tenancy.protect('tap_pg.tasks');

SELECT tenancy.create_tenant('tap-purge-shared', storage_quota => 1000) AS shared \gset
SELECT tenancy.create_tenant('tap-purge-keep') AS keep \gset
SELECT tenancy.create_tenant('tap-purge-schema', isolation => 'schema') AS sch \gset
-- Rows of both tenants; tasks refer to projects, so the order of deletes matters.
INSERT INTO tap_pg.projects (tenant_id, name) VALUES (:shared, 'p1'), (:shared, 'p2'), (:keep, 'kept');
INSERT INTO tap_pg.tasks (tenant_id, project_id, title)
SELECT tenant_id, id, 'task' FROM tap_pg.projects;
SELECT tenancy.issue_api_key(:shared) AS shared_key \gset
SELECT tenancy.adjust_storage(:shared, 100, 'upload-1');
SELECT tenancy.adjust_storage(:shared, -500);   -- clamped: leaves a storage_anomaly row

SELECT throws_ok(format('SELECT tenancy.purge_tenant(%s)', :shared), 'TN004',
                 format('tenant %s is active; only a deleted tenant can be purged', :shared),
                 'an active tenant cannot be purged');
SELECT throws_ok('SELECT tenancy.purge_tenant(999999999)', 'TN001', NULL, 'an unknown tenant is TN001');
SELECT throws_ok('SELECT tenancy.purge_tenant(NULL)', '22023', 'tenant must not be NULL', 'NULL is refused');

SELECT tenancy.delete_tenant(:shared);
SELECT tenancy.purge_tenant(:shared) AS record \gset
SELECT is((SELECT count(*) FROM tenancy.tenant WHERE id = :shared), 0::bigint, 'the registry row is gone');
SELECT is((SELECT count(*) FROM tap_pg.projects WHERE tenant_id = :shared), 0::bigint, 'its projects are gone');
SELECT is((SELECT count(*) FROM tap_pg.tasks WHERE tenant_id = :shared), 0::bigint,
          'its tasks too, deleted before the projects they refer to');
SELECT is((SELECT count(*) FROM tap_pg.projects WHERE tenant_id = :keep), 1::bigint, 'another tenant''s rows stay');
SELECT is((SELECT count(*) FROM tenancy.api_key WHERE tenant_id = :shared), 0::bigint, 'API keys are gone');
SELECT is(tenancy.tenant_for_api_key(:'shared_key'), NULL, 'and the key resolves to nothing');
SELECT is((SELECT count(*) FROM tenancy.storage_idempotency_key WHERE tenant_id = :shared), 0::bigint,
          'idempotency records are gone');
SELECT is((SELECT count(*) FROM tenancy.storage_anomaly WHERE tenant_id = :shared), 0::bigint,
          'storage anomalies are gone');
SELECT is((SELECT count(*) FROM tenancy.placement WHERE tenant_id = :shared), 0::bigint, 'the placement is gone');
SELECT results_eq(format($$SELECT slug, isolation, erased_by::text, (removed ->> 'rows of tap_pg.projects')::int,
                                  (removed ->> 'rows of tap_pg.tasks')::int, (removed ->> 'rows of tenancy.api_key')::int
                             FROM tenancy.erasure WHERE tenant_id = %s$$, :shared),
                  $$VALUES ('tap-purge-shared', 'shared', session_user::text, 2, 2, 1)$$,
                  'the erasure record says what was removed where, and by whom');
SELECT is((SELECT count(*) FROM jsonb_object_keys((SELECT removed FROM tenancy.erasure WHERE tenant_id = :shared)) k
            WHERE k NOT LIKE 'rows of %' AND k NOT LIKE 'tables in schema %' AND k NOT LIKE 'database %'), 0::bigint,
          'and holds counts only, no customer data');
SELECT is(tenancy.purge_tenant(:shared), :'record'::jsonb, 'purging again returns the same record');

-- A schema tenant: its schema is dropped.
SELECT tenancy.delete_tenant(:sch);
SELECT is(tenancy.purge_tenant(:sch) ->> 'schema_name', format('tenant_%s', :sch), 'a schema tenant is purged');
SELECT hasnt_schema(format('tenant_%s', :sch), 'its schema is gone');

-- A schema that lost the tenant's marker is not dropped.
SELECT tenancy.create_tenant('tap-purge-unmarked', isolation => 'schema') AS unmarked \gset
SELECT tenancy.delete_tenant(:unmarked);
SELECT format('COMMENT ON SCHEMA tenant_%s IS NULL', :unmarked) \gexec
SELECT throws_ok(format('SELECT tenancy.purge_tenant(%s)', :unmarked), 'TN014', NULL,
                 'a schema without the tenant''s marker is not dropped');
SELECT has_schema(format('tenant_%s', :unmarked), 'and stays');

-- A database tenant: the client drops its database between two steps.
UPDATE tenancy.server SET accepting = false;
SELECT tenancy.add_server('tap-purge-server', 'host=/nonexistent');
SELECT tenancy.create_tenant('tap-purge-db', isolation => 'database') AS db \gset
SELECT throws_ok(format('SELECT * FROM tenancy.begin_purge(%s)', :db), 'TN004', NULL, 'begin_purge needs a deleted tenant');
SELECT tenancy.delete_tenant(:db);
SELECT throws_ok(format('SELECT tenancy.purge_tenant(%s)', :db), 'TN015',
                 format('the database of tenant %s has not been dropped', :db),
                 'purge_tenant refuses while the database may still exist');
SELECT throws_ok(format('SELECT tenancy.database_dropped(%s)', :db), 'TN015', NULL,
                 'database_dropped before begin_purge is refused');
SELECT results_eq(format('SELECT isolation, server, database_name, state FROM tenancy.begin_purge(%s)', :db),
                  format($$VALUES ('database', 'tap-purge-server'::text, 'tenant_%s'::text, 'purging')$$, :db),
                  'begin_purge marks the tenant purging and says where its database is');
SELECT results_eq(format('SELECT state FROM tenancy.begin_purge(%s)', :db), $$VALUES ('purging')$$,
                  'begin_purge can be repeated');
SELECT is((SELECT purging FROM tenancy.servers WHERE name = 'tap-purge-server'), 1::bigint, 'the server counts it as purging');
SELECT lives_ok(format('SELECT tenancy.database_dropped(%s)', :db), 'database_dropped records the drop');
SELECT lives_ok(format('SELECT tenancy.database_dropped(%s)', :db), 'and can be repeated');
SELECT is(tenancy.purge_tenant(:db) ->> 'database_name', format('tenant_%s', :db), 'then purge_tenant finishes');
SELECT lives_ok($$SELECT tenancy.remove_server('tap-purge-server')$$, 'and the server holds no tenant any more');

-- A table that refers to the tenant without being protected blocks the purge.
CREATE TABLE tap_pg.invoices (tenant_id bigint REFERENCES tenancy.tenant (id));
SELECT tenancy.create_tenant('tap-purge-blocked') AS blocked \gset
INSERT INTO tap_pg.invoices VALUES (:blocked);
SELECT tenancy.delete_tenant(:blocked);
SELECT throws_ok(format('SELECT tenancy.purge_tenant(%s)', :blocked), '23503', NULL,
                 'an unprotected table referring to the tenant blocks the purge');
SELECT is((SELECT count(*) FROM tenancy.tenant WHERE id = :blocked), 1::bigint, 'and nothing was removed');

SELECT * FROM finish();
ROLLBACK;
