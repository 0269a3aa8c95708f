package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
)

// gatewayAPISender sends through the GatewayAPI REST API: POST /rest/mtsms with a JSON object
// {"sender", "message", "recipients": [{"msisdn": 358401234567}], "encoding": "UCS2"} and the
// header "Authorization: Token TOKEN". GatewayAPI answers 200 {"ids": [12345], "usage": ...}; the
// id is the ProviderRef. A refusal carries {"code": "0x0215", "message": ..., "incident_uuid": ...}.
type gatewayAPISender struct {
	h *httpSender
}

type gatewayAPIRecipient struct {
	MSISDN uint64 `json:"msisdn"`
}

type gatewayAPIRequest struct {
	Sender     string                `json:"sender"`
	Message    string                `json:"message"`
	Recipients []gatewayAPIRecipient `json:"recipients"`
	Encoding   string                `json:"encoding,omitempty"`
	UserRef    string                `json:"userref,omitempty"`
}

// gatewayAPIBounces are the GatewayAPI error codes that say the number itself is bad:
// 0x0215 "MSISDN %1 blacklisted" (403). 0x0214, a temporary blacklist, is transient.
var gatewayAPIBounces = map[string]bool{"0x0215": true}

// gatewayAPIInvalidRecipient matches a 4xx message that says the recipient is invalid.
var gatewayAPIInvalidRecipient = regexp.MustCompile(`(?i)\b(invalid|unknown|bad)\s+(recipient|msisdn|destination)|\b(recipient|msisdn)\b[^.]*\b(invalid|not valid|blacklisted)\b`)

// Send sends m as an SMS through GatewayAPI. See the package comment for how failures are told
// apart.
func (s *gatewayAPISender) Send(ctx context.Context, m compose.Message) (worker.Receipt, error) {
	enc, segments, err := prepare(m)
	if err != nil {
		return worker.Receipt{}, err
	}
	msisdn, err := strconv.ParseUint(strings.TrimPrefix(m.To, "+"), 10, 64)
	if err != nil { // prepare checked the form; unreachable
		return worker.Receipt{}, fmt.Errorf("sms gatewayapi for delivery %d: phone number is not a number: %w", m.DeliveryID, worker.ErrBounce)
	}
	e := s.h.e
	payload := gatewayAPIRequest{
		Sender:     e.from,
		Message:    m.Content.Text,
		Recipients: []gatewayAPIRecipient{{MSISDN: msisdn}},
		UserRef:    strconv.FormatInt(m.DeliveryID, 10),
	}
	if enc == UCS2 {
		payload.Encoding = "UCS2"
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return worker.Receipt{}, fmt.Errorf("sms gatewayapi for delivery %d: encoding the request failed", m.DeliveryID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.base+"/rest/mtsms", bytes.NewReader(body))
	if err != nil {
		return worker.Receipt{}, fmt.Errorf("sms gatewayapi for delivery %d: building the request failed (check DISPATCH_SMS_URL)", m.DeliveryID)
	}
	req.Header.Set("Authorization", "Token "+e.user)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	status, resp, err := s.h.do(ctx, m, req)
	if err != nil {
		return worker.Receipt{}, err
	}
	if status/100 == 2 {
		var ok struct {
			IDs []json.Number `json:"ids"`
		}
		ref := ""
		if json.Unmarshal(resp, &ok) == nil && len(ok.IDs) > 0 {
			ref = ok.IDs[0].String()
		}
		return s.h.accepted(m, ref, segments), nil
	}
	var fail struct {
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
	}
	code, detail := "", trimmed(resp)
	if json.Unmarshal(resp, &fail) == nil && (len(fail.Code) > 0 || fail.Message != "") {
		detail = fail.Message
		code = strings.Trim(string(fail.Code), `"`)
		if n, err := strconv.ParseUint(code, 10, 32); err == nil { // a code sent as a number
			code = fmt.Sprintf("0x%04X", n)
		}
	}
	bounce := status/100 == 4 && status != http.StatusTooManyRequests &&
		(gatewayAPIBounces[strings.ToLower(code)] || gatewayAPIInvalidRecipient.MatchString(detail))
	return worker.Receipt{}, s.h.failure(m, status, code, detail, bounce)
}
