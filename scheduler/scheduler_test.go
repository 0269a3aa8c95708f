package scheduler_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/internal/redistest"
	"github.com/jacksmood/dispatch/scheduler"
	"github.com/jacksmood/dispatch/worker"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const header = "external_id,first_name,last_name,email,phone,street,postal_code,city,country,language,email_consent,sms_consent,postal_objection\n"

// register fills the store with n members reachable on email and post, half of them by SMS too.
func register(t *testing.T, s *postgres.Store, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString(header)
	for i := 1; i <= n; i++ {
		sms := "no"
		if i%2 == 0 {
			sms = "yes"
		}
		fmt.Fprintf(&b, "M%d,Aino,Laine,m%d@example.com,04010%05d,Katu %d,00100,HELSINKI,FI,fi,yes,%s,no\n", i, i, i, i, sms)
	}
	data := b.String()
	_, err := s.ImportMembers(context.Background(), func(row func(csvfile.MemberRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadMembers(strings.NewReader(data), "m.csv", row)
	}, campaigns.SourceImport, campaigns.Audit{Actor: "tester", Action: campaigns.AuditMembersImport})
	pgtest.Must(t, "import", err)
}

func createCampaign(t *testing.T, s *postgres.Store, spec campaigns.Spec, first time.Time) int64 {
	t.Helper()
	pgtest.Must(t, "validate", spec.Validate())
	c, err := s.CreateCampaign(context.Background(), &spec, campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignCreate})
	pgtest.Must(t, "create", err)
	pgtest.Must(t, "schedule", s.ScheduleCampaign(context.Background(), c.ID, first, campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignSchedule}))
	return c.ID
}

// queuedTaskIDs lists every task in the queues of the test's Redis.
func queuedTaskIDs(t *testing.T, opt asynq.RedisClientOpt) []string {
	t.Helper()
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	var ids []string
	for _, q := range []string{worker.QueueEmail, worker.QueueSMS, worker.QueuePrint} {
		tasks, err := insp.ListPendingTasks(q, asynq.PageSize(10000))
		if err != nil && !strings.Contains(err.Error(), "not found") {
			t.Fatalf("list %s: %v", q, err)
		}
		for _, task := range tasks {
			ids = append(ids, task.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

func TestTwoSchedulersStartOneRun(t *testing.T) {
	t.Parallel()
	url := pgtest.SchemaURL(t)
	rdb := redistest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Two schedulers, each with its own database pool and Redis client, as two processes would be.
	var stores []*postgres.Store
	for i := 0; i < 2; i++ {
		s, err := postgres.Open(ctx, url)
		pgtest.Must(t, "open", err)
		t.Cleanup(func() { s.Close() })
		s.SetRegisterKey(pgtest.RegisterKey)
		stores = append(stores, s)
	}
	_, err := stores[0].Migrate(ctx)
	pgtest.Must(t, "migrate", err)
	register(t, stores[0], 30)
	campaignID := createCampaign(t, stores[0], campaigns.Spec{Name: "once", Kind: campaigns.KindNewsletter,
		Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal}}, time.Now().Add(-time.Second))

	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 2; i++ {
		q := scheduler.NewRedisQueue(rdb.Opt)
		t.Cleanup(func() { q.Close() })
		sch, err := scheduler.New(scheduler.Config{Interval: 20 * time.Millisecond, Select: campaigns.SelectOptions{BatchSize: 4}}, stores[i], q, quiet)
		pgtest.Must(t, "scheduler", err)
		// Both also call Tick directly, bypassing the leadership, to race the store's own guards.
		wg.Add(2)
		go func() { defer wg.Done(); <-start; sch.Run(ctx) }()
		go func() {
			defer wg.Done()
			<-start
			for j := 0; j < 20; j++ {
				if err := sch.Tick(ctx); err != nil && ctx.Err() == nil {
					t.Errorf("tick: %v", err)
				}
			}
		}()
	}
	close(start)
	deadline := time.Now().Add(10 * time.Second)
	for pgtest.Count(t, stores[0].DB(), `SELECT count(*) FROM batches WHERE enqueued_at IS NULL`) > 0 ||
		pgtest.Count(t, stores[0].DB(), `SELECT count(*) FROM batches`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("batches were not enqueued in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	wg.Wait()

	db := stores[0].DB()
	if n := pgtest.Count(t, db, `SELECT count(*) FROM runs WHERE campaign_id = $1`, campaignID); n != 1 {
		t.Fatalf("runs = %d, want exactly 1", n)
	}
	// 30 email + 15 sms + 30 postal deliveries: 8 + 4 email/sms batches of 4, 1 print batch.
	if n := pgtest.Count(t, db, `SELECT count(*) FROM deliveries`); n != 75 {
		t.Fatalf("deliveries = %d, want 75", n)
	}
	batches := pgtest.Count(t, db, `SELECT count(*) FROM batches`)
	if batches != 13 {
		t.Fatalf("batches = %d, want 13", batches)
	}
	ids := queuedTaskIDs(t, rdb.Opt)
	if len(ids) != batches {
		t.Fatalf("tasks in Redis = %d, want one per batch (%d): %v", len(ids), batches, ids)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM batches WHERE enqueues <> 1`); n != 0 {
		t.Fatalf("%d batches were enqueued more than once", n)
	}
	// Ids only in Redis: no address, name or phone in any key or value.
	keys, err := rdb.Client.Keys(context.Background(), "*").Result()
	pgtest.Must(t, "keys", err)
	for _, k := range keys {
		dump, _ := rdb.Client.Dump(context.Background(), k).Result()
		for _, pii := range []string{"example.com", "Aino", "Laine", "+35840", "Katu"} {
			if strings.Contains(k, pii) || strings.Contains(dump, pii) {
				t.Fatalf("Redis key %s holds %q", k, pii)
			}
		}
	}
}

func TestRecurringCampaignTicksOncePerTick(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	rdb := redistest.New(t)
	ctx := context.Background()
	register(t, s, 3)
	helsinki, _ := time.LoadLocation("Europe/Helsinki")
	spec := campaigns.Spec{Name: "weekly", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.Email},
		Schedule: campaigns.Schedule{Cron: "0 9 * * MON"}}
	pgtest.Must(t, "validate", spec.Validate())
	// Tuesday 24 November 2026: the first tick is Monday 30 November 09:00 Helsinki time.
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, helsinki)
	first, err := scheduler.FirstRun(spec, "", now, helsinki)
	pgtest.Must(t, "first run", err)
	if want := time.Date(2026, 11, 30, 9, 0, 0, 0, helsinki); !first.Equal(want) {
		t.Fatalf("first run %v, want %v", first, want)
	}
	campaignID := createCampaign(t, s, spec, first)

	var clock atomic.Value
	clock.Store(now)
	q := scheduler.NewRedisQueue(rdb.Opt)
	defer q.Close()
	sch, err := scheduler.New(scheduler.Config{Location: helsinki, Clock: func() time.Time { return clock.Load().(time.Time) }}, s, q, quiet)
	pgtest.Must(t, "scheduler", err)
	runs := func() int {
		return pgtest.Count(t, s.DB(), `SELECT count(*) FROM runs WHERE campaign_id = $1`, campaignID)
	}

	steps := []struct {
		at   time.Time
		runs int
	}{
		{now, 0},
		{time.Date(2026, 11, 30, 8, 59, 59, 0, helsinki), 0},
		{time.Date(2026, 11, 30, 9, 0, 1, 0, helsinki), 1},
		{time.Date(2026, 11, 30, 9, 30, 0, 0, helsinki), 1},
		{time.Date(2026, 12, 6, 23, 0, 0, 0, helsinki), 1},
		{time.Date(2026, 12, 7, 9, 0, 5, 0, helsinki), 2},
		{time.Date(2026, 12, 7, 9, 0, 6, 0, helsinki), 2},
	}
	for _, st := range steps {
		clock.Store(st.at)
		for i := 0; i < 2; i++ {
			pgtest.Must(t, "tick", sch.Tick(ctx))
		}
		if got := runs(); got != st.runs {
			t.Fatalf("at %v: %d runs, want %d", st.at, got, st.runs)
		}
	}
	var scheduled []time.Time
	pgtest.Must(t, "runs", s.DB().Select(&scheduled, `SELECT scheduled_for FROM runs WHERE campaign_id = $1 ORDER BY id`, campaignID))
	if !scheduled[1].Equal(time.Date(2026, 12, 7, 9, 0, 0, 0, helsinki)) {
		t.Fatalf("second run scheduled for %v", scheduled[1])
	}
	c, err := s.Campaign(ctx, campaignID)
	pgtest.Must(t, "campaign", err)
	if c.NextRunAt == nil || !c.NextRunAt.Equal(time.Date(2026, 12, 14, 9, 0, 0, 0, helsinki)) {
		t.Fatalf("next run %v, want 14 December 09:00", c.NextRunAt)
	}
	if n := len(queuedTaskIDs(t, rdb.Opt)); n != 2 {
		t.Fatalf("tasks = %d, want 2 (one batch per run)", n)
	}
}

// A batch that a worker gave back with a delivery waiting for a retry (after a transient failure)
// has no task in the queue, on purpose: the scheduler enqueues it again once its retry time has
// passed and not before, its run does not finish meanwhile, and a task lost after that is found
// missing and enqueued again as any other. (The worker's side: worker's
// TestTransientFailureDefersThatDeliveryOnly.)
func TestBatchWaitingForARetryIsEnqueuedWhenDue(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	rdb := redistest.New(t)
	ctx := context.Background()
	register(t, s, 3)
	campaignID := createCampaign(t, s, campaigns.Spec{Name: "news", Kind: campaigns.KindNewsletter,
		Channels: []campaigns.Channel{campaigns.Email}}, time.Now().Add(-time.Second))
	q := scheduler.NewRedisQueue(rdb.Opt)
	defer q.Close()
	insp := asynq.NewInspector(rdb.Opt)
	defer insp.Close()
	// Stale after a millisecond: every tick looks for the task of every batch enqueued before, so
	// only its retry time keeps the waiting batch out of the queue.
	sch, err := scheduler.New(scheduler.Config{StaleAfter: time.Millisecond}, s, q, quiet)
	pgtest.Must(t, "scheduler", err)
	pgtest.Must(t, "tick", sch.Tick(ctx))
	var b campaigns.Batch
	pgtest.Must(t, "batch", s.DB().Get(&b, `SELECT b.run_id, b.channel, b.batch, b.size, b.enqueued_at, b.enqueues
		FROM batches b JOIN runs r ON r.id = b.run_id WHERE r.campaign_id = $1`, campaignID))
	if ids := queuedTaskIDs(t, rdb.Opt); len(ids) != 1 || ids[0] != worker.TaskID(b) {
		t.Fatalf("tasks %v, want the batch's %s", ids, worker.TaskID(b))
	}
	state := func() (status string, done bool, enqueues int) {
		t.Helper()
		pgtest.Must(t, "state", s.DB().QueryRow(`SELECT r.status, b.done_at IS NOT NULL, b.enqueues FROM batches b
			JOIN runs r ON r.id = b.run_id WHERE b.run_id = $1`, b.RunID).Scan(&status, &done, &enqueues))
		return status, done, enqueues
	}

	// A worker takes the task, sends two messages, defers the third for an hour and gives the batch
	// back, as worker.ProcessBatch does; asynq drops the task it finished.
	held, _, err := s.LeaseBatch(ctx, b, "w1", time.Minute)
	pgtest.Must(t, "lease", err)
	deliveries, err := s.BatchDeliveries(ctx, b)
	pgtest.Must(t, "deliveries", err)
	if !held || len(deliveries) != 3 {
		t.Fatalf("lease %v, %d deliveries", held, len(deliveries))
	}
	now := time.Now()
	pgtest.Must(t, "sent", s.MarkSent(ctx, []campaigns.Sent{{DeliveryID: deliveries[0].ID, At: now}, {DeliveryID: deliveries[1].ID, At: now}}))
	next, err := s.MarkRetry(ctx, deliveries[2].ID, time.Hour, "transient: smtp 451 4.7.1")
	pgtest.Must(t, "retry", err)
	if d := time.Until(next); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("next attempt in %s, want an hour", d)
	}
	if finished, err := s.ReleaseBatch(ctx, b, "w1", true); err != nil || finished {
		t.Fatalf("release with a delivery waiting: run finished %v, %v", finished, err)
	}
	pgtest.Must(t, "task done", insp.DeleteTask(worker.QueueEmail, worker.TaskID(b)))

	// Before its retry time: not enqueued, however stale, and the run goes on.
	for range 3 {
		time.Sleep(5 * time.Millisecond)
		pgtest.Must(t, "tick", sch.Tick(ctx))
	}
	if ids := queuedTaskIDs(t, rdb.Opt); len(ids) != 0 {
		t.Fatalf("tasks %v before the retry is due, want none", ids)
	}
	if status, done, _ := state(); status != "running" || done {
		t.Fatalf("run %s, batch done %v, want running and open while a delivery waits", status, done)
	}

	// The retry time passes: the batch is enqueued, once, under its task's id (the finished task is
	// gone, so the id is free), and the waiting delivery is due for the worker.
	_, err = s.DB().Exec(`UPDATE deliveries SET next_attempt_at = now() - interval '1 second' WHERE id = $1`, deliveries[2].ID)
	pgtest.Must(t, "time passes", err)
	_, err = s.DB().Exec(`UPDATE batches SET retry_at = now() - interval '1 second' WHERE run_id = $1`, b.RunID)
	pgtest.Must(t, "time passes", err)
	for range 3 {
		pgtest.Must(t, "tick", sch.Tick(ctx))
		time.Sleep(5 * time.Millisecond)
	}
	if ids := queuedTaskIDs(t, rdb.Opt); len(ids) != 1 || ids[0] != worker.TaskID(b) {
		t.Fatalf("tasks %v once the retry is due, want %s once", ids, worker.TaskID(b))
	}
	if _, _, enqueues := state(); enqueues != 1 {
		t.Fatalf("batch enqueued %d times, want 1 (no new generation)", enqueues)
	}

	// Redis loses its data: the batch's task is found missing, as any other's, and enqueued again.
	// (Read from asynq's pending list itself: the asynq client registers a queue once per process,
	// so after the flush the inspector reports the queue missing; servers dequeue from it all the
	// same, as TestRedisLosesItsDataMidRun in cmd/dispatch shows.)
	pgtest.Must(t, "flush", rdb.Client.FlushDB(ctx).Err())
	time.Sleep(5 * time.Millisecond)
	pgtest.Must(t, "tick", sch.Tick(ctx))
	pending, err := rdb.Client.LRange(ctx, "asynq:{"+worker.QueueEmail+"}:pending", 0, -1).Result()
	pgtest.Must(t, "pending", err)
	if len(pending) != 1 || pending[0] != worker.TaskID(b) {
		t.Fatalf("pending tasks %v after Redis lost its data, want %s", pending, worker.TaskID(b))
	}

	// The worker sends the waiting delivery, only it, and the run finishes.
	held, _, err = s.LeaseBatch(ctx, b, "w2", time.Minute)
	pgtest.Must(t, "lease", err)
	due, err := s.BatchDeliveries(ctx, b)
	pgtest.Must(t, "deliveries", err)
	if !held || len(due) != 1 || due[0].ID != deliveries[2].ID || due[0].Attempts != 1 {
		t.Fatalf("lease %v, due %+v, want only the waiting delivery, with 1 attempt", held, due)
	}
	pgtest.Must(t, "sent", s.MarkSent(ctx, []campaigns.Sent{{DeliveryID: due[0].ID, At: time.Now()}}))
	// The worker that releases the run's last batch finishes the run itself.
	if finished, err := s.ReleaseBatch(ctx, b, "w2", true); err != nil || !finished {
		t.Fatalf("release of the last batch: run finished %v, %v", finished, err)
	}
	if status, done, _ := state(); status != "finished" || !done {
		t.Fatalf("run %s, batch done %v, want both finished", status, done)
	}
}

// A scheduler whose timer would not fire for an hour is woken by the database: a campaign
// scheduled "now" is selected and enqueued at once, a paused run's batches go back to the queue
// the moment it is resumed, and another schema's changes in the same database do not wake it.
func TestSchedulerWakesWhenACampaignIsScheduledOrResumed(t *testing.T) {
	t.Parallel()
	url := pgtest.SchemaURL(t)
	rdb := redistest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := postgres.Open(ctx, url)
	pgtest.Must(t, "open", err)
	t.Cleanup(func() { s.Close() })
	s.SetRegisterKey(pgtest.RegisterKey)
	_, err = s.Migrate(ctx)
	pgtest.Must(t, "migrate", err)
	register(t, s, 12)
	other := pgtest.New(t) // another installation in the same database
	register(t, other, 3)

	wake, err := s.ListenForWork(ctx, url, quiet)
	pgtest.Must(t, "listen", err)
	q := scheduler.NewRedisQueue(rdb.Opt)
	t.Cleanup(func() { q.Close() })
	var passes atomic.Int32
	counting := &countingStore{Store: s, passes: &passes}
	sch, err := scheduler.New(scheduler.Config{Interval: time.Hour, Wake: wake, Select: campaigns.SelectOptions{BatchSize: 4}}, counting, q, quiet)
	pgtest.Must(t, "scheduler", err)
	done := make(chan struct{})
	go func() { defer close(done); sch.Run(ctx) }()
	waitUntil := func(what string, cond func() bool) time.Duration {
		t.Helper()
		t0 := time.Now()
		for !cond() {
			if time.Since(t0) > 5*time.Second {
				t.Fatalf("%s: not within 5 s (the timer is an hour)", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
		return time.Since(t0)
	}
	waitUntil("the first pass", func() bool { return passes.Load() >= 1 })
	settled := func() int32 { // passes once no notification is pending
		time.Sleep(300 * time.Millisecond)
		return passes.Load()
	}
	before := settled()

	// Another schema's campaign scheduled now: this scheduler does not stir.
	createCampaign(t, other, campaigns.Spec{Name: "theirs", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.Email}}, time.Now())
	if after := settled(); after != before {
		t.Fatalf("%d passes after another schema's change, want none", after-before)
	}

	id := createCampaign(t, s, campaigns.Spec{Name: "now", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.Email}}, time.Now())
	took := waitUntil("the run's batches enqueued", func() bool {
		return pgtest.Count(t, s.DB(), `SELECT count(*) FROM batches WHERE enqueued_at IS NOT NULL`) == 3
	})
	t.Logf("scheduled to enqueued: %s", took)

	pgtest.Must(t, "pause", s.PauseCampaign(ctx, id, campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignPause}))
	pgtest.Must(t, "flush", rdb.Client.FlushDB(ctx).Err()) // the tasks are gone: only a new pass brings them back
	_, err = s.DB().Exec(`UPDATE batches SET enqueued_at = NULL`)
	pgtest.Must(t, "forget", err)
	settled()
	pgtest.Must(t, "resume", s.ResumeCampaign(ctx, id, campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignResume}))
	took = waitUntil("the resumed run's batches enqueued again", func() bool {
		// asynq's own pending list: its registry of queues went with the flush (see above).
		n, err := rdb.Client.LLen(ctx, "asynq:{"+worker.QueueEmail+"}:pending").Result()
		return err == nil && n == 3
	})
	t.Logf("resumed to enqueued: %s", took)
	cancel()
	<-done
}

// countingStore counts the scheduler's passes (each starts with StartDueRuns).
type countingStore struct {
	*postgres.Store
	passes *atomic.Int32
}

func (c *countingStore) StartDueRuns(ctx context.Context, now time.Time, next campaigns.NextRunFunc) ([]int64, error) {
	c.passes.Add(1)
	return c.Store.StartDueRuns(ctx, now, next)
}
