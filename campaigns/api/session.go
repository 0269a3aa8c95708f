package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/service"
)

// How browsers are let in (the staff listener's pages: the console, the queue dashboard).
//
// A person signs in at /login with their user name and API token (login.go) and gets a session: a
// random secret in the cookie dispatch_session (HttpOnly, SameSite=Strict, Path=/, Secure when the
// request came over TLS), of which the store keeps only the SHA-256. A session ends after
// service.SessionIdle unused, service.SessionLifetime after sign-in, at sign-out, and when its user
// is disabled or their token rotated.
//
// Every state-changing request made with the session (any method but GET, HEAD and OPTIONS) must
// come from the site itself: a Sec-Fetch-Site other than same-origin (or none) is refused, and so is
// an Origin, or without one a Referer, naming another host. It must also carry the session's CSRF
// token, in the form field csrf or the header X-CSRF-Token. Pages whose scripts cannot send the
// token (asynqmon's: requireSessionSameOrigin) must instead show that the request is same-origin:
// Sec-Fetch-Site: same-origin, or without that header an Origin equal to the request's own origin.
// Every browser since 2023 sends one of the two on such requests; a request with neither is refused.
//
// The session opens only pages. The JSON API under /api takes a Bearer token and nothing else
// (authenticate), so that nothing a browser sends by itself can call it.
const sessionCookie = "dispatch_session"

// csrfCheck is how a session's state-changing requests prove they come from dispatch's own pages.
type csrfCheck int

const (
	// csrfToken: the session's CSRF token, and no sign of another origin.
	csrfToken csrfCheck = iota
	// csrfSameOrigin: positive evidence of the same origin (Sec-Fetch-Site or Origin), for pages
	// whose scripts cannot send the token.
	csrfSameOrigin
)

type sessionKey struct{}

// sessionFrom returns the session of a request handled behind requireSession.
func sessionFrom(ctx context.Context) (service.Session, bool) {
	sess, ok := ctx.Value(sessionKey{}).(service.Session)
	return sess, ok
}

// requireSession lets a browser's request through when it carries a live session of a user with one
// of the roles (any role when none are given; admins always), and puts the user and the session in
// its context (UserFrom, sessionFrom) and the user's name in the request log. Without a session it
// redirects to /login (303; a GET or HEAD comes back to where it was going after sign-in); a user of
// another role gets a 403 page. A state-changing request must carry the session's CSRF token and
// come from the same origin (see sessionCookie), else 403.
func (s *Server) requireSession(next http.Handler, roles ...campaigns.Role) http.Handler {
	return s.sessionGate(next, csrfToken, roles)
}

// requireSessionSameOrigin is requireSession for a handler whose own scripts cannot send the CSRF
// token, the asynqmon dashboard's: its state-changing requests are let through only with positive
// evidence of coming from the same origin: Sec-Fetch-Site: same-origin, or, from a browser that
// does not send that header, an Origin equal to the request's own. A cross-site page can forge
// neither, so it cannot pause a queue or delete tasks with an ops user's session.
func (s *Server) requireSessionSameOrigin(next http.Handler, roles ...campaigns.Role) http.Handler {
	return s.sessionGate(next, csrfSameOrigin, roles)
}

func (s *Server) sessionGate(next http.Handler, check csrfCheck, roles []campaigns.Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The pages behind a session may never be framed (clickjacking of the dashboard's buttons);
		// the handler's own pages (securityHeaders) tighten this further.
		frameHeaders(w, r)
		sess, found, err := s.session(r)
		if err != nil {
			s.log.Error("look up session", slog.String("path", redactPath(r.URL.Path)), "err", err)
			s.renderMessage(w, r, http.StatusInternalServerError, "err.title", "err.session")
			return
		}
		if !found {
			if _, err := r.Cookie(sessionCookie); err == nil {
				http.SetCookie(w, newSessionCookie(r, "", -1)) // expired or ended: the browser may forget it
			}
			target := "/login"
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		noteUser(r.Context(), sess.User)
		if !safeMethod(r.Method) {
			if reason := csrfRefusal(r, sess.CSRF, check); reason != "" {
				s.log.Warn("request refused: cross-site request forgery", slog.String("user", sess.User.Name),
					slog.String("method", r.Method), slog.String("path", redactPath(r.URL.Path)), slog.String("reason", reason))
				s.renderMessage(w, r, http.StatusForbidden, "err.refused", "err.csrf")
				return
			}
		}
		ctx := context.WithValue(r.Context(), userKey{}, sess.User)
		ctx = context.WithValue(ctx, sessionKey{}, sess)
		r = r.WithContext(ctx)
		if len(roles) > 0 && sess.User.Role != campaigns.RoleAdmin && !slices.Contains(roles, sess.User.Role) {
			// The refusal is a page of the signed-in user's console: navigation, sign-out.
			lang := requestLang(r)
			role := translate(lang, "role."+string(sess.User.Role))
			if names := roleNames(lang, roles); names == "" {
				s.renderMessage(w, r, http.StatusForbidden, "err.forbidden", "err.roleadmin", sess.User.Name, role)
			} else {
				s.renderMessage(w, r, http.StatusForbidden, "err.forbidden", "err.rolepage", sess.User.Name, role, names)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

// session returns the live session of the request's cookie, renewing its last use; found is false
// when there is no cookie or the session is unknown, expired or its user disabled.
func (s *Server) session(r *http.Request) (sess service.Session, found bool, err error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || s.cfg.Service == nil || !wellFormedSecret(c.Value) {
		return service.Session{}, false, nil
	}
	sess, err = s.cfg.Service.Session(r.Context(), c.Value)
	if errors.Is(err, campaigns.ErrNotFound) {
		return service.Session{}, false, nil
	}
	if err != nil {
		return service.Session{}, false, err
	}
	return sess, true, nil
}

// newSessionCookie returns the session cookie holding value. maxAge 0 makes it last until the
// browser closes (the server ends the session before that, see service.SessionIdle); -1 deletes it.
func newSessionCookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode}
}

// wellFormedSecret reports whether v looks like a secret of ours (32 bytes, base64url): anything
// else is refused before it reaches the store.
func wellFormedSecret(v string) bool {
	if len(v) != 43 {
		return false
	}
	for _, c := range []byte(v) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// safeMethod reports whether a request of the method changes nothing, so needs no CSRF check.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// csrfRefusal returns why a state-changing request of a session is refused, or "" when it may go on.
func csrfRefusal(r *http.Request, token string, check csrfCheck) string {
	if reason := crossOrigin(r); reason != "" {
		return reason
	}
	if check == csrfSameOrigin {
		switch {
		case r.Header.Get("Sec-Fetch-Site") == "same-origin":
		case r.Header.Get("Sec-Fetch-Site") == "" && r.Header.Get("Origin") != "":
			// crossOrigin has checked that the Origin is ours.
		default:
			return "no evidence of the same origin (neither Sec-Fetch-Site: same-origin nor Origin)"
		}
		return ""
	}
	sent := r.Header.Get("X-CSRF-Token")
	if sent == "" {
		sent = r.PostFormValue("csrf")
	}
	if sent == "" {
		return "no CSRF token"
	}
	if subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
		return "wrong CSRF token"
	}
	return ""
}

// crossOrigin returns why a request shows it was made by another site's page, or "": a
// Sec-Fetch-Site other than same-origin or none (same-site is a sibling host: refused too), an
// Origin of another origin ("null" included), or, without an Origin, a Referer of another origin.
// A request with none of these headers does not come from a current browser's cross-site page.
func crossOrigin(r *http.Request) string {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return "Sec-Fetch-Site: " + site
	}
	if o := r.Header.Get("Origin"); o != "" {
		if !ownOrigin(r, o) {
			return "foreign Origin"
		}
	} else if ref := r.Header.Get("Referer"); ref != "" && !ownOrigin(r, ref) {
		return "foreign Referer"
	}
	return ""
}

// ownOrigin reports whether the URL raw (an Origin or a Referer) is of the request's own origin: the
// same host and port as the request's Host, over https when the request came over TLS. Without TLS
// an https origin is accepted as well, for a TLS-terminating proxy in front of dispatch.
func ownOrigin(r *http.Request, raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || !strings.EqualFold(u.Host, r.Host) {
		return false
	}
	if r.TLS != nil {
		return u.Scheme == "https"
	}
	return u.Scheme == "http" || u.Scheme == "https"
}

// contentSecurityPolicy is the policy of dispatch's own pages: their scripts, styles and images come
// from the site itself (no inline script or style), forms post only to it, and no page may frame
// them.
const contentSecurityPolicy = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// securityHeaders sets the headers every HTML page of dispatch answers with: the Content-Security-
// Policy (contentSecurityPolicy), X-Content-Type-Options: nosniff and, as frameHeaders, no framing,
// Referrer-Policy: same-origin and HSTS over TLS. Call it before writing the status.
func securityHeaders(w http.ResponseWriter, r *http.Request) {
	frameHeaders(w, r)
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

// frameHeaders sets what every answer behind a session carries, including pages dispatch does not
// write (asynqmon's, whose inline scripts and sniffed style types a full policy would break): no
// framing (X-Frame-Options: DENY and frame-ancestors 'none'), Referrer-Policy: same-origin, and
// Strict-Transport-Security when the request came over TLS.
//
// The referrer policy is same-origin rather than no-referrer: under no-referrer a browser sends
// "Origin: null" with a form's POST, and the CSRF check could no longer tell the site's own forms
// from others.
func frameHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("Referrer-Policy", "same-origin")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// roleNames writes the roles but admin (who may everything) in lang, "markkinoija, ylläpitäjä".
func roleNames(lang string, roles []campaigns.Role) string {
	var names []string
	for _, r := range roles {
		if r != campaigns.RoleAdmin {
			names = append(names, translate(lang, "role."+string(r)))
		}
	}
	return strings.Join(names, ", ")
}
