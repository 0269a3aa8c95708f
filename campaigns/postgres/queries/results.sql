-- name: run-results-run
SELECT id, status, scheduled_for, started_at, finished_at FROM runs WHERE id = $1

-- name: run-results-timeline
-- The run's sent deliveries per channel and bucket, summed from run_sends (0012: per second of
-- sent_at): bucket k holds those sent from $2 + k*$3 seconds for $3 seconds, k from 0 to $4, where
-- $2 is a whole second, so a second falls in one bucket whole. A delivery sent before $2 counts in
-- bucket 0, one sent after the last bucket (a message in flight when the run was cancelled) in
-- bucket $4.
SELECT channel,
       least(greatest(floor(extract(epoch FROM second - $2::timestamptz) / $3::bigint), 0), $4::bigint)::bigint AS bucket,
       sum(n)::bigint AS n
FROM run_sends
WHERE run_id = $1
GROUP BY 1, 2 HAVING sum(n) <> 0
ORDER BY 2, 1

-- name: run-results-failures
-- The run's failed deliveries per channel and reason, commonest first, from delivery_counts (0012
-- keeps a failure's reason).
SELECT channel, reason AS key, sum(n)::bigint AS n FROM delivery_counts
WHERE run_id = $1 AND status = 'failed'
GROUP BY channel, reason HAVING sum(n) <> 0
ORDER BY channel, n DESC, reason

-- name: run-results-withdrawals
-- Members who withdrew their own consent after this run's message on the channel, and before any
-- other run's message on it (the "last touch" rule of campaigns.RunResults): email by the
-- unsubscribe link, SMS by a STOP. The withdrawals since the run started come from their partial
-- index (consent_events_self_withdrawn, few), each member's message of the run and later messages
-- of other runs from deliveries_member_run (0015).
SELECT d.channel, count(DISTINCT d.member_id) AS n
FROM consent_events e
JOIN deliveries d ON d.run_id = $1 AND d.channel = e.channel AND d.member_id = e.member_id
 AND d.status = 'sent' AND d.sent_at <= e.recorded_at
WHERE e.status = 'withdrawn' AND e.source IN ('unsubscribe-link', 'sms-stop')
  AND e.source = CASE e.channel WHEN 'email' THEN 'unsubscribe-link' WHEN 'sms' THEN 'sms-stop' END
  AND e.recorded_at >= (SELECT started_at FROM runs WHERE id = $1)
  AND NOT EXISTS (
    SELECT 1 FROM deliveries o
    WHERE o.member_id = d.member_id AND o.channel = d.channel AND o.status = 'sent'
      AND o.run_id <> d.run_id AND o.sent_at > d.sent_at AND o.sent_at <= e.recorded_at)
GROUP BY d.channel

-- name: run-results-coupons
-- The run's coupon codes per channel and how many were redeemed, from coupon_counts (0012).
SELECT channel, sum(issued)::bigint AS issued, sum(redeemed)::bigint AS redeemed
FROM coupon_counts WHERE run_id = $1
GROUP BY channel
