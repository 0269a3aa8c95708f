package campaigns_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Helsinki without relying on the host's zoneinfo

	"github.com/jacksmood/dispatch/campaigns"
)

// wantInvalid fails the test unless err is an ErrInvalid whose text is exactly want.
func wantInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %q", want)
	}
	if !errors.Is(err, campaigns.ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
	if err.Error() != want {
		t.Errorf("err = %q\n        want %q", err.Error(), want)
	}
}

func TestNormalizeEmail(t *testing.T) {
	accepted := []struct{ in, want string }{
		{"Matti.M@Example.COM", "Matti.M@example.com"},
		{"matti@example.fi", "matti@example.fi"},
		{"  anna-liisa+news@Posti.FI  ", "anna-liisa+news@posti.fi"},
		{"a@b.c.d", "a@b.c.d"},
	}
	for _, c := range accepted {
		got, err := campaigns.NormalizeEmail(c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q, nil", c.in, got, err, c.want)
		}
	}
	refused := []struct{ in, want string }{
		{"Matti <m@x.fi>", "not an email address"},
		{"<m@x.fi>", "not an email address"},
		{"m@localhost", `email domain "localhost" has no top-level part`},
		{"m@LOCALHOST", `email domain "localhost" has no top-level part`},
		{"m@.fi", "not an email address"},
		{"no-at", "not an email address"},
		{"m@x.", "not an email address"},
		{"m@x..fi", "not an email address"},
		{"m@x.fi, n@y.fi", "not an email address"},
		{"", "not an email address"},
	}
	for _, c := range refused {
		t.Run(c.in, func(t *testing.T) {
			got, err := campaigns.NormalizeEmail(c.in)
			if got != "" {
				t.Errorf("NormalizeEmail(%q) = %q, want \"\"", c.in, got)
			}
			wantInvalid(t, err, c.want)
		})
	}
}

func TestValidPostalCode(t *testing.T) {
	cases := map[string]bool{
		"00100":  true,
		"99999":  true,
		"02150":  true,
		"0010":   false,
		"001000": false,
		"":       false,
		"0010a":  false,
		"00 10":  false,
		" 0010":  false,
		"-0010":  false,
		"０0100":  false, // full-width digit
		"٠٠١٠٠":  false, // Arabic-Indic digits
	}
	for in, want := range cases {
		if got := campaigns.ValidPostalCode(in); got != want {
			t.Errorf("ValidPostalCode(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseEnums(t *testing.T) {
	type parser func(string) (string, error)
	wrap := func(f any) parser {
		switch f := f.(type) {
		case func(string) (campaigns.Channel, error):
			return func(s string) (string, error) { v, err := f(s); return string(v), err }
		case func(string) (campaigns.Language, error):
			return func(s string) (string, error) { v, err := f(s); return string(v), err }
		case func(string) (campaigns.ConsentStatus, error):
			return func(s string) (string, error) { v, err := f(s); return string(v), err }
		case func(string) (campaigns.ConsentSource, error):
			return func(s string) (string, error) { v, err := f(s); return string(v), err }
		case func(string) (campaigns.Role, error):
			return func(s string) (string, error) { v, err := f(s); return string(v), err }
		}
		panic(fmt.Sprintf("no wrapper for %T", f))
	}
	cases := []struct {
		name     string
		parse    parser
		accepted map[string]string
		refused  map[string]string // value -> exact error text
	}{
		{
			name:  "ParseChannel",
			parse: wrap(campaigns.ParseChannel),
			accepted: map[string]string{
				"email": "email", "sms": "sms", "postal": "postal", "EMAIL": "email", " Sms ": "sms",
			},
			refused: map[string]string{
				"":         `unknown channel "" (want email, sms or postal)`,
				"fax":      `unknown channel "fax" (want email, sms or postal)`,
				"e-mail":   `unknown channel "e-mail" (want email, sms or postal)`,
				" letter ": `unknown channel " letter " (want email, sms or postal)`,
			},
		},
		{
			name:  "ParseLanguage",
			parse: wrap(campaigns.ParseLanguage),
			accepted: map[string]string{
				"fi": "fi", "sv": "sv", "en": "en", "FI": "fi", " Sv ": "sv",
			},
			refused: map[string]string{
				"":    `unknown language "" (want fi, sv or en)`,
				"de":  `unknown language "de" (want fi, sv or en)`,
				"fin": `unknown language "fin" (want fi, sv or en)`,
				"se":  `unknown language "se" (want fi, sv or en)`,
			},
		},
		{
			name:  "ParseConsentStatus",
			parse: wrap(campaigns.ParseConsentStatus),
			accepted: map[string]string{
				"granted": "granted", "withdrawn": "withdrawn", "GRANTED": "granted", " withdrawn ": "withdrawn",
			},
			refused: map[string]string{
				"":        `unknown consent status "" (want granted or withdrawn)`,
				"yes":     `unknown consent status "yes" (want granted or withdrawn)`,
				"revoked": `unknown consent status "revoked" (want granted or withdrawn)`,
			},
		},
		{
			name:  "ParseConsentSource",
			parse: wrap(campaigns.ParseConsentSource),
			accepted: map[string]string{
				"signup-form": "signup-form", "customer-service": "customer-service",
				"unsubscribe-link": "unsubscribe-link", "sms-stop": "sms-stop", "import": "import",
				"population-register": "population-register", " import ": "import",
			},
			refused: map[string]string{
				"":       `unknown consent source "" (want one of signup-form, customer-service, unsubscribe-link, sms-stop, import, population-register)`,
				"Import": `unknown consent source "Import" (want one of signup-form, customer-service, unsubscribe-link, sms-stop, import, population-register)`,
				"web":    `unknown consent source "web" (want one of signup-form, customer-service, unsubscribe-link, sms-stop, import, population-register)`,
			},
		},
		{
			name:  "ParseRole",
			parse: wrap(campaigns.ParseRole),
			accepted: map[string]string{
				"marketer": "marketer", "ops": "ops", "privacy": "privacy", "admin": "admin",
			},
			refused: map[string]string{
				"":       `unknown role "" (want marketer, ops, privacy or admin)`,
				"root":   `unknown role "root" (want marketer, ops, privacy or admin)`,
				"Admin":  `unknown role "Admin" (want marketer, ops, privacy or admin)`,
				"admin ": `unknown role "admin " (want marketer, ops, privacy or admin)`,
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for in, want := range c.accepted {
				got, err := c.parse(in)
				if err != nil || got != want {
					t.Errorf("%s(%q) = %q, %v; want %q, nil", c.name, in, got, err, want)
				}
			}
			for in, want := range c.refused {
				got, err := c.parse(in)
				if got != "" {
					t.Errorf("%s(%q) = %q, want \"\"", c.name, in, got)
				}
				wantInvalid(t, err, want)
			}
		})
	}
}

func TestErrorKinds(t *testing.T) {
	kinds := []error{campaigns.ErrInvalid, campaigns.ErrNotFound, campaigns.ErrConflict, campaigns.ErrForbidden}
	for _, kind := range kinds {
		err := campaigns.Errorf(kind, "member %d: %s", 7, "gone")
		if err.Error() != "member 7: gone" {
			t.Errorf("Errorf(%v).Error() = %q, want the message without the kind", kind, err.Error())
		}
		wrapped := fmt.Errorf("export: %w", err)
		for _, other := range kinds {
			if got, want := errors.Is(err, other), other == kind; got != want {
				t.Errorf("errors.Is(Errorf(%v), %v) = %v, want %v", kind, other, got, want)
			}
			if got, want := errors.Is(wrapped, other), other == kind; got != want {
				t.Errorf("errors.Is(wrapped Errorf(%v), %v) = %v, want %v", kind, other, got, want)
			}
		}
		if errors.Is(err, errors.New(kind.Error())) {
			t.Errorf("Errorf(%v) matches an unrelated error with the same text", kind)
		}
	}

	err := campaigns.Invalid("coupon.valid_days", "0 is not between 1 and 366")
	wantInvalid(t, err, "coupon.valid_days: 0 is not between 1 and 366")
	if errors.Is(err, campaigns.ErrNotFound) {
		t.Error("Invalid(...) is ErrNotFound")
	}
}

func TestCurrentConsent(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ev := func(id int64, ch campaigns.Channel, st campaigns.ConsentStatus, at time.Time) campaigns.ConsentEvent {
		return campaigns.ConsentEvent{ID: id, MemberID: 1, Channel: ch, Status: st, Source: campaigns.SourceImport, RecordedAt: at}
	}
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		events []campaigns.ConsentEvent
		want   map[campaigns.Channel]int64 // channel -> ID of the event that must be current
	}{
		{"no events", nil, map[campaigns.Channel]int64{}},
		{
			"latest by time, whatever the order",
			[]campaigns.ConsentEvent{
				ev(3, campaigns.Email, campaigns.Withdrawn, t0.Add(2*time.Hour)),
				ev(1, campaigns.Email, campaigns.Granted, t0),
				ev(2, campaigns.Email, campaigns.Granted, t0.Add(time.Hour)),
			},
			map[campaigns.Channel]int64{campaigns.Email: 3},
		},
		{
			"a later time wins over a higher id",
			[]campaigns.ConsentEvent{
				ev(9, campaigns.SMS, campaigns.Granted, t0),
				ev(4, campaigns.SMS, campaigns.Withdrawn, t0.Add(time.Second)),
			},
			map[campaigns.Channel]int64{campaigns.SMS: 4},
		},
		{
			"ties on time go to the highest id",
			[]campaigns.ConsentEvent{
				ev(5, campaigns.Email, campaigns.Granted, t0),
				ev(7, campaigns.Email, campaigns.Withdrawn, t0),
				ev(6, campaigns.Email, campaigns.Granted, t0),
			},
			map[campaigns.Channel]int64{campaigns.Email: 7},
		},
		{
			"the same instant in another zone is a tie",
			[]campaigns.ConsentEvent{
				ev(8, campaigns.Postal, campaigns.Withdrawn, t0.In(helsinki)),
				ev(2, campaigns.Postal, campaigns.Granted, t0),
			},
			map[campaigns.Channel]int64{campaigns.Postal: 8},
		},
		{
			"channels are independent; a channel without events is absent",
			[]campaigns.ConsentEvent{
				ev(1, campaigns.Email, campaigns.Granted, t0.Add(time.Hour)),
				ev(2, campaigns.SMS, campaigns.Withdrawn, t0),
				ev(3, campaigns.SMS, campaigns.Granted, t0.Add(-time.Hour)),
			},
			map[campaigns.Channel]int64{campaigns.Email: 1, campaigns.SMS: 2},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := campaigns.CurrentConsent(c.events)
			if len(got) != len(c.want) {
				t.Fatalf("CurrentConsent = %+v, want channels %v", got, c.want)
			}
			for ch, id := range c.want {
				e, ok := got[ch]
				if !ok || e.ID != id || e.Channel != ch {
					t.Errorf("CurrentConsent[%s] = %+v (present %v), want event %d", ch, e, ok, id)
				}
			}
		})
	}
	// The status is the current event's status.
	cur := campaigns.CurrentConsent([]campaigns.ConsentEvent{
		ev(1, campaigns.Email, campaigns.Granted, t0),
		ev(2, campaigns.Email, campaigns.Withdrawn, t0.Add(time.Minute)),
	})
	if cur[campaigns.Email].Status != campaigns.Withdrawn {
		t.Errorf("status after grant then withdrawal = %q, want withdrawn", cur[campaigns.Email].Status)
	}
	if _, ok := cur[campaigns.Postal]; ok {
		t.Error("postal present without events")
	}
}

// exampleSpec is SPEC.md's campaign file, as campaignfile decodes it (without strategy and template,
// which Validate must fill in).
func exampleSpec() campaigns.Spec {
	spend := campaigns.Money(5000)
	return campaigns.Spec{
		Name:     "Autumn coupon 2026",
		Kind:     campaigns.KindCoupon,
		Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal},
		Segment: campaigns.Segment{
			Languages:       []campaigns.Language{campaigns.Finnish, campaigns.Swedish},
			PostalCodes:     []string{"00*", "02*"},
			PurchasedWithin: campaigns.Duration(365 * 24 * time.Hour),
			MinTotalSpend:   &spend,
		},
		Coupon:       &campaigns.CouponSpec{Discount: "-20 %", ValidDays: 30},
		Schedule:     campaigns.Schedule{At: "2026-12-01T09:00:00+02:00"},
		FrequencyCap: &campaigns.FrequencyCap{Max: 2, Per: campaigns.Duration(7 * 24 * time.Hour)},
	}
}

func TestSpecValidateExampleFillsDefaults(t *testing.T) {
	s := exampleSpec()
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate(SPEC example) = %v", err)
	}
	if s.Strategy != campaigns.StrategyAll || s.Template != "coupon" {
		t.Errorf("defaults: strategy %q template %q, want all, coupon", s.Strategy, s.Template)
	}

	n := exampleSpec()
	n.Kind, n.Coupon, n.Strategy, n.Template = campaigns.KindNewsletter, nil, campaigns.StrategyFirst, "autumn-news_2"
	n.FrequencyCap = nil
	n.Schedule = campaigns.Schedule{Cron: "0 9 * * MON"}
	if err := n.Validate(); err != nil {
		t.Fatalf("Validate(newsletter) = %v", err)
	}
	if n.Strategy != campaigns.StrategyFirst || n.Template != "autumn-news_2" {
		t.Errorf("given values overwritten: strategy %q template %q", n.Strategy, n.Template)
	}

	bare := campaigns.Spec{Name: "News", Kind: campaigns.KindNewsletter, Channels: []campaigns.Channel{campaigns.Postal}}
	if err := bare.Validate(); err != nil {
		t.Fatalf("Validate(bare newsletter) = %v", err)
	}
	if bare.Template != "newsletter" || bare.Strategy != campaigns.StrategyAll {
		t.Errorf("defaults: strategy %q template %q, want all, newsletter", bare.Strategy, bare.Template)
	}
}

func TestSpecValidateRefusesNamingField(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*campaigns.Spec)
		want   string
	}{
		{"empty name", func(s *campaigns.Spec) { s.Name = "" }, "name: is required"},
		{"blank name", func(s *campaigns.Spec) { s.Name = " \t" }, "name: is required"},
		{"no kind", func(s *campaigns.Spec) { s.Kind = "" }, "kind: is required (coupon or newsletter)"},
		{"bad kind", func(s *campaigns.Spec) { s.Kind = "offer" }, `kind: "offer" is not coupon or newsletter`},
		{"capitalised kind", func(s *campaigns.Spec) { s.Kind = "Coupon" }, `kind: "Coupon" is not coupon or newsletter`},
		{"no channels", func(s *campaigns.Spec) { s.Channels = nil }, "channels: is empty: list at least one of email, sms, postal"},
		{"empty channels", func(s *campaigns.Spec) { s.Channels = []campaigns.Channel{} }, "channels: is empty: list at least one of email, sms, postal"},
		{"unknown channel", func(s *campaigns.Spec) { s.Channels = []campaigns.Channel{"email", "fax"} }, `channels[1]: "fax" is not email, sms or postal`},
		{"duplicate channel", func(s *campaigns.Spec) { s.Channels = []campaigns.Channel{"email", "sms", "email"} }, `channels[2]: "email" is listed twice`},
		{"capitalised Email", func(s *campaigns.Spec) { s.Channels = []campaigns.Channel{"Email"} }, `channels[0]: "Email" is not email, sms or postal`},
		{"bad strategy", func(s *campaigns.Spec) { s.Strategy = "most" }, `strategy: "most" is not all or first`},
		{"capitalised strategy", func(s *campaigns.Spec) { s.Strategy = "All" }, `strategy: "All" is not all or first`},
		{"template upper case", func(s *campaigns.Spec) { s.Template = "Autumn" }, `template: "Autumn" is not a template name (lower-case letters, digits, - and _)`},
		{"template path", func(s *campaigns.Spec) { s.Template = "../etc" }, `template: "../etc" is not a template name (lower-case letters, digits, - and _)`},
		{"template leading dash", func(s *campaigns.Spec) { s.Template = "-x" }, `template: "-x" is not a template name (lower-case letters, digits, - and _)`},
		{"template too long", func(s *campaigns.Spec) { s.Template = strings.Repeat("a", 65) }, `template: "` + strings.Repeat("a", 65) + `" is not a template name (lower-case letters, digits, - and _)`},
		{"bad language", func(s *campaigns.Spec) { s.Segment.Languages = []campaigns.Language{"fi", "de"} }, `segment.languages[1]: "de" is not fi, sv or en`},
		{"capitalised language", func(s *campaigns.Spec) { s.Segment.Languages = []campaigns.Language{"FI"} }, `segment.languages[0]: "FI" is not fi, sv or en`},
		{"postal star inside", func(s *campaigns.Spec) { s.Segment.PostalCodes = []string{"00*", "0*0"} }, `segment.postal_codes[1]: "0*0" is not a postal code (00100) or prefix pattern (00*)`},
		{"postal six digits", func(s *campaigns.Spec) { s.Segment.PostalCodes = []string{"123456"} }, `segment.postal_codes[0]: "123456" is not a postal code (00100) or prefix pattern (00*)`},
		{"postal four digits", func(s *campaigns.Spec) { s.Segment.PostalCodes = []string{"0010"} }, `segment.postal_codes[0]: "0010" is not a postal code (00100) or prefix pattern (00*)`},
		{"postal star alone", func(s *campaigns.Spec) { s.Segment.PostalCodes = []string{"*"} }, `segment.postal_codes[0]: "*" is not a postal code (00100) or prefix pattern (00*)`},
		{"postal empty", func(s *campaigns.Spec) { s.Segment.PostalCodes = []string{""} }, `segment.postal_codes[0]: "" is not a postal code (00100) or prefix pattern (00*)`},
		{"postal six digits star", func(s *campaigns.Spec) { s.Segment.PostalCodes = []string{"001000*"} }, `segment.postal_codes[0]: "001000*" is not a postal code (00100) or prefix pattern (00*)`},
		{"negative purchased_within", func(s *campaigns.Spec) { s.Segment.PurchasedWithin = -1 }, "segment.purchased_within: must be positive"},
		{"negative min_total_spend", func(s *campaigns.Spec) { m := campaigns.Money(-1); s.Segment.MinTotalSpend = &m }, "segment.min_total_spend: must not be negative"},
		{"coupon on newsletter", func(s *campaigns.Spec) { s.Kind = campaigns.KindNewsletter }, "coupon: a newsletter has no coupon section (kind: coupon for a coupon offer)"},
		{"missing coupon", func(s *campaigns.Spec) { s.Coupon = nil }, "coupon: a coupon campaign needs a coupon section (discount, valid_days)"},
		{"empty discount", func(s *campaigns.Spec) { s.Coupon.Discount = "" }, `coupon.discount: is required, at most 40 characters (e.g. "-20 %")`},
		{"blank discount", func(s *campaigns.Spec) { s.Coupon.Discount = "   " }, `coupon.discount: is required, at most 40 characters (e.g. "-20 %")`},
		{"discount 41 characters", func(s *campaigns.Spec) { s.Coupon.Discount = strings.Repeat("x", 41) }, `coupon.discount: is required, at most 40 characters (e.g. "-20 %")`},
		{"valid_days 0", func(s *campaigns.Spec) { s.Coupon.ValidDays = 0 }, "coupon.valid_days: 0 is not between 1 and 366"},
		{"valid_days negative", func(s *campaigns.Spec) { s.Coupon.ValidDays = -5 }, "coupon.valid_days: -5 is not between 1 and 366"},
		{"valid_days 367", func(s *campaigns.Spec) { s.Coupon.ValidDays = 367 }, "coupon.valid_days: 367 is not between 1 and 366"},
		{"at and cron", func(s *campaigns.Spec) { s.Schedule.Cron = "0 9 * * MON" }, "schedule: give at or cron, not both"},
		{"frequency cap max 0", func(s *campaigns.Spec) { s.FrequencyCap.Max = 0 }, "frequency_cap.max: must be at least 1"},
		{"frequency cap max negative", func(s *campaigns.Spec) { s.FrequencyCap.Max = -1 }, "frequency_cap.max: must be at least 1"},
		{"frequency cap per 0", func(s *campaigns.Spec) { s.FrequencyCap.Per = 0 }, "frequency_cap.per: is required, like 7d"},
		{"frequency cap per negative", func(s *campaigns.Spec) { s.FrequencyCap.Per = -1 }, "frequency_cap.per: is required, like 7d"},
		// Every wrong field is named, one a line, in the order of the spec's fields.
		{"several", func(s *campaigns.Spec) { s.Kind = "x"; s.Channels = nil },
			"kind: \"x\" is not coupon or newsletter\nchannels: is empty: list at least one of email, sms, postal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := exampleSpec()
			c.modify(&s)
			err := s.Validate()
			wantInvalid(t, err, c.want)
			field, _, _ := strings.Cut(c.want, ":")
			if !strings.HasPrefix(err.Error(), field+": ") {
				t.Errorf("err %q does not start with the field %q", err, field)
			}
		})
	}
}

// Validate reports every problem at once, each a *campaigns.FieldError that FieldErrors lists, so
// that a form can show each next to its field.
func TestSpecValidateReportsEveryField(t *testing.T) {
	s := exampleSpec()
	s.Name = ""
	s.Channels = []campaigns.Channel{"email", "fax", "email"}
	s.Segment.PostalCodes = []string{"00*", "x"}
	s.Coupon.ValidDays = 0
	s.FrequencyCap.Per = 0
	err := s.Validate()
	if !errors.Is(err, campaigns.ErrInvalid) {
		t.Fatalf("errors.Is(%v, ErrInvalid) = false", err)
	}
	var first *campaigns.FieldError
	if !errors.As(err, &first) || first.Field != "name" || first.Reason != "is required" {
		t.Errorf("errors.As first FieldError = %+v", first)
	}
	want := []string{
		"name: is required",
		`channels[1]: "fax" is not email, sms or postal`,
		`channels[2]: "email" is listed twice`,
		`segment.postal_codes[1]: "x" is not a postal code (00100) or prefix pattern (00*)`,
		"coupon.valid_days: 0 is not between 1 and 366",
		"frequency_cap.per: is required, like 7d",
	}
	var got []string
	for _, fe := range campaigns.FieldErrors(err) {
		got = append(got, fe.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || err.Error() != strings.Join(want, "\n") {
		t.Errorf("FieldErrors = %q\nerr = %q\nwant %q", got, err, want)
	}
	// Wrapped, the problems are still found; a plain error or nil has none.
	if n := len(campaigns.FieldErrors(fmt.Errorf("create: %w", err))); n != len(want) {
		t.Errorf("FieldErrors of a wrapped error: %d", n)
	}
	if fe := campaigns.FieldErrors(errors.New("x")); fe != nil {
		t.Errorf("FieldErrors of a plain error = %v", fe)
	}
	// One problem alone is the FieldError itself, its message unchanged.
	one := campaigns.Invalid("to", "is empty")
	if one.Error() != "to: is empty" || !errors.Is(one, campaigns.ErrInvalid) || len(campaigns.FieldErrors(one)) != 1 {
		t.Errorf("Invalid = %v", one)
	}
	// A bad kind leaves an empty template alone (no default to check yet).
	b := campaigns.Spec{Name: "x", Kind: "offer", Channels: []campaigns.Channel{campaigns.Email}}
	if err := b.Validate(); err == nil || err.Error() != `kind: "offer" is not coupon or newsletter` {
		t.Errorf("bad kind, no template: %v", err)
	}
}

func TestSpecValidateAcceptsBoundaries(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*campaigns.Spec)
	}{
		{"postal exact code", func(s *campaigns.Spec) { s.Segment.PostalCodes = []string{"00100", "99999"} }},
		{"postal one-digit prefix", func(s *campaigns.Spec) { s.Segment.PostalCodes = []string{"0*"} }},
		// Five digits and a star: the pattern the regexp allows; it matches that one code.
		{"postal five digits star", func(s *campaigns.Spec) { s.Segment.PostalCodes = []string{"00100*"} }},
		{"discount 40 characters", func(s *campaigns.Spec) { s.Coupon.Discount = strings.Repeat("x", 40) }},
		{"discount padded to 40", func(s *campaigns.Spec) { s.Coupon.Discount = "  " + strings.Repeat("x", 40) + "  " }},
		{"valid_days 1", func(s *campaigns.Spec) { s.Coupon.ValidDays = 1 }},
		{"valid_days 366", func(s *campaigns.Spec) { s.Coupon.ValidDays = 366 }},
		{"cron only", func(s *campaigns.Spec) { s.Schedule = campaigns.Schedule{Cron: "0 9 * * MON"} }},
		{"no schedule", func(s *campaigns.Spec) { s.Schedule = campaigns.Schedule{} }},
		{"no frequency cap", func(s *campaigns.Spec) { s.FrequencyCap = nil }},
		{"empty segment", func(s *campaigns.Spec) { s.Segment = campaigns.Segment{} }},
		{"zero min spend", func(s *campaigns.Spec) { m := campaigns.Money(0); s.Segment.MinTotalSpend = &m }},
		{"template 64 characters", func(s *campaigns.Spec) { s.Template = "a" + strings.Repeat("-", 62) + "_" }},
		{"first strategy", func(s *campaigns.Spec) { s.Strategy = campaigns.StrategyFirst }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := exampleSpec()
			c.modify(&s)
			if err := s.Validate(); err != nil {
				t.Errorf("Validate = %v, want nil", err)
			}
		})
	}
}

// The discount's limit is stated in characters, and discounts are written in Finnish and Swedish.
func TestSpecValidateDiscountLimitCountsCharacters(t *testing.T) {
	s := exampleSpec()
	s.Coupon.Discount = "-20 % kaikista syksyn kenkä- ja öljytuot" // 40 characters, 42 bytes
	if n := len([]rune(s.Coupon.Discount)); n != 40 {
		t.Fatalf("test discount has %d characters", n)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate(40-character discount) = %v, want nil", err)
	}
}

// A channel or language with surrounding spaces passes ParseChannel/ParseLanguage (they trim) and is
// stored as given, so " email" would be a fourth channel nobody sends on.
func TestSpecValidateRefusesPaddedChannelAndLanguage(t *testing.T) {
	t.Run("channel", func(t *testing.T) {
		s := exampleSpec()
		s.Channels = []campaigns.Channel{" email"}
		wantInvalid(t, s.Validate(), `channels[0]: " email" is not email, sms or postal`)
	})
	t.Run("language", func(t *testing.T) {
		s := exampleSpec()
		s.Segment.Languages = []campaigns.Language{"fi "}
		wantInvalid(t, s.Validate(), `segment.languages[0]: "fi " is not fi, sv or en`)
	})
}

func TestParseDurationAndMarshalText(t *testing.T) {
	const day = 24 * time.Hour
	cases := []struct {
		in   string
		want time.Duration
		text string // MarshalText of the parsed value
	}{
		{"365d", 365 * day, "365d"},
		{"7d", 7 * day, "7d"},
		{"1d", day, "1d"},
		{"2w", 14 * day, "14d"},
		{"12h", 12 * time.Hour, "12h"},
		{"48h", 2 * day, "2d"},
		{"30m", 30 * time.Minute, "30m"},
		{"90m", 90 * time.Minute, "90m"},
		{"120m", 2 * time.Hour, "2h"},
		{" 7d ", 7 * day, "7d"},
	}
	for _, c := range cases {
		d, err := campaigns.ParseDuration(c.in)
		if err != nil || time.Duration(d) != c.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", c.in, time.Duration(d), err, c.want)
			continue
		}
		b, err := d.MarshalText()
		if err != nil || string(b) != c.text {
			t.Errorf("MarshalText(%q) = %q, %v; want %q", c.in, b, err, c.text)
		}
		var back campaigns.Duration
		if err := back.UnmarshalText(b); err != nil || back != d {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, time.Duration(back), err, time.Duration(d))
		}
	}
	if b, err := campaigns.Duration(0).MarshalText(); err != nil || string(b) != "" {
		t.Errorf("MarshalText(0) = %q, %v; want \"\"", b, err)
	}
}

func TestParseDurationRefuses(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", `"" is not a duration like 7d, 12h or 365d`},
		{"d", `"d" is not a duration like 7d, 12h or 365d`},
		{"0d", `"0d" is not a duration like 7d, 12h or 365d`},
		{"-1d", `"-1d" is not a duration like 7d, 12h or 365d`},
		{"1.5d", `"1.5d" is not a duration like 7d, 12h or 365d`},
		{"7 d", `"7 d" is not a duration like 7d, 12h or 365d`},
		{"a year", `"a year" is not a duration like 7d, 12h or 365d`},
		{"5y", `"5y" has no unit m, h, d or w`},
		{"30s", `"30s" has no unit m, h, d or w`},
		{"7D", `"7D" has no unit m, h, d or w`},
		{"365", `"365" has no unit m, h, d or w`},
	}
	for _, c := range cases {
		d, err := campaigns.ParseDuration(c.in)
		if err == nil || err.Error() != c.want || d != 0 {
			t.Errorf("ParseDuration(%q) = %v, %v; want 0, %q", c.in, time.Duration(d), err, c.want)
		}
		var u campaigns.Duration = 99
		if err := u.UnmarshalText([]byte(c.in)); err == nil || err.Error() != c.want {
			t.Errorf("UnmarshalText(%q) = %v, want %q", c.in, err, c.want)
		}
	}
}

// A count of days too large for time.Duration must be refused, not wrapped around.
func TestParseDurationRefusesOverflow(t *testing.T) {
	for _, in := range []string{"106752d", "213504d", "99999999999w", "9223372036854775807m"} {
		d, err := campaigns.ParseDuration(in)
		if err == nil {
			t.Errorf("ParseDuration(%q) = %v, nil; want an error", in, time.Duration(d))
		}
	}
}

func TestDurationJSONRoundTrip(t *testing.T) {
	var fc campaigns.FrequencyCap
	if err := json.Unmarshal([]byte(`{"max":2,"per":"2w"}`), &fc); err != nil {
		t.Fatal(err)
	}
	if fc.Max != 2 || time.Duration(fc.Per) != 14*24*time.Hour {
		t.Fatalf("decoded %+v", fc)
	}
	b, err := json.Marshal(fc)
	if err != nil || string(b) != `{"max":2,"per":"14d"}` {
		t.Fatalf("json.Marshal = %s, %v; want {\"max\":2,\"per\":\"14d\"}", b, err)
	}
	if err := json.Unmarshal([]byte(`{"per":"5y"}`), &fc); err == nil || err.Error() != `"5y" has no unit m, h, d or w` {
		t.Errorf("json.Unmarshal(per 5y) = %v", err)
	}
	// An absent purchased_within stays absent.
	b, err = json.Marshal(campaigns.Segment{})
	if err != nil || string(b) != `{}` {
		t.Errorf("json.Marshal(empty segment) = %s, %v; want {}", b, err)
	}
}

func TestMoneyParsing(t *testing.T) {
	cases := []struct {
		in   string
		want campaigns.Money
	}{
		{"50", 5000},
		{"50.0", 5000},
		{"50.00", 5000},
		{"49.90", 4990},
		{"49.9", 4990},
		{"0.5", 50},
		{"0.05", 5},
		{"0", 0},
		{" 12.34 ", 1234},
		{"999999999.99", 99999999999},
	}
	for _, c := range cases {
		var m campaigns.Money = -7
		if err := m.UnmarshalText([]byte(c.in)); err != nil || m != c.want {
			t.Errorf("UnmarshalText(%q) = %d, %v; want %d cents", c.in, m, err, c.want)
		}
	}
	for _, c := range []struct {
		json string
		want campaigns.Money
	}{
		{`{"m":12.34}`, 1234},
		{`{"m":"12.34"}`, 1234},
		{`{"m":50}`, 5000},
		{`{"m":0.5}`, 50},
	} {
		var v struct {
			M *campaigns.Money `json:"m"`
		}
		if err := json.Unmarshal([]byte(c.json), &v); err != nil || v.M == nil || *v.M != c.want {
			t.Errorf("json.Unmarshal(%s) = %v, %v; want %d cents", c.json, v.M, err, c.want)
		}
	}
}

func TestMoneyRefuses(t *testing.T) {
	for _, in := range []string{"-1", "1.234", "abc", "1e3", "", "1,50", ".5", "5.", "+5", "1 000", "1234567890"} {
		var m campaigns.Money = 42
		err := m.UnmarshalText([]byte(in))
		want := fmt.Sprintf("%q is not an amount in euros like 50.00", strings.TrimSpace(in))
		if err == nil || err.Error() != want {
			t.Errorf("UnmarshalText(%q) = %v; want %q", in, err, want)
		}
		if m != 42 {
			t.Errorf("UnmarshalText(%q) changed the value to %d", in, m)
		}
	}
	for _, js := range []string{`{"m":-1}`, `{"m":1.234}`, `{"m":"abc"}`, `{"m":1e3}`, `{"m":true}`} {
		var v struct {
			M campaigns.Money `json:"m"`
		}
		if err := json.Unmarshal([]byte(js), &v); err == nil {
			t.Errorf("json.Unmarshal(%s) = %d cents, nil; want an error", js, v.M)
		}
	}
}

func TestMoneyMarshalJSON(t *testing.T) {
	cases := map[campaigns.Money]string{4990: "49.90", 5000: "50.00", 50: "0.50", 5: "0.05", 0: "0.00", 99999999999: "999999999.99"}
	for m, want := range cases {
		b, err := m.MarshalJSON()
		if err != nil || string(b) != want {
			t.Errorf("Money(%d).MarshalJSON() = %s, %v; want %s", m, b, err, want)
		}
		var back campaigns.Money
		if err := json.Unmarshal(b, &back); err != nil || back != m {
			t.Errorf("round trip of %s = %d, %v; want %d", b, back, err, m)
		}
	}
	b, err := json.Marshal(struct {
		M campaigns.Money `json:"min_total_spend"`
	}{4990})
	if err != nil || string(b) != `{"min_total_spend":49.90}` {
		t.Errorf("json.Marshal = %s, %v", b, err)
	}
}

// Money is signed (Validate guards against a negative min_total_spend), so a negative amount must
// marshal to a JSON number too.
func TestMoneyMarshalJSONNegative(t *testing.T) {
	cases := map[campaigns.Money]string{-50: "-0.50", -150: "-1.50", -5: "-0.05"}
	for m, want := range cases {
		b, err := m.MarshalJSON()
		if err != nil || string(b) != want {
			t.Errorf("Money(%d).MarshalJSON() = %s, %v; want %s", m, b, err, want)
		}
	}
}

func TestParseAt(t *testing.T) {
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(mo time.Month, d, h, mi int) time.Time { return time.Date(2026, mo, d, h, mi, 0, 0, time.UTC) }
	cases := []struct {
		in   string
		loc  *time.Location
		want time.Time
	}{
		{"2026-12-01T09:00:00+02:00", helsinki, utc(12, 1, 7, 0)},
		{"2026-12-01T09:00:00+02:00", time.UTC, utc(12, 1, 7, 0)}, // the offset wins over loc
		{"2026-12-01T07:00:00Z", helsinki, utc(12, 1, 7, 0)},
		{"2026-06-01T09:00:00-04:00", helsinki, utc(6, 1, 13, 0)},
		{"2026-12-01T09:00", helsinki, utc(12, 1, 7, 0)},
		{"2026-12-01T09:00:30", helsinki, utc(12, 1, 7, 0).Add(30 * time.Second)},
		{"2026-12-01 09:00", helsinki, utc(12, 1, 7, 0)},
		{"2026-06-01T09:00", helsinki, utc(6, 1, 6, 0)}, // summer time, +03:00
		{"2026-12-01T09:00", time.UTC, utc(12, 1, 9, 0)},
	}
	for _, c := range cases {
		got, err := campaigns.ParseAt(c.in, c.loc)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("ParseAt(%q, %s) = %v, %v; want %v", c.in, c.loc, got, err, c.want)
		}
	}
	for _, in := range []string{"", "tomorrow", "2026-12-01", "2026-13-01T09:00", "2026-12-01T25:00", "01.12.2026 09:00", "2026-12-01T09:00:00+0200"} {
		got, err := campaigns.ParseAt(in, helsinki)
		want := fmt.Sprintf("%q is not a time like 2026-12-01T09:00:00+02:00", in)
		if err == nil || err.Error() != want || !got.IsZero() {
			t.Errorf("ParseAt(%q) = %v, %v; want zero, %q", in, got, err, want)
		}
	}
}
