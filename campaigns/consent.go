package campaigns

import (
	"strings"
	"time"
)

// ConsentStatus is the state a consent event moves a channel to.
type ConsentStatus string

// Consent states. For the postal channel, Withdrawn records the member's objection to postal marketing.
const (
	Granted   ConsentStatus = "granted"
	Withdrawn ConsentStatus = "withdrawn"
)

// ParseConsentStatus returns the status named s, or ErrInvalid.
func ParseConsentStatus(s string) (ConsentStatus, error) {
	switch c := ConsentStatus(strings.ToLower(strings.TrimSpace(s))); c {
	case Granted, Withdrawn:
		return c, nil
	}
	return "", Errorf(ErrInvalid, "unknown consent status %q (want granted or withdrawn)", s)
}

// ConsentSource says where a consent event came from.
type ConsentSource string

// The sources of consent events.
const (
	SourceSignupForm         ConsentSource = "signup-form"
	SourceCustomerService    ConsentSource = "customer-service"
	SourceUnsubscribeLink    ConsentSource = "unsubscribe-link"
	SourceSMSStop            ConsentSource = "sms-stop"
	SourceImport             ConsentSource = "import"
	SourcePopulationRegister ConsentSource = "population-register"
)

// ConsentSources lists every valid source.
var ConsentSources = []ConsentSource{SourceSignupForm, SourceCustomerService, SourceUnsubscribeLink,
	SourceSMSStop, SourceImport, SourcePopulationRegister}

// ParseConsentSource returns the source named s, or ErrInvalid listing the valid ones.
func ParseConsentSource(s string) (ConsentSource, error) {
	for _, c := range ConsentSources {
		if string(c) == strings.TrimSpace(s) {
			return c, nil
		}
	}
	names := make([]string, len(ConsentSources))
	for i, c := range ConsentSources {
		names[i] = string(c)
	}
	return "", Errorf(ErrInvalid, "unknown consent source %q (want one of %s)", s, strings.Join(names, ", "))
}

// ConsentEvent is one grant or withdrawal. Events are never changed; the current consent on a channel
// is the latest event's status, and a channel with no event has no consent.
type ConsentEvent struct {
	ID             int64         `json:"id" db:"id"`
	MemberID       int64         `json:"member_id" db:"member_id"`
	Channel        Channel       `json:"channel" db:"channel"`
	Status         ConsentStatus `json:"status" db:"status"`
	Source         ConsentSource `json:"source" db:"source"`
	WordingVersion string        `json:"wording_version" db:"wording_version"`
	Actor          string        `json:"actor,omitempty" db:"actor"`
	RecordedAt     time.Time     `json:"recorded_at" db:"recorded_at"`
}

// CurrentConsent derives the state of each channel from a member's history: the status of the latest
// event (highest RecordedAt, then highest ID) per channel. Channels without events are absent.
func CurrentConsent(events []ConsentEvent) map[Channel]ConsentEvent {
	cur := make(map[Channel]ConsentEvent)
	for _, e := range events {
		c, ok := cur[e.Channel]
		if !ok || e.RecordedAt.After(c.RecordedAt) || (e.RecordedAt.Equal(c.RecordedAt) && e.ID > c.ID) {
			cur[e.Channel] = e
		}
	}
	return cur
}
