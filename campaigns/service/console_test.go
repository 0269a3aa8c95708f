package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/campaigns/service"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker/compose"
	"github.com/jacksmood/dispatch/worker/print"
	"github.com/jacksmood/dispatch/worker/sms"
)

// The acting users of the console's tests.
var (
	asMarketer = campaigns.User{Name: "maija", Role: campaigns.RoleMarketer}
	asPrivacy  = campaigns.User{Name: "pirjo", Role: campaigns.RolePrivacy}
	asOps      = campaigns.User{Name: "olli", Role: campaigns.RoleOps}
	asAdmin    = campaigns.User{Name: "aada", Role: campaigns.RoleAdmin}
)

// newConsoleService is newService with a letter renderer, and the members of members imported.
func newConsoleService(t *testing.T) (*service.Service, *postgres.Store) {
	t.Helper()
	s := pgtest.New(t)
	r, err := templates.New("")
	pgtest.Must(t, "templates", err)
	c, err := compose.New(compose.Config{PublicURL: "https://dispatch.example", Secret: []byte("service-test-secret-0123")}, r)
	pgtest.Must(t, "composer", err)
	letters, err := print.NewRenderer(print.Config{})
	pgtest.Must(t, "letters", err)
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	svc, err := service.New(service.Config{Now: func() time.Time { return now }, Letters: letters}, s, c, nil)
	pgtest.Must(t, "service", err)
	_, err = svc.ImportMembers(context.Background(), asPrivacy, strings.NewReader(members+
		"S1,Sven,Berg,sven@example.com,,Storgatan 1,11151,STOCKHOLM,SE,sv,yes,,no\n"), "m.csv", campaigns.SourceImport)
	pgtest.Must(t, "import", err)
	return svc, s
}

// auditDetails returns the details of the audit entries with the action, oldest first.
func auditDetails(t *testing.T, s *postgres.Store, action campaigns.AuditAction) []map[string]any {
	t.Helper()
	var rows []string
	pgtest.Must(t, "audit", s.DB().Select(&rows, `SELECT details::text FROM audit_log WHERE action = $1 ORDER BY id`, action))
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		pgtest.Must(t, "details", json.Unmarshal([]byte(r), &out[i]))
	}
	return out
}

func TestCorrectMember(t *testing.T) {
	t.Parallel()
	svc, s := newConsoleService(t)
	ctx := context.Background()

	pgtest.Must(t, "correct the email", svc.CorrectMember(ctx, asPrivacy, "A1", "email", " Aino.Laine@Example.COM "))
	m, err := s.MemberByExternalID(ctx, "A1")
	pgtest.Must(t, "member", err)
	if m.Email != "Aino.Laine@example.com" || m.FirstName != "Aino" || m.Phone != "+358401112222" {
		t.Fatalf("after the correction: %+v", m)
	}
	// The import's trail: members.update with the old and new value, and members.correct naming
	// the field alone.
	updates := auditDetails(t, s, campaigns.AuditMembersUpdate)
	if len(updates) != 1 || updates[0]["file"] != "manual correction" || updates[0]["source"] != "customer-service" {
		t.Fatalf("members.update: %v", updates)
	}
	change, _ := updates[0]["changes"].(map[string]any)["email"].(map[string]any)
	if change["old"] != "aino@example.com" || change["new"] != "Aino.Laine@example.com" || len(updates[0]["changes"].(map[string]any)) != 1 {
		t.Fatalf("members.update changes: %v", updates[0]["changes"])
	}
	corrections := auditDetails(t, s, campaigns.AuditMemberCorrect)
	if len(corrections) != 1 || corrections[0]["field"] != "email" || corrections[0]["updated"] != 1.0 {
		t.Fatalf("members.correct: %v", corrections)
	}
	for _, v := range corrections[0] {
		if s, ok := v.(string); ok && strings.Contains(strings.ToLower(s), "aino") {
			t.Fatalf("members.correct holds the value: %v", corrections[0])
		}
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM audit_log WHERE action = 'members.correct' AND member_external_id = 'A1' AND actor = 'pirjo'`); n != 1 {
		t.Fatalf("members.correct is not the member's: %d", n)
	}
	// The member's keyed hashes follow: the new address on the suppression list stops email to them.
	_, err = svc.ImportSuppressions(ctx, asPrivacy, strings.NewReader("channel,value\nemail,aino.laine@example.com\n"), "s.csv", campaigns.SuppressManual)
	pgtest.Must(t, "suppress", err)
	if reason, err := s.MemberReach(ctx, m.ID, campaigns.Email); err != nil || reason != campaigns.SkipSuppressed {
		t.Fatalf("reach after suppressing the corrected address: %q %v", reason, err)
	}

	// Values are read as the import reads them: a Finnish number to E.164, a flag, a Swedish
	// member's postal code against the member's country.
	pgtest.Must(t, "phone", svc.CorrectMember(ctx, asAdmin, "A1", "phone", "050 765 4321"))
	pgtest.Must(t, "deceased", svc.CorrectMember(ctx, asPrivacy, "A1", "deceased", "yes"))
	pgtest.Must(t, "swedish postal code", svc.CorrectMember(ctx, asPrivacy, "S1", "postal_code", "11152"))
	if m, _ := s.MemberByExternalID(ctx, "A1"); m.Phone != "+358507654321" || !m.Deceased {
		t.Fatalf("phone and deceased: %+v", m)
	}
	if m, _ := s.MemberByExternalID(ctx, "S1"); m.PostalCode != "11152" || m.Country != "SE" {
		t.Fatalf("Swedish postal code: %+v", m)
	}

	// Wrong values are refused naming the field, and change nothing.
	for field, value := range map[string]string{
		"email": "aino at example", "phone": "12", "postal_code": "0010", "language": "de", "deceased": "maybe",
		"country": "Finland", "first_name": "Ai\x00no", "city": "",
	} {
		err := svc.CorrectMember(ctx, asPrivacy, "A1", field, value)
		if !errors.Is(err, campaigns.ErrInvalid) || !strings.HasPrefix(err.Error(), field+": ") {
			t.Errorf("%s %q: %v, want ErrInvalid naming %s", field, value, err, field)
		}
	}
	for _, field := range []string{"external_id", "email_consent", "shoe_size"} {
		if err := svc.CorrectMember(ctx, asPrivacy, "A1", field, "x"); !errors.Is(err, campaigns.ErrInvalid) || !strings.HasPrefix(err.Error(), "field: ") {
			t.Errorf("field %s: %v, want ErrInvalid naming field", field, err)
		}
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM audit_log WHERE action = 'members.correct'`); n != 4 {
		t.Errorf("%d corrections audited, want the 4 made", n)
	}

	// An unknown member is not created; a marketer may not correct.
	before := pgtest.Count(t, s.DB(), `SELECT count(*) FROM members`)
	if err := svc.CorrectMember(ctx, asPrivacy, "NOBODY", "first_name", "Uusi"); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("unknown member: %v, want ErrNotFound", err)
	}
	if after := pgtest.Count(t, s.DB(), `SELECT count(*) FROM members`); after != before {
		t.Errorf("a correction of an unknown member made %d members", after-before)
	}
	if err := svc.CorrectMember(ctx, asMarketer, "A1", "first_name", "Maija"); !errors.Is(err, campaigns.ErrForbidden) {
		t.Errorf("marketer: %v, want ErrForbidden", err)
	}
	if m, _ := s.MemberByExternalID(ctx, "A1"); m.FirstName != "Aino" {
		t.Errorf("first name %q after refused corrections", m.FirstName)
	}
}

func TestMemberViewIsAudited(t *testing.T) {
	t.Parallel()
	svc, s := newConsoleService(t)
	ctx := context.Background()
	x, err := svc.Member(ctx, asPrivacy, "A1")
	pgtest.Must(t, "view", err)
	if x.Member.ExternalID != "A1" || x.Member.Email != "aino@example.com" || len(x.Consents) == 0 || x.Current[campaigns.Email] != campaigns.Granted {
		t.Fatalf("member view: %+v", x)
	}
	// The view is in the member's own trail, as members.view (not as an export).
	if len(x.Audit) == 0 || x.Audit[len(x.Audit)-1].Action != campaigns.AuditMemberView {
		t.Fatalf("the view is not in the member's audit trail: %+v", x.Audit)
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM audit_log WHERE action = 'members.view' AND actor = 'pirjo' AND member_external_id = 'A1'`); n != 1 {
		t.Fatalf("members.view entries: %d", n)
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM audit_log WHERE action = 'members.export'`); n != 0 {
		t.Fatalf("a view was audited as an export")
	}
	if _, err := svc.Member(ctx, asMarketer, "A1"); !errors.Is(err, campaigns.ErrForbidden) {
		t.Errorf("marketer: %v, want ErrForbidden", err)
	}
	if _, err := svc.Member(ctx, asAdmin, "NOBODY"); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("unknown member: %v, want ErrNotFound", err)
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM audit_log WHERE action = 'members.view'`); n != 1 {
		t.Errorf("refused views were audited: %d entries", n)
	}
}

func couponCampaign(t *testing.T, svc *service.Service) campaigns.Campaign {
	t.Helper()
	c, err := svc.CreateCampaign(context.Background(), asMarketer, &campaigns.Spec{Name: "Joulukuponki", Kind: campaigns.KindCoupon,
		Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal}, Coupon: &campaigns.CouponSpec{Discount: "-25 %", ValidDays: 30}})
	pgtest.Must(t, "create", err)
	return c
}

func TestPreviewSample(t *testing.T) {
	t.Parallel()
	svc, s := newConsoleService(t)
	ctx := context.Background()
	c := couponCampaign(t, svc)
	audited := pgtest.Count(t, s.DB(), `SELECT count(*) FROM audit_log`)

	p, err := svc.PreviewSample(ctx, asMarketer, c.ID, campaigns.SMS, campaigns.Finnish)
	pgtest.Must(t, "sms sample", err)
	sample := templates.SampleData("coupon", campaigns.Finnish)
	enc, segments := sms.Encode(p.Text)
	if !strings.Contains(p.Text, "Hei "+sample.FirstName+"!") || !strings.Contains(p.Text, "-25 %") || !strings.Contains(p.Text, service.PreviewCode) ||
		p.SMS == nil || p.SMS.Encoding != "GSM-7" || p.SMS.Encoding != string(enc) || p.SMS.Segments != segments || p.SMS.Segments < 1 ||
		p.SMS.Characters != len([]rune(p.Text)) || p.To != "" || p.Language != campaigns.Finnish || !p.WouldSend {
		t.Fatalf("SMS sample preview: %+v %+v", p, p.SMS)
	}
	p, err = svc.PreviewSample(ctx, asPrivacy, c.ID, campaigns.Email, campaigns.Swedish)
	pgtest.Must(t, "email sample", err)
	if !strings.Contains(p.Text, "Åsa") || p.Subject == "" || p.HTML == "" || p.SMS != nil || p.To != "" {
		t.Fatalf("email sample preview: %+v", p)
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM audit_log`); n != audited {
		t.Errorf("sample previews wrote %d audit entries", n-audited)
	}
	if _, err := svc.PreviewSample(ctx, asOps, c.ID, campaigns.SMS, campaigns.Finnish); !errors.Is(err, campaigns.ErrForbidden) {
		t.Errorf("ops: %v, want ErrForbidden", err)
	}
	if _, err := svc.PreviewSample(ctx, asMarketer, c.ID, campaigns.SMS, "de"); !errors.Is(err, campaigns.ErrInvalid) || !strings.HasPrefix(err.Error(), "language: ") {
		t.Errorf("unknown language: %v", err)
	}
	if _, err := svc.PreviewSample(ctx, asMarketer, c.ID+100, campaigns.SMS, campaigns.Finnish); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("unknown campaign: %v", err)
	}
}

// pdfText writes pdf to a file and returns pdftotext's text of it and its page count.
func pdfText(t *testing.T, pdf []byte) (string, int) {
	t.Helper()
	for _, tool := range []string{"pdftotext", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (apt-get install -y poppler-utils): %v", tool, err)
		}
	}
	path := filepath.Join(t.TempDir(), "letter.pdf")
	pgtest.Must(t, "write pdf", os.WriteFile(path, pdf, 0o600))
	text, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	pgtest.Must(t, "pdftotext", err)
	info, err := exec.Command("pdfinfo", path).Output()
	pgtest.Must(t, "pdfinfo", err)
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindSubmatch(info)
	if m == nil {
		t.Fatalf("pdfinfo: no page count:\n%s", info)
	}
	pages, err := strconv.Atoi(string(m[1]))
	pgtest.Must(t, "pages", err)
	return string(text), pages
}

func TestPreviewLetter(t *testing.T) {
	t.Parallel()
	svc, s := newConsoleService(t)
	ctx := context.Background()
	c := couponCampaign(t, svc)

	// The sample member's letter: as printed, one page, nothing audited.
	pdf, err := svc.PreviewLetter(ctx, asMarketer, c.ID, "", campaigns.Finnish)
	pgtest.Must(t, "sample letter", err)
	text, pages := pdfText(t, pdf)
	sample := templates.SampleData("coupon", campaigns.Finnish)
	for _, want := range []string{sample.FirstName + " " + sample.LastName, sample.Street, sample.PostalCode + " " + sample.City,
		"Henkilökohtainen etusi: -25 % seuraavasta ostoksestasi", "kiitos, että olet Jack's Moodin jäsen!", service.PreviewCode} {
		if !strings.Contains(text, want) {
			t.Errorf("the sample letter does not show %q:\n%s", want, text)
		}
	}
	if pages != 1 {
		t.Errorf("the sample letter has %d pages", pages)
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM audit_log WHERE action = 'campaigns.preview'`); n != 0 {
		t.Errorf("the sample letter was audited")
	}

	// A member's letter, audited for the member; the street is shown to privacy officers only.
	pdf, err = svc.PreviewLetter(ctx, asPrivacy, c.ID, "A1", "")
	pgtest.Must(t, "member letter", err)
	if text, _ := pdfText(t, pdf); !strings.Contains(text, "Aino Laine") || !strings.Contains(text, "Katu 1") || !strings.Contains(text, "Hei Aino,") {
		t.Errorf("privacy officer's letter for A1:\n%s", text)
	}
	pdf, err = svc.PreviewLetter(ctx, asMarketer, c.ID, "A1", campaigns.English)
	pgtest.Must(t, "member letter for a marketer", err)
	if text, _ := pdfText(t, pdf); !strings.Contains(text, "Aino Laine") || strings.Contains(text, "Katu 1") || !strings.Contains(text, "[street hidden]") ||
		strings.Contains(text, "Hei Aino") {
		t.Errorf("marketer's English letter for A1:\n%s", text)
	}
	var shown []bool
	pgtest.Must(t, "audit", s.DB().Select(&shown, `SELECT (details->>'contact_shown')::boolean FROM audit_log
		WHERE action = 'campaigns.preview' AND member_external_id = 'A1' AND details->>'channel' = 'postal' ORDER BY id`))
	if len(shown) != 2 || !shown[0] || shown[1] {
		t.Errorf("letter previews audited with contact_shown %v, want [true false]", shown)
	}

	if _, err := svc.PreviewLetter(ctx, asOps, c.ID, "", campaigns.Finnish); !errors.Is(err, campaigns.ErrForbidden) {
		t.Errorf("ops: %v, want ErrForbidden", err)
	}
	if _, err := svc.PreviewLetter(ctx, asMarketer, c.ID, "NOBODY", ""); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("unknown member: %v, want ErrNotFound", err)
	}
	if _, err := svc.PreviewLetter(ctx, asMarketer, c.ID, "", ""); !errors.Is(err, campaigns.ErrInvalid) {
		t.Errorf("sample without a language: %v, want ErrInvalid", err)
	}
	// A member whose name the fonts cannot draw: refused, saying why without quoting the name.
	_, err = svc.ImportMembers(ctx, asPrivacy, strings.NewReader(members[:strings.IndexByte(members, '\n')+1]+
		"H1,王,小明,wang@example.com,,Katu 2,00100,HELSINKI,FI,fi,yes,,no\n"), "h.csv", campaigns.SourceImport)
	pgtest.Must(t, "import", err)
	if _, err := svc.PreviewLetter(ctx, asPrivacy, c.ID, "H1", ""); !errors.Is(err, campaigns.ErrInvalid) ||
		!strings.Contains(err.Error(), "cannot draw (Han script)") || strings.Contains(err.Error(), "王") {
		t.Errorf("unprintable letter: %v", err)
	}
}

func TestRunResultsRoles(t *testing.T) {
	t.Parallel()
	svc, _ := newConsoleService(t)
	ctx := context.Background()
	c := couponCampaign(t, svc)
	if _, err := svc.RunResults(ctx, asOps, c.ID, 0); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("a campaign that has not run: %v, want ErrNotFound", err)
	}
	if _, err := svc.RunResults(ctx, asMarketer, c.ID, 12345); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("a run that is not the campaign's: %v, want ErrNotFound", err)
	}
	if _, err := svc.RunResults(ctx, asPrivacy, c.ID, 0); !errors.Is(err, campaigns.ErrForbidden) {
		t.Errorf("privacy officer: %v, want ErrForbidden", err)
	}
}
