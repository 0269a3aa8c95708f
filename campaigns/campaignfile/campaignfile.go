// Package campaignfile reads a marketer's campaign file (YAML, or the same as JSON from the API) into
// a campaigns.Spec, strictly: an unknown field, a value of the wrong type, a cron expression that does
// not parse or a rule of campaigns.Spec.Validate that does not hold is refused with one line naming
// the file, the line where it can be told, and the field.
package campaignfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/jacksmood/dispatch/campaigns"
)

// CronParser is the parser for schedule.cron: five fields (minute hour day-of-month month
// day-of-week) or a descriptor such as @daily.
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// DecodeYAML reads a campaign file. name is used in error messages. Errors are campaigns.ErrInvalid.
func DecodeYAML(data []byte, name string) (*campaigns.Spec, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, campaigns.Errorf(campaigns.ErrInvalid, "%s", yamlMessage(name, err))
	}
	if len(root.Content) == 0 {
		return nil, campaigns.Errorf(campaigns.ErrInvalid, "%s: the file is empty", name)
	}
	var spec campaigns.Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&spec); err != nil {
		msg := yamlMessage(name, err)
		// Errors from a value's own parser (a duration, an amount) carry no line; find the value.
		if q := quotedRE.FindStringSubmatch(err.Error()); q != nil && !lineRE.MatchString(err.Error()) {
			if line := lineOfValue(root.Content[0], q[1]); line > 0 {
				msg = fmt.Sprintf("%s:%d: %s", name, line, err)
			}
		}
		return nil, campaigns.Errorf(campaigns.ErrInvalid, "%s", msg)
	}
	if err := check(&spec); err != nil {
		field, _, _ := strings.Cut(err.Error(), ":")
		if line := lineOf(root.Content[0], field); line > 0 {
			return nil, campaigns.Errorf(campaigns.ErrInvalid, "%s:%d: %s", name, line, err)
		}
		return nil, campaigns.Errorf(campaigns.ErrInvalid, "%s: %s", name, err)
	}
	return &spec, nil
}

// DecodeJSON reads a campaign as JSON (the API's body), with the same rules as DecodeYAML.
func DecodeJSON(r io.Reader) (*campaigns.Spec, error) {
	var spec campaigns.Spec
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &ute):
			return nil, campaigns.Invalid(ute.Field, fmt.Sprintf("wrong type (%s)", ute.Value))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return nil, campaigns.Errorf(campaigns.ErrInvalid, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return nil, campaigns.Errorf(campaigns.ErrInvalid, "campaign is not valid JSON: %v", err)
	}
	if err := check(&spec); err != nil {
		return nil, err
	}
	return &spec, nil
}

func check(spec *campaigns.Spec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	if spec.Schedule.Cron != "" {
		sched, err := CronParser.Parse(spec.Schedule.Cron)
		if err != nil {
			return campaigns.Invalid("schedule.cron", fmt.Sprintf("%q does not parse: %v", spec.Schedule.Cron, err))
		}
		if gap := shortestGap(sched); gap < MinCronInterval {
			return campaigns.Invalid("schedule.cron", fmt.Sprintf("%q runs every %s; a campaign runs at most once an hour", spec.Schedule.Cron, gap))
		}
	}
	return nil
}

// MinCronInterval is the shortest time allowed between two runs of a recurring campaign: a marketing
// campaign sent more often than hourly is a mistake (a typo in a cron field, "@every 1s").
const MinCronInterval = time.Hour

// shortestGap is the shortest time between consecutive ticks of s over a year of ticks from a
// fixed start (every pattern of minutes, hours, weekdays and months repeats within it), looking at
// no more than a few thousand ticks: a schedule that ticks more often is refused after those.
func shortestGap(s cron.Schedule) time.Duration {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := t.AddDate(1, 0, 0)
	shortest := time.Duration(1<<63 - 1)
	prev := s.Next(t)
	for i := 0; i < 10000 && prev.Before(end) && !prev.IsZero(); i++ {
		next := s.Next(prev)
		if next.IsZero() {
			break
		}
		if d := next.Sub(prev); d < shortest {
			shortest = d
		}
		prev = next
	}
	return shortest
}

var (
	quotedRE       = regexp.MustCompile(`^"([^"]*)"`)
	lineRE         = regexp.MustCompile(`line (\d+): (.*)`)
	notFoundRE     = regexp.MustCompile(`field (\S+) not found in type \S+`)
	cannotUnmarsRE = regexp.MustCompile("cannot unmarshal !!(\\w+) `([^`]*)` into (\\S+)")
)

// yamlMessage turns yaml's multi-line errors into one line: "file:LINE: what".
func yamlMessage(name string, err error) string {
	msg := err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		what := m[2]
		if f := notFoundRE.FindStringSubmatch(what); f != nil {
			what = fmt.Sprintf("unknown field %q", f[1])
		} else if c := cannotUnmarsRE.FindStringSubmatch(what); c != nil {
			what = fmt.Sprintf("%q is a %s where %s is expected", c[2], c[1], typeName(c[3]))
		}
		return fmt.Sprintf("%s:%s: %s", name, m[1], what)
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return fmt.Sprintf("%s: %s", name, strings.Join(strings.Fields(msg), " "))
}

func typeName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.Contains(goType, "int"):
		return "a whole number"
	case strings.Contains(goType, "Spec"), strings.Contains(goType, "Segment"), strings.Contains(goType, "Schedule"):
		return "a mapping"
	}
	return "a " + strings.TrimPrefix(goType, "campaigns.")
}

// lineOf finds the line of a field path such as "coupon.valid_days" or "channels[1]" in the document.
func lineOf(n *yaml.Node, path string) int {
	line := n.Line
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			key = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		if n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next, line = n.Content[i+1], n.Content[i].Line
				break
			}
		}
		if next == nil {
			return line
		}
		n = next
		if idx >= 0 && n.Kind == yaml.SequenceNode && idx < len(n.Content) {
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

// lineOfValue returns the line of the first scalar whose value is v, or 0.
func lineOfValue(n *yaml.Node, v string) int {
	if n.Kind == yaml.ScalarNode && n.Value == v {
		return n.Line
	}
	for _, c := range n.Content {
		if l := lineOfValue(c, v); l > 0 {
			return l
		}
	}
	return 0
}
