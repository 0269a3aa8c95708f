package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jmoiron/sqlx"
)

// NormalizeCouponCode upper-cases a code as a customer may type it and restores its dashes:
// "k7qx9mzp4rta" and "K7QX-9MZP-4RTA" are the same code.
func NormalizeCouponCode(code string) string {
	c := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	if len(c) != campaigns.CouponLength {
		return c
	}
	var b strings.Builder
	for i := 0; i < len(c); i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(c[i])
	}
	return b.String()
}

// Coupon returns the coupon with its redemption, or ErrNotFound.
func (s *Store) Coupon(ctx context.Context, code string) (campaigns.Coupon, error) {
	var c campaigns.Coupon
	err := s.db.GetContext(ctx, &c, s.q("coupon-by-code"), NormalizeCouponCode(code))
	if errors.Is(err, sql.ErrNoRows) {
		return c, campaigns.Errorf(campaigns.ErrNotFound, "no coupon code %q", code)
	}
	if err != nil {
		return c, fmt.Errorf("coupon: %w", err)
	}
	return c, nil
}

// RedeemCoupon records the use of a code at a store with an order reference. A code redeems once:
// a second attempt is ErrConflict naming when and where it was redeemed; an expired code is
// ErrConflict naming its last day; an unknown one ErrNotFound. The audit entry a is written with
// the redemption, in one transaction, for the coupon's member.
func (s *Store) RedeemCoupon(ctx context.Context, code, store, orderRef string, a campaigns.Audit, loc *time.Location) (campaigns.Coupon, error) {
	c, err := s.Coupon(ctx, code)
	if err != nil {
		return c, err
	}
	var at time.Time
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &at, s.q("redeem-coupon"), c.Code, store, orderRef, a.Actor); err != nil {
			return err
		}
		if c.MemberID != nil {
			a.MemberID = *c.MemberID
		}
		return s.audit(ctx, tx, a.With("code", c.Code))
	})
	if errors.Is(err, sql.ErrNoRows) {
		if again, gerr := s.Coupon(ctx, c.Code); gerr == nil && again.RedeemedAt != nil {
			where := ""
			if again.RedeemedStore != nil && *again.RedeemedStore != "" {
				where = " at " + *again.RedeemedStore
			}
			if again.RedeemedOrderRef != nil && *again.RedeemedOrderRef != "" {
				where += " (order " + *again.RedeemedOrderRef + ")"
			}
			return again, campaigns.Errorf(campaigns.ErrConflict, "coupon %s was already redeemed on %s%s",
				c.Code, again.RedeemedAt.In(loc).Format("2006-01-02 15:04:05 MST"), where)
		}
		return c, campaigns.Errorf(campaigns.ErrConflict, "coupon %s expired on %s", c.Code, c.ValidUntil.In(loc).Format("2006-01-02 15:04 MST"))
	}
	if err != nil {
		return c, fmt.Errorf("redeem coupon: %w", err)
	}
	c.RedeemedAt, c.RedeemedStore, c.RedeemedOrderRef = &at, &store, &orderRef
	return c, nil
}

// CouponCodes returns up to limit codes issued for the campaign, oldest first.
func (s *Store) CouponCodes(ctx context.Context, campaignID int64, limit int) ([]string, error) {
	var codes []string
	if err := s.db.SelectContext(ctx, &codes, s.q("campaign-coupon-codes"), campaignID, limit); err != nil {
		return nil, fmt.Errorf("coupon codes of campaign %d: %w", campaignID, err)
	}
	return codes, nil
}
