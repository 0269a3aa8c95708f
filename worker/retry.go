package worker

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// retryLater handles a transient failure of delivery d (cause, the Sender's error): the delivery
// stays queued with one attempt more and its next attempt after a backoff (retryDelay), or, when
// this was its Config.MaxAttempts-th attempt, fails for good with the reason "gave up after N
// attempts: <code>". Either way the batch goes on. The reason kept is a code (transientReason),
// never the server's text, which may quote the recipient; the log line carries the error, which a
// Sender keeps free of the recipient. attrs are the delivery's log attributes. It returns the
// store's error.
func (w *Worker) retryLater(ctx context.Context, d campaigns.Delivery, cause error, attrs []any) error {
	reason := transientReason(cause)
	attempts := d.Attempts + 1
	if attempts >= w.cfg.MaxAttempts {
		reason = fmt.Sprintf("gave up after %d attempts: %s", attempts, reason)
		w.log.Warn("delivery failed", append(attrs, slog.Int("attempts", attempts), slog.String("reason", reason), "err", cause)...)
		w.metrics.Outcome(d.Channel, OutcomeFailed, 1)
		return w.store.MarkFailed(ctx, d.ID, reason)
	}
	next, err := w.store.MarkRetry(ctx, d.ID, w.cfg.retryDelay(attempts), reason)
	if err != nil {
		return err
	}
	w.metrics.Outcome(d.Channel, OutcomeRetried, 1)
	w.log.Info("delivery deferred after a transient failure", append(attrs, slog.Int("attempts", attempts),
		slog.Time("next_attempt_at", next), slog.String("reason", reason), "err", cause)...)
	return nil
}

// retryDelay is how long a delivery waits after its attempts-th try failed transiently:
// RetryBackoff doubled for each earlier failure, at most MaxRetryBackoff, less up to a fifth at
// random.
func (c *Config) retryDelay(attempts int) time.Duration {
	d := c.RetryBackoff
	for i := 1; i < attempts && d < c.MaxRetryBackoff; i++ {
		d *= 2
	}
	d = min(d, c.MaxRetryBackoff)
	return d - rand.N(d/5+1)
}

// The replies of worker/email and worker/sms that name a code: "smtp RCPT TO refused: 451 4.7.1
// Try again later", "smtp DATA: 421 ...", "sms twilio for delivery 12: HTTP 503 code 20003: ...".
var (
	smtpReplyCode = regexp.MustCompile(`\bsmtp (?:MAIL FROM|RCPT TO|DATA|end of DATA|message content|connection check|RSET)(?: refused)?: ([2-5][0-9]{2})(?:[ -]([2-5]\.[0-9]{1,3}\.[0-9]{1,3})\b)?`)
	httpStatus    = regexp.MustCompile(`\bsms [a-z+]+ for delivery [0-9]+: (?:reading )?HTTP ([1-5][0-9]{2})\b`)
)

// transientReason is what the ledger keeps of a transient failure: "transient", with the SMTP reply
// code (and enhanced status code) or the gateway's HTTP status when the error names one:
// "transient: smtp 451 4.7.1", "transient: http 503". Only codes are kept: a server's text may
// quote the recipient.
func transientReason(err error) string {
	msg := err.Error()
	if m := smtpReplyCode.FindStringSubmatch(msg); m != nil {
		if m[2] != "" {
			return "transient: smtp " + m[1] + " " + m[2]
		}
		return "transient: smtp " + m[1]
	}
	if m := httpStatus.FindStringSubmatch(msg); m != nil {
		return "transient: http " + m[1]
	}
	return "transient"
}
