// Command scheduler measures a run's selection over a large register: it seeds M members into a
// fresh database, creates a campaign on every channel, and times the scheduler's pass that selects
// the run into the delivery ledger and enqueues its batches; it reports rows/s, the process's peak
// RSS during that pass, and Redis used_memory per queued recipient.
//
//	go run ./bench/scheduler -members 1000000
//
// It uses the scratch database -db (created and dropped) and flushes Redis database -redis-db.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	_ "github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/demodata"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/scheduler"
)

func main() {
	server := flag.String("url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server")
	dbName := flag.String("db", "dispatch_bench_scheduler", "scratch database to create and drop")
	redisAddr := flag.String("redis", "127.0.0.1:6379", "Redis address")
	redisDB := flag.Int("redis-db", 14, "Redis database to flush and use")
	members := flag.Int("members", 1000000, "members to seed")
	keep := flag.Bool("keep", false, "keep the database afterwards")
	flag.Parse()
	ctx := context.Background()

	admin, err := sql.Open("postgres", *server)
	check(err)
	admin.Exec("DROP DATABASE IF EXISTS " + *dbName)
	_, err = admin.Exec("CREATE DATABASE " + *dbName)
	check(err)
	if !*keep {
		defer admin.Exec("DROP DATABASE IF EXISTS " + *dbName)
	}
	store, err := postgres.Open(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:5432/%s?sslmode=disable", *dbName))
	check(err)
	defer store.Close()
	// The bench's register is its own: any fixed key serves.
	store.SetRegisterKey([]byte("bench register key, not a secret"))
	_, err = store.Migrate(ctx)
	check(err)
	rdb := redis.NewClient(&redis.Options{Addr: *redisAddr, DB: *redisDB})
	check(rdb.FlushDB(ctx).Err())

	fmt.Printf("machine: %d CPUs, %s/%s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	t0 := time.Now()
	seeded, err := store.SeedMembers(ctx, *members, demodata.Source(1, time.Now()), campaigns.Audit{Actor: "bench", Action: campaigns.AuditMembersSeed})
	check(err)
	fmt.Printf("seeded %d members in %.1fs\n", seeded.Members, time.Since(t0).Seconds())
	_, err = store.DB().ExecContext(ctx, "VACUUM ANALYZE")
	check(err)

	spec := campaigns.Spec{Name: "bench", Kind: campaigns.KindCoupon, Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal},
		Coupon: &campaigns.CouponSpec{Discount: "-20 %", ValidDays: 30}}
	check(spec.Validate())
	c, err := store.CreateCampaign(ctx, &spec, campaigns.Audit{Actor: "bench", Action: campaigns.AuditCampaignCreate})
	check(err)
	check(store.ScheduleCampaign(ctx, c.ID, time.Now().Add(-time.Second), campaigns.Audit{Actor: "bench", Action: campaigns.AuditCampaignSchedule}))

	memBefore := usedMemory(ctx, rdb)
	queue := scheduler.NewRedisQueue(asynq.RedisClientOpt{Addr: *redisAddr, DB: *redisDB})
	defer queue.Close()
	sch, err := scheduler.New(scheduler.Config{}, store, queue, slog.New(slog.NewTextHandler(io.Discard, nil)))
	check(err)
	runtime.GC()
	resetPeakRSS()
	t0 = time.Now()
	check(sch.Tick(ctx))
	took := time.Since(t0)
	peak := peakRSS()

	var deliveries, batches int64
	check(store.DB().GetContext(ctx, &deliveries, "SELECT count(*) FROM deliveries"))
	check(store.DB().GetContext(ctx, &batches, "SELECT count(*) FROM batches WHERE enqueued_at IS NOT NULL"))
	memAfter := usedMemory(ctx, rdb)
	perRecipient := float64(memAfter-memBefore) / float64(deliveries)
	fmt.Printf("select+record+enqueue: %d deliveries (%d batches enqueued) in %.2fs = %.0f rows/s\n",
		deliveries, batches, took.Seconds(), float64(deliveries)/took.Seconds())
	fmt.Printf("scheduler peak RSS during the pass: %.1f MB\n", float64(peak)/1024)
	fmt.Printf("redis used_memory: %d -> %d bytes: %.2f bytes per queued recipient\n", memBefore, memAfter, perRecipient)
	rdb.FlushDB(ctx)
}

func usedMemory(ctx context.Context, rdb *redis.Client) int64 {
	info, err := rdb.Info(ctx, "memory").Result()
	check(err)
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// resetPeakRSS clears the kernel's high-water mark of this process (Linux: clear_refs 5).
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns VmHWM in kB.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	check(err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
