-- 0014: the counters' stripe is the writing connection's, not the delivery's batch or id. Since
-- issue 11 one statement of a worker records the messages sent by all its batches (a group
-- commit), and a chunk's coupons were spread over up to 16 stripes by their delivery ids: each
-- statement updated many counter rows, and the statements of different connections waited for
-- each other on them (the trigger functions took 1 to 2 ms a call in bench/email, most of
-- PostgreSQL's time). By the backend's process id a statement updates one row per run, channel
-- and state, and two connections share a row only when their pids agree modulo 16. The rule of
-- 0011 holds: the selection, the only inserter of deliveries, counts on stripe -1 and never waits
-- for another writer's row; every other writer takes its rows in key order in one statement.
-- Nothing is recounted: the counters are sums over the stripes, whatever the stripe of a change.

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
             (pg_backend_pid() % 16)::smallint AS stripe, -1 AS n
      FROM old_rows
      UNION ALL
      SELECT run_id, channel, status, CASE WHEN status IN ('skipped', 'failed') THEN reason ELSE '' END,
             (pg_backend_pid() % 16)::smallint, 1
      FROM new_rows
    ) d
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (run_id, channel, status, reason, stripe) DO UPDATE SET n = c.n + EXCLUDED.n;
    INSERT INTO run_sends AS s (run_id, channel, second, stripe, n)
    SELECT run_id, channel, second, stripe, sum(n)
    FROM (
      SELECT run_id, channel, date_trunc('second', sent_at) AS second, (pg_backend_pid() % 16)::smallint AS stripe, -1 AS n
      FROM old_rows WHERE status = 'sent' AND sent_at IS NOT NULL
      UNION ALL
      SELECT run_id, channel, date_trunc('second', sent_at), (pg_backend_pid() % 16)::smallint, 1
      FROM new_rows WHERE status = 'sent' AND sent_at IS NOT NULL
    ) d
    GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (run_id, channel, second, stripe) DO UPDATE SET n = s.n + EXCLUDED.n;
  ELSE
    INSERT INTO delivery_counts AS c (run_id, channel, status, reason, stripe, n)
    SELECT run_id, channel, status, CASE WHEN status IN ('skipped', 'failed') THEN reason ELSE '' END,
           (pg_backend_pid() % 16)::smallint, -count(*)
    FROM old_rows
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (run_id, channel, status, reason, stripe) DO UPDATE SET n = c.n + EXCLUDED.n;
    INSERT INTO run_sends AS s (run_id, channel, second, stripe, n)
    SELECT run_id, channel, date_trunc('second', sent_at), (pg_backend_pid() % 16)::smallint, -count(*)
    FROM old_rows WHERE status = 'sent' AND sent_at IS NOT NULL
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (run_id, channel, second, stripe) DO UPDATE SET n = s.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION coupon_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'coupons' THEN
    INSERT INTO coupon_counts AS c (run_id, channel, stripe, issued, redeemed)
    SELECT run_id, channel, (pg_backend_pid() % 16)::smallint, count(*), 0
    FROM new_rows
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (run_id, channel, stripe) DO UPDATE SET issued = c.issued + EXCLUDED.issued;
  ELSE
    INSERT INTO coupon_counts AS c (run_id, channel, stripe, issued, redeemed)
    SELECT k.run_id, k.channel, (pg_backend_pid() % 16)::smallint, 0, count(*)
    FROM new_rows x JOIN coupons k ON k.id = x.coupon_id
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (run_id, channel, stripe) DO UPDATE SET redeemed = c.redeemed + EXCLUDED.redeemed;
  END IF;
  RETURN NULL;
END
$$;
