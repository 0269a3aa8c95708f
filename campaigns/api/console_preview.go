package api

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/service"
)

// A campaign's preview: what it sends on a channel in a language, to a sample member or to one
// member (by external id). An email's HTML is shown in a sandboxed frame of its own, with a policy
// of its own (no script, no request but images); a letter is the PDF the print house would get. A
// marketer may also send the message to themselves as a test (email or SMS).

// previewRoutes serves the preview page, its email frame and letter PDF, and test sends.
func (c *console) previewRoutes() {
	preview := func(h http.HandlerFunc) http.Handler {
		return c.s.requireSession(h, campaigns.RoleMarketer, campaigns.RolePrivacy)
	}
	c.s.mux.Handle("GET /campaigns/{id}/preview", preview(c.previewPage))
	c.s.mux.Handle("GET /campaigns/{id}/preview/email.html", preview(c.previewEmailFrame))
	c.s.mux.Handle("GET /campaigns/{id}/preview/letter.pdf", preview(c.previewLetter))
	c.s.mux.Handle("POST /campaigns/{id}/testsend", c.s.requireSession(http.HandlerFunc(c.testSend), campaigns.RoleMarketer))
}

// emailFramePolicy is the policy of an email's HTML shown in the console: nothing runs and nothing
// loads but images and its inline styles; only the console's own pages may frame it; even opened on
// its own it is a sandbox, and its forms post nowhere.
const emailFramePolicy = "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; frame-ancestors 'self'; form-action 'none'; base-uri 'none'; sandbox"

// previewQuery is what a preview shows: the channel, the language (of a sample member) and the
// member (external id; "" for the sample member).
type previewQuery struct {
	Channel campaigns.Channel
	Lang    campaigns.Language
	Member  string
}

// readPreviewQuery reads ?channel=&lang=&member=, defaulting to the first of channels and Finnish.
func readPreviewQuery(r *http.Request, channels []campaigns.Channel) previewQuery {
	q := r.URL.Query()
	pq := previewQuery{Channel: campaigns.Channel(q.Get("channel")), Lang: campaigns.Language(q.Get("lang")),
		Member: strings.TrimSpace(q.Get("member"))}
	if pq.Channel == "" && len(channels) > 0 {
		pq.Channel = channels[0]
	}
	if pq.Channel == "" {
		pq.Channel = campaigns.Email
	}
	if pq.Lang == "" {
		pq.Lang = campaigns.Finnish
	}
	return pq
}

// Encode is the query of the preview's parts.
func (q previewQuery) Encode() string {
	v := url.Values{"channel": {string(q.Channel)}, "lang": {string(q.Lang)}}
	if q.Member != "" {
		v.Set("member", q.Member)
	}
	return v.Encode()
}

// previewData is what campaign_preview.html shows.
type previewData struct {
	CampaignID int64
	// Campaign is the campaign, when the user's role may read it (a privacy officer may preview
	// for a member but not read the campaign list); Known says whether it is.
	Campaign campaigns.Campaign
	Known    bool
	Query    previewQuery
	Channels []campaigns.Channel
	Preview  service.Preview
	// Error is why the preview could not be made (a member not found, a template that fails), or "".
	Error string
	// Test is the test send form as typed, and its problems by input.
	Test testForm
	// Sent names the channel of a test message just sent ("email", "sms"), or "".
	Sent string
}

// testForm is the test send form.
type testForm struct {
	Channel string
	To      string
	Lang    string
	Errors  map[string]string
}

// Languages are the languages a sample member may have.
func (previewData) Languages() []campaigns.Language {
	return []campaigns.Language{campaigns.Finnish, campaigns.Swedish, campaigns.English}
}

// QueryString is the preview's query string, for its frame and PDF.
func (d previewData) QueryString() string { return d.Query.Encode() }

// TestChannels are the channels a test send may use: the campaign's email and SMS.
func (d previewData) TestChannels() []campaigns.Channel {
	var out []campaigns.Channel
	for _, ch := range d.Channels {
		if ch == campaigns.Email || ch == campaigns.SMS {
			out = append(out, ch)
		}
	}
	return out
}

// previewPage answers GET /campaigns/{id}/preview?channel=&lang=&member=.
func (c *console) previewPage(w http.ResponseWriter, r *http.Request) {
	id, ok := c.pathID(w, r, "id")
	if !ok {
		return
	}
	d, ok := c.previewData(w, r, id)
	if !ok {
		return
	}
	d.Sent = r.URL.Query().Get("sent")
	if d.Sent != "email" && d.Sent != "sms" {
		d.Sent = ""
	}
	d.Test = testForm{Channel: string(d.Query.Channel), Lang: string(d.Query.Lang)}
	c.renderPreview(w, r, http.StatusOK, d)
}

// previewData reads the campaign (when the role may) and makes the preview the query asks for; a
// problem with the preview itself (an unknown member) is shown on the page. ok false has answered.
func (c *console) previewData(w http.ResponseWriter, r *http.Request, id int64) (previewData, bool) {
	u := user(r)
	d := previewData{CampaignID: id, Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal}}
	cp, err := c.svc.Campaign(r.Context(), u, id)
	switch {
	case err == nil:
		d.Campaign, d.Known, d.Channels = cp, true, cp.Spec.Channels
	case errors.Is(err, campaigns.ErrForbidden):
		// A privacy officer: the preview itself says whether the campaign exists.
	default:
		c.s.fail(w, r, err)
		return d, false
	}
	d.Query = readPreviewQuery(r, d.Channels)
	// A letter is shown as its PDF (letter.pdf); the page still says whether the member would get it.
	d.Preview, err = c.preview(r, id, d.Query)
	switch {
	case err == nil:
	case errors.Is(err, campaigns.ErrNotFound) && d.Query.Member != "":
		d.Error = translate(requestLang(r), "preview.nomember", d.Query.Member)
	case errors.Is(err, campaigns.ErrInvalid):
		d.Error = err.Error()
	default:
		c.s.fail(w, r, err)
		return d, false
	}
	return d, true
}

// preview makes the preview of the query: the member's, or the sample member's.
func (c *console) preview(r *http.Request, id int64, q previewQuery) (service.Preview, error) {
	if q.Member != "" {
		return c.svc.Preview(r.Context(), user(r), id, q.Member, q.Channel)
	}
	return c.svc.PreviewSample(r.Context(), user(r), id, q.Channel, q.Lang)
}

func (c *console) renderPreview(w http.ResponseWriter, r *http.Request, status int, d previewData) {
	v := c.s.newView(r, "preview.title", d)
	if d.Known {
		v.Title = v.T("preview.title") + ": " + d.Campaign.Name
	}
	v.Nav = "campaigns"
	c.s.render(w, r, status, "campaign_preview.html", v)
}

// previewEmailFrame answers GET /campaigns/{id}/preview/email.html?lang=&member=: the email's HTML
// alone, for the preview page's sandboxed frame, under emailFramePolicy.
func (c *console) previewEmailFrame(w http.ResponseWriter, r *http.Request) {
	id, ok := c.pathID(w, r, "id")
	if !ok {
		return
	}
	q := readPreviewQuery(r, nil)
	q.Channel = campaigns.Email
	p, err := c.preview(r, id, q)
	if err != nil {
		c.s.fail(w, r, err)
		return
	}
	html := p.HTML
	if html == "" {
		html = "<!DOCTYPE html><meta charset=\"utf-8\"><pre>" + template.HTMLEscapeString(p.Text) + "</pre>"
	}
	h := w.Header()
	// Set after requireSession's frameHeaders, which forbid all framing: this one answer is framed
	// by the console's own page.
	h.Set("Content-Security-Policy", emailFramePolicy)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.Write([]byte(html))
}

// previewLetter answers GET /campaigns/{id}/preview/letter.pdf?lang=&member=: the letter as the
// print house would get it, a PDF shown inline (framed by the preview page) or downloaded
// (?download=1).
func (c *console) previewLetter(w http.ResponseWriter, r *http.Request) {
	id, ok := c.pathID(w, r, "id")
	if !ok {
		return
	}
	q := readPreviewQuery(r, nil)
	lang := q.Lang
	if q.Member != "" && r.URL.Query().Get("lang") == "" {
		lang = "" // the member's own language
	}
	pdf, err := c.svc.PreviewLetter(r.Context(), user(r), id, q.Member, lang)
	if err != nil {
		c.s.fail(w, r, err)
		return
	}
	disposition := "inline"
	if r.URL.Query().Get("download") != "" {
		disposition = "attachment"
	}
	name := fmt.Sprintf("campaign-%d-letter-%s.pdf", id, lang)
	if q.Member != "" {
		name = fmt.Sprintf("campaign-%d-letter.pdf", id)
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", disposition+`; filename="`+name+`"`)
	h.Set("Content-Length", strconv.Itoa(len(pdf)))
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'self'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.Write(pdf)
}

// testSend answers POST /campaigns/{id}/testsend (channel, to, lang): the message goes to the
// address or number given, and the preview page says so (without the address in its URL). A wrong
// address comes back on the page (422) next to its field.
func (c *console) testSend(w http.ResponseWriter, r *http.Request) {
	id, ok := c.pathID(w, r, "id")
	if !ok {
		return
	}
	tf := testForm{Channel: r.PostFormValue("channel"), To: strings.TrimSpace(r.PostFormValue("to")), Lang: r.PostFormValue("lang")}
	lang := campaigns.Language(tf.Lang)
	var err error
	if l, perr := campaigns.ParseLanguage(tf.Lang); perr != nil || string(l) != tf.Lang {
		err = campaigns.Invalid("language", fmt.Sprintf("%q is not fi, sv or en", tf.Lang))
	} else if tf.To == "" {
		err = campaigns.Invalid("to", "is required")
	} else {
		_, err = c.svc.TestSend(r.Context(), user(r), id, campaigns.Channel(tf.Channel), tf.To, lang)
	}
	if err == nil {
		back := previewQuery{Channel: campaigns.Channel(tf.Channel), Lang: lang}
		http.Redirect(w, r, fmt.Sprintf("/campaigns/%d/preview?%s&sent=%s", id, back.Encode(), url.QueryEscape(tf.Channel)), http.StatusSeeOther)
		return
	}
	fes := campaigns.FieldErrors(err)
	if len(fes) == 0 || !errors.Is(err, campaigns.ErrInvalid) {
		c.s.fail(w, r, err)
		return
	}
	tf.Errors = map[string]string{}
	for _, fe := range fes {
		in := map[string]string{"to": "to", "channel": "channel", "language": "lang"}[fe.Field]
		if in == "" {
			in = "to"
		}
		tf.Errors[in] = testReason(requestLang(r), fe)
	}
	// The page shows the preview of what was to be sent, with the form as typed.
	q := r.URL.Query()
	q.Set("channel", tf.Channel)
	q.Set("lang", tf.Lang)
	q.Del("member")
	r.URL.RawQuery = q.Encode()
	d, ok := c.previewData(w, r, id)
	if !ok {
		return
	}
	d.Test = tf
	c.renderPreview(w, r, http.StatusUnprocessableEntity, d)
}

// testReason says what is wrong with a test send's field in lang.
func testReason(lang string, fe *campaigns.FieldError) string {
	switch {
	case fe.Field == "to" && fe.Reason == "is required":
		return translate(lang, "testsend.err.torequired")
	case fe.Field == "to" && strings.Contains(fe.Reason, "cannot take an SMS"):
		return translate(lang, "testsend.err.landline")
	case fe.Field == "to":
		return translate(lang, "testsend.err.to", fe.Reason)
	case fe.Field == "channel":
		return translate(lang, "testsend.err.channel")
	case fe.Field == "language":
		return translate(lang, "testsend.err.lang")
	}
	return fe.Error()
}

func init() {
	addMessages(map[string][2]string{
		"preview.title":           {"Preview", "Esikatselu"},
		"preview.show":            {"Show", "Näytä"},
		"preview.channel":         {"Channel", "Kanava"},
		"preview.lang":            {"Language of the sample member", "Esimerkkijäsenen kieli"},
		"preview.member":          {"Member (external id)", "Jäsen (asiakasnumero)"},
		"preview.member.hint":     {"Empty: a sample member, no one's data. A member's preview is in their own language and is logged.", "Tyhjä: esimerkkijäsen, ei kenenkään tietoja. Jäsenen esikatselu on hänen omalla kielellään ja kirjataan lokiin."},
		"preview.nomember":        {"There is no member %s.", "Jäsentä %s ei ole."},
		"preview.sample":          {"Sample member, in %s", "Esimerkkijäsen, kieli %s"},
		"preview.formember":       {"Member %s, in %s", "Jäsen %s, kieli %s"},
		"preview.to":              {"To", "Vastaanottaja"},
		"preview.wouldsend":       {"This member would get it on this channel now.", "Jäsen saisi tämän viestin tällä kanavalla nyt."},
		"preview.wouldskip":       {"This member would not get it on this channel now: %s.", "Jäsen ei saisi tätä viestiä tällä kanavalla nyt: %s."},
		"preview.subject":         {"Subject", "Aihe"},
		"preview.html":            {"The email as it looks", "Sähköposti sellaisenaan"},
		"preview.text":            {"Text part", "Tekstiosa"},
		"preview.smstext":         {"Text message", "Tekstiviesti"},
		"preview.smslength":       {"%s, %d characters, %d segments", "%s, %d merkkiä, %d osaa"},
		"preview.smslength1":      {"%s, %d characters, one segment", "%s, %d merkkiä, yksi osa"},
		"preview.letter":          {"The letter as the print house gets it", "Kirje sellaisena kuin painotalo sen saa"},
		"preview.letter.hint":     {"The coupon code is a placeholder; real codes are made when the campaign runs.", "Kuponkikoodi on malli; oikeat koodit luodaan, kun kampanja lähtee."},
		"preview.download":        {"Download the letter (PDF)", "Lataa kirje (PDF)"},
		"preview.nopdf":           {"Your browser does not show PDF files here.", "Selaimesi ei näytä PDF-tiedostoja tässä."},
		"preview.failed":          {"The preview could not be made", "Esikatselua ei voitu tehdä"},
		"preview.frame":           {"Email preview", "Sähköpostin esikatselu"},
		"preview.letterframe":     {"Letter preview", "Kirjeen esikatselu"},
		"preview.open":            {"Preview", "Esikatsele"},
		"preview.previews":        {"Previews", "Esikatselut"},
		"preview.previews.hint":   {"What the campaign sends, for a sample member or a member you name.", "Mitä kampanja lähettää, esimerkkijäsenelle tai nimeämällesi jäsenelle."},
		"testsend.title":          {"Send a test", "Lähetä testiviesti"},
		"testsend.hint":           {"To yourself: the message is marked as a test, with a placeholder coupon code, and nothing is recorded for any member.", "Itsellesi: viesti merkitään testiksi, kuponkikoodi on malli, eikä mitään kirjata jäsenille."},
		"testsend.channel":        {"Send by", "Lähetä"},
		"testsend.to":             {"Email address or mobile number", "Sähköpostiosoite tai matkapuhelinnumero"},
		"testsend.lang":           {"Language", "Kieli"},
		"testsend.send":           {"Send test", "Lähetä testi"},
		"testsend.sent.email":     {"The test email was sent.", "Testisähköposti lähetettiin."},
		"testsend.sent.sms":       {"The test text message was sent.", "Testitekstiviesti lähetettiin."},
		"testsend.err.torequired": {"Give the address or number to send the test to.", "Anna osoite tai numero, johon testi lähetetään."},
		"testsend.err.landline":   {"This number cannot take an SMS (a landline or service number).", "Tähän numeroon ei voi lähettää tekstiviestiä (lanka- tai palvelunumero)."},
		"testsend.err.to":         {"Not an address or number for this channel: %s", "Ei kelpaa tämän kanavan osoitteeksi tai numeroksi: %s"},
		"testsend.err.channel":    {"Tests go by email or SMS only.", "Testin voi lähettää vain sähköpostina tai tekstiviestinä."},
		"testsend.err.lang":       {"Choose fi, sv or en.", "Valitse fi, sv tai en."},
	})
}
