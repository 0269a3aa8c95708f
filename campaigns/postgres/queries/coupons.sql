-- name: coupon-by-code
SELECT k.code, k.campaign_id, c.name AS campaign_name, k.run_id, k.member_id, k.channel, k.discount,
       k.issued_at, k.valid_until, x.redeemed_at, x.store AS redeemed_store, x.order_ref AS redeemed_order_ref
FROM coupons k JOIN campaigns c ON c.id = k.campaign_id
LEFT JOIN coupon_redemptions x ON x.coupon_id = k.id
WHERE k.code = $1

-- name: redeem-coupon
-- The primary key of coupon_redemptions makes a second redemption impossible, even concurrently.
INSERT INTO coupon_redemptions (coupon_id, store, order_ref, actor)
SELECT id, $2, $3, $4 FROM coupons WHERE code = $1 AND valid_until >= now()
ON CONFLICT (coupon_id) DO NOTHING
RETURNING redeemed_at

-- name: campaign-coupon-codes
-- The first codes issued for a campaign, oldest first: a sample for the demo and the console.
SELECT code FROM coupons WHERE campaign_id = $1 ORDER BY id LIMIT $2
