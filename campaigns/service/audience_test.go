package service_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

func TestAudienceAndProgress(t *testing.T) {
	t.Parallel()
	svc, s, _ := newService(t)
	ctx := context.Background()
	marketer := campaigns.User{Name: "maija", Role: campaigns.RoleMarketer}
	ops := campaigns.User{Name: "olli", Role: campaigns.RoleOps}
	privacy := campaigns.User{Name: "pirjo", Role: campaigns.RolePrivacy}
	admin := campaigns.User{Name: "aada", Role: campaigns.RoleAdmin}

	_, err := svc.ImportMembers(ctx, privacy, strings.NewReader(members+
		"A2,Bertta,Laine,,0401112223,Katu 2,00100,HELSINKI,FI,fi,,no,yes\n"), "m.csv", campaigns.SourceImport)
	pgtest.Must(t, "import", err)
	c, err := svc.CreateCampaign(ctx, marketer, &campaigns.Spec{Name: "Audience", Kind: campaigns.KindNewsletter,
		Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal}})
	pgtest.Must(t, "create", err)

	// A1 may be reached everywhere; A2 has no email, withdrew SMS and objects to post.
	want := campaigns.Audience{CampaignID: c.ID, Members: 2, Segment: 2, Channels: map[campaigns.Channel]campaigns.ChannelAudience{
		campaigns.Email:  {Reachable: 1, Skipped: map[campaigns.SkipReason]int64{campaigns.SkipNoAddress: 1}},
		campaigns.SMS:    {Reachable: 1, Skipped: map[campaigns.SkipReason]int64{campaigns.SkipNoConsent: 1}},
		campaigns.Postal: {Reachable: 1, Skipped: map[campaigns.SkipReason]int64{campaigns.SkipObjected: 1}},
	}}
	for _, u := range []campaigns.User{marketer, admin} {
		a, err := svc.Audience(ctx, u, c.ID)
		pgtest.Must(t, "audience", err)
		if !reflect.DeepEqual(a, want) {
			t.Errorf("audience for %s: %+v\nwant %+v", u.Role, a, want)
		}
	}
	if _, err := svc.Audience(ctx, ops, c.ID); !errors.Is(err, campaigns.ErrForbidden) {
		t.Errorf("ops counts an audience: %v, want ErrForbidden", err)
	}
	if _, err := svc.Audience(ctx, marketer, c.ID+1); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("audience of an unknown campaign: %v, want ErrNotFound", err)
	}
	// Counting is not audited: it shows counts only.
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM audit_log WHERE details->>'campaign_id' = $1::text AND action NOT IN ('campaigns.create')`, c.ID); n != 0 {
		t.Errorf("%d audit entries after counting the audience", n)
	}

	for _, u := range []campaigns.User{marketer, ops, admin} {
		p, err := svc.Progress(ctx, u)
		pgtest.Must(t, "progress", err)
		st, err := svc.Stats(ctx, u, c.ID)
		pgtest.Must(t, "stats", err)
		if len(p) != 1 || !reflect.DeepEqual(p[c.ID], st) {
			t.Errorf("progress for %s: %+v, want the campaign's stats %+v", u.Role, p, st)
		}
	}
	if _, err := svc.Progress(ctx, privacy); !errors.Is(err, campaigns.ErrForbidden) {
		t.Errorf("privacy officer reads the progress: %v, want ErrForbidden", err)
	}
}
