-- name: run-results-run
SELECT id, status, scheduled_for, started_at, finished_at FROM runs WHERE id = $1

-- name: run-results-timeline
-- The run's sent deliveries per channel and bucket: bucket k holds those sent from $2 + k*$3 seconds
-- for $3 seconds, k from 0 to $4. A delivery sent before $2 counts in bucket 0, one sent after the
-- last bucket (a message in flight when the run was cancelled) in bucket $4. One pass over the run's
-- deliveries (deliveries_batch, run_id first): about 0.4 s for a million.
SELECT channel,
       least(greatest(floor(extract(epoch FROM sent_at - $2::timestamptz) / $3::bigint), 0), $4::bigint)::bigint AS bucket,
       count(*) AS n
FROM deliveries
WHERE run_id = $1 AND status = 'sent' AND sent_at IS NOT NULL
GROUP BY 1, 2
ORDER BY 2, 1

-- name: run-results-failures
-- The run's failed deliveries per channel and reason, commonest first.
SELECT channel, reason AS key, count(*) AS n FROM deliveries
WHERE run_id = $1 AND status = 'failed'
GROUP BY channel, reason
ORDER BY channel, n DESC, reason

-- name: run-results-withdrawals
-- Members who withdrew their own consent after this run's message on the channel, and before any
-- other run's message on it (the "last touch" rule of campaigns.RunResults): email by the
-- unsubscribe link, SMS by a STOP. The run's deliveries come through deliveries_batch, each member's
-- withdrawals through consent_events_member, and later messages of other runs through
-- deliveries_member.
SELECT d.channel, count(DISTINCT d.member_id) AS n
FROM deliveries d
JOIN consent_events e ON e.member_id = d.member_id AND e.channel = d.channel
 AND e.status = 'withdrawn' AND e.recorded_at >= d.sent_at
 AND e.source = CASE d.channel WHEN 'email' THEN 'unsubscribe-link' WHEN 'sms' THEN 'sms-stop' END
WHERE d.run_id = $1 AND d.status = 'sent' AND d.channel IN ('email', 'sms')
  AND NOT EXISTS (
    SELECT 1 FROM deliveries o
    WHERE o.member_id = d.member_id AND o.channel = d.channel AND o.status = 'sent'
      AND o.run_id <> d.run_id AND o.sent_at > d.sent_at AND o.sent_at <= e.recorded_at)
GROUP BY d.channel

-- name: run-results-coupons
-- The run's coupon codes per channel and how many were redeemed. coupons has no index on run_id:
-- the run's codes are found from its deliveries (deliveries_batch, then the unique delivery_id).
SELECT c.channel, count(*) AS issued, count(x.coupon_id) AS redeemed
FROM deliveries d
JOIN coupons c ON c.delivery_id = d.id
LEFT JOIN coupon_redemptions x ON x.coupon_id = c.id
WHERE d.run_id = $1
GROUP BY c.channel
