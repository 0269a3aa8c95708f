package main

import (
	"context"
	"crypto/tls"
	"fmt"
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

// redisOpt turns DISPATCH_REDIS_URL into asynq's connection options. rediss:// is TLS 1.2 or later,
// the server's certificate checked against the system's roots for the URL's host name.
func redisOpt(raw string) (asynq.RedisClientOpt, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return asynq.RedisClientOpt{}, fmt.Errorf("DISPATCH_REDIS_URL: %w", err)
	}
	opt := asynq.RedisClientOpt{Addr: u.Host}
	if u.User != nil {
		opt.Username = u.User.Username()
		opt.Password, _ = u.User.Password()
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		opt.DB, _ = strconv.Atoi(db)
	}
	if u.Scheme == "rediss" {
		opt.TLSConfig = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	}
	return opt, nil
}

// goRedisOptions are the options of dispatch's own go-redis clients (rate limits, message counters,
// the reach check) for the server asynq's opt names, TLS included.
func goRedisOptions(opt asynq.RedisClientOpt) *redis.Options {
	return &redis.Options{Addr: opt.Addr, Username: opt.Username, Password: opt.Password, DB: opt.DB, TLSConfig: opt.TLSConfig}
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
