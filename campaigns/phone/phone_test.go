package phone_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/phone"
)

// TestIssueCases are the numbers of the issue, and the forms the member files use.
func TestIssueCases(t *testing.T) {
	cases := []struct {
		in   string
		want string // "" when the number is refused
		kind phone.Kind
	}{
		// The trunk 0 goes, however it is written.
		{"+358 (0)50 960 0348", "+358509600348", phone.Mobile},
		{"+358 0509600348", "+358509600348", phone.Mobile},
		{"00358 (0)40 123 4567", "+358401234567", phone.Mobile},
		// Too short for any Finnish number; a country code nobody has.
		{"+358 44 82", "", ""},
		{"+999 0400560", "", ""},
		// National forms are Finnish.
		{"040 123 4567", "+358401234567", phone.Mobile},
		{"040-123 45 67", "+358401234567", phone.Mobile},
		{"040.123.4567", "+358401234567", phone.Mobile},
		{"040\u00a0123\u00a04567", "+358401234567", phone.Mobile},
		{"  040 123 4567 \t", "+358401234567", phone.Mobile},
		{"00358 40 1234567", "+358401234567", phone.Mobile},
		{"(+358) 40 123 4567", "+358401234567", phone.Mobile},
		{"0457 123 4567", "+3584571234567", phone.Mobile},
		// Landlines: Helsinki, Tampere, Åland.
		{"09 1234 567", "+35891234567", phone.Landline},
		{"(09) 123 4567", "+35891234567", phone.Landline},
		{"+358 (0)3 123 4567", "+35831234567", phone.Landline},
		{"018 12345", "+3581812345", phone.Landline},
		// Service numbers are valid and cannot take an SMS.
		{"0800 12345", "+35880012345", phone.Other},
		{"020 123 456", "+35820123456", phone.Other},
		// Foreign numbers.
		{"+46 70 123 45 67", "+46701234567", phone.Mobile},
		{"+44 20 7946 0958", "+442079460958", phone.Landline},
		{"+1 212 555 0123", "+12125550123", phone.FixedLineOrMobile},
		// What the old normaliser took for numbers: any 7 to 15 digits.
		{"+1234567", "", ""},
		{"+123456789012345", "", ""},
		{"+358 75 1234 567", "", ""}, // no such Finnish range
		{"+358 40 123456789", "", ""},
		// Not numbers at all.
		{"", "", ""},
		{"+", "", ""},
		{"040 12x 4567", "", ""},
		{"040 ABC DEFG", "", ""},
		{"040 1234567 ext 5", "", ""},
		{"040+1234567", "", ""},
		{"tel:+358401234567", "", ""},
	}
	for _, c := range cases {
		got, kind, err := phone.Normalize(c.in)
		if c.want == "" {
			if err == nil || got != "" || kind != "" {
				t.Errorf("Normalize(%q) = %q, %q, %v; want refused", c.in, got, kind, err)
			} else if !errors.Is(err, campaigns.ErrInvalid) {
				t.Errorf("Normalize(%q): error %v is not ErrInvalid", c.in, err)
			}
			continue
		}
		if err != nil || got != c.want || kind != c.kind {
			t.Errorf("Normalize(%q) = %q, %q, %v; want %q, %q", c.in, got, kind, err, c.want, c.kind)
		}
	}
}

func TestKindSMS(t *testing.T) {
	for k, want := range map[phone.Kind]bool{phone.Mobile: true, phone.FixedLineOrMobile: true, phone.Landline: false, phone.Other: false, "": false} {
		if k.SMS() != want {
			t.Errorf("%q.SMS() = %v, want %v", k, k.SMS(), want)
		}
	}
}

// TestRefusalReasons checks that a refusal says why, and never repeats the number.
func TestRefusalReasons(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "phone number is empty"},
		{"   ", "phone number is empty"},
		{"abc", "phone number has a character 'a' that is not a digit"},
		{"040/123 45x7", "phone number has a character 'x' that is not a digit"},
		{"040+1234567", "phone number has a character '+' that is not a digit"},
		{"+", "phone number has no digits to read"},
		{"+999 0400560", "phone number does not start with a country code in use"},
		{"+358 44 82", "phone number is too short for a +358 (FI) number"},
		{"+358 40 123456789", "phone number is not in a range of the +358 (FI) numbering plan"},
		{"+358 75 1234 567", "phone number is not in a range of the +358 (FI) numbering plan"},
		{"0401234567890123456", "phone number is too long"},
		{"+46 70 12", "phone number is too short for a +46 (SE) number"},
	}
	for _, c := range cases {
		_, _, err := phone.Normalize(c.in)
		if err == nil || err.Error() != c.want {
			t.Errorf("Normalize(%q) error = %v, want %q", c.in, err, c.want)
			continue
		}
		if digits := strings.Trim(c.in, " +"); len(digits) > 3 && strings.Contains(err.Error(), digits) {
			t.Errorf("Normalize(%q) error %q holds the number", c.in, err)
		}
	}
}

// libphonenumber is the rule Normalize documents, written with the library alone: the answer
// dispatch must give for s. It returns "" when the number is refused.
func libphonenumber(s string) (e164 string, kind phone.Kind) {
	digits, plus := false, false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r == '+' && !digits && !plus:
			plus = true
		case strings.ContainsRune(" \u00a0-./()", r):
		default:
			return "", ""
		}
	}
	n, err := phonenumbers.Parse(s, "FI")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", ""
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.MOBILE:
		kind = phone.Mobile
	case phonenumbers.FIXED_LINE_OR_MOBILE:
		kind = phone.FixedLineOrMobile
	case phonenumbers.FIXED_LINE:
		kind = phone.Landline
	default:
		kind = phone.Other
	}
	return phonenumbers.Format(n, phonenumbers.E164), kind
}

// corpusInput is one generated input: the text, and the national significant number it writes
// (digits after the country code) with its country code, so that every way of writing one number
// can be checked to give one answer.
type corpusInput struct {
	text   string
	number string // "+<cc>|<nsn>"
}

// corpus returns n Finnish-format inputs, the same ones on every run: mobile and landline numbers
// in national and international forms, with spaces, dashes, dots, parentheses, the "(0)" trunk
// form and the wrong "+358 0…" form; too short and too long ones; service numbers; foreign numbers,
// some with country codes nobody has; and a few with letters or an extension.
func corpus(n int) []corpusInput {
	rng := rand.New(rand.NewPCG(2024, 358))
	digits := func(k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	// split writes d in groups of 2 to 4 digits with sep between them.
	split := func(d, sep string) string {
		var parts []string
		for len(d) > 0 {
			k := min(2+rng.IntN(3), len(d))
			parts = append(parts, d[:k])
			d = d[k:]
		}
		return strings.Join(parts, sep)
	}
	// finnish writes the national significant number area+rest in one of the forms people use. It
	// reports false for the one form that may be read two ways: "358…" without a + is a Finnish
	// number with its country code, or a national number that happens to start 358.
	finnish := func(area, rest string) (string, bool) {
		sep := pick(" ", " ", "-", "", ".", "\u00a0")
		switch rng.IntN(10) {
		case 0, 1, 2:
			return "0" + area + sep + split(rest, sep), true
		case 3:
			return "(0" + area + ") " + split(rest, " "), true
		case 4:
			return "+358" + area + rest, true
		case 5:
			return "+358 " + area + " " + split(rest, sep), true
		case 6:
			return "+358 (0)" + area + " " + split(rest, " "), true
		case 7:
			return "+358 0" + area + rest, true // the trunk 0 where it does not belong
		case 8:
			return "00358 " + area + " " + split(rest, sep), true
		default:
			return "358" + area + rest, false // a spreadsheet that dropped the +
		}
	}
	mobile := []string{"40", "41", "42", "43", "44", "45", "46", "50", "457", "4946"}
	landline := []string{"2", "3", "5", "6", "8", "9", "13", "14", "15", "16", "17", "18", "19"}
	service := []string{"800", "20", "29", "30", "600", "700", "75", "73", "100"}
	// Foreign numbers: country code, a prefix of theirs, and how many digits follow it.
	foreign := []struct {
		cc, prefix string
		rest       int
	}{
		{"46", "70", 7}, {"46", "8", 7}, {"47", "9", 7}, {"372", "5", 7}, {"49", "151", 8}, {"49", "30", 8},
		{"44", "7", 9}, {"44", "20", 8}, {"1", "2125", 6}, {"1", "4155", 6}, {"7", "912", 7},
		{"999", "0", 6}, {"0", "40", 7}, {"3580", "40", 7},
	}
	out := make([]corpusInput, 0, n)
	for len(out) < n {
		var in corpusInput
		switch k := rng.IntN(100); {
		case k < 40: // a mobile number, usually of 7 digits after the prefix; sometimes too short or long
			area := pick(mobile...)
			rest := digits(oneOf(rng, 7, 7, 7, 7, 6, 8, 3, 10))
			in = finnishInput(finnish(area, rest))("+358|" + area + rest)
		case k < 70: // a landline
			area := pick(landline...)
			rest := digits(oneOf(rng, 6, 7, 6, 7, 5, 2, 10))
			in = finnishInput(finnish(area, rest))("+358|" + area + rest)
		case k < 78: // a service number
			area := pick(service...)
			rest := digits(oneOf(rng, 5, 6, 7, 3))
			in = finnishInput(finnish(area, rest))("+358|" + area + rest)
		case k < 94: // a foreign number
			f := foreign[rng.IntN(len(foreign))]
			rest := digits(f.rest + oneOf(rng, 0, 0, 0, 0, 0, -4, 3))
			text := pick("+", "00", "+", "00 ") + f.cc + " " + split(f.prefix+rest, pick(" ", "-", ""))
			in = corpusInput{text, "+" + f.cc + "|" + f.prefix + rest}
		default: // not a number: a letter, an extension, a second +, a bare digit string
			d := digits(7)
			text := pick("040 "+d[:3]+"x"+d[3:], "040 "+d+" ext 12", "040+"+d, "tel:+35840"+d, d[:3], "+", "(0)", "040 ABC DEFG")
			in = corpusInput{text, ""}
		}
		out = append(out, in)
	}
	return out
}

// finnishInput makes the corpus input for a Finnish form, naming its number only when the form can
// be read one way.
func finnishInput(text string, sure bool) func(number string) corpusInput {
	return func(number string) corpusInput {
		if !sure {
			number = ""
		}
		return corpusInput{text, number}
	}
}

// oneOf returns one of the lengths at random; a length given more than once weighs more.
func oneOf(rng *rand.Rand, lengths ...int) int { return lengths[rng.IntN(len(lengths))] }

// TestCorpusAgreesWithLibphonenumber is the figure the README gives: on 2,000 generated
// Finnish-format inputs, Normalize and libphonenumber (region FI, the documented rule) disagree on
// none. It also checks that every way of writing one number gives one answer.
func TestCorpusAgreesWithLibphonenumber(t *testing.T) {
	const size = 2000
	inputs := corpus(size)
	disagree := 0
	counts := map[string]int{}
	answers := map[string]string{}
	for _, in := range inputs {
		got, kind, err := phone.Normalize(in.text)
		want, wantKind := libphonenumber(in.text)
		if got != want || kind != wantKind || (err == nil) != (want != "") {
			disagree++
			if disagree <= 20 {
				t.Errorf("Normalize(%q) = %q, %q, %v; libphonenumber says %q, %q", in.text, got, kind, err, want, wantKind)
			}
		}
		if err != nil {
			counts["refused"]++
		} else {
			counts[string(kind)]++
		}
		if in.number == "" {
			continue
		}
		answer := fmt.Sprintf("%s %s", got, kind)
		if prev, ok := answers[in.number]; ok && prev != answer {
			t.Errorf("%q gives %q, another form of the same number gave %q", in.text, answer, prev)
		}
		answers[in.number] = answer
	}
	t.Logf("%d inputs: %d disagreements with libphonenumber; %v", len(inputs), disagree, counts)
	if disagree != 0 {
		t.Fatalf("dispatch and libphonenumber disagree on %d of %d inputs, want 0", disagree, len(inputs))
	}
	// The corpus is worth its name: each outcome is there in numbers.
	for _, k := range []string{"refused", string(phone.Mobile), string(phone.Landline), string(phone.Other), string(phone.FixedLineOrMobile)} {
		if counts[k] < 20 {
			t.Errorf("only %d inputs came out %s; the corpus does not exercise it", counts[k], k)
		}
	}
}
