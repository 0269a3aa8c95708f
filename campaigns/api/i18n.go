package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The console speaks Finnish (the default) and English; the user picks one (GET /lang), kept in the
// cookie dispatch_lang. Every text a page shows is a message key with its two translations,
// registered by the file of the pages that use it (addMessages), so that no text exists in one
// language only.
const (
	langFinnish = "fi"
	langEnglish = "en"
	langCookie  = "dispatch_lang"
)

var (
	messagesMu sync.RWMutex
	// messages maps a key to its English and Finnish text (fmt verbs for the arguments).
	messages = map[string][2]string{}
)

// addMessages registers message keys with their English and Finnish texts. A key registered twice
// is a programming error.
func addMessages(m map[string][2]string) {
	messagesMu.Lock()
	defer messagesMu.Unlock()
	for k, v := range m {
		if _, dup := messages[k]; dup {
			panic("api: message key registered twice: " + k)
		}
		if v[0] == "" || v[1] == "" {
			panic("api: message key without both translations: " + k)
		}
		messages[k] = v
	}
}

// translate returns the key's text in lang with args formatted in, or the key itself when it is
// unknown (a test checks that every key the templates use is known).
func translate(lang, key string, args ...any) string {
	messagesMu.RLock()
	v, ok := messages[key]
	messagesMu.RUnlock()
	if !ok {
		return key
	}
	text := v[0]
	if lang == langFinnish {
		text = v[1]
	}
	if len(args) == 0 {
		return text
	}
	return fmt.Sprintf(text, args...)
}

// requestLang is the language of the request: the cookie's, Finnish by default.
func requestLang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && c.Value == langEnglish {
		return langEnglish
	}
	return langFinnish
}

// formatInt writes n with thousands separated: "41,203" in English, "41 203" (a no-break space) in
// Finnish.
func formatInt(lang string, n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if lang == langFinnish {
		sep = "\u00a0"
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatTime writes t in loc the way the language does: "1.12.2026 klo 14.05" or "1 Dec 2026 14:05".
func formatTime(lang string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "–"
	}
	t = t.In(loc)
	if lang == langFinnish {
		return t.Format("2.1.2006 klo 15.04")
	}
	return t.Format("2 Jan 2006 15:04")
}

// langSwitch answers GET /lang?to=en|fi&next=PATH: it keeps the choice in a cookie for a year and
// goes back to the page (a local path only). Choosing a language changes nothing but the pages'
// language, so it needs no session and no CSRF token.
func langSwitch(w http.ResponseWriter, r *http.Request) {
	lang := langFinnish
	if r.URL.Query().Get("to") == langEnglish {
		lang = langEnglish
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
}
