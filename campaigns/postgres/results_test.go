package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// resultsMembers are M01..M30, reachable on every channel, and M31 without an email consent.
func resultsMembers() string {
	var b strings.Builder
	b.WriteString(fullHeader)
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, "M%02d,Etu%02d,Suku,m%02d@example.com,04010000%02d,Katu %d,00100,HELSINKI,FI,fi,yes,yes,no,no,no\n", i, i, i, i, i)
	}
	b.WriteString("M31,Etu31,Suku,m31@example.com,0401000031,Katu 31,00100,HELSINKI,FI,fi,,yes,no,no,no\n")
	return b.String()
}

// deliveryIDs returns the run's deliveries by "EXTERNAL_ID:channel".
func deliveryIDs(t *testing.T, s *postgres.Store, runID int64) map[string]int64 {
	t.Helper()
	var rows []struct {
		Key string `db:"key"`
		ID  int64  `db:"id"`
	}
	pgtest.Must(t, "deliveries", s.DB().Select(&rows, `SELECT m.external_id || ':' || d.channel AS key, d.id FROM deliveries d
		JOIN members m ON m.id = d.member_id WHERE d.run_id = $1`, runID))
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Key] = r.ID
	}
	return out
}

func TestRunResults(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	ctx := context.Background()
	importMembers(t, s, resultsMembers())
	spec := campaigns.Spec{Name: "Results", Kind: campaigns.KindCoupon, Template: "coupon",
		Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal},
		Coupon:   &campaigns.CouponSpec{Discount: "-20 %", ValidDays: 30}}
	campaignID, runID := startRun(t, s, spec)
	selectAll(t, s, runID, campaigns.SelectOptions{})
	other := campaigns.Spec{Name: "Other", Kind: campaigns.KindNewsletter, Template: "newsletter", Channels: []campaigns.Channel{campaigns.Email}}
	otherCampaign, otherRun := startRun(t, s, other)
	selectAll(t, s, otherRun, campaigns.SelectOptions{})
	ids, otherIDs := deliveryIDs(t, s, runID), deliveryIDs(t, s, otherRun)

	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	_, err := s.DB().Exec(`UPDATE runs SET status = 'finished', started_at = $2, finished_at = $3 WHERE id = $1`, runID, t0, at(25*time.Minute))
	pgtest.Must(t, "finish the run", err)
	_, err = s.DB().Exec(`UPDATE runs SET started_at = $2 WHERE id = $1`, otherRun, at(50*time.Minute))
	pgtest.Must(t, "start the other run", err)

	sent := func(key string, when time.Time) campaigns.Sent {
		return campaigns.Sent{DeliveryID: ids[key], At: when, ProviderRef: key}
	}
	pgtest.Must(t, "sent", s.MarkSent(ctx, []campaigns.Sent{
		sent("M01:email", at(30*time.Second)), sent("M02:email", at(5*time.Minute)), sent("M03:email", at(24*time.Minute)),
		sent("M01:sms", at(24*time.Minute+10*time.Second)), sent("M02:sms", at(24*time.Minute+20*time.Second)),
		sent("M01:postal", at(5*time.Minute)), sent("M02:postal", at(5*time.Minute)), sent("M03:postal", at(5*time.Minute)),
		sent("M04:postal", at(5*time.Minute)), sent("M05:postal", at(5*time.Minute)),
		// M02's next email came from the other campaign.
		{DeliveryID: otherIDs["M02:email"], At: at(time.Hour), ProviderRef: "other"},
	}))
	// 23 distinct failure reasons on email: the commonest first, then the rest.
	for i := 4; i <= 6; i++ {
		pgtest.Must(t, "failed", s.MarkFailed(ctx, ids[fmt.Sprintf("M%02d:email", i)], "smtp 550 mailbox unavailable"))
	}
	for i := 7; i <= 28; i++ {
		pgtest.Must(t, "failed", s.MarkFailed(ctx, ids[fmt.Sprintf("M%02d:email", i)], fmt.Sprintf("bounce %02d", i)))
	}
	pgtest.Must(t, "skipped", s.MarkSkipped(ctx, []int64{ids["M29:email"]}, []campaigns.SkipReason{campaigns.SkipNoConsent}))

	// Coupons: three on email (two redeemed), five on post (one redeemed).
	issued, err := s.IssueCoupons(ctx, []int64{ids["M01:email"], ids["M02:email"], ids["M03:email"], ids["M01:postal"], ids["M02:postal"],
		ids["M03:postal"], ids["M04:postal"], ids["M05:postal"]}, "-20 %", time.Now().Add(30*24*time.Hour), campaigns.NewCouponCode)
	pgtest.Must(t, "issue", err)
	for _, key := range []string{"M01:email", "M02:email", "M03:postal"} {
		_, err := s.RedeemCoupon(ctx, issued[ids[key]].Code, "Kamppi", "order-"+key, campaigns.Audit{Actor: "tester", Action: campaigns.AuditCouponRedeem}, time.UTC)
		pgtest.Must(t, "redeem", err)
	}

	// Withdrawals, then their times.
	withdraw := func(ext string, ch campaigns.Channel, source campaigns.ConsentSource, when time.Time) {
		t.Helper()
		m, err := s.MemberByExternalID(ctx, ext)
		pgtest.Must(t, "member", err)
		recorded, err := s.RecordUnsubscribe(ctx, m.ID, ch, source)
		pgtest.Must(t, "unsubscribe", err)
		if !recorded {
			t.Fatalf("%s %s: no withdrawal recorded", ext, ch)
		}
		_, err = s.DB().Exec(`UPDATE consent_events SET recorded_at = $3 WHERE member_id = $1 AND channel = $2 AND status = 'withdrawn'`, m.ID, ch, when)
		pgtest.Must(t, "withdrawal time", err)
	}
	withdraw("M01", campaigns.Email, campaigns.SourceUnsubscribeLink, at(2*time.Hour))  // counts
	withdraw("M02", campaigns.Email, campaigns.SourceUnsubscribeLink, at(2*time.Hour))  // the other run's message came later
	withdraw("M03", campaigns.Email, campaigns.SourceUnsubscribeLink, at(-time.Hour))   // before this run's message
	withdraw("M04", campaigns.Email, campaigns.SourceUnsubscribeLink, at(2*time.Hour))  // the message failed
	withdraw("M01", campaigns.SMS, campaigns.SourceSMSStop, at(3*time.Hour))            // counts
	withdraw("M02", campaigns.SMS, campaigns.SourceCustomerService, at(3*time.Hour))    // not by the member's STOP
	withdraw("M03", campaigns.Postal, campaigns.SourceCustomerService, at(3*time.Hour)) // post: never counted
	withdraw("M05", campaigns.SMS, campaigns.SourceSMSStop, at(3*time.Hour))            // no SMS was sent to M05

	res, err := s.RunResults(ctx, campaignID, runID, at(48*time.Hour))
	pgtest.Must(t, "results", err)
	if res.RunID != runID || res.CampaignID != campaignID || res.Status != campaigns.RunFinished || !res.StartedAt.Equal(t0) ||
		res.FinishedAt == nil || !res.FinishedAt.Equal(at(25*time.Minute)) {
		t.Errorf("run: %+v", res)
	}
	// 25 minutes in 1-minute buckets: 26 of them, from the start.
	if res.BucketSeconds != 60 || len(res.Timeline) != 26 || !res.Timeline[0].Start.Equal(t0) || !res.Timeline[25].Start.Equal(at(25*time.Minute)) {
		t.Fatalf("timeline: %d s x %d buckets", res.BucketSeconds, len(res.Timeline))
	}
	want := map[int]map[campaigns.Channel]int64{
		0:  {campaigns.Email: 1, campaigns.SMS: 0, campaigns.Postal: 0},
		5:  {campaigns.Email: 1, campaigns.SMS: 0, campaigns.Postal: 5},
		24: {campaigns.Email: 1, campaigns.SMS: 2, campaigns.Postal: 0},
	}
	for i, b := range res.Timeline {
		w, ok := want[i]
		if !ok {
			w = map[campaigns.Channel]int64{campaigns.Email: 0, campaigns.SMS: 0, campaigns.Postal: 0}
		}
		if fmt.Sprint(b.Sent) != fmt.Sprint(w) {
			t.Errorf("bucket %d: %v, want %v", i, b.Sent, w)
		}
	}

	email, sms, postal := res.Channels[campaigns.Email], res.Channels[campaigns.SMS], res.Channels[campaigns.Postal]
	// Totals and skips are CampaignStats': M31 was left out at selection, M29 skipped at send time.
	if email.Sent != 3 || email.Failed != 25 || email.Skipped != 2 || email.Queued != 1 || email.Reasons[campaigns.SkipNoConsent] != 2 {
		t.Errorf("email totals: %+v", email.ChannelStats)
	}
	if sms.Sent != 2 || sms.Queued != 29 || postal.Sent != 5 || postal.Queued != 26 {
		t.Errorf("sms %+v, postal %+v", sms.ChannelStats, postal.ChannelStats)
	}
	if len(email.FailedByReason) != campaigns.MaxFailureReasons+1 || email.FailedByReason["smtp 550 mailbox unavailable"] != 3 ||
		email.FailedByReason["bounce 07"] != 1 || email.FailedByReason[campaigns.OtherFailureReasons] != 3 {
		t.Errorf("email failures: %v", email.FailedByReason)
	}
	var failed int64
	for _, n := range email.FailedByReason {
		failed += n
	}
	if failed != email.Failed || sms.FailedByReason != nil {
		t.Errorf("failures by reason add up to %d of %d; sms %v", failed, email.Failed, sms.FailedByReason)
	}
	if email.Withdrawals != 1 || sms.Withdrawals != 1 || postal.Withdrawals != 0 {
		t.Errorf("withdrawals: email %d, sms %d, postal %d; want 1, 1, 0", email.Withdrawals, sms.Withdrawals, postal.Withdrawals)
	}
	if email.CouponsIssued != 3 || email.CouponsRedeemed != 2 || postal.CouponsIssued != 5 || postal.CouponsRedeemed != 1 || sms.CouponsIssued != 0 {
		t.Errorf("coupons: email %d/%d, postal %d/%d, sms %d", email.CouponsIssued, email.CouponsRedeemed,
			postal.CouponsIssued, postal.CouponsRedeemed, sms.CouponsIssued)
	}

	// The other run has not finished: its timeline runs to now, in buckets of an hour; M02's
	// withdrawal is its own.
	res, err = s.RunResults(ctx, otherCampaign, 0, at(50*time.Minute+10*time.Hour))
	pgtest.Must(t, "other results", err)
	if res.RunID != otherRun || res.FinishedAt != nil || res.BucketSeconds != 3600 || len(res.Timeline) != 11 ||
		res.Timeline[0].Sent[campaigns.Email] != 1 || res.Channels[campaigns.Email].Withdrawals != 1 {
		t.Errorf("other run: %d s x %d buckets, first %v, email %+v", res.BucketSeconds, len(res.Timeline),
			res.Timeline[0].Sent, res.Channels[campaigns.Email])
	}

	// Another campaign's run, an unknown campaign, a campaign that has not run: not found.
	draft, err := s.CreateCampaign(ctx, &other, campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignCreate})
	pgtest.Must(t, "draft", err)
	for what, err := range map[string]error{
		"another campaign's run": second(s.RunResults(ctx, campaignID, otherRun, t0)),
		"unknown campaign":       second(s.RunResults(ctx, 999999, 0, t0)),
		"campaign without a run": second(s.RunResults(ctx, draft.ID, 0, t0)),
	} {
		if !errors.Is(err, campaigns.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", what, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }
