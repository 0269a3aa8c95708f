package campaigns

import (
	"fmt"
	"time"
)

// RowError is a problem with one row of an imported file: its line number, the field, and why. The
// row is skipped; the other rows are imported.
type RowError struct {
	Line   int
	Field  string
	Reason string
}

func (e RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Reason)
}

// FileError is a problem that makes a whole imported file untrustworthy (a wrong header, broken
// quoting, a byte that is not UTF-8): nothing of it is imported. Name is the file's name as given.
// It is of kind ErrInvalid.
type FileError struct {
	Name   string
	Line   int
	Reason string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Name, e.Reason)
}

// Is makes a FileError match ErrInvalid.
func (e *FileError) Is(target error) bool { return target == ErrInvalid }

// MemberRow is one clean row of a member file. Text fields that were empty are "" and mean "no
// change" for a known member; flag fields are nil for "no change". Email and Phone are normalised
// (phone to E.164), Country is upper case. PhoneSMS says whether Phone can take an SMS (a mobile
// number, not a landline); it is nil exactly when Phone is "".
type MemberRow struct {
	Line             int
	ExternalID       string
	FirstName        string
	LastName         string
	Email            string
	Phone            string
	PhoneSMS         *bool
	Street           string
	PostalCode       string
	City             string
	Country          string
	Language         string
	EmailConsent     *bool
	SMSConsent       *bool
	PostalObjection  *bool
	AddressProtected *bool
	Deceased         *bool
}

// PurchaseRow is one clean row of a purchase file; AmountCents is the amount in euro cents.
type PurchaseRow struct {
	Line        int
	ExternalID  string
	PurchasedAt time.Time
	AmountCents int64
	Store       string
	OrderRef    string
}

// SuppressionRow is one clean row of a suppression file. Value is normalised: an email as
// NormalizeEmail leaves it, a phone in E.164, a postal key LAST_NAME|STREET|POSTAL_CODE as given
// (the store compares postal keys case- and space-insensitively).
type SuppressionRow struct {
	Line    int
	Channel Channel
	Value   string
}

// RejectedRows counts the rows that errs reject: a row may have several problems.
func RejectedRows(errs []RowError) int {
	lines := make(map[int]bool, len(errs))
	for _, e := range errs {
		lines[e.Line] = true
	}
	return len(lines)
}

// Rows streams the clean rows of an imported file into row, in file order, and returns the rejected
// rows. It fails with a *FileError when the file cannot be trusted, or with row's own error; the
// store then imports nothing. csvfile's readers bound to a file are Rows.
type Rows[T any] func(row func(T) error) ([]RowError, error)

// ImportResult counts what a member import did. Rejected rows are listed in Rejections by line.
type ImportResult struct {
	Imported   int        `json:"imported"`
	Updated    int        `json:"updated"`
	Unchanged  int        `json:"unchanged"`
	Rejected   int        `json:"rejected"`
	Rejections []RowError `json:"-"`
}

// AddResult counts what a purchase or suppression import added; Rejections lists the rows refused.
type AddResult struct {
	Added      int        `json:"added"`
	Rejections []RowError `json:"-"`
}

// ConsentChange is one consent event to record for a member.
type ConsentChange struct {
	Channel        Channel
	Status         ConsentStatus
	Source         ConsentSource
	WordingVersion string
}

// SuppressionReason says why an address is on the suppression list.
type SuppressionReason string

// The reasons of the suppression list: the direct-marketing ban list (Posti-Robinson), a hard
// bounce, a complaint, a manual entry, and an erased member's addresses.
const (
	SuppressRobinson  SuppressionReason = "robinson"
	SuppressBounce    SuppressionReason = "bounce"
	SuppressComplaint SuppressionReason = "complaint"
	SuppressManual    SuppressionReason = "manual"
	SuppressErasure   SuppressionReason = "erasure"
)

// ParseSuppressionReason returns the reason named s, one a person may give (not erasure), or ErrInvalid.
func ParseSuppressionReason(s string) (SuppressionReason, error) {
	switch r := SuppressionReason(s); r {
	case SuppressRobinson, SuppressBounce, SuppressComplaint, SuppressManual:
		return r, nil
	}
	return "", Invalid("reason", fmt.Sprintf("%q is not robinson, bounce, complaint or manual", s))
}

// MemberExport is everything the register holds about one member (right of access), as
// `dispatch members export` and the API write it.
type MemberExport struct {
	ExportedAt   time.Time                 `json:"exported_at"`
	Member       Member                    `json:"member"`
	Consents     []ConsentEvent            `json:"consent_history"`
	Current      map[Channel]ConsentStatus `json:"current_consents"`
	Purchases    []ExportPurchase          `json:"purchases"`
	Deliveries   []ExportDelivery          `json:"deliveries"`
	Coupons      []ExportCoupon            `json:"coupons"`
	Suppressions []ExportSuppression       `json:"suppressions"`
	Audit        []AuditEntry              `json:"audit_log"`
}

// ExportPurchase is one purchase registered to the membership.
type ExportPurchase struct {
	PurchasedAt time.Time `json:"purchased_at" db:"purchased_at"`
	AmountCents int64     `json:"amount_cents" db:"amount_cents"`
	Store       string    `json:"store" db:"store"`
	OrderRef    string    `json:"order_ref" db:"order_ref"`
}

// ExportDelivery is one message that was (or was to be) sent to the member.
type ExportDelivery struct {
	ID             int64          `json:"id" db:"id"`
	RunID          int64          `json:"run_id" db:"run_id"`
	CampaignID     int64          `json:"campaign_id" db:"campaign_id"`
	CampaignName   string         `json:"campaign_name" db:"campaign_name"`
	Channel        Channel        `json:"channel" db:"channel"`
	Status         DeliveryStatus `json:"status" db:"status"`
	Reason         string         `json:"reason,omitempty" db:"reason"`
	ConsentEventID *int64         `json:"consent_event_id,omitempty" db:"consent_event_id"`
	SMSSegments    *int           `json:"sms_segments,omitempty" db:"sms_segments"`
	CreatedAt      time.Time      `json:"created_at" db:"created_at"`
	SentAt         *time.Time     `json:"sent_at,omitempty" db:"sent_at"`
	UpdatedAt      time.Time      `json:"updated_at" db:"updated_at"`
}

// ExportCoupon is one coupon code issued to the member, with its redemption if any.
type ExportCoupon struct {
	Code             string     `json:"code" db:"code"`
	CampaignID       int64      `json:"campaign_id" db:"campaign_id"`
	RunID            int64      `json:"run_id" db:"run_id"`
	Channel          Channel    `json:"channel" db:"channel"`
	Discount         string     `json:"discount" db:"discount"`
	IssuedAt         time.Time  `json:"issued_at" db:"issued_at"`
	ValidUntil       time.Time  `json:"valid_until" db:"valid_until"`
	RedeemedAt       *time.Time `json:"redeemed_at,omitempty" db:"redeemed_at"`
	RedeemedStore    *string    `json:"redeemed_store,omitempty" db:"redeemed_store"`
	RedeemedOrderRef *string    `json:"redeemed_order_ref,omitempty" db:"redeemed_order_ref"`
}

// ExportSuppression says that one of the member's addresses is on the suppression list.
type ExportSuppression struct {
	Channel   Channel           `json:"channel" db:"channel"`
	Reason    SuppressionReason `json:"reason" db:"reason"`
	CreatedAt time.Time         `json:"created_at" db:"created_at"`
}

// NewMember is a whole member as a bulk load writes it (the demo generator's people): the member's
// fields, consents and purchases. EmailConsent and SMSConsent are nil when the member was never
// asked, else true (granted) or false (withdrawn).
type NewMember struct {
	ExternalID                        string
	FirstName, LastName, Email        string
	Phone                             string
	Street, PostalCode, City, Country string
	Language                          Language
	EmailConsent, SMSConsent          *bool
	PostalObjection                   bool
	AddressProtected                  bool
	Deceased                          bool
	Purchases                         []NewPurchase
}

// NewPurchase is one purchase of a NewMember.
type NewPurchase struct {
	PurchasedAt time.Time
	AmountCents int64
	Store       string
	OrderRef    string
}

// MemberSource returns a fresh stream of the same members each time it is called: next fills p with
// the following member. A bulk load reads the stream once per table, so a million members are
// never held in memory.
type MemberSource func() (next func(p *NewMember))

// SeedResult counts what a bulk load of NewMembers wrote.
type SeedResult struct {
	Members   int `json:"members"`
	Consents  int `json:"consents"`
	Purchases int `json:"purchases"`
}
