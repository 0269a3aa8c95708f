package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/campaignfile"
)

// The campaign form: a marketer defines a campaign (GET /campaigns/new, POST /campaigns) and edits
// a draft (GET and POST /campaigns/{id}/edit). The form is checked as the command line checks a
// campaign file (campaigns.Spec.Validate, the cron rules of campaignfile, the templates rendered by
// the service); every problem is shown at once, next to its field, and the values typed are kept.

// campaignEditRoutes serves the campaign form and its segment-size fragment.
func (c *console) campaignEditRoutes() {
	edit := func(h http.HandlerFunc) http.Handler { return c.s.requireSession(h, campaigns.RoleMarketer) }
	c.s.mux.Handle("GET /campaigns/new", edit(c.newCampaign))
	c.s.mux.Handle("POST /campaigns", edit(c.createCampaign))
	c.s.mux.Handle("GET /campaigns/{id}/edit", edit(c.editCampaign))
	c.s.mux.Handle("POST /campaigns/{id}/edit", edit(c.updateCampaign))
	// The rest of a campaign's pages register here too: consoleRoutes names this function only.
	c.previewRoutes()
	c.actionRoutes()
}

// option is a choice of the form: a value, its label's message key, and whether it is chosen.
type option struct {
	Value, Label string
	Checked      bool
}

// campaignForm is the campaign form as typed: strings, so that a wrong value is shown as it was
// typed, beside what is wrong with it.
type campaignForm struct {
	// ID is the campaign edited; 0 for a new one.
	ID   int64
	Name string
	Kind string
	// Channels are the channels chosen, in the campaign's order.
	Channels        []string
	Strategy        string
	Template        string
	Languages       []string
	PostalCodes     string
	PurchasedWithin string
	MinTotalSpend   string
	Discount        string
	ValidDays       string
	// ScheduleMode is "" (scheduled by hand), "at" (once) or "cron" (recurring).
	ScheduleMode string
	At           string
	Cron         string
	CapMax       string
	CapPer       string

	// Errors are the problems by input name (see fieldInputs), translated.
	Errors map[string][]string
	// Other are problems that belong to no input.
	Other []string
}

// Action is where the form posts.
func (f campaignForm) Action() string {
	if f.ID == 0 {
		return "/campaigns"
	}
	return fmt.Sprintf("/campaigns/%d/edit", f.ID)
}

// Describe returns the attributes that tie an input to the texts about it: aria-describedby with
// the ids of its hints, and when its value is wrong aria-invalid and the id of the message that says
// why (input-error), first.
func (f campaignForm) Describe(input string, hints ...string) template.HTMLAttr {
	ids := hints
	invalid := ""
	if len(f.Errors[input]) > 0 {
		ids = append([]string{input + "-error"}, hints...)
		invalid = ` aria-invalid="true"`
	}
	if len(ids) == 0 {
		return ""
	}
	return template.HTMLAttr(`aria-describedby="` + template.HTMLEscapeString(strings.Join(ids, " ")) + `"` + invalid)
}

// HasError reports whether the input's value is wrong.
func (f campaignForm) HasError(input string) bool { return len(f.Errors[input]) > 0 }

// Label is the message key of an input's label, for the summary of problems.
func (f campaignForm) Label(input string) string { return inputLabels[input] }

// ErrorCount is the number of problems the form shows.
func (f campaignForm) ErrorCount() int {
	n := len(f.Other)
	for _, e := range f.Errors {
		n += len(e)
	}
	return n
}

// ErrorInputs are the inputs that have a problem, in the form's order, for the summary's links.
func (f campaignForm) ErrorInputs() []string {
	var out []string
	for _, in := range formOrder {
		if len(f.Errors[in]) > 0 {
			out = append(out, in)
		}
	}
	return out
}

// KindOptions, ChannelOptions, LanguageOptions, StrategyOptions and ScheduleOptions are the
// form's choices with the chosen ones marked. Channels come in the campaign's order first, so that
// posting the form keeps it (a browser sends checked boxes in the page's order).
func (f campaignForm) KindOptions() []option {
	return choices([]string{"coupon", "newsletter"}, "kind.", []string{f.Kind})
}

func (f campaignForm) ChannelOptions() []option {
	order := append([]string{}, f.Channels...)
	for _, ch := range []string{"email", "sms", "postal"} {
		if !contains(order, ch) {
			order = append(order, ch)
		}
	}
	var out []option
	for _, ch := range order {
		if contains([]string{"email", "sms", "postal"}, ch) {
			out = append(out, option{Value: ch, Label: "channel." + ch, Checked: contains(f.Channels, ch)})
		}
	}
	return out
}

func (f campaignForm) LanguageOptions() []option {
	return choices([]string{"fi", "sv", "en"}, "edit.lang.", f.Languages)
}

func (f campaignForm) StrategyOptions() []option {
	s := f.Strategy
	if s == "" {
		s = string(campaigns.StrategyAll)
	}
	return choices([]string{"all", "first"}, "strategy.", []string{s})
}

func (f campaignForm) ScheduleOptions() []option {
	return []option{
		{Value: "", Label: "edit.schedule.byhand", Checked: f.ScheduleMode == ""},
		{Value: "at", Label: "edit.schedule.at", Checked: f.ScheduleMode == "at"},
		{Value: "cron", Label: "edit.schedule.cron", Checked: f.ScheduleMode == "cron"},
	}
}

// BuiltinTemplates are the templates every dispatch has (templates/builtin), offered as a list.
func (f campaignForm) BuiltinTemplates() []string { return []string{"coupon", "newsletter"} }

func choices(values []string, labelPrefix string, chosen []string) []option {
	out := make([]option, len(values))
	for i, v := range values {
		out[i] = option{Value: v, Label: labelPrefix + v, Checked: contains(chosen, v)}
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// formOrder is the form's inputs in the page's order; fieldInputs maps a campaign's field (as
// campaigns.FieldError names it, without an index) to the input that holds it.
var (
	formOrder   = []string{"name", "kind", "channels", "strategy", "template", "languages", "postal_codes", "purchased_within", "min_total_spend", "discount", "valid_days", "schedule", "at", "cron", "cap_max", "cap_per"}
	fieldInputs = map[string]string{
		"name": "name", "kind": "kind", "channels": "channels", "strategy": "strategy", "template": "template",
		"segment.languages": "languages", "segment.postal_codes": "postal_codes",
		"segment.purchased_within": "purchased_within", "segment.min_total_spend": "min_total_spend",
		"coupon": "discount", "coupon.discount": "discount", "coupon.valid_days": "valid_days",
		"schedule": "schedule", "schedule.at": "at", "schedule.cron": "cron",
		"frequency_cap": "cap_max", "frequency_cap.max": "cap_max", "frequency_cap.per": "cap_per",
	}
	inputLabels = map[string]string{
		"name": "edit.name", "kind": "edit.kind", "channels": "edit.channels", "strategy": "edit.strategy",
		"template": "edit.template", "languages": "edit.languages", "postal_codes": "edit.postalcodes",
		"purchased_within": "edit.purchased", "min_total_spend": "edit.minspend", "discount": "edit.discount",
		"valid_days": "edit.validdays", "schedule": "edit.schedule", "at": "edit.at", "cron": "edit.cron",
		"cap_max": "edit.capmax", "cap_per": "edit.capper",
	}
	fieldIndex = regexp.MustCompile(`\[[0-9]+\]$`)
)

// formFromSpec fills the form with a stored campaign's definition.
func formFromSpec(id int64, s campaigns.Spec, loc *time.Location) campaignForm {
	f := campaignForm{ID: id, Name: s.Name, Kind: string(s.Kind), Strategy: string(s.Strategy), Template: s.Template,
		PostalCodes: strings.Join(s.Segment.PostalCodes, ", ")}
	for _, ch := range s.Channels {
		f.Channels = append(f.Channels, string(ch))
	}
	for _, l := range s.Segment.Languages {
		f.Languages = append(f.Languages, string(l))
	}
	if s.Segment.PurchasedWithin > 0 {
		b, _ := s.Segment.PurchasedWithin.MarshalText()
		f.PurchasedWithin = string(b)
	}
	if m := s.Segment.MinTotalSpend; m != nil {
		b, _ := m.MarshalJSON()
		f.MinTotalSpend = string(b)
	}
	if s.Coupon != nil {
		f.Discount, f.ValidDays = s.Coupon.Discount, strconv.Itoa(s.Coupon.ValidDays)
	}
	switch {
	case s.Schedule.At != "":
		f.ScheduleMode, f.At = "at", s.Schedule.At
		if t, err := campaigns.ParseAt(s.Schedule.At, loc); err == nil {
			f.At = t.In(loc).Format(datetimeLocal) // what <input type="datetime-local"> shows
		}
	case s.Schedule.Cron != "":
		f.ScheduleMode, f.Cron = "cron", s.Schedule.Cron
	}
	if fc := s.FrequencyCap; fc != nil {
		f.CapMax = strconv.Itoa(fc.Max)
		b, _ := fc.Per.MarshalText()
		f.CapPer = string(b)
	}
	return f
}

// datetimeLocal is the value format of <input type="datetime-local">, read by campaigns.ParseAt.
const datetimeLocal = "2006-01-02T15:04"

// formFromRequest reads the posted form.
func formFromRequest(r *http.Request) campaignForm {
	v := r.PostForm
	get := func(name string) string { return strings.TrimSpace(v.Get(name)) }
	f := campaignForm{Name: get("name"), Kind: get("kind"), Strategy: get("strategy"), Template: get("template"),
		PostalCodes: get("postal_codes"), PurchasedWithin: get("purchased_within"), MinTotalSpend: get("min_total_spend"),
		Discount: get("discount"), ValidDays: get("valid_days"), ScheduleMode: get("schedule"), At: get("at"),
		Cron: get("cron"), CapMax: get("cap_max"), CapPer: get("cap_per")}
	for _, ch := range v["channels"] {
		if !contains(f.Channels, ch) {
			f.Channels = append(f.Channels, ch)
		}
	}
	for _, l := range v["languages"] {
		if !contains(f.Languages, l) {
			f.Languages = append(f.Languages, l)
		}
	}
	return f
}

// spec turns the form into a campaign definition. Values that do not even parse (a duration, an
// amount, a number, a time, a cron expression) are returned as problems naming their field, as
// campaigns.Spec.Validate names its own.
func (f campaignForm) spec(loc *time.Location) (*campaigns.Spec, []*campaigns.FieldError) {
	var problems []*campaigns.FieldError
	bad := func(field, reason string) {
		problems = append(problems, &campaigns.FieldError{Field: field, Reason: reason})
	}
	s := &campaigns.Spec{Name: f.Name, Kind: campaigns.Kind(f.Kind), Strategy: campaigns.Strategy(f.Strategy), Template: f.Template}
	for _, ch := range f.Channels {
		s.Channels = append(s.Channels, campaigns.Channel(ch))
	}
	for _, l := range f.Languages {
		s.Segment.Languages = append(s.Segment.Languages, campaigns.Language(l))
	}
	for _, p := range strings.FieldsFunc(f.PostalCodes, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		// "00%" is how SQL writes a prefix: taken as the campaign file's "00*".
		if strings.HasSuffix(p, "%") {
			p = strings.TrimSuffix(p, "%") + "*"
		}
		s.Segment.PostalCodes = append(s.Segment.PostalCodes, p)
	}
	if f.PurchasedWithin != "" {
		d, err := campaigns.ParseDuration(f.PurchasedWithin)
		if err != nil {
			bad("segment.purchased_within", err.Error())
		}
		s.Segment.PurchasedWithin = d
	}
	if f.MinTotalSpend != "" {
		var m campaigns.Money
		amount := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f.MinTotalSpend), "€"))
		if err := m.UnmarshalText([]byte(strings.Replace(amount, ",", ".", 1))); err != nil {
			bad("segment.min_total_spend", err.Error())
		} else {
			s.Segment.MinTotalSpend = &m
		}
	}
	// A coupon offer has a coupon section even when its fields are empty, so that Validate names
	// them; a newsletter has none, whatever the hidden fields hold.
	if s.Kind == campaigns.KindCoupon || (s.Kind != campaigns.KindNewsletter && (f.Discount != "" || f.ValidDays != "")) {
		s.Coupon = &campaigns.CouponSpec{Discount: f.Discount}
		if f.ValidDays != "" {
			n, err := strconv.Atoi(f.ValidDays)
			if err != nil {
				bad("coupon.valid_days", fmt.Sprintf("%q is not a number of days", f.ValidDays))
				n = 1 // the problem is named; Validate need not name it again
			}
			s.Coupon.ValidDays = n
		}
	}
	switch f.ScheduleMode {
	case "":
	case "at":
		if f.At == "" {
			bad("schedule.at", "is required for a campaign sent once")
			break
		}
		if _, err := campaigns.ParseAt(f.At, loc); err != nil {
			bad("schedule.at", err.Error())
		}
		s.Schedule.At = f.At
	case "cron":
		if f.Cron == "" {
			bad("schedule.cron", "is required for a recurring campaign")
			break
		}
		s.Schedule.Cron = f.Cron
		if fe := checkCron(f.Cron); fe != nil {
			bad(fe.Field, fe.Reason)
		}
	default:
		bad("schedule", fmt.Sprintf("%q is not a schedule", f.ScheduleMode))
	}
	if f.CapMax != "" || f.CapPer != "" {
		fc := &campaigns.FrequencyCap{}
		if f.CapMax != "" {
			n, err := strconv.Atoi(f.CapMax)
			if err != nil {
				bad("frequency_cap.max", fmt.Sprintf("%q is not a number", f.CapMax))
				n = 1
			}
			fc.Max = n
		}
		if f.CapPer != "" {
			d, err := campaigns.ParseDuration(f.CapPer)
			if err != nil {
				bad("frequency_cap.per", err.Error())
				d = campaigns.Duration(time.Hour)
			}
			fc.Per = d
		}
		s.FrequencyCap = fc
	}
	return s, problems
}

// checkCron checks a cron expression by the campaign file's rules (it parses, and runs at most
// hourly), through campaignfile itself so that the console and the command line cannot differ.
func checkCron(expr string) *campaigns.FieldError {
	probe := campaigns.Spec{Name: "cron", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.Email},
		Schedule: campaigns.Schedule{Cron: expr}}
	b, err := json.Marshal(probe)
	if err != nil {
		return &campaigns.FieldError{Field: "schedule.cron", Reason: err.Error()}
	}
	_, err = campaignfile.DecodeJSON(bytes.NewReader(b))
	if err == nil {
		return nil
	}
	if fes := campaigns.FieldErrors(err); len(fes) > 0 {
		return fes[0]
	}
	return &campaigns.FieldError{Field: "schedule.cron", Reason: err.Error()}
}

// check returns every problem of the form: the values that do not parse, and what
// campaigns.Spec.Validate finds in the rest.
func (f campaignForm) check(loc *time.Location) (*campaigns.Spec, []*campaigns.FieldError) {
	spec, problems := f.spec(loc)
	probe := *spec
	return spec, append(problems, campaigns.FieldErrors(probe.Validate())...)
}

// withErrors puts the problems next to their inputs, translated into lang.
func (f campaignForm) withErrors(lang string, problems []*campaigns.FieldError) campaignForm {
	f.Errors = map[string][]string{}
	for _, fe := range problems {
		field := fieldIndex.ReplaceAllString(fe.Field, "")
		text := fieldReason(lang, field, fe.Reason)
		input, ok := fieldInputs[field]
		if !ok {
			f.Other = append(f.Other, fe.Error())
			continue
		}
		if !contains(f.Errors[input], text) {
			f.Errors[input] = append(f.Errors[input], text)
		}
	}
	return f
}

// fieldReason says what is wrong with a field in lang: the domain's reasons are English sentences
// for the command line, so the console has its own words for those it knows, and shows any other
// as it is.
func fieldReason(lang, field, reason string) string {
	quoted, _ := strconv.QuotedPrefix(reason)
	key := ""
	switch {
	case field == "name":
		key = "edit.err.name"
	case field == "kind":
		key = "edit.err.kind"
	case field == "channels" && strings.HasPrefix(reason, "is empty"):
		key = "edit.err.channels"
	case field == "channels" && strings.HasSuffix(reason, "listed twice"):
		key = "edit.err.channeltwice"
	case field == "channels":
		key = "edit.err.channel"
	case field == "strategy":
		key = "edit.err.strategy"
	case field == "template" && strings.Contains(reason, "is not a template name"):
		key = "edit.err.templatename"
	case field == "template":
		return translate(lang, "edit.err.template", reason)
	case field == "segment.languages":
		key = "edit.err.language"
	case field == "segment.postal_codes":
		key = "edit.err.postalcode"
	case field == "segment.purchased_within":
		key = "edit.err.duration"
	case field == "segment.min_total_spend" && strings.HasPrefix(reason, "must not"):
		key = "edit.err.negative"
	case field == "segment.min_total_spend":
		key = "edit.err.money"
	case field == "coupon" && strings.HasPrefix(reason, "a newsletter"):
		key = "edit.err.nocoupon"
	case field == "coupon":
		key = "edit.err.coupon"
	case field == "coupon.discount":
		key = "edit.err.discount"
	case field == "coupon.valid_days":
		key = "edit.err.validdays"
	case field == "schedule" && strings.HasPrefix(reason, "give at"):
		key = "edit.err.atandcron"
	case field == "schedule.at" && strings.HasPrefix(reason, "is required"):
		key = "edit.err.atrequired"
	case field == "schedule.at":
		key = "edit.err.at"
	case field == "schedule.cron" && strings.HasPrefix(reason, "is required"):
		key = "edit.err.cronrequired"
	case field == "schedule.cron" && strings.Contains(reason, "at most once an hour"):
		key = "edit.err.cronoften"
	case field == "schedule.cron":
		key = "edit.err.cron"
	case field == "frequency_cap.max":
		key = "edit.err.capmax"
	case field == "frequency_cap.per":
		key = "edit.err.duration"
	default:
		return reason
	}
	if !strings.Contains(translate(lang, key), "%s") {
		return translate(lang, key)
	}
	if quoted == "" {
		// An unquoted value leads the reason ("0 is not between 1 and 366").
		quoted, _, _ = strings.Cut(reason, " ")
	}
	return translate(lang, key, quoted)
}

// formData is what campaign_form.html gets.
type formData struct {
	Form campaignForm
	// Heading is the page's heading, already translated.
	Heading string
	// Zone is DISPATCH_TIMEZONE's name, where a time without a zone is read.
	Zone string
}

func (c *console) renderForm(w http.ResponseWriter, r *http.Request, status int, f campaignForm) {
	titleKey := "edit.newtitle"
	if f.ID != 0 {
		titleKey = "edit.edittitle"
	}
	v := c.s.newView(r, titleKey, nil)
	v.Data = formData{Form: f, Heading: v.Title, Zone: c.s.timezone().String()}
	if f.ID != 0 {
		v.Title = translate(v.Lang, "edit.edittitle") + ": " + f.Name
	}
	v.Nav = "campaigns"
	c.s.render(w, r, status, "campaign_form.html", v)
}

// newCampaign answers GET /campaigns/new: an empty form (a coupon offer by email).
func (c *console) newCampaign(w http.ResponseWriter, r *http.Request) {
	c.renderForm(w, r, http.StatusOK, campaignForm{Kind: string(campaigns.KindCoupon), Channels: []string{"email"},
		Strategy: string(campaigns.StrategyAll), ValidDays: "30"})
}

// createCampaign answers POST /campaigns: the campaign is stored as a draft and its page shown, or
// the form comes back (422) with every problem next to its field.
func (c *console) createCampaign(w http.ResponseWriter, r *http.Request) {
	c.saveCampaign(w, r, 0)
}

// editCampaign answers GET /campaigns/{id}/edit: the form filled with a draft's definition. A
// campaign that is no longer a draft cannot be edited (409).
func (c *console) editCampaign(w http.ResponseWriter, r *http.Request) {
	id, ok := c.pathID(w, r, "id")
	if !ok {
		return
	}
	cp, err := c.svc.Campaign(r.Context(), user(r), id)
	if err != nil {
		c.s.fail(w, r, err)
		return
	}
	if cp.Status != campaigns.StatusDraft {
		c.s.fail(w, r, campaigns.Errorf(campaigns.ErrConflict, "%s", translate(requestLang(r), "edit.notdraft",
			translate(requestLang(r), "status."+string(cp.Status)))))
		return
	}
	c.renderForm(w, r, http.StatusOK, formFromSpec(id, cp.Spec, c.s.timezone()))
}

// updateCampaign answers POST /campaigns/{id}/edit, as createCampaign does for a draft.
func (c *console) updateCampaign(w http.ResponseWriter, r *http.Request) {
	id, ok := c.pathID(w, r, "id")
	if !ok {
		return
	}
	c.saveCampaign(w, r, id)
}

func (c *console) saveCampaign(w http.ResponseWriter, r *http.Request, id int64) {
	if err := r.ParseForm(); err != nil {
		c.s.fail(w, r, campaigns.Errorf(campaigns.ErrInvalid, "the form could not be read"))
		return
	}
	lang := requestLang(r)
	f := formFromRequest(r)
	f.ID = id
	spec, problems := f.check(c.s.timezone())
	if len(problems) > 0 {
		c.renderForm(w, r, http.StatusUnprocessableEntity, f.withErrors(lang, problems))
		return
	}
	var (
		cp  campaigns.Campaign
		err error
	)
	if id == 0 {
		cp, err = c.svc.CreateCampaign(r.Context(), user(r), spec)
	} else {
		cp, err = c.svc.UpdateCampaign(r.Context(), user(r), id, spec)
	}
	if fes := campaigns.FieldErrors(err); len(fes) > 0 && errors.Is(err, campaigns.ErrInvalid) {
		c.renderForm(w, r, http.StatusUnprocessableEntity, f.withErrors(lang, fes))
		return
	}
	if err != nil {
		c.s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/campaigns/%d?done=saved", cp.ID), http.StatusSeeOther)
}

func init() {
	addMessages(map[string][2]string{
		"edit.newtitle":         {"New campaign", "Uusi kampanja"},
		"edit.edittitle":        {"Edit campaign", "Muokkaa kampanjaa"},
		"edit.edit":             {"Edit", "Muokkaa"},
		"edit.create":           {"Create draft", "Luo luonnos"},
		"edit.save":             {"Save changes", "Tallenna muutokset"},
		"edit.notdraft":         {"Only a draft can be edited; this campaign is %s.", "Vain luonnosta voi muokata; tämä kampanja on tilassa %s."},
		"edit.problems":         {"Please check %d things:", "Tarkista %d kohtaa:"},
		"edit.problem":          {"Please check this:", "Tarkista tämä:"},
		"edit.basics":           {"Campaign", "Kampanja"},
		"edit.name":             {"Name", "Nimi"},
		"edit.name.hint":        {"Shown to staff only, e.g. Autumn coupon 2026.", "Näkyy vain henkilöstölle, esim. Syyskuponki 2026."},
		"edit.kind":             {"Kind", "Laji"},
		"edit.channels":         {"Channels", "Kanavat"},
		"edit.channels.hint":    {"In this order; with “only the first channel”, the first one that reaches the member is used.", "Tässä järjestyksessä; kun valittuna on ”vain ensimmäinen kanava”, käytetään ensimmäistä, jolla jäsenen tavoittaa."},
		"edit.strategy":         {"Several channels", "Useampi kanava"},
		"edit.template":         {"Template", "Viestipohja"},
		"edit.template.hint":    {"Empty: the template of the kind (coupon or newsletter).", "Tyhjä: lajin oma pohja (coupon tai newsletter)."},
		"edit.segment":          {"Who gets it", "Kenelle"},
		"edit.segment.hint":     {"Every condition given must hold; leave all empty for every member.", "Kaikkien annettujen ehtojen on täytyttävä; tyhjät ehdot: kaikki jäsenet."},
		"edit.languages":        {"Languages", "Kielet"},
		"edit.languages.hint":   {"None chosen: every language.", "Ei valintaa: kaikki kielet."},
		"edit.lang.fi":          {"Finnish", "suomi"},
		"edit.lang.sv":          {"Swedish", "ruotsi"},
		"edit.lang.en":          {"English", "englanti"},
		"edit.postalcodes":      {"Postal codes", "Postinumerot"},
		"edit.postalcodes.hint": {"Separated by commas; a prefix ends in *, e.g. 00100, 02*.", "Pilkuin eroteltuina; alkuosan perään *, esim. 00100, 02*."},
		"edit.purchased":        {"Purchased within", "Edellisestä ostoksesta enintään"},
		"edit.purchased.hint":   {"A number and a unit d, w or h, e.g. 365d.", "Luku ja yksikkö d (päivää), w (viikkoa) tai h (tuntia), esim. 365d."},
		"edit.minspend":         {"Spent at least (euros)", "Ostanut vähintään (euroa)"},
		"edit.minspend.hint":    {"In total, e.g. 50.00.", "Yhteensä, esim. 50,00."},
		"edit.coupon":           {"Coupon", "Kuponki"},
		"edit.coupon.hint":      {"Only for a coupon offer.", "Vain kuponkitarjouksessa."},
		"edit.discount":         {"Offer", "Etu"},
		"edit.discount.hint":    {"As the message shows it, at most 40 characters, e.g. -20 %.", "Niin kuin viesti sen näyttää, enintään 40 merkkiä, esim. -20 %."},
		"edit.validdays":        {"Valid for (days)", "Voimassa (päivää)"},
		"edit.schedule":         {"When", "Milloin"},
		"edit.schedule.byhand":  {"When I schedule it", "Kun ajastan sen"},
		"edit.schedule.at":      {"Once, at", "Kerran, ajankohtana"},
		"edit.schedule.cron":    {"Recurring (cron)", "Toistuvasti (cron)"},
		"edit.at":               {"Date and time", "Päivä ja kellonaika"},
		"edit.at.hint":          {"In the time zone of dispatch (%s).", "Dispatchin aikavyöhykkeellä (%s)."},
		"edit.cron":             {"Cron expression", "Cron-lauseke"},
		"edit.cron.hint":        {"Minute hour day month weekday, e.g. 0 9 * * MON; at most once an hour.", "Minuutti tunti päivä kuukausi viikonpäivä, esim. 0 9 * * MON; enintään kerran tunnissa."},
		"edit.cap":              {"Frequency cap", "Lähetysraja"},
		"edit.cap.hint":         {"At most this many marketing messages per member and channel in the period; empty: no cap.", "Enintään näin monta markkinointiviestiä jäsenelle kanavaa kohden jakson aikana; tyhjä: ei rajaa."},
		"edit.capmax":           {"Messages at most", "Viestejä enintään"},
		"edit.capper":           {"In a period of", "Jakson pituus"},
		"edit.err.name":         {"Give the campaign a name.", "Anna kampanjalle nimi."},
		"edit.err.kind":         {"Choose coupon offer or newsletter.", "Valitse kuponkitarjous tai uutiskirje."},
		"edit.err.channels":     {"Choose at least one channel.", "Valitse vähintään yksi kanava."},
		"edit.err.channel":      {"%s is not a channel (email, SMS, post).", "%s ei ole kanava (sähköposti, tekstiviesti, kirje)."},
		"edit.err.channeltwice": {"%s is chosen twice.", "%s on valittu kahdesti."},
		"edit.err.strategy":     {"%s is not a choice here.", "%s ei ole vaihtoehto."},
		"edit.err.templatename": {"%s is not a template name: lower-case letters, digits, - and _.", "%s ei kelpaa pohjan nimeksi: pieniä kirjaimia, numeroita, - ja _."},
		"edit.err.template":     {"The template does not work: %s", "Pohja ei toimi: %s"},
		"edit.err.language":     {"%s is not fi, sv or en.", "%s ei ole fi, sv eikä en."},
		"edit.err.postalcode":   {"%s is not a postal code (00100) or a prefix (00*).", "%s ei ole postinumero (00100) eikä alkuosa (00*)."},
		"edit.err.duration":     {"%s is not a period like 7d, 12h or 365d.", "%s ei ole jakso kuten 7d, 12h tai 365d."},
		"edit.err.negative":     {"The amount cannot be negative.", "Summa ei voi olla negatiivinen."},
		"edit.err.money":        {"%s is not an amount in euros like 50.00.", "%s ei ole euromäärä kuten 50,00."},
		"edit.err.nocoupon":     {"A newsletter has no coupon.", "Uutiskirjeessä ei ole kuponkia."},
		"edit.err.coupon":       {"A coupon offer needs an offer and a validity.", "Kuponkitarjous tarvitsee edun ja voimassaoloajan."},
		"edit.err.discount":     {"Write the offer, at most 40 characters.", "Kirjoita etu, enintään 40 merkkiä."},
		"edit.err.validdays":    {"%s: a coupon is valid for 1 to 366 days.", "%s: kuponki on voimassa 1–366 päivää."},
		"edit.err.atandcron":    {"Give a time or a recurrence, not both.", "Anna joko ajankohta tai toistuvuus, ei molempia."},
		"edit.err.atrequired":   {"Give the date and time of sending.", "Anna lähetyksen päivä ja kellonaika."},
		"edit.err.at":           {"%s is not a date and time like 2026-12-01T09:00.", "%s ei ole ajankohta kuten 2026-12-01T09:00."},
		"edit.err.cronrequired": {"Give the cron expression of the recurrence.", "Anna toistuvuuden cron-lauseke."},
		"edit.err.cronoften":    {"%s runs more often than once an hour.", "%s toistuu useammin kuin kerran tunnissa."},
		"edit.err.cron":         {"%s is not a cron expression like 0 9 * * MON.", "%s ei ole cron-lauseke kuten 0 9 * * MON."},
		"edit.err.capmax":       {"At least 1 message.", "Vähintään 1 viesti."},
	})
}
