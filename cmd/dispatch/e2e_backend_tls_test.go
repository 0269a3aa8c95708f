package main

import (
	"context"
	"crypto/x509"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// TestPostgresOverTLS: DISPATCH_DATABASE_URL with sslmode=require gives encrypted connections, as
// PostgreSQL itself reports them (pg_stat_ssl).
func TestPostgresOverTLS(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(pgtest.SchemaURL(t))
	pgtest.Must(t, "url", err)
	q := u.Query()
	q.Set("sslmode", "require")
	u.RawQuery = q.Encode()
	c := &cli{t: t, env: map[string]string{"DISPATCH_DATABASE_URL": u.String(), "DISPATCH_SUPPRESSION_KEY": string(pgtest.RegisterKey)}}
	c.must("migrate")
	s, err := openStore(context.Background(), u.String())
	pgtest.Must(t, "open", err)
	defer s.Close()
	var ssl bool
	pgtest.Must(t, "pg_stat_ssl", s.(interface{ DB() *sqlx.DB }).DB().Get(&ssl,
		`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`))
	if !ssl {
		t.Error("a store opened with sslmode=require is not encrypted")
	}
}

// TestRedisOverTLS: a rediss:// DISPATCH_REDIS_URL speaks TLS to Redis, checks the server's
// certificate, and serves asynq and dispatch's own clients alike.
func TestRedisOverTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile := selfSigned(t)
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--port", "0", "--tls-port", port, "--tls-cert-file", certFile,
		"--tls-key-file", keyFile, "--tls-ca-cert-file", certFile, "--tls-auth-clients", "no",
		"--save", "", "--appendonly", "no", "--bind", "127.0.0.1")
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server (apt-get install redis-server): %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	connOpt, err := redisOpt("rediss://" + addr + "/3")
	pgtest.Must(t, "redisOpt", err)
	opt := connOpt.(asynq.RedisClientOpt)
	if opt.TLSConfig == nil || opt.TLSConfig.ServerName != "127.0.0.1" || opt.DB != 3 {
		t.Fatalf("rediss:// options: TLS %+v, db %d", opt.TLSConfig, opt.DB)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Without the server's CA among the roots, the certificate is refused.
	untrusted := newRedisClient(opt)
	defer untrusted.Close()
	var lastErr error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if lastErr = untrusted.Ping(ctx).Err(); lastErr != nil && strings.Contains(lastErr.Error(), "certificate") {
			break
		}
	}
	if lastErr == nil || !strings.Contains(lastErr.Error(), "certificate") {
		t.Fatalf("an untrusted certificate: %v, want a certificate error", lastErr)
	}
	pem, err := os.ReadFile(certFile)
	pgtest.Must(t, "read", err)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	opt.TLSConfig.RootCAs = roots

	rdb := newRedisClient(opt)
	defer rdb.Close()
	pgtest.Must(t, "ping over TLS", rdb.Ping(ctx).Err())
	client := asynq.NewClient(opt)
	defer client.Close()
	_, err = client.EnqueueContext(ctx, asynq.NewTask("tls-check", nil))
	pgtest.Must(t, "asynq over TLS", err)
	if n, err := rdb.Exists(ctx, "asynq:queues").Result(); err != nil || n != 1 {
		t.Errorf("asynq's queue set over TLS: %d, %v", n, err)
	}
	// The plain scheme does not reach a TLS-only server.
	plainOpt, _ := redisOpt("redis://" + addr + "/3")
	plain := newRedisClient(plainOpt)
	defer plain.Close()
	if err := plain.Ping(ctx).Err(); err == nil {
		t.Error("redis:// reached a TLS-only server")
	}
}
