// Command email measures dispatch's email throughput end to end against a bare go-mail loop, in
// the same run, against the same kind of local SMTP sink, with the same number of messages and
// connections:
//
//	go run ./bench/email -messages 100000 -connections 20
//	go run ./bench/email -messages 100000 -connections 20 -workers 3
//	go run ./bench/email -crash -messages 10800
//
// Bare loop: `connections` goroutines, each with one go-mail client, send rendered coupon emails;
// it runs before and after dispatch, and dispatch is compared with the mean of the two.
// dispatch: a fresh database with `messages` members who consented to email, a coupon campaign
// scheduled now, `dispatch scheduler` (its default interval: it is woken by the database) and
// `workers` × `dispatch worker --concurrency connections` as separate processes (built from
// ./cmd/dispatch), each worker with an SMTP sink of its own so that its share is counted; timed
// from scheduling until the run is shown finished in the ledger. It reports messages/s of both,
// the ratio, the time from scheduling to the first message, the time from the last message to the
// run finished, each worker's share, the peak RSS of the worker and scheduler processes, and the
// CPU time of every process.
//
// -crash repeats the crash run of issue 11: one worker is killed with SIGKILL when 30 % of the
// messages are out, a new one started at once, and Redis is flushed (FLUSHDB: no persistence)
// at 60 %; it reports the members who got nothing (must be 0) and the messages sent twice (bound:
// the killed worker's connections).
package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/lib/pq"
	"github.com/redis/go-redis/v9"
	mail "github.com/wneessen/go-mail"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/internal/mailcatcher"
	"github.com/jacksmood/dispatch/templates"
)

func main() {
	server := flag.String("url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server")
	dbName := flag.String("db", "dispatch_bench_email", "scratch database to create and drop")
	redisDB := flag.Int("redis-db", 13, "Redis database (127.0.0.1:6379) to flush and use")
	messages := flag.Int("messages", 100000, "messages to send in each measurement")
	conns := flag.Int("connections", 20, "SMTP connections (bare loop goroutines, worker concurrency)")
	keep := flag.Bool("keep", false, "keep the database afterwards")
	workers := flag.Int("workers", 1, "worker processes, each with `connections` connections and an SMTP sink of its own")
	checkEvery := flag.String("check-every", "", "the workers' --check-every (default: theirs)")
	cpuProfile := flag.String("cpuprofile", "", "write the (first) worker's CPU profile to this file")
	recordEvery := flag.String("record-every", "", "the workers' --record-every (default: theirs)")
	crash := flag.Bool("crash", false, "the crash run: SIGKILL the worker at 30 %, flush Redis at 60 %; count missing and duplicate messages")
	flag.Parse()
	ctx := context.Background()
	fmt.Printf("machine: %d CPUs, %s/%s, %s; %d messages over %d connections\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), *messages, *conns)

	sink, err := mailcatcher.Start("127.0.0.1:0", "", false)
	check(err)
	defer sink.Close()

	// The bare loop sends a rendered coupon email, so both sides send the same message size.
	r, err := templates.New("")
	check(err)
	sample := templates.SampleData("coupon", campaigns.Finnish)
	sample.UnsubscribeURL = "http://127.0.0.1:8080/u/u1.1.email.xxxxxxxxxxxxxxxxxxxxxxxxxxx"
	msg, err := r.Render("coupon", campaigns.Email, campaigns.Finnish, sample)
	check(err)
	bare, bareCPU := timedBareLoop(sink, *messages, *conns, msg)
	bareBytes := sink.Bytes()
	fmt.Printf("bare go-mail loop: %d messages in %.2fs = %.0f msg/s (average message %d bytes), CPU %.1f s (clients and sink)\n",
		*messages, bare.Seconds(), float64(*messages)/bare.Seconds(), bareBytes/int64(*messages), bareCPU)

	// dispatch end to end.
	admin, err := sql.Open("postgres", *server)
	check(err)
	admin.Exec("DROP DATABASE IF EXISTS " + *dbName)
	_, err = admin.Exec("CREATE DATABASE " + *dbName)
	check(err)
	// Trigger functions' time is counted (pg_stat_user_functions), printed at the end.
	_, err = admin.Exec("ALTER DATABASE " + *dbName + " SET track_functions = 'pl'")
	check(err)
	if !*keep {
		defer admin.Exec("DROP DATABASE IF EXISTS " + *dbName)
	}
	dbURL := fmt.Sprintf("postgres://postgres@127.0.0.1:5432/%s?sslmode=disable", *dbName)
	store, err := postgres.Open(ctx, dbURL)
	check(err)
	defer store.Close()
	// The bench's register is its own: any fixed key serves.
	store.SetRegisterKey([]byte("bench register key, not a secret"))
	_, err = store.Migrate(ctx)
	check(err)
	check(importMembers(ctx, store, *messages))
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: *redisDB})
	check(rdb.FlushDB(ctx).Err())
	defer rdb.FlushDB(ctx)

	bin := filepath.Join(os.TempDir(), "dispatch-bench-email")
	build := exec.Command("go", "build", "-o", bin, "./cmd/dispatch")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	check(build.Run())
	env := append(os.Environ(),
		"DISPATCH_DATABASE_URL="+dbURL,
		fmt.Sprintf("DISPATCH_REDIS_URL=redis://127.0.0.1:6379/%d", *redisDB),
		"DISPATCH_SMTP_URL="+sink.URL(),
		"DISPATCH_SECRET=bench-secret-0123456789abcdef",
	)
	spec := campaigns.Spec{Name: "bench", Kind: campaigns.KindCoupon, Channels: []campaigns.Channel{campaigns.Email},
		Coupon: &campaigns.CouponSpec{Discount: "-20 %", ValidDays: 30}}
	check(spec.Validate())
	c, err := store.CreateCampaign(ctx, &spec, campaigns.Audit{Actor: "bench", Action: campaigns.AuditCampaignCreate})
	check(err)

	if *crash {
		crashRun(ctx, store, rdb, bin, env, c.ID, *messages, *conns)
		return
	}

	sinks := make([]*mailcatcher.Server, *workers)
	workerCmds := make([]*exec.Cmd, *workers)
	for i := range sinks {
		sinks[i], err = mailcatcher.Start("127.0.0.1:0", "", false)
		check(err)
		defer sinks[i].Close()
		wenv := append(append([]string(nil), env...), "DISPATCH_SMTP_URL="+sinks[i].URL())
		args := []string{"worker", "--concurrency", strconv.Itoa(*conns)}
		if *recordEvery != "" {
			args = append(args, "--record-every", *recordEvery)
		}
		if *checkEvery != "" {
			args = append(args, "--check-every", *checkEvery)
		}
		if *cpuProfile != "" && i == 0 {
			args = append(args, "--cpuprofile", *cpuProfile)
		}
		workerCmds[i] = start(bin, wenv, fmt.Sprintf("worker%d", i+1), args...)
	}
	schedCmd := start(bin, env, "scheduler", "scheduler")
	time.Sleep(time.Second) // the daemons up before the clock starts
	cpu0 := cpuSeconds()
	t0 := time.Now()
	check(store.ScheduleCampaign(ctx, c.ID, t0, campaigns.Audit{Actor: "bench", Action: campaigns.AuditCampaignSchedule}))
	var peakWorker, peakScheduler int64
	// Done when the run is shown finished: every delivery final, recorded in the ledger.
	for {
		for _, w := range workerCmds {
			peakWorker = max(peakWorker, rss(w.Process.Pid))
		}
		peakScheduler = max(peakScheduler, rss(schedCmd.Process.Pid))
		var finished bool
		check(store.DB().GetContext(ctx, &finished, `SELECT EXISTS (SELECT 1 FROM runs WHERE campaign_id = $1 AND status = 'finished')`, c.ID))
		if finished {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(t0)
	cpu1 := cpuSeconds()
	for _, w := range workerCmds {
		peakWorker = max(peakWorker, hwm(w.Process.Pid))
	}
	peakScheduler = max(peakScheduler, hwm(schedCmd.Process.Pid))
	var sent int
	check(store.DB().GetContext(ctx, &sent, `SELECT count(*) FROM deliveries WHERE status = 'sent'`))
	var firstSent, lastSent, runStarted, finishedAt time.Time
	check(store.DB().QueryRowContext(ctx, `SELECT min(sent_at), max(sent_at) FROM deliveries`).Scan(&firstSent, &lastSent))
	check(store.DB().QueryRowContext(ctx, `SELECT started_at, finished_at FROM runs WHERE campaign_id = $1`, c.ID).Scan(&runStarted, &finishedAt))
	printDatabaseStats(ctx, store, c.ID)
	workerCPU := 0.0
	for _, w := range workerCmds {
		workerCPU += cpu1.of(w.Process.Pid) - cpu0.of(w.Process.Pid)
		stop(w)
	}
	stop(schedCmd)

	bareAfter, bareCPUAfter := timedBareLoop(sink, *messages, *conns, msg)
	fmt.Printf("bare go-mail loop, again: %d messages in %.2fs = %.0f msg/s, CPU %.1f s\n", *messages, bareAfter.Seconds(), float64(*messages)/bareAfter.Seconds(), bareCPUAfter)
	bareRate := (float64(*messages)/bare.Seconds() + float64(*messages)/bareAfter.Seconds()) / 2

	got := int64(0)
	shares := make([]string, len(sinks))
	for i, s := range sinks {
		got += s.Received()
		shares[i] = strconv.FormatInt(s.Received(), 10)
	}
	rate := float64(sent) / took.Seconds()
	fmt.Printf("dispatch end to end (%d worker process(es)): %d sent (%d received by the sinks) in %.2fs = %.0f msg/s\n", *workers, sent, got, took.Seconds(), rate)
	if *workers > 1 {
		fmt.Printf("messages per worker: %s (largest share %.1f %% over the smallest)\n", strings.Join(shares, ", "), 100*spread(sinks))
	}
	fmt.Printf("first message: %d ms after `campaigns schedule` (%d ms after the run started)\n", firstSent.Sub(t0).Milliseconds(), firstSent.Sub(runStarted).Milliseconds())
	fmt.Printf("run finished: %d ms after the last message was recorded\n", finishedAt.Sub(lastSent).Milliseconds())
	fmt.Printf("ratio dispatch / bare loop (mean of both): %.0f %%\n", 100*rate/bareRate)
	fmt.Printf("peak RSS: worker %.1f MB, scheduler %.1f MB\n", float64(peakWorker)/1024, float64(peakScheduler)/1024)
	schedCPU := cpu1.of(schedCmd.Process.Pid) - cpu0.of(schedCmd.Process.Pid)
	pgCPU := cpu1.named("postgres") - cpu0.named("postgres")
	redisCPU := cpu1.named("redis-server") - cpu0.named("redis-server")
	sinkCPU := cpu1.of(os.Getpid()) - cpu0.of(os.Getpid())
	fmt.Printf("CPU seconds during the dispatch run (%.1f s wall, %d cores): worker(s) %.1f, scheduler %.1f, postgres %.1f (of which the bench database's backends %.1f), redis %.1f, SMTP sinks and this program %.1f\n",
		took.Seconds(), runtime.NumCPU(), workerCPU, schedCPU, pgCPU, cpu1.backends(*dbName)-cpu0.backends(*dbName), redisCPU, sinkCPU)
	// The CPU each side needs per message, and what it implies when the cores are the limit: the
	// loop's clients and sink against dispatch's worker, scheduler, PostgreSQL, Redis and sink.
	perMsg := func(secs float64, n int) float64 { return 1e6 * secs / float64(n) }
	bareUS := perMsg(bareCPU+bareCPUAfter, 2**messages)
	dispUS := perMsg(workerCPU+schedCPU+pgCPU+redisCPU+sinkCPU, max(sent, 1))
	fmt.Printf("CPU per message: bare loop %.0f µs (busy %.0f %% of %d cores); dispatch %.0f µs (worker %.0f, postgres %.0f, redis and scheduler %.0f, sink %.0f; busy %.0f %%)\n",
		bareUS, 100*(bareCPU+bareCPUAfter)/((bare+bareAfter).Seconds()*float64(runtime.NumCPU())), runtime.NumCPU(),
		dispUS, perMsg(workerCPU, sent), perMsg(pgCPU, sent), perMsg(redisCPU+schedCPU, sent), perMsg(sinkCPU, sent),
		100*(workerCPU+schedCPU+pgCPU+redisCPU+sinkCPU)/(took.Seconds()*float64(runtime.NumCPU())))
	fmt.Printf("with every core busy, dispatch could reach at most %.0f %% of the loop on this machine\n", 100*bareUS/dispUS)
}

// timedBareLoop runs bareLoop and also returns the CPU seconds this process spent meanwhile: the
// clients' and the sink's.
func timedBareLoop(sink *mailcatcher.Server, n, conns int, content templates.Message) (time.Duration, float64) {
	c0 := cpuSeconds().of(os.Getpid())
	took := bareLoop(sink, n, conns, content)
	return took, cpuSeconds().of(os.Getpid()) - c0
}

// printDatabaseStats prints what PostgreSQL did for the run: transactions, rows written per table,
// and the time of the trigger functions.
func printDatabaseStats(ctx context.Context, store *postgres.Store, campaignID int64) {
	var commits int64
	check(store.DB().GetContext(ctx, &commits, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`))
	fmt.Printf("database: %d transactions committed since it was created\n", commits)
	rows, err := store.DB().QueryContext(ctx, `SELECT funcname, calls, round(self_time::numeric, 0) FROM pg_stat_user_functions ORDER BY self_time DESC LIMIT 6`)
	check(err)
	defer rows.Close()
	for rows.Next() {
		var name string
		var calls int64
		var ms float64
		check(rows.Scan(&name, &calls, &ms))
		fmt.Printf("  trigger function %s: %d calls, %.0f ms\n", name, calls, ms)
	}
}

// spread is how much more the busiest sink received than the idlest, as a share of the idlest.
func spread(sinks []*mailcatcher.Server) float64 {
	lo, hi := sinks[0].Received(), sinks[0].Received()
	for _, s := range sinks {
		lo, hi = min(lo, s.Received()), max(hi, s.Received())
	}
	if lo == 0 {
		return 1
	}
	return float64(hi-lo) / float64(lo)
}

// crashRun sends the campaign with one worker that is killed with SIGKILL at 30 % and replaced at
// once, and Redis flushed at 60 %, then counts per member what the sink received.
func crashRun(ctx context.Context, store *postgres.Store, rdb *redis.Client, bin string, env []string, campaignID int64, members, conns int) {
	sink, err := mailcatcher.Start("127.0.0.1:0", "", true)
	check(err)
	defer sink.Close()
	env = append(append([]string(nil), env...), "DISPATCH_SMTP_URL="+sink.URL())
	// A short lease and stale-after, so that the killed worker's batches are taken over and the
	// flushed tasks enqueued again within seconds rather than a minute or two.
	workerArgs := []string{"worker", "--concurrency", strconv.Itoa(conns), "--lease", "5s"}
	first := start(bin, env, "worker1", workerArgs...)
	sched := start(bin, env, "scheduler", "scheduler", "--stale-after", "10s")
	time.Sleep(time.Second)
	t0 := time.Now()
	check(store.ScheduleCampaign(ctx, campaignID, t0, campaigns.Audit{Actor: "bench", Action: campaigns.AuditCampaignSchedule}))
	waitReceived(sink, members*30/100)
	check(first.Process.Signal(syscall.SIGKILL))
	first.Wait()
	killedAt := sink.Received()
	second := start(bin, env, "worker2", workerArgs...)
	waitReceived(sink, members*60/100)
	check(rdb.FlushDB(ctx).Err())
	flushedAt := sink.Received()
	for {
		var finished bool
		check(store.DB().GetContext(ctx, &finished, `SELECT EXISTS (SELECT 1 FROM runs WHERE campaign_id = $1 AND status = 'finished')`, campaignID))
		if finished {
			break
		}
		if time.Since(t0) > 10*time.Minute {
			log.Fatal("the run did not finish within 10 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(t0)
	stop(second)
	stop(sched)
	perMember := map[string]int{}
	for _, m := range sink.Messages() {
		for _, to := range m.To {
			perMember[to]++
		}
	}
	missing, dups := 0, 0
	for i := 1; i <= members; i++ {
		n := perMember[fmt.Sprintf("member%d@example.com", i)]
		if n == 0 {
			missing++
		}
		dups += max(n-1, 0)
	}
	var sent int
	check(store.DB().GetContext(ctx, &sent, `SELECT count(*) FROM deliveries WHERE status = 'sent'`))
	fmt.Printf("crash run: %d members, worker killed (SIGKILL) after %d messages, Redis flushed after %d; finished in %.1fs\n",
		members, killedAt, flushedAt, took.Seconds())
	fmt.Printf("sink received %d messages; ledger: %d sent; members who got nothing: %d; messages sent twice: %d (bound: %d, the killed worker's connections)\n",
		sink.Received(), sent, missing, dups, conns)
	if missing > 0 || dups > conns || sent != members {
		os.Exit(1)
	}
}

// waitReceived waits until the sink has received n messages.
func waitReceived(sink *mailcatcher.Server, n int) {
	deadline := time.Now().Add(5 * time.Minute)
	for sink.Received() < int64(n) {
		if time.Now().After(deadline) {
			log.Fatalf("the sink did not receive %d messages within 5 minutes (%d)", n, sink.Received())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// bareLoop sends n messages over conns go-mail clients, each reused for its share.
func bareLoop(sink *mailcatcher.Server, n, conns int, content templates.Message) time.Duration {
	host, port := splitAddr(sink.Addr())
	var next atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client, err := mail.NewClient(host, mail.WithPort(port), mail.WithTLSPolicy(mail.NoTLS))
			check(err)
			check(client.DialWithContext(context.Background()))
			defer client.Close()
			for {
				k := next.Add(1)
				if k > int64(n) {
					return
				}
				m := mail.NewMsg()
				check(m.From("Jack's Mood <news@jacksmood.example>"))
				check(m.To(fmt.Sprintf("member%d@example.com", k)))
				m.Subject(content.Subject)
				m.SetMessageIDWithValue(fmt.Sprintf("bare%d@jacksmood.example", k))
				m.SetGenHeader("List-Unsubscribe", "<http://127.0.0.1:8080/u/x>")
				m.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
				m.SetBodyString(mail.TypeTextPlain, content.Text)
				m.AddAlternativeString(mail.TypeTextHTML, content.HTML)
				check(client.Send(m))
			}
		}()
	}
	wg.Wait()
	return time.Since(t0)
}

// importMembers imports n members who all consented to email.
func importMembers(ctx context.Context, store *postgres.Store, n int) error {
	path := filepath.Join(os.TempDir(), "dispatch-bench-email.csv")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	w := csv.NewWriter(f)
	w.Write(csvfile.MemberColumns)
	langs := []string{"fi", "fi", "fi", "fi", "sv", "en"}
	for i := 1; i <= n; i++ {
		w.Write([]string{fmt.Sprintf("B%07d", i), "Matti", "Meikäläinen", fmt.Sprintf("member%d@example.com", i), "",
			fmt.Sprintf("Mannerheimintie %d", i%200+1), "00100", "HELSINKI", "FI", langs[i%len(langs)], "yes", "", "no"})
	}
	w.Flush()
	f.Close()
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	_, err = store.ImportMembers(ctx, func(row func(csvfile.MemberRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadMembers(in, "bench.csv", row)
	}, campaigns.SourceImport, campaigns.Audit{Actor: "bench", Action: campaigns.AuditMembersImport})
	return err
}

// start runs the dispatch binary with args, its output in $TMPDIR/dispatch-bench-<name>.log.
func start(bin string, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	logf, err := os.Create(filepath.Join(os.TempDir(), "dispatch-bench-"+name+".log"))
	check(err)
	cmd.Stdout, cmd.Stderr = logf, logf
	check(cmd.Start())
	return cmd
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
}

// cpuTimes is the user+system CPU seconds of every process, by pid, with their names and command
// lines.
type cpuTimes struct {
	secs  map[int]float64
	names map[int]string
	cmds  map[int]string
}

// backends sums the CPU seconds of the PostgreSQL backends connected to the database db (their
// command line names it): other databases' work on the machine is left out.
func (c cpuTimes) backends(db string) float64 {
	t := 0.0
	for pid, cmd := range c.cmds {
		if strings.HasPrefix(cmd, "postgres:") && strings.Contains(cmd, " "+db+" ") {
			t += c.secs[pid]
		}
	}
	return t
}

func (c cpuTimes) of(pid int) float64 { return c.secs[pid] }

// named sums the CPU seconds of the processes whose name starts with prefix (postgres backends come
// and go; a backend that ended during the run is not counted, so this is a lower bound).
func (c cpuTimes) named(prefix string) float64 {
	t := 0.0
	for pid, n := range c.names {
		if strings.HasPrefix(n, prefix) {
			t += c.secs[pid]
		}
	}
	return t
}

func cpuSeconds() cpuTimes {
	c := cpuTimes{secs: map[int]float64{}, names: map[int]string{}, cmds: map[int]string{}}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < 0 {
			continue
		}
		fields := strings.Fields(s[close+2:])
		if len(fields) < 13 {
			continue
		}
		utime, _ := strconv.ParseFloat(fields[11], 64)
		stime, _ := strconv.ParseFloat(fields[12], 64)
		c.secs[pid] = (utime + stime) / 100 // clock ticks: 100 per second on Linux
		c.names[pid] = s[open+1 : close]
		if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
			c.cmds[pid] = strings.ReplaceAll(string(cmd), "\x00", " ")
		}
	}
	return c
}

// rss and hwm read a process's current and peak resident set size in kB.
func rss(pid int) int64 { return procStatus(pid, "VmRSS:") }
func hwm(pid int) int64 { return procStatus(pid, "VmHWM:") }

func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func splitAddr(addr string) (string, int) {
	i := strings.LastIndexByte(addr, ':')
	p, _ := strconv.Atoi(addr[i+1:])
	return addr[:i], p
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
