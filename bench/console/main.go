// Command console measures what the staff console asks of the store while people watch it: a
// campaign's audience before it is scheduled (Store.Audience, the scheduler's selection counted
// without recording anything), one campaign's progress (Store.CampaignStats) and the progress of
// every campaign's latest run (Store.LatestStats, the campaign list), over a register of M members.
//
//	go run ./bench/console -members 1000000
//
// The register lives in the database -db on the PostgreSQL of -url, created and seeded on the first
// run and reused by the next ones (a register of another size is seeded again; -fresh always
// does). The finished run the progress figures are read from is made the same way: a campaign on
// email, SMS and post, selected by the scheduler's selection, its deliveries then marked by SQL as
// a finished run leaves them (mostly sent, some failed, a few skipped at send time).
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/demodata"
	"github.com/jacksmood/dispatch/campaigns/postgres"
)

func main() {
	server := flag.String("url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server (any database)")
	dbName := flag.String("db", "dispatch_bench_console", "database of the bench's register: created when missing, kept")
	members := flag.Int("members", 1000000, "members in the register")
	fresh := flag.Bool("fresh", false, "drop the database and seed it again")
	audienceRuns := flag.Int("audience", 5, "times to count each audience")
	statsRuns := flag.Int("stats", 50, "times to read each progress")
	flag.Parse()
	ctx := context.Background()

	store := openRegister(ctx, *server, *dbName, *members, *fresh)
	defer store.Close()
	fmt.Printf("machine: %d CPUs, %s/%s, %s; load average %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), loadAverage())
	defer func() { fmt.Printf("load average %s\n", loadAverage()) }()

	all := []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal}
	progressID := finishedRun(ctx, store, all)
	newsletter := draft(ctx, store, campaigns.Spec{Name: "bench audience", Kind: campaigns.KindNewsletter, Channels: all})
	// The strategy first and a frequency cap: the progress run's deliveries count towards it for a
	// week after the register was made.
	firstCapped := draft(ctx, store, campaigns.Spec{Name: "bench audience first capped", Kind: campaigns.KindNewsletter,
		Channels: all, Strategy: campaigns.StrategyFirst, FrequencyCap: &campaigns.FrequencyCap{Max: 1, Per: campaigns.Duration(7 * 24 * time.Hour)}})

	for _, c := range []struct {
		name string
		id   int64
	}{{"a newsletter on email+sms+postal", newsletter}, {"strategy first, frequency cap 1 a week", firstCapped}} {
		var a campaigns.Audience
		cpu0 := backendCPU(ctx, store)
		times := measure(*audienceRuns, func() {
			var err error
			a, err = store.Audience(ctx, c.id)
			check(err)
		})
		cpu := (backendCPU(ctx, store) - cpu0) / time.Duration(len(times))
		fmt.Printf("Audience, %s, over %d members (%d in the segment): median %s, max %s of %d; PostgreSQL CPU %s a count\n",
			c.name, a.Members, a.Segment, ms(percentile(times, 50)), ms(slices.Max(times)), len(times), ms(cpu))
		for _, ch := range all {
			ca := a.Channels[ch]
			fmt.Printf("  %-6s reachable %7d, skipped %v\n", ch, ca.Reachable, ca.Skipped)
		}
	}

	var st campaigns.Stats
	times := measure(*statsRuns, func() {
		var err error
		st, err = store.CampaignStats(ctx, progressID, 0)
		check(err)
	})
	var total int64
	for _, cs := range st.Channels {
		total += cs.Total
	}
	fmt.Printf("CampaignStats of a finished run of %d deliveries and skips: p50 %s, p95 %s of %d\n",
		total, ms(percentile(times, 50)), ms(percentile(times, 95)), len(times))

	var latest map[int64]campaigns.Stats
	times = measure(*statsRuns, func() {
		var err error
		latest, err = store.LatestStats(ctx)
		check(err)
	})
	fmt.Printf("LatestStats (Service.Progress) of %d campaigns: p50 %s, p95 %s of %d\n",
		len(latest), ms(percentile(times, 50)), ms(percentile(times, 95)), len(times))

	// For comparison: the campaign page's list of runs counts the deliveries themselves.
	times = measure(min(*statsRuns, 10), func() {
		_, err := store.CampaignRuns(ctx, progressID)
		check(err)
	})
	fmt.Printf("CampaignRuns (counts deliveries): p50 %s, p95 %s of %d\n", ms(percentile(times, 50)), ms(percentile(times, 95)), len(times))
}

// openRegister opens the bench's database, creating, migrating and seeding it as needed, so that
// it holds exactly n members.
func openRegister(ctx context.Context, server, dbName string, n int, fresh bool) *postgres.Store {
	admin, err := sql.Open("postgres", server)
	check(err)
	defer admin.Close()
	if fresh {
		_, err := admin.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(dbName))
		check(err)
	}
	var exists bool
	check(admin.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, dbName).Scan(&exists))
	if !exists {
		_, err := admin.Exec("CREATE DATABASE " + pq.QuoteIdentifier(dbName))
		check(err)
	}
	u, err := url.Parse(server)
	check(err)
	u.Path = "/" + dbName
	store, err := postgres.Open(ctx, u.String())
	check(err)
	// The bench's register is its own: any fixed key serves.
	store.SetRegisterKey([]byte("bench register key, not a secret"))
	_, err = store.Migrate(ctx)
	check(err)
	var have int
	check(store.DB().GetContext(ctx, &have, "SELECT count(*) FROM members"))
	if have == n {
		fmt.Printf("reusing the register of %d members in database %s\n", have, dbName)
		return store
	}
	if have != 0 {
		store.Close()
		fmt.Printf("database %s holds %d members, not %d: seeding it again\n", dbName, have, n)
		return openRegister(ctx, server, dbName, n, true)
	}
	t0 := time.Now()
	res, err := store.SeedMembers(ctx, n, demodata.Source(1, time.Now()), campaigns.Audit{Actor: "bench", Action: campaigns.AuditMembersSeed})
	check(err)
	fmt.Printf("seeded %d members (%d consent events, %d purchases) in %.1fs\n", res.Members, res.Consents, res.Purchases, time.Since(t0).Seconds())
	_, err = store.DB().ExecContext(ctx, "VACUUM ANALYZE")
	check(err)
	return store
}

// finishedRun returns the campaign "bench progress" with one finished run over the whole register,
// making it on first use: selected by the store's selection, then its deliveries marked as a
// finished run leaves them.
func finishedRun(ctx context.Context, store *postgres.Store, channels []campaigns.Channel) int64 {
	var id int64
	err := store.DB().GetContext(ctx, &id, `SELECT c.id FROM campaigns c JOIN runs r ON r.campaign_id = c.id
		WHERE c.name = 'bench progress' AND r.status = 'finished' ORDER BY c.id LIMIT 1`)
	if err == nil {
		return id
	}
	if err != sql.ErrNoRows {
		check(err)
	}
	spec := campaigns.Spec{Name: "bench progress", Kind: campaigns.KindNewsletter, Channels: channels}
	id = draft(ctx, store, spec)
	check(store.ScheduleCampaign(ctx, id, time.Now().Add(-time.Second), audit(campaigns.AuditCampaignSchedule)))
	runs, err := store.StartDueRuns(ctx, time.Now(), func(campaigns.Spec, time.Time) (*time.Time, error) { return nil, nil })
	check(err)
	if len(runs) != 1 {
		log.Fatalf("started %d runs, want 1", len(runs))
	}
	t0 := time.Now()
	for {
		res, err := store.SelectRun(ctx, runs[0], campaigns.SelectOptions{})
		check(err)
		if res.Done || !res.Selected {
			break
		}
	}
	fmt.Printf("selected the progress run in %.1fs\n", time.Since(t0).Seconds())
	// As the workers would leave it: 1 in 50 failed, 1 in 200 skipped at send time, the rest sent.
	_, err = store.DB().ExecContext(ctx, `UPDATE deliveries SET updated_at = now(), attempts = 1,
		status = CASE WHEN id % 50 = 0 THEN 'failed' WHEN id % 200 = 1 THEN 'skipped' ELSE 'sent' END,
		reason = CASE WHEN id % 50 = 0 THEN 'smtp 550' WHEN id % 200 = 1 THEN 'no_consent' ELSE '' END,
		sent_at = CASE WHEN id % 50 = 0 OR id % 200 = 1 THEN NULL ELSE now() END
		WHERE run_id = $1`, runs[0])
	check(err)
	_, err = store.DB().ExecContext(ctx, `UPDATE batches SET done_at = now() WHERE run_id = $1`, runs[0])
	check(err)
	_, err = store.FinishRuns(ctx)
	check(err)
	_, err = store.DB().ExecContext(ctx, "VACUUM ANALYZE deliveries")
	check(err)
	return id
}

// draft returns the id of the draft campaign named as spec is, creating it when there is none.
func draft(ctx context.Context, store *postgres.Store, spec campaigns.Spec) int64 {
	var id int64
	err := store.DB().GetContext(ctx, &id, `SELECT id FROM campaigns WHERE name = $1 AND status = 'draft' ORDER BY id LIMIT 1`, spec.Name)
	if err == nil {
		return id
	}
	if err != sql.ErrNoRows {
		check(err)
	}
	check(spec.Validate())
	c, err := store.CreateCampaign(ctx, &spec, audit(campaigns.AuditCampaignCreate))
	check(err)
	return c.ID
}

func audit(action campaigns.AuditAction) campaigns.Audit {
	return campaigns.Audit{Actor: "bench", Action: action}
}

// measure calls f n times and returns how long each call took.
func measure(n int, f func()) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		t0 := time.Now()
		f()
		out[i] = time.Since(t0)
	}
	return out
}

// percentile returns the p-th percentile of ds (nearest rank).
func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(i, 0)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// loadAverage returns the machine's load averages over 1, 5 and 15 minutes (Linux), or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// backendCPU returns the CPU time used so far by the PostgreSQL backends serving this database,
// read from /proc: so figures taken while other work shares the machine can be compared. It is 0
// when PostgreSQL runs elsewhere. Backends that ended are not counted: the store keeps its
// connections open.
func backendCPU(ctx context.Context, store *postgres.Store) time.Duration {
	var pids []int
	check(store.DB().SelectContext(ctx, &pids, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
	var ticks int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// utime and stime are the 12th and 13th fields after the command's closing parenthesis.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	// Linux counts in USER_HZ, 100 a second.
	return time.Duration(ticks) * 10 * time.Millisecond
}
