package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/jacksmood/dispatch/campaigns/api"
)

// noHookStore stands for the store where only the hooks' configuration is looked at.
type noHookStore struct{ api.HookStore }

// TestSMSHooksSetup: the hooks get the secret of the gateway DISPATCH_SMS_URL names, and
// `dispatch sms-hooks` says what to set up at that gateway, without printing a secret.
func TestSMSHooksSetup(t *testing.T) {
	t.Parallel()
	const (
		token   = "twilio-token-0123456789"
		webhook = "gatewayapi-webhook-0123456789"
	)
	load := func(env map[string]string) *app {
		t.Helper()
		env["DISPATCH_SECRET"] = "test-secret-0123456789abcdef"
		env["DISPATCH_PUBLIC_URL"] = "https://jacksmood.example"
		cfg, err := loadConfig(func(k string) string { return env[k] }, nil)
		if err != nil {
			t.Fatal(err)
		}
		return &app{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	}
	key := api.HookKey([]byte("test-secret-0123456789abcdef"))
	for _, c := range []struct {
		name       string
		env        map[string]string
		twilio     string
		gatewayAPI string
		want       []string
	}{
		{"twilio", map[string]string{"DISPATCH_SMS_URL": "twilio://AC1:" + token + "@api.twilio.com?from=JacksMood", "DISPATCH_SMS_WEBHOOK_SECRET": webhook},
			token, "", []string{"X-Twilio-Signature", "status_callback=https%3A%2F%2Fjacksmood.example%2Fhooks%2Fsms%2Fstatus%3Fkey%3D" + key}},
		{"gatewayapi", map[string]string{"DISPATCH_SMS_URL": "gatewayapi://TOKEN@gatewayapi.com?sender=JacksMood", "DISPATCH_SMS_WEBHOOK_SECRET": webhook},
			"", webhook, []string{"X-Gwapi-Signature", "JWT (HS256)", "to the value of DISPATCH_SMS_WEBHOOK_SECRET"}},
		{"gatewayapi without its secret", map[string]string{"DISPATCH_SMS_URL": "gatewayapi://TOKEN@gatewayapi.com?sender=JacksMood"},
			"", "", []string{"DISPATCH_SMS_WEBHOOK_SECRET is not set: GatewayAPI's callbacks are refused (404)"}},
		{"log", map[string]string{}, "", "", []string{"DISPATCH_SMS_URL is log://: no gateway calls back"}},
	} {
		a := load(c.env)
		h, err := a.smsHooks(noHookStore{})
		if err != nil {
			t.Fatalf("%s: hooks: %v", c.name, err)
		}
		if h.TwilioAuthToken != c.twilio || h.GatewayAPISecret != c.gatewayAPI || h.PublicURL != "https://jacksmood.example" {
			t.Errorf("%s: hooks %q %q %q", c.name, h.TwilioAuthToken, h.GatewayAPISecret, h.PublicURL)
		}
		var out bytes.Buffer
		if err := a.writeSMSHooks(&out); err != nil {
			t.Fatalf("%s: sms-hooks: %v", c.name, err)
		}
		want := append([]string{
			"inbound messages (STOP): https://jacksmood.example/hooks/sms/inbound?key=" + key + "\n",
			"delivery reports:        https://jacksmood.example/hooks/sms/status?key=" + key + "\n",
			"without a valid signature is refused (403)",
		}, c.want...)
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: sms-hooks lacks %q:\n%s", c.name, w, out.String())
			}
		}
		for _, secret := range []string{token, webhook, "TOKEN"} {
			if strings.Contains(out.String(), secret) {
				t.Errorf("%s: sms-hooks prints a secret:\n%s", c.name, out.String())
			}
		}
	}
	// A webhook secret anyone could guess is refused at start.
	env := map[string]string{"DISPATCH_SMS_WEBHOOK_SECRET": "secret"}
	if _, err := loadConfig(func(k string) string { return env[k] }, nil); err == nil || !strings.Contains(err.Error(), "DISPATCH_SMS_WEBHOOK_SECRET") {
		t.Errorf("a short webhook secret: %v", err)
	}
}
