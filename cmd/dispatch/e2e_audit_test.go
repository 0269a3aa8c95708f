package main

import (
	"strings"
	"testing"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// TestCommandLineAndAPILeaveTheSameAuditTrail runs the same use cases, as the same named users, once
// through the command line and once through the JSON API, each against a register of its own, and
// finds the same audit entries: one implementation of each use case, whichever edge asked for it.
func TestCommandLineAndAPILeaveTheSameAuditTrail(t *testing.T) {
	t.Parallel()
	members := memberHeader +
		"A1,Aino,Laine,aino@example.com,040 111 2222,Katu 1,00100,HELSINKI,FI,fi,yes,yes,no,,\n" +
		"A2,Bertil,Ek,bertil@example.com,,Gatan 2,00200,HELSINGFORS,FI,sv,yes,,,,\n"
	const spec = `{"name":"Audit","kind":"coupon","channels":["email"],"coupon":{"discount":"-15 %","valid_days":14}}`
	const at = "2031-01-02T09:00:00+02:00"

	// The command line.
	cli := newSystem(t)
	cli.must("users", "add", "maija", "--role", "marketer")
	cli.must("users", "add", "pirjo", "--role", "privacy")
	as := func(user string, args ...string) string { return cli.must(append([]string{"--as", user}, args...)...) }
	membersFile := writeFile(t, "members.csv", members)
	as("pirjo", "members", "import", membersFile)
	id := strings.TrimSpace(as("maija", "campaigns", "create", "-f", writeFile(t, "audit.yaml",
		"name: Audit\nkind: coupon\nchannels: [email]\ncoupon:\n  discount: \"-15 %\"\n  valid_days: 14\n")))
	as("maija", "campaigns", "preview", id, "--member", "A1", "--channel", "email")
	as("maija", "campaigns", "schedule", id, "--at", at)
	as("maija", "campaigns", "pause", id)
	as("maija", "campaigns", "resume", id)
	as("maija", "campaigns", "cancel", id)
	as("pirjo", "consent", "set", "A1", "sms", "withdrawn", "--source", "customer-service")
	as("pirjo", "members", "export", "A1")
	as("pirjo", "members", "erase", "A2", "--yes")

	// The API.
	api := newSystem(t)
	marketer := strings.TrimSpace(api.must("users", "add", "maija", "--role", "marketer"))
	privacy := strings.TrimSpace(api.must("users", "add", "pirjo", "--role", "privacy"))
	api.serve()
	steps := []struct {
		method, path, token, body string
		want                      int
	}{
		{"POST", "/api/members/import?name=members.csv", privacy, members, 200},
		{"POST", "/api/campaigns", marketer, spec, 201},
		{"POST", "/api/campaigns/" + id + "/preview", marketer, `{"member":"A1","channel":"email"}`, 200},
		{"POST", "/api/campaigns/" + id + "/schedule", marketer, `{"at":"` + at + `"}`, 200},
		{"POST", "/api/campaigns/" + id + "/pause", marketer, "", 200},
		{"POST", "/api/campaigns/" + id + "/resume", marketer, "", 200},
		{"POST", "/api/campaigns/" + id + "/cancel", marketer, "", 200},
		{"PUT", "/api/members/A1/consents/sms", privacy, `{"status":"withdrawn","source":"customer-service"}`, 200},
		{"GET", "/api/members/A1/export", privacy, "", 200},
		{"DELETE", "/api/members/A2", privacy, "", 200},
	}
	for _, st := range steps {
		ct := "application/json"
		if strings.Contains(st.path, "import") {
			ct = "text/csv"
		}
		if code, _, raw := api.call(st.method, st.path, st.token, ct, st.body); code != st.want {
			t.Fatalf("%s %s: %d %s", st.method, st.path, code, raw)
		}
	}

	trail := func(s *system) []string {
		var rows []string
		pgtest.Must(t, "audit", s.dbHandle().Select(&rows, `SELECT actor || ' ' || action || ' member=' || coalesce(member_id::text, '-') || ' ' || details::text
			FROM audit_log WHERE actor IN ('maija', 'pirjo') ORDER BY id`))
		return rows
	}
	got, want := trail(api), trail(cli)
	if len(want) != len(steps) {
		t.Fatalf("the command line left %d audit entries for %d actions:\n%s", len(want), len(steps), strings.Join(want, "\n"))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit trails differ\nAPI:\n%s\ncommand line:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The entries say what was done: the schedule names its time, the import its file and counts.
	all := strings.Join(want, "\n")
	for _, part := range []string{`maija campaigns.schedule member=- {"at": "2031-01-02T07:00:00Z", "campaign_id": ` + id + `}`,
		`pirjo members.import member=- {"file": "members.csv", "source": "import", "updated": 0, "imported": 2, "rejected": 0, "unchanged": 0}`,
		"maija campaigns.preview member=1 ", "pirjo members.erase member=2 "} {
		if !strings.Contains(all, part) {
			t.Errorf("audit trail lacks %q:\n%s", part, all)
		}
	}
}
