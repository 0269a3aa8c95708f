package api

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/service"
)

// The console: the staff's pages in the browser, on the staff listener, behind a session (see
// session.go). Pages are html/template files embedded in the binary (web/*.html); the one script,
// web/assets/console.js, only refreshes the parts of a page marked data-live and loads those marked
// data-load: every page works without it, and every action is a form posted with the session's
// CSRF token. Each page asks the service, which checks the role again: the console hides what a role
// may not do, and the server refuses it anyway.

// console serves the console's pages.
type console struct {
	s   *Server
	svc *service.Service
}

// view is what every page's template gets: the page's data, and what the frame around it needs.
type view struct {
	Title string
	Lang  string
	// User is the signed-in user (the zero User on the sign-in page).
	User campaigns.User
	// CSRF is the session's CSRF token, for the page's forms.
	CSRF string
	// Path is the page's own path and query, where a language switch comes back to.
	Path string
	// Nav names the section of the page, for the navigation: campaigns, members, audit, users.
	Nav  string
	Data any
	loc  *time.Location
}

// T translates a message key (i18n.go) into the page's language.
func (v view) T(key string, args ...any) string { return translate(v.Lang, key, args...) }

// N writes a count with thousands separated in the page's language.
func (v view) N(n int64) string { return formatInt(v.Lang, n) }

// Time writes a time in DISPATCH_TIMEZONE the page's language's way.
func (v view) Time(t time.Time) string { return formatTime(v.Lang, t, v.loc) }

// TimeP is Time of a time that may be missing ("–").
func (v view) TimeP(t *time.Time) string {
	if t == nil {
		return "–"
	}
	return v.Time(*t)
}

// Can reports whether the user's role may use a part of the console: campaigns, members, audit,
// users, ops. The console shows only what the role can use; the service checks again.
func (v view) Can(part string) bool { return roleCan(v.User.Role, part) }

// LangLink is the link that switches the page to lang and comes back.
func (v view) LangLink(lang string) string {
	return "/lang?to=" + lang + "&next=" + url.QueryEscape(v.Path)
}

// roleCan is the console's map of roles to its parts.
func roleCan(role campaigns.Role, part string) bool {
	if role == campaigns.RoleAdmin {
		return true
	}
	switch part {
	case "campaigns":
		return role == campaigns.RoleMarketer || role == campaigns.RoleOps
	case "campaigns.edit":
		return role == campaigns.RoleMarketer
	case "members", "audit":
		return role == campaigns.RolePrivacy
	case "ops":
		return role == campaigns.RoleOps
	}
	return false
}

// pageFuncs are the templates' functions.
var pageFuncs = template.FuncMap{
	// pct is part of whole as a percentage 0..100 (0 when whole is 0), for bars.
	"pct": func(part, whole int64) float64 {
		if whole <= 0 {
			return 0
		}
		return float64(part) * 100 / float64(whole)
	},
	"add": func(a, b int64) int64 { return a + b },
	"str": func(v any) string { return fmt.Sprint(v) },
	// join writes a list ([]string, []campaigns.Language...) as "a, b, c".
	"join": func(v any) string { return strings.Join(strings.Fields(strings.Trim(fmt.Sprint(v), "[]")), ", ") },
	// dict pairs the page's view with a value, for a template that needs both.
	"dict": func(v view, x any) struct {
		V view
		X any
	} {
		return struct {
			V view
			X any
		}{v, x}
	},
	// view is the page's view around other data, for a template that shows a part of the page.
	"view": func(v view, data any) view {
		v.Data = data
		return v
	},
}

// pages are the staff listener's HTML pages (web/*.html).
var pages = template.Must(template.New("").Funcs(pageFuncs).ParseFS(webFiles, "web/*.html"))

// newView returns the frame of a page for the request: its language, and the session's user and
// CSRF token when there is one.
func (s *Server) newView(r *http.Request, titleKey string, data any) view {
	v := view{Lang: requestLang(r), Path: "/", Data: data, loc: s.timezone()}
	if r.Method == http.MethodGet {
		v.Path = r.URL.RequestURI() // a POST's path may not answer a GET, and its query is not the page's
	}
	v.Title = v.T(titleKey)
	if sess, ok := sessionFrom(r.Context()); ok {
		v.User, v.CSRF = sess.User, sess.CSRF
	}
	return v
}

// timezone is where the console's times are shown: DISPATCH_TIMEZONE, as the service has it.
func (s *Server) timezone() *time.Location {
	if s.cfg.Service != nil {
		return s.cfg.Service.Timezone()
	}
	return time.UTC
}

// render writes the page template name with the view v and the status, with securityHeaders and
// Cache-Control: no-store. A template that fails is logged and answered 500.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, v); err != nil {
		s.log.Error("render page", slog.String("page", name), "err", err)
		buf.Reset()
		status = http.StatusInternalServerError
		buf.WriteString("<!DOCTYPE html><title>Error</title><p>Something went wrong.</p>\n")
	}
	securityHeaders(w, r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderPage renders the page name titled by the message key titleKey around data.
func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, status int, name, titleKey string, data any) {
	s.render(w, r, status, name, s.newView(r, titleKey, data))
}

// message is what message.html shows: a title and a text, already translated.
type message struct{ Title, Text string }

// renderMessage answers with a page that says the message keys title and text (text formatted
// with args): a refusal, an error.
func (s *Server) renderMessage(w http.ResponseWriter, r *http.Request, status int, titleKey, textKey string, args ...any) {
	v := s.newView(r, titleKey, nil)
	v.Data = message{Title: v.Title, Text: v.T(textKey, args...)}
	s.render(w, r, status, "message.html", v)
}

// fail answers a use case's error on a page: its kind becomes the status (ErrInvalid 422,
// ErrNotFound 404, ErrConflict 409, ErrForbidden 403), its message the text, which the domain
// writes for people and without personal data. Anything else is logged and answered 500.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, title := http.StatusInternalServerError, "err.title"
	switch {
	case errors.Is(err, campaigns.ErrInvalid):
		status, title = http.StatusUnprocessableEntity, "err.invalid"
	case errors.Is(err, campaigns.ErrNotFound):
		status, title = http.StatusNotFound, "err.notfound"
	case errors.Is(err, campaigns.ErrConflict):
		status, title = http.StatusConflict, "err.conflict"
	case errors.Is(err, campaigns.ErrForbidden):
		status, title = http.StatusForbidden, "err.forbidden"
	}
	if status == http.StatusInternalServerError {
		s.log.Error("console", slog.String("path", redactPath(r.URL.Path)), "err", err)
		s.renderMessage(w, r, status, title, "err.internal")
		return
	}
	v := s.newView(r, title, nil)
	v.Data = message{Title: v.Title, Text: err.Error()}
	s.render(w, r, status, "message.html", v)
}

// consoleRoutes serves the console on the staff listener.
func (s *Server) consoleRoutes(svc *service.Service) {
	c := &console{s: s, svc: svc}
	s.mux.HandleFunc("GET /lang", langSwitch)
	s.mux.HandleFunc("GET /assets/{file}", serveAsset)
	s.mux.Handle("GET /{$}", s.requireSession(http.HandlerFunc(c.home)))
	c.campaignRoutes()
	c.campaignEditRoutes()
	c.resultsRoutes()
	c.memberRoutes()
	c.auditRoutes()
	c.userRoutes()
}

// assets are the console's static files, served with their types and cached for an hour.
var assets = map[string]string{
	"console.css": "text/css; charset=utf-8",
	"console.js":  "text/javascript; charset=utf-8",
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	ctype, ok := assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, err := webFiles.ReadFile("web/assets/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}

// home answers GET /: the parts of the console the user's role may use.
func (c *console) home(w http.ResponseWriter, r *http.Request) {
	c.s.renderPage(w, r, http.StatusOK, "home.html", "home.title", struct{ Ops bool }{c.s.cfg.Ops != nil})
}

// user is the signed-in user of a request behind requireSession.
func user(r *http.Request) campaigns.User {
	sess, _ := sessionFrom(r.Context())
	return sess.User
}

// pathID reads the path value name as a positive id; ok false has answered 404.
func (c *console) pathID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		c.s.renderMessage(w, r, http.StatusNotFound, "err.notfound", "err.nosuchpage")
		return 0, false
	}
	return id, true
}

func init() {
	addMessages(map[string][2]string{
		"app.staff":         {"Jack's Mood · staff", "Jack's Mood · henkilöstö"},
		"app.footer":        {"Roptrox Oy · Jack's Mood customer register", "Roptrox Oy · Jack's Mood -asiakasrekisteri"},
		"app.signedinas":    {"Signed in as %s (%s)", "Kirjautunut: %s (%s)"},
		"app.signout":       {"Sign out", "Kirjaudu ulos"},
		"app.skip":          {"Skip to content", "Siirry sisältöön"},
		"nav.home":          {"Home", "Etusivu"},
		"nav.campaigns":     {"Campaigns", "Kampanjat"},
		"nav.members":       {"Members", "Jäsenet"},
		"nav.audit":         {"Audit log", "Tapahtumaloki"},
		"nav.users":         {"Users", "Käyttäjät"},
		"nav.ops":           {"Queues", "Jonot"},
		"nav.health":        {"Health", "Tila"},
		"role.marketer":     {"marketer", "markkinoija"},
		"role.ops":          {"operator", "ylläpitäjä"},
		"role.privacy":      {"privacy officer", "tietosuojavastaava"},
		"role.admin":        {"admin", "pääkäyttäjä"},
		"home.title":        {"Home", "Etusivu"},
		"home.hello":        {"Welcome, %s", "Tervetuloa, %s"},
		"home.campaigns":    {"Define, preview, schedule and follow campaigns.", "Luo, esikatsele, ajasta ja seuraa kampanjoita."},
		"home.members":      {"Answer members' requests: look up, correct, export, erase.", "Vastaa jäsenten pyyntöihin: hae, korjaa, vie, poista."},
		"home.audit":        {"Who did what, and when.", "Kuka teki mitä ja milloin."},
		"home.users":        {"Add, disable and rotate users' tokens.", "Lisää käyttäjiä, poista käytöstä, vaihda tunnisteita."},
		"home.ops":          {"The queues of the delivery engine: pending, active, retried and failed tasks.", "Lähetysjonot: odottavat, käynnissä olevat, uudelleen yritettävät ja epäonnistuneet tehtävät."},
		"home.health":       {"Whether the database and the queue answer (/readyz).", "Vastaavatko tietokanta ja jono (/readyz)."},
		"err.title":         {"Something went wrong", "Jokin meni vikaan"},
		"err.internal":      {"The server could not do this. Try again in a moment.", "Palvelin ei pystynyt tähän. Yritä hetken päästä uudelleen."},
		"err.invalid":       {"Please check the input", "Tarkista tiedot"},
		"err.notfound":      {"Not found", "Ei löytynyt"},
		"err.nosuchpage":    {"There is no such page.", "Sivua ei ole."},
		"err.conflict":      {"Not possible now", "Ei mahdollista nyt"},
		"err.forbidden":     {"Not for your role", "Ei sallittu roolillesi"},
		"err.rolepage":      {"You are signed in as %s (%s). This page is for these roles: %s, and admin.", "Olet kirjautunut käyttäjänä %s (%s). Tämä sivu on näille rooleille: %s sekä pääkäyttäjä."},
		"err.roleadmin":     {"You are signed in as %s (%s). This page is for admins.", "Olet kirjautunut käyttäjänä %s (%s). Tämä sivu on pääkäyttäjille."},
		"err.refused":       {"Request refused", "Pyyntö hylätty"},
		"err.csrf":          {"This request did not come from a page of dispatch, or the page had expired. Reload the page and try again.", "Pyyntö ei tullut dispatchin sivulta, tai sivu oli vanhentunut. Lataa sivu uudelleen ja yritä uudestaan."},
		"err.session":       {"The server could not check your sign-in. Try again in a moment.", "Palvelin ei voinut tarkistaa kirjautumistasi. Yritä hetken päästä uudelleen."},
		"err.signinfailed":  {"Signing in failed. Try again in a moment.", "Kirjautuminen epäonnistui. Yritä hetken päästä uudelleen."},
		"err.signoutfailed": {"Signing out failed. Try again in a moment.", "Uloskirjautuminen epäonnistui. Yritä hetken päästä uudelleen."},
		"common.back":       {"Back", "Takaisin"},
		"common.cancel":     {"Cancel", "Peruuta"},
		"common.save":       {"Save", "Tallenna"},
		"common.none":       {"none", "ei yhtään"},
		"common.language":   {"Language", "Kieli"},
	})
}
