package sms

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
)

const (
	number = "+358401234567"
	digits = "401234567" // what must never show in an error
	stopFI = "Tervetuloa! Peru viestit: vastaa STOP"
	token  = "s3cr3tTOKEN"
)

func message(to, text string) compose.Message {
	return compose.Message{DeliveryID: 123, MemberID: 7, RunID: 3, To: to, Content: templates.Message{Text: text}}
}

func newSender(t *testing.T, cfg Config) worker.Sender {
	t.Helper()
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func httpURL(t *testing.T, srv *httptest.Server, scheme, userinfo, query string) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return scheme + "://" + userinfo + "@" + u.Host + "?" + query
}

func TestLogSink(t *testing.T) {
	var buf bytes.Buffer
	s := newSender(t, Config{Log: &buf}) // the default URL is log://
	rcpt, err := s.Send(t.Context(), message(number, `Alennus "20 %" tänään. `+"Peru viestit: vastaa STOP"))
	if err != nil {
		t.Fatal(err)
	}
	want := `sms to=+358401234567 segments=1 encoding=GSM-7 delivery=123 text="Alennus \"20 %\" tänään. Peru viestit: vastaa STOP"` + "\n"
	if buf.String() != want {
		t.Errorf("log line\n got %q\nwant %q", buf.String(), want)
	}
	if rcpt.ProviderRef != "log-123" || rcpt.Segments != 1 {
		t.Errorf("receipt = %+v, want log-123, 1 segment", rcpt)
	}

	buf.Reset()
	rcpt, err = s.Send(t.Context(), message(number, strings.Repeat("ž", 70)+". Reply STOP"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), " segments=2 encoding=UCS-2 ") || rcpt.Segments != 2 {
		t.Errorf("UCS-2 line %q, receipt %+v; want 2 UCS-2 segments", buf.String(), rcpt)
	}
}

func TestRefusedBeforeSending(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid":"SM1"}`)
	}))
	defer srv.Close()
	var buf bytes.Buffer
	senders := map[string]worker.Sender{
		"log":        newSender(t, Config{URL: "log://", Log: &buf}),
		"twilio":     newSender(t, Config{URL: httpURL(t, srv, "twilio+http", "AC1:"+token, "from=JacksMood")}),
		"gatewayapi": newSender(t, Config{URL: httpURL(t, srv, "gatewayapi+http", token, "sender=JacksMood")}),
	}
	tests := []struct {
		name, to, text string
		bounce         bool
	}{
		{"no STOP", number, "Tervetuloa! Hyvää päivää", false},
		{"STOP not in the last sentence", number, "Vastaa STOP. Tervetuloa", false},
		{"lower-case stop", number, "Reply stop to opt out", false},
		{"no number", "", stopFI, false},
		{"number not E.164", "0401234567", stopFI, true},
		{"number with letters", "+35840CALLME", stopFI, true},
	}
	for name, s := range senders {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				_, err := s.Send(t.Context(), message(tt.to, tt.text))
				if !errors.Is(err, worker.ErrPermanent) {
					t.Fatalf("err = %v, want ErrPermanent", err)
				}
				if errors.Is(err, worker.ErrBounce) != tt.bounce {
					t.Errorf("errors.Is(err, ErrBounce) = %v, want %v (err %v)", !tt.bounce, tt.bounce, err)
				}
				if strings.Contains(err.Error(), "0401234567") || strings.Contains(err.Error(), "Tervetuloa") {
					t.Errorf("error %q repeats the number or the text", err)
				}
			})
		}
	}
	if calls.Load() != 0 || buf.Len() != 0 {
		t.Errorf("refused messages reached the gateway %d times, log %q", calls.Load(), buf.String())
	}
}

func TestTwilioSend(t *testing.T) {
	var got struct {
		path, user, pass, ctype string
		form                    url.Values
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method %s, want POST", r.Method)
		}
		got.path = r.URL.Path
		got.user, got.pass, _ = r.BasicAuth()
		got.ctype = r.Header.Get("Content-Type")
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		got.form = r.PostForm
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid":"SM0123456789abcdef","status":"queued","num_segments":"2","to":"+358401234567"}`)
	}))
	defer srv.Close()
	cb := url.QueryEscape("https://dispatch.example/hooks/sms/status")
	s := newSender(t, Config{URL: httpURL(t, srv, "twilio+http", "AC1:"+token, "from=JacksMood&status_callback="+cb)})
	text := strings.Repeat("Jäsenetu! ", 20) + "Peru viestit: vastaa STOP" // 225 GSM septets
	rcpt, err := s.Send(t.Context(), message(number, text))
	if err != nil {
		t.Fatal(err)
	}
	if rcpt.ProviderRef != "SM0123456789abcdef" || rcpt.Segments != 2 {
		t.Errorf("receipt = %+v, want SM0123456789abcdef, 2 segments", rcpt)
	}
	if got.path != "/2010-04-01/Accounts/AC1/Messages.json" {
		t.Errorf("path %q", got.path)
	}
	if got.user != "AC1" || got.pass != token {
		t.Errorf("basic auth %q:%q, want AC1:%s", got.user, got.pass, token)
	}
	if got.ctype != "application/x-www-form-urlencoded" {
		t.Errorf("content type %q", got.ctype)
	}
	want := url.Values{"To": {number}, "From": {"JacksMood"}, "Body": {text},
		"StatusCallback": {"https://dispatch.example/hooks/sms/status"}}
	for k, v := range want {
		if got.form.Get(k) != v[0] {
			t.Errorf("form %s = %q, want %q", k, got.form.Get(k), v[0])
		}
	}
	if len(got.form) != len(want) {
		t.Errorf("form has %d fields, want %d: %v", len(got.form), len(want), got.form)
	}
}

// failing returns a server answering every request with status and body.
func failing(status int, body string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
}

// checkClean fails when err repeats the number, the text or the token.
func checkClean(t *testing.T, err error) {
	t.Helper()
	for _, secret := range []string{digits, "358 40 123 4567", "Tervetuloa", token} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains %q", err, secret)
		}
	}
}

func TestTwilioErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		bounce   bool
		mentions string
	}{
		{"rate limited", 429, `{"code":20429,"message":"Too Many Requests","status":429}`, false, "20429"},
		{"server error", 500, `{"code":20500,"message":"Internal Server Error","status":500}`, false, "HTTP 500"},
		{"bad gateway, not JSON", 502, `<html>Bad Gateway</html>`, false, "Bad Gateway"},
		{"invalid To", 400, `{"code":21211,"message":"The 'To' number +358401234567 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`, true, "<number>"},
		{"unsubscribed recipient", 400, `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`, true, "21610"},
		{"not a mobile", 400, `{"code":21614,"message":"'To' number 358 40 123 4567 is not a valid mobile number","status":400}`, true, "<number>"},
		{"authentication", 401, `{"code":20003,"message":"Authenticate","status":401}`, false, "DISPATCH_SMS_URL"},
		{"From not SMS-capable", 400, `{"code":21606,"message":"The From phone number JacksMood is not a valid, SMS-capable inbound phone number","status":400}`, false, "21606"},
		{"echoes the token", 403, `{"code":20003,"message":"Bad credentials s3cr3tTOKEN","status":403}`, false, "<credential>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := failing(tt.status, tt.body)
			defer srv.Close()
			s := newSender(t, Config{URL: httpURL(t, srv, "twilio+http", "AC1:"+token, "from=JacksMood")})
			rcpt, err := s.Send(t.Context(), message(number, stopFI))
			if err == nil {
				t.Fatalf("no error, receipt %+v", rcpt)
			}
			if errors.Is(err, worker.ErrBounce) != tt.bounce || errors.Is(err, worker.ErrPermanent) != tt.bounce {
				t.Errorf("err %v: bounce=%v permanent=%v, want both %v", err,
					errors.Is(err, worker.ErrBounce), errors.Is(err, worker.ErrPermanent), tt.bounce)
			}
			if !strings.Contains(err.Error(), tt.mentions) {
				t.Errorf("error %q does not mention %q", err, tt.mentions)
			}
			checkClean(t, err)
		})
	}
}

func TestTimeoutAndConnectionErrorsAreTransient(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	s := newSender(t, Config{URL: httpURL(t, slow, "twilio+http", "AC1:"+token, "from=X"), Timeout: 50 * time.Millisecond})
	start := time.Now()
	_, err := s.Send(t.Context(), message(number, stopFI))
	if err == nil || errors.Is(err, worker.ErrPermanent) {
		t.Fatalf("timeout: err = %v, want a transient error", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Timeout not applied: took %s", time.Since(start))
	}
	checkClean(t, err)

	closed := httptest.NewServer(http.NotFoundHandler())
	target := httpURL(t, closed, "gatewayapi+http", token, "sender=JacksMood")
	closed.Close()
	s = newSender(t, Config{URL: target})
	_, err = s.Send(t.Context(), message(number, stopFI))
	if err == nil || errors.Is(err, worker.ErrPermanent) {
		t.Fatalf("connection refused: err = %v, want a transient error", err)
	}
	checkClean(t, err)
}

func TestGatewayAPISend(t *testing.T) {
	for _, tt := range []struct {
		name, text, encoding string
		segments             int
	}{
		{"GSM-7", stopFI, "", 1},
		{"UCS-2", "Šventė! 🎉 " + strings.Repeat("ž", 60) + " Reply STOP", "UCS2", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var body map[string]any
			var path, auth, ctype string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				path, auth, ctype = r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type")
				dec := json.NewDecoder(r.Body)
				dec.UseNumber()
				if err := dec.Decode(&body); err != nil {
					t.Error(err)
				}
				io.WriteString(w, `{"ids":[12345],"usage":{"countries":{"FI":1},"currency":"EUR","total_cost":0.05}}`)
			}))
			defer srv.Close()
			s := newSender(t, Config{URL: httpURL(t, srv, "gatewayapi+http", token, "sender=JacksMood")})
			rcpt, err := s.Send(t.Context(), message(number, tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if rcpt.ProviderRef != "12345" || rcpt.Segments != tt.segments {
				t.Errorf("receipt = %+v, want 12345, %d segments", rcpt, tt.segments)
			}
			if path != "/rest/mtsms" || auth != "Token "+token || ctype != "application/json" {
				t.Errorf("path %q, Authorization %q, Content-Type %q", path, auth, ctype)
			}
			if body["sender"] != "JacksMood" || body["message"] != tt.text {
				t.Errorf("sender %v, message %v", body["sender"], body["message"])
			}
			recipients, _ := body["recipients"].([]any)
			if len(recipients) != 1 {
				t.Fatalf("recipients = %v, want one", body["recipients"])
			}
			msisdn, ok := recipients[0].(map[string]any)["msisdn"].(json.Number)
			if !ok || msisdn.String() != "358401234567" {
				t.Errorf("msisdn = %#v, want the number 358401234567", recipients[0])
			}
			enc, present := body["encoding"]
			if tt.encoding == "" && present || tt.encoding != "" && enc != tt.encoding {
				t.Errorf("encoding = %v (present %v), want %q", enc, present, tt.encoding)
			}
			if body["userref"] != "123" {
				t.Errorf("userref = %v, want the delivery id", body["userref"])
			}
		})
	}
}

func TestGatewayAPIErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		bounce   bool
		mentions string
	}{
		{"rate limited", 429, `{"code":"0x0109","message":"Too many requests"}`, false, "HTTP 429"},
		{"unavailable", 503, `{"code":"0x0005","message":"Shutting down"}`, false, "HTTP 503"},
		{"blacklisted", 403, `{"code":"0x0215","message":"MSISDN 358401234567 blacklisted","incident_uuid":"d8127429-fd8e-4a5c-b1f6-1b0a1f1c4b12"}`, true, "<number>"},
		{"invalid recipient", 422, `{"code":"0x0308","message":"Invalid recipient: +358401234567"}`, true, "<number>"},
		{"temporary blacklist", 403, `{"code":"0x0214","message":"Temporary blacklist for MSISDN 358401234567 with hash abc"}`, false, "<number>"},
		{"invalid username echoes the token", 401, `{"code":"0x0210","message":"Invalid username: s3cr3tTOKEN"}`, false, "<credential>"},
		{"insufficient credit", 403, `{"code":"0x0216","message":"Insufficient credit"}`, false, "0x0216"},
		{"invalid sender", 400, `{"code":"0x0308","message":"Invalid sender"}`, false, "DISPATCH_SMS_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := failing(tt.status, tt.body)
			defer srv.Close()
			s := newSender(t, Config{URL: httpURL(t, srv, "gatewayapi+http", token, "sender=JacksMood")})
			_, err := s.Send(t.Context(), message(number, stopFI))
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, worker.ErrBounce) != tt.bounce || errors.Is(err, worker.ErrPermanent) != tt.bounce {
				t.Errorf("err %v: bounce=%v permanent=%v, want both %v", err,
					errors.Is(err, worker.ErrBounce), errors.Is(err, worker.ErrPermanent), tt.bounce)
			}
			if !strings.Contains(err.Error(), tt.mentions) {
				t.Errorf("error %q does not mention %q", err, tt.mentions)
			}
			checkClean(t, err)
		})
	}
}

func TestAcceptedWithoutID(t *testing.T) {
	srv := failing(http.StatusOK, `{"usage":{}}`)
	defer srv.Close()
	var logs bytes.Buffer
	s, err := New(Config{URL: httpURL(t, srv, "gatewayapi+http", token, "sender=JacksMood")}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rcpt, err := s.Send(t.Context(), message(number, stopFI))
	if err != nil {
		t.Fatalf("a 200 means the message went; err = %v", err)
	}
	if rcpt.ProviderRef != "" || rcpt.Segments != 1 {
		t.Errorf("receipt = %+v", rcpt)
	}
	if !strings.Contains(logs.String(), "delivery_id=123") || strings.Contains(logs.String(), digits) || strings.Contains(logs.String(), token) {
		t.Errorf("log %q: want a warning naming delivery 123 and no number or token", logs.String())
	}
}

// recorder is a transport that answers every request itself and remembers its URL.
type recorder struct{ urls []string }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.urls = append(r.urls, req.URL.String())
	status, body := http.StatusCreated, `{"sid":"SM1"}`
	if strings.HasSuffix(req.URL.Path, "/rest/mtsms") {
		status, body = http.StatusOK, `{"ids":[1]}`
	}
	return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}, Request: req}, nil
}

func TestProductionURLsUseHTTPS(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"twilio://AC1:" + token + "@api.twilio.com?from=JacksMood", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"},
		{"gatewayapi://" + token + "@gatewayapi.com?sender=JacksMood", "https://gatewayapi.com/rest/mtsms"},
		{"gatewayapi://" + token + "@gatewayapi.eu/?sender=JacksMood", "https://gatewayapi.eu/rest/mtsms"},
	} {
		rec := &recorder{}
		s := newSender(t, Config{URL: tt.url, HTTPClient: &http.Client{Transport: rec}})
		if _, err := s.Send(t.Context(), message(number, stopFI)); err != nil {
			t.Fatalf("%s: %v", tt.want, err)
		}
		if len(rec.urls) != 1 || rec.urls[0] != tt.want {
			t.Errorf("requests %v, want %s", rec.urls, tt.want)
		}
	}
}

func TestURLErrors(t *testing.T) {
	for _, raw := range []string{
		"smtp://" + token + "@mail.example",
		"twilio+https://AC1:" + token + "@api.twilio.com?from=X",
		"log+http://",
		"twilio://api.twilio.com?from=JacksMood",
		"twilio://AC1@api.twilio.com?from=JacksMood",
		"twilio://AC1:" + token + "@api.twilio.com",
		"twilio://AC1:" + token + "@?from=JacksMood",
		"twilio://AC1:" + token + "@api.twilio.com/2010-04-01?from=JacksMood",
		"twilio://AC1:" + token + "@api.twilio.com?from=JacksMood&form=typo",
		"twilio://AC1:" + token + "@api.twilio.com?from=JacksMood&status_callback=not-a-url",
		"twilio://AC1:" + token + "%zz@api.twilio.com?from=JacksMood",
		"gatewayapi://gatewayapi.com?sender=JacksMood",
		"gatewayapi://" + token + "@gatewayapi.com",
		"gatewayapi://" + token + "@gatewayapi.com?sender=ThisSenderIsFarTooLong",
		"log://?verbose=1",
	} {
		cfg := Config{URL: raw}
		err := cfg.Validate()
		if err == nil {
			t.Errorf("%q: no error", raw)
			continue
		}
		if !strings.Contains(err.Error(), "DISPATCH_SMS_URL") || strings.Contains(err.Error(), token) {
			t.Errorf("%q: error %q must name DISPATCH_SMS_URL and not the token", raw, err)
		}
		if s, err := New(Config{URL: raw}, nil); err == nil || s != nil {
			t.Errorf("%q: New returned %v, %v", raw, s, err)
		}
	}
}

func TestValidateDefaults(t *testing.T) {
	var cfg Config
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.URL != "log://" || cfg.Timeout != 10*time.Second || cfg.HTTPClient == nil || cfg.Log == nil {
		t.Errorf("defaults not filled: %+v", cfg)
	}
}

func TestRedact(t *testing.T) {
	m := message(number, stopFI)
	for in, want := range map[string]string{
		"The 'To' number +358401234567 is not valid":      "The 'To' number <number> is not valid",
		"msisdn 358401234567, also 040-123 4567":          "msisdn <number>, also <number>",
		"code 21211 and 0x0215 stay":                      "code 21211 and 0x0215 stay",
		"body was: Tervetuloa! Peru viestit: vastaa STOP": "body was: <text>",
	} {
		if got := redact(in, m); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
