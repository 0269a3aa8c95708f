package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/jacksmood/dispatch/campaigns"
)

func (a *app) couponsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "coupons", Short: "Look up and redeem coupon codes"}
	var asJSON bool
	show := &cobra.Command{
		Use:   "show CODE",
		Short: "Show a coupon: campaign, channel, validity and its redemption",
		Args:  args(1, "CODE"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			svc, actor, err := a.operatorService()
			if err != nil {
				return err
			}
			c, err := svc.Coupon(a.ctx, actor, argv[0])
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(c)
			}
			fmt.Fprint(a.stdout, a.describeCoupon(c))
			return nil
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var store, order string
	redeem := &cobra.Command{
		Use:   "redeem CODE [--store S] [--order REF]",
		Short: "Redeem a code once; a second attempt fails naming when and where it was redeemed",
		Args:  args(1, "CODE"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			svc, actor, err := a.operatorService()
			if err != nil {
				return err
			}
			c, err := svc.RedeemCoupon(a.ctx, actor, argv[0], store, order)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "coupon %s redeemed at %s\n", c.Code, c.RedeemedAt.In(a.cfg.Timezone).Format("2006-01-02 15:04:05 MST"))
			return nil
		},
	}
	redeem.Flags().StringVar(&store, "store", "", "where the code was used")
	redeem.Flags().StringVar(&order, "order", "", "order reference")
	return group(cmd, show, redeem)
}

func (a *app) describeCoupon(c campaigns.Coupon) string {
	tz := a.cfg.Timezone
	s := fmt.Sprintf("coupon %s\n  campaign %d (%s), run %d, channel %s\n  discount %s, issued %s, valid through %s (to 23:59 %s)\n",
		c.Code, c.CampaignID, c.CampaignName, c.RunID, c.Channel, c.Discount,
		c.IssuedAt.In(tz).Format("2006-01-02 15:04"), c.ValidUntil.In(tz).Format(time.DateOnly), tz)
	if c.MemberID != nil {
		s += fmt.Sprintf("  member %d\n", *c.MemberID)
	} else {
		s += "  member erased\n"
	}
	if c.RedeemedAt != nil {
		s += fmt.Sprintf("  redeemed %s at %q, order %q\n", c.RedeemedAt.In(tz).Format("2006-01-02 15:04:05"), deref(c.RedeemedStore), deref(c.RedeemedOrderRef))
	} else {
		s += "  not redeemed\n"
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
