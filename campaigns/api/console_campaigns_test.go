package api_test

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/api"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/campaigns/service"
	"github.com/jacksmood/dispatch/internal/browsertest"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
	"github.com/jacksmood/dispatch/worker/print"
)

// campaignDesk is the console of newConsole (olli ops, maija marketer, aino admin) and pia (privacy
// officer), whose service
// can draw letters and send tests (to testOutbox), with a register of four members: M1 and M2 with
// email and SMS consent, M3 with email only, M4 with none.
type campaignDesk struct {
	*console
	t      *testing.T
	outbox *testOutbox
	en     *http.Cookie
}

// testOutbox is the test senders' outbox: the messages a test send sent.
type testOutbox struct {
	mu   sync.Mutex
	sent []compose.Message
}

func (o *testOutbox) Send(_ context.Context, m compose.Message) (worker.Receipt, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, m)
	return worker.Receipt{ProviderRef: "test-" + strconv.Itoa(len(o.sent))}, nil
}

func (o *testOutbox) messages() []compose.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]compose.Message(nil), o.sent...)
}

func newCampaignDesk(t *testing.T) *campaignDesk {
	t.Helper()
	ctx := context.Background()
	c := &console{store: pgtest.New(t), log: &logBuffer{}, tokens: map[string]string{}}
	for name, role := range map[string]campaigns.Role{"olli": campaigns.RoleOps, "maija": campaigns.RoleMarketer, "aino": campaigns.RoleAdmin, "pia": campaigns.RolePrivacy} {
		_, token, err := c.store.AddUser(ctx, name, role, time.Now().Add(time.Hour), campaigns.Audit{Actor: "tester", Action: campaigns.AuditUsersAdd})
		pgtest.Must(t, "add user "+name, err)
		c.tokens[name] = token
	}
	r, err := templates.New("")
	pgtest.Must(t, "templates", err)
	composer, err := compose.New(compose.Config{PublicURL: "http://127.0.0.1:8080", Secret: secret}, r)
	pgtest.Must(t, "composer", err)
	letters, err := print.NewRenderer(print.Config{})
	pgtest.Must(t, "letters", err)
	outbox := &testOutbox{}
	svc, err := service.New(service.Config{
		TestSenders: map[campaigns.Channel]worker.Sender{campaigns.Email: outbox, campaigns.SMS: outbox},
		Letters:     letters,
	}, c.store, composer, slog.New(slog.DiscardHandler))
	pgtest.Must(t, "service", err)
	c.srv, err = api.New(api.Config{Secret: secret, Service: svc}, c.store, slog.New(slog.NewTextHandler(c.log, nil)))
	pgtest.Must(t, "api", err)
	c.hs = httptest.NewServer(c.srv)
	t.Cleanup(c.hs.Close)
	c.client = c.hs.Client()
	c.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	const members = "external_id,first_name,last_name,email,phone,street,postal_code,city,country,language,email_consent,sms_consent,postal_objection\n" +
		"M1,Väinö,Järvinen,vaino@example.com,040 765 4321,Rantatie 7 A 2,00100,HELSINKI,FI,fi,yes,yes,\n" +
		"M2,Elsa,Öhman,elsa@example.com,040 765 4322,Strandvägen 2,00120,HELSINKI,FI,sv,yes,yes,\n" +
		"M3,Aino,Virtanen,aino@example.com,,Kauppakatu 1,33100,TAMPERE,FI,fi,yes,,\n" +
		"M4,Eero,Laine,eero@example.com,040 765 4324,Kirkkokatu 3,90100,OULU,FI,fi,,,\n"
	_, err = c.store.ImportMembers(ctx, func(row func(csvfile.MemberRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadMembers(strings.NewReader(members), "m.csv", row)
	}, campaigns.SourceImport, campaigns.Audit{Actor: "tester", Action: campaigns.AuditMembersImport})
	pgtest.Must(t, "import members", err)
	return &campaignDesk{console: c, t: t, outbox: outbox, en: &http.Cookie{Name: "dispatch_lang", Value: "en"}}
}

// get fetches a page with the session, in English.
func (d *campaignDesk) get(path string, session *http.Cookie) (*http.Response, string) {
	d.t.Helper()
	return d.do(d.t, "GET", path, nil, nil, session, d.en)
}

// post posts a form with the CSRF token, from the same origin, in English.
func (d *campaignDesk) post(path string, form url.Values, session *http.Cookie, csrf string) (*http.Response, string) {
	d.t.Helper()
	form.Set("csrf", csrf)
	return d.do(d.t, "POST", path, strings.NewReader(form.Encode()), map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Origin": d.hs.URL, "Sec-Fetch-Site": "same-origin"}, session, d.en)
}

// campaign creates a campaign in the store, as the marketer maija.
func (d *campaignDesk) campaign(spec campaigns.Spec) campaigns.Campaign {
	d.t.Helper()
	if err := spec.Validate(); err != nil {
		d.t.Fatalf("spec: %v", err)
	}
	c, err := d.store.CreateCampaign(context.Background(), &spec, campaigns.Audit{Actor: "maija", Action: campaigns.AuditCampaignCreate})
	pgtest.Must(d.t, "create campaign", err)
	return c
}

// exec runs statements on the test's database, each with the arguments it names ($1...).
func (d *campaignDesk) exec(q string, args ...any) {
	d.t.Helper()
	_, err := d.store.DB().Exec(q, args...)
	pgtest.Must(d.t, q, err)
}

func (d *campaignDesk) memberID(externalID string) int64 {
	d.t.Helper()
	m, err := d.store.MemberByExternalID(context.Background(), externalID)
	pgtest.Must(d.t, "member "+externalID, err)
	return m.ID
}

// text is a page's text without tags and with entities decoded and spaces squeezed, for asserting
// what a reader sees.
func text(page string) string {
	s := regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(page, " ")
	s = html.UnescapeString(s)
	return strings.Join(strings.Fields(s), " ")
}

// fieldError returns the text of the message shown for an input (id input-error), or "".
func fieldError(page, input string) string {
	m := regexp.MustCompile(`(?s)<p class="field-error" id="` + regexp.QuoteMeta(input) + `-error">(.*?)</p>`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return text(m[1])
}

// tagOf returns the opening tag of the element with the id.
func tagOf(page, id string) string {
	return regexp.MustCompile(`<[a-z]+[^>]* id="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(page)
}

// rawKey is a message key shown as it is: a key no file registered.
var rawKey = regexp.MustCompile(`\b(edit|preview|confirm|results|audience|action|testsend|done|reason|status|channel|kind|strategy|campaigns?|progress|common|err)\.[a-z_.]*[a-z]\b`)

// checkPage fails the test when a page has inline script or style (its policy forbids them) or
// shows a message key instead of its text.
func checkPage(t *testing.T, what, page string) {
	t.Helper()
	if hasInlineScript(page) || strings.Contains(page, " style=") || strings.Contains(page, "<style") {
		t.Errorf("%s has inline script or style:\n%s", what, page)
	}
	if k := rawKey.FindString(text(page)); k != "" {
		t.Errorf("%s shows the message key %s", what, k)
	}
}

func TestConsoleCampaignFormShowsEveryProblem(t *testing.T) {
	t.Parallel()
	d := newCampaignDesk(t)
	session, csrf := d.signIn(t, "maija")

	resp, page := d.get("/campaigns/new", session)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /campaigns/new: %d", resp.StatusCode)
	}
	checkPage(t, "the form", page)
	for _, want := range []string{`<label for="name">Name</label>`, `name="channels" id="channel-email" value="email" checked`,
		`name="kind" id="kind-coupon" value="coupon" checked`, `type="datetime-local"`, `<datalist id="template-names"><option value="coupon">`} {
		if !strings.Contains(page, want) {
			t.Errorf("the new campaign form lacks %s", want)
		}
	}

	// Several problems at once: each is shown next to its field, and what was typed is kept.
	bad := url.Values{
		"name": {""}, "kind": {"coupon"}, "strategy": {"all"}, "template": {""},
		"languages": {"fi"}, "postal_codes": {"00%, 123"}, "purchased_within": {"a year"}, "min_total_spend": {"50,00"},
		"discount": {"-20 %"}, "valid_days": {"0"}, "schedule": {"cron"}, "cron": {"*/5 * * * *"},
		"cap_max": {"2"}, "cap_per": {"7d"},
	}
	resp, page = d.post("/campaigns", bad, session, csrf)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("POST /campaigns with problems: %d\n%s", resp.StatusCode, page)
	}
	checkPage(t, "the form with problems", page)
	for input, want := range map[string]string{
		"name":             "Give the campaign a name.",
		"channels":         "Choose at least one channel.",
		"postal_codes":     `"123" is not a postal code (00100) or a prefix (00*).`,
		"purchased_within": `"a year" is not a period like 7d, 12h or 365d.`,
		"valid_days":       "0: a coupon is valid for 1 to 366 days.",
		"cron":             `"*/5 * * * *" runs more often than once an hour.`,
	} {
		if got := fieldError(page, input); got != want {
			t.Errorf("the message next to %s is %q, want %q", input, got, want)
		}
	}
	for _, id := range []string{"name", "postal_codes", "purchased_within", "valid_days", "cron"} {
		tag := tagOf(page, id)
		if !strings.Contains(tag, `aria-invalid="true"`) || !strings.Contains(tag, `aria-describedby="`+id+`-error`) {
			t.Errorf("input %s is not marked invalid: %s", id, tag)
		}
	}
	if tag := tagOf(page, "channel-email"); !strings.Contains(tag, `aria-invalid="true"`) || strings.Contains(tag, "checked") {
		t.Errorf("channel boxes: %s", tag)
	}
	if tag := tagOf(page, "discount"); strings.Contains(tag, "aria-invalid") {
		t.Errorf("a right field is marked invalid: %s", tag)
	}
	if !strings.Contains(text(page), "Please check 6 things:") {
		t.Errorf("no summary of the 6 problems:\n%s", text(page))
	}
	for _, kept := range []string{`value="00%, 123"`, `value="a year"`, `value="50,00"`, `value="*/5 * * * *"`, `value="-20 %"`} {
		if !strings.Contains(html.UnescapeString(page), kept) {
			t.Errorf("the form does not keep %s", kept)
		}
	}
	if n := pgtest.Count(t, d.store.DB(), `SELECT count(*) FROM campaigns`); n != 0 {
		t.Fatalf("%d campaigns stored from a wrong form", n)
	}

	// In Finnish (the default), the same problems in Finnish.
	form := url.Values{}
	for k, v := range bad {
		form[k] = v
	}
	form.Set("csrf", csrf)
	resp, page = d.do(t, "POST", "/campaigns", strings.NewReader(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, session)
	if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(page, "name") != "Anna kampanjalle nimi." ||
		fieldError(page, "channels") != "Valitse vähintään yksi kanava." || !strings.Contains(text(page), "Tarkista 6 kohtaa:") {
		t.Errorf("the Finnish form: %d, name %q, channels %q", resp.StatusCode, fieldError(page, "name"), fieldError(page, "channels"))
	}

	// A template that does not exist: refused by the service's check, next to the template field.
	good := url.Values{
		"name": {"Syyskuponki 2026"}, "kind": {"coupon"}, "channels": {"sms", "email"}, "strategy": {"first"}, "template": {"no-such-template"},
		"languages": {"fi", "sv"}, "postal_codes": {"00%, 33100"}, "purchased_within": {"365d"}, "min_total_spend": {"50,00"},
		"discount": {"-20 %"}, "valid_days": {"30"}, "schedule": {"cron"}, "cron": {"0 9 * * MON"},
		"cap_max": {"2"}, "cap_per": {"7d"},
	}
	resp, page = d.post("/campaigns", good, session, csrf)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(fieldError(page, "template"), "The template does not work:") {
		t.Fatalf("unknown template: %d, %q", resp.StatusCode, fieldError(page, "template"))
	}

	// Fixed: stored as a draft, and the browser goes to its page.
	good.Set("template", "")
	resp, _ = d.post("/campaigns", good, session, csrf)
	loc := resp.Header.Get("Location")
	m := regexp.MustCompile(`^/campaigns/([0-9]+)\?done=saved$`).FindStringSubmatch(loc)
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("POST /campaigns: %d to %q", resp.StatusCode, loc)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	cp, err := d.store.Campaign(context.Background(), id)
	pgtest.Must(t, "campaign", err)
	s := cp.Spec
	if cp.Status != campaigns.StatusDraft || s.Name != "Syyskuponki 2026" || s.Template != "coupon" || s.Strategy != campaigns.StrategyFirst ||
		len(s.Channels) != 2 || s.Channels[0] != campaigns.SMS || s.Channels[1] != campaigns.Email ||
		strings.Join(s.Segment.PostalCodes, ",") != "00*,33100" || s.Segment.MinTotalSpend == nil || *s.Segment.MinTotalSpend != 5000 ||
		s.Segment.PurchasedWithin != campaigns.Duration(365*24*time.Hour) || s.Coupon == nil || s.Coupon.ValidDays != 30 ||
		s.Schedule.Cron != "0 9 * * MON" || s.FrequencyCap == nil || s.FrequencyCap.Max != 2 {
		t.Errorf("stored campaign: %+v %+v", cp, s)
	}
	_, page = d.get(loc, session)
	if !strings.Contains(text(page), "The campaign is saved.") || !strings.Contains(page, `href="/campaigns/`+m[1]+`/edit"`) {
		t.Errorf("the campaign page after saving:\n%s", text(page))
	}

	// Editing the draft: the form holds its definition, channels in its order.
	resp, page = d.get("/campaigns/"+m[1]+"/edit", session)
	if resp.StatusCode != 200 || !strings.Contains(page, `value="Syyskuponki 2026"`) || !strings.Contains(page, `value="0 9 * * MON"`) ||
		!strings.Contains(page, `value="50.00"`) || !strings.Contains(page, `action="/campaigns/`+m[1]+`/edit"`) {
		t.Fatalf("edit form: %d\n%s", resp.StatusCode, page)
	}
	if i, j := strings.Index(page, `id="channel-sms"`), strings.Index(page, `id="channel-email"`); i < 0 || j < 0 || i > j {
		t.Errorf("the channels are not in the campaign's order")
	}
	edit := url.Values{}
	for k, v := range good {
		edit[k] = v
	}
	edit.Set("name", "Syyskuponki 2026 (B)")
	edit.Set("kind", "newsletter") // the coupon fields are left as they were: a newsletter has none
	edit.Set("schedule", "at")
	edit.Set("at", "2026-12-01T09:00")
	resp, _ = d.post("/campaigns/"+m[1]+"/edit", edit, session, csrf)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != loc {
		t.Fatalf("POST edit: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cp, err = d.store.Campaign(context.Background(), id)
	pgtest.Must(t, "campaign", err)
	if cp.Name != "Syyskuponki 2026 (B)" || cp.Kind != campaigns.KindNewsletter || cp.Spec.Coupon != nil || cp.Spec.Template != "newsletter" ||
		cp.Spec.Schedule.At != "2026-12-01T09:00" || cp.Spec.Schedule.Cron != "" {
		t.Errorf("edited campaign: %+v %+v", cp, cp.Spec)
	}

	// A campaign no longer a draft cannot be edited; ops may not edit at all.
	d.exec(`UPDATE campaigns SET status = 'finished' WHERE id = $1`, id)
	if resp, page := d.get("/campaigns/"+m[1]+"/edit", session); resp.StatusCode != http.StatusConflict || !strings.Contains(text(page), "Only a draft can be edited") {
		t.Errorf("editing a finished campaign: %d\n%s", resp.StatusCode, text(page))
	}
	if resp, _ := d.post("/campaigns/"+m[1]+"/edit", edit, session, csrf); resp.StatusCode != http.StatusConflict {
		t.Errorf("posting an edit of a finished campaign: %d", resp.StatusCode)
	}
	ops, opsCSRF := d.signIn(t, "olli")
	if resp, _ := d.get("/campaigns/new", ops); resp.StatusCode != http.StatusForbidden {
		t.Errorf("ops GET /campaigns/new: %d", resp.StatusCode)
	}
	if resp, _ := d.post("/campaigns", good, ops, opsCSRF); resp.StatusCode != http.StatusForbidden {
		t.Errorf("ops POST /campaigns: %d", resp.StatusCode)
	}
	if resp, _ := d.post("/campaigns", good, session, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST /campaigns without the CSRF token: %d", resp.StatusCode)
	}
	if n := pgtest.Count(t, d.store.DB(), `SELECT count(*) FROM campaigns`); n != 1 {
		t.Errorf("%d campaigns stored", n)
	}
}

func TestConsoleCampaignActionsConfirmInNumbers(t *testing.T) {
	t.Parallel()
	d := newCampaignDesk(t)
	session, csrf := d.signIn(t, "maija")
	cp := d.campaign(campaigns.Spec{Name: "Kevätale", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS}})
	id := strconv.FormatInt(cp.ID, 10)

	// A running campaign: three messages still queued, one sent.
	d.exec(`UPDATE campaigns SET status = 'running' WHERE id = $1`, cp.ID)
	d.exec(`INSERT INTO runs (id, campaign_id, scheduled_for, status, selected_at) VALUES (41, $1, now(), 'running', now())`, cp.ID)
	for i, ext := range []string{"M1", "M2", "M3"} {
		d.exec(`INSERT INTO deliveries (run_id, member_id, channel, batch, status) VALUES (41, $1, 'email', $2, 'queued')`, d.memberID(ext), i)
	}
	d.exec(`INSERT INTO deliveries (run_id, member_id, channel, batch, status, sent_at) VALUES (41, $1, 'sms', 0, 'sent', now())`, d.memberID("M1"))

	// The campaign page offers what the state allows: pause and cancel, each through a confirmation.
	_, page := d.get("/campaigns/"+id, session)
	for _, want := range []string{`href="/campaigns/` + id + `/confirm?action=pause"`, `href="/campaigns/` + id + `/confirm?action=cancel"`, `href="/campaigns/` + id + `/preview"`} {
		if !strings.Contains(page, want) {
			t.Errorf("campaign page lacks %s", want)
		}
	}
	for _, unwanted := range []string{"action=resume", "action=schedule", "action=again", "/edit\""} {
		if strings.Contains(page, unwanted) {
			t.Errorf("a running campaign's page offers %s", unwanted)
		}
	}

	// Pause: what it does in numbers; its form posts with the CSRF token.
	resp, page := d.get("/campaigns/"+id+"/confirm?action=pause", session)
	if resp.StatusCode != 200 || !strings.Contains(text(page), "Stops sending now; 3 messages still queued wait until you resume.") ||
		!strings.Contains(page, `action="/campaigns/`+id+`/pause"`) || formCSRF(t, page) != csrf {
		t.Fatalf("pause confirmation: %d\n%s", resp.StatusCode, text(page))
	}
	checkPage(t, "the confirmation", page)
	// Ops may look at the campaign but not act: no buttons, and the server refuses.
	ops, opsCSRF := d.signIn(t, "olli")
	resp, page = d.get("/campaigns/"+id, ops)
	if resp.StatusCode != 200 || strings.Contains(page, "confirm?action=") || strings.Contains(page, "/preview") || strings.Contains(page, "/edit") {
		t.Errorf("ops sees actions on the campaign page: %d\n%s", resp.StatusCode, page)
	}
	if resp, _ := d.get("/campaigns/"+id+"/confirm?action=pause", ops); resp.StatusCode != http.StatusForbidden {
		t.Errorf("ops confirmation page: %d", resp.StatusCode)
	}
	for _, a := range []string{"pause", "cancel", "schedule", "resume", "again"} {
		if resp, _ := d.post("/campaigns/"+id+"/"+a, url.Values{}, ops, opsCSRF); resp.StatusCode != http.StatusForbidden {
			t.Errorf("ops POST %s: %d", a, resp.StatusCode)
		}
	}
	// Without the token, refused too.
	if resp, _ := d.post("/campaigns/"+id+"/pause", url.Values{}, session, "wrong"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("pause without the CSRF token: %d", resp.StatusCode)
	}
	if cp, _ := d.store.Campaign(context.Background(), cp.ID); cp.Status != campaigns.StatusRunning {
		t.Fatalf("a refused pause changed the campaign: %s", cp.Status)
	}

	resp, _ = d.post("/campaigns/"+id+"/pause", url.Values{}, session, csrf)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/campaigns/"+id+"?done=pause" {
		t.Fatalf("pause: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = d.get("/campaigns/"+id+"?done=pause", session)
	if !strings.Contains(text(page), "The campaign is paused.") || !strings.Contains(page, "confirm?action=resume") || strings.Contains(page, "confirm?action=pause") {
		t.Errorf("the paused campaign's page:\n%s", text(page))
	}
	// Pausing twice: the confirmation says it cannot be done now, and so does the server.
	if resp, _ := d.get("/campaigns/"+id+"/confirm?action=pause", session); resp.StatusCode != http.StatusConflict {
		t.Errorf("confirming a pause of a paused campaign: %d", resp.StatusCode)
	}
	if resp, _ := d.post("/campaigns/"+id+"/pause", url.Values{}, session, csrf); resp.StatusCode != http.StatusConflict {
		t.Errorf("pausing a paused campaign: %d", resp.StatusCode)
	}

	// Resume, then cancel: the queued messages are named, and that it cannot be undone.
	_, page = d.get("/campaigns/"+id+"/confirm?action=resume", session)
	if !strings.Contains(text(page), "Continues sending: 3 queued messages go out.") {
		t.Errorf("resume confirmation:\n%s", text(page))
	}
	_, page = d.get("/campaigns/"+id+"/confirm?action=cancel", session)
	if !strings.Contains(text(page), "3 queued messages will not be sent.") || !strings.Contains(text(page), "This cannot be undone.") {
		t.Errorf("cancel confirmation:\n%s", text(page))
	}
	resp, _ = d.post("/campaigns/"+id+"/cancel", url.Values{}, session, csrf)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	if n := pgtest.Count(t, d.store.DB(), `SELECT count(*) FROM deliveries WHERE run_id = 41 AND status = 'cancelled'`); n != 3 {
		t.Errorf("%d deliveries cancelled, want 3", n)
	}
	_, page = d.get("/campaigns/"+id, session)
	if strings.Contains(page, "confirm?action=") {
		t.Errorf("a cancelled campaign offers actions")
	}
	if n := pgtest.Count(t, d.store.DB(), `SELECT count(*) FROM audit_log WHERE action IN ('campaigns.pause', 'campaigns.cancel') AND actor = 'maija'`); n != 2 {
		t.Errorf("%d audit entries of maija's pause and cancel", n)
	}
}

func TestConsoleScheduleConfirmsTheAudience(t *testing.T) {
	t.Parallel()
	d := newCampaignDesk(t)
	session, csrf := d.signIn(t, "maija")
	cp := d.campaign(campaigns.Spec{Name: "Joulu", Kind: campaigns.KindNewsletter,
		Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal}})
	id := strconv.FormatInt(cp.ID, 10)

	// The campaign page loads the segment's size after the page (data-load), with a link for
	// browsers without script.
	_, page := d.get("/campaigns/"+id, session)
	if !strings.Contains(page, `data-load="/campaigns/`+id+`/audience"`) || !strings.Contains(text(page), "Counting…") ||
		!strings.Contains(page, `href="/campaigns/`+id+`/audience?page=1"`) {
		t.Errorf("campaign page does not load its audience:\n%s", page)
	}
	resp, frag := d.get("/campaigns/"+id+"/audience", session)
	checkPage(t, "the audience fragment", frag)
	// M1, M2 and M3 may be emailed (M4 has no consent), M1 and M2 texted, and all four get post.
	for _, want := range []string{"email 3, SMS 2, post 4 of 4 members.", "The segment has 4 of the register's 4 members."} {
		if resp.StatusCode != 200 || !strings.Contains(text(frag), want) {
			t.Errorf("audience fragment lacks %q: %d\n%s", want, resp.StatusCode, text(frag))
		}
	}
	if strings.Contains(frag, "<html") || !strings.Contains(frag, "data-final") {
		t.Errorf("the audience fragment is a page, or not final:\n%s", frag)
	}
	if resp, page := d.get("/campaigns/"+id+"/audience?page=1", session); resp.StatusCode != 200 || !strings.Contains(page, "<html") || !strings.Contains(text(page), "email 3, SMS 2, post 4") {
		t.Errorf("audience page: %d", resp.StatusCode)
	}
	ops, _ := d.signIn(t, "olli")
	if _, page := d.get("/campaigns/"+id, ops); strings.Contains(page, "/audience") {
		t.Errorf("ops is offered the audience, which is for marketers")
	}

	// Scheduling says what it will send, in numbers, then schedules.
	resp, page = d.get("/campaigns/"+id+"/confirm?action=schedule", session)
	checkPage(t, "the schedule confirmation", page)
	for _, want := range []string{"Sends 9 messages now: email 3, SMS 2, post 4.", "The segment has 4 of the register's 4 members.", "Left out: email: no consent 1"} {
		if resp.StatusCode != 200 || !strings.Contains(text(page), want) {
			t.Errorf("schedule confirmation lacks %q: %d\n%s", want, resp.StatusCode, text(page))
		}
	}
	// A time that is not one comes back next to its field.
	resp, page = d.post("/campaigns/"+id+"/schedule", url.Values{"when": {"at"}, "at": {"tomorrow"}}, session, csrf)
	if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(page, "at") != `"tomorrow" is not a date and time like 2026-12-01T09:00.` ||
		!strings.Contains(tagOf(page, "at"), `aria-invalid="true"`) || !strings.Contains(tagOf(page, "when-at"), "checked") {
		t.Errorf("schedule at a wrong time: %d %q", resp.StatusCode, fieldError(page, "at"))
	}
	at := time.Now().Add(48 * time.Hour).Truncate(time.Minute)
	resp, _ = d.post("/campaigns/"+id+"/schedule", url.Values{"when": {"at"}, "at": {at.Format(time.RFC3339)}}, session, csrf)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/campaigns/"+id+"?done=schedule" {
		t.Fatalf("schedule: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	got, err := d.store.Campaign(context.Background(), cp.ID)
	pgtest.Must(t, "campaign", err)
	if got.Status != campaigns.StatusScheduled || got.NextRunAt == nil || !got.NextRunAt.Equal(at) {
		t.Errorf("scheduled campaign: %s at %v, want %v", got.Status, got.NextRunAt, at)
	}

	// A finished campaign is sent again only through its own confirmation, which warns.
	d.finishedRun(cp, 12)
	_, page = d.get("/campaigns/"+id, session)
	if !strings.Contains(page, "confirm?action=again") || strings.Contains(page, "confirm?action=schedule") {
		t.Errorf("a finished campaign's actions:\n%s", page)
	}
	_, page = d.get("/campaigns/"+id+"/confirm?action=again", session)
	if !strings.Contains(text(page), "It was sent before: earlier runs sent 5 messages. Members who got it get it again.") {
		t.Errorf("send-again confirmation:\n%s", text(page))
	}
	if resp, _ := d.post("/campaigns/"+id+"/schedule", url.Values{"when": {"now"}}, session, csrf); resp.StatusCode != http.StatusConflict {
		t.Errorf("scheduling a finished campaign without again: %d", resp.StatusCode)
	}
	resp, _ = d.post("/campaigns/"+id+"/again", url.Values{"when": {"now"}}, session, csrf)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send again: %d", resp.StatusCode)
	}
	if n := pgtest.Count(t, d.store.DB(), `SELECT count(*) FROM audit_log WHERE action = 'campaigns.schedule' AND details->>'again' = 'true'`); n != 1 {
		t.Errorf("%d audit entries of a send-again", n)
	}
}

func TestConsolePreview(t *testing.T) {
	t.Parallel()
	d := newCampaignDesk(t)
	session, csrf := d.signIn(t, "maija")
	cp := d.campaign(campaigns.Spec{Name: "Syyskuponki", Kind: campaigns.KindCoupon, Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal},
		Coupon: &campaigns.CouponSpec{Discount: "-20 %", ValidDays: 30}})
	id := strconv.FormatInt(cp.ID, 10)

	// The campaign page links to previews per channel and language.
	_, page := d.get("/campaigns/"+id, session)
	if !strings.Contains(page, `href="/campaigns/`+id+`/preview?channel=sms&amp;lang=sv"`) {
		t.Errorf("campaign page lacks the preview links:\n%s", page)
	}

	// Email: subject, the HTML in a sandboxed frame, and the text part.
	resp, page := d.get("/campaigns/"+id+"/preview?channel=email&lang=fi", session)
	if resp.StatusCode != 200 {
		t.Fatalf("email preview: %d\n%s", resp.StatusCode, page)
	}
	checkSecurityHeaders(t, "preview page", resp, false)
	checkPage(t, "the preview page", page)
	frame := regexp.MustCompile(`<iframe class="preview" sandbox src="([^"]+)"`).FindStringSubmatch(page)
	if frame == nil {
		t.Fatalf("no sandboxed frame:\n%s", page)
	}
	if !strings.Contains(text(page), "Subject") || !strings.Contains(text(page), "Text part") || !strings.Contains(page, "TEST-CODE-XXXX") {
		t.Errorf("email preview lacks subject, text part or placeholder code:\n%s", text(page))
	}
	resp, body := d.get(html.UnescapeString(frame[1]), session)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "TEST-CODE-XXXX") {
		t.Fatalf("email frame: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "img-src https: data:", "style-src 'unsafe-inline'", "frame-ancestors 'self'", "sandbox"} {
		if !strings.Contains(csp, want) {
			t.Errorf("email frame's policy %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "script-src") || len(resp.Header.Values("Content-Security-Policy")) != 1 {
		t.Errorf("email frame's policies: %q", resp.Header.Values("Content-Security-Policy"))
	}
	if xfo := resp.Header.Get("X-Frame-Options"); xfo != "SAMEORIGIN" {
		t.Errorf("email frame's X-Frame-Options %q", xfo)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("email frame without nosniff")
	}

	// SMS: the text with its encoding, characters and segments.
	_, page = d.get("/campaigns/"+id+"/preview?channel=sms&lang=sv", session)
	if !regexp.MustCompile(`(GSM-7|UCS-2|gsm7|ucs2)[^,]*, [0-9]+ characters, (one segment|[0-9]+ segments)`).MatchString(text(page)) {
		t.Errorf("SMS preview lacks encoding and segments:\n%s", text(page))
	}

	// The letter: its PDF, inline, framed by the page only.
	_, page = d.get("/campaigns/"+id+"/preview?channel=postal&lang=en", session)
	pdfURL := regexp.MustCompile(`<object class="preview letter" data="([^"]+)" type="application/pdf"`).FindStringSubmatch(page)
	if pdfURL == nil || !strings.Contains(page, "Download the letter (PDF)") {
		t.Fatalf("letter preview lacks the PDF:\n%s", page)
	}
	resp, body = d.get(html.UnescapeString(pdfURL[1]), session)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline") || resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Errorf("letter: %d %q %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body[:min(len(body), 8)])
	}
	if resp, _ := d.get(html.UnescapeString(pdfURL[1])+"&download=1", session); !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("letter download: %q", resp.Header.Get("Content-Disposition"))
	}

	// One member's preview: whether they would get it; no address for a marketer; audited.
	_, page = d.get("/campaigns/"+id+"/preview?channel=sms&member=M3", session)
	if !strings.Contains(text(page), "This member would not get it on this channel now: no address.") && !strings.Contains(text(page), "This member would not get it on this channel now: no consent.") {
		t.Errorf("M3's SMS preview:\n%s", text(page))
	}
	_, page = d.get("/campaigns/"+id+"/preview?channel=email&member=M1", session)
	if !strings.Contains(text(page), "This member would get it on this channel now.") || strings.Contains(page, "vaino@example.com") {
		t.Errorf("M1's email preview for a marketer:\n%s", text(page))
	}
	if _, page = d.get("/campaigns/"+id+"/preview?channel=email&member=NOPE", session); !strings.Contains(text(page), "There is no member NOPE.") {
		t.Errorf("unknown member:\n%s", text(page))
	}

	// A test send: a wrong address comes back next to its field; a right one is sent, and the page
	// says so without the address in its URL.
	resp, page = d.post("/campaigns/"+id+"/testsend", url.Values{"channel": {"sms"}, "to": {"09 123 4567"}, "lang": {"fi"}}, session, csrf)
	if resp.StatusCode != http.StatusUnprocessableEntity || fieldError(page, "ts-to") != "This number cannot take an SMS (a landline or service number)." ||
		!strings.Contains(tagOf(page, "ts-to"), `aria-invalid="true"`) || !strings.Contains(page, `value="09 123 4567"`) {
		t.Errorf("test send to a landline: %d %q", resp.StatusCode, fieldError(page, "ts-to"))
	}
	resp, _ = d.post("/campaigns/"+id+"/testsend", url.Values{"channel": {"email"}, "to": {"maija@example.com"}, "lang": {"sv"}}, session, csrf)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || strings.Contains(loc, "maija") || !strings.Contains(loc, "sent=email") {
		t.Fatalf("test send: %d to %q", resp.StatusCode, loc)
	}
	if sent := d.outbox.messages(); len(sent) != 1 || sent[0].To != "maija@example.com" || sent[0].Channel != campaigns.Email {
		t.Errorf("test messages sent: %+v", sent)
	}
	if _, page = d.get(loc, session); !strings.Contains(text(page), "The test email was sent.") {
		t.Errorf("no notice of the test send:\n%s", text(page))
	}

	// A privacy officer may preview for a member, and sees the address; the campaign itself is not
	// theirs to read, so the page offers every channel, and no test send.
	pia, _ := d.signIn(t, "pia")
	resp, page = d.get("/campaigns/"+id+"/preview?channel=email&member=M1", pia)
	if resp.StatusCode != 200 || !strings.Contains(text(page), "To vaino@example.com") || strings.Contains(page, "testsend") {
		t.Errorf("privacy officer's preview: %d\n%s", resp.StatusCode, text(page))
	}
	checkPage(t, "the privacy officer's preview", page)
	if n := pgtest.Count(t, d.store.DB(), `SELECT count(*) FROM audit_log WHERE action = 'campaigns.preview' AND actor = 'pia' AND member_id = $1`, d.memberID("M1")); n < 1 {
		t.Errorf("the privacy officer's preview of M1 is not audited")
	}

	// Ops may not preview.
	ops, _ := d.signIn(t, "olli")
	if resp, _ := d.get("/campaigns/"+id+"/preview", ops); resp.StatusCode != http.StatusForbidden {
		t.Errorf("ops preview: %d", resp.StatusCode)
	}
	if resp, _ := d.get("/campaigns/"+id+"/preview/letter.pdf?lang=fi", ops); resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") == "application/pdf" {
		t.Errorf("ops letter: %d", resp.StatusCode)
	}
}

// finishedRun records a finished run of the campaign (an email and SMS coupon campaign) by hand:
// by email 3 sent (to M1, M2, M3 at 38, 37 and 20 minutes ago) and 1 failed (M4: "550 mailbox
// unavailable"); by SMS 2 sent (M1, M2) and 1 skipped (M3, no consent). M2 then unsubscribed by
// the email's link, M1 replied STOP; coupons went to M1 and M2 by email (M1's redeemed) and to M1
// by SMS.
func (d *campaignDesk) finishedRun(cp campaigns.Campaign, runID int64) {
	d.t.Helper()
	m1, m2, m3, m4 := d.memberID("M1"), d.memberID("M2"), d.memberID("M3"), d.memberID("M4")
	del := func(k int64) int64 { return runID*100 + k } // the run's delivery ids
	d.exec(`UPDATE campaigns SET status = 'finished' WHERE id = $1`, cp.ID)
	d.exec(`INSERT INTO runs (id, campaign_id, scheduled_for, status, started_at, selected_at, finished_at)
		VALUES ($1, $2, now() - interval '40 minutes', 'finished', now() - interval '40 minutes', now() - interval '40 minutes', now() - interval '5 minutes')`, runID, cp.ID)
	const sent = `INSERT INTO deliveries (id, run_id, member_id, channel, batch, status, sent_at) VALUES ($1, $2, $3, $4, 0, 'sent', now() - $5::interval)`
	d.exec(sent, del(1), runID, m1, "email", "38 minutes")
	d.exec(sent, del(2), runID, m2, "email", "37 minutes")
	d.exec(sent, del(3), runID, m3, "email", "20 minutes")
	d.exec(sent, del(5), runID, m1, "sms", "36 minutes")
	d.exec(sent, del(6), runID, m2, "sms", "36 minutes")
	const other = `INSERT INTO deliveries (id, run_id, member_id, channel, batch, status, reason) VALUES ($1, $2, $3, $4, 0, $5, $6)`
	d.exec(other, del(4), runID, m4, "email", "failed", "550 mailbox unavailable")
	d.exec(other, del(7), runID, m3, "sms", "skipped", "no_consent")
	const withdrawn = `INSERT INTO consent_events (member_id, channel, status, source, recorded_at) VALUES ($1, $2, 'withdrawn', $3, now() - interval '30 minutes')`
	d.exec(withdrawn, m2, "email", "unsubscribe-link")
	d.exec(withdrawn, m1, "sms", "sms-stop")
	const coupon = `INSERT INTO coupons (id, code, campaign_id, run_id, member_id, channel, delivery_id, valid_until) VALUES ($1, $2, $3, $4, $5, $6, $7, now() + interval '30 days')`
	for i, c := range []struct {
		member   int64
		channel  string
		delivery int64
	}{{m1, "email", del(1)}, {m2, "email", del(2)}, {m1, "sms", del(5)}} {
		d.exec(coupon, runID*10+int64(i), fmt.Sprintf("R%dC%d", runID, i), cp.ID, runID, c.member, c.channel, c.delivery)
	}
	d.exec(`INSERT INTO coupon_redemptions (coupon_id, store) VALUES ($1, 'Helsinki Kamppi')`, runID*10)
}

func TestConsoleRunResults(t *testing.T) {
	t.Parallel()
	d := newCampaignDesk(t)
	session, _ := d.signIn(t, "olli") // ops may read results
	cp := d.campaign(campaigns.Spec{Name: "Syyskuponki", Kind: campaigns.KindCoupon, Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS},
		Coupon: &campaigns.CouponSpec{Discount: "-20 %", ValidDays: 30}})
	d.finishedRun(cp, 77)
	id := strconv.FormatInt(cp.ID, 10)

	// The campaign page's run history links to the results.
	if _, page := d.get("/campaigns/"+id, session); !strings.Contains(page, `href="/campaigns/`+id+`/runs/77"`) {
		t.Errorf("campaign page lacks the results link")
	}
	resp, page := d.get("/campaigns/"+id+"/runs/77", session)
	if resp.StatusCode != 200 {
		t.Fatalf("results: %d\n%s", resp.StatusCode, page)
	}
	checkSecurityHeaders(t, "results page", resp, false)
	checkPage(t, "the results page", page)
	row := func(ch string) string {
		m := regexp.MustCompile(`(?s)<tr class="ch-` + ch + `">(.*?)</tr>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no %s row:\n%s", ch, page)
		}
		return text(m[1])
	}
	// Channel, recipients, sent, failed, skipped, cancelled, queued, opted out, coupons issued, redeemed.
	if got, want := row("email"), "email 4 3 1 0 0 0 1 unsubscribed 2 1 (50.0 %)"; got != want {
		t.Errorf("email row %q, want %q", got, want)
	}
	if got, want := row("sms"), "SMS 3 2 0 1 0 0 1 replied STOP 1 0 (0.0 %)"; got != want {
		t.Errorf("SMS row %q, want %q", got, want)
	}
	body := text(page)
	for _, want := range []string{"Results of run 77", "550 mailbox unavailable 1", "no consent 1", "finished"} {
		if !strings.Contains(body, want) {
			t.Errorf("results page lacks %q:\n%s", want, body)
		}
	}
	// The chart: bars per channel in an SVG with axes, a legend and its figures as a table.
	if !strings.Contains(page, `<svg class="chart"`) || strings.Count(page, `<rect class="s-email"`) < 3 || !strings.Contains(page, `<rect class="s-sms"`) ||
		!strings.Contains(page, `class="legend"`) || !strings.Contains(page, `<text class="ylabel"`) {
		t.Errorf("results page lacks its chart:\n%s", page)
	}
	if !regexp.MustCompile(`text-anchor="middle">[0-9]{2}:[0-9]{2}</text>`).MatchString(page) {
		t.Errorf("the time axis has no times:\n%s", page)
	}
	// A finished run's figures do not refresh.
	if strings.Contains(page, "data-live=") || !strings.Contains(page, "data-final") {
		t.Errorf("a finished run's results refresh")
	}
	// The figures alone, for console.js: final, since the run has finished.
	resp, frag := d.get("/campaigns/"+id+"/runs/77/live", session)
	if resp.StatusCode != 200 || strings.Contains(frag, "<html") || !strings.Contains(frag, "data-final") || !strings.Contains(frag, `<tr class="ch-email">`) {
		t.Errorf("results fragment: %d\n%s", resp.StatusCode, frag)
	}
	// A run of another campaign is not found.
	other := d.campaign(campaigns.Spec{Name: "Other", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.Email}})
	if resp, _ := d.get("/campaigns/"+strconv.FormatInt(other.ID, 10)+"/runs/77", session); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another campaign's run: %d", resp.StatusCode)
	}
}

// In a real browser: the form shows its problems next to the fields and keeps the values; fixed,
// the campaign's page; its preview frames the email; the results chart draws. Screenshots go to
// $DISPATCH_SCREENSHOTS.
func TestConsoleCampaignPagesInBrowser(t *testing.T) {
	t.Parallel()
	d := newCampaignDesk(t)
	ctx := browsertest.New(t)
	browsertest.SignIn(t, ctx, d.hs.URL, "maija", d.tokens["maija"], "en")

	browsertest.Open(t, ctx, d.hs.URL+"/campaigns/new")
	browsertest.Fill(t, ctx, "#postal_codes", "00%, 123")
	browsertest.Fill(t, ctx, "#valid_days", "400")
	browsertest.Check(t, ctx, "#channel-email", false)
	if status := browsertest.ClickNav(t, ctx, `form.campaign-form button[type=submit]`); status != http.StatusUnprocessableEntity {
		t.Fatalf("submitting the wrong form: HTTP %d", status)
	}
	for css, want := range map[string]string{
		"#name-error":         "Give the campaign a name.",
		"#channels-error":     "Choose at least one channel.",
		"#postal_codes-error": `"123" is not a postal code (00100) or a prefix (00*).`,
		"#valid_days-error":   "400: a coupon is valid for 1 to 366 days.",
	} {
		if got := browsertest.Text(t, ctx, css); got != want {
			t.Errorf("%s shows %q, want %q", css, got, want)
		}
	}
	if v := browsertest.Value(t, ctx, "#postal_codes"); v != "00%, 123" {
		t.Errorf("postal codes kept as %q", v)
	}
	browsertest.Screenshot(t, ctx, "campaign-form-errors")

	browsertest.Fill(t, ctx, "#name", "Syyskuponki 2026")
	browsertest.Check(t, ctx, "#channel-email", true)
	browsertest.Check(t, ctx, "#channel-postal", true)
	browsertest.Fill(t, ctx, "#postal_codes", "00*, 33100")
	browsertest.Fill(t, ctx, "#valid_days", "30")
	browsertest.Fill(t, ctx, "#discount", "-20 %")
	if status := browsertest.ClickNav(t, ctx, `form.campaign-form button[type=submit]`); status != 200 {
		t.Fatalf("submitting the fixed form: HTTP %d", status)
	}
	if got := browsertest.Text(t, ctx, "h1"); got != "Syyskuponki 2026" {
		t.Errorf("after saving, the page's heading is %q", got)
	}
	browsertest.WaitText(t, ctx, "main .notice", "The campaign is saved.", 5*time.Second)
	// The segment's size arrives after the page (console.js fills data-load).
	browsertest.WaitText(t, ctx, ".audience-summary", "email 3, post 3 of 4 members.", 5*time.Second)
	browsertest.Screenshot(t, ctx, "campaign-page")

	path := browsertest.PathOf(t, ctx)
	id := strings.TrimPrefix(strings.SplitN(path, "?", 2)[0], "/campaigns/")
	if status := browsertest.ClickNav(t, ctx, `a[href="/campaigns/`+id+`/confirm?action=schedule"]`); status != 200 {
		t.Fatalf("the schedule button: HTTP %d", status)
	}
	if got := browsertest.Text(t, ctx, ".confirm-summary"); got != "Sends 6 messages now: email 3, post 3." {
		t.Errorf("the schedule confirmation says %q", got)
	}
	browsertest.Screenshot(t, ctx, "campaign-confirm-schedule")
	browsertest.Open(t, ctx, d.hs.URL+"/campaigns/"+id+"/preview?channel=email&lang=fi")
	if n := browsertest.Count(t, ctx, "iframe.preview[sandbox]"); n != 1 {
		t.Errorf("%d sandboxed frames on the preview", n)
	}
	browsertest.Screenshot(t, ctx, "campaign-preview-email")
	browsertest.Open(t, ctx, d.hs.URL+"/campaigns/"+id+"/preview?channel=postal&lang=sv")
	browsertest.Screenshot(t, ctx, "campaign-preview-letter")

	res := d.campaign(campaigns.Spec{Name: "Kevätkuponki", Kind: campaigns.KindCoupon, Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS},
		Coupon: &campaigns.CouponSpec{Discount: "-15 %", ValidDays: 14}})
	d.finishedRun(res, 5)
	browsertest.Open(t, ctx, fmt.Sprintf("%s/campaigns/%d/runs/5", d.hs.URL, res.ID))
	if n := browsertest.Count(t, ctx, "svg.chart rect.s-email"); n < 2 {
		t.Errorf("the chart draws %d email bars", n)
	}
	browsertest.Screenshot(t, ctx, "campaign-results")

	browsertest.Resize(t, ctx, 390, 844)
	browsertest.Open(t, ctx, d.hs.URL+"/campaigns/"+id+"/edit")
	browsertest.Screenshot(t, ctx, "campaign-form-phone")
}
