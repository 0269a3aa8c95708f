package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
)

// httpSender is what the gateway senders share: the endpoint, the client and the timeout.
type httpSender struct {
	e        endpoint
	client   *http.Client
	timeout  time.Duration
	log      *slog.Logger
	provider string
}

func newHTTPSender(cfg Config, e endpoint, log *slog.Logger, provider string) *httpSender {
	return &httpSender{e: e, client: cfg.HTTPClient, timeout: cfg.Timeout, log: log, provider: provider}
}

// maxResponse bounds how much of a gateway's response is read.
const maxResponse = 64 << 10

// do sends req with the timeout and returns the status and body. A failure to get a response is
// transient; its error names neither the URL nor the credentials.
func (h *httpSender) do(ctx context.Context, m compose.Message, req *http.Request) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	resp, err := h.client.Do(req.WithContext(ctx))
	if err != nil {
		// *url.Error repeats the request's URL; only the cause is kept.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, nil, fmt.Errorf("sms %s for delivery %d: no response within %s: %w", h.provider, m.DeliveryID, h.timeout, err)
		}
		return 0, nil, fmt.Errorf("sms %s for delivery %d: %s", h.provider, m.DeliveryID, redact(err.Error(), m))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil && resp.StatusCode/100 != 2 {
		return 0, nil, fmt.Errorf("sms %s for delivery %d: reading HTTP %d response: %s", h.provider, m.DeliveryID, resp.StatusCode, redact(err.Error(), m))
	}
	// A 2xx whose body was cut off still means the message was accepted: what was read is used.
	return resp.StatusCode, body, nil
}

// failure turns a gateway's refusal into an error: bounce wraps worker.ErrBounce; otherwise 429,
// 5xx, 401, 403 and every other refusal are transient (see the package comment). detail is the
// gateway's message, redacted here (number, text and credentials).
func (h *httpSender) failure(m compose.Message, status int, code, detail string, bounce bool) error {
	what := fmt.Sprintf("HTTP %d", status)
	if code != "" {
		what += " code " + code
	}
	// A gateway may repeat what it was sent: the credentials are taken out as well as the number.
	for _, secret := range []string{h.e.secret, h.e.user} {
		if len(secret) >= 4 {
			detail = strings.ReplaceAll(detail, secret, "<credential>")
		}
	}
	if d := redact(detail, m); d != "" {
		what += ": " + d
	}
	switch {
	case bounce:
		return fmt.Errorf("sms %s for delivery %d: number refused: %s: %w", h.provider, m.DeliveryID, what, worker.ErrBounce)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("sms %s for delivery %d: %s (check the credentials in DISPATCH_SMS_URL; will retry)", h.provider, m.DeliveryID, what)
	case status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("sms %s for delivery %d: %s (will retry)", h.provider, m.DeliveryID, what)
	}
	return fmt.Errorf("sms %s for delivery %d: %s (check DISPATCH_SMS_URL; will retry)", h.provider, m.DeliveryID, what)
}

// accepted is the receipt of a message the gateway accepted. A 2xx without an id still means the
// message went (sending it again would send it twice): it is recorded without a ProviderRef and
// a warning names the delivery.
func (h *httpSender) accepted(m compose.Message, ref string, segments int) worker.Receipt {
	if ref == "" {
		h.log.Warn("sms gateway accepted the message but its response had no id",
			slog.String("provider", h.provider), slog.Int64("delivery_id", m.DeliveryID))
	}
	return worker.Receipt{ProviderRef: ref, Segments: segments}
}

// trimmed returns b as a string without surrounding white space.
func trimmed(b []byte) string { return strings.TrimSpace(string(b)) }
