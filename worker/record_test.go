package worker_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
)

// Whenever a message is in the sender's hands, every message the batch sent before it is in the
// ledger already: a worker killed at any moment leaves at most the one in hand unrecorded. The
// chunk (CheckEvery) is larger than the batch, so the old record-per-chunk would fail this.
func TestEachMessageIsRecordedBeforeTheNextGoesOut(t *testing.T) {
	t.Parallel()
	f := newRun(t, 8, newsletter)
	sender := newRecordingSender()
	var mu sync.Mutex
	var unrecorded []int // per Send: messages sent before it and not in the ledger
	sender.onSend(func(n int, _ compose.Message) {
		sent := n - 1 // every earlier Send succeeded
		recorded := pgtest.Count(t, f.store.DB(), `SELECT count(*) FROM deliveries WHERE run_id = $1 AND status = 'sent'`, f.runID)
		mu.Lock()
		unrecorded = append(unrecorded, sent-recorded)
		mu.Unlock()
	})
	w := newWorker(t, f, worker.Config{CheckEvery: 50}, sender, nil, nil)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	for i, n := range unrecorded {
		if n != 0 {
			t.Fatalf("message %d went out with %d earlier messages not yet recorded (per Send: %v)", i+1, n, unrecorded)
		}
	}
	if len(unrecorded) != 8 {
		t.Fatalf("%d sends, want 8", len(unrecorded))
	}
	for i, s := range f.statuses(t) {
		if s != "sent" {
			t.Fatalf("delivery #%d is %s after the batch, want sent", i+1, s)
		}
	}
	f.wantBatch(t, true)
	if status := f.runStatus(t); status != "finished" {
		t.Fatalf("run %s after its only batch, want finished by the worker", status)
	}
}

// flakyLedger fails its first few MarkSent calls, as a database restarting would.
type flakyLedger struct {
	*postgres.Store
	failures atomic.Int32
	calls    atomic.Int32
}

func (l *flakyLedger) MarkSent(ctx context.Context, sent []campaigns.Sent) error {
	l.calls.Add(1)
	if l.failures.Add(-1) >= 0 {
		return errors.New("mark deliveries sent: driver: bad connection")
	}
	return l.Store.MarkSent(ctx, sent)
}

// A ledger that cannot record a sent message for a while holds the batch back (nothing more is
// sent meanwhile) and gets it in the end: nothing sent is lost from the ledger, and nothing is
// sent twice.
func TestSentMessagesAreRecordedOnceTheLedgerComesBack(t *testing.T) {
	t.Parallel()
	f := newRun(t, 4, newsletter)
	ledger := &flakyLedger{Store: f.store}
	ledger.failures.Store(3)
	sender := newRecordingSender()
	var during []int
	sender.onSend(func(n int, _ compose.Message) {
		if n == 2 {
			// The second message goes out only after the first was written, failures and all.
			during = append(during, int(ledger.calls.Load()))
		}
	})
	w := newWorkerOn(t, ledger, f, worker.Config{}, sender, nil, nil, nil)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	if len(during) != 1 || during[0] != 4 {
		t.Fatalf("the second message went out after %v MarkSent calls, want 4 (3 failed, 1 written)", during)
	}
	for i, s := range f.statuses(t) {
		if s != "sent" {
			t.Fatalf("delivery #%d is %s, want sent", i+1, s)
		}
	}
	if n := len(sender.callIDs()); n != 4 {
		t.Fatalf("%d sends for 4 deliveries", n)
	}
	f.wantBatch(t, true)
}

// Two tasks of one batch handled at once by one worker process (a task enqueued again while the
// first still ran) do not both send it: each handling holds the lease under a name of its own, so
// the second finds the batch held and is retried later, when it is done.
func TestTwoTasksOfOneBatchInOneWorkerSendItOnce(t *testing.T) {
	t.Parallel()
	f := newRun(t, 6, newsletter)
	sender := newRecordingSender()
	started := make(chan struct{})
	var once sync.Once
	release := make(chan struct{})
	sender.onSend(func(n int, _ compose.Message) {
		if n == 1 {
			once.Do(func() { close(started) })
			<-release // the first handling holds the batch while the second one comes
		}
	})
	w := newWorker(t, f, worker.Config{}, sender, nil, nil)
	errs := make(chan error, 2)
	go func() { errs <- f.work(t, w) }()
	<-started
	go func() { errs <- f.work(t, w) }()
	second := <-errs // the second handling returns at once: the batch is held
	close(release)
	first := <-errs
	if first != nil {
		t.Fatalf("the first handling: %v", first)
	}
	if second == nil || !strings.Contains(second.Error(), "held by another worker") {
		t.Fatalf("the second handling returned %v, want the batch held by another", second)
	}
	if ids := sender.callIDs(); len(ids) != 6 {
		t.Fatalf("%d sends for 6 deliveries: %v", len(ids), ids)
	}
	f.wantBatch(t, true)
}

// gatedSender is a recordingSender that is also a worker.GatedSender: before ready, it notes how
// many of the batch's earlier messages the ledger shows sent (the exchange goes on while the
// previous message is written); after ready, it sends, as the end of DATA would.
type gatedSender struct {
	*recordingSender
	before func() // called before ready
}

func (g gatedSender) SendWhen(ctx context.Context, m compose.Message, ready func(context.Context) error) (worker.Receipt, error) {
	g.before()
	if err := ready(ctx); err != nil {
		return worker.Receipt{}, err
	}
	return g.Send(ctx, m)
}

// slowLedger takes a while to write each group of sent messages.
type slowLedger struct {
	*postgres.Store
	delay time.Duration
}

func (l slowLedger) MarkSent(ctx context.Context, sent []campaigns.Sent) error {
	time.Sleep(l.delay)
	return l.Store.MarkSent(ctx, sent)
}

// With a GatedSender (email), a message travels while the one before it is written, and is only
// accepted (ready returns, the end of DATA goes out) once that one is in the ledger: the bound of
// one unrecorded message per batch holds, and the record's wait no longer comes before the send.
func TestGatedSenderOverlapsTheRecordAndKeepsTheBound(t *testing.T) {
	t.Parallel()
	f := newRun(t, 6, newsletter)
	count := func() int {
		return pgtest.Count(t, f.store.DB(), `SELECT count(*) FROM deliveries WHERE run_id = $1 AND status = 'sent'`, f.runID)
	}
	rec := newRecordingSender()
	var atStart, atAccept []int // per message: earlier messages not yet in the ledger
	sender := gatedSender{recordingSender: rec, before: func() {
		atStart = append(atStart, len(rec.callIDs())-count())
	}}
	rec.onSend(func(n int, _ compose.Message) {
		atAccept = append(atAccept, (n-1)-count())
	})
	w := newWorkerOn(t, slowLedger{Store: f.store, delay: 40 * time.Millisecond}, f, worker.Config{CheckEvery: 50}, sender, nil, nil, nil)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	if len(atAccept) != 6 {
		t.Fatalf("%d messages accepted, want 6", len(atAccept))
	}
	for i, n := range atAccept {
		if n != 0 {
			t.Fatalf("message %d was accepted with %d earlier messages not yet recorded (%v)", i+1, n, atAccept)
		}
	}
	overlapped := 0
	for _, n := range atStart {
		if n > 0 {
			overlapped++
		}
	}
	// Every message after the first (sent at once, with nothing to wait for) starts while the
	// previous one is being written (40 ms).
	if overlapped != 5 {
		t.Fatalf("%d of 5 messages started while the previous one was written (unrecorded at start: %v)", overlapped, atStart)
	}
	for i, s := range f.statuses(t) {
		if s != "sent" {
			t.Fatalf("delivery #%d is %s, want sent", i+1, s)
		}
	}
}

// A member erased after the selection is sent nothing: the batch marks the delivery skipped
// ("erased") before it sends the others.
func TestMemberErasedAfterTheSelectionIsSkipped(t *testing.T) {
	t.Parallel()
	f := newRun(t, 3, newsletter)
	_, err := f.store.EraseMember(context.Background(), "M2", campaigns.Audit{Actor: "privacy", Action: campaigns.AuditMembersErase})
	pgtest.Must(t, "erase", err)
	sender := newRecordingSender()
	w := newWorker(t, f, worker.Config{}, sender, nil, nil)
	if err := f.work(t, w); err != nil {
		t.Fatalf("process: %v", err)
	}
	if n := len(sender.callIDs()); n != 2 {
		t.Fatalf("%d messages sent, want 2 (M2 erased)", n)
	}
	got := map[string]int{}
	for _, r := range f.ledger(t) {
		got[r.Status+"/"+r.Reason]++
	}
	if got["sent/"] != 2 || got["skipped/erased"] != 1 {
		t.Fatalf("the ledger after the batch: %v, want 2 sent and 1 skipped as erased", got)
	}
	f.wantBatch(t, true)
}
