package api

import (
	"encoding/json"
	"errors"
	"net/url"
	"testing"
	"time"
)

// The example of Twilio's request validation documentation and its libraries' tests: auth token
// 12345, this URL and these parameters.
const (
	twilioDocToken = "12345"
	twilioDocURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
)

var twilioDocParams = url.Values{
	"CallSid": {"CA1234567890ABCDE"},
	"Caller":  {"+14158675309"},
	"Digits":  {"1234"},
	"From":    {"+14158675309"},
	"To":      {"+18005551212"},
}

// TestTwilioSignatureDocumentedVectors checks the scheme against the signatures Twilio's own
// libraries are tested with, so that a self-consistent but wrong implementation cannot pass.
func TestTwilioSignatureDocumentedVectors(t *testing.T) {
	if got := twilioSignature(twilioDocToken, twilioDocURL, twilioDocParams); got != "RSOYDt4T1cUTdK1PDd93/VVr8B8=" {
		t.Errorf("signature of the documented example = %s", got)
	}
	// A name given more than once: once per distinct value, the values sorted.
	dup := url.Values{"Sid": {"CA123"}, "SidAccount": {"AC123"}, "Digits": {"5678", "1234", "1234"}}
	if got := twilioSignature(twilioDocToken, twilioDocURL, dup); got != "IK+Dwps556ElfBT0I3Rgjkr1wJU=" {
		t.Errorf("signature with a repeated parameter = %s", got)
	}
	for _, c := range []struct {
		name, url, signature string
		ok                   bool
	}{
		{"as documented", twilioDocURL, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", true},
		// Twilio's validators accept the URL with its port left out or the default one written.
		{"port left out", "https://mycompany.com:1234/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", true},
		{"https port written", twilioDocURL, "kvajT1Ptam85bY51eRf/AJRuM3w=", true},
		{"http port written", "http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4=", true},
		{"another query", twilioDocURL + "&extra=1", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", false},
		{"another path", "https://mycompany.com/other.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", false},
		{"another host", "https://evil.example/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", false},
		{"forged", twilioDocURL, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", false},
		{"missing", twilioDocURL, "", false},
	} {
		err := verifyTwilio(twilioDocToken, c.signature, c.url, twilioDocParams)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, errSignature)) {
			t.Errorf("%s: verify = %v, want ok %v", c.name, err, c.ok)
		}
	}
	tampered := url.Values{}
	for k, v := range twilioDocParams {
		tampered[k] = v
	}
	tampered.Set("Digits", "9999")
	if verifyTwilio(twilioDocToken, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", twilioDocURL, tampered) == nil {
		t.Error("a tampered parameter verified")
	}
	tampered = url.Values{"Extra": {"1"}}
	for k, v := range twilioDocParams {
		tampered[k] = v
	}
	if verifyTwilio(twilioDocToken, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", twilioDocURL, tampered) == nil {
		t.Error("an added parameter verified")
	}
	if verifyTwilio("54321", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", twilioDocURL, twilioDocParams) == nil {
		t.Error("another account's token verified")
	}
}

// gatewayAPIDocJWT is the example token of GatewayAPI's webhook documentation, signed with the
// secret "secret": a delivery report (id 2381703, msisdn 4542609045, DELIVERED).
const gatewayAPIDocJWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpZCI6MjM4MTcwMywibXNpc2RuIjo0NTQyNjA5MDQ1LCJ0aW1lIjoxNTIyNzY0MDYyLCJzdGF0dXMiOiJERUxJVkVSRUQiLCJlcnJvciI6bnVsbCwiY29kZSI6bnVsbCwidXNlcnJlZiI6bnVsbCwiY2FsbGJhY2tfdXJsIjoiaHR0cDovL2JiYWY3MTQyLm5ncm9rLmlvIiwiYXBpIjo0fQ.KdfDH65bnQtgxEkFnpAQodOciAJedZFB13r9wEo8t3Y"

func TestGatewayAPIJWTDocumentedVector(t *testing.T) {
	now := time.Now()
	claims, err := verifyGatewayAPI("secret", gatewayAPIDocJWT, now)
	if err != nil {
		t.Fatalf("the documented token: %v", err)
	}
	if claims["id"] != json.Number("2381703") || claims["msisdn"] != json.Number("4542609045") || claims["status"] != "DELIVERED" {
		t.Errorf("claims = %v", claims)
	}
	body := map[string]any{"id": json.Number("2381703"), "msisdn": json.Number("4542609045"), "status": "DELIVERED", "time": json.Number("1522764062")}
	if !sameGatewayAPIFields(body, claims) {
		t.Error("the body GatewayAPI posts with the token does not match its claims")
	}
	body["status"] = "UNDELIVERABLE"
	if sameGatewayAPIFields(body, claims) {
		t.Error("a body with another status matches the claims")
	}
	delete(body, "status")
	if sameGatewayAPIFields(body, claims) {
		t.Error("a body without the status matches the claims")
	}

	// The token with its algorithm set to none (GatewayAPI's PHP library's test): refused.
	const none = "eyJ0eXBlIjoiSldUIiwiYWxnIjoibm9uZSJ9.eyJpZCI6MjM4MTcwMywibXNpc2RuIjo0NTQyNjA5MDQ1LCJ0aW1lIjoxNTIyNzY0MDYyLCJzdGF0dXMiOiJERUxJVkVSRUQiLCJlcnJvciI6bnVsbCwiY29kZSI6bnVsbCwidXNlcnJlZiI6bnVsbCwiY2FsbGJhY2tfdXJsIjoiaHR0cDovL2JiYWY3MTQyLm5ncm9rLmlvIiwiYXBpIjo0fQ."
	for name, c := range map[string]struct{ secret, token string }{
		"wrong secret":       {"wrong", gatewayAPIDocJWT},
		"alg none":           {"secret", none},
		"alg none, any sig":  {"secret", none + "KdfDH65bnQtgxEkFnpAQodOciAJedZFB13r9wEo8t3Y"},
		"not a JWT":          {"secret", "not_valid"},
		"empty":              {"secret", ""},
		"signature cut":      {"secret", gatewayAPIDocJWT[:len(gatewayAPIDocJWT)-2]},
		"claims of another":  {"secret", "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpZCI6MX0.KdfDH65bnQtgxEkFnpAQodOciAJedZFB13r9wEo8t3Y"},
		"four parts":         {"secret", gatewayAPIDocJWT + ".x"},
		"HS512 (not HS256)":  {"secret", "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJpZCI6MjM4MTcwMywibXNpc2RuIjo0NTQyNjA5MDQ1LCJ0aW1lIjoxNTIyNzY0MDYyLCJzdGF0dXMiOiJERUxJVkVSRUQiLCJlcnJvciI6bnVsbCwiY29kZSI6bnVsbCwidXNlcnJlZiI6bnVsbCwiY2FsbGJhY2tfdXJsIjoiaHR0cDovL2JiYWY3MTQyLm5ncm9rLmlvIiwiYXBpIjo0fQ.o3FGANwBGxEAK2tfFZtp9ZraDxUgwypBj0dq1C13IWEddpxcth8dQHngaQMq6FtbGpDO80pyMeedDSndzKMoag"},
		"padded base64 part": {"secret", gatewayAPIDocJWT + "="},
	} {
		if _, err := verifyGatewayAPI(c.secret, c.token, now); !errors.Is(err, errSignature) {
			t.Errorf("%s: verify = %v, want a refusal", name, err)
		}
	}
}
