-- Change-landing benchmark tables: the same products and categories three
-- times, in schemas ref (the in-order reference), land (apply_changes) and
-- orm (the ORM pattern: soft deletes, no versions).
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS ref, land, orm CASCADE;
CREATE SCHEMA ref;
CREATE SCHEMA land;
CREATE SCHEMA orm;
CREATE TABLE ref.categories (id integer PRIMARY KEY, name text);
CREATE TABLE ref.products (id integer PRIMARY KEY, name text, price integer,
                           category_id integer REFERENCES ref.categories (id));
CREATE TABLE land.categories (LIKE ref.categories INCLUDING ALL);
CREATE TABLE land.products (LIKE ref.products INCLUDING ALL,
                            FOREIGN KEY (category_id) REFERENCES land.categories (id));
SELECT tenancy.enable_changes('ref.categories', '{id}'), tenancy.enable_changes('ref.products', '{id}'),
       tenancy.enable_changes('land.categories', '{id}'), tenancy.enable_changes('land.products', '{id}');
CREATE TABLE orm.orm_categories (id integer PRIMARY KEY, name text, isactive boolean NOT NULL DEFAULT true);
CREATE TABLE orm.orm_products (id integer PRIMARY KEY, name text, price integer,
                               category_id integer REFERENCES orm.orm_categories (id),
                               isactive boolean NOT NULL DEFAULT true);
