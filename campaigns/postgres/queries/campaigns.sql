-- name: insert-campaign
INSERT INTO campaigns (name, kind, spec, created_by) VALUES ($1, $2, $3, $4)
RETURNING id, name, kind, status, next_run_at, created_by, created_at, updated_at, spec::text AS spec

-- name: update-campaign
-- Only a draft is edited: a campaign that was scheduled has runs resting on its spec.
UPDATE campaigns SET name = $2, kind = $3, spec = $4, updated_at = now()
WHERE id = $1 AND status = 'draft'
RETURNING id, name, kind, status, next_run_at, created_by, created_at, updated_at, spec::text AS spec

-- name: campaign-by-id
SELECT id, name, kind, status, next_run_at, created_by, created_at, updated_at, spec::text AS spec
FROM campaigns WHERE id = $1

-- name: list-campaigns
SELECT id, name, kind, status, next_run_at, created_by, created_at, updated_at, spec::text AS spec
FROM campaigns ORDER BY id

-- name: schedule-campaign
UPDATE campaigns SET status = 'scheduled', next_run_at = $2, updated_at = now()
WHERE id = $1 AND status IN ('draft', 'scheduled', 'finished')
RETURNING id

-- name: pause-campaign
UPDATE campaigns SET status = 'paused', updated_at = now()
WHERE id = $1 AND status IN ('scheduled', 'running')
RETURNING id

-- name: pause-runs
UPDATE runs SET status = 'paused' WHERE campaign_id = $1 AND status IN ('selecting', 'running')

-- name: resume-campaign
-- A campaign with a run in progress goes back to running; one waiting for its next tick to scheduled.
UPDATE campaigns c SET updated_at = now(), status = CASE
    WHEN EXISTS (SELECT 1 FROM runs r WHERE r.campaign_id = c.id AND r.status = 'paused') THEN 'running'
    WHEN c.next_run_at IS NOT NULL THEN 'scheduled'
    ELSE 'finished' END
WHERE id = $1 AND status = 'paused'
RETURNING id

-- name: resume-runs
-- A run paused before its selection finished selects again (selection is idempotent).
UPDATE runs SET status = CASE WHEN selected_at IS NULL THEN 'selecting' ELSE 'running' END
WHERE campaign_id = $1 AND status = 'paused'

-- name: resume-batches
-- Batches that were given back while paused are enqueued again by the scheduler's next tick.
UPDATE batches b SET enqueued_at = NULL
FROM runs r WHERE r.id = b.run_id AND r.campaign_id = $1 AND b.done_at IS NULL

-- name: cancel-campaign
UPDATE campaigns SET status = 'cancelled', next_run_at = NULL, updated_at = now()
WHERE id = $1 AND status NOT IN ('finished', 'cancelled')
RETURNING id

-- name: cancel-deliveries
UPDATE deliveries d SET status = 'cancelled', reason = 'campaign cancelled', updated_at = now()
FROM runs r WHERE r.id = d.run_id AND r.campaign_id = $1 AND d.status = 'queued'

-- name: cancel-batches
UPDATE batches b SET done_at = now()
FROM runs r WHERE r.id = b.run_id AND r.campaign_id = $1 AND b.done_at IS NULL

-- name: cancel-runs
UPDATE runs SET status = 'cancelled', finished_at = now()
WHERE campaign_id = $1 AND status NOT IN ('finished', 'cancelled')

-- name: due-campaigns
-- SKIP LOCKED: two schedulers never hold the same due campaign; the unique (campaign_id,
-- scheduled_for) on runs is the second guard.
SELECT id, name, kind, status, next_run_at, created_by, created_at, updated_at, spec::text AS spec
FROM campaigns
WHERE status IN ('scheduled', 'running') AND next_run_at <= $1
ORDER BY next_run_at
FOR UPDATE SKIP LOCKED

-- name: insert-run
INSERT INTO runs (campaign_id, scheduled_for) VALUES ($1, $2)
ON CONFLICT (campaign_id, scheduled_for) DO NOTHING
RETURNING id

-- name: advance-campaign
UPDATE campaigns SET next_run_at = $2, status = 'running', updated_at = now() WHERE id = $1

-- name: runs-to-select
SELECT id FROM runs WHERE status = 'selecting' ORDER BY id

-- name: lock-run-for-selection
SELECT r.id, r.campaign_id, r.scheduled_for, r.selected_upto, r.slices, c.spec::text AS spec
FROM runs r JOIN campaigns c ON c.id = r.campaign_id
WHERE r.id = $1 AND r.status = 'selecting'
FOR UPDATE OF r SKIP LOCKED

-- name: next-slice
-- The last member id of the next slice of $2 members after $1; NULL when no member is left.
SELECT max(id) FROM (SELECT id FROM members WHERE id > $1 ORDER BY id LIMIT $2) s

-- name: insert-batches
INSERT INTO batches (run_id, channel, batch, size)
SELECT run_id, channel, batch, count(*) FROM deliveries WHERE run_id = $1 AND batch >= $2
GROUP BY run_id, channel, batch
ON CONFLICT (run_id, channel, batch) DO NOTHING

-- name: mark-slice-selected
UPDATE runs SET selected_upto = $2, slices = slices + 1 WHERE id = $1

-- name: mark-run-selected
UPDATE runs SET status = 'running', selected_at = now() WHERE id = $1

-- name: batches-to-enqueue
-- Batches never enqueued, and batches enqueued before $1 that are not done and not held by a
-- worker: their task may have been lost (Redis restarted, a task deleted from the dashboard).
-- Channels in $3 wait (SMS in quiet hours). A batch that waits for a retry and was not enqueued
-- since its retry time was set (enqueued_at < retry_at, or never) has no task on purpose: it is
-- left to batches-to-retry, which enqueues it when its retry is due, and not before.
SELECT b.run_id, b.channel, b.batch, b.size, b.enqueued_at, b.enqueues
FROM batches b JOIN runs r ON r.id = b.run_id
WHERE r.status IN ('selecting', 'running') AND b.done_at IS NULL
  AND (b.enqueued_at IS NULL OR b.enqueued_at < $1)
  AND (b.retry_at IS NULL OR b.enqueued_at >= b.retry_at)
  AND (b.lease_until IS NULL OR b.lease_until < now())
  AND NOT (b.channel = ANY($3::text[]))
ORDER BY b.enqueued_at NULLS FIRST, b.run_id, b.channel, b.batch
LIMIT $2

-- name: batches-to-retry
-- Batches whose due deliveries a worker went through, leaving some to wait for a retry
-- (release-batch set retry_at), now that the first of those retries is due and the batch was not
-- enqueued since. Otherwise as batches-to-enqueue: the run sends, no worker holds the batch, and
-- channels in $2 wait. retry_at and next_attempt_at are the database's clock, so now() is too.
SELECT b.run_id, b.channel, b.batch, b.size, b.enqueued_at, b.enqueues
FROM batches b JOIN runs r ON r.id = b.run_id
WHERE r.status IN ('selecting', 'running') AND b.done_at IS NULL
  AND b.retry_at <= now() AND (b.enqueued_at IS NULL OR b.enqueued_at < b.retry_at)
  AND (b.lease_until IS NULL OR b.lease_until < now())
  AND NOT (b.channel = ANY($2::text[]))
ORDER BY b.retry_at, b.run_id, b.channel, b.batch
LIMIT $1

-- name: mark-enqueued
-- enqueues is the generation of the batch's current task (see worker.TaskID); 0: unchanged.
UPDATE batches b SET enqueued_at = now(), enqueues = greatest(b.enqueues, v.generation)
FROM unnest($1::bigint[], $2::text[], $3::int[], $4::int[]) AS v(run_id, channel, batch, generation)
WHERE b.run_id = v.run_id AND b.channel = v.channel AND b.batch = v.batch

-- name: finish-runs
-- A run is finished when every batch is done; its campaign goes back to scheduled when it recurs.
-- A batch with a delivery still queued (one waiting for a retry included) is never done
-- (release-batch), so no run finishes while a delivery of it may still be sent. $1: the run to look
-- at (the worker that completed one of its batches), or 0 for every run (the scheduler).
WITH done AS (
  UPDATE runs r SET status = 'finished', finished_at = now()
  WHERE r.status = 'running' AND ($1::bigint = 0 OR r.id = $1)
    AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.run_id = r.id AND b.done_at IS NULL)
  RETURNING r.id, r.campaign_id
), camp AS (
  UPDATE campaigns c SET status = CASE WHEN c.next_run_at IS NULL THEN 'finished' ELSE 'scheduled' END,
                         updated_at = now()
  FROM done
  WHERE c.id = done.campaign_id AND c.status = 'running'
    AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.campaign_id = c.id AND o.id <> done.id
                    AND o.status IN ('selecting', 'running'))
)
SELECT id FROM done

-- name: run-skip-counts
SELECT channel, reason AS key, members AS n FROM run_skips WHERE run_id = $1

-- name: campaign-members-reached
-- Members (still in the register) who were sent the campaign on any channel, in any run.
SELECT count(DISTINCT d.member_id) FROM deliveries d JOIN runs r ON r.id = d.run_id
WHERE r.campaign_id = $1 AND d.status = 'sent'

-- name: member-reach
-- Whether the member may be reached on the channel now, by rule 2 of the register (the member_reach
-- view the selection and the workers use): NULL when they may, else the reason.
SELECT reason FROM member_reach WHERE member_id = $1 AND channel = $2

-- name: campaign-run
-- The run of a campaign by id, or its latest when $2 is 0.
SELECT id FROM runs WHERE campaign_id = $1 AND ($2 = 0 OR id = $2)
ORDER BY scheduled_for DESC, id DESC LIMIT 1

-- name: campaign-runs
-- Every run of a campaign, newest first, with what it sent: from the counters (0011), not the
-- deliveries.
SELECT r.id, r.status, r.scheduled_for, r.started_at, r.finished_at,
       coalesce(sum(c.n) FILTER (WHERE c.status = 'sent'), 0) AS sent,
       coalesce(sum(c.n) FILTER (WHERE c.status = 'failed'), 0) AS failed
FROM runs r LEFT JOIN delivery_counts c ON c.run_id = r.id
WHERE r.campaign_id = $1
GROUP BY r.id ORDER BY r.scheduled_for DESC, r.id DESC
