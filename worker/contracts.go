package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker/compose"
)

// Sender sends one message on its channel (worker/email, worker/sms). Send returns the provider's
// receipt. An error wrapping ErrPermanent means the message can never be delivered (SMTP 5xx for the
// recipient, an invalid number): the delivery fails, and with ErrBounce the address is suppressed.
// Any other error is transient (an SMTP 4xx, a dropped connection, a gateway's 429 or 5xx): that
// delivery alone is tried again later, with backoff, up to Config.MaxAttempts, and the batch goes on
// with the others. An error returned because ctx ended is not counted against the delivery: the
// batch is given back. Errors are logged, so their text must not name the recipient. A Sender is
// called from many batches at once and must be safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m compose.Message) (Receipt, error)
}

// GatedSender is a Sender that can take a message all the way to the step by which its provider
// accepts it, and wait there until ready returns: worker/email sends MAIL FROM, RCPT TO, DATA and
// the content, and ends DATA once ready has returned nil. The worker's ready waits for the batch's
// previous message to be recorded in the ledger (record.go), so that the wait overlaps the
// exchange instead of preceding it, and a message is still never accepted while the one before it
// is unrecorded. When ready returns an error, SendWhen returns an error wrapping it and the
// provider never takes the message. A Sender that is not a GatedSender is called once ready has
// returned.
type GatedSender interface {
	Sender
	SendWhen(ctx context.Context, m compose.Message, ready func(context.Context) error) (Receipt, error)
}

// Receipt is what a Sender reports of a sent message; the worker records it in the ledger.
type Receipt struct {
	// ProviderRef is the provider's id of the message (the Message-ID, an SMS gateway's id); it is the
	// delivery's provider_ref, by which delivery reports find it.
	ProviderRef string
	// Segments is the number of SMS segments; 0 for email.
	Segments int
}

// ErrPermanent marks a failure that retrying cannot mend: a Sender wraps it, and the worker records
// the delivery failed with the error's text as the reason.
var ErrPermanent = errors.New("permanent failure")

// ErrBounce marks a permanent failure that says the address itself is bad (a hard bounce): the
// delivery fails and the address is put on the suppression list, so no campaign reaches it again.
// It wraps ErrPermanent.
var ErrBounce = fmt.Errorf("hard bounce: %w", ErrPermanent)

// Letter is one printed letter of a print batch: the member's name and address as the envelope
// window needs them, the rendered letter, and its coupon code (empty for a newsletter).
type Letter struct {
	DeliveryID int64
	Member     campaigns.Member
	Content    templates.Message
	CouponCode string
}

// PrintSender writes a whole print batch for the print house (worker/print): the letters in the
// order given (by postal code), as one PDF with a CSV manifest. name is unique per (run, batch) and
// the same when a batch is written again: writing it again replaces the files whole. It returns ref,
// the name of what was written, recorded as every letter's provider_ref. Letters it cannot print it
// leaves out, and reports with an error that has a method FailedLetters() map[int64]string (the
// reason by delivery id; worker/print's *LetterErrors): those deliveries fail, and the others are
// recorded sent with ref (ref is "" when nothing was written). Any other error is transient: the
// batch is retried and written again whole.
type PrintSender interface {
	SendBatch(ctx context.Context, name string, letters []Letter) (ref string, err error)
}

// Store is what the worker needs of the delivery ledger (campaigns/postgres implements it). Every
// method returns an error only for a failure of the store; the worker returns it to asynq, which
// retries the batch.
type Store interface {
	// LeaseBatch lets owner hold the batch for ttl, or renews owner's lease. held=false, done=true:
	// the batch is finished (or gone). held=false, done=false: another owner holds it.
	LeaseBatch(ctx context.Context, b campaigns.Batch, owner string, ttl time.Duration) (held, done bool, err error)
	// ReleaseBatch gives owner's lease back. complete says the worker went through every delivery
	// that was due: the batch is then finished unless some delivery is still queued (waiting for a
	// retry), and then it is enqueued again when the first of those is due. It does nothing when
	// owner no longer holds the lease. A batch done that was the last of its run finishes the run
	// (runFinished).
	ReleaseBatch(ctx context.Context, b campaigns.Batch, owner string, complete bool) (runFinished bool, err error)
	// RunForWorker returns the run's status and its campaign's spec, or an error wrapping
	// campaigns.ErrNotFound when the run is gone.
	RunForWorker(ctx context.Context, runID int64) (campaigns.Run, error)
	// BatchDeliveries returns the batch's deliveries still queued and due (not waiting for a retry),
	// with the members' details.
	BatchDeliveries(ctx context.Context, b campaigns.Batch) ([]campaigns.Delivery, error)
	// Recheck answers, for each delivery, whether its member may still be reached on its channel
	// and whether its run still sends.
	Recheck(ctx context.Context, deliveryIDs []int64) ([]campaigns.Recheck, error)
	// IssueCoupons gives each delivery its coupon code, once: a delivery that has one keeps it.
	IssueCoupons(ctx context.Context, deliveryIDs []int64, discount string, validUntil time.Time, newCode func() (string, error)) (map[int64]campaigns.IssuedCoupon, error)
	// MarkSent records messages sent, in one statement.
	MarkSent(ctx context.Context, sent []campaigns.Sent) error
	// MarkFailed records a delivery failed for good, with the reason.
	MarkFailed(ctx context.Context, deliveryID int64, reason string) error
	// MarkRetry records a transient failure: the delivery stays queued with one attempt more and the
	// reason, and is due again after the delay. It returns when (the zero time when the delivery is
	// no longer queued).
	MarkRetry(ctx context.Context, deliveryID int64, after time.Duration, reason string) (time.Time, error)
	// MarkSkipped records deliveries skipped at send time, each with its reason.
	MarkSkipped(ctx context.Context, ids []int64, reasons []campaigns.SkipReason) error
	// SuppressBounce puts the member's address on the channel on the suppression list.
	SuppressBounce(ctx context.Context, memberID int64, ch campaigns.Channel) error
}

// Limiter holds sends to a rate shared by all workers (RedisLimiter). Wait blocks until n more
// messages may go on the channel, and returns an error when ctx ends first or the rate cannot be
// read; the batch is then retried.
type Limiter interface {
	Wait(ctx context.Context, ch campaigns.Channel, n int) error
}

// Metrics receives counts of outcomes (RedisMetrics). Outcome must not block for long and has no
// error to return: a count that cannot be kept is lost, and never stops a send.
type Metrics interface {
	Outcome(ch campaigns.Channel, o Outcome, n int)
}

// Outcome is what became of messages a worker handled: a final delivery status, or retried.
type Outcome string

// The outcomes counted by Metrics.
const (
	// OutcomeSent: the message went out and is recorded sent.
	OutcomeSent = Outcome(campaigns.DeliverySent)
	// OutcomeFailed: a permanent failure, a bounce, a render error or a panic; the delivery failed.
	OutcomeFailed = Outcome(campaigns.DeliveryFailed)
	// OutcomeSkipped: the member could no longer be reached at send time; the delivery is skipped.
	OutcomeSkipped = Outcome(campaigns.DeliverySkipped)
	// OutcomeRetried: a transient failure; the delivery stays queued and is tried again later.
	// Counted once per failure, so a delivery may count several times; its last failure, after
	// Config.MaxAttempts, counts as OutcomeFailed instead.
	OutcomeRetried Outcome = "retried"
)

// nopMetrics counts nothing: the Metrics of a worker created without one.
type nopMetrics struct{}

func (nopMetrics) Outcome(campaigns.Channel, Outcome, int) {}
