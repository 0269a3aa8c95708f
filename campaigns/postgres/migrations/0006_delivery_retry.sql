-- 0006: a transient failure is retried for that delivery alone. The delivery stays queued with the
-- time of its next attempt; the worker leaves it out of a batch until then and goes on with the
-- others. A batch whose due deliveries were all handled, but that still has deliveries waiting, is
-- not done: it keeps the earliest of their next attempts as retry_at, and the scheduler enqueues it
-- again at that time. Both columns are NULL for everything that never failed transiently.
--
-- Adding a nullable column without a default rewrites nothing, and no index covers either column:
-- the status updates of deliveries stay HOT (see 0001).
ALTER TABLE deliveries ADD COLUMN next_attempt_at timestamptz;
ALTER TABLE batches ADD COLUMN retry_at timestamptz;
