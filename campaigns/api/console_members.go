package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/service"
)

// The members' rights in the console, for privacy officers (and admins): look a member up by
// external id, see everything held about them (every view is audited as members.view), correct a
// field, record a consent given or withdrawn through customer service, download the export and
// erase. Marketers and ops reach none of it: every route is behind the privacy role, and the
// service checks the role again.

// memberRoutes serves /members and a member's pages.
func (c *console) memberRoutes() {
	privacy := func(h http.HandlerFunc) http.Handler {
		return c.s.requireSession(h, campaigns.RolePrivacy)
	}
	c.s.mux.Handle("GET /members", privacy(c.memberLookup))
	c.s.mux.Handle("GET /members/{id}", privacy(c.memberPage))
	c.s.mux.Handle("POST /members/{id}/correct", privacy(c.memberCorrect))
	c.s.mux.Handle("POST /members/{id}/consent", privacy(c.memberConsent))
	c.s.mux.Handle("GET /members/{id}/export.json", privacy(c.memberExport))
	c.s.mux.Handle("GET /members/{id}/erase", privacy(c.memberErasePage))
	c.s.mux.Handle("POST /members/{id}/erase", privacy(c.memberErase))
}

// memberListCap is how many purchases, deliveries and coupons a member's page lists, newest first;
// the export holds them all.
const memberListCap = 200

// memberAuditShown is how many of the member's latest audit entries their page lists.
const memberAuditShown = 10

// memberLookupData is what the lookup page (members.html) shows.
type memberLookupData struct {
	// ID is the external id typed, kept in the field.
	ID string
	// Error says what is wrong with ID (empty, unknown), next to the field.
	Error string
	// Erased is the external id of a member just erased, for the notice.
	Erased string
}

// memberURL is the path of a member's page, or of one of its actions (suffix "/erase", ...).
func memberURL(externalID, suffix string) string {
	return "/members/" + url.PathEscape(externalID) + suffix
}

// memberLookup answers GET /members: the lookup form; with ?id=EXT it goes to the member's page
// (which says when there is no such member).
func (c *console) memberLookup(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := memberLookupData{Erased: q.Get("erased")}
	status := http.StatusOK
	v := c.s.newView(r, "member.lookup.title", nil)
	if q.Has("id") {
		d.ID = strings.TrimSpace(q.Get("id"))
		switch err := campaigns.CheckField("external_id", d.ID); {
		case d.ID == "":
			d.Error, status = v.T("member.err.noid"), http.StatusUnprocessableEntity
		case err != nil:
			d.Error, status = v.T("member.err.badid", err.Error()), http.StatusUnprocessableEntity
		default:
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, memberURL(d.ID, ""), http.StatusSeeOther)
			return
		}
	}
	if d.Erased != "" && campaigns.CheckField("external_id", d.Erased) != nil {
		d.Erased = ""
	}
	v.Data, v.Nav = d, "members"
	c.s.render(w, r, status, "members.html", v)
}

// memberNotFound answers a member's page for an unknown (or erased) external id: the lookup form
// saying so, 404.
func (c *console) memberNotFound(w http.ResponseWriter, r *http.Request, externalID string) {
	v := c.s.newView(r, "member.lookup.title", nil)
	v.Data = memberLookupData{ID: externalID, Error: v.T("member.err.notfound", externalID)}
	v.Nav = "members"
	c.s.render(w, r, http.StatusNotFound, "members.html", v)
}

// memberField is one line of a member's profile.
type memberField struct {
	Name  string // the field's name, as CorrectMember takes it
	Value string
}

// memberConsentNow is the current state of one channel's consent.
type memberConsentNow struct {
	Channel campaigns.Channel
	// State is a message key: member.state.granted, .withdrawn, .none, .objected, .noobjection.
	State string
	// Event is the latest event (nil: none recorded).
	Event *campaigns.ConsentEvent
}

// memberPurchase is a purchase with its amount written out.
type memberPurchase struct {
	campaigns.ExportPurchase
	Amount string
}

// memberDelivery is a delivery with its reason written out.
type memberDelivery struct {
	campaigns.ExportDelivery
	ReasonText string
}

// memberForm is a form of the member's pages as it was posted, with what is wrong in it by field.
type memberForm struct {
	Values map[string]string
	Errs   map[string]string
}

func newMemberForm() memberForm {
	return memberForm{Values: map[string]string{}, Errs: map[string]string{}}
}

// memberPageData is what a member's page (member.html) shows.
type memberPageData struct {
	X        *campaigns.MemberExport
	Profile  []memberField
	Timeline []campaigns.ConsentEvent // newest first
	Current  []memberConsentNow
	// Purchases, Deliveries and Coupons are the newest memberListCap, newest first; the counts are
	// of all.
	Purchases                                 []memberPurchase
	Deliveries                                []memberDelivery
	Coupons                                   []campaigns.ExportCoupon
	NPurchases, NDeliveries, NCoupons, NAudit int64
	// Audit is the member's newest memberAuditShown audit entries.
	Audit []auditRow
	// Path is the member's page's path (external id escaped), for the page's links and forms.
	Path string

	// Fields are the fields a correction may set; Channels and Statuses the consent form's choices.
	Fields   []string
	Channels []campaigns.Channel
	Statuses []campaigns.ConsentStatus
	// Correct and Consent are the two forms, as posted when one was refused.
	Correct, Consent memberForm
	// Done is the message key of what was just done (a notice), with its argument.
	Done, DoneArg string
}

// memberDone are the notices a member's page shows after an action (?done=...), by their key.
var memberDone = map[string]string{"corrected": "member.done.corrected", "consent": "member.done.consent"}

// newMemberPage arranges an export for the member's page in the language lang.
func newMemberPage(x *campaigns.MemberExport, lang string) *memberPageData {
	p := &memberPageData{X: x, Path: memberURL(x.Member.ExternalID, ""), Fields: service.CorrectableFields, Channels: campaigns.Channels,
		Statuses: []campaigns.ConsentStatus{campaigns.Withdrawn, campaigns.Granted},
		Correct:  newMemberForm(), Consent: newMemberForm()}
	m := x.Member
	yesNo := func(b bool) string {
		if b {
			return translate(lang, "member.yes")
		}
		return translate(lang, "member.no")
	}
	p.Profile = []memberField{
		{"first_name", m.FirstName}, {"last_name", m.LastName}, {"email", m.Email}, {"phone", m.Phone},
		{"street", m.Street}, {"postal_code", m.PostalCode}, {"city", m.City}, {"country", m.Country},
		{"language", translate(lang, "member.lang."+string(m.Language))},
		{"address_protected", yesNo(m.AddressProtected)}, {"deceased", yesNo(m.Deceased)},
	}

	p.Timeline = slices.Clone(x.Consents)
	sort.SliceStable(p.Timeline, func(i, j int) bool {
		a, b := p.Timeline[i], p.Timeline[j]
		if !a.RecordedAt.Equal(b.RecordedAt) {
			return a.RecordedAt.After(b.RecordedAt)
		}
		return a.ID > b.ID
	})
	cur := campaigns.CurrentConsent(x.Consents)
	for _, ch := range campaigns.Channels {
		now := memberConsentNow{Channel: ch, State: "member.state.none"}
		if ev, ok := cur[ch]; ok {
			now.Event = &ev
			now.State = "member.state." + string(ev.Status)
		}
		if ch == campaigns.Postal {
			// Post needs no consent: a withdrawal is the member's objection.
			now.State = "member.state.noobjection"
			if now.Event != nil && now.Event.Status == campaigns.Withdrawn {
				now.State = "member.state.objected"
			}
		}
		p.Current = append(p.Current, now)
	}

	p.NPurchases, p.NDeliveries, p.NCoupons, p.NAudit = int64(len(x.Purchases)), int64(len(x.Deliveries)), int64(len(x.Coupons)), int64(len(x.Audit))
	purchases := slices.Clone(x.Purchases)
	sort.SliceStable(purchases, func(i, j int) bool { return purchases[i].PurchasedAt.After(purchases[j].PurchasedAt) })
	for _, pu := range purchases[:min(len(purchases), memberListCap)] {
		p.Purchases = append(p.Purchases, memberPurchase{ExportPurchase: pu, Amount: memberMoney(lang, pu.AmountCents)})
	}
	deliveries := slices.Clone(x.Deliveries)
	sort.SliceStable(deliveries, func(i, j int) bool {
		if !deliveries[i].CreatedAt.Equal(deliveries[j].CreatedAt) {
			return deliveries[i].CreatedAt.After(deliveries[j].CreatedAt)
		}
		return deliveries[i].ID > deliveries[j].ID
	})
	for _, d := range deliveries[:min(len(deliveries), memberListCap)] {
		p.Deliveries = append(p.Deliveries, memberDelivery{ExportDelivery: d, ReasonText: memberReason(lang, d.Reason)})
	}
	p.Coupons = slices.Clone(x.Coupons)
	sort.SliceStable(p.Coupons, func(i, j int) bool { return p.Coupons[i].IssuedAt.After(p.Coupons[j].IssuedAt) })
	p.Coupons = p.Coupons[:min(len(p.Coupons), memberListCap)]
	audit := slices.Clone(x.Audit)
	sort.SliceStable(audit, func(i, j int) bool { return audit[i].ID > audit[j].ID })
	for _, e := range audit[:min(len(audit), memberAuditShown)] {
		p.Audit = append(p.Audit, newAuditRow(e, lang))
	}
	return p
}

// memberMoney writes an amount in cents as euros the language's way: "12,50 €", "€12.50".
func memberMoney(lang string, cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	if lang == langFinnish {
		return fmt.Sprintf("%s%s,%02d\u00a0€", sign, formatInt(lang, cents/100), cents%100)
	}
	return fmt.Sprintf("%s€%s.%02d", sign, formatInt(lang, cents/100), cents%100)
}

// memberReason writes a delivery's reason: a skip reason translated, any other (a failure's code)
// as it is.
func memberReason(lang, reason string) string {
	if reason == "" {
		return ""
	}
	key := "reason." + reason
	if t := translate(lang, key); t != key {
		return t
	}
	return reason
}

// showMember renders the member's page with the status, after edit has set the forms' state. It
// reads the member through the service (audited as members.view).
func (c *console) showMember(w http.ResponseWriter, r *http.Request, status int, edit func(*memberPageData)) {
	ext := r.PathValue("id")
	x, err := c.svc.Member(r.Context(), user(r), ext)
	if errors.Is(err, campaigns.ErrNotFound) {
		c.memberNotFound(w, r, ext)
		return
	}
	if err != nil {
		c.s.fail(w, r, err)
		return
	}
	v := c.s.newView(r, "member.title", nil)
	p := newMemberPage(x, v.Lang)
	if edit != nil {
		edit(p)
	}
	v.Data, v.Nav = p, "members"
	v.Title = v.T("member.title", x.Member.ExternalID)
	c.s.render(w, r, status, "member.html", v)
}

// memberPage answers GET /members/{id}: everything held about the member, and the actions.
func (c *console) memberPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c.showMember(w, r, http.StatusOK, func(p *memberPageData) {
		if key, ok := memberDone[q.Get("done")]; ok {
			p.Done = key
			if f := q.Get("field"); slices.Contains(service.CorrectableFields, f) {
				p.DoneArg = f
			}
			if ch, err := campaigns.ParseChannel(q.Get("channel")); err == nil {
				p.DoneArg = string(ch)
			}
		}
	})
}

// invalidField splits an ErrInvalid of campaigns.Invalid into the field it names and the reason;
// field is "" when the message names none of known.
func invalidField(err error, known ...string) (field, reason string) {
	msg := err.Error()
	if f, rest, ok := strings.Cut(msg, ": "); ok && slices.Contains(known, f) {
		return f, rest
	}
	return "", msg
}

// memberCorrect answers POST /members/{id}/correct (field, value): the correction, then back to the
// member's page; a value refused comes back with the reason next to the field.
func (c *console) memberCorrect(w http.ResponseWriter, r *http.Request) {
	ext := r.PathValue("id")
	field := strings.TrimSpace(r.PostFormValue("field"))
	value := r.PostFormValue("value")
	err := c.svc.CorrectMember(r.Context(), user(r), ext, field, value)
	if err == nil {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, memberURL(ext, "?done=corrected&field="+url.QueryEscape(field)), http.StatusSeeOther)
		return
	}
	if !errors.Is(err, campaigns.ErrInvalid) {
		if errors.Is(err, campaigns.ErrNotFound) {
			c.memberNotFound(w, r, ext)
			return
		}
		c.s.fail(w, r, err)
		return
	}
	lang := requestLang(r)
	f := newMemberForm()
	f.Values["field"], f.Values["value"] = field, value
	switch name, reason := invalidField(err, append([]string{"field", "external_id"}, service.CorrectableFields...)...); name {
	case "field":
		f.Errs["field"] = translate(lang, "member.err.field")
	case "external_id":
		c.s.fail(w, r, err)
		return
	default:
		f.Errs["value"] = translate(lang, "member.err.value", reason)
	}
	c.showMember(w, r, http.StatusUnprocessableEntity, func(p *memberPageData) { p.Correct = f })
}

// memberConsent answers POST /members/{id}/consent (channel, status, wording): records the consent
// event with the source customer-service, then back to the member's page.
func (c *console) memberConsent(w http.ResponseWriter, r *http.Request) {
	ext := r.PathValue("id")
	lang := requestLang(r)
	f := newMemberForm()
	for _, k := range []string{"channel", "status", "wording"} {
		f.Values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	ch, err := campaigns.ParseChannel(f.Values["channel"])
	if err != nil {
		f.Errs["channel"] = translate(lang, "member.err.channel")
	}
	st, err := campaigns.ParseConsentStatus(f.Values["status"])
	if err != nil {
		f.Errs["status"] = translate(lang, "member.err.status")
	}
	switch err := campaigns.CheckField("wording_version", f.Values["wording"]); {
	case err != nil:
		f.Errs["wording"] = translate(lang, "member.err.value", err.Error())
	case st == campaigns.Granted && f.Values["wording"] == "":
		// A consent is given to a wording: the record says which.
		f.Errs["wording"] = translate(lang, "member.err.wording")
	}
	if len(f.Errs) == 0 {
		_, err = c.svc.SetConsent(r.Context(), user(r), ext, campaigns.ConsentChange{Channel: ch, Status: st,
			Source: campaigns.SourceCustomerService, WordingVersion: f.Values["wording"]})
		switch {
		case err == nil:
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, memberURL(ext, "?done=consent&channel="+string(ch)), http.StatusSeeOther)
			return
		case errors.Is(err, campaigns.ErrNotFound):
			c.memberNotFound(w, r, ext)
			return
		case !errors.Is(err, campaigns.ErrInvalid):
			c.s.fail(w, r, err)
			return
		}
		name, reason := invalidField(err, "channel", "status", "wording_version")
		if name == "" {
			c.s.fail(w, r, err)
			return
		}
		f.Errs[strings.Replace(name, "wording_version", "wording", 1)] = translate(lang, "member.err.value", reason)
	}
	c.showMember(w, r, http.StatusUnprocessableEntity, func(p *memberPageData) { p.Consent = f })
}

// memberExport answers GET /members/{id}/export.json: everything held about the member (right of
// access) as a JSON download, audited as members.export.
func (c *console) memberExport(w http.ResponseWriter, r *http.Request) {
	ext := r.PathValue("id")
	x, err := c.svc.ExportMember(r.Context(), user(r), ext)
	if errors.Is(err, campaigns.ErrNotFound) {
		c.memberNotFound(w, r, ext)
		return
	}
	if err != nil {
		c.s.fail(w, r, err)
		return
	}
	b, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		c.s.fail(w, r, fmt.Errorf("export member %d: %w", x.Member.ID, err))
		return
	}
	securityHeaders(w, r)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+memberExportName(ext)+`"`)
	h.Set("Cache-Control", "no-store")
	w.Write(append(b, '\n'))
}

// memberExportName is the export's file name, member-EXT.json, with every character of the external
// id but letters, digits, dot, dash and underscore written as "_".
func memberExportName(externalID string) string {
	var b strings.Builder
	for _, r := range externalID {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	if name == "" {
		name = "_"
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return "member-" + name + ".json"
}

// memberEraseData is what the erasure's page (member_erase.html) shows.
type memberEraseData struct {
	X *campaigns.MemberExport
	// Typed is the external id typed into the confirmation; Error what is wrong with it.
	Typed, Error string
	// HasEmail and HasPhone: the member's email address and number stay on the suppression list,
	// as hashes.
	HasEmail, HasPhone bool
	// Path is the member's page's path.
	Path string
}

// showErase renders the erasure's page: what goes and what stays, and the confirmation.
func (c *console) showErase(w http.ResponseWriter, r *http.Request, status int, typed, problem string) {
	ext := r.PathValue("id")
	x, err := c.svc.Member(r.Context(), user(r), ext)
	if errors.Is(err, campaigns.ErrNotFound) {
		c.memberNotFound(w, r, ext)
		return
	}
	if err != nil {
		c.s.fail(w, r, err)
		return
	}
	v := c.s.newView(r, "member.erase.title", memberEraseData{X: x, Typed: typed, Error: problem,
		HasEmail: x.Member.Email != "", HasPhone: x.Member.Phone != "", Path: memberURL(x.Member.ExternalID, "")})
	v.Nav = "members"
	c.s.render(w, r, status, "member_erase.html", v)
}

// memberErasePage answers GET /members/{id}/erase: what an erasure removes and keeps, and the form
// that asks for the external id to be typed.
func (c *console) memberErasePage(w http.ResponseWriter, r *http.Request) {
	c.showErase(w, r, http.StatusOK, "", "")
}

// memberErase answers POST /members/{id}/erase (confirm: the external id typed again): erases the
// member when the typed id is exactly theirs, then goes to the lookup page, which says so.
func (c *console) memberErase(w http.ResponseWriter, r *http.Request) {
	ext := r.PathValue("id")
	typed := r.PostFormValue("confirm")
	if typed != ext {
		lang := requestLang(r)
		problem := translate(lang, "member.err.confirm")
		if strings.TrimSpace(typed) == "" {
			problem = translate(lang, "member.err.confirmempty")
		}
		c.showErase(w, r, http.StatusUnprocessableEntity, typed, problem)
		return
	}
	_, err := c.svc.EraseMember(r.Context(), user(r), ext)
	switch {
	case err == nil:
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/members?erased="+url.QueryEscape(ext), http.StatusSeeOther)
	case errors.Is(err, campaigns.ErrNotFound):
		c.memberNotFound(w, r, ext)
	case errors.Is(err, campaigns.ErrNoRegisterKey), errors.Is(err, campaigns.ErrRegisterKeyMismatch):
		c.s.log.Error("erase member", slog.String("path", redactPath(r.URL.Path)), "err", err)
		c.s.renderMessage(w, r, http.StatusServiceUnavailable, "member.erase.failed", "member.err.registerkey")
	default:
		c.s.fail(w, r, err)
	}
}

func init() {
	addMessages(map[string][2]string{
		"member.lookup.title":               {"Members", "Jäsenet"},
		"member.lookup.intro":               {"Look a member up by their membership number (external id) to answer a request: see, correct, export or erase their data. Every look is recorded in the audit log.", "Hae jäsen jäsennumerolla (ulkoinen tunnus) vastataksesi pyyntöön: tietojen katselu, korjaus, vienti tai poisto. Jokainen katselu kirjataan tapahtumalokiin."},
		"member.lookup.id":                  {"Membership number (external id)", "Jäsennumero (ulkoinen tunnus)"},
		"member.lookup.submit":              {"Look up", "Hae"},
		"member.erased":                     {"The personal data of member %s was erased. Deliveries and coupons remain as anonymous records, and the email address and phone number remain on the suppression list as hashes only.", "Jäsenen %s henkilötiedot poistettiin. Lähetykset ja kupongit jäävät nimettöminä, ja sähköpostiosoite ja puhelinnumero jäävät estolistalle vain tiivisteinä."},
		"member.title":                      {"Member %s", "Jäsen %s"},
		"member.profile":                    {"Personal data", "Henkilötiedot"},
		"member.created":                    {"In the register since %s, last changed %s.", "Rekisterissä %s alkaen, muutettu viimeksi %s."},
		"member.yes":                        {"yes", "kyllä"},
		"member.no":                         {"no", "ei"},
		"member.empty":                      {"–", "–"},
		"member.lang.fi":                    {"Finnish (fi)", "suomi (fi)"},
		"member.lang.sv":                    {"Swedish (sv)", "ruotsi (sv)"},
		"member.lang.en":                    {"English (en)", "englanti (en)"},
		"member.lang.":                      {"not given", "ei annettu"},
		"member.field.first_name":           {"First name", "Etunimi"},
		"member.field.last_name":            {"Last name", "Sukunimi"},
		"member.field.email":                {"Email", "Sähköposti"},
		"member.field.phone":                {"Phone", "Puhelin"},
		"member.field.street":               {"Street address", "Katuosoite"},
		"member.field.postal_code":          {"Postal code", "Postinumero"},
		"member.field.city":                 {"City", "Postitoimipaikka"},
		"member.field.country":              {"Country", "Maa"},
		"member.field.language":             {"Language", "Kieli"},
		"member.field.address_protected":    {"Address protection", "Turvakielto"},
		"member.field.deceased":             {"Deceased", "Kuollut"},
		"member.actions":                    {"Actions", "Toiminnot"},
		"member.export":                     {"Download everything (JSON)", "Lataa kaikki tiedot (JSON)"},
		"member.erase":                      {"Erase the member…", "Poista jäsen…"},
		"member.auditlink":                  {"The member's audit log", "Jäsenen tapahtumaloki"},
		"member.correct":                    {"Correct a field", "Korjaa tieto"},
		"member.correct.field":              {"Field", "Tieto"},
		"member.correct.value":              {"New value", "Uusi arvo"},
		"member.correct.hint":               {"Checked as the member file's import checks it: an email must be an address, a phone number is written in international form, a Finnish postal code has five digits, language is fi, sv or en, address protection and deceased take yes or no. A correction cannot empty a field.", "Tarkistetaan kuten jäsentiedoston tuonnissa: sähköpostin on oltava osoite, puhelinnumero kirjoitetaan kansainvälisessä muodossa, suomalaisessa postinumerossa on viisi numeroa, kieli on fi, sv tai en, turvakielto ja kuollut ovat yes tai no. Korjaus ei voi tyhjentää tietoa."},
		"member.correct.submit":             {"Save the correction", "Tallenna korjaus"},
		"member.consent":                    {"Consents", "Suostumukset"},
		"member.consent.now":                {"Now", "Nyt"},
		"member.consent.since":              {"since %s, %s", "%s alkaen, %s"},
		"member.consent.history":            {"History, newest first", "Historia, uusin ensin"},
		"member.consent.none":               {"No consent events recorded.", "Suostumustapahtumia ei ole kirjattu."},
		"member.consent.event":              {"%s: %s", "%s: %s"},
		"member.consent.source":             {"Source", "Lähde"},
		"member.consent.wording":            {"Wording version", "Suostumustekstin versio"},
		"member.consent.actor":              {"Recorded by", "Kirjaaja"},
		"member.consent.change":             {"Record a consent change", "Kirjaa suostumuksen muutos"},
		"member.consent.hint":               {"Recorded with the source customer service. For post, withdrawn records the member's objection to postal marketing, granted lifts it.", "Kirjataan lähteellä asiakaspalvelu. Kirjeissä peruttu kirjaa jäsenen kiellon postimarkkinoinnille, annettu poistaa kiellon."},
		"member.consent.channel":            {"Channel", "Kanava"},
		"member.consent.status":             {"Change", "Muutos"},
		"member.consent.wordinghint":        {"The version of the consent text the member agreed to (required when granting).", "Sen suostumustekstin versio, johon jäsen suostui (pakollinen, kun suostumus annetaan)."},
		"member.consent.submit":             {"Record", "Kirjaa"},
		"member.status.granted":             {"granted", "annettu"},
		"member.status.withdrawn":           {"withdrawn", "peruttu"},
		"member.state.granted":              {"consent given", "suostumus annettu"},
		"member.state.withdrawn":            {"consent withdrawn", "suostumus peruttu"},
		"member.state.none":                 {"no consent", "ei suostumusta"},
		"member.state.objected":             {"objected to postal marketing", "kieltänyt postimarkkinoinnin"},
		"member.state.noobjection":          {"no objection", "ei kieltoa"},
		"member.source.signup-form":         {"signup form", "liittymislomake"},
		"member.source.customer-service":    {"customer service", "asiakaspalvelu"},
		"member.source.unsubscribe-link":    {"unsubscribe link", "peruutuslinkki"},
		"member.source.sms-stop":            {"SMS STOP", "tekstiviesti STOP"},
		"member.source.import":              {"import", "tuonti"},
		"member.source.population-register": {"population register", "väestötietojärjestelmä"},
		"member.suppressions":               {"Suppression list", "Estolista"},
		"member.suppressions.none":          {"None of the member's addresses is on the suppression list.", "Mikään jäsenen osoitteista ei ole estolistalla."},
		"member.supp.robinson":              {"direct-marketing ban list", "suoramarkkinoinnin kieltorekisteri"},
		"member.supp.bounce":                {"hard bounce", "pysyvä palautus"},
		"member.supp.complaint":             {"complaint", "valitus"},
		"member.supp.manual":                {"added by hand", "lisätty käsin"},
		"member.supp.erasure":               {"erased member", "poistettu jäsen"},
		"member.reason":                     {"Reason", "Syy"},
		"member.since":                      {"Since", "Alkaen"},
		"member.time":                       {"Time", "Aika"},
		"member.purchases":                  {"Purchases", "Ostot"},
		"member.purchases.none":             {"No purchases registered.", "Ei rekisteröityjä ostoja."},
		"member.amount":                     {"Amount", "Summa"},
		"member.store":                      {"Store", "Myymälä"},
		"member.orderref":                   {"Order", "Tilaus"},
		"member.deliveries":                 {"Messages", "Viestit"},
		"member.deliveries.none":            {"Nothing sent to the member yet.", "Jäsenelle ei ole lähetetty mitään."},
		"member.campaign":                   {"Campaign", "Kampanja"},
		"member.coupons":                    {"Coupons", "Kupongit"},
		"member.coupons.none":               {"No coupons issued.", "Kuponkeja ei ole annettu."},
		"member.code":                       {"Code", "Koodi"},
		"member.discount":                   {"Discount", "Etu"},
		"member.issued":                     {"Issued", "Annettu"},
		"member.validuntil":                 {"Valid until", "Voimassa"},
		"member.redeemed":                   {"Redeemed", "Käytetty"},
		"member.notredeemed":                {"not redeemed", "ei käytetty"},
		"member.redeemedat":                 {"%s, %s", "%s, %s"},
		"member.capped":                     {"The newest %d of %d are shown; the download holds them all.", "Näytetään uusimmat %d / %d; ladattava tiedosto sisältää kaikki."},
		"member.audit":                      {"Latest entries of the audit log", "Tapahtumalokin viimeisimmät merkinnät"},
		"member.audit.all":                  {"All %d entries", "Kaikki %d merkintää"},
		"member.done.corrected":             {"The correction was saved (%s).", "Korjaus tallennettiin (%s)."},
		"member.done.consent":               {"The consent change was recorded (%s).", "Suostumuksen muutos kirjattiin (%s)."},
		"member.erase.title":                {"Erase a member", "Poista jäsen"},
		"member.erase.heading":              {"Erase member %s (%s)", "Poista jäsen %s (%s)"},
		"member.erase.intro":                {"Erasure carries out the member's right to be forgotten. It cannot be undone.", "Poisto toteuttaa jäsenen oikeuden tulla unohdetuksi. Sitä ei voi perua."},
		"member.erase.removed":              {"Removed", "Poistetaan"},
		"member.erase.r.profile":            {"name, email address, phone number, postal address, language and the other personal data", "nimi, sähköpostiosoite, puhelinnumero, postiosoite, kieli ja muut henkilötiedot"},
		"member.erase.r.consents":           {"the consent history (%d events)", "suostumushistoria (%d tapahtumaa)"},
		"member.erase.r.purchases":          {"the purchases (%d)", "ostot (%d)"},
		"member.erase.r.audit":              {"the old and new values in the audit log's corrections (which fields changed stays)", "tapahtumalokin muutosten vanhat ja uudet arvot (tieto siitä, mitkä kentät muuttuivat, jää)"},
		"member.erase.kept":                 {"Kept, without the person", "Säilyy ilman henkilöä"},
		"member.erase.k.deliveries":         {"the record of messages (%d), as anonymous counts for the campaigns' results", "viestien lähetystiedot (%d) nimettöminä lukuina kampanjoiden tuloksia varten"},
		"member.erase.k.coupons":            {"the coupons issued (%d), in the coupon ledger without the member", "annetut kupongit (%d) kuponkikirjanpidossa ilman jäsentä"},
		"member.erase.k.email":              {"the email address on the suppression list, as a hash only: it is not marketed to again", "sähköpostiosoite estolistalla vain tiivisteenä: sinne ei enää markkinoida"},
		"member.erase.k.phone":              {"the phone number on the suppression list, as a hash only", "puhelinnumero estolistalla vain tiivisteenä"},
		"member.erase.k.id":                 {"the membership number as a hash, so that a later import does not bring the member back", "jäsennumero tiivisteenä, jotta myöhempi tuonti ei palauta jäsentä"},
		"member.erase.k.audit":              {"the audit log: who did what, and when (%d entries)", "tapahtumaloki: kuka teki mitä ja milloin (%d merkintää)"},
		"member.erase.k.supp":               {"the suppression list's earlier entries of the member's addresses (%d)", "estolistan aiemmat merkinnät jäsenen osoitteista (%d)"},
		"member.erase.confirm":              {"To confirm, type the membership number %s", "Vahvista kirjoittamalla jäsennumero %s"},
		"member.erase.submit":               {"Erase for good", "Poista pysyvästi"},
		"member.erase.failed":               {"The member could not be erased", "Jäsentä ei voitu poistaa"},
		"member.err.noid":                   {"Type a membership number.", "Kirjoita jäsennumero."},
		"member.err.badid":                  {"This is not a membership number: it %s.", "Tämä ei ole jäsennumero: %s."},
		"member.err.notfound":               {"There is no member with the membership number %s (or the member was erased).", "Jäsennumerolla %s ei ole jäsentä (tai jäsen on poistettu)."},
		"member.err.field":                  {"Choose a field that can be corrected.", "Valitse korjattava tieto."},
		"member.err.value":                  {"The value was not accepted: %s.", "Arvoa ei hyväksytty: %s."},
		"member.err.channel":                {"Choose a channel.", "Valitse kanava."},
		"member.err.status":                 {"Choose granted or withdrawn.", "Valitse annettu tai peruttu."},
		"member.err.wording":                {"Give the version of the consent text the member agreed to.", "Anna sen suostumustekstin versio, johon jäsen suostui."},
		"member.err.confirm":                {"This is not the member's membership number: nothing was erased.", "Tämä ei ole jäsenen jäsennumero: mitään ei poistettu."},
		"member.err.confirmempty":           {"Type the membership number to confirm: nothing was erased.", "Vahvista kirjoittamalla jäsennumero: mitään ei poistettu."},
		"member.err.registerkey":            {"Erasure needs the register's key (DISPATCH_SUPPRESSION_KEY), which this server is missing or has wrong. Ask the operator; nothing was erased.", "Poisto tarvitsee rekisterin avaimen (DISPATCH_SUPPRESSION_KEY), joka palvelimelta puuttuu tai on väärä. Ota yhteys ylläpitoon; mitään ei poistettu."},
	})
}
