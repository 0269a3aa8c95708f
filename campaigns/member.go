package campaigns

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Channel is a way of reaching a member.
type Channel string

// The channels dispatch sends on.
const (
	Email  Channel = "email"
	SMS    Channel = "sms"
	Postal Channel = "postal"
)

// Channels lists every channel in their canonical order.
var Channels = []Channel{Email, SMS, Postal}

// ParseChannel returns the channel named s, or an ErrInvalid error.
func ParseChannel(s string) (Channel, error) {
	switch c := Channel(strings.ToLower(strings.TrimSpace(s))); c {
	case Email, SMS, Postal:
		return c, nil
	}
	return "", Errorf(ErrInvalid, "unknown channel %q (want email, sms or postal)", s)
}

// Language is a member's preferred language for messages.
type Language string

// The languages of the register.
const (
	Finnish Language = "fi"
	Swedish Language = "sv"
	English Language = "en"
)

// Languages lists the supported languages.
var Languages = []Language{Finnish, Swedish, English}

// ParseLanguage returns the language for s ("fi", "sv", "en"; case-insensitive), or ErrInvalid.
func ParseLanguage(s string) (Language, error) {
	switch l := Language(strings.ToLower(strings.TrimSpace(s))); l {
	case Finnish, Swedish, English:
		return l, nil
	}
	return "", Errorf(ErrInvalid, "unknown language %q (want fi, sv or en)", s)
}

// Member is a person in the loyalty register. ExternalID is the membership's key as the shops and the
// CSV files know it; ID is dispatch's own and is what logs and queue payloads carry.
type Member struct {
	ID               int64     `json:"id" db:"id"`
	ExternalID       string    `json:"external_id" db:"external_id"`
	FirstName        string    `json:"first_name" db:"first_name"`
	LastName         string    `json:"last_name" db:"last_name"`
	Email            string    `json:"email" db:"email"`
	Phone            string    `json:"phone" db:"phone"`
	Street           string    `json:"street" db:"street"`
	PostalCode       string    `json:"postal_code" db:"postal_code"`
	City             string    `json:"city" db:"city"`
	Country          string    `json:"country" db:"country"`
	Language         Language  `json:"language" db:"language"`
	AddressProtected bool      `json:"address_protected" db:"address_protected"`
	Deceased         bool      `json:"deceased" db:"deceased"`
	CreatedAt        time.Time `json:"created_at" db:"created_at"`
	UpdatedAt        time.Time `json:"updated_at" db:"updated_at"`
}

// ValidPostalCode reports whether s is a Finnish postal code: exactly five digits.
func ValidPostalCode(s string) bool {
	if len(s) != 5 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// NormalizeEmail checks that s is a bare address (local@domain.tld, no display name) and returns it
// trimmed, with the domain in lower case. It returns ErrInvalid for anything else.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", Errorf(ErrInvalid, "not an email address")
	}
	at := strings.LastIndexByte(s, '@')
	domain := strings.ToLower(s[at+1:])
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", Errorf(ErrInvalid, "email domain %q has no top-level part", domain)
	}
	return s[:at+1] + domain, nil
}

// The longest values the register takes for a member's text fields, in characters: generous for
// any real name or address, and a bound on what a file or a request can make the register hold.
var fieldLimits = map[string]int{
	"external_id": 64, "member": 64, "first_name": 100, "last_name": 100, "email": 254, "street": 200,
	"city": 100, "code": 64, "store": 200, "order_ref": 200, "name": 100, "wording_version": 100,
}

// CheckField reports what is wrong with a value for a member's text field: a control character
// (NUL, a line break outside the street, ...), text that is not UTF-8, or more characters than the field takes. It says
// nothing of the value itself, so the reason can be shown and logged. nil: nothing wrong.
func CheckField(field, value string) error {
	if !utf8.ValidString(value) {
		return Errorf(ErrInvalid, "is not valid UTF-8")
	}
	for _, r := range value {
		if (r == '\n' || r == '\r') && field == "street" {
			continue // a street may take a second line: "c/o Virtanen" above "Koivutie 2"
		}
		if unicode.IsControl(r) {
			return Errorf(ErrInvalid, "has a control character (U+%04X)", r)
		}
	}
	if limit, ok := fieldLimits[field]; ok && utf8.RuneCountInString(value) > limit {
		return Errorf(ErrInvalid, "is longer than %d characters", limit)
	}
	// A member's id is a path segment of the console (/members/ID): "." and ".." would be folded
	// away by every HTTP client and router, and the member could not be reached there.
	if (field == "external_id" || field == "member") && value != "" && strings.Trim(value, ".") == "" {
		return Errorf(ErrInvalid, "is only dots")
	}
	return nil
}
