package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

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

// `dispatch serve` has two listeners: the public one answers only the unsubscribe pages, the SMS
// hooks and /healthz; the staff one everything else but those. An idle connection is closed.
func TestServeSplitsPublicAndStaffListeners(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.serve()
	get := func(url string) int {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for path, want := range map[string]int{"/healthz": 200, "/api/campaigns": 404, "/readyz": 404, "/metrics": 404, "/ops/queues/": 404, "/u/x": 400} {
		if got := get(s.public + path); got != want {
			t.Errorf("public %s: %d, want %d", path, got, want)
		}
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/api/campaigns": 401, "/u/x": 404, "/hooks/sms/status": 404} {
		if got := get(s.staff + path); got != want {
			t.Errorf("staff %s: %d, want %d", path, got, want)
		}
	}
}

// A connection that says nothing, or stays idle after its request, is closed by the server: idle
// connections cannot pile up until the process runs out of files.
func TestServeClosesIdleConnections(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.start("serve", "--idle-timeout", "300ms", "--header-timeout", "300ms")
	waitFor(t, 10*time.Second, "the server", func() bool {
		resp, err := http.Get(s.public + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	closedWithin := func(conn net.Conn, d time.Duration) bool {
		conn.SetReadDeadline(time.Now().Add(d))
		_, err := io.ReadAll(conn)
		return err == nil // EOF: the server closed it; a timeout is an error
	}
	// Silent: no request at all.
	silent, err := net.Dial("tcp", strings.TrimPrefix(s.public, "http://"))
	pgtest.Must(t, "dial", err)
	defer silent.Close()
	if !closedWithin(silent, 3*time.Second) {
		t.Error("a connection that sent nothing stayed open")
	}
	// Idle after a keep-alive request.
	idle, err := net.Dial("tcp", strings.TrimPrefix(s.staff, "http://"))
	pgtest.Must(t, "dial", err)
	defer idle.Close()
	fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if !closedWithin(idle, 3*time.Second) {
		t.Error("an idle keep-alive connection stayed open")
	}
}

// Uploads that trickle in (the audit's 40 slow imports) hold no database connection while they
// arrive: the upload is read to a file first. Meanwhile the API and /readyz answer at once.
func TestSlowUploadsDoNotHoldTheDatabase(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	privacy := strings.TrimSpace(s.must("users", "add", "pirjo", "--role", "privacy"))
	marketer := strings.TrimSpace(s.must("users", "add", "maija", "--role", "marketer"))
	s.serve()
	const uploads = 40
	var conns []net.Conn
	for range uploads {
		c, err := net.Dial("tcp", strings.TrimPrefix(s.staff, "http://"))
		pgtest.Must(t, "dial", err)
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /api/members/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\n%s", privacy, memberHeader)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	time.Sleep(300 * time.Millisecond) // the uploads are in the server's hands, unfinished
	start := time.Now()
	if code, _, raw := s.call("GET", "/readyz", "", "", ""); code != 200 {
		t.Fatalf("/readyz during %d slow uploads: %d %s", uploads, code, raw)
	}
	if code, _, raw := s.call("GET", "/api/campaigns", marketer, "", ""); code != 200 {
		t.Fatalf("an API call during %d slow uploads: %d %s", uploads, code, raw)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the server took %s to answer beside %d slow uploads", took, uploads)
	}
}
