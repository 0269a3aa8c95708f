package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/internal/mailcatcher"
)

// members imports n members who may be reached by email: m1@example.com ... mN@example.com.
func (s *system) members(n int) {
	s.t.Helper()
	var b strings.Builder
	b.WriteString(memberHeader)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "E%d,Testi,Jäsen,m%d@example.com,,Katu %d,00100,HELSINKI,FI,fi,yes,,,,\n", i, i, i)
	}
	s.must("members", "import", writeFile(s.t, "members.csv", b.String()))
}

// selected schedules the campaign and runs the scheduler until its deliveries are in the ledger and
// its batches in the queue; no worker runs yet.
func (s *system) selected(yaml string) (id string, stopScheduler func()) {
	s.t.Helper()
	id = s.campaign(yaml)
	s.must("campaigns", "schedule", id)
	stop := s.start("scheduler")
	db := s.dbHandle()
	waitFor(s.t, 20*time.Second, "batches to be enqueued", func() bool {
		return pgtest.Count(s.t, db, `SELECT count(*) FROM batches b JOIN runs r ON r.id = b.run_id WHERE r.campaign_id = $1 AND b.enqueued_at IS NOT NULL`, id) > 0
	})
	return id, stop
}

func (s *system) deliveryStatuses(id string) map[string]string {
	s.t.Helper()
	var rows []struct {
		Email  string `db:"email"`
		Status string `db:"status"`
		Reason string `db:"reason"`
	}
	pgtest.Must(s.t, "statuses", s.dbHandle().Select(&rows, `SELECT m.email, d.status, d.reason FROM deliveries d
		JOIN runs r ON r.id = d.run_id JOIN members m ON m.id = d.member_id WHERE r.campaign_id = $1`, id))
	out := map[string]string{}
	for _, r := range rows {
		out[r.Email] = r.Status
		if r.Reason != "" {
			out[r.Email] += ":" + r.Reason
		}
	}
	return out
}

// perMember counts the messages each of the n members imported by members(n) received: index i is
// member E(i+1).
func perMember(msgs []mailcatcher.Message, n int) []int {
	counts := make([]int, n)
	for i := range counts {
		counts[i] = countTo(msgs, fmt.Sprintf("m%d@example.com", i+1))
	}
	return counts
}

// wantOneEach fails the test for every member E1..En that did not get exactly one message.
func wantOneEach(t *testing.T, msgs []mailcatcher.Message, n int) {
	t.Helper()
	for i, c := range perMember(msgs, n) {
		if c != 1 {
			t.Errorf("member E%d got %d messages", i+1, c)
		}
	}
}

func countTo(msgs []mailcatcher.Message, addr string) int {
	n := 0
	for _, m := range msgs {
		for _, to := range m.To {
			if to == addr {
				n++
			}
		}
	}
	return n
}

func TestConsentWithdrawnAfterSelectionIsNotSent(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.members(5)
	id, _ := s.selected(couponCampaign)
	// Member E3 withdraws between the scheduler's selection and the worker's send.
	s.must("consent", "set", "E3", "email", "withdrawn", "--source", "customer-service")
	s.start("worker")
	s.waitFinished(id, 30*time.Second)
	st := s.deliveryStatuses(id)
	if st["m3@example.com"] != "skipped:no_consent" {
		t.Fatalf("E3's delivery is %q, want skipped:no_consent", st["m3@example.com"])
	}
	msgs := s.smtp.Messages()
	if len(msgs) != 4 || countTo(msgs, "m3@example.com") != 0 {
		t.Fatalf("sent %d messages (%d to E3), want 4 and none to E3", len(msgs), countTo(msgs, "m3@example.com"))
	}
	if n := pgtest.Count(t, s.dbHandle(), `SELECT count(*) FROM coupons c JOIN members m ON m.id = c.member_id WHERE m.external_id = 'E3'`); n != 0 {
		t.Fatalf("E3 was issued %d coupons", n)
	}
	if out := s.must("campaigns", "status", id, "--json"); !strings.Contains(out, `"skipped":1`) {
		t.Fatalf("status does not count the skip: %s", out)
	}
}

func TestBatchRunTwiceSendsOnceAndIssuesOneCoupon(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.members(3)
	id, stopScheduler := s.selected(couponCampaign)
	stopWorker := s.start("worker")
	s.waitFinished(id, 30*time.Second)
	stopWorker()
	stopScheduler()
	db := s.dbHandle()
	codes := map[string]string{}
	var rows []struct{ Email, Code string }
	pgtest.Must(t, "codes", db.Select(&rows, `SELECT m.email, c.code FROM coupons c JOIN members m ON m.id = c.member_id WHERE c.campaign_id = $1`, id))
	for _, r := range rows {
		codes[r.Email] = r.Code
	}
	// The same task delivered again (a retry after a crash, a duplicate enqueue): re-open the batch
	// and its run, put its task back in the queue, and let a worker run it.
	_, err := db.Exec(`UPDATE batches SET done_at = NULL, enqueued_at = NULL FROM runs r WHERE r.id = batches.run_id AND r.campaign_id = $1`, id)
	pgtest.Must(t, "reopen", err)
	_, err = db.Exec(`UPDATE runs SET status = 'running', finished_at = NULL WHERE campaign_id = $1`, id)
	pgtest.Must(t, "reopen run", err)
	_, err = db.Exec(`UPDATE campaigns SET status = 'running' WHERE id = $1`, id)
	pgtest.Must(t, "reopen campaign", err)
	s.start("scheduler")
	s.start("worker")
	s.waitFinished(id, 30*time.Second)
	if n := len(s.smtp.Messages()); n != 3 {
		t.Fatalf("%d messages for 3 members after the batch ran twice", n)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM coupons WHERE campaign_id = $1`, id); n != 3 {
		t.Fatalf("%d coupons for 3 members after the batch ran twice", n)
	}
	var again []struct{ Email, Code string }
	pgtest.Must(t, "codes", db.Select(&again, `SELECT m.email, c.code FROM coupons c JOIN members m ON m.id = c.member_id WHERE c.campaign_id = $1`, id))
	for _, r := range again {
		if codes[r.Email] != r.Code {
			t.Fatalf("a member's code changed from %s to %s", codes[r.Email], r.Code)
		}
	}
}

func TestSMTPFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		fault  mailcatcher.Fault
		want   string // E1's delivery
		copies int    // messages to E1
	}{
		{"451 then 250", mailcatcher.Fault{Code: 451, Text: "4.7.1 Try again later"}, "sent", 1},
		{"550 for the recipient", mailcatcher.Fault{Code: 550, Text: "5.1.1 <m1@example.com>: Recipient address rejected"}, "failed", 0},
		{"connection dropped in DATA", mailcatcher.Fault{Drop: true}, "sent", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newSystem(t)
			s.members(3)
			id, _ := s.selected(couponCampaign)
			s.smtp.FailNext(c.fault) // the first message, E1's, meets the fault
			s.start("worker", "--concurrency", "1", "--retry-delay", "200ms")
			s.waitFinished(id, 30*time.Second)
			st := s.deliveryStatuses(id)
			if !strings.HasPrefix(st["m1@example.com"], c.want) {
				t.Fatalf("E1's delivery is %q, want %s", st["m1@example.com"], c.want)
			}
			msgs := s.smtp.Messages()
			if n := countTo(msgs, "m1@example.com"); n != c.copies {
				t.Fatalf("%d messages to E1, want %d", n, c.copies)
			}
			if countTo(msgs, "m2@example.com") != 1 || countTo(msgs, "m3@example.com") != 1 {
				t.Fatal("the other members did not get exactly one message each")
			}
			if c.want == "failed" {
				reason := st["m1@example.com"]
				if !strings.Contains(reason, "550") || strings.Contains(reason, "m1@example.com") {
					t.Fatalf("failure reason %q: want the server's reply without the address", reason)
				}
				if n := pgtest.Count(t, s.dbHandle(), `SELECT count(*) FROM suppressions s JOIN members m ON s.key = m.email_key
					WHERE m.external_id = 'E1' AND s.channel = 'email' AND s.reason = 'bounce'`); n != 1 {
					t.Fatal("the hard bounce did not suppress the address")
				}
			}
		})
	}
}

func TestRedisLosesItsDataMidRun(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.members(60)
	// 4 messages a second across all workers: the run takes some 15 s, so it is mid-way when Redis
	// loses its data. FLUSHDB of the test's own database stands for FLUSHALL (or a restart without
	// persistence): other tests' databases live on the same Redis.
	s.env["DISPATCH_EMAIL_RATE"] = "4/s"
	id := s.campaign(couponCampaign)
	s.must("campaigns", "schedule", id)
	s.start("scheduler", "--stale-after", "2s", "--interval", "200ms", "--batch-size", "5")
	s.start("worker", "--concurrency", "2")
	waitFor(t, 30*time.Second, "the first messages", func() bool { return s.smtp.Received() >= 8 })
	if err := s.redis.Client.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	sentAtFlush := s.smtp.Received()
	s.waitFinished(id, 90*time.Second)
	if sentAtFlush >= 60 {
		t.Fatalf("the run had finished (%d sent) before Redis was flushed: the test proves nothing", sentAtFlush)
	}
	st := s.deliveryStatuses(id)
	for addr, status := range st {
		if status != "sent" {
			t.Errorf("%s: %s", addr, status)
		}
	}
	wantOneEach(t, s.smtp.Messages(), 60)
	if len(st) != 60 {
		t.Fatalf("%d deliveries, want 60", len(st))
	}
}
