// Package phone normalises the phone numbers that enter dispatch (the member file, the suppression
// list, the SMS gateway's inbound hook) to E.164, and tells the numbers that can take an SMS from
// those that cannot.
//
// It uses github.com/nyaruka/phonenumbers, the Go port of Google's libphonenumber, rather than rules
// of its own. Which digits make a number that exists, where a trunk prefix goes ("+358 (0)50 …" is
// +35850…), and which ranges are mobile are the numbering plans of every country, which the
// library's metadata keeps current. The hand-written normaliser this package replaces kept the
// trunk 0 of "+358 0 50 …" (a number no gateway routes and no inbound STOP matches) and took any 7
// to 15 digits for a number. National forms ("040 123 4567", "09 123 4567") are read as Finnish.
//
// The domain package campaigns stays standard library only; the library is imported here.
package phone

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/jacksmood/dispatch/campaigns"
)

// Region is the region whose national forms Normalize reads: a number without + or 00 is Finnish.
const Region = "FI"

// Kind says what sort of line a valid number is, as far as libphonenumber's metadata knows.
type Kind string

// The kinds of number. Only Mobile and FixedLineOrMobile can take an SMS (see Kind.SMS).
const (
	// Mobile is a mobile number (in Finland 040–050: +3584…, +35850…).
	Mobile Kind = "mobile"
	// FixedLineOrMobile is a number of a country whose plan does not tell the two apart (the
	// United States, Canada); it is treated as able to take an SMS.
	FixedLineOrMobile Kind = "fixed_line_or_mobile"
	// Landline is a fixed-line number (Helsinki +358 9 …, Tampere +358 3 …).
	Landline Kind = "landline"
	// Other is a valid number of another type: toll-free, premium-rate, shared-cost, VoIP,
	// personal, pager, a national number without a place (Finnish 020…, 029…, 030…, 0100…),
	// voicemail.
	Other Kind = "other"
)

// SMS reports whether a number of kind k can take an SMS: it is mobile or fixed-line-or-mobile.
func (k Kind) SMS() bool { return k == Mobile || k == FixedLineOrMobile }

// separators are the characters Normalize ignores between digits.
const separators = " \u00a0-./()"

// Normalize returns s as an E.164 number (+358401234567) and its kind. It accepts the national
// Finnish forms ("040 123 4567", "(09) 123 4567"), international ones ("+358 40 123 4567",
// "00358 40 …", "+358 (0)40 …", "+46 70 …"); spaces, no-break spaces, dashes, dots, slashes and
// parentheses between the digits are ignored. The rule, which the corpus test checks, is: s holds
// only digits, those separators and one + before the first digit; phonenumbers.Parse(s, "FI")
// reads it; phonenumbers.IsValidNumber accepts it (a country code in use, and a length and a
// range its numbering plan has); the result is phonenumbers.Format(n, E164), the kind from
// phonenumbers.GetNumberType. Otherwise it returns an ErrInvalid error saying why, whose text
// never holds the number.
func Normalize(s string) (e164 string, kind Kind, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", campaigns.Errorf(campaigns.ErrInvalid, "phone number is empty")
	}
	if r, ok := foreignRune(s); ok {
		return "", "", campaigns.Errorf(campaigns.ErrInvalid, "phone number has a character %q that is not a digit", r)
	}
	n, err := phonenumbers.Parse(s, Region)
	if err != nil {
		return "", "", campaigns.Errorf(campaigns.ErrInvalid, "%s", parseReason(err))
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", "", campaigns.Errorf(campaigns.ErrInvalid, "%s", invalidReason(n))
	}
	return phonenumbers.Format(n, phonenumbers.E164), kindOf(phonenumbers.GetNumberType(n)), nil
}

// foreignRune returns the first character of s that has no place in a phone number: anything but
// a digit, a separator, and one + before the first digit ("+358 …", "(+358) …").
func foreignRune(s string) (rune, bool) {
	digits, plus := false, false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r == '+' && !digits && !plus:
			plus = true
		case strings.ContainsRune(separators, r):
		default:
			return r, true
		}
	}
	return 0, false
}

// parseReason says why phonenumbers.Parse refused a number.
func parseReason(err error) string {
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return "phone number does not start with a country code in use"
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return "phone number is too short"
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return "phone number is too long"
	case errors.Is(err, phonenumbers.ErrNotANumber):
		return "phone number has no digits to read"
	}
	return "phone number cannot be read: " + err.Error()
}

// invalidReason says why a number that parsed is not valid: its length, or a range not in use.
func invalidReason(n *phonenumbers.PhoneNumber) string {
	cc := n.GetCountryCode()
	plan := fmt.Sprintf("+%d", cc)
	if r := phonenumbers.GetRegionCodeForCountryCode(int(cc)); r != "" && r != phonenumbers.UNKNOWN_REGION && r != "001" {
		plan += " (" + r + ")"
	}
	switch phonenumbers.IsPossibleNumberWithReason(n) {
	case phonenumbers.INVALID_COUNTRY_CODE:
		return "phone number does not start with a country code in use"
	case phonenumbers.TOO_SHORT:
		return "phone number is too short for a " + plan + " number"
	case phonenumbers.TOO_LONG:
		return "phone number is too long for a " + plan + " number"
	case phonenumbers.INVALID_LENGTH, phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return "phone number has a length no " + plan + " number has"
	}
	return "phone number is not in a range of the " + plan + " numbering plan"
}

// kindOf maps libphonenumber's number type to a Kind.
func kindOf(t phonenumbers.PhoneNumberType) Kind {
	switch t {
	case phonenumbers.MOBILE:
		return Mobile
	case phonenumbers.FIXED_LINE_OR_MOBILE:
		return FixedLineOrMobile
	case phonenumbers.FIXED_LINE:
		return Landline
	}
	return Other
}
