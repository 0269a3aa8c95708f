package api_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// memberDesk is the console with a privacy officer, pia, and a register of two members: M1 (Väinö
// Järvinen, email and SMS consent, a later SMS STOP, a sent email with a coupon, a skipped SMS and a
// purchase) and M2.
type memberDesk struct {
	*console
	t    *testing.T
	m1   campaigns.Member
	lang *http.Cookie
}

func newMemberDesk(t *testing.T) *memberDesk {
	t.Helper()
	ctx := context.Background()
	c := newConsole(t, false)
	_, token, err := c.store.AddUser(ctx, "pia", campaigns.RolePrivacy, time.Now().Add(time.Hour), campaigns.Audit{Actor: "tester", Action: campaigns.AuditUsersAdd})
	pgtest.Must(t, "add pia", err)
	c.tokens["pia"] = token
	const members = "external_id,first_name,last_name,email,phone,street,postal_code,city,country,language,email_consent,sms_consent,postal_objection\n" +
		"M1,Väinö,Järvinen,vaino@example.com,040 765 4321,Rantatie 7 A 2,90100,OULU,FI,fi,yes,yes,\n" +
		"M2,Elsa,Öhman,elsa@example.com,,Strandvägen 2,22100,MARIEHAMN,FI,sv,yes,,\n"
	_, err = c.store.ImportMembers(ctx, func(row func(csvfile.MemberRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadMembers(strings.NewReader(members), "m.csv", row)
	}, campaigns.SourceImport, campaigns.Audit{Actor: "tester", Action: campaigns.AuditMembersImport})
	pgtest.Must(t, "import members", err)
	const purchases = "external_id,purchased_at,amount_eur,store,order_ref\nM1,2026-03-01T14:05:00+02:00,49.90,Oulu Valkea,ORD-771\n"
	_, err = c.store.ImportPurchases(ctx, func(row func(csvfile.PurchaseRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadPurchases(strings.NewReader(purchases), "p.csv", row)
	}, campaigns.Audit{Actor: "tester", Action: campaigns.AuditPurchasesImport})
	pgtest.Must(t, "import purchases", err)
	m1, err := c.store.MemberByExternalID(ctx, "M1")
	pgtest.Must(t, "member", err)
	// The SMS STOP comes a moment after the import's consents: the timeline has an order to show.
	time.Sleep(20 * time.Millisecond)
	_, err = c.store.RecordConsent(ctx, "M1", campaigns.ConsentChange{Channel: campaigns.SMS, Status: campaigns.Withdrawn,
		Source: campaigns.SourceSMSStop, WordingVersion: "sms-2025"}, campaigns.Audit{Actor: "sms-gateway", Action: campaigns.AuditConsentSet})
	pgtest.Must(t, "sms stop", err)
	for _, q := range []string{
		`INSERT INTO campaigns (id, name, kind, spec) VALUES (7, 'Kevätale', 'coupon', '{}')`,
		`INSERT INTO runs (id, campaign_id, scheduled_for, status) VALUES (3, 7, now(), 'finished')`,
		`INSERT INTO deliveries (id, run_id, member_id, channel, batch, status, sent_at) VALUES (901, 3, $1, 'email', 0, 'sent', now())`,
		`INSERT INTO deliveries (id, run_id, member_id, channel, batch, status, reason) VALUES (902, 3, $1, 'sms', 0, 'skipped', 'no_consent')`,
		`INSERT INTO coupons (code, campaign_id, run_id, member_id, channel, delivery_id, discount, valid_until) VALUES ('KEVAT7QX9M', 7, 3, $1, 'email', 901, '-20 %', now() + interval '14 days')`,
	} {
		args := []any{}
		if strings.Contains(q, "$1") {
			args = append(args, m1.ID)
		}
		_, err := c.store.DB().Exec(q, args...)
		pgtest.Must(t, q, err)
	}
	return &memberDesk{console: c, t: t, m1: m1, lang: &http.Cookie{Name: "dispatch_lang", Value: "en"}}
}

// get fetches a page with the session, in English.
func (d *memberDesk) get(path string, session *http.Cookie) (*http.Response, string) {
	d.t.Helper()
	return d.do(d.t, "GET", path, nil, nil, session, d.lang)
}

// post posts a form of the console's (with the CSRF token, from the same origin), in English.
func (d *memberDesk) post(path string, form url.Values, session *http.Cookie, csrf string) (*http.Response, string) {
	d.t.Helper()
	form.Set("csrf", csrf)
	return d.do(d.t, "POST", path, strings.NewReader(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": d.hs.URL, "Sec-Fetch-Site": "same-origin"}, session, d.lang)
}

// audited counts the audit entries of the action about the member with the external id.
func (d *memberDesk) audited(action campaigns.AuditAction, externalID string) int {
	d.t.Helper()
	return pgtest.Count(d.t, d.store.DB(), `SELECT count(*) FROM audit_log WHERE action = $1 AND member_external_id = $2`, string(action), externalID)
}

var memberTagRE = regexp.MustCompile(`<[^>]*>`)

// text is a page's (or a part's) text, without tags and with white space folded.
func memberText(page string) string {
	return strings.Join(strings.Fields(html.UnescapeString(memberTagRE.ReplaceAllString(page, " "))), " ")
}

// between is the part of page from the first start to the end that follows it ("" when missing).
func memberBetween(page, start, end string) string {
	i := strings.Index(page, start)
	if i < 0 {
		return ""
	}
	j := strings.Index(page[i:], end)
	if j < 0 {
		return page[i:]
	}
	return page[i : i+j]
}

func memberMustContain(t *testing.T, what, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, page)
		}
	}
}

func TestConsoleMemberRights(t *testing.T) {
	t.Parallel()
	d := newMemberDesk(t)
	session, csrf := d.signIn(t, "pia")
	views := 0

	// The home page and the navigation lead a privacy officer to the members and the audit log.
	_, home := d.get("/", session)
	memberMustContain(t, "privacy officer's home", home, `href="/members"`, `href="/audit"`)
	if strings.Contains(home, `href="/users"`) || strings.Contains(home, `href="/campaigns"`) {
		t.Errorf("a privacy officer's home offers users or campaigns:\n%s", home)
	}

	// The lookup form; an unknown id says so by the field; a known one goes to the member's page.
	resp, page := d.get("/members", session)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /members: %d", resp.StatusCode)
	}
	checkSecurityHeaders(t, "GET /members", resp, false)
	memberMustContain(t, "lookup page", page, `<label for="member-id">`, `name="id"`, `aria-current="page">Members</a>`)
	resp, _ = d.get("/members?id=+M1+", session)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/members/M1" {
		t.Fatalf("lookup of M1: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = d.get("/members?id=NOPE-1", session)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("lookup of an unknown id: %d", resp.StatusCode)
	}
	resp, page = d.get(resp.Header.Get("Location"), session)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("page of an unknown member: %d", resp.StatusCode)
	}
	memberMustContain(t, "unknown member", page, `aria-invalid="true" aria-describedby="member-id-err"`, `value="NOPE-1"`, "There is no member with the membership number NOPE-1")
	if resp, page := d.get("/members?id=", session); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Type a membership number.") {
		t.Errorf("lookup of nothing: %d\n%s", resp.StatusCode, page)
	}

	// The member's page: profile, consents now and as a timeline, newest first, messages, coupons,
	// purchases. Personal data is not cached.
	resp, page = d.get("/members/M1", session)
	views++
	if resp.StatusCode != 200 {
		t.Fatalf("GET /members/M1: %d\n%s", resp.StatusCode, page)
	}
	checkSecurityHeaders(t, "member page", resp, false)
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("member page Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	if hasInlineScript(page) || strings.Contains(page, "style=") || strings.Contains(page, "<style") {
		t.Errorf("member page has inline script or style")
	}
	body := memberText(page)
	memberMustContain(t, "member page", body, "Member M1", "Väinö Järvinen", "vaino@example.com", "+358407654321", "Rantatie 7 A 2", "90100", "OULU", "Finnish (fi)",
		"Kevätale", "sent", "skipped", "no consent", "KEVAT7QX9M", "-20 %", "not redeemed", "Oulu Valkea", "ORD-771", "49.90")
	now := memberText(memberBetween(page, `<table class="list member-now">`, `</table>`))
	memberMustContain(t, "current consents", now, "email consent given", "SMS consent withdrawn", "post no objection", "SMS STOP")
	timeline := memberBetween(page, `<ol class="timeline"`, `</ol>`)
	items := regexp.MustCompile(`<li class="(granted|withdrawn)"><strong>([^<]*)</strong>`).FindAllStringSubmatch(timeline, -1)
	if len(items) != 3 || items[0][2] != "SMS: withdrawn" || items[0][1] != "withdrawn" {
		t.Fatalf("consent timeline (newest first) = %q\n%s", items, timeline)
	}
	memberMustContain(t, "timeline", memberText(timeline), "Source: SMS STOP · Wording version: sms-2025 · Recorded by: sms-gateway", "Source: import")
	for _, want := range []string{`action="/members/M1/correct#correct"`, `action="/members/M1/consent#consent"`, `href="/members/M1/export.json"`, `href="/members/M1/erase"`} {
		if !strings.Contains(page, want) {
			t.Errorf("member page lacks %s", want)
		}
	}
	if n := d.audited(campaigns.AuditMemberView, "M1"); n != views {
		t.Errorf("%d members.view entries after %d views", n, views)
	}

	// A correction the import would refuse comes back with the reason by the field and the value
	// kept; the member is unchanged.
	resp, page = d.post("/members/M1/correct", url.Values{"field": {"email"}, "value": {"vaino at example"}}, session, csrf)
	views++
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad correction: %d\n%s", resp.StatusCode, page)
	}
	memberMustContain(t, "bad correction", page, `aria-describedby="correct-value-err correct-hint" aria-invalid="true"`, `id="correct-value-err">The value was not accepted: not an email address.`, `value="vaino at example"`, `<option value="email" selected>`)
	if m, _ := d.store.MemberByExternalID(context.Background(), "M1"); m.Email != "vaino@example.com" {
		t.Errorf("a refused correction changed the email to %q", m.Email)
	}
	resp, page = d.post("/members/M1/correct", url.Values{"field": {"shoe_size"}, "value": {"44"}}, session, csrf)
	views++
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="correct-field-err">Choose a field that can be corrected.`) {
		t.Errorf("correction of an unknown field: %d", resp.StatusCode)
	}
	// A good one changes it, audited as members.correct, and the page says so.
	resp, _ = d.post("/members/M1/correct", url.Values{"field": {"email"}, "value": {" vaino.jarvinen@Example.COM "}}, session, csrf)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/members/M1?done=corrected&field=email" {
		t.Fatalf("correction: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if m, _ := d.store.MemberByExternalID(context.Background(), "M1"); m.Email != "vaino.jarvinen@example.com" {
		t.Errorf("after the correction the email is %q", m.Email)
	}
	if n := d.audited(campaigns.AuditMemberCorrect, "M1"); n != 1 {
		t.Errorf("%d members.correct entries", n)
	}
	_, page = d.get(resp.Header.Get("Location"), session)
	views++
	memberMustContain(t, "page after the correction", memberText(page), "The correction was saved (Email).", "vaino.jarvinen@example.com")

	// A consent withdrawn through customer service; a grant needs the wording's version.
	resp, page = d.post("/members/M1/consent", url.Values{"channel": {"email"}, "status": {"granted"}}, session, csrf)
	views++
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("grant without wording: %d", resp.StatusCode)
	}
	memberMustContain(t, "grant without wording", page, `id="consent-wording-err">Give the version`, `<option value="email" selected>`, `value="granted" checked`)
	resp, _ = d.post("/members/M1/consent", url.Values{"channel": {"email"}, "status": {"withdrawn"}}, session, csrf)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/members/M1?done=consent&channel=email" {
		t.Fatalf("withdrawal: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	ev, ok, err := d.store.CurrentConsent(context.Background(), d.m1.ID, campaigns.Email)
	pgtest.Must(t, "consent", err)
	if !ok || ev.Status != campaigns.Withdrawn || ev.Source != campaigns.SourceCustomerService || ev.Actor != "pia" {
		t.Errorf("email consent after the withdrawal: %+v", ev)
	}
	_, page = d.get(resp.Header.Get("Location"), session)
	views++
	memberMustContain(t, "page after the withdrawal", memberText(page), "The consent change was recorded (email).", "email consent withdrawn")
	if first := regexp.MustCompile(`<li class="(granted|withdrawn)"><strong>([^<]*)</strong>`).FindStringSubmatch(memberBetween(page, `<ol class="timeline"`, `</ol>`)); first == nil || first[2] != "email: withdrawn" {
		t.Errorf("the timeline does not start with the withdrawal: %q", first)
	}

	// The export: a JSON download of everything, audited as an export.
	resp, raw := d.get("/members/M1/export.json", session)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="member-M1.json"` {
		t.Errorf("export Content-Disposition %q", cd)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("export Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	var x campaigns.MemberExport
	if err := json.Unmarshal([]byte(raw), &x); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, raw)
	}
	if x.Member.ExternalID != "M1" || x.Member.Email != "vaino.jarvinen@example.com" || len(x.Consents) != 4 || len(x.Deliveries) != 2 || len(x.Coupons) != 1 || len(x.Purchases) != 1 {
		t.Errorf("export = %+v", x)
	}
	if n := d.audited(campaigns.AuditMembersExport, "M1"); n != 1 {
		t.Errorf("%d members.export entries", n)
	}

	// Erasure: the page says what goes and what stays; a wrong id typed erases nothing.
	resp, page = d.get("/members/M1/erase", session)
	views++
	if resp.StatusCode != 200 {
		t.Fatalf("erase page: %d", resp.StatusCode)
	}
	memberMustContain(t, "erase page", memberText(page), "Erase member M1 (Väinö Järvinen)", "the consent history (4 events)", "the purchases (1)",
		"the record of messages (2), as anonymous counts", "the coupons issued (1)", "email address on the suppression list, as a hash only", "To confirm, type the membership number M1")
	for _, typed := range []string{"M2", "m1", "M1 ", ""} {
		resp, page = d.post("/members/M1/erase", url.Values{"confirm": {typed}}, session, csrf)
		views++
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("erase with %q typed: %d", typed, resp.StatusCode)
		}
		memberMustContain(t, "refused erasure", page, `aria-invalid="true" aria-describedby="erase-confirm-err"`, `id="erase-confirm-err"`, "nothing was erased")
		if _, err := d.store.MemberByExternalID(context.Background(), "M1"); err != nil {
			t.Fatalf("erase with %q typed: the member is gone: %v", typed, err)
		}
	}
	if n := d.audited(campaigns.AuditMemberView, "M1"); n != views {
		t.Errorf("%d members.view entries after %d views", n, views)
	}
	resp, _ = d.post("/members/M1/erase", url.Values{"confirm": {"M1"}}, session, csrf)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/members?erased=M1" {
		t.Fatalf("erasure: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := d.store.MemberByExternalID(context.Background(), "M1"); err == nil {
		t.Fatal("the member is still there after the erasure")
	}
	_, page = d.get(resp.Header.Get("Location"), session)
	memberMustContain(t, "page after the erasure", memberText(page), "The personal data of member M1 was erased.")
	if n := d.audited(campaigns.AuditMembersErase, "M1"); n != 1 {
		t.Errorf("%d members.erase entries", n)
	}
	if resp, _ := d.get("/members/M1", session); resp.StatusCode != http.StatusNotFound {
		t.Errorf("page of the erased member: %d", resp.StatusCode)
	}
	if n := pgtest.Count(t, d.store.DB(), `SELECT count(*) FROM coupons WHERE code = 'KEVAT7QX9M' AND member_id IS NULL`); n != 1 {
		t.Errorf("the coupon did not stay without the member")
	}
}

func TestConsoleMembersAreForPrivacyOfficers(t *testing.T) {
	t.Parallel()
	d := newMemberDesk(t)
	for _, name := range []string{"maija", "olli"} {
		session, csrf := d.signIn(t, name)
		_, home := d.get("/", session)
		if strings.Contains(home, `href="/members"`) || strings.Contains(home, `href="/audit"`) || strings.Contains(home, `href="/users"`) {
			t.Errorf("%s's home links to members, audit or users:\n%s", name, home)
		}
		for _, path := range []string{"/members", "/members?id=M1", "/members/M1", "/members/M1/export.json", "/members/M1/erase", "/audit", "/audit?member=M1", "/users", "/users/aino/rotate"} {
			resp, body := d.get(path, session)
			if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "Järvinen") || strings.Contains(body, "vaino@") {
				t.Errorf("%s GET %s: %d", name, path, resp.StatusCode)
			}
		}
		for path, form := range map[string]url.Values{
			"/members/M1/correct":  {"field": {"email"}, "value": {"x@example.com"}},
			"/members/M1/consent":  {"channel": {"email"}, "status": {"withdrawn"}},
			"/members/M1/erase":    {"confirm": {"M1"}},
			"/users":               {"name": {"mallory"}, "role": {"admin"}},
			"/users/aino/disable":  {},
			"/users/aino/rotate":   {},
			"/users/maija/rotate":  {},
			"/users/maija/disable": {},
		} {
			if resp, _ := d.post(path, form, session, csrf); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s POST %s: %d", name, path, resp.StatusCode)
			}
		}
	}
	if m, err := d.store.MemberByExternalID(context.Background(), "M1"); err != nil || m.Email != "vaino@example.com" {
		t.Errorf("a refused role changed M1: %+v %v", m, err)
	}
	for _, a := range []campaigns.AuditAction{campaigns.AuditMemberView, campaigns.AuditMembersExport, campaigns.AuditMemberCorrect, campaigns.AuditMembersErase} {
		if n := d.audited(a, "M1"); n != 0 {
			t.Errorf("%d %s entries from refused requests", n, a)
		}
	}
	if n := pgtest.Count(t, d.store.DB(), `SELECT count(*) FROM users WHERE name = 'mallory'`); n != 0 {
		t.Error("a marketer added a user")
	}
}

func TestConsoleUsers(t *testing.T) {
	t.Parallel()
	d := newMemberDesk(t)
	session, csrf := d.signIn(t, "aino")
	resp, page := d.get("/users", session)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /users: %d", resp.StatusCode)
	}
	list := memberText(page)
	memberMustContain(t, "user list", list, "maija marketer", "olli operator", "pia privacy officer", "aino (you) admin", "active")
	if strings.Contains(page, `href="/users/aino/disable"`) {
		t.Error("the list offers to disable the admin herself")
	}

	// A name missing comes back by its field; a new user's token is shown once, in the answer.
	resp, page = d.post("/users", url.Values{"name": {" "}, "role": {"marketer"}}, session, csrf)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="user-name-err">Give the user a name.`) {
		t.Errorf("add without a name: %d", resp.StatusCode)
	}
	resp, page = d.post("/users", url.Values{"name": {"maija"}, "role": {"ops"}}, session, csrf)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "The name maija is already in use.") || !strings.Contains(page, `value="maija"`) {
		t.Errorf("add a name in use: %d", resp.StatusCode)
	}
	resp, page = d.post("/users", url.Values{"name": {"kalle"}, "role": {"privacy"}}, session, csrf)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Location") != "" {
		t.Fatalf("add kalle: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	token := memberText(memberBetween(page, `<p class="token"`, `</p>`))
	if !strings.HasPrefix(token, "dsp_") {
		t.Fatalf("no token on the page of the new user:\n%s", page)
	}
	memberMustContain(t, "new user's page", memberText(page), "User kalle (privacy officer) was added.", "This is the only time the token is shown")
	if u, err := d.store.UserByToken(context.Background(), token); err != nil || u.Name != "kalle" {
		t.Errorf("the token shown does not open kalle's account: %v", err)
	}
	_, page = d.get("/users", session)
	if strings.Contains(page, token) {
		t.Error("the user list shows the token again")
	}
	memberMustContain(t, "user list after the add", memberText(page), "kalle privacy officer")

	// Disabling asks first.
	resp, page = d.get("/users/kalle/disable", session)
	if resp.StatusCode != 200 {
		t.Fatalf("disable page: %d", resp.StatusCode)
	}
	memberMustContain(t, "disable page", page, `action="/users/kalle/disable"`, "Disable kalle (privacy officer)?")
	resp, _ = d.post("/users/kalle/disable", url.Values{}, session, csrf)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	_, page = d.get(resp.Header.Get("Location"), session)
	memberMustContain(t, "list after disabling", memberText(page), "User kalle was disabled", "disabled")
	if _, err := d.store.UserByToken(context.Background(), token); err == nil {
		t.Error("a disabled user's token still works")
	}
	if resp, _ := d.get("/users/aino/disable", session); resp.StatusCode != 200 {
		t.Errorf("own disable page: %d", resp.StatusCode)
	} else if resp, _ := d.post("/users/aino/disable", url.Values{}, session, csrf); resp.StatusCode != http.StatusConflict {
		t.Errorf("disable oneself: %d", resp.StatusCode)
	}

	// Rotating asks first, and shows the new token once; the old one stops working.
	resp, page = d.get("/users/maija/rotate", session)
	if resp.StatusCode != 200 {
		t.Fatalf("rotate page: %d", resp.StatusCode)
	}
	memberMustContain(t, "rotate page", page, `action="/users/maija/rotate"`)
	resp, page = d.post("/users/maija/rotate", url.Values{}, session, csrf)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("rotate: %d", resp.StatusCode)
	}
	newToken := memberText(memberBetween(page, `<p class="token"`, `</p>`))
	if !strings.HasPrefix(newToken, "dsp_") || newToken == d.tokens["maija"] {
		t.Fatalf("rotate shows no new token:\n%s", page)
	}
	if _, err := d.store.UserByToken(context.Background(), d.tokens["maija"]); err == nil {
		t.Error("the old token still works after the rotation")
	}
	if u, err := d.store.UserByToken(context.Background(), newToken); err != nil || u.Name != "maija" {
		t.Errorf("the new token does not open maija's account: %v", err)
	}
	if n := pgtest.Count(t, d.store.DB(), `SELECT count(*) FROM audit_log WHERE actor = 'aino' AND action IN ('users.add', 'users.disable', 'users.rotate')`); n != 3 {
		t.Errorf("%d user audit entries by aino, want 3", n)
	}
	// Privacy officers do not manage users.
	pia, _ := d.signIn(t, "pia")
	if resp, _ := d.get("/users", pia); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a privacy officer's GET /users: %d", resp.StatusCode)
	}
}

func TestConsoleAuditLog(t *testing.T) {
	t.Parallel()
	d := newMemberDesk(t)
	session, csrf := d.signIn(t, "pia")
	d.get("/members/M1", session)
	d.get("/members/M2", session)
	d.post("/members/M2/consent", url.Values{"channel": {"sms"}, "status": {"withdrawn"}}, session, csrf)

	resp, page := d.get("/audit", session)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /audit: %d", resp.StatusCode)
	}
	memberMustContain(t, "audit page", page, `<label for="audit-member">`, `<option value="members.view">`, `name="from" type="date" value="`)
	rows := regexp.MustCompile(`<code class="small">([a-z.-]+)</code>`).FindAllStringSubmatch(page, -1)
	if len(rows) < 4 || rows[0][1] != "consent.set" || rows[1][1] != "members.view" {
		t.Errorf("audit rows, newest first: %q", rows)
	}
	// By member: only M2's entries, with the details summed up.
	_, page = d.get("/audit?member=M2&from=", session)
	table := memberBetween(page, `<table class="list audit">`, `</table>`)
	memberMustContain(t, "audit of M2", memberText(table), "pia", "consent recorded", "member viewed", "channel: sms", "source: customer-service", "previous: none")
	if strings.Contains(table, `href="/members/M1"`) || !strings.Contains(table, `href="/members/M2"`) {
		t.Errorf("audit filtered by M2 shows other members:\n%s", table)
	}
	// By action: only the views.
	_, page = d.get("/audit?action=members.view&from=", session)
	actions := regexp.MustCompile(`<code class="small">([a-z.-]+)</code>`).FindAllStringSubmatch(page, -1)
	if len(actions) != 2 {
		t.Errorf("audit of members.view: %q", actions)
	}
	for _, a := range actions {
		if a[1] != "members.view" {
			t.Errorf("audit of members.view lists %s", a[1])
		}
	}
	memberMustContain(t, "audit by action", page, `<option value="members.view" selected>`)
	// By user, and dates: a day with nothing, a bad date refused by its field.
	_, page = d.get("/audit?user=tester&from=", session)
	if strings.Contains(page, "<td>pia</td>") || !strings.Contains(page, "<td>tester</td>") {
		t.Errorf("audit by user tester lists others")
	}
	_, page = d.get("/audit?from=2020-01-01&to=2020-01-02", session)
	memberMustContain(t, "audit of 2020", page, "No entries match.")
	resp, page = d.get("/audit?from=yesterday", session)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="audit-from-err">Give a date as YYYY-MM-DD.`) {
		t.Errorf("audit with a bad date: %d", resp.StatusCode)
	}
}
