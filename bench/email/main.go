// Command email measures dispatch's email throughput end to end against a bare go-mail loop, in
// the same run, against the same local SMTP sink, with the same number of messages and connections:
//
//	go run ./bench/email -messages 100000 -connections 20
//
// Bare loop: `connections` goroutines, each with one go-mail client, send rendered coupon emails.
// dispatch: a fresh database with `messages` members who consented to email, a coupon campaign
// scheduled now, `dispatch scheduler` and `dispatch worker --concurrency connections` as separate
// processes (built from ./cmd/dispatch); timed from scheduling until the scheduler marks the run
// finished (every delivery final in the ledger). It reports messages/s of both, the ratio, the time to the first message, and the peak RSS
// of the worker and scheduler processes.
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
	bare := bareLoop(sink, *messages, *conns, msg)
	bareBytes := sink.Bytes()
	fmt.Printf("bare go-mail loop: %d messages in %.2fs = %.0f msg/s (average message %d bytes)\n",
		*messages, bare.Seconds(), float64(*messages)/bare.Seconds(), bareBytes/int64(*messages))

	// dispatch end to end.
	admin, err := sql.Open("postgres", *server)
	check(err)
	admin.Exec("DROP DATABASE IF EXISTS " + *dbName)
	_, err = admin.Exec("CREATE DATABASE " + *dbName)
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

	workerCmd := start(bin, env, "worker", "--concurrency", strconv.Itoa(*conns))
	schedCmd := start(bin, env, "scheduler", "--interval", "100ms")
	time.Sleep(time.Second) // both daemons up before the clock starts
	before := sink.Received()
	cpu0 := cpuSeconds()
	t0 := time.Now()
	check(store.ScheduleCampaign(ctx, c.ID, t0, campaigns.Audit{Actor: "bench", Action: campaigns.AuditCampaignSchedule}))
	var peakWorker, peakScheduler int64
	// Done when the scheduler has marked the run finished: every delivery final, recorded in the ledger.
	for {
		peakWorker = max(peakWorker, rss(workerCmd.Process.Pid))
		peakScheduler = max(peakScheduler, rss(schedCmd.Process.Pid))
		var finished bool
		check(store.DB().GetContext(ctx, &finished, `SELECT EXISTS (SELECT 1 FROM runs WHERE campaign_id = $1 AND status = 'finished')`, c.ID))
		if finished {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(t0)
	cpu1 := cpuSeconds()
	peakWorker = max(peakWorker, hwm(workerCmd.Process.Pid))
	peakScheduler = max(peakScheduler, hwm(schedCmd.Process.Pid))
	var sent int
	var first time.Duration
	check(store.DB().GetContext(ctx, &sent, `SELECT count(*) FROM deliveries WHERE status = 'sent'`))
	var firstSent, runStarted time.Time
	check(store.DB().GetContext(ctx, &firstSent, `SELECT min(sent_at) FROM deliveries`))
	check(store.DB().GetContext(ctx, &runStarted, `SELECT started_at FROM runs WHERE campaign_id = $1`, c.ID))
	first = firstSent.Sub(t0)
	fromRun := firstSent.Sub(runStarted)
	stop(workerCmd)
	stop(schedCmd)
	got := sink.Received() - before
	rate := float64(sent) / took.Seconds()
	fmt.Printf("dispatch end to end: %d sent (%d received by the sink) in %.2fs = %.0f msg/s\n", sent, got, took.Seconds(), rate)
	fmt.Printf("first message: %d ms after the run started (%d ms after the campaign was due)\n", fromRun.Milliseconds(), first.Milliseconds())
	fmt.Printf("ratio dispatch / bare loop: %.0f %%\n", 100*rate/(float64(*messages)/bare.Seconds()))
	fmt.Printf("peak RSS: worker %.1f MB, scheduler %.1f MB\n", float64(peakWorker)/1024, float64(peakScheduler)/1024)
	fmt.Printf("CPU seconds during the dispatch run (%.1f s wall, %d cores): worker %.1f, scheduler %.1f, postgres %.1f, redis %.1f, SMTP sink and this program %.1f\n",
		took.Seconds(), runtime.NumCPU(), cpu1.of(workerCmd.Process.Pid)-cpu0.of(workerCmd.Process.Pid),
		cpu1.of(schedCmd.Process.Pid)-cpu0.of(schedCmd.Process.Pid), cpu1.named("postgres")-cpu0.named("postgres"),
		cpu1.named("redis-server")-cpu0.named("redis-server"), cpu1.of(os.Getpid())-cpu0.of(os.Getpid()))
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

func start(bin string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	logf, err := os.Create(filepath.Join(os.TempDir(), "dispatch-bench-"+args[0]+".log"))
	check(err)
	cmd.Stdout, cmd.Stderr = logf, logf
	check(cmd.Start())
	return cmd
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
}

// cpuTimes is the user+system CPU seconds of every process, by pid, with their names.
type cpuTimes struct {
	secs  map[int]float64
	names map[int]string
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
	c := cpuTimes{secs: map[int]float64{}, names: map[int]string{}}
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
