package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
)

// ImportResult counts what an import did. Rejected rows are listed in Rejections by line.
type ImportResult struct {
	Imported   int                `json:"imported"`
	Updated    int                `json:"updated"`
	Unchanged  int                `json:"unchanged"`
	Rejected   int                `json:"rejected"`
	Rejections []csvfile.RowError `json:"-"`
}

// MemberReader streams the clean rows of a member file into row and returns the rejected rows;
// csvfile.ReadMembers bound to a file is one.
type MemberReader func(row func(csvfile.MemberRow) error) ([]csvfile.RowError, error)

// ImportMembers imports a member file in one transaction: rows are copied into a staging table as
// they are read, then merged with three set-based statements (update changed members, insert new
// ones, record consent events that change the current state). A row for a known external id updates
// that member; empty fields leave the stored value alone. Re-importing a file changes nothing.
//
// If the reader fails (a *csvfile.FileError: the file cannot be trusted), nothing is imported and
// the error is returned. Rejected rows are skipped and counted; the good rows are imported.
// The import is written to the audit log with the actor, the file name and the counts.
func (s *Store) ImportMembers(ctx context.Context, read MemberReader, source campaigns.ConsentSource, file, actor string) (ImportResult, error) {
	var res ImportResult
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q("import-create-staging")); err != nil {
			return fmt.Errorf("import members: %w", err)
		}
		stmt, err := tx.PrepareContext(ctx, s.q("import-copy"))
		if err != nil {
			return fmt.Errorf("import members: %w", err)
		}
		good := 0
		rejected, err := read(func(r csvfile.MemberRow) error {
			good++
			_, err := stmt.ExecContext(ctx, r.Line, r.ExternalID, nullable(r.FirstName), nullable(r.LastName),
				nullable(r.Email), nullable(r.Phone), nullable(r.Street), nullable(r.PostalCode), nullable(r.City),
				nullable(r.Country), nullable(r.Language), r.EmailConsent, r.SMSConsent, r.PostalObjection,
				r.AddressProtected, r.Deceased)
			return err
		})
		if err != nil {
			stmt.Close()
			return err
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			return fmt.Errorf("import members: copy: %w", err)
		}
		if err := stmt.Close(); err != nil {
			return fmt.Errorf("import members: copy: %w", err)
		}
		res.Rejected, res.Rejections = len(rejected), rejected
		if _, err := tx.ExecContext(ctx, s.q("import-index-staging")); err != nil {
			return fmt.Errorf("import members: %w", err)
		}
		var updated, inserted, consented []int64
		if err := tx.SelectContext(ctx, &updated, s.q("import-update-members")); err != nil {
			return fmt.Errorf("import members: update: %w", err)
		}
		if err := tx.SelectContext(ctx, &inserted, s.q("import-insert-members")); err != nil {
			return fmt.Errorf("import members: insert: %w", err)
		}
		if err := tx.SelectContext(ctx, &consented, s.q("import-consents"), source, actor); err != nil {
			return fmt.Errorf("import members: consents: %w", err)
		}
		isNew := make(map[int64]bool, len(inserted))
		for _, id := range inserted {
			isNew[id] = true
		}
		changed := make(map[int64]bool)
		for _, ids := range [][]int64{updated, consented} {
			for _, id := range ids {
				if !isNew[id] {
					changed[id] = true
				}
			}
		}
		res.Imported, res.Updated = len(inserted), len(changed)
		res.Unchanged = good - res.Imported - res.Updated
		return s.audit(ctx, tx, actor, "members.import", 0, map[string]any{
			"file": file, "source": source, "imported": res.Imported, "updated": res.Updated,
			"unchanged": res.Unchanged, "rejected": res.Rejected})
	})
	return res, err
}

// PurchaseReader streams the clean rows of a purchase file, as csvfile.ReadPurchases does.
type PurchaseReader func(row func(csvfile.PurchaseRow) error) ([]csvfile.RowError, error)

// ImportPurchases imports a purchase file in one transaction. A row whose member is unknown is
// rejected with its line; an order_ref already stored is skipped, so a re-import adds nothing.
// It returns how many purchases were added.
func (s *Store) ImportPurchases(ctx context.Context, read PurchaseReader, file, actor string) (added int, rejected []csvfile.RowError, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q("purchases-create-staging")); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, s.q("purchases-copy"))
		if err != nil {
			return err
		}
		rejected, err = read(func(r csvfile.PurchaseRow) error {
			_, err := stmt.ExecContext(ctx, r.Line, r.ExternalID, r.PurchasedAt, r.AmountCents, r.Store, r.OrderRef)
			return err
		})
		if err != nil {
			stmt.Close()
			return err
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			return fmt.Errorf("copy purchases: %w", err)
		}
		stmt.Close()
		var unknown []struct {
			Line       int    `db:"line"`
			ExternalID string `db:"external_id"`
		}
		if err := tx.SelectContext(ctx, &unknown, s.q("purchases-unknown-members")); err != nil {
			return err
		}
		for _, u := range unknown {
			rejected = append(rejected, csvfile.RowError{Line: u.Line, Field: "external_id", Reason: fmt.Sprintf("no member %q", u.ExternalID)})
		}
		r, err := tx.ExecContext(ctx, s.q("purchases-merge"))
		if err != nil {
			return fmt.Errorf("merge purchases: %w", err)
		}
		n, _ := r.RowsAffected()
		added = int(n)
		return s.audit(ctx, tx, actor, "purchases.import", 0, map[string]any{"file": file, "added": added, "rejected": len(rejected)})
	})
	return added, rejected, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// MemberExport is everything the register holds about one member, as `dispatch members export`
// writes it.
type MemberExport struct {
	ExportedAt   time.Time                                     `json:"exported_at"`
	Member       campaigns.Member                              `json:"member"`
	Consents     []campaigns.ConsentEvent                      `json:"consent_history"`
	Current      map[campaigns.Channel]campaigns.ConsentStatus `json:"current_consents"`
	Purchases    []ExportPurchase                              `json:"purchases"`
	Deliveries   []ExportDelivery                              `json:"deliveries"`
	Coupons      []ExportCoupon                                `json:"coupons"`
	Suppressions []ExportSuppression                           `json:"suppressions"`
	Audit        []campaigns.AuditEntry                        `json:"audit_log"`
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
	ID             int64      `json:"id" db:"id"`
	RunID          int64      `json:"run_id" db:"run_id"`
	CampaignID     int64      `json:"campaign_id" db:"campaign_id"`
	CampaignName   string     `json:"campaign_name" db:"campaign_name"`
	Channel        string     `json:"channel" db:"channel"`
	Status         string     `json:"status" db:"status"`
	Reason         string     `json:"reason,omitempty" db:"reason"`
	ConsentEventID *int64     `json:"consent_event_id,omitempty" db:"consent_event_id"`
	SMSSegments    *int       `json:"sms_segments,omitempty" db:"sms_segments"`
	CreatedAt      time.Time  `json:"created_at" db:"created_at"`
	SentAt         *time.Time `json:"sent_at,omitempty" db:"sent_at"`
	UpdatedAt      time.Time  `json:"updated_at" db:"updated_at"`
}

// ExportCoupon is one coupon code issued to the member, with its redemption if any.
type ExportCoupon struct {
	Code             string     `json:"code" db:"code"`
	CampaignID       int64      `json:"campaign_id" db:"campaign_id"`
	RunID            int64      `json:"run_id" db:"run_id"`
	Channel          string     `json:"channel" db:"channel"`
	Discount         string     `json:"discount" db:"discount"`
	IssuedAt         time.Time  `json:"issued_at" db:"issued_at"`
	ValidUntil       time.Time  `json:"valid_until" db:"valid_until"`
	RedeemedAt       *time.Time `json:"redeemed_at,omitempty" db:"redeemed_at"`
	RedeemedStore    *string    `json:"redeemed_store,omitempty" db:"redeemed_store"`
	RedeemedOrderRef *string    `json:"redeemed_order_ref,omitempty" db:"redeemed_order_ref"`
}

// ExportSuppression says that one of the member's addresses is on the suppression list.
type ExportSuppression struct {
	Channel   string    `json:"channel" db:"channel"`
	Reason    string    `json:"reason" db:"reason"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
}

// ExportMember gathers everything held about the member in one consistent snapshot (a repeatable-read
// transaction) and writes an audit entry. It returns ErrNotFound for an unknown external id.
func (s *Store) ExportMember(ctx context.Context, externalID, actor string) (*MemberExport, error) {
	var x MemberExport
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("export member: %w", err)
	}
	defer tx.Rollback()
	if err := tx.GetContext(ctx, &x.Member, s.q("member-by-external-id"), externalID); err != nil {
		if err == sql.ErrNoRows {
			return nil, campaigns.Errorf(campaigns.ErrNotFound, "no member with external id %q", externalID)
		}
		return nil, fmt.Errorf("export member: %w", err)
	}
	id := x.Member.ID
	// The audit entry of this export is part of what the member can see: write it first.
	if err := s.audit(ctx, tx, actor, "members.export", id, map[string]any{}); err != nil {
		return nil, err
	}
	parts := []struct {
		dst  any
		name string
	}{
		{&x.Consents, "member-consent-history"}, {&x.Purchases, "member-purchases"},
		{&x.Deliveries, "member-deliveries"}, {&x.Coupons, "member-coupons"},
		{&x.Suppressions, "member-suppressions"}, {&x.Audit, "member-audit"},
	}
	for _, p := range parts {
		if err := tx.SelectContext(ctx, p.dst, s.q(p.name), id); err != nil {
			return nil, fmt.Errorf("export member %d: %s: %w", id, p.name, err)
		}
	}
	x.Current = make(map[campaigns.Channel]campaigns.ConsentStatus)
	for ch, ev := range campaigns.CurrentConsent(x.Consents) {
		x.Current[ch] = ev.Status
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("export member: %w", err)
	}
	x.ExportedAt = time.Now().UTC()
	return &x, nil
}

// EraseMember removes the member's personal data in one transaction: the member row, consent history
// and purchases are deleted; deliveries and coupons stay as anonymous rows (member_id NULL) so counts
// and the coupon ledger survive; the email and phone stay on the suppression list as hashes only.
// The erasure is audited by internal id. It returns the internal id, or ErrNotFound.
func (s *Store) EraseMember(ctx context.Context, externalID, actor string) (int64, error) {
	var id int64
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if id, err = s.memberID(ctx, tx, externalID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM members WHERE id = $1 FOR UPDATE`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q("erase-suppress"), id); err != nil {
			return fmt.Errorf("erase member %d: suppress: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.q("erase-deliveries"), id); err != nil {
			return fmt.Errorf("erase member %d: deliveries: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.q("erase-member"), id); err != nil {
			return fmt.Errorf("erase member %d: %w", id, err)
		}
		return s.audit(ctx, tx, actor, "members.erase", id, map[string]any{})
	})
	return id, err
}
