package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// twilioFake speaks the Twilio Messages API (POST /2010-04-01/Accounts/{SID}/Messages.json, form
// To/From/Body, Basic auth): the paid gateway that cannot run here.
type twilioFake struct {
	mu   sync.Mutex
	sent []sentSMS
}

type sentSMS struct{ to, from, body string }

func (f *twilioFake) start(t *testing.T) *httptest.Server {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "AC123" || pass != "secret-token" || r.URL.Path != "/2010-04-01/Accounts/AC123/Messages.json" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.ParseForm()
		f.mu.Lock()
		f.sent = append(f.sent, sentSMS{r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")})
		n := len(f.sent)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"SM%032d","status":"queued"}`, n)
	}))
	t.Cleanup(hs.Close)
	return hs
}

func (f *twilioFake) messages() []sentSMS {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentSMS(nil), f.sent...)
}

const smsCampaign = `name: Tekstiviestikuponki
kind: coupon
channels: [sms]
coupon:
  discount: "-10 %"
  valid_days: 7
`

func (s *system) smsMembers(n int) {
	s.t.Helper()
	var b strings.Builder
	b.WriteString(memberHeader)
	for i := 1; i <= n; i++ {
		consent := "yes"
		if i%3 == 0 {
			consent = "no"
		}
		fmt.Fprintf(&b, "S%d,Åke,Öberg,,040 555 %04d,Katu %d,00100,HELSINKI,FI,sv,,%s,,,\n", i, i, i, consent)
	}
	s.must("members", "import", writeFile(s.t, "sms.csv", b.String()))
}

func TestSMSCampaignThroughTheGateway(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	fake := &twilioFake{}
	hs := fake.start(t)
	s.env["DISPATCH_SMS_URL"] = "twilio+http://AC123:secret-token@" + strings.TrimPrefix(hs.URL, "http://") + "?from=JacksMood"
	s.env["DISPATCH_SMS_QUIET_HOURS"] = "off"
	s.smsMembers(9)
	id := s.campaign(smsCampaign)
	s.must("campaigns", "schedule", id)
	s.start("scheduler", "--interval", "100ms")
	s.start("worker")
	s.waitFinished(id, 30*time.Second)

	msgs := fake.messages()
	if len(msgs) != 6 { // S3, S6, S9 withdrew
		t.Fatalf("%d SMS sent, want 6", len(msgs))
	}
	db := s.dbHandle()
	for _, m := range msgs {
		if !strings.HasPrefix(m.to, "+35840555") || m.from != "JacksMood" || !strings.HasSuffix(strings.TrimSpace(m.body), "STOP") {
			t.Fatalf("SMS %+v", m)
		}
		var code string
		pgtest.Must(t, "code", db.Get(&code, `SELECT c.code FROM coupons c JOIN members m ON m.id = c.member_id WHERE m.phone = $1`, m.to))
		if !strings.Contains(m.body, code) {
			t.Fatalf("SMS to a member does not carry their code %s: %q", code, m.body)
		}
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM deliveries WHERE channel = 'sms' AND status = 'sent' AND sms_segments >= 1 AND provider_ref LIKE 'SM%'`); n != 6 {
		t.Fatalf("%d SMS deliveries recorded with segments and the gateway's id", n)
	}
}

func TestSMSWaitsForQuietHoursToEnd(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	fake := &twilioFake{}
	hs := fake.start(t)
	s.env["DISPATCH_SMS_URL"] = "twilio+http://AC123:secret-token@" + strings.TrimPrefix(hs.URL, "http://") + "?from=JacksMood"
	// A quiet window around now, whatever the hour the test runs at.
	now := time.Now().In(time.UTC)
	s.env["DISPATCH_TIMEZONE"] = "UTC"
	s.env["DISPATCH_SMS_QUIET_HOURS"] = now.Add(-time.Hour).Format("15:04") + "-" + now.Add(time.Hour).Format("15:04")
	s.smsMembers(3)
	id := s.campaign(smsCampaign)
	s.must("campaigns", "schedule", id)
	s.start("scheduler", "--interval", "100ms", "--stale-after", "1s")
	s.start("worker")
	db := s.dbHandle()
	waitFor(t, 20*time.Second, "the selection", func() bool {
		return pgtest.Count(t, db, `SELECT count(*) FROM deliveries WHERE channel = 'sms'`) == 2
	})
	time.Sleep(3 * time.Second)
	if n := len(fake.messages()); n != 0 {
		t.Fatalf("%d SMS sent in quiet hours", n)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM deliveries WHERE status = 'queued'`); n != 2 {
		t.Fatalf("%d deliveries still queued, want 2 waiting for the morning", n)
	}
}

// log:// is a development sink: `dispatch worker` writes its SMS (numbers and texts) to a file of
// its own, readable by its owner only, and never to its output, which ends up in the logs.
func TestWorkerKeepsLogSMSOutOfItsOutput(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.env["DISPATCH_SMS_QUIET_HOURS"] = "off"
	s.must("members", "import", writeFile(t, "members.csv", memberHeader+
		"S1,Sanna,Salo,,040 111 2233,Katu 1,00100,HELSINKI,FI,fi,,yes,,,\nS2,Sami,Salo,,050 444 5566,Katu 2,00100,HELSINKI,FI,fi,,yes,,,\n"))
	id := s.campaign(strings.Replace(couponCampaign, "channels: [email]", "channels: [sms]", 1))
	s.must("campaigns", "schedule", id)
	s.start("scheduler", "--interval", "100ms")
	smsLog := filepath.Join(t.TempDir(), "sms.log")
	var out, errOut lockedBuffer
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"worker", "--sms-log", smsLog}, strings.NewReader(""), &out, &errOut, func(k string) string { return s.env[k] })
	}()
	s.waitFinished(id, 30*time.Second)
	stop()
	<-done
	written, err := os.ReadFile(smsLog)
	pgtest.Must(t, "sms log", err)
	st, err := os.Stat(smsLog)
	pgtest.Must(t, "stat", err)
	if !strings.Contains(string(written), "sms to=+358") || st.Mode().Perm() != 0o600 {
		t.Fatalf("sms log (%v):\n%s", st.Mode().Perm(), written)
	}
	if strings.Contains(out.String()+errOut.String(), "+358") || !strings.Contains(errOut.String(), "development sink log://") {
		t.Fatalf("the worker's output holds numbers, or no warning:\n%s\n%s", out.String(), errOut.String())
	}
}
