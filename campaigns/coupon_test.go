package campaigns

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCouponCodes(t *testing.T) {
	format := regexp.MustCompile(`^[` + CouponAlphabet + `]{4}-[` + CouponAlphabet + `]{4}-[` + CouponAlphabet + `]{4}$`)
	seen := make(map[string]bool)
	counts := make(map[rune]int)
	const n = 100000
	for i := 0; i < n; i++ {
		c, err := NewCouponCode()
		if err != nil {
			t.Fatal(err)
		}
		if !format.MatchString(c) {
			t.Fatalf("code %q is not XXXX-XXXX-XXXX from the alphabet", c)
		}
		if strings.ContainsAny(c, "01OIL") {
			t.Fatalf("code %q has an ambiguous character", c)
		}
		if seen[c] {
			t.Fatalf("code %q drawn twice in %d", c, i)
		}
		seen[c] = true
		for _, r := range strings.ReplaceAll(c, "-", "") {
			counts[r]++
		}
	}
	// Every letter of the alphabet is drawn about equally often (no modulo bias): within 5 %.
	want := float64(n*CouponLength) / float64(len(CouponAlphabet))
	for _, r := range CouponAlphabet {
		if got := float64(counts[r]); got < want*0.95 || got > want*1.05 {
			t.Errorf("letter %c drawn %0.f times, want about %.0f", r, got, want)
		}
	}
	if bits := float64(CouponLength) * 4.857; bits < 40 { // log2(29) = 4.857
		t.Fatalf("codes carry %.0f bits, SPEC asks for at least 40", bits)
	}
}

func TestUnsubscribeTokens(t *testing.T) {
	secret := []byte("0123456789abcdef-secret")
	tok := SignUnsubscribe(secret, 42, Email)
	got, err := VerifyUnsubscribe([][]byte{secret}, tok)
	if err != nil || got.MemberID != 42 || got.Channel != Email {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if strings.Contains(tok, "@") {
		t.Fatalf("token %q carries more than an id", tok)
	}
	bad := []string{
		SignUnsubscribe([]byte("another-secret-0123456"), 42, Email),
		strings.Replace(tok, ".42.", ".43.", 1),
		strings.Replace(tok, ".email.", ".sms.", 1),
		tok[:len(tok)-1],
		tok + "A",
		"u1" + tok[2:],
		"",
		"....",
	}
	for _, b := range bad {
		if _, err := VerifyUnsubscribe([][]byte{secret}, b); !errors.Is(err, ErrInvalid) {
			t.Errorf("token %q accepted: %v", b, err)
		}
	}
}

// DISPATCH_SECRET can be rotated: links signed by the previous secret keep working while it is
// given as a previous one, and stop when it is dropped. Tokens of the first version (no key id)
// still verify.
func TestUnsubscribeTokensSurviveARotatedSecret(t *testing.T) {
	old, current := []byte("old-secret-0123456789abcdef"), []byte("new-secret-0123456789abcdef")
	sent := SignUnsubscribe(old, 7, Email)
	if !strings.HasPrefix(sent, "u2."+KeyID(old)+".7.email.") {
		t.Fatalf("token %q does not name its key", sent)
	}
	if got, err := VerifyUnsubscribe([][]byte{current, old}, sent); err != nil || got.MemberID != 7 {
		t.Fatalf("an old link after rotation: %+v %v", got, err)
	}
	if _, err := VerifyUnsubscribe([][]byte{current}, sent); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an old link after its secret was dropped: %v", err)
	}
	body := "u1.9.sms"
	v1 := body + "." + base64.RawURLEncoding.EncodeToString(unsubscribeMAC(old, body))
	if got, err := VerifyUnsubscribe([][]byte{current, old}, v1); err != nil || got.MemberID != 9 || got.Channel != SMS {
		t.Fatalf("a first-version link: %+v %v", got, err)
	}
}

func TestCouponValidUntilIsTheEndOfTheLastDay(t *testing.T) {
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		issued string
		days   int
		want   string
	}{
		// Late in the evening in Helsinki, already the next day in Helsinki than in UTC.
		{"2026-11-30T21:30:00Z", 30, "2026-12-30T23:59:59.999999+02:00"},
		{"2026-11-30T22:10:00Z", 30, "2026-12-31T23:59:59.999999+02:00"},
		// Across the change to summer time: the last day ends at its own midnight.
		{"2026-03-01T08:00:00Z", 30, "2026-03-31T23:59:59.999999+03:00"},
		{"2026-10-20T08:00:00Z", 7, "2026-10-27T23:59:59.999999+02:00"},
		{"2026-12-31T12:00:00Z", 1, "2027-01-01T23:59:59.999999+02:00"},
	} {
		issued, _ := time.Parse(time.RFC3339, c.issued)
		got := CouponValidUntil(issued, c.days, helsinki).Format("2006-01-02T15:04:05.999999Z07:00")
		if got != c.want {
			t.Errorf("issued %s for %d days: valid until %s, want %s", c.issued, c.days, got, c.want)
		}
	}
}
