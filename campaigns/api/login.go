package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/service"
)

//go:embed web
var webFiles embed.FS

// Limits of signing in.
const (
	// maxLoginFailures failed sign-ins from one address (an IPv6 /64), or for one user name from one
	// address, within loginFailureWindow, and the next attempt from there is answered 429 without
	// its token being checked. maxNameFailures failures for one user name from anywhere do the same
	// for that name: a distributed guess is stopped too, while a stranger's five wrong tokens cannot
	// lock a colleague out (the tokens are 256-bit random, so the address limit is what slows a
	// guesser; the name limit is the alarm).
	maxLoginFailures   = 5
	maxNameFailures    = 50
	loginFailureWindow = 15 * time.Minute
	// maxLoginBody bounds the sign-in form's body.
	maxLoginBody = 16 << 10
	// loginCookie holds the sign-in form's nonce (see loginToken), for an hour.
	loginCookie       = "dispatch_login"
	loginCookieMaxAge = 3600
)

// signIn serves the sign-in page, sign-in and sign-out, and the signed-in home page.
type signIn struct {
	s      *Server
	svc    *service.Service
	limits *loginLimiter
	// formKey signs the sign-in form's CSRF tokens; derived from the server's secret.
	formKey []byte
}

// sessionRoutes serves the browsers' sign-in on the staff listener: GET and POST /login, POST
// /logout, the home page GET / and the pages' style sheet.
func (s *Server) sessionRoutes(svc *service.Service) {
	mac := hmac.New(sha256.New, s.cfg.Secret)
	mac.Write([]byte("dispatch: sign-in form"))
	si := &signIn{s: s, svc: svc, limits: newLoginLimiter(maxLoginFailures, maxNameFailures, loginFailureWindow), formKey: mac.Sum(nil)}
	s.mux.HandleFunc("GET /login", si.loginPage)
	s.mux.HandleFunc("POST /login", si.login)
	s.mux.Handle("POST /logout", s.requireSession(http.HandlerFunc(si.logout)))
}

// loginForm is what the sign-in page shows.
type loginForm struct {
	CSRF, Next, Name, Error string
}

// loginPage answers GET /login: the sign-in form, with the CSRF token of this browser's nonce and
// the local path to go to afterwards (?next=, "/" when missing or not a local path).
func (si *signIn) loginPage(w http.ResponseWriter, r *http.Request) {
	si.renderLogin(w, r, http.StatusOK, loginForm{Next: safeNext(r.URL.Query().Get("next"))})
}

// renderLogin answers the sign-in form with f, its CSRF token bound to the browser's nonce cookie
// (set anew when missing).
func (si *signIn) renderLogin(w http.ResponseWriter, r *http.Request, status int, f loginForm) {
	nonce := ""
	if c, err := r.Cookie(loginCookie); err == nil && wellFormedSecret(c.Value) {
		nonce = c.Value
	} else {
		b := make([]byte, 32)
		rand.Read(b)
		nonce = base64.RawURLEncoding.EncodeToString(b)
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: nonce, Path: "/login", MaxAge: loginCookieMaxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	f.CSRF = si.loginToken(nonce)
	si.s.renderPage(w, r, status, "login.html", "login.title", f)
}

// loginToken is the sign-in form's CSRF token for a browser's nonce: an HMAC of the nonce, so that
// a token is good only with the cookie it was made for, and a cookie planted by a sibling host is
// worth nothing without the server's secret.
func (si *signIn) loginToken(nonce string) string {
	mac := hmac.New(sha256.New, si.formKey)
	mac.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// login answers POST /login (name, token, csrf, next). A form from another origin, or without this
// browser's CSRF token, is refused (403); a user name or address with maxLoginFailures failures in
// the window is answered 429 with Retry-After, without checking the token; a wrong name or token
// is 401. Each of these is logged at Warn as "login failed" with the user name, the address and
// the reason (never the token). Success starts a session (ending the browser's previous one), sets
// its cookie and redirects (303) to the form's next path.
func (si *signIn) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	formErr := r.ParseForm()
	name := strings.TrimSpace(r.PostForm.Get("name"))
	token := strings.TrimSpace(r.PostForm.Get("token"))
	addr := clientIP(r)
	form := loginForm{Next: safeNext(r.PostForm.Get("next")), Name: name}
	refuse := func(status int, reason, shown string, args ...any) {
		si.s.log.Warn("login failed", slog.String("user", loggableName(name)), slog.String("addr", addr), slog.String("reason", reason))
		form.Error = translate(requestLang(r), shown, args...)
		si.renderLogin(w, r, status, form)
	}
	if formErr != nil {
		form.Name = ""
		refuse(http.StatusBadRequest, "unreadable form", "login.unreadable")
		return
	}
	if reason := crossOrigin(r); reason != "" {
		refuse(http.StatusForbidden, "cross-site form: "+reason, "login.crosssite")
		return
	}
	c, err := r.Cookie(loginCookie)
	sent := r.PostForm.Get("csrf")
	if err != nil || sent == "" || !hmac.Equal([]byte(sent), []byte(si.loginToken(c.Value))) {
		refuse(http.StatusForbidden, "no valid CSRF token", "login.expired")
		return
	}
	if wait := si.limits.retryAfter(name, addr); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		refuse(http.StatusTooManyRequests, "too many failed logins", "login.toomany", int(math.Ceil(wait.Minutes())))
		return
	}
	sess, err := si.svc.Login(r.Context(), name, token)
	if errors.Is(err, campaigns.ErrNotFound) {
		si.limits.fail(name, addr)
		refuse(http.StatusUnauthorized, err.Error(), "login.unknown")
		return
	}
	if err != nil {
		si.s.log.Error("login", slog.String("addr", addr), "err", err)
		si.s.renderMessage(w, r, http.StatusInternalServerError, "err.title", "err.signinfailed")
		return
	}
	si.limits.succeeded(name, addr)
	if old, err := r.Cookie(sessionCookie); err == nil && wellFormedSecret(old.Value) {
		if err := si.svc.Logout(r.Context(), old.Value); err != nil {
			si.s.log.Error("end the previous session", "err", err)
		}
	}
	http.SetCookie(w, newSessionCookie(r, sess.ID, 0))
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/login", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	noteUser(r.Context(), sess.User)
	si.s.log.Info("login", slog.String("user", sess.User.Name), slog.String("role", string(sess.User.Role)), slog.String("addr", addr))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, form.Next, http.StatusSeeOther)
}

// logout answers POST /logout (behind requireSession, so with the session's CSRF token): it ends
// the session, deletes its cookie and redirects to the sign-in page.
func (si *signIn) logout(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	if err := si.svc.Logout(r.Context(), sess.ID); err != nil {
		si.s.log.Error("logout", "err", err)
		si.s.renderMessage(w, r, http.StatusInternalServerError, "err.title", "err.signoutfailed")
		return
	}
	http.SetCookie(w, newSessionCookie(r, "", -1))
	si.s.log.Info("logout", slog.String("user", sess.User.Name))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext returns next when it is a path of this site to go to after signing in, and "/"
// otherwise: it must start with a single "/" (not "//host", and no backslash anywhere: browsers
// read "/\host" as "//host"), hold no control character, and name no scheme or host.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' || strings.HasPrefix(next, "//") ||
		strings.Contains(next, `\`) || !utf8.ValidString(next) || strings.IndexFunc(next, unicode.IsControl) >= 0 {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

// clientIP returns the address of the request's peer (no port). A proxy in front of dispatch is
// that address for every client: X-Forwarded-For is not trusted.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loggableName returns a user name typed into the sign-in form as the log may show it: staff names
// are not personal data of members, but what looks like a token pasted into the wrong field (dsp_…),
// an email address, a control character or a long text is replaced by "…".
func loggableName(name string) string {
	if name == "" {
		return ""
	}
	if strings.HasPrefix(name, "dsp_") || strings.Contains(name, "@") || utf8.RuneCountInString(name) > 64 ||
		!utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return redacted
	}
	return name
}

// loginLimiter counts failed sign-ins per user name and per address, in this process's memory: each
// `dispatch serve` counts its own, and a restart forgets them. An IPv6 address counts as its /64,
// which one client usually holds whole.
type loginLimiter struct {
	// limit is per address and per name and address; nameLimit per name from anywhere.
	limit, nameLimit int
	window           time.Duration
	now              func() time.Time

	mu    sync.Mutex
	fails map[string][]time.Time // key -> the last (at most limit) failures, oldest first
}

// maxLimiterKeys bounds the limiter's memory: past it, the failures of a name or address not yet
// counted are not counted (those already counted still are, and every address is still limited).
const maxLimiterKeys = 100_000

func newLoginLimiter(limit, nameLimit int, window time.Duration) *loginLimiter {
	return &loginLimiter{limit: limit, nameLimit: nameLimit, window: window, now: time.Now, fails: map[string][]time.Time{}}
}

// limiterKey is what failures are counted against, and how many within the window are allowed.
type limiterKey struct {
	key   string
	limit int
}

func (l *loginLimiter) keys(name, addr string) []limiterKey {
	a := addrKey(addr)
	keys := []limiterKey{{"addr " + a, l.limit}}
	if name != "" {
		n := strings.ToLower(name)
		keys = append(keys, limiterKey{"user " + n + " at " + a, l.limit}, limiterKey{"user " + n, l.nameLimit})
	}
	return keys
}

// addrKey is the address a failure counts against: an IPv6 address's /64.
func addrKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || !ip.Is6() || ip.Is4In6() {
		return addr
	}
	p, _ := ip.Prefix(64)
	return p.String()
}

// retryAfter returns how long until the user name and the address may try again: 0 when both have
// fewer than limit failures in the window.
func (l *loginLimiter) retryAfter(name, addr string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range l.keys(name, addr) {
		ts := l.recent(k.key, now)
		if len(ts) >= k.limit {
			if d := ts[len(ts)-k.limit].Add(l.window).Sub(now); d > wait {
				wait = d
			}
		}
	}
	return wait
}

// fail counts a failed sign-in against the user name and the address.
func (l *loginLimiter) fail(name, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.fails) >= maxLimiterKeys {
		for k := range l.fails {
			l.recent(k, now)
		}
	}
	for _, k := range l.keys(name, addr) {
		ts := l.recent(k.key, now)
		if ts == nil && len(l.fails) >= maxLimiterKeys {
			continue
		}
		ts = append(ts, now)
		if len(ts) > k.limit {
			ts = ts[len(ts)-k.limit:]
		}
		l.fails[k.key] = ts
	}
}

// succeeded forgets the user name's failures from the address (not the address's own, nor the
// name's from elsewhere: a client with one good token must not be able to clear the count of its
// guesses at others).
func (l *loginLimiter) succeeded(name, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, "user "+strings.ToLower(name)+" at "+addrKey(addr))
}

// recent returns the key's failures within the window, dropping older ones (and the key, when none
// is left). The caller holds mu.
func (l *loginLimiter) recent(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	if i == len(ts) {
		delete(l.fails, key)
		return nil
	}
	if i > 0 {
		ts = ts[i:]
		l.fails[key] = ts
	}
	return ts
}

func init() {
	addMessages(map[string][2]string{
		"login.title":      {"Sign in", "Kirjaudu sisään"},
		"login.name":       {"User name", "Käyttäjätunnus"},
		"login.token":      {"Token", "Tunniste"},
		"login.submit":     {"Sign in", "Kirjaudu"},
		"login.hint":       {"Your token is the one dispatch users add or dispatch users rotate showed you. A session ends after 30 minutes without use, and after 12 hours in any case.", "Tunnisteesi on se, jonka dispatch users add tai dispatch users rotate näytti. Istunto päättyy 30 minuutin käyttämättömyyden jälkeen ja joka tapauksessa 12 tunnin kuluttua."},
		"login.unreadable": {"The form could not be read. Please try again.", "Lomaketta ei voitu lukea. Yritä uudelleen."},
		"login.crosssite":  {"This sign-in did not come from dispatch's own page. Please sign in here.", "Kirjautuminen ei tullut dispatchin omalta sivulta. Kirjaudu tällä sivulla."},
		"login.expired":    {"The sign-in page had expired. Please sign in again.", "Kirjautumissivu oli vanhentunut. Kirjaudu uudelleen."},
		"login.unknown":    {"Unknown user name or token.", "Tuntematon käyttäjätunnus tai tunniste."},
		"login.toomany":    {"Too many failed sign-ins. Try again in %d min.", "Liian monta epäonnistunutta kirjautumista. Yritä uudelleen %d minuutin kuluttua."},
	})
}
