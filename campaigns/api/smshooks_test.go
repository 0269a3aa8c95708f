package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/api"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

func TestSMSHooks(t *testing.T) {
	t.Parallel()
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
	srv, err := api.New(api.Config{Secret: secret, Hooks: s}, s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	pgtest.Must(t, "api", err)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	key := api.HookKey(secret)
	smsConsent := func(ext string) (campaigns.ConsentEvent, bool) {
		m, err := s.MemberByExternalID(ctx, ext)
		pgtest.Must(t, "member", err)
		ev, ok, err := s.CurrentConsent(ctx, m.ID, campaigns.SMS)
		pgtest.Must(t, "consent", err)
		return ev, ok
	}
	post := func(path, contentType, body string) int {
		resp, err := http.Post(hs.URL+path, contentType, strings.NewReader(body))
		pgtest.Must(t, "post", err)
		resp.Body.Close()
		return resp.StatusCode
	}
	form := func(v url.Values) string { return v.Encode() }

	// A wrong key changes nothing.
	if code := post("/hooks/sms/inbound?key=nope", "application/x-www-form-urlencoded", form(url.Values{"From": {"+358401112222"}, "Body": {"STOP"}})); code != 403 {
		t.Fatalf("wrong key: %d", code)
	}
	// A message that is not STOP changes nothing.
	if code := post("/hooks/sms/inbound?key="+key, "application/x-www-form-urlencoded", form(url.Values{"From": {"+358401112222"}, "Body": {"Kiitos!"}})); code != 204 {
		t.Fatalf("other message: %d", code)
	}
	if ev, _ := smsConsent("M1"); ev.Status != campaigns.Granted {
		t.Fatal("a message that is not STOP withdrew the consent")
	}
	// Twilio's form: STOP withdraws M1's SMS consent, with source sms-stop; M2 keeps theirs.
	if code := post("/hooks/sms/inbound?key="+key, "application/x-www-form-urlencoded", form(url.Values{"From": {"+358401112222"}, "Body": {" stop "}})); code != 200 {
		t.Fatalf("twilio STOP: %d", code)
	}
	if ev, _ := smsConsent("M1"); ev.Status != campaigns.Withdrawn || ev.Source != campaigns.SourceSMSStop {
		t.Fatalf("after STOP: %+v", ev)
	}
	if ev, _ := smsConsent("M2"); ev.Status != campaigns.Granted {
		t.Fatal("STOP from M1 withdrew M2's consent")
	}
	// GatewayAPI's JSON, in Finnish.
	if code := post("/hooks/sms/inbound?key="+key, "application/json", `{"id":1,"msisdn":358403334444,"message":"Lopeta"}`); code != 200 {
		t.Fatalf("gatewayapi STOP: %d", code)
	}
	if ev, _ := smsConsent("M2"); ev.Status != campaigns.Withdrawn {
		t.Fatal("LOPETA did not withdraw")
	}

	// The sender written with the trunk 0 in brackets, as some gateways and phones show it, is M3:
	// the hand-written normaliser made it +3580405556666 and found nobody.
	if code := post("/hooks/sms/inbound?key="+key, "application/x-www-form-urlencoded", form(url.Values{"From": {"+358 (0)40 555 6666"}, "Body": {"STOP"}})); code != 200 {
		t.Fatalf("STOP from the (0) form: %d", code)
	}
	if ev, _ := smsConsent("M3"); ev.Status != campaigns.Withdrawn || ev.Source != campaigns.SourceSMSStop {
		t.Fatalf("STOP from +358 (0)40 … did not withdraw M3's consent: %+v", ev)
	}
	// A sender that is not a valid number is refused, as an unreadable one always was.
	if code := post("/hooks/sms/inbound?key="+key, "application/x-www-form-urlencoded", form(url.Values{"From": {"+358 44 82"}, "Body": {"STOP"}})); code != 422 {
		t.Fatalf("STOP from an invalid number: %d, want 422", code)
	}

	// Delivery reports mark the delivery by the gateway's id.
	m1, _ := s.MemberByExternalID(ctx, "M1")
	for _, q := range []string{
		`INSERT INTO campaigns (id, name, kind, spec) VALUES (1, 'c', 'newsletter', '{}')`,
		`INSERT INTO runs (id, campaign_id, scheduled_for, status) VALUES (1, 1, now(), 'finished')`,
	} {
		_, err := s.DB().Exec(q)
		pgtest.Must(t, q, err)
	}
	_, err = s.DB().Exec(`INSERT INTO deliveries (run_id, member_id, channel, batch, status, provider_ref, sent_at) VALUES (1, $1, 'sms', 0, 'sent', 'SM123', now())`, m1.ID)
	pgtest.Must(t, "delivery", err)
	if code := post("/hooks/sms/status?key="+key, "application/x-www-form-urlencoded", form(url.Values{"MessageSid": {"SM123"}, "MessageStatus": {"undelivered"}})); code != 204 {
		t.Fatalf("status: %d", code)
	}
	var status, reason string
	pgtest.Must(t, "row", s.DB().QueryRow(`SELECT status, reason FROM deliveries WHERE provider_ref = 'SM123'`).Scan(&status, &reason))
	if status != "failed" || reason != "delivery report: undelivered" {
		t.Fatalf("after the report: %s %q", status, reason)
	}
	if code := post("/hooks/sms/status?key="+key, "application/json", `{"id":999,"status":"DELIVERED"}`); code != 404 {
		t.Fatalf("report on an unknown message: %d", code)
	}
}
