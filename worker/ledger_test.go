package worker_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
)

var _ worker.Store = (*postgres.Store)(nil)

const memberHeader = "external_id,first_name,last_name,email,phone,street,postal_code,city,country,language,email_consent,sms_consent,postal_objection\n"

// runFixture is one started and selected run in a schema of its own, with one batch on the channel
// under test: the ledger a worker meets when the scheduler has done its part.
type runFixture struct {
	store      *postgres.Store
	campaignID int64
	runID      int64
	batch      campaigns.Batch
	// deliveries are the batch's delivery ids in the order the worker sends them (by member id;
	// letters by postal code), and members the member id of each.
	deliveries []int64
	members    []int64
}

// newRun registers n members reachable on every channel (email m<i>@example.com, their own phone
// number and a postal code that falls as i rises), creates, schedules, starts and selects a campaign
// of spec, and returns its batch on spec's first channel.
func newRun(t *testing.T, n int, spec campaigns.Spec) *runFixture {
	t.Helper()
	ctx := context.Background()
	s := pgtest.New(t)
	var b strings.Builder
	b.WriteString(memberHeader)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "M%d,Aino,Laine,m%d@example.com,04010%05d,Katu %d,%05d,HELSINKI,FI,fi,yes,yes,no\n", i, i, i, i, 99000-i)
	}
	data := b.String()
	res, err := s.ImportMembers(ctx, func(row func(csvfile.MemberRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadMembers(strings.NewReader(data), "m.csv", row)
	}, campaigns.SourceImport, campaigns.Audit{Actor: "tester", Action: campaigns.AuditMembersImport})
	pgtest.Must(t, "import", err)
	if res.Rejected > 0 {
		t.Fatalf("import rejected %v", res.Rejections)
	}
	pgtest.Must(t, "validate", spec.Validate())
	c, err := s.CreateCampaign(ctx, &spec, campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignCreate})
	pgtest.Must(t, "create", err)
	pgtest.Must(t, "schedule", s.ScheduleCampaign(ctx, c.ID, time.Now().Add(-time.Second), campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignSchedule}))
	runs, err := s.StartDueRuns(ctx, time.Now(), func(campaigns.Spec, time.Time) (*time.Time, error) { return nil, nil })
	pgtest.Must(t, "start", err)
	if len(runs) != 1 {
		t.Fatalf("started %d runs, want 1", len(runs))
	}
	for i := 0; ; i++ {
		res, err := s.SelectRun(ctx, runs[0], campaigns.SelectOptions{})
		pgtest.Must(t, "select", err)
		if res.Done {
			break
		}
		if i > 100 {
			t.Fatal("selection does not end")
		}
	}
	f := &runFixture{store: s, campaignID: c.ID, runID: runs[0]}
	ch := spec.Channels[0]
	var batches []campaigns.Batch
	pgtest.Must(t, "batches", s.DB().Select(&batches, `SELECT run_id, channel, batch, size, enqueued_at, enqueues
		FROM batches WHERE run_id = $1 AND channel = $2`, f.runID, ch))
	if len(batches) != 1 || batches[0].Size != n {
		t.Fatalf("batches on %s: %+v, want one of %d", ch, batches, n)
	}
	f.batch = batches[0]
	order := "d.member_id"
	if ch == campaigns.Postal {
		order = "m.postal_code, d.member_id"
	}
	var rows []struct {
		ID       int64 `db:"id"`
		MemberID int64 `db:"member_id"`
	}
	pgtest.Must(t, "deliveries", s.DB().Select(&rows, `SELECT d.id, d.member_id FROM deliveries d
		JOIN members m ON m.id = d.member_id WHERE d.run_id = $1 AND d.channel = $2 ORDER BY `+order, f.runID, ch))
	for _, r := range rows {
		f.deliveries = append(f.deliveries, r.ID)
		f.members = append(f.members, r.MemberID)
	}
	if len(f.deliveries) != n {
		t.Fatalf("%d deliveries on %s, want %d", len(f.deliveries), ch, n)
	}
	return f
}

// newWorker returns a worker on the fixture's store sending through sender on the batch's channel
// (a postal batch through printer), with no rate limit, no metrics and no Redis. Its log goes to
// logs when given.
func newWorker(t *testing.T, f *runFixture, cfg worker.Config, sender worker.Sender, printer worker.PrintSender, logs *logRecorder) *worker.Worker {
	t.Helper()
	return newWorkerOn(t, f.store, f, cfg, sender, printer, logs, nil)
}

// newWorkerOn is newWorker on another store than the fixture's (one that fails on purpose), with
// metrics (nil: none).
func newWorkerOn(t *testing.T, store worker.Store, f *runFixture, cfg worker.Config, sender worker.Sender, printer worker.PrintSender, logs *logRecorder, metrics worker.Metrics) *worker.Worker {
	t.Helper()
	r, err := templates.New("")
	pgtest.Must(t, "templates", err)
	composer, err := compose.New(compose.Config{PublicURL: "https://x.example", Secret: []byte("0123456789abcdef0123")}, r)
	pgtest.Must(t, "composer", err)
	senders := map[campaigns.Channel]worker.Sender{}
	if sender != nil {
		senders[f.batch.Channel] = sender
	}
	if logs == nil {
		logs = &logRecorder{}
	}
	w, err := worker.New(cfg, store, senders, printer, composer, nil, metrics, slog.New(logs))
	pgtest.Must(t, "worker", err)
	return w
}

// work runs the fixture's batch once, as asynq would: the task built by the scheduler's constructor,
// handed to the worker's handler.
func (f *runFixture) work(t *testing.T, w *worker.Worker) error {
	t.Helper()
	task, err := worker.NewBatchTask(f.batch)
	pgtest.Must(t, "task", err)
	return w.ProcessBatch(context.Background(), task)
}

// deliveryRow is a delivery as the ledger has it.
type deliveryRow struct {
	ID            int64      `db:"id"`
	Status        string     `db:"status"`
	Reason        string     `db:"reason"`
	SentAt        *time.Time `db:"sent_at"`
	ProviderRef   string     `db:"provider_ref"`
	Attempts      int        `db:"attempts"`
	NextAttemptAt *time.Time `db:"next_attempt_at"`
}

// ledger returns the fixture's deliveries in sending order.
func (f *runFixture) ledger(t *testing.T) []deliveryRow {
	t.Helper()
	rows := make([]deliveryRow, len(f.deliveries))
	for i, id := range f.deliveries {
		pgtest.Must(t, "delivery", f.store.DB().Get(&rows[i], `SELECT id, status, reason, sent_at, provider_ref, attempts,
			next_attempt_at FROM deliveries WHERE id = $1`, id))
	}
	return rows
}

// makeDue brings the next attempt of a delivery waiting for a retry forward to a second ago.
func (f *runFixture) makeDue(t *testing.T, deliveryID int64) {
	t.Helper()
	res, err := f.store.DB().Exec(`UPDATE deliveries SET next_attempt_at = now() - interval '1 second'
		WHERE id = $1 AND status = 'queued' AND next_attempt_at IS NOT NULL`, deliveryID)
	pgtest.Must(t, "make due", err)
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("delivery %d is not waiting for a retry", deliveryID)
	}
}

// runStatus returns the status of the fixture's run.
func (f *runFixture) runStatus(t *testing.T) string {
	t.Helper()
	var status string
	pgtest.Must(t, "run", f.store.DB().Get(&status, `SELECT status FROM runs WHERE id = $1`, f.runID))
	return status
}

// statuses returns the status of each of the fixture's deliveries, in sending order.
func (f *runFixture) statuses(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, r := range f.ledger(t) {
		out = append(out, r.Status)
	}
	return out
}

// batchRow is the batch as the ledger has it.
type batchRow struct {
	LeaseOwner *string    `db:"lease_owner"`
	DoneAt     *time.Time `db:"done_at"`
	RetryAt    *time.Time `db:"retry_at"`
}

func (f *runFixture) batchState(t *testing.T) batchRow {
	t.Helper()
	var b batchRow
	pgtest.Must(t, "batch", f.store.DB().Get(&b, `SELECT lease_owner, done_at, retry_at FROM batches
		WHERE run_id = $1 AND channel = $2 AND batch = $3`, f.batch.RunID, f.batch.Channel, f.batch.Batch))
	return b
}

// wantBatch fails the test unless the batch is done (or not) and nobody holds it.
func (f *runFixture) wantBatch(t *testing.T, done bool) {
	t.Helper()
	b := f.batchState(t)
	if b.LeaseOwner != nil {
		t.Errorf("batch still leased by %q, want given back", *b.LeaseOwner)
	}
	if (b.DoneAt != nil) != done {
		t.Errorf("batch done_at = %v, want done = %v", b.DoneAt, done)
	}
}

// wantSentOnce fails the test unless each of the fixture's deliveries went out exactly once through
// sender and is recorded sent, with its receipt's reference and a send time.
func (f *runFixture) wantSentOnce(t *testing.T, sender *recordingSender, before time.Time) {
	t.Helper()
	count := map[int64]int{}
	for _, id := range sender.sentIDs() {
		count[id]++
	}
	for i, r := range f.ledger(t) {
		if count[r.ID] != 1 {
			t.Errorf("delivery %d (#%d) went out %d times, want once", r.ID, i+1, count[r.ID])
		}
		if r.Status != "sent" || r.ProviderRef != fmt.Sprintf("ref-%d", r.ID) || r.SentAt == nil ||
			r.SentAt.Before(before.Add(-time.Second)) || r.SentAt.After(time.Now().Add(time.Second)) || r.Reason != "" {
			t.Errorf("delivery %d (#%d) recorded %+v, want sent with ref-%d now", r.ID, i+1, r, r.ID)
		}
	}
	if len(count) != len(f.deliveries) {
		t.Errorf("sender sent %d distinct deliveries %v, want %d", len(count), sender.sentIDs(), len(f.deliveries))
	}
}

// coupons returns the code of each delivery that has one.
func (f *runFixture) coupons(t *testing.T) map[int64]string {
	t.Helper()
	var rows []struct {
		DeliveryID int64  `db:"delivery_id"`
		Code       string `db:"code"`
	}
	pgtest.Must(t, "coupons", f.store.DB().Select(&rows, `SELECT delivery_id, code FROM coupons WHERE run_id = $1`, f.runID))
	out := map[int64]string{}
	for _, r := range rows {
		if _, dup := out[r.DeliveryID]; dup {
			t.Fatalf("delivery %d has two coupons", r.DeliveryID)
		}
		out[r.DeliveryID] = r.Code
	}
	return out
}

func audit(action campaigns.AuditAction) campaigns.Audit {
	return campaigns.Audit{Actor: "tester", Action: action}
}
