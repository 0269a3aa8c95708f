package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynq/x/metrics"
	"github.com/hibiken/asynqmon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/jacksmood/dispatch/campaigns/api"
	"github.com/jacksmood/dispatch/worker"
)

func (a *app) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API, unsubscribe pages, queue dashboard (/ops/queues), /metrics, /healthz, /readyz",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.requireSecret(); err != nil {
				return err
			}
			if err := a.startDaemon(); err != nil {
				return err
			}
			ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
			if err != nil {
				return err
			}
			return a.serve(ln)
		},
	}
}

func (a *app) smsHooksCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "sms-hooks",
		Short: "Print the callback URLs to give the SMS gateway (inbound STOP, delivery reports)",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.requireSecret(); err != nil {
				return err
			}
			key := api.HookKey([]byte(a.cfg.Secret))
			fmt.Fprintf(a.stdout, "inbound messages (STOP): %s/hooks/sms/inbound?key=%s\n", a.cfg.PublicURL, key)
			fmt.Fprintf(a.stdout, "delivery reports:        %s/hooks/sms/status?key=%s\n", a.cfg.PublicURL, key)
			return nil
		},
	}
}

// serve runs the HTTP server on ln until the context ends, then drains connections for 10 s.
func (a *app) serve(ln net.Listener) error {
	s, err := a.openStore()
	if err != nil {
		return err
	}
	opt, err := redisOpt(a.cfg.RedisURL)
	if err != nil {
		return err
	}
	inspector := asynq.NewInspector(opt)
	defer inspector.Close()
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, Username: opt.Username, Password: opt.Password, DB: opt.DB})
	defer rdb.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewQueueMetricsCollector(inspector), worker.NewMessagesCollector(rdb),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ops := asynqmon.New(asynqmon.Options{RootPath: "/ops/queues", RedisConnOpt: opt, ReadOnly: false})
	defer ops.Close()
	svc, err := a.service()
	if err != nil {
		return err
	}
	srv, err := api.New(api.Config{
		Service: svc,
		Hooks:   s,
		Secret:  []byte(a.cfg.Secret),
		Ops:     ops,
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		Ready: func(ctx context.Context) error {
			_, err := inspector.Queues()
			return err
		},
	}, s, a.log)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	a.log.Info("serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-a.ctx.Done():
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
