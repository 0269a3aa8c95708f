package campaignfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
)

// FuzzCampaignFile checks the campaign file and the API's JSON on any input:
//   - a refusal is ErrInvalid; a file's names the file on its first line ("c.yaml:LINE: …" or
//     "c.yaml: …"), and no line of it is empty;
//   - a campaign either reader accepts passes Validate again unchanged (defaults filled), has a
//     cron that parses and runs at most hourly, and is the same every time it is read;
//   - an accepted campaign's JSON, as the store keeps it and the console posts it, reads back to
//     the same campaign through DecodeJSON, and through DecodeYAML (JSON is YAML);
//   - text that both readers accept is read as the same campaign by both.
func FuzzCampaignFile(f *testing.F) {
	f.Add(good)
	for _, name := range []string{"../examples/coupon.yaml", "../examples/newsletter.yaml"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(string(b))
		}
	}
	f.Add(`{"name":"x","kind":"newsletter","channels":["email"],"segment":{"min_total_spend":"12.5"},"schedule":{"cron":"0 9 * * MON"}}`)
	f.Add("name: x\nkind: newsletter\nchannels: [email]\nschedule:\n  cron: \"@every 1s\"\n")
	f.Add("name: &a x\nkind: *a\nchannels: [email, email]\nsegment: {postal_codes: [\"0*0\"], purchased_within: 0d}\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, data string) {
		fromYAML, yerr := DecodeYAML([]byte(data), "c.yaml")
		if yerr != nil {
			if !errors.Is(yerr, campaigns.ErrInvalid) || !strings.HasPrefix(yerr.Error(), "c.yaml:") || hasEmptyLine(yerr.Error()) {
				t.Fatalf("DecodeYAML refused with %q, want ErrInvalid naming the file, no empty line", yerr)
			}
		} else {
			acceptedSpec(t, "DecodeYAML", fromYAML, func() (*campaigns.Spec, error) { return DecodeYAML([]byte(data), "c.yaml") })
		}
		fromJSON, jerr := DecodeJSON(strings.NewReader(data))
		if jerr != nil {
			if !errors.Is(jerr, campaigns.ErrInvalid) {
				t.Fatalf("DecodeJSON refused with %v, want ErrInvalid", jerr)
			}
		} else {
			acceptedSpec(t, "DecodeJSON", fromJSON, func() (*campaigns.Spec, error) { return DecodeJSON(strings.NewReader(data)) })
		}
		if yerr == nil && jerr == nil && !reflect.DeepEqual(fromYAML, fromJSON) {
			t.Fatalf("the same text read as YAML %+v and as JSON %+v", fromYAML, fromJSON)
		}
	})
}

// hasEmptyLine reports whether a line of s is empty.
func hasEmptyLine(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		if l == "" {
			return true
		}
	}
	return false
}

// acceptedSpec checks what one reader accepted (see FuzzCampaignFile); again reads it once more.
func acceptedSpec(t *testing.T, reader string, spec *campaigns.Spec, again func() (*campaigns.Spec, error)) {
	t.Helper()
	if spec == nil {
		t.Fatalf("%s: no error and no campaign", reader)
	}
	revalidated := *spec
	if err := check(&revalidated); err != nil || !reflect.DeepEqual(&revalidated, spec) {
		t.Fatalf("%s accepted %+v, which checks as %v (%+v)", reader, spec, err, revalidated)
	}
	if spec.Schedule.Cron != "" {
		sched, err := CronParser.Parse(spec.Schedule.Cron)
		if err != nil || shortestGap(sched) < MinCronInterval {
			t.Fatalf("%s accepted cron %q: %v", reader, spec.Schedule.Cron, err)
		}
	}
	if second, err := again(); err != nil || !reflect.DeepEqual(second, spec) {
		t.Fatalf("%s read %+v, then %+v (%v)", reader, spec, second, err)
	}
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatalf("%s: %+v does not marshal: %v", reader, spec, err)
	}
	if back, err := DecodeJSON(bytes.NewReader(b)); err != nil || !reflect.DeepEqual(back, spec) {
		t.Fatalf("%s: %+v as JSON %s reads back through DecodeJSON as %+v (%v)", reader, spec, b, back, err)
	}
	if back, err := DecodeYAML(b, "c.json"); err != nil || !reflect.DeepEqual(back, spec) {
		t.Fatalf("%s: %+v as JSON %s reads back through DecodeYAML as %+v (%v)", reader, spec, b, back, err)
	}
}
