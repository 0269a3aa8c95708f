package campaignfile

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

const good = `name: Autumn coupon 2026
kind: coupon
channels: [email, sms, postal]
strategy: all
template: coupon
segment:
  languages: [fi, sv]
  postal_codes: ["00*", "02*"]
  purchased_within: 365d
  min_total_spend: 50.00
coupon:
  discount: "-20 %"
  valid_days: 30
schedule:
  at: 2026-12-01T09:00:00+02:00
frequency_cap: { max: 2, per: 7d }
`

func TestDecodeSpecExample(t *testing.T) {
	s, err := DecodeYAML([]byte(good), "autumn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "Autumn coupon 2026" || s.Kind != campaigns.KindCoupon || len(s.Channels) != 3 || s.Channels[2] != campaigns.Postal {
		t.Fatalf("spec = %+v", s)
	}
	if s.Segment.MinTotalSpend == nil || *s.Segment.MinTotalSpend != 5000 {
		t.Fatalf("min_total_spend = %v, want 5000 cents", s.Segment.MinTotalSpend)
	}
	if time.Duration(s.Segment.PurchasedWithin) != 365*24*time.Hour || time.Duration(s.FrequencyCap.Per) != 7*24*time.Hour || s.FrequencyCap.Max != 2 {
		t.Fatalf("durations = %v %+v", s.Segment.PurchasedWithin, s.FrequencyCap)
	}
	if s.Coupon.Discount != "-20 %" || s.Coupon.ValidDays != 30 || s.Schedule.At != "2026-12-01T09:00:00+02:00" {
		t.Fatalf("coupon/schedule = %+v %+v", s.Coupon, s.Schedule)
	}
}

func TestDecodeRefusesNamingLineAndField(t *testing.T) {
	cases := []struct{ edit, want string }{
		{"strategy: all\n", "c.yaml:4: strategy: \"most\" is not all or first"},
		{"channels: [email, sms, postal]\n", "c.yaml:3: channels: is empty: list at least one of email, sms, postal"},
		{"  valid_days: 30\n", "c.yaml:13: coupon.valid_days: 0 is not between 1 and 366"},
		{"kind: coupon\n", "c.yaml:11: coupon: a newsletter has no coupon section (kind: coupon for a coupon offer)"},
		{"template: coupon\n", "c.yaml:5: unknown field \"tempalte\""},
		{"  at: 2026-12-01T09:00:00+02:00\n", "c.yaml:15: schedule.cron: \"0 9 * * FUNDAY\" does not parse"},
		{"  languages: [fi, sv]\n", "c.yaml:7: segment.languages[1]: \"de\" is not fi, sv or en"},
		{"  purchased_within: 365d\n", "c.yaml:9: \"a year\" is not a duration like 7d, 12h or 365d"},
		{"  valid_days: 30\n", "c.yaml:13: \"thirty\" is a str where a whole number is expected"},
	}
	repl := []string{"strategy: most\n", "channels: []\n", "  valid_days: 0\n", "kind: newsletter\n", "tempalte: coupon\n",
		"  cron: \"0 9 * * FUNDAY\"\n", "  languages: [fi, de]\n", "  purchased_within: a year\n", "  valid_days: thirty\n"}
	for i, c := range cases {
		doc := strings.Replace(good, c.edit, repl[i], 1)
		_, err := DecodeYAML([]byte(doc), "c.yaml")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || !errors.Is(err, campaigns.ErrInvalid) || strings.Contains(err.Error(), "\n") {
			t.Errorf("edit %q: err = %v, want prefix %q", repl[i], err, c.want)
		}
	}
}

func TestDecodeJSONStrict(t *testing.T) {
	_, err := DecodeJSON(strings.NewReader(`{"name":"x","kind":"newsletter","channels":["email"],"colour":"red"}`))
	if err == nil || err.Error() != `unknown field "colour"` {
		t.Fatalf("unknown field: %v", err)
	}
	s, err := DecodeJSON(strings.NewReader(`{"name":"x","kind":"newsletter","channels":["email"],"segment":{"min_total_spend":"12.5"},"schedule":{"cron":"0 9 * * MON"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Template != "newsletter" || s.Strategy != campaigns.StrategyAll || *s.Segment.MinTotalSpend != 1250 {
		t.Fatalf("defaults not filled: %+v", s)
	}
}

// A recurring campaign runs at most once an hour: a cron every second or minute is refused at create.
func TestCronMoreOftenThanHourlyIsRefused(t *testing.T) {
	base := "name: x\nkind: newsletter\nchannels: [email]\nschedule:\n  cron: \"%s\"\n"
	for cronExpr, ok := range map[string]bool{
		"@every 1s": false, "@every 1ms": false, "@every 0s": false, "@every 59m": false, "* * * * *": false,
		"*/30 * * * *": false, "0,30 9 * * *": false, "0 9-17 * * MON-FRI": true, "@every 1h": true,
		"@hourly": true, "@daily": true, "0 9 * * MON": true, "0 9 1 * *": true,
	} {
		_, err := DecodeYAML([]byte(fmt.Sprintf(base, cronExpr)), "c.yaml")
		if ok && err != nil {
			t.Errorf("%q refused: %v", cronExpr, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "c.yaml:5: schedule.cron:") || !strings.Contains(err.Error(), "at most once an hour")) {
			t.Errorf("%q: %v, want it refused", cronExpr, err)
		}
	}
}
