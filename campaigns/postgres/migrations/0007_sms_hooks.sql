-- 0007: the SMS gateway's callbacks are verified, replays change nothing, and a delivery's report
-- state only moves forward.
--
-- sms_hook_events holds the callbacks already processed, by the gateway's id of the event:
-- "twilio/status/SM…/delivered", "gatewayapi/inbound/1234". A callback whose event is here is
-- acknowledged and changes nothing. Rows are kept until keep_until (delivery reports 30 days,
-- inbound messages a year: see queries/worker.sql) and pruned a few at a time by the hooks
-- themselves. The ids are the gateway's, never a number or a text.
CREATE TABLE sms_hook_events (
  event      text PRIMARY KEY,
  seen_at    timestamptz NOT NULL DEFAULT now(),
  keep_until timestamptz NOT NULL
);
CREATE INDEX sms_hook_events_keep_until ON sms_hook_events (keep_until);

-- report_status is what the gateway's delivery reports said of an SMS delivery: NULL (no report),
-- pending (on its way: queued, sent, enroute…), then delivered or failed, both final. A report
-- changes a delivery only while it is sent and its report_status is NULL or pending (query
-- delivery-report): a late or replayed report never turns a delivered SMS into a failed one, nor a
-- failed one back. The column is nullable without a default (no rewrite) and no index covers it:
-- the status updates of deliveries stay HOT (see 0001). The check is NOT VALID: the existing rows
-- are all NULL, and validating them would scan the table under this migration's lock.
ALTER TABLE deliveries ADD COLUMN report_status text;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_report_status
  CHECK (report_status IN ('pending', 'delivered', 'failed')) NOT VALID;

-- The reports recorded before kept their outcome only in the reason ("delivery report: …"). A
-- failed delivery whose reason names a success is what a later "delivered" did to a failed one
-- (the report that failed it is lost): its reason says failed again.
UPDATE deliveries SET report_status = CASE
    WHEN status = 'failed' THEN 'failed'
    WHEN reason IN ('delivery report: delivered', 'delivery report: read') THEN 'delivered'
    ELSE 'pending' END,
  reason = CASE
    WHEN status = 'failed' AND reason IN ('delivery report: delivered', 'delivery report: read')
      THEN 'delivery report: failed'
    ELSE reason END
WHERE channel = 'sms' AND status IN ('sent', 'failed') AND reason LIKE 'delivery report: %';
