-- Change landing: enable_changes, apply_changes, placeholders and
-- disable_changes; every rule and every error (docs/changes.md).
BEGIN;
SET client_min_messages = warning;
SELECT plan(124);

-- The statuses of a call, with the SQLSTATE of each refusal:
-- '{applied,stale,refused:22P02}'.
CREATE FUNCTION pg_temp.land(tbl regclass, changes jsonb) RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg(status || coalesce(':' || sqlstate, '') ORDER BY index), '{}')
      FROM tenancy.apply_changes(tbl, changes)
$$;
-- The reason of the refused event at position `event`.
CREATE FUNCTION pg_temp.reason(tbl regclass, changes jsonb, event integer) RETURNS text
LANGUAGE sql AS $$
    SELECT reason FROM tenancy.apply_changes(tbl, changes) WHERE index = event
$$;

CREATE TABLE items (
    id      integer PRIMARY KEY,
    name    text NOT NULL DEFAULT '',
    price   numeric(8, 2) CHECK (price >= 0),
    qty     integer DEFAULT 1,
    code    varchar(3),
    tags    text[],
    attrs   jsonb,
    seen    timestamptz,
    total   numeric GENERATED ALWAYS AS (price * qty) STORED
);

-- enable_changes ------------------------------------------------------------
SELECT lives_ok($$SELECT tenancy.enable_changes('items', '{id}')$$, 'enable_changes prepares a table');
SELECT has_column('items', 'version', 'it adds the version column');
SELECT col_type_is('items', 'version', 'bigint', 'version is bigint');
SELECT col_default_is('items', 'version', '0', 'version defaults to 0');
SELECT col_type_is('items', 'deleted_at', 'timestamp with time zone', 'deleted_at is timestamptz');
SELECT col_type_is('items', 'placeholder_since', 'timestamp with time zone', 'placeholder_since is timestamptz');
SELECT col_type_is('items', 'column_versions', 'jsonb', 'column_versions is jsonb');
SELECT has_view('items_live', 'it creates the live view');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'items_live'::regclass), '{security_invoker=true}',
          'the live view runs with the reader''s rights (and row-level security)');
SELECT is((SELECT key_columns::text || ' ' || added_columns::text FROM tenancy.change_table WHERE tbl = 'items'::regclass),
          '{id} {version,deleted_at,placeholder_since,column_versions}', 'the table is recorded with what was added');
SELECT lives_ok($$SELECT tenancy.enable_changes('items', '{id}')$$, 'enable_changes is idempotent');
SELECT is((SELECT count(*) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attnum > 0 AND NOT attisdropped),
          13::bigint, 'a second call adds nothing');

CREATE TABLE no_key (id integer, name text);
SELECT throws_ok($$SELECT tenancy.enable_changes('no_key', '{id}')$$, '42P10', NULL, 'no unique key on the key columns: 42P10');
CREATE TABLE partial_key (id integer, name text);
CREATE UNIQUE INDEX ON partial_key (id) WHERE id > 0;
SELECT throws_ok($$SELECT tenancy.enable_changes('partial_key', '{id}')$$, '42P10', NULL, 'a partial unique index is not enough');
CREATE TABLE wider_key (id integer, other integer, UNIQUE (id, other));
SELECT throws_ok($$SELECT tenancy.enable_changes('wider_key', '{id}')$$, '42P10', NULL, 'nor a unique index on more columns');
CREATE TABLE deferred_key (id integer UNIQUE DEFERRABLE INITIALLY DEFERRED);
SELECT throws_ok($$SELECT tenancy.enable_changes('deferred_key', '{id}')$$, '42P10', NULL, 'nor a deferrable one');
SELECT throws_ok($$SELECT tenancy.enable_changes('items', '{nope}')$$, '42703', NULL, 'an unknown key column: 42703');
SELECT throws_ok($$SELECT tenancy.enable_changes('items', '{id,id}')$$, '42701', NULL, 'a key column twice: 42701');
SELECT throws_ok($$SELECT tenancy.enable_changes('items', '{ctid}')$$, '22023', NULL, 'a system column as key: 22023');
SELECT throws_ok($$SELECT tenancy.enable_changes('items', '{}')$$, '22023', NULL, 'no key columns: 22023');
SELECT throws_ok($$SELECT tenancy.enable_changes('items', ARRAY['id', NULL])$$, '22023', NULL, 'a NULL key column: 22023');
SELECT throws_ok($$SELECT tenancy.enable_changes(NULL, '{id}')$$, '22023', 'tbl must not be NULL', 'a NULL table: 22023');
SELECT throws_ok($$SELECT tenancy.enable_changes('items', NULL)$$, '22023', NULL, 'NULL key_columns: 22023');
SELECT throws_ok($$SELECT tenancy.enable_changes('items', '{id}', version_column => NULL)$$, '22023', NULL,
                 'a NULL column name: 22023');
SELECT throws_ok($$SELECT tenancy.enable_changes('items', '{id}', version_column => 'name')$$, '42804', NULL,
                 'an existing version column of another type: 42804');
SELECT throws_ok($$SELECT tenancy.enable_changes('items', '{id}', deleted_column => 'id')$$, '22023', NULL,
                 'the key as a state column: 22023');
SELECT throws_ok($$SELECT tenancy.enable_changes('items', '{id}', deleted_column => 'seen', placeholder_column => 'seen')$$,
                 '22023', NULL, 'one column for two roles: 22023');
CREATE TABLE strict_data (id integer PRIMARY KEY, name text NOT NULL);
SELECT throws_ok($$SELECT tenancy.enable_changes('strict_data', '{id}')$$, 'TN042', NULL,
                 'a data column NOT NULL without default: TN042');
CREATE TABLE strict_state (id integer PRIMARY KEY, gone timestamptz NOT NULL DEFAULT now());
SELECT throws_ok($$SELECT tenancy.enable_changes('strict_state', '{id}', deleted_column => 'gone')$$, 'TN042', NULL,
                 'a NOT NULL deleted column: TN042');
CREATE VIEW a_view AS SELECT 1 AS id;
SELECT throws_ok($$SELECT tenancy.enable_changes('a_view', '{id}')$$, '42809', NULL, 'a view: 42809');
SELECT throws_ok($$SELECT tenancy.enable_changes('tenancy.tenant', '{id}')$$, '42809', NULL, 'a table of the extension: 42809');
CREATE TABLE parted (id integer PRIMARY KEY) PARTITION BY RANGE (id);
SELECT throws_ok($$SELECT tenancy.enable_changes('parted', '{id}')$$, '0A000', NULL, 'a partitioned table: 0A000');
-- An existing bigint version column is adopted as it is.
CREATE TABLE adopted (id integer PRIMARY KEY, rev bigint);
SELECT lives_ok($$SELECT tenancy.enable_changes('adopted', '{id}', version_column => 'rev', live_view => '')$$,
                'an existing bigint column can be the version column');
SELECT hasnt_view('adopted_live', 'an empty live_view creates no view');
SELECT is((SELECT added_columns::text FROM tenancy.change_table WHERE tbl = 'adopted'::regclass),
          '{deleted_at,placeholder_since,column_versions}', 'the adopted column is not recorded as added');

-- apply_changes: arguments ------------------------------------------------------
SELECT throws_ok($$SELECT * FROM tenancy.apply_changes(NULL, '[]')$$, '22023', NULL, 'a NULL table: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.apply_changes('items', NULL)$$, '22023', NULL, 'NULL changes: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.apply_changes('items', '{}')$$, '22023', NULL, 'changes not an array: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.apply_changes('items', '5')$$, '22023', NULL, 'a scalar: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.apply_changes('no_key', '[]')$$, 'TN040', NULL, 'a table not enabled: TN040');
SELECT is(pg_temp.land('items', '[]'), '{}', 'an empty array returns no rows');

-- Versions: last writer wins per key, whatever the order -------------------------
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 1}, "version": 5, "data": {"name": "five", "price": 5}}]'),
          '{applied}', 'an upsert of a new key is applied');
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 1}, "version": 4, "data": {"name": "four", "price": 4}}]'),
          '{stale}', 'a lower version is stale');
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 1}, "version": 5, "data": {"name": "other five"}}]'),
          '{stale}', 'an equal version is stale');
SELECT results_eq($$SELECT name, price, version FROM items WHERE id = 1$$, $$VALUES ('five', 5.00::numeric, 5::bigint)$$,
                  'stale events changed nothing');
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 1}, "version": 7, "data": {"price": 7}}]'),
          '{applied}', 'a partial update is applied');
SELECT results_eq($$SELECT name, price, qty, version FROM items WHERE id = 1$$, $$VALUES ('five', 7.00::numeric, 1, 7::bigint)$$,
                  'columns the event does not carry keep their values');
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 1}, "version": 6, "data": {"name": "six", "price": 6}}]'),
          '{applied}', 'an older event still sets a column no newer event set');
SELECT results_eq($$SELECT name, price, version FROM items WHERE id = 1$$, $$VALUES ('six', 7.00::numeric, 7::bigint)$$,
                  'it sets name (last set at 5) but not price (set at 7); the row version stays 7');
SELECT is((SELECT column_versions FROM items WHERE id = 1), '{"name": 6, "price": 7}'::jsonb,
          'column_versions records the version of each column''s value');
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 1}, "version": 8, "full": true, "data": {"name": "full"}}]'),
          '{applied}', 'a full upsert is applied');
SELECT results_eq($$SELECT name, price, qty FROM items WHERE id = 1$$, $$VALUES ('full', NULL::numeric, 1)$$,
                  'a full upsert sets the columns it lacks to their defaults');
-- Within one call: each event's status is what it did in array order.
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 2}, "version": 2, "data": {"name": "b2"}},
                                  {"op": "upsert", "key": {"id": 2}, "version": 1, "data": {"name": "b1", "qty": 9}},
                                  {"op": "upsert", "key": {"id": 2}, "version": 2, "data": {"name": "b2"}}]'),
          '{applied,applied,stale}', 'one call: the older event fills qty, the replay is stale');
SELECT results_eq($$SELECT name, qty, version FROM items WHERE id = 2$$, $$VALUES ('b2', 9, 2::bigint)$$,
                  'the result is the per-column maximum');

-- Deletes and tombstones --------------------------------------------------------
SELECT is(pg_temp.land('items', '[{"op": "delete", "key": {"id": 2}, "version": 4}]'), '{applied}', 'a delete is applied');
SELECT results_eq($$SELECT name, qty, version, deleted_at IS NOT NULL FROM items WHERE id = 2$$,
                  $$VALUES ('', 1, 4::bigint, true)$$, 'it leaves a tombstone: version kept, columns reset to defaults');
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 2}, "version": 3, "data": {"name": "late"}}]'),
          '{stale}', 'an older upsert after the delete is stale');
SELECT is((SELECT deleted_at IS NOT NULL FROM items WHERE id = 2), true, 'and does not resurrect the row');
SELECT is(pg_temp.land('items', '[{"op": "delete", "key": {"id": 2}, "version": 4}]'), '{stale}', 'a replayed delete is stale');
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 2}, "version": 5, "data": {"qty": 3}}]'),
          '{applied}', 'a newer upsert after the delete is applied');
SELECT results_eq($$SELECT name, qty, deleted_at IS NULL FROM items WHERE id = 2$$, $$VALUES ('', 3, true)$$,
                  'it re-creates the row from defaults plus what it carries');
SELECT is(pg_temp.land('items', '[{"op": "delete", "key": {"id": 3}, "version": 2}]'), '{applied}',
          'a delete of a key never seen is applied');
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 3}, "version": 1, "data": {"name": "early"}}]'),
          '{stale}', 'its create arriving later is stale: the tombstone was there first');
SELECT is((SELECT count(*) FROM items_live WHERE id = 3), 0::bigint, 'the live view hides tombstones');
-- A late delete resets the columns older than itself only.
SELECT pg_temp.land('items', '[{"op": "upsert", "key": {"id": 4}, "version": 1, "data": {"name": "a", "qty": 2}},
                               {"op": "upsert", "key": {"id": 4}, "version": 3, "data": {"qty": 5}}]');
SELECT is(pg_temp.land('items', '[{"op": "delete", "key": {"id": 4}, "version": 2}]'), '{applied}',
          'a delete older than the row still resets older columns');
SELECT results_eq($$SELECT name, qty, version, deleted_at IS NULL FROM items WHERE id = 4$$,
                  $$VALUES ('', 5, 3::bigint, true)$$, 'name (1) reset, qty (3) kept, the row stays live at 3');

-- Values are converted to the column types --------------------------------------
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": "10"}, "version": 1,
                                   "data": {"code": "abc", "tags": ["x", "y,z", null], "attrs": {"a": [1, 2]},
                                            "seen": "2024-05-01T10:00:00Z", "qty": 2, "price": "1.5"}}]'),
          '{applied}', 'strings, numbers, arrays, objects and timestamps convert');
SELECT results_eq($$SELECT code::text, tags, attrs, seen, qty, price, total FROM items WHERE id = 10$$,
                  $$VALUES ('abc', ARRAY['x', 'y,z', NULL], '{"a": [1, 2]}'::jsonb, '2024-05-01 10:00:00+00'::timestamptz, 2, 1.50::numeric, 3.00::numeric)$$,
                  'each value has its column''s type');
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 11}, "version": 1, "data": {"qty": "many"}},
                                  {"op": "upsert", "key": {"id": 11}, "version": 1, "data": {"qty": 1.5}},
                                  {"op": "upsert", "key": {"id": 11}, "version": 1, "data": {"qty": 3000000000}},
                                  {"op": "upsert", "key": {"id": 11}, "version": 1, "data": {"code": "abcd"}},
                                  {"op": "upsert", "key": {"id": 11}, "version": 1, "data": {"seen": "yesterday-ish"}},
                                  {"op": "upsert", "key": {"id": 11}, "version": 1, "data": {"qty": {"n": 1}}},
                                  {"op": "upsert", "key": {"id": 11}, "version": 1, "data": {"price": 1e20}},
                                  {"op": "upsert", "key": {"id": "eleven"}, "version": 1}]'),
          '{refused:22P02,refused:22P02,refused:22003,refused:22001,refused:22007,refused:22P02,refused:22003,refused:22P02}',
          'wrong types are refused with the type''s own SQLSTATE');
SELECT is(pg_temp.reason('items', '[{"op": "upsert", "key": {"id": 11}, "version": 1, "data": {"qty": "many"}}]', 0),
          'event 0: column "qty": invalid input syntax for type integer: "many"', 'the reason names the event and the column');
SELECT is(pg_temp.reason('items', '[{"op": "upsert", "key": {"id": 1}, "version": 1}, {"op": "upsert", "key": {"id": "x"}, "version": 1}]', 1),
          'event 1: key column "id": invalid input syntax for type integer: "x"', 'also for key columns');
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 12}, "version": 1, "data": {"name": null}}]'),
          '{refused:23502}', 'null for a NOT NULL column: 23502');
SELECT is((SELECT count(*) FROM items WHERE id = 11 OR id = 12), 0::bigint, 'refused events wrote nothing');

-- Malformed events ---------------------------------------------------------------
SELECT is(pg_temp.land('items', '[5, [], {"key": {"id": 1}, "version": 1},
                                  {"op": "merge", "key": {"id": 1}, "version": 1},
                                  {"op": "upsert", "key": {"id": 1}},
                                  {"op": "upsert", "key": {"id": 1}, "version": 0},
                                  {"op": "upsert", "key": {"id": 1}, "version": -3},
                                  {"op": "upsert", "key": {"id": 1}, "version": 2.5},
                                  {"op": "upsert", "key": {"id": 1}, "version": "9"},
                                  {"op": "upsert", "key": {"id": 1}, "version": 9223372036854775808},
                                  {"op": "upsert", "version": 1},
                                  {"op": "upsert", "key": [1], "version": 1},
                                  {"op": "upsert", "key": {}, "version": 1},
                                  {"op": "upsert", "key": {"id": 1, "name": "x"}, "version": 1},
                                  {"op": "upsert", "key": {"id": null}, "version": 1},
                                  {"op": "upsert", "key": {"id": 1}, "version": 1, "data": [1]},
                                  {"op": "upsert", "key": {"id": 1}, "version": 1, "full": "yes"},
                                  {"op": "delete", "key": {"id": 1}, "version": 1, "data": {"name": "x"}},
                                  {"op": "upsert", "key": {"id": 1}, "version": 1, "extra": true}]'),
          '{refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041,refused:TN041}',
          'every malformed event is refused with TN041');
SELECT is(pg_temp.reason('items', '[{"op": "upsert", "key": {"id": null}, "version": 1}]', 0),
          'event 0: key column "id" is null', 'a NULL key part is named');
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 1}, "version": 9, "data": {"colour": "red"}}]'),
          '{refused:42703}', 'an unknown column: 42703');
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 1}, "version": 9, "data": {"total": 1}}]'),
          '{refused:428C9}', 'a generated column: 428C9');
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 1}, "version": 9, "data": {"id": 2}},
                                  {"op": "upsert", "key": {"id": 1}, "version": 9, "data": {"version": 2}},
                                  {"op": "upsert", "key": {"id": 1}, "version": 9, "data": {"column_versions": {}}}]'),
          '{refused:TN041,refused:TN041,refused:TN041}', 'key and change-state columns cannot be set through data');

-- Rows the table refuses: only that event ------------------------------------------
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 20}, "version": 1, "data": {"name": "ok"}},
                                  {"op": "upsert", "key": {"id": 21}, "version": 1, "data": {"price": -1}},
                                  {"op": "upsert", "key": {"id": 21}, "version": 2, "data": {"name": "later"}},
                                  {"op": "upsert", "key": {"id": 22}, "version": 1, "data": {"name": "ok too"}}]'),
          '{applied,refused:23514,applied,applied}', 'a CHECK violation refuses its event, the others land');
SELECT results_eq($$SELECT id, name, price FROM items WHERE id BETWEEN 20 AND 22 ORDER BY id$$,
                  $$VALUES (20, 'ok', NULL::numeric), (21, 'later', NULL), (22, 'ok too', NULL)$$,
                  'including the later event of the refused one''s key');
CREATE FUNCTION pg_temp.no_bad_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name = 'bad' THEN RAISE EXCEPTION 'bad name'; END IF;
    IF NEW.name = 'busy' THEN RAISE EXCEPTION 'try again' USING ERRCODE = '40001'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER no_bad_names BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION pg_temp.no_bad_names();
SELECT is(pg_temp.land('items', '[{"op": "upsert", "key": {"id": 23}, "version": 1, "data": {"name": "bad"}},
                                  {"op": "upsert", "key": {"id": 24}, "version": 1, "data": {"name": "good"}}]'),
          '{refused:P0001,applied}', 'a trigger''s exception refuses its event');
SELECT throws_ok($$SELECT * FROM tenancy.apply_changes('items', '[{"op": "upsert", "key": {"id": 25}, "version": 1, "data": {"name": "busy"}}]')$$,
                 '40001', 'try again', 'an error that is not about the data fails the call');
DROP TRIGGER no_bad_names ON items;

-- Keys are compared as the unique index compares them ------------------------------
CREATE TABLE prices (amount numeric PRIMARY KEY, label text);
SELECT tenancy.enable_changes('prices', '{amount}', live_view => '');
SELECT is(pg_temp.land('prices', '[{"op": "upsert", "key": {"amount": 1.0}, "version": 1, "data": {"label": "a"}},
                                   {"op": "upsert", "key": {"amount": "1.00"}, "version": 2, "data": {"label": "b"}}]'),
          '{applied,applied}', '1.0 and 1.00 are one key');
SELECT results_eq($$SELECT label, version FROM prices$$, $$VALUES ('b', 2::bigint)$$, 'one row, the newer label');
CREATE TABLE pairs (a text, b integer, note text, PRIMARY KEY (a, b));
SELECT tenancy.enable_changes('pairs', '{a,b}', live_view => '');
SELECT is(pg_temp.land('pairs', '[{"op": "upsert", "key": {"b": 1, "a": "x"}, "version": 1, "data": {"note": "n"}},
                                  {"op": "upsert", "key": {"a": "x"}, "version": 1}]'),
          '{applied,refused:TN041}', 'a composite key needs every part');

-- Placeholder parents ---------------------------------------------------------------
CREATE TABLE brands (id integer PRIMARY KEY);
CREATE TABLE categories (id integer PRIMARY KEY, name text, parent_id integer REFERENCES categories (id));
-- category_id is bigint while categories.id is integer: converted for the placeholder.
CREATE TABLE products (id integer PRIMARY KEY, name text, category_id bigint REFERENCES categories (id),
                       brand_id integer REFERENCES brands (id));
SELECT tenancy.enable_changes('categories', '{id}');
SELECT tenancy.enable_changes('products', '{id}');
SELECT is(pg_temp.land('products', '[{"op": "upsert", "key": {"id": 1}, "version": 1, "data": {"name": "pen", "category_id": 7}},
                                     {"op": "upsert", "key": {"id": 2}, "version": 1, "data": {"name": "ink", "category_id": 7}}]'),
          '{applied,applied}', 'events that reference a missing parent are applied');
SELECT results_eq($$SELECT id, version, name, placeholder_since IS NOT NULL FROM categories$$,
                  $$VALUES (7, 0::bigint, NULL::text, true)$$, 'one placeholder: key only, version 0, marked');
SELECT is((SELECT count(*) FROM categories_live), 0::bigint, 'the live view hides placeholders');
SELECT results_eq($$SELECT table_name, key FROM tenancy.placeholders()$$,
                  $$VALUES ('categories'::regclass, '{"id": 7}'::jsonb)$$, 'placeholders() lists it');
SELECT is((SELECT count(*) FROM tenancy.placeholders('1 hour')), 0::bigint, 'but not as older than an hour');
SELECT is((SELECT count(*) FROM tenancy.placeholders(tbl => 'products')), 0::bigint, 'and not for another table');
SELECT throws_ok($$SELECT * FROM tenancy.placeholders(NULL)$$, '22023', NULL, 'a NULL age: 22023');
SELECT throws_ok($$SELECT * FROM tenancy.placeholders(tbl => 'no_key')$$, 'TN040', NULL, 'a table not enabled: TN040');
SELECT is(pg_temp.land('categories', '[{"op": "upsert", "key": {"id": 7}, "version": 1, "data": {"name": "office", "parent_id": 3}}]'),
          '{applied}', 'the parent''s own create is applied to the placeholder');
SELECT results_eq($$SELECT id, version, name, placeholder_since IS NOT NULL FROM categories ORDER BY id$$,
                  $$VALUES (3, 0::bigint, NULL::text, true), (7, 1::bigint, 'office', false)$$,
                  'it fills the placeholder in; a self-reference makes its own placeholder');
SELECT is(pg_temp.land('products', '[{"op": "upsert", "key": {"id": 1}, "version": 0, "data": {"category_id": 8}},
                                     {"op": "upsert", "key": {"id": 1}, "version": 1, "data": {"category_id": 9}}]'),
          '{refused:TN041,stale}', 'a stale event still makes the placeholder of its reference');
SELECT is((SELECT count(*) FROM categories WHERE id = 9), 1::bigint,
          'so that the placeholders do not depend on the delivery order (refused events make none)');
SELECT is(pg_temp.land('products', '[{"op": "upsert", "key": {"id": 3}, "version": 1, "data": {"category_id": 4000000000}}]'),
          '{refused:22003}', 'a reference that does not fit the parent''s key type is refused');
SELECT is(pg_temp.land('products', '[{"op": "upsert", "key": {"id": 4}, "version": 1, "data": {"brand_id": 1}},
                                     {"op": "upsert", "key": {"id": 5}, "version": 1, "data": {"name": "no brand"}}]'),
          '{refused:23503,applied}', 'a missing parent in a table that is not enabled: the foreign key refuses the event');

-- Protected tables: the events carry the tenant -------------------------------------
CREATE ROLE tap_changes_app;
GRANT USAGE ON SCHEMA tenancy TO tap_changes_app;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean), tenancy.apply_changes(regclass, jsonb) TO tap_changes_app;
SELECT tenancy.create_tenant('tap-changes-a') AS ta, tenancy.create_tenant('tap-changes-b') AS tb \gset
CREATE TABLE notes (tenant_id bigint NOT NULL, id integer, body text, PRIMARY KEY (tenant_id, id));
SELECT tenancy.protect('notes');
SELECT tenancy.enable_changes('notes', '{tenant_id,id}');
GRANT SELECT, INSERT, UPDATE ON notes, notes_live TO tap_changes_app;
SET ROLE tap_changes_app;
SELECT is(pg_temp.land('notes', format('[{"op": "upsert", "key": {"tenant_id": %s, "id": 1}, "version": 1}]', :ta)::jsonb),
          '{refused:42501}', 'no tenant set: every event is refused (42501)');
SELECT tenancy.set_tenant(:ta);
SELECT is(pg_temp.land('notes', format('[{"op": "upsert", "key": {"tenant_id": %s, "id": 1}, "version": 1, "data": {"body": "mine"}},
                                        {"op": "upsert", "key": {"tenant_id": %s, "id": 1}, "version": 1, "data": {"body": "theirs"}}]',
                                       :ta, :tb)::jsonb),
          '{applied,refused:42501}', 'another tenant''s event is refused (42501), the tenant''s own applied');
SELECT matches(pg_temp.reason('notes', format('[{"op": "upsert", "key": {"tenant_id": %s, "id": 2}, "version": 1}]', :tb)::jsonb, 0),
               'belongs to tenant \d+, not to the current tenant \d+', 'the reason names both tenants');
SELECT results_eq($$SELECT id, body FROM notes_live$$, $$VALUES (1, 'mine')$$, 'the live view shows the tenant''s rows');
RESET ROLE;
SELECT is((SELECT count(*) FROM notes), 1::bigint, 'nothing of the other tenant was written');
SET ROLE tap_changes_app;
SELECT tenancy.set_tenant(:tb);
SELECT is((SELECT count(*) FROM notes_live), 0::bigint, 'and the other tenant sees nothing through the view');
RESET ROLE;

-- A protected table whose key lacks the tenant column: the guard fills it on
-- insert; deletes and full upserts leave it alone.
CREATE TABLE memos (id integer PRIMARY KEY, tenant_id bigint, body text DEFAULT 'empty');
SELECT tenancy.protect('memos');
SELECT lives_ok($$SELECT tenancy.enable_changes('memos', '{id}')$$,
                'a protected table can be enabled although its tenant column is NOT NULL without a default');
INSERT INTO memos (id, tenant_id, body) VALUES (5, :tb, 'b''s memo');
GRANT SELECT, INSERT, UPDATE ON memos TO tap_changes_app;
SET ROLE tap_changes_app;
SELECT tenancy.set_tenant(:ta);
SELECT is(pg_temp.land('memos', '[{"op": "upsert", "key": {"id": 1}, "version": 1, "data": {"body": "hello"}},
                                  {"op": "upsert", "key": {"id": 1}, "version": 2, "full": true},
                                  {"op": "delete", "key": {"id": 1}, "version": 3}]'),
          '{applied,applied,applied}', 'create, full upsert and delete without the tenant column');
SELECT is(pg_temp.land('memos', '[{"op": "upsert", "key": {"id": 5}, "version": 1, "data": {"body": "mine now"}}]'),
          '{refused:42501}', 'a key that exists for another tenant is refused (42501), not overwritten');
RESET ROLE;
SELECT results_eq($$SELECT id, tenant_id, body, version, deleted_at IS NOT NULL FROM memos ORDER BY id$$,
                  format($$VALUES (1, %s::bigint, 'empty', 3::bigint, true), (5, %s::bigint, 'b''s memo', 0::bigint, false)$$, :ta, :tb),
                  'the tenant column was filled and kept; the other tenant''s row is untouched');

-- Privileges -------------------------------------------------------------------------
SET ROLE tap_changes_app;
SELECT throws_ok($$SELECT * FROM tenancy.apply_changes('items', '[{"op": "upsert", "key": {"id": 30}, "version": 1}]')$$,
                 '42501', NULL, 'without privileges on the table the call fails with 42501');
SELECT throws_ok($$SELECT tenancy.enable_changes('items', '{id}')$$, '42501', NULL,
                 'enable_changes needs EXECUTE (revoked from PUBLIC)');
RESET ROLE;
GRANT EXECUTE ON FUNCTION tenancy.enable_changes(regclass, name[], name, name, name, name, name),
                          tenancy.disable_changes(regclass, boolean) TO tap_changes_app;
SET ROLE tap_changes_app;
SELECT throws_ok($$SELECT tenancy.enable_changes('items', '{id}')$$, '42501', 'must be owner of table public.items',
                 'and ownership of the table');
SELECT throws_ok($$SELECT tenancy.disable_changes('items')$$, '42501', NULL, 'so does disable_changes');
RESET ROLE;
SELECT is(has_function_privilege('public', 'tenancy.apply_changes(regclass, jsonb)', 'EXECUTE'), false,
          'PUBLIC cannot execute apply_changes');

-- Large batches lock the whole table instead of each key -----------------------------
-- (This transaction already holds key locks of the calls above.)
SELECT count(*) AS key_locks_before FROM pg_locks
 WHERE locktype = 'advisory' AND objsubid = 4 AND pid = pg_backend_pid() AND classid = 'items'::regclass::oid \gset
SELECT is((SELECT count(*) FILTER (WHERE status = 'applied') FROM tenancy.apply_changes('items',
              (SELECT jsonb_agg(jsonb_build_object('op', 'upsert', 'key', jsonb_build_object('id', 1000 + g), 'version', 1))
                 FROM generate_series(1, 600) AS g))),
          600::bigint, 'a batch of 600 keys lands');
SELECT is((SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 4 AND pid = pg_backend_pid()
                                            AND classid = 'items'::regclass::oid),
          :key_locks_before::bigint, 'it took no key locks');
SELECT is((SELECT mode FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 3 AND pid = pg_backend_pid()
                                       AND classid = 'items'::regclass::oid AND mode = 'ExclusiveLock'),
          'ExclusiveLock', 'but the table lock, exclusively');

-- disable_changes ----------------------------------------------------------------------
SELECT is(tenancy.disable_changes('products'), true, 'disable_changes forgets a table');
SELECT hasnt_view('products_live', 'and drops its live view');
SELECT has_column('products', 'column_versions', 'but keeps its columns');
SELECT is(tenancy.disable_changes('products'), false, 'false for a table not enabled');
SELECT throws_ok($$SELECT * FROM tenancy.apply_changes('products', '[]')$$, 'TN040', NULL, 'apply_changes then refuses it');
SELECT is(tenancy.disable_changes('adopted', drop_columns => true), true, 'drop_columns drops what enable added');
SELECT columns_are('adopted', ARRAY['id', 'rev'], 'and only that');

SELECT * FROM finish();
ROLLBACK;
