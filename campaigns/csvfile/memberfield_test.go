package csvfile

import (
	"errors"
	"strings"
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
)

// MemberField reads a value as ReadMembers reads it in a file, and sets that field alone.
func TestMemberField(t *testing.T) {
	t.Parallel()
	yes := true
	for _, tc := range []struct {
		field, value, country string
		want                  MemberRow
	}{
		{"email", " Aino@Example.COM ", "FI", MemberRow{ExternalID: "A1", Email: "Aino@example.com"}},
		{"phone", "040 123 4567", "FI", MemberRow{ExternalID: "A1", Phone: "+358401234567", PhoneSMS: &yes}},
		{"postal_code", "11151", "SE", MemberRow{ExternalID: "A1", PostalCode: "11151"}},
		{"country", "se", "FI", MemberRow{ExternalID: "A1", Country: "SE"}},
		{"language", "SV", "FI", MemberRow{ExternalID: "A1", Language: "sv"}},
		{"deceased", "yes", "FI", MemberRow{ExternalID: "A1", Deceased: &yes}},
		{"street", "c/o Virtanen\nKoivutie 2", "FI", MemberRow{ExternalID: "A1", Street: "c/o Virtanen\nKoivutie 2"}},
	} {
		got, err := MemberField("A1", tc.field, tc.value, tc.country)
		if err != nil {
			t.Errorf("%s %q: %v", tc.field, tc.value, err)
			continue
		}
		if g, w := describe(got), describe(tc.want); g != w {
			t.Errorf("%s %q: %s, want %s", tc.field, tc.value, g, w)
		}
	}
	for _, tc := range []struct{ field, value, country, want string }{
		{"email", "not an address", "FI", "email: "},
		{"postal_code", "11151 A", "FI", "postal_code: "},
		{"postal_code", "1115", "", "postal_code: "},
		{"first_name", strings.Repeat("a", 101), "FI", "first_name: is longer than 100 characters"},
		{"city", "Hel\x00sinki", "FI", "city: has a control character"},
		{"deceased", "perhaps", "FI", "deceased: "},
		{"external_id", "A2", "FI", "field: "},
		{"shoe_size", "42", "FI", "field: "},
	} {
		_, err := MemberField("A1", tc.field, tc.value, tc.country)
		if !errors.Is(err, campaigns.ErrInvalid) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s %q: %v, want ErrInvalid starting %q", tc.field, tc.value, err, tc.want)
		}
	}
}

// describe prints a row with its flags' values rather than their addresses.
func describe(r MemberRow) string {
	flag := func(b *bool) string {
		if b == nil {
			return "-"
		}
		if *b {
			return "yes"
		}
		return "no"
	}
	return strings.Join([]string{r.ExternalID, r.FirstName, r.LastName, r.Email, r.Phone, flag(r.PhoneSMS), r.Street, r.PostalCode,
		r.City, r.Country, r.Language, flag(r.EmailConsent), flag(r.SMSConsent), flag(r.PostalObjection), flag(r.AddressProtected),
		flag(r.Deceased)}, "|")
}
