package api_test

// Attacks on the staff console: each test asserts that the attack is refused, so a failing test is
// a finding.

import (
	"bytes"
	"context"
	"encoding/csv"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// Payloads for stored XSS.
const (
	xssScript = `<script>alert(1)</script>`
	xssImg    = `"><img src=x onerror=alert(1)>`
	xssJSURL  = `javascript:alert(1)`
)

// attackDesk is a campaignDesk with a draft, a scheduled and a finished campaign, each named with
// an XSS payload, and members whose names and external ids are hostile.
type attackDesk struct {
	*campaignDesk
	draft, scheduled, finished campaigns.Campaign
}

func newAttackDesk(t *testing.T) *attackDesk {
	t.Helper()
	d := &attackDesk{campaignDesk: newCampaignDesk(t)}
	coupon := func(name string) campaigns.Spec {
		return campaigns.Spec{Name: name, Kind: campaigns.KindCoupon, Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal},
			Coupon: &campaigns.CouponSpec{Discount: "-20 %", ValidDays: 30}}
	}
	d.draft = d.campaign(coupon("Draft " + xssScript + xssImg))
	d.scheduled = d.campaign(coupon("Sched " + xssImg))
	d.exec(`UPDATE campaigns SET status = 'scheduled' WHERE id = $1`, d.scheduled.ID)
	d.finished = d.campaign(coupon("Done " + xssScript))
	d.finishedRun(d.finished, 77)

	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"external_id", "first_name", "last_name", "email", "phone", "street", "postal_code", "city", "country", "language", "email_consent", "sms_consent", "postal_objection"})
	w.Write([]string{"X1", xssScript, xssImg, "x1@example.com", "040 765 4329", xssJSURL, "00100", "HELSINKI", "FI", "fi", "yes", "yes", ""})
	w.Write([]string{"..", "Dot", "Dot", "dot@example.com", "", "Katu 1", "00100", "HELSINKI", "FI", "fi", "yes", "", ""})
	w.Write([]string{"a/b", "Slash", "Slash", "slash@example.com", "", "Katu 1", "00100", "HELSINKI", "FI", "fi", "yes", "", ""})
	w.Write([]string{`a/../b"; x=<svg onload=alert(1)>.json`, "Hostile", "Id", "x2@example.com", "", "Katu 1", "00100", "HELSINKI", "FI", "fi", "yes", "", ""})
	w.Flush()
	res, err := d.store.ImportMembers(context.Background(), func(row func(csvfile.MemberRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadMembers(bytes.NewReader(b.Bytes()), "x.csv", row)
	}, campaigns.SourceImport, campaigns.Audit{Actor: "tester", Action: campaigns.AuditMembersImport})
	pgtest.Must(t, "import hostile members", err)
	// An id of dots could never be reached at /members/ID: the import refuses it.
	if len(res.Rejections) != 1 || res.Rejections[0].Field != "external_id" || res.Rejections[0].Line != 3 {
		t.Fatalf("import of the id \"..\": rejections %+v, want line 3's external_id", res.Rejections)
	}
	return d
}

func (d *attackDesk) id(c campaigns.Campaign) string { return strconv.FormatInt(c.ID, 10) }

// stateChange is a state-changing console route, the user allowed to use it and a form that would
// succeed.
type stateChange struct {
	user, path string
	form       url.Values
}

func (d *attackDesk) stateChanges() []stateChange {
	draft, sched, fin := d.id(d.draft), d.id(d.scheduled), d.id(d.finished)
	newCampaign := url.Values{"name": {"Forged"}, "kind": {"newsletter"}, "channels": {"email"}, "strategy": {"all"}, "template": {"newsletter"}}
	return []stateChange{
		{"maija", "/campaigns", newCampaign},
		{"maija", "/campaigns/" + draft + "/edit", newCampaign},
		{"maija", "/campaigns/" + draft + "/schedule", url.Values{"when": {"now"}}},
		{"maija", "/campaigns/" + sched + "/pause", url.Values{}},
		{"maija", "/campaigns/" + sched + "/cancel", url.Values{}},
		{"maija", "/campaigns/" + fin + "/again", url.Values{"when": {"now"}}},
		{"maija", "/campaigns/" + draft + "/testsend", url.Values{"channel": {"email"}, "to": {"victim@example.com"}, "lang": {"fi"}}},
		{"pia", "/members/M1/correct", url.Values{"field": {"first_name"}, "value": {"Forged"}}},
		{"pia", "/members/M1/consent", url.Values{"channel": {"email"}, "status": {"withdrawn"}}},
		{"pia", "/members/M1/erase", url.Values{"confirm": {"M1"}}},
		{"aino", "/users", url.Values{"name": {"mallory"}, "role": {"admin"}}},
		{"aino", "/users/olli/disable", url.Values{}},
		{"aino", "/users/olli/rotate", url.Values{}},
		{"maija", "/logout", url.Values{}},
	}
}

// nothingChanged fails the test when any of the state changes of stateChanges happened.
func (d *attackDesk) nothingChanged(t *testing.T, what string) {
	t.Helper()
	db := d.store.DB()
	checks := map[string]string{
		"campaign created":      `SELECT count(*) FROM campaigns WHERE name = 'Forged'`,
		"campaign changed":      `SELECT count(*) FROM audit_log WHERE action IN ('campaigns.update', 'campaigns.schedule', 'campaigns.pause', 'campaigns.resume', 'campaigns.cancel', 'campaigns.test-send')`,
		"member corrected":      `SELECT count(*) FROM members WHERE first_name = 'Forged'`,
		"member changed":        `SELECT count(*) FROM audit_log WHERE action IN ('members.erase', 'members.correct', 'consent.set') AND actor <> 'sms-gateway' AND actor <> 'tester'`,
		"user added":            `SELECT count(*) FROM users WHERE name = 'mallory'`,
		"user disabled/rotated": `SELECT count(*) FROM audit_log WHERE action IN ('users.disable', 'users.rotate')`,
	}
	for k, q := range checks {
		if n := pgtest.Count(t, db, q); n != 0 {
			t.Errorf("%s: %s (%d)", what, k, n)
		}
	}
	if len(d.outbox.messages()) != 0 {
		t.Errorf("%s: a test message was sent", what)
	}
}

// (1) Cross-site POSTs to every state-changing route.
func TestAttackCSRFOnEveryStateChangingRoute(t *testing.T) {
	t.Parallel()
	d := newAttackDesk(t)
	sessions, tokens := map[string]*http.Cookie{}, map[string]string{}
	for _, u := range []string{"maija", "pia", "aino"} {
		sessions[u], tokens[u] = d.signIn(t, u)
	}
	own := d.hs.URL
	for _, sc := range d.stateChanges() {
		good := tokens[sc.user]
		for what, v := range map[string]struct {
			token string
			h     map[string]string
		}{
			"no token, same origin":            {"", map[string]string{"Origin": own, "Sec-Fetch-Site": "same-origin"}},
			"no token, no headers":             {"", nil},
			"wrong token":                      {good[:len(good)-2] + "xx", map[string]string{"Origin": own}},
			"another user's token":             {tokens["aino"], map[string]string{"Origin": own}},
			"token, foreign Origin":            {good, map[string]string{"Origin": "https://evil.example"}},
			"token, Origin null":               {good, map[string]string{"Origin": "null"}},
			"token, Origin sibling port":       {good, map[string]string{"Origin": strings.Replace(own, "127.0.0.1:", "127.0.0.1:1", 1)}},
			"token, foreign Referer":           {good, map[string]string{"Referer": "https://evil.example/x"}},
			"token, Referer with userinfo":     {good, map[string]string{"Referer": "http://" + strings.TrimPrefix(own, "http://") + "@evil.example/"}},
			"token, Sec-Fetch-Site cross-site": {good, map[string]string{"Sec-Fetch-Site": "cross-site"}},
			"token, Sec-Fetch-Site same-site":  {good, map[string]string{"Sec-Fetch-Site": "same-site"}},
			"token in the query only":          {"", map[string]string{"Origin": own, "query": "csrf=" + url.QueryEscape(good)}},
		} {
			if what == "another user's token" && sc.user == "aino" {
				continue
			}
			form := url.Values{}
			for k, vs := range sc.form {
				form[k] = vs
			}
			if v.token != "" {
				form.Set("csrf", v.token)
			}
			h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			path := sc.path
			for k, x := range v.h {
				if k == "query" {
					path += "?" + x
					continue
				}
				h[k] = x
			}
			resp, page := d.do(t, "POST", path, strings.NewReader(form.Encode()), h, sessions[sc.user], d.en)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(text(page), "did not come from a page of dispatch") {
				t.Errorf("POST %s as %s, %s: %d, want 403 (Location %q)", sc.path, sc.user, what, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	}
	d.nothingChanged(t, "after cross-site posts")
	// The sessions survived: logout was refused too.
	if resp, _ := d.get("/", sessions["maija"]); resp.StatusCode != 200 {
		t.Errorf("maija's session ended by a forged logout: %d", resp.StatusCode)
	}
	// Text/plain and multipart bodies (what a cross-site form can send) with a guessed token field.
	for _, ct := range []string{"text/plain", "multipart/form-data; boundary=x"} {
		body := "csrf=guess\r\n"
		if strings.HasPrefix(ct, "multipart") {
			body = "--x\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nguess\r\n--x--\r\n"
		}
		resp, _ := d.do(t, "POST", "/campaigns/"+d.id(d.scheduled)+"/cancel", strings.NewReader(body), map[string]string{"Content-Type": ct}, sessions["maija"], d.en)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cancel with a %s body: %d", ct, resp.StatusCode)
		}
	}
	d.nothingChanged(t, "after text/multipart posts")
}

// (2) Role escalation: every role on the routes of the others.
func TestAttackRoleEscalation(t *testing.T) {
	t.Parallel()
	d := newAttackDesk(t)
	draft, sched, fin := d.id(d.draft), d.id(d.scheduled), d.id(d.finished)
	type try struct{ method, path string }
	memberGets := []string{"/members", "/members?id=M1", "/members/M1", "/members/M1/export.json", "/members/M1/erase", "/audit", "/audit?member=M1"}
	userGets := []string{"/users", "/users/olli/disable", "/users/olli/rotate", "/users/aino/rotate"}
	campaignWrites := []string{"/campaigns/new", "/campaigns/" + draft + "/edit", "/campaigns/" + draft + "/confirm?action=schedule",
		"/campaigns/" + sched + "/confirm?action=cancel", "/campaigns/" + draft + "/audience?page=1"}
	refused := map[string][]try{}
	add := func(user, method string, paths ...string) {
		for _, p := range paths {
			refused[user] = append(refused[user], try{method, p})
		}
	}
	posts := map[string]bool{}
	for _, sc := range d.stateChanges() {
		if sc.path == "/logout" {
			continue
		}
		posts[sc.path] = true
		for _, u := range []string{"maija", "olli", "pia", "aino"} {
			if u == sc.user || u == "aino" {
				continue
			}
			add(u, "POST", sc.path)
		}
	}
	add("maija", "GET", append(memberGets, userGets...)...)
	add("olli", "GET", append(append(memberGets, userGets...), campaignWrites...)...)
	add("olli", "GET", "/campaigns/"+draft+"/preview", "/campaigns/"+draft+"/preview/email.html", "/campaigns/"+draft+"/preview/letter.pdf?lang=fi")
	add("pia", "GET", append(userGets, campaignWrites...)...)
	add("pia", "GET", "/campaigns", "/campaigns/"+draft, "/campaigns/"+fin+"/runs/77", "/campaigns/progress")
	// A marketer renewing their own token through the admin's route.
	add("maija", "POST", "/users/maija/rotate")

	for user, tries := range refused {
		session, csrf := d.signIn(t, user)
		for _, tr := range tries {
			var resp *http.Response
			var page string
			if tr.method == "GET" {
				resp, page = d.get(tr.path, session)
			} else {
				form := url.Values{}
				for _, sc := range d.stateChanges() {
					if sc.path == tr.path {
						form = sc.form
					}
				}
				resp, page = d.post(tr.path, form, session, csrf)
			}
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403", tr.method, tr.path, user, resp.StatusCode)
			}
			for _, secret := range []string{"vaino@example.com", "Järvinen", "Rantatie", "KEVAT", d.tokens["olli"]} {
				if strings.Contains(page, secret) {
					t.Errorf("%s %s as %s shows %q", tr.method, tr.path, user, secret)
				}
			}
		}
	}
	d.nothingChanged(t, "after role escalation")
	if n := pgtest.Count(t, d.store.DB(), `SELECT count(*) FROM audit_log WHERE action IN ('members.view', 'members.export') AND actor <> 'pia'`); n != 0 {
		t.Errorf("%d member views by other roles", n)
	}
}

// unescaped reports the payload fragments that appear raw in a page (as markup, not text).
func unescaped(page string) []string {
	var found []string
	for _, raw := range []string{"<script>alert", "<img src=x", "<svg onload", `href="javascript:`, `src="javascript:`, `action="javascript:`, `="javascript:alert`} {
		if strings.Contains(page, raw) {
			found = append(found, raw)
		}
	}
	return found
}

// (3) Stored XSS: campaign names, members' fields and ids, user names, audit details.
func TestAttackStoredXSS(t *testing.T) {
	t.Parallel()
	d := newAttackDesk(t)
	draft, sched, fin := d.id(d.draft), d.id(d.scheduled), d.id(d.finished)
	check := func(who, path string, session *http.Cookie) string {
		t.Helper()
		resp, page := d.get(path, session)
		if resp.StatusCode >= 500 {
			t.Errorf("%s %s: %d", who, path, resp.StatusCode)
		}
		if bad := unescaped(page); len(bad) > 0 {
			t.Errorf("%s %s shows %q unescaped", who, path, bad)
		}
		return page
	}

	maija, mcsrf := d.signIn(t, "maija")
	// The marketer's own edit of the draft, with a name that is all payload, comes back escaped too.
	resp, page := d.post("/campaigns/"+draft+"/edit", url.Values{"name": {xssImg + xssScript}, "kind": {"coupon"}, "channels": {"email"},
		"strategy": {"all"}, "template": {"coupon"}, "discount": {xssImg}, "valid_days": {`"><script>`}, "postal_codes": {xssScript}}, maija, mcsrf)
	if bad := unescaped(page); len(bad) > 0 {
		t.Errorf("edit form answer (%d) shows %q unescaped", resp.StatusCode, bad)
	}
	for _, p := range []string{"/campaigns", "/campaigns/progress", "/campaigns/" + draft, "/campaigns/" + draft + "/progress",
		"/campaigns/" + draft + "/edit", "/campaigns/" + draft + "/confirm?action=schedule", "/campaigns/" + sched + "/confirm?action=cancel",
		"/campaigns/" + sched + "/confirm?action=pause", "/campaigns/" + fin + "/confirm?action=again", "/campaigns/" + draft + "/audience?page=1",
		"/campaigns/" + draft + "/audience", "/campaigns/" + fin, "/campaigns/" + fin + "/runs/77", "/campaigns/" + fin + "/runs/77/live",
		"/campaigns/" + draft + "/preview", "/campaigns/" + draft + "/preview?channel=sms&lang=fi", "/campaigns/" + draft + "/preview?channel=postal&lang=fi",
		"/campaigns/" + draft + "/preview?channel=email&member=X1", "/campaigns/" + draft + "/preview?channel=sms&member=X1",
		"/campaigns/" + draft + "/preview?member=" + url.QueryEscape(xssImg),
		"/campaigns/" + draft + "/preview?channel=" + url.QueryEscape(xssImg) + "&lang=" + url.QueryEscape(xssScript),
		"/campaigns/" + draft + "/preview/email.html?member=X1",
		"/campaigns/" + draft + "/confirm?action=" + url.QueryEscape(xssImg),
		"/campaigns/" + draft + "?done=" + url.QueryEscape(xssScript),
	} {
		check("maija", p, maija)
	}
	// A test send to a hostile address comes back escaped.
	resp, page = d.post("/campaigns/"+draft+"/testsend", url.Values{"channel": {"email"}, "to": {xssImg}, "lang": {"fi"}}, maija, mcsrf)
	if bad := unescaped(page); len(bad) > 0 {
		t.Errorf("test send answer (%d) shows %q unescaped", resp.StatusCode, bad)
	}

	pia, pcsrf := d.signIn(t, "pia")
	// A correction and a consent wording that are payloads, then every page that shows them.
	d.post("/members/X1/correct", url.Values{"field": {"city"}, "value": {xssImg}}, pia, pcsrf)
	resp, page = d.post("/members/X1/consent", url.Values{"channel": {"email"}, "status": {"granted"}, "wording": {xssImg}}, pia, pcsrf)
	if bad := unescaped(page); len(bad) > 0 {
		t.Errorf("consent answer (%d) shows %q unescaped", resp.StatusCode, bad)
	}
	resp, page = d.post("/members/X1/correct", url.Values{"field": {xssImg}, "value": {xssScript}}, pia, pcsrf)
	if bad := unescaped(page); len(bad) > 0 {
		t.Errorf("correct answer (%d) shows %q unescaped", resp.StatusCode, bad)
	}
	resp, page = d.post("/members/X1/erase", url.Values{"confirm": {xssImg}}, pia, pcsrf)
	if bad := unescaped(page); len(bad) > 0 {
		t.Errorf("erase answer (%d) shows %q unescaped", resp.StatusCode, bad)
	}
	hostile := `a/../b"; x=<svg onload=alert(1)>.json`
	for _, p := range []string{"/members/X1", "/members/X1/erase", "/members/" + url.PathEscape(hostile), "/members/" + url.PathEscape(hostile) + "/erase",
		"/members?id=" + url.QueryEscape(xssImg), "/members?erased=" + url.QueryEscape(xssScript), "/members/" + url.PathEscape(xssImg),
		"/audit", "/audit?member=" + url.QueryEscape(xssImg) + "&user=" + url.QueryEscape(xssScript) + "&action=" + url.QueryEscape(xssImg) + "&from=" + url.QueryEscape(xssScript),
		"/audit?member=X1", "/campaigns/" + draft + "/preview?member=X1", "/campaigns/" + draft + "/preview/email.html?member=X1",
	} {
		check("pia", p, pia)
	}

	aino, acsrf := d.signIn(t, "aino")
	resp, page = d.post("/users", url.Values{"name": {xssImg}, "role": {"marketer"}}, aino, acsrf)
	if bad := unescaped(page); len(bad) > 0 {
		t.Errorf("add user answer (%d) shows %q unescaped", resp.StatusCode, bad)
	}
	resp, page = d.post("/users", url.Values{"name": {xssScript}, "role": {xssImg}}, aino, acsrf)
	if bad := unescaped(page); len(bad) > 0 {
		t.Errorf("add user (bad role) answer (%d) shows %q unescaped", resp.StatusCode, bad)
	}
	d.post("/users", url.Values{"name": {xssScript}, "role": {"ops"}}, aino, acsrf)
	for _, p := range []string{"/users", "/users?disabled=" + url.QueryEscape(xssScript), "/users/" + url.PathEscape(xssImg) + "/rotate",
		"/users/" + url.PathEscape(xssScript) + "/disable", "/users/" + url.PathEscape(xssImg+"nobody") + "/disable", "/audit", "/"} {
		check("aino", p, aino)
	}
	resp, page = d.post("/users/"+url.PathEscape(xssImg)+"/rotate", url.Values{}, aino, acsrf)
	if bad := unescaped(page); len(bad) > 0 {
		t.Errorf("rotate answer (%d) shows %q unescaped", resp.StatusCode, bad)
	}
	// A hostile user's sign-in shows their name escaped in every page's frame.
	if tok := regexp.MustCompile(`data-token>([^<]+)<`).FindStringSubmatch(page); tok != nil {
		resp := d.postLogin(t, xssImg, html.UnescapeString(tok[1]), "/", map[string]string{"Origin": d.hs.URL})
		resp.Body.Close()
		if s := cookieNamed(resp, "dispatch_session"); s != nil {
			check("hostile user", "/", s)
			check("hostile user", "/campaigns", s)
		} else {
			t.Errorf("the hostile user could not sign in: %d", resp.StatusCode)
		}
	}
	// Login failure page shows the typed name escaped.
	r := d.postLogin(t, xssImg+xssScript, "dsp_wrong", "/", map[string]string{"Origin": d.hs.URL})
	r.Body.Close()
}

// (4) The email preview frame: no script, sandboxed, even opened on its own.
func TestAttackEmailPreviewFrame(t *testing.T) {
	t.Parallel()
	d := newAttackDesk(t)
	draft := d.id(d.draft)
	for _, user := range []string{"maija", "pia"} {
		session, _ := d.signIn(t, user)
		_, page := d.get("/campaigns/"+draft+"/preview?channel=email&lang=fi", session)
		frames := regexp.MustCompile(`<iframe[^>]*>`).FindAllString(page, -1)
		if len(frames) == 0 {
			t.Fatalf("%s: no frame on the preview page", user)
		}
		for _, f := range frames {
			sb := regexp.MustCompile(`\ssandbox(="([^"]*)")?[\s>]`).FindStringSubmatch(f)
			if sb == nil || strings.Contains(sb[2], "allow-scripts") || strings.Contains(sb[2], "allow-same-origin") ||
				strings.Contains(sb[2], "allow-top-navigation") || strings.Contains(sb[2], "allow-popups") || strings.Contains(sb[2], "allow-forms") {
				t.Errorf("%s: preview frame %s is not a strict sandbox", user, f)
			}
			if strings.Contains(f, "srcdoc") {
				t.Errorf("%s: preview frame uses srcdoc (inherits the console's origin): %s", user, f)
			}
		}
		for _, q := range []string{"lang=fi", "member=X1", "lang=sv&member=M1"} {
			resp, body := d.get("/campaigns/"+draft+"/preview/email.html?"+q, session)
			if resp.StatusCode != 200 {
				continue
			}
			csps := resp.Header.Values("Content-Security-Policy")
			if len(csps) != 1 {
				t.Errorf("%s %s: %d policies %q (the browser enforces each)", user, q, len(csps), csps)
			}
			csp := strings.Join(csps, ", ")
			dirs := map[string]string{}
			for _, dir := range strings.Split(csp, ";") {
				f := strings.Fields(dir)
				if len(f) > 0 {
					dirs[f[0]] = strings.Join(f[1:], " ")
				}
			}
			if dirs["default-src"] != "'none'" || strings.Contains(csp, "script-src") || strings.Contains(csp, "'unsafe-eval'") {
				t.Errorf("%s %s: the frame's policy allows scripts: %q", user, q, csp)
			}
			if _, ok := dirs["sandbox"]; !ok || strings.Contains(dirs["sandbox"], "allow-") {
				t.Errorf("%s %s: opened on its own the frame is no sandbox: %q", user, q, csp)
			}
			if dirs["frame-ancestors"] != "'self'" || dirs["form-action"] != "'none'" || dirs["base-uri"] != "'none'" {
				t.Errorf("%s %s: frame policy %q", user, q, csp)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
				resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s %s: headers %v", user, q, resp.Header)
			}
			if bad := unescaped(body); len(bad) > 0 {
				t.Errorf("%s %s: email HTML has %q from member data", user, q, bad)
			}
		}
		// The letter: its file name takes nothing hostile from the query.
		for _, lang := range []string{`fi"; filename="evil.html`, "fi\r\nSet-Cookie: x=1", "../../etc/passwd", "fi%00"} {
			resp, _ := d.get("/campaigns/"+draft+"/preview/letter.pdf?lang="+url.QueryEscape(lang), session)
			cd := resp.Header.Get("Content-Disposition")
			if resp.StatusCode == 200 && !regexp.MustCompile(`^(inline|attachment); filename="campaign-[0-9]+-letter(-(fi|sv|en))?\.pdf"$`).MatchString(cd) {
				t.Errorf("%s letter with lang %q: 200, Content-Disposition %q", user, lang, cd)
			}
			if resp.Header.Get("Set-Cookie") != "" && strings.Contains(resp.Header.Get("Set-Cookie"), "x=1") {
				t.Errorf("%s letter with lang %q: header injection", user, lang)
			}
		}
	}
}

// resolves returns where a redirect's Location leads from base, and whether it stays on base's host.
func staysOnSite(base, loc string) (string, bool) {
	b, _ := url.Parse(base)
	l, err := url.Parse(loc)
	if err != nil {
		return loc, false
	}
	to := b.ResolveReference(l)
	return to.String(), to.Host == b.Host && (to.Scheme == "http" || to.Scheme == "https") &&
		!strings.ContainsAny(loc, "\r\n\\") && !strings.HasPrefix(loc, "//")
}

var hostileNexts = []string{
	"//evil.example", "///evil.example", "https://evil.example", "https:evil.example", "http:/evil.example", "/\\evil.example",
	"\\\\evil.example", "/%2F/evil.example", "/%5Cevil.example", "/.//evil.example", "/..//evil.example", "/./%2F/evil.example",
	"/\t/evil.example", "/ /evil.example", " //evil.example", "javascript:alert(1)", "/foo\r\nSet-Cookie: x=1", "\r\nLocation: https://evil.example",
	"/foo%0d%0aSet-Cookie:%20x=1", "//evil.example/%2F..", "/%09/evil.example", "/\u3000/evil.example", "/\uff0f\uff0fevil.example",
	"/@evil.example", "/evil.example?//", "/?next=//evil.example", "//" + strings.Repeat("a", 3000),
}

// (5) Open redirects and header injection through next.
func TestAttackOpenRedirect(t *testing.T) {
	t.Parallel()
	c := newConsole(t, false)
	for _, next := range hostileNexts {
		resp, _ := c.do(t, "GET", "/lang?to=en&next="+url.QueryEscape(next), nil, nil)
		loc := resp.Header.Get("Location")
		if to, ok := staysOnSite(c.hs.URL, loc); !ok || resp.StatusCode != http.StatusSeeOther {
			t.Errorf("/lang next %q: %d Location %q -> %s", next, resp.StatusCode, loc, to)
		}
		if ck := cookieNamed(resp, "x"); ck != nil {
			t.Errorf("/lang next %q set a cookie x", next)
		}
		// The sign-in page keeps next only when local; the sign-in goes there.
		_, page := c.do(t, "GET", "/login?next="+url.QueryEscape(next), nil, nil)
		if m := regexp.MustCompile(`name="next" value="([^"]*)"`).FindStringSubmatch(page); m == nil {
			t.Errorf("/login next %q: no next field", next)
		} else if v := strings.ReplaceAll(m[1], "&#43;", "+"); strings.Contains(v, "evil") && !strings.HasPrefix(v, "/") {
			t.Errorf("/login next %q kept as %q", next, v)
		}
		resp = c.postLogin(t, "maija", c.tokens["maija"], next, map[string]string{"Origin": c.hs.URL})
		loc = resp.Header.Get("Location")
		if to, ok := staysOnSite(c.hs.URL, loc); !ok || resp.StatusCode != http.StatusSeeOther {
			t.Errorf("POST /login next %q: %d Location %q -> %s", next, resp.StatusCode, loc, to)
		}
	}
	// An unsigned-in GET of a page comes back to it after sign-in, never elsewhere.
	for _, p := range []string{"//evil.example/", "/campaigns?next=//evil.example", "/%2F%2Fevil.example"} {
		resp, _ := c.do(t, "GET", p, nil, nil)
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 {
			if to, ok := staysOnSite(c.hs.URL, loc); !ok {
				t.Errorf("GET %s: Location %q -> %s", p, loc, to)
			}
		}
	}
}

// (6) The export's file name with a hostile external id.
func TestAttackExportFileName(t *testing.T) {
	t.Parallel()
	d := newAttackDesk(t)
	pia, _ := d.signIn(t, "pia")
	hostile := `a/../b"; x=<svg onload=alert(1)>.json`
	resp, body := d.get("/members/"+url.PathEscape(hostile)+"/export.json", pia)
	if resp.StatusCode != 200 {
		t.Fatalf("export of the hostile member: %d\n%s", resp.StatusCode, body)
	}
	cd := resp.Header.Get("Content-Disposition")
	m := regexp.MustCompile(`^attachment; filename="(member-[A-Za-z0-9_][A-Za-z0-9._-]*\.json)"$`).FindStringSubmatch(cd)
	if m == nil || strings.ContainsAny(m[1], `/\"`) {
		t.Errorf("export Content-Disposition %q", cd)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("export Content-Type %q, nosniff %q", ct, resp.Header.Get("X-Content-Type-Options"))
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("export Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	// The member page's links to the hostile member go to that member, not elsewhere.
	_, page := d.get("/members/"+url.PathEscape(hostile), pia)
	for _, m := range regexp.MustCompile(`(?:href|action)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		u := strings.ReplaceAll(m[1], "&amp;", "&")
		if strings.Contains(u, "/../") || strings.Contains(u, "/./") {
			t.Errorf("member page link %q has dot segments", u)
		}
	}
}

// (7) Path tricks.
func TestAttackPathTricks(t *testing.T) {
	t.Parallel()
	d := newAttackDesk(t)
	maija, _ := d.signIn(t, "maija")
	pia, pcsrf := d.signIn(t, "pia")
	for _, p := range []string{"/campaigns/-1", "/campaigns/0", "/campaigns/99999999999999999999", "/campaigns/1%00", "/campaigns/0x1",
		"/campaigns/1e3", "/campaigns/%20" + d.id(d.draft), "/campaigns/" + d.id(d.draft) + "%00", "/campaigns/" + strings.Repeat("9", 5000),
		"/campaigns/-1/runs/-1", "/campaigns/" + d.id(d.finished) + "/runs/99999999999999999999", "/campaigns/" + d.id(d.draft) + "/runs/77"} {
		resp, page := d.get(p, maija)
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusBadRequest && resp.StatusCode/100 != 3 {
			t.Errorf("maija GET %s: %d, want 404", p, resp.StatusCode)
		}
		if strings.Contains(page, "Done ") && strings.Contains(p, "/runs/77") {
			t.Errorf("maija GET %s shows another campaign's run", p)
		}
	}
	for _, p := range []string{"/members/..%2f", "/members/..%2fusers", "/members/%2e%2e", "/members/%00", "/members/M1%00", "/members/" + strings.Repeat("A", 10000),
		"/members/M1%0d%0aX:y", "/members/..%2F..%2Fusers/export.json"} {
		resp, page := d.get(p, pia)
		if resp.StatusCode >= 500 || resp.StatusCode == 200 && !strings.Contains(page, "member") {
			t.Errorf("pia GET %s: %d", p, resp.StatusCode)
		}
		if strings.Contains(page, "users-actions") || strings.Contains(page, "olli") {
			t.Errorf("pia GET %s reached the user list", p)
		}
	}
	for _, p := range []string{"/members/%00/erase", "/members/" + strings.Repeat("A", 10000) + "/erase", "/members/..%2fM1/erase"} {
		resp, _ := d.post(p, url.Values{"confirm": {"M1"}}, pia, pcsrf)
		if resp.StatusCode >= 500 || resp.StatusCode/100 == 3 {
			t.Errorf("pia POST %s: %d", p, resp.StatusCode)
		}
	}
	if n := pgtest.Count(t, d.store.DB(), `SELECT count(*) FROM audit_log WHERE action = 'members.erase'`); n != 0 {
		t.Errorf("%d members erased by path tricks", n)
	}
}

// (8) The typed confirmation of an erasure.
func TestAttackEraseConfirmation(t *testing.T) {
	t.Parallel()
	d := newAttackDesk(t)
	pia, csrf := d.signIn(t, "pia")
	for _, typed := range []string{"", "m1", " M1", "M1 ", "M1\n", "\u041c1" /* Cyrillic Em */, "\uff2d1" /* fullwidth M */, "M\u200b1", "M1\u200b", "M1\u00a0", "M\u0031\u0301"} {
		resp, _ := d.post("/members/M1/erase", url.Values{"confirm": {typed}}, pia, csrf)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("erase M1 confirmed by %q: %d, want 422", typed, resp.StatusCode)
		}
	}
	// Two confirm fields: the one typed must be the only one.
	resp, _ := d.do(t, "POST", "/members/M1/erase", strings.NewReader("confirm=x&confirm=M1&csrf="+url.QueryEscape(csrf)),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": d.hs.URL}, pia, d.en)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("erase M1 with confirm=x&confirm=M1: %d, want 422", resp.StatusCode)
	}
	// The path in another case names another (unknown) member: M1 stays.
	resp, _ = d.post("/members/m1/erase", url.Values{"confirm": {"m1"}}, pia, csrf)
	if resp.StatusCode/100 == 3 {
		t.Errorf("erase m1 (M1 in another case): %d", resp.StatusCode)
	}
	resp, _ = d.post("/members/M1%20/erase", url.Values{"confirm": {"M1 "}}, pia, csrf)
	if resp.StatusCode/100 == 3 {
		t.Errorf("erase \"M1 \" erased a member: %d", resp.StatusCode)
	}
	if n := pgtest.Count(t, d.store.DB(), `SELECT count(*) FROM audit_log WHERE action = 'members.erase'`); n != 0 {
		t.Errorf("%d erasures", n)
	}
	if _, err := d.store.MemberByExternalID(context.Background(), "M1"); err != nil {
		t.Errorf("M1 is gone: %v", err)
	}
}

// (9)+(10) Every page: not cached, not frameable; the token never in a URL or the log.
func TestAttackCachingFramingAndTokenLeaks(t *testing.T) {
	t.Parallel()
	d := newAttackDesk(t)
	draft, fin := d.id(d.draft), d.id(d.finished)
	pages := map[string][]string{
		"maija": {"/", "/campaigns", "/campaigns/progress", "/campaigns/" + draft, "/campaigns/" + draft + "/progress", "/campaigns/new",
			"/campaigns/" + draft + "/edit", "/campaigns/" + draft + "/confirm?action=schedule", "/campaigns/" + draft + "/audience",
			"/campaigns/" + draft + "/audience?page=1", "/campaigns/" + draft + "/preview", "/campaigns/" + draft + "/preview?member=M1",
			"/campaigns/" + fin + "/runs/77", "/campaigns/" + fin + "/runs/77/live", "/members", "/users", "/campaigns/-1"},
		"pia": {"/members", "/members?id=M1", "/members?id=", "/members/M1", "/members/M1/erase", "/members/M1/export.json", "/members/NOPE",
			"/audit", "/audit?member=M1", "/campaigns/" + draft + "/preview?member=M1", "/campaigns/" + draft + "/preview/email.html?member=M1",
			"/campaigns/" + draft + "/preview/letter.pdf?member=M1"},
		"aino": {"/users", "/users/olli/rotate", "/users/olli/disable", "/users/nobody/rotate"},
	}
	for user, paths := range pages {
		session, _ := d.signIn(t, user)
		for _, p := range paths {
			resp, _ := d.get(p, session)
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s GET %s (%d): Cache-Control %q, want no-store", user, p, resp.StatusCode, cc)
			}
			framed := strings.Contains(p, "/preview/")
			xfo, csp := resp.Header.Get("X-Frame-Options"), strings.Join(resp.Header.Values("Content-Security-Policy"), ", ")
			if framed {
				if xfo != "SAMEORIGIN" || !strings.Contains(csp, "frame-ancestors 'self'") {
					t.Errorf("%s GET %s: X-Frame-Options %q, CSP %q", user, p, xfo, csp)
				}
			} else if xfo != "DENY" || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%s GET %s: X-Frame-Options %q, CSP %q", user, p, xfo, csp)
			}
			if resp.StatusCode/100 != 3 && resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s GET %s: no nosniff", user, p)
			}
		}
	}
	// The sign-in page and the language switch.
	for _, p := range []string{"/login", "/login?next=/members/M1", "/lang?to=en&next=/members/M1"} {
		resp, _ := d.do(t, "GET", p, nil, nil)
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: Cache-Control %q", p, resp.Header.Get("Cache-Control"))
		}
		if p != "/lang?to=en&next=/members/M1" && resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: X-Frame-Options %q", p, resp.Header.Get("X-Frame-Options"))
		}
	}

	// The redirects after the POSTs, and the pages of a new token.
	aino, acsrf := d.signIn(t, "aino")
	resp, page := d.post("/users", url.Values{"name": {"uusi"}, "role": {"marketer"}}, aino, acsrf)
	tok := regexp.MustCompile(`data-token>([^<]+)<`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || tok == nil {
		t.Fatalf("add user: %d", resp.StatusCode)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Location") != "" {
		t.Errorf("token page: Cache-Control %q, Location %q", resp.Header.Get("Cache-Control"), resp.Header.Get("Location"))
	}
	resp, page = d.post("/users/uusi/rotate", url.Values{}, aino, acsrf)
	tok2 := regexp.MustCompile(`data-token>([^<]+)<`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || tok2 == nil || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("rotate: %d", resp.StatusCode)
	}
	// The new token signs in, and appears in no log line, URL or later page.
	d.tokens["uusi"] = tok2[1]
	s, _ := d.signIn(t, "uusi")
	_, later := d.get("/", s)
	for _, tk := range []string{tok[1], tok2[1]} {
		if strings.Contains(d.log.String(), tk) {
			t.Errorf("the log holds a token")
		}
		if strings.Contains(later, tk) {
			t.Errorf("a later page shows the token")
		}
		_, users := d.get("/users", aino)
		if strings.Contains(users, tk) {
			t.Errorf("the user list shows the token")
		}
		_, audit := d.get("/audit", aino)
		if strings.Contains(audit, tk) {
			t.Errorf("the audit log shows the token")
		}
	}
	pia, pcsrf := d.signIn(t, "pia")
	for _, p := range []struct {
		path string
		form url.Values
	}{
		{"/members/M1/correct", url.Values{"field": {"city"}, "value": {"ESPOO"}}},
		{"/members/M1/consent", url.Values{"channel": {"email"}, "status": {"withdrawn"}}},
		{"/members/M2/erase", url.Values{"confirm": {"M2"}}},
	} {
		resp, _ := d.post(p.path, p.form, pia, pcsrf)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("POST %s: %d Cache-Control %q", p.path, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
	// Nothing of a member's contact data reaches the log.
	for _, pd := range []string{"vaino@example.com", "Järvinen", "Rantatie", "040 765 4321", "0407654321"} {
		if strings.Contains(d.log.String(), pd) {
			t.Errorf("the log holds %q", pd)
		}
	}
}

// Every member a privacy officer can look up must have a reachable page, export and erasure: an
// external id that is a dot segment or holds a slash included (data subjects' rights).
func TestAttackAwkwardExternalIDsStayReachable(t *testing.T) {
	t.Parallel()
	d := newAttackDesk(t)
	pia, _ := d.signIn(t, "pia")
	// An id of dots is not an id (the import refused it): the lookup says so by the field.
	if resp, page := d.get("/members?id=..", pia); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "aria-invalid") {
		t.Errorf("lookup \"..\": %d", resp.StatusCode)
	}
	for _, ext := range []string{"a/b"} {
		resp, _ := d.get("/members?id="+url.QueryEscape(ext), pia)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("lookup %q: %d", ext, resp.StatusCode)
			continue
		}
		resp, page := d.get(loc, pia)
		if resp.StatusCode != 200 || !strings.Contains(page, "@example.com") {
			t.Errorf("lookup %q: Location %q answers %d (Location %q), not the member's page", ext, loc, resp.StatusCode, resp.Header.Get("Location"))
			continue
		}
		for _, m := range regexp.MustCompile(`(?:href|action)="(/members/[^"#?]*)`).FindAllStringSubmatch(page, -1) {
			target := html.UnescapeString(m[1])
			if !strings.HasSuffix(target, "/export.json") && !strings.HasSuffix(target, "/erase") {
				continue
			}
			r, _ := d.get(target, pia)
			if r.StatusCode != 200 {
				t.Errorf("member %q: link %s answers %d", ext, target, r.StatusCode)
			}
		}
	}
}
