// Package templates renders the messages dispatch sends: a template name, a channel (email, SMS,
// postal) and a language (fi, sv, en), with the Data of one member, become a Message.
//
// The templates coupon and newsletter are built in (embedded from builtin/). A folder given to New
// (DISPATCH_TEMPLATE_DIR; the package never reads the environment) adds templates or overrides
// single files of the built-in ones without a rebuild. See README.md for the file layout.
//
// Everything is parsed once in New; Render is safe for concurrent use and does no I/O.
// Two rules of the register are enforced by Render itself, so that no template can break them:
// every SMS ends with an opt-out instruction containing STOP, and every email carries the member's
// unsubscribe link in both its HTML and its plain-text part.
package templates

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	htmltemplate "html/template"
	"io"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jacksmood/dispatch/campaigns"
)

// Data is everything a template may use: what the message needs about the member and the campaign,
// and nothing else (no email address, no phone number, no purchase history).
type Data struct {
	// FirstName and LastName are the member's names, as in the register.
	FirstName, LastName string
	// Street, PostalCode, City and Country are the member's postal address (Country as "FI").
	// The built-in templates do not print them; the print package places the address on the letter.
	Street, PostalCode, City, Country string
	// Language is the member's language. Render sets it to the language it renders in.
	Language campaigns.Language
	// CampaignName is the marketer's name for the campaign.
	CampaignName string
	// Kind is the campaign's kind: "coupon" or "newsletter".
	Kind string
	// Discount is the coupon's discount as shown to the member, e.g. "-20 %" (coupon only).
	Discount string
	// CouponCode is the member's coupon code; "" for newsletters.
	CouponCode string
	// ValidUntil is the coupon's last day of validity; the zero time for newsletters. Templates
	// print it with {{date .ValidUntil .Language}}, in ValidUntil's own location.
	ValidUntil time.Time
	// UnsubscribeURL is the member's one-click unsubscribe page. Required for email (Render refuses
	// an email without it); "" for SMS, which carries the STOP instruction instead.
	UnsubscribeURL string
	// Test marks a test send. Render puts "[TEST] " in front of the subject, the SMS text, the
	// plain-text email and the letter title; HTML templates show a banner ({{if .Test}}).
	Test bool
}

// Message is one rendered message. Which fields are set depends on the channel.
type Message struct {
	// Subject is the email's subject, one line (email only).
	Subject string
	// Text is the email's plain-text alternative, the SMS body, or the postal letter's body as plain
	// paragraphs separated by blank lines. Leading and trailing white space is trimmed.
	Text string
	// HTML is the email's HTML part (email only).
	HTML string
	// Title is the postal letter's heading, one line (postal only).
	Title string
}

// Kinds of campaign the sample data knows about.
const (
	kindCoupon = "coupon"
)

// part is one file of a message: subject, text, HTML or title.
type part int

const (
	partSubject part = iota
	partText
	partHTML
	partTitle
	numParts
)

// suffix is the file-name ending of each part.
func (p part) suffix() string {
	return [numParts]string{"subject", "txt", "html", "title"}[p]
}

var (
	emailParts  = []part{partSubject, partText, partHTML}
	smsParts    = []part{partText}
	postalParts = []part{partTitle, partText}
)

// channelParts returns the parts a channel's message is made of, or nil for an unknown channel.
func channelParts(ch campaigns.Channel) []part {
	switch ch {
	case campaigns.Email:
		return emailParts
	case campaigns.SMS:
		return smsParts
	case campaigns.Postal:
		return postalParts
	}
	return nil
}

func validLanguage(l campaigns.Language) bool {
	return slices.Contains(campaigns.Languages, l)
}

// executor is a parsed template of either package.
type executor interface {
	Execute(w io.Writer, data any) error
}

// messageSet is what one template has for one channel in one language.
type messageSet struct {
	parts   [numParts]executor
	missing []string // file names of required parts that do not exist
}

type setKey struct {
	name string
	ch   campaigns.Channel
	lang campaigns.Language
}

// Renderer renders messages from the templates parsed by New. It is safe for concurrent use.
type Renderer struct {
	sets  map[setKey]*messageSet
	names []string
	bufs  sync.Pool
	href  *htmltemplate.Template // renders a URL as html/template writes it in href="..."
}

// Names returns the names of all templates, built-in and added, sorted.
func (r *Renderer) Names() []string {
	return slices.Clone(r.names)
}

func (r *Renderer) known(name string) bool {
	_, ok := slices.BinarySearch(r.names, name)
	return ok
}

// Render renders template name for channel ch in language lang with the member's data d.
// If lang is "", d.Language is used; d.Language is set to the language rendered.
//
// It returns an error wrapping campaigns.ErrNotFound when the template does not exist or lacks a
// file for the channel and language, and campaigns.ErrInvalid when the channel or language is
// unknown, the template fails to execute, an SMS does not end with a STOP instruction, or an email
// has no UnsubscribeURL or does not show it. Error messages never contain the member's data.
func (r *Renderer) Render(name string, ch campaigns.Channel, lang campaigns.Language, d Data) (Message, error) {
	if lang == "" {
		lang = d.Language
	}
	d.Language = lang
	m, err := r.render(name, ch, &d)
	if err != nil {
		return Message{}, fmt.Errorf("render template %q, channel %s, language %s: %w", name, ch, lang, err)
	}
	return m, nil
}

// render does Render's work; its errors say what is wrong, without naming template, channel or language.
func (r *Renderer) render(name string, ch campaigns.Channel, d *Data) (Message, error) {
	set := r.sets[setKey{name, ch, d.Language}]
	if set == nil {
		switch {
		case !r.known(name):
			return Message{}, campaigns.Errorf(campaigns.ErrNotFound, "no such template (have %s)", strings.Join(r.names, ", "))
		case channelParts(ch) == nil:
			return Message{}, campaigns.Errorf(campaigns.ErrInvalid, "unknown channel (want email, sms or postal)")
		default:
			return Message{}, campaigns.Errorf(campaigns.ErrInvalid, "unknown language (want fi, sv or en)")
		}
	}
	if len(set.missing) > 0 {
		return Message{}, campaigns.Errorf(campaigns.ErrNotFound, "missing file %s", strings.Join(set.missing, ", "))
	}
	var m Message
	var err error
	switch ch {
	case campaigns.Email:
		if d.UnsubscribeURL == "" {
			return Message{}, campaigns.Errorf(campaigns.ErrInvalid, "an email needs the member's UnsubscribeURL")
		}
		if m.Subject, err = r.exec(set.parts[partSubject], d, true); err != nil {
			return Message{}, err
		}
		if m.Text, err = r.exec(set.parts[partText], d, false); err != nil {
			return Message{}, err
		}
		if m.HTML, err = r.exec(set.parts[partHTML], d, false); err != nil {
			return Message{}, err
		}
		if d.Test {
			m.Subject, m.Text = markTest(m.Subject), markTest(m.Text)
		}
		if !strings.Contains(m.Text, d.UnsubscribeURL) {
			return Message{}, campaigns.Errorf(campaigns.ErrInvalid, "the plain-text part (email.%s.txt) does not show the UnsubscribeURL", d.Language)
		}
		if !r.htmlShowsURL(m.HTML, d.UnsubscribeURL) {
			return Message{}, campaigns.Errorf(campaigns.ErrInvalid, "the HTML part (email.%s.html) does not link to the UnsubscribeURL", d.Language)
		}
	case campaigns.SMS:
		if m.Text, err = r.exec(set.parts[partText], d, false); err != nil {
			return Message{}, err
		}
		if d.Test {
			m.Text = markTest(m.Text)
		}
		if !EndsWithStop(m.Text) {
			return Message{}, campaigns.Errorf(campaigns.ErrInvalid, "the SMS (sms.%s.txt) must end with an opt-out instruction containing STOP", d.Language)
		}
	case campaigns.Postal:
		if m.Title, err = r.exec(set.parts[partTitle], d, true); err != nil {
			return Message{}, err
		}
		if m.Text, err = r.exec(set.parts[partText], d, false); err != nil {
			return Message{}, err
		}
		if d.Test {
			m.Title = markTest(m.Title)
		}
	}
	return m, nil
}

// exec executes t into a pooled buffer and returns the output trimmed; oneLine also turns line
// breaks and tabs into spaces (subjects and titles: no header injection from a name).
func (r *Renderer) exec(t executor, d *Data, oneLine bool) (string, error) {
	buf := r.bufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			r.bufs.Put(buf)
		}
	}()
	buf.Reset()
	if err := t.Execute(buf, d); err != nil {
		return "", campaigns.Errorf(campaigns.ErrInvalid, "%v", err)
	}
	b := bytes.TrimSpace(buf.Bytes())
	if oneLine && bytes.ContainsAny(b, "\r\n\t") {
		return strings.Join(strings.Fields(string(b)), " "), nil
	}
	return string(b), nil
}

const testMark = "[TEST]"

func markTest(s string) string {
	if strings.HasPrefix(s, testMark) {
		return s
	}
	return testMark + " " + s
}

// htmlShowsURL reports whether the HTML contains the URL as html/template writes it in an attribute.
func (r *Renderer) htmlShowsURL(h, url string) bool {
	if strings.Contains(h, url) {
		return true
	}
	if esc := html.EscapeString(url); esc != url && strings.Contains(h, esc) {
		return true
	}
	// Rare: a URL html/template normalises (spaces, non-ASCII, '+'); render it the same way.
	var b strings.Builder
	if err := r.href.Execute(&b, url); err != nil {
		return false
	}
	attr := strings.TrimSuffix(strings.TrimPrefix(b.String(), `<a href="`), `">`)
	return attr != "" && strings.Contains(h, attr)
}

// EndsWithStop reports whether an SMS text ends with an opt-out instruction: its last sentence
// (after the last ". ", "! ", "? " or line break) contains the word STOP in capitals.
func EndsWithStop(text string) bool {
	s := strings.TrimRight(text, " \t\r\n.!")
	start := 0
	for _, sep := range []string{". ", "! ", "? ", "\n"} {
		if i := strings.LastIndex(s, sep); i >= 0 && i+len(sep) > start {
			start = i + len(sep)
		}
	}
	tail := s[start:]
	for i := 0; ; {
		j := strings.Index(tail[i:], "STOP")
		if j < 0 {
			return false
		}
		j += i
		before, _ := utf8.DecodeLastRuneInString(tail[:j])
		after, _ := utf8.DecodeRuneInString(tail[j+4:])
		if !isWordRune(before) && !isWordRune(after) {
			return true
		}
		i = j + 4
	}
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// Check renders template name on each of channels (every channel when channels is empty) in fi,
// sv and en, for sample members of both kinds, as a test send, and with an almost empty Data, so
// that a template that is missing a file, does not parse, fails to execute (a misspelt field or
// function, a wrong argument) or breaks a rule (STOP, unsubscribe link) is refused when a campaign
// is created rather than at send time. The error wraps campaigns.ErrInvalid and names the
// template, channel, language and the problem.
func (r *Renderer) Check(name string, channels []campaigns.Channel) error {
	if !r.known(name) {
		return campaigns.Errorf(campaigns.ErrInvalid, "template %q does not exist (have %s)", name, strings.Join(r.names, ", "))
	}
	if len(channels) == 0 {
		channels = campaigns.Channels
	}
	for _, ch := range channels {
		if channelParts(ch) == nil {
			return campaigns.Errorf(campaigns.ErrInvalid, "template %q: unknown channel %q (want email, sms or postal)", name, ch)
		}
		for _, lang := range campaigns.Languages {
			if set := r.sets[setKey{name, ch, lang}]; len(set.missing) > 0 {
				return campaigns.Errorf(campaigns.ErrInvalid, "template %q, channel %s, language %s: missing file %s",
					name, ch, lang, strings.Join(set.missing, ", "))
			}
			for _, v := range checkVariants(ch, lang) {
				d := v.data
				if _, err := r.render(name, ch, &d); err != nil {
					return fmt.Errorf("template %q, channel %s, language %s (%s): %w",
						name, ch, lang, v.label, asInvalid(err))
				}
			}
		}
	}
	return nil
}

type checkVariant struct {
	label string
	data  Data
}

// checkVariants returns the Data Check renders with, so that branches on the kind, on Test and on
// empty fields are all executed at least once.
func checkVariants(ch campaigns.Channel, lang campaigns.Language) []checkVariant {
	coupon := SampleData(kindCoupon, lang)
	news := SampleData("newsletter", lang)
	test := coupon
	test.Test = true
	empty := Data{Language: lang, UnsubscribeURL: coupon.UnsubscribeURL}
	vs := []checkVariant{
		{"sample coupon member", coupon},
		{"sample newsletter member", news},
		{"test send", test},
		{"member with empty fields", empty},
	}
	if ch != campaigns.Email {
		for i := range vs {
			vs[i].data.UnsubscribeURL = ""
		}
	}
	return vs
}

// asInvalid keeps err's message but makes it an ErrInvalid (a missing file is invalid input to Check).
func asInvalid(err error) error {
	if errors.Is(err, campaigns.ErrInvalid) {
		return err
	}
	return campaigns.Errorf(campaigns.ErrInvalid, "%v", err)
}

// SampleData returns a plausible member for previews and checks: a Finnish, Swedish-speaking or
// English-speaking member by lang (Finnish names for any other value), with a coupon (-20 %, a
// 12-character code, valid until 31 December 2026) when kind is "coupon", and an unsubscribe URL.
func SampleData(kind string, lang campaigns.Language) Data {
	d := Data{
		Language:       lang,
		Kind:           kind,
		Country:        "FI",
		UnsubscribeURL: "https://jacksmood.example/u/SAMPLE-TOKEN",
	}
	switch lang {
	case campaigns.Swedish:
		d.FirstName, d.LastName = "Åsa", "Sjöberg"
		d.Street, d.PostalCode, d.City = "Kyrkoesplanaden 7 B 12", "65100", "VASA"
	case campaigns.English:
		d.FirstName, d.LastName = "Emily", "Clarke"
		d.Street, d.PostalCode, d.City = "Tehtaankatu 10 A 4", "00140", "HELSINKI"
	default:
		d.FirstName, d.LastName = "Matti", "Mäkelä"
		d.Street, d.PostalCode, d.City = "Hämeenkatu 15 B 22", "33100", "TAMPERE"
	}
	if kind == kindCoupon {
		d.CampaignName = "Sample coupon"
		d.Discount = "-20 %"
		d.CouponCode = "K7PX-M3QA-T9"
		d.ValidUntil = time.Date(2026, time.December, 31, 23, 59, 59, 0, time.FixedZone("EET", 2*60*60))
	} else {
		d.CampaignName = "Sample newsletter"
	}
	return d
}

// formatDate is the template function date: "31.12.2026" in Finnish and Swedish,
// "31 December 2026" in English, "" for the zero time.
func formatDate(t time.Time, lang campaigns.Language) string {
	if t.IsZero() {
		return ""
	}
	if lang == campaigns.English {
		return t.Format("2 January 2006")
	}
	return t.Format("2.1.2006")
}

// funcs are the functions every template may call.
func funcs() template.FuncMap {
	return template.FuncMap{"date": formatDate}
}
