package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/jacksmood/dispatch/campaigns"
)

// LeaseBatch lets owner hold the batch for ttl. It reports held=false with done=true when the batch
// is finished already, and held=false, done=false when another worker holds it.
func (s *Store) LeaseBatch(ctx context.Context, b campaigns.Batch, owner string, ttl time.Duration) (held, done bool, err error) {
	res, err := s.exec(ctx, "lease-batch", b.RunID, b.Channel, b.Batch, owner, ttl.Seconds())
	if err != nil {
		return false, false, fmt.Errorf("lease batch %d/%s/%d: %w", b.RunID, b.Channel, b.Batch, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, false, nil
	}
	err = s.db.GetContext(ctx, &done, s.q("batch-state"), b.RunID, b.Channel, b.Batch)
	if errors.Is(err, sql.ErrNoRows) {
		return false, true, nil // no such batch (the run was deleted): nothing to do
	}
	return false, done, err
}

// ReleaseBatch gives the batch back. complete says the worker went through every delivery of the
// batch that was due: the batch is then marked done when none of its deliveries is still queued,
// and otherwise keeps the earliest next attempt of those waiting for a retry as its retry time
// (BatchesToRetry). A batch given back before the end of its pass keeps no retry time. It does
// nothing when owner no longer holds the lease. When the batch is done and was its run's last, the
// run is finished here (as FinishRuns does), and runFinished reports it: a run is shown finished
// as soon as its last message is recorded, not at the scheduler's next pass.
func (s *Store) ReleaseBatch(ctx context.Context, b campaigns.Batch, owner string, complete bool) (runFinished bool, err error) {
	var done []bool
	if err := s.db.SelectContext(ctx, &done, s.q("release-batch"), b.RunID, b.Channel, b.Batch, owner, complete); err != nil {
		return false, fmt.Errorf("release batch %d/%s/%d: %w", b.RunID, b.Channel, b.Batch, err)
	}
	if len(done) == 0 || !done[0] {
		return false, nil
	}
	// A statement of its own, after the release is committed: of two workers releasing a run's last
	// two batches at once, the later one's statement sees both done.
	var ids []int64
	if err := s.db.SelectContext(ctx, &ids, s.q("finish-runs"), b.RunID); err != nil {
		return false, fmt.Errorf("finish run %d: %w", b.RunID, err)
	}
	return len(ids) > 0, nil
}

// BatchesToRetry returns up to limit batches that a worker gave back with deliveries waiting for a
// retry (ReleaseBatch), whose first retry is due by the database's clock and that were not enqueued
// since: the scheduler enqueues them again. Batches of runs that do not send, batches a worker
// holds and those on the channels in waiting are left out.
func (s *Store) BatchesToRetry(ctx context.Context, limit int, waiting []campaigns.Channel) ([]campaigns.Batch, error) {
	wait := make([]string, len(waiting))
	for i, c := range waiting {
		wait[i] = string(c)
	}
	var out []campaigns.Batch
	if err := s.db.SelectContext(ctx, &out, s.q("batches-to-retry"), limit, pq.Array(wait)); err != nil {
		return nil, fmt.Errorf("batches to retry: %w", err)
	}
	return out, nil
}

// RunForWorker returns the run's state and its campaign's spec, or ErrNotFound.
func (s *Store) RunForWorker(ctx context.Context, runID int64) (campaigns.Run, error) {
	var row struct {
		campaigns.Run
		SpecJSON string `db:"spec"`
	}
	err := s.db.GetContext(ctx, &row, s.q("run-for-worker"), runID)
	if errors.Is(err, sql.ErrNoRows) {
		return campaigns.Run{}, campaigns.Errorf(campaigns.ErrNotFound, "no run %d", runID)
	}
	if err != nil {
		return campaigns.Run{}, fmt.Errorf("run %d: %w", runID, err)
	}
	r := row.Run
	if err := json.Unmarshal([]byte(row.SpecJSON), &r.Spec); err != nil {
		return r, fmt.Errorf("run %d: spec: %w", runID, err)
	}
	return r, nil
}

// BatchDeliveries returns the batch's deliveries that are still queued and due (not waiting for the
// next attempt after a transient failure), with the members' details; deliveries whose member was
// erased are marked skipped first. Letters come in postal-code order.
func (s *Store) BatchDeliveries(ctx context.Context, b campaigns.Batch) ([]campaigns.Delivery, error) {
	var erased bool
	if err := s.db.GetContext(ctx, &erased, s.q("batch-has-erased"), b.RunID, b.Channel, b.Batch); err != nil {
		return nil, fmt.Errorf("batch %d/%s/%d: %w", b.RunID, b.Channel, b.Batch, err)
	}
	if erased {
		if _, err := s.db.ExecContext(ctx, s.q("skip-erased"), b.RunID, b.Channel, b.Batch); err != nil {
			return nil, fmt.Errorf("batch %d/%s/%d: %w", b.RunID, b.Channel, b.Batch, err)
		}
	}
	var out []campaigns.Delivery
	if err := s.db.SelectContext(ctx, &out, s.q("batch-deliveries"), b.RunID, b.Channel, b.Batch); err != nil {
		return nil, fmt.Errorf("batch %d/%s/%d: %w", b.RunID, b.Channel, b.Batch, err)
	}
	return out, nil
}

// Recheck answers, for each delivery, whether its member may still be sent to on its channel and
// whether its run is still running: the send-time half of rule 4.
func (s *Store) Recheck(ctx context.Context, deliveryIDs []int64) ([]campaigns.Recheck, error) {
	var out []campaigns.Recheck
	if err := s.selectPrepared(ctx, &out, "recheck", pq.Array(deliveryIDs)); err != nil {
		return nil, fmt.Errorf("recheck %d deliveries: %w", len(deliveryIDs), err)
	}
	return out, nil
}

// IssueCoupons gives every delivery a coupon code, once: a delivery that has one keeps it, so a
// retried task gets the same codes. newCode draws codes; collisions with existing codes are drawn
// again. New codes are valid until validUntil (campaigns.CouponValidUntil). It returns the codes by
// delivery id.
func (s *Store) IssueCoupons(ctx context.Context, deliveryIDs []int64, discount string, validUntil time.Time, newCode func() (string, error)) (map[int64]campaigns.IssuedCoupon, error) {
	out := make(map[int64]campaigns.IssuedCoupon, len(deliveryIDs))
	missing := deliveryIDs
	for attempt := 0; len(missing) > 0; attempt++ {
		if attempt == 5 {
			return nil, fmt.Errorf("issue coupons: %d deliveries still without a code after 5 draws", len(missing))
		}
		codes := make([]string, len(missing))
		for i := range missing {
			c, err := newCode()
			if err != nil {
				return nil, err
			}
			codes[i] = c
		}
		var got []campaigns.IssuedCoupon
		if err := s.selectPrepared(ctx, &got, "issue-coupons", pq.Array(missing), pq.Array(codes), discount, validUntil); err != nil {
			return nil, fmt.Errorf("issue coupons: %w", err)
		}
		if len(got) < len(missing) {
			// Some deliveries had their codes already (a task run again) or drew a taken code.
			got = got[:0]
			if err := s.selectPrepared(ctx, &got, "coupons-of-deliveries", pq.Array(missing)); err != nil {
				return nil, fmt.Errorf("issue coupons: %w", err)
			}
		}
		for _, c := range got {
			out[c.DeliveryID] = c
		}
		var still []int64
		for _, id := range missing {
			if _, ok := out[id]; !ok {
				still = append(still, id)
			}
		}
		if len(still) == len(missing) && attempt > 0 {
			// Nothing could be inserted: these deliveries have no member (erased) or no longer exist.
			break
		}
		missing = still
	}
	return out, nil
}

// MarkSent records deliveries as sent, in one statement: the message of each went out at the time
// given, with the provider's reference (Message-ID, SMS id) and, for SMS, its number of segments.
// A delivery that is no longer queued is left as it is.
func (s *Store) MarkSent(ctx context.Context, sent []campaigns.Sent) error {
	if len(sent) == 0 {
		return nil
	}
	ids := make([]int64, len(sent))
	at := make([]string, len(sent))
	refs := make([]string, len(sent))
	segs := make([]int64, len(sent))
	for i, x := range sent {
		ids[i], at[i], refs[i], segs[i] = x.DeliveryID, x.At.Format(time.RFC3339Nano), x.ProviderRef, int64(x.Segments)
	}
	if _, err := s.exec(ctx, "mark-sent", pq.Array(ids), pq.Array(at), pq.Array(refs), pq.Array(segs)); err != nil {
		return fmt.Errorf("mark %d deliveries sent: %w", len(sent), err)
	}
	return nil
}

// MarkFailed records a delivery as failed for good, with the reason.
func (s *Store) MarkFailed(ctx context.Context, deliveryID int64, reason string) error {
	if _, err := s.db.ExecContext(ctx, s.q("mark-final"), deliveryID, campaigns.DeliveryFailed, reason); err != nil {
		return fmt.Errorf("mark delivery %d failed: %w", deliveryID, err)
	}
	return nil
}

// MarkRetry records a transient failure of a queued delivery: one attempt more, the reason, and its
// next attempt after the delay, by the database's clock. It returns the time of that attempt, or the
// zero time when the delivery is no longer queued (cancelled while it was in hand).
func (s *Store) MarkRetry(ctx context.Context, deliveryID int64, after time.Duration, reason string) (time.Time, error) {
	var next time.Time
	err := s.db.GetContext(ctx, &next, s.q("mark-retry"), deliveryID, after.Seconds(), reason)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("mark delivery %d for a retry: %w", deliveryID, err)
	}
	return next, nil
}

// MarkSkipped records deliveries as skipped, each with its reason, in one statement.
func (s *Store) MarkSkipped(ctx context.Context, ids []int64, reasons []campaigns.SkipReason) error {
	rs := make([]string, len(reasons))
	for i, r := range reasons {
		rs[i] = string(r)
	}
	if _, err := s.exec(ctx, "mark-skipped-many", pq.Array(ids), pq.Array(rs)); err != nil {
		return fmt.Errorf("mark %d deliveries skipped: %w", len(ids), err)
	}
	return nil
}

// SuppressBounce puts the member's address on the channel (email or sms) on the suppression list.
func (s *Store) SuppressBounce(ctx context.Context, memberID int64, ch campaigns.Channel) error {
	if _, err := s.db.ExecContext(ctx, s.q("bounce-suppress"), memberID, ch); err != nil {
		return fmt.Errorf("suppress bounced %s of member %d: %w", ch, memberID, err)
	}
	return nil
}

// exec runs a prepared statement.
func (s *Store) exec(ctx context.Context, name string, args ...any) (sql.Result, error) {
	st, err := s.stmt(ctx, name)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// selectPrepared runs a prepared query into dest.
func (s *Store) selectPrepared(ctx context.Context, dest any, name string, args ...any) error {
	st, err := s.stmt(ctx, name)
	if err != nil {
		return err
	}
	return st.SelectContext(ctx, dest, args...)
}

// MembersByPhone returns the members with the E.164 number (usually one; a family may share one).
func (s *Store) MembersByPhone(ctx context.Context, phone string) ([]int64, error) {
	var ids []int64
	if err := s.db.SelectContext(ctx, &ids, s.q("members-by-phone"), phone); err != nil {
		return nil, fmt.Errorf("members by phone: %w", err)
	}
	return ids, nil
}

// RecordDeliveryReport records a gateway's report on the SMS (or other message) with its id,
// providerRef, once per event: event names the report (the gateway, the message's id and the
// status reported); outcome is "pending", "delivered" or "failed", and reason is what a final
// outcome records ("delivery report: undelivered 30003"). The delivery's report state only moves
// forward: a sent delivery with no report or a pending one takes the outcome (failed makes it
// failed); a delivered or failed one keeps its state and reason. found is false when no delivery
// has the id (nothing is noted then, so that the gateway's retry is processed); fresh is false
// when the event was recorded before (a replay: nothing changes).
func (s *Store) RecordDeliveryReport(ctx context.Context, ch campaigns.Channel, providerRef, event, outcome, reason string) (found, fresh bool, err error) {
	switch outcome {
	case "pending", "delivered", "failed":
	default:
		return false, false, fmt.Errorf("delivery report: outcome %q: %w", outcome, campaigns.ErrInvalid)
	}
	var r struct {
		Found bool `db:"found"`
		Fresh bool `db:"fresh"`
	}
	if err := s.db.GetContext(ctx, &r, s.q("delivery-report"), ch, providerRef, event, outcome, reason); err != nil {
		return false, false, fmt.Errorf("delivery report: %w", err)
	}
	return r.Found, r.Fresh, nil
}

// HookEventSeen reports whether the SMS gateway's callback event (see RecordHookEvent) was
// recorded and is still kept.
func (s *Store) HookEventSeen(ctx context.Context, event string) (bool, error) {
	var seen bool
	if err := s.db.GetContext(ctx, &seen, s.q("hook-event-seen"), event); err != nil {
		return false, fmt.Errorf("sms hook event: %w", err)
	}
	return seen, nil
}

// RecordHookEvent notes that the SMS gateway's inbound message event ("twilio/inbound/SM…") was
// processed, for a year: HookEventSeen then reports it, and a replay changes nothing. Recording
// an event twice is not an error.
func (s *Store) RecordHookEvent(ctx context.Context, event string) error {
	if _, err := s.db.ExecContext(ctx, s.q("record-hook-event"), event); err != nil {
		return fmt.Errorf("record sms hook event: %w", err)
	}
	return nil
}
