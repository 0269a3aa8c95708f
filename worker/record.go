package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// sentRecorder records the messages the worker's batches send, all batches together, in few
// statements (a group commit): a message is handed over as soon as the server has accepted it, and
// the handovers of every batch that arrive while one statement runs, or within Config.RecordEvery
// of the first, go into the next one.
//
// A batch waits for the statement holding its previous message before it sends the next one
// (sendChunk), so that each batch has at most one message out and not yet in the ledger: a worker
// killed with SIGKILL leaves at most Concurrency messages that the ledger still shows queued and
// that are sent again, never a chunk per batch.
//
// A statement that fails (the database restarting) is tried again, with a growing pause, for as
// long as the process lives: what it records is true whenever it is written, and mark-sent leaves a
// delivery that was sent meanwhile as it is. The batches waiting for it wait (or give up with their
// context); nothing is dropped.
type sentRecorder struct {
	store Store
	log   *slog.Logger
	// linger is how long the first handover of a statement waits for others (Config.RecordEvery).
	linger time.Duration

	mu       sync.Mutex
	next     *sentGroup // the handovers for the next statement
	flushing bool       // a goroutine writes statements (flushLoop)
	idle     *sync.Cond // signalled when flushing ends
}

// sentGroup is the messages recorded by one statement; done is closed when it is written.
type sentGroup struct {
	sent []campaigns.Sent
	done chan struct{}
}

func newSentRecorder(store Store, linger time.Duration, log *slog.Logger) *sentRecorder {
	r := &sentRecorder{store: store, linger: linger, log: log}
	r.idle = sync.NewCond(&r.mu)
	return r
}

// add hands a sent message over and returns the group it is written with.
func (r *sentRecorder) add(s campaigns.Sent) *sentGroup {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next == nil {
		r.next = &sentGroup{done: make(chan struct{})}
	}
	g := r.next
	g.sent = append(g.sent, s)
	if !r.flushing {
		r.flushing = true
		go r.flushLoop()
	}
	return g
}

// wait returns when the group is written, or ctx's error when ctx ends first. A nil group is
// written.
func (g *sentGroup) wait(ctx context.Context) error {
	if g == nil {
		return nil
	}
	select {
	case <-g.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flushLoop writes groups one statement at a time until none is waiting.
func (r *sentRecorder) flushLoop() {
	for {
		if r.linger > 0 {
			time.Sleep(r.linger)
		}
		r.mu.Lock()
		g := r.next
		r.next = nil
		if g == nil {
			r.flushing = false
			r.idle.Broadcast()
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		r.write(g)
		close(g.done)
	}
}

// write records the group, trying again until the store takes it.
func (r *sentRecorder) write(g *sentGroup) {
	pause := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := r.store.MarkSent(context.Background(), g.sent)
		if err == nil {
			if attempt > 1 {
				r.log.Info("sent messages recorded after the ledger failed", slog.Int("messages", len(g.sent)), slog.Int("attempts", attempt))
			}
			return
		}
		r.log.Error("record sent messages: trying again", slog.Int("messages", len(g.sent)),
			slog.Int64("first_delivery_id", g.sent[0].DeliveryID), slog.Int("attempt", attempt),
			slog.Duration("pause", pause), "err", err)
		time.Sleep(pause)
		pause = min(2*pause, 5*time.Second)
	}
}

// drain waits until every message handed over is written, or ctx ends.
func (r *sentRecorder) drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		r.mu.Lock()
		for r.flushing {
			r.idle.Wait()
		}
		r.mu.Unlock()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
