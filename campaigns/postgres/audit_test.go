package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// TestAuditListLimit: a limit keeps the newest entries that match, still oldest first, so that a
// page can show the latest of a long log without reading all of it.
func TestAuditListLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	for i := 1; i <= 5; i++ {
		a := campaigns.Audit{Actor: fmt.Sprintf("user%d", i%2), Action: campaigns.AuditUsersAdd}
		pgtest.Must(t, "audit", s.Audit(ctx, a.With("n", i)))
	}
	all, err := s.AuditList(ctx, campaigns.AuditFilter{})
	pgtest.Must(t, "list", err)
	last, err := s.AuditList(ctx, campaigns.AuditFilter{Limit: 2})
	pgtest.Must(t, "list", err)
	if len(all) != 5 || len(last) != 2 || last[0].ID != all[3].ID || last[1].ID != all[4].ID {
		t.Fatalf("limit 2 of %d: %+v", len(all), last)
	}
	odd, err := s.AuditList(ctx, campaigns.AuditFilter{Actor: "user1", Limit: 2})
	pgtest.Must(t, "list", err)
	if len(odd) != 2 || odd[0].ID != all[2].ID || odd[1].ID != all[4].ID {
		t.Errorf("user1's newest 2: %+v", odd)
	}
}
