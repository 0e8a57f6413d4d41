-- Tenant registry: every function, its documented results and its errors.
BEGIN;
SELECT plan(76);

-- Structure ------------------------------------------------------------------
SELECT has_table('tenancy', 'tenant', 'tenancy.tenant exists');
SELECT columns_are('tenancy', 'tenant', ARRAY['id', 'slug', 'name', 'status', 'storage_quota', 'storage_used',
    'settings', 'created_at', 'updated_at', 'deleted_at', 'storage_stripes'], 'tenancy.tenant has the documented columns');
SELECT col_is_pk('tenancy', 'tenant', 'id', 'id is the primary key');
SELECT col_type_is('tenancy', 'tenant', 'id', 'bigint', 'id is bigint');
SELECT col_default_is('tenancy', 'tenant', 'storage_quota', '10737418240'::bigint, 'default quota is 10 GiB');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'tenancy'), false, 'extension is not relocatable');
SELECT is((SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
            WHERE e.extname = 'tenancy'), 'tenancy', 'extension lives in schema tenancy');

-- create_tenant --------------------------------------------------------------
SELECT lives_ok($$SELECT tenancy.create_tenant('alpha', 'Alpha Ltd')$$, 'create_tenant with slug and name');
SELECT is(t.slug, 'alpha', 'slug stored') FROM tenancy.tenant t WHERE t.name = 'Alpha Ltd';
SELECT results_eq(
    $$SELECT status, storage_quota, storage_used, settings, deleted_at IS NULL FROM tenancy.tenant WHERE slug = 'alpha'$$,
    $$VALUES ('active'::text, 10737418240::bigint, 0::bigint, '{}'::jsonb, true)$$,
    'a new tenant is active, with default quota, no usage, empty settings');
SELECT tenancy.create_tenant('beta', NULL, 0, '{"tier": "free"}') AS beta_id \gset
SELECT is(:beta_id::bigint, (SELECT id FROM tenancy.tenant WHERE slug = 'beta'), 'create_tenant returns the new id');
SELECT results_eq($$SELECT name, storage_quota, settings FROM tenancy.tenant WHERE slug = 'beta'$$,
                  $$VALUES (NULL::text, 0::bigint, '{"tier": "free"}'::jsonb)$$,
                  'NULL name, zero quota and settings are stored as given');
SELECT lives_ok($$SELECT tenancy.create_tenant('0-digit_first')$$, 'a slug may start with a digit and use - and _');
SELECT lives_ok($$SELECT tenancy.create_tenant(repeat('a', 63))$$, 'a 63-character slug is accepted');

SELECT throws_ok($$SELECT tenancy.create_tenant(repeat('a', 64))$$, '22023', NULL, 'a 64-character slug is refused');
SELECT throws_ok($$SELECT tenancy.create_tenant('')$$, '22023', 'tenant slug must not be empty', 'empty slug refused');
SELECT throws_ok($$SELECT tenancy.create_tenant(NULL)$$, '22023', 'slug must not be NULL', 'NULL slug refused');
SELECT throws_ok($$SELECT tenancy.create_tenant('Upper')$$, '22023', NULL, 'upper case refused');
SELECT throws_ok($$SELECT tenancy.create_tenant('-dash')$$, '22023', NULL, 'leading dash refused');
SELECT throws_ok($$SELECT tenancy.create_tenant('_under')$$, '22023', NULL, 'leading underscore refused');
SELECT throws_ok($$SELECT tenancy.create_tenant('has space')$$, '22023', NULL, 'space refused');
SELECT throws_ok($$SELECT tenancy.create_tenant('dot.ted')$$, '22023', NULL, 'dot refused');
SELECT throws_ok($$SELECT tenancy.create_tenant(E'line\nbreak')$$, '22023', NULL, 'newline refused');
SELECT throws_ok($$SELECT tenancy.create_tenant('café')$$, '22023', NULL, 'non-ASCII letter refused');
SELECT throws_ok($$SELECT tenancy.create_tenant('alpha')$$, '23505', 'tenant slug "alpha" is already taken',
                 'duplicate slug refused with 23505');
SELECT throws_ok($$SELECT tenancy.create_tenant('gamma', NULL, -1)$$, '22023', NULL, 'negative quota refused');
SELECT throws_ok($$SELECT tenancy.create_tenant('gamma', NULL, NULL)$$, '22023', 'storage_quota must not be NULL',
                 'NULL quota refused, not defaulted');
SELECT throws_ok($$SELECT tenancy.create_tenant('gamma', NULL, 1, NULL)$$, '22023', 'settings must not be NULL',
                 'NULL settings refused');
SELECT throws_ok($$SELECT tenancy.create_tenant('gamma', NULL, 1, '[1, 2]')$$, '22023',
                 'tenant settings must be a JSON object', 'array settings refused');
SELECT throws_ok($$SELECT tenancy.create_tenant('gamma', NULL, 1, '"text"')$$, '22023',
                 'tenant settings must be a JSON object', 'scalar settings refused');
SELECT is((SELECT count(*) FROM tenancy.tenant WHERE slug = 'gamma'), 0::bigint, 'failed creates left no row');
SELECT lives_ok($$SELECT tenancy.create_tenant('maxquota', NULL, 9223372036854775807)$$, 'bigint max quota accepted');

-- Status transitions -----------------------------------------------------------
CREATE TEMP TABLE ids AS SELECT slug, id FROM tenancy.tenant;
SELECT lives_ok(format('SELECT tenancy.suspend_tenant(%s)', (SELECT id FROM ids WHERE slug = 'alpha')), 'suspend active');
SELECT is((SELECT status FROM tenancy.tenant WHERE slug = 'alpha'), 'suspended', 'status is suspended');
SELECT throws_ok(format('SELECT tenancy.suspend_tenant(%s)', (SELECT id FROM ids WHERE slug = 'alpha')), 'TN004', NULL,
                 'suspending a suspended tenant is an invalid transition');
SELECT throws_ok(format('SELECT tenancy.restore_tenant(%s)', (SELECT id FROM ids WHERE slug = 'alpha')), 'TN004', NULL,
                 'restoring a tenant that is not deleted is an invalid transition');
SELECT lives_ok(format('SELECT tenancy.activate_tenant(%s)', (SELECT id FROM ids WHERE slug = 'alpha')), 'activate suspended');
SELECT is((SELECT status FROM tenancy.tenant WHERE slug = 'alpha'), 'active', 'status is active again');
SELECT throws_ok(format('SELECT tenancy.activate_tenant(%s)', (SELECT id FROM ids WHERE slug = 'alpha')), 'TN004',
                 format('tenant %s is active; only a suspended tenant can be activated', (SELECT id FROM ids WHERE slug = 'alpha')),
                 'activating an active tenant is an invalid transition, with a precise message');
SELECT lives_ok(format('SELECT tenancy.delete_tenant(%s)', (SELECT id FROM ids WHERE slug = 'alpha')), 'delete active');
SELECT results_eq($$SELECT status, deleted_at IS NOT NULL FROM tenancy.tenant WHERE slug = 'alpha'$$,
                  $$VALUES ('deleted'::text, true)$$, 'soft delete sets status and deleted_at, keeps the row');
SELECT throws_ok(format('SELECT tenancy.delete_tenant(%s)', (SELECT id FROM ids WHERE slug = 'alpha')), 'TN004', NULL,
                 'deleting a deleted tenant is an invalid transition');
SELECT throws_ok(format('SELECT tenancy.suspend_tenant(%s)', (SELECT id FROM ids WHERE slug = 'alpha')), 'TN004', NULL,
                 'suspending a deleted tenant is an invalid transition');
SELECT throws_ok(format('SELECT tenancy.activate_tenant(%s)', (SELECT id FROM ids WHERE slug = 'alpha')), 'TN004', NULL,
                 'activating a deleted tenant is an invalid transition');
SELECT lives_ok(format('SELECT tenancy.restore_tenant(%s)', (SELECT id FROM ids WHERE slug = 'alpha')), 'restore deleted');
SELECT results_eq($$SELECT status, deleted_at IS NULL FROM tenancy.tenant WHERE slug = 'alpha'$$,
                  $$VALUES ('active'::text, true)$$, 'restore makes it active and clears deleted_at');
SELECT lives_ok(format('SELECT tenancy.suspend_tenant(%s)', (SELECT id FROM ids WHERE slug = 'beta')), 'suspend beta');
SELECT lives_ok(format('SELECT tenancy.delete_tenant(%s)', (SELECT id FROM ids WHERE slug = 'beta')), 'a suspended tenant can be deleted');
SELECT throws_ok('SELECT tenancy.delete_tenant(-42)', 'TN001', 'tenant -42 does not exist', 'unknown tenant: TN001');
SELECT throws_ok('SELECT tenancy.restore_tenant(-42)', 'TN001', NULL, 'restore of unknown tenant: TN001');
SELECT throws_ok('SELECT tenancy.suspend_tenant(NULL)', '22023', 'tenant must not be NULL', 'NULL tenant: 22023');
SELECT throws_ok('SELECT tenancy.activate_tenant(NULL)', '22023', NULL, 'NULL tenant to activate: 22023');

-- search_tenants ---------------------------------------------------------------
SELECT lives_ok($$SELECT tenancy.create_tenant('pct', 'Fifty% off_sale \ back')$$, 'tenant with wildcard characters in its name');
SELECT lives_ok($$SELECT tenancy.create_tenant('plain', 'Fifty percent off sale')$$, 'tenant whose name a wildcard would match');
SELECT results_eq($$SELECT slug FROM tenancy.search_tenants('%')$$, $$VALUES ('pct'::text)$$, '% is literal');
SELECT results_eq($$SELECT slug FROM tenancy.search_tenants('off_sale')$$, $$VALUES ('pct'::text)$$, '_ is literal');
SELECT results_eq($$SELECT slug FROM tenancy.search_tenants('\')$$, $$VALUES ('pct'::text)$$, 'backslash is literal');
SELECT results_eq($$SELECT slug FROM tenancy.search_tenants('FIFTY')$$, $$VALUES ('pct'::text), ('plain'::text)$$,
                  'keyword matches the name case-insensitively');
SELECT results_eq($$SELECT slug FROM tenancy.search_tenants('PLAI')$$, $$VALUES ('plain'::text)$$,
                  'keyword matches the slug case-insensitively');
SELECT is_empty($$SELECT * FROM tenancy.search_tenants('beta')$$, 'deleted tenants are hidden by default');
SELECT results_eq($$SELECT slug, status FROM tenancy.search_tenants('beta', include_deleted => true)$$,
                  $$VALUES ('beta'::text, 'deleted'::text)$$, 'include_deleted shows them');
SELECT results_eq(format('SELECT slug FROM tenancy.search_tenants(tenant => %s)', (SELECT id FROM ids WHERE slug = 'alpha')),
                  $$VALUES ('alpha'::text)$$, 'filter by tenant id');
SELECT is_empty(format($$SELECT * FROM tenancy.search_tenants('beta', tenant => %s)$$, (SELECT id FROM ids WHERE slug = 'alpha')),
                'keyword and id filters combine');
SELECT is((SELECT count(*) FROM tenancy.search_tenants(page_size => 1000)), (SELECT count(*) FROM tenancy.tenant WHERE status <> 'deleted'),
          'one large page returns every live tenant');
SELECT is((SELECT DISTINCT total FROM tenancy.search_tenants(page_size => 2)),
          (SELECT count(*) FROM tenancy.tenant WHERE status <> 'deleted'), 'total counts all matches, not just the page');
SELECT results_eq($$SELECT id FROM tenancy.search_tenants(page => 2, page_size => 2)$$,
                  $$SELECT id FROM tenancy.tenant WHERE status <> 'deleted' ORDER BY id LIMIT 2 OFFSET 2$$,
                  'page 2 is the next slice in id order');
SELECT is_empty($$SELECT * FROM tenancy.search_tenants(page => 2147483647, page_size => 1000)$$,
                'a page far past the end is empty, without overflow');
SELECT throws_ok($$SELECT * FROM tenancy.search_tenants(page => 0)$$, '22023', 'page must be 1 or more, not 0', 'page 0 refused');
SELECT throws_ok($$SELECT * FROM tenancy.search_tenants(page => -5)$$, '22023', NULL, 'negative page refused');
SELECT throws_ok($$SELECT * FROM tenancy.search_tenants(page_size => 0)$$, '22023', NULL, 'page_size 0 refused');
SELECT throws_ok($$SELECT * FROM tenancy.search_tenants(page_size => 1001)$$, '22023',
                 'page_size must be between 1 and 1000, not 1001', 'page_size 1001 refused');
SELECT throws_ok($$SELECT * FROM tenancy.search_tenants(page => NULL)$$, '22023', 'page must not be NULL', 'NULL page refused');
SELECT throws_ok($$SELECT * FROM tenancy.search_tenants(include_deleted => NULL)$$, '22023', NULL, 'NULL include_deleted refused');

-- updated_at moves on every change -------------------------------------------------
UPDATE tenancy.tenant SET updated_at = '2000-01-01' WHERE slug = 'plain';
SELECT lives_ok(format('SELECT tenancy.suspend_tenant(%s)', (SELECT id FROM tenancy.tenant WHERE slug = 'plain')), 'suspend plain');
SELECT cmp_ok((SELECT updated_at FROM tenancy.tenant WHERE slug = 'plain'), '>', '2000-01-01'::timestamptz,
              'a status change sets updated_at');
SELECT is((SELECT count(*) FROM tenancy.tenant WHERE status = 'deleted' AND deleted_at IS NULL), 0::bigint,
          'no deleted tenant lacks deleted_at');

SELECT * FROM finish();
ROLLBACK;
