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

	"github.com/hibiken/asynq"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
)

// One member whose server answers 451 must not hold up the others: a transient failure is retried
// for that delivery alone, with its own attempts and backoff, and the batch goes on. The batch stays
// open (not done, its run not finished) until the waiting delivery is sent, and is then done.
func TestTransientFailureDefersThatDeliveryOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRun(t, 5, couponMail)
	sender := newRecordingSender()
	// As worker/email reports a greylisting server: the reply's addresses already redacted.
	greylisted := errors.New("smtp RCPT TO refused: 451 4.7.1 <recipient>: greylisted, try again in 5 minutes")
	second := f.deliveries[1]
	sender.failOnce(second, greylisted)
	logs := &logRecorder{}
	metrics := &countingMetrics{}
	const backoff = time.Hour
	w := newWorkerOn(t, f.store, f, worker.Config{CheckEvery: 2, RetryBackoff: backoff}, sender, nil, logs, metrics)
	before := time.Now()

	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v, want nil: a transient failure of one delivery does not fail the batch", err)
	}
	afterPass := time.Now()
	if got := sender.callIDs(); !slices.Equal(got, f.deliveries) {
		t.Fatalf("sender got %v, want every delivery tried once in this pass: %v", got, f.deliveries)
	}
	if got := f.statuses(t); !slices.Equal(got, []string{"sent", "queued", "sent", "sent", "sent"}) {
		t.Fatalf("after the pass: %v, want the others sent and the 2nd queued for a retry", got)
	}
	r := f.ledger(t)[1]
	if r.Attempts != 1 || r.Reason != "transient: smtp 451 4.7.1" || r.SentAt != nil || r.NextAttemptAt == nil {
		t.Fatalf("deferred delivery recorded %+v, want 1 attempt, reason %q and a next attempt", r, "transient: smtp 451 4.7.1")
	}
	// The first wait is RetryBackoff, less up to a fifth at random.
	if earliest, latest := before.Add(backoff*4/5-time.Second), afterPass.Add(backoff+time.Second); r.NextAttemptAt.Before(earliest) || r.NextAttemptAt.After(latest) {
		t.Fatalf("next attempt at %v, want between %v and %v", r.NextAttemptAt, earliest, latest)
	}
	b := f.batchState(t)
	f.wantBatch(t, false)
	if b.RetryAt == nil || !b.RetryAt.Equal(*r.NextAttemptAt) {
		t.Fatalf("batch retry_at %v, want the waiting delivery's next attempt %v", b.RetryAt, r.NextAttemptAt)
	}
	if got := [3]int{metrics.count(worker.OutcomeSent), metrics.count(worker.OutcomeRetried), metrics.count(worker.OutcomeFailed)}; got != [3]int{4, 1, 0} {
		t.Fatalf("counted sent, retried, failed = %v, want [4 1 0]", got)
	}

	// One Info line for the deferred delivery, with its id, attempts, next attempt and reason code;
	// nothing logged as a failure, and no address anywhere.
	var deferred []logRecord
	for _, rec := range logs.atLeast(slog.LevelDebug) {
		for k, v := range rec.attrs {
			if s := fmt.Sprint(v); strings.Contains(s, "@") || strings.Contains(s, "example.com") {
				t.Errorf("log line %q: %s = %q names an address", rec.msg, k, s)
			}
		}
		if rec.msg == "delivery deferred after a transient failure" {
			deferred = append(deferred, rec)
		}
	}
	if len(deferred) != 1 || deferred[0].level != slog.LevelInfo {
		t.Fatalf("logged %+v, want one Info line for the deferred delivery", deferred)
	}
	want := map[string]any{"delivery_id": second, "member_id": f.members[1], "attempts": int64(1), "reason": "transient: smtp 451 4.7.1"}
	for k, v := range want {
		if deferred[0].attrs[k] != v {
			t.Errorf("log line %s = %v (%T), want %v", k, deferred[0].attrs[k], deferred[0].attrs[k], v)
		}
	}
	if at, ok := deferred[0].attrs["next_attempt_at"].(time.Time); !ok || !at.Equal(*r.NextAttemptAt) {
		t.Errorf("log line next_attempt_at = %v, want %v", deferred[0].attrs["next_attempt_at"], r.NextAttemptAt)
	}
	if got := logs.atLeast(slog.LevelWarn); len(got) != 0 {
		t.Errorf("logged %+v at Warn or above for a delivery that is only deferred", got)
	}

	// The run does not finish while a delivery of it waits.
	finished, err := f.store.FinishRuns(ctx)
	pgtest.Must(t, "finish runs", err)
	if len(finished) != 0 || f.runStatus(t) != "running" {
		t.Fatalf("runs finished %v, run %s, want still running while a delivery waits", finished, f.runStatus(t))
	}

	// The task run again before the retry is due (asynq delivers at least once) sends nothing.
	if err := f.work(t, w); err != nil {
		t.Fatalf("process again: %v", err)
	}
	if n := len(sender.callIDs()); n != 5 {
		t.Fatalf("sender called %d times, want still 5: the waiting delivery is not due", n)
	}
	if again := f.batchState(t); again.DoneAt != nil || again.RetryAt == nil || !again.RetryAt.Equal(*b.RetryAt) {
		t.Fatalf("batch after a pass with nothing due: %+v, want still waiting until %v", again, b.RetryAt)
	}

	// Once due, the next pass sends the waiting delivery, once, with the code issued the first time;
	// the batch is done and its run finishes.
	codes := f.coupons(t)
	f.makeDue(t, second)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process when due: %v", err)
	}
	if got, want := sender.callIDs(), append(slices.Clone(f.deliveries), second); !slices.Equal(got, want) {
		t.Fatalf("sender got %v, want %v: only the waiting delivery tried again", got, want)
	}
	f.wantSentOnce(t, sender, before)
	if r := f.ledger(t)[1]; r.Attempts != 2 || r.NextAttemptAt != nil {
		t.Fatalf("retried delivery recorded %+v, want sent after 2 attempts, no next attempt", r)
	}
	f.wantBatch(t, true)
	if b := f.batchState(t); b.RetryAt != nil {
		t.Fatalf("done batch keeps retry_at %v", b.RetryAt)
	}
	msgs := sender.messages(second)
	if again := f.coupons(t); len(again) != len(f.deliveries) || again[second] != codes[second] ||
		!strings.Contains(msgs[0].Content.Text, codes[second]) || !strings.Contains(msgs[1].Content.Text, codes[second]) {
		t.Fatalf("coupons %v after %v: the retried delivery must carry its first code in both messages", again, codes)
	}
	// The worker that completed the run's last batch finished the run.
	if status := f.runStatus(t); status != "finished" {
		t.Fatalf("run %s after its last batch, want finished", status)
	}
}

// A delivery that fails transiently every time fails for good after MaxAttempts tries, with a
// reason that says so, and the batch is then done.
func TestTransientFailureGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	f := newRun(t, 3, newsletter)
	sender := newRecordingSender()
	third := f.deliveries[2]
	sender.failAlways(third, errors.New("smtp end of DATA refused: 421 4.4.2 connection dropped"))
	metrics := &countingMetrics{}
	logs := &logRecorder{}
	// Short waits, on the database's clock: each pass sends what is due by then.
	cfg := worker.Config{MaxAttempts: 3, RetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 30 * time.Millisecond}
	w := newWorkerOn(t, f.store, f, cfg, sender, nil, logs, metrics)
	deadline := time.Now().Add(10 * time.Second)
	passes := 0
	for f.batchState(t).DoneAt == nil {
		if time.Now().After(deadline) {
			t.Fatalf("batch not done after %d passes: %v, %+v", passes, f.statuses(t), f.ledger(t)[2])
		}
		if err := f.work(t, w); err != nil {
			t.Fatalf("pass %d: %v", passes+1, err)
		}
		passes++
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(sender.messages(third)); n != 3 {
		t.Fatalf("the failing delivery was tried %d times, want MaxAttempts = 3", n)
	}
	if got := f.statuses(t); !slices.Equal(got, []string{"sent", "sent", "failed"}) {
		t.Fatalf("statuses %v, want the others sent and the failing one failed", got)
	}
	r := f.ledger(t)[2]
	if r.Reason != "gave up after 3 attempts: transient: smtp 421 4.4.2" || r.Attempts != 3 || r.NextAttemptAt != nil || r.SentAt != nil {
		t.Fatalf("given-up delivery recorded %+v", r)
	}
	if got := sender.sentIDs(); !slices.Equal(got, f.deliveries[:2]) {
		t.Fatalf("sent %v, want %v once each", got, f.deliveries[:2])
	}
	if got := [3]int{metrics.count(worker.OutcomeSent), metrics.count(worker.OutcomeRetried), metrics.count(worker.OutcomeFailed)}; got != [3]int{2, 2, 1} {
		t.Fatalf("counted sent, retried, failed = %v, want [2 2 1]", got)
	}
	warns := logs.atLeast(slog.LevelWarn)
	if len(warns) != 1 || warns[0].msg != "delivery failed" || warns[0].attrs["delivery_id"] != third || warns[0].attrs["attempts"] != int64(3) {
		t.Fatalf("logged %+v at Warn, want the give-up once with its delivery and attempts", warns)
	}
	f.wantBatch(t, true)
	if status := f.runStatus(t); status != "finished" {
		t.Fatalf("run %s after its last batch, want finished", status)
	}
}

// A Sender's error that comes from ctx ending (the worker shutting down, the task's timeout) is not
// the recipient's doing: no attempt is counted and the batch is given back to asynq as it is. The
// error is logged once, by the error handler, with the delivery's id.
func TestSendCutShortByShutdownCountsNoAttempt(t *testing.T) {
	t.Parallel()
	f := newRun(t, 4, newsletter)
	sender := newRecordingSender()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	second := f.deliveries[1]
	sender.onSend(func(n int, m compose.Message) {
		if n == 2 {
			cancel() // the server shuts down while the 2nd message is in hand
		}
	})
	sender.failOnce(second, fmt.Errorf("smtp send: %w", context.Canceled))
	logs := &logRecorder{}
	w := newWorker(t, f, worker.Config{}, sender, nil, logs)
	before := time.Now()
	task, err := worker.NewBatchTask(f.batch)
	pgtest.Must(t, "task", err)

	err = w.ProcessBatch(ctx, task)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), fmt.Sprintf("send delivery %d: ", second)) {
		t.Fatalf("process: %v, want the sender's error naming delivery %d", err, second)
	}
	if errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("a batch given back must be retried: %v", err)
	}
	if got := f.statuses(t); !slices.Equal(got, []string{"sent", "queued", "queued", "queued"}) {
		t.Fatalf("statuses %v, want the one before recorded sent and the rest queued", got)
	}
	if r := f.ledger(t)[1]; r.Attempts != 0 || r.NextAttemptAt != nil || r.Reason != "" {
		t.Fatalf("delivery cut short recorded %+v, want untouched: no attempt counted", r)
	}
	f.wantBatch(t, false)
	if b := f.batchState(t); b.RetryAt != nil {
		t.Fatalf("batch given back with retry_at %v, want none: asynq retries its task", b.RetryAt)
	}
	if got := logs.atLeast(slog.LevelInfo); len(got) != 0 {
		t.Fatalf("worker logged %+v for an error it returns", got)
	}
	worker.ErrorHandler(slog.New(logs))(context.Background(), task, err)
	if got := logs.atLeast(slog.LevelWarn); len(got) != 1 || got[0].attrs["delivery_id"] != second || got[0].attrs["run_id"] != f.runID {
		t.Fatalf("error handler logged %+v, want one line naming delivery %d", got, second)
	}

	// asynq's retry sends the rest, each once.
	sender.onSend(nil)
	if err := f.work(t, w); err != nil {
		t.Fatalf("retry: %v", err)
	}
	f.wantSentOnce(t, sender, before)
	f.wantBatch(t, true)
}

// failingRetries is the real store, except that recording a retry fails, as when the database goes
// away in the middle of a batch.
type failingRetries struct{ *postgres.Store }

var errStoreDown = errors.New("mark delivery for a retry: connection refused")

func (failingRetries) MarkRetry(context.Context, int64, time.Duration, string) (time.Time, error) {
	return time.Time{}, errStoreDown
}

// A store that cannot record a transient failure stops the batch as before: the error goes to
// asynq, the batch is given back unfinished, and the retry sends what is left.
func TestStoreFailureOnRetryStopsTheBatch(t *testing.T) {
	t.Parallel()
	f := newRun(t, 4, newsletter)
	sender := newRecordingSender()
	sender.failOnce(f.deliveries[1], errors.New("smtp RCPT TO refused: 450 4.2.0 mailbox busy"))
	w := newWorkerOn(t, failingRetries{f.store}, f, worker.Config{}, sender, nil, nil, nil)
	before := time.Now()
	if err := f.work(t, w); !errors.Is(err, errStoreDown) {
		t.Fatalf("process: %v, want the store's error", err)
	}
	if got := sender.callIDs(); !slices.Equal(got, f.deliveries[:2]) {
		t.Fatalf("sender got %v, want the batch stopped after %v", got, f.deliveries[:2])
	}
	if got := f.statuses(t); !slices.Equal(got, []string{"sent", "queued", "queued", "queued"}) {
		t.Fatalf("statuses %v", got)
	}
	f.wantBatch(t, false)
	if b := f.batchState(t); b.RetryAt != nil {
		t.Fatalf("batch given back with retry_at %v, want none: asynq retries its task", b.RetryAt)
	}
	if err := f.work(t, newWorker(t, f, worker.Config{}, sender, nil, nil)); err != nil {
		t.Fatalf("retry: %v", err)
	}
	f.wantSentOnce(t, sender, before)
	f.wantBatch(t, true)
}

// A campaign cancelled while a delivery waits for its retry: the delivery is cancelled with the
// rest, and nothing waits any more.
func TestCancelWhileADeliveryWaits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRun(t, 3, newsletter)
	sender := newRecordingSender()
	sender.failOnce(f.deliveries[0], errors.New("sms twilio for delivery 1: HTTP 503 code 20003: busy (will retry)"))
	w := newWorker(t, f, worker.Config{RetryBackoff: time.Hour}, sender, nil, nil)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	if r := f.ledger(t)[0]; r.Status != "queued" || r.Reason != "transient: http 503" {
		t.Fatalf("deferred delivery %+v", r)
	}
	pgtest.Must(t, "cancel", f.store.CancelCampaign(ctx, f.campaignID, audit(campaigns.AuditCampaignCancel)))
	if got := f.statuses(t); !slices.Equal(got, []string{"cancelled", "sent", "sent"}) {
		t.Fatalf("statuses %v, want the waiting delivery cancelled", got)
	}
	f.wantBatch(t, true)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process after cancel: %v", err)
	}
	if n := len(sender.callIDs()); n != 3 {
		t.Fatalf("sender called %d times, want 3", n)
	}
}
