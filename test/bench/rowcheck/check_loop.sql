-- What an application would otherwise run at start-up: for each tenant, one
-- query per required row.  pgbench runs it once per tenant (-t), prepared.
\set t random(1, 10000)
SELECT EXISTS (SELECT FROM apps WHERE tenant_id = :t AND name = 'public');
SELECT EXISTS (SELECT FROM apps WHERE tenant_id = :t AND name = 'admin');
SELECT EXISTS (SELECT FROM settings WHERE tenant_id = :t AND key = 'locale' AND value = 'en');
