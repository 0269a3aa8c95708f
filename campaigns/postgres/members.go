package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/jacksmood/dispatch/campaigns"
)

// ImportMembers imports a member file in one transaction: rows are copied into a staging table as
// they are read, then merged with three set-based statements (update changed members, insert new
// ones, record consent events that change the current state). A row for a known external id updates
// that member; empty fields leave the stored value alone. Re-importing a file changes nothing.
//
// If the reader fails (a *csvfile.FileError: the file cannot be trusted), nothing is imported and
// the error is returned. Rejected rows are skipped and counted; the good rows are imported.
// The audit entry a is written in the same transaction, with the counts added to its details.
func (s *Store) ImportMembers(ctx context.Context, read campaigns.Rows[campaigns.MemberRow], source campaigns.ConsentSource, a campaigns.Audit) (campaigns.ImportResult, error) {
	var res campaigns.ImportResult
	key, err := s.registerKey(ctx)
	if err != nil {
		return res, err
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q("import-create-staging")); err != nil {
			return fmt.Errorf("import members: %w", err)
		}
		stmt, err := tx.PrepareContext(ctx, s.q("import-copy"))
		if err != nil {
			return fmt.Errorf("import members: %w", err)
		}
		good := 0
		rejected, err := read(func(r campaigns.MemberRow) error {
			good++
			_, err := stmt.ExecContext(ctx, r.Line, r.ExternalID, nullable(r.FirstName), nullable(r.LastName),
				nullable(r.Email), nullable(r.Phone), r.PhoneSMS, nullable(r.Street), nullable(r.PostalCode), nullable(r.City),
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
		if _, err := tx.ExecContext(ctx, s.q("import-index-staging")); err != nil {
			return fmt.Errorf("import members: %w", err)
		}
		var erased []struct {
			Line     int       `db:"line"`
			ErasedAt time.Time `db:"erased_at"`
		}
		if err := tx.SelectContext(ctx, &erased, s.q("import-drop-erased"), key.ipad, key.opad); err != nil {
			return fmt.Errorf("import members: erased: %w", err)
		}
		for _, e := range erased {
			good--
			rejected = append(rejected, campaigns.RowError{Line: e.Line, Field: "external_id", Reason: fmt.Sprintf(
				"this member was erased on %s and is not imported again; if the person has signed up anew, readmit them first (dispatch members readmit)",
				e.ErasedAt.UTC().Format("2006-01-02"))})
		}
		slices.SortFunc(rejected, func(a, b campaigns.RowError) int { return a.Line - b.Line })
		res.Rejected, res.Rejections = campaigns.RejectedRows(rejected), rejected
		var updated, inserted, consented []int64
		if _, err := tx.ExecContext(ctx, s.q("import-audit-changes"), a.Actor, source, a.Details["file"]); err != nil {
			return fmt.Errorf("import members: audit changes: %w", err)
		}
		if err := tx.SelectContext(ctx, &updated, s.q("import-update-members"), key.ipad, key.opad); err != nil {
			return fmt.Errorf("import members: update: %w", err)
		}
		if err := tx.SelectContext(ctx, &inserted, s.q("import-insert-members"), key.ipad, key.opad); err != nil {
			return fmt.Errorf("import members: insert: %w", err)
		}
		if err := tx.SelectContext(ctx, &consented, s.q("import-consents"), source, a.Actor); err != nil {
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
		return s.audit(ctx, tx, a.With("imported", res.Imported).With("updated", res.Updated).
			With("unchanged", res.Unchanged).With("rejected", res.Rejected))
	})
	return res, err
}

// ImportPurchases imports a purchase file in one transaction. A row whose member is unknown is
// rejected with its line; an order_ref already stored is skipped, so a re-import adds nothing.
// It returns how many purchases were added; the audit entry a is written with the counts.
func (s *Store) ImportPurchases(ctx context.Context, read campaigns.Rows[campaigns.PurchaseRow], a campaigns.Audit) (res campaigns.AddResult, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q("purchases-create-staging")); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, s.q("purchases-copy"))
		if err != nil {
			return err
		}
		rejected, err := read(func(r campaigns.PurchaseRow) error {
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
			rejected = append(rejected, campaigns.RowError{Line: u.Line, Field: "external_id", Reason: fmt.Sprintf("no member %q", u.ExternalID)})
		}
		r, err := tx.ExecContext(ctx, s.q("purchases-merge"))
		if err != nil {
			return fmt.Errorf("merge purchases: %w", err)
		}
		n, _ := r.RowsAffected()
		res.Added, res.Rejections = int(n), rejected
		return s.audit(ctx, tx, a.With("added", res.Added).With("rejected", campaigns.RejectedRows(rejected)))
	})
	return res, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ExportMember gathers everything held about the member in one consistent snapshot (a repeatable-read
// transaction) and writes the audit entry a (for the member) in it. It returns ErrNotFound for an
// unknown external id.
func (s *Store) ExportMember(ctx context.Context, externalID string, a campaigns.Audit) (*campaigns.MemberExport, error) {
	var x campaigns.MemberExport
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
	a.MemberID = id
	if err := s.audit(ctx, tx, a); err != nil {
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

// ReadmitMember lets an erased member's external id be imported again (the person signed up anew),
// writing the audit entry a in the same transaction. An external id that was never erased is
// ErrNotFound.
func (s *Store) ReadmitMember(ctx context.Context, externalID string, a campaigns.Audit) error {
	key, err := s.registerKey(ctx)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var at time.Time
		err := tx.GetContext(ctx, &at, s.q("readmit-member"), externalID, key.ipad, key.opad)
		if errors.Is(err, sql.ErrNoRows) {
			return campaigns.Errorf(campaigns.ErrNotFound, "no erased member with external id %q", externalID)
		}
		if err != nil {
			return fmt.Errorf("readmit member: %w", err)
		}
		a.MemberExternalID = externalID
		return s.audit(ctx, tx, a.With("erased_at", at.UTC()))
	})
}

// EraseMember removes the member's personal data in one transaction: the member row, consent history
// and purchases are deleted; deliveries and coupons stay as anonymous rows (member_id NULL) so counts
// and the coupon ledger survive; the email and phone stay on the suppression list as hashes only.
// The audit entry a is written by internal id. It returns the internal id, or ErrNotFound.
func (s *Store) EraseMember(ctx context.Context, externalID string, a campaigns.Audit) (int64, error) {
	var id int64
	key, err := s.registerKey(ctx)
	if err != nil {
		return 0, err
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if id, err = s.memberID(ctx, tx, externalID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM members WHERE id = $1 FOR UPDATE`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q("erase-remember"), id, key.ipad, key.opad); err != nil {
			return fmt.Errorf("erase member %d: remember: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.q("erase-suppress"), id); err != nil {
			return fmt.Errorf("erase member %d: suppress: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.q("erase-scrub-audit"), id); err != nil {
			return fmt.Errorf("erase member %d: audit values: %w", id, err)
		}
		// The failure reasons the erasure reduces to their category are counted under their old
		// text in delivery_counts (0012) until the update below moves them: their counter rows,
		// then summing to nothing, go too, so that no server's words about the person stay there.
		var scrubbed []struct {
			RunID   int64  `db:"run_id"`
			Channel string `db:"channel"`
			Reason  string `db:"reason"`
		}
		if err := tx.SelectContext(ctx, &scrubbed, s.q("erase-scrubbed-reasons"), id); err != nil {
			return fmt.Errorf("erase member %d: failure reasons: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.q("erase-deliveries"), id); err != nil {
			return fmt.Errorf("erase member %d: deliveries: %w", id, err)
		}
		for _, k := range scrubbed {
			if _, err := tx.ExecContext(ctx, s.q("erase-reason-counts"), k.RunID, k.Channel, k.Reason); err != nil {
				return fmt.Errorf("erase member %d: failure counts: %w", id, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q("erase-member"), id); err != nil {
			return fmt.Errorf("erase member %d: %w", id, err)
		}
		a.MemberID, a.MemberExternalID = id, externalID
		return s.audit(ctx, tx, a)
	})
	return id, err
}
