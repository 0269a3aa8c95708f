package main

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/email"
)

func (a *app) workerCommand() *cobra.Command {
	var concurrency int
	var queues []string
	var retryDelay, leaseTTL time.Duration
	cmd := &cobra.Command{
		Use:   "worker [--concurrency N] [--queues email,sms,print]",
		Short: "Run a worker daemon: send the queued batches (SIGTERM finishes the message in hand and stops)",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.requireSecret(); err != nil {
				return err
			}
			for _, q := range queues {
				if _, ok := worker.Queues[q]; !ok {
					return usagef("--queues: unknown queue %q (want email, sms or print)", q)
				}
			}
			// The ledger's per-message "sent" records commit asynchronously: a worker crash loses
			// nothing (PostgreSQL has the commit), and a database crash loses at most the last
			// fraction of a second of records, whose messages may then be sent again: the same bound
			// as a worker killed between the server's acceptance and the record.
			s, err := a.openStoreWith("synchronous_commit", "off")
			if err != nil {
				return err
			}
			return a.runWorker(a.ctx, s, worker.ServerConfig{Concurrency: concurrency, Queues: queues, RetryDelay: retryDelay}, leaseTTL)
		},
	}
	cmd.Flags().IntVar(&concurrency, "concurrency", 10, "batches sent at once (and SMTP connections kept open)")
	cmd.Flags().StringSliceVar(&queues, "queues", nil, "queues to serve: email, sms, print (default all)")
	cmd.Flags().DurationVar(&retryDelay, "retry-delay", 0, "fixed delay before a failed batch is retried (default: asynq's exponential backoff)")
	cmd.Flags().MarkHidden("retry-delay")
	cmd.Flags().DurationVar(&leaseTTL, "lease", time.Minute, "how long a killed worker's batch stays held before another worker takes it over")
	return cmd
}

// runWorker sends batches from the queue until ctx ends, with the channels configured.
func (a *app) runWorker(ctx context.Context, s *postgres.Store, cfg worker.ServerConfig, leaseTTL time.Duration) error {
	opt, err := redisOpt(a.cfg.RedisURL)
	if err != nil {
		return err
	}
	r, err := templates.New(a.cfg.TemplateDir)
	if err != nil {
		return err
	}
	mailer, err := email.New(email.Config{URL: a.cfg.SMTPURL, From: a.cfg.MailFrom, Connections: max(cfg.Concurrency, 1)}, a.log)
	if err != nil {
		return err
	}
	defer mailer.Close()
	senders := map[campaigns.Channel]worker.Sender{campaigns.Email: email.Channel{Sender: mailer}}
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, Username: opt.Username, Password: opt.Password, DB: opt.DB})
	defer rdb.Close()
	limiter := worker.NewRedisLimiter(rdb, map[campaigns.Channel]worker.Rate{
		campaigns.Email: {N: a.cfg.EmailRate.N, Per: a.cfg.EmailRate.Per},
		campaigns.SMS:   {N: a.cfg.SMSRate.N, Per: a.cfg.SMSRate.Per},
	})
	w, err := worker.New(worker.Config{PublicURL: a.cfg.PublicURL, Secret: []byte(a.cfg.Secret), LeaseTTL: leaseTTL, QuietHours: a.cfg.QuietHours,
		UnsubscribeMailto: a.cfg.UnsubscribeMailto, MessageIDDomain: worker.DomainOf(a.cfg.MailFrom)},
		s, senders, r, limiter, worker.NewRedisMetrics(rdb), a.log)
	if err != nil {
		return err
	}
	return worker.Serve(ctx, opt, w, cfg, a.log)
}
