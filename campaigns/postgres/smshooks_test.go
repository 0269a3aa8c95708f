package postgres_test

import (
	"context"
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// TestMigrationSMSHooks: 0007 gives the reports recorded before it their report state, and puts
// back the reason of a failed SMS that a later "delivered" had overwritten; a late failure then
// leaves a delivered SMS alone.
func TestMigrationSMSHooks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.SchemaURL(t))
	pgtest.Must(t, "open", err)
	t.Cleanup(func() { s.Close() })
	migs, err := postgres.Migrations()
	pgtest.Must(t, "migrations", err)
	db := s.DB()
	_, err = db.Exec(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
	pgtest.Must(t, "schema_migrations", err)
	for _, m := range migs {
		if m.Version >= 7 {
			break
		}
		_, err := db.Exec(m.SQL)
		pgtest.Must(t, m.Name, err)
		_, err = db.Exec(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
		pgtest.Must(t, m.Name, err)
	}
	for _, q := range []string{
		`INSERT INTO campaigns (id, name, kind, spec) VALUES (1, 'c', 'newsletter', '{}')`,
		`INSERT INTO runs (id, campaign_id, scheduled_for, status) VALUES (1, 1, now(), 'finished')`,
		`INSERT INTO deliveries (run_id, member_id, channel, batch, status, provider_ref, reason) VALUES
			(1, 1, 'sms', 0, 'sent', 'SM-DELIVERED', 'delivery report: delivered'),
			(1, 2, 'sms', 0, 'sent', 'SM-ENROUTE', 'delivery report: sent'),
			(1, 3, 'sms', 0, 'failed', 'SM-FAILED', 'delivery report: undelivered'),
			(1, 4, 'sms', 0, 'failed', 'SM-OVERWRITTEN', 'delivery report: delivered'),
			(1, 5, 'sms', 0, 'sent', 'SM-NONE', ''),
			(1, 6, 'sms', 0, 'failed', '', 'sms twilio HTTP 400 code 21211'),
			(1, 7, 'email', 0, 'sent', '', '')`,
	} {
		_, err := db.Exec(q)
		pgtest.Must(t, q, err)
	}
	applied, err := s.Migrate(ctx)
	pgtest.Must(t, "migrate", err)
	if len(applied) == 0 || applied[0] != "0007_sms_hooks" {
		t.Fatalf("applied %v, want 0007_sms_hooks first", applied)
	}
	want := map[int64]string{
		1: "sent|delivery report: delivered|delivered",
		2: "sent|delivery report: sent|pending",
		3: "failed|delivery report: undelivered|failed",
		4: "failed|delivery report: failed|failed",
		5: "sent||",
		6: "failed|sms twilio HTTP 400 code 21211|",
		7: "sent||",
	}
	for member, w := range want {
		var got string
		pgtest.Must(t, "row", db.Get(&got, `SELECT status || '|' || reason || '|' || coalesce(report_status, '') FROM deliveries WHERE member_id = $1`, member))
		if got != w {
			t.Errorf("member %d's delivery: %q, want %q", member, got, w)
		}
	}
	// A late failure leaves the SMS delivered before the migration alone.
	found, fresh, err := s.RecordDeliveryReport(ctx, campaigns.SMS, "SM-DELIVERED", "twilio/status/SM-DELIVERED/failed", "failed", "delivery report: failed")
	if err != nil || !found || !fresh {
		t.Fatalf("report: %v %v %v", found, fresh, err)
	}
	var got string
	pgtest.Must(t, "row", db.Get(&got, `SELECT status || '|' || reason FROM deliveries WHERE member_id = 1`))
	if got != "sent|delivery report: delivered" {
		t.Errorf("a late failure made %q", got)
	}
	// The check holds for new rows.
	if _, err := db.Exec(`UPDATE deliveries SET report_status = 'bogus' WHERE member_id = 5`); err == nil {
		t.Error("report_status took a value outside the check")
	}
}

// TestSMSHookEventsArePruned: the events of the hooks are kept for their time only, and a few
// expired ones are pruned by each hook that notes one.
func TestSMSHookEventsArePruned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	db := s.DB()
	_, err := db.Exec(`INSERT INTO sms_hook_events (event, seen_at, keep_until)
		SELECT 'twilio/status/SM' || i || '/delivered', now() - interval '40 days', now() - interval '10 days'
		FROM generate_series(1, 150) i`)
	pgtest.Must(t, "old events", err)
	// An inbound message: noted for a year, 100 expired events pruned on the way.
	pgtest.Must(t, "record", s.RecordHookEvent(ctx, "twilio/inbound/SM1"))
	pgtest.Must(t, "record again", s.RecordHookEvent(ctx, "twilio/inbound/SM1"))
	if seen, err := s.HookEventSeen(ctx, "twilio/inbound/SM1"); err != nil || !seen {
		t.Fatalf("seen: %v %v", seen, err)
	}
	if seen, err := s.HookEventSeen(ctx, "twilio/inbound/SM2"); err != nil || seen {
		t.Fatalf("an event never noted is seen: %v %v", seen, err)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM sms_hook_events WHERE event = 'twilio/inbound/SM1' AND keep_until > now() + interval '360 days'`); n != 1 {
		t.Errorf("the inbound event is not kept for a year")
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM sms_hook_events WHERE keep_until < now()`); n != 0 {
		t.Errorf("%d expired events left after two notes, want 0", n)
	}
	// A delivery report on an unknown message notes nothing; on a known one, for 30 days.
	found, fresh, err := s.RecordDeliveryReport(ctx, campaigns.SMS, "SM-UNKNOWN", "twilio/status/SM-UNKNOWN/delivered", "delivered", "delivery report: delivered")
	if err != nil || found || fresh {
		t.Fatalf("unknown message: %v %v %v", found, fresh, err)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM sms_hook_events WHERE event LIKE '%SM-UNKNOWN%'`); n != 0 {
		t.Error("a report on an unknown message was noted: the gateway's retry would be a replay")
	}
	if _, _, err := s.RecordDeliveryReport(ctx, campaigns.SMS, "SM1", "e", "bogus", ""); err == nil {
		t.Error("an outcome outside pending, delivered, failed was taken")
	}
}
