// Package scheduler is the daemon that turns due campaigns into work: it starts runs when their time
// comes (one-off or cron, in the configured time zone), selects the members who may be reached on each
// channel into the delivery ledger, enqueues the ledger's batches into Redis, enqueues again the
// batches whose tasks were lost and those whose deliveries waiting for a retry are due, and marks
// runs finished when every delivery is final.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/campaignfile"
)

// Store is what the scheduler needs of the store (campaigns/postgres implements it).
type Store interface {
	// AcquireLeadership tries to become the one active scheduler. held reports success; release gives
	// the leadership up. A scheduler whose process dies loses it with its database connection.
	AcquireLeadership(ctx context.Context) (held bool, release func(), err error)
	StartDueRuns(ctx context.Context, now time.Time, next campaigns.NextRunFunc) ([]int64, error)
	RunsToSelect(ctx context.Context) ([]int64, error)
	SelectRun(ctx context.Context, runID int64, opt campaigns.SelectOptions) (campaigns.SelectResult, error)
	// BatchesToEnqueue returns up to limit batches of sending runs, not done and not held by a
	// worker, that were never enqueued or were enqueued before staleBefore (their task may be lost),
	// leaving out those on the channels in waiting and those that wait for a retry (BatchesToRetry).
	BatchesToEnqueue(ctx context.Context, staleBefore time.Time, limit int, waiting []campaigns.Channel) ([]campaigns.Batch, error)
	// BatchesToRetry returns up to limit batches that a worker gave back with deliveries waiting for
	// a retry after transient failures, whose first retry is due and that were not enqueued since;
	// with the same exclusions as BatchesToEnqueue otherwise.
	BatchesToRetry(ctx context.Context, limit int, waiting []campaigns.Channel) ([]campaigns.Batch, error)
	MarkEnqueued(ctx context.Context, batches []campaigns.Batch, generations []int) error
	FinishRuns(ctx context.Context) ([]int64, error)
}

// Queue is where batches go (RedisQueue implements it). Enqueue returns the generation of the task
// it created, or 0 when the batch's task is already in the queue.
type Queue interface {
	Enqueue(ctx context.Context, b campaigns.Batch) (generation int, err error)
}

// Config tunes the scheduler. Zero values take the defaults given.
type Config struct {
	// Interval between passes. Default 2s.
	Interval time.Duration
	// StaleAfter is how long a batch may stay enqueued and not done before the scheduler checks the
	// queue for its task and enqueues it again if it is gone. Default 2m.
	StaleAfter time.Duration
	// Location is the time zone of cron schedules. Default Europe/Helsinki.
	Location *time.Location
	// Select sets the batch sizes of the selection.
	Select campaigns.SelectOptions
	// EnqueueChunk is how many batches are read and enqueued at a time. Default 1000.
	EnqueueChunk int
	// Clock tells the time. Default time.Now; tests set it to walk through cron ticks.
	Clock func() time.Time
	// QuietHours is when SMS batches are not enqueued (they wait for the morning). Zero: never.
	QuietHours campaigns.QuietHours
	// Wake, when set, makes a pass at once whenever it receives: the store's notifications of a
	// campaign scheduled, paused, resumed or cancelled (postgres.Store.ListenForWork). The Interval's
	// timer goes on beside it, for what no notification says (a cron tick, a retry due, a lost task).
	Wake <-chan struct{}
}

// Validate fills defaults and checks the values.
func (c *Config) Validate() error {
	if c.Interval == 0 {
		c.Interval = 2 * time.Second
	}
	if c.StaleAfter == 0 {
		c.StaleAfter = 2 * time.Minute
	}
	if c.Location == nil {
		loc, err := time.LoadLocation("Europe/Helsinki")
		if err != nil {
			return fmt.Errorf("scheduler: %w", err)
		}
		c.Location = loc
	}
	if c.EnqueueChunk == 0 {
		c.EnqueueChunk = 1000
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Interval < 0 || c.StaleAfter < 0 || c.EnqueueChunk < 0 {
		return errors.New("scheduler: negative interval, stale-after or chunk")
	}
	return nil
}

// Scheduler is the daemon. Create it with New.
type Scheduler struct {
	cfg   Config
	store Store
	queue Queue
	log   *slog.Logger
}

// New returns a scheduler, or an error if cfg is invalid.
func New(cfg Config, store Store, queue Queue, log *slog.Logger) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Scheduler{cfg: cfg, store: store, queue: queue, log: log}, nil
}

// NextRun is the campaigns.NextRunFunc of this scheduler's time zone: the next cron tick after
// `after`, or nil for a one-off campaign.
func (s *Scheduler) NextRun(spec campaigns.Spec, after time.Time) (*time.Time, error) {
	return NextRun(spec, after, s.cfg.Location)
}

// NextRun returns the first cron tick of spec strictly after `after` in loc, or nil when the campaign
// does not recur.
func NextRun(spec campaigns.Spec, after time.Time, loc *time.Location) (*time.Time, error) {
	if spec.Schedule.Cron == "" {
		return nil, nil
	}
	sched, err := campaignfile.CronParser.Parse(spec.Schedule.Cron)
	if err != nil {
		return nil, err
	}
	t := sched.Next(after.In(loc))
	return &t, nil
}

// Run makes passes until ctx is cancelled (SIGTERM), then returns nil after the current pass.
// Only the scheduler holding the leadership works; the others wait to take over.
func (s *Scheduler) Run(ctx context.Context) error {
	var release func()
	defer func() {
		if release != nil {
			release()
		}
	}()
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if release == nil {
			held, rel, err := s.store.AcquireLeadership(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Error("scheduler: leadership", "err", err)
			case held:
				release = rel
				s.log.Info("scheduler: leading")
			}
		}
		if release != nil {
			if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("scheduler: pass failed", "err", err)
				// The leadership's connection may be what failed: give it up and take it again.
				release()
				release = nil
			}
		}
		select {
		case <-ctx.Done():
			s.log.Info("scheduler: stopping")
			return nil
		case <-t.C:
		case <-s.cfg.Wake:
		}
	}
}

// Tick makes one pass: start due runs, select new runs, enqueue batches (new ones, lost ones, and
// those due for a retry), finish runs whose deliveries are all final. It is safe to call from
// several processes at once.
func (s *Scheduler) Tick(ctx context.Context) error {
	started, err := s.store.StartDueRuns(ctx, s.cfg.Clock(), s.NextRun)
	if err != nil {
		return err
	}
	for _, id := range started {
		s.log.Info("run started", slog.Int64("run_id", id))
	}
	toSelect, err := s.store.RunsToSelect(ctx)
	if err != nil {
		return err
	}
	for _, id := range toSelect {
		if err := s.selectRun(ctx, id); err != nil {
			return err
		}
	}
	if err := s.enqueue(ctx); err != nil {
		return err
	}
	finished, err := s.store.FinishRuns(ctx)
	if err != nil {
		return err
	}
	for _, id := range finished {
		s.log.Info("run finished", slog.Int64("run_id", id))
	}
	return nil
}

// selectRun selects a run slice by slice, enqueueing the batches of each slice as soon as it is
// recorded, so that the workers start on the first members while the rest are being selected.
func (s *Scheduler) selectRun(ctx context.Context, id int64) error {
	t0 := time.Now()
	var total int64
	for ctx.Err() == nil {
		res, err := s.store.SelectRun(ctx, id, s.cfg.Select)
		if err != nil {
			return err
		}
		if !res.Selected {
			return nil // another scheduler has it
		}
		total += res.Deliveries
		if res.Done {
			s.log.Info("run selected", slog.Int64("run_id", id), slog.Int64("deliveries", total),
				slog.Any("skipped", res.Skipped), slog.Duration("took", time.Since(t0)))
			return nil
		}
		if err := s.enqueue(ctx); err != nil {
			return err
		}
	}
	return nil
}

// enqueue puts every batch that needs it into the queue, a chunk at a time: new batches, batches
// whose task went missing, and batches whose deliveries waiting for a retry are due.
func (s *Scheduler) enqueue(ctx context.Context) error {
	now := s.cfg.Clock()
	staleBefore := now.Add(-s.cfg.StaleAfter)
	var waiting []campaigns.Channel
	if s.cfg.QuietHours.Contains(now) {
		waiting = append(waiting, campaigns.SMS)
	}
	for {
		batches, err := s.store.BatchesToEnqueue(ctx, staleBefore, s.cfg.EnqueueChunk, waiting)
		if err != nil {
			return err
		}
		if len(batches) == 0 {
			break
		}
		created, err := s.enqueueChunk(ctx, batches)
		if err != nil {
			return err
		}
		if again := countEnqueuedBefore(batches, created); again > 0 {
			s.log.Warn("batches enqueued again: their tasks were missing from the queue", slog.Int("batches", again))
		}
		if len(batches) < s.cfg.EnqueueChunk {
			break
		}
	}
	for {
		batches, err := s.store.BatchesToRetry(ctx, s.cfg.EnqueueChunk, waiting)
		if err != nil || len(batches) == 0 {
			return err
		}
		created, err := s.enqueueChunk(ctx, batches)
		if err != nil {
			return err
		}
		if n := countEnqueuedBefore(batches, created); n > 0 {
			s.log.Info("batches enqueued again: deliveries waiting for a retry are due", slog.Int("batches", n))
		}
		if len(batches) < s.cfg.EnqueueChunk {
			return nil
		}
	}
}

// enqueueChunk puts the batches into the queue and records them enqueued, returning per batch the
// generation of the task created (0: its task was there already). It returns the queue's or the
// store's error; the batches enqueued before the queue failed are recorded first.
func (s *Scheduler) enqueueChunk(ctx context.Context, batches []campaigns.Batch) ([]int, error) {
	generations := make([]int, len(batches))
	for i, b := range batches {
		gen, err := s.queue.Enqueue(ctx, b)
		if err != nil {
			// Mark what went in before failing, so it is not looked at again at once.
			if merr := s.store.MarkEnqueued(ctx, batches[:i], generations[:i]); merr != nil {
				s.log.Error("scheduler: mark enqueued", "err", merr)
			}
			return nil, err
		}
		generations[i] = gen
	}
	return generations, s.store.MarkEnqueued(ctx, batches, generations)
}

// countEnqueuedBefore counts the batches that had been enqueued before and got a new task now.
func countEnqueuedBefore(batches []campaigns.Batch, generations []int) int {
	n := 0
	for i, b := range batches {
		if generations[i] > 0 && b.EnqueuedAt != nil {
			n++
		}
	}
	return n
}

// FirstRun says when a campaign being scheduled runs first: at when given (--at), else the spec's
// schedule.at, else the spec's first cron tick after now, else now.
func FirstRun(spec campaigns.Spec, at string, now time.Time, loc *time.Location) (time.Time, error) {
	switch {
	case at != "":
		return campaigns.ParseAt(at, loc)
	case spec.Schedule.At != "":
		return campaigns.ParseAt(spec.Schedule.At, loc)
	case spec.Schedule.Cron != "":
		next, err := NextRun(spec, now, loc)
		if err != nil {
			return time.Time{}, err
		}
		return *next, nil
	}
	return now, nil
}
