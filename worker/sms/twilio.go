package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
)

// twilioSender sends through the Twilio Messages API: POST
// /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded To, From, Body (and
// StatusCallback), HTTP Basic auth with the account SID and auth token. Twilio answers 201 with
// the Message resource, whose sid is the ProviderRef; a refusal carries {"code", "message",
// "more_info", "status"}.
type twilioSender struct {
	h *httpSender
}

// twilioBounces are the Twilio error codes that say the number itself is bad.
var twilioBounces = map[int]bool{
	21211: true, // invalid 'To' phone number
	21610: true, // the recipient has unsubscribed (replied STOP) from this sender
	21614: true, // 'To' number is not a valid mobile number
}

// Send sends m as an SMS through Twilio. See the package comment for how failures are told apart.
func (s *twilioSender) Send(ctx context.Context, m compose.Message) (worker.Receipt, error) {
	_, segments, err := prepare(m)
	if err != nil {
		return worker.Receipt{}, err
	}
	e := s.h.e
	form := url.Values{"To": {m.To}, "From": {e.from}, "Body": {m.Content.Text}}
	if e.callback != "" {
		form.Set("StatusCallback", e.callback)
	}
	endpoint := e.base + "/2010-04-01/Accounts/" + url.PathEscape(e.user) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return worker.Receipt{}, fmt.Errorf("sms twilio for delivery %d: building the request failed (check DISPATCH_SMS_URL)", m.DeliveryID)
	}
	req.SetBasicAuth(e.user, e.secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	status, body, err := s.h.do(ctx, m, req)
	if err != nil {
		return worker.Receipt{}, err
	}
	if status/100 == 2 {
		var ok struct {
			SID string `json:"sid"`
		}
		_ = json.Unmarshal(body, &ok) // a body without sid is handled by accepted
		return s.h.accepted(m, ok.SID, segments), nil
	}
	var fail struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	code, detail := "", trimmed(body)
	if json.Unmarshal(body, &fail) == nil && (fail.Code != 0 || fail.Message != "") {
		detail = fail.Message
		if fail.Code != 0 {
			code = strconv.Itoa(fail.Code)
		}
	}
	bounce := status/100 == 4 && status != http.StatusTooManyRequests && twilioBounces[fail.Code]
	return worker.Receipt{}, s.h.failure(m, status, code, detail, bounce)
}
