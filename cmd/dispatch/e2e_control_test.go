package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

func TestPauseResumeCancel(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.members(40)
	s.env["DISPATCH_EMAIL_RATE"] = "4/s" // ten seconds of sending: time to pause in the middle
	id := s.campaign(couponCampaign)
	s.must("campaigns", "schedule", id)
	s.start("scheduler", "--interval", "100ms", "--batch-size", "2")
	s.start("worker", "--concurrency", "2")
	waitFor(t, 20*time.Second, "the first messages", func() bool { return s.smtp.Received() >= 5 })

	s.must("campaigns", "pause", id)
	time.Sleep(1500 * time.Millisecond) // chunks in hand finish
	atPause := s.smtp.Received()
	time.Sleep(1500 * time.Millisecond)
	if got := s.smtp.Received(); got != atPause || got >= 40 {
		t.Fatalf("paused at %d messages, then %d more were sent", atPause, got-atPause)
	}
	if st := s.status(id); st != "paused" {
		t.Fatalf("status %q, want paused", st)
	}
	if _, errOut, code := s.run("campaigns", "schedule", id); code != 1 || !strings.Contains(errOut, "is paused") {
		t.Fatalf("scheduling a paused campaign: exit %d %q", code, errOut)
	}

	s.must("campaigns", "resume", id)
	waitFor(t, 30*time.Second, "more messages after resume", func() bool { return s.smtp.Received() > atPause+4 })
	s.must("campaigns", "cancel", id)
	time.Sleep(1500 * time.Millisecond)
	atCancel := s.smtp.Received()
	time.Sleep(1500 * time.Millisecond)
	if got := s.smtp.Received(); got != atCancel {
		t.Fatalf("%d messages were sent after the cancel", got-atCancel)
	}
	db := s.dbHandle()
	sent := pgtest.Count(t, db, `SELECT count(*) FROM deliveries WHERE status = 'sent'`)
	cancelled := pgtest.Count(t, db, `SELECT count(*) FROM deliveries WHERE status = 'cancelled'`)
	if int64(sent) != atCancel || sent+cancelled != 40 || cancelled == 0 {
		t.Fatalf("sent %d (SMTP saw %d), cancelled %d of 40", sent, atCancel, cancelled)
	}
	if st := s.status(id); st != "cancelled" {
		t.Fatalf("status %q, want cancelled", st)
	}
}

func TestCampaignCreateRefusesBadFiles(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	cases := map[string]string{
		"unknown field":   strings.Replace(couponCampaign, "template: coupon", "templ: coupon", 1),
		"bad cron":        couponCampaign + "schedule:\n  cron: \"0 25 * * *\"\n",
		"coupon on news":  strings.Replace(couponCampaign, "kind: coupon", "kind: newsletter", 1),
		"no channels":     strings.Replace(couponCampaign, "channels: [email]", "channels: []", 1),
		"unknown channel": strings.Replace(couponCampaign, "channels: [email]", "channels: [email, fax]", 1),
		"no template":     strings.Replace(couponCampaign, "template: coupon", "template: no-such-template", 1),
	}
	want := map[string]string{
		"unknown field":   `campaign.yaml:4: unknown field "templ"`,
		"bad cron":        "campaign.yaml:9: schedule.cron:",
		"coupon on news":  "campaign.yaml:5: coupon: a newsletter has no coupon section",
		"no channels":     "campaign.yaml:3: channels: is empty",
		"unknown channel": `campaign.yaml:3: channels[1]: "fax" is not email, sms or postal`,
		"no template":     "campaign.yaml: template:",
	}
	for name, doc := range cases {
		_, errOut, code := c.run("campaigns", "create", "-f", writeFile(t, "campaign.yaml", doc))
		if code != 1 || !strings.HasPrefix(errOut, "dispatch: "+want[name]) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: exit %d, %q; want exit 1 and %q", name, code, errOut, want[name])
		}
	}
	if n := pgtest.Count(t, c.dbHandle(), `SELECT count(*) FROM campaigns`); n != 0 {
		t.Fatalf("%d campaigns stored from refused files", n)
	}
}

func TestWorkerStopsGracefully(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.members(30)
	s.env["DISPATCH_EMAIL_RATE"] = "6/s"
	id := s.campaign(couponCampaign)
	s.must("campaigns", "schedule", id)
	s.start("scheduler", "--interval", "100ms", "--batch-size", "3", "--stale-after", "1s")
	stopWorker := s.start("worker", "--concurrency", "2", "--retry-delay", "100ms")
	waitFor(t, 20*time.Second, "the first messages", func() bool { return s.smtp.Received() >= 6 })
	stopWorker() // SIGTERM: the messages in hand finish and are recorded, the batches are given back

	db := s.dbHandle()
	received := int(s.smtp.Received())
	if sent := pgtest.Count(t, db, `SELECT count(*) FROM deliveries WHERE status = 'sent'`); sent != received {
		t.Fatalf("after the drain the SMTP server has %d messages but the ledger records %d sent", received, sent)
	}
	if received >= 30 {
		t.Fatal("the run had finished before the worker was stopped: the test proves nothing")
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM batches WHERE lease_owner IS NOT NULL`); n != 0 {
		t.Fatalf("%d batches still leased after the drain", n)
	}
	// Another worker finishes the run; nobody gets a message twice.
	s.start("worker", "--concurrency", "2", "--retry-delay", "100ms")
	s.waitFinished(id, 60*time.Second)
	wantOneEach(t, s.smtp.Messages(), 30)
}

func TestKilledWorkerLosesNothing(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.members(40)
	s.env["DISPATCH_EMAIL_RATE"] = "8/s"
	id := s.campaign(couponCampaign)
	s.must("campaigns", "schedule", id)
	s.start("scheduler", "--interval", "100ms", "--batch-size", "4", "--stale-after", "2s")

	// A worker in a process of its own, killed with SIGKILL in the middle of the run.
	self, err := os.Executable()
	pgtest.Must(t, "executable", err)
	child := exec.Command(self, "worker", "--concurrency", "2", "--lease", "2s", "--sms-log", filepath.Join(t.TempDir(), "sms.log"))
	child.Env = append(os.Environ(), "DISPATCH_TEST_AS_MAIN=1")
	for k, v := range s.env {
		child.Env = append(child.Env, k+"="+v)
	}
	pgtest.Must(t, "start worker", child.Start())
	waitFor(t, 30*time.Second, "the first messages", func() bool { return s.smtp.Received() >= 8 })
	pgtest.Must(t, "kill", child.Process.Signal(syscall.SIGKILL))
	child.Wait()
	killedAt := s.smtp.Received()
	if killedAt >= 40 {
		t.Fatal("the run had finished before the worker was killed: the test proves nothing")
	}

	s.start("worker", "--concurrency", "2", "--lease", "2s", "--retry-delay", "200ms")
	s.waitFinished(id, 90*time.Second)
	db := s.dbHandle()
	if n := pgtest.Count(t, db, `SELECT count(*) FROM deliveries WHERE status = 'sent'`); n != 40 {
		t.Fatalf("%d of 40 deliveries sent after the kill", n)
	}
	// Every member got the message; a duplicate can only come from the chunk in the killed
	// worker's hands (at most one chunk of a batch, 4 messages, per batch in flight: 2).
	msgs := s.smtp.Messages()
	dups := 0
	for i, n := range perMember(msgs, 40) {
		if n == 0 {
			t.Errorf("member E%d got nothing", i+1)
		}
		dups += n - 1
	}
	if dups > 8 {
		t.Fatalf("%d duplicates, more than the killed worker had in hand", dups)
	}
	t.Logf("killed after %d messages; %d duplicates", killedAt, dups)
}

func TestSendRateHoldsAcrossWorkers(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.members(50)
	s.env["DISPATCH_EMAIL_RATE"] = "10/s"
	id := s.campaign(couponCampaign)
	s.must("campaigns", "schedule", id)
	s.start("scheduler", "--interval", "100ms", "--batch-size", "5")
	// Three workers, each with four batches at once: together they may still send 10 a second only.
	for i := 0; i < 3; i++ {
		s.start("worker", "--concurrency", "4")
	}
	s.waitFinished(id, 60*time.Second)
	var span float64
	pgtest.Must(t, "span", s.dbHandle().Get(&span, `SELECT extract(epoch FROM max(sent_at) - min(sent_at)) FROM deliveries`))
	// 50 messages at 10/s with a burst of 10: at least 4 s from the first to the last.
	if span < 3.5 || span > 15 {
		t.Fatalf("50 messages took %.1f s; at 10/s they take about 4 s", span)
	}
	if n := len(s.smtp.Messages()); n != 50 {
		t.Fatalf("%d messages", n)
	}
}
