package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/demodata"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

func TestSeedIsDeterministicAndRealistic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	var fingerprints []string
	for i := 0; i < 2; i++ {
		s := pgtest.New(t)
		res, err := s.SeedMembers(ctx, 2000, demodata.Source(7, now), campaigns.Audit{Actor: "seed", Action: campaigns.AuditMembersSeed})
		pgtest.Must(t, "seed", err)
		if res.Members != 2000 || res.Consents < 1500 || res.Purchases < 2000 {
			t.Fatalf("seed result %+v", res)
		}
		db := s.DB()
		if n := pgtest.Count(t, db, `SELECT count(*) FROM members`); n != 2000 {
			t.Fatalf("members = %d", n)
		}
		if n := pgtest.Count(t, db, `SELECT count(*) FROM purchases`); n != res.Purchases {
			t.Fatalf("purchases = %d, result said %d", n, res.Purchases)
		}
		// The derived state follows the seeded events; some of every kind of member exist.
		checks := map[string]string{
			"granted email":     `SELECT count(*) FROM current_consents WHERE channel = 'email' AND status = 'granted'`,
			"withdrawn sms":     `SELECT count(*) FROM current_consents WHERE channel = 'sms' AND status = 'withdrawn'`,
			"postal objections": `SELECT count(*) FROM current_consents WHERE channel = 'postal' AND status = 'withdrawn'`,
			"swedish speakers":  `SELECT count(*) FROM members WHERE language = 'sv'`,
			"names with åäö":    `SELECT count(*) FROM members WHERE first_name || last_name ~ '[åäöÅÄÖ]'`,
			"reachable by post": `SELECT count(*) FROM member_reach WHERE channel = 'postal' AND reason IS NULL`,
		}
		for what, q := range checks {
			if n := pgtest.Count(t, db, q); n < 10 {
				t.Errorf("%s: only %d", what, n)
			}
		}
		var fp string
		pgtest.Must(t, "fingerprint", db.Get(&fp, `SELECT md5(string_agg(external_id || first_name || coalesce(email, '') || street, ',' ORDER BY external_id)) FROM members`))
		fingerprints = append(fingerprints, fp)
		if _, err := s.SeedMembers(ctx, 10, demodata.Source(7, now), campaigns.Audit{Actor: "seed", Action: campaigns.AuditMembersSeed}); !errors.Is(err, campaigns.ErrConflict) {
			t.Fatalf("second seed into the same register: %v, want ErrConflict", err)
		}
		if n := pgtest.Count(t, db, `SELECT count(*) FROM members`); n != 2000 {
			t.Fatalf("refused seed left %d members", n)
		}
	}
	if fingerprints[0] != fingerprints[1] {
		t.Fatal("the same seed gave different members")
	}
}
