package campaigns_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// segmentPattern is what a segment's postal_codes entry may be, written here apart from
// campaign.go: a whole Finnish postal code, or one to five digits and a star (a prefix).
func segmentPattern(p string) bool {
	digits := strings.TrimSuffix(p, "*")
	if len(digits) < 1 || len(digits) > 5 || (digits == p && len(p) != 5) {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// FuzzSegment checks a segment's fields as a campaign file or the console gives them:
//   - purchased_within: ParseDuration takes exactly digits (a plus sign before them allowed) and a
//     unit m, h, d or w, positive and at most ten years, to that many units; MarshalText reads back to the same duration;
//   - min_total_spend: Money takes exactly 1 to 9 digits with at most two decimals, to that many
//     cents (computed here without floating point); its JSON reads back to the same amount;
//   - Validate refuses exactly the languages other than fi, sv, en and the postal patterns other
//     than a postal code or a digit prefix with a star, naming each of them and no other field; an
//     accepted pattern holds nothing the store's LIKE would read as a wildcard but its final star,
//     and one without a star is a postal code ValidPostalCode takes;
//   - Validate says the same the second time, and a valid spec reads back from its JSON (as the
//     store keeps it) to the same spec.
func FuzzSegment(f *testing.F) {
	f.Add("fi", "00*", "02100", "365d", "50.00", "00100")
	f.Add("sv", "0*", "99999", "2w", "0", "99999")
	f.Add("en", "00100*", "001000*", "12h", "49.9", "0010")
	f.Add("FI", "*", "0*0", "0d", "1e3", "")
	f.Add("de", "", "123456", "9223372036854775807m", "1234567890", "abcde")
	f.Add("fi ", "0_1*", "00%", " 7d ", "-1.00", "٠٠١٠٠")
	f.Fuzz(func(t *testing.T, lang, pat1, pat2, within, spend, code string) {
		// purchased_within
		d, derr := campaigns.ParseDuration(within)
		// strconv.Atoi's optional plus sign is taken: "+7d" is seven days.
		if w := strings.TrimSpace(within); len(w) >= 2 && isDigits(strings.TrimPrefix(w[:len(w)-1], "+")) && strings.Contains("mhdw", w[len(w)-1:]) {
			unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[w[len(w)-1]]
			n, _ := new(big.Int).SetString(w[:len(w)-1], 10)
			total := new(big.Int).Mul(n, big.NewInt(int64(unit)))
			fits := n.Sign() > 0 && total.Cmp(big.NewInt(int64(10*366*24*time.Hour))) <= 0
			if fits != (derr == nil) || (fits && int64(d) != total.Int64()) {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v (ok %v)", within, time.Duration(d), derr, total, fits)
			}
		} else if derr == nil {
			t.Fatalf("ParseDuration(%q) = %v, want an error", within, time.Duration(d))
		}
		if derr == nil {
			text, err := d.MarshalText()
			back, berr := campaigns.ParseDuration(string(text))
			if err != nil || berr != nil || back != d {
				t.Fatalf("Duration %v: MarshalText %q (%v) reads back as %v (%v)", time.Duration(d), text, err, time.Duration(back), berr)
			}
		} else if d != 0 {
			t.Fatalf("ParseDuration(%q) failed but returned %v", within, time.Duration(d))
		}

		// min_total_spend
		var m campaigns.Money
		merr := m.UnmarshalText([]byte(spend))
		if want, ok := cents(strings.TrimSpace(spend)); ok != (merr == nil) || (ok && int64(m) != want) {
			t.Fatalf("Money(%q) = %d, %v; want %d (ok %v)", spend, m, merr, want, ok)
		}
		if merr == nil {
			b, err := m.MarshalJSON()
			var back campaigns.Money
			if err != nil || back.UnmarshalJSON(b) != nil || back != m {
				t.Fatalf("Money %d: JSON %s (%v) reads back as %d", m, b, err, back)
			}
		}

		// Validate, on a spec that is valid but for the segment.
		spec := exampleSpec()
		spec.Segment = campaigns.Segment{Languages: []campaigns.Language{campaigns.Language(lang)}, PostalCodes: []string{pat1, pat2}}
		if derr == nil {
			spec.Segment.PurchasedWithin = d
		}
		if merr == nil {
			spec.Segment.MinTotalSpend = &m
		}
		segment := cloneSegment(spec.Segment)
		verr := spec.Validate()
		var want []string
		if lang != "fi" && lang != "sv" && lang != "en" {
			want = append(want, "segment.languages[0]")
		}
		for i, p := range []string{pat1, pat2} {
			if !segmentPattern(p) {
				want = append(want, "segment.postal_codes["+strconv.Itoa(i)+"]")
			}
		}
		var got []string
		for _, fe := range campaigns.FieldErrors(verr) {
			got = append(got, fe.Field)
		}
		if !slices.Equal(got, want) || (verr == nil) != (len(want) == 0) || (verr != nil && !errors.Is(verr, campaigns.ErrInvalid)) {
			t.Fatalf("Validate(languages %q, postal_codes %q %q) = %v; want problems with %v", lang, pat1, pat2, verr, want)
		}
		if !reflect.DeepEqual(spec.Segment, segment) {
			t.Fatalf("Validate changed the segment: %+v, was %+v", spec.Segment, segment)
		}
		if again := spec.Validate(); errText(again) != errText(verr) {
			t.Fatalf("Validate a second time = %v, first %v", again, verr)
		}
		for _, p := range []string{pat1, pat2} {
			if !segmentPattern(p) {
				continue
			}
			if strings.ContainsAny(strings.TrimSuffix(p, "*"), `*%_\`) {
				t.Fatalf("accepted postal pattern %q holds a wildcard", p)
			}
			if !strings.HasSuffix(p, "*") && !campaigns.ValidPostalCode(p) {
				t.Fatalf("accepted postal pattern %q is not a postal code", p)
			}
		}
		if campaigns.ValidPostalCode(code) != (len(code) == 5 && isDigits(code)) {
			t.Fatalf("ValidPostalCode(%q) = %v", code, campaigns.ValidPostalCode(code))
		}
		if verr == nil {
			b, err := json.Marshal(spec)
			if err != nil {
				t.Fatal(err)
			}
			var back campaigns.Spec
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&back); err != nil {
				t.Fatalf("a valid spec's JSON %s does not read back: %v", b, err)
			}
			if err := back.Validate(); err != nil || !reflect.DeepEqual(back, spec) {
				t.Fatalf("a valid spec's JSON %s reads back as %+v (%v), was %+v", b, back, err, spec)
			}
		}
	})
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// cents reads "49.90" as 4990: 1 to 9 digits, then at most two decimals after a dot.
func cents(s string) (int64, bool) {
	whole, frac, dot := strings.Cut(s, ".")
	if !isDigits(whole) || len(whole) > 9 || (dot && (!isDigits(frac) || len(frac) > 2)) {
		return 0, false
	}
	n := int64(0)
	for _, c := range whole + (frac + "00")[:2] {
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func cloneSegment(s campaigns.Segment) campaigns.Segment {
	c := s
	c.Languages = slices.Clone(s.Languages)
	c.PostalCodes = slices.Clone(s.PostalCodes)
	if s.MinTotalSpend != nil {
		m := *s.MinTotalSpend
		c.MinTotalSpend = &m
	}
	return c
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// tokenMAC is the signature of an unsubscribe token's body, computed here apart from
// unsubscribe.go: HMAC-SHA256 under the secret of "dispatch-unsubscribe", NUL, the body, cut to
// 20 bytes.
func tokenMAC(secret []byte, body string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("dispatch-unsubscribe\x00" + body))
	return m.Sum(nil)[:20]
}

var urlSafeToken = regexp.MustCompile(`^u2\.[0-9a-f]{8}\.[1-9][0-9]*\.(email|sms|postal)\.[A-Za-z0-9_-]{27}$`)

// FuzzUnsubscribeToken checks the unsubscribe links:
//   - a token SignUnsubscribe makes for a member id above zero and a channel verifies to that
//     member and channel, under its secret alone and after a rotation (with a newer secret before
//     it); it is the same every time and safe in a URL as it is; under another secret it fails;
//   - a token for an id of zero or less, or a channel ParseChannel does not read, never verifies;
//   - the token with one byte changed, cut short or lengthened either fails or, when the change
//     is in the encoding of the signature alone, says the same as the original;
//   - any token that verifies carries the HMAC of its body under the secret, computed here, and
//     names a member above zero and a channel; every failure is ErrInvalid; nothing panics.
func FuzzUnsubscribeToken(f *testing.F) {
	secret := []byte("0123456789abcdef-secret")
	f.Add(secret, int64(42), "email", uint(10), byte('x'), campaigns.SignUnsubscribe(secret, 42, campaigns.Email))
	f.Add([]byte("old-secret-0123456789abcdef"), int64(7), "sms", uint(60), byte('A'), "u1.9.sms.AAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add([]byte(""), int64(9223372036854775807), "postal", uint(0), byte('.'), "....")
	f.Add(secret, int64(0), "EMAIL", uint(3), byte('2'), "u2.deadbeef.+42.email.AAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add(secret, int64(-5), "fax", uint(1), byte(0), "")
	f.Fuzz(func(t *testing.T, secret []byte, memberID int64, channel string, pos uint, b byte, token string) {
		secrets := [][]byte{secret}
		other := append(slices.Clone(secret), 'x')
		ch := campaigns.Channel(channel)
		tok := campaigns.SignUnsubscribe(secret, memberID, ch)
		if again := campaigns.SignUnsubscribe(secret, memberID, ch); again != tok {
			t.Fatalf("SignUnsubscribe is not deterministic: %q, then %q", tok, again)
		}
		got, err := campaigns.VerifyUnsubscribe(secrets, tok)
		signed := err == nil
		valid := memberID > 0 && (ch == campaigns.Email || ch == campaigns.SMS || ch == campaigns.Postal)
		if valid {
			want := campaigns.UnsubscribeToken{MemberID: memberID, Channel: ch}
			if err != nil || got != want {
				t.Fatalf("Verify(Sign(%d, %q)) = %+v, %v", memberID, channel, got, err)
			}
			if got, err := campaigns.VerifyUnsubscribe([][]byte{other, secret}, tok); err != nil || got != want {
				t.Fatalf("after a rotation, Verify(Sign(%d, %q)) = %+v, %v", memberID, channel, got, err)
			}
			if !urlSafeToken.MatchString(tok) {
				t.Fatalf("token %q is not what a link can carry as it is", tok)
			}
			if got, err := campaigns.VerifyUnsubscribe([][]byte{other}, tok); err == nil {
				t.Fatalf("a token signed with %q verified under %q: %+v", secret, other, got)
			}
		} else if parsed, perr := campaigns.ParseChannel(channel); err == nil && (memberID <= 0 || perr != nil || got != campaigns.UnsubscribeToken{MemberID: memberID, Channel: parsed}) {
			// A channel written otherwise (" SMS") is read as ParseChannel reads it; anything
			// else never verifies.
			t.Fatalf("a token for member %d on %q verified: %+v", memberID, channel, got)
		}

		// The signed token, altered.
		sigAt := strings.LastIndexByte(tok, '.') + 1
		i := int(pos % uint(len(tok)+1))
		var altered []string
		if i < len(tok) && tok[i] != b {
			altered = append(altered, tok[:i]+string([]byte{b})+tok[i+1:])
		}
		altered = append(altered, tok[:i], tok+string([]byte{b}), tok[:i]+string([]byte{b})+tok[i:])
		for _, a := range altered {
			g, err := campaigns.VerifyUnsubscribe(secrets, a)
			if err != nil {
				continue
			}
			if !signed || g != got || !strings.HasPrefix(a, tok[:sigAt]) || strings.Contains(a[sigAt:], ".") {
				t.Fatalf("token %q, altered to %q, verified: %+v", tok, a, g)
			}
		}

		// Any token.
		for _, a := range []string{token, tok} {
			g, err := campaigns.VerifyUnsubscribe(secrets, a)
			if err != nil {
				if !errors.Is(err, campaigns.ErrInvalid) || g != (campaigns.UnsubscribeToken{}) {
					t.Fatalf("Verify(%q) = %+v, %v; want ErrInvalid and nothing", a, g, err)
				}
				continue
			}
			dot := strings.LastIndexByte(a, '.')
			mac, derr := base64.RawURLEncoding.DecodeString(a[dot+1:])
			if derr != nil || !hmac.Equal(mac, tokenMAC(secret, a[:dot])) {
				t.Fatalf("Verify(%q) = %+v without the secret's signature", a, g)
			}
			if g.MemberID <= 0 || !slices.Contains([]campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal}, g.Channel) {
				t.Fatalf("Verify(%q) = %+v", a, g)
			}
		}
	})
}
