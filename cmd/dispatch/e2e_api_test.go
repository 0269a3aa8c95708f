package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// call makes an API request with a bearer token and returns the status and the decoded JSON body.
func (s *system) call(method, path, token, contentType, body string) (int, map[string]any, string) {
	s.t.Helper()
	base := s.staff
	if strings.HasPrefix(path, "/u/") || strings.HasPrefix(path, "/hooks/") {
		base = s.public
	}
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return resp.StatusCode, m, string(raw)
}

// serve starts `dispatch serve` and waits until it answers /healthz.
func (s *system) serve() {
	s.t.Helper()
	s.start("serve")
	waitFor(s.t, 10*time.Second, "the server", func() bool {
		resp, err := http.Get(s.staff + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
}

func TestHTTPAPI(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	marketer := strings.TrimSpace(s.must("users", "add", "maija", "--role", "marketer"))
	privacy := strings.TrimSpace(s.must("users", "add", "pirjo", "--role", "privacy"))
	s.serve()

	// Members, by the privacy officer: a bad row is reported, the good ones imported.
	csv := memberHeader + "A1,Aino,Laine,aino@example.com,040 111 2222,Katu 1,00100,HELSINKI,FI,fi,yes,yes,no,,\n" +
		"A2,Bad,Postcode,bad@example.com,,Katu 2,123,HELSINKI,FI,fi,yes,,,,\n"
	code, body, raw := s.call("POST", "/api/members/import?name=members.csv", privacy, "text/csv", csv)
	if code != 422 || body["imported"] != 1.0 || !strings.Contains(raw, `line 3: postal_code`) {
		t.Fatalf("import: %d %s", code, raw)
	}
	if code, _, raw := s.call("POST", "/api/members/import", privacy, "text/csv", memberHeader+"A3,\"x,,,,,,,,,,,,,\n"); code != 400 || !strings.Contains(raw, `"error"`) {
		t.Fatalf("broken file: %d %s", code, raw)
	}
	if code, _, _ := s.call("POST", "/api/members/import", marketer, "text/csv", csv); code != 403 {
		t.Fatalf("a marketer imported members: %d", code)
	}
	if code, _, _ := s.call("GET", "/api/members/A1/export", "", "", ""); code != 401 {
		t.Fatalf("export without a token: %d", code)
	}

	// A campaign, by the marketer.
	spec := `{"name":"API-kuponki","kind":"coupon","channels":["email"],"coupon":{"discount":"-15 %","valid_days":14}}`
	code, body, raw = s.call("POST", "/api/campaigns", marketer, "application/json", spec)
	if code != 201 || body["status"] != "draft" {
		t.Fatalf("create: %d %s", code, raw)
	}
	id := fmt.Sprint(int64(body["id"].(float64)))
	if code, body, _ := s.call("POST", "/api/campaigns", marketer, "application/json", `{"name":"x","kind":"coupon","channels":["email"],"colour":"red"}`); code != 422 || body["error"] != `unknown field "colour"` {
		t.Fatalf("unknown field: %d %v", code, body)
	}
	if code, _, raw := s.call("POST", "/api/campaigns/"+id+"/preview", marketer, "application/json", `{"member":"A1","channel":"email"}`); code != 200 || !strings.Contains(raw, "Hei Aino") {
		t.Fatalf("preview: %d %s", code, raw)
	}
	if code, body, _ := s.call("POST", "/api/campaigns/"+id+"/schedule", marketer, "application/json", ""); code != 200 || body["status"] != "scheduled" {
		t.Fatalf("schedule: %d %v", code, body)
	}
	s.start("scheduler", "--interval", "100ms")
	s.start("worker")
	s.waitFinished(id, 30*time.Second)
	if code, _, raw := s.call("GET", "/api/campaigns/"+id+"/stats", marketer, "", ""); code != 200 || !strings.Contains(raw, `"sent":1`) {
		t.Fatalf("stats: %d %s", code, raw)
	}
	for _, action := range []string{"pause", "resume", "cancel"} {
		if code, body, _ := s.call("POST", "/api/campaigns/"+id+"/"+action, marketer, "", ""); code != 409 || !strings.Contains(fmt.Sprint(body["error"]), "finished") {
			t.Fatalf("%s of a finished campaign: %d %v", action, code, body)
		}
	}
	if code, body, _ := s.call("POST", "/api/campaigns/"+id+"/schedule", marketer, "application/json", `{"at":"tomorrow"}`); code != 422 || !strings.Contains(fmt.Sprint(body["error"]), "at:") {
		t.Fatalf("schedule at a bad time: %d %v", code, body)
	}

	// The coupon: shown, redeemed once.
	var coupon string
	pgtest.Must(t, "code", s.dbHandle().Get(&coupon, `SELECT code FROM coupons`))
	if code, body, _ := s.call("GET", "/api/coupons/"+coupon, marketer, "", ""); code != 200 || body["code"] != coupon {
		t.Fatalf("coupon: %d %v", code, body)
	}
	if code, _, _ := s.call("POST", "/api/coupons/"+coupon+"/redeem", marketer, "application/json", `{"store":"Kamppi","order_ref":"W-1"}`); code != 200 {
		t.Fatalf("redeem: %d", code)
	}
	if code, body, _ := s.call("POST", "/api/coupons/"+coupon+"/redeem", marketer, "application/json", `{"store":"Itis","order_ref":"W-2"}`); code != 409 || !strings.Contains(body["error"].(string), "already redeemed") {
		t.Fatalf("second redeem: %d %v", code, body)
	}

	// The member's rights, by the privacy officer.
	if code, body, _ := s.call("PUT", "/api/members/A1/consents/sms", privacy, "application/json", `{"status":"withdrawn","source":"customer-service"}`); code != 200 || body["status"] != "withdrawn" {
		t.Fatalf("consent: %d %v", code, body)
	}
	if code, _, raw := s.call("GET", "/api/members/A1/export", privacy, "", ""); code != 200 || !strings.Contains(raw, `"code":"`+coupon+`"`) || !strings.Contains(raw, "aino@example.com") {
		t.Fatalf("export: %d %s", code, raw)
	}
	if code, body, _ := s.call("DELETE", "/api/members/A1", privacy, "", ""); code != 200 || body["erased"] != true {
		t.Fatalf("erase: %d %v", code, body)
	}
	if code, body, _ := s.call("GET", "/api/members/A1/export", privacy, "", ""); code != 404 || body["error"] == nil {
		t.Fatalf("export after erase: %d %v", code, body)
	}
	if code, body, _ := s.call("GET", "/api/nothing-here", privacy, "", ""); code != 404 || body["error"] == nil {
		t.Fatalf("unknown endpoint: %d %v", code, body)
	}
	// Every privileged act names its user in the audit log.
	var acts []string
	pgtest.Must(t, "audit", s.dbHandle().Select(&acts, `SELECT actor || ' ' || action FROM audit_log WHERE actor IN ('maija', 'pirjo') ORDER BY id`))
	want := "pirjo members.import,maija campaigns.create,maija campaigns.preview,maija campaigns.schedule,maija coupons.redeem,pirjo consent.set,pirjo members.export,pirjo members.erase"
	if strings.Join(acts, ",") != want {
		t.Fatalf("audit:\n%s\nwant\n%s", strings.Join(acts, ","), want)
	}
}
