package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
	"github.com/jacksmood/dispatch/campaigns/service"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
)

var _ service.Store = (*postgres.Store)(nil)

// recorder is a test sender that keeps what it was given.
type recorder struct{ got []compose.Message }

func (r *recorder) Send(_ context.Context, m compose.Message) (worker.Receipt, error) {
	r.got = append(r.got, m)
	return worker.Receipt{ProviderRef: m.MessageID}, nil
}

func newService(t *testing.T) (*service.Service, *postgres.Store, *recorder) {
	t.Helper()
	s := pgtest.New(t)
	r, err := templates.New("")
	pgtest.Must(t, "templates", err)
	c, err := compose.New(compose.Config{PublicURL: "https://dispatch.example", Secret: []byte("service-test-secret-0123")}, r)
	pgtest.Must(t, "composer", err)
	rec := &recorder{}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	svc, err := service.New(service.Config{TestSenders: map[campaigns.Channel]worker.Sender{campaigns.Email: rec},
		Now: func() time.Time { return now }}, s, c, nil)
	pgtest.Must(t, "service", err)
	return svc, s, rec
}

const members = "external_id,first_name,last_name,email,phone,street,postal_code,city,country,language,email_consent,sms_consent,postal_objection\n" +
	"A1,Aino,Laine,aino@example.com,0401112222,Katu 1,00100,HELSINKI,FI,fi,yes,yes,no\n"

func TestRolesDecideWhoMayDoWhat(t *testing.T) {
	t.Parallel()
	svc, s, _ := newService(t)
	ctx := context.Background()
	marketer := campaigns.User{Name: "maija", Role: campaigns.RoleMarketer}
	privacy := campaigns.User{Name: "pirjo", Role: campaigns.RolePrivacy}
	ops := campaigns.User{Name: "olli", Role: campaigns.RoleOps}
	admin := campaigns.User{Name: "aada", Role: campaigns.RoleAdmin}
	nobody := campaigns.User{}

	_, err := svc.ImportMembers(ctx, privacy, strings.NewReader(members), "m.csv", campaigns.SourceImport)
	pgtest.Must(t, "import by the privacy officer", err)
	spec := &campaigns.Spec{Name: "Roles", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.Email}}
	c, err := svc.CreateCampaign(ctx, marketer, spec)
	pgtest.Must(t, "create by the marketer", err)

	refused := map[string]error{}
	_, refused["marketer exports a member"] = svc.ExportMember(ctx, marketer, "A1")
	_, refused["marketer imports members"] = svc.ImportMembers(ctx, marketer, strings.NewReader(members), "m.csv", campaigns.SourceImport)
	_, refused["privacy officer creates a campaign"] = svc.CreateCampaign(ctx, privacy, spec)
	_, refused["ops previews"] = svc.Preview(ctx, ops, c.ID, "A1", campaigns.Email)
	_, refused["ops schedules"] = svc.Schedule(ctx, ops, c.ID, service.ScheduleOptions{})
	_, refused["ops erases"] = svc.EraseMember(ctx, ops, "A1")
	_, _, refused["marketer adds a user"] = svc.AddUser(ctx, marketer, "x", campaigns.RoleAdmin)
	_, refused["marketer reads the audit log"] = svc.AuditLog(ctx, marketer, campaigns.AuditFilter{})
	_, refused["nobody lists campaigns"] = svc.Campaigns(ctx, nobody)
	for what, err := range refused {
		if !errors.Is(err, campaigns.ErrForbidden) {
			t.Errorf("%s: %v, want ErrForbidden", what, err)
		}
	}
	if _, err := svc.Campaigns(ctx, ops); err != nil {
		t.Errorf("ops lists campaigns: %v", err)
	}
	if _, err := svc.ExportMember(ctx, admin, "A1"); err != nil {
		t.Errorf("admin exports: %v", err)
	}
	// A refused action leaves no trace but its refusal: the audit log holds what was done only.
	var actions []string
	pgtest.Must(t, "audit", s.DB().Select(&actions, `SELECT actor || ' ' || action FROM audit_log ORDER BY id`))
	if got := strings.Join(actions, ","); got != "pirjo members.import,maija campaigns.create,aada members.export" {
		t.Fatalf("audit log: %s", got)
	}
}

func TestPreviewAndTestSendComposeWhatAMemberWouldGet(t *testing.T) {
	t.Parallel()
	svc, s, rec := newService(t)
	ctx := context.Background()
	marketer := campaigns.User{Name: "maija", Role: campaigns.RoleMarketer}
	privacy := campaigns.User{Name: "pirjo", Role: campaigns.RolePrivacy}
	_, err := svc.ImportMembers(ctx, privacy, strings.NewReader(members+"A2,Bertil,Ek,bertil@example.com,,Gatan 2,00200,HELSINGFORS,FI,sv,no,,\n"), "m.csv", campaigns.SourceImport)
	pgtest.Must(t, "import", err)
	spec := &campaigns.Spec{Name: "Kuponki", Kind: campaigns.KindCoupon, Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS},
		Coupon: &campaigns.CouponSpec{Discount: "-20 %", ValidDays: 30}}
	c, err := svc.CreateCampaign(ctx, marketer, spec)
	pgtest.Must(t, "create", err)

	msg, err := svc.Preview(ctx, marketer, c.ID, "A1", campaigns.Email)
	pgtest.Must(t, "preview", err)
	if !strings.Contains(msg.Text, "Aino") || !strings.Contains(msg.Text, service.PreviewCode) || !msg.WouldSend ||
		!strings.HasPrefix(msg.Headers["List-Unsubscribe"], "<https://dispatch.example/u/") {
		t.Fatalf("preview: %+v", msg)
	}
	// A marketer sees the message, not the member's contact data; a privacy officer sees both.
	if msg.To != "" {
		t.Fatalf("a marketer's preview shows the address %q", msg.To)
	}
	if p, err := svc.Preview(ctx, privacy, c.ID, "A1", campaigns.SMS); err != nil || p.To != "+358401112222" || p.SMS == nil ||
		p.SMS.Encoding != "GSM-7" || p.SMS.Segments < 1 || p.SMS.Characters != len([]rune(p.Text)) {
		t.Fatalf("privacy officer's SMS preview: %+v %v", p, err)
	}
	// A member who may not be reached: the preview says so, and why.
	if p, err := svc.Preview(ctx, marketer, c.ID, "A2", campaigns.Email); err != nil || p.WouldSend || p.Reason != campaigns.SkipNoConsent {
		t.Fatalf("preview for a member without email consent: %+v %v", p, err)
	}
	if p, err := svc.Preview(ctx, marketer, c.ID, "A2", campaigns.SMS); err != nil || p.WouldSend || p.Reason != campaigns.SkipNoAddress {
		t.Fatalf("preview for a member without a phone: %+v %v", p, err)
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM audit_log WHERE action = 'campaigns.preview' AND member_id IS NOT NULL`); n != 4 {
		t.Fatalf("previews audited %d times for the members, want 4", n)
	}

	sent, err := svc.TestSend(ctx, marketer, c.ID, campaigns.Email, "Marketing@JacksMood.example", campaigns.Swedish)
	pgtest.Must(t, "test send", err)
	if len(rec.got) != 1 || rec.got[0].To != "Marketing@jacksmood.example" || !strings.HasPrefix(sent.MessageID, "test.c") ||
		!strings.Contains(rec.got[0].Content.Subject, "TEST") {
		t.Fatalf("test send: %+v", rec.got)
	}
	if _, err := svc.TestSend(ctx, marketer, c.ID, campaigns.SMS, "+358401112222", campaigns.Finnish); !errors.Is(err, campaigns.ErrInvalid) {
		t.Fatalf("test send by SMS without a sender: %v", err)
	}
	if _, err := svc.TestSend(ctx, marketer, c.ID, campaigns.Email, "not an address", campaigns.Finnish); !errors.Is(err, campaigns.ErrInvalid) || len(rec.got) != 1 {
		t.Fatalf("test send to a bad address: %v (%d sent)", err, len(rec.got))
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM deliveries`); n != 0 {
		t.Fatalf("previews and test sends recorded %d deliveries", n)
	}

	// A broken template is refused when the campaign is written, naming the field.
	bad := *spec
	bad.Template = "no-such-template"
	if _, err := svc.CreateCampaign(ctx, marketer, &bad); !errors.Is(err, campaigns.ErrInvalid) || !strings.Contains(err.Error(), "template") {
		t.Fatalf("broken template: %v", err)
	}
	// A draft can be edited; a scheduled campaign cannot.
	spec.Name = "Kuponki 2"
	if u, err := svc.UpdateCampaign(ctx, marketer, c.ID, spec); err != nil || u.Name != "Kuponki 2" {
		t.Fatalf("update a draft: %+v %v", u, err)
	}
	if _, err := svc.Schedule(ctx, marketer, c.ID, service.ScheduleOptions{At: "2031-01-02T09:00"}); err != nil {
		t.Fatalf("schedule: %v", err)
	}
	if _, err := svc.UpdateCampaign(ctx, marketer, c.ID, spec); !errors.Is(err, campaigns.ErrConflict) {
		t.Fatalf("update a scheduled campaign: %v", err)
	}
	if _, err := svc.Schedule(ctx, marketer, c.ID, service.ScheduleOptions{At: "tomorrow"}); !errors.Is(err, campaigns.ErrInvalid) || !strings.HasPrefix(err.Error(), "at: ") {
		t.Fatalf("schedule at a bad time: %v", err)
	}
}
