package main

import (
	"fmt"
	"io"
	"net/url"

	"github.com/jacksmood/dispatch/campaigns/api"
	"github.com/jacksmood/dispatch/worker/sms"
)

// smsHooks returns what `dispatch serve` gives api.Config.Hooks: the store, and the secrets that
// verify the callbacks of the gateway DISPATCH_SMS_URL names (Twilio: the auth token in the URL;
// GatewayAPI: DISPATCH_SMS_WEBHOOK_SECRET), over DISPATCH_PUBLIC_URL. A gateway without its secret
// (log://, or gatewayapi:// without DISPATCH_SMS_WEBHOOK_SECRET) has its callbacks refused, with a
// warning at start. It fails when DISPATCH_SMS_URL or DISPATCH_PUBLIC_URL cannot verify callbacks.
func (a *app) smsHooks(s api.HookStore) (*api.SMSHooks, error) {
	smsCfg := sms.Config{URL: a.cfg.SMSURL}
	gw, err := smsCfg.Gateway()
	if err != nil {
		return nil, err
	}
	h := &api.SMSHooks{HookStore: s, PublicURL: a.cfg.PublicURL}
	switch gw.Provider {
	case "twilio":
		h.TwilioAuthToken = gw.AuthToken
	case "gatewayapi":
		h.GatewayAPISecret = a.cfg.SMSWebhookSecret
		if h.GatewayAPISecret == "" {
			a.log.Warn("SMS hooks: DISPATCH_SMS_WEBHOOK_SECRET is not set: GatewayAPI's callbacks are refused")
		}
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	return h, nil
}

// writeSMSHooks prints what `dispatch sms-hooks` shows: the callback URLs to give the SMS gateway,
// what each callback must carry to be accepted, and what to set up at the gateway DISPATCH_SMS_URL
// names.
func (a *app) writeSMSHooks(w io.Writer) error {
	smsCfg := sms.Config{URL: a.cfg.SMSURL}
	gw, err := smsCfg.Gateway()
	if err != nil {
		return usagef("%v", err)
	}
	key := api.HookKey([]byte(a.cfg.Secret))
	inbound := a.cfg.PublicURL + "/hooks/sms/inbound?key=" + key
	status := a.cfg.PublicURL + "/hooks/sms/status?key=" + key
	fmt.Fprintf(w, "inbound messages (STOP): %s\n", inbound)
	fmt.Fprintf(w, "delivery reports:        %s\n", status)
	fmt.Fprintln(w)
	switch gw.Provider {
	case "twilio":
		fmt.Fprintf(w, `Twilio (DISPATCH_SMS_URL twilio://): each callback must carry the key and a valid
X-Twilio-Signature, which Twilio computes with the account's auth token (the one in DISPATCH_SMS_URL)
over the URL it calls and the form it posts. At Twilio, give the URLs exactly as printed:
  - the sending number's (or Messaging Service's) "A message comes in": the inbound URL, HTTP POST;
  - the status callback: the delivery reports URL, or add to DISPATCH_SMS_URL
    status_callback=%s
DISPATCH_PUBLIC_URL must be the address Twilio calls: the signature covers its scheme, host,
path and query, and dispatch checks it against DISPATCH_PUBLIC_URL, not the address a proxy
forwards to.
`, url.QueryEscape(status))
	case "gatewayapi":
		fmt.Fprint(w, `GatewayAPI (DISPATCH_SMS_URL gatewayapi://): each callback must carry the key and a JWT (HS256) in
X-Gwapi-Signature, signed with the authentication token set on the webhook, whose claims agree with
the body. At GatewayAPI, add a webhook with the delivery reports URL for delivery statuses, and one
with the inbound URL for the keywords of incoming messages; set each webhook's authentication token
to the value of DISPATCH_SMS_WEBHOOK_SECRET.
`)
		if a.cfg.SMSWebhookSecret == "" {
			fmt.Fprint(w, `DISPATCH_SMS_WEBHOOK_SECRET is not set: GatewayAPI's callbacks are refused (404) until it is
(at least 16 random characters, e.g. openssl rand -hex 32).
`)
		}
	default:
		fmt.Fprint(w, `DISPATCH_SMS_URL is log://: no gateway calls back, and every callback is refused (404).
Set DISPATCH_SMS_URL to twilio:// or gatewayapi:// (with DISPATCH_SMS_WEBHOOK_SECRET).
`)
	}
	fmt.Fprint(w, `A callback without a valid signature is refused (403). A report or an inbound message already
processed is acknowledged and changes nothing, and a delivery once delivered or failed stays so.
`)
	return nil
}
