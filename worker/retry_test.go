package worker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// The ledger keeps a code of a transient failure, never the server's text: the replies of
// worker/email and worker/sms give their code, anything else is just "transient".
func TestTransientReasonKeepsOnlyTheCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{errors.New("smtp RCPT TO refused: 451 4.7.1 <recipient>: greylisted"), "transient: smtp 451 4.7.1"},
		{errors.New("smtp end of DATA refused: 421 4.4.2 m1@example.com closing"), "transient: smtp 421 4.4.2"},
		{errors.New("smtp MAIL FROM refused: 550 5.7.1 sender not allowed"), "transient: smtp 550 5.7.1"},
		{errors.New("smtp DATA: 452 too many recipients"), "transient: smtp 452"},
		{fmt.Errorf("send: %w", errors.New("smtp RCPT TO refused: 450 mailbox busy")), "transient: smtp 450"},
		{errors.New("smtp connect to mail.example.com:465: connection refused"), "transient"},
		{errors.New("smtp end of DATA: EOF"), "transient"},
		{errors.New("sms twilio for delivery 12: HTTP 503 code 20003: Service unavailable (will retry)"), "transient: http 503"},
		{errors.New("sms gatewayapi for delivery 12: HTTP 429 (will retry)"), "transient: http 429"},
		{errors.New("sms twilio for delivery 12: no response within 10s: context deadline exceeded"), "transient"},
		{errors.New("451 4.7.1 try again later"), "transient"},
		{context.DeadlineExceeded, "transient"},
	} {
		if got := transientReason(c.err); got != c.want {
			t.Errorf("transientReason(%q) = %q, want %q", c.err, got, c.want)
		}
	}
}

// The wait after the n-th failure is RetryBackoff doubled n-1 times, capped, less up to a fifth.
func TestRetryDelayDoublesUpToTheCapWithJitter(t *testing.T) {
	var c Config
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MaxAttempts != 8 || c.RetryBackoff != 30*time.Second || c.MaxRetryBackoff != 30*time.Minute {
		t.Fatalf("defaults: %d attempts, backoff %s up to %s", c.MaxAttempts, c.RetryBackoff, c.MaxRetryBackoff)
	}
	nominal := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute}
	for i, want := range nominal {
		lo, hi := want, time.Duration(0)
		for range 200 {
			d := c.retryDelay(i + 1)
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo < want*4/5 || hi > want {
			t.Errorf("after failure %d: waits from %s to %s, want within [%s, %s]", i+1, lo, hi, want*4/5, want)
		}
		if lo == hi {
			t.Errorf("after failure %d: always %s, want some jitter", i+1, lo)
		}
	}
	// A cap below the backoff is raised to it.
	c = Config{RetryBackoff: time.Hour, MaxRetryBackoff: time.Minute}
	if err := c.Validate(); err != nil || c.MaxRetryBackoff != time.Hour {
		t.Fatalf("MaxRetryBackoff %s (%v), want raised to RetryBackoff", c.MaxRetryBackoff, err)
	}
}
