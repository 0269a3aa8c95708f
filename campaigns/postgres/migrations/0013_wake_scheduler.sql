-- 0013: the scheduler is woken the moment there is something for it to do, instead of at its next
-- pass (every 2 s by default): a campaign scheduled "now" starts at once, a resumed run's batches
-- are enqueued at once. Every change of a campaign's status or next run, and of a run's status,
-- notifies the channel dispatch_scheduler with the schema's name as the payload (the schema is
-- the installation: tests run many in one database); the scheduler LISTENs on it (postgres.Listen)
-- and keeps its timer as the fallback for a notification lost with a dropped connection.
-- PostgreSQL sends the notifications of a transaction when it commits, and folds those with the
-- same payload into one: a selection's thousand batches wake the scheduler once. The scheduler's
-- own changes (a run started, finished) wake it too: one more pass, which changes nothing.
CREATE FUNCTION wake_scheduler() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('dispatch_scheduler', current_schema());
  RETURN NULL;
END
$$;

CREATE TRIGGER campaigns_wake_insert AFTER INSERT ON campaigns
  FOR EACH ROW EXECUTE FUNCTION wake_scheduler();
CREATE TRIGGER campaigns_wake_update AFTER UPDATE OF status, next_run_at ON campaigns
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.next_run_at IS DISTINCT FROM NEW.next_run_at)
  EXECUTE FUNCTION wake_scheduler();
CREATE TRIGGER runs_wake_insert AFTER INSERT ON runs
  FOR EACH ROW EXECUTE FUNCTION wake_scheduler();
CREATE TRIGGER runs_wake_update AFTER UPDATE OF status ON runs
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION wake_scheduler();
