-- (a) The common application pattern: lock the row, compute the new value in
-- the client (clamping at 0), write it back, commit: four round trips.
\set t random(1, :tenants)
\set d random(-1000, 1000)
BEGIN;
SELECT storage_used AS used FROM tenancy.tenant WHERE id = :t FOR UPDATE \gset
\set new greatest(:used + :d, 0)
UPDATE tenancy.tenant SET storage_used = :new, updated_at = now() WHERE id = :t;
COMMIT;
