package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// twilioMessage is what Twilio signs for a POST of params to rawURL, written here apart from
// hooksig.go: the URL, then each distinct (name, value) pair, sorted by name and then value, as
// the name followed by the value.
func twilioMessage(rawURL string, params url.Values) string {
	var pairs [][2]string
	for k, vs := range params {
		for _, v := range vs {
			if !slices.Contains(pairs, [2]string{k, v}) {
				pairs = append(pairs, [2]string{k, v})
			}
		}
	}
	slices.SortFunc(pairs, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	var sb strings.Builder
	sb.WriteString(rawURL)
	for _, p := range pairs {
		sb.WriteString(p[0] + p[1])
	}
	return sb.String()
}

func twilioMAC(authToken, message string) string {
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(message))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// FuzzTwilioSignature checks the X-Twilio-Signature of SMS callbacks:
//   - twilioSignature is the HMAC-SHA1 computed here, and that signature verifies;
//   - verifyTwilio accepts a signature only when it is the HMAC, under the auth token, of the URL
//     as given or in its other form and the parameters: with another auth token, another or an
//     added parameter or another URL it fails unless the signed text is the very same;
//   - the other form of the URL differs from it in the port alone: the default port of the
//     scheme written where none was, or the port left out where one was;
//   - every refusal wraps errSignature; nothing panics.
func FuzzTwilioSignature(f *testing.F) {
	f.Add(twilioDocToken, twilioDocURL, "Digits", "1234", "From", "+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
	f.Add("auth-token", "https://jacksmood.example/hooks/sms/inbound?key=0123456789abcdef", "Body", "STOP", "MessageSid", "SM123", "")
	f.Add("auth-token", "http://[::1]:8080/hooks/sms/status?key=k", "MessageStatus", "undelivered", "ErrorCode", "30003", "kvajT1Ptam85bY51eRf/AJRuM3w=")
	f.Add("", "https://h:443/a%2Fb?x=1#frag", "a", "bc", "ab", "c", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Add("t", "::not a url", "", "", "", "", "not base64")
	f.Fuzz(func(t *testing.T, token, rawURL, k1, v1, k2, v2, signature string) {
		params := url.Values{}
		params.Add(k1, v1)
		params.Add(k2, v2)
		signed := twilioMAC(token, twilioMessage(rawURL, params))
		if got := twilioSignature(token, rawURL, params); got != signed {
			t.Fatalf("twilioSignature = %s, want %s", got, signed)
		}
		if err := verifyTwilio(token, signed, rawURL, params); err != nil {
			t.Fatalf("a signature computed here does not verify: %v", err)
		}

		forms := twilioURLs(rawURL)
		if len(forms) == 0 || len(forms) > 2 || forms[0] != rawURL {
			t.Fatalf("twilioURLs(%q) = %q", rawURL, forms)
		}
		if len(forms) == 2 {
			checkOtherURLForm(t, rawURL, forms[1])
		}
		// verify accepts exactly the HMACs of the forms of the URL with the parameters.
		accepts := func(sig, rawURL string, params url.Values) bool {
			forms := twilioURLs(rawURL)
			if len(forms) == 2 {
				checkOtherURLForm(t, rawURL, forms[1])
			}
			for _, u := range forms {
				if hmac.Equal([]byte(twilioMAC(token, twilioMessage(u, params))), []byte(sig)) {
					return true
				}
			}
			return false
		}
		check := func(what, sig, rawURL string, params url.Values) {
			err := verifyTwilio(token, sig, rawURL, params)
			if err != nil && !errors.Is(err, errSignature) {
				t.Fatalf("%s: verify = %v, want errSignature", what, err)
			}
			want := sig != "" && accepts(sig, rawURL, params)
			if (err == nil) != want {
				t.Fatalf("%s: verify(%q, %q, %v) = %v, want ok %v", what, sig, rawURL, params, err, want)
			}
		}
		check("the fuzzed signature", signature, rawURL, params)
		if err := verifyTwilio(token+"x", signed, rawURL, params); err == nil {
			t.Fatalf("a signature under token %q verified under %q", token, token+"x")
		}
		added := url.Values{}
		for k, vs := range params {
			added[k] = slices.Clone(vs)
		}
		added.Add("Tampered"+k1+k2, "1")
		check("an added parameter", signed, rawURL, added)
		changed := url.Values{k1: {v1 + "0"}}
		if k2 != k1 {
			changed.Set(k2, v2)
		}
		check("a changed value", signed, rawURL, changed)
		check("another URL", signed, rawURL+"/status", params)
		check("the other hook", signed, strings.Replace(rawURL, "inbound", "status", 1), params)
	})
}

// checkOtherURLForm fails unless other is rawURL with its port left out or the default one
// written, when rawURL is an absolute http(s) URL, as SMSHooks.Validate has the public URL be.
func checkOtherURLForm(t *testing.T, rawURL, other string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("twilioURLs(%q) has a second form %q of a URL that does not parse", rawURL, other)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return
	}
	o, err := url.Parse(other)
	if err != nil {
		t.Fatalf("twilioURLs(%q): the other form %q does not parse: %v", rawURL, other, err)
	}
	if o.Scheme != u.Scheme || o.Hostname() != u.Hostname() || o.Path != u.Path || o.RawQuery != u.RawQuery ||
		o.Fragment != u.Fragment || o.User.String() != u.User.String() || o.Opaque != u.Opaque {
		t.Fatalf("twilioURLs(%q): the other form %q is another URL", rawURL, other)
	}
	switch {
	case u.Port() != "" && o.Port() == "":
	case u.Port() == "" && u.Scheme == "http" && o.Port() == "80":
	case u.Port() == "" && u.Scheme != "http" && o.Port() == "443":
	default:
		t.Fatalf("twilioURLs(%q): the other form %q changes the port %q to %q", rawURL, other, u.Port(), o.Port())
	}
}

var jwtNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// hs256 signs header and claims as a JWT with secret, computed here apart from hooksig.go.
func hs256(secret, header, claims string) string {
	body := b64(header) + "." + b64(claims)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return body + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// claimTime says where a numeric claim falls against now, with the minute's leeway: -1 well
// before now-leeway (or now+leeway for nbf, side +1), +1 well after, 0 too near to tell (within
// two seconds, which truncation to whole seconds may move), or absent when it is not a number.
func claimTime(claims map[string]any, name string, side int) (pos int, present bool) {
	n, ok := claims[name].(json.Number)
	if !ok {
		return 0, false
	}
	v, _, err := big.ParseFloat(string(n), 10, 256, big.ToNearestEven)
	if err != nil {
		return 0, false
	}
	edge := new(big.Float).SetInt64(jwtNow.Unix() + int64(side)*int64(jwtLeeway/time.Second))
	diff, _ := new(big.Float).Sub(v, edge).Float64()
	switch {
	case diff < -2:
		return -1, true
	case diff > 2:
		return 1, true
	}
	return 0, true
}

// FuzzGatewayAPIJWT checks X-Gwapi-Signature, the JWT of GatewayAPI's callbacks:
//   - a token signed here with HS256 and the secret, over claims that are a JSON object, verifies
//     to those claims unless its exp is past or its nbf to come (beyond the minute's leeway, at
//     any magnitude), and is then refused;
//   - the same signed with another secret, or with the algorithm none or another one, or with
//     a critical header, is refused;
//   - the token with one byte changed, cut or lengthened is refused, or says the same when the
//     change is in the signature's encoding alone;
//   - any token that verifies has three parts, a header naming HS256 and the HMAC-SHA256 of its
//     first two parts under the secret (computed here), and its claims are what they decode to;
//   - every refusal wraps errSignature; nothing panics.
func FuzzGatewayAPIJWT(f *testing.F) {
	docClaims := `{"id":2381703,"msisdn":4542609045,"time":1522764062,"status":"DELIVERED","error":null,"code":null,"userref":null,"callback_url":"http://bbaf7142.ngrok.io","api":4}`
	f.Add("secret", docClaims, gatewayAPIDocJWT, uint(40), byte('A'))
	f.Add("webhook-secret-0123456789", `{"id":5001,"msisdn":358403334444,"message":"Lopeta","exp":1772366400}`, "not_valid", uint(0), byte('.'))
	f.Add("webhook-secret-0123456789", `{"id":1,"status":"DELIVERED","nbf":1e400}`, "a.b.c", uint(200), byte('='))
	f.Add("", `{"exp":-1e19,"nbf":"soon"}`, hs256("", `{"alg":"none"}`, `{}`), uint(7), byte(0))
	f.Add("s", `[1,2]`, "eyJhbGciOiJIUzI1NiJ9.bnVsbA.", uint(1), byte('x'))
	f.Fuzz(func(t *testing.T, secret, claimsJSON, token string, pos uint, b byte) {
		verify := func(secret, token string) (map[string]any, error) {
			claims, err := verifyGatewayAPI(secret, token, jwtNow)
			if err != nil && !errors.Is(err, errSignature) {
				t.Fatalf("verify(%q) = %v, want errSignature", token, err)
			}
			if err == nil {
				verified(t, secret, token, claims)
			}
			return claims, err
		}
		verify(secret, token)

		header := `{"alg":"HS256","typ":"JWT"}`
		own := hs256(secret, header, claimsJSON)
		got, err := verify(secret, own)
		var want map[string]any
		d := json.NewDecoder(strings.NewReader(claimsJSON))
		d.UseNumber()
		if d.Decode(&want) != nil || want == nil {
			if err == nil {
				t.Fatalf("claims %q that are not a JSON object verified: %v", claimsJSON, got)
			}
		} else {
			exp, hasExp := claimTime(want, "exp", -1)
			nbf, hasNbf := claimTime(want, "nbf", +1)
			switch {
			case (hasExp && exp < 0) || (hasNbf && nbf > 0):
				if err == nil {
					t.Fatalf("claims %s verified on %s: exp or nbf says no", claimsJSON, jwtNow)
				}
			case (!hasExp || exp > 0) && (!hasNbf || nbf < 0):
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("claims %s signed here: %v, %v", claimsJSON, got, err)
				}
			}
		}
		for what, tok := range map[string]string{
			"another secret":   hs256(secret+"x", header, claimsJSON),
			"alg none":         hs256(secret, `{"alg":"none","typ":"JWT"}`, claimsJSON),
			"alg HS512":        hs256(secret, `{"alg":"HS512"}`, claimsJSON),
			"alg hs256":        hs256(secret, `{"alg":"hs256"}`, claimsJSON),
			"critical header":  hs256(secret, `{"alg":"HS256","crit":["exp"]}`, claimsJSON),
			"unsigned":         strings.TrimRight(own, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
			"padded signature": own + "=",
		} {
			if got, err := verify(secret, tok); err == nil {
				t.Fatalf("%s: %q verified: %v", what, tok, got)
			}
		}

		sigAt := strings.LastIndexByte(own, '.') + 1
		i := int(pos % uint(len(own)+1))
		altered := []string{own[:i], own + string([]byte{b}), own[:i] + string([]byte{b}) + own[i:]}
		if i < len(own) && own[i] != b {
			altered = append(altered, own[:i]+string([]byte{b})+own[i+1:])
		}
		for _, a := range altered {
			if a == own {
				continue
			}
			c, aerr := verify(secret, a)
			if aerr == nil && (err != nil || !strings.HasPrefix(a, own[:sigAt]) || !reflect.DeepEqual(c, got)) {
				t.Fatalf("%q, altered to %q, verified: %v", own, a, c)
			}
		}
	})
}

// verified fails unless token, which verifyGatewayAPI accepted with claims, is a JWT signed with
// HS256 and secret whose claims decode to claims.
func verified(t *testing.T, secret, token string, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("%q verified with %d parts", token, len(parts))
	}
	raw := make([][]byte, 3)
	for i, p := range parts {
		var err error
		if raw[i], err = base64.RawURLEncoding.DecodeString(p); err != nil {
			t.Fatalf("%q verified with part %d not base64url: %v", token, i, err)
		}
	}
	var header struct{ Alg string }
	if err := json.NewDecoder(bytes.NewReader(raw[0])).Decode(&header); err != nil {
		t.Fatalf("%q verified with header %q: %v", token, raw[0], err)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(parts[0] + "." + parts[1]))
	if header.Alg != "HS256" || !hmac.Equal(m.Sum(nil), raw[2]) {
		t.Fatalf("%q verified without an HS256 signature under the secret (header %s)", token, raw[0])
	}
	var want map[string]any
	d := json.NewDecoder(bytes.NewReader(raw[1]))
	d.UseNumber()
	if err := d.Decode(&want); err != nil || !reflect.DeepEqual(claims, want) {
		t.Fatalf("%q verified to %v, its claims are %v (%v)", token, claims, want, err)
	}
}

// swapASCIICase turns ASCII upper case letters to lower case and lower to upper; nothing else.
func swapASCIICase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

// FuzzSMSHookFields checks how the SMS hooks read a callback's fields:
//   - IsStop: the first word decides, whatever its case, the space before it or the words after
//     it: an opt-out keyword (with . ! or , after it) before any text is a STOP, another word is
//     not, and a STOP has an opt-out keyword in it;
//   - reportOutcome: pending, delivered or failed, final only for a status the hook takes (lower
//     case letters and _);
//   - msisdn: a plus before a number of digits alone, the text as it is otherwise; twice is once.
func FuzzSMSHookFields(f *testing.F) {
	for _, s := range []string{"STOP", "Lopeta", "stop.", " Stoppa! kiitos", "STOPPING", "Hello stop",
		"ſtop", "UNDELIVERED", "delivered", "4542609045", "+358401234567", "", "\u00a0 quit,", "\xffSTOP"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		stop := IsStop(text)
		for _, variant := range []string{swapASCIICase(text), " \t\r\n" + text, text + " please"} {
			if IsStop(variant) != stop {
				t.Fatalf("IsStop(%q) = %v, IsStop(%q) = %v", text, stop, variant, !stop)
			}
		}
		if stop {
			upper := strings.ToUpper(text)
			if !slices.ContainsFunc([]string{"STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "LOPETA", "SLUTA"}, func(w string) bool { return strings.Contains(upper, w) }) {
				t.Fatalf("IsStop(%q) with no opt-out keyword in it", text)
			}
		}
		for _, prefix := range []string{"STOP ", "stop, ", "Lopeta! ", "Stoppa.\n", "sluta\t", "unsubscribe "} {
			if !IsStop(prefix + text) {
				t.Fatalf("IsStop(%q) = false", prefix+text)
			}
		}
		if IsStop("Hello " + text) {
			t.Fatalf("IsStop(%q) = true", "Hello "+text)
		}

		switch outcome := reportOutcome(text); outcome {
		case "pending":
		case "delivered", "failed":
			if !hookStatus.MatchString(text) {
				t.Fatalf("reportOutcome(%q) = %s, for a status the hook refuses", text, outcome)
			}
		default:
			t.Fatalf("reportOutcome(%q) = %q", text, outcome)
		}

		n := msisdn(text)
		digits := text != "" && strings.Trim(text, "0123456789") == ""
		if (digits && len(text) <= 19 && n != "+"+text) || (!digits && n != text) || (n != text && n != "+"+text) {
			t.Fatalf("msisdn(%q) = %q", text, n)
		}
		if again := msisdn(n); again != n {
			t.Fatalf("msisdn(%q) = %q, msisdn of that %q", text, n, again)
		}
	})
}
