package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// unprintableLetters is how a PrintSender reports letters it could not print (worker/print's
// *LetterErrors): the reason of each, by delivery id.
type unprintableLetters interface {
	FailedLetters() map[int64]string
}

// printBatch writes a batch of letters as one print batch: every letter re-checked, its coupon
// issued, rendered, the whole batch written at once through the PrintSender, and every letter
// recorded sent with the batch's file as its reference. A letter that does not render, or that the
// PrintSender reports it could not print, is recorded failed and left out. A batch written again
// (after a crash before the record) replaces its files whole, with the same codes. finished says the
// batch needs no more work; it is false with no error when the run stopped sending. Any other error
// of the PrintSender is returned, and the batch retried.
func (w *Worker) printBatch(ctx context.Context, b campaigns.Batch, run campaigns.Run, deliveries []campaigns.Delivery) (finished bool, err error) {
	var letters []Letter
	var issued map[int64]campaigns.IssuedCoupon
	// A print batch is one chunk: every letter is re-checked just before the batch is written.
	keep, paused, err := w.recheck(ctx, deliveries)
	if err != nil || paused {
		return false, err
	}
	if len(keep) == 0 {
		return true, nil
	}
	if issued, err = w.issueCoupons(ctx, run, keep); err != nil {
		return false, err
	}
	for _, d := range keep {
		var coupon *campaigns.IssuedCoupon
		if c, ok := issued[d.ID]; ok {
			coupon = &c
		}
		msg, err := w.compose.Compose(run, d, coupon, false)
		if err != nil {
			w.log.Error("render failed", slog.Int64("delivery_id", d.ID), slog.Int64("member_id", d.Member.ID),
				slog.String("channel", string(d.Channel)), "err", err)
			w.metrics.Outcome(d.Channel, OutcomeFailed, 1)
			if err := w.store.MarkFailed(ctx, d.ID, "render: "+err.Error()); err != nil {
				return false, err
			}
			continue
		}
		l := Letter{DeliveryID: d.ID, Member: d.Member, Content: msg.Content}
		if coupon != nil {
			l.CouponCode = coupon.Code
		}
		letters = append(letters, l)
	}
	if len(letters) == 0 {
		return true, nil
	}
	select {
	case w.printing <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	ref, err := w.printer.SendBatch(ctx, fmt.Sprintf("run%d-batch%d", b.RunID, b.Batch), letters)
	<-w.printing
	var unprintable unprintableLetters
	if err != nil && !errors.As(err, &unprintable) {
		return false, fmt.Errorf("print batch %d of run %d: %w", b.Batch, b.RunID, err)
	}
	var failed map[int64]string
	if unprintable != nil {
		failed = unprintable.FailedLetters()
	}
	// Letters that cannot be printed fail for good; the batch is written without them.
	for id, reason := range failed {
		w.log.Warn("delivery failed", slog.Int64("delivery_id", id), slog.String("channel", string(campaigns.Postal)), slog.String("reason", reason))
		w.metrics.Outcome(campaigns.Postal, OutcomeFailed, 1)
		if err := w.store.MarkFailed(context.WithoutCancel(ctx), id, reason); err != nil {
			return false, err
		}
	}
	now := time.Now()
	sent := make([]campaigns.Sent, 0, len(letters))
	for _, l := range letters {
		if _, ok := failed[l.DeliveryID]; !ok {
			sent = append(sent, campaigns.Sent{DeliveryID: l.DeliveryID, At: now, ProviderRef: ref})
		}
	}
	if len(sent) > 0 && ref == "" {
		return false, fmt.Errorf("print batch %d of run %d: the printer wrote no file for %d letters", b.Batch, b.RunID, len(sent))
	}
	if len(sent) == 0 {
		return true, nil // every letter failed: nothing was written
	}
	if err := w.store.MarkSent(context.WithoutCancel(ctx), sent); err != nil {
		return false, err
	}
	w.metrics.Outcome(campaigns.Postal, OutcomeSent, len(sent))
	w.log.Info("print batch written", slog.Int64("run_id", b.RunID), slog.Int("batch", b.Batch), slog.Int("letters", len(sent)), slog.String("file", ref))
	return true, nil
}
