package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker/compose"
)

// Receipt is what a Sender reports of a sent message.
type Receipt struct {
	// ProviderRef is the provider's id of the message (the Message-ID, an SMS gateway's id).
	ProviderRef string
	// Segments is the number of SMS segments; 0 for email.
	Segments int
}

// Sender sends one message on its channel. An error wrapping ErrPermanent means the message can
// never be delivered (SMTP 5xx for the recipient, an invalid number): the delivery fails. Any other
// error is transient: the batch is retried later, and what was sent stays sent.
type Sender interface {
	Send(ctx context.Context, m compose.Message) (Receipt, error)
}

// ErrPermanent marks a failure that retrying cannot mend.
var ErrPermanent = errors.New("permanent failure")

// ErrBounce marks a permanent failure that says the address itself is bad (a hard bounce): the
// address is put on the suppression list. It wraps ErrPermanent.
var ErrBounce = fmt.Errorf("hard bounce: %w", ErrPermanent)

// Store is what the worker needs of the store (campaigns/postgres implements it).
type Store interface {
	LeaseBatch(ctx context.Context, b campaigns.Batch, owner string, ttl time.Duration) (held, done bool, err error)
	ReleaseBatch(ctx context.Context, b campaigns.Batch, owner string, done bool) error
	RunForWorker(ctx context.Context, runID int64) (campaigns.Run, error)
	BatchDeliveries(ctx context.Context, b campaigns.Batch) ([]campaigns.Delivery, error)
	Recheck(ctx context.Context, deliveryIDs []int64) ([]campaigns.Recheck, error)
	IssueCoupons(ctx context.Context, deliveryIDs []int64, discount string, validDays int, newCode func() (string, error)) (map[int64]campaigns.IssuedCoupon, error)
	MarkSent(ctx context.Context, sent []campaigns.Sent) error
	MarkFailed(ctx context.Context, deliveryID int64, reason string) error
	MarkSkipped(ctx context.Context, ids []int64, reasons []campaigns.SkipReason) error
	SuppressBounce(ctx context.Context, memberID int64, ch campaigns.Channel) error
}

// Limiter holds sends to a rate shared by all workers. Wait blocks until n more messages may go on
// the channel, or ctx ends.
type Limiter interface {
	Wait(ctx context.Context, ch campaigns.Channel, n int) error
}

// Config tunes a worker. Zero values take the defaults given.
type Config struct {
	// Owner names this worker in batch leases. Default hostname:pid.
	Owner string
	// LeaseTTL is how long a batch stays held without renewal; a worker killed while sending hands
	// its batch over after this. Default 60s.
	LeaseTTL time.Duration
	// CheckEvery is the size of a chunk: how many messages are re-checked (consent, suppression, run
	// paused) in one query just before they are sent, and recorded as sent in one statement after.
	// Smaller is a tighter window between check and send, and fewer messages sent again when a worker
	// is killed mid-chunk (at most CheckEvery per batch in flight). Default 20.
	CheckEvery int
	// QuietHours is when no SMS is sent: a batch met in them is given back until the morning.
	QuietHours campaigns.QuietHours
}

// Validate fills defaults and checks the required fields.
func (c *Config) Validate() error {
	if c.Owner == "" {
		host, _ := os.Hostname()
		c.Owner = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = time.Minute
	}
	if c.CheckEvery <= 0 {
		c.CheckEvery = 20
	}
	return nil
}

// Worker sends batches. Create it with New; its Handler serves asynq.
type Worker struct {
	cfg      Config
	store    Store
	senders  map[campaigns.Channel]Sender
	printer  PrintSender
	compose  *compose.Composer
	limiter  Limiter
	log      *slog.Logger
	stopping atomic.Bool
	metrics  Metrics
	// printing lets one print batch at a time be built: a 5,000-page PDF is built in memory.
	printing chan struct{}
}

// Outcome is what became of messages a worker handled: a final delivery status, or retried.
type Outcome string

// The outcomes counted by Metrics.
const (
	OutcomeSent    = Outcome(campaigns.DeliverySent)
	OutcomeFailed  = Outcome(campaigns.DeliveryFailed)
	OutcomeSkipped = Outcome(campaigns.DeliverySkipped)
	// OutcomeRetried: a transient failure; the message is tried again later.
	OutcomeRetried Outcome = "retried"
)

// Metrics receives counts of outcomes.
type Metrics interface {
	Outcome(ch campaigns.Channel, o Outcome, n int)
}

type nopMetrics struct{}

func (nopMetrics) Outcome(campaigns.Channel, Outcome, int) {}

// New returns a worker composing messages with composer, sending email and SMS through senders (one
// per channel it serves) and letters through printer (nil: no postal channel). limiter and metrics
// may be nil.
func New(cfg Config, store Store, senders map[campaigns.Channel]Sender, printer PrintSender, composer *compose.Composer, limiter Limiter, metrics Metrics, log *slog.Logger) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if composer == nil {
		return nil, errors.New("worker: a composer is required")
	}
	if metrics == nil {
		metrics = nopMetrics{}
	}
	return &Worker{cfg: cfg, store: store, senders: senders, printer: printer, compose: composer, limiter: limiter,
		metrics: metrics, log: log, printing: make(chan struct{}, 1)}, nil
}

// Handler routes the deliver:* task types to the worker.
func (w *Worker) Handler() asynq.Handler {
	mux := asynq.NewServeMux()
	for ch := range w.senders {
		_, typ := QueueOf(ch)
		mux.HandleFunc(typ, w.ProcessBatch)
	}
	if w.printer != nil {
		mux.HandleFunc(TypeDeliverPostal, w.ProcessBatch)
	}
	return mux
}

// Stop makes running batches stop after the message in hand: it is recorded, the batch is given back
// and its task is retried later. Called on SIGTERM before the asynq server shuts down.
func (w *Worker) Stop() { w.stopping.Store(true) }

// errStopping is returned when a batch is given back because the worker is stopping: transient, so
// asynq keeps the task and it runs again elsewhere.
var errStopping = errors.New("worker stopping: batch given back")

// errLeased is returned when another worker holds the batch: transient, so the task is retried after
// a backoff and finds the batch done or its lease expired.
var errLeased = errors.New("batch is held by another worker")

// ProcessBatch is the asynq handler of every deliver:* task.
func (w *Worker) ProcessBatch(ctx context.Context, t *asynq.Task) error {
	p, err := ParseBatchPayload(t)
	if err != nil {
		return err
	}
	b := campaigns.Batch{RunID: p.RunID, Channel: p.Channel, Batch: p.Batch}
	sender, ok := w.senders[b.Channel]
	if !ok && !(b.Channel == campaigns.Postal && w.printer != nil) {
		return fmt.Errorf("no sender for channel %s: %w", b.Channel, asynq.SkipRetry)
	}
	held, done, err := w.store.LeaseBatch(ctx, b, w.cfg.Owner, w.cfg.LeaseTTL)
	switch {
	case err != nil:
		return err
	case done:
		return nil
	case !held:
		return errLeased
	}
	finished := false
	defer func() {
		// The lease is given back even when ctx has ended, so the batch does not wait for it to expire.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := w.store.ReleaseBatch(rctx, b, w.cfg.Owner, finished); err != nil {
			w.log.Error("release batch", slog.Int64("run_id", b.RunID), slog.String("channel", string(b.Channel)), slog.Int("batch", b.Batch), "err", err)
		}
	}()
	run, err := w.store.RunForWorker(ctx, b.RunID)
	if errors.Is(err, campaigns.ErrNotFound) {
		finished = true
		return nil
	}
	if err != nil {
		return err
	}
	if !run.Status.Sending() {
		// Paused: resume enqueues the batch again. Cancelled: cancel marked it done.
		finished = run.Status != campaigns.RunPaused
		return nil
	}
	deliveries, err := w.store.BatchDeliveries(ctx, b)
	if err != nil {
		return err
	}
	if b.Channel == campaigns.Postal {
		finished, err = w.printBatch(ctx, b, run, deliveries)
	} else {
		finished, err = w.sendBatch(ctx, b, run, deliveries, sender)
	}
	return err
}

// printBatch writes a batch of letters as one print batch: every letter re-checked, its coupon
// issued, rendered, the whole batch written at once, and every letter recorded sent with the
// batch's file as its reference. A batch written again (after a crash before the record) replaces
// its files whole, with the same codes.
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
	if err != nil {
		return false, fmt.Errorf("print batch %d of run %d: %w", b.Batch, b.RunID, err)
	}
	now := time.Now()
	sent := make([]campaigns.Sent, len(letters))
	for i, l := range letters {
		sent[i] = campaigns.Sent{DeliveryID: l.DeliveryID, At: now, ProviderRef: ref}
	}
	if err := w.store.MarkSent(context.WithoutCancel(ctx), sent); err != nil {
		return false, err
	}
	w.metrics.Outcome(campaigns.Postal, OutcomeSent, len(sent))
	w.log.Info("print batch written", slog.Int64("run_id", b.RunID), slog.Int("batch", b.Batch), slog.Int("letters", len(sent)), slog.String("file", ref))
	return true, nil
}

// sendBatch sends the batch's queued deliveries one by one, in chunks; finished says the batch needs
// no more work.
func (w *Worker) sendBatch(ctx context.Context, b campaigns.Batch, run campaigns.Run, deliveries []campaigns.Delivery, sender Sender) (finished bool, err error) {
	// keepLease renews the lease when a third of it has passed: called before every message, so that
	// a slow chunk (a low send rate) never outlives it and lets another worker in beside this one.
	leased := time.Now()
	keepLease := func() error {
		if time.Since(leased) < w.cfg.LeaseTTL/3 {
			return nil
		}
		held, _, err := w.store.LeaseBatch(ctx, b, w.cfg.Owner, w.cfg.LeaseTTL)
		if err != nil {
			return err
		}
		if !held {
			return errLeased // lost: another worker has the batch now
		}
		leased = time.Now()
		return nil
	}
	for start := 0; start < len(deliveries); start += w.cfg.CheckEvery {
		if w.stopping.Load() {
			return false, errStopping
		}
		if b.Channel == campaigns.SMS && w.cfg.QuietHours.Contains(time.Now()) {
			// Quiet hours: the batch waits, unfinished; the scheduler enqueues it again after them.
			w.log.Info("quiet hours: SMS batch waits for the morning", slog.Int64("run_id", b.RunID), slog.Int("batch", b.Batch))
			return false, nil
		}
		if err := keepLease(); err != nil {
			return false, err
		}
		chunk := deliveries[start:min(start+w.cfg.CheckEvery, len(deliveries))]
		paused, err := w.sendChunk(ctx, run, chunk, sender, keepLease)
		if err != nil || paused {
			return false, err
		}
	}
	return true, nil
}

// sendChunk re-checks a few deliveries just before sending them, issues their coupons, and sends.
// paused reports that the run stopped running: the rest of the batch waits.
func (w *Worker) sendChunk(ctx context.Context, run campaigns.Run, chunk []campaigns.Delivery, sender Sender, keepLease func() error) (paused bool, err error) {
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
	// What was sent is recorded once for the chunk, and recorded even when a later message of the
	// chunk fails or ctx ends: the messages are out, and the ledger must say so.
	sent := make([]campaigns.Sent, 0, len(send))
	defer func() {
		if rerr := w.store.MarkSent(context.WithoutCancel(ctx), sent); rerr != nil && err == nil {
			err = rerr
		}
		w.metrics.Outcome(chunk[0].Channel, OutcomeSent, len(sent))
	}()
	for _, d := range send {
		if w.stopping.Load() {
			return false, errStopping // what this chunk sent so far is recorded by the deferred MarkSent
		}
		if w.limiter != nil {
			// Per message, so that a slow rate never holds a whole chunk (and the lease) waiting.
			if err := w.limiter.Wait(ctx, d.Channel, 1); err != nil {
				return false, err
			}
		}
		if err := keepLease(); err != nil {
			return false, err
		}
		var coupon *campaigns.IssuedCoupon
		if c, ok := coupons[d.ID]; ok {
			coupon = &c
		}
		rcpt, ok, err := w.sendOne(ctx, run, d, coupon, sender)
		if err != nil {
			return false, err
		}
		if ok {
			sent = append(sent, campaigns.Sent{DeliveryID: d.ID, At: time.Now(), ProviderRef: rcpt.ProviderRef, Segments: rcpt.Segments})
		}
	}
	return false, nil
}

// recheck asks the store, just before sending, whether each delivery's member may still be reached
// on its channel and whether the run still runs. It marks the blocked ones skipped with their reason
// and returns the others; paused reports that the run stopped.
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

// issueCoupons gives each delivery of a coupon campaign its code (once: a retried task gets the
// same codes); for a newsletter it returns nil.
func (w *Worker) issueCoupons(ctx context.Context, run campaigns.Run, send []campaigns.Delivery) (map[int64]campaigns.IssuedCoupon, error) {
	if run.Spec.Kind != campaigns.KindCoupon || run.Spec.Coupon == nil || len(send) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(send))
	for i, d := range send {
		ids[i] = d.ID
	}
	return w.store.IssueCoupons(ctx, ids, run.Spec.Coupon.Discount, run.Spec.Coupon.ValidDays, campaigns.NewCouponCode)
}

// sendOne renders and sends one delivery. ok reports that the message went out (the caller records
// it). A permanent failure, or a panic, is recorded here as a failed delivery; only a transient
// failure returns an error, which retries the batch.
func (w *Worker) sendOne(ctx context.Context, run campaigns.Run, d campaigns.Delivery, coupon *campaigns.IssuedCoupon, sender Sender) (rcpt Receipt, ok bool, err error) {
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
	rcpt, err = sender.Send(ctx, msg)
	switch {
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
	default:
		w.log.Warn("transient send failure; the batch will be retried", append(attrs, "err", err)...)
		w.metrics.Outcome(d.Channel, OutcomeRetried, 1)
		return rcpt, false, err
	}
}

// Letter is one printed letter of a print batch: the member's name and address as the envelope
// window needs them, the rendered letter, and its coupon code (empty for a newsletter).
type Letter struct {
	DeliveryID int64
	Member     campaigns.Member
	Content    templates.Message
	CouponCode string
}

// PrintSender writes a whole print batch for the print house: the letters in the order given (by
// postal code), as one PDF with a CSV manifest. name is unique per (run, batch) and the same when a
// batch is written again: writing it again replaces the files whole. ref names what was written.
type PrintSender interface {
	SendBatch(ctx context.Context, name string, letters []Letter) (ref string, err error)
}
