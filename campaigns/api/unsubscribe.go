package api

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/jacksmood/dispatch/campaigns"
)

// unsubscribeTexts are the page's words in each language.
var unsubscribeTexts = map[campaigns.Language]map[string]string{
	campaigns.Finnish: {
		"title":   "Uutiskirjeen peruminen",
		"ask":     "Haluatko lopettaa Jack's Moodin markkinointisähköpostien tilauksen?",
		"button":  "Peru tilaus",
		"done":    "Tilaus on peruttu. Et saa enää markkinointisähköpostia meiltä.",
		"invalid": "Linkki ei ole voimassa. Ota tarvittaessa yhteyttä asiakaspalveluun: info@jacksmood.com.",
	},
	campaigns.Swedish: {
		"title":   "Avsluta nyhetsbrevet",
		"ask":     "Vill du sluta få marknadsföringsmejl från Jack's Mood?",
		"button":  "Avsluta prenumerationen",
		"done":    "Prenumerationen är avslutad. Du får inte längre marknadsföringsmejl från oss.",
		"invalid": "Länken är inte giltig. Kontakta vid behov kundtjänsten: info@jacksmood.com.",
	},
	campaigns.English: {
		"title":   "Unsubscribe",
		"ask":     "Do you want to stop receiving marketing email from Jack's Mood?",
		"button":  "Unsubscribe",
		"done":    "You are unsubscribed. You will receive no more marketing email from us.",
		"invalid": "This link is not valid. If you need help, contact customer service: info@jacksmood.com.",
	},
}

// unsubscribeCSS is the pages' only style, inline so that the page needs no other request; the
// Content-Security-Policy allows exactly this text by its hash.
const unsubscribeCSS = `body{font-family:Arial,Helvetica,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}
button{background:#222;color:#fff;border:0;padding:.8rem 1.4rem;font-size:1rem;border-radius:4px;cursor:pointer}
footer{margin-top:3rem;font-size:.8rem;color:#666}`

// unsubscribeCSP allows the page nothing but its own style and its form posting back to itself; no
// frame may hold it.
var unsubscribeCSP = func() string {
	sum := sha256.Sum256([]byte(unsubscribeCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}()

var unsubscribePage = template.Must(template.New("u").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.T.title}} – Jack's Mood</title>
<style>{{.CSS}}</style></head>
<body><h1>{{.T.title}}</h1>
{{if .Invalid}}<p>{{.T.invalid}}</p>
{{else if .Done}}<p>{{.T.done}}</p>
{{else}}<p>{{.T.ask}}</p><form method="post"><button type="submit">{{.T.button}}</button></form>{{end}}
<footer>Jack's Mood · Roptrox Oy · Helatehtaankatu 3 B 29, 00700 HELSINKI</footer></body></html>
`))

func (s *Server) renderUnsubscribe(w http.ResponseWriter, r *http.Request, status int, lang campaigns.Language, done, invalid bool) {
	t, ok := unsubscribeTexts[lang]
	if !ok {
		lang, t = campaigns.Finnish, unsubscribeTexts[campaigns.Finnish]
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", unsubscribeCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	w.WriteHeader(status)
	unsubscribePage.Execute(w, map[string]any{"Lang": lang, "T": t, "Done": done, "Invalid": invalid, "CSS": template.CSS(unsubscribeCSS)})
}

// unsubscribePage answers GET /u/{token}: a confirmation page in the member's language. A GET never
// changes anything (link scanners follow links); the member's click, or the mail client's RFC 8058
// one-click POST, does.
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	tok, err := campaigns.VerifyUnsubscribe(s.linkSecrets(), r.PathValue("token"))
	if err != nil {
		s.renderUnsubscribe(w, r, http.StatusBadRequest, langOf(r), false, true)
		return
	}
	m, err := s.store.MemberByID(r.Context(), tok.MemberID)
	if err != nil {
		// An erased member: nothing to unsubscribe, and nothing to say about them.
		s.renderUnsubscribe(w, r, http.StatusOK, langOf(r), true, false)
		return
	}
	cur, ok, err := s.store.CurrentConsent(r.Context(), m.ID, tok.Channel)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.renderUnsubscribe(w, r, http.StatusOK, m.Language, !ok || cur.Status == campaigns.Withdrawn, false)
}

// unsubscribe answers POST /u/{token}: the RFC 8058 one-click unsubscribe, without login or
// confirmation. It records a withdrawal with source unsubscribe-link (once: a repeated POST records
// nothing new). A forged or altered token is refused with 400 and changes nothing.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	tok, err := campaigns.VerifyUnsubscribe(s.linkSecrets(), r.PathValue("token"))
	if err != nil {
		s.log.Warn("unsubscribe refused: invalid token", slog.String("remote", r.RemoteAddr))
		s.renderUnsubscribe(w, r, http.StatusBadRequest, langOf(r), false, true)
		return
	}
	recorded, err := s.store.RecordUnsubscribe(r.Context(), tok.MemberID, tok.Channel, campaigns.SourceUnsubscribeLink)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	lang := campaigns.Finnish
	if m, err := s.store.MemberByID(r.Context(), tok.MemberID); err == nil {
		lang = m.Language
	}
	if recorded {
		s.log.Info("unsubscribed", slog.Int64("member_id", tok.MemberID), slog.String("channel", string(tok.Channel)))
	}
	s.renderUnsubscribe(w, r, http.StatusOK, lang, true, false)
}

// langOf picks the page language from Accept-Language when the member is not known.
func langOf(r *http.Request) campaigns.Language {
	for _, l := range []campaigns.Language{campaigns.Swedish, campaigns.English} {
		if al := r.Header.Get("Accept-Language"); len(al) >= 2 && campaigns.Language(al[:2]) == l {
			return l
		}
	}
	return campaigns.Finnish
}

// linkSecrets are the secrets that verify unsubscribe links: the current one, then those it replaced.
func (s *Server) linkSecrets() [][]byte {
	return append([][]byte{s.cfg.Secret}, s.cfg.PreviousSecrets...)
}
