package postgres_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

const fullHeader = "external_id,first_name,last_name,email,phone,street,postal_code,city,country,language,email_consent,sms_consent,postal_objection,address_protected,deceased\n"

// matrix has one member that may be reached everywhere and, for every rule of the register, a member
// that fails only that rule.
const matrix = fullHeader +
	"OK,Aino,Laine,aino@example.com,0401000001,Koulukatu 1,00100,HELSINKI,FI,fi,yes,yes,no,no,no\n" +
	"DECEASED,Eino,Laine,eino@example.com,0401000002,Koulukatu 2,00100,HELSINKI,FI,fi,yes,yes,no,no,yes\n" +
	"NO-EMAIL-CONSENT,Aku,Ankka,aku@example.com,0401000003,Koulukatu 3,00100,HELSINKI,FI,fi,,yes,no,no,no\n" +
	"EMAIL-WITHDRAWN,Iines,Ankka,iines@example.com,0401000004,Koulukatu 4,00100,HELSINKI,FI,fi,no,yes,no,no,no\n" +
	"NO-EMAIL,Tupu,Ankka,,0401000005,Koulukatu 5,00100,HELSINKI,FI,fi,,yes,no,no,no\n" +
	"EMAIL-BOUNCED,Hupu,Ankka,hupu@example.com,0401000006,Koulukatu 6,00100,HELSINKI,FI,fi,yes,yes,no,no,no\n" +
	"NO-SMS-CONSENT,Lupu,Ankka,lupu@example.com,0401000007,Koulukatu 7,00100,HELSINKI,FI,fi,yes,,no,no,no\n" +
	"SMS-WITHDRAWN,Mikki,Hiiri,mikki@example.com,0401000008,Koulukatu 8,00100,HELSINKI,FI,fi,yes,no,no,no,no\n" +
	"PHONE-SUPPRESSED,Minni,Hiiri,minni@example.com,0401000009,Koulukatu 9,00100,HELSINKI,FI,fi,yes,yes,no,no,no\n" +
	"POSTAL-OBJECTION,Hessu,Hopo,hessu@example.com,0401000010,Koulukatu 10,00100,HELSINKI,FI,fi,yes,yes,yes,no,no\n" +
	"ROBINSON,Pelle,Peloton,pelle@example.com,0401000011,Koulukatu 11,00100,HELSINKI,FI,fi,yes,yes,no,no,no\n" +
	"PROTECTED,Musta,Pekka,musta@example.com,0401000012,Koulukatu 12,00100,HELSINKI,FI,fi,yes,yes,no,yes,no\n" +
	"NO-STREET,Roope,Ankka,roope@example.com,0401000013,,00100,HELSINKI,FI,fi,yes,yes,no,no,no\n" +
	"ABROAD,Karl,Svensson,karl@example.com,0401000014,Drottninggatan 1,11151,STOCKHOLM,SE,sv,yes,yes,no,no,no\n" +
	// A Helsinki landline with SMS consent: kept, but it cannot take an SMS.
	"LANDLINE,Pluto,Koira,pluto@example.com,09 100 0015,Koulukatu 15,00100,HELSINKI,FI,fi,yes,yes,no,no,no\n"

const matrixSuppressions = "channel,value\nemail,hupu@example.com\nsms,+358401000009\npostal,Peloton|Koulukatu 11|00100\n"

func importMembers(t *testing.T, s *postgres.Store, data string) {
	t.Helper()
	res, err := s.ImportMembers(context.Background(), func(row func(csvfile.MemberRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadMembers(strings.NewReader(data), "m.csv", row)
	}, campaigns.SourceImport, campaigns.Audit{Actor: "tester", Action: campaigns.AuditMembersImport})
	pgtest.Must(t, "import", err)
	if res.Rejected > 0 {
		t.Fatalf("import rejected %v", res.Rejections)
	}
}

func suppress(t *testing.T, s *postgres.Store, data, reason string) {
	t.Helper()
	res, err := s.ImportSuppressions(context.Background(), func(row func(csvfile.SuppressionRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadSuppressions(strings.NewReader(data), "s.csv", row)
	}, campaigns.SuppressionReason(reason), campaigns.Audit{Actor: "tester", Action: campaigns.AuditSuppressionImport})
	pgtest.Must(t, "suppressions", err)
	rej := res.Rejections
	if len(rej) > 0 {
		t.Fatalf("suppressions rejected %v", rej)
	}
}

// startRun creates the campaign, makes it due and starts its run; it returns the run's id.
func startRun(t *testing.T, s *postgres.Store, spec campaigns.Spec) (campaignID, runID int64) {
	t.Helper()
	pgtest.Must(t, "validate", spec.Validate())
	return startUnvalidatedRun(t, s, spec)
}

// startUnvalidatedRun is startRun for a spec that skipped validation, as a hostile API client's might.
func startUnvalidatedRun(t *testing.T, s *postgres.Store, spec campaigns.Spec) (campaignID, runID int64) {
	t.Helper()
	ctx := context.Background()
	c, err := s.CreateCampaign(ctx, &spec, campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignCreate})
	pgtest.Must(t, "create", err)
	pgtest.Must(t, "schedule", s.ScheduleCampaign(ctx, c.ID, time.Now().Add(-time.Second), campaigns.Audit{Actor: "tester", Action: campaigns.AuditCampaignSchedule}))
	runs, err := s.StartDueRuns(ctx, time.Now(), func(campaigns.Spec, time.Time) (*time.Time, error) { return nil, nil })
	pgtest.Must(t, "start", err)
	if len(runs) != 1 {
		t.Fatalf("started %d runs, want 1", len(runs))
	}
	return c.ID, runs[0]
}

// selectAll runs the selection of a run slice by slice until it is done, and returns the last step's
// result (with the skip counts) and the deliveries recorded by all steps.
func selectAll(t *testing.T, s *postgres.Store, runID int64, opt campaigns.SelectOptions) (campaigns.SelectResult, int64) {
	t.Helper()
	var total int64
	for i := 0; ; i++ {
		res, err := s.SelectRun(context.Background(), runID, opt)
		pgtest.Must(t, "select", err)
		total += res.Deliveries
		if res.Done || !res.Selected {
			return res, total
		}
		if i > 1000 {
			t.Fatal("selection does not end")
		}
	}
}

// ledger returns "EXTERNAL_ID:channel" for every delivery of the run, sorted.
func ledger(t *testing.T, s *postgres.Store, runID int64) []string {
	t.Helper()
	var rows []string
	pgtest.Must(t, "ledger", s.DB().Select(&rows, `SELECT m.external_id || ':' || d.channel FROM deliveries d
		JOIN members m ON m.id = d.member_id WHERE d.run_id = $1 ORDER BY 1`, runID))
	return rows
}

func TestEligibilityMatrix(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	importMembers(t, s, matrix)
	suppress(t, s, matrixSuppressions, "robinson")
	_, runID := startRun(t, s, campaigns.Spec{Name: "matrix", Kind: campaigns.KindNewsletter,
		Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal}})
	res, _ := selectAll(t, s, runID, campaigns.SelectOptions{SliceSize: 4})

	got := map[string]string{}
	for _, row := range ledger(t, s, runID) {
		id, ch, _ := strings.Cut(row, ":")
		got[id] += ch + " "
	}
	want := map[string]string{
		"OK":               "email postal sms ",
		"NO-EMAIL-CONSENT": "postal sms ",
		"EMAIL-WITHDRAWN":  "postal sms ",
		"NO-EMAIL":         "postal sms ",
		"EMAIL-BOUNCED":    "postal sms ",
		"NO-SMS-CONSENT":   "email postal ",
		"SMS-WITHDRAWN":    "email postal ",
		"PHONE-SUPPRESSED": "email postal ",
		"POSTAL-OBJECTION": "email sms ",
		"ROBINSON":         "email sms ",
		"PROTECTED":        "email sms ",
		"NO-STREET":        "email sms ",
		"ABROAD":           "email sms ",
		"LANDLINE":         "email postal ",
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: channels %q, want %q", id, got[id], w)
		}
	}
	if got["DECEASED"] != "" {
		t.Errorf("a deceased member got %q", got["DECEASED"])
	}
	wantSkips := map[campaigns.Channel]map[string]int64{
		campaigns.Email:  {"deceased": 1, "no_consent": 2, "no_address": 1, "suppressed": 1},
		campaigns.SMS:    {"deceased": 1, "landline": 1, "no_consent": 2, "suppressed": 1},
		campaigns.Postal: {"deceased": 1, "objected": 1, "suppressed": 1, "address_protected": 1, "no_address": 2},
	}
	if fmt.Sprint(res.Skipped) != fmt.Sprint(wantSkips) {
		t.Errorf("skipped = %v\nwant      %v", res.Skipped, wantSkips)
	}
	// Every email and SMS delivery rests on the consent event that was current when it was selected.
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM deliveries d JOIN consent_events e ON e.id = d.consent_event_id
		WHERE d.run_id = $1 AND d.channel IN ('email', 'sms') AND e.status = 'granted' AND e.channel = d.channel AND e.member_id = d.member_id`, runID); n != 20 {
		t.Errorf("email+sms deliveries resting on a granted consent = %d, want all 20", n)
	}
}

func TestSelectionIsIdempotent(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	importMembers(t, s, matrix)
	_, runID := startRun(t, s, campaigns.Spec{Name: "twice", Kind: campaigns.KindNewsletter,
		Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal}})
	ctx := context.Background()
	opt := campaigns.SelectOptions{BatchSize: 4, SliceSize: 5}
	_, n := selectAll(t, s, runID, opt)
	first := ledger(t, s, runID)
	var batches int
	pgtest.Must(t, "batches", s.DB().Get(&batches, `SELECT count(*) FROM batches WHERE run_id = $1`, runID))
	// The run is selected: another call does nothing.
	res2, err := s.SelectRun(ctx, runID, opt)
	pgtest.Must(t, "select again", err)
	if res2.Selected {
		t.Fatal("a selected run was selected again")
	}
	// Even a selection forced to start over (as if every slice's work were lost) adds no row.
	_, err = s.DB().Exec(`UPDATE runs SET status = 'selecting', selected_upto = 0, slices = 0 WHERE id = $1`, runID)
	pgtest.Must(t, "reset", err)
	_, n3 := selectAll(t, s, runID, opt)
	if n3 != 0 || n != int64(len(first)) {
		t.Fatalf("first selection %d rows (ledger %d); forced re-selection inserted %d", n, len(first), n3)
	}
	if again := ledger(t, s, runID); strings.Join(again, ",") != strings.Join(first, ",") {
		t.Fatalf("ledger changed:\n%v\n%v", first, again)
	}
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM batches WHERE run_id = $1`, runID); n != batches || batches < 3 {
		t.Fatalf("batches %d then %d", batches, n)
	}
	if n := pgtest.Count(t, s.DB(), `SELECT max(size) FROM batches WHERE run_id = $1 AND channel <> 'postal'`, runID); n > 4 {
		t.Fatalf("a batch holds %d deliveries, batch size is 4", n)
	}
}

func TestStrategyFirst(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	importMembers(t, s, matrix)
	suppress(t, s, matrixSuppressions, "robinson")
	_, runID := startRun(t, s, campaigns.Spec{Name: "first", Kind: campaigns.KindNewsletter, Strategy: campaigns.StrategyFirst,
		Channels: []campaigns.Channel{campaigns.SMS, campaigns.Email, campaigns.Postal}})
	selectAll(t, s, runID, campaigns.SelectOptions{SliceSize: 3})
	got := map[string]string{}
	for _, row := range ledger(t, s, runID) {
		id, ch, _ := strings.Cut(row, ":")
		if got[id] != "" {
			t.Errorf("%s got two messages: %s and %s", id, got[id], ch)
		}
		got[id] = ch
	}
	want := map[string]string{"OK": "sms", "NO-SMS-CONSENT": "email", "SMS-WITHDRAWN": "email", "PHONE-SUPPRESSED": "email",
		"NO-EMAIL-CONSENT": "sms", "POSTAL-OBJECTION": "sms", "LANDLINE": "email"}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: got %q, want %q", id, got[id], w)
		}
	}
	if _, ok := got["DECEASED"]; ok {
		t.Error("deceased member selected")
	}
	if len(got) != 14 {
		t.Errorf("%d members selected, want 14", len(got))
	}
}

func TestFrequencyCap(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	importMembers(t, s, fullHeader+
		"A,Aino,Laine,a@example.com,,Katu 1,00100,HELSINKI,FI,fi,yes,,,,\n"+
		"B,Bertta,Laine,b@example.com,,Katu 1,00100,HELSINKI,FI,fi,yes,,,,\n")
	spec := campaigns.Spec{Name: "capped", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.Email},
		FrequencyCap: &campaigns.FrequencyCap{Max: 2, Per: campaigns.Duration(7 * 24 * time.Hour)}}
	var counts []int
	for i := 0; i < 3; i++ {
		_, runID := startRun(t, s, spec)
		selectAll(t, s, runID, campaigns.SelectOptions{})
		counts = append(counts, len(ledger(t, s, runID)))
		// Member A's messages are sent; B's first is sent eight days ago, outside the window.
		_, err := s.DB().Exec(`UPDATE deliveries d SET status = 'sent', sent_at = CASE WHEN m.external_id = 'B' THEN now() - interval '8 days' ELSE now() END
			FROM members m WHERE m.id = d.member_id AND d.run_id = $1`, runID)
		pgtest.Must(t, "mark sent", err)
		if i == 0 {
			_, err = s.DB().Exec(`UPDATE deliveries d SET sent_at = now() FROM members m WHERE m.id = d.member_id AND m.external_id = 'B' AND d.run_id = $1`, runID)
			pgtest.Must(t, "B recent", err)
		}
	}
	// Runs 1 and 2: both members. Run 3: A has had 2 in 7 days and is capped; B has one inside the window.
	if fmt.Sprint(counts) != "[2 2 1]" {
		t.Fatalf("deliveries per run = %v, want [2 2 1]", counts)
	}
	var reasons []string
	pgtest.Must(t, "skips", s.DB().Select(&reasons, `SELECT reason || '=' || members FROM run_skips ORDER BY run_id`))
	if fmt.Sprint(reasons) != "[frequency_cap=1]" {
		t.Fatalf("skips = %v", reasons)
	}
}

func TestSegmentConditions(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	importMembers(t, s, fullHeader+
		"HKI-FI,Aino,Laine,a@example.com,,Katu 1,00100,HELSINKI,FI,fi,yes,,,,\n"+
		"ESPOO-SV,Åsa,Berg,b@example.com,,Gatan 1,02100,ESBO,FI,sv,yes,,,,\n"+
		"TRE-FI,Timo,Salo,c@example.com,,Katu 2,33100,TAMPERE,FI,fi,yes,,,,\n"+
		"HKI-EN,John,Smith,d@example.com,,Street 1,00500,HELSINKI,FI,en,yes,,,,\n"+
		"HKI-POOR,Pirkko,Salo,e@example.com,,Katu 3,00200,HELSINKI,FI,fi,yes,,,,\n"+
		"HKI-OLD,Olli,Salo,f@example.com,,Katu 4,00300,HELSINKI,FI,fi,yes,,,,\n")
	_, err := s.DB().Exec(`INSERT INTO purchases (member_id, purchased_at, amount_cents, order_ref)
		SELECT id, now() - interval '10 days', CASE external_id WHEN 'HKI-POOR' THEN 1000 ELSE 3000 END, external_id || '-1' FROM members
		UNION ALL SELECT id, now() - interval '20 days', 3000, external_id || '-2' FROM members WHERE external_id <> 'HKI-POOR'
		UNION ALL SELECT id, now() - interval '400 days', 90000, external_id || '-3' FROM members WHERE external_id = 'HKI-OLD'`)
	pgtest.Must(t, "purchases", err)
	_, err = s.DB().Exec(`DELETE FROM purchases p USING members m WHERE m.id = p.member_id AND m.external_id = 'HKI-OLD' AND p.purchased_at > now() - interval '100 days'`)
	pgtest.Must(t, "old purchases only", err)
	spend := campaigns.Money(5000)
	_, runID := startRun(t, s, campaigns.Spec{Name: "segment", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.Email},
		Segment: campaigns.Segment{Languages: []campaigns.Language{"fi", "sv"}, PostalCodes: []string{"00*", "02*"},
			PurchasedWithin: campaigns.Duration(365 * 24 * time.Hour), MinTotalSpend: &spend}})
	selectAll(t, s, runID, campaigns.SelectOptions{SliceSize: 2})
	got := ledger(t, s, runID)
	sort.Strings(got)
	if strings.Join(got, " ") != "ESPOO-SV:email HKI-FI:email" {
		t.Fatalf("segment selected %v, want ESPOO-SV and HKI-FI", got)
	}
	// A value that looks like SQL is a value: nothing is spliced into the statement.
	_, runID = startUnvalidatedRun(t, s, campaigns.Spec{Name: "inject", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.Email},
		Segment: campaigns.Segment{PostalCodes: []string{"00'; DROP TABLE members; --"}, Languages: []campaigns.Language{"fi' OR true --"}}})
	selectAll(t, s, runID, campaigns.SelectOptions{})
	if n := pgtest.Count(t, s.DB(), `SELECT count(*) FROM members`); n != 6 || len(ledger(t, s, runID)) != 0 {
		t.Fatalf("members %d after a hostile pattern", n)
	}
}

// TestSegmentConditionsEach checks every segment condition alone, all of them together and none of
// them, against the exact members selected: each absent condition must select as if it were not
// written, and each given one must still hold across slices (the purchases of a member are summed
// within the member's slice).
func TestSegmentConditionsEach(t *testing.T) {
	t.Parallel()
	s := pgtest.New(t)
	importMembers(t, s, fullHeader+
		"FI-00-6000,Aino,Laine,a@example.com,,Katu 1,00100,HELSINKI,FI,fi,yes,,,,\n"+
		"SV-00-OLD90000,Åsa,Berg,b@example.com,,Gatan 1,00200,HELSINGFORS,FI,sv,yes,,,,\n"+
		"EN-00-9000,John,Smith,c@example.com,,Street 1,00100,HELSINKI,FI,en,yes,,,,\n"+
		"FI-33-9000,Timo,Salo,d@example.com,,Katu 2,33100,TAMPERE,FI,fi,yes,,,,\n"+
		"FI-00-4999,Pirkko,Salo,e@example.com,,Katu 3,00100,HELSINKI,FI,fi,yes,,,,\n"+
		"FI-00-NONE,Olli,Salo,f@example.com,,Katu 4,00100,HELSINKI,FI,fi,yes,,,,\n"+
		"SV-00-5000,Bo,Berg,g@example.com,,Gatan 2,00500,HELSINGFORS,FI,sv,yes,,,,\n")
	_, err := s.DB().Exec(`INSERT INTO purchases (member_id, purchased_at, amount_cents, order_ref)
		SELECT m.id, now() - v.age * interval '1 day', v.cents, m.external_id || '-' || v.n
		FROM members m JOIN (VALUES ('FI-00-6000', 10, 3000, 1), ('FI-00-6000', 20, 3000, 2),
			('SV-00-OLD90000', 400, 90000, 1), ('EN-00-9000', 5, 9000, 1), ('FI-33-9000', 30, 9000, 1),
			('FI-00-4999', 3, 4999, 1), ('SV-00-5000', 100, 2000, 1), ('SV-00-5000', 200, 3000, 2))
			AS v (ext, age, cents, n) ON v.ext = m.external_id`)
	pgtest.Must(t, "purchases", err)
	all := "EN-00-9000 FI-00-4999 FI-00-6000 FI-00-NONE FI-33-9000 SV-00-5000 SV-00-OLD90000"
	money := func(m campaigns.Money) *campaigns.Money { return &m }
	year := campaigns.Duration(365 * 24 * time.Hour)
	cases := []struct {
		name    string
		segment campaigns.Segment
		want    string
	}{
		{"none", campaigns.Segment{}, all},
		{"languages", campaigns.Segment{Languages: []campaigns.Language{"sv"}}, "SV-00-5000 SV-00-OLD90000"},
		{"postal code", campaigns.Segment{PostalCodes: []string{"33100"}}, "FI-33-9000"},
		{"postal prefix", campaigns.Segment{PostalCodes: []string{"001*", "005*"}}, "EN-00-9000 FI-00-4999 FI-00-6000 FI-00-NONE SV-00-5000"},
		// Any purchase at all, of any time.
		{"min spend zero", campaigns.Segment{MinTotalSpend: money(0)}, "EN-00-9000 FI-00-4999 FI-00-6000 FI-33-9000 SV-00-5000 SV-00-OLD90000"},
		// Without purchased_within the spend counts purchases of any time: the 400-day-old one too.
		{"min spend", campaigns.Segment{MinTotalSpend: money(5000)}, "EN-00-9000 FI-00-6000 FI-33-9000 SV-00-5000 SV-00-OLD90000"},
		{"purchased within", campaigns.Segment{PurchasedWithin: year}, "EN-00-9000 FI-00-4999 FI-00-6000 FI-33-9000 SV-00-5000"},
		{"purchased within and min spend", campaigns.Segment{PurchasedWithin: year, MinTotalSpend: money(5000)}, "EN-00-9000 FI-00-6000 FI-33-9000 SV-00-5000"},
		{"purchased within a short window and min spend", campaigns.Segment{PurchasedWithin: campaigns.Duration(150 * 24 * time.Hour), MinTotalSpend: money(5000)}, "EN-00-9000 FI-00-6000 FI-33-9000"},
		{"languages, postal codes and min spend", campaigns.Segment{Languages: []campaigns.Language{"fi", "sv"}, PostalCodes: []string{"00*"}, MinTotalSpend: money(5000)},
			"FI-00-6000 SV-00-5000 SV-00-OLD90000"},
		{"everything", campaigns.Segment{Languages: []campaigns.Language{"fi", "en"}, PostalCodes: []string{"00100", "33*"}, PurchasedWithin: year, MinTotalSpend: money(5000)},
			"EN-00-9000 FI-00-6000 FI-33-9000"},
	}
	for _, c := range cases {
		for _, slice := range []int{2, 0} {
			_, runID := startRun(t, s, campaigns.Spec{Name: c.name, Kind: campaigns.KindNewsletter,
				Channels: []campaigns.Channel{campaigns.Email}, Segment: c.segment})
			selectAll(t, s, runID, campaigns.SelectOptions{SliceSize: slice})
			var got []string
			for _, row := range ledger(t, s, runID) {
				got = append(got, strings.TrimSuffix(row, ":email"))
			}
			sort.Strings(got)
			if strings.Join(got, " ") != c.want {
				t.Errorf("%s (slice size %d): selected %v\nwant %s", c.name, slice, got, c.want)
			}
		}
	}

	// Empty lists, as a client may send them ("languages": []), are no condition: they select
	// every member, not none.
	campaignID, runID := startRun(t, s, campaigns.Spec{Name: "empty lists", Kind: campaigns.KindNewsletter,
		Channels: []campaigns.Channel{campaigns.Email}})
	_, err = s.DB().Exec(`UPDATE campaigns SET spec = jsonb_set(spec, '{segment}', '{"languages": [], "postal_codes": []}') WHERE id = $1`, campaignID)
	pgtest.Must(t, "empty lists", err)
	selectAll(t, s, runID, campaigns.SelectOptions{})
	var got []string
	for _, row := range ledger(t, s, runID) {
		got = append(got, strings.TrimSuffix(row, ":email"))
	}
	sort.Strings(got)
	if strings.Join(got, " ") != all {
		t.Errorf("empty lists: selected %v\nwant %s", got, all)
	}
}
