package api_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/api"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

const (
	twilioToken = "twilio-auth-token-0123456789abcdef"
	gwapiSecret = "gatewayapi-webhook-secret-0123"
	// hookPublicURL is where the gateway calls dispatch; the test server listens elsewhere, as
	// dispatch does behind a proxy.
	hookPublicURL = "https://hooks.jacksmood.example"
)

// twilioSign is Twilio, hand-written: the X-Twilio-Signature of a POST of form to u, as Twilio's
// documentation computes it (HMAC-SHA1 with the auth token over the URL, then each parameter's
// name and value sorted by name; base64).
func twilioSign(token, u string, form url.Values) string {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	s := u
	for _, k := range names {
		s += k + form.Get(k)
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// gatewayAPIJWT is GatewayAPI, hand-written: the JWT of X-Gwapi-Signature, whose claims are the
// callback's fields, signed with HS256 and secret. An alg other than HS256 is written in the
// header as given, with the same HS256 signature ("none": no signature).
func gatewayAPIJWT(secret, alg string, claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(map[string]string{"typ": "JWT", "alg": alg}) + "." + enc(claims)
	if alg == "none" {
		return signed + "."
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// hookLog collects the server's log lines.
type hookLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *hookLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *hookLog) lines(msg string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.buf.String(), "\n") {
		if strings.Contains(line, `msg="`+msg+`"`) {
			out = append(out, line)
		}
	}
	return out
}

func (l *hookLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// hookFixture is a register of three members with SMS consent (M1 040 111 2222, M2 040 333 4444,
// M3 040 555 6666), SMS deliveries sent with the gateway's ids given, and the server over HTTP.
type hookFixture struct {
	t   *testing.T
	s   *postgres.Store
	hs  *httptest.Server
	key string
	log *hookLog
}

func newHookFixture(t *testing.T, hooks func(*postgres.Store) api.HookStore, refs ...string) *hookFixture {
	t.Helper()
	s := pgtest.New(t)
	ctx := context.Background()
	const csv = "external_id,first_name,last_name,email,phone,street,postal_code,city,country,language,email_consent,sms_consent,postal_objection\n" +
		"M1,Aino,Laine,,040 111 2222,Katu 1,00100,HELSINKI,FI,fi,,yes,\n" +
		"M2,Eino,Laine,,040 333 4444,Katu 1,00100,HELSINKI,FI,fi,,yes,\n" +
		"M3,Toivo,Laine,,040 555 6666,Katu 1,00100,HELSINKI,FI,fi,,yes,\n"
	_, err := s.ImportMembers(ctx, func(row func(csvfile.MemberRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadMembers(strings.NewReader(csv), "m.csv", row)
	}, campaigns.SourceImport, campaigns.Audit{Actor: "tester", Action: campaigns.AuditMembersImport})
	pgtest.Must(t, "import", err)
	for _, q := range []string{
		`INSERT INTO campaigns (id, name, kind, spec) VALUES (1, 'c', 'newsletter', '{}')`,
		`INSERT INTO runs (id, campaign_id, scheduled_for, status) VALUES (1, 1, now(), 'finished')`,
	} {
		_, err := s.DB().Exec(q)
		pgtest.Must(t, q, err)
	}
	m1, err := s.MemberByExternalID(ctx, "M1")
	pgtest.Must(t, "member", err)
	for i, ref := range refs {
		// One delivery per run, member and channel: each in a run of its own.
		_, err := s.DB().Exec(`INSERT INTO runs (id, campaign_id, scheduled_for, status) VALUES ($1, 1, now(), 'finished') ON CONFLICT DO NOTHING`, i+2)
		pgtest.Must(t, "run", err)
		_, err = s.DB().Exec(`INSERT INTO deliveries (run_id, member_id, channel, batch, status, provider_ref, sent_at)
			VALUES ($1, $2, 'sms', 0, 'sent', $3, now())`, i+2, m1.ID, ref)
		pgtest.Must(t, "delivery", err)
	}
	l := &hookLog{}
	srv, err := api.New(api.Config{Secret: secret, Hooks: hooks(s)}, s, slog.New(slog.NewTextHandler(l, nil)))
	pgtest.Must(t, "api", err)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &hookFixture{t: t, s: s, hs: hs, key: api.HookKey(secret), log: l}
}

// allProviders sets up both gateways, as no deployment does, to test both on one server.
func allProviders(s *postgres.Store) api.HookStore {
	return &api.SMSHooks{HookStore: s, PublicURL: hookPublicURL, TwilioAuthToken: twilioToken, GatewayAPISecret: gwapiSecret}
}

// path is the hook's path and query, with the key.
func (f *hookFixture) path(hook string) string { return "/hooks/sms/" + hook + "?key=" + f.key }

// post sends body to the test server at path with the headers, and returns the status.
func (f *hookFixture) post(path, contentType, body string, header map[string]string) int {
	f.t.Helper()
	req, err := http.NewRequest("POST", f.hs.URL+path, strings.NewReader(body))
	pgtest.Must(f.t, "request", err)
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	pgtest.Must(f.t, "post", err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// twilio posts form to the hook as Twilio does: signed over the public URL it calls.
func (f *hookFixture) twilio(hook string, form url.Values) int {
	f.t.Helper()
	return f.twilioSigned(hook, form, twilioSign(twilioToken, hookPublicURL+f.path(hook), form))
}

// twilioSigned posts form to the hook with the signature given.
func (f *hookFixture) twilioSigned(hook string, form url.Values, signature string) int {
	f.t.Helper()
	h := map[string]string{}
	if signature != "" {
		h["X-Twilio-Signature"] = signature
	}
	return f.post(f.path(hook), "application/x-www-form-urlencoded", form.Encode(), h)
}

// gatewayAPI posts fields to the hook as GatewayAPI does: as the JSON body and as the JWT's claims.
func (f *hookFixture) gatewayAPI(hook string, fields map[string]any) int {
	f.t.Helper()
	return f.gatewayAPIWith(hook, fields, gatewayAPIJWT(gwapiSecret, "HS256", fields))
}

// gatewayAPIWith posts fields as the JSON body with the token given.
func (f *hookFixture) gatewayAPIWith(hook string, fields map[string]any, token string) int {
	f.t.Helper()
	b, _ := json.Marshal(fields)
	h := map[string]string{}
	if token != "" {
		h["X-Gwapi-Signature"] = token
	}
	return f.post(f.path(hook), "application/json", string(b), h)
}

// consent returns the member's current SMS consent.
func (f *hookFixture) consent(ext string) campaigns.ConsentEvent {
	f.t.Helper()
	ctx := context.Background()
	m, err := f.s.MemberByExternalID(ctx, ext)
	pgtest.Must(f.t, "member", err)
	ev, _, err := f.s.CurrentConsent(ctx, m.ID, campaigns.SMS)
	pgtest.Must(f.t, "consent", err)
	return ev
}

// grant records a new SMS consent for the member, as customer service would.
func (f *hookFixture) grant(ext string) {
	f.t.Helper()
	_, err := f.s.RecordConsent(context.Background(), ext, campaigns.ConsentChange{Channel: campaigns.SMS, Status: campaigns.Granted,
		Source: campaigns.SourceCustomerService, WordingVersion: "v1"}, campaigns.Audit{Actor: "tester", Action: campaigns.AuditConsentSet})
	pgtest.Must(f.t, "grant", err)
}

// delivery returns the SMS delivery's status, reason and report state ("" for none).
func (f *hookFixture) delivery(ref string) string {
	f.t.Helper()
	var status, reason string
	var report sql.NullString
	pgtest.Must(f.t, "delivery", f.s.DB().QueryRow(`SELECT status, reason, report_status FROM deliveries WHERE provider_ref = $1`, ref).Scan(&status, &reason, &report))
	return status + "|" + reason + "|" + report.String
}

// checkRefusals checks that n refusals were logged, each once at Warn, and that no log line
// holds a phone number or a message's text.
func (f *hookFixture) checkRefusals(n int, private ...string) {
	f.t.Helper()
	lines := f.log.lines("SMS hook refused")
	if len(lines) != n {
		f.t.Errorf("%d refusals logged, want %d:\n%s", len(lines), n, f.log)
	}
	for _, line := range lines {
		if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "reason=") {
			f.t.Errorf("refusal line: %s", line)
		}
	}
	all := f.log.String()
	for _, p := range append(private, "358401112222", "358403334444", "358405556666", "401112222", "403334444", "405556666") {
		if strings.Contains(all, p) {
			f.t.Errorf("the log shows %q:\n%s", p, all)
		}
	}
}

// TestSMSHooksTwilioInbound: an inbound STOP withdraws the sender's SMS consent only when Twilio
// signed it, over the URL it called and the form it posted, and only once.
func TestSMSHooksTwilioInbound(t *testing.T) {
	t.Parallel()
	f := newHookFixture(t, allProviders)
	stop := url.Values{"MessageSid": {"SM00000000000000000000000000000001"}, "AccountSid": {"AC1"},
		"From": {"+358401112222"}, "To": {"JacksMood"}, "Body": {" stop "}}
	signed := twilioSign(twilioToken, hookPublicURL+f.path("inbound"), stop)
	refusals := 0
	refused := func(what string, code int) {
		t.Helper()
		refusals++
		if code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", what, code)
		}
		if ev := f.consent("M1"); ev.Status != campaigns.Granted {
			t.Fatalf("%s withdrew M1's consent", what)
		}
	}

	// Unsigned, with a bogus signature, or signed by another account: refused, nothing changed.
	refused("no signature", f.twilioSigned("inbound", stop, ""))
	refused("a bogus signature", f.twilioSigned("inbound", stop, "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA=="))
	refused("another account's signature", f.twilioSigned("inbound", stop, twilioSign("another-token", hookPublicURL+f.path("inbound"), stop)))
	// Signed over another URL: the address the server sees (r.Host), another path, another key.
	refused("a signature over the server's own address", f.twilioSigned("inbound", stop, twilioSign(twilioToken, f.hs.URL+f.path("inbound"), stop)))
	refused("a signature over the status hook's URL", f.twilioSigned("inbound", stop, twilioSign(twilioToken, hookPublicURL+f.path("status"), stop)))
	refused("a signature over the URL without the key", f.twilioSigned("inbound", stop, twilioSign(twilioToken, hookPublicURL+"/hooks/sms/inbound", stop)))
	// A signed request with a parameter changed (another sender) or added.
	tampered := url.Values{}
	for k, v := range stop {
		tampered[k] = v
	}
	tampered.Set("From", "+358403334444")
	refused("a tampered sender", f.twilioSigned("inbound", tampered, signed))
	if f.consent("M2").Status != campaigns.Granted {
		t.Fatal("a tampered sender withdrew M2's consent")
	}
	tampered = url.Values{"Extra": {"1"}}
	for k, v := range stop {
		tampered[k] = v
	}
	refused("an added parameter", f.twilioSigned("inbound", tampered, signed))
	// The key alone no longer does, and a wrong key with a valid signature does not either.
	if code := f.post("/hooks/sms/inbound?key=nope", "application/x-www-form-urlencoded", stop.Encode(),
		map[string]string{"X-Twilio-Signature": twilioSign(twilioToken, hookPublicURL+"/hooks/sms/inbound?key=nope", stop)}); code != 403 {
		t.Errorf("wrong key: %d", code)
	}
	refusals++

	// A signed message that is not STOP changes nothing.
	if code := f.twilio("inbound", url.Values{"MessageSid": {"SM00000000000000000000000000000002"}, "From": {"+358401112222"}, "Body": {"Kiitos!"}}); code != 204 {
		t.Fatalf("other message: %d", code)
	}
	if f.consent("M1").Status != campaigns.Granted {
		t.Fatal("a message that is not STOP withdrew the consent")
	}
	// Signed: M1's consent is withdrawn, with source sms-stop; M2 keeps theirs.
	if code := f.twilioSigned("inbound", stop, signed); code != 200 {
		t.Fatalf("signed STOP: %d", code)
	}
	if ev := f.consent("M1"); ev.Status != campaigns.Withdrawn || ev.Source != campaigns.SourceSMSStop {
		t.Fatalf("after STOP: %+v", ev)
	}
	if f.consent("M2").Status != campaigns.Granted {
		t.Fatal("STOP from M1 withdrew M2's consent")
	}
	// M1 gives their consent again; the same signed STOP, replayed, is acknowledged and changes nothing.
	f.grant("M1")
	if code := f.twilioSigned("inbound", stop, signed); code != 200 {
		t.Fatalf("replayed STOP: %d, want 200", code)
	}
	if ev := f.consent("M1"); ev.Status != campaigns.Granted {
		t.Fatalf("a replayed STOP withdrew the consent given since: %+v", ev)
	}
	// The sender written with the trunk 0 in brackets is M3 (normalised as a member file's number).
	if code := f.twilio("inbound", url.Values{"MessageSid": {"SM00000000000000000000000000000003"}, "From": {"+358 (0)40 555 6666"}, "Body": {"STOP"}}); code != 200 {
		t.Fatalf("STOP from the (0) form: %d", code)
	}
	if ev := f.consent("M3"); ev.Status != campaigns.Withdrawn || ev.Source != campaigns.SourceSMSStop {
		t.Fatalf("STOP from +358 (0)40 … did not withdraw M3's consent: %+v", ev)
	}
	// A signed STOP from a number that is not valid is refused, as an unreadable one always was.
	if code := f.twilio("inbound", url.Values{"MessageSid": {"SM00000000000000000000000000000004"}, "From": {"+358 44 82"}, "Body": {"STOP"}}); code != 422 {
		t.Fatalf("STOP from an invalid number: %d, want 422", code)
	}
	f.checkRefusals(refusals, "Kiitos", "stop ")
}

// TestSMSHooksTwilioReports: a delivery report changes the delivery only when signed, once, and
// forward: sent → delivered or failed, both final.
func TestSMSHooksTwilioReports(t *testing.T) {
	t.Parallel()
	f := newHookFixture(t, allProviders, "SM1", "SM2", "SM3")
	report := func(sid, status string, extra ...string) url.Values {
		v := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status}, "AccountSid": {"AC1"}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	const sent = "sent||"
	// A forged failure: a bogus signature, or a signature over another report, changes nothing.
	undelivered := report("SM1", "undelivered", "ErrorCode", "30003")
	if code := f.twilioSigned("status", undelivered, "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA=="); code != 403 {
		t.Fatalf("bogus signature: %d", code)
	}
	if code := f.twilioSigned("status", undelivered, twilioSign(twilioToken, hookPublicURL+f.path("status"), report("SM1", "delivered"))); code != 403 {
		t.Fatalf("a delivered report's signature on a failure: %d", code)
	}
	if got := f.delivery("SM1"); got != sent {
		t.Fatalf("after forged reports: %s", got)
	}
	// Signed: sent (on its way), then undelivered with its code: failed.
	if code := f.twilio("status", report("SM1", "sent")); code != 204 {
		t.Fatalf("sent: %d", code)
	}
	if got := f.delivery("SM1"); got != "sent||pending" {
		t.Fatalf("after sent: %s", got)
	}
	if code := f.twilio("status", undelivered); code != 204 {
		t.Fatalf("undelivered: %d", code)
	}
	failed := "failed|delivery report: undelivered 30003|failed"
	if got := f.delivery("SM1"); got != failed {
		t.Fatalf("after undelivered: %s", got)
	}
	// The same signed report replayed: acknowledged, nothing changes.
	if code := f.twilio("status", undelivered); code != 200 {
		t.Fatalf("replayed report: %d, want 200", code)
	}
	// delivered after failed: the delivery stays failed, and its reason is still the failure's.
	if code := f.twilio("status", report("SM1", "delivered")); code != 204 {
		t.Fatalf("delivered after failed: %d", code)
	}
	if got := f.delivery("SM1"); got != failed {
		t.Fatalf("delivered after failed left %s, want %s", got, failed)
	}
	// delivered is final: a late failure changes nothing.
	if code := f.twilio("status", report("SM2", "delivered")); code != 204 {
		t.Fatalf("delivered: %d", code)
	}
	delivered := "sent|delivery report: delivered|delivered"
	if got := f.delivery("SM2"); got != delivered {
		t.Fatalf("after delivered: %s", got)
	}
	if code := f.twilio("status", report("SM2", "failed", "ErrorCode", "30008")); code != 204 {
		t.Fatalf("failed after delivered: %d", code)
	}
	if code := f.twilio("status", report("SM2", "sent")); code != 204 {
		t.Fatalf("sent after delivered: %d", code)
	}
	if got := f.delivery("SM2"); got != delivered {
		t.Fatalf("a late failure turned a delivered SMS into %s", got)
	}
	// A report on a message dispatch does not know: 404 (Twilio retries), nothing noted.
	if code := f.twilio("status", report("SM999", "delivered")); code != 404 {
		t.Fatalf("unknown message: %d", code)
	}
	if got := f.delivery("SM3"); got != sent {
		t.Fatalf("SM3: %s", got)
	}
	f.checkRefusals(2)
}

// TestSMSHooksGatewayAPI: GatewayAPI's callbacks count only with a JWT (HS256) signed with the
// webhook's secret whose claims are the body's fields.
func TestSMSHooksGatewayAPI(t *testing.T) {
	t.Parallel()
	f := newHookFixture(t, allProviders, "1001", "1002")
	stop := map[string]any{"id": 5001, "msisdn": 358403334444, "receiver": 4512045, "message": "Lopeta",
		"senttime": 1450000000, "webhook_label": "dispatch", "country_code": "FI", "country_prefix": 358}
	refusals := 0
	refused := func(what string, code int) {
		t.Helper()
		refusals++
		if code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", what, code)
		}
		if f.consent("M2").Status != campaigns.Granted || f.consent("M1").Status != campaigns.Granted {
			t.Fatalf("%s withdrew a consent", what)
		}
	}
	refused("no JWT", f.gatewayAPIWith("inbound", stop, ""))
	refused("a JWT signed with another secret", f.gatewayAPIWith("inbound", stop, gatewayAPIJWT("another-secret-0123456789", "HS256", stop)))
	refused("alg none", f.gatewayAPIWith("inbound", stop, gatewayAPIJWT("", "none", stop)))
	refused("alg HS384", f.gatewayAPIWith("inbound", stop, gatewayAPIJWT(gwapiSecret, "HS384", stop)))
	// Claims tampered after signing: M1's number put in the signed token.
	token := gatewayAPIJWT(gwapiSecret, "HS256", stop)
	parts := strings.Split(token, ".")
	other := map[string]any{}
	for k, v := range stop {
		other[k] = v
	}
	other["msisdn"] = 358401112222
	b, _ := json.Marshal(other)
	refused("tampered claims", f.gatewayAPIWith("inbound", other, parts[0]+"."+base64.RawURLEncoding.EncodeToString(b)+"."+parts[2]))
	// A valid token with another body: the body names M1, the signed claims M2.
	refused("a body that is not what was signed", f.gatewayAPIWith("inbound", other, token))

	// Signed: LOPETA withdraws M2's consent.
	if code := f.gatewayAPI("inbound", stop); code != 200 {
		t.Fatalf("signed STOP: %d", code)
	}
	if ev := f.consent("M2"); ev.Status != campaigns.Withdrawn || ev.Source != campaigns.SourceSMSStop {
		t.Fatalf("after LOPETA: %+v", ev)
	}
	f.grant("M2")
	if code := f.gatewayAPI("inbound", stop); code != 200 {
		t.Fatalf("replayed STOP: %d", code)
	}
	if f.consent("M2").Status != campaigns.Granted {
		t.Fatal("a replayed STOP withdrew the consent given since")
	}

	// Delivery reports, by GatewayAPI's id.
	dlr := func(id int, status string) map[string]any {
		return map[string]any{"id": id, "msisdn": 358401112222, "time": 1450000000, "status": status, "userref": "1", "api": 4}
	}
	if code := f.gatewayAPIWith("status", dlr(1001, "UNDELIVERABLE"), gatewayAPIJWT("another-secret-0123456789", "HS256", dlr(1001, "UNDELIVERABLE"))); code != 403 {
		t.Fatalf("report with a wrong secret: %d", code)
	}
	refusals++
	if got := f.delivery("1001"); got != "sent||" {
		t.Fatalf("after a forged report: %s", got)
	}
	if code := f.gatewayAPI("status", dlr(1001, "DELIVERED")); code != 204 {
		t.Fatalf("DELIVERED: %d", code)
	}
	if code := f.gatewayAPI("status", dlr(1001, "DELIVERED")); code != 200 {
		t.Fatalf("replayed DELIVERED: %d", code)
	}
	if code := f.gatewayAPI("status", dlr(1001, "EXPIRED")); code != 204 {
		t.Fatalf("EXPIRED after DELIVERED: %d", code)
	}
	if got := f.delivery("1001"); got != "sent|delivery report: delivered|delivered" {
		t.Fatalf("1001: %s", got)
	}
	if code := f.gatewayAPI("status", dlr(1002, "ENROUTE")); code != 204 {
		t.Fatalf("ENROUTE: %d", code)
	}
	if code := f.gatewayAPI("status", dlr(1002, "REJECTED")); code != 204 {
		t.Fatalf("REJECTED: %d", code)
	}
	if code := f.gatewayAPI("status", dlr(1002, "DELIVERED")); code != 204 {
		t.Fatalf("DELIVERED after REJECTED: %d", code)
	}
	if got := f.delivery("1002"); got != "failed|delivery report: rejected|failed" {
		t.Fatalf("1002: %s", got)
	}
	if code := f.gatewayAPI("status", dlr(999, "DELIVERED")); code != 404 {
		t.Fatalf("report on an unknown message: %d", code)
	}
	f.checkRefusals(refusals, "Lopeta")
}

// TestSMSHooksProviderNotSetUp: a callback of a gateway whose secret is not set is 404, whatever
// it carries; the key is checked first.
func TestSMSHooksProviderNotSetUp(t *testing.T) {
	t.Parallel()
	stop := url.Values{"MessageSid": {"SM1"}, "From": {"+358401112222"}, "Body": {"STOP"}}
	gw := map[string]any{"id": 1, "msisdn": 358401112222, "message": "STOP"}

	// A bare store: no gateway set up.
	f := newHookFixture(t, func(s *postgres.Store) api.HookStore { return s })
	if code := f.twilio("inbound", stop); code != 404 {
		t.Errorf("Twilio without its token: %d", code)
	}
	if code := f.gatewayAPI("inbound", gw); code != 404 {
		t.Errorf("GatewayAPI without its secret: %d", code)
	}
	if code := f.post("/hooks/sms/inbound?key=nope", "application/x-www-form-urlencoded", stop.Encode(), nil); code != 403 {
		t.Errorf("wrong key: %d", code)
	}
	if f.consent("M1").Status != campaigns.Granted {
		t.Fatal("a hook of no gateway withdrew the consent")
	}
	f.checkRefusals(3)

	// Twilio only: GatewayAPI's JSON is 404 even when signed; Twilio's form is served.
	f = newHookFixture(t, func(s *postgres.Store) api.HookStore {
		return api.SMSHooks{HookStore: s, PublicURL: hookPublicURL + "/", TwilioAuthToken: twilioToken}
	})
	if code := f.gatewayAPI("inbound", gw); code != 404 {
		t.Errorf("GatewayAPI on a Twilio deployment: %d", code)
	}
	if code := f.post(f.path("inbound"), "text/plain", "STOP", nil); code != 415 {
		t.Errorf("text/plain: %d", code)
	}
	if code := f.twilio("inbound", stop); code != 200 {
		t.Errorf("Twilio: %d", code)
	}
	if f.consent("M1").Status != campaigns.Withdrawn {
		t.Fatal("Twilio's signed STOP did not withdraw")
	}
	f.checkRefusals(2)
}
