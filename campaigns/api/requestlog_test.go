package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/api"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/campaigns/service"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker/compose"
)

// logBuffer collects log lines written by the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// requestLine waits for the request log's line of path (as logged) and returns it.
func (b *logBuffer) requestLine(t *testing.T, loggedPath string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, line := range strings.Split(b.String(), "\n") {
			if strings.Contains(line, "msg=request ") && (strings.Contains(line, " path="+loggedPath+" ") || strings.Contains(line, ` path="`+loggedPath+`" `)) {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no request line with path=%s in the log:\n%s", loggedPath, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	_, token, err := s.AddUser(ctx, "maija", campaigns.RoleMarketer, time.Now().Add(time.Hour), campaigns.Audit{Actor: "tester", Action: campaigns.AuditUsersAdd})
	pgtest.Must(t, "add user", err)
	r, err := templates.New("")
	pgtest.Must(t, "templates", err)
	composer, err := compose.New(compose.Config{PublicURL: "http://127.0.0.1:8080", Secret: secret}, r)
	pgtest.Must(t, "composer", err)
	svc, err := service.New(service.Config{}, s, composer, slog.New(slog.NewTextHandler(io.Discard, nil)))
	pgtest.Must(t, "service", err)
	var logged logBuffer
	srv, err := api.New(api.Config{Secret: secret, Service: svc, Hooks: s}, s, slog.New(slog.NewTextHandler(&logged, nil)))
	pgtest.Must(t, "api", err)
	hs := httptest.NewServer(srv)
	defer hs.Close()

	do := func(method, path, bearer string) int {
		t.Helper()
		req, err := http.NewRequest(method, hs.URL+path, nil)
		pgtest.Must(t, "request", err)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		pgtest.Must(t, method+" "+path, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	// An unsubscribe link's token is a secret: the path is logged as /u/….
	const unsubToken = "SOMETOKEN0123456789"
	if code := do("GET", "/u/"+unsubToken, ""); code == 200 {
		t.Fatalf("GET /u/ with a forged token answered %d", code)
	}
	line := logged.requestLine(t, "/u/…")
	for _, want := range []string{"level=INFO", "method=GET", "status=", "duration_ms=", "bytes="} {
		if !strings.Contains(line, want) {
			t.Errorf("unsubscribe line lacks %q: %s", want, line)
		}
	}

	// An authenticated API call names its user and status.
	if code := do("GET", "/api/campaigns", token); code != 200 {
		t.Fatalf("GET /api/campaigns: %d", code)
	}
	line = logged.requestLine(t, "/api/campaigns")
	for _, want := range []string{"level=INFO", "method=GET", "status=200", "user=maija"} {
		if !strings.Contains(line, want) {
			t.Errorf("API line lacks %q: %s", want, line)
		}
	}

	// A coupon code is a secret: the path is logged without it, and with the user.
	const code = "JM-SECRETCODE-42"
	do("GET", "/api/coupons/"+code, token)
	if line := logged.requestLine(t, "/api/coupons/…"); !strings.Contains(line, "user=maija") {
		t.Errorf("coupon line: %s", line)
	}
	do("POST", "/api/coupons/"+code+"/redeem", token)
	logged.requestLine(t, "/api/coupons/…/redeem")

	// No token, or an unknown one: 401 at Warn, without the token and without a user.
	const badToken = "dsp_NOT-A-REAL-TOKEN"
	if code := do("GET", "/api/campaigns?email=someone@example.com", badToken); code != 401 {
		t.Fatalf("unknown token answered %d", code)
	}
	if code := do("GET", "/api/campaigns", ""); code != 401 {
		t.Fatalf("no token answered %d", code)
	}
	for _, line := range strings.Split(strings.TrimSpace(logged.String()), "\n") {
		if strings.Contains(line, "status=401") && (!strings.Contains(line, "level=WARN") || strings.Contains(line, "user=")) {
			t.Errorf("401 line: %s", line)
		}
	}
	if n := strings.Count(logged.String(), "status=401"); n != 2 {
		t.Errorf("%d lines of status 401, want 2:\n%s", n, logged.String())
	}

	// Query strings: harmless keys kept, the hook key redacted, anything else left out.
	if code := do("POST", "/api/members/import?name=members.csv&source=import&email=someone@example.com", token); code != 403 && code != 400 && code != 422 {
		t.Fatalf("import as a marketer answered %d", code)
	}
	if line := logged.requestLine(t, "/api/members/import?name=members.csv&source=import"); !strings.Contains(line, "user=maija") {
		t.Errorf("import line: %s", line)
	}
	const hookKey = "WRONGHOOKKEY0123"
	if code := do("POST", "/hooks/sms/inbound?key="+hookKey+"&From=%2B358401112222", ""); code != 403 {
		t.Fatalf("hook with a wrong key answered %d", code)
	}
	if line := logged.requestLine(t, "/hooks/sms/inbound?key=…"); !strings.Contains(line, "level=WARN") || !strings.Contains(line, "status=403") {
		t.Errorf("hook line: %s", line)
	}
	// Member external ids are pseudonymous: kept.
	do("GET", "/api/members/JM1/export", token)
	logged.requestLine(t, "/api/members/JM1/export")

	// Paths that dodge the routes still have their secrets redacted: unclean, in capitals, with a
	// trailing slash, an email address where a member id belongs.
	for _, path := range []string{"//u/" + unsubToken, "/u/./" + unsubToken, "/U/" + unsubToken, "/api/coupons/" + code + "/",
		"/api/members/someone@example.com/export"} {
		do("GET", path, token)
	}
	logged.requestLine(t, "/api/members/…/export")
	logged.requestLine(t, "/api/coupons/…/")
	logged.requestLine(t, "/U/…")

	all := logged.String()
	for _, secret := range []string{unsubToken, code, badToken, token, hookKey, "someone@example.com", "358401112222", "Bearer"} {
		if strings.Contains(all, secret) {
			t.Errorf("the log shows %q:\n%s", secret, all)
		}
	}
}
