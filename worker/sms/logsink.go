package sms

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
)

// logSender is log://, the development and demo sink: one line per message to its own writer.
//
// The line holds the phone number and the text, which are personal data. That is allowed only
// because log:// is a sink the operator configures explicitly for local development and the demo
// (dispatch demo writes it to ./demo-out/sms.log); it writes to Config.Log, never to slog or the
// application log, and must never be used in production.
type logSender struct {
	mu sync.Mutex
	w  io.Writer
}

// Send writes `sms to=+358401234567 segments=1 encoding=GSM-7 delivery=123 text="..."`; the
// ProviderRef is "log-<delivery id>". A failed write is transient.
func (s *logSender) Send(_ context.Context, m compose.Message) (worker.Receipt, error) {
	enc, segments, err := prepare(m)
	if err != nil {
		return worker.Receipt{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := fmt.Fprintf(s.w, "sms to=%s segments=%d encoding=%s delivery=%d text=%s\n",
		m.To, segments, enc, m.DeliveryID, strconv.Quote(m.Content.Text)); err != nil {
		return worker.Receipt{}, fmt.Errorf("sms log for delivery %d: write: %w", m.DeliveryID, err)
	}
	return worker.Receipt{ProviderRef: "log-" + strconv.FormatInt(m.DeliveryID, 10), Segments: segments}, nil
}
