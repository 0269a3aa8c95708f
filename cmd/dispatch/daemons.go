package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/scheduler"
)

// redisOpt turns DISPATCH_REDIS_URL into asynq's connection options: one server, redis:// or
// rediss://, or a master found through Redis Sentinel, redis-sentinel:// or rediss-sentinel://
// with the sentinels' addresses, comma-separated, and ?master=NAME (see redisSentinelOpt). rediss is
// TLS 1.2 or later, the server's certificate checked against the system's roots for the URL's host
// name (through Sentinel, the host name each master or replica is reached by).
func redisOpt(raw string) (asynq.RedisConnOpt, error) {
	opt, err := parseRedisURL(raw)
	if err != nil {
		return nil, fmt.Errorf("DISPATCH_REDIS_URL: %w", err)
	}
	return opt, nil
}

// parseRedisURL is redisOpt without the setting's name in its errors (the configuration's check
// adds it).
func parseRedisURL(raw string) (asynq.RedisConnOpt, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, errors.New("want a URL like redis://HOST:6379/0 or redis-sentinel://HOST:26379,HOST:26379/0?master=NAME")
	}
	var user, pass string
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	db := 0
	if d := strings.Trim(u.Path, "/"); d != "" {
		if db, err = strconv.Atoi(d); err != nil || db < 0 {
			return nil, fmt.Errorf("database %q is not a number", d)
		}
	}
	switch u.Scheme {
	case "redis", "rediss":
		opt := asynq.RedisClientOpt{Addr: u.Host, Username: user, Password: pass, DB: db}
		if u.Scheme == "rediss" {
			opt.TLSConfig = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
		}
		return opt, nil
	case "redis-sentinel", "rediss-sentinel":
		return redisSentinelOpt(u, user, pass, db)
	}
	return nil, fmt.Errorf("scheme %q: want redis, rediss, redis-sentinel or rediss-sentinel", u.Scheme)
}

// redisSentinelOpt is the Sentinel form of DISPATCH_REDIS_URL:
//
//	redis-sentinel://[user:password@]host1:26379,host2:26379,host3:26379[/db]?master=NAME[&sentinel_password=...]
//
// The user and password are the master's (and its replicas'), as in redis://; the sentinels' own,
// when they require one, are sentinel_username and sentinel_password. go-redis asks the sentinels
// for the master and follows a failover to the new one.
func redisSentinelOpt(u *url.URL, user, pass string, db int) (asynq.RedisConnOpt, error) {
	q := u.Query()
	for k := range q {
		switch k {
		case "master", "sentinel_username", "sentinel_password":
		default:
			return nil, fmt.Errorf("unknown parameter %q: want master, sentinel_username or sentinel_password", k)
		}
	}
	opt := asynq.RedisFailoverClientOpt{MasterName: q.Get("master"), Username: user, Password: pass, DB: db,
		SentinelUsername: q.Get("sentinel_username"), SentinelPassword: q.Get("sentinel_password")}
	if opt.MasterName == "" {
		return nil, errors.New("a Sentinel URL needs ?master= with the name of the master the sentinels monitor")
	}
	for _, a := range strings.Split(u.Host, ",") {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return nil, fmt.Errorf("sentinel address %q: want host:port", a)
		}
		opt.SentinelAddrs = append(opt.SentinelAddrs, a)
	}
	if u.Scheme == "rediss-sentinel" {
		opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return opt, nil
}

// newRedisClient is one of dispatch's own go-redis clients (rate limits, message counters, the
// reach check) for the Redis that asynq's opt names: the same options, TLS and Sentinel included.
func newRedisClient(opt asynq.RedisConnOpt) *redis.Client {
	return opt.MakeRedisClient().(*redis.Client)
}

// redisTarget says where the Redis opt names is reached, for the reach check: its name in
// messages (the server's address, or the sentinels' and the master's name), the addresses to dial
// (the server, the sentinels), and the passwords that messages must not show.
func redisTarget(opt asynq.RedisConnOpt) (name string, addrs, secrets []string) {
	switch o := opt.(type) {
	case asynq.RedisClientOpt:
		return o.Addr, []string{o.Addr}, []string{o.Password}
	case asynq.RedisFailoverClientOpt:
		return fmt.Sprintf("%s (master %q through its sentinels)", strings.Join(o.SentinelAddrs, ","), o.MasterName),
			o.SentinelAddrs, []string{o.Password, o.SentinelPassword}
	}
	return fmt.Sprint(opt), nil, nil
}

// requireSecret is the check of the daemons and the server, which sign or verify links.
func (a *app) requireSecret() error {
	if a.cfg.Secret == "" {
		return usagef("DISPATCH_SECRET: required by serve, worker and scheduler (at least 16 characters)")
	}
	return nil
}

func (a *app) schedulerCommand() *cobra.Command {
	var cfg scheduler.Config
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Run the scheduler daemon: start due runs, select members, enqueue batches (SIGTERM stops it)",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.requireSecret(); err != nil {
				return err
			}
			if err := a.startDaemon(); err != nil {
				return err
			}
			s, err := a.openStore()
			if err != nil {
				return err
			}
			return a.runScheduler(a.ctx, s, cfg, a.cfg.QuietHours)
		},
	}
	cmd.Flags().DurationVar(&cfg.Interval, "interval", 2*time.Second, "time between passes")
	cmd.Flags().DurationVar(&cfg.StaleAfter, "stale-after", 2*time.Minute, "how long a batch may stay enqueued and unfinished before its task is looked for and enqueued again if lost")
	cmd.Flags().IntVar(&cfg.Select.BatchSize, "batch-size", 500, "email and SMS deliveries per queue task")
	return cmd
}

// runScheduler runs the scheduler daemon until ctx ends.
func (a *app) runScheduler(ctx context.Context, s store, cfg scheduler.Config, quiet campaigns.QuietHours) error {
	opt, err := redisOpt(a.cfg.RedisURL)
	if err != nil {
		return err
	}
	q := scheduler.NewRedisQueue(opt)
	defer q.Close()
	cfg.Location = a.cfg.Timezone
	cfg.QuietHours = quiet
	// Woken by the database the moment a campaign is scheduled, paused, resumed or cancelled.
	wake, err := s.ListenForWork(ctx, a.cfg.DatabaseURL, a.log)
	if err != nil {
		return err
	}
	cfg.Wake = wake
	sch, err := scheduler.New(cfg, s, q, a.log)
	if err != nil {
		return err
	}
	a.log.Info("scheduler started")
	return sch.Run(ctx)
}
