package service

import (
	"context"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// Coupon returns a coupon code with its campaign, validity and redemption, or ErrNotFound.
// Marketers.
func (s *Service) Coupon(ctx context.Context, actor campaigns.User, code string) (campaigns.Coupon, error) {
	if err := allow(actor, "look up a coupon", campaigns.RoleMarketer); err != nil {
		return campaigns.Coupon{}, err
	}
	if err := checkText("code", code); err != nil {
		return campaigns.Coupon{}, err
	}
	c, err := s.store.Coupon(ctx, code)
	return s.withDay(c), err
}

// withDay names the coupon's last day in DISPATCH_TIMEZONE.
func (s *Service) withDay(c campaigns.Coupon) campaigns.Coupon {
	if !c.ValidUntil.IsZero() {
		c.ValidThrough = c.ValidUntil.In(s.cfg.Timezone).Format(time.DateOnly)
	}
	return c
}

// RedeemCoupon records the use of a code at a store with an order reference. A code redeems once:
// a second attempt is ErrConflict naming when and where it was redeemed, an expired code
// ErrConflict naming its last day, an unknown one ErrNotFound. Marketers; audited.
func (s *Service) RedeemCoupon(ctx context.Context, actor campaigns.User, code, store, orderRef string) (campaigns.Coupon, error) {
	if err := allow(actor, "redeem a coupon", campaigns.RoleMarketer); err != nil {
		return campaigns.Coupon{}, err
	}
	for field, v := range map[string]string{"code": code, "store": store, "order_ref": orderRef} {
		if err := checkText(field, v); err != nil {
			return campaigns.Coupon{}, err
		}
	}
	a := entry(actor, campaigns.AuditCouponRedeem).With("store", store).With("order_ref", orderRef)
	c, err := s.store.RedeemCoupon(ctx, code, store, orderRef, a, s.cfg.Timezone)
	return s.withDay(c), err
}

// CouponCodes returns up to limit codes issued for a campaign, oldest first. Marketers.
func (s *Service) CouponCodes(ctx context.Context, actor campaigns.User, campaignID int64, limit int) ([]string, error) {
	if err := allow(actor, "list a campaign's coupons", campaigns.RoleMarketer); err != nil {
		return nil, err
	}
	return s.store.CouponCodes(ctx, campaignID, limit)
}
