-- 0012: a run's results are read from counters too (the console's results page, under 100 ms for a
-- run over a million members; counting the run's deliveries took 0.7 s). Three more things are
-- kept by triggers, in the statement that changes the ledger, as 0011 keeps the states:
--   - delivery_counts now keeps a failed delivery's reason as it keeps a skipped one's, so that the
--     failures by reason are summed from it;
--   - run_sends counts the deliveries sent per run, channel and second of sent_at (and stripe, as in
--     0011), from which the results' timeline sums its buckets: at most one row per second of a
--     run's sending, channel and stripe;
--   - coupon_counts counts the coupons issued and redeemed per run and channel.
-- The withdrawals a run led to are found from the few self-service withdrawals since the run
-- started (a partial index) rather than from the run's deliveries.

CREATE TABLE run_sends (
  run_id  bigint NOT NULL,
  channel text NOT NULL,
  second  timestamptz NOT NULL,
  stripe  smallint NOT NULL,
  n       bigint NOT NULL,
  PRIMARY KEY (run_id, channel, second, stripe)
) WITH (fillfactor = 50);

CREATE TABLE coupon_counts (
  run_id   bigint NOT NULL,
  channel  text NOT NULL,
  stripe   smallint NOT NULL,
  issued   bigint NOT NULL,
  redeemed bigint NOT NULL,
  PRIMARY KEY (run_id, channel, stripe)
) WITH (fillfactor = 50);

-- delivery_counts_add as in 0011, with a failed delivery's reason kept, and run_sends kept beside.
CREATE OR REPLACE FUNCTION delivery_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO delivery_counts AS c (run_id, channel, status, reason, stripe, n)
    SELECT run_id, channel, status, CASE WHEN status IN ('skipped', 'failed') THEN reason ELSE '' END, -1, count(*)
    FROM new_rows
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (run_id, channel, status, reason, stripe) DO UPDATE SET n = c.n + EXCLUDED.n;
    INSERT INTO run_sends AS s (run_id, channel, second, stripe, n)
    SELECT run_id, channel, date_trunc('second', sent_at), -1, count(*)
    FROM new_rows WHERE status = 'sent' AND sent_at IS NOT NULL
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (run_id, channel, second, stripe) DO UPDATE SET n = s.n + EXCLUDED.n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO delivery_counts AS c (run_id, channel, status, reason, stripe, n)
    SELECT run_id, channel, status, reason, stripe, sum(n)
    FROM (
      SELECT run_id, channel, status, CASE WHEN status IN ('skipped', 'failed') THEN reason ELSE '' END AS reason,
             (batch % 16)::smallint AS stripe, -1 AS n
      FROM old_rows
      UNION ALL
      SELECT run_id, channel, status, CASE WHEN status IN ('skipped', 'failed') THEN reason ELSE '' END,
             (batch % 16)::smallint, 1
      FROM new_rows
    ) d
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (run_id, channel, status, reason, stripe) DO UPDATE SET n = c.n + EXCLUDED.n;
    INSERT INTO run_sends AS s (run_id, channel, second, stripe, n)
    SELECT run_id, channel, second, stripe, sum(n)
    FROM (
      SELECT run_id, channel, date_trunc('second', sent_at) AS second, (batch % 16)::smallint AS stripe, -1 AS n
      FROM old_rows WHERE status = 'sent' AND sent_at IS NOT NULL
      UNION ALL
      SELECT run_id, channel, date_trunc('second', sent_at), (batch % 16)::smallint, 1
      FROM new_rows WHERE status = 'sent' AND sent_at IS NOT NULL
    ) d
    GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (run_id, channel, second, stripe) DO UPDATE SET n = s.n + EXCLUDED.n;
  ELSE
    INSERT INTO delivery_counts AS c (run_id, channel, status, reason, stripe, n)
    SELECT run_id, channel, status, CASE WHEN status IN ('skipped', 'failed') THEN reason ELSE '' END,
           (batch % 16)::smallint, -count(*)
    FROM old_rows
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (run_id, channel, status, reason, stripe) DO UPDATE SET n = c.n + EXCLUDED.n;
    INSERT INTO run_sends AS s (run_id, channel, second, stripe, n)
    SELECT run_id, channel, date_trunc('second', sent_at), (batch % 16)::smallint, -count(*)
    FROM old_rows WHERE status = 'sent' AND sent_at IS NOT NULL
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (run_id, channel, second, stripe) DO UPDATE SET n = s.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END
$$;

-- coupon_counts_add: a coupon issued counts on its run and channel (the stripe by its delivery, as
-- the worker's chunks are), a redemption on its coupon's. Neither table is ever deleted from (the
-- coupon ledger is kept, erasure included), so inserts are all there is to count.
CREATE FUNCTION coupon_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'coupons' THEN
    INSERT INTO coupon_counts AS c (run_id, channel, stripe, issued, redeemed)
    SELECT run_id, channel, (delivery_id % 16)::smallint, count(*), 0
    FROM new_rows
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (run_id, channel, stripe) DO UPDATE SET issued = c.issued + EXCLUDED.issued;
  ELSE
    INSERT INTO coupon_counts AS c (run_id, channel, stripe, issued, redeemed)
    SELECT k.run_id, k.channel, (k.delivery_id % 16)::smallint, 0, count(*)
    FROM new_rows x JOIN coupons k ON k.id = x.coupon_id
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (run_id, channel, stripe) DO UPDATE SET redeemed = c.redeemed + EXCLUDED.redeemed;
  END IF;
  RETURN NULL;
END
$$;

-- Creating the triggers locks the tables against writes until this migration commits (as in 0011),
-- so the counts below miss nothing and count nothing twice.
CREATE TRIGGER coupon_counts_issue AFTER INSERT ON coupons
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION coupon_counts_add();
CREATE TRIGGER coupon_counts_redeem AFTER INSERT ON coupon_redemptions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION coupon_counts_add();
LOCK TABLE deliveries IN SHARE ROW EXCLUSIVE MODE;

-- Failed deliveries counted by 0011 without their reason are counted again with it.
DELETE FROM delivery_counts WHERE status = 'failed';
INSERT INTO delivery_counts (run_id, channel, status, reason, stripe, n)
SELECT run_id, channel, status, reason, -1, count(*) FROM deliveries WHERE status = 'failed' GROUP BY 1, 2, 3, 4;

INSERT INTO run_sends (run_id, channel, second, stripe, n)
SELECT run_id, channel, date_trunc('second', sent_at), -1, count(*)
FROM deliveries WHERE status = 'sent' AND sent_at IS NOT NULL GROUP BY 1, 2, 3;

INSERT INTO coupon_counts (run_id, channel, stripe, issued, redeemed)
SELECT k.run_id, k.channel, -1, count(*), count(x.coupon_id)
FROM coupons k LEFT JOIN coupon_redemptions x ON x.coupon_id = k.id GROUP BY 1, 2;

-- The self-service withdrawals (unsubscribe link, SMS STOP), by time: the few a run's results look at.
CREATE INDEX consent_events_self_withdrawn ON consent_events (recorded_at)
  WHERE status = 'withdrawn' AND source IN ('unsubscribe-link', 'sms-stop');
