package templates

import (
	"errors"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
)

func newRenderer(t *testing.T, dir string) *Renderer {
	t.Helper()
	r, err := New(dir)
	if err != nil {
		t.Fatalf("New(%q): %v", dir, err)
	}
	return r
}

// writeFiles creates files (path relative to dir -> content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sample returns SampleData as the worker would pass it for the channel: no unsubscribe URL for SMS.
func sample(kind string, ch campaigns.Channel, lang campaigns.Language) Data {
	d := SampleData(kind, lang)
	if ch != campaigns.Email {
		d.UnsubscribeURL = ""
	}
	return d
}

var (
	greetings = map[campaigns.Language]string{"fi": "Hei Matti,", "sv": "Hej Åsa,", "en": "Hi Emily,"}
	stops     = map[campaigns.Language]string{"fi": "Peru viestit: vastaa STOP", "sv": "Avsluta: svara STOP", "en": "Reply STOP to opt out"}
	dates     = map[campaigns.Language]string{"fi": "31.12.2026", "sv": "31.12.2026", "en": "31 December 2026"}
)

func TestNamesListsBuiltins(t *testing.T) {
	r := newRenderer(t, "")
	if got, want := r.Names(), []string{"coupon", "newsletter"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}

func TestBuiltinsRenderEveryChannelAndLanguage(t *testing.T) {
	r := newRenderer(t, "")
	for _, name := range []string{"coupon", "newsletter"} {
		for _, ch := range campaigns.Channels {
			for _, lang := range campaigns.Languages {
				t.Run(fmt.Sprintf("%s/%s/%s", name, ch, lang), func(t *testing.T) {
					d := sample(name, ch, lang)
					m, err := r.Render(name, ch, lang, d)
					if err != nil {
						t.Fatalf("Render: %v", err)
					}
					if !strings.Contains(m.Text, d.FirstName) {
						t.Errorf("text does not greet %s:\n%s", d.FirstName, m.Text)
					}
					if ch != campaigns.SMS && !strings.HasPrefix(m.Text, greetings[lang]) {
						t.Errorf("text starts %q, want greeting %q", firstLine(m.Text), greetings[lang])
					}
					if name == "coupon" {
						for _, want := range []string{d.CouponCode, d.Discount, dates[lang]} {
							if !strings.Contains(m.Text, want) {
								t.Errorf("text lacks %q:\n%s", want, m.Text)
							}
							if ch == campaigns.Email && !strings.Contains(m.HTML, want) {
								t.Errorf("HTML lacks %q", want)
							}
						}
					} else if strings.Contains(m.Text+m.HTML, "K7PX") {
						t.Errorf("newsletter shows a coupon code")
					}
					switch ch {
					case campaigns.Email:
						checkEmail(t, m, d)
					case campaigns.SMS:
						if m.Subject != "" || m.HTML != "" || m.Title != "" {
							t.Errorf("SMS has email or postal fields: %+v", m)
						}
						if !strings.HasSuffix(m.Text, stops[lang]) {
							t.Errorf("SMS does not end with %q: %q", stops[lang], m.Text)
						}
						if strings.Contains(m.Text, "http") {
							t.Errorf("SMS carries a link: %q", m.Text)
						}
					case campaigns.Postal:
						if m.Title == "" || strings.ContainsAny(m.Title, "\n\r") {
							t.Errorf("title = %q, want one non-empty line", m.Title)
						}
						if m.Subject != "" || m.HTML != "" {
							t.Errorf("letter has email fields")
						}
						if strings.Contains(m.Text, d.Street) || strings.Contains(m.Text, d.PostalCode) {
							t.Errorf("letter body carries the address; the print package places it")
						}
						if !strings.Contains(m.Text, "info@jacksmood.com") {
							t.Errorf("letter does not say how to object to postal marketing")
						}
						if !strings.Contains(m.Text, "\n\n") {
							t.Errorf("letter body has no paragraphs")
						}
					}
				})
			}
		}
	}
}

func checkEmail(t *testing.T, m Message, d Data) {
	t.Helper()
	if m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("subject = %q, want one non-empty line", m.Subject)
	}
	if !strings.Contains(m.Text, d.UnsubscribeURL) {
		t.Errorf("plain text lacks the unsubscribe URL")
	}
	if !strings.Contains(m.HTML, `href="`+d.UnsubscribeURL+`"`) {
		t.Errorf("HTML lacks a link to the unsubscribe URL")
	}
	for _, want := range []string{"Roptrox Oy", "Helatehtaankatu 3 B 29", "00700 HELSINKI", "2859115-6", "Jack's Mood"} {
		if !strings.Contains(m.HTML, want) || !strings.Contains(m.Text, want) {
			t.Errorf("HTML or text footer lacks %q", want)
		}
	}
	for _, want := range []string{"<!DOCTYPE html>", `lang="` + string(d.Language) + `"`, "max-width:600px", `role="presentation"`, `<h1 style="`} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(m.HTML, "<style") || strings.Contains(m.HTML, "<script") {
		t.Errorf("HTML has a style or script element; clients strip them, styles must be inline")
	}
	if strings.Contains(m.HTML, "TEST") {
		t.Errorf("a real send shows the test banner")
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func TestRealFinnishAndSwedishText(t *testing.T) {
	r := newRenderer(t, "")
	for lang, want := range map[campaigns.Language][]string{
		"fi": {"kiitos, että olet Jack's Moodin jäsen", "Voimassa 31.12.2026 asti", "Peru sähköpostien tilaus"},
		"sv": {"tack för att du är medlem", "Giltig till och med 31.12.2026", "Avsluta prenumerationen"},
		"en": {"Thank you for being a Jack's Mood member", "Valid until 31 December 2026", "Unsubscribe"},
	} {
		m, err := r.Render("coupon", campaigns.Email, lang, SampleData("coupon", lang))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(m.Text, w) || !strings.Contains(m.HTML, w) {
				t.Errorf("%s email lacks %q", lang, w)
			}
		}
	}
}

func TestDateFormat(t *testing.T) {
	d := SampleData("coupon", "fi").ValidUntil
	for lang, want := range dates {
		if got := formatDate(d, lang); got != want {
			t.Errorf("date in %s = %q, want %q", lang, got, want)
		}
	}
	if got := formatDate(d.AddDate(0, -11, -30), "fi"); got != "1.1.2026" {
		t.Errorf("date = %q, want 1.1.2026 (no leading zeros)", got)
	}
	if got := formatDate(SampleData("newsletter", "fi").ValidUntil, "fi"); got != "" {
		t.Errorf("zero date = %q, want empty", got)
	}
}

func TestHTMLEscapesFirstName(t *testing.T) {
	r := newRenderer(t, "")
	evil := `<script>alert("x")</script>`
	for _, name := range r.Names() {
		d := SampleData(name, "fi")
		d.FirstName = evil
		m, err := r.Render(name, campaigns.Email, "fi", d)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(m.HTML, "<script") {
			t.Errorf("%s: HTML carries the name unescaped", name)
		}
		if !strings.Contains(m.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("%s: HTML lacks the escaped name", name)
		}
		if !strings.Contains(m.Text, evil) {
			t.Errorf("%s: the plain text should carry the name as written", name)
		}
	}
}

func TestUnsubscribeURLWithQueryIsEscapedInHTML(t *testing.T) {
	r := newRenderer(t, "")
	d := SampleData("newsletter", "sv")
	d.UnsubscribeURL = "https://jacksmood.example/u/abc?m=1&s=x+y"
	m, err := r.Render("newsletter", campaigns.Email, "sv", d)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if !strings.Contains(m.Text, d.UnsubscribeURL) {
		t.Errorf("text lacks the URL as given")
	}
	if !strings.Contains(m.HTML, `href="https://jacksmood.example/u/abc?m=1&amp;s=x&#43;y"`) {
		t.Errorf("HTML lacks the attribute-escaped URL")
	}
}

func TestTestSendIsMarked(t *testing.T) {
	r := newRenderer(t, "")
	for _, ch := range campaigns.Channels {
		for _, lang := range campaigns.Languages {
			d := sample("coupon", ch, lang)
			d.Test = true
			m, err := r.Render("coupon", ch, lang, d)
			if err != nil {
				t.Fatal(err)
			}
			switch ch {
			case campaigns.Email:
				if !strings.HasPrefix(m.Subject, "[TEST] ") || !strings.HasPrefix(m.Text, "[TEST] ") {
					t.Errorf("%s email: subject %q, text %q not marked", lang, m.Subject, firstLine(m.Text))
				}
				if !strings.Contains(m.HTML, "background-color:#c62828;padding:10px 32px") || !strings.Contains(m.HTML, ">TEST – ") {
					t.Errorf("%s email: HTML has no test banner", lang)
				}
			case campaigns.SMS:
				if !strings.HasPrefix(m.Text, "[TEST] ") || !EndsWithStop(m.Text) {
					t.Errorf("%s SMS %q: not marked or lost STOP", lang, m.Text)
				}
			case campaigns.Postal:
				if !strings.HasPrefix(m.Title, "[TEST] ") {
					t.Errorf("%s letter title %q not marked", lang, m.Title)
				}
			}
		}
	}
}

// gsmSeptets returns the length of s in GSM 03.38 septets, or -1 when s has a character outside it.
func gsmSeptets(s string) int {
	const basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡" +
		"ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	const extension = "^{}\\[~]|€\f"
	n := 0
	for _, r := range s {
		switch {
		case strings.ContainsRune(basic, r):
			n++
		case strings.ContainsRune(extension, r):
			n += 2
		default:
			return -1
		}
	}
	return n
}

func TestSMSIsShortGSMAndEndsWithStop(t *testing.T) {
	r := newRenderer(t, "")
	for _, name := range r.Names() {
		for _, lang := range campaigns.Languages {
			d := sample(name, campaigns.SMS, lang)
			d.FirstName = "Marja-Liisa" // a long first name
			m, err := r.Render(name, campaigns.SMS, lang, d)
			if err != nil {
				t.Fatal(err)
			}
			n := gsmSeptets(m.Text)
			if n < 0 || n > 160 {
				t.Errorf("%s SMS in %s is %d GSM septets (-1: not GSM), want at most 160: %q", name, lang, n, m.Text)
			}
			if !EndsWithStop(m.Text) || !strings.HasSuffix(m.Text, stops[lang]) {
				t.Errorf("%s SMS in %s does not end with %q: %q", name, lang, stops[lang], m.Text)
			}
		}
	}
}

func TestEndsWithStop(t *testing.T) {
	for text, want := range map[string]bool{
		"Hei! Peru viestit: vastaa STOP":                true,
		"Hej! Avsluta: svara STOP\n":                    true,
		"Hi! Reply STOP to opt out.":                    true,
		"Hi!\nReply STOP to opt out":                    true,
		"Hi! Reply STOP to opt out (msg.rates apply)":   true,
		"Hi! Reply STOP to opt out. Sale ends Sunday!":  false,
		"STOP! Big sale now on":                         false,
		"Hi! Reply STOPP to opt out":                    false,
		"Hi! Reply stop to opt out":                     false,
		"Hi! Peru viestit: vastaa STOP-sanalla":         true,
		"Peru viestit: vastaa STOP":                     true,
		"":                                              false,
		"Hi! Reply NONSTOP to opt out":                  false,
		"Hello Matti, here is your code. Valid all May": false,
	} {
		if got := EndsWithStop(text); got != want {
			t.Errorf("EndsWithStop(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestSMSOverrideWithoutStopIsRefused(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"coupon/sms.fi.txt": "Hei {{.FirstName}}! Koodisi {{.CouponCode}}. Tervetuloa!\n",
	})
	r := newRenderer(t, dir)
	_, err := r.Render("coupon", campaigns.SMS, "fi", sample("coupon", campaigns.SMS, "fi"))
	if err == nil || !strings.Contains(err.Error(), "STOP") || !errors.Is(err, campaigns.ErrInvalid) {
		t.Fatalf("Render of an SMS without STOP: err = %v, want an ErrInvalid about STOP", err)
	}
	if strings.Contains(err.Error(), "Matti") {
		t.Errorf("the error carries the member's name: %v", err)
	}
	if _, err := r.Render("coupon", campaigns.SMS, "sv", sample("coupon", campaigns.SMS, "sv")); err != nil {
		t.Errorf("the Swedish SMS is not overridden and should render: %v", err)
	}
	err = r.Check("coupon", []campaigns.Channel{campaigns.SMS})
	for _, want := range []string{`"coupon"`, "sms", "language fi", "STOP"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check = %v, want an error containing %q", err, want)
		}
	}
	if err := r.Check("coupon", []campaigns.Channel{campaigns.Email, campaigns.Postal}); err != nil {
		t.Errorf("Check on channels the override does not touch: %v", err)
	}
}

func TestOverrideStopPartialMustKeepStop(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"_partials/sms.sv.txt": `{{define "sms-stop"}}Avsluta: svara NEJ{{end}}`})
	r := newRenderer(t, dir)
	if err := r.Check("newsletter", []campaigns.Channel{campaigns.SMS}); err == nil || !strings.Contains(err.Error(), "language sv") {
		t.Fatalf("Check = %v, want a refusal for Swedish", err)
	}
}

func TestOverrideFolderAddsAndOverrides(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		// Overrides one file of a built-in template; with a BOM and CRLF line ends, as Notepad saves.
		"coupon/email.fi.subject": "\uFEFFSyysale: {{.Discount}}\r\nkaikesta\r\n",
		// A shared block replaced for Finnish only.
		"_partials/sms.fi.txt": `{{define "sms-stop"}}Lopeta viestit: vastaa STOP{{end}}`,
		// Notes are not templates.
		"README.md":              "# our templates",
		"autumn-coupon/.swp":     "x",
		"autumn-coupon/NOTES.md": "draft",
	}
	for _, lang := range campaigns.Languages {
		files["autumn-coupon/sms."+string(lang)+".txt"] = "{{.FirstName}}: " + string(lang) + " autumn {{.CouponCode}}. {{template \"sms-stop\"}}\n"
	}
	writeFiles(t, dir, files)
	r := newRenderer(t, dir)

	if got, want := r.Names(), []string{"autumn-coupon", "coupon", "newsletter"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	m, err := r.Render("autumn-coupon", campaigns.SMS, "sv", sample("coupon", campaigns.SMS, "sv"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Åsa: sv autumn K7PX-M3QA-T9. Avsluta: svara STOP"; m.Text != want {
		t.Errorf("added template: %q, want %q", m.Text, want)
	}
	m, err = r.Render("autumn-coupon", campaigns.SMS, "fi", sample("coupon", campaigns.SMS, "fi"))
	if err != nil || !strings.HasSuffix(m.Text, "Lopeta viestit: vastaa STOP") {
		t.Errorf("overridden partial not used: %q, %v", m.Text, err)
	}
	if err := r.Check("autumn-coupon", []campaigns.Channel{campaigns.SMS}); err != nil {
		t.Errorf("Check(autumn-coupon, sms): %v", err)
	}
	err = r.Check("autumn-coupon", []campaigns.Channel{campaigns.SMS, campaigns.Email})
	if err == nil || !strings.Contains(err.Error(), "autumn-coupon/email.fi.subject") || !strings.Contains(err.Error(), "missing file") {
		t.Errorf("Check(autumn-coupon, email) = %v, want the missing files named", err)
	}
	_, err = r.Render("autumn-coupon", campaigns.Postal, "en", sample("coupon", campaigns.Postal, "en"))
	if !errors.Is(err, campaigns.ErrNotFound) || !strings.Contains(err.Error(), "autumn-coupon/postal.en.title") {
		t.Errorf("Render of a missing channel = %v, want ErrNotFound naming the file", err)
	}

	m, err = r.Render("coupon", campaigns.Email, "fi", SampleData("coupon", "fi"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Syysale: -20 % kaikesta" {
		t.Errorf("overridden subject = %q", m.Subject)
	}
	if !strings.HasPrefix(m.Text, "Hei Matti,") || !strings.Contains(m.HTML, "K7PX-M3QA-T9") {
		t.Errorf("the files not overridden should stay built in")
	}
	m, err = r.Render("coupon", campaigns.Email, "sv", SampleData("coupon", "sv"))
	if err != nil || m.Subject != "Din rabattkod: -20 % på ditt nästa köp" {
		t.Errorf("Swedish subject = %q, %v; want the built-in one", m.Subject, err)
	}
	if err := r.Check("coupon", nil); err != nil {
		t.Errorf("Check(coupon) after override: %v", err)
	}
}

func TestSubjectIsOneLine(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"newsletter/email.en.subject": "News for {{.FirstName}}\n"})
	r := newRenderer(t, dir)
	d := SampleData("newsletter", "en")
	d.FirstName = "Emily\r\nBcc: everyone@example.com\t"
	m, err := r.Render("newsletter", campaigns.Email, "en", d)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "News for Emily Bcc: everyone@example.com" {
		t.Errorf("subject = %q, want one line", m.Subject)
	}
}

func TestBrokenOverrideFailsNew(t *testing.T) {
	for _, tc := range []struct {
		name, file, content string
		want                []string
	}{
		{"parse error", "coupon/email.fi.txt", "Hei {{.FirstName}\n", []string{"coupon/email.fi.txt:1"}},
		{"unknown field", "coupon/sms.sv.txt", "Hej {{.Nope}}! {{template \"sms-stop\"}}", []string{"coupon/sms.sv.txt:1", `"Nope"`}},
		{"unknown field in a branch never taken", "newsletter/postal.en.txt", "{{if .CouponCode}}{{.CuoponCode}}{{end}}", []string{"newsletter/postal.en.txt:1", `"CuoponCode"`}},
		{"unknown field on a nested value", "newsletter/postal.en.title", "{{with .ValidUntil}}{{.Yaer}}{{end}}", []string{"postal.en.title", `"Yaer"`, "time.Time"}},
		{"unknown field in HTML", "coupon/email.en.html", `<p>{{.FirstNmae}}</p>`, []string{"coupon/email.en.html:1", `"FirstNmae"`}},
		{"unknown field in a partial", "_partials/email.sv.txt", `{{define "text-footer"}}{{.Unsub}}{{end}}`, []string{"_partials/email.sv.txt:1", `"Unsub"`}},
		{"unknown function", "coupon/email.fi.subject", "{{shout .Discount}}", []string{"coupon/email.fi.subject:1", `"shout"`}},
		{"unknown template", "coupon/postal.fi.txt", `{{template "postal-fotter" .}}`, []string{"coupon/postal.fi.txt:1", `"postal-fotter"`}},
		{"HTML escaping error", "newsletter/email.sv.html", `{{if .Test}}<a href="{{end}}x`, []string{"newsletter/email.sv.html", "branches"}},
		{"misspelt file name", "coupon/emial.fi.txt", "x", []string{"coupon/emial.fi.txt", "unknown file name"}},
		{"unknown language", "coupon/email.de.txt", "x", []string{"coupon/email.de.txt", "unknown file name"}},
		{"part of another channel", "coupon/sms.fi.html", "x", []string{"coupon/sms.fi.html"}},
		{"bad partial name", "_partials/footer.de.txt", "x", []string{"footer.de.txt", `"de"`}},
		{"not UTF-8", "coupon/sms.fi.txt", "Hei \xe4iti STOP", []string{"coupon/sms.fi.txt", "UTF-8"}},
		{"file outside a folder", "email.fi.txt", "x", []string{"email.fi.txt", "outside a template folder"}},
		{"bad folder name", "autumn coupon/sms.fi.txt", "x", []string{"autumn coupon"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{tc.file: tc.content})
			_, err := New(dir)
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range append(tc.want, dir) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New: %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestNewRefusesMissingFolder(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := New(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("New(missing folder) = %v, want an error naming it", err)
	}
}

func TestCheckCatchesExecutionErrors(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for _, lang := range campaigns.Languages {
		files["broken/sms."+string(lang)+".txt"] = `Hi {{.FirstName}}! {{.ValidUntil.Format}} {{template "sms-stop"}}`
		files["nosms/sms."+string(lang)+".txt"] = `{{if .Test}}{{index .FirstName 99}}{{end}} Hi! {{template "sms-stop"}}`
	}
	writeFiles(t, dir, files)
	r := newRenderer(t, dir) // these parse and pass the static check: only executing them fails

	err := r.Check("broken", []campaigns.Channel{campaigns.SMS})
	for _, want := range []string{`"broken"`, "channel sms", "language fi", "Format", "broken/sms.fi.txt"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check(broken) = %v, want it to contain %q", err, want)
		}
	}
	if !errors.Is(err, campaigns.ErrInvalid) {
		t.Errorf("Check error is not ErrInvalid: %v", err)
	}
	// Only a test send enters the {{if}}: Check renders one.
	if err := r.Check("nosms", []campaigns.Channel{campaigns.SMS}); err == nil || !strings.Contains(err.Error(), "test send") {
		t.Errorf("Check(nosms) = %v, want the failing test-send variant", err)
	}
}

func TestCheck(t *testing.T) {
	r := newRenderer(t, "")
	for _, name := range r.Names() {
		if err := r.Check(name, nil); err != nil {
			t.Errorf("Check(%s): %v", name, err)
		}
	}
	err := r.Check("autumn-coupon", []campaigns.Channel{campaigns.Email})
	if err == nil || !errors.Is(err, campaigns.ErrInvalid) || !strings.Contains(err.Error(), `"autumn-coupon"`) {
		t.Errorf("Check(unknown) = %v, want ErrInvalid naming the template", err)
	}
	if err := r.Check("coupon", []campaigns.Channel{"fax"}); err == nil || !strings.Contains(err.Error(), "fax") {
		t.Errorf("Check(coupon, fax) = %v, want an error naming the channel", err)
	}
}

func TestRenderRefuses(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"nolink/email.fi.subject": "Hei",
		"nolink/email.fi.txt":     "Hei {{.FirstName}}\n{{.UnsubscribeURL}}",
		"nolink/email.fi.html":    "<p>Hei {{.FirstName}}</p>",
		"notext/email.fi.subject": "Hei",
		"notext/email.fi.txt":     "Hei {{.FirstName}}",
		"notext/email.fi.html":    `<a href="{{.UnsubscribeURL}}">Peru</a>`,
	})
	r := newRenderer(t, dir)
	email := SampleData("coupon", "fi")
	noURL := email
	noURL.UnsubscribeURL = ""
	for _, tc := range []struct {
		name string
		tmpl string
		ch   campaigns.Channel
		lang campaigns.Language
		d    Data
		kind error
		want string
	}{
		{"unknown template", "nope", campaigns.Email, "fi", email, campaigns.ErrNotFound, "no such template"},
		{"unknown channel", "coupon", "fax", "fi", email, campaigns.ErrInvalid, "unknown channel"},
		{"unknown language", "coupon", campaigns.Email, "de", email, campaigns.ErrInvalid, "unknown language"},
		{"email without unsubscribe URL", "coupon", campaigns.Email, "fi", noURL, campaigns.ErrInvalid, "UnsubscribeURL"},
		{"HTML without unsubscribe link", "nolink", campaigns.Email, "fi", email, campaigns.ErrInvalid, "email.fi.html"},
		{"text without unsubscribe URL", "notext", campaigns.Email, "fi", email, campaigns.ErrInvalid, "email.fi.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Render(tc.tmpl, tc.ch, tc.lang, tc.d)
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Render = %v, want %v containing %q", err, tc.kind, tc.want)
			}
		})
	}
}

func TestRenderUsesDataLanguageWhenLangEmpty(t *testing.T) {
	r := newRenderer(t, "")
	m, err := r.Render("newsletter", campaigns.Postal, "", sample("newsletter", campaigns.Postal, "sv"))
	if err != nil || !strings.HasPrefix(m.Text, "Hej Åsa,") {
		t.Fatalf("Render with lang \"\" = %q, %v; want the Swedish letter", firstLine(m.Text), err)
	}
}

func TestConcurrentRender(t *testing.T) {
	r := newRenderer(t, "")
	type job struct {
		name string
		ch   campaigns.Channel
		lang campaigns.Language
	}
	var jobs []job
	want := map[job]Message{}
	for _, name := range r.Names() {
		for _, ch := range campaigns.Channels {
			for _, lang := range campaigns.Languages {
				j := job{name, ch, lang}
				m, err := r.Render(name, ch, lang, sample(name, ch, lang))
				if err != nil {
					t.Fatal(err)
				}
				jobs, want[j] = append(jobs, j), m
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				j := jobs[(g*7+i)%len(jobs)]
				m, err := r.Render(j.name, j.ch, j.lang, sample(j.name, j.ch, j.lang))
				if err != nil || m != want[j] {
					errs <- fmt.Sprintf("%v: differs from the serial render (err %v)", j, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestSampleData(t *testing.T) {
	c := SampleData("coupon", "sv")
	if c.Language != "sv" || c.FirstName != "Åsa" || c.CouponCode == "" || c.Discount == "" || c.ValidUntil.IsZero() || c.UnsubscribeURL == "" {
		t.Errorf("coupon sample incomplete: %+v", c)
	}
	if !campaigns.ValidPostalCode(c.PostalCode) || c.Country != "FI" {
		t.Errorf("sample address is not a Finnish one: %+v", c)
	}
	n := SampleData("newsletter", "en")
	if n.CouponCode != "" || n.Discount != "" || !n.ValidUntil.IsZero() || n.Kind != "newsletter" {
		t.Errorf("newsletter sample has coupon fields: %+v", n)
	}
	if html.EscapeString(c.UnsubscribeURL) != c.UnsubscribeURL {
		t.Errorf("sample URL should need no escaping")
	}
}

func BenchmarkRenderEmail(b *testing.B) {
	r, err := New("")
	if err != nil {
		b.Fatal(err)
	}
	d := SampleData("coupon", "fi")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Render("coupon", campaigns.Email, "fi", d); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRenderSMS(b *testing.B) {
	r, err := New("")
	if err != nil {
		b.Fatal(err)
	}
	d := sample("coupon", campaigns.SMS, "sv")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render("coupon", campaigns.SMS, "sv", d); err != nil {
			b.Fatal(err)
		}
	}
}

// A template folder cannot read a file outside itself through a link: a subject linked to
// /proc/self/environ (the process's secrets) or to a file elsewhere is refused when the templates are
// loaded. A link that stays inside the folder is fine.
func TestOverrideLinkOutOfTheFolderIsRefused(t *testing.T) {
	for name, target := range map[string]string{"environ": "/proc/self/environ", "elsewhere": ""} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"coupon/email.fi.txt": "x"})
			if target == "" {
				outside := filepath.Join(t.TempDir(), "secret.txt")
				if err := os.WriteFile(outside, []byte("DISPATCH_SECRET=hunter2"), 0o600); err != nil {
					t.Fatal(err)
				}
				target = outside
			}
			if err := os.Symlink(target, filepath.Join(dir, "coupon", "email.fi.subject")); err != nil {
				t.Fatal(err)
			}
			_, err := New(dir)
			if err == nil || !strings.Contains(err.Error(), "a link out of the template folder (DISPATCH_TEMPLATE_DIR) is refused") ||
				!strings.Contains(err.Error(), filepath.Join(dir, "coupon", "email.fi.subject")) {
				t.Fatalf("New = %v, want the link refused", err)
			}
		})
	}
	dir := t.TempDir()
	// A hidden folder is not a template: shared text may live there and be linked to.
	writeFiles(t, dir, map[string]string{".shared/subject.txt": "Syysale: {{.Discount}}", "coupon/email.fi.txt": "x"})
	if err := os.Remove(filepath.Join(dir, "coupon", "email.fi.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../.shared/subject.txt", filepath.Join(dir, "coupon", "email.fi.subject")); err != nil {
		t.Fatal(err)
	}
	r, err := New(dir)
	if err != nil {
		t.Fatalf("a link inside the folder: %v", err)
	}
	m, err := r.Render("coupon", campaigns.Email, "fi", sample("coupon", campaigns.Email, "fi"))
	if err != nil || !strings.HasPrefix(m.Subject, "Syysale: ") {
		t.Fatalf("render through an inside link: %q %v", m.Subject, err)
	}
}
