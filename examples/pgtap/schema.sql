-- A user's application schema, as their migrations would create it: the
-- example that docs/testing.md tests with tenancy_tap (scripts/test runs it).
-- The tables belong to app_owner, an ordinary role (row-level security does
-- not filter a superuser owner); the application connects as app_user: not
-- a superuser, not the tables' owner.
DO $$BEGIN CREATE ROLE app_owner; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
DO $$BEGIN CREATE ROLE app_user LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
GRANT USAGE ON SCHEMA tenancy TO app_owner, app_user;
GRANT EXECUTE ON FUNCTION tenancy.protect(regclass, name), tenancy.require_row(regclass, jsonb) TO app_owner;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) TO app_user;
CREATE SCHEMA app AUTHORIZATION app_owner;
SET ROLE app_owner;

-- Shared by every tenant: not protected.
CREATE TABLE app.plans (id bigint PRIMARY KEY, name text NOT NULL UNIQUE);

-- The tenant column leads every key and every foreign key.
CREATE TABLE app.orders (
    tenant_id bigint NOT NULL,
    id        bigint GENERATED ALWAYS AS IDENTITY,
    item      text NOT NULL,
    PRIMARY KEY (tenant_id, id));
CREATE TABLE app.order_lines (
    tenant_id bigint NOT NULL,
    order_id  bigint NOT NULL,
    line      integer NOT NULL,
    sku       text NOT NULL,
    PRIMARY KEY (tenant_id, order_id, line),
    FOREIGN KEY (tenant_id, order_id) REFERENCES app.orders (tenant_id, id));
CREATE TABLE app.settings (
    tenant_id bigint NOT NULL,
    name      text NOT NULL,
    value     text,
    UNIQUE (tenant_id, name));

SELECT tenancy.protect('app.orders');
SELECT tenancy.protect('app.order_lines');
SELECT tenancy.protect('app.settings');
-- Every tenant must have a theme setting.
SELECT tenancy.require_row('app.settings', '{"name": "theme", "value": "light"}');

GRANT USAGE ON SCHEMA app TO app_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO app_user;
RESET ROLE;
