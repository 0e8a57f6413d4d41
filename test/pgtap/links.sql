-- Link sync: sync_links, find_duplicates and dedupe; every rule and error.
BEGIN;
SET client_min_messages = warning;
SELECT plan(82);

-- A helper: the sorted targets of one owner, as text.
CREATE FUNCTION pg_temp.links(tbl regclass, owner_col text, target_col text, owner text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE result text[];
BEGIN
    EXECUTE format('SELECT coalesce(array_agg(%I::text ORDER BY %I), ''{}'') FROM %s WHERE %I::text = $1',
                   target_col, target_col, tbl, owner_col) INTO result USING owner;
    RETURN result;
END $$;

-- Natural calls, the four key types, mixed types -----------------------------
CREATE TABLE int_links (owner_id integer NOT NULL, target_id integer NOT NULL, UNIQUE (owner_id, target_id));
SELECT results_eq($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', 42, 'target_id', ARRAY[1, 2, 3])$$,
                  $$VALUES (3::bigint, 0::bigint)$$, 'integer owner and targets: 3 added');
SELECT is(pg_temp.links('int_links', 'owner_id', 'target_id', '42'), '{1,2,3}', 'the owner has exactly the targets');
SELECT results_eq($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', 42, 'target_id', ARRAY[3, 4, 4, NULL, 5])$$,
                  $$VALUES (2::bigint, 2::bigint)$$, 'duplicates and NULLs in targets are ignored; counts are rows');
SELECT is(pg_temp.links('int_links', 'owner_id', 'target_id', '42'), '{3,4,5}', 'the set is replaced');
SELECT results_eq($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', 42, 'target_id', ARRAY[5, 4, 3])$$,
                  $$VALUES (0::bigint, 0::bigint)$$, 'the same set again changes nothing');

CREATE TABLE bigint_links (owner_id bigint, target_id bigint, PRIMARY KEY (owner_id, target_id));
SELECT results_eq($$SELECT * FROM tenancy.sync_links('bigint_links', 'owner_id', 42, 'target_id', ARRAY[1, 5000000000])$$,
                  $$VALUES (2::bigint, 0::bigint)$$, 'integer values into bigint columns');
SELECT is(pg_temp.links('bigint_links', 'owner_id', 'target_id', '42'), '{1,5000000000}', 'bigint targets stored');
SELECT results_eq($$SELECT * FROM tenancy.sync_links('bigint_links', 'owner_id', 42::bigint, 'target_id', '{1}')$$,
                  $$VALUES (0::bigint, 1::bigint)$$, 'a bigint owner and an untyped array literal');

CREATE TABLE text_links (owner_key text, target_key text, UNIQUE (owner_key, target_key));
SELECT results_eq($$SELECT * FROM tenancy.sync_links('text_links', 'owner_key', 'text-owner', 'target_key', ARRAY['a', 'b'])$$,
                  $$VALUES (2::bigint, 0::bigint)$$, 'an untyped text owner literal and text targets');
SELECT results_eq($$SELECT * FROM tenancy.sync_links('text_links', 'owner_key', 'text-owner'::varchar, 'target_key', ARRAY['b', 'c']::varchar[])$$,
                  $$VALUES (1::bigint, 1::bigint)$$, 'varchar values into text columns');
SELECT is(pg_temp.links('text_links', 'owner_key', 'target_key', 'text-owner'), '{b,c}', 'text targets stored');

CREATE TABLE uuid_links (member uuid, group_id integer, UNIQUE (member, group_id));
SELECT results_eq($$SELECT * FROM tenancy.sync_links('uuid_links', 'member', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 'group_id', ARRAY[1, 2])$$,
                  $$VALUES (2::bigint, 0::bigint)$$, 'a uuid owner with integer targets');
SELECT results_eq($$SELECT * FROM tenancy.sync_links('uuid_links', 'member', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'group_id', ARRAY[2, 3])$$,
                  $$VALUES (1::bigint, 1::bigint)$$, 'a uuid owner written as an untyped literal is the same owner');
SELECT is(pg_temp.links('uuid_links', 'member', 'group_id', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), '{2,3}', 'uuid owner links');

CREATE TABLE uuid_targets (owner_id integer, target uuid, UNIQUE (owner_id, target));
SELECT results_eq($$SELECT * FROM tenancy.sync_links('uuid_targets', 'owner_id', 1, 'target', ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'])$$,
                  $$VALUES (2::bigint, 0::bigint)$$, 'text targets converted to uuid');

-- Empty arrays ---------------------------------------------------------------
SELECT results_eq($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', 42, 'target_id', ARRAY[]::int[])$$,
                  $$VALUES (0::bigint, 3::bigint)$$, 'an empty array removes every link of the owner');
SELECT results_eq($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', 42, 'target_id', '{}')$$,
                  $$VALUES (0::bigint, 0::bigint)$$, 'an untyped empty array literal works too');
SELECT results_eq($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', 42, 'target_id', ARRAY[NULL]::int[])$$,
                  $$VALUES (0::bigint, 0::bigint)$$, 'an array of only NULLs is an empty set');

-- Other owners untouched; unchanged rows not rewritten ----------------------
INSERT INTO int_links VALUES (7, 1), (7, 2), (8, 1);
DO $$ BEGIN PERFORM tenancy.sync_links('int_links', 'owner_id', 42, 'target_id', ARRAY[1, 2, 3]); END $$;
CREATE TEMP TABLE before AS SELECT owner_id, target_id, xmin::text AS row_xmin, ctid AS row_ctid FROM int_links;
SELECT results_eq($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', 42, 'target_id', ARRAY[2, 3, 9])$$,
                  $$VALUES (1::bigint, 1::bigint)$$, 'one added, one removed');
SELECT is_empty($$SELECT b.* FROM before b JOIN int_links l USING (owner_id, target_id)
                  WHERE (l.xmin::text, l.ctid) IS DISTINCT FROM (b.row_xmin, b.row_ctid)$$,
                'rows that stay keep their xmin and ctid: they were not rewritten');
SELECT results_eq($$SELECT owner_id, target_id FROM int_links WHERE owner_id <> 42 ORDER BY 1, 2$$,
                  $$VALUES (7, 1), (7, 2), (8, 1)$$, 'rows of other owners are untouched');

-- Quoted identifiers, another schema, extra columns with defaults ------------
CREATE SCHEMA "we""ird; schema";
CREATE TABLE "we""ird; schema"."links; DROP TABLE int_links; --" (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "Owner ""Col""" integer NOT NULL,
    "target col; --" bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    note text DEFAULT 'synced',
    UNIQUE ("target col; --", "Owner ""Col"""));
SELECT results_eq(
    $$SELECT * FROM tenancy.sync_links('"we""ird; schema"."links; DROP TABLE int_links; --"', 'Owner "Col"', 5,
                                       'target col; --', ARRAY[1, 2])$$,
    $$VALUES (2::bigint, 0::bigint)$$, 'names with quotes, spaces, semicolons work as names');
SELECT results_eq($$SELECT "Owner ""Col""", "target col; --", note, created_at IS NOT NULL
                      FROM "we""ird; schema"."links; DROP TABLE int_links; --" ORDER BY 2$$,
                  $$VALUES (5, 1::bigint, 'synced', true), (5, 2::bigint, 'synced', true)$$,
                  'extra columns get their defaults; a unique index in (target, owner) order is accepted');
SELECT has_table('public', 'int_links', 'and nothing was injected');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id"; DROP TABLE int_links; --', 1, 'target_id', ARRAY[1])$$,
                 '42703', NULL, 'a column name that looks like SQL is just an unknown column');

-- Input errors ---------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('no_such_table', 'owner_id', 1, 'target_id', ARRAY[1])$$,
                 '42P01', NULL, 'unknown table: 42P01');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links', 'nope', 1, 'target_id', ARRAY[1])$$,
                 '42703', 'column "nope" of relation "int_links" does not exist', 'unknown owner column: 42703');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', 1, 'nope', ARRAY[1])$$,
                 '42703', 'column "nope" of relation "int_links" does not exist', 'unknown target column: 42703');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links', 'xmin', 1, 'target_id', ARRAY[1])$$,
                 '22023', NULL, 'a system column: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', 1, 'owner_id', ARRAY[1])$$,
                 '22023', 'owner_column and target_column must be different columns', 'the same column twice: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', NULL, 'target_id', ARRAY[1])$$,
                 '22023', 'owner_value must not be NULL', 'NULL owner: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', NULL::int, 'target_id', ARRAY[1])$$,
                 '22023', 'owner_value must not be NULL', 'typed NULL owner: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', 1, 'target_id', NULL::int[])$$,
                 '22023', 'targets must not be NULL', 'NULL targets: 22023 (an empty array removes all)');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links(NULL, 'owner_id', 1, 'target_id', ARRAY[1])$$,
                 '22023', 'link_table must not be NULL', 'NULL table: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links', NULL, 1, 'target_id', ARRAY[1])$$,
                 '22023', 'owner_column must not be NULL', 'NULL owner column: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', 'x1', 'target_id', ARRAY[1])$$,
                 '22P02', NULL, 'an owner that is not an integer: 22P02');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', 1, 'target_id', ARRAY['one'])$$,
                 '22P02', NULL, 'a target that is not an integer: 22P02');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', 5000000000, 'target_id', ARRAY[1])$$,
                 '22023', 'owner_value does not fit the column type integer', 'an owner out of range: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', 1, 'target_id', ARRAY[5000000000])$$,
                 '22023', 'targets does not fit the column type integer[]', 'a target out of range: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('uuid_links', 'member', 42, 'group_id', ARRAY[1])$$,
                 '22023', 'owner_value of type integer cannot be converted to the column type uuid',
                 'a type with no cast to the column type: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('uuid_links', 'member', 'not-a-uuid', 'group_id', ARRAY[1])$$,
                 '22P02', NULL, 'a malformed uuid: 22P02');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links', 'owner_id', ARRAY[1], 'target_id', ARRAY[1])$$,
                 '22023', NULL, 'an array as owner: 22023');
CREATE VIEW int_links_view AS SELECT * FROM int_links;
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('int_links_view', 'owner_id', 1, 'target_id', ARRAY[1])$$,
                 '42809', '"int_links_view" is not a table', 'a view: 42809');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links(0::regclass, 'owner_id', 1, 'target_id', ARRAY[1])$$,
                 '42P01', NULL, 'a dangling table OID: 42P01');
CREATE TABLE varchar_links (o integer, t varchar(3), UNIQUE (o, t));
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('varchar_links', 'o', 1, 't', ARRAY['abcd'])$$,
                 '22001', NULL, 'a target too long for varchar(3) is refused, not truncated: 22001');

-- The unique constraint requirement ---------------------------------------------
CREATE TABLE no_key (o integer, t integer);
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('no_key', 'o', 1, 't', ARRAY[1])$$, '42P10',
    'sync_links requires a unique constraint on (o, t) of table "no_key": add it with ALTER TABLE public.no_key ADD UNIQUE (o, t), or run tenancy.dedupe if the table holds duplicates',
    'no unique constraint: 42P10 naming the constraint and dedupe');
CREATE UNIQUE INDEX no_key_partial ON no_key (o, t) WHERE t > 0;
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('no_key', 'o', 1, 't', ARRAY[1])$$, '42P10', NULL,
                 'a partial unique index does not count');
CREATE UNIQUE INDEX no_key_expr ON no_key (o, (t + 0));
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('no_key', 'o', 1, 't', ARRAY[1])$$, '42P10', NULL,
                 'an expression unique index does not count');
CREATE UNIQUE INDEX no_key_wider ON no_key (o, t, o);
ALTER TABLE no_key ADD CONSTRAINT no_key_deferrable UNIQUE (o, t) DEFERRABLE;
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('no_key', 'o', 1, 't', ARRAY[1])$$, '42P10', NULL,
                 'a wider index or a deferrable constraint does not count');
CREATE UNIQUE INDEX no_key_included ON no_key (t, o) INCLUDE (t);
SELECT results_eq($$SELECT * FROM tenancy.sync_links('no_key', 'o', 1, 't', ARRAY[1])$$,
                  $$VALUES (1::bigint, 0::bigint)$$,
                  'a unique index on exactly the two key columns (INCLUDE allowed) is accepted, despite a deferrable one');
CREATE TABLE one_key (o integer, t integer, UNIQUE (o));
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('one_key', 'o', 1, 't', ARRAY[1])$$, '42P10', NULL,
                 'a unique constraint on the owner alone is not the one required');

-- Plans follow DDL -------------------------------------------------------------
CREATE TABLE ddl_links (a integer, b integer, UNIQUE (a, b));
DO $$ BEGIN PERFORM tenancy.sync_links('ddl_links', 'a', 1, 'b', ARRAY[1, 2]); END $$;
ALTER TABLE ddl_links RENAME COLUMN a TO tmp;
ALTER TABLE ddl_links RENAME COLUMN b TO a;
ALTER TABLE ddl_links RENAME COLUMN tmp TO b;
SELECT results_eq($$SELECT * FROM tenancy.sync_links('ddl_links', 'b', 1, 'a', ARRAY[2, 3])$$,
                  $$VALUES (1::bigint, 1::bigint)$$, 'after swapping column names the new names are used');
SELECT results_eq($$SELECT b, a FROM ddl_links ORDER BY 2$$, $$VALUES (1, 2), (1, 3)$$, 'and the right columns changed');
DROP TABLE ddl_links;
CREATE TABLE ddl_links (a text, b uuid, UNIQUE (a, b));
SELECT results_eq($$SELECT * FROM tenancy.sync_links('ddl_links', 'a', 'x', 'b', ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'])$$,
                  $$VALUES (1::bigint, 0::bigint)$$, 'a table recreated under the same name with other types works');
ALTER TABLE ddl_links RENAME TO ddl_links_renamed;
SELECT results_eq($$SELECT * FROM tenancy.sync_links('ddl_links_renamed', 'a', 'x', 'b', '{}')$$,
                  $$VALUES (0::bigint, 1::bigint)$$, 'a renamed table works under its new name');

-- Privileges and row-level security --------------------------------------------
CREATE ROLE links_test_app LOGIN;
CREATE ROLE links_test_reader LOGIN;
CREATE TABLE app_links (tenant text NOT NULL DEFAULT current_user, member integer, grp integer,
                        UNIQUE (member, grp));
INSERT INTO app_links VALUES ('links_test_app', 1, 1), ('other', 1, 100), ('other', 2, 100);
GRANT USAGE ON SCHEMA tenancy TO links_test_app, links_test_reader;
GRANT EXECUTE ON FUNCTION tenancy.sync_links(regclass, name, anyelement, name, anycompatiblearray),
                          tenancy.dedupe(regclass, name[]) TO links_test_app;
GRANT SELECT, INSERT, DELETE ON app_links TO links_test_app;
GRANT SELECT ON app_links TO links_test_reader;
ALTER TABLE app_links ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON app_links USING (tenant = current_user) WITH CHECK (tenant = current_user);

SET ROLE links_test_reader;
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('app_links', 'member', 1, 'grp', ARRAY[1])$$, '42501', NULL,
                 'without EXECUTE a role cannot call sync_links');
RESET ROLE;
GRANT EXECUTE ON FUNCTION tenancy.sync_links(regclass, name, anyelement, name, anycompatiblearray) TO links_test_reader;
SET ROLE links_test_reader;
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('app_links', 'member', 1, 'grp', ARRAY[1])$$, '42501', NULL,
                 'with EXECUTE but only SELECT on the table: permission denied (no definer rights)');
RESET ROLE;

SET ROLE links_test_app;
SELECT results_eq($$SELECT * FROM tenancy.sync_links('app_links', 'member', 1, 'grp', ARRAY[2, 3])$$,
                  $$VALUES (2::bigint, 1::bigint)$$,
                  'with SELECT, INSERT, DELETE the app role syncs; RLS hides the other tenant''s row of the owner');
RESET ROLE;
SELECT results_eq($$SELECT tenant, member, grp FROM app_links ORDER BY 2, 3$$,
                  $$VALUES ('links_test_app', 1, 2), ('links_test_app', 1, 3), ('other', 1, 100), ('other', 2, 100)$$,
                  'rows that RLS hides from the caller are not deleted');
REVOKE DELETE ON app_links FROM links_test_app;
SET ROLE links_test_app;
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('app_links', 'member', 1, 'grp', ARRAY[2])$$, '42501', NULL,
                 'without DELETE the sync is refused');
SELECT throws_ok($$SELECT tenancy.dedupe('app_links', '{member,grp}')$$, '42501', NULL,
                 'without DELETE dedupe is refused before it locks anything');
RESET ROLE;
GRANT DELETE ON app_links TO links_test_app;
ALTER POLICY own_rows ON app_links USING (true) WITH CHECK (tenant = 'nobody');
SET ROLE links_test_app;
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('app_links', 'member', 3, 'grp', ARRAY[1])$$, '42501', NULL,
                 'the policy''s WITH CHECK applies to inserted rows');
RESET ROLE;

-- find_duplicates and dedupe -------------------------------------------------------
CREATE TABLE legacy (group_id integer, member_id integer, note text);
INSERT INTO legacy VALUES (1, 42, 'first'), (1, 42, 'second'), (2, 42, 'a'), (2, 42, 'b'), (2, 42, 'c'),
                          (3, 43, 'single'), (NULL, 44, 'n1'), (NULL, 44, 'n2');
SELECT results_eq($$SELECT key, count FROM tenancy.find_duplicates('legacy', ARRAY['member_id', 'group_id'])$$,
                  $$VALUES ('{"group_id": 2, "member_id": 42}'::jsonb, 3::bigint),
                           ('{"group_id": 1, "member_id": 42}'::jsonb, 2::bigint)$$,
                  'find_duplicates lists each duplicated key with its count, most first');
SELECT is((SELECT count(*) FROM legacy), 8::bigint, 'find_duplicates changes nothing');
SELECT results_eq($$SELECT count FROM tenancy.find_duplicates('legacy', '{member_id}')$$,
                  $$VALUES (5::bigint), (2::bigint)$$, 'any set of key columns');
SELECT throws_ok($$SELECT * FROM tenancy.sync_links('legacy', 'member_id', 42, 'group_id', ARRAY[1])$$, '42P10', NULL,
                 'sync_links refuses the legacy table');
SELECT is(tenancy.dedupe('legacy', ARRAY['member_id', 'group_id']), 3::bigint, 'dedupe returns the rows it removed');
SELECT results_eq($$SELECT group_id, member_id, note FROM legacy ORDER BY 1 NULLS FIRST, 3$$,
                  $$VALUES (NULL, 44, 'n1'), (NULL, 44, 'n2'), (1, 42, 'first'), (2, 42, 'a'), (3, 43, 'single')$$,
                  'one row of each key is kept (the first stored); rows with a NULL key are not duplicates');
SELECT is(indexdef, 'CREATE UNIQUE INDEX legacy_member_id_group_id_idx ON public.legacy USING btree (member_id, group_id)',
          'dedupe created a unique index on the key columns')
  FROM pg_indexes WHERE tablename = 'legacy';
SELECT throws_ok($$INSERT INTO legacy VALUES (1, 42, 'again')$$, '23505', NULL, 'new duplicates are impossible');
SELECT is(tenancy.dedupe('legacy', ARRAY['group_id', 'member_id']), 0::bigint, 'dedupe again removes nothing');
SELECT is((SELECT count(*) FROM pg_indexes WHERE tablename = 'legacy'), 1::bigint,
          'and reuses the existing index (any column order)');
SELECT results_eq($$SELECT * FROM tenancy.sync_links('legacy', 'member_id', 42, 'group_id', ARRAY[2, 9])$$,
                  $$VALUES (1::bigint, 1::bigint)$$, 'after dedupe sync_links accepts the table');
SELECT throws_ok($$SELECT tenancy.dedupe('legacy', '{}')$$, '22023', 'key_columns must name at least one column',
                 'dedupe with no key columns: 22023');
SELECT throws_ok($$SELECT tenancy.dedupe('legacy', ARRAY['member_id', NULL])$$, '22023', NULL, 'a NULL key column: 22023');
SELECT throws_ok($$SELECT tenancy.dedupe('legacy', ARRAY['member_id', 'member_id'])$$, '42701', NULL,
                 'a repeated key column: 42701');
SELECT throws_ok($$SELECT tenancy.dedupe('legacy', ARRAY['nope'])$$, '42703', NULL, 'an unknown key column: 42703');
SELECT throws_ok($$SELECT tenancy.dedupe(NULL, ARRAY['member_id'])$$, '22023', 'tbl must not be NULL', 'NULL table: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.find_duplicates('legacy', NULL)$$, '22023', 'key_columns must not be NULL',
                 'find_duplicates with NULL key columns: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.find_duplicates('int_links_view', '{owner_id}')$$, '42809', NULL,
                 'find_duplicates on a view: 42809');

-- dedupe as a role that may delete but does not own the table: it removes the
-- duplicates, and creating the index needs ownership like CREATE INDEX.
CREATE TABLE shared_legacy (a integer, b integer);
INSERT INTO shared_legacy VALUES (1, 1), (1, 1);
GRANT SELECT, DELETE, UPDATE ON shared_legacy TO links_test_app;
SET ROLE links_test_app;
SELECT throws_ok($$SELECT tenancy.dedupe('shared_legacy', '{a,b}')$$, '42501', NULL,
                 'a non-owner cannot have the index created');
RESET ROLE;
SELECT is((SELECT count(*) FROM shared_legacy), 2::bigint, 'and the failed dedupe removed nothing (one transaction)');

SELECT * FROM finish();
ROLLBACK;
