package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/campaigns/service"
	"github.com/jacksmood/dispatch/internal/redistest"
)

func TestPreviewTestSendAndCoupons(t *testing.T) {
	t.Parallel()
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	pgtest.Must(t, "zone", err)
	s := newSystem(t)
	s.members(2)
	id := s.campaign(couponCampaign)

	out := s.must("campaigns", "preview", id, "--member", "E1", "--channel", "email")
	for _, want := range []string{"To: m1@example.com", "Subject: ", "List-Unsubscribe: <" + s.public + "/u/", "Hei Testi", service.PreviewCode} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
	delete(s.env, "DISPATCH_USER")
	if _, errOut, code := s.run("campaigns", "preview", id, "--member", "E1"); code != 2 || !strings.Contains(errOut, "--as NAME") {
		t.Errorf("preview without a named user: exit %d %q", code, errOut)
	}
	s.env["DISPATCH_USER"] = "pia"

	out = s.must("campaigns", "test-send", id, "--channel", "email", "--to", "marketing@jacksmood.example", "--lang", "sv")
	if !strings.HasPrefix(out, "test message of campaign "+id+" sent") {
		t.Fatalf("test-send printed %q", out)
	}
	msgs := s.smtp.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "marketing@jacksmood.example" {
		t.Fatalf("test send delivered %d messages", len(msgs))
	}
	m := parse(t, msgs[0])
	if !strings.Contains(m.subject, "TEST") || !strings.Contains(m.text, service.PreviewCode) {
		t.Fatalf("test message is not marked as a test: subject %q", m.subject)
	}
	// A test SMS goes through the gateway (log:// here, which prints it), to a mobile number only.
	out = s.must("campaigns", "test-send", id, "--channel", "sms", "--to", "+358 (0)40 765 4321")
	if !strings.Contains(out, "+358407654321") || !strings.Contains(out, "[TEST]") || !strings.Contains(out, "test message of campaign "+id+" sent") {
		t.Fatalf("SMS test send printed:\n%s", out)
	}
	if _, errOut, code := s.run("campaigns", "test-send", id, "--channel", "sms", "--to", "09 123 4567"); code != 2 || !strings.Contains(errOut, "--to: the number cannot take an SMS") {
		t.Fatalf("SMS test send to a landline: exit %d %q", code, errOut)
	}
	if n := pgtest.Count(t, s.dbHandle(), `SELECT count(*) FROM deliveries`); n != 0 {
		t.Fatalf("a test send recorded %d deliveries", n)
	}

	s.must("campaigns", "schedule", id)
	s.start("scheduler")
	s.start("worker")
	s.waitFinished(id, 30*time.Second)
	db := s.dbHandle()
	// A finished campaign is not sent again by accident: only with --again, which says to how many.
	_, errOut, exit := s.run("campaigns", "schedule", id)
	if exit != 1 || !strings.Contains(errOut, "has finished: 2 members got it already") || !strings.Contains(errOut, "--again") {
		t.Fatalf("schedule a finished campaign: exit %d %q", exit, errOut)
	}
	if st := strings.TrimSpace(s.must("campaigns", "status", id, "--json")); !strings.Contains(st, `"status":"finished"`) {
		t.Fatalf("a refused schedule changed the campaign: %s", st)
	}
	var code, other string
	pgtest.Must(t, "code", db.Get(&code, `SELECT c.code FROM coupons c JOIN members m ON m.id = c.member_id WHERE m.external_id = 'E1'`))
	pgtest.Must(t, "code", db.Get(&other, `SELECT c.code FROM coupons c JOIN members m ON m.id = c.member_id WHERE m.external_id = 'E2'`))

	var issued time.Time
	pgtest.Must(t, "issued", db.Get(&issued, `SELECT issued_at FROM coupons WHERE code = $1`, code))
	if out := s.must("coupons", "show", strings.ToLower(strings.ReplaceAll(code, "-", ""))); !strings.Contains(out, "coupon "+code) || !strings.Contains(out, "not redeemed") ||
		!strings.Contains(out, "valid through "+issued.In(helsinki).AddDate(0, 0, 30).Format(time.DateOnly)+" (to 23:59 Europe/Helsinki)") {
		t.Fatalf("coupons show (typed in lower case without dashes):\n%s", out)
	}
	if out := s.must("coupons", "redeem", code, "--store", "Jack's Mood Kamppi", "--order", "ORD-77"); !strings.HasPrefix(out, "coupon "+code+" redeemed at ") {
		t.Fatalf("redeem printed %q", out)
	}
	_, errOut, exit = s.run("coupons", "redeem", code, "--store", "Jack's Mood Tampere", "--order", "ORD-78")
	if exit != 1 || !strings.Contains(errOut, "already redeemed on ") || !strings.Contains(errOut, "at Jack's Mood Kamppi (order ORD-77)") {
		t.Fatalf("second redemption: exit %d %q", exit, errOut)
	}
	if out := s.must("coupons", "show", code, "--json"); !strings.Contains(out, `"redeemed_order_ref":"ORD-77"`) {
		t.Fatalf("show after redemption: %s", out)
	}
	_, err = db.Exec(`UPDATE coupons SET valid_until = now() - interval '1 day' WHERE code = $1`, other)
	pgtest.Must(t, "expire", err)
	if _, errOut, exit := s.run("coupons", "redeem", other); exit != 1 || !strings.Contains(errOut, "expired on ") {
		t.Fatalf("expired code: exit %d %q", exit, errOut)
	}
	if _, errOut, exit := s.run("coupons", "redeem", "ZZZZ-ZZZZ-ZZZZ"); exit != 1 || !strings.Contains(errOut, "no coupon code") {
		t.Fatalf("unknown code: exit %d %q", exit, errOut)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM coupon_redemptions`); n != 1 {
		t.Fatalf("redemptions = %d, want 1", n)
	}
	if out := s.must("campaigns", "schedule", id, "--again"); !strings.Contains(out, "it is sent again: 2 members already got it") {
		t.Fatalf("schedule --again printed %q", out)
	}
	waitFor(t, 30*time.Second, "the second run", func() bool {
		return pgtest.Count(t, db, `SELECT count(*) FROM runs r WHERE r.campaign_id = `+id+` AND r.status = 'finished'`) == 2
	})
	if n := pgtest.Count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'campaigns.schedule' AND details->>'again' = 'true' AND details->>'already_sent' = '2'`); n != 1 {
		t.Fatalf("the second send is audited %d times with its count", n)
	}
	// Both runs are in the history, and each can be shown.
	runs := s.must("campaigns", "runs", id)
	if lines := strings.Split(strings.TrimSpace(runs), "\n"); len(lines) != 3 || !strings.Contains(lines[0], "SCHEDULED FOR (Europe/Helsinki)") ||
		!strings.Contains(lines[1], "finished") || !strings.Contains(lines[2], "finished") {
		t.Fatalf("campaigns runs:\n%s", runs)
	}
	var firstRun string
	pgtest.Must(t, "first run", db.Get(&firstRun, `SELECT min(id)::text FROM runs WHERE campaign_id = `+id))
	if st := s.must("campaigns", "status", id, "--run", firstRun, "--json"); !strings.Contains(st, `"run_id":`+firstRun+`,`) || !strings.Contains(st, `"sent":2`) {
		t.Fatalf("status of the first run: %s", st)
	}
	if _, errOut, code := s.run("campaigns", "status", id, "--run", "999999"); code != 1 || !strings.Contains(errOut, "has no run 999999") {
		t.Fatalf("status of another campaign's run: exit %d %q", code, errOut)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	rdb := redistest.New(t)
	c.env["DISPATCH_REDIS_URL"] = rdb.URL
	out := t.TempDir()
	// The demo runs, then serves its links until it is stopped (Ctrl-C).
	ctx, interrupt := context.WithCancel(context.Background())
	var served, stderr lockedBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"demo", "--members", "300", "--out", out}, strings.NewReader(""), &served, &stderr, func(k string) string { return c.env[k] })
	}()
	waitFor(t, 60*time.Second, "the demo to finish its campaign", func() bool {
		select {
		case code := <-done:
			t.Fatalf("demo exited %d before serving its links: %s\n%s", code, served.String(), stderr.String())
		default:
		}
		return strings.Contains(served.String(), "Press Ctrl-C to stop")
	})
	stdout := served.String()
	db := c.dbHandle()
	// A link in a demo email works when opened: the page, then the one-click POST of RFC 8058.
	first, err := os.ReadFile(filepath.Join(out, "mail", "000001.eml"))
	pgtest.Must(t, "first email", err)
	link := regexp.MustCompile(`List-Unsubscribe: <(http://[^>]+/u/[^>]+)>`).FindSubmatch(first)
	if link == nil {
		t.Fatalf("no List-Unsubscribe link in the demo's email:\n%.2000s", first)
	}
	if !strings.Contains(stdout, "it serves them at http://") || !strings.Contains(stdout, "DISPATCH_SECRET=$(cat "+filepath.Join(out, "secret")+")") {
		t.Fatalf("demo output lacks where its links are served:\n%s", stdout)
	}
	resp, err := http.Get(string(link[1]))
	pgtest.Must(t, "open the link", err)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the demo email's link answered %d", resp.StatusCode)
	}
	resp, err = http.Post(string(link[1]), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	pgtest.Must(t, "one-click unsubscribe", err)
	resp.Body.Close()
	if n := pgtest.Count(t, db, `SELECT count(*) FROM consent_events WHERE source = 'unsubscribe-link' AND status = 'withdrawn'`); resp.StatusCode != 200 || n != 1 {
		t.Fatalf("one-click unsubscribe: %d, %d withdrawals recorded", resp.StatusCode, n)
	}
	interrupt()
	if code := <-done; code != 0 {
		t.Fatalf("demo stopped with exit %d: %s", code, stderr.String())
	}
	sent := pgtest.Count(t, db, `SELECT count(*) FROM deliveries WHERE status = 'sent' AND channel = 'email'`)
	files, err := filepath.Glob(filepath.Join(out, "mail", "*.eml"))
	pgtest.Must(t, "glob", err)
	if sent < 50 || len(files) != sent {
		t.Fatalf("demo sent %d emails, wrote %d .eml files", sent, len(files))
	}
	smsSent := pgtest.Count(t, db, `SELECT count(*) FROM deliveries WHERE status = 'sent' AND channel = 'sms'`)
	smsLog, err := os.ReadFile(filepath.Join(out, "sms.log"))
	pgtest.Must(t, "sms.log", err)
	if lines := strings.Count(string(smsLog), "\n"); smsSent < 10 || lines != smsSent {
		t.Fatalf("demo sent %d SMS, sms.log has %d lines", smsSent, lines)
	}
	for _, want := range []string{"seeded 300 members", "finished in", "sent " + strconv.Itoa(sent), "sent " + strconv.Itoa(smsSent), "dispatch coupons show "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	// A second demo on the same register seeds nothing new and sends nothing again.
	deliveries := pgtest.Count(t, db, `SELECT count(*) FROM deliveries`)
	stdout = c.must("demo", "--members", "300", "--out", out, "--serve=false")
	if !strings.Contains(stdout, "already holds the demo members") || pgtest.Count(t, db, `SELECT count(*) FROM members`) != 300 ||
		!strings.Contains(stdout, "was sent already to this register; it is not sent twice") || !strings.Contains(stdout, "sent "+strconv.Itoa(sent)) {
		t.Fatalf("second demo:\n%s", stdout)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM deliveries`); n != deliveries {
		t.Fatalf("the second demo recorded %d more deliveries", n-deliveries)
	}
}

func TestDemoInterruptedLeavesNothingRunning(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	rdb := redistest.New(t)
	c.env["DISPATCH_REDIS_URL"] = rdb.URL
	out := t.TempDir()
	db := c.dbHandle()
	ctx, interrupt := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"demo", "--members", "2000", "--out", out, "--serve=false"}, strings.NewReader(""), &stdout, &stderr, func(k string) string { return c.env[k] })
	}()
	// Ctrl-C once the first messages are out.
	waitFor(t, 60*time.Second, "the first sends", func() bool {
		return pgtest.Count(t, db, `SELECT count(*) FROM deliveries WHERE status = 'sent'`) > 0
	})
	interrupt()
	if code := <-done; code != 0 {
		t.Fatalf("interrupted demo: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "interrupted: campaign 1 is paused") {
		t.Fatalf("interrupted demo said:\n%s", stdout.String())
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM campaigns WHERE status = 'paused'`); n != 1 {
		t.Fatalf("after Ctrl-C %d campaigns are paused, want the demo's", n)
	}
	// Nothing sends it meanwhile; the next demo finishes it, and no member gets a message twice.
	final := c.must("demo", "--members", "2000", "--out", out, "--serve=false")
	if !strings.Contains(final, "was paused by an interrupted demo; resuming it") || !strings.Contains(final, "finished in") {
		t.Fatalf("demo after an interruption:\n%s", final)
	}
	files, err := filepath.Glob(filepath.Join(out, "mail", "*.eml"))
	pgtest.Must(t, "glob", err)
	if sent := pgtest.Count(t, db, `SELECT count(*) FROM deliveries WHERE status = 'sent' AND channel = 'email'`); len(files) != sent {
		t.Fatalf("%d emails sent, %d .eml files written", sent, len(files))
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM campaigns`); n != 1 {
		t.Fatalf("%d campaigns after two demos, want 1", n)
	}
}

// lockedBuffer is a bytes.Buffer safe to write from a command running in a goroutine while the test
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
