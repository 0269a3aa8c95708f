package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

const startupSecret = "startup-secret-0123456789" // 25 characters

// TestDaemonsStopAtOnceWhenPostgresOrRedisIsUnreachable: worker, scheduler and serve check
// PostgreSQL and Redis before they start, and stop with exit 1 and one line naming what does not
// answer, its variable and its address, without the password.
func TestDaemonsStopAtOnceWhenPostgresOrRedisIsUnreachable(t *testing.T) {
	t.Parallel()
	reachableDB := pgtest.SchemaURL(t)
	const refused = "dial tcp 127.0.0.1:1: connect: connection refused"
	cases := []struct {
		name, db, redis, want string
	}{
		{"redis", reachableDB, "redis://:redis-password@127.0.0.1:1/3",
			"dispatch: Redis at 127.0.0.1:1 is unreachable (DISPATCH_REDIS_URL): " + refused + "\n"},
		{"sentinel", reachableDB, "redis-sentinel://:redis-password@127.0.0.1:1,127.0.0.1:2/3?master=mq&sentinel_password=sentinel-password",
			"dispatch: Redis at 127.0.0.1:1,127.0.0.1:2 (master \"mq\" through its sentinels) is unreachable (DISPATCH_REDIS_URL): dial tcp 127.0.0.1:2: connect: connection refused\n"},
		{"postgres", "postgres://postgres:pg-password@127.0.0.1:1/x?sslmode=disable", "redis://127.0.0.1:1",
			"dispatch: PostgreSQL at 127.0.0.1:1/x is unreachable (DISPATCH_DATABASE_URL): " + refused + "\n"},
	}
	for _, daemon := range []string{"worker", "scheduler", "serve"} {
		for _, tc := range cases {
			t.Run(daemon+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				c := &cli{t: t, env: map[string]string{
					"DISPATCH_DATABASE_URL":    tc.db,
					"DISPATCH_REDIS_URL":       tc.redis,
					"DISPATCH_SECRET":          startupSecret,
					"DISPATCH_SUPPRESSION_KEY": startupSecret,
					"DISPATCH_HTTP_ADDR":       "127.0.0.1:0",
				}}
				// A daemon that does not check would run on, retrying: the test stops it after 20 s.
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				var stderr bytes.Buffer
				start := time.Now()
				code := run(ctx, []string{daemon}, strings.NewReader(""), io.Discard, &stderr, func(k string) string { return c.env[k] })
				errOut := stderr.String()
				if took := time.Since(start); took > 8*time.Second {
					t.Errorf("dispatch %s took %s to give up", daemon, took)
				}
				if code != 1 || errOut != tc.want {
					t.Errorf("dispatch %s: exit %d, stderr %q\nwant exit 1, stderr %q", daemon, code, errOut, tc.want)
				}
				if strings.Contains(errOut, "password") {
					t.Errorf("the line shows the password: %q", errOut)
				}
			})
		}
	}
}

// TestStartupChecksGiveUpOnASilentServer: a PostgreSQL or Redis address where something accepts
// the connection and says nothing fails the check within its few seconds, not never.
func TestStartupChecksGiveUpOnASilentServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // after the parallel subtests
	go func() {
		var held []net.Conn // accepted, never answered, closed when the listener is
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	silent := ln.Addr().String()
	reachableDB := pgtest.SchemaURL(t)
	for name, env := range map[string][2]string{
		"postgres": {"postgres://postgres@" + silent + "/x?sslmode=disable", "redis://127.0.0.1:1"},
		"redis":    {reachableDB, "redis://" + silent},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := &cli{t: t, env: map[string]string{"DISPATCH_DATABASE_URL": env[0], "DISPATCH_REDIS_URL": env[1], "DISPATCH_SECRET": startupSecret}}
			start := time.Now()
			_, errOut, code := c.run("scheduler")
			want := map[string]string{"postgres": "PostgreSQL at " + silent + "/x", "redis": "Redis at " + silent}[name] + " is unreachable"
			if took := time.Since(start); code != 1 || took > 10*time.Second || !strings.HasPrefix(errOut, "dispatch: "+want) ||
				!strings.HasSuffix(errOut, ": no answer within 5s\n") || strings.Count(errOut, "\n") != 1 {
				t.Errorf("scheduler: exit %d after %s, stderr %q", code, took, errOut)
			}
		})
	}
}

// TestGoRedisLinesAreStructuredAndNotRepeated: go-redis's log lines come out as structured lines,
// and the same line again within goRedisRepeatEvery is held back and counted.
func TestGoRedisLinesAreStructuredAndNotRepeated(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	l := &goRedisLogger{log: slog.New(slog.NewTextHandler(&out, nil)).With(slog.String("component", "redis"))}
	ctx := context.Background()
	for range 3 {
		l.Printf(ctx, "redis: connection pool: failed to dial after %d attempts: %v", 5, "dial tcp 127.0.0.1:1: connect: connection refused")
	}
	l.Printf(ctx, "redis: failed to close connection: %v", "use of closed network connection")
	l.lastAt = l.lastAt.Add(-goRedisRepeatEvery)
	l.Printf(ctx, "redis: failed to close connection: %v", "use of closed network connection")
	l.Printf(ctx, "redis: failed to close connection: %v", "use of closed network connection")
	l.lastAt = l.lastAt.Add(-goRedisRepeatEvery)
	l.Printf(ctx, "redis: failed to close connection: %v", "use of closed network connection")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		`level=WARN msg="connection pool: failed to dial after 5 attempts: dial tcp 127.0.0.1:1: connect: connection refused" component=redis`,
		`level=WARN msg="failed to close connection: use of closed network connection" component=redis`,
		`level=WARN msg="failed to close connection: use of closed network connection" component=redis`,
		`level=WARN msg="failed to close connection: use of closed network connection" component=redis repeated=1`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, line := range lines {
		if !strings.HasPrefix(line, "time=") || !strings.HasSuffix(line, " "+want[i]) {
			t.Errorf("line %d = %s\nwant  time=... %s", i+1, line, want[i])
		}
	}
}

// daemon runs a daemon command in-process, its stderr collected, until stop is called.
func (s *system) daemon(args ...string) (stderr *lockedBuffer, stop func()) {
	s.t.Helper()
	if len(args) > 0 && args[0] == "worker" && !slices.Contains(args, "--sms-log") {
		args = append(args, "--sms-log", filepath.Join(s.t.TempDir(), "sms.log"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, args, strings.NewReader(""), io.Discard, stderr, func(k string) string { return s.env[k] })
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if code := <-done; code != 0 {
				s.t.Errorf("dispatch %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
			}
		})
	}
	s.t.Cleanup(stop)
	return stderr, stop
}

// logLine waits up to 20 s for a line of log holding every one of want, and returns it.
func logLine(t *testing.T, log *lockedBuffer, want ...string) string {
	t.Helper()
	return logLineIn(t, []*lockedBuffer{log}, want...)
}

// logLineIn waits up to 20 s for a line of any of logs holding every one of want, and returns it.
func logLineIn(t *testing.T, logs []*lockedBuffer, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, log := range logs {
		lines:
			for _, line := range strings.Split(log.String(), "\n") {
				for _, w := range want {
					if !strings.Contains(line, w) {
						continue lines
					}
				}
				return line
			}
		}
		if time.Now().After(deadline) {
			var all []string
			for _, log := range logs {
				all = append(all, log.String())
			}
			t.Fatalf("no log line with %q:\n%s", want, strings.Join(all, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rfc3339Helsinki is the time of a log line in Europe/Helsinki: RFC 3339, milliseconds, the offset.
var rfc3339Helsinki = regexp.MustCompile(`^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0[23]:00 `)

// TestServeLogsRequestsInTheConfiguredZone: `dispatch serve` logs each request (method, path with
// the unsubscribe token redacted, status, duration, user), and every log line is timed in
// DISPATCH_TIMEZONE with its offset, whatever the process's own zone.
func TestServeLogsRequestsInTheConfiguredZone(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.env["DISPATCH_TIMEZONE"] = "Europe/Helsinki"
	token := strings.TrimSpace(s.must("users", "add", "ulla", "--role", "marketer"))
	log, stop := s.daemon("serve")
	logLine(t, log, "msg=serving")

	const unsubToken = "SOMETOKEN-abcdef0123456789"
	for _, req := range []struct{ path, token string }{{"/u/" + unsubToken, ""}, {"/api/campaigns", token}, {"/api/campaigns", "dsp_unknown"}} {
		base := s.staff
		if strings.HasPrefix(req.path, "/u/") {
			base = s.public
		}
		r, err := http.NewRequest("GET", base+req.path, nil)
		pgtest.Must(t, "request", err)
		if req.token != "" {
			r.Header.Set("Authorization", "Bearer "+req.token)
		}
		resp, err := http.DefaultClient.Do(r)
		pgtest.Must(t, "GET "+req.path, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	logLine(t, log, "level=INFO", "msg=request", "method=GET", "path=/u/… ", "status=400", "duration_ms=", "bytes=")
	logLine(t, log, "level=INFO", "msg=request", "method=GET", "path=/api/campaigns ", "status=200", "user=ulla")
	logLine(t, log, "level=WARN", "msg=request", "path=/api/campaigns ", "status=401")
	stop()

	out := log.String()
	for _, secret := range []string{unsubToken, token, "dsp_unknown"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %q:\n%s", secret, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !rfc3339Helsinki.MatchString(line) {
			t.Errorf("line not timed in Europe/Helsinki with its offset: %s", line)
		}
	}
}

// redisProxy forwards TCP connections to Redis until it is cut, when it closes them all and stops
// listening: to the daemons behind it, Redis went away.
type redisProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newRedisProxy(t *testing.T, upstream string) *redisProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &redisProxy{ln: ln}
	t.Cleanup(p.cut)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	return p
}

func (p *redisProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestLostRedisIsLoggedAsStructuredLines: when Redis goes away under a running worker and server,
// what asynq and go-redis say of it comes as structured lines (component=asynq, component=redis) in
// the daemon's log, never as the libraries' raw lines. Not parallel: go-redis has one logger per
// process, which the daemon started last holds.
func TestLostRedisIsLoggedAsStructuredLines(t *testing.T) {
	s := newSystem(t)
	proxy := newRedisProxy(t, s.redis.Opt.Addr)
	s.env["DISPATCH_REDIS_URL"] = fmt.Sprintf("redis://%s/%d", proxy.ln.Addr(), s.redis.Opt.DB)
	workerLog, stopWorker := s.daemon("worker")
	logLine(t, workerLog, `msg="worker started"`)
	serveLog, stopServe := s.daemon("serve")
	logLine(t, serveLog, "msg=serving")

	proxy.cut()
	logLine(t, workerLog, "level=ERROR", "component=asynq", "connection refused")
	// The server's readiness check goes to Redis through go-redis, which logs the failed dial.
	if resp, err := http.Get(s.staff + "/readyz"); err != nil {
		t.Errorf("/readyz: %v", err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz without Redis answered %d", resp.StatusCode)
	}
	logLineIn(t, []*lockedBuffer{workerLog, serveLog}, "level=WARN", "component=redis", "connection refused")
	stopWorker()
	stopServe()
	for name, log := range map[string]string{"worker": workerLog.String(), "serve": serveLog.String()} {
		for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
			if !strings.HasPrefix(line, "time=") || strings.HasPrefix(line, "asynq:") || strings.HasPrefix(line, "redis:") {
				t.Errorf("%s wrote a line that is not structured: %s", name, line)
			}
		}
	}
}
