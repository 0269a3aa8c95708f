package worker_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
)

// Each test below works one batch the way asynq would, against a real PostgreSQL schema of its own
// and an in-process Sender; no Redis, no daemon.

var (
	newsletter = campaigns.Spec{Name: "news", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.Email}}
	couponMail = campaigns.Spec{Name: "offer", Kind: campaigns.KindCoupon, Channels: []campaigns.Channel{campaigns.Email},
		Coupon: &campaigns.CouponSpec{Discount: "-20 %", ValidDays: 30}}
)

func TestBatchSentOnceWithOneCouponEach(t *testing.T) {
	t.Parallel()
	f := newRun(t, 5, couponMail)
	sender := newRecordingSender()
	w := newWorker(t, f, worker.Config{CheckEvery: 2}, sender, nil, nil)
	before := time.Now()
	task, err := worker.NewBatchTask(f.batch)
	pgtest.Must(t, "task", err)
	// Through the handler, as the asynq server calls it.
	if err := w.Handler().ProcessTask(context.Background(), task); err != nil {
		t.Fatalf("process: %v", err)
	}
	f.wantSentOnce(t, sender, before)
	f.wantBatch(t, true)
	if got := sender.callIDs(); !slices.Equal(got, f.deliveries) {
		t.Fatalf("sender got deliveries %v, want %v in member order", got, f.deliveries)
	}
	codes := f.coupons(t)
	if len(codes) != len(f.deliveries) {
		t.Fatalf("%d coupons issued, want one for each of %d deliveries", len(codes), len(f.deliveries))
	}
	for i, id := range f.deliveries {
		m := sender.messages(id)[0]
		if m.To != fmt.Sprintf("m%d@example.com", i+1) || m.MemberID != f.members[i] || m.RunID != f.runID {
			t.Errorf("delivery %d went to %q (member %d, run %d), want m%d@example.com", id, m.To, m.MemberID, m.RunID, i+1)
		}
		if codes[id] == "" || !strings.Contains(m.Content.Text, codes[id]) {
			t.Errorf("message of delivery %d does not carry its code %q:\n%s", id, codes[id], m.Content.Text)
		}
	}
	for _, r := range f.ledger(t) {
		if r.Attempts != 1 {
			t.Errorf("delivery %d: %d attempts recorded, want 1", r.ID, r.Attempts)
		}
	}

	// The task run again (asynq delivers at least once) finds the batch done and sends nothing.
	if err := f.work(t, w); err != nil {
		t.Fatalf("process again: %v", err)
	}
	if n := len(sender.callIDs()); n != len(f.deliveries) {
		t.Fatalf("sender called %d times after the task ran twice, want %d", n, len(f.deliveries))
	}
}

func TestPermanentFailureFailsThatDeliveryOnly(t *testing.T) {
	t.Parallel()
	f := newRun(t, 4, newsletter)
	sender := newRecordingSender()
	refused := fmt.Errorf("554 5.7.1 message refused: %w", worker.ErrPermanent)
	sender.failOnce(f.deliveries[1], refused)
	w := newWorker(t, f, worker.Config{}, sender, nil, nil)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	rows := f.ledger(t)
	if r := rows[1]; r.Status != "failed" || r.Reason != refused.Error() || r.SentAt != nil || r.ProviderRef != "" {
		t.Fatalf("refused delivery recorded %+v, want failed with reason %q", r, refused)
	}
	for _, i := range []int{0, 2, 3} {
		if rows[i].Status != "sent" {
			t.Errorf("delivery #%d is %s, want sent", i+1, rows[i].Status)
		}
	}
	if got := sender.callIDs(); !slices.Equal(got, f.deliveries) {
		t.Fatalf("sender got %v, want each delivery once: %v", got, f.deliveries)
	}
	if n := pgtest.Count(t, f.store.DB(), `SELECT count(*) FROM suppressions`); n != 0 {
		t.Fatalf("%d suppressions after a permanent failure that is no bounce, want 0", n)
	}
	f.wantBatch(t, true)
}

func TestBounceFailsAndSuppressesTheAddress(t *testing.T) {
	t.Parallel()
	f := newRun(t, 3, newsletter)
	sender := newRecordingSender()
	sender.failOnce(f.deliveries[1], fmt.Errorf("550 5.1.1 no such user: %w", worker.ErrBounce))
	w := newWorker(t, f, worker.Config{}, sender, nil, nil)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	if got := f.statuses(t); !slices.Equal(got, []string{"sent", "failed", "sent"}) {
		t.Fatalf("statuses %v, want the bounced one failed, the others sent", got)
	}
	if r := f.ledger(t)[1]; !strings.Contains(r.Reason, "hard bounce") || !strings.Contains(r.Reason, "550 5.1.1") {
		t.Fatalf("bounce recorded with reason %q", r.Reason)
	}
	if n := pgtest.Count(t, f.store.DB(), `SELECT count(*) FROM suppressions s JOIN members m ON m.email_key = s.key
		WHERE s.channel = 'email' AND s.reason = 'bounce' AND m.id = $1`, f.members[1]); n != 1 {
		t.Fatalf("bounced address has %d bounce suppressions, want 1", n)
	}
	if n := pgtest.Count(t, f.store.DB(), `SELECT count(*) FROM suppressions`); n != 1 {
		t.Fatalf("%d suppressions, want only the bounced address", n)
	}
	// The member can no longer be reached on email: the send-time check says so.
	checks, err := f.store.Recheck(context.Background(), f.deliveries)
	pgtest.Must(t, "recheck", err)
	for _, c := range checks {
		want := campaigns.SkipReason("")
		if c.DeliveryID == f.deliveries[1] {
			want = campaigns.SkipSuppressed
		}
		if c.Reason != want {
			t.Errorf("delivery %d: member reach %q, want %q", c.DeliveryID, c.Reason, want)
		}
	}
	f.wantBatch(t, true)
}

func TestPanicInSenderFailsThatDeliveryOnly(t *testing.T) {
	t.Parallel()
	f := newRun(t, 3, newsletter)
	sender := newRecordingSender()
	sender.panicOnce(f.deliveries[0])
	logs := &logRecorder{}
	w := newWorker(t, f, worker.Config{}, sender, nil, logs)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	rows := f.ledger(t)
	if rows[0].Status != "failed" || rows[0].Reason != "internal error" || rows[0].SentAt != nil {
		t.Fatalf("delivery whose send panicked recorded %+v, want failed: internal error", rows[0])
	}
	if rows[1].Status != "sent" || rows[2].Status != "sent" {
		t.Fatalf("the batch did not go on after the panic: %v", f.statuses(t))
	}
	if got := sender.sentIDs(); !slices.Equal(got, f.deliveries[1:]) {
		t.Fatalf("sent %v, want %v", got, f.deliveries[1:])
	}
	errs := logs.atLeast(slog.LevelError)
	if len(errs) != 1 || errs[0].msg != "panic while sending" || errs[0].attrs["delivery_id"] != f.deliveries[0] {
		t.Fatalf("logged %+v, want the panic once with its delivery id", errs)
	}
	f.wantBatch(t, true)
}

func TestConsentWithdrawnBeforeSendIsSkipped(t *testing.T) {
	t.Parallel()
	f := newRun(t, 4, newsletter)
	ctx := context.Background()
	// Member 2 unsubscribes after the selection, before the batch starts; member 4 while the batch
	// is sending, before its chunk is checked.
	_, err := f.store.RecordUnsubscribe(ctx, f.members[1], campaigns.Email, campaigns.SourceUnsubscribeLink)
	pgtest.Must(t, "unsubscribe", err)
	sender := newRecordingSender()
	sender.onSend(func(n int, m compose.Message) {
		if n == 1 {
			_, err := f.store.RecordUnsubscribe(ctx, f.members[3], campaigns.Email, campaigns.SourceUnsubscribeLink)
			pgtest.Must(t, "unsubscribe", err)
		}
	})
	w := newWorker(t, f, worker.Config{CheckEvery: 1}, sender, nil, nil)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	if got := f.statuses(t); !slices.Equal(got, []string{"sent", "skipped", "sent", "skipped"}) {
		t.Fatalf("statuses %v, want the withdrawn members skipped", got)
	}
	for _, i := range []int{1, 3} {
		if r := f.ledger(t)[i]; r.Reason != string(campaigns.SkipNoConsent) || r.SentAt != nil {
			t.Errorf("delivery #%d recorded %+v, want skipped no_consent", i+1, r)
		}
	}
	if got, want := sender.callIDs(), []int64{f.deliveries[0], f.deliveries[2]}; !slices.Equal(got, want) {
		t.Fatalf("sender got %v, want only %v", got, want)
	}
	f.wantBatch(t, true)
}

func TestPauseMidBatchLeavesTheRestForResume(t *testing.T) {
	t.Parallel()
	f := newRun(t, 6, newsletter)
	ctx := context.Background()
	sender := newRecordingSender()
	sender.onSend(func(n int, m compose.Message) {
		if n == 3 {
			pgtest.Must(t, "pause", f.store.PauseCampaign(ctx, f.campaignID, audit(campaigns.AuditCampaignPause)))
		}
	})
	// Chunks of 2: the pause, while the 3rd message is in hand, is seen when the 3rd chunk is checked.
	w := newWorker(t, f, worker.Config{CheckEvery: 2}, sender, nil, nil)
	before := time.Now()
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	if got := f.statuses(t); !slices.Equal(got, []string{"sent", "sent", "sent", "sent", "queued", "queued"}) {
		t.Fatalf("after the pause: %v, want the checked chunk finished and the rest queued", got)
	}
	if got := sender.callIDs(); !slices.Equal(got, f.deliveries[:4]) {
		t.Fatalf("sender got %v, want %v", got, f.deliveries[:4])
	}
	f.wantBatch(t, false)

	// While paused the task finds nothing to do and leaves the batch waiting.
	if err := f.work(t, w); err != nil {
		t.Fatalf("process while paused: %v", err)
	}
	if n := len(sender.callIDs()); n != 4 {
		t.Fatalf("sent %d messages while paused, want still 4", n)
	}
	f.wantBatch(t, false)

	sender.onSend(nil)
	pgtest.Must(t, "resume", f.store.ResumeCampaign(ctx, f.campaignID, audit(campaigns.AuditCampaignResume)))
	if err := f.work(t, w); err != nil {
		t.Fatalf("process after resume: %v", err)
	}
	f.wantSentOnce(t, sender, before)
	if got := sender.callIDs(); !slices.Equal(got, f.deliveries) {
		t.Fatalf("sender got %v, want each delivery once: %v", got, f.deliveries)
	}
	f.wantBatch(t, true)
}

func TestCancelMidBatchCancelsTheRest(t *testing.T) {
	t.Parallel()
	f := newRun(t, 6, newsletter)
	ctx := context.Background()
	sender := newRecordingSender()
	sender.onSend(func(n int, m compose.Message) {
		if n == 3 {
			pgtest.Must(t, "cancel", f.store.CancelCampaign(ctx, f.campaignID, audit(campaigns.AuditCampaignCancel)))
		}
	})
	w := newWorker(t, f, worker.Config{CheckEvery: 2}, sender, nil, nil)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	// The 4th was checked with the 3rd, before the cancel: it went out, and the ledger says so.
	if got := f.statuses(t); !slices.Equal(got, []string{"sent", "sent", "sent", "sent", "cancelled", "cancelled"}) {
		t.Fatalf("after the cancel: %v", got)
	}
	for _, r := range f.ledger(t)[4:] {
		if r.Reason != "campaign cancelled" || r.SentAt != nil {
			t.Errorf("cancelled delivery recorded %+v", r)
		}
	}
	f.wantBatch(t, true)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process again: %v", err)
	}
	if got := sender.callIDs(); !slices.Equal(got, f.deliveries[:4]) {
		t.Fatalf("sender got %v, want only %v", got, f.deliveries[:4])
	}
}

func TestBatchLeasedByAnotherWorkerIsNotSent(t *testing.T) {
	t.Parallel()
	f := newRun(t, 3, newsletter)
	held, _, err := f.store.LeaseBatch(context.Background(), f.batch, "other-worker", time.Hour)
	pgtest.Must(t, "lease", err)
	if !held {
		t.Fatal("the other worker could not lease the batch")
	}
	sender := newRecordingSender()
	w := newWorker(t, f, worker.Config{Owner: "this-worker"}, sender, nil, nil)
	if err := f.work(t, w); !errors.Is(err, worker.ErrLeased) {
		t.Fatalf("process: %v, want the batch-is-held error", err)
	}
	if n := len(sender.callIDs()); n != 0 {
		t.Fatalf("sent %d messages of a batch another worker holds", n)
	}
	if got := f.statuses(t); !slices.Equal(got, []string{"queued", "queued", "queued"}) {
		t.Fatalf("statuses %v, want untouched", got)
	}
	if b := f.batchState(t); b.LeaseOwner == nil || *b.LeaseOwner != "other-worker" || b.DoneAt != nil {
		t.Fatalf("batch %+v, want still held by other-worker", b)
	}
}

func TestLeaseLostMidBatchStopsSending(t *testing.T) {
	t.Parallel()
	f := newRun(t, 5, newsletter)
	ctx := context.Background()
	sender := newRecordingSender()
	sender.onSend(func(n int, m compose.Message) {
		if n != 2 {
			return
		}
		// While the 2nd message is in hand the worker's 1 ms lease runs out and a thief takes it.
		deadline := time.Now().Add(10 * time.Second)
		for {
			held, _, err := f.store.LeaseBatch(ctx, f.batch, "thief", time.Hour)
			pgtest.Must(t, "steal", err)
			if held {
				return
			}
			if time.Now().After(deadline) {
				t.Error("the lease did not run out in 10 s")
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	w := newWorker(t, f, worker.Config{Owner: "slow-worker", LeaseTTL: time.Millisecond}, sender, nil, nil)
	if err := f.work(t, w); !errors.Is(err, worker.ErrLeased) {
		t.Fatalf("process: %v, want the batch-is-held error", err)
	}
	if got := sender.callIDs(); !slices.Equal(got, f.deliveries[:2]) {
		t.Fatalf("sender got %v, want only the two sent before the lease was lost", got)
	}
	if got := f.statuses(t); !slices.Equal(got, []string{"sent", "sent", "queued", "queued", "queued"}) {
		t.Fatalf("statuses %v, want the message in hand recorded and the rest left to the thief", got)
	}
	if b := f.batchState(t); b.LeaseOwner == nil || *b.LeaseOwner != "thief" || b.DoneAt != nil {
		t.Fatalf("batch %+v, want held by the thief, not done", b)
	}
}

func TestStopMidBatchGivesTheBatchBack(t *testing.T) {
	t.Parallel()
	f := newRun(t, 5, newsletter)
	sender := newRecordingSender()
	w := newWorker(t, f, worker.Config{}, sender, nil, nil)
	sender.onSend(func(n int, m compose.Message) {
		if n == 2 {
			w.Stop() // SIGTERM while the 2nd message is in hand
		}
	})
	before := time.Now()
	if err := f.work(t, w); !errors.Is(err, worker.ErrStopping) {
		t.Fatalf("process: %v, want the worker-stopping error", err)
	}
	if got := f.statuses(t); !slices.Equal(got, []string{"sent", "sent", "queued", "queued", "queued"}) {
		t.Fatalf("statuses %v, want the message in hand recorded sent and the rest queued", got)
	}
	f.wantBatch(t, false)

	// Another worker takes the batch back up and sends the rest, once.
	sender.onSend(nil)
	other := newWorker(t, f, worker.Config{}, sender, nil, nil)
	if err := f.work(t, other); err != nil {
		t.Fatalf("process on another worker: %v", err)
	}
	f.wantSentOnce(t, sender, before)
	f.wantBatch(t, true)
}

func TestSMSBatchWaitsOutQuietHours(t *testing.T) {
	t.Parallel()
	f := newRun(t, 2, campaigns.Spec{Name: "sms", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.SMS}})
	sender := newRecordingSender()
	allDay := campaigns.QuietHours{Start: 0, End: 24 * time.Hour, Location: time.UTC}
	w := newWorker(t, f, worker.Config{QuietHours: allDay}, sender, nil, nil)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	if n := len(sender.callIDs()); n != 0 {
		t.Fatalf("sent %d SMS in quiet hours", n)
	}
	if got := f.statuses(t); !slices.Equal(got, []string{"queued", "queued"}) {
		t.Fatalf("statuses %v, want queued for the morning", got)
	}
	f.wantBatch(t, false)
}

func TestPrintBatchWrittenOnceWithCodes(t *testing.T) {
	t.Parallel()
	f := newRun(t, 3, campaigns.Spec{Name: "letter", Kind: campaigns.KindCoupon, Channels: []campaigns.Channel{campaigns.Postal},
		Coupon: &campaigns.CouponSpec{Discount: "-10 %", ValidDays: 60}})
	printer := &recordingPrinter{}
	w := newWorker(t, f, worker.Config{}, nil, printer, nil)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	name := fmt.Sprintf("run%d-batch%d", f.runID, f.batch.Batch)
	letters := printer.batches[name]
	if printer.writes != 1 || len(letters) != 3 {
		t.Fatalf("printer wrote %d times, batch %s has %d letters; want one write of 3", printer.writes, name, len(letters))
	}
	codes := f.coupons(t)
	for i, l := range letters {
		if l.DeliveryID != f.deliveries[i] || l.CouponCode == "" || l.CouponCode != codes[l.DeliveryID] {
			t.Errorf("letter %d: delivery %d code %q, want delivery %d (postal-code order) with code %q",
				i, l.DeliveryID, l.CouponCode, f.deliveries[i], codes[f.deliveries[i]])
		}
	}
	for _, r := range f.ledger(t) {
		if r.Status != "sent" || r.ProviderRef != name+".pdf" || r.SentAt == nil {
			t.Errorf("letter recorded %+v, want sent with ref %s.pdf", r, name)
		}
	}
	f.wantBatch(t, true)
}

func TestErrorHandlerIgnoresGivenBackBatches(t *testing.T) {
	t.Parallel()
	logs := &logRecorder{}
	handle := worker.ErrorHandler(slog.New(logs))
	task, err := worker.NewBatchTask(campaigns.Batch{RunID: 7, Channel: campaigns.SMS, Batch: 3})
	pgtest.Must(t, "task", err)
	handle(context.Background(), task, worker.ErrLeased)
	handle(context.Background(), task, worker.ErrStopping)
	if n := len(logs.atLeast(slog.LevelDebug)); n != 0 {
		t.Fatalf("logged %d lines for batches that are not failures", n)
	}
	handle(context.Background(), task, fmt.Errorf("mark 3 deliveries sent: connection refused"))
	got := logs.atLeast(slog.LevelWarn)
	if len(got) != 1 || got[0].attrs["run_id"] != int64(7) || got[0].attrs["channel"] != "sms" || got[0].attrs["batch"] != int64(3) {
		t.Fatalf("logged %+v, want one line with the batch's ids", got)
	}
	if _, ok := got[0].attrs["delivery_id"]; ok {
		t.Fatalf("a store failure names no delivery: %+v", got[0])
	}
}

func TestUnprintableLettersFailAndTheRestAreSent(t *testing.T) {
	t.Parallel()
	f := newRun(t, 3, campaigns.Spec{Name: "letter", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.Postal}})
	reason := fmt.Sprintf("member %d: the name has 2 characters the font cannot draw (Han script)", f.members[1])
	printer := &recordingPrinter{unprintable: map[int64]string{f.deliveries[1]: reason}}
	w := newWorker(t, f, worker.Config{}, nil, printer, nil)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	rows := f.ledger(t)
	if rows[1].Status != "failed" || rows[1].Reason != reason || rows[1].SentAt != nil {
		t.Fatalf("unprintable letter recorded %+v, want failed: %s", rows[1], reason)
	}
	name := fmt.Sprintf("run%d-batch%d", f.runID, f.batch.Batch)
	for _, i := range []int{0, 2} {
		if rows[i].Status != "sent" || rows[i].ProviderRef != name+".pdf" {
			t.Errorf("printed letter #%d recorded %+v, want sent in %s.pdf", i+1, rows[i], name)
		}
	}
	f.wantBatch(t, true)

	// A batch none of whose letters can be printed is finished too: retrying cannot mend them.
	g := newRun(t, 1, campaigns.Spec{Name: "letter", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.Postal}})
	printer = &recordingPrinter{unprintable: map[int64]string{g.deliveries[0]: "too long"}}
	if err := g.work(t, newWorker(t, g, worker.Config{}, nil, printer, nil)); err != nil {
		t.Fatalf("process: %v", err)
	}
	if got := g.statuses(t); !slices.Equal(got, []string{"failed"}) {
		t.Fatalf("statuses %v, want failed", got)
	}
	g.wantBatch(t, true)
}

// A coupon is valid to the end of the day its message names, in DISPATCH_TIMEZONE: the ledger's
// valid_until is 23:59:59.999999 there, valid_days after the day it was issued, and the message
// names that day. (A code issued "for 30 days" used to be refused on the evening of its last day.)
func TestCouponValidToTheEndOfTheDayTheMessageNames(t *testing.T) {
	t.Parallel()
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	pgtest.Must(t, "zone", err)
	f := newRun(t, 2, couponMail)
	sender := newRecordingSender()
	w := newWorker(t, f, worker.Config{Timezone: helsinki}, sender, nil, nil)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	var rows []struct {
		DeliveryID int64     `db:"delivery_id"`
		IssuedAt   time.Time `db:"issued_at"`
		ValidUntil time.Time `db:"valid_until"`
	}
	pgtest.Must(t, "coupons", f.store.DB().Select(&rows, `SELECT delivery_id, issued_at, valid_until FROM coupons ORDER BY delivery_id`))
	if len(rows) != 2 {
		t.Fatalf("%d coupons", len(rows))
	}
	for _, r := range rows {
		until := r.ValidUntil.In(helsinki)
		lastDay := r.IssuedAt.In(helsinki).AddDate(0, 0, couponMail.Coupon.ValidDays)
		if h, m, s := until.Clock(); h != 23 || m != 59 || s != 59 || until.Nanosecond() != 999999000 {
			t.Errorf("delivery %d: valid until %s, want the last microsecond of a day in Helsinki", r.DeliveryID, until)
		}
		if until.Format(time.DateOnly) != lastDay.Format(time.DateOnly) {
			t.Errorf("delivery %d: issued %s, valid through %s, want %s", r.DeliveryID, r.IssuedAt.In(helsinki), until.Format(time.DateOnly), lastDay.Format(time.DateOnly))
		}
		if text := sender.messages(r.DeliveryID)[0].Content.Text; !strings.Contains(text, until.Format("2.1.2006")) {
			t.Errorf("delivery %d: the message does not name the last day %s:\n%s", r.DeliveryID, until.Format("2.1.2006"), text)
		}
	}
}
