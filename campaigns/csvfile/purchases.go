package csvfile

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// PurchaseColumns are the columns of a purchase file.
var PurchaseColumns = []string{"external_id", "purchased_at", "amount_eur", "store", "order_ref"}

// PurchaseRow is one clean row of the file (campaigns.PurchaseRow).
type PurchaseRow = campaigns.PurchaseRow

// ReadPurchases reads a purchase file (external_id,purchased_at,amount_eur,store,order_ref) and
// calls row for each clean row. Errors are as for ReadMembers.
func ReadPurchases(r io.Reader, name string, row func(PurchaseRow) error) ([]RowError, error) {
	t, err := openTable(r, name, PurchaseColumns, nil)
	if err != nil {
		return nil, err
	}
	return readRows(t, purchaseRow, "order_ref", func(p PurchaseRow) string { return p.OrderRef }, row)
}

func purchaseRow(t *table) (PurchaseRow, []RowError) {
	var problems []RowError
	bad := func(field, reason string) {
		problems = append(problems, RowError{Line: t.line, Field: field, Reason: reason})
	}
	p := PurchaseRow{Line: t.line, ExternalID: t.get("external_id"), Store: t.get("store"), OrderRef: t.get("order_ref")}
	if p.ExternalID == "" {
		bad("external_id", "is empty")
	}
	if p.OrderRef == "" {
		bad("order_ref", "is empty")
	}
	if at, err := time.Parse(time.RFC3339, t.get("purchased_at")); err != nil {
		bad("purchased_at", fmt.Sprintf("%q is not an RFC 3339 time such as 2026-03-01T14:05:00+02:00", t.get("purchased_at")))
	} else {
		p.PurchasedAt = at
	}
	if cents, ok := parseEuros(t.get("amount_eur")); !ok {
		bad("amount_eur", fmt.Sprintf("%q is not an amount like 49.90", t.get("amount_eur")))
	} else {
		p.AmountCents = cents
	}
	return p, problems
}

// parseEuros reads a non-negative amount with at most two decimals ("49.90", "5", "0.5") as cents,
// exactly, without going through floating point.
func parseEuros(s string) (int64, bool) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || (hasFrac && frac == "") {
		return 0, false
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, false
			}
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1e12 {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f, true
}
