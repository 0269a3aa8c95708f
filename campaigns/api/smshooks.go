package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/phone"
)

// HookStore is what the SMS gateway's hooks need of the store.
type HookStore interface {
	MembersByPhone(ctx context.Context, phone string) ([]int64, error)
	RecordUnsubscribe(ctx context.Context, memberID int64, ch campaigns.Channel, source campaigns.ConsentSource) (bool, error)
	// RecordDeliveryReport records a report once per event; outcome is "pending", "delivered" or
	// "failed", and the delivery's report state only moves forward (see campaigns/postgres).
	RecordDeliveryReport(ctx context.Context, ch campaigns.Channel, providerRef, event, outcome, reason string) (found, fresh bool, err error)
	// HookEventSeen and RecordHookEvent keep the inbound messages processed, so that a replay
	// changes nothing.
	HookEventSeen(ctx context.Context, event string) (bool, error)
	RecordHookEvent(ctx context.Context, event string) error
}

// HookKey is the key the SMS gateway's callbacks carry (?key=...), derived from DISPATCH_SECRET. It
// is a first check only: each callback must also carry its provider's signature (see SMSHooks).
func HookKey(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("dispatch-sms-hooks"))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// stopWords are the opt-out keywords (the gateways' usual ones, and Finnish and Swedish).
var stopWords = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true,
	"QUIT": true, "LOPETA": true, "STOPPA": true, "SLUTA": true}

// IsStop reports whether an inbound message asks to stop: its first word is an opt-out keyword.
func IsStop(text string) bool {
	f := strings.Fields(strings.ToUpper(text))
	return len(f) > 0 && stopWords[strings.Trim(f[0], ".!,")]
}

// maxHookBody bounds a callback's body.
const maxHookBody = 64 << 10

// Patterns of what a callback's fields may be before they name a row or go into one.
var (
	// hookID is a gateway's id of a message: Twilio's SM… sid, GatewayAPI's number.
	hookID = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	// hookStatus is a delivery status (lower-cased): Twilio's undelivered, GatewayAPI's DELIVERED.
	hookStatus = regexp.MustCompile(`^[a-z_]{1,32}$`)
	// hookCode is an error code: Twilio's 30003, GatewayAPI's 0x0215.
	hookCode = regexp.MustCompile(`^[A-Za-z0-9]{1,16}$`)
)

func (s *Server) hookRoutes(h HookStore) {
	var cfg SMSHooks
	switch v := h.(type) {
	case *SMSHooks:
		cfg = *v
	case SMSHooks:
		cfg = v
	default:
		cfg = SMSHooks{HookStore: h} // no provider set up: every callback is refused
	}
	if err := cfg.Validate(); err != nil {
		s.log.Error("SMS hooks: no provider set up, every callback will be refused", "err", err)
		cfg = SMSHooks{HookStore: cfg.HookStore}
	}
	s.mux.HandleFunc("POST /hooks/sms/inbound", s.verifiedHook(cfg, "inbound", func(w http.ResponseWriter, r *http.Request, c hookCall) {
		s.smsInbound(w, r, cfg.HookStore, c)
	}))
	s.mux.HandleFunc("POST /hooks/sms/status", s.verifiedHook(cfg, "status", func(w http.ResponseWriter, r *http.Request, c hookCall) {
		s.smsStatus(w, r, cfg.HookStore, c)
	}))
}

// smsInbound handles an inbound message: a STOP withdraws the SMS consent of the members with the
// sender's number, once per message (a replay is answered as the first call was and changes
// nothing). The message is noted as processed only after the consents are withdrawn: a failure
// half-way is retried by the gateway, and withdrawing twice records nothing new.
func (s *Server) smsInbound(w http.ResponseWriter, r *http.Request, h HookStore, c hookCall) {
	if !IsStop(c.text) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !hookID.MatchString(c.id) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "an inbound message needs the gateway's message id"})
		return
	}
	// The sender is read as a member file's number is, so that "+358 (0)40 …" finds the
	// member stored as +35840…; a landline that sends STOP is looked up like any number.
	from, _, err := phone.Normalize(c.from)
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "from: " + err.Error()})
		return
	}
	event := c.provider + "/inbound/" + c.id
	seen, err := h.HookEventSeen(r.Context(), event)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if seen {
		s.log.Info("SMS hook: message already processed, nothing changed", slog.String("provider", c.provider), slog.String("hook", "inbound"))
		writeTwiML(w)
		return
	}
	ids, err := h.MembersByPhone(r.Context(), from)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, id := range ids {
		recorded, err := h.RecordUnsubscribe(r.Context(), id, campaigns.SMS, campaigns.SourceSMSStop)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if recorded {
			s.log.Info("SMS STOP: consent withdrawn", slog.Int64("member_id", id))
		}
	}
	if err := h.RecordHookEvent(r.Context(), event); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeTwiML(w)
}

// smsStatus handles a delivery report: 204 when recorded (the delivery's state moves only
// forward, so a late report may change nothing), 200 for a report already processed (nothing
// changes), 404 for a message dispatch does not know (the gateway retries: the worker may not have
// recorded the message's id yet).
func (s *Server) smsStatus(w http.ResponseWriter, r *http.Request, h HookStore, c hookCall) {
	status := strings.ToLower(c.status)
	if !hookID.MatchString(c.id) || !hookStatus.MatchString(status) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "a delivery report needs the message id and its status"})
		return
	}
	outcome := reportOutcome(status)
	reason := "delivery report: " + status
	if outcome == "failed" && hookCode.MatchString(c.code) {
		reason += " " + c.code
	}
	event := c.provider + "/status/" + c.id + "/" + status
	found, fresh, err := h.RecordDeliveryReport(r.Context(), campaigns.SMS, c.id, event, outcome, reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case !found:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no SMS with that id"})
	case !fresh:
		s.log.Info("SMS hook: report already processed, nothing changed", slog.String("provider", c.provider), slog.String("hook", "status"))
		writeJSON(w, http.StatusOK, map[string]string{"status": "already processed"})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// reportOutcome classifies a gateway's delivery status (lower-cased): "delivered" and "failed" are
// final; anything else ("queued", "sent", "enroute", "buffered", "accepted", a status dispatch does
// not know) is "pending", the message on its way.
func reportOutcome(status string) string {
	switch status {
	case "delivered", "read": // Twilio's read implies delivered
		return "delivered"
	case "failed", "undelivered", "canceled", // Twilio
		"undeliverable", "rejected", "expired", "deleted", "skipped": // GatewayAPI
		return "failed"
	}
	return "pending"
}

// hookCall is a verified callback, as dispatch reads it from either gateway: Twilio posts a form
// (MessageSid, From, Body; MessageStatus, ErrorCode), GatewayAPI posts JSON (id, msisdn, message;
// status, code).
type hookCall struct {
	provider     string // "twilio" or "gatewayapi"
	id           string // the gateway's id of the message
	from, text   string // of an inbound message
	status, code string // of a delivery report
}

// hookRefusal is a callback refused before it is read: its status and why, for the log and the
// answer. It never holds a number or a text.
type hookRefusal struct {
	status   int
	provider string // "" when the refusal comes before the provider is known
	why      string
}

// verifiedHook answers a callback only once it is proven to come from the gateway: the hook key
// (403), a body of a provider that is set up (Twilio's form or GatewayAPI's JSON; 415 for another,
// 404 for a provider without its secret), and the provider's signature (403). Each refusal is
// logged once at Warn, with the hook, the provider and why.
func (s *Server) verifiedHook(cfg SMSHooks, hook string, next func(http.ResponseWriter, *http.Request, hookCall)) http.HandlerFunc {
	key := HookKey(s.cfg.Secret)
	return func(w http.ResponseWriter, r *http.Request) {
		var (
			c   hookCall
			ref *hookRefusal
		)
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case !hmac.Equal([]byte(r.URL.Query().Get("key")), []byte(key)):
			ref = &hookRefusal{status: http.StatusForbidden, why: "wrong or missing hook key"}
		case ct == "application/x-www-form-urlencoded":
			c, ref = twilioCall(w, r, cfg)
		case ct == "application/json":
			c, ref = gatewayAPICall(w, r, cfg, time.Now())
		default:
			ref = &hookRefusal{status: http.StatusUnsupportedMediaType, why: "want Twilio's form or GatewayAPI's JSON"}
		}
		if ref != nil {
			attrs := []slog.Attr{slog.String("hook", hook), slog.Int("status", ref.status), slog.String("reason", ref.why)}
			if ref.provider != "" {
				attrs = append(attrs, slog.String("provider", ref.provider))
			}
			s.log.LogAttrs(r.Context(), slog.LevelWarn, "SMS hook refused", attrs...)
			writeJSON(w, ref.status, map[string]string{"error": ref.why})
			return
		}
		next(w, r, c)
	}
}

// twilioCall reads and verifies Twilio's form (see SMSHooks).
func twilioCall(w http.ResponseWriter, r *http.Request, cfg SMSHooks) (hookCall, *hookRefusal) {
	if cfg.TwilioAuthToken == "" {
		return hookCall{}, &hookRefusal{status: http.StatusNotFound, provider: "twilio", why: "Twilio is not set up: DISPATCH_SMS_URL is not twilio://"}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxHookBody)
	if err := r.ParseForm(); err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return hookCall{}, &hookRefusal{status: http.StatusRequestEntityTooLarge, provider: "twilio", why: "body too large"}
		}
		return hookCall{}, &hookRefusal{status: http.StatusBadRequest, provider: "twilio", why: "body is not a form"}
	}
	u := twilioURL(cfg.PublicURL, r.URL.EscapedPath(), r.URL.RawQuery)
	if err := verifyTwilio(cfg.TwilioAuthToken, r.Header.Get("X-Twilio-Signature"), u, r.PostForm); err != nil {
		return hookCall{}, &hookRefusal{status: http.StatusForbidden, provider: "twilio", why: err.Error()}
	}
	f := r.PostForm
	return hookCall{
		provider: "twilio",
		id:       firstOf(f.Get("MessageSid"), f.Get("SmsSid")),
		from:     f.Get("From"),
		text:     f.Get("Body"),
		status:   firstOf(f.Get("MessageStatus"), f.Get("SmsStatus")),
		code:     f.Get("ErrorCode"),
	}, nil
}

// gatewayAPICall reads and verifies GatewayAPI's JSON (see SMSHooks). GatewayAPI sends the
// callback's fields twice, as the body and as the JWT's claims; the signed claims are what is read,
// and a body that says otherwise on a field dispatch reads (gatewayAPIFields) is refused.
func gatewayAPICall(w http.ResponseWriter, r *http.Request, cfg SMSHooks, now time.Time) (hookCall, *hookRefusal) {
	if cfg.GatewayAPISecret == "" {
		return hookCall{}, &hookRefusal{status: http.StatusNotFound, provider: "gatewayapi", why: "GatewayAPI is not set up: DISPATCH_SMS_URL is not gatewayapi:// or DISPATCH_SMS_WEBHOOK_SECRET is not set"}
	}
	claims, err := verifyGatewayAPI(cfg.GatewayAPISecret, r.Header.Get("X-Gwapi-Signature"), now)
	if err != nil {
		return hookCall{}, &hookRefusal{status: http.StatusForbidden, provider: "gatewayapi", why: err.Error()}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxHookBody))
	if err != nil {
		return hookCall{}, &hookRefusal{status: http.StatusRequestEntityTooLarge, provider: "gatewayapi", why: "body too large"}
	}
	var body map[string]any
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&body); err != nil || body == nil {
		return hookCall{}, &hookRefusal{status: http.StatusBadRequest, provider: "gatewayapi", why: "body is not a JSON object"}
	}
	if !sameGatewayAPIFields(body, claims) {
		return hookCall{}, &hookRefusal{status: http.StatusForbidden, provider: "gatewayapi", why: errSignature.Error() + ": the body is not what the JWT signed"}
	}
	field := func(k string) string { v, _ := scalar(claims[k]); return v }
	return hookCall{
		provider: "gatewayapi",
		id:       field("id"),
		from:     msisdn(field("msisdn")),
		text:     field("message"),
		status:   field("status"),
		code:     field("code"),
	}, nil
}

// firstOf returns the first of values that is not empty.
func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// msisdn turns GatewayAPI's number (country code first, no plus) into E.164 input.
func msisdn(n string) string {
	if _, err := strconv.ParseUint(n, 10, 64); err == nil {
		return "+" + n
	}
	return n
}

// writeTwiML answers an inbound SMS with an empty TwiML response: no reply message.
func writeTwiML(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)
}
