package worker_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
)

// recordingSender is an in-process worker.Sender: it records every message it is given, and can be
// told to fail a delivery (with any error: worker.ErrPermanent, worker.ErrBounce, a transient one),
// to panic on one, and to run a hook while a message is in hand. Each failure and panic fires once,
// so a retried batch finds the delivery sendable again, unless set with failAlways. Receipts carry
// "ref-<delivery id>".
type recordingSender struct {
	mu     sync.Mutex
	calls  []compose.Message // every Send, in order, failed ones included
	sent   []compose.Message // the messages that went out
	fail   map[int64]error
	always map[int64]error
	panics map[int64]bool
	// hook runs during the n-th Send (1-based), before the outcome is returned.
	hook func(n int, m compose.Message)
}

func newRecordingSender() *recordingSender {
	return &recordingSender{fail: map[int64]error{}, always: map[int64]error{}, panics: map[int64]bool{}}
}

// failAlways makes every Send of the delivery return err, however often it is tried.
func (s *recordingSender) failAlways(deliveryID int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always[deliveryID] = err
}

// failOnce makes the next Send of the delivery return err.
func (s *recordingSender) failOnce(deliveryID int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[deliveryID] = err
}

// panicOnce makes the next Send of the delivery panic.
func (s *recordingSender) panicOnce(deliveryID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.panics[deliveryID] = true
}

// onSend sets the hook run during every Send.
func (s *recordingSender) onSend(hook func(n int, m compose.Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = hook
}

func (s *recordingSender) Send(ctx context.Context, m compose.Message) (worker.Receipt, error) {
	s.mu.Lock()
	s.calls = append(s.calls, m)
	n := len(s.calls)
	err, fails := s.fail[m.DeliveryID]
	delete(s.fail, m.DeliveryID)
	if e, ok := s.always[m.DeliveryID]; ok && !fails {
		err, fails = e, true
	}
	panics := s.panics[m.DeliveryID]
	delete(s.panics, m.DeliveryID)
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		hook(n, m)
	}
	if panics {
		panic(fmt.Sprintf("sender exploded on delivery %d", m.DeliveryID))
	}
	if fails {
		return worker.Receipt{}, err
	}
	s.mu.Lock()
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	return worker.Receipt{ProviderRef: fmt.Sprintf("ref-%d", m.DeliveryID)}, nil
}

// callIDs returns the delivery id of every Send so far, in order.
func (s *recordingSender) callIDs() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return deliveryIDs(s.calls)
}

// sentIDs returns the delivery id of every message that went out, in order.
func (s *recordingSender) sentIDs() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return deliveryIDs(s.sent)
}

// messages returns every message the sender was given for the delivery, in order.
func (s *recordingSender) messages(deliveryID int64) []compose.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []compose.Message
	for _, m := range s.calls {
		if m.DeliveryID == deliveryID {
			out = append(out, m)
		}
	}
	return out
}

func deliveryIDs(ms []compose.Message) []int64 {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.DeliveryID
	}
	return ids
}

// recordingPrinter is an in-process worker.PrintSender: it records every batch it is asked to write,
// leaving out the letters of unprintable (delivery id: reason), which it reports as worker/print does.
type recordingPrinter struct {
	mu          sync.Mutex
	batches     map[string][]worker.Letter
	writes      int
	unprintable map[int64]string
}

func (p *recordingPrinter) SendBatch(ctx context.Context, name string, letters []worker.Letter) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.batches == nil {
		p.batches = map[string][]worker.Letter{}
	}
	p.writes++
	var printed []worker.Letter
	failed := lettersNotPrinted{}
	for _, l := range letters {
		if reason, ok := p.unprintable[l.DeliveryID]; ok {
			failed[l.DeliveryID] = reason
			continue
		}
		printed = append(printed, l)
	}
	p.batches[name] = printed
	switch {
	case len(failed) == 0:
		return name + ".pdf", nil
	case len(printed) == 0:
		return "", failed
	}
	return name + ".pdf", failed
}

// lettersNotPrinted is the error of a print batch with letters left out, by delivery id, read
// through FailedLetters as worker/print's *LetterErrors is.
type lettersNotPrinted map[int64]string

func (e lettersNotPrinted) Error() string                   { return fmt.Sprintf("%d letters not printed", len(e)) }
func (e lettersNotPrinted) FailedLetters() map[int64]string { return e }

// logRecord is one log line: its level, message and attributes.
type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]any
}

// logRecorder is a slog.Handler that keeps every record, so that a test can count log lines.
type logRecorder struct {
	mu      sync.Mutex
	records []logRecord
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]any{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.Any()
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, rec)
	return nil
}

// WithAttrs and WithGroup are not used by the worker; attributes given this way are dropped.
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

// atLeast returns the records of level at least l.
func (h *logRecorder) atLeast(l slog.Level) []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []logRecord
	for _, r := range h.records {
		if r.level >= l {
			out = append(out, r)
		}
	}
	return out
}

// countingMetrics is a worker.Metrics that keeps the counts, by outcome, in memory.
type countingMetrics struct {
	mu     sync.Mutex
	counts map[worker.Outcome]int
}

func (m *countingMetrics) Outcome(_ campaigns.Channel, o worker.Outcome, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts == nil {
		m.counts = map[worker.Outcome]int{}
	}
	m.counts[o] += n
}

// count returns how many messages were counted with the outcome.
func (m *countingMetrics) count(o worker.Outcome) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[o]
}
