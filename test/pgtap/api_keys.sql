-- API keys: issued once from a CSPRNG, stored only as a digest, resolvable, revocable.
BEGIN;
SELECT plan(24);

SELECT tenancy.create_tenant('keyed') AS keyed \gset
SELECT tenancy.create_tenant('other') AS other \gset

CREATE TEMP TABLE issued AS
    SELECT tenancy.issue_api_key(:keyed) AS key, 1 AS n
    UNION ALL SELECT tenancy.issue_api_key(:keyed), 2
    UNION ALL SELECT tenancy.issue_api_key(:other), 3;

SELECT ok((SELECT bool_and(key ~ '^tnk_[0-9a-f]{64}$') FROM issued), 'a key is tnk_ and 64 hex digits (256 bits)');
SELECT is((SELECT count(DISTINCT key) FROM issued), 3::bigint, 'every issued key is different');
SELECT is((SELECT count(*) FROM tenancy.api_key), 3::bigint, 'one stored row per key');
SELECT is((SELECT count(*) FROM tenancy.api_key a JOIN issued i ON a.key_hash = convert_to(i.key, 'UTF8')), 0::bigint,
          'the plaintext key is not stored');
SELECT is((SELECT count(*) FROM tenancy.api_key a JOIN issued i ON a.key_hash = sha256(convert_to(i.key, 'UTF8'))),
          3::bigint, 'the SHA-256 digest is stored');
SELECT col_is_unique('tenancy', 'api_key', ARRAY['key_hash'], 'digests are unique across all tenants');

SELECT is(tenancy.tenant_for_api_key((SELECT key FROM issued WHERE n = 1)), :keyed::bigint, 'first key resolves to its tenant');
SELECT is(tenancy.tenant_for_api_key((SELECT key FROM issued WHERE n = 2)), :keyed::bigint, 'second key too');
SELECT is(tenancy.tenant_for_api_key((SELECT key FROM issued WHERE n = 3)), :other::bigint, 'other tenant''s key resolves to it');
SELECT is(tenancy.tenant_for_api_key('tnk_' || repeat('0', 64)), NULL, 'an unknown key resolves to NULL');
SELECT is(tenancy.tenant_for_api_key(''), NULL, 'an empty key resolves to NULL');
SELECT is(tenancy.tenant_for_api_key(NULL), NULL, 'a NULL key resolves to NULL');
SELECT is(tenancy.tenant_for_api_key(upper((SELECT key FROM issued WHERE n = 1))), NULL, 'keys are exact: case matters');

-- Suspended tenants keep resolving (the application decides); deleted ones do not.
SELECT tenancy.suspend_tenant(:other);
SELECT is(tenancy.tenant_for_api_key((SELECT key FROM issued WHERE n = 3)), :other::bigint, 'a suspended tenant''s key still resolves');
SELECT throws_ok(format('SELECT tenancy.issue_api_key(%s)', :other), 'TN002', NULL, 'no new key for a suspended tenant');
SELECT tenancy.activate_tenant(:other);
SELECT tenancy.delete_tenant(:other);
SELECT is(tenancy.tenant_for_api_key((SELECT key FROM issued WHERE n = 3)), NULL, 'a deleted tenant''s key resolves to NULL');
SELECT tenancy.restore_tenant(:other);
SELECT is(tenancy.tenant_for_api_key((SELECT key FROM issued WHERE n = 3)), :other::bigint, 'restoring the tenant brings its key back');

-- Revocation.
SELECT is(tenancy.revoke_api_keys(:keyed), 2::bigint, 'revoke returns how many keys it revoked');
SELECT is(tenancy.tenant_for_api_key((SELECT key FROM issued WHERE n = 1)), NULL, 'a revoked key resolves to NULL');
SELECT is(tenancy.tenant_for_api_key((SELECT key FROM issued WHERE n = 3)), :other::bigint, 'other tenants'' keys are untouched');
SELECT is(tenancy.revoke_api_keys(:keyed), 0::bigint, 'revoking again revokes nothing');

-- Errors.
SELECT throws_ok('SELECT tenancy.issue_api_key(-1)', 'TN001', 'tenant -1 does not exist', 'unknown tenant: TN001');
SELECT throws_ok('SELECT tenancy.issue_api_key(NULL)', '22023', 'tenant must not be NULL', 'NULL tenant: 22023');
SELECT throws_ok('SELECT tenancy.revoke_api_keys(-1)', 'TN001', NULL, 'revoke for an unknown tenant: TN001');

SELECT * FROM finish();
ROLLBACK;
