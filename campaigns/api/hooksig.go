package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SMSHooks is what Config.Hooks takes to serve the SMS gateway's callbacks, POST /hooks/sms/inbound
// (an inbound STOP withdraws the member's SMS consent) and POST /hooks/sms/status (delivery
// reports): the store they write to, and the secrets that prove a callback comes from the gateway.
// A callback must carry the hook key (?key=, see HookKey) and its provider's own signature:
//
//   - Twilio posts a form with X-Twilio-Signature: base64 of HMAC-SHA1, keyed with the account's
//     auth token, over the URL Twilio called (PublicURL, then the request's path and query) followed
//     by every form parameter's name and value, sorted by name;
//   - GatewayAPI posts JSON with X-Gwapi-Signature: a JWT (HS256) signed with the secret set on its
//     webhook, whose claims are the callback's fields.
//
// The key alone does not do: a wrong key is answered 403, a callback of a provider whose secret is
// not set 404, and one without a valid signature 403. A bare HookStore given as Config.Hooks serves
// the routes with no provider set up: every callback is refused.
type SMSHooks struct {
	// HookStore records what the callbacks say. Required.
	HookStore
	// PublicURL is the public listener's base URL as the gateway calls it (DISPATCH_PUBLIC_URL, e.g.
	// https://jacksmood.example): Twilio signs the URL it called, and dispatch, behind a proxy, sees
	// neither that scheme nor that host. Required with TwilioAuthToken.
	PublicURL string
	// TwilioAuthToken is the auth token of the Twilio account (the password of DISPATCH_SMS_URL's
	// twilio://SID:TOKEN@...). Empty: Twilio's callbacks are answered 404.
	TwilioAuthToken string
	// GatewayAPISecret is the authentication token set on the GatewayAPI webhooks, with which
	// GatewayAPI signs its JWTs (DISPATCH_SMS_WEBHOOK_SECRET); at least 16 characters. Empty:
	// GatewayAPI's callbacks are answered 404.
	GatewayAPISecret string
}

// Validate checks that the store is given, that PublicURL is an absolute http(s) URL without query
// when Twilio is set up, and that GatewayAPISecret, when set, is at least 16 characters long.
func (h *SMSHooks) Validate() error {
	if h.HookStore == nil {
		return errors.New("sms hooks: no store")
	}
	if h.TwilioAuthToken != "" {
		u, err := url.Parse(h.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("sms hooks: Twilio signs the URL it calls: the public URL must be an absolute http(s) URL without query (DISPATCH_PUBLIC_URL)")
		}
	}
	if h.GatewayAPISecret != "" && len(h.GatewayAPISecret) < 16 {
		return errors.New("sms hooks: the GatewayAPI webhook secret must be at least 16 characters (DISPATCH_SMS_WEBHOOK_SECRET)")
	}
	return nil
}

// errSignature is a callback whose signature is missing or does not verify: 403.
var errSignature = errors.New("bad signature")

// twilioSignature returns the X-Twilio-Signature of a POST of params to rawURL: base64 of
// HMAC-SHA1, keyed with the auth token, over rawURL followed by each parameter's name and value,
// by name (a name given more than once: once per distinct value, the values sorted, as Twilio's
// own validators do).
func twilioSignature(authToken, rawURL string, params url.Values) string {
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(rawURL))
	for _, k := range names {
		values := append([]string(nil), params[k]...)
		sort.Strings(values)
		for i, v := range values {
			if i > 0 && v == values[i-1] {
				continue
			}
			m.Write([]byte(k))
			m.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// twilioURLs returns the forms of rawURL that Twilio may have signed: as it is, and with the port
// left out, or written when it is not (Twilio's own validators accept both: the port of the
// configured URL is not always the one Twilio signs).
func twilioURLs(rawURL string) []string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return []string{rawURL}
	}
	other := *u
	if u.Port() != "" {
		other.Host = u.Hostname()
		if strings.Contains(other.Host, ":") {
			other.Host = "[" + other.Host + "]"
		}
	} else {
		port := "443"
		if u.Scheme == "http" {
			port = "80"
		}
		other.Host = net.JoinHostPort(u.Hostname(), port)
	}
	return []string{rawURL, other.String()}
}

// verifyTwilio checks signature (X-Twilio-Signature) of a POST of params to rawURL, the URL as
// Twilio called it. It returns errSignature when the signature is missing or wrong.
func verifyTwilio(authToken, signature, rawURL string, params url.Values) error {
	if signature == "" {
		return fmt.Errorf("%w: no X-Twilio-Signature", errSignature)
	}
	for _, u := range twilioURLs(rawURL) {
		if hmac.Equal([]byte(twilioSignature(authToken, u, params)), []byte(signature)) {
			return nil
		}
	}
	return fmt.Errorf("%w: X-Twilio-Signature does not match", errSignature)
}

// twilioURL is the URL Twilio called: the public base URL, then the request's path and query as
// sent (escapedPath is r.URL.EscapedPath(), rawQuery r.URL.RawQuery).
func twilioURL(publicURL, escapedPath, rawQuery string) string {
	u := strings.TrimRight(publicURL, "/") + escapedPath
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return u
}

// jwtLeeway is the clock skew allowed for a JWT's exp and nbf claims.
const jwtLeeway = time.Minute

// verifyGatewayAPI checks token, the JWT of X-Gwapi-Signature, and returns its claims, numbers as
// json.Number. The JWT must be signed with HS256 and secret: any other algorithm ("none"
// included) is refused, whatever the token says. GatewayAPI documents the claims as the callback's
// fields (id, msisdn, status, message…) with no expiry; an exp or nbf claim, if present, is
// checked. It returns errSignature for any token that does not verify.
func verifyGatewayAPI(secret, token string, now time.Time) (map[string]any, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: no X-Gwapi-Signature", errSignature)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: X-Gwapi-Signature is not a JWT", errSignature)
	}
	var header struct {
		Alg  string          `json:"alg"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := decodeJWTPart(parts[0], &header); err != nil {
		return nil, fmt.Errorf("%w: JWT header: %v", errSignature, err)
	}
	if header.Alg != "HS256" {
		return nil, fmt.Errorf("%w: JWT algorithm is not HS256", errSignature)
	}
	if len(header.Crit) > 0 {
		return nil, fmt.Errorf("%w: JWT has critical header extensions", errSignature)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: JWT signature is not base64url", errSignature)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(m.Sum(nil), sig) {
		return nil, fmt.Errorf("%w: JWT signature does not match", errSignature)
	}
	var claims map[string]any
	if err := decodeJWTPart(parts[1], &claims); err != nil || claims == nil {
		return nil, fmt.Errorf("%w: JWT claims are not a JSON object", errSignature)
	}
	if exp, ok := numericClaim(claims, "exp"); ok && now.After(time.Unix(exp, 0).Add(jwtLeeway)) {
		return nil, fmt.Errorf("%w: JWT expired", errSignature)
	}
	if nbf, ok := numericClaim(claims, "nbf"); ok && now.Add(jwtLeeway).Before(time.Unix(nbf, 0)) {
		return nil, fmt.Errorf("%w: JWT not valid yet", errSignature)
	}
	return claims, nil
}

// decodeJWTPart decodes one base64url part of a JWT as a JSON value into v.
func decodeJWTPart(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return errors.New("not base64url")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return errors.New("not JSON")
	}
	return nil
}

// numericClaim returns the claim name as whole seconds, if it is a number. A number beyond
// ±maxClaimSeconds is held at that bound, still far in the past or the future: an nbf of 1e19
// (more seconds than an int64 holds) or 1e400 (more than a float64) is a time to come, not one
// wrapped around to the past or no time at all.
func numericClaim(claims map[string]any, name string) (int64, bool) {
	n, ok := claims[name].(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return int64(max(-maxClaimSeconds, min(f, maxClaimSeconds))), true
}

// maxClaimSeconds bounds an exp or nbf claim: some 35 million years from 1970 either way, which
// time.Unix holds and compares without overflow.
const maxClaimSeconds = 1 << 50

// gatewayAPIFields are the fields of a GatewayAPI callback that dispatch reads: the body must
// carry the same values as the JWT's claims, or it is not the callback GatewayAPI signed.
var gatewayAPIFields = []string{"id", "msisdn", "status", "message"}

// sameGatewayAPIFields reports whether body and claims agree on every field of gatewayAPIFields
// (both without it, or both with the same value: 123 and "123" are the same).
func sameGatewayAPIFields(body, claims map[string]any) bool {
	for _, k := range gatewayAPIFields {
		b, bok := scalar(body[k])
		c, cok := scalar(claims[k])
		if !bok || !cok || b != c {
			return false
		}
	}
	return true
}

// scalar returns a JSON scalar as text ("" for null or absent); ok is false for an object, an
// array or a boolean, which no field of a callback is.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	}
	return "", false
}
