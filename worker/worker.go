// Package worker runs the asynq handlers that send a campaign's messages: it leases a batch of
// deliveries, re-checks each member's consent, issues coupon codes, renders and sends through the
// channel's Sender, and records every outcome in the delivery ledger. It also declares the task
// types and their constructors, by which the scheduler enqueues work.
//
// The files follow the work: contracts.go declares what the worker consumes (Sender, PrintSender,
// Store, Limiter, Metrics); worker.go leases a batch and reads its run; send.go sends email and SMS;
// retry.go defers a delivery that failed transiently to a later attempt of its own; print.go writes
// postal batches; recheck.go re-checks members and issues coupons just before a send; server.go runs
// the asynq server; tasks.go holds the task types and payloads.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/worker/compose"
)

// Config tunes a worker. Zero values take the defaults given.
type Config struct {
	// Owner names this worker in batch leases, each followed by "#n", the number of the batch's
	// handling in this process. Default hostname:pid.
	Owner string
	// LeaseTTL is how long a batch stays held without renewal; a worker killed while sending hands
	// its batch over after this. Default 60s.
	LeaseTTL time.Duration
	// CheckEvery is the size of a chunk: how many messages are re-checked (consent, suppression, run
	// paused) in one query just before they are sent. Smaller is a tighter window between check and
	// send. Default 20.
	CheckEvery int
	// RecordEvery is how long the first sent message handed to the ledger waits for those of the
	// other batches before they are written together in one statement (a group commit; record.go).
	// Messages handed over while a statement runs wait for the next one anyway. A batch sends its
	// next message only once its previous one is written, so a worker killed with SIGKILL leaves at
	// most one message per batch in flight unrecorded (sent again), and longer is fewer statements
	// but a slower batch. Default 3ms; negative: no wait.
	RecordEvery time.Duration
	// QuietHours is when no SMS is sent: a batch met in them is given back until the morning. Zero:
	// never quiet.
	QuietHours campaigns.QuietHours
	// Timezone is DISPATCH_TIMEZONE: a coupon is valid to the end of its last day there. Default
	// Europe/Helsinki.
	Timezone *time.Location
	// MaxAttempts is how many times a delivery is tried while every try fails transiently (an SMTP
	// 4xx, a dropped connection, a gateway's 429 or 5xx): the failure of the last one fails the
	// delivery for good, with the reason "gave up after N attempts: transient...". 1: a transient
	// failure is never retried. Default 8 (with the default backoff, the last try comes about an
	// hour after the first).
	MaxAttempts int
	// RetryBackoff is how long a delivery waits after its first transient failure; the wait doubles
	// after each failure that follows, up to MaxRetryBackoff, and is shortened by up to a fifth at
	// random, so that deliveries that failed together are not tried again all at once. Meanwhile
	// the batch goes on without it. Default 30s (then 1m, 2m, 4m ...).
	RetryBackoff time.Duration
	// MaxRetryBackoff caps the wait between two tries of a delivery. Default 30m; never less than
	// RetryBackoff.
	MaxRetryBackoff time.Duration
}

// Validate fills the defaults. Every field has a usable zero value, so it never fails; it returns an
// error to keep the signature of the other components' Validate.
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
	if c.RecordEvery == 0 {
		c.RecordEvery = 3 * time.Millisecond
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 30 * time.Second
	}
	if c.MaxRetryBackoff <= 0 {
		c.MaxRetryBackoff = 30 * time.Minute
	}
	c.MaxRetryBackoff = max(c.MaxRetryBackoff, c.RetryBackoff)
	if c.Timezone == nil {
		loc, err := time.LoadLocation("Europe/Helsinki")
		if err != nil {
			return fmt.Errorf("worker: Timezone: %w", err)
		}
		c.Timezone = loc
	}
	return nil
}

// Worker sends batches. Create it with New; its Handler serves asynq, and ProcessBatch handles one
// task. It is safe for concurrent use: asynq runs many batches at once on one Worker.
type Worker struct {
	cfg      Config
	store    Store
	senders  map[campaigns.Channel]Sender
	printer  PrintSender
	compose  *compose.Composer
	limiter  Limiter
	log      *slog.Logger
	stopping atomic.Bool
	leases   atomic.Int64 // numbers the lease owner of each batch handled
	metrics  Metrics
	recorder *sentRecorder
	// printing lets one print batch at a time be built: a 5,000-page PDF is built in memory.
	printing chan struct{}
}

// New returns a worker composing messages with composer, sending email and SMS through senders (one
// per channel it serves) and letters through printer (nil: no postal channel). limiter (nil: no
// rate limit) and metrics (nil: nothing counted) are optional. It fails when composer is nil.
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
		metrics: metrics, log: log, printing: make(chan struct{}, 1),
		recorder: newSentRecorder(store, max(cfg.RecordEvery, 0), log)}, nil
}

// Handler routes the deliver:* task types of the channels the worker serves to ProcessBatch. A task
// of another channel is refused by asynq's mux (a "handler not found" error).
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
// and its task is retried later. Called on SIGTERM before the asynq server shuts down; a stopped
// worker does not start again.
func (w *Worker) Stop() { w.stopping.Store(true) }

// Drain waits until every message sent is written to the ledger, or ctx ends: called after the
// asynq server has shut down, before the process exits.
func (w *Worker) Drain(ctx context.Context) error { return w.recorder.drain(ctx) }

// errStopping is returned when a batch is given back because the worker is stopping: transient, so
// asynq keeps the task and it runs again elsewhere.
var errStopping = errors.New("worker stopping: batch given back")

// errLeased is returned when another worker holds the batch: transient, so the task is retried after
// a backoff and finds the batch done or its lease expired.
var errLeased = errors.New("batch is held by another worker")

// ProcessBatch is the asynq handler of every deliver:* task: it leases the task's batch, sends its
// queued deliveries that are due (send.go, print.go) and gives the lease back, marking the batch
// done when no delivery of it is queued any more. A delivery that fails transiently waits for its
// own next attempt (retryLater) while the batch goes on; the batch then stays open, and the
// scheduler enqueues it again when the first waiting delivery is due. It returns nil when the batch
// is done, waits for retries, or waits for something the scheduler acts on (a paused run, SMS quiet
// hours); an error wrapping asynq.SkipRetry for a bad payload or a channel it does not serve;
// errLeased when another worker holds the batch, errStopping after Stop; any other error (the
// store's, ctx ending while a message was in hand) is retried by asynq, and the retry sends only
// what is still queued.
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
	// Each handling of a task holds the lease under a name of its own: two tasks of one batch that
	// reach the same process at once (a task enqueued again while the first still ran) must not
	// both take it as "this worker's", or both send the batch.
	owner := fmt.Sprintf("%s#%d", w.cfg.Owner, w.leases.Add(1))
	lease := &batchLease{w: w, b: b, owner: owner, renewed: time.Now()}
	held, done, err := w.store.LeaseBatch(ctx, b, owner, w.cfg.LeaseTTL)
	switch {
	case err != nil:
		return err
	case done:
		return nil
	case !held:
		return errLeased
	}
	// complete: every due delivery was handled. The store then marks the batch done, or, when some
	// delivery waits for a retry, gives it the time of the first one.
	complete := false
	defer func() {
		// The lease is given back even when ctx has ended, so the batch does not wait for it to expire.
		// The failure is handled (logged) here: the batch's own outcome is what ProcessBatch returns.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		finished, err := w.store.ReleaseBatch(rctx, b, owner, complete)
		if err != nil {
			w.log.Error("release batch", slog.Int64("run_id", b.RunID), slog.String("channel", string(b.Channel)), slog.Int("batch", b.Batch), "err", err)
		}
		if finished {
			w.log.Info("run finished", slog.Int64("run_id", b.RunID))
		}
	}()
	run, err := w.store.RunForWorker(ctx, b.RunID)
	if errors.Is(err, campaigns.ErrNotFound) {
		complete = true
		return nil
	}
	if err != nil {
		return err
	}
	if !run.Status.Sending() {
		// Paused: resume enqueues the batch again. Cancelled: cancel marked it done.
		complete = run.Status != campaigns.RunPaused
		return nil
	}
	deliveries, err := w.store.BatchDeliveries(ctx, b)
	if err != nil {
		return err
	}
	if b.Channel == campaigns.Postal {
		complete, err = w.printBatch(ctx, b, run, deliveries)
	} else {
		complete, err = w.sendBatch(ctx, lease, run, deliveries, sender)
	}
	return err
}
