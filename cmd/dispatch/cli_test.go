package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// cli runs dispatch commands in-process against one test schema.
type cli struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	c := &cli{t: t, env: map[string]string{"DISPATCH_DATABASE_URL": pgtest.SchemaURL(t),
		"DISPATCH_SUPPRESSION_KEY": string(pgtest.RegisterKey)}}
	if _, errOut, code := c.run("migrate"); code != 0 {
		t.Fatalf("migrate: exit %d: %s", code, errOut)
	}
	return c
}

func (c *cli) run(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errOut, func(k string) string { return c.env[k] })
	return out.String(), errOut.String(), code
}

// runIn runs a command with stdin as its standard input.
func (c *cli) runIn(stdin string, args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, func(k string) string { return c.env[k] })
	return out.String(), errOut.String(), code
}

func (c *cli) must(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("dispatch %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// dbHandle opens the test's schema for assertions; closed when the test ends.
func (c *cli) dbHandle() *sqlx.DB {
	c.t.Helper()
	db, err := sqlx.Open("postgres", c.env["DISPATCH_DATABASE_URL"])
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { db.Close() })
	return db
}

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const memberHeader = "external_id,first_name,last_name,email,phone,street,postal_code,city,country,language,email_consent,sms_consent,postal_objection,address_protected,deceased\n"

func TestConfigErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"DISPATCH_DATABASE_URL":    "mysql://x",
		"DISPATCH_REDIS_URL":       "localhost:6379",
		"DISPATCH_SMTP_URL":        "smtp://h:25?starttls=maybe",
		"DISPATCH_SMTP_TIMEOUT":    "0s",
		"DISPATCH_MAIL_FROM":       "not an address",
		"DISPATCH_SMS_URL":         "carrier-pigeon://",
		"DISPATCH_PUBLIC_URL":      "ftp://x",
		"DISPATCH_HTTP_ADDR":       "8080",
		"DISPATCH_TIMEZONE":        "Europe/Atlantis",
		"DISPATCH_EMAIL_RATE":      "fast",
		"DISPATCH_SECRET":          "short",
		"DISPATCH_SUPPRESSION_KEY": "0000000000000000",
		"DISPATCH_TOKEN_LIFETIME":  "1m",
	}
	for _, weak := range []string{"                ", "aaaaaaaaaaaaaaaaaaaaaaaa", " 0123456789abcdef0123"} {
		c := &cli{t: t, env: map[string]string{"DISPATCH_SECRET": weak}}
		if _, errOut, code := c.run("migrate"); code != 2 || !strings.HasPrefix(errOut, "dispatch: DISPATCH_SECRET: ") {
			t.Errorf("DISPATCH_SECRET=%q: exit %d, %q", weak, code, errOut)
		}
	}
	for k, v := range cases {
		c := &cli{t: t, env: map[string]string{k: v}}
		_, errOut, code := c.run("migrate")
		if code != 2 || !strings.HasPrefix(errOut, "dispatch: "+k+": ") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s=%q: exit %d, stderr %q; want exit 2 and one line naming the variable", k, v, code, errOut)
		}
	}
	// Unsubscribe links are https (RFC 8058), but for a loopback address in development.
	for v, ok := range map[string]bool{"http://news.jacksmood.example": false, "http://10.0.0.5:8081": false,
		"https://news.jacksmood.example": true, "http://127.0.0.1:8081": true, "http://localhost:8081": true, "http://[::1]:8081": true} {
		c := &cli{t: t, env: map[string]string{"DISPATCH_PUBLIC_URL": v, "DISPATCH_DATABASE_URL": "postgres://postgres@127.0.0.1:1/x?sslmode=disable"}}
		_, errOut, code := c.run("worker")
		refused := code == 2 && strings.Contains(errOut, "DISPATCH_PUBLIC_URL: "+v+": unsubscribe links must be https")
		if refused == ok || strings.Count(errOut, "\n") != 1 {
			t.Errorf("worker with DISPATCH_PUBLIC_URL=%s: exit %d, %q", v, code, errOut)
		}
	}
	c := &cli{t: t, env: map[string]string{}}
	if _, errOut, code := c.run("migrate", "--timezone", "Nowhere/X"); code != 2 || !strings.Contains(errOut, "--timezone") {
		t.Errorf("bad flag value: exit %d, %q", code, errOut)
	}
	if _, _, code := c.run("no-such-command"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}

// TestSuppressionKeyRequired: the key of the suppression list's hashes is not in the database, so a
// process without it cannot add to the list (an import, an erasure) and serve does not start; one
// with another key than the register's is refused before it writes a hash that would never match.
func TestSuppressionKeyRequired(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.must("users", "add", "pia", "--role", "admin")
	c.env["DISPATCH_USER"] = "pia"
	file := filepath.Join(t.TempDir(), "m.csv")
	if err := os.WriteFile(file, []byte("external_id,first_name,last_name,email,phone,street,postal_code,city,country,language,email_consent,sms_consent,postal_objection\n"+
		"M1,Maija,Aho,m1@example.com,,Katu 1,00100,HELSINKI,FI,fi,yes,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.must("members", "import", file)

	noKey := &cli{t: t, env: map[string]string{"DISPATCH_DATABASE_URL": c.env["DISPATCH_DATABASE_URL"], "DISPATCH_USER": "pia"}}
	if _, errOut, code := noKey.run("members", "erase", "M1", "--yes"); code == 0 || !strings.Contains(errOut, "DISPATCH_SUPPRESSION_KEY is not set") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("erase without the key: exit %d, %q", code, errOut)
	}
	noKey.env["DISPATCH_SECRET"] = "e2e-secret-0123456789abcdef"
	if _, errOut, code := noKey.run("serve"); code != 2 || !strings.HasPrefix(errOut, "dispatch: DISPATCH_SUPPRESSION_KEY: required by serve") {
		t.Errorf("serve without the key: exit %d, %q", code, errOut)
	}
	other := &cli{t: t, env: map[string]string{"DISPATCH_DATABASE_URL": c.env["DISPATCH_DATABASE_URL"], "DISPATCH_USER": "pia",
		"DISPATCH_SUPPRESSION_KEY": "another-key-0123456789abcdef"}}
	if _, errOut, code := other.run("members", "erase", "M1", "--yes"); code == 0 || !strings.Contains(errOut, "is not the key this register's suppression list was made with") {
		t.Errorf("erase with another key: exit %d, %q", code, errOut)
	}
	if out := c.must("members", "export", "M1"); !strings.Contains(out, "m1@example.com") {
		t.Errorf("M1 was erased by a process with the wrong key: %s", out)
	}
}

func TestMembersImportExportEraseAudited(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	file := writeFile(t, "members.csv", memberHeader+
		"JM1,Päivi,Hämäläinen,paivi@example.com,040 123 4567,Puistokatu 2 A 3,20100,TURKU,FI,fi,yes,no,no,,\n"+
		"JM2,Björn,Lindqvist,bjorn@example,,Storgatan 5,65100,VASA,FI,sv,,,,,\n")

	// Privileged commands need a named, known user.
	if _, errOut, code := c.run("members", "import", file); code != 2 || !strings.Contains(errOut, "--as NAME or DISPATCH_USER") {
		t.Fatalf("import without user: exit %d, %q", code, errOut)
	}
	if _, errOut, code := c.run("members", "import", file, "--as", "ghost"); code != 1 || !strings.Contains(errOut, `no user named "ghost"`) {
		t.Fatalf("import as unknown user: exit %d, %q", code, errOut)
	}
	token := strings.TrimSpace(c.must("users", "add", "pia", "--role", "privacy"))
	if !strings.HasPrefix(token, "dsp_") {
		t.Fatalf("users add printed %q, want a token", token)
	}
	c.env["DISPATCH_USER"] = "pia"

	out, errOut, code := c.run("members", "import", file)
	if code != 1 || out != "imported 1, updated 0, unchanged 0, rejected 1\n" {
		t.Fatalf("import: exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut, "members.csv: line 3: email: email domain \"example\" has no top-level part\n") {
		t.Fatalf("import stderr %q lacks the rejected line", errOut)
	}
	out, _, _ = c.run("members", "import", file)
	if out != "imported 0, updated 0, unchanged 1, rejected 1\n" {
		t.Fatalf("re-import: %q", out)
	}
	// A change is audited with the old and new values of each field it touches.
	moved := writeFile(t, "moved.csv", memberHeader+"JM1,,,paivi.h@example.com,,Linnankatu 7,20100,,,,,,,,\n")
	if out := c.must("members", "import", moved); out != "imported 0, updated 1, unchanged 0, rejected 0\n" {
		t.Fatalf("update import: %q", out)
	}
	var changes string
	pgtest.Must(t, "changes", c.dbHandle().Get(&changes, `SELECT details->>'changes' FROM audit_log WHERE action = 'members.update' AND member_external_id = 'JM1'`))
	if changes != `{"email": {"new": "paivi.h@example.com", "old": "paivi@example.com"}, "street": {"new": "Linnankatu 7", "old": "Puistokatu 2 A 3"}}` {
		t.Fatalf("audited changes: %s", changes)
	}

	bad := writeFile(t, "broken.csv", memberHeader+"JM3,A,B,,,,,,,,,,,,\nJM4,\"A,B,,,,,,,,,,,,\n")
	if _, errOut, code := c.run("members", "import", bad); code != 1 || errOut != "dispatch: broken.csv:3: extraneous or missing \" in quoted-field\n" {
		t.Fatalf("broken file: exit %d, %q", code, errOut)
	}

	c.must("consent", "set", "JM1", "sms", "granted", "--source", "customer-service", "--wording", "2026-01")
	if n := pgtest.Count(t, c.dbHandle(), `SELECT count(*) FROM audit_log WHERE action = 'consent.set' AND details->>'previous' = 'withdrawn' AND details->>'status' = 'granted'`); n != 1 {
		t.Fatalf("the consent change is audited %d times with the state before it", n)
	}
	if _, errOut, code := c.run("consent", "set", "JM1", "fax", "granted", "--source", "import"); code != 2 || !strings.Contains(errOut, "unknown channel") {
		t.Fatalf("bad channel: exit %d, %q", code, errOut)
	}

	out = c.must("members", "export", "JM1")
	var x struct {
		Member struct {
			FirstName string `json:"first_name"`
			Phone     string `json:"phone"`
		} `json:"member"`
		Current map[string]string `json:"current_consents"`
		History []struct {
			Source         string `json:"source"`
			WordingVersion string `json:"wording_version"`
		} `json:"consent_history"`
	}
	if err := json.Unmarshal([]byte(out), &x); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, out)
	}
	if x.Member.FirstName != "Päivi" || x.Member.Phone != "+358401234567" || x.Current["sms"] != "granted" || x.Current["postal"] != "granted" || len(x.History) != 4 {
		t.Fatalf("export = %+v", x)
	}

	if _, errOut, code := c.run("members", "erase", "JM1"); code != 2 || !strings.Contains(errOut, "erasure not confirmed") {
		t.Fatalf("erase without confirmation: exit %d, %q", code, errOut)
	}
	if _, errOut, code := c.runIn("JM2\n", "members", "erase", "JM1"); code != 2 || !strings.Contains(errOut, "erasure not confirmed") {
		t.Fatalf("erase confirmed with another id: exit %d, %q", code, errOut)
	}
	if out, errOut, code := c.runIn("JM1\n", "members", "erase", "JM1"); code != 0 || !strings.HasPrefix(out, "erased member ") {
		t.Fatalf("erase printed %q, %q", out, errOut)
	}
	if _, errOut, code := c.run("members", "export", "JM1"); code != 1 || !strings.Contains(errOut, `no member with external id "JM1"`) {
		t.Fatalf("export after erase: exit %d, %q", code, errOut)
	}
	// Nothing of the erased person stays in the audit log but which fields changed.
	var after string
	pgtest.Must(t, "scrubbed", c.dbHandle().Get(&after, `SELECT details::text FROM audit_log WHERE action = 'members.update' AND member_external_id = 'JM1'`))
	if strings.Contains(after, "paivi") || strings.Contains(after, "Linnankatu") || !strings.Contains(after, `"fields": ["email", "street"]`) {
		t.Fatalf("audit entry after erasure: %s", after)
	}
	// An erasure holds: the old file does not bring the person back, until they are readmitted.
	out, errOut, code = c.run("members", "import", file)
	if code != 1 || out != "imported 0, updated 0, unchanged 0, rejected 2\n" || !strings.Contains(errOut, "members.csv: line 2: external_id: this member was erased on ") {
		t.Fatalf("re-import after erasure: exit %d, %q, %q", code, out, errOut)
	}
	if n := pgtest.Count(t, c.dbHandle(), `SELECT count(*) FROM members WHERE external_id = 'JM1'`); n != 0 {
		t.Fatal("the import brought an erased member back")
	}
	c.must("members", "readmit", "JM1")
	if out, _, _ := c.run("members", "import", file); out != "imported 1, updated 0, unchanged 0, rejected 1\n" {
		t.Fatalf("import after readmission: %q", out)
	}
	if _, errOut, code := c.run("members", "readmit", "JM1"); code != 1 || !strings.Contains(errOut, "no erased member") {
		t.Fatalf("readmit twice: exit %d, %q", code, errOut)
	}

	out = c.must("audit", "list", "--json")
	var entries []struct {
		Actor, Action string
	}
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if e.Actor != "pia" && e.Action != "users.add" {
			t.Errorf("entry %+v is not by pia", e)
		}
		actions = append(actions, e.Action)
	}
	want := "users.add members.import members.import members.update members.import consent.set members.export members.erase members.import members.readmit members.import"
	if strings.Join(actions, " ") != want {
		t.Fatalf("audit actions = %q, want %q", strings.Join(actions, " "), want)
	}
	if out := c.must("audit", "list", "--since", "1h"); !strings.Contains(out, "members.erase") {
		t.Fatalf("audit list table lacks the erasure:\n%s", out)
	}
	// A privacy officer answering a member's letter: everything about JM1, erased or not.
	out = c.must("audit", "list", "--member", "JM1")
	for _, want := range []string{"consent.set", "members.export", "members.erase", "members.readmit", "JM1", "(Europe/Helsinki)"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit list --member JM1 lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "JM2") {
		t.Errorf("audit list --member JM1 shows another member:\n%s", out)
	}
	if out := c.must("audit", "list", "--action", "members.erase", "--user", "pia", "--json"); strings.Count(out, `"action":"members.erase"`) != 1 || strings.Count(out, `"id":`) != 1 ||
		!strings.Contains(out, `"member_external_id":"JM1"`) {
		t.Fatalf("audit list by action and user: %s", out)
	}
	if out := c.must("audit", "list", "--user", "nobody", "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("audit list of an unknown user: %s", out)
	}
}

func TestUsersListedDisabledAndRotated(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	old := strings.TrimSpace(c.must("users", "add", "maija", "--role", "marketer"))
	c.must("users", "add", "aada", "--role", "admin")
	c.env["DISPATCH_USER"] = "aada"
	out := c.must("users", "list")
	if !strings.Contains(out, "aada") || !strings.Contains(out, "maija") || strings.Count(out, "active") != 2 || !strings.Contains(out, "Europe/Helsinki") {
		t.Fatalf("users list:\n%s", out)
	}
	db := c.dbHandle()
	tokenWorks := func(token string) bool {
		return pgtest.Count(t, db, `SELECT count(*) FROM users WHERE token_hash = sha256(convert_to($1, 'UTF8')) AND disabled_at IS NULL`, token) == 1
	}
	c.env["DISPATCH_TOKEN_LIFETIME"] = "30d"
	fresh := strings.TrimSpace(c.must("users", "rotate", "maija"))
	if n := pgtest.Count(t, db, `SELECT count(*) FROM users WHERE name = 'maija' AND token_expires_at BETWEEN now() + interval '29 days' AND now() + interval '31 days'`); n != 1 {
		t.Fatal("the rotated token does not expire after DISPATCH_TOKEN_LIFETIME")
	}
	if fresh == old || !strings.HasPrefix(fresh, "dsp_") || tokenWorks(old) || !tokenWorks(fresh) {
		t.Fatalf("rotate: old token works %v, new works %v", tokenWorks(old), tokenWorks(fresh))
	}
	if _, errOut, code := c.run("users", "disable", "aada"); code != 1 || !strings.Contains(errOut, "cannot disable themselves") {
		t.Fatalf("disable oneself: exit %d %q", code, errOut)
	}
	c.must("users", "disable", "maija")
	if tokenWorks(fresh) {
		t.Fatal("a disabled user's token still opens the API")
	}
	if out := c.must("users", "list", "--json"); !strings.Contains(out, `"name":"maija","role":"marketer"`) || !strings.Contains(out, `"disabled_at"`) {
		t.Fatalf("users list --json: %s", out)
	}
	// A disabled user can no longer act on the command line either.
	if _, errOut, code := c.run("campaigns", "list", "--as", "maija"); code != 1 || !strings.Contains(errOut, "user maija was disabled on ") {
		t.Fatalf("disabled user acts: exit %d %q", code, errOut)
	}
	c.env["DISPATCH_USER"] = "maija"
	if _, _, code := c.run("users", "rotate", "maija"); code != 1 {
		t.Fatal("a disabled user rotated their own token")
	}
	var actions []string
	pgtest.Must(t, "audit", db.Select(&actions, `SELECT actor || ' ' || action || ' ' || (details->>'user') FROM audit_log WHERE action LIKE 'users.%' ORDER BY id`))
	if got := strings.Join(actions, ","); !strings.HasSuffix(got, "aada users.rotate maija,aada users.disable maija") {
		t.Fatalf("audit: %s", got)
	}
}
