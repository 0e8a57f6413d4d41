-- Change landing, as a user sees it in psql: a shop's products and
-- categories arrive as events, out of order and more than once.
\set SHOW_CONTEXT never
\set VERBOSITY default

CREATE TABLE categories (id integer PRIMARY KEY, name text);
CREATE TABLE products (
    sku         text PRIMARY KEY,
    name        text NOT NULL DEFAULT '',
    price       numeric(10, 2),
    category_id integer REFERENCES categories (id)
);

-- Preparing a table checks its key and adds the change-state columns.
SELECT tenancy.enable_changes('categories', '{id}');
SELECT tenancy.enable_changes('products', ARRAY['sku']);
SELECT attname, format_type(atttypid, atttypmod), attnotnull, pg_get_expr(adbin, adrelid) AS default
  FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum
 WHERE attrelid = 'products'::regclass AND attnum > 0 ORDER BY attnum;

-- A table without a unique key on the key columns is refused.
CREATE TABLE no_key (id integer, name text);
SELECT tenancy.enable_changes('no_key', '{id}');
-- So is one whose other columns could not be left empty by a partial event.
CREATE TABLE strict_columns (id integer PRIMARY KEY, name text NOT NULL);
SELECT tenancy.enable_changes('strict_columns', '{id}');

-- The product refers to category 7 before category 7 exists: a placeholder
-- is created; the update (version 2) arrives before the create (version 1).
SELECT * FROM tenancy.apply_changes('products', '[
  {"op": "upsert", "key": {"sku": "pen"}, "version": 2, "data": {"price": "1.20"}},
  {"op": "upsert", "key": {"sku": "pen"}, "version": 1, "data": {"name": "Pen", "price": "0.99", "category_id": 7}}
]');
SELECT sku, name, price, category_id, version, deleted_at IS NOT NULL AS deleted, column_versions FROM products;
SELECT * FROM categories_live;
SELECT table_name, key FROM tenancy.placeholders();

-- The category's own create fills the placeholder in.
SELECT * FROM tenancy.apply_changes('categories', '[{"op": "upsert", "key": {"id": 7}, "version": 3, "data": {"name": "Office"}}]');
SELECT id, name, version, placeholder_since IS NULL AS real FROM categories;
SELECT table_name, key FROM tenancy.placeholders();

-- A delete leaves a tombstone; the update that preceded it, arriving late,
-- cannot resurrect the row; a replay of the delete changes nothing.
SELECT * FROM tenancy.apply_changes('products', '[
  {"op": "delete", "key": {"sku": "pen"}, "version": 5},
  {"op": "upsert", "key": {"sku": "pen"}, "version": 4, "data": {"price": "1.50"}},
  {"op": "delete", "key": {"sku": "pen"}, "version": 5}
]');
SELECT sku, name, price, version, deleted_at IS NOT NULL AS deleted FROM products;
SELECT * FROM products_live;

-- A newer upsert re-creates it, from its defaults plus what it carries.
SELECT * FROM tenancy.apply_changes('products', '[{"op": "upsert", "key": {"sku": "pen"}, "version": 6, "data": {"name": "Pen II"}}]');
SELECT * FROM products_live;

-- Bad events are refused one by one, with a SQLSTATE and a reason that
-- names the event and the column; the others land.
SELECT * FROM tenancy.apply_changes('products', '[
  {"op": "upsert", "key": {"sku": "ink"}, "version": 1, "data": {"price": "a lot"}},
  {"op": "upsert", "key": {"sku": "ink"}, "version": 1, "data": {"colour": "blue"}},
  {"op": "upsert", "key": {"sku": "ink"}, "version": 1, "data": {"price": 12345678901}},
  {"op": "upsert", "key": {"sku": null}, "version": 1},
  {"op": "remove", "key": {"sku": "ink"}, "version": 1},
  {"op": "upsert", "key": {"sku": "ink"}, "version": 1, "data": {"name": "Ink", "price": 3}}
]');
SELECT * FROM products_live ORDER BY sku;

-- A table that was not prepared.
SELECT * FROM tenancy.apply_changes('no_key', '[]');

-- The ink is discontinued.
SELECT * FROM tenancy.apply_changes('products', '[{"op": "delete", "key": {"sku": "ink"}, "version": 2}]');

-- Disabling drops the live view and forgets the table; the columns and
-- tombstones stay unless asked otherwise.
SELECT tenancy.disable_changes('products');
SELECT tenancy.disable_changes('products');
SELECT count(*) AS tombstones_kept FROM products WHERE deleted_at IS NOT NULL;
SELECT tenancy.disable_changes('categories', drop_columns => true);
SELECT attname FROM pg_attribute WHERE attrelid = 'categories'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
DROP TABLE products, categories, no_key, strict_columns;
