// Package sms sends marketing SMS through a gateway's HTTP API.
//
// New builds a worker.Sender from DISPATCH_SMS_URL: log:// (a local development sink), twilio://
// (the Twilio Messages API) or gatewayapi:// (the GatewayAPI REST API). Every sender computes the
// encoding and segments of the text (Encode), refuses a text that does not end with a STOP
// instruction, and tells failures apart the way worker.Sender documents:
//
//   - the gateway says the number is invalid, not a mobile, or opted out: worker.ErrBounce (the
//     member's SMS channel is suppressed);
//   - the message itself can never go (no STOP instruction, no number): worker.ErrPermanent;
//   - anything else is transient (a plain error) and the batch is retried: HTTP 429 and 5xx,
//     timeouts, dropped connections, and also authentication and other configuration failures
//     (HTTP 401, 403, a 400 about the sender): those are not the member's fault, and the messages
//     go once the operator has fixed DISPATCH_SMS_URL.
//
// No error or log line carries the phone number or the text: numbers in a gateway's response are
// replaced with "<number>".
package sms

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
)

// Config configures the SMS sender. Zero values take the defaults given.
type Config struct {
	// URL is DISPATCH_SMS_URL. Default "log://". One of:
	//   log://                                              one line per message to Log
	//   twilio://SID:TOKEN@api.twilio.com?from=JacksMood    Twilio Messages API over HTTPS
	//   gatewayapi://TOKEN@gatewayapi.com?sender=JacksMood  GatewayAPI REST API over HTTPS
	// twilio+http:// and gatewayapi+http:// speak plain HTTP, for a local test server. A Twilio URL
	// may add status_callback=URL (escaped), passed to Twilio as StatusCallback.
	URL string
	// Timeout bounds one request to the gateway. Default 10s.
	Timeout time.Duration
	// HTTPClient makes the requests. Default a new http.Client (Timeout applies through the
	// request's context).
	HTTPClient *http.Client
	// Log receives the lines of log://. Default os.Stdout.
	Log io.Writer
}

// Validate fills in the defaults and checks URL. Its errors name DISPATCH_SMS_URL and never
// repeat the URL's credentials.
func (c *Config) Validate() error {
	_, err := c.parse()
	return err
}

// endpoint is a parsed DISPATCH_SMS_URL.
type endpoint struct {
	provider string // "log", "twilio", "gatewayapi"
	base     string // scheme://host[:port] of the API
	user     string // Twilio account SID, or the GatewayAPI token
	secret   string // Twilio auth token
	from     string // Twilio From, GatewayAPI sender
	callback string // Twilio StatusCallback
}

func (c *Config) parse() (endpoint, error) {
	if c.URL == "" {
		c.URL = "log://"
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Log == nil {
		c.Log = os.Stdout
	}
	// url.Parse's own error quotes the whole URL, token included: it is not passed on.
	u, err := url.Parse(c.URL)
	if err != nil {
		return endpoint{}, errors.New("DISPATCH_SMS_URL is not a valid URL (credentials must be percent-encoded)")
	}
	provider, transport, _ := strings.Cut(u.Scheme, "+")
	switch {
	case transport == "":
		transport = "https"
	case transport != "http":
		return endpoint{}, fmt.Errorf("DISPATCH_SMS_URL: unknown scheme %q (want log, twilio, twilio+http, gatewayapi or gatewayapi+http)", u.Scheme)
	}
	q := u.Query()
	known := map[string]bool{}
	e := endpoint{provider: provider, base: transport + "://" + u.Host}
	switch provider {
	case "log":
		if transport == "http" {
			return endpoint{}, errors.New(`DISPATCH_SMS_URL: "log+http" is not a scheme; use log://`)
		}
		return e, checkParams(q, known)
	case "twilio":
		known["from"], known["status_callback"] = true, true
		e.user = u.User.Username()
		e.secret, _ = u.User.Password()
		e.from = q.Get("from")
		e.callback = q.Get("status_callback")
		switch {
		case e.user == "" || e.secret == "":
			return endpoint{}, errors.New("DISPATCH_SMS_URL: twilio:// needs the account SID and auth token as twilio://SID:TOKEN@api.twilio.com")
		case e.from == "":
			return endpoint{}, errors.New("DISPATCH_SMS_URL: twilio:// needs ?from= (a Twilio number or an alphanumeric sender id)")
		}
		if e.callback != "" {
			cb, err := url.Parse(e.callback)
			if err != nil || (cb.Scheme != "https" && cb.Scheme != "http") || cb.Host == "" {
				return endpoint{}, errors.New("DISPATCH_SMS_URL: status_callback must be an absolute http(s) URL")
			}
		}
	case "gatewayapi":
		known["sender"] = true
		e.user = u.User.Username()
		e.from = q.Get("sender")
		switch {
		case e.user == "":
			return endpoint{}, errors.New("DISPATCH_SMS_URL: gatewayapi:// needs the API token as gatewayapi://TOKEN@gatewayapi.com")
		case e.from == "":
			return endpoint{}, errors.New("DISPATCH_SMS_URL: gatewayapi:// needs ?sender= (up to 11 letters and digits, or 15 digits)")
		case len(e.from) > 15:
			return endpoint{}, errors.New("DISPATCH_SMS_URL: sender is longer than GatewayAPI allows (11 letters and digits, or 15 digits)")
		}
	default:
		return endpoint{}, fmt.Errorf("DISPATCH_SMS_URL: unknown scheme %q (want log, twilio, twilio+http, gatewayapi or gatewayapi+http)", u.Scheme)
	}
	if u.Host == "" {
		return endpoint{}, fmt.Errorf("DISPATCH_SMS_URL: %s:// needs the API host (api.twilio.com, gatewayapi.com)", provider)
	}
	if u.Path != "" && u.Path != "/" {
		return endpoint{}, fmt.Errorf("DISPATCH_SMS_URL: %s:// takes no path, only the API host", provider)
	}
	return e, checkParams(q, known)
}

// checkParams refuses query parameters the provider does not know: a typo is not ignored.
func checkParams(q url.Values, known map[string]bool) error {
	for k := range q {
		if !known[k] {
			return fmt.Errorf("DISPATCH_SMS_URL: unknown parameter %q", k)
		}
	}
	return nil
}

// New returns the sender that cfg.URL (DISPATCH_SMS_URL) names; see Config for the forms and the
// defaults. It fails when the URL is invalid, naming DISPATCH_SMS_URL and never its credentials.
// log receives a line naming the provider and host (never a credential), and warnings that
// carry only ids; nil discards them.
func New(cfg Config, log *slog.Logger) (worker.Sender, error) {
	e, err := cfg.parse()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch e.provider {
	case "log":
		log.Info("sms sender", slog.String("provider", "log"))
		return &logSender{w: cfg.Log}, nil
	case "twilio":
		log.Info("sms sender", slog.String("provider", "twilio"), slog.String("base", e.base))
		return &twilioSender{h: newHTTPSender(cfg, e, log, "twilio")}, nil
	default:
		log.Info("sms sender", slog.String("provider", "gatewayapi"), slog.String("base", e.base))
		return &gatewayAPISender{h: newHTTPSender(cfg, e, log, "gatewayapi")}, nil
	}
}

// e164 is a number in E.164: a plus, a country code and at most 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// prepare checks a message before it goes anywhere and computes its encoding and segments. A text
// without a final STOP instruction (rule 5; the templates check it too) or a message without a
// number wraps worker.ErrPermanent; a number that is not E.164 wraps worker.ErrBounce.
func prepare(m compose.Message) (Encoding, int, error) {
	enc, segments := Encode(m.Content.Text)
	switch {
	case !templates.EndsWithStop(m.Content.Text):
		return enc, segments, fmt.Errorf("sms for delivery %d: text does not end with an opt-out instruction containing STOP: %w", m.DeliveryID, worker.ErrPermanent)
	case m.To == "":
		return enc, segments, fmt.Errorf("sms for delivery %d: no phone number: %w", m.DeliveryID, worker.ErrPermanent)
	case !e164.MatchString(m.To):
		return enc, segments, fmt.Errorf("sms for delivery %d: phone number is not in E.164 form (+358401234567): %w", m.DeliveryID, worker.ErrBounce)
	}
	return enc, segments, nil
}

// numberish matches what may be a phone number in a gateway's response: 7 to 15 digits, with an
// optional plus and single spaces or hyphens between the digits.
var numberish = regexp.MustCompile(`\+?[0-9](?:[ -]?[0-9]){6,14}`)

// redact makes a gateway's message fit for an error: no phone number, not the text, one line, at
// most 200 bytes.
func redact(s string, m compose.Message) string {
	if m.Content.Text != "" {
		s = strings.ReplaceAll(s, m.Content.Text, "<text>")
	}
	s = numberish.ReplaceAllString(s, "<number>")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}
