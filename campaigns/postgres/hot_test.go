package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// Recording an email or a letter sent changes no indexed value of the ledger (0015): the update is
// HOT, with no new index entries. An SMS gets its gateway's id, which delivery reports look up, so
// its update is not; the report finds it by that id.
func TestMarkSentIsHOTExceptForSMS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.SchemaURL(t))
	pgtest.Must(t, "open", err)
	t.Cleanup(func() { s.Close() })
	_, err = s.Migrate(ctx)
	pgtest.Must(t, "migrate", err)
	db := s.DB()
	for _, q := range []string{
		`INSERT INTO campaigns (id, name, kind, spec) VALUES (1, 'c', 'newsletter', '{}')`,
		`INSERT INTO runs (id, campaign_id, scheduled_for, status) VALUES (1, 1, now(), 'running')`,
		`INSERT INTO deliveries (id, run_id, member_id, channel, batch) VALUES
			(1, 1, 1, 'email', 0), (2, 1, 2, 'email', 0), (3, 1, 3, 'postal', 0), (4, 1, 4, 'sms', 0)`,
	} {
		_, err := db.Exec(q)
		pgtest.Must(t, q, err)
	}
	now := time.Now().Format(time.RFC3339Nano)
	hot := func(ids []int64, refs []string) (updated, hotUpdated int64) {
		tx, err := db.Beginx()
		pgtest.Must(t, "begin", err)
		defer tx.Rollback()
		at := make([]string, len(ids))
		for i := range at {
			at[i] = now
		}
		// The backend's counts not yet reported (earlier transactions' too): read before and after.
		stats := func() (u, h int64) {
			pgtest.Must(t, "stats", tx.QueryRow(`SELECT pg_stat_get_xact_tuples_updated('deliveries'::regclass),
				pg_stat_get_xact_tuples_hot_updated('deliveries'::regclass)`).Scan(&u, &h))
			return u, h
		}
		u0, h0 := stats()
		_, err = tx.Exec(s.QueryText("mark-sent"), pq.Array(ids), pq.Array(at), pq.Array(refs), pq.Array(make([]int64, len(ids))))
		pgtest.Must(t, "mark-sent", err)
		u1, h1 := stats()
		pgtest.Must(t, "commit", tx.Commit())
		return u1 - u0, h1 - h0
	}
	if n, h := hot([]int64{1, 2, 3}, []string{"<d1.r1@x.example>", "<d2.r1@x.example>", "run1-batch0.pdf"}); n != 3 || h != 3 {
		t.Fatalf("two emails and a letter recorded sent: %d updates, %d of them HOT; want 3 and 3", n, h)
	}
	if n, h := hot([]int64{4}, []string{"SM123"}); n != 1 || h != 0 {
		t.Fatalf("an SMS recorded sent: %d updates, %d of them HOT; want 1 and 0 (its id is indexed)", n, h)
	}
	found, fresh, err := s.RecordDeliveryReport(ctx, "sms", "SM123", "test/SM123/delivered", "delivered", "")
	pgtest.Must(t, "report", err)
	if !found || !fresh {
		t.Fatalf("the report on SM123: found %v, fresh %v; want both", found, fresh)
	}
	// An email's Message-ID is not a gateway's id: a report naming it finds nothing.
	found, _, err = s.RecordDeliveryReport(ctx, "sms", "<d1.r1@x.example>", "test/d1/delivered", "delivered", "")
	pgtest.Must(t, "report", err)
	if found {
		t.Fatal("an SMS report found an email by its Message-ID")
	}
}
