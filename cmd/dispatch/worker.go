package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/email"
	"github.com/jacksmood/dispatch/worker/print"
	"github.com/jacksmood/dispatch/worker/sms"
)

func (a *app) workerCommand() *cobra.Command {
	var concurrency, checkEvery int
	var queues []string
	var retryDelay, leaseTTL, recordEvery time.Duration
	var smsLogPath, cpuProfile string
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
			if err := a.startDaemon(); err != nil {
				return err
			}
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer stop()
			}
			// The ledger's "sent" records commit synchronously: a PostgreSQL crash loses none of them,
			// and the recorder's group commit keeps the commits few.
			s, err := a.openStore()
			if err != nil {
				return err
			}
			// log:// (development) writes numbers and texts: to a file of its own, readable by its
			// owner only, never to the daemon's output, which ends up in the logs.
			var smsLog io.Writer = io.Discard
			if strings.HasPrefix(a.cfg.SMSURL, "log:") {
				f, err := os.OpenFile(smsLogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
				if err != nil {
					return fmt.Errorf("--sms-log: %w", err)
				}
				defer f.Close()
				smsLog = f
				a.log.Warn("SMS go to the development sink log://, not to a gateway: set DISPATCH_SMS_URL for real sends", slog.String("file", smsLogPath))
			}
			return a.runWorker(a.ctx, s, workerOptions{
				server: worker.ServerConfig{Concurrency: concurrency, Queues: queues, RetryDelay: retryDelay},
				lease:  leaseTTL, smsLog: smsLog, quiet: a.cfg.QuietHours, recordEvery: recordEvery,
				checkEvery: checkEvery,
			})
		},
	}
	cmd.Flags().IntVar(&concurrency, "concurrency", 10, "batches sent at once (and SMTP connections kept open)")
	cmd.Flags().StringSliceVar(&queues, "queues", nil, "queues to serve: email, sms, print (default all)")
	cmd.Flags().DurationVar(&retryDelay, "retry-delay", 0, "fixed delay before a failed batch is retried, and the first wait before a delivery that failed transiently is tried again (tests; default: exponential backoff)")
	cmd.Flags().MarkHidden("retry-delay")
	cmd.Flags().DurationVar(&leaseTTL, "lease", time.Minute, "how long a killed worker's batch stays held before another worker takes it over")
	cmd.Flags().DurationVar(&recordEvery, "record-every", 0, "how long a sent message waits for others to be recorded with it in one statement (default 3ms; a batch sends its next message once its previous one is recorded)")
	cmd.Flags().IntVar(&checkEvery, "check-every", 0, "how many messages are re-checked (consent, suppression, run paused) in one query just before they are sent, and given their coupons in one statement (default 20)")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the worker to this file until it stops (go tool pprof reads it)")
	cmd.Flags().MarkHidden("cpuprofile")
	cmd.Flags().StringVar(&smsLogPath, "sms-log", "sms.log", "with DISPATCH_SMS_URL=log://: the file the SMS are written to (mode 0600)")
	return cmd
}

// workerOptions are what differ between `dispatch worker` and the demo's in-process worker.
type workerOptions struct {
	server   worker.ServerConfig
	lease    time.Duration
	smsLog   io.Writer // where log:// SMS go
	printDir string    // where print batches go; default DISPATCH_PRINT_DIR
	quiet    campaigns.QuietHours
	// recordEvery and checkEvery are worker.Config.RecordEvery and CheckEvery (0: their defaults).
	recordEvery time.Duration
	checkEvery  int
}

// runWorker sends batches from the queue until ctx ends, with the channels configured.
func (a *app) runWorker(ctx context.Context, s worker.Store, o workerOptions) error {
	opt, err := redisOpt(a.cfg.RedisURL)
	if err != nil {
		return err
	}
	composer, err := a.composer()
	if err != nil {
		return err
	}
	mailer, err := email.New(email.Config{URL: a.cfg.SMTPURL, From: a.cfg.MailFrom, Connections: max(o.server.Concurrency, 1),
		Timeout: a.cfg.SMTPTimeout}, a.log)
	if err != nil {
		return err
	}
	defer mailer.Close()
	texter, err := sms.New(sms.Config{URL: a.cfg.SMSURL, Log: o.smsLog}, a.log)
	if err != nil {
		return err
	}
	senders := map[campaigns.Channel]worker.Sender{campaigns.Email: email.Channel{Sender: mailer}, campaigns.SMS: texter}
	printDir := a.cfg.PrintDir
	if o.printDir != "" {
		printDir = o.printDir
	}
	printer, err := print.New(print.Config{Dir: printDir}, a.log)
	if err != nil {
		return err
	}
	rdb := newRedisClient(opt)
	defer rdb.Close()
	limiter := worker.NewRedisLimiter(rdb, map[campaigns.Channel]worker.Rate{
		campaigns.Email: {N: a.cfg.EmailRate.N, Per: a.cfg.EmailRate.Per},
		campaigns.SMS:   {N: a.cfg.SMSRate.N, Per: a.cfg.SMSRate.Per},
	})
	w, err := worker.New(worker.Config{LeaseTTL: o.lease, QuietHours: o.quiet, Timezone: a.cfg.Timezone,
		RetryBackoff: o.server.RetryDelay, RecordEvery: o.recordEvery, CheckEvery: o.checkEvery},
		s, senders, printer, composer, limiter, worker.NewRedisMetrics(rdb), a.log)
	if err != nil {
		return err
	}
	return worker.Serve(ctx, opt, w, o.server, a.log)
}

// startCPUProfile profiles the process's CPU into the file until stop is called (bench/email).
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
