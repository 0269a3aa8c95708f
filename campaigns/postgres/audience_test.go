package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

var all3 = []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal}

// createDraft stores spec as a draft campaign and returns its id.
func createDraft(t *testing.T, s *postgres.Store, spec campaigns.Spec) int64 {
	t.Helper()
	pgtest.Must(t, "validate", spec.Validate())
	c, err := s.CreateCampaign(context.Background(), &spec, campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignCreate})
	pgtest.Must(t, "create", err)
	return c.ID
}

// runNow schedules the campaign for now and starts its run, and returns the run's id.
func runNow(t *testing.T, s *postgres.Store, campaignID int64) int64 {
	t.Helper()
	ctx := context.Background()
	pgtest.Must(t, "schedule", s.ScheduleCampaign(ctx, campaignID, time.Now().Add(-time.Second), campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignSchedule}))
	runs, err := s.StartDueRuns(ctx, time.Now(), func(campaigns.Spec, time.Time) (*time.Time, error) { return nil, nil })
	pgtest.Must(t, "start", err)
	if len(runs) != 1 {
		t.Fatalf("started %d runs, want 1", len(runs))
	}
	return runs[0]
}

// selected returns what the run's selection recorded, as an Audience's channels: its deliveries per
// channel as Reachable, its run_skips as Skipped.
func selected(t *testing.T, s *postgres.Store, runID int64, channels []campaigns.Channel) map[campaigns.Channel]campaigns.ChannelAudience {
	t.Helper()
	out := map[campaigns.Channel]campaigns.ChannelAudience{}
	for _, ch := range channels {
		out[ch] = campaigns.ChannelAudience{}
	}
	var rows []struct {
		Channel campaigns.Channel `db:"channel"`
		Reason  string            `db:"reason"`
		N       int64             `db:"n"`
	}
	pgtest.Must(t, "what was selected", s.DB().Select(&rows, `
		SELECT channel, '' AS reason, count(*) AS n FROM deliveries WHERE run_id = $1 GROUP BY channel
		UNION ALL SELECT channel, reason, members FROM run_skips WHERE run_id = $1`, runID))
	for _, r := range rows {
		ca := out[r.Channel]
		if r.Reason == "" {
			ca.Reachable += r.N
		} else {
			if ca.Skipped == nil {
				ca.Skipped = map[campaigns.SkipReason]int64{}
			}
			ca.Skipped[campaigns.SkipReason(r.Reason)] += r.N
		}
		out[r.Channel] = ca
	}
	return out
}

// checkAudience counts the campaign's audience, then selects a run of it, and fails the test
// unless the audience's channels are what the selection recorded, and its register and segment
// counts are members and segment. It returns the audience.
func checkAudience(t *testing.T, s *postgres.Store, campaignID int64, members, segment int64) campaigns.Audience {
	t.Helper()
	ctx := context.Background()
	a, err := s.Audience(ctx, campaignID)
	pgtest.Must(t, "audience", err)
	c, err := s.Campaign(ctx, campaignID)
	pgtest.Must(t, "campaign", err)
	runID := runNow(t, s, campaignID)
	selectAll(t, s, runID, campaigns.SelectOptions{SliceSize: 4})
	if want := selected(t, s, runID, c.Spec.Channels); !reflect.DeepEqual(a.Channels, want) {
		t.Errorf("%s: audience %v\nselected  %v", c.Name, a.Channels, want)
	}
	if a.CampaignID != campaignID || a.Members != members || a.Segment != segment {
		t.Errorf("%s: campaign %d, members %d, segment %d; want %d, %d, %d", c.Name, a.CampaignID, a.Members, a.Segment, campaignID, members, segment)
	}
	return a
}

// TestAudienceIsWhatTheSelectionSelects counts the audience of campaigns over the eligibility
// matrix (every rule of the register) and compares it with what the scheduler then selects for
// each: all channels, strategy first, a segment, and a frequency cap.
func TestAudienceIsWhatTheSelectionSelects(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	ctx := context.Background()
	importMembers(t, s, matrix)
	suppress(t, s, matrixSuppressions, "robinson")
	// Purchases for the segment: 60 euros this month for OK and LANDLINE, 10 euros for NO-SMS-CONSENT.
	_, err := s.DB().Exec(`INSERT INTO purchases (member_id, purchased_at, amount_cents, order_ref)
		SELECT id, now() - interval '10 days', CASE external_id WHEN 'NO-SMS-CONSENT' THEN 1000 ELSE 6000 END, external_id
		FROM members WHERE external_id IN ('OK', 'LANDLINE', 'NO-SMS-CONSENT')`)
	pgtest.Must(t, "purchases", err)

	a := checkAudience(t, s, createDraft(t, s, campaigns.Spec{Name: "all", Kind: campaigns.KindNewsletter, Channels: all3}), 15, 15)
	// The matrix's figures (TestEligibilityMatrix): everything but a channel's own rules reaches.
	if a.Channels[campaigns.Email].Reachable != 10 || a.Channels[campaigns.Postal].Skipped[campaigns.SkipNoAddress] != 2 {
		t.Errorf("all channels: %v", a.Channels)
	}

	a = checkAudience(t, s, createDraft(t, s, campaigns.Spec{Name: "first", Kind: campaigns.KindNewsletter, Strategy: campaigns.StrategyFirst,
		Channels: []campaigns.Channel{campaigns.SMS, campaigns.Email, campaigns.Postal}}), 15, 15)
	// 14 members are reached once each (TestStrategyFirst); the deceased member is tried on every
	// channel, the others only until one reaches them.
	var reached int64
	for _, ca := range a.Channels {
		reached += ca.Reachable
	}
	if reached != 14 || a.Channels[campaigns.Postal].Skipped[campaigns.SkipDeceased] != 1 || len(a.Channels[campaigns.Postal].Skipped) != 1 {
		t.Errorf("strategy first: %d reached, %v", reached, a.Channels)
	}

	spend := campaigns.Money(5000)
	checkAudience(t, s, createDraft(t, s, campaigns.Spec{Name: "segment", Kind: campaigns.KindNewsletter, Channels: all3,
		Segment: campaigns.Segment{Languages: []campaigns.Language{"fi"}, PostalCodes: []string{"001*"},
			PurchasedWithin: campaigns.Duration(30 * 24 * time.Hour), MinTotalSpend: &spend}}), 15, 2)

	// The cap: every member was sent twice on email within the week by the campaigns above (all and
	// first: OK by SMS under first, so once more by another run), so a cap of 2 leaves out some.
	capped := createDraft(t, s, campaigns.Spec{Name: "capped", Kind: campaigns.KindNewsletter, Channels: all3,
		FrequencyCap: &campaigns.FrequencyCap{Max: 2, Per: campaigns.Duration(7 * 24 * time.Hour)}})
	_, err = s.DB().Exec(`UPDATE deliveries SET status = 'sent', sent_at = now() - interval '1 day'`)
	pgtest.Must(t, "sent", err)
	a = checkAudience(t, s, capped, 15, 15)
	if a.Channels[campaigns.Email].Skipped[campaigns.SkipFrequencyCap] == 0 || a.Channels[campaigns.Postal].Skipped[campaigns.SkipFrequencyCap] == 0 {
		t.Errorf("capped: nobody left out for the cap: %v", a.Channels)
	}

	// The same counts when the register is cut by the planner's histogram rather than by its ids.
	_, err = s.DB().Exec(`ANALYZE members`)
	pgtest.Must(t, "analyze", err)
	checkAudience(t, s, createDraft(t, s, campaigns.Spec{Name: "analysed", Kind: campaigns.KindNewsletter, Channels: all3}), 15, 15)

	if _, err := s.Audience(ctx, 999999); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("audience of an unknown campaign: %v, want ErrNotFound", err)
	}
}

// TestAudienceOfAnEmptyRegister counts nothing, without failing.
func TestAudienceOfAnEmptyRegister(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	id := createDraft(t, s, campaigns.Spec{Name: "empty", Kind: campaigns.KindNewsletter, Channels: all3})
	a, err := s.Audience(context.Background(), id)
	pgtest.Must(t, "audience", err)
	want := campaigns.Audience{CampaignID: id, Channels: map[campaigns.Channel]campaigns.ChannelAudience{
		campaigns.Email: {}, campaigns.SMS: {}, campaigns.Postal: {}}}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("audience %+v, want %+v", a, want)
	}
}

// ledgerStats is CampaignStats as it was counted before delivery_counts: from the run's deliveries
// and run_skips.
func ledgerStats(t *testing.T, s *postgres.Store, runID int64, channels []campaigns.Channel) map[campaigns.Channel]campaigns.ChannelStats {
	t.Helper()
	out := map[campaigns.Channel]campaigns.ChannelStats{}
	for _, ch := range channels {
		out[ch] = campaigns.ChannelStats{}
	}
	var rows []struct {
		Channel campaigns.Channel `db:"channel"`
		Status  string            `db:"status"`
		Reason  string            `db:"reason"`
		N       int64             `db:"n"`
	}
	pgtest.Must(t, "ledger counts", s.DB().Select(&rows, `
		SELECT channel, status, CASE WHEN status = 'skipped' THEN reason ELSE '' END AS reason, count(*) AS n
		FROM deliveries WHERE run_id = $1 GROUP BY 1, 2, 3
		UNION ALL SELECT channel, 'skipped', reason, members FROM run_skips WHERE run_id = $1`, runID))
	for _, r := range rows {
		cs := out[r.Channel]
		cs.Total += r.N
		switch campaigns.DeliveryStatus(r.Status) {
		case campaigns.DeliveryQueued:
			cs.Queued += r.N
		case campaigns.DeliverySent:
			cs.Sent += r.N
		case campaigns.DeliveryFailed:
			cs.Failed += r.N
		case campaigns.DeliveryCancelled:
			cs.Cancel += r.N
		case campaigns.DeliverySkipped:
			cs.Skipped += r.N
			if cs.Reasons == nil {
				cs.Reasons = map[campaigns.SkipReason]int64{}
			}
			cs.Reasons[campaigns.SkipReason(r.Reason)] += r.N
		}
		out[r.Channel] = cs
	}
	return out
}

// checkStats fails the test unless CampaignStats and LatestStats both give, for the campaign's
// latest run, what the ledger counts.
func checkStats(t *testing.T, s *postgres.Store, campaignID, runID int64, when string) {
	t.Helper()
	ctx := context.Background()
	st, err := s.CampaignStats(ctx, campaignID, 0)
	pgtest.Must(t, "stats", err)
	if want := ledgerStats(t, s, runID, all3); st.RunID != runID || !reflect.DeepEqual(st.Channels, want) {
		t.Errorf("%s: CampaignStats of run %d: %v\nthe ledger counts %v", when, st.RunID, st.Channels, want)
	}
	latest, err := s.LatestStats(ctx)
	pgtest.Must(t, "latest stats", err)
	if !reflect.DeepEqual(latest[campaignID], st) {
		t.Errorf("%s: LatestStats %+v\nCampaignStats %+v", when, latest[campaignID], st)
	}
	checkResultCounters(t, s, runID, when)
}

// checkResultCounters fails the test unless the counters the results read (0012: sends per second,
// failures by reason, coupons) are what counting the ledger gives.
func checkResultCounters(t *testing.T, s *postgres.Store, runID int64, when string) {
	t.Helper()
	same := func(what, counters, ledger string) {
		t.Helper()
		q := `SELECT count(*) FROM ((` + counters + ` EXCEPT ` + ledger + `) UNION ALL (` + ledger + ` EXCEPT ` + counters + `)) x`
		if n := pgtest.Count(t, s.DB(), q, runID); n != 0 {
			t.Errorf("%s: %d rows of %s differ between the counters and the ledger", when, n, what)
		}
	}
	same("sends per second",
		`SELECT channel, second, sum(n)::bigint FROM run_sends WHERE run_id = $1 GROUP BY 1, 2 HAVING sum(n) <> 0`,
		`SELECT channel, date_trunc('second', sent_at), count(*)::bigint FROM deliveries WHERE run_id = $1 AND status = 'sent' AND sent_at IS NOT NULL GROUP BY 1, 2`)
	same("failures by reason",
		`SELECT channel, reason, sum(n)::bigint FROM delivery_counts WHERE run_id = $1 AND status = 'failed' GROUP BY 1, 2 HAVING sum(n) <> 0`,
		`SELECT channel, reason, count(*)::bigint FROM deliveries WHERE run_id = $1 AND status = 'failed' GROUP BY 1, 2`)
	same("coupons",
		`SELECT channel, sum(issued)::bigint, sum(redeemed)::bigint FROM coupon_counts WHERE run_id = $1 GROUP BY 1 HAVING sum(issued) <> 0`,
		`SELECT k.channel, count(*)::bigint, count(x.coupon_id)::bigint FROM coupons k LEFT JOIN coupon_redemptions x ON x.coupon_id = k.id WHERE k.run_id = $1 GROUP BY 1`)
}

// TestStatsCountWhatTheLedgerHolds changes a run's deliveries every way the store does (the
// workers' statements, a cancellation, an erasure, a delivery report, a delete by hand) and checks
// after each that the progress read from delivery_counts is what counting the ledger gives.
func TestStatsCountWhatTheLedgerHolds(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	ctx := context.Background()
	importMembers(t, s, matrix)
	suppress(t, s, matrixSuppressions, "robinson")
	draft := createDraft(t, s, campaigns.Spec{Name: "draft", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.SMS}})
	id := createDraft(t, s, campaigns.Spec{Name: "progress", Kind: campaigns.KindNewsletter, Channels: all3})
	old := runNow(t, s, id)
	selectAll(t, s, old, campaigns.SelectOptions{SliceSize: 4, BatchSize: 3})
	checkStats(t, s, id, old, "first run selected")
	// The first run is sent and finished, and the campaign runs again.
	_, err := s.DB().Exec(`UPDATE deliveries SET status = 'sent', sent_at = now() WHERE run_id = $1`, old)
	pgtest.Must(t, "first run sent", err)
	_, err = s.DB().Exec(`UPDATE batches SET done_at = now() WHERE run_id = $1`, old)
	pgtest.Must(t, "first run done", err)
	_, err = s.FinishRuns(ctx)
	pgtest.Must(t, "finish", err)
	runID := runNow(t, s, id)
	selectAll(t, s, runID, campaigns.SelectOptions{SliceSize: 4, BatchSize: 3})
	checkStats(t, s, id, runID, "second run selected")

	var ids []int64
	pgtest.Must(t, "deliveries", s.DB().Select(&ids, `SELECT id FROM deliveries WHERE run_id = $1 AND channel <> 'sms' ORDER BY id`, runID))
	if len(ids) < 10 {
		t.Fatalf("%d email and postal deliveries, want at least 10", len(ids))
	}
	var smsID int64
	pgtest.Must(t, "an sms", s.DB().Get(&smsID, `SELECT min(id) FROM deliveries WHERE run_id = $1 AND channel = 'sms'`, runID))
	now := time.Now()
	pgtest.Must(t, "sent", s.MarkSent(ctx, []campaigns.Sent{{DeliveryID: ids[0], At: now}, {DeliveryID: ids[1], At: now},
		{DeliveryID: ids[2], At: now}, {DeliveryID: smsID, At: now, ProviderRef: "SM1", Segments: 1}}))
	checkStats(t, s, id, runID, "sent")
	pgtest.Must(t, "failed", s.MarkFailed(ctx, ids[3], "smtp 550"))
	_, err = s.MarkRetry(ctx, ids[4], time.Minute, "smtp 421")
	pgtest.Must(t, "retry", err)
	pgtest.Must(t, "skipped", s.MarkSkipped(ctx, []int64{ids[5], ids[6]}, []campaigns.SkipReason{campaigns.SkipNoConsent, campaigns.SkipSuppressed}))
	checkStats(t, s, id, runID, "failed, retried, skipped")
	// The gateway reports the SMS failed.
	found, fresh, err := s.RecordDeliveryReport(ctx, campaigns.SMS, "SM1", "test/SM1/failed", "failed", "delivery report: failed")
	pgtest.Must(t, "report", err)
	if !found || !fresh {
		t.Fatalf("delivery report: found %v, fresh %v", found, fresh)
	}
	// An erasure changes no count; a delete by hand does.
	_, err = s.EraseMember(ctx, "OK", campaigns.Audit{Actor: "tester", Action: campaigns.AuditMembersErase})
	pgtest.Must(t, "erase", err)
	_, err = s.DB().Exec(`DELETE FROM deliveries WHERE id = $1`, ids[7])
	pgtest.Must(t, "delete", err)
	checkStats(t, s, id, runID, "reported, erased, deleted")
	pgtest.Must(t, "cancel", s.CancelCampaign(ctx, id, campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignCancel}))
	checkStats(t, s, id, runID, "cancelled")
	// A message in hand when the campaign was cancelled is sent all the same.
	pgtest.Must(t, "sent after cancel", s.MarkSent(ctx, []campaigns.Sent{{DeliveryID: ids[8], At: now}}))
	checkStats(t, s, id, runID, "sent after the cancellation")
	st, err := s.CampaignStats(ctx, id, runID)
	pgtest.Must(t, "stats", err)
	if st.Channels[campaigns.Email].Cancel == 0 || st.Channels[campaigns.Postal].Reasons[campaigns.SkipNoAddress] != 2 {
		t.Errorf("after the cancellation: %v", st.Channels)
	}
	// The first run keeps its own counts.
	st, err = s.CampaignStats(ctx, id, old)
	pgtest.Must(t, "stats of the first run", err)
	if want := ledgerStats(t, s, old, all3); !reflect.DeepEqual(st.Channels, want) {
		t.Errorf("first run: %v\nthe ledger counts %v", st.Channels, want)
	}

	latest, err := s.LatestStats(ctx)
	pgtest.Must(t, "latest stats", err)
	want := campaigns.Stats{ID: draft, Status: campaigns.StatusDraft, Channels: map[campaigns.Channel]campaigns.ChannelStats{campaigns.SMS: {}}}
	if len(latest) != 2 || !reflect.DeepEqual(latest[draft], want) {
		t.Errorf("LatestStats: %+v, want 2 campaigns, the draft as %+v", latest, want)
	}
}

// TestStatsUnderConcurrentWriters sends a run's batches from several goroutines at once, as
// workers do, while a delivery report and a cancellation change the same run, and checks that the
// counters end equal to the ledger (no update lost, no deadlock).
func TestStatsUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString(fullHeader)
	for i := range 200 {
		fmt.Fprintf(&b, "C%d,Aino,Laine,c%d@example.com,04010%05d,Katu %d,00100,HELSINKI,FI,fi,yes,yes,no,no,no\n", i, i, i, i+1)
	}
	importMembers(t, s, b.String())
	id := createDraft(t, s, campaigns.Spec{Name: "busy", Kind: campaigns.KindNewsletter, Channels: all3})
	runID := runNow(t, s, id)
	selectAll(t, s, runID, campaigns.SelectOptions{BatchSize: 10, PrintBatchSize: 10})
	var batches []campaigns.Batch
	pgtest.Must(t, "batches", s.DB().Select(&batches, `SELECT run_id, channel, batch, size FROM batches WHERE run_id = $1`, runID))
	var wg sync.WaitGroup
	errs := make(chan error, len(batches)+1)
	for _, bt := range batches {
		wg.Go(func() {
			var ids []int64
			if err := s.DB().Select(&ids, `SELECT id FROM deliveries WHERE run_id = $1 AND channel = $2 AND batch = $3 ORDER BY id`, bt.RunID, bt.Channel, bt.Batch); err != nil {
				errs <- err
				return
			}
			for i, d := range ids {
				var err error
				switch i % 4 {
				case 0, 1:
					err = s.MarkSent(ctx, []campaigns.Sent{{DeliveryID: d, At: time.Now()}})
				case 2:
					err = s.MarkFailed(ctx, d, "smtp 550")
				case 3:
					err = s.MarkSkipped(ctx, []int64{d}, []campaigns.SkipReason{campaigns.SkipNoConsent})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		time.Sleep(20 * time.Millisecond)
		if _, err := s.DB().Exec(`UPDATE deliveries SET status = 'failed' WHERE run_id = $1 AND channel = 'sms' AND status = 'sent'`, runID); err != nil {
			errs <- err
		}
		if err := s.CancelCampaign(ctx, id, campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignCancel}); err != nil {
			errs <- err
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("writer: %v", err)
	}
	checkStats(t, s, id, runID, "after the writers")
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM deliveries WHERE run_id = $1`, runID); n != 600 {
		t.Errorf("%d deliveries, want 600", n)
	}
}

// TestSelectionAndCancellationDoNotDeadlock holds a run's row as a selection does, while a
// cancellation of the campaign cancels the run's queued deliveries and then waits for that row; the
// selection then inserts deliveries. Its counters are rows that the cancellation's are not, so both
// end without a deadlock.
func TestSelectionAndCancellationDoNotDeadlock(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	ctx := context.Background()
	importMembers(t, s, matrix)
	id := createDraft(t, s, campaigns.Spec{Name: "cancel while selecting", Kind: campaigns.KindNewsletter, Channels: all3})
	runID := runNow(t, s, id)
	res, err := s.SelectRun(ctx, runID, campaigns.SelectOptions{SliceSize: 4})
	pgtest.Must(t, "first slice", err)
	if res.Deliveries == 0 || res.Done {
		t.Fatalf("first slice: %+v", res)
	}

	tx, err := s.DB().BeginTxx(ctx, nil)
	pgtest.Must(t, "begin", err)
	defer tx.Rollback()
	var xid string
	pgtest.Must(t, "lock the run", tx.Get(&xid, `SELECT txid_current()::text FROM runs WHERE id = $1 FOR UPDATE`, runID))
	cancelled := make(chan error, 1)
	go func() {
		cancelled <- s.CancelCampaign(ctx, id, campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignCancel})
	}()
	// Wait until the cancellation waits for the run's row, having cancelled the deliveries.
	for i := 0; pgtest.Count(t, s.DB(), `SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND transactionid::text = $1 AND NOT granted`, xid) == 0; i++ {
		if i == 500 {
			t.Fatal("the cancellation never waited for the run")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, err = tx.Exec(`INSERT INTO deliveries (run_id, member_id, channel, batch)
		SELECT $1, id, 'email', 1000000 FROM members WHERE external_id = 'NO-STREET'`, runID)
	pgtest.Must(t, "insert as the selection", err)
	pgtest.Must(t, "commit", tx.Commit())
	pgtest.Must(t, "cancel", <-cancelled)
	checkStats(t, s, id, runID, "after both")
}
