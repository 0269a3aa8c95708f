package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// TestResultCountersCountWhatTheLedgerHolds changes a coupon run's deliveries and coupons every way
// the store does, at times that are not whole seconds, and checks after each change that the
// counters the results read (0012: run_sends, failed reasons in delivery_counts, coupon_counts)
// are what counting the ledger gives, as TestStatsCountWhatTheLedgerHolds does for 0011's. Unlike
// that test it issues and redeems coupons, and erases a member whose failure reason carries a
// server's words, whose text must leave the counters too.
func TestResultCountersCountWhatTheLedgerHolds(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	ctx := context.Background()
	importMembers(t, s, resultsMembers())
	spec := campaigns.Spec{Name: "Counters", Kind: campaigns.KindCoupon, Template: "coupon",
		Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal},
		Coupon:   &campaigns.CouponSpec{Discount: "-10 %", ValidDays: 30}}
	campaignID, runID := startRun(t, s, spec)
	selectAll(t, s, runID, campaigns.SelectOptions{SliceSize: 7, BatchSize: 5})
	check := func(when string) {
		t.Helper()
		checkStats(t, s, campaignID, runID, when)
	}
	check("selected")
	ids := deliveryIDs(t, s, runID)
	id := func(key string) int64 {
		t.Helper()
		if ids[key] == 0 {
			t.Fatalf("no delivery %s", key)
		}
		return ids[key]
	}

	// Coupons issued in two statements (the second gives one delivery its code again), then redeemed.
	issued, err := s.IssueCoupons(ctx, []int64{id("M01:email"), id("M02:email"), id("M03:sms"), id("M04:postal")},
		"-10 %", time.Now().Add(30*24*time.Hour), campaigns.NewCouponCode)
	pgtest.Must(t, "issue", err)
	more, err := s.IssueCoupons(ctx, []int64{id("M01:email"), id("M05:email"), id("M06:postal")},
		"-10 %", time.Now().Add(30*24*time.Hour), campaigns.NewCouponCode)
	pgtest.Must(t, "issue again", err)
	check("coupons issued")
	for _, code := range []string{issued[id("M01:email")].Code, issued[id("M04:postal")].Code, more[id("M06:postal")].Code} {
		_, err := s.RedeemCoupon(ctx, code, "Kamppi", "order-"+code, campaigns.Audit{Actor: "tester", Action: campaigns.AuditCouponRedeem}, time.UTC)
		pgtest.Must(t, "redeem", err)
	}
	check("coupons redeemed")

	// Sent in chunks at times within and across seconds, as workers report them.
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 300_000_000, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	pgtest.Must(t, "sent", s.MarkSent(ctx, []campaigns.Sent{
		{DeliveryID: id("M01:email"), At: at(0)}, {DeliveryID: id("M02:email"), At: at(650)},
		{DeliveryID: id("M03:email"), At: at(700)}, {DeliveryID: id("M04:email"), At: at(12_000)},
		{DeliveryID: id("M01:sms"), At: at(100), ProviderRef: "SM01", Segments: 1},
		{DeliveryID: id("M02:sms"), At: at(100), ProviderRef: "SM02", Segments: 1},
		{DeliveryID: id("M01:postal"), At: at(90_000)}, {DeliveryID: id("M02:postal"), At: at(90_999)},
	}))
	check("sent")
	pgtest.Must(t, "sent again", s.MarkSent(ctx, []campaigns.Sent{{DeliveryID: id("M05:email"), At: at(650)}}))
	check("sent in a second already counted")

	// Failures with and without a server's words after the category, a retry, skips.
	pgtest.Must(t, "failed", s.MarkFailed(ctx, id("M10:email"), "smtp 550: mailbox m10@example.com unknown"))
	pgtest.Must(t, "failed", s.MarkFailed(ctx, id("M11:email"), "smtp 550: mailbox m11@example.com unknown"))
	pgtest.Must(t, "failed", s.MarkFailed(ctx, id("M12:email"), "smtp 552"))
	pgtest.Must(t, "failed", s.MarkFailed(ctx, id("M10:sms"), "gateway: number m10 barred"))
	_, err = s.MarkRetry(ctx, id("M13:email"), time.Minute, "smtp 421")
	pgtest.Must(t, "retry", err)
	pgtest.Must(t, "skipped", s.MarkSkipped(ctx, []int64{id("M14:email"), id("M14:sms")},
		[]campaigns.SkipReason{campaigns.SkipNoConsent, campaigns.SkipSuppressed}))
	check("failed, retried, skipped")

	// A delivery report turns a sent SMS into a failed one: it leaves the timeline.
	found, fresh, err := s.RecordDeliveryReport(ctx, campaigns.SMS, "SM02", "test/SM02/failed", "failed", "delivery report: failed")
	pgtest.Must(t, "report", err)
	if !found || !fresh {
		t.Fatalf("delivery report: found %v, fresh %v", found, fresh)
	}
	check("reported")

	// Erasures: of a member with sends and coupons (nothing counted changes), and of one whose
	// failure reason carries an address (it is cut to its category, here and in the counters).
	_, err = s.EraseMember(ctx, "M01", campaigns.Audit{Actor: "tester", Action: campaigns.AuditMembersErase})
	pgtest.Must(t, "erase M01", err)
	_, err = s.EraseMember(ctx, "M10", campaigns.Audit{Actor: "tester", Action: campaigns.AuditMembersErase})
	pgtest.Must(t, "erase M10", err)
	check("erased")
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM delivery_counts WHERE run_id = $1 AND reason LIKE '%m10%'`, runID); n != 0 {
		t.Errorf("after the erasure %d counter rows still name M10's address", n)
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM delivery_counts WHERE run_id = $1 AND reason LIKE '%m11@%'`, runID); n == 0 {
		t.Errorf("M11's failure reason, not erased, is no longer counted under its own text")
	}

	// A delete by hand, a cancellation, and a message in hand sent after it.
	_, err = s.DB().Exec(`DELETE FROM deliveries WHERE id = $1`, id("M25:email"))
	pgtest.Must(t, "delete", err)
	check("deleted")
	pgtest.Must(t, "cancel", s.CancelCampaign(ctx, campaignID, campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignCancel}))
	check("cancelled")
	pgtest.Must(t, "sent after cancel", s.MarkSent(ctx, []campaigns.Sent{{DeliveryID: id("M20:email"), At: at(200_000)}}))
	check("sent after the cancellation")

	// What the results page shows agrees with the ledger too.
	res, err := s.RunResults(ctx, campaignID, runID, time.Now())
	pgtest.Must(t, "results", err)
	var sentTotal, timelineTotal int64
	for _, cr := range res.Channels {
		sentTotal += cr.Sent
	}
	for _, b := range res.Timeline {
		for _, n := range b.Sent {
			timelineTotal += n
		}
	}
	ledgerSent := int64(pgtest.Count(t, s.DB(), `SELECT count(*) FROM deliveries WHERE run_id = $1 AND status = 'sent'`, runID))
	if sentTotal != ledgerSent || timelineTotal != ledgerSent {
		t.Errorf("sent: %d by state, %d on the timeline; the ledger counts %d", sentTotal, timelineTotal, ledgerSent)
	}
	email := res.Channels[campaigns.Email]
	if email.CouponsIssued != 3 || email.CouponsRedeemed != 1 || res.Channels[campaigns.Postal].CouponsIssued != 2 ||
		res.Channels[campaigns.Postal].CouponsRedeemed != 2 || res.Channels[campaigns.SMS].CouponsIssued != 1 {
		t.Errorf("coupons: %+v", res.Channels)
	}
	if email.FailedByReason["smtp 550"] != 1 || email.FailedByReason["smtp 550: mailbox m11@example.com unknown"] != 1 ||
		email.FailedByReason["smtp 552"] != 1 || res.Channels[campaigns.SMS].FailedByReason["delivery report: failed"] != 1 {
		t.Errorf("failures: email %v, sms %v", email.FailedByReason, res.Channels[campaigns.SMS].FailedByReason)
	}
}
