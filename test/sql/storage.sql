-- Storage accounting as a user sees it in psql: uploads add bytes, deletions
-- free them, the quota holds, and retries with an idempotency key count once.
\set SHOW_CONTEXT never
-- A fresh extension, so that the tenant ids in messages do not depend on
-- which tests ran before this one in the same database.
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
CREATE EXTENSION tenancy;
RESET client_min_messages;
SELECT tenancy.create_tenant('photos', storage_quota => 1000) AS photos \gset
SELECT tenancy.create_tenant('videos', storage_quota => 5000) AS videos \gset

SELECT tenancy.adjust_storage(:photos, 300) AS after_upload;
SELECT tenancy.adjust_storage(:photos, 700) AS exactly_full;
SELECT * FROM tenancy.storage(:photos);
-- One byte more is refused, and nothing changes.
SELECT tenancy.adjust_storage(:photos, 1);
SELECT tenancy.adjust_storage(:photos, -200) AS after_delete;

-- A retried request with the same idempotency key is answered, not recounted.
SELECT tenancy.adjust_storage(:photos, 50, 'upload-7f3a') AS first_call;
SELECT tenancy.adjust_storage(:photos, 50, 'upload-7f3a') AS retried_call;
SELECT used FROM tenancy.storage(:photos);
SELECT tenancy.adjust_storage(:photos, 60, 'upload-7f3a');

-- Freeing more than was counted: clamped to 0 with a warning and a record...
SELECT tenancy.adjust_storage(:photos, -1000) AS clamped;
SELECT tenant_id = :photos AS is_photos, attempted_delta, used_before, lost FROM tenancy.storage_anomaly;
-- ... or refused, on request.
SELECT tenancy.adjust_storage(:photos, -1, on_underflow => 'error');

-- Several tenants at once, all or nothing.
SELECT tenant = :videos AS is_videos, storage_used
  FROM tenancy.adjust_storage_many(ARRAY[:videos, :photos], ARRAY[4000, 100]);
SELECT * FROM tenancy.adjust_storage_many(ARRAY[:videos, :photos], ARRAY[-10, 5000]);
SELECT used FROM tenancy.storage(:videos);

-- Lowering a quota below use is allowed and reported; growth stops, freeing goes on.
SELECT * FROM tenancy.set_storage_quota(:videos, 3000);
SELECT tenancy.adjust_storage(:videos, 1);
SELECT tenancy.adjust_storage(:videos, -500) AS still_over;

-- A suspended tenant may free storage but not add it.
SELECT tenancy.suspend_tenant(:photos);
SELECT tenancy.adjust_storage(:photos, -40) AS freed_while_suspended;
SELECT tenancy.adjust_storage(:photos, 100);

-- Errors name what is wrong.
SELECT tenancy.adjust_storage(-1, 10);
SELECT tenancy.adjust_storage(:videos, NULL);
SELECT tenancy.adjust_storage(:videos, 10, on_underflow => 'ignore');
SELECT * FROM tenancy.adjust_storage_many(ARRAY[:videos, :videos], ARRAY[1, 2]);

-- Keys older than the retention period are purged by an operator's job.
SELECT tenancy.purge_idempotency_keys() AS purged_recent;
SELECT tenancy.purge_idempotency_keys('0 seconds') AS purged_all;
