package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// recheck asks the store, just before sending, whether each delivery's member may still be reached
// on its channel (consent, suppression, erasure: the same rules as the selection) and whether the run
// still sends. It marks the blocked deliveries skipped with their reason and returns the others;
// paused reports that the run stopped sending (paused or cancelled), and then nothing is marked. It
// returns the store's error.
func (w *Worker) recheck(ctx context.Context, chunk []campaigns.Delivery) (send []campaigns.Delivery, paused bool, err error) {
	if len(chunk) == 0 {
		return nil, false, nil
	}
	ids := make([]int64, len(chunk))
	for i, d := range chunk {
		ids[i] = d.ID
	}
	checks, err := w.store.Recheck(ctx, ids)
	if err != nil {
		return nil, false, err
	}
	blocked := make(map[int64]bool)
	var skipIDs []int64
	var skipReasons []campaigns.SkipReason
	for _, c := range checks {
		if !c.RunStatus.Sending() {
			return nil, true, nil
		}
		if c.Reason != "" {
			blocked[c.DeliveryID] = true
			skipIDs = append(skipIDs, c.DeliveryID)
			skipReasons = append(skipReasons, c.Reason)
		}
	}
	if len(skipIDs) > 0 {
		if err := w.store.MarkSkipped(ctx, skipIDs, skipReasons); err != nil {
			return nil, false, err
		}
		w.metrics.Outcome(chunk[0].Channel, OutcomeSkipped, len(skipIDs))
		for i, id := range skipIDs {
			w.log.Info("delivery skipped at send time", slog.Int64("delivery_id", id), slog.String("reason", string(skipReasons[i])))
		}
	}
	send = make([]campaigns.Delivery, 0, len(chunk))
	for _, d := range chunk {
		if !blocked[d.ID] {
			send = append(send, d)
		}
	}
	return send, false, nil
}

// issueCoupons gives each delivery of a coupon campaign its code, once: a retried task gets the same
// codes. For a newsletter (or a coupon campaign without an offer) it returns nil and issues nothing.
// It returns the store's error.
func (w *Worker) issueCoupons(ctx context.Context, run campaigns.Run, send []campaigns.Delivery) (map[int64]campaigns.IssuedCoupon, error) {
	if run.Spec.Kind != campaigns.KindCoupon || run.Spec.Coupon == nil || len(send) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(send))
	for i, d := range send {
		ids[i] = d.ID
	}
	validUntil := campaigns.CouponValidUntil(time.Now(), run.Spec.Coupon.ValidDays, w.cfg.Timezone)
	return w.store.IssueCoupons(ctx, ids, run.Spec.Coupon.Discount, validUntil, campaigns.NewCouponCode)
}
