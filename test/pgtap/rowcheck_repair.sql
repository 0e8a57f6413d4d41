-- Check and repair: the partial-initialisation failure (a tenant registered,
-- its rows never or only partly written) is found and repaired set-based;
-- damaged protection is restored; nothing is ever deleted.
BEGIN;
SELECT plan(29);

CREATE ROLE tap_rcr_owner;
GRANT USAGE ON SCHEMA tenancy TO tap_rcr_owner;
GRANT EXECUTE ON FUNCTION tenancy.protect(regclass, name), tenancy.unprotect(regclass),
    tenancy.require_row(regclass, jsonb), tenancy.unrequire_row(regclass, jsonb),
    tenancy.set_tenant(bigint, boolean) TO tap_rcr_owner;
CREATE SCHEMA tap_rcr AUTHORIZATION tap_rcr_owner;

SET ROLE tap_rcr_owner;
CREATE TABLE tap_rcr.apps (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id bigint NOT NULL,
                           name text NOT NULL, UNIQUE (tenant_id, name));
CREATE TABLE tap_rcr.settings (tenant_id bigint NOT NULL, key text NOT NULL, value text,
                               PRIMARY KEY (tenant_id, key));
-- Who runs the repair's inserts: recorded by a trigger the table owner wrote.
CREATE TABLE tap_rcr.audit (who text);
CREATE FUNCTION tap_rcr.audit() RETURNS trigger LANGUAGE plpgsql AS
    $$BEGIN INSERT INTO tap_rcr.audit VALUES (current_user); RETURN NEW; END$$;
CREATE TRIGGER audit AFTER INSERT ON tap_rcr.apps FOR EACH ROW EXECUTE FUNCTION tap_rcr.audit();
SELECT tenancy.protect('tap_rcr.apps');
SELECT tenancy.protect('tap_rcr.settings');
SELECT tenancy.require_row('tap_rcr.apps', '{"name": "public"}') AS rule_public \gset
SELECT tenancy.require_row('tap_rcr.apps', '{"name": "admin"}') AS rule_admin \gset
SELECT tenancy.require_row('tap_rcr.settings', '{"key": "locale", "value": "en"}') AS rule_locale \gset
SELECT is(tenancy.require_row('tap_rcr.apps', '{"name": "public"}'), :rule_public::bigint,
          'require_row is idempotent: the same rule returns the same id');
RESET ROLE;

-- The registry knows four tenants; their rows were written fully (one),
-- partly (two), then deleted by accident (three) or never (four).
SELECT tenancy.create_tenant('tap-rcr-1') AS t1, tenancy.create_tenant('tap-rcr-2') AS t2,
       tenancy.create_tenant('tap-rcr-3') AS t3, tenancy.create_tenant('tap-rcr-4') AS t4,
       tenancy.create_tenant('tap-rcr-5') AS t5 \gset
SELECT tenancy.suspend_tenant(:t5);  -- not active: owes no rows
INSERT INTO tap_rcr.apps (tenant_id, name) VALUES (:t1, 'public'), (:t1, 'admin'), (:t2, 'admin'),
                                                   (:t3, 'public'), (:t3, 'admin');
INSERT INTO tap_rcr.settings VALUES (:t1, 'locale', 'en'), (:t2, 'locale', 'en'), (:t3, 'locale', 'en');
DELETE FROM tap_rcr.apps WHERE tenant_id = :t3;
DELETE FROM tap_rcr.settings WHERE tenant_id = :t3;
-- Only rows other than the owner's own count (the owner has no tenant set).
DELETE FROM tap_rcr.audit;

CREATE TEMP TABLE expected_missing (tenant bigint, object text);
INSERT INTO expected_missing VALUES
    (:t2, 'tap_rcr.apps'), (:t3, 'tap_rcr.apps'), (:t3, 'tap_rcr.apps'), (:t3, 'tap_rcr.settings'),
    (:t4, 'tap_rcr.apps'), (:t4, 'tap_rcr.apps'), (:t4, 'tap_rcr.settings');

SELECT bag_eq($$SELECT tenant, object FROM tenancy.check() WHERE problem = 'missing_row'$$,
              $$SELECT tenant, object FROM expected_missing$$,
              'check reports every missing required row, per tenant and table');
SELECT is((SELECT count(*) FROM tenancy.check() WHERE problem <> 'missing_row'), 0::bigint,
          'and nothing else');
SELECT is((SELECT count(*) FROM tenancy.check() WHERE repaired), 0::bigint, 'check without repair repairs nothing');
SELECT is((SELECT count(*) FROM tap_rcr.apps), 3::bigint, 'and changes nothing');

SELECT bag_eq($$SELECT tenant, object FROM tenancy.check(true) WHERE problem = 'missing_row' AND repaired$$,
              $$SELECT tenant, object FROM expected_missing$$,
              'check(true) repairs every missing row');
SELECT is_empty($$SELECT * FROM tenancy.check()$$, 'a second check reports nothing');
SELECT is_empty($$SELECT * FROM tenancy.check(true)$$, 'a second repair has nothing to do');
SELECT results_eq($$SELECT tenant_id, name FROM tap_rcr.apps WHERE tenant_id IN ($$ || :t2 || ',' || :t3 || ',' || :t4 ||
                  $$) ORDER BY 1, 2$$,
                  format($$VALUES (%s::bigint, 'admin'), (%s, 'public'), (%s, 'admin'), (%s, 'public'), (%s, 'admin'), (%s, 'public')$$,
                         :t2, :t2, :t3, :t3, :t4, :t4),
                  'each tenant has each required row exactly once');
SELECT results_eq($$SELECT value FROM tap_rcr.settings WHERE tenant_id = $$ || :t4, $$VALUES ('en'::text)$$,
                  'template values are typed and stored as given');
SELECT is((SELECT count(*) FROM tap_rcr.apps WHERE tenant_id = :t5), 0::bigint, 'a suspended tenant gets no rows');
SELECT results_eq($$SELECT DISTINCT who FROM tap_rcr.audit$$, $$VALUES ('tap_rcr_owner'::text)$$,
                  'the repair''s inserts ran as the table owner, not as the superuser');

-- The application inserting the same row afterwards (idempotently) gets no
-- error and no duplicate; the race itself is test/specs/rowcheck-repair.spec.
SET ROLE tap_rcr_owner;
SELECT tenancy.set_tenant(:t4);
SELECT lives_ok($$INSERT INTO tap_rcr.apps (name) VALUES ('public') ON CONFLICT DO NOTHING$$,
                'the application''s own idempotent insert of a repaired row lives');
RESET ROLE;
SELECT is((SELECT count(*) FROM tap_rcr.apps WHERE tenant_id = :t4 AND name = 'public'), 1::bigint, 'no duplicate');

-- Damaged protection is restored, and recorded as protect's own.
DROP POLICY tenancy_isolation ON tap_rcr.settings;
ALTER TABLE tap_rcr.settings NO FORCE ROW LEVEL SECURITY;
ALTER TABLE tap_rcr.apps DROP CONSTRAINT apps_tenant_id_name_key;  -- the only index on tenant_id
SELECT bag_eq($$SELECT object, detail FROM tenancy.check()$$,
              $$VALUES ('tap_rcr.apps', 'the index part of the protection is missing'),
                       ('tap_rcr.apps', 'rule ' || $$ || :rule_public || $$ || ' ({"name": "public"}): no unique index on the tenant column and template columns, so missing rows are reported but not inserted'),
                       ('tap_rcr.apps', 'rule ' || $$ || :rule_admin || $$ || ' ({"name": "admin"}): no unique index on the tenant column and template columns, so missing rows are reported but not inserted'),
                       ('tap_rcr.settings', 'the rls_forced part of the protection is missing'),
                       ('tap_rcr.settings', 'the policy part of the protection is missing')$$,
              'check names each missing part, and rules left without a unique index');
SELECT is((SELECT count(*) FROM tenancy.check(true) WHERE problem = 'missing_part' AND repaired), 3::bigint,
          'repair restores the three parts');
SELECT is((SELECT complete FROM tenancy.protected_tables WHERE table_name = 'tap_rcr.settings'::regclass), true,
          'the table is complete again');
SELECT isnt((SELECT index_name FROM tenancy.protected_table WHERE tbl = 'tap_rcr.apps'::regclass), NULL,
            'the index repair created is recorded, so unprotect will drop it');
CREATE UNIQUE INDEX ON tap_rcr.apps (tenant_id, name);
SELECT is_empty($$SELECT * FROM tenancy.check()$$, 'with the unique index back, check is clean');

-- A rule that can no longer be checked is reported, not fatal.
ALTER TABLE tap_rcr.settings RENAME COLUMN value TO val;
SELECT results_eq($$SELECT problem, object FROM tenancy.check()$$, $$VALUES ('invalid_rule'::text, 'tap_rcr.settings'::text)$$,
                  'a rule naming a renamed column is an invalid_rule');
ALTER TABLE tap_rcr.settings RENAME COLUMN val TO value;

-- Cross-tenant references are listed.
ALTER TABLE tap_rcr.settings ADD COLUMN app_id bigint REFERENCES tap_rcr.apps (id);
SELECT results_eq($$SELECT problem, object, repaired FROM tenancy.check(true)$$,
                  $$VALUES ('cross_tenant_foreign_key'::text, 'settings_app_id_fkey'::text, false)$$,
                  'a foreign key between protected tables without the tenant column is listed, not repaired');
ALTER TABLE tap_rcr.settings DROP COLUMN app_id;

-- Deleted tenants keep their rows, reported until someone decides.
SELECT tenancy.delete_tenant(:t1);
SELECT bag_eq($$SELECT tenant, problem, object FROM tenancy.check(true)$$,
              format($$VALUES (%s::bigint, 'deleted_tenant_rows'::text, 'tap_rcr.apps'::text), (%s, 'deleted_tenant_rows', 'tap_rcr.settings')$$, :t1, :t1),
              'rows of a deleted tenant are reported and never deleted');
SELECT is((SELECT count(*) FROM tap_rcr.apps WHERE tenant_id = :t1), 2::bigint, 'they are still there');

-- A dropped protected table leaves a record; repair forgets it.
SET ROLE tap_rcr_owner;
CREATE TABLE tap_rcr.temp (tenant_id bigint);
SELECT tenancy.protect('tap_rcr.temp');
RESET ROLE;
SELECT 'tap_rcr.temp'::regclass::oid AS temp_oid \gset
DROP TABLE tap_rcr.temp;
SELECT results_eq($$SELECT problem, object, repaired FROM tenancy.check(true) WHERE problem = 'dropped_table'$$,
                  format($$VALUES ('dropped_table'::text, %L::text, true)$$, :temp_oid),
                  'a dropped protected table is reported, and its record removed by repair');
SELECT is((SELECT count(*) FROM tenancy.protected_table WHERE tbl = :temp_oid), 0::bigint, 'the record is gone');

-- Errors.
SELECT throws_ok($$SELECT * FROM tenancy.check(NULL)$$, '22023', 'repair must not be NULL', 'check(NULL) is refused');
SET ROLE tap_rcr_owner;
CREATE TABLE tap_rcr.plain (tenant_id bigint);
SELECT throws_ok($$SELECT tenancy.require_row('tap_rcr.plain', '{}')$$, '22023', 'table tap_rcr.plain is not protected',
                 'rules need a protected table');
SELECT throws_ok($$SELECT tenancy.require_row('tap_rcr.apps', NULL)$$, '22023', 'template must not be NULL',
                 'a NULL template is refused');
SELECT throws_ok($$SELECT tenancy.require_row('tap_rcr.apps', '{"id": "x"}')$$, '22P02', NULL,
                 'a value of the wrong type is refused by the column''s type');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
