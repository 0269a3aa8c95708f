package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

const header = "external_id,first_name,last_name,email,phone,street,postal_code,city,country,language,email_consent,sms_consent,postal_objection\n"

func importCSV(t *testing.T, s *postgres.Store, name, data string) (campaigns.ImportResult, error) {
	t.Helper()
	read := func(row func(csvfile.MemberRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadMembers(strings.NewReader(data), name, row)
	}
	return s.ImportMembers(context.Background(), read, campaigns.SourceImport, campaigns.Audit{Actor: "tester", Action: campaigns.AuditMembersImport})
}

func TestImportGoodBadAndRepeatedRows(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	db := s.DB()
	data := header +
		"M1,Matti,Mäkinen,matti@example.com,040 123 4567,Hämeenkatu 3 B 14,33100,TAMPERE,FI,fi,yes,no,no\n" +
		"M2,Åsa,Sjöberg,asa@example.com,+358 50 7654321,Storgatan 1,65100,VASA,FI,sv,no,yes,yes\n" +
		"M3,Bad,Email,not-an-email,,Katu 1,00100,HELSINKI,FI,fi,yes,,\n" +
		"M4,Bad,Postcode,b@example.com,,Katu 1,0010,HELSINKI,FI,fi,,,\n" +
		"M1,Twice,Listed,twice@example.com,,Katu 1,00100,HELSINKI,FI,fi,,,\n" +
		"M5,Bad,Flag,c@example.com,,Katu 1,00100,HELSINKI,FI,fi,maybe,,\n" +
		"M6,Bad,Lang,d@example.com,,Katu 1,00100,HELSINKI,FI,de,,,\n"
	res, err := importCSV(t, s, "members.csv", data)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if res.Imported != 2 || res.Updated != 0 || res.Unchanged != 0 || res.Rejected != 5 {
		t.Fatalf("result = %+v, want 2 imported, 5 rejected", res)
	}
	var got []string
	for _, r := range res.Rejections {
		got = append(got, r.Error())
	}
	want := []string{
		"line 4: email: not an email address",
		`line 5: postal_code: "0010" is not a Finnish postal code (five digits)`,
		`line 6: external_id: "M1" already appears on line 2`,
		`line 7: email_consent: "maybe" is not yes, no or empty`,
		`line 8: language: unknown language "de" (want fi, sv or en)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rejections:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	m, err := s.MemberByExternalID(context.Background(), "M1")
	pgtest.Must(t, "member M1", err)
	if m.Phone != "+358401234567" || m.FirstName != "Matti" || m.Language != "fi" || m.Street != "Hämeenkatu 3 B 14" {
		t.Fatalf("M1 = %+v", m)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM consent_events`); n != 6 {
		t.Fatalf("consent events after first import = %d, want 6 (3 channels x 2 members)", n)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM current_consents WHERE channel = 'postal' AND status = 'withdrawn'`); n != 1 {
		t.Fatalf("postal objections = %d, want 1", n)
	}

	// The same file again changes nothing: no new events, no new timestamps.
	var before time.Time
	pgtest.Must(t, "updated_at", db.Get(&before, `SELECT max(updated_at) FROM members`))
	res, err = importCSV(t, s, "members.csv", data)
	pgtest.Must(t, "re-import", err)
	if res.Imported != 0 || res.Updated != 0 || res.Unchanged != 2 || res.Rejected != 5 {
		t.Fatalf("re-import result = %+v, want 2 unchanged", res)
	}
	var after time.Time
	pgtest.Must(t, "updated_at", db.Get(&after, `SELECT max(updated_at) FROM members`))
	if !after.Equal(before) {
		t.Fatalf("re-import moved updated_at from %v to %v", before, after)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM consent_events`); n != 6 {
		t.Fatalf("consent events after re-import = %d, want 6", n)
	}

	// A change of address and a withdrawal: one member updated, one event more; empty fields keep values.
	res, err = importCSV(t, s, "update.csv", header+"M1,,,,,Kauppakatu 5,40100,JYVÄSKYLÄ,,,no,,\n")
	pgtest.Must(t, "update import", err)
	if res.Updated != 1 || res.Imported != 0 {
		t.Fatalf("update result = %+v", res)
	}
	m, _ = s.MemberByExternalID(context.Background(), "M1")
	if m.Street != "Kauppakatu 5" || m.City != "JYVÄSKYLÄ" || m.Email != "matti@example.com" || m.FirstName != "Matti" {
		t.Fatalf("after update M1 = %+v", m)
	}
	ev, ok, err := s.CurrentConsent(context.Background(), m.ID, campaigns.Email)
	pgtest.Must(t, "current consent", err)
	if !ok || ev.Status != campaigns.Withdrawn || ev.Source != campaigns.SourceImport {
		t.Fatalf("email consent after withdrawal = %+v ok=%v", ev, ok)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'members.import' AND actor = 'tester'`); n != 3 {
		t.Fatalf("import audit entries = %d, want 3", n)
	}
}

func TestImportUntrustworthyFileImportsNothing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, data, want string
	}{
		{"unknown column", strings.Replace(header, "language", "lang", 1) + "M1,A,B,,,,,,,,,,\n", `bad.csv:1: unknown column "lang"`},
		{"malformed quoting", header + "M1,A,B,,,,,,,,,,\nM2,\"A,B,,,,,,,,,,\n", "bad.csv:3: extraneous or missing \" in quoted-field"},
		{"non-UTF-8", header + "M1,A,B,,,,,,,,,,\nM2,J\xe4rvinen,B,,,,,,,,,,\n", "bad.csv:3: field 2 (column 4) is not valid UTF-8"},
		{"field count", header + "M1,A,B,,,,,,,,,,\nM2,A,B\n", "bad.csv:3: wrong number of fields"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := pgtest.New(t)
			_, err := importCSV(t, s, "bad.csv", c.data)
			var fe *csvfile.FileError
			if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("err = %v, want prefix %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is more than one line: %q", err)
			}
			for _, table := range []string{"members", "consent_events", "audit_log"} {
				if n := pgtest.Count(t, s.DB(), "SELECT count(*) FROM "+table); n != 0 {
					t.Fatalf("%s has %d rows after a refused import", table, n)
				}
			}
		})
	}
}

func TestConsentDerivedFromLatestEvent(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	ctx := context.Background()
	_, err := importCSV(t, s, "m.csv", header+"M1,Aino,Laine,aino@example.com,0401234567,Katu 1,00100,HELSINKI,FI,fi,,,\n")
	pgtest.Must(t, "import", err)
	m, _ := s.MemberByExternalID(ctx, "M1")
	if _, ok, _ := s.CurrentConsent(ctx, m.ID, campaigns.Email); ok {
		t.Fatal("a member never asked has an email consent")
	}
	steps := []campaigns.ConsentStatus{campaigns.Granted, campaigns.Withdrawn, campaigns.Granted, campaigns.Withdrawn}
	var last campaigns.ConsentEvent
	for i, st := range steps {
		last, err = s.RecordConsent(ctx, "M1", campaigns.ConsentChange{Channel: campaigns.Email, Status: st,
			Source: campaigns.SourceCustomerService, WordingVersion: fmt.Sprintf("v%d", i)}, campaigns.Audit{Actor: "cs-anna", Action: campaigns.AuditConsentSet})
		pgtest.Must(t, "record consent", err)
		cur, ok, err := s.CurrentConsent(ctx, m.ID, campaigns.Email)
		pgtest.Must(t, "current", err)
		if !ok || cur.Status != st || cur.ID != last.ID || cur.WordingVersion != fmt.Sprintf("v%d", i) {
			t.Fatalf("after step %d current = %+v, want %s from event %d", i, cur, st, last.ID)
		}
	}
	hist, err := s.ConsentHistory(ctx, m.ID)
	pgtest.Must(t, "history", err)
	if len(hist) != len(steps) {
		t.Fatalf("history has %d events, want %d: history is kept", len(hist), len(steps))
	}
	if got := campaigns.CurrentConsent(hist)[campaigns.Email]; got.ID != last.ID {
		t.Fatalf("domain derivation picked event %d, want %d", got.ID, last.ID)
	}
	if _, ok, _ := s.CurrentConsent(ctx, m.ID, campaigns.SMS); ok {
		t.Fatal("email events made an SMS consent")
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM audit_log WHERE action = 'consent.set' AND actor = 'cs-anna' AND member_id = $1`, m.ID); n != 4 {
		t.Fatalf("consent audit entries = %d, want 4", n)
	}
	_, err = s.RecordConsent(ctx, "nobody", campaigns.ConsentChange{Channel: campaigns.Email, Status: campaigns.Granted, Source: campaigns.SourceImport}, campaigns.Audit{Actor: "x", Action: campaigns.AuditConsentSet})
	if !errors.Is(err, campaigns.ErrNotFound) {
		t.Fatalf("consent for unknown member: err = %v, want ErrNotFound", err)
	}
}

// seedHistory gives member M1 a campaign delivery, a redeemed coupon and a purchase, so that export and
// erasure have every table's facts to deal with.
func seedHistory(t *testing.T, s *postgres.Store) int64 {
	t.Helper()
	_, err := importCSV(t, s, "m.csv", header+
		"M1,Väinö,Järvinen,vaino.jarvinen@example.com,040 765 4321,Rantatie 7 A 2,90100,OULU,FI,fi,yes,yes,no\n"+
		"M2,Elsa,Öhman,elsa@example.com,,Strandvägen 2,22100,MARIEHAMN,FI,sv,yes,,\n")
	pgtest.Must(t, "import", err)
	db := s.DB()
	var memberID int64
	pgtest.Must(t, "id", db.Get(&memberID, `SELECT id FROM members WHERE external_id = 'M1'`))
	stmts := []string{
		`INSERT INTO campaigns (id, name, kind, spec) VALUES (1, 'Autumn coupon', 'coupon', '{}')`,
		`INSERT INTO runs (id, campaign_id, scheduled_for, status) VALUES (1, 1, now(), 'finished')`,
		fmt.Sprintf(`INSERT INTO deliveries (id, run_id, member_id, channel, batch, status, consent_event_id, sent_at)
			SELECT 1, 1, %d, 'email', 0, 'sent', event_id, now() FROM current_consents WHERE member_id = %d AND channel = 'email'`, memberID, memberID),
		fmt.Sprintf(`INSERT INTO coupons (id, code, campaign_id, run_id, member_id, channel, delivery_id, discount, valid_until)
			VALUES (1, 'K7QX9MZP4RTA', 1, 1, %d, 'email', 1, '-20 %%', now() + interval '30 days')`, memberID),
		`INSERT INTO coupon_redemptions (coupon_id, store, order_ref) VALUES (1, 'Jack''s Mood Kamppi', 'ORD-1')`,
		// A failure stored by an older version, with a server's words about the person in it.
		fmt.Sprintf(`INSERT INTO deliveries (id, run_id, member_id, channel, batch, status, reason)
			VALUES (2, 1, %d, 'sms', 0, 'failed', 'smtp RCPT TO refused: 550 No such user (vaino.jarvinen)')`, memberID),
		fmt.Sprintf(`INSERT INTO purchases (member_id, purchased_at, amount_cents, store, order_ref)
			VALUES (%d, now() - interval '3 days', 4990, 'Jack''s Mood Oulu', 'ORD-0')`, memberID),
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return memberID
}

func TestExportHoldsEveryFact(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	memberID := seedHistory(t, s)
	x, err := s.ExportMember(context.Background(), "M1", campaigns.Audit{Actor: "privacy-pia", Action: campaigns.AuditMembersExport})
	pgtest.Must(t, "export", err)
	b, err := json.Marshal(x)
	pgtest.Must(t, "marshal", err)
	doc := string(b)
	for _, want := range []string{`"first_name":"Väinö"`, `"email":"vaino.jarvinen@example.com"`, `"phone":"+358407654321"`,
		`"street":"Rantatie 7 A 2"`, `"source":"import"`, `"order_ref":"ORD-0"`, `"amount_cents":4990`,
		`"campaign_name":"Autumn coupon"`, `"code":"K7QX9MZP4RTA"`, `"redeemed_order_ref":"ORD-1"`,
		`"redeemed_store":"Jack's Mood Kamppi"`, `"action":"members.export"`, `"email":"granted"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("export lacks %s", want)
		}
	}
	if len(x.Consents) != 3 || len(x.Deliveries) != 2 || x.Deliveries[0].ConsentEventID == nil || x.Deliveries[1].Status != campaigns.DeliveryFailed {
		t.Errorf("export has %d consents, deliveries %+v", len(x.Consents), x.Deliveries)
	}
	if strings.Contains(doc, "Öhman") || strings.Contains(doc, "elsa@") {
		t.Error("export of M1 contains another member's data")
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM audit_log WHERE action = 'members.export' AND actor = 'privacy-pia' AND member_id = $1`, memberID); n != 1 {
		t.Errorf("export audit entries = %d, want 1", n)
	}
	if _, err := s.ExportMember(context.Background(), "M404", campaigns.Audit{Actor: "privacy-pia", Action: campaigns.AuditMembersExport}); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("export of unknown member: %v", err)
	}
}

func TestEraseLeavesNoPersonalData(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	ctx := context.Background()
	memberID := seedHistory(t, s)
	id, err := s.EraseMember(ctx, "M1", campaigns.Audit{Actor: "privacy-pia", Action: campaigns.AuditMembersErase})
	pgtest.Must(t, "erase", err)
	if id != memberID {
		t.Fatalf("erase returned id %d, want %d", id, memberID)
	}
	db := s.DB()
	// Every row of every table of the schema, as text, must be free of the person.
	var tables []string
	pgtest.Must(t, "tables", db.Select(&tables, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`))
	if len(tables) < 12 {
		t.Fatalf("found only %d tables: %v", len(tables), tables)
	}
	for _, table := range tables {
		var rows []string
		pgtest.Must(t, table, db.Select(&rows, fmt.Sprintf(`SELECT t::text FROM %s t`, table)))
		for _, r := range rows {
			if table == "audit_log" {
				// The external id stays on the erasure's own entries, to show that it was done.
				r = strings.ReplaceAll(r, ",M1)", ",)")
			}
			for _, pii := range []string{"Väinö", "Järvinen", "vaino.jarvinen", "+358407654321", "7654321", "Rantatie", "M1"} {
				if strings.Contains(r, pii) {
					t.Errorf("table %s still holds %q: %s", table, pii, r)
				}
			}
		}
	}
	// Anonymous counts and the coupon ledger remain.
	if n := pgtest.Count(t, db, `SELECT count(*) FROM deliveries WHERE run_id = 1 AND status = 'sent' AND member_id IS NULL`); n != 1 {
		t.Errorf("anonymous delivery rows = %d, want 1", n)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM coupons c JOIN coupon_redemptions r ON r.coupon_id = c.id WHERE c.code = 'K7QX9MZP4RTA' AND c.member_id IS NULL`); n != 1 {
		t.Errorf("coupon ledger rows = %d, want 1", n)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM members WHERE external_id = 'M2'`); n != 1 {
		t.Error("erasing M1 removed M2")
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'members.erase' AND actor = 'privacy-pia' AND member_id = $1`, memberID); n != 1 {
		t.Errorf("erase audit entries = %d, want 1", n)
	}
	// A later import of the same address is a new member whose email and phone stay suppressed.
	_, err = importCSV(t, s, "again.csv", header+"M1-NEW,V,J,Vaino.Jarvinen@Example.com,0407654321,Katu 2,90100,OULU,FI,fi,yes,yes,\n")
	pgtest.Must(t, "re-import", err)
	if n := pgtest.Count(t, db, `SELECT count(*) FROM members m JOIN suppressions s ON s.key IN (m.email_key, m.phone_key) AND s.reason = 'erasure' WHERE m.external_id = 'M1-NEW'`); n != 2 {
		t.Errorf("re-imported address matches %d erasure suppressions, want 2 (email and phone)", n)
	}
	if _, err := s.EraseMember(ctx, "M1", campaigns.Audit{Actor: "privacy-pia", Action: campaigns.AuditMembersErase}); !errors.Is(err, campaigns.ErrNotFound) {
		t.Errorf("second erase: %v, want ErrNotFound", err)
	}
}

func TestUsersTokensAreHashed(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	ctx := context.Background()
	u, token, err := s.AddUser(ctx, "maija", campaigns.RoleMarketer, time.Now().Add(time.Hour), campaigns.Audit{Actor: "admin", Action: campaigns.AuditUsersAdd}.With("user", "maija"))
	pgtest.Must(t, "add user", err)
	if !strings.HasPrefix(token, "dsp_") || len(token) < 40 {
		t.Fatalf("token %q too short", token)
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM users WHERE position($1 in token_hash::text) > 0 OR token_hash = convert_to($1, 'UTF8')`, token); n != 0 {
		t.Fatal("the token is stored in clear")
	}
	got, err := s.UserByToken(ctx, token)
	pgtest.Must(t, "by token", err)
	if got.ID != u.ID || got.Role != campaigns.RoleMarketer {
		t.Fatalf("by token = %+v", got)
	}
	if _, err := s.UserByToken(ctx, token+"x"); !errors.Is(err, campaigns.ErrNotFound) {
		t.Fatalf("altered token: %v", err)
	}
	// A token past its term opens nothing.
	_, err = s.DB().Exec(`UPDATE users SET token_expires_at = now() - interval '1 second' WHERE name = 'maija'`)
	pgtest.Must(t, "expire", err)
	if _, err := s.UserByToken(ctx, token); !errors.Is(err, campaigns.ErrNotFound) {
		t.Fatalf("expired token: %v", err)
	}
	if _, _, err := s.AddUser(ctx, "maija", campaigns.RoleAdmin, time.Now().Add(time.Hour), campaigns.Audit{Actor: "admin", Action: campaigns.AuditUsersAdd}); !errors.Is(err, campaigns.ErrConflict) {
		t.Fatalf("duplicate user: %v", err)
	}
	entries, err := s.AuditList(ctx, campaigns.AuditFilter{Since: time.Now().Add(-time.Hour)})
	pgtest.Must(t, "audit list", err)
	if len(entries) != 1 || entries[0].Action != "users.add" || entries[0].Actor != "admin" || !strings.Contains(entries[0].Details, "maija") {
		t.Fatalf("audit = %+v", entries)
	}
}

func TestSuppressionsAndPurchases(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	ctx := context.Background()
	_, err := importCSV(t, s, "m.csv", header+"M1,Aino,Laine,aino@example.com,0401234567,Koulukatu 4 B,00100,HELSINKI,FI,fi,yes,yes,\n")
	pgtest.Must(t, "import", err)
	supp := "channel,value\nemail,AINO@example.com\npostal,laine | koulukatu 4b|00100\nsms,+358 40 999 9999\nfax,123\n"
	res, err := s.ImportSuppressions(ctx, func(row func(csvfile.SuppressionRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadSuppressions(strings.NewReader(supp), "s.csv", row)
	}, campaigns.SuppressionReason("robinson"), campaigns.Audit{Actor: "ops-olli", Action: campaigns.AuditSuppressionImport})
	pgtest.Must(t, "suppressions", err)
	if res.Added != 3 || len(res.Rejections) != 1 || res.Rejections[0].Line != 5 {
		t.Fatalf("added %d, rejected %+v", res.Added, res.Rejections)
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM members m JOIN suppressions s ON (s.channel = 'email' AND s.key = m.email_key) OR (s.channel = 'postal' AND s.key = m.postal_key)`); n != 2 {
		t.Fatalf("member matches %d suppressions, want email and postal (case- and space-insensitive)", n)
	}
	purchases := "external_id,purchased_at,amount_eur,store,order_ref\nM1,2026-03-01T14:05:00+02:00,49.90,Kamppi,O-1\nM9,2026-03-01T14:05:00+02:00,5,Kamppi,O-2\nM1,yesterday,5,Kamppi,O-3\nM1,2026-03-02T10:00:00Z,0.5,Web,O-4\n"
	read := func(row func(csvfile.PurchaseRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadPurchases(strings.NewReader(purchases), "p.csv", row)
	}
	res, err = s.ImportPurchases(ctx, read, campaigns.Audit{Actor: "ops-olli", Action: campaigns.AuditPurchasesImport})
	pgtest.Must(t, "purchases", err)
	if res.Added != 2 || len(res.Rejections) != 2 {
		t.Fatalf("purchases added %d rejected %+v", res.Added, res.Rejections)
	}
	if n := pgtest.Count(t, s.DB(), `SELECT sum(amount_cents) FROM purchases`); n != 5040 {
		t.Fatalf("sum of amounts = %d cents, want 5040", n)
	}
	res, err = s.ImportPurchases(ctx, read, campaigns.Audit{Actor: "ops-olli", Action: campaigns.AuditPurchasesImport})
	pgtest.Must(t, "purchases again", err)
	if res.Added != 0 {
		t.Fatalf("re-import added %d purchases", res.Added)
	}
}
