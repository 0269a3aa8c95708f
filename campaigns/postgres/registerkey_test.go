package postgres_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

// digest is the unkeyed digest 0001 computed for a normalised value ("sms:+358401234567").
func digest(channel, value string) []byte {
	sum := sha256.Sum256([]byte(channel + ":" + value))
	return sum[:]
}

func keyed(key []byte, channel, value string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(digest(channel, value))
	return m.Sum(nil)
}

// TestErasedPhoneCannotBeRecovered reproduces the audit's attack: an erased member's phone stayed on
// the suppression list as an unsalted SHA-256, reversed by hashing every Finnish mobile number of
// the 040 range. Now the list holds HMAC-SHA256 under a key the database does not have: hashing
// candidates finds nothing, and the key (which the test knows, as dispatch does) gives the stored value.
func TestErasedPhoneCannotBeRecovered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.New(t)
	_, err := importCSV(t, s, "m.csv", header+"M1,Ville,Aho,ville@example.com,040 765 4321,Katu 2,90100,OULU,FI,fi,yes,yes,\n")
	pgtest.Must(t, "import", err)
	_, err = s.EraseMember(ctx, "M1", campaigns.Audit{Actor: "privacy", Action: campaigns.AuditMembersErase})
	pgtest.Must(t, "erase", err)

	var stored []byte
	pgtest.Must(t, "read list", s.DB().Get(&stored, `SELECT key FROM suppressions WHERE channel = 'sms'`))
	// The attacker's search, over the 040 range (10^7 numbers would take the test too long; the
	// right one is among these).
	for n := 7654000; n < 7655000; n++ {
		if c := digest("sms", fmt.Sprintf("+35840%07d", n)); hmac.Equal(c, stored) {
			t.Fatalf("the stored key is the unsalted SHA-256 of +35840%07d", n)
		}
	}
	if want := keyed(pgtest.RegisterKey, "sms", "+358407654321"); !hmac.Equal(stored, want) {
		t.Errorf("stored sms key %x, want HMAC-SHA256(key, SHA-256(\"sms:+358407654321\")) %x", stored, want)
	}
	var erased []byte
	pgtest.Must(t, "read erased", s.DB().Get(&erased, `SELECT key FROM erased_members`))
	if want := keyed(pgtest.RegisterKey, "external_id", "M1"); !hmac.Equal(erased, want) {
		t.Errorf("erased member key %x, want the keyed hash of M1", erased)
	}
	// The keys still do their work: the number comes back in a new member, who is suppressed.
	_, err = importCSV(t, s, "again.csv", header+"M2,V,A,,+358407654321,Katu 2,90100,OULU,FI,fi,,yes,\n")
	pgtest.Must(t, "re-import", err)
	if got := reach(t, s, "M2")["sms"]; got != "suppressed" {
		t.Errorf("M2's sms reach %q, want suppressed", got)
	}
	// And the erasure holds for M1's external id.
	res, err := importCSV(t, s, "old.csv", header+"M1,Ville,Aho,ville@example.com,,Katu 2,90100,OULU,FI,fi,yes,,\n")
	pgtest.Must(t, "old import", err)
	if res.Imported != 0 || res.Rejected != 1 {
		t.Errorf("re-import of erased M1: %+v, want rejected", res)
	}
}

// TestRegisterKeyAdoptedOnce: a register written before keyed hashes (unkeyed digests) is converted
// when a key is first given: the ban list keeps working without a single address being needed; a
// process given another key is refused, and one given none cannot add to the list.
func TestRegisterKeyAdoptedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.SchemaURL(t)
	s, err := postgres.Open(ctx, url)
	pgtest.Must(t, "open", err)
	t.Cleanup(func() { s.Close() })
	migs, err := postgres.Migrations()
	pgtest.Must(t, "migrations", err)
	db := s.DB()
	_, err = db.Exec(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
	pgtest.Must(t, "schema_migrations", err)
	// The register as 0009 left it: generated unkeyed keys, a Robinson entry, an erased id.
	for _, m := range migs {
		if m.Version >= 10 {
			break
		}
		_, err := db.Exec(m.SQL)
		pgtest.Must(t, m.Name, err)
		_, err = db.Exec(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
		pgtest.Must(t, m.Name, err)
	}
	for _, q := range []string{
		`INSERT INTO members (external_id, email, phone, phone_sms, last_name, street, postal_code, city) VALUES
			('BANNED', 'Banned@Example.com', '+358401111111', true, 'Aho', 'Katu 1', '00100', 'HELSINKI'),
			('FREE', 'free@example.com', '+358402222222', true, 'Berg', 'Tie 2', '00200', 'HELSINKI')`,
		`INSERT INTO consent_events (member_id, channel, status, source) SELECT id, c, 'granted', 'import' FROM members, unnest(ARRAY['email', 'sms']) c`,
		`INSERT INTO suppressions (channel, key, reason) VALUES ('email', suppression_key('email', 'banned@example.com'), 'robinson'),
			('postal', suppression_key('postal', 'Aho|Katu 1|00100'), 'robinson')`,
		`INSERT INTO erased_members (key) VALUES (suppression_key('external_id', 'GONE'))`,
	} {
		_, err := db.Exec(q)
		pgtest.Must(t, q, err)
	}
	_, err = s.Migrate(ctx)
	pgtest.Must(t, "migrate", err)

	// Without a key nothing can be added to the list.
	if _, err := importCSV(t, s, "m.csv", header+"NEW,A,B,new@example.com,,,,,FI,fi,yes,,\n"); !errors.Is(err, campaigns.ErrNoRegisterKey) {
		t.Errorf("import without a key: %v, want ErrNoRegisterKey", err)
	}

	s.SetRegisterKey(pgtest.RegisterKey)
	pgtest.Must(t, "adopt", s.AdoptRegisterKey(ctx))
	var key []byte
	pgtest.Must(t, "read", db.Get(&key, `SELECT key FROM suppressions WHERE channel = 'email'`))
	if want := keyed(pgtest.RegisterKey, "email", "banned@example.com"); !hmac.Equal(key, want) {
		t.Errorf("converted email key %x, want %x", key, want)
	}
	for ext, want := range map[string]map[string]string{
		"BANNED": {"email": "suppressed", "sms": "", "postal": "suppressed"},
		"FREE":   {"email": "", "sms": "", "postal": ""},
	} {
		got := reach(t, s, ext)
		for ch, w := range want {
			if got[ch] != w {
				t.Errorf("%s %s: reach %q, want %q", ext, ch, got[ch], w)
			}
		}
	}
	res, err := importCSV(t, s, "gone.csv", header+"GONE,A,B,gone@example.com,,,,,FI,fi,yes,,\n")
	pgtest.Must(t, "import erased", err)
	if res.Rejected != 1 {
		t.Errorf("import of an id erased before keyed hashes: %+v, want it rejected", res)
	}
	// Adopting again (another process, a restart) changes nothing.
	pgtest.Must(t, "adopt again", s.AdoptRegisterKey(ctx))
	pgtest.Must(t, "read", db.Get(&key, `SELECT key FROM suppressions WHERE channel = 'email'`))
	if want := keyed(pgtest.RegisterKey, "email", "banned@example.com"); !hmac.Equal(key, want) {
		t.Error("a second adoption converted the keys again")
	}

	other, err := postgres.Open(ctx, url)
	pgtest.Must(t, "open", err)
	t.Cleanup(func() { other.Close() })
	other.SetRegisterKey([]byte("another key, another register"))
	if err := other.AdoptRegisterKey(ctx); !errors.Is(err, campaigns.ErrRegisterKeyMismatch) {
		t.Errorf("another key: %v, want ErrRegisterKeyMismatch", err)
	}
	if _, err := other.EraseMember(ctx, "FREE", campaigns.Audit{Actor: "p", Action: campaigns.AuditMembersErase}); !errors.Is(err, campaigns.ErrRegisterKeyMismatch) {
		t.Errorf("erase with another key: %v, want ErrRegisterKeyMismatch", err)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM members WHERE external_id = 'FREE'`); n != 1 {
		t.Error("an erasure with the wrong key went through")
	}
}
