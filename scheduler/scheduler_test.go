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
