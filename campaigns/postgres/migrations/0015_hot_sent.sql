-- 0015: recording a message sent writes as little as it can. Found by profiling bench/email
-- (pg_stat_statements and pg_stat_user_tables) for issue 11.
--
-- mark-sent was never a HOT update, although 0001 meant it to be: the index on provider_ref (SMS
-- delivery reports look a message up by the gateway's id) covers a column that every send
-- changes, also for email and letters, so each "sent" wrote a new entry into all four indexes of
-- the ledger. The reports now look up report_ref, a generated column that holds the gateway's id
-- for SMS and stays NULL on the other channels: an email or a letter recorded as sent changes no
-- indexed value, and its new row version stays on its page (fillfactor 80) without index entries.
-- Adding a stored column rewrites the table once, under an exclusive lock: on a large ledger, run
-- `dispatch migrate` in a quiet hour.
ALTER TABLE deliveries ADD COLUMN report_ref text
  GENERATED ALWAYS AS (CASE WHEN channel = 'sms' AND provider_ref <> '' THEN provider_ref END) STORED;
DROP INDEX deliveries_provider_ref;
CREATE INDEX deliveries_report_ref ON deliveries (report_ref) WHERE report_ref IS NOT NULL;

-- A coupon is only ever inserted from its delivery's row (issue-coupons joins it), and deliveries
-- are never deleted: the foreign key's check, a lookup per code issued, proved nothing.
ALTER TABLE coupons DROP CONSTRAINT coupons_delivery_id_fkey;

-- A worker reads its batch by deliveries_batch (run, channel, batch). deliveries_run_member began
-- with the same two columns, and while the ledger had no statistics yet (a new installation's first
-- campaigns, until autovacuum's first ANALYZE) the planner took either: reading a batch by the
-- other one went through every delivery of the run (32 ms a batch of 500 at 20,000 members, and
-- growing with the run). The unique key now leads with the member, which also serves the lookups of
-- a member's deliveries that deliveries_member served: one index fewer for every delivery selected.
CREATE UNIQUE INDEX deliveries_member_run ON deliveries (member_id, run_id, channel);
DROP INDEX deliveries_run_member;
DROP INDEX deliveries_member;
