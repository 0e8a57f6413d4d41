-- Link sync, as a user sees it in psql: the legacy role_membership story.
\set SHOW_CONTEXT never
\set VERBOSITY default

-- The legacy table: no constraint, and two concurrent logins of member 42
-- already stored its memberships twice.
CREATE TABLE role_membership (group_id integer, member_id integer);
INSERT INTO role_membership VALUES (1, 42), (2, 42), (1, 42), (2, 42), (2, 42), (7, 43), (NULL, 44), (NULL, 44);

-- sync_links refuses a table that cannot rule out duplicates.
SELECT * FROM tenancy.sync_links('role_membership', 'member_id', 42, 'group_id', ARRAY[1, 2, 3]);

-- find_duplicates shows them (rows with a NULL key are not duplicates, as for
-- a unique index), dedupe removes them and adds the missing unique index.
SELECT * FROM tenancy.find_duplicates('role_membership', '{member_id,group_id}');
SELECT tenancy.dedupe('role_membership', ARRAY['member_id', 'group_id']) AS removed;
SELECT * FROM tenancy.find_duplicates('role_membership', '{member_id,group_id}');
SELECT indexdef FROM pg_indexes WHERE tablename = 'role_membership';
-- Running it again finds nothing to do and creates nothing.
SELECT tenancy.dedupe('role_membership', ARRAY['member_id', 'group_id']) AS removed;

-- Now the sync works: the owner's links become exactly the targets given.
SELECT * FROM tenancy.sync_links('role_membership', 'member_id', 42, 'group_id', ARRAY[1, 2, 3]);
SELECT * FROM tenancy.sync_links('role_membership', 'member_id', 42, 'group_id', ARRAY[2, 3, 4, 4, NULL]);
SELECT * FROM tenancy.sync_links('role_membership', 'member_id', 42, 'group_id', ARRAY[2, 3, 4]);
SELECT member_id, group_id FROM role_membership ORDER BY member_id, group_id NULLS FIRST;
-- An empty array removes all of the owner's links; other owners are untouched.
SELECT * FROM tenancy.sync_links('role_membership', 'member_id', 42, 'group_id', '{}');
SELECT member_id, group_id FROM role_membership ORDER BY member_id, group_id NULLS FIRST;

-- Owner and targets may have other types than the columns: they are converted.
CREATE SCHEMA "App Schema;";
CREATE TABLE "App Schema;"."user groups" (
    "user id" uuid NOT NULL,
    "group""id" bigint NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("group""id", "user id"));
SELECT * FROM tenancy.sync_links('"App Schema;"."user groups"', 'user id',
                                 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'group"id', ARRAY[10, 20]);
SELECT "user id", "group""id", granted_at IS NOT NULL AS has_default FROM "App Schema;"."user groups";

-- Errors say what is wrong.
SELECT * FROM tenancy.sync_links('role_membership', 'member_id', NULL, 'group_id', ARRAY[1]);
SELECT * FROM tenancy.sync_links('role_membership', 'member', 42, 'group_id', ARRAY[1]);
SELECT * FROM tenancy.sync_links('role_membership', 'member_id', 42, 'group_id', ARRAY['one']);
SELECT * FROM tenancy.sync_links('role_membership', 'member_id', 42, 'group_id', ARRAY[5000000000]);
SELECT * FROM tenancy.sync_links('no_such_table', 'member_id', 42, 'group_id', ARRAY[1]);
