-- name: selection
-- The selection of one slice of the members: the members of the campaign's segment with ids in
-- ($2, $3], each with the campaign's channels, and whether they may be reached on each (member_reach,
-- the frequency cap, the strategy). It is not a statement of its own but the WITH block that begins
-- two: select-slice records what it chose (SelectRun), and audience-slice (queries/audience.sql)
-- counts it without recording anything (Audience), so that what the console shows before a campaign
-- is scheduled is what the scheduler then selects. The Go side composes them (Store.selection).
-- It ends with the CTE chosen: one row per member of the segment and channel tried, in columns
-- member_id, postal_code, ord (the channel's place in $8, from 1), channel, consent_event_id and
-- reason (NULL: the member may be reached on the channel; else the skip reason). Every member of the
-- segment has a row for the first channel. The slots, in the order selectionArgs gives them (the
-- statements that follow add theirs after $11):
--   $1  run id: deliveries of this run do not count towards the frequency cap; 0 when there is no
--       run yet (Audience), so every run's deliveries count
--   $2  slice: member id after (exclusive)
--   $3  slice: member id up to (inclusive)
--   $4  segment languages, text[]; NULL: any language
--   $5  segment postal code LIKE patterns ('00100', '00%'), text[]; NULL: any postal code
--   $6  segment purchased since, timestamptz; NULL: purchases of any time count
--   $7  segment min total spend in cents (of the purchases since $6), bigint; NULL: any spend
--       When $6 or $7 is given the member must have a purchase that counts; both NULL: no
--       purchase condition at all.
--   $8  channels in the spec's order, text[]
--   $9  frequency cap: most marketing deliveries per member and channel in the window; 0: no cap
--   $10 frequency cap: start of the window, timestamptz
--   $11 strategy first: true tries each member's channels only up to the first that may reach them
-- The plan: lib/pq sends the statements as unnamed one-shot statements, which PostgreSQL plans at
-- Bind time with the actual parameter values (a custom plan), so an absent condition's `NULL IS
-- NULL OR ...` folds away to true and a given one's `IS NULL` to false: the segment is a range scan
-- of members by id, and the purchases subquery is not even planned when neither $6 nor $7 is given.
-- (When one is, the subquery runs once per slice as a hashed SubPlan filter on members: the OR
-- around it keeps the planner from turning it into a semi-join, which it does before it folds
-- constants. Its hash table holds the slice's purchasers, and the planner hashes only what it
-- expects to fit in work_mem: a slice of 50,000 members, SelectOptions.SliceSize's default, does
-- with the default 4 MB; one of 500,000, the audience's part, needs about 16 MB (audience-settings
-- gives it 64 MB). A SubPlan that is not hashed is read again for every member.) Do not run these
-- statements through Store.stmt (a prepared statement may switch to a generic plan, in which every
-- optional condition stays in the plan), and do not run them under
-- plan_cache_mode = force_generic_plan.
WITH seg AS (
  SELECT m.id, m.postal_code FROM members m
  WHERE m.id > $2::bigint AND m.id <= $3::bigint
    AND ($4::text[] IS NULL OR m.language = ANY($4::text[]))
    AND ($5::text[] IS NULL OR m.postal_code LIKE ANY($5::text[]))
    AND (($6::timestamptz IS NULL AND $7::bigint IS NULL) OR m.id IN (
      -- Bounded to the slice's member ids, so that it reads only this slice's purchases.
      SELECT p.member_id FROM purchases p
      WHERE p.member_id > $2::bigint AND p.member_id <= $3::bigint
        AND ($6::timestamptz IS NULL OR p.purchased_at >= $6::timestamptz)
      GROUP BY p.member_id
      HAVING ($7::bigint IS NULL OR sum(p.amount_cents) >= $7::bigint)))
), capped AS (
  -- Marketing deliveries per member and channel inside the frequency cap's window.
  SELECT d.member_id, d.channel FROM deliveries d
  WHERE $9::int > 0 AND d.member_id > $2::bigint AND d.member_id <= $3::bigint
    AND d.channel = ANY($8::text[]) AND d.run_id <> $1::bigint
    AND d.status IN ('queued', 'sent') AND coalesce(d.sent_at, d.created_at) >= $10::timestamptz
  GROUP BY d.member_id, d.channel HAVING count(*) >= $9::int
), cand AS (
  SELECT s.id AS member_id, s.postal_code, c.ord, r.channel, r.consent_event_id,
         coalesce(r.reason, CASE WHEN k.member_id IS NOT NULL THEN 'frequency_cap' END) AS reason
  FROM seg s
  CROSS JOIN unnest($8::text[]) WITH ORDINALITY AS c (channel, ord)
  -- The slice's bounds again, on member_reach's own members: the planner does not carry a range
  -- from s.id over to r.member_id, and without it reads the register from its start (or all of
  -- it) for every slice.
  JOIN member_reach r ON r.member_id = s.id AND r.channel = c.channel
    AND r.member_id > $2::bigint AND r.member_id <= $3::bigint
  LEFT JOIN capped k ON k.member_id = s.id AND k.channel = c.channel
), ranked AS (
  SELECT cand.*, min(ord) FILTER (WHERE reason IS NULL) OVER (PARTITION BY member_id) AS first_ok
  FROM cand
), chosen AS (
  -- Strategy first: up to the first reachable channel; channels after it are not tried, so not counted.
  SELECT * FROM ranked WHERE NOT $11::boolean OR first_ok IS NULL OR ord <= first_ok
)

-- name: select-slice
-- One slice of a run's selection (SelectRun), after the selection's WITH block (query selection,
-- slots $1 to $11): each member chosen who may be reached on a channel gets one delivery on it,
-- numbered into batches; those left out are counted in run_skips by channel and reason. It returns
-- how many deliveries it inserted. Selecting a slice twice adds no delivery (ON CONFLICT DO
-- NOTHING). Its own slots:
--   $12 batch size (email, sms)
--   $13 print batch size (postal)
--   $14 batch base: first batch number of this slice
, ins AS (
  -- Batches number from $14; postal batches are in postal code order, for the printing house.
  INSERT INTO deliveries (run_id, member_id, channel, batch, consent_event_id)
  SELECT $1::bigint, member_id, channel, $14::int +
         (row_number() OVER (PARTITION BY channel
            ORDER BY CASE WHEN channel = 'postal' THEN postal_code END, member_id) - 1)
         / CASE WHEN channel = 'postal' THEN $13::int ELSE $12::int END,
         consent_event_id
  FROM chosen WHERE reason IS NULL
  ON CONFLICT (run_id, channel, member_id) DO NOTHING
  RETURNING 1
), skips AS (
  INSERT INTO run_skips (run_id, channel, reason, members)
  SELECT $1::bigint, channel, reason, count(*) FROM chosen WHERE reason IS NOT NULL GROUP BY channel, reason
  ON CONFLICT (run_id, channel, reason) DO UPDATE SET members = run_skips.members + EXCLUDED.members
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins) + 0 * (SELECT count(*) FROM skips)
