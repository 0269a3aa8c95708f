package campaigns

import (
	"crypto/rand"
	"fmt"
	"time"
)

// CouponAlphabet is the set of characters of coupon codes: digits and capitals without the ones
// that are read wrong (0/O, 1/I/L), and without U and V, which look alike in some fonts.
const CouponAlphabet = "23456789ABCDEFGHJKMNPQRSTWXYZ"

// CouponLength is the number of random characters of a code: 12 characters of a 29-letter
// alphabet give 58 bits of randomness (SPEC asks for at least 40).
const CouponLength = 12

// NewCouponCode returns a fresh code from crypto/rand, written in groups of four ("K7QX-9MZP-4RTA").
// Uniqueness across campaigns is the store's unique index; a collision is retried there.
func NewCouponCode() (string, error) {
	const n = len(CouponAlphabet)
	const limit = 256 - 256%n // bytes at or above limit would favour the first letters: drawn again
	out := make([]byte, 0, CouponLength+CouponLength/4-1)
	var buf [32]byte
	for drawn := 0; drawn < CouponLength; {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("coupon code: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit || drawn == CouponLength {
				continue
			}
			if drawn > 0 && drawn%4 == 0 {
				out = append(out, '-')
			}
			out = append(out, CouponAlphabet[int(b)%n])
			drawn++
		}
	}
	return string(out), nil
}

// CouponValidUntil returns the last instant a coupon issued at issued is valid: the end of the day
// validDays days after the issue day, in loc (DISPATCH_TIMEZONE). A code issued on 30 November for 30
// days is valid through 30 December, to 23:59:59.999999 that evening: the day the message names.
func CouponValidUntil(issued time.Time, validDays int, loc *time.Location) time.Time {
	y, m, d := issued.In(loc).Date()
	return time.Date(y, m, d+validDays+1, 0, 0, 0, 0, loc).Add(-time.Microsecond)
}

// Coupon is one issued coupon code with its redemption, if any. MemberID is nil once the member
// is erased: the ledger keeps the code without the person.
type Coupon struct {
	Code         string    `json:"code" db:"code"`
	CampaignID   int64     `json:"campaign_id" db:"campaign_id"`
	CampaignName string    `json:"campaign_name" db:"campaign_name"`
	RunID        int64     `json:"run_id" db:"run_id"`
	MemberID     *int64    `json:"member_id,omitempty" db:"member_id"`
	Channel      Channel   `json:"channel" db:"channel"`
	Discount     string    `json:"discount" db:"discount"`
	IssuedAt     time.Time `json:"issued_at" db:"issued_at"`
	ValidUntil   time.Time `json:"valid_until" db:"valid_until"`
	// ValidThrough is the last day the code is valid, in DISPATCH_TIMEZONE, as the message names it
	// ("2026-12-30"); ValidUntil is the last instant of that day.
	ValidThrough     string     `json:"valid_through,omitempty" db:"-"`
	RedeemedAt       *time.Time `json:"redeemed_at,omitempty" db:"redeemed_at"`
	RedeemedStore    *string    `json:"redeemed_store,omitempty" db:"redeemed_store"`
	RedeemedOrderRef *string    `json:"redeemed_order_ref,omitempty" db:"redeemed_order_ref"`
}
