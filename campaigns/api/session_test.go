package api_test

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/api"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/campaigns/service"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker/compose"
)

// console is a server with the JSON API, sign-in and a stand-in for the queue dashboard, on a real
// listener, with three users: olli (ops), maija (marketer) and aino (admin).
type console struct {
	store  *postgres.Store
	srv    *api.Server
	hs     *httptest.Server
	client *http.Client // does not follow redirects
	log    *logBuffer
	tokens map[string]string
	// dashboardPosts counts the state-changing requests that reached the dashboard.
	dashboardPosts atomic.Int64
}

func newConsole(t *testing.T, tls bool) *console {
	t.Helper()
	ctx := context.Background()
	c := &console{store: pgtest.New(t), log: &logBuffer{}, tokens: map[string]string{}}
	for name, role := range map[string]campaigns.Role{"olli": campaigns.RoleOps, "maija": campaigns.RoleMarketer, "aino": campaigns.RoleAdmin} {
		_, token, err := c.store.AddUser(ctx, name, role, time.Now().Add(time.Hour), campaigns.Audit{Actor: "tester", Action: campaigns.AuditUsersAdd})
		pgtest.Must(t, "add user "+name, err)
		c.tokens[name] = token
	}
	r, err := templates.New("")
	pgtest.Must(t, "templates", err)
	composer, err := compose.New(compose.Config{PublicURL: "http://127.0.0.1:8080", Secret: secret}, r)
	pgtest.Must(t, "composer", err)
	svc, err := service.New(service.Config{}, c.store, composer, slog.New(slog.DiscardHandler))
	pgtest.Must(t, "service", err)
	dashboard := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			c.dashboardPosts.Add(1)
		}
		io.WriteString(w, "dashboard")
	})
	c.srv, err = api.New(api.Config{Secret: secret, Service: svc, Ops: dashboard}, c.store, slog.New(slog.NewTextHandler(c.log, nil)))
	pgtest.Must(t, "api", err)
	if tls {
		c.hs = httptest.NewTLSServer(c.srv)
	} else {
		c.hs = httptest.NewServer(c.srv)
	}
	t.Cleanup(c.hs.Close)
	c.client = c.hs.Client()
	c.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// do sends a request; set holds headers, and cookies are added as they are.
func (c *console) do(t *testing.T, method, path string, body io.Reader, set map[string]string, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, c.hs.URL+path, body)
	pgtest.Must(t, "request", err)
	for k, v := range set {
		req.Header.Set(k, v)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := c.client.Do(req)
	pgtest.Must(t, method+" "+path, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formCSRF returns the csrf field of a page.
func formCSRF(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in the page:\n%s", page)
	}
	return m[1]
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, ck := range resp.Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// postLogin fetches the sign-in page and posts its form with name, token and next (as given, with
// the page's CSRF token and nonce cookie), with the extra headers set.
func (c *console) postLogin(t *testing.T, name, token, next string, set map[string]string) *http.Response {
	t.Helper()
	resp, page := c.do(t, "GET", "/login", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /login: %d", resp.StatusCode)
	}
	nonce := cookieNamed(resp, "dispatch_login")
	if nonce == nil {
		t.Fatal("GET /login set no dispatch_login cookie")
	}
	form := url.Values{"name": {name}, "token": {token}, "next": {next}, "csrf": {formCSRF(t, page)}}
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range set {
		h[k] = v
	}
	resp, _ = c.do(t, "POST", "/login", strings.NewReader(form.Encode()), h, nonce)
	return resp
}

// signIn signs the user in and returns the session cookie and the session's CSRF token (from the
// home page's sign-out form).
func (c *console) signIn(t *testing.T, name string) (*http.Cookie, string) {
	t.Helper()
	resp := c.postLogin(t, name, c.tokens[name], "/", map[string]string{"Origin": c.hs.URL, "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d", name, resp.StatusCode)
	}
	ck := cookieNamed(resp, "dispatch_session")
	if ck == nil {
		t.Fatalf("sign in %s: no session cookie", name)
	}
	resp, page := c.do(t, "GET", "/", nil, nil, ck)
	if resp.StatusCode != 200 || !strings.Contains(page, name) {
		t.Fatalf("home page of %s: %d\n%s", name, resp.StatusCode, page)
	}
	return ck, formCSRF(t, page)
}

// checkSecurityHeaders fails the test unless the answer carries the headers of dispatch's pages.
func checkSecurityHeaders(t *testing.T, what string, resp *http.Response, tls bool) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: %s is %q, want %q", what, k, got, v)
		}
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); (hsts != "") != tls {
		t.Errorf("%s: Strict-Transport-Security %q over TLS=%v", what, hsts, tls)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
}

func TestLoginStartsASession(t *testing.T) {
	t.Parallel()
	c := newConsole(t, false)

	// The sign-in page: a form with a CSRF token, and the pages' security headers.
	resp, page := c.do(t, "GET", "/login?next=%2Fops%2Fqueues%2F", nil, nil)
	checkSecurityHeaders(t, "GET /login", resp, false)
	for _, want := range []string{`name="name"`, `name="token" type="password"`, `name="next" value="/ops/queues/"`, `href="/assets/console.css"`} {
		if !strings.Contains(page, want) {
			t.Errorf("sign-in page lacks %s:\n%s", want, page)
		}
	}
	if hasInlineScript(page) || strings.Contains(page, "style=") || strings.Contains(page, "<style") {
		t.Errorf("sign-in page has inline script or style, which its policy forbids:\n%s", page)
	}
	if nonce := cookieNamed(resp, "dispatch_login"); nonce == nil || !nonce.HttpOnly || nonce.SameSite != http.SameSiteStrictMode {
		t.Errorf("sign-in nonce cookie: %+v", nonce)
	}
	css, _ := c.do(t, "GET", "/assets/console.css", nil, nil)
	if css.StatusCode != 200 || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Errorf("style sheet: %d %s", css.StatusCode, css.Header.Get("Content-Type"))
	}

	// A good name and token: a session cookie, HttpOnly, SameSite=Strict, not Secure over plain HTTP.
	resp = c.postLogin(t, "olli", c.tokens["olli"], "/ops/queues/", map[string]string{"Origin": c.hs.URL, "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ops/queues/" {
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	session := cookieNamed(resp, "dispatch_session")
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure || session.Path != "/" || len(session.Value) != 43 {
		t.Fatalf("session cookie: %+v", session)
	}
	// Only the session id's SHA-256 is stored.
	sum := sha256.Sum256([]byte(session.Value))
	if n := pgtest.Count(t, c.store.DB(), `SELECT count(*) FROM sessions WHERE id_hash = $1`, sum[:]); n != 1 {
		t.Errorf("%d sessions stored under the id's hash", n)
	}
	if n := pgtest.Count(t, c.store.DB(), `SELECT count(*) FROM sessions WHERE position(convert_to($1, 'UTF8') in id_hash) > 0 OR csrf_token = $1`, session.Value); n != 0 {
		t.Error("the session id itself is stored")
	}

	// The session reaches the dashboard as ops, and the request log names the user.
	resp, body := c.do(t, "GET", "/ops/queues/", nil, nil, session)
	if resp.StatusCode != 200 || body != "dashboard" {
		t.Fatalf("dashboard with an ops session: %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("the dashboard may be framed: %v", resp.Header)
	}
	if line := c.log.requestLine(t, "/ops/queues/"); !strings.Contains(line, "user=olli") || !strings.Contains(line, "status=200") {
		t.Errorf("request log of the dashboard: %s", line)
	}
	if !strings.Contains(c.log.String(), `msg=login user=olli role=ops addr=127.0.0.1`) {
		t.Errorf("no login line:\n%s", c.log.String())
	}

	// A marketer's session: a 403 page with the security headers. An admin's: the dashboard.
	mkt, _ := c.signIn(t, "maija")
	resp, body = c.do(t, "GET", "/ops/queues/", nil, nil, mkt)
	// The refusal is a page of her console (her name and translated role, sign-out), in Finnish.
	if resp.StatusCode != http.StatusForbidden || body == "dashboard" || !strings.Contains(body, "maija (markkinoija)") ||
		!strings.Contains(body, `action="/logout"`) || !strings.Contains(body, "rooleille: ylläpitäjä sekä pääkäyttäjä") {
		t.Errorf("dashboard with a marketer's session: %d %q", resp.StatusCode, body)
	}
	checkSecurityHeaders(t, "403 page", resp, false)
	admin, _ := c.signIn(t, "aino")
	if resp, body := c.do(t, "GET", "/ops/queues/", nil, nil, admin); resp.StatusCode != 200 || body != "dashboard" {
		t.Errorf("dashboard with an admin's session: %d %q", resp.StatusCode, body)
	}

	// Without a session, the dashboard sends the browser to sign in, and back after. A token, Bearer
	// or Basic, opens no page: and nothing challenges the browser for Basic credentials.
	for what, h := range map[string]map[string]string{
		"nothing":   nil,
		"bearer":    {"Authorization": "Bearer " + c.tokens["olli"]},
		"basic":     {"Authorization": "Basic " + basic("olli", c.tokens["olli"])},
		"bad token": {"Cookie": "dispatch_session=" + strings.Repeat("A", 43)},
	} {
		resp, body := c.do(t, "GET", "/ops/queues/", nil, h)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fops%2Fqueues%2F" || body == "dashboard" {
			t.Errorf("dashboard with %s: %d to %q", what, resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("dashboard with %s: challenge %q", what, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

func basic(name, token string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(name, token)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func TestSessionCookieIsSecureOverTLS(t *testing.T) {
	t.Parallel()
	c := newConsole(t, true)
	resp, _ := c.do(t, "GET", "/login", nil, nil)
	checkSecurityHeaders(t, "GET /login over TLS", resp, true)
	resp = c.postLogin(t, "olli", c.tokens["olli"], "/", map[string]string{"Origin": c.hs.URL})
	session := cookieNamed(resp, "dispatch_session")
	if resp.StatusCode != http.StatusSeeOther || session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Fatalf("sign-in over TLS: %d, cookie %+v", resp.StatusCode, session)
	}
	// Over TLS, the http:// origin of the same host is another origin.
	plain := strings.Replace(c.hs.URL, "https://", "http://", 1)
	resp = c.postLogin(t, "olli", c.tokens["olli"], "/", map[string]string{"Origin": plain})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in over TLS from %s: %d", plain, resp.StatusCode)
	}
}

func TestLogoutEndsTheSession(t *testing.T) {
	t.Parallel()
	c := newConsole(t, false)
	session, csrf := c.signIn(t, "olli")
	form := func(token string) io.Reader { return strings.NewReader(url.Values{"csrf": {token}}.Encode()) }
	formType := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

	// Without the CSRF token a sign-out is refused: another site cannot sign a user out.
	if resp, _ := c.do(t, "POST", "/logout", form(""), formType, session); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-out without the CSRF token: %d", resp.StatusCode)
	}
	if resp, _ := c.do(t, "GET", "/ops/queues/", nil, nil, session); resp.StatusCode != 200 {
		t.Fatalf("the session ended without its CSRF token: %d", resp.StatusCode)
	}
	resp, _ := c.do(t, "POST", "/logout", form(csrf), formType, session)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("sign-out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if ck := cookieNamed(resp, "dispatch_session"); ck == nil || ck.MaxAge >= 0 {
		t.Errorf("sign-out does not delete the cookie: %+v", ck)
	}
	if n := pgtest.Count(t, c.store.DB(), `SELECT count(*) FROM sessions`); n != 0 {
		t.Errorf("%d sessions left after sign-out", n)
	}
	// The old cookie opens nothing any more.
	resp, _ = c.do(t, "GET", "/ops/queues/", nil, nil, session)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("dashboard after sign-out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	c := newConsole(t, false)
	db := c.store.DB()
	ctx := context.Background()
	expectLogin := func(what string, session *http.Cookie) {
		t.Helper()
		resp, body := c.do(t, "GET", "/ops/queues/", nil, nil, session)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") || body == "dashboard" {
			t.Errorf("%s: %d to %q, want a redirect to /login", what, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	expectDashboard := func(what string, session *http.Cookie) {
		t.Helper()
		if resp, body := c.do(t, "GET", "/ops/queues/", nil, nil, session); resp.StatusCode != 200 || body != "dashboard" {
			t.Errorf("%s: %d %q, want the dashboard", what, resp.StatusCode, body)
		}
	}
	hashOf := func(ck *http.Cookie) []byte { s := sha256.Sum256([]byte(ck.Value)); return s[:] }

	// Used within 30 minutes: still good, and the use renews it.
	session, _ := c.signIn(t, "olli")
	pgtest.Must(t, "age", exec(db, `UPDATE sessions SET last_seen = now() - interval '29 minutes' WHERE id_hash = $1`, hashOf(session)))
	expectDashboard("a session used 29 minutes ago", session)
	if n := pgtest.Count(t, db, `SELECT count(*) FROM sessions WHERE id_hash = $1 AND last_seen > now() - interval '1 minute'`, hashOf(session)); n != 1 {
		t.Error("a request did not renew the session's last use")
	}
	// Unused for 31 minutes: over.
	pgtest.Must(t, "age", exec(db, `UPDATE sessions SET last_seen = now() - interval '31 minutes' WHERE id_hash = $1`, hashOf(session)))
	expectLogin("a session idle for 31 minutes", session)

	// Past its absolute expiry (12 hours after sign-in), however recently used.
	session, _ = c.signIn(t, "olli")
	if n := pgtest.Count(t, db, `SELECT count(*) FROM sessions WHERE id_hash = $1 AND expires_at BETWEEN created_at + interval '12 hours' - interval '1 second' AND created_at + interval '12 hours' + interval '1 second'`, hashOf(session)); n != 1 {
		t.Error("a session does not expire 12 hours after sign-in")
	}
	pgtest.Must(t, "expire", exec(db, `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id_hash = $1`, hashOf(session)))
	expectLogin("a session past its expiry", session)

	// A rotated token ends the sessions begun with it; a disabled user's sessions open nothing.
	session, _ = c.signIn(t, "olli")
	_, _, err := c.store.RotateToken(ctx, "olli", time.Now().Add(time.Hour), campaigns.Audit{Actor: "tester", Action: campaigns.AuditUsersRotate})
	pgtest.Must(t, "rotate", err)
	expectLogin("a session of a rotated token", session)
	session, _ = c.signIn(t, "aino")
	expectDashboard("an admin's session", session)
	_, err = c.store.DisableUser(ctx, "aino", campaigns.Audit{Actor: "tester", Action: campaigns.AuditUsersDisable})
	pgtest.Must(t, "disable", err)
	expectLogin("a disabled user's session", session)
}

func exec(db *sqlx.DB, q string, args ...any) error {
	_, err := db.Exec(q, args...)
	return err
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	c := newConsole(t, false)
	session, csrf := c.signIn(t, "olli")
	evil := "https://evil.example"
	formType := "application/x-www-form-urlencoded"

	// Dispatch's own forms (POST /logout stands for them all): the token, and no sign of another
	// origin. Each refusal leaves the session as it was.
	refused := []struct {
		name string
		form string
		h    map[string]string
	}{
		{"no token", "", map[string]string{"Origin": c.hs.URL}},
		{"a wrong token", "csrf=" + strings.Repeat("x", 43), map[string]string{"Origin": c.hs.URL}},
		{"the token in the query only", "", map[string]string{"Origin": c.hs.URL}},
		{"a foreign Origin", "csrf=" + csrf, map[string]string{"Origin": evil}},
		{"Origin null", "csrf=" + csrf, map[string]string{"Origin": "null"}},
		{"Sec-Fetch-Site cross-site", "csrf=" + csrf, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"Sec-Fetch-Site same-site", "csrf=" + csrf, map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"a foreign Referer", "csrf=" + csrf, map[string]string{"Referer": evil + "/page"}},
		{"the token in a header, foreign Origin", "", map[string]string{"X-CSRF-Token": csrf, "Origin": evil}},
	}
	for _, r := range refused {
		h := map[string]string{"Content-Type": formType}
		for k, v := range r.h {
			h[k] = v
		}
		path := "/logout"
		if r.name == "the token in the query only" {
			path += "?csrf=" + csrf
		}
		resp, body := c.do(t, "POST", path, strings.NewReader(r.form), h, session)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-out with %s: %d", r.name, resp.StatusCode)
		}
		checkSecurityHeaders(t, "CSRF refusal", resp, false)
		if strings.Contains(body, csrf) {
			t.Errorf("the refusal page shows the CSRF token")
		}
	}
	if n := pgtest.Count(t, c.store.DB(), `SELECT count(*) FROM sessions`); n != 1 {
		t.Fatalf("a refused sign-out ended the session (%d left)", n)
	}
	logged := c.log.String()
	if n := strings.Count(logged, `msg="request refused: cross-site request forgery" user=olli`); n != len(refused) {
		t.Errorf("%d CSRF refusals logged, want %d:\n%s", n, len(refused), logged)
	}
	if strings.Contains(logged, csrf) || strings.Contains(logged, session.Value) {
		t.Errorf("the log shows the session or its CSRF token:\n%s", logged)
	}

	// The dashboard's scripts cannot send the token: its state changes need positive evidence of the
	// same origin, Sec-Fetch-Site: same-origin or (from a browser without it) our own Origin.
	pause := "/ops/queues/api/queues/default:pause"
	for what, h := range map[string]map[string]string{
		"no origin headers":                 nil,
		"Sec-Fetch-Site cross-site":         {"Sec-Fetch-Site": "cross-site", "Origin": evil},
		"Sec-Fetch-Site same-site":          {"Sec-Fetch-Site": "same-site"},
		"Sec-Fetch-Site none":               {"Sec-Fetch-Site": "none"},
		"a foreign Origin":                  {"Origin": evil},
		"text/plain, foreign":               {"Origin": evil, "Content-Type": "text/plain"},
		"same-origin fetch, foreign Origin": {"Sec-Fetch-Site": "same-origin", "Origin": evil},
	} {
		if resp, _ := c.do(t, "POST", pause, nil, h, session); resp.StatusCode != http.StatusForbidden {
			t.Errorf("dashboard POST with %s: %d", what, resp.StatusCode)
		}
	}
	if n := c.dashboardPosts.Load(); n != 0 {
		t.Fatalf("%d refused requests reached the dashboard", n)
	}
	for what, h := range map[string]map[string]string{
		"Sec-Fetch-Site same-origin": {"Sec-Fetch-Site": "same-origin", "Origin": c.hs.URL},
		"our own Origin":             {"Origin": c.hs.URL},
	} {
		if resp, body := c.do(t, "POST", pause, nil, h, session); resp.StatusCode != 200 || body != "dashboard" {
			t.Errorf("dashboard POST with %s: %d %q", what, resp.StatusCode, body)
		}
	}
	if resp, _ := c.do(t, "DELETE", "/ops/queues/api/queues/default", nil, map[string]string{"Sec-Fetch-Site": "same-origin"}, session); resp.StatusCode != 200 {
		t.Errorf("dashboard DELETE from the same origin: %d", resp.StatusCode)
	}

	// With the token and from the same origin, the form works: in the form or in X-CSRF-Token.
	resp, _ := c.do(t, "POST", "/logout", strings.NewReader("csrf="+url.QueryEscape(csrf)),
		map[string]string{"Content-Type": formType, "Origin": c.hs.URL, "Sec-Fetch-Site": "same-origin", "Referer": c.hs.URL + "/"}, session)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-out with the token from the same origin: %d", resp.StatusCode)
	}
	session, csrf = c.signIn(t, "olli")
	resp, _ = c.do(t, "POST", "/logout", nil, map[string]string{"X-CSRF-Token": csrf, "Origin": c.hs.URL}, session)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-out with X-CSRF-Token from the same origin: %d", resp.StatusCode)
	}

	// The sign-in form has its own token, bound to the browser's nonce cookie, and refuses other
	// origins.
	for what, h := range map[string]map[string]string{
		"a foreign Origin":          {"Origin": evil},
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site"},
	} {
		if resp := c.postLogin(t, "olli", c.tokens["olli"], "/", h); resp.StatusCode != http.StatusForbidden || cookieNamed(resp, "dispatch_session") != nil {
			t.Errorf("sign-in with %s: %d", what, resp.StatusCode)
		}
	}
	form := url.Values{"name": {"olli"}, "token": {c.tokens["olli"]}, "csrf": {"forged"}}
	if resp, _ := c.do(t, "POST", "/login", strings.NewReader(form.Encode()), map[string]string{"Content-Type": formType}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without the page's token: %d", resp.StatusCode)
	}
}

func TestLoginRefusesOpenRedirects(t *testing.T) {
	t.Parallel()
	c := newConsole(t, false)
	for next, want := range map[string]string{
		"/ops/queues/?tab=1":      "/ops/queues/?tab=1",
		"":                        "/",
		"//evil.example/":         "/",
		"https://evil.example/":   "/",
		`/\evil.example`:          "/",
		`/\/evil.example`:         "/",
		`\\evil.example`:          "/",
		"///evil.example":         "/",
		"javascript:alert(1)":     "/",
		"evil.example":            "/",
		"/\tevil":                 "/",
		"/ops\r\nSet-Cookie: x=1": "/",
		"http:/evil.example":      "/",
		"/%2F%2Fevil.example":     "/", // a path of this site, but one that decodes to //evil.example
		"/ops/queues/?q=//evil":   "/ops/queues/?q=//evil",
	} {
		resp := c.postLogin(t, "olli", c.tokens["olli"], next, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("next=%q: %d to %q, want %q", next, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	// The page does not carry a foreign next into its form either.
	_, page := c.do(t, "GET", "/login?next="+url.QueryEscape("//evil.example"), nil, nil)
	if !strings.Contains(page, `name="next" value="/"`) {
		t.Errorf("the sign-in page keeps a foreign next:\n%s", page)
	}
}

func TestLoginIsRateLimited(t *testing.T) {
	t.Parallel()
	c := newConsole(t, false)
	const wrong = "dsp_WRONG-TOKEN-GUESS-0123456789"
	for i := 1; i <= 5; i++ {
		if resp := c.postLogin(t, "olli", wrong+strconv.Itoa(i), "/", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d: %d", i, resp.StatusCode)
		}
	}
	// The sixth attempt is refused without its token being checked: even the right one.
	resp := c.postLogin(t, "olli", c.tokens["olli"], "/", nil)
	if resp.StatusCode != http.StatusTooManyRequests || cookieNamed(resp, "dispatch_session") != nil {
		t.Fatalf("sixth sign-in: %d", resp.StatusCode)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s <= 0 || s > 15*60 {
		t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	// Another user from the same address is limited too (the address counts).
	if resp := c.postLogin(t, "maija", c.tokens["maija"], "/", nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("another user from the limited address: %d", resp.StatusCode)
	}

	// Each failure is a security event at Warn: user, address, reason, never the token.
	logged := c.log.String()
	var failures []string
	for _, line := range strings.Split(logged, "\n") {
		if strings.Contains(line, `msg="login failed"`) {
			failures = append(failures, line)
		}
	}
	if len(failures) != 7 {
		t.Fatalf("%d login failed lines, want 7:\n%s", len(failures), logged)
	}
	for i, line := range failures {
		for _, want := range []string{"level=WARN", "user=", "addr=127.0.0.1", "reason="} {
			if !strings.Contains(line, want) {
				t.Errorf("failure line lacks %s: %s", want, line)
			}
		}
		if i < 5 && !strings.Contains(line, "user=olli") {
			t.Errorf("failure line does not name the user: %s", line)
		}
	}
	if !strings.Contains(failures[5], `reason="too many failed logins"`) {
		t.Errorf("the sixth failure's reason: %s", failures[5])
	}
	for _, secret := range []string{wrong, c.tokens["olli"], c.tokens["maija"]} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log shows a token:\n%s", logged)
		}
	}

	// Per user name across addresses and per address across names, through the handler itself
	// (a listener sees one address).
	login := func(name, token, addr string) int {
		t.Helper()
		get := httptest.NewRequest("GET", "/login", nil)
		get.RemoteAddr = addr
		rec := httptest.NewRecorder()
		c.srv.ServeHTTP(rec, get)
		res := rec.Result()
		nonce := cookieNamed(res, "dispatch_login")
		form := url.Values{"name": {name}, "token": {token}, "csrf": {formCSRF(t, rec.Body.String())}}
		post := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		post.AddCookie(nonce)
		post.RemoteAddr = addr
		rec = httptest.NewRecorder()
		c.srv.ServeHTTP(rec, post)
		return rec.Code
	}
	for i := 0; i < 5; i++ {
		if code := login("aino", wrong, "192.0.2."+strconv.Itoa(10+i)+":4000"); code != http.StatusUnauthorized {
			t.Fatalf("aino's failure %d from its own address: %d", i, code)
		}
	}
	// Five strangers' wrong tokens do not lock aino out: she signs in from her own address.
	if code := login("aino", c.tokens["aino"], "192.0.2.99:4000"); code != http.StatusSeeOther {
		t.Errorf("aino from her own address after 5 failures elsewhere: %d", code)
	}
	// A distributed guess at one name is stopped at 50 failures in all, whatever the spelling.
	for i := 5; i < 50; i++ {
		if code := login("aino", wrong, "198.18.0."+strconv.Itoa(i)+":4000"); code != http.StatusUnauthorized {
			t.Fatalf("aino's failure %d: %d", i+1, code)
		}
	}
	if code := login("AINO", c.tokens["aino"], "192.0.2.98:4000"); code != http.StatusTooManyRequests {
		t.Errorf("AINO (another spelling) from a fresh address after 50 failures: %d", code)
	}
	for i := 0; i < 5; i++ {
		if code := login("nobody"+strconv.Itoa(i), wrong, "[2001:db8:1:2::"+strconv.Itoa(i+1)+"]:4000"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d from 2001:db8:1:2::/64: %d", i, code)
		}
	}
	if code := login("maija", c.tokens["maija"], "[2001:db8:1:2::ff]:4000"); code != http.StatusTooManyRequests {
		t.Errorf("maija from the same /64 after 5 failures there: %d", code)
	}
	if code := login("maija", c.tokens["maija"], "[2001:db8:1:3::1]:4000"); code != http.StatusSeeOther {
		t.Errorf("maija from another /64: %d", code)
	}

	// A token typed into the name field is not logged.
	login(c.tokens["maija"], "x", "198.51.100.7:4000")
	if strings.Contains(c.log.String(), c.tokens["maija"]) {
		t.Errorf("a token typed as the user name is logged:\n%s", c.log.String())
	}
}

func TestAPITakesOnlyBearerTokens(t *testing.T) {
	t.Parallel()
	c := newConsole(t, false)
	token := c.tokens["aino"]

	// A browser's cached Basic credentials (name and a valid token) authenticate nothing, and no
	// answer asks for them.
	for what, h := range map[string]map[string]string{
		"Basic":       {"Authorization": "Basic " + basic("aino", token)},
		"no header":   nil,
		"bad bearer":  {"Authorization": "Bearer dsp_nope"},
		"bare token":  {"Authorization": token},
		"token param": {"X-Token": token},
	} {
		resp, body := c.do(t, "GET", "/api/campaigns", nil, h)
		challenge := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer") || strings.Contains(strings.ToLower(challenge), "basic") {
			t.Errorf("API with %s: %d, WWW-Authenticate %q", what, resp.StatusCode, challenge)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(body, `"error"`) {
			t.Errorf("API with %s: %s %s", what, resp.Header.Get("Content-Type"), body)
		}
	}
	for _, scheme := range []string{"Bearer ", "bearer "} {
		if resp, _ := c.do(t, "GET", "/api/campaigns", nil, map[string]string{"Authorization": scheme + token}); resp.StatusCode != 200 {
			t.Errorf("API with %q: %d", scheme, resp.StatusCode)
		}
	}

	// The finding: a foreign page posts text/plain to schedule a campaign with the browser's
	// credentials. A session cookie is not one: 401, with or without the session's CSRF token.
	session, csrf := c.signIn(t, "aino")
	for what, h := range map[string]map[string]string{
		"cross-site text/plain": {"Content-Type": "text/plain", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
		"same-origin with CSRF": {"Content-Type": "application/json", "Origin": c.hs.URL, "X-CSRF-Token": csrf},
	} {
		resp, _ := c.do(t, "POST", "/api/campaigns/1/schedule", strings.NewReader(`{"at":"now"}`), h, session)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("schedule with a session cookie, %s: %d %q", what, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	if n := pgtest.Count(t, c.store.DB(), `SELECT count(*) FROM audit_log WHERE action = 'campaigns.schedule'`); n != 0 {
		t.Errorf("%d campaigns scheduled", n)
	}
	if resp, _ := c.do(t, "GET", "/api/campaigns", nil, nil, session); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/campaigns with a session cookie: %d", resp.StatusCode)
	}
}

// hasInlineScript reports whether the page has a script element without a src attribute.
func hasInlineScript(page string) bool {
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(tag, " src=") {
			return true
		}
	}
	return false
}
