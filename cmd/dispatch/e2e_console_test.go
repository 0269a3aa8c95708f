package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/internal/browsertest"
)

// The console, driven in a headless Chromium (internal/browsertest): what each role sees and does,
// as the pages show it. Each test takes screenshots of the pages it visits; `make screenshots`
// writes them into docs/console.

// consoleUser adds a user of the role and returns its token.
func (s *system) consoleUser(name, role string) string {
	s.t.Helper()
	return strings.TrimSpace(s.must("users", "add", name, "--role", role))
}

// signedIn opens a tab signed in as the user, the console in lang ("" for the default, Finnish).
func (s *system) signedIn(name, token, lang string) context.Context {
	s.t.Helper()
	ctx := browsertest.New(s.t)
	browsertest.SignIn(s.t, ctx, s.staff, name, token, lang)
	return ctx
}

// navLinks are the texts of the console's navigation links.
func navLinks(t *testing.T, ctx context.Context) string {
	t.Helper()
	return strings.Join(browsertest.Texts(t, ctx, "header nav a"), ",")
}

// tiles are the titles of the home page's tiles.
func tiles(t *testing.T, ctx context.Context) string {
	t.Helper()
	return strings.Join(browsertest.Texts(t, ctx, "ul.tiles li a strong"), ",")
}

func TestConsoleSignInAndRoles(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	admin := s.consoleUser("aada", "admin")
	marketer := s.consoleUser("maija", "marketer")
	privacy := s.consoleUser("pirjo", "privacy")
	ops := s.consoleUser("olli", "ops")
	s.serve()

	// A wrong token: the form says so and keeps the name; nobody is signed in.
	ctx := browsertest.New(t)
	browsertest.Open(t, ctx, s.staff+"/lang?to=en&next=/login")
	if h := browsertest.Text(t, ctx, "h1"); h != "Sign in" {
		t.Fatalf("sign-in page title %q", h)
	}
	browsertest.Screenshot(t, ctx, "login")
	browsertest.Fill(t, ctx, "#name", "maija")
	browsertest.Fill(t, ctx, "#token", marketer+"x")
	if code := browsertest.ClickNav(t, ctx, `form[action="/login"] button[type=submit]`); code != 401 {
		t.Fatalf("a wrong token answered %d, want 401", code)
	}
	if msg := browsertest.Text(t, ctx, `.error[role=alert]`); msg != "Unknown user name or token." {
		t.Fatalf("wrong token: error %q", msg)
	}
	if v := browsertest.Value(t, ctx, "#name"); v != "maija" {
		t.Fatalf("the form forgot the name: %q", v)
	}
	if browsertest.Exists(t, ctx, "header nav") {
		t.Fatal("a wrong token shows the navigation of a signed-in user")
	}
	browsertest.Screenshot(t, ctx, "login-error")

	// Each role's home page shows its parts of the console, in the tiles and the navigation.
	for _, c := range []struct {
		name, token, role, tiles, nav string
	}{
		{"aada", admin, "admin", "Campaigns,Members,Audit log,Users,Queues,Health", "Home,Campaigns,Members,Audit log,Users,Queues"},
		{"maija", marketer, "marketer", "Campaigns", "Home,Campaigns"},
		{"pirjo", privacy, "privacy officer", "Members,Audit log", "Home,Members,Audit log"},
		{"olli", ops, "operator", "Campaigns,Queues,Health", "Home,Campaigns,Queues"},
	} {
		browsertest.SignIn(t, ctx, s.staff, c.name, c.token, "en")
		if p := browsertest.PathOf(t, ctx); p != "/" {
			t.Fatalf("%s: signed in to %s, want /", c.name, p)
		}
		if h := browsertest.Text(t, ctx, "main h1"); h != "Welcome, "+c.name {
			t.Fatalf("%s: home says %q", c.name, h)
		}
		if got := tiles(t, ctx); got != c.tiles {
			t.Fatalf("%s (%s): tiles %q, want %q", c.name, c.role, got, c.tiles)
		}
		if got := navLinks(t, ctx); got != c.nav {
			t.Fatalf("%s (%s): navigation %q, want %q", c.name, c.role, got, c.nav)
		}
		if who := browsertest.Text(t, ctx, "header .who"); who != "Signed in as "+c.name+" ("+c.role+")" {
			t.Fatalf("%s: %q", c.name, who)
		}
		if c.name == "aada" {
			browsertest.Screenshot(t, ctx, "home")
		}
		if c.name == "maija" {
			// A marketer reaches no member data: no link, and the pages answer 403.
			for _, p := range []string{"/members", "/members/A1", "/audit", "/users"} {
				if code := browsertest.Open(t, ctx, s.staff+p); code != 403 {
					t.Fatalf("a marketer opened %s: %d", p, code)
				}
				if h := browsertest.Text(t, ctx, "main h1"); h != "Not for your role" {
					t.Fatalf("%s for a marketer says %q", p, h)
				}
				if txt := browsertest.Text(t, ctx, "main p"); !strings.Contains(txt, "You are signed in as maija (marketer)") {
					t.Fatalf("%s for a marketer says %q", p, txt)
				}
			}
			browsertest.Screenshot(t, ctx, "forbidden")
			browsertest.Open(t, ctx, s.staff+"/")
		}
		// Signing out ends the session: the console sends the browser to the sign-in page.
		browsertest.ClickNav(t, ctx, `form[action="/logout"] button`)
		if p := browsertest.PathOf(t, ctx); p != "/login" {
			t.Fatalf("signed out to %s", p)
		}
		browsertest.Open(t, ctx, s.staff+"/")
		if p := browsertest.PathOf(t, ctx); !strings.HasPrefix(p, "/login") {
			t.Fatalf("after signing out, / went to %s", p)
		}
	}
}

// consoleMembers are members with known names for the console's tests, all in Helsinki (00*) but
// Åsa (Espoo): email, SMS and post in different mixes.
const consoleMembers = memberHeader +
	"C1,Aino,Laine,aino@example.com,040 111 2222,Koulukatu 1,00100,HELSINKI,FI,fi,yes,yes,no,,\n" +
	"C2,Eino,Mäki,eino@example.com,,Rantatie 3,00200,HELSINKI,FI,fi,yes,,no,,\n" +
	"C3,Liisa,Virtanen,,050 333 4444,Mannerheimintie 6,00500,HELSINKI,FI,fi,,yes,no,,\n" +
	"C4,Olli,Objector,olli@example.com,,Katu 4,00100,HELSINKI,FI,fi,yes,,yes,,\n" +
	"C5,John,Smith,john@example.com,040 555 6666,Bulevardi 5,00120,HELSINKI,FI,en,yes,yes,no,,\n" +
	"C6,Åsa,Öhman,asa@example.com,,Strandvägen 2,02100,ESPOO,FI,sv,yes,,no,,\n"

// figure reads the number after label in a text ("sent 1,234" → 1234); -1 when it is not there.
func figure(text, label string) int {
	m := regexp.MustCompile(regexp.QuoteMeta(label) + `\s+([0-9][0-9,\s]*)`).FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	n, err := strconv.Atoi(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, m[1]))
	if err != nil {
		return -1
	}
	return n
}

func TestConsoleCampaignFromFormToResults(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.env["DISPATCH_PRINT_DIR"] = t.TempDir()
	s.env["DISPATCH_SMS_QUIET_HOURS"] = "off" // the test runs at any hour
	marketer := s.consoleUser("maija", "marketer")
	s.must("members", "import", writeFile(t, "members.csv", consoleMembers))
	s.must("seed", "--members", "120", "--seed", "7")
	older := s.campaign(strings.Replace(couponCampaign, "Joulukuponki", "Syyskuponki", 1))
	s.serve()
	ctx := s.signedIn("maija", marketer, "en")

	// The list: the campaign there is, and the way to a new one.
	browsertest.Open(t, ctx, s.staff+"/campaigns")
	if h := browsertest.Text(t, ctx, "main h1"); h != "Campaigns" {
		t.Fatalf("campaign list titled %q", h)
	}
	if row := browsertest.Text(t, ctx, "table.list tbody tr"); !strings.Contains(row, "Syyskuponki") || !strings.Contains(row, "draft") || !strings.Contains(row, "#"+older) {
		t.Fatalf("campaign list row %q", row)
	}

	// The form: no channel and a bad postal code are both said, each next to its field, and what
	// was typed is kept.
	if code := browsertest.ClickNav(t, ctx, `a.button[href="/campaigns/new"]`); code != 200 {
		t.Fatalf("new campaign form: %d", code)
	}
	browsertest.Fill(t, ctx, "#name", "Joulukuponki 2026")
	browsertest.Check(t, ctx, "#kind-coupon", true)
	browsertest.Check(t, ctx, "#channel-email", false)
	browsertest.Fill(t, ctx, "#postal_codes", "123")
	browsertest.Fill(t, ctx, "#discount", "-20 %")
	browsertest.Fill(t, ctx, "#valid_days", "30")
	if code := browsertest.ClickNav(t, ctx, "form.campaign-form button[type=submit]"); code != 422 {
		t.Fatalf("a form without channels answered %d, want 422", code)
	}
	if msg := browsertest.Text(t, ctx, "#channels-error"); msg != "Choose at least one channel." {
		t.Errorf("channels error %q, want %q", msg, "Choose at least one channel.")
	}
	if msg := browsertest.Text(t, ctx, "#postal_codes-error"); !strings.Contains(msg, `"123" is not a postal code`) {
		t.Fatalf("postal code error %q", msg)
	}
	// Next to its field: the message follows the input, which points at it.
	if next := browsertest.Eval[string](t, ctx, `(() => { let e = document.getElementById("postal_codes").nextElementSibling; return e ? e.id : ""; })()`); next != "postal_codes-error" {
		t.Fatalf("the postal code's error is not next to it (next: %q)", next)
	}
	if a := browsertest.Attr(t, ctx, "#postal_codes", "aria-invalid"); a != "true" {
		t.Fatalf("postal code aria-invalid=%q", a)
	}
	if !strings.Contains(browsertest.Attr(t, ctx, "#postal_codes", "aria-describedby"), "postal_codes-error") {
		t.Fatal("the postal code field does not point at its error")
	}
	if sum := browsertest.Text(t, ctx, "#form-errors"); !strings.Contains(sum, "Please check 2 things") {
		t.Fatalf("error summary %q", sum)
	}
	if v := browsertest.Value(t, ctx, "#name"); v != "Joulukuponki 2026" {
		t.Fatalf("the form lost the name: %q", v)
	}
	if v := browsertest.Value(t, ctx, "#postal_codes"); v != "123" {
		t.Fatalf("the form lost the postal code typed: %q", v)
	}
	browsertest.Screenshot(t, ctx, "campaign-form-errors")

	browsertest.Check(t, ctx, "#channel-email", true)
	browsertest.Check(t, ctx, "#channel-sms", true)
	browsertest.Check(t, ctx, "#channel-postal", true)
	browsertest.Fill(t, ctx, "#postal_codes", "00*")
	if code := browsertest.ClickNav(t, ctx, "form.campaign-form button[type=submit]"); code != 200 {
		t.Fatalf("saving the fixed form answered %d: %s", code, browsertest.Text(t, ctx, "main"))
	}
	m := regexp.MustCompile(`^/campaigns/([0-9]+)`).FindStringSubmatch(browsertest.PathOf(t, ctx))
	if m == nil {
		t.Fatalf("saved to %s, not a campaign's page", browsertest.PathOf(t, ctx))
	}
	id := m[1]
	if h := browsertest.Text(t, ctx, "main h1"); h != "Joulukuponki 2026" {
		t.Fatalf("campaign page titled %q", h)
	}
	if st := browsertest.Text(t, ctx, ".titlebar .status"); st != "draft" {
		t.Fatalf("a new campaign is %q", st)
	}
	def := browsertest.Text(t, ctx, "dl.def")
	for _, want := range []string{"coupon offer", "email, SMS, post", "postal codes 00*", "-20 %, valid 30 days"} {
		if !strings.Contains(def, want) {
			t.Fatalf("definition lacks %q: %s", want, def)
		}
	}
	if msg := browsertest.Text(t, ctx, "main"); !strings.Contains(msg, "The campaign is saved.") {
		t.Errorf("the campaign's page does not say it was saved")
	}

	// Who it reaches, per channel: the page fills it in by itself.
	aud := browsertest.WaitText(t, ctx, ".audience", "Reached", 15*time.Second)
	reached := map[string]int{}
	for _, ch := range []string{"email", "sms", "postal"} {
		n, err := strconv.Atoi(strings.ReplaceAll(browsertest.Text(t, ctx, ".audience tr.ch-"+ch+" td.num"), ",", ""))
		if err != nil || n <= 0 {
			t.Fatalf("audience of %s: %v (%s)", ch, err, aud)
		}
		reached[ch] = n
	}
	// The same as the register says: members of the segment whom each channel may reach.
	db := s.dbHandle()
	for ch, n := range reached {
		if want := pgtest.Count(t, db, `SELECT count(*) FROM member_reach r JOIN members m ON m.id = r.member_id
			WHERE r.channel = $1 AND r.reason IS NULL AND m.postal_code LIKE '00%'`, ch); n != want {
			t.Errorf("the page says %s reaches %d, the register %d", ch, n, want)
		}
	}
	browsertest.Screenshot(t, ctx, "campaign")

	// Previews of each channel, from the campaign's page.
	campaignURL := browsertest.Location(t, ctx)
	browsertest.ClickNav(t, ctx, `ul.preview-links a[href$="channel=email&lang=fi"]`)
	if h := browsertest.Text(t, ctx, "section.preview h2"); !strings.Contains(h, "email") || !strings.Contains(h, "Sample member, in Finnish") {
		t.Fatalf("email preview titled %q", h)
	}
	if subj := browsertest.Text(t, ctx, "dd.subject"); subj == "" {
		t.Fatal("the email preview has no subject")
	}
	if txt := browsertest.Text(t, ctx, "pre.text"); !strings.Contains(txt, "-20 %") {
		t.Fatalf("the email's text part lacks the offer: %q", txt)
	}
	frame := browsertest.Attr(t, ctx, "iframe.preview", "src")
	if r := browsertest.Fetch(t, ctx, frame); r.Status != 200 || !strings.HasPrefix(r.ContentType, "text/html") || !strings.Contains(r.Body, "-20 %") {
		t.Fatalf("the email frame %s: %d %q", frame, r.Status, r.ContentType)
	}
	if h := browsertest.Eval[int](t, ctx, `document.querySelector("iframe.preview").getBoundingClientRect().height`); h < 200 {
		t.Fatalf("the email frame is %d px high", h)
	}
	browsertest.Screenshot(t, ctx, "campaign-preview-email")
	// For a member named by id: in their language, and whether they would get it.
	browsertest.Fill(t, ctx, "#p-member", "C5")
	browsertest.ClickNav(t, ctx, "form.preview-choice button[type=submit]")
	if h := browsertest.Text(t, ctx, "section.preview h2"); !strings.Contains(h, "Member C5, in English") {
		t.Fatalf("member preview titled %q", h)
	}
	if n := browsertest.Text(t, ctx, "section.preview .notice"); n != "This member would get it on this channel now." {
		t.Fatalf("member preview: %q", n)
	}

	browsertest.Open(t, ctx, campaignURL)
	browsertest.ClickNav(t, ctx, `ul.preview-links a[href$="channel=sms&lang=fi"]`)
	sms := browsertest.Eval[string](t, ctx, `document.querySelector("pre.text.sms").textContent`)
	length := browsertest.Text(t, ctx, "p.sms-length")
	m = regexp.MustCompile(`^(GSM-7|UCS-2), ([0-9]+) characters, (one segment|[0-9]+ segments)$`).FindStringSubmatch(length)
	if m == nil || m[2] != strconv.Itoa(len([]rune(sms))) || m[3] == "0 segments" || m[3] == "1 segments" {
		t.Fatalf("SMS length %q for a text of %d characters", length, len([]rune(sms)))
	}
	browsertest.Screenshot(t, ctx, "campaign-preview-sms")

	browsertest.Open(t, ctx, campaignURL)
	// The letter's page embeds the PDF, whose viewer may take its time to say the page loaded:
	// the test waits for the page's elements rather than its load event.
	browsertest.Click(t, ctx, `ul.preview-links a[href$="channel=postal&lang=fi"]`)
	browsertest.Do(t, ctx, "the letter's preview", chromedp.WaitReady(chromedp.CSS(`object.preview.letter`)))
	pdf := browsertest.Attr(t, ctx, "object.preview.letter", "data")
	if r := browsertest.Fetch(t, ctx, pdf); r.Status != 200 || r.ContentType != "application/pdf" || !strings.HasPrefix(r.Head, "%PDF-") {
		t.Fatalf("the letter %s: %d %q %q", pdf, r.Status, r.ContentType, r.Head)
	}
	dl := browsertest.Attr(t, ctx, `a[download][href*="letter.pdf"]`, "href")
	if r := browsertest.Fetch(t, ctx, dl); r.Status != 200 || r.ContentType != "application/pdf" || !strings.HasPrefix(r.Disposition, "attachment") {
		t.Fatalf("the letter download %s: %d %q %q", dl, r.Status, r.ContentType, r.Disposition)
	}
	browsertest.Screenshot(t, ctx, "campaign-preview-letter")

	// Schedule through the confirmation page, which says in numbers what will be sent.
	browsertest.Open(t, ctx, campaignURL)
	browsertest.ClickNav(t, ctx, `a[href$="/confirm?action=schedule"]`)
	total := reached["email"] + reached["sms"] + reached["postal"]
	if sum := browsertest.Text(t, ctx, ".confirm-summary"); !strings.Contains(sum, "Sends "+strconv.Itoa(total)+" messages now") {
		t.Fatalf("the confirmation says %q; the audience was %v", sum, reached)
	}
	browsertest.Check(t, ctx, "#when-now", true)
	browsertest.Screenshot(t, ctx, "campaign-confirm")
	if code := browsertest.ClickNav(t, ctx, `form[action$="/schedule"] button[type=submit]`); code != 200 {
		t.Fatalf("scheduling answered %d: %s", code, browsertest.Text(t, ctx, "main"))
	}
	if msg := browsertest.Text(t, ctx, ".notice[role=status]"); msg != "The campaign is scheduled." {
		t.Fatalf("after scheduling: %q", msg)
	}
	if st := browsertest.Text(t, ctx, ".titlebar .status"); st != "scheduled" {
		t.Fatalf("a scheduled campaign shows %q", st)
	}

	// The page follows the run by itself: no reload (the marker set in the page survives) until
	// the progress says finished, every channel's figures those of the audience.
	if !browsertest.Exists(t, ctx, `#campaign-live[data-live] #progress`) {
		t.Fatal("a scheduled campaign's progress is not live")
	}
	browsertest.Eval[chromedp.Void](t, ctx, `window.__marker = 1`)
	s.start("scheduler", "--interval", "100ms")
	s.start("worker", "--concurrency", "4")
	final := browsertest.WaitText(t, ctx, "#progress", "finished", 45*time.Second)
	if browsertest.Eval[int](t, ctx, `window.__marker || 0`) != 1 {
		t.Fatal("the page reloaded while following the run")
	}
	if !browsertest.Exists(t, ctx, "#progress [data-final]") {
		t.Fatal("the finished progress is not marked final")
	}
	for ch, label := range map[string]string{"email": "email", "sms": "SMS", "postal": "post"} {
		line := ""
		for _, l := range browsertest.Texts(t, ctx, "#progress .chan") {
			if strings.HasPrefix(l, label+" ") {
				line = l
			}
		}
		if sent := figure(line, "sent"); sent <= 0 || sent != reached[ch] || figure(line, "queued") != 0 {
			t.Fatalf("%s: %q, the audience was %d (progress %q)", ch, line, reached[ch], final)
		}
	}
	// The whole live part moved on with it: the status, the actions a finished campaign has, and
	// the run in the history, with a link to its results.
	if st := browsertest.Text(t, ctx, ".titlebar .status"); st != "finished" {
		t.Fatalf("a finished campaign's badge shows %q", st)
	}
	if browsertest.Exists(t, ctx, `.campaign-actions a[href$="action=pause"]`) || !browsertest.Exists(t, ctx, `.campaign-actions a[href$="action=again"]`) {
		t.Fatalf("a finished campaign's actions: %q", browsertest.Text(t, ctx, ".campaign-actions"))
	}
	browsertest.Screenshot(t, ctx, "campaign-finished")

	// The run's results: the chart and the figures per channel, from the history without a reload.
	if code := browsertest.ClickNav(t, ctx, `a[href^="/campaigns/`+id+`/runs/"]`); code != 200 {
		t.Fatalf("results answered %d", code)
	}
	if !browsertest.Exists(t, ctx, "svg.chart rect") {
		t.Fatal("the results have no chart")
	}
	for ch, n := range reached {
		cells := browsertest.Texts(t, ctx, "table.results-table tr.ch-"+ch+" td")
		// total, sent, failed, skipped, cancelled, queued, withdrawals, coupons issued, redeemed
		if len(cells) < 8 || cells[1] != strconv.Itoa(n) || cells[2] != "0" || cells[7] != strconv.Itoa(n) {
			t.Fatalf("results of %s: %q, want %d sent and coupons", ch, cells, n)
		}
	}
	browsertest.Screenshot(t, ctx, "campaign-results")

	// The list shows it finished.
	browsertest.Open(t, ctx, s.staff+"/campaigns")
	if row := browsertest.Text(t, ctx, "table.list tbody tr"); !strings.Contains(row, "Joulukuponki 2026") || !strings.Contains(row, "finished") {
		t.Fatalf("the list's first row: %q", row)
	}
	browsertest.Screenshot(t, ctx, "campaigns")
}

func TestConsoleMemberRightsAndAdministration(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	privacy := s.consoleUser("pirjo", "privacy")
	admin := s.consoleUser("aada", "admin")
	s.must("members", "import", writeFile(t, "members.csv", consoleMembers))
	s.serve()
	ctx := s.signedIn("pirjo", privacy, "en")

	// Find a member by external id, from the navigation.
	browsertest.ClickNav(t, ctx, `header nav a[href="/members"]`)
	if h := browsertest.Text(t, ctx, "main h1"); h != "Members" {
		t.Fatalf("member lookup titled %q", h)
	}
	browsertest.Fill(t, ctx, "#member-id", "NOBODY")
	if code := browsertest.ClickNav(t, ctx, `form[action="/members"] button[type=submit]`); code != 404 {
		t.Fatalf("an unknown member answered %d", code)
	}
	if msg := browsertest.Text(t, ctx, "#member-id-err"); !strings.Contains(msg, "There is no member with the membership number NOBODY") {
		t.Fatalf("unknown member: %q", msg)
	}
	browsertest.Fill(t, ctx, "#member-id", "C1")
	if code := browsertest.ClickNav(t, ctx, `form[action="/members"] button[type=submit]`); code != 200 {
		t.Fatalf("member C1 answered %d", code)
	}
	if p := browsertest.PathOf(t, ctx); p != "/members/C1" {
		t.Fatalf("looked up at %s", p)
	}
	if h := browsertest.Text(t, ctx, "main h1"); !strings.Contains(h, "Member C1") || !strings.Contains(h, "Aino Laine") {
		t.Fatalf("member page titled %q", h)
	}
	profile := browsertest.Text(t, ctx, "dl.member-profile")
	for _, want := range []string{"aino@example.com", "Koulukatu 1", "00100", "HELSINKI"} {
		if !strings.Contains(profile, want) {
			t.Fatalf("profile lacks %q: %s", want, profile)
		}
	}
	// The consent timeline: what the import recorded.
	timeline := browsertest.Texts(t, ctx, "ol.timeline li")
	if len(timeline) < 2 || !strings.Contains(strings.Join(timeline, "\n"), "email: granted") || !strings.Contains(strings.Join(timeline, "\n"), "SMS: granted") {
		t.Fatalf("consent timeline %q", timeline)
	}

	// Customer service records the member's withdrawal of SMS: newest first in the timeline.
	browsertest.Fill(t, ctx, "#consent-channel", "sms")
	browsertest.Check(t, ctx, `input[name=status][value=withdrawn]`, true)
	if code := browsertest.ClickNav(t, ctx, `form[action$="/consent#consent"] button[type=submit]`); code != 200 {
		t.Fatalf("recording a withdrawal answered %d: %s", code, browsertest.Text(t, ctx, "main"))
	}
	first := browsertest.Text(t, ctx, "ol.timeline li")
	if !strings.Contains(first, "SMS: withdrawn") || !strings.Contains(first, "customer service") || !strings.Contains(first, "pirjo") {
		t.Fatalf("the newest consent event is %q", first)
	}
	if now := browsertest.Text(t, ctx, "table.member-now"); !strings.Contains(now, "withdrawn") {
		t.Fatalf("current consents: %q", now)
	}
	browsertest.Screenshot(t, ctx, "member")

	// The export: the JSON link answers the member's data as a download.
	href := browsertest.Attr(t, ctx, `a[href$="/export.json"]`, "href")
	exp := browsertest.Fetch(t, ctx, href)
	if exp.Status != 200 || !strings.HasPrefix(exp.ContentType, "application/json") || !strings.HasPrefix(exp.Disposition, "attachment") {
		t.Fatalf("export: %d %q %q", exp.Status, exp.ContentType, exp.Disposition)
	}
	var x struct {
		Member struct {
			ExternalID string `json:"external_id"`
			Email      string `json:"email"`
		} `json:"member"`
		Current map[string]string `json:"current_consents"`
	}
	if err := json.Unmarshal([]byte(exp.Body), &x); err != nil || x.Member.ExternalID != "C1" || x.Member.Email != "aino@example.com" || x.Current["sms"] != "withdrawn" {
		t.Fatalf("export (%v): %.400s", err, exp.Body)
	}

	// Erasure asks for the membership number typed: a wrong one erases nothing.
	browsertest.ClickNav(t, ctx, `a.button.danger[href$="/erase"]`)
	if h := browsertest.Text(t, ctx, "main h1"); !strings.Contains(h, "Erase member C1") {
		t.Fatalf("erase page titled %q", h)
	}
	browsertest.Fill(t, ctx, "#erase-confirm", "C2")
	if code := browsertest.ClickNav(t, ctx, `form[action$="/erase"] button[type=submit]`); code != 422 {
		t.Fatalf("erasing with the wrong number typed answered %d", code)
	}
	if msg := browsertest.Text(t, ctx, "#erase-confirm-err"); !strings.Contains(msg, "nothing was erased") {
		t.Fatalf("wrong confirmation: %q", msg)
	}
	browsertest.Screenshot(t, ctx, "member-erase")
	browsertest.Fill(t, ctx, "#erase-confirm", "C1")
	if code := browsertest.ClickNav(t, ctx, `form[action$="/erase"] button[type=submit]`); code != 200 {
		t.Fatalf("erasure answered %d: %s", code, browsertest.Text(t, ctx, "main"))
	}
	if p := browsertest.PathOf(t, ctx); !strings.HasPrefix(p, "/members?erased=C1") {
		t.Fatalf("erased to %s", p)
	}
	if msg := browsertest.Text(t, ctx, `.notice[role=status]`); !strings.Contains(msg, "member C1 was erased") {
		t.Fatalf("erasure notice %q", msg)
	}
	// The member is gone: the page, the export and the register know nothing of them.
	if code := browsertest.Open(t, ctx, s.staff+"/members/C1"); code != 404 {
		t.Fatalf("the erased member's page answered %d", code)
	}
	if r := browsertest.Fetch(t, ctx, href); r.Status != 404 || strings.Contains(r.Body, "aino@example.com") {
		t.Fatalf("the erased member's export answered %d", r.Status)
	}
	db := s.dbHandle()
	if n := pgtest.Count(t, db, `SELECT count(*) FROM members WHERE external_id = 'C1' OR email = 'aino@example.com'`); n != 0 {
		t.Fatalf("%d members left with the erased member's id or address", n)
	}

	// The audit log says who looked, exported and erased.
	browsertest.ClickNav(t, ctx, `header nav a[href="/audit"]`)
	audit := browsertest.Text(t, ctx, "table.audit")
	for _, want := range []string{"members.view", "members.export", "members.erase", "consent", "pirjo"} {
		if !strings.Contains(audit, want) {
			t.Fatalf("the audit log lacks %q:\n%s", want, audit)
		}
	}
	browsertest.Screenshot(t, ctx, "audit")

	// The users, for an admin: a user added in the form gets a token shown once, which signs in.
	actx := s.signedIn("aada", admin, "en")
	browsertest.ClickNav(t, actx, `header nav a[href="/users"]`)
	users := browsertest.Text(t, actx, "table.users")
	for _, want := range []string{"pirjo", "privacy officer", "aada", "admin", "pia"} {
		if !strings.Contains(users, want) {
			t.Fatalf("the user list lacks %q:\n%s", want, users)
		}
	}
	browsertest.Fill(t, actx, "#user-name", "matti")
	browsertest.Fill(t, actx, "#user-role", "marketer")
	if code := browsertest.ClickNav(t, actx, `form[action="/users#add"] button[type=submit]`); code != 200 {
		t.Fatalf("adding a user answered %d: %s", code, browsertest.Text(t, actx, "main"))
	}
	token := browsertest.Text(t, actx, "[data-token]")
	if len(token) < 20 {
		t.Fatalf("the new user's token %q", token)
	}
	browsertest.Open(t, actx, s.staff+"/users")
	browsertest.Screenshot(t, actx, "users")
	mctx := s.signedIn("matti", token, "en")
	if got := navLinks(t, mctx); got != "Home,Campaigns" {
		t.Fatalf("the added marketer's navigation: %q", got)
	}
}

func TestConsoleInFinnishAndOnAPhone(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	marketer := s.consoleUser("maija", "marketer")
	first := s.campaign(strings.Replace(couponCampaign, "Joulukuponki", "Joulukuponki kaikille kanta-asiakkaille Uudellamaalla ja Varsinais-Suomessa", 1))
	s.campaign(strings.Replace(strings.Replace(couponCampaign, "Joulukuponki", "Tammikuun kuponki", 1), "channels: [email]", "channels: [email, sms, postal]", 1))
	s.must("campaigns", "schedule", first)
	s.serve()

	// Finnish is the console's language until the user picks another.
	ctx := browsertest.New(t)
	browsertest.Open(t, ctx, s.staff+"/login")
	if h := browsertest.Text(t, ctx, "main h1"); h != "Kirjaudu sisään" {
		t.Fatalf("the sign-in page in Finnish says %q", h)
	}
	if lang := browsertest.Attr(t, ctx, "html", "lang"); lang != "fi" {
		t.Fatalf("html lang=%q", lang)
	}
	browsertest.SignIn(t, ctx, s.staff, "maija", marketer, "")
	if h := browsertest.Text(t, ctx, "main h1"); h != "Tervetuloa, maija" {
		t.Fatalf("the home page in Finnish says %q", h)
	}
	if got := navLinks(t, ctx); got != "Etusivu,Kampanjat" {
		t.Fatalf("navigation in Finnish: %q", got)
	}
	browsertest.ClickNav(t, ctx, `header nav a[href="/campaigns"]`)
	if h := browsertest.Text(t, ctx, "main h1"); h != "Kampanjat" {
		t.Fatalf("the campaign list in Finnish says %q", h)
	}
	statuses := strings.Join(browsertest.Texts(t, ctx, "table.list .status"), ",")
	if statuses != "luonnos,ajastettu" {
		t.Fatalf("statuses in Finnish: %q", statuses)
	}
	if hint := browsertest.Text(t, ctx, "p.hint"); hint != "Päivittyy itsestään kampanjan edetessä." {
		t.Fatalf("hint in Finnish: %q", hint)
	}
	browsertest.Screenshot(t, ctx, "campaigns-fi")
	// Switching to English keeps the page.
	browsertest.ClickNav(t, ctx, `header .lang a[hreflang=en]`)
	if p, h := browsertest.PathOf(t, ctx), browsertest.Text(t, ctx, "main h1"); p != "/campaigns" || h != "Campaigns" {
		t.Fatalf("after switching to English: %s %q", p, h)
	}

	// A phone's screen: the pages fit its width, nothing scrolls sideways.
	phone := browsertest.New(t)
	browsertest.Resize(t, phone, 390, 844)
	browsertest.SignIn(t, phone, s.staff, "maija", marketer, "en")
	for _, p := range []string{"/", "/campaigns/" + first, "/campaigns/new", "/campaigns"} {
		browsertest.Open(t, phone, s.staff+p)
		w := browsertest.Eval[[]int](t, phone, `[document.documentElement.scrollWidth, window.innerWidth]`)
		if w[1] != 390 || w[0] > w[1] {
			t.Errorf("%s on a phone: %d px wide in a %d px window", p, w[0], w[1])
		}
	}
	browsertest.Screenshot(t, phone, "campaigns-phone")
}
