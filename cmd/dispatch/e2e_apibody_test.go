package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// The API reads only what it can trust: JSON bodies sent as application/json, one value, no key
// twice or spelled otherwise than documented, valid UTF-8, and never more than its limit. Each
// refusal changes nothing.
func TestAPIRefusesBodiesItCannotTrust(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	marketer := strings.TrimSpace(s.must("users", "add", "maija", "--role", "marketer"))
	s.serve()
	db := s.dbHandle()
	spec := `{"name":"Strict","kind":"newsletter","channels":["email"]}`
	cases := []struct {
		name, contentType, body string
		status                  int
		want                    string
	}{
		{"form post from a web page", "text/plain", spec, 415, "application/json"},
		{"no content type", "", spec, 415, "application/json"},
		{"a key twice", "application/json", `{"name":"Strict","name":"Other","kind":"newsletter","channels":["email"]}`, 422, "name: appears twice"},
		{"a key in other case", "application/json", `{"Name":"Strict","kind":"newsletter","channels":["email"]}`, 422, `unknown field "Name"`},
		{"nested key in other case", "application/json", `{"name":"Strict","kind":"newsletter","channels":["email"],"segment":{"Languages":["fi"]}}`, 422, `unknown field "segment.Languages"`},
		{"two values", "application/json", spec + ` {"name":"x"}`, 422, "more than one JSON value"},
		{"not UTF-8", "application/json", `{"name":"Str` + "\xff" + `ict","kind":"newsletter","channels":["email"]}`, 422, "not valid UTF-8"},
		{"over the limit", "application/json", strings.Repeat(" ", 1<<20) + spec, 413, "too large"},
	}
	for _, c := range cases {
		code, body, raw := s.call("POST", "/api/campaigns", marketer, c.contentType, c.body)
		if code != c.status || !strings.Contains(fmt.Sprint(body["error"]), c.want) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, code, raw, c.status, c.want)
		}
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM campaigns`); n != 0 {
		t.Fatalf("refused bodies created %d campaigns", n)
	}
	// The attack of the audit: 1 MiB of spaces, then a body asking to send a finished campaign again.
	code, body, raw := s.call("POST", "/api/campaigns", marketer, "application/json", spec)
	if code != 201 {
		t.Fatalf("create: %d %s", code, raw)
	}
	id := fmt.Sprint(int64(body["id"].(float64)))
	if code, _, raw := s.call("POST", "/api/campaigns/"+id+"/schedule", marketer, "application/json", strings.Repeat(" ", 1<<20)+`{"at":"2031-01-01T09:00:00Z"}`); code != 413 {
		t.Fatalf("oversized schedule: %d %s", code, raw)
	}
	if code, _, raw := s.call("POST", "/api/campaigns/"+id+"/schedule", marketer, "text/plain", `{"at":"2031-01-01T09:00:00Z"}`); code != 415 {
		t.Fatalf("text/plain schedule: %d %s", code, raw)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM campaigns WHERE status = 'draft'`); n != 1 {
		t.Fatal("a refused schedule changed the campaign")
	}
	// An empty body is still fine where the body is optional.
	if code, _, raw := s.call("POST", "/api/campaigns/"+id+"/schedule", marketer, "", ""); code != 200 {
		t.Fatalf("schedule without a body: %d %s", code, raw)
	}
}

// A NUL byte or another control character in a path or a field is refused with a 4xx naming the
// field, never a 500 from the database.
func TestAPIRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	privacy := strings.TrimSpace(s.must("users", "add", "pirjo", "--role", "privacy"))
	marketer := strings.TrimSpace(s.must("users", "add", "maija", "--role", "marketer"))
	s.serve()
	for _, c := range []struct{ method, path, token, body, want string }{
		{"GET", "/api/members/%00/export", privacy, "", "external_id: has a control character (U+0000)"},
		{"DELETE", "/api/members/A%0AB", privacy, "", "external_id: has a control character (U+000A)"},
		{"PUT", "/api/members/%00/consents/sms", privacy, `{"status":"withdrawn","source":"customer-service"}`, "external_id: has a control character"},
		{"GET", "/api/coupons/%00", marketer, "", "code: has a control character (U+0000)"},
		{"POST", "/api/coupons/ABCD/redeem", marketer, `{"store":"Kamppi\u0000","order_ref":"1"}`, "store: has a control character"},
		{"GET", "/api/members/" + strings.Repeat("x", 65) + "/export", privacy, "", "external_id: is longer than 64 characters"},
	} {
		code, body, raw := s.call(c.method, c.path, c.token, "application/json", c.body)
		if code != 422 || !strings.Contains(fmt.Sprint(body["error"]), c.want) {
			t.Errorf("%s %s: %d %s, want 422 with %q", c.method, c.path, code, raw, c.want)
		}
	}
}
