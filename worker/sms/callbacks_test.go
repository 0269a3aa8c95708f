package sms

import (
	"strings"
	"testing"
)

// TestGateway: the gateway named by DISPATCH_SMS_URL, with Twilio's auth token (which signs its
// callbacks); an invalid URL fails as Validate does, without its credentials.
func TestGateway(t *testing.T) {
	for url, want := range map[string]Gateway{
		"":       {Provider: "log"},
		"log://": {Provider: "log"},
		"twilio://AC1:tok%2Fen@api.twilio.com?from=JacksMood":     {Provider: "twilio", AuthToken: "tok/en"},
		"twilio+http://AC1:token@127.0.0.1:9999?from=JacksMood":   {Provider: "twilio", AuthToken: "token"},
		"gatewayapi://TOKEN@gatewayapi.com?sender=JacksMood":      {Provider: "gatewayapi"},
		"gatewayapi+http://TOKEN@127.0.0.1:9999?sender=JacksMood": {Provider: "gatewayapi"},
	} {
		c := Config{URL: url}
		got, err := c.Gateway()
		if err != nil || got != want {
			t.Errorf("Gateway(%q) = %+v, %v; want %+v", url, got, err, want)
		}
	}
	c := Config{URL: "twilio://AC1:secret-token@api.twilio.com"}
	if _, err := c.Gateway(); err == nil || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("a Twilio URL without from: %v", err)
	}
}
