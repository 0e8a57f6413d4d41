-- (c) tenancy.adjust_storage.
\set t random(1, :tenants)
\set d random(-1000, 1000)
SELECT tenancy.adjust_storage(:t, :d);
