package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jacksmood/dispatch/campaigns"
)

// The audit log in the console, for admins and privacy officers: who did what, when, to which
// member, newest first, filtered by member, user, action and dates.

// auditRoutes serves /audit.
func (c *console) auditRoutes() {
	c.s.mux.Handle("GET /audit", c.s.requireSession(http.HandlerFunc(c.auditPage), campaigns.RolePrivacy))
}

// auditShown is how many entries the audit page lists at most: the newest that match.
const auditShown = 500

// auditActions are the audited actions, for the page's filter, in the order of campaigns/user.go.
var auditActions = []campaigns.AuditAction{
	campaigns.AuditCampaignCreate, campaigns.AuditCampaignUpdate, campaigns.AuditCampaignSchedule,
	campaigns.AuditCampaignPause, campaigns.AuditCampaignResume, campaigns.AuditCampaignCancel,
	campaigns.AuditCampaignPreview, campaigns.AuditCampaignTestSend,
	campaigns.AuditMemberView, campaigns.AuditMemberCorrect, campaigns.AuditMembersUpdate,
	campaigns.AuditMembersExport, campaigns.AuditMembersErase, campaigns.AuditMembersReadmit,
	campaigns.AuditMembersImport, campaigns.AuditMembersSeed, campaigns.AuditConsentSet,
	campaigns.AuditPurchasesImport, campaigns.AuditSuppressionImport, campaigns.AuditCouponRedeem,
	campaigns.AuditUsersAdd, campaigns.AuditUsersDisable, campaigns.AuditUsersRotate,
}

// auditDetail is one key of an entry's details, its value written short.
type auditDetail struct{ Key, Value string }

// auditRow is an audit entry as the pages list it: its details summed up, and in full.
type auditRow struct {
	campaigns.AuditEntry
	// MemberPath is the member's page ("" when the entry names no member by external id).
	MemberPath string
	// ActionName is the action in the page's language ("" for an action the console does not know).
	ActionName string
	// Summary is the details' first keys, short; More is whether there are more.
	Summary []auditDetail
	More    bool
	// Full is the details as indented JSON ("" when they are empty).
	Full string
}

// auditSummaryKeys is how many of an entry's details the summary shows.
const auditSummaryKeys = 6

// newAuditRow sums up an entry's details (a JSON object) for a table in the language lang.
func newAuditRow(e campaigns.AuditEntry, lang string) auditRow {
	row := auditRow{AuditEntry: e}
	if e.MemberExternalID != nil && *e.MemberExternalID != "" {
		row.MemberPath = memberURL(*e.MemberExternalID, "")
	}
	if key := "audit.action." + string(e.Action); translate(lang, key) != key {
		row.ActionName = translate(lang, key)
	}
	dec := json.NewDecoder(strings.NewReader(e.Details))
	dec.UseNumber()
	var details map[string]any
	if err := dec.Decode(&details); err != nil {
		if s := strings.TrimSpace(e.Details); s != "" && s != "null" {
			row.Summary = []auditDetail{{Value: auditShort(s, 120)}}
		}
		return row
	}
	if len(details) == 0 {
		return row
	}
	keys := make([]string, 0, len(details))
	for k := range details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == auditSummaryKeys {
			row.More = true
			break
		}
		row.Summary = append(row.Summary, auditDetail{Key: k, Value: auditValue(details[k])})
	}
	var full bytes.Buffer
	enc := json.NewEncoder(&full)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if enc.Encode(details) == nil {
		row.Full = strings.TrimSpace(full.String())
	}
	return row
}

// auditValue writes a detail's value short: text and numbers as they are (cut at 60 characters),
// an object as its keys (the fields of a correction), a list as its items when they are short.
func auditValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "–"
	case string:
		return auditShort(v, 60)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return auditShort(strings.Join(keys, ", "), 60)
	case []any:
		parts := make([]string, 0, len(v))
		for _, x := range v {
			switch x.(type) {
			case map[string]any, []any:
				return fmt.Sprintf("[%d]", len(v))
			}
			parts = append(parts, auditValue(x))
		}
		return auditShort(strings.Join(parts, ", "), 60)
	}
	return auditShort(fmt.Sprint(v), 60)
}

// auditShort cuts s to n characters, with an ellipsis when it was longer.
func auditShort(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// auditFilterForm is the audit page's filter as given, with what is wrong in it by field.
type auditFilterForm struct {
	Member, User, Action, From, To string
	Errs                           map[string]string
}

// auditPageData is what the audit page (audit.html) shows.
type auditPageData struct {
	Filter  auditFilterForm
	Actions []campaigns.AuditAction
	Entries []auditRow
	// Shown is how many entries the page lists; Limited is whether older ones match too.
	Shown   int64
	Limited bool
	// Zone is DISPATCH_TIMEZONE's name, where the filter's days are.
	Zone string
}

// auditDate reads a date of the filter (YYYY-MM-DD) as the start of that day in loc.
func auditDate(s string, loc *time.Location) (time.Time, error) {
	return time.ParseInLocation(time.DateOnly, s, loc)
}

// auditPage answers GET /audit?member=&user=&action=&from=&to=: the entries that match, newest first.
func (c *console) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lang := requestLang(r)
	loc := c.s.timezone()
	f := auditFilterForm{Member: strings.TrimSpace(q.Get("member")), User: strings.TrimSpace(q.Get("user")),
		Action: q.Get("action"), From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")),
		Errs: map[string]string{}}
	// One more than shown: whether there are older ones.
	filter := campaigns.AuditFilter{MemberExternalID: f.Member, Actor: f.User, Limit: auditShown + 1}
	if f.Action != "" {
		if !slices.Contains(auditActions, campaigns.AuditAction(f.Action)) {
			f.Errs["action"] = translate(lang, "audit.err.action")
		}
		filter.Action = campaigns.AuditAction(f.Action)
	}
	if err := campaigns.CheckField("member", f.Member); err != nil {
		f.Errs["member"] = translate(lang, "audit.err.text", err.Error())
	}
	if err := campaigns.CheckField("name", f.User); err != nil {
		f.Errs["user"] = translate(lang, "audit.err.text", err.Error())
	}
	if f.From != "" {
		t, err := auditDate(f.From, loc)
		if err != nil {
			f.Errs["from"] = translate(lang, "audit.err.date")
		}
		filter.Since = t
	}
	if f.To != "" {
		t, err := auditDate(f.To, loc)
		if err != nil {
			f.Errs["to"] = translate(lang, "audit.err.date")
		} else if !filter.Since.IsZero() && t.Before(filter.Since) {
			f.Errs["to"] = translate(lang, "audit.err.order")
		}
		filter.Until = t.AddDate(0, 0, 1) // to the end of that day
	}
	d := auditPageData{Filter: f, Actions: auditActions, Zone: loc.String()}
	status := http.StatusOK
	if len(f.Errs) > 0 {
		status = http.StatusUnprocessableEntity
	} else {
		entries, err := c.svc.AuditLog(r.Context(), user(r), filter)
		if err != nil {
			c.s.fail(w, r, err)
			return
		}
		// The newest auditShown+1, oldest first: the page lists the newest auditShown, newest first.
		first := max(0, len(entries)-auditShown)
		d.Limited = first > 0
		d.Entries = make([]auditRow, 0, len(entries)-first)
		for i := len(entries) - 1; i >= first; i-- {
			d.Entries = append(d.Entries, newAuditRow(entries[i], lang))
		}
		d.Shown = int64(len(d.Entries))
	}
	v := c.s.newView(r, "audit.title", d)
	v.Nav = "audit"
	c.s.render(w, r, status, "audit.html", v)
}

func init() {
	m := map[string][2]string{
		"audit.title":      {"Audit log", "Tapahtumaloki"},
		"audit.intro":      {"Who did what, and when: every privileged action, newest first.", "Kuka teki mitä ja milloin: jokainen etuoikeutettu toiminto, uusin ensin."},
		"audit.filter":     {"Filter", "Rajaa"},
		"audit.member":     {"Member (membership number)", "Jäsen (jäsennumero)"},
		"audit.user":       {"User", "Käyttäjä"},
		"audit.membercol":  {"Member", "Jäsen"},
		"audit.action":     {"Action", "Toiminto"},
		"audit.anyaction":  {"any action", "kaikki toiminnot"},
		"audit.from":       {"From", "Alkaen"},
		"audit.to":         {"To", "Päättyen"},
		"audit.dateshint":  {"Dates are days in %s, both included.", "Päivät ovat aikavyöhykkeellä %s, molemmat mukaan lukien."},
		"audit.submit":     {"Show", "Näytä"},
		"audit.clear":      {"Clear the filter", "Tyhjennä rajaus"},
		"audit.time":       {"Time", "Aika"},
		"audit.details":    {"Details", "Tiedot"},
		"audit.all":        {"all details", "kaikki tiedot"},
		"audit.none":       {"No entries match.", "Ei osumia."},
		"audit.count":      {"%s entries.", "%s merkintää."},
		"audit.limited":    {"The newest %s entries; older ones match too. Narrow the filter to see them.", "Uusimmat %s merkintää; myös vanhempia osuu rajaukseen. Rajaa tarkemmin nähdäksesi ne."},
		"audit.err.action": {"Choose an action from the list.", "Valitse toiminto listasta."},
		"audit.err.text":   {"This value %s.", "Arvo ei kelpaa: %s."},
		"audit.err.date":   {"Give a date as YYYY-MM-DD.", "Anna päivämäärä muodossa VVVV-KK-PP."},
		"audit.err.order":  {"The end date is before the start date.", "Loppupäivä on ennen alkupäivää."},
	}
	names := map[campaigns.AuditAction][2]string{
		campaigns.AuditCampaignCreate:    {"campaign created", "kampanja luotu"},
		campaigns.AuditCampaignUpdate:    {"campaign changed", "kampanjaa muutettu"},
		campaigns.AuditCampaignSchedule:  {"campaign scheduled", "kampanja ajastettu"},
		campaigns.AuditCampaignPause:     {"campaign paused", "kampanja keskeytetty"},
		campaigns.AuditCampaignResume:    {"campaign resumed", "kampanjaa jatkettu"},
		campaigns.AuditCampaignCancel:    {"campaign cancelled", "kampanja peruttu"},
		campaigns.AuditCampaignPreview:   {"campaign previewed", "kampanjaa esikatseltu"},
		campaigns.AuditCampaignTestSend:  {"test message sent", "testiviesti lähetetty"},
		campaigns.AuditMemberView:        {"member viewed", "jäsentä katseltu"},
		campaigns.AuditMemberCorrect:     {"member corrected", "jäsentä korjattu"},
		campaigns.AuditMembersUpdate:     {"member's data changed", "jäsenen tietoja muutettu"},
		campaigns.AuditMembersExport:     {"member's data exported", "jäsenen tiedot viety"},
		campaigns.AuditMembersErase:      {"member erased", "jäsen poistettu"},
		campaigns.AuditMembersReadmit:    {"erased member readmitted", "poistettu jäsen palautettu"},
		campaigns.AuditMembersImport:     {"members imported", "jäseniä tuotu"},
		campaigns.AuditMembersSeed:       {"demo members added", "esimerkkijäseniä lisätty"},
		campaigns.AuditConsentSet:        {"consent recorded", "suostumus kirjattu"},
		campaigns.AuditPurchasesImport:   {"purchases imported", "ostoja tuotu"},
		campaigns.AuditSuppressionImport: {"suppression list imported", "estolista tuotu"},
		campaigns.AuditCouponRedeem:      {"coupon redeemed", "kuponki käytetty"},
		campaigns.AuditUsersAdd:          {"user added", "käyttäjä lisätty"},
		campaigns.AuditUsersDisable:      {"user disabled", "käyttäjä poistettu käytöstä"},
		campaigns.AuditUsersRotate:       {"user's token renewed", "käyttäjän tunniste uusittu"},
	}
	for _, a := range auditActions {
		n, ok := names[a]
		if !ok {
			panic("api: audit action without a name: " + string(a))
		}
		m["audit.action."+string(a)] = n
	}
	addMessages(m)
}
