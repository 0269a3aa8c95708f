-- name: audience-slice
-- The audience of one slice of the members (Store.Audience), after the selection's WITH block
-- (query selection in selection.sql, slots $1 to $11, $1 being 0: there is no run yet): what
-- select-slice would record, counted instead. One row per channel tried (ord, its place in $8, and
-- channel) and reason (NULL: the members who would get a delivery on it; else those who would be
-- counted in run_skips for it), and one more row with ord 0 counting the slice's members in the
-- register, segment or not. No slot of its own.
SELECT ord, channel, reason, count(*) AS n FROM chosen GROUP BY ord, channel, reason
UNION ALL
SELECT 0, '', NULL, count(*) FROM members WHERE id > $2::bigint AND id <= $3::bigint

-- name: audience-settings
-- How the planner is to count a part of the register (audience-slice over hundreds of thousands of
-- members), for the transaction. The part, its members in member_reach and their consents all come
-- in member id order, so merge joins read each once; left to itself the planner hashes the whole of
-- current_consents. Measured over 1,000,000 members: a newsletter on every channel took 2.4 s of
-- PostgreSQL's CPU with these settings, 3.0 s without (but the strategy first with a frequency cap
-- 7.9 s, against 7.0 s when the deliveries counted for the cap may be hashed). No parallel workers:
-- the parts are the parallelism, and a Gather would evaluate member_reach's rules in its leader
-- alone. work_mem holds the purchase condition's hashed SubPlan (queries/selection.sql) for a part
-- of audiencePartSize members.
SELECT set_config('enable_hashjoin', 'off', true), set_config('max_parallel_workers_per_gather', '0', true),
       set_config('work_mem', '64MB', true)

-- name: member-id-histogram
-- The planner's statistics of members: about how many rows it holds (-1 before it is first analysed)
-- and the bounds of its histogram of members.id (NULL without one), ids that cut an equal-frequency
-- sample of the register into about 100 parts of as many members.
SELECT c.reltuples::bigint AS members, s.histogram_bounds::text::bigint[] AS bounds
FROM pg_class c
LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = 'members' AND s.attname = 'id'
WHERE c.oid = 'members'::regclass

-- name: member-id-range
SELECT min(id), max(id) FROM members

-- name: run-counts
-- A run's deliveries per channel, state and skip reason (reason is '' but for skipped), summed over
-- delivery_counts' stripes (migration 0011: the triggers on deliveries keep them), and beside them
-- the members the selection left out, by reason (run_skips), with the state 'selection'. A few
-- hundred rows at most, whatever the size of the run.
SELECT channel, status, reason, sum(n)::bigint AS n FROM delivery_counts WHERE run_id = $1
GROUP BY channel, status, reason HAVING sum(n) <> 0
UNION ALL
SELECT channel, 'selection', reason, members FROM run_skips WHERE run_id = $1

-- name: latest-run-counts
-- run-counts for the latest run of every campaign (the run campaign-run gives for $2 = 0), in one
-- statement for the campaign list, with each campaign's status and a row with the state '' for each
-- of its channels. A campaign without a run has only those; one that has none of these rows at all
-- (no channel in an unvalidated spec, no run) has one with NULL channel.
WITH latest AS (
  SELECT DISTINCT ON (campaign_id) campaign_id, id FROM runs
  ORDER BY campaign_id, scheduled_for DESC, id DESC
)
SELECT c.id AS campaign_id, c.status AS campaign_status, coalesce(l.id, 0) AS run_id,
       k.channel, coalesce(k.status, '') AS status, coalesce(k.reason, '') AS reason, coalesce(k.n, 0) AS n
FROM campaigns c
LEFT JOIN latest l ON l.campaign_id = c.id
LEFT JOIN LATERAL (
  SELECT ch, '', '', 0::bigint
  FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(c.spec -> 'channels') = 'array' THEN c.spec -> 'channels' END) AS ch
  UNION ALL
  SELECT channel, status, reason, sum(n)::bigint FROM delivery_counts WHERE run_id = l.id
  GROUP BY channel, status, reason HAVING sum(n) <> 0
  UNION ALL
  SELECT channel, 'selection', reason, members FROM run_skips WHERE run_id = l.id
) AS k (channel, status, reason, n) ON true
