-- name: lease-batch
-- A worker holds a batch while it sends it; a lease that ran out (the worker died) can be taken over.
UPDATE batches SET lease_until = now() + make_interval(secs => $5), lease_owner = $4
WHERE run_id = $1 AND channel = $2 AND batch = $3 AND done_at IS NULL
  AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $4)
RETURNING 1

-- name: batch-state
SELECT done_at IS NOT NULL AS done FROM batches WHERE run_id = $1 AND channel = $2 AND batch = $3

-- name: release-batch
-- $5: the worker went through every delivery of the batch that was due. The batch is then done when
-- none of its deliveries is still queued; otherwise some wait for a retry, and retry_at is the
-- earliest of their next attempts (now, for one that never failed), when the scheduler enqueues the
-- batch again (batches-to-retry). A batch given back before the end of its pass (paused, quiet
-- hours, the worker stopping, a failure) keeps no retry time: its task, or the scheduler's check for
-- lost tasks, brings it back.
WITH waiting AS (
  SELECT min(coalesce(next_attempt_at, now())) AS next FROM deliveries
  WHERE run_id = $1 AND channel = $2 AND batch = $3 AND status = 'queued'
)
UPDATE batches b SET lease_until = NULL, lease_owner = NULL,
       done_at = CASE WHEN $5 AND waiting.next IS NULL THEN now() ELSE b.done_at END,
       retry_at = CASE WHEN $5 THEN waiting.next END
FROM waiting
WHERE b.run_id = $1 AND b.channel = $2 AND b.batch = $3 AND b.lease_owner = $4
RETURNING b.done_at IS NOT NULL AS done

-- name: run-for-worker
SELECT r.id, r.campaign_id, r.status, c.spec::text AS spec
FROM runs r JOIN campaigns c ON c.id = r.campaign_id WHERE r.id = $1

-- name: batch-has-erased
-- Whether skip-erased has anything to do: a read, so that the common case fires no trigger.
SELECT EXISTS (SELECT 1 FROM deliveries
  WHERE run_id = $1 AND channel = $2 AND batch = $3 AND status = 'queued' AND member_id IS NULL)

-- name: skip-erased
-- A member erased after the selection is sent nothing.
UPDATE deliveries SET status = 'skipped', reason = 'erased', updated_at = now()
WHERE run_id = $1 AND channel = $2 AND batch = $3 AND status = 'queued' AND member_id IS NULL

-- name: batch-deliveries
-- The deliveries due now: one waiting for a retry after a transient failure comes back once its
-- next attempt is due (mark-retry).
SELECT d.id, d.run_id, d.channel, d.attempts,
       m.id AS "member.id", m.external_id AS "member.external_id", m.first_name AS "member.first_name",
       m.last_name AS "member.last_name", coalesce(m.email, '') AS "member.email",
       coalesce(m.phone, '') AS "member.phone", m.street AS "member.street",
       m.postal_code AS "member.postal_code", m.city AS "member.city", m.country AS "member.country",
       m.language AS "member.language", m.address_protected AS "member.address_protected",
       m.deceased AS "member.deceased", m.created_at AS "member.created_at", m.updated_at AS "member.updated_at"
FROM deliveries d JOIN members m ON m.id = d.member_id
WHERE d.run_id = $1 AND d.channel = $2 AND d.batch = $3 AND d.status = 'queued'
  AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now())
ORDER BY CASE WHEN d.channel = 'postal' THEN m.postal_code END, d.member_id

-- name: recheck
-- The send-time check of rule 4: the same member_reach view the selection used, read again now.
SELECT d.id, coalesce(r.reason, CASE WHEN d.member_id IS NULL THEN 'erased' END, '') AS reason,
       run.status AS run_status
FROM unnest($1::bigint[]) AS x (id)
JOIN deliveries d ON d.id = x.id
JOIN runs run ON run.id = d.run_id
LEFT JOIN member_reach r ON r.member_id = d.member_id AND r.channel = d.channel

-- name: issue-coupons
-- ON CONFLICT without a target: a delivery that has a coupon keeps it (a retried task issues
-- nothing new), and a code that collides with an existing one is simply not inserted and retried.
INSERT INTO coupons (code, campaign_id, run_id, member_id, channel, delivery_id, discount, valid_until)
SELECT x.code, r.campaign_id, d.run_id, d.member_id, d.channel, d.id, $3, $4::timestamptz
FROM unnest($1::bigint[], $2::text[]) AS x (delivery_id, code)
JOIN deliveries d ON d.id = x.delivery_id
JOIN runs r ON r.id = d.run_id
WHERE d.member_id IS NOT NULL
ON CONFLICT DO NOTHING
RETURNING delivery_id, code, valid_until

-- name: coupons-of-deliveries
SELECT delivery_id, code, valid_until FROM coupons WHERE delivery_id = ANY($1::bigint[])

-- name: mark-sent
-- One statement for the messages of a chunk, each with its send time and provider reference. A
-- message that went out is sent, even if the campaign was cancelled while it was in hand. A
-- delivery sent after a transient failure loses that failure's reason and its next attempt.
UPDATE deliveries d SET status = 'sent', sent_at = x.sent_at, updated_at = now(), attempts = d.attempts + 1,
       provider_ref = x.ref, sms_segments = nullif(x.segments, 0),
       reason = CASE WHEN d.next_attempt_at IS NULL THEN d.reason ELSE '' END, next_attempt_at = NULL
FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::int[]) AS x (id, sent_at, ref, segments)
WHERE d.id = x.id AND d.status IN ('queued', 'cancelled')

-- name: mark-final
-- failed or skipped, with the reason.
UPDATE deliveries SET status = $2, reason = $3, updated_at = now(), attempts = attempts + 1,
       next_attempt_at = NULL
WHERE id = $1 AND status = 'queued'

-- name: mark-retry
-- A transient failure: the delivery stays queued, with one attempt more, the reason's code, and its
-- next attempt $2 seconds from now by the database's clock, the one batch-deliveries compares with.
UPDATE deliveries SET attempts = attempts + 1, reason = $3, updated_at = now(),
       next_attempt_at = now() + make_interval(secs => $2)
WHERE id = $1 AND status = 'queued'
RETURNING next_attempt_at

-- name: mark-skipped-many
UPDATE deliveries d SET status = 'skipped', reason = x.reason, updated_at = now(), next_attempt_at = NULL
FROM unnest($1::bigint[], $2::text[]) AS x (id, reason)
WHERE d.id = x.id AND d.status = 'queued'

-- name: bounce-suppress
INSERT INTO suppressions (channel, key, reason)
SELECT $2, CASE $2 WHEN 'email' THEN email_key ELSE phone_key END, 'bounce'
FROM members WHERE id = $1 AND CASE $2 WHEN 'email' THEN email_key ELSE phone_key END IS NOT NULL
ON CONFLICT (channel, key) DO NOTHING

-- name: members-by-phone
SELECT id FROM members WHERE phone = $1 ORDER BY id

-- name: delivery-report
-- A gateway's report on a message it took, as one statement: the event ($3, the gateway's id of
-- the message and the status) is noted in sms_hook_events, and the delivery changes only when the
-- event is new and the delivery's report state may move forward: from none or pending ($4 pending,
-- delivered or failed) while it is sent. delivered and failed are final: a late or replayed report
-- changes nothing, and a failure's reason ($5) is never overwritten by a success. A message that is
-- not (yet) known notes nothing, so the gateway's retry is processed. The UPDATE's condition is
-- checked again on the row a concurrent report changed (READ COMMITTED), so of two final reports
-- racing, the first wins. Events are kept 30 days; up to 100 expired ones are pruned on the way,
-- skipping those another hook is pruning. Looked up by the gateway's id (report_ref, see 0015).
WITH d AS (
  SELECT id FROM deliveries WHERE channel = $1 AND report_ref = $2
), seen AS (
  INSERT INTO sms_hook_events (event, keep_until)
  SELECT $3, now() + interval '30 days' WHERE EXISTS (SELECT 1 FROM d)
  ON CONFLICT (event) DO NOTHING
  RETURNING event
), pruned AS (
  DELETE FROM sms_hook_events WHERE event IN (
    SELECT event FROM sms_hook_events WHERE keep_until < now() AND event <> $3
    ORDER BY keep_until LIMIT 100 FOR UPDATE SKIP LOCKED)
), changed AS (
  UPDATE deliveries SET status = CASE WHEN $4 = 'failed' THEN 'failed' ELSE status END,
         report_status = $4,
         reason = CASE WHEN $4 = 'pending' THEN reason ELSE $5 END,
         updated_at = now()
  WHERE id IN (SELECT id FROM d) AND EXISTS (SELECT 1 FROM seen)
    AND status = 'sent' AND (report_status IS NULL OR report_status = 'pending')
)
SELECT EXISTS (SELECT 1 FROM d) AS found, EXISTS (SELECT 1 FROM seen) AS fresh

-- name: hook-event-seen
SELECT EXISTS (SELECT 1 FROM sms_hook_events WHERE event = $1)

-- name: record-hook-event
-- An inbound message processed: noted for a year, so that a replayed STOP cannot withdraw a
-- consent the member gave again since. Expired events are pruned as in delivery-report.
WITH pruned AS (
  DELETE FROM sms_hook_events WHERE event IN (
    SELECT event FROM sms_hook_events WHERE keep_until < now() AND event <> $1
    ORDER BY keep_until LIMIT 100 FOR UPDATE SKIP LOCKED)
)
INSERT INTO sms_hook_events (event, keep_until) VALUES ($1, now() + interval '1 year')
ON CONFLICT (event) DO NOTHING
