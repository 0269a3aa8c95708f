package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// reachTimeout is how long each start-up check waits for PostgreSQL or Redis to answer.
const reachTimeout = 5 * time.Second

// unreachableError is a start-up check's failure: what did not answer, at which address (without
// credentials), named by which variable, and why.
type unreachableError struct {
	what, addr, variable string
	err                  error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("%s at %s is unreachable (%s): %v", e.what, e.addr, e.variable, e.err)
}

func (e *unreachableError) Unwrap() error { return e.err }

// startDaemon is the start of serve, worker and scheduler: it checks that PostgreSQL and Redis
// answer (see checkReach), then sends go-redis's own log lines (a failed dial, a lost connection,
// of asynq's connections too) through a.log as structured lines with component=redis (see
// goRedisLogger), instead of go-redis's raw lines on the process's stderr.
func (a *app) startDaemon() error {
	if err := a.checkReach(); err != nil {
		return err
	}
	// go-redis has one logger per process: the daemon that started last in this process owns it
	// (the program runs one daemon; the demo runs its own in-process and shares a.log).
	redis.SetLogger(&goRedisLogger{log: a.log.With(slog.String("component", "redis"))})
	return nil
}

// checkReach pings PostgreSQL (DISPATCH_DATABASE_URL) and then Redis (DISPATCH_REDIS_URL), each
// within reachTimeout. It fails with an *unreachableError naming the first that does not answer,
// so that a daemon stops at once with one line rather than retrying and logging forever.
func (a *app) checkReach() error {
	if err := a.checkPostgres(); err != nil {
		return err
	}
	return a.checkRedis()
}

func (a *app) checkPostgres() error {
	ctx, cancel := context.WithTimeout(a.ctx, reachTimeout)
	defer cancel()
	// Opening the store pings the database; this pool is the check's own and closed at once.
	// connect_timeout bounds a server that accepts the connection and says nothing: lib/pq does
	// not watch ctx while it waits for the server's first answer.
	s, err := openStore(ctx, a.cfg.DatabaseURL, "connect_timeout", strconv.Itoa(int(reachTimeout/time.Second)))
	if err == nil {
		return s.Close()
	}
	if a.ctx.Err() != nil {
		return a.ctx.Err()
	}
	u, _ := url.Parse(a.cfg.DatabaseURL) // the configuration checked it
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "5432")
	}
	addr += u.Path
	// postgres.Open says "connect to database: ..."; the line says that already.
	if inner := errors.Unwrap(err); inner != nil {
		err = inner
	}
	if timedOut(err) {
		err = fmt.Errorf("no answer within %s", reachTimeout)
	}
	pass, _ := u.User.Password()
	return &unreachableError{what: "PostgreSQL", addr: addr, variable: "DISPATCH_DATABASE_URL", err: scrub(err, pass)}
}

func (a *app) checkRedis() error {
	opt, err := redisOpt(a.cfg.RedisURL)
	if err != nil {
		return err
	}
	target, addrs, secrets := redisTarget(opt)
	ctx, cancel := context.WithTimeout(a.ctx, reachTimeout)
	defer cancel()
	fail := func(err error) error {
		if a.ctx.Err() != nil {
			return a.ctx.Err()
		}
		if timedOut(err) {
			err = fmt.Errorf("no answer within %s", reachTimeout)
		}
		for _, secret := range secrets {
			err = scrub(err, secret)
		}
		return &unreachableError{what: "Redis", addr: target, variable: "DISPATCH_REDIS_URL", err: err}
	}
	// Dial first: go-redis logs a failed dial itself, on the process's stderr, besides returning it,
	// and the check's failure is to be one line. Through Sentinel, one sentinel answering will do:
	// they are dialed at once, so that one switched off does not use up the check's time.
	if err := dialAny(ctx, addrs); err != nil {
		return fail(err)
	}
	// Then PING, which also checks the password and the database number (and, through Sentinel,
	// that the sentinels know the master and it answers).
	switch o := opt.(type) {
	case asynq.RedisClientOpt:
		o.PoolSize = 1
		opt = o
	case asynq.RedisFailoverClientOpt:
		o.PoolSize = 1
		opt = o
	}
	rdb := newRedisClient(opt)
	defer rdb.Close()
	rdb.Options().MaxRetries = -1 // read at each command: one PING, not retried
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fail(err)
	}
	return nil
}

// dialAny dials every address at once and returns nil as soon as one connection opens, or the
// error of the last address listed when none does.
func dialAny(ctx context.Context, addrs []string) error {
	if len(addrs) == 0 {
		return errors.New("no address")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan struct {
		i   int
		err error
	}, len(addrs))
	for i, addr := range addrs {
		go func() {
			var d net.Dialer
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				conn.Close()
			}
			errs <- struct {
				i   int
				err error
			}{i, err}
		}()
	}
	last := make([]error, len(addrs))
	for range addrs {
		r := <-errs
		if r.err == nil {
			return nil
		}
		last[r.i] = r.err
	}
	return last[len(addrs)-1]
}

// timedOut reports whether err is a check's time running out (rather than, say, a refusal).
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// scrub replaces the password, should a driver's error quote it, with xxxxx.
func scrub(err error, password string) error {
	if password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "xxxxx"))
}

// goRedisRepeatEvery is how often goRedisLogger logs the same line again: while Redis is away,
// every connection pool says it failed to dial, several times a second.
const goRedisRepeatEvery = 10 * time.Second

// goRedisLogger writes go-redis's log lines through slog at Warn (go-redis logs what went wrong: a
// failed dial, a connection it could not close), with component=redis. A line the same as the last
// is logged again only after goRedisRepeatEvery, with repeated=N, the times it was held back.
type goRedisLogger struct {
	log     *slog.Logger
	mu      sync.Mutex
	last    string
	lastAt  time.Time
	dropped int
}

func (l *goRedisLogger) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	now := time.Now()
	l.mu.Lock()
	if msg == l.last && now.Sub(l.lastAt) < goRedisRepeatEvery {
		l.dropped++
		l.mu.Unlock()
		return
	}
	var attrs []any
	if msg == l.last && l.dropped > 0 {
		attrs = append(attrs, slog.Int("repeated", l.dropped))
	}
	l.last, l.lastAt, l.dropped = msg, now, 0
	l.mu.Unlock()
	l.log.WarnContext(ctx, msg, attrs...)
}
