package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/jacksmood/dispatch/internal/redistest"
)

// checkRedisURL runs DISPATCH_REDIS_URL through the configuration's check, as the daemons do.
func checkRedisURL(v string) error {
	_, err := loadConfig(func(k string) string {
		if k == "DISPATCH_REDIS_URL" {
			return v
		}
		return ""
	}, nil)
	return err
}

// oneLineNoSecret fails the test unless err is one line naming DISPATCH_REDIS_URL without any
// of secrets.
func oneLineNoSecret(t *testing.T, raw string, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%.80s: accepted, want an error", raw)
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "DISPATCH_REDIS_URL: ") || strings.ContainsAny(msg, "\r\n") {
		t.Errorf("%.80s: %.200q, want one line starting DISPATCH_REDIS_URL:", raw, msg)
	}
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("%.80s: the error shows the secret %q: %s", raw, s, msg)
		}
	}
}

// Passwords with the URL's delimiters, percent-encoded as they must be, come out decoded; the
// scheme is case-insensitive; an IPv6 sentinel is [host]:port.
func TestAttackRedisURLOddButValid(t *testing.T) {
	t.Parallel()
	opt, err := redisOpt("REDISS-Sentinel://app:p%40ss%2Fw%3Ard%25%26@h1:26379,h2:26380,h3:26379/3?master=m%201&sentinel_username=su&sentinel_password=s%26p%3D%2F%40")
	if err != nil {
		t.Fatal(err)
	}
	f, ok := opt.(asynq.RedisFailoverClientOpt)
	if !ok {
		t.Fatalf("%#v", opt)
	}
	f.TLSConfig = nil
	want := asynq.RedisFailoverClientOpt{MasterName: "m 1", SentinelAddrs: []string{"h1:26379", "h2:26380", "h3:26379"},
		SentinelUsername: "su", SentinelPassword: "s&p=/@", Username: "app", Password: "p@ss/w:rd%&", DB: 3}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("got  %#v\nwant %#v", f, want)
	}
	if err := checkRedisURL("Redis://:p%3Aw@[::1]:6379/1"); err != nil {
		t.Errorf("redis:// with an IPv6 host: %v", err)
	}
	if opt, err := redisOpt("redis-sentinel://[fd00::1]:26379?master=m"); err != nil ||
		!reflect.DeepEqual(opt.(asynq.RedisFailoverClientOpt).SentinelAddrs, []string{"[fd00::1]:26379"}) {
		t.Errorf("one IPv6 sentinel: %#v, %v", opt, err)
	}
}

// Sentinels come by three; with IPv6 addresses, the list is still the documented form.
func TestAttackRedisURLIPv6Sentinels(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"redis-sentinel://[fd00::1]:26379,[fd00::2]:26379,[fd00::3]:26379/0?master=m",
		"redis-sentinel://s1.internal:26379,[fd00::2]:26379/0?master=m",
		"redis-sentinel://[fd00::1]:26379,s2.internal:26379/0?master=m",
	} {
		if _, err := redisOpt(raw); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

// Malformed URLs are refused in one line naming the setting, and never show the password, even
// when the operator forgot to percent-encode it (an '&', '/', '@' or '#' in it splits the URL
// elsewhere than meant).
func TestAttackRedisURLErrorsHideSecrets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw     string
		secrets []string
	}{
		// '&' in the sentinels' password: its tail becomes a parameter of its own.
		{"redis-sentinel://10.0.0.1:26379/0?master=m&sentinel_password=hunter2&Tail0fTheSecret", []string{"Tail0fTheSecret"}},
		// '/' in a password of digits: the URL's path starts inside the password.
		{"redis://admin:1234/S3cretPart@10.0.0.1:6379/0", []string{"S3cretPart"}},
		{"redis-sentinel://admin:1234/S3cretPart@10.0.0.1:26379/0?master=m", []string{"S3cretPart"}},
		// '@' and '/' in the password: the host is taken from inside it.
		{"redis-sentinel://admin:pass@Secr3tHost/x@10.0.0.1:26379?master=m", []string{"Secr3tHost"}},
		// Bad percent-encoding and control characters.
		{"redis://admin:pa%zzSecret@10.0.0.1:6379/0", []string{"pa%zzSecret"}},
		{"redis-sentinel://admin:Secret\n@10.0.0.1:26379?master=m", []string{"Secret"}},
		// A password in the wrong place.
		{"redis-sentinel://10.0.0.1:26379/0?master=m&password=TopSecret", []string{"TopSecret"}},
	}
	for _, c := range cases {
		_, err := redisOpt(c.raw)
		oneLineNoSecret(t, c.raw, err, c.secrets...)
		oneLineNoSecret(t, c.raw, checkRedisURL(c.raw), c.secrets...)
	}
}

// What the check lets through must be usable: a sentinel's port is a number, a setting is given
// once, and a list of sentinels is not taken for one server.
func TestAttackRedisURLAmbiguousRefused(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"redis-sentinel://10.0.0.1:abc,10.0.0.2:26379/0?master=m", // port not a number
		"redis-sentinel://10.0.0.1:99999/0?master=m",              // port out of range
		"redis-sentinel://10.0.0.1:26379/0?master=a&master=b",     // which master?
		"redis-sentinel://10.0.0.1:26379/0?master=m&sentinel_password=a&sentinel_password=b",
		"redis-sentinel://10.0.0.1:26379/0?master=",
		"redis-sentinel://10.0.0.1:26379,,10.0.0.2:26379/0?master=m",
		"redis://10.0.0.1:26379,10.0.0.2:26379/0?master=m", // the sentinel list under redis://
		"redis-sentinel://10.0.0.1:26379/0/1?master=m",
		"redis-sentinel://10.0.0.1:26379/-1?master=m",
	} {
		if _, err := redisOpt(raw); err == nil {
			t.Errorf("%s: accepted", raw)
		} else {
			oneLineNoSecret(t, raw, err)
		}
	}
}

// Huge inputs are refused in an error of bounded size.
func TestAttackRedisURLHuge(t *testing.T) {
	t.Parallel()
	many := strings.Repeat("10.0.0.1:26379,", 20000) + "x?master=m"
	for _, raw := range []string{
		"redis-sentinel://" + many,
		"redis-sentinel://10.0.0.1:26379/" + strings.Repeat("9", 1<<20) + "?master=m",
		"redis-sentinel://10.0.0.1:26379/0?master=m&" + strings.Repeat("k", 1<<20) + "=v",
	} {
		_, err := redisOpt(raw)
		oneLineNoSecret(t, raw, err)
		if err != nil && len(err.Error()) > 1000 {
			t.Errorf("%.60s...: a %d-byte error", raw, len(err.Error()))
		}
	}
}

// blackhole returns a loopback address whose SYNs go unanswered, as a sentinel host that is
// switched off or firewalled: a listener with a full accept queue that never accepts.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	// Fill the accept queue; once it is full, the next dial hangs.
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("could not fill the accept queue of a loopback listener")
	return ""
}

// One sentinel of three down (switched off: its SYNs go unanswered) is what Sentinel is for: the
// start-up reach check must still pass when another sentinel answers, whatever their order in
// DISPATCH_REDIS_URL.
func TestAttackRedisReachOneSentinelDown(t *testing.T) {
	t.Parallel()
	master := redistest.StartServer(t)
	sentinel := redistest.StartSentinel(t, "attackmaster", master)
	down := blackhole(t)
	a := &app{ctx: context.Background(), log: slog.New(slog.DiscardHandler),
		cfg: &config{RedisURL: "redis-sentinel://" + down + "," + sentinel.Addr() + "/0?master=attackmaster"}}
	// The sentinel needs a moment to know its master.
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	err := a.checkRedis()
	if err != nil {
		t.Errorf("one sentinel down, one up: the reach check failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	}
	// The same URL with the live sentinel first passes.
	a.cfg.RedisURL = "redis-sentinel://" + sentinel.Addr() + "," + down + "/0?master=attackmaster"
	if err := a.checkRedis(); err != nil {
		t.Errorf("live sentinel first: %v", err)
	}
}
