-- Typical use of the tenant registry, as a user sees it in psql.
\set SHOW_CONTEXT never
SELECT tenancy.create_tenant('acme', 'Acme Inc.') AS acme \gset
SELECT tenancy.create_tenant('globex', 'Globex 100% Corp', storage_quota => 1048576,
                             settings => '{"plan": "pro"}') AS globex \gset
SELECT tenancy.create_tenant('initech') AS initech \gset

SELECT slug, name, status, storage_quota, storage_used, settings, deleted_at IS NULL AS live, total
  FROM tenancy.search_tenants();

-- Keywords match slug or name, case-insensitively; '%' is an ordinary character.
SELECT slug, total FROM tenancy.search_tenants('ACME');
SELECT slug, total FROM tenancy.search_tenants('100%');
SELECT slug, total FROM tenancy.search_tenants('%');
SELECT slug, total FROM tenancy.search_tenants(page => 2, page_size => 2);

-- Status changes.
SELECT tenancy.suspend_tenant(:globex);
SELECT tenancy.delete_tenant(:initech);
SELECT slug, status, deleted_at IS NOT NULL AS has_deleted_at, total
  FROM tenancy.search_tenants(include_deleted => true);
SELECT slug, status FROM tenancy.search_tenants();
SELECT tenancy.restore_tenant(:initech);
SELECT tenancy.activate_tenant(:globex);
SELECT slug, status, deleted_at FROM tenancy.search_tenants();

-- Errors say what is wrong.
SELECT tenancy.create_tenant('acme');
SELECT tenancy.create_tenant('Not A Slug');
SELECT tenancy.activate_tenant(:acme);
SELECT tenancy.delete_tenant(-1);
SELECT * FROM tenancy.search_tenants(page_size => 5000);

-- API keys: returned once, resolved through their digest, revocable.
SELECT tenancy.issue_api_key(:acme) AS key \gset
SELECT left(:'key', 4) AS prefix, length(:'key') AS length;
SELECT tenancy.tenant_for_api_key(:'key') = :acme AS resolves_to_acme;
SELECT count(*) AS stored_keys_equal_to_plaintext
  FROM tenancy.api_key WHERE key_hash = convert_to(:'key', 'UTF8');
SELECT tenancy.revoke_api_keys(:acme) AS revoked;
SELECT tenancy.tenant_for_api_key(:'key') AS after_revoke;
