package campaigns

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is what a campaign sends.
type Kind string

// The kinds of campaign.
const (
	KindCoupon     Kind = "coupon"
	KindNewsletter Kind = "newsletter"
)

// Strategy decides how many messages a member gets when a campaign has several channels.
type Strategy string

// The strategies. All sends on every channel the member may be reached on; First sends one message,
// on the first channel in the campaign's list that reaches the member.
const (
	StrategyAll   Strategy = "all"
	StrategyFirst Strategy = "first"
)

// CampaignStatus is where a campaign is in its life.
type CampaignStatus string

// The campaign states, as `dispatch campaigns status` reports them.
const (
	StatusDraft     CampaignStatus = "draft"
	StatusScheduled CampaignStatus = "scheduled"
	StatusRunning   CampaignStatus = "running"
	StatusPaused    CampaignStatus = "paused"
	StatusFinished  CampaignStatus = "finished"
	StatusCancelled CampaignStatus = "cancelled"
)

// Spec is a campaign as a marketer writes it (the campaign file of SPEC.md, in YAML or JSON).
type Spec struct {
	Name         string        `json:"name" yaml:"name"`
	Kind         Kind          `json:"kind" yaml:"kind"`
	Channels     []Channel     `json:"channels" yaml:"channels"`
	Strategy     Strategy      `json:"strategy,omitempty" yaml:"strategy"`
	Template     string        `json:"template" yaml:"template"`
	Segment      Segment       `json:"segment" yaml:"segment"`
	Coupon       *CouponSpec   `json:"coupon,omitempty" yaml:"coupon"`
	Schedule     Schedule      `json:"schedule" yaml:"schedule"`
	FrequencyCap *FrequencyCap `json:"frequency_cap,omitempty" yaml:"frequency_cap"`
}

// Segment selects members; every condition given must hold, and an empty segment is every member.
type Segment struct {
	Languages       []Language `json:"languages,omitempty" yaml:"languages"`
	PostalCodes     []string   `json:"postal_codes,omitempty" yaml:"postal_codes"`
	PurchasedWithin Duration   `json:"purchased_within,omitempty" yaml:"purchased_within"`
	MinTotalSpend   *Money     `json:"min_total_spend,omitempty" yaml:"min_total_spend"`
}

// CouponSpec is the offer of a coupon campaign.
type CouponSpec struct {
	Discount  string `json:"discount" yaml:"discount"`
	ValidDays int    `json:"valid_days" yaml:"valid_days"`
}

// Schedule says when a campaign runs: once at At, or on every tick of the cron expression Cron
// (five fields, in DISPATCH_TIMEZONE). Neither: the campaign runs when it is scheduled by hand.
type Schedule struct {
	At   string `json:"at,omitempty" yaml:"at"`
	Cron string `json:"cron,omitempty" yaml:"cron"`
}

// FrequencyCap limits marketing messages per member and channel: at most Max in any window of Per.
type FrequencyCap struct {
	Max int      `json:"max" yaml:"max"`
	Per Duration `json:"per" yaml:"per"`
}

// Duration is a length of time written as a number and a unit: "365d", "7d", "12h", "30m".
type Duration time.Duration

// ParseDuration reads "365d", "2w", "12h" or "30m".
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("%q is not a duration like 7d, 12h or 365d", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a duration like 7d, 12h or 365d", s)
	}
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("%q has no unit m, h, d or w", s)
	}
	if time.Duration(n) > maxDuration/unit {
		return 0, fmt.Errorf("%q is longer than ten years", s)
	}
	return Duration(time.Duration(n) * unit), nil
}

// maxDuration is the longest duration a campaign file may give.
const maxDuration = 10 * 366 * 24 * time.Hour

// UnmarshalText reads a duration as ParseDuration does.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	*d = v
	return err
}

// MarshalText writes the duration in days when it is whole days, else in hours or minutes.
func (d Duration) MarshalText() ([]byte, error) {
	t := time.Duration(d)
	switch {
	case t == 0:
		return []byte(""), nil
	case t%(24*time.Hour) == 0:
		return []byte(fmt.Sprintf("%dd", t/(24*time.Hour))), nil
	case t%time.Hour == 0:
		return []byte(fmt.Sprintf("%dh", t/time.Hour)), nil
	}
	return []byte(fmt.Sprintf("%dm", t/time.Minute)), nil
}

// Money is an amount in euro cents. It reads 50, 50.0, 49.90 or "49.90" exactly (no floating point).
type Money int64

// UnmarshalJSON reads a number or a string with at most two decimals.
func (m *Money) UnmarshalJSON(b []byte) error {
	return m.UnmarshalText([]byte(strings.Trim(string(b), `"`)))
}

// UnmarshalText reads "49.90" as 4990 cents.
func (m *Money) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if !moneyRE.MatchString(s) {
		return fmt.Errorf("%q is not an amount in euros like 50.00", s)
	}
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + "00")[:2]
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is too large", s)
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	*m = Money(w*100 + f)
	return nil
}

// MarshalJSON writes the amount as a number with two decimals.
func (m Money) MarshalJSON() ([]byte, error) {
	v, sign := int64(m), ""
	if v < 0 {
		v, sign = -v, "-"
	}
	return []byte(fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)), nil
}

var (
	moneyRE      = regexp.MustCompile(`^[0-9]{1,9}(\.[0-9]{1,2})?$`)
	postalPatRE  = regexp.MustCompile(`^[0-9]{1,5}\*?$`)
	templateRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	discountMax  = 40
	maxValidDays = 366
)

// Validate checks the spec and returns ErrInvalid naming every field that is wrong, in the order of
// the spec's fields: one *FieldError ("channels[1]: ...", "coupon.valid_days: ...") when one field
// is wrong, errors.Join of them when several are (one "field: reason" a line; FieldErrors lists
// them). It fills defaults: strategy "all", template = kind (when the kind is valid). Cron syntax
// and templates are checked by the caller, which has the parsers.
func (s *Spec) Validate() error {
	var problems []error
	bad := func(field, reason string) { problems = append(problems, Invalid(field, reason)) }
	if strings.TrimSpace(s.Name) == "" {
		bad("name", "is required")
	}
	kindOK := false
	switch s.Kind {
	case KindCoupon, KindNewsletter:
		kindOK = true
	case "":
		bad("kind", "is required (coupon or newsletter)")
	default:
		bad("kind", fmt.Sprintf("%q is not coupon or newsletter", s.Kind))
	}
	if len(s.Channels) == 0 {
		bad("channels", "is empty: list at least one of email, sms, postal")
	}
	seen := map[Channel]bool{}
	for i, c := range s.Channels {
		if p, err := ParseChannel(string(c)); err != nil || p != c {
			bad(fmt.Sprintf("channels[%d]", i), fmt.Sprintf("%q is not email, sms or postal", c))
			continue
		}
		if seen[c] {
			bad(fmt.Sprintf("channels[%d]", i), fmt.Sprintf("%q is listed twice", c))
		}
		seen[c] = true
	}
	switch s.Strategy {
	case "":
		s.Strategy = StrategyAll
	case StrategyAll, StrategyFirst:
	default:
		bad("strategy", fmt.Sprintf("%q is not all or first", s.Strategy))
	}
	if s.Template == "" && kindOK {
		s.Template = string(s.Kind)
	}
	// Without a valid kind an empty template has no default yet: the kind's problem is the one to fix.
	if (s.Template != "" || kindOK) && !templateRE.MatchString(s.Template) {
		bad("template", fmt.Sprintf("%q is not a template name (lower-case letters, digits, - and _)", s.Template))
	}
	for i, l := range s.Segment.Languages {
		if p, err := ParseLanguage(string(l)); err != nil || p != l {
			bad(fmt.Sprintf("segment.languages[%d]", i), fmt.Sprintf("%q is not fi, sv or en", l))
		}
	}
	for i, p := range s.Segment.PostalCodes {
		if !postalPatRE.MatchString(p) || (!strings.HasSuffix(p, "*") && len(p) != 5) {
			bad(fmt.Sprintf("segment.postal_codes[%d]", i), fmt.Sprintf("%q is not a postal code (00100) or prefix pattern (00*)", p))
		}
	}
	if s.Segment.PurchasedWithin < 0 {
		bad("segment.purchased_within", "must be positive")
	}
	if s.Segment.MinTotalSpend != nil && *s.Segment.MinTotalSpend < 0 {
		bad("segment.min_total_spend", "must not be negative")
	}
	switch {
	case s.Kind == KindNewsletter && s.Coupon != nil:
		bad("coupon", "a newsletter has no coupon section (kind: coupon for a coupon offer)")
	case s.Kind == KindCoupon && s.Coupon == nil:
		bad("coupon", "a coupon campaign needs a coupon section (discount, valid_days)")
	case s.Coupon != nil:
		if d := strings.TrimSpace(s.Coupon.Discount); d == "" || utf8.RuneCountInString(d) > discountMax {
			bad("coupon.discount", fmt.Sprintf("is required, at most %d characters (e.g. \"-20 %%\")", discountMax))
		}
		if s.Coupon.ValidDays < 1 || s.Coupon.ValidDays > maxValidDays {
			bad("coupon.valid_days", fmt.Sprintf("%d is not between 1 and %d", s.Coupon.ValidDays, maxValidDays))
		}
	}
	if s.Schedule.At != "" && s.Schedule.Cron != "" {
		bad("schedule", "give at or cron, not both")
	}
	if s.FrequencyCap != nil {
		if s.FrequencyCap.Max < 1 {
			bad("frequency_cap.max", "must be at least 1")
		}
		if s.FrequencyCap.Per <= 0 {
			bad("frequency_cap.per", "is required, like 7d")
		}
	}
	return joinInvalid(problems)
}

// ParseAt reads a one-off schedule time: RFC 3339 with an offset, or a local time
// ("2026-12-01T09:00", "2026-12-01 09:00") in loc.
func ParseAt(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time like 2026-12-01T09:00:00+02:00", s)
}

// Campaign is a stored campaign.
type Campaign struct {
	ID        int64          `json:"id" db:"id"`
	Name      string         `json:"name" db:"name"`
	Kind      Kind           `json:"kind" db:"kind"`
	Status    CampaignStatus `json:"status" db:"status"`
	Spec      Spec           `json:"spec" db:"-"`
	NextRunAt *time.Time     `json:"next_run_at,omitempty" db:"next_run_at"`
	CreatedBy string         `json:"created_by" db:"created_by"`
	CreatedAt time.Time      `json:"created_at" db:"created_at"`
	UpdatedAt time.Time      `json:"updated_at" db:"updated_at"`
}

// ChannelStats counts a run's deliveries on one channel by state.
type ChannelStats struct {
	Total   int64                `json:"total"`
	Queued  int64                `json:"queued"`
	Sent    int64                `json:"sent"`
	Failed  int64                `json:"failed"`
	Skipped int64                `json:"skipped"`
	Cancel  int64                `json:"cancelled"`
	Reasons map[SkipReason]int64 `json:"skipped_by_reason,omitempty"`
}

// RunSummary is one run of a campaign in its history.
type RunSummary struct {
	ID           int64      `json:"id" db:"id"`
	Status       RunStatus  `json:"status" db:"status"`
	ScheduledFor time.Time  `json:"scheduled_for" db:"scheduled_for"`
	StartedAt    time.Time  `json:"started_at" db:"started_at"`
	FinishedAt   *time.Time `json:"finished_at,omitempty" db:"finished_at"`
	Sent         int64      `json:"sent" db:"sent"`
	Failed       int64      `json:"failed" db:"failed"`
}

// Stats is the progress of one run of a campaign (its latest unless asked), as `campaigns status
// --json` prints it.
type Stats struct {
	ID       int64                    `json:"id"`
	Status   CampaignStatus           `json:"status"`
	RunID    int64                    `json:"run_id,omitempty"`
	Channels map[Channel]ChannelStats `json:"channels"`
}
