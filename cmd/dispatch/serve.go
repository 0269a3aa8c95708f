package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynq/x/metrics"
	"github.com/hibiken/asynqmon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/net/netutil"

	"github.com/jacksmood/dispatch/campaigns/api"
	"github.com/jacksmood/dispatch/worker"
)

func (a *app) serveCommand() *cobra.Command {
	var limits serveTimeouts
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API, unsubscribe pages, queue dashboard (/ops/queues), /metrics, /healthz, /readyz",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.requireSecret(); err != nil {
				return err
			}
			if a.cfg.SuppressionKey == "" {
				return usagef("DISPATCH_SUPPRESSION_KEY: required by serve, which imports and erases members (at least 16 characters, e.g. openssl rand -hex 32; keep it for the life of the register)")
			}
			if err := a.startDaemon(); err != nil {
				return err
			}
			staff, err := net.Listen("tcp", a.cfg.HTTPAddr)
			if err != nil {
				return fmt.Errorf("staff listener (DISPATCH_HTTP_ADDR): %w", err)
			}
			public, err := net.Listen("tcp", a.cfg.PublicAddr)
			if err != nil {
				staff.Close()
				return fmt.Errorf("public listener (DISPATCH_PUBLIC_ADDR): %w", err)
			}
			return a.serve(staff, public, limits)
		},
	}
	cmd.Flags().DurationVar(&limits.idle, "idle-timeout", 60*time.Second, "how long an idle connection stays open")
	cmd.Flags().DurationVar(&limits.header, "header-timeout", 10*time.Second, "how long a client may take to send a request's header")
	cmd.Flags().MarkHidden("idle-timeout")
	cmd.Flags().MarkHidden("header-timeout")
	return cmd
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
			return a.writeSMSHooks(a.stdout)
		},
	}
}

// Limits of the two listeners. The public one meets the internet: short timeouts and a bound on open
// connections keep idle or trickling clients from exhausting the process; the staff one takes
// member files of up to 512 MiB, so its reads may last longer.
const (
	publicMaxConns   = 1000
	staffMaxConns    = 200
	publicReadLimit  = 30 * time.Second
	staffReadLimit   = 10 * time.Minute
	maxHeaderBytes   = 32 << 10
	shutdownDrainFor = 10 * time.Second
)

// serveTimeouts are how long a connection may stay idle between requests and how long a client may
// take to send a request's header. Defaults 60 s and 10 s; hidden flags of `dispatch serve` shorten
// them for tests.
type serveTimeouts struct {
	idle, header time.Duration
}

// serve runs the HTTP servers until the context ends, then drains connections for 10 s: the staff
// listener (API, dashboard, /metrics, /readyz) on staff and the public one (unsubscribe pages, SMS
// hooks) on public. Each has timeouts for reading the header, the whole request, writing and idling,
// a header size limit, and a limit on open connections.
func (a *app) serve(staff, public net.Listener, limits serveTimeouts) error {
	if limits.idle <= 0 {
		limits.idle = 60 * time.Second
	}
	if limits.header <= 0 {
		limits.header = 10 * time.Second
	}
	s, err := a.openStore()
	if err != nil {
		return err
	}
	// A key that does not match the register stops the server now, not at the first erasure.
	if err := s.AdoptRegisterKey(a.ctx); err != nil {
		return err
	}
	opt, err := redisOpt(a.cfg.RedisURL)
	if err != nil {
		return err
	}
	inspector := asynq.NewInspector(opt)
	defer inspector.Close()
	rdb := newRedisClient(opt)
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
	hooks, err := a.smsHooks(s)
	if err != nil {
		return err
	}
	srv, err := api.New(api.Config{
		Service:         svc,
		Hooks:           hooks,
		Secret:          []byte(a.cfg.Secret),
		PreviousSecrets: a.cfg.PreviousSecrets,
		Ops:             ops,
		Metrics:         promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		Ready: func(ctx context.Context) error {
			_, err := inspector.Queues()
			return err
		},
	}, s, a.log)
	if err != nil {
		return err
	}
	servers := []*http.Server{
		{Handler: srv.Staff(), ReadHeaderTimeout: limits.header, ReadTimeout: staffReadLimit, WriteTimeout: staffReadLimit,
			IdleTimeout: limits.idle, MaxHeaderBytes: maxHeaderBytes},
		{Handler: srv.Public(), ReadHeaderTimeout: limits.header, ReadTimeout: publicReadLimit, WriteTimeout: publicReadLimit,
			IdleTimeout: limits.idle, MaxHeaderBytes: maxHeaderBytes},
	}
	listeners := []net.Listener{netutil.LimitListener(staff, staffMaxConns), netutil.LimitListener(public, publicMaxConns)}
	if a.cfg.TLSCert != "" {
		// The staff listener carries tokens and sessions: with a certificate it serves HTTPS only
		// (session cookies are then Secure and pages send Strict-Transport-Security).
		cert, err := tls.LoadX509KeyPair(a.cfg.TLSCert, a.cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("DISPATCH_TLS_CERT: %w", err)
		}
		servers[0].TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		listeners[0] = tls.NewListener(listeners[0], servers[0].TLSConfig)
	}
	errc := make(chan error, len(servers))
	for i, hs := range servers {
		go func() { errc <- hs.Serve(listeners[i]) }()
	}
	a.log.Info("serving", slog.String("staff_addr", staff.Addr().String()), slog.String("public_addr", public.Addr().String()))
	err = nil
	select {
	case err = <-errc:
	case <-a.ctx.Done():
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownDrainFor)
	defer cancel()
	for _, hs := range servers {
		if serr := hs.Shutdown(ctx); serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
