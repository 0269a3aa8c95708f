package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/phone"
)

// HookStore is what the SMS gateway's hooks need of the store.
type HookStore interface {
	MembersByPhone(ctx context.Context, phone string) ([]int64, error)
	RecordUnsubscribe(ctx context.Context, memberID int64, ch campaigns.Channel, source campaigns.ConsentSource) (bool, error)
	RecordDeliveryReport(ctx context.Context, ch campaigns.Channel, providerRef, status string, failed bool) (bool, error)
}

// HookKey is the key the SMS gateway's callbacks carry (?key=...): derived from DISPATCH_SECRET, so
// that nobody else can withdraw members' consents or rewrite the ledger through the hooks.
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

func (s *Server) hookRoutes(h HookStore) {
	s.mux.HandleFunc("POST /hooks/sms/inbound", s.checkHookKey(func(w http.ResponseWriter, r *http.Request, f hookFields) {
		if !IsStop(f.text) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		// The sender is read as a member file's number is, so that "+358 (0)40 …" finds the
		// member stored as +35840…; a landline that sends STOP is looked up like any number.
		from, _, err := phone.Normalize(f.from)
		if err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "from: " + err.Error()})
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
		writeTwiML(w)
	}))
	s.mux.HandleFunc("POST /hooks/sms/status", s.checkHookKey(func(w http.ResponseWriter, r *http.Request, f hookFields) {
		if f.ref == "" || f.status == "" {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "a delivery report needs the message id and its status"})
			return
		}
		status := strings.ToLower(f.status)
		failed := status == "failed" || status == "undelivered" || status == "undeliverable" || status == "rejected" || status == "expired"
		found, err := h.RecordDeliveryReport(r.Context(), campaigns.SMS, f.ref, status, failed)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !found {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no SMS with that id"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
}

// hookFields are what dispatch reads from either gateway: Twilio posts a form (From, Body,
// MessageSid, MessageStatus), GatewayAPI posts JSON (msisdn, message, id, status).
type hookFields struct {
	from, text, ref, status string
}

func (s *Server) checkHookKey(next func(http.ResponseWriter, *http.Request, hookFields)) http.HandlerFunc {
	key := HookKey(s.cfg.Secret)
	return func(w http.ResponseWriter, r *http.Request) {
		if !hmac.Equal([]byte(r.URL.Query().Get("key")), []byte(key)) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "wrong or missing hook key"})
			return
		}
		var f hookFields
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct == "application/json" {
			var body struct {
				MSISDN  json.Number `json:"msisdn"`
				Message string      `json:"message"`
				ID      json.Number `json:"id"`
				Status  string      `json:"status"`
			}
			if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is not JSON"})
				return
			}
			f = hookFields{from: msisdn(body.MSISDN.String()), text: body.Message, ref: body.ID.String(), status: body.Status}
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is not a form"})
				return
			}
			f = hookFields{from: r.PostForm.Get("From"), text: r.PostForm.Get("Body"), ref: r.PostForm.Get("MessageSid"), status: r.PostForm.Get("MessageStatus")}
		}
		next(w, r, f)
	}
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
