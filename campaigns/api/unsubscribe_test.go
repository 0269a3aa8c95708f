package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
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
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

var secret = []byte("test-secret-0123456789abcdef")

func newServer(t *testing.T) (*postgres.Store, *httptest.Server) {
	t.Helper()
	s := pgtest.New(t)
	const csv = "external_id,first_name,last_name,email,phone,street,postal_code,city,country,language,email_consent,sms_consent,postal_objection\n" +
		"M1,Åsa,Berg,asa@example.com,,Gatan 1,65100,VASA,FI,sv,yes,,\n"
	_, err := s.ImportMembers(context.Background(), func(row func(csvfile.MemberRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadMembers(strings.NewReader(csv), "m.csv", row)
	}, campaigns.SourceImport, campaigns.Audit{Actor: "tester", Action: campaigns.AuditMembersImport})
	pgtest.Must(t, "import", err)
	srv, err := api.New(api.Config{Secret: secret}, s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	pgtest.Must(t, "api", err)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return s, hs
}

func emailConsent(t *testing.T, s *postgres.Store, id int64) (campaigns.ConsentEvent, bool) {
	t.Helper()
	ev, ok, err := s.CurrentConsent(context.Background(), id, campaigns.Email)
	pgtest.Must(t, "consent", err)
	return ev, ok
}

func TestOneClickUnsubscribe(t *testing.T) {
	t.Parallel()
	s, hs := newServer(t)
	m, err := s.MemberByExternalID(context.Background(), "M1")
	pgtest.Must(t, "member", err)
	link := hs.URL + "/u/" + campaigns.SignUnsubscribe(secret, m.ID, campaigns.Email)

	// GET shows a page in the member's language and changes nothing.
	resp, err := http.Get(link)
	pgtest.Must(t, "get", err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Avsluta prenumerationen") || !strings.Contains(string(body), `lang="sv"`) {
		t.Fatalf("GET: %d\n%s", resp.StatusCode, body)
	}
	if ev, _ := emailConsent(t, s, m.ID); ev.Status != campaigns.Granted {
		t.Fatal("GET changed the consent")
	}

	// RFC 8058: the mail client POSTs List-Unsubscribe=One-Click, no login, no confirmation.
	resp, err = http.PostForm(link, url.Values{"List-Unsubscribe": {"One-Click"}})
	pgtest.Must(t, "post", err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Prenumerationen är avslutad") {
		t.Fatalf("POST: %d\n%s", resp.StatusCode, body)
	}
	ev, ok := emailConsent(t, s, m.ID)
	if !ok || ev.Status != campaigns.Withdrawn || ev.Source != campaigns.SourceUnsubscribeLink {
		t.Fatalf("after POST consent = %+v", ev)
	}
	// A second POST records nothing new.
	resp, err = http.PostForm(link, url.Values{"List-Unsubscribe": {"One-Click"}})
	pgtest.Must(t, "post again", err)
	resp.Body.Close()
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM consent_events WHERE member_id = $1 AND source = 'unsubscribe-link'`, m.ID); n != 1 || resp.StatusCode != 200 {
		t.Fatalf("unsubscribe-link events = %d after two POSTs (status %d), want 1", n, resp.StatusCode)
	}
}

func TestForgedUnsubscribeTokenIsRefused(t *testing.T) {
	t.Parallel()
	s, hs := newServer(t)
	m, err := s.MemberByExternalID(context.Background(), "M1")
	pgtest.Must(t, "member", err)
	good := campaigns.SignUnsubscribe(secret, m.ID, campaigns.Email)
	other := campaigns.SignUnsubscribe([]byte("another-secret-0123456789"), m.ID, campaigns.Email)
	// The same signature on another member's id, a changed channel, a truncated or empty signature.
	parts := strings.Split(good, ".")
	forged := []string{
		other,
		parts[0] + "." + "999999" + "." + parts[2] + "." + parts[3],
		parts[0] + "." + parts[1] + ".sms." + parts[3],
		good[:len(good)-2],
		parts[0] + "." + parts[1] + "." + parts[2] + ".",
		"garbage",
	}
	for _, tok := range forged {
		resp, err := http.PostForm(hs.URL+"/u/"+tok, url.Values{"List-Unsubscribe": {"One-Click"}})
		pgtest.Must(t, "post", err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("token %q: status %d, want 400", tok, resp.StatusCode)
		}
	}
	if ev, _ := emailConsent(t, s, m.ID); ev.Status != campaigns.Granted {
		t.Fatal("a forged token changed the consent")
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM consent_events`); n != 1 {
		t.Fatalf("consent events = %d, want only the import's", n)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	_, hs := newServer(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(hs.URL + p)
		pgtest.Must(t, p, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "ok") {
			t.Errorf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
}

// After DISPATCH_SECRET is rotated, a link signed by the old secret still unsubscribes while the old
// secret is listed in DISPATCH_SECRET_PREVIOUS, and no longer once it is dropped.
func TestUnsubscribeLinkSurvivesSecretRotation(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t)
	m, err := s.MemberByExternalID(context.Background(), "M1")
	pgtest.Must(t, "member", err)
	oldLink := "/u/" + campaigns.SignUnsubscribe(secret, m.ID, campaigns.Email)
	newSecret := []byte("rotated-secret-0123456789abcdef")
	for _, c := range []struct {
		previous [][]byte
		want     int
	}{{nil, 400}, {[][]byte{secret}, 200}} {
		srv, err := api.New(api.Config{Secret: newSecret, PreviousSecrets: c.previous}, s, slog.New(slog.NewTextHandler(io.Discard, nil)))
		pgtest.Must(t, "api", err)
		hs := httptest.NewServer(srv)
		resp, err := http.Get(hs.URL + oldLink)
		pgtest.Must(t, "get", err)
		resp.Body.Close()
		hs.Close()
		if resp.StatusCode != c.want {
			t.Errorf("old link with %d previous secrets: %d, want %d", len(c.previous), resp.StatusCode, c.want)
		}
	}
}

// The unsubscribe page carries the security headers, and its policy allows exactly the page's own
// inline style (by hash) and nothing else: no script, no frame around it.
func TestUnsubscribePageSecurityHeaders(t *testing.T) {
	t.Parallel()
	s, hs := newServer(t)
	m, err := s.MemberByExternalID(context.Background(), "M1")
	pgtest.Must(t, "member", err)
	resp, err := http.Get(hs.URL + "/u/" + campaigns.SignUnsubscribe(secret, m.ID, campaigns.Email))
	pgtest.Must(t, "get", err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	h := resp.Header
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("headers: %v", h)
	}
	page := string(body)
	css := page[strings.Index(page, "<style>")+len("<style>") : strings.Index(page, "</style>")]
	sum := sha256.Sum256([]byte(css))
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") ||
		!strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(page, "<script") {
		t.Fatalf("policy %q does not fit the page's style:\n%s", csp, css)
	}
}
