package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// reach returns member ext's member_reach reason on each channel ("" where they may be reached).
func reach(t *testing.T, s *postgres.Store, ext string) map[string]string {
	t.Helper()
	var rows []struct {
		Channel string `db:"channel"`
		Reason  string `db:"reason"`
	}
	pgtest.Must(t, "reach", s.DB().Select(&rows, `SELECT r.channel, coalesce(r.reason, '') AS reason
		FROM member_reach r JOIN members m ON m.id = r.member_id WHERE m.external_id = $1`, ext))
	out := map[string]string{}
	for _, r := range rows {
		out[r.Channel] = r.Reason
	}
	return out
}

// phoneOf returns member ext's stored phone and phone_sms ("<nil>" when NULL).
func phoneOf(t *testing.T, s *postgres.Store, ext string) string {
	t.Helper()
	var phone *string
	var sms *bool
	pgtest.Must(t, "phone", s.DB().QueryRow(`SELECT phone, phone_sms FROM members WHERE external_id = $1`, ext).Scan(&phone, &sms))
	str := func(v any) string {
		switch v := v.(type) {
		case *string:
			if v != nil {
				return *v
			}
		case *bool:
			if v != nil {
				return fmt.Sprint(*v)
			}
		}
		return "<nil>"
	}
	return str(phone) + " " + str(sms)
}

// TestLandlineNotSentSMS: a member whose phone is a landline keeps the number and is reached by
// email and post, but not by SMS, for the reason landline: at selection, and at send time when the
// number became a landline after the delivery was selected.
func TestLandlineNotSentSMS(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	ctx := context.Background()
	importMembers(t, s, fullHeader+
		"LAND,Pluto,Koira,pluto@example.com,(09) 100 0015,Koulukatu 15,00100,HELSINKI,FI,fi,yes,yes,no,no,no\n"+
		"MOBILE,Aino,Laine,aino@example.com,+358 (0)40 100 0016,Koulukatu 16,00100,HELSINKI,FI,fi,yes,yes,no,no,no\n"+
		"NOPHONE,Eino,Laine,eino@example.com,,Koulukatu 17,00100,HELSINKI,FI,fi,yes,yes,no,no,no\n")
	for ext, want := range map[string]string{"LAND": "+35891000015 false", "MOBILE": "+358401000016 true", "NOPHONE": "<nil> <nil>"} {
		if got := phoneOf(t, s, ext); got != want {
			t.Errorf("%s: phone, phone_sms = %s, want %s", ext, got, want)
		}
	}
	for ext, want := range map[string]string{
		"LAND":    "map[email: postal: sms:landline]",
		"MOBILE":  "map[email: postal: sms:]",
		"NOPHONE": "map[email: postal: sms:no_address]",
	} {
		if got := fmt.Sprint(reach(t, s, ext)); got != want {
			t.Errorf("%s: member_reach %s, want %s", ext, got, want)
		}
	}

	_, runID := startRun(t, s, campaigns.Spec{Name: "landline", Kind: campaigns.KindNewsletter,
		Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal}})
	res, _ := selectAll(t, s, runID, campaigns.SelectOptions{})
	if got := strings.Join(ledger(t, s, runID), " "); got != "LAND:email LAND:postal MOBILE:email MOBILE:postal MOBILE:sms NOPHONE:email NOPHONE:postal" {
		t.Errorf("ledger = %s", got)
	}
	if got := fmt.Sprint(res.Skipped[campaigns.SMS]); got != "map[landline:1 no_address:1]" {
		t.Errorf("SMS skips = %s, want landline:1 no_address:1", got)
	}

	// MOBILE's number is now a landline (a row without a phone changes neither the number nor its
	// kind): the worker's recheck skips the SMS already selected, for the reason landline.
	importMembers(t, s, fullHeader+
		"MOBILE,,,,03 100 0016,,,,,,,,,,\n"+
		"LAND,,,,,,,,,,,,,,\n")
	if got := phoneOf(t, s, "MOBILE") + " / " + phoneOf(t, s, "LAND"); got != "+35831000016 false / +35891000015 false" {
		t.Errorf("after the re-import: %s", got)
	}
	var smsID int64
	pgtest.Must(t, "delivery", s.DB().Get(&smsID, `SELECT id FROM deliveries WHERE run_id = $1 AND channel = 'sms'`, runID))
	rc, err := s.Recheck(ctx, []int64{smsID})
	pgtest.Must(t, "recheck", err)
	if len(rc) != 1 || rc[0].Reason != campaigns.SkipLandline {
		t.Errorf("recheck = %+v, want reason %q", rc, campaigns.SkipLandline)
	}
	// And back to a mobile number: reachable again.
	importMembers(t, s, fullHeader+"MOBILE,,,,050 100 0016,,,,,,,,,,\n")
	if got := reach(t, s, "MOBILE")["sms"]; got != "" {
		t.Errorf("mobile again: sms reason %q, want none", got)
	}
}

// TestMigrationBackfillsPhoneKind: a register migrated to 0001 with numbers stored by the old
// normaliser gets phone_sms by the rule 0002 states, and the trunk 0 the old code kept is dropped,
// with the number's suppression carried over.
func TestMigrationBackfillsPhoneKind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.SchemaURL(t))
	pgtest.Must(t, "open", err)
	t.Cleanup(func() { s.Close() })
	migs, err := postgres.Migrations()
	pgtest.Must(t, "migrations", err)
	if migs[0].Version != 1 || migs[1].Version != 2 {
		t.Fatalf("migrations %d, %d; want 0001 and 0002 first", migs[0].Version, migs[1].Version)
	}
	db := s.DB()
	for _, q := range []string{
		migs[0].SQL,
		`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
		`INSERT INTO schema_migrations (version, name) VALUES (1, 'register')`,
		`INSERT INTO members (external_id, phone) VALUES
			('TRUNK', '+3580509600348'), ('MOBILE', '+358401234567'), ('MOBILE-457', '+3584571234567'),
			('LAND', '+35891234567'), ('KOTKA', '+358531234567'), ('SERVICE', '+35880012345'),
			('SHORT', '+3584482'), ('SWEDEN', '+46701234567'), ('NONE', NULL)`,
		`INSERT INTO consent_events (member_id, channel, status, source) SELECT id, 'sms', 'granted', 'import' FROM members`,
		`INSERT INTO suppressions (channel, key, reason) VALUES ('sms', suppression_key('sms', '+3580509600348'), 'robinson')`,
	} {
		_, err := db.Exec(q)
		pgtest.Must(t, q, err)
	}
	applied, err := s.Migrate(ctx)
	pgtest.Must(t, "migrate", err)
	if len(applied) == 0 || applied[0] != "0002_phone_kind" {
		t.Fatalf("applied %v, want 0002_phone_kind first", applied)
	}
	want := map[string]string{
		"TRUNK":      "+358509600348 true suppressed",
		"MOBILE":     "+358401234567 true ",
		"MOBILE-457": "+3584571234567 true ",
		"LAND":       "+35891234567 false landline",
		"KOTKA":      "+358531234567 false landline", // 05 is an area code: +3585 is not all mobile
		"SERVICE":    "+35880012345 false landline",
		"SHORT":      "+3584482 false landline", // no number at all; at least no SMS goes to it
		"SWEDEN":     "+46701234567 true ",
		"NONE":       "<nil> <nil> no_address",
	}
	for ext, w := range want {
		if got := phoneOf(t, s, ext) + " " + reach(t, s, ext)["sms"]; got != w {
			t.Errorf("%s: %q, want %q", ext, got, w)
		}
	}
	// Every writer must say whether a phone takes an SMS.
	if _, err := db.Exec(`INSERT INTO members (external_id, phone) VALUES ('UNSAID', '+358401234568')`); err == nil || !strings.Contains(err.Error(), "members_phone_sms") {
		t.Errorf("a phone without phone_sms: err = %v, want the members_phone_sms check", err)
	}
}
