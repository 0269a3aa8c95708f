package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/internal/mailcatcher"
	"github.com/jacksmood/dispatch/internal/redistest"
)

// system is a whole dispatch installation for one test: its own schema, Redis database, SMTP server
// and HTTP port; daemons run in-process through run(), as the binary runs them.
type system struct {
	*cli
	smtp  *mailcatcher.Server
	redis *redistest.DB
	// public and staff are the bases of the two listeners of `dispatch serve`.
	public, staff string
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newSystem(t *testing.T) *system {
	t.Helper()
	c := newCLI(t)
	rdb := redistest.New(t)
	smtp, err := mailcatcher.Start("127.0.0.1:0", "", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtp.Close() })
	staff, public := freeAddr(t), freeAddr(t)
	c.env["DISPATCH_REDIS_URL"] = rdb.URL
	c.env["DISPATCH_SMTP_URL"] = smtp.URL()
	c.env["DISPATCH_SECRET"] = "e2e-secret-0123456789abcdef"
	c.env["DISPATCH_HTTP_ADDR"] = staff
	c.env["DISPATCH_PUBLIC_ADDR"] = public
	c.env["DISPATCH_PUBLIC_URL"] = "http://" + public
	c.env["DISPATCH_USER"] = "pia"
	c.must("users", "add", "pia", "--role", "admin")
	return &system{cli: c, smtp: smtp, redis: rdb, public: "http://" + public, staff: "http://" + staff}
}

// start runs a daemon command until the returned stop is called (or the test ends).
func (s *system) start(args ...string) (stop func()) {
	if len(args) > 0 && args[0] == "worker" && !slices.Contains(args, "--sms-log") {
		args = append(args, "--sms-log", filepath.Join(s.t.TempDir(), "sms.log"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var errOut bytes.Buffer
	wg.Add(1)
	go func() {
		defer wg.Done()
		code := run(ctx, args, strings.NewReader(""), io.Discard, &errOut, func(k string) string { return s.env[k] })
		if code != 0 {
			s.t.Errorf("dispatch %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	s.t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *system) campaign(yaml string) string {
	s.t.Helper()
	file := writeFile(s.t, "campaign.yaml", yaml)
	return strings.TrimSpace(s.must("campaigns", "create", "-f", file))
}

func (s *system) status(id string) string {
	out := s.must("campaigns", "status", id, "--json")
	m := regexp.MustCompile(`"status":"(\w+)"`).FindStringSubmatch(out)
	if m == nil {
		s.t.Fatalf("status output %q", out)
	}
	return m[1]
}

func (s *system) waitFinished(id string, timeout time.Duration) {
	s.t.Helper()
	waitFor(s.t, timeout, "campaign "+id+" to finish", func() bool { return s.status(id) == "finished" })
}

// parsedMail is a received message, decoded.
type parsedMail struct {
	to      string
	header  mail.Header
	subject string
	text    string
	html    string
}

func parse(t *testing.T, m mailcatcher.Message) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("unreadable message: %v", err)
	}
	p := parsedMail{to: m.To[0], header: msg.Header}
	p.subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("content type: %v", err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(part) // NextPart decodes quoted-printable
		switch {
		case strings.HasPrefix(part.Header.Get("Content-Type"), "text/plain"):
			p.text = string(b)
		case strings.HasPrefix(part.Header.Get("Content-Type"), "text/html"):
			p.html = string(b)
		}
	}
	return p
}

const couponCampaign = `name: Joulukuponki
kind: coupon
channels: [email]
template: coupon
coupon:
  discount: "-20 %"
  valid_days: 30
`

func TestCampaignDeliversOneEmailToEachEligibleMember(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.must("seed", "--members", "300", "--seed", "3")
	db := s.dbHandle()
	var eligible []string
	pgtest.Must(t, "eligible", db.Select(&eligible, `SELECT m.email FROM member_reach r JOIN members m ON m.id = r.member_id
		WHERE r.channel = 'email' AND r.reason IS NULL ORDER BY 1`))
	if len(eligible) < 50 || len(eligible) > 250 {
		t.Fatalf("%d of 300 seeded members may get email: the seed is not mixed enough for this test", len(eligible))
	}

	id := s.campaign(couponCampaign)
	s.must("campaigns", "schedule", id)
	s.start("scheduler")
	s.start("worker", "--concurrency", "4")
	s.start("serve")
	s.waitFinished(id, 60*time.Second)

	msgs := s.smtp.Messages()
	var got []string
	for _, m := range msgs {
		got = append(got, m.To...)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(eligible, ",") {
		t.Fatalf("recipients (%d) differ from the eligible members (%d)", len(got), len(eligible))
	}
	// Every message: its coupon code is the one logged for that member; headers as RFC 8058 wants.
	codeRE := regexp.MustCompile(`[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}`)
	var unsubscribeURL, unsubscribedEmail string
	for _, raw := range msgs {
		m := parse(t, raw)
		var logged string
		pgtest.Must(t, "coupon", db.Get(&logged, `SELECT k.code FROM coupons k JOIN members m ON m.id = k.member_id
			WHERE m.email = $1 AND k.campaign_id = $2 AND k.channel = 'email'`, m.to, id))
		if codes := codeRE.FindAllString(m.text, -1); len(codes) == 0 || codes[0] != logged || !strings.Contains(m.html, logged) {
			t.Fatalf("message to member has codes %v, logged %s", codes, logged)
		}
		lu := m.header.Get("List-Unsubscribe")
		if !strings.HasPrefix(lu, "<"+s.public+"/u/") || m.header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Fatalf("unsubscribe headers: %q / %q", lu, m.header.Get("List-Unsubscribe-Post"))
		}
		if m.header.Get("Message-Id") == "" || m.subject == "" {
			t.Fatalf("message without Message-ID or subject: %v", m.header)
		}
		if unsubscribeURL == "" {
			unsubscribeURL, unsubscribedEmail = strings.Trim(strings.Split(lu, ",")[0], "<>"), m.to
		}
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM coupons WHERE campaign_id = $1`, id); n != len(eligible) {
		t.Fatalf("coupons issued = %d, want %d", n, len(eligible))
	}

	// One-click unsubscribe from the first message: a POST, no login.
	resp, err := http.Post(unsubscribeURL, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	pgtest.Must(t, "unsubscribe", err)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("unsubscribe POST: %d", resp.StatusCode)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM current_consents c JOIN consent_events e ON e.id = c.event_id
		JOIN members m ON m.id = c.member_id WHERE m.email = $1 AND c.channel = 'email' AND c.status = 'withdrawn' AND e.source = 'unsubscribe-link'`, unsubscribedEmail); n != 1 {
		t.Fatal("the unsubscribe POST did not withdraw the email consent")
	}

	// A second campaign reaches everyone again but the member who unsubscribed.
	before := len(msgs)
	id2 := s.campaign(strings.Replace(couponCampaign, "Joulukuponki", "Tammikuun kuponki", 1))
	s.must("campaigns", "schedule", id2)
	s.waitFinished(id2, 60*time.Second)
	second := s.smtp.Messages()[before:]
	if len(second) != len(eligible)-1 {
		t.Fatalf("second campaign sent %d, want %d", len(second), len(eligible)-1)
	}
	for _, m := range second {
		if m.To[0] == unsubscribedEmail {
			t.Fatal("the second campaign mailed the member who unsubscribed")
		}
	}
	if out := s.must("campaigns", "status", id2, "--json"); !strings.Contains(out, `"no_consent"`) {
		t.Fatalf("status does not count the skip: %s", out)
	}
}

var _ = fmt.Sprint
