package main

// The fault tests: a whole installation runs a campaign while something it depends on fails under
// it, in real processes: an SMTP server that refuses, drops or stalls one message in ten; a
// PostgreSQL restarted (cleanly, or as after a crash); a Redis restarted without persistence; two
// worker processes killed together. Each asserts what SPEC.md's delivery guarantees promise: the run
// finishes, every eligible member gets the message and the ledger records it sent, and the
// duplicates (messages the SMTP server accepted twice for one member) stay within the bound: none
// where nothing was killed between a message's acceptance and its record, at most the killed
// workers' in-flight messages (their --concurrency) otherwise. Each logs its figures (messages,
// duplicates, faults met, the run's time) for the README.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/internal/mailcatcher"
	"github.com/jacksmood/dispatch/internal/pgproc"
	"github.com/jacksmood/dispatch/internal/redistest"
)

// faultLog collects the log lines of a fault test's daemons (in-process and child processes) and
// prints the last of them when the test fails: a fault that was not survived is explained there.
type faultLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// newFaultLog returns the test's log; make it before starting the daemons, so that it is printed
// after they have stopped.
func newFaultLog(t *testing.T) *faultLog {
	l := &faultLog{}
	t.Cleanup(func() {
		if t.Failed() {
			l.mu.Lock()
			lines := strings.Split(l.buf.String(), "\n")
			l.mu.Unlock()
			t.Logf("the daemons' last log lines:\n%s", strings.Join(lines[max(0, len(lines)-80):], "\n"))
		}
	})
	return l
}

func (l *faultLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// startLogged is system.start with the daemon's log lines kept in log.
func (s *system) startLogged(log io.Writer, args ...string) (stop func()) {
	if args[0] == "worker" {
		args = append(args, "--sms-log", filepath.Join(s.t.TempDir(), "sms.log"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if code := run(ctx, args, strings.NewReader(""), io.Discard, log, func(k string) string { return s.env[k] }); code != 0 {
			s.t.Errorf("dispatch %s: exit %d", strings.Join(args, " "), code)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	s.t.Cleanup(stop)
	return stop
}

// startChild runs a daemon in a process of its own (this test binary as the program), to be killed
// with SIGKILL; it is killed when the test ends if it still runs.
func (s *system) startChild(log io.Writer, args ...string) *exec.Cmd {
	s.t.Helper()
	self, err := os.Executable()
	pgtest.Must(s.t, "executable", err)
	if args[0] == "worker" {
		args = append(args, "--sms-log", filepath.Join(s.t.TempDir(), "sms.log"))
	}
	child := exec.Command(self, args...)
	child.Env = append(os.Environ(), "DISPATCH_TEST_AS_MAIN=1")
	for k, v := range s.env {
		child.Env = append(child.Env, k+"="+v)
	}
	child.Stderr = log
	pgtest.Must(s.t, "start "+args[0], child.Start())
	s.t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	return child
}

// faultRun is a campaign to n members (members(n)) scheduled now, and when it started.
type faultRun struct {
	s       *system
	id      string
	n       int
	started time.Time
}

// scheduleFaultRun imports n members who may all be mailed and schedules a coupon campaign to them.
func (s *system) scheduleFaultRun(n int) *faultRun {
	s.t.Helper()
	s.members(n)
	id := s.campaign(couponCampaign)
	r := &faultRun{s: s, id: id, n: n, started: time.Now()}
	s.must("campaigns", "schedule", id)
	return r
}

// check waits for the run to finish, then asserts that every member got the message, that the
// ledger records each delivery sent, and that at most bound messages were duplicates. It logs the
// figures and returns the duplicates.
func (r *faultRun) check(fault string, bound int) (dups int) {
	t := r.s.t
	t.Helper()
	db := r.s.dbHandle()
	deadline := time.Now().Add(60 * time.Second)
	for r.s.status(r.id) != "finished" {
		if time.Now().After(deadline) {
			// What is left, to tell a batch nobody will send again from one still being sent.
			var left []string
			pgtest.Must(t, "batches", db.Select(&left, `SELECT format('batch %s: enqueued %s (g%s), lease %s until %s, retry at %s, queued %s',
				b.batch, b.enqueued_at::time, b.enqueues, b.lease_owner, b.lease_until::time, b.retry_at::time,
				(SELECT count(*) FROM deliveries d WHERE d.run_id = b.run_id AND d.channel = b.channel AND d.batch = b.batch AND d.status = 'queued'))
				FROM batches b WHERE b.done_at IS NULL ORDER BY b.batch`))
			t.Fatalf("%s: the run did not finish in 60 s (%d messages accepted); batches not done:\n%s",
				fault, r.s.smtp.Received(), strings.Join(left, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(r.started)
	msgs := r.s.smtp.Messages()
	missed := 0
	for i, c := range perMember(msgs, r.n) {
		if c == 0 {
			missed++
			t.Errorf("member E%d got no message", i+1)
		}
		dups += max(c-1, 0)
	}
	sent := pgtest.Count(t, db, `SELECT count(*) FROM deliveries WHERE status = 'sent'`)
	if sent != r.n {
		var other []string
		pgtest.Must(t, "statuses", db.Select(&other, `SELECT status || coalesce(':' || reason, '') || ' ' || count(*)
			FROM deliveries WHERE status <> 'sent' GROUP BY status, reason`))
		t.Errorf("the ledger records %d of %d deliveries sent; the others: %v", sent, r.n, other)
	}
	t.Logf("%s: %d members, %d messages accepted, %d duplicates (bound %d), %d missed, %d faults met; the run took %.1f s",
		fault, r.n, len(msgs), dups, bound, missed, r.s.smtp.Faults(), took.Seconds())
	if dups > bound {
		// Which members, and where their copies came in the server's order, tell a copy sent
		// right after the fault (in flight) from a batch sent twice later on.
		first := map[string]int{}
		var copies []string
		for i, m := range msgs {
			if j, ok := first[m.To[0]]; ok {
				copies = append(copies, fmt.Sprintf("%s: #%d and #%d", m.To[0], j+1, i+1))
			} else {
				first[m.To[0]] = i
			}
		}
		t.Errorf("%s: %d duplicates, more than the bound of %d: %s", fault, dups, bound, strings.Join(copies, ", "))
	}
	return dups
}

// TestFaultSMTPServer: an SMTP server that fails one message in ten, each way a server fails: a 451
// to the recipient, a 451 after the message, a connection dropped in the middle of DATA, a stall
// longer than the client's timeout (DISPATCH_SMTP_TIMEOUT). Each failure is transient: the delivery
// is tried again a moment later. Nothing is duplicated, because no message the server accepted goes
// unrecorded: a refused, cut or stalled message was never accepted (the catcher keeps only what it
// accepted with a 250).
func TestFaultSMTPServer(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault mailcatcher.Fault
	}{
		{"451 at RCPT", mailcatcher.Fault{Code: 451, Text: "4.7.1 Try again later"}},
		{"451 after DATA", mailcatcher.Fault{Code: 451, Text: "4.3.0 Queue full, try again later", AtData: true}},
		{"connection dropped in DATA", mailcatcher.Fault{Drop: true}},
		{"stall past the timeout", mailcatcher.Fault{Stall: 3 * time.Second}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newSystem(t)
			log := newFaultLog(t)
			s.env["DISPATCH_SMTP_TIMEOUT"] = "1s"
			s.smtp.SetChaos(mailcatcher.Chaos{Every: 10, Fault: c.fault})
			r := s.scheduleFaultRun(200)
			s.startLogged(log, "scheduler", "--interval", "100ms", "--batch-size", "20")
			s.startLogged(log, "worker", "--concurrency", "4", "--retry-delay", "100ms")
			r.check("SMTP "+c.name+", one message in ten", 0)
			if s.smtp.Faults() < 20 {
				t.Fatalf("only %d faults met: the server did not fail one message in ten", s.smtp.Faults())
			}
		})
	}
}

// TestFaultPostgresRestarted: the database restarts in the middle of a run, every connection of the
// scheduler and the worker cut: cleanly ("fast": sessions ended, everything committed written), or
// as after a crash ("immediate": the server quits at once and recovers from its WAL). The run
// finishes, nobody is missed, and the duplicates are at most the worker's in-flight messages, its
// --concurrency: a message accepted by the SMTP server whose record had not reached the ledger when
// the connection dropped. The batch lease (10 s; a minute by default) outlasts the outage, as in
// production: the batches of the live worker are not handed over while it waits for the database.
// A batch whose release a crash undid has no task left: the scheduler's check for lost tasks
// (--stale-after, 2 minutes by default) brings it back. The cluster is the test's own (pgproc): the
// shared one is never restarted.
func TestFaultPostgresRestarted(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"fast", "immediate"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			pg := pgproc.Start(t)
			s := newSystem(t)
			log := newFaultLog(t)
			// The system moves to the private cluster (the schema newSystem made on the shared one
			// stays unused).
			s.env["DISPATCH_DATABASE_URL"] = pg.URL("dispatch")
			s.must("migrate")
			s.must("users", "add", "pia", "--role", "admin")
			s.env["DISPATCH_EMAIL_RATE"] = "100/s" // 3 s of sending: time to restart in the middle
			const concurrency = 4
			r := s.scheduleFaultRun(300)
			s.startLogged(log, "scheduler", "--interval", "100ms", "--batch-size", "25", "--stale-after", "5s")
			s.startLogged(log, "worker", "--concurrency", fmt.Sprint(concurrency), "--lease", "10s", "--retry-delay", "100ms")
			waitFor(t, 30*time.Second, "the first messages", func() bool { return s.smtp.Received() >= 80 })
			pg.Stop(mode)
			atStop := s.smtp.Received()
			time.Sleep(time.Second) // the daemons meet the closed port
			pg.Start()
			if atStop >= 300 {
				t.Fatal("the run had finished before the database was stopped: the test proves nothing")
			}
			r.check(fmt.Sprintf("PostgreSQL restarted (%s) after %d messages", mode, atStop), concurrency)
		})
	}
}

// TestFaultRedisRestartedWithoutPersistence: Redis is killed in the middle of a run and started
// again empty: every queued and running task, and the send rate's state, are gone. The scheduler
// finds the batches enqueued long ago and not done (--stale-after) and enqueues them again; the
// ledger says what is left of each. Nothing sent is sent again, except a message a batch had in
// hand when its task was cut, at most the worker's --concurrency. The batch lease outlasts the
// outage, as in production. The Redis is the test's own: the shared one is never restarted.
func TestFaultRedisRestartedWithoutPersistence(t *testing.T) {
	t.Parallel()
	rs := redistest.StartServer(t)
	// (The database newSystem claims on the shared Redis stays unused.)
	runWithRedisFault(t, rs.URL(), func() string {
		rs.Kill()
		time.Sleep(time.Second)
		rs.Start()
		return "Redis restarted empty"
	})
}

// runWithRedisFault sends a 200-member run through a scheduler and a worker (4 connections) on
// the Redis that redisURL names, lets fault strike once 50 messages are out, and checks the run
// (faultRun.check, bound: the worker's connections). fault says what it did.
func runWithRedisFault(t *testing.T, redisURL string, fault func() string) {
	s := newSystem(t)
	log := newFaultLog(t)
	s.env["DISPATCH_REDIS_URL"] = redisURL
	s.env["DISPATCH_EMAIL_RATE"] = "40/s"
	const concurrency = 4
	r := s.scheduleFaultRun(200)
	s.startLogged(log, "scheduler", "--interval", "100ms", "--batch-size", "20", "--stale-after", "2s")
	s.startLogged(log, "worker", "--concurrency", fmt.Sprint(concurrency), "--lease", "10s", "--retry-delay", "100ms")
	waitFor(t, 30*time.Second, "the first messages", func() bool { return s.smtp.Received() >= 50 })
	atFault := s.smtp.Received()
	what := fault()
	if atFault >= 200 {
		t.Fatalf("the run had finished before the fault (%s): the test proves nothing", what)
	}
	r.check(fmt.Sprintf("%s after %d messages", what, atFault), concurrency)
}

// TestFaultTwoWorkersKilled: the two worker processes sending a run are killed together with
// SIGKILL; a third finishes the run once their batch leases run out. The duplicates are at most
// the messages the two had accepted by the server and not yet recorded: one per batch in flight,
// their --concurrency together.
func TestFaultTwoWorkersKilled(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	log := newFaultLog(t)
	s.env["DISPATCH_EMAIL_RATE"] = "40/s"
	const concurrency = 3 // of each killed worker
	r := s.scheduleFaultRun(200)
	s.startLogged(log, "scheduler", "--interval", "100ms", "--batch-size", "25", "--stale-after", "2s")
	workers := []*exec.Cmd{
		s.startChild(log, "worker", "--concurrency", fmt.Sprint(concurrency), "--lease", "2s"),
		s.startChild(log, "worker", "--concurrency", fmt.Sprint(concurrency), "--lease", "2s"),
	}
	waitFor(t, 30*time.Second, "the first messages", func() bool { return s.smtp.Received() >= 60 })
	for _, w := range workers {
		pgtest.Must(t, "kill", w.Process.Signal(syscall.SIGKILL))
	}
	for _, w := range workers {
		w.Wait()
	}
	atKill := s.smtp.Received()
	if atKill >= 200 {
		t.Fatal("the run had finished before the workers were killed: the test proves nothing")
	}
	s.startLogged(log, "worker", "--concurrency", "4", "--lease", "2s", "--retry-delay", "100ms")
	r.check(fmt.Sprintf("two workers killed after %d messages", atKill), 2*concurrency)
}

// TestFaultRedisFailoverThroughSentinel: DISPATCH_REDIS_URL names a master through Redis Sentinel
// (redis-sentinel://), and the master is killed mid-run: the sentinel promotes the replica, the
// scheduler and the worker follow it there, and the run finishes with nothing missed. Tasks the
// replica had not yet received are found by the scheduler's check for lost tasks; the ledger keeps
// the duplicates to what the worker had in flight.
func TestFaultRedisFailoverThroughSentinel(t *testing.T) {
	t.Parallel()
	master := redistest.StartServer(t)
	replica := redistest.StartReplica(t, master)
	sentinel := redistest.StartSentinel(t, "dispatch", master)
	runWithRedisFault(t, "redis-sentinel://"+sentinel.Addr()+"/0?master=dispatch", func() string {
		master.Kill()
		return "the Redis master killed, its replica promoted by Sentinel,"
	})
	rc := redis.NewClient(&redis.Options{Addr: replica.Addr()})
	defer rc.Close()
	role, err := rc.Do(context.Background(), "ROLE").Slice()
	pgtest.Must(t, "ROLE", err)
	if len(role) == 0 || role[0] != "master" {
		t.Fatalf("the replica's role after the run: %v, want master (promoted)", role)
	}
}
