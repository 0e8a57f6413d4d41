-- (b) A hand-written single statement with the same quota rule and clamp:
-- the floor of what one row lock per adjustment allows.
\set t random(1, :tenants)
\set d random(-1000, 1000)
UPDATE tenancy.tenant
   SET storage_used = greatest(storage_used + :d, 0)
 WHERE id = :t AND (:d <= 0 OR storage_used + :d <= storage_quota)
RETURNING storage_used;
