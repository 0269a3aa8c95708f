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
// adds it). No error quotes a part of the URL: a password that was not percent-encoded ends up
// anywhere in it.
func parseRedisURL(raw string) (asynq.RedisConnOpt, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	scheme = strings.ToLower(scheme)
	sentinel := scheme == "redis-sentinel" || scheme == "rediss-sentinel"
	var hosts string
	if ok && sentinel {
		// The sentinels' list is cut out by hand: url.Parse takes one host, and refuses a list with
		// an IPv6 address in it.
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		authority := rest[:end]
		at := strings.LastIndex(authority, "@")
		hosts = authority[at+1:]
		raw = scheme + "://" + authority[:at+1] + "sentinels" + rest[end:]
	}
	u, err := url.Parse(raw)
	if !ok || err != nil || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("want a URL like redis://HOST:6379/0 or redis-sentinel://HOST:26379,HOST:26379/0?master=NAME (a password with / @ : % & # ? in it percent-encoded)")
	}
	var user, pass string
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	db := 0
	if d := strings.Trim(u.Path, "/"); d != "" {
		if db, err = strconv.Atoi(d); err != nil || db < 0 || len(d) > 5 {
			return nil, errors.New("the database (the URL's path) is not a number")
		}
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("the parameters after ? do not parse")
	}
	switch scheme {
	case "redis", "rediss":
		if strings.Contains(u.Host, ",") || len(query) > 0 {
			return nil, errors.New("redis:// and rediss:// name one server and take no parameters; for Redis Sentinel, redis-sentinel://HOST:26379,HOST:26379/0?master=NAME")
		}
		opt := asynq.RedisClientOpt{Addr: u.Host, Username: user, Password: pass, DB: db}
		if scheme == "rediss" {
			opt.TLSConfig = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
		}
		return opt, nil
	case "redis-sentinel", "rediss-sentinel":
		return redisSentinelOpt(scheme, hosts, query, user, pass, db)
	}
	return nil, errors.New("the scheme is not redis, rediss, redis-sentinel or rediss-sentinel")
}

// redisSentinelOpt is the Sentinel form of DISPATCH_REDIS_URL:
//
//	redis-sentinel://[user:password@]host1:26379,host2:26379,host3:26379[/db]?master=NAME[&sentinel_password=...]
//
// hosts is the comma-separated list of sentinels, query the URL's parameters. The user and password
// are the master's (and its replicas'), as in redis://; the sentinels' own, when they require one,
// are sentinel_username and sentinel_password. go-redis asks the sentinels for the master and
// follows a failover to the new one.
func redisSentinelOpt(scheme, hosts string, query url.Values, user, pass string, db int) (asynq.RedisConnOpt, error) {
	for k, v := range query {
		switch k {
		case "master", "sentinel_username", "sentinel_password":
			if len(v) > 1 {
				return nil, fmt.Errorf("parameter %s is given %d times", k, len(v))
			}
		default:
			if len(k) <= 32 && strings.Trim(k, "abcdefghijklmnopqrstuvwxyz_") == "" {
				return nil, fmt.Errorf("unknown parameter %s: want master, sentinel_username or sentinel_password", k)
			}
			return nil, errors.New("an unknown parameter: want master, sentinel_username or sentinel_password (a password with & or = in it percent-encoded)")
		}
	}
	opt := asynq.RedisFailoverClientOpt{MasterName: query.Get("master"), Username: user, Password: pass, DB: db,
		SentinelUsername: query.Get("sentinel_username"), SentinelPassword: query.Get("sentinel_password")}
	if opt.MasterName == "" {
		return nil, errors.New("a Sentinel URL needs ?master= with the name of the master the sentinels monitor")
	}
	addrs := strings.Split(hosts, ",")
	for i, a := range addrs {
		_, port, err := net.SplitHostPort(a)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("sentinel %d of %d is not host:port (port 1 to 65535)", i+1, len(addrs))
		}
	}
	opt.SentinelAddrs = addrs
	if scheme == "rediss-sentinel" {
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
	return "Redis", nil, nil // not reached: redisOpt makes only the two above
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
