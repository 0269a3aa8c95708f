package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/worker/compose"
)

// batchLease is a worker's hold on the batch it sends. keep renews it when a third of its time has
// passed: called before every message, so that a slow chunk (a low send rate) never outlives it and
// lets another worker in beside this one.
type batchLease struct {
	w *Worker
	b campaigns.Batch
	// owner is the name the lease is held under (Config.Owner#n).
	owner string
	// renewed is when the lease was last taken or renewed: read just before the store was asked, so
	// it is never later than the lease's own start.
	renewed time.Time
}

// keep renews the lease if it is due. It returns errLeased when another worker has taken the batch
// (this worker was too slow and its lease ran out), or the store's error.
func (l *batchLease) keep(ctx context.Context) error {
	if time.Since(l.renewed) < l.w.cfg.LeaseTTL/3 {
		return nil
	}
	at := time.Now()
	held, _, err := l.w.store.LeaseBatch(ctx, l.b, l.owner, l.w.cfg.LeaseTTL)
	if err != nil {
		return err
	}
	if !held {
		return errLeased // lost: another worker has the batch now
	}
	l.renewed = at
	return nil
}

// sendBatch sends the batch's due email or SMS deliveries one by one, in chunks of CheckEvery;
// complete says every one of them was handled: sent, skipped, failed, or deferred to a later attempt
// after a transient failure. It returns complete=false and no error when the run stopped sending
// (paused, cancelled) or SMS quiet hours began; errStopping after Stop; errLeased when the lease was
// lost; the store's error, or the Sender's when ctx ended while a message was in hand, otherwise.
func (w *Worker) sendBatch(ctx context.Context, lease *batchLease, run campaigns.Run, deliveries []campaigns.Delivery, sender Sender) (complete bool, err error) {
	b := lease.b
	for start := 0; start < len(deliveries); start += w.cfg.CheckEvery {
		if w.stopping.Load() {
			return false, errStopping
		}
		if b.Channel == campaigns.SMS && w.cfg.QuietHours.Contains(time.Now()) {
			// Quiet hours: the batch waits, unfinished; the scheduler enqueues it again after them.
			w.log.Info("quiet hours: SMS batch waits for the morning", slog.Int64("run_id", b.RunID), slog.Int("batch", b.Batch))
			return false, nil
		}
		if err := lease.keep(ctx); err != nil {
			return false, err
		}
		chunk := deliveries[start:min(start+w.cfg.CheckEvery, len(deliveries))]
		paused, err := w.sendChunk(ctx, run, chunk, sender, lease)
		if err != nil || paused {
			return false, err
		}
	}
	return true, nil
}

// sendChunk re-checks a few deliveries just before sending them, issues their coupons, and sends.
// paused reports that the run stopped sending: the rest of the batch waits. What the chunk sent is
// recorded whatever it returns.
func (w *Worker) sendChunk(ctx context.Context, run campaigns.Run, chunk []campaigns.Delivery, sender Sender, lease *batchLease) (paused bool, err error) {
	send, paused, err := w.recheck(ctx, chunk)
	if err != nil || paused || len(send) == 0 {
		return paused, err
	}
	coupons, err := w.issueCoupons(ctx, run, send)
	if err != nil {
		return false, err
	}
	if len(coupons) > 0 {
		w.log.Info("coupons issued", slog.Int64("campaign_id", run.CampaignID), slog.Int64("run_id", run.ID),
			slog.String("channel", string(send[0].Channel)), slog.Int("codes", len(coupons)),
			slog.Int64("first_delivery_id", send[0].ID), slog.Int64("last_delivery_id", send[len(send)-1].ID))
	}
	// Each message sent is handed to the ledger's recorder at once (record.go); the next one goes
	// out only once the previous one is written, and the chunk ends when its last one is.
	var last *sentGroup
	sent := 0
	defer func() {
		if werr := last.wait(ctx); werr != nil && err == nil {
			err = werr
		}
		w.metrics.Outcome(chunk[0].Channel, OutcomeSent, sent) // once a chunk: a Redis call
	}()
	for _, d := range send {
		if w.stopping.Load() {
			return false, errStopping // what this chunk sent is recorded all the same
		}
		if w.limiter != nil {
			// Per message, so that a slow rate never holds a whole chunk (and the lease) waiting.
			if err := w.limiter.Wait(ctx, d.Channel, 1); err != nil {
				return false, err
			}
		}
		if err := lease.keep(ctx); err != nil {
			return false, err
		}
		var coupon *campaigns.IssuedCoupon
		if c, ok := coupons[d.ID]; ok {
			coupon = &c
		}
		rcpt, ok, err := w.sendOne(ctx, run, d, coupon, sender, last)
		if err != nil {
			return false, err
		}
		if ok {
			last = w.recorder.add(campaigns.Sent{DeliveryID: d.ID, At: time.Now(), ProviderRef: rcpt.ProviderRef, Segments: rcpt.Segments})
			sent++
		}
	}
	return false, nil
}

// sendOne renders and sends one delivery, once prev (the group of the batch's previous message,
// nil for none) is written: the batch never has two messages sent and not recorded. ok reports
// that the message went out (the caller records it). Every failure of the message itself is handled here, logged and recorded: a render failure,
// a permanent failure (with a bounce, the address suppressed) or a panic fails the delivery; a
// transient failure defers it to a later attempt, or fails it after Config.MaxAttempts
// (retryLater). It returns an error only when the batch must stop: the store failed, or ctx ended
// while the message was in hand (the worker is shutting down or the task timed out: no attempt is
// counted, and the error, a *sendError naming the delivery, gives the batch back to asynq; it is
// logged once, by the server's error handler).
func (w *Worker) sendOne(ctx context.Context, run campaigns.Run, d campaigns.Delivery, coupon *campaigns.IssuedCoupon, sender Sender, prev *sentGroup) (rcpt Receipt, ok bool, err error) {
	attrs := []any{slog.Int64("delivery_id", d.ID), slog.Int64("member_id", d.Member.ID), slog.String("channel", string(d.Channel))}
	fail := func(reason string) error {
		w.metrics.Outcome(d.Channel, OutcomeFailed, 1)
		return w.store.MarkFailed(ctx, d.ID, reason)
	}
	defer func() {
		if p := recover(); p != nil {
			w.log.Error("panic while sending", append(attrs, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))...)
			ok, err = false, fail("internal error")
		}
	}()
	msg, err := w.compose.Compose(run, d, coupon, false)
	if err != nil {
		w.log.Error("render failed", append(attrs, "err", err)...)
		return rcpt, false, fail("render: " + err.Error())
	}
	rcpt, err = sendAfter(ctx, sender, msg, prev)
	var notReady *recordWaitError
	switch {
	case errors.As(err, &notReady):
		// ctx ended while the previous message's record was awaited: this one was not sent.
		return rcpt, false, &sendError{deliveryID: d.ID, err: notReady.err}
	case err == nil:
		return rcpt, true, nil
	case errors.Is(err, ErrPermanent):
		w.log.Warn("delivery failed", append(attrs, "err", err)...)
		if errors.Is(err, ErrBounce) {
			if serr := w.store.SuppressBounce(ctx, d.Member.ID, d.Channel); serr != nil {
				return rcpt, false, serr
			}
		}
		return rcpt, false, fail(err.Error())
	case ctx.Err() != nil:
		// Not the recipient's doing: this worker is going away. The batch is given back as it is.
		return rcpt, false, &sendError{deliveryID: d.ID, err: err}
	default:
		return rcpt, false, w.retryLater(ctx, d, err, attrs)
	}
}

// sendAfter sends msg once prev (the group of the batch's previous message, nil for none) is
// written: a GatedSender is given the wait as its ready, so that the message travels while prev
// is written; any other Sender is called after it. A failed wait (ctx ended) is a
// *recordWaitError, and the message was not sent.
func sendAfter(ctx context.Context, sender Sender, msg compose.Message, prev *sentGroup) (Receipt, error) {
	ready := func(ctx context.Context) error {
		if err := prev.wait(ctx); err != nil {
			return &recordWaitError{err: err}
		}
		return nil
	}
	if gs, ok := sender.(GatedSender); ok && prev != nil {
		return gs.SendWhen(ctx, msg, ready)
	}
	if err := ready(ctx); err != nil {
		return Receipt{}, err
	}
	return sender.Send(ctx, msg)
}

// recordWaitError is the end of ctx while a message waited for the record of the batch's previous
// one (sendAfter).
type recordWaitError struct{ err error }

func (e *recordWaitError) Error() string {
	return "waiting for the previous message's record: " + e.err.Error()
}

func (e *recordWaitError) Unwrap() error { return e.err }

// sendError is a failure to send one delivery that is not the recipient's (ctx ended while the
// message was in hand), returned to asynq, which retries the batch. It reads "send delivery <id>:
// <cause>" and unwraps to the Sender's error; the server's error handler logs the delivery's id as
// an attribute of its own.
type sendError struct {
	deliveryID int64
	err        error
}

func (e *sendError) Error() string { return fmt.Sprintf("send delivery %d: %v", e.deliveryID, e.err) }

func (e *sendError) Unwrap() error { return e.err }
